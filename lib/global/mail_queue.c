/*
 * mail_queue.c - queue directories, queue ids and queue file paths.
 *
 * Programs chdir() to queue_directory with mail_queue_chdir() and then
 * name files by queue and id: mail_queue_enter() creates a new file with
 * a fresh id (8 hex digits of seconds, 5 of microseconds), mail_queue_rename()
 * moves a file between queues, mail_queue_scan() lists a queue (all names
 * first), mail_queue_scan_open/next/close() walk it incrementally.  Queues in
 * hash_queue_names are hashed by the id's microsecond digits into
 * hash_queue_depth levels of one-digit subdirectories, created on demand.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/time.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_owner.h"

#define MAIL_QUEUE_HASH_OFFSET	8	/* first microsecond digit of an id */
#define MAIL_QUEUE_MAX_DEPTH	4

/* mail_queue_chdir - chdir to queue_directory, fatal on failure */

void    mail_queue_chdir(void)
{
    const char *dir = conf_str("queue_directory");

    if (chdir(dir) < 0)
	msg_fatal("chdir %s: %m", dir);
}

/* mail_queue_id_ok - 13 upper-case hex digits */

int     mail_queue_id_ok(const char *id)
{
    int     i;

    for (i = 0; i < MAIL_QUEUE_ID_LEN; i++)
	if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F')))
	    return (0);
    return (id[i] == 0);
}

/* mail_queue_hash_depth - hash levels for QUEUE (0 when not hashed) */

static int mail_queue_hash_depth(const char *queue)
{
    const char *names = conf_str("hash_queue_names");
    size_t  qlen = strlen(queue);
    const char *cp = names;
    int     depth;

    while (*cp) {
	size_t  n;

	cp += strspn(cp, ", \t\r\n");
	n = strcspn(cp, ", \t\r\n");
	if (n == qlen && strncmp(cp, queue, n) == 0) {
	    depth = conf_int("hash_queue_depth");
	    return (depth > MAIL_QUEUE_MAX_DEPTH ? MAIL_QUEUE_MAX_DEPTH : depth);
	}
	cp += n;
    }
    return (0);
}

/* mail_queue_dir - the directory for ID in QUEUE */

const char *mail_queue_dir(VSTRING *buf, const char *queue, const char *id)
{
    int     depth = mail_queue_hash_depth(queue);
    int     i;

    vstring_strcpy(buf, queue);
    if (strlen(id) < MAIL_QUEUE_HASH_OFFSET + (size_t) depth)
	msg_panic("mail_queue_dir: bad queue id \"%s\"", id);
    for (i = 0; i < depth; i++) {
	vstring_addch(buf, '/');
	vstring_addch(buf, id[MAIL_QUEUE_HASH_OFFSET + i]);
    }
    return (STR(buf));
}

/* mail_queue_path - the file name of ID in QUEUE */

const char *mail_queue_path(VSTRING *buf, const char *queue, const char *id)
{
    mail_queue_dir(buf, queue, id);
    vstring_addch(buf, '/');
    vstring_strcat(buf, id);
    return (STR(buf));
}

/* mail_queue_mkhash - create the hash subdirectories for ID in QUEUE */

static int mail_queue_mkhash(const char *queue, const char *id)
{
    VSTRING *dir = vstring_alloc(32);
    int     depth = mail_queue_hash_depth(queue);
    int     i;
    int     ret = 0;

    vstring_strcpy(dir, queue);
    for (i = 0; i < depth; i++) {
	vstring_addch(dir, '/');
	vstring_addch(dir, id[MAIL_QUEUE_HASH_OFFSET + i]);
	if (mkdir(STR(dir), 0700) < 0 && errno != EEXIST) {
	    msg_warn("mkdir %s: %m", STR(dir));
	    ret = -1;
	    break;
	}
    }
    vstring_free(dir);
    return (ret);
}

/* mail_queue_make_id - format the id for TV */

static void mail_queue_make_id(VSTRING *id, const struct timeval *tv)
{
    vstring_sprintf(id, "%08lX%05lX", (unsigned long) tv->tv_sec & 0xffffffffUL,
		    (unsigned long) tv->tv_usec);
}

/*
 * mail_queue_create - create a new, empty, uniquely named locked file:
 * its descriptor, or -1 with errno (warned).  Safe in a worker thread.
 */
int     mail_queue_create(const char *queue, VSTRING *id)
{
    VSTRING *path = vstring_alloc(64);
    struct timeval tv;
    int     fd;
    int     tries;
    int     mkdirs = 0;
    int     saved;

    gettimeofday(&tv, (struct timezone *) 0);
    for (tries = 0; /* see below */ ; tries++) {
	mail_queue_make_id(id, &tv);
	mail_queue_path(path, queue, STR(id));
	if ((fd = open(STR(path), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0)
	    break;
	if (errno == EEXIST && tries < 1000000) {
	    if (++tv.tv_usec >= 1000000) {
		tv.tv_usec = 0;
		tv.tv_sec++;
	    }
	    continue;
	}
	if (errno == ENOENT && mkdirs++ < 20 && mail_queue_hash_depth(queue) > 0
	    && mail_queue_mkhash(queue, STR(id)) == 0)
	    continue;
	saved = errno;
	msg_warn("create file %s: %m", STR(path));
	vstring_free(path);
	errno = saved;
	return (-1);
    }
    if (flock(fd, LOCK_EX) < 0) {
	saved = errno;
	msg_warn("lock file %s: %m", STR(path));
	(void) unlink(STR(path));
	(void) close(fd);
	vstring_free(path);
	errno = saved;
	return (-1);
    }
    vstring_free(path);
    return (fd);
}

/* mail_queue_enter - mail_queue_create() as a stream */

VSTREAM *mail_queue_enter(const char *queue, VSTRING *id)
{
    int     fd;

    if ((fd = mail_queue_create(queue, id)) < 0)
	return (0);
    return (vstream_fdopen(fd, O_RDWR));
}

/* mail_queue_move - rename OLD to NEW without replacing an existing NEW */

static int mail_queue_move(const char *old_path, const char *new_path)
{
    if (renameat2(AT_FDCWD, old_path, AT_FDCWD, new_path, RENAME_NOREPLACE) == 0)
	return (0);
    if (errno != EINVAL && errno != ENOSYS)
	return (-1);
    /* File system without RENAME_NOREPLACE: link + unlink never replaces */
    if (link(old_path, new_path) == 0)
	return (unlink(old_path));
    if (errno == EPERM || errno == EXDEV)
	return (rename(old_path, new_path));
    return (-1);
}

/* mail_queue_rename - move ID from OLD to NEW queue (creating hash dirs) */

int     mail_queue_rename(const char *id, const char *old_queue,
			          const char *new_queue)
{
    VSTRING *old_path = vstring_alloc(64);
    VSTRING *new_path = vstring_alloc(64);
    int     ret;
    int     saved;

    if (!mail_queue_id_ok(id)) {
	msg_warn("mail_queue_rename: bad queue id \"%s\"", id);
	errno = EINVAL;
	ret = -1;
    } else {
	mail_queue_path(old_path, old_queue, id);
	mail_queue_path(new_path, new_queue, id);
	ret = mail_queue_move(STR(old_path), STR(new_path));
	if (ret < 0 && errno == ENOENT && access(STR(old_path), F_OK) == 0
	    && mail_queue_mkhash(new_queue, id) == 0)
	    ret = mail_queue_move(STR(old_path), STR(new_path));
    }
    saved = errno;
    vstring_free(old_path);
    vstring_free(new_path);
    errno = saved;
    return (ret);
}

/* mail_queue_remove - unlink ID in QUEUE */

int     mail_queue_remove(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    int     ret;
    int     saved;

    if (!mail_queue_id_ok(id)) {
	msg_warn("mail_queue_remove: bad queue id \"%s\"", id);
	errno = EINVAL;
	ret = -1;
    } else {
	ret = unlink(mail_queue_path(path, queue, id));
    }
    saved = errno;
    vstring_free(path);
    errno = saved;
    return (ret);
}

/* mail_queue_open - open ID in QUEUE; NULL with errno on failure */

VSTREAM *mail_queue_open(const char *queue, const char *id, int oflags)
{
    VSTRING *path;
    int     fd;
    int     saved;

    if (!mail_queue_id_ok(id)) {
	errno = EINVAL;
	return (0);
    }
    path = vstring_alloc(64);
    fd = open(mail_queue_path(path, queue, id), oflags | O_NOFOLLOW | O_CLOEXEC, 0600);
    saved = errno;
    vstring_free(path);
    if (fd < 0) {
	errno = saved;
	return (0);
    }
    return (vstream_fdopen(fd, oflags & O_ACCMODE));
}

/*
 * An incremental walk of one queue: one open directory per level of
 * hashing, read as the caller asks for names (Postfix's scan_dir), so
 * that the first name comes at once and memory does not grow with the
 * queue.  Names come in directory order.
 */
struct MAIL_QUEUE_SCAN {
    DIR    *dirs[MAIL_QUEUE_MAX_DEPTH + 1];	/* open directory per level */
    int     level;			/* innermost open level, -1: done */
    VSTRING *path;			/* the directory of that level */
    char    id[MAIL_QUEUE_ID_LEN + 1];	/* the last name returned */
};

/* mail_queue_scan_push - descend into PATH/NAME (NAME NULL: PATH itself) */

static void mail_queue_scan_push(MAIL_QUEUE_SCAN *scan, const char *name)
{
    DIR    *dp;
    size_t  len = LEN(scan->path);

    if (name)
	vstring_sprintf_append(scan->path, "/%s", name);
    if ((dp = opendir(STR(scan->path))) == 0) {
	if (errno != ENOENT)
	    msg_warn("open directory %s: %m", STR(scan->path));
	vstring_truncate(scan->path, len);
	return;
    }
    scan->dirs[++scan->level] = dp;
}

/* mail_queue_scan_pop - done with the innermost directory */

static void mail_queue_scan_pop(MAIL_QUEUE_SCAN *scan)
{
    char   *slash;

    closedir(scan->dirs[scan->level--]);
    if (scan->level >= 0 && (slash = strrchr(STR(scan->path), '/')) != 0)
	vstring_truncate(scan->path, slash - STR(scan->path));
}

MAIL_QUEUE_SCAN *mail_queue_scan_open(const char *queue)
{
    MAIL_QUEUE_SCAN *scan = mycalloc(1, sizeof(*scan));

    scan->level = -1;
    scan->path = vstring_alloc(64);
    vstring_strcpy(scan->path, queue);
    mail_queue_scan_push(scan, (const char *) 0);
    return (scan);
}

const char *mail_queue_scan_next(MAIL_QUEUE_SCAN *scan)
{
    struct dirent *de;
    const char *name;

    while (scan->level >= 0) {
	if ((de = readdir(scan->dirs[scan->level])) == 0) {
	    mail_queue_scan_pop(scan);
	    continue;
	}
	name = de->d_name;
	if (mail_queue_id_ok(name)) {
	    memcpy(scan->id, name, sizeof(scan->id));
	    return (scan->id);
	}
	if (scan->level < MAIL_QUEUE_MAX_DEPTH && name[1] == 0
	    && strchr("0123456789ABCDEF", name[0]) != 0)
	    mail_queue_scan_push(scan, name);
    }
    return (0);
}

void    mail_queue_scan_close(MAIL_QUEUE_SCAN *scan)
{
    while (scan->level >= 0)
	mail_queue_scan_pop(scan);
    vstring_free(scan->path);
    myfree(scan);
}

/* mail_queue_scan - call FN(id, ctx) for every queue file in QUEUE */

void    mail_queue_scan(const char *queue,
			        void (*fn) (const char *id, void *ctx), void *ctx)
{
    MAIL_QUEUE_SCAN *scan;
    const char *id;
    char  **ids = 0;
    int     count = 0;
    int     size = 0;
    int     i;

    /* Collect first, so that FN may rename or remove files safely. */
    scan = mail_queue_scan_open(queue);
    while ((id = mail_queue_scan_next(scan)) != 0) {
	if (count >= size) {
	    size = size ? 2 * size : 64;
	    ids = myrealloc(ids, size * sizeof(*ids));
	}
	ids[count++] = mystrdup(id);
    }
    mail_queue_scan_close(scan);
    for (i = 0; i < count; i++) {
	fn(ids[i], ctx);
	myfree(ids[i]);
    }
    if (ids)
	myfree(ids);
}

/*
 * mail_queue_mkdir - create or fix one queue directory.  The owner and
 * mode are set on the open directory, never by name: a name that another
 * account swapped for a symbolic link is refused (O_NOFOLLOW), not chowned.
 */
static void mail_queue_mkdir(const char *dir, mode_t mode, uid_t owner,
			             gid_t group)
{
    int     fd;

    if (mkdir(dir, mode) < 0 && errno != EEXIST)
	msg_fatal("create directory %s: %m", dir);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
	msg_fatal("open directory %s: %m", dir);
    if (geteuid() == 0 && fchown(fd, owner, group) < 0)
	msg_fatal("chown %s: %m", dir);
    if (fchmod(fd, mode) < 0)
	msg_fatal("chmod %s: %m", dir);
    (void) close(fd);
}

/* mail_queue_mkdirs - create the queue tree in the current directory */

void    mail_queue_mkdirs(uid_t owner, gid_t group)
{
    static const struct {
	const char *name;
	mode_t  mode;
	int     root;			/* root's when master runs as root */
    }       dirs[] = {
	{MAIL_QUEUE_INCOMING, 0700, 0},
	{MAIL_QUEUE_ACTIVE, 0700, 0},
	{MAIL_QUEUE_DEFERRED, 0700, 0},
	{MAIL_QUEUE_HOLD, 0700, 0},
	{MAIL_QUEUE_CORRUPT, 0700, 0},
	/* Users drop files in, cannot list or remove others' (maildrop.h) */
	{MAIL_QUEUE_MAILDROP, 03733, 0},
	{MAIL_QUEUE_DEFER, 0700, 0},
	{MAIL_QUEUE_BOUNCE, 0700, 0},
	{MAIL_QUEUE_TRACE, 0700, 0},
	{MAIL_QUEUE_PUBLIC, 0755, 0},	/* local users reach public/submit */
	{MAIL_QUEUE_PRIVATE, 0700, 0},
	{MAIL_QUEUE_PID, 0755, 1},	/* master's pid file: root's alone */
    };
    size_t  i;

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
	mail_queue_mkdir(dirs[i].name, dirs[i].mode,
			 dirs[i].root ? 0 : owner, dirs[i].root ? 0 : group);
}

/* mail_queue_mkdir_parents - create DIR and its parents, mode 0755 */
static void mail_queue_mkdir_parents(const char *dir)
{
    char   *copy = mystrdup(dir);

    for (char *cp = copy + 1; *cp; cp++) {
	if (*cp != '/')
	    continue;
	*cp = 0;
	if (mkdir(copy, 0755) < 0 && errno != EEXIST)
	    msg_fatal("create directory %s: %m", copy);
	*cp = '/';
    }
    if (mkdir(copy, 0755) < 0 && errno != EEXIST)
	msg_fatal("create directory %s: %m", copy);
    myfree(copy);
}

void    mail_queue_setup(void)
{
    uid_t   uid;
    gid_t   gid;

    struct stat st;

    mail_owner_ids(&uid, &gid);
    mail_queue_mkdir_parents(conf_str("queue_directory"));
    mail_queue_chdir();
    if (geteuid() == 0 && stat(".", &st) == 0
	&& (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))))
	msg_warn("queue_directory %s should be owned by root and writable by "
		 "root only", conf_str("queue_directory"));
    mail_queue_mkdirs(uid, gid);
}
