/*
 * dict_sqlite.c - sqlite: tables, Postfix's sqlite_table(5).
 *
 * dict_open("sqlite:/etc/posthorn/virtual.cf", 0) reads a configuration
 * file of "name = value" lines (comments and continuation lines as in
 * main.cf):
 *
 *	dbpath = /var/lib/mail/virtual.sqlite	the database (opened read-only)
 *	query = SELECT dest FROM aliases WHERE addr = '%s'
 *	result_format = %s			(default)
 *	domain = example.com, hash:/etc/posthorn/domains	(default: none)
 *	expansion_limit = 0			(default: no limit)
 *
 * or, without query, the older table, select_field, where_field and
 * additional_conditions ("SELECT select_field FROM table WHERE
 * where_field = '%s' additional_conditions").  In the query, %s is the
 * key, %u its local part (all of it without '@'), %d its domain, %1 ..
 * %9 the domain's labels from the right (%1 = com), each quoted for SQL
 * (' doubled); %S, %U, %D are the same; %% is a '%'.  A key that lacks
 * a part the query needs (no domain for %d, an empty local part for %u,
 * too few labels) is not looked up.  With domain set, only keys
 * "local@domain" with a domain in that list are looked up.
 *
 * The first column of each row is formatted with result_format (%s, %u,
 * %d: of that value; %S, %U, %D, %1 .. %9: of the key) and the rows are
 * joined with commas; NULL and empty values are left out (empty ones
 * warned about), as is a row whose format needs a part its value lacks.
 * More rows than expansion_limit, a database that fails, or a query
 * that does not prepare make the lookup fail with ->error set.  A bad
 * configuration file or a database that does not open gives a table
 * whose lookups fail (warned), never a daemon that dies.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <sqlite3.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dict_private.h"

#define SQLITE_BUSY_MS	5000		/* wait for a writer's lock at most this */
#define SQLITE_LIST_SEP	", \t\r\n"

/* The configuration file's parameters, by name */

typedef struct SQLITE_CONF {
    const char *name;
    char   *value;			/* NULL: not set */
} SQLITE_CONF;

enum {
    CF_DBPATH, CF_QUERY, CF_RESULT_FORMAT, CF_DOMAIN, CF_EXPANSION_LIMIT,
    CF_TABLE, CF_SELECT_FIELD, CF_WHERE_FIELD, CF_ADDITIONAL_CONDITIONS, CF_COUNT
};

static const char *sqlite_conf_names[CF_COUNT] = {
    "dbpath", "query", "result_format", "domain", "expansion_limit",
    "table", "select_field", "where_field", "additional_conditions",
};

/* One entry of the domain list */

typedef struct SQLITE_DOMAIN {
    int     negate;			/* "!entry" */
    char   *name;			/* a domain, or NULL */
    DICT   *dict;			/* a type:table, or NULL */
} SQLITE_DOMAIN;

typedef struct DICT_SQLITE {
    DICT    dict;			/* must be first */
    sqlite3 *db;
    char   *query;			/* template */
    char   *result_format;
    long    expansion_limit;		/* 0: none */
    SQLITE_DOMAIN *domains;		/* NULL: every key is looked up */
    int     domain_count;
    VSTRING *query_buf;
    VSTRING *result;
} DICT_SQLITE;

/* sqlite_conf_line - "name = value" into CONF; 0, or -1 when it is not that */

static int sqlite_conf_line(SQLITE_CONF *conf, char *line)
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
    for (int i = 0; i < CF_COUNT; i++) {
	if (strcmp(line, conf[i].name) == 0) {
	    if (conf[i].value)
		myfree(conf[i].value);
	    conf[i].value = mystrdup(value);	/* a later setting wins */
	}
    }
    return (0);
}

/* sqlite_conf_read - the configuration file NAME into CONF; -1 (warned) if unreadable */

static int sqlite_conf_read(const char *name, SQLITE_CONF *conf)
{
    VSTREAM *fp;
    DICT_LINES *lines;
    VSTRING *line = vstring_alloc(100);
    int     lineno;
    int     status;

    for (int i = 0; i < CF_COUNT; i++) {
	conf[i].name = sqlite_conf_names[i];
	conf[i].value = 0;
    }
    if ((fp = vstream_open(name, O_RDONLY, 0)) == 0) {
	msg_warn("open database %s: %s", name, strerror(errno));
	vstring_free(line);
	return (-1);
    }
    lines = dict_lines_open(fp, name);
    while ((status = dict_lines_next(lines, line, &lineno)) > 0)
	if (sqlite_conf_line(conf, STR(line)) < 0)
	    msg_warn("sqlite map %s, line %d: expected format: name = value"
		     " -- ignoring this line", name, lineno);
    dict_lines_free(lines);
    (void) vstream_close(fp);
    vstring_free(line);
    return (status);
}

static void sqlite_conf_free(SQLITE_CONF *conf)
{
    for (int i = 0; i < CF_COUNT; i++)
	if (conf[i].value)
	    myfree(conf[i].value);
}

/* sqlite_template_ok - only %% %s %u %d %S %U %D %1..%9 */

static int sqlite_template_ok(const char *name, const char *what, const char *text)
{
    for (const char *cp = text; (cp = strchr(cp, '%')) != 0; cp += 2) {
	if (cp[1] == 0 || strchr("%suSUdD123456789", cp[1]) == 0) {
	    msg_warn("sqlite map %s: invalid %s template: %s", name, what, text);
	    return (0);
	}
    }
    return (1);
}

/* sqlite_legacy_query - the query made of table, select_field, ...; NULL (warned) */

static char *sqlite_legacy_query(const char *name, const SQLITE_CONF *conf)
{
    VSTRING *query = vstring_alloc(100);

    for (int i = CF_TABLE; i <= CF_WHERE_FIELD; i++) {
	if (conf[i].value == 0 || *conf[i].value == 0) {
	    msg_warn("sqlite map %s: neither query nor %s is set", name, conf[i].name);
	    vstring_free(query);
	    return (0);
	}
    }
    vstring_sprintf(query, "SELECT %s FROM %s WHERE %s='%%s' %s",
		    conf[CF_SELECT_FIELD].value, conf[CF_TABLE].value,
		    conf[CF_WHERE_FIELD].value,
		    conf[CF_ADDITIONAL_CONDITIONS].value ?
		    conf[CF_ADDITIONAL_CONDITIONS].value : "");
    return (vstring_export(query));
}

/* sqlite_domains - parse the domain list; type:table entries are opened */

static void sqlite_domains(DICT_SQLITE *ds, const char *list)
{
    char   *saved = mystrdup(list);
    char   *cp = saved;
    char   *tok;
    SQLITE_DOMAIN *entry;

    while ((tok = dict_strtokq(&cp, SQLITE_LIST_SEP)) != 0) {
	ds->domains = (SQLITE_DOMAIN *) myrealloc(ds->domains,
				(ds->domain_count + 1) * sizeof(*ds->domains));
	entry = ds->domains + ds->domain_count++;
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

/* sqlite_domain_ok - 1: look KEY up; 0: not; -1: a domain table failed */

static int sqlite_domain_ok(DICT_SQLITE *ds, const char *key)
{
    const char *domain = strrchr(key, '@');
    int     found;

    if (ds->domains == 0)
	return (1);
    if (domain == 0 || domain == key)
	return (0);
    domain++;
    for (int i = 0; i < ds->domain_count; i++) {
	SQLITE_DOMAIN *entry = ds->domains + i;

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

/* sqlite_part - the part of TEXT that escape CH wants; 0 when it has none */

static int sqlite_part(int ch, const char *text, const char **start, size_t *len)
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

/* sqlite_label - label N (1: the last) of KEY's domain; 0 when there is none */

static int sqlite_label(int n, const char *key, const char **start, size_t *len)
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

/* sqlite_append - LEN bytes at TEXT; QUOTE: for a '...' SQL string (' doubled) */

static void sqlite_append(VSTRING *out, const char *text, size_t len, int quote)
{
    for (size_t i = 0; i < len; i++) {
	if (quote && text[i] == '\'')
	    vstring_addch(out, '\'');
	vstring_addch(out, text[i]);
    }
}

/*
 * sqlite_expand - append FORMAT to OUT with % escapes of VALUE (lower
 * case) and KEY (upper case, %1..%9); 0 when a part is missing.
 */
static int sqlite_expand(const char *format, const char *value, const char *key,
			         VSTRING *out, int quote)
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
	    ok = sqlite_label(*cp - '0', key, &start, &len);
	else
	    ok = sqlite_part(*cp, isupper((unsigned char) *cp) ? key : value,
			     &start, &len);
	if (!ok)
	    return (0);
	sqlite_append(out, start, len, quote);
    }
    return (1);
}

/* sqlite_row - add one row's VALUE to the result; 1 if it was added */

static int sqlite_row(DICT_SQLITE *ds, const char *value, const char *key)
{
    size_t  mark = LEN(ds->result);

    if (value == 0)
	return (0);				/* NULL */
    if (*value == 0) {
	msg_warn("table \"%s:%s\": empty lookup result for: \"%s\" -- ignored",
		 ds->dict.type, ds->dict.name, key);
	return (0);
    }
    if (mark > 0)
	vstring_addch(ds->result, ',');
    if (!sqlite_expand(ds->result_format, value, key, ds->result, 0)) {
	vstring_truncate(ds->result, mark);
	return (0);
    }
    return (1);
}

/* sqlite_run - the prepared query's rows into ds->result; 0, or -1 (warned) */

static int sqlite_run(DICT_SQLITE *ds, sqlite3_stmt *stmt, const char *key)
{
    long    rows = 0;
    int     status;

    while ((status = sqlite3_step(stmt)) == SQLITE_ROW) {
	if (!sqlite_row(ds, (const char *) sqlite3_column_text(stmt, 0), key))
	    continue;
	if (ds->expansion_limit > 0 && ++rows > ds->expansion_limit) {
	    msg_warn("dict_sqlite_lookup: %s: Expansion limit exceeded for key '%s'",
		     ds->dict.name, key);
	    return (-1);
	}
    }
    if (status != SQLITE_DONE) {
	msg_warn("dict_sqlite_lookup: %s: SQL step failed: %s", ds->dict.name,
		 sqlite3_errmsg(ds->db));
	return (-1);
    }
    return (0);
}

static const char *dict_sqlite_lookup(DICT *dict, const char *key)
{
    DICT_SQLITE *ds = (DICT_SQLITE *) dict;
    sqlite3_stmt *stmt;
    int     status;

    dict->error = 0;
    vstring_reset(ds->result);
    vstring_reset(ds->query_buf);
    if ((status = sqlite_domain_ok(ds, key)) <= 0) {
	if (status < 0)
	    dict->error = DICT_ERR_RETRY;
	return (0);
    }
    if (!sqlite_expand(ds->query, key, key, ds->query_buf, 1))
	return (0);
    if (sqlite3_prepare_v2(ds->db, STR(ds->query_buf), -1, &stmt, 0) != SQLITE_OK) {
	msg_warn("dict_sqlite_lookup: %s: SQL prepare failed: %s", dict->name,
		 sqlite3_errmsg(ds->db));
	dict->error = DICT_ERR_RETRY;
	return (0);
    }
    if (sqlite_run(ds, stmt, key) < 0)
	dict->error = DICT_ERR_RETRY;
    (void) sqlite3_finalize(stmt);
    return (dict->error == 0 && LEN(ds->result) > 0 ? STR(ds->result) : 0);
}

static int dict_sqlite_close(DICT *dict)
{
    DICT_SQLITE *ds = (DICT_SQLITE *) dict;

    if (ds->db)
	(void) sqlite3_close(ds->db);
    for (int i = 0; i < ds->domain_count; i++) {
	if (ds->domains[i].dict)
	    dict_close(ds->domains[i].dict);
	if (ds->domains[i].name)
	    myfree(ds->domains[i].name);
    }
    if (ds->domains)
	myfree(ds->domains);
    if (ds->query)
	myfree(ds->query);
    if (ds->result_format)
	myfree(ds->result_format);
    vstring_free(ds->query_buf);
    vstring_free(ds->result);
    dict_free(dict);
    return (0);
}

/* sqlite_configure - DS from CONF; 0, or -1 (warned) */

static int sqlite_configure(DICT_SQLITE *ds, SQLITE_CONF *conf)
{
    const char *name = ds->dict.name;
    const char *limit = conf[CF_EXPANSION_LIMIT].value;
    char   *end;

    if (conf[CF_DBPATH].value == 0 || *conf[CF_DBPATH].value == 0) {
	msg_warn("sqlite map %s: dbpath is not set", name);
	return (-1);
    }
    ds->query = conf[CF_QUERY].value ? mystrdup(conf[CF_QUERY].value)
	: sqlite_legacy_query(name, conf);
    ds->result_format = mystrdup(conf[CF_RESULT_FORMAT].value ?
				 conf[CF_RESULT_FORMAT].value : "%s");
    if (ds->query == 0 || !sqlite_template_ok(name, "query", ds->query)
	|| !sqlite_template_ok(name, "result_format", ds->result_format))
	return (-1);
    if (limit && *limit) {
	errno = 0;
	ds->expansion_limit = strtol(limit, &end, 10);
	if (*end != 0 || errno != 0 || ds->expansion_limit < 0) {
	    msg_warn("sqlite map %s: bad expansion_limit: %s", name, limit);
	    return (-1);
	}
    }
    if (conf[CF_DOMAIN].value && *conf[CF_DOMAIN].value)
	sqlite_domains(ds, conf[CF_DOMAIN].value);
    return (0);
}

/* sqlite_open_db - the database, read-only; 0, or -1 (warned) */

static int sqlite_open_db(DICT_SQLITE *ds, const char *path)
{
    if (sqlite3_open_v2(path, &ds->db, SQLITE_OPEN_READONLY, 0) != SQLITE_OK) {
	msg_warn("sqlite map %s: open database %s: %s", ds->dict.name, path,
		 ds->db ? sqlite3_errmsg(ds->db) : "out of memory");
	return (-1);
    }
    (void) sqlite3_busy_timeout(ds->db, SQLITE_BUSY_MS);
    return (0);
}

DICT   *dict_sqlite_open(const char *type, const char *name, int flags)
{
    SQLITE_CONF conf[CF_COUNT];
    DICT_SQLITE *ds;

    if (sqlite_conf_read(name, conf) < 0) {
	sqlite_conf_free(conf);
	return (dict_fail_open(type, name, flags));
    }
    ds = (DICT_SQLITE *) dict_alloc(type, name, flags, sizeof(*ds));
    ds->dict.lookup = dict_sqlite_lookup;
    ds->dict.close = dict_sqlite_close;
    ds->query_buf = vstring_alloc(100);
    ds->result = vstring_alloc(100);
    if (sqlite_configure(ds, conf) < 0
	|| sqlite_open_db(ds, conf[CF_DBPATH].value) < 0) {
	sqlite_conf_free(conf);
	dict_sqlite_close(&ds->dict);
	return (dict_fail_open(type, name, flags));
    }
    sqlite_conf_free(conf);
    return (&ds->dict);
}
