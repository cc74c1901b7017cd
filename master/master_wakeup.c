/*
 * master_wakeup.c - periodic wakeups of services with a wakeup time.
 *
 * Every N seconds (master.cf wakeup column) master connects to the
 * service's UNIX socket, writes the one-byte request QMGR_REQ_WAKEUP and
 * closes.  The connection also makes master start the service when it has
 * no process, so the first wakeup is sent right after start.  With "N?"
 * the wakeup is sent only while the service has processes.  Nothing here
 * blocks: the socket is non-blocking, and a failed wakeup is retried at
 * the next interval.
 */
#include "sys_defs.h"
#include <limits.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "events.h"
#include "mail_proto.h"
#include "msg.h"
#include "master.h"

/* master_wakeup_send - one non-blocking trigger to PATH */
static void master_wakeup_send(const char *path)
{
    struct sockaddr_un sun;
    char    req = QMGR_REQ_WAKEUP;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
	return;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
	msg_warn("wakeup %s: socket: %m", path);
	return;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	if (errno != EAGAIN)
	    msg_warn("connect to %s for wakeup: %m", path);
    } else if (write(fd, &req, 1) != 1) {
	msg_warn("write wakeup to %s: %m", path);
    }
    close(fd);
}

static void master_wakeup_cb(int event, void *context)
{
    MASTER_SERV *serv = context;

    if (!serv->wakeup_cond || serv->total_proc > 0) {
	if (msg_verbose)
	    msg_info("wakeup %s", serv->addr);
	master_wakeup_send(serv->addr);
    }
    event_request_timer(master_wakeup_cb, serv, serv->wakeup > INT_MAX / 1000 ?
			INT_MAX : serv->wakeup * 1000);
}

void    master_wakeup_start(MASTER_SERV *serv)
{
    if (serv->wakeup > 0 && serv->type == MASTER_CF_UNIX)
	event_request_timer(master_wakeup_cb, serv, 0);
}

void    master_wakeup_cancel(MASTER_SERV *serv)
{
    event_cancel_timer(master_wakeup_cb, serv);
}
