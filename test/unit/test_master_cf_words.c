/*
 * test_master_cf_words.c - unit tests for the text view of master.cf
 * (lib/global/master_cf_words.c): logical entries, words with "{...}",
 * normalized command options, Postfix postconf's column checks, and the
 * word list edits; bad input: over-long lines, unbalanced braces, a file
 * cut off in the middle of an entry, text that continues no entry.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

/* entries - every logical entry of TEXT as "FIRST:text|" */

static char *entries(const char *text)
{
    VSTRING *out = vstring_alloc(100);
    VSTRING *entry = vstring_alloc(100);
    const char *cursor = text;
    int     lineno = 0;
    int     first;

    while (master_cf_entry(&cursor, "master.cf", &lineno, entry, &first))
	vstring_sprintf_append(out, "%d:%s|", first, STR(entry));
    vstring_free(entry);
    return (vstring_export(out));
}

static void expect_entries(const char *text, const char *want)
{
    char   *got = entries(text);

    assert_string_equal(got, want);
    myfree(got);
}

static void test_entries(void **state)
{
    expect_entries("", "");
    expect_entries("# only a comment\n\n   \n", "");
    expect_entries("a unix\n  b\n# c\n\n\tc\nd inet\n", "1:a unix  b\tc|6:d inet|");
    /* a file cut off in the middle of an entry */
    expect_entries("a unix - - -\n  - - x", "1:a unix - - -  - - x|");
    /* text that continues no entry is skipped (and warned about) */
    expect_entries("  orphan\n  more\nx unix\n", "3:x unix|");
    expect_entries("\n\n  orphan only\n", "");
    expect_entries("a\r\nb\n", "1:a\r|2:b|");
}

/* words - the words of TEXT, normalized when NORM, as "w1|w2|..." */

static char *words(const char *text, int norm)
{
    MASTER_CF_WORDS *w = master_cf_words(text);
    VSTRING *out = vstring_alloc(100);
    int     i;

    if (norm)
	master_cf_words_normalize(w);
    for (i = 0; i < w->argc; i++)
	vstring_sprintf_append(out, "%s|", w->argv[i]);
    assert_null(w->argv[w->argc]);
    master_cf_words_free(w);
    return (vstring_export(out));
}

static void expect_words(const char *text, int norm, const char *want)
{
    char   *got = words(text, norm);

    assert_string_equal(got, want);
    myfree(got);
}

#define FIELDS "s unix - - - - - cmd "
#define F_OUT "s|unix|-|-|-|-|-|cmd|"

static void test_split(void **state)
{
    expect_words("", 0, "");
    expect_words("  a \t b\r\n c  ", 0, "a|b|c|");
    expect_words("a {b c} d{e f}g {x {y z} w}", 0, "a|{b c}|d{e f}g|{x {y z} w}|");
    /* an unbalanced brace runs to the end */
    expect_words("a {b c d", 0, "a|{b c d|");
    expect_words("a } b", 0, "a|}|b|");
}

static void test_normalize(void **state)
{
    expect_words(FIELDS "-o a=b", 1, F_OUT "-o|a=b|");
    expect_words(FIELDS "-oa=b", 1, F_OUT "-o|a=b|");
    expect_words(FIELDS "-vo a=b -D", 1, F_OUT "-v|-o|a=b|-D|");
    expect_words(FIELDS "-vDoa=b", 1, F_OUT "-vD|-o|a=b|");
    expect_words(FIELDS "-o { a = b c }", 1, F_OUT "-o|a=b c|");
    expect_words(FIELDS "-o{ a = b }", 1, F_OUT "-o|a=b|");
    expect_words(FIELDS "-o { no equals }", 1, F_OUT "-o|no equals|");
    expect_words(FIELDS "-o", 1, F_OUT "-o|");
    expect_words(FIELDS "x { a b } {c} -o {d}", 1, F_OUT "x|a b|c|-o|d|");
    expect_words(FIELDS "-o a=b -- -o {c}", 1, F_OUT "-o|a=b|--|-o|c|");
    /* bad groups are warned about and repaired as Postfix does */
    expect_words(FIELDS "-o {a=b", 1, F_OUT "-o|a=b|");
    expect_words(FIELDS "x {abc}d", 1, F_OUT "x|abc|");
    /* the service columns are never touched */
    expect_words("{s} unix - - - - - cmd", 1, "{s}|unix|-|-|-|-|-|cmd|");
}

/* expect_reason - the reason master_cf_words_check() gives for TEXT, or "" */

static void expect_reason(const char *text, const char *want)
{
    MASTER_CF_WORDS *w = master_cf_words(text);
    VSTRING *why = vstring_alloc(10);
    const char *got = master_cf_words_check(w, why);

    assert_string_equal(got ? got : "", want);
    vstring_free(why);
    master_cf_words_free(w);
}

static void test_check(void **state)
{
    expect_reason("smtp inet n - y - - smtpd", "");
    expect_reason("postlog unix-dgram n - n - 1 postlogd", "");
    expect_reason("x fifo y n - 60? 0 x", "");
    expect_reason("x pass - - - -? 10 x", "");
    expect_reason("x unix - - - -", "bad field count");
    expect_reason("x tcp - - - - - x", "invalid type field \"tcp\"");
    expect_reason("x unix yes - - - - x", "invalid private field \"yes\"");
    expect_reason("x unix - Y - - - x", "invalid unprivileged field \"Y\"");
    expect_reason("x unix - - 1 - - x", "invalid chroot field \"1\"");
    expect_reason("x unix - - - 1x - x", "invalid wakeup field \"1x\"");
    expect_reason("x unix - - - ? - x", "");	/* as Postfix: empty digits */
    expect_reason("x unix - - - - -1 x", "invalid process_limit field \"-1\"");
}

static void test_edits(void **state)
{
    MASTER_CF_WORDS *w = master_cf_words("a b c");

    master_cf_words_insert(w, 0, "first");
    master_cf_words_insert(w, w->argc, "last");
    master_cf_words_add(w, "added");
    assert_int_equal(w->argc, 6);
    master_cf_words_replace(w, 1, w->argv[1]);	/* its own text */
    master_cf_words_replace(w, 2, "B");
    master_cf_words_delete(w, 3, 2);
    assert_int_equal(w->argc, 4);
    assert_string_equal(w->argv[0], "first");
    assert_string_equal(w->argv[1], "a");
    assert_string_equal(w->argv[2], "B");
    assert_string_equal(w->argv[3], "added");
    assert_null(w->argv[4]);
    master_cf_words_truncate(w, 1);
    assert_int_equal(w->argc, 1);
    assert_null(w->argv[1]);
    master_cf_words_truncate(w, 5);
    assert_int_equal(w->argc, 1);
    master_cf_words_append_text(w, " x {y z} ");
    assert_int_equal(w->argc, 3);
    assert_string_equal(w->argv[2], "{y z}");
    master_cf_words_free(w);
    master_cf_words_free(0);
}

static void test_field_names(void **state)
{
    int     i;

    for (i = 0; i <= MASTER_CF_FLD_COMMAND; i++)
	assert_int_equal(master_cf_field_code(master_cf_field_name(i)), i);
    assert_string_equal(master_cf_field_name(MASTER_CF_FLD_UNPRIV), "unprivileged");
    assert_string_equal(master_cf_field_name(MASTER_CF_FLD_MAXPROC), "process_limit");
    assert_int_equal(master_cf_field_code("maxproc"), -1);
    assert_int_equal(master_cf_field_code("*"), -1);
    assert_string_equal(master_cf_field_name(99), "(bad field)");
}

static void test_long_lines(void **state)
{
    size_t  len = 1024 * 1024;
    VSTRING *text = vstring_alloc(len + 100);
    MASTER_CF_WORDS *w;
    char   *got;
    size_t  i;

    vstring_strcpy(text, FIELDS "-o x=");
    for (i = 0; i < len; i++)
	vstring_addch(text, 'v');
    vstring_strcat(text, "\n  -o {unclosed ");
    for (i = 0; i < len; i++)
	vstring_addch(text, i % 7 ? 'u' : ' ');
    got = entries(STR(text));
    assert_int_equal(strlen(got), LEN(text) - 1 + 3);	/* "1:" and "|", no '\n' */
    w = master_cf_words(got + 2);
    master_cf_words_normalize(w);
    assert_int_equal(strlen(w->argv[9]), len + 2);
    assert_string_equal(w->argv[10], "-o");
    assert_int_equal(strncmp(w->argv[11], "unclosed ", 9), 0);
    master_cf_words_free(w);
    myfree(got);
    vstring_free(text);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_entries),
	cmocka_unit_test(test_split),
	cmocka_unit_test(test_normalize),
	cmocka_unit_test(test_check),
	cmocka_unit_test(test_edits),
	cmocka_unit_test(test_field_names),
	cmocka_unit_test(test_long_lines),
    };

    msg_init("test_master_cf_words", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, 0, 0));
}
