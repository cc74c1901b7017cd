/*
 * test_message_address.c - unit tests for lib/mail/message_address.c.
 *
 * Each case lists the entries the parser must produce, written as
 * "name|route|mailbox|host" with "-" for NULL and a trailing "!" for an
 * entry marked invalid, entries separated by " ; ".  The cases cover RFC
 * 5322's examples (appendix A.1), groups, routes, comments as names,
 * quoted strings, obsolete forms and the broken input Dovecot 2.3 copes
 * with (the ENVELOPE replies built from these are compared with
 * Dovecot's own in test_imap_envelope.c).  Also: lists appended across
 * calls, no filling of missing parts without the flag, and garbage that
 * must not crash or loop.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_address.h"

/* describe - the entries of LIST as "name|route|mailbox|host ; ..." */

static void describe(VSTRING *out, const MESSAGE_ADDRESS_LIST *list)
{
    vstring_reset(out);
    for (int i = 0; i < list->count; i++) {
	const MESSAGE_ADDRESS *a = list->addrs + i;

	vstring_sprintf_append(out, "%s%s|%s|%s|%s%s", i ? " ; " : "",
			       a->name ? a->name : "-", a->route ? a->route : "-",
			    a->mailbox ? a->mailbox : "-", a->host ? a->host : "-",
			       a->invalid ? "!" : "");
    }
}

static void check(const char *text, int flags, const char *want)
{
    MESSAGE_ADDRESS_LIST list = {0};
    VSTRING *got = vstring_alloc(100);

    message_address_parse(&list, text, strlen(text), flags);
    describe(got, &list);
    if (strcmp(STR(got), want) != 0)
	fail_msg("input <%s>\n  got  <%s>\n  want <%s>", text, STR(got), want);
    message_address_list_free(&list);
    vstring_free(got);
}

#define FILL	MESSAGE_ADDRESS_FILL_MISSING

static void test_rfc5322_examples(void **state)
{
    check("\"Joe Q. Public\" <john.q.public@example.com>", FILL,
	  "Joe Q. Public|-|john.q.public|example.com");
    check("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>", FILL,
	  "Mary Smith|-|mary|x.test ; -|-|jdoe|example.org ; Who?|-|one|y.test");
    check("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	  FILL, "-|-|boss|nil.test ; Giant; \"Big\" Box|-|sysservices|example.net");
    check("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", FILL,
	  "-|-|A Group|- ; Ed Jones|-|c|a.test ; -|-|joe|where.test ; "
	  "John|-|jdoe|one.test ; -|-|-|-");
    check("Undisclosed recipients:;", FILL,
	  "-|-|Undisclosed recipients|- ; -|-|-|-");
    check("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", FILL,
	  "Pete|-|pete|silly.test");
    check("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", FILL,
	  "-|-|Hidden recipients|- ; -|-|-|-");
    check("John Doe <jdoe@machine(comment).  example>", FILL,
	  "John Doe|-|jdoe|machine.example");
    check("Mary Smith <@node.test:mary@example.net>", FILL,
	  "Mary Smith|@node.test|mary|example.net");
}

static void test_forms(void **state)
{
    check("a@b (Comment Name)", FILL, "Comment Name|-|a|b");
    check("x@y (c1) (c2)", FILL, "c2|-|x|y");
    check("(c0) x@y", FILL, "-|-|x|y");
    check("a (comment) @ b", FILL, "comment|-|a|b");
    check("<@a, @b :c@d>", FILL, "-|@a,@b|c|d");
    check("\"a b\"@c", FILL, "-|-|a b|c");
    check("a..b.@c", FILL, "-|-|a..b.|c");
    check("a@[1.2.3.4]", FILL, "-|-|a|[1.2.3.4]");
    check("a@ b . c", FILL, "-|-|a|b.c");
    check("Joe \"Q\" Public <a@b>", FILL, "Joe Q Public|-|a|b");
    check("a . b <x@y>", FILL, "a . b|-|x|y");
    check("\"\" <a@b>", FILL, "-|-|a|b");
    check("=?utf-8?q?J=C3=B6rg?= <j@x>", FILL, "=?utf-8?q?J=C3=B6rg?=|-|j|x");
    check("J\xc3\xb6rg <j@x>", FILL, "J\xc3\xb6rg|-|j|x");
    check("\"a\\\r\n b\"@c", FILL, "-|-|a\\ b|c");
    check("g1: a@b; g2: c@d;", FILL, "-|-|g1|- ; -|-|a|b ; -|-|-|-");
}

static void test_broken(void **state)
{
    check("", FILL, "");
    check("   (only a comment)  ", FILL, "");
    check("@b", FILL, "-|-|MISSING_MAILBOX|b!");
    check("a", FILL, "-|-|a|MISSING_DOMAIN!");
    check("x y z", FILL, "x y z|-|MISSING_MAILBOX|MISSING_DOMAIN!");
    check("\"x\"", FILL, "x|-|MISSING_MAILBOX|MISSING_DOMAIN!");
    check("<>", FILL, "-|-|MISSING_MAILBOX|MISSING_DOMAIN!");
    check("Joe <a@b", FILL, "Joe|-|a|SYNTAX_ERROR!");
    check("<@a>", FILL, "-|INVALID_ROUTE|MISSING_MAILBOX|MISSING_DOMAIN!");
    check("a@b, , c@d", FILL,
	  "-|-|a|b ; -|-|MISSING_MAILBOX|MISSING_DOMAIN! ; -|-|c|d");
    check("a@b,", FILL, "-|-|a|b");
    check("a@b.", FILL, "-|-|a|MISSING_DOMAIN!");
    check("a@b (unterminated", FILL, "-|-|a|MISSING_DOMAIN!");
    check("(unterminated a@b", FILL, "");
    check("\"unterminated <a@b>", FILL, "-|-|MISSING_MAILBOX|MISSING_DOMAIN!");
    check("g: a@b", FILL, "-|-|g|- ; -|-|a|b ; -|-|-|-!");
    check("g: a@b c@d;", FILL, "-|-|g|- ; -|-|a|b ; -|-|-|-!");
    check(".Joe <a@b>", FILL, "-|-|.Joe|MISSING_DOMAIN!");
    check("a@b <c@d>", FILL, "-|-|a|b");
    check(",,,", FILL, "-|-|MISSING_MAILBOX|MISSING_DOMAIN! ; "
	  "-|-|MISSING_MAILBOX|MISSING_DOMAIN! ; -|-|MISSING_MAILBOX|MISSING_DOMAIN!");
    /* Without FILL: empty strings where Dovecot writes its markers */
    check("a", 0, "-|-|a|!");
    check("Joe <a@b", 0, "Joe|-|a|b!");
}

static void test_append_and_garbage(void **state)
{
    MESSAGE_ADDRESS_LIST list = {0};
    VSTRING *got = vstring_alloc(100);
    char    junk[4096];
    unsigned seed = 1;

    message_address_parse(&list, "g: a@b", 6, FILL);
    message_address_parse(&list, "c@d", 3, FILL);
    describe(got, &list);
    assert_string_equal(STR(got), "-|-|g|- ; -|-|a|b ; -|-|-|-! ; -|-|c|d");
    assert_true(MESSAGE_ADDRESS_IS_GROUP_START(list.addrs));
    assert_true(MESSAGE_ADDRESS_IS_GROUP_END(list.addrs + 2));
    message_address_list_free(&list);

    /* Random bytes from the characters that matter: no crash, no loop */
    for (int round = 0; round < 2000; round++) {
	size_t  len = (seed = seed * 1103515245 + 12345) % sizeof(junk);

	for (size_t i = 0; i < len; i++) {
	    seed = seed * 1103515245 + 12345;
	    junk[i] = "ab @<>(),;:\"\\.[]\r\n\t\0\xc3"[(seed >> 16) % 22];
	}
	message_address_parse(&list, junk, len, round & 1 ? FILL : 0);
	for (int i = 0; i < list.count; i++)
	    assert_true(list.addrs[i].mailbox != 0 || list.addrs[i].host == 0);
	message_address_list_free(&list);
    }
    vstring_free(got);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rfc5322_examples),
	cmocka_unit_test(test_forms),
	cmocka_unit_test(test_broken),
	cmocka_unit_test(test_append_and_garbage),
    };

    return (cmocka_run_group_tests_name("message_address", tests, 0, 0));
}
