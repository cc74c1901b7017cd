/*
 * test_safe_open.c - unit tests for lib/util/safe_open.c.
 *
 * The cases an attacker sets up in a directory it can write: a symbolic
 * link (refused unless root owns it), a hard link, a directory, a FIFO (no
 * hang), a file swapped in between the check and the open (through the
 * test hook); and the good cases: a new file is created (O_EXCL, mode,
 * ownership on the descriptor), an existing one is opened (also with
 * O_CREAT), st describes what was opened.
 * As root, symbolic links are given to uid 65534 so that they are "someone
 * else's"; the root-owned-link exception is checked only as root.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "safe_open.h"

#define OTHER_UID	65534

static char dir[] = "/tmp/test_safe_openXXXXXX";
static VSTRING *path, *other, *why;

static int setup(void **state)
{
    path = vstring_alloc(100);
    other = vstring_alloc(100);
    why = vstring_alloc(100);
    return (mkdtemp(dir) ? 0 : -1);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     ret;

    vstring_sprintf(cmd, "rm -rf '%s'", dir);
    ret = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(path);
    vstring_free(other);
    vstring_free(why);
    return (ret == 0 ? 0 : -1);
}

/* name - DIR/NAME in BUF */
static const char *name(VSTRING *buf, const char *n)
{
    return (STR(vstring_sprintf(buf, "%s/%s", dir, n)));
}

static void make_file(const char *p, const char *text)
{
    int     fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int) strlen(text));
    close(fd);
}

/* foreign_symlink - a symbolic link that root did not make */
static void foreign_symlink(const char *target, const char *link)
{
    assert_int_equal(symlink(target, link), 0);
    if (geteuid() == 0)
	assert_int_equal(lchown(link, OTHER_UID, OTHER_UID), 0);
}

static void test_create_and_open(void **state)
{
    struct stat st;
    int     fd;

    name(path, "new");
    fd = safe_open(STR(path), O_WRONLY | O_CREAT, 0640, &st, -1, -1, why);
    assert_true(fd >= 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0640 & ~umask(022));
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    /* the same name again: opened, not truncated, same file */
    fd = safe_open(STR(path), O_RDONLY, 0, &st, -1, -1, why);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 1);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
    /* O_EXCL refuses it */
    assert_int_equal(safe_open(STR(path), O_WRONLY | O_CREAT | O_EXCL, 0600,
			       &st, -1, -1, why), -1);
    assert_int_equal(errno, EEXIST);
    assert_non_null(strstr(STR(why), "cannot create file exclusively"));
    /* missing without O_CREAT */
    assert_int_equal(safe_open(name(path, "missing"), O_RDONLY, 0, &st, -1, -1, why), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_new_file_owner(void **state)
{
    struct stat st;
    int     fd;

    if (geteuid() != 0)
	skip();					/* fchown to another uid needs root */
    fd = safe_open(name(path, "owned"), O_WRONLY | O_CREAT, 0600, &st,
		   OTHER_UID, OTHER_UID, why);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_uid, OTHER_UID);
    assert_int_equal(st.st_gid, OTHER_UID);
    close(fd);
}

static void test_symlink_refused(void **state)
{
    struct stat st;

    make_file(name(other, "victim"), "precious\n");
    foreign_symlink(STR(other), name(path, "link"));
    assert_int_equal(safe_open(STR(path), O_WRONLY | O_APPEND | O_CREAT, 0600,
			       &st, -1, -1, why), -1);
    assert_int_equal(errno, EPERM);
    assert_string_equal(STR(why), "file is a symbolic link");
    /* a dangling link is not "missing": never created through */
    foreign_symlink(name(other, "nothing-here"), name(path, "dangling"));
    assert_int_equal(safe_open(STR(path), O_WRONLY | O_CREAT, 0600, &st, -1, -1, why), -1);
    assert_int_equal(access(STR(other), F_OK), -1);
}

static void test_root_symlink_followed(void **state)
{
    struct stat st;
    int     fd;

    if (geteuid() != 0)
	skip();					/* only root can make a root-owned link */
    make_file(name(other, "target"), "t");
    assert_int_equal(symlink(STR(other), name(path, "rootlink")), 0);
    fd = safe_open(STR(path), O_RDONLY, 0, &st, -1, -1, why);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 1);
    close(fd);
}

static void test_hard_link_refused(void **state)
{
    struct stat st;

    make_file(name(other, "original"), "data");
    assert_int_equal(link(STR(other), name(path, "hardlink")), 0);
    assert_int_equal(safe_open(STR(path), O_WRONLY | O_APPEND, 0, &st, -1, -1, why), -1);
    assert_int_equal(errno, EPERM);
    assert_string_equal(STR(why), "file has 2 hard links");
}

static void test_directory_and_fifo(void **state)
{
    struct stat st;
    int     fd;

    assert_int_equal(mkdir(name(path, "adir"), 0700), 0);
    assert_int_equal(safe_open(STR(path), O_RDONLY, 0, &st, -1, -1, why), -1);
    assert_string_equal(STR(why), "file is a directory");
    /* a FIFO opens without blocking; the caller sees it is no regular file */
    assert_int_equal(mkfifo(name(path, "fifo"), 0600), 0);
    fd = safe_open(STR(path), O_RDONLY, 0, &st, -1, -1, why);
    assert_true(fd >= 0);
    assert_false(S_ISREG(st.st_mode));
    close(fd);
}

/* The hook: replace the checked file with a link to another one */
static void swap_in_link(const char *p)
{
    assert_int_equal(unlink(p), 0);
    foreign_symlink(STR(other), p);
}

static void swap_in_file(const char *p)
{
    VSTRING *away = vstring_alloc(100);

    /* renamed, not removed: the old inode stays in use, so the new file
     * cannot reuse its number (the case a set-uid program must fear) */
    vstring_sprintf(away, "%s.away", p);
    assert_int_equal(rename(p, STR(away)), 0);
    make_file(p, "swapped");
    vstring_free(away);
}

static void test_swapped_between_check_and_open(void **state)
{
    struct stat st;

    /* whatever happens below, the next tests run without the hook */
    safe_open_race_hook = 0;
    make_file(name(other, "secret"), "secret\n");
    make_file(name(path, "swapme"), "");
    safe_open_race_hook = swap_in_link;
    assert_int_equal(safe_open(STR(path), O_WRONLY | O_APPEND, 0, &st, -1, -1, why), -1);
    assert_int_equal(errno, EPERM);
    assert_string_equal(STR(why), "file is a symbolic link");

    unlink(STR(path));
    make_file(STR(path), "");
    safe_open_race_hook = swap_in_file;
    assert_int_equal(safe_open(STR(path), O_WRONLY | O_APPEND, 0, &st, -1, -1, why), -1);
    assert_int_equal(errno, EPERM);
    assert_string_equal(STR(why), "file status changed unexpectedly");
    safe_open_race_hook = 0;
}

/* O_CREAT without O_EXCL on an existing file opens it, keeping its data */
static void test_create_flag_opens_existing(void **state)
{
    struct stat st;
    int     fd;

    safe_open_race_hook = 0;
    make_file(name(path, "exists"), "other writer");
    fd = safe_open(STR(path), O_WRONLY | O_APPEND | O_CREAT, 0600, &st, -1, -1, why);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, (off_t) strlen("other writer"));
    close(fd);
}

static void test_open_dir(void **state)
{
    struct stat st;
    int     fd;

    assert_int_equal(mkdir(name(other, "realdir"), 0700), 0);
    fd = safe_open_dir(STR(other), geteuid(), &st, why);
    assert_true(fd >= 0);
    assert_true(S_ISDIR(st.st_mode));
    close(fd);
    /* a link made by someone else than root or the trusted uid: refused */
    foreign_symlink(STR(other), name(path, "dirlink"));
    assert_int_equal(safe_open_dir(STR(path), 12345, &st, why), -1);
    assert_int_equal(errno, EPERM);
    /* a link owned by the trusted uid is followed */
    fd = safe_open_dir(STR(path), geteuid() == 0 ? OTHER_UID : geteuid(), &st, why);
    assert_true(fd >= 0);
    close(fd);
    /* not a directory */
    make_file(name(path, "plain"), "");
    assert_int_equal(safe_open_dir(STR(path), geteuid(), &st, why), -1);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_create_and_open),
	cmocka_unit_test(test_new_file_owner),
	cmocka_unit_test(test_symlink_refused),
	cmocka_unit_test(test_root_symlink_followed),
	cmocka_unit_test(test_hard_link_refused),
	cmocka_unit_test(test_directory_and_fifo),
	cmocka_unit_test(test_swapped_between_check_and_open),
	cmocka_unit_test(test_create_flag_opens_existing),
	cmocka_unit_test(test_open_dir),
    };

    return (cmocka_run_group_tests_name("safe_open", tests, setup, teardown));
}
