/*
 * bounce.c - RFC 3464 notifications as new queue files (see bounce.h).
 *
 * The texts follow Postfix's bounce templates (bounce(5)): "Undelivered
 * Mail Returned to Sender", "Delayed Mail (still being retried)",
 * "Successful Mail Delivery Report".  A diagnostic of the shape
 * "host H[ip] said: TEXT (in reply to ...)" (the smtp agent's) becomes
 * "Remote-MTA: dns; H" and "Diagnostic-Code: smtp; TEXT"; anything else is
 * "Diagnostic-Code: X-Posthorn; TEXT".
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "bounce.h"

typedef struct BOUNCE_CONTENT {
    VSTRING *buf;
    long    limit;			/* stop after this many bytes */
    int     headers_only;		/* stop at the end of the headers */
    int     truncated;			/* the limit was reached */
} BOUNCE_CONTENT;

/* bounce_content_chunk - collect original content, up to the limit */

static int bounce_content_chunk(const char *data, size_t len, void *ctx)
{
    BOUNCE_CONTENT *bc = ctx;
    size_t  old = LEN(bc->buf);
    const char *end;

    vstring_memcat(bc->buf, data, len);
    if (bc->headers_only) {
	/* The header ends at the first empty line */
	const char *start = STR(bc->buf);

	if (LEN(bc->buf) > 0 && start[0] == '\n') {
	    vstring_truncate(bc->buf, 0);
	    return (1);
	}
	if ((end = strstr(start + (old > 0 ? old - 1 : 0), "\n\n")) != 0) {
	    vstring_truncate(bc->buf, (size_t) (end - start) + 1);
	    return (1);
	}
    }
    if ((long) LEN(bc->buf) > bc->limit) {
	bc->truncated = 1;
	return (1);
    }
    return (0);
}

/* bounce_original - the original content (or its headers) into BC->buf */

static int bounce_original(const BOUNCE_REQUEST *req, BOUNCE_CONTENT *bc, VSTRING *why)
{
    int     ret;

    ret = qfile_read_content(req->content, req->env, bounce_content_chunk, bc, why);
    if (ret < 0)
	return (-1);
    if (bc->truncated && !bc->headers_only) {
	/* Too large: return only the headers, as Postfix does */
	vstring_truncate(bc->buf, 0);
	bc->headers_only = 1;
	bc->truncated = 0;
	if (qfile_read_content(req->content, req->env, bounce_content_chunk, bc, why) < 0)
	    return (-1);
    }
    if (LEN(bc->buf) > 0 && STR(bc->buf)[LEN(bc->buf) - 1] != '\n')
	vstring_addch(bc->buf, '\n');
    return (0);
}

/* bounce_diagnostic - Remote-MTA and Diagnostic-Code for one entry */

static void bounce_diagnostic(VSTRING *buf, const DEFER_LOG_ENTRY *e)
{
    const char *said = strstr(e->reason, " said: ");
    const char *text;
    const char *end;

    if (strncmp(e->reason, "host ", 5) == 0 && said != 0) {
	const char *host = e->reason + 5;
	size_t  hlen = strcspn(host, "[ ");

	vstring_sprintf_append(buf, "Remote-MTA: dns; %.*s\n", (int) hlen, host);
	text = said + 7;
	end = strstr(text, " (in reply to ");
	vstring_sprintf_append(buf, "Diagnostic-Code: smtp; %.*s\n",
			       (int) (end ? (size_t) (end - text) : strlen(text)), text);
    } else {
	vstring_sprintf_append(buf, "Diagnostic-Code: X-Posthorn; %s\n", e->reason);
    }
}

/* bounce_human - the text/plain part */

static void bounce_human(const BOUNCE_REQUEST *req, VSTRING *buf)
{
    const char *host = conf_str("myhostname");

    vstring_sprintf_append(buf, "This is the mail system at host %s.\n\n", host);
    if (req->kind == BOUNCE_FAILED) {
	vstring_strcat(buf,
		       "I'm sorry to have to inform you that your message could not\n"
		       "be delivered to one or more recipients. It's attached below.\n\n"
		  "For further assistance, please send mail to postmaster.\n\n"
		  "If you do so, please include this problem report. You can\n"
		    "delete your own text from the attached returned message.\n\n"
		       "                   The mail system\n\n");
    } else if (req->kind == BOUNCE_DELAYED) {
	long    warn = conf_time("delay_warning_time");
	long    life = conf_time("maximal_queue_lifetime");

	vstring_strcat(buf,
		       "####################################################################\n"
		       "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
		       "####################################################################\n\n");
	vstring_sprintf_append(buf,
		 "Your message could not be delivered for more than %ld hour(s).\n"
			       "It will be retried until it is %ld day(s) old.\n\n",
			       warn / 3600, life / 86400);
	vstring_strcat(buf,
		  "For further assistance, please send mail to postmaster.\n\n"
		  "If you do so, please include this problem report. You can\n"
		    "delete your own text from the attached returned message.\n\n"
		       "                   The mail system\n\n");
    } else if (req->kind == BOUNCE_VERIFY) {
	vstring_strcat(buf,
		       "Enclosed is the mail delivery report that you requested.\n\n"
		       "                   The mail system\n\n");
    } else {
	vstring_strcat(buf,
		       "Your message was successfully delivered to the destination(s)\n"
		       "listed below. If the message was delivered to mailbox you will\n"
		       "receive no further notifications. Otherwise you may still receive\n"
		       "notifications of mail delivery errors from other systems.\n\n"
		       "                   The mail system\n\n");
    }
    for (int i = 0; i < req->count; i++)
	vstring_sprintf_append(buf, "<%s>: %s\n\n", req->entries[i].recipient,
			       req->entries[i].reason);
}

/* bounce_status - the message/delivery-status part */

static void bounce_status(const BOUNCE_REQUEST *req, VSTRING *buf)
{
    const char *envid = qenv_attr(req->env, "dsn_envid");
    char    date[100];

    vstring_sprintf_append(buf, "Reporting-MTA: dns; %s\n", conf_str("myhostname"));
    if (envid && *envid)
	vstring_sprintf_append(buf, "Original-Envelope-Id: %s\n", envid);
    vstring_sprintf_append(buf, "X-Posthorn-Queue-ID: %s\n", req->queue_id);
    vstring_sprintf_append(buf, "X-Posthorn-Sender: rfc822; %s\n", req->env->sender);
    vstring_sprintf_append(buf, "Arrival-Date: %s\n",
			   clock_rfc2822(date, sizeof(date), req->env->arrival.tv_sec));
    for (int i = 0; i < req->count; i++) {
	const DEFER_LOG_ENTRY *e = req->entries + i;

	vstring_sprintf_append(buf, "\nFinal-Recipient: rfc822; %s\n", e->recipient);
	if (e->dsn_orcpt && *e->dsn_orcpt)
	    vstring_sprintf_append(buf, "Original-Recipient: %s\n", e->dsn_orcpt);
	else if (e->orig_rcpt && *e->orig_rcpt)
	    vstring_sprintf_append(buf, "Original-Recipient: rfc822;%s\n", e->orig_rcpt);
	vstring_sprintf_append(buf, "Action: %s\n", e->action);
	vstring_sprintf_append(buf, "Status: %s\n", e->status);
	bounce_diagnostic(buf, e);
	if (req->kind == BOUNCE_DELAYED && e->time > 0)
	    vstring_sprintf_append(buf, "Will-Retry-Until: %s\n",
				   clock_rfc2822(date, sizeof(date),
						 req->env->arrival.tv_sec
					 + conf_time("maximal_queue_lifetime")));
    }
}

/* bounce_subject - the Subject: of each kind */

static const char *bounce_subject(int kind)
{
    return (kind == BOUNCE_FAILED ? "Undelivered Mail Returned to Sender" :
	    kind == BOUNCE_DELAYED ? "Delayed Mail (still being retried)" :
	    kind == BOUNCE_VERIFY ? "Mail Delivery Status Report" :
	    "Successful Mail Delivery Report");
}

/* bounce_format_id - the whole notification, with NEW_ID in its ids */

static int bounce_format_id(const BOUNCE_REQUEST *req, const char *new_id,
			            VSTRING *buf, VSTRING *why)
{
    const char *host = conf_str("myhostname");
    const char *ret = qenv_attr(req->env, "dsn_ret");
    BOUNCE_CONTENT bc;
    VSTRING *boundary = vstring_alloc(100);
    char    date[100];
    char    stamp[20];
    time_t  now = clock_now();
    struct tm *tm = gmtime(&now);

    bc.buf = vstring_alloc(1000);
    bc.limit = conf_long("bounce_size_limit");
    bc.headers_only = (req->kind != BOUNCE_FAILED
		       || (ret != 0 && strcasecmp(ret, "HDRS") == 0));
    bc.truncated = 0;
    if (bounce_original(req, &bc, why) < 0) {
	vstring_free(bc.buf);
	vstring_free(boundary);
	return (-1);
    }
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", tm);
    vstring_sprintf(boundary, "%s.%ld/%s", new_id, (long) now, host);
    vstring_truncate(buf, 0);
    vstring_sprintf_append(buf, "From: MAILER-DAEMON@%s (Mail Delivery System)\n", host);
    vstring_sprintf_append(buf, "Subject: %s\n", bounce_subject(req->kind));
    vstring_sprintf_append(buf, "To: %s\n", req->rcpt);
    vstring_strcat(buf, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n");
    vstring_sprintf_append(buf, "Content-Type: multipart/report; report-type=delivery-status;\n"
			   "\tboundary=\"%s\"\n", STR(boundary));
    vstring_strcat(buf, "Content-Transfer-Encoding: 8bit\n");
    vstring_sprintf_append(buf, "Message-Id: <%s.%s@%s>\n", stamp, new_id, host);
    vstring_sprintf_append(buf, "Date: %s\n\n", clock_rfc2822(date, sizeof(date), now));
    vstring_strcat(buf, "This is a MIME-encapsulated message.\n\n");

    vstring_sprintf_append(buf, "--%s\nContent-Description: Notification\n"
			   "Content-Type: text/plain; charset=us-ascii\n\n", STR(boundary));
    bounce_human(req, buf);

    vstring_sprintf_append(buf, "--%s\nContent-Description: %s\n"
			   "Content-Type: message/delivery-status\n\n", STR(boundary),
			   req->kind == BOUNCE_DELAYED ? "Delivery report" : "Delivery report");
    bounce_status(req, buf);
    vstring_strcat(buf, "\n");

    vstring_sprintf_append(buf, "--%s\nContent-Description: %s\n", STR(boundary),
			   req->kind == BOUNCE_FAILED ?
			   (bc.headers_only ? "Undelivered Message Headers" :
			    "Undelivered Message") :
			   req->kind == BOUNCE_DELAYED ? "Delayed Message" :
			   "Message Headers");
    if (bc.headers_only)
	vstring_strcat(buf, "Content-Type: text/rfc822-headers\n");
    else
	vstring_strcat(buf, "Content-Type: message/rfc822\n");
    vstring_strcat(buf, "Content-Transfer-Encoding: 8bit\n\n");
    vstring_memcat(buf, STR(bc.buf), LEN(bc.buf));
    vstring_sprintf_append(buf, "\n--%s--\n", STR(boundary));
    vstring_free(bc.buf);
    vstring_free(boundary);
    return (0);
}

int     bounce_format(const BOUNCE_REQUEST *req, VSTRING *buf, VSTRING *why)
{
    return (bounce_format_id(req, "00000000000000", buf, why));
}

int     bounce_send(const BOUNCE_REQUEST *req, VSTRING *new_id, VSTRING *why)
{
    QFILE  *qf;
    VSTRING *buf;
    struct timeval now;

    if ((qf = qfile_create(MAIL_QUEUE_INCOMING)) == 0) {
	vstring_sprintf(why, "cannot create queue file: %s", strerror(errno));
	return (-1);
    }
    buf = vstring_alloc(4000);
    if (bounce_format_id(req, STR(qf->id), buf, why) < 0) {
	qfile_abort(qf);
	vstring_free(buf);
	return (-1);
    }
    clock_gettimeofday(&now);
    qfile_time(qf, &now);
    qfile_sender(qf, "");
    if (req->queue_attr) {
	const char *eq = strchr(req->queue_attr, '=');
	char   *name = mystrndup(req->queue_attr, eq ? (size_t) (eq - req->queue_attr)
				 : strlen(req->queue_attr));

	qfile_attr(qf, name, eq ? eq + 1 : "");
	myfree(name);
    }
    qfile_rcpt(qf, 0, req->rcpt);
    qfile_begin_content(qf);
    qfile_content(qf, STR(buf), LEN(buf));
    vstring_strcpy(new_id, STR(qf->id));
    vstring_free(buf);
    if (qfile_commit(qf) < 0) {
	vstring_sprintf(why, "cannot write queue file: %s", strerror(errno));
	return (-1);
    }
    return (0);
}
