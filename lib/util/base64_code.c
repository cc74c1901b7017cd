/*
 * base64_code.c - RFC 4648 base64 (base64_code.h).
 */
#include "sys_defs.h"
#include "base64_code.h"

static const char base64_chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

VSTRING *base64_encode(VSTRING *out, const char *in, size_t len)
{
    const unsigned char *cp = (const unsigned char *) in;

    vstring_reset(out);
    for (; len >= 3; len -= 3, cp += 3) {
	vstring_addch(out, base64_chars[cp[0] >> 2]);
	vstring_addch(out, base64_chars[((cp[0] & 3) << 4) | (cp[1] >> 4)]);
	vstring_addch(out, base64_chars[((cp[1] & 15) << 2) | (cp[2] >> 6)]);
	vstring_addch(out, base64_chars[cp[2] & 63]);
    }
    if (len > 0) {
	vstring_addch(out, base64_chars[cp[0] >> 2]);
	if (len == 1) {
	    vstring_addch(out, base64_chars[(cp[0] & 3) << 4]);
	    vstring_strcat(out, "==");
	} else {
	    vstring_addch(out, base64_chars[((cp[0] & 3) << 4) | (cp[1] >> 4)]);
	    vstring_addch(out, base64_chars[(cp[1] & 15) << 2]);
	    vstring_addch(out, '=');
	}
    }
    return (out);
}

/* base64_value - the 6 bits of CH, or -1 */

static int base64_value(int ch)
{
    const char *cp = ch ? strchr(base64_chars, ch) : 0;

    return (cp ? (int) (cp - base64_chars) : -1);
}

int     base64_decode(VSTRING *out, const char *text, size_t len)
{
    int     v[4];

    vstring_reset(out);
    if (len % 4 != 0)
	return (-1);
    for (size_t i = 0; i < len; i += 4) {
	int     last = (i + 4 == len);
	int     pad = 0;

	for (int j = 0; j < 4; j++) {
	    if (text[i + j] == '=' && last && j >= 2) {
		pad++;
		v[j] = 0;
	    } else if (pad || (v[j] = base64_value((unsigned char) text[i + j])) < 0) {
		return (-1);
	    }
	}
	vstring_addch(out, (v[0] << 2) | (v[1] >> 4));
	if (pad < 2)
	    vstring_addch(out, ((v[1] & 15) << 4) | (v[2] >> 2));
	if (pad < 1)
	    vstring_addch(out, ((v[2] & 3) << 6) | v[3]);
    }
    return (0);
}
