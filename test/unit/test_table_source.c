/*
 * test_table_source.c - unit tests for lib/tables/table_source.c.
 *
 * Writes source files into a temporary directory and reads them in both
 * formats.  The expected keys, values and warnings are what Postfix 3.7's
 * postmap and postalias produce for the same input (checked by hand
 * with postmap -s / postalias on these files).  Warnings go to a log file
 * that the tests read back.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "table_source.h"

static char tmpdir[] = "/tmp/test_table_source.XXXXXX";
static VSTRING *path_buf;
static VSTRING *log_path;

static const char *tmp_path(const char *name)
{
    vstring_sprintf(path_buf, "%s/%s", tmpdir, name);
    return (STR(path_buf));
}

static void write_file(const char *name, const char *data, size_t len)
{
    FILE   *fp = fopen(tmp_path(name), "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static int log_has(const char *text)
{
    FILE   *fp = fopen(STR(log_path), "r");
    char    buf[65536];
    size_t  n;

    if (fp == 0)
	return (0);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return (strstr(buf, text) != 0);
}

/*
 * read_all - read NAME in FORMAT into OUT as "line:key=value\n" entries;
 * returns the last table_source_next() status.
 */
static int read_all(const char *name, int format, VSTRING *out)
{
    TABLE_SOURCE *src;
    const char *key;
    const char *value;
    int     status;

    (void) truncate(STR(log_path), 0);
    src = table_source_open(tmp_path(name), format);
    assert_non_null(src);
    assert_string_equal(table_source_name(src), tmp_path(name));
    vstring_reset(out);
    while ((status = table_source_next(src, &key, &value)) > 0)
	vstring_sprintf_append(out, "%d:%s=%s\n", table_source_lineno(src), key, value);
    table_source_close(src);
    return (status);
}

#define READ_TEXT(name, text, format, out) \
    (write_file((name), (text), sizeof(text) - 1), read_all((name), (format), (out)))

static int setup(void **state)
{
    (void) state;
    assert_non_null(mkdtemp(tmpdir));
    path_buf = vstring_alloc(100);
    log_path = vstring_alloc(100);
    vstring_sprintf(log_path, "%s/log", tmpdir);
    msg_init("test_table_source", MSG_TO_STDERR);
    msg_logfile(STR(log_path));
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
    vstring_free(log_path);
    return (0);
}

static void test_postmap_format(void **state)
{
    static const char text[] =
	"  lead x\n"
	"k\n"
	"a b\n"
	"   c\n"
	"# comm\n"
	"\td\n"
	"k2   \n"
	"e: f\n"
	"\"q r\" s\n"
	"  # indented comment\n"
	"\n"
	"tab\tseparated value  \n"
	"\"unbalanced value\n"
	"esc\\ aped value\n"
	"last no-newline";
    VSTRING *out = vstring_alloc(100);

    (void) state;
    assert_int_equal(READ_TEXT("pm", text, TABLE_SOURCE_POSTMAP, out), 0);
    assert_string_equal(STR(out),
			"3:a=b   c\td\n"
			"8:e:=f\n"
			"9:\"q r\"=s\n"
			"12:tab=separated value\n"
			"14:esc\\ aped=value\n"
			"15:last=no-newline\n");
    assert_true(log_has("pm: logical line must not start with whitespace: \"  lead x\""));
    assert_true(log_has("pm, line 2: expected format: key whitespace value\n"));
    assert_true(log_has("pm, line 7: expected format: key whitespace value\n"));
    assert_true(log_has("pm, line 8: record is in \"key: value\" format; is this an alias file?"));
    assert_true(log_has("pm, line 13: unbalanced '\"' in '\"unbalanced value' -- ignoring this line"));
    vstring_free(out);
}

static void test_aliases_format(void **state)
{
    static const char text[] =
	"a: b\n"
	"nocolon x\n"
	"\"q r\": s, t\n"
	"  u\n"
	"empty:\n"
	": nokey\n"
	"\"unbal: x\n"
	"k:v\n"
	"a b: c\n"
	"x: a,b ,  c\n"
	"y: \"|/usr/bin/cmd  arg\", /tmp/file\n"
	"z: :include:/etc/list\n"
	"w: |/bin/cat\n"
	"v: a (comment here)  b\n"
	"u: \"quoted \\\" x\"\n"
	"t: \\root\n"
	"s: <angle@x>\n"
	"\"Mixed Q\": v\n"
	"r\\:x: y\n"
	"at@x: y\n"
	"a%b: c\n"
	"q: a.b , c;d  [1.2.3.4] x\\,y \"\n"
	"c1, c2: x\n";
    VSTRING *out = vstring_alloc(100);

    (void) state;
    assert_int_equal(READ_TEXT("al", text, TABLE_SOURCE_ALIASES, out), 0);
    assert_string_equal(STR(out),
			"1:a=b\n"
			"3:q r=s, t u\n"
			"8:k=v\n"
			"9:a b=c\n"
			"10:x=a, b, c\n"
			"11:y=\"|/usr/bin/cmd  arg\", /tmp/file\n"
			"12:z=:include:/etc/list\n"
			"13:w=|/bin/cat\n"
			"14:v=a (comment here) b\n"
			"15:u=\"quoted \\\" x\"\n"
			"16:t=root\n"
			"17:s=<angle@x>\n"
			"18:Mixed Q=v\n"
			"19:r:x=y\n"
			"22:q=a.b, c;d [1.2.3.4] \"x,y\" \"\"\n");
    assert_true(log_has("al, line 2: need name:value pair"));
    assert_true(log_has("al, line 5: need name:value pair"));
    assert_true(log_has("al, line 6: need name:value pair"));
    assert_true(log_has("al, line 7: need name:value pair"));
    assert_true(log_has("al, line 20: name must be local"));
    assert_true(log_has("al, line 21: name must be local"));
    assert_true(log_has("al, line 23: need name:value pair"));
    vstring_free(out);
}

static void test_long_lines(void **state)
{
    size_t  big = 1024 * 1024 + 100;
    char   *text = malloc(2 * big);
    size_t  len = 0;
    VSTRING *out = vstring_alloc(100);

    (void) state;
    assert_non_null(text);
    /* a key of 1000 bytes is fine; a 1 MB line is warned and skipped */
    memset(text, 'k', 1000);
    len = 1000;
    len += sprintf(text + len, " long-key\nhuge ");
    memset(text + len, 'v', big);
    len += big;
    len += sprintf(text + len, "\nafter ok\n");
    /* a logical line that grows too long through continuation lines */
    write_file("long", text, len);
    assert_int_equal(read_all("long", TABLE_SOURCE_POSTMAP, out), 0);
    assert_int_equal(LEN(out), 1000 + strlen("1:") + strlen("=long-key\n")
		     + strlen("3:after=ok\n"));
    assert_non_null(strstr(STR(out), "\n3:after=ok\n"));
    assert_true(log_has("long, line 2: line too long"));

    len = sprintf(text, "grow start\n");
    for (int i = 0; i < 3; i++) {
	text[len++] = ' ';
	memset(text + len, 'c', 400 * 1024);
	len += 400 * 1024;
	text[len++] = '\n';
    }
    len += sprintf(text + len, "next one\n");
    write_file("grow", text, len);
    assert_int_equal(read_all("grow", TABLE_SOURCE_POSTMAP, out), 0);
    assert_string_equal(STR(out), "5:next=one\n");
    assert_true(log_has("grow, line 1: logical line too long"));
    free(text);
    vstring_free(out);
}

static void test_binary_junk(void **state)
{
    static const char text[] =
	"\x01\x02\xff\xfe\n"
	"key\0with-nul value\n"
	"\xc3\xa9t\xc3\xa9 summer\n"
	"   \t  \n"
	"ok fine\r\n"
	"\r\n"
	"\0\0\0\n"
	"cr\rin key\n";
    VSTRING *out = vstring_alloc(100);

    (void) state;
    assert_int_equal(READ_TEXT("junk", text, TABLE_SOURCE_POSTMAP, out), 0);
    assert_string_equal(STR(out),
			"3:\xc3\xa9t\xc3\xa9=summer\n"
			"5:ok=fine\n"
			"8:cr=in key\n");
    assert_true(log_has("junk, line 1: expected format"));
    assert_true(log_has("junk, line 2: expected format"));
    assert_int_equal(READ_TEXT("junk2", text, TABLE_SOURCE_ALIASES, out), 0);
    assert_true(log_has("junk2, line 1: need name:value pair"));
    vstring_free(out);
}

static void test_open_errors(void **state)
{
    TABLE_SOURCE *src;

    (void) state;
    errno = 0;
    src = table_source_open(tmp_path("nonexistent"), TABLE_SOURCE_POSTMAP);
    assert_null(src);
    assert_int_equal(errno, ENOENT);
}

static void test_stream(void **state)
{
    static const char text[] = "alias1: user1,\n user2\n";
    VSTREAM *in;
    TABLE_SOURCE *src;
    const char *key;
    const char *value;
    int     fd;

    (void) state;
    write_file("stream", text, sizeof(text) - 1);
    fd = open(tmp_path("stream"), O_RDONLY);
    assert_true(fd >= 0);
    in = vstream_fdopen(fd, O_RDONLY);
    src = table_source_stream(in, "my-input", TABLE_SOURCE_ALIASES);
    assert_string_equal(table_source_name(src), "my-input");
    assert_int_equal(table_source_next(src, &key, &value), 1);
    assert_string_equal(key, "alias1");
    assert_string_equal(value, "user1, user2");
    assert_int_equal(table_source_lineno(src), 1);
    assert_int_equal(table_source_next(src, &key, &value), 0);
    assert_int_equal(table_source_next(src, &key, &value), 0);
    table_source_close(src);
    /* the caller's stream stays open */
    assert_int_equal(vstream_close(in), 0);

    /* an empty file and a file of comments have no entries */
    write_file("empty", "", 0);
    src = table_source_open(tmp_path("empty"), TABLE_SOURCE_POSTMAP);
    assert_int_equal(table_source_next(src, &key, &value), 0);
    table_source_close(src);
    write_file("comments", "# a\n  # b\n\n", 11);
    src = table_source_open(tmp_path("comments"), TABLE_SOURCE_ALIASES);
    assert_int_equal(table_source_next(src, &key, &value), 0);
    table_source_close(src);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_postmap_format),
	cmocka_unit_test(test_aliases_format),
	cmocka_unit_test(test_long_lines),
	cmocka_unit_test(test_binary_junk),
	cmocka_unit_test(test_open_errors),
	cmocka_unit_test(test_stream),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
