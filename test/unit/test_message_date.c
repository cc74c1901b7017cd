/*
 * test_message_date.c - unit tests for lib/mail/message_date.c.
 *
 * RFC 5322 dates and their obsolete forms (no day name, 2- and 3-digit
 * years, named and military zones, comments and folding, no seconds, no
 * zone), what mailers write in practice, range checks, and garbage that
 * must give -1.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "message_date.h"

static void check(const char *text, long long want, int want_zone)
{
    int     zone = 12345;
    time_t  got = message_date_parse(text, strlen(text), &zone);

    if ((long long) got != want)
	fail_msg("<%s>: got %lld, want %lld", text, (long long) got, want);
    if (want != -1 && zone != want_zone)
	fail_msg("<%s>: zone %d, want %d", text, zone, want_zone);
}

static void test_rfc5322(void **state)
{
    check("Mon, 1 Jan 2024 10:00:00 +0100", 1704099600, 60);
    check("Fri, 31 Dec 1999 23:59:59 +1400", 946634399, 840);
    check("Thu, 29 Feb 2024 00:00:00 -0500", 1709182800, -300);
    check("Thu, 01 Jan 1970 00:00:00 +0000", 0, 0);
    check("Tue, 1 Jul 2003 10:52:37 +0200", 1057049557, 120);
    check("Sun, 30 Jun 2024 23:59:60 +0000", 1719791999, 0);	/* leap second */
}

static void test_obsolete(void **state)
{
    check("1 Jan 2024 10:00:00 +0100", 1704099600, 60);	/* no day name */
    check("Monday 1 Jan 2024 10:00:00 +0100", 1704099600, 60);
    check("Mon,1 January 2024 10:00 +0100", 1704099600, 60);
    check("3 Mar 49 03:03 GMT", 2498353380LL, 0);	/* 2-digit years */
    check("3 Mar 50 03:03 UT", -625870620LL, 0);
    check("Fri, 21 Nov 097 09:55:06 CST", 880127706, -360);	/* 3 digits */
    check("3 Feb 24 10:00 Z", 1706954400, 0);
    check("3 Feb 24 10:00 A", 1706954400, 0);		/* military: +0000 */
    check("3 Feb 24 10:00 XYZ", 1706954400, 0);		/* unknown name */
    check("3 Feb 24 10:00", 1706954400, 0);		/* no zone */
    check(" (c) Sun (c),  4 (c) Apr\r\n 2004 04 : 04 : 04 -0400 (EDT)",
	  1081065844, -240);
    check("Sun, 4 Apr 2004 04.04.04 EDT", 1081065844, -240);
    check("4-Apr-2004 04:04:04 -0400", 1081065844, -240);
    check("Fri, 1 Jan 1904 00:00:00 +0000", -2082844800LL, 0);
}

static void test_invalid(void **state)
{
    check("", -1, 0);
    check("yesterday", -1, 0);
    check("Mon, 1 Jan 2024", -1, 0);			/* no time */
    check("Mon, Jan 2024 10:00:00 +0100", -1, 0);	/* no day */
    check("Mon, 1 Foo 2024 10:00:00 +0100", -1, 0);
    check("Mon, 32 Jan 2024 10:00:00 +0100", -1, 0);
    check("Mon, 30 Feb 2024 10:00:00 +0100", -1, 0);
    check("Mon, 29 Feb 2023 10:00:00 +0100", -1, 0);
    check("Mon, 1 Jan 2024 24:00:00 +0100", -1, 0);
    check("Mon, 1 Jan 2024 10:60:00 +0100", -1, 0);
    check("Mon, 1 Jan 2024 10:00:61 +0100", -1, 0);
    check("Mon, 1 Jan 2024 10:00:00 +01", -1, 0);
    check("Mon, 1 Jan 2024 10:00:00 +0160", -1, 0);
    check("Mon, 1 Jan 20245 10:00:00 +0100", -1, 0);
    check("Mon, 1 Jan 2024 100:00:00 +0100", -1, 0);
    check("Mon, 1 Jan 2024 10:00:00 +", -1, 0);
    check("Mon, 1 Jan 2024 10", -1, 0);
    check("Mon, 1 Jan 2024 10:", -1, 0);
    check("999999999999 Jan 2024 10:00 +0000", -1, 0);
}

static void test_no_zone_pointer(void **state)
{
    const char *text = "1 Jan 2024 10:00:00 +0100";

    assert_int_equal(message_date_parse(text, strlen(text), 0), 1704099600);
    /* LEN is respected: the zone is cut off */
    assert_int_equal(message_date_parse(text, strlen(text) - 6, 0), 1704103200);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rfc5322),
	cmocka_unit_test(test_obsolete),
	cmocka_unit_test(test_invalid),
	cmocka_unit_test(test_no_zone_pointer),
    };

    return (cmocka_run_group_tests_name("message_date", tests, 0, 0));
}
