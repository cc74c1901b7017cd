/*
 * smtpd_check.c - recipient and relay checks (issue 2 level), and the
 * mynetworks matcher.
 *
 * A recipient's domain decides its class, as in Postfix:
 *   mydestination            local: the local part (folded to lower case,
 *                            recipient_delimiter extension removed) must be
 *                            in local_recipient_maps ("postmaster" always is)
 *   virtual_mailbox_domains  the address (or "@domain") must be in
 *                            virtual_mailbox_maps or virtual_alias_maps
 *   relay_domains            accepted
 *   anything else            relaying: only for clients in mynetworks (when
 *                            smtpd_relay_restrictions has permit_mynetworks)
 *                            and local submission; otherwise "Relay access
 *                            denied", 454 with defer_unauth_destination or
 *                            554 with reject_unauth_destination.
 * A table that cannot answer gives "451 4.3.0 Temporary lookup failure".
 * The full restriction lists come in a later issue.
 *
 * Parameters: mydestination, virtual_mailbox_domains, virtual_mailbox_maps,
 * virtual_alias_maps, relay_domains, local_recipient_maps,
 * unknown_local_recipient_reject_code, recipient_delimiter,
 * smtpd_relay_restrictions, mynetworks, myorigin.
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
#include "smtpd.h"

#define LIST_SEP	", \t\r\n"

/* A domain list: literal names, ".parent" patterns and type:name tables */
typedef struct DOMAIN_LIST {
    char  **names;
    int     count;
    MAPS   *tables;			/* NULL if none */
    int     parent_match;		/* "example.com" matches subdomains */
} DOMAIN_LIST;

static DOMAIN_LIST mydestination;
static DOMAIN_LIST virtual_domains;
static DOMAIN_LIST relay_domains;
static MAPS *local_maps;		/* NULL: any local part is valid */
static MAPS *virtual_maps;
static MAPS *virtual_alias_maps;
static int unknown_local_code;
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

static void domain_list_init(DOMAIN_LIST *list, const char *param, int parent_match)
{
    char   *saved = mystrdup(conf_str(param));
    char   *cp = saved;
    char   *tok;
    VSTRING *tables = vstring_alloc(100);

    memset(list, 0, sizeof(*list));
    list->parent_match = parent_match;
    while ((tok = strsep(&cp, LIST_SEP)) != 0) {
	if (*tok == 0)
	    continue;
	if (*tok != '[' && strchr(tok, ':') != 0) {
	    vstring_sprintf_append(tables, "%s%s", LEN(tables) ? ", " : "", tok);
	    continue;
	}
	list->names = myrealloc(list->names, (list->count + 1) * sizeof(char *));
	list->names[list->count++] = mystrdup(tok);
    }
    if (LEN(tables))
	list->tables = maps_create(param, STR(tables), DICT_FLAG_FOLD_KEY);
    vstring_free(tables);
    myfree(saved);
}

/* name_matches - does DOMAIN match the list entry NAME? */
static int name_matches(const char *name, const char *domain, int parent_match)
{
    size_t  dlen = strlen(domain);
    size_t  nlen;

    if (*name == '.') {
	name++;
	parent_match = 1;
    }
    if (strcasecmp(name, domain) == 0)
	return (1);
    nlen = strlen(name);
    return (parent_match && dlen > nlen && domain[dlen - nlen - 1] == '.'
	    && strcasecmp(domain + dlen - nlen, name) == 0);
}

/* domain_list_match - 1 match, 0 no match, -1 a table could not answer */
static int domain_list_match(DOMAIN_LIST *list, const char *domain)
{
    for (int i = 0; i < list->count; i++)
	if (name_matches(list->names[i], domain, list->parent_match))
	    return (1);
    if (list->tables) {
	if (maps_find(list->tables, domain) != 0)
	    return (1);
	if (list->tables->error)
	    return (-1);
    }
    return (0);
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
    domain_list_init(&mydestination, "mydestination", 0);
    domain_list_init(&virtual_domains, "virtual_mailbox_domains", 0);
    domain_list_init(&relay_domains, "relay_domains", 1);
    local_maps = maps_or_null("local_recipient_maps");
    virtual_maps = maps_or_null("virtual_mailbox_maps");
    virtual_alias_maps = maps_or_null("virtual_alias_maps");
    unknown_local_code = conf_int("unknown_local_recipient_reject_code");
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

/* find_user - 1 found, 0 not, -1 lookup failure, for each key in turn */
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
    vstring_sprintf(reply, "%d %d.1.1 <%s>: Recipient address rejected: "
		    "User unknown in local recipient table",
		    unknown_local_code, unknown_local_code / 100, rcpt);
    return (STR(reply));
}

static const char *check_virtual(const char *rcpt, VSTRING *local,
			               const char *domain, VSTRING *reply)
{
    VSTRING *key = vstring_alloc(100);
    int     found;

    vstring_strcpy(key, rcpt);
    vstring_lowercase(key);
    if ((found = find_in(virtual_alias_maps, STR(key))) == 0)
	found = find_in(virtual_maps, STR(key));
    if (found == 0) {
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
    vstring_sprintf(reply, "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown in virtual mailbox table", rcpt);
    return (STR(reply));
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

/* check_domain - classify the domain and run that class's check */
static const char *check_domain(SMTPD_STATE *state, const char *rcpt,
			              VSTRING *local, VSTRING *domain, VSTRING *reply)
{
    int     m;

    if (LEN(domain) > 0 && STR(domain)[LEN(domain) - 1] == '.')
	vstring_truncate(domain, LEN(domain) - 1);
    vstring_lowercase(domain);
    if ((m = domain_list_match(&mydestination, STR(domain))) != 0)
	return (m < 0 ? temp_failure(reply, rcpt) : check_local(rcpt, local, reply));
    if ((m = domain_list_match(&virtual_domains, STR(domain))) != 0)
	return (m < 0 ? temp_failure(reply, rcpt) :
		check_virtual(rcpt, local, STR(domain), reply));
    if ((m = domain_list_match(&relay_domains, STR(domain))) != 0)
	return (m < 0 ? temp_failure(reply, rcpt) : 0);
    return (check_relay(state, rcpt, reply));
}

const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    const char *result;

    if (addr_split(rcpt, local, domain) < 0 || LEN(domain) == 0
	|| !addr_valid_domain(STR(domain))) {
	vstring_strcpy(reply, "501 5.1.3 Bad recipient address syntax");
	result = STR(reply);
    } else {
	result = check_domain(state, rcpt, local, domain, reply);
    }
    vstring_free(local);
    vstring_free(domain);
    return (result);
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
