/*
 * test_message_content.c - unit tests for lib/mail/message_content.c.
 *
 * Content-Type: well formed and broken values (what counts as broken is
 * what Dovecot 2.3 rejects); parameters: quoting, comments, garbage
 * skipped up to the next ";", empty names and values, broken encoded
 * words, RFC 2231 sections merged, extended, escaped, out of order,
 * missing or repeated; Content-Transfer-Encoding tokens;
 * Content-Disposition; Content-Language tags.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_content.h"

/* params_text - "name=value;name=value" */

static void params_text(VSTRING *out, const MESSAGE_PARAM *params, int count)
{
    vstring_reset(out);
    for (int i = 0; i < count; i++)
	vstring_sprintf_append(out, "%s%s=%s", i ? ";" : "", params[i].name,
			       params[i].value);
}

static void check_type(const char *value, int want_ret, const char *want_type,
		               const char *want_subtype, const char *want_params)
{
    VSTRING *type = vstring_alloc(10);
    VSTRING *subtype = vstring_alloc(10);
    VSTRING *text = vstring_alloc(10);
    MESSAGE_PARAM *params;
    int     count, ret;

    ret = message_content_type(value, strlen(value), type, subtype, &params, &count);
    params_text(text, params, count);
    if (ret != want_ret || strcmp(STR(type), want_type) != 0
	|| strcmp(STR(subtype), want_subtype) != 0
	|| strcmp(STR(text), want_params) != 0)
	fail_msg("<%s>: got %d <%s>/<%s> <%s>, want %d <%s>/<%s> <%s>", value,
		 ret, STR(type), STR(subtype), STR(text), want_ret, want_type,
		 want_subtype, want_params);
    message_params_free(params, count);
    vstring_free(type);
    vstring_free(subtype);
    vstring_free(text);
}

static void test_content_type(void **state)
{
    check_type("text/plain", 0, "text", "plain", "");
    check_type(" TEXT / Html ; CharSet = \"UTF-8\" ", 0, "TEXT", "Html", "CharSet=UTF-8");
    check_type("text/html (comment); (c) charset = \"x\" (c)", 0, "text", "html", "charset=x");
    check_type("multipart/mixed;\r\n\tboundary=\"----=_Part_1\"", 0, "multipart",
	       "mixed", "boundary=----=_Part_1");
    check_type("text/plain;", 0, "text", "plain", "");
    /* broken: no parameters are read */
    check_type("text", -1, "text", "", "");
    check_type("text/", -1, "", "", "");
    check_type("text/plain garbage", -1, "", "", "");
    check_type("\"text/plain\"", -1, "", "", "");
    check_type("; charset=x", -1, "", "", "");
    check_type("", -1, "", "", "");
    check_type("(unterminated", -1, "", "", "");
}

static void test_params(void **state)
{
    check_type("a/b; x=1 garbage; y=2", 0, "a", "b", "x=1;y=2");
    check_type("a/b;x=\"1\";;y=2", 0, "a", "b", "x=1");
    check_type("a/b; =x; y=z", 0, "a", "b", "=x;y=z");
    check_type("a/b; x=", 0, "a", "b", "x=");
    check_type("a/b; x", 0, "a", "b", "");
    check_type("a/b; x=\"unterminated", 0, "a", "b", "");
    check_type("a/b; x=(c)y", 0, "a", "b", "x=y");
    check_type("a/b; x=\"a\\\"b\\\\c\"; y=\"fold\r\n ed\"", 0, "a", "b",
	       "x=a\"b\\c;y=fold ed");
    check_type("a/b; name==?utf-8?b?w6Q=?= x", 0, "a", "b", "name==?utf-8?b?w6Q=?=");
    check_type("a/b; a=1; A=2; a=3", 0, "a", "b", "a=1;A=2;a=3");
}

static void test_rfc2231(void **state)
{
    check_type("a/b; Name*0=a; name*1=b; x=y", 0, "a", "b", "x=y;Name=ab");
    check_type("a/b; n*1=y; n*0=x", 0, "a", "b", "n=xy");
    check_type("a/b; n*=utf-8''%C3%A4", 0, "a", "b", "n*=utf-8''%C3%A4");
    check_type("a/b; n*0*=utf-8''x; n*1=%41", 0, "a", "b", "n*=utf-8''x%2541");
    check_type("a/b; n*0=x%; n*1*=%41", 0, "a", "b", "n*=''x%25%41");
    check_type("a/b; n*0=x; n*2=z", 0, "a", "b", "n*0=x;n*2=z");
    check_type("a/b; n*0=x; n*0=y", 0, "a", "b", "n*0=x;n*0=y");
    check_type("a/b; n*0=a; n*1=b; t*=us-ascii'en'x%20y", 0, "a", "b",
	       "n=ab;t*=us-ascii'en'x%20y");
    check_type("a/b; *=x; a*b=y; a**=z", 0, "a", "b", "a*b=y;*=x;a*=z");
}

static void test_other_fields(void **state)
{
    VSTRING *out = vstring_alloc(10);
    VSTRING *text = vstring_alloc(10);
    MESSAGE_PARAM *params;
    char  **tags;
    int     count;

    assert_int_equal(message_content_token("BASE64", 6, out), 0);
    assert_string_equal(STR(out), "BASE64");
    assert_int_equal(message_content_token(" 7bit (comment) ", 16, out), 0);
    assert_string_equal(STR(out), "7bit");
    assert_int_equal(message_content_token("base64 x", 8, out), -1);
    assert_int_equal(message_content_token("\"base64\"", 8, out), -1);
    assert_int_equal(message_content_token("", 0, out), -1);

    assert_int_equal(message_content_disposition("attachment; filename=\"a b.txt\"",
						 31, out, &params, &count), 0);
    assert_string_equal(STR(out), "attachment");
    params_text(text, params, count);
    assert_string_equal(STR(text), "filename=a b.txt");
    message_params_free(params, count);
    assert_int_equal(message_content_disposition("; filename=x", 12, out,
						 &params, &count), 0);
    assert_string_equal(STR(out), "");
    assert_int_equal(count, 1);
    message_params_free(params, count);
    assert_int_equal(message_content_disposition("inline (x", 9, out, &params, &count), -1);

    assert_int_equal(message_content_languages("en-US, de;x", 11, &tags), 2);
    assert_string_equal(tags[0], "en-US");
    assert_string_equal(tags[1], "de");
    assert_null(tags[2]);
    message_languages_free(tags);
    assert_int_equal(message_content_languages("(c) en , \"de\"", 13, &tags), 1);
    message_languages_free(tags);
    assert_int_equal(message_content_languages(",en", 3, &tags), 0);
    message_languages_free(tags);

    {
	MESSAGE_PARAM p[2] = {{"Charset", "x"}, {"boundary", "b"}};

	assert_string_equal(message_param_find(p, 2, "CHARSET"), "x");
	assert_null(message_param_find(p, 2, "name"));
    }
    vstring_free(out);
    vstring_free(text);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_content_type),
	cmocka_unit_test(test_params),
	cmocka_unit_test(test_rfc2231),
	cmocka_unit_test(test_other_fields),
    };

    return (cmocka_run_group_tests_name("message_content", tests, 0, 0));
}
