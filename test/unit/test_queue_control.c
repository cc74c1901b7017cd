/*
 * test_queue_control.c - unit tests for lib/global/queue_control.c.
 *
 * A fake qmgr on public/qmgr in a temporary queue directory (a child per
 * connection that records the request and writes a scripted reply).
 * Checked: the request's attributes (request, queue_id, queue, site),
 * the reply's counts and "done" lines in order, batches of
 * QUEUE_CONTROL_BATCH ids with their counts added, a refusal with and
 * without a reason, a connection closed without a reply, a reply that is
 * no attribute list, no qmgr at all; and queue_control_expire_file() on
 * complete, incomplete, missing and hard-linked files.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include "msg.h"
#include "vstring.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "queue_control.h"

static char topdir[] = "/tmp/test_queue_control.XXXXXX";
static char log_path[300];

static int setup(void **state)
{
    char    path[300];
    FILE   *fp;

    if (mkdtemp(topdir) == 0)
	return (-1);
    snprintf(path, sizeof(path), "%s/main.cf", topdir);
    if ((fp = fopen(path, "w")) == 0)
	return (-1);
    fprintf(fp, "queue_directory = %s\nhash_queue_names = deferred\n", topdir);
    fclose(fp);
    snprintf(log_path, sizeof(log_path), "%s/log", topdir);
    mail_conf_set_dir(topdir);
    mail_conf_read(0);
    if (chdir(topdir) < 0 || mkdir("public", 0755) < 0 || mkdir("hold", 0700) < 0)
	return (-1);
    signal(SIGPIPE, SIG_IGN);
    return (0);
}

static int teardown(void **state)
{
    char    cmd[400];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
    return (system(cmd) == 0 ? 0 : -1);
}

/* serve - record one request (through its empty line), write REPLY */

static void serve(int fd, const char *reply)
{
    FILE   *fp = fdopen(fd, "r+");
    FILE   *log = fopen(log_path, "a");
    char    line[2000];

    while (fgets(line, sizeof(line), fp)) {
	fputs(line, log);
	if (strcmp(line, "\n") == 0)
	    break;
    }
    fclose(log);
    if (reply)
	fputs(reply, fp);
    fclose(fp);
}

/* The "done" lines handed to the caller, one after the other */
static void collect(const char *line, void *context)
{
    vstring_strcat((VSTRING *) context, line);
    vstring_strcat((VSTRING *) context, "|");
}

/*
 * run - queue_control() against CONNECTIONS fake connections, each
 * answered with REPLY; the status; LOG gets what the server read
 */
static int run(const char *request, char **ids, int nids, const char *const *queues,
	               const char *site, const char *reply, int connections,
	               QUEUE_CONTROL_REPLY *out, VSTRING *log)
{
    int     lfd;
    pid_t   pid;
    int     status;
    int     ret;
    FILE   *fp;
    char    buf[4096];
    size_t  n;

    unlink(log_path);
    assert_true((lfd = unix_listen("public/qmgr", 5, 0666)) >= 0);
    if ((pid = fork()) == 0) {
	for (int i = 0; i < connections; i++)
	    serve(accept(lfd, 0, 0), reply);
	_exit(0);
    }
    close(lfd);
    ret = queue_control(request, ids, nids, queues, site, out);
    waitpid(pid, &status, 0);
    unlink("public/qmgr");
    vstring_reset(log);
    if ((fp = fopen(log_path, "r")) != 0) {
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
	    vstring_memcat(log, buf, n);
	fclose(fp);
    }
    return (ret);
}

static void reply_init(QUEUE_CONTROL_REPLY *reply, VSTRING *done)
{
    memset(reply, 0, sizeof(*reply));
    reply->reason = vstring_alloc(100);
    reply->done = collect;
    reply->context = done;
}

static void test_request_and_reply(void **state)
{
    static const char *queues[] = {"hold", "deferred", 0};
    char   *ids[] = {"6919C2F70A3B1", "6919C2F70A3B2"};
    VSTRING *log = vstring_alloc(100);
    VSTRING *done = vstring_alloc(100);
    QUEUE_CONTROL_REPLY reply;

    reply_init(&reply, done);
    assert_int_equal(run("expire_release", ids, 2, queues, 0,
			 "status=0\ncount=1\nreleased=2\n"
			 "done=6919C2F70A3B1: expired\n"
			 "done=6919C2F70A3B1: released from hold\n"
			 "done=6919C2F70A3B2: released from hold\nreason=\n\n",
			 1, &reply, log), QUEUE_CONTROL_OK);
    assert_string_equal(STR(log), "Crequest=expire_release\n"
			"queue_id=6919C2F70A3B1\nqueue_id=6919C2F70A3B2\n"
			"queue=hold\nqueue=deferred\n\n");
    assert_int_equal(reply.count, 1);
    assert_int_equal(reply.released, 2);
    assert_string_equal(STR(done), "6919C2F70A3B1: expired|6919C2F70A3B1: released "
			"from hold|6919C2F70A3B2: released from hold|");

    /* A flush: no ids, a site; a reply without the newer attributes */
    vstring_reset(done);
    reply.count = reply.released = 0;
    assert_int_equal(run("flush_site", 0, 0, 0, "example.com",
			 "status=0\ncount=3\nreason=\n\n", 1, &reply, log),
		     QUEUE_CONTROL_OK);
    assert_string_equal(STR(log), "Crequest=flush_site\nsite=example.com\n\n");
    assert_int_equal(reply.count, 3);
    assert_int_equal(reply.released, 0);
    assert_string_equal(STR(done), "");
    vstring_free(reply.reason);
    vstring_free(log);
    vstring_free(done);
}

static void test_batches(void **state)
{
    int     nids = 2 * QUEUE_CONTROL_BATCH + 50;
    char  **ids = calloc(nids, sizeof(char *));
    VSTRING *log = vstring_alloc(100);
    VSTRING *done = vstring_alloc(100);
    QUEUE_CONTROL_REPLY reply;
    const char *cp;
    int     n = 0;

    for (int i = 0; i < nids; i++)
	ids[i] = "6919C2F70A3B1";
    reply_init(&reply, done);
    assert_int_equal(run("delete", ids, nids, 0, 0, "status=0\ncount=7\n\n", 3,
			 &reply, log), QUEUE_CONTROL_OK);
    assert_int_equal(reply.count, 21);		/* three requests */
    for (cp = STR(log); (cp = strstr(cp, "queue_id=")) != 0; cp++)
	n++;
    assert_int_equal(n, nids);
    free(ids);
    vstring_free(reply.reason);
    vstring_free(log);
    vstring_free(done);
}

static void test_failures(void **state)
{
    char   *ids[] = {"6919C2F70A3B1"};
    VSTRING *log = vstring_alloc(100);
    VSTRING *done = vstring_alloc(100);
    QUEUE_CONTROL_REPLY reply;

    reply_init(&reply, done);
    assert_int_equal(run("hold", ids, 1, 0, 0, "status=1\ncount=0\nreason=permission denied\n\n",
			 1, &reply, log), QUEUE_CONTROL_REFUSED);
    assert_string_equal(STR(reply.reason), "permission denied");
    assert_int_equal(run("hold", ids, 1, 0, 0, "status=1\n\n", 1, &reply, log),
		     QUEUE_CONTROL_REFUSED);
    assert_string_equal(STR(reply.reason), "request failed");
    assert_int_equal(run("hold", ids, 1, 0, 0, "count=1\n\n", 1, &reply, log),
		     QUEUE_CONTROL_REFUSED);	/* no status: not a success */
    assert_int_equal(run("hold", ids, 1, 0, 0, 0, 1, &reply, log), QUEUE_CONTROL_NOREPLY);
    assert_string_equal(STR(reply.reason), "no reply from public/qmgr");
    assert_int_equal(run("hold", ids, 1, 0, 0, "this is not=an\x01 attribute list",
			 1, &reply, log), QUEUE_CONTROL_NOREPLY);
    /* No qmgr at all */
    assert_int_equal(queue_control("hold", ids, 1, 0, 0, &reply), QUEUE_CONTROL_DOWN);
    assert_non_null(strstr(STR(reply.reason), "connect to public/qmgr"));
    vstring_free(reply.reason);
    vstring_free(log);
    vstring_free(done);
}

/* make - hold/ID with MODE; its mode afterwards via mode_of() */

static void make(const char *id, mode_t mode)
{
    char    path[100];
    int     fd;

    snprintf(path, sizeof(path), "hold/%s", id);
    assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static mode_t mode_of(const char *id)
{
    char    path[100];
    struct stat st;

    snprintf(path, sizeof(path), "hold/%s", id);
    assert_int_equal(stat(path, &st), 0);
    return (st.st_mode & 07777);
}

static void test_expire_file(void **state)
{
    make("6919C2F70A3B1", 0700);
    assert_int_equal(queue_control_expire_file("hold", "6919C2F70A3B1"), 1);
    assert_int_equal(mode_of("6919C2F70A3B1"), 0700 | QUEUE_CONTROL_STAT_EXPIRE);
    assert_int_equal(queue_control_expire_file("hold", "6919C2F70A3B1"), 0);
    /* Still being written: not a message yet */
    make("6919C2F70A3B2", 0600);
    assert_int_equal(queue_control_expire_file("hold", "6919C2F70A3B2"), 0);
    assert_int_equal(mode_of("6919C2F70A3B2"), 0600);
    /* Gone */
    assert_int_equal(queue_control_expire_file("hold", "6919C2F70A3B3"), 0);
    /* A second hard link: not touched */
    make("6919C2F70A3B4", 0700);
    assert_int_equal(link("hold/6919C2F70A3B4", "hold/6919C2F70A3B5"), 0);
    assert_int_equal(queue_control_expire_file("hold", "6919C2F70A3B4"), -1);
    assert_int_equal(mode_of("6919C2F70A3B4"), 0700);
    /* Not a file */
    assert_int_equal(mkdir("hold/6919C2F70A3B6", 0700), 0);
    assert_int_equal(queue_control_expire_file("hold", "6919C2F70A3B6"), -1);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_request_and_reply),
	cmocka_unit_test(test_batches),
	cmocka_unit_test(test_failures),
	cmocka_unit_test(test_expire_file),
    };

    msg_init("test_queue_control", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
