/*
 * bounce.h - RFC 3464 delivery status notifications (bounces, delay
 * warnings, success notices), written as new queue files.
 *
 * qmgr calls bounce_send() when a message is finished with failed
 * recipients (BOUNCE_FAILED), when a deferred message is older than
 * delay_warning_time (BOUNCE_DELAYED), or for NOTIFY=SUCCESS recipients
 * (BOUNCE_SUCCESS).  The notification is a multipart/report
 * (report-type=delivery-status) with Postfix's human-readable text, a
 * message/delivery-status part (one block per recipient: the entries of
 * lib/global/defer_log.h) and the original message (message/rfc822) or only its
 * headers (text/rfc822-headers: RET=HDRS, delay warnings, success notices,
 * or a message over bounce_size_limit).  It is queued in incoming/ from
 * the null sender <> to RCPT; the caller triggers qmgr.
 *
 * Parameters: myhostname, bounce_size_limit, maximal_queue_lifetime,
 * delay_warning_time.
 */
#ifndef BOUNCE_H
#define BOUNCE_H

#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"
#include "qfile.h"
#include "defer_log.h"

#define BOUNCE_FAILED	1		/* Action: failed */
#define BOUNCE_DELAYED	2		/* Action: delayed */
#define BOUNCE_SUCCESS	3		/* Action: delivered */
#define BOUNCE_VERIFY	4		/* sendmail -bv: Action: deliverable */

typedef struct BOUNCE_REQUEST {
    int     kind;			/* BOUNCE_* */
    const char *queue_id;		/* the original message */
    const QENV *env;			/* its envelope */
    VSTREAM *content;			/* its queue file (for the content) */
    const char *rcpt;			/* who gets the notification */
    const DEFER_LOG_ENTRY *entries;	/* the recipients to report */
    int     count;
    const char *queue_attr;		/* optional qfile attribute "name=value" */
} BOUNCE_REQUEST;

/*
 * bounce_send - queue the notification; 0 with the new queue id in
 * NEW_ID, or -1 with the reason in WHY (nothing was queued).
 */
int	bounce_send(const BOUNCE_REQUEST *req, VSTRING *new_id, VSTRING *why);

/* bounce_format - the notification's content (LF line ends) into BUF */
int	bounce_format(const BOUNCE_REQUEST *req, VSTRING *buf, VSTRING *why);

#endif
