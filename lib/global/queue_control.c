/*
 * queue_control.c - ask qmgr to change or flush the queue (see queue_control.h).
 *
 * The ids go one "queue_id" attribute each, in batches of
 * QUEUE_CONTROL_BATCH: a reply carries at most two "done" lines per id and
 * must fit one attribute list (ATTR_MAX_COUNT).  The counts of all
 * batches are added; the "done" lines go to the caller as they come.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "vstream.h"
#include "iostuff.h"
#include "attr.h"
#include "safe_open.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "queue_control.h"

#define QC_CONNECT_TIMEOUT	10
#define QC_REPLY_TIMEOUT	300		/* deleting ALL can take a while */

/* queue_control_send - the request, on its way; 0 or -1 */

static int queue_control_send(VSTREAM *fp, const char *request, char **ids,
			              int nids, const char *const *queues,
			              const char *site)
{
    vstream_putc(QMGR_REQ_CONTROL, fp);
    attr_put(fp, "request", request);
    for (int i = 0; i < nids; i++)
	attr_put(fp, "queue_id", ids[i]);
    for (int i = 0; queues && queues[i]; i++)
	attr_put(fp, "queue", queues[i]);
    if (site)
	attr_put(fp, "site", site);
    return (attr_end(fp));
}

/* queue_control_take - the counts and "done" lines of one reply */

static int queue_control_take(const ATTR_LIST *list, QUEUE_CONTROL_REPLY *reply)
{
    const char *reason = attr_find(list, "reason");

    for (int i = 0; i < list->count; i++)
	if (reply->done && strcmp(list->names[i], "done") == 0)
	    reply->done(list->values[i], reply->context);
    reply->count += attr_find_long(list, "count", 0);
    reply->released += attr_find_long(list, "released", 0);
    if (attr_find_long(list, "status", -1) == 0)
	return (QUEUE_CONTROL_OK);
    vstring_strcpy(reply->reason, reason && *reason ? reason : "request failed");
    return (QUEUE_CONTROL_REFUSED);
}

/* queue_control_batch - one connection, one request, one reply */

static int queue_control_batch(const char *request, char **ids, int nids,
			               const char *const *queues, const char *site,
			               QUEUE_CONTROL_REPLY *reply)
{
    char    path[256];
    VSTREAM *fp;
    ATTR_LIST list;
    int     fd;
    int     ret;

    mail_socket_path(path, sizeof(path), MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR);
    if ((fd = unix_connect(path, QC_CONNECT_TIMEOUT)) < 0) {
	vstring_sprintf(reply->reason, "connect to %s: %m", path);
	return (QUEUE_CONTROL_DOWN);
    }
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(fp, QC_REPLY_TIMEOUT);
    if (queue_control_send(fp, request, ids, nids, queues, site) < 0
	|| attr_get_list(fp, &list) < 0) {
	vstring_sprintf(reply->reason, "no reply from %s", path);
	vstream_close(fp);
	return (QUEUE_CONTROL_NOREPLY);
    }
    ret = queue_control_take(&list, reply);
    attr_list_free(&list);
    vstream_close(fp);
    return (ret);
}

int     queue_control(const char *request, char **ids, int nids,
		              const char *const *queues, const char *site,
		              QUEUE_CONTROL_REPLY *reply)
{
    int     done = 0;
    int     ret;

    vstring_reset(reply->reason);
    do {
	int     n = nids - done > QUEUE_CONTROL_BATCH ? QUEUE_CONTROL_BATCH : nids - done;

	ret = queue_control_batch(request, ids ? ids + done : 0, n, queues, site, reply);
	if (ret != QUEUE_CONTROL_OK)
	    return (ret);
	done += n;
    } while (done < nids);
    return (QUEUE_CONTROL_OK);
}

int     queue_control_expire_file(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *why = vstring_alloc(64);
    struct stat st;
    int     fd;
    int     ret = 0;

    mail_queue_path(path, queue, id);
    if ((fd = safe_open(STR(path), O_RDONLY | O_NONBLOCK, 0, &st, -1, -1, why)) < 0) {
	if (errno != ENOENT) {
	    msg_warn("expire file %s: %s", STR(path), STR(why));
	    ret = -1;
	}
    } else if (!MAIL_QUEUE_READY(&st) || (st.st_mode & QUEUE_CONTROL_STAT_EXPIRE)) {
	/* not complete (yet), or expired already */
    } else if (fchmod(fd, (st.st_mode | QUEUE_CONTROL_STAT_EXPIRE) & 07777) < 0) {
	msg_warn("expire file %s: cannot set permission: %m", STR(path));
	ret = -1;
    } else {
	ret = 1;
    }
    if (fd >= 0)
	close(fd);
    vstring_free(why);
    vstring_free(path);
    return (ret);
}
