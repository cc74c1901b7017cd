/*
 * qmgr_deliver.c - talking to the delivery agents.
 *
 * Jobs (a message, a transport, a next hop and some of the message's
 * recipients) wait with their destination (qmgr_queue.c: one FIFO per
 * (transport, nexthop)).  qmgr_deliver_pump() starts jobs while fewer than
 * default_process_limit deliveries run: each time it takes the next job
 * of the next destination that has jobs waiting and room in its window
 * (qmgr_queue_next_job(): destinations take turns, round robin), so a
 * delivery costs O(1) whatever the number of jobs, and a big destination
 * does not hold the others back.  For each job it connects to the
 * transport's agent at private/TRANSPORT (master.cf service name, as
 * Postfix), sends one request (deliver_request.h), and waits in the event
 * loop for the replies, one per recipient, in order.  If the agent cannot
 * be reached, drops the connection, or stays silent for ipc_timeout
 * seconds, every recipient still without an answer is deferred (and
 * logged here, since the agent could not log it).  A request says
 * DELIVER_FLAG_CONN_STORE when more mail for its destination waits or is
 * being delivered, so that smtp and lmtp keep the connection open for it
 * (their connection cache, smtp/smtp_cache.c).
 *
 * When all replies are in, the destination learns how it went: a
 * deferral the agent marked as a failure of the whole next hop
 * (site_fail) counts against it (qmgr_queue_throttle), anything else for
 * it.  When that kills the destination, its waiting jobs are deferred at
 * once, logged here with relay=none and Postfix's reason "delivery
 * temporarily suspended: REASON", and so is every job added for it until
 * it comes back (qmgr_deliver_add), as Postfix's qmgr_defer_todo().
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "events.h"
#include "iostuff.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "qmgr.h"

#define QMGR_CONNECT_TIMEOUT	10	/* seconds for connect() to the agent */
#define QMGR_WRITE_TIMEOUT	60	/* seconds to send a request */
#define QMGR_REPLY_TIMEOUT	60	/* seconds to finish a reply once it starts */

#define QMGR_SUSPENDED	"delivery temporarily suspended: "

typedef struct QMGR_CONN {
    int     fd;
    QMGR_QUEUE *queue;			/* the job's destination */
    VSTREAM *stream;
    QMGR_JOB *job;
    int     next;			/* next reply expected, index into job */
    char   *site_dsn;			/* a site failure: its status, */
    char   *site_reason;		/* and its reason (else NULL) */
} QMGR_CONN;

static int qmgr_conn_count;		/* deliveries in progress */

static void qmgr_pump_event(int event, void *context)
{
    qmgr_deliver_pump();
}

void    qmgr_job_free(QMGR_JOB *job)
{
    myfree(job->transport);
    myfree(job->nexthop);
    myfree(job);
}

static void qmgr_job_fail(QMGR_JOB *job, int from, const char *dsn,
			          const char *reason);

void    qmgr_deliver_add(QMGR_JOB *job)
{
    QMGR_QUEUE *queue = qmgr_queue_find(job->transport, job->nexthop);

    if (queue == 0)
	queue = qmgr_queue_create(job->transport, job->nexthop);
    if (QMGR_QUEUE_DEAD(queue)) {
	qmgr_job_fail(job, 0, queue->dsn, queue->reason);
	return;
    }
    qmgr_queue_add_job(queue, job);
    event_request_timer(qmgr_pump_event, 0, 0);
}

/* qmgr_job_fail - defer recipients FROM.. of JOB (DSN, REASON), free it */

static void qmgr_job_fail(QMGR_JOB *job, int from, const char *dsn,
			          const char *reason)
{
    QMGR_MESSAGE *message = job->message;
    int     count = job->rcpt_count;
    int     index[DELIVER_MAX_RCPT];

    /* The message may be freed with its last answer: copy what we need */
    memcpy(index, job->rcpt_index, sizeof(index));
    qmgr_job_free(job);
    for (int i = from; i < count; i++)
	qmgr_defer_rcpt(message, index[i], "none", dsn, reason);
}

/*
 * qmgr_deliver_suspend - QUEUE died: defer its waiting jobs now (unlinked
 * first: a deferral may finish a message, and that may add jobs, which
 * the dead destination defers at once)
 */
static void qmgr_deliver_suspend(QMGR_QUEUE *queue)
{
    QMGR_JOB *job, *next;

    for (job = qmgr_queue_take_jobs(queue); job; job = next) {
	next = job->next;
	qmgr_job_fail(job, 0, queue->dsn, queue->reason);
    }
}

/*
 * qmgr_conn_feedback - the agent answered every recipient: a site failure
 * counts against the destination (which may die: then its waiting jobs
 * are deferred), anything else for it
 */
static void qmgr_conn_feedback(QMGR_CONN *conn)
{
    QMGR_QUEUE *queue = conn->queue;
    VSTRING *reason;

    if (conn->site_reason == 0) {
	qmgr_queue_unthrottle(queue);
	return;
    }
    if (QMGR_QUEUE_DEAD(queue))
	return;
    reason = vstring_alloc(100);
    vstring_sprintf(reason, "%s%s", QMGR_SUSPENDED,
		    *conn->site_reason ? conn->site_reason : "unknown error");
    qmgr_queue_throttle(queue, conn->site_dsn, STR(reason));
    if (QMGR_QUEUE_DEAD(queue))
	qmgr_deliver_suspend(queue);
    vstring_free(reason);
}

/*
 * qmgr_conn_site - REPLY is the first deferral for a failure of the whole
 * next hop: remember it (a status that is no 4.x.y becomes 4.0.0)
 */
static void qmgr_conn_site(QMGR_CONN *conn, const DELIVER_REPLY *reply)
{
    const char *dsn = reply->dsn;

    if (!reply->site_fail || conn->site_reason)
	return;
    if (dsn[0] != '4' || dsn[1] != '.' || strlen(dsn) > 15)
	dsn = "4.0.0";
    conn->site_dsn = mystrdup(dsn);
    conn->site_reason = mystrdup(reply->reason);
}

/* qmgr_conn_close - end one delivery; REASON defers unanswered recipients */

static void qmgr_conn_event(int event, void *context);

static void qmgr_conn_close(QMGR_CONN *conn, const char *reason)
{
    event_disable_readwrite(conn->fd);
    event_cancel_timer(qmgr_conn_event, conn);
    vstream_close(conn->stream);
    qmgr_conn_count--;
    if (reason == 0)
	qmgr_conn_feedback(conn);
    qmgr_queue_release(conn->queue);
    if (conn->next < conn->job->rcpt_count)
	qmgr_job_fail(conn->job, conn->next, "4.3.0", reason ? reason :
		      "unknown mail transport error");
    else
	qmgr_job_free(conn->job);
    if (conn->site_reason) {
	myfree(conn->site_dsn);
	myfree(conn->site_reason);
    }
    myfree(conn);
    event_request_timer(qmgr_pump_event, 0, 0);
}

/* qmgr_conn_reply - read one reply and record it; 0, or -1 to stop */

static int qmgr_conn_reply(QMGR_CONN *conn)
{
    DELIVER_REPLY reply;
    QMGR_JOB *job = conn->job;
    QMGR_MESSAGE *message;
    int     index;

    if (deliver_reply_get(conn->stream, &reply) < 0) {
	msg_warn("%s: lost connection with %s/%s: no reply for %d recipient(s)",
		 job->message->id, MAIL_CLASS_PRIVATE, job->transport,
		 job->rcpt_count - conn->next);
	qmgr_conn_close(conn, "unknown mail transport error");
	return (-1);
    }
    message = job->message;
    index = job->rcpt_index[conn->next++];
    qmgr_conn_site(conn, &reply);
    if (reply.status == DELIVER_STAT_OK && reply.action)
	qmgr_bounce_trace(message, index, reply.action, job->transport,
			  reply.dsn, reply.reason);
    if (conn->next == job->rcpt_count) {
	/* Close first: the result may finish and free the message */
	qmgr_conn_close(conn, 0);
	qmgr_message_result(message, index, reply.status, 0, reply.dsn, reply.reason);
	deliver_reply_free(&reply);
	return (-1);
    }
    qmgr_message_result(message, index, reply.status, 0, reply.dsn, reply.reason);
    deliver_reply_free(&reply);
    return (0);
}

/* qmgr_conn_event - replies are readable, or the agent took too long */

static void qmgr_conn_event(int event, void *context)
{
    QMGR_CONN *conn = context;

    if (event == EVENT_TIME) {
	msg_warn("%s: timeout waiting for %s/%s",
		 conn->job->message->id, MAIL_CLASS_PRIVATE, conn->job->transport);
	qmgr_conn_close(conn, "delivery agent timed out");
	return;
    }
    do {
	if (qmgr_conn_reply(conn) < 0)
	    return;
    } while (vstream_peek(conn->stream) > 0);
}

/* qmgr_attr_or_empty - a queue file attribute, "" when absent */

static char *qmgr_attr_or_empty(const QENV *env, const char *name)
{
    const char *value = qenv_attr(env, name);

    return ((char *) (value ? value : ""));
}

/* qmgr_job_request - the request for JOB */

static void qmgr_job_request(QMGR_JOB *job, DELIVER_REQUEST *req, DELIVER_RCPT *rcpts)
{
    QMGR_MESSAGE *message = job->message;

    memset(req, 0, sizeof(*req));
    memset(rcpts, 0, job->rcpt_count * sizeof(*rcpts));
    req->queue_name = (char *) MAIL_QUEUE_ACTIVE;
    req->queue_id = message->id;
    req->content_offset = (long) message->env.content_offset;
    req->content_size = message->env.content_size;
    req->sender = message->env.sender;
    req->nexthop = job->nexthop;
    req->dsn_envid = qmgr_attr_or_empty(&message->env, "dsn_envid");
    req->dsn_ret = qmgr_attr_or_empty(&message->env, "dsn_ret");
    req->smtputf8 = (qenv_attr(&message->env, "smtputf8") != 0);
    req->stats = message->stats;
    clock_gettimeofday(&req->stats.handoff);
    req->rcpt_count = job->rcpt_count;
    req->rcpts = rcpts;
    for (int i = 0; i < job->rcpt_count; i++) {
	QRCPT  *rcpt = message->env.rcpts + job->rcpt_index[i];

	rcpts[i].address = rcpt->address;
	rcpts[i].orig = rcpt->orig ? rcpt->orig : (char *) "";
	rcpts[i].offset = (long) rcpt->offset;
	rcpts[i].dsn_notify = rcpt->dsn_notify ? rcpt->dsn_notify : (char *) "";
	rcpts[i].dsn_orcpt = rcpt->dsn_orcpt ? rcpt->dsn_orcpt : (char *) "";
    }
}

/*
 * qmgr_job_more - more mail for QUEUE than the job being started: a job
 * waits for it, or another delivery to it runs (Postfix's "high volume
 * of mail in the active queue", for smtp_connection_cache_on_demand)
 */
static int qmgr_job_more(const QMGR_QUEUE *queue)
{
    return (queue->todo > 0 || queue->busy > 1);
}

/*
 * qmgr_deliver_start - connect, send the request, wait for replies (JOB
 * is counted busy with its destination: qmgr_queue_next_job)
 */
static void qmgr_deliver_start(QMGR_JOB *job)
{
    char    path[100];
    DELIVER_REQUEST req;
    DELIVER_RCPT rcpts[DELIVER_MAX_RCPT];
    VSTRING *why = vstring_alloc(100);
    QMGR_QUEUE *queue = job->queue;
    QMGR_CONN *conn;
    int     fd;

    mail_socket_path(path, sizeof(path), MAIL_CLASS_PRIVATE, job->transport);
    if ((fd = unix_connect(path, QMGR_CONNECT_TIMEOUT)) < 0) {
	vstring_sprintf(why, "delivery temporarily suspended: "
			"connect to transport %s: %s", path, strerror(errno));
	msg_warn("connect to transport %s: %s", path, strerror(errno));
	qmgr_job_fail(job, 0, "4.3.0", STR(why));
	qmgr_queue_release(queue);
	vstring_free(why);
	return;
    }
    close_on_exec(fd, 1);
    conn = mycalloc(1, sizeof(*conn));
    conn->fd = fd;
    conn->stream = vstream_fdopen(fd, O_RDWR);
    conn->job = job;
    conn->queue = queue;
    qmgr_conn_count++;
    vstream_set_timeout(conn->stream, QMGR_WRITE_TIMEOUT);
    qmgr_job_request(job, &req, rcpts);
    if (qmgr_job_more(queue))
	req.flags |= DELIVER_FLAG_CONN_STORE;
    if (deliver_request_put(conn->stream, &req) < 0) {
	msg_warn("%s: cannot send request to %s", job->message->id, path);
	qmgr_conn_close(conn, "lost connection with delivery agent");
    } else {
	vstream_set_timeout(conn->stream, QMGR_REPLY_TIMEOUT);
	event_enable_read(fd, qmgr_conn_event, conn);
	event_request_timer(qmgr_conn_event, conn, conf_time("ipc_timeout") * 1000);
    }
    vstring_free(why);
}

/*
 * qmgr_deliver_pump - start waiting jobs, one destination after another
 * (qmgr_queue_next_job: within each one's window), at most
 * default_process_limit in all
 */
void    qmgr_deliver_pump(void)
{
    int     total = conf_int("default_process_limit");
    QMGR_JOB *job;

    if (event_server_draining())
	return;					/* the next qmgr does them */
    while (qmgr_conn_count < total && (job = qmgr_queue_next_job()) != 0)
	qmgr_deliver_start(job);
}

int     qmgr_deliver_busy(void)
{
    return (qmgr_conn_count > 0);
}
