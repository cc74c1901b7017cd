/*
 * test_maildrop.c - unit tests for lib/global/maildrop.c: a file written
 * and read back (sender given or not, attributes, NOTIFY, content over
 * several records), the mode bits that say "being written" and
 * "complete", maildrop_trust() on directories, links and incomplete or
 * big files, and the reader's refusal of every truncation of a good
 * file, of foreign text, of records out of order, of unknown attributes
 * and of junk after the end.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "record.h"
#include "maildrop.h"

static char topdir[] = "/tmp/test_maildropXXXXXX";

static int setup(void **state)
{
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    if (mkdtemp(topdir) == 0)
	return (-1);
    vstring_sprintf(path, "%s/main.cf", topdir);
    if ((fp = fopen(STR(path), "w")) == 0)
	return (-1);
    fprintf(fp, "queue_directory = %s\n", topdir);
    fclose(fp);
    mail_conf_set_dir(topdir);
    mail_conf_read(0);
    mail_queue_chdir();
    mail_queue_mkdirs(getuid(), getgid());
    vstring_free(path);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", topdir);
    if (chdir("/") < 0 || system(STR(cmd)) != 0)
	return (-1);
    vstring_free(cmd);
    return (0);
}

/* path_of - maildrop/ID */

static const char *path_of(VSTRING *buf, const char *id)
{
    vstring_sprintf(buf, "%s/%s", MAIL_QUEUE_MAILDROP, id);
    return (STR(buf));
}

/* write_file - a complete file for two recipients; its id in ID */

static void write_file(VSTRING *id, int given, const char *content, size_t len)
{
    MAILDROP *md = maildrop_create(id);
    VSTRING *path = vstring_alloc(100);
    struct stat st;

    assert_non_null(md);
    assert_int_equal(stat(path_of(path, STR(id)), &st), 0);
    assert_int_equal(st.st_mode & 0777, MAILDROP_FILE_MODE);
    maildrop_sender(md, "someone@example.com", given);
    maildrop_attr(md, "dsn_envid", "env-1");
    maildrop_rcpt(md, "a@example.com", "SUCCESS,DELAY");
    maildrop_rcpt(md, "b@example.com", 0);
    maildrop_content(md, content, len);
    assert_int_equal(maildrop_commit(md), 0);
    assert_int_equal(stat(STR(path), &st), 0);
    assert_int_equal(st.st_mode & 0777, MAILDROP_READY_MODE);
    vstring_free(path);
}

/* read_file - maildrop_read() of maildrop/ID; its result */

static int read_file(const char *id, MAILDROP_MSG *msg, long limit, VSTRING *why)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *fp;
    int     ret;

    fp = vstream_fdopen(open(path_of(path, id), O_RDONLY), O_RDONLY);
    ret = maildrop_read(fp, msg, limit, why);
    vstream_close(fp);
    vstring_free(path);
    return (ret);
}

static void test_round_trip(void **state)
{
    size_t  len = 3 * REC_BODY_CHUNK + 17;
    char   *content = mymalloc(len);
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(20);
    MAILDROP_MSG msg;

    for (size_t i = 0; i < len; i++)
	content[i] = (i % 70 == 69) ? '\n' : 'a' + i % 26;
    write_file(id, 1, content, len);
    assert_int_equal(read_file(STR(id), &msg, 0, why), 0);
    assert_int_equal(msg.uid, (long) getuid());
    assert_string_equal(msg.sender, "someone@example.com");
    assert_string_equal(maildrop_msg_attr(&msg, "dsn_envid"), "env-1");
    assert_null(maildrop_msg_attr(&msg, "dsn_ret"));
    assert_int_equal(msg.rcpt_count, 2);
    assert_string_equal(msg.rcpts[0], "a@example.com");
    assert_string_equal(msg.notify[0], "SUCCESS,DELAY");
    assert_null(msg.notify[1]);
    assert_int_equal(LEN(msg.content), len);
    assert_memory_equal(STR(msg.content), content, len);
    maildrop_msg_free(&msg);
    /* Over the size limit */
    assert_int_equal(read_file(STR(id), &msg, 1000, why), -1);
    assert_non_null(strstr(STR(why), "size limit"));
    maildrop_msg_free(&msg);

    /* Without -f: no sender, the reader takes the owner's login */
    write_file(id, 0, "x\n", 2);
    assert_int_equal(read_file(STR(id), &msg, 0, why), 0);
    assert_null(msg.sender);
    maildrop_msg_free(&msg);
    myfree(content);
    vstring_free(id);
    vstring_free(why);
}

static void test_trust(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MAILDROP *md;
    struct stat st;
    int     fd;

    write_file(id, 1, "hello\n", 6);
    fd = open(path_of(path, STR(id)), O_RDONLY);
    assert_int_equal(maildrop_trust(fd, STR(id), 0, &st, why), 0);
    assert_int_equal(maildrop_trust(fd, STR(id), 10, &st, why), -1);
    assert_non_null(strstr(STR(why), "over the limit"));
    assert_int_equal(link(STR(path), "maildrop/second"), 0);
    assert_int_equal(maildrop_trust(fd, STR(id), 0, &st, why), -1);
    assert_string_equal(STR(why), "2 hard links");
    close(fd);
    unlink("maildrop/second");
    fd = open(MAIL_QUEUE_MAILDROP, O_RDONLY);
    assert_int_equal(maildrop_trust(fd, ".", 0, &st, why), -1);
    assert_string_equal(STR(why), "not a regular file");
    close(fd);
    /* Being written: not complete yet */
    md = maildrop_create(id);
    maildrop_rcpt(md, "a@example.com", 0);
    fd = open(path_of(path, STR(id)), O_RDONLY);
    assert_int_equal(maildrop_trust(fd, STR(id), 0, &st, why), -1);
    assert_string_equal(STR(why), "not complete");
    close(fd);
    maildrop_abort(md);
    assert_int_equal(access(STR(path), F_OK), -1);
    vstring_free(id);
    vstring_free(path);
    vstring_free(why);
}

/* write_raw - DATA as maildrop/NAME */

static void write_raw(const char *name, const void *data, size_t len)
{
    VSTRING *path = vstring_alloc(100);
    int     fd = open(path_of(path, name), O_WRONLY | O_CREAT | O_TRUNC, 0750);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);
    vstring_free(path);
}

/* bad - NAME with DATA must not read; WHY must say EXPECT */

static void bad(const char *name, const void *data, size_t len, const char *expect)
{
    VSTRING *why = vstring_alloc(100);
    MAILDROP_MSG msg;

    write_raw(name, data, len);
    if (read_file(name, &msg, 0, why) == 0)
	fail_msg("%s: read cleanly", name);
    if (expect && strstr(STR(why), expect) == 0)
	fail_msg("%s: \"%s\" does not say \"%s\"", name, STR(why), expect);
    maildrop_msg_free(&msg);
    vstring_free(why);
}

/* rec - one record onto BUF */

static void rec(VSTRING *buf, int type, const char *data)
{
    VSTREAM *fp = vstream_fdopen(open("tmp.rec", O_RDWR | O_CREAT | O_TRUNC, 0600), O_RDWR);
    char    tmp[1000];
    ssize_t n;

    rec_put(fp, type, data, strlen(data));
    vstream_seek(fp, 0);
    n = vstream_read(fp, tmp, sizeof(tmp));
    vstring_memcat(buf, tmp, n);
    vstream_close(fp);
}

static void test_bad_files(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *path = vstring_alloc(100);
    VSTRING *good = vstring_alloc(1000);
    VSTRING *buf = vstring_alloc(1000);
    VSTREAM *fp;
    char    tmp[4096];
    ssize_t n;

    write_file(id, 1, "body\n", 5);
    fp = vstream_fdopen(open(path_of(path, STR(id)), O_RDONLY), O_RDONLY);
    while ((n = vstream_read(fp, tmp, sizeof(tmp))) > 0)
	vstring_memcat(good, tmp, n);
    vstream_close(fp);
    /* Every truncation is refused */
    for (size_t cut = 0; cut < LEN(good); cut++)
	bad("cut", STR(good), cut, 0);
    vstring_memcpy(buf, STR(good), LEN(good));
    vstring_strcat(buf, "junk");
    bad("junk", STR(buf), LEN(buf), "garbage after the end record");
    bad("text", "From: someone\nSubject: hi\n\nbody\n", 32, "not a maildrop file");
    bad("binary", "\x00\xff\xfe\x01\x02", 5, "not a maildrop file");

    /* Records out of order, unknown attributes, no recipients */
    vstring_reset(buf);
    rec(buf, REC_TYPE_ATTR, "maildrop_version=1");
    rec(buf, REC_TYPE_ATTR, "uid=12");
    rec(buf, REC_TYPE_ATTR, "client_address=1.2.3.4");
    bad("attr", STR(buf), LEN(buf), "unknown attribute");
    vstring_reset(buf);
    rec(buf, REC_TYPE_ATTR, "maildrop_version=1");
    rec(buf, REC_TYPE_ATTR, "uid=x12");
    bad("uid", STR(buf), LEN(buf), "missing uid record");
    vstring_reset(buf);
    rec(buf, REC_TYPE_ATTR, "maildrop_version=1");
    rec(buf, REC_TYPE_ATTR, "uid=12");
    rec(buf, REC_TYPE_MESG, "");
    bad("norcpt", STR(buf), LEN(buf), "unexpected record type M");
    vstring_reset(buf);
    rec(buf, REC_TYPE_ATTR, "maildrop_version=1");
    rec(buf, REC_TYPE_ATTR, "uid=12");
    rec(buf, REC_TYPE_RCPT, "a@example.com");
    rec(buf, REC_TYPE_FROM, "late@example.com");
    bad("late", STR(buf), LEN(buf), "unexpected record type S");
    vstring_reset(buf);
    rec(buf, REC_TYPE_ATTR, "maildrop_version=1");
    rec(buf, REC_TYPE_ATTR, "uid=12");
    rec(buf, REC_TYPE_DSN, "NEVER");
    rec(buf, REC_TYPE_MESG, "");
    bad("dangling", STR(buf), LEN(buf), "unexpected record type M");
    unlink("tmp.rec");
    vstring_free(id);
    vstring_free(path);
    vstring_free(good);
    vstring_free(buf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_trust),
	cmocka_unit_test(test_bad_files),
    };

    msg_init("test_maildrop", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
