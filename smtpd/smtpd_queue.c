/*
 * smtpd_queue.c - the DATA command: from 354 to "queued as ID".
 *
 * smtpd_data_begin() creates the queue file in incoming/ (all recipients
 * are known by then, and the queue id is needed for the Received header),
 * writes the envelope and our Received: header, and answers 354.
 * smtpd_data_input() feeds client bytes through the DATA reader
 * (smtpd_data.c) into the queue file, counting the size; a message over
 * message_size_limit is read to its end and then refused.  At the end of
 * data the file is committed (fsynced, marked complete) before the 250
 * reply, and qmgr is triggered.  A local submission (UNIX socket) gets a
 * pickup-style Received: header and missing From:/Date:/Message-Id:.
 *
 * All content, our Received: header included, passes through smtpd_hbc.c
 * (header_checks, body_checks, message_drop_headers) on its way to the
 * queue file.  At the end, a REJECT from those checks refuses the message;
 * HOLD (from the checks or an access table) files it in hold/ where qmgr
 * does not look; DISCARD reads it to the end, removes the file and still
 * answers "250 ... queued as ID", as Postfix does.
 *
 * Parameters: mail_name, message_size_limit, line_length_limit,
 * smtpd_sasl_authenticated_header, those of smtpd_hbc.c, and those read
 * in smtpd.c.
 */
#include "sys_defs.h"
#include <sys/time.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "addr_rewrite.h"
#include "mail_queue.h"
#include "mail_proto.h"
#include "clock.h"
#include "iostuff.h"
#include "printable.h"
#include "qfile.h"
#include "worker.h"
#include "smtpd.h"
#include "smtpd_hbc.h"

/* storage_reply - the reply for a queue file error ERR */
static void storage_reply(SMTPD_STATE *state, int err)
{
    if (err == ENOSPC || err == EDQUOT)
	smtpd_reply(state, "452 4.3.1 Insufficient system storage");
    else
	smtpd_reply(state, "451 4.3.0 Error: queue file write error");
}

/* write_envelope - sender, client attributes, recipients */
static void write_envelope(SMTPD_STATE *state, QFILE *qf, const char *sender)
{
    struct timeval now;
    char    buf[32];

    clock_gettimeofday(&now);
    qfile_time(qf, &now);
    /* As Postfix's cleanup: a delay warning is due after delay_warning_time */
    if (conf_time("delay_warning_time") > 0 && *state->sender)
	qfile_warn_time(qf, now.tv_sec + conf_time("delay_warning_time"));
    qfile_sender(qf, sender);
    qfile_attr(qf, "client_name", state->name);
    qfile_attr(qf, "client_address", state->addr);
    qfile_attr(qf, "client_port", state->port);
    if (state->helo)
	qfile_attr(qf, "helo_name", state->helo);
    qfile_attr(qf, "protocol_name", state->protocol);
    qfile_attr(qf, "rewrite_context", state->submit ? "local" : "remote");
    if (state->encoding)
	qfile_attr(qf, "encoding", state->encoding);
    if (state->smtputf8)
	qfile_attr(qf, "smtputf8", "1");
    if (state->verify)
	qfile_attr(qf, "verify", "1");
    if (state->dsn_envid)
	qfile_attr(qf, "dsn_envid", state->dsn_envid);
    if (state->dsn_ret)
	qfile_attr(qf, "dsn_ret", state->dsn_ret);
    if (state->filter || *conf_str("content_filter"))
	qfile_attr(qf, "content_filter", state->filter ? state->filter :
		   conf_str("content_filter"));
    if (state->submit) {
	snprintf(buf, sizeof(buf), "%ld", state->uid);
	qfile_attr(qf, "uid", buf);
    }
    for (int i = 0; i < state->rcpt_count; i++)
	qfile_rcpt_dsn(qf, state->orcpt[i], state->rcpt[i],
		       state->dsn_notify[i], state->dsn_orcpt[i]);
}

/* auth_sender_line - "(Authenticated sender: user)", control bytes as '?' */
static void auth_sender_line(VSTRING *hdr, const char *user)
{
    vstring_strcat(hdr, "\t(Authenticated sender: ");
    for (const char *cp = user; *cp; cp++)
	vstring_addch(hdr, (unsigned char) *cp < 32 || *cp == 127 ? '?' : *cp);
    vstring_strcat(hdr, ")\n");
}

/*
 * received_header - Postfix's Received: header for this message: with
 * TLS, a "(using ...)" line and protocol ESMTPS; after AUTH, ESMTPA or
 * ESMTPSA (RFC 3848).
 */
static void received_header(SMTPD_STATE *state, VSTRING *hdr)
{
    char    date[64];
    const char *id = STR(state->qf->id);
    const char *mail_name = conf_str("mail_name");
    VSTRING *tls = vstring_alloc(100);
    const char *tls_info = smtpd_tls_info(state, tls);

    clock_rfc2822(date, sizeof(date), clock_now());
    if (state->submit) {
	vstring_sprintf(hdr, "Received: by %s (%s, from userid %ld)\n\tid %s; %s\n",
			var_myhostname, mail_name, state->uid, id, date);
	vstring_free(tls);
	return;
    }
    vstring_sprintf(hdr, "Received: from %s (%s [%s%s])\n",
		    state->helo ? state->helo : state->name, state->name,
		    strchr(state->addr, ':') ? "IPv6:" : "", state->addr);
    if (tls_info)
	vstring_sprintf_append(hdr, "\t(using %s)\n", tls_info);
    if (state->sasl_username && conf_bool("smtpd_sasl_authenticated_header"))
	auth_sender_line(hdr, state->sasl_username);
    vstring_sprintf_append(hdr, "\tby %s (%s) with %s%s%s id %s", var_myhostname,
			   mail_name, state->protocol, state->tls ? "S" : "",
			   state->sasl_username ? "A" : "", id);
    if (state->rcpt_cmds == 1)
	vstring_sprintf_append(hdr, "\n\tfor <%s>; %s\n", state->first_rcpt, date);
    else
	vstring_sprintf_append(hdr, ";\n\t%s\n", date);
    vstring_free(tls);
}

/* queue_sender - the sender as queued: cleanup's canonical mapping and
 * masquerading (not twice after a content filter); 0, or -1 */
static int queue_sender(SMTPD_STATE *state, VSTRING *sender)
{
    if (var_receive_override & SMTPD_NO_ADDR_MAPPINGS) {
	vstring_strcpy(sender, state->sender);	/* mapped before the filter */
	return (0);
    }
    return (addr_rewrite_sender(state->sender, sender));
}

/* data_open - the queue file and its first lines; 0, or -1 (replied) */
static int data_open(SMTPD_STATE *state)
{
    VSTRING *hdr;
    VSTRING *sender = vstring_alloc(100);

    if (queue_sender(state, sender) < 0) {
	smtpd_reply(state, "451 4.3.0 <%s>: Temporary lookup failure", state->sender);
	vstring_free(sender);
	return (-1);
    }
    if ((state->qf = smtpd_spare_take()) == 0
	&& (state->qf = qfile_create(MAIL_QUEUE_INCOMING)) == 0) {
	int     err = errno;

	msg_warn("create queue file in %s: %m", MAIL_QUEUE_INCOMING);
	storage_reply(state, err);
	vstring_free(sender);
	return (-1);
    }
    smtpd_spare_refill();
    write_envelope(state, state->qf, STR(sender));
    vstring_free(sender);
    qfile_begin_content(state->qf);
    if (state->submit)				/* Postfix's pickup says it */
	msg_info_as("pickup", "%s: uid=%ld from=<%s>", STR(state->qf->id),
		    state->uid, state->sender);
    else if (state->sasl_username)
	msg_info("%s: client=%s, sasl_method=%s, sasl_username=%s",
		 STR(state->qf->id), state->namaddr,
		 state->sasl_method ? state->sasl_method : "",
		 state->sasl_username);
    else
	msg_info("%s: client=%s", STR(state->qf->id), state->namaddr);
    smtpd_hbc_begin(state);
    hdr = vstring_alloc(300);
    for (char **cpp = state->prepend; cpp && *cpp; cpp++) {
	vstring_sprintf(hdr, "%s\n", *cpp);
	smtpd_hbc_header_text(state, STR(hdr), LEN(hdr));
    }
    received_header(state, hdr);
    smtpd_hbc_header_text(state, STR(hdr), LEN(hdr));
    vstring_free(hdr);
    state->msg_size = 0;
    state->too_big = 0;
    hdr_scan_init(&state->hdr);
    return (0);
}

int	smtpd_queue_rewrite(SMTPD_STATE *state, const char *content, size_t len)
{
    VSTRING *sender = vstring_alloc(100);
    int     ret = -1;

    if (queue_sender(state, sender) < 0) {
	msg_warn("%s: sender <%s>: address mapping lookup failed",
		 STR(state->qf->id), state->sender);
    } else {
	qfile_restart(state->qf);
	write_envelope(state, state->qf, STR(sender));
	qfile_begin_content(state->qf);
	qfile_content(state->qf, content, len);
	ret = state->qf->error ? -1 : 0;
    }
    vstring_free(sender);
    return (ret);
}

/* data_go - after the filters' look at DATA: 354, or their refusal */
static int data_go(SMTPD_STATE *state, const char *reply)
{
    if (reply) {
	qfile_abort(state->qf);
	state->qf = 0;
	smtpd_hbc_free(state);
	smtpd_reply_raw(state, reply);
	return (-1);
    }
    data_reader_init(&state->reader, state->bare_lf, var_line_length_limit,
		     state->line_crlf);
    state->mode = SMTPD_MODE_DATA;
    smtpd_reply(state, "354 End data with <CR><LF>.<CR><LF>");
    return (0);
}

int	smtpd_data_begin(SMTPD_STATE *state)
{
    state->data_cmd = SMTPD_CMD_DATA;
    if (data_open(state) < 0)
	return (-1);
    return (smtpd_milter_data(state, data_go));
}

int	smtpd_bdat_begin(SMTPD_STATE *state)
{
    state->data_cmd = SMTPD_CMD_BDAT;
    if (data_open(state) < 0)
	return (-1);
    bdat_reader_init(&state->bdat_reader, var_line_length_limit);
    state->bdat_active = 1;
    state->bdat_total = 0;
    return (0);
}

/* add_missing_headers - local submission: From:, Date:, Message-Id: */
static void add_missing_headers(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(200);
    char    date[64];
    char    stamp[32];
    time_t  now = clock_now();
    struct tm *tm = gmtime(&now);

    if (!state->hdr.seen_from)
	vstring_sprintf_append(buf, "From: %s\n",
			       *state->sender ? state->sender : "MAILER-DAEMON");
    if (!state->hdr.seen_date)
	vstring_sprintf_append(buf, "Date: %s\n",
			       clock_rfc2822(date, sizeof(date), now));
    if (!state->hdr.seen_msgid) {
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", tm);
	snprintf(state->hdr.msgid, sizeof(state->hdr.msgid), "<%s.%s@%s>", stamp,
		 STR(state->qf->id), var_myhostname);
	vstring_sprintf_append(buf, "Message-Id: %s\n", state->hdr.msgid);
    }
    qfile_content(state->qf, STR(buf), LEN(buf));
    vstring_free(buf);
}

/* headers_done - the header block ended: last header, missing headers */
static void headers_done(SMTPD_STATE *state)
{
    state->hdr.in_header = 0;
    smtpd_hbc_header_end(state);
    if (state->submit)
	add_missing_headers(state);
}

/* data_out - content from the reader: size limit, header scan, checks */
static void data_out(void *context, const char *data, size_t len, int line_start)
{
    SMTPD_STATE *state = context;

    state->msg_size += len;
    if (var_message_size_limit > 0 && state->msg_size > var_message_size_limit)
	state->too_big = 1;
    if (state->too_big)
	return;
    if (state->hdr.in_header) {
	if (!line_start || !hdr_scan_line(&state->hdr, data, len)) {
	    smtpd_hbc_header(state, data, len, line_start);
	    return;
	}
	headers_done(state);
    }
    smtpd_hbc_body(state, data, len, line_start);
}

/* data_too_big - the message was read to its end but is refused */
static void data_too_big(SMTPD_STATE *state)
{
    msg_info("%s: reject: END-OF-MESSAGE from %s: 552 5.3.4 Error: message file too big;"
	     " from=<%s> proto=%s helo=<%s>", STR(state->qf->id), state->namaddr,
	     state->sender, state->protocol, state->helo ? state->helo : "");
    qfile_abort(state->qf);
    smtpd_reply(state, "552 5.3.4 Error: message file too big");
    state->cmd_ok[state->data_cmd]--;		/* DATA failed after all */
    smtpd_error(state);
}

/* data_failed - DATA was answered with an error after its 354 */
static void data_failed(SMTPD_STATE *state)
{
    state->cmd_ok[state->data_cmd]--;
    smtpd_error(state);
}

/*
 * move_to_hold - move the still incomplete, still locked file to hold/
 * before it is committed, so that qmgr never sees it in incoming/.
 */
static int move_to_hold(QFILE *qf)
{
    if (mail_queue_rename(STR(qf->id), qf->queue, MAIL_QUEUE_HOLD) < 0) {
	msg_warn("%s: move to %s: %m", STR(qf->id), MAIL_QUEUE_HOLD);
	return (-1);
    }
    qf->queue = MAIL_QUEUE_HOLD;
    return (0);
}

/*
 * The commit of a queue file, whose fsync runs in a worker thread so that
 * the fsyncs of concurrent sessions overlap and the event loop never
 * waits for the disk.  The session waits (reads no input) until
 * commit_done() has the outcome; only then is "250 ... queued as ID"
 * sent.  The job owns the file from commit_start() on; a session that
 * ends meanwhile (timeout) leaves it to the job, which finishes it (the
 * client never heard 250, as when a connection is lost after the dot);
 * a process that drains (reload, changed tables) waits for the jobs
 * (smtpd_queue_busy), so each file is closed and qmgr told.
 */
typedef struct SMTPD_COMMIT {
    SMTPD_STATE *state;			/* NULL: the session is gone */
    QFILE  *qf;
    char   *id;
    int     hold;				/* the file is in hold/ */
    VSTRING *hold_path;			/* a file in hold/: fsync its directory */
    int     sync_err;			/* errno of the fsync, 0 if it worked */
} SMTPD_COMMIT;

static int commit_jobs;			/* commits whose commit_done has not run */

/* smtpd_queue_busy - commits in flight: a draining process waits for them */
int	smtpd_queue_busy(void)
{
    return (commit_jobs);
}

/* commit_work - in a worker thread: the file, then hold/'s new entry */
static void commit_work(void *arg)
{
    SMTPD_COMMIT *job = arg;

    job->sync_err = 0;
    if (fsync(qfile_sync_fd(job->qf)) < 0)
	job->sync_err = errno ? errno : EIO;
    else if (job->hold && fsync_dir(STR(job->hold_path)) < 0)
	job->sync_err = errno ? errno : EIO;
}

/* commit_finish - close the file; 0: complete and durable (in hold/ when HOLD) */
static int commit_finish(SMTPD_COMMIT *job)
{
    if (qfile_commit_finish(job->qf, job->hold ? 0 : job->sync_err) < 0)
	return (-1);
    if (job->hold && job->sync_err) {		/* hold/'s entry is not durable */
	(void) mail_queue_remove(MAIL_QUEUE_HOLD, job->id);
	errno = job->sync_err;
	return (-1);
    }
    return (0);
}

/* commit_failed - the file of ID could not be committed (ERR): say so */
static void commit_failed(SMTPD_STATE *state, const char *id, int err)
{
    msg_warn("%s: queue file write error: %s", id, strerror(err));
    storage_reply(state, err);
    data_failed(state);
}

/* commit_reply - the outcome of the commit to the client and the log */
static void commit_reply(SMTPD_STATE *state, SMTPD_COMMIT *job, int ok, int err)
{
    if (!ok) {
	commit_failed(state, job->id, err);
	return;
    }
    if (*state->hdr.msgid)			/* as Postfix's cleanup logs it */
	msg_info_as("cleanup", "%s: message-id=%s", job->id,
		    printable(state->hdr.msgid, '?'));
    smtpd_reply(state, "250 2.0.0 Ok: queued as %s", job->id);
    smtpd_delivered(state);
}

/* commit_done - in the event loop: finish the file, answer, wake qmgr */
static void commit_done(void *arg)
{
    SMTPD_COMMIT *job = arg;
    SMTPD_STATE *state = job->state;
    int     ok = (commit_finish(job) == 0);
    int     err = errno;

    commit_jobs--;
    if (ok && !job->hold)
	(void) mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR,
			    QMGR_REQ_SCAN_INCOMING);
    if (state) {
	state->commit = 0;
	state->waiting = 0;
	commit_reply(state, job, ok, err);
    } else if (!ok) {
	msg_warn("%s: queue file write error: %s", job->id, strerror(err));
    }
    myfree(job->id);
    if (job->hold_path)
	vstring_free(job->hold_path);
    myfree(job);
    if (state)
	smtpd_resume(state);
}

/* smtpd_queue_detach - the session ends while its commit runs */
void	smtpd_queue_detach(SMTPD_STATE *state)
{
    if (state->commit) {
	((SMTPD_COMMIT *) state->commit)->state = 0;
	state->commit = 0;
    }
}

/* data_commit - make the file durable and complete, then say so */
static void data_commit(SMTPD_STATE *state)
{
    SMTPD_COMMIT *job;
    int     hold = (state->hold_reason != 0);
    int     err;

    job = (SMTPD_COMMIT *) mymalloc(sizeof(*job));
    job->id = mystrdup(STR(state->qf->id));
    err = 0;
    if (hold && move_to_hold(state->qf) < 0) {
	err = errno;
	qfile_abort(state->qf);
    } else if (qfile_commit_start(state->qf) < 0) {
	err = errno;
    }
    if (err) {
	state->qf = 0;
	commit_failed(state, job->id, err);
	myfree(job->id);
	myfree(job);
	return;
    }
    job->state = state;
    job->qf = state->qf;
    job->hold = hold;
    job->hold_path = hold ? vstring_alloc(64) : 0;
    if (hold)
	mail_queue_path(job->hold_path, MAIL_QUEUE_HOLD, job->id);
    state->qf = 0;				/* the job's now */
    state->commit = job;
    state->waiting = 1;
    commit_jobs++;
    worker_submit_urgent(commit_work, commit_done, job);	/* not behind DNS */
}

/* data_discard - DISCARD: throw the message away, claim success */
static void data_discard(SMTPD_STATE *state)
{
    smtpd_reply(state, "250 2.0.0 Ok: queued as %s", STR(state->qf->id));
    qfile_abort(state->qf);
}

/* data_rejected - REJECT or a table failure in header/body checks */
static void data_rejected(SMTPD_STATE *state, VSTRING *reply)
{
    qfile_abort(state->qf);
    smtpd_reply_raw(state, STR(reply));
    data_failed(state);
}

/* data_close - the message is done with, whatever became of it */
static void data_close(SMTPD_STATE *state)
{
    smtpd_hbc_free(state);
    state->qf = 0;
    state->mode = SMTPD_MODE_CMD;
    smtpd_reset_transaction(state);
}

/* data_filtered - the filters' verdict on the content: commit or refuse */
static void data_filtered(SMTPD_STATE *state, const char *reply)
{
    if (reply && strncmp(reply, "421", 3) == 0) {
	qfile_abort(state->qf);
	smtpd_reply_raw(state, reply);
	state->cmd_ok[state->data_cmd]--;	/* the session ends here */
    } else if (reply) {
	VSTRING *buf = vstring_alloc(100);

	vstring_strcpy(buf, reply);
	data_rejected(state, buf);
	vstring_free(buf);
    } else if (state->discard_reason) {
	data_discard(state);
    } else {
	data_commit(state);
    }
    data_close(state);
}

/* data_end - end-of-data seen: checks, the filters, commit or refuse */
static void data_end(SMTPD_STATE *state)
{
    VSTRING *reply = vstring_alloc(100);
    int     verdict = SMTPD_HBC_OK;

    state->where = "END-OF-MESSAGE";
    if (!state->too_big) {
	if (state->hdr.in_header)
	    headers_done(state);
	verdict = smtpd_hbc_end(state, reply);
    }
    /* As Postfix: a mail loop ends here (our Received: is not counted) */
    if (!state->too_big && verdict == SMTPD_HBC_OK
	&& state->hdr.received > conf_int("hopcount_limit")) {
	vstring_strcpy(reply, "554 5.4.0 Error: too many hops");
	smtpd_reject_log(state, "END-OF-MESSAGE", STR(reply), 0);
	verdict = SMTPD_HBC_REJECT;
    }
    if (state->too_big) {
	data_too_big(state);
    } else if (verdict != SMTPD_HBC_OK) {
	data_rejected(state, reply);
    } else if (state->discard_reason) {
	data_discard(state);
    } else if (smtpd_milter_message(state, data_filtered)) {
	vstring_free(reply);
	state->mode = SMTPD_MODE_CMD;		/* data_filtered() finishes */
	return;
    } else {
	data_commit(state);
    }
    vstring_free(reply);
    data_close(state);
}

void	smtpd_bdat_content(SMTPD_STATE *state, const char *buf, size_t len)
{
    bdat_reader_feed(&state->bdat_reader, buf, len, data_out, state);
}

void	smtpd_bdat_end(SMTPD_STATE *state)
{
    bdat_reader_end(&state->bdat_reader, data_out, state);
    bdat_reader_free(&state->bdat_reader);
    state->bdat_active = 0;
    data_end(state);
}

size_t	smtpd_data_input(SMTPD_STATE *state, const char *buf, size_t len)
{
    int     status;
    size_t  used;

    used = data_reader_feed(&state->reader, buf, len, data_out, state, &status);
    if (status == DATA_END) {
	data_end(state);
    } else if (status == DATA_BARE_LF) {
	msg_info("disconnect: bare <LF> received after DATA from %s", state->namaddr);
	smtpd_reply(state, "521 5.5.2 %s Error: bare <LF> received", var_myhostname);
	smtpd_data_abort(state);
	state->mode = SMTPD_MODE_CLOSE;
    }
    return (used);
}

/* smtpd_data_abort - the client went away or broke the rules mid-DATA
 * (or in the middle of a chunked message) */
void	smtpd_data_abort(SMTPD_STATE *state)
{
    if (state->bdat_active) {
	bdat_reader_free(&state->bdat_reader);
	state->bdat_active = 0;
	if (state->qf)
	    qfile_abort(state->qf);
	state->qf = 0;
    }
    if (state->qf) {
	qfile_abort(state->qf);
	state->qf = 0;
	state->cmd_ok[SMTPD_CMD_DATA]--;	/* the 354 was counted */
    }
    smtpd_hbc_free(state);
    state->mode = SMTPD_MODE_CMD;
}
