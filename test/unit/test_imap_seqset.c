/*
 * test_imap_seqset.c - unit tests for lib/imap/imap_seqset.c: parsing of
 * sequence sets (good and bad), "*" and reversed ranges, membership, the
 * message lists for sequence numbers and UIDs, and their cost on big
 * mailboxes and big sets.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "imap_seqset.h"

/* ranges - the parsed set as "lo:hi,..." ("*" for IMAP_SEQ_STAR), or "-1" */

static const char *ranges(const char *text)
{
    static VSTRING *buf;
    IMAP_SEQSET set;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_reset(buf);
    if (imap_seqset_parse(&set, text) < 0) {
	vstring_strcpy(buf, "-1");
    } else {
	for (int i = 0; i < set.count; i++) {
	    IMAP_SEQ_RANGE *r = set.ranges + i;

	    if (i > 0)
		vstring_addch(buf, ',');
	    if (r->lo == IMAP_SEQ_STAR)
		vstring_strcat(buf, "*");
	    else
		vstring_sprintf_append(buf, "%u", r->lo);
	    if (r->hi == IMAP_SEQ_STAR)
		vstring_strcat(buf, ":*");
	    else
		vstring_sprintf_append(buf, ":%u", r->hi);
	}
    }
    imap_seqset_free(&set);
    return (STR(buf));
}

/* list - the numbers written to OUT, as "1 2 3" */

static const char *list(const int *out, int n)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_reset(buf);
    for (int i = 0; i < n; i++)
	vstring_sprintf_append(buf, "%s%d", i ? " " : "", out[i]);
    return (STR(buf));
}

/* seqs - imap_seqset_seqs for TEXT in a mailbox of COUNT, with "bad" */

static const char *seqs(const char *text, int count)
{
    static VSTRING *buf;
    IMAP_SEQSET set;
    int     out[64];
    int     bad = 7;
    int     n;

    assert_true(count <= 64);
    if (buf == 0)
	buf = vstring_alloc(100);
    assert_int_equal(imap_seqset_parse(&set, text), 0);
    n = imap_seqset_seqs(&set, count, out, &bad);
    vstring_sprintf(buf, "%s%s", list(out, n), bad ? " BAD" : "");
    imap_seqset_free(&set);
    return (STR(buf));
}

static const unsigned test_uids[] = {3, 5, 10, 20, 21};

/* uid_seqs - imap_seqset_uid_seqs for TEXT over test_uids */

static const char *uid_seqs(const char *text)
{
    IMAP_SEQSET set;
    int     out[5];
    int     n;

    assert_int_equal(imap_seqset_parse(&set, text), 0);
    n = imap_seqset_uid_seqs(&set, test_uids, 5, out);
    imap_seqset_free(&set);
    return (list(out, n));
}

static void test_parse_good(void **state)
{
    assert_string_equal(ranges("1"), "1:1");
    assert_string_equal(ranges("1:4,7,9:*"), "1:4,7:7,9:*");
    assert_string_equal(ranges("*"), "*:*");
    assert_string_equal(ranges("*:5"), "5:*");
    assert_string_equal(ranges("5:1"), "1:5");
    assert_string_equal(ranges("1:1"), "1:1");
    assert_string_equal(ranges("4294967295"), "4294967295:4294967295");
    assert_string_equal(ranges("1:4294967295"), "1:4294967295");
    assert_string_equal(ranges("2,4:7,9,12:*"), "2:2,4:7,9:9,12:*");
    assert_string_equal(ranges("*:4,5:7"), "4:*,5:7");
    assert_string_equal(ranges("3,3,3"), "3:3,3:3,3:3");
}

static void test_parse_bad(void **state)
{
    static const char *bad[] = {
	"", ",", "1,", ",1", "1,,2", "0", "0:5", "1:0", "01", "1:05",
	"1:", ":1", ":", "a", "1a", "1 2", " 1", "1 ", "4294967296",
	"99999999999999999999", "1:*:2", "1::2", "$", "-1", "+1", "1.5",
	"**", "*1", "1*", "1,*,", "1;2",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	if (strcmp(ranges(bad[i]), "-1") != 0)
	    fail_msg("\"%s\" was accepted", bad[i]);
    {
	IMAP_SEQSET set;

	assert_int_equal(imap_seqset_parse(&set, 0), -1);
	imap_seqset_free(&set);
    }
}

static void test_contains(void **state)
{
    IMAP_SEQSET set;

    assert_int_equal(imap_seqset_parse(&set, "2:4,10,20:*"), 0);
    assert_false(imap_seqset_contains(&set, 1, 100));
    assert_true(imap_seqset_contains(&set, 2, 100));
    assert_true(imap_seqset_contains(&set, 4, 100));
    assert_false(imap_seqset_contains(&set, 5, 100));
    assert_true(imap_seqset_contains(&set, 10, 100));
    assert_true(imap_seqset_contains(&set, 20, 100));
    assert_true(imap_seqset_contains(&set, 100, 100));
    assert_false(imap_seqset_contains(&set, 101, 100));
    /* "20:*" with "*" = 15 is 15:20 */
    assert_true(imap_seqset_contains(&set, 15, 15));
    assert_true(imap_seqset_contains(&set, 20, 15));
    assert_false(imap_seqset_contains(&set, 14, 15));
    assert_false(imap_seqset_contains(&set, 21, 15));
    imap_seqset_free(&set);
    assert_int_equal(imap_seqset_parse(&set, "*"), 0);
    assert_true(imap_seqset_contains(&set, 7, 7));
    assert_false(imap_seqset_contains(&set, 6, 7));
    assert_true(imap_seqset_contains(&set, 0, 0));
    imap_seqset_free(&set);
    assert_int_equal(imap_seqset_parse(&set, "1:4294967295"), 0);
    assert_true(imap_seqset_contains(&set, 4294967295U, 1));
    imap_seqset_free(&set);
}

static void test_seqs(void **state)
{
    assert_string_equal(seqs("1:*", 10), "1 2 3 4 5 6 7 8 9 10");
    assert_string_equal(seqs("*", 10), "10");
    assert_string_equal(seqs("*:8", 10), "8 9 10");
    assert_string_equal(seqs("3,1,2", 10), "1 2 3");
    assert_string_equal(seqs("5:3,4:6,6", 10), "3 4 5 6");
    assert_string_equal(seqs("2,4,3,1:2", 10), "1 2 3 4");
    assert_string_equal(seqs("9,10,1", 10), "1 9 10");
    /* numbers above the message count */
    assert_string_equal(seqs("8:12", 10), "8 9 10 BAD");
    assert_string_equal(seqs("11", 10), " BAD");
    assert_string_equal(seqs("4294967295", 10), " BAD");
    assert_string_equal(seqs("1:4294967295", 3), "1 2 3 BAD");
    assert_string_equal(seqs("12:*", 10), "10 BAD");	/* 10:12 */
    /* an empty mailbox: "*" is 0 */
    assert_string_equal(seqs("*", 0), "");
    assert_string_equal(seqs("1:*", 0), " BAD");
    assert_string_equal(seqs("1", 0), " BAD");
}

static void test_uid_seqs(void **state)
{
    /* UIDs 3 5 10 20 21 are messages 1..5 */
    assert_string_equal(uid_seqs("1:*"), "1 2 3 4 5");
    assert_string_equal(uid_seqs("5:10"), "2 3");
    assert_string_equal(uid_seqs("10:5"), "2 3");
    assert_string_equal(uid_seqs("*"), "5");
    assert_string_equal(uid_seqs("30:*"), "5");	/* "*" is the last one */
    assert_string_equal(uid_seqs("4"), "");
    assert_string_equal(uid_seqs("22:25"), "");
    assert_string_equal(uid_seqs("1:4,21"), "1 5");
    assert_string_equal(uid_seqs("21,3"), "1 5");
    assert_string_equal(uid_seqs("1:5,3:10,10"), "1 2 3");
    assert_string_equal(uid_seqs("20,4294967295,6:9"), "4");
    assert_string_equal(uid_seqs("1:4294967295,2"), "1 2 3 4 5");
    {
	IMAP_SEQSET set;
	int     out[1];

	assert_int_equal(imap_seqset_parse(&set, "1:*"), 0);
	assert_int_equal(imap_seqset_uid_seqs(&set, test_uids, 0, out), 0);
	imap_seqset_free(&set);
    }
}

/* cpu_seconds - process CPU time */

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * Big mailboxes: FETCH 1:* over 100,000 messages and UID FETCH of 50,000
 * single UIDs over 100,000; an O(count * ranges) walk would take seconds.
 */
static void test_big(void **state)
{
    enum {
	COUNT = 100000, RANGES = 50000,
    };
    unsigned *uids = malloc(COUNT * sizeof(*uids));
    int    *out = malloc(COUNT * sizeof(*out));
    VSTRING *text = vstring_alloc(RANGES * 8);
    IMAP_SEQSET set;
    double  start = cpu_seconds();
    int     bad;
    int     n;

    for (int i = 0; i < COUNT; i++)
	uids[i] = 2 * i + 1;			/* 1 3 5 ... */
    assert_int_equal(imap_seqset_parse(&set, "1:*"), 0);
    assert_int_equal(imap_seqset_seqs(&set, COUNT, out, &bad), COUNT);
    assert_int_equal(bad, 0);
    assert_int_equal(out[COUNT - 1], COUNT);
    assert_int_equal(imap_seqset_uid_seqs(&set, uids, COUNT, out), COUNT);
    imap_seqset_free(&set);

    /* UIDs 1,5,9,... as 50,000 ranges, in reverse order: every other message */
    for (int i = RANGES - 1; i >= 0; i--)
	vstring_sprintf_append(text, "%s%u", i < RANGES - 1 ? "," : "", 4 * i + 1);
    assert_int_equal(imap_seqset_parse(&set, STR(text)), 0);
    assert_int_equal(set.count, RANGES);
    n = imap_seqset_uid_seqs(&set, uids, COUNT, out);
    assert_int_equal(n, RANGES);
    for (int i = 0; i < n; i++)
	assert_int_equal(out[i], 2 * i + 1);
    n = imap_seqset_seqs(&set, COUNT, out, &bad);
    assert_int_equal(n, COUNT / 4);		/* 1 5 9 ... 99997 */
    assert_int_equal(out[n - 1], COUNT - 3);
    assert_int_equal(bad, 1);		/* 4 * 49999 + 1 > 100,000 */
    imap_seqset_free(&set);
    assert_true(cpu_seconds() - start < 2.0);
    vstring_free(text);
    free(uids);
    free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_good),
	cmocka_unit_test(test_parse_bad),
	cmocka_unit_test(test_contains),
	cmocka_unit_test(test_seqs),
	cmocka_unit_test(test_uid_seqs),
	cmocka_unit_test(test_big),
    };

    msg_init("test_imap_seqset", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, 0, 0));
}
