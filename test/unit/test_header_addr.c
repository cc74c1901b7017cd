/*
 * test_header_addr.c - unit tests for lib/mail/header_addr.c: which parts
 * of an address header are offered for rewriting (angle addresses, bare
 * mailboxes, group members; not display names, comments, quoted text), that
 * everything else is kept byte for byte, and that junk - unbalanced
 * quotes, brackets and comments, binary bytes, a long value - is copied
 * whole without a crash.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "header_addr.h"

/* upper - the test's FN: the address in upper case, and noted */

static int upper(const char *addr, VSTRING *result, void *ctx)
{
    VSTRING *seen = ctx;

    if (LEN(seen))
	vstring_strcat(seen, "|");
    vstring_strcat(seen, addr);
    for (const char *cp = addr; *cp; cp++)
	vstring_addch(result, (*cp >= 'a' && *cp <= 'z') ? *cp - 32 : *cp);
    return (1);
}

/* check - VALUE gives WANT, offering SEEN ("|" between addresses) */

static void check(const char *value, const char *want, const char *seen_want)
{
    VSTRING *out = vstring_alloc(100);
    VSTRING *seen = vstring_alloc(100);

    header_addr_rewrite(value, strlen(value), out, upper, seen);
    assert_string_equal(STR(out), want);
    assert_string_equal(STR(seen), seen_want);
    vstring_free(out);
    vstring_free(seen);
}

static void test_forms(void **state)
{
    check(" joe@example.com", " JOE@EXAMPLE.COM", "joe@example.com");
    check(" Joe Doe <joe@example.com>", " Joe Doe <JOE@EXAMPLE.COM>", "joe@example.com");
    check(" \"Doe, Joe\" <joe@x.org>, mary@y.org (Mary)",
	  " \"Doe, Joe\" <JOE@X.ORG>, MARY@Y.ORG (Mary)", "joe@x.org|mary@y.org");
    check(" friends: a@x.org, B <b@y.org>;, c@z.org",
	  " friends: A@X.ORG, B <B@Y.ORG>;, C@Z.ORG", "a@x.org|b@y.org|c@z.org");
    check(" <@relay.example,@r2.example:joe@x.org>",
	  " <@relay.example,@r2.example:JOE@X.ORG>", "joe@x.org");
    check(" \"odd local\"@x.org", " \"ODD LOCAL\"@X.ORG", "\"odd local\"@x.org");
    check("\n\tjoe@x.org,\n\tmary@y.org", "\n\tJOE@X.ORG,\n\tMARY@Y.ORG",
	  "joe@x.org|mary@y.org");
    /* not addresses: names, comments, words without '@', empty <> */
    check(" undisclosed-recipients:;", " undisclosed-recipients:;", "");
    check(" root (Cron Daemon)", " root (Cron Daemon)", "");
    check(" <>", " <>", "");
    check(" (comment with a@b.c) joe@x.org", " (comment with a@b.c) JOE@X.ORG",
	  "joe@x.org");
    check(" two words@x.org", " two words@x.org", "");
}

static void test_junk(void **state)
{
    char    big[20000];

    /* unbalanced: what came before is still rewritten, nothing is lost */
    check(" a@x.org, \"unclosed b@y.org", " A@X.ORG, \"unclosed b@y.org", "a@x.org");
    check(" a@x.org, <b@y.org", " A@X.ORG, <b@y.org", "a@x.org");
    check(" (open comment a@x.org", " (open comment a@x.org", "");
    check(" <a<b@x.org>", " <a<b@x.org>", "");
    check(" \xff\xfe\x01@\x80", " \xff\xfe\x01@\x80", "\xff\xfe\x01@\x80");
    check("", "", "");
    {
	static const char nul[] = " a\0b@x.org, c@y.org";	/* a NUL: left alone */
	VSTRING *out = vstring_alloc(100);
	VSTRING *seen = vstring_alloc(100);

	assert_int_equal(header_addr_rewrite(nul, sizeof(nul) - 1, out, upper, seen), 1);
	assert_int_equal(LEN(out), sizeof(nul) - 1);
	assert_memory_equal(STR(out), " a\0b@x.org, C@Y.ORG", sizeof(nul) - 1);
	assert_string_equal(STR(seen), "c@y.org");
	vstring_free(out);
	vstring_free(seen);
    }
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    big[10000] = '@';
    {
	VSTRING *out = vstring_alloc(100);
	VSTRING *seen = vstring_alloc(100);

	assert_int_equal(header_addr_rewrite(big, strlen(big), out, upper, seen), 1);
	assert_int_equal(LEN(out), strlen(big));
	vstring_free(out);
	vstring_free(seen);
    }
}

/* keep - an FN that changes nothing */

static int keep(const char *addr, VSTRING *result, void *ctx)
{
    return (0);
}

static void test_unchanged(void **state)
{
    VSTRING *out = vstring_alloc(100);
    const char *value = " Joe <joe@x.org>, mary@y.org";

    assert_int_equal(header_addr_rewrite(value, strlen(value), out, keep, 0), 0);
    assert_string_equal(STR(out), value);
    vstring_free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_forms),
	cmocka_unit_test(test_junk),
	cmocka_unit_test(test_unchanged),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
