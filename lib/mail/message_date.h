/*
 * message_date.h - RFC 5322 Date: values to a time, for IMAP SEARCH
 * SENTBEFORE/SENTON/SENTSINCE and SORT DATE.
 *
 * message_date_parse() reads "[Day,] DD Mon YYYY HH:MM[:SS] [zone]" with
 * the obsolete forms of RFC 5322 section 4.3 and what mailers write in
 * practice: comments and folding anywhere, no day name, a day name
 * without its comma or spelled out, 2-digit years (00-49 are 20xx, 50-99
 * 19xx) and 3-digit years (+1900), full month names, a missing seconds
 * field, "." instead of ":" in the time, named zones (UT, GMT, Z, EST,
 * EDT, CST, CDT, MST, MDT, PST, PDT; military letters and unknown names
 * count as +0000, as RFC 5322 says they must), and a missing zone
 * (+0000).  It returns the time as seconds since the epoch (UTC) and the
 * zone as minutes east of UTC in *ZONE (when ZONE is not NULL), or -1
 * when TEXT is not a date: no day, month, year or time, or out of range
 * (day 1-31 and valid for the month, hour 0-23, minute 0-59, second 0-60
 * with 60 read as 59, zone offset up to 99:59).
 */
#ifndef MESSAGE_DATE_H
#define MESSAGE_DATE_H

#include "sys_defs.h"

time_t	message_date_parse(const char *text, size_t len, int *zone);

#endif
