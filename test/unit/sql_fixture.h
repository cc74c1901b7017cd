/*
 * sql_fixture.h - unit tests that the database-server tables (pgsql:,
 * mysql:) share and that need no server: configuration errors give a
 * table whose lookups fail (warned), and a lookup that no host answers
 * fails with ->error set (the caller defers) after trying every host of
 * the list.  test/integration/test_sql_tables.py runs the same code
 * against real servers.  Include after "dict_fixture.h" and set sql_kind
 * ("pgsql", "mysql") before the tests run.
 */
#ifndef SQL_FIXTURE_H
#define SQL_FIXTURE_H

#include <sys/socket.h>
#include <netinet/in.h>

static const char *sql_kind;

/* dead_port - a 127.0.0.1 port where nothing listens (bound, then closed) */

static int dead_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     fd = socket(AF_INET, SOCK_STREAM, 0);
    int     port;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    return (port);
}

static void test_bad_configuration(void **state)
{
    VSTRING *name = vstring_alloc(100);
    DICT   *dict;

    dict = FIXTURE_OPEN(sql_kind, "nodb", "hosts = localhost\nquery = SELECT 1\n", 0);
    assert_null(dict_lookup(dict, "key"));
    assert_true(dict->error != 0);
    assert_true(log_has(" map "));
    assert_true(log_has("dbname is not set"));
    dict_close(dict);

    dict = FIXTURE_OPEN(sql_kind, "badnum", "dbname = d\nquery = SELECT 1\n"
			"connect_timeout = 5s\n", 0);
    assert_null(dict_lookup(dict, "key"));
    assert_true(dict->error != 0);
    assert_true(log_has("bad connect_timeout: 5s"));
    dict_close(dict);

    dict = FIXTURE_OPEN(sql_kind, "badtpl", "dbname = d\nquery = SELECT '%z'\n", 0);
    assert_true(dict->error != 0);
    assert_true(log_has("invalid query template: SELECT '%z'"));
    dict_close(dict);

    dict = FIXTURE_OPEN(sql_kind, "junk", "dbname = d\nquery = SELECT 1\n\001\002 junk\n", 0);
    assert_true(log_has("junk, line 3: expected format: name = value"));
    dict_close(dict);

    vstring_sprintf(name, "%s:/nonexistent/table.cf", sql_kind);
    dict = dict_open(STR(name), 0);
    assert_null(dict_lookup(dict, "key"));
    assert_true(dict->error != 0);
    dict_close(dict);
    vstring_free(name);
}

static void test_no_server_answers(void **state)
{
    VSTRING *conf = vstring_alloc(200);
    DICT   *dict;
    int     a = dead_port();
    int     b = dead_port();

    vstring_sprintf(conf, "hosts = inet:127.0.0.1:%d, 127.0.0.1:%d\n"
		    "dbname = mail\nuser = u\npassword = p\nconnect_timeout = 1\n"
		    "query = SELECT v FROM t WHERE k = '%%s'\n", a, b);
    dict = fixture_open(sql_kind, "dead", STR(conf), LEN(conf), 0);
    assert_int_equal(dict->error, 0);		/* opening does not connect */
    assert_null(dict_lookup(dict, "key@example.com"));
    assert_true(dict->error != 0);
    vstring_sprintf(conf, "cannot connect to 127.0.0.1:%d", a);
    assert_true(log_has(STR(conf)));
    vstring_sprintf(conf, "cannot connect to 127.0.0.1:%d", b);
    assert_true(log_has(STR(conf)));
    assert_true(log_has("no database server answers"));
    /* both failed: the next lookup tries them again rather than give up */
    log_forget();
    assert_null(dict_lookup(dict, "key@example.com"));
    assert_true(dict->error != 0);
    assert_true(log_has(STR(conf)));
    /* keys outside the domain list are not looked up: no error */
    dict_close(dict);
    vstring_sprintf(conf, "hosts = 127.0.0.1:%d\ndbname = mail\ndomain = example.com\n"
		    "query = SELECT 1\n", a);
    dict = fixture_open(sql_kind, "domain", STR(conf), LEN(conf), 0);
    assert_null(dict_lookup(dict, "key@other.test"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
    vstring_free(conf);
}

#endif
