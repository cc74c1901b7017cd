/*
 * test_dict_cidr.c - unit tests for lib/tables/dict_cidr.c (cidr: tables).
 *
 * Each test writes a table into a private directory and looks addresses
 * up: IPv4 and IPv6 networks and hosts, brackets, first match wins,
 * negation (only within an address family), if/endif nesting, and bad
 * input: bad networks and masks, host bits, missing results, unbalanced
 * if/endif, keys that are not addresses, over-long lines, binary junk
 * and a file cut off mid-line.  Each bad line is warned about with
 * Postfix's wording ("cidr map FILE, line N: ...: skipping this rule")
 * and the good lines still work.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_fixture.h"

#define OPEN_CIDR(name, text) FIXTURE_OPEN("cidr", (name), (text), 0)

static int setup(void **state)
{
    (void) state;
    return (fixture_setup("test_dict_cidr"));
}

static int teardown(void **state)
{
    (void) state;
    return (fixture_teardown());
}

static void test_ipv4(void **state)
{
    static const char text[] =
	"# client access\n"
	"192.168.1.1\thost one\n"
	"192.168.0.0/16   the sixteen\n"
	"10.0.0.0/8 ten\n"
	"[172.16.0.0]/12 bracketed\n"
	"[198.51.100.0/24] mask inside\n"
	"[203.0.113.5] bracketed host\n"
	"100.64.0.0/10 result with  inner  spaces   \n"
	"0.0.0.0/0 anything\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("v4", text);
    assert_int_equal(dict->error, 0);
    assert_false(log_has("cidr map"));
    assert_string_equal(dict_lookup(dict, "192.168.1.1"), "host one");
    assert_string_equal(dict_lookup(dict, "192.168.1.2"), "the sixteen");
    assert_string_equal(dict_lookup(dict, "10.255.255.255"), "ten");
    assert_string_equal(dict_lookup(dict, "172.31.0.1"), "bracketed");
    assert_string_equal(dict_lookup(dict, "198.51.100.77"), "mask inside");
    assert_string_equal(dict_lookup(dict, "203.0.113.5"), "bracketed host");
    assert_string_equal(dict_lookup(dict, "100.127.1.1"), "result with  inner  spaces");
    assert_string_equal(dict_lookup(dict, "8.8.8.8"), "anything");
    /* IPv4 rules never match IPv6 keys, mapped ones included */
    assert_null(dict_lookup(dict, "::ffff:10.1.2.3"));
    assert_null(dict_lookup(dict, "::1"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_ipv6(void **state)
{
    static const char text[] =
	"2001:db8::/32 doc\n"
	"[2001:db8:1::]/48 more specific, but later\n"
	"[::1] loopback\n"
	"::ffff:127.0.0.1 mapped\n"
	"fe80::/10 link local\n"
	"::/0 any6\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("v6", text);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "2001:db8::1"), "doc");
    assert_string_equal(dict_lookup(dict, "2001:db8:1::5"), "doc");
    assert_string_equal(dict_lookup(dict, "::1"), "loopback");
    assert_string_equal(dict_lookup(dict, "0:0:0:0:0:0:0:1"), "loopback");
    assert_string_equal(dict_lookup(dict, "::ffff:127.0.0.1"), "mapped");
    assert_string_equal(dict_lookup(dict, "FE80::1"), "link local");
    assert_string_equal(dict_lookup(dict, "2001:4860::8888"), "any6");
    assert_null(dict_lookup(dict, "127.0.0.1"));
    dict_close(dict);
}

static void test_negation(void **state)
{
    static const char text[] =
	"!10.0.0.0/8 not ten\n"
	"! 2001:db8::/32 not doc\n"
	"!!192.0.2.1 double negation\n"
	"10.1.2.3 ten host\n"
	"2001:db8::1 doc host\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("neg", text);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "8.8.8.8"), "not ten");
    assert_string_equal(dict_lookup(dict, "::1"), "not doc");
    assert_string_equal(dict_lookup(dict, "2001:db8::1"), "doc host");
    assert_string_equal(dict_lookup(dict, "10.1.2.3"), "ten host");
    assert_null(dict_lookup(dict, "10.1.2.4"));
    assert_string_equal(dict_lookup(dict, "192.0.2.1"), "not ten");
    assert_null(dict_lookup(dict, "2001:db8::2"));
    dict_close(dict);
}

static void test_if_endif(void **state)
{
    static const char text[] =
	"if 127.0.0.0/8\n"
	"127.0.0.1 localhost\n"
	"if !127.0.0.0/24\n"
	"127.1.0.0/16 loopback far\n"
	"endif\n"
	"127.0.0.0/24 loopback near\n"
	"ENDIF\n"
	"If ::/0\n"
	"::1 six\n"
	"EndIf\n"
	"0.0.0.0/0 fallback\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("ifs", text);
    assert_int_equal(dict->error, 0);
    assert_false(log_has("cidr map"));
    assert_string_equal(dict_lookup(dict, "127.0.0.1"), "localhost");
    assert_string_equal(dict_lookup(dict, "127.1.2.3"), "loopback far");
    assert_string_equal(dict_lookup(dict, "127.0.0.9"), "loopback near");
    assert_string_equal(dict_lookup(dict, "127.2.0.1"), "fallback");
    assert_string_equal(dict_lookup(dict, "::1"), "six");
    assert_null(dict_lookup(dict, "::2"));
    assert_string_equal(dict_lookup(dict, "9.9.9.9"), "fallback");
    dict_close(dict);
}

static void test_bad_networks(void **state)
{
    static const char text[] =
	"10.0.0.0/8\n"
	"10.1.2.3/8 host bits\n"
	"10.0.0.0/33 mask too long\n"
	"10.0.0.0/x mask not a number\n"
	"10.0.0.0/ empty mask\n"
	"10.0.0.300 bad address\n"
	"300.0.0.0/8 bad network\n"
	"[::1 no bracket\n"
	"[::1]x garbage\n"
	"2001:db8::/129 v6 mask\n"
	"2001:db8::1/32 v6 host bits\n"
	"/8 no network\n"
	"!\n"
	"host.example.com a name\n"
	"1.2.3 short\n"
	"10.0.0.0/99999999999999999999 huge mask\n"
	"192.0.2.0/24 good\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("bad", text);
    assert_int_equal(dict->error, 0);
    assert_true(log_has("/bad, line 1: no lookup result: skipping this rule"));
    assert_true(log_has(", line 2: non-null host address bits in \"10.1.2.3/8\","
		     " perhaps you should use \"10.0.0.0/8\" instead: skipping this rule"));
    assert_true(log_has(", line 3: bad mask length in \"10.0.0.0/33\": skipping this rule"));
    assert_true(log_has(", line 4: bad mask value in \"10.0.0.0/x\": skipping this rule"));
    assert_true(log_has(", line 5: bad mask value in \"10.0.0.0/\": skipping this rule"));
    assert_true(log_has(", line 6: bad address pattern: \"10.0.0.300\": skipping this rule"));
    assert_true(log_has(", line 7: bad network value in \"300.0.0.0/8\": skipping this rule"));
    assert_true(log_has(", line 8: missing ']' character after \"[::1\": skipping this rule"));
    assert_true(log_has(", line 9: garbage after \"[::1]\": skipping this rule"));
    assert_true(log_has(", line 10: bad mask length in \"2001:db8::/129\""));
    assert_true(log_has(", line 11: non-null host address bits in \"2001:db8::1/32\","
			" perhaps you should use \"2001:db8::/32\" instead"));
    assert_true(log_has(", line 12: bad network value in \"/8\""));
    assert_true(log_has(", line 13: no address pattern: skipping this rule"));
    assert_true(log_has(", line 14: bad address pattern: \"host.example.com\""));
    assert_true(log_has(", line 15: bad address pattern: \"1.2.3\""));
    assert_true(log_has(", line 16: bad mask length in \"10.0.0.0/99999999999999999999\""));
    assert_string_equal(dict_lookup(dict, "192.0.2.9"), "good");
    assert_null(dict_lookup(dict, "10.1.2.3"));
    assert_null(dict_lookup(dict, "2001:db8::1"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_unbalanced(void **state)
{
    static const char text[] =
	"endif\n"
	"if\n"
	"endif\n"
	"if 1.2.3.4 junk\n"
	"if 10.0.0.0/8\n"
	"10.0.0.1 ten one\n"
	"endif junk\n"
	"endif\n"
	"if 192.0.2.0/24\n"
	"192.0.2.1 doc one\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("unbalanced", text);
    assert_int_equal(dict->error, 0);
    assert_true(log_has(", line 1: ENDIF without IF: skipping this rule"));
    assert_true(log_has(", line 2: no address pattern: skipping this rule"));
    assert_true(log_has(", line 3: ENDIF without IF: skipping this rule"));
    assert_true(log_has(", line 4: bad address pattern: \"1.2.3.4 junk\": skipping this rule"));
    assert_true(log_has(", line 7: garbage after ENDIF: skipping this rule"));
    assert_true(log_has(", line 9: IF has no matching ENDIF"));
    assert_string_equal(dict_lookup(dict, "10.0.0.1"), "ten one");
    assert_string_equal(dict_lookup(dict, "192.0.2.1"), "doc one");
    /* the IF without ENDIF fails: nothing after it is tried */
    assert_null(dict_lookup(dict, "198.51.100.1"));
    dict_close(dict);
}

static void test_bad_keys(void **state)
{
    static const char text[] = "0.0.0.0/0 any4\n::/0 any6\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_CIDR("keys", text);
    assert_null(dict_lookup(dict, ""));
    assert_null(dict_lookup(dict, "garbage"));
    assert_null(dict_lookup(dict, "1.2.3"));
    assert_null(dict_lookup(dict, "1.2.3.4.5"));
    assert_null(dict_lookup(dict, "[1.2.3.4]"));
    assert_null(dict_lookup(dict, "1.2.3.4/32"));
    assert_null(dict_lookup(dict, "::1::2"));
    assert_null(dict_lookup(dict, "\xff\xfe"));
    assert_string_equal(dict_lookup(dict, "1.2.3.4"), "any4");
    assert_string_equal(dict_lookup(dict, "::"), "any6");
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_junk_and_long_lines(void **state)
{
    size_t  big = 1024 * 1024 + 10;
    VSTRING *text = vstring_alloc(big + 200);
    DICT   *dict;

    (void) state;
    vstring_strcat(text, "\x01\x02\xff binary\n192.0.2.1 before\n10.0.0.1 ");
    for (size_t i = 0; i < big; i++)
	vstring_addch(text, 'x');
    vstring_strcat(text, "\n10.0.0.2 nul");
    vstring_memcat(text, "\0hidden\n", 8);
    vstring_strcat(text, "10.0.0.3 last line, cut o");
    dict = fixture_open("cidr", "junk", STR(text), LEN(text), 0);
    assert_int_equal(dict->error, 0);
    assert_true(log_has(", line 1: bad address pattern"));
    assert_true(log_has(", line 3: line too long (more than 1048576 bytes) -- ignoring this line"));
    assert_string_equal(dict_lookup(dict, "192.0.2.1"), "before");
    assert_null(dict_lookup(dict, "10.0.0.1"));
    assert_string_equal(dict_lookup(dict, "10.0.0.2"), "nul");
    assert_string_equal(dict_lookup(dict, "10.0.0.3"), "last line, cut o");
    dict_close(dict);
    vstring_free(text);
}

static void test_missing(void **state)
{
    DICT   *dict;

    (void) state;
    dict = dict_open("cidr:/nonexistent/cidr-table", 0);
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "127.0.0.1"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ipv4),
	cmocka_unit_test(test_ipv6),
	cmocka_unit_test(test_negation),
	cmocka_unit_test(test_if_endif),
	cmocka_unit_test(test_bad_networks),
	cmocka_unit_test(test_unbalanced),
	cmocka_unit_test(test_bad_keys),
	cmocka_unit_test(test_junk_and_long_lines),
	cmocka_unit_test(test_missing),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
