/*
 * showq.c - the queue listing service behind postqueue -p/-j and mailq.
 *
 * Runs under single_server_main on public/showq as mail_owner
 * (master.cf: "showq unix n - n - - showq"), so any local user can list
 * the queue without permission to read it.  For each client it writes
 * the listing stream of lib/global/showq_proto.h, built by showq_scan(): per
 * message its queue, id, arrival time, size and sender, every recipient
 * that is not yet done with its deferral reason, and an end marker.
 * The listing streams: showq_scan() reads the queue as it goes, the
 * first message is flushed at once and the rest in full buffers, so a
 * queue of any size starts printing at once in constant memory.
 *
 * Parameters: queue_directory, hash_queue_names, hash_queue_depth,
 * max_idle, max_use, syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include "msg.h"
#include "vstream.h"
#include "mail_server.h"
#include "showq_proto.h"

#define SHOWQ_TIMEOUT	300		/* seconds to write to a slow client */

/* The client and how many messages it got */
typedef struct SHOWQ_CLIENT {
    VSTREAM *stream;
    long    count;
} SHOWQ_CLIENT;

/*
 * showq_send - showq_scan callback: one message to the client; the first
 * one is flushed at once, the rest go out whenever the buffer is full
 */
static int showq_send(const SHOWQ_MSG *msg, void *ctx)
{
    SHOWQ_CLIENT *client = (SHOWQ_CLIENT *) ctx;

    if (showq_put_message(client->stream, msg) < 0)
	return (-1);
    if (client->count++ == 0 && vstream_flush(client->stream) != 0)
	return (-1);
    return (0);
}

/* showq_service - one client: the whole listing */

static void showq_service(VSTREAM *stream, const char *service, char **argv)
{
    SHOWQ_CLIENT client = {stream, 0};

    (void) service;
    (void) argv;
    vstream_set_timeout(stream, SHOWQ_TIMEOUT);
    if (showq_scan(showq_send, &client) != 0 || showq_put_end(stream) < 0)
	msg_warn("write queue listing to client: %m");
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {0};

    single_server_main(argc, argv, showq_service, &ops);
}
