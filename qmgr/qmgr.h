/*
 * qmgr.h - the queue manager's internal interfaces.
 *
 * A message is "active" while its file is in active/ and a QMGR_MESSAGE
 * is in memory.  Its recipients that are not yet done are routed
 * (qmgr_message.c, lib/tables/resolve.h), grouped into delivery jobs per
 * destination (transport, next hop), which wait in that destination's
 * queue (qmgr_queue.c) until qmgr_deliver.c sends them, and each gets one
 * answer.  When every recipient has
 * an answer the message is removed or moved to deferred/ with a retry
 * time (qmgr_defer.c).  qmgr_scan.c feeds incoming/ and deferred/ mail in,
 * within qmgr_message_active_limit and qmgr_message_recipient_limit.
 * qmgr_queue.c keeps each destination's concurrency window and whether it
 * is dead (its mail is then deferred without a delivery attempt).
 */
#ifndef QMGR_H
#define QMGR_H

#include "sys_defs.h"
#include "qfile.h"
#include "deliver_request.h"

#define QMGR_RCPT_PENDING	(-1)	/* no answer yet */
#define QMGR_RCPT_SKIP		(-2)	/* done before this attempt */

/*
 * env.rcpts holds one slice of the message's recipients (at most what is
 * left of qmgr_message_recipient_limit, at least
 * qmgr_message_recipient_minimum); the per-recipient arrays below are
 * that slice's.  env.rcpt_offset is where the next slice starts in the
 * file (0: this is the last one).
 */
typedef struct QMGR_MESSAGE {
    char   *id;
    QENV    env;
    DELIVER_STATS stats;		/* arrival, active entry */
    int    *rcpt_status;		/* per env.rcpts: QMGR_RCPT_* or DELIVER_STAT_* */
    int     unanswered;			/* recipients still waiting for an answer */
    int     deferred;			/* recipients deferred, all slices */
    int     returned;			/* deferred ones bounced as expired */
    struct DEFER_LOG *expire_log;	/* force-expired: the last defer/ID */
    char  **rcpt_dsn;			/* per env.rcpts: last status code or NULL */
    char  **rcpt_relay;			/* per env.rcpts: last relay or NULL */
    char  **rcpt_reason;		/* per env.rcpts: last reason or NULL */
    int     after;			/* QMGR_AFTER_*: queue control when finished */
    int     expired;			/* force-expired (postsuper -e): return it */
    int     verify;			/* sendmail -bv: report, do not deliver */
    int     defer_log_old;		/* defer/ID is a former attempt's: the
					 * first deferral replaces it */
    struct QMGR_MESSAGE *next;		/* list of active messages */
    struct QMGR_MESSAGE *prev;
} QMGR_MESSAGE;

/* Queue control requests for a message that is being delivered */
#define QMGR_AFTER_NONE		0
#define QMGR_AFTER_DELETE	1	/* remove it when its deliveries end */
#define QMGR_AFTER_HOLD		2	/* move it to hold/ */
#define QMGR_AFTER_REQUEUE	3	/* move it to incoming/ */

typedef struct QMGR_JOB {
    QMGR_MESSAGE *message;
    char   *transport;			/* agent at private/TRANSPORT */
    char   *nexthop;			/* destination: "[host]:port", domain */
    struct QMGR_QUEUE *queue;		/* its destination (qmgr_deliver_add) */
    int     rcpt_count;
    int     rcpt_index[DELIVER_MAX_RCPT];	/* indexes into env.rcpts */
    struct QMGR_JOB *next;		/* the destination's waiting jobs */
} QMGR_JOB;

/* qmgr_message.c: queue-file removals in flight */
int	qmgr_message_busy(void);

/* qmgr_scan.c */
typedef struct QMGR_IDS {
    char  **ids;
    int     count;
} QMGR_IDS;
void	qmgr_scan_ids(const char *queue, QMGR_IDS *ids);
void	qmgr_scan_ids_free(QMGR_IDS *ids);
void	qmgr_recover_active(void);
void	qmgr_scan_incoming(void);
void	qmgr_scan_incoming_later(int seconds);
/* qmgr_scan_room - a message left memory: go on with a pass the limits stopped */
void	qmgr_scan_room(void);
int	qmgr_activate(const char *id, const char *from_queue);
/* qmgr_move_corrupt - keep a bad file of QUEUE in corrupt/ (WHY logged) */
void	qmgr_move_corrupt(const char *id, const char *queue, const char *why);
/* qmgr_queue_stat - 0 when ID in QUEUE is a regular file (stat in ST) */
int	qmgr_queue_stat(const char *queue, const char *id, VSTRING *path,
			        struct stat *st);

/* qmgr_message.c */
extern int qmgr_message_count;		/* messages in memory */
extern int qmgr_recipient_count;	/* their recipients */
/* qmgr_message_create - a message from ENV as qfile_read_header() left it */
QMGR_MESSAGE *qmgr_message_create(const char *id, QENV *env);
/*
 * qmgr_message_start - reset defer/ID, read the first slice, route it;
 * 0, or -1: the file went to corrupt/ and MESSAGE is freed
 */
int	qmgr_message_start(QMGR_MESSAGE *message);
/* qmgr_message_result - one recipient's answer (DSN, RELAY, REASON may be NULL) */
void	qmgr_message_result(QMGR_MESSAGE *message, int index, int status,
			            const char *relay, const char *dsn,
			            const char *reason);
int	qmgr_message_active(const char *id);
QMGR_MESSAGE *qmgr_message_find(const char *id);

/* qmgr_bounce.c */
/* qmgr_bounce_log - record a failed recipient in bounce/ID; 0 or -1 */
int	qmgr_bounce_log(QMGR_MESSAGE *message, int index, const char *relay,
			        const char *dsn, const char *reason);
/* qmgr_bounce_flush - the message is finished: send the bounce, if any; 0 or -1 (keep it) */
int	qmgr_bounce_flush(QMGR_MESSAGE *message);
/*
 * qmgr_bounce_expired - an old or force-expired message: bounce the
 * deferred recipients of the slice; how many
 */
int	qmgr_bounce_expired(QMGR_MESSAGE *message);
/* qmgr_bounce_delay - a delay warning (from defer/ID), when one is due */
void	qmgr_bounce_delay(QMGR_MESSAGE *message);
/* qmgr_bounce_defer_log - append the slice's deferrals to defer/ID */
void	qmgr_bounce_defer_log(QMGR_MESSAGE *message);
/* qmgr_bounce_trace - a recipient was sent (ACTION "delivered" or
 * "relayed"): noted in trace/ID when its NOTIFY asks for SUCCESS */
void	qmgr_bounce_trace(QMGR_MESSAGE *message, int index, const char *action,
			          const char *relay, const char *dsn,
			          const char *reason);
/* qmgr_bounce_trace_flush - send the success notice for what trace/ID
 * holds, and remove it; 0 or -1 (it stays, for the next time) */
int	qmgr_bounce_trace_flush(QMGR_MESSAGE *message);

/* qmgr_control.c */
/*
 * qmgr_control - take over FD (the 'C' was read): collect the request in
 * the event loop, answer it, close FD (event_server_disconnect)
 */
void	qmgr_control(int fd);

/* qmgr_defer.c */
void	qmgr_defer_rcpt(QMGR_MESSAGE *message, int index, const char *relay,
		                const char *dsn, const char *reason);
void	qmgr_defer_message(QMGR_MESSAGE *message);
void	qmgr_scan_deferred(int all);
void	qmgr_deferred_timer_start(void);

/*
 * qmgr_queue.c: a destination, one (transport, nexthop) pair, with its
 * waiting jobs; those with waiting jobs and room in their window form a
 * ring that qmgr_queue_next_job() goes round
 */
typedef struct QMGR_QUEUE {
    char   *transport;
    char   *nexthop;
    char   *key;			/* nexthop in lower case, NUL, transport */
    size_t  key_len;
    int     busy;			/* deliveries in progress */
    int     window;			/* deliveries allowed at once; 0: dead */
    int     init_window;		/* initial_destination_concurrency */
    int     cohort_limit;		/* ..._failed_cohort_limit (0: none) */
    double  success;			/* positive feedback so far */
    double  failure;			/* negative feedback so far */
    double  fail_cohorts;		/* site failures / window, since a success */
    char   *dsn;			/* dead: the status for its recipients */
    char   *reason;			/* dead: "delivery temporarily
					 * suspended: ..." */
    QMGR_JOB *todo_head;		/* waiting jobs, first in first out */
    QMGR_JOB *todo_tail;
    int     todo;			/* how many */
    struct QMGR_QUEUE *ring_next;	/* the ring of destinations with */
    struct QMGR_QUEUE *ring_prev;	/* waiting jobs and room (else NULL) */
    struct QMGR_QUEUE *next;		/* every destination in memory */
    struct QMGR_QUEUE *prev;
} QMGR_QUEUE;

#define QMGR_QUEUE_DEAD(q)	((q)->window == 0)

QMGR_QUEUE *qmgr_queue_find(const char *transport, const char *nexthop);
QMGR_QUEUE *qmgr_queue_create(const char *transport, const char *nexthop);
/* qmgr_queue_add_job - JOB waits for QUEUE (which must not be dead) */
void	qmgr_queue_add_job(QMGR_QUEUE *queue, QMGR_JOB *job);
/*
 * qmgr_queue_next_job - the first waiting job of the next destination in
 * the ring (round robin), unlinked and counted busy; NULL when none
 */
QMGR_JOB *qmgr_queue_next_job(void);
/* qmgr_queue_take_jobs - unlink and return QUEUE's waiting jobs (a list) */
QMGR_JOB *qmgr_queue_take_jobs(QMGR_QUEUE *queue);
/* qmgr_queue_throttle - a delivery ended with a site failure (DSN, REASON) */
void	qmgr_queue_throttle(QMGR_QUEUE *queue, const char *dsn, const char *reason);
/* qmgr_queue_unthrottle - a delivery ended without one (revives a dead one) */
void	qmgr_queue_unthrottle(QMGR_QUEUE *queue);
/*
 * qmgr_queue_release - a job taken by qmgr_queue_next_job() is done with
 * (after the feedback, if any); may free QUEUE
 */
void	qmgr_queue_release(QMGR_QUEUE *queue);
/* qmgr_queue_enable_all - revive every dead destination (a flush) */
void	qmgr_queue_enable_all(void);

/* qmgr_deliver.c */
/* qmgr_deliver_add - queue JOB; a dead destination defers it at once */
void	qmgr_deliver_add(QMGR_JOB *job);
void	qmgr_job_free(QMGR_JOB *job);
void	qmgr_deliver_pump(void);
/* qmgr_deliver_busy - deliveries are in progress */
int	qmgr_deliver_busy(void);

#endif
