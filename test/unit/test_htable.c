/*
 * test_htable.c - unit tests for lib/util/htable.c (string-keyed hash table).
 *
 * Enter, locate, replace, add (one probe), keys with lengths (not
 * NUL-terminated), growth past many doublings, and deletion that keeps
 * every other key findable (checked against a plain array after each of
 * many random deletions).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "htable.h"

static void test_enter_locate(void **state)
{
    HTABLE *table = htable_create(0);
    HTABLE_INFO *info;
    int     a = 1, b = 2;

    assert_null(htable_locate(table, "a"));
    htable_enter(table, "a", &a);
    htable_enter(table, "b", &b);
    htable_enter(table, "", &b);
    assert_int_equal(htable_count(table), 3);
    info = htable_locate(table, "a");
    assert_non_null(info);
    assert_ptr_equal(info->value, &a);
    assert_ptr_equal(htable_locate(table, "")->value, &b);
    /* replacing keeps one entry */
    htable_enter(table, "a", &b);
    assert_int_equal(htable_count(table), 3);
    assert_ptr_equal(htable_locate(table, "a")->value, &b);
    assert_null(htable_locate(table, "c"));
    assert_null(htable_locate(table, "ab"));
    htable_free(table);
}

static void test_lengths(void **state)
{
    HTABLE *table = htable_create(4);
    const char *text = "abc:2,S";

    /* the key "abc" inside a longer string */
    htable_enter_len(table, text, 3, (void *) (uintptr_t) 7);
    assert_non_null(htable_locate(table, "abc"));
    assert_null(htable_locate(table, "abc:2,S"));
    assert_int_equal((uintptr_t) htable_locate_len(table, "abcdef", 3)->value, 7);
    assert_null(htable_locate_len(table, "abcdef", 4));
    assert_int_equal(htable_delete_len(table, "abcx", 3), 1);
    assert_int_equal(htable_count(table), 0);
    htable_free(table);
}

static void test_grow_and_delete(void **state)
{
    enum {
	COUNT = 5000
    };
    char    names[COUNT][16];
    int     present[COUNT];
    HTABLE *table = htable_create(1);
    int     i, round;

    for (i = 0; i < COUNT; i++) {
	snprintf(names[i], sizeof(names[i]), "key%d", i);
	htable_enter(table, names[i], (void *) (uintptr_t) i);
	present[i] = 1;
    }
    assert_int_equal(htable_count(table), COUNT);
    srandom(12345);
    for (round = 0; round < COUNT; round++) {
	int     k = (int) (random() % COUNT);

	assert_int_equal(htable_delete(table, names[k]), present[k]);
	present[k] = 0;
	if (round % 500 == 0 || round == COUNT - 1) {
	    for (i = 0; i < COUNT; i++) {
		HTABLE_INFO *info = htable_locate(table, names[i]);

		if (present[i]) {
		    assert_non_null(info);
		    assert_int_equal((uintptr_t) info->value, i);
		} else {
		    assert_null(info);
		}
	    }
	}
    }
    /* the table still takes new keys after deletions */
    for (i = 0; i < COUNT; i++)
	htable_enter(table, names[i], (void *) (uintptr_t) (i + 1));
    assert_int_equal(htable_count(table), COUNT);
    for (i = 0; i < COUNT; i++)
	assert_int_equal((uintptr_t) htable_locate(table, names[i])->value, i + 1);
    htable_free(table);
}

/* htable_add_len: one probe that says whether the key was new; keys that
 * differ only past a word or in a zero byte are different keys */

static void test_add(void **state)
{
    static const char keys[] = "abcdefgh12345678abcdefgh12345679";
    HTABLE *table = htable_create(0);
    HTABLE_INFO *info;
    int     added;
    int     n = 7;

    info = htable_add_len(table, keys, 16, &added);
    assert_true(added);
    assert_null(info->value);
    info->value = &n;
    info = htable_add_len(table, keys, 16, &added);
    assert_false(added);
    assert_ptr_equal(info->value, &n);
    /* same first 16 bytes, other lengths; last byte differs */
    htable_add_len(table, keys, 15, &added);
    assert_true(added);
    htable_add_len(table, keys + 16, 16, &added);
    assert_true(added);
    htable_add_len(table, keys, 32, &added);
    assert_true(added);
    htable_add_len(table, "a\0", 2, &added);
    assert_true(added);
    htable_add_len(table, "a", 1, &added);
    assert_true(added);
    assert_int_equal(htable_count(table), 6);
    assert_ptr_equal(htable_locate_len(table, keys, 16)->value, &n);
    htable_free(table);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_enter_locate),
	cmocka_unit_test(test_lengths),
	cmocka_unit_test(test_grow_and_delete),
	cmocka_unit_test(test_add),
    };

    msg_init("test_htable", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, 0, 0));
}
