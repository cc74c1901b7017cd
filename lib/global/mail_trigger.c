/*
 * mail_trigger.c - one-byte wake-up requests to internal services.
 *
 * mail_trigger() connects to public/NAME or private/NAME (relative to the
 * queue directory, so the caller has done mail_queue_chdir), writes one
 * request byte and closes.  It never waits for the service: a UNIX-domain
 * connect fails at once when the listen backlog is full, and a failed
 * trigger is only logged (the service also wakes up on its own timer).
 * mail_trigger_quiet() says nothing when the service is not running (a
 * command that works while the mail system is down: sendmail).
 */
#include "sys_defs.h"
#include "iostuff.h"
#include "mail_proto.h"
#include "msg.h"

#define TRIGGER_TIMEOUT	2		/* seconds */

const char *mail_socket_path(char *buf, size_t len, const char *class,
			             const char *service)
{
    snprintf(buf, len, "%s/%s", class, service);
    return (buf);
}

/* trigger - send REQUEST to CLASS/SERVICE; QUIET: no warning when down */

static int trigger(const char *class, const char *service, int request, int quiet)
{
    char    path[256];
    char    ch = (char) request;
    int     fd;

    mail_socket_path(path, sizeof(path), class, service);
    if ((fd = unix_connect(path, TRIGGER_TIMEOUT)) < 0) {
	if (!quiet || (errno != ENOENT && errno != ECONNREFUSED))
	    msg_warn("connect to %s service %s: %m", class, service);
	return (-1);
    }
    if (write_full(fd, &ch, 1) != 1) {
	msg_warn("write trigger to %s service %s: %m", class, service);
	close(fd);
	return (-1);
    }
    if (msg_verbose)
	msg_info("trigger '%c' sent to %s", request, path);
    close(fd);
    return (0);
}

int     mail_trigger(const char *class, const char *service, int request)
{
    return (trigger(class, service, request, 0));
}

int     mail_trigger_quiet(const char *class, const char *service, int request)
{
    return (trigger(class, service, request, 1));
}
