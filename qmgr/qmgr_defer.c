/*
 * qmgr_defer.c - back-off and the deferred queue.
 *
 * qmgr_defer_rcpt() defers one recipient for a reason found by qmgr itself
 * (no transport, agent unreachable or crashed) and logs it in Postfix's
 * shape; deferrals by a delivery agent are logged by the agent.
 * qmgr_defer_message() moves a message with deferred recipients from
 * active/ to deferred/, with its next retry time as the file's mtime:
 * now + time spent in the queue so far, clamped to
 * [minimal_backoff_time, maximal_backoff_time] (Postfix's rule, so the
 * interval doubles with each attempt).  Every queue_run_delay seconds a
 * pass of qmgr_scan_deferred() (qmgr_scan.c) takes the due files back into
 * active/.
 */
#include "sys_defs.h"
#include <utime.h>
#include "msg.h"
#include "vstring.h"
#include "events.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "qmgr.h"

void    qmgr_defer_rcpt(QMGR_MESSAGE *message, int index, const char *relay,
			        const char *dsn, const char *reason)
{
    QRCPT  *rcpt = message->env.rcpts + index;

    deliver_log(message->id, &message->stats, rcpt->address, rcpt->orig,
		relay, dsn, "deferred", "%s", reason);
    qmgr_message_result(message, index, DELIVER_STAT_DEFER, relay, dsn, reason);
}

/* qmgr_backoff - seconds until the next attempt */

static long qmgr_backoff(const QMGR_MESSAGE *message)
{
    long    delay = (long) (clock_now() - message->env.arrival.tv_sec);
    long    min_delay = conf_time("minimal_backoff_time");
    long    max_delay = conf_time("maximal_backoff_time");

    if (delay > max_delay)
	delay = max_delay;
    if (delay < min_delay)
	delay = min_delay;
    return (delay);
}

void    qmgr_defer_message(QMGR_MESSAGE *message)
{
    VSTRING *path = vstring_alloc(100);
    struct utimbuf times;
    time_t  now = clock_now();

    times.actime = now;
    times.modtime = now + qmgr_backoff(message);
    mail_queue_path(path, MAIL_QUEUE_ACTIVE, message->id);
    if (utime(STR(path), &times) < 0)
	msg_warn("%s: cannot set retry time on %s: %m", message->id, STR(path));
    if (mail_queue_rename(message->id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED) < 0)
	msg_warn("%s: cannot move from %s to %s: %m",
		 message->id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED);
    vstring_free(path);
}

static void qmgr_deferred_event(int event, void *context);

/* qmgr_deferred_event - the periodic deferred queue run */

static void qmgr_deferred_event(int event, void *context)
{
    qmgr_deferred_timer_start();
    qmgr_scan_incoming();
    qmgr_scan_deferred(0);
    qmgr_deliver_pump();
}

void    qmgr_deferred_timer_start(void)
{
    event_request_timer(qmgr_deferred_event, 0,
			conf_time("queue_run_delay") * 1000);
}
