/*
 * test_smtpd_data.c - unit tests for smtpd/smtpd_data.c (the DATA reader
 * and header scanner).
 *
 * The reader is fed the same input whole and in small pieces (as partial
 * reads deliver it) and must give the same content, end-of-data decision
 * and bytes consumed: dot-unstuffing, CRLF to LF, the bare-LF policies
 * (no <LF>.<LF> or <LF>.<CR><LF> end under normalize), long lines passed
 * through in pieces, and pipelined commands after the end left unread.
 * smtpd_data.c is compiled into this test directly (it uses only lib/).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "vstring.h"
#include "../../smtpd/smtpd_data.c"

/* collect - DATA_OUT_FN that appends to a VSTRING */
static void collect(void *ctx, const char *data, size_t len, int line_start)
{
    vstring_memcat((VSTRING *) ctx, data, len);
}

typedef struct RESULT {
    VSTRING *out;
    int     status;
    size_t  consumed;			/* of the whole input */
} RESULT;

/* feed - give IN to a reader STEP bytes at a time, as reads would */
static RESULT feed(int policy, int prev_crlf, size_t limit, const char *in,
		           size_t step)
{
    DATA_READER dr;
    RESULT  r;
    VSTRING *buf = vstring_alloc(100);
    size_t  len = strlen(in);
    size_t  given = 0;

    r.out = vstring_alloc(100);
    r.status = DATA_MORE;
    r.consumed = 0;
    data_reader_init(&dr, policy, limit, prev_crlf);
    while (given < len && r.status == DATA_MORE) {
	size_t  n = (len - given < step) ? len - given : step;
	size_t  used;

	vstring_memcat(buf, in + given, n);
	given += n;
	used = data_reader_feed(&dr, STR(buf), LEN(buf), collect, r.out, &r.status);
	r.consumed += used;
	vstring_drop_head(buf, used);
    }
    vstring_free(buf);
    return (r);
}

/* expect - IN gives WANT, STATUS, CONSUMED for several read sizes */
static void expect(int policy, int prev_crlf, const char *in, const char *want,
		           int status, size_t consumed)
{
    static const size_t steps[] = {1, 2, 3, 7, 100000};

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
	RESULT  r = feed(policy, prev_crlf, 100, in, steps[i]);

	assert_string_equal(STR(r.out), want);
	assert_int_equal(r.status, status);
	assert_int_equal(r.consumed, consumed);
	vstring_free(r.out);
    }
}

static void test_crlf_and_end(void **unused)
{
    expect(BARE_LF_NORMALIZE, 1, "a\r\nb\r\n.\r\n", "a\nb\n", DATA_END, 9);
    expect(BARE_LF_NORMALIZE, 1, ".\r\n", "", DATA_END, 3);
    expect(BARE_LF_NORMALIZE, 1, "\r\n\r\n.\r\n", "\n\n", DATA_END, 7);
}

static void test_dot_unstuffing(void **unused)
{
    expect(BARE_LF_NORMALIZE, 1, "..x\r\n.y\r\n..\r\n.\r\n", ".x\ny\n.\n", DATA_END, 16);
    expect(BARE_LF_NORMALIZE, 1, "a.b\r\n.\r\n", "a.b\n", DATA_END, 8);
}

static void test_incomplete(void **unused)
{
    expect(BARE_LF_NORMALIZE, 1, "abc\r\npartial", "abc\n", DATA_MORE, 5);
    expect(BARE_LF_NORMALIZE, 1, "abc\r\n.", "abc\n", DATA_MORE, 5);
    expect(BARE_LF_NORMALIZE, 1, "abc\r\n.\r", "abc\n", DATA_MORE, 5);
}

static void test_pipelined_rest(void **unused)
{
    expect(BARE_LF_NORMALIZE, 1, "a\r\n.\r\nQUIT\r\n", "a\n", DATA_END, 6);
}

static void test_bare_lf_normalize(void **unused)
{
    /* Bare LF ends a line, but never helps to end the data. */
    expect(BARE_LF_NORMALIZE, 1, "a\nb\r\n.\r\n", "a\nb\n", DATA_END, 8);
    expect(BARE_LF_NORMALIZE, 1, "a\n.\nb\r\n.\r\n", "a\n.\nb\n", DATA_END, 10);
    expect(BARE_LF_NORMALIZE, 1, "a\n.\r\nb\r\n.\r\n", "a\n.\nb\n", DATA_END, 11);
    expect(BARE_LF_NORMALIZE, 1, "a\r\n.\nb\r\n.\r\n", "a\n.\nb\n", DATA_END, 11);
    /* The DATA command itself ended in a bare LF. */
    expect(BARE_LF_NORMALIZE, 0, ".\r\nx\r\n.\r\n", ".\nx\n", DATA_END, 9);
    /* Stuffed dot on a bare-LF line. */
    expect(BARE_LF_NORMALIZE, 1, "..a\n.\r\nz\r\n.\r\n", ".a\n.\nz\n", DATA_END, 13);
}

static void test_bare_lf_reject(void **unused)
{
    expect(BARE_LF_REJECT, 1, "a\r\nb\nc\r\n.\r\n", "a\n", DATA_BARE_LF, 3);
    expect(BARE_LF_REJECT, 1, "a\r\n.\r\n", "a\n", DATA_END, 6);
}

static void test_bare_lf_no(void **unused)
{
    expect(BARE_LF_NO, 1, "a\n.\nrest", "a\n", DATA_END, 4);
    expect(BARE_LF_NO, 0, "a\r\n.\r\n", "a\n", DATA_END, 6);
}

/* test_long_lines - stored in pieces that join up, never refused */
static void test_long_lines(void **unused)
{
    VSTRING *in = vstring_alloc(5000);
    VSTRING *want = vstring_alloc(5000);

    for (int i = 0; i < 1000; i++) {
	vstring_strcat(in, "xyz");
	vstring_strcat(want, "xyz");
    }
    vstring_strcat(in, "\r\n.\r\n");
    vstring_strcat(want, "\n");
    expect(BARE_LF_NORMALIZE, 1, STR(in), STR(want), DATA_END, LEN(in));

    /* A stuffed dot at the start of a long line goes; later dots stay. */
    vstring_strcpy(in, ".");
    vstring_reset(want);
    for (int i = 0; i < 300; i++) {
	vstring_strcat(in, ".ab");
	vstring_strcat(want, ".ab");
    }
    vstring_strcat(in, "\r\n.\r\n");
    vstring_strcat(want, "\n");
    expect(BARE_LF_NORMALIZE, 1, STR(in), STR(want), DATA_END, LEN(in));
    vstring_free(in);
    vstring_free(want);
}

static void test_header_scan(void **unused)
{
    HDR_SCAN hs;

    hdr_scan_init(&hs);
    assert_int_equal(hdr_scan_line(&hs, "Subject: x", 10), 0);
    assert_int_equal(hdr_scan_line(&hs, "FROM: a@b\n", 10), 0);
    assert_int_equal(hdr_scan_line(&hs, "\tcontinued", 10), 0);
    assert_int_equal(hdr_scan_line(&hs, "Message-ID : <x@y>", 18), 0);
    assert_int_equal(hdr_scan_line(&hs, "Received: from a", 16), 0);
    assert_int_equal(hdr_scan_line(&hs, "received:from b\n", 16), 0);
    assert_int_equal(hdr_scan_line(&hs, "Received-SPF: pass", 18), 0);
    assert_int_equal(hs.received, 2);
    assert_int_equal(hs.seen_from, 1);
    assert_int_equal(hs.seen_msgid, 1);
    assert_int_equal(hs.seen_date, 0);
    assert_int_equal(hdr_scan_line(&hs, "", 0), 1);
    assert_int_equal(hs.in_header, 0);
    assert_int_equal(hdr_scan_line(&hs, "Date: now", 9), 0);
    assert_int_equal(hs.seen_date, 0);

    /* A line that is not a header ends the header block. */
    hdr_scan_init(&hs);
    assert_int_equal(hdr_scan_line(&hs, "Date: now", 9), 0);
    assert_int_equal(hdr_scan_line(&hs, "just text", 9), 1);
    assert_int_equal(hs.seen_date, 1);
    hdr_scan_init(&hs);
    assert_int_equal(hdr_scan_line(&hs, ": no name", 9), 1);
    hdr_scan_init(&hs);
    assert_int_equal(hdr_scan_line(&hs, "\n", 1), 1);
}

static void test_policy_names(void **unused)
{
    assert_int_equal(bare_lf_policy("normalize"), BARE_LF_NORMALIZE);
    assert_int_equal(bare_lf_policy("YES"), BARE_LF_NORMALIZE);
    assert_int_equal(bare_lf_policy("Reject"), BARE_LF_REJECT);
    assert_int_equal(bare_lf_policy("no"), BARE_LF_NO);
    assert_int_equal(bare_lf_policy("maybe"), -1);
    assert_int_equal(bare_lf_policy(""), -1);
}

/* collect_marked - as collect, with "|" before each piece that starts a line */
static void collect_marked(void *ctx, const char *data, size_t len, int line_start)
{
    if (line_start)
	vstring_strcat((VSTRING *) ctx, "|");
    vstring_memcat((VSTRING *) ctx, data, len);
}

/* bdat - IN in chunks of STEP bytes, line limit LIMIT: what OUT got */
static void bdat_expect(const char *in, size_t limit, const char *want)
{
    static const size_t steps[] = {1, 2, 3, 7, 100000};

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
	VSTRING *out = vstring_alloc(100);
	BDAT_READER br;
	size_t  len = strlen(in);

	bdat_reader_init(&br, limit);
	for (size_t given = 0; given < len; given += steps[i])
	    bdat_reader_feed(&br, in + given, len - given < steps[i] ?
			     len - given : steps[i], collect_marked, out);
	bdat_reader_end(&br, collect_marked, out);
	bdat_reader_free(&br);
	assert_string_equal(STR(out), want);
	vstring_free(out);
    }
}

/* test_bdat - chunks: CRLF (also split) and bare LF end lines, no dot
 * handling, no end marker, long lines in pieces, a last line ended */
static void test_bdat(void **unused)
{
    bdat_expect("Subject: a\r\n\r\n.line\r\n.\r\nbare\nlast",
		100, "|Subject: a\n|\n|.line\n|.\n|bare\n|last\n");
    bdat_expect("a\rb\r\n", 100, "|a\rb\n");		/* a lone CR stays */
    bdat_expect("", 100, "");
    bdat_expect("abcdefghij\r\nxy", 4, "|abcdefghij\n|xy\n");
    bdat_expect("abc\r\n", 3, "|abc\n");
    bdat_expect("abcdef", 3, "|abcdef\n");	/* ends right at a piece */
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_crlf_and_end),
	cmocka_unit_test(test_dot_unstuffing),
	cmocka_unit_test(test_incomplete),
	cmocka_unit_test(test_pipelined_rest),
	cmocka_unit_test(test_bare_lf_normalize),
	cmocka_unit_test(test_bare_lf_reject),
	cmocka_unit_test(test_bare_lf_no),
	cmocka_unit_test(test_long_lines),
	cmocka_unit_test(test_bdat),
	cmocka_unit_test(test_header_scan),
	cmocka_unit_test(test_policy_names),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
