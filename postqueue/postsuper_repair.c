/*
 * postsuper_repair.c - postsuper -s and -p: the queue's structure and
 * stale temporary files, as Postfix's postsuper repairs them.
 *
 * Each queue directory is walked; one-character subdirectories (hash
 * levels) are entered, except in maildrop/.  For each name:
 *   - a hash subdirectory deeper than the queue's hash depth (after
 *     hash_queue_names or hash_queue_depth changed) is removed once the
 *     files in it have moved; a directory of any other name is removed
 *     if empty, else warned about;
 *   - anything that is not a regular file or directory is removed;
 *   - -p: a file in a message queue that is not complete (no owner x
 *     bit), untouched for PS_PURGE_AGE and not locked (its writer is
 *     gone) is removed (Postfix: 7 days, without a lock to tell);
 *   - a name that is not a queue id gets Postfix's "warning: bogus file
 *     name: PATH"; with -s it also moves to corrupt/ (Posthorn's
 *     addition: qmgr and showq skip such names, so it would lie there
 *     unseen);
 *   - -s: a file not where its id says (hash_queue_names,
 *     hash_queue_depth) is moved there.
 * Default queues: defer bounce trace maildrop incoming deferred hold,
 * log directories first, as Postfix.  active/ is never walked: it is
 * qmgr's, which puts what it finds there back into incoming/ at start.
 * As with Postfix, only warnings (and -v) tell what was done.
 */
#include "sys_defs.h"
#include <dirent.h>
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_queue.h"
#include "postsuper.h"

#define PS_PURGE_AGE	3600		/* -p: incomplete files older than this */
#define PS_MAX_DEPTH	8		/* hash levels looked into */

static const char *ps_repair_queues[] = {
    MAIL_QUEUE_DEFER, MAIL_QUEUE_BOUNCE, MAIL_QUEUE_TRACE, MAIL_QUEUE_MAILDROP,
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

static const char *ps_message_queues[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

/* One queue being walked */
typedef struct PS_WALK {
    const char *queue;
    int     actions;			/* PS_REPAIR_* */
    int     depth;			/* its hash levels */
    int     message_queue;		/* holds message files (not logs) */
} PS_WALK;

/* ps_hash_depth - the hash levels of QUEUE now */

static int ps_hash_depth(const char *queue)
{
    VSTRING *dir = vstring_alloc(64);
    int     depth = 0;

    mail_queue_dir(dir, queue, "0000000000000");
    for (const char *cp = STR(dir) + strlen(queue); *cp; cp++)
	depth += (*cp == '/');
    vstring_free(dir);
    return (depth);
}

/* ps_remove - remove PATH (not a file or a stale one) */

static void ps_remove(const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT)
	msg_warn("remove file %s: %m", path);
    else if (msg_verbose)
	msg_info("removed file %s", path);
}

/* ps_rmdir - remove the directory PATH, if it is empty */

static void ps_rmdir(const char *path, int quiet)
{
    if (rmdir(path) < 0) {
	if (errno != ENOENT && !(quiet && (errno == ENOTEMPTY || errno == EEXIST)))
	    msg_warn("remove subdirectory %s: %m", path);
    } else if (msg_verbose) {
	msg_info("remove subdirectory %s", path);
    }
}

/* ps_bogus - a name that is not a queue id; -s: to corrupt/ */

static void ps_bogus(const PS_WALK *walk, const char *path, const char *name)
{
    VSTRING *dest;

    msg_warn("bogus file name: %s", path);
    if ((walk->actions & PS_REPAIR_STRUCT) == 0)
	return;
    dest = vstring_alloc(64);
    vstring_sprintf(dest, "%s/%s", MAIL_QUEUE_CORRUPT, name);
    if (access(STR(dest), F_OK) == 0)
	msg_warn("%s: %s exists; left alone", path, STR(dest));
    else if (rename(path, STR(dest)) < 0)
	msg_warn("rename file %s as %s: %m", path, STR(dest));
    else
	msg_info("%s: moved to %s", path, STR(dest));
    vstring_free(dest);
}

/* ps_stale - -p: an incomplete message file whose writer is gone */

static int ps_stale(const char *path, const struct stat *st)
{
    int     fd;
    int     stale;

    if (MAIL_QUEUE_READY(st) || st->st_mtime > time((time_t *) 0) - PS_PURGE_AGE)
	return (0);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)) < 0)
	return (0);
    stale = !ps_locked(fd);
    close(fd);
    return (stale);
}

/* ps_place - -s: move a misplaced file where its id says */

static void ps_place(const PS_WALK *walk, const char *path, const char *name)
{
    VSTRING *want = vstring_alloc(64);
    VSTRING *dir = vstring_alloc(64);

    if (strcmp(mail_queue_path(want, walk->queue, name), path) != 0) {
	mail_queue_dir(dir, walk->queue, name);
	if (mkdir(STR(dir), 0700) < 0 && errno != EEXIST)
	    msg_warn("create directory %s: %m", STR(dir));
	else if (access(STR(want), F_OK) == 0)
	    msg_warn("%s: misplaced, but %s exists; left alone", path, STR(want));
	else if (rename(path, STR(want)) < 0)
	    msg_warn("rename file %s as %s: %m", path, STR(want));
	else if (msg_verbose)
	    msg_info("renamed file %s as %s", path, STR(want));
    }
    vstring_free(want);
    vstring_free(dir);
}

/* ps_file - one name that is not a directory */

static void ps_file(const PS_WALK *walk, const char *path, const char *name,
		            const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) {
	ps_remove(path);
    } else if ((walk->actions & PS_REPAIR_PURGE) && walk->message_queue
	       && ps_stale(path, st)) {
	ps_remove(path);
    } else if (!mail_queue_id_ok(name)) {
	ps_bogus(walk, path, name);
    } else if (walk->actions & PS_REPAIR_STRUCT) {
	ps_place(walk, path, name);
    }
}

/* ps_names - the names in DIR (collected first: the walk moves files) */

static char **ps_names(const char *dir, int *count)
{
    char  **names = 0;
    struct dirent *dp;
    DIR    *dirp;

    *count = 0;
    if ((dirp = opendir(dir)) == 0) {
	if (errno != ENOENT)
	    msg_warn("open directory %s: %m", dir);
	return (0);
    }
    while ((dp = readdir(dirp)) != 0) {
	if (strcmp(dp->d_name, ".") == 0 || strcmp(dp->d_name, "..") == 0)
	    continue;
	names = (char **) myrealloc(names, (*count + 1) * sizeof(char *));
	names[(*count)++] = mystrdup(dp->d_name);
    }
    closedir(dirp);
    return (names);
}

/* ps_walk - everything in DIR, LEVEL hash levels below the queue */

static void ps_walk(const PS_WALK *walk, const char *dir, int level)
{
    VSTRING *path = vstring_alloc(64);
    struct stat st;
    char  **names;
    int     count;

    names = ps_names(dir, &count);
    for (int i = 0; i < count; i++) {
	vstring_sprintf(path, "%s/%s", dir, names[i]);
	if (lstat(STR(path), &st) < 0) {
	    /* gone meanwhile */
	} else if (!S_ISDIR(st.st_mode)) {
	    ps_file(walk, STR(path), names[i], &st);
	} else if (strlen(names[i]) == 1 && level < PS_MAX_DEPTH
		   && strcmp(walk->queue, MAIL_QUEUE_MAILDROP) != 0) {
	    ps_walk(walk, STR(path), level + 1);
	    if (level + 1 > walk->depth)
		ps_rmdir(STR(path), 1);		/* no longer a hash level */
	} else {
	    ps_rmdir(STR(path), 0);
	}
	myfree(names[i]);
    }
    if (names)
	myfree(names);
    vstring_free(path);
}

void    ps_repair(const char *const *queues, int actions)
{
    PS_WALK walk;

    if (queues == 0)
	queues = ps_repair_queues;
    for (int i = 0; queues[i]; i++) {
	if (strcmp(queues[i], MAIL_QUEUE_ACTIVE) == 0)
	    continue;
	if (msg_verbose)
	    msg_info("queue: %s", queues[i]);
	walk.queue = queues[i];
	walk.actions = actions;
	walk.depth = ps_hash_depth(queues[i]);
	walk.message_queue = ps_in_list(queues[i], ps_message_queues);
	ps_walk(&walk, queues[i], 0);
    }
}
