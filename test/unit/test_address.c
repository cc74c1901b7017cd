/*
 * test_address.c - unit tests for lib/global/address.c (RFC 5321 paths).
 *
 * Good and bad MAIL FROM/RCPT TO paths, quoting, splitting, domains.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "vstring.h"
#include "address.h"

/* parse_ok - IN parses to WANT with REST */

static void parse_ok(const char *in, const char *want, const char *want_rest)
{
    VSTRING *addr = vstring_alloc(10);
    const char *rest = 0;
    const char *why = 0;

    if (addr_parse_path(in, addr, &rest, &why) != 0)
	fail_msg("\"%s\" rejected: %s", in, why);
    assert_string_equal(STR(addr), want);
    assert_string_equal(rest, want_rest);
    vstring_free(addr);
}

/* parse_bad - IN is rejected with a reason */

static void parse_bad(const char *in)
{
    VSTRING *addr = vstring_alloc(10);
    const char *rest = 0;
    const char *why = 0;

    if (addr_parse_path(in, addr, &rest, &why) == 0)
	fail_msg("\"%s\" accepted as \"%s\"", in, STR(addr));
    assert_non_null(why);
    vstring_free(addr);
}

static void test_good_paths(void **state)
{
    parse_ok("<a@b.c>", "a@b.c", "");
    parse_ok("<>", "", "");
    parse_ok(" <> SIZE=100", "", "SIZE=100");
    parse_ok("<@r1,@r2:a@b>", "a@b", "");
    parse_ok("<\"a b\"@c>", "\"a b\"@c", "");
    parse_ok("<\"ab\"@x>", "ab@x", "");
    parse_ok("<\"a\\\"b\"@x>", "\"a\\\"b\"@x", "");
    parse_ok("a@b", "a@b", "");
    parse_ok("a@b.c  BODY=8BITMIME", "a@b.c", "BODY=8BITMIME");
    parse_ok(" <a@b.c> SIZE=1 BODY=7BIT", "a@b.c", "SIZE=1 BODY=7BIT");
    parse_ok("<a@[1.2.3.4]>", "a@[1.2.3.4]", "");
    parse_ok("<a@[IPv6:::1]>", "a@[IPv6:::1]", "");
    parse_ok("<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]", "");
    parse_ok("<postmaster>", "postmaster", "");
    parse_ok("<First.Last+tag@Sub-1.Example.COM>", "First.Last+tag@Sub-1.Example.COM", "");
    parse_ok("<a..b@x>", "\"a..b\"@x", "");
    parse_ok("<\xc3\xa9l\xc3\xa8ve@\xc3\xa9" "cole.fr>", "\xc3\xa9l\xc3\xa8ve@\xc3\xa9" "cole.fr", "");
    parse_ok("<a@1.2.3.4>", "a@1.2.3.4", "");
}

static void test_bad_paths(void **state)
{
    char    big[400];

    parse_bad("<a@b");
    parse_bad("a@b>");
    parse_bad("<a b@c>");
    parse_bad("<a@-b>");
    parse_bad("<a@b-.c>");
    parse_bad("<a@b..c>");
    parse_bad("<a@.b>");
    parse_bad("<a@b.>");
    parse_bad("<a@>");
    parse_bad("<@b>");
    parse_bad("<@r1:>");
    parse_bad("<@r1a@b>");
    parse_bad("<@-r:a@b>");
    parse_bad("");
    parse_bad("   ");
    parse_bad("<");
    parse_bad("<<a@b>>");
    parse_bad("<a@b>junk");
    parse_bad("<a\r@b>");
    parse_bad("<a@b\n>");
    parse_bad("<a\x01@b>");
    parse_bad("<\"a\x7f\"@b>");
    parse_bad("<\"unterminated@b>");
    parse_bad("<a(comment)@b>");
    parse_bad("<a,b@c>");
    parse_bad("<a@[1.2.3]>");
    parse_bad("<a@[IPv6:zz::1]>");
    parse_bad("<a@[1.2.3.4>");
    parse_bad("\xff\xfe\x01\x02<>");

    /* 300-byte address */
    memset(big, 'a', sizeof(big));
    big[0] = '<';
    memcpy(big + 290, "@b.example>", 12);
    parse_bad(big);
    /* bare too */
    parse_bad(big + 1);
    /* exactly at the limit: "<" + 249 + "@b.cd>" is 256 octets */
    memset(big, 'a', sizeof(big));
    big[0] = '<';
    memcpy(big + 250, "@b.cd>", 7);
    assert_int_equal(strlen(big), 256);
    {
	VSTRING *addr = vstring_alloc(10);
	const char *rest, *why;

	assert_int_equal(addr_parse_path(big, addr, &rest, &why), 0);
	big[250] = 'a';
	memcpy(big + 251, "@b.cd>", 7);
	assert_int_equal(addr_parse_path(big, addr, &rest, &why), -1);
	vstring_free(addr);
    }
}

static void test_binary_junk(void **state)
{
    VSTRING *addr = vstring_alloc(10);
    char    buf[64];
    unsigned seed = 12345;
    const char *rest, *why;
    int     i, j;

    for (i = 0; i < 20000; i++) {
	size_t  len = (seed = seed * 1103515245 + 12345) % (sizeof(buf) - 1);

	for (j = 0; j < (int) len; j++) {
	    seed = seed * 1103515245 + 12345;
	    buf[j] = (char) ((seed >> 16) & 0xff);
	    if (buf[j] == 0)
		buf[j] = '<';
	}
	buf[len] = 0;
	if (addr_parse_path(buf, addr, &rest, &why) == 0) {
	    /* whatever is accepted has no control characters */
	    for (j = 0; STR(addr)[j]; j++)
		assert_true((unsigned char) STR(addr)[j] >= 0x20
			    && STR(addr)[j] != 0x7f);
	}
    }
    vstring_free(addr);
}

static void test_quote_local(void **state)
{
    VSTRING *out = vstring_alloc(10);

    addr_quote_local("abc", out);
    assert_string_equal(STR(out), "abc");
    vstring_reset(out);
    addr_quote_local("a b", out);
    assert_string_equal(STR(out), "\"a b\"");
    vstring_reset(out);
    addr_quote_local("a\"b\\c", out);
    assert_string_equal(STR(out), "\"a\\\"b\\\\c\"");
    vstring_reset(out);
    addr_quote_local(".a", out);
    assert_string_equal(STR(out), "\".a\"");
    vstring_reset(out);
    addr_quote_local("a.", out);
    assert_string_equal(STR(out), "\"a.\"");
    vstring_reset(out);
    addr_quote_local("", out);
    assert_string_equal(STR(out), "\"\"");
    vstring_reset(out);
    addr_quote_local("a@b", out);
    assert_string_equal(STR(out), "\"a@b\"");
    vstring_free(out);
}

static void test_split(void **state)
{
    VSTRING *local = vstring_alloc(10);
    VSTRING *domain = vstring_alloc(10);

    assert_int_equal(addr_split("a@b.c", local, domain), 0);
    assert_string_equal(STR(local), "a");
    assert_string_equal(STR(domain), "b.c");
    assert_int_equal(addr_split("\"a@b c\"@d", local, domain), 0);
    assert_string_equal(STR(local), "a@b c");
    assert_string_equal(STR(domain), "d");
    assert_int_equal(addr_split("\"a\\\"b\"@d", local, domain), 0);
    assert_string_equal(STR(local), "a\"b");
    assert_int_equal(addr_split("postmaster", local, domain), 0);
    assert_string_equal(STR(local), "postmaster");
    assert_string_equal(STR(domain), "");
    assert_int_equal(addr_split("", local, domain), 0);
    assert_string_equal(STR(local), "");
    assert_int_equal(addr_split("\"a@b", local, domain), -1);
    assert_int_equal(addr_split("a\n@b", local, domain), -1);
    vstring_free(local);
    vstring_free(domain);
}

static void test_domain(void **state)
{
    assert_string_equal(addr_domain("a@b.c"), "b.c");
    assert_string_equal(addr_domain("\"x@y\"@z"), "z");
    assert_null(addr_domain("postmaster"));
    assert_null(addr_domain("\"x@y\""));
    assert_true(addr_valid_domain("example.com"));
    assert_true(addr_valid_domain("a"));
    assert_true(addr_valid_domain("[192.0.2.1]"));
    assert_true(addr_valid_domain("[IPv6:2001:db8::1]"));
    assert_false(addr_valid_domain(""));
    assert_false(addr_valid_domain("-a.com"));
    assert_false(addr_valid_domain("a..com"));
    assert_false(addr_valid_domain("a b"));
    assert_false(addr_valid_domain("[1.2.3.4"));
    assert_false(addr_valid_domain("[300.1.1.1]"));
    assert_true(addr_is_8bit("\xc3\xa9@x"));
    assert_false(addr_is_8bit("a@x"));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_good_paths),
	cmocka_unit_test(test_bad_paths),
	cmocka_unit_test(test_binary_junk),
	cmocka_unit_test(test_quote_local),
	cmocka_unit_test(test_split),
	cmocka_unit_test(test_domain),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
