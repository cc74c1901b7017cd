/*
 * anvil_clnt.c - the event-driven client of the anvil service; see
 * anvil_clnt.h.
 *
 * One non-blocking connection per process, opened at the first request
 * (relative to the queue directory, as every internal socket), requests
 * written as attribute lists (attr.h), answers read in the same order and
 * matched with a FIFO of callbacks.  Anything wrong with the connection -
 * EOF, a write error, an answer that does not parse, no answer within
 * ANVIL_CLNT_TIMEOUT - fails every request waiting on it and closes it;
 * the next request connects again.
 */
#include "sys_defs.h"
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "attr.h"
#include "events.h"
#include "iostuff.h"
#include "mail_proto.h"
#include "anvil_clnt.h"

#define ANVIL_CLNT_SERVICE	"anvil"
#define ANVIL_CLNT_TIMEOUT	10	/* seconds for an answer */
#define ANVIL_CLNT_WARN_EVERY	60	/* seconds between "cannot connect" */
#define ANVIL_CLNT_ANSWER_MAX	4096	/* bytes of one answer */

typedef struct ANVIL_WAIT {
    ANVIL_CLNT_FN fn;			/* NULL: no answer wanted, or cancelled */
    void   *context;
} ANVIL_WAIT;

static int anvil_fd = -1;
static VSTRING *anvil_out;
static VSTRING *anvil_in;
static ANVIL_WAIT *anvil_waits;		/* in request order */
static int anvil_nwait;
static int anvil_wait_size;

static void anvil_clnt_read_event(int event, void *context);
static void anvil_clnt_write_event(int event, void *context);
static void anvil_clnt_timeout(int event, void *context);

/* anvil_clnt_fail - fail everything waiting and close the connection */

static void anvil_clnt_fail(const char *why)
{
    ANVIL_WAIT *waits = anvil_waits;
    int     nwait = anvil_nwait;

    msg_warn("anvil service: %s", why);
    event_cancel_timer(anvil_clnt_timeout, 0);
    if (anvil_fd >= 0) {
	event_disable_readwrite(anvil_fd);
	(void) close(anvil_fd);
	anvil_fd = -1;
    }
    vstring_reset(anvil_out);
    vstring_reset(anvil_in);
    anvil_waits = 0;				/* callbacks may ask again */
    anvil_nwait = anvil_wait_size = 0;
    for (int i = 0; i < nwait; i++)
	if (waits[i].fn)
	    waits[i].fn(ANVIL_STAT_FAIL, 0, 0, waits[i].context);
    if (waits)
	myfree(waits);
}

static void anvil_clnt_timeout(int event, void *context)
{
    anvil_clnt_fail("no answer in time");
}

/* anvil_clnt_connect - the connection, made now if need be; 0 or -1 */

static int anvil_clnt_connect(void)
{
    static time_t last_warning;
    char    path[256];
    time_t  now;

    if (anvil_fd >= 0)
	return (0);
    if (anvil_out == 0) {
	anvil_out = vstring_alloc(256);
	anvil_in = vstring_alloc(256);
    }
    mail_socket_path(path, sizeof(path), MAIL_CLASS_PRIVATE, ANVIL_CLNT_SERVICE);
    if ((anvil_fd = unix_connect(path, 1)) < 0) {
	if ((now = time((time_t *) 0)) - last_warning >= ANVIL_CLNT_WARN_EVERY) {
	    msg_warn("connect to %s: %m (client limits are not enforced)", path);
	    last_warning = now;
	}
	return (-1);
    }
    non_blocking(anvil_fd, NON_BLOCKING);
    close_on_exec(anvil_fd, 1);
    event_enable_read(anvil_fd, anvil_clnt_read_event, 0);
    return (0);
}

int     anvil_clnt_request(const char *request, const char *ident,
			           ANVIL_CLNT_FN fn, void *context)
{
    if (anvil_clnt_connect() < 0)
	return (-1);
    attr_buf_put(anvil_out, "request", request);
    attr_buf_put(anvil_out, "ident", ident);
    attr_buf_end(anvil_out);
    if (anvil_nwait == anvil_wait_size) {
	anvil_wait_size = anvil_wait_size ? 2 * anvil_wait_size : 16;
	anvil_waits = (ANVIL_WAIT *) myrealloc(anvil_waits,
				     sizeof(*anvil_waits) * anvil_wait_size);
    }
    anvil_waits[anvil_nwait].fn = fn;
    anvil_waits[anvil_nwait++].context = context;
    if (anvil_nwait == 1)
	event_request_timer(anvil_clnt_timeout, 0, ANVIL_CLNT_TIMEOUT * 1000);
    event_enable_write(anvil_fd, anvil_clnt_write_event, 0);
    return (0);
}

void    anvil_clnt_cancel(void *context)
{
    for (int i = 0; i < anvil_nwait; i++)
	if (anvil_waits[i].context == context)
	    anvil_waits[i].fn = 0;
}

static void anvil_clnt_write_event(int event, void *context)
{
    ssize_t n;

    while (LEN(anvil_out) > 0) {
	n = send(anvil_fd, STR(anvil_out), LEN(anvil_out), MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
	    return;
	if (n <= 0) {
	    anvil_clnt_fail("write error");
	    return;
	}
	vstring_drop_head(anvil_out, (size_t) n);
    }
    event_disable_readwrite(anvil_fd);
    event_enable_read(anvil_fd, anvil_clnt_read_event, 0);
}

/* anvil_clnt_answer - one answer, for the oldest request */

static void anvil_clnt_answer(const ATTR_LIST *list)
{
    ANVIL_WAIT wait = anvil_waits[0];
    int     status = (int) attr_find_long(list, "status", 1);

    memmove(anvil_waits, anvil_waits + 1, sizeof(*anvil_waits) * --anvil_nwait);
    if (anvil_nwait > 0)
	event_request_timer(anvil_clnt_timeout, 0, ANVIL_CLNT_TIMEOUT * 1000);
    else
	event_cancel_timer(anvil_clnt_timeout, 0);
    if (wait.fn)
	wait.fn(status == 0 ? ANVIL_STAT_OK : ANVIL_STAT_FAIL,
		(int) attr_find_long(list, "count", 0),
		(int) attr_find_long(list, "rate", 0), wait.context);
}

static void anvil_clnt_read_event(int event, void *context)
{
    char    chunk[1024];
    ATTR_LIST list;
    size_t  used;
    ssize_t n;
    int     status;

    n = read(anvil_fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	anvil_clnt_fail(n < 0 ? "read error" : "the service closed the connection");
	return;
    }
    vstring_memcat(anvil_in, chunk, (size_t) n);
    while (anvil_fd >= 0 && (status = attr_scan_next(STR(anvil_in), LEN(anvil_in),
						    &list, &used)) == 1) {
	if (anvil_nwait == 0) {
	    attr_list_free(&list);
	    anvil_clnt_fail("an answer to no request");
	    return;
	}
	vstring_drop_head(anvil_in, used);
	anvil_clnt_answer(&list);
	attr_list_free(&list);
    }
    if (anvil_fd >= 0 && (status < 0 || LEN(anvil_in) > ANVIL_CLNT_ANSWER_MAX))
	anvil_clnt_fail("malformed answer");
}
