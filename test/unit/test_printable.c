/*
 * test_printable.c - unit tests for lib/util/printable.c: control characters
 * and broken UTF-8 become the replacement, good UTF-8 stays; neuter().
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"

static void check(const char *in, const char *want)
{
    char   *copy = mystrdup(in);

    assert_string_equal(printable(copy, '?'), want);
    myfree(copy);
}

static void test_ascii(void **state)
{
    check("plain text 123 ~!", "plain text 123 ~!");
    check("", "");
    check("a\rb\nc\td\x1b[31m\x7f", "a?b?c?d?[31m?");
    check("550 no such user\rInjected: x", "550 no such user?Injected: x");
}

static void test_utf8(void **state)
{
    check("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\xab", "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\xab");
    check("\xc3", "?");				/* truncated sequence */
    check("\xc3(", "?(");			/* bad continuation */
    check("\xc0\xaf", "??");			/* overlong '/' */
    check("\xe0\x80\xaf", "???");		/* overlong, 3 bytes */
    check("\xed\xa0\x80", "???");		/* surrogate */
    check("\xf4\x90\x80\x80", "????");		/* above U+10FFFF */
    check("\xc2\x85", "??");			/* C1 control NEL */
    check("\xff\xfe", "??");
}

static void test_cat_and_neuter(void **state)
{
    VSTRING *buf = vstring_alloc(10);
    char    helo[] = "evil (fake [1.2.3.4]) <a@b>;\"q\"\\";

    vstring_strcpy(buf, "x=");
    printable_cat(buf, "ab\rcdef", 4, '?');
    assert_string_equal(STR(buf), "x=ab?c");
    assert_string_equal(neuter(helo, " <>()\\\";@", '?'),
			"evil??fake?[1.2.3.4]???a?b??\?q\?\?");
    vstring_free(buf);
}

/* utf8_valid: ASCII and well-formed UTF-8 only; a cut sequence is not */
static void test_utf8_valid(void **state)
{
    static const struct {
	const char *text;
	int     valid;
    } cases[] = {
	{"MAIL FROM:<j\xc3\xb6rg@example.com>", 1},
	{"tab\tand\x01control", 1},
	{"\xe2\x82\xac euro", 1},
	{"\xf0\x9f\x98\x80", 1},
	{"\xc3", 0},				/* cut */
	{"\xe2\x82", 0},
	{"\xc0\xaf", 0},			/* overlong */
	{"\xed\xa0\x80", 0},			/* surrogate */
	{"\xf4\x90\x80\x80", 0},		/* above U+10FFFF */
	{"\xff junk", 0},
	{"\x80", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	assert_int_equal(utf8_valid(cases[i].text, strlen(cases[i].text)),
			 cases[i].valid);
    assert_int_equal(utf8_valid("ab\0cd", 5), 1);	/* length, not NUL */
    assert_int_equal(utf8_valid("\xc3\xb6", 1), 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ascii),
	cmocka_unit_test(test_utf8),
	cmocka_unit_test(test_cat_and_neuter),
	cmocka_unit_test(test_utf8_valid),
    };

    return (cmocka_run_group_tests_name("printable", tests, 0, 0));
}
