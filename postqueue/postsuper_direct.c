/*
 * postsuper_direct.c - postsuper steps on the queue files, qmgr being down.
 *
 * As Postfix's postsuper: a named id is looked for in the step's queues
 * (those given, else all) in Postfix's order, maildrop incoming active
 * deferred hold, and acted on where it is first found; ALL walks them.
 * What each operation may touch: -d maildrop, incoming, deferred, hold;
 * -e/-f incoming, active, deferred, hold (a mode bit only; -f also
 * releases from hold); -h incoming, deferred; -H hold; -r hold, deferred.
 * active/ is qmgr's even while it is down (qmgr puts what it finds there
 * back into incoming/ at start), so only -e marks files there.  A file
 * that someone holds a lock on (being written or delivered) is left
 * alone with a warning.  Each message named by its id is logged and
 * printed ("ID: placed on hold"); ALL only counts, as Postfix's.
 * ps_direct_maildrop() also serves -d in maildrop/ while qmgr runs.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <sys/file.h>
#include <utime.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_queue.h"
#include "defer_log.h"
#include "queue_control.h"
#include "postsuper.h"

static const char *ps_direct_queues[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
    MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

static const PS_OP ps_delete_op = {'d', "delete", "removed"};

int     ps_locked(int fd)
{
    return (flock(fd, LOCK_EX | LOCK_NB) < 0);
}

/* ps_direct_eligible - may operation LETTER touch files in QUEUE? */

static int ps_direct_eligible(int letter, const char *queue)
{
    int     maildrop = strcmp(queue, MAIL_QUEUE_MAILDROP) == 0;
    int     active = strcmp(queue, MAIL_QUEUE_ACTIVE) == 0;
    int     hold = strcmp(queue, MAIL_QUEUE_HOLD) == 0;

    switch (letter) {
    case 'd':
	return (!active);
    case 'e':
    case 'f':
	return (!maildrop);
    case 'h':
	return (!maildrop && !active && !hold);
    case 'H':
	return (hold);
    default:					/* 'r' */
	return (!maildrop && !active && strcmp(queue, MAIL_QUEUE_INCOMING) != 0);
    }
}

/* ps_tell - one message done: logged and printed when it was named */

static void ps_tell(int named, const char *id, const char *text)
{
    if (named)
	msg_info("%s: %s", id, text);
}

/* ps_direct_delete - remove QUEUE/ID (PATH) and its logs; 0 or -1 */

static int ps_direct_delete(const char *path, const char *id)
{
    if (unlink(path) < 0) {
	msg_warn("remove %s: %m", path);
	return (-1);
    }
    (void) defer_log_remove(MAIL_QUEUE_DEFER, id);
    (void) defer_log_remove(MAIL_QUEUE_BOUNCE, id);
    (void) defer_log_remove(MAIL_QUEUE_TRACE, id);
    return (0);
}

/* ps_direct_move - ID from QUEUE to TO (released: due now); 0 or -1 */

static int ps_direct_move(const char *queue, const char *id, const char *to)
{
    VSTRING *path = vstring_alloc(64);
    struct utimbuf tbuf;
    int     ret = 0;

    if (mail_queue_rename(id, queue, to) < 0) {
	msg_warn("move %s to %s: %m", mail_queue_path(path, queue, id), to);
	ret = -1;
    } else if (strcmp(queue, MAIL_QUEUE_HOLD) == 0 && strcmp(to, MAIL_QUEUE_DEFERRED) == 0) {
	tbuf.actime = tbuf.modtime = time((time_t *) 0);
	if (utime(mail_queue_path(path, to, id), &tbuf) < 0)
	    msg_warn("%s: reset time stamps: %m", STR(path));
    }
    vstring_free(path);
    return (ret);
}

/* ps_direct_expire - -e/-f on QUEUE/ID */

static void ps_direct_expire(int letter, const char *queue, const char *id,
			             int named, PS_COUNTS *counts)
{
    if (queue_control_expire_file(queue, id) > 0) {
	counts->expired++;
	ps_tell(named, id, "expired");
    }
    if (letter == 'f' && strcmp(queue, MAIL_QUEUE_HOLD) == 0
	&& ps_direct_move(queue, id, MAIL_QUEUE_DEFERRED) == 0) {
	counts->released++;
	ps_tell(named, id, "released from hold");
    }
}

/* ps_direct_change - -d/-h/-H/-r on the unlocked file QUEUE/ID (PATH) */

static void ps_direct_change(const PS_OP *op, const char *queue, const char *id,
			             const char *path, int ready, int named,
			             PS_COUNTS *counts)
{
    switch (op->letter) {
    case 'd':
	if (ps_direct_delete(path, id) < 0)
	    return;
	counts->deleted += named || ready;	/* ALL counts messages only */
	break;
    case 'h':
	if (ps_direct_move(queue, id, MAIL_QUEUE_HOLD) < 0)
	    return;
	counts->held++;
	break;
    case 'H':
	if (ps_direct_move(queue, id, MAIL_QUEUE_DEFERRED) < 0)
	    return;
	counts->released++;
	break;
    default:
	if (ps_direct_move(queue, id, MAIL_QUEUE_INCOMING) < 0)
	    return;
	counts->requeued++;
	break;
    }
    ps_tell(named, id, op->text);
}

/* ps_direct_one - OP on QUEUE/ID; -1 when there is no such file */

static int ps_direct_one(const PS_OP *op, const char *queue, const char *id,
			         int named, PS_COUNTS *counts)
{
    VSTRING *path = vstring_alloc(64);
    struct stat st;
    int     fd;

    mail_queue_path(path, queue, id);
    if ((fd = open(STR(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK)) < 0
	|| fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	if (fd < 0 && errno != ENOENT && errno != ELOOP)
	    msg_warn("open %s: %m", STR(path));
	if (fd >= 0)
	    close(fd);
	vstring_free(path);
	return (-1);
    }
    if (op->letter == 'e' || op->letter == 'f')
	ps_direct_expire(op->letter, queue, id, named, counts);
    else if (ps_locked(fd)) {
	if (named || MAIL_QUEUE_READY(&st))	/* ALL: not files being written */
	    msg_warn("%s: file is in use; skipped", id);
    } else
	ps_direct_change(op, queue, id, STR(path), MAIL_QUEUE_READY(&st), named, counts);
    close(fd);
    vstring_free(path);
    return (0);
}

/* ps_collect - mail_queue_scan callback for ALL */

typedef struct PS_IDS {
    char  **ids;
    int     count;
} PS_IDS;

static void ps_collect(const char *id, void *ctx)
{
    PS_IDS *ids = (PS_IDS *) ctx;

    ids->ids = (char **) myrealloc(ids->ids, (ids->count + 1) * sizeof(char *));
    ids->ids[ids->count++] = mystrdup(id);
}

/* ps_direct_all - OP on every file in QUEUE */

static void ps_direct_all(const PS_OP *op, const char *queue, PS_COUNTS *counts)
{
    PS_IDS all = {0, 0};

    mail_queue_scan(queue, ps_collect, &all);
    for (int i = 0; i < all.count; i++) {
	(void) ps_direct_one(op, queue, all.ids[i], 0, counts);
	myfree(all.ids[i]);
    }
    if (all.ids)
	myfree(all.ids);
}

void    ps_direct_run(const PS_STEP *step, const char *const *queues, PS_COUNTS *counts)
{
    const char *list[PS_MAX_QUEUES + 1];
    int     n = 0;

    for (int i = 0; ps_direct_queues[i]; i++)
	if ((queues == 0 || ps_in_list(ps_direct_queues[i], queues))
	    && ps_direct_eligible(step->op->letter, ps_direct_queues[i]))
	    list[n++] = ps_direct_queues[i];
    list[n] = 0;
    if (step->all) {
	for (int q = 0; list[q]; q++)
	    ps_direct_all(step->op, list[q], counts);
	return;
    }
    for (int i = 0; i < step->id_count; i++)
	for (int q = 0; list[q]; q++)
	    if (ps_direct_one(step->op, list[q], step->ids[i], 1, counts) == 0)
		break;
}

long    ps_direct_maildrop(const char *id)
{
    PS_COUNTS counts;

    memset(&counts, 0, sizeof(counts));
    if (id)
	(void) ps_direct_one(&ps_delete_op, MAIL_QUEUE_MAILDROP, id, 1, &counts);
    else
	ps_direct_all(&ps_delete_op, MAIL_QUEUE_MAILDROP, &counts);
    return (counts.deleted);
}
