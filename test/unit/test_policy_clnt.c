/*
 * test_policy_clnt.c - unit tests for lib/global/policy_clnt.c: requests
 * to a policy service on a UNIX socket served by a child process that
 * answers from a script, one line of the script per request:
 *   "action=X"     answers action=X (several may come over one connection)
 *   "close"        closes the connection without answering
 *   "hang"         never answers
 *   "junk"         answers without an action attribute
 * The client runs in the parent's event loop.  Checked: answers, one
 * connection reused, a closed connection tried again (try_limit), a hang
 * that times out, an answer without action, a bad endpoint, cancel, and
 * requests that wait for a free connection.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "events.h"
#include "msg.h"
#include "mymalloc.h"
#include "iostuff.h"
#include "policy_clnt.h"

static char sock_dir[] = "/tmp/test_policy_clnt.XXXXXX";
static char sock_path[200];
static pid_t server_pid;

/* serve_one - answer the requests of one connection from SCRIPT */

static void serve_one(int fd, const char **script, int *next)
{
    FILE   *fp = fdopen(fd, "r+");
    char    line[1000];
    int     empty_seen;

    for (;;) {
	empty_seen = 0;
	while (fgets(line, sizeof(line), fp))
	    if (strcmp(line, "\n") == 0) {
		empty_seen = 1;
		break;
	    }
	if (!empty_seen || script[*next] == 0)
	    break;
	if (strcmp(script[*next], "close") == 0) {
	    (*next)++;
	    break;
	}
	if (strcmp(script[*next], "hang") == 0) {
	    (*next)++;
	    sleep(5);
	    break;
	}
	if (strcmp(script[*next], "junk") == 0)
	    fprintf(fp, "nothing=here\n\n");
	else
	    fprintf(fp, "%s\n\n", script[*next]);
	fflush(fp);
	(*next)++;
    }
    fclose(fp);
}

/*
 * start_server - a child that serves SCRIPT on sock_path, each connection
 * in a process of its own; the place in the script is shared memory
 */

static void start_server(const char **script)
{
    int     lfd;
    int    *next = mmap((void *) 0, sizeof(int), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    assert_true(next != MAP_FAILED);
    *next = 0;
    unlink(sock_path);
    assert_true((lfd = unix_listen(sock_path, 20, 0600)) >= 0);
    if ((server_pid = fork()) == 0) {
	setpgid(0, 0);
	for (;;) {
	    int     fd = accept(lfd, (struct sockaddr *) 0, (socklen_t *) 0);

	    if (fd < 0)
		_exit(0);
	    if (fork() == 0) {
		close(lfd);
		serve_one(fd, script, next);
		_exit(0);
	    }
	    close(fd);
	}
    }
    setpgid(server_pid, server_pid);
    close(lfd);
}

static void stop_server(void)
{
    kill(-server_pid, SIGKILL);			/* and its connection children */
    waitpid(server_pid, (int *) 0, 0);
}

typedef struct RESULT {
    int     done;
    int     status;
    char    action[100];
} RESULT;

static void done_cb(int status, const char *action, void *context)
{
    RESULT *r = context;

    r->done++;
    r->status = status;
    snprintf(r->action, sizeof(r->action), "%s", action ? action : "(none)");
}

static void run_until(const int *count, int want, int max_ms)
{
    for (int waited = 0; *count < want && waited < max_ms; waited += 50)
	event_loop(50);
}

static POLICY_CLNT *client(int timeout, int try_limit)
{
    POLICY_LIMITS limits = {timeout, 60, 600, try_limit, 0};
    char    endpoint[256];

    snprintf(endpoint, sizeof(endpoint), "unix:%s", sock_path);
    return (policy_clnt_create(endpoint, &limits));
}

static void test_answers_and_reuse(void **unused)
{
    const char *script[] = {"action=DUNNO", "action=REJECT no thanks", 0};
    POLICY_CLNT *clnt;
    RESULT  a = {0}, b = {0};

    start_server(script);
    clnt = client(5, 2);
    policy_clnt_request(clnt, "request=smtpd_access_policy\nrecipient=a@b\n", done_cb, &a);
    run_until(&a.done, 1, 5000);
    policy_clnt_request(clnt, "request=smtpd_access_policy\nrecipient=c@d\n", done_cb, &b);
    run_until(&b.done, 1, 5000);
    policy_clnt_free(clnt);
    stop_server();
    assert_int_equal(a.status, POLICY_CLNT_OK);
    assert_string_equal(a.action, "DUNNO");
    assert_int_equal(b.status, POLICY_CLNT_OK);
    assert_string_equal(b.action, "REJECT no thanks");	/* same connection */
}

static void test_close_is_tried_again(void **unused)
{
    const char *script[] = {"close", "action=OK", 0};
    POLICY_CLNT *clnt;
    RESULT  r = {0};

    start_server(script);
    clnt = client(5, 2);
    policy_clnt_request(clnt, "request=smtpd_access_policy\n", done_cb, &r);
    run_until(&r.done, 1, 5000);
    policy_clnt_free(clnt);
    stop_server();
    assert_int_equal(r.status, POLICY_CLNT_OK);
    assert_string_equal(r.action, "OK");
}

static void test_failures(void **unused)
{
    const char *script[] = {"close", "close", "hang", "junk", 0};
    POLICY_CLNT *clnt;
    RESULT  closed = {0}, hung = {0}, junk = {0};

    start_server(script);
    clnt = client(1, 2);
    policy_clnt_request(clnt, "request=smtpd_access_policy\n", done_cb, &closed);
    run_until(&closed.done, 1, 5000);
    assert_int_equal(closed.status, POLICY_CLNT_FAIL);	/* two tries, both closed */
    policy_clnt_free(clnt);
    clnt = client(1, 1);
    policy_clnt_request(clnt, "request=smtpd_access_policy\n", done_cb, &hung);
    run_until(&hung.done, 1, 5000);
    assert_int_equal(hung.status, POLICY_CLNT_FAIL);	/* timeout */
    policy_clnt_request(clnt, "request=smtpd_access_policy\n", done_cb, &junk);
    run_until(&junk.done, 1, 5000);
    assert_int_equal(junk.status, POLICY_CLNT_FAIL);	/* no action */
    policy_clnt_free(clnt);
    stop_server();
    assert_int_equal(closed.done + hung.done + junk.done, 3);
}

static void test_no_server_and_bad_endpoints(void **unused)
{
    POLICY_LIMITS limits = {1, 60, 600, 2, 0};
    POLICY_CLNT *clnt;
    RESULT  r = {0};

    unlink(sock_path);
    clnt = client(1, 2);
    policy_clnt_request(clnt, "request=smtpd_access_policy\n", done_cb, &r);
    run_until(&r.done, 1, 5000);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, POLICY_CLNT_FAIL);
    policy_clnt_free(clnt);
    assert_null(policy_clnt_create("tcp:127.0.0.1:1", &limits));
    assert_null(policy_clnt_create("inet:127.0.0.1", &limits));
    assert_null(policy_clnt_create("unix:", &limits));
    assert_non_null(clnt = policy_clnt_create("inet:[::1]:10023", &limits));
    policy_clnt_free(clnt);
}

static void test_cancel_and_queue(void **unused)
{
    const char *script[] = {"action=A1", "action=A2", "action=A3", "action=A4",
	"action=A5", "action=A6", "action=A7", "action=A8", "action=A9", "action=A10",
	"action=A11", "action=A12", 0};
    POLICY_CLNT *clnt;
    RESULT  r[12];
    int     total = 0;

    memset(r, 0, sizeof(r));
    start_server(script);
    clnt = client(5, 2);
    for (int i = 0; i < 12; i++)		/* more than POLICY_CLNT_MAX_CONN */
	policy_clnt_request(clnt, "request=smtpd_access_policy\n", done_cb, r + i);
    policy_clnt_cancel(clnt, r + 11);
    for (int waited = 0; waited < 5000 && total < 11; waited += 50) {
	event_loop(50);
	total = 0;
	for (int i = 0; i < 12; i++)
	    total += r[i].done;
    }
    policy_clnt_free(clnt);
    stop_server();
    assert_int_equal(total, 11);
    assert_int_equal(r[11].done, 0);
    for (int i = 0; i < 11; i++)
	assert_int_equal(r[i].status, POLICY_CLNT_OK);
}

static int setup(void **unused)
{
    assert_non_null(mkdtemp(sock_dir));
    snprintf(sock_path, sizeof(sock_path), "%s/policy", sock_dir);
    return (0);
}

static int teardown(void **unused)
{
    unlink(sock_path);
    rmdir(sock_dir);
    return (0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_answers_and_reuse),
	cmocka_unit_test(test_close_is_tried_again),
	cmocka_unit_test(test_failures),
	cmocka_unit_test(test_no_server_and_bad_endpoints),
	cmocka_unit_test(test_cancel_and_queue),
    };

    msg_init("test_policy_clnt", MSG_TO_STDERR);
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
