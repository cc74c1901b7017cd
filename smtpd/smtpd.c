/*
 * smtpd.c - the Posthorn SMTP server: main(), sessions and their I/O.
 *
 * smtpd is an event server (lib/global/mail_server.h): one process serves up to
 * process_client_limit clients in one event loop and reports itself busy
 * to master at process_client_soft_limit; past the hard limit a client
 * gets "421 4.3.2 All server ports are busy" at once instead of hanging,
 * and each refusal is logged as Postfix logs a refused connection
 * ("NOQUEUE: reject: CONNECT from unknown[ADDR]: 421 4.3.2 ...; proto=SMTP",
 * at most SMTPD_REJECT_LOG_MAX lines a second, the rest counted in one
 * warning).  On a UNIX-domain service (the local "submit" socket used by
 * sendmail) the client is a trusted local user identified by SO_PEERCRED.
 *
 * Each session reads into its input buffer, handles every complete line
 * in order (pipelining), appends replies to its output buffer and writes
 * them when the input holds no complete line any more.  An idle session
 * is small: its buffers start at 512 bytes; a read that fills the input
 * buffer doubles it (up to 64 KiB reads while a message comes in), and a
 * drained buffer that grew is given back outside DATA/BDAT.
 * Reading stops while too much output is pending.  Every session has an
 * idle deadline of smtpd_timeout.  Only queue file writes block.
 *
 * With TLS (smtpd_tls.c), reads and writes go through OpenSSL, which may
 * need the other direction (WANT_READ/WANT_WRITE): then every socket event
 * of the session retries the pending write and the read, and decrypted
 * bytes that OpenSSL still holds are handled before waiting again.  Input
 * that follows a STARTTLS command in the same read is thrown away.
 *
 * Parameters: myhostname, myorigin, mail_name, smtpd_banner, smtpd_timeout,
 * line_length_limit, message_size_limit, smtpd_hard_error_limit,
 * smtpd_recipient_limit, smtpd_forbid_bare_newline(_exclusions), mynetworks,
 * process_client_limit, process_client_soft_limit, and those listed in
 * smtpd_cmd.c, smtpd_check.c and smtpd_queue.c.
 */
#include "sys_defs.h"
#include <signal.h>
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "dict.h"
#include "smtpd.h"
#include "smtpd_hbc.h"

#define SMTPD_READ_SIZE		65536	/* most bytes per read() */
#define SMTPD_READ_MIN		512	/* least (an idle session's buffer) */
#define SMTPD_OUT_MIN		512	/* an idle session's output buffer */
#define SMTPD_OUT_HIGH		65536	/* stop reading above this backlog */
#define SMTPD_REJECT_LOG_MAX	100	/* 421 refusals logged per second */

const char *var_myhostname;
const char *var_myorigin;
long	var_message_size_limit;
int	var_line_length_limit;
int	var_hard_error_limit;
int	var_soft_error_limit;
int	var_junk_command_limit;
static int var_error_sleep_ms;
int	var_recipient_limit;
int	var_receive_override;
static int var_smtpd_timeout;
static int var_sasl_response_limit;
static int var_bare_lf_policy;

static MAIL_SERVER_OPS smtpd_ops;
static unsigned smtpd_session_count;	/* sessions accepted so far */

static void smtpd_read_event(int event, void *context);
static void smtpd_write_event(int event, void *context);
static void smtpd_timeout_event(int event, void *context);
static void smtpd_delay_event(int event, void *context);
static int smtpd_handshake_step(SMTPD_STATE *state);
static int smtpd_greet(SMTPD_STATE *state);
static void smtpd_start(SMTPD_STATE *state);
static void smtpd_connected(SMTPD_STATE *state);

/* smtpd_log_disconnect - "disconnect from host[addr] ehlo=1 ... commands=N" */
static void smtpd_log_disconnect(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(200);
    int     ok = 0;
    int     total = 0;

    vstring_sprintf(buf, "disconnect from %s", state->namaddr);
    for (int i = 0; i < SMTPD_CMD_COUNT; i++) {
	if (state->cmd_total[i] == 0)
	    continue;
	ok += state->cmd_ok[i];
	total += state->cmd_total[i];
	if (state->cmd_ok[i] == state->cmd_total[i])
	    vstring_sprintf_append(buf, " %s=%d", smtpd_cmd_name(i), state->cmd_ok[i]);
	else
	    vstring_sprintf_append(buf, " %s=%d/%d", smtpd_cmd_name(i),
				   state->cmd_ok[i], state->cmd_total[i]);
    }
    if (ok == total)
	vstring_sprintf_append(buf, " commands=%d", ok);
    else
	vstring_sprintf_append(buf, " commands=%d/%d", ok, total);
    msg_info("%s", STR(buf));
    vstring_free(buf);
}

/* smtpd_close - end the session; LOST: the client went away early */
static void smtpd_close(SMTPD_STATE *state, int lost)
{
    if (lost && state->mode == SMTPD_MODE_DATA)
	msg_info("lost connection after DATA (%ld bytes) from %s",
		 state->msg_size, state->namaddr);
    else if (lost)
	msg_info("lost connection after %s from %s", state->where, state->namaddr);
    if (state->mode == SMTPD_MODE_DATA || state->qf)	/* DATA, or filtering */
	smtpd_data_abort(state);
    smtpd_queue_detach(state);
    smtpd_reset_transaction(state);
    smtpd_milter_free(state);
    if (state->bdat_reply)
	myfree(state->bdat_reply);
    smtpd_log_disconnect(state);
    event_cancel_timer(smtpd_timeout_event, state);
    event_cancel_timer(smtpd_delay_event, state);
    smtpd_anvil_disconnect(state);
    event_disable_readwrite(state->fd);
    event_server_disconnect(state->fd);
    vstring_free(state->in);
    vstring_free(state->out);
    myfree(state->namaddr);
    if (state->helo)
	myfree(state->helo);
    smtpd_tls_free(state);
    smtpd_sasl_free(state);
    smtpd_restrict_free(state);
    smtpd_dns_free(state);
    smtpd_policy_free(state);
    if (state->parked_args)
	myfree(state->parked_args);
    myfree(state);
}

/* smtpd_set_events - register read/write interest as the state needs */
static void smtpd_set_events(SMTPD_STATE *state, int want_read, int want_write)
{
    if (want_read == state->reading && want_write == state->writing)
	return;
    if ((state->reading && !want_read) || (state->writing && !want_write))
	event_disable_readwrite(state->fd);
    if (want_read)
	event_enable_read(state->fd, smtpd_read_event, state);
    if (want_write)
	event_enable_write(state->fd, smtpd_write_event, state);
    state->reading = want_read;
    state->writing = want_write;
}

/* smtpd_update_events - read/write interest from the session's state */
static void smtpd_update_events(SMTPD_STATE *state)
{
    int     want_read = (state->mode != SMTPD_MODE_CLOSE && !state->waiting
			 && LEN(state->out) < SMTPD_OUT_HIGH);
    int     want_write = LEN(state->out) > 0;

    if (state->tls)
	smtpd_tls_events(state, &want_read, &want_write);
    smtpd_set_events(state, want_read, want_write);
}

/*
 * smtpd_shrink_input - all input handled outside DATA/BDAT: give a grown
 * input buffer back, so an idle session holds SMTPD_READ_MIN bytes
 */
static void smtpd_shrink_input(SMTPD_STATE *state)
{
    if (LEN(state->in) == 0 && state->in->size > SMTPD_READ_MIN
	&& state->mode != SMTPD_MODE_DATA && state->mode != SMTPD_MODE_BDAT) {
	vstring_free(state->in);
	state->in = vstring_alloc(SMTPD_READ_MIN);
    }
}

/* smtpd_shrink_output - the same for a drained output buffer */
static void smtpd_shrink_output(SMTPD_STATE *state)
{
    if (LEN(state->out) == 0 && state->out->size > 4 * SMTPD_OUT_MIN) {
	vstring_free(state->out);
	state->out = vstring_alloc(SMTPD_OUT_MIN);
    }
}

/* smtpd_xmit - one write(), through TLS when it is on */
static ssize_t smtpd_xmit(SMTPD_STATE *state, const char *buf, size_t len)
{
    ssize_t n;

    if (state->tls && smtpd_tls_phase(state) == SMTPD_TLS_ON)
	return (smtpd_tls_write(state, buf, len));
    n = send(state->fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
	n = write(state->fd, buf, len);
    return (n);
}

/* smtpd_send - write what we can without blocking; -1 on a hard error */
static int smtpd_send(SMTPD_STATE *state)
{
    if (state->tls && smtpd_tls_phase(state) == SMTPD_TLS_HANDSHAKE)
	return (0);				/* nothing can go out now */
    while (LEN(state->out) > 0) {
	ssize_t n = smtpd_xmit(state, STR(state->out), LEN(state->out));

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    if (errno == EAGAIN || errno == EWOULDBLOCK)
		return (0);
	    return (-1);
	}
	vstring_drop_head(state->out, n);
    }
    smtpd_shrink_output(state);
    return (0);
}

/*
 * smtpd_flush - write pending replies, then adjust event interest.
 * Returns -1 when the session was closed (STATE is gone).
 */
int	smtpd_flush(SMTPD_STATE *state)
{
    /* Over the soft error limit: each reply waits (on a timer) first */
    if (state->delay_due && !state->delaying) {
	state->delay_due = 0;
	if (var_error_sleep_ms > 0 && LEN(state->out) > 0) {
	    state->delaying = 1;
	    event_request_timer(smtpd_delay_event, state, var_error_sleep_ms);
	}
    }
    if (state->delaying) {
	smtpd_set_events(state, 0, 0);
	return (0);
    }
    if (smtpd_send(state) < 0) {
	smtpd_close(state, 1);
	return (-1);
    }
    if (LEN(state->out) == 0 && state->mode == SMTPD_MODE_CLOSE) {
	smtpd_close(state, 0);
	return (-1);
    }
    /* "220 Ready to start TLS" is out: the handshake begins */
    if (state->tls && LEN(state->out) == 0
	&& smtpd_tls_phase(state) == SMTPD_TLS_STARTING)
	return (smtpd_handshake_step(state));
    smtpd_update_events(state);
    return (0);
}

/* smtpd_line_limit - the longest line for the current mode */
static size_t smtpd_line_limit(const SMTPD_STATE *state)
{
    if (state->mode == SMTPD_MODE_AUTH
	&& var_sasl_response_limit > var_line_length_limit)
	return ((size_t) var_sasl_response_limit);
    return ((size_t) var_line_length_limit);
}

/* smtpd_line_too_long - reply to an over-long command line */
static void smtpd_line_too_long(SMTPD_STATE *state)
{
    if (state->mode == SMTPD_MODE_AUTH) {
	smtpd_sasl_too_long(state);
	return;
    }
    msg_info("line too long after %s from %s", state->where, state->namaddr);
    smtpd_reply(state, "500 5.5.2 Error: line too long");
    smtpd_error(state);
}

/* smtpd_bare_lf - reply to a bare LF under the reject policy, and end */
static void smtpd_bare_lf(SMTPD_STATE *state)
{
    msg_info("disconnect: bare <LF> received after %s from %s",
	     state->where, state->namaddr);
    smtpd_reply(state, "521 5.5.2 %s Error: bare <LF> received", var_myhostname);
    if (state->mode == SMTPD_MODE_DATA)
	smtpd_data_abort(state);
    state->mode = SMTPD_MODE_CLOSE;
}

/* smtpd_command_input - handle one command line; returns bytes used, 0: want more */
static size_t smtpd_command_input(SMTPD_STATE *state, char *buf, size_t len)
{
    char   *nl = memchr(buf, '\n', len);
    size_t  n;

    if (state->skip_line) {
	if (nl == 0)
	    return (len);
	state->skip_line = 0;
	return (nl - buf + 1);
    }
    if (nl == 0) {
	if (len <= smtpd_line_limit(state))
	    return (0);
	smtpd_line_too_long(state);
	state->skip_line = 1;
	return (len);
    }
    n = nl - buf;
    state->line_crlf = (n > 0 && buf[n - 1] == '\r');
    if (state->line_crlf)
	n--;
    else if (state->bare_lf == BARE_LF_REJECT) {
	smtpd_bare_lf(state);
	return (nl - buf + 1);
    }
    if (n > smtpd_line_limit(state)) {
	smtpd_line_too_long(state);
	return (nl - buf + 1);
    }
    if (memchr(buf, 0, n) != 0) {		/* NUL: would cut the command short */
	state->where = "UNKNOWN";
	smtpd_reply(state, "500 5.5.2 Error: bad syntax");
	smtpd_error(state);
	return (nl - buf + 1);
    }
    buf[n] = 0;					/* the CR or LF: we own the buffer */
    smtpd_command(state, buf);
    return (nl - buf + 1);
}

/* smtpd_process - handle all complete input, then flush; -1 if closed */
static int smtpd_process(SMTPD_STATE *state)
{
    size_t  pos = 0;
    size_t  used;

    while (state->mode != SMTPD_MODE_CLOSE && pos < LEN(state->in)
	   && LEN(state->out) < SMTPD_OUT_HIGH
	   && !(state->delay_due && var_error_sleep_ms > 0)	/* reply by reply */
	   && !state->waiting
	   && (state->tls == 0 || smtpd_tls_phase(state) == SMTPD_TLS_ON)) {
	if (state->mode == SMTPD_MODE_DATA) {
	    used = smtpd_data_input(state, STR(state->in) + pos, LEN(state->in) - pos);
	    pos += used;
	    if (state->mode == SMTPD_MODE_DATA)
		break;				/* need more content */
	} else if (state->mode == SMTPD_MODE_BDAT) {
	    pos += smtpd_bdat_input(state, STR(state->in) + pos, LEN(state->in) - pos);
	    if (state->mode == SMTPD_MODE_BDAT)
		break;				/* need more of the chunk */
	} else {
	    if ((used = smtpd_command_input(state, STR(state->in) + pos,
					    LEN(state->in) - pos)) == 0)
		break;
	    pos += used;
	}
    }
    /* CVE-2011-0411: plaintext sent after STARTTLS must not become commands */
    if (state->tls && smtpd_tls_phase(state) == SMTPD_TLS_STARTING) {
	pos = LEN(state->in);
	state->skip_line = 0;
    }
    vstring_drop_head(state->in, pos);
    smtpd_shrink_input(state);
    return (smtpd_flush(state));
}

/* smtpd_may_read - the session wants more input now */
static int smtpd_may_read(SMTPD_STATE *state)
{
    return (state->mode != SMTPD_MODE_CLOSE && LEN(state->out) < SMTPD_OUT_HIGH);
}

/* smtpd_read_room - at least SMTPD_READ_MIN free bytes; returns the free bytes */
static size_t smtpd_read_room(SMTPD_STATE *state)
{
    vstring_reserve(state->in, SMTPD_READ_MIN - 1);
    return (state->in->size - LEN(state->in) - 1);
}

/*
 * smtpd_read_done - N bytes of ROOM came in.  A read that filled the
 * room doubles the buffer (a client sending a message), up to
 * SMTPD_READ_SIZE; smtpd_shrink_input() gives it back later.
 */
static void smtpd_read_done(SMTPD_STATE *state, size_t room, ssize_t n)
{
    state->in->len += n;
    state->in->data[state->in->len] = 0;
    if ((size_t) n == room && state->in->size < SMTPD_READ_SIZE)
	vstring_reserve(state->in, state->in->size);
}

/* smtpd_receive - read and handle input, with TLS also what OpenSSL holds; -1 if closed */
static int smtpd_receive(SMTPD_STATE *state)
{
    ssize_t n;
    size_t  room;

    do {
	room = smtpd_read_room(state);
	if (state->tls)
	    n = smtpd_tls_read(state, STR(state->in) + LEN(state->in), room);
	else
	    n = read(state->fd, STR(state->in) + LEN(state->in), room);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
	    if (state->tls)
		smtpd_update_events(state);
	    return (0);
	}
	if (n <= 0) {
	    smtpd_close(state, 1);
	    return (-1);
	}
	smtpd_read_done(state, room, n);
	state->deadline = event_time() + var_smtpd_timeout;
	if (smtpd_process(state) < 0)
	    return (-1);
    } while (state->tls && smtpd_tls_pending(state) > 0 && smtpd_may_read(state));
    return (0);
}

/* smtpd_tls_event - any socket event of a TLS session: retry what waits */
static void smtpd_tls_event(SMTPD_STATE *state)
{
    int     was_backlogged = LEN(state->out) >= SMTPD_OUT_HIGH;

    switch (smtpd_tls_phase(state)) {
    case SMTPD_TLS_HANDSHAKE:
	(void) smtpd_handshake_step(state);
	return;
    case SMTPD_TLS_STARTING:
	(void) smtpd_flush(state);
	return;
    }
    if (LEN(state->out) > 0 && smtpd_flush(state) < 0)
	return;
    if (was_backlogged && LEN(state->out) < SMTPD_OUT_HIGH && LEN(state->in) > 0
	&& smtpd_process(state) < 0)
	return;
    if (smtpd_may_read(state))
	(void) smtpd_receive(state);
}

static void smtpd_read_event(int event, void *context)
{
    SMTPD_STATE *state = context;

    if (state->tls)
	smtpd_tls_event(state);
    else
	(void) smtpd_receive(state);
}

static void smtpd_write_event(int event, void *context)
{
    SMTPD_STATE *state = context;
    int     was_backlogged = LEN(state->out) >= SMTPD_OUT_HIGH;

    if (state->tls) {
	smtpd_tls_event(state);
	return;
    }
    if (smtpd_flush(state) < 0)
	return;
    /* Output drained below the mark: handle input we held back. */
    if (was_backlogged && LEN(state->out) < SMTPD_OUT_HIGH && LEN(state->in) > 0)
	smtpd_process(state);
}

/* smtpd_delay_event - the error sleep is over: send, go on with input */
static void smtpd_delay_event(int event, void *context)
{
    SMTPD_STATE *state = context;

    state->delaying = 0;
    smtpd_resume(state);
}

void    smtpd_resume(SMTPD_STATE *state)
{
    if (smtpd_flush(state) < 0)
	return;
    if (LEN(state->in) > 0 && smtpd_process(state) < 0)
	return;
    if (state->tls && smtpd_may_read(state) && smtpd_tls_pending(state) > 0)
	(void) smtpd_receive(state);
}

static void smtpd_timeout_event(int event, void *context)
{
    SMTPD_STATE *state = context;
    time_t  now = event_time();

    if (now < state->deadline) {
	event_request_timer(smtpd_timeout_event, state,
			    (int) (state->deadline - now) * 1000);
	return;
    }
    msg_info("timeout after %s from %s", state->where, state->namaddr);
    smtpd_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
    (void) smtpd_send(state);
    smtpd_close(state, 0);
}

/* smtpd_peer_uid - the uid of a UNIX-domain client, -1 if unknown */
static long smtpd_peer_uid(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
	msg_warn("getsockopt SO_PEERCRED: %m");
	return (-1);
    }
    return ((long) cred.uid);
}

/* smtpd_bare_lf_for - the bare newline policy for this client */
static int smtpd_bare_lf_for(const SMTPD_STATE *state)
{
    /*
     * Posthorn's default exclusion list is empty (Postfix's is $mynetworks):
     * every client gets the strict end-of-data rule unless the admin says.
     */
    if (*conf_str("smtpd_forbid_bare_newline_exclusions")
     && smtpd_mynetworks_match(conf_str("smtpd_forbid_bare_newline_exclusions"),
			       state->addr))
	return (BARE_LF_NO);
    return (var_bare_lf_policy);
}

static void smtpd_accept(int fd, const char *service, char **argv)
{
    SMTPD_STATE *state = mycalloc(1, sizeof(*state));
    VSTRING *buf = vstring_alloc(100);

    state->fd = fd;
    state->in = vstring_alloc(SMTPD_READ_MIN);
    state->out = vstring_alloc(SMTPD_OUT_MIN);
    state->protocol = "SMTP";
    state->where = "CONNECT";
    state->uid = -1;
    non_blocking(fd, NON_BLOCKING);
    peer_address(fd, state->addr, sizeof(state->addr), state->port, sizeof(state->port));
    if (mail_server_is_unix()) {
	state->submit = 1;
	state->uid = smtpd_peer_uid(fd);
    }
    snprintf(state->name, sizeof(state->name), "unknown");
    vstring_sprintf(buf, "%s[%s]", state->name, state->addr);
    state->namaddr = vstring_export(buf);
    state->mynetworks = smtpd_mynetworks_match(conf_str("mynetworks"), state->addr);
    state->bare_lf = smtpd_bare_lf_for(state);
    state->deadline = event_time() + var_smtpd_timeout;
    event_request_timer(smtpd_timeout_event, state, var_smtpd_timeout * 1000);
    state->anvil_exempt = -1;
    state->session_id = ++smtpd_session_count;
    smtpd_peer_lookup(state, smtpd_connected);
}

/* smtpd_connected - the client name is known: log, ask anvil, start */
static void smtpd_connected(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s[%s]", state->name, state->addr);
    myfree(state->namaddr);
    state->namaddr = vstring_export(buf);
    msg_info("connect from %s", state->namaddr);
    if (!smtpd_anvil_connect(state, smtpd_start))
	smtpd_start(state);
}

/* smtpd_start - TLS first (smtps), or the greeting */
static void smtpd_start(SMTPD_STATE *state)
{
    switch (smtpd_tls_wrapper(state)) {
    case 1:					/* smtps: TLS before the greeting */
	(void) smtpd_handshake_step(state);
	break;
    case 0:
	(void) smtpd_greet(state);
	break;
    default:
	smtpd_close(state, 0);
	break;
    }
}

/* smtpd_greet_wakeup - the connect restrictions have their DNS answers */
static void smtpd_greet_wakeup(SMTPD_STATE *state)
{
    (void) smtpd_greet(state);
}

/*
 * smtpd_greet_filtered - the filters have seen the connection: as
 * Postfix, a 5xx refusal answers every later command and greets with
 * 554, a 421 ends the session
 */
static int smtpd_greet_filtered(SMTPD_STATE *state, const char *reply)
{
    if (reply && *reply == '5') {
	smtpd_reply(state, "554 %s ESMTP not accepting connections", var_myhostname);
	smtpd_error(state);
    } else if (reply && strncmp(reply, "421", 3) == 0) {
	smtpd_reply(state, "421 %s Service unavailable - try again later",
		    var_myhostname);
	state->mode = SMTPD_MODE_CLOSE;
    } else {
	smtpd_reply(state, "220 %s", conf_str("smtpd_banner"));
    }
    return (0);
}

/* smtpd_greet - the connect restrictions, the filters, the 220 greeting */
static int smtpd_greet(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);
    int     ret;

    if ((ret = smtpd_restrict_connect(state, buf)) == SMTPD_WAIT) {
	vstring_free(buf);
	smtpd_lookup_wait(state, smtpd_greet_wakeup);
	return (0);
    }
    if (ret < 0) {
	/* As Postfix with smtpd_delay_reject = no: the reject replaces the greeting */
	smtpd_reject_log(state, "CONNECT", STR(buf), 0);
	smtpd_reply_raw(state, STR(buf));
	smtpd_error(state);
    } else {
	smtpd_milter_session(state);
	if (state->milter) {			/* the filters greet (or not) */
	    vstring_free(buf);
	    smtpd_milter_connect(state, smtpd_greet_filtered);
	    return (0);
	}
	smtpd_reply(state, "220 %s", conf_str("smtpd_banner"));
    }
    vstring_free(buf);
    return (smtpd_flush(state));
}

/* smtpd_handshake_step - go on with the TLS handshake; -1 if closed */
static int smtpd_handshake_step(SMTPD_STATE *state)
{
    switch (smtpd_tls_handshake(state)) {
    case 0:
	smtpd_update_events(state);
	return (0);
    case 1:					/* after STARTTLS: wait for EHLO */
	if (smtpd_flush(state) < 0)
	    return (-1);
	if (smtpd_tls_pending(state) > 0)
	    return (smtpd_receive(state));
	return (0);
    case 2:					/* smtps */
	return (smtpd_greet(state));
    default:
	smtpd_close(state, 1);
	return (-1);
    }
}

/*
 * smtpd_reject_summary - the refusals of the last second that were not
 * logged one by one
 */
static int smtpd_reject_logged;		/* lines in this second */
static int smtpd_reject_quiet;		/* refusals not logged */

static void smtpd_reject_summary(int event, void *context)
{
    if (smtpd_reject_quiet > 0)
	msg_warn("%d more connections refused with \"421 4.3.2 All server "
		 "ports are busy\" -- process_client_limit (%d) reached",
		 smtpd_reject_quiet, smtpd_ops.hard_limit);
    smtpd_reject_quiet = 0;
    smtpd_reject_logged = 0;
}

/* smtpd_refusal_log - each refusal as Postfix logs a CONNECT reject */
static void smtpd_refusal_log(int fd, const char *reply)
{
    char    addr[64];
    char    port[16];

    if (smtpd_reject_logged == 0 && smtpd_reject_quiet == 0)
	event_request_timer(smtpd_reject_summary, 0, 1000);
    if (smtpd_reject_logged >= SMTPD_REJECT_LOG_MAX) {
	smtpd_reject_quiet++;
	return;
    }
    smtpd_reject_logged++;
    peer_address(fd, addr, sizeof(addr), port, sizeof(port));
    msg_info("NOQUEUE: reject: CONNECT from unknown[%s]: %s; proto=SMTP",
	     addr, reply);
}

/* smtpd_reject - over the hard limit: tell the client at once, best effort */
static void smtpd_reject(int fd)
{
    static const char text[] = "421 4.3.2 All server ports are busy\r\n";

    smtpd_refusal_log(fd, "421 4.3.2 All server ports are busy");
    non_blocking(fd, NON_BLOCKING);
    if (send(fd, text, sizeof(text) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0
	&& errno == ENOTSOCK)
	(void) !write(fd, text, sizeof(text) - 1);
}

/* smtpd_override_options - receive_override_options as SMTPD_NO_* bits */
static int smtpd_override_options(const char *text)
{
    static const struct {
	const char *name;
	int     flag;
    } names[] = {
	{"no_unknown_recipient_checks", SMTPD_NO_UNKNOWN_RCPT},
	{"no_address_mappings", SMTPD_NO_ADDR_MAPPINGS},
	{"no_header_body_checks", SMTPD_NO_HBC},
	{"no_milters", SMTPD_NO_MILTERS},
	{0, 0},
    };
    char   *list = mystrdup(text);
    char   *cp = list;
    char   *word;
    int     flags = 0;
    int     i;

    while ((word = strsep(&cp, ", \t\r\n")) != 0) {
	if (*word == 0)
	    continue;
	for (i = 0; names[i].name && strcasecmp(names[i].name, word); i++)
	     /* void */ ;
	if (names[i].name)
	    flags |= names[i].flag;
	else
	    msg_warn("receive_override_options: unknown option \"%s\" (ignored)", word);
    }
    myfree(list);
    return (flags);
}

static void smtpd_pre_init(const char *service, char **argv)
{
    const char *policy = conf_str("smtpd_forbid_bare_newline");

    if ((var_bare_lf_policy = bare_lf_policy(policy)) < 0) {
	msg_warn("invalid smtpd_forbid_bare_newline value \"%s\"; using \"normalize\"",
		 policy);
	var_bare_lf_policy = BARE_LF_NORMALIZE;
    }
    var_myhostname = conf_str("myhostname");
    var_myorigin = conf_str("myorigin");
    var_message_size_limit = conf_long("message_size_limit");
    var_line_length_limit = conf_int("line_length_limit");
    var_sasl_response_limit = conf_int("smtpd_sasl_response_limit");
    var_hard_error_limit = conf_int("smtpd_hard_error_limit");
    var_soft_error_limit = conf_int("smtpd_soft_error_limit");
    var_junk_command_limit = conf_int("smtpd_junk_command_limit");
    var_error_sleep_ms = conf_time("smtpd_error_sleep_time") * 1000;
    var_recipient_limit = conf_int("smtpd_recipient_limit");
    var_receive_override = smtpd_override_options(conf_str("receive_override_options"));
    var_smtpd_timeout = conf_time("smtpd_timeout");
    smtpd_ops.soft_limit = conf_int("process_client_soft_limit");
    smtpd_ops.hard_limit = conf_int("process_client_limit");
    smtpd_check_init();
    smtpd_restrict_init();
    smtpd_hbc_init();
    smtpd_tls_pre_init();
    smtpd_sasl_pre_init();
    smtpd_milter_init();
}

static void smtpd_post_init(const char *service, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
}

/* smtpd_busy - work in flight that is not a session: commits, spare files */
static int smtpd_busy(void)
{
    return (smtpd_queue_busy() + smtpd_spare_busy());
}

int	main(int argc, char **argv)
{
    smtpd_ops.pre_init = smtpd_pre_init;
    smtpd_ops.post_init = smtpd_post_init;
    smtpd_ops.reject_fn = smtpd_reject;
    smtpd_ops.changed = dict_changed_name;
    smtpd_ops.busy = smtpd_busy;		/* a drain waits for commits */
    smtpd_ops.pre_exit = smtpd_spare_drop;
    smtpd_ops.sigterm = smtpd_spare_sigterm;
    event_server_main(argc, argv, smtpd_accept, &smtpd_ops);
}
