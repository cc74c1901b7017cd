/*
 * smtp.c - the SMTP/LMTP client delivery agent: main() and one delivery
 * request.
 *
 * Runs under single_server_main on private/smtp (and private/relay) as
 * mail_owner.  qmgr sends one request per connection
 * (lib/global/deliver_request.h) whose recipients share one next hop.  The
 * destination is the request's nexthop ("[host]:port", "host:port",
 * "domain"), else relayhost, else the recipients' domain; smtp_addr.c
 * turns it into addresses and each is tried in order until one settles
 * every recipient (smtp_proto.c).  Then, for each recipient: a delivered
 * or bounced one is marked done in the queue file (R -> D, not fsynced) before
 * its status is logged ("status=sent (250 2.0.0 Ok: queued as X)") and
 * replied to qmgr, which makes the bounce message from the reason.
 * Recipients deferred because the next hop failed as a whole (no address
 * answered, lost connection, timeout, a refusing greeting or HELO, TLS or
 * AUTH failure, a failed lookup; not a 4xx to MAIL FROM or RCPT TO) are
 * replied with DELIVER_REPLY_SITE_FAIL, so qmgr can suspend deliveries to
 * that destination (qmgr/qmgr_queue.c), as Postfix's smtp_sess_fail().
 *
 * Connection cache (smtp_cache.c), as Postfix's: a session that ended
 * clean is kept open instead of QUIT when the request says more mail for
 * the destination waits (DELIVER_FLAG_CONN_STORE, honoured with
 * smtp_connection_cache_on_demand) or the destination is listed in
 * smtp_connection_cache_destinations.  A request first looks for a
 * session cached for its destination (no address lookup then), then for
 * each address for one cached for that server; a cached session that the
 * server closed in the meantime is replaced by a new connection without
 * a deferral.  While the process waits for requests, the server
 * skeleton's idle hooks close sessions idle for
 * smtp_connection_cache_time_limit with QUIT, and so does pre_exit for
 * all of them (max_idle, max_use, reload).
 *
 * LMTP mode, as Postfix's lmtp(8): the service name "lmtp" (master.cf
 * "lmtp unix - - n - - smtp") or the program name lmtp.  Then the lmtp_*
 * parameters below replace their smtp_* twins, the process logs as
 * "lmtp", relayhost is not used, next hops are "unix:PATH" or
 * "inet:host:port" (smtp_addr.c), and STARTTLS and AUTH are off (Posthorn
 * has no lmtp_tls_* or lmtp_sasl_* parameters).  A request that local
 * passed on (mailbox_transport: req->passed) has recipients that local
 * marks done, so their records are neither checked nor marked here.
 *
 * Parameters: relayhost, smtp_helo_name, smtp_*_timeout,
 * smtp_skip_5xx_greeting, smtp_tls_security_level, smtp_tls_CAfile,
 * smtp_tls_CApath, smtp_tls_cert_file, smtp_tls_key_file,
 * smtp_tls_protocols, smtp_tls_mandatory_protocols, smtp_tls_ciphers,
 * smtp_tls_mandatory_ciphers, smtp_tls_exclude_ciphers, smtp_tls_loglevel,
 * smtp_sasl_auth_enable, smtp_sasl_password_maps,
 * smtp_sasl_security_options, smtp_sasl_tls_security_options,
 * smtp_sasl_mechanism_filter, ipc_timeout, smtp_connection_cache_on_demand,
 * smtp_connection_cache_destinations, smtp_connection_cache_time_limit,
 * smtp_connection_reuse_time_limit, smtp_connection_reuse_count_limit;
 * in LMTP mode lmtp_lhlo_name,
 * lmtp_lhlo_timeout, lmtp_connect_timeout, lmtp_mail_timeout,
 * lmtp_rcpt_timeout, lmtp_data_init_timeout, lmtp_data_xfer_timeout,
 * lmtp_data_done_timeout, lmtp_quit_timeout, lmtp_skip_5xx_greeting,
 * lmtp_tcp_port, lmtp_assume_final and the lmtp_connection_* twins of
 * the cache parameters.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <netdb.h>
#include <strings.h>
#include <arpa/inet.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "record.h"
#include "qfile.h"
#include "dict.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_proto.h"
#include "mail_server.h"
#include "address.h"
#include "deliver_request.h"
#include "xsasl.h"
#include "smtp.h"

SMTP_CONF smtp_conf;

/* One request in progress */
typedef struct SMTP_STATE {
    DELIVER_REQUEST *req;
    VSTREAM *qfile;
    QENV    env;			/* content_offset/size for reading */
    SMTP_RCPT *rcpts;
    VSTRING **relays;			/* relay= per recipient */
    VSTRING *why;			/* content read errors */
} SMTP_STATE;

/* smtp_settle_rcpt - give recipient R an outcome if it has none yet */
static void smtp_settle_rcpt(SMTP_RCPT *r, int status, const char *dsn,
			             const char *reason)
{
    if (r->status >= 0)
	return;
    r->status = status;
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
    vstring_strcpy(r->reason, reason);
}

/* smtp_check_rcpt - is the record at the recipient's offset still R? */
static void smtp_check_rcpt(SMTP_STATE *state, int i)
{
    const DELIVER_RCPT *rcpt = state->req->rcpts + i;
    VSTRING *buf;
    int     type = REC_TYPE_ERROR;

    if (state->req->passed)			/* local's (mailbox_transport) */
	return;
    buf = vstring_alloc(100);
    if (vstream_seek(state->qfile, (off_t) rcpt->offset) == 0)
	type = rec_get(state->qfile, buf, 100000);
    if (type == REC_TYPE_DONE && strcmp(STR(buf), rcpt->address) == 0) {
	smtp_settle_rcpt(state->rcpts + i, DELIVER_STAT_OK, "2.0.0",
			 "already delivered");
    } else if (type != REC_TYPE_RCPT || strcmp(STR(buf), rcpt->address) != 0) {
	vstring_sprintf(buf, "queue file has no recipient record for <%s> at offset %ld",
			rcpt->address, rcpt->offset);
	smtp_settle_rcpt(state->rcpts + i, DELIVER_STAT_DEFER, "4.3.0", STR(buf));
    }
    vstring_free(buf);
}

/* smtp_content - SMTP_CONTENT_FN over the queue file */
static int smtp_content(void *ctx, int (*out) (const char *, size_t, void *),
			        void *out_ctx)
{
    SMTP_STATE *state = ctx;
    int     ret;

    ret = qfile_read_content(state->qfile, &state->env, out, out_ctx, state->why);
    if (ret < 0 && LEN(state->why) > 0)
	msg_warn("%s: %s", state->req->queue_id, STR(state->why));
    return (ret);
}

/* smtp_destination - nexthop, else relayhost, else the recipient domain */
static const char *smtp_destination(DELIVER_REQUEST *req)
{
    const char *at;

    if (*req->nexthop)
	return (req->nexthop);
    if (!smtp_conf.lmtp && *conf_str("relayhost"))
	return (conf_str("relayhost"));
    if (req->rcpt_count > 0 && (at = strrchr(req->rcpts[0].address, '@')) != 0)
	return (at + 1);
    return ("");
}

/* smtp_record_relays - recipients settled since SNAPSHOT came from RELAY */
static void smtp_record_relays(SMTP_STATE *state, const int *snapshot,
			               const char *relay)
{
    for (int i = 0; i < state->req->rcpt_count; i++)
	if (snapshot[i] < 0 && state->rcpts[i].status >= 0)
	    vstring_strcpy(state->relays[i], relay);
}

/*
 * smtp_settle_rest - defer the recipients no server settled, from RELAY;
 * SITE: the last failure was the next hop's (connection level), which
 * qmgr counts against the destination (Postfix's smtp_sess_fail()).
 */
static void smtp_settle_rest(SMTP_STATE *state, const char *relay,
			             const char *dsn, const char *why, int site)
{
    for (int i = 0; i < state->req->rcpt_count; i++) {
	SMTP_RCPT *r = state->rcpts + i;

	if (r->status >= 0)
	    continue;
	vstring_strcpy(state->relays[i], relay);
	smtp_settle_rcpt(r, DELIVER_STAT_DEFER, dsn, why);
	r->site_fail = site;
    }
}

/* One delivery's attempts: the last failure, for the unsettled recipients */
typedef struct SMTP_TRY {
    const char *dest;			/* next-hop destination */
    VSTRING *why;			/* the last failure */
    VSTRING *last_relay;		/* where it happened ("none") */
    char    dsn[16];
    int     site;			/* ... and it was the server's */
    int    *snapshot;			/* recipient statuses before an attempt */
} SMTP_TRY;

#define SMTP_TRY_STALE	(-1)		/* a cached session was gone: again */

/* smtp_sess_end - keep SESS for the next request when wanted and clean, else QUIT */
static void smtp_sess_end(SMTP_STATE *state, SMTP_SESS *sess, int ret,
			          const char *dest)
{
    int     store = (state->req->flags & DELIVER_FLAG_CONN_STORE) != 0;

    if (smtp_cache_wanted(dest, store) && smtp_proto_reusable(sess, ret)) {
	smtp_cache_store(sess, dest);
    } else {
	smtp_proto_quit(sess, smtp_conf.quit_timeout);
	smtp_sess_free(sess);
    }
}

/*
 * smtp_try_sess - one transaction over SESS (new or cached), which it
 * ends; SMTP_TRY_STALE when a cached SESS turned out to be closed (no
 * recipient was touched: try again over a new connection, as Postfix)
 */
static int smtp_try_sess(SMTP_STATE *state, SMTP_TRANS *trans, SMTP_TRY *try,
			         SMTP_SESS *sess, int use_tls)
{
    int     ret;

    for (int j = 0; j < state->req->rcpt_count; j++)
	try->snapshot[j] = state->rcpts[j].status;
    ret = smtp_proto_deliver(sess, trans, use_tls, try->dsn, try->why);
    if (sess->stale) {
	if (msg_verbose)
	    msg_info("%s: cached session: %s", state->req->queue_id, STR(try->why));
	vstring_reset(try->why);
	smtp_sess_free(sess);
	return (SMTP_TRY_STALE);
    }
    try->site = (ret != SMTP_TRY_DONE && !trans->mesg_fail);
    smtp_record_relays(state, try->snapshot, sess->relay);
    vstring_strcpy(try->last_relay, sess->relay);
    smtp_sess_end(state, sess, ret, try->dest);
    return (ret);
}

/* smtp_try_addr - deliver via ADDR (BEST: a best MX host); the result */
static int smtp_try_addr(SMTP_STATE *state, SMTP_TRANS *trans, SMTP_TRY *try,
			         const SMTP_ADDR *addr, int best)
{
    int     use_tls = 1, ret;
    SMTP_SESS *sess;

    for (;;) {
	if ((sess = smtp_cache_find_addr(addr, try->dest)) == 0
	    && (sess = smtp_sess_connect(addr, smtp_conf.connect_timeout,
					 try->why)) == 0) {
	    snprintf(try->dsn, sizeof(try->dsn), "4.4.1");
	    vstring_strcpy(try->last_relay, "none");
	    msg_info("%s: %s", state->req->queue_id, STR(try->why));
	    try->site = 1;
	    return (SMTP_TRY_NEXT);
	}
	sess->best_mx = best;
	if ((ret = smtp_try_sess(state, trans, try, sess, use_tls)) == SMTP_TRY_STALE)
	    continue;
	if (ret != SMTP_TRY_RETRY_PLAIN || use_tls == 0)
	    return (ret);
	msg_info("%s: %s; retrying without TLS", state->req->queue_id, STR(try->why));
	use_tls = 0;
    }
}

/* smtp_try_addrs - try each address until every recipient is settled */
static void smtp_try_addrs(SMTP_STATE *state, SMTP_TRANS *trans, SMTP_TRY *try,
			           SMTP_ADDR_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
	int     best = (list->addrs[i].pref == list->addrs[0].pref);
	int     ret = smtp_try_addr(state, trans, try, list->addrs + i, best);

	if (ret == SMTP_TRY_DONE)
	    break;
	if (ret == SMTP_TRY_NEXT && i + 1 < list->count)
	    msg_info("%s: %s", state->req->queue_id, STR(try->why));
    }
}

/*
 * smtp_try_cached - a session cached for DEST (the best MX host) skips
 * the address lookup; 1 when it settled every recipient
 */
static int smtp_try_cached(SMTP_STATE *state, SMTP_TRANS *trans, SMTP_TRY *try)
{
    SMTP_SESS *sess;
    int     ret;

    while ((sess = smtp_cache_find_dest(try->dest)) != 0) {
	sess->best_mx = 1;
	if ((ret = smtp_try_sess(state, trans, try, sess, 1)) != SMTP_TRY_STALE)
	    return (ret == SMTP_TRY_DONE);
    }
    return (0);
}

/* smtp_needs_smtputf8 - the client said SMTPUTF8 and an address needs it
 * (a message whose addresses are ASCII goes to any server, as Postfix) */
static int smtp_needs_smtputf8(const DELIVER_REQUEST *req)
{
    if (!req->smtputf8)
	return (0);
    if (addr_is_8bit(req->sender))
	return (1);
    for (int i = 0; i < req->rcpt_count; i++)
	if (addr_is_8bit(req->rcpts[i].address))
	    return (1);
    return (0);
}

/* smtp_trans_init - the envelope and content of STATE's request */
static void smtp_trans_init(SMTP_STATE *state, SMTP_TRANS *trans, const char *dest)
{
    DELIVER_REQUEST *req = state->req;

    memset(trans, 0, sizeof(*trans));
    trans->sender = req->sender;
    trans->dsn_envid = req->dsn_envid;
    trans->dsn_ret = req->dsn_ret;
    trans->smtputf8 = smtp_needs_smtputf8(req);
    trans->size = req->content_size;
    trans->rcpts = state->rcpts;
    trans->rcpt_count = req->rcpt_count;
    trans->content = smtp_content;
    trans->content_ctx = state;
    trans->content_why = state->why;
    trans->nexthop = dest;
}

/*
 * smtp_deliver - a cached session for the destination, else its addresses
 * (each may have a cached session too); then defer what is left
 */
static void smtp_deliver(SMTP_STATE *state)
{
    DELIVER_REQUEST *req = state->req;
    SMTP_ADDR_LIST list;
    SMTP_TRANS trans;
    SMTP_TRY try;
    int     status;

    memset(&try, 0, sizeof(try));
    try.dest = smtp_destination(req);
    try.why = vstring_alloc(100);
    try.last_relay = vstring_alloc(100);
    try.snapshot = mymalloc(sizeof(int) * (req->rcpt_count + 1));
    try.site = 1;
    snprintf(try.dsn, sizeof(try.dsn), "4.4.1");
    vstring_strcpy(try.last_relay, "none");
    smtp_trans_init(state, &trans, try.dest);
    memset(&list, 0, sizeof(list));
    if (smtp_try_cached(state, &trans, &try)) {
	smtp_settle_rest(state, STR(try.last_relay), try.dsn, STR(try.why), try.site);
    } else if ((status = smtp_addr_find(try.dest, &list, try.dsn, sizeof(try.dsn),
					try.why)) == SMTP_ADDR_DEFER) {
	/* A lookup failure of the next hop: as Postfix, a site failure */
	smtp_settle_rest(state, "none", try.dsn, STR(try.why), 1);
    } else if (status != SMTP_ADDR_OK) {
	for (int i = 0; i < req->rcpt_count; i++)
	    smtp_settle_rcpt(state->rcpts + i, DELIVER_STAT_BOUNCE, try.dsn, STR(try.why));
    } else {
	smtp_try_addrs(state, &trans, &try, &list);
	if (LEN(try.why) == 0)
	    vstring_sprintf(try.why, "no route to %s", try.dest);
	smtp_settle_rest(state, STR(try.last_relay), try.dsn, STR(try.why), try.site);
    }
    smtp_addr_list_free(&list);
    myfree(try.snapshot);
    vstring_free(try.last_relay);
    vstring_free(try.why);
}

/*
 * smtp_dsn_action - the success a NOTIFY=SUCCESS notice reports: none when
 * a next hop that speaks DSN took NOTIFY (its notices, not ours);
 * "delivered" from an LMTP server with lmtp_assume_final; else "relayed".
 */
static const char *smtp_dsn_action(const SMTP_RCPT *r)
{
    if (r->status != DELIVER_STAT_OK || r->dsn_passed)
	return (0);
    return (smtp_conf.lmtp && smtp_conf.assume_final ? "delivered" : "relayed");
}

/* smtp_finish - mark done, log and reply for each recipient, in order */
static void smtp_finish(SMTP_STATE *state, VSTREAM *client)
{
    DELIVER_REQUEST *req = state->req;

    for (int i = 0; i < req->rcpt_count; i++) {
	SMTP_RCPT *r = state->rcpts + i;

	/* bounced recipients are marked by qmgr once the bounce log has them */
	if (r->status == DELIVER_STAT_OK && state->qfile
	    && !req->passed
	    && strcmp(STR(r->reason), "already delivered") != 0
	    && qfile_mark_done(vstream_fd(state->qfile), (off_t) req->rcpts[i].offset) < 0) {
	    r->status = DELIVER_STAT_DEFER;
	    snprintf(r->dsn, sizeof(r->dsn), "4.3.0");
	    vstring_sprintf(r->reason, "cannot update queue file %s: %s",
			    req->queue_id, strerror(errno));
	}
	deliver_log(req->queue_id, &req->stats, r->address, req->rcpts[i].orig,
		    LEN(state->relays[i]) ? STR(state->relays[i]) : "none", r->dsn,
		    r->status == DELIVER_STAT_OK ? "sent" :
		    r->status == DELIVER_STAT_BOUNCE ? "bounced" : "deferred",
		    "%s", STR(r->reason));
	if (deliver_reply_put_flags(client, r->status, r->dsn, STR(r->reason),
				    smtp_dsn_action(r), r->site_fail ?
				    DELIVER_REPLY_SITE_FAIL : 0) < 0) {
	    msg_warn("%s: lost connection with queue manager", req->queue_id);
	    break;
	}
    }
}

/* smtp_service - serve one delivery request */
static void smtp_service(VSTREAM *client, const char *service, char **argv)
{
    DELIVER_REQUEST req;
    SMTP_STATE state;
    VSTRING *why = vstring_alloc(100);
    int     n;

    vstream_set_timeout(client, conf_time("ipc_timeout"));
    if (deliver_request_get(client, &req, why) < 0) {
	msg_warn("bad delivery request: %s", STR(why));
	vstring_free(why);
	return;
    }
    memset(&state, 0, sizeof(state));
    state.req = &req;
    state.why = why;
    state.env.arrival = req.stats.arrival;
    state.env.sender = req.sender;
    state.env.content_offset = (off_t) req.content_offset;
    state.env.content_size = req.content_size;
    n = req.rcpt_count;
    state.rcpts = mycalloc((size_t) n + 1, sizeof(*state.rcpts));
    state.relays = mycalloc((size_t) n + 1, sizeof(*state.relays));
    for (int i = 0; i < n; i++) {
	state.rcpts[i].address = req.rcpts[i].address;
	state.rcpts[i].dsn_notify = req.rcpts[i].dsn_notify;
	state.rcpts[i].dsn_orcpt = req.rcpts[i].dsn_orcpt;
	state.rcpts[i].status = -1;
	state.rcpts[i].reason = vstring_alloc(100);
	state.relays[i] = vstring_alloc(50);
    }
    if ((state.qfile = mail_queue_open(req.queue_name, req.queue_id, O_RDWR)) == 0) {
	vstring_sprintf(why, "cannot open queue file %s/%s: %s",
			req.queue_name, req.queue_id, strerror(errno));
	for (int i = 0; i < n; i++)
	    smtp_settle_rcpt(state.rcpts + i, DELIVER_STAT_DEFER, "4.3.0", STR(why));
    } else {
	for (int i = 0; i < n; i++)
	    smtp_check_rcpt(&state, i);
	vstring_reset(why);
	smtp_deliver(&state);
    }
    smtp_finish(&state, client);
    if (state.qfile)
	vstream_close(state.qfile);
    for (int i = 0; i < n; i++) {
	vstring_free(state.rcpts[i].reason);
	vstring_free(state.relays[i]);
    }
    myfree(state.rcpts);
    myfree(state.relays);
    vstring_free(why);
    deliver_request_free(&req);
}

/*
 * smtp_tls_level - the level to work at.  DANE needs a DNSSEC-validating
 * resolver, which Posthorn does not use: "dane" works as "may", as
 * Postfix's does without one.  "dane-only" and "fingerprint" stay, and
 * smtp_proto.c defers every delivery under them: no server could be
 * authenticated the way they ask, and mail must not go out weaker.
 */
static const char *smtp_tls_level(const char *level)
{
    if (strcasecmp(level, "dane") == 0) {
	msg_warn("smtp_tls_security_level = dane: DANE needs a DNSSEC-validating"
		 " resolver, which this mail system does not use: using \"may\"");
	return ("may");
    }
    if (strcasecmp(level, "dane-only") == 0 || strcasecmp(level, "fingerprint") == 0)
	msg_warn("smtp_tls_security_level = %s is not supported: mail to"
		 " TLS destinations is deferred", level);
    return (level);
}

/* smtp_tls_init - the client TLS context, when a level may use TLS */
static void smtp_tls_init(void)
{
    TLS_CLIENT_PARAMS params;
    const char *level = smtp_conf.tls_level;
    int     mandatory = strcasecmp(level, "may") != 0;

    if (*level == 0 || strcasecmp(level, "none") == 0)
	return;
    memset(&params, 0, sizeof(params));
    params.CAfile = conf_str("smtp_tls_CAfile");
    params.CApath = conf_str("smtp_tls_CApath");
    params.cert_file = conf_str("smtp_tls_cert_file");
    params.key_file = conf_str("smtp_tls_key_file");
    params.protocols = conf_str(mandatory ? "smtp_tls_mandatory_protocols" :
				"smtp_tls_protocols");
    params.cipher_grade = conf_str(mandatory ? "smtp_tls_mandatory_ciphers" :
				   "smtp_tls_ciphers");
    params.exclude_ciphers = conf_str("smtp_tls_exclude_ciphers");
    smtp_conf.tls_ctx = tls_client_ctx(&params);
}

/* smtp_time - the timeout parameter NAME of this mode ("smtp_" or "lmtp_" NAME) */
static int smtp_time(const char *name)
{
    VSTRING *buf = vstring_alloc(40);
    int     value;

    vstring_sprintf(buf, "%s_%s", smtp_conf.lmtp ? "lmtp" : "smtp", name);
    value = conf_time(STR(buf));
    vstring_free(buf);
    return (value);
}

/* smtp_int - the integer parameter NAME of this mode ("smtp_" or "lmtp_" NAME) */
static int smtp_int(const char *name)
{
    VSTRING *buf = vstring_alloc(40);
    int     value;

    vstring_sprintf(buf, "%s_%s", smtp_conf.lmtp ? "lmtp" : "smtp", name);
    value = conf_int(STR(buf));
    vstring_free(buf);
    return (value);
}

/* smtp_lmtp_port - lmtp_tcp_port as a number (a name from /etc/services too) */
static int smtp_lmtp_port(void)
{
    const char *text = conf_str("lmtp_tcp_port");
    struct servent *se;
    char   *end;
    long    n = strtol(text, &end, 10);

    if (*text && *end == 0 && n > 0 && n < 65536)
	return ((int) n);
    if ((se = getservbyname(text, "tcp")) == 0)
	msg_fatal("bad lmtp_tcp_port value: %s", text);
    return (ntohs((unsigned short) se->s_port));
}

/* smtp_lmtp_init - LMTP mode: lmtp_* parameters, log as "lmtp", no TLS or AUTH */
static void smtp_lmtp_init(void)
{
    msg_init("lmtp", MSG_TO_SYSLOG);
    smtp_conf.tcp_port = smtp_lmtp_port();
    smtp_conf.helo_name = mystrdup(*conf_str("lmtp_lhlo_name") ?
				   conf_str("lmtp_lhlo_name") : conf_str("myhostname"));
    smtp_conf.helo_timeout = conf_time("lmtp_lhlo_timeout");
    smtp_conf.skip_5xx_greeting = conf_bool("lmtp_skip_5xx_greeting");
    smtp_conf.assume_final = conf_bool("lmtp_assume_final");
    smtp_conf.tls_level = "none";
    smtp_conf.sasl_enable = 0;
}

/* smtp_smtp_init - SMTP mode: smtp_helo_name, TLS and AUTH settings */
static void smtp_smtp_init(void)
{
    const char *passwd = conf_str("smtp_sasl_password_maps");

    smtp_conf.tcp_port = 25;
    smtp_conf.helo_name = mystrdup(*conf_str("smtp_helo_name") ?
				   conf_str("smtp_helo_name") : conf_str("myhostname"));
    smtp_conf.helo_timeout = conf_time("smtp_helo_timeout");
    smtp_conf.starttls_timeout = conf_time("smtp_starttls_timeout");
    smtp_conf.skip_5xx_greeting = conf_bool("smtp_skip_5xx_greeting");
    smtp_conf.tls_level = mystrdup(smtp_tls_level(conf_str("smtp_tls_security_level")));
    smtp_conf.tls_loglevel = conf_int("smtp_tls_loglevel");
    smtp_conf.sasl_enable = conf_bool("smtp_sasl_auth_enable");
    smtp_conf.sasl_options = mystrdup(conf_str("smtp_sasl_security_options"));
    smtp_conf.sasl_tls_options = mystrdup(conf_str("smtp_sasl_tls_security_options"));
    if (smtp_conf.sasl_enable && *passwd) {
	smtp_conf.sasl_passwd = maps_create("smtp_sasl_password_maps", passwd,
					    DICT_FLAG_FOLD_KEY);
	(void) xsasl_client_init();
    }
    smtp_tls_init();
}

/* smtp_cache_init - the connection cache parameters of this mode */
static void smtp_cache_init(void)
{
    const char *prefix = smtp_conf.lmtp ? "lmtp" : "smtp";
    VSTRING *buf = vstring_alloc(60);

    vstring_sprintf(buf, "%s_connection_cache_on_demand", prefix);
    smtp_conf.cache_on_demand = conf_bool(STR(buf));
    vstring_sprintf(buf, "%s_connection_cache_destinations", prefix);
    smtp_conf.cache_dests = mystrdup(conf_str(STR(buf)));
    vstring_free(buf);
    smtp_conf.cache_time_limit = smtp_time("connection_cache_time_limit");
    smtp_conf.reuse_time_limit = smtp_time("connection_reuse_time_limit");
    smtp_conf.reuse_count_limit = smtp_int("connection_reuse_count_limit");
}

/* smtp_pre_init - read settings and open tables, as root */
static void smtp_pre_init(const char *service, char **argv)
{
    if (strcmp(service, "lmtp") == 0)
	smtp_conf.lmtp = 1;
    if (smtp_conf.lmtp)
	smtp_lmtp_init();
    else
	smtp_smtp_init();
    smtp_conf.connect_timeout = smtp_time("connect_timeout");
    smtp_conf.mail_timeout = smtp_time("mail_timeout");
    smtp_conf.rcpt_timeout = smtp_time("rcpt_timeout");
    smtp_conf.data_init_timeout = smtp_time("data_init_timeout");
    smtp_conf.data_xfer_timeout = smtp_time("data_xfer_timeout");
    smtp_conf.data_done_timeout = smtp_time("data_done_timeout");
    smtp_conf.quit_timeout = smtp_time("quit_timeout");
    smtp_cache_init();
    srandom((unsigned) (getpid() ^ time((time_t *) 0)));
}

/* smtp_pre_exit - no cached session is left without QUIT */
static void smtp_pre_exit(void)
{
    smtp_cache_close_all();
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {
	.pre_init = smtp_pre_init,
	.pre_exit = smtp_pre_exit,
	.changed = dict_changed_name,
	.idle_wait_ms = smtp_cache_wait_ms,
	.idle_timeout = smtp_cache_expire,
    };
    const char *slash = strrchr(argv[0], '/');

    /* Postfix's rule: the program name lmtp means LMTP (the service name too) */
    smtp_conf.lmtp = (strcmp(slash ? slash + 1 : argv[0], "lmtp") == 0);
    single_server_main(argc, argv, smtp_service, &ops);
}
