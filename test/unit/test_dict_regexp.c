/*
 * test_dict_regexp.c - unit tests for lib/tables/dict_regexp.c (regexp:
 * tables, POSIX regular expressions).
 *
 * Each test writes a pattern file into a private directory and looks
 * keys up: every rule form (negation, "/a/!/b/", other delimiters), the
 * flags i, x and m, $n substitution, if/endif nesting, and bad input:
 * bad regexes, bad substitutions, unknown flags, unbalanced if/endif,
 * over-long lines, binary junk and a file cut off mid-line.  Each bad
 * line is warned about with Postfix's wording ("regexp map FILE, line
 * N: ...") and the good lines still work.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_fixture.h"

#define OPEN_REGEXP(name, text) FIXTURE_OPEN("regexp", (name), (text), 0)

static int setup(void **state)
{
    (void) state;
    return (fixture_setup("test_dict_regexp"));
}

static int teardown(void **state)
{
    (void) state;
    return (fixture_teardown());
}

static void test_rule_forms(void **state)
{
    static const char text[] =
	"# header_checks, as admins write them\n"
	"/^Subject: .*viagra/\t\tREJECT spam subject\n"
	"/^Received: from ([^ ]+) \\(([^)]*)\\)/  WARN relay $1 said ${2}\n"
	"!/^(From|To|Subject|Date|Received|X-[A-Za-z-]+):/ IGNORE\n"
	"#/^Subject: commented out/ never\n"
	"/^X-Mailer: (Mass)(Mailer)?/  HOLD from $(1)[$2]\n"
	"/^X-Price: /  PREPEND X-Note: costs $$10\n"
	"/^X-Long: start/  REPLACE X-Long: first\n"
	"\t and then more\n"
	"/^X-Empty:/\n"
	"#/^X-Escaped:/ the delimiter inside, escaped:\n"
	"/^X-Path: \\/usr\\/bin/ escaped slash\n"
	"@^X-At: a/b@  other delimiter\n"
	"/^X-Spam-/!/^X-Spam-Status: No/ DISCARD spam flagged\n"
	"/^X-.*/ DUNNO any other X- header\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_REGEXP("forms", text);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "Subject: cheap VIAGRA now"), "REJECT spam subject");
    assert_string_equal(dict_lookup(dict, "Received: from mx.example (mx.example [192.0.2.1])"),
			"WARN relay mx.example said mx.example [192.0.2.1]");
    assert_string_equal(dict_lookup(dict, "Cc: someone"), "IGNORE");
    assert_string_equal(dict_lookup(dict, "X-Mailer: MassMailer 2.0"), "HOLD from Mass[Mailer]");
    /* a group that took no part in the match gives nothing */
    assert_string_equal(dict_lookup(dict, "X-Mailer: Mass 1.0"), "HOLD from Mass[]");
    assert_string_equal(dict_lookup(dict, "X-Price: 5"), "PREPEND X-Note: costs $10");
    assert_string_equal(dict_lookup(dict, "X-Long: start"), "REPLACE X-Long: first\t and then more");
    assert_string_equal(dict_lookup(dict, "X-Empty: yes"), "");
    assert_true(log_has("regexp map "));
    assert_true(log_has(", line 10: no replacement text: using empty string"));
    assert_string_equal(dict_lookup(dict, "X-Path: /usr/bin/env"), "escaped slash");
    assert_string_equal(dict_lookup(dict, "X-At: a/b"), "other delimiter");
    assert_string_equal(dict_lookup(dict, "X-Spam-Flag: YES"), "DISCARD spam flagged");
    assert_string_equal(dict_lookup(dict, "X-Spam-Status: No, score=0"), "DUNNO any other X- header");
    assert_null(dict_lookup(dict, "Subject: hello"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_flags(void **state)
{
    static const char text[] =
	"/^CaseSensitive$/i exact case\n"
	"/^anyCASE$/ any case\n"
	"/^ab+c$/x basic: + is literal\n"
	"/^d(e)f$/x basic groups need backslashes $1\n"
	"/^g\\(h\\)i$/x basic group $1\n"
	"/^line2$/m multi-line\n"
	"/^line5$/ not multi-line\n"
	"/^one.two$/ dot matches newline by default\n"
	"/^three.four$/m dot does not match newline with m\n"
	"/^mixed$/ix both flags\n"
	"/^unknown$/s unknown flag\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_REGEXP("flags", text);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "CaseSensitive"), "exact case");
    assert_null(dict_lookup(dict, "casesensitive"));
    assert_string_equal(dict_lookup(dict, "ANYcase"), "any case");
    assert_string_equal(dict_lookup(dict, "ab+c"), "basic: + is literal");
    assert_null(dict_lookup(dict, "abbc"));
    assert_true(log_has(", line 4: out of range replacement index \"1\": skipping this rule"));
    assert_string_equal(dict_lookup(dict, "ghi"), "basic group h");
    assert_string_equal(dict_lookup(dict, "line1\nline2\nline3"), "multi-line");
    assert_null(dict_lookup(dict, "line4\nline5\nline6"));
    assert_string_equal(dict_lookup(dict, "one\ntwo"), "dot matches newline by default");
    assert_null(dict_lookup(dict, "three\nfour"));
    assert_string_equal(dict_lookup(dict, "three-four"), "dot does not match newline with m");
    assert_string_equal(dict_lookup(dict, "mixed"), "both flags");
    assert_null(dict_lookup(dict, "MIXED"));
    assert_null(dict_lookup(dict, "unknown"));
    assert_true(log_has(", line 11: unknown regexp option \"s\": skipping this rule"));
    dict_close(dict);
}

static void test_if_endif(void **state)
{
    static const char text[] =
	"IF /^Received:/\n"
	"/[[]127\\.0\\.0\\.1[]]/ DUNNO local\n"
	"if !/ by mx[0-9]\\.example\\.net /\n"
	"/ from ([^ ]+) / WARN foreign hop $1\n"
	"endif\n"
	"/ by (mx[0-9])\\./ INFO own hop $1\n"
	"endif\n"
	"if /^Subject:/\n"
	"if /urgent/\n"
	"/money/ REJECT urgent money\n"
	"EndIf and some words\n"
	"/./ DUNNO other subject\n"
	"endif\n"
	"if /^Content-Type:/ junk after the pattern\n"
	"/multipart/ DUNNO multipart\n"
	"endif\n"
	"/.*/ OK fallback\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_REGEXP("ifs", text);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "Received: from x ([127.0.0.1]) by y"), "DUNNO local");
    assert_string_equal(dict_lookup(dict, "Received: from a.example by b.example id 1"),
			"WARN foreign hop a.example");
    assert_string_equal(dict_lookup(dict, "Received: from a.example by mx2.example.net id 1"),
			"INFO own hop mx2");
    assert_string_equal(dict_lookup(dict, "Subject: urgent: money!"), "REJECT urgent money");
    assert_string_equal(dict_lookup(dict, "Subject: urgent call"), "DUNNO other subject");
    assert_string_equal(dict_lookup(dict, "Content-Type: multipart/mixed"), "DUNNO multipart");
    assert_string_equal(dict_lookup(dict, "Content-Type: text/plain"), "OK fallback");
    assert_string_equal(dict_lookup(dict, "Date: today"), "OK fallback");
    assert_true(log_has(", line 11: ignoring extra text after ENDIF"));
    assert_true(log_has(", line 14: ignoring extra text after IF statement: \"junk after the pattern\""));
    assert_true(log_has(", line 14: do not prepend whitespace to statements between IF and ENDIF"));
    dict_close(dict);
    /* an indented "if" continues the line before it, as in Postfix */
    dict = OPEN_REGEXP("indented", "if /^a/\n/^ab/ AB\n  if /^abc/\n/^abcd/ ABCD\nendif\nendif\n");
    assert_string_equal(dict_lookup(dict, "ab"), "AB  if /^abc/");
    assert_string_equal(dict_lookup(dict, "abcd"), "AB  if /^abc/");
    assert_true(log_has(", line 6: ignoring ENDIF without matching IF"));
    dict_close(dict);
}

static void test_unbalanced(void **state)
{
    static const char text[] =
	"endif\n"
	"/^a$/ A\n"
	"if /^b/\n"
	"if /^bb/\n"
	"/^bbb$/ BBB\n"
	"endif\n"
	"/^bc$/ BC\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_REGEXP("unbalanced", text);
    assert_int_equal(dict->error, 0);
    assert_true(log_has(", line 1: ignoring ENDIF without matching IF"));
    assert_true(log_has(", line 3: IF has no matching ENDIF"));
    assert_false(log_has(", line 4: IF has no matching ENDIF"));
    assert_string_equal(dict_lookup(dict, "a"), "A");
    assert_string_equal(dict_lookup(dict, "bbb"), "BBB");
    assert_string_equal(dict_lookup(dict, "bc"), "BC");
    /* a failed IF without ENDIF ends the lookup, as Postfix */
    assert_null(dict_lookup(dict, "c"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_bad_rules(void **state)
{
    static const char text[] =
	"/^Subject: fine/ OK first\n"
	"/^Subject: (broken/ REJECT bad regex\n"
	"/^From: fine/ OK second\n"
	"/^To: never closed\n"
	"!/^Cc: (.*)/ REJECT not cc $1\n"
	"/^X-A: (a)/ REJECT $2 beyond the groups\n"
	"/^X-B: (b)/ REJECT ${0} is not a group\n"
	"/^X-C: (c)/ REJECT $first is a name\n"
	"/^X-D: (d)/ REJECT a $ alone\n"
	"/^X-E: (e)/ REJECT $(1 not closed\n"
	"reject everything\n"
	"!!\n"
	"if /^X-F: a{3,2}/\n"
	"endif\n"
	"/^Date: fine/ OK third\n"
	"/^X-G: [[:notaclass:]]/ REJECT bad class\n"
	"/^X-H:/!/(unclosed/ REJECT bad second pattern\n"
	"/^X-I:/!/b/z REJECT bad second flag\n"
	"/^Sender: fine/ OK fourth\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_REGEXP("bad", text);
    assert_int_equal(dict->error, 0);
    assert_true(log_has("/bad, line 2: Unmatched ( or \\("));
    assert_true(log_has(", line 4: no closing regexp delimiter \"/\": skipping this rule"));
    assert_true(log_has(", line 5: $number found in negative match replacement text"));
    assert_true(log_has(", line 6: out of range replacement index \"2\": skipping this rule"));
    assert_true(log_has(", line 7: out-of-range replacement index \"0\""));
    assert_true(log_has(", line 7: bad replacement syntax: skipping this rule"));
    assert_true(log_has(", line 8: non-numeric replacement index \"first\""));
    assert_true(log_has(", line 9: empty replacement index"));
    assert_true(log_has(", line 10: truncated macro reference"));
    assert_true(log_has(", line 11: ignoring unrecognized request"));
    assert_true(log_has(", line 12: no regexp: skipping this rule"));
    assert_true(log_has(", line 13: Invalid content of \\{\\}"));
    assert_true(log_has(", line 14: ignoring ENDIF without matching IF"));
    assert_true(log_has(", line 16: Invalid character class name"));
    assert_true(log_has(", line 17: Unmatched ( or \\("));
    assert_true(log_has(", line 18: unknown regexp option \"z\": skipping this rule"));
    assert_string_equal(dict_lookup(dict, "Subject: fine"), "OK first");
    assert_string_equal(dict_lookup(dict, "From: fine"), "OK second");
    assert_string_equal(dict_lookup(dict, "Date: fine"), "OK third");
    assert_string_equal(dict_lookup(dict, "Sender: fine"), "OK fourth");
    assert_null(dict_lookup(dict, "X-A: a"));
    assert_null(dict_lookup(dict, "X-H: h"));
    assert_null(dict_lookup(dict, "Reply-To: x"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_trailing_backslash(void **state)
{
    static const char text[] = "/abc\\\n/^x$/ X\n";
    DICT   *dict;

    (void) state;
    /* as Postfix's regexp (not pcre): a lone backslash ends the pattern */
    dict = OPEN_REGEXP("backslash", text);
    assert_string_equal(dict_lookup(dict, "abc"), "");
    assert_string_equal(dict_lookup(dict, "x"), "X");
    dict_close(dict);
}

static void test_long_lines(void **state)
{
    size_t  big = 1024 * 1024 + 100;
    VSTRING *text = vstring_alloc(big + 200);
    DICT   *dict;

    (void) state;
    vstring_strcat(text, "/^before$/ before\n/^long$/ ");
    for (size_t i = 0; i < big; i++)
	vstring_addch(text, 'x');
    vstring_strcat(text, "\n/^joined$/ start\n");
    for (int i = 0; i < 20; i++) {		/* a logical line over the limit */
	vstring_strcat(text, " ");
	for (size_t j = 0; j < big / 16; j++)
	    vstring_addch(text, 'y');
	vstring_strcat(text, "\n");
    }
    vstring_strcat(text, "/^after$/ after\n");
    dict = fixture_open("regexp", "long", STR(text), LEN(text), 0);
    assert_int_equal(dict->error, 0);
    assert_true(log_has(", line 2: line too long (more than 1048576 bytes) -- ignoring this line"));
    assert_true(log_has(", line 3: logical line too long"));
    assert_string_equal(dict_lookup(dict, "before"), "before");
    assert_string_equal(dict_lookup(dict, "after"), "after");
    assert_null(dict_lookup(dict, "long"));
    assert_null(dict_lookup(dict, "joined"));
    dict_close(dict);
    vstring_free(text);
}

static void test_binary_junk(void **state)
{
    static const char text[] =
	"\xfe\xff\x00\x01 a byte-order mark and a NUL\n"
	"/^X-Ok:/ still read\n"
	"/^X-Cut: before\0after the NUL/ lost\n"
	"\x7f^del$\x7f DEL as delimiter\n"
	"/^X-Utf8: \xe2\x82\xac/ euro sign\n"
	"\t\n"
	"/^X-Last:/ the file stops mid-li";
    DICT   *dict;

    (void) state;
    dict = OPEN_REGEXP("junk", text);
    assert_int_equal(dict->error, 0);
    assert_true(log_has(", line 1: no closing regexp delimiter"));
    assert_true(log_has(", line 3: no closing regexp delimiter \"/\""));
    assert_string_equal(dict_lookup(dict, "X-Ok: 1"), "still read");
    assert_string_equal(dict_lookup(dict, "del"), "DEL as delimiter");
    assert_string_equal(dict_lookup(dict, "X-Utf8: \xe2\x82\xac 5"), "euro sign");
    assert_string_equal(dict_lookup(dict, "X-Last: 1"), "the file stops mid-li");
    assert_null(dict_lookup(dict, "X-Cut: before"));
    assert_null(dict_lookup(dict, "\xc3\x28 invalid UTF-8"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_missing_and_empty(void **state)
{
    DICT   *dict;

    (void) state;
    /* a table that is not there answers with an error, every time */
    log_forget();
    dict = dict_open("regexp:/nonexistent/header_checks", 0);
    assert_true(log_has("open database /nonexistent/header_checks: No such file"));
    for (int i = 0; i < 2; i++) {
	assert_null(dict_lookup(dict, "Subject: x"));
	assert_int_not_equal(dict->error, 0);
    }
    dict_close(dict);
    /* regexp: tables are never written, not even to build them */
    dict = dict_open3("regexp:/nonexistent/header_checks", O_RDWR | O_CREAT, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), -1);
    /* comments only: an empty table, no error */
    dict = FIXTURE_OPEN("regexp", "comments", "# nothing\n\n   \n#/x/ y\n", 0);
    assert_int_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "x"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_no_folding(void **state)
{
    static const char text[] = "/^X-Upper: YES$/i upper only\n";
    DICT   *dict;

    (void) state;
    /* DICT_FLAG_FOLD_KEY is ignored: the flags of each pattern decide */
    dict = FIXTURE_OPEN("regexp", "fold", text, DICT_FLAG_FOLD_KEY);
    assert_string_equal(dict_lookup(dict, "X-Upper: YES"), "upper only");
    assert_null(dict_lookup(dict, "x-upper: yes"));
    dict_close(dict);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rule_forms),
	cmocka_unit_test(test_flags),
	cmocka_unit_test(test_if_endif),
	cmocka_unit_test(test_unbalanced),
	cmocka_unit_test(test_bad_rules),
	cmocka_unit_test(test_trailing_backslash),
	cmocka_unit_test(test_long_lines),
	cmocka_unit_test(test_binary_junk),
	cmocka_unit_test(test_missing_and_empty),
	cmocka_unit_test(test_no_folding),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
