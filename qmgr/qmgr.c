/*
 * qmgr.c - the queue manager: main() and trigger handling.
 *
 * Runs under event_server_main on public/qmgr as mail_owner.  Clients
 * (smtpd, postqueue, master's wakeup) connect, write one request byte and
 * close (mail_proto.h):
 *   'I' scan incoming/ for new mail,
 *   'F' retry all of deferred/ now (and revive dead destinations),
 *   'W' periodic wakeup: scan incoming/ and the due part of deferred/,
 *   'C' queue control: an attribute list follows (qmgr_control.c).
 * On start, files left in active/ by a previous qmgr go back to incoming/
 * (crash recovery), then incoming/ and the due part of deferred/ are
 * scanned.  deferred/ is also scanned every queue_run_delay seconds.
 * When master reloads, or a table qmgr read changed (transport_maps, ...),
 * qmgr takes no more mail, lets the deliveries in progress finish, and
 * exits (mail_server.h); the next one takes over active/ as above.
 *
 * Parameters: qmgr_message_active_limit, qmgr_message_recipient_limit,
 * qmgr_message_recipient_minimum (a message's recipients are read in
 * slices: qmgr_message.c), queue_run_delay,
 * minimal_backoff_time, maximal_backoff_time, default_process_limit,
 * default_destination_concurrency_limit, initial_destination_concurrency,
 * default_destination_concurrency_failed_cohort_limit (and the
 * TRANSPORT_ variants of both: qmgr_queue.c),
 * TRANSPORT_destination_recipient_limit, default_destination_recipient_limit,
 * ipc_timeout, and the routing parameters of lib/tables/resolve.c.
 */
#include "sys_defs.h"
#include <sys/socket.h>
#include "msg.h"
#include "events.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "dict.h"
#include "mail_proto.h"
#include "qmgr.h"

#define QMGR_TRIGGER_TIMEOUT	10	/* seconds to wait for the request byte */
#define QMGR_TRIGGER_MAX	100	/* bytes read per trigger connection */

/* qmgr_trigger - act on one request byte */

static void qmgr_trigger(int request)
{
    switch (request) {
    case QMGR_REQ_SCAN_INCOMING:
	qmgr_scan_incoming();
	break;
    case QMGR_REQ_FLUSH_DEFERRED:
	qmgr_queue_enable_all();		/* Postfix's "flush dead" too */
	qmgr_scan_deferred(1);
	qmgr_scan_incoming();
	break;
    case QMGR_REQ_WAKEUP:
	qmgr_scan_incoming();
	qmgr_scan_deferred(0);
	break;
    default:
	msg_warn("ignoring unknown trigger request 0x%02x", request & 0xff);
	break;
    }
}

static void qmgr_trigger_timeout(int event, void *context);

/* qmgr_trigger_close - done with one trigger connection */

static void qmgr_trigger_close(int fd)
{
    event_cancel_timer(qmgr_trigger_timeout, (void *) (intptr_t) fd);
    event_disable_readwrite(fd);
    event_server_disconnect(fd);
}

static void qmgr_trigger_timeout(int event, void *context)
{
    qmgr_trigger_close((int) (intptr_t) context);
}

/* qmgr_trigger_read - the request bytes have arrived (or EOF) */

static void qmgr_trigger_read(int event, void *context)
{
    int     fd = (int) (intptr_t) context;
    char    buf[QMGR_TRIGGER_MAX];
    ssize_t count;
    int     seen[256] = {0};
    char    first;

    /* A queue control request: 'C' and an attribute list, one answer */
    if (recv(fd, &first, 1, MSG_PEEK) == 1 && first == QMGR_REQ_CONTROL) {
	event_cancel_timer(qmgr_trigger_timeout, (void *) (intptr_t) fd);
	event_disable_readwrite(fd);
	if (read(fd, &first, 1) == 1)
	    qmgr_control(fd);
	else
	    event_server_disconnect(fd);
	return;
    }
    count = read(fd, buf, sizeof(buf));
    if (count < 0 && (errno == EAGAIN || errno == EINTR))
	return;					/* spurious wakeup */
    qmgr_trigger_close(fd);
    /* Several identical requests in one read need only one action */
    for (ssize_t i = 0; i < count; i++) {
	unsigned char ch = (unsigned char) buf[i];

	if (!seen[ch]++)
	    qmgr_trigger(ch);
    }
    qmgr_deliver_pump();
}

/* qmgr_accept - a trigger client connected */

static void qmgr_accept(int fd, const char *service, char **argv)
{
    event_enable_read(fd, qmgr_trigger_read, (void *) (intptr_t) fd);
    event_request_timer(qmgr_trigger_timeout, (void *) (intptr_t) fd,
			QMGR_TRIGGER_TIMEOUT * 1000);
}

/* qmgr_post_init - crash recovery and the first scans */

static void qmgr_post_init(const char *service, char **argv)
{
    /* Deliveries in progress are not "clients": never exit when idle */
    mail_conf_update("max_idle", "1000000s");
    qmgr_recover_active();
    qmgr_scan_incoming();
    qmgr_scan_deferred(0);
    qmgr_deferred_timer_start();
    qmgr_deliver_pump();
}

/* qmgr_busy - deliveries or queue-file removals in flight */

static int qmgr_busy(void)
{
    return (qmgr_deliver_busy() || qmgr_message_busy());
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {
	.post_init = qmgr_post_init,
	.changed = dict_changed_name,
	.busy = qmgr_busy,
    };

    event_server_main(argc, argv, qmgr_accept, &ops);
}
