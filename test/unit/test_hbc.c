/*
 * test_hbc.c - unit tests for lib/tables/hbc.c (header_checks/body_checks).
 *
 * hbc_action() is given every action word in upper and lower case, with
 * and without text: REJECT's default text and enhanced status codes (added,
 * kept, a bad class forced to 4), REPLACE/PREPEND without text or with a
 * header text that is not "name: value" (warned, DUNNO), unsupported and
 * unknown actions (warned, DUNNO).  hbc_check() runs against a real pcre:
 * file: a folded header matched as a whole, $1 substitution, empty lines
 * never matching, an unreadable table (HBC_ACT_ERROR).  Warnings go to a
 * log file that the tests read back.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "hbc.h"

static char tmpdir[] = "/tmp/test_hbc.XXXXXX";
static VSTRING *path_buf;
static VSTRING *log_path;
static VSTRING *text;

static const char *tmp_path(const char *name)
{
    vstring_sprintf(path_buf, "%s/%s", tmpdir, name);
    return (STR(path_buf));
}

/* log_has - the warnings logged since the last log_clear() contain WANT */
static int log_has(const char *want)
{
    FILE   *fp = fopen(STR(log_path), "r");
    char    buf[65536];
    size_t  n;

    if (fp == 0)
	return (0);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return (strstr(buf, want) != 0);
}

static void log_clear(void)
{
    (void) truncate(STR(log_path), 0);
}

static int setup(void **state)
{
    (void) state;
    assert_non_null(mkdtemp(tmpdir));
    path_buf = vstring_alloc(100);
    log_path = vstring_alloc(100);
    text = vstring_alloc(100);
    vstring_sprintf(log_path, "%s/log", tmpdir);
    msg_init("test_hbc", MSG_TO_STDERR);
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
    vstring_free(text);
    return (0);
}

#define ACT(ctx, value)	hbc_action("header_checks", (ctx), (value), text)

static void test_reject(void **state)
{
    (void) state;
    assert_int_equal(ACT(HBC_CTX_HEADER, "REJECT"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.1 Message content rejected");
    assert_int_equal(ACT(HBC_CTX_HEADER, "reject   no spam here"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.1 no spam here");
    assert_int_equal(ACT(HBC_CTX_BODY, "Reject 5.7.0 custom code"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.0 custom code");
    assert_int_equal(ACT(HBC_CTX_BODY, "REJECT 4.7.1 later"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "4.7.1 later");
    log_clear();
    assert_int_equal(ACT(HBC_CTX_BODY, "REJECT 2.0.0 odd"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "4.0.0 odd");
    assert_true(log_has("bad DSN action in 2.0.0 odd"));
    /* Not a status code: "5.7" or "5.7.1234" or "5.7.1x" */
    assert_int_equal(ACT(HBC_CTX_BODY, "REJECT 5.7 short"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.1 5.7 short");
    assert_int_equal(ACT(HBC_CTX_BODY, "REJECT 5.7.1234 long"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.1 5.7.1234 long");
    assert_int_equal(ACT(HBC_CTX_BODY, "REJECT 5.7.1x"), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.1 5.7.1x");
}

static void test_simple_actions(void **state)
{
    (void) state;
    assert_int_equal(ACT(HBC_CTX_HEADER, "DISCARD"), HBC_ACT_DISCARD);
    assert_string_equal(STR(text), "");
    assert_int_equal(ACT(HBC_CTX_HEADER, "discard\tgo away"), HBC_ACT_DISCARD);
    assert_string_equal(STR(text), "go away");
    assert_int_equal(ACT(HBC_CTX_HEADER, "HOLD for review"), HBC_ACT_HOLD);
    assert_string_equal(STR(text), "for review");
    assert_int_equal(ACT(HBC_CTX_HEADER, "WARN"), HBC_ACT_WARN);
    assert_int_equal(ACT(HBC_CTX_HEADER, "INFO note"), HBC_ACT_INFO);
    assert_int_equal(ACT(HBC_CTX_HEADER, "STRIP"), HBC_ACT_STRIP);
    assert_int_equal(ACT(HBC_CTX_HEADER, "PASS"), HBC_ACT_PASS);
    assert_int_equal(ACT(HBC_CTX_HEADER, "IGNORE"), HBC_ACT_IGNORE);
    assert_int_equal(ACT(HBC_CTX_HEADER, "dunno"), HBC_ACT_DUNNO);
    assert_int_equal(ACT(HBC_CTX_HEADER, "OK"), HBC_ACT_DUNNO);
    log_clear();
    assert_int_equal(ACT(HBC_CTX_HEADER, "IGNORE extra"), HBC_ACT_IGNORE);
    assert_true(log_has("unexpected text after command in header_checks map: IGNORE extra"));
    /* A word that starts like an action is not that action */
    log_clear();
    assert_int_equal(ACT(HBC_CTX_HEADER, "REJECTED"), HBC_ACT_DUNNO);
    assert_true(log_has("unknown command in header_checks map: REJECTED"));
    assert_string_equal(hbc_action_label(HBC_ACT_WARN), "warning");
    assert_string_equal(hbc_action_label(HBC_ACT_REJECT), "reject");
    assert_null(hbc_action_label(HBC_ACT_IGNORE));
}

static void test_replace_prepend(void **state)
{
    (void) state;
    assert_int_equal(ACT(HBC_CTX_HEADER, "REPLACE X-New: value"), HBC_ACT_REPLACE);
    assert_string_equal(STR(text), "X-New: value");
    assert_int_equal(ACT(HBC_CTX_HEADER, "prepend X-Tag: 1"), HBC_ACT_PREPEND);
    assert_string_equal(STR(text), "X-Tag: 1");
    log_clear();
    assert_int_equal(ACT(HBC_CTX_HEADER, "REPLACE"), HBC_ACT_DUNNO);
    assert_true(log_has("REPLACE action without text in header_checks map"));
    log_clear();
    assert_int_equal(ACT(HBC_CTX_HEADER, "PREPEND not a header"), HBC_ACT_DUNNO);
    assert_true(log_has("bad PREPEND header text \"not a header\""));
    /* Body lines need no header label */
    assert_int_equal(ACT(HBC_CTX_BODY, "REPLACE any text"), HBC_ACT_REPLACE);
    assert_string_equal(STR(text), "any text");
}

static void test_unsupported(void **state)
{
    (void) state;
    log_clear();
    assert_int_equal(ACT(HBC_CTX_HEADER, "FILTER smtp:[127.0.0.1]:10025"), HBC_ACT_DUNNO);
    assert_true(log_has("unsupported action in header_checks map: FILTER"));
    assert_int_equal(ACT(HBC_CTX_HEADER, "REDIRECT a@b"), HBC_ACT_DUNNO);
    assert_int_equal(ACT(HBC_CTX_HEADER, "BCC a@b"), HBC_ACT_DUNNO);
    log_clear();
    assert_int_equal(ACT(HBC_CTX_HEADER, ""), HBC_ACT_DUNNO);
    assert_true(log_has("unknown command in header_checks map"));
}

static void test_header_name_len(void **state)
{
    (void) state;
    assert_int_equal(hbc_header_name_len("Subject: x", 10), 7);
    assert_int_equal(hbc_header_name_len("Subject : x", 11), 7);
    assert_int_equal(hbc_header_name_len("X-A:", 4), 3);
    assert_int_equal(hbc_header_name_len(": x", 3), 0);
    assert_int_equal(hbc_header_name_len("no colon here", 13), 0);
    assert_int_equal(hbc_header_name_len("Bad Name: x", 11), 0);
    assert_int_equal(hbc_header_name_len("Subject", 7), 0);
    assert_int_equal(hbc_header_name_len("\tcont: x", 8), 0);
    assert_int_equal(hbc_header_name_len("N\xe4me: x", 8), 0);
    assert_int_equal(hbc_header_name_len("", 0), 0);
}

static void test_check_table(void **state)
{
    static const char rules[] =
	"/^Subject: (.*spam.*)/ REJECT spam: $1\n"
	"/^X-Folded: one\\n\\ttwo$/ WARN folded\n"
	"/^X-Replace: (.*)/ REPLACE X-Replaced: $1\n"
	"/^$/ REJECT empty\n"
	"/^body (\\w+)/ PREPEND saw $1\n";
    FILE   *fp = fopen(tmp_path("checks"), "w");
    VSTRING *spec = vstring_alloc(100);
    HBC    *hbc;

    (void) state;
    assert_null(hbc_create("header_checks", ""));
    assert_null(hbc_create("header_checks", " , "));
    assert_non_null(fp);
    assert_int_equal(fwrite(rules, 1, sizeof(rules) - 1, fp), sizeof(rules) - 1);
    assert_int_equal(fclose(fp), 0);
    vstring_sprintf(spec, "pcre:%s", tmp_path("checks"));
    hbc = hbc_create("header_checks", STR(spec));
    assert_non_null(hbc);
    assert_int_equal(hbc_check(hbc, HBC_CTX_HEADER, "Subject: buy spam", text), HBC_ACT_REJECT);
    assert_string_equal(STR(text), "5.7.1 spam: buy spam");
    assert_int_equal(hbc_check(hbc, HBC_CTX_HEADER, "Subject: hello", text), HBC_ACT_DUNNO);
    assert_string_equal(STR(text), "");
    assert_int_equal(hbc_check(hbc, HBC_CTX_HEADER, "X-Folded: one\n\ttwo", text), HBC_ACT_WARN);
    assert_string_equal(STR(text), "folded");
    assert_int_equal(hbc_check(hbc, HBC_CTX_HEADER, "X-Folded: one", text), HBC_ACT_DUNNO);
    assert_int_equal(hbc_check(hbc, HBC_CTX_HEADER, "X-Replace: abc", text), HBC_ACT_REPLACE);
    assert_string_equal(STR(text), "X-Replaced: abc");
    /* Empty lines never match */
    assert_int_equal(hbc_check(hbc, HBC_CTX_BODY, "", text), HBC_ACT_DUNNO);
    assert_int_equal(hbc_check(hbc, HBC_CTX_BODY, "body word and more", text), HBC_ACT_PREPEND);
    assert_string_equal(STR(text), "saw word");
    /* The same PREPEND in a header context needs a header label */
    assert_int_equal(hbc_check(hbc, HBC_CTX_HEADER, "body word", text), HBC_ACT_DUNNO);
    assert_int_equal(hbc_check(0, HBC_CTX_HEADER, "Subject: spam", text), HBC_ACT_DUNNO);
    hbc_free(hbc);
    hbc_free(0);
    vstring_free(spec);
}

static void test_table_error(void **state)
{
    VSTRING *spec = vstring_alloc(100);
    HBC    *hbc;

    (void) state;
    vstring_sprintf(spec, "pcre:%s", tmp_path("missing"));
    hbc = hbc_create("body_checks", STR(spec));
    assert_non_null(hbc);
    assert_int_equal(hbc_check(hbc, HBC_CTX_BODY, "any line", text), HBC_ACT_ERROR);
    hbc_free(hbc);
    vstring_free(spec);
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_reject),
	cmocka_unit_test(test_simple_actions),
	cmocka_unit_test(test_replace_prepend),
	cmocka_unit_test(test_unsupported),
	cmocka_unit_test(test_header_name_len),
	cmocka_unit_test(test_check_table),
	cmocka_unit_test(test_table_error),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
