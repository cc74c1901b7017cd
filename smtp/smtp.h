/*
 * smtp.h - the SMTP client delivery agent (libexec/smtp), shared parts.
 *
 * The same program is the LMTP client (RFC 2033), as Postfix's smtp(8) is
 * its lmtp(8): run as the master.cf service "lmtp" (or under the program
 * name lmtp) it sets smtp_conf.lmtp and reads the lmtp_* parameters;
 * next hops are unix:PATH or [inet:]host[:port] (port 24, no MX
 * lookups), LHLO replaces EHLO, and the end of data gets one reply per
 * accepted recipient.  Everything else is the one code path.
 *
 * The agent is split as Postfix's smtp(8) is:
 *   smtp.c          main(), one delivery request, per-recipient results
 *   smtp_addr.c     the next-hop destination -> an ordered list of MX
 *                   hosts and their addresses (lib/dns/dns.h)
 *   smtp_session.c  one connection: connect with a timeout, bounded reply
 *                   reading (multi-line replies), writes with timeouts,
 *                   STARTTLS (lib/tls/tls.h)
 *   smtp_proto.c    the dialogue: greeting, EHLO/HELO, STARTTLS, AUTH,
 *                   MAIL, RCPT, DATA, QUIT; per-recipient outcomes
 *   smtp_sasl.c     AUTH with smtp_sasl_password_maps (lib/sasl/xsasl.h)
 *   smtp_cache.c    the per-process connection cache: sessions kept open
 *                   after a clean delivery, found again by next-hop
 *                   destination or by server address, QUIT when idle
 * The session and dialogue code know nothing about queue files: the
 * caller hands in the envelope and a content callback, so other programs
 * can reuse them.
 */
#ifndef SMTP_H
#define SMTP_H

#include "sys_defs.h"
#include "vstring.h"
#include "tls.h"
#include "dict.h"

/* One host address to try, in order */
typedef struct SMTP_ADDR {
    char   *host;			/* host name ("127.0.0.1" for literals) */
    char   *addr;			/* printable IP address, or a UNIX path */
    int     port;			/* 0: ADDR is a UNIX-domain socket (LMTP) */
    int     pref;			/* MX preference (0: no MX) */
} SMTP_ADDR;

typedef struct SMTP_ADDR_LIST {
    SMTP_ADDR *addrs;
    int     count;
    int     size;
} SMTP_ADDR_LIST;

/* Lookup results: an address list, or a reason for all recipients */
#define SMTP_ADDR_OK	0
#define SMTP_ADDR_DEFER	4
#define SMTP_ADDR_BOUNCE 5

/*
 * smtp_addr_find - resolve DEST ("[host]:port", "host:port", "domain";
 * in LMTP mode also "unix:PATH" and "inet:host:port", never MX) into
 * LIST.  SMTP_ADDR_OK, or DEFER/BOUNCE with DSN and WHY set.
 */
int	smtp_addr_find(const char *dest, SMTP_ADDR_LIST *list, char *dsn,
		               size_t dsn_len, VSTRING *why);
void	smtp_addr_list_free(SMTP_ADDR_LIST *list);
/* smtp_addr_sort - sort by preference, shuffling equal preferences */
void	smtp_addr_sort(SMTP_ADDR *addrs, int count);

/* Server features from the EHLO reply */
#define SMTP_FEATURE_ESMTP	(1<<0)
#define SMTP_FEATURE_STARTTLS	(1<<1)
#define SMTP_FEATURE_AUTH	(1<<2)
#define SMTP_FEATURE_SIZE	(1<<3)
#define SMTP_FEATURE_DSN	(1<<4)
#define SMTP_FEATURE_PIPELINING	(1<<5)
#define SMTP_FEATURE_8BITMIME	(1<<6)
#define SMTP_FEATURE_SMTPUTF8	(1<<7)

/* One connection */
typedef struct SMTP_SESS {
    int     fd;
    TLS_SESS *tls;
    char   *host;
    char   *addr;
    int     port;
    char   *namaddr;			/* "host[addr]" */
    char   *relay;			/* "host[addr]:port" ("host[path]") for relay= */
    VSTRING *inbuf;			/* unread input */
    int     features;
    char   *auth_mechs;			/* from EHLO, or NULL */
    long    size_limit;			/* from EHLO SIZE, 0: none */
    int     lost;			/* the connection is unusable */
    int     timed_out;			/* ... because a timeout expired */
    int     tls_peer;			/* TLS_PEER_* after STARTTLS */
    const char *tls_level;		/* "Anonymous", "Untrusted", ... or NULL */
    /* Connection cache (smtp_cache.c) */
    time_t  start;			/* connected at */
    int     ready;			/* greeting, EHLO, TLS, AUTH are done */
    int     reuse_count;		/* times taken from the cache */
    int     reused;			/* this attempt runs on a cached session */
    int     stale;			/* ... which was lost before its first reply */
    int     in_trans;			/* MAIL sent, end of data not answered */
    int     best_mx;			/* the server has the lowest MX preference */
} SMTP_SESS;

/* One server reply */
typedef struct SMTP_RESP {
    int     code;			/* 250 */
    char    dsn[16];			/* "2.0.0", from the text or the code */
    VSTRING *text;			/* all lines, joined with spaces */
    VSTRING *lines;			/* the text of each line, '\n'-separated */
} SMTP_RESP;

/* smtp_addr_relay - "host[addr]:port" ("host[path]") of ADDR into BUF */
void	smtp_addr_relay(const SMTP_ADDR *addr, VSTRING *buf);

/* smtp_sess_connect - connect to ADDR; NULL with WHY ("connect to ...") */
SMTP_SESS *smtp_sess_connect(const SMTP_ADDR *addr, int timeout, VSTRING *why);
void	smtp_sess_free(SMTP_SESS *sess);

/* smtp_sess_alive - an idle SESS has no input, EOF or error pending */
int	smtp_sess_alive(SMTP_SESS *sess);

/* smtp_sess_write - send all of BUF; 0 or -1 (sess->lost, timed_out set) */
int	smtp_sess_write(SMTP_SESS *sess, const char *buf, size_t len, int timeout);

/* smtp_sess_reply - read one (multi-line) reply; 0 or -1 (sess->lost) */
int	smtp_sess_reply(SMTP_SESS *sess, SMTP_RESP *resp, int timeout);

/* smtp_sess_starttls - the TLS handshake; 0 or -1 with WHY */
int	smtp_sess_starttls(SMTP_SESS *sess, TLS_CTX *ctx, int timeout,
			           const char *match_name, VSTRING *why);

void	smtp_resp_init(SMTP_RESP *resp);
void	smtp_resp_free(SMTP_RESP *resp);

/* The envelope and content of one transaction */
typedef struct SMTP_RCPT {
    const char *address;
    const char *dsn_notify;		/* "" if none */
    const char *dsn_orcpt;		/* "" if none */
    int     status;			/* -1: open; DELIVER_STAT_* when final */
    char    dsn[16];
    VSTRING *reason;
    int     accepted;			/* RCPT got 2xx in this session */
    int     dsn_passed;			/* sent to a next hop that speaks DSN */
    int     site_fail;			/* deferred because the next hop failed */
} SMTP_RCPT;

/* Content source: call OUT for each chunk of raw (LF) message text */
typedef int (*SMTP_CONTENT_FN) (void *ctx,
				        int (*out) (const char *, size_t, void *),
				        void *out_ctx);

typedef struct SMTP_TRANS {
    const char *sender;
    const char *dsn_envid;
    const char *dsn_ret;
    int     smtputf8;			/* an address needs SMTPUTF8 */
    long    size;
    SMTP_RCPT *rcpts;
    int     rcpt_count;
    SMTP_CONTENT_FN content;
    void   *content_ctx;
    VSTRING *content_why;		/* why the content could not be read */
    const char *nexthop;		/* for password lookups and cert match */
    int     mesg_fail;			/* set by smtp_proto_deliver(): its
					 * SMTP_TRY_NEXT refused this message
					 * (4xx to MAIL FROM), not the server */
} SMTP_TRANS;

/* Per-process settings, read once */
typedef struct SMTP_CONF {
    int     lmtp;			/* LMTP mode (RFC 2033) */
    int     tcp_port;			/* default port: 25, or lmtp_tcp_port */
    int     assume_final;		/* lmtp_assume_final: "delivered" DSN */
    const char *helo_name;		/* EHLO or LHLO name */
    int     connect_timeout;		/* 0: no limit (Postfix's lmtp default) */
    int     helo_timeout, starttls_timeout, mail_timeout;
    int     rcpt_timeout, data_init_timeout, data_xfer_timeout;
    int     data_done_timeout, quit_timeout;
    const char *tls_level;		/* none, may, encrypt, verify, secure */
    TLS_CTX *tls_ctx;			/* NULL: no TLS engine */
    int     tls_loglevel;
    int     sasl_enable;
    MAPS   *sasl_passwd;
    const char *sasl_options;
    const char *sasl_tls_options;
    int     skip_5xx_greeting;
    int     cache_on_demand;		/* *_connection_cache_on_demand */
    const char *cache_dests;		/* *_connection_cache_destinations */
    int     cache_time_limit;		/* *_connection_cache_time_limit */
    int     reuse_time_limit;		/* *_connection_reuse_time_limit */
    int     reuse_count_limit;		/* *_connection_reuse_count_limit (0: none) */
} SMTP_CONF;

extern SMTP_CONF smtp_conf;

/* Results of one session */
#define SMTP_TRY_NEXT	1		/* try the next address */
#define SMTP_TRY_DONE	0		/* every recipient has its outcome */
#define SMTP_TRY_RETRY_PLAIN 2		/* "may": TLS failed, retry in plaintext */

/*
 * smtp_proto_deliver - one transaction over SESS (a cached SESS, whose
 * sess->ready is set, goes straight to MAIL FROM).  Recipients get a final
 * status (sent/defer/bounce) or stay open with the reason in WHY when the
 * result is SMTP_TRY_NEXT: a failure of the server (lost connection,
 * timeout, greeting, HELO, TLS, AUTH), or of this message when
 * trans->mesg_fail is set.  USE_TLS 0 suppresses STARTTLS (retry).  No
 * QUIT is sent: the caller caches the session or calls smtp_proto_quit().
 * sess->stale: a cached session was lost before the server answered
 * anything (the peer closed it while idle): try a new connection.
 */
int	smtp_proto_deliver(SMTP_SESS *sess, SMTP_TRANS *trans, int use_tls,
			           char *dsn, VSTRING *why);

/* smtp_proto_quit - QUIT (unless SESS is lost) within TIMEOUT; errors ignored */
void	smtp_proto_quit(SMTP_SESS *sess, int timeout);

/*
 * smtp_proto_reusable - may SESS go back to the cache after a delivery
 * that returned RESULT?  A transaction left open (MAIL accepted, no end of
 * data) is ended with RSET first; 1 when the session is clean.
 */
int	smtp_proto_reusable(SMTP_SESS *sess, int result);

/*
 * Connection cache (smtp_cache.c), per process.  Sessions are found by
 * next-hop destination (only one to the best MX host is kept under it)
 * or by server ("host[addr]:port"), both under the same security policy
 * (TLS level and SASL credentials, smtp_sasl_cred_key()).  A session is
 * taken out while it is used and stored again after a clean delivery.
 */
SMTP_SESS *smtp_cache_find_dest(const char *dest);
SMTP_SESS *smtp_cache_find_addr(const SMTP_ADDR *addr, const char *dest);
/* smtp_cache_store - keep SESS, used for DEST, when its limits allow;
 * else QUIT and free it */
void	smtp_cache_store(SMTP_SESS *sess, const char *dest);
/* smtp_cache_wanted - does the request ask to keep sessions to DEST? */
int	smtp_cache_wanted(const char *dest, int conn_store);
/* smtp_cache_wait_ms - until the first idle session expires; -1: none */
int	smtp_cache_wait_ms(void);
/* smtp_cache_expire - QUIT the idle sessions past their time */
void	smtp_cache_expire(void);
/* smtp_cache_close_all - QUIT every cached session (process exit) */
void	smtp_cache_close_all(void);

/* smtp_sasl_authenticate - AUTH if configured; 0 ok/none, -1 (DSN, WHY) */
int	smtp_sasl_authenticate(SMTP_SESS *sess, SMTP_TRANS *trans, char *dsn,
			               VSTRING *why);

/* smtp_sasl_cred_key - the credentials AUTH would use with HOST for NEXTHOP
 * appended to KEY (nothing without AUTH), for cache keys; never logged */
void	smtp_sasl_cred_key(const char *host, const char *nexthop, VSTRING *key);

/* smtp_reply_dsn - the enhanced status in TEXT, or one from CODE */
void	smtp_reply_dsn(int code, const char *text, char *dsn, size_t len);

#endif
