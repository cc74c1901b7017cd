/*
 * test_master_cf.c - unit tests for the master.cf parser (lib/global/master_cf.c).
 *
 * Good files with defaults and continuation lines, and bad lines that must
 * come back as an error naming the file and the line.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "master_cf.h"
#include "vstring.h"

static MASTER_CF *parse(const char *text, VSTRING *err)
{
    return (master_cf_parse_text(text, "master.cf", 100, err));
}

static void test_good_file(void **state)
{
    VSTRING *err = vstring_alloc(10);
    MASTER_CF *cf = parse("# comment\n"
			  "\n"
			  "smtp      inet  n       -       n       -       -       smtpd\n"
			  "submit    unix  n       -       n       -       -       smtpd\n"
			  "qmgr      unix  n       -       n       300     1       qmgr\n"
			  "local     unix  -       n       n       -       -       local\n"
			  "pickup    unix  n       -       y       60?     0       pickup -v\n",
			  err);

    assert_non_null(cf);
    assert_int_equal(cf->count, 5);
    assert_string_equal(cf->ents[0].name, "smtp");
    assert_int_equal(cf->ents[0].type, MASTER_CF_INET);
    assert_int_equal(cf->ents[0].private_, 0);
    assert_int_equal(cf->ents[0].unpriv, 1);
    assert_int_equal(cf->ents[0].chroot, 0);
    assert_int_equal(cf->ents[0].wakeup, 0);
    assert_int_equal(cf->ents[0].maxproc, 100);
    assert_int_equal(cf->ents[0].argc, 1);
    assert_string_equal(cf->ents[0].argv[0], "smtpd");
    assert_null(cf->ents[0].argv[1]);
    assert_int_equal(cf->ents[0].line, 3);
    assert_int_equal(cf->ents[1].type, MASTER_CF_UNIX);
    assert_int_equal(cf->ents[2].wakeup, 300);
    assert_int_equal(cf->ents[2].wakeup_cond, 0);
    assert_int_equal(cf->ents[2].maxproc, 1);
    assert_int_equal(cf->ents[3].private_, 1);
    assert_int_equal(cf->ents[3].unpriv, 0);
    assert_int_equal(cf->ents[4].chroot, 1);
    assert_int_equal(cf->ents[4].wakeup, 60);
    assert_int_equal(cf->ents[4].wakeup_cond, 1);
    assert_int_equal(cf->ents[4].maxproc, 0);
    assert_int_equal(cf->ents[4].argc, 2);
    assert_string_equal(cf->ents[4].argv[1], "-v");
    master_cf_free(cf);
    vstring_free(err);
}

static void test_continuation(void **state)
{
    VSTRING *err = vstring_alloc(10);
    MASTER_CF *cf = parse("127.0.0.1:2525 inet n - n - - smtpd\n"
			  "  -o smtpd_banner=hello\n"
			  "# a comment between\n"
			  "\t-o max_idle=10s\n"
			  "local unix - n n - - local\n",
			  err);

    assert_non_null(cf);
    assert_int_equal(cf->count, 2);
    assert_string_equal(cf->ents[0].name, "127.0.0.1:2525");
    assert_int_equal(cf->ents[0].argc, 5);
    assert_string_equal(cf->ents[0].argv[1], "-o");
    assert_string_equal(cf->ents[0].argv[2], "smtpd_banner=hello");
    assert_string_equal(cf->ents[0].argv[4], "max_idle=10s");
    assert_int_equal(cf->ents[1].line, 5);
    master_cf_free(cf);
    vstring_free(err);
}

static void test_empty(void **state)
{
    VSTRING *err = vstring_alloc(10);
    MASTER_CF *cf = parse("# nothing\n\n", err);

    assert_non_null(cf);
    assert_int_equal(cf->count, 0);
    master_cf_free(cf);
    vstring_free(err);
}

static void test_inet_addr(void **state)
{
    VSTRING *addr = vstring_alloc(10);
    VSTRING *err = vstring_alloc(10);

    assert_int_equal(master_cf_inet_addr("2525", addr, err), 0);
    assert_string_equal(STR(addr), ":2525");
    assert_int_equal(master_cf_inet_addr("127.0.0.1:25", addr, err), 0);
    assert_string_equal(STR(addr), "127.0.0.1:25");
    assert_int_equal(master_cf_inet_addr("[::1]:587", addr, err), 0);
    assert_string_equal(STR(addr), "[::1]:587");
    assert_int_equal(master_cf_inet_addr("70000", addr, err), -1);
    assert_int_equal(master_cf_inet_addr("0", addr, err), -1);
    assert_int_equal(master_cf_inet_addr("host:", addr, err), -1);
    assert_int_equal(master_cf_inet_addr("no-such-service-name", addr, err), -1);
    assert_non_null(strstr(STR(err), "no-such-service-name"));
    vstring_free(addr);
    vstring_free(err);
}

/* expect_error - TEXT must fail with an error that contains WANT */
static void expect_error(const char *text, const char *want)
{
    VSTRING *err = vstring_alloc(10);
    MASTER_CF *cf = parse(text, err);

    assert_null(cf);
    if (strstr(STR(err), want) == 0)
	fail_msg("error \"%s\" does not contain \"%s\"", STR(err), want);
    vstring_free(err);
}

static void test_bad_lines(void **state)
{
    const char *good = "smtp inet n - n - - smtpd\n";
    VSTRING *text = vstring_alloc(100);

    expect_error("smtp inet n - n - -\n", "master.cf, line 1: too few fields");
    vstring_sprintf(text, "%sfoo fifo n - n - - foo\n", good);
    expect_error(STR(text), "master.cf, line 2: bad transport type");
    vstring_sprintf(text, "%s\n\nfoo unix n - n - x foo\n", good);
    expect_error(STR(text), "master.cf, line 4: bad maximal process count");
    expect_error("foo unix n - n - -1 foo\n", "line 1: bad maximal process count");
    expect_error("foo unix yes - n - - foo\n", "line 1: bad private field");
    expect_error("foo unix - maybe n - - foo\n", "line 1: bad unprivileged field");
    expect_error("foo unix - - 1 - - foo\n", "line 1: bad chroot field");
    expect_error("foo unix - - n 10x - foo\n", "line 1: bad wakeup time");
    expect_error("foo unix - - n ? - foo\n", "line 1: bad wakeup time");
    expect_error("smtp inet - - n 10 - foo\n", "line 1: wakeup is not supported");
    expect_error("  -o x=y\n", "line 1: continuation line without a preceding entry");
    expect_error("99999 inet n - n - - smtpd\n", "line 1: bad port number");
    expect_error("../x unix n - n - - smtpd\n", "line 1: bad unix service name");
    vstring_sprintf(text, "%s# c\n%s", good, good);
    expect_error(STR(text), "line 3: duplicate service");
    /* an error in a continued entry names the line where the entry starts */
    expect_error("foo unix n - n\n  - - \n", "line 1: too few fields");
    vstring_free(text);
}

static void test_file(void **state)
{
    char    path[] = "/tmp/test_master_cf.XXXXXX";
    int     fd = mkstemp(path);
    VSTRING *err = vstring_alloc(10);
    MASTER_CF *cf;
    const char *text = "qmgr unix n - n 300 1 qmgr\n";

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    cf = master_cf_parse(path, 50, err);
    assert_non_null(cf);
    assert_int_equal(cf->count, 1);
    master_cf_free(cf);
    unlink(path);
    assert_null(master_cf_parse(path, 50, err));
    assert_non_null(strstr(STR(err), path));
    vstring_free(err);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_good_file),
	cmocka_unit_test(test_continuation),
	cmocka_unit_test(test_empty),
	cmocka_unit_test(test_inet_addr),
	cmocka_unit_test(test_bad_lines),
	cmocka_unit_test(test_file),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
