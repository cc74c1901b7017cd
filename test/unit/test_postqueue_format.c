/*
 * test_postqueue_format.c - unit tests for lib/global/mailq_format.c (postqueue
 * -p and -j output) and lib/global/showq_proto.c (the showq listing stream).
 *
 * The -p samples are Postfix's mailq output for the same messages, line
 * for line (long queue ids; TZ=UTC so arrival times are fixed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sys_defs.h"
#include <fcntl.h>
#include <time.h>
#include "vstring.h"
#include "vstream.h"
#include "showq_proto.h"
#include "mailq_format.h"

#define ARRIVAL		1795449600L	/* Mon Nov 23 16:00:00 2026 UTC */
#define REFUSED		"connect to 127.0.0.1[127.0.0.1]:1: Connection refused"

static VSTREAM *tmp_stream(void)
{
    char    path[] = "/tmp/test_postqueue_format.XXXXXX";
    int     fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    return (vstream_fdopen(fd, O_RDWR));
}

/* contents - everything written to FP, as a NUL-terminated string in BUF */

static const char *contents(VSTREAM *fp, VSTRING *buf)
{
    int     ch;

    vstream_flush(fp);
    vstream_seek(fp, 0);
    vstring_reset(buf);
    while ((ch = vstream_getc(fp)) != EOF)
	vstring_addch(buf, ch);
    return (STR(buf));
}

static int setup(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    return (0);
}

static void test_deferred_matches_postfix(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(100);
    MAILQ_FORMAT mf;
    SHOWQ_MSG msg;

    showq_msg_init(&msg, "deferred", "6919C2F70A3B1", ARRIVAL, 412, "sender@example.com");
    showq_msg_add_rcpt(&msg, "rcpt@example.test", REFUSED);
    mailq_format_init(&mf, fp);
    mailq_format_text(&mf, &msg);
    mailq_format_text_end(&mf);
    assert_string_equal(contents(fp, buf),
	"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n"
	"6919C2F70A3B1          412 Mon Nov 23 16:00:00 sender@example.com\n"
	"                       (connect to 127.0.0.1[127.0.0.1]:1: Connection refused)\n"
	"                                               rcpt@example.test\n"
	"\n"
	"-- 0 Kbytes in 1 Request.\n");
    showq_msg_free(&msg);
    vstream_close(fp);
    vstring_free(buf);
}

/*
 * test_captured_postfix_sample - the output of Postfix 3.7's "postqueue -p"
 * (enable_long_queue_ids = yes, TZ=UTC), captured verbatim from a private
 * Postfix instance with relayhost = [127.0.0.1]:1; the same message data
 * must give the same bytes from Posthorn's formatter.
 */
static void test_captured_postfix_sample(void **state)
{
    static const char postfix_output[] =
	"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n"
	"4jYBxK0z2wz1bsY4       416 Mon Nov 23 16:59:17 sender@example.com\n"
	"                       (connect to 127.0.0.1[127.0.0.1]:1: Connection refused)\n"
	"                                               rcpt@example.test\n"
	"\n"
	"-- 0 Kbytes in 1 Request.\n";
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(100);
    MAILQ_FORMAT mf;
    SHOWQ_MSG msg;

    showq_msg_init(&msg, "deferred", "4jYBxK0z2wz1bsY4", 1795453157L, 416, "sender@example.com");
    showq_msg_add_rcpt(&msg, "rcpt@example.test", REFUSED);
    mailq_format_init(&mf, fp);
    mailq_format_text(&mf, &msg);
    mailq_format_text_end(&mf);
    assert_string_equal(contents(fp, buf), postfix_output);
    showq_msg_free(&msg);
    vstream_close(fp);
    vstring_free(buf);
}

static void test_reason_lines_and_markers(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(100);
    MAILQ_FORMAT mf;
    SHOWQ_MSG held;
    SHOWQ_MSG active;

    /* Same reason twice: one line; then none: "(reason unavailable)" */
    showq_msg_init(&held, "hold", "6919C2F70A3B2", ARRIVAL, 2048, "");
    showq_msg_add_rcpt(&held, "a@example.test", "host said 451");
    showq_msg_add_rcpt(&held, "b@example.test", "host said 451");
    showq_msg_add_rcpt(&held, "c@example.test", "");
    showq_msg_init(&active, "active", "6919C2F70A3B3", ARRIVAL, 1024, "x@y");
    showq_msg_add_rcpt(&active, "d@example.test", 0);
    active.forced_expire = 1;
    mailq_format_init(&mf, fp);
    mailq_format_text(&mf, &held);
    mailq_format_text(&mf, &active);
    mailq_format_text_end(&mf);
    assert_string_equal(contents(fp, buf),
	"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n"
	"6919C2F70A3B2!        2048 Mon Nov 23 16:00:00 MAILER-DAEMON\n"
	"                                                               (host said 451)\n"
	"                                               a@example.test\n"
	"                                               b@example.test\n"
	"                                                          (reason unavailable)\n"
	"                                               c@example.test\n"
	"\n"
	"6919C2F70A3B3*#       1024 Mon Nov 23 16:00:00 x@y\n"
	"                                               d@example.test\n"
	"\n"
	"-- 3 Kbytes in 2 Requests.\n");
    showq_msg_free(&held);
    showq_msg_free(&active);
    vstream_close(fp);
    vstring_free(buf);
}

static void test_long_reason_and_empty_queue(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    MAILQ_FORMAT mf;
    SHOWQ_MSG msg;

    mailq_format_init(&mf, fp);
    mailq_format_text_end(&mf);
    assert_string_equal(contents(fp, buf), "Mail queue is empty\n");
    vstream_close(fp);

    fp = tmp_stream();
    for (int i = 0; i < 10; i++)
	vstring_strcat(why, "0123456789");
    showq_msg_init(&msg, "deferred", "6919C2F70A3B4", ARRIVAL, 10, "s@x");
    showq_msg_add_rcpt(&msg, "r@x", STR(why));
    mailq_format_init(&mf, fp);
    mailq_format_text(&mf, &msg);
    vstring_sprintf(want, "(%s)\n", STR(why));	/* no padding, not cut */
    assert_non_null(strstr(contents(fp, buf), STR(want)));
    assert_non_null(strstr(STR(buf), "\n(0123"));
    showq_msg_free(&msg);
    vstream_close(fp);
    vstring_free(buf);
    vstring_free(why);
    vstring_free(want);
}

static void test_json(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(100);
    MAILQ_FORMAT mf;
    SHOWQ_MSG msg;

    showq_msg_init(&msg, "deferred", "6919C2F70A3B1", ARRIVAL, 412, "odd\"sender\\@x");
    showq_msg_add_rcpt(&msg, "a@x", "line\none\t\x01");
    showq_msg_add_rcpt(&msg, "b@x", "");
    mailq_format_init(&mf, fp);
    mailq_format_json(&mf, &msg);
    assert_string_equal(contents(fp, buf),
	"{\"queue_name\": \"deferred\", \"queue_id\": \"6919C2F70A3B1\", "
	"\"arrival_time\": 1795449600, \"message_size\": 412, "
	"\"forced_expire\": false, \"sender\": \"odd\\\"sender\\\\@x\", "
	"\"recipients\": [{\"address\": \"a@x\", \"delay_reason\": "
	"\"line\\none\\t\\u0001\"}, {\"address\": \"b@x\"}]}\n");
    showq_msg_free(&msg);
    vstream_close(fp);
    vstring_free(buf);
}

static void test_stream_round_trip(void **state)
{
    VSTREAM *fp = tmp_stream();
    SHOWQ_MSG in;
    SHOWQ_MSG out;

    showq_msg_init(&in, "deferred", "6919C2F70A3B1", ARRIVAL, 412, "");
    showq_msg_add_rcpt(&in, "a@x", "why\nnot");
    showq_msg_add_rcpt(&in, "b@x", "");
    assert_int_equal(showq_put_message(fp, &in), 0);
    showq_msg_free(&in);
    showq_msg_init(&in, "hold", "6919C2F70A3B2", ARRIVAL + 1, 7, "s@x");
    assert_int_equal(showq_put_message(fp, &in), 0);
    showq_msg_free(&in);
    assert_int_equal(showq_put_end(fp), 0);
    vstream_seek(fp, 0);

    assert_int_equal(showq_get_message(fp, &out), 1);
    assert_string_equal(out.queue_name, "deferred");
    assert_string_equal(out.sender, "");
    assert_int_equal(out.message_size, 412);
    assert_int_equal(out.rcpt_count, 2);
    assert_string_equal(out.rcpts[0].reason, "why\nnot");
    assert_string_equal(out.rcpts[1].address, "b@x");
    showq_msg_free(&out);
    assert_int_equal(showq_get_message(fp, &out), 1);
    assert_string_equal(out.queue_id, "6919C2F70A3B2");
    assert_int_equal(out.arrival_time, ARRIVAL + 1);
    assert_int_equal(out.rcpt_count, 0);
    showq_msg_free(&out);
    assert_int_equal(showq_get_message(fp, &out), 0);
    vstream_close(fp);
}

static void test_stream_bad_input(void **state)
{
    static const char *bad[] = {
	"",					/* server gone: no end marker */
	"type=message\nqueue_id=X\n\n",		/* missing fields */
	"type=bogus\n\n",
	"type=message\nqueue_name=hold\nqueue_id=X\nsender=\n\n"
	"type=recipient\n\n",			/* recipient without address */
	"type=message\nqueue_name=hold\nqueue_id=X\nsender=\n\n",	/* truncated */
	"no equals sign\n\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	VSTREAM *fp = tmp_stream();
	SHOWQ_MSG msg;
	int     status;

	vstream_fputs(bad[i], fp);
	vstream_flush(fp);
	vstream_seek(fp, 0);
	while ((status = showq_get_message(fp, &msg)) > 0)
	    showq_msg_free(&msg);
	assert_int_equal(status, -1);
	vstream_close(fp);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_deferred_matches_postfix),
	cmocka_unit_test(test_captured_postfix_sample),
	cmocka_unit_test(test_reason_lines_and_markers),
	cmocka_unit_test(test_long_reason_and_empty_queue),
	cmocka_unit_test(test_json),
	cmocka_unit_test(test_stream_round_trip),
	cmocka_unit_test(test_stream_bad_input),
    };

    return (cmocka_run_group_tests(tests, setup, 0));
}
