/*
 * fuzz_mail_conf.c - libFuzzer harness for main.cf parsing and $name
 * expansion in lib/global/mail_conf.c.
 *
 * Built and run by test/fuzz/run.sh (with -detect_leaks=0, see below).
 * The input is written to main.cf in a temporary config directory and
 * read with mail_conf_read(); then every name set in it is expanded with
 * conf_str(), and every parameter of the table is read with its typed
 * accessor (conf_int, conf_bool, ...).
 *
 * lib/global/mail_conf.c reports bad input with msg_fatal(), which exits; that
 * is its documented behaviour, not a bug.  So that libFuzzer does not
 * count an exit as a crash, each call runs with a msg_cleanup() hook that
 * longjmp()s back to the harness.  What the skipped code would have freed
 * leaks, so leak detection is off for this harness; the one descriptor
 * that can leak (main.cf, open while parsing) is closed here.
 * msg_panic() still aborts: a panic is a bug.  To keep expansion from
 * growing exponentially ($a = $b$b, $b = $c$c, ...), inputs with more
 * than FUZZ_MAX_DOLLARS '$' signs are skipped.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"

#define FUZZ_MAX_INPUT		4096
#define FUZZ_MAX_DOLLARS	16
#define FUZZ_MAX_NAMES		256

static char conf_dir[] = "/tmp/fuzz_mail_conf.XXXXXX";
static char main_cf[sizeof(conf_dir) + 16];
static jmp_buf fatal_jump;
static VSTRING *expanded;

static const char *set_names[FUZZ_MAX_NAMES];
static int set_count;


/* fatal_hook - msg_cleanup() hook: return to the harness instead of exit */

static void fatal_hook(void)
{
    longjmp(fatal_jump, 1);
}

/* run_protected - run FN(ARG); 0 if it returned, -1 if it called msg_fatal */

static int run_protected(void (*fn) (const void *), const void *arg)
{
    if (setjmp(fatal_jump) != 0)
	return (-1);
    msg_cleanup(fatal_hook);
    fn(arg);
    msg_cleanup(0);
    return (0);
}

/* fail - report a broken invariant and abort */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_mail_conf: %s: \"%s\"\n", what, detail);
    abort();
}

static void call_read(const void *unused)
{
    (void) unused;
    mail_conf_read(0);
}

static void collect_name(const char *name, const char *raw, void *ctx)
{
    (void) ctx;
    if (raw == 0 || !conf_is_set(name))
	fail("conf_walk gave a name that is not set", name);
    if (set_count < FUZZ_MAX_NAMES)
	set_names[set_count++] = name;
}

/* call_expand - conf_str of a set name must equal conf_expand of its raw value */

static void call_expand(const void *arg)
{
    const char *name = arg;
    const char *raw = conf_raw(name);
    const char *value = conf_str(name);

    if (raw == 0)
	fail("a set name has no raw value", name);
    conf_expand(expanded, raw);
    if (strcmp(STR(expanded), value) != 0)
	fail("conf_str and conf_expand disagree", name);
    if (conf_str(name) != value)
	fail("conf_str cache returned a different string", name);
}

/* call_typed - read one table parameter with its typed accessor */

static void call_typed(const void *arg)
{
    const MAIL_PARAM *p = arg;
    long    lval;
    int     bval;

    switch (p->type) {
    case PARAM_STR:
	(void) conf_str(p->name);
	break;
    case PARAM_INT:
	lval = conf_int(p->name);
	if ((p->min && lval < p->min) || (p->max && lval > p->max))
	    fail("conf_int returned a value out of bounds", p->name);
	break;
    case PARAM_LONG:
	lval = conf_long(p->name);
	if ((p->min && lval < p->min) || (p->max && lval > p->max))
	    fail("conf_long returned a value out of bounds", p->name);
	break;
    case PARAM_BOOL:
	bval = conf_bool(p->name);
	if (bval != 0 && bval != 1)
	    fail("conf_bool returned neither 0 nor 1", p->name);
	break;
    case PARAM_TIME:
	if (conf_time(p->name) < 0)
	    fail("conf_time returned a negative time", p->name);
	break;
    default:
	fail("unknown parameter type in the table", p->name);
    }
}

/* write_main_cf - DATA becomes main.cf */

static void write_main_cf(const uint8_t *data, size_t size)
{
    int     fd = open(main_cf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size)) {
	perror(main_cf);
	abort();
    }
    close(fd);
}

/* next_fd - the descriptor number that the next open() will return */

static int next_fd(void)
{
    int     fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
	perror("/dev/null");
	abort();
    }
    close(fd);
    return (fd);
}

/* close_if_main_cf - close FD if it is our main.cf left open by a fatal error */

static void close_if_main_cf(int fd)
{
    struct stat fst, st;

    if (fstat(fd, &fst) == 0 && stat(main_cf, &st) == 0
	&& fst.st_dev == st.st_dev && fst.st_ino == st.st_ino)
	close(fd);
}

/* remove_conf_dir - atexit: remove the temporary config directory */

static void remove_conf_dir(void)
{
    unlink(main_cf);
    rmdir(conf_dir);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_mail_conf", 0);
    if (mkdtemp(conf_dir) == 0) {
	perror("mkdtemp");
	abort();
    }
    snprintf(main_cf, sizeof(main_cf), "%s/main.cf", conf_dir);
    atexit(remove_conf_dir);
    mail_conf_set_dir(conf_dir);
    expanded = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const MAIL_PARAM *p;
    size_t  dollars = 0;
    size_t  i;
    int     fd;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    for (i = 0; i < size; i++)
	dollars += (data[i] == '$');
    if (dollars > FUZZ_MAX_DOLLARS)
	return (0);
    write_main_cf(data, size);
    fd = next_fd();
    if (run_protected(call_read, 0) < 0) {
	close_if_main_cf(fd);
	return (0);
    }
    set_count = 0;
    conf_walk(collect_name, 0);
    for (i = 0; i < (size_t) set_count; i++)
	(void) run_protected(call_expand, set_names[i]);
    for (p = mail_params; p->name; p++)
	(void) run_protected(call_typed, p);
    return (0);
}
