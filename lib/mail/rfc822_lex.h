/*
 * rfc822_lex.h - the lexical pieces of RFC 5322 header values (and of MIME
 * header values, RFC 2045), for the address and Content-* parsers.
 *
 * A scanner walks a byte range (a header value: folded lines included, so
 * CR and LF count as white space).  Every scanning function returns what
 * Dovecot's scanner returns, which the parsers above rely on:
 *
 *	1	the item was read and more input follows (after CFWS)
 *	0	the item was read and the input ended
 *	-1	syntax error (the scanner stays somewhere inside the item)
 *
 * Each item is followed by skipping CFWS (white space and comments).  The
 * text of the last comment skipped is kept in lex->comment when the caller
 * gave a VSTRING for it (RFC 5322 addresses use it as a display name).
 * Decoded text is appended to OUT: quoted strings lose their quotes and
 * backslashes, folding newlines inside quotes are removed.  Bytes >= 0x80
 * are atom text (UTF-8 in headers, RFC 6532).
 *
 * Usage: RFC822_LEX lex; rfc822_lex_init(&lex, data, len, comment_or_null);
 * then rfc822_lex_skip_cfws(&lex), rfc822_lex_atom(&lex, out), ... and
 * RFC822_LEX_AT(&lex, ch) to test the next byte.
 */
#ifndef RFC822_LEX_H
#define RFC822_LEX_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct RFC822_LEX {
    const unsigned char *ptr;		/* next byte */
    const unsigned char *end;		/* end of input */
    VSTRING *comment;			/* last comment, or NULL */
} RFC822_LEX;

/* RFC822_LEX_AT - the next byte is CH (never true at the end) */
#define RFC822_LEX_AT(lex, ch) ((lex)->ptr < (lex)->end && *(lex)->ptr == (ch))
#define RFC822_LEX_MORE(lex) ((lex)->ptr < (lex)->end)

void	rfc822_lex_init(RFC822_LEX *lex, const char *data, size_t len,
			        VSTRING *comment);

/* rfc822_is_atext - CH may appear in an atom */
int	rfc822_is_atext(int ch);

/* rfc822_is_token_char - CH may appear in a MIME token ('.' included) */
int	rfc822_is_token_char(int ch);

/* rfc822_lex_skip_cfws - white space and (nested (comments)) */
int	rfc822_lex_skip_cfws(RFC822_LEX *lex);

/* rfc822_lex_atom - 1*atext */
int	rfc822_lex_atom(RFC822_LEX *lex, VSTRING *out);

/* rfc822_lex_dot_atom - atom *("." atom), CFWS allowed around the dots */
int	rfc822_lex_dot_atom(RFC822_LEX *lex, VSTRING *out);

/* rfc822_lex_quoted - a quoted string (at its opening quote) */
int	rfc822_lex_quoted(RFC822_LEX *lex, VSTRING *out);

/* rfc822_lex_phrase - words (atoms with dots, quoted strings), space-separated */
int	rfc822_lex_phrase(RFC822_LEX *lex, VSTRING *out);

/* rfc822_lex_domain - at '@': a dot-atom or a [domain literal] */
int	rfc822_lex_domain(RFC822_LEX *lex, VSTRING *out);

/* rfc822_lex_token - a MIME token (possibly empty: check what was added) */
int	rfc822_lex_token(RFC822_LEX *lex, VSTRING *out);

#endif
