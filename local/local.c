/*
 * local.c - the local delivery agent: main() and one delivery request.
 *
 * Runs under single_server_main on private/local and keeps root
 * (master.cf unpriv=n, ops.keep_root) so that each delivery can run as
 * the mailbox owner.  qmgr sends one request per connection
 * (lib/global/deliver_request.h); local opens the queue file itself, and for each
 * recipient: checks that the recipient record is where the request says,
 * expands it (local_expand.c: Delivered-To loop check, aliases, .forward,
 * :include:, commands, files, forwarding) and delivers to every
 * destination, then - unless a destination deferred - marks the recipient
 * done in the queue file (R -> D, not fsynced: see qfile_mark_done), and only then logs each
 * destination ("status=sent", "bounced", "deferred") and replies with the
 * worst outcome.  A deferred recipient is retried whole: destinations
 * that were already delivered may get a duplicate then.
 *
 * Parameters: mydestination, virtual_mailbox_domains, recipient_delimiter,
 * home_mailbox, mail_spool_directory, virtual_mailbox_base,
 * virtual_mailbox_maps, virtual_uid_maps, virtual_gid_maps,
 * virtual_minimum_uid, ipc_timeout, passwd_file (via lib/global/user.c),
 * alias_maps, default_privs, forward_path, allow_mail_to_commands,
 * allow_mail_to_files, local_command_shell, command_time_limit, myorigin,
 * mailbox_transport, fallback_transport.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "record.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_proto.h"
#include "mail_server.h"
#include "dict.h"
#include "local.h"

#define LOCAL_RELAY	"local"

void    local_result(LOCAL_RESULT *result, int status, const char *dsn,
		             const char *fmt,...)
{
    va_list ap;

    result->status = status;
    result->dsn = dsn;
    vstring_reset(result->reason);
    va_start(ap, fmt);
    vstring_vsprintf_append(result->reason, fmt, ap);
    va_end(ap);
}

/*
 * local_check_rcpt - is the record at the recipient's offset its R record?
 * Returns 1 (yes), 0 (already done: D record), -1 (mismatch, RESULT set).
 */
static int local_check_rcpt(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
			            LOCAL_RESULT *result)
{
    VSTRING *buf = vstring_alloc(100);
    int     type = REC_TYPE_ERROR;
    int     ret = -1;

    if (vstream_seek(state->qfile, (off_t) rcpt->offset) == 0)
	type = rec_get(state->qfile, buf, 100000);
    if ((type == REC_TYPE_RCPT || type == REC_TYPE_DONE)
	&& strcmp(STR(buf), rcpt->address) == 0)
	ret = (type == REC_TYPE_RCPT);
    else
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "queue file has no recipient record for <%s> at offset %ld",
		     rcpt->address, rcpt->offset);
    vstring_free(buf);
    return (ret);
}

/* local_mark_done - R -> D; a failure turns RESULT into a deferral */

static int local_mark_done(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
			           LOCAL_RESULT *result)
{
    if (qfile_mark_done(vstream_fd(state->qfile), (off_t) rcpt->offset) < 0) {
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "cannot update queue file %s: %s",
		     state->req->queue_id, strerror(errno));
	return (-1);
    }
    return (0);
}

/* local_static_dsn - a copy of DSN that outlives the recipient's logs */

static const char *local_static_dsn(const char *dsn)
{
    static char buf[32];

    snprintf(buf, sizeof(buf), "%s", dsn);
    return (buf);
}

/* local_delivery_free - release what one recipient's delivery collected */

static void local_delivery_free(LOCAL_DELIVERY *d)
{
    for (int i = 0; i < d->log_count; i++) {
	myfree(d->logs[i].to);
	myfree(d->logs[i].dsn);
	myfree(d->logs[i].reason);
    }
    if (d->logs)
	myfree(d->logs);
    addr_list_free(&d->seen);
    addr_list_free(&d->fwd_addrs);
    addr_list_free(&d->fwd_senders);
}

/* local_log - one status line in Postfix's shape */

static void local_log(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
		              const char *to, int status_code, const char *dsn,
		              const char *reason)
{
    const char *status =
	status_code == DELIVER_STAT_OK ? "sent" :
	status_code == DELIVER_STAT_BOUNCE ? "bounced" : "deferred";
    const char *orig = rcpt->orig;

    /* Below an alias, orig_to= names the recipient as given to us */
    if (strcasecmp(to, rcpt->address) != 0 && *orig == 0)
	orig = rcpt->address;
    deliver_log(state->req->queue_id, &state->req->stats, to, orig,
		LOCAL_RELAY, dsn, status, "%s", reason);
}

/*
 * local_rcpt - deliver to one recipient; RESULT says how it went.  The
 * done mark is written only when no destination deferred, and before the
 * destinations are logged.
 */
static void local_rcpt(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
		               LOCAL_RESULT *result)
{
    LOCAL_DELIVERY d;
    int     check, mark_failed = 0;

    state->action = "delivered";
    if ((check = local_check_rcpt(state, rcpt, result)) <= 0) {
	if (check == 0)
	    local_result(result, DELIVER_STAT_OK, "2.0.0", "already delivered");
	local_log(state, rcpt, rcpt->address, result->status, result->dsn,
		  STR(result->reason));
	return;
    }
    memset(&d, 0, sizeof(d));
    d.state = state;
    d.rcpt = rcpt;
    d.result = result;
    result->status = -1;
    local_expand_rcpt(&d);
    /* Bounced recipients are marked by qmgr once the bounce log has them */
    if (result->status == DELIVER_STAT_OK)
	mark_failed = (local_mark_done(state, rcpt, result) < 0);
    /* "status=sent" only once the done mark is on disk (else: a duplicate) */
    for (int i = 0; i < d.log_count && !mark_failed; i++)
	if (!d.logs[i].logged)
	    local_log(state, rcpt, d.logs[i].to, d.logs[i].status, d.logs[i].dsn,
		      d.logs[i].reason);
    if (d.passed)
	state->action = d.passed_action;
    if (mark_failed)				/* after the destinations were done */
	local_log(state, rcpt, rcpt->address, result->status, result->dsn,
		  STR(result->reason));
    /* result->dsn points into d.logs: copy what the reply needs first */
    local_result(result, result->status, local_static_dsn(result->dsn),
		 "%s", STR(result->reason));
    local_delivery_free(&d);
}

/* local_open_queue - open the queue file; NULL with RESULT set */

static VSTREAM *local_open_queue(DELIVER_REQUEST *req, LOCAL_RESULT *result)
{
    VSTREAM *stream;

    if ((stream = mail_queue_open(req->queue_name, req->queue_id, O_RDWR)) == 0)
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "cannot open queue file %s/%s: %s",
		     req->queue_name, req->queue_id, strerror(errno));
    return (stream);
}

/* local_service - serve one delivery request */

static void local_service(VSTREAM *client, const char *service, char **argv)
{
    DELIVER_REQUEST req;
    LOCAL_STATE state;
    LOCAL_RESULT result;
    VSTRING *why = vstring_alloc(100);

    vstream_set_timeout(client, conf_time("ipc_timeout"));
    if (deliver_request_get(client, &req, why) < 0) {
	msg_warn("bad delivery request: %s", STR(why));
	vstring_free(why);
	return;
    }
    memset(&state, 0, sizeof(state));
    state.req = &req;
    state.env.arrival = req.stats.arrival;
    state.env.sender = req.sender;
    state.env.content_offset = (off_t) req.content_offset;
    state.env.content_size = req.content_size;
    result.reason = vstring_alloc(100);
    state.qfile = local_open_queue(&req, &result);
    for (int i = 0; i < req.rcpt_count; i++) {
	if (state.qfile)
	    local_rcpt(&state, req.rcpts + i, &result);
	else
	    local_log(&state, req.rcpts + i, req.rcpts[i].address, result.status,
		      result.dsn, STR(result.reason));
	if (deliver_reply_put(client, result.status, result.dsn, STR(result.reason),
			      result.status == DELIVER_STAT_OK ? state.action : 0) < 0) {
	    msg_warn("%s: lost connection with queue manager", req.queue_id);
	    break;
	}
    }
    if (state.qfile)
	vstream_close(state.qfile);
    addr_list_free(&state.delivered);
    vstring_free(result.reason);
    vstring_free(why);
    deliver_request_free(&req);
}

/* local_pre_init - as root, before privileges would be dropped */

static void local_pre_init(const char *service, char **argv)
{
    local_is_root = (geteuid() == 0);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {
	.pre_init = local_pre_init,
	.keep_root = 1,
	.changed = dict_changed_name,
    };

    single_server_main(argc, argv, local_service, &ops);
}
