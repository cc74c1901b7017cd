/*
 * smtpd_anvil.c - per-client connection and request limits through the
 * anvil service (master/anvil.c), counted across every smtpd process, as
 * Postfix's smtpd applies them.
 *
 * At connect, a client that is not in smtpd_client_event_limit_exceptions
 * (default $mynetworks; local submission never) is registered with anvil
 * when a connection limit is set; over smtpd_client_connection_count_limit
 * or smtpd_client_connection_rate_limit it gets "421 4.7.0 HOST Error:
 * too many connections from ADDR" instead of the greeting.  MAIL, RCPT and
 * AUTH are counted against smtpd_client_message_rate_limit, _recipient_
 * and _auth_ (0: no limit) before they run; over the limit the command
 * gets Postfix's 450 4.7.1 and counts as an error.  Each limit that is hit
 * is logged as Postfix logs it ("warning: Connection rate limit exceeded:
 * 12 from host[addr] for service smtp").
 *
 * The session waits for anvil's answer without blocking the process: the
 * command is kept, input is not read, and the answer runs it (or refuses
 * it) from the event loop.  When anvil cannot be reached, no limit
 * applies, as in Postfix.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "anvil_clnt.h"
#include "smtpd.h"

/* A command waiting for anvil */
typedef struct SMTPD_ANVIL_WAIT {
    int     index;			/* in the command table */
    char   *args;
} SMTPD_ANVIL_WAIT;

/* The rate limits of commands */
typedef struct SMTPD_ANVIL_LIMIT {
    const char *verb;			/* upper case */
    const char *request;		/* anvil's name */
    const char *param;			/* the limit */
    const char *too;			/* over it: "Error: too TOO from ADDR" */
    const char *log;			/* ... and the warning */
} SMTPD_ANVIL_LIMIT;

static const SMTPD_ANVIL_LIMIT smtpd_anvil_limits[] = {
    {"MAIL", "message", "smtpd_client_message_rate_limit",
	"much mail",
    "Message delivery request rate limit exceeded"},
    {"RCPT", "recipient", "smtpd_client_recipient_rate_limit",
	"many recipients",
    "Recipient address rate limit exceeded"},
    {"AUTH", "auth", "smtpd_client_auth_rate_limit",
	"many AUTH commands",
    "AUTH command rate limit exceeded"},
    {0},
};

/* smtpd_anvil_ident - "SERVICE:ADDR" */

static const char *smtpd_anvil_ident(SMTPD_STATE *state, VSTRING *buf)
{
    vstring_sprintf(buf, "%s:%s", mail_server_service(), state->addr);
    return (STR(buf));
}

/* smtpd_anvil_exempt - the client is not counted */

static int smtpd_anvil_exempt(SMTPD_STATE *state)
{
    const char *exceptions;

    if (state->anvil_exempt < 0) {
	exceptions = conf_str("smtpd_client_event_limit_exceptions");
	state->anvil_exempt = (state->submit || state->addr[0] == 0
			       || (*exceptions
			  && smtpd_mynetworks_match(exceptions, state->addr)));
    }
    return (state->anvil_exempt);
}

/* smtpd_anvil_connected - anvil's answer to "connect" */

static void smtpd_anvil_connected(int status, int count, int rate, void *context)
{
    SMTPD_STATE *state = context;
    void    (*start) (SMTPD_STATE *) = state->anvil_start;
    int     count_limit = conf_int("smtpd_client_connection_count_limit");
    int     rate_limit = conf_int("smtpd_client_connection_rate_limit");
    const char *what = 0;
    int     value = 0;

    state->anvil_start = 0;
    if (status == ANVIL_STAT_OK) {
	state->anvil_registered = 1;
	if (count_limit > 0 && count > count_limit)
	    what = "Connection concurrency limit exceeded", value = count;
	else if (rate_limit > 0 && rate > rate_limit)
	    what = "Connection rate limit exceeded", value = rate;
    }
    if (what == 0) {
	start(state);
	return;
    }
    msg_warn("%s: %d from %s for service %s", what, value, state->namaddr,
	     mail_server_service());
    if (!conf_bool("smtpd_tls_wrappermode"))
	smtpd_reply(state, "421 4.7.0 %s Error: too many connections from %s",
		    var_myhostname, state->addr);
    state->mode = SMTPD_MODE_CLOSE;
    (void) smtpd_flush(state);
}

int     smtpd_anvil_connect(SMTPD_STATE *state, void (*start) (SMTPD_STATE *))
{
    VSTRING *ident;
    int     ret;

    if (smtpd_anvil_exempt(state)
	|| (conf_int("smtpd_client_connection_count_limit") == 0
	    && conf_int("smtpd_client_connection_rate_limit") == 0))
	return (0);
    ident = vstring_alloc(100);
    state->anvil_start = start;
    ret = (anvil_clnt_request("connect", smtpd_anvil_ident(state, ident),
			      smtpd_anvil_connected, state) == 0);
    if (!ret)
	state->anvil_start = 0;			/* not counted: no limit */
    vstring_free(ident);
    return (ret);
}

void    smtpd_anvil_disconnect(SMTPD_STATE *state)
{
    VSTRING *ident;

    anvil_clnt_cancel(state);
    if (state->anvil_wait) {
	myfree(((SMTPD_ANVIL_WAIT *) state->anvil_wait)->args);
	myfree(state->anvil_wait);
	state->anvil_wait = 0;
    }
    /* registered, or its "connect" is on the way: anvil counts it either way */
    if (!state->anvil_registered && state->anvil_start == 0)
	return;
    ident = vstring_alloc(100);
    (void) anvil_clnt_request("disconnect", smtpd_anvil_ident(state, ident), 0, 0);
    vstring_free(ident);
}

/* smtpd_anvil_limit - the rate limit that VERB is counted against, or NULL */

static const SMTPD_ANVIL_LIMIT *smtpd_anvil_limit(const char *verb)
{
    for (const SMTPD_ANVIL_LIMIT *lp = smtpd_anvil_limits; lp->verb; lp++)
	if (strcasecmp(lp->verb, verb) == 0)
	    return (conf_int(lp->param) > 0 ? lp : 0);
    return (0);
}

/* smtpd_anvil_counted - anvil's answer to a command's request */

static void smtpd_anvil_counted(int status, int count, int rate, void *context)
{
    SMTPD_STATE *state = context;
    SMTPD_ANVIL_WAIT *wait = (SMTPD_ANVIL_WAIT *) state->anvil_wait;
    const SMTPD_ANVIL_LIMIT *lp = smtpd_anvil_limit(smtpd_cmd_verb(wait->index));

    state->anvil_wait = 0;
    state->waiting = 0;
    if (status == ANVIL_STAT_OK && lp && rate > conf_int(lp->param)) {
	msg_warn("%s: %d from %s for service %s", lp->log, rate, state->namaddr,
		 mail_server_service());
	smtpd_reply(state, "450 4.7.1 Error: too %s from %s", lp->too, state->addr);
	smtpd_error(state);
    } else {
	smtpd_command_run(state, wait->index, wait->args);
    }
    myfree(wait->args);
    myfree(wait);
    smtpd_resume(state);
}

int     smtpd_anvil_command(SMTPD_STATE *state, int index, const char *args)
{
    const SMTPD_ANVIL_LIMIT *lp = smtpd_anvil_limit(smtpd_cmd_verb(index));
    SMTPD_ANVIL_WAIT *wait;
    VSTRING *ident;
    int     ret;

    if (lp == 0 || smtpd_anvil_exempt(state))
	return (0);
    /* As Postfix: a command out of order gets its 503 uncounted */
    if ((strcmp(lp->verb, "MAIL") == 0 && state->sender != 0)
	|| (strcmp(lp->verb, "RCPT") == 0 && state->sender == 0))
	return (0);
    ident = vstring_alloc(100);
    ret = (anvil_clnt_request(lp->request, smtpd_anvil_ident(state, ident),
			      smtpd_anvil_counted, state) == 0);
    vstring_free(ident);
    if (ret) {
	wait = (SMTPD_ANVIL_WAIT *) mymalloc(sizeof(*wait));
	wait->index = index;
	wait->args = mystrdup(args);
	state->anvil_wait = wait;
	state->waiting = 1;
    }
    return (ret);
}
