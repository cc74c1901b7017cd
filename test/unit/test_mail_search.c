/*
 * test_mail_search.c - unit tests for lib/mail/mail_search.c.
 *
 * Case folding (ASCII, Latin-1, Latin Extended-A, Greek with final
 * sigma, Cyrillic), keys and texts cut at every byte between pieces,
 * invalid UTF-8, the empty key, reset, and a randomized comparison with
 * a naive search (keys with repeated prefixes, where a wrong failure
 * table shows).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <setjmp.h>
#include <cmocka.h>
#include "mail_search.h"

/* found_in_pieces - search TEXT fed as two pieces cut at every position */

static void check(const char *key, const char *text, int want)
{
    size_t  len = strlen(text);

    assert_int_equal(mail_search_text(key, strlen(key), text, len), want);
    for (size_t cut = 0; cut <= len; cut++) {
	MAIL_SEARCH *search = mail_search_create(key, strlen(key));
	int     found;

	(void) mail_search_feed(search, text, cut);
	found = mail_search_feed(search, text + cut, len - cut);
	if (found != want)
	    fail_msg("key <%s> text <%s> cut at %zu: %d", key, text, cut, found);
	assert_int_equal(mail_search_found(search), want);
	mail_search_free(search);
    }
}

static void test_ascii(void **state)
{
    check("hello", "Say HeLLo world", 1);
    check("HELLO", "say hello", 1);
    check("hellos", "say hello", 0);
    check("aab", "aaab", 1);
    check("abab", "abaabab", 1);
    check("", "", 1);
    check("", "anything", 1);
    check("x", "", 0);
    check("a\r\nb", "A\r\nB", 1);
}

static void test_folding(void **state)
{
    check("k\xc3\xa4se", "K\xc3\x84SE", 1);			/* Latin-1 */
    check("\xc3\xa0\xc3\xbf", "\xc3\x80\xc5\xb8", 1);		/* y diaeresis */
    check("stra\xc3\x9f" "e", "STRA\xe1\xba\x9e" "E", 1);	/* capital sharp s */
    check("\xc5\x82\xc3\xb3" "d\xc5\xba", "\xc5\x81\xc3\x93" "D\xc5\xb9", 1);	/* Polish */
    check("\xc4\x8d", "\xc4\x8c", 1);				/* c caron */
    check("\xc3\x97", "\xc3\xb7", 0);				/* x and / are no case pair */
    check("\xce\xbf\xce\xb4\xcf\x8c\xcf\x82", "\xce\x9f\xce\x94\xce\x8c\xce\xa3", 1);	/* Greek, final sigma */
    check("\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0\xd1\x91",
	  "\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90\xd0\x81", 1);	/* Cyrillic with yo */
    check("\xc2\xb5", "\xce\x9c", 1);				/* micro sign, capital mu */
    assert_int_equal(mail_search_fold('Q'), 'q');
    assert_int_equal(mail_search_fold(0x100), 0x101);
    assert_int_equal(mail_search_fold(0x139), 0x13a);
    assert_int_equal(mail_search_fold(0x17f), 's');
    assert_int_equal(mail_search_fold(0x4c1), 0x4c2);
    assert_int_equal(mail_search_fold(0x20ac), 0x20ac);
}

static void test_broken_utf8(void **state)
{
    check("a\xef\xbf\xbd" "b", "A\xff" "B", 1);	/* bad bytes are U+FFFD */
    check("ab", "a\xc3", 0);
    check("\xc3", "x\xc3\xa4", 0);		/* a cut key is U+FFFD */
    check("\xe2\x82\xac", "\xe2\x82", 0);
}

static void test_reset(void **state)
{
    MAIL_SEARCH *search = mail_search_create("abc", 3);

    assert_int_equal(mail_search_feed(search, "xab", 3), 0);
    assert_int_equal(mail_search_feed(search, "c", 1), 1);
    assert_int_equal(mail_search_feed(search, "zzz", 3), 1);
    mail_search_reset(search);
    assert_int_equal(mail_search_feed(search, "c", 1), 0);
    assert_int_equal(mail_search_feed(search, "\xe2\x82", 2), 0);
    mail_search_reset(search);				/* drops the cut character */
    assert_int_equal(mail_search_feed(search, "\xac" "abc", 4), 1);
    mail_search_free(search);
}

/* naive - lower-case substring search */

static int naive(const char *key, size_t klen, const char *text, size_t len)
{
    for (size_t i = 0; i + klen <= len; i++) {
	size_t  j;

	for (j = 0; j < klen && tolower((unsigned char) text[i + j])
	     == tolower((unsigned char) key[j]); j++)
	     /* void */ ;
	if (j == klen)
	    return (1);
    }
    return (klen == 0);
}

static void test_random(void **state)
{
    unsigned seed = 7;
    char    key[8], text[64];

    for (int round = 0; round < 20000; round++) {
	size_t  klen = (seed = seed * 1103515245 + 12345) >> 16 & 7;
	size_t  len = (seed = seed * 1103515245 + 12345) >> 16 & 63;
	MAIL_SEARCH *search;
	size_t  pos = 0;

	for (size_t i = 0; i < klen; i++)
	    key[i] = "abAB"[(seed = seed * 1103515245 + 12345) >> 16 & 3];
	for (size_t i = 0; i < len; i++)
	    text[i] = "abAB"[(seed = seed * 1103515245 + 12345) >> 16 & 3];
	search = mail_search_create(key, klen);
	while (pos < len) {
	    size_t  n = ((seed = seed * 1103515245 + 12345) >> 16) % 5;

	    if (n > len - pos)
		n = len - pos;
	    (void) mail_search_feed(search, text + pos, n);
	    pos += n;
	}
	assert_int_equal(mail_search_found(search), naive(key, klen, text, len));
	mail_search_free(search);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ascii),
	cmocka_unit_test(test_folding),
	cmocka_unit_test(test_broken_utf8),
	cmocka_unit_test(test_reset),
	cmocka_unit_test(test_random),
    };

    return (cmocka_run_group_tests_name("mail_search", tests, 0, 0));
}
