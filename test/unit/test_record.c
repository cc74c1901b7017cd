/*
 * test_record.c - unit tests for lib/global/record.c (typed length-prefixed records).
 *
 * Round trips with varint lengths at the 7-bit boundaries, truncated
 * files at every length, over-limit records and bad length fields, and
 * the reasons rec_get_checked() gives.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "record.h"

static char tmp_path[] = "/tmp/test_recordXXXXXX";

/* tmp_stream - an empty temporary file open read/write */

static VSTREAM *tmp_stream(void)
{
    int     fd;

    memcpy(tmp_path + sizeof(tmp_path) - 7, "XXXXXX", 6);
    fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    (void) unlink(tmp_path);
    return (vstream_fdopen(fd, O_RDWR));
}

static void test_header_len(void **state)
{
    assert_int_equal(rec_header_len(0), 2);
    assert_int_equal(rec_header_len(127), 2);
    assert_int_equal(rec_header_len(128), 3);
    assert_int_equal(rec_header_len(16383), 3);
    assert_int_equal(rec_header_len(16384), 4);
    assert_int_equal(rec_header_len(REC_BODY_CHUNK), 4);
    assert_int_equal(rec_header_len(1 << 21), 5);
}

static void test_round_trip(void **state)
{
    static const size_t lens[] = {0, 1, 127, 128, 129, 16383, 16384, 16385,
    REC_BODY_CHUNK, 3000000};
    size_t  nlens = sizeof(lens) / sizeof(lens[0]);
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(10);
    char   *data = malloc(3000000);
    size_t  i, j;
    off_t   expect = 0;

    for (j = 0; j < 3000000; j++)
	data[j] = (char) (j * 7 + 3);
    for (i = 0; i < nlens; i++) {
	assert_int_equal(rec_put(fp, 'B', data, lens[i]), 0);
	expect += rec_header_len(lens[i]) + lens[i];
    }
    assert_int_equal(rec_puts(fp, 'S', "sender@example.com"), 0);
    assert_int_equal(rec_fprintf(fp, 'T', "%ld %d", 1234567890L, 42), 0);
    assert_int_equal(vstream_flush(fp), 0);
    assert_int_equal(vstream_tell(fp), expect + 2 + 18 + 2 + 13);
    assert_int_equal(vstream_seek(fp, 0), 0);
    for (i = 0; i < nlens; i++) {
	assert_int_equal(rec_get(fp, buf, 4000000), 'B');
	assert_int_equal(LEN(buf), lens[i]);
	assert_memory_equal(STR(buf), data, lens[i]);
	assert_int_equal(STR(buf)[LEN(buf)], 0);
    }
    assert_int_equal(rec_get(fp, buf, 100), 'S');
    assert_string_equal(STR(buf), "sender@example.com");
    assert_int_equal(rec_get(fp, buf, 100), 'T');
    assert_string_equal(STR(buf), "1234567890 42");
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_EOF);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_EOF);
    free(data);
    vstring_free(buf);
    vstream_close(fp);
}

static void test_over_limit(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(10);
    char    data[200];

    memset(data, 'x', sizeof(data));
    assert_int_equal(rec_put(fp, 'A', data, 200), 0);
    assert_int_equal(vstream_seek(fp, 0), 0);
    assert_int_equal(rec_get(fp, buf, 199), REC_TYPE_ERROR);
    assert_int_equal(vstream_seek(fp, 0), 0);
    assert_int_equal(rec_get(fp, buf, 200), 'A');
    vstring_free(buf);
    vstream_close(fp);
}

/* truncation at every length of a small file: ERROR (or EOF at a record edge) */

static void test_truncated(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(10);
    char    data[300];
    off_t   edges[3];
    off_t   total;
    off_t   cut;

    memset(data, 'y', sizeof(data));
    edges[0] = 0;
    assert_int_equal(rec_put(fp, 'R', data, 5), 0);
    edges[1] = vstream_tell(fp);
    assert_int_equal(rec_put(fp, 'B', data, 300), 0);
    edges[2] = total = vstream_tell(fp);
    assert_int_equal(vstream_flush(fp), 0);
    for (cut = 0; cut <= total; cut++) {
	int     type;
	int     saw_error = 0;
	int     n = 0;

	assert_int_equal(ftruncate(vstream_fd(fp), cut), 0);
	assert_int_equal(vstream_seek(fp, 0), 0);
	while ((type = rec_get(fp, buf, 1000)) > 0)
	    n++;
	saw_error = (type == REC_TYPE_ERROR);
	if (cut == edges[0] || cut == edges[1] || cut == edges[2])
	    assert_false(saw_error);
	else
	    assert_true(saw_error);
	assert_int_equal(n, cut >= edges[2] ? 2 : cut >= edges[1] ? 1 : 0);
	/* restore for the next cut */
	assert_int_equal(vstream_seek(fp, 0), 0);
	assert_int_equal(rec_put(fp, 'R', data, 5), 0);
	assert_int_equal(rec_put(fp, 'B', data, 300), 0);
	assert_int_equal(vstream_flush(fp), 0);
    }
    vstring_free(buf);
    vstream_close(fp);
}

/* test_checked - rec_get_checked(): the reason for each kind of trouble */

static void test_checked(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);

    assert_int_equal(rec_put(fp, REC_TYPE_BODY, "a\0b", 3), 0);	/* B may */
    assert_int_equal(rec_put(fp, REC_TYPE_RCPT, "a\0b", 3), 0);	/* R may not */
    assert_int_equal(rec_put(fp, REC_TYPE_FROM, "ok", 2), 0);
    assert_int_equal(vstream_fputs("R\005ab", fp), 0);		/* truncated */
    assert_int_equal(vstream_seek(fp, 0), 0);
    assert_int_equal(rec_get_checked(fp, buf, 100, why), REC_TYPE_BODY);
    assert_int_equal(rec_get_checked(fp, buf, 100, why), REC_TYPE_ERROR);
    assert_string_equal(STR(why), "record type R contains a null byte");
    assert_int_equal(rec_get_checked(fp, buf, 100, why), REC_TYPE_FROM);
    assert_int_equal(rec_get_checked(fp, buf, 100, why), REC_TYPE_ERROR);
    assert_string_equal(STR(why), "truncated or malformed record");
    assert_int_equal(rec_get_checked(fp, buf, 100, why), REC_TYPE_EOF);
    assert_string_equal(STR(why), "premature end of file");
    vstream_close(fp);
    vstring_free(buf);
    vstring_free(why);
}

static void test_bad_length(void **state)
{
    VSTREAM *fp = tmp_stream();
    VSTRING *buf = vstring_alloc(10);
    static const unsigned char junk[] = {'B', 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

    assert_int_equal(vstream_write(fp, junk, sizeof(junk)), 0);
    assert_int_equal(vstream_seek(fp, 0), 0);
    assert_int_equal(rec_get(fp, buf, (size_t) -1), REC_TYPE_ERROR);
    vstring_free(buf);
    vstream_close(fp);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_header_len),
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_over_limit),
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_bad_length),
	cmocka_unit_test(test_checked),
    };

    msg_init("test_record", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, 0, 0));
}
