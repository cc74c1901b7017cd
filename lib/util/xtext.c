/*
 * xtext.c - RFC 3461 xtext and RFC 6533 utf-8-addr-xtext, see xtext.h.
 *
 * xtext: printable ASCII except "+" and "=" stands for itself, any other
 * byte is "+" and two hex digits.  The decoders refuse anything that is
 * not valid xtext and any NUL result, so the decoded text can go into a
 * queue file record as it is.
 */
#include "sys_defs.h"
#include <ctype.h>

#include "vstring.h"
#include "xtext.h"

/* xtext_quote - encode IN */

VSTRING *xtext_quote(VSTRING *out, const char *in)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *cp;

    vstring_reset(out);
    for (cp = (const unsigned char *) in; *cp; cp++) {
	if (*cp < '!' || *cp > '~' || *cp == '+' || *cp == '=') {
	    vstring_addch(out, '+');
	    vstring_addch(out, hex[*cp >> 4]);
	    vstring_addch(out, hex[*cp & 0xf]);
	} else {
	    vstring_addch(out, *cp);
	}
    }
    return (out);
}

/* hex_value - one hex digit, or -1 */

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
	return (ch - '0');
    if (ch >= 'a' && ch <= 'f')
	return (ch - 'a' + 10);
    if (ch >= 'A' && ch <= 'F')
	return (ch - 'A' + 10);
    return (-1);
}

/* hexchar - decode "+XX" at CP into *VAL; 0 or -1 */

static int hexchar(const unsigned char *cp, int *val)
{
    int     hi = hex_value(cp[1]);
    int     lo;

    if (hi < 0 || (lo = hex_value(cp[2])) < 0)
	return (-1);
    *val = (hi << 4) | lo;
    return (0);
}

/* add_utf8 - append code point CP as UTF-8; -1 if not a valid scalar */

static int add_utf8(VSTRING *out, unsigned long cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
	return (-1);
    if (cp < 0x80) {
	vstring_addch(out, cp);
    } else if (cp < 0x800) {
	vstring_addch(out, 0xC0 | (cp >> 6));
	vstring_addch(out, 0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
	vstring_addch(out, 0xE0 | (cp >> 12));
	vstring_addch(out, 0x80 | ((cp >> 6) & 0x3F));
	vstring_addch(out, 0x80 | (cp & 0x3F));
    } else {
	vstring_addch(out, 0xF0 | (cp >> 18));
	vstring_addch(out, 0x80 | ((cp >> 12) & 0x3F));
	vstring_addch(out, 0x80 | ((cp >> 6) & 0x3F));
	vstring_addch(out, 0x80 | (cp & 0x3F));
    }
    return (0);
}

/* unicode_escape - "\x{HEX}" at CP (1-6 digits); its length, or -1 */

static int unicode_escape(VSTRING *out, const unsigned char *cp)
{
    unsigned long val = 0;
    int     n = 0;
    int     d;

    if (cp[1] != 'x' || cp[2] != '{')
	return (-1);
    while ((d = hex_value(cp[3 + n])) >= 0 && n < 6) {
	val = (val << 4) | d;
	n++;
    }
    if (n == 0 || cp[3 + n] != '}' || add_utf8(out, val) < 0)
	return (-1);
    return (4 + n);
}

/* xtext_decode - the decoder for both forms */

static VSTRING *xtext_decode(VSTRING *out, const char *in, int utf8)
{
    const unsigned char *cp;
    int     val;
    int     len;

    vstring_reset(out);
    for (cp = (const unsigned char *) in; *cp; cp++) {
	if (*cp == '+') {
	    if (hexchar(cp, &val) < 0 || val == 0)
		return (0);
	    vstring_addch(out, val);
	    cp += 2;
	} else if (utf8 && *cp == '\\') {
	    if ((len = unicode_escape(out, cp)) < 0)
		return (0);
	    cp += len - 1;
	} else if ((*cp >= '!' && *cp <= '~') || (utf8 && *cp >= 0x80)) {
	    vstring_addch(out, *cp);
	} else {
	    return (0);
	}
    }
    return (out);
}

VSTRING *xtext_unquote(VSTRING *out, const char *in)
{
    return (xtext_decode(out, in, 0));
}

VSTRING *uxtext_unquote(VSTRING *out, const char *in)
{
    return (xtext_decode(out, in, 1));
}
