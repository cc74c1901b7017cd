/*
 * qmgr_bounce.c - bounce and defer logs, bounces, expiry, delay warnings.
 *
 * A recipient that fails for good is appended to bounce/ID (lib/defer_log)
 * and then marked done in the queue file.  When the message is finished
 * (no recipient deferred), qmgr_bounce_flush() sends one RFC 3464 bounce
 * (lib/bounce) with every failed recipient whose NOTIFY allows it to the
 * sender, and logs "ID: sender non-delivery notification: NEWID".  Mail
 * from <> is never bounced to its sender: with "2bounce" in
 * notify_classes a copy goes to 2bounce_notice_recipient (that copy
 * carries the queue file attribute notify=2bounce and is discarded if it
 * fails in turn), else it is discarded, so bounces never loop.
 *
 * qmgr handles a message's recipients in slices (qmgr_message.c), so
 * everything that outlives a slice is in these logs, not in memory:
 * defer/ID is reset when the message is taken into the active queue, and
 * each slice appends its deferred recipients' reasons (postqueue -p shows
 * them).  Each log entry carries the recipient's NOTIFY, so the bounce
 * and the delay warning are decided from the log.  A message older
 * than maximal_queue_lifetime (bounce_queue_lifetime for mail from <>)
 * has its deferred recipients bounced (Action: failed, the last 4.x.x
 * status and reason, as Postfix), slice by slice; so has a message that
 * postsuper -e marked force-expired, at once ("status=force-expired").
 * A delay warning (the recipients of defer/ID) goes to the sender once
 * the queue file's W record time has passed (delay_warning_time; smtpd
 * writes the record), and the record is cleared.
 *
 * A recipient sent with NOTIFY=SUCCESS, when its agent says "delivered"
 * (final delivery) or "relayed" (to a next hop without DSN, which will
 * not tell), goes to trace/ID; each time qmgr is done with the message
 * (all sent, or some deferred) qmgr_bounce_trace_flush() sends the sender
 * one "Successful Mail Delivery Report" (Action: delivered or relayed,
 * RFC 3464) and logs "ID: sender delivery status notification: NEWID",
 * as Postfix does.  For an address verification request (sendmail -bv)
 * every recipient is traced and the report is Postfix's "Mail Delivery
 * Status Report" (Action: deliverable).
 *
 * Parameters: maximal_queue_lifetime, bounce_queue_lifetime,
 * notify_classes, 2bounce_notice_recipient.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "defer_log.h"
#include "bounce.h"
#include "qmgr.h"

/* qmgr_bounce_entry - a log entry for recipient INDEX (borrowed strings) */

static void qmgr_bounce_entry(QMGR_MESSAGE *message, int index, DEFER_LOG_ENTRY *e,
			              const char *action, const char *relay,
			              const char *dsn, const char *reason)
{
    QRCPT  *rcpt = message->env.rcpts + index;

    e->recipient = rcpt->address;
    e->orig_rcpt = rcpt->orig ? rcpt->orig : (char *) "";
    e->dsn_orcpt = rcpt->dsn_orcpt ? rcpt->dsn_orcpt : (char *) "";
    e->status = (char *) (dsn && *dsn ? dsn : *action == 'f' ? "5.0.0" : "4.0.0");
    e->action = (char *) action;
    e->relay = (char *) (relay && *relay ? relay : "none");
    e->reason = (char *) (reason && *reason ? reason : "unknown error");
    e->time = (long) clock_now();
}

/* qmgr_bounce_notify - the NOTIFY of recipient INDEX, "" if none */

static const char *qmgr_bounce_notify(QMGR_MESSAGE *message, int index)
{
    const char *notify = message->env.rcpts[index].dsn_notify;

    return (notify ? notify : "");
}

/* qmgr_bounce_notify_ok - NOTIFY (NULL or "": not given) allows WHAT */

static int qmgr_bounce_notify_ok(const char *notify, const char *what, int dflt)
{
    if (notify == 0 || *notify == 0)
	return (dflt);
    return (strcasestr(notify, what) != 0);
}

/* qmgr_bounce_mark_done - flip the recipient's record to done */

static int qmgr_bounce_mark_done(QMGR_MESSAGE *message, int index)
{
    VSTREAM *stream;
    int     ret = 0;

    if ((stream = mail_queue_open(MAIL_QUEUE_ACTIVE, message->id, O_RDWR)) == 0
	|| qfile_mark_done(vstream_fd(stream), message->env.rcpts[index].offset) < 0) {
	msg_warn("%s: cannot update queue file: %m", message->id);
	ret = -1;
    }
    if (stream)
	vstream_close(stream);
    return (ret);
}

int     qmgr_bounce_log(QMGR_MESSAGE *message, int index, const char *relay,
			        const char *dsn, const char *reason)
{
    DEFER_LOG_ENTRY entry;
    const char *notify = qmgr_bounce_notify(message, index);

    qmgr_bounce_entry(message, index, &entry, "failed", relay, dsn, reason);
    if (defer_log_append_list(MAIL_QUEUE_BOUNCE, message->id, &entry, &notify, 1) < 0)
	return (-1);
    return (qmgr_bounce_mark_done(message, index));
}

void    qmgr_bounce_defer_log(QMGR_MESSAGE *message)
{
    DEFER_LOG_ENTRY *entries;
    const char **notify;
    int     count = 0;

    entries = mycalloc((size_t) message->env.rcpt_count + 1, sizeof(*entries));
    notify = mycalloc((size_t) message->env.rcpt_count + 1, sizeof(*notify));
    for (int i = 0; i < message->env.rcpt_count; i++) {
	if (message->rcpt_status[i] != DELIVER_STAT_DEFER)
	    continue;
	notify[count] = qmgr_bounce_notify(message, i);
	qmgr_bounce_entry(message, i, entries + count++, "delayed",
			  message->rcpt_relay[i], message->rcpt_dsn[i],
			  message->rcpt_reason[i]);
    }
    if (count > 0 && message->defer_log_old) {
	(void) defer_log_replace_list(MAIL_QUEUE_DEFER, message->id, entries,
				      notify, count);
	message->defer_log_old = 0;
    } else if (count > 0) {
	(void) defer_log_append_list(MAIL_QUEUE_DEFER, message->id, entries,
				     notify, count);
    }
    myfree(notify);
    myfree(entries);
}

int     qmgr_bounce_expired(QMGR_MESSAGE *message)
{
    long    lifetime = conf_time(*message->env.sender ?
			      "maximal_queue_lifetime" : "bounce_queue_lifetime");
    long    age = (long) (clock_now() - message->env.arrival.tv_sec);
    int     count = 0;

    if (age < lifetime && !message->expired)
	return (0);
    for (int i = 0; i < message->env.rcpt_count; i++) {
	if (message->rcpt_status[i] != DELIVER_STAT_DEFER)
	    continue;
	if (qmgr_bounce_log(message, i, message->rcpt_relay[i],
			    message->rcpt_dsn[i], message->rcpt_reason[i]) < 0)
	    continue;				/* stays deferred: retry later */
	message->rcpt_status[i] = DELIVER_STAT_BOUNCE;
	message->deferred--;
	count++;
    }
    return (count);
}

/* qmgr_bounce_class - notify_classes names CLASS */

static int qmgr_bounce_class(const char *class)
{
    const char *list = conf_str("notify_classes");
    size_t  len = strlen(class);

    for (const char *cp = list; (cp = strcasestr(cp, class)) != 0; cp += len)
	if ((cp == list || strchr(", \t", cp[-1])) && strchr(", \t", cp[len]))
	    return (1);
    return (0);
}

/* qmgr_bounce_send - queue one notification; 0 or -1 */

static int qmgr_bounce_send(QMGR_MESSAGE *message, int kind, const char *rcpt,
			            const DEFER_LOG_ENTRY *entries, int count,
			            const char *attr, const char *what)
{
    BOUNCE_REQUEST req;
    VSTRING *new_id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(100);
    int     ret;

    memset(&req, 0, sizeof(req));
    req.kind = kind;
    req.queue_id = message->id;
    req.env = &message->env;
    req.rcpt = rcpt;
    req.entries = entries;
    req.count = count;
    req.queue_attr = attr;
    if ((req.content = mail_queue_open(MAIL_QUEUE_ACTIVE, message->id, O_RDONLY)) == 0) {
	msg_warn("%s: open queue file: %m", message->id);
	ret = -1;
    } else if ((ret = bounce_send(&req, new_id, why)) < 0) {
	msg_warn("%s: %s notification failed: %s", message->id, what, STR(why));
    } else {
	msg_info("%s: %s notification: %s", message->id, what, STR(new_id));
	qmgr_scan_incoming_later(0);
    }
    if (req.content)
	vstream_close(req.content);
    vstring_free(new_id);
    vstring_free(why);
    return (ret);
}

int     qmgr_bounce_flush(QMGR_MESSAGE *message)
{
    DEFER_LOG log;
    DEFER_LOG_ENTRY *keep;
    int     count = 0;
    int     ret = 0;
    const char *notice = qenv_attr(&message->env, "notify");

    if (defer_log_read(MAIL_QUEUE_BOUNCE, message->id, &log) < 0) {
	int     missing = (errno == ENOENT);

	defer_log_free(&log);
	if (missing)
	    return (0);
	/* unreadable or torn: keep the message and its log, try again later */
	msg_warn("%s: cannot read bounce log: %m", message->id);
	return (-1);
    }
    keep = mycalloc((size_t) log.count + 1, sizeof(*keep));
    for (int i = 0; i < log.count; i++)
	if (*message->env.sender == 0
	    || qmgr_bounce_notify_ok(log.notify[i], "FAILURE", 1))
	    keep[count++] = log.entries[i];
    if (count == 0) {
	/* NOTIFY=NEVER (or no failure): nothing to send */
    } else if (*message->env.sender) {
	ret = qmgr_bounce_send(message, BOUNCE_FAILED, message->env.sender,
			       keep, count, 0, "sender non-delivery");
    } else if (notice && strcmp(notice, "2bounce") == 0) {
	msg_info("%s: undeliverable postmaster notification discarded", message->id);
    } else if (qmgr_bounce_class("2bounce")) {
	ret = qmgr_bounce_send(message, BOUNCE_FAILED,
			       conf_str("2bounce_notice_recipient"), keep, count,
			       "notify=2bounce", "postmaster non-delivery");
    } else {
	msg_info("%s: undeliverable bounce discarded", message->id);
    }
    myfree(keep);
    defer_log_free(&log);
    return (ret);
}

/* qmgr_bounce_delay_send - the warning for the entries of LOG; 0 or -1 */

static int qmgr_bounce_delay_send(QMGR_MESSAGE *message, const DEFER_LOG *log)
{
    DEFER_LOG_ENTRY *keep;
    int     count = 0;
    int     ret = 0;

    keep = mycalloc((size_t) log->count + 1, sizeof(*keep));
    for (int i = 0; i < log->count; i++)
	if (qmgr_bounce_notify_ok(log->notify[i], "DELAY", 1))
	    keep[count++] = log->entries[i];
    if (count > 0 && *message->env.sender)
	ret = qmgr_bounce_send(message, BOUNCE_DELAYED, message->env.sender,
			       keep, count, 0, "sender delay");
    myfree(keep);
    return (ret);
}

void    qmgr_bounce_delay(QMGR_MESSAGE *message)
{
    DEFER_LOG log;
    VSTREAM *stream;
    int     ret;

    if (message->env.warn_time <= 0 || message->env.warn_offset <= 0
	|| clock_now() < message->env.warn_time)
	return;
    if (defer_log_read(MAIL_QUEUE_DEFER, message->id, &log) < 0 && errno != ENOENT) {
	msg_warn("%s: cannot read the defer log for a delay warning: %m",
		 message->id);
	defer_log_free(&log);
	return;					/* try again next time */
    }
    ret = qmgr_bounce_delay_send(message, &log);
    defer_log_free(&log);
    if (ret < 0)
	return;					/* try again next time */
    /* Sent, or nobody wants one: never again for this message */
    if ((stream = mail_queue_open(MAIL_QUEUE_ACTIVE, message->id, O_RDWR)) == 0
	|| qfile_update_warn(vstream_fd(stream), &message->env, 0) < 0)
	msg_warn("%s: cannot clear the delay warning time: %m", message->id);
    else
	message->env.warn_time = 0;
    if (stream)
	vstream_close(stream);
}

void    qmgr_bounce_trace(QMGR_MESSAGE *message, int index, const char *action,
			          const char *relay, const char *dsn,
			          const char *reason)
{
    DEFER_LOG_ENTRY entry;

    if (*message->env.sender == 0
	|| (!message->verify
	    && !qmgr_bounce_notify_ok(message->env.rcpts[index].dsn_notify,
				      "SUCCESS", 0)))
	return;
    qmgr_bounce_entry(message, index, &entry, action, relay, dsn, reason);
    if (defer_log_append(MAIL_QUEUE_TRACE, message->id, &entry) < 0)
	msg_warn("%s: cannot record the delivery of %s for its success notice: %m",
		 message->id, entry.recipient);
}

int     qmgr_bounce_trace_flush(QMGR_MESSAGE *message)
{
    DEFER_LOG log;
    int     ret = 0;

    if (defer_log_read(MAIL_QUEUE_TRACE, message->id, &log) < 0) {
	int     missing = (errno == ENOENT);

	defer_log_free(&log);
	if (missing)
	    return (0);
	msg_warn("%s: cannot read the success log: %m", message->id);
	return (-1);
    }
    if (log.count > 0)
	ret = qmgr_bounce_send(message, message->verify ? BOUNCE_VERIFY : BOUNCE_SUCCESS,
			       message->env.sender, log.entries, log.count, 0,
			       "sender delivery status");
    if (ret == 0)
	defer_log_remove(MAIL_QUEUE_TRACE, message->id);
    defer_log_free(&log);
    return (ret);
}
