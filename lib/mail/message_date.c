/*
 * message_date.c - RFC 5322 Date: values (message_date.h).
 *
 * The value is first cut into tokens (numbers, words, signs, ':' and ','
 * with comments and white space dropped), then read field by field.  No
 * allocation: a date is short, tokens past DATE_TOKENS_MAX are ignored.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "message_date.h"

#define DATE_TOKENS_MAX	16
#define DATE_WORD_MAX	12		/* "wednesday" and a little more */

typedef struct DATE_TOKEN {
    int     kind;			/* DATE_NUM, DATE_WORD or the character */
    int     value;			/* DATE_NUM: the number */
    int     digits;			/* DATE_NUM: how many digits */
    char    word[DATE_WORD_MAX + 1];	/* DATE_WORD: lower case, cut short */
} DATE_TOKEN;

#define DATE_NUM	1
#define DATE_WORD	2

typedef struct DATE_SCAN {
    DATE_TOKEN tokens[DATE_TOKENS_MAX];
    int     count;
    int     next;			/* the token to read */
} DATE_SCAN;

/* skip_comment - at '(': a comment, nested, with quoted pairs */

static size_t skip_comment(const char *text, size_t len, size_t pos)
{
    int     level = 0;

    for (; pos < len; pos++) {
	if (text[pos] == '\\')
	    pos++;
	else if (text[pos] == '(')
	    level++;
	else if (text[pos] == ')' && --level == 0)
	    return (pos + 1);
    }
    return (len);
}

/* tokenize - cut TEXT into tokens */

static void tokenize(DATE_SCAN *scan, const char *text, size_t len)
{
    size_t  pos = 0;

    scan->count = scan->next = 0;
    while (pos < len && scan->count < DATE_TOKENS_MAX) {
	unsigned char ch = text[pos];
	DATE_TOKEN *tok = scan->tokens + scan->count;

	if (ch == '(') {
	    pos = skip_comment(text, len, pos);
	} else if (isdigit(ch)) {
	    tok->kind = DATE_NUM;
	    tok->value = tok->digits = 0;
	    for (; pos < len && isdigit((unsigned char) text[pos]); pos++) {
		if (tok->digits < 9)
		    tok->value = tok->value * 10 + text[pos] - '0';
		tok->digits++;
	    }
	    scan->count++;
	} else if (isalpha(ch)) {
	    size_t  n = 0;

	    tok->kind = DATE_WORD;
	    for (; pos < len && isalpha((unsigned char) text[pos]); pos++)
		if (n < DATE_WORD_MAX)
		    tok->word[n++] = tolower((unsigned char) text[pos]);
	    tok->word[n] = 0;
	    scan->count++;
	} else if (strchr(":.,+-", ch) != 0 && ch != 0) {
	    tok->kind = ch;
	    pos++;
	    scan->count++;
	} else {
	    pos++;				/* white space, folding, noise */
	}
    }
}

static DATE_TOKEN *peek(DATE_SCAN *scan)
{
    return (scan->next < scan->count ? scan->tokens + scan->next : 0);
}

static DATE_TOKEN *take(DATE_SCAN *scan, int kind)
{
    DATE_TOKEN *tok = peek(scan);

    if (tok == 0 || tok->kind != kind)
	return (0);
    scan->next++;
    return (tok);
}

/* month_number - 1..12 for a month name (3 letters or more), else 0 */

static int month_number(const char *word)
{
    static const char *months[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
    };

    if (strlen(word) < 3)
	return (0);
    for (int i = 0; i < 12; i++)
	if (strncmp(word, months[i], 3) == 0)
	    return (i + 1);
    return (0);
}

/* zone_minutes - a named zone, in minutes east of UTC (unknown: 0) */

static int zone_minutes(const char *word)
{
    static const struct {
	const char *name;
	int     hours;
    }       zones[] = {
	{"ut", 0}, {"utc", 0}, {"gmt", 0}, {"z", 0},
	{"est", -5}, {"edt", -4}, {"cst", -6}, {"cdt", -5},
	{"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7},
    };

    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
	if (strcmp(word, zones[i].name) == 0)
	    return (zones[i].hours * 60);
    return (0);
}

/* read_zone - [+-]HHMM or a name; missing or unknown is +0000 */

static int read_zone(DATE_SCAN *scan, int *zone)
{
    DATE_TOKEN *tok;
    int     sign = 0;

    *zone = 0;
    if (take(scan, '+'))
	sign = 1;
    else if (take(scan, '-'))
	sign = -1;
    if (sign != 0) {
	if ((tok = take(scan, DATE_NUM)) == 0 || tok->digits != 4
	    || tok->value % 100 > 59)
	    return (-1);
	*zone = sign * ((tok->value / 100) * 60 + tok->value % 100);
    } else if ((tok = take(scan, DATE_WORD)) != 0) {
	*zone = zone_minutes(tok->word);
    }
    return (0);
}

/* read_time - HH:MM[:SS] (or with dots) */

static int read_time(DATE_SCAN *scan, int *hour, int *min, int *sec)
{
    DATE_TOKEN *tok;

    if ((tok = take(scan, DATE_NUM)) == 0 || tok->digits > 2)
	return (-1);
    *hour = tok->value;
    if (!take(scan, ':') && !take(scan, '.'))
	return (-1);
    if ((tok = take(scan, DATE_NUM)) == 0 || tok->digits > 2)
	return (-1);
    *min = tok->value;
    *sec = 0;
    if (take(scan, ':') || take(scan, '.')) {
	if ((tok = take(scan, DATE_NUM)) == 0 || tok->digits > 2)
	    return (-1);
	*sec = tok->value;
    }
    return (0);
}

/* days_in_month - for the range check */

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int     leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return (month == 2 && leap ? 29 : days[month - 1]);
}

time_t  message_date_parse(const char *text, size_t len, int *zone)
{
    DATE_SCAN scan;
    DATE_TOKEN *tok;
    struct tm tm;
    int     day, month, year, hour, min, sec, offset;
    time_t  when;

    tokenize(&scan, text, len);

    /* An optional day name, with or without its comma. */
    if ((tok = peek(&scan)) != 0 && tok->kind == DATE_WORD) {
	scan.next++;
	(void) take(&scan, ',');
    }
    if ((tok = take(&scan, DATE_NUM)) == 0 || tok->digits > 2)
	return (-1);
    day = tok->value;
    (void) take(&scan, '-');			/* "1-Jan-2024" */
    if ((tok = take(&scan, DATE_WORD)) == 0 || (month = month_number(tok->word)) == 0)
	return (-1);
    (void) take(&scan, '-');
    if ((tok = take(&scan, DATE_NUM)) == 0 || tok->digits > 4)
	return (-1);
    year = tok->value;
    if (tok->digits <= 2)
	year += (year < 50 ? 2000 : 1900);
    else if (tok->digits == 3)
	year += 1900;
    if (read_time(&scan, &hour, &min, &sec) < 0
	|| read_zone(&scan, &offset) < 0)
	return (-1);

    if (day < 1 || day > days_in_month(year, month) || hour > 23
	|| min > 59 || sec > 60)
	return (-1);
    if (sec == 60)
	sec = 59;				/* leap second */

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    when = timegm(&tm);
    if (when == (time_t) -1)
	return (-1);
    if (zone)
	*zone = offset;
    return (when - (time_t) offset * 60);
}
