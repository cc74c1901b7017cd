/*
 * attr_server.c - the request loop of an event-driven attribute-list
 * service (anvil, proxymap; see attr_server.h): per client an input
 * buffer that collects requests and an output buffer of answers, each
 * flushed with non-blocking I/O from the event loop.
 */
#include "sys_defs.h"
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "mail_server.h"
#include "attr_server.h"

typedef struct ATTR_SERVER_CLIENT {
    int     fd;
    const ATTR_SERVER_SPEC *spec;
    void   *context;
    VSTRING *in;
    VSTRING *out;
} ATTR_SERVER_CLIENT;

static void attr_server_read_event(int event, void *context);

/* attr_server_close - the client is gone, or is sent away */

static void attr_server_close(ATTR_SERVER_CLIENT *client)
{
    if (client->spec->close)
	client->spec->close(client->context);
    event_disable_readwrite(client->fd);
    event_server_disconnect(client->fd);
    vstring_free(client->in);
    vstring_free(client->out);
    myfree(client);
}

/* attr_server_write_event - send the answers; then read again */

static void attr_server_write_event(int event, void *context)
{
    ATTR_SERVER_CLIENT *client = context;
    ssize_t n;

    while (LEN(client->out) > 0) {
	n = send(client->fd, STR(client->out), LEN(client->out), MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
	    return;
	if (n <= 0) {
	    attr_server_close(client);
	    return;
	}
	vstring_drop_head(client->out, (size_t) n);
    }
    event_disable_readwrite(client->fd);
    event_enable_read(client->fd, attr_server_read_event, client);
}

/* attr_server_read_event - collect input, answer every complete request */

static void attr_server_read_event(int event, void *context)
{
    ATTR_SERVER_CLIENT *client = context;
    char    chunk[4096];
    ATTR_LIST list;
    size_t  used;
    ssize_t n;
    int     status;

    n = read(client->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	attr_server_close(client);
	return;
    }
    vstring_memcat(client->in, chunk, (size_t) n);
    while ((status = attr_scan_next(STR(client->in), LEN(client->in), &list,
				    &used)) == 1) {
	client->spec->request(&list, client->out, client->context);
	attr_list_free(&list);
	vstring_drop_head(client->in, used);
    }
    if (status < 0 || LEN(client->in) > client->spec->max_request) {
	msg_warn("malformed request from a%s %s client: closing it",
		 strchr("aeiou", client->spec->name[0]) ? "n" : "",
		 client->spec->name);
	attr_server_close(client);
	return;
    }
    if (LEN(client->out) > 0) {
	event_disable_readwrite(client->fd);
	event_enable_write(client->fd, attr_server_write_event, client);
    }
}

void    attr_server_accept(int fd, const ATTR_SERVER_SPEC *spec, void *context)
{
    ATTR_SERVER_CLIENT *client = (ATTR_SERVER_CLIENT *) mycalloc(1, sizeof(*client));

    client->fd = fd;
    client->spec = spec;
    client->context = context;
    client->in = vstring_alloc(256);
    client->out = vstring_alloc(256);
    event_enable_read(fd, attr_server_read_event, client);
}
