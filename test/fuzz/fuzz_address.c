/*
 * fuzz_address.c - libFuzzer harness for lib/global/address.c.
 *
 * Built and run by test/fuzz/run.sh.  The input (up to the first NUL) is
 * handed to addr_parse_path() as the text after "MAIL FROM:".  When it
 * parses, the result must split with addr_split(), re-quote with
 * addr_quote_local() to the very same text, and parse again inside "<>"
 * to the same address.  Independently, addr_split() of the raw input,
 * when it succeeds, must survive a quote + split round trip.  Any broken
 * invariant calls abort(), which libFuzzer reports as a crash.
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "address.h"

#define ADDR_PATH_MAX	256		/* as in lib/global/address.c */

static VSTRING *addr, *addr2, *local, *domain, *local2, *domain2, *rebuilt, *path;

/* fail - report a broken invariant and abort */

static void fail(const char *what, const char *in, const char *detail)
{
    fprintf(stderr, "fuzz_address: %s\n  input: \"%s\"\n  detail: \"%s\"\n",
	    what, in, detail);
    abort();
}

/* rebuild - quote LOCAL and append "@DOMAIN" when DOMAIN is not empty */

static void rebuild(VSTRING *out, const char *loc, const char *dom)
{
    vstring_reset(out);
    addr_quote_local(loc, out);
    if (*dom) {
	vstring_addch(out, '@');
	vstring_strcat(out, dom);
    }
}

/* check_parsed - invariants for an address that addr_parse_path accepted */

static void check_parsed(const char *in, const char *rest)
{
    const char *why = 0;
    const char *rest2 = 0;
    const char *dom;

    if (rest < in || rest > in + strlen(in) || *rest == ' ' || *rest == '\t')
	fail("rest points to a bad place", in, rest);
    if (LEN(addr) == 0)				/* null sender <> */
	return;
    if (addr_split(STR(addr), local, domain) != 0)
	fail("parsed address does not split", in, STR(addr));
    rebuild(rebuilt, STR(local), STR(domain));
    if (strcmp(STR(rebuilt), STR(addr)) != 0)
	fail("split + quote does not give the parsed address back", in, STR(rebuilt));
    dom = addr_domain(STR(addr));
    if ((dom == 0) != (LEN(domain) == 0) || (dom && strcmp(dom, STR(domain)) != 0))
	fail("addr_domain disagrees with addr_split", in, STR(addr));
    if (LEN(domain) > 0 && !addr_valid_domain(STR(domain)))
	fail("parsed domain is not valid", in, STR(domain));
    if (LEN(addr) + 2 > ADDR_PATH_MAX)	/* quoting may make it longer */
	return;
    vstring_sprintf(path, "<%s>", STR(addr));
    if (addr_parse_path(STR(path), addr2, &rest2, &why) != 0)
	fail("canonical address does not parse again", in, why);
    if (strcmp(STR(addr2), STR(addr)) != 0 || *rest2 != 0)
	fail("canonical address parses to something else", in, STR(addr2));
}

/* check_split - addr_split of arbitrary text round-trips through quoting */

static void check_split(const char *in)
{
    const char *cp;

    if (addr_split(in, local, domain) != 0)
	return;
    for (cp = STR(local); *cp; cp++)
	if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
	    fail("addr_split gave a local part with a control character", in, STR(local));
    rebuild(rebuilt, STR(local), STR(domain));
    if (addr_split(STR(rebuilt), local2, domain2) != 0)
	fail("re-quoted address does not split", in, STR(rebuilt));
    if (strcmp(STR(local), STR(local2)) != 0 || strcmp(STR(domain), STR(domain2)) != 0)
	fail("split/quote/split changed the parts", in, STR(rebuilt));
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_address", 0);
    addr = vstring_alloc(100);
    addr2 = vstring_alloc(100);
    local = vstring_alloc(100);
    domain = vstring_alloc(100);
    local2 = vstring_alloc(100);
    domain2 = vstring_alloc(100);
    rebuilt = vstring_alloc(100);
    path = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *in;
    const char *rest = 0;
    const char *why = 0;

    if (size > 4096)
	return (0);
    in = mystrndup((const char *) data, size);	/* stops at a NUL */
    if (addr_parse_path(in, addr, &rest, &why) == 0)
	check_parsed(in, rest);
    else if (why == 0)
	fail("rejected without a reason", in, "");
    check_split(in);
    myfree(in);
    return (0);
}
