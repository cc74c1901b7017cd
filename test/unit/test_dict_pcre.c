/*
 * test_dict_pcre.c - unit tests for lib/tables/dict_pcre.c (pcre: tables).
 *
 * Each test writes a pattern file into a temporary directory and looks
 * keys up: every rule form, the flags, if/endif nesting, $n substitution,
 * negation, bad rules (warned with file and line, the rest still works),
 * a missing file, binary junk and an unbalanced endif.  Warnings go to
 * a log file that the tests read back.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"

static char tmpdir[] = "/tmp/test_dict_pcre.XXXXXX";
static VSTRING *path_buf;
static VSTRING *log_path;

static const char *tmp_path(const char *name)
{
    vstring_sprintf(path_buf, "%s/%s", tmpdir, name);
    return (STR(path_buf));
}

/* open_table - write DATA (LEN bytes) to NAME and open it as pcre: */

static DICT *open_table(const char *name, const char *data, size_t len, int flags)
{
    VSTRING *type_name = vstring_alloc(100);
    FILE   *fp = fopen(tmp_path(name), "w");
    DICT   *dict;

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    vstring_sprintf(type_name, "pcre:%s", tmp_path(name));
    (void) truncate(STR(log_path), 0);
    dict = dict_open(STR(type_name), flags);
    vstring_free(type_name);
    return (dict);
}

#define OPEN_TABLE(name, text, flags) open_table((name), (text), sizeof(text) - 1, (flags))

/* log_has - the warnings logged so far contain TEXT */

static int log_has(const char *text)
{
    FILE   *fp = fopen(STR(log_path), "r");
    char    buf[65536];
    size_t  n;

    if (fp == 0)
	return (0);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return (strstr(buf, text) != 0);
}

static int setup(void **state)
{
    (void) state;
    assert_non_null(mkdtemp(tmpdir));
    path_buf = vstring_alloc(100);
    log_path = vstring_alloc(100);
    vstring_sprintf(log_path, "%s/log", tmpdir);
    msg_init("test_dict_pcre", MSG_TO_STDERR);
    msg_logfile(STR(log_path));
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);

    (void) state;
    vstring_sprintf(cmd, "rm -rf '%s'", tmpdir);
    if (system(STR(cmd)) != 0)
	fprintf(stderr, "cleanup of %s failed\n", tmpdir);
    vstring_free(cmd);
    vstring_free(path_buf);
    vstring_free(log_path);
    return (0);
}

static void test_rule_forms(void **state)
{
    static const char text[] =
	"# access map\n"
	"/^postmaster@/\tOK\n"
	"/[%!@].*[%!@]/   550 Sender-specified routing rejected\n"
	"!/@example\\.com$/ REJECT not ours\n"
	"|^user@example\\.com$|  DUNNO pipe delimiter\n"
	"/^(.*)-outgoing@(.*)$/ 550 Use ${1}@$2 instead\n"
	"/^cost@/ costs $$5 each\n"
	"/^multi@/ first part\n"
	"  continued\n"
	"/^empty@/\n"
	"/a\\/b@/ slash escaped\n"
	"/^.*@example\\.com$/ DEFAULT\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_TABLE("forms", text, DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "postmaster@anywhere.org"), "OK");
    assert_string_equal(dict_lookup(dict, "a%b@example.com"),
			"550 Sender-specified routing rejected");
    assert_string_equal(dict_lookup(dict, "someone@other.net"), "REJECT not ours");
    assert_string_equal(dict_lookup(dict, "user@example.com"), "DUNNO pipe delimiter");
    assert_string_equal(dict_lookup(dict, "list-outgoing@example.com"),
			"550 Use list@example.com instead");
    assert_string_equal(dict_lookup(dict, "cost@example.com"), "costs $5 each");
    assert_string_equal(dict_lookup(dict, "multi@example.com"), "first part  continued");
    assert_string_equal(dict_lookup(dict, "empty@example.com"), "");
    assert_true(log_has(", line 10: no replacement text: using empty string"));
    assert_string_equal(dict_lookup(dict, "a/b@example.com"), "slash escaped");
    assert_string_equal(dict_lookup(dict, "x@example.com"), "DEFAULT");
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_flags(void **state)
{
    static const char text[] =
	"/^CaseSensitive$/i exact case\n"
	"/^anyCASE$/ any case\n"
	"/^line2$/m multi-line\n"
	"/^dot.all$/ dot matches newline by default\n"
	"/^nodot.all$/s dot does not match newline\n"
	"/^ex tended $/x extended\n"
	"/anchored/A anchored\n"
	"/dollar$/E dollar end only\n"
	"/^(a+)/U ungreedy $1\n"
	"/^(b+)/ greedy $1\n"
	"/^obsolete$/X obsolete flag\n"
	"/^unknown$/Q unknown flag\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_TABLE("flags", text, 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "CaseSensitive"), "exact case");
    assert_null(dict_lookup(dict, "casesensitive"));
    assert_string_equal(dict_lookup(dict, "ANYcase"), "any case");
    assert_string_equal(dict_lookup(dict, "line1\nline2\nline3"), "multi-line");
    assert_string_equal(dict_lookup(dict, "dot\nall"), "dot matches newline by default");
    assert_null(dict_lookup(dict, "nodot\nall"));
    assert_string_equal(dict_lookup(dict, "nodotXall"), "dot does not match newline");
    assert_string_equal(dict_lookup(dict, "extended"), "extended");
    assert_string_equal(dict_lookup(dict, "anchored at start"), "anchored");
    assert_null(dict_lookup(dict, "not anchored"));
    assert_string_equal(dict_lookup(dict, "dollar"), "dollar end only");
    assert_null(dict_lookup(dict, "dollar\n"));
    assert_string_equal(dict_lookup(dict, "aaaa"), "ungreedy a");
    assert_string_equal(dict_lookup(dict, "bbbb"), "greedy bbbb");
    assert_string_equal(dict_lookup(dict, "obsolete"), "obsolete flag");
    assert_true(log_has(", line 11: ignoring obsolete regexp option \"X\""));
    assert_null(dict_lookup(dict, "unknown"));
    assert_true(log_has(", line 12: unknown regexp option \"Q\": skipping this rule"));
    dict_close(dict);
}

static void test_if_endif(void **state)
{
    static const char text[] =
	"if /@example\\.com$/\n"
	"/^postmaster@/ OK postmaster\n"
	"if !/^admin/\n"
	"/^(.*)@/ user $1\n"
	"endif\n"
	"/^admin/ admin here\n"
	"ENDIF\n"
	"If /@example\\.org$/\n"
	"/^x@/ org x\n"
	"endif trailing\n"
	"/.*/ fallback\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_TABLE("ifs", text, 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "postmaster@example.com"), "OK postmaster");
    assert_string_equal(dict_lookup(dict, "joe@example.com"), "user joe");
    assert_string_equal(dict_lookup(dict, "admin@example.com"), "admin here");
    assert_string_equal(dict_lookup(dict, "x@example.org"), "org x");
    assert_string_equal(dict_lookup(dict, "postmaster@example.org"), "fallback");
    assert_string_equal(dict_lookup(dict, "admin@example.net"), "fallback");
    assert_true(log_has(", line 10: ignoring extra text after ENDIF"));
    dict_close(dict);
}

static void test_unbalanced(void **state)
{
    static const char text[] =
	"endif\n"
	"/^a$/ A\n"
	"if /^b/\n"
	"/^bb$/ BB\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_TABLE("unbalanced", text, 0);
    assert_int_equal(dict->error, 0);
    assert_true(log_has(", line 1: ignoring ENDIF without matching IF"));
    assert_true(log_has(", line 3: IF has no matching ENDIF"));
    assert_string_equal(dict_lookup(dict, "a"), "A");
    assert_string_equal(dict_lookup(dict, "bb"), "BB");
    /* a failed IF without ENDIF skips the rest of the table */
    assert_null(dict_lookup(dict, "c"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_bad_rules(void **state)
{
    static const char text[] =
	"/^good1$/ one\n"
	"/(unclosed/ bad regex\n"
	"/^good2$/ two\n"
	"/no closing delimiter ok\n"
	"!/^neg(.*)$/ negated $1\n"
	"/^(x)$/ index $2 too big\n"
	"/^(y)$/ index $0 too small\n"
	"/^(z)$/ name $foo\n"
	"/^(w)$/ lone $ sign\n"
	"/^(v)$/ unclosed ${1\n"
	"garbage here\n"
	"!\n"
	"if /(/\n"
	"endif\n"
	"/^good3$/ three\n";
    DICT   *dict;

    (void) state;
    dict = OPEN_TABLE("bad", text, 0);
    assert_int_equal(dict->error, 0);
    assert_true(log_has("pcre map "));
    assert_true(log_has("/bad, line 2: error in regex at offset 9: missing closing parenthesis"));
    assert_true(log_has(", line 4: no closing regexp delimiter \"/\": ignoring this rule"));
    assert_true(log_has(", line 5: $number found in negative match replacement text"));
    assert_true(log_has(", line 6: out of range replacement index \"2\""));
    assert_true(log_has(", line 7: out of range replacement index \"0\""));
    assert_true(log_has(", line 8: non-numeric replacement index \"foo\""));
    assert_true(log_has(", line 9: empty replacement index"));
    assert_true(log_has(", line 10: truncated macro reference"));
    assert_true(log_has(", line 11: ignoring unrecognized request"));
    assert_true(log_has(", line 12: no regexp: skipping this rule"));
    assert_true(log_has(", line 13: error in regex at offset"));
    assert_string_equal(dict_lookup(dict, "good1"), "one");
    assert_string_equal(dict_lookup(dict, "good2"), "two");
    assert_string_equal(dict_lookup(dict, "good3"), "three");
    assert_null(dict_lookup(dict, "x"));
    assert_null(dict_lookup(dict, "negx"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_missing_file(void **state)
{
    DICT   *dict;

    (void) state;
    dict = dict_open("pcre:/nonexistent/pcre-table", 0);
    assert_non_null(dict);
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "x"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    /* pcre tables are read-only */
    dict = dict_open3("pcre:/nonexistent/pcre-table", 2 /* O_RDWR */ , 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), -1);
}

static void test_binary_junk(void **state)
{
    static const char text[] =
	"\x01\x02\xff\xfe\n"
	"/^ok$/ fine\n"
	"/^nul\0after/ never\n"
	"\xc3\xa9/x/ utf8 start\n"
	"/^\xc3\xa9t\xc3\xa9$/ summer\n"
	"   \t\n"
	"/^last$/ no newline";
    DICT   *dict;

    (void) state;
    dict = OPEN_TABLE("junk", text, 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "ok"), "fine");
    assert_string_equal(dict_lookup(dict, "\xc3\xa9t\xc3\xa9"), "summer");
    assert_string_equal(dict_lookup(dict, "last"), "no newline");
    assert_null(dict_lookup(dict, "nul"));
    /* keys with bytes that are not valid UTF-8 are fine */
    assert_null(dict_lookup(dict, "\xff\xfe"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
}

static void test_no_folding(void **state)
{
    static const char text[] = "/^Mixed$/i exact\n";
    DICT   *dict;

    (void) state;
    /* DICT_FLAG_FOLD_KEY does not fold pcre lookups: patterns decide */
    dict = OPEN_TABLE("fold", text, DICT_FLAG_FOLD_KEY);
    assert_string_equal(dict_lookup(dict, "Mixed"), "exact");
    assert_null(dict_lookup(dict, "mixed"));
    dict_close(dict);
}

static void test_runaway_pattern(void **state)
{
    static const char text[] = "/^(a+)+$/ matched\n/.*/ next rule\n";
    char    key[64];
    DICT   *dict;

    (void) state;
    memset(key, 'a', sizeof(key) - 2);
    key[sizeof(key) - 2] = 'b';
    key[sizeof(key) - 1] = 0;
    dict = OPEN_TABLE("runaway", text, 0);
    /* the match limit stops the backtracking: warned, no match */
    assert_string_equal(dict_lookup(dict, key), "next rule");
    assert_true(log_has(", line 1: "));
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
	cmocka_unit_test(test_missing_file),
	cmocka_unit_test(test_binary_junk),
	cmocka_unit_test(test_no_folding),
	cmocka_unit_test(test_runaway_pattern),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
