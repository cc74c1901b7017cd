/*
 * test_dict_rules.c - unit tests for lib/tables/dict_rules.c, the part
 * that pcre:, regexp: and cidr: share.
 *
 * A fake engine stands in for a regex library: a "pattern" matches a
 * key that starts with it, and group 1 is the rest of the key (group 2
 * never takes part).  So the tests see the shared code alone: the rule
 * syntax and its warnings (with the engine's own wording), $n, ${n},
 * $(n) and $$ in results, IF/ENDIF nesting and jumps, an IF without
 * ENDIF, an engine whose setup fails, and a file that cannot be read.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict.h"
#include "dict_rules.h"
#include "dict_fixture.h"

#define FAKE_UPPER	1		/* option "u": the key must be upper case */

static int fake_ready_status;

static int fake_flag(DICT_RULES *dr, int lineno, int ch, unsigned *options)
{
    (void) dr;
    (void) lineno;
    if (ch != 'u')
	return (0);
    *options ^= FAKE_UPPER;
    return (1);
}

static void *fake_compile(DICT_RULES *dr, int lineno, const char *regex,
			          unsigned options, int need_sub, int *nsub)
{
    VSTRING *pat = vstring_alloc(10);

    (void) need_sub;
    if (*regex == '(') {
	dict_rules_warn(dr, lineno, "fake error: %s", regex);
	vstring_free(pat);
	return (0);
    }
    vstring_addch(pat, (options & FAKE_UPPER) ? 'U' : '-');
    vstring_strcat(pat, regex);
    *nsub = 2;
    return (vstring_export(pat));
}

static int fake_exec(DICT_RULES *dr, const DICT_RULE *rule, const void *pattern,
		             const void *subject, DICT_RULE_GROUP *groups, int ngroups)
{
    const char *pat = pattern;
    const char *key = subject;
    size_t  len = strlen(pat + 1);

    (void) dr;
    (void) rule;
    if (strncmp(key, pat + 1, len) != 0)
	return (0);
    if (pat[0] == 'U' && strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < len)
	return (0);
    for (int n = 0; n < ngroups; n++) {
	groups[n].start = n == 0 ? 0 : n == 1 ? (long) len : -1;
	groups[n].end = n == 2 ? -1 : (long) strlen(key);
    }
    return (1);
}

static int fake_ready(DICT_RULES *dr)
{
    (void) dr;
    return (fake_ready_status);
}

static const DICT_RULES_ENGINE fake_engine = {
    .kind = "fake",
    .parse = dict_rules_parse_regex,
    .exec = fake_exec,
    .free_pattern = myfree,
    .ready = fake_ready,
    .flag = fake_flag,
    .compile = fake_compile,
    .delim_action = "dropping",
    .range_word = "out-of-range",
};

/* open_fake - write TEXT to NAME and open it with the fake engine */

static DICT *open_fake(const char *name, const char *text)
{
    const char *path = fixture_write(name, text, strlen(text));

    log_forget();
    return (dict_rules_open("fake", path, 0, &fake_engine, sizeof(DICT_RULES)));
}

static int setup(void **state)
{
    (void) state;
    return (fixture_setup("test_dict_rules"));
}

static int teardown(void **state)
{
    (void) state;
    return (fixture_teardown());
}

static void test_results(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_fake("results",
		     "/sub-/ [$1] [${1}] [$(1)] [$2] $$1\n"
		     "/lit-/ costs $$5 and $${x}\n"
		     "/up-/u upper only\n"
		     "/UP-/ upper case key\n"
		     "!/neg-/ not neg\n");
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "sub-abc"), "[abc] [abc] [abc] [] $1");
    assert_string_equal(dict_lookup(dict, "lit-x"), "costs $5 and ${x}");
    assert_string_equal(dict_lookup(dict, "UP-X"), "upper case key");
    assert_string_equal(dict_lookup(dict, "up-x"), "not neg");	/* "u": upper case only */
    assert_null(dict_lookup(dict, "neg-x"));
    dict_close(dict);
}

static void test_syntax_errors(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_fake("syntax",
		     "/a/!/b/ second pattern not allowed here\n"
		     "/c unclosed\n"
		     "/(x/ compile error\n"
		     "/d/z unknown flag\n"
		     "/e/ $3 too big\n"
		     "/f/ ${0}\n"
		     "/ok/ good\n");
    assert_true(log_has("fake map "));
    assert_true(log_has("/syntax, line 1: unknown regexp option \"!\": skipping this rule"));
    assert_true(log_has(", line 2: no closing regexp delimiter \"/\": dropping this rule"));
    assert_true(log_has(", line 3: fake error: (x"));
    assert_true(log_has(", line 4: unknown regexp option \"z\""));
    assert_true(log_has(", line 5: out of range replacement index \"3\": skipping this rule"));
    assert_true(log_has(", line 6: out-of-range replacement index \"0\""));
    assert_string_equal(dict_lookup(dict, "ok"), "good");
    assert_null(dict_lookup(dict, "a"));
    assert_null(dict_lookup(dict, "e"));
    dict_close(dict);
}

static void test_nesting(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_fake("nesting",
		     "if /a/\n"
		     "if /ab/\n"
		     "if !/abc/\n"
		     "/ab/ ab but not abc\n"
		     "endif\n"
		     "/abc/ abc\n"
		     "endif\n"
		     "/a/ a\n"
		     "endif\n"
		     "// anything\n");
    assert_int_equal(dict->error, 0);
    assert_false(log_has("fake map"));
    assert_string_equal(dict_lookup(dict, "abd"), "ab but not abc");
    assert_string_equal(dict_lookup(dict, "abcd"), "abc");
    assert_string_equal(dict_lookup(dict, "ax"), "a");
    assert_string_equal(dict_lookup(dict, "x"), "anything");
    dict_close(dict);
}

static void test_if_without_endif(void **state)
{
    DICT   *dict;

    (void) state;
    dict = open_fake("open-if", "/x/ x\nif /a/\n/ab/ ab\n// rest\n");
    assert_true(log_has(", line 2: IF has no matching ENDIF"));
    assert_string_equal(dict_lookup(dict, "x"), "x");
    assert_string_equal(dict_lookup(dict, "ab"), "ab");
    assert_string_equal(dict_lookup(dict, "az"), "rest");
    assert_null(dict_lookup(dict, "b"));		/* the IF failed: the end */
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_open_failures(void **state)
{
    DICT   *dict;

    (void) state;
    /* a directory opens, but reading it fails: the table cannot answer */
    log_forget();
    dict = dict_rules_open("fake", fixture_dir, 0, &fake_engine, sizeof(DICT_RULES));
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("read "));
    assert_null(dict_lookup(dict, "x"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    /* the engine's setup fails */
    fake_ready_status = -1;
    dict = open_fake("ready", "/x/ x\n");
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "x"));
    dict_close(dict);
    fake_ready_status = 0;
}

static void test_keyword(void **state)
{
    (void) state;
    assert_true(dict_rules_keyword("if /x/", "if"));
    assert_true(dict_rules_keyword("IF", "if"));
    assert_true(dict_rules_keyword("If!/x/", "if"));
    assert_false(dict_rules_keyword("ifx", "if"));
    assert_false(dict_rules_keyword("i", "if"));
    assert_true(dict_rules_keyword("endif  ", "endif"));
    assert_false(dict_rules_keyword("endif2", "endif"));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_results),
	cmocka_unit_test(test_syntax_errors),
	cmocka_unit_test(test_nesting),
	cmocka_unit_test(test_if_without_endif),
	cmocka_unit_test(test_open_failures),
	cmocka_unit_test(test_keyword),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
