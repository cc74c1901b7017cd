/*
 * smtpd_access.c - check_client_access, check_helo_access,
 * check_sender_access and check_recipient_access: access(5) lookups and
 * what their results mean.
 *
 * Lookup order (access(5)):
 *   client     the verified client name and its parent domains (not
 *              when it is "unknown"), then the client IP address and its
 *              prefixes: 1.2.3.4, 1.2.3, 1.2, 1 (IPv6: cut at each ':'
 *              from the right)
 *   helo       the name, then its parent domains
 *   address    "<>" (smtpd_null_access_lookup_key) for the null sender;
 *              user+ext@domain, user@domain; the domain and its parents;
 *              user+ext@, user@
 * Parent domains are tried as "example.com" when smtpd_access_maps is in
 * parent_domain_matches_subdomains (Postfix's default), else as
 * ".example.com".  The first table answer decides.
 *
 * Results: OK, RELAY or all digits (permit this list); DUNNO (go on);
 * REJECT [text] (access_map_reject_code, 5.7.1, "Access denied");
 * DEFER [text] (access_map_defer_code, 4.7.1, "Access denied");
 * DEFER_IF_PERMIT [text]; "4xx text", "5xx text" (an optional RFC 3463
 * code may start any text); HOLD [text] (state->hold_reason); DISCARD
 * [text] (state->discard_reason, and permit); FILTER transport:nexthop
 * (state->filter: the message goes to that content filter, as with
 * content_filter); PREPEND header: value
 * (added above our Received: header); WARN/INFO [text] (log only); anything else is evaluated as a restriction list, e.g.
 * "permit_auth_destination" or "reject_unauth_destination, permit".
 * A table that cannot answer gives "451 4.3.5 Server configuration error".
 *
 * Parameters: access_map_reject_code, access_map_defer_code,
 * smtpd_null_access_lookup_key, parent_domain_matches_subdomains,
 * recipient_delimiter.
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
#include "smtpd.h"
#include "smtpd_restrict.h"

/* Opened tables, kept for the life of the process */
static struct {
    char   *spec;
    MAPS   *maps;
}      *access_tables;
static int access_table_count;

MAPS   *smtpd_access_open(const char *spec)
{
    for (int i = 0; i < access_table_count; i++)
	if (strcmp(access_tables[i].spec, spec) == 0)
	    return (access_tables[i].maps);
    access_tables = myrealloc(access_tables,
			      (access_table_count + 1) * sizeof(*access_tables));
    access_tables[access_table_count].spec = mystrdup(spec);
    access_tables[access_table_count].maps =
	maps_create(spec, spec, DICT_FLAG_FOLD_KEY);
    return (access_tables[access_table_count++].maps);
}

/* split_dsn - an RFC 3463 code at the start of TEXT into DSN; the rest */
static const char *split_dsn(const char *text, char dsn[16], const char *def)
{
    const char *cp = text;
    size_t  len;

    if ((*cp == '2' || *cp == '4' || *cp == '5') && cp[1] == '.'
	&& isdigit((unsigned char) cp[2])) {
	cp += 2;
	while (isdigit((unsigned char) *cp))
	    cp++;
	if (*cp == '.' && isdigit((unsigned char) cp[1])) {
	    cp++;
	    while (isdigit((unsigned char) *cp))
		cp++;
	    len = cp - text;
	    if ((*cp == 0 || *cp == ' ' || *cp == '\t') && len < 16) {
		memcpy(dsn, text, len);
		dsn[len] = 0;
		return (cp + strspn(cp, " \t"));
	    }
	}
    }
    snprintf(dsn, 16, "%s", def);
    return (text);
}

/* header_field_ok - "Name: value" with a printable name and no control bytes */
static int header_field_ok(const char *text)
{
    const char *cp;

    for (cp = text; *cp && *cp != ':'; cp++)
	if (!isgraph((unsigned char) *cp))
	    return (0);
    if (cp == text || *cp != ':')
	return (0);
    for (; *cp; cp++)
	if (iscntrl((unsigned char) *cp) && *cp != '\t')
	    return (0);
    return (1);
}

/* action_result - HOLD, DISCARD, FILTER, PREPEND, WARN, INFO; -1 when VALUE is none */
static int action_result(SMTPD_CHECK *chk, const char *word, const char *text,
			         const char *reply_name, const char *reply_class)
{
    VSTRING *buf = vstring_alloc(100);
    int     status = SMTPD_CHECK_DUNNO;

    if (strcasecmp(word, "HOLD") == 0) {
	vstring_sprintf(buf, "<%s>: %s %s", reply_name, reply_class,
			*text ? text : "triggers HOLD action");
	smtpd_check_log(chk, "hold", STR(buf));
	smtpd_check_keep(&chk->hold_reason, STR(buf));
    } else if (strcasecmp(word, "DISCARD") == 0) {
	vstring_sprintf(buf, "<%s>: %s %s", reply_name, reply_class,
			*text ? text : "triggers DISCARD action");
	smtpd_check_log(chk, "discard", STR(buf));
	smtpd_check_keep(&chk->discard_reason, STR(buf));
	status = SMTPD_CHECK_OK;
    } else if (strcasecmp(word, "FILTER") == 0) {
	if (strchr(text, ':') == 0 || *text == ':' || strpbrk(text, " \t"))
	    msg_warn("access table: FILTER action without transport:destination: "
		     "\"%.100s\"", text);
	else
	    smtpd_check_keep(&chk->filter, text);
    } else if (strcasecmp(word, "PREPEND") == 0) {
	if (header_field_ok(text))
	    smtpd_check_prepend(chk, text);
	else
	    msg_warn("access table: PREPEND action without valid header: \"%.100s\"", text);
    } else if (strcasecmp(word, "WARN") == 0 || strcasecmp(word, "INFO") == 0) {
	vstring_sprintf(buf, "<%s>: %s %s", reply_name, reply_class, text);
	smtpd_check_log(chk, strcasecmp(word, "WARN") == 0 ? "warn" : "info", STR(buf));
    } else {
	status = -1;
    }
    vstring_free(buf);
    return (status);
}

/* all_digits - a non-empty string of digits */
static int all_digits(const char *cp)
{
    if (*cp == 0)
	return (0);
    while (isdigit((unsigned char) *cp))
	cp++;
    return (*cp == 0);
}

/* smtpd_check_access_result - see smtpd_restrict.h */
int	smtpd_check_access_result(SMTPD_CHECK *chk, const char *table, const char *value,
			              const char *reply_name, const char *reply_class)
{
    size_t  len = strcspn(value, " \t");
    char   *word = mystrndup(value, len);
    const char *text = value + len + strspn(value + len, " \t");
    char    dsn[16];
    int     status;

    if (strcasecmp(word, "DUNNO") == 0) {
	status = SMTPD_CHECK_DUNNO;
    } else if (strcasecmp(word, "OK") == 0 || strcasecmp(word, "RELAY") == 0
	       || all_digits(value)) {
	status = SMTPD_CHECK_OK;
    } else if (strcasecmp(word, "REJECT") == 0 || strcasecmp(word, "DEFER") == 0) {
	int     defer = (strcasecmp(word, "DEFER") == 0);

	text = split_dsn(text, dsn, defer ? "4.7.1" : "5.7.1");
	status = smtpd_check_reject(chk, conf_int(defer ? "access_map_defer_code" :
						  "access_map_reject_code"),
				    dsn, "<%s>: %s rejected: %s", reply_name,
				    reply_class, *text ? text : "Access denied");
    } else if (strcasecmp(word, "DEFER_IF_PERMIT") == 0) {
	VSTRING *buf = vstring_alloc(100);

	text = split_dsn(text, dsn, "4.7.1");
	vstring_sprintf(buf, "<%s>: %s rejected: %s", reply_name, reply_class,
			*text ? text : "Service unavailable");
	smtpd_check_defer_if_permit(chk, conf_int("access_map_defer_code"), dsn, STR(buf));
	vstring_free(buf);
	status = SMTPD_CHECK_DUNNO;
    } else if (len == 3 && (word[0] == '4' || word[0] == '5')
	       && isdigit((unsigned char) word[1]) && isdigit((unsigned char) word[2])
	       && *text) {
	char    def[6] = {word[0], '.', '7', '.', '1', 0};

	text = split_dsn(text, dsn, def);
	status = smtpd_check_reject(chk, atoi(word), dsn, "<%s>: %s rejected: %s",
				    reply_name, reply_class,
				    *text ? text : "Access denied");
    } else if ((status = action_result(chk, word, text, reply_name, reply_class)) >= 0) {
	 /* HOLD, DISCARD, WARN, INFO */ ;
    } else {
	status = smtpd_check_text(chk, table, value, reply_name, reply_class);
    }
    myfree(word);
    return (status);
}

/* table_error - a table could not answer */
static int table_error(SMTPD_CHECK *chk, const char *table)
{
    msg_warn("%s: table lookup failed; deferring", table);
    return (smtpd_check_reject(chk, 451, "4.3.5", "Server configuration error"));
}

/*
 * lookup - one key; FOUND is set when the table answered (or failed).
 */
static int lookup(SMTPD_CHECK *chk, const char *table, MAPS *maps, const char *key,
		          const char *reply_name, const char *reply_class, int *found)
{
    const char *value;

    *found = 0;
    if (*key == 0)
	return (SMTPD_CHECK_DUNNO);		/* Berkeley DB cannot store "" */
    if ((value = maps_find(maps, key)) != 0) {
	*found = 1;
	return (smtpd_check_access_result(chk, table, value, reply_name, reply_class));
    }
    if (maps->error) {
	*found = 1;
	return (table_error(chk, table));
    }
    return (SMTPD_CHECK_DUNNO);
}

/* parent_style - does smtpd_access_maps match subdomains as "domain"? */
static int parent_style(void)
{
    const char *list = conf_str("parent_domain_matches_subdomains");
    const char *cp = list;
    size_t  len = strlen("smtpd_access_maps");

    while ((cp = strstr(cp, "smtpd_access_maps")) != 0) {
	if ((cp == list || strchr(", \t", cp[-1])) && strchr(", \t", cp[len]))
	    return (1);
	cp += len;
    }
    return (0);
}

/* domain_access - DOMAIN and its parent domains */
static int domain_access(SMTPD_CHECK *chk, const char *table, MAPS *maps,
			         const char *domain, const char *reply_name,
			         const char *reply_class, int *found)
{
    VSTRING *key = vstring_alloc(100);
    const char *name = domain;
    const char *next;
    int     parent = parent_style();
    int     status;

    status = lookup(chk, table, maps, name, reply_name, reply_class, found);
    while (!*found && (next = strchr(name + 1, '.')) != 0 && next[1] != 0) {
	vstring_strcpy(key, parent ? next + 1 : next);
	status = lookup(chk, table, maps, STR(key), reply_name, reply_class, found);
	name = next;
    }
    vstring_free(key);
    return (status);
}

int	smtpd_check_helo_access(SMTPD_CHECK *chk, const char *table, MAPS *maps)
{
    int     found;

    if (chk->helo == 0)
	return (SMTPD_CHECK_DUNNO);
    return (domain_access(chk, table, maps, chk->helo, chk->helo,
			  SMTPD_NAME_HELO, &found));
}

int	smtpd_check_client_access(SMTPD_CHECK *chk, const char *table, MAPS *maps)
{
    const char *addr = smtpd_client_addr(chk->state);
    int     delim = strchr(addr, ':') ? ':' : '.';
    char   *key = mystrdup(addr);
    char   *cut;
    int     found = 0;
    int     status = SMTPD_CHECK_DUNNO;

    if (strcasecmp(chk->state->name, "unknown") != 0)
	status = domain_access(chk, table, maps, chk->state->name,
			       chk->state->namaddr, SMTPD_NAME_CLIENT, &found);
    while (!found) {
	status = lookup(chk, table, maps, key, chk->state->namaddr,
			SMTPD_NAME_CLIENT, &found);
	if ((cut = strrchr(key, delim)) == 0)
	    break;
	*cut = 0;
    }
    myfree(key);
    return (status);
}

/* local_variants - LOCAL, and LOCAL without its extension when it has one */
static int local_variants(const char *local, VSTRING *out[2])
{
    const char *delims = conf_str("recipient_delimiter");
    size_t  n;

    vstring_strcpy(out[0], local);
    if (*delims == 0 || (n = strcspn(local, delims)) == 0 || local[n] == 0)
	return (1);
    vstring_strncpy(out[1], local, n);
    return (2);
}

int	smtpd_check_addr_access(SMTPD_CHECK *chk, const char *table, MAPS *maps,
				        const char *addr, const char *reply_class)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *variants[2] = {vstring_alloc(100), vstring_alloc(100)};
    VSTRING *key = vstring_alloc(100);
    int     found = 0;
    int     status = SMTPD_CHECK_DUNNO;
    int     n;

    if (*addr == 0) {
	status = lookup(chk, table, maps, conf_str("smtpd_null_access_lookup_key"),
			"", reply_class, &found);
    } else if (addr_split(addr, local, domain) == 0) {
	vstring_lowercase(domain);
	n = local_variants(STR(local), variants);
	for (int i = 0; !found && i < n; i++) {
	    vstring_sprintf(key, "%s@%s", STR(variants[i]), STR(domain));
	    status = lookup(chk, table, maps, STR(key), addr, reply_class, &found);
	}
	if (!found && LEN(domain) > 0)
	    status = domain_access(chk, table, maps, STR(domain), addr, reply_class, &found);
	for (int i = 0; !found && i < n; i++) {
	    vstring_sprintf(key, "%s@", STR(variants[i]));
	    status = lookup(chk, table, maps, STR(key), addr, reply_class, &found);
	}
    }
    vstring_free(local);
    vstring_free(domain);
    vstring_free(variants[0]);
    vstring_free(variants[1]);
    vstring_free(key);
    return (status);
}
