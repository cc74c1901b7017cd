/*
 * smtpd_tls.c - STARTTLS (RFC 3207) and TLS-wrapped (smtps) sessions.
 *
 * smtpd_tls_pre_init() builds the one server context as root (the key
 * file may be readable by root only).  When it cannot be built the
 * problem is logged and STARTTLS is not offered; with security level
 * encrypt every MAIL then gets "454 4.7.0 TLS not available due to local
 * problem", as in Postfix.
 *
 * STARTTLS replies "220 2.0.0 Ready to start TLS" and moves the session to
 * SMTPD_TLS_STARTING: smtpd.c throws away any input that came after the
 * command (CVE-2011-0411: plaintext commands must not be executed inside
 * the TLS session), sends the reply in plaintext, and then drives the
 * handshake through smtpd_tls_handshake() within smtpd_timeout.  As RFC
 * 3207 says, the session forgets HELO/EHLO, the mail transaction and any
 * SASL state; the client must say EHLO again.  With smtpd_tls_wrappermode
 * the handshake runs at connect, before the 220 greeting.
 *
 * With level encrypt, smtpd_command() asks smtpd_tls_required() before
 * every command but HELO, EHLO, STARTTLS, NOOP and QUIT (Postfix's
 * "pre-TLS" commands): "530 5.7.0 Must issue a STARTTLS command first".
 *
 * After the handshake smtpd.c does all socket I/O through smtpd_tls_read()
 * and smtpd_tls_write(); smtpd_tls_events() turns what OpenSSL waits for
 * into read/write interest.
 *
 * Parameters: smtpd_tls_security_level (smtpd_use_tls, smtpd_enforce_tls),
 * smtpd_tls_cert_file, smtpd_tls_key_file, smtpd_tls_chain_files,
 * smtpd_tls_protocols, smtpd_tls_ciphers, smtpd_tls_exclude_ciphers and
 * their smtpd_tls_mandatory_* forms (level encrypt), smtpd_tls_wrappermode,
 * smtpd_tls_loglevel, smtpd_tls_received_header.  Posthorn's defaults for
 * the last two are 1 and yes (Postfix: 0 and no), so that the TLS version
 * and cipher appear in the log and in the Received: header.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "mail_conf.h"
#include "tls.h"
#include "smtpd.h"

/* smtpd_tls_security_level values */
#define TLS_LEV_NONE	0
#define TLS_LEV_MAY	1
#define TLS_LEV_ENCRYPT	2

typedef struct SMTPD_TLS {
    TLS_SESS *sess;
    unsigned char phase;		/* SMTPD_TLS_* */
    unsigned char want_r;		/* the last read waits for: EVENT_* */
    unsigned char want_w;		/* the last write waits for: EVENT_* */
    unsigned char wrapper;		/* started at connect (smtps) */
} SMTPD_TLS;

static TLS_CTX *smtpd_tls_ctx;
static int smtpd_tls_level;
static int smtpd_tls_wrapmode;
static int smtpd_tls_loglevel;
static int smtpd_tls_rcvd_header;

/* smtpd_tls_get_level - the security level from the new or legacy names */
static int smtpd_tls_get_level(void)
{
    const char *level = conf_str("smtpd_tls_security_level");

    if (*level == 0)
	return (conf_bool("smtpd_enforce_tls") ? TLS_LEV_ENCRYPT :
		conf_bool("smtpd_use_tls") ? TLS_LEV_MAY : TLS_LEV_NONE);
    if (strcasecmp(level, "none") == 0)
	return (TLS_LEV_NONE);
    if (strcasecmp(level, "may") == 0)
	return (TLS_LEV_MAY);
    if (strcasecmp(level, "encrypt") == 0)
	return (TLS_LEV_ENCRYPT);
    msg_warn("invalid smtpd_tls_security_level value \"%s\": using \"none\"", level);
    return (TLS_LEV_NONE);
}

void	smtpd_tls_pre_init(void)
{
    TLS_SERVER_PARAMS params;
    VSTRING *exclude;
    int     mandatory;

    smtpd_tls_level = smtpd_tls_get_level();
    smtpd_tls_wrapmode = conf_bool("smtpd_tls_wrappermode");
    if (smtpd_tls_wrapmode)
	smtpd_tls_level = TLS_LEV_ENCRYPT;	/* no TLS, no session */
    smtpd_tls_loglevel = conf_int("smtpd_tls_loglevel");
    smtpd_tls_rcvd_header = conf_bool("smtpd_tls_received_header");
    if (smtpd_tls_level == TLS_LEV_NONE)
	return;
    mandatory = (smtpd_tls_level == TLS_LEV_ENCRYPT);
    exclude = vstring_alloc(100);
    vstring_strcpy(exclude, conf_str("smtpd_tls_exclude_ciphers"));
    if (mandatory)
	vstring_sprintf_append(exclude, " %s", conf_str("smtpd_tls_mandatory_exclude_ciphers"));
    params.cert_file = conf_str("smtpd_tls_cert_file");
    params.key_file = conf_str("smtpd_tls_key_file");
    params.chain_files = conf_str("smtpd_tls_chain_files");
    params.protocols = conf_str(mandatory ? "smtpd_tls_mandatory_protocols"
				: "smtpd_tls_protocols");
    params.cipher_grade = conf_str(mandatory ? "smtpd_tls_mandatory_ciphers"
				   : "smtpd_tls_ciphers");
    params.exclude_ciphers = STR(exclude);
    smtpd_tls_ctx = tls_server_ctx(&params);
    vstring_free(exclude);
}

/* smtpd_tls_offered - STARTTLS is possible in this session now */
static int smtpd_tls_offered(SMTPD_STATE *state)
{
    return (smtpd_tls_level != TLS_LEV_NONE && smtpd_tls_ctx != 0
	    && state->tls == 0 && !state->submit);
}

void	smtpd_tls_ehlo(SMTPD_STATE *state)
{
    if (smtpd_tls_offered(state))
	smtpd_reply(state, "250-STARTTLS");
}

/* smtpd_tls_start - a session object in PHASE; -1 (logged) on failure */
static int smtpd_tls_start(SMTPD_STATE *state, int phase)
{
    TLS_SESS *sess = tls_session_server(smtpd_tls_ctx, state->fd);

    if (sess == 0) {
	msg_warn("cannot start TLS session with %s", state->namaddr);
	return (-1);
    }
    state->tls = mycalloc(1, sizeof(*state->tls));
    state->tls->sess = sess;
    state->tls->phase = phase;
    return (0);
}

/* smtpd_tls_reset_session - RFC 3207 4.2: forget what the client said */
static void smtpd_tls_reset_session(SMTPD_STATE *state)
{
    smtpd_reset_transaction(state);
    if (state->helo)
	myfree(state->helo);
    state->helo = 0;
    state->protocol = "SMTP";
    smtpd_sasl_free(state);
    if (state->sasl_method)
	myfree(state->sasl_method);
    if (state->sasl_username)
	myfree(state->sasl_username);
    state->sasl_method = state->sasl_username = 0;
}

int	smtpd_tls_cmd(SMTPD_STATE *state, char *args)
{
    if (*args) {
	smtpd_reply(state, "501 5.5.4 Syntax: STARTTLS");
	return (-1);
    }
    if (state->tls) {
	smtpd_reply(state, "554 5.5.1 Error: TLS already active");
	return (-1);
    }
    if (smtpd_tls_level == TLS_LEV_NONE || state->submit
	|| (smtpd_tls_ctx == 0 && smtpd_tls_level == TLS_LEV_MAY)) {
	smtpd_reply(state, "502 5.5.1 Error: command not implemented");
	return (-1);
    }
    if (smtpd_tls_ctx == 0 || smtpd_tls_start(state, SMTPD_TLS_STARTING) < 0) {
	smtpd_reply(state, "454 4.7.0 TLS not available due to local problem");
	return (-1);
    }
    smtpd_reply(state, "220 2.0.0 Ready to start TLS");
    smtpd_tls_reset_session(state);
    return (0);
}

int	smtpd_tls_wrapper(SMTPD_STATE *state)
{
    if (!smtpd_tls_wrapmode || state->submit)
	return (0);
    if (smtpd_tls_ctx == 0) {
	msg_warn("TLS not available due to local problem: disconnecting %s"
		 " (smtpd_tls_wrappermode = yes)", state->namaddr);
	return (-1);
    }
    if (smtpd_tls_start(state, SMTPD_TLS_HANDSHAKE) < 0)
	return (-1);
    state->tls->wrapper = 1;
    return (1);
}

int	smtpd_tls_phase(SMTPD_STATE *state)
{
    return (state->tls ? state->tls->phase : SMTPD_TLS_OFF);
}

/* smtpd_tls_log_session - Postfix's "... TLS connection established ..." */
static void smtpd_tls_log_session(SMTPD_STATE *state)
{
    VSTRING *summary = vstring_alloc(100);
    VSTRING *kex = vstring_alloc(100);

    msg_info("Anonymous TLS connection established from %s: %s%s", state->namaddr,
	     tls_summary(state->tls->sess, summary),
	     tls_kex_summary(state->tls->sess, kex));
    vstring_free(summary);
    vstring_free(kex);
}

int	smtpd_tls_handshake(SMTPD_STATE *state)
{
    SMTPD_TLS *tls = state->tls;
    VSTRING *why;
    int     ret;

    tls->phase = SMTPD_TLS_HANDSHAKE;		/* the 220 reply is out */
    switch (ret = tls_handshake(tls->sess)) {
    case TLS_WANT_READ:
	tls->want_r = EVENT_READ;
	return (0);
    case TLS_WANT_WRITE:
	tls->want_r = EVENT_WRITE;
	return (0);
    case 1:
	tls->want_r = 0;
	tls->phase = SMTPD_TLS_ON;
	if (smtpd_tls_loglevel >= 1)
	    smtpd_tls_log_session(state);
	return (tls->wrapper ? 2 : 1);
    default:
	why = vstring_alloc(100);
	msg_info("SSL_accept error from %s: %s", state->namaddr,
		 tls_error_text(tls->sess, why));
	vstring_free(why);
	return (-1);
    }
}

/* smtpd_tls_io_result - our I/O result from a tls_read/tls_write result */
static ssize_t smtpd_tls_io_result(ssize_t ret, unsigned char *want)
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

ssize_t	smtpd_tls_read(SMTPD_STATE *state, char *buf, size_t len)
{
    return (smtpd_tls_io_result(tls_read(state->tls->sess, buf, len),
				&state->tls->want_r));
}

ssize_t	smtpd_tls_write(SMTPD_STATE *state, const char *buf, size_t len)
{
    return (smtpd_tls_io_result(tls_write(state->tls->sess, buf, len),
				&state->tls->want_w));
}

size_t	smtpd_tls_pending(SMTPD_STATE *state)
{
    return (state->tls && state->tls->phase == SMTPD_TLS_ON ?
	    tls_pending(state->tls->sess) : 0);
}

void	smtpd_tls_events(SMTPD_STATE *state, int *want_read, int *want_write)
{
    SMTPD_TLS *tls = state->tls;

    switch (tls->phase) {
    case SMTPD_TLS_STARTING:			/* only the 220 reply, in plaintext */
	*want_read = 0;
	break;
    case SMTPD_TLS_HANDSHAKE:
	*want_read = (tls->want_r == EVENT_READ);
	*want_write = (tls->want_r == EVENT_WRITE);
	break;
    default:
	*want_read = (*want_read && tls->want_r != EVENT_WRITE)
	    || tls->want_w == EVENT_READ;
	*want_write = (*want_write && tls->want_w != EVENT_READ)
	    || tls->want_r == EVENT_WRITE;
	break;
    }
}

int	smtpd_tls_required(SMTPD_STATE *state)
{
    if (smtpd_tls_level != TLS_LEV_ENCRYPT || state->tls != 0 || state->submit)
	return (0);
    if (smtpd_tls_ctx == 0)
	smtpd_reply(state, "454 4.7.0 TLS not available due to local problem");
    else
	smtpd_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
    return (1);
}

void	smtpd_tls_free(SMTPD_STATE *state)
{
    if (state->tls == 0)
	return;
    tls_session_free(state->tls->sess);
    myfree(state->tls);
    state->tls = 0;
}

int	smtpd_tls_params(SMTPD_STATE *state, const char **protocol,
			         const char **cipher, int *bits)
{
    if (state->tls == 0 || state->tls->phase != SMTPD_TLS_ON)
	return (0);
    tls_params(state->tls->sess, protocol, cipher, bits);
    return (1);
}

const char *smtpd_tls_info(SMTPD_STATE *state, VSTRING *buf)
{
    if (state->tls == 0 || state->tls->phase != SMTPD_TLS_ON || !smtpd_tls_rcvd_header)
	return (0);
    return (tls_summary(state->tls->sess, buf));
}
