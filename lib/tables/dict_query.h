/*
 * dict_query.h - what the query tables share (sqlite:, pgsql:, mysql:,
 * ldap:; Postfix's db_common and cfg_parser): the configuration file, the
 * query template, the result format, the domain filter and the expansion
 * limit.
 *
 *   DICT_QUERY_CF cf;
 *   if (dict_query_cf_read(type, path, &cf) < 0) ...      (warned)
 *   host = dict_query_cf_get(&cf, "hosts");
 *
 *   DICT_QUERY q;
 *   if (dict_query_init(&q, dict, &cf) < 0) ...            (warned)
 *   if (dict_query_wanted(&q, key) ...                     domain filter
 *   if (dict_query_expand(&q, key, quote_fn, ctx) ...      query in q.query_buf
 *   ... each row: if (dict_query_row(&q, value, key) < 0) fail (limit)
 *   value = dict_query_result(&q);                         NULL: no rows
 *   dict_query_free(&q); dict_query_cf_free(&cf);
 *
 * The file has main.cf's syntax ("name = value", comments, continuation
 * lines); a later setting of a name wins; lines that are no setting are
 * warned about and skipped.  Templates (query, result_format) know %%,
 * %s (the key or value), %u (its local part: all of it without '@'), %d
 * (its domain), %S %U %D (the same of the key in result_format), %1..%9
 * (the key's domain labels from the right); anything else is refused at
 * open.  A key that lacks a part the query needs is not looked up.
 * Without "query", the older table, select_field, where_field and
 * additional_conditions make "SELECT select_field FROM table WHERE
 * where_field = '%s' additional_conditions".  With "domain" set, only
 * keys "local@domain" with a domain in that list (names, !names,
 * type:table entries) are looked up.
 */
#ifndef DICT_QUERY_H
#define DICT_QUERY_H

#include "sys_defs.h"
#include <time.h>
#include "vstring.h"
#include "dict.h"

typedef struct DICT_QUERY_CF {
    int     count;
    char  **names;
    char  **values;
} DICT_QUERY_CF;

/* dict_query_cf_read - PATH into CF; 0, or -1 (warned, CF empty) */
int	dict_query_cf_read(const char *type, const char *path, DICT_QUERY_CF *cf);
/* dict_query_cf_get - the value of NAME, or NULL when not set */
const char *dict_query_cf_get(const DICT_QUERY_CF *cf, const char *name);
/* dict_query_cf_set - set NAME (a table whose names differ maps them:
 * ldap:'s query_filter becomes query before dict_query_init) */
void	dict_query_cf_set(DICT_QUERY_CF *cf, const char *name, const char *value);
void	dict_query_cf_free(DICT_QUERY_CF *cf);

/* QUOTE_FN - append LEN bytes of TEXT to OUT, quoted for the server */
typedef void (*DICT_QUERY_QUOTE_FN) (VSTRING *out, const char *text, size_t len,
				             void *ctx);

typedef struct DICT_QUERY_DOMAIN DICT_QUERY_DOMAIN;

typedef struct DICT_QUERY {
    DICT   *dict;			/* for messages: type and name */
    char   *query;			/* template */
    char   *result_format;
    long    expansion_limit;		/* 0: none */
    DICT_QUERY_DOMAIN *domains;		/* NULL: every key is looked up */
    int     domain_count;
    VSTRING *query_buf;			/* the expanded query */
    VSTRING *result;
    long    rows;			/* rows in result */
} DICT_QUERY;

/* dict_query_init - from CF; 0, or -1 (warned; dict_query_free still) */
int	dict_query_init(DICT_QUERY *q, DICT *dict, const DICT_QUERY_CF *cf);

/*
 * dict_query_wanted - the domain filter: 1: look KEY up; 0: not; -1: a
 * domain table failed (warned).  Called first, so that a key outside the
 * list costs no connection to a server.
 */
int	dict_query_wanted(DICT_QUERY *q, const char *key);

/*
 * dict_query_expand - the query for KEY into q->query_buf, with the key's
 * parts quoted by QUOTE (NULL: '...' strings with ' doubled); the result
 * is reset.  1: look it up; 0: not (the key lacks a part the query needs)
 */
int	dict_query_expand(DICT_QUERY *q, const char *key, DICT_QUERY_QUOTE_FN quote,
			          void *ctx);
/* dict_query_sql_quote - the default: ' doubled */
void	dict_query_sql_quote(VSTRING *out, const char *text, size_t len, void *ctx);

/*
 * For ldap: dict_query_ldap_filter_quote() escapes a filter's assertion
 * value as RFC 4515 says (* ( ) \ NUL as \2A \28 \29 \5C \00), so that a
 * key cannot widen the search; dict_query_ldap_dn_quote() an attribute
 * value of a DN (RFC 4514: " + , ; < > \ NUL, and # = and blanks wherever
 * they are, as \XX), so that a key cannot add RDNs to a search base.
 */
void	dict_query_ldap_filter_quote(VSTRING *out, const char *text, size_t len,
				             void *ctx);
void	dict_query_ldap_dn_quote(VSTRING *out, const char *text, size_t len,
				         void *ctx);

/*
 * Other templates of a table (ldap:'s search_base), with the escapes of
 * the query: dict_query_template_ok() checks TEXT at open (0: warned,
 * naming it WHAT), dict_query_expand_template() appends TEMPLATE for KEY
 * to OUT, the key's parts through QUOTE (NULL: as they are); 1, or 0 when
 * the key lacks a part it needs.
 */
int	dict_query_template_ok(const DICT *dict, const char *what, const char *text);
int	dict_query_expand_template(const char *template, const char *key,
			               VSTRING *out, DICT_QUERY_QUOTE_FN quote,
				               void *ctx);

/*
 * dict_query_row - one row's VALUE (NULL: SQL NULL, skipped), formatted
 * with result_format and joined with commas; 0, or -1 when the rows
 * exceed expansion_limit (warned)
 */
int	dict_query_row(DICT_QUERY *q, const char *value, const char *key);
/* dict_query_result - the joined rows, or NULL when there were none */
const char *dict_query_result(DICT_QUERY *q);
void	dict_query_free(DICT_QUERY *q);

/*
 * Database servers (pgsql:, mysql:, ldap:): "hosts" entries "host",
 * "host:port", "[v6addr]:port", "inet:host:port", "unix:/path" or a URL
 * "scheme://..." kept whole (separated by blanks or commas).
 * dict_query_connect() tries them as Postfix does: from a random one (or,
 * with ordered set, from the first: ldap:'s server_host is in order of
 * preference), the others in turn; a host that failed within
 * retry_interval only after every other, so that a lookup after a server
 * restart finds it at once.  CONNECT(CTX, HOST) returns 0 when it got a
 * connection; a failure marks the host.  Returns the host's index, or -1.
 */
typedef struct DICT_QUERY_HOST {
    char   *name;			/* host name or address; the path for unix;
					 * the URL */
    char   *port;			/* NULL: the client library's default */
    int     is_unix;
    int     is_url;			/* name is "scheme://..." */
    time_t  dead_until;			/* 0: usable */
} DICT_QUERY_HOST;

typedef struct DICT_QUERY_HOSTS {
    DICT_QUERY_HOST *list;
    int     count;
    int     retry_interval;
    int     ordered;			/* set after init: first host first */
} DICT_QUERY_HOSTS;

/* dict_query_hosts_init - parse LIST (empty: DEF) */
void	dict_query_hosts_init(DICT_QUERY_HOSTS *hosts, const char *list,
			              const char *def, int retry_interval);
int	dict_query_connect(DICT_QUERY_HOSTS *hosts,
			           int (*connect) (void *ctx, DICT_QUERY_HOST *host),
			           void *ctx);
/* dict_query_host_failed - host I failed (a lost connection) */
void	dict_query_host_failed(DICT_QUERY_HOSTS *hosts, int i);
void	dict_query_hosts_free(DICT_QUERY_HOSTS *hosts);

/*
 * dict_query_server_lookup - a lookup as pgsql: and mysql: do it: the
 * domain filter; a connection (CONNECT: 0, or -1 warned); the query,
 * quoted with QUOTE; RUN(CTX, KEY) adds the rows (dict_query_row) and
 * returns 1, or 0 when the server refused the query (warned), or -1 when
 * the connection was lost (warned, closed): then once more on a new one.
 * The result, or NULL with dict->error set when it failed.
 */
typedef struct DICT_QUERY_SERVER {
    int     (*connect) (void *ctx);
    DICT_QUERY_QUOTE_FN quote;
    int     (*run) (void *ctx, const char *key);
} DICT_QUERY_SERVER;

const char *dict_query_server_lookup(DICT_QUERY *q, const char *key,
				             const DICT_QUERY_SERVER *server,
				             void *ctx);

/*
 * dict_query_open - open a query table of a type described by OPS: read
 * the file NAME, allocate OPS->size bytes (a structure that starts with
 * its DICT and has its DICT_QUERY at OPS->query_offset), let NAMES (if
 * any) map the type's own setting names, dict_query_init() and then
 * CONFIGURE (0, or -1 warned).  A failure closes what was made (CLOSE
 * must take a half-made table) and gives dict_fail_open()'s table.
 */
typedef struct DICT_QUERY_OPS {
    size_t  size;
    size_t  query_offset;
    const char *(*lookup) (DICT *dict, const char *key);
    int     (*close) (DICT *dict);
    void    (*names) (DICT_QUERY_CF *cf);	/* NULL: none */
    int     (*configure) (DICT *dict, const DICT_QUERY_CF *cf);
} DICT_QUERY_OPS;

DICT   *dict_query_open(const char *type, const char *name, int flags,
			        const DICT_QUERY_OPS *ops);

/* dict_query_cf_seconds - NAME from CF as 0..86400 seconds, DEF if unset; -1 (warned) */
int	dict_query_cf_seconds(const DICT *dict, const DICT_QUERY_CF *cf,
			              const char *name, int def);

#endif
