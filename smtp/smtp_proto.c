/*
 * smtp_proto.c - the SMTP (or LMTP) dialogue of one delivery attempt.
 *
 * greeting, EHLO (HELO when EHLO is refused), STARTTLS as
 * smtp_tls_security_level says, AUTH (smtp_sasl.c), MAIL FROM with SIZE
 * and DSN's RET/ENVID when offered, one RCPT TO per recipient (NOTIFY/
 * ORCPT when DSN is offered), DATA with CRLF line ends and dot-stuffing.
 * MAIL, RCPT and DATA go out in one write when the server offers
 * PIPELINING (RFC 2920), else one command at a time.
 *
 * Connection cache (smtp_cache.c): the caller ends the session, with
 * smtp_proto_quit(), or keeps it when smtp_proto_reusable() says it is
 * clean (RSET first when a transaction was left open).  A kept session
 * has sess->ready set, and its next transaction starts at MAIL FROM with
 * the features, TLS and AUTH state it has; if the server closed it while
 * it was idle (no reply at all to the first command), sess->stale tells
 * the caller to try again over a new connection.
 *
 * In LMTP mode (smtp_conf.lmtp, RFC 2033) LHLO replaces EHLO (no HELO
 * fallback, no "loops back to myself" check), and after the final dot
 * every recipient that RCPT accepted gets its own reply, in order.
 *
 * Outcomes (Postfix's rules, simplified): a failure before any recipient
 * is settled (lost connection, timeout, a greeting other than 220, a 4xx
 * at HELO/MAIL, missing required TLS, AUTH failure) returns SMTP_TRY_NEXT
 * so the caller tries the next address (a 4xx to MAIL FROM sets
 * trans->mesg_fail: the message was refused, not the server, so it does
 * not count against the next hop); a 5xx at HELO or MAIL bounces all
 * recipients; RCPT replies settle each recipient; the DATA reply and the
 * end-of-data reply (LMTP: replies) settle the recipients that RCPT
 * accepted.  Reasons have Postfix's shape: "host mx[1.2.3.4] said: 550
 * 5.1.1 ... (in reply to RCPT TO command)".
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "smtp.h"

#define SMTP_BODY_FLUSH	8192		/* write the body in chunks of this */

/* Dialogue state of one attempt */
typedef struct SMTP_DLG {
    SMTP_SESS *sess;
    SMTP_TRANS *trans;
    SMTP_RESP resp;
    VSTRING *cmd;
    char   *dsn;			/* caller's buffer, 16 bytes */
    VSTRING *why;
} SMTP_DLG;

/* smtp_lost_why - the reason for a broken connection while doing STAGE */
static int smtp_lost_why(SMTP_DLG *d, const char *stage)
{
    snprintf(d->dsn, 16, "4.4.2");
    if (d->sess->timed_out)
	vstring_sprintf(d->why, "conversation with %s timed out while %s",
			d->sess->namaddr, stage);
    else
	vstring_sprintf(d->why, "lost connection with %s while %s",
			d->sess->namaddr, stage);
    return (SMTP_TRY_NEXT);
}

/* smtp_said - "host x[ip] said: TEXT (in reply to CMD command)" */
static void smtp_said(SMTP_DLG *d, VSTRING *buf, const char *cmd)
{
    vstring_sprintf(buf, "host %s said: %s (in reply to %s command)",
		    d->sess->namaddr, STR(d->resp.text), cmd);
}

/* smtp_command - send one command line and read the reply; 0 or -1 */
static int smtp_command(SMTP_DLG *d, int timeout, const char *fmt,...)
    PRINTFLIKE(3, 4);

static int smtp_command(SMTP_DLG *d, int timeout, const char *fmt,...)
{
    va_list ap;

    vstring_reset(d->cmd);
    va_start(ap, fmt);
    vstring_vsprintf_append(d->cmd, fmt, ap);
    va_end(ap);
    if (msg_verbose)
	msg_info("> %s: %s", d->sess->namaddr, STR(d->cmd));
    vstring_strcat(d->cmd, "\r\n");
    if (smtp_sess_write(d->sess, STR(d->cmd), LEN(d->cmd), timeout) < 0
	|| smtp_sess_reply(d->sess, &d->resp, timeout) < 0)
	return (-1);
    if (msg_verbose)
	msg_info("< %s: %s", d->sess->namaddr, STR(d->resp.text));
    return (0);
}

/* smtp_settle - give open recipients (ACCEPTED_ONLY: those RCPT accepted) a result */
static void smtp_settle(SMTP_DLG *d, int accepted_only, int status,
			        const char *dsn, const char *reason)
{
    for (int i = 0; i < d->trans->rcpt_count; i++) {
	SMTP_RCPT *r = d->trans->rcpts + i;

	if (r->status >= 0 || (accepted_only && !r->accepted))
	    continue;
	r->status = status;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	vstring_strcpy(r->reason, reason);
    }
}

/* smtp_fail_why - the reply fails all open recipients with WHY: 4xx defers, 5xx bounces */
static int smtp_fail_why(SMTP_DLG *d, const char *why)
{
    if (d->resp.code / 100 == 5) {
	smtp_settle(d, 0, DELIVER_STAT_BOUNCE, d->resp.dsn, why);
	return (SMTP_TRY_DONE);
    }
    snprintf(d->dsn, 16, "%s", d->resp.code / 100 == 4 ? d->resp.dsn : "4.0.0");
    vstring_strcpy(d->why, why);
    return (SMTP_TRY_NEXT);
}

/* smtp_fail_all - the reply to CMD fails all open recipients */
static int smtp_fail_all(SMTP_DLG *d, const char *cmd)
{
    VSTRING *buf = vstring_alloc(100);
    int     ret;

    smtp_said(d, buf, cmd);
    ret = smtp_fail_why(d, STR(buf));
    vstring_free(buf);
    return (ret);
}

/* smtp_refused - Postfix's words for a refused LHLO */
static int smtp_refused(SMTP_DLG *d)
{
    VSTRING *buf = vstring_alloc(100);
    int     ret;

    vstring_sprintf(buf, "host %s refused to talk to me: %s", d->sess->namaddr,
		    STR(d->resp.text));
    ret = smtp_fail_why(d, STR(buf));
    vstring_free(buf);
    return (ret);
}

/* smtp_parse_ehlo - the features of an EHLO reply */
static void smtp_parse_ehlo(SMTP_SESS *sess, const char *lines)
{
    const char *cp = strchr(lines, '\n');	/* the first line is the greeting */

    sess->features = SMTP_FEATURE_ESMTP;
    while (cp && *++cp) {
	size_t  len = strcspn(cp, "\n");
	size_t  word = strcspn(cp, " =\n");

#define SMTP_IS(name) (word == strlen(name) && strncasecmp(cp, name, word) == 0)
	if (SMTP_IS("STARTTLS"))
	    sess->features |= SMTP_FEATURE_STARTTLS;
	else if (SMTP_IS("PIPELINING"))
	    sess->features |= SMTP_FEATURE_PIPELINING;
	else if (SMTP_IS("DSN"))
	    sess->features |= SMTP_FEATURE_DSN;
	else if (SMTP_IS("SMTPUTF8"))
	    sess->features |= SMTP_FEATURE_SMTPUTF8;
	else if (SMTP_IS("8BITMIME"))
	    sess->features |= SMTP_FEATURE_8BITMIME;
	else if (SMTP_IS("SIZE")) {
	    sess->features |= SMTP_FEATURE_SIZE;
	    sess->size_limit = word < len ? atol(cp + word + 1) : 0;
	} else if (SMTP_IS("AUTH") && word < len && sess->auth_mechs == 0) {
	    sess->features |= SMTP_FEATURE_AUTH;
	    sess->auth_mechs = mystrndup(cp + word + 1, len - word - 1);
	}
	cp = strchr(cp, '\n');
    }
}

/* smtp_loops - does the EHLO reply name us (mail would loop)?  SMTP only */
static int smtp_loops(SMTP_DLG *d)
{
    const char *name = smtp_conf.helo_name;
    const char *lines = STR(d->resp.lines);
    size_t  len = strlen(name);
    VSTRING *buf;

    if (smtp_conf.lmtp || strncasecmp(lines, name, len) != 0
	|| (lines[len] != ' ' && lines[len] != '\n'))
	return (0);
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "mail for %s loops back to myself", d->trans->nexthop);
    smtp_settle(d, 0, DELIVER_STAT_BOUNCE, "5.4.6", STR(buf));
    vstring_free(buf);
    return (1);
}

/*
 * smtp_helo - EHLO, or HELO when EHLO is refused; LMTP: LHLO, and no
 * fallback (RFC 2033).  A result or -1 (go on).
 */
static int smtp_helo(SMTP_DLG *d)
{
    SMTP_SESS *sess = d->sess;
    const char *verb = smtp_conf.lmtp ? "LHLO" : "EHLO";

    sess->features = 0;
    if (sess->auth_mechs) {
	myfree(sess->auth_mechs);
	sess->auth_mechs = 0;
    }
    if (smtp_command(d, smtp_conf.helo_timeout, "%s %s", verb, smtp_conf.helo_name) < 0)
	return (smtp_lost_why(d, smtp_conf.lmtp ? "performing the LHLO handshake" :
			      "performing the EHLO handshake"));
    if (d->resp.code / 100 == 2) {
	if (smtp_loops(d))
	    return (SMTP_TRY_DONE);
	smtp_parse_ehlo(sess, STR(d->resp.lines));
	return (-1);
    }
    if (smtp_conf.lmtp)
	return (smtp_refused(d));
    if (smtp_command(d, smtp_conf.helo_timeout, "HELO %s", smtp_conf.helo_name) < 0)
	return (smtp_lost_why(d, "performing the HELO handshake"));
    if (d->resp.code / 100 == 2)
	return (-1);
    return (smtp_fail_all(d, "HELO"));
}

/* smtp_tls_required - does the security level insist on TLS? */
static int smtp_tls_required(void)
{
    const char *level = smtp_conf.tls_level;

    return (strcasecmp(level, "encrypt") == 0 || strcasecmp(level, "verify") == 0
	    || strcasecmp(level, "secure") == 0 || strcasecmp(level, "dane-only") == 0
	    || strcasecmp(level, "fingerprint") == 0);
}

/* smtp_tls_unsupported - a level whose authentication is not implemented */
static int smtp_tls_unsupported(void)
{
    const char *level = smtp_conf.tls_level;

    return (strcasecmp(level, "dane-only") == 0 || strcasecmp(level, "fingerprint") == 0);
}

/* smtp_tls_verify_required - must the certificate match the server name? */
static int smtp_tls_verify_required(void)
{
    const char *level = smtp_conf.tls_level;

    return (strcasecmp(level, "verify") == 0 || strcasecmp(level, "secure") == 0);
}

/* smtp_tls_defer - defer the attempt with DSN and a reason; SMTP_TRY_NEXT */
static int smtp_tls_defer(SMTP_DLG *d, const char *dsn, const char *fmt,...)
    PRINTFLIKE(3, 4);

static int smtp_tls_defer(SMTP_DLG *d, const char *dsn, const char *fmt,...)
{
    va_list ap;

    snprintf(d->dsn, 16, "%s", dsn);
    vstring_reset(d->why);
    va_start(ap, fmt);
    vstring_vsprintf_append(d->why, fmt, ap);
    va_end(ap);
    return (SMTP_TRY_NEXT);
}

/* smtp_tls_log - Postfix's "... TLS connection established to ..." line */
static void smtp_tls_log(SMTP_SESS *sess)
{
    VSTRING *sum = vstring_alloc(100);
    VSTRING *kex = vstring_alloc(100);

    if (smtp_conf.tls_loglevel >= 1)
	msg_info("%s TLS connection established to %s: %s%s", sess->tls_level,
		 sess->relay, tls_summary(sess->tls, sum),
		 tls_kex_summary(sess->tls, kex));
    vstring_free(sum);
    vstring_free(kex);
}

/* smtp_starttls - STARTTLS as the level asks; a result, or -1 (go on) */
static int smtp_starttls(SMTP_DLG *d, int use_tls)
{
    SMTP_SESS *sess = d->sess;
    int     required = smtp_tls_required();
    int     ret;

    if (strcasecmp(smtp_conf.tls_level, "none") == 0 || *smtp_conf.tls_level == 0
	|| (!use_tls && !required))
	return (-1);
    if (smtp_tls_unsupported())
	return (smtp_tls_defer(d, "4.7.5", "TLS security level %s is not supported",
			       smtp_conf.tls_level));
    if (smtp_conf.tls_ctx == 0)
	return (required ? smtp_tls_defer(d, "4.7.5",
			"TLS is required, but our TLS engine is unavailable") : -1);
    if (!(sess->features & SMTP_FEATURE_STARTTLS))
	return (required ? smtp_tls_defer(d, "4.7.4",
			"TLS is required, but was not offered by host %s",
					   sess->namaddr) : -1);
    if (smtp_command(d, smtp_conf.helo_timeout, "STARTTLS") < 0)
	return (smtp_lost_why(d, "sending STARTTLS"));
    if (d->resp.code != 220)
	return (required ? smtp_tls_defer(d, "4.7.5",
		      "TLS is required, but host %s refused to start TLS: %s",
				       sess->namaddr, STR(d->resp.text)) : -1);
    if (smtp_sess_starttls(sess, smtp_conf.tls_ctx, smtp_conf.starttls_timeout,
			   sess->host, d->why) < 0) {
	snprintf(d->dsn, 16, "4.7.5");
	return (required ? SMTP_TRY_NEXT : SMTP_TRY_RETRY_PLAIN);
    }
    smtp_tls_log(sess);
    if (smtp_tls_verify_required() && sess->tls_peer < TLS_PEER_VERIFIED) {
	msg_info("server certificate verification failed for %s: %s",
		 sess->namaddr, sess->tls_peer == TLS_PEER_TRUSTED ?
		 "certificate name does not match" : tls_verify_text(sess->tls));
	return (smtp_tls_defer(d, "4.7.5", "Server certificate not verified"));
    }
    if ((ret = smtp_helo(d)) >= 0)
	return (ret);
    return (-1);
}

/* smtp_xtext - RFC 3461 xtext of TEXT appended to BUF */
static void smtp_xtext(VSTRING *buf, const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++) {
	if (*cp < 33 || *cp > 126 || *cp == '+' || *cp == '=')
	    vstring_sprintf_append(buf, "+%02X", *cp);
	else
	    vstring_addch(buf, *cp);
    }
}

/* smtp_smtputf8 - refuse to send what needs SMTPUTF8 to a server without it */
static int smtp_smtputf8(SMTP_DLG *d)
{
    VSTRING *why;

    /* As Postfix: no downgrade of an address that needs SMTPUTF8 */
    if (!d->trans->smtputf8 || (d->sess->features & SMTP_FEATURE_SMTPUTF8))
	return (-1);
    why = vstring_alloc(100);
    vstring_sprintf(why, "SMTPUTF8 is required, but was not offered by host %s",
		    d->sess->namaddr);
    smtp_settle(d, 0, DELIVER_STAT_BOUNCE, "5.6.7", STR(why));
    vstring_free(why);
    return (SMTP_TRY_DONE);
}

/* The commands of the envelope, in the order they are sent */
#define SMTP_STEP_MAIL	0
#define SMTP_STEP_RCPT	1
#define SMTP_STEP_DATA	2

typedef struct SMTP_STEP {
    int     kind;			/* SMTP_STEP_* */
    SMTP_RCPT *rcpt;			/* SMTP_STEP_RCPT */
} SMTP_STEP;

/* "lost connection with HOST while STAGE", by SMTP_STEP_* */
static const char *smtp_step_stage[] = {
    "sending MAIL FROM", "sending RCPT TO", "sending DATA command",
};

/* smtp_step_timeout - how long the command of STEP and its reply may take */
static int smtp_step_timeout(const SMTP_STEP *step)
{
    return (step->kind == SMTP_STEP_MAIL ? smtp_conf.mail_timeout :
	    step->kind == SMTP_STEP_RCPT ? smtp_conf.rcpt_timeout :
	    smtp_conf.data_init_timeout);
}

/* smtp_mail_args - SMTPUTF8, SIZE, RET and ENVID as the server allows */
static void smtp_mail_args(SMTP_DLG *d, VSTRING *args)
{
    SMTP_SESS *sess = d->sess;
    SMTP_TRANS *t = d->trans;

    if (t->smtputf8)
	vstring_strcat(args, " SMTPUTF8");
    if ((sess->features & SMTP_FEATURE_SIZE) && t->size > 0)
	vstring_sprintf_append(args, " SIZE=%ld", t->size);
    if (sess->features & SMTP_FEATURE_DSN) {
	if (t->dsn_ret && *t->dsn_ret)
	    vstring_sprintf_append(args, " RET=%s", t->dsn_ret);
	if (t->dsn_envid && *t->dsn_envid) {
	    vstring_strcat(args, " ENVID=");
	    smtp_xtext(args, t->dsn_envid);
	}
    }
}

/* smtp_rcpt_args - NOTIFY and ORCPT when the server speaks DSN */
static void smtp_rcpt_args(SMTP_DLG *d, const SMTP_RCPT *r, VSTRING *args)
{
    if (d->sess->features & SMTP_FEATURE_DSN) {
	if (*r->dsn_notify)
	    vstring_sprintf_append(args, " NOTIFY=%s", r->dsn_notify);
	if (*r->dsn_orcpt) {
	    vstring_strcat(args, " ORCPT=");
	    smtp_xtext(args, r->dsn_orcpt);
	}
    }
}

/* smtp_step_cmd - append the command line of STEP (with CRLF) to BUF */
static void smtp_step_cmd(SMTP_DLG *d, const SMTP_STEP *step, VSTRING *buf)
{
    VSTRING *args = vstring_alloc(100);
    size_t  start = LEN(buf);

    if (step->kind == SMTP_STEP_MAIL) {
	smtp_mail_args(d, args);
	vstring_sprintf_append(buf, "MAIL FROM:<%s>%s", d->trans->sender, STR(args));
    } else if (step->kind == SMTP_STEP_RCPT) {
	smtp_rcpt_args(d, step->rcpt, args);
	vstring_sprintf_append(buf, "RCPT TO:<%s>%s", step->rcpt->address, STR(args));
    } else {
	vstring_strcat(buf, "DATA");
    }
    if (msg_verbose)
	msg_info("> %s: %s", d->sess->namaddr, STR(buf) + start);
    vstring_strcat(buf, "\r\n");
    vstring_free(args);
}

/* smtp_accepted - how many open recipients RCPT accepted */
static int smtp_accepted(SMTP_DLG *d)
{
    int     n = 0;

    for (int i = 0; i < d->trans->rcpt_count; i++)
	n += (d->trans->rcpts[i].status < 0 && d->trans->rcpts[i].accepted);
    return (n);
}

/* smtp_fail_code - a 4xx or 5xx reply: its status and DSN (else 4.0.0) */
static int smtp_fail_code(SMTP_DLG *d, const char **dsn)
{
    int     class = d->resp.code / 100;

    *dsn = class == 4 || class == 5 ? d->resp.dsn : "4.0.0";
    return (class == 5 ? DELIVER_STAT_BOUNCE : DELIVER_STAT_DEFER);
}

/* smtp_rcpt_reply - the RCPT reply settles a refused recipient */
static void smtp_rcpt_reply(SMTP_DLG *d, SMTP_RCPT *r)
{
    const char *dsn;

    if (d->resp.code / 100 == 2) {
	r->accepted = 1;
	return;
    }
    r->status = smtp_fail_code(d, &dsn);
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
    smtp_said(d, r->reason, "RCPT TO");
}

/*
 * smtp_data_reply - 354 goes on to the content (-1), unless no recipient
 * was accepted (possible with PIPELINING): the connection is dropped
 * unused.  Any other reply settles the accepted recipients.
 */
static int smtp_data_reply(SMTP_DLG *d)
{
    VSTRING *buf;
    const char *dsn;
    int     status;

    if (d->resp.code == 354) {
	if (smtp_accepted(d) > 0)
	    return (-1);
	d->sess->lost = 1;			/* no QUIT inside DATA */
	return (SMTP_TRY_DONE);
    }
    buf = vstring_alloc(100);
    smtp_said(d, buf, "DATA");
    status = smtp_fail_code(d, &dsn);
    smtp_settle(d, 1, status, dsn, STR(buf));
    vstring_free(buf);
    return (SMTP_TRY_DONE);
}

/* smtp_step_reply - act on the reply to STEP; a result or -1 (go on) */
static int smtp_step_reply(SMTP_DLG *d, const SMTP_STEP *step)
{
    if (msg_verbose)
	msg_info("< %s: %s", d->sess->namaddr, STR(d->resp.text));
    switch (step->kind) {
    case SMTP_STEP_MAIL:
	if (d->resp.code / 100 == 2)
	    return (-1);
	d->sess->in_trans = 0;
	d->trans->mesg_fail = 1;		/* Postfix's smtp_mesg_fail() */
	return (smtp_fail_all(d, "MAIL FROM"));
    case SMTP_STEP_RCPT:
	smtp_rcpt_reply(d, step->rcpt);
	return (-1);
    default:
	return (smtp_data_reply(d));
    }
}

/* smtp_steps_make - MAIL, RCPT for each open recipient, DATA; the count */
static int smtp_steps_make(SMTP_DLG *d, SMTP_STEP **steps)
{
    int     n = 0;

    *steps = mycalloc((size_t) d->trans->rcpt_count + 2, sizeof(**steps));
    (*steps)[n++].kind = SMTP_STEP_MAIL;
    for (int i = 0; i < d->trans->rcpt_count; i++) {
	if (d->trans->rcpts[i].status >= 0)
	    continue;
	(*steps)[n].kind = SMTP_STEP_RCPT;
	(*steps)[n++].rcpt = d->trans->rcpts + i;
    }
    (*steps)[n++].kind = SMTP_STEP_DATA;
    return (n);
}

/*
 * smtp_steps_drain - read the replies to commands already sent after an
 * early end, so that QUIT gets its own (a 354 means we are inside DATA:
 * drop the connection instead).
 */
static void smtp_steps_drain(SMTP_DLG *d, const SMTP_STEP *steps, int from, int to)
{
    for (int i = from; i < to && !d->sess->lost; i++) {
	if (smtp_sess_reply(d->sess, &d->resp, smtp_step_timeout(steps + i)) < 0)
	    break;
	if (steps[i].kind == SMTP_STEP_DATA && d->resp.code == 354)
	    d->sess->lost = 1;
    }
}

/*
 * smtp_stale - a cached session's first reply is a 421: the server ended
 * the idle session just now.  Dropped (sess->stale), as a lost one.
 */
static int smtp_stale(SMTP_DLG *d)
{
    if (!d->sess->reused || d->resp.code != 421)
	return (0);
    d->sess->lost = 1;
    return (1);
}

/*
 * smtp_envelope - MAIL FROM, RCPT TO per open recipient, DATA.  With
 * PIPELINING (RFC 2920) all are sent in one write and the replies read
 * in order; else one command at a time, and DATA only when a recipient
 * was accepted.  A result, or -1: send the content.
 */
static int smtp_envelope(SMTP_DLG *d)
{
    int     pipelining = (d->sess->features & SMTP_FEATURE_PIPELINING) != 0;
    SMTP_STEP *steps;
    int     count = smtp_steps_make(d, &steps);
    int     sent = 0, done = 0, ret = -1;

    while (ret < 0 && done < count) {
	if (sent == done) {
	    if (!pipelining && steps[sent].kind == SMTP_STEP_DATA && smtp_accepted(d) == 0) {
		ret = SMTP_TRY_DONE;
		break;
	    }
	    vstring_reset(d->cmd);
	    do {
		smtp_step_cmd(d, steps + sent++, d->cmd);
	    } while (pipelining && sent < count);
	    d->sess->in_trans = 1;
	    if (smtp_sess_write(d->sess, STR(d->cmd), LEN(d->cmd),
				smtp_step_timeout(steps + sent - 1)) < 0) {
		ret = smtp_lost_why(d, smtp_step_stage[steps[done].kind]);
		break;
	    }
	}
	if (smtp_sess_reply(d->sess, &d->resp, smtp_step_timeout(steps + done)) < 0) {
	    ret = smtp_lost_why(d, smtp_step_stage[steps[done].kind]);
	    break;
	}
	if (done == 0 && smtp_stale(d)) {
	    ret = smtp_lost_why(d, smtp_step_stage[steps[done].kind]);
	    break;
	}
	ret = smtp_step_reply(d, steps + done++);
    }
    if (done == 0 && d->sess->reused && d->sess->lost)
	d->sess->stale = 1;			/* closed while it was cached */
    if (ret >= 0 && !d->sess->stale)
	smtp_steps_drain(d, steps, done, sent);
    myfree(steps);
    return (ret);
}

/* Body output: CRLF line ends, dot-stuffing, buffered writes */
typedef struct SMTP_BODY {
    SMTP_SESS *sess;
    VSTRING *out;
    int     bol;			/* at the beginning of a line */
    int     prev_cr;			/* the last byte was CR */
} SMTP_BODY;

static int smtp_body_flush(SMTP_BODY *b)
{
    int     ret = smtp_sess_write(b->sess, STR(b->out), LEN(b->out),
				  smtp_conf.data_xfer_timeout);

    vstring_reset(b->out);
    return (ret);
}

static int smtp_body_out(const char *data, size_t len, void *ctx)
{
    SMTP_BODY *b = ctx;

    for (size_t i = 0; i < len; i++) {
	char    ch = data[i];

	if (b->bol && ch == '.')
	    vstring_addch(b->out, '.');
	if (ch == '\n' && !b->prev_cr)
	    vstring_addch(b->out, '\r');
	vstring_addch(b->out, ch);
	b->bol = (ch == '\n');
	b->prev_cr = (ch == '\r');
	if (LEN(b->out) >= SMTP_BODY_FLUSH && smtp_body_flush(b) < 0)
	    return (-1);
    }
    return (0);
}

/* smtp_body - the content and the final dot; a result, or -1 (read the replies) */
static int smtp_body(SMTP_DLG *d)
{
    SMTP_BODY body;
    int     ret;

    body.sess = d->sess;
    body.out = vstring_alloc(SMTP_BODY_FLUSH + 10);
    body.bol = 1;
    body.prev_cr = 0;
    ret = d->trans->content(d->trans->content_ctx, smtp_body_out, &body);
    if (ret == 0 && !body.bol)
	vstring_strcat(body.out, "\r\n");
    if (ret == 0)
	vstring_strcat(body.out, ".\r\n");
    if (ret == 0)
	ret = smtp_body_flush(&body);
    vstring_free(body.out);
    if (ret != 0 && !d->sess->lost) {
	/* The queue file could not be read: defer, the reason is in WHY */
	smtp_settle(d, 1, DELIVER_STAT_DEFER, "4.3.0", LEN(d->trans->content_why) ?
		    STR(d->trans->content_why) : "error reading queue file");
	d->sess->lost = 1;			/* no QUIT inside DATA */
	return (SMTP_TRY_DONE);
    }
    if (ret != 0)
	return (smtp_lost_why(d, "sending message body"));
    return (-1);
}

/* smtp_dot_result - the end-of-data reply is recipient R's outcome */
static void smtp_dot_result(SMTP_DLG *d, SMTP_RCPT *r)
{
    const char *dsn;

    if (d->resp.code / 100 == 2) {
	r->status = DELIVER_STAT_OK;
	r->dsn_passed = (d->sess->features & SMTP_FEATURE_DSN) != 0;
	snprintf(r->dsn, sizeof(r->dsn), "%s", d->resp.dsn);
	vstring_strcpy(r->reason, STR(d->resp.text));
    } else {
	r->status = smtp_fail_code(d, &dsn);
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	smtp_said(d, r->reason, "end of DATA");
    }
}

/*
 * smtp_dot_replies - SMTP: one reply for every accepted recipient; LMTP
 * (RFC 2033 4.2): one reply per accepted recipient, in RCPT order.  A
 * lost connection leaves the unanswered recipients open.
 */
static int smtp_dot_replies(SMTP_DLG *d)
{
    int     have_reply = 0;

    for (int i = 0; i < d->trans->rcpt_count; i++) {
	SMTP_RCPT *r = d->trans->rcpts + i;

	if (r->status >= 0 || !r->accepted)
	    continue;
	if (smtp_conf.lmtp || !have_reply) {
	    if (smtp_sess_reply(d->sess, &d->resp, smtp_conf.data_done_timeout) < 0)
		return (smtp_lost_why(d, "sending end of data -- "
				      "message may be sent more than once"));
	    if (msg_verbose)
		msg_info("< %s: %s", d->sess->namaddr, STR(d->resp.text));
	    have_reply = 1;
	}
	smtp_dot_result(d, r);
    }
    d->sess->in_trans = 0;
    return (SMTP_TRY_DONE);
}

/* smtp_dlg_init - a dialogue over SESS (TRANS may be NULL: no transaction) */
static void smtp_dlg_init(SMTP_DLG *d, SMTP_SESS *sess, SMTP_TRANS *trans,
			          char *dsn, VSTRING *why)
{
    d->sess = sess;
    d->trans = trans;
    d->dsn = dsn;
    d->why = why;
    d->cmd = vstring_alloc(100);
    smtp_resp_init(&d->resp);
}

static void smtp_dlg_free(SMTP_DLG *d)
{
    smtp_resp_free(&d->resp);
    vstring_free(d->cmd);
}

void	smtp_proto_quit(SMTP_SESS *sess, int timeout)
{
    SMTP_DLG d;
    char    dsn[16];

    if (sess->lost)
	return;
    smtp_dlg_init(&d, sess, 0, dsn, 0);
    (void) smtp_command(&d, timeout, "QUIT");
    smtp_dlg_free(&d);
}

int	smtp_proto_reusable(SMTP_SESS *sess, int result)
{
    SMTP_DLG d;
    char    dsn[16];

    if (result != SMTP_TRY_DONE || sess->lost || !sess->ready)
	return (0);
    if (sess->in_trans) {
	/* As Postfix: a transaction left open (all recipients refused) */
	smtp_dlg_init(&d, sess, 0, dsn, 0);
	if (smtp_command(&d, smtp_conf.mail_timeout, "RSET") == 0
	    && d.resp.code / 100 == 2)
	    sess->in_trans = 0;
	smtp_dlg_free(&d);
    }
    return (!sess->lost && !sess->in_trans);
}

/* smtp_handshake - greeting done: EHLO, STARTTLS, AUTH; a result or -1 (go on) */
static int smtp_handshake(SMTP_DLG *d, int use_tls)
{
    int     ret;

    if ((ret = smtp_helo(d)) >= 0 || (ret = smtp_starttls(d, use_tls)) >= 0)
	return (ret);
    if (smtp_conf.sasl_enable
	&& smtp_sasl_authenticate(d->sess, d->trans, d->dsn, d->why) < 0)
	return (SMTP_TRY_NEXT);
    d->sess->ready = 1;
    return (-1);
}

/* smtp_transaction - everything after the greeting (a cached session: after AUTH) */
static int smtp_transaction(SMTP_DLG *d, int use_tls)
{
    int     ret;

    if ((!d->sess->ready && (ret = smtp_handshake(d, use_tls)) >= 0)
	|| (ret = smtp_smtputf8(d)) >= 0 || (ret = smtp_envelope(d)) >= 0
	|| (ret = smtp_body(d)) >= 0)
	return (ret);
    return (smtp_dot_replies(d));
}

int	smtp_proto_deliver(SMTP_SESS *sess, SMTP_TRANS *trans, int use_tls,
			           char *dsn, VSTRING *why)
{
    SMTP_DLG d;
    int     ret;

    smtp_dlg_init(&d, sess, trans, dsn, why);
    trans->mesg_fail = 0;
    for (int i = 0; i < trans->rcpt_count; i++)
	trans->rcpts[i].accepted = 0;
    if (sess->ready) {
	ret = smtp_transaction(&d, use_tls);
    } else if (smtp_sess_reply(sess, &d.resp, smtp_conf.helo_timeout) < 0) {
	ret = smtp_lost_why(&d, "receiving the initial server greeting");
    } else if (d.resp.code != 220) {
	vstring_sprintf(why, "host %s refused to talk to me: %s", sess->namaddr,
			STR(d.resp.text));
	if (d.resp.code / 100 == 5 && !smtp_conf.skip_5xx_greeting) {
	    smtp_settle(&d, 0, DELIVER_STAT_BOUNCE, d.resp.dsn, STR(why));
	    ret = SMTP_TRY_DONE;
	} else {
	    snprintf(dsn, 16, "4%.14s", d.resp.code / 100 == 4 || d.resp.code / 100 == 5 ?
		     d.resp.dsn + 1 : ".0.0");
	    ret = SMTP_TRY_NEXT;
	}
    } else {
	ret = smtp_transaction(&d, use_tls);
    }
    /* Recipients RCPT accepted but never settled go back to open */
    for (int i = 0; i < trans->rcpt_count; i++)
	trans->rcpts[i].accepted = 0;
    smtp_dlg_free(&d);
    return (ret);
}
