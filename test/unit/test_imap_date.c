/*
 * test_imap_date.c - unit tests for lib/imap/imap_date.c: RFC 3501
 * date-time (APPEND, INTERNALDATE) and date (SEARCH) in every accepted
 * form, time zones at and beyond the limits, bad input of every kind, day
 * numbers, and the INTERNALDATE form in a few local time zones.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "imap_date.h"

/* when - imap_date_time_parse of TEXT, or -1 as a marker for refusal */

static long long when(const char *text)
{
    time_t  t = 12345;

    if (imap_date_time_parse(text, &t) < 0) {
	assert_int_equal(t, 12345);		/* untouched */
	return (-1);
    }
    return ((long long) t);
}

static long long day(const char *text)
{
    time_t  t;

    if (imap_date_parse(text, &t) < 0)
	return (-1);
    return ((long long) t);
}

static void test_date_time_good(void **state)
{
    /* RFC 3501's example */
    assert_int_equal(when("17-Jul-1996 02:44:25 -0700"), 837596665);
    assert_int_equal(when("17-Jul-1996 09:44:25 +0000"), 837596665);
    assert_int_equal(when("17-Jul-1996 11:44:25 +0200"), 837596665);
    assert_int_equal(when("17-jul-1996 09:44:25 -0000"), 837596665);
    assert_int_equal(when("17-JUL-1996 15:14:25 +0530"), 837596665);
    /* Thunderbird's APPEND */
    assert_int_equal(when("05-Dec-2026 10:00:00 +0100"), 1796461200);
    /* the day: two digits, one digit, space-padded */
    assert_int_equal(when("5-Dec-2026 10:00:00 +0100"), 1796461200);
    assert_int_equal(when(" 5-Dec-2026 10:00:00 +0100"), 1796461200);
    assert_int_equal(when("01-Jan-1970 00:00:00 +0000"), 0);
    assert_int_equal(when("31-Dec-1969 12:00:00 +0000"), -43200);
    assert_int_equal(when("01-Jan-1970 00:00:00 +1400"), -50400);
    assert_int_equal(when("01-Jan-1970 00:00:00 -1200"), 43200);
    assert_int_equal(when("29-Feb-2024 00:00:00 +0000"), 1709164800);
    assert_int_equal(when("29-Feb-2000 00:00:00 +0000"), 951782400);
    assert_int_equal(when("31-Dec-9999 23:59:59 +0000"), 253402300799LL);
    assert_int_equal(when("01-Jan-0001 00:00:00 +0000"), -62135596800LL);
    /* a leap second counts as the next second */
    assert_int_equal(when("31-Dec-2016 23:59:60 +0000"), 1483228800);
    /* every month */
    {
	static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	long long prev = -1;
	char    buf[64];

	for (int i = 0; i < 12; i++) {
	    snprintf(buf, sizeof(buf), "28-%s-2026 00:00:00 +0000", months[i]);
	    assert_true(when(buf) > prev);
	    prev = when(buf);
	}
    }
}

static void test_date_time_bad(void **state)
{
    static const char *bad[] = {
	"",
	"17-Jul-1996",
	"17-Jul-1996 02:44:25",
	"17-Jul-1996 02:44:25 ",
	"17-Jul-1996 02:44:25 -0700 ",
	"17-Jul-1996 02:44:25 -0700x",
	"\"17-Jul-1996 02:44:25 -0700\"",
	"17 Jul 1996 02:44:25 -0700",
	"17-Jly-1996 02:44:25 -0700",
	"17-July-1996 02:44:25 -0700",
	"17-Jul-96 02:44:25 -0700",
	"17-Jul-19960 02:44:25 -0700",
	"117-Jul-1996 02:44:25 -0700",
	"  5-Jul-1996 02:44:25 -0700",
	" 15-Jul-1996 02:44:25 -0700",
	"00-Jul-1996 02:44:25 -0700",
	"32-Jul-1996 02:44:25 -0700",
	"31-Apr-1996 02:44:25 -0700",
	"29-Feb-2023 02:44:25 -0700",
	"29-Feb-1900 02:44:25 -0700",
	"17-Jul-0000 02:44:25 -0700",
	"17-Jul-1996 24:00:00 -0700",
	"17-Jul-1996 02:60:25 -0700",
	"17-Jul-1996 02:44:61 -0700",
	"17-Jul-1996 2:44:25 -0700",
	"17-Jul-1996 02:44 -0700",
	"17-Jul-1996 02-44-25 -0700",
	"17-Jul-1996 02:44:25 0700",
	"17-Jul-1996 02:44:25 -070",
	"17-Jul-1996 02:44:25 -07000",
	"17-Jul-1996 02:44:25 -1201",
	"17-Jul-1996 02:44:25 +1401",
	"17-Jul-1996 02:44:25 +0060",
	"17-Jul-1996 02:44:25 +9999",
	"17-Jul-1996 02:44:25 GMT",
	"17-Jul-1996  02:44:25 -0700",
	"17-Jul-1996\t02:44:25 -0700",
	"-Jul-1996 02:44:25 -0700",
	"1x-Jul-1996 02:44:25 -0700",
	"17-Jul-1996 02:44:25 +\xd9\xa0\xd9\xa0",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	if (when(bad[i]) != -1)
	    fail_msg("\"%s\" was accepted", bad[i]);
    {
	time_t  t;

	assert_int_equal(imap_date_time_parse(0, &t), -1);
    }
}

static void test_date(void **state)
{
    assert_int_equal(day("1-Feb-1994"), 760060800);
    assert_int_equal(day("01-Feb-1994"), 760060800);
    assert_int_equal(day("01-fEB-1994"), 760060800);
    assert_int_equal(day("1-Jan-1970"), 0);
    assert_int_equal(day("29-Feb-2024"), 1709164800);
    assert_int_equal(day("31-Dec-1969"), -86400);
    /* bad */
    assert_int_equal(day(""), -1);
    assert_int_equal(day(" 1-Feb-1994"), -1);
    assert_int_equal(day("001-Feb-1994"), -1);
    assert_int_equal(day("1-Feb-94"), -1);
    assert_int_equal(day("1-Feb-1994 "), -1);
    assert_int_equal(day("1-Feb-1994 00:00:00 +0000"), -1);
    assert_int_equal(day("30-Feb-1994"), -1);
    assert_int_equal(day("0-Feb-1994"), -1);
    assert_int_equal(day("1-Fe-1994"), -1);
    assert_int_equal(day("1/Feb/1994"), -1);
    assert_int_equal(day("\"1-Feb-1994\""), -1);
    {
	time_t  t;

	assert_int_equal(imap_date_parse(0, &t), -1);
    }
}

static void test_day(void **state)
{
    time_t  t;

    assert_int_equal(imap_date_day(0, 0), 0);
    assert_int_equal(imap_date_day(86399, 0), 0);
    assert_int_equal(imap_date_day(86400, 0), 1);
    assert_int_equal(imap_date_day(-1, 0), -1);
    assert_int_equal(imap_date_day(-86400, 0), -1);
    assert_int_equal(imap_date_day(-86401, 0), -2);
    /* 23:00 UTC is the next day at +0100, the same day at -0100 */
    assert_int_equal(imap_date_day(82800, 3600), 1);
    assert_int_equal(imap_date_day(82800, -3600), 0);
    assert_int_equal(imap_date_day(3600, -7200), -1);
    /* SEARCH SINCE: a message's date against the day of the key */
    assert_int_equal(imap_date_time_parse("01-Feb-1994 23:30:00 -0500", &t), 0);
    assert_int_equal(imap_date_day(t, -5 * 3600), 760060800 / 86400);
    assert_int_equal(imap_date_day(t, 0), 760060800 / 86400 + 1);
}

/* format_in - imap_date_time_format of WHEN in the zone TZ */

static const char *format_in(const char *tz, time_t t)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(10);
    setenv("TZ", tz, 1);
    tzset();
    vstring_strcpy(buf, "old text");
    assert_ptr_equal(imap_date_time_format(buf, t), buf);
    return (STR(buf));
}

static void test_format(void **state)
{
    time_t  t;

    assert_string_equal(format_in("UTC0", 837596665), "17-Jul-1996 09:44:25 +0000");
    assert_string_equal(format_in("UTC0", 0), "01-Jan-1970 00:00:00 +0000");
    assert_string_equal(format_in("XYZ-05:30", 837596665), "17-Jul-1996 15:14:25 +0530");
    assert_string_equal(format_in("XYZ+07", 837596665), "17-Jul-1996 02:44:25 -0700");
    assert_string_equal(format_in("XYZ+03:30", 1796461200), "05-Dec-2026 05:30:00 -0330");
    assert_string_equal(format_in("XYZ-14", 1796461200), "05-Dec-2026 23:00:00 +1400");
    /* what is written parses back to the same time */
    assert_int_equal(imap_date_time_parse(format_in("XYZ+03:30", 1796461200), &t), 0);
    assert_int_equal(t, 1796461200);
    unsetenv("TZ");
    tzset();
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_date_time_good),
	cmocka_unit_test(test_date_time_bad),
	cmocka_unit_test(test_date),
	cmocka_unit_test(test_day),
	cmocka_unit_test(test_format),
    };

    msg_init("test_imap_date", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, 0, 0));
}
