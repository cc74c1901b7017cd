/*
 * mail_search.h - case-insensitive substring search in UTF-8 text, for
 * IMAP SEARCH (BODY, TEXT, SUBJECT, FROM, ...; RFC 3501 section 6.4.4).
 *
 * A matcher is made from the search key and then fed the text in pieces
 * of any size (a body can be searched while it is being decoded, a
 * character may be cut between pieces); mail_search_feed() returns 1 as
 * soon as the key was found and keeps returning 1 until
 * mail_search_reset() starts a new text.  Both key and text are compared
 * after simple case folding: ASCII, Latin-1 Supplement, Latin Extended-A,
 * Greek and Cyrillic letters (plus a few equivalents: long s, final sigma,
 * micro sign).  Bytes that are not UTF-8 count as U+FFFD.  An empty key
 * is found in any text, the empty text included.  The time is linear in
 * the text (Knuth-Morris-Pratt over code points), whatever the key.
 *
 * mail_search_text() is the one-shot form; mail_search_fold() is the
 * folding of one code point.
 */
#ifndef MAIL_SEARCH_H
#define MAIL_SEARCH_H

#include "sys_defs.h"

typedef struct MAIL_SEARCH MAIL_SEARCH;

MAIL_SEARCH *mail_search_create(const char *key, size_t len);
int	mail_search_feed(MAIL_SEARCH *search, const char *text, size_t len);
int	mail_search_found(const MAIL_SEARCH *search);
void	mail_search_reset(MAIL_SEARCH *search);
void	mail_search_free(MAIL_SEARCH *search);

int	mail_search_text(const char *key, size_t key_len,
			         const char *text, size_t len);
unsigned mail_search_fold(unsigned code);

#endif
