/*
 * queue_control.c - ask qmgr to change or flush the queue (see queue_control.h).
 *
 * The ids go one "queue_id" attribute each, in batches that fit one
 * attribute list; the counts of all batches are added.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "vstream.h"
#include "iostuff.h"
#include "attr.h"
#include "mail_proto.h"
#include "queue_control.h"

#define QC_CONNECT_TIMEOUT	10
#define QC_REPLY_TIMEOUT	300		/* deleting ALL can take a while */
#define QC_BATCH		(ATTR_MAX_COUNT - 8)

/* queue_control_batch - one connection, one request, one reply */

static int queue_control_batch(const char *request, char **ids, int nids,
			               const char *queue, const char *site,
			               long *count, VSTRING *reason)
{
    char    path[256];
    VSTREAM *fp;
    ATTR_LIST reply;
    int     fd;
    int     ret;

    mail_socket_path(path, sizeof(path), MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR);
    if ((fd = unix_connect(path, QC_CONNECT_TIMEOUT)) < 0) {
	vstring_sprintf(reason, "connect to %s: %m", path);
	return (QUEUE_CONTROL_DOWN);
    }
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(fp, QC_REPLY_TIMEOUT);
    vstream_putc(QMGR_REQ_CONTROL, fp);
    attr_put(fp, "request", request);
    for (int i = 0; i < nids; i++)
	attr_put(fp, "queue_id", ids[i]);
    if (queue)
	attr_put(fp, "queue", queue);
    if (site)
	attr_put(fp, "site", site);
    if (attr_end(fp) < 0 || attr_get_list(fp, &reply) < 0) {
	vstring_sprintf(reason, "no reply from %s", path);
	vstream_close(fp);
	return (QUEUE_CONTROL_NOREPLY);
    }
    *count = attr_find_long(&reply, "count", 0);
    vstring_strcpy(reason, attr_find(&reply, "reason") ? attr_find(&reply, "reason") : "");
    ret = attr_find_long(&reply, "status", -1) == 0 ? QUEUE_CONTROL_OK : QUEUE_CONTROL_REFUSED;
    if (ret != QUEUE_CONTROL_OK && *STR(reason) == 0)
	vstring_strcpy(reason, "request failed");
    attr_list_free(&reply);
    vstream_close(fp);
    return (ret);
}

int     queue_control(const char *request, char **ids, int nids, const char *queue,
		              const char *site, long *count, VSTRING *reason)
{
    long    part;
    int     done = 0;
    int     ret;

    *count = 0;
    vstring_reset(reason);
    do {
	int     n = nids - done > QC_BATCH ? QC_BATCH : nids - done;

	part = 0;
	ret = queue_control_batch(request, ids ? ids + done : 0, n, queue, site, &part, reason);
	if (ret != QUEUE_CONTROL_OK)
	    return (ret);
	*count += part;
	done += n;
    } while (done < nids);
    return (QUEUE_CONTROL_OK);
}
