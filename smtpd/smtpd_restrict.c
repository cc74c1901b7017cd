/*
 * smtpd_restrict.c - the smtpd_*_restrictions lists, as Postfix has them.
 *
 * Lists (comma or white space separated, read once at start-up, tables
 * opened then): smtpd_client_restrictions, smtpd_helo_restrictions,
 * smtpd_sender_restrictions, smtpd_relay_restrictions,
 * smtpd_recipient_restrictions, smtpd_data_restrictions.  Each list is
 * evaluated on its own: its first permit ends that list only, its first
 * reject ends the command; a list that runs out permits.  At RCPT the
 * relay list and then the recipient list must both pass, and after them
 * smtpd_check.c checks that the recipient exists (Postfix's implicit
 * reject_unlisted_recipient).  With smtpd_delay_reject = yes (default) the
 * client, helo and sender lists are evaluated at each RCPT instead of at
 * connect/HELO/MAIL, so their rejects are reported at RCPT.  With
 * smtpd_delay_reject = no a client reject replaces the greeting and every
 * later command gets "503 5.7.0 Error: access denied for host[addr]".
 * Local submission (the UNIX-domain submit service) is not restricted.
 *
 * Restrictions: permit, reject, defer, defer_if_permit, warn_if_reject,
 * permit_mynetworks, permit_sasl_authenticated, permit_auth_destination,
 * reject_unauth_destination, defer_unauth_destination,
 * reject_unauth_pipelining, reject_non_fqdn_sender,
 * reject_non_fqdn_recipient, reject_non_fqdn_helo_hostname,
 * reject_invalid_helo_hostname, reject_unknown_sender_domain,
 * reject_unknown_recipient_domain, reject_unknown_helo_hostname,
 * reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
 * reject_rbl_client domain[=d.d.d.d], reject_rhsbl_client,
 * reject_rhsbl_reverse_client, reject_rhsbl_helo, reject_rhsbl_sender,
 * reject_rhsbl_recipient domain[=d.d.d.d], check_policy_service
 * inet:host:port or unix:path (smtpd_policy.c), check_client_access,
 * check_helo_access, check_sender_access, check_recipient_access
 * type:table (smtpd_access.c),
 * reject_sender_login_mismatch and its authenticated_, unauthenticated_
 * and known_ forms (smtpd_login.c).  reject_non_fqdn_sender and
 * _recipient look at the address as the client sent it, before
 * @$myorigin is added.  An unknown name
 * is warned about at start-up and answers "451 4.3.5 Server
 * configuration error" when reached.  As Postfix, smtpd refuses to run
 * when neither the relay nor the recipient list can ever refuse to relay.
 *
 * Destinations: a recipient is an authorized destination when its domain
 * is in mydestination, virtual_alias_domains, virtual_mailbox_domains
 * (final delivery) or relay_domains.  For mydestination addresses the
 * routing operators in the local part are followed first, as Postfix's
 * resolver does: user@host@local, host!user@local (swap_bangpath) and
 * user%host@local (allow_percent_hack) stand for user@host.  A relay_domains
 * address with routing operators in its local part is not authorized
 * (allow_untrusted_routing = no), so none of these tricks opens a relay.
 *
 * DNS lookups (reject_unknown_*, reject_rbl_client, reject_rhsbl_*) go
 * through the session's cache in smtpd_dns.c and never block the process:
 * a lookup that is not answered yet makes the evaluation stop with
 * SMTPD_CHECK_PENDING, and the hook returns SMTPD_WAIT; the command runs
 * again when the answer is in.  So that a second run does not log or act
 * twice, log lines and HOLD/DISCARD actions are kept in the SMTPD_CHECK
 * and take effect only when the evaluation has a result.  The client
 * name of reject_unknown_client_hostname etc. was found at connect.
 *
 * Parameters: the six lists, smtpd_delay_reject, reject_code, defer_code,
 * relay_domains_reject_code, maps_rbl_reject_code,
 * invalid_hostname_reject_code, non_fqdn_reject_code,
 * unknown_address_reject_code, unknown_client_reject_code,
 * unknown_hostname_reject_code, allow_percent_hack, swap_bangpath,
 * allow_untrusted_routing, and those of smtpd_access.c and
 * smtpd_login.c (smtpd_sender_login_maps).
 */
#include "sys_defs.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"
#include "mail_conf.h"
#include "address.h"
#include "resolve.h"
#include "dns.h"
#include "dict_private.h"
#include "smtpd.h"
#include "smtpd_restrict.h"

#define LIST_SEP	", \t\r\n"
#define MAX_RECURSION	20

/* Restriction codes */
enum {
    R_UNKNOWN, R_PERMIT, R_REJECT, R_DEFER, R_DEFER_IF_PERMIT, R_WARN_IF_REJECT,
    R_PERMIT_MYNETWORKS, R_PERMIT_SASL, R_PERMIT_AUTH_DEST, R_REJECT_UNAUTH_DEST,
    R_DEFER_UNAUTH_DEST, R_UNAUTH_PIPELINING, R_NON_FQDN_SENDER, R_NON_FQDN_RCPT,
    R_NON_FQDN_HELO, R_INVALID_HELO, R_UNKNOWN_SENDER_DOMAIN,
    R_UNKNOWN_RCPT_DOMAIN, R_RBL_CLIENT, R_CLIENT_ACCESS, R_HELO_ACCESS,
    R_SENDER_ACCESS, R_RCPT_ACCESS, R_LOGIN_MISMATCH, R_AUTH_LOGIN_MISMATCH,
    R_UNAUTH_LOGIN_MISMATCH, R_KNOWN_LOGIN_MISMATCH, R_UNKNOWN_CLIENT,
    R_UNKNOWN_REV_CLIENT, R_UNKNOWN_HELO, R_RHSBL_CLIENT, R_RHSBL_REV_CLIENT,
    R_RHSBL_HELO, R_RHSBL_SENDER, R_RHSBL_RCPT, R_POLICY_SERVICE,
};

/* Argument kinds */
#define ARG_NONE	0
#define ARG_TABLE	1
#define ARG_DOMAIN	2

static const struct {
    const char *name;
    int     code;
    int     arg;
} restriction_names[] = {
    {"permit", R_PERMIT, ARG_NONE},
    {"reject", R_REJECT, ARG_NONE},
    {"defer", R_DEFER, ARG_NONE},
    {"defer_if_permit", R_DEFER_IF_PERMIT, ARG_NONE},
    {"warn_if_reject", R_WARN_IF_REJECT, ARG_NONE},
    {"permit_mynetworks", R_PERMIT_MYNETWORKS, ARG_NONE},
    {"permit_sasl_authenticated", R_PERMIT_SASL, ARG_NONE},
    {"permit_auth_destination", R_PERMIT_AUTH_DEST, ARG_NONE},
    {"reject_unauth_destination", R_REJECT_UNAUTH_DEST, ARG_NONE},
    {"defer_unauth_destination", R_DEFER_UNAUTH_DEST, ARG_NONE},
    {"reject_unauth_pipelining", R_UNAUTH_PIPELINING, ARG_NONE},
    {"reject_non_fqdn_sender", R_NON_FQDN_SENDER, ARG_NONE},
    {"reject_non_fqdn_recipient", R_NON_FQDN_RCPT, ARG_NONE},
    {"reject_non_fqdn_helo_hostname", R_NON_FQDN_HELO, ARG_NONE},
    {"reject_non_fqdn_hostname", R_NON_FQDN_HELO, ARG_NONE},	/* old name */
    {"reject_invalid_helo_hostname", R_INVALID_HELO, ARG_NONE},
    {"reject_invalid_hostname", R_INVALID_HELO, ARG_NONE},	/* old name */
    {"reject_unknown_sender_domain", R_UNKNOWN_SENDER_DOMAIN, ARG_NONE},
    {"reject_unknown_recipient_domain", R_UNKNOWN_RCPT_DOMAIN, ARG_NONE},
    {"reject_unknown_helo_hostname", R_UNKNOWN_HELO, ARG_NONE},
    {"reject_unknown_hostname", R_UNKNOWN_HELO, ARG_NONE},	/* old name */
    {"reject_unknown_client_hostname", R_UNKNOWN_CLIENT, ARG_NONE},
    {"reject_unknown_client", R_UNKNOWN_CLIENT, ARG_NONE},	/* old name */
    {"reject_unknown_reverse_client_hostname", R_UNKNOWN_REV_CLIENT, ARG_NONE},
    {"reject_rbl_client", R_RBL_CLIENT, ARG_DOMAIN},
    {"reject_rhsbl_client", R_RHSBL_CLIENT, ARG_DOMAIN},
    {"reject_rhsbl_reverse_client", R_RHSBL_REV_CLIENT, ARG_DOMAIN},
    {"reject_rhsbl_helo", R_RHSBL_HELO, ARG_DOMAIN},
    {"reject_rhsbl_sender", R_RHSBL_SENDER, ARG_DOMAIN},
    {"reject_rhsbl_recipient", R_RHSBL_RCPT, ARG_DOMAIN},
    {"check_policy_service", R_POLICY_SERVICE, ARG_DOMAIN},
    {"check_client_access", R_CLIENT_ACCESS, ARG_TABLE},
    {"check_helo_access", R_HELO_ACCESS, ARG_TABLE},
    {"check_sender_access", R_SENDER_ACCESS, ARG_TABLE},
    {"check_recipient_access", R_RCPT_ACCESS, ARG_TABLE},
    {"reject_sender_login_mismatch", R_LOGIN_MISMATCH, ARG_NONE},
    {"reject_authenticated_sender_login_mismatch", R_AUTH_LOGIN_MISMATCH, ARG_NONE},
    {"reject_unauthenticated_sender_login_mismatch", R_UNAUTH_LOGIN_MISMATCH, ARG_NONE},
    {"reject_known_sender_login_mismatch", R_KNOWN_LOGIN_MISMATCH, ARG_NONE},
    {0, 0, 0},
};

typedef struct RESTRICTION {
    int     code;			/* R_* */
    char   *name;			/* as written */
    char   *arg;			/* table or RBL domain, or NULL */
    MAPS   *maps;			/* check_*_access */
} RESTRICTION;

typedef struct RLIST {
    RESTRICTION *items;
    int     count;
} RLIST;

static RLIST client_list;
static RLIST helo_list;
static RLIST sender_list;
static RLIST relay_list;
static RLIST recipient_list;
static RLIST data_list;
static int delay_reject;

/* Per-session state (smtpd.h: state->policy) */
typedef struct SMTPD_POLICY {
    char   *access_denied;		/* delay_reject = no: client rejected */
} SMTPD_POLICY;

/* lookup_name - the table entry for NAME, or -1 */
static int lookup_name(const char *name)
{
    for (int i = 0; restriction_names[i].name; i++)
	if (strcasecmp(name, restriction_names[i].name) == 0)
	    return (i);
    return (-1);
}

/*
 * parse_list - TEXT into LIST.  With OPEN_TABLES, tables are opened; else
 * (an access table result) a table argument is an error.  Returns the
 * number of errors (each logged).
 */
static int parse_list(const char *title, const char *text, RLIST *list, int open_tables)
{
    char   *saved = mystrdup(text);
    char   *cp = saved;
    char   *tok;
    int     errors = 0;
    int     idx;

    memset(list, 0, sizeof(*list));
    while ((tok = dict_strtokq(&cp, LIST_SEP)) != 0) {
	RESTRICTION r = {R_UNKNOWN, mystrdup(tok), 0, 0};

	if (*tok == 0) {
	    myfree(r.name);
	    continue;
	}
	if ((idx = lookup_name(tok)) < 0) {
	    msg_warn("%s: unknown smtpd restriction: \"%s\"", title, tok);
	    errors++;
	} else {
	    r.code = restriction_names[idx].code;
	    if (restriction_names[idx].arg != ARG_NONE) {
		char   *arg = dict_strtokq(&cp, LIST_SEP);

		if (arg == 0 || *arg == 0) {
		    msg_warn("%s: restriction \"%s\" needs an argument", title, tok);
		    r.code = R_UNKNOWN;
		    errors++;
		} else {
		    r.arg = mystrdup(arg);
		    if (restriction_names[idx].arg == ARG_TABLE) {
			if (open_tables) {
			    r.maps = smtpd_access_open(arg);
			} else {
			    msg_warn("%s: do not specify lookup tables inside access maps", title);
			    r.code = R_UNKNOWN;
			    errors++;
			}
		    }
		}
	    }
	}
	list->items = myrealloc(list->items, (list->count + 1) * sizeof(RESTRICTION));
	list->items[list->count++] = r;
    }
    myfree(saved);
    return (errors);
}

/* free_list - for lists parsed at run time (tables are kept by smtpd_access.c) */
static void free_list(RLIST *list)
{
    for (int i = 0; i < list->count; i++) {
	myfree(list->items[i].name);
	if (list->items[i].arg)
	    myfree(list->items[i].arg);
    }
    if (list->items)
	myfree(list->items);
    memset(list, 0, sizeof(*list));
}

/* list_has - does LIST contain a restriction with one of CODES (0-terminated)? */
static int list_has(const RLIST *list, const int *codes)
{
    for (int i = 0; i < list->count; i++)
	for (const int *c = codes; *c; c++)
	    if (list->items[i].code == *c)
		return (1);
    return (0);
}

void	smtpd_restrict_init(void)
{
    static const int relay_guards[] = {R_REJECT_UNAUTH_DEST, R_DEFER_UNAUTH_DEST,
    R_REJECT, R_DEFER, R_DEFER_IF_PERMIT, 0};
    static const struct {
	const char *param;
	RLIST  *list;
    }       lists[] = {
	{"smtpd_client_restrictions", &client_list},
	{"smtpd_helo_restrictions", &helo_list},
	{"smtpd_sender_restrictions", &sender_list},
	{"smtpd_relay_restrictions", &relay_list},
	{"smtpd_recipient_restrictions", &recipient_list},
	{"smtpd_data_restrictions", &data_list},
    };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
	if (lists[i].list->items)
	    free_list(lists[i].list);
	(void) parse_list(lists[i].param, conf_str(lists[i].param), lists[i].list, 1);
    }
    delay_reject = conf_bool("smtpd_delay_reject");
    if (!list_has(&relay_list, relay_guards) && !list_has(&recipient_list, relay_guards))
	msg_fatal("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions,"
		  " specify at least one working instance of: reject_unauth_destination,"
		  " defer_unauth_destination, reject, defer, defer_if_permit");
}

/* smtpd_client_addr - see smtpd_restrict.h */
const char *smtpd_client_addr(SMTPD_STATE *state)
{
    if (strncasecmp(state->addr, "::ffff:", 7) == 0 && strchr(state->addr, '.'))
	return (state->addr + 7);
    return (state->addr);
}

/* smtpd_check_reject - see smtpd_restrict.h */
int	smtpd_check_reject(SMTPD_CHECK *chk, int code, const char *dsn,
			           const char *fmt,...)
{
    va_list ap;
    char    fixed[16];

    /* The DSN class must agree with the reply code, as Postfix makes it. */
    snprintf(fixed, sizeof(fixed), "%s", dsn);
    fixed[0] = '0' + code / 100;
    vstring_sprintf(chk->reply, "%d %s ", code, fixed);
    va_start(ap, fmt);
    vstring_vsprintf_append(chk->reply, fmt, ap);
    va_end(ap);
    return (SMTPD_CHECK_REJECT);
}

/* smtpd_check_log - see smtpd_restrict.h */
void	smtpd_check_log(SMTPD_CHECK *chk, const char *action, const char *text)
{
    VSTRING *buf = vstring_alloc(200);
    SMTPD_STATE *state = chk->state;

    vstring_sprintf(buf, "NOQUEUE: %s: %s from %s: %s;", action, chk->cmd,
		    state->namaddr, text);
    if (chk->sender)
	vstring_sprintf_append(buf, " from=<%s>", chk->sender);
    if (chk->rcpt)
	vstring_sprintf_append(buf, " to=<%s>", chk->rcpt);
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (chk->helo)
	vstring_sprintf_append(buf, " helo=<%s>", chk->helo);
    /* Logged by check_done(), once the evaluation did not stop for DNS */
    if (chk->log == 0)
	chk->log = vstring_alloc(200);
    vstring_sprintf_append(chk->log, "%s\n", STR(buf));
    vstring_free(buf);
}

/* smtpd_check_prepend - see smtpd_restrict.h */
void	smtpd_check_prepend(SMTPD_CHECK *chk, const char *header)
{
    if (chk->prepend == 0)
	chk->prepend = vstring_alloc(100);
    vstring_sprintf_append(chk->prepend, "%s\n", header);
}

/* smtpd_check_keep - see smtpd_restrict.h */
void	smtpd_check_keep(char **where, const char *text)
{
    if (*where == 0)
	*where = mystrdup(text);
}

/* smtpd_check_defer_if_permit - see smtpd_restrict.h */
void	smtpd_check_defer_if_permit(SMTPD_CHECK *chk, int code, const char *dsn,
				            const char *text)
{
    char    fixed[16];

    if (chk->defer_if_permit != 0)
	return;					/* the first one wins */
    snprintf(fixed, sizeof(fixed), "%s", dsn);
    fixed[0] = '0' + code / 100;
    chk->defer_if_permit = vstring_alloc(100);
    vstring_sprintf(chk->defer_if_permit, "%d %s %s", code, fixed, text);
}

/* server_error - the reply for a configuration problem */
static int server_error(SMTPD_CHECK *chk)
{
    return (smtpd_check_reject(chk, 451, "4.3.5", "Server configuration error"));
}

/* domain_of - lower-case domain of ADDR without a trailing dot into BUF */
static const char *domain_of(const char *addr, VSTRING *local, VSTRING *domain)
{
    if (addr_split(addr, local, domain) < 0)
	return (0);
    if (LEN(domain) > 0 && STR(domain)[LEN(domain) - 1] == '.')
	vstring_truncate(domain, LEN(domain) - 1);
    vstring_lowercase(domain);
    return (STR(domain));
}

/*
 * follow_route - for a local-class address, the destination its local
 * part routes to (user@host, host!user, user%host); 1 when it changed.
 */
static int follow_route(VSTRING *local, VSTRING *domain)
{
    char   *lp = STR(local);
    char   *cp;
    VSTRING *tmp;

    if ((cp = strrchr(lp, '@')) == 0
	&& (!conf_bool("swap_bangpath") || (cp = strchr(lp, '!')) == 0)
	&& (!conf_bool("allow_percent_hack") || (cp = strrchr(lp, '%')) == 0))
	return (0);
    tmp = vstring_alloc(100);
    if (*cp == '!') {				/* host!user */
	vstring_strncpy(domain, lp, cp - lp);
	vstring_strcpy(tmp, cp + 1);
    } else {					/* user@host, user%host */
	vstring_strcpy(domain, cp + 1);
	vstring_strncpy(tmp, lp, cp - lp);
    }
    vstring_strcpy(local, STR(tmp));
    vstring_free(tmp);
    vstring_lowercase(domain);
    return (1);
}

/* has_routing - a local part with routing operators */
static int has_routing(const char *local)
{
    return (strpbrk(local, "@!%") != 0);
}

/*
 * auth_destination - 1 when RCPT may be received (final destination) or
 * relayed (relay_domains) for anyone; 0 when not; -1 on a table failure.
 */
static int auth_destination(const char *rcpt)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    int     class;
    int     routed = 0;
    int     hops = 0;
    int     result;

    if (domain_of(rcpt, local, domain) == 0) {
	result = 0;
	goto out;
    }
    while ((class = resolve_class(STR(domain))) == RESOLVE_CLASS_LOCAL
	   && hops++ < 10 && follow_route(local, domain))
	routed = 1;
    switch (class) {
    case RESOLVE_CLASS_ERROR:
	result = -1;
	break;
    case RESOLVE_CLASS_LOCAL:
    case RESOLVE_CLASS_ALIAS:
    case RESOLVE_CLASS_VIRTUAL:
	result = (LEN(domain) > 0);
	break;
    case RESOLVE_CLASS_RELAY:
	result = conf_bool("allow_untrusted_routing")
	    || (!routed && !has_routing(STR(local)));
	break;
    default:
	result = 0;
	break;
    }
out:
    vstring_free(local);
    vstring_free(domain);
    return (result);
}

/* unauth_destination - reject_ and defer_unauth_destination */
static int unauth_destination(SMTPD_CHECK *chk, int code, const char *dsn)
{
    int     ok;

    if (chk->rcpt == 0)
	return (SMTPD_CHECK_DUNNO);
    if ((ok = auth_destination(chk->rcpt)) < 0)
	return (smtpd_check_reject(chk, 451, "4.3.0", "<%s>: Temporary lookup failure",
				   chk->rcpt));
    if (ok)
	return (SMTPD_CHECK_DUNNO);
    return (smtpd_check_reject(chk, code, dsn, "<%s>: Relay access denied", chk->rcpt));
}

/* pending_input - did the client send more than the command being handled? */
static int pending_input(SMTPD_STATE *state)
{
    const char *buf = STR(state->in);
    ssize_t pos;
    char    ch;

    /*
     * smtpd.c handles the command lines in state->in in place, replacing
     * each line end with a NUL, and drops them only after the batch.  So
     * the input after the last NUL (and the LF of a CRLF) was sent ahead.
     */
    for (pos = (ssize_t) LEN(state->in) - 1; pos >= 0 && buf[pos] != 0; pos--)
	 /* void */ ;
    if (pos >= 0) {
	pos++;
	if (state->line_crlf && (size_t) pos < LEN(state->in) && buf[pos] == '\n')
	    pos++;
	if ((size_t) pos < LEN(state->in))
	    return (1);
    }
    if (state->tls == 0 && !state->submit
	&& recv(state->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
	return (1);
    return (0);
}

/* unauth_pipelining - input ahead of a reply where RFC 2920 does not allow it */
static int unauth_pipelining(SMTPD_CHECK *chk, const char *reply_name,
			             const char *reply_class)
{
    SMTPD_STATE *state = chk->state;

    if (!pending_input(state))
	return (SMTPD_CHECK_DUNNO);
    if (strcasecmp(state->protocol, "ESMTP") == 0 && strcmp(chk->cmd, "DATA") != 0)
	return (SMTPD_CHECK_DUNNO);
    return (smtpd_check_reject(chk, 503, "5.5.0",
			   "<%s>: %s rejected: Improper use of SMTP command pipelining",
			       reply_name, reply_class));
}

/* is_literal - an address literal such as [192.0.2.1] */
static int is_literal(const char *domain)
{
    return (*domain == '[' && addr_valid_domain(domain));
}

/* non_fqdn_addr - reject_non_fqdn_sender / _recipient */
static int non_fqdn_addr(SMTPD_CHECK *chk, const char *addr, const char *reply_class)
{
    const char *domain;

    if (addr == 0 || *addr == 0)
	return (SMTPD_CHECK_DUNNO);
    domain = addr_domain(addr);
    if (domain && *domain && (is_literal(domain)
			      || (strchr(domain, '.') && addr_valid_domain(domain))))
	return (SMTPD_CHECK_DUNNO);
    return (smtpd_check_reject(chk, conf_int("non_fqdn_reject_code"), "5.5.2",
			       "<%s>: %s rejected: need fully-qualified address",
			       addr, reply_class));
}

/* helo_name_check - reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname */
static int helo_name_check(SMTPD_CHECK *chk, int fqdn)
{
    const char *helo = chk->helo;
    char   *name;
    int     status = SMTPD_CHECK_DUNNO;
    size_t  len;

    if (helo == 0)
	return (SMTPD_CHECK_DUNNO);
    name = mystrdup(helo);
    if ((len = strlen(name)) > 1 && name[len - 1] == '.' && *name != '[')
	name[len - 1] = 0;			/* a trailing dot is allowed */
    if (is_literal(name)) {
	 /* always valid and fully qualified */ ;
    } else if (!addr_valid_domain(name)) {
	status = smtpd_check_reject(chk, conf_int(fqdn ? "non_fqdn_reject_code" :
					      "invalid_hostname_reject_code"),
				    "5.5.2", fqdn ?
			    "<%s>: Helo command rejected: need fully-qualified hostname"
				    : "<%s>: Helo command rejected: Invalid name", helo);
    } else if (fqdn && strchr(name, '.') == 0) {
	status = smtpd_check_reject(chk, conf_int("non_fqdn_reject_code"), "5.5.2",
		   "<%s>: Helo command rejected: need fully-qualified hostname", helo);
    }
    myfree(name);
    return (status);
}

/*
 * has_address - does DOMAIN have an MX (not null) or an A/AAAA record?
 * DNS_OK etc., or SMTPD_DNS_PENDING.
 */
static int has_address(SMTPD_STATE *state, const char *domain, int *null_mx)
{
    static const int types[] = {DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA};
    DNS_ANSWER answer;
    int     status = DNS_NOTFOUND;

    *null_mx = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
	dns_answer_init(&answer);
	status = smtpd_dns_lookup(state, domain, types[i], &answer);
	if (status == DNS_OK && types[i] == DNS_TYPE_MX
	    && answer.count == 1 && *answer.rr[0].value == 0)
	    *null_mx = 1;
	dns_answer_free(&answer);
	if (status != DNS_NOTFOUND)
	    break;
    }
    return (status);
}

/* unknown_domain - reject_unknown_sender_domain / _recipient_domain */
static int unknown_domain(SMTPD_CHECK *chk, const char *addr, const char *reply_class,
			          const char *dsn)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    int     status = SMTPD_CHECK_DUNNO;
    int     class;
    int     null_mx;

    if (addr == 0 || *addr == 0 || domain_of(addr, local, domain) == 0
	|| LEN(domain) == 0 || is_literal(STR(domain)))
	goto out;
    class = resolve_class(STR(domain));
    if (class == RESOLVE_CLASS_LOCAL || class == RESOLVE_CLASS_ALIAS
	|| class == RESOLVE_CLASS_VIRTUAL)
	goto out;				/* ours */
    switch (has_address(chk->state, STR(domain), &null_mx)) {
    case SMTPD_DNS_PENDING:
	status = SMTPD_CHECK_PENDING;
	break;
    case DNS_OK:
	if (null_mx)
	    status = smtpd_check_reject(chk, 556, "5.1.10",
			     "<%s>: %s rejected: Domain %s does not accept mail (nullMX)",
					addr, reply_class, STR(domain));
	break;
    case DNS_RETRY:
	status = smtpd_check_reject(chk, 450, "4.4.3",
				    "<%s>: %s rejected: Domain not found",
				    addr, reply_class);
	break;
    default:
	status = smtpd_check_reject(chk, conf_int("unknown_address_reject_code"), dsn,
				    "<%s>: %s rejected: Domain not found",
				    addr, reply_class);
	break;
    }
out:
    vstring_free(local);
    vstring_free(domain);
    return (status);
}

/*
 * dnsbl_listed - is QUERY listed in DOMAIN (domain[=d.d.d.d])?  REASON
 * gets "; TXT" when the list says why.  1, 0, or SMTPD_CHECK_PENDING.
 */
static int dnsbl_listed(SMTPD_STATE *state, const char *query, const char *filter,
			        VSTRING *reason)
{
    DNS_ANSWER answer;
    int     listed = 0;
    int     status;

    dns_answer_init(&answer);
    if ((status = smtpd_dns_lookup(state, query, DNS_TYPE_A, &answer)) == DNS_OK)
	for (int i = 0; i < answer.count; i++)
	    if (filter == 0 || strcmp(filter, answer.rr[i].value) == 0)
		listed = 1;
    dns_answer_free(&answer);
    if (status == SMTPD_DNS_PENDING)
	return (SMTPD_CHECK_PENDING);
    if (!listed)
	return (0);
    vstring_reset(reason);
    dns_answer_init(&answer);
    status = smtpd_dns_lookup(state, query, DNS_TYPE_TXT, &answer);
    if (status == DNS_OK) {
	/* DNS text: printable and short before it reaches a reply or log */
	vstring_strcpy(reason, "; ");
	printable_cat(reason, answer.rr[0].value, 200, '?');
    }
    dns_answer_free(&answer);
    return (status == SMTPD_DNS_PENDING ? SMTPD_CHECK_PENDING : 1);
}

/*
 * dnsbl_check - reject_rbl_client (WHAT is an address) and
 * reject_rhsbl_* (WHAT is a name, or an address whose domain counts) with
 * ARG "domain[=d.d.d.d]"; REPLY_CLASS says what was listed.
 */
static int dnsbl_check(SMTPD_CHECK *chk, const char *arg, const char *what,
		               int by_address, const char *reply_class)
{
    char   *domain = mystrdup(arg);
    char   *filter = strchr(domain, '=');
    const char *name = what;
    VSTRING *query = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    int     status = SMTPD_CHECK_DUNNO;
    int     listed = 0;

    if (filter)
	*filter++ = 0;
    if (by_address) {
	if (dns_reverse_query(what, domain, query) < 0)
	    goto out;
    } else {
	if (strrchr(name, '@'))
	    name = strrchr(name, '@') + 1;
	if (*name == 0 || *name == '[')
	    goto out;
	vstring_sprintf(query, "%s.%s", name, domain);
    }
    listed = dnsbl_listed(chk->state, STR(query), filter, reason);
    if (listed == SMTPD_CHECK_PENDING)
	status = SMTPD_CHECK_PENDING;
    else if (listed)
	status = smtpd_check_reject(chk, conf_int("maps_rbl_reject_code"), "5.7.1",
			   "Service unavailable; %s [%s] blocked using %s%s",
				    reply_class, what, domain, STR(reason));
out:
    vstring_free(query);
    vstring_free(reason);
    myfree(domain);
    return (status);
}

/* unknown_client - reject_unknown_client_hostname and _reverse_ */
static int unknown_client(SMTPD_CHECK *chk, int reverse)
{
    SMTPD_STATE *state = chk->state;
    int     status = reverse ? state->reverse_name_status : state->name_status;

    if (status == DNS_PEER_OK)
	return (SMTPD_CHECK_DUNNO);
    if (reverse)
	return (smtpd_check_reject(chk, status == DNS_PEER_PERM ?
				   conf_int("unknown_client_reject_code") : 450,
				   "4.7.1",
	      "Client host rejected: cannot find your reverse hostname, [%s]",
				   state->addr));
    return (smtpd_check_reject(chk, status >= DNS_PEER_PERM ?
			       conf_int("unknown_client_reject_code") : 450,
			       "4.7.25",
		      "Client host rejected: cannot find your hostname, [%s]",
			       state->addr));
}

/* unknown_helo - reject_unknown_helo_hostname: no A, AAAA or MX record */
static int unknown_helo(SMTPD_CHECK *chk)
{
    char   *name;
    size_t  len;
    int     null_mx;
    int     status = SMTPD_CHECK_DUNNO;

    if (chk->helo == 0 || is_literal(chk->helo))
	return (SMTPD_CHECK_DUNNO);
    name = mystrdup(chk->helo);
    if ((len = strlen(name)) > 1 && name[len - 1] == '.')
	name[len - 1] = 0;
    switch (has_address(chk->state, name, &null_mx)) {
    case SMTPD_DNS_PENDING:
	status = SMTPD_CHECK_PENDING;
	break;
    case DNS_OK:
	break;
    case DNS_RETRY:
	status = smtpd_check_reject(chk, 450, "4.7.1",
				    "<%s>: %s rejected: Host not found",
				    chk->helo, SMTPD_NAME_HELO);
	break;
    default:
	status = smtpd_check_reject(chk, conf_int("unknown_hostname_reject_code"),
				    "4.7.1", "<%s>: %s rejected: Host not found",
				    chk->helo, SMTPD_NAME_HELO);
	break;
    }
    myfree(name);
    return (status);
}

/* known_name - NAME unless it is "unknown" (then no rhsbl lookup) */
static const char *known_name(const char *name)
{
    return (strcasecmp(name, "unknown") == 0 ? "" : name);
}

/* eval_item - one restriction */
static int eval_item(SMTPD_CHECK *chk, const RESTRICTION *r, const char *reply_name,
		             const char *reply_class)
{
    SMTPD_STATE *state = chk->state;

    switch (r->code) {
    case R_PERMIT:
	return (SMTPD_CHECK_OK);
    case R_REJECT:
	return (smtpd_check_reject(chk, conf_int("reject_code"), "5.7.1",
				   "<%s>: %s rejected: Access denied",
				   reply_name, reply_class));
    case R_DEFER:
	return (smtpd_check_reject(chk, conf_int("defer_code"), "4.7.1",
				   "<%s>: %s rejected: Try again later",
				   reply_name, reply_class));
    case R_DEFER_IF_PERMIT:
	{
	    VSTRING *buf = vstring_alloc(100);

	    vstring_sprintf(buf, "<%s>: %s rejected: defer_if_permit requested",
			    reply_name, reply_class);
	    smtpd_check_defer_if_permit(chk, conf_int("defer_code"), "4.7.1", STR(buf));
	    vstring_free(buf);
	    return (SMTPD_CHECK_DUNNO);
	}
    case R_WARN_IF_REJECT:
	chk->warn_if_reject = 1;
	return (SMTPD_CHECK_DUNNO);
    case R_PERMIT_MYNETWORKS:
	return (state->mynetworks ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO);
    case R_PERMIT_SASL:
	return (state->sasl_username ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO);
    case R_PERMIT_AUTH_DEST:
	if (chk->rcpt == 0)
	    return (SMTPD_CHECK_DUNNO);
	switch (auth_destination(chk->rcpt)) {
	case 1:
	    return (SMTPD_CHECK_OK);
	case 0:
	    return (SMTPD_CHECK_DUNNO);
	default:
	    return (smtpd_check_reject(chk, 451, "4.3.0",
			      "<%s>: Temporary lookup failure", chk->rcpt));
	}
    case R_REJECT_UNAUTH_DEST:
	return (unauth_destination(chk, conf_int("relay_domains_reject_code"), "5.7.1"));
    case R_DEFER_UNAUTH_DEST:
	return (unauth_destination(chk, 454, "4.7.1"));
    case R_UNAUTH_PIPELINING:
	return (unauth_pipelining(chk, reply_name, reply_class));
    case R_NON_FQDN_SENDER:
	return (non_fqdn_addr(chk, chk->sender_raw ? chk->sender_raw : chk->sender,
			      SMTPD_NAME_SENDER));
    case R_NON_FQDN_RCPT:
	return (non_fqdn_addr(chk, chk->rcpt_raw ? chk->rcpt_raw : chk->rcpt,
			      SMTPD_NAME_RECIPIENT));
    case R_LOGIN_MISMATCH:
	return (smtpd_check_sender_login(chk, SMTPD_LOGIN_AUTHENTICATED
					 | SMTPD_LOGIN_UNAUTHENTICATED));
    case R_AUTH_LOGIN_MISMATCH:
	return (smtpd_check_sender_login(chk, SMTPD_LOGIN_AUTHENTICATED));
    case R_UNAUTH_LOGIN_MISMATCH:
	return (smtpd_check_sender_login(chk, SMTPD_LOGIN_UNAUTHENTICATED));
    case R_KNOWN_LOGIN_MISMATCH:
	return (smtpd_check_sender_login(chk, SMTPD_LOGIN_AUTHENTICATED
				| SMTPD_LOGIN_UNAUTHENTICATED | SMTPD_LOGIN_KNOWN_ONLY));
    case R_NON_FQDN_HELO:
	return (helo_name_check(chk, 1));
    case R_INVALID_HELO:
	return (helo_name_check(chk, 0));
    case R_UNKNOWN_SENDER_DOMAIN:
	return (unknown_domain(chk, chk->sender, SMTPD_NAME_SENDER, "4.1.8"));
    case R_UNKNOWN_RCPT_DOMAIN:
	return (unknown_domain(chk, chk->rcpt, SMTPD_NAME_RECIPIENT, "4.1.2"));
    case R_RBL_CLIENT:
	return (dnsbl_check(chk, r->arg, smtpd_client_addr(state), 1,
			    SMTPD_NAME_CLIENT));
    case R_RHSBL_CLIENT:
	return (dnsbl_check(chk, r->arg, known_name(state->name), 0,
			    SMTPD_NAME_CLIENT));
    case R_RHSBL_REV_CLIENT:
	return (dnsbl_check(chk, r->arg, known_name(state->reverse_name), 0,
			    SMTPD_NAME_REV_CLIENT));
    case R_RHSBL_HELO:
	return (chk->helo == 0 || is_literal(chk->helo) ? SMTPD_CHECK_DUNNO :
		dnsbl_check(chk, r->arg, chk->helo, 0, SMTPD_NAME_HELO));
    case R_RHSBL_SENDER:
	return (chk->sender == 0 ? SMTPD_CHECK_DUNNO :
		dnsbl_check(chk, r->arg, chk->sender, 0, SMTPD_NAME_SENDER));
    case R_RHSBL_RCPT:
	return (chk->rcpt == 0 ? SMTPD_CHECK_DUNNO :
		dnsbl_check(chk, r->arg, chk->rcpt, 0, SMTPD_NAME_RECIPIENT));
    case R_UNKNOWN_CLIENT:
	return (unknown_client(chk, 0));
    case R_UNKNOWN_REV_CLIENT:
	return (unknown_client(chk, 1));
    case R_UNKNOWN_HELO:
	return (unknown_helo(chk));
    case R_POLICY_SERVICE:
	return (smtpd_check_policy(chk, r->arg, reply_name, reply_class));
    case R_CLIENT_ACCESS:
	return (smtpd_check_client_access(chk, r->arg, r->maps));
    case R_HELO_ACCESS:
	return (smtpd_check_helo_access(chk, r->arg, r->maps));
    case R_SENDER_ACCESS:
	if (chk->sender == 0)
	    return (SMTPD_CHECK_DUNNO);
	return (smtpd_check_addr_access(chk, r->arg, r->maps, chk->sender,
					SMTPD_NAME_SENDER));
    case R_RCPT_ACCESS:
	if (chk->rcpt == 0)
	    return (SMTPD_CHECK_DUNNO);
	return (smtpd_check_addr_access(chk, r->arg, r->maps, chk->rcpt,
					SMTPD_NAME_RECIPIENT));
    default:
	msg_warn("unknown smtpd restriction: \"%s\"", r->name);
	return (server_error(chk));
    }
}

/* generic_checks - evaluate LIST; DUNNO at its end means permit */
static int generic_checks(SMTPD_CHECK *chk, const RLIST *list,
			          const char *reply_name, const char *reply_class)
{
    int     status;
    int     warn;

    for (int i = 0; i < list->count; i++) {
	warn = chk->warn_if_reject;
	status = eval_item(chk, list->items + i, reply_name, reply_class);
	if (status == SMTPD_CHECK_PENDING)
	    return (status);			/* again when DNS answered */
	if (warn && list->items[i].code != R_WARN_IF_REJECT) {
	    chk->warn_if_reject = 0;
	    if (status == SMTPD_CHECK_REJECT) {
		smtpd_check_log(chk, "reject_warning", STR(chk->reply));
		status = SMTPD_CHECK_DUNNO;
	    }
	}
	if (status != SMTPD_CHECK_DUNNO)
	    return (status);
    }
    return (SMTPD_CHECK_DUNNO);
}

/* smtpd_check_text - see smtpd_restrict.h */
int	smtpd_check_text(SMTPD_CHECK *chk, const char *table, const char *value,
			         const char *reply_name, const char *reply_class)
{
    RLIST   list;
    int     status;

    if (strchr(value, ':') != 0) {
	msg_warn("access table %s has entry with lookup table: %s", table, value);
	return (server_error(chk));
    }
    if (chk->recursion >= MAX_RECURSION) {
	msg_warn("access table %s entry %s causes unreasonable recursion", table, value);
	return (server_error(chk));
    }
    if (parse_list(table, value, &list, 0) > 0 || list.count == 0) {
	free_list(&list);
	if (list.count == 0)
	    msg_warn("access table %s has an empty or unknown result: \"%s\"", table, value);
	return (server_error(chk));
    }
    chk->recursion++;
    status = generic_checks(chk, &list, reply_name, reply_class);
    chk->recursion--;
    free_list(&list);
    return (status);
}

/* check_init - a fresh SMTPD_CHECK for one command */
static void check_init(SMTPD_CHECK *chk, SMTPD_STATE *state, const char *cmd,
		               VSTRING *reply)
{
    memset(chk, 0, sizeof(*chk));
    chk->state = state;
    chk->cmd = cmd;
    chk->helo = state->helo;
    chk->sender = state->sender;
    chk->sender_raw = state->sender_raw;
    chk->rcpt_raw = state->rcpt_raw;
    chk->reply = reply;
}

/* check_effects - the log lines and actions that the evaluation kept */
static void check_effects(SMTPD_CHECK *chk)
{
    SMTPD_STATE *state = chk->state;
    char   *line;
    char   *next;

    for (line = chk->log ? STR(chk->log) : 0; line && *line; line = next) {
	next = strchr(line, '\n');
	*next++ = 0;
	msg_info("%s", line);
    }
    for (line = chk->prepend ? STR(chk->prepend) : 0; line && *line; line = next) {
	next = strchr(line, '\n');
	*next++ = 0;
	smtpd_prepend(state, line);
    }
    if (chk->hold_reason)
	smtpd_check_keep(&state->hold_reason, chk->hold_reason);
    if (chk->discard_reason)
	smtpd_check_keep(&state->discard_reason, chk->discard_reason);
    if (chk->filter) {				/* as Postfix: the last one wins */
	if (state->filter)
	    myfree(state->filter);
	state->filter = mystrdup(chk->filter);
    }
}

/*
 * check_done - the hook's result: -1 (reply set), 0, or SMTPD_WAIT (no
 * effects at all: the command runs again when DNS answered).  A pending
 * defer_if_permit turns a permit into a reject.
 */
static int check_done(SMTPD_CHECK *chk, int status)
{
    if (status == SMTPD_CHECK_PENDING) {
	vstring_reset(chk->reply);
    } else {
	if (status != SMTPD_CHECK_REJECT && chk->defer_if_permit) {
	    vstring_strcpy(chk->reply, STR(chk->defer_if_permit));
	    status = SMTPD_CHECK_REJECT;
	}
	check_effects(chk);
	smtpd_policy_forget(chk->state);
    }
    if (chk->defer_if_permit)
	vstring_free(chk->defer_if_permit);
    if (chk->log)
	vstring_free(chk->log);
    if (chk->prepend)
	vstring_free(chk->prepend);
    if (chk->hold_reason)
	myfree(chk->hold_reason);
    if (chk->discard_reason)
	myfree(chk->discard_reason);
    if (chk->filter)
	myfree(chk->filter);
    return (status == SMTPD_CHECK_PENDING ? SMTPD_WAIT :
	    status == SMTPD_CHECK_REJECT ? -1 : 0);
}

/* denied - delay_reject = no and the client was rejected at connect */
static int denied(SMTPD_STATE *state, VSTRING *reply)
{
    if (state->policy == 0 || state->policy->access_denied == 0)
	return (0);
    vstring_sprintf(reply, "503 5.7.0 Error: access denied for %s", state->namaddr);
    return (1);
}

/* client_checks - smtpd_client_restrictions */
static int client_checks(SMTPD_CHECK *chk)
{
    return (generic_checks(chk, &client_list, chk->state->namaddr, SMTPD_NAME_CLIENT));
}

/* helo_checks - smtpd_helo_restrictions (skipped without HELO) */
static int helo_checks(SMTPD_CHECK *chk)
{
    if (chk->helo == 0)
	return (SMTPD_CHECK_DUNNO);
    return (generic_checks(chk, &helo_list, chk->helo, SMTPD_NAME_HELO));
}

/* sender_checks - smtpd_sender_restrictions */
static int sender_checks(SMTPD_CHECK *chk)
{
    if (chk->sender == 0)
	return (SMTPD_CHECK_DUNNO);
    return (generic_checks(chk, &sender_list, chk->sender, SMTPD_NAME_SENDER));
}

int	smtpd_restrict_connect(SMTPD_STATE *state, VSTRING *reply)
{
    SMTPD_CHECK chk;
    int     ret;

    if (state->submit || delay_reject)
	return (0);
    check_init(&chk, state, "CONNECT", reply);
    if ((ret = check_done(&chk, client_checks(&chk))) == SMTPD_WAIT)
	return (ret);
    if (ret < 0) {
	if (state->policy == 0)
	    state->policy = mycalloc(1, sizeof(*state->policy));
	state->policy->access_denied = mystrdup(STR(reply));
    }
    return (ret);
}

int	smtpd_restrict_helo(SMTPD_STATE *state, const char *helo, VSTRING *reply)
{
    SMTPD_CHECK chk;

    if (state->submit)
	return (0);
    if (denied(state, reply))
	return (-1);
    if (delay_reject)
	return (0);
    check_init(&chk, state, "HELO", reply);
    chk.helo = helo;
    return (check_done(&chk, helo_checks(&chk)));
}

int	smtpd_restrict_mail(SMTPD_STATE *state, const char *sender, VSTRING *reply)
{
    SMTPD_CHECK chk;

    if (state->submit)
	return (0);
    if (denied(state, reply))
	return (-1);
    if (delay_reject)
	return (0);
    check_init(&chk, state, "MAIL", reply);
    chk.sender = sender;
    return (check_done(&chk, sender_checks(&chk)));
}

int	smtpd_restrict_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    SMTPD_CHECK chk;
    int     status = SMTPD_CHECK_DUNNO;

    if (state->submit)
	return (0);
    if (denied(state, reply))
	return (-1);
    check_init(&chk, state, "RCPT", reply);
    chk.rcpt = rcpt;
#define CHECK_GO_ON(status) \
	((status) != SMTPD_CHECK_REJECT && (status) != SMTPD_CHECK_PENDING)
    if (delay_reject) {
	if (CHECK_GO_ON(status = client_checks(&chk))
	    && CHECK_GO_ON(status = helo_checks(&chk)))
	    status = sender_checks(&chk);
    }
    if (CHECK_GO_ON(status)
	&& CHECK_GO_ON(status = generic_checks(&chk, &relay_list, rcpt,
					       SMTPD_NAME_RECIPIENT)))
	status = generic_checks(&chk, &recipient_list, rcpt, SMTPD_NAME_RECIPIENT);
    return (check_done(&chk, status));
}

int	smtpd_restrict_data(SMTPD_STATE *state, VSTRING *reply)
{
    SMTPD_CHECK chk;

    if (state->submit)
	return (0);
    if (denied(state, reply))
	return (-1);
    check_init(&chk, state, "DATA", reply);
    return (check_done(&chk, generic_checks(&chk, &data_list, "DATA",
					    SMTPD_NAME_DATA)));
}

void	smtpd_restrict_free(SMTPD_STATE *state)
{
    if (state->policy == 0)
	return;
    if (state->policy->access_denied)
	myfree(state->policy->access_denied);
    myfree(state->policy);
    state->policy = 0;
}
