/*
 * dict_query.c - what the query tables share: their configuration file,
 * query and result templates, domain filter and expansion limit, and for
 * the database and directory servers the hosts list and its failover
 * (see dict_query.h).  dict_sqlite.c, dict_pgsql.c, dict_mysql.c and
 * dict_ldap.c do the talking to their servers; everything else is here,
 * once.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dict_private.h"
#include "dict_query.h"

#define DICT_QUERY_LIST_SEP	", \t\r\n"

/* One entry of the domain list */

struct DICT_QUERY_DOMAIN {
    int     negate;			/* "!entry" */
    char   *name;			/* a domain, or NULL */
    DICT   *dict;			/* a type:table, or NULL */
};

/*
 * The configuration file.
 */

/* dict_query_cf_set - NAME = VALUE, a later setting replacing an earlier one */

void    dict_query_cf_set(DICT_QUERY_CF *cf, const char *name, const char *value)
{
    for (int i = 0; i < cf->count; i++) {
	if (strcmp(cf->names[i], name) == 0) {
	    myfree(cf->values[i]);
	    cf->values[i] = mystrdup(value);
	    return;
	}
    }
    cf->names = (char **) myrealloc(cf->names, (cf->count + 1) * sizeof(char *));
    cf->values = (char **) myrealloc(cf->values, (cf->count + 1) * sizeof(char *));
    cf->names[cf->count] = mystrdup(name);
    cf->values[cf->count++] = mystrdup(value);
}

/* cf_line - "name = value" into CF; 0, or -1 when it is not that */

static int cf_line(DICT_QUERY_CF *cf, char *line)
{
    char   *eq = strchr(line, '=');
    char   *end;
    char   *value;

    if (eq == 0)
	return (-1);
    for (end = eq; end > line && isspace((unsigned char) end[-1]); end--)
	 /* void */ ;
    *end = 0;
    for (value = eq + 1; isspace((unsigned char) *value); value++)
	 /* void */ ;
    end = value + strlen(value);
    while (end > value && isspace((unsigned char) end[-1]))
	*--end = 0;
    if (*line == 0)
	return (-1);
    dict_query_cf_set(cf, line, value);
    return (0);
}

int     dict_query_cf_read(const char *type, const char *path, DICT_QUERY_CF *cf)
{
    VSTREAM *fp;
    DICT_LINES *lines;
    VSTRING *line = vstring_alloc(100);
    int     lineno;
    int     status;

    memset(cf, 0, sizeof(*cf));
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	msg_warn("open database %s: %s", path, strerror(errno));
	vstring_free(line);
	return (-1);
    }
    lines = dict_lines_open(fp, path);
    while ((status = dict_lines_next(lines, line, &lineno)) > 0)
	if (cf_line(cf, STR(line)) < 0)
	    msg_warn("%s map %s, line %d: expected format: name = value"
		     " -- ignoring this line", type, path, lineno);
    dict_lines_free(lines);
    (void) vstream_close(fp);
    vstring_free(line);
    return (status);
}

const char *dict_query_cf_get(const DICT_QUERY_CF *cf, const char *name)
{
    for (int i = 0; i < cf->count; i++)
	if (strcmp(cf->names[i], name) == 0)
	    return (cf->values[i]);
    return (0);
}

void    dict_query_cf_free(DICT_QUERY_CF *cf)
{
    for (int i = 0; i < cf->count; i++) {
	myfree(cf->names[i]);
	myfree(cf->values[i]);
    }
    if (cf->names)
	myfree(cf->names);
    if (cf->values)
	myfree(cf->values);
    memset(cf, 0, sizeof(*cf));
}

/*
 * Templates.
 */

/* dict_query_template_ok - only %% %s %u %d %S %U %D %1..%9 */

int     dict_query_template_ok(const DICT *dict, const char *what, const char *text)
{
    for (const char *cp = text; (cp = strchr(cp, '%')) != 0; cp += 2) {
	if (cp[1] == 0 || strchr("%suSUdD123456789", cp[1]) == 0) {
	    msg_warn("%s map %s: invalid %s template: %s", dict->type, dict->name,
		     what, text);
	    return (0);
	}
    }
    return (1);
}

/* legacy_query - the query made of table, select_field, ...; NULL (warned) */

static char *legacy_query(const DICT *dict, const DICT_QUERY_CF *cf)
{
    static const char *const parts[] = {"table", "select_field", "where_field", 0};
    VSTRING *query = vstring_alloc(100);
    const char *extra = dict_query_cf_get(cf, "additional_conditions");

    for (int i = 0; parts[i]; i++) {
	const char *value = dict_query_cf_get(cf, parts[i]);

	if (value == 0 || *value == 0) {
	    msg_warn("%s map %s: neither query nor %s is set", dict->type,
		     dict->name, parts[i]);
	    vstring_free(query);
	    return (0);
	}
    }
    vstring_sprintf(query, "SELECT %s FROM %s WHERE %s='%%s' %s",
		    dict_query_cf_get(cf, "select_field"),
		    dict_query_cf_get(cf, "table"),
		    dict_query_cf_get(cf, "where_field"), extra ? extra : "");
    return (vstring_export(query));
}

/* domains_parse - the domain list; type:table entries are opened */

static void domains_parse(DICT_QUERY *q, const char *list)
{
    char   *saved = mystrdup(list);
    char   *cp = saved;
    char   *tok;
    DICT_QUERY_DOMAIN *entry;

    while ((tok = dict_strtokq(&cp, DICT_QUERY_LIST_SEP)) != 0) {
	q->domains = (DICT_QUERY_DOMAIN *) myrealloc(q->domains,
				(q->domain_count + 1) * sizeof(*q->domains));
	entry = q->domains + q->domain_count++;
	memset(entry, 0, sizeof(*entry));
	for (; *tok == '!'; tok++)
	    entry->negate = !entry->negate;
	if (strchr(tok, ':') != 0)
	    entry->dict = dict_open(tok, DICT_FLAG_FOLD_KEY);
	else
	    entry->name = mystrdup(tok);
    }
    myfree(saved);
}

/* domain_ok - 1: look KEY up; 0: not; -1: a domain table failed */

static int domain_ok(DICT_QUERY *q, const char *key)
{
    const char *domain = strrchr(key, '@');
    int     found;

    if (q->domains == 0)
	return (1);
    if (domain == 0 || domain == key)
	return (0);
    domain++;
    for (int i = 0; i < q->domain_count; i++) {
	DICT_QUERY_DOMAIN *entry = q->domains + i;

	if (entry->name) {
	    found = strcasecmp(entry->name, domain) == 0;
	} else if ((found = dict_lookup(entry->dict, domain) != 0) == 0
		   && entry->dict->error) {
	    msg_warn("%s:%s lookup error for \"%s\"", entry->dict->type,
		     entry->dict->name, domain);
	    return (-1);
	}
	if (found)
	    return (!entry->negate);
    }
    return (0);
}

int     dict_query_init(DICT_QUERY *q, DICT *dict, const DICT_QUERY_CF *cf)
{
    const char *query = dict_query_cf_get(cf, "query");
    const char *format = dict_query_cf_get(cf, "result_format");
    const char *limit = dict_query_cf_get(cf, "expansion_limit");
    const char *domain = dict_query_cf_get(cf, "domain");
    char   *end;

    memset(q, 0, sizeof(*q));
    q->dict = dict;
    q->query_buf = vstring_alloc(100);
    q->result = vstring_alloc(100);
    q->query = query ? mystrdup(query) : legacy_query(dict, cf);
    q->result_format = mystrdup(format ? format : "%s");
    if (q->query == 0 || !dict_query_template_ok(dict, "query", q->query)
	|| !dict_query_template_ok(dict, "result_format", q->result_format))
	return (-1);
    if (limit && *limit) {
	errno = 0;
	q->expansion_limit = strtol(limit, &end, 10);
	if (*end != 0 || errno != 0 || q->expansion_limit < 0) {
	    msg_warn("%s map %s: bad expansion_limit: %s", dict->type, dict->name,
		     limit);
	    return (-1);
	}
    }
    if (domain && *domain)
	domains_parse(q, domain);
    return (0);
}

/* key_part - the part of TEXT that escape CH wants; 0 when it has none */

static int key_part(int ch, const char *text, const char **start, size_t *len)
{
    const char *at = strrchr(text, '@');

    switch (tolower(ch)) {
    case 's':
	*start = text;
	*len = strlen(text);
	return (1);
    case 'u':
	*start = text;
	*len = at ? (size_t) (at - text) : strlen(text);
	return (*len > 0);
    case 'd':
	if (at == 0 || at[1] == 0)
	    return (0);
	*start = at + 1;
	*len = strlen(at + 1);
	return (1);
    }
    return (0);
}

/* key_label - label N (1: the last) of KEY's domain; 0 when there is none */

static int key_label(int n, const char *key, const char **start, size_t *len)
{
    const char *domain = strrchr(key, '@');
    const char *end;

    if (domain == 0 || *++domain == 0)
	return (0);
    end = domain + strlen(domain);
    for (const char *cp = end; cp >= domain; cp--) {
	if (cp == domain || cp[-1] == '.') {
	    if (--n == 0) {
		*start = cp;
		*len = end - cp;
		return (*len > 0);
	    }
	    end = cp - 1;
	}
    }
    return (0);
}

void    dict_query_sql_quote(VSTRING *out, const char *text, size_t len, void *ctx)
{
    for (size_t i = 0; i < len; i++) {
	if (text[i] == '\'')
	    vstring_addch(out, '\'');
	vstring_addch(out, text[i]);
    }
}

/* hex_quote - TEXT to OUT, each byte of SPECIAL as \XX */

static void hex_quote(VSTRING *out, const char *text, size_t len,
		              const char *special, size_t nspecial)
{
    for (size_t i = 0; i < len; i++) {
	if (memchr(special, text[i], nspecial) != 0)
	    vstring_sprintf_append(out, "\\%02X", (unsigned char) text[i]);
	else
	    vstring_addch(out, text[i]);
    }
}

void    dict_query_ldap_filter_quote(VSTRING *out, const char *text, size_t len,
				             void *ctx)
{
    static const char special[] = "*()\\";	/* and the NUL */

    hex_quote(out, text, len, special, sizeof(special));
}

void    dict_query_ldap_dn_quote(VSTRING *out, const char *text, size_t len,
				         void *ctx)
{
    static const char special[] = "\"#+,;<=>\\ \t";	/* and the NUL */

    hex_quote(out, text, len, special, sizeof(special));
}

/*
 * expand - append FORMAT to OUT with % escapes of VALUE (lower case) and
 * KEY (upper case, %1..%9), each part through QUOTE unless NULL; 0 when
 * a part is missing
 */
static int expand(const char *format, const char *value, const char *key,
		          VSTRING *out, DICT_QUERY_QUOTE_FN quote, void *ctx)
{
    const char *start;
    size_t  len;
    int     ok;

    for (const char *cp = format; *cp; cp++) {
	if (*cp != '%') {
	    vstring_addch(out, *cp);
	    continue;
	}
	cp++;
	if (*cp == '%') {
	    vstring_addch(out, '%');
	    continue;
	}
	if (isdigit((unsigned char) *cp))
	    ok = key_label(*cp - '0', key, &start, &len);
	else
	    ok = key_part(*cp, isupper((unsigned char) *cp) ? key : value,
			  &start, &len);
	if (!ok)
	    return (0);
	if (quote)
	    quote(out, start, len, ctx);
	else
	    vstring_memcat(out, start, len);
    }
    return (1);
}

int     dict_query_expand_template(const char *template, const char *key,
			               VSTRING *out, DICT_QUERY_QUOTE_FN quote,
				               void *ctx)
{
    return (expand(template, key, key, out, quote, ctx));
}

int     dict_query_wanted(DICT_QUERY *q, const char *key)
{
    vstring_reset(q->result);
    q->rows = 0;
    return (domain_ok(q, key));
}

int     dict_query_expand(DICT_QUERY *q, const char *key, DICT_QUERY_QUOTE_FN quote,
			          void *ctx)
{
    vstring_reset(q->result);
    vstring_reset(q->query_buf);
    q->rows = 0;
    return (expand(q->query, key, key, q->query_buf,
		   quote ? quote : dict_query_sql_quote, ctx));
}

int     dict_query_row(DICT_QUERY *q, const char *value, const char *key)
{
    size_t  mark = LEN(q->result);

    if (value == 0)
	return (0);				/* NULL */
    if (*value == 0) {
	msg_warn("table \"%s:%s\": empty lookup result for: \"%s\" -- ignored",
		 q->dict->type, q->dict->name, key);
	return (0);
    }
    if (mark > 0)
	vstring_addch(q->result, ',');
    if (!expand(q->result_format, value, key, q->result, 0, 0)) {
	vstring_truncate(q->result, mark);
	return (0);
    }
    if (q->expansion_limit > 0 && ++q->rows > q->expansion_limit) {
	msg_warn("dict_%s_lookup: %s: Expansion limit exceeded for key '%s'",
		 q->dict->type, q->dict->name, key);
	return (-1);
    }
    return (0);
}

const char *dict_query_result(DICT_QUERY *q)
{
    return (LEN(q->result) > 0 ? STR(q->result) : 0);
}

void    dict_query_free(DICT_QUERY *q)
{
    for (int i = 0; i < q->domain_count; i++) {
	if (q->domains[i].dict)
	    dict_close(q->domains[i].dict);
	if (q->domains[i].name)
	    myfree(q->domains[i].name);
    }
    if (q->domains)
	myfree(q->domains);
    if (q->query)
	myfree(q->query);
    if (q->result_format)
	myfree(q->result_format);
    if (q->query_buf)
	vstring_free(q->query_buf);
    if (q->result)
	vstring_free(q->result);
    memset(q, 0, sizeof(*q));
}

/*
 * Database servers.
 */

#define DICT_QUERY_HOST_SEP	", \t\r\n"

/* host_add - one "hosts" entry */

static void host_add(DICT_QUERY_HOSTS *hosts, const char *spec)
{
    DICT_QUERY_HOST *h;
    char   *copy;
    char   *colon;

    hosts->list = (DICT_QUERY_HOST *) myrealloc(hosts->list,
				       (hosts->count + 1) * sizeof(*hosts->list));
    h = hosts->list + hosts->count++;
    memset(h, 0, sizeof(*h));
    if (strstr(spec, "://") != 0) {		/* ldap://host:port/ */
	h->name = mystrdup(spec);
	h->is_url = 1;
	return;
    }
    if (strncmp(spec, "unix:", 5) == 0) {
	h->name = mystrdup(spec + 5);
	h->is_unix = 1;
	return;
    }
    if (strncmp(spec, "inet:", 5) == 0)
	spec += 5;
    copy = mystrdup(spec);
    if (*copy == '[' && (colon = strchr(copy, ']')) != 0) {	/* [v6]:port */
	*colon++ = 0;
	h->name = mystrdup(copy + 1);
	if (*colon == ':')
	    h->port = mystrdup(colon + 1);
    } else if ((colon = strrchr(copy, ':')) != 0 && strchr(copy, ':') == colon) {
	*colon = 0;
	h->name = mystrdup(copy);
	h->port = mystrdup(colon + 1);
    } else {
	h->name = mystrdup(copy);
    }
    myfree(copy);
}

void    dict_query_hosts_init(DICT_QUERY_HOSTS *hosts, const char *list,
			              const char *def, int retry_interval)
{
    char   *saved = mystrdup(list && *list ? list : def);
    char   *cp = saved;
    char   *tok;

    memset(hosts, 0, sizeof(*hosts));
    hosts->retry_interval = retry_interval;
    while ((tok = dict_strtokq(&cp, DICT_QUERY_HOST_SEP)) != 0)
	host_add(hosts, tok);
    if (hosts->count == 0)
	host_add(hosts, def);
    myfree(saved);
}

int     dict_query_connect(DICT_QUERY_HOSTS *hosts,
			           int (*connect) (void *ctx, DICT_QUERY_HOST *host),
			           void *ctx)
{
    time_t  now = time((time_t *) 0);
    int     start = hosts->ordered ? 0 : rand() % hosts->count;

    for (int pass = 0; pass < 2; pass++) {	/* live hosts, then the others */
	for (int k = 0; k < hosts->count; k++) {
	    int     i = (start + k) % hosts->count;
	    DICT_QUERY_HOST *h = hosts->list + i;

	    if ((h->dead_until > now) != pass)
		continue;
	    if (connect(ctx, h) == 0) {
		h->dead_until = 0;
		return (i);
	    }
	    dict_query_host_failed(hosts, i);
	}
    }
    return (-1);
}

void    dict_query_host_failed(DICT_QUERY_HOSTS *hosts, int i)
{
    hosts->list[i].dead_until = time((time_t *) 0) + hosts->retry_interval;
}

void    dict_query_hosts_free(DICT_QUERY_HOSTS *hosts)
{
    for (int i = 0; i < hosts->count; i++) {
	myfree(hosts->list[i].name);
	if (hosts->list[i].port)
	    myfree(hosts->list[i].port);
    }
    if (hosts->list)
	myfree(hosts->list);
    memset(hosts, 0, sizeof(*hosts));
}

int     dict_query_cf_seconds(const DICT *dict, const DICT_QUERY_CF *cf,
			              const char *name, int def)
{
    const char *value = dict_query_cf_get(cf, name);
    char   *end;
    long    n;

    if (value == 0 || *value == 0)
	return (def);
    n = strtol(value, &end, 10);
    if (*end != 0 || n < 0 || n > 86400) {
	msg_warn("%s map %s: bad %s: %s", dict->type, dict->name, name, value);
	return (-1);
    }
    return ((int) n);
}

const char *dict_query_server_lookup(DICT_QUERY *q, const char *key,
				             const DICT_QUERY_SERVER *server,
				             void *ctx)
{
    DICT   *dict = q->dict;
    int     status;

    dict->error = 0;
    if ((status = dict_query_wanted(q, key)) <= 0) {
	if (status < 0)
	    dict->error = DICT_ERR_RETRY;
	return (0);
    }
    for (int tries = 0; tries < 2; tries++) {
	if (server->connect(ctx) < 0) {
	    msg_warn("dict_%s: %s: no database server answers", dict->type,
		     dict->name);
	    break;
	}
	if (dict_query_expand(q, key, server->quote, ctx) == 0)
	    return (0);				/* the key lacks a part */
	if ((status = server->run(ctx, key)) > 0)
	    return (dict_query_result(q));
	if (status == 0)
	    break;				/* refused: no use elsewhere */
    }
    dict->error = DICT_ERR_RETRY;
    return (0);
}

DICT   *dict_query_open(const char *type, const char *name, int flags,
			        const DICT_QUERY_OPS *ops)
{
    DICT_QUERY_CF cf;
    DICT   *dict;
    int     ok;

    if (dict_query_cf_read(type, name, &cf) < 0) {
	dict_query_cf_free(&cf);
	return (dict_fail_open(type, name, flags));
    }
    dict = dict_alloc(type, name, flags, ops->size);
    dict->lookup = ops->lookup;
    dict->close = ops->close;
    if (ops->names)
	ops->names(&cf);
    ok = dict_query_init((DICT_QUERY *) ((char *) dict + ops->query_offset),
			 dict, &cf) == 0 && ops->configure(dict, &cf) == 0;
    dict_query_cf_free(&cf);
    if (!ok) {
	ops->close(dict);
	return (dict_fail_open(type, name, flags));
    }
    return (dict);
}
