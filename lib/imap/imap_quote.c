/*
 * imap_quote.c - IMAP strings in replies (imap_quote.h).
 */
#include "sys_defs.h"
#include <strings.h>
#include "imap_quote.h"

int     imap_atom_char(int ch)
{
    /* ATOM-CHAR: any CHAR except atom-specials */
    return (ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\]", ch) == 0);
}

/* imap_quotable - no CR, LF, NUL or 8-bit, and not too long */

static int imap_quotable(const char *data, size_t len)
{
    if (len > IMAP_QUOTE_MAX)
	return (0);
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = (unsigned char) data[i];

	if (ch == 0 || ch == '\r' || ch == '\n' || ch >= 0x80)
	    return (0);
    }
    return (1);
}

void    imap_append_quoted(VSTRING *out, const char *data, size_t len)
{
    vstring_addch(out, '"');
    for (size_t i = 0; i < len; i++) {
	if (data[i] == '"' || data[i] == '\\')
	    vstring_addch(out, '\\');
	vstring_addch(out, data[i]);
    }
    vstring_addch(out, '"');
}

void    imap_append_string(VSTRING *out, const char *data, size_t len)
{
    if (imap_quotable(data, len)) {
	imap_append_quoted(out, data, len);
    } else {
	vstring_sprintf_append(out, "{%lu}\r\n", (unsigned long) len);
	vstring_memcat(out, data, len);
    }
}

void    imap_append_astring(VSTRING *out, const char *data, size_t len)
{
    size_t  i;

    for (i = 0; i < len && imap_atom_char((unsigned char) data[i]); i++)
	 /* void */ ;
    if (len > 0 && i == len && !(len == 3 && strncasecmp(data, "NIL", 3) == 0))
	vstring_memcat(out, data, len);
    else
	imap_append_string(out, data, len);
}

void    imap_append_nstring(VSTRING *out, const char *data, size_t len)
{
    if (data == 0)
	vstring_strcat(out, "NIL");
    else
	imap_append_string(out, data, len);
}
