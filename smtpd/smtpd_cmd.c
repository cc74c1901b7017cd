/*
 * smtpd_cmd.c - the SMTP command table and command handlers.
 *
 * smtpd_command() gets one command line (line end removed), finds the verb
 * in the table, runs its handler and counts the result for the
 * "disconnect from" log line.  A handler appends exactly one reply and
 * returns 0 for a 2xx/3xx reply or -1 for a 4xx/5xx one; every 4xx/5xx
 * counts towards smtpd_hard_error_limit, as in Postfix.
 *
 * ESMTP parameters: MAIL FROM takes SIZE=, BODY=, and the RFC 3461 DSN
 * parameters RET= and ENVID=; RCPT TO takes NOTIFY= and ORCPT=.  DSN
 * values are decoded from xtext here and kept in the transaction; every
 * recipient gets an ORCPT ("rfc822;" + the RCPT address when the client
 * sent none), as Postfix records it, and its virtual-alias expansions
 * inherit NOTIFY and ORCPT.  A repeated parameter is a syntax error.
 *
 * XUID uid (not announced): pickup names the owner of a maildrop file;
 * only on the local submission socket and only from mail_owner or root.
 * MAIL FROM ... XVERIFY (not announced, local submission only): sendmail
 * -bv, the recipients are reported to the sender, not delivered.
 *
 * Parameters: smtpd_helo_required, disable_vrfy_command, and those in
 * smtpd.c.  Reply texts are Postfix's.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <limits.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "address.h"
#include "xtext.h"
#include "printable.h"
#include "mail_owner.h"
#include "smtpd.h"

/* Replaced in a stored HELO name, as Postfix (they could fake Received: structure) */
#define SMTPD_HELO_NEUTER	" <>()\\\";@"

typedef struct SMTPD_CMD {
    const char *verb;			/* upper case */
    const char *log_name;		/* for the disconnect line */
    int     (*action) (SMTPD_STATE *state, char *args);
    int     junk;			/* counts towards smtpd_junk_command_limit */
} SMTPD_CMD;

/* mail_dsn_reset - a refused MAIL command leaves no RET/ENVID behind */
static void mail_dsn_reset(SMTPD_STATE *state)
{
    state->dsn_ret = 0;
    if (state->dsn_envid)
	myfree(state->dsn_envid);
    state->dsn_envid = 0;
}

/* smtpd_reset_transaction - forget sender and recipients */
void	smtpd_reset_transaction(SMTPD_STATE *state)
{
    if (state->bdat_active)
	smtpd_data_abort(state);		/* RSET: the chunks so far go */
    for (int i = 0; i < state->rcpt_count; i++) {
	myfree(state->rcpt[i]);
	myfree(state->orcpt[i]);
	if (state->dsn_notify[i])
	    myfree(state->dsn_notify[i]);
	myfree(state->dsn_orcpt[i]);
    }
    if (state->rcpt) {
	myfree(state->rcpt);
	myfree(state->orcpt);
	myfree(state->dsn_notify);
	myfree(state->dsn_orcpt);
    }
    state->rcpt = state->orcpt = state->dsn_notify = state->dsn_orcpt = 0;
    state->rcpt_count = state->rcpt_alloc = 0;
    state->rcpt_cmds = 0;
    if (state->first_rcpt)
	myfree(state->first_rcpt);
    state->first_rcpt = 0;
    if (state->sender)
	myfree(state->sender);
    state->sender = 0;
    if (state->sender_raw)
	myfree(state->sender_raw);
    state->sender_raw = 0;
    state->encoding = 0;
    state->smtputf8 = 0;
    state->verify = 0;
    mail_dsn_reset(state);
    state->in_mail = 0;
    if (state->hold_reason)
	myfree(state->hold_reason);
    if (state->discard_reason)
	myfree(state->discard_reason);
    state->hold_reason = state->discard_reason = 0;
    for (char **cpp = state->prepend; cpp && *cpp; cpp++)
	myfree(*cpp);
    if (state->prepend)
	myfree(state->prepend);
    state->prepend = 0;
    if (state->filter)
	myfree(state->filter);
    state->filter = 0;
    state->declared_size = 0;
    state->transactions++;			/* a new policy "instance" */
    smtpd_milter_abort(state);
}

void	smtpd_prepend(SMTPD_STATE *state, const char *header)
{
    int     n = 0;

    while (state->prepend && state->prepend[n])
	n++;
    state->prepend = myrealloc(state->prepend, (n + 2) * sizeof(char *));
    state->prepend[n] = mystrdup(header);
    state->prepend[n + 1] = 0;
}

/* restricted - a restriction hook said no: log, answer; returns -1 */
static int restricted(SMTPD_STATE *state, const char *cmd, VSTRING *reply,
		              const char *rcpt)
{
    smtpd_reject_log(state, cmd, STR(reply), rcpt);
    smtpd_reply_raw(state, STR(reply));
    return (-1);
}

static int helo_common(SMTPD_STATE *state, char *args, const char *verb)
{
    VSTRING *reply;
    int     ret;

    if (*args == 0) {
	smtpd_reply(state, "501 Syntax: %s hostname", verb);
	return (-1);
    }
    /* No control characters in replies, logs or the Received: header */
    printable(args, '?');
    reply = vstring_alloc(100);
    ret = smtpd_restrict_helo(state, args, reply);
    if (ret < 0)
	restricted(state, verb, reply, 0);
    vstring_free(reply);
    if (ret != 0)
	return (ret);
    smtpd_reset_transaction(state);
    if (state->helo)
	myfree(state->helo);
    /* As Postfix: nothing that could fake "(host [addr])" in Received: */
    state->helo = neuter(mystrdup(args), SMTPD_HELO_NEUTER, '?');
    return (0);
}

/* helo_shutdown - a filter said 421 to HELO/EHLO: say so, end it */
static int helo_shutdown(SMTPD_STATE *state, const char *reply)
{
    smtpd_reply_raw(state, reply);
    state->mode = SMTPD_MODE_CLOSE;
    return (-1);
}

/*
 * helo_reply - after the filters, as Postfix: a refusal of HELO is
 * answered at MAIL FROM (the filters say it again), only 421 now
 */
static int helo_reply(SMTPD_STATE *state, const char *reply)
{
    if (reply && strncmp(reply, "421", 3) == 0)
	return (helo_shutdown(state, reply));
    smtpd_reply(state, "250 %s", var_myhostname);
    return (0);
}

static int helo_cmd(SMTPD_STATE *state, char *args)
{
    int     ret;

    if ((ret = helo_common(state, args, "HELO")) != 0)
	return (ret);
    state->protocol = "SMTP";
    return (smtpd_milter_helo(state, state->helo, state->cmd_index, helo_reply));
}

/* ehlo_reply - the features; after a filter's 5xx (as Postfix) only
 * ENHANCEDSTATUSCODES, so the refusal at MAIL FROM reads well */
static int ehlo_reply(SMTPD_STATE *state, const char *reply)
{
    if (reply && strncmp(reply, "421", 3) == 0)
	return (helo_shutdown(state, reply));
    smtpd_reply(state, "250-%s", var_myhostname);
    if (reply && *reply == '5') {
	smtpd_reply(state, "250 ENHANCEDSTATUSCODES");
	return (0);
    }
    smtpd_reply(state, "250-PIPELINING");
    if (var_message_size_limit > 0)
	smtpd_reply(state, "250-SIZE %ld", var_message_size_limit);
    else
	smtpd_reply(state, "250-SIZE");
    if (!conf_bool("disable_vrfy_command"))
	smtpd_reply(state, "250-VRFY");
    smtpd_tls_ehlo(state);
    smtpd_sasl_ehlo(state);
    smtpd_reply(state, "250-ENHANCEDSTATUSCODES");
    smtpd_reply(state, "250-8BITMIME");
    smtpd_reply(state, "250-DSN");
    if (conf_bool("smtputf8_enable"))
	smtpd_reply(state, "250-SMTPUTF8");
    smtpd_reply(state, "250 CHUNKING");
    return (0);
}

static int ehlo_cmd(SMTPD_STATE *state, char *args)
{
    int     ret;

    if ((ret = helo_common(state, args, "EHLO")) != 0)
	return (ret);
    state->protocol = "ESMTP";
    return (smtpd_milter_helo(state, state->helo, state->cmd_index, ehlo_reply));
}

/* path_token - the address of MAIL FROM:/RCPT TO: as sent ("<a@b>") */
static char *path_token(const char *path, const char *rest)
{
    while (*path == ' ' || *path == '\t')
	path++;
    while (rest > path && (rest[-1] == ' ' || rest[-1] == '\t'))
	rest--;
    return (mystrndup(path, rest - path));
}

/* skip_prefix - if ARGS starts with PREFIX (any case), the text after it */
static char *skip_prefix(char *args, const char *prefix)
{
    size_t  len = strlen(prefix);

    return (strncasecmp(args, prefix, len) == 0 ? args + len : 0);
}

/* next_param - split off the next white-space separated ESMTP parameter */
static char *next_param(char **cp)
{
    char   *start = *cp;
    char   *end;

    while (*start == ' ' || *start == '\t')
	start++;
    if (*start == 0)
	return (0);
    for (end = start; *end && *end != ' ' && *end != '\t'; end++)
	 /* void */ ;
    if (*end)
	*end++ = 0;
    *cp = end;
    return (start);
}

/* all_print - only printable ASCII (the decoded ENVID, as Postfix) */
static int all_print(const char *cp)
{
    for (; *cp; cp++)
	if (*cp < ' ' || *cp > '~')
	    return (0);
    return (1);
}

/* dsn_ret_value - RET=: "FULL" or "HDRS", NULL if bad */
static const char *dsn_ret_value(const char *value)
{
    if (strcasecmp(value, "FULL") == 0)
	return ("FULL");
    if (strcasecmp(value, "HDRS") == 0)
	return ("HDRS");
    return (0);
}

/* mail_dsn_param - RET= or ENVID=; 1 handled, 0 not DSN, -1 replied */
static int mail_dsn_param(SMTPD_STATE *state, char *param)
{
    char   *value;
    VSTRING *buf;

    if ((value = skip_prefix(param, "RET=")) != 0) {
	if (state->dsn_ret || (state->dsn_ret = dsn_ret_value(value)) == 0) {
	    smtpd_reply(state, "501 5.5.4 Bad RET parameter syntax");
	    return (-1);
	}
	return (1);
    }
    if ((value = skip_prefix(param, "ENVID=")) != 0) {
	buf = vstring_alloc(100);
	if (state->dsn_envid || xtext_unquote(buf, value) == 0
	    || LEN(buf) == 0 || !all_print(STR(buf))) {
	    vstring_free(buf);
	    smtpd_reply(state, "501 5.5.4 Bad ENVID parameter syntax");
	    return (-1);
	}
	state->dsn_envid = vstring_export(buf);
	return (1);
    }
    return (0);
}

/* mail_esmtp_params - check MAIL FROM parameters; 0 or -1 (replied) */
static int mail_esmtp_params(SMTPD_STATE *state, char *rest)
{
    char   *param;
    char   *value;
    int     ret;

    state->declared_size = 0;
    state->verify = 0;
    while ((param = next_param(&rest)) != 0) {
	if ((ret = mail_dsn_param(state, param)) < 0)
	    return (-1);
	if (ret > 0)
	    continue;
	if ((value = skip_prefix(param, "SIZE=")) != 0) {
	    char   *end;
	    unsigned long size;

	    errno = 0;
	    size = strtoul(value, &end, 10);
	    if (!isdigit((unsigned char) *value) || *end || errno == ERANGE) {
		smtpd_reply(state, "501 5.5.4 Bad message size syntax");
		return (-1);
	    }
	    if (var_message_size_limit > 0 && size > (unsigned long) var_message_size_limit) {
		smtpd_reply(state, "552 5.3.4 Message size exceeds fixed limit");
		return (-1);
	    }
	    state->declared_size = size > LONG_MAX ? LONG_MAX : (long) size;
	} else if (strcasecmp(param, "SMTPUTF8") == 0 && conf_bool("smtputf8_enable")) {
	    state->smtputf8 = 1;
	} else if (strcasecmp(param, "XVERIFY") == 0 && state->submit) {
	    state->verify = 1;			/* sendmail -bv (not announced) */
	} else if (strcasecmp(param, "BODY=8BITMIME") == 0) {
	    state->encoding = "8bit";
	} else if (strcasecmp(param, "BODY=7BIT") == 0) {
	    state->encoding = "7bit";
	} else {
	    smtpd_reply(state, "555 5.5.4 Unsupported option: %s", param);
	    return (-1);
	}
    }
    return (0);
}

/* mail_reply - after the filters: 250, or their refusal (MAIL undone) */
static int mail_reply(SMTPD_STATE *state, const char *reply)
{
    if (reply == 0) {
	smtpd_reply(state, "250 2.1.0 Ok");
	return (0);
    }
    myfree(state->sender);
    state->sender = 0;
    myfree(state->sender_raw);
    state->sender_raw = 0;
    state->in_mail = 0;
    state->encoding = 0;
    state->smtputf8 = 0;
    mail_dsn_reset(state);
    smtpd_reply_raw(state, reply);
    return (-1);
}

static int mail_cmd(SMTPD_STATE *state, char *args)
{
    VSTRING *addr;
    const char *rest;
    const char *why;
    char   *path;
    char   *params;

    if (state->bdat_active) {
	smtpd_reply(state, "503 5.5.1 Error: MAIL after BDAT");
	return (-1);
    }
    if (state->in_mail) {
	smtpd_reply(state, "503 5.5.1 Error: nested MAIL command");
	return (-1);
    }
    if (state->helo == 0 && conf_bool("smtpd_helo_required")) {
	smtpd_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
	return (-1);
    }
    if (smtpd_tls_required(state))
	return (-1);
    if ((path = skip_prefix(args, "FROM:")) == 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: MAIL FROM:<address>");
	return (-1);
    }
    addr = vstring_alloc(100);
    if (addr_parse_path(path, addr, &rest, &why) < 0) {
	vstring_free(addr);
	smtpd_reply(state, "501 5.1.7 Bad sender address syntax");
	return (-1);
    }
    state->encoding = 0;
    state->smtputf8 = 0;
    mail_dsn_reset(state);
    params = mystrdup(rest);			/* for the filters, as sent */
    if (mail_esmtp_params(state, (char *) rest) < 0) {
	vstring_free(addr);
	myfree(params);
	mail_dsn_reset(state);
	state->smtputf8 = 0;
	return (-1);
    }
    if (addr_is_8bit(STR(addr)) && !state->smtputf8) {
	vstring_free(addr);
	myfree(params);
	mail_dsn_reset(state);
	smtpd_reply(state, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
	return (-1);
    }
    state->sender_raw = mystrdup(STR(addr));
    smtpd_qualify(addr);
    {
	VSTRING *reply = vstring_alloc(100);
	int     ret = smtpd_restrict_mail(state, STR(addr), reply);

	if (ret < 0)
	    restricted(state, "MAIL", reply, 0);
	vstring_free(reply);
	if (ret != 0) {				/* refused, or again after DNS */
	    vstring_free(addr);
	    myfree(params);
	    mail_dsn_reset(state);
	    state->smtputf8 = 0;
	    myfree(state->sender_raw);
	    state->sender_raw = 0;
	    return (ret);
	}
    }
    state->sender = vstring_export(addr);
    state->in_mail = 1;
    {
	char   *token = path_token(path, rest);
	int     ret = smtpd_milter_mail(state, token, params, mail_reply);

	myfree(token);
	myfree(params);
	return (ret);
    }
}

/* RCPT TO DSN parameters of one command */
typedef struct RCPT_DSN {
    char   *notify;			/* canonical NOTIFY list or NULL */
    char   *orcpt;			/* "type;decoded address" or NULL */
} RCPT_DSN;

/* dsn_notify_value - canonical NOTIFY= list, NULL if bad (RFC 3461) */
static char *dsn_notify_value(const char *value)
{
    static const char *names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
    char   *copy = mystrdup(value);
    char   *cp = copy;
    char   *tok;
    int     mask = 0;
    int     i;
    VSTRING *out;

    do {
	tok = cp;
	if ((cp = strchr(cp, ',')) != 0)
	    *cp++ = 0;
	for (i = 0; i < 4 && strcasecmp(tok, names[i]) != 0; i++)
	     /* void */ ;
	if (i == 4) {
	    myfree(copy);
	    return (0);
	}
	mask |= 1 << i;
    } while (cp != 0);
    myfree(copy);
    if ((mask & 1) && mask != 1)		/* NEVER must stand alone */
	return (0);
    out = vstring_alloc(30);
    for (i = 0; i < 4; i++) {
	if (mask & (1 << i)) {
	    if (LEN(out))
		vstring_addch(out, ',');
	    vstring_strcat(out, names[i]);
	}
    }
    return (vstring_export(out));
}

/* dsn_orcpt_value - ORCPT=type;xtext as "type;decoded", NULL if bad */
static char *dsn_orcpt_value(const char *value)
{
    const char *semi = strchr(value, ';');
    VSTRING *buf;
    VSTRING *res;
    const char *cp;
    char   *type;

    if (semi == 0 || semi == value)
	return (0);
    for (cp = value; cp < semi; cp++)
	if (!isalnum((unsigned char) *cp) && *cp != '-')
	    return (0);
    type = mystrndup(value, semi - value);
    buf = vstring_alloc(100);
    res = strcasecmp(type, "utf-8") == 0 ? uxtext_unquote(buf, semi + 1)
	: xtext_unquote(buf, semi + 1);
    if (res == 0 || LEN(buf) == 0) {
	myfree(type);
	vstring_free(buf);
	return (0);
    }
    for (cp = STR(buf); *cp; cp++) {
	if ((unsigned char) *cp < ' ' || *cp == 127) {
	    myfree(type);
	    vstring_free(buf);
	    return (0);
	}
    }
    res = vstring_alloc(LEN(buf) + 20);
    vstring_sprintf(res, "%s;%s", type, STR(buf));
    myfree(type);
    vstring_free(buf);
    return (vstring_export(res));
}

/* rcpt_dsn_free - release one command's DSN parameters */
static void rcpt_dsn_free(RCPT_DSN *dsn)
{
    if (dsn->notify)
	myfree(dsn->notify);
    if (dsn->orcpt)
	myfree(dsn->orcpt);
    dsn->notify = dsn->orcpt = 0;
}

/* rcpt_esmtp_params - RCPT TO parameters into DSN; 0 or -1 (replied) */
static int rcpt_esmtp_params(SMTPD_STATE *state, char *rest, RCPT_DSN *dsn)
{
    char   *param;
    char   *value;

    while ((param = next_param(&rest)) != 0) {
	if ((value = skip_prefix(param, "NOTIFY=")) != 0) {
	    if (dsn->notify || (dsn->notify = dsn_notify_value(value)) == 0) {
		smtpd_reply(state, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
		return (-1);
	    }
	} else if ((value = skip_prefix(param, "ORCPT=")) != 0) {
	    if (dsn->orcpt || (dsn->orcpt = dsn_orcpt_value(value)) == 0) {
		smtpd_reply(state, "501 5.5.4 Error: Bad ORCPT parameter syntax");
		return (-1);
	    }
	} else {
	    smtpd_reply(state, "555 5.5.4 Unsupported option: %s", param);
	    return (-1);
	}
    }
    return (0);
}

/* add_rcpt - remember an accepted recipient, once (as Postfix's cleanup) */
static void add_rcpt(SMTPD_STATE *state, const char *orig, const char *rcpt,
		             const RCPT_DSN *dsn)
{
    for (int i = 0; i < state->rcpt_count; i++)
	if (strcasecmp(state->rcpt[i], rcpt) == 0)
	    return;
    if (state->rcpt_count >= state->rcpt_alloc) {
	state->rcpt_alloc = state->rcpt_alloc ? 2 * state->rcpt_alloc : 8;
	state->rcpt = myrealloc(state->rcpt, state->rcpt_alloc * sizeof(char *));
	state->orcpt = myrealloc(state->orcpt, state->rcpt_alloc * sizeof(char *));
	state->dsn_notify = myrealloc(state->dsn_notify,
				      state->rcpt_alloc * sizeof(char *));
	state->dsn_orcpt = myrealloc(state->dsn_orcpt,
				     state->rcpt_alloc * sizeof(char *));
    }
    state->dsn_notify[state->rcpt_count] = dsn->notify ? mystrdup(dsn->notify) : 0;
    state->dsn_orcpt[state->rcpt_count] = mystrdup(dsn->orcpt);
    state->orcpt[state->rcpt_count] = mystrdup(orig);
    state->rcpt[state->rcpt_count++] = mystrdup(rcpt);
}

/* rcpt_checked - run the recipient checks; 0 ok, -1 replied (the reply
 * in REPLY), SMTPD_WAIT */
static int rcpt_checked(SMTPD_STATE *state, const char *cmd, VSTRING *addr,
			        RESOLVE_ADDRS *expanded, VSTRING *reply)
{
    int     ret;

    if ((ret = smtpd_restrict_rcpt(state, STR(addr), reply)) == SMTPD_WAIT)
	 /* again after DNS */ ;
    else if (ret < 0 || smtpd_check_rcpt(state, STR(addr), expanded, reply) != 0)
	ret = restricted(state, cmd, reply, STR(addr));
    return (ret);
}

/* rcpt_remove - drop recipient I of the transaction */
static void rcpt_remove(SMTPD_STATE *state, int i)
{
    myfree(state->rcpt[i]);
    myfree(state->orcpt[i]);
    if (state->dsn_notify[i])
	myfree(state->dsn_notify[i]);
    myfree(state->dsn_orcpt[i]);
    state->rcpt_count--;
    for (int j = i; j < state->rcpt_count; j++) {
	state->rcpt[j] = state->rcpt[j + 1];
	state->orcpt[j] = state->orcpt[j + 1];
	state->dsn_notify[j] = state->dsn_notify[j + 1];
	state->dsn_orcpt[j] = state->dsn_orcpt[j + 1];
    }
}

void	smtpd_del_rcpt(SMTPD_STATE *state, const char *addr)
{
    for (int i = state->rcpt_count - 1; i >= 0; i--)
	if (strcasecmp(state->orcpt[i], addr) == 0 || strcasecmp(state->rcpt[i], addr) == 0)
	    rcpt_remove(state, i);
}

int	smtpd_add_rcpt_mapped(SMTPD_STATE *state, const char *rcpt)
{
    VSTRING *addr = vstring_alloc(100);
    RESOLVE_ADDRS expanded;
    RCPT_DSN dsn = {0, 0};
    int     ret = 0;

    vstring_strcpy(addr, rcpt);
    smtpd_qualify(addr);
    resolve_addrs_init(&expanded);
    if (var_receive_override & SMTPD_NO_ADDR_MAPPINGS)
	resolve_addrs_add(&expanded, STR(addr));
    else if (resolve_virtual_alias(STR(addr), &expanded) < 0)
	ret = -1;
    if (ret == 0) {
	vstring_sprintf(addr, "rfc822;%s", rcpt);
	dsn.orcpt = STR(addr);
	for (int i = 0; i < expanded.count; i++)
	    add_rcpt(state, rcpt, expanded.addrs[i], &dsn);
    }
    resolve_addrs_free(&expanded);
    vstring_free(addr);
    return (ret);
}

/* rcpt_reply - after the filters: 250, or their refusal (RCPT undone) */
static int rcpt_reply(SMTPD_STATE *state, const char *reply)
{
    if (reply == 0) {
	smtpd_reply(state, "250 2.1.5 Ok");
	return (0);
    }
    while (state->rcpt_count > state->rcpt_undo_count)
	rcpt_remove(state, state->rcpt_count - 1);
    if ((state->rcpt_cmds = state->rcpt_undo_cmds) == 0 && state->first_rcpt) {
	myfree(state->first_rcpt);
	state->first_rcpt = 0;
    }
    smtpd_reply_raw(state, reply);
    return (-1);
}

/*
 * rcpt_accept - queue the expansion of one accepted RCPT address; each
 * gets the command's NOTIFY and ORCPT (default "rfc822;" + ORIG).
 */
static void rcpt_accept(SMTPD_STATE *state, const char *orig, VSTRING *addr,
			        RESOLVE_ADDRS *expanded, RCPT_DSN *dsn)
{
    if (dsn->orcpt == 0) {
	VSTRING *buf = vstring_alloc(100);

	vstring_sprintf(buf, "rfc822;%s", orig);
	dsn->orcpt = vstring_export(buf);
    }
    for (int i = 0; i < expanded->count; i++)
	add_rcpt(state, orig, expanded->addrs[i], dsn);
    if (state->rcpt_cmds++ == 0)
	state->first_rcpt = mystrdup(STR(addr));
}

/*
 * rcpt_try - the checks and the filters for the recipient ADDR (as sent:
 * PATH up to REST, then the ESMTP PARAMS); the RCPT command's result
 */
static int rcpt_try(SMTPD_STATE *state, const char *path, const char *rest,
		            const char *params, VSTRING *addr, RCPT_DSN *dsn)
{
    char   *orig = mystrdup(STR(addr));
    char   *token = path_token(path, rest);
    VSTRING *reply = vstring_alloc(100);
    RESOLVE_ADDRS expanded;
    int     ret;

    smtpd_qualify(addr);
    resolve_addrs_init(&expanded);
    state->rcpt_raw = orig;
    ret = rcpt_checked(state, "RCPT", addr, &expanded, reply);
    state->rcpt_raw = 0;
    if (ret == 0) {
	state->rcpt_undo_count = state->rcpt_count;
	state->rcpt_undo_cmds = state->rcpt_cmds;
	rcpt_accept(state, orig, addr, &expanded, dsn);
	ret = smtpd_milter_rcpt(state, token, params, STR(addr), rcpt_reply);
    } else if (ret < 0 && smtpd_milter_rcpt_refused(state, token, params, STR(addr),
						     STR(reply)) == SMTPD_ASYNC) {
	smtpd_error(state);			/* counted here, told later */
	ret = SMTPD_ASYNC;
    }
    vstring_free(reply);
    resolve_addrs_free(&expanded);
    myfree(token);
    myfree(orig);
    return (ret);
}

static int rcpt_cmd(SMTPD_STATE *state, char *args)
{
    VSTRING *addr;
    const char *rest;
    const char *why;
    char   *path;
    char   *params;				/* for the filters, as sent */
    RCPT_DSN dsn = {0, 0};
    int     ret = -1;

    if (state->bdat_active) {
	smtpd_reply(state, "503 5.5.1 Error: RCPT after BDAT");
	return (-1);
    }
    if (!state->in_mail) {
	smtpd_reply(state, "503 5.5.1 Error: need MAIL command");
	return (-1);
    }
    if ((path = skip_prefix(args, "TO:")) == 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: RCPT TO:<address>");
	return (-1);
    }
    addr = vstring_alloc(100);
    if (addr_parse_path(path, addr, &rest, &why) < 0 || LEN(addr) == 0) {
	smtpd_reply(state, "501 5.1.3 Bad recipient address syntax");
	vstring_free(addr);
	return (-1);
    }
    params = mystrdup(rest);
    if (rcpt_esmtp_params(state, (char *) rest, &dsn) < 0) {
	 /* replied */ ;
    } else if (addr_is_8bit(STR(addr)) && !state->smtputf8) {
	smtpd_reply(state, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else if (state->rcpt_cmds >= var_recipient_limit) {
	smtpd_reply(state, "452 4.5.3 Error: too many recipients");
    } else {
	ret = rcpt_try(state, path, rest, params, addr, &dsn);
    }
    myfree(params);
    rcpt_dsn_free(&dsn);
    vstring_free(addr);
    return (ret);
}

static int data_cmd(SMTPD_STATE *state, char *args)
{
    if (state->bdat_active) {
	smtpd_reply(state, "503 5.5.1 Error: DATA after BDAT");
	return (-1);
    }
    if (*args) {
	smtpd_reply(state, "501 5.5.4 Syntax: DATA");
	return (-1);
    }
    if (!state->in_mail) {
	smtpd_reply(state, "503 5.5.1 Error: need RCPT command");
	return (-1);
    }
    if (state->rcpt_count == 0) {
	smtpd_reply(state, "554 5.5.1 Error: no valid recipients");
	return (-1);
    }
    {
	VSTRING *reply = vstring_alloc(100);
	int     ret = smtpd_restrict_data(state, reply);

	if (ret < 0)
	    restricted(state, "DATA", reply, 0);
	vstring_free(reply);
	if (ret != 0)
	    return (ret);
    }
    return (smtpd_data_begin(state));
}

static int rset_cmd(SMTPD_STATE *state, char *args)
{
    if (*args) {
	smtpd_reply(state, "501 5.5.4 Syntax: RSET");
	return (-1);
    }
    smtpd_reset_transaction(state);
    smtpd_reply(state, "250 2.0.0 Ok");
    return (0);
}

static int noop_cmd(SMTPD_STATE *state, char *args)
{
    smtpd_reply(state, "250 2.0.0 Ok");
    return (0);
}

static int vrfy_cmd(SMTPD_STATE *state, char *args)
{
    VSTRING *addr;
    const char *rest;
    const char *why;
    int     ret = -1;

    if (conf_bool("disable_vrfy_command")) {
	smtpd_reply(state, "502 5.5.1 VRFY command is disabled");
	return (-1);
    }
    if (*args == 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: VRFY address");
	return (-1);
    }
    addr = vstring_alloc(100);
    if (addr_parse_path(args, addr, &rest, &why) < 0 || LEN(addr) == 0 || *rest) {
	smtpd_reply(state, "501 5.1.3 Bad recipient address syntax");
    } else {
	VSTRING *reply = vstring_alloc(100);

	smtpd_qualify(addr);
	if ((ret = rcpt_checked(state, "VRFY", addr, 0, reply)) == 0)
	    smtpd_reply(state, "252 2.0.0 %s", args);
	vstring_free(reply);
    }
    vstring_free(addr);
    return (ret);
}

static int help_cmd(SMTPD_STATE *state, char *args)
{
    smtpd_reply(state, "214 2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
    return (0);
}

/*
 * xuid_cmd - "XUID uid": pickup hands over a maildrop file's message for
 * the user who owns the file.  Only on the local submission socket, and
 * only from mail_owner (or root): anyone else keeps their own uid.
 */
static int xuid_cmd(SMTPD_STATE *state, char *args)
{
    uid_t   owner;
    gid_t   group;
    char   *end;
    long    uid;

    mail_owner_ids(&owner, &group);
    if (!state->submit || (state->uid != 0 && state->uid != (long) owner)) {
	smtpd_reply(state, "554 5.7.0 Error: XUID is not allowed for %s", state->namaddr);
	return (-1);
    }
    errno = 0;
    uid = strtol(args, &end, 10);
    if (*args == 0 || *end || uid < 0 || errno == ERANGE || state->in_mail) {
	smtpd_reply(state, state->in_mail ? "503 5.5.1 Error: XUID inside a transaction"
		    : "501 5.5.4 Syntax: XUID uid");
	return (-1);
    }
    state->uid = uid;
    smtpd_reply(state, "250 2.0.0 Ok");
    return (0);
}

static int quit_cmd(SMTPD_STATE *state, char *args)
{
    smtpd_reply(state, "221 2.0.0 Bye");
    state->mode = SMTPD_MODE_CLOSE;
    return (0);
}

/* Order matters: log order, and SMTPD_CMD_DATA and _BDAT are their indexes. */
static const SMTPD_CMD smtpd_cmd_table[] = {
    {"HELO", "helo", helo_cmd, 0},
    {"EHLO", "ehlo", ehlo_cmd, 0},
    {"STARTTLS", "starttls", smtpd_tls_cmd, 0},
    {"AUTH", "auth", smtpd_sasl_cmd, 0},
    {"MAIL", "mail", mail_cmd, 0},
    {"RCPT", "rcpt", rcpt_cmd, 0},
    {"DATA", "data", data_cmd, 0},
    {"BDAT", "bdat", smtpd_bdat_cmd, 0},
    {"RSET", "rset", rset_cmd, 1},
    {"NOOP", "noop", noop_cmd, 1},
    {"VRFY", "vrfy", vrfy_cmd, 1},
    {"HELP", "help", help_cmd, 0},
    {"QUIT", "quit", quit_cmd, 0},
    {"XUID", "xuid", xuid_cmd, 0},
    {0, 0, 0, 0},
};

const char *smtpd_cmd_verb(int index)
{
    return (smtpd_cmd_table[index].verb);
}

const char *smtpd_cmd_name(int index)
{
    if (index == SMTPD_CMD_UNKNOWN)
	return ("unknown");
    if (index >= 0 && index < (int) (sizeof(smtpd_cmd_table) / sizeof(smtpd_cmd_table[0])) - 1)
	return (smtpd_cmd_table[index].log_name);
    return ("?");
}

/* unknown_reply - a filter's reply to an unknown command, or ours */
static int unknown_reply(SMTPD_STATE *state, const char *reply)
{
    smtpd_reply_raw(state, reply ? reply : "502 5.5.2 Error: command not recognized");
    return (-1);
}

/* trim_args - skip white space before the arguments, cut it after them */
static char *trim_args(char *args)
{
    char   *end;

    while (*args == ' ' || *args == '\t')
	args++;
    end = args + strlen(args);
    while (end > args && (end[-1] == ' ' || end[-1] == '\t'))
	*--end = 0;
    return (args);
}

void	smtpd_command(SMTPD_STATE *state, char *line)
{
    char   *verb;
    char   *args;
    int     i;

    if (state->mode == SMTPD_MODE_AUTH) {
	smtpd_sasl_input(state, line);
	return;
    }
    verb = trim_args(line);
    args = verb + strcspn(verb, " \t");
    if (*verb == 0) {
	state->where = "UNKNOWN";
	smtpd_reply(state, "500 5.5.2 Error: bad syntax");
	smtpd_error(state);
	return;
    }
    /* As Postfix with smtputf8_enable: a command must be valid UTF-8 */
    if (conf_bool("smtputf8_enable") && !utf8_valid(verb, strlen(verb))) {
	state->where = "UNKNOWN";
	smtpd_reply(state, "500 5.5.2 Error: bad UTF-8 syntax");
	smtpd_error(state);
	return;
    }
    if (*args)
	*args++ = 0;
    args = trim_args(args);
    for (i = 0; smtpd_cmd_table[i].verb; i++)
	if (strcasecmp(verb, smtpd_cmd_table[i].verb) == 0)
	    break;
    if (smtpd_cmd_table[i].verb == 0) {
	state->where = "UNKNOWN";
	state->cmd_total[SMTPD_CMD_UNKNOWN]++;
	state->cmd_index = SMTPD_CMD_UNKNOWN;
	if (smtpd_milter_unknown(state, verb, unknown_reply) != SMTPD_ASYNC)
	    smtpd_error(state);
	return;
    }
    state->where = smtpd_cmd_table[i].verb;
    state->cmd_total[i]++;
    /* As Postfix: junk commands over the limit count as errors */
    if (smtpd_cmd_table[i].junk && state->junk_cmds++ > var_junk_command_limit
	&& smtpd_error(state))
	return;
    /* As Postfix: only these may come before STARTTLS when TLS is required */
    if (strcasecmp(verb, "HELO") && strcasecmp(verb, "EHLO") && strcasecmp(verb, "STARTTLS")
	&& strcasecmp(verb, "NOOP") && strcasecmp(verb, "QUIT") && smtpd_tls_required(state)) {
	smtpd_error(state);
	return;
    }
    if (smtpd_anvil_command(state, i, args))
	return;					/* anvil answers, then it runs */
    smtpd_command_run(state, i, args);
}

/* smtpd_command_wakeup - the DNS answers of a parked command are in */
static void smtpd_command_wakeup(SMTPD_STATE *state)
{
    char   *args = state->parked_args;

    state->parked_args = 0;
    smtpd_command_run(state, state->parked_index, args);
    myfree(args);
    smtpd_resume(state);
}

void	smtpd_command_run(SMTPD_STATE *state, int index, char *args)
{
    /* Handlers may cut ARGS up: a parked command runs again from a copy */
    char   *saved = mystrdup(args);

    state->cmd_index = index;
    switch (smtpd_cmd_table[index].action(state, args)) {
    case 0:
	state->cmd_ok[index]++;
	break;
    case SMTPD_WAIT:
	state->parked_index = index;
	state->parked_args = saved;
	smtpd_lookup_wait(state, smtpd_command_wakeup);
	return;
    case SMTPD_ASYNC:
	break;
    default:
	smtpd_error(state);
	break;
    }
    myfree(saved);
}
