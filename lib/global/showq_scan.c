/*
 * showq_scan.c - build the queue listing from the queue directories.
 *
 * Walks incoming/, active/, deferred/ (hashed) and hold/, each in
 * directory order as Postfix's showq (no sorting: a queue of 200,000
 * messages is listed as it is read, in constant memory); for each
 * complete, readable queue file it collects the envelope
 * (recipients not yet done) and the deferral reasons from defer/ID
 * (lib/global/defer_log.h).  Files that are incomplete, vanish or do not parse
 * are skipped: the queue changes while it is listed.  Opens files
 * read-only and takes no locks, so it never disturbs qmgr.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_queue.h"
#include "qfile.h"
#include "defer_log.h"
#include "queue_control.h"
#include "showq_proto.h"

static const char *showq_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

/*
 * showq_add_rcpts - the recipients of ENV that are not done, with the
 * reasons of the last attempt; none for a message in active/: its attempt
 * is under way (qmgr replaces defer/ID only when it defers again)
 */
static void showq_add_rcpts(SHOWQ_MSG *msg, const char *queue, const char *id,
			            const QENV *env)
{
    DEFER_LOG log;

    memset(&log, 0, sizeof(log));
    if (strcmp(queue, MAIL_QUEUE_ACTIVE) != 0)
	(void) defer_log_read(MAIL_QUEUE_DEFER, id, &log);
    for (int i = 0; i < env->rcpt_count; i++) {
	const DEFER_LOG_ENTRY *ent;

	if (env->rcpts[i].done)
	    continue;
	ent = defer_log_find(&log, env->rcpts[i].address);
	showq_msg_add_rcpt(msg, env->rcpts[i].address, ent ? ent->reason : "");
    }
    defer_log_free(&log);
}

/* showq_build - MSG from QUEUE/ID; 0, or -1 to skip the file */

static int showq_build(const char *queue, const char *id, SHOWQ_MSG *msg)
{
    VSTREAM *fp;
    VSTRING *why;
    struct stat st;
    QENV    env;
    int     ret = -1;

    if ((fp = mail_queue_open(queue, id, O_RDONLY)) == 0) {
	if (errno != ENOENT)
	    msg_warn("open %s/%s: %m", queue, id);
	return (-1);
    }
    if (fstat(vstream_fd(fp), &st) < 0 || !MAIL_QUEUE_READY(&st)) {
	vstream_close(fp);			/* still being written */
	return (-1);
    }
    why = vstring_alloc(100);
    if (qfile_read_envelope(fp, &env, why) == 0) {
	showq_msg_init(msg, queue, id, (long) env.arrival.tv_sec,
		       env.content_size, env.sender);
	msg->forced_expire = (st.st_mode & QUEUE_CONTROL_STAT_EXPIRE) != 0;
	showq_add_rcpts(msg, queue, id, &env);
	qenv_free(&env);
	ret = 0;
    } else if (msg_verbose) {
	msg_info("skipping %s/%s: %s", queue, id, STR(why));
    }
    vstring_free(why);
    vstream_close(fp);
    return (ret);
}

/*
 * showq_scan_queue - one queue directory, read as it is listed: the first
 * message goes out at once, and memory does not grow with the queue
 */
static int showq_scan_queue(const char *queue, SHOWQ_SCAN_FN fn, void *ctx)
{
    MAIL_QUEUE_SCAN *scan = mail_queue_scan_open(queue);
    const char *id;
    int     ret = 0;

    while (ret == 0 && (id = mail_queue_scan_next(scan)) != 0) {
	SHOWQ_MSG msg;

	if (showq_build(queue, id, &msg) == 0) {
	    ret = fn(&msg, ctx);
	    showq_msg_free(&msg);
	}
    }
    mail_queue_scan_close(scan);
    return (ret);
}

int     showq_scan(SHOWQ_SCAN_FN fn, void *ctx)
{
    int     ret;

    for (const char **qp = showq_queues; *qp; qp++)
	if ((ret = showq_scan_queue(*qp, fn, ctx)) != 0)
	    return (ret);
    return (0);
}
