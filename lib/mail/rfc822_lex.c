/*
 * rfc822_lex.c - scanning RFC 5322 and MIME header values (rfc822_lex.h).
 *
 * The rules follow what Dovecot's scanner accepts, so that addresses and
 * Content-* values come out of broken headers the way Dovecot's IMAP
 * server shows them: a dot-atom may have CFWS around its dots but no empty
 * atoms; a backslash before CR, LF or NUL is kept as a character; NUL
 * bytes inside quoted text, comments and domain literals become U+FFFD.
 */
#include "sys_defs.h"
#include "vstring.h"
#include "rfc822_lex.h"

#define NUL_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

void    rfc822_lex_init(RFC822_LEX *lex, const char *data, size_t len,
			        VSTRING *comment)
{
    lex->ptr = (const unsigned char *) data;
    lex->end = lex->ptr + len;
    lex->comment = comment;
}

int     rfc822_is_atext(int ch)
{
    if (ch >= 0x80)
	return (1);
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
	|| (ch >= '0' && ch <= '9'))
	return (1);
    return (ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != 0);
}

int     rfc822_is_token_char(int ch)
{
    if (ch == '/' || ch == '=' || ch == '?')
	return (0);
    return (ch == '.' || rfc822_is_atext(ch));
}

/* append_range - text between two scanner positions */

static void append_range(VSTRING *out, const unsigned char *from,
			         const unsigned char *to)
{
    if (out != 0 && to > from)
	vstring_memcat(out, from, to - from);
}

/* append_without_newline - text up to an LF, without the LF and a CR before it */

static void append_without_newline(VSTRING *out, const unsigned char *from,
				           const unsigned char *lf)
{
    if (lf > from && lf[-1] == '\r')
	lf--;
    append_range(out, from, lf);
}

/*
 * quoted_pair - LEX is at a backslash in a comment or quoted string: the
 * backslash goes and the next character stays (TEXT has what came before
 * from *START on; *START moves to that character), except that before
 * CR, LF or NUL it is a backslash of its own.  -1 at the end of the input.
 */
static int quoted_pair(RFC822_LEX *lex, VSTRING *text, const unsigned char **start)
{
    if (++lex->ptr >= lex->end)
	return (-1);
    if (*lex->ptr == '\r' || *lex->ptr == '\n' || *lex->ptr == 0) {
	lex->ptr--;
	return (0);
    }
    append_range(text, *start, lex->ptr - 1);
    *start = lex->ptr;
    return (0);
}

/* skip_comment - at '(': a comment with nested comments and quoted pairs */

static int skip_comment(RFC822_LEX *lex)
{
    VSTRING *text = lex->comment;
    const unsigned char *start;
    int     level = 1;

    if (text != 0)
	vstring_reset(text);
    start = ++lex->ptr;
    for (; lex->ptr < lex->end; lex->ptr++) {
	switch (*lex->ptr) {
	case 0:
	    append_range(text, start, lex->ptr);
	    if (text != 0)
		vstring_strcat(text, NUL_REPLACEMENT);
	    start = lex->ptr + 1;
	    break;
	case '(':
	    level++;
	    break;
	case ')':
	    if (--level == 0) {
		append_range(text, start, lex->ptr);
		lex->ptr++;
		return (RFC822_LEX_MORE(lex));
	    }
	    break;
	case '\n':
	    append_without_newline(text, start, lex->ptr);
	    start = lex->ptr + 1;
	    break;
	case '\\':
	    if (quoted_pair(lex, text, &start) < 0)
		return (-1);
	    break;
	}
    }
    return (-1);
}

int     rfc822_lex_skip_cfws(RFC822_LEX *lex)
{
    while (lex->ptr < lex->end) {
	int     ch = *lex->ptr;

	if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
	    lex->ptr++;
	} else if (ch == '(') {
	    if (skip_comment(lex) < 0)
		return (-1);
	} else {
	    break;
	}
    }
    return (RFC822_LEX_MORE(lex));
}

/* atext_run - the end of a run of atom text (and dots, if wanted) */

static const unsigned char *atext_run(RFC822_LEX *lex, int with_dots)
{
    const unsigned char *cp;

    for (cp = lex->ptr; cp < lex->end; cp++)
	if (!rfc822_is_atext(*cp) && !(with_dots && *cp == '.'))
	    break;
    return (cp);
}

int     rfc822_lex_atom(RFC822_LEX *lex, VSTRING *out)
{
    const unsigned char *end = atext_run(lex, 0);

    if (end == lex->ptr)
	return (-1);
    append_range(out, lex->ptr, end);
    lex->ptr = end;
    return (rfc822_lex_skip_cfws(lex));
}

int     rfc822_lex_dot_atom(RFC822_LEX *lex, VSTRING *out)
{
    int     ret;

    for (;;) {
	if ((ret = rfc822_lex_atom(lex, out)) <= 0)
	    return (ret);
	if (*lex->ptr != '.')
	    return (1);
	lex->ptr++;
	vstring_addch(out, '.');
	if (rfc822_lex_skip_cfws(lex) <= 0)
	    return (-1);
    }
}

int     rfc822_lex_quoted(RFC822_LEX *lex, VSTRING *out)
{
    const unsigned char *start;

    start = ++lex->ptr;				/* skip the opening quote */
    for (; lex->ptr < lex->end; lex->ptr++) {
	switch (*lex->ptr) {
	case 0:
	    append_range(out, start, lex->ptr);
	    vstring_strcat(out, NUL_REPLACEMENT);
	    start = lex->ptr + 1;
	    break;
	case '"':
	    append_range(out, start, lex->ptr);
	    lex->ptr++;
	    return (rfc822_lex_skip_cfws(lex));
	case '\n':
	    append_without_newline(out, start, lex->ptr);
	    start = lex->ptr + 1;
	    break;
	case '\\':
	    if (quoted_pair(lex, out, &start) < 0)
		return (-1);
	    break;
	}
    }
    return (-1);
}

/* atom_or_dots - a run of atext and dots (maybe empty), then CFWS */

static int atom_or_dots(RFC822_LEX *lex, VSTRING *out)
{
    const unsigned char *end = atext_run(lex, 1);

    append_range(out, lex->ptr, end);
    lex->ptr = end;
    return (rfc822_lex_skip_cfws(lex));
}

int     rfc822_lex_phrase(RFC822_LEX *lex, VSTRING *out)
{
    int     ret;

    if (!RFC822_LEX_MORE(lex))
	return (0);
    if (*lex->ptr == '.')
	return (-1);
    for (;;) {
	if (*lex->ptr == '"')
	    ret = rfc822_lex_quoted(lex, out);
	else
	    ret = atom_or_dots(lex, out);
	if (ret <= 0)
	    return (ret);
	if (!rfc822_is_atext(*lex->ptr) && *lex->ptr != '"' && *lex->ptr != '.')
	    break;
	vstring_addch(out, ' ');
    }
    return (rfc822_lex_skip_cfws(lex));
}

/* domain_literal - at '[': kept with its brackets, without folding */

static int domain_literal(RFC822_LEX *lex, VSTRING *out)
{
    const unsigned char *start = lex->ptr++;

    for (; lex->ptr < lex->end; lex->ptr++) {
	switch (*lex->ptr) {
	case 0:
	    append_range(out, start, lex->ptr);
	    vstring_strcat(out, NUL_REPLACEMENT);
	    start = lex->ptr + 1;
	    break;
	case '[':
	    return (-1);
	case ']':
	    append_range(out, start, lex->ptr + 1);
	    lex->ptr++;
	    return (rfc822_lex_skip_cfws(lex));
	case '\n':
	    append_without_newline(out, start, lex->ptr);
	    start = lex->ptr + 1;
	    break;
	case '\\':
	    if (++lex->ptr >= lex->end)
		return (-1);
	    if (*lex->ptr == '\r' || *lex->ptr == '\n' || *lex->ptr == 0) {
		append_range(out, start, lex->ptr);
		start = lex->ptr;
		lex->ptr--;
	    }
	    break;
	}
    }
    return (-1);
}

int     rfc822_lex_domain(RFC822_LEX *lex, VSTRING *out)
{
    lex->ptr++;					/* skip the '@' */
    if (rfc822_lex_skip_cfws(lex) <= 0)
	return (-1);
    if (*lex->ptr == '[')
	return (domain_literal(lex, out));
    return (rfc822_lex_dot_atom(lex, out));
}

int     rfc822_lex_token(RFC822_LEX *lex, VSTRING *out)
{
    const unsigned char *cp;

    for (cp = lex->ptr; cp < lex->end && rfc822_is_token_char(*cp); cp++)
	 /* void */ ;
    append_range(out, lex->ptr, cp);
    lex->ptr = cp;
    return (rfc822_lex_skip_cfws(lex));
}
