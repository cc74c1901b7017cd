/*
 * fuzz_pass_scheme.c - libFuzzer harness for lib/sasl/pass_scheme.c
 * (stored passwords in Dovecot's "{SCHEME}data" form) and the SASL PLAIN
 * and LOGIN exchanges of lib/sasl/xsasl_passdb.c.
 *
 * Built and run by test/fuzz/run.sh.  The input, up to its first NUL, is
 * "STORED\nPASSWORD": pass_scheme_verify() must return MATCH, MISMATCH or
 * ERROR (then with a reason), and for {PLAIN} data match exactly when
 * the password is the data.  Stored values of the slow key-stretching
 * schemes (crypt, Argon2: their cost is in the data) are skipped, so a
 * run tests the parsing, not hours of hashing.  The whole input (NULs
 * too) is then a PLAIN initial response and a LOGIN exchange against a
 * table holding bob@example.com with {PLAIN}bobpass: every answer is one
 * of XSASL_AUTH_*, and DONE only for exactly that name and password.
 * A broken invariant calls abort().
 */
#include "sys_defs.h"
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "xsasl.h"
#include "xsasl_passdb.h"
#include "pass_scheme.h"

#define FUZZ_MAX_INPUT	(16 * 1024)

static VSTRING *why;
static VSTRING *name;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_pass_scheme: %s\n", what);
    abort();
}

/* slow_scheme - STORED names a scheme whose cost its data sets */

static int slow_scheme(const char *stored)
{
    static const char *const slow[] = {"{CRYPT}", "{DES-CRYPT}", "{MD5-CRYPT}",
	"{SHA256-CRYPT}", "{SHA512-CRYPT}", "{BLF-CRYPT}", "{ARGON2I}",
    "{ARGON2ID}", 0};

    for (int i = 0; slow[i]; i++)
	if (strncasecmp(stored, slow[i], strlen(slow[i])) == 0)
	    return (1);
    return (0);
}

static void check_verify(const char *input)
{
    char   *copy = mystrdup(input);
    char   *nl = strchr(copy, '\n');
    const char *password = "";
    int     ret;

    if (nl) {
	*nl = 0;
	password = nl + 1;
    }
    if (!slow_scheme(copy)) {
	ret = pass_scheme_verify(copy, password, "SSHA", why);
	if (ret != PASS_SCHEME_MATCH && ret != PASS_SCHEME_MISMATCH
	    && ret != PASS_SCHEME_ERROR)
	    fail("unknown result");
	if (ret == PASS_SCHEME_ERROR && LEN(why) == 0)
	    fail("an error without a reason");
	if (strncasecmp(copy, "{PLAIN}", 7) == 0 && copy[7]
	    && (ret == PASS_SCHEME_MATCH) != (strcmp(copy + 7, password) == 0))
	    fail("{PLAIN} answered wrong");
    }
    myfree(copy);
}

static int valid(int status)
{
    return (status == XSASL_AUTH_DONE || status == XSASL_AUTH_MORE
	    || status == XSASL_AUTH_FAIL || status == XSASL_AUTH_TEMP);
}

/* plain_good - DATA is authzid NUL authcid NUL password, for bob's */

static int plain_good(const char *data, size_t len)
{
    const char *end = data + len;
    const char *authcid = memchr(data, 0, len);
    const char *password;

    if (authcid == 0 || (password = memchr(authcid + 1, 0, end - authcid - 1)) == 0)
	return (0);
    authcid++;
    password++;
    return (strcasecmp(authcid, "bob@example.com") == 0
	    && end - password == 7 && memcmp(password, "bobpass", 7) == 0
	    && (*data == 0 || strcasecmp(data, authcid) == 0));
}

static void check_exchanges(const char *data, size_t len)
{
    XSASL_PASSDB_EXCHANGE *x = xsasl_passdb_exchange("");
    int     status;

    status = xsasl_passdb_start(x, "PLAIN", data, len, why);
    if (!valid(status) || status == XSASL_AUTH_MORE)
	fail("PLAIN: bad answer");
    if ((status == XSASL_AUTH_DONE) != plain_good(data, len))
	fail("PLAIN: wrong answer");
    if ((status = xsasl_passdb_start(x, "LOGIN", 0, 0, why)) != XSASL_AUTH_MORE)
	fail("LOGIN: no first challenge");
    status = xsasl_passdb_step(x, data, len, why);
    if (status == XSASL_AUTH_MORE)
	status = xsasl_passdb_step(x, data, len, why);
    if (!valid(status) || status == XSASL_AUTH_DONE)
	fail("LOGIN: bad answer, or a name that is its own password");
    xsasl_passdb_exchange_free(x);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char    path[] = "/tmp/fuzz_pass_scheme.XXXXXX";
    VSTRING *spec = vstring_alloc(100);
    FILE   *fp;
    int     fd;

    (void) argc;
    (void) argv;
    msg_init("fuzz_pass_scheme", 0);
    why = vstring_alloc(100);
    name = vstring_alloc(100);
    if ((fd = mkstemp(path)) < 0)
	fail("cannot make the table");
    if ((fp = fdopen(fd, "w")) == 0)
	fail("cannot write the table");
    fputs("bob@example.com {PLAIN}bobpass\n", fp);
    fclose(fp);
    vstring_sprintf(spec, "texthash:%s", path);
    if (xsasl_passdb_init(STR(spec), "CRYPT") < 0)
	fail("cannot open the table");
    (void) unlink(path);			/* texthash: read at open */
    vstring_free(spec);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *input;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    input = mystrndup((const char *) data, size);	/* up to a NUL */
    check_verify(input);
    myfree(input);
    check_exchanges((const char *) data, size);
    return (0);
}
