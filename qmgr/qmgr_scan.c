/*
 * qmgr_scan.c - feeding queue files into the active queue.
 *
 * qmgr_recover_active() moves files left in active/ by a dead qmgr back
 * to incoming/.  qmgr_scan_incoming() and qmgr_scan_deferred() start a
 * pass over incoming/ or deferred/ (or ask for another after the one in
 * progress).  A pass reads its directories as it goes and takes each
 * file while the active queue has room: at most qmgr_message_active_limit
 * messages and qmgr_message_recipient_limit recipients in memory; at the
 * limits it waits until a message leaves (qmgr_scan_room()).  Files are
 * taken alternately from both passes, incoming/ first (Postfix's
 * qmgr_loop), in batches between which the event loop runs, so a flush
 * of 200,000 deferred messages neither starves new mail nor stops the
 * deliveries' replies from being read.  A deferred pass takes the files
 * that are due (mtime, the retry time, has come); a flush takes all that
 * were there when it began.  The incoming pass removes incomplete
 * files whose writer died (the writer holds flock() for as long as the
 * file is open).  qmgr_activate() moves one file into
 * active/, reads and checks its envelope up to the first recipient and
 * its content, and hands it to qmgr_message.c, which reads the
 * recipients in slices; a file that fails to parse (here or in a later
 * slice) goes to corrupt/, never deleted.  A message counts for
 * qmgr_message_recipient_limit with the recipients of its slice in
 * memory, not with all of them.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <time.h>
#include <sys/file.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "queue_control.h"
#include "qmgr.h"

/* A file that is unlocked, incomplete and this young may still be in creation */
#define QMGR_STALE_GRACE	2

/* qmgr_recover_one - put one file from active/ back into incoming/ */

static void qmgr_recover_one(const char *id, void *ctx)
{
    if (mail_queue_rename(id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING) < 0)
	msg_warn("%s: cannot move from %s to %s: %m",
		 id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING);
}

void    qmgr_recover_active(void)
{
    mail_queue_scan(MAIL_QUEUE_ACTIVE, qmgr_recover_one, 0);
}

/* qmgr_move_corrupt - keep a bad file for the postmaster */

void    qmgr_move_corrupt(const char *id, const char *queue, const char *why)
{
    msg_warn("%s: corrupt queue file: %s; moved to %s", id, why, MAIL_QUEUE_CORRUPT);
    if (mail_queue_rename(id, queue, MAIL_QUEUE_CORRUPT) < 0)
	msg_warn("%s: cannot move from %s to %s: %m", id, queue, MAIL_QUEUE_CORRUPT);
}

/* qmgr_skip_content - qfile_read_content callback that only checks */

static int qmgr_skip_content(const char *data, size_t len, void *ctx)
{
    return (0);
}

/*
 * qmgr_read_file - open one queue file, read and check its envelope up to
 * the first recipient, and its content; 0 or -1 (WHY)
 */

static int qmgr_read_file(const char *id, const char *queue, QENV *env, VSTRING *why)
{
    VSTREAM *stream;
    int     ret;

    if ((stream = mail_queue_open(queue, id, O_RDONLY)) == 0) {
	vstring_sprintf(why, "open: %s", strerror(errno));
	return (-1);
    }
    memset(env, 0, sizeof(*env));
    ret = qfile_read_header(stream, env, why);
    /* Read the content too, so that a truncated file is caught here */
    if (ret == 0 && env->rcpt_total < 1) {
	vstring_strcpy(why, "no recipients");
	ret = -1;
    }
    if (ret == 0 && qfile_read_content(stream, env, qmgr_skip_content, 0, why) != 0)
	ret = -1;
    if (ret < 0)
	qenv_free(env);
    vstream_close(stream);
    return (ret);
}

/* qmgr_expired - active/ID carries postsuper's force-expired mark */

static int qmgr_expired(const char *id)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    int     expired;

    expired = stat(mail_queue_path(path, MAIL_QUEUE_ACTIVE, id), &st) == 0
	&& (st.st_mode & QUEUE_CONTROL_STAT_EXPIRE) != 0;
    vstring_free(path);
    return (expired);
}

/* qmgr_activate - move ID from FROM_QUEUE into active/ and start on it */

int     qmgr_activate(const char *id, const char *from_queue)
{
    VSTRING *why = vstring_alloc(100);
    QENV    env;
    QMGR_MESSAGE *message;
    int     ret = -1;

    if (qmgr_message_active(id)) {
	msg_warn("%s: already active, skipping the copy in %s", id, from_queue);
    } else if (mail_queue_rename(id, from_queue, MAIL_QUEUE_ACTIVE) < 0) {
	if (errno != ENOENT)
	    msg_warn("%s: cannot move from %s to %s: %m",
		     id, from_queue, MAIL_QUEUE_ACTIVE);
    } else if (qmgr_read_file(id, MAIL_QUEUE_ACTIVE, &env, why) < 0) {
	qmgr_move_corrupt(id, MAIL_QUEUE_ACTIVE, STR(why));
    } else {
	message = qmgr_message_create(id, &env);
	message->expired = qmgr_expired(id);
	message->verify = qenv_attr(&message->env, "verify") != 0;
	msg_info("%s: from=<%s>, size=%ld, nrcpt=%ld (queue active)",
		 id, env.sender, env.content_size, env.rcpt_total);
	ret = qmgr_message_start(message);
    }
    vstring_free(why);
    return (ret);
}

/* qmgr_incoming_stale - an incomplete file: remove it if its writer died */

static void qmgr_incoming_stale(const char *id, const char *path)
{
    int     fd;
    struct stat st;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0)
	return;					/* gone meanwhile */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	/* still being written */
    } else if (fstat(fd, &st) < 0 || MAIL_QUEUE_READY(&st)) {
	/* completed meanwhile: the next scan takes it */
	qmgr_scan_incoming_later(0);
    } else if (st.st_mtime > clock_now() - QMGR_STALE_GRACE) {
	/* maybe created but not yet locked: look again later */
	qmgr_scan_incoming_later(QMGR_STALE_GRACE + 1);
    } else if (unlink(path) < 0) {
	msg_warn("%s: cannot remove stale incomplete queue file: %m", id);
    } else {
	msg_info("%s: removed stale incomplete queue file", id);
    }
    close(fd);
}

/*
 * qmgr_queue_stat - stat ID in QUEUE (its path in PATH): 0 for a regular
 * file, -1 (warned unless it vanished) for anything else.
 */
int     qmgr_queue_stat(const char *queue, const char *id, VSTRING *path,
			        struct stat *st)
{
    mail_queue_path(path, queue, id);
    if (lstat(STR(path), st) < 0) {
	if (errno != ENOENT)
	    msg_warn("%s: lstat %s: %m", id, STR(path));
	return (-1);
    }
    if (!S_ISREG(st->st_mode)) {
	msg_warn("%s: not a regular file: %s", id, STR(path));
	return (-1);
    }
    return (0);
}

/* qmgr_incoming_one - one name in incoming/ */

static void qmgr_incoming_one(const char *id, VSTRING *path)
{
    struct stat st;

    if (qmgr_queue_stat(MAIL_QUEUE_INCOMING, id, path, &st) < 0)
	return;
    if (MAIL_QUEUE_READY(&st))
	qmgr_activate(id, MAIL_QUEUE_INCOMING);
    else
	qmgr_incoming_stale(id, STR(path));
}

/* qmgr_scan_collect - mail_queue_scan callback: remember one id */

static void qmgr_scan_collect(const char *id, void *ctx)
{
    QMGR_IDS *ids = ctx;

    ids->ids = myrealloc(ids->ids, (size_t) (ids->count + 1) * sizeof(char *));
    ids->ids[ids->count++] = mystrdup(id);
}

/*
 * qmgr_scan_ids - the ids in QUEUE, listed before any is acted on, so a
 * file that comes back into the queue during a pass is not seen twice.
 */
void    qmgr_scan_ids(const char *queue, QMGR_IDS *ids)
{
    ids->ids = 0;
    ids->count = 0;
    mail_queue_scan(queue, qmgr_scan_collect, ids);
}

void    qmgr_scan_ids_free(QMGR_IDS *ids)
{
    for (int i = 0; i < ids->count; i++)
	myfree(ids->ids[i]);
    if (ids->ids)
	myfree(ids->ids);
    ids->ids = 0;
    ids->count = 0;
}

/*
 * A pass over one queue, read incrementally (mail_queue_scan_open): files
 * are taken as they are read, as long as the active queue has room, so a
 * pass over 200,000 files holds one directory entry at a time.  A pass
 * asked for while one runs starts when it ends (Postfix's qmgr_scan).
 */
typedef struct QMGR_SCAN {
    const char *queue;
    MAIL_QUEUE_SCAN *handle;		/* the pass in progress, or NULL */
    int     flags;			/* of this pass: QMGR_SCAN_ALL */
    int     pending;			/* QMGR_SCAN_START | flags: next pass */
    struct timespec start;		/* this pass began */
} QMGR_SCAN;

#define QMGR_SCAN_ALL		(1<<0)	/* deferred: due or not (a flush) */
#define QMGR_SCAN_START		(1<<1)	/* another pass was asked for */

#define QMGR_FEED_BATCH		100	/* files per event, then others run */

static QMGR_SCAN qmgr_incoming_scan = {.queue = MAIL_QUEUE_INCOMING};
static QMGR_SCAN qmgr_deferred_scan = {.queue = MAIL_QUEUE_DEFERRED};

static void qmgr_feed_event(int event, void *context);

/* qmgr_scan_request - ask for a pass over SCAN's queue */

static void qmgr_scan_request(QMGR_SCAN *scan, int flags)
{
    if (scan->handle == 0) {
	scan->handle = mail_queue_scan_open(scan->queue);
	scan->flags = flags;
	clock_gettime(CLOCK_REALTIME, &scan->start);
    } else {
	scan->pending |= QMGR_SCAN_START | flags;
    }
}

/* qmgr_scan_next - the next id of SCAN's pass, or NULL when none runs */

static const char *qmgr_scan_next(QMGR_SCAN *scan)
{
    const char *id;

    while (scan->handle) {
	if ((id = mail_queue_scan_next(scan->handle)) != 0)
	    return (id);
	mail_queue_scan_close(scan->handle);
	scan->handle = 0;
	if (scan->pending & QMGR_SCAN_START) {
	    scan->pending &= ~QMGR_SCAN_START;
	    qmgr_scan_request(scan, scan->pending);
	    scan->pending = 0;
	}
    }
    return (0);
}

/*
 * qmgr_deferred_one - one name in deferred/: take it when it is due, or
 * in a flush (ALL) when it was there before the pass began (a message
 * that failed again during the flush waits for its retry time)
 */
static void qmgr_deferred_one(const char *id, VSTRING *path, const QMGR_SCAN *scan)
{
    struct stat st;

    if (qmgr_queue_stat(MAIL_QUEUE_DEFERRED, id, path, &st) < 0)
	return;
    if ((scan->flags & QMGR_SCAN_ALL) ?
	(st.st_ctim.tv_sec < scan->start.tv_sec
	 || (st.st_ctim.tv_sec == scan->start.tv_sec
	     && st.st_ctim.tv_nsec <= scan->start.tv_nsec)) :
	st.st_mtime <= clock_now())
	qmgr_activate(id, MAIL_QUEUE_DEFERRED);
}

/* qmgr_room - the active queue may take another message */

static int qmgr_room(void)
{
    return (qmgr_message_count < conf_int("qmgr_message_active_limit")
	    && qmgr_recipient_count < conf_int("qmgr_message_recipient_limit"));
}

/*
 * qmgr_feed - take files into the active queue while it has room: one
 * from incoming/, then one from deferred/, so new mail is never starved
 * by a deferred backlog and the backlog still moves.  After a batch the
 * rest waits for the next event-loop turn (replies are read meanwhile);
 * at the limits it waits for a message to leave (qmgr_scan_room).
 */
static void qmgr_feed(void)
{
    VSTRING *path;
    const char *id;
    int     done = 0;
    int     more = 1;

    if (event_server_draining())
	return;					/* the next qmgr scans */
    path = vstring_alloc(100);
    while (more && done < QMGR_FEED_BATCH && qmgr_room()) {
	more = 0;
	if ((id = qmgr_scan_next(&qmgr_incoming_scan)) != 0) {
	    qmgr_incoming_one(id, path);
	    more = 1;
	    done++;
	}
	if (qmgr_room() && (id = qmgr_scan_next(&qmgr_deferred_scan)) != 0) {
	    qmgr_deferred_one(id, path, &qmgr_deferred_scan);
	    more = 1;
	    done++;
	}
    }
    vstring_free(path);
    if (more && qmgr_room())
	event_request_timer(qmgr_feed_event, 0, 0);
}

static void qmgr_feed_event(int event, void *context)
{
    qmgr_feed();
    qmgr_deliver_pump();
}

void    qmgr_scan_incoming(void)
{
    qmgr_scan_request(&qmgr_incoming_scan, 0);
    qmgr_feed();
}

void    qmgr_scan_deferred(int all)
{
    qmgr_scan_request(&qmgr_deferred_scan, all ? QMGR_SCAN_ALL : 0);
    qmgr_feed();
}

/* qmgr_scan_incoming_event - timer: a new pass over incoming/ */

static void qmgr_scan_incoming_event(int event, void *context)
{
    qmgr_scan_incoming();
    qmgr_deliver_pump();
}

void    qmgr_scan_incoming_later(int seconds)
{
    event_request_timer(qmgr_scan_incoming_event, 0, seconds * 1000);
}

/* qmgr_scan_room - a message left memory; go on with a pass the limits stopped */

void    qmgr_scan_room(void)
{
    if ((qmgr_incoming_scan.handle || qmgr_deferred_scan.handle) && qmgr_room())
	event_request_timer(qmgr_feed_event, 0, 0);
}
