/*
 * printable.h - making text from outside safe for logs, headers and replies.
 *
 * Text that a client, a remote server, a SASL peer or a file supplies may
 * hold control characters: a CR or LF in it would start a new header line
 * in a bounce or a new log record.  printable() replaces every byte that
 * is not printable ASCII and not part of well-formed UTF-8 with a
 * replacement character (Postfix uses '?'), in place.  neuter() replaces
 * the characters of a given set, e.g. the ones that could fake structure
 * in a Received: header (Postfix's " <>()\\\";@" for HELO names).
 */
#ifndef PRINTABLE_H
#define PRINTABLE_H

#include "sys_defs.h"
#include "vstring.h"

/* printable - replace unprintable bytes of STRING with REPLACEMENT; returns STRING */
char   *printable(char *string, int replacement);

/* printable_cat - append at most MAX bytes of TEXT to BUF, made printable */
VSTRING *printable_cat(VSTRING *buf, const char *text, size_t max, int replacement);

/* utf8_valid - the LEN bytes at STRING are ASCII or well-formed UTF-8
 * (as printable() keeps it; ASCII control characters are fine here) */
int	utf8_valid(const char *string, size_t len);

/* neuter - replace every byte of STRING found in CHARS with REPLACEMENT */
char   *neuter(char *string, const char *chars, int replacement);

#endif
