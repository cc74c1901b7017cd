/*
 * dict_fixture.h - what the unit tests of the table backends share: a
 * private directory for the table files, writing a file there (binary
 * data too), opening "type:path", and the warnings the code logged,
 * read back from a log file so that tests can check their wording.
 *
 * Include after <cmocka.h>, "msg.h", "vstring.h" and "dict.h":
 *   fixture_setup(prog) / fixture_teardown()   as cmocka group setup/teardown
 *   fixture_path(name)        DIR/NAME (valid until the next call)
 *   fixture_write(name, data, len)             writes the file, returns its path
 *   fixture_open(type, name, data, len, flags) writes NAME, forgets earlier
 *                             warnings, and dict_open("TYPE:DIR/NAME")
 *   FIXTURE_OPEN(type, name, text, flags)      the same for a string literal
 *   log_has(text)             1 when a warning since the last open contains TEXT
 */
#ifndef DICT_FIXTURE_H
#define DICT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

static char fixture_dir[] = "/tmp/test_dict_fixture.XXXXXX";
static VSTRING *fixture_buf;
static VSTRING *fixture_log;

static const char *fixture_path(const char *name)
{
    vstring_sprintf(fixture_buf, "%s/%s", fixture_dir, name);
    return (STR(fixture_buf));
}

static const char *fixture_write(const char *name, const char *data, size_t len)
{
    FILE   *fp = fopen(fixture_path(name), "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return (STR(fixture_buf));
}

/* log_forget - start the log afresh */

static void log_forget(void)
{
    if (truncate(STR(fixture_log), 0) < 0)
	fail_msg("truncate %s: %s", STR(fixture_log), strerror(errno));
}

static UNUSED DICT *fixture_open(const char *type, const char *name,
				        const char *data, size_t len, int flags)
{
    VSTRING *type_name = vstring_alloc(100);
    DICT   *dict;

    vstring_sprintf(type_name, "%s:%s", type, fixture_write(name, data, len));
    log_forget();
    dict = dict_open(STR(type_name), flags);
    vstring_free(type_name);
    return (dict);
}

#define FIXTURE_OPEN(type, name, text, flags) \
	fixture_open((type), (name), (text), sizeof(text) - 1, (flags))

static int log_has(const char *text)
{
    FILE   *fp = fopen(STR(fixture_log), "r");
    static char buf[1 << 20];
    size_t  n;

    if (fp == 0)
	return (0);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return (strstr(buf, text) != 0);
}

static int fixture_setup(const char *prog)
{
    if (mkdtemp(fixture_dir) == 0)
	return (-1);
    fixture_buf = vstring_alloc(100);
    fixture_log = vstring_alloc(100);
    vstring_sprintf(fixture_log, "%s/log", fixture_dir);
    msg_init(prog, MSG_TO_STDERR);
    msg_logfile(STR(fixture_log));
    return (0);
}

static int fixture_teardown(void)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", fixture_dir);
    if (system(STR(cmd)) != 0)
	fprintf(stderr, "cleanup of %s failed\n", fixture_dir);
    vstring_free(cmd);
    vstring_free(fixture_buf);
    vstring_free(fixture_log);
    return (0);
}

#endif
