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
 * destination.  When all recipients are delivered, the Maildir new/
 * directories they went to are fsynced, each once (MAILDIR_SYNC); then,
 * recipient by recipient and unless a destination deferred, local marks
 * the recipient done in the queue file (R -> D, not fsynced: see
 * qfile_mark_done), and only then logs each destination ("status=sent",
 * "bounced", "deferred") and replies with the worst outcome.  A deferred
 * recipient is retried whole: destinations that were already delivered
 * may get a duplicate then.
 *
 * Parameters: mydestination, virtual_mailbox_domains, recipient_delimiter,
 * home_mailbox, mail_spool_directory, virtual_mailbox_base,
 * virtual_mailbox_maps, virtual_uid_maps, virtual_gid_maps,
 * virtual_minimum_uid, ipc_timeout, passwd_file (via lib/global/user.c),
 * alias_maps, default_privs, forward_path, allow_mail_to_commands,
 * allow_mail_to_files, local_command_shell, command_time_limit, myorigin,
 * mailbox_transport, fallback_transport, mailbox_command,
 * mailbox_command_maps.
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
 * One recipient between its delivery and its report.  The recipients of a
 * request are delivered first (local_rcpt_deliver), with the fsyncs of
 * Maildir new/ directories left to one MAILDIR_SYNC batch; then the batch
 * is fsynced and each recipient reported in order (local_rcpt_report): the
 * done mark, the log lines, the reply to qmgr.  So ten recipients in one
 * Maildir cost one directory fsync, and nothing is reported before the
 * names in new/ are on disk.
 */
typedef struct LOCAL_PENDING {
    LOCAL_DELIVERY d;			/* its leaves (when expanded) */
    LOCAL_RESULT result;
    int     expanded;			/* 0: the check decided, nothing delivered */
    int     dirsync;			/* a leaf's new/ fsync is in the batch */
    const char *action;			/* DSN success action */
    char    dsn[32];			/* the reply's DSN, outliving d.logs */
} LOCAL_PENDING;

/* local_rcpt_deliver - deliver to one recipient; P says how it went */

static void local_rcpt_deliver(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
			               LOCAL_PENDING *p)
{
    unsigned uses = state->dirsync->uses;
    int     check;

    p->action = "delivered";
    p->expanded = 0;
    p->dirsync = 0;
    if ((check = local_check_rcpt(state, rcpt, &p->result)) <= 0) {
	if (check == 0)
	    local_result(&p->result, DELIVER_STAT_OK, "2.0.0", "already delivered");
	return;
    }
    memset(&p->d, 0, sizeof(p->d));
    p->d.state = state;
    p->d.rcpt = rcpt;
    p->d.result = &p->result;
    p->result.status = -1;
    local_expand_rcpt(&p->d);
    p->expanded = 1;
    p->dirsync = (state->dirsync->uses != uses);
    if (p->d.passed)
	p->action = p->d.passed_action;
}

/* local_rcpt_unsynced - the batch's fsync failed (WHY): P's leaves defer */

static void local_rcpt_unsynced(LOCAL_PENDING *p, const char *why)
{
    for (int i = 0; i < p->d.log_count; i++) {
	if (p->d.logs[i].status != DELIVER_STAT_OK || p->d.logs[i].logged)
	    continue;
	p->d.logs[i].status = DELIVER_STAT_DEFER;
	myfree(p->d.logs[i].dsn);
	p->d.logs[i].dsn = mystrdup("4.3.0");
	myfree(p->d.logs[i].reason);
	p->d.logs[i].reason = mystrdup(why);
    }
    local_result(&p->result, DELIVER_STAT_DEFER, "4.3.0", "%s", why);
}

/*
 * local_rcpt_report - the done mark (written only when no destination
 * deferred, and before the destinations are logged), the log lines; the
 * reply is the caller's
 */
static void local_rcpt_report(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
			              LOCAL_PENDING *p)
{
    LOCAL_RESULT *result = &p->result;
    int     mark_failed = 0;

    if (!p->expanded) {
	local_log(state, rcpt, rcpt->address, result->status, result->dsn,
		  STR(result->reason));
	return;
    }
    /* Bounced recipients are marked by qmgr once the bounce log has them */
    if (result->status == DELIVER_STAT_OK)
	mark_failed = (local_mark_done(state, rcpt, result) < 0);
    /* "status=sent" only once the done mark is written (else: a duplicate) */
    for (int i = 0; i < p->d.log_count && !mark_failed; i++)
	if (!p->d.logs[i].logged)
	    local_log(state, rcpt, p->d.logs[i].to, p->d.logs[i].status,
		      p->d.logs[i].dsn, p->d.logs[i].reason);
    if (mark_failed)				/* after the destinations were done */
	local_log(state, rcpt, rcpt->address, result->status, result->dsn,
		  STR(result->reason));
    /* result->dsn points into d.logs: copy what the reply needs first */
    snprintf(p->dsn, sizeof(p->dsn), "%s", result->dsn);
    result->dsn = p->dsn;
    local_delivery_free(&p->d);
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

/*
 * local_request - deliver to every recipient of the request, fsync the
 * Maildir directories they went to, then report each, in order
 */
static void local_request(VSTREAM *client, LOCAL_STATE *state)
{
    DELIVER_REQUEST *req = state->req;
    LOCAL_PENDING *pend = mycalloc(req->rcpt_count, sizeof(*pend));
    MAILDIR_SYNC dirsync;
    VSTRING *why = vstring_alloc(100);
    int     unsynced;
    int     i;

    maildir_sync_init(&dirsync);
    state->dirsync = &dirsync;
    for (i = 0; i < req->rcpt_count; i++) {
	pend[i].result.reason = vstring_alloc(100);
	local_rcpt_deliver(state, req->rcpts + i, pend + i);
    }
    if ((unsynced = (maildir_sync_run(&dirsync, why) < 0)) != 0)
	msg_warn("%s: %s", req->queue_id, STR(why));
    for (i = 0; i < req->rcpt_count; i++) {
	if (unsynced && pend[i].dirsync)
	    local_rcpt_unsynced(pend + i, STR(why));
	local_rcpt_report(state, req->rcpts + i, pend + i);
    }
    for (i = 0; i < req->rcpt_count; i++) {
	LOCAL_RESULT *r = &pend[i].result;

	if (deliver_reply_put(client, r->status, r->dsn, STR(r->reason),
			      r->status == DELIVER_STAT_OK ? pend[i].action : 0) < 0) {
	    msg_warn("%s: lost connection with queue manager", req->queue_id);
	    break;
	}
    }
    for (i = 0; i < req->rcpt_count; i++)
	vstring_free(pend[i].result.reason);
    state->dirsync = 0;
    vstring_free(why);
    myfree(pend);
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
    if (state.qfile == 0) {
	for (int i = 0; i < req.rcpt_count; i++)
	    local_log(&state, req.rcpts + i, req.rcpts[i].address, result.status,
		      result.dsn, STR(result.reason));
	for (int i = 0; i < req.rcpt_count; i++)
	    if (deliver_reply_put(client, result.status, result.dsn,
				  STR(result.reason), 0) < 0)
		break;
    } else {
	local_request(client, &state);
	vstream_close(state.qfile);
    }
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
