/*
 * test_imap_bodystructure.c - unit tests for lib/imap/imap_bodystructure.c.
 *
 * Every message in test/unit/data/mail/ (parsed in pieces of 13 bytes)
 * must give the BODYSTRUCTURE and BODY that Dovecot 2.3 gave for it
 * (NAME.dovecot), or the deliberate answer in NAME.posthorn; replies are
 * compared as IMAP values, so a quoted string equals a literal with the
 * same bytes.  Hand-made cases check the parts of the grammar one by one:
 * the default charset, parameter and disposition lists, languages,
 * literals for 8-bit text, CR/LF dropped from Content-ID and friends, a
 * multipart without parts, message/rfc822 with envelope and line count,
 * and the BODY form without extension data.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_part.h"
#include "imap_bodystructure.h"

#include "mail_fixture.h"

static void check_bodystructure(const CORPUS_MSG *cm, void *unused)
{
    VSTRING *want = vstring_alloc(1000);
    VSTRING *got = vstring_alloc(1000);
    VSTRING *what = vstring_alloc(100);

    for (int extended = 0; extended <= 1; extended++) {
	const char *item = extended ? "BODYSTRUCTURE" : "BODY";

	assert_true(expected(cm->path, item, want));
	vstring_reset(got);
	imap_bodystructure(got, cm->top, extended);
	vstring_sprintf(what, "%s %s", cm->name, item);
	same_reply(STR(what), got, want);
    }
    vstring_free(want);
    vstring_free(got);
    vstring_free(what);
}

static void test_corpus(void **state)
{
    corpus_check(check_bodystructure, 0);
}

/* check - the reply for one message, both forms */

static void check(const char *message, const char *want_body,
		          const char *want_structure)
{
    MESSAGE_PART *top = parse(message, strlen(message));
    VSTRING *got = vstring_alloc(100);

    imap_bodystructure(got, top, 0);
    if (strcmp(STR(got), want_body) != 0)
	fail_msg("BODY\n  got  %s\n  want %s", STR(got), want_body);
    vstring_reset(got);
    imap_bodystructure(got, top, 1);
    if (strcmp(STR(got), want_structure) != 0)
	fail_msg("BODYSTRUCTURE\n  got  %s\n  want %s", STR(got), want_structure);
    vstring_free(got);
    message_part_free(top);
}

static void test_leaf(void **state)
{
    check("Subject: x\n\nbody\n",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1"
	  " NIL NIL NIL NIL)");
    check("MIME-Version: 1.0\nContent-Type: text/html; format=flowed\n"
	  "Content-ID: <a\n b>\nContent-Description: \xc3\xa4\n"
	  "Content-Transfer-Encoding: base64\nContent-MD5: Q==\n"
	  "Content-Disposition: inline\nContent-Language: en, de\n"
	  "Content-Location: http://x/\n y\n\nYQ==\n",
	  "(\"text\" \"html\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") "
	  "\"<a b>\" {2}\r\n\xc3\xa4 \"base64\" 6 1)",
	  "(\"text\" \"html\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") "
	  "\"<a b>\" {2}\r\n\xc3\xa4 \"base64\" 6 1 \"Q==\" (\"inline\" NIL) "
	  "(\"en\" \"de\") \"http://x/ y\")");
    check("Content-Type: image/png; name=\"a \\\"b\\\" \xc3\xa4.png\"\n"
	  "Content-Disposition: attachment; filename=x.png; size=5\n\nxxxxx",
	  "(\"image\" \"png\" (\"name\" {12}\r\na \"b\" \xc3\xa4.png) NIL NIL \"7bit\" 5)",
	  "(\"image\" \"png\" (\"name\" {12}\r\na \"b\" \xc3\xa4.png) NIL NIL \"7bit\" 5"
	  " NIL (\"attachment\" (\"filename\" \"x.png\" \"size\" \"5\")) NIL NIL)");
}

static void test_multipart(void **state)
{
    check("Content-Type: multipart/mixed\n\nno boundary\n",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
	  " \"mixed\")",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"
	  " NIL NIL NIL NIL) \"mixed\" NIL NIL NIL NIL)");
    check("Content-Type: multipart/alternative; boundary=b\n"
	  "Content-Language: fr\n\n--b\n\nx\n--b\nContent-Type: text/html\n\n<b>\n--b--\n",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0)"
	  "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)"
	  " \"alternative\")",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0"
	  " NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL"
	  " \"7bit\" 3 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b\") NIL"
	  " (\"fr\") NIL)");
}

static void test_message_rfc822(void **state)
{
    check("Content-Type: message/RFC822\n\nSubject: in\nFrom: a@b\n\nbody\n",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 32 (NIL \"in\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	  " \"7bit\" 6 1) 4)",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 32 (NIL \"in\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	  " \"7bit\" 6 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_corpus),
	cmocka_unit_test(test_leaf),
	cmocka_unit_test(test_multipart),
	cmocka_unit_test(test_message_rfc822),
    };

    return (cmocka_run_group_tests_name("imap_bodystructure", tests, 0, 0));
}
