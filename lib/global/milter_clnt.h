/*
 * milter_clnt.h - the MTA side of the Sendmail/Postfix milter protocol
 * (version 6) for an event-driven process: every command is sent without
 * waiting, and its result comes back through a callback from the event
 * loop (lib/util/events.c), never from inside the call that started it.
 *
 * Per process, one MILTER per configured filter (the address is resolved
 * here, once):
 *	MILTER_LIMITS limits;
 *	milter_limits_init(&limits);		Postfix's defaults
 *	MILTER *m = milter_create("inet:127.0.0.1:8891", &limits);
 *   SPEC is "inet:host:port", "unix:/path" (a relative path is under the
 *   queue directory, the process's working directory), or Postfix's
 *   "{ inet:host:port, connect_timeout=10s, command_timeout=10s,
 *   content_timeout=100s, default_action=accept, protocol=6 }".  NULL,
 *   with a warning, for a spec or setting that makes no sense.
 *
 * Per SMTP session, one MILTER_SESS per filter; LOOKUP gives the value of
 * a macro ("j", "{auth_authen}", as listed in LIMITS.macros or asked for
 * by the filter with SMFIF_SETSYMLIST), or NULL when it has none:
 *	MILTER_SESS *s = milter_session(m, lookup, lookup_context);
 *	milter_connect(s, "client.example.org", SMFIA_INET, "192.0.2.1", 4711,
 *		       done, ctx);		connects, negotiates, sends it
 *	milter_helo(s, "client.example.org", done, ctx);
 *	milter_mail(s, argv, done, ctx);	argv: "<sender>", ESMTP args, NULL
 *	milter_rcpt(s, argv, done, ctx);	argv: "<recipient>", args, NULL
 *	milter_data(s, done, ctx);
 *	milter_header(s, "Subject", " hello", done, ctx);   one per call;
 *		the value as it follows the colon, folded with LF
 *	milter_eoh(s, done, ctx);
 *	milter_body(s, chunk, len, done, ctx);	  len <= MILTER_CHUNK_SIZE,
 *		in SMTP form (CRLF line ends, no dot-stuffing)
 *	milter_eom(s, done, ctx);		result->mods: the edits
 *	milter_unknown(s, "XYZZY arg", done, ctx);
 *	milter_abort(s);			message over: RSET, a refusal
 *	milter_session_free(s);			SMFIC_QUIT, close; no callback
 *
 *	void done(const MILTER_RESULT *result, void *context);
 *
 * One command at a time per session: starting one before the previous
 * one's callback is an interface violation (panic).  milter_abort() may
 * come at any time: a message command it overtakes (MAIL .. end of
 * message) is never called back, its reply is read and dropped.
 * milter_session_free() may come at any time, from a callback too; no
 * callback of the session runs after it.  milter_mail() aborts a message
 * still going on.
 *
 * Results: MILTER_CONTINUE (also for steps the filter asked not to see,
 * and after it accepted the connection or message), MILTER_ACCEPT,
 * MILTER_REJECT and MILTER_TEMPFAIL (TEXT is the SMTP reply: the filter's
 * own SMFIR_REPLYCODE, checked, with its class matching, or Postfix's
 * "550 5.7.1 Command rejected" / "451 4.7.1 Service unavailable - try
 * again later"), MILTER_DISCARD, MILTER_SHUTDOWN (421 TEXT: end the
 * session), MILTER_QUARANTINE (milter_default_action = quarantine: accept
 * and hold; TEXT is the reason).  A REJECT or TEMPFAIL for milter_rcpt()
 * is for that recipient; for the other envelope and content steps it is
 * for the message; for milter_connect() and milter_helo() it, like
 * SHUTDOWN, holds for every later command of the session (as Postfix).
 *
 * milter_eom()'s result carries the edits the filter sent before its
 * final reply, in order, to be applied when the result is CONTINUE or
 * ACCEPT; they live until the session's next command.  Header values are
 * as they follow the colon ("Name:" + value), whatever SMFIP_HDR_LEADSPC
 * said; SMFIR_REPLBODY chunks, one mod each, together are the new body
 * (CRLF line ends, as the filter sent it).  Edits of more than
 * LIMITS.edit_limit bytes (milter_limits_init(): 10240000, Postfix's
 * message_size_limit) are a failure like any other.
 *
 * When the filter cannot be reached, does not answer in time (the
 * connect, command and content timeouts), closes the connection, or
 * sends what the protocol does not allow, a warning in Postfix's words
 * names it ("milter inet:127.0.0.1:8891: can't read SMFIC_MAIL reply
 * packet header: Connection reset by peer"), the connection is closed,
 * and this and every later command of the session get
 * milter_default_action: accept (CONTINUE: the filter is left out),
 * tempfail, reject, or quarantine.
 *
 * MILTERS (below) runs each command through several filters in order.
 *
 * The code: milter_conf.c (limits, specs, lists), milter_clnt.c (a
 * session), milters.c (a chain), milter_cmds.c (milter_helo() etc.),
 * milter_proto.c (packets).
 */
#ifndef MILTER_CLNT_H
#define MILTER_CLNT_H

#include "sys_defs.h"
#include "milter_proto.h"

/* Macro stages: SMFIM_* numbers, and one more for unknown commands */
#define MILTER_MACRO_CONNECT	SMFIM_CONNECT
#define MILTER_MACRO_HELO	SMFIM_HELO
#define MILTER_MACRO_MAIL	SMFIM_ENVFROM
#define MILTER_MACRO_RCPT	SMFIM_ENVRCPT
#define MILTER_MACRO_DATA	SMFIM_DATA
#define MILTER_MACRO_EOD	SMFIM_EOM
#define MILTER_MACRO_EOH	SMFIM_EOH
#define MILTER_MACRO_UNKNOWN	SMFIM_COUNT
#define MILTER_MACRO_STAGES	(SMFIM_COUNT + 1)

/* Postfix 3.7's defaults (postconf -d): milter_connect_macros, ... */
#define MILTER_CONNECT_MACROS	"j {daemon_name} {daemon_addr} v _"
#define MILTER_HELO_MACROS	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"
#define MILTER_MAIL_MACROS	"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}"
#define MILTER_RCPT_MACROS	"i {rcpt_addr} {rcpt_host} {rcpt_mailer}"
#define MILTER_DATA_MACROS	"i"
#define MILTER_EOH_MACROS	"i"
#define MILTER_EOD_MACROS	"i"
#define MILTER_UNKNOWN_MACROS	""

/* milter_default_action */
#define MILTER_DEF_TEMPFAIL	0
#define MILTER_DEF_ACCEPT	1
#define MILTER_DEF_REJECT	2
#define MILTER_DEF_QUARANTINE	3

typedef struct MILTER_LIMITS {
    int     connect_timeout;		/* milter_connect_timeout, seconds */
    int     command_timeout;		/* milter_command_timeout */
    int     content_timeout;		/* milter_content_timeout */
    long    edit_limit;			/* bytes of edits per message, 0: any */
    const char *default_action;		/* tempfail|accept|reject|quarantine */
    const char *protocol;		/* milter_protocol: 2, 3, 4 or 6,
					 * optionally "no_header_reply" */
    const char *macros[MILTER_MACRO_STAGES];	/* names, by stage */
} MILTER_LIMITS;

/* Results */
#define MILTER_CONTINUE		0
#define MILTER_ACCEPT		1
#define MILTER_REJECT		2
#define MILTER_TEMPFAIL		3
#define MILTER_DISCARD		4
#define MILTER_QUARANTINE	5
#define MILTER_SHUTDOWN		6

/* Edits at the end of the message */
#define MILTER_MOD_ADDHDR	1	/* NAME, VALUE: append */
#define MILTER_MOD_INSHDR	2	/* INDEX (0: first header), NAME, VALUE */
#define MILTER_MOD_CHGHDR	3	/* INDEX-th (1: first) NAME: VALUE, "": delete */
#define MILTER_MOD_REPLBODY	4	/* DATA, LEN: the next piece of the new body */
#define MILTER_MOD_ADDRCPT	5	/* NAME: recipient; VALUE: ESMTP args or NULL */
#define MILTER_MOD_DELRCPT	6	/* NAME: recipient */
#define MILTER_MOD_CHGFROM	7	/* NAME: sender; VALUE: ESMTP args or NULL */
#define MILTER_MOD_QUARANTINE	8	/* NAME: reason */

typedef struct MILTER_MOD {
    int     type;			/* MILTER_MOD_* */
    long    index;
    char   *name;
    char   *value;
    char   *data;
    size_t  len;
    const char *milter;			/* the filter that asked */
    struct MILTER_MOD *next;
} MILTER_MOD;

typedef struct MILTER_RESULT {
    int     action;			/* MILTER_CONTINUE ... */
    const char *text;			/* SMTP reply, quarantine reason, or NULL */
    const MILTER_MOD *mods;		/* milter_eom(): edits, or NULL */
    const char *milter;			/* the filter that decided */
} MILTER_RESULT;

typedef struct MILTER MILTER;
typedef struct MILTER_SESS MILTER_SESS;
typedef void (*MILTER_FN) (const MILTER_RESULT *result, void *context);
typedef const char *(*MILTER_MACRO_FN) (const char *name, void *context);

void	milter_limits_init(MILTER_LIMITS *limits);
MILTER *milter_create(const char *spec, const MILTER_LIMITS *limits);
void	milter_free(MILTER *milter);
const char *milter_name(const MILTER *milter);

MILTER_SESS *milter_session(MILTER *milter, MILTER_MACRO_FN lookup, void *context);
void	milter_session_free(MILTER_SESS *sess);

void	milter_connect(MILTER_SESS *sess, const char *hostname, int family,
	               const char *addr, unsigned port, MILTER_FN done, void *context);
void	milter_helo(MILTER_SESS *sess, const char *helo, MILTER_FN done, void *context);
void	milter_mail(MILTER_SESS *sess, const char **argv, MILTER_FN done, void *context);
void	milter_rcpt(MILTER_SESS *sess, const char **argv, MILTER_FN done, void *context);
void	milter_data(MILTER_SESS *sess, MILTER_FN done, void *context);
void	milter_header(MILTER_SESS *sess, const char *name, const char *value,
		              MILTER_FN done, void *context);
void	milter_eoh(MILTER_SESS *sess, MILTER_FN done, void *context);
void	milter_body(MILTER_SESS *sess, const char *data, size_t len,
		            MILTER_FN done, void *context);
void	milter_eom(MILTER_SESS *sess, MILTER_FN done, void *context);
void	milter_unknown(MILTER_SESS *sess, const char *line, MILTER_FN done, void *context);
void	milter_abort(MILTER_SESS *sess);

/* milter_rcpt_rejected_wanted - the filter asked for rejected recipients
 * too (SMFIP_RCPT_REJ); send them with {rcpt_mailer} = "error" */
int	milter_rcpt_rejected_wanted(const MILTER_SESS *sess);

/*
 * A MILTER_CMD is any one command, for callers that pass commands around:
 * milter_command() and milters_command() are what milter_helo() etc. call
 * (milter_cmds.c).  ARGV: SMFIC_CONNECT {hostname, address}, SMFIC_HELO
 * {helo}, SMFIC_MAIL and SMFIC_RCPT {address, ESMTP args...},
 * SMFIC_HEADER {name, value}, SMFIC_UNKNOWN {line}; the others none.
 */
typedef struct MILTER_CMD {
    int     event;			/* SMFIC_CONNECT ... SMFIC_UNKNOWN */
    const char **argv;			/* strings, NULL-terminated */
    int     family;			/* SMFIC_CONNECT */
    unsigned port;
    const char *data;			/* SMFIC_BODY */
    size_t  len;
    int     rejected;			/* a refused RCPT (milters_command() only) */
} MILTER_CMD;

void	milter_command(MILTER_SESS *sess, const MILTER_CMD *cmd,
		               MILTER_FN done, void *context);

/* milter_mods_take - the session's edits, now the caller's to free */
MILTER_MOD *milter_mods_take(MILTER_SESS *sess);
void	milter_mods_free(MILTER_MOD *mods);

/*
 * MILTERS: smtpd_milters or non_smtpd_milters.  milters_create() takes
 * Postfix's list (separated by commas or white space, "{ ... }" groups as
 * one entry) per process; milters_session() a chain per SMTP session.
 * Each milters_xxx() runs the command through every filter in order and
 * stops at the first result that is not CONTINUE or ACCEPT, which it
 * hands on (CONTINUE when all went on).  milters_eom()'s mods are every
 * filter's edits, in filter order.  Note: each filter sees the message
 * as the client sent it, not with the edits of the filters before it.
 * milters_rcpt() with REJECTED set sends a recipient the MTA refused to
 * the filters that want it (SMFIP_RCPT_REJ) and ignores their answers.
 */
typedef struct MILTERS MILTERS;
typedef struct MILTERS_SESS MILTERS_SESS;

MILTERS *milters_create(const char *list, const MILTER_LIMITS *limits);
void	milters_free(MILTERS *milters);
int	milters_count(const MILTERS *milters);

MILTERS_SESS *milters_session(MILTERS *milters, MILTER_MACRO_FN lookup, void *context);
void	milters_session_free(MILTERS_SESS *chain);

/*
 * milters_member - the chain's INDEX-th filter session (0 ..
 * milters_count() - 1), for a caller that gives the message content to
 * one filter after the other, applying each one's edits before the next
 * one sees it (as Postfix's cleanup does).  Between the chain's own
 * commands only.
 */
MILTER_SESS *milters_member(MILTERS_SESS *chain, int index);

void	milters_connect(MILTERS_SESS *chain, const char *hostname, int family,
	               const char *addr, unsigned port, MILTER_FN done, void *context);
void	milters_helo(MILTERS_SESS *chain, const char *helo, MILTER_FN done, void *context);
void	milters_mail(MILTERS_SESS *chain, const char **argv, MILTER_FN done, void *context);
void	milters_rcpt(MILTERS_SESS *chain, const char **argv, int rejected,
		             MILTER_FN done, void *context);
void	milters_data(MILTERS_SESS *chain, MILTER_FN done, void *context);
void	milters_header(MILTERS_SESS *chain, const char *name, const char *value,
		               MILTER_FN done, void *context);
void	milters_eoh(MILTERS_SESS *chain, MILTER_FN done, void *context);
void	milters_body(MILTERS_SESS *chain, const char *data, size_t len,
		             MILTER_FN done, void *context);
void	milters_eom(MILTERS_SESS *chain, MILTER_FN done, void *context);
void	milters_unknown(MILTERS_SESS *chain, const char *line, MILTER_FN done, void *context);
void	milters_command(MILTERS_SESS *chain, const MILTER_CMD *cmd,
			        MILTER_FN done, void *context);
void	milters_abort(MILTERS_SESS *chain);

#endif
