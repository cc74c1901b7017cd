/*
 * smtpd_check.c - does a recipient exist?  (Postfix's implicit
 * reject_unlisted_recipient, with the virtual alias expansion of issue 3),
 * and the mynetworks matcher behind state->mynetworks.
 *
 * Relay control is not here: smtpd_restrict.c runs smtpd_relay_restrictions
 * and smtpd_recipient_restrictions first; only a recipient they let through
 * comes here.  The domain decides the class (lib/tables/resolve.h), as in Postfix.
 * First virtual_alias_maps is searched (virtual(5) order): a match accepts
 * the recipient without further checks and the caller gets the expansion
 * (resolve.c), which is what goes into the queue file.  Without a match:
 *   mydestination            the local part (folded to lower case,
 *                            recipient_delimiter extension removed) must be
 *                            in local_recipient_maps ("postmaster" always is)
 *   virtual_alias_domains    "User unknown in virtual alias table"
 *   virtual_mailbox_domains  the address (or "@domain") must be in
 *                            virtual_mailbox_maps
 *   relay_domains, others    accepted
 * Local submission (sendmail, pickup) is not checked: like Postfix, the
 * message is taken and an unknown recipient bounced by the delivery.
 * A table that cannot answer gives "451 4.3.0 Temporary lookup failure";
 * an alias loop or an oversized expansion "451 4.6.0 Alias expansion error".
 *
 * mynetworks: when main.cf does not set it, smtpd_check_init() computes it
 * from mynetworks_style (lib/tables/inet_match.h) and stores the result in the
 * in-memory configuration, so every reader sees the same list.
 *
 * Parameters: virtual_mailbox_maps, local_recipient_maps,
 * unknown_local_recipient_reject_code, unknown_virtual_alias_reject_code,
 * unknown_virtual_mailbox_reject_code, recipient_delimiter, mynetworks,
 * mynetworks_style, myorigin, and those of resolve.c.
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
#include "addr_rewrite.h"
#include "inet_match.h"
#include "smtpd.h"

#define LIST_SEP	", \t\r\n"

static MAPS *local_maps;		/* NULL: any local part is valid */
static MAPS *virtual_maps;
static int unknown_local_code;
static int unknown_alias_code;
static int unknown_virtual_code;
static const char *recipient_delimiter;

/* maps_or_null - open a *_maps parameter, NULL when it is empty */
static MAPS *maps_or_null(const char *param)
{
    const char *spec = conf_str(param);

    if (spec[strspn(spec, LIST_SEP)] == 0)
	return (0);
    return (maps_create(param, spec, DICT_FLAG_FOLD_KEY));
}

/* mynetworks_init - compute mynetworks from mynetworks_style when not set */
static void mynetworks_init(void)
{
    VSTRING *buf;

    if (conf_is_set("mynetworks"))
	return;
    buf = vstring_alloc(200);
    if (inet_mynetworks(conf_str("mynetworks_style"), buf) < 0)
	msg_warn("unknown mynetworks_style value \"%s\"; using the default mynetworks",
		 conf_str("mynetworks_style"));
    else
	mail_conf_update("mynetworks", STR(buf));
    if (msg_verbose)
	msg_info("mynetworks = %s", conf_str("mynetworks"));
    vstring_free(buf);
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
    mynetworks_init();
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

/*
 * check_domain - virtual aliases (not when EXPANDED is NULL), then the
 * class's check (not with no_unknown_recipient_checks)
 */
static const char *check_domain(SMTPD_STATE *state, const char *rcpt,
			              VSTRING *local, VSTRING *domain,
			              RESOLVE_ADDRS *expanded, VSTRING *reply)
{
    int     class;
    int     alias;

    if (LEN(domain) > 0 && STR(domain)[LEN(domain) - 1] == '.')
	vstring_truncate(domain, LEN(domain) - 1);
    vstring_lowercase(domain);
    if ((class = resolve_class(STR(domain))) == RESOLVE_CLASS_ERROR)
	return (temp_failure(reply, rcpt));
    if (expanded && (alias = check_alias(rcpt, expanded, reply)) != 0)
	return (alias > 0 ? 0 : STR(reply));
    /* As Postfix's sendmail: a local user's mail is taken, bounced later */
    if ((var_receive_override & SMTPD_NO_UNKNOWN_RCPT) || state->submit)
	return (0);
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

/*
 * check_rewrite - relocated_maps (the RCPT as sent), then the recipient's
 * canonical mapping (cleanup's, done here so that the mapped address is
 * what is checked and queued): NULL with the address to go on with in
 * CANON, or the reply.
 */
static const char *check_rewrite(const char *rcpt, VSTRING *canon, VSTRING *reply)
{
    VSTRING *where = vstring_alloc(100);
    const char *why = 0;

    switch (addr_rewrite_relocated(rcpt, where)) {
    case 1:
	vstring_sprintf(reply, "550 5.1.6 <%s>: Recipient address rejected: "
			"User has moved to %s", rcpt, STR(where));
	why = STR(reply);
	break;
    case -1:
	why = temp_failure(reply, rcpt);
	break;
    default:
	if (addr_rewrite_recipient(rcpt, canon) < 0)
	    why = temp_failure(reply, rcpt);
	break;
    }
    vstring_free(where);
    return (why);
}

const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt,
			             RESOLVE_ADDRS *expanded, VSTRING *reply)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *canon = vstring_alloc(100);
    RESOLVE_ADDRS result;
    const char *why;

    resolve_addrs_init(&result);
    if (addr_split(rcpt, local, domain) < 0 || LEN(domain) == 0
	|| !addr_valid_domain(STR(domain))) {
	vstring_strcpy(reply, "501 5.1.3 Bad recipient address syntax");
	why = STR(reply);
    } else if (var_receive_override & SMTPD_NO_ADDR_MAPPINGS) {
	/* after a content filter: mapped once already, only checked */
	why = check_domain(state, rcpt, local, domain, (RESOLVE_ADDRS *) 0, reply);
	if (why == 0)
	    resolve_addrs_add(&result, rcpt);
    } else if ((why = check_rewrite(rcpt, canon, reply)) == 0) {
	if (strcmp(STR(canon), rcpt) != 0)
	    (void) addr_split(STR(canon), local, domain);
	why = check_domain(state, STR(canon), local, domain, &result, reply);
    }
    if (why == 0 && expanded != 0)
	for (int i = 0; i < result.count; i++)
	    resolve_addrs_add(expanded, result.addrs[i]);
    resolve_addrs_free(&result);
    vstring_free(local);
    vstring_free(domain);
    vstring_free(canon);
    return (why);
}

/* smtpd_mynetworks_match - does client ADDR match LIST? (parsed once per list) */
int	smtpd_mynetworks_match(const char *list, const char *addr)
{
    static struct {
	char   *text;
	INET_LIST *list;
    }       cache[4];
    static int next;
    int     i;

    for (i = 0; i < 4; i++)
	if (cache[i].text && strcmp(cache[i].text, list) == 0)
	    break;
    if (i == 4) {
	i = next++ % 4;
	if (cache[i].text) {
	    myfree(cache[i].text);
	    inet_list_free(cache[i].list);
	}
	cache[i].text = mystrdup(list);
	cache[i].list = inet_list_create("mynetworks", list);
    }
    return (inet_list_match(cache[i].list, addr) > 0);
}
