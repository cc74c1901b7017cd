/*
 * dict_mysql.c - mysql: tables, Postfix's mysql_table(5), over Debian's
 * MariaDB Connector/C (libmariadb, which speaks to MySQL servers too).
 *
 * dict_open("mysql:/etc/posthorn/mysql-virtual.cf", 0) reads a file with
 * main.cf's syntax:
 *
 *	hosts = db1.example.com db2.example.com:3307 unix:/run/mysqld/mysqld.sock
 *	user = postfix
 *	password = secret
 *	dbname = mail
 *	query = SELECT goto FROM alias WHERE address = '%s' AND active = '1'
 *	result_format, domain, expansion_limit	(as sqlite:, dict_query.h)
 *	connect_timeout = 5		seconds per connection attempt
 *	idle_interval = 60		close a connection idle this long
 *	retry_interval = 60		leave a failed host alone this long
 *	charset = utf8mb4		the connection's character set
 *
 * hosts (default localhost) are "host", "host:port", "inet:host:port" or
 * "unix:/path/of/the/socket", tried as dict_query_connect() says: from a
 * random one, a host that failed skipped for retry_interval seconds
 * while another is usable.  As pgsql:, a connection is kept, closed after
 * idle_interval, replaced when the server went away (the lookup is then
 * retried once), and every failure fails the lookup with ->error set, so
 * the caller defers.  Keys are quoted with mysql_real_escape_string().
 */
#include "sys_defs.h"
#include <time.h>
#include <mysql.h>
#include <errmsg.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"
#include "dict_private.h"
#include "dict_query.h"

typedef struct DICT_MYSQL {
    DICT    dict;			/* must be first */
    DICT_QUERY query;
    DICT_QUERY_HOSTS hosts;
    char   *user;
    char   *password;
    char   *dbname;
    char   *charset;
    unsigned connect_timeout;
    int     idle_interval;
    MYSQL  *conn;			/* NULL: none open */
    int     conn_host;
    time_t  last_used;
} DICT_MYSQL;

/* mysql_setting - NAME from CF, or DEF */

static char *mysql_setting(const DICT_QUERY_CF *cf, const char *name, const char *def)
{
    const char *value = dict_query_cf_get(cf, name);

    return (mystrdup(value ? value : def));
}

/* mysql_configure - DM from CF; 0, or -1 (warned) */

static int mysql_configure(DICT_MYSQL *dm, const DICT_QUERY_CF *cf)
{
    int     timeout;
    int     retry;

    dm->dbname = mysql_setting(cf, "dbname", "");
    if (*dm->dbname == 0) {
	msg_warn("mysql map %s: dbname is not set", dm->dict.name);
	return (-1);
    }
    dm->user = mysql_setting(cf, "user", "");
    dm->password = mysql_setting(cf, "password", "");
    dm->charset = mysql_setting(cf, "charset", "utf8mb4");
    if ((timeout = dict_query_cf_seconds(&dm->dict, cf, "connect_timeout", 5)) < 0
	|| (dm->idle_interval = dict_query_cf_seconds(&dm->dict, cf, "idle_interval", 60)) < 0
	|| (retry = dict_query_cf_seconds(&dm->dict, cf, "retry_interval", 60)) < 0)
	return (-1);
    dm->connect_timeout = timeout > 0 ? timeout : 1;
    dict_query_hosts_init(&dm->hosts, dict_query_cf_get(cf, "hosts"), "localhost", retry);
    return (0);
}

/* mysql_error_text - the connection's last error, printable */

static const char *mysql_error_text(DICT_MYSQL *dm, VSTRING *buf)
{
    const char *text = dm->conn ? mysql_error(dm->conn) : "out of memory";

    vstring_reset(buf);
    return (STR(printable_cat(buf, text, strlen(text), '?')));
}

static void mysql_disconnect(DICT_MYSQL *dm)
{
    if (dm->conn) {
	mysql_close(dm->conn);
	dm->conn = 0;
    }
}

/* mysql_connect_host - dict_query_connect() callback: a connection to H */

static int mysql_connect_host(void *ctx, DICT_QUERY_HOST *h)
{
    DICT_MYSQL *dm = ctx;
    unsigned port = h->port ? (unsigned) atoi(h->port) : 0;
    VSTRING *why;

    if ((dm->conn = mysql_init((MYSQL *) 0)) == 0) {
	msg_warn("dict_mysql: %s: out of memory", dm->dict.name);
	return (-1);
    }
    (void) mysql_options(dm->conn, MYSQL_OPT_CONNECT_TIMEOUT, &dm->connect_timeout);
    (void) mysql_options(dm->conn, MYSQL_OPT_READ_TIMEOUT, &dm->connect_timeout);
    (void) mysql_options(dm->conn, MYSQL_OPT_WRITE_TIMEOUT, &dm->connect_timeout);
    (void) mysql_options(dm->conn, MYSQL_SET_CHARSET_NAME, dm->charset);
    if (mysql_real_connect(dm->conn, h->is_unix ? "localhost" : h->name,
			   *dm->user ? dm->user : 0, dm->password, dm->dbname,
			   port, h->is_unix ? h->name : 0, 0) != 0)
	return (0);
    why = vstring_alloc(100);
    msg_warn("dict_mysql: %s: cannot connect to %s%s%s: %s", dm->dict.name,
	     h->name, h->port ? ":" : "", h->port ? h->port : "",
	     mysql_error_text(dm, why));
    vstring_free(why);
    mysql_disconnect(dm);
    return (-1);
}

/* mysql_connect - the connection kept (unless idle too long), or a new one */

static int mysql_connect(DICT_MYSQL *dm)
{
    time_t  now = time((time_t *) 0);

    if (dm->conn && dm->idle_interval > 0 && now - dm->last_used > dm->idle_interval)
	mysql_disconnect(dm);
    if (dm->conn)
	return (0);
    return ((dm->conn_host = dict_query_connect(&dm->hosts, mysql_connect_host, dm)) < 0 ?
	    -1 : 0);
}

/* mysql_quote - DICT_QUERY_QUOTE_FN: mysql_real_escape_string */

static void mysql_quote(VSTRING *out, const char *text, size_t len, void *ctx)
{
    DICT_MYSQL *dm = ctx;
    char   *quoted = mymalloc(2 * len + 1);
    unsigned long n;

    n = mysql_real_escape_string(dm->conn, quoted, text, (unsigned long) len);
    if (n != (unsigned long) -1)
	vstring_memcat(out, quoted, n);
    myfree(quoted);
}

/* mysql_lost - the last error means the connection is gone */

static int mysql_lost(DICT_MYSQL *dm)
{
    unsigned err = mysql_errno(dm->conn);

    return (err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST
	    || err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR);
}

/*
 * mysql_run - run the expanded query; 1: rows in the result; 0: the server
 * refused it (warned); -1: the connection failed (warned, closed)
 */
static int mysql_run(DICT_MYSQL *dm, const char *key)
{
    MYSQL_RES *res = 0;
    MYSQL_ROW row;
    int     ret = 1;

    if (mysql_real_query(dm->conn, STR(dm->query.query_buf), LEN(dm->query.query_buf)) != 0
	|| (res = mysql_store_result(dm->conn)) == 0) {
	int     lost = mysql_lost(dm);
	VSTRING *why = vstring_alloc(100);

	msg_warn("dict_mysql: %s: query failed%s: %s", dm->dict.name,
		 lost ? " (connection lost)" : "", mysql_error_text(dm, why));
	vstring_free(why);
	if (lost) {
	    dict_query_host_failed(&dm->hosts, dm->conn_host);
	    mysql_disconnect(dm);
	}
	return (lost ? -1 : 0);
    }
    if (mysql_num_fields(res) > 0) {
	while ((row = mysql_fetch_row(res)) != 0) {
	    if (dict_query_row(&dm->query, row[0], key) < 0) {
		ret = 0;
		break;
	    }
	}
    }
    mysql_free_result(res);
    return (ret);
}

/* mysql_connect_cb, mysql_run_cb - dict_query_server_lookup() callbacks */

static int mysql_connect_cb(void *ctx)
{
    DICT_MYSQL *dm = ctx;

    if (mysql_connect(dm) < 0)
	return (-1);
    dm->last_used = time((time_t *) 0);
    return (0);
}

static int mysql_run_cb(void *ctx, const char *key)
{
    return (mysql_run((DICT_MYSQL *) ctx, key));
}

static const char *dict_mysql_lookup(DICT *dict, const char *key)
{
    static const DICT_QUERY_SERVER server = {
	mysql_connect_cb, mysql_quote, mysql_run_cb,
    };
    DICT_MYSQL *dm = (DICT_MYSQL *) dict;

    return (dict_query_server_lookup(&dm->query, key, &server, dm));
}

static int dict_mysql_close(DICT *dict)
{
    DICT_MYSQL *dm = (DICT_MYSQL *) dict;

    mysql_disconnect(dm);
    dict_query_hosts_free(&dm->hosts);
    if (dm->user)
	myfree(dm->user);
    if (dm->password)
	myfree(dm->password);
    if (dm->dbname)
	myfree(dm->dbname);
    if (dm->charset)
	myfree(dm->charset);
    dict_query_free(&dm->query);
    dict_free(dict);
    return (0);
}

static int dict_mysql_configure(DICT *dict, const DICT_QUERY_CF *cf)
{
    return (mysql_configure((DICT_MYSQL *) dict, cf));
}

DICT   *dict_mysql_open(const char *type, const char *name, int flags)
{
    static const DICT_QUERY_OPS ops = {
	sizeof(DICT_MYSQL), offsetof(DICT_MYSQL, query),
	dict_mysql_lookup, dict_mysql_close, 0, dict_mysql_configure,
    };

    return (dict_query_open(type, name, flags, &ops));
}
