/*
 * test_mail_trigger.c - unit tests for lib/global/mail_trigger.c (one-byte
 * wake-ups to public/NAME and private/NAME).
 *
 * A temporary configuration directory names a temporary queue_directory;
 * the test reads it with mail_conf_read() and chdirs there with
 * mail_queue_chdir(), as daemons do.  A listener on public/qmgr must get
 * exactly one byte per trigger; with nothing listening, a stale socket, a
 * plain file or a full backlog, mail_trigger() returns -1 at once and
 * logs why.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "iostuff.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"

static char tmp_dir[] = "/tmp/test_mail_trigger.XXXXXX";
static char conf_dir[300];
static char queue_dir[300];
static char log_path[300];
static char old_cwd[1024];

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, (struct timezone *) 0);
    return ((long long) tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* read_log - the log file as a malloc'ed string */

static char *read_log(void)
{
    FILE   *fp = fopen(log_path, "r");
    char   *text = calloc(1, 65536);

    assert_non_null(text);
    if (fp) {
	(void) fread(text, 1, 65535, fp);
	fclose(fp);
    }
    return (text);
}

/* accept_one - accept one trigger connection and return its bytes */

static void accept_one(int lfd, char *buf, size_t len, ssize_t *got)
{
    int     fd = accept(lfd, 0, 0);
    ssize_t n;
    size_t  total = 0;

    assert_true(fd >= 0);
    /* the client closes after one byte: read until EOF */
    while (total < len && (n = read(fd, buf + total, len - total)) > 0)
	total += (size_t) n;
    *got = (ssize_t) total;
    close(fd);
}

static void test_socket_path(void **state)
{
    char    buf[64];
    char    tiny[5];

    assert_string_equal(mail_socket_path(buf, sizeof(buf), MAIL_CLASS_PUBLIC,
					 MAIL_SERVICE_QMGR), "public/qmgr");
    assert_string_equal(mail_socket_path(buf, sizeof(buf), MAIL_CLASS_PRIVATE,
					 MAIL_SERVICE_LOCAL), "private/local");
    assert_string_equal(mail_socket_path(tiny, sizeof(tiny), "public", "qmgr"), "publ");
}

static void test_trigger_public(void **state)
{
    int     lfd = unix_listen("public/qmgr", 10, 0666);
    static const int reqs[] = {QMGR_REQ_SCAN_INCOMING, QMGR_REQ_FLUSH_DEFERRED,
    QMGR_REQ_WAKEUP};

    assert_true(lfd >= 0);
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
	char    buf[8];
	ssize_t got;

	assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR, reqs[i]), 0);
	accept_one(lfd, buf, sizeof(buf), &got);
	assert_int_equal(got, 1);
	assert_int_equal(buf[0], reqs[i]);
    }
    close(lfd);
    unlink("public/qmgr");
}

/* Several triggers before the service accepts: one byte each, in order */

static void test_trigger_queued(void **state)
{
    int     lfd = unix_listen("private/local", 10, 0600);
    const char *want = "IFW";

    assert_true(lfd >= 0);
    for (int i = 0; i < 3; i++)
	assert_int_equal(mail_trigger(MAIL_CLASS_PRIVATE, MAIL_SERVICE_LOCAL, want[i]), 0);
    for (int i = 0; i < 3; i++) {
	char    buf[8];
	ssize_t got;

	accept_one(lfd, buf, sizeof(buf), &got);
	assert_int_equal(got, 1);
	assert_int_equal(buf[0], want[i]);
    }
    close(lfd);
    unlink("private/local");
}

/* expect_fail - the trigger fails fast, with a logged reason */

static void expect_fail(const char *class, const char *service, const char *log_text)
{
    long long start = now_ms();
    char   *text;

    msg_logfile(0);
    (void) unlink(log_path);
    msg_logfile(log_path);
    assert_int_equal(mail_trigger(class, service, QMGR_REQ_WAKEUP), -1);
    assert_true(now_ms() - start < 1000);
    text = read_log();
    if (strstr(text, log_text) == 0)
	fail_msg("log lacks \"%s\": %s", log_text, text);
    free(text);
}

static void test_nothing_listens(void **state)
{
    int     lfd;
    int     fd;

    /* no socket at all */
    expect_fail(MAIL_CLASS_PUBLIC, "nosuch",
		"warning: connect to public service nosuch: No such file");

    /* a stale socket left by a dead service */
    lfd = unix_listen("public/qmgr", 10, 0666);
    assert_true(lfd >= 0);
    close(lfd);
    expect_fail(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR,
		"warning: connect to public service qmgr: Connection refused");
    unlink("public/qmgr");

    /* a plain file where the socket should be */
    fd = open("public/file", O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    expect_fail(MAIL_CLASS_PUBLIC, "file", "warning: connect to public service file");
    unlink("public/file");

    /* no such class directory */
    expect_fail("nosuchclass", MAIL_SERVICE_QMGR, "warning: connect to nosuchclass");
}

/* A service that does not accept: triggers fail at once, never wait */

static void test_full_backlog(void **state)
{
    int     lfd = unix_listen("public/busy", 1, 0666);
    int     ok = 0, failed = 0;

    assert_true(lfd >= 0);
    for (int i = 0; i < 20; i++) {
	long long start = now_ms();

	if (mail_trigger(MAIL_CLASS_PUBLIC, "busy", QMGR_REQ_WAKEUP) == 0)
	    ok++;
	else
	    failed++;
	assert_true(now_ms() - start < 1000);
    }
    assert_true(ok >= 1);
    assert_true(failed >= 1);
    close(lfd);
    unlink("public/busy");
}

/* write_file - PATH gets TEXT */

static int write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    if (fp == 0)
	return (-1);
    fputs(text, fp);
    return (fclose(fp));
}

static int setup(void **state)
{
    char    path[400];
    char    text[400];

    memcpy(tmp_dir + sizeof(tmp_dir) - 7, "XXXXXX", 6);
    if (mkdtemp(tmp_dir) == 0 || getcwd(old_cwd, sizeof(old_cwd)) == 0)
	return (-1);
    snprintf(conf_dir, sizeof(conf_dir), "%s/conf", tmp_dir);
    snprintf(queue_dir, sizeof(queue_dir), "%s/queue", tmp_dir);
    snprintf(log_path, sizeof(log_path), "%s/maillog", tmp_dir);
    snprintf(path, sizeof(path), "%s/main.cf", conf_dir);
    snprintf(text, sizeof(text), "queue_directory = %s\n", queue_dir);
    if (mkdir(conf_dir, 0755) < 0 || mkdir(queue_dir, 0755) < 0
	|| write_file(path, text) < 0)
	return (-1);
    mail_conf_set_dir(conf_dir);
    mail_conf_read(0);
    if (strcmp(conf_str("queue_directory"), queue_dir) != 0)
	return (-1);
    mail_queue_chdir();
    if (mkdir(MAIL_QUEUE_PUBLIC, 0755) < 0 || mkdir(MAIL_QUEUE_PRIVATE, 0700) < 0)
	return (-1);
    return (0);
}

static int teardown(void **state)
{
    char    path[400];

    msg_logfile(0);
    (void) rmdir(MAIL_QUEUE_PUBLIC);
    (void) rmdir(MAIL_QUEUE_PRIVATE);
    if (chdir(old_cwd) < 0)
	return (-1);
    snprintf(path, sizeof(path), "%s/main.cf", conf_dir);
    (void) unlink(path);
    (void) unlink(log_path);
    (void) rmdir(conf_dir);
    (void) rmdir(queue_dir);
    return (rmdir(tmp_dir));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_socket_path),
	cmocka_unit_test(test_trigger_public),
	cmocka_unit_test(test_trigger_queued),
	cmocka_unit_test(test_nothing_listens),
	cmocka_unit_test(test_full_backlog),
    };

    msg_init("test_mail_trigger", 0);
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
