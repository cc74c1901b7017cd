/*
 * test_imap_envelope.c - unit tests for lib/imap/imap_envelope.c.
 *
 * ENVELOPE of every message in test/unit/data/mail/ against Dovecot 2.3's
 * (NAME.dovecot, or NAME.posthorn), compared as IMAP values; a table of
 * 140 To: values (RFC 5322 examples, obsolete forms, broken addresses)
 * with the ENVELOPE Dovecot 2.3.19 gave for each; fields taken from
 * several header lines; the defaults for Sender and Reply-To; the "for
 * humans" clean-up of subjects and names; CR/LF removed from Date,
 * Message-ID and In-Reply-To.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_part.h"
#include "imap_envelope.h"

#include "mail_fixture.h"

static void check_envelope(const CORPUS_MSG *cm, void *unused)
{
    VSTRING *want = vstring_alloc(1000);
    VSTRING *got = vstring_alloc(1000);

    assert_true(expected(cm->path, "ENVELOPE", want));
    imap_envelope(got, cm->top);
    same_reply(cm->name, got, want);
    vstring_free(want);
    vstring_free(got);
}

static void test_corpus(void **state)
{
    corpus_check(check_envelope, 0);
}

 /*
  * To: values and the ENVELOPE Dovecot 2.3.19 answered for "To: VALUE".
  */
static const struct {
    const char *to;
    const char *envelope;
}       dovecot_to[] = {
    {"a@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"<a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"Joe <a@b>",
	"(NIL NIL NIL NIL NIL ((\"Joe\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"\"Joe Q. Public\" <john.q.public@example.com>",
	"(NIL NIL NIL NIL NIL ((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) NIL NIL NIL NIL)"},
    {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	"(NIL NIL NIL NIL NIL ((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" \"example.org\")(\"Who?\" NIL \"one\" \"y.test\")) NIL NIL NIL NIL)"},
    {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"boss\" \"nil.test\")({16}\r\nGiant; \"Big\" Box NIL \"sysservices\" \"example.net\")) NIL NIL NIL NIL)"},
    {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"Undisclosed recipients:;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"undisclosed-recipients: ;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"\"Mary Smith: Personal Account\" <smith@home.example>",
	"(NIL NIL NIL NIL NIL ((\"Mary Smith: Personal Account\" NIL \"smith\" \"home.example\")) NIL NIL NIL NIL)"},
    {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	"(NIL NIL NIL NIL NIL ((\"Pete\" NIL \"pete\" \"silly.test\")) NIL NIL NIL NIL)"},
    {"A Group(Some people):Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end of the group)",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"A Group\" NIL)(\"Chris Jones\" NIL \"c\" \"public.example\")(NIL NIL \"joe\" \"example.org\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"Hidden recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"John Doe <jdoe@machine(comment).  example>",
	"(NIL NIL NIL NIL NIL ((\"John Doe\" NIL \"jdoe\" \"machine.example\")) NIL NIL NIL NIL)"},
    {"Mary Smith <@node.test:mary@example.net>",
	"(NIL NIL NIL NIL NIL ((\"Mary Smith\" \"@node.test\" \"mary\" \"example.net\")) NIL NIL NIL NIL)"},
    {"<@a,@b:c@d>",
	"(NIL NIL NIL NIL NIL ((NIL \"@a,@b\" \"c\" \"d\")) NIL NIL NIL NIL)"},
    {"<@a, @b :c@d>",
	"(NIL NIL NIL NIL NIL ((NIL \"@a,@b\" \"c\" \"d\")) NIL NIL NIL NIL)"},
    {"<@a:>",
	"(NIL NIL NIL NIL NIL ((NIL \"@a\" \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"<@a>",
	"(NIL NIL NIL NIL NIL ((NIL \"INVALID_ROUTE\" \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@b (Comment Name)",
	"(NIL NIL NIL NIL NIL ((\"Comment Name\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a (comment) @ b",
	"(NIL NIL NIL NIL NIL ((\"comment\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a.b.c@d.e",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a.b.c\" \"d.e\")) NIL NIL NIL NIL)"},
    {"a . b@c",
	"(NIL NIL NIL NIL NIL (({4}\r\na. b NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"\"a b\"@c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a b\" \"c\")) NIL NIL NIL NIL)"},
    {"\"a\\\"b\"@c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\\\"b\" \"c\")) NIL NIL NIL NIL)"},
    {"\"a\\",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"b\"@c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"b\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"b\")) NIL NIL NIL NIL)"},
    {"a@",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"<>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"<a>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"Joe <a>",
	"(NIL NIL NIL NIL NIL ((\"Joe\" NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"Joe <a@b",
	"(NIL NIL NIL NIL NIL ((\"Joe\" NIL \"a\" \"SYNTAX_ERROR\")) NIL NIL NIL NIL)"},
    {"Joe a@b",
	"(NIL NIL NIL NIL NIL ((\"Joe a\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"Joe <a@b> trailing",
	"(NIL NIL NIL NIL NIL ((\"Joe\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b, , c@d",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"c\" \"d\")) NIL NIL NIL NIL)"},
    {"a@b,",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {",a@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@[1.2.3.4]",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"[1.2.3.4]\")) NIL NIL NIL NIL)"},
    {"a@[1.2",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"=?utf-8?q?J=C3=B6rg?= <j@x>",
	"(NIL NIL NIL NIL NIL ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x\")) NIL NIL NIL NIL)"},
    {"\"=?utf-8?q?J=C3=B6rg?=\" <j@x>",
	"(NIL NIL NIL NIL NIL ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x\")) NIL NIL NIL NIL)"},
    {"J\303\266rg <j@x>",
	"(NIL NIL NIL NIL NIL (({5}\r\nJ\303\266rg NIL \"j\" \"x\")) NIL NIL NIL NIL)"},
    {"g1: a@b; g2: c@d;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g1\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g1: a@b, g2: c@d;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g1\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL \"g2\" \"MISSING_DOMAIN\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g: a@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g: ;x@y",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"a@b; c@d",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b c@d",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"\"unterminated <a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"(unterminated a@b",
	"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"},
    {"a@b (unterminated",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"Joe <\"a b\"@c>",
	"(NIL NIL NIL NIL NIL ((\"Joe\" NIL \"a b\" \"c\")) NIL NIL NIL NIL)"},
    {"Joe.Q <a@b>",
	"(NIL NIL NIL NIL NIL ((\"Joe.Q\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {".Joe <a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \".Joe\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"Joe. <a@b>",
	"(NIL NIL NIL NIL NIL ((\"Joe.\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"Joe \"Q\" Public <a@b>",
	"(NIL NIL NIL NIL NIL ((\"Joe Q Public\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"<a@b> Joe",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b.",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@.b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a..b@c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a..b\" \"c\")) NIL NIL NIL NIL)"},
    {"a@b..c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"Joe\t Tab  <a@b>",
	"(NIL NIL NIL NIL NIL ((\"Joe Tab\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {" Joe",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"Joe\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {" <a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b, \"g:\" <c@d>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")(\"g:\" NIL \"c\" \"d\")) NIL NIL NIL NIL)"},
    {"Joe <a@b>,",
	"(NIL NIL NIL NIL NIL ((\"Joe\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"\"\" <a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {":;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {":a@b;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g:a@b;;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"a;b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@b;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"<a@b>;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a . b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a . b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a.b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a.b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a .b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a .b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a. b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a. b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a . . b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a . . b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"\"q\" . b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"q . b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a \"q\"b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a q b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a\"q\" <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a q\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"\"a\"\"b\" <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a (c) b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a.(c)b <x@y>",
	"(NIL NIL NIL NIL NIL ((\"a. b\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"a . b@c",
	"(NIL NIL NIL NIL NIL (({4}\r\na. b NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a. b@c",
	"(NIL NIL NIL NIL NIL (({4}\r\na. b NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a .b@c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a.b\" \"c\")) NIL NIL NIL NIL)"},
    {"x y z",
	"(NIL NIL NIL NIL NIL ((\"x y z\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"x y z@w",
	"(NIL NIL NIL NIL NIL ((\"x y z\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"\"x\" y",
	"(NIL NIL NIL NIL NIL ((\"x y\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"\"x\"",
	"(NIL NIL NIL NIL NIL ((\"x\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"x@y z",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"x (c)",
	"(NIL NIL NIL NIL NIL ((\"c\" NIL \"x\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"x@y (c1) (c2)",
	"(NIL NIL NIL NIL NIL ((\"c2\" NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"x@y (c1), z@w (c2)",
	"(NIL NIL NIL NIL NIL ((\"c1\" NIL \"x\" \"y\")(\"c2\" NIL \"z\" \"w\")) NIL NIL NIL NIL)"},
    {"(c0) x@y",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL)"},
    {"x <y@z> (c)",
	"(NIL NIL NIL NIL NIL ((\"x\" NIL \"y\" \"z\")) NIL NIL NIL NIL)"},
    {"a@b@c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b <c@d>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"<a@b> <c@d>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a,b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")(NIL NIL \"b\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@b,c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"\"a\"@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"\"a\".b@c",
	"(NIL NIL NIL NIL NIL ((\"a\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a.\"b\"@c",
	"(NIL NIL NIL NIL NIL ((\"a. b\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@\"b\"",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@b.c.",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@ b . c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL)"},
    {"<a @ b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"< a@b >",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"<a@b >x",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"<\"\">",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"<\"\" @b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"\" \"b\")) NIL NIL NIL NIL)"},
    {"<@>",
	"(NIL NIL NIL NIL NIL ((NIL \"INVALID_ROUTE\" \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"<@:a@b>",
	"(NIL NIL NIL NIL NIL ((NIL \"INVALID_ROUTE\" \"MISSING_MAILBOX\" \"SYNTAX_ERROR\")) NIL NIL NIL NIL)"},
    {"<@a@b>",
	"(NIL NIL NIL NIL NIL ((NIL \"INVALID_ROUTE\" \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"<:a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"SYNTAX_ERROR\")) NIL NIL NIL NIL)"},
    {"@:a@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"g: <a@b> ;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g : a@b ;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"\"g\" : a@b;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g (c) : a@b;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g: a@b, ;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g: , a@b;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g: a@b c@d;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g:: a@b;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"g: h: a@b;;",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"h\" \"MISSING_DOMAIN\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"},
    {"a@b (Na\\)me)",
	"(NIL NIL NIL NIL NIL ((\"Na)me\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b (x(y)z)",
	"(NIL NIL NIL NIL NIL ((\"x(y)z\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b ((c))",
	"(NIL NIL NIL NIL NIL ((\"(c)\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"a@b (c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@[b]c",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"[b]\")) NIL NIL NIL NIL)"},
    {"a@[b\\]c]",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"[b\\\\]c]\")) NIL NIL NIL NIL)"},
    {"a@[b[c]",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"a@[ b ]",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"[ b ]\")) NIL NIL NIL NIL)"},
    {"x <a@[1.2.3.4]>",
	"(NIL NIL NIL NIL NIL ((\"x\" NIL \"a\" \"[1.2.3.4]\")) NIL NIL NIL NIL)"},
    {"x\\y <a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"x\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"x\\ <a@b>",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"x\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)"},
    {"\"x\\y\" <a@b>",
	"(NIL NIL NIL NIL NIL ((\"xy\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"=?utf-8?b?w6Q=?= <a@b>",
	"(NIL NIL NIL NIL NIL ((\"=?utf-8?b?w6Q=?=\" NIL \"a\" \"b\")) NIL NIL NIL NIL)"},
    {"=?utf-8?b?w6Q=?=@b",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"=?utf-8?b?w6Q=?=\" \"b\")) NIL NIL NIL NIL)"},
    {"a@=?x?=",
	"(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"=?x?=\")) NIL NIL NIL NIL)"},
};

static void test_dovecot_addresses(void **state)
{
    VSTRING *msg = vstring_alloc(100);
    VSTRING *got = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(dovecot_to) / sizeof(dovecot_to[0]); i++) {
	MESSAGE_PART *top;

	vstring_sprintf(msg, "To: %s\n\nx\n", dovecot_to[i].to);
	top = parse(STR(msg), LEN(msg));
	vstring_reset(got);
	imap_envelope(got, top);
	vstring_strcpy(want, dovecot_to[i].envelope);
	same_reply(dovecot_to[i].to, got, want);
	message_part_free(top);
    }
    vstring_free(msg);
    vstring_free(got);
    vstring_free(want);
}

static void check(const char *message, const char *want)
{
    MESSAGE_PART *top = parse(message, strlen(message));
    VSTRING *got = vstring_alloc(100);

    imap_envelope(got, top);
    if (strcmp(STR(got), want) != 0)
	fail_msg("\n  got  %s\n  want %s", STR(got), want);
    vstring_free(got);
    message_part_free(top);
}

static void test_fields(void **state)
{
    check("\n", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    check("Date: Mon, 1\r\n Jan 2024\r\nSubject:  lead  and \t trail  \r\n"
	  "Message-ID: <a\n b>\nIn-Reply-To: <x@y> (c)\n\nx\n",
	  "(\"Mon, 1 Jan 2024\" \"lead and trail\" NIL NIL NIL NIL NIL NIL"
	  " \"<x@y> (c)\" \"<a b>\")");
    check("From: f@t\nSender: \nReply-To:\nFrom: g@t\nTo: a@b\nCc: c@d\n"
	  "Bcc: e@f\nSender: s@t\n\n",
	  "(NIL NIL ((NIL NIL \"f\" \"t\")(NIL NIL \"g\" \"t\")) ((NIL NIL \"s\" \"t\"))"
	  " ((NIL NIL \"f\" \"t\")(NIL NIL \"g\" \"t\")) ((NIL NIL \"a\" \"b\"))"
	  " ((NIL NIL \"c\" \"d\")) ((NIL NIL \"e\" \"f\")) NIL NIL)");
    check("Subject:\nTo: g: ;\n\n",
	  "(NIL \"\" NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)");
    check("Subject: =?utf-8?q?caf=C3=A9?= \xc3\xa4\n\n",
	  "(NIL {24}\r\n=?utf-8?q?caf=C3=A9?= \xc3\xa4 NIL NIL NIL NIL NIL NIL NIL NIL)");
    check("Subject: a\\\"b\nFrom: \"J\\\"o\" <j@x>\n\n",
	  "(NIL \"a\\\\\\\"b\" ((\"J\\\"o\" NIL \"j\" \"x\")) ((\"J\\\"o\" NIL \"j\" \"x\"))"
	  " ((\"J\\\"o\" NIL \"j\" \"x\")) NIL NIL NIL NIL NIL)");
}

static void test_humanize(void **state)
{
    VSTRING *out = vstring_alloc(10);

    imap_envelope_humanize(out, "  a \t b\r\n\tc  ", 13);
    assert_string_equal(STR(out), "a b c");
    imap_envelope_humanize(out, " \t\r\n ", 5);
    assert_string_equal(STR(out), "");
    imap_envelope_humanize(out, "x\r\ny", 4);
    assert_string_equal(STR(out), "xy");
    imap_envelope_humanize(out, "a\0b", 3);
    assert_int_equal(LEN(out), 3);
    assert_int_equal((unsigned char) STR(out)[1], 0x80);
    vstring_reset(out);
    imap_envelope_nstring_nolf(out, "<a\r\n\tb>");
    assert_string_equal(STR(out), "\"<a\tb>\"");
    vstring_reset(out);
    imap_envelope_nstring_nolf(out, 0);
    assert_string_equal(STR(out), "NIL");
    vstring_free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_corpus),
	cmocka_unit_test(test_dovecot_addresses),
	cmocka_unit_test(test_fields),
	cmocka_unit_test(test_humanize),
    };

    return (cmocka_run_group_tests_name("imap_envelope", tests, 0, 0));
}
