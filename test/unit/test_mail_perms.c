/*
 * test_mail_perms.c - unit tests for lib/global/mail_perms.c (owners and
 * modes of the queue tree and of root's files).
 *
 * A queue tree is made in a temporary directory.  Comparing works as any
 * user (the expected owner is then ourselves); what needs other owners
 * (files of another uid, root's files, fixing) runs only as root and is
 * skipped otherwise.  Bad input: wrong modes, foreign files, symbolic
 * links and FIFOs in the queues, hard links to files elsewhere, more
 * problems than are reported one by one.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include "conf_check.h"
#include "mail_perms.h"
#include "msg.h"
#include "vstring.h"

#define OTHER_UID	65534			/* nobody */

static char tmp_dir[] = "/tmp/test_mail_perms.XXXXXX";
static VSTRING *queue;				/* tmp_dir/queue */
static VSTRING *said;

static void collect(int severity, const char *text, void *ctx)
{
    static const char *tag[] = {"?", "W", "E", "F"};

    vstring_sprintf_append(said, "%s: %s\n", tag[severity], text);
}

/* path - tmp_dir/queue/NAME */

static const char *path(const char *name)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s/%s", STR(queue), name);
    return (STR(buf));
}

static void make_file(const char *name, mode_t mode)
{
    int     fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(path(name), mode), 0);
}

/* make_queue - a fresh queue tree as mail_queue_mkdirs() makes it (ours) */

static void make_queue(void)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", STR(queue));
    assert_int_equal(system(STR(cmd)), 0);
    assert_int_equal(mkdir(STR(queue), 0755), 0);
    assert_int_equal(chmod(STR(queue), 0755), 0);
    for (const MAIL_PERMS_DIR *qd = mail_perms_dirs; qd->name; qd++) {
	assert_int_equal(mkdir(path(qd->name), qd->mode), 0);
	assert_int_equal(chmod(path(qd->name), qd->mode), 0);
    }
    vstring_free(cmd);
}

static int as_root(void)
{
    return (getuid() == 0);
}

/* check - compare the tree; the problems, one line each */

static const char *check(void)
{
    CONF_CHECK cc;

    vstring_reset(said);
    conf_check_init(&cc, collect, 0);
    mail_perms_check_queue(&cc, STR(queue), getuid(), getgid(), 0);
    conf_check_free(&cc);
    return (STR(said));
}

static int count_lines(const char *text)
{
    int     n = 0;

    for (; *text; text++)
	n += *text == '\n';
    return (n);
}

#define assert_said(text, needle) do { \
	if (strstr((text), (needle)) == 0 || count_lines(text) != 1) \
	    fail_msg("wanted one line with \"%s\", got:\n%s", (needle), (text)); \
    } while (0)

static void test_good_tree(void **state)
{
    make_queue();
    make_file("incoming/6919C2F70A3B1", 0700);
    assert_int_equal(mkdir(path("deferred/0"), 0700), 0);
    make_file("deferred/0/6919C2F70A3B2", 0700);
    assert_string_equal(check(), "");
}

static void test_missing_is_fine(void **state)
{
    make_queue();
    assert_int_equal(rmdir(path("trace")), 0);
    assert_string_equal(check(), "");
    assert_int_equal(rmdir(path("trace")), -1);	/* and nothing made it */
}

static void test_queue_dir_writable(void **state)
{
    make_queue();
    assert_int_equal(chmod(STR(queue), 0777), 0);
    assert_said(check(), "E: group or other writable: ");
    assert_int_equal(chmod(STR(queue), 0775), 0);
    assert_said(check(), "group or other writable");
}

static void test_wrong_modes(void **state)
{
    make_queue();
    assert_int_equal(chmod(path("active"), 0755), 0);
    assert_said(check(), "E: wrong permissions 0755 (should be 0700): ");
    make_queue();
    assert_int_equal(chmod(path("public"), 0777), 0);
    assert_said(check(), "group or other writable: ");
    make_queue();
    assert_int_equal(chmod(path("maildrop"), 01733), 0);
    assert_said(check(), "wrong permissions 1733 (should be 3733)");
    make_queue();
    assert_int_equal(mkdir(path("deferred/A"), 0777), 0);
    assert_int_equal(chmod(path("deferred/A"), 0777), 0);
    assert_said(check(), "group or other writable: ");
}

static void test_odd_entries(void **state)
{
    make_queue();
    assert_int_equal(symlink("/nonexistent/target", path("hold/link")), 0);
    assert_said(check(), "E: unexpected symbolic link: ");
    make_queue();
    assert_int_equal(mkfifo(path("hold/fifo"), 0600), 0);
    assert_said(check(), "not a regular file or directory");
    make_queue();
    assert_int_equal(rmdir(path("pid")), 0);
    make_file("pid", 0644);
    assert_said(check(), "E: not a directory: ");
    make_queue();
    assert_int_equal(rmdir(path("bounce")), 0);
    assert_int_equal(symlink("/tmp", path("bounce")), 0);
    assert_said(check(), "E: not a directory: ");
    make_queue();
    assert_int_equal(mkdir(path("deferred/1"), 0700), 0);
    assert_int_equal(mkdir(path("deferred/1/2"), 0700), 0);
    assert_int_equal(mkdir(path("deferred/1/2/3"), 0700), 0);
    assert_int_equal(mkdir(path("deferred/1/2/3/4"), 0700), 0);
    assert_int_equal(mkdir(path("deferred/1/2/3/4/5"), 0700), 0);
    assert_int_equal(mkdir(path("deferred/1/2/3/4/5/6"), 0700), 0);
    assert_said(check(), "unexpected directory: ");
}

static void test_corrupt(void **state)
{
    make_queue();
    make_file("corrupt/6919C2F70A3B1", 0600);
    assert_said(check(), "W: damaged message: ");
    if (as_root()) {				/* a user's file: left alone */
	assert_int_equal(chown(path("corrupt/6919C2F70A3B1"), OTHER_UID, OTHER_UID), 0);
	assert_said(check(), "W: damaged message: ");
    }
}

static void test_other_owners(void **state)
{
    CONF_CHECK cc;
    VSTRING *name = vstring_alloc(50);

    if (!as_root())
	skip();
    make_queue();
    assert_int_equal(chown(path("incoming"), OTHER_UID, getgid()), 0);
    assert_said(check(), "E: not owned by ");
    make_queue();
    assert_int_equal(chown(path("maildrop"), (uid_t) -1, OTHER_UID), 0);
    assert_said(check(), "E: not owned by group ");
    make_queue();
    for (int i = 0; i < MAIL_PERMS_MAX_REPORTS + 5; i++) {
	vstring_sprintf(name, "active/6919C2F70A3%02d", i);
	make_file(STR(name), 0700);
	assert_int_equal(chown(path(STR(name)), OTHER_UID, OTHER_UID), 0);
    }
    check();
    assert_int_equal(count_lines(STR(said)), MAIL_PERMS_MAX_REPORTS + 1);
    assert_non_null(strstr(STR(said), "/active: 5 more problems"));
    /* as root: queue_directory and pid/ must be root's */
    make_queue();
    assert_int_equal(chown(STR(queue), OTHER_UID, OTHER_UID), 0);
    assert_int_equal(chown(path("pid"), OTHER_UID, OTHER_UID), 0);
    vstring_reset(said);
    conf_check_init(&cc, collect, 0);
    mail_perms_check_queue(&cc, STR(queue), 1, 1, 1);
    conf_check_free(&cc);
    assert_non_null(strstr(STR(said), "E: not owned by root: "));
    assert_non_null(strstr(STR(said), "/pid\n"));
    vstring_free(name);
}

static void test_fix(void **state)
{
    VSTRING *outside = vstring_alloc(100);
    CONF_CHECK cc;
    struct stat st;

    if (!as_root())
	skip();
    make_queue();
    assert_int_equal(chmod(STR(queue), 0777), 0);
    assert_int_equal(chown(path("incoming"), OTHER_UID, OTHER_UID), 0);
    assert_int_equal(chmod(path("active"), 0777), 0);
    assert_int_equal(rmdir(path("trace")), 0);
    make_file("deferred/6919C2F70A3B1", 0700);
    assert_int_equal(chown(path("deferred/6919C2F70A3B1"), OTHER_UID, OTHER_UID), 0);
    /* a hard link to a file elsewhere, and a symbolic link: never given away */
    vstring_sprintf(outside, "%s/outside", tmp_dir);
    assert_int_equal(close(open(STR(outside), O_WRONLY | O_CREAT, 0600)), 0);
    assert_int_equal(link(STR(outside), path("hold/hardlink")), 0);
    assert_int_equal(symlink(STR(outside), path("hold/symlink")), 0);
    vstring_reset(said);
    conf_check_init(&cc, collect, 0);
    mail_perms_fix_queue(&cc, STR(queue), 1, 1);
    assert_int_equal(cc.count[CONF_CHECK_ERROR], 2);
    conf_check_free(&cc);
    assert_non_null(strstr(STR(said), "file has 2 hard links"));
    assert_non_null(strstr(STR(said), "unexpected symbolic link"));
    assert_int_equal(stat(STR(outside), &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(stat(STR(queue), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(stat(path("incoming"), &st), 0);
    assert_int_equal(st.st_uid, 1);
    assert_int_equal(stat(path("active"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(path("trace"), &st), 0);
    assert_int_equal(st.st_uid, 1);
    assert_int_equal(stat(path("pid"), &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(stat(path("maildrop"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 03733);
    assert_int_equal(st.st_gid, 1);
    assert_int_equal(stat(path("deferred/6919C2F70A3B1"), &st), 0);
    assert_int_equal(st.st_uid, 1);
    assert_int_equal(st.st_mode & 07777, 0700);	/* a file's mode is its state */
    vstring_free(outside);
}

static void test_root_files(void **state)
{
    CONF_CHECK cc;
    struct stat st;

    if (!as_root())
	skip();
    make_queue();
    make_file("main.cf", 0666);
    assert_int_equal(chown(path("main.cf"), OTHER_UID, OTHER_UID), 0);
    vstring_reset(said);
    conf_check_init(&cc, collect, 0);
    mail_perms_check_root(&cc, path("main.cf"));
    assert_int_equal(cc.count[CONF_CHECK_ERROR], 2);
    mail_perms_check_root(&cc, path("nonexistent"));	/* not ours to say */
    assert_int_equal(cc.count[CONF_CHECK_ERROR], 2);
    mail_perms_fix_root(&cc, path("main.cf"), 0644);
    assert_int_equal(stat(path("main.cf"), &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(chmod(path("incoming"), 0777), 0);
    mail_perms_fix_root(&cc, path("incoming"), (mode_t) -1);
    assert_int_equal(stat(path("incoming"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    /* another user's link to a file of root's: refused (root's own is followed) */
    make_file("target", 0640);
    assert_int_equal(symlink("target", path("link")), 0);
    assert_int_equal(lchown(path("link"), OTHER_UID, OTHER_UID), 0);
    mail_perms_fix_root(&cc, path("link"), 0600);
    assert_int_equal(cc.count[CONF_CHECK_ERROR], 3);
    assert_int_equal(stat(path("target"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    conf_check_free(&cc);
}

static int setup(void **state)
{
    msg_init("test_mail_perms", MSG_TO_STDERR);
    said = vstring_alloc(1000);
    queue = vstring_alloc(100);
    if (mkdtemp(tmp_dir) == 0)
	return (-1);
    vstring_sprintf(queue, "%s/queue", tmp_dir);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     status;

    if (chdir("/") < 0)				/* fixing leaves us in the queue */
	return (-1);
    vstring_sprintf(cmd, "rm -rf '%s'", tmp_dir);
    status = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(said);
    vstring_free(queue);
    return (status);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_good_tree),
	cmocka_unit_test(test_missing_is_fine),
	cmocka_unit_test(test_queue_dir_writable),
	cmocka_unit_test(test_wrong_modes),
	cmocka_unit_test(test_odd_entries),
	cmocka_unit_test(test_corrupt),
	cmocka_unit_test(test_other_owners),
	cmocka_unit_test(test_fix),
	cmocka_unit_test(test_root_files),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
