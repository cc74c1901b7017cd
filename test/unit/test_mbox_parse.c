/*
 * test_mbox_parse.c - unit tests for lib/store/mbox_parse.c.
 *
 * Header line kinds (our fields in any case, folding, CR-LF, no colon);
 * the header filter gives the same bytes however its input is cut; From_
 * dates in the shapes found in the wild; mbox_parse() finds the messages,
 * their offsets, sizes and our fields' values in normal and broken files
 * (junk, CR-LF, NUL, giant lines, no final newline, Content-Length that
 * holds or not), reads on from a boundary as a full parse would, and its
 * sizes always match what the filter lets through.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mbox_parse.h"

#define FROM	"From a@b  Mon Nov 23 15:07:19 2026\n"
#define FROM_LEN (sizeof(FROM) - 1)

/* A parsed message, kept */
typedef struct {
    MBOX_PARSED m;
    char    value[MBOX_FIELD_COUNT][200];
} KEPT;

typedef struct {
    KEPT    msgs[20];
    int     count;
} RESULT;

static void keep(const MBOX_PARSED *m, void *ctx)
{
    RESULT *r = ctx;
    KEPT   *k;
    int     i;

    assert_true(r->count < 20);
    k = r->msgs + r->count++;
    k->m = *m;
    for (i = 0; i < MBOX_FIELD_COUNT; i++) {
	snprintf(k->value[i], sizeof(k->value[i]), "%.*s",
		 (int) LEN(m->value[i]), STR(m->value[i]));
	k->m.value[i] = 0;
    }
}

static int memfd(const char *data, size_t len)
{
    int     fd = memfd_create("test_mbox_parse", MFD_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    return (fd);
}

/* parse - all of DATA; the junk byte count in *JUNK */

static void parse(const char *data, size_t len, RESULT *r, off_t *junk)
{
    VSTRING *why = vstring_alloc(100);
    int     fd = memfd(data, len);

    memset(r, 0, sizeof(*r));
    assert_int_equal(mbox_parse(fd, 0, (off_t) len, keep, r, junk, why), (off_t) len);
    close(fd);
    vstring_free(why);
}

#define PARSE(lit, r, junk)	parse((lit), sizeof(lit) - 1, (r), (junk))

/* filter_put - MAILBOX_WRITE_FN into a VSTRING */

static int filter_put(void *ctx, const char *data, size_t len)
{
    vstring_memcat((VSTRING *) ctx, data, len);
    return (0);
}

/* filtered - DATA through a filter in pieces of STEP bytes */

static void filtered(VSTRING *out, const char *data, size_t len, size_t step)
{
    MBOX_FILTER filter;
    size_t  off, n;

    vstring_reset(out);
    mbox_filter_init(&filter);
    for (off = 0; off < len; off += n) {
	n = len - off < step ? len - off : step;
	assert_int_equal(mbox_filter_write(&filter, data + off, n, filter_put, out), 0);
    }
    assert_int_equal(mbox_filter_flush(&filter, filter_put, out), 0);
}

static off_t crlf_size(const char *data, size_t len)
{
    off_t   n = (off_t) len;
    size_t  i;

    for (i = 0; i < len; i++)
	if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
	    n++;
    return (n);
}

/* check_sizes - each message's size/vsize is what the filter lets through */

static void check_sizes(const char *data, size_t len, const RESULT *r)
{
    VSTRING *out = vstring_alloc(100);
    int     i;

    for (i = 0; i < r->count; i++) {
	const MBOX_PARSED *m = &r->msgs[i].m;

	assert_true(m->hdr_start <= m->hdr_end);
	assert_true(m->hdr_end <= m->content_end);
	assert_true(m->content_end <= m->offset + m->length);
	filtered(out, data + m->hdr_start, (size_t) (m->content_end - m->hdr_start), 4096);
	assert_int_equal(LEN(out), m->size);
	assert_int_equal(crlf_size(STR(out), LEN(out)), m->vsize);
    }
    vstring_free(out);
}

static void test_line_kind(void **state)
{
    static const struct {
	const char *line;
	int     kind;
	int     field;
	size_t  pos;
    }       cases[] = {
	{"X-UID: 5\n", MBOX_LINE_OURS, MBOX_X_UID, 6},
	{"x-uid : 5\n", MBOX_LINE_OURS, MBOX_X_UID, 7},
	{"Status:RO\n", MBOX_LINE_OURS, MBOX_STATUS, 7},
	{"X-STATUS: A\n", MBOX_LINE_OURS, MBOX_X_STATUS, 9},
	{"X-IMAP: 1 2\n", MBOX_LINE_OURS, MBOX_X_IMAP, 7},
	{"X-IMAPbase: 1 2\n", MBOX_LINE_OURS, MBOX_X_IMAPBASE, 11},
	{"X-Keywords: a\n", MBOX_LINE_OURS, MBOX_X_KEYWORDS, 11},
	{"Content-Length: 3\r\n", MBOX_LINE_OURS, MBOX_CONTENT_LENGTH, 15},
	{"X-UIDx: 5\n", MBOX_LINE_OTHER, -1, 0},
	{"X-UI: 5\n", MBOX_LINE_OTHER, -1, 0},
	{"X-UID 5\n", MBOX_LINE_OTHER, -1, 0},
	{"Subject: X-UID: 5\n", MBOX_LINE_OTHER, -1, 0},
	{"no colon at all\n", MBOX_LINE_OTHER, -1, 0},
	{"\n", MBOX_LINE_EMPTY, -1, 0},
	{"\r\n", MBOX_LINE_EMPTY, -1, 0},
	{"\r", MBOX_LINE_OTHER, -1, 0},
	{" folded\n", MBOX_LINE_CONT, -1, 0},
	{"\tfolded\n", MBOX_LINE_CONT, -1, 0},
	{"Status                                                          : R\n",
	MBOX_LINE_OTHER, -1, 0},			/* colon beyond the lookahead */
    };
    size_t  i, pos;
    int     field;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	field = -1;
	pos = 0;
	assert_int_equal(mbox_line_kind(cases[i].line, strlen(cases[i].line),
					&field, &pos), cases[i].kind);
	if (cases[i].kind == MBOX_LINE_OURS) {
	    assert_int_equal(field, cases[i].field);
	    assert_int_equal(pos, cases[i].pos);
	}
    }
    assert_int_equal(mbox_line_kind("", 0, &field, &pos), MBOX_LINE_OTHER);
    assert_int_equal(mbox_line_kind("X-U\0D: 1\n", 9, &field, &pos), MBOX_LINE_OTHER);
}

static void test_filter(void **state)
{
    static const char in[] =
    "Subject: hello\n"
    "X-UID: 5\n"
    " folded X-UID\n"
    "status: RO\r\n"
    "X-Keywords: a\n"
    "\tb\n"
    "From: x\n"
    " folded from\n"
    "Content-Length: 3\n"
    "\n"
    "X-UID: 7\n"
    "body\n";
    static const char out[] =
    "Subject: hello\n"
    "From: x\n"
    " folded from\n"
    "\n"
    "X-UID: 7\n"
    "body\n";
    VSTRING *buf = vstring_alloc(100);
    VSTRING *big = vstring_alloc(300000);
    size_t  step;

    for (step = 1; step <= sizeof(in); step++) {
	filtered(buf, in, sizeof(in) - 1, step);
	assert_string_equal(STR(buf), out);
    }
    /* a last line without newline is decided at the end */
    filtered(buf, "A: b\nX-UID: 3", 13, 1);
    assert_string_equal(STR(buf), "A: b\n");
    filtered(buf, "A: b\nX-Other: 3", 15, 2);
    assert_string_equal(STR(buf), "A: b\nX-Other: 3");
    /* long lines: only their start counts */
    vstring_strcpy(big, "X-Keywords: ");
    while (LEN(big) < 200000)
	vstring_strcat(big, "word ");
    vstring_strcat(big, "\nX-Long: ");
    while (LEN(big) < 250000)
	vstring_strcat(big, "more ");
    vstring_strcat(big, "\n\nbody\n");
    filtered(buf, STR(big), LEN(big), 65536);
    step = strchr(STR(big), '\n') - STR(big) + 1;	/* the hidden line */
    assert_int_equal(LEN(buf), LEN(big) - step);
    assert_memory_equal(STR(buf), STR(big) + step, LEN(buf));
    vstring_free(buf);
    vstring_free(big);
}

static time_t local_time(int year, int mon, int mday, int hour, int min, int sec)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    return (mktime(&tm));
}

static void test_from_date(void **state)
{
    static const struct {
	const char *line;
	int     zone;			/* seconds east; 1: local time; 2: none */
    }       cases[] = {
	{"From a@b  Mon Nov 23 15:07:19 2026", 1},
	{"From a@b Mon Nov 23 15:07:19 2026\r", 1},
	{"From MAILER-DAEMON Mon Nov 23 15:07:19 PST 2026", 1},
	{"From \"a b\"@c  mon nov 23 15:07:19 2026", 1},
	{"From Mon@x Mon Nov 23 15:07:19 2026", 1},
	{"From a Mon Nov 23 15:07:19 2026 +0100", 3600},
	{"From a Mon Nov 23 15:07:19 -0130 2026", -5400},
	{"From a", 2},
	{"From ", 2},
	{"From a Mon Nov 23", 2},
	{"From a Mon Xyz 23 15:07:19 2026", 2},
	{"From a Mon Nov 32 15:07:19 2026", 2},
	{"From a Mon Nov 23 25:07:19 2026", 2},
	{"From a Mon Nov 23 15:07:19 26", 2},
    };
    time_t  local = local_time(2026, 10, 23, 15, 7, 19);
    time_t  utc;
    struct tm tm;
    size_t  i;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 126;
    tm.tm_mon = 10;
    tm.tm_mday = 23;
    tm.tm_hour = 15;
    tm.tm_min = 7;
    tm.tm_sec = 19;
    utc = timegm(&tm);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	time_t  got = mbox_from_date(cases[i].line, strlen(cases[i].line));

	if (cases[i].zone == 1)
	    assert_int_equal(got, local);
	else if (cases[i].zone == 2)
	    assert_int_equal(got, -1);
	else
	    assert_int_equal(got, utc - cases[i].zone);
    }
    assert_int_equal(mbox_from_date("From a  Thu Jan  1 09:00 2026", 29),
		     local_time(2026, 0, 1, 9, 0, 0));
    assert_int_equal(mbox_from_date("From a  Thu Jan 01 09:00:00 2026", 32),
		     local_time(2026, 0, 1, 9, 0, 0));
}

static void test_parse_basic(void **state)
{
    static const char data[] =
    FROM
    "Subject: one\n"
    "X-UID: 3\n"
    "Status: RO\n"
    "\n"
    "body\n"
    ">From quoted\n"
    "\n"
    FROM
    "Subject: two\n"
    "\n"
    "no separator after this\n"
    "From not a boundary\n";
    RESULT  r;
    off_t   junk;
    const MBOX_PARSED *m;

    PARSE(data, &r, &junk);
    assert_int_equal(junk, 0);
    assert_int_equal(r.count, 2);
    m = &r.msgs[0].m;
    assert_int_equal(m->offset, 0);
    assert_int_equal(m->hdr_start, FROM_LEN);
    assert_int_equal(m->hdr_end, FROM_LEN + 13 + 9 + 11);
    assert_int_equal(m->body_start, m->hdr_end + 1);
    assert_int_equal(m->content_end, m->body_start + 5 + 13);
    assert_int_equal(m->length, m->content_end + 1);
    assert_int_equal(m->size, 13 + 1 + 5 + 13);
    assert_int_equal(m->vsize, m->size + 4);
    assert_int_equal(m->seen[MBOX_X_UID], 1);
    assert_string_equal(r.msgs[0].value[MBOX_X_UID], " 3\n");
    assert_int_equal(m->value_offset[MBOX_X_UID], FROM_LEN + 13 + 6);
    assert_string_equal(r.msgs[0].value[MBOX_STATUS], " RO\n");
    assert_int_equal(m->seen[MBOX_X_STATUS], 0);
    assert_int_equal(m->received, local_time(2026, 10, 23, 15, 7, 19));
    m = &r.msgs[1].m;
    assert_int_equal(m->offset, r.msgs[0].m.length);
    assert_int_equal(m->content_end, (off_t) sizeof(data) - 1);
    assert_int_equal(m->size, 13 + 1 + 24 + 20);
    check_sizes(data, sizeof(data) - 1, &r);
}

static void test_parse_odd(void **state)
{
    static const char junk_data[] = "junk\nFrom x\n\n" FROM "S: 1\n\nb\n";
    static const char crlf[] =
    "From a  Mon Nov 23 15:07:19 2026\r\nS: 1\r\nX-UID: 2\r\n\r\nb\r\n\r\n"
    "From b  Mon Nov 23 15:07:19 2026\r\nS: 2\r\n\r\nc\r\n";
    static const char nul[] = FROM "S: \0\n\n\0\0\n\n" FROM "\0";
    static const char no_nl[] = FROM "Subject: x\n\nbody";
    static const char headers_only[] = FROM "X-UID: 1\nSubject: x\n\n" FROM "X-UID: 2";
    static const char empty_msgs[] = "From \n\nFrom \n\n\nFrom ";
    RESULT  r;
    off_t   junk;

    PARSE(junk_data, &r, &junk);
    assert_int_equal(junk, 13);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.msgs[0].m.offset, 13);
    check_sizes(junk_data, sizeof(junk_data) - 1, &r);

    PARSE(crlf, &r, &junk);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.size, 6 + 2 + 3);	/* X-UID hidden */
    assert_int_equal(r.msgs[0].m.vsize, r.msgs[0].m.size);
    assert_int_equal(r.msgs[1].m.size, 6 + 2 + 3);
    check_sizes(crlf, sizeof(crlf) - 1, &r);

    PARSE(nul, &r, &junk);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.size, 5 + 1 + 3);
    assert_int_equal(r.msgs[1].m.hdr_start, (off_t) sizeof(nul) - 2);
    assert_int_equal(r.msgs[1].m.size, 1);
    check_sizes(nul, sizeof(nul) - 1, &r);

    PARSE(no_nl, &r, &junk);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.msgs[0].m.size, 11 + 1 + 4);
    assert_int_equal(r.msgs[0].m.vsize, 11 + 1 + 4 + 2);
    check_sizes(no_nl, sizeof(no_nl) - 1, &r);

    PARSE(headers_only, &r, &junk);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.size, 11);
    assert_int_equal(r.msgs[0].m.hdr_end, r.msgs[0].m.content_end);
    assert_int_equal(r.msgs[1].m.size, 0);
    assert_int_equal(r.msgs[1].m.seen[MBOX_X_UID], 1);
    check_sizes(headers_only, sizeof(headers_only) - 1, &r);

    PARSE(empty_msgs, &r, &junk);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.msgs[1].m.size, 1);		/* one empty line */
    assert_int_equal(r.msgs[1].m.received, -1);
    check_sizes(empty_msgs, sizeof(empty_msgs) - 1, &r);

    PARSE("", &r, &junk);
    assert_int_equal(r.count, 0);
    assert_int_equal(junk, 0);
    PARSE("no messages\n", &r, &junk);
    assert_int_equal(r.count, 0);
    assert_int_equal(junk, 12);
}

static void test_content_length(void **state)
{
    static const char good[] =
    FROM "Content-Length: 21\n\nline\n\nFrom evil\nlast\n\n"
    FROM "S: next\n\nx\n";
    static const char wrong[] =
    FROM "Content-Length: 7\n\nline\n\nFrom evil\nlast\n\n" FROM "S: next\n\nx\n";
    static const char at_end[] = FROM "Content-Length: 15\n\nline\n\nFrom evil\n";
    static const char cut[] = FROM "Content-Length: 3\n\nabc\n" FROM "\nx\n";
    static const char twice[] =
    FROM "Content-Length: 21\nContent-Length: 21\n\nline\n\nFrom evil\nlast\n\n";
    RESULT  r;
    off_t   junk;

    PARSE(good, &r, &junk);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.content_length, 1);
    assert_int_equal(r.msgs[0].m.size, 1 + 21);
    check_sizes(good, sizeof(good) - 1, &r);

    PARSE(wrong, &r, &junk);			/* no From_ after 7 bytes */
    assert_int_equal(r.count, 3);
    assert_int_equal(r.msgs[0].m.content_length, 0);
    check_sizes(wrong, sizeof(wrong) - 1, &r);

    PARSE(at_end, &r, &junk);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.msgs[0].m.content_length, 1);
    assert_int_equal(r.msgs[0].m.size, 16);
    check_sizes(at_end, sizeof(at_end) - 1, &r);

    PARSE(cut, &r, &junk);			/* the body lacks its newline */
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.content_length, 1);
    assert_int_equal(r.msgs[0].m.size, 4);
    assert_int_equal(r.msgs[0].m.vsize, 5);
    check_sizes(cut, sizeof(cut) - 1, &r);

    PARSE(twice, &r, &junk);			/* ambiguous: not trusted */
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.content_length, 0);
}

static void test_parse_long_lines(void **state)
{
    VSTRING *data = vstring_alloc(400000);
    RESULT  r;
    off_t   junk;
    int     i;

    vstring_strcpy(data, FROM "X-Long: ");
    for (i = 0; i < 150000; i++)
	vstring_addch(data, 'a' + i % 26);
    vstring_strcat(data, "\nX-IMAPbase: 1 0000000001");
    for (i = 0; i < 150000; i++)
	vstring_strcat(data, " k");
    vstring_strcat(data, "\n\nbody\n\n" FROM);
    for (i = 0; i < 100000; i++)
	vstring_addch(data, 'x');
    parse(STR(data), LEN(data), &r, &junk);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].m.size, 8 + 150000 + 1 + 1 + 5);
    assert_int_equal(r.msgs[0].m.seen[MBOX_X_IMAPBASE], 1);
    assert_int_equal(r.msgs[1].m.size, 100000);
    check_sizes(STR(data), LEN(data), &r);
    vstring_free(data);
}

/* value_length - MBOX_PARSE_FN: the length of the X-IMAPbase value */

static void value_length(const MBOX_PARSED *m, void *ctx)
{
    if (m->seen[MBOX_X_IMAPBASE])
	*(size_t *) ctx = LEN(m->value[MBOX_X_IMAPBASE]);
}

static void test_value_bound(void **state)
{
    VSTRING *data = vstring_alloc(400000);
    VSTRING *why = vstring_alloc(10);
    size_t  len = 0;
    off_t   junk;
    int     fd, i;

    vstring_strcpy(data, FROM "X-IMAPbase: 1 0000000001");
    for (i = 0; i < 50000; i++)
	vstring_strcat(data, " k");
    vstring_strcat(data, "\n\tand more\n\nbody\n");
    fd = memfd(STR(data), LEN(data));
    assert_int_equal(mbox_parse(fd, 0, LEN(data), value_length, &len, &junk, why),
		     (off_t) LEN(data));
    assert_int_equal(len, MBOX_VALUE_MAX);
    close(fd);
    vstring_free(data);
    vstring_free(why);
}

/* Parsing on from a boundary gives what a full parse gives */
static void test_parse_from_offset(void **state)
{
    static const char data[] =
    FROM "S: 1\n\nb\n\n" FROM "S: 2\n\nc\n\n" FROM "S: 3\nX-UID: 9\n\nd\n";
    VSTRING *why = vstring_alloc(10);
    RESULT  full, tail;
    off_t   junk;
    int     fd = memfd(data, sizeof(data) - 1), i;

    PARSE(data, &full, &junk);
    assert_int_equal(full.count, 3);
    memset(&tail, 0, sizeof(tail));
    assert_int_equal(mbox_parse(fd, full.msgs[1].m.offset, sizeof(data) - 1, keep,
				&tail, &junk, why), (off_t) sizeof(data) - 1);
    assert_int_equal(junk, 0);
    assert_int_equal(tail.count, 2);
    for (i = 0; i < 2; i++) {
	assert_int_equal(tail.msgs[i].m.offset, full.msgs[i + 1].m.offset);
	assert_int_equal(tail.msgs[i].m.length, full.msgs[i + 1].m.length);
	assert_int_equal(tail.msgs[i].m.size, full.msgs[i + 1].m.size);
	assert_int_equal(tail.msgs[i].m.vsize, full.msgs[i + 1].m.vsize);
	assert_int_equal(tail.msgs[i].m.content_end, full.msgs[i + 1].m.content_end);
    }
    /* a file shorter than said: parsed up to its end */
    assert_int_equal(mbox_parse(fd, 0, sizeof(data) + 100, keep, &tail, &junk, why),
		     (off_t) sizeof(data) - 1);
    /* a read error */
    close(fd);
    assert_int_equal(mbox_parse(fd, 0, 100, keep, &tail, &junk, why), -1);
    assert_true(LEN(why) > 0);
    vstring_free(why);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_line_kind),
	cmocka_unit_test(test_filter),
	cmocka_unit_test(test_from_date),
	cmocka_unit_test(test_parse_basic),
	cmocka_unit_test(test_parse_odd),
	cmocka_unit_test(test_content_length),
	cmocka_unit_test(test_parse_long_lines),
	cmocka_unit_test(test_value_bound),
	cmocka_unit_test(test_parse_from_offset),
    };

    msg_init("test_mbox_parse", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, 0, 0));
}
