/*
 * test_resolve.c - unit tests for lib/tables/resolve.c: address classes, virtual
 * alias expansion (virtual(5) lookup order, recursion, self reference,
 * limits, table errors) and transport selection (transport(5) search
 * order, parent domains, null fields, bad results).
 *
 * Tables are inline: and static: so no files are needed; a hash: table
 * that does not exist stands for a table that cannot answer.
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

/* configure - defaults plus NAME, VALUE pairs (NULL-terminated), then resolve_init */
static void configure(const char *name,...)
{
    va_list ap;

    mail_conf_set_dir("/nonexistent/posthorn-test");
    mail_conf_read(MAIL_CONF_MISSING_OK);
    mail_conf_update("myhostname", "mail.example.com");
    mail_conf_update("mydomain", "example.com");
    mail_conf_update("mydestination", "$myhostname, localhost, example.com, .sub.example.com");
    mail_conf_update("virtual_mailbox_domains", "virt.test");
    mail_conf_update("relay_domains", "relay.test");
    va_start(ap, name);
    for (const char *n = name; n; n = va_arg(ap, const char *))
	mail_conf_update(n, va_arg(ap, const char *));
    va_end(ap);
    resolve_init();
}

static void test_classes(void **state)
{
    configure("virtual_alias_maps", "inline:{ alias.test=x, a@alias.test=b }", (char *) 0);
    assert_int_equal(resolve_class(""), RESOLVE_CLASS_LOCAL);
    assert_int_equal(resolve_class("mail.example.com"), RESOLVE_CLASS_LOCAL);
    assert_int_equal(resolve_class("MAIL.Example.COM."), RESOLVE_CLASS_LOCAL);
    assert_int_equal(resolve_class("a.sub.example.com"), RESOLVE_CLASS_LOCAL);
    /* mydestination is not in parent_domain_matches_subdomains */
    assert_int_equal(resolve_class("x.example.com"), RESOLVE_CLASS_DEFAULT);
    assert_int_equal(resolve_class("alias.test"), RESOLVE_CLASS_ALIAS);
    assert_int_equal(resolve_class("virt.test"), RESOLVE_CLASS_VIRTUAL);
    assert_int_equal(resolve_class("relay.test"), RESOLVE_CLASS_RELAY);
    /* relay_domains is: subdomains match */
    assert_int_equal(resolve_class("a.relay.test"), RESOLVE_CLASS_RELAY);
    assert_int_equal(resolve_class("elsewhere.org"), RESOLVE_CLASS_DEFAULT);
    assert_int_equal(resolve_class("notrelay.test"), RESOLVE_CLASS_DEFAULT);
}

static void test_class_table_error(void **state)
{
    configure("virtual_alias_maps", "hash:/nonexistent/virtual", (char *) 0);
    assert_int_equal(resolve_class("example.com"), RESOLVE_CLASS_LOCAL);
    assert_int_equal(resolve_class("elsewhere.org"), RESOLVE_CLASS_ERROR);
}

/* expand - resolve_virtual_alias into a comma-joined string */
static int expand(const char *addr, VSTRING *buf)
{
    RESOLVE_ADDRS out;
    int     ret;

    resolve_addrs_init(&out);
    ret = resolve_virtual_alias(addr, &out);
    vstring_reset(buf);
    for (int i = 0; i < out.count; i++)
	vstring_sprintf_append(buf, "%s%s", i ? "," : "", out.addrs[i]);
    resolve_addrs_free(&out);
    return (ret);
}

static void test_alias_lookup_order(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    configure("virtual_alias_maps", "inline:{ "
	      "full@alias.test=one@x.test, "
	      "@alias.test=catchall@x.test, "
	      "info=local-info@x.test, "
	      "info@alias.test=alias-info@x.test }",
	      "virtual_alias_domains", "alias.test", (char *) 0);
    assert_int_equal(expand("full@alias.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "one@x.test");
    assert_int_equal(expand("FULL@Alias.Test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "one@x.test");
    assert_int_equal(expand("other@alias.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "catchall@x.test");
    /* "user" only in local domains */
    assert_int_equal(expand("info@example.com", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "local-info@x.test");
    assert_int_equal(expand("info@alias.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "alias-info@x.test");
    assert_int_equal(expand("info@elsewhere.org", buf), RESOLVE_ALIAS_NONE);
    assert_string_equal(STR(buf), "info@elsewhere.org");
    vstring_free(buf);
}

static void test_alias_lists(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    configure("virtual_alias_maps", "inline:{ "
	      "{ team@a.test = x@b.test, y@b.test  z@b.test } , "
	      "{ dup@a.test = x@b.test, X@B.test, x@b.test } , "
	      "bare@a.test=alice, "
	      "{ self@a.test = self@a.test, copy@b.test } , "
	      "nest@a.test=team@a.test, "
	      "{ quoted@a.test = \"a b\"@c.test, <d@c.test> } }", (char *) 0);
    assert_int_equal(expand("team@a.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "x@b.test,y@b.test,z@b.test");
    assert_int_equal(expand("dup@a.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "x@b.test");
    /* unqualified results get @$myorigin */
    assert_int_equal(expand("bare@a.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "alice@mail.example.com");
    /* an address that expands to itself is kept, once */
    assert_int_equal(expand("self@a.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "self@a.test,copy@b.test");
    assert_int_equal(expand("nest@a.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "x@b.test,y@b.test,z@b.test");
    assert_int_equal(expand("quoted@a.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "\"a b\"@c.test,d@c.test");
    vstring_free(buf);
}

static void test_alias_extension(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    configure("recipient_delimiter", "+",
	      "virtual_alias_maps", "inline:{ a@x.test=b@y.test, a+special@x.test=s@y.test }",
	      (char *) 0);
    assert_int_equal(expand("a+special@x.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "s@y.test");
    assert_int_equal(expand("a+foo@x.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "b+foo@y.test");
    /* a client-chosen extension with '@' stays inside the (quoted) local part */
    assert_int_equal(expand("\"a+x@evil.example\"@x.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "\"b+x@evil.example\"@y.test");
    configure("recipient_delimiter", "+", "propagate_unmatched_extensions", "canonical",
	      "virtual_alias_maps", "inline:{ a@x.test=b@y.test }", (char *) 0);
    assert_int_equal(expand("a+foo@x.test", buf), RESOLVE_ALIAS_FOUND);
    assert_string_equal(STR(buf), "b@y.test");
    vstring_free(buf);
}

static void test_alias_limits(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_strcpy(buf, "untouched");
    configure("virtual_alias_maps", "inline:{ a@x.test=b@x.test, b@x.test=a@x.test, "
	      "{ wide@x.test = 1@y.test, 2@y.test, 3@y.test, 4@y.test } }",
	      "virtual_alias_recursion_limit", "20",
	      "virtual_alias_expansion_limit", "3", (char *) 0);
    assert_int_equal(expand("a@x.test", buf), RESOLVE_ALIAS_LIMIT);
    assert_string_equal(STR(buf), "");
    assert_int_equal(expand("wide@x.test", buf), RESOLVE_ALIAS_LIMIT);
    configure("virtual_alias_maps", "hash:/nonexistent/virtual", (char *) 0);
    assert_int_equal(expand("a@x.test", buf), RESOLVE_ALIAS_TEMP);
    /* no table at all: nothing to expand */
    configure("virtual_alias_maps", "", (char *) 0);
    assert_int_equal(expand("a@x.test", buf), RESOLVE_ALIAS_NONE);
    assert_string_equal(STR(buf), "a@x.test");
    vstring_free(buf);
}

/* route - "transport:nexthop" for ADDR, or "FAIL" */
static const char *route(const char *addr, VSTRING *buf)
{
    RESOLVE_REPLY reply;
    VSTRING *why = vstring_alloc(100);

    resolve_reply_init(&reply);
    if (resolve_transport(addr, &reply, why) < 0)
	vstring_strcpy(buf, "FAIL");
    else
	vstring_sprintf(buf, "%s:%s", STR(reply.transport), STR(reply.nexthop));
    resolve_reply_free(&reply);
    vstring_free(why);
    return (STR(buf));
}

static void test_transport_defaults(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    configure("virtual_alias_domains", "alias.test", (char *) 0);
    assert_string_equal(route("u@example.com", buf), "local:mail.example.com");
    assert_string_equal(route("u@virt.test", buf), "local:virt.test");
    assert_string_equal(route("u@relay.test", buf), "relay:relay.test");
    assert_string_equal(route("u@Other.ORG", buf), "smtp:other.org");
    assert_string_equal(route("u@alias.test", buf),
			"error:5.1.1 User unknown in virtual alias table");
    configure("default_transport", "smtp:[relay.example]:587",
	      "relay_transport", "relay:", (char *) 0);
    assert_string_equal(route("u@other.org", buf), "smtp:[relay.example]:587");
    assert_string_equal(route("u@relay.test", buf), "relay:relay.test");
    vstring_free(buf);
}

static void test_transport_maps(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    configure("recipient_delimiter", "+",
	      "virtual_alias_domains", "alias.test",
	      "transport_maps", "inline:{ "
	      "special@other.org=local:, "
	      "{ b+x@other.org = error:5.1.2 ext match }, "
	      "b@other.org=retry:later, "
	      "other.org=smtp:[127.0.0.1]:2, "
	      ".parent.org=relay:[hub], "
	      "example.com=:ignored-host, "
	      "alias.test=local:, "
	      "{ nullhop.org = uucp: } , "
	      "{ keep.org = : } , "
	      "*=smtp:[fallback] }", (char *) 0);
    assert_string_equal(route("special@other.org", buf), "local:other.org");
    assert_string_equal(route("SPECIAL@OTHER.ORG", buf), "local:other.org");
    assert_string_equal(route("b+x@other.org", buf), "error:5.1.2 ext match");
    assert_string_equal(route("b+y@other.org", buf), "retry:later");
    assert_string_equal(route("c@other.org", buf), "smtp:[127.0.0.1]:2");
    /* ".parent" matches subdomains only; "parent.org" itself falls to "*" */
    assert_string_equal(route("c@a.b.parent.org", buf), "relay:[hub]");
    assert_string_equal(route("c@parent.org", buf), "smtp:[fallback]");
    /* a plain name does not match subdomains (Postfix's default) */
    assert_string_equal(route("c@sub.other.org", buf), "smtp:[fallback]");
    /* null transport keeps the class transport */
    assert_string_equal(route("c@example.com", buf), "local:ignored-host");
    assert_string_equal(route("c@nullhop.org", buf), "uucp:nullhop.org");
    assert_string_equal(route("c@keep.org", buf), "smtp:keep.org");
    /* transport_maps never override "User unknown in virtual alias table" */
    assert_string_equal(route("c@alias.test", buf),
			"error:5.1.1 User unknown in virtual alias table");
    configure("parent_domain_matches_subdomains", "relay_domains, transport_maps",
	      "transport_maps", "inline:{ other.org=local: }", (char *) 0);
    assert_string_equal(route("c@sub.other.org", buf), "local:sub.other.org");
    vstring_free(buf);
}

static void test_transport_bad(void **state)
{
    VSTRING *buf = vstring_alloc(100);

    configure("transport_maps", "inline:{ bad.org=../../etc:x, { sp.org = a b: } }",
	      (char *) 0);
    assert_string_equal(route("u@bad.org", buf), "FAIL");
    assert_string_equal(route("u@sp.org", buf), "FAIL");
    configure("transport_maps", "hash:/nonexistent/transport", (char *) 0);
    assert_string_equal(route("u@other.org", buf), "FAIL");
    configure("transport_maps", "nosuchtype:/x", (char *) 0);
    assert_string_equal(route("u@other.org", buf), "FAIL");
    assert_int_equal(resolve_transport_name_ok("local"), 1);
    assert_int_equal(resolve_transport_name_ok("smtp-out_2.x"), 1);
    assert_int_equal(resolve_transport_name_ok(""), 0);
    assert_int_equal(resolve_transport_name_ok(".."), 0);
    assert_int_equal(resolve_transport_name_ok("a/b"), 0);
    vstring_free(buf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_classes),
	cmocka_unit_test(test_class_table_error),
	cmocka_unit_test(test_alias_lookup_order),
	cmocka_unit_test(test_alias_lists),
	cmocka_unit_test(test_alias_extension),
	cmocka_unit_test(test_alias_limits),
	cmocka_unit_test(test_transport_defaults),
	cmocka_unit_test(test_transport_maps),
	cmocka_unit_test(test_transport_bad),
    };

    msg_init("test_resolve", 0);
    return (cmocka_run_group_tests(tests, 0, 0));
}
