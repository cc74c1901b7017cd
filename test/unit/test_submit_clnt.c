/*
 * test_submit_clnt.c - unit tests for lib/global/submit_clnt.c against a
 * fake smtpd on public/submit in a temporary queue directory: a child
 * that answers each command line with the next reply of a script and
 * writes what it got into a log file.  Checked: a whole transaction
 * (XUID, DSN parameters, LF content made wire form with dots stuffed),
 * the status for each refusal (4xx anywhere: try later; 5xx sender,
 * recipient, message), a lost connection, a malformed reply, and no
 * mail system at all.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "submit_clnt.h"

static char topdir[] = "/tmp/test_submit_clnt.XXXXXX";
static char sock_path[300];
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
    fprintf(fp, "queue_directory = %s\n", topdir);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/public", topdir);
    if (mkdir(path, 0755) < 0)
	return (-1);
    snprintf(sock_path, sizeof(sock_path), "%s/public/submit", topdir);
    snprintf(log_path, sizeof(log_path), "%s/log", topdir);
    mail_conf_set_dir(topdir);
    mail_conf_read(0);
    signal(SIGPIPE, SIG_IGN);
    return (0);
}

static int teardown(void **state)
{
    char    cmd[400];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
    return (system(cmd) == 0 ? 0 : -1);
}

/* serve - one connection: greeting, then a reply per command (SCRIPT) */

static void serve(int fd, const char **script)
{
    FILE   *fp = fdopen(fd, "r+");
    FILE   *log = fopen(log_path, "w");
    char    line[2000];
    int     in_data = 0;

    fprintf(fp, "%s\r\n", *script++);
    fflush(fp);
    while (*script && fgets(line, sizeof(line), fp)) {
	fputs(line, log);
	if (in_data && strcmp(line, ".\r\n") != 0)
	    continue;
	in_data = 0;
	if (strcmp(*script, "close") == 0)
	    break;
	if (strncmp(line, "DATA", 4) == 0 && strncmp(*script, "354", 3) == 0)
	    in_data = 1;
	fprintf(fp, "%s\r\n", *script++);
	fflush(fp);
    }
    fclose(log);
    fclose(fp);
}

/* run - submit REQ to a server with SCRIPT; the status, WHY and the log */

static int run(SUBMIT_REQ *req, const char **script, VSTRING *why, VSTRING *log)
{
    int     lfd = unix_listen(sock_path, 5, 0666);
    pid_t   pid;
    int     status;
    int     ret;
    FILE   *fp;
    char    buf[4096];
    size_t  n;

    assert_true(lfd >= 0);
    if ((pid = fork()) == 0) {
	serve(accept(lfd, 0, 0), script);
	_exit(0);
    }
    close(lfd);
    ret = submit_message(req, why);
    waitpid(pid, &status, 0);
    unlink(sock_path);
    vstring_reset(log);
    if ((fp = fopen(log_path, "r")) != 0) {
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
	    vstring_memcat(log, buf, n);
	fclose(fp);
    }
    return (ret);
}

static const char *rcpts[] = {"a@example.com", "b@example.com"};
static const char *rcpt_params[] = {" NOTIFY=NEVER", 0};

static void request(SUBMIT_REQ *req, VSTRING *content)
{
    memset(req, 0, sizeof(*req));
    req->sender = "s@example.com";
    req->mail_params = " RET=HDRS";
    req->rcpts = rcpts;
    req->rcpt_params = rcpt_params;
    req->rcpt_count = 2;
    req->uid = -1;
    req->content = content;
}

static void test_whole_transaction(void **state)
{
    static const char *script[] = {"220 fake", "250-fake\r\n250 SMTPUTF8", "250 ok",
	"250 ok", "250 ok", "250 ok", "354 go", "250 queued", "221 bye", 0};
    VSTRING *content = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *log = vstring_alloc(100);
    SUBMIT_REQ req;

    vstring_strcpy(content, "Subject: x\n\n.dot\nlast");
    request(&req, content);
    req.uid = 1234;
    assert_int_equal(run(&req, script, why, log), SUBMIT_OK);
    assert_string_equal(STR(log), "EHLO localhost\r\nXUID 1234\r\n"
			"MAIL FROM:<s@example.com> RET=HDRS\r\n"
			"RCPT TO:<a@example.com> NOTIFY=NEVER\r\n"
			"RCPT TO:<b@example.com>\r\nDATA\r\n"
			"Subject: x\r\n\r\n..dot\r\nlast\r\n.\r\nQUIT\r\n");
    vstring_free(content);
    vstring_free(why);
    vstring_free(log);
}

static void test_refusals(void **state)
{
    static const char *rcpt5[] = {"220 fake", "250 fake", "250 ok", "250 ok",
	"550 5.1.1 no such user", "221 bye", 0};
    static const char *rcpt4[] = {"220 fake", "250 fake", "250 ok",
	"451 4.3.0 try later", "221 bye", 0};
    static const char *mail5[] = {"220 fake", "250 fake", "553 5.7.1 no", "221 bye", 0};
    static const char *data5[] = {"220 fake", "250 fake", "250 ok", "250 ok", "250 ok",
	"354 go", "554 5.7.1 spam", "221 bye", 0};
    static const char *greet4[] = {"421 4.3.2 busy", 0};
    static const char *lost[] = {"220 fake", "250 fake", "close", 0};
    static const char *junk[] = {"220 fake", "250 fake", "hello there", 0};
    VSTRING *content = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *log = vstring_alloc(100);
    SUBMIT_REQ req;

    vstring_strcpy(content, "x\n");
    request(&req, content);
    assert_int_equal(run(&req, rcpt5, why, log), SUBMIT_RCPT);
    assert_int_equal(req.failed_rcpt, 1);
    assert_string_equal(STR(why), "recipient <b@example.com> rejected: 550 5.1.1 no such user");
    assert_null(strstr(STR(log), "DATA"));
    assert_int_equal(run(&req, rcpt4, why, log), SUBMIT_TEMP);
    assert_int_equal(run(&req, mail5, why, log), SUBMIT_SENDER);
    assert_string_equal(STR(why), "sender rejected: 553 5.7.1 no");
    assert_int_equal(run(&req, data5, why, log), SUBMIT_DATA);
    assert_string_equal(STR(why), "message rejected: 554 5.7.1 spam");
    assert_int_equal(run(&req, greet4, why, log), SUBMIT_TEMP);
    assert_int_equal(run(&req, lost, why, log), SUBMIT_TEMP);
    assert_non_null(strstr(STR(why), "lost connection"));
    assert_int_equal(run(&req, junk, why, log), SUBMIT_PROTO);
    assert_non_null(strstr(STR(why), "malformed reply"));
    /* No mail system: nobody listens */
    assert_int_equal(submit_message(&req, why), SUBMIT_TEMP);
    assert_non_null(strstr(STR(why), "connect to public/submit"));
    vstring_free(content);
    vstring_free(why);
    vstring_free(log);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_whole_transaction),
	cmocka_unit_test(test_refusals),
    };

    msg_init("test_submit_clnt", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
