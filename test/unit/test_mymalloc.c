/*
 * test_mymalloc.c - unit tests for lib/util/mymalloc.c: the wrappers
 * return usable memory of the size asked (zeroed for mycalloc), copies
 * are exact and terminated, and mymalloc_big() memory is all writable
 * and freed with myfree(), large or small.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "mymalloc.h"

static void test_basic(void **state)
{
    char   *p = mymalloc(0);			/* never NULL, also for 0 */
    unsigned char *z = mycalloc(1000, 3);
    int     i;

    assert_non_null(p);
    myfree(p);
    for (i = 0; i < 3000; i++)
	assert_int_equal(z[i], 0);
    z = myrealloc(z, 100000);
    z[99999] = 7;
    assert_int_equal(z[2999], 0);
    myfree(z);
}

static void test_copies(void **state)
{
    char   *s = mystrdup("hello");
    char   *n = mystrndup("hello world", 5);
    char   *m = mymemdup("a\0b", 3);

    assert_string_equal(s, "hello");
    assert_string_equal(n, "hello");
    assert_memory_equal(m, "a\0b", 3);
    myfree(s);
    myfree(n);
    myfree(m);
}

static void test_big(void **state)
{
    size_t  sizes[] = {1, 4095, 256 * 1024, 3 * 1024 * 1024 + 17};
    size_t  i, j;
    unsigned char *p;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
	p = mymalloc_big(sizes[i]);
	for (j = 0; j < sizes[i]; j++)
	    p[j] = (unsigned char) j;
	for (j = 0; j < sizes[i]; j += 4093)
	    assert_int_equal(p[j], (unsigned char) j);
	assert_int_equal(p[sizes[i] - 1], (unsigned char) (sizes[i] - 1));
	p = myrealloc(p, sizes[i] * 2);		/* as any other block */
	assert_int_equal(p[0], 0);
	myfree(p);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_basic),
	cmocka_unit_test(test_copies),
	cmocka_unit_test(test_big),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
