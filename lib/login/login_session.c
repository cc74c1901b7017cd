/*
 * login_session.c - the session side of a login (login_session.h).
 */
#include "sys_defs.h"
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "login_proto.h"
#include "login_session.h"

#define SESSION_READ_SIZE	65536
#define SESSION_OUT_HIGH	65536	/* flush when this much is buffered */

/* session_env - a variable postlogin sets; fatal if missing */

static const char *session_env(const char *name, int required)
{
    const char *value = getenv(name);

    if (value == 0 && required)
	msg_fatal("%s is not set: this program is started by its auth service",
		  name);
    return (value ? value : "");
}

/* session_unhex - the pipelined input */

static void session_unhex(VSTRING *out, const char *hex)
{
    for (; hex[0] && hex[1]; hex += 2) {
	int     hi = hex[0] <= '9' ? hex[0] - '0' : hex[0] - 'a' + 10;
	int     lo = hex[1] <= '9' ? hex[1] - '0' : hex[1] - 'a' + 10;

	vstring_addch(out, (hi << 4) | lo);
    }
}

LOGIN_SESSION *login_session_init(int timeout)
{
    LOGIN_SESSION *sess = (LOGIN_SESSION *) mycalloc(1, sizeof(*sess));
    int     on = 1;

    sess->user = session_env(LOGIN_ENV_USER, 1);
    sess->mailbox = session_env(LOGIN_ENV_MAILBOX, 1);
    sess->maildir = strcmp(session_env(LOGIN_ENV_KIND, 1), "maildir") == 0;
    sess->client = session_env(LOGIN_ENV_CLIENT, 0);
    sess->tls = session_env(LOGIN_ENV_TLS, 0);
    sess->tag = session_env(LOGIN_ENV_TAG, 0);
    sess->mech = session_env(LOGIN_ENV_MECH, 0);
    sess->timeout = timeout;
    sess->in = vstring_alloc(SESSION_READ_SIZE);
    sess->out = vstring_alloc(SESSION_OUT_HIGH);
    session_unhex(sess->in, session_env(LOGIN_ENV_INPUT, 0));
    /* Every read and write waits in poll(), within the timeout */
    non_blocking(0, NON_BLOCKING);
    non_blocking(1, NON_BLOCKING);
    /* Replies are written whole: no waiting for the client's delayed ACK */
    (void) setsockopt(1, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return (sess);
}

/* session_wait - wait until FD is ready for EVENTS; 0, or -1 on timeout */

static int session_wait(LOGIN_SESSION *sess, int fd, short events)
{
    struct pollfd pfd;
    int     n;

    pfd.fd = fd;
    pfd.events = events;
    while ((n = poll(&pfd, 1, sess->timeout * 1000)) < 0 && errno == EINTR)
	 /* again */ ;
    if (n == 0) {
	sess->timed_out = 1;
	return (-1);
    }
    return (0);
}

int     login_session_fill(LOGIN_SESSION *sess)
{
    ssize_t n;

    if (sess->eof || sess->timed_out || login_session_flush(sess) < 0)
	return (-1);
    vstring_reserve(sess->in, SESSION_READ_SIZE);
    do {
	if (session_wait(sess, 0, POLLIN) < 0)
	    return (-1);			/* timed out: we may still say so */
	n = read(0, STR(sess->in) + LEN(sess->in), SESSION_READ_SIZE);
    } while (n < 0 && (errno == EINTR || errno == EAGAIN));
    if (n <= 0) {
	sess->eof = 1;
	return (-1);
    }
    sess->in->len += (size_t) n;
    sess->in->data[sess->in->len] = 0;
    return (0);
}

int     login_session_get_line(LOGIN_SESSION *sess, VSTRING *line, size_t limit)
{
    char   *nl;
    size_t  len;
    int     too_long = 0;

    while ((nl = memchr(STR(sess->in), '\n', LEN(sess->in))) == 0) {
	if (LEN(sess->in) > limit) {
	    too_long = 1;			/* drop what we have, keep reading */
	    vstring_reset(sess->in);
	}
	if (login_session_fill(sess) < 0)
	    return (LOGIN_LINE_EOF);
    }
    len = (size_t) (nl - STR(sess->in));
    if (too_long || len > limit) {
	vstring_drop_head(sess->in, len + 1);
	return (LOGIN_LINE_TOO_LONG);
    }
    vstring_strncpy(line, STR(sess->in), len);
    if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == '\r')
	vstring_truncate(line, LEN(line) - 1);
    vstring_drop_head(sess->in, len + 1);
    return (LOGIN_LINE_OK);
}

ssize_t login_session_read(LOGIN_SESSION *sess, char *buf, size_t len)
{
    size_t  n;

    if (LEN(sess->in) == 0 && login_session_fill(sess) < 0)
	return (0);
    n = LEN(sess->in) < len ? LEN(sess->in) : len;
    memcpy(buf, STR(sess->in), n);
    vstring_drop_head(sess->in, n);
    return ((ssize_t) n);
}

int     login_session_pending(LOGIN_SESSION *sess)
{
    return (memchr(STR(sess->in), '\n', LEN(sess->in)) != 0);
}

void    login_session_write(LOGIN_SESSION *sess, const char *data, size_t len)
{
    vstring_memcat(sess->out, data, len);
    if (LEN(sess->out) >= SESSION_OUT_HIGH)
	(void) login_session_flush(sess);
}

void    login_session_printf(LOGIN_SESSION *sess, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(sess->out, fmt, ap);
    va_end(ap);
    if (LEN(sess->out) >= SESSION_OUT_HIGH)
	(void) login_session_flush(sess);
}

int     login_session_flush(LOGIN_SESSION *sess)
{
    ssize_t n;

    while (LEN(sess->out) > 0 && !sess->eof) {
	n = send(1, STR(sess->out), LEN(sess->out), MSG_NOSIGNAL);
	if (n < 0 && errno == ENOTSOCK)
	    n = write(1, STR(sess->out), LEN(sess->out));
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && errno == EAGAIN && session_wait(sess, 1, POLLOUT) == 0)
	    continue;			/* a client that stops reading times out */
	if (n <= 0) {
	    sess->eof = 1;
	    break;
	}
	vstring_drop_head(sess->out, (size_t) n);
    }
    if (sess->eof)
	vstring_reset(sess->out);
    return (sess->eof ? -1 : 0);
}

void    login_session_log_init(void)
{
    VSTRING *path;

    /* A user cannot open maillog_file: postlogd writes for us */
    if (*conf_str("maillog_file") == 0)
	return;
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s/postlog", conf_str("queue_directory"),
		    MAIL_QUEUE_PUBLIC);
    msg_logsocket(STR(path));
    vstring_free(path);
}

int     login_session_wait(LOGIN_SESSION *sess, int other_fd, int timeout_ms)
{
    struct pollfd pfd[2];
    int     n;

    if (LEN(sess->in) > 0)
	return (LOGIN_WAIT_INPUT);
    if (login_session_flush(sess) < 0)
	return (LOGIN_WAIT_INPUT);		/* the read will see the EOF */
    pfd[0].fd = 0;
    pfd[0].events = POLLIN;
    pfd[1].fd = other_fd;
    pfd[1].events = POLLIN;
    pfd[0].revents = pfd[1].revents = 0;
    while ((n = poll(pfd, other_fd >= 0 ? 2 : 1, timeout_ms)) < 0 && errno == EINTR)
	 /* again */ ;
    if (n <= 0)
	return (LOGIN_WAIT_TIMEOUT);
    if (pfd[0].revents)
	return (LOGIN_WAIT_INPUT);
    return (LOGIN_WAIT_OTHER);
}
