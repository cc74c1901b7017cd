/*
 * postsuper.c - queue maintenance for the super-user and mail_owner.
 *
 *   postsuper [-c config_dir] [-v] [-s] [-p] [-d ID|ALL|-] [-h ID|ALL|-]
 *             [-H ID|ALL|-] [-r ID|ALL|-] [queue ...]
 *
 * -d delete, -h put on hold, -H release from hold, -r requeue: each
 * option may be repeated; "ALL" means every message, "-" reads ids from
 * standard input.  Trailing queue names (incoming, active, deferred,
 * hold) limit the operation; the defaults are Postfix's.  These requests
 * go to qmgr over the queue-control protocol (lib/global/queue_control.h), so no
 * file that qmgr owns is edited behind its back.  When qmgr is not
 * running, postsuper does the same work on the files itself, skipping
 * active/ and any file that is locked (being written or delivered).
 * Summary lines go to stderr as Postfix's do ("Deleted: 3 messages").
 *
 * -s (structure check: misplaced files move to their hash directory,
 * files with bad names to corrupt/) and -p (purge incomplete incoming
 * files left by a crash, unlocked and older than an hour) always work on
 * the files directly, never in active/ and never on a locked file.
 *
 * Runs as mail_owner (root drops to it first).
 * Parameters: queue_directory, mail_owner, hash_queue_names,
 * hash_queue_depth, syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sysexits.h>
#include <utime.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "defer_log.h"
#include "queue_control.h"

#define PS_PURGE_AGE	3600		/* -p: incomplete files older than this */
#define PS_MAX_QUEUES	4

/* One operation: its option letter, request name, queues and summary */
typedef struct PS_OP {
    int     letter;
    const char *request;
    const char *queues[PS_MAX_QUEUES + 1];	/* Postfix's defaults */
    const char *label;			/* "Deleted" etc. */
    const char *log_text;		/* per message, "removed" etc. */
    char  **ids;
    int     id_count;
} PS_OP;

static PS_OP ps_ops[] = {
    {'d', "delete", {"hold", "incoming", "active", "deferred", 0}, "Deleted", "removed", 0, 0},
    {'h', "hold", {"incoming", "active", "deferred", 0}, "Placed on hold", "placed on hold", 0, 0},
    {'H', "release", {"hold", 0}, "Released from hold", "released from hold", 0, 0},
    {'r', "requeue", {"hold", "incoming", "active", "deferred", 0}, "Requeued", "requeued", 0, 0},
    {0},
};

static const char *ps_all_queues[] = {"incoming", "active", "deferred", "hold", 0};

/* ps_add_id - remember one id (or ALL) for OP; bad ids are warned about */

static void ps_add_id(PS_OP *op, const char *id)
{
    if (strcmp(id, "ALL") != 0 && !mail_queue_id_ok(id)) {
	msg_warn("invalid mail queue id: %s", id);
	return;
    }
    op->ids = (char **) myrealloc(op->ids, (op->id_count + 1) * sizeof(char *));
    op->ids[op->id_count++] = mystrdup(id);
}

/* ps_read_ids - "-": ids from stdin, separated by white space */

static void ps_read_ids(PS_OP *op)
{
    VSTRING *line = vstring_alloc(100);

    while (vstream_get_line(vstream_stdin(), line, 10000) > 0) {
	char   *cp = STR(line);
	char   *tok;

	while ((tok = strsep(&cp, " \t\r\n")) != 0)
	    if (*tok)
		ps_add_id(op, tok);
    }
    vstring_free(line);
}

static int ps_has_all(const PS_OP *op)
{
    for (int i = 0; i < op->id_count; i++)
	if (strcmp(op->ids[i], "ALL") == 0)
	    return (1);
    return (0);
}

/* ps_locked - true when someone holds the lock on FD */

static int ps_locked(int fd)
{
    if (flock(fd, LOCK_EX | LOCK_NB) < 0)
	return (1);
    return (0);
}

/* ps_direct_one - apply OP to QUEUE/ID on disk; 1 if done, else 0 */

static int ps_direct_one(const PS_OP *op, const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    struct utimbuf tbuf;
    int     fd;
    int     ret = 0;

    mail_queue_path(path, queue, id);
    if ((fd = open(STR(path), O_RDONLY)) < 0) {
	if (errno != ENOENT)
	    msg_warn("open %s: %m", STR(path));
	vstring_free(path);
	return (0);
    }
    if (ps_locked(fd)) {
	msg_warn("%s: file is in use; skipped", id);
    } else if (op->letter == 'd') {
	if (unlink(STR(path)) < 0) {
	    msg_warn("remove %s: %m", STR(path));
	} else {
	    (void) defer_log_remove(MAIL_QUEUE_DEFER, id);
	    (void) defer_log_remove(MAIL_QUEUE_BOUNCE, id);
	    (void) defer_log_remove(MAIL_QUEUE_TRACE, id);
	    ret = 1;
	}
    } else {
	const char *to = op->letter == 'h' ? MAIL_QUEUE_HOLD :
	op->letter == 'H' ? MAIL_QUEUE_DEFERRED : MAIL_QUEUE_INCOMING;

	if (strcmp(queue, to) == 0)
	    ret = 1;
	else if (mail_queue_rename(id, queue, to) < 0)
	    msg_warn("move %s to %s: %m", STR(path), to);
	else
	    ret = 1;
	if (ret && op->letter == 'H') {		/* eligible for delivery now */
	    tbuf.actime = tbuf.modtime = time((time_t *) 0);
	    (void) utime(mail_queue_path(path, to, id), &tbuf);
	}
    }
    if (ret)
	msg_info("%s: %s", id, op->log_text);
    close(fd);
    vstring_free(path);
    return (ret);
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

/* ps_direct - OP on the files of QUEUES; the number of messages done */

static long ps_direct(const PS_OP *op, const char *const *queues)
{
    long    count = 0;

    for (const char *const *qp = queues; *qp; qp++) {
	if (strcmp(*qp, MAIL_QUEUE_ACTIVE) == 0)
	    continue;				/* qmgr's, even when it is down */
	if (ps_has_all(op)) {
	    PS_IDS all = {0, 0};

	    mail_queue_scan(*qp, ps_collect, &all);
	    for (int i = 0; i < all.count; i++) {
		count += ps_direct_one(op, *qp, all.ids[i]);
		myfree(all.ids[i]);
	    }
	    if (all.ids)
		myfree(all.ids);
	} else {
	    for (int i = 0; i < op->id_count; i++)
		count += ps_direct_one(op, *qp, op->ids[i]);
	}
    }
    return (count);
}

/* ps_control - OP through qmgr; the count, or -1 when qmgr is unreachable */

static long ps_control(const PS_OP *op, const char *const *queues, int user_queues)
{
    VSTRING *reason = vstring_alloc(100);
    long    total = 0;
    long    count;

    for (const char *const *qp = queues; *qp; qp++) {
	int     status = queue_control(op->request, op->ids, op->id_count,
				    user_queues ? *qp : 0, 0, &count, reason);

	if (status == QUEUE_CONTROL_DOWN || status == QUEUE_CONTROL_NOREPLY) {
	    if (msg_verbose)
		msg_info("%s; working on the queue files directly", STR(reason));
	    total = -1;
	    break;
	}
	if (status == QUEUE_CONTROL_REFUSED)
	    msg_fatal("%s: %s", op->request, STR(reason));
	total += count;
	if (!user_queues)
	    break;				/* one request covers qmgr's defaults */
    }
    if (total >= 0 && msg_verbose)
	msg_info("%s: done by the queue manager", op->request);
    vstring_free(reason);
    return (total);
}

/* ps_run - one operation, through qmgr or directly; print the summary */

static void ps_run(const PS_OP *op, const char **user_queues)
{
    const char *const *queues = user_queues ? user_queues : op->queues;
    long    count;

    if (op->id_count == 0)
	return;
    if ((count = ps_control(op, queues, user_queues != 0)) < 0)
	count = ps_direct(op, queues);
    if (count > 0)
	msg_info("%s: %ld message%s", op->label, count, count == 1 ? "" : "s");
}

/* ps_walk - call FN(queue, path, name) for each regular file under DIR */

typedef void (*PS_WALK_FN) (const char *queue, const char *path, const char *name);

static void ps_walk(const char *queue, const char *dir, int depth, PS_WALK_FN fn)
{
    VSTRING *path = vstring_alloc(64);
    struct dirent *dp;
    struct stat st;
    DIR    *dirp;

    if ((dirp = opendir(dir)) == 0) {
	if (errno != ENOENT)
	    msg_warn("open directory %s: %m", dir);
	vstring_free(path);
	return;
    }
    while ((dp = readdir(dirp)) != 0) {
	if (dp->d_name[0] == '.')
	    continue;
	vstring_sprintf(path, "%s/%s", dir, dp->d_name);
	if (lstat(STR(path), &st) < 0)
	    continue;
	if (S_ISDIR(st.st_mode) && strlen(dp->d_name) == 1 && depth < 16)
	    ps_walk(queue, STR(path), depth + 1, fn);
	else if (S_ISREG(st.st_mode))
	    fn(queue, STR(path), dp->d_name);
    }
    closedir(dirp);
    vstring_free(path);
}

/* ps_move_aside - a file with a bad name goes to corrupt/ */

static void ps_move_aside(const char *path, const char *name)
{
    VSTRING *dest = vstring_alloc(64);

    vstring_sprintf(dest, "%s/%s", MAIL_QUEUE_CORRUPT, name);
    if (access(STR(dest), F_OK) == 0)
	msg_warn("%s: bad file name; %s exists, left alone", path, STR(dest));
    else if (rename(path, STR(dest)) < 0)
	msg_warn("move %s to %s: %m", path, STR(dest));
    else
	msg_warn("%s: bad file name; moved to %s", path, STR(dest));
    vstring_free(dest);
}

/* ps_fix_one - -s: put one file where its name says it belongs */

static void ps_fix_one(const char *queue, const char *path, const char *name)
{
    VSTRING *want = vstring_alloc(64);
    VSTRING *dir = vstring_alloc(64);
    int     fd;

    if (!mail_queue_id_ok(name)) {
	if (strcmp(queue, MAIL_QUEUE_CORRUPT) != 0)
	    ps_move_aside(path, name);
    } else if (strcmp(mail_queue_path(want, queue, name), path) != 0) {
	if ((fd = open(path, O_RDONLY)) < 0 || ps_locked(fd)) {
	    msg_warn("%s: misplaced but in use; left alone", path);
	} else {
	    mail_queue_dir(dir, queue, name);
	    if (mkdir(STR(dir), 0700) < 0 && errno != EEXIST)
		msg_warn("create %s: %m", STR(dir));
	    else if (access(STR(want), F_OK) == 0)
		msg_warn("%s: misplaced; %s exists, left alone", path, STR(want));
	    else if (rename(path, STR(want)) < 0)
		msg_warn("move %s to %s: %m", path, STR(want));
	    else
		msg_warn("%s: misplaced; moved to %s", path, STR(want));
	}
	if (fd >= 0)
	    close(fd);
    }
    vstring_free(want);
    vstring_free(dir);
}

/* ps_structure - postsuper -s */

static void ps_structure(void)
{
    static const char *queues[] = {
	MAIL_QUEUE_INCOMING, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
	MAIL_QUEUE_DEFER, MAIL_QUEUE_BOUNCE, MAIL_QUEUE_TRACE, 0,
    };

    for (const char **qp = queues; *qp; qp++)
	ps_walk(*qp, *qp, 0, ps_fix_one);
}

/* ps_purge_one - -p: an old, incomplete, unlocked incoming file */

static void ps_purge_one(const char *queue, const char *path, const char *name)
{
    struct stat st;
    int     fd;

    (void) queue;
    if ((fd = open(path, O_RDONLY)) < 0)
	return;
    if (fstat(fd, &st) == 0 && !MAIL_QUEUE_READY(&st)
	&& st.st_mtime < time((time_t *) 0) - PS_PURGE_AGE && !ps_locked(fd)) {
	if (unlink(path) < 0)
	    msg_warn("remove %s: %m", path);
	else
	    msg_info("%s: removed stale temporary file %s", name, path);
    }
    close(fd);
}

static NORETURN usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postsuper [-c config_dir] [-d queue_id] "
		     "[-h queue_id] [-H queue_id] [-p] [-r queue_id] [-s] [-v] "
		     "[queue...]");
}

/* ps_find_op - the operation for option letter CH */

static PS_OP *ps_find_op(int ch)
{
    for (PS_OP *op = ps_ops; op->letter; op++)
	if (op->letter == ch)
	    return (op);
    return (0);
}

/* ps_check_user - root or the owner of the queue (mail_owner) only; root becomes mail_owner */

static void ps_check_user(void)
{
    struct stat st;

    if (stat(MAIL_QUEUE_INCOMING, &st) < 0)
	msg_fatal("stat %s/%s: %m", conf_str("queue_directory"), MAIL_QUEUE_INCOMING);
    if (getuid() != 0 && getuid() != st.st_uid)
	msg_fatal_status(EX_NOPERM, "use of this command is reserved for the superuser");
    if (geteuid() == 0)
	mail_server_drop_privileges(0);
}

int     main(int argc, char **argv)
{
    const char *user_queues[PS_MAX_QUEUES + 1];
    int     structure = 0;
    int     purge = 0;
    int     stdin_used = 0;
    int     ch;
    PS_OP  *op;

    msg_init("postsuper", MSG_TO_STDERR | MSG_TO_SYSLOG);
    opterr = 0;
    while ((ch = getopt(argc, argv, "c:d:h:H:r:psv")) != -1) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'p':
	    purge = 1;
	    break;
	case 's':
	    structure = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'd':
	case 'h':
	case 'H':
	case 'r':
	    op = ps_find_op(ch);
	    if (strcmp(optarg, "-") == 0) {
		if (stdin_used++)
		    msg_fatal_status(EX_USAGE, "specify \"-%c -\" only once", ch);
		ps_read_ids(op);
	    } else {
		ps_add_id(op, optarg);
	    }
	    break;
	default:
	    usage();
	}
    }
    if (argc - optind > PS_MAX_QUEUES)
	usage();
    for (int i = 0; optind + i < argc; i++) {
	const char **qp;

	for (qp = ps_all_queues; *qp && strcmp(*qp, argv[optind + i]) != 0; qp++)
	     /* void */ ;
	if (*qp == 0)
	    msg_fatal_status(EX_USAGE, "invalid directory name: %s", argv[optind + i]);
	user_queues[i] = *qp;
	user_queues[i + 1] = 0;
    }
    mail_conf_read(0);
    msg_syslog_name(conf_str("syslog_name"));
    if (*conf_str("maillog_file") && (access(conf_str("maillog_file"), W_OK) == 0
				       || errno == ENOENT))
	msg_logfile(conf_str("maillog_file"));	/* not for users who may not */
    mail_queue_chdir();
    ps_check_user();

    if (structure)
	ps_structure();
    if (purge)
	ps_walk(MAIL_QUEUE_INCOMING, MAIL_QUEUE_INCOMING, 0, ps_purge_one);
    for (op = ps_ops; op->letter; op++)
	ps_run(op, optind < argc ? user_queues : 0);
    return (0);
}
