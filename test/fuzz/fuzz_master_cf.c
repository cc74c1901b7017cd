/*
 * fuzz_master_cf.c - libFuzzer harness for lib/global/master_cf.c.
 *
 * Built and run by test/fuzz/run.sh.  The input is a master.cf.  It is
 * parsed with master_cf_parse_text() (up to the first NUL) and, from a
 * memfd, with master_cf_parse(); both must agree.  A rejected file must
 * come with a reason; an accepted one must hold sane entries, and writing
 * those entries out again as master.cf text must parse to the same table.
 * A broken invariant calls abort().
 */
#include "sys_defs.h"

#include <sys/mman.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "master_cf.h"

#define FUZZ_MAX_INPUT	(64 * 1024)
#define FUZZ_MAXPROC	100

static VSTRING *err, *err2, *text, *addr;

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_master_cf: %s\n", what);
    abort();
}

/* check_entry - the fields of one accepted service */

static void check_entry(const MASTER_CF *cf, int n)
{
    const MASTER_CF_ENT *e = cf->ents + n;
    int     i;

    if (e->name == 0 || *e->name == 0 || e->line < 1 || e->argc < 1
	|| e->argv == 0 || e->argv[e->argc] != 0 || e->maxproc < 0
	|| e->wakeup < 0)
	fail("accepted entry has a bad field");
    if (e->type != MASTER_CF_INET && e->type != MASTER_CF_UNIX)
	fail("accepted entry has a bad type");
    if (e->type == MASTER_CF_UNIX && strchr(e->name, '/') != 0)
	fail("accepted unix service name contains '/'");
    if (e->type == MASTER_CF_INET && master_cf_inet_addr(e->name, addr, err2) != 0)
	fail("accepted inet service has no address");
    for (i = 0; i < e->argc; i++)
	if (e->argv[i] == 0 || *e->argv[i] == 0)
	    fail("accepted entry has an empty argument");
    for (i = 0; i < n; i++)
	if (strcmp(cf->ents[i].name, e->name) == 0 && cf->ents[i].type == e->type)
	    fail("accepted duplicate service");
}

/* write_cf - CF as master.cf text, every column explicit */

static void write_cf(const MASTER_CF *cf, VSTRING *out)
{
    const MASTER_CF_ENT *e;
    int     n, i;

    vstring_reset(out);
    for (n = 0; n < cf->count; n++) {
	e = cf->ents + n;
	vstring_sprintf_append(out, "%s %s %s %s %s %d%s %d",
			       e->name, master_cf_type_name(e->type),
			       e->private_ ? "y" : "n", e->unpriv ? "y" : "n",
			       e->chroot ? "y" : "n", e->wakeup,
			       e->wakeup_cond ? "?" : "", e->maxproc);
	for (i = 0; i < e->argc; i++)		/* one line: "#x" would be a comment */
	    vstring_sprintf_append(out, " %s", e->argv[i]);
	vstring_addch(out, '\n');
    }
}

/* same_cf - the two tables hold the same services (lines aside) */

static int same_cf(const MASTER_CF *a, const MASTER_CF *b)
{
    int     n, i;

    if (a->count != b->count)
	return (0);
    for (n = 0; n < a->count; n++) {
	const MASTER_CF_ENT *x = a->ents + n, *y = b->ents + n;

	if (strcmp(x->name, y->name) != 0 || x->type != y->type
	    || x->private_ != y->private_ || x->unpriv != y->unpriv
	    || x->chroot != y->chroot || x->wakeup != y->wakeup
	    || x->wakeup_cond != y->wakeup_cond || x->maxproc != y->maxproc
	    || x->argc != y->argc)
	    return (0);
	for (i = 0; i < x->argc; i++)
	    if (strcmp(x->argv[i], y->argv[i]) != 0)
		return (0);
    }
    return (1);
}

/* parse_memfd - master_cf_parse() on DATA through /proc/self/fd */

static MASTER_CF *parse_memfd(const uint8_t *data, size_t size, VSTRING *why)
{
    int     fd = memfd_create("master.cf", MFD_CLOEXEC);
    char    path[64];
    MASTER_CF *cf;

    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size)) {
	perror("memfd");
	abort();
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    cf = master_cf_parse(path, FUZZ_MAXPROC, why);
    close(fd);
    return (cf);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_master_cf", 0);
    err = vstring_alloc(100);
    err2 = vstring_alloc(100);
    text = vstring_alloc(100);
    addr = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *in;
    MASTER_CF *cf, *cf2, *cf3;
    int     i;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    in = mystrndup((const char *) data, size);
    vstring_reset(err);
    cf = master_cf_parse_text(in, "master.cf", FUZZ_MAXPROC, err);
    if (cf == 0 && LEN(err) == 0)
	fail("rejected without a reason");
    vstring_reset(err2);
    cf2 = parse_memfd(data, size, err2);
    if (cf2 == 0 && LEN(err2) == 0)
	fail("master_cf_parse rejected without a reason");
    if (memchr(data, 0, size) == 0 && ((cf == 0) != (cf2 == 0)
				       || (cf && !same_cf(cf, cf2))))
	fail("master_cf_parse and master_cf_parse_text disagree");
    if (cf) {
	for (i = 0; i < cf->count; i++)
	    check_entry(cf, i);
	write_cf(cf, text);
	if ((cf3 = master_cf_parse_text(STR(text), "again", FUZZ_MAXPROC, err2)) == 0)
	    fail("a parsed table written out again does not parse");
	if (!same_cf(cf, cf3))
	    fail("a parsed table written out again parses differently");
	master_cf_free(cf3);
    }
    master_cf_free(cf);
    master_cf_free(cf2);
    myfree(in);
    return (0);
}
