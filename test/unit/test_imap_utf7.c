/*
 * test_imap_utf7.c - unit tests for lib/mail/imap_utf7.c: modified UTF-7
 * mailbox names (RFC 3501 section 5.1.3) to and from UTF-8.
 *
 * RFC 3501's own examples (valid and invalid), names in several scripts,
 * characters outside the BMP, control characters; every kind of input
 * that must be refused in either direction; round trips over every BMP
 * character, a sample of astral ones and pseudo-random mixed strings; and
 * an exhaustive check of short modified UTF-7 strings over a small
 * alphabet: whatever decodes must encode back to exactly the input.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "vstring.h"
#include "imap_utf7.h"

/* decode - the UTF-8 form of NAME, or "(refused)" */

static const char *decode(VSTRING *buf, const char *name)
{
    if (imap_utf7_to_utf8(buf, name) < 0) {
	assert_int_equal(LEN(buf), 0);
	return ("(refused)");
    }
    assert_int_equal(strlen(STR(buf)), LEN(buf));
    return (STR(buf));
}

/* encode - the modified UTF-7 form of NAME, or "(refused)" */

static const char *encode(VSTRING *buf, const char *name)
{
    if (imap_utf8_to_utf7(buf, name) < 0) {
	assert_int_equal(LEN(buf), 0);
	return ("(refused)");
    }
    return (STR(buf));
}

/* utf8 - code point CP as UTF-8 (no checks: tests only) */

static void utf8(VSTRING *out, unsigned cp)
{
    if (cp < 0x80) {
	vstring_addch(out, (int) cp);
    } else if (cp < 0x800) {
	vstring_addch(out, (int) (0xc0 | (cp >> 6)));
	vstring_addch(out, (int) (0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
	vstring_addch(out, (int) (0xe0 | (cp >> 12)));
	vstring_addch(out, (int) (0x80 | ((cp >> 6) & 0x3f)));
	vstring_addch(out, (int) (0x80 | (cp & 0x3f)));
    } else {
	vstring_addch(out, (int) (0xf0 | (cp >> 18)));
	vstring_addch(out, (int) (0x80 | ((cp >> 12) & 0x3f)));
	vstring_addch(out, (int) (0x80 | ((cp >> 6) & 0x3f)));
	vstring_addch(out, (int) (0x80 | (cp & 0x3f)));
    }
}

/* round_trip - UTF-8 TEXT encodes, and decodes back to itself */

static void round_trip(const char *text)
{
    VSTRING *enc = vstring_alloc(100);
    VSTRING *dec = vstring_alloc(100);
    const char *cp;

    if (imap_utf8_to_utf7(enc, text) < 0)
	fail_msg("cannot encode \"%s\"", text);
    for (cp = STR(enc); *cp; cp++)
	if (*cp < 0x20 || *cp > 0x7e)
	    fail_msg("encoded \"%s\" is not printable ASCII", text);
    if (imap_utf7_to_utf8(dec, STR(enc)) < 0)
	fail_msg("\"%s\" (from \"%s\") does not decode", STR(enc), text);
    assert_string_equal(STR(dec), text);
    vstring_free(enc);
    vstring_free(dec);
}

static void test_rfc3501_examples(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    /* Section 5.1.3: English, Chinese and Japanese */
    assert_string_equal(decode(buf, "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
			"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    assert_string_equal(encode(buf, "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
			       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
			"~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    /* "&Jjo!" lacks the shift back; "&Jjo-!" is right */
    assert_string_equal(decode(buf, "&Jjo!"), "(refused)");
    assert_string_equal(decode(buf, "&Jjo-!"), "\xe2\x98\xba!");
    assert_string_equal(encode(buf, "\xe2\x98\xba!"), "&Jjo-!");
    /* a superfluous shift; one run is the correct form */
    assert_string_equal(decode(buf, "&U,BTFw-&ZeVnLIqe-"), "(refused)");
    assert_string_equal(decode(buf, "&U,BTF2XlZyyKng-"),
			"\xe5\x8f\xb0\xe5\x8c\x97"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    assert_string_equal(encode(buf, "\xe5\x8f\xb0\xe5\x8c\x97"
			       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
			"&U,BTF2XlZyyKng-");
    /* "&" is "&-" */
    assert_string_equal(decode(buf, "&-"), "&");
    assert_string_equal(encode(buf, "&"), "&-");
    vstring_free(buf);
}

static void test_decode(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    assert_string_equal(decode(buf, ""), "");
    assert_string_equal(decode(buf, "INBOX"), "INBOX");
    assert_string_equal(decode(buf, " !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"),
			" !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~");
    assert_string_equal(decode(buf, "a&-b&-&-"), "a&b&&");
    assert_string_equal(decode(buf, "Entw&APw-rfe"), "Entw\xc3\xbcrfe");
    assert_string_equal(decode(buf, "&ZeVnLIqe-"),
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    assert_string_equal(decode(buf, "&AOQA9gD8-"), "\xc3\xa4\xc3\xb6\xc3\xbc");
    assert_string_equal(decode(buf, "&ANw-n&AO8-c&APg-d&AOk-.test"),
			"\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9.test");
    /* a run, then "&-" or "-" */
    assert_string_equal(decode(buf, "&AOQ-&-"), "\xc3\xa4&");
    assert_string_equal(decode(buf, "&AOQ--"), "\xc3\xa4-");
    /* surrogate pairs */
    assert_string_equal(decode(buf, "&2D3eAA-"), "\xf0\x9f\x98\x80");
    assert_string_equal(decode(buf, "&2,,f,w-"), "\xf4\x8f\xbf\xbf");
    /* U+FFFF, and control characters, which must be encoded */
    assert_string_equal(decode(buf, "&,,8-"), "\xef\xbf\xbf");
    assert_string_equal(decode(buf, "&AAE-"), "\x01");
    assert_string_equal(decode(buf, "a&AAk-b"), "a\tb");
    assert_string_equal(decode(buf, "&AH8-"), "\x7f");
    vstring_free(buf);
}

static void test_decode_refused(void **state)
{
    static const char *bad[] = {
	/* a run that is not closed */
	"&", "a&", "&AOQ", "&Jjo!", "&AOQ&-",
	/* not in the modified BASE64 alphabet */
	"&A/Q-", "&AOQ=-", "&AO Q-", "&AO&Q-", "&AO.Q-",
	/* empty or too short runs, too many or non-zero leftover bits */
	"&A-", "&AO-", "&AOR-", "&AOT-", "&AOQA-", "&AOQAA-", "&AOQA9gD8A-",
	/* printable ASCII that must be written as itself, U+0000 */
	"&AGE-", "&ACY-", "&ACA-", "&AH4-", "&AC0-", "&AAA-", "&AOQAYQ-",
	/* two runs in a row */
	"&AOQ-&APY-", "a&AOQ-&APY-b",
	/* surrogates: lone high, lone low, reversed, high high */
	"&2D0-", "&2D0AYQ-", "&3gA-", "&3gDYPQ-", "&2D3YPQ-", "&2D3YPd4A-",
	/* 8-bit bytes and raw control characters */
	"caf\xc3\xa9", "\x80", "\xff", "a\tb", "\x01", "a\x7f", "a\nb",
	0,
    };
    VSTRING *buf = vstring_alloc(10);
    int     i;

    for (i = 0; bad[i]; i++) {
	vstring_strcpy(buf, "left over");
	if (imap_utf7_to_utf8(buf, bad[i]) == 0)
	    fail_msg("\"%s\" was accepted as \"%s\"", bad[i], STR(buf));
	assert_int_equal(LEN(buf), 0);
    }
    vstring_free(buf);
}

static void test_encode(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    assert_string_equal(encode(buf, ""), "");
    assert_string_equal(encode(buf, "INBOX.Sent Items"), "INBOX.Sent Items");
    assert_string_equal(encode(buf, "a&b&&"), "a&-b&-&-");
    assert_string_equal(encode(buf, "Entw\xc3\xbcrfe"), "Entw&APw-rfe");
    assert_string_equal(encode(buf, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
			"&ZeVnLIqe-");
    assert_string_equal(encode(buf, "\xc3\xa4\xc3\xb6\xc3\xbc"), "&AOQA9gD8-");
    assert_string_equal(encode(buf, "\xc3\xa4&"), "&AOQ-&-");
    assert_string_equal(encode(buf, "\xc3\xa4-"), "&AOQ--");
    assert_string_equal(encode(buf, "\xf0\x9f\x98\x80"), "&2D3eAA-");
    assert_string_equal(encode(buf, "\xf4\x8f\xbf\xbf"), "&2,,f,w-");
    assert_string_equal(encode(buf, "\xef\xbf\xbf"), "&,,8-");
    assert_string_equal(encode(buf, "\x01"), "&AAE-");
    assert_string_equal(encode(buf, "a\tb"), "a&AAk-b");
    assert_string_equal(encode(buf, "\x7f"), "&AH8-");
    assert_string_equal(encode(buf, "\xc2\x80"), "&AIA-");
    vstring_free(buf);
}

static void test_encode_refused(void **state)
{
    static const char *bad[] = {
	"\x80",				/* continuation byte first */
	"a\xbf",
	"\xc3",				/* truncated */
	"\xc3(", "\xe6\x97", "\xe6\x97(", "\xf0\x9f\x98", "\xf0\x9f\x98 ",
	"\xc0\xaf", "\xc1\xbf",		/* overlong */
	"\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",
	"\xed\xa0\x80", "\xed\xbf\xbf",	/* surrogates */
	"\xed\xa0\xbd\xed\xb8\x80",	/* CESU-8 pair */
	"\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf",	/* above U+10FFFF */
	"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff",
	"ok\xc3\xa4then\xff",
	0,
    };
    VSTRING *buf = vstring_alloc(10);
    int     i;

    for (i = 0; bad[i]; i++) {
	vstring_strcpy(buf, "left over");
	if (imap_utf8_to_utf7(buf, bad[i]) == 0)
	    fail_msg("bad UTF-8 #%d was accepted as \"%s\"", i, STR(buf));
	assert_int_equal(LEN(buf), 0);
    }
    vstring_free(buf);
}

/* test_round_trip_bmp - every BMP character alone, and between ASCII */

static void test_round_trip_bmp(void **state)
{
    VSTRING *text = vstring_alloc(100);
    unsigned cp;

    for (cp = 1; cp < 0x10000; cp++) {
	if (cp >= 0xd800 && cp <= 0xdfff)
	    continue;
	vstring_reset(text);
	utf8(text, cp);
	round_trip(STR(text));
	vstring_strcpy(text, "x");
	utf8(text, cp);
	utf8(text, cp);
	vstring_addch(text, '&');
	utf8(text, cp);
	round_trip(STR(text));
    }
    vstring_free(text);
}

/* test_round_trip_astral - planes 1-16, each alone and in runs */

static void test_round_trip_astral(void **state)
{
    VSTRING *text = vstring_alloc(100);
    unsigned cp;

    for (cp = 0x10000; cp <= 0x10ffff; cp += 0x3ff) {
	vstring_reset(text);
	utf8(text, cp);
	round_trip(STR(text));
	utf8(text, 0xe9);
	utf8(text, cp + 1 <= 0x10ffff ? cp + 1 : cp);
	vstring_addch(text, '.');
	round_trip(STR(text));
    }
    vstring_free(text);
}

/* test_round_trip_random - mixed strings from a fixed pseudo-random walk */

static void test_round_trip_random(void **state)
{
    static const unsigned pool[] = {
	'a', 'Z', '&', '-', '.', '/', ' ', '~', 0x01, 0x7f, 0xe9, 0xfc, 0x3b1,
	0x5d0, 0x263a, 0x65e5, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x1f600,
	0x10ffff,
    };
    VSTRING *text = vstring_alloc(100);
    unsigned long seed = 12345;
    int     n, len, i;

    for (n = 0; n < 20000; n++) {
	vstring_reset(text);
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	len = (int) ((seed >> 33) % 12) + 1;
	for (i = 0; i < len; i++) {
	    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	    utf8(text, pool[(seed >> 33) % (sizeof(pool) / sizeof(pool[0]))]);
	}
	round_trip(STR(text));
    }
    vstring_free(text);
}

/*
 * test_canonical - every string of up to 5 characters over an alphabet
 * that makes runs, shifts and near misses: what decodes must encode back
 * to the same bytes, and what encodes must be accepted.
 */
static void test_canonical(void **state)
{
    static const char alpha[] = "&-AOQ2D3e,a";
    const int nalpha = (int) sizeof(alpha) - 1;
    VSTRING *dec = vstring_alloc(100);
    VSTRING *enc = vstring_alloc(100);
    char    name[6];
    int     idx[5];
    int     len, i, accepted = 0;

    for (len = 1; len <= 5; len++) {
	memset(idx, 0, sizeof(idx));
	for (;;) {
	    for (i = 0; i < len; i++)
		name[i] = alpha[idx[i]];
	    name[len] = 0;
	    if (imap_utf7_to_utf8(dec, name) == 0) {
		accepted++;
		if (imap_utf8_to_utf7(enc, STR(dec)) < 0)
		    fail_msg("\"%s\" decodes to bad UTF-8", name);
		if (strcmp(STR(enc), name) != 0)
		    fail_msg("\"%s\" decodes, but encodes as \"%s\"", name,
			     STR(enc));
	    }
	    for (i = len - 1; i >= 0 && ++idx[i] == nalpha; i--)
		idx[i] = 0;
	    if (i < 0)
		break;
	}
    }
    assert_true(accepted > 1000);
    vstring_free(dec);
    vstring_free(enc);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rfc3501_examples),
	cmocka_unit_test(test_decode),
	cmocka_unit_test(test_decode_refused),
	cmocka_unit_test(test_encode),
	cmocka_unit_test(test_encode_refused),
	cmocka_unit_test(test_round_trip_bmp),
	cmocka_unit_test(test_round_trip_astral),
	cmocka_unit_test(test_round_trip_random),
	cmocka_unit_test(test_canonical),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
