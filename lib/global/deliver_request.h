/*
 * deliver_request.h - the delivery request protocol, both sides.
 *
 * qmgr (client) sends one DELIVER_REQUEST per connection to a delivery
 * agent (private/local, later private/smtp) and reads one DELIVER_REPLY per
 * recipient, in order.  The agent (server) reads the request with
 * deliver_request_get() and answers each recipient with deliver_reply_put().
 * The wire format is the attribute list of mail_proto.h (attr.h), plus the
 * time stamps an agent needs for Postfix's "delays=a/b/c/d" log field.
 *
 * A deferral may say that the next hop failed as a whole (connection
 * refused, timeout, lost connection, a refusing greeting), not just this
 * recipient or message: deliver_reply_put_flags() with
 * DELIVER_REPLY_SITE_FAIL, DELIVER_REPLY.site_fail on qmgr's side, which
 * then suspends deliveries to that destination for a while (Postfix's
 * "hop status" in the agent's final reply, qmgr_queue_throttle()).
 *
 * The request's flags carry qmgr's hints to the agent: DELIVER_FLAG_CONN_STORE
 * asks for the connection to be kept for more mail to the destination.
 *
 * Also here, because qmgr and every agent need them the same way:
 * deliver_log() writes Postfix's "ID: to=<...>, relay=..., delay=...,
 * delays=..., dsn=..., status=... (reason)" line.  The agents' domain
 * classes (deliver_domain_class) are in lib/tables/resolve.h.
 */
#ifndef DELIVER_REQUEST_H
#define DELIVER_REQUEST_H

#include "sys_defs.h"
#include <sys/time.h>
#include "vstream.h"
#include "vstring.h"

/* Most recipients in one request (the attribute list has a fixed bound) */
#define DELIVER_MAX_RCPT	64

/* Time stamps of one delivery attempt, for the delays= log field */
typedef struct DELIVER_STATS {
    struct timeval arrival;		/* message arrived (queue file T record) */
    struct timeval active;		/* qmgr moved it into active/ (0: not yet) */
    struct timeval handoff;		/* qmgr handed it to the agent (0: not yet) */
} DELIVER_STATS;

typedef struct DELIVER_RCPT {
    char   *address;			/* recipient */
    char   *orig;			/* original recipient, "" if none */
    long    offset;			/* offset of its R record in the queue file */
    char   *dsn_notify;			/* RFC 3461 NOTIFY, "" if none */
    char   *dsn_orcpt;			/* RFC 3461 ORCPT, "" if none */
} DELIVER_RCPT;

typedef struct DELIVER_REQUEST {
    char   *queue_name;			/* "active" */
    char   *queue_id;
    long    content_offset;		/* QENV content_offset */
    long    content_size;		/* QENV content_size */
    char   *sender;			/* "" for <> */
    char   *nexthop;			/* transport nexthop ("[host]:port", domain), "" if none */
    char   *dsn_envid;			/* RFC 3461 ENVID, "" if none */
    char   *dsn_ret;			/* RFC 3461 RET (FULL/HDRS), "" if none */
    int     smtputf8;			/* the client said SMTPUTF8 (RFC 6531) */
    int     passed;			/* handed on by another agent (local's
					 * mailbox_transport, Postfix's
					 * deliver_pass): that agent checks and
					 * marks the recipient records, this one
					 * touches none */
    int     flags;			/* DELIVER_FLAG_* */
    DELIVER_STATS stats;
    int     rcpt_count;
    DELIVER_RCPT *rcpts;
} DELIVER_REQUEST;

/*
 * Request flags.  CONN_STORE (Postfix's DEL_REQ_FLAG_CONN_STORE): more
 * mail for this destination is waiting in qmgr, so an agent with a
 * connection cache (smtp, lmtp) keeps its session open afterwards.
 */
#define DELIVER_FLAG_CONN_STORE	(1<<0)

typedef struct DELIVER_REPLY {
    int     status;			/* DELIVER_STAT_OK/DEFER/BOUNCE */
    char   *dsn;			/* "2.0.0" */
    char   *reason;			/* human readable text */
    char   *action;			/* sent: "delivered" (final delivery)
					 * or "relayed" (to a next hop that
					 * does not speak DSN), for NOTIFY=
					 * SUCCESS notices; NULL: none due */
    int     site_fail;			/* DEFER: the next hop as a whole
					 * failed (the reason is the site's) */
} DELIVER_REPLY;

/* Client side (qmgr) */

/* deliver_request_put - send REQ and flush; 0 or -1 (stream error) */
int	deliver_request_put(VSTREAM *stream, const DELIVER_REQUEST *req);
/* deliver_reply_get - read one reply; 0 or -1 (EOF, error, bad syntax) */
int	deliver_reply_get(VSTREAM *stream, DELIVER_REPLY *reply);
void	deliver_reply_free(DELIVER_REPLY *reply);

/* Server side (delivery agents) */

/* deliver_request_get - read and check one request; 0, or -1 with WHY */
int	deliver_request_get(VSTREAM *stream, DELIVER_REQUEST *req, VSTRING *why);
void	deliver_request_free(DELIVER_REQUEST *req);
/* deliver_reply_put - answer one recipient and flush; 0 or -1 (ACTION:
 * see DELIVER_REPLY, NULL for none) */
int	deliver_reply_put(VSTREAM *stream, int status, const char *dsn,
			          const char *reason, const char *action);

/* deliver_reply_put_flags - the same with FLAGS (DELIVER_REPLY_*) */
#define DELIVER_REPLY_SITE_FAIL	(1<<0)	/* DEFER: the whole next hop failed */
int	deliver_reply_put_flags(VSTREAM *stream, int status, const char *dsn,
			                const char *reason, const char *action,
			                int flags);

/*
 * deliver_log - log one recipient's status in Postfix's shape.  ORIG is
 * shown as orig_to=<> when it is set and differs from RCPT.  STATUS is
 * "sent", "deferred" or "bounced"; the reason is formatted from FMT.
 */
void	deliver_log(const char *id, const DELIVER_STATS *stats,
		            const char *rcpt, const char *orig,
		            const char *relay, const char *dsn,
		            const char *status, const char *fmt,...) PRINTFLIKE(8, 9);

/* deliver_format_delay - append SEC.USEC with Postfix's rounding ("0.14") */
void	deliver_format_delay(VSTRING *buf, long sec, long usec);


#endif
