/*
 * test_maillog_rotate.c - unit tests for lib/global/maillog_rotate.c
 * ("posthorn logrotate": rename maillog_file aside, compress it).
 *
 * The suffix is the time given, formatted in UTC (TZ is set here).  Bad
 * input: logs under /dev/, empty names and formats, a format that makes
 * a '/', a log that is a symbolic link or has a second hard link, a name
 * that is taken already (never overwritten), a rotated file replaced
 * before compression, compressors that fail or do not exist.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include "maillog_rotate.h"
#include "msg.h"
#include "vstring.h"

#define WHEN	1765000000			/* 2025-12-06 05:46:40 UTC */

static char tmp_dir[] = "/tmp/test_maillog_rotate.XXXXXX";
static VSTRING *log_path;

static const char *in_dir(VSTRING *buf, const char *name)
{
    vstring_sprintf(buf, "%s/%s", tmp_dir, name);
    return (STR(buf));
}

static void make_log(const char *text)
{
    int     fd;

    (void) unlink(STR(log_path));
    fd = open(STR(log_path), O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    assert_int_equal(close(fd), 0);
}

static int rotate(const char *format, VSTRING *rotated, struct stat *st,
		          VSTRING *err)
{
    return (maillog_rotate(STR(log_path), format, WHEN, rotated, st, err));
}

static void test_rotate(void **state)
{
    VSTRING *rotated = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    struct stat st;
    struct stat now;

    make_log("line one\n");
    assert_int_equal(rotate("%Y%m%d-%H%M%S", rotated, &st, err), 0);
    assert_string_equal(STR(rotated), in_dir(want, "maillog.20251206-054640"));
    assert_int_equal(access(STR(log_path), F_OK), -1);	/* gone: writers make it */
    assert_int_equal(lstat(STR(rotated), &now), 0);
    assert_int_equal(now.st_ino, st.st_ino);
    /* the same second again: the rotated file is never overwritten */
    make_log("line two\n");
    assert_int_equal(rotate("%Y%m%d-%H%M%S", rotated, &st, err), -1);
    assert_non_null(strstr(STR(err), "File exists"));
    assert_int_equal(access(STR(log_path), F_OK), 0);
    assert_int_equal(rotate("%s", rotated, &st, err), 0);
    assert_string_equal(STR(rotated), in_dir(want, "maillog.1765000000"));
    vstring_free(rotated);
    vstring_free(err);
    vstring_free(want);
}

static void test_refused(void **state)
{
    VSTRING *rotated = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    VSTRING *other = vstring_alloc(100);
    struct stat st;

    assert_int_equal(maillog_rotate("/dev/stdout", "%s", WHEN, rotated, &st, err), -1);
    assert_string_equal(STR(err), "not rotating '/dev/stdout'");
    assert_int_equal(maillog_rotate("", "%s", WHEN, rotated, &st, err), -1);
    assert_string_equal(STR(err), "empty 'maillog_file' parameter value");
    make_log("x\n");
    assert_int_equal(rotate("", rotated, &st, err), -1);
    assert_string_equal(STR(err), "empty 'maillog_file_rotate_suffix' parameter value");
    assert_int_equal(rotate("%Y/%m", rotated, &st, err), -1);
    assert_non_null(strstr(STR(err), "'/' in the file name"));
    make_log("x\n");
    /* a hard link: someone else's file under the log's name */
    assert_int_equal(link(STR(log_path), in_dir(other, "other")), 0);
    assert_int_equal(rotate("%s", rotated, &st, err), -1);
    assert_non_null(strstr(STR(err), "hard links"));
    assert_int_equal(unlink(STR(other)), 0);
    /* a symbolic link (not root's: root's own links are followed) */
    assert_int_equal(unlink(STR(log_path)), 0);
    assert_int_equal(symlink(in_dir(other, "target"), STR(log_path)), 0);
    if (getuid() == 0)
	assert_int_equal(lchown(STR(log_path), 65534, 65534), 0);
    assert_int_equal(rotate("%s", rotated, &st, err), -1);
    assert_non_null(strstr(STR(err), "symbolic link"));
    assert_int_equal(unlink(STR(log_path)), 0);
    /* no log at all */
    assert_int_equal(rotate("%s", rotated, &st, err), -1);
    assert_non_null(strstr(STR(err), "No such file or directory"));
    vstring_free(rotated);
    vstring_free(err);
    vstring_free(other);
}

static void test_compress(void **state)
{
    VSTRING *rotated = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    VSTRING *gz = vstring_alloc(100);
    struct stat st;

    make_log("to be compressed\n");
    assert_int_equal(rotate("c1", rotated, &st, err), 0);
    if (access("/bin/gzip", X_OK) == 0 || access("/usr/bin/gzip", X_OK) == 0) {
	assert_int_equal(maillog_compress(STR(rotated), &st, "gzip", err), 0);
	vstring_sprintf(gz, "%s.gz", STR(rotated));
	assert_int_equal(access(STR(gz), F_OK), 0);
	assert_int_equal(access(STR(rotated), F_OK), -1);
    }
    make_log("x\n");
    assert_int_equal(rotate("c2", rotated, &st, err), 0);
    assert_int_equal(maillog_compress(STR(rotated), &st, "false", err), -1);
    assert_non_null(strstr(STR(err), "false "));
    assert_non_null(strstr(STR(err), ": exit status 1"));
    assert_int_equal(maillog_compress(STR(rotated), &st, "/nonexistent/zip", err), -1);
    assert_string_equal(STR(err), "cannot execute /nonexistent/zip");
    assert_int_equal(maillog_compress(STR(rotated), &st, "", err), -1);
    assert_string_equal(STR(err), "empty 'maillog_file_compressor' parameter value");
    /* replaced after the rename (the old inode kept, so not reused) */
    assert_int_equal(rename(STR(rotated), in_dir(gz, "kept")), 0);
    assert_int_equal(close(open(STR(rotated), O_WRONLY | O_CREAT, 0644)), 0);
    assert_int_equal(maillog_compress(STR(rotated), &st, "true", err), -1);
    assert_non_null(strstr(STR(err), "file was replaced after it was renamed"));
    assert_int_equal(unlink(STR(rotated)), 0);
    assert_int_equal(maillog_compress(STR(rotated), &st, "true", err), -1);
    assert_non_null(strstr(STR(err), "No such file or directory"));
    vstring_free(rotated);
    vstring_free(err);
    vstring_free(gz);
}

static int setup(void **state)
{
    msg_init("test_maillog_rotate", MSG_TO_STDERR);
    if (setenv("TZ", "UTC", 1) < 0)
	return (-1);
    tzset();
    log_path = vstring_alloc(100);
    if (mkdtemp(tmp_dir) == 0)
	return (-1);
    vstring_sprintf(log_path, "%s/maillog", tmp_dir);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     status;

    vstring_sprintf(cmd, "rm -rf '%s'", tmp_dir);
    status = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(log_path);
    return (status);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rotate),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_compress),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
