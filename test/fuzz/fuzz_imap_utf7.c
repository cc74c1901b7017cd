/*
 * fuzz_imap_utf7.c - libFuzzer harness for lib/mail/imap_utf7.c (modified
 * UTF-7 mailbox names, RFC 3501 section 5.1.3).
 *
 * Built and run by test/fuzz/run.sh.  The input, up to its first NUL, is
 * given to both directions:
 *   - as modified UTF-7: when imap_utf7_to_utf8() accepts it, the result
 *     must be valid UTF-8 (by the harness's own check) and must encode
 *     back to exactly the input (the decoder accepts canonical forms only);
 *     when it refuses, the output must be empty;
 *   - as UTF-8: imap_utf8_to_utf7() must accept it exactly when the
 *     harness's own check calls it valid UTF-8; the result must be
 *     printable ASCII and decode back to exactly the input.
 * A broken invariant calls abort().
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_utf7.h"

#define FUZZ_MAX_INPUT	(64 * 1024)

static VSTRING *out;
static VSTRING *again;

/* fail - report a broken invariant and abort */

static void fail(const char *what, const char *input)
{
    fprintf(stderr, "fuzz_imap_utf7: %s (input \"%s\")\n", what, input);
    abort();
}

/*
 * utf8_valid - RFC 3629 well-formed UTF-8, written independently of the
 * library: the table of valid byte ranges for each lead byte.
 */
static int utf8_valid(const unsigned char *s)
{
    while (*s) {
	unsigned char c = *s;
	unsigned char lo = 0x80, hi = 0xbf;
	int     more;

	if (c <= 0x7f)
	    more = 0;
	else if (c >= 0xc2 && c <= 0xdf)
	    more = 1;
	else if (c >= 0xe0 && c <= 0xef)
	    more = 2;
	else if (c >= 0xf0 && c <= 0xf4)
	    more = 3;
	else
	    return (0);
	if (c == 0xe0)
	    lo = 0xa0;
	else if (c == 0xed)
	    hi = 0x9f;
	else if (c == 0xf0)
	    lo = 0x90;
	else if (c == 0xf4)
	    hi = 0x8f;
	s++;
	for (int i = 0; i < more; i++, s++) {
	    if (*s < (i == 0 ? lo : 0x80) || *s > (i == 0 ? hi : 0xbf))
		return (0);
	}
    }
    return (1);
}

/* printable_ascii - every byte of S is 0x20..0x7e */

static int printable_ascii(const char *s)
{
    for (; *s; s++)
	if (*s < 0x20 || *s > 0x7e)
	    return (0);
    return (1);
}

/* check_decode - INPUT as modified UTF-7 */

static void check_decode(const char *input)
{
    if (imap_utf7_to_utf8(out, input) < 0) {
	if (LEN(out) != 0)
	    fail("a refused name left output behind", input);
	return;
    }
    if (strlen(STR(out)) != LEN(out))
	fail("decoded name contains a NUL", input);
    if (!utf8_valid((const unsigned char *) STR(out)))
	fail("decoded name is not valid UTF-8", input);
    if (imap_utf8_to_utf7(again, STR(out)) < 0)
	fail("decoded name does not encode", input);
    if (strcmp(STR(again), input) != 0)
	fail("decoded name encodes differently", input);
}

/* check_encode - INPUT as UTF-8 */

static void check_encode(const char *input)
{
    int     valid = utf8_valid((const unsigned char *) input);

    if (imap_utf8_to_utf7(out, input) < 0) {
	if (valid)
	    fail("valid UTF-8 was refused", input);
	if (LEN(out) != 0)
	    fail("refused UTF-8 left output behind", input);
	return;
    }
    if (!valid)
	fail("invalid UTF-8 was accepted", input);
    if (!printable_ascii(STR(out)))
	fail("encoded name is not printable ASCII", input);
    if (imap_utf7_to_utf8(again, STR(out)) < 0)
	fail("encoded name does not decode", input);
    if (strcmp(STR(again), input) != 0)
	fail("encoded name decodes differently", input);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_imap_utf7", 0);
    out = vstring_alloc(100);
    again = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *input;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    input = mystrndup((const char *) data, size);	/* up to a NUL */
    check_decode(input);
    check_encode(input);
    myfree(input);
    return (0);
}
