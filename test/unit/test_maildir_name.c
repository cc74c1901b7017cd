/*
 * test_maildir_name.c - unit tests for lib/store/maildir_name.c (flags,
 * keywords, sizes and delivery times in Maildir file names).
 */
#include "sys_defs.h"

#include <limits.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "store.h"
#include "maildir_name.h"

static void test_flags(void **state)
{
    unsigned flags, keywords;

    maildir_name_flags("1.M1P1.h,S=5:2,DFPRST", &flags, &keywords);
    assert_int_equal(flags, STORE_DRAFT | STORE_FLAGGED | STORE_ANSWERED
		     | STORE_SEEN | STORE_DELETED);
    assert_int_equal(keywords, 0);
    maildir_name_flags("1.M1P1.h:2,Sacz", &flags, &keywords);
    assert_int_equal(flags, STORE_SEEN);
    assert_int_equal(keywords, 1 | 4 | (1U << 25));
    maildir_name_flags("1.M1P1.h:2,", &flags, &keywords);
    assert_int_equal(flags | keywords, 0);
    maildir_name_flags("1.M1P1.h", &flags, &keywords);
    assert_int_equal(flags | keywords, 0);
    maildir_name_flags("1.M1P1.h:1,S", &flags, &keywords);
    assert_int_equal(flags | keywords, 0);
    maildir_name_flags("1.M1P1.h:2,S9,!X", &flags, &keywords);
    assert_int_equal(flags, STORE_SEEN);
    assert_int_equal(keywords, 0);
    assert_int_equal(maildir_base_len("abc:2,S"), 3);
    assert_int_equal(maildir_base_len("abc"), 3);
}

static void test_sizes(void **state)
{
    const char *name = "1.M1P1.h,S=1234,W=1300:2,S";
    size_t  base = maildir_base_len(name);

    assert_int_equal(maildir_name_size(name, base, 'S'), 1234);
    assert_int_equal(maildir_name_size(name, base, 'W'), 1300);
    assert_int_equal(maildir_name_size(name, base, 'X'), -1);
    /* only in the base part, and only a whole number */
    assert_int_equal(maildir_name_size("1.h:2,S=5", 3, 'S'), -1);
    assert_int_equal(maildir_name_size("1.h,S=12x", 9, 'S'), -1);
    assert_int_equal(maildir_name_size("1.h,S=", 6, 'S'), -1);
    assert_int_equal(maildir_name_size("1.h,S=x,S=7", 11, 'S'), 7);
    assert_int_equal(maildir_name_size("1.h,S=99999999999999999999999", 29,
				       'S'), -1);
    assert_int_equal(maildir_name_size("S=5", 3, 'S'), -1);
}

static void test_info(void **state)
{
    VSTRING *info = vstring_alloc(10);

    maildir_name_info(info, "1.h", STORE_SEEN | STORE_DRAFT, 0);
    assert_string_equal(STR(info), ":2,DS");
    maildir_name_info(info, "1.h:2,PRZb", STORE_SEEN, 1);
    assert_string_equal(STR(info), ":2,PSZa");
    maildir_name_info(info, "1.h:2,FS", 0, 0);
    assert_string_equal(STR(info), ":2,");
    maildir_name_info(info, "1.h:1,xyz", STORE_FLAGGED | STORE_ANSWERED
		      | STORE_DELETED, (1U << 25) | 1);
    assert_string_equal(STR(info), ":2,FRTaz");
    vstring_free(info);
}

static void test_stamp(void **state)
{
    unsigned long secs, usecs;

    maildir_name_stamp("1700000000.M123P1.host", &secs, &usecs);
    assert_int_equal(secs, 1700000000);
    assert_int_equal(usecs, 123);
    maildir_name_stamp("1700000000.P1.host", &secs, &usecs);
    assert_int_equal(secs, 1700000000);
    assert_int_equal(usecs, 0);
    maildir_name_stamp("host", &secs, &usecs);
    assert_int_equal(secs, 0);
    assert_int_equal(usecs, 0);
    maildir_name_stamp("99999999999999999999999999.M1", &secs, &usecs);
    assert_true(secs == ULONG_MAX);
    assert_int_equal(usecs, 1);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_flags),
	cmocka_unit_test(test_sizes),
	cmocka_unit_test(test_info),
	cmocka_unit_test(test_stamp),
    };

    msg_init("test_maildir_name", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, 0, 0));
}
