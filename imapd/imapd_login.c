/*
 * imapd_login.c - IMAP before login (RFC 3501 "not authenticated" state),
 * as the protocol module of lib/login/login_server.h.
 *
 * Commands: CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), STARTTLS, LOGIN and
 * AUTHENTICATE (PLAIN, LOGIN; RFC 4959 SASL-IR initial responses).
 * Command lines, quoted strings and literals ({N} with "+ OK", {N+}) go
 * through lib/imap/imap_parser.h; an AUTHENTICATE continuation line is
 * read as it is.  Every other command gets "BAD" and the session goes on.
 * Passwords in clear text are refused without TLS unless the client is on
 * loopback or imapd_tls_auth_only = no (then CAPABILITY says
 * LOGINDISABLED, as RFC 3501 asks); with imapd_tls_security_level =
 * encrypt they always need TLS.  A failed login answers "NO
 * [AUTHENTICATIONFAILED]" after the failure delay; the session (the
 * auth service started it) sends the tagged OK of a successful one.
 *
 * Parameters: those of login_server.h with the prefix imapd.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "login_server.h"
#include "imap_parser.h"
#include "imapd.h"

/* AUTHENTICATE states */
#define AUTH_NONE	0
#define AUTH_PLAIN	1
#define AUTH_LOGIN_USER	2
#define AUTH_LOGIN_PASS	3

typedef struct IMAP_LOGIN {
    IMAP_PARSER *parser;
    int     auth;			/* AUTH_* */
    char   *auth_tag;
    char   *auth_user;
} IMAP_LOGIN;

static IMAP_LOGIN *imap_login(LOGIN_CLIENT *client)
{
    void  **ctx = login_context(client);
    IMAP_PARSER_LIMITS limits;

    if (*ctx == 0) {
	IMAP_LOGIN *il = (IMAP_LOGIN *) mycalloc(1, sizeof(IMAP_LOGIN));

	memset(&limits, 0, sizeof(limits));
	limits.line_max = IMAPD_LINE_MAX;
	limits.literal_max = 8192;		/* a name or a password */
	limits.args_max = 100;
	limits.depth_max = 3;
	il->parser = imap_parser_create(&limits);
	*ctx = il;
    }
    return ((IMAP_LOGIN *) * ctx);
}

static void imap_set(char **field, const char *value)
{
    if (*field)
	myfree(*field);
    *field = value ? mystrdup(value) : 0;
}

/* imap_login_capability - what we offer now */

static void imap_login_capability(LOGIN_CLIENT *client, VSTRING *out)
{
    vstring_strcpy(out, IMAPD_CAPA_BASE);
    if (login_tls_offered(client))
	vstring_strcat(out, " STARTTLS");
    if (login_plaintext_ok(client) && !login_tls_required(client))
	vstring_strcat(out, " AUTH=PLAIN AUTH=LOGIN");
    else
	vstring_strcat(out, " LOGINDISABLED");
}

static void imap_login_greet(LOGIN_CLIENT *client)
{
    VSTRING *capa = vstring_alloc(100);

    imap_login_capability(client, capa);
    login_reply(client, "* OK [CAPABILITY %s] %s ready.", STR(capa),
		conf_str("mail_name"));
    vstring_free(capa);
}

/* imap_login_refused - no cleartext password now; 1 when refused (replied) */

static int imap_login_refused(LOGIN_CLIENT *client, const char *tag)
{
    if (login_plaintext_ok(client) && !login_tls_required(client))
	return (0);
    login_reply(client, "%s NO [PRIVACYREQUIRED] Plaintext authentication "
		"disallowed on non-secure (SSL/TLS) connections.", tag);
    return (1);
}

/* imap_login_done - the auth service's answer to a failed login */

static void imap_login_done(LOGIN_CLIENT *client, int status, const char *reason)
{
    IMAP_LOGIN *il = imap_login(client);
    const char *tag = il->auth_tag ? il->auth_tag : "*";

    if (status == LOGIN_FAIL)
	login_reply(client, "%s NO [AUTHENTICATIONFAILED] Authentication failed.", tag);
    else
	login_reply(client, "%s NO [UNAVAILABLE] Temporary authentication "
		    "failure: %s", tag, reason);
    imap_set(&il->auth_tag, 0);
}

/* imap_login_try - hand the credentials to the auth service */

static void imap_login_try(LOGIN_CLIENT *client, const char *tag, const char *mech,
			           const char *authzid, const char *user,
			           const char *pass)
{
    IMAP_LOGIN *il = imap_login(client);
    LOGIN_CREDS creds;

    imap_set(&il->auth_tag, tag);
    memset(&creds, 0, sizeof(creds));
    creds.mech = mech;
    creds.authzid = authzid;
    creds.user = user;
    creds.password = pass;
    creds.tag = tag;
    login_auth(client, &creds, imap_login_done);
}

/* imap_login_plain - a PLAIN response (base64 of authzid NUL user NUL pass) */

static void imap_login_plain(LOGIN_CLIENT *client, const char *tag, const char *b64)
{
    VSTRING *buf = vstring_alloc(100);
    const char *authzid, *authcid, *pass;

    switch (login_sasl_plain(b64, buf, &authzid, &authcid, &pass)) {
    case LOGIN_SASL_BASE64:
	login_reply(client, "%s BAD Invalid base64 data in the response.", tag);
	break;
    case LOGIN_SASL_INVALID:
	login_reply(client, "%s NO [AUTHENTICATIONFAILED] Invalid PLAIN response.", tag);
	break;
    default:
	imap_login_try(client, tag, "PLAIN", authzid, authcid, pass);
	break;
    }
    vstring_free(buf);
}

/* imap_login_auth_line - one continuation line of AUTHENTICATE */

static void imap_login_auth_line(LOGIN_CLIENT *client, const char *line)
{
    IMAP_LOGIN *il = imap_login(client);
    char   *tag = il->auth_tag ? mystrdup(il->auth_tag) : mystrdup("*");
    int     state = il->auth;
    VSTRING *buf;

    il->auth = AUTH_NONE;
    if (strcmp(line, "*") == 0) {
	login_reply(client, "%s BAD Authentication aborted by client.", tag);
    } else if (state == AUTH_PLAIN) {
	imap_login_plain(client, tag, line);
    } else {
	buf = vstring_alloc(100);
	if (login_sasl_text(line, buf) < 0) {
	    login_reply(client, "%s BAD Invalid base64 data in the response.", tag);
	} else if (state == AUTH_LOGIN_USER) {
	    imap_set(&il->auth_user, STR(buf));
	    il->auth = AUTH_LOGIN_PASS;
	    login_reply(client, "+ UGFzc3dvcmQ6");	/* "Password:" */
	} else {
	    imap_login_try(client, tag, "LOGIN", "", il->auth_user, STR(buf));
	}
	vstring_free(buf);
    }
    myfree(tag);
}

/* imap_login_authenticate - AUTHENTICATE mechanism [initial-response] */

static void imap_login_authenticate(LOGIN_CLIENT *client, const char *tag,
				            const IMAP_ARG *args, int count)
{
    IMAP_LOGIN *il = imap_login(client);
    const char *mech = count > 0 ? imap_arg_astring(args) : 0;
    const char *init = count > 1 ? imap_arg_astring(args + 1) : 0;

    if (mech == 0 || count > 2 || (count > 1 && init == 0)) {
	login_reply(client, "%s BAD Syntax: AUTHENTICATE mechanism [initial-response]", tag);
	return;
    }
    if (imap_login_refused(client, tag))
	return;
    imap_set(&il->auth_tag, tag);
    if (strcasecmp(mech, "PLAIN") == 0) {
	if (init && strcmp(init, "=") != 0) {
	    imap_login_plain(client, tag, init);
	} else if (init) {
	    login_reply(client, "%s NO [AUTHENTICATIONFAILED] Invalid PLAIN response.", tag);
	} else {
	    il->auth = AUTH_PLAIN;
	    login_reply(client, "+ ");
	}
    } else if (strcasecmp(mech, "LOGIN") == 0) {
	il->auth = AUTH_LOGIN_USER;
	if (init)
	    imap_login_auth_line(client, init);
	else
	    login_reply(client, "+ VXNlcm5hbWU6");	/* "Username:" */
    } else {
	login_reply(client, "%s NO [CANNOT] Unsupported authentication mechanism.", tag);
    }
}

/* imap_login_no_args - a command without arguments; 1 when it had some (replied) */

static int imap_login_no_args(LOGIN_CLIENT *client, const char *tag, const char *name,
			              int count)
{
    if (count == 0)
	return (0);
    login_reply(client, "%s BAD Syntax: %s takes no arguments.", tag, name);
    return (1);
}

/* imap_login_command - one complete command before login */

static void imap_login_command(LOGIN_CLIENT *client, const char *tag,
			               const char *name, const IMAP_ARG *args,
			               int count)
{
    VSTRING *capa;
    const char *user, *pass;

    if (strcasecmp(name, "CAPABILITY") == 0) {
	if (imap_login_no_args(client, tag, "CAPABILITY", count))
	    return;
	capa = vstring_alloc(100);
	imap_login_capability(client, capa);
	login_reply(client, "* CAPABILITY %s", STR(capa));
	login_reply(client, "%s OK Capability completed.", tag);
	vstring_free(capa);
    } else if (strcasecmp(name, "NOOP") == 0) {
	if (!imap_login_no_args(client, tag, "NOOP", count))
	    login_reply(client, "%s OK NOOP completed.", tag);
    } else if (strcasecmp(name, "LOGOUT") == 0) {
	if (imap_login_no_args(client, tag, "LOGOUT", count))
	    return;
	login_reply(client, "* BYE Logging out");
	login_reply(client, "%s OK Logout completed.", tag);
	login_close(client);
    } else if (strcasecmp(name, "ID") == 0) {
	if (count != 1 || (args->type != IMAP_ARG_NIL && args->type != IMAP_ARG_LIST)) {
	    login_reply(client, "%s BAD Syntax: ID (field value ...) or ID NIL", tag);
	    return;
	}
	login_reply(client, "* ID (\"name\" \"Posthorn\")");
	login_reply(client, "%s OK ID completed.", tag);
    } else if (strcasecmp(name, "STARTTLS") == 0) {
	if (imap_login_no_args(client, tag, "STARTTLS", count))
	    return;
	if (login_tls_active(client))
	    login_reply(client, "%s BAD TLS is already active.", tag);
	else if (!login_tls_offered(client))
	    login_reply(client, "%s NO TLS support isn't enabled.", tag);
	else {
	    login_reply(client, "%s OK Begin TLS negotiation now.", tag);
	    login_starttls(client);
	}
    } else if (strcasecmp(name, "LOGIN") == 0) {
	user = count == 2 ? imap_arg_astring(args) : 0;
	pass = count == 2 ? imap_arg_astring(args + 1) : 0;
	if (user == 0 || pass == 0)
	    login_reply(client, "%s BAD Syntax: LOGIN username password", tag);
	else if (strlen(user) != args[0].len || strlen(pass) != args[1].len)
	    login_reply(client, "%s BAD NUL in the user name or password.", tag);
	else if (!imap_login_refused(client, tag))
	    imap_login_try(client, tag, "LOGIN", "", user, pass);
    } else if (strcasecmp(name, "AUTHENTICATE") == 0) {
	imap_login_authenticate(client, tag, args, count);
    } else if (imapd_find_command(name)) {
	login_reply(client, "%s BAD Command not valid in this state: log in first.", tag);
    } else {
	login_reply(client, "%s BAD Unknown command.", tag);
    }
}

/*
 * imap_login_too_long - an AUTHENTICATE response line over the limit.
 * Command lines never come here: imap_login_input() hands every byte to
 * the parser, which has the same limit (IMAPD_LINE_MAX) and answers BAD.
 */
static void imap_login_too_long(LOGIN_CLIENT *client)
{
    IMAP_LOGIN *il = imap_login(client);

    il->auth = AUTH_NONE;
    login_reply(client, "%s BAD Response line too long.",
		il->auth_tag ? il->auth_tag : "*");
    imap_set(&il->auth_tag, 0);
}

/* imap_login_auth_input - an AUTHENTICATE continuation: a raw line */

static size_t imap_login_auth_input(LOGIN_CLIENT *client, char *data, size_t len)
{
    char   *nl = memchr(data, '\n', len);
    size_t  n;

    if (nl == 0)
	return (0);
    n = (size_t) (nl - data);
    if (n > 0 && data[n - 1] == '\r')
	n--;
    data[n] = 0;
    if (n > IMAPD_LINE_MAX) {
	imap_login_too_long(client);
    } else if (strlen(data) != n) {
	imap_login(client)->auth = AUTH_NONE;
	login_reply(client, "%s BAD NUL in the response.", imap_login(client)->auth_tag);
    } else {
	imap_login_auth_line(client, data);
    }
    return ((size_t) (nl - data) + 1);
}

static size_t imap_login_input(LOGIN_CLIENT *client, char *data, size_t len)
{
    IMAP_LOGIN *il = imap_login(client);
    const IMAP_ARG *args;
    const char *tag;
    size_t  used = 0;
    int     count;

    if (il->auth != AUTH_NONE)
	return (imap_login_auth_input(client, data, len));
    switch (imap_parser_feed(il->parser, data, len, &used)) {
    case IMAP_PARSE_MORE:
	break;
    case IMAP_PARSE_LITERAL:
	login_reply(client, "+ OK");
	break;
    case IMAP_PARSE_DONE:
	args = imap_parser_args(il->parser, &count);
	imap_login_command(client, imap_parser_tag(il->parser),
			   imap_parser_name(il->parser), args, count);
	imap_parser_reset(il->parser);
	break;
    default:
	tag = imap_parser_tag(il->parser);
	login_reply(client, "%s BAD Syntax error: %s.", tag ? tag : "*",
		    imap_parser_error(il->parser));
	imap_parser_reset(il->parser);
	break;
    }
    /* the parser keeps what it consumed; "nothing used" only at the end */
    return (used > 0 ? used : len);
}

static void imap_login_tls_started(LOGIN_CLIENT *client)
{
    /* RFC 3501 6.2.1: the client must ask CAPABILITY again; nothing to say */
    imap_parser_reset(imap_login(client)->parser);
}

static void imap_login_timeout(LOGIN_CLIENT *client)
{
    login_reply(client, "* BYE Disconnected for inactivity.");
}

static void imap_login_free(LOGIN_CLIENT *client)
{
    IMAP_LOGIN *il = *login_context(client);

    if (il) {
	imap_parser_free(il->parser);
	imap_set(&il->auth_tag, 0);
	imap_set(&il->auth_user, 0);
	myfree(il);
    }
}

const LOGIN_PROTOCOL imapd_login_protocol = {
    .name = "imap",
    .prefix = "imapd",
    .line_limit = IMAPD_LINE_MAX,
    .greet = imap_login_greet,
    .input = imap_login_input,
    .too_long = imap_login_too_long,
    .tls_started = imap_login_tls_started,
    .timeout = imap_login_timeout,
    .free = imap_login_free,
};
