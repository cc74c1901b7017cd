/*
 * test_dict_lmdb.c - unit tests for lib/tables/dict_lmdb.c (lmdb: tables).
 *
 * Tables are built with dict_open3() as postmap builds them (a new file
 * renamed into place at dict_close(), the old file's mode kept), read
 * back (keys stored with and without their NUL, dict_sequence), updated
 * and deleted in place, grown past the first 16 MiB memory map, and
 * broken: a missing file, a file that is not LMDB, one cut in half,
 * duplicate keys.  Nothing may crash; a table that cannot answer says so
 * with ->error.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <sys/time.h>
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_fixture.h"

static int setup(void **state)
{
    (void) state;
    return (fixture_setup("test_dict_lmdb"));
}

static int teardown(void **state)
{
    (void) state;
    return (fixture_teardown());
}

/* lmdb_name - "lmdb:DIR/NAME" */

static const char *lmdb_name(const char *name)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_sprintf(buf, "lmdb:%s", fixture_path(name));
    return (STR(buf));
}

/* build - a new table NAME with COUNT pairs from PAIRS (key, value, ...) */

static void build(const char *name, int flags, const char **pairs, int count)
{
    DICT   *dict = dict_open3(lmdb_name(name), O_RDWR | O_CREAT | O_TRUNC, flags);

    assert_int_equal(dict->error, 0);
    for (int i = 0; i < count; i++)
	assert_int_equal(dict_update(dict, pairs[2 * i], pairs[2 * i + 1]), 0);
    assert_int_equal(dict_close(dict), 0);
}

static void test_build_and_read(void **state)
{
    static const char *pairs[] = {
	"a@example.com", "A", "b@example.com", "B value", "empty", "",
    };
    struct stat st;
    DICT   *dict;
    const char *key;
    const char *value;
    int     n = 0;

    (void) state;
    build("basic", 0, pairs, 3);
    assert_int_equal(stat(fixture_path("basic.lmdb"), &st), 0);
    assert_int_equal(access(fixture_path("basic.lmdb-lock"), F_OK), -1);
    dict = dict_open(lmdb_name("basic"), DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "A@Example.COM"), "A");
    assert_string_equal(dict_lookup(dict, "b@example.com"), "B value");
    assert_string_equal(dict_lookup(dict, "empty"), "");
    assert_null(dict_lookup(dict, "c@example.com"));
    assert_int_equal(dict->error, 0);
    for (int f = DICT_SEQ_FIRST; dict_sequence(dict, f, &key, &value) == 0; f = DICT_SEQ_NEXT)
	n++;
    assert_int_equal(n, 3);
    assert_int_equal(dict_sequence(dict, DICT_SEQ_NEXT, &key, &value), 1);
    /* a read-only table takes no updates */
    assert_int_equal(dict_update(dict, "x", "y"), -1);
    dict_close(dict);
}

static void test_without_nul(void **state)
{
    static const char *pairs[] = {"k", "v"};
    DICT   *dict;

    (void) state;
    build("nonul", DICT_FLAG_TRY0NULL, pairs, 1);
    dict = dict_open(lmdb_name("nonul"), 0);
    assert_string_equal(dict_lookup(dict, "k"), "v");
    dict_close(dict);
    dict = dict_open(lmdb_name("nonul"), DICT_FLAG_TRY1NULL);
    assert_null(dict_lookup(dict, "k"));		/* only the other form */
    dict_close(dict);
}

static void test_duplicates(void **state)
{
    DICT   *dict;

    (void) state;
    dict = dict_open3(lmdb_name("dups"), O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_DUP_WARN);
    log_forget();
    assert_int_equal(dict_update(dict, "k", "first"), 0);
    assert_int_equal(dict_update(dict, "k", "second"), 1);
    assert_true(log_has("dups.lmdb: duplicate entry: \"k\""));
    dict->flags = (dict->flags & ~DICT_FLAG_DUP_WARN) | DICT_FLAG_DUP_REPLACE;
    assert_int_equal(dict_update(dict, "r", "first"), 0);
    assert_int_equal(dict_update(dict, "r", "second"), 0);
    assert_int_equal(dict_close(dict), 0);
    dict = dict_open(lmdb_name("dups"), 0);
    assert_string_equal(dict_lookup(dict, "k"), "first");
    assert_string_equal(dict_lookup(dict, "r"), "second");
    dict_close(dict);
}

static void test_update_in_place(void **state)
{
    static const char *pairs[] = {"a", "1", "b", "2"};
    DICT   *dict;

    (void) state;
    build("inplace", 0, pairs, 2);
    dict = dict_open3(lmdb_name("inplace"), O_RDWR, DICT_FLAG_DUP_REPLACE);
    assert_int_equal(dict->error, 0);
    assert_int_equal(dict_update(dict, "c", "3"), 0);
    assert_int_equal(dict_update(dict, "a", "one"), 0);
    assert_string_equal(dict_lookup(dict, "c"), "3");	/* its own change */
    assert_int_equal(dict_delete(dict, "b"), 0);
    assert_int_equal(dict_delete(dict, "nothere"), 1);
    assert_int_equal(dict_close(dict), 0);
    dict = dict_open(lmdb_name("inplace"), 0);
    assert_string_equal(dict_lookup(dict, "a"), "one");
    assert_null(dict_lookup(dict, "b"));
    assert_string_equal(dict_lookup(dict, "c"), "3");
    dict_close(dict);
    /* O_RDWR on a missing table fails; with O_CREAT it is made */
    dict = dict_open3(lmdb_name("nosuch"), O_RDWR, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), -1);
    dict = dict_open3(lmdb_name("nosuch"), O_RDWR | O_CREAT, 0);
    assert_int_equal(dict->error, 0);
    assert_int_equal(dict_update(dict, "x", "y"), 0);
    assert_int_equal(dict_close(dict), 0);
}

static void test_growth(void **state)
{
    DICT   *dict;
    VSTRING *key = vstring_alloc(100);
    VSTRING *value = vstring_alloc(5000);
    struct stat st;
    int     count = 12000;

    (void) state;
    for (int i = 0; i < 4000; i++)
	vstring_addch(value, 'v');
    dict = dict_open3(lmdb_name("big"), O_RDWR | O_CREAT | O_TRUNC, 0);
    for (int i = 0; i < count; i++) {
	vstring_sprintf(key, "key%06d", i);
	assert_int_equal(dict_update(dict, STR(key), STR(value)), 0);
    }
    assert_int_equal(dict_close(dict), 0);
    assert_int_equal(stat(fixture_path("big.lmdb"), &st), 0);
    assert_true(st.st_size > 32 * 1024 * 1024);
    dict = dict_open(lmdb_name("big"), 0);
    vstring_sprintf(key, "key%06d", count - 1);
    assert_non_null(dict_lookup(dict, STR(key)));
    assert_int_equal(strlen(dict_lookup(dict, "key000000")), 4000);
    dict_close(dict);
    vstring_free(key);
    vstring_free(value);
}

static void test_keeps_mode(void **state)
{
    static const char *pairs[] = {"a", "1"};
    struct stat st;

    (void) state;
    build("mode", 0, pairs, 1);
    assert_int_equal(chmod(fixture_path("mode.lmdb"), 0640), 0);
    build("mode", 0, pairs, 1);
    assert_int_equal(stat(fixture_path("mode.lmdb"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
}

static void test_broken_files(void **state)
{
    static const char *pairs[] = {"a", "1", "b", "2"};
    char    junk[8192];
    DICT   *dict;
    struct stat st;

    (void) state;
    log_forget();
    dict = dict_open(lmdb_name("missing"), 0);
    assert_int_not_equal(dict->error, 0);
    assert_true(log_has("missing.lmdb: No such file or directory"));
    assert_null(dict_lookup(dict, "a"));
    dict_close(dict);

    for (size_t i = 0; i < sizeof(junk); i++)
	junk[i] = (char) (i * 7 + 3);
    fixture_write("junk.lmdb", junk, sizeof(junk));
    dict = dict_open(lmdb_name("junk"), 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);

    fixture_write("short.lmdb", "LMDB?", 5);
    dict = dict_open(lmdb_name("short"), 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);

    /* tables cut short: they do not open (no page read beyond the end) */
    build("cut", 0, pairs, 2);
    assert_int_equal(stat(fixture_path("cut.lmdb"), &st), 0);
    for (off_t len = st.st_size - 4096; len > 0; len -= 4096) {
	assert_int_equal(truncate(fixture_path("cut.lmdb"), len), 0);
	log_forget();
	dict = dict_open(lmdb_name("cut"), 0);
	assert_int_not_equal(dict->error, 0);
	assert_true(log_has("cut.lmdb: "));
	dict_close(dict);
    }
}

static void test_older_than_source(void **state)
{
    static const char *pairs[] = {"a", "1"};
    struct timeval times[2] = {{1000, 0}, {1000, 0}};
    DICT   *dict;

    (void) state;
    build("aged", 0, pairs, 1);
    fixture_write("aged", "a 1\n", 4);
    assert_int_equal(utimes(fixture_path("aged.lmdb"), times), 0);
    log_forget();
    dict = dict_open(lmdb_name("aged"), 0);
    assert_true(log_has("aged.lmdb is older than source file"));
    assert_string_equal(dict_lookup(dict, "a"), "1");
    dict_close(dict);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_build_and_read),
	cmocka_unit_test(test_without_nul),
	cmocka_unit_test(test_duplicates),
	cmocka_unit_test(test_update_in_place),
	cmocka_unit_test(test_growth),
	cmocka_unit_test(test_keeps_mode),
	cmocka_unit_test(test_broken_files),
	cmocka_unit_test(test_older_than_source),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
