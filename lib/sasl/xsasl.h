/*
 * xsasl.h - SASL authentication through Cyrus SASL: the server side (and
 * the client side, below).
 *
 * One wrapper for every server that authenticates clients (smtpd's AUTH,
 * later pop3d's AUTH/USER+PASS and imapd's AUTHENTICATE/LOGIN), so that
 * they share one Cyrus configuration and one set of behaviours:
 *
 *   xsasl_server_init(app, path)   once per process, before privileges
 *                                  are dropped (plug-ins are loaded then):
 *                                  APP names the Cyrus application file
 *                                  APP.conf (smtpd_sasl_path), PATH the
 *                                  directories to search for it
 *                                  (cyrus_sasl_config_path; "" means
 *                                  Cyrus's built-in search path)
 *   xsasl_server_create(...)       one per client session and security
 *                                  context (recreate after STARTTLS)
 *   xsasl_server_mechs(server)     "PLAIN LOGIN": what to announce
 *   xsasl_server_first(server, mech, init, reply)
 *   xsasl_server_next(server, response, reply)
 *                                  one exchange: responses are base64 text
 *                                  as the client sent it ("=" is an empty
 *                                  initial response); REPLY receives the
 *                                  base64 challenge (XSASL_AUTH_MORE) or
 *                                  the reason for a failure
 *   xsasl_server_username(server)  after XSASL_AUTH_DONE
 *   xsasl_server_free(server)
 *
 * Reasons are Cyrus's error texts ("authentication failure"); "user not
 * found" is reported as "authentication failure" so that a client cannot
 * probe for user names.  Nothing here logs a password or a decoded
 * response; Cyrus's own log messages are passed on only at levels that
 * never carry one.
 */
#ifndef XSASL_H
#define XSASL_H

#include "sys_defs.h"
#include "vstring.h"

/* Results of xsasl_server_first/next */
#define XSASL_AUTH_DONE		0	/* authenticated */
#define XSASL_AUTH_MORE		1	/* send the challenge in REPLY, then _next */
#define XSASL_AUTH_FORM		2	/* the response is not valid base64 */
#define XSASL_AUTH_FAIL		3	/* failed: reason in REPLY */
#define XSASL_AUTH_TEMP		4	/* temporary failure: reason in REPLY */

typedef struct XSASL_SERVER XSASL_SERVER;

/* xsasl_server_init - load Cyrus SASL once; 0, or -1 with a warning logged */
int	xsasl_server_init(const char *app_name, const char *config_path);

/*
 * xsasl_security_flags - parse smtpd_sasl_security_options-style text
 * ("noanonymous, noplaintext"; empty: none) into Cyrus SASL_SEC_* flags.
 * Returns 0, or -1 with the unknown word in *BAD (points into a static
 * buffer).
 */
int	xsasl_security_flags(const char *text, unsigned *flags, const char **bad);

/*
 * xsasl_server_create - a server context for one session.  SERVICE is the
 * protocol ("smtp"), HOSTNAME our name, REALM the user realm (NULL or ""
 * for none), SECURITY the options text.  NULL, with a warning, on error.
 */
XSASL_SERVER *xsasl_server_create(const char *service, const char *hostname,
				          const char *realm, const char *security);

/* xsasl_server_mechs - space-separated mechanism list; NULL if none */
const char *xsasl_server_mechs(XSASL_SERVER *server);

/* xsasl_server_first - start MECH; INIT is the base64 initial response or NULL */
int	xsasl_server_first(XSASL_SERVER *server, const char *mech,
			           const char *init, VSTRING *reply);

/* xsasl_server_next - one base64 client response */
int	xsasl_server_next(XSASL_SERVER *server, const char *response, VSTRING *reply);

/* xsasl_server_username - the (attempted) user name, NULL if none yet */
const char *xsasl_server_username(XSASL_SERVER *server);

/*
 * xsasl_server_checkpass - a plain USER/PASS check (POP3 USER/PASS, IMAP
 * LOGIN) with the same Cyrus configuration: XSASL_AUTH_DONE or
 * XSASL_AUTH_FAIL/TEMP with the reason in REPLY.
 */
int	xsasl_server_checkpass(XSASL_SERVER *server, const char *user,
			               const char *pass, VSTRING *reply);

/*
 * xsasl_server_checkapop - POP3 APOP (RFC 1939): DIGEST is the hex MD5 of
 * CHALLENGE (the greeting's <...>) and the secret, which Cyrus must be able
 * to read in plain text (auxprop); the same results.
 */
int	xsasl_server_checkapop(XSASL_SERVER *server, const char *challenge,
			               const char *user, const char *digest,
			               VSTRING *reply);

void	xsasl_server_free(XSASL_SERVER *server);

/*
 * The client side (the smtp client's AUTH to a relayhost):
 *
 *   xsasl_client_init()            once per process; 0 or -1 (logged)
 *   xsasl_client_create(service, server, security, ssf, user, pass)
 *                                  one per session: SERVER is the peer's
 *                                  host name, SECURITY the
 *                                  smtp_sasl_security_options text, SSF
 *                                  the TLS cipher strength (0: none)
 *   xsasl_client_first(client, mechs, mech, init, reply)
 *                                  choose from the server's list MECHS:
 *                                  MECH gets the name, INIT the base64
 *                                  initial response ("=" for an empty one,
 *                                  "" for none)
 *   xsasl_client_next(client, challenge, response, reply)
 *                                  one base64 challenge -> base64 response
 *   xsasl_client_free(client)
 * Results: XSASL_AUTH_DONE (go on), XSASL_AUTH_FAIL/TEMP with the reason
 * in REPLY.  The password never appears in a log or a reason.
 */
typedef struct XSASL_CLIENT XSASL_CLIENT;

int	xsasl_client_init(void);
XSASL_CLIENT *xsasl_client_create(const char *service, const char *server,
				          const char *security, unsigned ssf,
				          const char *user, const char *pass);
int	xsasl_client_first(XSASL_CLIENT *client, const char *mechs, VSTRING *mech,
			           VSTRING *init, VSTRING *reply);
int	xsasl_client_next(XSASL_CLIENT *client, const char *challenge,
			          VSTRING *response, VSTRING *reply);
void	xsasl_client_free(XSASL_CLIENT *client);

#endif
