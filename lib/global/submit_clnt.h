/*
 * submit_clnt.h - one message into the mail system over ESMTP on the
 * local submission socket $queue_directory/public/submit, where smtpd
 * knows the submitting user by SO_PEERCRED.  Used by sendmail (the user
 * itself) and by pickup (for the owner of a maildrop file: "XUID uid",
 * which smtpd takes only from mail_owner or root).
 *
 *	SUBMIT_REQ req = {0};
 *	req.sender = "alice@example.org"; req.rcpts = ...; req.rcpt_count = n;
 *	req.spool = stream;		the message in SMTP wire form (CRLF,
 *					dot-stuffed), from its start; or
 *	req.content = vstring;		the message with LF line ends
 *	status = submit_message(&req, why);
 *
 * SUBMIT_OK: queued.  SUBMIT_TEMP: nothing was queued and trying later
 * may work (no mail system, 4xx, connection lost or timed out).
 * SUBMIT_SENDER, SUBMIT_RCPT (req.failed_rcpt: which), SUBMIT_DATA: a 5xx
 * for that part.  SUBMIT_PROTO: a malformed reply.  SUBMIT_IO: the spool
 * could not be read.  WHY says what happened, with the server's reply.
 */
#ifndef SUBMIT_CLNT_H
#define SUBMIT_CLNT_H

#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

typedef struct SUBMIT_REQ {
    const char *sender;
    const char *mail_params;		/* " RET=FULL ENVID=x" or NULL */
    const char **rcpts;
    const char **rcpt_params;		/* per recipient " NOTIFY=..." or NULL */
    int     rcpt_count;
    long    uid;			/* >= 0: XUID (pickup) */
    VSTREAM *spool;			/* wire form, or NULL */
    const VSTRING *content;		/* LF form, when no SPOOL */
    int     failed_rcpt;		/* SUBMIT_RCPT: its index */
} SUBMIT_REQ;

#define SUBMIT_OK	0
#define SUBMIT_TEMP	1
#define SUBMIT_SENDER	2
#define SUBMIT_RCPT	3
#define SUBMIT_DATA	4
#define SUBMIT_PROTO	5
#define SUBMIT_IO	6

int	submit_message(SUBMIT_REQ *req, VSTRING *why);

#endif
