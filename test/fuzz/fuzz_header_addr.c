/*
 * fuzz_header_addr.c - libFuzzer harness for the address header rewriter
 * (lib/mail/header_addr.c).
 *
 * Built and run by test/fuzz/run.sh.  The input is a header value.  It is
 * rewritten twice: with a function that keeps every address (the output
 * must be the input, byte for byte), and with one that puts "[" and "]"
 * around each (the output must be the input with exactly two bytes more
 * per address, and every address offered must hold an '@' and occur in the
 * input).  A broken invariant calls abort().
 */
#include "sys_defs.h"

#include "msg.h"
#include "vstring.h"
#include "header_addr.h"

#define FUZZ_MAX_INPUT	(64 * 1024)

static VSTRING *out;
static const char *input;
static size_t input_len;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_header_addr: %s\n", what);
    abort();
}

static int keep(const char *addr, VSTRING *result, void *ctx)
{
    return (0);
}

static int bracket(const char *addr, VSTRING *result, void *ctx)
{
    if (strchr(addr, '@') == 0)
	fail("an address without '@' was offered");
    if (memmem(input, input_len, addr, strlen(addr)) == 0)
	fail("an address that is not in the input was offered");
    vstring_sprintf(result, "[%s]", addr);
    return (1);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_header_addr", 0);
    out = vstring_alloc(1024);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTRING *value;
    int     n;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    value = vstring_alloc(size + 1);
    vstring_memcpy(value, (const char *) data, size);
    input = STR(value);
    input_len = size;
    if (header_addr_rewrite(input, size, out, keep, 0) != 0)
	fail("a keeping function changed something");
    if (LEN(out) != size || memcmp(STR(out), input, size) != 0)
	fail("the value changed though nothing was rewritten");
    n = header_addr_rewrite(input, size, out, bracket, 0);
    if (LEN(out) != size + 2 * (size_t) n)
	fail("the rewritten value lost or gained bytes");
    vstring_free(value);
    return (0);
}
