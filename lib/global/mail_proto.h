/*
 * mail_proto.h - names of internal services and their requests.
 *
 * Sockets live under queue_directory: public/NAME (reachable by local
 * users) and private/NAME (mail_owner only).
 *
 * qmgr trigger (public/qmgr): a client connects, writes one request byte,
 * and closes.  mail_trigger() does that without waiting for qmgr.
 *
 * Delivery request (qmgr -> private/local, later private/smtp), one
 * attribute list per message (attr.h), the agent answers one list per
 * recipient in the same order:
 *   request: queue_name, queue_id, offset (of the content), size,
 *            sender, arrival (seconds), nrcpt, then for i = 0..nrcpt-1:
 *            rcpt_<i>, orcpt_<i>, rcpt_offset_<i>
 *   reply:   for each recipient, one list:
 *            status (0 sent, 4 deferred, 5 bounced), dsn ("2.0.0"), reason
 * A delivery agent marks a recipient done in the queue file (R -> D, not fsynced)
 * before it logs "status=sent" and before it replies.
 */
#ifndef MAIL_PROTO_H
#define MAIL_PROTO_H

#include "sys_defs.h"

#define MAIL_CLASS_PUBLIC	"public"
#define MAIL_CLASS_PRIVATE	"private"

#define MAIL_SERVICE_QMGR	"qmgr"
#define MAIL_SERVICE_LOCAL	"local"
#define MAIL_SERVICE_SUBMIT	"submit"	/* sendmail -> smtpd (SO_PEERCRED) */
#define MAIL_SERVICE_PICKUP	"pickup"	/* maildrop/ -> smtpd (pickup/) */
#define PICKUP_REQ_SCAN		'W'	/* look into maildrop/ (also master's wakeup) */

#define QMGR_REQ_SCAN_INCOMING	'I'	/* new mail in incoming/ */
#define QMGR_REQ_FLUSH_DEFERRED	'F'	/* retry all of deferred/ now */
#define QMGR_REQ_WAKEUP		'W'	/* periodic wakeup from master */
#define QMGR_REQ_CONTROL	'C'	/* queue control: an attribute list follows */

/*
 * Queue control (postsuper, postqueue -f/-s/-i, posthorn flush): the client
 * connects to public/qmgr, writes QMGR_REQ_CONTROL and one attribute list,
 * and reads one back; the requests (delete, hold, release, requeue,
 * expire, expire_release, flush...), their attributes and the reply (status,
 * count, released, a "done" line per message) are in queue_control.h.
 * qmgr performs the change itself, so no tool edits a file that qmgr owns.
 */
#define MAIL_SERVICE_SHOWQ	"showq"	/* queue listing for postqueue -p/-j */

#define DELIVER_STAT_OK		0
#define DELIVER_STAT_DEFER	4
#define DELIVER_STAT_BOUNCE	5

/* mail_trigger - send one request byte to CLASS/SERVICE; 0 or -1 (logged) */
int	mail_trigger(const char *class, const char *service, int request);
/* mail_trigger_quiet - the same, silent when the service is not running */
int	mail_trigger_quiet(const char *class, const char *service, int request);

/* mail_socket_path - "public/qmgr" etc. into BUF (relative to queue dir) */
const char *mail_socket_path(char *buf, size_t len, const char *class, const char *service);

#endif
