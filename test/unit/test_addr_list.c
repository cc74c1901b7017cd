/*
 * test_addr_list.c - unit tests for lib/global/addr_list.c: RFC 5322 header
 * address lists (sendmail -t) and aliases(5) values (local), including
 * bad input: unbalanced quotes, brackets and comments, control characters
 * and binary junk, very long lists.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "mymalloc.h"
#include "vstring.h"
#include "addr_list.h"

typedef void (*PARSE_FN) (const char *, ADDR_LIST *);

/* expect - parse TEXT with FN and compare with the NULL-terminated list */

static void expect(PARSE_FN fn, const char *text, ...)
{
    ADDR_LIST list = {0, 0, 0};
    va_list ap;
    const char *want;
    int     n = 0;

    fn(text, &list);
    va_start(ap, text);
    while ((want = va_arg(ap, const char *)) != 0) {
	assert_true(n < list.count);
	assert_string_equal(list.addrs[n], want);
	n++;
    }
    va_end(ap);
    assert_int_equal(list.count, n);
    addr_list_free(&list);
}

static void test_header_plain(void **unused)
{
    expect(addr_parse_list, "a@b, c@d", "a@b", "c@d", NULL);
    expect(addr_parse_list, "Alice <alice@x.example>, \"Bob, Jr\" <bob@y>",
	   "alice@x.example", "bob@y", NULL);
    expect(addr_parse_list, "(comment) a@b (more (nested)) , c@d", "a@b", "c@d", NULL);
    expect(addr_parse_list, "team: a@b, c@d;, e@f", "a@b", "c@d", "e@f", NULL);
    expect(addr_parse_list, "<@relay.example:user@dom>", "user@dom", NULL);
    expect(addr_parse_list, "\"quoted local\"@dom", "\"quoted local\"@dom", NULL);
    expect(addr_parse_list, "", NULL);
    expect(addr_parse_list, " , ,, ", NULL);
}

static void test_header_bad(void **unused)
{
    /* unbalanced quote: the rest is the quoted string */
    expect(addr_parse_list, "\"open@dom, x@y", "\"open@dom, x@y\"", NULL);
    /* unbalanced angle bracket and comment */
    expect(addr_parse_list, "Name <a@b", "a@b", NULL);
    expect(addr_parse_list, "a@b (never closed, c@d", "a@b", NULL);
    expect(addr_parse_list, "a@b>, ]c@d", "a@b", "]c@d", NULL);
    /* control characters: white space outside quotes, fatal inside */
    expect(addr_parse_list, "a\001@b, \"x\002y\"@z, ok@dom", "a@b", "ok@dom", NULL);
}

static void test_alias_elements(void **unused)
{
    expect(addr_parse_alias, "alice, bob", "alice", "bob", NULL);
    expect(addr_parse_alias, "  alice ,bob,, \n\tcarol  ", "alice", "bob", "carol", NULL);
    expect(addr_parse_alias, "|/usr/bin/procmail -a x, bob",
	   "|/usr/bin/procmail -a x", "bob", NULL);
    expect(addr_parse_alias, "\"|/bin/cmd a, b\", /var/log/x.mbox",
	   "|/bin/cmd a, b", "/var/log/x.mbox", NULL);
    expect(addr_parse_alias, ":include:/etc/list, \\alice",
	   ":include:/etc/list", "\\alice", NULL);
    expect(addr_parse_alias, "Bob <bob@example.com>, x@y (a comment)",
	   "bob@example.com", "x@y", NULL);
    expect(addr_parse_alias, "\"a b\"@dom, \"esc\\\"aped\"",
	   "\"a b\"@dom", "esc\"aped", NULL);
    expect(addr_parse_alias, "", NULL);
    expect(addr_parse_alias, ", , ,", NULL);
}

static void test_alias_bad(void **unused)
{
    /* unbalanced quote swallows the rest, unquoted */
    expect(addr_parse_alias, "\"|cmd, x", "|cmd, x", NULL);
    /* unbalanced angle bracket: the address so far */
    expect(addr_parse_alias, "Name <bob@x, y", "bob@x, y", NULL);
    expect(addr_parse_alias, "bob@x>, y", "bob@x>", "y", NULL);
    /* unbalanced comment eats the rest */
    expect(addr_parse_alias, "a (b, c", "a", NULL);
    /* a trailing backslash is kept as a character */
    expect(addr_parse_alias, "a\\", "a\\", NULL);
    /* control characters inside quotes drop the element */
    expect(addr_parse_alias, "\"x\001y\", ok", "ok", NULL);
}

static void test_binary_junk(void **unused)
{
    char    junk[4096];
    unsigned seed = 12345;
    ADDR_LIST list = {0, 0, 0};

    for (int round = 0; round < 200; round++) {
	for (size_t i = 0; i < sizeof(junk) - 1; i++) {
	    seed = seed * 1103515245 + 12345;
	    junk[i] = (char) ((seed >> 16) % 255 + 1);	/* no NUL */
	}
	junk[sizeof(junk) - 1] = 0;
	addr_parse_list(junk, &list);
	addr_parse_alias(junk, &list);
	for (int i = 0; i < list.count; i++)
	    assert_non_null(list.addrs[i]);
	addr_list_free(&list);
    }
}

static void test_long_list(void **unused)
{
    VSTRING *text = vstring_alloc(100);
    ADDR_LIST list = {0, 0, 0};
    VSTRING *want = vstring_alloc(100);

    for (int i = 0; i < 20000; i++)
	vstring_sprintf_append(text, "%suser%d@example.com", i ? ", " : "", i);
    addr_parse_alias(STR(text), &list);
    assert_int_equal(list.count, 20000);
    vstring_sprintf(want, "user%d@example.com", 19999);
    assert_string_equal(list.addrs[19999], STR(want));
    addr_list_free(&list);
    addr_parse_list(STR(text), &list);
    assert_int_equal(list.count, 20000);
    addr_list_free(&list);
    /* one very long element */
    vstring_reset(text);
    for (int i = 0; i < 100000; i++)
	vstring_addch(text, 'x');
    addr_parse_alias(STR(text), &list);
    assert_int_equal(list.count, 1);
    assert_int_equal(strlen(list.addrs[0]), 100000);
    addr_list_free(&list);
    assert_int_equal(list.count, 0);
    vstring_free(text);
    vstring_free(want);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_header_plain),
	cmocka_unit_test(test_header_bad),
	cmocka_unit_test(test_alias_elements),
	cmocka_unit_test(test_alias_bad),
	cmocka_unit_test(test_binary_junk),
	cmocka_unit_test(test_long_list),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
