/*
 * postsuper.h - the parts of postsuper (postsuper.c, postsuper_op.c,
 * postsuper_direct.c, postsuper_repair.c).
 *
 * A run is a list of steps in command-line order (PS_STEP: one option
 * letter with its ids or ALL; the ids of "-" go in batches between the
 * names that are no queue ids), done by qmgr over the queue-control
 * protocol, or on the files directly when qmgr is not running.  The
 * counts end in Postfix's report lines ("Deleted: 2 messages").
 */
#ifndef POSTSUPER_H
#define POSTSUPER_H

#include "sys_defs.h"

/* One kind of operation: an option letter and what it is called */
typedef struct PS_OP {
    int     letter;			/* d e f h H r */
    const char *request;		/* queue-control request */
    const char *text;			/* per message: "removed" */
} PS_OP;

/* One step: an operation on named ids, or on ALL */
typedef struct PS_STEP {
    const PS_OP *op;
    int     all;			/* ALL */
    char  **ids;			/* well-formed Posthorn queue ids */
    int     id_count;
} PS_STEP;

/* What was done, for the report */
typedef struct PS_COUNTS {
    long    requeued;
    long    deleted;
    long    expired;
    long    held;
    long    released;
} PS_COUNTS;

/* The message queues by name; QUEUES lists the ones to work on */
#define PS_MAX_QUEUES	16

/* postsuper_op.c */
/* ps_step_run - one step, through qmgr unless it is down; adds to COUNTS */
void	ps_step_run(const PS_STEP *step, const char *const *queues, PS_COUNTS *counts);

/* postsuper_direct.c: qmgr is down; print/log "ID: text" per message */
void	ps_direct_run(const PS_STEP *step, const char *const *queues, PS_COUNTS *counts);
/* ps_direct_maildrop - delete ID (NULL: all) from maildrop/; the count */
long	ps_direct_maildrop(const char *id);
/* ps_locked - someone holds the lock on FD */
int	ps_locked(int fd);

/* postsuper_repair.c: -s (STRUCT) and -p (PURGE) on QUEUES */
#define PS_REPAIR_STRUCT	(1<<0)
#define PS_REPAIR_PURGE		(1<<1)
void	ps_repair(const char *const *queues, int actions);

/* ps_in_list - NAME is in the null-terminated LIST */
int	ps_in_list(const char *name, const char *const *list);

#endif
