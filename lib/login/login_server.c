/*
 * login_server.c - the pre-login engine of pop3d and imapd (login_server.h).
 *
 * Every client is a LOGIN_CLIENT in one event loop.  Its states:
 *   CMD    reading commands, answering through the protocol module;
 *   AUTH   an auth request is out (nothing is read meanwhile);
 *   DELAY  a failed login waits out the failure delay;
 *   PROXY  logged in over TLS: bytes go between TLS and the session;
 *   gone   logged in without TLS: the session has the socket.
 * I/O follows smtpd.c: 64 KiB reads, every complete line handled in
 * order, replies written when no input is left, reading paused while
 * output backs up; TLS through lib/tls/tls.h with its WANT_READ/WRITE.
 *
 * The auth request (login_proto.h): connect to private/SERVICE, pass the
 * client descriptor (or the session's end of a socketpair), then the
 * attribute list; the answer comes back as an attribute list read in the
 * event loop, within PREFIX_auth_timeout.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "events.h"
#include "iostuff.h"
#include "attr.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "dict.h"
#include "tls.h"
#include "base64_code.h"
#include "login_proto.h"
#include "login_server.h"

#define LOGIN_READ_SIZE	16384
#define LOGIN_OUT_HIGH	65536		/* stop reading above this backlog */
#define LOGIN_PROXY_BUF	65536		/* per direction, in proxy mode */
#define LOGIN_REPLY_MAX	16384		/* an auth answer, at most */

/* Client states */
#define ST_CMD		0
#define ST_AUTH		1
#define ST_DELAY	2
#define ST_PROXY	3

/* TLS phases */
#define TLS_OFF		0
#define TLS_STARTING	1		/* the "OK, begin TLS" reply goes out */
#define TLS_HANDSHAKE	2
#define TLS_ON		3

/* TLS levels */
#define LEVEL_NONE	0
#define LEVEL_MAY	1
#define LEVEL_ENCRYPT	2

struct LOGIN_CLIENT {
    int     fd;
    int     state;
    int     closing;			/* close once the output is out */
    int     skip_line;			/* dropping the rest of a long line */
    char   *namaddr;
    char    addr[64], port[16];
    char    local_addr[64], local_port[16];
    int     loopback;
    VSTRING *in;
    VSTRING *out;
    time_t  deadline;
    int     reading, writing;		/* registered interest on fd */
    /* TLS */
    TLS_SESS *tls;
    int     tls_phase;
    int     tls_wrapper;
    int     want_r, want_w;		/* what the last TLS read/write waits for */
    /* the auth request */
    int     auth_fd;
    VSTRING *auth_request;		/* composed by login_auth() */
    VSTRING *auth_reply;
    LOGIN_AUTH_FN auth_callback;
    VSTRING *auth_input;		/* pipelined input sent along */
    int     pair_fd;			/* our end for the TLS proxy */
    int     failures;
    int     fail_status;
    char   *fail_reason;
    /* proxy */
    VSTRING *to_session;		/* from the client, for the session */
    int     pair_reading, pair_writing;
    int     client_eof;
    int     session_eof;
    void   *context;			/* the protocol module's */
};

static const LOGIN_PROTOCOL *login_protocol;
static TLS_CTX *login_tls_ctx;
static int login_tls_level;
static int login_tls_wrapmode;
static int login_tls_loglevel;
static int login_timeout;
static int login_failure_delay;
static int login_failure_limit;
static int login_auth_timeout;

static void login_read_event(int event, void *context);
static void login_write_event(int event, void *context);
static void login_timeout_event(int event, void *context);
static void login_delay_event(int event, void *context);
static void login_auth_expired(int event, void *context);
static int login_flush(LOGIN_CLIENT *client);
static int login_process(LOGIN_CLIENT *client);
static void login_proxy_update(LOGIN_CLIENT *client);

/* login_param - PREFIX_NAME's value */

static const char *login_param(const char *name)
{
    VSTRING *buf = vstring_alloc(64);
    const char *value;

    vstring_sprintf(buf, "%s_%s", login_protocol->prefix, name);
    value = conf_str(STR(buf));
    vstring_free(buf);
    return (value);
}

static int login_param_int(const char *name, int time_unit)
{
    VSTRING *buf = vstring_alloc(64);
    int     value;

    vstring_sprintf(buf, "%s_%s", login_protocol->prefix, name);
    value = time_unit ? conf_time(STR(buf)) : conf_int(STR(buf));
    vstring_free(buf);
    return (value);
}

static int login_param_bool(const char *name)
{
    VSTRING *buf = vstring_alloc(64);
    int     value;

    vstring_sprintf(buf, "%s_%s", login_protocol->prefix, name);
    value = conf_bool(STR(buf));
    vstring_free(buf);
    return (value);
}

/*
 * Connection life.
 */

/*
 * login_free - the end of a client, whatever state it is in.  Closing our
 * descriptor never ends a connection that a session has a copy of.
 */
static void login_free(LOGIN_CLIENT *client)
{
    event_cancel_timer(login_timeout_event, client);
    event_cancel_timer(login_delay_event, client);
    event_cancel_timer(login_auth_expired, client);
    if (client->fd >= 0) {
	event_disable_readwrite(client->fd);
	if (client->tls)
	    tls_session_free(client->tls);
	event_server_disconnect(client->fd);	/* closes, counts one less */
    }
    if (client->auth_fd >= 0) {
	event_disable_readwrite(client->auth_fd);
	close(client->auth_fd);
    }
    if (client->pair_fd >= 0) {
	event_disable_readwrite(client->pair_fd);
	close(client->pair_fd);
    }
    if (login_protocol->free)
	login_protocol->free(client);
    vstring_free(client->in);
    vstring_free(client->out);
    vstring_free(client->auth_request);
    vstring_free(client->auth_reply);
    vstring_free(client->auth_input);
    vstring_free(client->to_session);
    if (client->fail_reason)
	myfree(client->fail_reason);
    myfree(client->namaddr);
    myfree(client);
}

/* login_disconnect - log and free */

static void login_disconnect(LOGIN_CLIENT *client, const char *why)
{
    if (client->state == ST_PROXY)
	msg_info("disconnect from %s (logged in)", client->namaddr);
    else
	msg_info("disconnect from %s%s%s", client->namaddr, why ? ": " : "",
		 why ? why : "");
    login_free(client);
}

/* login_set_events - register interest on the client socket */

static void login_set_events(LOGIN_CLIENT *client, int want_read, int want_write)
{
    if (want_read == client->reading && want_write == client->writing)
	return;
    if ((client->reading && !want_read) || (client->writing && !want_write))
	event_disable_readwrite(client->fd);
    if (want_read)
	event_enable_read(client->fd, login_read_event, client);
    if (want_write)
	event_enable_write(client->fd, login_write_event, client);
    client->reading = want_read;
    client->writing = want_write;
}

/* login_update_events - interest from the client's state */

static void login_update_events(LOGIN_CLIENT *client)
{
    int     want_read, want_write;

    if (client->state == ST_PROXY) {
	login_proxy_update(client);
	return;
    }
    want_read = (client->state == ST_CMD && !client->closing
		 && LEN(client->out) < LOGIN_OUT_HIGH);
    want_write = LEN(client->out) > 0;
    if (client->tls) {
	switch (client->tls_phase) {
	case TLS_STARTING:
	    want_read = 0;
	    break;
	case TLS_HANDSHAKE:
	    want_read = (client->want_r == EVENT_READ);
	    want_write = (client->want_r == EVENT_WRITE);
	    break;
	default:
	    want_read = (want_read && client->want_r != EVENT_WRITE)
		|| client->want_w == EVENT_READ;
	    want_write = (want_write && client->want_w != EVENT_READ)
		|| client->want_r == EVENT_WRITE;
	    break;
	}
    }
    login_set_events(client, want_read, want_write);
}

/*
 * Socket I/O, with or without TLS.
 */

/* login_tls_result - map a tls_read/tls_write result to read()/write()'s */

static ssize_t login_tls_result(ssize_t ret, int *want)
{
    *want = 0;
    if (ret >= 0)
	return (ret);
    if (ret == TLS_WANT_READ || ret == TLS_WANT_WRITE) {
	*want = (ret == TLS_WANT_READ ? EVENT_READ : EVENT_WRITE);
	errno = EAGAIN;
    } else {
	errno = EIO;
    }
    return (-1);
}

static ssize_t login_recv(LOGIN_CLIENT *client, char *buf, size_t len)
{
    if (client->tls && client->tls_phase == TLS_ON)
	return (login_tls_result(tls_read(client->tls, buf, len), &client->want_r));
    return (read(client->fd, buf, len));
}

static ssize_t login_xmit(LOGIN_CLIENT *client, const char *buf, size_t len)
{
    if (client->tls && client->tls_phase == TLS_ON)
	return (login_tls_result(tls_write(client->tls, buf, len), &client->want_w));
    return (send(client->fd, buf, len, MSG_NOSIGNAL));
}

/* login_send - write what can go out now; -1 on a hard error */

static int login_send(LOGIN_CLIENT *client, VSTRING *out)
{
    if (client->tls && client->tls_phase == TLS_HANDSHAKE)
	return (0);
    while (LEN(out) > 0) {
	ssize_t n = login_xmit(client, STR(out), LEN(out));

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    if (errno == EAGAIN || errno == EWOULDBLOCK)
		return (0);
	    return (-1);
	}
	vstring_drop_head(out, (size_t) n);
    }
    return (0);
}

/*
 * TLS.
 */

static void login_tls_log(LOGIN_CLIENT *client)
{
    VSTRING *summary = vstring_alloc(100);
    VSTRING *kex = vstring_alloc(100);

    msg_info("Anonymous TLS connection established from %s: %s%s",
	     client->namaddr, tls_summary(client->tls, summary),
	     tls_kex_summary(client->tls, kex));
    vstring_free(summary);
    vstring_free(kex);
}

/* login_handshake - one step; -1 when the client was closed */

static int login_handshake(LOGIN_CLIENT *client)
{
    VSTRING *why;

    client->tls_phase = TLS_HANDSHAKE;
    switch (tls_handshake(client->tls)) {
    case TLS_WANT_READ:
	client->want_r = EVENT_READ;
	break;
    case TLS_WANT_WRITE:
	client->want_r = EVENT_WRITE;
	break;
    case 1:
	client->want_r = 0;
	client->tls_phase = TLS_ON;
	client->deadline = event_time() + login_timeout;
	if (login_tls_loglevel >= 1)
	    login_tls_log(client);
	if (client->tls_wrapper)
	    login_protocol->greet(client);
	else if (login_protocol->tls_started)
	    login_protocol->tls_started(client);
	return (login_flush(client));
    default:
	why = vstring_alloc(100);
	msg_info("SSL_accept error from %s: %s", client->namaddr,
		 tls_error_text(client->tls, why));
	vstring_free(why);
	login_disconnect(client, 0);
	return (-1);
    }
    login_update_events(client);
    return (0);
}

/* login_tls_start - a TLS session object; -1 (logged) on failure */

static int login_tls_start(LOGIN_CLIENT *client, int phase)
{
    if ((client->tls = tls_session_server(login_tls_ctx, client->fd)) == 0) {
	msg_warn("cannot start TLS session with %s", client->namaddr);
	return (-1);
    }
    client->tls_phase = phase;
    return (0);
}

int     login_tls_offered(LOGIN_CLIENT *client)
{
    return (login_tls_level != LEVEL_NONE && login_tls_ctx != 0 && client->tls == 0);
}

int     login_tls_active(LOGIN_CLIENT *client)
{
    return (client->tls != 0 && client->tls_phase == TLS_ON);
}

int     login_tls_required(LOGIN_CLIENT *client)
{
    return (login_tls_level == LEVEL_ENCRYPT && client->tls == 0);
}

void    login_starttls(LOGIN_CLIENT *client)
{
    if (!login_tls_offered(client) || login_tls_start(client, TLS_STARTING) < 0)
	msg_panic("login_starttls: TLS not offered");
}

int     login_plaintext_ok(LOGIN_CLIENT *client)
{
    return (login_tls_active(client) || client->loopback
	    || !login_param_bool("tls_auth_only"));
}

/*
 * Output, and the command loop.
 */

void    login_reply(LOGIN_CLIENT *client, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(client->out, fmt, ap);
    va_end(ap);
    vstring_strcat(client->out, "\r\n");
}

void    login_close(LOGIN_CLIENT *client)
{
    client->closing = 1;
}

const char *login_namaddr(LOGIN_CLIENT *client)
{
    return (client->namaddr);
}

void  **login_context(LOGIN_CLIENT *client)
{
    return (&client->context);
}

/*
 * SASL responses.
 */

int     login_sasl_plain(const char *b64, VSTRING *buf, const char **authzid,
			         const char **authcid, const char **password)
{
    const char *end, *nul1, *nul2;

    if (base64_decode(buf, b64, strlen(b64)) < 0)
	return (LOGIN_SASL_BASE64);
    end = STR(buf) + LEN(buf);
    if ((nul1 = memchr(STR(buf), 0, LEN(buf))) == 0
	|| (nul2 = memchr(nul1 + 1, 0, (size_t) (end - nul1 - 1))) == 0
	|| memchr(nul2 + 1, 0, (size_t) (end - nul2 - 1)) != 0
	|| nul1[1] == 0)
	return (LOGIN_SASL_INVALID);
    *authzid = STR(buf);
    *authcid = nul1 + 1;
    *password = nul2 + 1;
    return (LOGIN_SASL_OK);
}

int     login_sasl_text(const char *b64, VSTRING *out)
{
    if (base64_decode(out, b64, strlen(b64)) < 0 || strlen(STR(out)) != LEN(out))
	return (LOGIN_SASL_BASE64);
    return (LOGIN_SASL_OK);
}

/* login_flush - write, then close or go on; -1 when the client is gone */

static int login_flush(LOGIN_CLIENT *client)
{
    if (login_send(client, client->out) < 0) {
	login_disconnect(client, "lost connection");
	return (-1);
    }
    if (LEN(client->out) == 0 && client->closing) {
	login_disconnect(client, 0);
	return (-1);
    }
    if (client->tls && client->tls_phase == TLS_STARTING && LEN(client->out) == 0)
	return (login_handshake(client));
    login_update_events(client);
    return (0);
}

static void login_auth_send(LOGIN_CLIENT *client);

/* login_process - handle complete input; -1 when the client is gone */

static int login_process(LOGIN_CLIENT *client)
{
    size_t  pos = 0;
    size_t  used;

    while (client->state == ST_CMD && !client->closing && pos < LEN(client->in)
	   && LEN(client->out) < LOGIN_OUT_HIGH
	   && (client->tls == 0 || client->tls_phase == TLS_ON)) {
	if (client->skip_line) {		/* the rest of an over-long line */
	    char   *nl = memchr(STR(client->in) + pos, '\n', LEN(client->in) - pos);

	    pos = nl ? (size_t) (nl - STR(client->in)) + 1 : LEN(client->in);
	    client->skip_line = (nl == 0);
	    continue;
	}
	used = login_protocol->input(client, STR(client->in) + pos,
				     LEN(client->in) - pos);
	if (used == 0) {
	    if (LEN(client->in) - pos > login_protocol->line_limit) {
		login_protocol->too_long(client);
		pos = LEN(client->in);
		client->skip_line = 1;
	    }
	    break;
	}
	pos += used;
    }
    /* CVE-2011-0411: what came after STLS in plaintext is thrown away */
    if (client->tls && client->tls_phase == TLS_STARTING)
	pos = LEN(client->in);
    vstring_drop_head(client->in, pos);
    if (client->state == ST_AUTH && client->auth_fd < 0) {
	/* Input pipelined after the login command belongs to the session */
	vstring_memcpy(client->auth_input, STR(client->in), LEN(client->in));
	vstring_reset(client->in);
	if (login_flush(client) < 0)
	    return (-1);
	login_auth_send(client);
	return (0);
    }
    return (login_flush(client));
}

/* login_receive - read and handle input; -1 when the client is gone */

static int login_receive(LOGIN_CLIENT *client)
{
    ssize_t n;

    do {
	vstring_reserve(client->in, LOGIN_READ_SIZE);
	n = login_recv(client, STR(client->in) + LEN(client->in), LOGIN_READ_SIZE);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
	    login_update_events(client);
	    return (0);
	}
	if (n <= 0) {
	    login_disconnect(client, n == 0 ? "client closed the connection"
			     : "lost connection");
	    return (-1);
	}
	client->in->len += (size_t) n;
	client->in->data[client->in->len] = 0;
	client->deadline = event_time() + login_timeout;
	if (login_process(client) < 0)
	    return (-1);
    } while (client->state == ST_CMD && client->tls && client->tls_phase == TLS_ON
	     && tls_pending(client->tls) > 0 && LEN(client->out) < LOGIN_OUT_HIGH);
    return (0);
}

/* login_tls_event - any socket event while TLS is on or starting */

static void login_tls_event(LOGIN_CLIENT *client)
{
    switch (client->tls_phase) {
    case TLS_HANDSHAKE:
	(void) login_handshake(client);
	return;
    case TLS_STARTING:
	(void) login_flush(client);
	return;
    }
    if (LEN(client->out) > 0 && login_flush(client) < 0)
	return;
    if (client->state == ST_CMD && !client->closing
	&& LEN(client->out) < LOGIN_OUT_HIGH)
	(void) login_receive(client);
}

static void login_read_event(int event, void *context)
{
    LOGIN_CLIENT *client = context;

    if (client->state == ST_PROXY) {
	login_proxy_update(client);
	return;
    }
    if (client->tls)
	login_tls_event(client);
    else
	(void) login_receive(client);
}

static void login_write_event(int event, void *context)
{
    LOGIN_CLIENT *client = context;

    if (client->state == ST_PROXY) {
	login_proxy_update(client);
	return;
    }
    if (client->tls) {
	login_tls_event(client);
	return;
    }
    if (login_flush(client) == 0 && client->state == ST_CMD && LEN(client->in) > 0)
	(void) login_process(client);
}

static void login_timeout_event(int event, void *context)
{
    LOGIN_CLIENT *client = context;
    time_t  now = event_time();

    if (client->state == ST_PROXY)
	return;					/* the session keeps its own time */
    if (now < client->deadline || client->state != ST_CMD) {
	event_request_timer(login_timeout_event, client,
		(int) (client->deadline > now ? client->deadline - now : 5) * 1000);
	return;
    }
    msg_info("timeout before login from %s", client->namaddr);
    if (login_protocol->timeout && (client->tls == 0 || client->tls_phase == TLS_ON)) {
	login_protocol->timeout(client);
	(void) login_send(client, client->out);
    }
    login_disconnect(client, 0);
}

/*
 * The auth request.
 */

/* login_auth_finish - forget the request; the client's state becomes NEXT */

static void login_auth_finish(LOGIN_CLIENT *client, int next)
{
    if (client->auth_fd >= 0) {
	event_disable_readwrite(client->auth_fd);
	close(client->auth_fd);
	client->auth_fd = -1;
    }
    vstring_reset(client->auth_reply);
    client->state = next;
}

/* login_delay_event - the failure delay is over: tell the client */

static void login_delay_event(int event, void *context)
{
    LOGIN_CLIENT *client = context;

    client->state = ST_CMD;
    /* The input that went along with the request is the client's again */
    vstring_memcat(client->auth_input, STR(client->in), LEN(client->in));
    vstring_memcpy(client->in, STR(client->auth_input), LEN(client->auth_input));
    vstring_reset(client->auth_input);
    client->auth_callback(client, client->fail_status, client->fail_reason);
    if (client->fail_status == LOGIN_FAIL && ++client->failures >= login_failure_limit)
	login_close(client);
    client->deadline = event_time() + login_timeout;
    (void) login_process(client);
}

/* login_auth_failed - answer after the delay (TEMP at once) */

static void login_auth_failed(LOGIN_CLIENT *client, int status, const char *reason)
{
    login_auth_finish(client, ST_DELAY);
    if (client->pair_fd >= 0) {
	close(client->pair_fd);
	client->pair_fd = -1;
    }
    if (client->fail_reason)
	myfree(client->fail_reason);
    client->fail_reason = mystrdup(reason);
    client->fail_status = status;
    event_request_timer(login_delay_event, client,
			status == LOGIN_FAIL ? login_failure_delay * 1000 : 0);
}

static void login_proxy_start(LOGIN_CLIENT *client);

/* login_auth_done - the answer is complete */

static void login_auth_done(LOGIN_CLIENT *client, const ATTR_LIST *reply)
{
    const char *status = attr_find(reply, LOGIN_ATTR_STATUS);
    const char *reason = attr_find(reply, LOGIN_ATTR_REASON);

    if (reason == 0)
	reason = "";
    if (status && strcmp(status, LOGIN_STATUS_OK) == 0) {
	login_auth_finish(client, ST_CMD);
	if (client->tls) {
	    login_proxy_start(client);
	} else {
	    msg_info("disconnect from %s (logged in)", client->namaddr);
	    login_free(client);
	}
    } else if (status && strcmp(status, LOGIN_STATUS_FAIL) == 0) {
	login_auth_failed(client, LOGIN_FAIL, reason);
    } else {
	login_auth_failed(client, LOGIN_TEMP, *reason ? reason :
			  "authentication service problem");
    }
}

/* login_auth_read - more of the answer (or EOF) */

static void login_auth_read(int event, void *context)
{
    LOGIN_CLIENT *client = context;
    char    buf[4096];
    ATTR_LIST reply;
    ssize_t n;
    int     status;

    n = read(client->auth_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	msg_warn("%s: lost connection to the auth service", client->namaddr);
	login_auth_failed(client, LOGIN_TEMP, "authentication service problem");
	return;
    }
    vstring_memcat(client->auth_reply, buf, (size_t) n);
    if (LEN(client->auth_reply) > LOGIN_REPLY_MAX) {
	msg_warn("%s: auth service answer too long", client->namaddr);
	login_auth_failed(client, LOGIN_TEMP, "authentication service problem");
	return;
    }
    status = attr_scan_list(STR(client->auth_reply), LEN(client->auth_reply), &reply);
    if (status == 0)
	return;
    if (status < 0) {
	msg_warn("%s: bad answer from the auth service", client->namaddr);
	login_auth_failed(client, LOGIN_TEMP, "authentication service problem");
	return;
    }
    login_auth_done(client, &reply);
    attr_list_free(&reply);
}

/* login_auth_expired - no answer within PREFIX_auth_timeout */

static void login_auth_expired(int event, void *context)
{
    LOGIN_CLIENT *client = context;

    if (client->state != ST_AUTH)
	return;
    msg_warn("%s: timeout waiting for the auth service", client->namaddr);
    login_auth_failed(client, LOGIN_TEMP, "authentication service timeout");
}

/* login_auth_connect - a connection to private/SERVICE; -1 on failure */

static int login_auth_connect(void)
{
    struct sockaddr_un sun;
    const char *service = login_param("auth_service");
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", MAIL_QUEUE_PRIVATE,
		 service) >= (int) sizeof(sun.sun_path)) {
	errno = ENAMETOOLONG;
	return (-1);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	int     saved = errno;

	close(fd);
	errno = saved;
	return (-1);
    }
    return (fd);
}

/* login_auth_send - send the composed request; the answer comes later */

static void login_auth_send(LOGIN_CLIENT *client)
{
    int     pair[2];
    int     pass_fd;

    attr_buf_put(client->auth_request, LOGIN_ATTR_INPUT,
		 strlen(STR(client->auth_input)) == LEN(client->auth_input) ?
		 STR(client->auth_input) : "");
    attr_buf_end(client->auth_request);
    if ((client->auth_fd = login_auth_connect()) < 0) {
	msg_warn("%s: cannot connect to the auth service %s: %m",
		 client->namaddr, login_param("auth_service"));
	login_auth_failed(client, LOGIN_TEMP, "authentication service unavailable");
	return;
    }
    pass_fd = client->fd;
    if (client->tls) {
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
	    msg_warn("%s: socketpair: %m", client->namaddr);
	    login_auth_failed(client, LOGIN_TEMP, "out of resources");
	    return;
	}
	client->pair_fd = pair[0];
	pass_fd = pair[1];
    }
    if (unix_send_fd(client->auth_fd, pass_fd) < 0
	|| write(client->auth_fd, STR(client->auth_request),
		 LEN(client->auth_request)) != (ssize_t) LEN(client->auth_request)) {
	msg_warn("%s: cannot send to the auth service: %m", client->namaddr);
	if (client->tls)
	    close(pair[1]);
	login_auth_failed(client, LOGIN_TEMP, "authentication service problem");
	return;
    }
    if (client->tls)
	close(pair[1]);
    vstring_reset(client->auth_request);	/* the password goes too */
    event_enable_read(client->auth_fd, login_auth_read, client);
    event_request_timer(login_auth_expired, client, login_auth_timeout * 1000);
}

void    login_auth(LOGIN_CLIENT *client, const LOGIN_CREDS *creds,
		           LOGIN_AUTH_FN callback)
{
    VSTRING *req = client->auth_request;
    VSTRING *tls = vstring_alloc(100);

    if (client->state != ST_CMD)
	msg_panic("login_auth: not in command state");
    client->state = ST_AUTH;
    client->auth_callback = callback;
    vstring_reset(req);
    attr_buf_put(req, LOGIN_ATTR_PROTOCOL, login_protocol->name);
    attr_buf_put(req, LOGIN_ATTR_SERVICE, mail_server_service());
    attr_buf_put(req, LOGIN_ATTR_MECH, creds->mech);
    attr_buf_put(req, LOGIN_ATTR_USER, creds->user);
    attr_buf_put(req, LOGIN_ATTR_AUTHZID, creds->authzid);
    attr_buf_put(req, LOGIN_ATTR_PASSWORD, creds->password);
    attr_buf_put(req, LOGIN_ATTR_CHALLENGE, creds->challenge);
    attr_buf_put(req, LOGIN_ATTR_TAG, creds->tag);
    attr_buf_put(req, LOGIN_ATTR_CLIENT_NAME, client->namaddr);
    attr_buf_put(req, LOGIN_ATTR_CLIENT_ADDR, client->addr);
    attr_buf_put(req, LOGIN_ATTR_CLIENT_PORT, client->port);
    attr_buf_put(req, LOGIN_ATTR_SERVER_ADDR, client->local_addr);
    attr_buf_put(req, LOGIN_ATTR_SERVER_PORT, client->local_port);
    attr_buf_put(req, LOGIN_ATTR_TLS, login_tls_active(client) ?
		 tls_summary(client->tls, tls) : "");
    vstring_free(tls);
    /* login_process() adds the pipelined input and sends it */
}

/*
 * The TLS proxy: client (TLS) <-> pair_fd (the session's socketpair end).
 * to_session holds decrypted client bytes for the session; client->out
 * holds session bytes for the client.
 */

static void login_proxy_pair_event(int event, void *context);

/* login_proxy_pair_io - move bytes to and from the session; -1: it is gone */

static int login_proxy_pair_io(LOGIN_CLIENT *client)
{
    char    buf[16384];
    ssize_t n;

    while (LEN(client->to_session) > 0) {
	n = send(client->pair_fd, STR(client->to_session), LEN(client->to_session),
		 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
	    if (errno == EAGAIN || errno == EINTR)
		break;
	    return (-1);
	}
	vstring_drop_head(client->to_session, (size_t) n);
    }
    if (client->client_eof && LEN(client->to_session) == 0)
	(void) shutdown(client->pair_fd, SHUT_WR);
    while (!client->session_eof && LEN(client->out) < LOGIN_PROXY_BUF) {
	n = recv(client->pair_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
	    break;
	if (n <= 0) {
	    client->session_eof = 1;
	    break;
	}
	vstring_memcat(client->out, buf, (size_t) n);
    }
    return (0);
}

/* login_proxy_client_io - move bytes to and from the client; -1: gone */

static int login_proxy_client_io(LOGIN_CLIENT *client)
{
    char    buf[16384];
    ssize_t n;

    if (login_send(client, client->out) < 0)
	return (-1);
    while (!client->client_eof && LEN(client->to_session) < LOGIN_PROXY_BUF) {
	n = login_recv(client, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
	    break;
	if (n <= 0) {
	    client->client_eof = 1;
	    break;
	}
	vstring_memcat(client->to_session, buf, (size_t) n);
    }
    return (0);
}

/* login_proxy_update - move what can move, then set interest */

static void login_proxy_update(LOGIN_CLIENT *client)
{
    int     want_read, want_write;
    int     pair_read, pair_write;

    for (int round = 0; round < 4; round++) {
	size_t  before = LEN(client->out) + LEN(client->to_session);

	if (login_proxy_client_io(client) < 0 || login_proxy_pair_io(client) < 0)
	    client->client_eof = client->session_eof = 1;
	if (LEN(client->out) + LEN(client->to_session) == before
	    && tls_pending(client->tls) == 0)
	    break;
    }
    /* The session ended and everything it said is out: done */
    if ((client->session_eof && LEN(client->out) == 0)
	|| (client->client_eof && client->session_eof)) {
	login_disconnect(client, 0);
	return;
    }
    want_read = !client->client_eof && LEN(client->to_session) < LOGIN_PROXY_BUF;
    want_write = LEN(client->out) > 0;
    want_read = (want_read && client->want_r != EVENT_WRITE) || client->want_w == EVENT_READ;
    want_write = (want_write && client->want_w != EVENT_READ) || client->want_r == EVENT_WRITE;
    login_set_events(client, want_read, want_write);
    pair_read = !client->session_eof && LEN(client->out) < LOGIN_PROXY_BUF;
    pair_write = LEN(client->to_session) > 0;
    if (pair_read != client->pair_reading || pair_write != client->pair_writing) {
	event_disable_readwrite(client->pair_fd);
	if (pair_read)
	    event_enable_read(client->pair_fd, login_proxy_pair_event, client);
	if (pair_write)
	    event_enable_write(client->pair_fd, login_proxy_pair_event, client);
	client->pair_reading = pair_read;
	client->pair_writing = pair_write;
    }
}

static void login_proxy_pair_event(int event, void *context)
{
    login_proxy_update((LOGIN_CLIENT *) context);
}

/* login_proxy_start - logged in over TLS: relay until either side ends */

static void login_proxy_start(LOGIN_CLIENT *client)
{
    client->state = ST_PROXY;
    event_cancel_timer(login_timeout_event, client);
    non_blocking(client->pair_fd, NON_BLOCKING);
    /* What the client pipelined after the login is already with the session */
    vstring_reset(client->in);
    client->pair_reading = client->pair_writing = 0;
    login_proxy_update(client);
}

/*
 * Accepting clients.
 */

static void login_accept(int fd, const char *service, char **argv)
{
    LOGIN_CLIENT *client = (LOGIN_CLIENT *) mycalloc(1, sizeof(*client));
    VSTRING *name = vstring_alloc(100);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int     one = 1;

    client->fd = fd;
    client->auth_fd = client->pair_fd = -1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    client->in = vstring_alloc(1024);
    client->out = vstring_alloc(1024);
    client->auth_request = vstring_alloc(256);
    client->auth_reply = vstring_alloc(256);
    client->auth_input = vstring_alloc(64);
    client->to_session = vstring_alloc(64);
    peer_address(fd, client->addr, sizeof(client->addr), client->port,
		 sizeof(client->port));
    client->loopback = (strcmp(client->addr, "127.0.0.1") == 0
			|| strcmp(client->addr, "::1") == 0);
    if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0)
	(void) getnameinfo((struct sockaddr *) &ss, len, client->local_addr,
			   sizeof(client->local_addr), client->local_port,
			   sizeof(client->local_port),
			   NI_NUMERICHOST | NI_NUMERICSERV);
    vstring_sprintf(name, "unknown[%s]", client->addr);
    client->namaddr = vstring_export(name);
    client->deadline = event_time() + login_timeout;
    msg_info("connect from %s", client->namaddr);
    event_request_timer(login_timeout_event, client, login_timeout * 1000);
    if (login_tls_wrapmode) {
	if (login_tls_ctx == 0) {
	    msg_warn("TLS not available due to local problem: disconnecting %s "
		     "(%s_tls_wrappermode = yes)", client->namaddr,
		     login_protocol->prefix);
	    login_free(client);
	    return;
	}
	if (login_tls_start(client, TLS_HANDSHAKE) < 0) {
	    login_free(client);
	    return;
	}
	client->tls_wrapper = 1;
	(void) login_handshake(client);
	return;
    }
    login_protocol->greet(client);
    (void) login_flush(client);
}

/* login_tls_init - the one TLS context, as root (the key may be root's only) */

static void login_tls_init(void)
{
    TLS_SERVER_PARAMS params;
    const char *level = login_param("tls_security_level");

    login_tls_wrapmode = login_param_bool("tls_wrappermode");
    login_tls_loglevel = login_param_int("tls_loglevel", 0);
    if (strcasecmp(level, "none") == 0)
	login_tls_level = LEVEL_NONE;
    else if (strcasecmp(level, "may") == 0)
	login_tls_level = LEVEL_MAY;
    else if (strcasecmp(level, "encrypt") == 0)
	login_tls_level = LEVEL_ENCRYPT;
    else {
	msg_warn("invalid %s_tls_security_level value \"%s\": using \"none\"",
		 login_protocol->prefix, level);
	login_tls_level = LEVEL_NONE;
    }
    if (login_tls_level == LEVEL_NONE && !login_tls_wrapmode)
	return;
    params.cert_file = login_param("tls_cert_file");
    params.key_file = login_param("tls_key_file");
    params.chain_files = login_param("tls_chain_files");
    params.protocols = login_param("tls_protocols");
    params.cipher_grade = login_param("tls_ciphers");
    params.exclude_ciphers = login_param("tls_exclude_ciphers");
    if (*params.cert_file == 0 && *params.chain_files == 0) {
	msg_warn("no %s_tls_cert_file: TLS is not available", login_protocol->prefix);
	return;
    }
    login_tls_ctx = tls_server_ctx(&params);
}

static void login_pre_init(const char *service, char **argv)
{
    login_tls_init();
}

static void login_post_init(const char *service, char **argv)
{
    login_timeout = login_param_int("login_timeout", 1);
    login_failure_delay = login_param_int("auth_failure_delay", 1);
    login_auth_timeout = login_param_int("auth_timeout", 1);
    login_failure_limit = login_param_int("auth_failure_limit", 0);
    if (login_failure_limit <= 0)
	login_failure_limit = 1000000;
}

NORETURN login_server_main(int argc, char **argv, const LOGIN_PROTOCOL *protocol)
{
    static MAIL_SERVER_OPS ops;

    login_protocol = protocol;
    ops.pre_init = login_pre_init;
    ops.post_init = login_post_init;
    ops.changed = dict_changed_name;
    event_server_main(argc, argv, login_accept, &ops);
}
