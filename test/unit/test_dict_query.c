/*
 * test_dict_query.c - unit tests for lib/tables/dict_query.c (what the
 * query tables sqlite: and pgsql: share).
 *
 * The configuration file: later settings win, lines that are no setting
 * are warned about, a missing file fails; templates: every escape of the
 * query and of result_format, a caller's quoting, keys without a part the
 * query needs, bad escapes refused; the older table/select_field
 * settings; the domain list with names, negation and a type:table entry;
 * rows joined with commas, NULL and empty rows, the expansion limit.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_private.h"
#include "dict_query.h"
#include "dict_fixture.h"

static DICT *owner;			/* the messages name it */

/* init - a DICT_QUERY from configuration TEXT; returns dict_query_init's */

static int init(DICT_QUERY *q, const char *text)
{
    DICT_QUERY_CF cf;
    int     ret;

    log_forget();
    assert_int_equal(dict_query_cf_read("test", fixture_write("q.cf", text, strlen(text)),
					&cf), 0);
    ret = dict_query_init(q, owner, &cf);
    dict_query_cf_free(&cf);
    return (ret);
}

/* query_of - the query for KEY, or NULL when it is not looked up */

static const char *query_of(DICT_QUERY *q, const char *key)
{
    return (dict_query_wanted(q, key) > 0 && dict_query_expand(q, key, 0, 0) > 0 ?
	    STR(q->query_buf) : 0);
}

static void test_cf_file(void **state)
{
    DICT_QUERY_CF cf;
    static const char text[] = "# comment\nhosts = one\n  two\nuser=u\n"
	"junk line\nuser = later\n= novalue\n";

    log_forget();
    assert_int_equal(dict_query_cf_read("test", fixture_write("a.cf", text,
						   sizeof(text) - 1), &cf), 0);
    assert_string_equal(dict_query_cf_get(&cf, "hosts"), "one  two");
    assert_string_equal(dict_query_cf_get(&cf, "user"), "later");
    assert_null(dict_query_cf_get(&cf, "password"));
    assert_true(log_has("a.cf, line 5: expected format: name = value"));
    assert_true(log_has("a.cf, line 7: expected format: name = value"));
    dict_query_cf_free(&cf);
    assert_int_equal(dict_query_cf_read("test", "/nonexistent/x.cf", &cf), -1);
    assert_int_equal(cf.count, 0);
}

static void test_templates(void **state)
{
    DICT_QUERY q;

    assert_int_equal(init(&q, "query = %s|%u|%d|%1|%2|%3|%%\n"), 0);
    assert_string_equal(query_of(&q, "o'x@mail.example.com"),
			"o''x@mail.example.com|o''x|mail.example.com|com|example|mail|%");
    assert_null(query_of(&q, "user"));		/* no domain for %d */
    assert_null(query_of(&q, "a@example.com"));	/* no third label */
    dict_query_free(&q);

    assert_int_equal(init(&q, "query = k='%u'\n"), 0);
    assert_string_equal(query_of(&q, "plain"), "k='plain'");
    assert_null(query_of(&q, "@example.com"));	/* empty local part */
    dict_query_free(&q);

    assert_int_equal(init(&q, "query = bad %x\n"), -1);
    assert_true(log_has("test map"));
    assert_true(log_has("invalid query template: bad %x"));
    dict_query_free(&q);
    assert_int_equal(init(&q, "query = ok\nresult_format = 50%\n"), -1);
    assert_true(log_has("invalid result_format template: 50%"));
    dict_query_free(&q);
    assert_int_equal(init(&q, "query = ok\nexpansion_limit = lots\n"), -1);
    assert_true(log_has("bad expansion_limit: lots"));
    dict_query_free(&q);
}

/* upper - a quoting function that upper-cases, to see it is used */

static void upper(VSTRING *out, const char *text, size_t len, void *ctx)
{
    (*(int *) ctx)++;
    for (size_t i = 0; i < len; i++)
	vstring_addch(out, toupper((unsigned char) text[i]));
}

static void test_caller_quote_and_legacy(void **state)
{
    DICT_QUERY q;
    int     calls = 0;

    assert_int_equal(init(&q, "table = t\nselect_field = v\nwhere_field = k\n"
			  "additional_conditions = AND on\n"), 0);
    assert_int_equal(dict_query_expand(&q, "a@b", upper, &calls), 1);
    assert_string_equal(STR(q.query_buf), "SELECT v FROM t WHERE k='A@B' AND on");
    assert_int_equal(calls, 1);
    dict_query_free(&q);
    assert_int_equal(init(&q, "table = t\nselect_field = v\n"), -1);
    assert_true(log_has("neither query nor where_field is set"));
    dict_query_free(&q);
}

static void test_domains(void **state)
{
    DICT_QUERY q;
    char    text[300];

    snprintf(text, sizeof(text), "query = %%s\ndomain = !no.example.com, "
	     "example.com, texthash:%s\n",
	     fixture_write("domains", "listed.test x\n", 14));
    assert_int_equal(init(&q, text), 0);
    assert_non_null(query_of(&q, "a@example.com"));
    assert_non_null(query_of(&q, "a@LISTED.test"));	/* the table folds */
    assert_null(query_of(&q, "a@no.example.com"));
    assert_null(query_of(&q, "a@other.test"));
    assert_null(query_of(&q, "example.com"));	/* no local part */
    dict_query_free(&q);

    assert_int_equal(init(&q, "query = %s\ndomain = texthash:/nonexistent/x\n"), 0);
    assert_int_equal(dict_query_wanted(&q, "a@example.com"), -1);
    assert_true(log_has("lookup error for \"example.com\""));
    dict_query_free(&q);
}

static void test_rows(void **state)
{
    DICT_QUERY q;

    assert_int_equal(init(&q, "query = x\nresult_format = %u+%D at %s\n"
			  "expansion_limit = 2\n"), 0);
    assert_int_equal(dict_query_expand(&q, "k@key.test", 0, 0), 1);
    assert_null(dict_query_result(&q));
    assert_int_equal(dict_query_row(&q, 0, "k@key.test"), 0);	/* NULL */
    assert_int_equal(dict_query_row(&q, "", "k@key.test"), 0);	/* empty */
    assert_true(log_has("empty lookup result for: \"k@key.test\" -- ignored"));
    assert_int_equal(dict_query_row(&q, "v@val.test", "k@key.test"), 0);
    assert_int_equal(dict_query_row(&q, "novalue", "k@key.test"), 0);	/* %u ok */
    assert_string_equal(dict_query_result(&q),
			"v+key.test at v@val.test,novalue+key.test at novalue");
    assert_int_equal(dict_query_row(&q, "third", "k@key.test"), -1);
    assert_true(log_has("dict_test_lookup: owner: Expansion limit exceeded for key 'k@key.test'"));
    /* a new key starts a new result */
    assert_int_equal(dict_query_expand(&q, "k@key.test", 0, 0), 1);
    assert_null(dict_query_result(&q));
    dict_query_free(&q);
}

static int setup(void **state)
{
    if (fixture_setup("test_dict_query") < 0)
	return (-1);
    owner = dict_alloc("test", "owner", 0, sizeof(DICT));
    return (0);
}

static int teardown(void **state)
{
    dict_free(owner);
    return (fixture_teardown());
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_cf_file),
	cmocka_unit_test(test_templates),
	cmocka_unit_test(test_caller_quote_and_legacy),
	cmocka_unit_test(test_domains),
	cmocka_unit_test(test_rows),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
