/*
 * test_vstring.c - unit tests for lib/util/vstring.c (growable strings).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sys_defs.h"
#include "vstring.h"
#include "mymalloc.h"

static void test_grow_and_terminate(void **state)
{
    VSTRING *vp = vstring_alloc(1);

    for (int i = 0; i < 100000; i++)
	vstring_addch(vp, 'a' + i % 26);
    assert_int_equal(LEN(vp), 100000);
    assert_int_equal(STR(vp)[100000], 0);
    assert_int_equal(STR(vp)[25], 'z');
    vstring_free(vp);
}

static void test_binary_data(void **state)
{
    VSTRING *vp = vstring_alloc(4);
    const char data[] = {'a', 0, 'b', 0};

    vstring_memcpy(vp, data, 4);
    assert_int_equal(LEN(vp), 4);
    assert_memory_equal(STR(vp), data, 4);
    vstring_memcat(vp, data, 4);
    assert_int_equal(LEN(vp), 8);
    vstring_free(vp);
}

static void test_sprintf(void **state)
{
    VSTRING *vp = vstring_alloc(2);
    char    big[5000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vstring_sprintf(vp, "%s-%d", "id", 42);
    assert_string_equal(STR(vp), "id-42");
    vstring_sprintf_append(vp, "/%s", big);
    assert_int_equal(LEN(vp), 5 + 1 + 4999);
    vstring_sprintf(vp, "%s", "");
    assert_int_equal(LEN(vp), 0);
    vstring_free(vp);
}

static void test_truncate_drop_lower(void **state)
{
    VSTRING *vp = vstring_alloc(10);

    vstring_strcpy(vp, "Hello World");
    vstring_truncate(vp, 5);
    assert_string_equal(STR(vp), "Hello");
    vstring_truncate(vp, 50);			/* longer: no change */
    assert_string_equal(STR(vp), "Hello");
    vstring_drop_head(vp, 2);
    assert_string_equal(STR(vp), "llo");
    vstring_drop_head(vp, 10);
    assert_int_equal(LEN(vp), 0);
    vstring_strcpy(vp, "MiXeD@Example.COM");
    vstring_lowercase(vp);
    assert_string_equal(STR(vp), "mixed@example.com");
    vstring_strncpy(vp, "abcdef", 3);
    assert_string_equal(STR(vp), "abc");
    vstring_free(vp);
}

static void test_export(void **state)
{
    VSTRING *vp = vstring_alloc(10);
    char   *s;

    vstring_strcpy(vp, "kept");
    s = vstring_export(vp);
    assert_string_equal(s, "kept");
    myfree(s);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_grow_and_terminate),
	cmocka_unit_test(test_binary_data),
	cmocka_unit_test(test_sprintf),
	cmocka_unit_test(test_truncate_drop_lower),
	cmocka_unit_test(test_export),
    };

    return (cmocka_run_group_tests_name("vstring", tests, 0, 0));
}
