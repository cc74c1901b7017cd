/*
 * test_message_decode.c - unit tests for lib/mail/message_decode.c.
 *
 * Base64 and quoted-printable bodies (soft line breaks, trailing white
 * space, broken escapes, padding in the middle), fed whole and cut at
 * every position; charset conversion with iconv (Latin-1, Windows-1252,
 * Shift_JIS and stateful ISO-2022-JP, characters cut between pieces,
 * invalid bytes, unknown charsets read as UTF-8); RFC 2047 encoded words
 * in header values (adjacent words, white space between them, a
 * character cut between two words, mixed charsets, folding, broken words
 * left alone).
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_decode.h"

/* decode - ENCODED through a decoder, cut at POS (or whole if POS < 0) */

static void decode(const char *cte, const char *charset, const char *in,
		           size_t len, ssize_t pos, VSTRING *out)
{
    MESSAGE_DECODER *dec = message_decoder_create(cte, charset);

    vstring_reset(out);
    if (pos < 0) {
	message_decoder_feed(dec, in, len, out);
    } else {
	message_decoder_feed(dec, in, pos, out);
	message_decoder_feed(dec, in + pos, len - pos, out);
    }
    message_decoder_finish(dec, out);
    message_decoder_free(dec);
}

/* check - whole, cut at every position, and one byte at a time */

static void check_len(const char *cte, const char *charset, const char *in,
		              size_t len, const char *want, size_t want_len)
{
    VSTRING *out = vstring_alloc(100);
    MESSAGE_DECODER *dec;

    for (ssize_t pos = -1; pos <= (ssize_t) len; pos++) {
	decode(cte, charset, in, len, pos, out);
	if (LEN(out) != want_len || memcmp(STR(out), want, want_len) != 0)
	    fail_msg("%s/%s <%s> cut at %ld: got <%s> want <%s>", cte ? cte : "-",
		     charset ? charset : "-", in, (long) pos, STR(out), want);
    }
    vstring_reset(out);
    dec = message_decoder_create(cte, charset);
    for (size_t i = 0; i < len; i++)
	message_decoder_feed(dec, in + i, 1, out);
    message_decoder_finish(dec, out);
    message_decoder_free(dec);
    assert_int_equal(LEN(out), want_len);
    assert_memory_equal(STR(out), want, want_len);
    vstring_free(out);
}

static void check(const char *cte, const char *charset, const char *in,
		          const char *want)
{
    check_len(cte, charset, in, strlen(in), want, strlen(want));
}

static void test_base64(void **state)
{
    check("base64", 0, "SGVsbG8gV29ybGQ=", "Hello World");
    check("BASE64", 0, "SGVs\r\nbG8g\r\n V29y bGQ=\r\n", "Hello World");
    check("base64", 0, "SGk=SGk=", "HiHi");	/* padding, then more */
    check("base64", 0, "SGk", "Hi");		/* no padding */
    check("base64", 0, "S!G@k#=", "Hi");	/* garbage skipped */
    check("base64", 0, "S", "");
    check("base64", 0, "", "");
    check_len("base64", 0, "AAEC/w==", 8, "\0\1\2\377", 4);
}

static void test_quoted_printable(void **state)
{
    check("quoted-printable", 0, "a=3Db", "a=b");
    check("quoted-printable", 0, "abc=\r\ndef", "abcdef");
    check("quoted-printable", 0, "abc=\ndef", "abcdef");
    check("quoted-printable", 0, "abc= \t\r\ndef", "abcdef");
    check("quoted-printable", 0, "abc \t \r\ndef  \nx", "abc\r\ndef\nx");
    check("quoted-printable", 0, "a b\r\n", "a b\r\n");
    check("quoted-printable", 0, "=ZZ=4", "=ZZ=4");
    check("quoted-printable", 0, "=c3=A4", "\xc3\xa4");
    check("quoted-printable", 0, "= x", "= x");
    check("quoted-printable", 0, "a=\r", "a");
    check("quoted-printable", 0, "a=\rb", "a=\rb");
    check("quoted-printable", 0, "x\ry\r", "x\ry\r");
    check("quoted-printable", 0, "end=", "end");
    check("quoted-printable", 0, "sp  ", "sp");
    check("7bit", 0, "a=3D b  \r\n", "a=3D b  \r\n");
    check(0, 0, "raw", "raw");
    check("x-unknown", 0, "raw", "raw");
}

static void test_charsets(void **state)
{
    check(0, "iso-8859-1", "K\xe4se", "K\xc3\xa4se");
    check(0, "windows-1252", "\x80 5", "\xe2\x82\xac 5");
    check(0, "Shift_JIS", "\x82\xa0", "\xe3\x81\x82");
    check(0, "ISO-2022-JP", "\x1b$B$3$s\x1b(B!", "\xe3\x81\x93\xe3\x82\x93!");
    check(0, "utf-8", "ok \xc3\xa4 \xe2\x82\xac \xf0\x9f\x93\xab", "ok \xc3\xa4 \xe2\x82\xac \xf0\x9f\x93\xab");
    check(0, "utf-8", "bad \xff \xc3( \xed\xa0\x80", "bad \xef\xbf\xbd \xef\xbf\xbd( "
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    check(0, "us-ascii", "8bit \xc3\xa4", "8bit \xc3\xa4");
    check(0, "x-no-such-charset", "\xc3\xa4\xff", "\xc3\xa4\xef\xbf\xbd");
    check(0, "utf-8", "cut \xe2\x82", "cut \xef\xbf\xbd");
    check(0, "Shift_JIS", "bad \x82", "bad \xef\xbf\xbd");
    /* glibc reads "utf-8~" as UTF-8 and lets old 5-byte forms through */
    check(0, "utf-8~", "a \xfa\xbf\xbf\xbf\xbf b", "a \xef\xbf\xbd\xef\xbf\xbd"
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd b");
    check("base64", "iso-8859-1", "R3L832U=", "Gr\xc3\xbc\xc3\x9f" "e");
    check("quoted-printable", "windows-1252", "=80=E4", "\xe2\x82\xac\xc3\xa4");
    assert_true(charset_known("UTF-8"));
    assert_true(charset_known("iso-8859-15"));
    assert_true(charset_known(0));
    assert_false(charset_known("x-no-such-charset"));
}

static void check_header(const char *in, const char *want)
{
    VSTRING *out = vstring_alloc(100);

    message_header_decode(out, in, strlen(in));
    if (strcmp(STR(out), want) != 0)
	fail_msg("<%s>: got <%s> want <%s>", in, STR(out), want);
    vstring_free(out);
}

static void test_header(void **state)
{
    check_header("plain text", "plain text");
    check_header("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?=",
		 "caf\xc3\xa9 cr\xc3\xa8me");
    check_header("=?iso-8859-1?q?J=F6rg_M=FCller?= <j@x>",
		 "J\xc3\xb6rg M\xc3\xbcller <j@x>");
    check_header("=?UTF-8?B?V2Vla2x5IGRpZ2VzdDogw6lkaXRpb24gMw==?=",
		 "Weekly digest: \xc3\xa9" "dition 3");
    check_header("=?utf-8?q?=C3?= \r\n =?utf-8?q?=A4?=", "\xc3\xa4");
    check_header("=?iso-8859-1?q?=E4?=\t=?utf-8?q?=C3=A4?=", "\xc3\xa4\xc3\xa4");
    check_header("=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c");
    check_header("a\r\n b\n\tc", "a b\tc");
    check_header("=?utf-8*en?q?x?=", "x");
    check_header("x=?utf-8?q?y?=z", "xyz");
    check_header("=?x-unknown?q?=C3=A4?=", "\xc3\xa4");
    check_header("=?utf-8?q?" "?=", "");
    /* Not encoded words: left as they are */
    check_header("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
    check_header("=?utf-8?q?a b?=", "=?utf-8?q?a b?=");
    check_header("=?utf-8?q?abc", "=?utf-8?q?abc");
    check_header("=?", "=?");
    check_header("=?" "?q?a?=", "=?" "?q?a?=");
    check_header("raw \xff", "raw \xef\xbf\xbd");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_base64),
	cmocka_unit_test(test_quoted_printable),
	cmocka_unit_test(test_charsets),
	cmocka_unit_test(test_header),
    };

    return (cmocka_run_group_tests_name("message_decode", tests, 0, 0));
}
