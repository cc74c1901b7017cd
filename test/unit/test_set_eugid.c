/*
 * test_set_eugid.c - unit tests for lib/util/set_eugid.c.
 *
 * As root (in a child, so the test runner keeps its ids): to another
 * user's effective ids with one group, to a second user directly, and
 * back to root; the real uid stays 0 throughout.  As another user
 * set_eugid() changes nothing.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "set_eugid.h"

static int child_checks(void)
{
    gid_t   groups[8];

    set_eugid(65534, 65534);
    if (geteuid() != 65534 || getegid() != 65534 || getuid() != 0)
	return (1);
    if (getgroups(8, groups) != 1 || groups[0] != 65534)
	return (2);
    /* a directory only root may write is not writable now */
    if (faccessat(AT_FDCWD, "/root", W_OK, AT_EACCESS) == 0)
	return (3);
    set_eugid(20001, 20002);			/* user to user, via root */
    if (geteuid() != 20001 || getegid() != 20002)
	return (4);
    set_eugid(0, 0);
    if (geteuid() != 0 || getegid() != 0)
	return (5);
    return (0);
}

static void test_switch_and_back(void **state)
{
    int     status;
    pid_t   pid;

    if (getuid() != 0) {
	uid_t   before = geteuid();

	set_eugid(65534, 65534);		/* nothing to switch */
	assert_int_equal(geteuid(), before);
	skip();
    }
    if ((pid = fork()) == 0)
	_exit(child_checks());
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_switch_and_back),
    };

    return (cmocka_run_group_tests_name("set_eugid", tests, 0, 0));
}
