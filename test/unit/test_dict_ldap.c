/*
 * test_dict_ldap.c - unit tests for lib/tables/dict_ldap.c (ldap: tables,
 * Postfix's ldap_table(5), over libldap) and the parts of dict_query.c
 * it adds: the tests that need no server.
 *
 * The escapes of a key in a filter (RFC 4515) and in a search base (RFC
 * 4514), other templates expanded; configuration errors give a table
 * whose lookups fail (warned); server_host entries become URLs (server_port
 * for those without a port, ldapi:// for unix:) and are tried in order;
 * a lookup that no server answers fails with ->error set (the caller
 * defers) and is tried again next time; keys outside "domain", or not
 * UTF-8, are not looked up.  test/integration/test_ldap_tables.py runs
 * the tables against a real slapd.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_private.h"
#include "dict_query.h"
#include "dict_fixture.h"

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

/* log_at - where TEXT is in the log since the last open, or -1 */

static long log_at(const char *text)
{
    static char buf[1 << 16];
    FILE   *fp = fopen(STR(fixture_log), "r");
    size_t  n;
    char   *hit;

    if (fp == 0)
	return (-1);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return ((hit = strstr(buf, text)) != 0 ? hit - buf : -1);
}

/* quoted - TEXT (LEN bytes) through QUOTE */

static const char *quoted(DICT_QUERY_QUOTE_FN quote, const char *text, size_t len)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_reset(buf);
    quote(buf, text, len, 0);
    return (STR(buf));
}

#define QUOTED(fn, lit)	quoted((fn), (lit), sizeof(lit) - 1)

static void test_escapes(void **state)
{
    VSTRING *out = vstring_alloc(100);

    /* RFC 4515: * ( ) \ NUL, and nothing else */
    assert_string_equal(QUOTED(dict_query_ldap_filter_quote, "a*b(c)d\\e"),
			"a\\2Ab\\28c\\29d\\5Ce");
    assert_string_equal(QUOTED(dict_query_ldap_filter_quote, "x\0y"), "x\\00y");
    assert_string_equal(QUOTED(dict_query_ldap_filter_quote, "o'k=+,#@\xc3\xa9.test"),
			"o'k=+,#@\xc3\xa9.test");
    /* RFC 4514: " + , ; < > \ NUL, and # = blanks wherever they are */
    assert_string_equal(QUOTED(dict_query_ldap_dn_quote, "a,ou=x+cn=y"),
			"a\\2Cou\\3Dx\\2Bcn\\3Dy");
    assert_string_equal(QUOTED(dict_query_ldap_dn_quote, " #\"<>;\\ \t"),
			"\\20\\23\\22\\3C\\3E\\3B\\5C\\20\\09");
    assert_string_equal(QUOTED(dict_query_ldap_dn_quote, "plain.user-1*()"),
			"plain.user-1*()");

    /* other templates: the parts of the key, quoted by the caller's function */
    assert_int_equal(dict_query_expand_template("uid=%u,ou=%d,%1,%%",
			      "a,b@ex=1.test", out, dict_query_ldap_dn_quote, 0), 1);
    assert_string_equal(STR(out), "uid=a\\2Cb,ou=ex\\3D1.test,test,%");
    vstring_reset(out);
    assert_int_equal(dict_query_expand_template("%S (%u)", "k*", out, 0, 0), 1);
    assert_string_equal(STR(out), "k* (k*)");		/* NULL: as it is */
    vstring_reset(out);
    assert_int_equal(dict_query_expand_template("ou=%d", "nodomain", out, 0, 0), 0);
    vstring_free(out);
}

/* open_cf - an ldap: table from TEXT with a server where nothing listens */

static DICT *open_cf(const char *name, const char *text)
{
    VSTRING *conf = vstring_alloc(200);
    DICT   *dict;

    vstring_sprintf(conf, "server_host = 127.0.0.1:%d\nsearch_base = dc=example\n%s",
		    dead_port(), text);
    dict = fixture_open("ldap", name, STR(conf), LEN(conf), 0);
    vstring_free(conf);
    return (dict);
}

/* refused - the table from TEXT fails at open, with WHY in the log */

static void refused(const char *text, const char *why)
{
    DICT   *dict = open_cf("bad.cf", text);

    assert_null(dict_lookup(dict, "key@example.com"));
    if (dict->error == 0 || !log_has(why))
	fail_msg("\"%s\": error %d, no \"%s\" in the log", text, dict->error, why);
    assert_int_equal(log_at("cannot connect"), -1);	/* nothing tried */
    dict_close(dict);
}

static void test_bad_configuration(void **state)
{
    DICT   *dict;

    refused("scope = sideways\n", "ldap map ");
    refused("scope = sideways\n", "bad.cf: bad scope: sideways");
    refused("bind = sasl\n", "bind = sasl is not supported");
    refused("bind = maybe\n", "bad bind: maybe");
    refused("version = 1\n", "bad version: 1");
    refused("timeout = 5s\n", "bad timeout: 5s");
    refused("server_port = 0\n", "bad server_port: 0");
    refused("dereference = 4\n", "bad dereference: 4");
    refused("recursion_limit = 0\n", "bad recursion_limit: 0");
    refused("size_limit = -1\n", "bad size_limit: -1");
    refused("start_tls = perhaps\n", "bad start_tls: perhaps");
    refused("expansion_limit = lots\n", "bad expansion_limit: lots");
    refused("query_filter = (mail=%x)\n", "invalid query template: (mail=%x)");
    refused("search_base = uid=%z\n", "invalid search_base template: uid=%z");
    refused("result_format = 50%\n", "invalid result_format template: 50%");
    refused("result_attribute = mail)\n", "bad result_attribute: mail)");
    refused("result_attribute =\n", "no result_attribute");
    refused("special_result_attribute = member, (x)\n",
	    "bad special_result_attribute: (x)");
    refused("server_host = ldap://[nowhere\n", "bad server_host: ldap://[nowhere");
    refused("server_host = ftp://example.com/\n", "bad server_host: ftp://example.com/");

    /* Postfix's spellings are accepted: yes/no, true/false, simple/none */
    dict = open_cf("ok.cf", "bind = none\nstart_tls = false\nchase_referrals = 1\n"
		   "scope = ONE\nquery_filter = (mail=%s)\n");
    assert_int_equal(dict->error, 0);
    dict_close(dict);
    /* a filter without the key finds the same for every key */
    dict = open_cf("fixed.cf", "query_filter = (objectClass=*)\n");
    assert_int_equal(dict->error, 0);
    assert_true(log_has("fixed query_filter (objectClass=*) is probably useless"));
    dict_close(dict);
    dict = open_cf("junk.cf", "\001\002 junk\n");
    assert_true(log_has("junk.cf, line 3: expected format: name = value"));
    dict_close(dict);

    dict = dict_open("ldap:/nonexistent/table.cf", 0);
    assert_null(dict_lookup(dict, "key"));
    assert_true(dict->error != 0);
    dict_close(dict);
}

static void test_no_server_answers(void **state)
{
    VSTRING *conf = vstring_alloc(200);
    VSTRING *first = vstring_alloc(100);
    VSTRING *second = vstring_alloc(100);
    DICT   *dict;
    int     a = dead_port();
    int     b = dead_port();

    /* a URL, then a host that takes server_port, then a unix socket */
    vstring_sprintf(conf, "server_host = ldap://127.0.0.1:%d/, 127.0.0.1\n"
		    "  unix:/nonexistent/ld_api+x\nserver_port = %d\ntimeout = 2\n"
		    "bind_dn = cn=reader\nbind_pw = secret\nsearch_base = dc=example\n"
		    "query_filter = (mail=%%s)\n", a, b);
    dict = fixture_open("ldap", "dead.cf", STR(conf), LEN(conf), 0);
    assert_int_equal(dict->error, 0);		/* opening does not connect */
    assert_null(dict_lookup(dict, "key@example.com"));
    assert_true(dict->error != 0);
    vstring_sprintf(first, "cannot connect to ldap://127.0.0.1:%d/", a);
    vstring_sprintf(second, "cannot connect to ldap://127.0.0.1:%d:", b);
    assert_true(log_at(STR(first)) >= 0);
    assert_true(log_at(STR(second)) > log_at(STR(first)));	/* in order */
    assert_true(log_at("cannot connect to ldapi://%2Fnonexistent%2Fld_api%2Bx:")
		> log_at(STR(second)));
    assert_true(log_has("no database server answers"));
    /* all failed: the next lookup tries them again rather than give up */
    log_forget();
    assert_null(dict_lookup(dict, "key@example.com"));
    assert_true(dict->error != 0);
    assert_true(log_at(STR(first)) >= 0);
    /* a key that is not UTF-8 is not looked up: no error, no connection */
    log_forget();
    assert_null(dict_lookup(dict, "k\377y@example.com"));
    assert_int_equal(dict->error, 0);
    assert_int_equal(log_at("cannot connect"), -1);
    dict_close(dict);

    /* keys outside the domain list are not looked up either */
    vstring_sprintf(conf, "server_host = 127.0.0.1:%d\ndomain = example.com\n", a);
    dict = fixture_open("ldap", "domain.cf", STR(conf), LEN(conf), 0);
    assert_null(dict_lookup(dict, "key@other.test"));
    assert_int_equal(dict->error, 0);
    assert_int_equal(log_at("cannot connect"), -1);
    assert_null(dict_lookup(dict, "key@example.com"));
    assert_true(dict->error != 0);
    dict_close(dict);
    vstring_free(conf);
    vstring_free(first);
    vstring_free(second);
}

static int setup(void **state)
{
    return (fixture_setup("test_dict_ldap"));
}

static int teardown(void **state)
{
    return (fixture_teardown());
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_escapes),
	cmocka_unit_test(test_bad_configuration),
	cmocka_unit_test(test_no_server_answers),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
