/*
 * smtpd_spare.c - queue files created ahead of need, off the event loop.
 *
 * Creating a file in incoming/ is not free: it takes the directory's
 * lock, and on ext4 without a journal the allocator scans every recently
 * deleted inode of the group, which under load costs as much as the
 * fsync.  Done in the event loop at DATA, every session of the process
 * waited for it.  So a worker thread keeps up to SPARE_TARGET empty files
 * ready in incoming/, each mode 0600 (incomplete: qmgr, showq and
 * postsuper pass over it) and locked (their sweeps of incomplete files
 * whose writer died leave it alone).  smtpd_spare_take() hands one to
 * DATA; with none ready, DATA creates its file itself as before.  Then
 * smtpd_spare_refill() asks for replacements.  So a process that never
 * takes a message makes none, and the first create runs in the event
 * loop, which warms the configuration cache (hash_queue_names) that
 * mail_queue_create() then reads in the worker thread.
 *
 * The id of a spare is the time it was made; the T record still holds
 * the arrival time.  A spare that someone removed meanwhile (st_nlink 0)
 * is closed and skipped, never written to.
 *
 * The spares go with the process: smtpd_spare_drop() at a normal exit,
 * smtpd_spare_sigterm() (async-signal safe) when master stops it.  After
 * a crash the locks go with the process and qmgr removes the files as it
 * removes any incomplete file whose writer died.
 *
 *   qf = smtpd_spare_take();    a QFILE in incoming/, or NULL
 *   smtpd_spare_refill();       after each DATA's file
 *   smtpd_spare_busy()          creations in flight (a drain waits)
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "worker.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "qfile.h"
#include "smtpd.h"

#define SPARE_TARGET	4		/* files kept ready per process */
#define SPARE_PATH_LEN	128

typedef struct SPARE {
    int     fd;
    unsigned long seq;			/* order made: the oldest goes first */
    char    id[MAIL_QUEUE_ID_LEN + 1];
    char    path[SPARE_PATH_LEN];	/* relative to the queue directory */
} SPARE;

static SPARE spares[SPARE_TARGET];
static volatile sig_atomic_t spare_ready[SPARE_TARGET];	/* slot holds a file */
static int spare_count;
static unsigned long spare_seq;
static int spare_jobs;			/* creations in flight */

typedef struct SPARE_JOB {
    int     want;
    int     got;
    int     fd[SPARE_TARGET];
    VSTRING *id[SPARE_TARGET];
} SPARE_JOB;

/* spare_work - in a worker thread: create the files */
static void spare_work(void *arg)
{
    SPARE_JOB *job = arg;

    for (job->got = 0; job->got < job->want; job->got++)
	if ((job->fd[job->got] = mail_queue_create(MAIL_QUEUE_INCOMING,
						   job->id[job->got])) < 0)
	    break;
}

/* spare_discard - remove a file we will not use */
static void spare_discard(int fd, const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT)
	msg_warn("remove spare queue file %s: %m", path);
    (void) close(fd);
}

/* spare_keep - put one new file into a free slot */
static void spare_keep(int fd, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    int     slot;

    mail_queue_path(path, MAIL_QUEUE_INCOMING, id);
    for (slot = 0; slot < SPARE_TARGET && spare_ready[slot]; slot++)
	 /* void */ ;
    if (slot == SPARE_TARGET || LEN(path) >= SPARE_PATH_LEN
	|| event_server_draining()) {
	spare_discard(fd, STR(path));
    } else {
	spares[slot].fd = fd;
	spares[slot].seq = ++spare_seq;
	strcpy(spares[slot].id, id);
	strcpy(spares[slot].path, STR(path));
	atomic_signal_fence(memory_order_seq_cst);	/* the path before the flag */
	spare_ready[slot] = 1;			/* last: the handler may look */
	spare_count++;
    }
    vstring_free(path);
}

/* spare_done - in the event loop: the new files are ready */
static void spare_done(void *arg)
{
    SPARE_JOB *job = arg;
    int     i;

    spare_jobs--;
    for (i = 0; i < job->want; i++) {
	if (i < job->got)
	    spare_keep(job->fd[i], STR(job->id[i]));
	vstring_free(job->id[i]);
    }
    myfree(job);
}

/* smtpd_spare_refill - ask for the files the pool lacks, one job at a time */
void	smtpd_spare_refill(void)
{
    SPARE_JOB *job;
    int     i;

    if (spare_jobs > 0 || spare_count >= SPARE_TARGET || event_server_draining())
	return;
    job = (SPARE_JOB *) mymalloc(sizeof(*job));
    job->want = SPARE_TARGET - spare_count;
    job->got = 0;
    for (i = 0; i < job->want; i++)
	job->id[i] = vstring_alloc(MAIL_QUEUE_ID_LEN + 1);
    spare_jobs++;
    worker_submit_urgent(spare_work, spare_done, job);	/* not behind DNS */
}

/* spare_usable - a spare is still ours: linked and a regular file */
static int spare_usable(const SPARE *sp)
{
    struct stat st;

    if (fstat(sp->fd, &st) < 0) {
	msg_warn("fstat spare queue file %s: %m", sp->path);
	return (0);
    }
    if (st.st_nlink == 0 || !S_ISREG(st.st_mode) || st.st_size != 0) {
	msg_warn("spare queue file %s was removed or changed; not used", sp->path);
	return (0);
    }
    return (1);
}

/* spare_oldest - the slot of the oldest spare, or -1 */
static int spare_oldest(void)
{
    int     slot;
    int     best = -1;

    for (slot = 0; slot < SPARE_TARGET; slot++)
	if (spare_ready[slot] && (best < 0 || spares[slot].seq < spares[best].seq))
	    best = slot;
    return (best);
}

/* smtpd_spare_take - a QFILE in incoming/ made ahead (the oldest), or NULL */
QFILE  *smtpd_spare_take(void)
{
    QFILE  *qf = 0;
    VSTRING *id;
    int     slot;

    while (qf == 0 && (slot = spare_oldest()) >= 0) {
	spare_ready[slot] = 0;			/* first: the handler may look */
	atomic_signal_fence(memory_order_seq_cst);
	spare_count--;
	if (!spare_usable(spares + slot)) {
	    spare_discard(spares[slot].fd, spares[slot].path);
	    continue;
	}
	id = vstring_alloc(MAIL_QUEUE_ID_LEN + 1);
	vstring_strcpy(id, spares[slot].id);
	qf = qfile_adopt(MAIL_QUEUE_INCOMING,
			 vstream_fdopen(spares[slot].fd, O_RDWR), id);
    }
    return (qf);
}

/* smtpd_spare_busy - creations in flight */
int	smtpd_spare_busy(void)
{
    return (spare_jobs);
}

/* smtpd_spare_drop - remove the spares: the process exits */
void	smtpd_spare_drop(void)
{
    int     slot;

    for (slot = 0; slot < SPARE_TARGET; slot++) {
	if (spare_ready[slot]) {
	    spare_ready[slot] = 0;
	    spare_count--;
	    spare_discard(spares[slot].fd, spares[slot].path);
	}
    }
}

/* smtpd_spare_sigterm - the same from a signal handler: unlink only */
void	smtpd_spare_sigterm(void)
{
    int     slot;

    for (slot = 0; slot < SPARE_TARGET; slot++)
	if (spare_ready[slot])
	    (void) unlink(spares[slot].path);
}
