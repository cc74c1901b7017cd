/*
 * test_bounce.c - unit tests for lib/global/bounce.c and lib/global/defer_log.c.
 *
 * Runs in a temporary queue directory: defer logs are written, read back,
 * replaced and removed (hashed directories created on demand, values with
 * newlines and '%' survive, a garbage log is refused); a bounce is
 * formatted from a real queue file (multipart/report, delivery-status
 * fields, the original message, or only its headers for RET=HDRS) and
 * queued from <> to the sender.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "qfile.h"
#include "defer_log.h"
#include "bounce.h"

static char topdir[] = "/tmp/test_bounceXXXXXX";

static int setup(void **state)
{
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    if (mkdtemp(topdir) == 0)
	return (-1);
    vstring_sprintf(path, "%s/main.cf", topdir);
    if ((fp = fopen(STR(path), "w")) == 0)
	return (-1);
    fprintf(fp, "queue_directory = %s\nhash_queue_names = deferred, defer\n"
	    "hash_queue_depth = 2\nmyhostname = mx.example.org\n", topdir);
    fclose(fp);
    mail_conf_set_dir(topdir);
    mail_conf_read(0);
    mail_queue_chdir();
    mail_queue_mkdirs(getuid(), getgid());
    vstring_free(path);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", topdir);
    if (chdir("/") < 0 || system(STR(cmd)) != 0)
	return (-1);
    vstring_free(cmd);
    return (0);
}

static DEFER_LOG_ENTRY entry(const char *rcpt, const char *status, const char *reason)
{
    DEFER_LOG_ENTRY e = {(char *) rcpt, (char *) "", (char *) "", (char *) status,
    (char *) (*status == '5' ? "failed" : "delayed"), (char *) "none",
    (char *) reason, 1234};

    return (e);
}

static void test_defer_log_roundtrip(void **state)
{
    const char *id = "6919C2F70A3B1";
    DEFER_LOG_ENTRY a = entry("a@example.com", "4.4.1", "connect: 100% refused\nline two");
    DEFER_LOG_ENTRY b = entry("b@example.com", "4.0.0", "later");
    DEFER_LOG_ENTRY both[2] = {a, b};
    DEFER_LOG log;

    assert_int_equal(defer_log_append(MAIL_QUEUE_DEFER, id, &a), 0);
    assert_int_equal(defer_log_append(MAIL_QUEUE_DEFER, id, &b), 0);
    assert_int_equal(defer_log_read(MAIL_QUEUE_DEFER, id, &log), 0);
    assert_int_equal(log.count, 2);
    assert_string_equal(log.entries[0].reason, "connect: 100% refused\nline two");
    assert_string_equal(log.entries[1].status, "4.0.0");
    assert_int_equal(log.entries[1].time, 1234);
    assert_non_null(defer_log_find(&log, "B@example.com"));
    assert_null(defer_log_find(&log, "c@example.com"));
    defer_log_free(&log);

    /* Replace: one entry left */
    assert_int_equal(defer_log_write(MAIL_QUEUE_DEFER, id, both + 1, 1), 0);
    assert_int_equal(defer_log_read(MAIL_QUEUE_DEFER, id, &log), 0);
    assert_int_equal(log.count, 1);
    assert_string_equal(log.entries[0].recipient, "b@example.com");
    defer_log_free(&log);

    /* Count 0 removes; removing again is fine; reading says ENOENT */
    assert_int_equal(defer_log_write(MAIL_QUEUE_DEFER, id, both, 0), 0);
    assert_int_equal(defer_log_remove(MAIL_QUEUE_DEFER, id), 0);
    assert_int_equal(defer_log_read(MAIL_QUEUE_DEFER, id, &log), -1);
    assert_int_equal(errno, ENOENT);
    defer_log_free(&log);
}

static void test_defer_log_garbage(void **state)
{
    const char *id = "6919C2F70A3B2";
    DEFER_LOG_ENTRY a = entry("a@example.com", "5.1.1", "unknown");
    DEFER_LOG log;
    FILE   *fp;

    assert_int_equal(defer_log_append(MAIL_QUEUE_BOUNCE, id, &a), 0);
    fp = fopen("bounce/6919C2F70A3B2", "a");
    assert_non_null(fp);
    fputs("Not An Attribute\n\n", fp);
    fclose(fp);
    assert_int_equal(defer_log_read(MAIL_QUEUE_BOUNCE, id, &log), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(log.count, 1);		/* the good entry is kept */
    defer_log_free(&log);

    fp = fopen("bounce/6919C2F70A3B2", "w");
    fputs("reason=no recipient\n\n", fp);
    fclose(fp);
    assert_int_equal(defer_log_read(MAIL_QUEUE_BOUNCE, id, &log), -1);
    assert_int_equal(log.count, 0);
    defer_log_free(&log);
    defer_log_remove(MAIL_QUEUE_BOUNCE, id);
}

/* make_original - a queue file from alice with the given attributes */

static void make_original(VSTRING *id, const char *ret)
{
    QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);
    struct timeval tv = {1700000000, 0};
    const char *content = "Subject: hello\nFrom: alice\n\nsecret body line\n";

    assert_non_null(qf);
    qfile_time(qf, &tv);
    qfile_sender(qf, "alice@example.org");
    if (ret)
	qfile_attr(qf, "dsn_ret", ret);
    qfile_attr(qf, "dsn_envid", "ENV42");
    qfile_rcpt(qf, 0, "nobody@example.net");
    qfile_begin_content(qf);
    qfile_content(qf, content, strlen(content));
    vstring_strcpy(id, STR(qf->id));
    assert_int_equal(qfile_commit(qf), 0);
}

static void format_kind(int kind, const char *ret, VSTRING *out, int send)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(100);
    VSTRING *new_id = vstring_alloc(20);
    DEFER_LOG_ENTRY e = entry("nobody@example.net", "5.1.1",
			      "host mx.example.net[192.0.2.1] said: 550 5.1.1 no such user "
			      "(in reply to RCPT TO command)");
    BOUNCE_REQUEST req;
    QENV    env;

    make_original(id, ret);
    memset(&req, 0, sizeof(req));
    memset(&env, 0, sizeof(env));
    req.content = mail_queue_open(MAIL_QUEUE_INCOMING, STR(id), O_RDONLY);
    assert_non_null(req.content);
    assert_int_equal(qfile_read_envelope(req.content, &env, why), 0);
    req.kind = kind;
    req.queue_id = STR(id);
    req.env = &env;
    req.rcpt = env.sender;
    req.entries = &e;
    req.count = 1;
    assert_int_equal(bounce_format(&req, out, why), 0);
    if (send) {
	assert_int_equal(bounce_send(&req, new_id, why), 0);
	assert_true(mail_queue_id_ok(STR(new_id)));
    }
    qenv_free(&env);
    vstream_close(req.content);
    vstring_free(id);
    vstring_free(why);
    vstring_free(new_id);
}

static void format_bounce(const char *ret, VSTRING *out, int send)
{
    format_kind(BOUNCE_FAILED, ret, out, send);
}

/* test_verify_report - sendmail -bv: Postfix's "Mail Delivery Status Report" */

static void test_verify_report(void **state)
{
    VSTRING *out = vstring_alloc(1000);

    format_kind(BOUNCE_VERIFY, "HDRS", out, 0);
    assert_non_null(strstr(STR(out), "Subject: Mail Delivery Status Report\n"));
    assert_non_null(strstr(STR(out), "Enclosed is the mail delivery report that you requested."));
    assert_null(strstr(STR(out), "secret body line"));
    vstring_free(out);
}

static void test_bounce_full(void **state)
{
    VSTRING *out = vstring_alloc(1000);

    format_bounce(0, out, 1);
    assert_non_null(strstr(STR(out), "Content-Type: multipart/report; report-type=delivery-status;"));
    assert_non_null(strstr(STR(out), "This is the mail system at host mx.example.org."));
    assert_non_null(strstr(STR(out), "Reporting-MTA: dns; mx.example.org\n"));
    assert_non_null(strstr(STR(out), "Original-Envelope-Id: ENV42\n"));
    assert_non_null(strstr(STR(out), "Final-Recipient: rfc822; nobody@example.net\n"));
    assert_non_null(strstr(STR(out), "Action: failed\nStatus: 5.1.1\n"));
    assert_non_null(strstr(STR(out), "Remote-MTA: dns; mx.example.net\n"));
    assert_non_null(strstr(STR(out), "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"));
    assert_non_null(strstr(STR(out), "Content-Type: message/rfc822\n"));
    assert_non_null(strstr(STR(out), "secret body line"));
    vstring_free(out);
}

static void test_bounce_headers_only(void **state)
{
    VSTRING *out = vstring_alloc(1000);

    format_bounce("HDRS", out, 0);
    assert_non_null(strstr(STR(out), "Content-Type: text/rfc822-headers\n"));
    assert_non_null(strstr(STR(out), "Subject: hello\n"));
    assert_null(strstr(STR(out), "secret body line"));
    vstring_free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_defer_log_roundtrip),
	cmocka_unit_test(test_defer_log_garbage),
	cmocka_unit_test(test_bounce_full),
	cmocka_unit_test(test_bounce_headers_only),
	cmocka_unit_test(test_verify_report),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
