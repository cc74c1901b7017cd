/*
 * test_dict.c - unit tests for lib/dict*.c and lib/tables/maps.c.
 *
 * Builds tables in a temporary directory: texthash files (comments,
 * continuation lines, lines without a value, binary junk), a hash: .db
 * made with the Berkeley DB API storing keys with their trailing NUL as
 * postmap does, plus inline:, static:, missing files and unknown types.
 * Writing: new tables (temporary file renamed at close, so an open reader
 * keeps the old data), in-place updates under a lock, delete, sequence,
 * the three duplicate modes, the NUL conventions, corrupt and missing
 * files, and tables made by Postfix's own postmap (skipped without it).
 * Watching: dict_changed_name() after edits, rebuilds and new files.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <db.h>
#include <utime.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/file.h>
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
    vstring_sprintf(spec, "hash:%s, inline:{ a=from-inline, { b = x, y } }"
		    "  static:{default value}", tmp_path("m1"));
    maps = maps_create("test_maps", STR(spec), DICT_FLAG_FOLD_KEY);
    assert_int_equal(maps->count, 3);
    assert_string_equal(maps_find(maps, "A"), "from-hash");
    assert_string_equal(maps_find(maps, "b"), "x, y");
    assert_string_equal(maps_find(maps, "zz"), "default value");
    assert_int_equal(maps->error, 0);
    maps_free(maps);

    /* proxy: goes to proxymap (not running here): an error, no fallthrough */
    vstring_sprintf(spec, "proxy:hash:%s static:{default value}", tmp_path("m1"));
    maps = maps_create("test_maps", STR(spec), DICT_FLAG_FOLD_KEY);
    assert_string_equal(maps->dicts[0]->type, "proxy");
    assert_null(maps_find(maps, "A"));
    assert_int_not_equal(maps->error, 0);
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

/* db_name - "TYPE:tmpdir/NAME" in a static buffer */

static const char *db_name(const char *type, const char *name)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s:%s/%s", type, tmpdir, name);
    return (STR(buf));
}

/* count_tmp_files - files in tmpdir whose name contains ".tmp" */

static int count_tmp_files(void)
{
    DIR    *dir = opendir(tmpdir);
    struct dirent *dp;
    int     count = 0;

    assert_non_null(dir);
    while ((dp = readdir(dir)) != 0)
	if (strstr(dp->d_name, ".tmp") != 0)
	    count++;
    closedir(dir);
    return (count);
}

/* build_table - a new TYPE table NAME from (key, value) pairs */

static void build_table(const char *type, const char *name, int flags,
			        const char **pairs)
{
    DICT   *dict = dict_open3(db_name(type, name), O_RDWR | O_CREAT | O_TRUNC, flags);

    assert_int_equal(dict->error, 0);
    for (; pairs[0] != 0; pairs += 2)
	assert_int_equal(dict_update(dict, pairs[0], pairs[1]), 0);
    assert_int_equal(dict_close(dict), 0);
}

/* raw_get - the stored value size for KEY of LEN bytes, -1 if absent */

static int raw_get(const char *name, DBTYPE type, const void *key, size_t len)
{
    DB     *db;
    DBT     k, v;
    int     size = -1;

    assert_int_equal(db_create(&db, 0, 0), 0);
    assert_int_equal(db->open(db, 0, tmp_path(name), 0, type, DB_RDONLY, 0), 0);
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = (void *) key;
    k.size = len;
    if (db->get(db, 0, &k, &v, 0) == 0)
	size = v.size;
    db->close(db, 0);
    return (size);
}

static void write_round_trip(const char *type, DBTYPE dbtype)
{
    static const char *pairs[] = {
	"Alpha@Example.COM", "OK",
	"beta", "REJECT no thanks",
	"", "empty key",
	0, 0,
    };
    VSTRING *db_path = vstring_alloc(100);
    DICT   *dict;
    struct stat st;

    vstring_sprintf(db_path, "rt-%s", type);
    dict = dict_open3(db_name(type, STR(db_path)), O_RDWR | O_CREAT | O_TRUNC,
		      DICT_FLAG_FOLD_KEY | DICT_FLAG_DUP_WARN);
    assert_int_equal(dict->error, 0);
    for (const char **pp = pairs; pp[0] != 0; pp += 2)
	assert_int_equal(dict_update(dict, pp[0], pp[1]), 0);
    /* not visible before commit: only the temporary file exists */
    vstring_sprintf(db_path, "%s/rt-%s.db", tmpdir, type);
    assert_int_equal(stat(STR(db_path), &st), -1);
    assert_int_equal(count_tmp_files(), 1);
    /* lookups work while writing */
    assert_string_equal(dict_lookup(dict, "BETA"), "REJECT no thanks");
    assert_int_equal(dict_close(dict), 0);
    assert_int_equal(stat(STR(db_path), &st), 0);
    assert_int_equal(count_tmp_files(), 0);

    /* stored folded, with the trailing NUL on key and value (Postfix on Linux) */
    vstring_sprintf(db_path, "rt-%s.db", type);
    assert_int_equal(raw_get(STR(db_path), dbtype, "alpha@example.com", 18), 3);
    assert_int_equal(raw_get(STR(db_path), dbtype, "alpha@example.com", 17), -1);

    vstring_sprintf(db_path, "rt-%s", type);
    dict = dict_open(db_name(type, STR(db_path)), DICT_FLAG_FOLD_KEY);
    assert_int_equal(dict->error, 0);
    assert_string_equal(dict_lookup(dict, "alpha@example.com"), "OK");
    assert_string_equal(dict_lookup(dict, "ALPHA@example.com"), "OK");
    assert_string_equal(dict_lookup(dict, ""), "empty key");
    assert_null(dict_lookup(dict, "gamma"));
    assert_int_equal(dict->error, 0);
    /* a read-only table cannot be changed */
    assert_int_equal(dict_update(dict, "x", "y"), -1);
    assert_int_equal(dict_close(dict), 0);
    vstring_free(db_path);
}

static void test_write_hash(void **state)
{
    (void) state;
    write_round_trip("hash", DB_HASH);
}

static void test_write_btree(void **state)
{
    (void) state;
    write_round_trip("btree", DB_BTREE);
}

static void test_rename_keeps_old_reader(void **state)
{
    static const char *v1[] = {"key", "old", 0, 0};
    static const char *v2[] = {"key", "new", "more", "x", 0, 0};
    DICT   *old_reader;
    DICT   *new_reader;

    (void) state;
    build_table("hash", "swap", 0, v1);
    old_reader = dict_open(db_name("hash", "swap"), 0);
    assert_string_equal(dict_lookup(old_reader, "key"), "old");
    build_table("hash", "swap", 0, v2);
    /* the reader keeps the file it opened: old data, never a mix */
    assert_string_equal(dict_lookup(old_reader, "key"), "old");
    assert_null(dict_lookup(old_reader, "more"));
    assert_int_equal(old_reader->error, 0);
    new_reader = dict_open(db_name("hash", "swap"), 0);
    assert_string_equal(dict_lookup(new_reader, "key"), "new");
    assert_string_equal(dict_lookup(new_reader, "more"), "x");
    dict_close(old_reader);
    dict_close(new_reader);
}

/*
 * dict_changed_name: nothing while the files are as read; then each kind
 * of change names its table - a texthash edited in place, a hash rebuilt
 * (rename), a pcre file that was missing and now exists; a closed table
 * is not watched, nor is one that has no file.
 */
static void test_changed_name(void **state)
{
    static const char *v1[] = {"key", "old", 0, 0};
    static const char *v2[] = {"key", "new", 0, 0};
    DICT   *text, *hash, *pcre, *inl;
    VSTRING *name = vstring_alloc(100);

    (void) state;
    assert_null(dict_changed_name());
    write_file(tmp_path("watch.txt"), "a 1\n", 4);
    build_table("hash", "watch", 0, v1);
    unlink(tmp_path("watch.pcre"));
    text = dict_open(STR(vstring_sprintf(name, "texthash:%s", tmp_path("watch.txt"))), 0);
    hash = dict_open(db_name("hash", "watch"), 0);
    pcre = dict_open(STR(vstring_sprintf(name, "pcre:%s", tmp_path("watch.pcre"))), 0);
    inl = dict_open("inline:{a=b}", 0);
    assert_null(dict_changed_name());

    usleep(10000);
    write_file(tmp_path("watch.txt"), "a 2\n", 4);
    vstring_sprintf(name, "texthash:%s", tmp_path("watch.txt"));
    assert_string_equal(dict_changed_name(), STR(name));
    dict_close(text);
    assert_null(dict_changed_name());

    build_table("hash", "watch", 0, v2);
    vstring_sprintf(name, "hash:%s", tmp_path("watch"));
    assert_string_equal(dict_changed_name(), STR(name));
    dict_close(hash);
    assert_null(dict_changed_name());

    write_file(tmp_path("watch.pcre"), "/x/ OK\n", 7);
    vstring_sprintf(name, "pcre:%s", tmp_path("watch.pcre"));
    assert_string_equal(dict_changed_name(), STR(name));
    dict_close(pcre);
    assert_null(dict_changed_name());
    dict_close(inl);
    vstring_free(name);
}

static void test_in_place_update(void **state)
{
    static const char *pairs[] = {"a", "1", "b", "2", "c", "3", 0, 0};
    DICT   *dict;
    int     fd;

    (void) state;
    build_table("btree", "inplace", 0, pairs);
    dict = dict_open3(db_name("btree", "inplace"), O_RDWR, DICT_FLAG_DUP_REPLACE);
    assert_int_equal(dict->error, 0);
    /* another writer is locked out while the table is open */
    fd = open(tmp_path("inplace.db"), O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
    assert_int_equal(dict_update(dict, "d", "4"), 0);
    assert_int_equal(dict_update(dict, "a", "one"), 0);
    assert_int_equal(dict_delete(dict, "b"), 0);
    assert_int_equal(dict_delete(dict, "b"), 1);
    assert_int_equal(dict_delete(dict, "nonesuch"), 1);
    assert_int_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    close(fd);
    assert_int_equal(count_tmp_files(), 0);

    dict = dict_open(db_name("btree", "inplace"), 0);
    assert_string_equal(dict_lookup(dict, "a"), "one");
    assert_null(dict_lookup(dict, "b"));
    assert_string_equal(dict_lookup(dict, "c"), "3");
    assert_string_equal(dict_lookup(dict, "d"), "4");
    dict_close(dict);

    /* O_RDWR|O_CREAT on a missing table creates it */
    dict = dict_open3(db_name("hash", "created"), O_RDWR | O_CREAT, 0);
    assert_int_equal(dict->error, 0);
    assert_int_equal(dict_update(dict, "k", "v"), 0);
    assert_int_equal(dict_close(dict), 0);
    dict = dict_open(db_name("hash", "created"), 0);
    assert_string_equal(dict_lookup(dict, "k"), "v");
    dict_close(dict);
}

static void test_sequence(void **state)
{
    static const char *pairs[] = {
	"one", "1", "two", "2", "three", "3", "four", "4", 0, 0,
    };
    const char *key;
    const char *value;
    int     seen = 0;
    int     status;
    DICT   *dict;

    (void) state;
    build_table("hash", "seq", 0, pairs);
    dict = dict_open(db_name("hash", "seq"), 0);
    for (int func = DICT_SEQ_FIRST; (status = dict_sequence(dict, func, &key, &value)) == 0;
	 func = DICT_SEQ_NEXT) {
	int     found = 0;

	for (int i = 0; pairs[i] != 0; i += 2) {
	    if (strcmp(pairs[i], key) == 0) {
		/* key and value come back without their NUL */
		assert_string_equal(pairs[i + 1], value);
		assert_int_equal(strlen(key), strlen(pairs[i]));
		seen |= 1 << (i / 2);
		found = 1;
	    }
	}
	assert_true(found);
    }
    assert_int_equal(status, 1);
    assert_int_equal(seen, 0xf);
    /* a second walk starts over */
    assert_int_equal(dict_sequence(dict, DICT_SEQ_FIRST, &key, &value), 0);
    dict_close(dict);

    /* tables without sequence support answer -1 */
    dict = dict_open("static:x", 0);
    assert_int_equal(dict_sequence(dict, DICT_SEQ_FIRST, &key, &value), -1);
    dict_close(dict);
}

static void test_duplicates(void **state)
{
    static const struct {
	int     flag;
	int     status;
	const char *result;
    } modes[] = {
	{DICT_FLAG_DUP_WARN, 1, "first"},
	{DICT_FLAG_DUP_IGNORE, 1, "first"},
	{DICT_FLAG_DUP_REPLACE, 0, "second"},
    };
    DICT   *dict;

    (void) state;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
	dict = dict_open3(db_name("hash", "dups"), O_RDWR | O_CREAT | O_TRUNC,
			  modes[i].flag | DICT_FLAG_FOLD_KEY);
	assert_int_equal(dict_update(dict, "Key", "first"), 0);
	assert_int_equal(dict_update(dict, "KEY", "second"), modes[i].status);
	assert_int_equal(dict->error, 0);
	assert_int_equal(dict_close(dict), 0);
	dict = dict_open(db_name("hash", "dups"), DICT_FLAG_FOLD_KEY);
	assert_string_equal(dict_lookup(dict, "key"), modes[i].result);
	dict_close(dict);
    }
}

static void test_nul_conventions(void **state)
{
    static const char *pairs[] = {"nokey", "noval", 0, 0};
    DICT   *dict;

    (void) state;
    /* written without the NUL (postmap -n) */
    build_table("hash", "nonul", DICT_FLAG_TRY0NULL, pairs);
    assert_int_equal(raw_get("nonul.db", DB_HASH, "nokey", 5), 5);
    assert_int_equal(raw_get("nonul.db", DB_HASH, "nokey", 6), -1);
    dict = dict_open(db_name("hash", "nonul"), 0);
    assert_string_equal(dict_lookup(dict, "nokey"), "noval");
    dict_close(dict);
    /* a reader that insists on the NUL form does not find it */
    dict = dict_open(db_name("hash", "nonul"), DICT_FLAG_TRY1NULL);
    assert_null(dict_lookup(dict, "nokey"));
    assert_int_equal(dict->error, 0);
    dict_close(dict);
    /* in-place update of such a table: delete finds the no-NUL form */
    dict = dict_open3(db_name("hash", "nonul"), O_RDWR, 0);
    assert_int_equal(dict_delete(dict, "nokey"), 0);
    assert_int_equal(dict_close(dict), 0);
}

static void test_corrupt_db(void **state)
{
    static const char *pairs[] = {"a", "1", "b", "2", 0, 0};
    unsigned char junk[8192];
    DICT   *dict;

    (void) state;
    srandom(12345);
    for (size_t i = 0; i < sizeof(junk); i++)
	junk[i] = random() & 0xff;
    write_file(tmp_path("junk.db"), (const char *) junk, sizeof(junk));
    dict = dict_open(db_name("hash", "junk"), 0);
    assert_int_not_equal(dict->error, 0);
    assert_null(dict_lookup(dict, "a"));
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    dict = dict_open(db_name("btree", "junk"), 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    /* updating a corrupt table fails; nothing is committed */
    dict = dict_open3(db_name("hash", "junk"), O_RDWR, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_update(dict, "a", "b"), -1);
    assert_int_equal(dict_close(dict), -1);

    /* an empty file, and a real table cut short */
    write_file(tmp_path("empty.db"), "", 0);
    dict = dict_open(db_name("hash", "empty"), 0);
    assert_int_not_equal(dict->error, 0);
    dict_close(dict);
    build_table("btree", "cut", 0, pairs);
    assert_int_equal(truncate(tmp_path("cut.db"), 100), 0);
    dict = dict_open(db_name("btree", "cut"), 0);
    if (dict->error == 0)
	(void) dict_lookup(dict, "a");		/* must not crash */
    dict_close(dict);
}

static void test_write_errors(void **state)
{
    static const char *pairs[] = {"a", "1", 0, 0};
    DICT   *dict;

    (void) state;
    /* in-place update of a missing table */
    dict = dict_open3(db_name("hash", "nonexistent"), O_RDWR, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_update(dict, "a", "b"), -1);
    assert_int_equal(dict_delete(dict, "a"), -1);
    assert_int_equal(dict_close(dict), -1);

    /* only hash: and btree: can be written */
    dict = dict_open3("texthash:/nonexistent", O_RDWR | O_CREAT | O_TRUNC, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), -1);
    dict = dict_open3("nocolon", O_RDWR, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), -1);

    /* a directory that cannot be written */
    dict = dict_open3(db_name("hash", "no/such/dir/x"), O_RDWR | O_CREAT | O_TRUNC, 0);
    assert_int_not_equal(dict->error, 0);
    assert_int_equal(dict_close(dict), -1);

    /* rename fails (NAME.db is a non-empty directory): -1, temp removed */
    assert_int_equal(mkdir(tmp_path("blocked.db"), 0755), 0);
    write_file(tmp_path("blocked.db/file"), "x", 1);
    dict = dict_open3(db_name("hash", "blocked"), O_RDWR | O_CREAT | O_TRUNC, 0);
    assert_int_equal(dict->error, 0);
    assert_int_equal(dict_update(dict, pairs[0], pairs[1]), 0);
    assert_int_equal(dict_close(dict), -1);
    assert_int_equal(count_tmp_files(), 0);
}

/* run - a shell command's exit status; its output in OUT when given */

static int run(const char *cmd, VSTRING *out)
{
    FILE   *fp = popen(cmd, "r");
    char    buf[1024];
    size_t  n;

    assert_non_null(fp);
    if (out)
	vstring_reset(out);
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
	if (out)
	    vstring_memcat(out, buf, n);
    return (pclose(fp));
}

static void test_postfix_compat(void **state)
{
    static const char text[] =
	"user@example.com OK\n"
	"Mixed.Case REJECT spam source\n"
	"multi first\n"
	"  second part\n";
    static const char *pairs[] = {"posthorn-key", "posthorn value", 0, 0};
    static const char *types[] = {"hash", "btree", 0};
    VSTRING *cmd = vstring_alloc(200);
    VSTRING *out = vstring_alloc(200);
    DICT   *dict;

    (void) state;
    if (access("/usr/sbin/postmap", X_OK) < 0)
	skip();
    write_file(tmp_path("pf"), text, sizeof(text) - 1);
    for (const char **tp = types; *tp; tp++) {
	/* Postfix writes, Posthorn reads */
	vstring_sprintf(cmd, "/usr/sbin/postmap -c /etc/postfix %s 2>&1",
			db_name(*tp, "pf"));
	assert_int_equal(run(STR(cmd), out), 0);
	dict = dict_open(db_name(*tp, "pf"), DICT_FLAG_FOLD_KEY);
	assert_int_equal(dict->error, 0);
	assert_string_equal(dict_lookup(dict, "user@example.com"), "OK");
	assert_string_equal(dict_lookup(dict, "mixed.case"), "REJECT spam source");
	assert_string_equal(dict_lookup(dict, "multi"), "first  second part");
	dict_close(dict);

	/* Posthorn writes, Postfix reads */
	build_table(*tp, "ph", DICT_FLAG_FOLD_KEY, pairs);
	vstring_sprintf(cmd, "/usr/sbin/postmap -c /etc/postfix -q posthorn-key %s",
			db_name(*tp, "ph"));
	assert_int_equal(run(STR(cmd), out), 0);
	assert_string_equal(STR(out), "posthorn value\n");
	vstring_sprintf(cmd, "/usr/sbin/postmap -c /etc/postfix -s %s",
			db_name(*tp, "ph"));
	assert_int_equal(run(STR(cmd), out), 0);
	assert_string_equal(STR(out), "posthorn-key\tposthorn value\n");
	vstring_sprintf(cmd, "/usr/sbin/postmap -c /etc/postfix -q nonesuch %s",
			db_name(*tp, "ph"));
	assert_int_not_equal(run(STR(cmd), out), 0);
    }
    vstring_free(cmd);
    vstring_free(out);
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
	cmocka_unit_test(test_write_hash),
	cmocka_unit_test(test_write_btree),
	cmocka_unit_test(test_rename_keeps_old_reader),
	cmocka_unit_test(test_in_place_update),
	cmocka_unit_test(test_changed_name),
	cmocka_unit_test(test_sequence),
	cmocka_unit_test(test_duplicates),
	cmocka_unit_test(test_nul_conventions),
	cmocka_unit_test(test_corrupt_db),
	cmocka_unit_test(test_write_errors),
	cmocka_unit_test(test_postfix_compat),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
