/*
 * store_mbox.c - the mbox driver of store.h: one mbox file as a folder,
 * typically the user's spool file /var/mail/USER that local delivery
 * appends to, shared with Dovecot and UW-IMAP (c-client).
 *
 * Metadata lives in the messages' headers, as c-client and Dovecot keep it:
 *   X-IMAPbase: UIDVALIDITY LAST-UID [KEYWORD...]	(first message only)
 *   X-IMAP: the same, in a "FOLDER INTERNAL DATA" pseudo message
 *   X-UID: UID
 *   Status: R (\Seen) O (old: not \Recent)
 *   X-Status: A (\Answered) F (\Flagged) T (\Draft) D (\Deleted)
 *   X-Keywords: KEYWORD...	(only names that X-IMAPbase lists count)
 * LAST-UID (the last UID given out, so UIDNEXT - 1) is written with 10
 * digits so that an append can update it in place.
 *
 * UIDs.  With a valid X-IMAPbase, a message's X-UID counts when it is
 * above the previous message's UID and at most the next UID (a bigger one
 * may come from a sender: Dovecot refuses it too); every other message
 * gets the next UID in file order.  So new mail that local delivery
 * appended has the same UIDs for every reader, and nothing is written
 * until something changes.  A file with messages but no (or a broken)
 * X-IMAPbase is rewritten once by a writable session, with UIDVALIDITY =
 * time(); read-only, UIDVALIDITY is the inode number.  A file without
 * messages (a new folder, an empty spool file) has no X-IMAPbase either:
 * its UIDVALIDITY is its mtime, the same for every reader; the first
 * messages (our append, or local delivery followed by the rewrite that
 * gives them UIDs) keep the UIDVALIDITY (and UIDNEXT) of a view that had
 * no messages, as a client that selected the empty folder expects.
 *
 * The bytes are read by mbox_parse.c, UIDs, flags and keywords follow
 * from mbox_scan.c, and mbox_write.c writes a new file; this file holds
 * the view, the locks, rewrites, message streams and appends.
 *
 * Locks.  Every parse and every change runs under the locks local delivery
 * takes (mbox_lock(): dot-lock and fcntl; a read-only folder takes a
 * shared fcntl lock), held as briefly as possible; a file that another
 * session replaced is reopened.  Between syncs the view reads from the
 * descriptor it was parsed from, so the messages of a replaced file stay
 * readable until the next store_sync().  A sync of a file that only grew
 * (same inode, old end still a From_ boundary) parses only the new part.
 *
 * Changes (expunge, flags, keywords, the first X-IMAPbase) write the whole
 * new file beside the old one (".NAME.PID.N.TIME", O_EXCL, old mode and
 * group), fsync it, rename() it over the old one and fsync the directory,
 * so a crash leaves the old file or the new one, never a part.  Content is
 * copied byte for byte; our fields follow the other header lines.  When no
 * message is left, a pseudo message keeps UIDVALIDITY and LAST-UID, as
 * Dovecot and c-client do (and a first message from outside cannot bring
 * its own X-IMAPbase).  store_append() appends under the locks and updates
 * LAST-UID in place, after one rewrite when the file needs UIDs first.
 *
 * Batches (store_change_begin): store_mbox_set_flags() notes the change
 * in the view and in a list sorted by UID; store_mbox_flush() writes the
 * list with one rewrite (store.c: at the end, and before other calls).
 *
 * \Recent: a message without Status O is recent in every view that finds
 * it; the view keeps its own \Recent bits, and any rewrite marks the
 * messages this view knows with O, so STORE_SYNC_CLAIM_NEW writes nothing
 * by itself.  The locks are classic fcntl locks, owned by the process: a
 * caller must not close a message stream of the same file inside an
 * append's source callback (closing any descriptor of the file drops them).
 */
#include "sys_defs.h"
#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "safe_open.h"
#include "mailbox.h"
#include "mbox_parse.h"
#include "mbox_scan.h"
#include "mbox_write.h"
#include "store.h"

#define MBOX_IO_SIZE		65536
#define MBOX_LOCK_TRIES		600	/* ... of MBOX_LOCK_WAIT_MS: 60 s */
#define MBOX_LOCK_WAIT_MS	100
#define MBOX_REOPEN_MAX		10	/* a file replaced again and again */

typedef struct MBOX_PRIV {
    int     fd;				/* the file the view reads */
    MBOX_SCAN *scan;			/* its messages (the view's and more) */
    int     writable;
    unsigned nobase_uidvalidity;	/* for a file without X-IMAPbase */
    int     base_failed;		/* writing X-IMAPbase failed once */
    MBOX_FLAGS *pending;		/* flag changes of a batch (UIDs sorted) */
    int     pending_count;
    int     pending_size;
} MBOX_PRIV;

/* A locked file and its messages, during one operation */
typedef struct MBOX_LOCKED {
    int     fd;
    MBOX_SCAN *scan;
    int     own;			/* scan is not the view's */
} MBOX_LOCKED;

#define PRIV(folder)	((MBOX_PRIV *) (folder)->priv)

/* read_at - pread() without EINTR */

static ssize_t read_at(int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;

    while ((n = pread(fd, buf, len, off)) < 0 && errno == EINTR)
	 /* void */ ;
    return (n);
}

/* sleep_ms - wait between lock attempts */

static void sleep_ms(int ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    (void) nanosleep(&ts, (struct timespec *) 0);
}

/* scan_current - the messages of the locked file FD (the view's if current) */

static MBOX_SCAN *scan_current(STORE_FOLDER *folder, int fd, int *own, VSTRING *why)
{
    MBOX_PRIV *priv = PRIV(folder);
    MBOX_SCAN *scan = priv->scan;
    struct stat st;

    *own = 0;
    if (fstat(fd, &st) < 0) {
	vstring_sprintf(why, "cannot read mailbox %s: %m", folder->path);
	return (0);
    }
    if (fd == priv->fd && !scan->stale && st.st_size == scan->end
	&& st.st_mtim.tv_sec == scan->mtime.tv_sec
	&& st.st_mtim.tv_nsec == scan->mtime.tv_nsec)
	return (scan);
    if (fd == priv->fd && mbox_scan_can_continue(scan, fd, &st))
	return (mbox_scan_read(scan, folder, fd, &st, why) < 0 ? 0 : scan);
    scan = mbox_scan_create();
    if (mbox_scan_read(scan, folder, fd, &st, why) < 0) {
	mbox_scan_free(scan);
	return (0);
    }
    *own = 1;
    return (scan);
}

/*
 * scan_uidvalidity - the UIDVALIDITY a scan stands for: X-IMAPbase's; for
 * a file without messages, the time it was last changed (the same for
 * every reader, and above what a file removed before it had); else the
 * inode number
 */
static unsigned scan_uidvalidity(STORE_FOLDER *folder, const MBOX_SCAN *scan)
{
    if (scan->uidvalidity)
	return (scan->uidvalidity);
    if (scan->count == 0 && scan->mtime.tv_sec > 0)
	return ((unsigned) scan->mtime.tv_sec);
    return (PRIV(folder)->nobase_uidvalidity);
}

/* new_uidvalidity - for a file that gets its first (or a new) X-IMAPbase */

static unsigned new_uidvalidity(STORE_FOLDER *folder, const MBOX_SCAN *scan)
{
    unsigned uidvalidity = (unsigned) time((time_t *) 0);

    while (uidvalidity == 0 || uidvalidity == folder->uidvalidity
	   || uidvalidity == PRIV(folder)->nobase_uidvalidity
	   || uidvalidity == scan->broken_uidvalidity)
	uidvalidity++;
    return (uidvalidity);
}

/*
 * The view.
 */

/* view_fill - a view message from a file message */

static void view_fill(STORE_MSG *msg, const MBOX_MAIL *m, unsigned recent)
{
    msg->uid = m->uid;
    msg->flags = (m->flags & STORE_FLAGS_STORED) | recent;
    msg->keywords = m->keywords;
    msg->size = m->size;
    msg->vsize = m->vsize;
    msg->received = m->received;
    msg->offset = m->offset;
    msg->length = m->length;
}

/*
 * view_merge - bring the view in line with the scan: messages it knows get
 * the file's offsets, sizes and flags (keeping \Recent), ones gone from
 * the file go, and with ADD_NEW ones above its last UID are added.  A
 * different UIDVALIDITY starts the view over.
 */
static void view_merge(STORE_FOLDER *folder, int add_new)
{
    MBOX_SCAN *scan = PRIV(folder)->scan;
    unsigned uidvalidity = scan_uidvalidity(folder, scan);
    unsigned max_uid = 0, recent;
    MBOX_MAIL *m;
    int     i, out = 0;

    if (uidvalidity != folder->uidvalidity) {
	store_msgs_free(folder);
	folder->uidvalidity = uidvalidity;
	folder->uidnext = 1;
	add_new = 1;
    }
    if (folder->count > 0)
	max_uid = folder->msgs[folder->count - 1].uid;
    for (i = 0; i < folder->count; i++) {
	if ((m = mbox_scan_find(scan, folder->msgs[i].uid)) == 0)
	    continue;
	recent = folder->msgs[i].flags & STORE_RECENT;
	view_fill(folder->msgs + out++, m, recent);
    }
    folder->count = out;
    if (!add_new)
	return;
    for (i = scan->pseudo; i < scan->count; i++) {
	m = scan->mails + i;
	if (m->uid > max_uid)
	    view_fill(store_msg_add(folder), m, m->flags & STORE_RECENT);
    }
    if (scan->next_uid > folder->uidnext)
	folder->uidnext = scan->next_uid;
}

/* view_adopt - the view reads the locked file now */

static void view_adopt(STORE_FOLDER *folder, MBOX_LOCKED *lk, int add_new)
{
    MBOX_PRIV *priv = PRIV(folder);

    if (priv->fd != lk->fd) {
	(void) close(priv->fd);
	priv->fd = lk->fd;
    }
    if (priv->scan != lk->scan) {
	mbox_scan_free(priv->scan);
	priv->scan = lk->scan;
    }
    lk->own = 0;
    view_merge(folder, add_new);
}

/*
 * Opening and locking.
 */

/* open_file - the mailbox file, with safe_open() */

static int open_file(STORE_FOLDER *folder, int create, struct stat *st,
		             VSTRING *why)
{
    VSTRING *reason = vstring_alloc(100);
    int     flags = PRIV(folder)->writable ? O_RDWR : O_RDONLY;
    int     fd;

    if (create && PRIV(folder)->writable)
	flags |= O_CREAT;
    if ((fd = safe_open(folder->path, flags, 0600, st, -1, -1, reason)) < 0) {
	vstring_sprintf(why, "cannot open mailbox %s: %s", folder->path, STR(reason));
    } else if (!S_ISREG(st->st_mode)) {
	vstring_sprintf(why, "mailbox %s is not a regular file", folder->path);
	(void) close(fd);
	fd = -1;
    }
    vstring_free(reason);
    return (fd);
}

/* shared_lock - fcntl read lock (read-only folders), bounded wait */

static int shared_lock(int fd, const char *path, VSTRING *why)
{
    struct flock fl;
    int     tries;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    for (tries = 0; tries < MBOX_LOCK_TRIES; tries++) {
	if (fcntl(fd, F_SETLK, &fl) == 0)
	    return (0);
	if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
	    vstring_sprintf(why, "lock %s: %m", path);
	    return (-1);
	}
	sleep_ms(MBOX_LOCK_WAIT_MS);
    }
    vstring_sprintf(why, "timeout waiting for lock on %s", path);
    return (-1);
}

/* fcntl_set - set or release an fcntl lock at once */

static int fcntl_set(int fd, int type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    return (fcntl(fd, F_SETLK, &fl));
}

static int lock_file(STORE_FOLDER *folder, int fd, VSTRING *why)
{
    if (PRIV(folder)->writable)
	return (mbox_lock(fd, folder->path, why));
    return (shared_lock(fd, folder->path, why));
}

static void unlock_file(STORE_FOLDER *folder, int fd)
{
    if (PRIV(folder)->writable)
	mbox_unlock(fd, folder->path);
    else if (fcntl_set(fd, F_UNLCK) < 0)
	msg_warn("unlock %s: %m", folder->path);
}

/* locked_end - drop the locks (and what locked_begin made) */

static void locked_end(STORE_FOLDER *folder, MBOX_LOCKED *lk)
{
    if (lk->fd >= 0) {
	unlock_file(folder, lk->fd);
	if (lk->fd != PRIV(folder)->fd)
	    (void) close(lk->fd);
    }
    if (lk->own && lk->scan)
	mbox_scan_free(lk->scan);
    lk->fd = -1;
    lk->scan = 0;
    lk->own = 0;
}

/*
 * locked_begin - lock the file PATH names (reopening one that was
 * replaced) and learn its messages.
 */
static int locked_begin(STORE_FOLDER *folder, MBOX_LOCKED *lk, VSTRING *why)
{
    MBOX_PRIV *priv = PRIV(folder);
    struct stat st;
    int     fd = priv->fd;
    int     tries;

    lk->fd = -1;
    lk->scan = 0;
    lk->own = 0;
    for (tries = 0; /* void */ ; tries++) {
	if (lock_file(folder, fd, why) < 0) {
	    if (fd != priv->fd)
		(void) close(fd);
	    return (-1);
	}
	if (!mbox_replaced(fd, folder->path))
	    break;
	unlock_file(folder, fd);
	if (fd != priv->fd)
	    (void) close(fd);
	if (tries >= MBOX_REOPEN_MAX) {
	    vstring_sprintf(why, "mailbox %s keeps being replaced", folder->path);
	    return (-1);
	}
	if ((fd = open_file(folder, 0, &st, why)) < 0)
	    return (-1);
    }
    lk->fd = fd;
    if ((lk->scan = scan_current(folder, fd, &lk->own, why)) == 0) {
	locked_end(folder, lk);
	return (-1);
    }
    return (0);
}

/*
 * Rewrites.
 */

/* create_temp - ".NAME.PID.N.TIME" beside the mailbox, like the old one */

static int create_temp(STORE_FOLDER *folder, const struct stat *st,
		               VSTRING *path, VSTRING *reason)
{
    static unsigned count;
    const char *slash = strrchr(folder->path, '/');
    int     fd;

    if (slash)
	vstring_sprintf(path, "%.*s/.%s", (int) (slash - folder->path),
			folder->path, slash + 1);
    else
	vstring_sprintf(path, ".%s", folder->path);
    vstring_sprintf_append(path, ".%ld.%u.%ld", (long) getpid(), count++,
			   (long) time((time_t *) 0));
    fd = open(STR(path), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
	vstring_sprintf(reason, "cannot create %s: %m", STR(path));
	return (-1);
    }
    if (fchown(fd, st->st_uid, st->st_gid) < 0	/* else the group, if allowed */
	&& fchown(fd, (uid_t) -1, st->st_gid) < 0 && errno != EPERM)
	msg_warn("set group of %s: %m", STR(path));
    if (fchmod(fd, st->st_mode & 07777) < 0)
	msg_warn("set mode of %s: %m", STR(path));
    return (fd);
}

/*
 * rewrite - replace the locked file with a new one (CHANGE, or none), and
 * make the view read that one.  On success LK holds the new file (locked).
 * On failure the old file is untouched: -1 with WHY.
 */
static int rewrite(STORE_FOLDER *folder, MBOX_LOCKED *lk,
		           const MBOX_CHANGE *change, VSTRING *why)
{
    MBOX_SCAN *scan = lk->scan, *new_scan;
    VSTRING *path = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    int     same = (scan_uidvalidity(folder, scan) == folder->uidvalidity);
    unsigned uidvalidity, last;
    struct stat st;
    int     fd = -1, old_fd;

    if (scan->uidvalidity) {
	uidvalidity = scan->uidvalidity;
	last = scan->next_uid - 1;
	if (same && folder->uidnext - 1 > last)
	    last = folder->uidnext - 1;
    } else if (folder->count == 0 && folder->uidvalidity != 0) {
	uidvalidity = folder->uidvalidity;	/* announced; no UID under it */
	last = scan->next_uid - 1;
	if (folder->uidnext - 1 > last)
	    last = folder->uidnext - 1;
    } else {
	uidvalidity = new_uidvalidity(folder, scan);
	last = scan->next_uid - 1;
    }
    if (fstat(lk->fd, &st) < 0) {
	vstring_sprintf(reason, "fstat: %m");
	goto fail;
    }
    if ((fd = create_temp(folder, &st, path, reason)) < 0)
	goto fail;
    if (mbox_write_file(fd, STR(path), lk->fd, folder, scan, change, same,
			uidvalidity, last, reason) < 0)
	goto fail;
    if (fcntl_set(fd, F_WRLCK) < 0) {		/* ours until we are done */
	vstring_sprintf(reason, "lock %s: %m", STR(path));
	goto fail;
    }
    if (rename(STR(path), folder->path) < 0) {
	vstring_sprintf(reason, "rename %s: %m", STR(path));
	goto fail;
    }
    if (fsync_dir(folder->path) < 0)
	msg_warn("fsync directory of %s: %m", folder->path);
    /* The new file is in place: read it as the view's */
    new_scan = mbox_scan_create();
    if (fstat(fd, &st) < 0 || mbox_scan_read(new_scan, folder, fd, &st, why) < 0) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "cannot read mailbox %s: %m", folder->path);
	mbox_scan_free(new_scan);
	PRIV(folder)->scan->stale = 1;
	(void) fcntl_set(fd, F_UNLCK);
	(void) close(fd);
	vstring_free(path);
	vstring_free(reason);
	return (-1);
    }
    old_fd = lk->fd;
    if (lk->own)
	mbox_scan_free(lk->scan);
    lk->fd = fd;
    lk->scan = new_scan;
    lk->own = 1;
    if (old_fd != PRIV(folder)->fd)
	(void) close(old_fd);
    view_adopt(folder, lk, 0);
    vstring_free(path);
    vstring_free(reason);
    return (0);

fail:
    if (fd >= 0) {
	(void) close(fd);
	(void) unlink(STR(path));
    }
    vstring_sprintf(why, "cannot rewrite mailbox %s: %s", folder->path, STR(reason));
    vstring_free(path);
    vstring_free(reason);
    return (-1);
}

/*
 * The driver.
 */

static int store_mbox_sync(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    MBOX_PRIV *priv = PRIV(folder);
    MBOX_LOCKED lk;

    if (locked_begin(folder, &lk, why) < 0)
	return (-1);
    if (priv->writable && !priv->base_failed && mbox_scan_needs_base(lk.scan)) {
	VSTRING *reason = vstring_alloc(100);

	if (rewrite(folder, &lk, (MBOX_CHANGE *) 0, reason) < 0) {
	    msg_warn("%s", STR(reason));
	    priv->base_failed = 1;
	}
	vstring_free(reason);
    }
    view_adopt(folder, &lk, 1);
    locked_end(folder, &lk);
    return (0);
}

static int store_mbox_open(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    MBOX_PRIV *priv = (MBOX_PRIV *) mycalloc(1, sizeof(*priv));
    struct stat st;
    int     i;

    folder->priv = priv;
    priv->writable = !(flags & STORE_OPEN_READONLY);
    priv->scan = mbox_scan_create();
    if ((priv->fd = open_file(folder, flags & STORE_OPEN_CREATE, &st, why)) >= 0) {
	priv->nobase_uidvalidity = (unsigned) st.st_ino ? (unsigned) st.st_ino : 1;
	if (store_mbox_sync(folder, 0, why) == 0)
	    return (0);
	(void) close(priv->fd);
    }
    mbox_scan_free(priv->scan);
    myfree(priv);
    folder->priv = 0;
    store_msgs_free(folder);
    for (i = 0; i < folder->keyword_count; i++)
	myfree(folder->keywords[i]);
    folder->keyword_count = 0;
    return (-1);
}

static void store_mbox_close(STORE_FOLDER *folder)
{
    MBOX_PRIV *priv = PRIV(folder);

    (void) close(priv->fd);
    mbox_scan_free(priv->scan);
    if (priv->pending)
	myfree(priv->pending);
    myfree(priv);
    folder->priv = 0;
}

/* A message's content, without the From_ line and our fields */

typedef struct MBOX_STREAM {
    STORE_STREAM stream;
    int     fd;				/* dup of the view's descriptor */
    off_t   pos, end;
    MBOX_FILTER filter;
    int     flushed;
    VSTRING *out;			/* filtered bytes not yet returned */
    size_t  out_pos;
    char   *in;
} MBOX_STREAM;

static int stream_put(void *ctx, const char *data, size_t len)
{
    vstring_memcat(((MBOX_STREAM *) ctx)->out, data, len);
    return (0);
}

static ssize_t stream_read(STORE_STREAM *stream, char *buf, size_t len)
{
    MBOX_STREAM *ms = (MBOX_STREAM *) stream->priv;
    size_t  want;
    ssize_t n;

    if (len == 0)
	return (0);
    for (;;) {
	if (ms->out_pos < LEN(ms->out)) {
	    n = (ssize_t) (LEN(ms->out) - ms->out_pos < len ?
			   LEN(ms->out) - ms->out_pos : len);
	    memcpy(buf, STR(ms->out) + ms->out_pos, (size_t) n);
	    ms->out_pos += (size_t) n;
	    return (n);
	}
	vstring_reset(ms->out);
	ms->out_pos = 0;
	if (ms->pos >= ms->end) {
	    if (ms->flushed++)
		return (0);
	    (void) mbox_filter_flush(&ms->filter, stream_put, ms);
	    continue;
	}
	want = ms->end - ms->pos < MBOX_IO_SIZE ? (size_t) (ms->end - ms->pos)
	    : MBOX_IO_SIZE;
	if (!ms->filter.in_header && want > len)
	    want = len;
	n = read_at(ms->fd, ms->filter.in_header ? ms->in : buf, want, ms->pos);
	if (n <= 0) {
	    if (n == 0)
		errno = EIO;			/* the file got shorter */
	    return (-1);
	}
	ms->pos += n;
	if (!ms->filter.in_header)
	    return (n);
	(void) mbox_filter_write(&ms->filter, ms->in, (size_t) n, stream_put, ms);
    }
}

static void stream_close(STORE_STREAM *stream)
{
    MBOX_STREAM *ms = (MBOX_STREAM *) stream->priv;

    (void) close(ms->fd);
    vstring_free(ms->out);
    myfree(ms->in);
    myfree(ms);
}

static STORE_STREAM *store_mbox_msg_open(STORE_FOLDER *folder, STORE_MSG *msg,
					         VSTRING *why)
{
    MBOX_MAIL *m = mbox_scan_find(PRIV(folder)->scan, msg->uid);
    MBOX_STREAM *ms;
    int     fd;

    vstring_reset(why);
    if (m == 0 || m->offset != msg->offset) {
	vstring_sprintf(why, "message UID %u is no longer in mailbox %s",
			msg->uid, folder->path);
	return (0);
    }
    if ((fd = fcntl(PRIV(folder)->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
	vstring_sprintf(why, "cannot read mailbox %s: %m", folder->path);
	return (0);
    }
    ms = (MBOX_STREAM *) mycalloc(1, sizeof(*ms));
    ms->stream.read = stream_read;
    ms->stream.close = stream_close;
    ms->stream.priv = ms;
    ms->fd = fd;
    ms->pos = m->hdr_start;
    ms->end = m->content_end;
    mbox_filter_init(&ms->filter);
    ms->out = vstring_alloc(MBOX_IO_SIZE);
    ms->in = mymalloc(MBOX_IO_SIZE);
    return (&ms->stream);
}

/* store_mbox_msg_stat - sizes and dates are known from the parse */

static int store_mbox_msg_stat(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    return (0);
}

static int store_mbox_expunge(STORE_FOLDER *folder, const unsigned *uids,
			              int count, VSTRING *why)
{
    MBOX_CHANGE change;
    MBOX_LOCKED lk;
    unsigned *sorted = (unsigned *) mymalloc(count * sizeof(*sorted));
    int     i, found = 0, out = 0, ret = 0;

    memcpy(sorted, uids, count * sizeof(*sorted));
    mbox_uid_sort(sorted, count);
    memset(&change, 0, sizeof(change));
    change.expunge = sorted;
    change.expunge_count = count;
    if (locked_begin(folder, &lk, why) < 0) {
	myfree(sorted);
	return (-1);
    }
    if (scan_uidvalidity(folder, lk.scan) == folder->uidvalidity)
	for (i = 0; i < count && !found; i++)
	    found = (mbox_scan_find(lk.scan, sorted[i]) != 0);
    if (found)
	ret = rewrite(folder, &lk, &change, why);
    locked_end(folder, &lk);
    if (ret == 0) {				/* gone from the view too */
	for (i = 0; i < folder->count; i++)
	    if (!mbox_change_expunges(&change, folder->msgs[i].uid))
		folder->msgs[out++] = folder->msgs[i];
	folder->count = out;
    }
    myfree(sorted);
    return (ret);
}

/* pending_note - a batch's change of UID (the last one for a UID counts) */

static void pending_note(MBOX_PRIV *priv, unsigned uid, unsigned flags,
			         unsigned keywords)
{
    int     lo = 0, hi = priv->pending_count, mid;
    MBOX_FLAGS *set;

    if (hi > 0 && priv->pending[hi - 1].uid < uid)
	lo = hi;				/* the usual case: ascending */
    while (lo < hi) {
	mid = lo + (hi - lo) / 2;
	if (priv->pending[mid].uid < uid)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    if (lo == priv->pending_count || priv->pending[lo].uid != uid) {
	if (priv->pending_count == priv->pending_size) {
	    priv->pending_size = priv->pending_size ? 2 * priv->pending_size : 64;
	    priv->pending = (MBOX_FLAGS *) myrealloc(priv->pending,
				   priv->pending_size * sizeof(*priv->pending));
	}
	memmove(priv->pending + lo + 1, priv->pending + lo,
		(priv->pending_count - lo) * sizeof(*priv->pending));
	priv->pending_count++;
    }
    set = priv->pending + lo;
    set->uid = uid;
    set->flags = flags;
    set->keywords = keywords;
}

/* change_differs - CHANGE sets flags that the file's messages lack */

static int change_differs(const MBOX_SCAN *scan, const MBOX_CHANGE *change)
{
    const MBOX_FLAGS *set = change->flags;
    const MBOX_MAIL *m;

    for (/* void */ ; set < change->flags + change->flags_count; set++)
	if ((m = mbox_scan_find(scan, set->uid)) != 0
	    && ((m->flags & STORE_FLAGS_STORED) != set->flags
		|| m->keywords != set->keywords))
	    return (1);
    return (0);
}

/* write_flags - rewrite the file with the flags CHANGE sets, if any */

static int write_flags(STORE_FOLDER *folder, const MBOX_CHANGE *change,
		               VSTRING *why)
{
    MBOX_LOCKED lk;
    int     ret = 0;

    if (locked_begin(folder, &lk, why) < 0)
	return (-1);
    if (scan_uidvalidity(folder, lk.scan) == folder->uidvalidity
	&& change_differs(lk.scan, change))
	ret = rewrite(folder, &lk, change, why);
    locked_end(folder, &lk);
    return (ret);
}

static int store_mbox_set_flags(STORE_FOLDER *folder, STORE_MSG *msg,
				        unsigned flags, unsigned keywords,
				        VSTRING *why)
{
    MBOX_CHANGE change;
    MBOX_FLAGS set;
    unsigned uid = msg->uid;
    int     seq;

    keywords &= (folder->keyword_count >= 32 ? ~0U :
		 (1U << folder->keyword_count) - 1);
    set.uid = uid;
    set.flags = flags & STORE_FLAGS_STORED;
    set.keywords = keywords;
    if (folder->batch > 0) {			/* written by store_mbox_flush */
	pending_note(PRIV(folder), uid, set.flags, keywords);
    } else {
	memset(&change, 0, sizeof(change));
	change.flags = &set;
	change.flags_count = 1;
	if (write_flags(folder, &change, why) < 0)
	    return (-1);
    }
    /* A rewrite refilled the view: MSG may have moved, or be gone */
    if ((seq = store_uid_seq(folder, uid)) > 0) {
	msg = store_msg(folder, seq);
	msg->flags = set.flags | (msg->flags & STORE_RECENT);
	msg->keywords = keywords;
    }
    return (0);
}

/* store_mbox_flush - the changes of a batch, with one rewrite */

static int store_mbox_flush(STORE_FOLDER *folder, VSTRING *why)
{
    MBOX_PRIV *priv = PRIV(folder);
    MBOX_CHANGE change;
    int     ret;

    if (priv->pending_count == 0)
	return (0);
    memset(&change, 0, sizeof(change));
    change.flags = priv->pending;
    change.flags_count = priv->pending_count;
    ret = write_flags(folder, &change, why);
    priv->pending_count = 0;
    return (ret);
}

static int store_mbox_keywords_save(STORE_FOLDER *folder, VSTRING *why)
{
    MBOX_LOCKED lk;
    int     ret = 0, i;

    for (i = 0; i < folder->keyword_count; i++) {
	if (!mbox_keyword_ok(folder->keywords[i], strlen(folder->keywords[i]))) {
	    vstring_sprintf(why, "invalid keyword name \"%s\"", folder->keywords[i]);
	    return (-1);
	}
    }
    if (locked_begin(folder, &lk, why) < 0)
	return (-1);
    if (lk.scan->count > 0)			/* else the next append does */
	ret = rewrite(folder, &lk, (MBOX_CHANGE *) 0, why);
    locked_end(folder, &lk);
    return (ret);
}

/* Appends */

typedef struct APPEND_SOURCE {
    MAILBOX_SOURCE source;
    void   *ctx;
    VSTRING *fields;			/* ours, first */
    MBOX_FILTER filter;			/* the source's own copies go */
    MAILBOX_WRITE_FN write_fn;
    void   *sink;
} APPEND_SOURCE;

static int append_write(void *ctx, const char *data, size_t len)
{
    APPEND_SOURCE *as = (APPEND_SOURCE *) ctx;

    return (mbox_filter_write(&as->filter, data, len, as->write_fn, as->sink));
}

/* append_emit - MAILBOX_SOURCE: our fields, then the message without any */

static int append_emit(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    APPEND_SOURCE *as = (APPEND_SOURCE *) ctx;

    as->write_fn = write_fn;
    as->sink = sink;
    if (write_fn(sink, STR(as->fields), LEN(as->fields)) != 0
	|| as->source(append_write, as, as->ctx) != 0)
	return (-1);
    return (mbox_filter_flush(&as->filter, write_fn, sink));
}

/*
 * append_pad - end the file so that a From_ line can follow: with an empty
 * line, or, after a message that Content-Length ends, with just the one
 * newline that must follow it (an empty line more would void the count).
 */
static int append_pad(int fd, off_t size, const MBOX_SCAN *scan)
{
    const MBOX_MAIL *last = scan->count ? scan->mails + scan->count - 1 : 0;
    char    tail[3];
    const char *pad;
    size_t  n = size < 3 ? (size_t) size : 3;
    const char *end = tail + n;

    if (size == 0)
	return (0);
    if (read_at(fd, tail, n, size - (off_t) n) != (ssize_t) n)
	return (-1);
    if (last && last->content_length && last->content_end + 1 >= size) {
	if (last->content_end + 1 == size)
	    return (0);				/* its newline is there */
	pad = "\n";
    } else if ((n >= 2 && end[-1] == '\n' && end[-2] == '\n')
	       || (n >= 3 && end[-1] == '\n' && end[-2] == '\r' && end[-3] == '\n')
	       || (size == 1 && end[-1] == '\n')
	       || (size == 2 && end[-1] == '\n' && end[-2] == '\r')) {
	return (0);
    } else {
	pad = end[-1] == '\n' ? "\n" : "\n\n";
    }
    return (pwrite(fd, pad, strlen(pad), size) == (ssize_t) strlen(pad) ? 0 : -1);
}

/* update_last - LAST-UID in place: 10 digits at OFFSET */

static int update_last(int fd, off_t offset, unsigned last)
{
    char    old[10], digits[11];
    int     i;

    if (read_at(fd, old, 10, offset) != 10)
	return (-1);
    for (i = 0; i < 10; i++)
	if (old[i] < '0' || old[i] > '9')
	    return (-1);
    snprintf(digits, sizeof(digits), "%010u", last);
    if (pwrite(fd, digits, 10, offset) != 10 || fdatasync(fd) < 0)
	return (-1);
    return (0);
}

static int store_mbox_append(STORE_FOLDER *folder, MAILBOX_SOURCE source,
			             void *ctx, unsigned flags, unsigned keywords,
			             time_t received, unsigned *uid, VSTRING *why)
{
    APPEND_SOURCE as;
    MBOX_LOCKED lk;
    MBOX_SCAN *scan;
    struct stat st;
    unsigned new_uid;
    int     temporary, ret = -1;

    if (locked_begin(folder, &lk, why) < 0)
	return (-1);
    scan = lk.scan;
    if (scan->count > 0
	&& (scan->uidvalidity == 0 || scan->untagged || scan->base_last_off < 0
	    || (scan_uidvalidity(folder, scan) == folder->uidvalidity
		&& folder->uidnext > scan->next_uid))) {
	if (rewrite(folder, &lk, (MBOX_CHANGE *) 0, why) < 0)
	    goto out;
	scan = lk.scan;
    }
    memset(&as, 0, sizeof(as));
    as.source = source;
    as.ctx = ctx;
    as.fields = vstring_alloc(200);
    mbox_filter_init(&as.filter);
    if (scan->count > 0) {
	new_uid = scan->next_uid;
    } else if (scan_uidvalidity(folder, scan) == folder->uidvalidity) {
	new_uid = folder->uidnext > 0 ? folder->uidnext : 1;
	mbox_put_base(as.fields, folder, "X-IMAPbase", folder->uidvalidity, new_uid);
    } else {
	new_uid = 1;
	mbox_put_base(as.fields, folder, "X-IMAPbase", new_uidvalidity(folder, scan),
		      new_uid);
    }
    keywords &= (folder->keyword_count >= 32 ? ~0U :
		 (1U << folder->keyword_count) - 1);
    mbox_put_fields(as.fields, folder, new_uid, flags, 0, keywords);
    if (fstat(lk.fd, &st) < 0) {
	vstring_sprintf(why, "cannot append to mailbox %s: %m", folder->path);
    } else if (append_pad(lk.fd, st.st_size, scan) < 0 || lseek(lk.fd, 0, SEEK_END) < 0) {
	vstring_sprintf(why, "cannot append to mailbox %s: %m", folder->path);
	if (ftruncate(lk.fd, st.st_size) < 0)
	    msg_warn("truncate mailbox %s: %m", folder->path);
    } else if (mbox_append(lk.fd, folder->path, "", received, append_emit, &as,
			   why, &temporary) < 0) {
	if (ftruncate(lk.fd, st.st_size) < 0)
	    msg_warn("truncate mailbox %s: %m", folder->path);
    } else {
	if (scan->count > 0 && update_last(lk.fd, scan->base_last_off, new_uid) < 0)
	    msg_warn("mailbox %s: cannot update the last UID in X-IMAPbase: %m",
		     folder->path);
	*uid = new_uid;
	ret = 0;
    }
    vstring_free(as.fields);
out:
    locked_end(folder, &lk);
    return (ret);
}

const STORE_DRIVER store_mbox_driver = {
    .name = "mbox",
    .open = store_mbox_open,
    .sync = store_mbox_sync,
    .close = store_mbox_close,
    .msg_open = store_mbox_msg_open,
    .msg_stat = store_mbox_msg_stat,
    .expunge = store_mbox_expunge,
    .set_flags = store_mbox_set_flags,
    .append = store_mbox_append,
    .keywords_save = store_mbox_keywords_save,
    .flush = store_mbox_flush,
};
