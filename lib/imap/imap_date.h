/*
 * imap_date.h - the dates of IMAP (RFC 3501 section 9): date-time
 * ("17-Jul-1996 02:44:25 -0700", APPEND and INTERNALDATE, with the day
 * 1 or 2 digits or space-padded) and date ("1-Feb-1994", SEARCH).
 *
 * imap_date_time_parse() returns 0 with the UTC time in *WHEN, or -1.
 * imap_date_parse() gives the start of that day; SEARCH compares dates
 * "disregarding time and timezone", so the caller compares the day parts
 * (imap_date_day()).  imap_date_time_format() writes the INTERNALDATE
 * form for WHEN in the local time zone ("05-Dec-2026 23:01:02 +0000").
 */
#ifndef IMAP_DATE_H
#define IMAP_DATE_H

#include "sys_defs.h"
#include "vstring.h"

int	imap_date_time_parse(const char *text, time_t *when);
int	imap_date_parse(const char *text, time_t *day);
/* imap_date_day - WHEN's day (days since 1970-01-01) in the zone OFFSET seconds east */
long	imap_date_day(time_t when, long offset);
VSTRING *imap_date_time_format(VSTRING *out, time_t when);

#endif
