/*
 * qmgr_queue.c - destinations: their waiting jobs, how many deliveries
 * each may run, and which ones are dead.
 *
 * A destination (a "queue" in Postfix) is one (transport, nexthop) pair,
 * e.g. (smtp, [relay.example]:587), found by a hash table keyed by both
 * (the nexthop folded to lower case: it compares without case).  It is
 * kept in memory while jobs wait for it or deliveries to it run, while it
 * is dead, and for minimal_backoff_time after a failure of the whole site
 * while it is idle.  qmgr_deliver.c creates it with the first job for it,
 * adds jobs (qmgr_queue_add_job), takes them to deliver
 * (qmgr_queue_next_job) and reports how each delivery ended.
 *
 * Each destination keeps its waiting jobs in a FIFO.  Those that have
 * waiting jobs and room in their window (busy < window: not full, not
 * dead) form a ring; qmgr_queue_next_job() takes the first job of the
 * destination at the ring's cursor and moves the cursor on, so
 * destinations take turns (round robin, as Postfix's qmgr: one big
 * destination does not starve the others), and within one the jobs go in
 * FIFO order.  A destination leaves the ring when it runs out of jobs,
 * fills its window or dies, and comes back when a job is added, a
 * delivery ends or its window grows; a destination joins at the end of
 * the current round.  Each step is O(1), whatever the number of jobs or
 * destinations.
 *
 * Its window is how many deliveries it may run at once, steered as by
 * Postfix's qmgr with the default "1/concurrency" feedback: it starts at
 * TRANSPORT_initial_destination_concurrency (initial_destination_
 * concurrency, 5), grows by one after as many deliveries without a site
 * failure as it is wide (up to default_destination_concurrency_limit, and
 * never more than the deliveries running plus the initial window), and
 * shrinks by one after as many site failures, never below one.
 *
 * A site failure is a delivery whose agent said the next hop as a whole
 * failed (deliver_request.h: site_fail; smtp and lmtp: connection
 * refused, timeout, lost connection, a refusing greeting, ...).  Each adds
 * 1/window to the destination's failed cohorts; when they reach
 * TRANSPORT_destination_concurrency_failed_cohort_limit
 * (default_destination_concurrency_failed_cohort_limit, 1; 0: never) the
 * destination is dead: window 0, with the agent's status and the reason
 * "delivery temporarily suspended: REASON".  qmgr_deliver.c then defers
 * its waiting jobs (qmgr_queue_take_jobs), and every recipient routed to
 * it later, at once with that status, without asking the agent.
 *
 * A dead destination comes back after minimal_backoff_time (Postfix's
 * qmgr_queue_unthrottle() timer, here counted from the start of the
 * second it died in: the mail deferred for it is due at a whole second,
 * not earlier, and must find it back) with its initial window, so each
 * retry period costs about a window of attempts.  A delivery that ends
 * without a site failure (one that was running when the destination
 * died) revives it at once, as does a flush (qmgr_queue_enable_all()).
 * Unlike Postfix, which forgets the failures of a destination whose
 * in-core queue empties, an idle destination keeps them for
 * minimal_backoff_time, so that failures of mail arriving one message at
 * a time add up as well.
 *
 * Parameters: initial_destination_concurrency and
 * default_destination_concurrency_failed_cohort_limit (with their
 * TRANSPORT_ variants), default_destination_concurrency_limit,
 * minimal_backoff_time.
 */
#include "sys_defs.h"
#include <limits.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "clock.h"
#include "htable.h"
#include "mail_conf.h"
#include "qmgr.h"

static HTABLE *qmgr_queue_table;	/* every destination, by its key */
static QMGR_QUEUE *qmgr_queues;		/* the same, as a list */
static QMGR_QUEUE *qmgr_queue_ring;	/* cursor: the next to take a job from */

/*
 * qmgr_queue_param - NAME as an int, or DEFVAL when neither main.cf nor
 * the parameter table knows it
 */
static int qmgr_queue_param(const char *name, int defval)
{
    return (conf_raw(name) ? conf_int(name) : defval);
}

/*
 * qmgr_queue_transport_param - TRANSPORT_NAME where it is set or declared,
 * else DEFAULT_NAME (Postfix's per-transport overrides), else DEFVAL
 */
static int qmgr_queue_transport_param(const char *transport, const char *name,
				              const char *default_name, int defval)
{
    VSTRING *buf = vstring_alloc(80);
    int     value;

    vstring_sprintf(buf, "%s_%s", transport, name);
    if (conf_raw(STR(buf)))
	value = conf_int(STR(buf));
    else
	value = qmgr_queue_param(default_name, defval);
    vstring_free(buf);
    return (value);
}

/* qmgr_queue_limit - the most deliveries a destination may run at once */

static int qmgr_queue_limit(void)
{
    return (conf_int("default_destination_concurrency_limit"));
}

/* qmgr_queue_delay_ms - minimal_backoff_time for a timer */

static int qmgr_queue_delay_ms(void)
{
    int     seconds = conf_time("minimal_backoff_time");

    return (seconds > INT_MAX / 1000 ? INT_MAX : seconds * 1000);
}

/*
 * qmgr_queue_retry_ms - minimal_backoff_time counted from the start of
 * this second: a message deferred for a dead destination is due at a
 * whole second (its file's mtime) no earlier than that, so the
 * destination is back before its mail is (else that mail is deferred
 * once more without a try)
 */
static int qmgr_queue_retry_ms(void)
{
    struct timeval now;
    int     delay = qmgr_queue_delay_ms();

    clock_gettimeofday(&now);
    if (delay < INT_MAX)
	delay -= (int) (now.tv_usec / 1000);
    return (delay > 0 ? delay : 0);
}

/* qmgr_queue_key - KEY for TRANSPORT and NEXTHOP: see QMGR_QUEUE */

static VSTRING *qmgr_queue_key(VSTRING *key, const char *transport,
			               const char *nexthop)
{
    vstring_lowercase(vstring_strcpy(key, nexthop));
    vstring_addch(key, 0);
    return (vstring_strcat(key, transport));
}

QMGR_QUEUE *qmgr_queue_find(const char *transport, const char *nexthop)
{
    static VSTRING *key;
    HTABLE_INFO *info;

    if (qmgr_queue_table == 0)
	return (0);
    if (key == 0)
	key = vstring_alloc(100);
    qmgr_queue_key(key, transport, nexthop);
    info = htable_locate_len(qmgr_queue_table, STR(key), LEN(key));
    return (info ? (QMGR_QUEUE *) info->value : 0);
}

/* qmgr_queue_enter - QUEUE goes in the table and the list */

static void qmgr_queue_enter(QMGR_QUEUE *queue)
{
    VSTRING *key = vstring_alloc(100);

    qmgr_queue_key(key, queue->transport, queue->nexthop);
    queue->key_len = LEN(key);
    queue->key = vstring_export(key);
    if (qmgr_queue_table == 0)
	qmgr_queue_table = htable_create(100);
    htable_enter_len(qmgr_queue_table, queue->key, queue->key_len, queue);
    if ((queue->next = qmgr_queues) != 0)
	queue->next->prev = queue;
    qmgr_queues = queue;
}

QMGR_QUEUE *qmgr_queue_create(const char *transport, const char *nexthop)
{
    QMGR_QUEUE *queue = mycalloc(1, sizeof(*queue));
    int     limit = qmgr_queue_limit();

    queue->transport = mystrdup(transport);
    queue->nexthop = mystrdup(nexthop);
    queue->init_window = qmgr_queue_transport_param(transport,
				    "initial_destination_concurrency",
				    "initial_destination_concurrency", 5);
    if (queue->init_window > limit)
	queue->init_window = limit;
    if (queue->init_window < 1)
	queue->init_window = 1;
    queue->window = queue->init_window;
    queue->cohort_limit = qmgr_queue_transport_param(transport,
			   "destination_concurrency_failed_cohort_limit",
			   "default_destination_concurrency_failed_cohort_limit", 1);
    qmgr_queue_enter(queue);
    return (queue);
}

static void qmgr_queue_timer(int event, void *context);

/* qmgr_queue_free - forget QUEUE */

static void qmgr_queue_free(QMGR_QUEUE *queue)
{
    if (queue->busy > 0 || queue->todo > 0 || QMGR_QUEUE_DEAD(queue))
	msg_panic("qmgr_queue_free: %s:%s is %s", queue->transport,
		  queue->nexthop, queue->busy > 0 ? "busy" :
		  queue->todo > 0 ? "not empty" : "dead");
    event_cancel_timer(qmgr_queue_timer, queue);
    htable_delete_len(qmgr_queue_table, queue->key, queue->key_len);
    if (queue->prev)
	queue->prev->next = queue->next;
    else
	qmgr_queues = queue->next;
    if (queue->next)
	queue->next->prev = queue->prev;
    myfree(queue->key);
    myfree(queue->transport);
    myfree(queue->nexthop);
    myfree(queue);
}

/* qmgr_queue_ring_add - QUEUE joins the ring, last in the current round */

static void qmgr_queue_ring_add(QMGR_QUEUE *queue)
{
    QMGR_QUEUE *first = qmgr_queue_ring;

    if (first == 0) {
	queue->ring_next = queue->ring_prev = queue;
	qmgr_queue_ring = queue;
	return;
    }
    queue->ring_next = first;
    queue->ring_prev = first->ring_prev;
    first->ring_prev->ring_next = queue;
    first->ring_prev = queue;
}

/* qmgr_queue_ring_del - QUEUE leaves the ring */

static void qmgr_queue_ring_del(QMGR_QUEUE *queue)
{
    if (queue->ring_next == queue) {
	qmgr_queue_ring = 0;
    } else {
	queue->ring_prev->ring_next = queue->ring_next;
	queue->ring_next->ring_prev = queue->ring_prev;
	if (qmgr_queue_ring == queue)
	    qmgr_queue_ring = queue->ring_next;
    }
    queue->ring_next = queue->ring_prev = 0;
}

/*
 * qmgr_queue_update - after a change of QUEUE's jobs, busy count or
 * window: it is in the ring when jobs wait and its window has room
 */
static void qmgr_queue_update(QMGR_QUEUE *queue)
{
    int     ready = queue->todo > 0 && queue->busy < queue->window;

    if (ready && queue->ring_next == 0)
	qmgr_queue_ring_add(queue);
    else if (!ready && queue->ring_next != 0)
	qmgr_queue_ring_del(queue);
}

void    qmgr_queue_add_job(QMGR_QUEUE *queue, QMGR_JOB *job)
{
    if (QMGR_QUEUE_DEAD(queue))
	msg_panic("qmgr_queue_add_job: %s:%s is dead",
		  queue->transport, queue->nexthop);
    job->queue = queue;
    job->next = 0;
    if (queue->todo_tail)
	queue->todo_tail->next = job;
    else
	queue->todo_head = job;
    queue->todo_tail = job;
    queue->todo++;
    qmgr_queue_update(queue);
}

/* qmgr_queue_unlink_job - unlink QUEUE's first waiting job */

static QMGR_JOB *qmgr_queue_unlink_job(QMGR_QUEUE *queue)
{
    QMGR_JOB *job = queue->todo_head;

    if ((queue->todo_head = job->next) == 0)
	queue->todo_tail = 0;
    job->next = 0;
    queue->todo--;
    return (job);
}

QMGR_JOB *qmgr_queue_next_job(void)
{
    QMGR_QUEUE *queue;
    QMGR_JOB *job;

    if ((queue = qmgr_queue_ring) == 0)
	return (0);
    qmgr_queue_ring = queue->ring_next;		/* the next one's turn */
    job = qmgr_queue_unlink_job(queue);
    queue->busy++;
    qmgr_queue_update(queue);
    return (job);
}

QMGR_JOB *qmgr_queue_take_jobs(QMGR_QUEUE *queue)
{
    QMGR_JOB *jobs = queue->todo_head;

    queue->todo_head = queue->todo_tail = 0;
    queue->todo = 0;
    qmgr_queue_update(queue);
    return (jobs);
}

/* qmgr_queue_revive - a dead destination gets another chance */

static void qmgr_queue_revive(QMGR_QUEUE *queue)
{
    event_cancel_timer(qmgr_queue_timer, queue);
    myfree(queue->dsn);
    myfree(queue->reason);
    queue->dsn = queue->reason = 0;
    /* Back from the almost grave, as Postfix: anyone's guess */
    queue->window = queue->busy > 0 ? queue->busy : queue->init_window;
    queue->success = queue->failure = queue->fail_cohorts = 0;
    qmgr_queue_update(queue);
}

/*
 * qmgr_queue_timer - a dead destination's retry time has come, or an
 * idle one has kept its failures long enough: revive it, and forget it
 * when nothing runs or waits
 */
static void qmgr_queue_timer(int event, void *context)
{
    QMGR_QUEUE *queue = context;

    if (QMGR_QUEUE_DEAD(queue))
	qmgr_queue_revive(queue);
    if (queue->busy == 0 && queue->todo == 0)
	qmgr_queue_free(queue);
}

/* qmgr_queue_grow - positive feedback: the window may grow */

static void qmgr_queue_grow(QMGR_QUEUE *queue)
{
    int     limit = qmgr_queue_limit();
    double  feedback;

    if (queue->window >= limit || queue->window >= queue->busy + queue->init_window)
	return;
    feedback = 1.0 / queue->window;
    queue->success += feedback;
    while (queue->success + feedback / 2 >= 1) {
	queue->window++;
	queue->success -= 1;
	queue->failure = 0;
    }
    if (queue->window > limit)
	queue->window = limit;
}

void    qmgr_queue_unthrottle(QMGR_QUEUE *queue)
{
    if (QMGR_QUEUE_DEAD(queue)) {
	qmgr_queue_revive(queue);
	return;
    }
    queue->fail_cohorts = 0;
    qmgr_queue_grow(queue);
    qmgr_queue_update(queue);
}

/* qmgr_queue_shrink - negative feedback: the window may shrink, not below 1 */

static void qmgr_queue_shrink(QMGR_QUEUE *queue)
{
    double  feedback = 1.0 / queue->window;

    queue->failure -= feedback;
    while (queue->failure - feedback / 2 < 0) {
	queue->window--;
	queue->success = 0;
	queue->failure += 1;
    }
    if (queue->window < 1)
	queue->window = 1;
}

/* qmgr_queue_kill - QUEUE is dead until its retry time */

static void qmgr_queue_kill(QMGR_QUEUE *queue, const char *dsn, const char *reason)
{
    queue->window = 0;
    queue->dsn = mystrdup(dsn);
    queue->reason = mystrdup(reason);
    event_request_timer(qmgr_queue_timer, queue, qmgr_queue_retry_ms());
}

void    qmgr_queue_throttle(QMGR_QUEUE *queue, const char *dsn, const char *reason)
{
    if (QMGR_QUEUE_DEAD(queue))
	return;					/* another delivery killed it */
    queue->fail_cohorts += 1.0 / queue->window;
    if (queue->cohort_limit > 0 && queue->fail_cohorts >= queue->cohort_limit)
	qmgr_queue_kill(queue, dsn, reason);
    else
	qmgr_queue_shrink(queue);
    qmgr_queue_update(queue);
}

/*
 * qmgr_queue_idle - QUEUE may have nothing to do: keep its failures for
 * minimal_backoff_time, else forget it
 */
static void qmgr_queue_idle(QMGR_QUEUE *queue)
{
    if (queue->busy > 0 || queue->todo > 0 || QMGR_QUEUE_DEAD(queue))
	return;
    if (queue->fail_cohorts > 0)
	event_request_timer(qmgr_queue_timer, queue, qmgr_queue_delay_ms());
    else
	qmgr_queue_free(queue);
}

void    qmgr_queue_release(QMGR_QUEUE *queue)
{
    if (queue->busy <= 0)
	msg_panic("qmgr_queue_release: %s:%s is not busy",
		  queue->transport, queue->nexthop);
    queue->busy--;
    qmgr_queue_update(queue);
    qmgr_queue_idle(queue);
}

void    qmgr_queue_enable_all(void)
{
    QMGR_QUEUE *next;

    for (QMGR_QUEUE *queue = qmgr_queues; queue; queue = next) {
	next = queue->next;
	if (!QMGR_QUEUE_DEAD(queue))
	    continue;
	qmgr_queue_revive(queue);
	if (queue->busy == 0 && queue->todo == 0)
	    qmgr_queue_free(queue);
    }
}
