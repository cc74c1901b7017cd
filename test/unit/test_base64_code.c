/*
 * test_base64_code.c - unit tests for lib/util/base64_code.c: RFC 4648's
 * test vectors both ways, binary data with NULs (SASL PLAIN), and bad
 * input (wrong length, bad characters, misplaced padding, white space).
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "base64_code.h"

static void test_vectors(void **state)
{
    static const char *pairs[][2] = {
	{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
	{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
	assert_string_equal(STR(base64_encode(buf, pairs[i][0], strlen(pairs[i][0]))),
			    pairs[i][1]);
	assert_int_equal(base64_decode(buf, pairs[i][1], strlen(pairs[i][1])), 0);
	assert_string_equal(STR(buf), pairs[i][0]);
    }
    vstring_free(buf);
}

static void test_binary(void **state)
{
    const char plain[] = "\0demo\0secret pw";
    VSTRING *enc = vstring_alloc(10);
    VSTRING *dec = vstring_alloc(10);

    base64_encode(enc, plain, sizeof(plain) - 1);
    assert_string_equal(STR(enc), "AGRlbW8Ac2VjcmV0IHB3");
    assert_int_equal(base64_decode(dec, STR(enc), LEN(enc)), 0);
    assert_int_equal(LEN(dec), sizeof(plain) - 1);
    assert_memory_equal(STR(dec), plain, sizeof(plain) - 1);
    vstring_free(enc);
    vstring_free(dec);
}

static void test_bad_input(void **state)
{
    static const char *bad[] = {
	"Zg=", "Zg", "Z===", "=Zg=", "Zg==Zg==", "Zm9v YmFy", "Zm9v\r\n",
	"Zm9*", "Zm=v", "\xc3\xa9\xc3\xa9", "Zg\0=",
    };
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	assert_int_equal(base64_decode(buf, bad[i], i == 10 ? 4 : strlen(bad[i])), -1);
    vstring_free(buf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_vectors),
	cmocka_unit_test(test_binary),
	cmocka_unit_test(test_bad_input),
    };

    return (cmocka_run_group_tests_name("base64_code", tests, 0, 0));
}
