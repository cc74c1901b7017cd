/*
 * test_user.c - unit tests for lib/global/user.c (user lookups through
 * passwd_file, with malformed lines and missing users, and through the
 * system database).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sys_defs.h"
#include "mail_conf.h"
#include "msg.h"
#include "user.h"
#include "vstring.h"

static char dir[] = "/tmp/test_user.XXXXXX";
static VSTRING *passwd_path;

static void write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void use_passwd_file(const char *path)
{
    mail_conf_update("passwd_file", path);
}

static void test_lookup_by_name(void **state)
{
    USER_INFO info;

    use_passwd_file(STR(passwd_path));
    assert_int_equal(user_by_name("alice", &info), 1);
    assert_string_equal(info.name, "alice");
    assert_int_equal(info.uid, 1001);
    assert_int_equal(info.gid, 1002);
    assert_string_equal(info.home, "/home/alice");
    assert_string_equal(info.shell, "/bin/sh");
    user_info_free(&info);
    assert_null(info.name);

    /* the entry after the bad lines is still found */
    assert_int_equal(user_by_name("bob", &info), 1);
    assert_int_equal(info.uid, 1003);
    assert_string_equal(info.home, "/home/bob");
    assert_string_equal(info.shell, "");
    user_info_free(&info);
}

static void test_missing_user(void **state)
{
    USER_INFO info;

    use_passwd_file(STR(passwd_path));
    assert_int_equal(user_by_name("nobody-here", &info), 0);
    assert_null(info.name);
    assert_int_equal(user_by_name("Alice", &info), 0);	/* case-sensitive */
    assert_int_equal(user_by_name("", &info), 0);
    assert_int_equal(user_by_name("alic", &info), 0);	/* no prefix match */
    assert_int_equal(user_by_name("broken", &info), 0);	/* bad line skipped */
    assert_int_equal(user_by_uid(4242, &info), 0);
    user_info_free(&info);			/* safe after not found */
}

static void test_lookup_by_uid(void **state)
{
    USER_INFO info;

    use_passwd_file(STR(passwd_path));
    assert_int_equal(user_by_uid(1003, &info), 1);
    assert_string_equal(info.name, "bob");
    user_info_free(&info);
}

static void test_missing_file(void **state)
{
    USER_INFO info;

    use_passwd_file("/nonexistent/posthorn/passwd");
    assert_int_equal(user_by_name("alice", &info), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_no_final_newline(void **state)
{
    VSTRING *path = vstring_alloc(100);
    USER_INFO info;

    vstring_sprintf(path, "%s/passwd2", dir);
    write_file(STR(path), "carol:x:5:6::/home/carol:/bin/false");
    use_passwd_file(STR(path));
    assert_int_equal(user_by_name("carol", &info), 1);
    assert_string_equal(info.shell, "/bin/false");
    assert_string_equal(info.home, "/home/carol");
    user_info_free(&info);
    (void) unlink(STR(path));
    vstring_free(path);
}

static void test_system_database(void **state)
{
    USER_INFO info;

    use_passwd_file("");
    assert_int_equal(user_by_uid(0, &info), 1);	/* root exists everywhere */
    assert_int_equal(info.uid, 0);
    assert_non_null(info.name);
    user_info_free(&info);
    assert_int_equal(user_by_name("no-such-user-posthorn-test", &info), 0);
}

static int setup(void **state)
{
    msg_init("test_user", MSG_TO_STDERR);
    if (mkdtemp(dir) == 0)
	return (-1);
    passwd_path = vstring_alloc(100);
    vstring_sprintf(passwd_path, "%s/passwd", dir);
    write_file(STR(passwd_path),
	       "# test users\n"
	       "alice:x:1001:1002:Alice A:/home/alice:/bin/sh\n"
	       "\n"
	       "broken:x:notanumber:1:gecos:/home/broken:/bin/sh\n"
	       "short:x:1:2\n"
	       "toolong:x:1:2:g:/h:/s:extra\n"
	       ":x:7:7::/home/none:/bin/sh\n"
	       "bob:*:1003:1003::/home/bob:\n");
    return (0);
}

static int teardown(void **state)
{
    (void) unlink(STR(passwd_path));
    vstring_free(passwd_path);
    return (rmdir(dir));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_lookup_by_name),
	cmocka_unit_test(test_missing_user),
	cmocka_unit_test(test_lookup_by_uid),
	cmocka_unit_test(test_missing_file),
	cmocka_unit_test(test_no_final_newline),
	cmocka_unit_test(test_system_database),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
