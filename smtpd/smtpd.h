/*
 * smtpd.h - the SMTP server's session state and the interfaces between
 * its parts.
 *
 *   smtpd.c        main(), accepting clients, non-blocking I/O, timeouts,
 *                  closing and the connect/disconnect log lines
 *   smtpd_cmd.c    the command table and the SMTP command handlers
 *   smtpd_queue.c  the DATA command: queue file, Received header, commit
 *   smtpd_data.c   the pure DATA line reader and header scanner (unit tested)
 *   smtpd_check.c  recipient and relay checks, mynetworks matching
 *   smtpd_reply.c  reply formatting, reject logging, error counting
 *
 * One SMTPD_STATE exists per client connection.  Replies are appended to
 * state->out and flushed by smtpd.c when the input has no complete line
 * left (pipelining), so handlers never write to the socket themselves.
 */
#ifndef SMTPD_H
#define SMTPD_H

#include "sys_defs.h"
#include "vstring.h"
#include "qfile.h"
#include "resolve.h"
#include "smtpd_data.h"

/* Session modes */
#define SMTPD_MODE_CMD		0	/* reading command lines */
#define SMTPD_MODE_DATA		1	/* reading message content */
#define SMTPD_MODE_CLOSE	2	/* flush output, then close */

/* Per-command counters for the "disconnect from" log line */
#define SMTPD_CMD_COUNT		12

typedef struct SMTPD_STATE {
    int     fd;
    VSTRING *in;			/* unprocessed input */
    VSTRING *out;			/* replies not yet written */
    int     mode;			/* SMTPD_MODE_* */
    int     reading;			/* read events enabled */
    int     writing;			/* write events enabled */
    int     skip_line;			/* discarding the rest of a long line */
    time_t  deadline;			/* idle timeout */
    char    name[64];			/* client host name ("unknown") */
    char    addr[64];			/* client address text */
    char    port[16];
    char   *namaddr;			/* "name[addr]" for logging */
    int     submit;			/* local submission (UNIX socket) */
    long    uid;			/* submit: client uid from SO_PEERCRED */
    int     mynetworks;			/* client matches mynetworks */
    int     bare_lf;			/* BARE_LF_* policy for this client */
    const char *where;			/* last command, for "lost connection after" */
    char   *helo;			/* HELO/EHLO argument */
    const char *protocol;		/* "SMTP" or "ESMTP" */
    int     errors;			/* protocol error count */
    int     cmd_ok[SMTPD_CMD_COUNT];	/* per command: successes */
    int     cmd_total[SMTPD_CMD_COUNT];	/* per command: attempts */
    /* Mail transaction */
    int     in_mail;
    char   *sender;
    const char *encoding;		/* BODY=: "7bit", "8bit" or NULL */
    char  **rcpt;			/* recipients after virtual aliases */
    char  **orcpt;			/* RCPT addresses as the client sent them */
    int     rcpt_count;			/* distinct recipients */
    int     rcpt_alloc;
    int     rcpt_cmds;			/* accepted RCPT commands */
    char   *first_rcpt;			/* first accepted RCPT, qualified */
    /* DATA */
    QFILE  *qf;
    DATA_READER reader;
    HDR_SCAN hdr;
    long    msg_size;			/* content bytes received */
    int     too_big;			/* exceeded message_size_limit */
    int     line_crlf;			/* the last command line ended in CRLF */
} SMTPD_STATE;

/* smtpd.c */
extern const char *var_myhostname;
extern const char *var_myorigin;
extern long var_message_size_limit;
extern int var_line_length_limit;
extern int var_hard_error_limit;
extern int var_recipient_limit;
/* smtpd_flush - write pending replies; -1 when the session was closed */
int	smtpd_flush(SMTPD_STATE *state);

/* smtpd_cmd.c */
void	smtpd_command(SMTPD_STATE *state, char *line);
void	smtpd_reset_transaction(SMTPD_STATE *state);
const char *smtpd_cmd_name(int index);
#define SMTPD_CMD_DATA		4	/* index of DATA in the command table */
#define SMTPD_CMD_UNKNOWN	(SMTPD_CMD_COUNT - 1)

/* smtpd_queue.c */
/* smtpd_data_begin - 0: replied 354, mode DATA; -1: replied an error */
int	smtpd_data_begin(SMTPD_STATE *state);
/* smtpd_data_input - consume message content; returns bytes used */
size_t	smtpd_data_input(SMTPD_STATE *state, const char *buf, size_t len);
void	smtpd_data_abort(SMTPD_STATE *state);

/* smtpd_check.c */
void	smtpd_check_init(void);
/*
 * smtpd_check_rcpt - NULL if ok, else the full reply text for RCPT.  When
 * ok and EXPANDED is not NULL, the recipients to queue (virtual aliases
 * expanded; RCPT itself when it has none) are appended to EXPANDED.
 */
const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt,
			             RESOLVE_ADDRS *expanded, VSTRING *reply);
int	smtpd_mynetworks_match(const char *list, const char *addr);
void	smtpd_qualify(VSTRING *addr);

/* smtpd_reply.c */
void	smtpd_reply(SMTPD_STATE *state, const char *fmt,...) PRINTFLIKE(2, 3);
void	smtpd_reply_raw(SMTPD_STATE *state, const char *text);
/* smtpd_reject_log - the "NOQUEUE: reject:" line */
void	smtpd_reject_log(SMTPD_STATE *state, const char *cmd, const char *reply,
			         const char *rcpt);
/* smtpd_error - count a protocol error; 1 when the session must end */
int	smtpd_error(SMTPD_STATE *state);

#endif
