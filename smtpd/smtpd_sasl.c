/*
 * smtpd_sasl.c - the AUTH command (RFC 4954) through Cyrus SASL (lib/sasl/xsasl.h).
 *
 * smtpd_sasl_pre_init() loads Cyrus SASL once, as root, when
 * smtpd_sasl_auth_enable = yes.  Per session, a SASL server context is
 * made on first use (EHLO or AUTH) with smtpd_sasl_security_options, or
 * with smtpd_sasl_tls_security_options once TLS is on; a context made
 * before STARTTLS is replaced after it.  EHLO announces "AUTH <mechs>"
 * (and "AUTH=<mechs>" for broken_sasl_auth_clients) unless AUTH is off for
 * this client: the local submit socket, smtpd_sasl_exceptions_networks, or
 * smtpd_tls_auth_only / smtpd_tls_security_level = encrypt before TLS.
 *
 * Before TLS with smtpd_tls_security_level = encrypt, AUTH gets
 * smtpd_tls.c's "530 5.7.0 Must issue a STARTTLS command first"; with
 * only smtpd_tls_auth_only it gets Postfix's "504 5.5.4 Encryption
 * required for requested authentication mechanism".
 *
 * AUTH mech [initial-response] starts an exchange; a 334 challenge puts
 * the session in SMTPD_MODE_AUTH and smtpd_cmd.c hands the next line to
 * smtpd_sasl_input().  "*" cancels.  Replies and log lines are Postfix's
 * (3.7): 235 2.7.0 on success; 535 5.7.8 "Error: authentication failed:
 * <reason>" and the warning "host[addr]: SASL PLAIN authentication
 * failed: <reason>, sasl_username=<user>" on failure.  One difference,
 * as RFC 4954 section 4 requires: a response that is not base64 gets
 * "501 5.5.2 Cannot decode response" (Postfix answers 535).  A password
 * or a decoded response is never logged.
 *
 * The checks themselves (sasl_server_start/step: saslauthd, PAM, an SQL
 * or LDAP auxprop) may take seconds, so each step runs in a worker thread
 * (lib/util/worker.h) while the process serves its other sessions; the
 * session reads no input meanwhile, and its reply and counters are
 * settled when the step is back.  A session that ends while its step
 * runs leaves the SASL context to the step, which frees it.
 *
 * After success state->sasl_method and state->sasl_username are set (the
 * client= log line, permit_sasl_authenticated and the Received header use
 * them; smtpd_queue.c writes "(Authenticated sender: ...)" for
 * smtpd_sasl_authenticated_header); smtpd_sasl_free() forgets them (end
 * of session, STARTTLS).
 *
 * Parameters: smtpd_sasl_auth_enable, smtpd_sasl_type, smtpd_sasl_path,
 * cyrus_sasl_config_path, smtpd_sasl_service, smtpd_sasl_local_domain,
 * smtpd_sasl_security_options, smtpd_sasl_tls_security_options,
 * broken_sasl_auth_clients, smtpd_sasl_exceptions_networks,
 * smtpd_sasl_response_limit,
 * smtpd_tls_auth_only, smtpd_tls_security_level (if known),
 * smtpd_helo_required.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "xsasl.h"
#include "xsasl_passdb.h"
#include "printable.h"
#include "worker.h"
#include "smtpd.h"

/* One exchange step, run in a worker thread */
typedef struct SASL_STEP {
    SMTPD_STATE *state;			/* NULL: the session went away */
    XSASL_SERVER *server;
    char   *mech;			/* AUTH's mechanism, or NULL: a response */
    char   *input;			/* initial response / response, or NULL */
    VSTRING *reply;			/* challenge or failure reason */
    int     status;			/* XSASL_AUTH_* */
} SASL_STEP;

struct SMTPD_SASL {
    XSASL_SERVER *server;		/* NULL until first use */
    int     tls;			/* server made for a TLS session */
    char   *mech;			/* exchange in progress, or NULL */
    VSTRING *reply;			/* challenge or failure reason */
    SASL_STEP *step;			/* a step on the way, or NULL */
};

static int smtpd_sasl_enabled;		/* Cyrus SASL loaded */

/* check_security_options - fatal for a word Cyrus does not know */
static void check_security_options(const char *name)
{
    unsigned flags;
    const char *bad;

    if (xsasl_security_flags(conf_str(name), &flags, &bad) < 0)
	msg_fatal("bad %s value: unknown option \"%s\"", name, bad);
}

void	smtpd_sasl_pre_init(void)
{
    const char *type;

    if (!conf_bool("smtpd_sasl_auth_enable"))
	return;
    type = conf_str("smtpd_sasl_type");
    if (strcasecmp(type, "cyrus") != 0)
	msg_fatal("unsupported SASL server implementation: %s", type);
    check_security_options("smtpd_sasl_security_options");
    check_security_options("smtpd_sasl_tls_security_options");
    if (xsasl_server_init(conf_str("smtpd_sasl_path"),
			  conf_str("cyrus_sasl_config_path")) < 0)
	msg_fatal("SASL per-process initialization failed");
    if (xsasl_passdb_init(conf_str("smtpd_sasl_password_maps"),
			  conf_str("smtpd_sasl_default_pass_scheme")) < 0)
	msg_fatal("SASL password table initialization failed");
    smtpd_sasl_enabled = 1;
}

/* sasl_active - AUTH exists for this client at all */
static int sasl_active(SMTPD_STATE *state)
{
    const char *except;

    if (!smtpd_sasl_enabled || state->submit)
	return (0);
    except = conf_str("smtpd_sasl_exceptions_networks");
    return (*except == 0 || !smtpd_mynetworks_match(except, state->addr));
}

/* tls_auth_only - AUTH waits for TLS (smtpd_tls_auth_only, or TLS required) */
static int tls_auth_only(void)
{
    if (conf_bool("smtpd_tls_auth_only"))
	return (1);
    return (mail_param_find("smtpd_tls_security_level") != 0
	    && strcasecmp(conf_str("smtpd_tls_security_level"), "encrypt") == 0);
}

/* sasl_server - the session's SASL server for its current TLS state */
static XSASL_SERVER *sasl_server(SMTPD_STATE *state)
{
    struct SMTPD_SASL *sp = state->sasl;
    int     tls = state->tls != 0;

    if (sp == 0) {
	sp = state->sasl = mycalloc(1, sizeof(*sp));
	sp->reply = vstring_alloc(100);
    }
    if (sp->server && sp->tls != tls) {
	xsasl_server_free(sp->server);
	sp->server = 0;
    }
    if (sp->server == 0) {
	sp->tls = tls;
	sp->server = xsasl_server_create(conf_str("smtpd_sasl_service"),
					 var_myhostname,
					 conf_str("smtpd_sasl_local_domain"),
			    conf_str(tls ? "smtpd_sasl_tls_security_options" :
				     "smtpd_sasl_security_options"));
    }
    return (sp->server);
}

void	smtpd_sasl_ehlo(SMTPD_STATE *state)
{
    XSASL_SERVER *server;
    const char *mechs;

    if (!sasl_active(state) || (tls_auth_only() && state->tls == 0))
	return;
    if ((server = sasl_server(state)) == 0
	|| (mechs = xsasl_server_mechs(server)) == 0)
	return;
    smtpd_reply(state, "250-AUTH %s", mechs);
    if (conf_bool("broken_sasl_auth_clients"))
	smtpd_reply(state, "250-AUTH=%s", mechs);
}

/* auth_cmd_index - AUTH's slot in the per-command counters */
static int auth_cmd_index(void)
{
    for (int i = 0; i < SMTPD_CMD_COUNT; i++)
	if (strcmp(smtpd_cmd_name(i), "auth") == 0)
	    return (i);
    return (-1);
}

/*
 * exchange_failed - an exchange that began with 334 (counted as a good
 * AUTH command) failed later: count it as failed, and as an error.
 */
static void exchange_failed(SMTPD_STATE *state)
{
    int     i = auth_cmd_index();

    if (i >= 0 && state->cmd_ok[i] > 0)
	state->cmd_ok[i]--;
    smtpd_error(state);
}

/*
 * forget_server - after a failed or aborted exchange: the next one gets a
 * new SASL context, so that nothing of this one (the user name) shows up
 * in its log lines
 */
static void forget_server(SMTPD_STATE *state)
{
    xsasl_server_free(state->sasl->server);
    state->sasl->server = 0;
}

/* end_exchange - forget the mechanism of the exchange in progress */
static void end_exchange(SMTPD_STATE *state)
{
    struct SMTPD_SASL *sp = state->sasl;

    state->mode = SMTPD_MODE_CMD;
    if (sp && sp->mech) {
	myfree(sp->mech);
	sp->mech = 0;
    }
}

/* auth_done - the client authenticated */
static void auth_done(SMTPD_STATE *state, const char *mech)
{
    const char *user = xsasl_server_username(state->sasl->server);

    if (user == 0) {
	msg_warn("%s: SASL %s: cannot look up the authenticated user name",
		 state->namaddr, mech);
	user = "unknown";
    }
    state->sasl_username = mystrdup(user);
    state->sasl_method = mystrdup(mech);
    smtpd_reply(state, "235 2.7.0 Authentication successful");
}

/* auth_result - answer one xsasl result; 0 (2xx/3xx) or -1 (4xx/5xx) */
static int auth_result(SMTPD_STATE *state, const char *mech, int status)
{
    struct SMTPD_SASL *sp = state->sasl;
    const char *user;

    if (status == XSASL_AUTH_MORE) {
	smtpd_reply(state, "334 %s", STR(sp->reply));
	if (sp->mech == 0)
	    sp->mech = mystrdup(mech);
	state->mode = SMTPD_MODE_AUTH;
	return (0);
    }
    if (status == XSASL_AUTH_DONE) {
	auth_done(state, mech);
	end_exchange(state);
	return (0);
    }
    user = xsasl_server_username(sp->server);
    msg_warn("%s: SASL %.100s authentication failed: %s, sasl_username=%.100s",
	     state->namaddr, mech, STR(sp->reply), user ? user : "(unavailable)");
    forget_server(state);
    if (status == XSASL_AUTH_FORM)
	smtpd_reply(state, "501 5.5.2 Cannot decode response");
    else if (status == XSASL_AUTH_TEMP)
	smtpd_reply(state, "454 4.7.0 Temporary authentication failure: %s",
		    STR(sp->reply));
    else
	smtpd_reply(state, "535 5.7.8 Error: authentication failed: %s",
		    STR(sp->reply));
    end_exchange(state);
    return (-1);
}

/* auth_refused - the checks before an exchange; 1 (and replied) to refuse */
static int auth_refused(SMTPD_STATE *state)
{
    if (smtpd_tls_required(state))		/* replied 530, as Postfix */
	return (1);
    if (state->helo == 0 && conf_bool("smtpd_helo_required"))
	smtpd_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
    else if (!sasl_active(state))
	smtpd_reply(state, "503 5.5.1 Error: authentication not enabled");
    else if (tls_auth_only() && state->tls == 0)
	/* RFC 4954 section 4, as Postfix */
	smtpd_reply(state, "504 5.5.4 Encryption required for requested authentication mechanism");
    else if (state->sasl_username)
	smtpd_reply(state, "503 5.5.1 Error: already authenticated");
    else if (state->in_mail)
	smtpd_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
    else
	return (0);
    return (1);
}

/* step_work - in a worker thread: one call into Cyrus SASL */
static void step_work(void *arg)
{
    SASL_STEP *step = arg;

    if (step->mech)
	step->status = xsasl_server_first(step->server, step->mech, step->input,
					  step->reply);
    else
	step->status = xsasl_server_next(step->server, step->input, step->reply);
}

/* step_free - forget a step */
static void step_free(SASL_STEP *step)
{
    if (step->mech)
	myfree(step->mech);
    if (step->input)
	myfree(step->input);
    vstring_free(step->reply);
    myfree(step);
}

/* step_done - in the event loop: answer the client, count the command */
static void step_done(void *arg)
{
    SASL_STEP *step = arg;
    SMTPD_STATE *state = step->state;
    struct SMTPD_SASL *sp;
    int     i;

    if (state == 0) {				/* the session is gone */
	xsasl_server_free(step->server);
	step_free(step);
	return;
    }
    sp = state->sasl;
    sp->step = 0;
    state->waiting = 0;
    vstring_strcpy(sp->reply, STR(step->reply));
    if (step->mech) {				/* the AUTH command itself */
	if (auth_result(state, step->mech, step->status) < 0)
	    smtpd_error(state);
	else if ((i = auth_cmd_index()) >= 0)
	    state->cmd_ok[i]++;
    } else if (auth_result(state, sp->mech, step->status) < 0) {
	exchange_failed(state);
    }
    step_free(step);
    smtpd_resume(state);
}

/* step_start - run MECH's first step (MECH not NULL) or the next one */
static void step_start(SMTPD_STATE *state, const char *mech, const char *input)
{
    struct SMTPD_SASL *sp = state->sasl;
    SASL_STEP *step = (SASL_STEP *) mymalloc(sizeof(*step));

    step->state = state;
    step->server = sp->server;
    step->mech = mech ? mystrdup(mech) : 0;
    step->input = input ? mystrdup(input) : 0;
    step->reply = vstring_alloc(100);
    step->status = XSASL_AUTH_FAIL;
    sp->step = step;
    state->waiting = 1;
    worker_submit(step_work, step_done, step);
}

int	smtpd_sasl_cmd(SMTPD_STATE *state, char *args)
{
    char   *mech;
    char   *init;
    XSASL_SERVER *server;

    if (auth_refused(state))
	return (-1);
    mech = args;
    init = mech + strcspn(mech, " \t");
    if (*init) {
	*init++ = 0;
	init += strspn(init, " \t");
    }
    printable(mech, '?');			/* it reaches the log */
    if (*mech == 0 || init[strcspn(init, " \t")] != 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: AUTH mechanism");
	return (-1);
    }
    if ((server = sasl_server(state)) == 0) {
	smtpd_reply(state, "454 4.7.0 Temporary authentication failure: SASL server unavailable");
	return (-1);
    }
    step_start(state, mech, *init ? init : 0);
    return (SMTPD_ASYNC);
}

/*
 * smtpd_sasl_too_long - a response longer than smtpd_sasl_response_limit
 * (or than the line limit smtpd.c applies): end the exchange, as Postfix.
 */
void	smtpd_sasl_too_long(SMTPD_STATE *state)
{
    struct SMTPD_SASL *sp = state->sasl;

    msg_warn("%s: SASL %s input exceeds %d bytes", state->namaddr,
	     sp && sp->mech ? sp->mech : "(none)",
	     conf_int("smtpd_sasl_response_limit"));
    smtpd_reply(state, "500 5.5.6 SASL response limit exceeded");
    end_exchange(state);
    if (sp)
	forget_server(state);
    exchange_failed(state);
}

void	smtpd_sasl_input(SMTPD_STATE *state, char *line)
{
    struct SMTPD_SASL *sp = state->sasl;

    if (sp == 0 || sp->server == 0 || sp->mech == 0) {
	msg_warn("%s: AUTH response without an exchange in progress", state->namaddr);
	state->mode = SMTPD_MODE_CMD;
	return;
    }
    if (strcmp(line, "*") == 0) {
	msg_warn("%s: SASL %s authentication aborted", state->namaddr, sp->mech);
	smtpd_reply(state, "501 5.7.0 Authentication aborted");
	end_exchange(state);
	forget_server(state);
	exchange_failed(state);
	return;
    }
    if (strlen(line) > (size_t) conf_int("smtpd_sasl_response_limit")) {
	smtpd_sasl_too_long(state);
	return;
    }
    step_start(state, (char *) 0, line);
}

void	smtpd_sasl_free(SMTPD_STATE *state)
{
    struct SMTPD_SASL *sp = state->sasl;

    if (sp) {
	if (sp->step) {				/* the step frees the server */
	    sp->step->state = 0;
	    sp->server = 0;
	    state->waiting = 0;
	}
	xsasl_server_free(sp->server);
	vstring_free(sp->reply);
	if (sp->mech)
	    myfree(sp->mech);
	myfree(sp);
	state->sasl = 0;
    }
    if (state->mode == SMTPD_MODE_AUTH)
	state->mode = SMTPD_MODE_CMD;
    if (state->sasl_username)
	myfree(state->sasl_username);
    if (state->sasl_method)
	myfree(state->sasl_method);
    state->sasl_username = state->sasl_method = 0;
}
