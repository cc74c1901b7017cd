/*
 * test_clock.c - unit tests for lib/util/clock.c (the time seam).
 *
 * POSTHORN_TIME_OFFSET is read once, on the first call, so each offset
 * case runs in a forked child that sets the variable first.  The
 * RFC 2822 date text is checked with a regex and, under fixed POSIX TZ
 * strings (no zone files needed), exactly.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <regex.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "clock.h"
#include "msg.h"

/* Child exit codes */
#define CHILD_OK	0
#define CHILD_BAD_NOW	3
#define CHILD_BAD_TV	4

/* offset_child - with ENV (NULL: unset) expect clock_now() - time() == WANT */

static int offset_child(const char *env, long want)
{
    struct timeval tv;
    time_t  real;
    time_t  now;

    if (env)
	setenv("POSTHORN_TIME_OFFSET", env, 1);
    else
	unsetenv("POSTHORN_TIME_OFFSET");
    real = time((time_t *) 0);
    now = clock_now();
    if (now - real < want || now - real > want + 1)
	return (CHILD_BAD_NOW);
    clock_gettimeofday(&tv);
    real = time((time_t *) 0);
    if (tv.tv_sec - real < want - 1 || tv.tv_sec - real > want + 1
	|| tv.tv_usec < 0 || tv.tv_usec >= 1000000)
	return (CHILD_BAD_TV);
    /* read once: a later change makes no difference */
    setenv("POSTHORN_TIME_OFFSET", "123456", 1);
    real = time((time_t *) 0);
    now = clock_now();
    if (now - real < want || now - real > want + 1)
	return (CHILD_BAD_NOW);
    return (CHILD_OK);
}

/* run_offset - run offset_child in a fresh child process */

static void run_offset(const char *env, long want)
{
    pid_t   pid;
    int     status;

    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) == 0) {
	alarm(10);
	_exit(offset_child(env, want));
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != CHILD_OK)
	fail_msg("POSTHORN_TIME_OFFSET=%s: child status %d",
		 env ? env : "(unset)", WEXITSTATUS(status));
}

static void test_offsets(void **state)
{
    run_offset(0, 0);
    run_offset("0", 0);
    run_offset("3600", 3600);
    run_offset("-86400", -86400);
    run_offset("864000", 864000);		/* ten days ahead */
    run_offset("", 0);
    run_offset("junk", 0);
}

/* The default (no variable) in this process: clock_now() is time() */

static void test_now_plain(void **state)
{
    time_t  before = time((time_t *) 0);
    time_t  now = clock_now();

    assert_true(now >= before && now <= time((time_t *) 0));
}

static void test_rfc2822_shape(void **state)
{
    char    buf[100];
    regex_t re;
    const char *result;

    result = clock_rfc2822(buf, sizeof(buf), time((time_t *) 0));
    assert_ptr_equal(result, buf);
    assert_int_equal(regcomp(&re,
			     "^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-3]?[0-9] "
			     "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
			     "[0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "
			     "[+-][0-9]{4} \\([A-Za-z0-9+-]+\\)$",
			     REG_EXTENDED | REG_NOSUB), 0);
    if (regexec(&re, buf, 0, 0, 0) != 0) {
	regfree(&re);
	fail_msg("bad date \"%s\"", buf);
    }
    regfree(&re);
}

/* Small buffers are cut and terminated */

static void test_rfc2822_small_buffer(void **state)
{
    char    buf[32];

    memset(buf, 'Z', sizeof(buf));
    clock_rfc2822(buf, 10, 0);
    assert_int_equal(strlen(buf), 9);
    assert_int_equal(buf[10], 'Z');
    clock_rfc2822(buf, 1, 0);
    assert_string_equal(buf, "");
}

/* zone_child - under TZ=ZONE, T must format as WANT */

static int zone_child(const char *zone, time_t t, const char *want)
{
    char    buf[100];

    setenv("TZ", zone, 1);
    tzset();
    clock_rfc2822(buf, sizeof(buf), t);
    if (strcmp(buf, want) != 0) {
	fprintf(stderr, "TZ=%s: got \"%s\", want \"%s\"\n", zone, buf, want);
	return (1);
    }
    return (0);
}

static void run_zone(const char *zone, time_t t, const char *want)
{
    pid_t   pid;
    int     status;

    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) == 0) {
	alarm(10);
	_exit(zone_child(zone, t, want));
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_rfc2822_zones(void **state)
{
    run_zone("UTC0", 0, "Thu, 01 Jan 1970 00:00:00 +0000 (UTC)");
    /* POSIX TZ signs are inverted: XST-5:30 is five and a half hours east */
    run_zone("XST-5:30", 0, "Thu, 01 Jan 1970 05:30:00 +0530 (XST)");
    run_zone("YST3:30", 0, "Wed, 31 Dec 1969 20:30:00 -0330 (YST)");
    run_zone("UTC0", 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000 (UTC)");
    run_zone("AAA+12", 86400 * 59, "Sat, 28 Feb 1970 12:00:00 -1200 (AAA)");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_offsets),
	cmocka_unit_test(test_now_plain),
	cmocka_unit_test(test_rfc2822_shape),
	cmocka_unit_test(test_rfc2822_small_buffer),
	cmocka_unit_test(test_rfc2822_zones),
    };

    msg_init("test_clock", MSG_TO_STDERR);
    unsetenv("POSTHORN_TIME_OFFSET");		/* test_now_plain wants none */
    return (cmocka_run_group_tests(tests, 0, 0));
}
