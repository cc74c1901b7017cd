/*
 * qmgr.h - the queue manager's internal interfaces.
 *
 * A message is "active" while its file is in active/ and a QMGR_MESSAGE
 * is in memory.  Its recipients that are not yet done are routed
 * (qmgr_message.c, lib/resolve.h), grouped into delivery jobs per
 * transport (qmgr_deliver.c), and each gets one answer.  When every recipient has
 * an answer the message is removed or moved to deferred/ with a retry
 * time (qmgr_defer.c).  qmgr_scan.c feeds incoming/ and deferred/ mail in.
 */
#ifndef QMGR_H
#define QMGR_H

#include "sys_defs.h"
#include "qfile.h"
#include "deliver_request.h"

#define QMGR_RCPT_PENDING	(-1)	/* no answer yet */
#define QMGR_RCPT_SKIP		(-2)	/* done before this attempt */

typedef struct QMGR_MESSAGE {
    char   *id;
    QENV    env;
    DELIVER_STATS stats;		/* arrival, active entry */
    int    *rcpt_status;		/* per env.rcpts: QMGR_RCPT_* or DELIVER_STAT_* */
    int     unanswered;			/* recipients still waiting for an answer */
    int     deferred;			/* recipients that were deferred */
    struct QMGR_MESSAGE *next;		/* list of active messages */
    struct QMGR_MESSAGE *prev;
} QMGR_MESSAGE;

typedef struct QMGR_JOB {
    QMGR_MESSAGE *message;
    char   *transport;			/* agent at private/TRANSPORT */
    int     rcpt_count;
    int     rcpt_index[DELIVER_MAX_RCPT];	/* indexes into env.rcpts */
    struct QMGR_JOB *next;
} QMGR_JOB;

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
void	qmgr_scan_room(void);
int	qmgr_activate(const char *id, const char *from_queue);
/* qmgr_queue_stat - 0 when ID in QUEUE is a regular file (stat in ST) */
int	qmgr_queue_stat(const char *queue, const char *id, VSTRING *path,
			        struct stat *st);

/* qmgr_message.c */
extern int qmgr_message_count;		/* messages in memory */
QMGR_MESSAGE *qmgr_message_create(const char *id, QENV *env);
void	qmgr_message_route(QMGR_MESSAGE *message);
void	qmgr_message_result(QMGR_MESSAGE *message, int index, int status);
int	qmgr_message_active(const char *id);

/* qmgr_defer.c */
void	qmgr_defer_rcpt(QMGR_MESSAGE *message, int index, const char *relay,
		                const char *dsn, const char *reason);
void	qmgr_defer_message(QMGR_MESSAGE *message);
void	qmgr_scan_deferred(int all);
void	qmgr_deferred_timer_start(void);

/* qmgr_deliver.c */
void	qmgr_deliver_add(QMGR_JOB *job);
void	qmgr_job_free(QMGR_JOB *job);
void	qmgr_deliver_pump(void);

#endif
