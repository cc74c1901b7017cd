/*
 * smtpd_check.c - recipient and relay checks (issue 2 level, with the
 * virtual alias expansion of issue 3), and the mynetworks matcher.
 *
 * A recipient's domain decides its class (lib/resolve.h), as in Postfix:
 *   not ours                 relaying: only for clients in mynetworks (when
 *                            smtpd_relay_restrictions has permit_mynetworks)
 *                            and local submission; otherwise "Relay access
 *                            denied", 454 with defer_unauth_destination or
 *                            554 with reject_unauth_destination.
 * Then, for every recipient that may be sent to, virtual_alias_maps is
 * searched (virtual(5) order): a match accepts the recipient without
 * further checks and the caller gets the expansion (resolve.c), which is
 * what goes into the queue file.  Without a match:
 *   mydestination            the local part (folded to lower case,
 *                            recipient_delimiter extension removed) must be
 *                            in local_recipient_maps ("postmaster" always is)
 *   virtual_alias_domains    "User unknown in virtual alias table"
 *   virtual_mailbox_domains  the address (or "@domain") must be in
 *                            virtual_mailbox_maps
 *   relay_domains, others    accepted
 * A table that cannot answer gives "451 4.3.0 Temporary lookup failure";
 * an alias loop or an oversized expansion "451 4.6.0 Alias expansion error".
 * The full restriction lists come in a later issue.
 *
 * Parameters: virtual_mailbox_maps, local_recipient_maps,
 * unknown_local_recipient_reject_code, unknown_virtual_alias_reject_code,
 * unknown_virtual_mailbox_reject_code, recipient_delimiter,
 * smtpd_relay_restrictions, mynetworks, myorigin, and those of resolve.c.
 */
#include "sys_defs.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "address.h"
#include "dict.h"
#include "resolve.h"
#include "smtpd.h"

#define LIST_SEP	", \t\r\n"

static MAPS *local_maps;		/* NULL: any local part is valid */
static MAPS *virtual_maps;
static int unknown_local_code;
static int unknown_alias_code;
static int unknown_virtual_code;
static const char *recipient_delimiter;
static int relay_permit_mynetworks;
static int relay_reject_code;		/* 454 or 554 */

/* maps_or_null - open a *_maps parameter, NULL when it is empty */
static MAPS *maps_or_null(const char *param)
{
    const char *spec = conf_str(param);

    if (spec[strspn(spec, LIST_SEP)] == 0)
	return (0);
    return (maps_create(param, spec, DICT_FLAG_FOLD_KEY));
}

/* relay_policy_init - what smtpd_relay_restrictions says, in short */
static void relay_policy_init(void)
{
    char   *saved = mystrdup(conf_str("smtpd_relay_restrictions"));
    char   *cp = saved;
    char   *tok;

    relay_permit_mynetworks = 0;
    relay_reject_code = 554;
    while ((tok = strsep(&cp, LIST_SEP)) != 0) {
	if (strcasecmp(tok, "permit_mynetworks") == 0)
	    relay_permit_mynetworks = 1;
	else if (strcasecmp(tok, "defer_unauth_destination") == 0)
	    relay_reject_code = 454;
	else if (strcasecmp(tok, "reject_unauth_destination") == 0)
	    relay_reject_code = 554;
    }
    myfree(saved);
}

void	smtpd_check_init(void)
{
    resolve_init();
    local_maps = maps_or_null("local_recipient_maps");
    virtual_maps = maps_or_null("virtual_mailbox_maps");
    unknown_local_code = conf_int("unknown_local_recipient_reject_code");
    unknown_alias_code = conf_int("unknown_virtual_alias_reject_code");
    unknown_virtual_code = conf_int("unknown_virtual_mailbox_reject_code");
    recipient_delimiter = conf_str("recipient_delimiter");
    relay_policy_init();
}

/* smtpd_qualify - append @$myorigin to an address without a domain */
void	smtpd_qualify(VSTRING *addr)
{
    if (LEN(addr) > 0 && addr_domain(STR(addr)) == 0)
	vstring_sprintf_append(addr, "@%s", var_myorigin);
}

/* strip_extension - remove "+ext" (any recipient_delimiter char) from LOCAL */
static void strip_extension(VSTRING *local)
{
    size_t  n;

    if (*recipient_delimiter == 0)
	return;
    n = strcspn(STR(local), recipient_delimiter);
    if (n > 0 && n < LEN(local))
	vstring_truncate(local, n);
}

/* find_in - 1 found, 0 not, -1 lookup failure */
static int find_in(MAPS *maps, const char *key)
{
    if (maps == 0)
	return (0);
    if (maps_find(maps, key) != 0)
	return (1);
    return (maps->error ? -1 : 0);
}

static const char *temp_failure(VSTRING *reply, const char *rcpt)
{
    vstring_sprintf(reply, "451 4.3.0 <%s>: Temporary lookup failure", rcpt);
    return (STR(reply));
}

/* unknown_user - "CODE X.1.1 <rcpt>: ... User unknown in TABLE" */
static const char *unknown_user(VSTRING *reply, int code, const char *rcpt,
				        const char *table)
{
    vstring_sprintf(reply, "%d %d.1.1 <%s>: Recipient address rejected: "
		    "User unknown in %s", code, code / 100, rcpt, table);
    return (STR(reply));
}

static const char *check_local(const char *rcpt, VSTRING *local, VSTRING *reply)
{
    int     found;

    if (local_maps == 0)
	return (0);
    vstring_lowercase(local);
    strip_extension(local);
    if (strcmp(STR(local), "postmaster") == 0)
	return (0);
    if ((found = find_in(local_maps, STR(local))) < 0)
	return (temp_failure(reply, rcpt));
    if (found)
	return (0);
    return (unknown_user(reply, unknown_local_code, rcpt, "local recipient table"));
}

static const char *check_virtual(const char *rcpt, VSTRING *local,
			               const char *domain, VSTRING *reply)
{
    VSTRING *key = vstring_alloc(100);
    int     found;

    if (virtual_maps == 0) {
	vstring_free(key);
	return (0);
    }
    vstring_strcpy(key, rcpt);
    vstring_lowercase(key);
    if ((found = find_in(virtual_maps, STR(key))) == 0) {
	vstring_lowercase(local);
	strip_extension(local);
	vstring_sprintf(key, "%s@%s", STR(local), domain);
	if ((found = find_in(virtual_maps, STR(key))) == 0) {
	    vstring_sprintf(key, "@%s", domain);
	    found = find_in(virtual_maps, STR(key));
	}
    }
    vstring_free(key);
    if (found < 0)
	return (temp_failure(reply, rcpt));
    if (found)
	return (0);
    return (unknown_user(reply, unknown_virtual_code, rcpt, "virtual mailbox table"));
}

/* check_relay - a destination that is not ours */
static const char *check_relay(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    if (state->submit || (relay_permit_mynetworks && state->mynetworks))
	return (0);
    vstring_sprintf(reply, "%d %s <%s>: Relay access denied", relay_reject_code,
		    relay_reject_code == 454 ? "4.7.1" : "5.7.1", rcpt);
    return (STR(reply));
}

/* check_alias - virtual alias expansion; 1 expanded, 0 no alias, -1 replied */
static int check_alias(const char *rcpt, RESOLVE_ADDRS *expanded, VSTRING *reply)
{
    switch (resolve_virtual_alias(rcpt, expanded)) {
    case RESOLVE_ALIAS_FOUND:
	return (1);
    case RESOLVE_ALIAS_NONE:
	return (0);
    case RESOLVE_ALIAS_LIMIT:
	vstring_sprintf(reply, "451 4.6.0 <%s>: Alias expansion error", rcpt);
	return (-1);
    default:
	temp_failure(reply, rcpt);
	return (-1);
    }
}

/* check_domain - relay control, virtual aliases, then the class's check */
static const char *check_domain(SMTPD_STATE *state, const char *rcpt,
			              VSTRING *local, VSTRING *domain,
			              RESOLVE_ADDRS *expanded, VSTRING *reply)
{
    int     class;
    int     alias;
    const char *why;

    if (LEN(domain) > 0 && STR(domain)[LEN(domain) - 1] == '.')
	vstring_truncate(domain, LEN(domain) - 1);
    vstring_lowercase(domain);
    if ((class = resolve_class(STR(domain))) == RESOLVE_CLASS_ERROR)
	return (temp_failure(reply, rcpt));
    if (class == RESOLVE_CLASS_DEFAULT && (why = check_relay(state, rcpt, reply)) != 0)
	return (why);
    if ((alias = check_alias(rcpt, expanded, reply)) != 0)
	return (alias > 0 ? 0 : STR(reply));
    switch (class) {
    case RESOLVE_CLASS_LOCAL:
	return (check_local(rcpt, local, reply));
    case RESOLVE_CLASS_ALIAS:
	return (unknown_user(reply, unknown_alias_code, rcpt, "virtual alias table"));
    case RESOLVE_CLASS_VIRTUAL:
	return (check_virtual(rcpt, local, STR(domain), reply));
    default:
	return (0);
    }
}

const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt,
			             RESOLVE_ADDRS *expanded, VSTRING *reply)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    RESOLVE_ADDRS result;
    const char *why;

    resolve_addrs_init(&result);
    if (addr_split(rcpt, local, domain) < 0 || LEN(domain) == 0
	|| !addr_valid_domain(STR(domain))) {
	vstring_strcpy(reply, "501 5.1.3 Bad recipient address syntax");
	why = STR(reply);
    } else {
	why = check_domain(state, rcpt, local, domain, &result, reply);
    }
    if (why == 0 && expanded != 0)
	for (int i = 0; i < result.count; i++)
	    resolve_addrs_add(expanded, result.addrs[i]);
    resolve_addrs_free(&result);
    vstring_free(local);
    vstring_free(domain);
    return (why);
}

/* parse_net - "a.b.c.d[/n]", "[v6]/n" or "v6[/n]" into 16 bytes + bits */
static int parse_net(const char *text, unsigned char addr[16], int *bits)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    char   *slash;
    char   *end;
    size_t  n = 0;

    for (const char *cp = text; *cp && n < sizeof(buf) - 1; cp++)
	if (*cp != '[' && *cp != ']')
	    buf[n++] = *cp;
    buf[n] = 0;
    if ((slash = strchr(buf, '/')) != 0)
	*slash++ = 0;
    if (inet_pton(AF_INET, buf, addr + 12) == 1) {
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	*bits = 128;
	if (slash)
	    *bits = 96 + (int) strtol(slash, &end, 10);
    } else if (inet_pton(AF_INET6, buf, addr) == 1) {
	*bits = 128;
	if (slash)
	    *bits = (int) strtol(slash, &end, 10);
    } else {
	return (-1);
    }
    if (slash && (*slash == 0 || *end != 0 || *bits < 0 || *bits > 128))
	return (-1);
    return (0);
}

/* prefix_equal - do A and B agree in their first BITS bits? */
static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int     bytes = bits / 8;
    int     rest = bits % 8;

    if (memcmp(a, b, bytes) != 0)
	return (0);
    if (rest == 0)
	return (1);
    return (((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)) & 0xff) == 0);
}

/* smtpd_mynetworks_match - does client ADDR match a CIDR list? */
int	smtpd_mynetworks_match(const char *list, const char *addr)
{
    unsigned char client[16];
    unsigned char net[16];
    int     client_bits;
    int     bits;
    char   *saved;
    char   *cp;
    char   *tok;
    int     match = 0;

    if (parse_net(addr, client, &client_bits) < 0)
	return (0);
    saved = cp = mystrdup(list);
    while (!match && (tok = strsep(&cp, LIST_SEP)) != 0) {
	if (*tok == 0)
	    continue;
	if (parse_net(tok, net, &bits) < 0) {
	    if (msg_verbose)
		msg_info("mynetworks: skipping non-address entry \"%s\"", tok);
	    continue;
	}
	match = prefix_equal(client, net, bits);
    }
    myfree(saved);
    return (match);
}
