/*
 * smtpd_milter.c - smtpd_milters and non_smtpd_milters: the SMTP server's
 * side of Sendmail/Postfix mail filters, over lib/global/milter_clnt.c.
 *
 *   smtpd_milters = inet:127.0.0.1:8891, unix:/run/rspamd/milter.sock
 *   non_smtpd_milters = $smtpd_milters      (local submission: sendmail)
 *
 * Each session gets a chain of filter sessions (milters_session()), and
 * each SMTP step goes through it as Postfix's smtpd sends it: CONNECT
 * before the greeting, HELO/EHLO, MAIL FROM, RCPT TO (refused ones too,
 * to filters that ask for them), DATA, unknown commands.  A step does not
 * wait for the answer: the command hands over what it does next
 * (SMTPD_MILTER_NEXT) and returns SMTPD_ASYNC; the session reads nothing
 * until the answer is in, then NEXT runs with the filters' refusal or
 * NULL, and the command is counted.  A refusal is logged in Postfix's
 * words ("NOQUEUE: milter-reject: RCPT from ...: 550 5.7.1 ...; from=<>
 * to=<> proto=ESMTP helo=<>"); DISCARD and quarantine (milter-discard,
 * milter-hold) mark the transaction and let it go on.
 *
 * The content is filtered after the end of data, when it is in the queue
 * file (as Postfix's cleanup does it): the file's content is read back,
 * and each filter in turn gets the headers (not our own Received:
 * header, as Postfix: a signature must go above the headers it signs),
 * the end of headers, the body in CRLF form and the end of message; its
 * edits are applied before the next filter sees the message.  Header
 * changes count the headers the filters saw (the n-th "Subject:"),
 * inserts count every header, ours too (0: on top).  When anything was
 * edited, the file is written again with the same queue id (recipients
 * added by a filter get virtual alias expansion).  A quarantine holds the
 * message in hold/.
 *
 * A filter that cannot be reached or does not answer in time gets
 * milter_default_action (lib/global/milter_clnt.c); other sessions never
 * wait for it.  receive_override_options = no_milters turns all of this
 * off (the after-filter smtpd of a content_filter).
 *
 * Parameters: smtpd_milters, non_smtpd_milters, milter_protocol,
 * milter_default_action, milter_connect_timeout, milter_command_timeout,
 * milter_content_timeout, milter_*_macros, milter_macro_daemon_name,
 * milter_macro_v.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "resolve.h"
#include "milter_clnt.h"
#include "smtpd.h"

/* The message being filtered, in pieces the edits work on */
typedef struct SMTPD_MSG {
    char  **hdrs;			/* each "Name: value\n", folded */
    int     count;
    int     size;
    int     own;			/* our Received: header, or -1 */
    int     separator;			/* an empty line before the body */
    VSTRING *body;			/* LF line ends */
} SMTPD_MSG;

/* Content phases of one filter */
#define PH_DATA		0		/* BDAT: the DATA step still to do */
#define PH_HEADER	1
#define PH_EOH		2
#define PH_BODY		3
#define PH_EOM		4
#define PH_DONE		5

typedef struct SMTPD_MILTER {
    MILTERS_SESS *chain;
    int     count;			/* filters in the chain */
    VSTRING *macro;			/* a macro value */
    char    daemon_addr[64];
    char    daemon_port[16];
    char   *rcpt;			/* {rcpt_*} macros: the recipient */
    char   *rcpt_reply;			/* ... refused with this reply */
    SMTPD_MILTER_NEXT next;		/* the command's continuation */
    int     cmd_index;			/* ... to count, or -1 */
    int     skip;			/* DISCARD: no more filtering of the message */
    int     discard_all;		/* ... of any message (CONNECT, HELO) */
    /* Content */
    void    (*done) (SMTPD_STATE *, const char *);
    SMTPD_MSG msg;
    int     member;			/* the filter that has the message */
    int     phase;			/* PH_* */
    int     hdr;			/* next header to send */
    VSTRING *crlf;			/* the body as filters get it */
    size_t  body_pos;
    int     edited;
    VSTRING *name;
    VSTRING *value;
} SMTPD_MILTER;

static MILTERS *smtpd_milter_list;	/* smtpd_milters */
static MILTERS *non_smtpd_milter_list;	/* non_smtpd_milters */
static int smtpd_milter_broken;		/* a list that makes no sense */

#define SMTPD_MILTER_CONF_ERROR	"451 4.3.5 Server configuration error"

/* milter_list - one list parameter; NULL when empty or broken */
static MILTERS *milter_list(const char *param, const MILTER_LIMITS *limits)
{
    const char *value = conf_str(param);
    MILTERS *list;

    if (*value == 0)
	return (0);
    if ((list = milters_create(value, limits)) == 0) {
	msg_warn("%s: bad setting \"%s\": mail gets \"%s\"", param, value,
		 SMTPD_MILTER_CONF_ERROR);
	smtpd_milter_broken = 1;
    }
    return (list);
}

void	smtpd_milter_init(void)
{
    MILTER_LIMITS limits;

    milter_limits_init(&limits);
    limits.connect_timeout = conf_time("milter_connect_timeout");
    limits.command_timeout = conf_time("milter_command_timeout");
    limits.content_timeout = conf_time("milter_content_timeout");
    limits.edit_limit = var_message_size_limit;
    limits.default_action = conf_str("milter_default_action");
    limits.protocol = conf_str("milter_protocol");
    limits.macros[MILTER_MACRO_CONNECT] = conf_str("milter_connect_macros");
    limits.macros[MILTER_MACRO_HELO] = conf_str("milter_helo_macros");
    limits.macros[MILTER_MACRO_MAIL] = conf_str("milter_mail_macros");
    limits.macros[MILTER_MACRO_RCPT] = conf_str("milter_rcpt_macros");
    limits.macros[MILTER_MACRO_DATA] = conf_str("milter_data_macros");
    limits.macros[MILTER_MACRO_EOH] = conf_str("milter_end_of_header_macros");
    limits.macros[MILTER_MACRO_EOD] = conf_str("milter_end_of_data_macros");
    limits.macros[MILTER_MACRO_UNKNOWN] = conf_str("milter_unknown_command_macros");
    if (var_receive_override & SMTPD_NO_MILTERS)
	return;
    smtpd_milter_list = milter_list("smtpd_milters", &limits);
    non_smtpd_milter_list = milter_list("non_smtpd_milters", &limits);
}

/* Macros */

/* resolved - {mail_host}/{rcpt_host} (HOST) or _mailer: where ADDR goes */
static const char *resolved(SMTPD_MILTER *sm, const char *addr, int host)
{
    RESOLVE_REPLY reply;
    VSTRING *why = vstring_alloc(100);
    const char *ret = 0;

    resolve_reply_init(&reply);
    if (resolve_transport(addr, &reply, why) == 0) {
	vstring_strcpy(sm->macro, STR(host ? reply.nexthop : reply.transport));
	ret = STR(sm->macro);
    }
    resolve_reply_free(&reply);
    vstring_free(why);
    return (ret);
}

/* rejected_rcpt_macro - {rcpt_*} of a refused recipient, as Postfix */
static const char *rejected_rcpt_macro(SMTPD_MILTER *sm, const char *name)
{
    const char *text = strlen(sm->rcpt_reply) > 4 ? sm->rcpt_reply + 4 : sm->rcpt_reply;
    const char *dsn_end = text + strcspn(text, " ");

    if (strcmp(name, "rcpt_mailer") == 0)
	return ("error");
    if (strcmp(name, "rcpt_host") == 0)		/* the status: "5.7.1" */
	vstring_strncpy(sm->macro, text, dsn_end - text);
    else					/* the text after it */
	vstring_strcpy(sm->macro, *dsn_end ? dsn_end + 1 : text);
    return (STR(sm->macro));
}

/* tls_macro - {tls_version}, {cipher}, {cipher_bits}; NULL without TLS */
static const char *tls_macro(SMTPD_STATE *state, const char *name)
{
    const char *protocol;
    const char *cipher;
    int     bits;

    if (!smtpd_tls_params(state, &protocol, &cipher, &bits))
	return (0);
    if (strcmp(name, "tls_version") == 0)
	return (protocol);
    if (strcmp(name, "cipher") == 0)
	return (cipher);
    vstring_sprintf(state->milter->macro, "%d", bits);
    return (STR(state->milter->macro));
}

/* client_macro - "_" and the {client_*} macros */
static const char *client_macro(SMTPD_STATE *state, const char *name)
{
    VSTRING *buf = state->milter->macro;

    if (strcmp(name, "_") == 0) {
	vstring_sprintf(buf, "%s [%s]", state->reverse_name, state->addr);
	if (state->name_status == DNS_PEER_FORGED)
	    vstring_strcat(buf, " (may be forged)");
	return (STR(buf));
    }
    if (strcmp(name, "client_addr") == 0)
	return (state->addr);
    if (strcmp(name, "client_port") == 0)
	return (state->port);
    if (strcmp(name, "client_name") == 0)
	return (state->name);
    if (strcmp(name, "client_ptr") == 0)
	return (state->reverse_name);
    return (0);
}

/* envelope_macro - {mail_*} and {rcpt_*} */
static const char *envelope_macro(SMTPD_STATE *state, const char *name)
{
    SMTPD_MILTER *sm = state->milter;

    if (strncmp(name, "mail_", 5) == 0) {
	if (state->sender == 0)
	    return (0);
	if (strcmp(name, "mail_addr") == 0)
	    return (state->sender);
	return (*state->sender ? resolved(sm, state->sender,
					  strcmp(name, "mail_host") == 0) : 0);
    }
    if (sm->rcpt == 0)
	return (0);
    if (sm->rcpt_reply)
	return (rejected_rcpt_macro(sm, name));
    if (strcmp(name, "rcpt_addr") == 0)
	return (sm->rcpt);
    return (resolved(sm, sm->rcpt, strcmp(name, "rcpt_host") == 0));
}

/* smtpd_milter_macro - a macro's value for the filters, or NULL */
static const char *smtpd_milter_macro(const char *name, void *context)
{
    SMTPD_STATE *state = context;
    SMTPD_MILTER *sm = state->milter;
    char    key[64];
    size_t  len = strlen(name);

    if (len > 2 && name[0] == '{' && name[len - 1] == '}')
	snprintf(key, sizeof(key), "%.*s", (int) (len - 2), name + 1);
    else
	snprintf(key, sizeof(key), "%s", name);
    if (strcmp(key, "i") == 0)
	return (state->qf ? STR(state->qf->id) : 0);
    if (strcmp(key, "j") == 0)
	return (var_myhostname);
    if (strcmp(key, "v") == 0)
	return (conf_str("milter_macro_v"));
    if (strcmp(key, "daemon_name") == 0)
	return (conf_str("milter_macro_daemon_name"));
    if (strcmp(key, "daemon_addr") == 0)
	return (*sm->daemon_addr ? sm->daemon_addr : 0);
    if (strcmp(key, "daemon_port") == 0)
	return (*sm->daemon_port ? sm->daemon_port : 0);
    if (strcmp(key, "auth_type") == 0)
	return (state->sasl_method);
    if (strcmp(key, "auth_authen") == 0)
	return (state->sasl_username);
    if (strcmp(key, "tls_version") == 0 || strcmp(key, "cipher") == 0
	|| strcmp(key, "cipher_bits") == 0)
	return (tls_macro(state, key));
    if (strcmp(key, "_") == 0 || strncmp(key, "client_", 7) == 0)
	return (client_macro(state, key));
    if (strncmp(key, "mail_", 5) == 0 || strncmp(key, "rcpt_", 5) == 0)
	return (envelope_macro(state, key));
    return (0);
}

/* Sessions */

void	smtpd_milter_session(SMTPD_STATE *state)
{
    MILTERS *list = state->submit ? non_smtpd_milter_list : smtpd_milter_list;
    SMTPD_MILTER *sm;

    if (list == 0 && !smtpd_milter_broken)
	return;
    sm = (SMTPD_MILTER *) mycalloc(1, sizeof(*sm));
    state->milter = sm;
    sm->macro = vstring_alloc(100);
    sm->name = vstring_alloc(100);
    sm->value = vstring_alloc(100);
    sm->msg.body = vstring_alloc(100);
    sm->crlf = vstring_alloc(100);
    sm->msg.own = -1;
    smtpd_server_address(state, sm->daemon_addr, sizeof(sm->daemon_addr),
			 sm->daemon_port, sizeof(sm->daemon_port));
    if (list) {
	sm->chain = milters_session(list, smtpd_milter_macro, state);
	sm->count = milters_count(list);
    }
}

/* msg_reset - forget the message's pieces */
static void msg_reset(SMTPD_MSG *msg)
{
    for (int i = 0; i < msg->count; i++)
	myfree(msg->hdrs[i]);
    msg->count = 0;
    msg->own = -1;
    msg->separator = 0;
    vstring_reset(msg->body);
}

/* set_rcpt - the recipient (and the reply that refused it) for macros */
static void set_rcpt(SMTPD_MILTER *sm, const char *rcpt, const char *reply)
{
    if (sm->rcpt)
	myfree(sm->rcpt);
    if (sm->rcpt_reply)
	myfree(sm->rcpt_reply);
    sm->rcpt = rcpt ? mystrdup(rcpt) : 0;
    sm->rcpt_reply = reply ? mystrdup(reply) : 0;
}

void	smtpd_milter_free(SMTPD_STATE *state)
{
    SMTPD_MILTER *sm = state->milter;

    if (sm == 0)
	return;
    if (sm->chain)
	milters_session_free(sm->chain);
    set_rcpt(sm, 0, 0);
    msg_reset(&sm->msg);
    if (sm->msg.hdrs)
	myfree(sm->msg.hdrs);
    vstring_free(sm->msg.body);
    vstring_free(sm->crlf);
    vstring_free(sm->macro);
    vstring_free(sm->name);
    vstring_free(sm->value);
    myfree(sm);
    state->milter = 0;
}

void	smtpd_milter_abort(SMTPD_STATE *state)
{
    SMTPD_MILTER *sm = state->milter;

    if (sm == 0)
	return;
    if (sm->chain)
	milters_abort(sm->chain);
    sm->skip = 0;
    sm->done = 0;
    msg_reset(&sm->msg);
}

/* Answers */

/*
 * smtpd_milter_verdict - what RESULT means for the session: NULL (go on;
 * DISCARD and quarantine are noted) or the reply.  Logged as Postfix.
 */
static const char *smtpd_milter_verdict(SMTPD_STATE *state, const MILTER_RESULT *result)
{
    SMTPD_MILTER *sm = state->milter;
    const char *rcpt = sm->rcpt_reply ? 0 : sm->rcpt;
    const char *text;

    /* As Postfix's cleanup: content refusals log the status, no code */
    if (rcpt == 0 && state->rcpt_count > 0 && strcmp(state->where, "END-OF-MESSAGE") == 0)
	rcpt = state->rcpt[0];
    switch (result->action) {
    case MILTER_REJECT:
    case MILTER_TEMPFAIL:
	text = result->text;
	if (strcmp(state->where, "END-OF-MESSAGE") == 0 && strlen(text) > 4)
	    text += 4;
	smtpd_action_log(state, "milter-reject", state->where, text, rcpt);
	return (result->text);
    case MILTER_SHUTDOWN:			/* SMFIR_SHUTDOWN, or a 421 reply */
	text = result->text ? result->text : "421 4.7.0 Server closing connection";
	smtpd_action_log(state, "milter-reject", state->where, text, rcpt);
	return (text);
    case MILTER_DISCARD:
	smtpd_action_log(state, "milter-discard", state->where,
			 "milter triggers DISCARD action", rcpt);
	if (state->discard_reason == 0)
	    state->discard_reason = mystrdup("milter");
	if (!state->in_mail)
	    sm->discard_all = 1;
	sm->skip = 1;
	return (0);
    case MILTER_QUARANTINE:
	smtpd_action_log(state, "milter-hold", state->where,
			 "milter triggers HOLD action", rcpt);
	if (state->hold_reason == 0)
	    state->hold_reason = mystrdup(result->text ? result->text : "milter");
	return (0);
    default:
	return (0);
    }
}

/* smtpd_milter_answer - a step's answer: the command goes on */
static void smtpd_milter_answer(const MILTER_RESULT *result, void *context)
{
    SMTPD_STATE *state = context;
    SMTPD_MILTER *sm = state->milter;
    SMTPD_MILTER_NEXT next = sm->next;
    const char *reply = smtpd_milter_verdict(state, result);
    int     ret;

    sm->next = 0;
    set_rcpt(sm, 0, 0);
    state->waiting = 0;
    ret = next ? next(state, reply) : -1;
    if (sm->cmd_index >= 0) {
	if (ret == 0)
	    state->cmd_ok[sm->cmd_index]++;
	else
	    smtpd_error(state);
    }
    if (result->action == MILTER_SHUTDOWN)
	state->mode = SMTPD_MODE_CLOSE;
    smtpd_resume(state);
}

/*
 * smtpd_milter_ask - CMD through the filters, then NEXT.  Returns NEXT's
 * result when there is nothing to ask, else SMTPD_ASYNC.  INDEX: the
 * command to count (-1: none).
 */
static int smtpd_milter_ask(SMTPD_STATE *state, const MILTER_CMD *cmd, int index,
			            SMTPD_MILTER_NEXT next)
{
    SMTPD_MILTER *sm = state->milter;

    if (sm == 0 || sm->skip)
	return (next ? next(state, 0) : 0);
    if (sm->chain == 0)				/* smtpd_milter_broken */
	return (next ? next(state, cmd->event == SMFIC_CONNECT
		  || cmd->event == SMFIC_HELO ? 0 : SMTPD_MILTER_CONF_ERROR) : 0);
    sm->next = next;
    sm->cmd_index = index;
    state->waiting = 1;
    milters_command(sm->chain, cmd, smtpd_milter_answer, state);
    return (SMTPD_ASYNC);
}

/* smtpd_milter_cmd - a MILTER_CMD of EVENT with ARGV */
static MILTER_CMD *smtpd_milter_cmd(MILTER_CMD *cmd, int event, const char **argv)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->event = event;
    cmd->argv = argv;
    return (cmd);
}

void	smtpd_milter_connect(SMTPD_STATE *state, SMTPD_MILTER_NEXT next)
{
    const char *argv[3];
    MILTER_CMD cmd;

    /* Local submission: what Postfix's cleanup tells filters of sendmail mail */
    argv[0] = state->submit ? "localhost" : state->name;
    argv[1] = state->submit ? "127.0.0.1" : state->addr;
    argv[2] = 0;
    smtpd_milter_cmd(&cmd, SMFIC_CONNECT, argv);
    cmd.family = strchr(argv[1], ':') ? SMFIA_INET6 : SMFIA_INET;
    cmd.port = (unsigned) atoi(state->port);
    (void) smtpd_milter_ask(state, &cmd, -1, next);
}

int	smtpd_milter_helo(SMTPD_STATE *state, const char *helo, int index,
			          SMTPD_MILTER_NEXT next)
{
    const char *argv[2] = {helo, 0};
    MILTER_CMD cmd;

    return (smtpd_milter_ask(state, smtpd_milter_cmd(&cmd, SMFIC_HELO, argv),
			     index, next));
}

/* envelope_argv - "<address>" as sent and the ESMTP parameters */
static const char **envelope_argv(const char *path, const char *params, char **copy)
{
    const char **argv;
    char   *cp;
    char   *word;
    int     argc = 1;

    *copy = cp = mystrdup(params);
    argv = (const char **) mycalloc(strlen(params) / 2 + 3, sizeof(char *));
    argv[0] = path;
    while ((word = strsep(&cp, " \t")) != 0)
	if (*word)
	    argv[argc++] = word;
    argv[argc] = 0;
    return (argv);
}

/* smtpd_milter_envelope - MAIL or RCPT (EVENT) with PATH and PARAMS */
static int smtpd_milter_envelope(SMTPD_STATE *state, int event, const char *path,
				         const char *params, int rejected,
				         SMTPD_MILTER_NEXT next)
{
    char   *copy;
    const char **argv = envelope_argv(path, params, &copy);
    MILTER_CMD cmd;
    int     ret;

    smtpd_milter_cmd(&cmd, event, argv);
    cmd.rejected = rejected;
    ret = smtpd_milter_ask(state, &cmd, rejected ? -1 : state->cmd_index, next);
    myfree(argv);
    myfree(copy);
    return (ret);
}

int	smtpd_milter_mail(SMTPD_STATE *state, const char *path, const char *params,
			          SMTPD_MILTER_NEXT next)
{
    SMTPD_MILTER *sm = state->milter;

    if (sm) {
	sm->skip = sm->discard_all;
	if (sm->discard_all && state->discard_reason == 0)
	    state->discard_reason = mystrdup("milter");
    }
    return (smtpd_milter_envelope(state, SMFIC_MAIL, path, params, 0, next));
}

int	smtpd_milter_rcpt(SMTPD_STATE *state, const char *path, const char *params,
			          const char *rcpt, SMTPD_MILTER_NEXT next)
{
    if (state->milter)
	set_rcpt(state->milter, rcpt, 0);
    return (smtpd_milter_envelope(state, SMFIC_RCPT, path, params, 0, next));
}

int	smtpd_milter_rcpt_refused(SMTPD_STATE *state, const char *path,
				          const char *params, const char *rcpt,
				          const char *reply)
{
    SMTPD_MILTER *sm = state->milter;
    int     wanted = 0;

    if (sm == 0 || sm->chain == 0 || sm->skip || !state->in_mail)
	return (-1);
    for (int i = 0; i < sm->count; i++)
	wanted |= milter_rcpt_rejected_wanted(milters_member(sm->chain, i));
    if (!wanted)
	return (-1);
    set_rcpt(sm, rcpt, reply);
    return (smtpd_milter_envelope(state, SMFIC_RCPT, path, params, 1, 0));
}

int	smtpd_milter_data(SMTPD_STATE *state, SMTPD_MILTER_NEXT next)
{
    MILTER_CMD cmd;

    return (smtpd_milter_ask(state, smtpd_milter_cmd(&cmd, SMFIC_DATA, 0),
			     state->cmd_index, next));
}

int	smtpd_milter_unknown(SMTPD_STATE *state, const char *verb,
			             SMTPD_MILTER_NEXT next)
{
    const char *argv[2] = {verb, 0};
    MILTER_CMD cmd;

    return (smtpd_milter_ask(state, smtpd_milter_cmd(&cmd, SMFIC_UNKNOWN, argv),
			     SMTPD_CMD_UNKNOWN, next));
}

/* The message */

/* msg_insert - TEXT (LEN bytes, LF-terminated) as header POS */
static void msg_insert(SMTPD_MSG *msg, int pos, const char *text, size_t len)
{
    if (msg->count >= msg->size) {
	msg->size = msg->size ? 2 * msg->size : 32;
	msg->hdrs = (char **) myrealloc(msg->hdrs, msg->size * sizeof(char *));
    }
    memmove(msg->hdrs + pos + 1, msg->hdrs + pos, (msg->count - pos) * sizeof(char *));
    msg->hdrs[pos] = mystrndup(text, len);
    msg->count++;
    if (msg->own >= pos)
	msg->own++;
}

/* msg_delete - drop header POS */
static void msg_delete(SMTPD_MSG *msg, int pos)
{
    myfree(msg->hdrs[pos]);
    memmove(msg->hdrs + pos, msg->hdrs + pos + 1, (msg->count - pos - 1) * sizeof(char *));
    msg->count--;
    if (msg->own == pos)
	msg->own = -1;
    else if (msg->own > pos)
	msg->own--;
}

/* msg_parse - CONTENT into headers and body; OWN: index of our Received: */
static void msg_parse(SMTPD_MSG *msg, const char *content, size_t len, int own)
{
    const char *cp = content;
    const char *end = content + len;
    const char *start = 0;			/* the header being collected */

    msg_reset(msg);
    while (cp < end) {
	const char *nl = memchr(cp, '\n', end - cp);
	const char *next = nl ? nl + 1 : end;

	if (start && (*cp == ' ' || *cp == '\t') && cp != nl) {
	    cp = next;				/* a continuation line */
	    continue;
	}
	if (start)
	    msg_insert(msg, msg->count, start, cp - start);
	start = 0;
	if (hdr_name_len(cp, next - cp) == 0) {
	    if (cp == nl) {			/* the empty line */
		msg->separator = 1;
		cp = next;
	    }
	    break;
	}
	start = cp;
	cp = next;
    }
    if (start)
	msg_insert(msg, msg->count, start, cp - start);
    vstring_memcpy(msg->body, cp, end - cp);
    if (own >= 0 && own < msg->count && strncasecmp(msg->hdrs[own], "Received:", 9) == 0)
	msg->own = own;
}

/* msg_format - the message as content again */
static void msg_format(const SMTPD_MSG *msg, VSTRING *out)
{
    vstring_reset(out);
    for (int i = 0; i < msg->count; i++)
	vstring_strcat(out, msg->hdrs[i]);
    if (msg->separator)
	vstring_addch(out, '\n');
    vstring_memcat(out, STR(msg->body), LEN(msg->body));
}

/* header_split - header I's name and value, as filters get them */
static void header_split(SMTPD_MILTER *sm, int i)
{
    const char *text = sm->msg.hdrs[i];
    const char *colon = strchr(text, ':');
    size_t  name_len = hdr_name_len(text, strlen(text));
    size_t  vlen;

    vstring_strncpy(sm->name, text, name_len);
    vlen = strlen(colon + 1);
    if (vlen > 0 && colon[vlen] == '\n')
	vlen--;
    vstring_strncpy(sm->value, colon + 1, vlen);
}

/* crlf_append - DATA (LEN bytes) with LF line ends as CRLF, onto OUT */
static void crlf_append(VSTRING *out, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
	if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
	    vstring_addch(out, '\r');
	vstring_addch(out, data[i]);
    }
}

/* lf_append - DATA with CRLF line ends as LF, onto OUT */
static void lf_append(VSTRING *out, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
	if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
	    vstring_addch(out, data[i]);
}

/*
 * header_text - "Name:value\n" from a filter's edit, LF line ends; a line
 * break not followed by white space gets a TAB, so that a value can
 * never start a header of its own or end the header block
 */
static void header_text(VSTRING *out, const char *name, const char *value)
{
    VSTRING *lf = vstring_alloc(100);
    const char *cp;

    lf_append(lf, value, strlen(value));
    vstring_sprintf(out, "%s:", name);
    for (cp = STR(lf); *cp; cp++) {
	vstring_addch(out, *cp);
	if (*cp == '\n' && cp[1] && cp[1] != ' ' && cp[1] != '\t')
	    vstring_addch(out, '\t');
    }
    if (STR(out)[LEN(out) - 1] != '\n')
	vstring_addch(out, '\n');
    vstring_free(lf);
}

/* header_find - the INDEX-th (1: first) NAME header filters saw, or -1 */
static int header_find(const SMTPD_MSG *msg, const char *name, long index)
{
    size_t  len = strlen(name);

    for (int i = 0; i < msg->count; i++) {
	if (i == msg->own)
	    continue;
	if (strncasecmp(msg->hdrs[i], name, len) == 0
	    && hdr_name_len(msg->hdrs[i], strlen(msg->hdrs[i])) == len
	    && --index == 0)
	    return (i);
    }
    return (-1);
}

/* strip_brackets - ADDR without <>, into BUF */
static const char *strip_brackets(VSTRING *buf, const char *addr)
{
    size_t  len = strlen(addr);

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
	vstring_strncpy(buf, addr + 1, len - 2);
    else
	vstring_strcpy(buf, addr);
    return (STR(buf));
}

/* edit_header - one header edit MOD */
static void edit_header(SMTPD_MILTER *sm, const MILTER_MOD *mod, VSTRING *buf)
{
    SMTPD_MSG *msg = &sm->msg;
    int     pos;

    if (mod->type == MILTER_MOD_CHGHDR) {
	pos = header_find(msg, mod->name, mod->index);
	if (pos >= 0)
	    msg_delete(msg, pos);
	if (*mod->value == 0)
	    return;				/* a delete */
	if (pos < 0)
	    pos = msg->count;			/* as Sendmail: not there, added */
    } else if (mod->type == MILTER_MOD_INSHDR) {
	pos = mod->index < msg->count ? (int) mod->index : msg->count;
    } else {
	pos = msg->count;
    }
    header_text(buf, mod->name, mod->value);
    msg_insert(msg, pos, STR(buf), LEN(buf));
}

/* edit_envelope - a recipient or sender edit; a reply when it failed */
static const char *edit_envelope(SMTPD_STATE *state, const MILTER_MOD *mod, VSTRING *buf)
{
    const char *addr = strip_brackets(buf, mod->name);

    switch (mod->type) {
    case MILTER_MOD_ADDRCPT:
	if (*addr && smtpd_add_rcpt_mapped(state, addr) < 0)
	    return ("451 4.3.0 Error: temporary lookup failure");
	break;
    case MILTER_MOD_DELRCPT:
	smtpd_del_rcpt(state, addr);
	break;
    case MILTER_MOD_CHGFROM:
	if (*addr)
	    smtpd_qualify(buf);
	myfree(state->sender);
	state->sender = mystrdup(STR(buf));
	break;
    }
    return (0);
}

/* apply_edits - one filter's MODS; NULL, or the reply that refuses it */
static const char *apply_edits(SMTPD_STATE *state, const MILTER_MOD *mods)
{
    SMTPD_MILTER *sm = state->milter;
    VSTRING *buf = vstring_alloc(100);
    const char *reply = 0;
    int     new_body = 0;

    for (const MILTER_MOD *mod = mods; mod && reply == 0; mod = mod->next) {
	sm->edited = 1;
	switch (mod->type) {
	case MILTER_MOD_ADDHDR:
	case MILTER_MOD_INSHDR:
	case MILTER_MOD_CHGHDR:
	    edit_header(sm, mod, buf);
	    break;
	case MILTER_MOD_REPLBODY:
	    if (!new_body++)
		vstring_reset(sm->msg.body);
	    lf_append(sm->msg.body, mod->data, mod->len);
	    break;
	case MILTER_MOD_QUARANTINE:
	    smtpd_action_log(state, "milter-hold", state->where,
			     "milter triggers HOLD action", 0);
	    if (state->hold_reason == 0)
		state->hold_reason = mystrdup(mod->name);
	    break;
	default:
	    reply = edit_envelope(state, mod, buf);
	    break;
	}
    }
    vstring_free(buf);
    return (reply);
}

static void content_next(SMTPD_STATE *state);

/*
 * content_finish - the filters are through: write the edits, answer.
 * RESUME: called back from the event loop (the session goes on here),
 * not from inside smtpd_milter_message().
 */
static void content_finish(SMTPD_STATE *state, const char *reply, int shutdown,
			           int resume)
{
    SMTPD_MILTER *sm = state->milter;
    void    (*done) (SMTPD_STATE *, const char *) = sm->done;

    if (reply == 0 && sm->edited && !state->discard_reason) {
	if (state->rcpt_count == 0) {
	    smtpd_action_log(state, "milter-discard", state->where,
			     "milter deleted every recipient", 0);
	    state->discard_reason = mystrdup("milter");
	} else {
	    msg_format(&sm->msg, sm->crlf);
	    if (smtpd_queue_rewrite(state, STR(sm->crlf), LEN(sm->crlf)) < 0)
		reply = "451 4.3.0 Error: queue file write error";
	}
    }
    sm->done = 0;
    msg_reset(&sm->msg);
    vstring_reset(sm->crlf);
    state->waiting = 0;
    done(state, reply);
    if (shutdown)
	state->mode = SMTPD_MODE_CLOSE;
    if (resume)
	smtpd_resume(state);
}

/*
 * content_answer - a filter's answer to a content step.  Anything but
 * CONTINUE or ACCEPT ends the filtering (as Postfix: a quarantine too).
 */
static void content_answer(const MILTER_RESULT *result, void *context)
{
    SMTPD_STATE *state = context;
    SMTPD_MILTER *sm = state->milter;
    const char *reply;

    if (result->action != MILTER_CONTINUE && result->action != MILTER_ACCEPT) {
	reply = smtpd_milter_verdict(state, result);
	content_finish(state, reply, result->action == MILTER_SHUTDOWN, 1);
	return;
    }
    if (sm->phase == PH_DONE) {
	if ((reply = apply_edits(state, result->mods)) != 0) {
	    content_finish(state, reply, 0, 1);
	    return;
	}
	if (++sm->member >= sm->count) {
	    content_finish(state, 0, 0, 1);
	    return;
	}
	sm->phase = PH_HEADER;
	sm->hdr = 0;
    }
    content_next(state);
}

/* content_next - the next content step to the filter that has the message */
static void content_next(SMTPD_STATE *state)
{
    SMTPD_MILTER *sm = state->milter;
    MILTER_SESS *sess = milters_member(sm->chain, sm->member);
    size_t  len;

    switch (sm->phase) {
    case PH_DATA:
	sm->phase = PH_HEADER;
	milters_data(sm->chain, content_answer, state);
	return;
    case PH_HEADER:
	while (sm->hdr < sm->msg.count && sm->hdr == sm->msg.own)
	    sm->hdr++;
	if (sm->hdr < sm->msg.count) {
	    header_split(sm, sm->hdr++);
	    milter_header(sess, STR(sm->name), STR(sm->value), content_answer, state);
	    return;
	}
	sm->phase = PH_EOH;
	milter_eoh(sess, content_answer, state);
	return;
    case PH_EOH:
	vstring_reset(sm->crlf);
	crlf_append(sm->crlf, STR(sm->msg.body), LEN(sm->msg.body));
	sm->body_pos = 0;
	sm->phase = PH_BODY;
	/* FALLTHROUGH */
    case PH_BODY:
	if (sm->body_pos < LEN(sm->crlf)) {
	    len = LEN(sm->crlf) - sm->body_pos;
	    if (len > MILTER_CHUNK_SIZE)
		len = MILTER_CHUNK_SIZE;
	    milter_body(sess, STR(sm->crlf) + sm->body_pos, len, content_answer, state);
	    sm->body_pos += len;
	    return;
	}
	sm->phase = PH_DONE;
	milter_eom(sess, content_answer, state);
	return;
    default:
	msg_panic("smtpd_milter: content phase %d", sm->phase);
    }
}

int	smtpd_milter_message(SMTPD_STATE *state, void (*done) (SMTPD_STATE *, const char *))
{
    SMTPD_MILTER *sm = state->milter;
    VSTRING *content;
    int     own = 0;

    if (sm == 0 || sm->skip || (sm->chain == 0 && !smtpd_milter_broken))
	return (0);
    sm->done = done;
    sm->edited = 0;
    if (sm->chain == 0) {
	content_finish(state, SMTPD_MILTER_CONF_ERROR, 0, 0);
	return (1);
    }
    content = vstring_alloc(1024);
    if (qfile_read_back(state->qf, content) < 0) {
	vstring_free(content);
	content_finish(state, "451 4.3.0 Error: queue file write error", 0, 0);
	return (1);
    }
    while (state->prepend && state->prepend[own])
	own++;					/* PREPEND headers are above ours */
    msg_parse(&sm->msg, STR(content), LEN(content), own);
    vstring_free(content);
    sm->member = 0;
    sm->hdr = 0;
    sm->phase = state->data_cmd == SMTPD_CMD_BDAT ? PH_DATA : PH_HEADER;
    state->waiting = 1;
    content_next(state);
    return (1);
}
