/*
 * pop3d_login.c - POP3 before login (RFC 1939 AUTHORIZATION state, RFC
 * 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH), as the protocol module of
 * lib/login/login_server.h.
 *
 * Commands: CAPA, STLS, USER/PASS, AUTH (PLAIN, LOGIN; with or without an
 * initial response; "AUTH" alone lists the mechanisms), APOP (only with
 * pop3d_apop_enable) and QUIT, which is all RFC 1939 allows in this
 * state; every other command gets "-ERR" and the session goes on.  USER/PASS and AUTH are refused without TLS unless the client
 * is on loopback or pop3d_tls_auth_only = no; with
 * pop3d_tls_security_level = encrypt they are refused without TLS always.
 * A failed login answers "-ERR [AUTH] Authentication failed." after the
 * failure delay; a problem on our side "-ERR [SYS/TEMP] ...".
 *
 * Parameters: pop3d_apop_enable, and those of login_server.h.
 */
#include "sys_defs.h"
#include <sys/time.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "login_server.h"
#include "pop3d_parse.h"
#include "pop3d.h"

/* AUTH exchange states */
#define AUTH_NONE	0
#define AUTH_PLAIN	1		/* waiting for PLAIN's response */
#define AUTH_LOGIN_USER	2		/* waiting for LOGIN's user name */
#define AUTH_LOGIN_PASS	3		/* waiting for LOGIN's password */

typedef struct POP3_LOGIN {
    char   *user;			/* from USER */
    int     auth;			/* AUTH_* */
    char   *auth_user;			/* AUTH LOGIN's name */
    char    challenge[128];		/* APOP: the greeting's <...> */
} POP3_LOGIN;

static POP3_LOGIN *pop3_login(LOGIN_CLIENT *client)
{
    void  **ctx = login_context(client);

    if (*ctx == 0)
	*ctx = mycalloc(1, sizeof(POP3_LOGIN));
    return ((POP3_LOGIN *) * ctx);
}

static void pop3_set(char **field, const char *value)
{
    if (*field)
	myfree(*field);
    *field = value ? mystrdup(value) : 0;
}

static void pop3_login_greet(LOGIN_CLIENT *client)
{
    POP3_LOGIN *pl = pop3_login(client);
    struct timeval tv;

    if (conf_bool("pop3d_apop_enable")) {
	gettimeofday(&tv, (struct timezone *) 0);
	snprintf(pl->challenge, sizeof(pl->challenge), "<%ld.%ld.%ld@%s>",
		 (long) getpid(), (long) tv.tv_sec, (long) tv.tv_usec,
		 conf_str("myhostname"));
	login_reply(client, "+OK %s ready. %s", conf_str("mail_name"), pl->challenge);
    } else {
	login_reply(client, "+OK %s ready.", conf_str("mail_name"));
    }
}

/* pop3_login_capa - RFC 2449 CAPA before login */

static void pop3_login_capa(LOGIN_CLIENT *client)
{
    int     plain_ok = login_plaintext_ok(client) && !login_tls_required(client);

    login_reply(client, "+OK Capability list follows");
    for (const char *const * cp = pop3d_capabilities; *cp; cp++)
	login_reply(client, "%s", *cp);
    if (plain_ok) {
	login_reply(client, "USER");
	login_reply(client, "SASL PLAIN LOGIN");
    }
    if (login_tls_offered(client))
	login_reply(client, "STLS");
    login_reply(client, ".");
}

/* pop3_login_refused - USER/PASS/AUTH not possible now; 1 if refused */

static int pop3_login_refused(LOGIN_CLIENT *client)
{
    if (login_tls_required(client)) {
	login_reply(client, "-ERR [AUTH] TLS required: issue STLS first.");
	return (1);
    }
    if (!login_plaintext_ok(client)) {
	login_reply(client, "-ERR [AUTH] Plaintext authentication disallowed on "
		    "non-secure (SSL/TLS) connections.");
	return (1);
    }
    return (0);
}

/* pop3_login_done - the answer of the auth service */

static void pop3_login_done(LOGIN_CLIENT *client, int status, const char *reason)
{
    if (status == LOGIN_FAIL)
	login_reply(client, "-ERR [AUTH] Authentication failed.");
    else
	login_reply(client, "-ERR [SYS/TEMP] Temporary authentication failure: %s",
		    reason);
}

/* pop3_login_try - hand the credentials to the auth service */

static void pop3_login_try(LOGIN_CLIENT *client, const char *mech,
			           const char *authzid, const char *user,
			           const char *pass)
{
    LOGIN_CREDS creds;

    memset(&creds, 0, sizeof(creds));
    creds.mech = mech;
    creds.authzid = authzid;
    creds.user = user;
    creds.password = pass;
    creds.challenge = pop3_login(client)->challenge;
    login_auth(client, &creds, pop3_login_done);
}

/* pop3_login_plain - a PLAIN response: base64 of authzid NUL authcid NUL pw */

static void pop3_login_plain(LOGIN_CLIENT *client, const char *b64)
{
    VSTRING *buf = vstring_alloc(100);
    const char *authzid, *authcid, *pass;

    switch (login_sasl_plain(b64, buf, &authzid, &authcid, &pass)) {
    case LOGIN_SASL_BASE64:
	login_reply(client, "-ERR [AUTH] Invalid base64 data in the response.");
	break;
    case LOGIN_SASL_INVALID:
	login_reply(client, "-ERR [AUTH] Invalid PLAIN response.");
	break;
    default:
	pop3_login_try(client, "PLAIN", authzid, authcid, pass);
	break;
    }
    vstring_free(buf);
}

/* pop3_login_auth_response - one line of an AUTH exchange */

static void pop3_login_auth_response(LOGIN_CLIENT *client, const char *line)
{
    POP3_LOGIN *pl = pop3_login(client);
    VSTRING *buf;
    int     state = pl->auth;

    pl->auth = AUTH_NONE;
    if (strcmp(line, "*") == 0) {
	login_reply(client, "-ERR Authentication aborted.");
	return;
    }
    if (state == AUTH_PLAIN) {
	pop3_login_plain(client, line);
	return;
    }
    buf = vstring_alloc(100);
    if (login_sasl_text(line, buf) < 0) {
	login_reply(client, "-ERR [AUTH] Invalid base64 data in the response.");
    } else if (state == AUTH_LOGIN_USER) {
	pop3_set(&pl->auth_user, STR(buf));
	pl->auth = AUTH_LOGIN_PASS;
	login_reply(client, "+ UGFzc3dvcmQ6");	/* "Password:" */
    } else {
	pop3_login_try(client, "LOGIN", "", pl->auth_user, STR(buf));
    }
    vstring_free(buf);
}

/* pop3_login_auth - AUTH [mechanism [initial-response]] */

static void pop3_login_auth(LOGIN_CLIENT *client, POP3_CMD *cmd)
{
    POP3_LOGIN *pl = pop3_login(client);
    const char *init = cmd->argc > 1 ? cmd->argv[1] : 0;

    if (cmd->argc == 0) {			/* the mechanisms, as Dovecot */
	login_reply(client, "+OK");
	if (login_plaintext_ok(client) && !login_tls_required(client)) {
	    login_reply(client, "PLAIN");
	    login_reply(client, "LOGIN");
	}
	login_reply(client, ".");
	return;
    }
    if (cmd->argc > 2 || cmd->too_many) {
	login_reply(client, "-ERR Syntax: AUTH mechanism [initial-response]");
	return;
    }
    if (pop3_login_refused(client))
	return;
    if (strcasecmp(cmd->argv[0], "PLAIN") == 0) {
	if (init && strcmp(init, "=") != 0) {
	    pop3_login_plain(client, init);
	} else if (init) {
	    login_reply(client, "-ERR [AUTH] Invalid PLAIN response.");
	} else {
	    pl->auth = AUTH_PLAIN;
	    login_reply(client, "+ ");
	}
    } else if (strcasecmp(cmd->argv[0], "LOGIN") == 0) {
	if (init) {
	    pl->auth = AUTH_LOGIN_USER;
	    pop3_login_auth_response(client, init);
	} else {
	    pl->auth = AUTH_LOGIN_USER;
	    login_reply(client, "+ VXNlcm5hbWU6");	/* "Username:" */
	}
    } else {
	login_reply(client, "-ERR [AUTH] Unsupported authentication mechanism.");
    }
}

/* pop3_login_command - one command line before login */

static void pop3_login_command(LOGIN_CLIENT *client, const char *line, size_t len)
{
    POP3_LOGIN *pl = pop3_login(client);
    POP3_CMD cmd;
    const char *why;

    if (pop3_parse(line, len, &cmd, &why) < 0) {
	login_reply(client, "-ERR %s.", why);
	return;
    }
    if (strcmp(cmd.verb, "CAPA") == 0) {
	pop3_login_capa(client);
    } else if (strcmp(cmd.verb, "QUIT") == 0) {
	login_reply(client, "+OK Logging out.");
	login_close(client);
    } else if (strcmp(cmd.verb, "STLS") == 0) {
	if (cmd.argc > 0)
	    login_reply(client, "-ERR Syntax: STLS");
	else if (login_tls_active(client))
	    login_reply(client, "-ERR TLS is already active.");
	else if (!login_tls_offered(client))
	    login_reply(client, "-ERR TLS support isn't enabled.");
	else {
	    login_reply(client, "+OK Begin TLS negotiation now.");
	    pop3_set(&pl->user, 0);
	    login_starttls(client);
	}
    } else if (strcmp(cmd.verb, "USER") == 0) {
	if (cmd.argc != 1)
	    login_reply(client, "-ERR Syntax: USER name");
	else if (!pop3_login_refused(client)) {
	    pop3_set(&pl->user, cmd.argv[0]);
	    login_reply(client, "+OK");
	}
    } else if (strcmp(cmd.verb, "PASS") == 0) {
	if (pl->user == 0)
	    login_reply(client, "-ERR No username given.");
	else if (*cmd.rest == 0)
	    login_reply(client, "-ERR Syntax: PASS password");
	else if (!pop3_login_refused(client))
	    pop3_login_try(client, "USER", "", pl->user, cmd.rest);
    } else if (strcmp(cmd.verb, "AUTH") == 0) {
	pop3_login_auth(client, &cmd);
    } else if (strcmp(cmd.verb, "APOP") == 0) {
	if (!conf_bool("pop3d_apop_enable"))
	    login_reply(client, "-ERR APOP is not enabled.");
	else if (cmd.argc != 2)
	    login_reply(client, "-ERR Syntax: APOP name digest");
	else if (!pop3_login_refused(client))
	    pop3_login_try(client, "APOP", "", cmd.argv[0], cmd.argv[1]);
    } else if (pop3_session_command(cmd.verb)) {
	login_reply(client, "-ERR Unknown command in AUTHORIZATION state: log in first.");
    } else {
	login_reply(client, "-ERR Unknown command.");
    }
    pop3_cmd_free(&cmd);
}

/* pop3_login_input - one line (or AUTH response) from the client */

static size_t pop3_login_input(LOGIN_CLIENT *client, char *data, size_t len)
{
    POP3_LOGIN *pl = pop3_login(client);
    char   *nl = memchr(data, '\n', len);
    size_t  n;

    if (nl == 0)
	return (0);
    n = (size_t) (nl - data);
    if (n > 0 && data[n - 1] == '\r')
	n--;
    data[n] = 0;				/* the CR or LF: our buffer */
    if (n > POP3_LINE_LIMIT) {
	pl->auth = AUTH_NONE;
	login_reply(client, "-ERR Input line too long.");
    } else if (pl->auth != AUTH_NONE) {
	pop3_login_auth_response(client, data);
    } else {
	pop3_login_command(client, data, n);
    }
    return ((size_t) (nl - data) + 1);
}

static void pop3_login_too_long(LOGIN_CLIENT *client)
{
    pop3_login(client)->auth = AUTH_NONE;
    login_reply(client, "-ERR Input line too long.");
}

static void pop3_login_timeout(LOGIN_CLIENT *client)
{
    login_reply(client, "-ERR Disconnected for inactivity.");
}

static void pop3_login_free(LOGIN_CLIENT *client)
{
    POP3_LOGIN *pl = *login_context(client);

    if (pl) {
	pop3_set(&pl->user, 0);
	pop3_set(&pl->auth_user, 0);
	myfree(pl);
    }
}

const LOGIN_PROTOCOL pop3d_login_protocol = {
    .name = "pop3",
    .prefix = "pop3d",
    .line_limit = POP3_LINE_LIMIT,
    .greet = pop3_login_greet,
    .input = pop3_login_input,
    .too_long = pop3_login_too_long,
    .timeout = pop3_login_timeout,
    .free = pop3_login_free,
};
