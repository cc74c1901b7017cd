/*
 * test_msg.c - unit tests for lib/util/msg.c (diagnostics).
 *
 * Lines in the maillog_file have syslog's shape, checked with a regex:
 * "Mon DD HH:MM:SS host posthorn/prog[pid]: warning: text".  Also the
 * syslog name, %m and errno, stopping the log file, long messages being
 * cut (with the newline kept), concurrent appenders, and msg_fatal /
 * msg_fatal_status / msg_panic in forked children (exit status, cleanup).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <sys/wait.h>

#include "msg.h"

static char tmp_dir[] = "/tmp/test_msg.XXXXXX";
static char log_path[256];
static char host[256];

/* read_log - the whole log file as a malloc'ed string ("" if none) */

static char *read_log(void)
{
    FILE   *fp = fopen(log_path, "r");
    char   *text;
    long    len;

    if (fp == 0)
	return (strdup(""));
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    len = ftell(fp);
    rewind(fp);
    text = malloc((size_t) len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t) len, fp), (size_t) len);
    text[len] = 0;
    fclose(fp);
    return (text);
}

/* fresh_log - start an empty log file */

static void fresh_log(void)
{
    msg_logfile(0);
    (void) unlink(log_path);
    msg_logfile(log_path);
}

/* count_lines - lines in TEXT */

static int count_lines(const char *text)
{
    int     n = 0;

    for (const char *cp = text; *cp; cp++)
	n += (*cp == '\n');
    return (n);
}

/* line_regex - the expected shape of one log line */

static void line_regex(regex_t *re, const char *syslog_name, const char *prog,
		               long pid, const char *rest)
{
    char    pattern[1024];
    char    pid_text[32];

    /* PID < 0: any process (a child's) */
    if (pid < 0)
	snprintf(pid_text, sizeof(pid_text), "[0-9]+");
    else
	snprintf(pid_text, sizeof(pid_text), "%ld", pid);
    snprintf(pattern, sizeof(pattern),
	     "^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
	     "[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] %s %s/%s\\[%s\\]: %s$",
	     host, syslog_name, prog, pid_text, rest);
    assert_int_equal(regcomp(re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
}

static void assert_matches(const char *pattern_rest, const char *syslog_name,
			           long pid, const char *text)
{
    regex_t re;

    line_regex(&re, syslog_name, "test_msg", pid, pattern_rest);
    if (regexec(&re, text, 0, 0, 0) != 0) {
	regfree(&re);
	fail_msg("no line matches \"%s\" in:\n%s", pattern_rest, text);
    }
    regfree(&re);
}

/* test_hostname - msg_hostname(): $myhostname's first label, as Postfix */

static void test_hostname(void **state)
{
    char    saved[256];
    char   *text;

    snprintf(saved, sizeof(saved), "%s", host);
    fresh_log();
    msg_hostname("mail.example.org");
    snprintf(host, sizeof(host), "mail");
    msg_info("named host");
    msg_hostname("");				/* no name: no change */
    msg_info("still named");
    msg_init("test_msg", 0);			/* a new name (smtp as lmtp) keeps it */
    msg_info("renamed program");
    text = read_log();
    assert_matches("named host", "posthorn", (long) getpid(), text);
    assert_matches("still named", "posthorn", (long) getpid(), text);
    assert_matches("renamed program", "posthorn", (long) getpid(), text);
    free(text);
    msg_hostname(saved);
    snprintf(host, sizeof(host), "%s", saved);
}

static void test_logfile_shape(void **state)
{
    char   *text;

    fresh_log();
    msg_info("hello %s", "world");
    msg_warn("text %d", 42);
    msg_error("went wrong");
    text = read_log();
    assert_int_equal(count_lines(text), 3);
    assert_matches("hello world", "posthorn", (long) getpid(), text);
    assert_matches("warning: text 42", "posthorn", (long) getpid(), text);
    assert_matches("error: went wrong", "posthorn", (long) getpid(), text);
    free(text);
}

static void test_syslog_name(void **state)
{
    char   *text;

    fresh_log();
    msg_syslog_name("posthorn-test");
    msg_warn("renamed");
    msg_syslog_name("");			/* ignored */
    msg_syslog_name(0);				/* ignored */
    msg_warn("still renamed");
    msg_syslog_name("posthorn");
    msg_warn("back");
    text = read_log();
    assert_int_equal(count_lines(text), 3);
    assert_matches("warning: renamed", "posthorn-test", (long) getpid(), text);
    assert_matches("warning: still renamed", "posthorn-test", (long) getpid(), text);
    assert_matches("warning: back", "posthorn", (long) getpid(), text);
    free(text);
}

/* syslog_facility names: Postfix's set, any case; others refused */

static void test_syslog_facility(void **state)
{
    assert_int_equal(msg_syslog_facility("local3"), 0);
    assert_int_equal(msg_syslog_facility("DAEMON"), 0);
    assert_int_equal(msg_syslog_facility("mail"), 0);
    assert_int_equal(msg_syslog_facility("local8"), -1);
    assert_int_equal(msg_syslog_facility(""), -1);
    assert_int_equal(msg_syslog_facility("mail "), -1);
}

/* msg_info_as: one line as another program, then the own name again */

static void test_info_as(void **state)
{
    char   *text;

    fresh_log();
    msg_info_as("pickup", "%s: uid=%d from=<%s>", "ABC", 0, "a@b");
    msg_info("after");
    text = read_log();
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, " posthorn/pickup["));
    assert_non_null(strstr(text, "]: ABC: uid=0 from=<a@b>\n"));
    assert_matches("after", "posthorn", (long) getpid(), text);
    free(text);
}

/* msg_init takes the last path component as the program name */

static void test_progname(void **state)
{
    char   *text;
    regex_t re;

    fresh_log();
    msg_init("/usr/libexec/posthorn/smtpd", 0);
    assert_string_equal(msg_progname(), "smtpd");
    msg_warn("from smtpd");
    msg_init("test_msg", 0);
    assert_string_equal(msg_progname(), "test_msg");
    text = read_log();
    line_regex(&re, "posthorn", "smtpd", (long) getpid(), "warning: from smtpd");
    assert_int_equal(regexec(&re, text, 0, 0, 0), 0);
    regfree(&re);
    free(text);
}

static void test_errno_kept(void **state)
{
    char   *text;

    fresh_log();
    errno = ENOENT;
    msg_warn("open x: %m");
    assert_int_equal(errno, ENOENT);
    text = read_log();
    assert_matches("warning: open x: No such file or directory",
		   "posthorn", (long) getpid(), text);
    free(text);
}

static void test_logfile_stop_and_bad_path(void **state)
{
    char   *text;

    fresh_log();
    msg_warn("one");
    msg_logfile(0);
    msg_warn("not logged");
    msg_logfile("");
    msg_warn("not logged either");
    text = read_log();
    assert_int_equal(count_lines(text), 1);
    assert_null(strstr(text, "not logged"));
    free(text);

    /* an unusable path: a warning elsewhere, nothing breaks */
    msg_logfile("/nonexistent-posthorn-dir/maillog");
    msg_warn("nowhere");
    msg_logfile(log_path);
    msg_warn("somewhere");
    text = read_log();
    assert_non_null(strstr(text, "warning: somewhere\n"));
    free(text);
}

/* Long messages are cut; the line still ends with a newline */

static void test_long_message(void **state)
{
    char   *big = malloc(20001);
    char   *text;
    size_t  len;

    assert_non_null(big);
    memset(big, 'x', 20000);
    big[20000] = 0;
    fresh_log();
    msg_warn("%s", big);
    msg_warn("%s%s", big, big);
    msg_warn("after");
    text = read_log();
    len = strlen(text);
    assert_int_equal(count_lines(text), 3);
    assert_true(len < 3 * 4600);
    assert_true(len > 2 * 4000);		/* cut, not dropped */
    assert_matches("warning: x+", "posthorn", (long) getpid(), text);
    assert_matches("warning: after", "posthorn", (long) getpid(), text);
    free(text);
    free(big);
}

/* The stderr copy: "prog: warning: text", also cut when long */

static void test_stderr_copy(void **state)
{
    pid_t   pid;
    int     status;
    char    path[300];
    char    buf[10000];
    int     fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/stderr", tmp_dir);
    fflush(stderr);
    if ((pid = fork()) == 0) {
	char    big[6000];

	alarm(10);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 2) < 0)
	    _exit(2);
	msg_logfile(0);
	msg_stderr(1);
	msg_warn("to stderr");
	msg_stderr(0);
	msg_warn("not to stderr");
	msg_stderr(1);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	msg_info("%s", big);
	_exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = 0;
    assert_memory_equal(buf, "test_msg: warning: to stderr\ntest_msg: yyy", 42);
    assert_null(strstr(buf, "not to stderr"));
    assert_int_equal(count_lines(buf), 2);
    assert_int_equal(buf[n - 1], '\n');
    assert_true(n < 4600);
}

/* Many processes append to one file: no line is split or mixed */

static void test_concurrent_appenders(void **state)
{
    enum {
    NPROC = 4, NLINES = 200};
    pid_t   pids[NPROC];
    char   *text;
    char   *save = 0;
    int     lines = 0;

    fresh_log();
    fflush(stderr);
    for (int p = 0; p < NPROC; p++) {
	if ((pids[p] = fork()) == 0) {
	    alarm(20);
	    for (int i = 0; i < NLINES; i++)
		msg_warn("proc %d line %d %0200d", p, i, 0);
	    _exit(0);
	}
	assert_true(pids[p] > 0);
    }
    for (int p = 0; p < NPROC; p++) {
	int     status;

	assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    text = read_log();
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(0, "\n", &save)) {
	regex_t re;
	int     bad;

	line_regex(&re, "posthorn", "test_msg", -1,
		   "warning: proc [0-3] line [0-9]+ 0{200}");
	bad = regexec(&re, line, 0, 0, 0);
	regfree(&re);
	if (bad)
	    fail_msg("bad line: %s", line);
	lines++;
    }
    assert_int_equal(lines, NPROC * NLINES);
    free(text);
}

/* Fatal errors, in children */

static char marker_path[300];

static void cleanup_marker(void)
{
    int     fd = open(marker_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

    if (fd >= 0) {
	(void) write(fd, "c", 1);
	close(fd);
    }
}

static void cleanup_fatal_again(void)
{
    cleanup_marker();
    msg_fatal("fatal inside cleanup");
}

/* run_child - run FN in a child; return its wait status */

static int run_child(void (*fn) (void))
{
    pid_t   pid;
    int     status;

    fflush(stderr);
    if ((pid = fork()) == 0) {
	alarm(10);
	fn();
	_exit(99);				/* fn must not return */
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return (status);
}

static int marker_count(void)
{
    struct stat st;

    return (stat(marker_path, &st) < 0 ? 0 : (int) st.st_size);
}

static void child_fatal(void)
{
    msg_cleanup(cleanup_marker);
    msg_fatal("bad thing %d", 7);
}

static void child_fatal_status(void)
{
    msg_cleanup(cleanup_marker);
    msg_fatal_status(75, "temporary trouble");
}

static void child_fatal_recursive(void)
{
    msg_cleanup(cleanup_fatal_again);
    msg_fatal("first");
}

static void child_panic(void)
{
    signal(SIGABRT, SIG_DFL);
    msg_panic("impossible");
}

static void child_fatal_no_cleanup(void)
{
    msg_cleanup(0);
    msg_fatal("no cleanup");
}

static void test_fatal(void **state)
{
    int     status;
    char   *text;

    fresh_log();
    (void) unlink(marker_path);
    status = run_child(child_fatal);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_int_equal(marker_count(), 1);
    text = read_log();
    assert_matches("fatal: bad thing 7", "posthorn", -1, text);
    assert_int_equal(count_lines(text), 1);
    free(text);
}

static void test_fatal_status_and_panic(void **state)
{
    int     status;

    (void) unlink(marker_path);
    status = run_child(child_fatal_status);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 75);
    assert_int_equal(marker_count(), 1);

    /* a cleanup that is itself fatal runs once, and the status stays 1 */
    (void) unlink(marker_path);
    status = run_child(child_fatal_recursive);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_int_equal(marker_count(), 1);

    (void) unlink(marker_path);
    status = run_child(child_fatal_no_cleanup);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_int_equal(marker_count(), 0);

    status = run_child(child_panic);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static int setup(void **state)
{
    memcpy(tmp_dir + sizeof(tmp_dir) - 7, "XXXXXX", 6);
    if (mkdtemp(tmp_dir) == 0)
	return (-1);
    snprintf(log_path, sizeof(log_path), "%s/maillog", tmp_dir);
    snprintf(marker_path, sizeof(marker_path), "%s/marker", tmp_dir);
    if (gethostname(host, sizeof(host) - 1) < 0)
	return (-1);
    msg_init("test_msg", 0);
    return (0);
}

static int teardown(void **state)
{
    msg_logfile(0);
    (void) unlink(log_path);
    (void) unlink(marker_path);
    return (rmdir(tmp_dir));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_logfile_shape),
	cmocka_unit_test(test_syslog_name),
	cmocka_unit_test(test_syslog_facility),
	cmocka_unit_test(test_info_as),
	cmocka_unit_test(test_progname),
	cmocka_unit_test(test_hostname),
	cmocka_unit_test(test_errno_kept),
	cmocka_unit_test(test_logfile_stop_and_bad_path),
	cmocka_unit_test(test_long_message),
	cmocka_unit_test(test_stderr_copy),
	cmocka_unit_test(test_concurrent_appenders),
	cmocka_unit_test(test_fatal),
	cmocka_unit_test(test_fatal_status_and_panic),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
