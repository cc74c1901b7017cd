/*
 * test_xtext.c - unit tests for lib/util/xtext.c: RFC 3461 xtext encoding and
 * decoding, RFC 6533 "\x{HEX}" escapes, and inputs that must be refused.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "vstring.h"
#include "xtext.h"

/* unquote - decoded text, or "(null)" when refused */

static const char *unquote(VSTRING *buf, const char *in, int utf8)
{
    VSTRING *res = utf8 ? uxtext_unquote(buf, in) : xtext_unquote(buf, in);

    return (res ? STR(res) : "(null)");
}

static void test_quote(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    assert_string_equal(STR(xtext_quote(buf, "")), "");
    assert_string_equal(STR(xtext_quote(buf, "abc+def")), "abc+2Bdef");
    assert_string_equal(STR(xtext_quote(buf, "a=b c")), "a+3Db+20c");
    assert_string_equal(STR(xtext_quote(buf, "\"x y\"@example.com")),
			"\"x+20y\"@example.com");
    assert_string_equal(STR(xtext_quote(buf, "\t\x7f\xc3\xa9~!")),
			"+09+7F+C3+A9~!");
    vstring_free(buf);
}

static void test_unquote(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    assert_string_equal(unquote(buf, "", 0), "");
    assert_string_equal(unquote(buf, "abc+2Bdef", 0), "abc+def");
    assert_string_equal(unquote(buf, "abc+2bdef", 0), "abc+def");
    assert_string_equal(unquote(buf, "user@example.com", 0), "user@example.com");
    assert_string_equal(unquote(buf, "a=b", 0), "a=b");
    assert_string_equal(unquote(buf, "+20+7E", 0), " ~");
    /* refused */
    assert_string_equal(unquote(buf, "abc+", 0), "(null)");
    assert_string_equal(unquote(buf, "abc+2", 0), "(null)");
    assert_string_equal(unquote(buf, "abc+2G", 0), "(null)");
    assert_string_equal(unquote(buf, "+00", 0), "(null)");
    assert_string_equal(unquote(buf, "a b", 0), "(null)");
    assert_string_equal(unquote(buf, "a\tb", 0), "(null)");
    assert_string_equal(unquote(buf, "caf\xc3\xa9", 0), "(null)");
    assert_string_equal(unquote(buf, "a\\x{41}", 0), "a\\x{41}");
    vstring_free(buf);
}

static void test_round_trip(void **state)
{
    VSTRING *enc = vstring_alloc(10);
    VSTRING *dec = vstring_alloc(10);
    char    all[256];
    int     i;

    for (i = 1; i < 256; i++)
	all[i - 1] = i;
    all[255] = 0;
    xtext_quote(enc, all);
    assert_non_null(xtext_unquote(dec, STR(enc)));
    assert_string_equal(STR(dec), all);
    vstring_free(enc);
    vstring_free(dec);
}

static void test_utf8(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    assert_string_equal(unquote(buf, "caf\xc3\xa9@x", 1), "caf\xc3\xa9@x");
    assert_string_equal(unquote(buf, "caf\\x{E9}@x", 1), "caf\xc3\xa9@x");
    assert_string_equal(unquote(buf, "\\x{41}\\x{20AC}\\x{1F600}", 1),
			"A\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_string_equal(unquote(buf, "a+2Bb", 1), "a+b");
    assert_string_equal(unquote(buf, "\\x{}", 1), "(null)");
    assert_string_equal(unquote(buf, "\\x{0}", 1), "(null)");
    assert_string_equal(unquote(buf, "\\x{D800}", 1), "(null)");
    assert_string_equal(unquote(buf, "\\x{110000}", 1), "(null)");
    assert_string_equal(unquote(buf, "\\x{1234567}", 1), "(null)");
    assert_string_equal(unquote(buf, "\\x{41", 1), "(null)");
    assert_string_equal(unquote(buf, "\\x", 1), "(null)");
    assert_string_equal(unquote(buf, "\\", 1), "(null)");
    assert_string_equal(unquote(buf, "a b", 1), "(null)");
    vstring_free(buf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_quote),
	cmocka_unit_test(test_unquote),
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_utf8),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
