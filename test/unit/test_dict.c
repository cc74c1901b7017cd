/*
 * test_dict.c - unit tests for lib/dict*.c and lib/maps.c.
 *
 * Builds tables in a temporary directory: texthash files (comments,
 * continuation lines, lines without a value, binary junk), a hash: .db
 * made with the Berkeley DB API storing keys with their trailing NUL as
 * postmap does, plus inline:, static:, missing files and unknown types.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <db.h>
#include <utime.h>
#include "msg.h"
#include "vstring.h"
#include "mail_conf.h"
#include "dict.h"

static char tmpdir[] = "/tmp/test_dict.XXXXXX";
static VSTRING *path_buf;

static const char *tmp_path(const char *name)
{
    vstring_sprintf(path_buf, "%s/%s", tmpdir, name);
    return (STR(path_buf));
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE   *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* make_db - NAME.db of TYPE with (key, value) pairs, keys+values with NUL */

static void make_db(const char *name, DBTYPE type, const char **pairs)
{
    VSTRING *db_path = vstring_alloc(100);
    DB     *db;
    DBT     key, value;

    vstring_sprintf(db_path, "%s.db", name);
    assert_int_equal(db_create(&db, 0, 0), 0);
    assert_int_equal(db->open(db, 0, STR(db_path), 0, type,
			      DB_CREATE | DB_TRUNCATE, 0644), 0);
    for (; pairs[0] != 0; pairs += 2) {
	memset(&key, 0, sizeof(key));
	memset(&value, 0, sizeof(value));
	key.data = (void *) pairs[0];
	key.size = strlen(pairs[0]) + 1;
	value.data = (void *) pairs[1];
	value.size = strlen(pairs[1]) + 1;
	assert_int_equal(db->put(db, 0, &key, &value, 0), 0);
    }
    assert_int_equal(db->close(db, 0), 0);
    vstring_free(db_path);
}

static int setup(void **state)
{
    (void) state;
    msg_init("test_dict", MSG_TO_STDERR);
    assert_non_null(mkdtemp(tmpdir));
    path_buf = vstring_alloc(100);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);

    (void) state;
    vstring_sprintf(cmd, "rm -rf '%s'", tmpdir);
    if (system(STR(cmd)) != 0)
	fprintf(stderr, "cleanup of %s failed\n", tmpdir);
    vstring_free(cmd);
    vstring_free(path_buf);
    return (0);
}

static void test_texthash(void **state)
{
    static const char text[] =
	"# comment line\n"
	"alpha   one\n"
	"\n"
	"Beta\ttwo words  \n"
	"gamma first\n"
	"   continued here\n"
	"# comment between\n"
	"   and more\n"
	"novalue\n"
	"novalue2   \n"
	"alpha   duplicate\n"
	"last line-without-newline";
    VSTRING *name = vstring_alloc(100);
    DICT   *dict;

    (void) state;
    vstring_sprintf(name, "texthash:%s", tmp_path("th"));
    write_file(tmp_path("th"), text, sizeof(text) - 1);
    dict = dict_open(STR(name), DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "alpha"), "one");
    assert_string_equal(dict_lookup(dict, "BETA"), "two words");
    assert_string_equal(dict_lookup(dict, "gamma"),
			"first   continued here   and more");
    assert_null(dict_lookup(dict, "novalue"));
    assert_int_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "novalue2"));
    assert_null(dict_lookup(dict, "# comment"));
    assert_string_equal(dict_lookup(dict, "last"), "line-without-newline");
    assert_null(dict_lookup(dict, "missing"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);

    /* without folding, the stored key keeps its case */
    dict = dict_open(STR(name), 0);
    assert_null(dict_lookup(dict, "beta"));
    assert_string_equal(dict_lookup(dict, "Beta"), "two words");
    dict_close(dict);
    vstring_free(name);
}

static void test_texthash_junk(void **state)
{
    static const char junk[] =
	"\x01\x02\xff\xfe\n"
	"key\0with-nul value\n"
	"\xc3\xa9t\xc3\xa9 summer\n"
	"   \t  \n"
	"ok fine\n"
	"\r\n";
    VSTRING *name = vstring_alloc(100);
    DICT   *dict;

    (void) state;
    vstring_sprintf(name, "texthash:%s", tmp_path("junk"));
    write_file(tmp_path("junk"), junk, sizeof(junk) - 1);
    dict = dict_open(STR(name), DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "ok"), "fine");
    assert_string_equal(dict_lookup(dict, "\xc3\xa9t\xc3\xa9"), "summer");
    assert_null(dict_lookup(dict, "key"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
    vstring_free(name);
}

static void test_missing_file(void **state)
{
    VSTRING *name = vstring_alloc(100);
    DICT   *dict;

    (void) state;
    vstring_sprintf(name, "texthash:%s", tmp_path("nonexistent"));
    dict = dict_open(STR(name), 0);
    assert_non_null(dict);
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "x"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);

    vstring_sprintf(name, "hash:%s", tmp_path("nonexistent"));
    dict = dict_open(STR(name), 0);
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "x"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    vstring_free(name);
}

static void test_unknown_type(void **state)
{
    DICT   *dict;

    (void) state;
    dict = dict_open("foo:bar", 0);
    assert_non_null(dict);
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "x"));
    dict_close(dict);

    dict = dict_open("no-colon-here", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);

    dict = dict_open("unix:group.byname", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
}

static void test_hash(void **state)
{
    static const char *pairs[] = {
	"user@example.com", "OK",
	"example.org", "REJECT go away",
	0, 0,
    };
    VSTRING *name = vstring_alloc(100);
    DICT   *dict;

    (void) state;
    make_db(tmp_path("access"), DB_HASH, pairs);
    vstring_sprintf(name, "hash:%s", tmp_path("access"));
    dict = dict_open(STR(name), DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "user@example.com"), "OK");
    assert_string_equal(dict_lookup(dict, "User@Example.COM"), "OK");
    assert_string_equal(dict_lookup(dict, "example.org"), "REJECT go away");
    assert_null(dict_lookup(dict, "example.net"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);

    /* wrong type for the file: an error table, not a crash */
    vstring_sprintf(name, "btree:%s", tmp_path("access"));
    dict = dict_open(STR(name), 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);

    /* a source file newer than the .db: warned about, still used */
    write_file(tmp_path("access"), "x y\n", 4);
    {
	struct utimbuf ut = {time(0) + 100, time(0) + 100};

	assert_int_equal(utime(tmp_path("access"), &ut), 0);
    }
    vstring_sprintf(name, "hash:%s", tmp_path("access"));
    dict = dict_open(STR(name), 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "example.org"), "REJECT go away");
    dict_close(dict);
    vstring_free(name);
}

static void test_btree(void **state)
{
    static const char *pairs[] = {"a", "1", "b", "2", 0, 0};
    VSTRING *name = vstring_alloc(100);
    DICT   *dict;

    (void) state;
    make_db(tmp_path("bt"), DB_BTREE, pairs);
    vstring_sprintf(name, "btree:%s", tmp_path("bt"));
    dict = dict_open(STR(name), 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "b"), "2");
    assert_null(dict_lookup(dict, "c"));
    dict_close(dict);
    vstring_free(name);
}

static void test_inline(void **state)
{
    DICT   *dict;

    (void) state;
    dict = dict_open("inline:{ Key1=value1, key2=v2 ,"
		     " { key3 = value with spaces, and comma } }",
		     DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "key1"), "value1");
    assert_string_equal(dict_lookup(dict, "KEY2"), "v2");
    assert_string_equal(dict_lookup(dict, "key3"),
			"value with spaces, and comma");
    assert_null(dict_lookup(dict, "key4"));
    dict_close(dict);

    dict = dict_open("inline:{}", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    dict = dict_open("inline:{ novalue }", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    dict = dict_open("inline:{ a=b", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    dict = dict_open("inline:a=b", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    /* as in Postfix, white space separates entries outside braces */
    dict = dict_open("inline:{ a = b }", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    dict = dict_open("inline:{ =b }", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
}

static void test_static(void **state)
{
    DICT   *dict;

    (void) state;
    dict = dict_open("static:OK", 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "anything"), "OK");
    dict_close(dict);
    dict = dict_open("static:{ text with spaces }", 0);
    assert_string_equal(dict_lookup(dict, "x"), "text with spaces");
    dict_close(dict);
    dict = dict_open("static:{ unbalanced", 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
}

static void test_maps(void **state)
{
    static const char *pairs[] = {"a", "from-hash", 0, 0};
    VSTRING *spec = vstring_alloc(100);
    MAPS   *maps;

    (void) state;
    make_db(tmp_path("m1"), DB_HASH, pairs);
    vstring_sprintf(spec, "proxy:hash:%s, inline:{ a=from-inline, { b = x, y } }"
		    "  static:{default value}", tmp_path("m1"));
    maps = maps_create("test_maps", STR(spec), DICT_FLAG_FOLD_KEY);
    assert_int_equal(maps->count, 3);
    assert_string_equal(maps_find(maps, "A"), "from-hash");
    assert_string_equal(maps_find(maps, "b"), "x, y");
    assert_string_equal(maps_find(maps, "zz"), "default value");
    assert_int_equal(maps->error, 0);
    maps_free(maps);

    /* a failing table stops the search with an error */
    vstring_sprintf(spec, "inline:{a=1},hash:%s,static:never", tmp_path("nonexistent"));
    maps = maps_create("test_maps", STR(spec), 0);
    assert_string_equal(maps_find(maps, "a"), "1");
    assert_int_equal(maps->error, 0);
    assert_null(maps_find(maps, "b"));
    assert_int_not_equal(maps->error, 0);
    maps_free(maps);

    maps = maps_create("empty", "  ", 0);
    assert_int_equal(maps->count, 0);
    assert_null(maps_find(maps, "a"));
    assert_int_equal(maps->error, 0);
    maps_free(maps);
    vstring_free(spec);
}

static void test_unix(void **state)
{
    static const char passwd[] =
	"alice:x:1001:1002:Alice A:/home/alice:/bin/sh\n"
	"bob:*:1003:1004::/home/bob:/bin/false\n";
    VSTRING *conf = vstring_alloc(100);
    DICT   *dict;

    (void) state;
    write_file(tmp_path("passwd"), passwd, sizeof(passwd) - 1);
    vstring_sprintf(conf, "passwd_file = %s\n", tmp_path("passwd"));
    write_file(tmp_path("main.cf"), STR(conf), LEN(conf));
    mail_conf_set_dir(tmpdir);
    mail_conf_read(0);
    dict = dict_open("unix:passwd.byname", 0);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "alice"),
			"alice:x:1001:1002::/home/alice:/bin/sh");
    assert_string_equal(dict_lookup(dict, "bob"),
			"bob:x:1003:1004::/home/bob:/bin/false");
    assert_null(dict_lookup(dict, "carol"));
    assert_int_equal(dict->error, 0);
    assert_null(dict_lookup(dict, ""));
    dict_close(dict);
    vstring_free(conf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_texthash),
	cmocka_unit_test(test_texthash_junk),
	cmocka_unit_test(test_missing_file),
	cmocka_unit_test(test_unknown_type),
	cmocka_unit_test(test_hash),
	cmocka_unit_test(test_btree),
	cmocka_unit_test(test_inline),
	cmocka_unit_test(test_static),
	cmocka_unit_test(test_maps),
	cmocka_unit_test(test_unix),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
