/*
 * test_anvil_clnt.c - unit tests for lib/global/anvil_clnt.c (the
 * event-driven client of the anvil service).
 *
 * The test chdirs into a temporary directory with private/anvil, a UNIX
 * listener it serves itself: it reads the requests the client wrote
 * (after an event loop round) and writes answers.  Answers go to their
 * requests in order; a cancelled request's answer is dropped; a service
 * that closes the connection or answers garbage fails what waits (and the
 * next request connects again); with no service, a request returns -1
 * at once.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <sys/socket.h>

#include "attr.h"
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "vstring.h"
#include "anvil_clnt.h"

static char tmp_dir[] = "/tmp/test_anvil_clnt.XXXXXX";
static char old_cwd[1024];
static char log_path[300];
static int listen_fd = -1;

/* What the callbacks saw */
typedef struct ANSWER {
    int     calls;
    int     status;
    int     count;
    int     rate;
} ANSWER;

static void answered(int status, int count, int rate, void *context)
{
    ANSWER *a = context;

    a->calls++;
    a->status = status;
    a->count = count;
    a->rate = rate;
}

/* run - event loop rounds until nothing happens for a moment */

static void run(void)
{
    for (int i = 0; i < 5; i++)
	event_loop(20);
}

/* server_accept - the connection the client made */

static int server_accept(void)
{
    int     fd;

    run();
    assert_true((fd = accept(listen_fd, 0, 0)) >= 0);
    return (fd);
}

/* server_read - N requests from FD: REQUESTS names them, in order
 * (separated by spaces) */

static void server_read(int fd, int n, const char *requests)
{
    char   *names = strdup(requests);
    char   *cursor = names;
    VSTRING *buf = vstring_alloc(100);
    ATTR_LIST list;
    size_t  used;
    char    chunk[512];
    ssize_t got;

    run();
    while (n > 0) {
	struct pollfd pfd = {fd, POLLIN, 0};

	if (attr_scan_next(STR(buf), LEN(buf), &list, &used) == 1) {
	    assert_string_equal(attr_find(&list, "request"), strsep(&cursor, " "));
	    assert_string_equal(attr_find(&list, "ident"), "smtp:192.0.2.1");
	    attr_list_free(&list);
	    vstring_drop_head(buf, used);
	    n--;
	    continue;
	}
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_true((got = read(fd, chunk, sizeof(chunk))) > 0);
	vstring_memcat(buf, chunk, (size_t) got);
    }
    assert_int_equal(LEN(buf), 0);
    vstring_free(buf);
    free(names);
}

static void server_write(int fd, const char *text)
{
    assert_int_equal(write_full(fd, text, strlen(text)), (ssize_t) strlen(text));
}

static int setup(void **state)
{
    assert_non_null(getcwd(old_cwd, sizeof(old_cwd)));
    assert_non_null(mkdtemp(tmp_dir));
    assert_int_equal(chdir(tmp_dir), 0);
    assert_int_equal(mkdir("private", 0700), 0);
    snprintf(log_path, sizeof(log_path), "%s/log", tmp_dir);
    msg_init("test_anvil_clnt", 0);
    msg_logfile(log_path);
    return (0);
}

static int teardown(void **state)
{
    char    cmd[400];

    msg_logfile("");
    assert_int_equal(chdir(old_cwd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return (system(cmd) == 0 ? 0 : -1);
}

/* No service: -1 at once, no callback */

static void test_no_service(void **state)
{
    ANSWER a = {0};

    assert_int_equal(anvil_clnt_request("connect", "smtp:192.0.2.1", answered, &a), -1);
    run();
    assert_int_equal(a.calls, 0);
}

/* Answers in order; a cancelled one is dropped; "disconnect" wants none */

static void test_answers_in_order(void **state)
{
    ANSWER a = {0}, b = {0}, c = {0};
    int     fd;

    listen_fd = unix_listen("private/anvil", 10, 0600);
    assert_true(listen_fd >= 0);
    assert_int_equal(anvil_clnt_request("connect", "smtp:192.0.2.1", answered, &a), 0);
    assert_int_equal(anvil_clnt_request("connect", "smtp:192.0.2.1", answered, &b), 0);
    assert_int_equal(anvil_clnt_request("connect", "smtp:192.0.2.1", answered, &c), 0);
    fd = server_accept();
    server_read(fd, 3, "connect connect connect");
    anvil_clnt_cancel(&b);
    server_write(fd, "status=0\ncount=1\nrate=1\n\nstatus=0\ncount=2\nrate=2\n\n"
		 "status=0\ncount=3\nrate=3\n\n");
    run();
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, ANVIL_STAT_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(b.calls, 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.rate, 3);

    /* no answer wanted; the next one still finds its request */
    assert_int_equal(anvil_clnt_request("disconnect", "smtp:192.0.2.1", 0, 0), 0);
    assert_int_equal(anvil_clnt_request("auth", "smtp:192.0.2.1", answered, &a), 0);
    server_read(fd, 2, "disconnect auth");
    server_write(fd, "status=0\n\nstatus=0\nrate=7\n\n");
    run();
    assert_int_equal(a.calls, 2);
    assert_int_equal(a.rate, 7);
    close(fd);
}

/* The service goes away, or answers garbage: what waits fails; the next
 * request connects again */

static void test_failures(void **state)
{
    ANSWER a = {0};
    int     fd;

    assert_int_equal(anvil_clnt_request("message", "smtp:192.0.2.1", answered, &a), 0);
    run();					/* the old connection is gone */
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, ANVIL_STAT_FAIL);

    assert_int_equal(anvil_clnt_request("message", "smtp:192.0.2.1", answered, &a), 0);
    fd = server_accept();
    server_read(fd, 1, "message");
    server_write(fd, "Status=0\n\n");
    run();
    assert_int_equal(a.calls, 2);
    assert_int_equal(a.status, ANVIL_STAT_FAIL);
    close(fd);

    assert_int_equal(anvil_clnt_request("recipient", "smtp:192.0.2.1", answered, &a), 0);
    fd = server_accept();
    server_read(fd, 1, "recipient");
    server_write(fd, "status=1\n\n");		/* the service could not */
    run();
    assert_int_equal(a.calls, 3);
    assert_int_equal(a.status, ANVIL_STAT_FAIL);
    close(fd);
    close(listen_fd);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_no_service),
	cmocka_unit_test(test_answers_in_order),
	cmocka_unit_test(test_failures),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
