/*
 * test_addr_rewrite.c - unit tests for lib/tables/addr_rewrite.c: the
 * canonical(5) search order and result forms, the class parameters,
 * recursion, masquerading with exceptions, relocated lookups, and tables
 * that cannot answer (a hash: table that does not exist).  Tables are
 * inline:, so no files are needed.
 */
#include "sys_defs.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "mail_conf.h"
#include "resolve.h"
#include "addr_rewrite.h"

static VSTRING *out;

/* configure - defaults plus NAME, VALUE pairs (NULL-terminated) */
static void configure(const char *name,...)
{
    va_list ap;

    mail_conf_set_dir("/nonexistent/posthorn-test");
    mail_conf_read(MAIL_CONF_MISSING_OK);
    mail_conf_update("myhostname", "mail.example.com");
    mail_conf_update("mydomain", "example.com");
    mail_conf_update("mydestination", "$myhostname, localhost, example.com");
    mail_conf_update("recipient_delimiter", "+");
    va_start(ap, name);
    for (const char *n = name; n; n = va_arg(ap, const char *))
	mail_conf_update(n, va_arg(ap, const char *));
    va_end(ap);
    resolve_init();
    addr_rewrite_init();
}

static const char *sender(const char *addr)
{
    assert_int_equal(addr_rewrite_sender(addr, out), 0);
    return (STR(out));
}

static const char *recipient(const char *addr)
{
    assert_int_equal(addr_rewrite_recipient(addr, out), 0);
    return (STR(out));
}

static void test_search_order(void **state)
{
    configure("canonical_maps", "inline:{ joe@example.com=joe.doe@example.com,"
	      " mary=mary.major, @old.example=@example.com,"
	      " @any.example=catchall@example.org, info@other.example=info }",
	      (char *) 0);
    assert_string_equal(recipient("joe@example.com"), "joe.doe@example.com");
    /* "user" keys for local domains only; results get @$myorigin */
    assert_string_equal(recipient("mary@example.com"), "mary.major@mail.example.com");
    assert_string_equal(recipient("mary@elsewhere.org"), "mary@elsewhere.org");
    assert_string_equal(recipient("info@other.example"), "info@mail.example.com");
    /* @domain: the same user elsewhere, or one address for all */
    assert_string_equal(recipient("bob@old.example"), "bob@example.com");
    assert_string_equal(recipient("x@any.example"), "catchall@example.org");
    /* an unmatched extension is kept */
    assert_string_equal(recipient("joe+list@example.com"), "joe.doe+list@example.com");
    assert_string_equal(recipient("nobody@example.net"), "nobody@example.net");
    assert_string_equal(sender(""), "");
}

static void test_classes_and_order(void **state)
{
    configure("sender_canonical_maps", "inline:{ a@example.com=b@example.com }",
	      "recipient_canonical_maps", "inline:{ r@example.com=s@example.com }",
	      "canonical_maps", "inline:{ b@example.com=c@example.com,"
	      " s@example.com=t@example.com }", (char *) 0);
    /* own table first, then canonical_maps */
    assert_string_equal(sender("a@example.com"), "c@example.com");
    assert_string_equal(recipient("r@example.com"), "t@example.com");
    assert_string_equal(recipient("a@example.com"), "a@example.com");
    configure("canonical_maps", "inline:{ x@example.com=y@example.com }",
	      "canonical_classes", "envelope_sender", (char *) 0);
    assert_string_equal(sender("x@example.com"), "y@example.com");
    assert_string_equal(recipient("x@example.com"), "x@example.com");
}

static void test_recursion(void **state)
{
    configure("canonical_maps", "inline:{ a@example.com=b@example.com,"
	      " b@example.com=c@example.com, loop1@example.com=loop2@example.com,"
	      " loop2@example.com=loop1@example.com, self@example.com=self@example.com }",
	      (char *) 0);
    assert_string_equal(recipient("a@example.com"), "c@example.com");
    assert_string_equal(recipient("self@example.com"), "self@example.com");
    /* a loop ends after the round limit with one of its addresses */
    recipient("loop1@example.com");
    assert_true(strcmp(STR(out), "loop1@example.com") == 0
		|| strcmp(STR(out), "loop2@example.com") == 0);
}

static void test_masquerade(void **state)
{
    configure("masquerade_domains", "!keep.example.com, example.com",
	      "masquerade_exceptions", "root, postmaster", (char *) 0);
    assert_string_equal(sender("joe@host.example.com"), "joe@example.com");
    assert_string_equal(sender("joe@a.b.example.com"), "joe@example.com");
    assert_string_equal(sender("joe@example.com"), "joe@example.com");
    assert_string_equal(sender("joe@keep.example.com"), "joe@keep.example.com");
    assert_string_equal(sender("root@host.example.com"), "root@host.example.com");
    assert_string_equal(sender("root+x@host.example.com"), "root+x@host.example.com");
    assert_string_equal(sender("joe@notexample.com"), "joe@notexample.com");
    /* recipients only when masquerade_classes says so */
    assert_string_equal(recipient("joe@host.example.com"), "joe@host.example.com");
    configure("masquerade_domains", "example.com",
	      "masquerade_classes", "envelope_recipient", (char *) 0);
    assert_string_equal(recipient("joe@host.example.com"), "joe@example.com");
    assert_string_equal(sender("joe@host.example.com"), "joe@host.example.com");
}

static void test_relocated(void **state)
{
    configure("relocated_maps", "inline:{ gone@example.com=new@example.org,"
	      " @closed.example=contact@example.org }", (char *) 0);
    assert_int_equal(addr_rewrite_relocated("gone@example.com", out), 1);
    assert_string_equal(STR(out), "new@example.org");
    assert_int_equal(addr_rewrite_relocated("gone+x@example.com", out), 1);
    assert_int_equal(addr_rewrite_relocated("x@closed.example", out), 1);
    assert_string_equal(STR(out), "contact@example.org");
    assert_int_equal(addr_rewrite_relocated("here@example.com", out), 0);
    configure((char *) 0);
    assert_int_equal(addr_rewrite_relocated("gone@example.com", out), 0);
}

static void test_table_errors(void **state)
{
    configure("canonical_maps", "hash:/nonexistent/canonical",
	      "relocated_maps", "hash:/nonexistent/relocated", (char *) 0);
    assert_int_equal(addr_rewrite_sender("a@example.com", out), -1);
    assert_int_equal(addr_rewrite_recipient("a@example.com", out), -1);
    assert_int_equal(addr_rewrite_relocated("a@example.com", out), -1);
    assert_int_equal(addr_rewrite_sender("", out), 0);	/* <> is never looked up */
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_search_order),
	cmocka_unit_test(test_classes_and_order),
	cmocka_unit_test(test_recursion),
	cmocka_unit_test(test_masquerade),
	cmocka_unit_test(test_relocated),
	cmocka_unit_test(test_table_errors),
    };

    msg_init("test_addr_rewrite", 0);
    msg_logfile("/dev/null");
    out = vstring_alloc(100);
    return (cmocka_run_group_tests(tests, 0, 0));
}
