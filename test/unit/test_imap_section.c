/*
 * test_imap_section.c - unit tests for lib/imap/imap_section.c.
 *
 * Section specs that parse and that do not; "<start.length>"; where
 * sections are, and NONE/INVALID; every section of the list in
 * data/mail/dovecot_expect.py for every message in test/unit/data/mail/
 * against Dovecot 2.3's reply (or NAME.posthorn), with the header filter
 * fed in 5-byte pieces and the CRLF conversion in 7-byte pieces; the
 * header filter's rules (continuations, lines without a colon, white
 * space before the colon, no final newline) fed a byte at a time.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_part.h"
#include "imap_section.h"

#include "mail_fixture.h"

static const char *corpus_sections[] = {
    "", "HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "2.HEADER",
    "2.TEXT", "1.1", "1.1.1", "2.1", "2.1.MIME", "2.2", "3", "3.1",
    "3.2.1", "1.2", "4.1.1", "HEADER.FIELDS (SUBJECT FROM CONTENT-TYPE)",
    "HEADER.FIELDS.NOT (SUBJECT X-JUNK)", "2.HEADER.FIELDS (CONTENT-TYPE)",
};

/* fetch - the section's reply bytes (what goes inside the literal) */

static void fetch(const MESSAGE_PART *top, const char *msg, const char *spec,
		          VSTRING *out)
{
    IMAP_SECTION sec;
    IMAP_SECTION_RANGE range;
    VSTRING *why = vstring_alloc(10);
    int     last_cr = 0;

    vstring_reset(out);
    if (imap_section_parse(&sec, spec, strlen(spec), why) < 0)
	fail_msg("%s: %s", spec, STR(why));
    if (imap_section_find(top, &sec, &range) == IMAP_SECTION_FOUND) {
	if (range.filter) {
	    IMAP_HEADER_FILTER *filter = imap_header_filter_create(&sec);

	    for (off_t pos = 0; pos < range.size; pos += 5)
		imap_header_filter_feed(filter, msg + range.offset + pos,
					range.size - pos < 5 ? range.size - pos : 5, out);
	    imap_header_filter_finish(filter, out);
	    imap_header_filter_free(filter);
	} else {
	    for (off_t pos = 0; pos < range.size; pos += 7)
		imap_section_crlf(out, msg + range.offset + pos,
				  range.size - pos < 7 ? range.size - pos : 7, &last_cr);
	    assert_int_equal(LEN(out), range.vsize);
	}
    }
    imap_section_free(&sec);
    vstring_free(why);
}

static void check_sections(const CORPUS_MSG *cm, void *unused)
{
    VSTRING *want = vstring_alloc(1000);
    VSTRING *got = vstring_alloc(1000);
    VSTRING *item = vstring_alloc(100);
    VSTRING *reply = vstring_alloc(1000);

    for (size_t i = 0; i < sizeof(corpus_sections) / sizeof(char *); i++) {
	vstring_sprintf(item, "BODY[%s]", corpus_sections[i]);
	assert_true(expected(cm->path, STR(item), want));
	fetch(cm->top, STR(cm->text), corpus_sections[i], got);
	vstring_sprintf(reply, "{%lu}\r\n", (unsigned long) LEN(got));
	vstring_memcat(reply, STR(got), LEN(got));
	vstring_sprintf_append(item, " of %s", cm->name);
	same_reply(STR(item), reply, want);
    }
    vstring_free(want);
    vstring_free(got);
    vstring_free(item);
    vstring_free(reply);
}

static void test_corpus(void **state)
{
    corpus_check(check_sections, 0);
}

/* parsed - SPEC as "parts/what/fields" */

static void check_parse(const char *spec, const char *want)
{
    IMAP_SECTION sec;
    VSTRING *why = vstring_alloc(10);
    VSTRING *got = vstring_alloc(10);

    if (imap_section_parse(&sec, spec, strlen(spec), why) < 0) {
	vstring_sprintf(got, "BAD");
    } else {
	for (int i = 0; i < sec.part_count; i++)
	    vstring_sprintf_append(got, "%s%u", i ? "." : "", sec.parts[i]);
	vstring_sprintf_append(got, "/%d/", sec.what);
	for (int i = 0; i < sec.field_count; i++)
	    vstring_sprintf_append(got, "%s%s", i ? "," : "", sec.fields[i]);
	imap_section_free(&sec);
    }
    if (strcmp(STR(got), want) != 0)
	fail_msg("<%s>: got <%s> want <%s>", spec, STR(got), want);
    vstring_free(why);
    vstring_free(got);
}

static void test_parse(void **state)
{
    check_parse("", "/0/");
    check_parse("HEADER", "/1/");
    check_parse("text", "/4/");
    check_parse("1", "1/0/");
    check_parse("1.2.MIME", "1.2/5/");
    check_parse("10.20.Header", "10.20/1/");
    check_parse("2.HEADER.FIELDS (From To)", "2/2/From,To");
    check_parse("HEADER.FIELDS.NOT (X-Foo)", "/3/X-Foo");
    check_parse("header.fields  ( \"Sub ject\"  \"a\\\"b\" x] )", "/2/Sub ject,a\"b,x]");
    check_parse("0", "BAD");
    check_parse("01", "BAD");
    check_parse("1.", "BAD");
    check_parse("1..2", "BAD");
    check_parse("1x", "BAD");
    check_parse("MIME", "BAD");
    check_parse("HEADER.FIELDS", "BAD");
    check_parse("HEADER.FIELDS ()", "BAD");
    check_parse("HEADER.FIELDS (a", "BAD");
    check_parse("HEADER.FIELDS (a) x", "BAD");
    check_parse("HEADER.FIELDS(a)", "BAD");
    check_parse("HEADER.FIELDS (a{3})", "BAD");
    check_parse("HEADER.FIELDS (\"a)", "BAD");
    check_parse("1.TEXT.x", "BAD");
    check_parse("TEXT ", "BAD");
    check_parse("FOO", "BAD");
}

static void test_partial(void **state)
{
    off_t   start, length;

    assert_int_equal(imap_section_parse_partial("<0.10>", 6, &start, &length), 0);
    assert_int_equal(start, 0);
    assert_int_equal(length, 10);
    assert_int_equal(imap_section_parse_partial("<123.4567>", 10, &start, &length), 0);
    assert_int_equal(start, 123);
    assert_int_equal(length, 4567);
    assert_int_equal(imap_section_parse_partial("<0.0>", 5, &start, &length), -1);
    assert_int_equal(imap_section_parse_partial("<a.1>", 5, &start, &length), -1);
    assert_int_equal(imap_section_parse_partial("<1>", 3, &start, &length), -1);
    assert_int_equal(imap_section_parse_partial("<1.2", 4, &start, &length), -1);
    assert_int_equal(imap_section_parse_partial("<1.>", 4, &start, &length), -1);
    assert_int_equal(imap_section_parse_partial("<99999999999999999999.1>", 24,
						&start, &length), -1);
}

static void test_find(void **state)
{
    const char *msg = "Content-Type: multipart/mixed; boundary=b\n\n"
	"--b\n\none\n--b\nContent-Type: message/rfc822\n\nSubject: s\n\ntwo\n--b--\n";
    MESSAGE_PART *top = parse(msg, strlen(msg));
    static const struct {
	const char *spec;
	int     ret;
	off_t   offset, size;
    }       cases[] = {
	{"", IMAP_SECTION_FOUND, 0, 108},
	{"HEADER", IMAP_SECTION_FOUND, 0, 43},
	{"TEXT", IMAP_SECTION_FOUND, 43, 65},
	{"1", IMAP_SECTION_FOUND, 48, 3},
	{"1.MIME", IMAP_SECTION_FOUND, 47, 1},
	{"2", IMAP_SECTION_FOUND, 86, 15},
	{"2.MIME", IMAP_SECTION_FOUND, 56, 30},
	{"2.HEADER", IMAP_SECTION_FOUND, 86, 12},
	{"2.TEXT", IMAP_SECTION_FOUND, 98, 3},
	{"2.1", IMAP_SECTION_FOUND, 98, 3},
	{"1.HEADER", IMAP_SECTION_INVALID, 0, 0},
	{"1.TEXT", IMAP_SECTION_INVALID, 0, 0},
	{"2.1.HEADER", IMAP_SECTION_INVALID, 0, 0},
	{"3", IMAP_SECTION_NONE, 0, 0},
	{"3.MIME", IMAP_SECTION_NONE, 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	IMAP_SECTION sec;
	IMAP_SECTION_RANGE range;
	VSTRING *why = vstring_alloc(10);
	int     ret;

	assert_int_equal(imap_section_parse(&sec, cases[i].spec,
					    strlen(cases[i].spec), why), 0);
	ret = imap_section_find(top, &sec, &range);
	if (ret != cases[i].ret || (ret == IMAP_SECTION_FOUND
				    && (range.offset != cases[i].offset
					|| range.size != cases[i].size)))
	    fail_msg("%s: got %d %ld+%ld", cases[i].spec, ret,
		     (long) range.offset, (long) range.size);
	imap_section_free(&sec);
	vstring_free(why);
    }
    message_part_free(top);
}

static void check_filter(const char *spec, const char *header, const char *want)
{
    IMAP_SECTION sec;
    VSTRING *why = vstring_alloc(10);
    VSTRING *whole = vstring_alloc(10);
    VSTRING *bytes = vstring_alloc(10);
    IMAP_HEADER_FILTER *filter;

    assert_int_equal(imap_section_parse(&sec, spec, strlen(spec), why), 0);
    filter = imap_header_filter_create(&sec);
    imap_header_filter_feed(filter, header, strlen(header), whole);
    imap_header_filter_finish(filter, whole);
    imap_header_filter_free(filter);
    filter = imap_header_filter_create(&sec);
    for (size_t i = 0; header[i]; i++)
	imap_header_filter_feed(filter, header + i, 1, bytes);
    imap_header_filter_finish(filter, bytes);
    imap_header_filter_free(filter);
    if (strcmp(STR(whole), want) != 0 || strcmp(STR(bytes), want) != 0)
	fail_msg("%s: got <%s> / <%s> want <%s>", spec, STR(whole), STR(bytes), want);
    imap_section_free(&sec);
    vstring_free(why);
    vstring_free(whole);
    vstring_free(bytes);
}

static void test_filter(void **state)
{
    const char *hdr = "From: a@b\nTo: c@d\nSubject: s\nto: second\n"
	"X-Long: a\n  b\nSubject : spaced\nnocolon line\n continued\n\nbody: no\n";

    check_filter("HEADER.FIELDS (TO x-long)", hdr,
		 "To: c@d\r\nto: second\r\nX-Long: a\r\n  b\r\n\r\n");
    check_filter("HEADER.FIELDS (subject)", hdr,
		 "Subject: s\r\nSubject : spaced\r\n\r\n");
    check_filter("HEADER.FIELDS.NOT (to x-long subject)", hdr,
		 "From: a@b\r\nnocolon line\r\n continued\r\n\r\n");
    check_filter("HEADER.FIELDS (\"nocolon line\")", hdr, "\r\n");
    check_filter("HEADER.FIELDS (nothere)", hdr, "\r\n");
    check_filter("HEADER.FIELDS (a)", "A: 1\r\nB: 2\r\n\r\n", "A: 1\r\n\r\n");
    check_filter("HEADER.FIELDS (a)", "A: no newline", "A: no newline\r\n\r\n");
    check_filter("HEADER.FIELDS.NOT (a)", "B", "B\r\n\r\n");
    check_filter("HEADER.FIELDS (a)", " A: starts with space\nA: x\n", "A: x\r\n\r\n");
    check_filter("HEADER.FIELDS (a)", "A: cr\ralone\r\n", "A: cr\ralone\r\n\r\n");
    check_filter("HEADER.FIELDS.NOT (a)", "\rB: x\n\r\nC: y\n", "\rB: x\r\n\r\n");
}

static void test_crlf(void **state)
{
    VSTRING *out = vstring_alloc(10);
    int     last_cr = 0;

    imap_section_crlf(out, "a\nb\r", 4, &last_cr);
    imap_section_crlf(out, "\nc\r", 3, &last_cr);
    imap_section_crlf(out, "d\n", 2, &last_cr);
    assert_string_equal(STR(out), "a\r\nb\r\nc\rd\r\n");
    vstring_free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_corpus),
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_partial),
	cmocka_unit_test(test_find),
	cmocka_unit_test(test_filter),
	cmocka_unit_test(test_crlf),
    };

    return (cmocka_run_group_tests_name("imap_section", tests, 0, 0));
}
