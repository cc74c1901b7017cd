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
 * whose lookups fail (warned), never a daemon that dies.  The file, the
 * templates and the result handling are dict_query.c's, shared with
 * pgsql:.
 */
#include "sys_defs.h"
#include <sqlite3.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict_private.h"
#include "dict_query.h"

#define SQLITE_BUSY_MS	5000		/* wait for a writer's lock at most this */

typedef struct DICT_SQLITE {
    DICT    dict;			/* must be first */
    sqlite3 *db;
    DICT_QUERY query;
} DICT_SQLITE;

/* sqlite_run - the prepared query's rows into the result; 0, or -1 (warned) */

static int sqlite_run(DICT_SQLITE *ds, sqlite3_stmt *stmt, const char *key)
{
    int     status;

    while ((status = sqlite3_step(stmt)) == SQLITE_ROW)
	if (dict_query_row(&ds->query, (const char *) sqlite3_column_text(stmt, 0),
			   key) < 0)
	    return (-1);
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
    if ((status = dict_query_wanted(&ds->query, key)) <= 0) {
	if (status < 0)
	    dict->error = DICT_ERR_RETRY;
	return (0);
    }
    if (dict_query_expand(&ds->query, key, 0, 0) == 0)
	return (0);
    if (sqlite3_prepare_v2(ds->db, STR(ds->query.query_buf), -1, &stmt, 0) != SQLITE_OK) {
	msg_warn("dict_sqlite_lookup: %s: SQL prepare failed: %s", dict->name,
		 sqlite3_errmsg(ds->db));
	dict->error = DICT_ERR_RETRY;
	return (0);
    }
    if (sqlite_run(ds, stmt, key) < 0)
	dict->error = DICT_ERR_RETRY;
    (void) sqlite3_finalize(stmt);
    return (dict->error == 0 ? dict_query_result(&ds->query) : 0);
}

static int dict_sqlite_close(DICT *dict)
{
    DICT_SQLITE *ds = (DICT_SQLITE *) dict;

    if (ds->db)
	(void) sqlite3_close(ds->db);
    dict_query_free(&ds->query);
    dict_free(dict);
    return (0);
}

/* sqlite_open_db - the database, read-only; 0, or -1 (warned) */

static int sqlite_open_db(DICT_SQLITE *ds, const char *path)
{
    if (path == 0 || *path == 0) {
	msg_warn("sqlite map %s: dbpath is not set", ds->dict.name);
	return (-1);
    }
    if (sqlite3_open_v2(path, &ds->db, SQLITE_OPEN_READONLY, 0) != SQLITE_OK) {
	msg_warn("sqlite map %s: open database %s: %s", ds->dict.name, path,
		 ds->db ? sqlite3_errmsg(ds->db) : "out of memory");
	return (-1);
    }
    (void) sqlite3_busy_timeout(ds->db, SQLITE_BUSY_MS);
    return (0);
}

static int dict_sqlite_configure(DICT *dict, const DICT_QUERY_CF *cf)
{
    return (sqlite_open_db((DICT_SQLITE *) dict, dict_query_cf_get(cf, "dbpath")));
}

DICT   *dict_sqlite_open(const char *type, const char *name, int flags)
{
    static const DICT_QUERY_OPS ops = {
	sizeof(DICT_SQLITE), offsetof(DICT_SQLITE, query),
	dict_sqlite_lookup, dict_sqlite_close, 0, dict_sqlite_configure,
    };

    return (dict_query_open(type, name, flags, &ops));
}
