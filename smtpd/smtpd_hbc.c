/*
 * smtpd_hbc.c - header_checks, body_checks and message_drop_headers while
 * the message is received (what Postfix's cleanup does before queueing).
 *
 * Headers: with header_checks, each logical header (a header line and its
 * continuation lines) is collected, up to header_size_limit bytes, then
 * looked up as a whole ("Subject: a\n\tb"); the rest of a longer header
 * follows the decision made on its first part.  Without header_checks,
 * each header is kept or dropped by its name as it streams past.  Headers
 * named in message_drop_headers are dropped after the checks have seen
 * them (as Postfix does with Bcc:, Return-Path: ...).  Our own Received:
 * header goes through the header checks too, as in Postfix.
 *
 * Body: with body_checks, each line is looked up in pieces of at most
 * line_length_limit bytes, until body_checks_size_limit bytes were looked
 * at; after that, and without body_checks, content goes straight to the
 * queue file.
 *
 * Address headers (From:, To:, Cc:, ...) of mail from a client in
 * local_header_rewrite_clients (default: the server's own addresses, and
 * local submission) are collected too, and their addresses go through
 * the header_sender / header_recipient canonical mapping and
 * masquerading (addr_rewrite.c, lib/mail/header_addr.c), after the
 * header checks, as Postfix's cleanup does.
 *
 * Log lines have Postfix's shape:
 *   ID: reject: header Subject: spam from host[addr]; from=<s> to=<r>
 *       proto=ESMTP helo=<h>: 5.7.1 Message content rejected
 * REJECT, DISCARD and PASS end the inspection of the message.
 *
 * Parameters: header_checks, body_checks, header_size_limit,
 * body_checks_size_limit, message_drop_headers, line_length_limit,
 * local_header_rewrite_clients (permit_inet_interfaces, permit_mynetworks,
 * permit_sasl_authenticated, static:all).
 */
#include "sys_defs.h"
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"
#include "mail_conf.h"
#include "hbc.h"
#include "addr_rewrite.h"
#include "header_addr.h"
#include "smtpd.h"
#include "smtpd_hbc.h"

#define HBC_LOG_TEXT_MAX	200	/* bytes of the line in a log record */

/* What happens to the header in progress */
#define HDR_NONE	0		/* no header yet: write what comes */
#define HDR_COLLECT	1		/* collecting it for header_checks */
#define HDR_KEEP	2		/* decided: write the rest */
#define HDR_DROP	3		/* decided: drop the rest */

/* What to do with a checked line */
#define LINE_KEEP	0
#define LINE_DROP	1
#define LINE_REPLACE	2
#define LINE_PREPEND	3

typedef struct SMTPD_HBC {
    int     hdr_mode;			/* HDR_* */
    VSTRING *header;			/* HDR_COLLECT: the header so far */
    VSTRING *line;			/* body line piece being collected */
    VSTRING *text;			/* an action's text */
    long    body_seen;			/* body bytes looked at */
    int     checks_off;			/* after REJECT, DISCARD or PASS */
    int     result;			/* SMTPD_HBC_* */
    char   *reject;			/* REJECT: "5.7.1 text" */
    int     rewrite;			/* rewrite address headers */
    const char *rewrite_class;		/* ... this one's: "header_sender" */
} SMTPD_HBC;

/* Address headers and their canonical class, as Postfix's cleanup has them */
static const struct {
    const char *name;
    const char *class;
} addr_headers[] = {
    {"From", "header_sender"}, {"Sender", "header_sender"},
    {"Reply-To", "header_sender"}, {"Errors-To", "header_sender"},
    {"Return-Receipt-To", "header_sender"}, {"Resent-From", "header_sender"},
    {"Resent-Sender", "header_sender"}, {"Resent-Reply-To", "header_sender"},
    {"To", "header_recipient"}, {"Cc", "header_recipient"},
    {"Bcc", "header_recipient"}, {"Apparently-To", "header_recipient"},
    {"Resent-To", "header_recipient"}, {"Resent-Cc", "header_recipient"},
    {"Resent-Bcc", "header_recipient"},
    {0, 0},
};

/* addr_header_class - the class of the header in TEXT, or NULL */
static const char *addr_header_class(const char *text, size_t len)
{
    size_t  name_len = hbc_header_name_len(text, len);

    for (int i = 0; name_len && addr_headers[i].name; i++)
	if (strlen(addr_headers[i].name) == name_len
	    && strncasecmp(addr_headers[i].name, text, name_len) == 0)
	    return (addr_headers[i].class);
    return (0);
}

/* rewrite_addr - header_addr_rewrite's FN: one address through its class */
static int rewrite_addr(const char *addr, VSTRING *result, void *ctx)
{
    const char *class = ctx;

    if (addr_rewrite_class(class, addr, result) < 0 || strcmp(STR(result), addr) == 0)
	return (0);				/* a table failed: as it was */
    return (1);
}

/* rewrite_header - the addresses of the collected header HDR (its newline
 * included) through their class */
static void rewrite_header(SMTPD_HBC *hs, VSTRING *hdr)
{
    size_t  name_len = hbc_header_name_len(STR(hdr), LEN(hdr));
    VSTRING *value = vstring_alloc(LEN(hdr));

    if (name_len == 0 || STR(hdr)[name_len] != ':') {
	vstring_free(value);
	return;
    }
    if (header_addr_rewrite(STR(hdr) + name_len + 1, LEN(hdr) - name_len - 1,
			    value, rewrite_addr, (void *) hs->rewrite_class) > 0) {
	vstring_truncate(hdr, name_len + 1);
	vstring_memcat(hdr, STR(value), LEN(value));
    }
    vstring_free(value);
}

/* rewrite_client - the client is in local_header_rewrite_clients */
static int rewrite_client(SMTPD_STATE *state)
{
    char   *saved = mystrdup(conf_str("local_header_rewrite_clients"));
    char   *cp = saved, *word;
    int     yes = state->submit;

    while (!yes && (word = strsep(&cp, ", \t\r\n")) != 0) {
	if (strcasecmp(word, "permit_mynetworks") == 0)
	    yes = state->mynetworks;
	else if (strcasecmp(word, "permit_sasl_authenticated") == 0)
	    yes = (state->sasl_username != 0);
	else if (strcasecmp(word, "static:all") == 0)
	    yes = 1;
	else if (strcasecmp(word, "permit_inet_interfaces") == 0)
	    yes = smtpd_mynetworks_match(strcmp(conf_str("inet_interfaces"), "all") == 0
				 ? "127.0.0.0/8 [::1]/128" : conf_str("inet_interfaces"),
					 state->addr);
    }
    myfree(saved);
    return (yes);
}

static HBC *header_checks;
static HBC *body_checks;
static char **drop_names;		/* message_drop_headers, NULL-terminated */
static long header_limit;
static long body_limit;

/* smtpd_hbc_init - tables and limits, once per process (pre_init) */
void	smtpd_hbc_init(void)
{
    char   *list = mystrdup(conf_str("message_drop_headers"));
    char   *cp = list;
    char   *name;
    int     count = 0;

    if ((var_receive_override & SMTPD_NO_HBC) == 0) {
	header_checks = hbc_create("header_checks", conf_str("header_checks"));
	body_checks = hbc_create("body_checks", conf_str("body_checks"));
    }
    header_limit = conf_int("header_size_limit");
    body_limit = conf_int("body_checks_size_limit");
    drop_names = mymalloc(sizeof(char *));
    while ((name = strsep(&cp, ", \t\r\n")) != 0) {
	if (*name == 0)
	    continue;
	drop_names = myrealloc(drop_names, (count + 2) * sizeof(char *));
	drop_names[count++] = mystrdup(name);
    }
    drop_names[count] = 0;
    myfree(list);
}

/* drop_header - is the header in TEXT named in message_drop_headers? */
static int drop_header(const char *text, size_t len)
{
    size_t  name_len = hbc_header_name_len(text, len);

    if (name_len == 0)
	return (0);
    for (char **cpp = drop_names; *cpp; cpp++)
	if (strlen(*cpp) == name_len && strncasecmp(*cpp, text, name_len) == 0)
	    return (1);
    return (0);
}

/* out - write content to the queue file */
static void out(SMTPD_STATE *state, const char *data, size_t len)
{
    if (len > 0)
	qfile_content(state->qf, data, len);
}

/* out_line - write TEXT and a newline */
static void out_line(SMTPD_STATE *state, const char *text)
{
    out(state, text, strlen(text));
    out(state, "\n", 1);
}

/* hbc_log - Postfix's cleanup_act_log() line */
static void hbc_log(SMTPD_STATE *state, const char *label, const char *where,
		            const char *content, const char *text)
{
    VSTRING *buf = vstring_alloc(300);

    vstring_sprintf(buf, "%s: %s: %s ", STR(state->qf->id), label, where);
    printable_cat(buf, content, HBC_LOG_TEXT_MAX, '?');
    vstring_sprintf_append(buf, " from %s;", state->namaddr);
    vstring_sprintf_append(buf, " from=<%s>", state->sender ? state->sender : "");
    if (state->rcpt_count > 0)
	vstring_sprintf_append(buf, " to=<%s>", state->rcpt[0]);
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo)
	vstring_sprintf_append(buf, " helo=<%s>", state->helo);
    if (text && *text) {
	vstring_strcat(buf, ": ");
	printable_cat(buf, text, (size_t) -1, '?');
    }
    msg_info("%s", STR(buf));
    vstring_free(buf);
}

/* hbc_act - carry out ACTION for CONTENT; returns LINE_* */
static int hbc_act(SMTPD_STATE *state, HBC *hbc, const char *where,
		           const char *content, int action)
{
    SMTPD_HBC *hs = state->hbc;
    const char *text = STR(hs->text);
    const char *label = hbc_action_label(action);

    switch (action) {
    case HBC_ACT_ERROR:
	msg_warn("%s: %s map lookup problem (%s) -- message not accepted, try again later",
		 STR(state->qf->id), hbc->param, conf_str(hbc->param));
	hs->result = SMTPD_HBC_ERROR;
	hs->checks_off = 1;
	return (LINE_KEEP);
    case HBC_ACT_REJECT:
	hbc_log(state, label, where, content, text);
	if (hs->result == SMTPD_HBC_OK) {
	    hs->result = SMTPD_HBC_REJECT;
	    hs->reject = mystrdup(text);
	}
	hs->checks_off = 1;
	return (LINE_KEEP);
    case HBC_ACT_DISCARD:
	hbc_log(state, label, where, content, text);
	if (state->discard_reason == 0)
	    state->discard_reason = mystrdup(*text ? text : "header/body checks");
	hs->checks_off = 1;
	return (LINE_KEEP);
    case HBC_ACT_HOLD:
	if (state->hold_reason == 0 && state->discard_reason == 0) {
	    hbc_log(state, label, where, content, text);
	    state->hold_reason = mystrdup(*text ? text : "header/body checks");
	}
	return (LINE_KEEP);
    case HBC_ACT_PASS:
	hbc_log(state, label, where, content, text);
	hs->checks_off = 1;
	return (LINE_KEEP);
    case HBC_ACT_WARN:
    case HBC_ACT_INFO:
	hbc_log(state, label, where, content, text);
	return (LINE_KEEP);
    case HBC_ACT_STRIP:
	hbc_log(state, label, where, content, text);
	return (LINE_DROP);
    case HBC_ACT_IGNORE:
	return (LINE_DROP);
    case HBC_ACT_REPLACE:
	return (LINE_REPLACE);
    case HBC_ACT_PREPEND:
	return (LINE_PREPEND);
    default:
	return (LINE_KEEP);
    }
}

/* check_line - look up BUF (a header or body piece, its newline removed) */
static int check_line(SMTPD_STATE *state, HBC *hbc, int is_header, VSTRING *buf,
		              int *had_nl)
{
    SMTPD_HBC *hs = state->hbc;
    int     action;

    *had_nl = (LEN(buf) > 0 && STR(buf)[LEN(buf) - 1] == '\n');
    if (*had_nl)
	vstring_truncate(buf, LEN(buf) - 1);
    if (hs->checks_off || hbc == 0)
	return (LINE_KEEP);
    action = hbc_check(hbc, is_header, STR(buf), hs->text);
    return (hbc_act(state, hbc, is_header ? "header" : "body", STR(buf), action));
}

/* header_decide - check the collected header, write it, set the mode */
static void header_decide(SMTPD_STATE *state)
{
    SMTPD_HBC *hs = state->hbc;
    VSTRING *hdr = hs->header;
    int     had_nl;
    int     what = check_line(state, header_checks, HBC_CTX_HEADER, hdr, &had_nl);

    if (had_nl)
	vstring_addch(hdr, '\n');
    hs->hdr_mode = HDR_KEEP;
    if (what == LINE_DROP) {
	hs->hdr_mode = HDR_DROP;
	return;
    }
    if (hs->rewrite_class && what == LINE_KEEP)
	rewrite_header(hs, hdr);
    if (what == LINE_PREPEND)
	out_line(state, STR(hs->text));
    if (what == LINE_REPLACE) {
	vstring_strcpy(hdr, STR(hs->text));
	vstring_addch(hdr, '\n');
	hs->hdr_mode = HDR_DROP;		/* the rest of a long original */
    }
    if (drop_header(STR(hdr), LEN(hdr)))
	hs->hdr_mode = HDR_DROP;
    else
	out(state, STR(hdr), LEN(hdr));
}

/* header_more - more of the header in progress */
static void header_more(SMTPD_STATE *state, const char *data, size_t len)
{
    SMTPD_HBC *hs = state->hbc;

    if (hs->hdr_mode == HDR_COLLECT) {
	size_t  room = header_limit > (long) LEN(hs->header) ?
	header_limit - LEN(hs->header) : 0;

	if (len <= room) {
	    vstring_memcat(hs->header, data, len);
	    return;
	}
	vstring_memcat(hs->header, data, room);
	header_decide(state);
	data += room;
	len -= room;
    }
    if (hs->hdr_mode != HDR_DROP)
	out(state, data, len);
}

/* header_start - the first piece of a new header */
static void header_start(SMTPD_STATE *state, const char *data, size_t len)
{
    SMTPD_HBC *hs = state->hbc;

    hs->rewrite_class = hs->rewrite ? addr_header_class(data, len) : 0;
    if ((header_checks && !hs->checks_off) || hs->rewrite_class) {
	hs->hdr_mode = HDR_COLLECT;
	vstring_reset(hs->header);
	header_more(state, data, len);
    } else {
	hs->hdr_mode = drop_header(data, len) ? HDR_DROP : HDR_KEEP;
	if (hs->hdr_mode == HDR_KEEP)
	    out(state, data, len);
    }
}

void	smtpd_hbc_header(SMTPD_STATE *state, const char *data, size_t len, int line_start)
{
    if (line_start && len > 0 && data[0] != ' ' && data[0] != '\t') {
	smtpd_hbc_header_end(state);
	header_start(state, data, len);
    } else {
	header_more(state, data, len);
    }
}

void	smtpd_hbc_header_end(SMTPD_STATE *state)
{
    if (state->hbc->hdr_mode == HDR_COLLECT)
	header_decide(state);
    state->hbc->hdr_mode = HDR_NONE;
}

void	smtpd_hbc_header_text(SMTPD_STATE *state, const char *text, size_t len)
{
    while (len > 0) {
	const char *nl = memchr(text, '\n', len);
	size_t  n = nl ? (size_t) (nl - text) + 1 : len;

	smtpd_hbc_header(state, text, n, 1);
	text += n;
	len -= n;
    }
}

/* body_decide - check the collected body piece and write what remains */
static void body_decide(SMTPD_STATE *state)
{
    SMTPD_HBC *hs = state->hbc;
    VSTRING *line = hs->line;
    int     had_nl;
    int     what;

    hs->body_seen += LEN(line);
    what = check_line(state, body_checks, HBC_CTX_BODY, line, &had_nl);
    if (had_nl)
	vstring_addch(line, '\n');
    if (what == LINE_PREPEND)
	out_line(state, STR(hs->text));
    if (what == LINE_REPLACE) {
	out(state, STR(hs->text), LEN(hs->text));
	if (had_nl)
	    out(state, "\n", 1);
    } else if (what != LINE_DROP) {
	out(state, STR(line), LEN(line));
    }
    vstring_reset(line);
}

void	smtpd_hbc_body(SMTPD_STATE *state, const char *data, size_t len, int line_start)
{
    SMTPD_HBC *hs = state->hbc;
    size_t  piece_limit = var_line_length_limit;

    while (len > 0 && body_checks && !hs->checks_off && hs->body_seen < body_limit) {
	size_t  n = piece_limit - LEN(hs->line);

	if (n > len)
	    n = len;
	vstring_memcat(hs->line, data, n);
	data += n;
	len -= n;
	if (STR(hs->line)[LEN(hs->line) - 1] == '\n' || LEN(hs->line) >= piece_limit)
	    body_decide(state);
    }
    if (len > 0 && LEN(hs->line) > 0)		/* checks ended mid-line */
	body_decide(state);
    out(state, data, len);
}

void	smtpd_hbc_begin(SMTPD_STATE *state)
{
    SMTPD_HBC *hs;

    smtpd_hbc_free(state);
    hs = mycalloc(1, sizeof(*hs));
    hs->header = vstring_alloc(header_checks ? 200 : 1);
    hs->line = vstring_alloc(body_checks ? 200 : 1);
    hs->text = vstring_alloc(100);
    hs->hdr_mode = HDR_NONE;
    hs->result = SMTPD_HBC_OK;
    hs->rewrite = addr_rewrite_active() && rewrite_client(state)
	&& (var_receive_override & SMTPD_NO_ADDR_MAPPINGS) == 0;
    if (hs->rewrite && LEN(hs->header) == 0)
	vstring_reserve(hs->header, 200);
    state->hbc = hs;
}

int	smtpd_hbc_end(SMTPD_STATE *state, VSTRING *reply)
{
    SMTPD_HBC *hs = state->hbc;

    if (hs->hdr_mode == HDR_COLLECT)
	header_decide(state);
    if (LEN(hs->line) > 0)
	body_decide(state);
    if (hs->result == SMTPD_HBC_ERROR)		/* the log says which table */
	vstring_strcpy(reply, "451 4.3.5 Server configuration problem");
    else if (hs->result == SMTPD_HBC_REJECT) {
	vstring_sprintf(reply, "%d ", hs->reject[0] == '4' ? 451 : 550);
	printable_cat(reply, hs->reject, 512, '?');	/* never a CR or LF */
    }
    return (hs->result);
}

void	smtpd_hbc_free(SMTPD_STATE *state)
{
    SMTPD_HBC *hs = state->hbc;

    if (hs == 0)
	return;
    vstring_free(hs->header);
    vstring_free(hs->line);
    vstring_free(hs->text);
    if (hs->reject)
	myfree(hs->reject);
    myfree(hs);
    state->hbc = 0;
}
