/*
 * smtpd_policy.c - check_policy_service: SMTP access policy delegation,
 * as Postfix's smtpd does it (SMTPD_POLICY_README).
 *
 *   check_policy_service inet:127.0.0.1:10023
 *   check_policy_service unix:private/policyd-spf
 *
 * in any restriction list sends the policy service the attributes Postfix
 * 3.7 sends (request=smtpd_access_policy, protocol_state, protocol_name,
 * helo_name, queue_id, sender, recipient, recipient_count,
 * client_address, client_name, reverse_client_name, instance,
 * sasl_method, sasl_username, sasl_sender, size, ccert_*,
 * encryption_protocol, encryption_cipher, encryption_keysize, etrn_domain,
 * stress, client_port, policy_context, server_address, server_port) and
 * evaluates its "action=" as an access(5) table result: OK, DUNNO,
 * REJECT, DEFER_IF_PERMIT, PREPEND, 4xx/5xx text, a restriction list...
 *
 * The question goes out through lib/global/policy_clnt.c without
 * blocking: the evaluation stops "pending" (see smtpd_restrict.c), and
 * when the answer is in, the command runs again and finds the answer
 * kept here for it.  Answers live until the command has its result, so a
 * later command asks again.  When the service does not answer after
 * smtpd_policy_service_try_limit attempts, the result is
 * smtpd_policy_service_default_action ("451 4.3.5 Server configuration
 * problem"), as Postfix.
 *
 * Parameters: smtpd_policy_service_timeout, _max_idle, _max_ttl,
 * _try_limit, _request_limit, _default_action, _policy_context; one
 * service can have its own, Postfix 3.0's way:
 *
 *   check_policy_service { inet:127.0.0.1:10023, timeout = 10s,
 *       default_action = DUNNO, policy_context = greylist }
 *
 * (timeout, max_idle, max_ttl, try_limit, request_limit, default_action,
 * policy_context).
 */
#include "sys_defs.h"
#include <strings.h>
#include <sys/socket.h>
#include <netdb.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"
#include "mail_conf.h"
#include "policy_clnt.h"
#include "dict_private.h"
#include "smtpd.h"
#include "smtpd_restrict.h"

/* A service of this process (one client each), as the restriction names it */
typedef struct SMTPD_PSERVICE {
    char   *spec;			/* "inet:..." or "{ inet:..., name=value }" */
    POLICY_CLNT *clnt;
    char   *default_action;		/* when it does not answer */
    char   *context;			/* the policy_context attribute */
    struct SMTPD_PSERVICE *next;
} SMTPD_PSERVICE;

static SMTPD_PSERVICE *smtpd_pservices;

/* One question of a session, answered or not */
typedef struct SMTPD_PQUERY {
    SMTPD_STATE *state;
    SMTPD_PSERVICE *svc;
    char   *request;
    char   *action;			/* NULL: not answered yet */
    struct SMTPD_PQUERY *next;
} SMTPD_PQUERY;

/* service_setting - one "name = value" of a service's own settings */

static int service_setting(SMTPD_PSERVICE *sp, POLICY_LIMITS *limits,
			           const char *name, const char *value)
{
    static const char *times[] = {"timeout", "max_idle", "max_ttl", 0};
    int    *time_fields[] = {&limits->timeout, &limits->max_idle, &limits->max_ttl};
    long    num;
    char   *end;

    for (int i = 0; times[i]; i++) {
	if (strcmp(name, times[i]) == 0) {
	    if (!conf_parse_time(value, 's', &num) || num < 1 || num > 86400)
		return (-1);
	    *time_fields[i] = (int) num;
	    return (0);
	}
    }
    if (strcmp(name, "try_limit") == 0 || strcmp(name, "request_limit") == 0) {
	num = strtol(value, &end, 10);
	if (*value == 0 || *end || num < (*name == 't') || num > 1000000)
	    return (-1);
	*(*name == 't' ? &limits->try_limit : &limits->request_limit) = (int) num;
	return (0);
    }
    if (strcmp(name, "default_action") == 0 && *value) {
	myfree(sp->default_action);
	sp->default_action = mystrdup(value);
	return (0);
    }
    if (strcmp(name, "policy_context") == 0) {
	myfree(sp->context);
	sp->context = mystrdup(value);
	return (0);
    }
    return (-1);
}

/*
 * service_settings - Postfix 3.0's "{ endpoint, timeout = 10s,
 * default_action = DUNNO, ... }" (SPEC, in place): the endpoint, or NULL
 * with a warning
 */

static const char *service_settings(SMTPD_PSERVICE *sp, POLICY_LIMITS *limits,
				            char *spec)
{
    char   *inner = dict_extpar(spec);
    char   *endpoint = 0;
    char   *item;
    char   *eq;

    while (inner && (item = dict_strtokq(&inner, ",")) != 0) {
	item += strspn(item, " \t\r\n");
	item[strcspn(item, "\r\n")] = 0;
	if (*item == 0)
	    continue;
	if (endpoint == 0) {
	    endpoint = item;
	    endpoint[strcspn(endpoint, " \t")] = 0;
	    continue;
	}
	if ((eq = strchr(item, '=')) == 0) {
	    msg_warn("check_policy_service %s: missing '=' in \"%s\"", sp->spec, item);
	    return (0);
	}
	*eq++ = 0;
	item[strcspn(item, " \t")] = 0;
	eq += strspn(eq, " \t");
	for (char *end = eq + strlen(eq); end > eq && (end[-1] == ' ' || end[-1] == '\t');)
	    *--end = 0;
	if (service_setting(sp, limits, item, eq) < 0) {
	    msg_warn("check_policy_service %s: bad setting \"%s = %s\"",
		     sp->spec, item, eq);
	    return (0);
	}
    }
    if (endpoint == 0)
	msg_warn("check_policy_service %s: no service address", sp->spec);
    return (endpoint);
}

/* service_free - a service that could not be made */

static void service_free(SMTPD_PSERVICE *sp)
{
    myfree(sp->spec);
    myfree(sp->default_action);
    myfree(sp->context);
    myfree(sp);
}

/* policy_service - the service SPEC, made on first use; NULL if bad */

static SMTPD_PSERVICE *policy_service(const char *spec)
{
    SMTPD_PSERVICE *sp;
    POLICY_LIMITS limits;
    const char *endpoint;
    char   *copy;

    for (sp = smtpd_pservices; sp; sp = sp->next)
	if (strcmp(sp->spec, spec) == 0)
	    return (sp);
    limits.timeout = conf_time("smtpd_policy_service_timeout");
    limits.max_idle = conf_time("smtpd_policy_service_max_idle");
    limits.max_ttl = conf_time("smtpd_policy_service_max_ttl");
    limits.try_limit = conf_int("smtpd_policy_service_try_limit");
    limits.request_limit = conf_int("smtpd_policy_service_request_limit");
    sp = (SMTPD_PSERVICE *) mycalloc(1, sizeof(*sp));
    sp->spec = mystrdup(spec);
    sp->default_action = mystrdup(conf_str("smtpd_policy_service_default_action"));
    sp->context = mystrdup(conf_str("smtpd_policy_service_policy_context"));
    copy = mystrdup(spec);
    endpoint = *copy == '{' ? service_settings(sp, &limits, copy) : copy;
    if (endpoint == 0 || (sp->clnt = policy_clnt_create(endpoint, &limits)) == 0) {
	myfree(copy);
	service_free(sp);
	return (0);
    }
    myfree(copy);
    sp->next = smtpd_pservices;
    smtpd_pservices = sp;
    return (sp);
}

/* put - one attribute, its value on one line */

static void put(VSTRING *buf, const char *name, const char *value)
{
    vstring_sprintf_append(buf, "%s=", name);
    printable_cat(buf, value ? value : "", 2048, '?');
    vstring_strcat(buf, "\n");
}

/* smtpd_server_address - our end of the client's connection ("" if none) */

void	smtpd_server_address(SMTPD_STATE *state, char *addr, size_t alen,
			             char *port, size_t plen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    *addr = *port = 0;
    if (state->submit || getsockname(state->fd, (struct sockaddr *) &ss, &len) < 0
	|| getnameinfo((struct sockaddr *) &ss, len, addr, alen, port, plen,
		       NI_NUMERICHOST | NI_NUMERICSERV) != 0)
	*addr = *port = 0;
    if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
	memmove(addr, addr + 7, strlen(addr + 7) + 1);
}

/* policy_request - Postfix 3.7's attributes for CHK */

static void policy_request(SMTPD_CHECK *chk, const SMTPD_PSERVICE *svc, VSTRING *buf)
{
    SMTPD_STATE *state = chk->state;
    const char *protocol = "";
    const char *cipher = "";
    int     bits = 0;
    char    saddr[64];
    char    sport[16];

    vstring_reset(buf);
    put(buf, "request", "smtpd_access_policy");
    put(buf, "protocol_state", chk->cmd);
    put(buf, "protocol_name", state->protocol);
    put(buf, "helo_name", chk->helo);
    put(buf, "queue_id", "");
    put(buf, "sender", chk->sender);
    put(buf, "recipient", chk->rcpt);
    vstring_sprintf_append(buf, "recipient_count=%d\n", state->rcpt_cmds);
    put(buf, "client_address", smtpd_client_addr(state));
    put(buf, "client_name", state->name);
    put(buf, "reverse_client_name", state->reverse_name);
    vstring_sprintf_append(buf, "instance=%lx.%x.%x\n", (long) getpid(),
			   state->session_id, state->transactions);
    put(buf, "sasl_method", state->sasl_method);
    put(buf, "sasl_username", state->sasl_username);
    put(buf, "sasl_sender", "");
    vstring_sprintf_append(buf, "size=%ld\n", state->declared_size);
    put(buf, "ccert_subject", "");
    put(buf, "ccert_issuer", "");
    put(buf, "ccert_fingerprint", "");
    if (smtpd_tls_params(state, &protocol, &cipher, &bits)) {
	put(buf, "encryption_protocol", protocol);
	put(buf, "encryption_cipher", cipher);
	vstring_sprintf_append(buf, "encryption_keysize=%d\n", bits);
    } else {
	put(buf, "encryption_protocol", "");
	put(buf, "encryption_cipher", "");
	put(buf, "encryption_keysize", "0");
    }
    put(buf, "etrn_domain", "");
    put(buf, "stress", "");
    put(buf, "ccert_pubkey_fingerprint", "");
    put(buf, "client_port", state->port);
    put(buf, "policy_context", svc->context);
    smtpd_server_address(state, saddr, sizeof(saddr), sport, sizeof(sport));
    put(buf, "server_address", saddr);
    put(buf, "server_port", sport);
}

/* policy_answered - the service answered (or gave up): keep it, wake up */

static void policy_answered(int status, const char *action, void *context)
{
    SMTPD_PQUERY *pq = context;
    const char *def = pq->svc->default_action;

    if (status != POLICY_CLNT_OK)
	msg_warn("%s: policy service %s does not answer; using \"%s\"",
		 pq->state->namaddr, policy_clnt_name(pq->svc->clnt), def);
    pq->action = mystrdup(status == POLICY_CLNT_OK ? action : def);
    smtpd_lookup_done(pq->state);
}

int	smtpd_check_policy(SMTPD_CHECK *chk, const char *endpoint,
			           const char *reply_name, const char *reply_class)
{
    SMTPD_STATE *state = chk->state;
    SMTPD_PSERVICE *svc = policy_service(endpoint);
    VSTRING *request = vstring_alloc(1024);
    SMTPD_PQUERY *pq;
    int     status;

    if (svc == 0) {
	vstring_free(request);
	return (smtpd_check_reject(chk, 451, "4.3.5", "Server configuration error"));
    }
    policy_request(chk, svc, request);
    for (pq = state->pqueries; pq; pq = pq->next)
	if (pq->svc == svc && strcmp(pq->request, STR(request)) == 0)
	    break;
    if (pq == 0) {				/* ask */
	pq = (SMTPD_PQUERY *) mycalloc(1, sizeof(*pq));
	pq->state = state;
	pq->svc = svc;
	pq->request = vstring_export(request);
	pq->next = state->pqueries;
	state->pqueries = pq;
	smtpd_lookup_start(state);
	policy_clnt_request(svc->clnt, pq->request, policy_answered, pq);
    } else {
	vstring_free(request);
    }
    if (pq->action == 0)			/* the answer comes later */
	return (SMTPD_CHECK_PENDING);
    status = smtpd_check_access_result(chk, "check_policy_service", pq->action,
				       reply_name, reply_class);
    return (status);
}

void	smtpd_policy_forget(SMTPD_STATE *state)
{
    SMTPD_PQUERY *pq;
    SMTPD_PQUERY **pp = &state->pqueries;

    while ((pq = *pp) != 0) {
	if (pq->action == 0) {			/* still on the way */
	    pp = &pq->next;
	    continue;
	}
	*pp = pq->next;
	myfree(pq->request);
	myfree(pq->action);
	myfree(pq);
    }
}

void	smtpd_policy_free(SMTPD_STATE *state)
{
    SMTPD_PQUERY *pq;

    while ((pq = state->pqueries) != 0) {
	state->pqueries = pq->next;
	if (pq->action == 0)
	    policy_clnt_cancel(pq->svc->clnt, pq);
	else
	    myfree(pq->action);
	myfree(pq->request);
	myfree(pq);
    }
}
