/*
 * test_rfc822_lex.c - unit tests for lib/mail/rfc822_lex.c.
 *
 * CFWS with nested comments and quoted pairs (and the last comment's
 * text), atoms, dot-atoms with CFWS around the dots, quoted strings
 * (escapes, folding, a backslash before a newline), phrases, domains and
 * domain literals, MIME tokens; the 1/0/-1 results at the end of input
 * and on errors.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "rfc822_lex.h"

typedef int (*SCAN_FN) (RFC822_LEX *, VSTRING *);

/* scan - run FN on TEXT: the result, the text read, what is left */

static void scan(SCAN_FN fn, const char *text, int want_ret,
		         const char *want_out, const char *want_rest)
{
    RFC822_LEX lex;
    VSTRING *out = vstring_alloc(10);
    VSTRING *comment = vstring_alloc(10);
    int     ret;

    rfc822_lex_init(&lex, text, strlen(text), comment);
    ret = fn(&lex, out);
    if (ret != want_ret || strcmp(STR(out), want_out) != 0
	|| (want_rest && strncmp((const char *) lex.ptr, want_rest,
				 lex.end - lex.ptr) != 0)
	|| (want_rest && (size_t) (lex.end - lex.ptr) != strlen(want_rest)))
	fail_msg("<%s>: got %d <%s> rest <%.*s>, want %d <%s> rest <%s>",
		 text, ret, STR(out), (int) (lex.end - lex.ptr), lex.ptr,
		 want_ret, want_out, want_rest ? want_rest : "?");
    vstring_free(out);
    vstring_free(comment);
}

static int skip_cfws(RFC822_LEX *lex, VSTRING *out)
{
    int     ret = rfc822_lex_skip_cfws(lex);

    vstring_strcpy(out, STR(lex->comment));
    return (ret);
}

static void test_cfws(void **state)
{
    scan(skip_cfws, "  \t\r\n x", 1, "", "x");
    scan(skip_cfws, " (a (nested) \\) c) x", 1, "a (nested) ) c", "x");
    scan(skip_cfws, "(first) (second)", 0, "second", "");
    scan(skip_cfws, "(fold\r\n ed)x", 1, "fold ed", "x");
    scan(skip_cfws, "(unterminated", -1, "", 0);
    scan(skip_cfws, "(a\\", -1, "", 0);
    scan(skip_cfws, "(a\\\nb)", 0, "a\\b", "");
    scan(skip_cfws, "", 0, "", "");
}

static void test_atoms(void **state)
{
    scan(rfc822_lex_atom, "abc def", 1, "abc", "def");
    scan(rfc822_lex_atom, "a!#$%&'*+-/=?^_`{|}~z", 0, "a!#$%&'*+-/=?^_`{|}~z", "");
    scan(rfc822_lex_atom, "\xc3\xa4x(c)", 0, "\xc3\xa4x", "");
    scan(rfc822_lex_atom, ".x", -1, "", 0);
    scan(rfc822_lex_atom, "", -1, "", 0);
    scan(rfc822_lex_dot_atom, "a.b.c@d", 1, "a.b.c", "@d");
    scan(rfc822_lex_dot_atom, "a . b (c) . c rest", 1, "a.b.c", "rest");
    scan(rfc822_lex_dot_atom, "a..b", -1, "a.", 0);
    scan(rfc822_lex_dot_atom, "a.", -1, "a.", 0);
    scan(rfc822_lex_token, "text/plain", 1, "text", "/plain");
    scan(rfc822_lex_token, "a.b=c", 1, "a.b", "=c");
    scan(rfc822_lex_token, "; x", 1, "", "; x");
    scan(rfc822_lex_token, "base64 (c)", 0, "base64", "");
}

static void test_quoted(void **state)
{
    scan(rfc822_lex_quoted, "\"a \\\"b\\\" \\\\c\" x", 1, "a \"b\" \\c", "x");
    scan(rfc822_lex_quoted, "\"fold\r\n ed\"", 0, "fold ed", "");
    scan(rfc822_lex_quoted, "\"a\\\r\n b\"", 0, "a\\ b", "");
    scan(rfc822_lex_quoted, "\"unterminated", -1, "", 0);
    scan(rfc822_lex_quoted, "\"a\\", -1, "", 0);
    {
	RFC822_LEX lex;
	VSTRING *out = vstring_alloc(10);

	rfc822_lex_init(&lex, "\"a\0b\"", 5, 0);
	assert_int_equal(rfc822_lex_quoted(&lex, out), 0);
	assert_string_equal(STR(out), "a\xef\xbf\xbd" "b");
	vstring_free(out);
    }
}

static void test_phrase(void **state)
{
    scan(rfc822_lex_phrase, "Joe Q. Public <x>", 1, "Joe Q. Public", "<x>");
    scan(rfc822_lex_phrase, "\"Joe\" Q \"x y\" : z", 1, "Joe Q x y", ": z");
    scan(rfc822_lex_phrase, "a (c) b<", 1, "a b", "<");
    scan(rfc822_lex_phrase, "a\"q\"b", 0, "a q b", "");
    scan(rfc822_lex_phrase, "<x>", 1, "", "<x>");
    scan(rfc822_lex_phrase, ".x", -1, "", 0);
    scan(rfc822_lex_phrase, "", 0, "", "");
}

static int domain(RFC822_LEX *lex, VSTRING *out)
{
    return (rfc822_lex_domain(lex, out));
}

static void test_domain(void **state)
{
    scan(domain, "@ example . com>", 1, "example.com", ">");
    scan(domain, "@[1.2.3.4] x", 1, "[1.2.3.4]", "x");
    scan(domain, "@[a\\]b]", 0, "[a\\]b]", "");
    scan(domain, "@[a[b]", -1, "", 0);
    scan(domain, "@[fold\r\n ed]", 0, "[fold ed]", "");
    scan(domain, "@", -1, "", 0);
    scan(domain, "@ (c)", -1, "", 0);
    assert_true(rfc822_is_token_char('.'));
    assert_false(rfc822_is_token_char('/'));
    assert_false(rfc822_is_atext('.'));
    assert_true(rfc822_is_atext(0xe4));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_cfws),
	cmocka_unit_test(test_atoms),
	cmocka_unit_test(test_quoted),
	cmocka_unit_test(test_phrase),
	cmocka_unit_test(test_domain),
    };

    return (cmocka_run_group_tests_name("rfc822_lex", tests, 0, 0));
}
