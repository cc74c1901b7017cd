/*
 * policy_clnt.c - the event-driven client of policy services; see
 * policy_clnt.h.
 *
 * Each connection carries one request at a time: the request is written,
 * the answer (attribute lines up to an empty line) read, and the
 * connection goes back to the idle list.  Requests that find no idle
 * connection and no room for a new one wait in a FIFO.  Connects are
 * non-blocking; the request's timer covers connect, write and answer.
 */
#include "sys_defs.h"
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "iostuff.h"
#include "printable.h"
#include "policy_clnt.h"

#define POLICY_ANSWER_MAX	8192	/* bytes of one answer */

typedef struct POLICY_REQ {
    char   *text;			/* attribute lines and the empty line */
    POLICY_CLNT_FN done;		/* NULL: cancelled */
    void   *context;
    int     tries;
    struct POLICY_REQ *next;		/* in the wait line */
} POLICY_REQ;

typedef struct POLICY_CONN {
    POLICY_CLNT *clnt;
    int     fd;
    int     connecting;			/* non-blocking connect not done yet */
    VSTRING *in;
    size_t  sent;			/* bytes of the request written */
    time_t  born;
    int     requests;
    POLICY_REQ *req;			/* on the way; NULL: idle */
    struct POLICY_CONN *next;
} POLICY_CONN;

struct POLICY_CLNT {
    char   *name;			/* the endpoint as configured */
    const char *where;			/* ... without "inet:", for warnings */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    POLICY_LIMITS limits;
    POLICY_CONN *conns;
    int     nconn;
    POLICY_REQ *wait_head;
    POLICY_REQ *wait_tail;
};

static void policy_conn_io(int event, void *context);
static void policy_conn_timeout(int event, void *context);
static void policy_conn_idle(int event, void *context);
static void policy_clnt_dispatch(POLICY_CLNT *clnt);

POLICY_CLNT *policy_clnt_create(const char *endpoint, const POLICY_LIMITS *limits)
{
    POLICY_CLNT *clnt = (POLICY_CLNT *) mycalloc(1, sizeof(*clnt));

    if (endpoint_address(endpoint, &clnt->addr, &clnt->addrlen) < 0) {
	msg_warn("malformed or unknown policy service address: \"%s\"", endpoint);
	myfree(clnt);
	return (0);
    }
    clnt->name = mystrdup(endpoint);
    clnt->where = strncmp(clnt->name, "inet:", 5) == 0 ? clnt->name + 5 : clnt->name;
    clnt->limits = *limits;
    if (clnt->limits.try_limit < 1)
	clnt->limits.try_limit = 1;
    return (clnt);
}

const char *policy_clnt_name(POLICY_CLNT *clnt)
{
    return (clnt->name);
}

/* policy_conn_close - forget a connection */

static void policy_conn_close(POLICY_CONN *conn)
{
    POLICY_CLNT *clnt = conn->clnt;
    POLICY_CONN **pp;

    for (pp = &clnt->conns; *pp != conn; pp = &(*pp)->next)
	 /* void */ ;
    *pp = conn->next;
    clnt->nconn--;
    event_cancel_timer(policy_conn_timeout, conn);
    event_cancel_timer(policy_conn_idle, conn);
    event_disable_readwrite(conn->fd);
    (void) close(conn->fd);
    vstring_free(conn->in);
    myfree(conn);
}

/* policy_req_finish - run DONE (unless cancelled) and forget the request */

static void policy_req_finish(POLICY_REQ *req, int status, const char *action)
{
    if (req->done)
	req->done(status, action, req->context);
    myfree(req->text);
    myfree(req);
}

/* policy_conn_fail - the connection is broken: retry its request or fail it */

static void policy_conn_fail(POLICY_CONN *conn, const char *why)
{
    POLICY_CLNT *clnt = conn->clnt;
    POLICY_REQ *req = conn->req;

    msg_warn("problem talking to server %s: %s", clnt->where, why);
    policy_conn_close(conn);
    if (req == 0)
	return;
    if (++req->tries < clnt->limits.try_limit && req->done) {
	req->next = clnt->wait_head;		/* first in line again */
	clnt->wait_head = req;
	if (clnt->wait_tail == 0)
	    clnt->wait_tail = req;
    } else {
	policy_req_finish(req, POLICY_CLNT_FAIL, (char *) 0);
    }
    policy_clnt_dispatch(clnt);
}

static void policy_conn_timeout(int event, void *context)
{
    policy_conn_fail((POLICY_CONN *) context, "timeout");
}

static void policy_conn_idle(int event, void *context)
{
    policy_conn_close((POLICY_CONN *) context);
}

/* policy_conn_open - a new connection, connecting; NULL with a warning */

static POLICY_CONN *policy_conn_open(POLICY_CLNT *clnt)
{
    POLICY_CONN *conn;
    int     fd;

    if ((fd = socket(clnt->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
	msg_warn("policy service %s: socket: %m", clnt->name);
	return (0);
    }
    non_blocking(fd, NON_BLOCKING);
    if (connect(fd, (struct sockaddr *) &clnt->addr, clnt->addrlen) < 0
	&& errno != EINPROGRESS && errno != EAGAIN) {
	msg_warn("connect to %s: %m", clnt->where);
	(void) close(fd);
	return (0);
    }
    conn = (POLICY_CONN *) mycalloc(1, sizeof(*conn));
    conn->clnt = clnt;
    conn->fd = fd;
    conn->connecting = 1;
    conn->in = vstring_alloc(100);
    conn->born = event_time();
    conn->next = clnt->conns;
    clnt->conns = conn;
    clnt->nconn++;
    return (conn);
}

/* policy_conn_start - send REQ on CONN */

static void policy_conn_start(POLICY_CONN *conn, POLICY_REQ *req)
{
    conn->req = req;
    conn->sent = 0;
    vstring_reset(conn->in);
    event_cancel_timer(policy_conn_idle, conn);
    event_request_timer(policy_conn_timeout, conn, conn->clnt->limits.timeout * 1000);
    event_enable_write(conn->fd, policy_conn_io, conn);
}

/* policy_clnt_dispatch - give waiting requests to free connections */

static void policy_clnt_dispatch(POLICY_CLNT *clnt)
{
    POLICY_CONN *conn;
    POLICY_REQ *req;

    while ((req = clnt->wait_head) != 0) {
	if (req->done == 0) {			/* cancelled while waiting */
	    if ((clnt->wait_head = req->next) == 0)
		clnt->wait_tail = 0;
	    policy_req_finish(req, POLICY_CLNT_FAIL, (char *) 0);
	    continue;
	}
	for (conn = clnt->conns; conn && conn->req; conn = conn->next)
	     /* void */ ;
	if (conn == 0) {
	    if (clnt->nconn >= POLICY_CLNT_MAX_CONN)
		return;				/* waits for a connection */
	    if ((conn = policy_conn_open(clnt)) == 0) {
		if (++req->tries < clnt->limits.try_limit)
		    continue;			/* at once, as Postfix */
		if ((clnt->wait_head = req->next) == 0)
		    clnt->wait_tail = 0;
		policy_req_finish(req, POLICY_CLNT_FAIL, (char *) 0);
		continue;
	    }
	}
	if ((clnt->wait_head = req->next) == 0)
	    clnt->wait_tail = 0;
	policy_conn_start(conn, req);
    }
}

void	policy_clnt_request(POLICY_CLNT *clnt, const char *request,
			            POLICY_CLNT_FN done, void *context)
{
    POLICY_REQ *req = (POLICY_REQ *) mycalloc(1, sizeof(*req));
    VSTRING *text = vstring_alloc(strlen(request) + 2);

    vstring_strcpy(text, request);
    vstring_strcat(text, "\n");
    req->text = vstring_export(text);
    req->done = done;
    req->context = context;
    if (clnt->wait_tail)
	clnt->wait_tail->next = req;
    else
	clnt->wait_head = req;
    clnt->wait_tail = req;
    policy_clnt_dispatch(clnt);
}

void	policy_clnt_free(POLICY_CLNT *clnt)
{
    POLICY_REQ *req;

    while (clnt->conns) {
	if ((req = clnt->conns->req) != 0) {
	    req->done = 0;
	    policy_req_finish(req, POLICY_CLNT_FAIL, (char *) 0);
	    clnt->conns->req = 0;
	}
	policy_conn_close(clnt->conns);
    }
    while ((req = clnt->wait_head) != 0) {
	clnt->wait_head = req->next;
	req->done = 0;
	policy_req_finish(req, POLICY_CLNT_FAIL, (char *) 0);
    }
    myfree(clnt->name);
    myfree(clnt);
}

void	policy_clnt_cancel(POLICY_CLNT *clnt, void *context)
{
    for (POLICY_CONN *conn = clnt->conns; conn; conn = conn->next)
	if (conn->req && conn->req->context == context)
	    conn->req->done = 0;
    for (POLICY_REQ *req = clnt->wait_head; req; req = req->next)
	if (req->context == context)
	    req->done = 0;
}

/* policy_answer - the action in a complete answer, or NULL */

static char *policy_answer(char *text)
{
    char   *line;
    char   *action = 0;

    while ((line = strsep(&text, "\n")) != 0 && *line) {
	if (line[strlen(line) - 1] == '\r')
	    line[strlen(line) - 1] = 0;
	if (strncmp(line, "action=", 7) == 0 && action == 0)
	    action = line + 7;
    }
    return (action);
}

/* policy_conn_answered - a whole answer is in */

static void policy_conn_answered(POLICY_CONN *conn, char *action)
{
    POLICY_CLNT *clnt = conn->clnt;
    POLICY_REQ *req = conn->req;

    event_cancel_timer(policy_conn_timeout, conn);
    conn->req = 0;
    conn->requests++;
    if ((clnt->limits.request_limit > 0 && conn->requests >= clnt->limits.request_limit)
	|| event_time() - conn->born >= clnt->limits.max_ttl) {
	policy_conn_close(conn);
    } else {
	event_disable_readwrite(conn->fd);
	event_enable_read(conn->fd, policy_conn_io, conn);	/* EOF while idle */
	event_request_timer(policy_conn_idle, conn, clnt->limits.max_idle * 1000);
    }
    printable(action, '?');
    policy_req_finish(req, POLICY_CLNT_OK, action);
    policy_clnt_dispatch(clnt);
}

/* policy_conn_read - input; 0, or -1 when CONN was closed */

static int policy_conn_read(POLICY_CONN *conn)
{
    char    buf[1024];
    char   *end;
    char   *action;
    ssize_t n;

    if ((n = read(conn->fd, buf, sizeof(buf))) < 0 && (errno == EAGAIN || errno == EINTR))
	return (0);
    if (conn->req == 0) {			/* idle: EOF or junk ends it */
	policy_conn_close(conn);
	return (-1);
    }
    if (n <= 0) {
	policy_conn_fail(conn, n < 0 ? "read error" : "the server closed the connection");
	return (-1);
    }
    vstring_memcat(conn->in, buf, (size_t) n);
    if (LEN(conn->in) > POLICY_ANSWER_MAX) {
	policy_conn_fail(conn, "answer too long");
	return (-1);
    }
    if (memchr(STR(conn->in), 0, LEN(conn->in)) != 0) {
	policy_conn_fail(conn, "malformed answer");
	return (-1);
    }
    if ((end = strstr(STR(conn->in), "\n\n")) == 0
	&& (end = strstr(STR(conn->in), "\r\n\r\n")) == 0)
	return (0);				/* not complete yet */
    end[1] = 0;
    if ((action = policy_answer(STR(conn->in))) == 0) {
	policy_conn_fail(conn, "answer without action");
	return (-1);
    }
    policy_conn_answered(conn, action);
    return (0);
}

/* policy_conn_write - the rest of the request */

static void policy_conn_write(POLICY_CONN *conn)
{
    const char *text = conn->req->text;
    size_t  len = strlen(text);
    ssize_t n;
    int     err;
    socklen_t errlen = sizeof(err);

    if (conn->connecting) {
	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err) {
	    msg_warn("connect to %s: %s", conn->clnt->where,
		     err ? strerror(err) : "connect failed");
	    policy_conn_fail(conn, err ? strerror(err) : "connect failed");
	    return;
	}
	conn->connecting = 0;
    }
    while (conn->sent < len) {
	n = send(conn->fd, text + conn->sent, len - conn->sent, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
	    return;
	if (n <= 0) {
	    policy_conn_fail(conn, "write error");
	    return;
	}
	conn->sent += (size_t) n;
    }
    event_disable_readwrite(conn->fd);
    event_enable_read(conn->fd, policy_conn_io, conn);
}

static void policy_conn_io(int event, void *context)
{
    POLICY_CONN *conn = context;

    if ((event & EVENT_READ) || (event & EVENT_XCPT && conn->req == 0)) {
	(void) policy_conn_read(conn);
	return;
    }
    if (conn->req)
	policy_conn_write(conn);
}
