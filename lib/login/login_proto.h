/*
 * login_proto.h - the request from a login process (login_server.c) to its
 * protocol's auth service (postlogin.c), over private/$PREFIX_auth_service.
 *
 * The login process passes one descriptor with unix_send_fd() - the
 * client's socket, or the session's end of a socketpair when it stays as
 * the TLS proxy - then writes one attribute list (lib/util/attr.h).  The
 * auth service answers with one attribute list: status=ok (the session
 * runs and has the descriptor), fail (wrong credentials: the reason is
 * safe to show), or temp (try later).
 */
#ifndef LOGIN_PROTO_H
#define LOGIN_PROTO_H

/* Request */
#define LOGIN_ATTR_PROTOCOL	"protocol"	/* pop3, imap */
#define LOGIN_ATTR_SERVICE	"service"	/* master.cf name, for logs */
#define LOGIN_ATTR_MECH		"mech"		/* PLAIN, LOGIN, USER, APOP */
#define LOGIN_ATTR_USER		"user"
#define LOGIN_ATTR_AUTHZID	"authzid"
#define LOGIN_ATTR_PASSWORD	"password"
#define LOGIN_ATTR_CHALLENGE	"challenge"	/* APOP's <...> */
#define LOGIN_ATTR_TAG		"tag"		/* IMAP's command tag */
#define LOGIN_ATTR_CLIENT_NAME	"client_name"	/* "unknown[1.2.3.4]" */
#define LOGIN_ATTR_CLIENT_ADDR	"client_address"
#define LOGIN_ATTR_CLIENT_PORT	"client_port"
#define LOGIN_ATTR_SERVER_ADDR	"server_address"
#define LOGIN_ATTR_SERVER_PORT	"server_port"
#define LOGIN_ATTR_TLS		"tls"		/* summary, "" without TLS */
#define LOGIN_ATTR_INPUT	"input"		/* pipelined after the login */

/* Answer */
#define LOGIN_ATTR_STATUS	"status"
#define LOGIN_ATTR_REASON	"reason"
#define LOGIN_STATUS_OK		"ok"
#define LOGIN_STATUS_FAIL	"fail"
#define LOGIN_STATUS_TEMP	"temp"

/*
 * The session: postlogin.c starts "PROGRAM session" as the mailbox owner,
 * with the client on descriptors 0 and 1 and these in the environment
 * (read with lib/login/login_session.h).
 */
#define LOGIN_ENV_USER		"POSTHORN_USER"		/* the login name */
#define LOGIN_ENV_MAILBOX	"POSTHORN_MAILBOX"	/* path */
#define LOGIN_ENV_KIND		"POSTHORN_MAILBOX_KIND"	/* maildir, mbox */
#define LOGIN_ENV_CLIENT	"POSTHORN_CLIENT"	/* "unknown[1.2.3.4]" */
#define LOGIN_ENV_TLS		"POSTHORN_TLS"
#define LOGIN_ENV_TAG		"POSTHORN_TAG"
#define LOGIN_ENV_MECH		"POSTHORN_MECH"
#define LOGIN_ENV_INPUT		"POSTHORN_INPUT"	/* hex */

#endif
