/*
 * showq.c - the queue listing service behind postqueue -p/-j and mailq.
 *
 * Runs under single_server_main on public/showq as mail_owner
 * (master.cf: "showq unix n - n - - showq"), so any local user can list
 * the queue without permission to read it.  For each client it writes
 * the listing stream of lib/global/showq_proto.h, built by showq_scan(): per
 * message its queue, id, arrival time, size and sender, every recipient
 * that is not yet done with its deferral reason, and an end marker.
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

/* showq_send - showq_scan callback: one message to the client */

static int showq_send(const SHOWQ_MSG *msg, void *ctx)
{
    return (showq_put_message((VSTREAM *) ctx, msg) < 0 ? -1 : 0);
}

/* showq_service - one client: the whole listing */

static void showq_service(VSTREAM *client, const char *service, char **argv)
{
    (void) service;
    (void) argv;
    vstream_set_timeout(client, SHOWQ_TIMEOUT);
    if (showq_scan(showq_send, client) != 0 || showq_put_end(client) < 0)
	msg_warn("write queue listing to client: %m");
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {0};

    single_server_main(argc, argv, showq_service, &ops);
}
