/*
 * queue_control.h - client side of the qmgr queue-control protocol.
 *
 * Used by postqueue (-f, -s, -i) and postsuper (-d, -e, -f, -h, -H, -r).
 * The client connects to public/qmgr, writes QMGR_REQ_CONTROL ('C') and
 * one attribute list:
 *   request  = delete | hold | release | requeue | expire | expire_release
 *              | flush | flush_site | flush_id
 *   queue_id = ID or ALL (repeatable)
 *   queue    = incoming | active | deferred | hold (repeatable: the ids
 *              are looked for in these queues only; none: all four)
 *   site     = domain (flush_site)
 * and reads one attribute list back:
 *   status   = 0 ok, else failure (reason)
 *   count    = messages affected (expire_release: messages expired)
 *   released = expire_release: messages also released from hold
 *   done     = "ID: what happened" (repeatable, in order) for each message
 *              named by its id; none for ALL, as Postfix's postsuper prints
 *              no per-message lines for ALL
 *   reason   = why the request failed
 * qmgr performs the change itself, so no tool edits a file that qmgr
 * owns.  Only root and mail_owner may ask for anything but the flushes.
 *
 * expire marks a queue file as Postfix 3.5+ does: the group execute bit
 * (QUEUE_CONTROL_STAT_EXPIRE) on a complete file.  qmgr returns such a
 * message to its sender the next time it tries to deliver it;
 * expire_release also moves it out of hold/.
 */
#ifndef QUEUE_CONTROL_H
#define QUEUE_CONTROL_H

#include "sys_defs.h"
#include "vstring.h"

#define QUEUE_CONTROL_OK	0	/* qmgr did it; the counts are valid */
#define QUEUE_CONTROL_REFUSED	1	/* qmgr answered with a failure (reason) */
#define QUEUE_CONTROL_DOWN	(-1)	/* cannot connect: qmgr is not running */
#define QUEUE_CONTROL_NOREPLY	(-2)	/* connected, but no (valid) reply */

/* The force-expired mark on a queue file (Postfix's MAIL_QUEUE_STAT_EXPIRE) */
#define QUEUE_CONTROL_STAT_EXPIRE	S_IXGRP

/* Queue ids per request: each may bring two "done" lines into the reply */
#define QUEUE_CONTROL_BATCH	200

/* QUEUE_CONTROL_FN - one "ID: text" line of the reply, in order */
typedef void (*QUEUE_CONTROL_FN) (const char *line, void *context);

typedef struct QUEUE_CONTROL_REPLY {
    long    count;			/* messages affected */
    long    released;			/* expire_release: released from hold */
    VSTRING *reason;			/* why it failed (caller's) */
    QUEUE_CONTROL_FN done;		/* NULL, or called per "done" line */
    void   *context;			/* passed to DONE */
} QUEUE_CONTROL_REPLY;

/*
 * queue_control - send REQUEST with NIDS queue ids (may be 0), the queues
 * QUEUES (a null-terminated list, or NULL: all) and SITE (NULL: none),
 * in batches of QUEUE_CONTROL_BATCH ids; the counts of the batches are
 * added into REPLY.  A failure ends the run: the batches before it were
 * done (and counted).
 */
int	queue_control(const char *request, char **ids, int nids,
		              const char *const *queues, const char *site,
		              QUEUE_CONTROL_REPLY *reply);

/*
 * queue_control_expire_file - give the complete queue file ID in QUEUE
 * the force-expired mark (opened with safe_open(): no link, one hard
 * link); 1 done, 0 not a complete queue file, marked already, or gone;
 * -1 failed (warned).  For qmgr, and for postsuper while qmgr is down.
 */
int	queue_control_expire_file(const char *queue, const char *id);

#endif
