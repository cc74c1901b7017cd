/*
 * smtp_session.c - one SMTP client connection: connect, read replies,
 * write commands, STARTTLS.
 *
 * The socket is non-blocking; every operation waits with poll() for at
 * most its timeout, so a silent server cannot hold the agent.  Reads go
 * through the session's buffer, from TLS once it is on.  Reply lines are
 * bounded (SMTP_LINE_MAX) and a reply has at most SMTP_REPLY_LINES lines;
 * longer lines are cut, as Postfix does; control characters and broken
 * UTF-8 in them become '?' (lib/util/printable.h).  A failure sets sess->lost (and
 * sess->timed_out for a timeout): the caller words the reason for the
 * stage it was in.
 *
 * An address with port 0 is a UNIX-domain socket path (LMTP "unix:"): it
 * is logged as "host[path]" without a port, as Postfix does.  A connect
 * timeout of 0 means none (Postfix's lmtp_connect_timeout default).
 *
 * smtp_sess_alive() is the check before a cached session is used again
 * (smtp_cache.c): an idle server sends nothing, so anything readable
 * (EOF, a "421 timeout", an error) means the session is gone; under TLS,
 * records that carry no data (session tickets) are read and ignored.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <poll.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "printable.h"
#include "smtp.h"

#define SMTP_LINE_MAX		2048	/* longest reply line kept */
#define SMTP_REPLY_LINES	100	/* most lines in one reply */
#define SMTP_READ_CHUNK		4096
#define SMTP_NO_TIMEOUT		(365 * 86400)	/* "0s": wait as long as it takes */
#define SMTP_RETRY_MSEC		100	/* a full UNIX listen queue: try again */

/* smtp_wait - wait up to the DEADLINE for FD; 1 ready, 0 timeout, -1 error */
static int smtp_wait(int fd, int events, time_t deadline)
{
    struct pollfd pfd;

    for (;;) {
	long    left = (long) (deadline - time((time_t *) 0));
	int     n;

	if (left <= 0)
	    return (0);
	pfd.fd = fd;
	pfd.events = (short) events;
	pfd.revents = 0;
	n = poll(&pfd, 1, left > 1000000 ? 1000000000 : (int) left * 1000);
	if (n > 0)
	    return (1);
	if (n < 0 && errno != EINTR)
	    return (-1);
    }
}

/* smtp_sockaddr - ADDR:PORT (port 0: the path ADDR) as a socket address; 0 or -1 */
static int smtp_sockaddr(const SMTP_ADDR *addr, struct sockaddr_storage *ss,
			         socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    struct sockaddr_un *sun = (struct sockaddr_un *) ss;

    memset(ss, 0, sizeof(*ss));
    if (addr->port == 0) {
	if (strlen(addr->addr) >= sizeof(sun->sun_path)) {
	    errno = ENAMETOOLONG;
	    return (-1);
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, addr->addr, strlen(addr->addr) + 1);
	*len = sizeof(*sun);
	return (0);
    }
    if (inet_pton(AF_INET, addr->addr, &sin->sin_addr) == 1) {
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short) addr->port);
	*len = sizeof(*sin);
	return (0);
    }
    if (inet_pton(AF_INET6, addr->addr, &sin6->sin6_addr) == 1) {
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((unsigned short) addr->port);
	*len = sizeof(*sin6);
	return (0);
    }
    errno = EINVAL;
    return (-1);
}

/*
 * smtp_connect_wait - finish a non-blocking connect() that returned
 * ERR by DEADLINE: EINPROGRESS waits for the result, EAGAIN (a UNIX
 * socket whose listen queue is full) tries again.  0 or an errno value.
 */
static int smtp_connect_wait(int fd, const struct sockaddr_storage *ss,
			             socklen_t len, int err, time_t deadline)
{
    socklen_t errlen = sizeof(err);
    int     ready;

    while (err == EAGAIN || err == EINTR) {
	if (time((time_t *) 0) >= deadline)
	    return (ETIMEDOUT);
	if (err == EAGAIN)
	    (void) poll((struct pollfd *) 0, 0, SMTP_RETRY_MSEC);
	err = connect(fd, (const struct sockaddr *) ss, len) == 0 ? 0 : errno;
    }
    if (err == EALREADY)
	err = EINPROGRESS;
    if (err != EINPROGRESS)
	return (err);
    if ((ready = smtp_wait(fd, POLLOUT, deadline)) == 0)
	return (ETIMEDOUT);
    if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
	return (errno);
    return (err);
}

/* smtp_connect_fd - a connected non-blocking socket, or -1 with errno */
static int smtp_connect_fd(const SMTP_ADDR *addr, int timeout)
{
    struct sockaddr_storage ss;
    socklen_t len;
    time_t  deadline;
    int     fd, err;

    if (smtp_sockaddr(addr, &ss, &len) < 0)
	return (-1);
    if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
	return (-1);
    non_blocking(fd, 1);
    close_on_exec(fd, 1);
    deadline = time((time_t *) 0) + (timeout > 0 ? timeout : SMTP_NO_TIMEOUT);
    err = connect(fd, (struct sockaddr *) &ss, len) == 0 ? 0 : errno;
    if (err != 0)
	err = smtp_connect_wait(fd, &ss, len, err, deadline);
    if (err == 0)
	return (fd);
    close(fd);
    errno = err;
    return (-1);
}

void	smtp_addr_relay(const SMTP_ADDR *addr, VSTRING *buf)
{
    vstring_sprintf(buf, "%s[%s]", addr->host, addr->addr);
    if (addr->port > 0)
	vstring_sprintf_append(buf, ":%d", addr->port);
}

SMTP_SESS *smtp_sess_connect(const SMTP_ADDR *addr, int timeout, VSTRING *why)
{
    SMTP_SESS *sess;
    VSTRING *buf;
    int     fd;

    buf = vstring_alloc(100);
    smtp_addr_relay(addr, buf);
    if ((fd = smtp_connect_fd(addr, timeout)) < 0) {
	vstring_sprintf(why, "connect to %s: %s", STR(buf),
		  errno == ETIMEDOUT ? "Connection timed out" : strerror(errno));
	vstring_free(buf);
	return (0);
    }
    sess = mycalloc(1, sizeof(*sess));
    sess->fd = fd;
    sess->host = mystrdup(addr->host);
    sess->addr = mystrdup(addr->addr);
    sess->port = addr->port;
    sess->start = time((time_t *) 0);
    sess->relay = mystrdup(STR(buf));
    vstring_sprintf(buf, "%s[%s]", addr->host, addr->addr);
    sess->namaddr = mystrdup(STR(buf));
    vstring_free(buf);
    sess->inbuf = vstring_alloc(SMTP_READ_CHUNK);
    return (sess);
}

void	smtp_sess_free(SMTP_SESS *sess)
{
    if (sess->tls)
	tls_session_free(sess->tls);
    close(sess->fd);
    myfree(sess->host);
    myfree(sess->addr);
    myfree(sess->namaddr);
    myfree(sess->relay);
    if (sess->auth_mechs)
	myfree(sess->auth_mechs);
    vstring_free(sess->inbuf);
    myfree(sess);
}

int	smtp_sess_alive(SMTP_SESS *sess)
{
    struct pollfd pfd;
    char    ch;

    /* An idle server says nothing: any input is EOF, a 421 or garbage */
    if (sess->lost || LEN(sess->inbuf) > 0)
	return (0);
    pfd.fd = sess->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) == 0)
	return (1);
    /* TLS records without data (a TLS 1.3 session ticket) are no input */
    if (sess->tls && (pfd.revents & (POLLERR | POLLHUP)) == 0)
	return (tls_read(sess->tls, &ch, 1) == TLS_WANT_READ);
    return (0);
}

/* smtp_lost - mark the session unusable; always -1 */
static int smtp_lost(SMTP_SESS *sess, int timed_out)
{
    sess->lost = 1;
    sess->timed_out = timed_out;
    return (-1);
}

/* smtp_io_wait - wait for the direction a TLS or plain call needs */
static int smtp_io_wait(SMTP_SESS *sess, ssize_t want, time_t deadline)
{
    int     ready = smtp_wait(sess->fd, want == TLS_WANT_WRITE ? POLLOUT : POLLIN,
			      deadline);

    return (ready > 0 ? 0 : smtp_lost(sess, ready == 0));
}

int	smtp_sess_write(SMTP_SESS *sess, const char *buf, size_t len, int timeout)
{
    time_t  deadline = time((time_t *) 0) + timeout;

    if (sess->lost)
	return (-1);
    while (len > 0) {
	ssize_t n;

	if (sess->tls) {
	    n = tls_write(sess->tls, buf, len);
	} else {
	    n = write(sess->fd, buf, len);
	    if (n < 0 && (errno == EAGAIN || errno == EINTR))
		n = TLS_WANT_WRITE;
	}
	if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
	    if (smtp_io_wait(sess, n, deadline) < 0)
		return (-1);
	    continue;
	}
	if (n <= 0)
	    return (smtp_lost(sess, 0));
	buf += n;
	len -= (size_t) n;
    }
    return (0);
}

/* smtp_fill - read more input into the buffer; 0 or -1 */
static int smtp_fill(SMTP_SESS *sess, time_t deadline)
{
    char    chunk[SMTP_READ_CHUNK];

    for (;;) {
	ssize_t n;

	if (sess->tls) {
	    n = tls_read(sess->tls, chunk, sizeof(chunk));
	} else {
	    n = read(sess->fd, chunk, sizeof(chunk));
	    if (n < 0 && (errno == EAGAIN || errno == EINTR))
		n = TLS_WANT_READ;
	}
	if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
	    if (smtp_io_wait(sess, n, deadline) < 0)
		return (-1);
	    continue;
	}
	if (n <= 0)
	    return (smtp_lost(sess, 0));
	vstring_memcat(sess->inbuf, chunk, (size_t) n);
	return (0);
    }
}

/* smtp_get_line - one line without CRLF into LINE (cut at the maximum) */
static int smtp_get_line(SMTP_SESS *sess, VSTRING *line, time_t deadline)
{
    char   *nl;
    size_t  len;

    while ((nl = memchr(STR(sess->inbuf), '\n', LEN(sess->inbuf))) == 0) {
	if (LEN(sess->inbuf) > 100 * SMTP_LINE_MAX)
	    vstring_truncate(sess->inbuf, SMTP_LINE_MAX);	/* keep the head */
	if (smtp_fill(sess, deadline) < 0)
	    return (-1);
    }
    len = (size_t) (nl - STR(sess->inbuf));
    vstring_strncpy(line, STR(sess->inbuf), len > SMTP_LINE_MAX ? SMTP_LINE_MAX : len);
    if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == '\r')
	vstring_truncate(line, LEN(line) - 1);
    vstring_drop_head(sess->inbuf, len + 1);
    /* The peer's text reaches logs, defer logs and bounces: no CR in it */
    printable(STR(line), '?');
    return (0);
}

void	smtp_reply_dsn(int code, const char *text, char *dsn, size_t len)
{
    const char *cp = text;
    size_t  n = 0;

    /* class.subject.detail with class equal to the reply's first digit */
    if (*cp == '0' + code / 100 && cp[1] == '.') {
	n = 2;
	while (isdigit((unsigned char) cp[n]))
	    n++;
	if (n > 2 && cp[n] == '.' && isdigit((unsigned char) cp[n + 1])) {
	    n++;
	    while (isdigit((unsigned char) cp[n]))
		n++;
	    if ((cp[n] == 0 || cp[n] == ' ') && n < len) {
		snprintf(dsn, len, "%.*s", (int) n, cp);
		return;
	    }
	}
    }
    snprintf(dsn, len, "%d.0.0", code / 100);
}

void	smtp_resp_init(SMTP_RESP *resp)
{
    resp->code = 0;
    resp->dsn[0] = 0;
    resp->text = vstring_alloc(100);
    resp->lines = vstring_alloc(100);
}

void	smtp_resp_free(SMTP_RESP *resp)
{
    vstring_free(resp->text);
    vstring_free(resp->lines);
}

int	smtp_sess_reply(SMTP_SESS *sess, SMTP_RESP *resp, int timeout)
{
    time_t  deadline = time((time_t *) 0) + timeout;
    VSTRING *line = vstring_alloc(100);
    int     lines = 0, ret = 0;

    vstring_reset(resp->text);
    vstring_reset(resp->lines);
    for (;;) {
	const char *cp;

	if (smtp_get_line(sess, line, deadline) < 0) {
	    ret = -1;
	    break;
	}
	cp = STR(line);
	if (LEN(line) < 3 || !isdigit((unsigned char) cp[0])
	    || !isdigit((unsigned char) cp[1]) || !isdigit((unsigned char) cp[2])
	    || (cp[3] != 0 && cp[3] != ' ' && cp[3] != '-'))
	    continue;				/* garbage: Postfix skips it too */
	if (lines++ < SMTP_REPLY_LINES) {
	    if (LEN(resp->text) == 0)
		vstring_strncpy(resp->text, cp, 3);
	    vstring_strcat(resp->text, " ");
	    vstring_strcat(resp->text, cp[3] ? cp + 4 : "");
	    vstring_strcat(resp->lines, cp[3] ? cp + 4 : "");
	    vstring_addch(resp->lines, '\n');
	}
	if (cp[3] != '-') {
	    resp->code = atoi(cp);
	    break;
	}
    }
    vstring_free(line);
    if (ret == 0) {
	/* "250 text": trim the trailing space of a bare code */
	while (LEN(resp->text) > 3 && STR(resp->text)[LEN(resp->text) - 1] == ' ')
	    vstring_truncate(resp->text, LEN(resp->text) - 1);
	smtp_reply_dsn(resp->code, LEN(resp->text) > 4 ? STR(resp->text) + 4 : "",
		       resp->dsn, sizeof(resp->dsn));
    }
    return (ret);
}

int	smtp_sess_starttls(SMTP_SESS *sess, TLS_CTX *ctx, int timeout,
			           const char *match_name, VSTRING *why)
{
    time_t  deadline = time((time_t *) 0) + timeout;
    int     ret;

    if (LEN(sess->inbuf) > 0) {
	vstring_strcpy(why, "Cannot start TLS: unexpected input after STARTTLS");
	return (smtp_lost(sess, 0));
    }
    if ((sess->tls = tls_session_client(ctx, sess->fd, 0)) == 0) {
	vstring_strcpy(why, "Cannot start TLS: handshake failure");
	return (smtp_lost(sess, 0));
    }
    while ((ret = tls_handshake(sess->tls)) != 1) {
	if (ret == TLS_ERROR || smtp_io_wait(sess, ret, deadline) < 0) {
	    VSTRING *err = vstring_alloc(100);

	    msg_info("SSL_connect error to %s: %s", sess->relay,
		     sess->timed_out ? "timed out" : tls_error_text(sess->tls, err));
	    vstring_free(err);
	    vstring_strcpy(why, "Cannot start TLS: handshake failure");
	    return (smtp_lost(sess, sess->timed_out));
	}
    }
    sess->tls_peer = tls_peer_status(sess->tls, match_name);
    sess->tls_level = tls_peer_status_name(sess->tls_peer);
    return (0);
}
