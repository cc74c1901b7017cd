/*
 * printable.c - replace control characters and broken UTF-8 (printable.h).
 *
 * A byte is kept when it is printable ASCII (0x20..0x7e) or belongs to a
 * well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF, and no C1 controls U+0080..U+009F); every other
 * byte becomes the replacement.  So UTF-8 text (SMTPUTF8 addresses,
 * non-English SASL names) survives, and nothing a terminal, a log parser
 * or a mail header would treat as structure gets through.
 */
#include "sys_defs.h"
#include "printable.h"

/* utf8_len - length of the well-formed UTF-8 sequence at CP, or 0 */

static size_t utf8_len(const unsigned char *cp)
{
    unsigned cp0 = cp[0];
    unsigned code;
    size_t  len, i;

    if (cp0 >= 0xc2 && cp0 <= 0xdf) {
	len = 2;
	code = cp0 & 0x1f;
    } else if (cp0 >= 0xe0 && cp0 <= 0xef) {
	len = 3;
	code = cp0 & 0x0f;
    } else if (cp0 >= 0xf0 && cp0 <= 0xf4) {
	len = 4;
	code = cp0 & 0x07;
    } else {
	return (0);
    }
    for (i = 1; i < len; i++) {
	if ((cp[i] & 0xc0) != 0x80)
	    return (0);				/* includes the terminating NUL */
	code = (code << 6) | (cp[i] & 0x3f);
    }
    if ((len == 3 && code < 0x800) || (len == 4 && code < 0x10000)
	|| (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff
	|| (code >= 0x80 && code <= 0x9f))
	return (0);
    return (len);
}

int     utf8_valid(const char *string, size_t len)
{
    const unsigned char *cp = (const unsigned char *) string;
    const unsigned char *end = cp + len;
    size_t  n;

    while (cp < end) {
	if (*cp < 0x80) {
	    cp++;
	} else if ((size_t) (end - cp) < (*cp >= 0xf0 ? 4U : *cp >= 0xe0 ? 3U : 2U)
		   || (n = utf8_len(cp)) == 0) {
	    return (0);				/* cut short, or not UTF-8 */
	} else {
	    cp += n;
	}
    }
    return (1);
}

char   *printable(char *string, int replacement)
{
    unsigned char *cp = (unsigned char *) string;
    size_t  len;

    while (*cp) {
	if (*cp >= 0x20 && *cp < 0x7f) {
	    cp++;
	} else if (*cp >= 0x80 && (len = utf8_len(cp)) > 0) {
	    cp += len;
	} else {
	    *cp++ = (unsigned char) replacement;
	}
    }
    return (string);
}

VSTRING *printable_cat(VSTRING *buf, const char *text, size_t max, int replacement)
{
    size_t  start = LEN(buf);
    size_t  len = strnlen(text, max);

    vstring_memcat(buf, text, len);
    printable(STR(buf) + start, replacement);
    return (buf);
}

char   *neuter(char *string, const char *chars, int replacement)
{
    for (char *cp = string; *cp; cp++)
	if (strchr(chars, *cp))
	    *cp = (char) replacement;
    return (string);
}
