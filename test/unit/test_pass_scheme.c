/*
 * test_pass_scheme.c - unit tests for lib/sasl/pass_scheme.c.
 *
 * The stored passwords are what Dovecot 2.3's "doveadm pw -s SCHEME -p
 * 'Tr0ub4dor&3'" printed, so each scheme is checked against Dovecot's
 * own encoding: the right password matches, a wrong one and one that
 * differs only in its last byte or length do not.  Bad input: unknown
 * schemes, a hash under the wrong scheme name, truncated and junk data,
 * an unclosed brace, empty data; the default scheme for data without
 * braces.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "pass_scheme.h"

#define GOOD	"Tr0ub4dor&3"

static const char *const dovecot_hashes[] = {
    "{SHA512-CRYPT}$6$bf9JdlX1UFkfBunu$.sI7Fb0f9C1BTdD9IpGX8gd4BtESDnQRgkfA7ICSPL.VXr7gSDVWILIJr09SpwBsxl0cwPGYIOGvfOJqOkkVi/",
    "{SHA256-CRYPT}$5$5zfFVXPtELqIaUQq$4D7az2a8Ff3gUQQRFQdof0PQUVef7setOri2lC.r/Y3",
    "{MD5-CRYPT}$1$LfdHiJW5$9ToQTkHr25PDLw5BdOWvo1",
    "{BLF-CRYPT}$2y$05$5H8qVDA1/zlIeFfMYVDGa.rQyxVQds62TOxLhiQQWVjzyHUkJLY6C",
    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$ZyhYmNTpZH7IAGuZ1v5D7Q$nlzlBsuxJFGEBcnJrL8jR8BxOLh/VnTVIZf/3Ubg3Yc",
    "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$4ATxtXIsqGOPXYAmNkuxqg$1NmLVh4EzCgTYvlT8MVvkFZZhM+69dbRjOnrNnHl4lo",
    "{SSHA}QFowUqnWK/84tT3QZ5ratQ0C0gNi1lAW",
    "{SSHA256}6OSJCTljXYirdX001RqMtShhGdMcQyEBcsY8nxahDhbwlR/8",
    "{SSHA512}73u/IkW2iki3V5a0L6IhTT8lOlexX1IhbSCgqbQDTCd2pnjL8uW4J7B9j9taTkDlHhop7F1qLbKmlxlk4P8m8n55600=",
    "{SHA}h0Vy56WuaklGamrFeLmK26eMaqY=",
    "{SHA256}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc=",
    "{SHA512}xyu2IccEDPS2R0BjqaeXJpDiUvNa2+fPr/Wx7iMW7+c4LnI9QeATor+8M8MAfFDFhH0hqInM6DhTbqxyeAjeQA==",
    "{PLAIN-MD5}4ece57a61323b52ccffdbef021956754",
    "{LDAP-MD5}Ts5XphMjtSzP/b7wIZVnVA==",
    "{SMD5}gd3F0g/yQ75flEQ9XMtxZ6atll4=",
    "{SHA256.HEX}48486e1514e842346ff405b1e45f44059ae82619f2306f99d0940dcb386e91f7",
    "{CRYPT}$2y$05$iyEYjXEoWbECo270dy9lN.0DHhmbLz0/Cx3wHfB3jFpnvQ4jSuUSW",
    "{PLAIN}" GOOD,
    "{CLEAR}" GOOD,
    0,
};

static int verify(const char *stored, const char *password)
{
    VSTRING *why = vstring_alloc(100);
    int     ret = pass_scheme_verify(stored, password, "CRYPT", why);

    if (ret == PASS_SCHEME_ERROR)
	assert_true(LEN(why) > 0);
    vstring_free(why);
    return (ret);
}

static void test_dovecot_hashes(void **unused)
{
    for (int i = 0; dovecot_hashes[i]; i++) {
	if (verify(dovecot_hashes[i], GOOD) != PASS_SCHEME_MATCH)
	    fail_msg("no match: %s", dovecot_hashes[i]);
	if (verify(dovecot_hashes[i], "Tr0ub4dor&4") != PASS_SCHEME_MISMATCH)
	    fail_msg("wrong password matched: %s", dovecot_hashes[i]);
	if (verify(dovecot_hashes[i], GOOD "x") != PASS_SCHEME_MISMATCH)
	    fail_msg("longer password matched: %s", dovecot_hashes[i]);
	if (verify(dovecot_hashes[i], "") != PASS_SCHEME_MISMATCH)
	    fail_msg("empty password matched: %s", dovecot_hashes[i]);
    }
}

static void test_default_scheme(void **unused)
{
    VSTRING *why = vstring_alloc(100);

    /* no braces: the default scheme; CRYPT takes any crypt(3) hash */
    assert_int_equal(pass_scheme_verify("$1$LfdHiJW5$9ToQTkHr25PDLw5BdOWvo1", GOOD,
					"CRYPT", why), PASS_SCHEME_MATCH);
    assert_int_equal(pass_scheme_verify(GOOD, GOOD, "PLAIN", why), PASS_SCHEME_MATCH);
    assert_int_equal(pass_scheme_verify("4ece57a61323b52ccffdbef021956754", GOOD,
					"plain-md5", why), PASS_SCHEME_MATCH);
    /* a scheme name is case-insensitive */
    assert_int_equal(pass_scheme_verify("{sha512-crypt}$6$bf9JdlX1UFkfBunu$.sI7Fb0f9C1BTdD9IpGX8gd4BtESDnQRgkfA7ICSPL.VXr7gSDVWILIJr09SpwBsxl0cwPGYIOGvfOJqOkkVi/",
					GOOD, "CRYPT", why), PASS_SCHEME_MATCH);
    vstring_free(why);
}

static void test_bad_stored(void **unused)
{
    /* unknown scheme, and an unknown default */
    assert_int_equal(verify("{ROT13}" GOOD, GOOD), PASS_SCHEME_ERROR);
    {
	VSTRING *why = vstring_alloc(10);

	assert_int_equal(pass_scheme_verify("x", "x", "NOSUCH", why), PASS_SCHEME_ERROR);
	assert_string_equal(STR(why), "unknown password scheme");
	vstring_free(why);
    }
    /* a hash under another scheme's name */
    assert_int_equal(verify("{SHA512-CRYPT}$1$LfdHiJW5$9ToQTkHr25PDLw5BdOWvo1", GOOD),
		     PASS_SCHEME_ERROR);
    /* truncated, junk, empty */
    assert_int_equal(verify("{SHA512-CRYPT}$6$bf9J", GOOD), PASS_SCHEME_MISMATCH);
    assert_int_equal(verify("{ARGON2ID}$argon2id$v=19$m=65536", GOOD), PASS_SCHEME_ERROR);
    assert_int_equal(verify("{SSHA}QFowUqnW", GOOD), PASS_SCHEME_ERROR);
    assert_int_equal(verify("{SHA}!!!not base64!!!", GOOD), PASS_SCHEME_ERROR);
    assert_int_equal(verify("{SHA256}h0Vy56WuaklGamrFeLmK26eMaqY=", GOOD), PASS_SCHEME_ERROR);
    assert_int_equal(verify("{PLAIN}", ""), PASS_SCHEME_ERROR);
    assert_int_equal(verify("{CRYPT}\001\002\377", GOOD), PASS_SCHEME_ERROR);
    assert_int_equal(verify("*", GOOD), PASS_SCHEME_ERROR);
    assert_int_equal(verify("!", "!"), PASS_SCHEME_ERROR);
    /* an unclosed brace is data in the default scheme (no crypt hash) */
    assert_int_equal(verify("{SHA512-CRYPT", GOOD), PASS_SCHEME_ERROR);
}

static void test_known(void **unused)
{
    assert_true(pass_scheme_known("SHA512-CRYPT"));
    assert_true(pass_scheme_known("argon2id"));
    assert_true(pass_scheme_known("SSHA.B64"));
    assert_false(pass_scheme_known("CRAM-MD5"));
    assert_false(pass_scheme_known(""));
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_dovecot_hashes),
	cmocka_unit_test(test_default_scheme),
	cmocka_unit_test(test_bad_stored),
	cmocka_unit_test(test_known),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
