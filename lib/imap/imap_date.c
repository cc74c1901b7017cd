/*
 * imap_date.c - IMAP date-time and date (imap_date.h).
 *
 * Accepted forms, without the quotes (the command parser removed them):
 *   date-time  "DD-Mon-YYYY HH:MM:SS +ZZZZ", DD as "05", "5" or " 5";
 *   date       "D-Mon-YYYY" or "DD-Mon-YYYY".
 * Month names in any case; the day must exist in that month (leap years
 * counted); hours 00-23, minutes 00-59, seconds 00-60 (a leap second
 * counts as the next second); the zone -1200..+1400 with minutes 00-59;
 * the year 4 digits, 0001-9999.  Anything else, trailing text included,
 * is -1.
 *
 * imap_date_parse() gives 00:00:00 UTC of that day, so imap_date_day(DAY,
 * 0) is its day number.  imap_date_time_format() sets OUT to the form
 * (as xtext_quote() does; it does not append), with a two-digit day.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>

#include "vstring.h"
#include "imap_date.h"

static const char *month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* days_from_civil - days since 1970-01-01 of Y-M-D (proleptic Gregorian) */

static long days_from_civil(long y, int m, int d)
{
    long    era;
    long    yoe;
    long    doy;
    long    doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468);
}

static int days_in_month(long y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int     leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return (m == 2 && leap ? 29 : days[m - 1]);
}

/* digits - exactly N digits at *CP into *VALUE; moves *CP */

static int digits(const char **cp, int n, int *value)
{
    int     v = 0;

    for (int i = 0; i < n; i++) {
	if (!isdigit((unsigned char) (*cp)[i]))
	    return (-1);
	v = v * 10 + (*cp)[i] - '0';
    }
    *cp += n;
    *value = v;
    return (0);
}

/* expect - the character CH at *CP; moves *CP */

static int expect(const char **cp, int ch)
{
    if (**cp != ch)
	return (-1);
    (*cp)++;
    return (0);
}

/* parse_month - "Jan".."Dec" in any case at *CP: 1..12 */

static int parse_month(const char **cp, int *month)
{
    for (int i = 0; i < 12; i++) {
	if (strncasecmp(*cp, month_names[i], 3) == 0) {
	    *cp += 3;
	    *month = i + 1;
	    return (0);
	}
    }
    return (-1);
}

/* parse_day - 1 or 2 digits, or (PADDED) a space and 1 digit */

static int parse_day(const char **cp, int padded, int *day)
{
    if (padded && **cp == ' ') {
	(*cp)++;
	return (digits(cp, 1, day));
    }
    if (isdigit((unsigned char) (*cp)[0]) && isdigit((unsigned char) (*cp)[1]))
	return (digits(cp, 2, day));
    return (digits(cp, 1, day));
}

/* parse_date_text - D-Mon-YYYY; the day number */

static int parse_date_text(const char **cp, int padded, long *days)
{
    int     day;
    int     month;
    int     year;

    if (parse_day(cp, padded, &day) < 0 || expect(cp, '-') < 0
	|| parse_month(cp, &month) < 0 || expect(cp, '-') < 0
	|| digits(cp, 4, &year) < 0)
	return (-1);
    if (year < 1 || day < 1 || day > days_in_month(year, month))
	return (-1);
    *days = days_from_civil(year, month, day);
    return (0);
}

/* parse_time - HH:MM:SS; seconds into the day */

static int parse_time(const char **cp, long *secs)
{
    int     h;
    int     m;
    int     s;

    if (digits(cp, 2, &h) < 0 || expect(cp, ':') < 0
	|| digits(cp, 2, &m) < 0 || expect(cp, ':') < 0
	|| digits(cp, 2, &s) < 0)
	return (-1);
    if (h > 23 || m > 59 || s > 60)
	return (-1);
    *secs = h * 3600L + m * 60L + s;
    return (0);
}

/* parse_zone - +HHMM or -HHMM; seconds east of UTC */

static int parse_zone(const char **cp, long *offset)
{
    int     sign = **cp == '+' ? 1 : **cp == '-' ? -1 : 0;
    int     hh;
    int     mm;

    if (sign == 0)
	return (-1);
    (*cp)++;
    if (digits(cp, 2, &hh) < 0 || digits(cp, 2, &mm) < 0 || mm > 59)
	return (-1);
    if ((sign > 0 && hh * 100 + mm > 1400) || (sign < 0 && hh * 100 + mm > 1200))
	return (-1);
    *offset = sign * (hh * 3600L + mm * 60L);
    return (0);
}

int     imap_date_time_parse(const char *text, time_t *when)
{
    const char *cp = text;
    long    days;
    long    secs;
    long    offset;

    if (text == 0 || parse_date_text(&cp, 1, &days) < 0
	|| expect(&cp, ' ') < 0 || parse_time(&cp, &secs) < 0
	|| expect(&cp, ' ') < 0 || parse_zone(&cp, &offset) < 0 || *cp != 0)
	return (-1);
    *when = (time_t) days * 86400 + secs - offset;
    return (0);
}

int     imap_date_parse(const char *text, time_t *day)
{
    const char *cp = text;
    long    days;

    if (text == 0 || parse_date_text(&cp, 0, &days) < 0 || *cp != 0)
	return (-1);
    *day = (time_t) days * 86400;
    return (0);
}

long    imap_date_day(time_t when, long offset)
{
    long long t = (long long) when + offset;

    return ((long) (t >= 0 ? t / 86400 : -((-t + 86399) / 86400)));
}

VSTRING *imap_date_time_format(VSTRING *out, time_t when)
{
    struct tm tm;
    long    off;
    long    abs_off;

    if (localtime_r(&when, &tm) == 0) {
	when = 0;
	gmtime_r(&when, &tm);
    }
    off = tm.tm_gmtoff;
    abs_off = off < 0 ? -off : off;
    vstring_sprintf(out, "%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld",
		    tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		    abs_off / 3600, abs_off % 3600 / 60);
    return (out);
}
