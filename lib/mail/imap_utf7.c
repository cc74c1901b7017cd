/*
 * imap_utf7.c - modified UTF-7 mailbox names (RFC 3501 section 5.1.3).
 *
 * Modified UTF-7 writes printable US-ASCII (0x20-0x7e) as itself, except
 * "&", which is "&-"; every other character is in a run "&...-" of
 * modified BASE64 (RFC 2045's alphabet with "," for "/", no padding) over
 * its UTF-16 code units, big-endian.
 *
 * Both directions are strict, so that decoding and encoding again gives
 * back exactly the input (the fuzz harness test/fuzz/fuzz_imap_utf7.c
 * checks it).  Refused as modified UTF-7: bytes >= 0x80 and raw control
 * characters; a "&" with no "-" after its run; a character outside the
 * BASE64 alphabet inside a run; an empty run ("&" followed by too few
 * bits for one code unit); leftover bits that are six or more or not zero;
 * a printable ASCII character inside a run; two runs next to each other
 * (one run would do: "&AOQ-&APY-" is "&AOQA9g-"); unpaired or reversed
 * UTF-16 surrogates; U+0000.  Refused as UTF-8: bytes that do not start
 * or continue a sequence, truncated sequences, overlong forms,
 * surrogates, values above U+10FFFF.  On error OUT is left empty.
 */
#include "sys_defs.h"

#include "vstring.h"
#include "imap_utf7.h"

static const char b64_chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

#define IS_DIRECT(c)	((c) >= 0x20 && (c) <= 0x7e)	/* written as itself */
#define HIGH_SURROGATE(u) ((u) >= 0xd800 && (u) <= 0xdbff)
#define LOW_SURROGATE(u) ((u) >= 0xdc00 && (u) <= 0xdfff)

/*
 * UTF-8.
 */

/* utf8_put - append code point CP as UTF-8 */

static void utf8_put(VSTRING *out, unsigned cp)
{
    if (cp < 0x80) {
	vstring_addch(out, (int) cp);
    } else if (cp < 0x800) {
	vstring_addch(out, (int) (0xc0 | (cp >> 6)));
	vstring_addch(out, (int) (0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
	vstring_addch(out, (int) (0xe0 | (cp >> 12)));
	vstring_addch(out, (int) (0x80 | ((cp >> 6) & 0x3f)));
	vstring_addch(out, (int) (0x80 | (cp & 0x3f)));
    } else {
	vstring_addch(out, (int) (0xf0 | (cp >> 18)));
	vstring_addch(out, (int) (0x80 | ((cp >> 12) & 0x3f)));
	vstring_addch(out, (int) (0x80 | ((cp >> 6) & 0x3f)));
	vstring_addch(out, (int) (0x80 | (cp & 0x3f)));
    }
}

/*
 * utf8_get - the code point that starts at *CPP (advanced past it), or -1
 * for anything but the shortest form of a Unicode scalar value
 */
static long utf8_get(const unsigned char **cpp)
{
    static const unsigned min_value[] = {0, 0, 0x80, 0x800, 0x10000};
    const unsigned char *cp = *cpp;
    unsigned value;
    int     len, i;

    if (cp[0] < 0x80) {
	*cpp = cp + 1;
	return (cp[0]);
    }
    if ((cp[0] & 0xe0) == 0xc0) {
	len = 2;
	value = cp[0] & 0x1f;
    } else if ((cp[0] & 0xf0) == 0xe0) {
	len = 3;
	value = cp[0] & 0x0f;
    } else if ((cp[0] & 0xf8) == 0xf0) {
	len = 4;
	value = cp[0] & 0x07;
    } else {
	return (-1);				/* continuation byte, 0xf8.. */
    }
    for (i = 1; i < len; i++) {
	if ((cp[i] & 0xc0) != 0x80)		/* also stops at the NUL */
	    return (-1);
	value = (value << 6) | (cp[i] & 0x3f);
    }
    if (value < min_value[len] || value > 0x10ffff
	|| (value >= 0xd800 && value <= 0xdfff))
	return (-1);
    *cpp = cp + len;
    return ((long) value);
}

/*
 * Modified BASE64 runs, encoding.
 */

typedef struct B64_RUN {
    VSTRING *out;
    unsigned bits;			/* not yet written */
    int     nbits;			/* how many of them */
    int     open;				/* "&" written, "-" not yet */
} B64_RUN;

/* run_unit - add one UTF-16 code unit to the run (opening it) */

static void run_unit(B64_RUN *run, unsigned unit)
{
    if (!run->open) {
	vstring_addch(run->out, '&');
	run->open = 1;
    }
    run->bits = (run->bits << 16) | unit;
    run->nbits += 16;
    while (run->nbits >= 6) {
	run->nbits -= 6;
	vstring_addch(run->out, b64_chars[(run->bits >> run->nbits) & 0x3f]);
    }
    run->bits &= (1U << run->nbits) - 1;
}

/* run_close - write the last bits (zero-padded) and the "-" */

static void run_close(B64_RUN *run)
{
    if (!run->open)
	return;
    if (run->nbits > 0)
	vstring_addch(run->out,
		      b64_chars[(run->bits << (6 - run->nbits)) & 0x3f]);
    vstring_addch(run->out, '-');
    run->bits = 0;
    run->nbits = 0;
    run->open = 0;
}

int     imap_utf8_to_utf7(VSTRING *out, const char *name)
{
    const unsigned char *cp = (const unsigned char *) name;
    B64_RUN run = {out, 0, 0, 0};
    long    ch;

    vstring_reset(out);
    while (*cp) {
	if ((ch = utf8_get(&cp)) < 0) {
	    vstring_reset(out);
	    return (-1);
	}
	if (IS_DIRECT(ch)) {
	    run_close(&run);
	    if (ch == '&')
		vstring_strcat(out, "&-");
	    else
		vstring_addch(out, (int) ch);
	} else if (ch < 0x10000) {
	    run_unit(&run, (unsigned) ch);
	} else {
	    ch -= 0x10000;
	    run_unit(&run, 0xd800 | (unsigned) (ch >> 10));
	    run_unit(&run, 0xdc00 | (unsigned) (ch & 0x3ff));
	}
    }
    run_close(&run);
    return (0);
}

/*
 * Modified BASE64 runs, decoding.
 */

/* b64_value - the 6-bit value of CH, or -1 */

static int b64_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
	return (ch - 'A');
    if (ch >= 'a' && ch <= 'z')
	return (ch - 'a' + 26);
    if (ch >= '0' && ch <= '9')
	return (ch - '0' + 52);
    if (ch == '+')
	return (62);
    if (ch == ',')
	return (63);
    return (-1);
}

/*
 * run_char - one code unit of a run into OUT (a high surrogate waits in
 * *PENDING for its low half); 0, or -1 when the result is not canonical
 */
static int run_char(VSTRING *out, unsigned unit, unsigned *pending)
{
    unsigned cp;

    if (*pending) {
	if (!LOW_SURROGATE(unit))
	    return (-1);
	cp = 0x10000 + ((*pending - 0xd800) << 10) + (unit - 0xdc00);
	*pending = 0;
    } else if (HIGH_SURROGATE(unit)) {
	*pending = unit;
	return (0);
    } else if (LOW_SURROGATE(unit) || unit == 0 || IS_DIRECT(unit)) {
	return (-1);
    } else {
	cp = unit;
    }
    utf8_put(out, cp);
    return (0);
}

/*
 * run_decode - the run that starts at *CPP (just after its "&"), up to
 * and past its "-"; 0 or -1
 */
static int run_decode(VSTRING *out, const char **cpp)
{
    const char *cp = *cpp;
    unsigned bits = 0;
    unsigned pending = 0;
    int     nbits = 0;
    int     units = 0;
    int     value;

    for (; *cp != '-'; cp++) {
	if ((value = b64_value((unsigned char) *cp)) < 0)
	    return (-1);			/* also the end of NAME */
	bits = (bits << 6) | (unsigned) value;
	nbits += 6;
	if (nbits >= 16) {
	    nbits -= 16;
	    if (run_char(out, (bits >> nbits) & 0xffff, &pending) < 0)
		return (-1);
	    bits &= (1U << nbits) - 1;
	    units++;
	}
    }
    if (units == 0 || nbits >= 6 || bits != 0 || pending != 0)
	return (-1);
    *cpp = cp + 1;
    return (0);
}

int     imap_utf7_to_utf8(VSTRING *out, const char *name)
{
    const char *cp = name;
    int     after_run = 0;		/* the last thing was a run */
    unsigned char ch;

    vstring_reset(out);
    while ((ch = (unsigned char) *cp) != 0) {
	if (!IS_DIRECT(ch)) {
	    break;
	} else if (ch != '&') {
	    vstring_addch(out, ch);
	    after_run = 0;
	    cp++;
	} else if (cp[1] == '-') {
	    vstring_addch(out, '&');
	    after_run = 0;
	    cp += 2;
	} else {
	    cp++;
	    if (after_run || run_decode(out, &cp) < 0)
		break;
	    after_run = 1;
	}
    }
    if (ch != 0) {
	vstring_reset(out);
	return (-1);
    }
    return (0);
}
