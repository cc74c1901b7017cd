/*
 * test_master_cf_upgrade.c - unit tests for lib/global/master_cf_upgrade.c
 * (the services "posthorn upgrade-configuration" adds to an old master.cf).
 *
 * Which services count as there (a line that starts with name and type;
 * not a comment, not a continuation, not another type), what is appended
 * and in which order, that no other byte of the file changes, and bad
 * input: no newline at the end, an empty file, a NUL byte, a symbolic
 * link in place of the file, no file at all.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include "master_cf_upgrade.h"
#include "msg.h"
#include "vstring.h"

static char tmp_dir[] = "/tmp/test_master_cf_upgrade.XXXXXX";
static VSTRING *file;				/* tmp_dir/master.cf */
static VSTRING *names;				/* what the callback was told */

static void said(const MASTER_CF_SERVICE *service, void *ctx)
{
    vstring_sprintf_append(names, "%s/%s ", service->name, service->type);
}

/* ALL - every service the upgrade knows, as conf/master.cf has them */
#define ALL "smtp unix - - n - - smtp\nrelay unix - - n - - smtp\n" \
	"lmtp unix - - n - - smtp\npickup unix n - n 60 1 pickup\n" \
	"showq unix n - n - - showq\npostlog unix n - n - 1 postlogd\n" \
	"anvil unix - - n - 1 anvil\nproxymap unix - - n - - proxymap\n"

static int missing(const char *text, VSTRING *add)
{
    vstring_reset(names);
    return (master_cf_upgrade_text(text, add, said, 0));
}

static void test_nothing_missing(void **state)
{
    VSTRING *add = vstring_alloc(100);

    assert_int_equal(missing(ALL, add), 0);
    assert_string_equal(STR(add), "");
    /* other columns and arguments do not matter: the admin's are kept */
    assert_int_equal(missing("smtp unix - - y - 5 smtp -v\nrelay\tunix - - n - - smtp\n"
			     "lmtp unix - - n - - lmtp\npickup  unix - - n - - pickup\n"
			     "showq unix - - n - - showq\npostlog unix - - n - - x\n"
			     "anvil unix - - n - - anvil\nproxymap unix - - n - 4 proxymap", add), 0);
    vstring_free(add);
}

static void test_all_missing(void **state)
{
    VSTRING *add = vstring_alloc(100);
    int     n = 0;

    assert_int_equal(missing("", add), 8);
    assert_string_equal(STR(names), "smtp/unix relay/unix lmtp/unix pickup/unix "
			"showq/unix postlog/unix anvil/unix proxymap/unix ");
    for (const MASTER_CF_SERVICE *sp = master_cf_upgrade_services; sp->name; sp++)
	n++;
    assert_int_equal(n, 8);
    assert_non_null(strstr(STR(add), "pickup    unix  n       -       n       60      1       pickup\n"));
    assert_non_null(strstr(STR(add), "postlog   unix  n       -       n       -       1       postlogd\n"));
    assert_int_equal(master_cf_upgrade_text("", add, 0, 0), 8);	/* no callback */
    vstring_free(add);
}

static void test_what_does_not_count(void **state)
{
    VSTRING *add = vstring_alloc(100);

    /* commented out, a continuation line, another type, a longer name */
    assert_int_equal(missing("#pickup unix n - n 60 1 pickup\n"
			     "smtp inet n - n - - smtpd\n"
			     "  pickup unix n - n 60 1 pickup\n"
			     "pickup inet n - n - - pickup\n"
			     "pickups unix n - n - - pickup\n"
			     "pickup\n"
			     "x pickup unix\n", add), 8);
    assert_non_null(strstr(STR(names), "pickup/unix"));
    assert_non_null(strstr(STR(names), "smtp/unix"));
    /* one present in the middle of others (a CR is white space too) */
    assert_int_equal(missing("a b\npostlog unix n - n - 1 postlogd\r\nc d", add), 7);
    assert_int_equal(missing("a b\npostlog   unix n - n - 1 postlogd\nc d", add), 7);
    assert_int_equal(missing("a b\npostlog   unix", add), 7);
    assert_null(strstr(STR(add), "postlog"));
    vstring_free(add);
}

static void write_master(const char *text, size_t len)
{
    int     fd;

    (void) unlink(STR(file));
    fd = open(STR(file), O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t) len);
    assert_int_equal(close(fd), 0);
}

static char *read_master(void)
{
    static char buf[10000];
    int     fd = open(STR(file), O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    assert_true(n >= 0);
    buf[n] = 0;
    close(fd);
    return (buf);
}

static void test_file(void **state)
{
    static const char old[] = "# my master.cf\nsmtp inet n - n - - smtpd\n"
	"submit unix n - n - - smtpd\n  -o syslog_name=x\n"
	"showq unix n - n - - showq";		/* no newline at the end */
    VSTRING *err = vstring_alloc(100);
    char   *text;

    write_master(old, strlen(old));
    vstring_reset(names);
    assert_int_equal(master_cf_upgrade(STR(file), said, 0, err), 7);
    assert_string_equal(STR(names), "smtp/unix relay/unix lmtp/unix pickup/unix "
			"postlog/unix anvil/unix proxymap/unix ");
    text = read_master();
    assert_memory_equal(text, old, strlen(old));	/* the admin's bytes */
    assert_string_equal(text + strlen(old),
      "\nsmtp      unix  -       -       n       -       -       smtp\n"
			"relay     unix  -       -       n       -       -       smtp\n"
			"lmtp      unix  -       -       n       -       -       smtp\n"
		    "pickup    unix  n       -       n       60      1       pickup\n"
		  "postlog   unix  n       -       n       -       1       postlogd\n"
		       "anvil     unix  -       -       n       -       1       anvil\n"
		    "proxymap  unix  -       -       n       -       -       proxymap\n");
    /* and again: nothing left to add, nothing written */
    assert_int_equal(master_cf_upgrade(STR(file), said, 0, err), 0);
    assert_string_equal(read_master(), text);
    write_master("", 0);
    assert_int_equal(master_cf_upgrade(STR(file), 0, 0, err), 8);
    assert_true(read_master()[0] == 's');		/* no empty first line */
    vstring_free(err);
}

static void test_bad_files(void **state)
{
    VSTRING *err = vstring_alloc(100);
    VSTRING *target = vstring_alloc(100);

    write_master("smtp inet n - n - - smtpd\n\0x\n", 29);
    assert_int_equal(master_cf_upgrade(STR(file), 0, 0, err), -1);
    assert_non_null(strstr(STR(err), "file contains a null byte"));
    (void) unlink(STR(file));
    assert_int_equal(master_cf_upgrade(STR(file), 0, 0, err), -1);
    assert_non_null(strstr(STR(err), "No such file or directory"));
    /* a link in place of master.cf (root's own links are followed) */
    vstring_sprintf(target, "%s/elsewhere", tmp_dir);
    assert_int_equal(close(open(STR(target), O_WRONLY | O_CREAT, 0644)), 0);
    assert_int_equal(symlink(STR(target), STR(file)), 0);
    if (getuid() == 0)
	assert_int_equal(lchown(STR(file), 65534, 65534), 0);
    assert_int_equal(master_cf_upgrade(STR(file), 0, 0, err), -1);
    assert_non_null(strstr(STR(err), "symbolic link"));
    (void) unlink(STR(file));
    assert_int_equal(link(STR(target), STR(file)), 0);
    assert_int_equal(master_cf_upgrade(STR(file), 0, 0, err), -1);
    assert_non_null(strstr(STR(err), "hard links"));
    (void) unlink(STR(file));
    vstring_free(err);
    vstring_free(target);
}

static int setup(void **state)
{
    msg_init("test_master_cf_upgrade", MSG_TO_STDERR);
    names = vstring_alloc(100);
    file = vstring_alloc(100);
    if (mkdtemp(tmp_dir) == 0)
	return (-1);
    vstring_sprintf(file, "%s/master.cf", tmp_dir);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     status;

    vstring_sprintf(cmd, "rm -rf '%s'", tmp_dir);
    status = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(names);
    vstring_free(file);
    return (status);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_nothing_missing),
	cmocka_unit_test(test_all_missing),
	cmocka_unit_test(test_what_does_not_count),
	cmocka_unit_test(test_file),
	cmocka_unit_test(test_bad_files),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
