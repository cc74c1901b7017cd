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
 * Parameters: mail_name, message_size_limit, line_length_limit, and those
 * read in smtpd.c.
 */
#include "sys_defs.h"
#include <sys/time.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_proto.h"
#include "clock.h"
#include "qfile.h"
#include "smtpd.h"

/* storage_reply - the reply for a queue file error ERR */
static void storage_reply(SMTPD_STATE *state, int err)
{
    if (err == ENOSPC || err == EDQUOT)
	smtpd_reply(state, "452 4.3.1 Insufficient system storage");
    else
	smtpd_reply(state, "451 4.3.0 Error: queue file write error");
}

/* write_envelope - sender, client attributes, recipients */
static void write_envelope(SMTPD_STATE *state, QFILE *qf)
{
    struct timeval now;
    char    buf[32];

    clock_gettimeofday(&now);
    qfile_time(qf, &now);
    qfile_sender(qf, state->sender);
    qfile_attr(qf, "client_name", state->name);
    qfile_attr(qf, "client_address", state->addr);
    qfile_attr(qf, "client_port", state->port);
    if (state->helo)
	qfile_attr(qf, "helo_name", state->helo);
    qfile_attr(qf, "protocol_name", state->protocol);
    qfile_attr(qf, "rewrite_context", state->submit ? "local" : "remote");
    if (state->encoding)
	qfile_attr(qf, "encoding", state->encoding);
    if (state->submit) {
	snprintf(buf, sizeof(buf), "%ld", state->uid);
	qfile_attr(qf, "uid", buf);
    }
    for (int i = 0; i < state->rcpt_count; i++)
	qfile_rcpt(qf, state->orcpt[i], state->rcpt[i]);
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
    vstring_sprintf_append(hdr, "\tby %s (%s) with %s%s%s id %s", var_myhostname,
			   mail_name, state->protocol, tls_info ? "S" : "",
			   state->sasl_username ? "A" : "", id);
    if (state->rcpt_cmds == 1)
	vstring_sprintf_append(hdr, "\n\tfor <%s>; %s\n", state->first_rcpt, date);
    else
	vstring_sprintf_append(hdr, ";\n\t%s\n", date);
    vstring_free(tls);
}

int	smtpd_data_begin(SMTPD_STATE *state)
{
    VSTRING *hdr;

    if ((state->qf = qfile_create(MAIL_QUEUE_INCOMING)) == 0) {
	int     err = errno;

	msg_warn("create queue file in %s: %m", MAIL_QUEUE_INCOMING);
	storage_reply(state, err);
	return (-1);
    }
    write_envelope(state, state->qf);
    qfile_begin_content(state->qf);
    if (state->submit)
	msg_info("%s: uid=%ld from=<%s>", STR(state->qf->id), state->uid, state->sender);
    else
	msg_info("%s: client=%s", STR(state->qf->id), state->namaddr);
    hdr = vstring_alloc(300);
    received_header(state, hdr);
    qfile_content(state->qf, STR(hdr), LEN(hdr));
    vstring_free(hdr);
    state->msg_size = 0;
    state->too_big = 0;
    hdr_scan_init(&state->hdr);
    data_reader_init(&state->reader, state->bare_lf, var_line_length_limit,
		     state->line_crlf);
    state->mode = SMTPD_MODE_DATA;
    smtpd_reply(state, "354 End data with <CR><LF>.<CR><LF>");
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
	vstring_sprintf_append(buf, "Message-Id: <%s.%s@%s>\n", stamp,
			       STR(state->qf->id), var_myhostname);
    }
    qfile_content(state->qf, STR(buf), LEN(buf));
    vstring_free(buf);
}

/* data_out - content from the reader: header scan, size limit, queue file */
static void data_out(void *context, const char *data, size_t len, int line_start)
{
    SMTPD_STATE *state = context;

    if (line_start && state->hdr.in_header
	&& hdr_scan_line(&state->hdr, data, len) && state->submit)
	add_missing_headers(state);
    state->msg_size += len;
    if (var_message_size_limit > 0 && state->msg_size > var_message_size_limit)
	state->too_big = 1;
    if (!state->too_big)
	qfile_content(state->qf, data, len);
}

/* data_too_big - the message was read to its end but is refused */
static void data_too_big(SMTPD_STATE *state)
{
    msg_info("%s: reject: END-OF-MESSAGE from %s: 552 5.3.4 Error: message file too big;"
	     " from=<%s> proto=%s helo=<%s>", STR(state->qf->id), state->namaddr,
	     state->sender, state->protocol, state->helo ? state->helo : "");
    qfile_abort(state->qf);
    smtpd_reply(state, "552 5.3.4 Error: message file too big");
    state->cmd_ok[SMTPD_CMD_DATA]--;		/* DATA failed after all */
    smtpd_error(state);
}

/* data_commit - make the file durable and complete, then say so */
static void data_commit(SMTPD_STATE *state)
{
    char   *id = mystrdup(STR(state->qf->id));

    if (qfile_commit(state->qf) < 0) {
	int     err = errno;

	msg_warn("%s: queue file write error: %s", id, strerror(err));
	storage_reply(state, err);
	state->cmd_ok[SMTPD_CMD_DATA]--;
	smtpd_error(state);
    } else {
	smtpd_reply(state, "250 2.0.0 Ok: queued as %s", id);
	(void) mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR, QMGR_REQ_SCAN_INCOMING);
    }
    myfree(id);
}

/* data_end - end-of-data seen: commit or refuse */
static void data_end(SMTPD_STATE *state)
{
    state->where = "END-OF-MESSAGE";
    if (state->hdr.in_header && state->submit && !state->too_big) {
	state->hdr.in_header = 0;
	add_missing_headers(state);
    }
    if (state->too_big)
	data_too_big(state);
    else
	data_commit(state);
    state->qf = 0;
    state->mode = SMTPD_MODE_CMD;
    smtpd_reset_transaction(state);
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

/* smtpd_data_abort - the client went away or broke the rules mid-DATA */
void	smtpd_data_abort(SMTPD_STATE *state)
{
    if (state->qf) {
	qfile_abort(state->qf);
	state->qf = 0;
	state->cmd_ok[SMTPD_CMD_DATA]--;	/* the 354 was counted */
    }
    state->mode = SMTPD_MODE_CMD;
}
