/*
 * safe_open.c - open or create files where others may write (safe_open.h).
 *
 * The existing-file case checks first and opens second, then proves that
 * what was opened is what was checked: lstat() names the directory entry,
 * open(O_NOFOLLOW) cannot pass a symbolic link planted in between, and
 * fstat() must show the same device and inode as lstat() did.  O_NONBLOCK
 * keeps a planted FIFO from hanging the caller; it is cleared before the
 * descriptor is returned.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "safe_open.h"

void    (*safe_open_race_hook) (const char *path);

/* safe_refuse - close FD, set errno and WHY; -1 */

static int safe_refuse(int fd, int err, VSTRING *why, const char *fmt,...)
    PRINTFLIKE(4, 5);

static int safe_refuse(int fd, int err, VSTRING *why, const char *fmt,...)
{
    va_list ap;

    if (fd >= 0)
	(void) close(fd);
    vstring_reset(why);
    va_start(ap, fmt);
    vstring_vsprintf_append(why, fmt, ap);
    va_end(ap);
    errno = err;
    return (-1);
}

/* safe_blocking - clear O_NONBLOCK again; FD or -1 */

static int safe_blocking(int fd, VSTRING *why)
{
    int     flags = fcntl(fd, F_GETFL, 0);

    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
	return (safe_refuse(fd, errno, why, "cannot set file flags: %m"));
    return (fd);
}

/* safe_open_exist - open an existing file, carefully */

static int safe_open_exist(const char *path, int flags, struct stat *st,
			           VSTRING *why)
{
    struct stat lst;
    int     follow = 0;
    int     fd;
    int     saved;

    if (lstat(path, &lst) < 0) {
	saved = errno;
	return (safe_refuse(-1, saved, why, "cannot open file: %s", strerror(saved)));
    }
    if (S_ISLNK(lst.st_mode)) {
	if (lst.st_uid != 0)
	    return (safe_refuse(-1, EPERM, why, "file is a symbolic link"));
	follow = 1;				/* root's own link */
    }
    if (safe_open_race_hook)
	safe_open_race_hook(path);
    flags &= ~(O_CREAT | O_EXCL | O_TRUNC);
    flags |= O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    if ((fd = open(path, flags)) < 0) {
	saved = errno;
	if (saved == ELOOP)
	    return (safe_refuse(-1, EPERM, why, "file is a symbolic link"));
	return (safe_refuse(-1, saved, why, "cannot open file: %s", strerror(saved)));
    }
    if (fstat(fd, st) < 0)
	return (safe_refuse(fd, errno, why, "cannot get open file status: %m"));
    if (!follow && (st->st_dev != lst.st_dev || st->st_ino != lst.st_ino))
	return (safe_refuse(fd, EPERM, why, "file status changed unexpectedly"));
    if (S_ISDIR(st->st_mode))
	return (safe_refuse(fd, EISDIR, why, "file is a directory"));
    if (st->st_nlink != 1)
	return (safe_refuse(fd, EPERM, why, "file has %lu hard links",
			    (unsigned long) st->st_nlink));
    return (safe_blocking(fd, why));
}

/* safe_open_create - create a new file; O_EXCL never follows a symlink */

static int safe_open_create(const char *path, int flags, mode_t mode,
			            struct stat *st, uid_t user, gid_t group,
			            VSTRING *why)
{
    int     fd;
    int     saved;

    flags |= O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
    if ((fd = open(path, flags, mode)) < 0) {
	saved = errno;
	return (safe_refuse(-1, saved, why, "cannot create file exclusively: %s",
			    strerror(saved)));
    }
    if ((user != (uid_t) -1 || group != (gid_t) -1) && fchown(fd, user, group) < 0)
	msg_warn("%s: cannot change file ownership: %m", path);
    if (fstat(fd, st) < 0)
	return (safe_refuse(fd, errno, why, "cannot get open file status: %m"));
    return (fd);
}

int     safe_open(const char *path, int flags, mode_t mode, struct stat *st,
		          uid_t user, gid_t group, VSTRING *why)
{
    struct stat local_st;
    int     fd;

    if (st == 0)
	st = &local_st;
    switch (flags & (O_CREAT | O_EXCL)) {
    case 0:
	return (safe_open_exist(path, flags, st, why));
    case O_CREAT | O_EXCL:
	return (safe_open_create(path, flags, mode, st, user, group, why));
    case O_CREAT:
	fd = safe_open_exist(path, flags, st, why);
	if (fd < 0 && errno == ENOENT) {
	    fd = safe_open_create(path, flags, mode, st, user, group, why);
	    if (fd < 0 && errno == EEXIST)
		fd = safe_open_exist(path, flags, st, why);
	}
	return (fd);
    default:
	msg_panic("safe_open: O_EXCL without O_CREAT");
    }
}

int     safe_open_dir(const char *path, uid_t trusted_uid, struct stat *st,
		              VSTRING *why)
{
    struct stat lst;
    int     follow = 0;
    int     fd;
    int     saved;

    if (lstat(path, &lst) < 0) {
	saved = errno;
	return (safe_refuse(-1, saved, why, "cannot open directory: %s",
			    strerror(saved)));
    }
    if (S_ISLNK(lst.st_mode)) {
	if (lst.st_uid != 0 && lst.st_uid != trusted_uid)
	    return (safe_refuse(-1, EPERM, why, "directory is a symbolic link "
				"owned by uid %ld", (long) lst.st_uid));
	follow = 1;
    }
    if (safe_open_race_hook)
	safe_open_race_hook(path);
    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC
		   | (follow ? 0 : O_NOFOLLOW))) < 0) {
	saved = errno;
	if (saved == ELOOP)
	    return (safe_refuse(-1, EPERM, why, "directory is a symbolic link"));
	return (safe_refuse(-1, saved, why, "cannot open directory: %s",
			    strerror(saved)));
    }
    if (fstat(fd, st) < 0)
	return (safe_refuse(fd, errno, why, "cannot get directory status: %m"));
    if (!follow && (st->st_dev != lst.st_dev || st->st_ino != lst.st_ino))
	return (safe_refuse(fd, EPERM, why, "directory status changed unexpectedly"));
    return (fd);
}
