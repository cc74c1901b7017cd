/*
 * dict_pgsql.c - pgsql: tables, Postfix's pgsql_table(5), over libpq.
 *
 * dict_open("pgsql:/etc/posthorn/pgsql-virtual.cf", 0) reads a file with
 * main.cf's syntax:
 *
 *	hosts = db1.example.com db2.example.com:5433 unix:/run/postgresql
 *	user = postfix
 *	password = secret
 *	dbname = mail
 *	query = SELECT goto FROM alias WHERE address = '%s' AND active
 *	result_format, domain, expansion_limit	(as sqlite:, dict_query.h)
 *	connect_timeout = 5		seconds per connection attempt
 *	idle_interval = 60		close a connection idle this long
 *	retry_interval = 60		leave a failed host alone this long
 *	encoding = UTF8			the client encoding
 *
 * hosts (default localhost) are "host", "host:port", "inet:host:port"
 * or "unix:/directory" (of the server's socket), tried as
 * dict_query_connect() says: from a random one, a host that failed
 * skipped for retry_interval seconds while another is usable.  A
 * connection is kept for the next lookups, closed after idle_interval
 * idle seconds, and replaced when the server closed it (the lookup is
 * retried once on another connection).  A lookup that no host can answer,
 * or a query the server refuses, fails with ->error set: the caller
 * defers (4xx), never bounces.  Keys are quoted with
 * PQescapeStringConn() for the connection's encoding.
 */
#include "sys_defs.h"
#include <time.h>
#include <libpq-fe.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"
#include "dict_private.h"
#include "dict_query.h"

typedef struct DICT_PGSQL {
    DICT    dict;			/* must be first */
    DICT_QUERY query;
    DICT_QUERY_HOSTS hosts;
    char   *user;
    char   *password;
    char   *dbname;
    char   *encoding;
    char   *connect_timeout;		/* seconds, as text for libpq */
    int     idle_interval;
    PGconn *conn;			/* NULL: none open */
    int     conn_host;			/* index of its host */
    time_t  last_used;
} DICT_PGSQL;

/* pgsql_setting - NAME from CF, or DEF */

static char *pgsql_setting(const DICT_QUERY_CF *cf, const char *name, const char *def)
{
    const char *value = dict_query_cf_get(cf, name);

    return (mystrdup(value ? value : def));
}

/* pgsql_configure - DP from CF; 0, or -1 (warned) */

static int pgsql_configure(DICT_PGSQL *dp, const DICT_QUERY_CF *cf)
{
    int     timeout;
    int     retry;

    dp->dbname = pgsql_setting(cf, "dbname", "");
    if (*dp->dbname == 0) {
	msg_warn("pgsql map %s: dbname is not set", dp->dict.name);
	return (-1);
    }
    dp->user = pgsql_setting(cf, "user", "");
    dp->password = pgsql_setting(cf, "password", "");
    dp->encoding = pgsql_setting(cf, "encoding", "UTF8");
    if ((timeout = dict_query_cf_seconds(&dp->dict, cf, "connect_timeout", 5)) < 0
	|| (dp->idle_interval = dict_query_cf_seconds(&dp->dict, cf, "idle_interval", 60)) < 0
	|| (retry = dict_query_cf_seconds(&dp->dict, cf, "retry_interval", 60)) < 0)
	return (-1);
    dict_query_hosts_init(&dp->hosts, dict_query_cf_get(cf, "hosts"), "localhost", retry);
    dp->connect_timeout = mymalloc(16);
    snprintf(dp->connect_timeout, 16, "%d", timeout > 0 ? timeout : 1);
    return (0);
}

/* pgsql_error - libpq's last message on one line, printable */

static const char *pgsql_error(DICT_PGSQL *dp, VSTRING *buf)
{
    const char *text = dp->conn ? PQerrorMessage(dp->conn) : "out of memory";
    VSTRING *line = vstring_alloc(100);

    for (const char *cp = text; *cp; cp++) {	/* its lines, joined */
	if (*cp == '\n' || *cp == '\t' || *cp == ' ') {
	    if (LEN(line) > 0 && STR(line)[LEN(line) - 1] != ' ')
		vstring_addch(line, ' ');
	} else {
	    vstring_addch(line, *cp);
	}
    }
    if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == ' ')
	vstring_truncate(line, LEN(line) - 1);
    vstring_reset(buf);
    printable_cat(buf, STR(line), LEN(line), '?');
    vstring_free(line);
    return (STR(buf));
}

/* pgsql_disconnect - close the connection, if any */

static void pgsql_disconnect(DICT_PGSQL *dp)
{
    if (dp->conn) {
	PQfinish(dp->conn);
	dp->conn = 0;
    }
}

/* pgsql_connect_host - dict_query_connect() callback: a connection to H */

static int pgsql_connect_host(void *ctx, DICT_QUERY_HOST *h)
{
    DICT_PGSQL *dp = ctx;
    const char *keys[9];
    const char *values[9];
    VSTRING *why;
    int     n = 0;

    keys[n] = "host", values[n++] = h->name;	/* a socket directory too */
    if (h->port)
	keys[n] = "port", values[n++] = h->port;
    keys[n] = "dbname", values[n++] = dp->dbname;
    if (*dp->user)
	keys[n] = "user", values[n++] = dp->user;
    if (*dp->password)
	keys[n] = "password", values[n++] = dp->password;
    keys[n] = "connect_timeout", values[n++] = dp->connect_timeout;
    keys[n] = "client_encoding", values[n++] = dp->encoding;
    keys[n] = 0, values[n] = 0;
    dp->conn = PQconnectdbParams(keys, values, 0);
    if (dp->conn != 0 && PQstatus(dp->conn) == CONNECTION_OK)
	return (0);
    why = vstring_alloc(100);
    msg_warn("dict_pgsql: %s: cannot connect to %s%s%s: %s", dp->dict.name,
	     h->name, h->port ? ":" : "", h->port ? h->port : "",
	     pgsql_error(dp, why));
    vstring_free(why);
    pgsql_disconnect(dp);
    return (-1);
}

/*
 * pgsql_connect - a connection: the one kept (unless idle too long or
 * broken), or a new one (dict_query_connect); 0, or -1 (warned)
 */
static int pgsql_connect(DICT_PGSQL *dp)
{
    time_t  now = time((time_t *) 0);

    if (dp->conn && dp->idle_interval > 0 && now - dp->last_used > dp->idle_interval)
	pgsql_disconnect(dp);
    if (dp->conn && PQstatus(dp->conn) != CONNECTION_OK)
	pgsql_disconnect(dp);
    if (dp->conn)
	return (0);
    return ((dp->conn_host = dict_query_connect(&dp->hosts, pgsql_connect_host, dp)) < 0 ?
	    -1 : 0);
}

/* pgsql_quote - DICT_QUERY_QUOTE_FN: PQescapeStringConn */

static void pgsql_quote(VSTRING *out, const char *text, size_t len, void *ctx)
{
    DICT_PGSQL *dp = ctx;
    char   *quoted = mymalloc(2 * len + 1);
    int     err = 0;
    size_t  n;

    n = PQescapeStringConn(dp->conn, quoted, text, len, &err);
    if (err) {					/* invalid for the encoding */
	VSTRING *why = vstring_alloc(100);

	msg_warn("dict_pgsql: %s: cannot quote a key: %s", dp->dict.name,
		 pgsql_error(dp, why));
	vstring_free(why);
	n = 0;
    }
    vstring_memcat(out, quoted, n);
    myfree(quoted);
}

/*
 * pgsql_query - run the expanded query; 1: rows in the result; 0: the
 * server refused it (warned); -1: the connection failed (warned, closed)
 */
static int pgsql_query(DICT_PGSQL *dp, const char *key)
{
    PGresult *res = PQexec(dp->conn, STR(dp->query.query_buf));
    int     ret = 1;

    if (res == 0 || PQresultStatus(res) != PGRES_TUPLES_OK) {
	int     lost = (PQstatus(dp->conn) != CONNECTION_OK);

	VSTRING *why = vstring_alloc(100);

	msg_warn("dict_pgsql: %s: query failed%s: %s", dp->dict.name,
		 lost ? " (connection lost)" : "", pgsql_error(dp, why));
	vstring_free(why);
	if (lost) {
	    dict_query_host_failed(&dp->hosts, dp->conn_host);
	    pgsql_disconnect(dp);
	}
	ret = lost ? -1 : 0;
    } else {
	for (int row = 0; row < PQntuples(res); row++) {
	    if (PQgetisnull(res, row, 0))
		continue;
	    if (dict_query_row(&dp->query, PQgetvalue(res, row, 0), key) < 0) {
		ret = 0;
		break;
	    }
	}
    }
    if (res)
	PQclear(res);
    return (ret);
}

/* pgsql_connect_cb, pgsql_run_cb - dict_query_server_lookup() callbacks */

static int pgsql_connect_cb(void *ctx)
{
    DICT_PGSQL *dp = ctx;

    if (pgsql_connect(dp) < 0)
	return (-1);
    dp->last_used = time((time_t *) 0);
    return (0);
}

static int pgsql_run_cb(void *ctx, const char *key)
{
    return (pgsql_query((DICT_PGSQL *) ctx, key));
}

static const char *dict_pgsql_lookup(DICT *dict, const char *key)
{
    static const DICT_QUERY_SERVER server = {
	pgsql_connect_cb, pgsql_quote, pgsql_run_cb,
    };
    DICT_PGSQL *dp = (DICT_PGSQL *) dict;

    return (dict_query_server_lookup(&dp->query, key, &server, dp));
}

static int dict_pgsql_close(DICT *dict)
{
    DICT_PGSQL *dp = (DICT_PGSQL *) dict;

    pgsql_disconnect(dp);
    dict_query_hosts_free(&dp->hosts);
    if (dp->user)
	myfree(dp->user);
    if (dp->password)
	myfree(dp->password);
    if (dp->dbname)
	myfree(dp->dbname);
    if (dp->encoding)
	myfree(dp->encoding);
    if (dp->connect_timeout)
	myfree(dp->connect_timeout);
    dict_query_free(&dp->query);
    dict_free(dict);
    return (0);
}

static int dict_pgsql_configure(DICT *dict, const DICT_QUERY_CF *cf)
{
    return (pgsql_configure((DICT_PGSQL *) dict, cf));
}

DICT   *dict_pgsql_open(const char *type, const char *name, int flags)
{
    static const DICT_QUERY_OPS ops = {
	sizeof(DICT_PGSQL), offsetof(DICT_PGSQL, query),
	dict_pgsql_lookup, dict_pgsql_close, 0, dict_pgsql_configure,
    };

    return (dict_query_open(type, name, flags, &ops));
}
