/*
 * login_server.h - the pre-login half of pop3d and imapd (Dovecot's
 * "login process"), shared by both protocols.
 *
 * A login process runs as mail_owner under event_server_main: it accepts
 * clients, speaks TLS (implicit, or after STLS/STARTTLS), reads and writes
 * lines without ever blocking, and asks its protocol's module (pop3d_login.c,
 * imapd_login.c) what to answer.  It never opens a mailbox and never
 * decides whether a password is right: login_auth() hands the credentials
 * and the connection to the privileged auth service of the same program
 * (lib/login/postlogin.h, private/$PREFIX_auth_service), which checks them
 * with Cyrus SASL and starts the session as the mailbox owner.  Then:
 *   - plaintext client: the session got the socket itself; we close ours;
 *   - TLS client: the session got one end of a socketpair and this process
 *     stays in the middle as a TLS proxy (TLS cannot be handed over), as
 *     Dovecot's login processes do;
 *   - failure: the protocol's callback runs after $PREFIX_auth_failure_delay
 *     (other clients are served meanwhile) and the client may try again.
 * Input the client pipelined after the login command goes to the session.
 *
 * Parameters (PREFIX is the protocol's, e.g. pop3d): PREFIX_tls_security_level
 * (none, may, encrypt), PREFIX_tls_wrappermode, PREFIX_tls_cert_file,
 * PREFIX_tls_key_file, PREFIX_tls_chain_files, PREFIX_tls_protocols,
 * PREFIX_tls_ciphers, PREFIX_tls_exclude_ciphers, PREFIX_tls_loglevel,
 * PREFIX_tls_auth_only (plaintext logins only over TLS or from
 * loopback), PREFIX_login_timeout, PREFIX_auth_service,
 * PREFIX_auth_timeout, PREFIX_auth_failure_delay, PREFIX_auth_failure_limit.
 */
#ifndef LOGIN_SERVER_H
#define LOGIN_SERVER_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct LOGIN_CLIENT LOGIN_CLIENT;

/* What a protocol module provides */
typedef struct LOGIN_PROTOCOL {
    const char *name;			/* "pop3", "imap": the auth request */
    const char *prefix;			/* "pop3d": parameter names */
    size_t  line_limit;			/* input without a line end, at most */
    void    (*greet) (LOGIN_CLIENT *client);
    /* input - use bytes of DATA (a command line, or more); 0: need more */
    size_t  (*input) (LOGIN_CLIENT *client, char *data, size_t len);
    void    (*too_long) (LOGIN_CLIENT *client);
    void    (*tls_started) (LOGIN_CLIENT *client);	/* after STLS */
    void    (*timeout) (LOGIN_CLIENT *client);	/* say goodbye */
    void    (*free) (LOGIN_CLIENT *client);	/* the module's state */
} LOGIN_PROTOCOL;

/* Credentials for login_auth() */
typedef struct LOGIN_CREDS {
    const char *mech;			/* "PLAIN", "LOGIN", "USER", "APOP" */
    const char *user;			/* authentication identity */
    const char *authzid;		/* PLAIN's authorization identity or "" */
    const char *password;		/* or APOP's digest */
    const char *challenge;		/* APOP: the greeting's <...> */
    const char *tag;			/* IMAP: the command's tag */
} LOGIN_CREDS;

/* Outcomes of a login */
#define LOGIN_OK	0		/* the session has the client now */
#define LOGIN_FAIL	1		/* wrong name or password */
#define LOGIN_TEMP	2		/* try again later ([SYS/TEMP]) */

typedef void (*LOGIN_AUTH_FN) (LOGIN_CLIENT *client, int status, const char *reason);

/* The program's main() calls this (after its own pre_init, if any) */
NORETURN login_server_main(int argc, char **argv, const LOGIN_PROTOCOL *protocol);

/* For the protocol module */
void	login_reply(LOGIN_CLIENT *client, const char *fmt,...) PRINTFLIKE(2, 3);
void	login_close(LOGIN_CLIENT *client);	/* after the output is out */
int	login_tls_offered(LOGIN_CLIENT *client);	/* STLS/STARTTLS now possible */
int	login_tls_active(LOGIN_CLIENT *client);
void	login_starttls(LOGIN_CLIENT *client);	/* after the reply: handshake */
int	login_plaintext_ok(LOGIN_CLIENT *client);	/* TLS, loopback, or allowed */
int	login_tls_required(LOGIN_CLIENT *client);	/* level encrypt, no TLS yet */
void	login_auth(LOGIN_CLIENT *client, const LOGIN_CREDS *creds,
		           LOGIN_AUTH_FN callback);
const char *login_namaddr(LOGIN_CLIENT *client);	/* "host[addr]" for logs */
void  **login_context(LOGIN_CLIENT *client);	/* the module's state pointer */

/*
 * SASL responses, for the modules' AUTHENTICATE/AUTH exchanges.
 * login_sasl_plain() decodes a PLAIN response (RFC 4616: base64 of
 * authzid NUL authcid NUL password) into BUF and points into it;
 * login_sasl_text() decodes a LOGIN response (base64 of text without NUL).
 */
#define LOGIN_SASL_OK		0
#define LOGIN_SASL_BASE64	(-1)	/* not base64, or NUL in LOGIN's text */
#define LOGIN_SASL_INVALID	(-2)	/* not authzid NUL authcid NUL password */
int	login_sasl_plain(const char *b64, VSTRING *buf, const char **authzid,
			         const char **authcid, const char **password);
int	login_sasl_text(const char *b64, VSTRING *out);

#endif
