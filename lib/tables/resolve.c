/*
 * resolve.c - address classes, virtual alias expansion, transport routing.
 *
 * See resolve.h for the interface.  Everything here follows Postfix:
 * trivial-rewrite's resolve (classes, class default transports, the
 * transport_maps override) and cleanup's virtual alias expansion
 * (cleanup_map1n.c: an address that expands to itself once is kept, and a
 * loop ends at virtual_alias_recursion_limit with a deferral).
 *
 * Domain lists (mydestination, virtual_alias_domains,
 * virtual_mailbox_domains, relay_domains) hold names, ".parent" patterns
 * and type:table entries (the domain, then its parents, are looked up as
 * keys).  A plain name matches its subdomains only when the parameter's
 * name is in parent_domain_matches_subdomains (Postfix's default has
 * relay_domains but not mydestination or transport_maps).
 *
 * Parameters: mydestination, myhostname, myorigin, virtual_alias_domains,
 * virtual_alias_maps, virtual_alias_recursion_limit,
 * virtual_alias_expansion_limit, virtual_mailbox_domains, relay_domains,
 * recipient_delimiter, propagate_unmatched_extensions, transport_maps,
 * parent_domain_matches_subdomains, local_transport, virtual_transport,
 * relay_transport, default_transport.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "address.h"
#include "dict.h"
#include "resolve.h"

#define LIST_SEP	", \t\r\n"

/* A domain list: literal names, ".parent" patterns and type:name tables */
typedef struct DOMAIN_LIST {
    char  **names;			/* lower case */
    int     count;
    MAPS   *maps;			/* NULL if none */
    int     parent_style;		/* "example.com" matches subdomains */
} DOMAIN_LIST;

static int resolve_ready;
static DOMAIN_LIST mydestination;
static DOMAIN_LIST alias_domains;
static DOMAIN_LIST virtual_domains;
static DOMAIN_LIST relay_domains;
static MAPS *alias_maps;		/* NULL: no virtual aliases */
static MAPS *transport_maps;		/* NULL: no transport table */
static int transport_parent_style;
static int propagate_virtual;		/* propagate_unmatched_extensions has "virtual" */

int     resolve_list_has(const char *param, const char *word)
{
    char   *saved = mystrdup(conf_str(param));
    char   *cp = saved;
    char   *tok;
    int     found = 0;

    while (!found && (tok = strsep(&cp, LIST_SEP)) != 0)
	found = (strcasecmp(tok, word) == 0);
    myfree(saved);
    return (found);
}

/*
 * next_token - the next entry of a list (comma/space separated), where a
 * "{ ... }" group (inline:{ a=b, c=d }) stays whole; NULL at the end.
 */
static char *next_token(char **cp)
{
    char   *start = *cp + strspn(*cp, LIST_SEP);
    char   *end = start;
    int     depth = 0;

    if (*start == 0)
	return (0);
    for (; *end && (depth > 0 || strchr(LIST_SEP, *end) == 0); end++) {
	if (*end == '{')
	    depth++;
	else if (*end == '}' && depth > 0)
	    depth--;
    }
    *cp = *end ? end + 1 : end;
    *end = 0;
    return (start);
}

/* maps_or_null - open a *_maps parameter, NULL when it is empty */
static MAPS *maps_or_null(const char *param)
{
    const char *spec = conf_str(param);

    if (spec[strspn(spec, LIST_SEP)] == 0)
	return (0);
    return (maps_create(param, spec, DICT_FLAG_FOLD_KEY));
}

static void domain_list_init(DOMAIN_LIST *list, const char *param)
{
    char   *saved = mystrdup(conf_str(param));
    char   *cp = saved;
    char   *tok;
    VSTRING *tables = vstring_alloc(100);

    memset(list, 0, sizeof(*list));
    list->parent_style = resolve_list_has("parent_domain_matches_subdomains", param);
    while ((tok = next_token(&cp)) != 0) {
	if (*tok != '[' && strchr(tok, ':') != 0) {
	    vstring_sprintf_append(tables, "%s%s", LEN(tables) ? ", " : "", tok);
	    continue;
	}
	list->names = myrealloc(list->names, (list->count + 1) * sizeof(char *));
	list->names[list->count] = mystrdup(tok);
	for (char *p = list->names[list->count]; *p; p++)
	    *p = (char) tolower((unsigned char) *p);
	list->count++;
    }
    if (LEN(tables))
	list->maps = maps_create(param, STR(tables), DICT_FLAG_FOLD_KEY);
    vstring_free(tables);
    myfree(saved);
}

static void domain_list_free(DOMAIN_LIST *list)
{
    for (int i = 0; i < list->count; i++)
	myfree(list->names[i]);
    if (list->names)
	myfree(list->names);
    if (list->maps)
	maps_free(list->maps);
    memset(list, 0, sizeof(*list));
}

/* name_matches - does DOMAIN match the literal list entry NAME? */
static int name_matches(const char *name, const char *domain, int parent_style)
{
    size_t  dlen = strlen(domain);
    size_t  nlen;

    if (*name == '.') {
	name++;
	parent_style = 1;
    }
    if (strcasecmp(name, domain) == 0)
	return (1);
    nlen = strlen(name);
    return (parent_style && nlen > 0 && dlen > nlen
	    && domain[dlen - nlen - 1] == '.'
	    && strcasecmp(domain + dlen - nlen, name) == 0);
}

/*
 * find_domain - look up DOMAIN, then each parent ("sub.a.b" -> ".a.b",
 * ".b", or "a.b", "b" in parent style) in MAPS.  The value or NULL;
 * maps->error tells a failure from "not found".
 */
static const char *find_domain(MAPS *maps, const char *domain, int parent_style)
{
    const char *value;
    const char *next;

    for (const char *name = domain; *name; name = next) {
	if ((value = maps_find(maps, name)) != 0 || maps->error)
	    return (value);
	if ((next = strchr(name + 1, '.')) == 0)
	    break;
	if (parent_style)
	    next++;
    }
    return (0);
}

/* domain_list_match - 1 match, 0 no match, -1 a table could not answer */
static int domain_list_match(DOMAIN_LIST *list, const char *domain)
{
    for (int i = 0; i < list->count; i++)
	if (name_matches(list->names[i], domain, list->parent_style))
	    return (1);
    if (list->maps) {
	if (find_domain(list->maps, domain, list->parent_style) != 0)
	    return (1);
	if (list->maps->error)
	    return (-1);
    }
    return (0);
}

void    resolve_init(void)
{
    if (resolve_ready) {
	domain_list_free(&mydestination);
	domain_list_free(&alias_domains);
	domain_list_free(&virtual_domains);
	domain_list_free(&relay_domains);
	if (alias_maps)
	    maps_free(alias_maps);
	if (transport_maps)
	    maps_free(transport_maps);
    }
    domain_list_init(&mydestination, "mydestination");
    domain_list_init(&alias_domains, "virtual_alias_domains");
    domain_list_init(&virtual_domains, "virtual_mailbox_domains");
    domain_list_init(&relay_domains, "relay_domains");
    alias_maps = maps_or_null("virtual_alias_maps");
    transport_maps = maps_or_null("transport_maps");
    transport_parent_style = resolve_list_has("parent_domain_matches_subdomains",
				      "transport_maps");
    propagate_virtual = resolve_list_has("propagate_unmatched_extensions", "virtual");
    resolve_ready = 1;
}

/* clean_domain - DOMAIN in lower case, without a trailing dot */
static void clean_domain(VSTRING *buf, const char *domain)
{
    vstring_strcpy(buf, domain);
    if (LEN(buf) > 0 && STR(buf)[LEN(buf) - 1] == '.')
	vstring_truncate(buf, LEN(buf) - 1);
    vstring_lowercase(buf);
}

int     resolve_class(const char *domain)
{
    static const struct {
	DOMAIN_LIST *list;
	int     class;
    } order[] = {
	{&mydestination, RESOLVE_CLASS_LOCAL},
	{&alias_domains, RESOLVE_CLASS_ALIAS},
	{&virtual_domains, RESOLVE_CLASS_VIRTUAL},
	{&relay_domains, RESOLVE_CLASS_RELAY},
    };
    VSTRING *name = vstring_alloc(100);
    int     class = RESOLVE_CLASS_DEFAULT;
    int     match;

    if (!resolve_ready)
	resolve_init();
    clean_domain(name, domain);
    if (LEN(name) == 0)
	class = RESOLVE_CLASS_LOCAL;
    for (size_t i = 0; class == RESOLVE_CLASS_DEFAULT
	 && i < sizeof(order) / sizeof(order[0]); i++) {
	if ((match = domain_list_match(order[i].list, STR(name))) != 0)
	    class = match > 0 ? order[i].class : RESOLVE_CLASS_ERROR;
    }
    vstring_free(name);
    return (class);
}

/* Address lists */

void    resolve_addrs_init(RESOLVE_ADDRS *list)
{
    memset(list, 0, sizeof(*list));
}

void    resolve_addrs_add(RESOLVE_ADDRS *list, const char *addr)
{
    if (list->count >= list->size) {
	list->size = list->size ? 2 * list->size : 4;
	list->addrs = myrealloc(list->addrs, list->size * sizeof(char *));
    }
    list->addrs[list->count++] = mystrdup(addr);
}

int     resolve_addrs_find(const RESOLVE_ADDRS *list, const char *addr)
{
    for (int i = 0; i < list->count; i++)
	if (strcasecmp(list->addrs[i], addr) == 0)
	    return (i);
    return (-1);
}

void    resolve_addrs_free(RESOLVE_ADDRS *list)
{
    for (int i = 0; i < list->count; i++)
	myfree(list->addrs[i]);
    if (list->addrs)
	myfree(list->addrs);
    resolve_addrs_init(list);
}

/*
 * Virtual aliases.
 */

/* ext_split - the length of LOCAL before its extension (no extension: len) */
static size_t ext_split(const char *local)
{
    const char *delims = conf_str("recipient_delimiter");
    size_t  n;

    if (*delims == 0)
	return (strlen(local));
    n = strcspn(local, delims);
    return (n > 0 ? n : strlen(local));
}

void    resolve_strip_extension(VSTRING *local)
{
    vstring_truncate(local, ext_split(STR(local)));
}

/* is_local_domain - $myorigin or $mydestination: "user" keys apply */
static int is_local_domain(const char *domain)
{
    return (strcasecmp(domain, conf_str("myorigin")) == 0
	    || domain_list_match(&mydestination, domain) > 0);
}

const char *resolve_addr_find(MAPS *maps, const char *addr, VSTRING *ext,
			              int propagate)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    const char *value = 0;
    size_t  base_len;
    int     base_match = 0;

    vstring_reset(ext);
    if (addr_split(addr, local, domain) < 0) {
	vstring_strcpy(local, addr);
	vstring_reset(domain);
    }
    vstring_lowercase(local);
    vstring_lowercase(domain);
    base_len = ext_split(STR(local));
#define TRY(...) do { \
	if (value == 0 && !maps->error) { \
	    vstring_reset(key); \
	    vstring_sprintf(key, __VA_ARGS__); \
	    value = maps_find(maps, STR(key)); \
	} \
    } while (0)
    maps->error = 0;
    TRY("%s@%s", STR(local), STR(domain));
    if (value == 0 && base_len < LEN(local)) {
	TRY("%.*s@%s", (int) base_len, STR(local), STR(domain));
	base_match = (value != 0);
    }
    if (value == 0 && !maps->error && is_local_domain(STR(domain))) {
	TRY("%s", STR(local));
	if (value == 0 && base_len < LEN(local)) {
	    TRY("%.*s", (int) base_len, STR(local));
	    base_match = (value != 0);
	}
    }
    if (base_match && propagate)
	vstring_strcpy(ext, STR(local) + base_len);
    TRY("@%s", STR(domain));
#undef TRY
    vstring_free(local);
    vstring_free(domain);
    vstring_free(key);
    return (value);
}

/* add_result - one address of a lookup result: qualified, extension added */
static void add_result(RESOLVE_ADDRS *out, const char *word, const char *ext)
{
    VSTRING *buf = vstring_alloc(100);
    size_t  len = strlen(word);
    const char *at;

    if (len >= 2 && word[0] == '<' && word[len - 1] == '>') {
	word++;
	len -= 2;
    }
    vstring_strncpy(buf, word, len);
    if (LEN(buf) == 0) {
	vstring_free(buf);
	return;
    }
    if (*ext) {
	/* the extension comes from the client: splice it into the unquoted
	 * local part and quote the result again, never as raw text */
	VSTRING *local = vstring_alloc(100);
	VSTRING *domain = vstring_alloc(100);

	if (addr_split(STR(buf), local, domain) == 0) {
	    int     has_domain = addr_domain(STR(buf)) != 0;

	    vstring_strcat(local, ext);
	    vstring_reset(buf);
	    addr_quote_local(STR(local), buf);
	    if (has_domain)
		vstring_sprintf_append(buf, "@%s", STR(domain));
	}
	vstring_free(local);
	vstring_free(domain);
    }
    at = addr_domain(STR(buf));
    if (at == 0)
	vstring_sprintf_append(buf, "@%s", conf_str("myorigin"));
    resolve_addrs_add(out, STR(buf));
    vstring_free(buf);
}

/* split_result - VALUE is a comma/space separated list; quotes are kept whole */
static void split_result(RESOLVE_ADDRS *out, const char *value, const char *ext)
{
    VSTRING *word = vstring_alloc(100);
    int     quoted = 0;

    for (const char *cp = value;; cp++) {
	if (*cp == 0 || (!quoted && strchr(LIST_SEP, *cp) != 0)) {
	    if (LEN(word))
		add_result(out, STR(word), ext);
	    vstring_reset(word);
	    if (*cp == 0)
		break;
	    continue;
	}
	if (*cp == '"')
	    quoted = !quoted;
	else if (*cp == '\\' && quoted && cp[1])
	    vstring_addch(word, *cp++);
	vstring_addch(word, *cp);
    }
    vstring_free(word);
}

/*
 * expand_slot - expand WORK->addrs[I] in place until it no longer changes
 * (Postfix's cleanup_map1n inner loop).  The first result replaces the
 * slot, others are appended to WORK.  KEPT remembers addresses that
 * expanded to themselves.  Returns 1 (expanded at least once), 0, or
 * RESOLVE_ALIAS_TEMP / RESOLVE_ALIAS_LIMIT.
 */
static int expand_slot(RESOLVE_ADDRS *work, int i, RESOLVE_ADDRS *kept,
		               VSTRING *ext)
{
    int     limit = conf_int("virtual_alias_recursion_limit");
    RESOLVE_ADDRS result;
    const char *value;
    int     expanded = 0;

    for (int count = 0;; count++) {
	if (resolve_addrs_find(kept, work->addrs[i]) >= 0)
	    return (expanded);
	if (count >= limit) {
	    msg_warn("unreasonable virtual_alias_maps map nesting for %s",
		     work->addrs[i]);
	    return (RESOLVE_ALIAS_LIMIT);
	}
	value = resolve_addr_find(alias_maps, work->addrs[i], ext, propagate_virtual);
	if (value == 0)
	    return (alias_maps->error ? RESOLVE_ALIAS_TEMP : expanded);
	expanded = 1;
	resolve_addrs_init(&result);
	split_result(&result, value, STR(ext));
	if (result.count == 0) {
	    msg_warn("virtual_alias_maps: empty result for %s", work->addrs[i]);
	    resolve_addrs_free(&result);
	    return (RESOLVE_ALIAS_TEMP);
	}
	if (resolve_addrs_find(&result, work->addrs[i]) >= 0)
	    resolve_addrs_add(kept, work->addrs[i]);
	myfree(work->addrs[i]);
	work->addrs[i] = mystrdup(result.addrs[0]);
	for (int j = 1; j < result.count; j++)
	    resolve_addrs_add(work, result.addrs[j]);
	resolve_addrs_free(&result);
    }
}

int     resolve_virtual_alias(const char *addr, RESOLVE_ADDRS *out)
{
    int     limit = conf_int("virtual_alias_expansion_limit");
    RESOLVE_ADDRS work;
    RESOLVE_ADDRS kept;
    VSTRING *ext = vstring_alloc(20);
    int     status = RESOLVE_ALIAS_NONE;
    int     ret;

    if (!resolve_ready)
	resolve_init();
    resolve_addrs_init(&work);
    resolve_addrs_init(&kept);
    resolve_addrs_add(&work, addr);
    for (int i = 0; alias_maps && i < work.count; i++) {
	if (work.count > limit) {
	    msg_warn("unreasonable virtual_alias_maps map expansion size for %s",
		     addr);
	    status = RESOLVE_ALIAS_LIMIT;
	    break;
	}
	if ((ret = expand_slot(&work, i, &kept, ext)) < 0) {
	    if (ret == RESOLVE_ALIAS_TEMP && alias_maps->error)
		msg_warn("virtual_alias_maps lookup error for %s", addr);
	    status = ret;
	    break;
	}
	if (ret > 0)
	    status = RESOLVE_ALIAS_FOUND;
    }
    if (status >= 0)
	for (int i = 0; i < work.count; i++)
	    if (resolve_addrs_find(out, work.addrs[i]) < 0)
		resolve_addrs_add(out, work.addrs[i]);
    resolve_addrs_free(&work);
    resolve_addrs_free(&kept);
    vstring_free(ext);
    return (status);
}

/*
 * Transports.
 */

void    resolve_reply_init(RESOLVE_REPLY *reply)
{
    reply->transport = vstring_alloc(20);
    reply->nexthop = vstring_alloc(100);
    reply->class = 0;
}

void    resolve_reply_free(RESOLVE_REPLY *reply)
{
    vstring_free(reply->transport);
    vstring_free(reply->nexthop);
}

int     resolve_transport_name_ok(const char *name)
{
    if (*name == 0 || *name == '.' || strlen(name) > 64)
	return (0);
    for (const char *cp = name; *cp; cp++)
	if (!isalnum((unsigned char) *cp) && strchr("-_.", *cp) == 0)
	    return (0);
    return (1);
}

/*
 * apply_value - "transport:nexthop" from a parameter or table over REPLY.
 * An empty transport keeps REPLY's; an empty nexthop with a transport
 * resets it to DOMAIN (transport(5)).
 */
static void apply_value(RESOLVE_REPLY *reply, const char *value, const char *domain)
{
    const char *colon = strchr(value, ':');
    size_t  tlen = colon ? (size_t) (colon - value) : strlen(value);
    const char *hop = colon ? colon + 1 : "";

    if (tlen > 0) {
	vstring_strncpy(reply->transport, value, tlen);
	if (*hop == 0)
	    vstring_strcpy(reply->nexthop, domain);
    }
    if (*hop)
	vstring_strcpy(reply->nexthop, hop);
}

/* class_default - the transport:nexthop a class gets without transport_maps */
static void class_default(RESOLVE_REPLY *reply, const char *domain)
{
    switch (reply->class) {
    case RESOLVE_CLASS_LOCAL:
	vstring_strcpy(reply->transport, "local");
	vstring_strcpy(reply->nexthop, conf_str("myhostname"));
	apply_value(reply, conf_str("local_transport"), conf_str("myhostname"));
	break;
    case RESOLVE_CLASS_ALIAS:
	vstring_strcpy(reply->transport, "error");
	vstring_strcpy(reply->nexthop, "5.1.1 User unknown in virtual alias table");
	break;
    case RESOLVE_CLASS_VIRTUAL:
	vstring_strcpy(reply->transport, "local");
	vstring_strcpy(reply->nexthop, domain);
	apply_value(reply, conf_str("virtual_transport"), domain);
	break;
    case RESOLVE_CLASS_RELAY:
	vstring_strcpy(reply->transport, "relay");
	vstring_strcpy(reply->nexthop, domain);
	apply_value(reply, conf_str("relay_transport"), domain);
	break;
    default:
	vstring_strcpy(reply->transport, "smtp");
	vstring_strcpy(reply->nexthop, domain);
	apply_value(reply, conf_str("default_transport"), domain);
	break;
    }
}

/*
 * transport_find - transport(5) search order for ADDR in DOMAIN: the
 * address, the address without extension, the domain and its parents,
 * then "*".  The value or NULL (transport_maps->error on failure).
 */
static const char *transport_find(const char *addr, const char *domain)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *dom = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    const char *value = 0;
    size_t  base_len;

    if (*domain && addr_split(addr, local, dom) == 0 && LEN(local) > 0) {
	vstring_lowercase(local);
	vstring_sprintf(key, "%s@%s", STR(local), domain);
	value = maps_find(transport_maps, STR(key));
	base_len = ext_split(STR(local));
	if (value == 0 && !transport_maps->error && base_len < LEN(local)) {
	    vstring_sprintf(key, "%.*s@%s", (int) base_len, STR(local), domain);
	    value = maps_find(transport_maps, STR(key));
	}
    }
    if (value == 0 && !transport_maps->error && *domain)
	value = find_domain(transport_maps, domain, transport_parent_style);
    if (value == 0 && !transport_maps->error)
	value = maps_find(transport_maps, "*");
    vstring_free(local);
    vstring_free(dom);
    vstring_free(key);
    return (value);
}

int     resolve_transport(const char *addr, RESOLVE_REPLY *reply, VSTRING *why)
{
    const char *at = addr_domain(addr);
    VSTRING *domain = vstring_alloc(100);
    const char *value;
    int     ret = 0;

    if (!resolve_ready)
	resolve_init();
    clean_domain(domain, at ? at : "");
    reply->class = resolve_class(STR(domain));
    if (reply->class == RESOLVE_CLASS_ERROR) {
	vstring_sprintf(why, "table lookup failure for domain \"%s\"", STR(domain));
	ret = -1;
    } else {
	class_default(reply, STR(domain));
	/* As Postfix: transport_maps never override "User unknown" */
	if (transport_maps && reply->class != RESOLVE_CLASS_ALIAS) {
	    transport_maps->error = 0;
	    if ((value = transport_find(addr, STR(domain))) != 0) {
		apply_value(reply, value, STR(domain));
	    } else if (transport_maps->error) {
		vstring_sprintf(why, "transport_maps lookup failure for <%s>", addr);
		ret = -1;
	    }
	}
	if (ret == 0 && !resolve_transport_name_ok(STR(reply->transport))) {
	    vstring_sprintf(why, "mail system configuration error: bad transport "
			    "name \"%s\" for <%s>", STR(reply->transport), addr);
	    ret = -1;
	}
    }
    vstring_free(domain);
    return (ret);
}

/*
 * deliver_domain_class - the delivery agents' view of resolve_class()'s
 * classes (one implementation of the domain lists for every program).
 */
int     deliver_domain_class(const char *domain)
{
    switch (resolve_class(domain)) {
    case RESOLVE_CLASS_ERROR:
	return (DELIVER_CLASS_ERROR);
    case RESOLVE_CLASS_LOCAL:
	return (DELIVER_CLASS_LOCAL);
    case RESOLVE_CLASS_VIRTUAL:
	return (DELIVER_CLASS_VIRTUAL);
    default:
	return (DELIVER_CLASS_RELAY);
    }
}
