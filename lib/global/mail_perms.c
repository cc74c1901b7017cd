/*
 * mail_perms.c - compare or set the owners and modes of the queue tree
 * and of root's files (mail_perms.h).
 *
 * One walker serves both: it opens a directory, makes it the current
 * directory, and looks at each entry by its plain name there, so no path
 * with a directory that another account could swap is ever resolved.
 * Checking only looks (lstat); fixing opens each entry with safe_open()
 * or safe_open_dir() and changes the open descriptor.
 */
#include "sys_defs.h"
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "mail_perms.h"
#include "safe_open.h"
#include "vstring.h"

#define QP_MAX_DEPTH	6		/* hash_queue_depth is at most 4 */
#define QP_DIR_MODE	0700		/* directories inside the queues */

const MAIL_PERMS_DIR mail_perms_dirs[] = {
    {MAIL_QUEUE_INCOMING, 0700, 0, 0, 1},
    {MAIL_QUEUE_ACTIVE, 0700, 0, 0, 1},
    {MAIL_QUEUE_DEFERRED, 0700, 0, 0, 1},
    {MAIL_QUEUE_HOLD, 0700, 0, 0, 1},
    {MAIL_QUEUE_CORRUPT, 0700, 0, 0, 1},
    {MAIL_QUEUE_MAILDROP, 03733, 0, 1, 0},
    {MAIL_QUEUE_DEFER, 0700, 0, 0, 1},
    {MAIL_QUEUE_BOUNCE, 0700, 0, 0, 1},
    {MAIL_QUEUE_TRACE, 0700, 0, 0, 1},
    {MAIL_QUEUE_PUBLIC, 0755, 0, 0, 0},
    {MAIL_QUEUE_PRIVATE, 0700, 0, 0, 0},
    {MAIL_QUEUE_PID, 0755, 1, 0, 0},
    {0, 0, 0, 0, 0},
};

typedef struct QP {
    CONF_CHECK *cc;
    uid_t   owner;			/* mail_owner */
    gid_t   group;
    int     as_root;
    int     fix;			/* set, rather than compare */
    int     corrupt;			/* walking corrupt/ */
    int     quiet;			/* fix without saying so (just made) */
    VSTRING *path;			/* what is being looked at, for messages */
    int     reports;			/* file problems reported in this walk */
    int     more;			/* and those only counted */
} QP;

/* qp_user - a uid's name for messages */

static const char *qp_user(uid_t uid, VSTRING *buf)
{
    struct passwd *pw = getpwuid(uid);

    if (pw)
	vstring_strcpy(buf, pw->pw_name);
    else
	vstring_sprintf(buf, "uid %ld", (long) uid);
    return (STR(buf));
}

static const char *qp_group(gid_t gid, VSTRING *buf)
{
    struct group *gr = getgrgid(gid);

    if (gr)
	vstring_strcpy(buf, gr->gr_name);
    else
	vstring_sprintf(buf, "gid %ld", (long) gid);
    return (STR(buf));
}

/* qp_file_problem - a problem with an entry of a walk: reported or counted */

static void qp_file_problem(QP *qp, int severity, const char *what)
{
    if (qp->reports++ < MAIL_PERMS_MAX_REPORTS)
	conf_check_report(qp->cc, severity, "%s: %s", what, STR(qp->path));
    else
	qp->more++;
}

/* qp_compare - report where ST differs from OWNER and MODE (-1: any mode) */

static void qp_compare(QP *qp, const struct stat *st, uid_t owner, mode_t mode)
{
    VSTRING *buf = vstring_alloc(50);
    VSTRING *what = vstring_alloc(100);
    mode_t  have = st->st_mode & 07777;

    if (st->st_uid != owner) {
	vstring_sprintf(what, "not owned by %s", qp_user(owner, buf));
	qp_file_problem(qp, CONF_CHECK_ERROR, STR(what));
    }
    if (mode != (mode_t) -1 && have != mode) {
	if ((have & ~mode) & (S_IWGRP | S_IWOTH))
	    vstring_strcpy(what, "group or other writable");
	else
	    vstring_sprintf(what, "wrong permissions %04o (should be %04o)",
			    (unsigned) have, (unsigned) mode);
	qp_file_problem(qp, CONF_CHECK_ERROR, STR(what));
    }
    vstring_free(buf);
    vstring_free(what);
}

/* qp_set - give the open FD (status ST) OWNER, GROUP and MODE (-1: keep) */

static void qp_set(QP *qp, int fd, const struct stat *st, uid_t owner,
		           gid_t group, mode_t mode)
{
    if (st->st_uid != owner || (group != (gid_t) -1 && st->st_gid != group)) {
	if (fchown(fd, owner, group) < 0)
	    qp_file_problem(qp, CONF_CHECK_ERROR, "cannot change the owner");
	else if (!qp->quiet)
	    msg_info("%s: owner %ld:%ld -> %ld:%ld", STR(qp->path),
		     (long) st->st_uid, (long) st->st_gid, (long) owner,
		     group == (gid_t) -1 ? (long) st->st_gid : (long) group);
    }
    if (mode != (mode_t) -1 && (st->st_mode & 07777) != mode) {
	if (fchmod(fd, mode) < 0)
	    qp_file_problem(qp, CONF_CHECK_ERROR, "cannot change the mode");
	else if (!qp->quiet)
	    msg_info("%s: mode %04o -> %04o", STR(qp->path),
		     (unsigned) (st->st_mode & 07777), (unsigned) mode);
    }
}

static void qp_walk(QP *qp, int fd, int depth);

/* qp_dir_entry - a directory inside a queue (a hash level) */

static void qp_dir_entry(QP *qp, const char *name, const struct stat *lst,
			         int depth)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     fd;

    if (!qp->fix)
	qp_compare(qp, lst, qp->owner, QP_DIR_MODE);
    if (depth >= QP_MAX_DEPTH) {
	qp_file_problem(qp, CONF_CHECK_ERROR, "unexpected directory");
    } else if ((fd = safe_open_dir(name, 0, &st, why)) < 0) {
	qp_file_problem(qp, CONF_CHECK_ERROR, STR(why));
    } else {
	if (qp->fix)
	    qp_set(qp, fd, &st, qp->owner, qp->group, QP_DIR_MODE);
	qp_walk(qp, fd, depth + 1);
	(void) close(fd);
    }
    vstring_free(why);
}

/*
 * qp_file_entry - a file inside a queue: mail_owner's.  Not so in
 * corrupt/: pickup moves users' maildrop files there as they are, and
 * their owner is who wrote them.
 */

static void qp_file_entry(QP *qp, const char *name, const struct stat *lst)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     fd;

    if (qp->corrupt) {
	if (!qp->fix)
	    conf_check_report(qp->cc, CONF_CHECK_WARN, "damaged message: %s",
			      STR(qp->path));
    } else if (!qp->fix) {
	qp_compare(qp, lst, qp->owner, (mode_t) -1);
    } else if ((fd = safe_open(name, O_RDONLY, 0, &st, -1, -1, why)) < 0) {
	qp_file_problem(qp, CONF_CHECK_ERROR, STR(why));
    } else {
	qp_set(qp, fd, &st, qp->owner, qp->group, (mode_t) -1);
	(void) close(fd);
    }
    vstring_free(why);
}

/* qp_entry - one entry of the current directory */

static void qp_entry(QP *qp, const char *name, int depth)
{
    size_t  len = LEN(qp->path);
    struct stat st;

    vstring_sprintf_append(qp->path, "/%s", name);
    if (lstat(name, &st) < 0) {
	if (errno != ENOENT)			/* gone: delivered meanwhile */
	    qp_file_problem(qp, CONF_CHECK_ERROR, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
	qp_dir_entry(qp, name, &st, depth);
    } else if (S_ISREG(st.st_mode)) {
	qp_file_entry(qp, name, &st);
    } else if (S_ISLNK(st.st_mode)) {
	qp_file_problem(qp, CONF_CHECK_ERROR, "unexpected symbolic link");
    } else {
	qp_file_problem(qp, CONF_CHECK_ERROR, "not a regular file or directory");
    }
    vstring_truncate(qp->path, len);
}

/* qp_walk - every entry of the directory open at FD, named qp->path */

static void qp_walk(QP *qp, int fd, int depth)
{
    struct dirent *de;
    DIR    *dir;
    int     dfd;

    if (fchdir(fd) < 0 || (dfd = dup(fd)) < 0) {
	qp_file_problem(qp, CONF_CHECK_ERROR, strerror(errno));
	return;
    }
    if ((dir = fdopendir(dfd)) == 0) {
	qp_file_problem(qp, CONF_CHECK_ERROR, strerror(errno));
	(void) close(dfd);
	return;
    }
    while ((de = readdir(dir)) != 0) {
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
	    continue;
	qp_entry(qp, de->d_name, depth);
	if (fchdir(fd) < 0)
	    msg_fatal("fchdir %s: %m", STR(qp->path));
    }
    (void) closedir(dir);
}

/* qp_walk_queue - everything below the queue directory NAME (fd: the queue) */

static void qp_walk_queue(QP *qp, const MAIL_PERMS_DIR *qd, int fd)
{
    qp->reports = qp->more = 0;
    qp->corrupt = strcmp(qd->name, MAIL_QUEUE_CORRUPT) == 0;
    qp_walk(qp, fd, 1);
    if (qp->more)
	conf_check_report(qp->cc, CONF_CHECK_ERROR, "%s: %d more problems",
			  STR(qp->path), qp->more);
}

/* qp_dir_owner, qp_dir_group - what is expected of a queue directory */

static uid_t qp_dir_owner(QP *qp, const MAIL_PERMS_DIR *qd)
{
    return (qd->root_owned && qp->as_root ? 0 : qp->owner);
}

static gid_t qp_dir_group(QP *qp, const MAIL_PERMS_DIR *qd)
{
    return (qd->root_owned && qp->as_root ? 0 : qp->group);
}

/* qp_check_dir - one queue directory, and for the queues what is in it */

static void qp_check_dir(QP *qp, const MAIL_PERMS_DIR *qd)
{
    VSTRING *buf = vstring_alloc(50);
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     fd;

    if (lstat(qd->name, &st) < 0) {
	if (errno != ENOENT)			/* missing: made later */
	    qp_file_problem(qp, CONF_CHECK_ERROR, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
	qp_file_problem(qp, CONF_CHECK_ERROR, "not a directory");
    } else {
	qp_compare(qp, &st, qp_dir_owner(qp, qd), qd->mode);
	if (qd->group && st.st_gid != qp->group) {
	    vstring_sprintf(why, "not owned by group %s", qp_group(qp->group, buf));
	    qp_file_problem(qp, CONF_CHECK_ERROR, STR(why));
	}
	if (qd->walk && (fd = safe_open_dir(qd->name, 0, &st, why)) >= 0) {
	    qp_walk_queue(qp, qd, fd);
	    (void) close(fd);
	}
    }
    vstring_free(buf);
    vstring_free(why);
}

/* qp_check_top - queue_directory itself */

static int qp_check_top(QP *qp, const char *queue_dir)
{
    struct stat st;

    if (stat(queue_dir, &st) < 0)
	return (-1);				/* made by check or start */
    if (!S_ISDIR(st.st_mode)) {
	conf_check_report(qp->cc, CONF_CHECK_ERROR, "not a directory: %s", queue_dir);
	return (-1);
    }
    if (qp->as_root && st.st_uid != 0)
	conf_check_report(qp->cc, CONF_CHECK_ERROR, "not owned by root: %s", queue_dir);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
	conf_check_report(qp->cc, CONF_CHECK_ERROR, "group or other writable: %s",
			  queue_dir);
    return (0);
}

static void qp_init(QP *qp, CONF_CHECK *cc, uid_t owner, gid_t group,
		            int as_root, int fix)
{
    memset(qp, 0, sizeof(*qp));
    qp->cc = cc;
    qp->owner = owner;
    qp->group = group;
    qp->as_root = as_root;
    qp->fix = fix;
    qp->path = vstring_alloc(100);
}

void    mail_perms_check_queue(CONF_CHECK *cc, const char *queue_dir, uid_t owner,
			          gid_t group, int as_root)
{
    QP      qp;
    int     cwd;
    int     qfd;
    struct stat st;
    VSTRING *why = vstring_alloc(100);

    qp_init(&qp, cc, owner, group, as_root, 0);
    if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	msg_fatal("open the current directory: %m");
    if (qp_check_top(&qp, queue_dir) == 0) {
	if ((qfd = safe_open_dir(queue_dir, 0, &st, why)) < 0) {
	    conf_check_report(cc, CONF_CHECK_ERROR, "%s: %s", queue_dir, STR(why));
	} else {
	    for (const MAIL_PERMS_DIR *qd = mail_perms_dirs; qd->name; qd++) {
		if (fchdir(qfd) < 0)
		    msg_fatal("fchdir %s: %m", queue_dir);
		vstring_sprintf(qp.path, "%s/%s", queue_dir, qd->name);
		qp.reports = qp.more = 0;
		qp_check_dir(&qp, qd);
	    }
	    (void) close(qfd);
	}
    }
    if (fchdir(cwd) < 0)
	msg_fatal("back to the current directory: %m");
    (void) close(cwd);
    vstring_free(qp.path);
    vstring_free(why);
}

/* qp_fix_dir - make one queue directory (in the current one) right */

static void qp_fix_dir(QP *qp, const MAIL_PERMS_DIR *qd)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     created;
    int     fd;

    if ((created = (mkdir(qd->name, qd->mode) == 0)) != 0)
	msg_info("%s: created", STR(qp->path));
    else if (errno != EEXIST)
	conf_check_report(qp->cc, CONF_CHECK_ERROR, "create directory %s: %m",
			  STR(qp->path));
    if ((fd = safe_open_dir(qd->name, 0, &st, why)) < 0) {
	conf_check_report(qp->cc, CONF_CHECK_ERROR, "%s: %s", STR(qp->path), STR(why));
    } else {
	qp->quiet = created;
	qp_set(qp, fd, &st, qp_dir_owner(qp, qd), qp_dir_group(qp, qd), qd->mode);
	qp->quiet = 0;
	if (qd->walk)
	    qp_walk_queue(qp, qd, fd);
	(void) close(fd);
    }
    vstring_free(why);
}

void    mail_perms_fix_queue(CONF_CHECK *cc, const char *queue_dir, uid_t owner,
			        gid_t group)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    QP      qp;
    int     qfd;

    qp_init(&qp, cc, owner, group, 1, 1);
    if ((qfd = safe_open_dir(queue_dir, 0, &st, why)) < 0) {
	conf_check_report(cc, CONF_CHECK_ERROR, "%s: %s", queue_dir, STR(why));
    } else {
	vstring_strcpy(qp.path, queue_dir);
	qp_set(&qp, qfd, &st, 0, (gid_t) -1, 0755);
	for (const MAIL_PERMS_DIR *qd = mail_perms_dirs; qd->name; qd++) {
	    if (fchdir(qfd) < 0)
		msg_fatal("fchdir %s: %m", queue_dir);
	    vstring_sprintf(qp.path, "%s/%s", queue_dir, qd->name);
	    qp_fix_dir(&qp, qd);
	}
	if (fchdir(qfd) < 0)
	    msg_fatal("fchdir %s: %m", queue_dir);
	(void) close(qfd);
    }
    vstring_free(qp.path);
    vstring_free(why);
}

void    mail_perms_check_root(CONF_CHECK *cc, const char *path)
{
    struct stat st;

    if (getuid() != 0 || stat(path, &st) < 0)
	return;
    if (st.st_uid != 0)
	conf_check_report(cc, CONF_CHECK_ERROR, "not owned by root: %s", path);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
	conf_check_report(cc, CONF_CHECK_ERROR, "group or other writable: %s", path);
}

void    mail_perms_fix_root(CONF_CHECK *cc, const char *path, mode_t mode)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    QP      qp;
    int     fd;

    qp_init(&qp, cc, 0, (gid_t) -1, 1, 1);
    vstring_strcpy(qp.path, path);
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
	fd = safe_open_dir(path, 0, &st, why);
    else
	fd = safe_open(path, O_RDONLY, 0, &st, -1, -1, why);
    if (fd < 0) {
	conf_check_report(cc, CONF_CHECK_ERROR, "%s: %s", path, STR(why));
    } else {
	if (mode == (mode_t) -1)
	    mode = st.st_mode & 07777 & ~(S_IWGRP | S_IWOTH);
	qp_set(&qp, fd, &st, 0, (gid_t) -1, mode);
	(void) close(fd);
    }
    vstring_free(qp.path);
    vstring_free(why);
}
