/*
 * smtpd.h - the SMTP server's session state and the interfaces between
 * its parts.
 *
 *   smtpd.c        main(), accepting clients, non-blocking I/O, timeouts,
 *                  closing and the connect/disconnect log lines
 *   smtpd_cmd.c    the command table and the SMTP command handlers
 *   smtpd_queue.c  the DATA command: queue file, Received header, commit
 *   smtpd_spare.c  empty queue files made ahead by a worker thread
 *   smtpd_data.c   the pure DATA line reader and header scanner (unit tested)
 *   smtpd_check.c  recipient and relay checks, mynetworks matching
 *   smtpd_reply.c  reply formatting, reject logging, error counting
 *   smtpd_tls.c    STARTTLS and TLS-wrapped (smtps) sessions
 *   smtpd_sasl.c   the AUTH command (Cyrus SASL)
 *   smtpd_restrict.c  the smtpd_*_restrictions lists and access tables
 *   smtpd_anvil.c  per-client connection and rate limits (anvil)
 *   smtpd_bdat.c   the BDAT command (RFC 3030 CHUNKING)
 *   smtpd_dns.c    the client name and the restrictions' DNS lookups,
 *                  off the event loop
 *   smtpd_milter.c smtpd_milters and non_smtpd_milters (mail filters)
 *
 * One SMTPD_STATE exists per client connection.  Replies are appended to
 * state->out and flushed by smtpd.c when the input has no complete line
 * left (pipelining), so handlers never write to the socket themselves.
 */
#ifndef SMTPD_H
#define SMTPD_H

#include "sys_defs.h"
#include "vstring.h"
#include "qfile.h"
#include "resolve.h"
#include "smtpd_data.h"
#include "dns.h"
#include "dns_peer.h"

/* Session modes */
#define SMTPD_MODE_CMD		0	/* reading command lines */
#define SMTPD_MODE_DATA		1	/* reading message content */
#define SMTPD_MODE_CLOSE	2	/* flush output, then close */
#define SMTPD_MODE_AUTH		3	/* reading AUTH responses (smtpd_sasl.c) */
#define SMTPD_MODE_BDAT		4	/* reading a BDAT chunk (smtpd_bdat.c) */

/* Per-command counters for the "disconnect from" log line */
#define SMTPD_CMD_COUNT		15

typedef struct SMTPD_STATE {
    int     fd;
    VSTRING *in;			/* unprocessed input */
    VSTRING *out;			/* replies not yet written */
    int     mode;			/* SMTPD_MODE_* */
    int     reading;			/* read events enabled */
    int     writing;			/* write events enabled */
    int     skip_line;			/* discarding the rest of a long line */
    time_t  deadline;			/* idle timeout */
    char    name[DNS_PEER_NAME_SIZE];	/* verified client name, or "unknown" */
    char    reverse_name[DNS_PEER_NAME_SIZE];	/* its PTR name, or "unknown" */
    int     name_status;		/* DNS_PEER_OK etc. (dns_peer.h) */
    int     reverse_name_status;
    char    addr[64];			/* client address text */
    char    port[16];
    char   *namaddr;			/* "name[addr]" for logging */
    int     submit;			/* local submission (UNIX socket) */
    long    uid;			/* submit: client uid from SO_PEERCRED */
    int     mynetworks;			/* client matches mynetworks */
    int     bare_lf;			/* BARE_LF_* policy for this client */
    const char *where;			/* last command, for "lost connection after" */
    char   *helo;			/* HELO/EHLO argument */
    const char *protocol;		/* "SMTP" or "ESMTP" */
    int     errors;			/* protocol error count */
    int     junk_cmds;			/* NOOP, RSET, VRFY since the last mail */
    int     delay_due;			/* a reply waits for smtpd_error_sleep_time */
    int     delaying;			/* ... and the timer runs */
    int     waiting;			/* a command waits (anvil, DNS): no input */
    int     lookups;			/* answers (DNS, policy) waited for */
    void    (*wakeup) (struct SMTPD_STATE *);	/* ... and then */
    int     parked_index;		/* the command that waits for them */
    char   *parked_args;		/* ... and its arguments */
    int     cmd_index;			/* the command running (table index) */
    int     anvil_exempt;		/* -1: not looked up yet */
    int     anvil_registered;		/* anvil counts this connection */
    void    (*anvil_start) (struct SMTPD_STATE *);	/* after "connect" */
    void   *anvil_wait;			/* smtpd_anvil.c: the waiting command */
    int     cmd_ok[SMTPD_CMD_COUNT];	/* per command: successes */
    int     cmd_total[SMTPD_CMD_COUNT];	/* per command: attempts */
    /* Mail transaction */
    int     in_mail;
    char   *sender;
    char   *sender_raw;			/* MAIL FROM as sent (before qualifying) */
    const char *rcpt_raw;		/* the RCPT being checked, as sent */
    const char *encoding;		/* BODY=: "7bit", "8bit" or NULL */
    int     smtputf8;			/* MAIL ... SMTPUTF8 (RFC 6531) */
    int     verify;			/* MAIL ... XVERIFY (sendmail -bv) */
    const char *dsn_ret;		/* MAIL RET=: "FULL", "HDRS" or NULL */
    char   *dsn_envid;			/* MAIL ENVID=, decoded, or NULL */
    char  **rcpt;			/* recipients after virtual aliases */
    char  **orcpt;			/* RCPT addresses as the client sent them */
    char  **dsn_notify;			/* per recipient: RCPT NOTIFY= ("SUCCESS,DELAY") or NULL */
    char  **dsn_orcpt;			/* per recipient: ORCPT "type;addr", decoded */
    int     rcpt_count;			/* distinct recipients */
    int     rcpt_alloc;
    int     rcpt_cmds;			/* accepted RCPT commands */
    int     rcpt_undo_count;		/* before the RCPT the filters judge */
    int     rcpt_undo_cmds;
    char   *first_rcpt;			/* first accepted RCPT, qualified */
    /* DATA */
    QFILE  *qf;
    void   *commit;			/* smtpd_queue.c: the fsync under way */
    DATA_READER reader;
    int     data_cmd;			/* SMTPD_CMD_DATA or _BDAT: the message's */
    BDAT_READER bdat_reader;		/* BDAT: content lines across chunks */
    int     bdat_active;		/* a chunked message is coming in */
    long    bdat_left;			/* bytes of this chunk still to come */
    long    bdat_size;			/* ... of this many */
    long    bdat_total;			/* bytes of the chunks taken so far */
    int     bdat_last;			/* it is the LAST one */
    char   *bdat_reply;			/* refused: the reply after the bytes */
    HDR_SCAN hdr;
    struct SMTPD_HBC *hbc;		/* smtpd_hbc.c: header/body checks, drops */
    long    msg_size;			/* content bytes received */
    int     too_big;			/* exceeded message_size_limit */
    int     line_crlf;			/* the last command line ended in CRLF */
    /* Parts that keep their own state (see each part's header) */
    struct SMTPD_TLS *tls;		/* smtpd_tls.c: non-NULL once TLS is on */
    struct SMTPD_SASL *sasl;		/* smtpd_sasl.c: AUTH exchange state */
    char   *sasl_method;		/* after a successful AUTH: mechanism */
    char   *sasl_username;		/* after a successful AUTH: user name */
    struct SMTPD_POLICY *policy;	/* smtpd_restrict.c: per-session results */
    struct SMTPD_DNS *dns;		/* smtpd_dns.c: lookups and their answers */
    struct SMTPD_PQUERY *pqueries;	/* smtpd_policy.c: policy answers */
    struct SMTPD_MILTER *milter;	/* smtpd_milter.c: the filters, or NULL */
    unsigned session_id;		/* for the policy "instance" attribute */
    int     transactions;		/* ... with this */
    long    declared_size;		/* MAIL SIZE=, or 0 */
    char  **prepend;			/* PREPEND headers, NULL-terminated */
    char   *filter;			/* FILTER transport:nexthop, or NULL */
    /* Actions on the message decided by restrictions or header checks */
    char   *hold_reason;		/* non-NULL: file the message in hold/ */
    char   *discard_reason;		/* non-NULL: accept and throw away */
} SMTPD_STATE;

/* smtpd.c */
extern const char *var_myhostname;
extern const char *var_myorigin;
extern long var_message_size_limit;
extern int var_line_length_limit;
extern int var_hard_error_limit;
extern int var_soft_error_limit;
extern int var_junk_command_limit;
extern int var_recipient_limit;
/*
 * receive_override_options, as Postfix: what an after-filter smtpd (one
 * that takes mail back from a content filter) must not do twice
 */
#define SMTPD_NO_UNKNOWN_RCPT	(1<<0)	/* no_unknown_recipient_checks */
#define SMTPD_NO_ADDR_MAPPINGS	(1<<1)	/* no_address_mappings */
#define SMTPD_NO_HBC		(1<<2)	/* no_header_body_checks */
#define SMTPD_NO_MILTERS	(1<<3)	/* no_milters */
extern int var_receive_override;
/* smtpd_delivered - a message was queued: the error and junk counts
 * start again (Postfix: "without delivering mail") */
void	smtpd_delivered(SMTPD_STATE *state);
/* smtpd_resume - after a wait (error sleep, anvil): send what is due,
 * go on with the input that waited */
void	smtpd_resume(SMTPD_STATE *state);
/* smtpd_flush - write pending replies; -1 when the session was closed */
int	smtpd_flush(SMTPD_STATE *state);

/* smtpd_cmd.c */
void	smtpd_command(SMTPD_STATE *state, char *line);
/* smtpd_prepend - a header for the message of this transaction, above
 * our Received: header (access and policy PREPEND actions) */
void	smtpd_prepend(SMTPD_STATE *state, const char *header);
void	smtpd_reset_transaction(SMTPD_STATE *state);
/* smtpd_add_rcpt_mapped - a recipient a filter added, virtual aliases
 * expanded (unless no_address_mappings); 0, or -1 (lookup failure) */
int	smtpd_add_rcpt_mapped(SMTPD_STATE *state, const char *rcpt);
/* smtpd_del_rcpt - drop the recipients that were ADDR (as sent or after
 * expansion), as a filter asked */
void	smtpd_del_rcpt(SMTPD_STATE *state, const char *addr);
const char *smtpd_cmd_name(int index);
/* smtpd_cmd_verb - the upper-case verb of command INDEX */
const char *smtpd_cmd_verb(int index);
/* smtpd_command_run - run command INDEX with ARGS (its checks done); a
 * command that must wait for DNS is parked and runs again by itself */
void	smtpd_command_run(SMTPD_STATE *state, int index, char *args);
/* What command handlers and the smtpd_restrict_* hooks return besides
 * 0 (ok) and -1 (refused, replied): wait for answers (smtpd_lookup_wait) */
#define SMTPD_WAIT		1
/* ... or: the command answers later by itself and counts itself (AUTH) */
#define SMTPD_ASYNC		2

/* smtpd_dns.c */
/* smtpd_dns_lookup - as dns_lookup() (ANSWER may be NULL), from the
 * session's cache; SMTPD_DNS_PENDING: the lookup was started */
#define SMTPD_DNS_PENDING	2
int	smtpd_dns_lookup(SMTPD_STATE *state, const char *name, int type,
			         DNS_ANSWER *answer);
/*
 * What a session waits for (DNS answers, policy answers): each start is
 * counted (smtpd_lookup_start) and given back when its answer is in
 * (smtpd_lookup_done); smtpd_lookup_wait() parks the session (no input)
 * until the count is zero, then runs WAKEUP(state).
 */
void	smtpd_lookup_start(SMTPD_STATE *state);
void	smtpd_lookup_done(SMTPD_STATE *state);
void	smtpd_lookup_wait(SMTPD_STATE *state, void (*wakeup) (SMTPD_STATE *));
/* smtpd_peer_lookup - find the client name (state->name etc.), then
 * NEXT(state); the session reads nothing meanwhile */
void	smtpd_peer_lookup(SMTPD_STATE *state, void (*next) (SMTPD_STATE *));
void	smtpd_dns_free(SMTPD_STATE *state);

/* smtpd_policy.c (the restriction check_policy_service is in smtpd_restrict.c) */
void	smtpd_policy_free(SMTPD_STATE *state);
/* smtpd_server_address - our end of the client's connection ("" if none) */
void	smtpd_server_address(SMTPD_STATE *state, char *addr, size_t alen,
			             char *port, size_t plen);

/*
 * smtpd_milter.c.  A command that asks the filters hands over what it
 * does next: NEXT(state, reply) with the filters' refusal (logged
 * already) or NULL, returning 0 (it answered 2xx/3xx) or -1.  The
 * smtpd_milter_xxx() steps return NEXT's result when there is nothing to
 * ask (no filters, the message discarded), else SMTPD_ASYNC: the session
 * reads nothing until NEXT has run and the command is counted.
 */
typedef int (*SMTPD_MILTER_NEXT) (SMTPD_STATE *state, const char *reply);
void	smtpd_milter_init(void);		/* pre_init */
void	smtpd_milter_session(SMTPD_STATE *state);	/* at connect */
void	smtpd_milter_free(SMTPD_STATE *state);
/* smtpd_milter_abort - the transaction is over (RSET, HELO, its end) */
void	smtpd_milter_abort(SMTPD_STATE *state);
/* smtpd_milter_connect - NEXT greets (no command is counted) */
void	smtpd_milter_connect(SMTPD_STATE *state, SMTPD_MILTER_NEXT next);
int	smtpd_milter_helo(SMTPD_STATE *state, const char *helo, int index,
			          SMTPD_MILTER_NEXT next);
/* PATH: the address as sent, "<a@b>"; PARAMS: the ESMTP parameters */
int	smtpd_milter_mail(SMTPD_STATE *state, const char *path, const char *params,
			          SMTPD_MILTER_NEXT next);
/* RCPT: the recipient, qualified, for the {rcpt_*} macros */
int	smtpd_milter_rcpt(SMTPD_STATE *state, const char *path, const char *params,
			          const char *rcpt, SMTPD_MILTER_NEXT next);
/* smtpd_milter_rcpt_refused - a refused RCPT (REPLY sent) to filters that
 * want it: SMTPD_ASYNC (the session waits, nothing counted), or -1 */
int	smtpd_milter_rcpt_refused(SMTPD_STATE *state, const char *path,
				          const char *params, const char *rcpt,
				          const char *reply);
int	smtpd_milter_data(SMTPD_STATE *state, SMTPD_MILTER_NEXT next);
int	smtpd_milter_unknown(SMTPD_STATE *state, const char *verb,
			             SMTPD_MILTER_NEXT next);
/*
 * smtpd_milter_message - after the end of data, the content in state->qf
 * to each filter; 0: nothing to do; 1: DONE(state, reply) runs (later, or
 * at once on a local error) with NULL (edits applied: commit) or the
 * refusal.  DONE does not resume the session; smtpd_milter.c does.
 */
int	smtpd_milter_message(SMTPD_STATE *state,
			             void (*done) (SMTPD_STATE *, const char *));

/* smtpd_anvil.c */
/* smtpd_anvil_connect - 1: START runs when anvil allows the client
 * (else the session gets 421 and ends); 0: not counted, go on now */
int	smtpd_anvil_connect(SMTPD_STATE *state, void (*start) (SMTPD_STATE *));
/* smtpd_anvil_command - 1: command INDEX waits for anvil (the session
 * reads nothing meanwhile); 0: run it now */
int	smtpd_anvil_command(SMTPD_STATE *state, int index, const char *args);
void	smtpd_anvil_disconnect(SMTPD_STATE *state);
#define SMTPD_CMD_DATA		6	/* index of DATA in the command table */
#define SMTPD_CMD_BDAT		7	/* ... and of BDAT */
#define SMTPD_CMD_UNKNOWN	(SMTPD_CMD_COUNT - 1)

/* smtpd_queue.c */
/* smtpd_data_begin - 0: replied 354, mode DATA; -1: replied an error */
int	smtpd_data_begin(SMTPD_STATE *state);
/* smtpd_data_input - consume message content; returns bytes used */
size_t	smtpd_data_input(SMTPD_STATE *state, const char *buf, size_t len);
void	smtpd_data_abort(SMTPD_STATE *state);
/* smtpd_queue_busy - queue-file commits still in flight (MAIL_SERVER_OPS busy) */
int	smtpd_queue_busy(void);

/* smtpd_spare.c: queue files made ahead of need, off the event loop */
QFILE  *smtpd_spare_take(void);		/* NULL: none ready */
void	smtpd_spare_refill(void);
int	smtpd_spare_busy(void);
void	smtpd_spare_drop(void);		/* MAIL_SERVER_OPS pre_exit */
void	smtpd_spare_sigterm(void);		/* MAIL_SERVER_OPS sigterm */

/* smtpd_queue_detach - the session ends while its queue file is being
 * committed: the commit finishes without it */
void	smtpd_queue_detach(SMTPD_STATE *state);

/* smtpd_queue_rewrite - write the queue file again with the
 * transaction's envelope and CONTENT (after filter edits); 0 or -1 */
int	smtpd_queue_rewrite(SMTPD_STATE *state, const char *content, size_t len);
/* smtpd_bdat_begin - the first chunk: queue file; 0, or -1 (replied) */
int	smtpd_bdat_begin(SMTPD_STATE *state);
/* smtpd_bdat_content - LEN bytes of a chunk */
void	smtpd_bdat_content(SMTPD_STATE *state, const char *buf, size_t len);
/* smtpd_bdat_end - after the LAST chunk: commit or refuse, and reply */
void	smtpd_bdat_end(SMTPD_STATE *state);

/* smtpd_bdat.c */
int	smtpd_bdat_cmd(SMTPD_STATE *state, char *args);
/* smtpd_bdat_input - chunk bytes in SMTPD_MODE_BDAT; returns bytes used */
size_t	smtpd_bdat_input(SMTPD_STATE *state, const char *buf, size_t len);

/* smtpd_check.c */
void	smtpd_check_init(void);
/*
 * smtpd_check_rcpt - NULL if ok, else the full reply text for RCPT.  When
 * ok and EXPANDED is not NULL, the recipients to queue (virtual aliases
 * expanded; RCPT itself when it has none) are appended to EXPANDED.
 */
const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt,
			             RESOLVE_ADDRS *expanded, VSTRING *reply);
int	smtpd_mynetworks_match(const char *list, const char *addr);
void	smtpd_qualify(VSTRING *addr);

/* smtpd_tls.c */
void	smtpd_tls_pre_init(void);		/* as root: certificate and key */
void	smtpd_tls_ehlo(SMTPD_STATE *state);	/* "250-STARTTLS" when offered */
int	smtpd_tls_cmd(SMTPD_STATE *state, char *args);	/* STARTTLS */
/* smtpd_tls_required - 1 (and replied 530) when TLS is required but off;
 * smtpd_command() asks before every command except HELO EHLO STARTTLS NOOP QUIT */
int	smtpd_tls_required(SMTPD_STATE *state);
void	smtpd_tls_free(SMTPD_STATE *state);
/* smtpd_tls_params - 1 and the session's protocol, cipher and bits when
 * TLS is on, else 0 */
int	smtpd_tls_params(SMTPD_STATE *state, const char **protocol,
			         const char **cipher, int *bits);
/* smtpd_tls_info - "TLSv1.3 with cipher X (256/256 bits)" or NULL */
const char *smtpd_tls_info(SMTPD_STATE *state, VSTRING *buf);
/*
 * TLS I/O for smtpd.c.  Phases: STARTING (the 220 reply still goes out in
 * plaintext; input after STARTTLS is discarded), HANDSHAKE, ON.
 * smtpd_tls_wrapper: at connect, 1 when smtps starts TLS before the
 * greeting, 0 not, -1 TLS impossible (logged: close).  smtpd_tls_handshake:
 * 2 done (smtps: greet now), 1 done (after STARTTLS), 0 wait, -1 failed
 * (logged).  smtpd_tls_read/write work as read()/write() but return -1
 * with errno EAGAIN while TLS waits; smtpd_tls_events turns the wished-for
 * read/write interest into what TLS needs.  smtpd_tls_pending: decrypted
 * bytes that no socket event will announce.
 */
#define SMTPD_TLS_OFF		0
#define SMTPD_TLS_STARTING	1
#define SMTPD_TLS_HANDSHAKE	2
#define SMTPD_TLS_ON		3
int	smtpd_tls_phase(SMTPD_STATE *state);
int	smtpd_tls_wrapper(SMTPD_STATE *state);
int	smtpd_tls_handshake(SMTPD_STATE *state);
ssize_t	smtpd_tls_read(SMTPD_STATE *state, char *buf, size_t len);
ssize_t	smtpd_tls_write(SMTPD_STATE *state, const char *buf, size_t len);
void	smtpd_tls_events(SMTPD_STATE *state, int *want_read, int *want_write);
size_t	smtpd_tls_pending(SMTPD_STATE *state);

/* smtpd_sasl.c */
void	smtpd_sasl_pre_init(void);		/* as root */
void	smtpd_sasl_ehlo(SMTPD_STATE *state);	/* "250-AUTH ..." when offered */
int	smtpd_sasl_cmd(SMTPD_STATE *state, char *args);	/* AUTH */
/* smtpd_sasl_input - one client response line in SMTPD_MODE_AUTH */
void	smtpd_sasl_input(SMTPD_STATE *state, char *line);
void	smtpd_sasl_free(SMTPD_STATE *state);
/* smtpd_sasl_too_long - an AUTH response over the limit: 500 5.5.6, end it */
void	smtpd_sasl_too_long(SMTPD_STATE *state);

/*
 * smtpd_restrict.c - each returns 0 to go on, or -1 with a complete reply
 * ("554 5.7.1 <a@b>: Relay access denied") in REPLY; the caller logs the
 * reject and answers.  HOLD and DISCARD results set state->hold_reason /
 * discard_reason and return 0.
 */
void	smtpd_restrict_init(void);		/* pre_init: lists, tables */
int	smtpd_restrict_connect(SMTPD_STATE *state, VSTRING *reply);
int	smtpd_restrict_helo(SMTPD_STATE *state, const char *helo, VSTRING *reply);
int	smtpd_restrict_mail(SMTPD_STATE *state, const char *sender, VSTRING *reply);
int	smtpd_restrict_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply);
int	smtpd_restrict_data(SMTPD_STATE *state, VSTRING *reply);
void	smtpd_restrict_free(SMTPD_STATE *state);

/* smtpd_reply.c */
void	smtpd_reply(SMTPD_STATE *state, const char *fmt,...) PRINTFLIKE(2, 3);
void	smtpd_reply_raw(SMTPD_STATE *state, const char *text);
/* smtpd_reject_log - the "NOQUEUE: reject:" line */
void	smtpd_reject_log(SMTPD_STATE *state, const char *cmd, const char *reply,
			         const char *rcpt);
/* smtpd_action_log - "ID: ACTION: CMD from host[addr]: TEXT; from=<>
 * to=<> proto=ESMTP helo=<>" (ID: the queue id, or NOQUEUE) */
void	smtpd_action_log(SMTPD_STATE *state, const char *action, const char *cmd,
			         const char *text, const char *rcpt);
/* smtpd_error - count a protocol error; 1 when the session must end */
int	smtpd_error(SMTPD_STATE *state);

#endif
