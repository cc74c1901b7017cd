/*
 * test_dict_sqlite.c - unit tests for lib/tables/dict_sqlite.c (sqlite:
 * tables, Postfix's sqlite_table(5)).
 *
 * A small database is made with the SQLite library; each test writes a
 * configuration file and looks keys up: %s, %u, %d, %1..%9 in the query
 * (SQL quoting, keys that lack a part are not looked up), result_format
 * with its upper-case escapes, rows joined with commas, NULL and empty
 * values, the domain list, expansion_limit, the older table/select_field
 * settings, and bad input: bad templates, a missing dbpath, lines that
 * are not "name = value", binary junk, a missing database or table.
 * A bad configuration gives a table whose lookups fail, never a crash.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_fixture.h"

static const char *db_path;

/* open_conf - write a configuration with "dbpath = DB" and TEXT after it */

static DICT *open_conf(const char *name, const char *text)
{
    VSTRING *conf = vstring_alloc(200);
    DICT   *dict;

    vstring_sprintf(conf, "# test configuration\ndbpath = %s\n%s", db_path, text);
    dict = fixture_open("sqlite", name, STR(conf), LEN(conf), DICT_FLAG_FOLD_KEY);
    vstring_free(conf);
    return (dict);
}

static int setup(void **state)
{
    static const char sql[] =
	"CREATE TABLE m (k TEXT, v TEXT);"
	"INSERT INTO m VALUES ('a@example.com', 'A'), ('multi', 'one'),"
	" ('multi', 'two'), ('multi', 'three'), ('nullv', NULL), ('empty', ''),"
	" ('mixed', ''), ('mixed', 'x'), ('mixed', NULL), ('mixed', 'y'),"
	" ('o''brien', 'quoted'), ('example.com', 'dom'), ('user', 'local'),"
	" ('com', 'tld'), ('a', 'alpha@beta.example.org'), ('u2', 'plain');";
    sqlite3 *db;

    (void) state;
    if (fixture_setup("test_dict_sqlite") < 0)
	return (-1);
    db_path = strdup(fixture_path("test.sqlite"));
    if (sqlite3_open(db_path, &db) != SQLITE_OK
	|| sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK)
	return (-1);
    sqlite3_close(db);
    return (0);
}

static int teardown(void **state)
{
    (void) state;
    free((void *) db_path);
    return (fixture_teardown());
}

static void test_query(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("query", "query = SELECT v FROM m\n  WHERE k = '%s'\n");
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "A@Example.com"), "A");
    assert_string_equal(dict_lookup(dict, "multi"), "one,two,three");
    assert_null(dict_lookup(dict, "nullv"));
    assert_null(dict_lookup(dict, "empty"));
    assert_true(log_has("empty lookup result for: \"empty\" -- ignored"));
    assert_string_equal(dict_lookup(dict, "mixed"), "x,y");
    assert_string_equal(dict_lookup(dict, "o'brien"), "quoted");
    assert_null(dict_lookup(dict, "x' OR '1'='1"));	/* quoted: no row */
    assert_int_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "nothing"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_key_parts(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("parts", "query = SELECT v FROM m WHERE k='%1' OR k='%u'\n");
    assert_string_equal(dict_lookup(dict, "user@com"), "local,tld");
    assert_null(dict_lookup(dict, "example.com"));	/* %1 needs a domain */
    assert_null(dict_lookup(dict, "@com"));		/* %u needs a local part */
    assert_null(dict_lookup(dict, "user"));
    dict_close(dict);
    dict = open_conf("labels", "query = SELECT v FROM m WHERE k='%2.%1'\n");
    assert_string_equal(dict_lookup(dict, "x@sub.example.com"), "dom");
    assert_null(dict_lookup(dict, "x@com"));		/* too few labels */
    dict_close(dict);
    dict = open_conf("domain-part", "query = SELECT v FROM m WHERE k='%d'\n");
    assert_string_equal(dict_lookup(dict, "x@example.com"), "dom");
    assert_null(dict_lookup(dict, "x@"));
    assert_null(dict_lookup(dict, "example.com"));
    dict_close(dict);
}

static void test_result_format(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("format", "query = SELECT v FROM m WHERE k='%u'\n"
		     "result_format = [%s|%S|%u|%U|%d|%D|%1|%2|%%]\n");
    assert_string_equal(dict_lookup(dict, "a@example.com"),
	   "[alpha@beta.example.org|a@example.com|alpha|a|beta.example.org|example.com|com|example|%]");
    assert_null(dict_lookup(dict, "u2@example.com"));	/* "plain" has no %d */
    dict_close(dict);
    dict = open_conf("format2", "query = SELECT v FROM m WHERE k='%u'\n"
		     "result_format = smtp:[%s] for %U\n");
    assert_string_equal(dict_lookup(dict, "multi@x.org"),
			"smtp:[one] for multi,smtp:[two] for multi,smtp:[three] for multi");
    dict_close(dict);
}

static void test_domain_and_limit(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("domain", "query = SELECT v FROM m WHERE k='%u'\n"
		     "domain = Example.COM, !blocked.example, inline:{other.org=yes}\n");
    assert_string_equal(dict_lookup(dict, "a@example.com"), "alpha@beta.example.org");
    assert_string_equal(dict_lookup(dict, "a@Other.org"), "alpha@beta.example.org");
    assert_null(dict_lookup(dict, "a@blocked.example"));
    assert_null(dict_lookup(dict, "a@sub.example.com"));
    assert_null(dict_lookup(dict, "a"));		/* not local@domain */
    assert_null(dict_lookup(dict, "@example.com"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
    dict = open_conf("limit", "query = SELECT v FROM m WHERE k='%s'\n"
		     "expansion_limit = 2\n");
    assert_string_equal(dict_lookup(dict, "mixed"), "x,y");
    assert_int_equal(dict->error, 0);
    log_forget();
    assert_null(dict_lookup(dict, "multi"));
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("Expansion limit exceeded for key 'multi'"));
    assert_string_equal(dict_lookup(dict, "a@example.com"), "A");
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_legacy_settings(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("legacy", "table = m\nselect_field = v\nwhere_field = k\n"
		     "additional_conditions = and v != 'two'\n");
    assert_string_equal(dict_lookup(dict, "multi"), "one,three");
    dict_close(dict);
    dict = open_conf("legacy-bad", "table = m\nselect_field = v\n");
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("neither query nor where_field is set"));
    dict_close(dict);
}

static void test_bad_configs(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("template", "query = SELECT v FROM m WHERE k='%x'\n");
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("invalid query template: SELECT v FROM m WHERE k='%x'"));
    assert_null(dict_lookup(dict, "a"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    dict = open_conf("format", "query = SELECT v FROM m WHERE k='%s'\nresult_format = 50%\n");
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("invalid result_format template: 50%"));
    dict_close(dict);
    dict = open_conf("limit", "query = SELECT v FROM m WHERE k='%s'\nexpansion_limit = lots\n");
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("bad expansion_limit: lots"));
    dict_close(dict);
    dict = FIXTURE_OPEN("sqlite", "nodb", "query = SELECT 1\n", 0);
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("dbpath is not set"));
    dict_close(dict);
    dict = FIXTURE_OPEN("sqlite", "missingdb", "dbpath = /nonexistent/db.sqlite\n"
			"query = SELECT v FROM m WHERE k='%s'\n", 0);
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("open database /nonexistent/db.sqlite: unable to open database file"));
    dict_close(dict);
    dict = dict_open("sqlite:/nonexistent/sqlite.cf", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
}

static void test_junk_lines(void **state)
{
    static const char junk[] = "\x01\x02\xff no equals sign\n= no name\n"
	"query = SELECT v FROM m WHERE k='%s'\nother_name = ignored\n"
	"query = SELECT v FROM m WHERE k='%s' AND v != 'two'\n";
    DICT   *dict;

    (void) state;
    dict = open_conf("junk", junk);
    assert_int_equal(dict->error, 0);
    assert_true(log_has("/junk, line 3: expected format: name = value -- ignoring this line"));
    assert_true(log_has("/junk, line 4: expected format: name = value"));
    /* a later setting wins */
    assert_string_equal(dict_lookup(dict, "multi"), "one,three");
    dict_close(dict);
}

static void test_query_errors(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_conf("notable", "query = SELECT v FROM nosuchtable WHERE k='%s'\n");
    assert_int_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "a"));
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("SQL prepare failed: no such table: nosuchtable"));
    dict_close(dict);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_query),
	cmocka_unit_test(test_key_parts),
	cmocka_unit_test(test_result_format),
	cmocka_unit_test(test_domain_and_limit),
	cmocka_unit_test(test_legacy_settings),
	cmocka_unit_test(test_bad_configs),
	cmocka_unit_test(test_junk_lines),
	cmocka_unit_test(test_query_errors),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
