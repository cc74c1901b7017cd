/*
 * mailbox.c - writing one message into a Maildir or an mbox file.
 *
 * local calls maildir_deliver() or the mbox steps with the recipient's
 * privileges; the message content comes from a MAILBOX_SOURCE callback.
 * Maildir: the directories are opened one by one (never through a
 * symbolic link another user made) and must belong to the owner the
 * caller names; tmp/UNIQUE is created relative to the open tmp/ (O_EXCL),
 * written and fsynced, then linked into the open new/, and new/ is
 * fsynced (or, maildir_deliver_later, left to a MAILDIR_SYNC batch that
 * the caller fsyncs once for several messages).  mbox: the file is opened with safe_open() (no symbolic links,
 * no hard links, no file swapped in), locked (dot-lock, then fcntl), the
 * message is appended with a "From " line and >From quoting, fsynced, and
 * on any failure the file is truncated back to its old size.
 *
 * Errors are temporary, except a full mailbox (EDQUOT, EFBIG), which is
 * permanent as in Postfix (DSN 5.2.2), and a mailbox that is not a
 * regular file or directory.  mbox_lock()/mbox_unlock() are shared with
 * pop3d/imapd.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <sys/time.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "iostuff.h"
#include "safe_open.h"

#define MAILBOX_BUF_SIZE	65536
#define MBOX_LOCK_TRIES		600	/* ... of MBOX_LOCK_WAIT_MS: 60 s */
#define MBOX_LOCK_WAIT_MS	100
#define MBOX_DOTLOCK_STALE	300	/* seconds */
#define MAILER_DAEMON		"MAILER-DAEMON"

/* A buffered writer on a file descriptor that remembers its first errno */

typedef struct SINK {
    int     fd;
    VSTRING *buf;
    int     error;			/* errno of first failure */
    int     bol;			/* mbox: checking a line start */
    char    pend[5];			/* mbox: bytes that may be "From " */
    size_t  npend;
    int     last;			/* last content byte, -1 if none */
    off_t   bytes;			/* Maildir: content bytes written */
    off_t   lines;			/* Maildir: LFs without a CR before */
} SINK;

static void sink_init(SINK *s, int fd)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->buf = vstring_alloc(MAILBOX_BUF_SIZE);
    s->bol = 1;
    s->last = -1;
}

static int sink_flush(SINK *s)
{
    const char *cp = STR(s->buf);
    size_t  left = LEN(s->buf);
    ssize_t n;

    while (s->error == 0 && left > 0) {
	if ((n = write(s->fd, cp, left)) < 0) {
	    if (errno != EINTR)
		s->error = errno;
	    continue;
	}
	cp += n;
	left -= n;
    }
    vstring_reset(s->buf);
    return (s->error ? -1 : 0);
}

static int sink_put(SINK *s, const char *data, size_t len)
{
    if (s->error)
	return (-1);
    vstring_memcat(s->buf, data, len);
    if (LEN(s->buf) >= MAILBOX_BUF_SIZE)
	return (sink_flush(s));
    return (0);
}

static void sink_free(SINK *s)
{
    vstring_free(s->buf);
}

/*
 * maildir_sink_write - MAILBOX_WRITE_FN for Maildir: bytes as they are,
 * counted for S= and W= (the size with CRLF line ends: a CR more for
 * each LF that has none before it, as IMAP and Dovecot count)
 */
static int maildir_sink_write(void *sink, const char *data, size_t len)
{
    SINK   *s = (SINK *) sink;
    const char *cp = data, *end = data + len;

    s->bytes += (off_t) len;
    while ((cp = memchr(cp, '\n', (size_t) (end - cp))) != 0) {
	if ((cp > data ? (unsigned char) cp[-1] : s->last) != '\r')
	    s->lines++;
	cp++;
    }
    if (len > 0)
	s->last = (unsigned char) data[len - 1];
    return (sink_put(s, data, len));
}

/* mailbox_error - set WHY and TEMPORARY from ERR */

static int mailbox_error(VSTRING *why, int *temporary, int err,
			         const char *what, const char *path)
{
    vstring_sprintf(why, "%s %s: %s", what, path, strerror(err));
    *temporary = !(err == EDQUOT || err == EFBIG);
    return (-1);
}

/* maildir_open_dir - open DIR (creating it), owned by OWNER; fd or -1 */

static int maildir_open_dir(int parent, const char *dir, const char *name,
			            uid_t owner, VSTRING *why, int *temporary)
{
    struct stat st;
    int     fd;

    if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
	return (mailbox_error(why, temporary, errno, "create maildir", dir));
    if (parent == AT_FDCWD) {
	VSTRING *reason = vstring_alloc(100);

	fd = safe_open_dir(dir, owner, &st, reason);
	if (fd < 0) {
	    vstring_sprintf(why, "open maildir %s: %s", dir, STR(reason));
	    *temporary = 1;
	}
	vstring_free(reason);
	if (fd < 0)
	    return (-1);
    } else if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
			    | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
	if (errno == ELOOP || errno == ENOTDIR) {
	    vstring_sprintf(why, "maildir %s is not a directory", dir);
	    *temporary = 0;
	} else {
	    mailbox_error(why, temporary, errno, "open maildir", dir);
	}
	if (fd >= 0)
	    (void) close(fd);
	return (-1);
    }
    if (!S_ISDIR(st.st_mode)) {
	vstring_sprintf(why, "maildir %s is not a directory", dir);
	*temporary = 0;
	(void) close(fd);
	return (-1);
    }
    if (owner != (uid_t) -1 && st.st_uid != owner) {
	vstring_sprintf(why, "destination %s is not owned by recipient", dir);
	*temporary = 1;
	(void) close(fd);
	return (-1);
    }
    return (fd);
}

/* maildir_unique - "SECONDS.MmicrosPpid_count.HOST" */

static void maildir_unique(VSTRING *name)
{
    static unsigned count;
    struct timeval tv;
    char    host[256];
    const char *cp;

    gettimeofday(&tv, (struct timezone *) 0);
    if (gethostname(host, sizeof(host)) < 0)
	memcpy(host, "localhost", sizeof("localhost"));
    host[sizeof(host) - 1] = 0;
    vstring_sprintf(name, "%ld.M%ldP%ld_%u.", (long) tv.tv_sec,
		    (long) tv.tv_usec, (long) getpid(), count++);
    for (cp = host; *cp; cp++) {
	if (*cp == '/')
	    vstring_strcat(name, "\\057");
	else if (*cp == ':')
	    vstring_strcat(name, "\\072");
	else
	    vstring_addch(name, *cp);
    }
}

/* maildir_write_tmp - create and fill tmp/NAME; 0 or -1 with WHY */

static int maildir_write_tmp(int tmp_fd, const char *name, const char *path,
			             MAILBOX_SOURCE source, void *ctx,
			             off_t *size, off_t *vsize,
			             VSTRING *why, int *temporary)
{
    SINK    sink;
    int     fd;
    int     ret;

    if ((fd = openat(tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
		     | O_CLOEXEC, 0600)) < 0)
	return (mailbox_error(why, temporary, errno, "create maildir file", path));
    sink_init(&sink, fd);
    ret = source(maildir_sink_write, &sink, ctx);
    if (sink_flush(&sink) == 0 && fsync(fd) < 0)
	sink.error = errno;
    if (close(fd) < 0 && sink.error == 0)
	sink.error = errno;
    if (sink.error) {
	mailbox_error(why, temporary, sink.error, "write maildir file", path);
	ret = -1;
    } else if (ret != 0) {
	vstring_sprintf(why, "error reading message content");
	*temporary = 1;
	ret = -1;
    }
    *size = sink.bytes;
    *vsize = sink.bytes + sink.lines;		/* each bare LF becomes CRLF */
    sink_free(&sink);
    if (ret < 0)
	(void) unlinkat(tmp_fd, name, 0);
    return (ret);
}

/* maildir_sync_add - leave the fsync of DIR_FD to SYNC; 0, or -1: do it now */

static int maildir_sync_add(MAILDIR_SYNC *sync, int dir_fd)
{
    struct stat st;
    int     i;
    int     fd;

    if (sync == 0 || fstat(dir_fd, &st) < 0)
	return (-1);
    for (i = 0; i < sync->count; i++)
	if (sync->devs[i] == st.st_dev && sync->inos[i] == st.st_ino)
	    break;
    if (i == sync->count) {
	if (sync->count >= MAILDIR_SYNC_MAX
	    || (fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0)) < 0)
	    return (-1);
	sync->fds[i] = fd;
	sync->devs[i] = st.st_dev;
	sync->inos[i] = st.st_ino;
	sync->count++;
    }
    sync->uses++;
    return (0);
}

/*
 * maildir_publish - tmp/NAME to new/NAME (link, else rename); fsync new/
 * now, or leave that to SYNC (unless null)
 */
static int maildir_publish(int tmp_fd, const char *tmp_name, int new_fd,
			           const char *new_name, const char *path,
			           MAILDIR_SYNC *sync, VSTRING *why, int *temporary)
{
    if (linkat(tmp_fd, tmp_name, new_fd, new_name, 0) == 0) {
	(void) unlinkat(tmp_fd, tmp_name, 0);
    } else if ((errno != EPERM && errno != EXDEV && errno != ENOSYS)
	       || renameat(tmp_fd, tmp_name, new_fd, new_name) < 0) {
	mailbox_error(why, temporary, errno, "link maildir file to", path);
	(void) unlinkat(tmp_fd, tmp_name, 0);
	return (-1);
    }
    if (maildir_sync_add(sync, new_fd) == 0)
	return (0);
    if (fsync(new_fd) < 0) {
	mailbox_error(why, temporary, errno, "fsync maildir directory of", path);
	(void) unlinkat(new_fd, new_name, 0);
	return (-1);
    }
    return (0);
}

void    maildir_sync_init(MAILDIR_SYNC *sync)
{
    memset(sync, 0, sizeof(*sync));
}

/* maildir_sync_run - fsync the directories left to SYNC, then forget them */

int     maildir_sync_run(MAILDIR_SYNC *sync, VSTRING *why)
{
    int     ret = 0;
    int     i;

    for (i = 0; i < sync->count; i++) {
	if (fsync(sync->fds[i]) < 0 && ret == 0) {
	    vstring_sprintf(why, "fsync maildir directory: %m");
	    ret = -1;
	}
	(void) close(sync->fds[i]);
    }
    sync->count = 0;
    return (ret);
}

/* maildir_sync_free - forget the directories, unsynced */

void    maildir_sync_free(MAILDIR_SYNC *sync)
{
    int     i;

    for (i = 0; i < sync->count; i++)
	(void) close(sync->fds[i]);
    sync->count = 0;
}

/* maildir_set_time - the file's times to RECEIVED (IMAP INTERNALDATE) */

static void maildir_set_time(int dir_fd, const char *name, time_t received)
{
    struct timespec ts[2];

    ts[0].tv_sec = ts[1].tv_sec = received;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    if (utimensat(dir_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
	msg_warn("set time of maildir file %s: %m", name);
}

static int maildir_write_sync(const char *, uid_t, int, const char *, time_t,
			              MAILBOX_SOURCE, void *, VSTRING *,
			              MAILDIR_SYNC *, VSTRING *, int *);

/* maildir_deliver - write tmp/UNIQUE, fsync, link into new/ */

int     maildir_deliver(const char *maildir, uid_t owner, MAILBOX_SOURCE source,
			        void *ctx, VSTRING *why, int *temporary)
{
    return (maildir_write_sync(maildir, owner, MAILDIR_NEW, "", 0, source, ctx,
			       (VSTRING *) 0, (MAILDIR_SYNC *) 0, why, temporary));
}

/* maildir_deliver_later - the same, new/'s fsync left to SYNC */

int     maildir_deliver_later(const char *maildir, uid_t owner,
			              MAILBOX_SOURCE source, void *ctx,
			              MAILDIR_SYNC *sync, VSTRING *why,
			              int *temporary)
{
    return (maildir_write_sync(maildir, owner, MAILDIR_NEW, "", 0, source, ctx,
			       (VSTRING *) 0, sync, why, temporary));
}

/* maildir_write - write tmp/UNIQUE, fsync, link into new/ or cur/ */

int     maildir_write(const char *maildir, uid_t owner, int where,
		              const char *info, time_t received,
		              MAILBOX_SOURCE source, void *ctx, VSTRING *name_out,
		              VSTRING *why, int *temporary)
{
    return (maildir_write_sync(maildir, owner, where, info, received, source,
			       ctx, name_out, (MAILDIR_SYNC *) 0, why, temporary));
}

/* maildir_write_sync - maildir_write, the directory's fsync maybe left to SYNC */

static int maildir_write_sync(const char *maildir, uid_t owner, int where,
			              const char *info, time_t received,
			              MAILBOX_SOURCE source, void *ctx,
			              VSTRING *name_out, MAILDIR_SYNC *sync,
			              VSTRING *why, int *temporary)
{
    static const char *subdirs[] = {"tmp", "new", "cur"};
    int     fds[3] = {-1, -1, -1};
    VSTRING *top_path = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *unique = vstring_alloc(100);
    VSTRING *final = vstring_alloc(100);
    off_t   size, vsize;
    int     top;
    size_t  i;
    int     ret = -1;

    *temporary = 1;
    vstring_reset(why);
    /* Without the trailing '/': lstat() must see a symbolic link as one */
    vstring_strcpy(top_path, maildir);
    while (LEN(top_path) > 1 && STR(top_path)[LEN(top_path) - 1] == '/')
	vstring_truncate(top_path, LEN(top_path) - 1);
    if ((top = maildir_open_dir(AT_FDCWD, STR(top_path), STR(top_path), owner,
				why, temporary)) < 0)
	goto out;
    for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
	vstring_sprintf(path, "%s/%s", STR(top_path), subdirs[i]);
	if ((fds[i] = maildir_open_dir(top, STR(path), subdirs[i], owner,
				       why, temporary)) < 0)
	    goto out;
    }
    maildir_unique(unique);
    vstring_sprintf(path, "%s/tmp/%s", STR(top_path), STR(unique));
    if (maildir_write_tmp(fds[0], STR(unique), STR(path), source, ctx,
			  &size, &vsize, why, temporary) < 0)
	goto out;
    if (received > 0)
	maildir_set_time(fds[0], STR(unique), received);
    /* Dovecot's size fields: no stat() or read to know them later */
    vstring_sprintf(final, "%s,S=%ld,W=%ld%s", STR(unique), (long) size,
		    (long) vsize, info);
    vstring_sprintf(path, "%s/%s/%s", STR(top_path),
		    where == MAILDIR_CUR ? "cur" : "new", STR(final));
    if (maildir_publish(fds[0], STR(unique), fds[where == MAILDIR_CUR ? 2 : 1],
			STR(final), STR(path), sync, why, temporary) < 0)
	goto out;
    if (name_out)
	vstring_strcpy(name_out, STR(final));
    ret = 0;
out:
    for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
	if (fds[i] >= 0)
	    (void) close(fds[i]);
    if (top >= 0)
	(void) close(top);
    vstring_free(top_path);
    vstring_free(path);
    vstring_free(unique);
    vstring_free(final);
    return (ret);
}

/*
 * mbox.
 */

/* sleep_ms - wait between lock attempts */

static void sleep_ms(int ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    (void) nanosleep(&ts, (struct timespec *) 0);
}

/* dot_lock - create PATH.lock; 1 locked, 0 skipped (dir not writable), -1 */

static int dot_lock(const char *path, VSTRING *why)
{
    VSTRING *lock = vstring_alloc(100);
    struct stat st;
    int     tries;
    int     fd;
    int     ret = -1;

    vstring_sprintf(lock, "%s.lock", path);
    for (tries = 0; tries < MBOX_LOCK_TRIES; tries++) {
	if ((fd = open(STR(lock), O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0) {
	    (void) close(fd);
	    ret = 1;
	    break;
	}
	if (errno == EACCES || errno == EPERM || errno == EROFS) {
	    ret = 0;				/* e.g. /var/mail without group mail */
	    break;
	}
	if (errno != EEXIST) {
	    vstring_sprintf(why, "create lock file %s: %m", STR(lock));
	    break;
	}
	if (stat(STR(lock), &st) == 0 && st.st_mtime + MBOX_DOTLOCK_STALE < time(0)) {
	    msg_warn("removing stale lock file %s", STR(lock));
	    (void) unlink(STR(lock));
	    continue;
	}
	sleep_ms(MBOX_LOCK_WAIT_MS);
    }
    if (tries >= MBOX_LOCK_TRIES)
	vstring_sprintf(why, "timeout waiting for lock file %s", STR(lock));
    vstring_free(lock);
    return (ret);
}

/* dot_unlock - remove PATH.lock */

static void dot_unlock(const char *path)
{
    VSTRING *lock = vstring_alloc(100);

    vstring_sprintf(lock, "%s.lock", path);
    if (unlink(STR(lock)) < 0 && errno != ENOENT && errno != EACCES
	&& errno != EPERM && errno != EROFS)
	msg_warn("remove lock file %s: %m", STR(lock));
    vstring_free(lock);
}

/*
 * fcntl_lock - an fcntl lock with a bounded wait: exclusive, or shared on
 * a descriptor open for reading only.  These are classic (per-process)
 * locks, as procmail, mutt and Dovecot take: closing ANY descriptor of the
 * file in this process drops them, so callers keep one open while locked.
 */
static int fcntl_lock(int fd, const char *path, VSTRING *why)
{
    struct flock fl;
    int     tries;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY ? F_RDLCK : F_WRLCK;
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

/* mbox_lock - dot-lock (when the directory allows) and fcntl lock */

int     mbox_lock(int fd, const char *path, VSTRING *why)
{
    int     dot;

    if ((dot = dot_lock(path, why)) < 0)
	return (-1);
    if (fcntl_lock(fd, path, why) < 0) {
	if (dot > 0)
	    dot_unlock(path);
	return (-1);
    }
    return (0);
}

int     mbox_replaced(int fd, const char *path)
{
    struct stat fst, pst;

    if (fstat(fd, &fst) < 0 || stat(path, &pst) < 0)
	return (1);
    return (fst.st_dev != pst.st_dev || fst.st_ino != pst.st_ino);
}

/* mbox_unlock - release both locks */

void    mbox_unlock(int fd, const char *path)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) < 0)
	msg_warn("unlock %s: %m", path);
    dot_unlock(path);
}

/* mbox_write - MAILBOX_WRITE_FN for mbox: quote "From " at line starts */

static int mbox_write(void *sinkp, const char *data, size_t len)
{
    static const char from[] = "From ";
    SINK   *s = (SINK *) sinkp;

    if (len > 0)
	s->last = (unsigned char) data[len - 1];
    while (len > 0 && s->error == 0) {
	if (s->bol) {
	    char    c = *data++;

	    len--;
	    s->pend[s->npend++] = c;
	    if (c == from[s->npend - 1]) {
		if (s->npend == sizeof(s->pend)) {
		    sink_put(s, ">", 1);
		    sink_put(s, s->pend, s->npend);
		    s->npend = 0;
		    s->bol = 0;
		}
		continue;
	    }
	    sink_put(s, s->pend, s->npend);
	    s->npend = 0;
	    s->bol = (c == '\n');
	} else {
	    const char *nl = memchr(data, '\n', len);
	    size_t  n = nl ? (size_t) (nl - data) + 1 : len;

	    sink_put(s, data, n);
	    data += n;
	    len -= n;
	    s->bol = (nl != 0);
	}
    }
    return (s->error ? -1 : 0);
}

/* mbox_write_message - From line, content, final newline and empty line */

static int mbox_write_message(SINK *s, const char *sender, time_t arrival,
			              MAILBOX_SOURCE source, void *ctx)
{
    VSTRING *line = vstring_alloc(100);
    struct tm tm;
    char    date[32];
    int     ret;

    localtime_r(&arrival, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    /* Postfix: "From sender  Mon Nov 23 15:07:19 2026" (two spaces) */
    vstring_sprintf(line, "From %s  %s\n", *sender ? sender : MAILER_DAEMON, date);
    sink_put(s, STR(line), LEN(line));
    vstring_free(line);
    ret = source(mbox_write, s, ctx);
    if (s->npend > 0) {
	sink_put(s, s->pend, s->npend);
	s->npend = 0;
    }
    if (s->last != '\n' && s->last != -1)
	sink_put(s, "\n", 1);
    sink_put(s, "\n", 1);
    if (sink_flush(s) == 0 && fsync(s->fd) < 0)
	s->error = errno;
    return (s->error ? -1 : ret);
}

int     mbox_open(const char *path, uid_t owner, uid_t chown_uid, gid_t chown_gid,
		          struct stat *st, VSTRING *why, int *temporary)
{
    int     fd;

    *temporary = 1;
    fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, st,
		   chown_uid, chown_gid, why);
    if (fd < 0)
	return (-1);
    if (!S_ISREG(st->st_mode)) {
	vstring_sprintf(why, "destination %s is not a regular file", path);
	*temporary = 0;
    } else if (owner != (uid_t) -1 && st->st_uid != owner) {
	vstring_sprintf(why, "destination %s is not owned by recipient", path);
    } else {
	return (fd);
    }
    (void) close(fd);
    return (-1);
}

int     mbox_append(int fd, const char *path, const char *sender, time_t arrival,
		            MAILBOX_SOURCE source, void *ctx,
		            VSTRING *why, int *temporary)
{
    SINK    sink;
    struct stat st;
    int     ret;

    *temporary = 1;
    if (fstat(fd, &st) < 0)
	return (mailbox_error(why, temporary, errno, "fstat mailbox", path));
    if (arrival == 0)
	arrival = time((time_t *) 0);
    sink_init(&sink, fd);
    ret = mbox_write_message(&sink, sender, arrival, source, ctx);
    if (ret != 0) {
	if (sink.error)
	    mailbox_error(why, temporary, sink.error, "write mailbox", path);
	else
	    vstring_sprintf(why, "error reading message content");
	if (ftruncate(fd, st.st_size) < 0)
	    msg_warn("truncate mailbox %s back to %ld bytes: %m",
		     path, (long) st.st_size);
	ret = -1;
    }
    sink_free(&sink);
    return (ret);
}

int     mbox_deliver(const char *path, const char *sender, time_t arrival,
		             MAILBOX_SOURCE source, void *ctx,
		             VSTRING *why, int *temporary)
{
    struct stat st;
    int     fd;
    int     ret;

    vstring_reset(why);
    if ((fd = mbox_open(path, -1, -1, -1, &st, why, temporary)) < 0)
	return (-1);
    if (mbox_lock(fd, path, why) < 0) {
	(void) close(fd);
	return (-1);
    }
    ret = mbox_append(fd, path, sender, arrival, source, ctx, why, temporary);
    mbox_unlock(fd, path);
    if (close(fd) < 0 && ret == 0) {
	mailbox_error(why, temporary, errno, "close mailbox", path);
	ret = -1;
    }
    return (ret);
}
