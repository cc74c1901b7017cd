/*
 * fuzz_conf_check.c - libFuzzer harness for lib/global/conf_check.c, the
 * main.cf check of "posthorn check": it must never die on what it was
 * asked to find, and what it accepts must not make a daemon die.
 *
 * Built and run by test/fuzz/run.sh.  Each line of the input that
 * conf_split_nameval() takes as "name = value" becomes a line of main.cf
 * (so reading it cannot fail; values keep every byte but NUL and
 * newline), and some lines name parameters of the table so that typed
 * values are tried.  Then conf_check_main() runs; any msg_fatal() from
 * it aborts (a fatal is a bug here).  When it reported no fatal problem,
 * every parameter of the table is read with its typed accessor, as the
 * daemons read them: a fatal there means the check let a bad value pass,
 * and aborts too.  Inputs with more than FUZZ_MAX_DOLLARS '$' signs are
 * skipped, as expansion of $a = $b$b, $b = $c$c, ... grows exponentially.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <fcntl.h>

#include "conf_check.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define FUZZ_MAX_INPUT		4096
#define FUZZ_MAX_DOLLARS	16

static char conf_dir[] = "/tmp/fuzz_conf_check.XXXXXX";
static char main_cf[sizeof(conf_dir) + 16];

/* Names the input can pick with a leading digit, so typed values are met */
static const char *fuzz_names[] = {
    "smtpd_timeout", "smtpd_recipient_limit", "message_size_limit",
    "smtpd_helo_required", "hash_queue_depth", "ipc_timeout", "myhostname",
    "mydomain", "myorigin", "delay_warning_time", "biff", "default_process_limit",
};

/* fatal_is_bug - msg_cleanup() hook: no fatal error is expected here */

static void fatal_is_bug(void)
{
    abort();
}

static void ignore(int severity, const char *text, void *ctx)
{
    (void) severity;
    (void) text;
    (void) ctx;
}

/* add_line - LINE (LEN bytes) to MAIN when it is a setting; digits pick a name */

static void add_line(VSTRING *main, const char *line, size_t len)
{
    VSTRING *text = vstring_alloc(100);
    VSTRING *name = vstring_alloc(50);
    VSTRING *value = vstring_alloc(100);
    size_t  count = sizeof(fuzz_names) / sizeof(fuzz_names[0]);

    vstring_strncpy(text, line, len);
    if (len > 0 && line[0] >= '0' && line[0] <= '9') {
	vstring_sprintf(name, "%s = %s", fuzz_names[(line[0] - '0') % count], STR(text) + 1);
	vstring_strcpy(text, STR(name));
    }
    if (LEN(text) > 0 && !isspace((unsigned char) STR(text)[0])
	&& strlen(STR(text)) == LEN(text)
	&& conf_split_nameval(STR(text), name, value) == 0)
	vstring_sprintf_append(main, "%s\n", STR(text));
    vstring_free(text);
    vstring_free(name);
    vstring_free(value);
}

static void write_main_cf(const uint8_t *data, size_t size)
{
    VSTRING *main = vstring_alloc(size + 100);
    const char *cp = (const char *) data;
    const char *end = cp + size;
    const char *nl;
    int     fd;

    for (; cp < end; cp = nl + 1) {
	if ((nl = memchr(cp, '\n', end - cp)) == 0)
	    nl = end;
	add_line(main, cp, nl - cp);
    }
    fd = open(main_cf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, STR(main), LEN(main)) != (ssize_t) LEN(main)) {
	perror(main_cf);
	abort();
    }
    close(fd);
    vstring_free(main);
}

/* read_typed - every table parameter with its typed accessor */

static void read_typed(void)
{
    for (const MAIL_PARAM *p = mail_params; p->name; p++) {
	switch (p->type) {
	case PARAM_INT:
	    (void) conf_int(p->name);
	    break;
	case PARAM_LONG:
	    (void) conf_long(p->name);
	    break;
	case PARAM_BOOL:
	    (void) conf_bool(p->name);
	    break;
	case PARAM_TIME:
	    (void) conf_time(p->name);
	    break;
	default:
	    (void) conf_str(p->name);
	}
    }
}

static void remove_conf_dir(void)
{
    unlink(main_cf);
    rmdir(conf_dir);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_conf_check", 0);
    if (mkdtemp(conf_dir) == 0) {
	perror("mkdtemp");
	abort();
    }
    snprintf(main_cf, sizeof(main_cf), "%s/main.cf", conf_dir);
    atexit(remove_conf_dir);
    mail_conf_set_dir(conf_dir);
    msg_cleanup(fatal_is_bug);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CONF_CHECK cc;
    size_t  dollars = 0;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    for (size_t i = 0; i < size; i++)
	dollars += (data[i] == '$');
    if (dollars > FUZZ_MAX_DOLLARS)
	return (0);
    write_main_cf(data, size);
    mail_conf_read(0);
    conf_check_init(&cc, ignore, 0);
    conf_check_main(&cc, (MASTER_CF *) 0);
    if (cc.count[CONF_CHECK_FATAL] == 0)
	read_typed();
    conf_check_free(&cc);
    return (0);
}
