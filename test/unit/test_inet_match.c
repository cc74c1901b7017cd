/*
 * test_inet_match.c - unit tests for lib/tables/inet_match.c: CIDR parsing,
 * IPv4/IPv6 lists with and without brackets, IPv4-mapped clients,
 * negation, table entries, mynetworks_style defaults, and bad input
 * (bad masks, junk, overlong text).
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "mymalloc.h"
#include "vstring.h"
#include "inet_match.h"

static void test_parse(void **unused)
{
    unsigned char a[16];
    int     bits;

    assert_int_equal(inet_parse_net("192.0.2.1", a, &bits), 0);
    assert_int_equal(bits, 128);
    assert_int_equal(a[10], 0xff);
    assert_int_equal(a[15], 1);
    assert_int_equal(inet_parse_net("10.0.0.0/8", a, &bits), 0);
    assert_int_equal(bits, 104);
    assert_int_equal(inet_parse_net("[2001:db8::]/32", a, &bits), 0);
    assert_int_equal(bits, 32);
    assert_int_equal(inet_parse_net("::1", a, &bits), 0);
    assert_int_equal(bits, 128);
    assert_int_equal(inet_parse_net("[::1]", a, &bits), 0);
}

static void test_parse_bad(void **unused)
{
    unsigned char a[16];
    int     bits;

    assert_int_equal(inet_parse_net("", a, &bits), -1);
    assert_int_equal(inet_parse_net("1.2.3.4/33", a, &bits), -1);
    assert_int_equal(inet_parse_net("1.2.3.4/", a, &bits), -1);
    assert_int_equal(inet_parse_net("1.2.3.4/-1", a, &bits), -1);
    assert_int_equal(inet_parse_net("1.2.3.4/8x", a, &bits), -1);
    assert_int_equal(inet_parse_net("[::1]/129", a, &bits), -1);
    assert_int_equal(inet_parse_net("1.2.3", a, &bits), -1);
    assert_int_equal(inet_parse_net("example.com", a, &bits), -1);
    assert_int_equal(inet_parse_net("1.2.3.4/99999999999999999999", a, &bits), -1);
    {
	char    big[200];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(inet_parse_net(big, a, &bits), -1);
    }
}

static void test_match_v4(void **unused)
{
    assert_true(inet_match("127.0.0.1/32", "127.0.0.1"));
    assert_false(inet_match("127.0.0.1/32", "127.0.0.2"));
    assert_true(inet_match("10.0.0.0/8, 192.0.2.0/24", "192.0.2.77"));
    assert_false(inet_match("10.0.0.0/8 192.0.2.0/24", "192.0.3.1"));
    assert_true(inet_match("192.0.2.5", "192.0.2.5"));
    assert_true(inet_match("0.0.0.0/0", "203.0.113.9"));
    /* an IPv4-mapped client matches IPv4 networks */
    assert_true(inet_match("127.0.0.0/8", "::ffff:127.0.0.2"));
    /* an IPv4 network does not match a real IPv6 client */
    assert_false(inet_match("0.0.0.0/0", "2001:db8::1"));
}

static void test_match_v6(void **unused)
{
    assert_true(inet_match("[::1]/128", "::1"));
    assert_true(inet_match("::1", "::1"));
    assert_false(inet_match("[::1]/128", "::2"));
    assert_true(inet_match("[2001:db8::]/32", "2001:db8:ffff::1"));
    assert_false(inet_match("[2001:db8::]/32", "2001:db9::1"));
    assert_true(inet_match("[2001:db8::]/33", "2001:db8:7fff::1"));
    assert_false(inet_match("[2001:db8::]/33", "2001:db8:8000::1"));
    assert_true(inet_match("2001:db8::/32", "2001:db8::5"));
    assert_true(inet_match("[::ffff:127.0.0.0]/104", "127.1.2.3"));
}

static void test_negation_and_order(void **unused)
{
    assert_false(inet_match("!127.0.0.2 127.0.0.0/8", "127.0.0.2"));
    assert_true(inet_match("!127.0.0.2 127.0.0.0/8", "127.0.0.3"));
    assert_true(inet_match("127.0.0.0/8 !127.0.0.2", "127.0.0.2"));
}

static void test_host_bits(void **unused)
{
    /* host bits are cleared (with a warning), as Postfix suggests */
    assert_true(inet_match("127.0.0.1/8", "127.9.9.9"));
}

static void test_bad_entries(void **unused)
{
    /* junk is skipped, the good entries still work */
    assert_true(inet_match("junk 1.2.3.4/99 host.example 192.0.2.1", "192.0.2.1"));
    assert_false(inet_match("junk, ,,", "192.0.2.1"));
    assert_false(inet_match("", "192.0.2.1"));
    /* a client address that does not parse never matches */
    assert_false(inet_match("0.0.0.0/0", "unknown"));
    assert_false(inet_match("0.0.0.0/0", "10.0.0.0/8"));
    assert_false(inet_match("0.0.0.0/0", ""));
}

static void test_table(void **unused)
{
    INET_LIST *list = inet_list_create("test",
			     "inline:{ 192.0.2.9=ok, 2001:db8::9=ok } 10.0.0.0/8");

    assert_int_equal(inet_list_match(list, "192.0.2.9"), 1);
    assert_int_equal(inet_list_match(list, "2001:db8::9"), 1);
    assert_int_equal(inet_list_match(list, "10.1.1.1"), 1);
    assert_int_equal(inet_list_match(list, "192.0.2.10"), 0);
    inet_list_free(list);

    /* a table that cannot be opened: -1 (the caller defers) */
    list = inet_list_create("test", "hash:/nonexistent/table 10.0.0.0/8");
    assert_int_equal(inet_list_match(list, "10.1.1.1"), -1);
    inet_list_free(list);
}

static void test_mynetworks(void **unused)
{
    VSTRING *buf = vstring_alloc(100);

    assert_int_equal(inet_mynetworks("host", buf), 0);
    assert_non_null(strstr(STR(buf), "127.0.0.0/8"));
    assert_non_null(strstr(STR(buf), "[::1]/128"));
    assert_true(inet_match(STR(buf), "127.0.0.1"));
    assert_false(inet_match(STR(buf), "203.0.113.1"));
    assert_int_equal(inet_mynetworks("subnet", buf), 0);
    assert_true(inet_match(STR(buf), "127.0.0.1"));
    assert_int_equal(inet_mynetworks("class", buf), 0);
    assert_true(inet_match(STR(buf), "127.0.0.1"));
    assert_int_equal(inet_mynetworks("bogus", buf), -1);
    vstring_free(buf);
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_parse_bad),
	cmocka_unit_test(test_match_v4),
	cmocka_unit_test(test_match_v6),
	cmocka_unit_test(test_negation_and_order),
	cmocka_unit_test(test_host_bits),
	cmocka_unit_test(test_bad_entries),
	cmocka_unit_test(test_table),
	cmocka_unit_test(test_mynetworks),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
