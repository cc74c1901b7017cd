/*
 * test_dict_proxy.c - unit tests for lib/tables/dict_proxy.c (proxy:
 * tables, the client of the proxymap service).
 *
 * The test chdirs into a temporary directory with private/proxymap, a
 * UNIX listener served by a child process that answers each request as
 * its key says ("found" -> status=0 value=VALUE-OF-TABLE, "missing" ->
 * 1, "broken" -> 2, "denied" -> 3, "hangup" -> closes the connection
 * without an answer, once).  Checked: the request carries table, flags
 * and key; found and not found; a failed or refused table fails the
 * lookup (->error set, the refusal warned); a connection that the
 * service closed is made again and the lookup sent once more; with no
 * service the lookup fails; "proxy:" without type:name fails at open.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "attr.h"
#include "iostuff.h"
#include "dict.h"
#include "dict_fixture.h"

static char old_cwd[1024];
static pid_t server_pid = -1;

/* serve_one - answer one client's requests until it goes away */

static void serve_one(int fd, int *hangups)
{
    VSTREAM *stream = vstream_fdopen(fd, O_RDWR);
    ATTR_LIST req;

    while (attr_get_list(stream, &req) == 0) {
	const char *key = attr_find(&req, "key");
	const char *table = attr_find(&req, "table");
	const char *flags = attr_find(&req, "flags");

	if (strcmp(key, "hangup") == 0 && (*hangups)++ == 0) {
	    attr_list_free(&req);
	    break;
	}
	if (strcmp(key, "found") == 0 || strcmp(key, "hangup") == 0) {
	    attr_put(stream, "status", "0");
	    attr_putf(stream, "value", "%s|%s", table, flags);
	} else {
	    attr_put(stream, "status", strcmp(key, "missing") == 0 ? "1" :
		     strcmp(key, "denied") == 0 ? "3" : "2");
	}
	attr_list_free(&req);
	if (attr_end(stream) < 0)
	    break;
    }
    (void) vstream_close(stream);
}

/* server - the fake proxymap, in a child process */

static void server(int listen_fd)
{
    int     hangups = 0;
    int     fd;

    for (;;) {
	if ((fd = accept(listen_fd, 0, 0)) < 0)
	    _exit(1);
	serve_one(fd, &hangups);
    }
}

static void test_lookups(void **state)
{
    DICT   *dict = dict_open("proxy:pgsql:/etc/x.cf", DICT_FLAG_FOLD_KEY);
    const char *value;
    char    want[100];

    assert_int_equal(dict->error, 0);
    value = dict_lookup(dict, "FOUND");		/* folded before it goes */
    snprintf(want, sizeof(want), "pgsql:/etc/x.cf|%d", DICT_FLAG_FOLD_KEY);
    assert_non_null(value);
    assert_string_equal(value, want);
    assert_null(dict_lookup(dict, "missing"));
    assert_int_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "broken"));
    assert_true(dict->error != 0);
    log_forget();
    assert_null(dict_lookup(dict, "denied"));
    assert_true(dict->error != 0);
    assert_true(log_has("proxy:pgsql:/etc/x.cf: table is not in proxy_read_maps"));
    /* the service hangs up once: a new connection, the lookup again */
    value = dict_lookup(dict, "hangup");
    assert_non_null(value);
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_no_service(void **state)
{
    DICT   *dict = dict_open("proxy:hash:/etc/aliases", 0);

    kill(server_pid, SIGKILL);
    waitpid(server_pid, 0, 0);
    server_pid = -1;
    assert_int_equal(unlink("private/proxymap"), 0);
    log_forget();
    assert_null(dict_lookup(dict, "found"));
    assert_true(dict->error != 0);
    assert_true(log_has("connect to proxymap service"));
    dict_close(dict);

    dict = dict_open("proxy:nocolon", 0);
    assert_null(dict_lookup(dict, "key"));
    assert_true(dict->error != 0);
    dict_close(dict);
}

static int setup(void **state)
{
    int     listen_fd;

    if (fixture_setup("test_dict_proxy") < 0 || getcwd(old_cwd, sizeof(old_cwd)) == 0
	|| chdir(fixture_dir) < 0 || mkdir("private", 0700) < 0)
	return (-1);
    if ((listen_fd = unix_listen("private/proxymap", 10, 0600)) < 0)
	return (-1);
    if ((server_pid = fork()) == 0)
	server(listen_fd);
    close(listen_fd);
    return (server_pid > 0 ? 0 : -1);
}

static int teardown(void **state)
{
    if (server_pid > 0) {
	kill(server_pid, SIGKILL);
	waitpid(server_pid, 0, 0);
    }
    if (chdir(old_cwd) < 0)
	return (-1);
    return (fixture_teardown());
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_lookups),
	cmocka_unit_test(test_no_service),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
