/*
 * qmgr_message.c - active messages: routing recipients, collecting answers.
 *
 * qmgr_message_create() keeps an envelope in memory (found by queue id in
 * a hash table: a flush puts up to qmgr_message_active_limit messages in
 * memory, and each activation asks whether its id is already there;
 * qmgr_message_count and qmgr_recipient_count are what the scans' limits
 * see); qmgr_message_route()
 * resolves each not-done recipient now, at delivery time, so that a
 * configuration fix frees mail that is stuck (lib/tables/resolve.h: address
 * class, class default transport, transport_maps).  The "error"
 * transport bounces the recipient with the next-hop text (qmgr marks it
 * done in the queue file), "retry" defers it; any other transport gets
 * jobs of up to TRANSPORT_destination_recipient_limit recipients (at
 * most DELIVER_MAX_RCPT) for its agent at
 * private/TRANSPORT (qmgr_deliver.c; a job for a dead destination is
 * deferred there at once).  A table that cannot answer defers.
 * qmgr_message_result() records one answer.
 *
 * Recipients are read in slices (Postfix's rcpt_offset): qmgr_scan.c
 * reads the envelope up to the first recipient, qmgr_message_start()
 * reads the first slice of at most what is left of
 * qmgr_message_recipient_limit (at least qmgr_message_recipient_minimum)
 * and remembers the file offset of the next one (env.rcpt_offset).
 * When every recipient of the slice has its answer, its deferrals are
 * appended to defer/ID (bounces went to bounce/ID one by one, successes
 * for DSN to trace/ID), its memory is freed, and the next slice is read
 * from that offset.  After the last slice the file is removed (all done)
 * or deferred with back-off (qmgr_defer.c), with the bounce, delay
 * warning and success notice built from those logs (qmgr_bounce.c), so
 * memory does not grow with the number of recipients.
 * A message that postsuper -e marked force-expired is not delivered: its
 * pending recipients are deferred at once and returned to the sender.
 *
 * Parameters: TRANSPORT_destination_recipient_limit (local, smtp, lmtp),
 * default_destination_recipient_limit, virtual_destination_recipient_limit,
 * qmgr_message_recipient_limit, qmgr_message_recipient_minimum, and those
 * of resolve.c.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "htable.h"
#include "clock.h"
#include "events.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "resolve.h"
#include "defer_log.h"
#include "worker.h"
#include "qmgr.h"

int     qmgr_message_count;
int     qmgr_recipient_count;		/* recipients of those in memory */
static QMGR_MESSAGE *qmgr_messages;	/* list of active messages */
static HTABLE *qmgr_message_table;	/* the same, by queue id */
static int qmgr_routing;		/* a slice is being routed: no finishing */

static void qmgr_message_route(QMGR_MESSAGE *message);

QMGR_MESSAGE *qmgr_message_create(const char *id, QENV *env)
{
    QMGR_MESSAGE *message = mycalloc(1, sizeof(*message));

    message->id = mystrdup(id);
    message->env = *env;			/* takes over the envelope */
    message->stats.arrival = env->arrival;
    clock_gettimeofday(&message->stats.active);
    message->next = qmgr_messages;
    if (qmgr_messages)
	qmgr_messages->prev = message;
    qmgr_messages = message;
    if (qmgr_message_table == 0)
	qmgr_message_table = htable_create(1024);
    htable_enter(qmgr_message_table, message->id, message);
    qmgr_message_count++;
    return (message);
}

/* qmgr_slice_alloc - per-recipient state for the slice just read */

static void qmgr_slice_alloc(QMGR_MESSAGE *message)
{
    int     count = message->env.rcpt_count;

    message->rcpt_status = mymalloc((size_t) (count + 1) * sizeof(int));
    message->rcpt_dsn = mycalloc((size_t) count + 1, sizeof(char *));
    message->rcpt_relay = mycalloc((size_t) count + 1, sizeof(char *));
    message->rcpt_reason = mycalloc((size_t) count + 1, sizeof(char *));
    for (int i = 0; i < count; i++)
	message->rcpt_status[i] = message->env.rcpts[i].done ?
	    QMGR_RCPT_SKIP : QMGR_RCPT_PENDING;
    qmgr_recipient_count += count;
}

/* qmgr_slice_free - the slice's recipients leave memory */

static void qmgr_slice_free(QMGR_MESSAGE *message)
{
    if (message->rcpt_status == 0)
	return;
    for (int i = 0; i < message->env.rcpt_count; i++) {
	if (message->rcpt_dsn[i])
	    myfree(message->rcpt_dsn[i]);
	if (message->rcpt_relay[i])
	    myfree(message->rcpt_relay[i]);
	if (message->rcpt_reason[i])
	    myfree(message->rcpt_reason[i]);
    }
    myfree(message->rcpt_dsn);
    myfree(message->rcpt_relay);
    myfree(message->rcpt_reason);
    myfree(message->rcpt_status);
    message->rcpt_status = 0;
    qmgr_recipient_count -= message->env.rcpt_count;
    qenv_free_rcpts(&message->env);
}

static void qmgr_slice_event(int event, void *context);

static void qmgr_message_free(QMGR_MESSAGE *message)
{
    if (message->prev)
	message->prev->next = message->next;
    else
	qmgr_messages = message->next;
    if (message->next)
	message->next->prev = message->prev;
    (void) htable_delete(qmgr_message_table, message->id);
    event_cancel_timer(qmgr_slice_event, message);
    qmgr_message_count--;
    qmgr_slice_free(message);
    if (message->expire_log) {
	defer_log_free(message->expire_log);
	myfree(message->expire_log);
    }
    qenv_free(&message->env);
    myfree(message->id);
    myfree(message);
}

QMGR_MESSAGE *qmgr_message_find(const char *id)
{
    HTABLE_INFO *info;

    if (qmgr_message_table == 0
	|| (info = htable_locate(qmgr_message_table, id)) == 0)
	return (0);
    return ((QMGR_MESSAGE *) info->value);
}

int     qmgr_message_active(const char *id)
{
    return (qmgr_message_find(id) != 0);
}

/*
 * Removing a finished message, off the event loop.  An unlink that frees
 * data blocks can wait for the disk (ext4 mounted with "discard" without
 * a journal sends the discard and waits for it), which in the event loop
 * held up every delivery.  A worker thread removes the logs, then the
 * file; "removed" is logged when it has.  If qmgr dies first, the file
 * is found again at the next start with every recipient done (the agents
 * and the bounce code mark them before qmgr finishes a message), and is
 * removed then without a delivery.
 */
#define QMGR_REMOVE_PATHS	4		/* defer, bounce, trace logs; the file */

typedef struct QMGR_REMOVE {
    char   *id;
    VSTRING *paths[QMGR_REMOVE_PATHS];
    int     errs[QMGR_REMOVE_PATHS];	/* errno of each unlink, 0 if done */
    int     rcpts;			/* recipients it still counts for */
} QMGR_REMOVE;

static int qmgr_remove_jobs;		/* removals in flight */

/* qmgr_remove_work - in a worker thread: the logs, then the file */

static void qmgr_remove_work(void *arg)
{
    QMGR_REMOVE *job = arg;

    for (int i = 0; i < QMGR_REMOVE_PATHS; i++)
	job->errs[i] = (unlink(STR(job->paths[i])) < 0 && errno != ENOENT) ?
	    errno : 0;
}

/* qmgr_remove_done - in the event loop: say how it went */

static void qmgr_remove_done(void *arg)
{
    QMGR_REMOVE *job = arg;

    qmgr_remove_jobs--;
    qmgr_message_count--;			/* now its file has left active/ */
    qmgr_recipient_count -= job->rcpts;
    qmgr_scan_room();
    for (int i = 0; i < QMGR_REMOVE_PATHS; i++) {
	if (job->errs[i])
	    msg_warn("%s: remove %s: %s", job->id, STR(job->paths[i]),
		     strerror(job->errs[i]));
	vstring_free(job->paths[i]);
    }
    if (job->errs[QMGR_REMOVE_PATHS - 1] == 0)
	msg_info("%s: removed", job->id);
    myfree(job->id);
    myfree(job);
}

/*
 * qmgr_message_remove - the file and its logs go away (in a worker).
 * Until then the message still counts for the active queue's limits, as
 * its file is still in active/ (qmgr_message_free gives its share back,
 * qmgr_remove_done takes it).
 */
static void qmgr_message_remove(QMGR_MESSAGE *message)
{
    static const char *const queues[QMGR_REMOVE_PATHS] = {
	MAIL_QUEUE_DEFER, MAIL_QUEUE_BOUNCE, MAIL_QUEUE_TRACE, MAIL_QUEUE_ACTIVE,
    };
    QMGR_REMOVE *job = (QMGR_REMOVE *) mymalloc(sizeof(*job));

    job->id = mystrdup(message->id);
    for (int i = 0; i < QMGR_REMOVE_PATHS; i++)	/* paths: the config is ours */
	mail_queue_path(job->paths[i] = vstring_alloc(64), queues[i], message->id);
    job->rcpts = message->rcpt_status ? message->env.rcpt_count : 0;
    qmgr_message_count++;
    qmgr_recipient_count += job->rcpts;
    qmgr_remove_jobs++;
    worker_submit(qmgr_remove_work, qmgr_remove_done, job);
}

/* qmgr_message_busy - removals in flight (MAIL_SERVER_OPS busy) */

int     qmgr_message_busy(void)
{
    return (qmgr_remove_jobs);
}

/* qmgr_message_after - a queue control request waited for the deliveries */

static void qmgr_message_after(QMGR_MESSAGE *message)
{
    const char *to = message->after == QMGR_AFTER_HOLD ?
	MAIL_QUEUE_HOLD : MAIL_QUEUE_INCOMING;

    if (message->after == QMGR_AFTER_DELETE) {
	qmgr_message_remove(message);
    } else if (mail_queue_rename(message->id, MAIL_QUEUE_ACTIVE, to) < 0) {
	msg_warn("%s: cannot move from %s to %s: %m",
		 message->id, MAIL_QUEUE_ACTIVE, to);
    } else if (message->after == QMGR_AFTER_HOLD) {
	msg_info("%s: placed on hold", message->id);
    } else {
	msg_info("%s: requeued", message->id);
	qmgr_scan_incoming_later(0);
    }
}

/*
 * qmgr_message_finish - the last slice is done (or a queue control
 * request stops the message): defer/ID and bounce/ID hold what every
 * slice added
 */
static void qmgr_message_finish(QMGR_MESSAGE *message)
{
    if (message->after != QMGR_AFTER_NONE) {
	qmgr_message_after(message);
    } else {
	if (message->returned > 0)
	    msg_info("%s: from=<%s>, status=%s, returned to sender", message->id,
		     message->env.sender, message->expired ?
		     "force-expired" : "expired");
	(void) qmgr_bounce_trace_flush(message);	/* a failure: next time */
	if (message->deferred > 0) {
	    qmgr_bounce_delay(message);
	    qmgr_defer_message(message);
	} else if (qmgr_bounce_flush(message) < 0) {
	    qmgr_defer_message(message);	/* the bounce log stays: try later */
	} else {
	    qmgr_message_remove(message);
	}
    }
    qmgr_message_free(message);
    qmgr_scan_room();
}

/*
 * qmgr_slice_limit - recipients for the next slice: what is left of
 * qmgr_message_recipient_limit, at least qmgr_message_recipient_minimum
 * (Postfix's rule, so a big message neither starves nor is starved)
 */
static int qmgr_slice_limit(void)
{
    int     left = conf_int("qmgr_message_recipient_limit") - qmgr_recipient_count;
    int     minimum = conf_int("qmgr_message_recipient_minimum");

    return (left > minimum ? left : minimum > 0 ? minimum : 1);
}

/*
 * qmgr_slice_read - the next slice from the file; 0, or -1: the file is
 * corrupt (moved to corrupt/, the message freed)
 */
static int qmgr_slice_read(QMGR_MESSAGE *message)
{
    VSTREAM *stream;
    VSTRING *why = vstring_alloc(100);
    int     ret = -1;

    if ((stream = mail_queue_open(MAIL_QUEUE_ACTIVE, message->id, O_RDONLY)) == 0)
	vstring_sprintf(why, "open: %m");
    else if (qfile_read_rcpts(stream, &message->env, qmgr_slice_limit(), why) >= 0)
	ret = 0;
    if (stream)
	vstream_close(stream);
    if (ret == 0) {
	qmgr_slice_alloc(message);
    } else {
	qmgr_move_corrupt(message->id, MAIL_QUEUE_ACTIVE, STR(why));
	qmgr_message_free(message);
	qmgr_scan_room();
    }
    vstring_free(why);
    return (ret);
}

/*
 * qmgr_slice_done - every recipient of the slice has an answer: its
 * deferrals go to defer/ID (bounced instead when the message expired),
 * its memory is freed, and the next slice is read in a later event (the
 * scans may take other mail into the room first), or the message is
 * finished.  A queue control request stops it after this slice; so does
 * a qmgr that is exiting (the next one takes active/ over).
 */
static void qmgr_slice_done(QMGR_MESSAGE *message)
{
    if (message->after == QMGR_AFTER_NONE && message->deferred > 0)
	message->returned += qmgr_bounce_expired(message);
    qmgr_bounce_defer_log(message);
    qmgr_slice_free(message);
    if (message->env.rcpt_offset == 0 || message->after != QMGR_AFTER_NONE) {
	qmgr_message_finish(message);
    } else if (!event_server_draining()) {
	event_request_timer(qmgr_slice_event, message, 0);
	qmgr_scan_room();
    }
}

/* qmgr_slice_event - read and route the next slice */

static void qmgr_slice_event(int event, void *context)
{
    QMGR_MESSAGE *message = context;

    if (event_server_draining())
	return;
    if (message->after != QMGR_AFTER_NONE) {
	qmgr_message_finish(message);
	return;
    }
    if (qmgr_slice_read(message) == 0) {
	qmgr_message_route(message);
	qmgr_deliver_pump();
    }
}

/*
 * qmgr_message_start - as Postfix's qmgr, defer/ID holds this attempt's
 * deferrals only: the first slice that defers replaces it (not an unlink
 * here, which can wait for the disk, see qmgr_message_remove), later
 * slices append.  A force-expired message keeps the old reasons in memory
 * for its recipients (qmgr_message_expire).
 */
int     qmgr_message_start(QMGR_MESSAGE *message)
{
    if (message->expired) {
	message->expire_log = mymalloc(sizeof(*message->expire_log));
	(void) defer_log_read(MAIL_QUEUE_DEFER, message->id, message->expire_log);
    }
    message->defer_log_old = 1;			/* replaced at the first deferral */
    if (qmgr_slice_read(message) < 0)
	return (-1);
    qmgr_message_route(message);
    return (0);
}

/* qmgr_message_keep - remember the last answer for a recipient */

static void qmgr_message_keep(char **slot, const char *value)
{
    if (*slot)
	myfree(*slot);
    *slot = value ? mystrdup(value) : 0;
}

void    qmgr_message_result(QMGR_MESSAGE *message, int index, int status,
			            const char *relay, const char *dsn,
			            const char *reason)
{
    if (index < 0 || index >= message->env.rcpt_count
	|| message->rcpt_status[index] != QMGR_RCPT_PENDING)
	msg_panic("%s: bad result for recipient %d", message->id, index);
    qmgr_message_keep(message->rcpt_dsn + index, dsn);
    qmgr_message_keep(message->rcpt_relay + index, relay);
    qmgr_message_keep(message->rcpt_reason + index, reason);
    if (status == DELIVER_STAT_BOUNCE
	&& qmgr_bounce_log(message, index, relay, dsn, reason) < 0)
	status = DELIVER_STAT_DEFER;
    message->rcpt_status[index] = status;
    if (status == DELIVER_STAT_DEFER)
	message->deferred++;
    message->unanswered--;
    if (message->unanswered == 0 && !qmgr_routing)
	qmgr_slice_done(message);
}

/*
 * qmgr_job_limit - recipients per delivery request for TRANSPORT: as
 * Postfix, TRANSPORT_destination_recipient_limit where that parameter
 * exists (local, smtp, lmtp), else default_destination_recipient_limit.
 * Virtual mailboxes (CLASS) that local delivers take Postfix's virtual(8)
 * limit, virtual_destination_recipient_limit: one request per domain, not
 * one per recipient as local_destination_recipient_limit (1) would make.
 */
static int qmgr_job_limit(const char *transport, int class)
{
    VSTRING *name = vstring_alloc(60);
    int     limit;

    if (class == RESOLVE_CLASS_VIRTUAL && strcmp(transport, MAIL_SERVICE_LOCAL) == 0)
	vstring_strcpy(name, "virtual_destination_recipient_limit");
    else
	vstring_sprintf(name, "%s_destination_recipient_limit", transport);
    if (mail_param_find(STR(name)) == 0)
	vstring_strcpy(name, "default_destination_recipient_limit");
    limit = conf_int(STR(name));
    vstring_free(name);
    return (limit > DELIVER_MAX_RCPT ? DELIVER_MAX_RCPT : limit < 1 ? 1 : limit);
}

/*
 * qmgr_dsn_text - split "x.y.z text" into a DSN (class forced to CLASS,
 * as Postfix's dsn_split) and the text; no code gives CLASS.0.0.
 */
static const char *qmgr_dsn_text(const char *text, int class, char *dsn, size_t len)
{
    size_t  n = strspn(text, "0123456789.");
    int     a, b, c;
    char    end;

    if (n > 0 && n < 12 && (text[n] == ' ' || text[n] == 0)
	&& sscanf(text, "%d.%d.%d%c", &a, &b, &c, &end) >= 3
	&& (a == 4 || a == 5) && b >= 0 && b < 1000 && c >= 0 && c < 1000) {
	snprintf(dsn, len, "%c.%d.%d", class, b, c);
	text += n;
	text += strspn(text, " ");
    } else {
	snprintf(dsn, len, "%c.0.0", class);
    }
    return (*text ? text : "unknown error");
}

/* qmgr_bounce_rcpt - the error transport: mark done, log "bounced" */

static void qmgr_bounce_rcpt(QMGR_MESSAGE *message, int index, const char *text)
{
    QRCPT  *rcpt = message->env.rcpts + index;
    const char *reason;
    char    dsn[16];

    reason = qmgr_dsn_text(text, '5', dsn, sizeof(dsn));
    /* The result writes the bounce log and marks the recipient done */
    deliver_log(message->id, &message->stats, rcpt->address, rcpt->orig,
		"none", dsn, "bounced", "%s", reason);
    qmgr_message_result(message, index, DELIVER_STAT_BOUNCE, "none", dsn, reason);
}

/*
 * qmgr_relayhost - relay and default class mail whose next hop is still
 * the recipient domain goes to relayhost instead (Postfix's
 * trivial-rewrite: an explicit transport_maps next hop wins).
 */
static void qmgr_relayhost(const char *addr, RESOLVE_REPLY *reply)
{
    const char *relayhost = conf_str("relayhost");
    const char *at = strrchr(addr, '@');

    if (*relayhost == 0 || at == 0
	|| (reply->class != RESOLVE_CLASS_RELAY && reply->class != RESOLVE_CLASS_DEFAULT)
	|| strcmp(STR(reply->transport), MAIL_SERVICE_LOCAL) == 0
	|| strcasecmp(STR(reply->nexthop), at + 1) != 0)
	return;
    vstring_strcpy(reply->nexthop, relayhost);
}

/* qmgr_route_rcpt - special transports, or the transport's pending job */

static void qmgr_route_rcpt(QMGR_MESSAGE *message, int index, QMGR_JOB **jobs,
			            int *job_count, RESOLVE_REPLY *reply)
{
    const char *transport = STR(reply->transport);
    QMGR_JOB *job = 0;
    char    dsn[16];
    const char *text;
    int     i;

    if (strcmp(transport, "error") == 0) {
	qmgr_bounce_rcpt(message, index, STR(reply->nexthop));
	return;
    }
    if (strcmp(transport, "retry") == 0) {
	text = qmgr_dsn_text(STR(reply->nexthop), '4', dsn, sizeof(dsn));
	qmgr_defer_rcpt(message, index, "none", dsn, text);
	return;
    }
    qmgr_relayhost(message->env.rcpts[index].address, reply);
    for (i = 0; i < *job_count; i++)
	if (strcmp(jobs[i]->transport, transport) == 0
	    && strcasecmp(jobs[i]->nexthop, STR(reply->nexthop)) == 0)
	    job = jobs[i];
    if (job == 0) {
	job = mycalloc(1, sizeof(*job));
	job->message = message;
	job->transport = mystrdup(transport);
	job->nexthop = mystrdup(STR(reply->nexthop));
	jobs[(*job_count)++] = job;
    }
    job->rcpt_index[job->rcpt_count++] = index;
    if (job->rcpt_count >= qmgr_job_limit(transport, reply->class)) {
	for (i = 0; jobs[i] != job; i++)
	     /* void */ ;
	jobs[i] = jobs[--(*job_count)];
	qmgr_deliver_add(job);
    }
}

/*
 * qmgr_verify_rcpt - sendmail -bv: say where the recipient would go, as
 * Postfix's verify mode, without delivering; the report goes to the
 * sender (qmgr_bounce_trace_flush).  The error transport's recipients
 * are undeliverable.
 */
static void qmgr_verify_rcpt(QMGR_MESSAGE *message, int index, RESOLVE_REPLY *reply)
{
    QRCPT  *rcpt = message->env.rcpts + index;
    const char *transport = STR(reply->transport);
    int     bad = strcmp(transport, "error") == 0;
    VSTRING *why = vstring_alloc(100);

    if (bad)
	vstring_sprintf(why, "undeliverable: %s", STR(reply->nexthop));
    else {
	qmgr_relayhost(rcpt->address, reply);
	vstring_sprintf(why, "delivery via %s: %s", transport, STR(reply->nexthop));
    }
    deliver_log(message->id, &message->stats, rcpt->address, rcpt->orig, transport,
		bad ? "5.1.1" : "2.0.0", bad ? "undeliverable" : "deliverable",
		"%s", STR(why));
    qmgr_bounce_trace(message, index, bad ? "undeliverable" : "deliverable", transport,
		      bad ? "5.1.1" : "2.0.0", STR(why));
    qmgr_message_result(message, index, DELIVER_STAT_OK, transport, "2.0.0", STR(why));
    vstring_free(why);
}

/*
 * qmgr_message_expire - a force-expired message (postsuper -e): every
 * pending recipient is deferred without a delivery attempt, with the
 * reason of its last deferral (not logged again), else "4.7.0 message is
 * administratively expired" (logged); qmgr_bounce_expired() returns it
 */
static void qmgr_message_expire(QMGR_MESSAGE *message)
{
    const DEFER_LOG_ENTRY *last;

    for (int i = 0; i < message->env.rcpt_count; i++) {
	if (message->rcpt_status[i] != QMGR_RCPT_PENDING)
	    continue;
	if (message->expire_log != 0 && (last = defer_log_find(message->expire_log,
				      message->env.rcpts[i].address)) != 0)
	    qmgr_message_result(message, i, DELIVER_STAT_DEFER, last->relay,
				last->status, last->reason);
	else
	    qmgr_defer_rcpt(message, i, "none", "4.7.0",
			    "message is administratively expired");
    }
}

/*
 * qmgr_filter_route - content_filter (or an access FILTER action) set by
 * smtpd: every recipient goes to that transport:nexthop (an empty next
 * hop: the recipient's domain), as Postfix's qmgr routes filtered mail
 */
static void qmgr_filter_route(const char *filter, const char *addr,
			              RESOLVE_REPLY *reply)
{
    const char *colon = strchr(filter, ':');
    const char *at = strrchr(addr, '@');

    vstring_strncpy(reply->transport, filter, colon - filter);
    vstring_strcpy(reply->nexthop, colon[1] ? colon + 1 : at ? at + 1 : "");
    reply->class = RESOLVE_CLASS_DEFAULT;
}

/* qmgr_message_route - route the slice in memory; done at once: the next */

static void qmgr_message_route(QMGR_MESSAGE *message)
{
    QENV   *env = &message->env;
    const char *filter = qenv_attr(env, "content_filter");
    QMGR_JOB **jobs = mycalloc(env->rcpt_count + 1, sizeof(QMGR_JOB *));
    int     job_count = 0;
    RESOLVE_REPLY reply;
    VSTRING *why = vstring_alloc(100);

    resolve_reply_init(&reply);
    for (int i = 0; i < env->rcpt_count; i++)
	if (message->rcpt_status[i] == QMGR_RCPT_PENDING)
	    message->unanswered++;
    qmgr_routing = 1;
    if (message->expired)
	qmgr_message_expire(message);
    for (int i = 0; i < env->rcpt_count; i++) {
	if (message->rcpt_status[i] != QMGR_RCPT_PENDING)
	    continue;
	if (filter && strchr(filter, ':') && *filter != ':')
	    qmgr_filter_route(filter, env->rcpts[i].address, &reply);
	else if (resolve_transport(env->rcpts[i].address, &reply, why) < 0) {
	    qmgr_defer_rcpt(message, i, "none", "4.3.0", STR(why));
	    continue;
	}
	if (message->verify)
	    qmgr_verify_rcpt(message, i, &reply);
	else
	    qmgr_route_rcpt(message, i, jobs, &job_count, &reply);
    }
    for (int i = 0; i < job_count; i++)
	qmgr_deliver_add(jobs[i]);
    myfree(jobs);
    resolve_reply_free(&reply);
    vstring_free(why);
    qmgr_routing = 0;
    if (message->unanswered == 0)
	qmgr_slice_done(message);
}
