/*
 * test_qfile.c - unit tests for lib/global/qfile.c and lib/global/mail_queue.c.
 *
 * Works in a fresh temporary queue directory (with its own main.cf):
 * queue ids and hashed paths, rename/scan, a full queue file written and
 * read back, mark_done, a file truncated at every length detected as
 * corrupt, byte flips that must not crash, a write failure (file
 * size limit) that must remove the file and report the errno, and the
 * DSN (N) and delay warning (W) records, incl. files without them,
 * and a writer that reads its content back and writes the file again.
 * Reading in slices (qfile_read_header, qfile_read_rcpts, as qmgr does):
 * the same recipients at any slice size, a slice read again from its
 * offset, and truncated files, records out of order, junk and a size
 * record that disagrees, all refused.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "record.h"
#include "qfile.h"

static char topdir[] = "/tmp/test_qfileXXXXXX";

/* setup - temp config + queue directory, chdir there */

static int setup(void **state)
{
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    if (mkdtemp(topdir) == 0)
	return (-1);
    vstring_sprintf(path, "%s/main.cf", topdir);
    if ((fp = fopen(STR(path), "w")) == 0)
	return (-1);
    fprintf(fp, "queue_directory = %s\nhash_queue_names = deferred, defer\n"
	    "hash_queue_depth = 2\nqueue_file_attribute_count_limit = 5\n",
	    topdir);
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

/* count_files - entries (not . or ..) in DIR */

static int count_files(const char *queue)
{
    VSTRING *cmd = vstring_alloc(100);
    FILE   *fp;
    int     n = -1;

    vstring_sprintf(cmd, "find %s -type f | wc -l", queue);
    fp = popen(STR(cmd), "r");
    if (fscanf(fp, "%d", &n) != 1)
	n = -1;
    pclose(fp);
    vstring_free(cmd);
    return (n);
}

static void collect_id(const char *id, void *ctx)
{
    vstring_strcat((VSTRING *) ctx, id);
    vstring_addch((VSTRING *) ctx, ' ');
}

static void test_queue_ids(void **state)
{
    VSTRING *id1 = vstring_alloc(20);
    VSTRING *id2 = vstring_alloc(20);
    VSTRING *buf = vstring_alloc(20);
    VSTREAM *s1, *s2;
    struct stat st;

    assert_true(mail_queue_id_ok("6919C2F70A3B1"));
    assert_false(mail_queue_id_ok("6919c2f70a3b1"));
    assert_false(mail_queue_id_ok("6919C2F70A3B"));
    assert_false(mail_queue_id_ok("6919C2F70A3B12"));
    assert_false(mail_queue_id_ok("../../etc/pas"));
    assert_false(mail_queue_id_ok(""));

    assert_string_equal(mail_queue_path(buf, "deferred", "6919C2F70A3B1"),
			"deferred/0/A/6919C2F70A3B1");
    assert_string_equal(mail_queue_dir(buf, "incoming", "6919C2F70A3B1"),
			"incoming");

    s1 = mail_queue_enter(MAIL_QUEUE_INCOMING, id1);
    s2 = mail_queue_enter(MAIL_QUEUE_INCOMING, id2);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_true(mail_queue_id_ok(STR(id1)));
    assert_true(mail_queue_id_ok(STR(id2)));
    assert_true(strcmp(STR(id1), STR(id2)) < 0);
    assert_int_equal(fstat(vstream_fd(s1), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    vstream_close(s1);
    vstream_close(s2);

    /* rename into a hashed queue creates the subdirectories */
    assert_int_equal(mail_queue_rename(STR(id1), "incoming", "deferred"), 0);
    assert_int_equal(stat(mail_queue_path(buf, "deferred", STR(id1)), &st), 0);
    assert_int_equal(mail_queue_rename(STR(id2), "incoming", "deferred"), 0);
    vstring_reset(buf);
    mail_queue_scan("deferred", collect_id, buf);
    assert_non_null(strstr(STR(buf), STR(id1)));
    assert_non_null(strstr(STR(buf), STR(id2)));
    assert_int_equal(count_files("incoming"), 0);
    /* a missing file is an error, not a loss */
    assert_int_equal(mail_queue_rename(STR(id1), "incoming", "active"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(mail_queue_rename(STR(id1), "deferred", "active"), 0);
    assert_int_equal(mail_queue_remove("active", STR(id1)), 0);
    assert_int_equal(mail_queue_remove("deferred", STR(id2)), 0);
    assert_int_equal(mail_queue_remove("deferred", STR(id2)), -1);
    assert_int_equal(mail_queue_remove("deferred", "../main.cf"), -1);
    assert_null(mail_queue_open("deferred", "../../x", O_RDONLY));
    assert_int_equal(count_files("deferred"), 0);
    vstring_free(id1);
    vstring_free(id2);
    vstring_free(buf);
}

/* write_message - a complete queue file; returns its id */

static void write_message(VSTRING *id, const char *content, size_t len)
{
    QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);
    struct timeval tv = {1700000000, 123456};

    assert_non_null(qf);
    qfile_time(qf, &tv);
    qfile_sender(qf, "sender@example.com");
    qfile_attr(qf, "client_name", "localhost");
    qfile_attr(qf, "empty", "");
    qfile_rcpt(qf, "Orig@Example.com", "one@example.com");
    qfile_rcpt(qf, 0, "\"two x\"@example.com");
    qfile_rcpt(qf, 0, "three@example.com");
    qfile_begin_content(qf);
    /* odd split to exercise chunking */
    qfile_content(qf, content, len / 3);
    qfile_content(qf, content + len / 3, len - len / 3);
    vstring_strcpy(id, STR(qf->id));
    assert_int_equal(qfile_commit(qf), 0);
}

typedef struct {
    VSTRING *buf;
    int     calls;
} COLLECT;

static int collect_content(const char *data, size_t len, void *ctx)
{
    COLLECT *c = ctx;

    vstring_memcat(c->buf, data, len);
    c->calls++;
    return (0);
}

static void test_round_trip(void **state)
{
    size_t  len = 3 * REC_BODY_CHUNK + 1234;
    char   *content = malloc(len);
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(20);
    VSTRING *path = vstring_alloc(20);
    COLLECT c = {vstring_alloc(100), 0};
    VSTREAM *fp;
    QENV    env;
    struct stat st;
    size_t  i;

    for (i = 0; i < len; i++)
	content[i] = (i % 77 == 76) ? '\n' : 'a' + i % 26;
    write_message(id, content, len);
    assert_int_equal(stat(mail_queue_path(path, "incoming", STR(id)), &st), 0);
    assert_true(MAIL_QUEUE_READY(&st));

    fp = mail_queue_open("incoming", STR(id), O_RDWR);
    assert_non_null(fp);
    if (qfile_read_envelope(fp, &env, why) != 0)
	fail_msg("read_envelope: %s", STR(why));
    assert_int_equal(env.arrival.tv_sec, 1700000000);
    assert_int_equal(env.arrival.tv_usec, 123456);
    assert_string_equal(env.sender, "sender@example.com");
    assert_int_equal(env.attr_count, 2);
    assert_string_equal(qenv_attr(&env, "client_name"), "localhost");
    assert_string_equal(qenv_attr(&env, "empty"), "");
    assert_null(qenv_attr(&env, "nope"));
    assert_int_equal(env.rcpt_count, 3);
    assert_string_equal(env.rcpts[0].address, "one@example.com");
    assert_string_equal(env.rcpts[0].orig, "Orig@Example.com");
    assert_string_equal(env.rcpts[1].address, "\"two x\"@example.com");
    assert_null(env.rcpts[1].orig);
    assert_int_equal(env.rcpts[2].done, 0);
    assert_int_equal(env.content_size, (long) len);

    assert_int_equal(qfile_read_content(fp, &env, collect_content, &c, why), 0);
    assert_int_equal(LEN(c.buf), len);
    assert_memory_equal(STR(c.buf), content, len);
    assert_int_equal(c.calls, 4);

    /* mark done, in place */
    assert_int_equal(qfile_mark_done(vstream_fd(fp), env.rcpts[1].offset), 0);
    assert_int_equal(qfile_mark_done(vstream_fd(fp), env.rcpts[1].offset), 0);
    assert_int_equal(qfile_mark_done(vstream_fd(fp), env.rcpts[1].offset + 1), -1);
    assert_int_equal(qfile_mark_done(vstream_fd(fp), 0), -1);
    assert_int_equal(qfile_mark_done(vstream_fd(fp), 100000000), -1);
    qenv_free(&env);
    assert_int_equal(qfile_read_envelope(fp, &env, why), 0);
    assert_int_equal(env.rcpts[0].done, 0);
    assert_int_equal(env.rcpts[1].done, 1);
    assert_int_equal(env.rcpts[2].done, 0);
    qenv_free(&env);
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);

    vstring_free(c.buf);
    vstring_free(id);
    vstring_free(why);
    vstring_free(path);
    free(content);
}

/* read_whole - envelope and content; 0 if the file reads cleanly */

static int read_whole(const char *queue, const char *id)
{
    VSTREAM *fp = mail_queue_open(queue, id, O_RDONLY);
    VSTRING *why = vstring_alloc(20);
    COLLECT c = {vstring_alloc(100), 0};
    QENV    env;
    int     ret;

    assert_non_null(fp);
    ret = qfile_read_envelope(fp, &env, why);
    if (ret == 0) {
	ret = qfile_read_content(fp, &env, collect_content, &c, why);
	qenv_free(&env);
    }
    if (ret != 0)
	assert_true(LEN(why) > 0);
    vstream_close(fp);
    vstring_free(why);
    vstring_free(c.buf);
    return (ret);
}

/*
 * test_read_back_restart - a writer reads its content back (across
 * record boundaries), writes the file again under the same id after
 * qfile_restart(), and the result reads as the second version only
 */

static void test_read_back_restart(void **state)
{
    size_t  len = 2 * REC_BODY_CHUNK + 99;
    char   *content = malloc(len);
    VSTRING *back = vstring_alloc(100);
    VSTRING *why = vstring_alloc(20);
    COLLECT c = {vstring_alloc(100), 0};
    char   *id;
    QFILE  *qf;
    VSTREAM *fp;
    QENV    env;

    for (size_t i = 0; i < len; i++)
	content[i] = (i % 60 == 59) ? '\n' : 'A' + i % 26;
    assert_non_null(qf = qfile_create("incoming"));
    id = strdup(STR(qf->id));
    qfile_sender(qf, "old@example.com");
    qfile_rcpt(qf, "a@example.com", "a@example.com");
    qfile_rcpt(qf, "b@example.com", "b@example.com");
    qfile_begin_content(qf);
    qfile_content(qf, content, len);
    assert_int_equal(qfile_read_back(qf, back), 0);
    assert_int_equal(LEN(back), len);
    assert_memory_equal(STR(back), content, len);
    qfile_content(qf, "more\n", 5);		/* still appends at the end */
    assert_int_equal(qfile_read_back(qf, back), 0);
    assert_int_equal(LEN(back), len + 5);

    qfile_restart(qf);
    qfile_sender(qf, "new@example.com");
    qfile_rcpt(qf, "c@example.com", "c@example.com");
    qfile_begin_content(qf);
    qfile_content(qf, "edited\n", 7);
    assert_int_equal(qfile_commit(qf), 0);

    assert_non_null(fp = mail_queue_open("incoming", id, O_RDONLY));
    if (qfile_read_envelope(fp, &env, why) != 0)
	fail_msg("read_envelope: %s", STR(why));
    assert_string_equal(env.sender, "new@example.com");
    assert_int_equal(env.rcpt_count, 1);
    assert_string_equal(env.rcpts[0].address, "c@example.com");
    assert_int_equal(qfile_read_content(fp, &env, collect_content, &c, why), 0);
    assert_int_equal(LEN(c.buf), 7);
    assert_memory_equal(STR(c.buf), "edited\n", 7);
    qenv_free(&env);
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", id), 0);

    /* Read back before any content is an error, and the commit fails */
    assert_non_null(qf = qfile_create("incoming"));
    qfile_sender(qf, "x@example.com");
    assert_int_equal(qfile_read_back(qf, back), -1);
    assert_int_equal(qfile_commit(qf), -1);

    free(id);
    free(content);
    vstring_free(back);
    vstring_free(why);
    vstring_free(c.buf);
}

static void test_truncated(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *path = vstring_alloc(20);
    const char *msg = "Subject: hi\n\nbody line\nFrom me\n";
    struct stat st;
    off_t   cut;
    char   *copy;
    int     fd;

    write_message(id, msg, strlen(msg));
    assert_int_equal(read_whole("incoming", STR(id)), 0);
    mail_queue_path(path, "incoming", STR(id));
    assert_int_equal(stat(STR(path), &st), 0);
    copy = malloc(st.st_size);
    fd = open(STR(path), O_RDWR);
    assert_int_equal(pread(fd, copy, st.st_size, 0), st.st_size);
    for (cut = 0; cut < st.st_size; cut++) {
	assert_int_equal(ftruncate(fd, cut), 0);
	if (read_whole("incoming", STR(id)) == 0)
	    fail_msg("file truncated to %ld of %ld bytes not detected",
		     (long) cut, (long) st.st_size);
	assert_int_equal(pwrite(fd, copy, st.st_size, 0), st.st_size);
    }
    /* trailing garbage */
    assert_int_equal(pwrite(fd, "E", 2, st.st_size), 2);
    assert_int_equal(read_whole("incoming", STR(id)), -1);
    assert_int_equal(ftruncate(fd, st.st_size), 0);
    assert_int_equal(read_whole("incoming", STR(id)), 0);

    /* every single-byte change: must not crash; type bytes are caught */
    for (cut = 0; cut < st.st_size; cut++) {
	static const char vals[] = {0, 'X', 'M', 0x7f, (char) 0xff};
	size_t  v;

	for (v = 0; v < sizeof(vals); v++) {
	    if (vals[v] == copy[cut])
		continue;
	    assert_int_equal(pwrite(fd, vals + v, 1, cut), 1);
	    (void) read_whole("incoming", STR(id));
	    assert_int_equal(pwrite(fd, copy + cut, 1, cut), 1);
	}
    }
    assert_int_equal(read_whole("incoming", STR(id)), 0);
    close(fd);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
    free(copy);
    vstring_free(id);
    vstring_free(path);
}

static void test_bad_envelopes(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(20);
    VSTREAM *fp;
    QENV    env;
    int     i;

    /* too many attributes (limit 5 in main.cf) */
    {
	QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);

	qfile_sender(qf, "");
	for (i = 0; i < 6; i++)
	    qfile_attr(qf, "a", "b");
	qfile_rcpt(qf, 0, "x@y");
	qfile_begin_content(qf);
	qfile_content(qf, "x\n", 2);
	vstring_strcpy(id, STR(qf->id));
	assert_int_equal(qfile_commit(qf), 0);
    }
    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
    assert_int_equal(qfile_read_envelope(fp, &env, why), -1);
    assert_non_null(strstr(STR(why), "attribute"));
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);

    /* hand-made files with records out of order */
    {
	static const char *layouts[] = {"TS", "CSTM", "CTM", "CTSOM", "CTSRR", "CTSZM",
	"CTSBM", "CTSOOR", ""};

	for (i = 0; layouts[i][0]; i++) {
	    VSTREAM *out = mail_queue_enter("incoming", id);
	    const char *cp;

	    for (cp = layouts[i]; *cp; cp++) {
		if (*cp == 'C')
		    rec_fprintf(out, 'C', REC_SIZE_FORMAT, 10L, 0L, 0L);
		else if (*cp == 'T')
		    rec_puts(out, 'T', "1 2");
		else
		    rec_puts(out, *cp, "x");
	    }
	    vstream_close(out);
	    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
	    if (qfile_read_envelope(fp, &env, why) == 0)
		fail_msg("layout %s accepted", layouts[i]);
	    vstream_close(fp);
	    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
	}
    }
    vstring_free(id);
    vstring_free(why);
}

/* write_dsn_message - a file with a W record and N records */

static void write_dsn_message(VSTRING *id, time_t warn)
{
    QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);
    struct timeval tv = {1700000000, 5};

    assert_non_null(qf);
    qfile_time(qf, &tv);
    if (warn)
	qfile_warn_time(qf, warn);
    qfile_sender(qf, "sender@example.com");
    qfile_attr(qf, "dsn_envid", "abc+def");
    qfile_attr(qf, "dsn_ret", "HDRS");
    qfile_rcpt_dsn(qf, "orig@example.com", "one@example.com",
		   "SUCCESS,FAILURE", "rfc822;\"a b\"@example.com");
    qfile_rcpt_dsn(qf, 0, "two@example.com", "NEVER", 0);
    qfile_rcpt_dsn(qf, 0, "three@example.com", 0, "rfc822;x@y");
    qfile_rcpt_dsn(qf, 0, "four@example.com", 0, 0);
    qfile_rcpt_dsn(qf, "o5", "five@example.com", "", "");
    qfile_begin_content(qf);
    qfile_content(qf, "Subject: x\n\nbody\n", 17);
    vstring_strcpy(id, STR(qf->id));
    assert_int_equal(qfile_commit(qf), 0);
}

static void test_dsn_and_warn(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(20);
    VSTREAM *fp;
    QENV    env;

    write_dsn_message(id, 1700001234);
    assert_int_equal(read_whole("incoming", STR(id)), 0);
    fp = mail_queue_open("incoming", STR(id), O_RDWR);
    assert_non_null(fp);
    if (qfile_read_envelope(fp, &env, why) != 0)
	fail_msg("read_envelope: %s", STR(why));
    assert_int_equal(env.warn_time, 1700001234);
    assert_true(env.warn_offset > 0);
    assert_string_equal(qenv_attr(&env, "dsn_envid"), "abc+def");
    assert_string_equal(qenv_attr(&env, "dsn_ret"), "HDRS");
    assert_int_equal(env.rcpt_count, 5);
    assert_string_equal(env.rcpts[0].orig, "orig@example.com");
    assert_string_equal(env.rcpts[0].dsn_notify, "SUCCESS,FAILURE");
    assert_string_equal(env.rcpts[0].dsn_orcpt, "rfc822;\"a b\"@example.com");
    assert_string_equal(env.rcpts[1].dsn_notify, "NEVER");
    assert_null(env.rcpts[1].dsn_orcpt);
    assert_null(env.rcpts[2].dsn_notify);
    assert_string_equal(env.rcpts[2].dsn_orcpt, "rfc822;x@y");
    assert_null(env.rcpts[3].dsn_notify);
    assert_null(env.rcpts[3].dsn_orcpt);
    assert_string_equal(env.rcpts[4].orig, "o5");
    assert_null(env.rcpts[4].dsn_notify);
    assert_null(env.rcpts[4].dsn_orcpt);

    /* update W in place; mark_done still finds the R records */
    assert_int_equal(qfile_update_warn(vstream_fd(fp), &env, 0), 0);
    assert_int_equal(qfile_mark_done(vstream_fd(fp), env.rcpts[0].offset), 0);
    qenv_free(&env);
    assert_int_equal(qfile_read_envelope(fp, &env, why), 0);
    assert_int_equal(env.warn_time, 0);
    assert_int_equal(env.rcpts[0].done, 1);
    assert_string_equal(env.rcpts[0].dsn_notify, "SUCCESS,FAILURE");
    assert_int_equal(qfile_update_warn(vstream_fd(fp), &env, 99999999999L), 0);
    qenv_free(&env);
    assert_int_equal(qfile_read_envelope(fp, &env, why), 0);
    assert_int_equal(env.warn_time, 99999999999L);
    /* bad calls */
    assert_int_equal(qfile_update_warn(vstream_fd(fp), &env, -1), -1);
    env.warn_offset += 1;
    assert_int_equal(qfile_update_warn(vstream_fd(fp), &env, 5), -1);
    env.warn_offset = 0;
    assert_int_equal(qfile_update_warn(vstream_fd(fp), &env, 5), -1);
    qenv_free(&env);
    vstream_close(fp);
    assert_int_equal(read_whole("incoming", STR(id)), 0);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);

    /* no qfile_warn_time: W is 0 but present, so it can be set later */
    write_dsn_message(id, 0);
    fp = mail_queue_open("incoming", STR(id), O_RDWR);
    assert_int_equal(qfile_read_envelope(fp, &env, why), 0);
    assert_int_equal(env.warn_time, 0);
    assert_true(env.warn_offset > 0);
    assert_int_equal(qfile_update_warn(vstream_fd(fp), &env, 42), 0);
    qenv_free(&env);
    assert_int_equal(qfile_read_envelope(fp, &env, why), 0);
    assert_int_equal(env.warn_time, 42);
    qenv_free(&env);
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);

    /* qfile_warn_time without qfile_time writes T first */
    {
	QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);

	qfile_warn_time(qf, 77);
	qfile_sender(qf, "");
	qfile_rcpt(qf, 0, "x@y");
	qfile_begin_content(qf);
	qfile_content(qf, "x\n", 2);
	vstring_strcpy(id, STR(qf->id));
	assert_int_equal(qfile_commit(qf), 0);
	fp = mail_queue_open("incoming", STR(id), O_RDONLY);
	assert_int_equal(qfile_read_envelope(fp, &env, why), 0);
	assert_int_equal(env.warn_time, 77);
	qenv_free(&env);
	vstream_close(fp);
	assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
    }
    /* qfile_warn_time after the sender is refused, the file removed */
    {
	QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);

	qfile_sender(qf, "a@b");
	qfile_warn_time(qf, 77);
	qfile_rcpt(qf, 0, "x@y");
	qfile_begin_content(qf);
	qfile_content(qf, "x\n", 2);
	errno = 0;
	assert_int_equal(qfile_commit(qf), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(count_files("incoming"), 0);
    }
    vstring_free(id);
    vstring_free(why);
}

/* hand_file - a queue file from "type:data" records, C computed; 0 if read */

static int hand_file(const char **recs, QENV *env)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(20);
    VSTREAM *out = mail_queue_enter("incoming", id);
    long    content = 0, size = 0, count = 0;
    VSTREAM *fp;
    int     ret;

    rec_fprintf(out, 'C', REC_SIZE_FORMAT, 0L, 0L, 0L);
    for (; *recs; recs++) {
	if (**recs == 'R' || **recs == 'D')
	    count++;
	if (**recs == 'B')
	    size += strlen(*recs + 2);
	rec_puts(out, **recs, *recs + 2);
	if (**recs == 'M')
	    content = vstream_tell(out);
    }
    vstream_seek(out, 0);
    rec_fprintf(out, 'C', REC_SIZE_FORMAT, content, size, count);
    vstream_close(out);
    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
    ret = qfile_read_envelope(fp, env, why);
    if (ret != 0)
	assert_true(LEN(why) > 0);
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
    vstring_free(id);
    vstring_free(why);
    return (ret);
}

static void test_old_and_bad_dsn_files(void **state)
{
    QENV    env;
    int     i;

    /* a file from before W and N existed */
    {
	const char *old[] = {"T:1 2", "S:a@b", "A:x=y", "O:o@p", "R:r@s",
	"M:", "B:hi\n", "X:", "E:", 0};

	assert_int_equal(hand_file(old, &env), 0);
	assert_int_equal(env.warn_offset, 0);
	assert_int_equal(env.warn_time, 0);
	assert_int_equal(env.rcpt_count, 1);
	assert_string_equal(env.rcpts[0].orig, "o@p");
	assert_null(env.rcpts[0].dsn_notify);
	assert_null(env.rcpts[0].dsn_orcpt);
	qenv_free(&env);
    }
    /* N before O is fine too */
    {
	const char *ok[] = {"T:1 2", "W:5", "S:", "N:DELAY -", "O:o", "R:r",
	"M:", "X:", "E:", 0};

	assert_int_equal(hand_file(ok, &env), 0);
	assert_int_equal(env.warn_time, 5);
	assert_string_equal(env.rcpts[0].dsn_notify, "DELAY");
	qenv_free(&env);
    }
    /* bad ones */
    {
	static const char *bad[][10] = {
	    {"T:1 2", "S:a", "W:5", "R:r", "M:", "X:", "E:", 0},
	    {"W:5", "T:1 2", "S:a", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "W:-5", "S:a", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "W:5x", "S:a", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "W:", "S:a", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "W:1", "W:1", "S:a", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "S:a", "N:NEVER", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "S:a", "N: x", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "S:a", "N:x ", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "S:a", "N:x y", "N:x y", "R:r", "M:", "X:", "E:", 0},
	    {"T:1 2", "S:a", "R:r", "N:x y", "M:", "X:", "E:", 0},
	    {"T:1 2", "S:a", "N:x y", "A:a=b", "R:r", "M:", "X:", "E:", 0},
	};

	for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++)
	    if (hand_file(bad[i], &env) == 0)
		fail_msg("bad layout %d accepted", i);
    }
}

static void test_abort_and_write_error(void **state)
{
    QFILE  *qf;
    struct rlimit old, lim;
    char    big[8192];
    int     i;

    qf = qfile_create(MAIL_QUEUE_INCOMING);
    qfile_sender(qf, "a@b");
    qfile_abort(qf);
    assert_int_equal(count_files("incoming"), 0);

    /* a file size limit makes writes fail with EFBIG, like a full disk */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    qf = qfile_create(MAIL_QUEUE_INCOMING);
    qfile_sender(qf, "a@b");
    qfile_rcpt(qf, 0, "c@d");
    qfile_begin_content(qf);
    memset(big, 'x', sizeof(big));
    for (i = 0; i < 30; i++)
	qfile_content(qf, big, sizeof(big));
    errno = 0;
    assert_int_equal(qfile_commit(qf), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(count_files("incoming"), 0);

    /* commit without content is refused */
    qf = qfile_create(MAIL_QUEUE_INCOMING);
    qfile_sender(qf, "a@b");
    assert_int_equal(qfile_commit(qf), -1);
    assert_int_equal(count_files("incoming"), 0);
}

/*
 * Reading in slices (qfile_read_header, qfile_read_rcpts), as qmgr does.
 */

/* read_sliced - header, then slices of LIMIT until the end; 0 or -1 */

static int read_sliced(VSTREAM *fp, int limit, int *slices, long *seen)
{
    VSTRING *why = vstring_alloc(20);
    QENV    env;
    int     n = 0;
    int     ret;

    *slices = 0;
    if ((ret = qfile_read_header(fp, &env, why)) == 0) {
	assert_int_equal(env.rcpt_count, 0);
	while (env.rcpt_offset > 0) {
	    if ((n = qfile_read_rcpts(fp, &env, limit, why)) < 0)
		break;
	    assert_true(n >= 1 && n <= limit);
	    assert_int_equal(env.rcpt_count, n);
	    (*slices)++;
	}
	*seen = env.rcpt_seen;
	ret = n < 0 ? -1 : 0;
	qenv_free(&env);
    }
    if (ret < 0)
	assert_true(LEN(why) > 0);
    vstring_free(why);
    return (ret);
}

/* sliced_file - a file from "type:data" records; COUNT_DELTA and
 * OFFSET_DELTA falsify the size record; read in slices of LIMIT */

static int sliced_file(const char **recs, long count_delta, long offset_delta,
		               int limit, int *slices)
{
    VSTRING *id = vstring_alloc(20);
    VSTREAM *out = mail_queue_enter("incoming", id);
    long    content = 0, count = 0, seen = 0;
    VSTREAM *fp;
    int     ret;

    rec_fprintf(out, 'C', REC_SIZE_FORMAT, 0L, 0L, 0L);
    for (; *recs; recs++) {
	if (**recs == 'R' || **recs == 'D')
	    count++;
	rec_puts(out, **recs, *recs + 2);
	if (**recs == 'M')
	    content = vstream_tell(out);
    }
    vstream_seek(out, 0);
    rec_fprintf(out, 'C', REC_SIZE_FORMAT, content + offset_delta, 0L,
		count + count_delta);
    vstream_close(out);
    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
    ret = read_sliced(fp, limit, slices, &seen);
    if (ret == 0)
	assert_int_equal(seen, count + count_delta);
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
    vstring_free(id);
    return (ret);
}

/* test_slices - the same recipients as qfile_read_envelope, in slices */

static void test_slices(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(20);
    QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);
    VSTREAM *fp;
    QENV    env, whole;
    off_t   second;
    int     slices;
    long    seen;
    char    addr[40];

    qfile_sender(qf, "s@example.com");
    qfile_attr(qf, "first", "1");
    for (int i = 0; i < 7; i++) {
	snprintf(addr, sizeof(addr), "r%d@example.com", i);
	qfile_rcpt_dsn(qf, i == 2 ? "o@example.com" : 0, addr,
		       i == 3 ? "NEVER" : 0, 0);
	if (i == 4)
	    qfile_attr(qf, "late", "2");	/* an attribute among them */
    }
    qfile_begin_content(qf);
    qfile_content(qf, "hi\n", 3);
    vstring_strcpy(id, STR(qf->id));
    assert_int_equal(qfile_commit(qf), 0);
    fp = mail_queue_open("incoming", STR(id), O_RDWR);
    assert_non_null(fp);
    assert_int_equal(qfile_read_envelope(fp, &whole, why), 0);

    /* the header: everything but recipients */
    assert_int_equal(qfile_read_header(fp, &env, why), 0);
    assert_string_equal(env.sender, "s@example.com");
    assert_string_equal(qenv_attr(&env, "first"), "1");
    assert_null(qenv_attr(&env, "late"));
    assert_int_equal(env.rcpt_total, 7);
    assert_int_equal(env.rcpt_count, 0);
    assert_true(env.rcpt_offset > 0);
    assert_int_equal(env.content_offset, whole.content_offset);
    assert_int_equal(env.content_size, 3);

    /* slices of 3: 3, 3, 1; the late attribute arrives with the second */
    assert_int_equal(qfile_read_rcpts(fp, &env, 3, why), 3);
    assert_string_equal(env.rcpts[0].address, "r0@example.com");
    assert_string_equal(env.rcpts[2].orig, "o@example.com");
    assert_int_equal(env.rcpts[2].offset, whole.rcpts[2].offset);
    assert_true(env.rcpt_offset > 0);
    second = env.rcpt_offset;
    assert_int_equal(qfile_read_rcpts(fp, &env, 3, why), 3);
    assert_string_equal(env.rcpts[0].address, "r3@example.com");
    assert_string_equal(env.rcpts[0].dsn_notify, "NEVER");
    assert_string_equal(qenv_attr(&env, "late"), "2");
    assert_int_equal(env.rcpts[2].offset, whole.rcpts[5].offset);
    /* a done mark shows when the slice is read again */
    assert_int_equal(qfile_mark_done(vstream_fd(fp), env.rcpts[2].offset), 0);
    assert_int_equal(qfile_read_rcpts(fp, &env, 1, why), 1);
    assert_string_equal(env.rcpts[0].address, "r6@example.com");
    assert_int_equal(env.rcpt_offset, 0);
    assert_int_equal(env.rcpt_seen, 7);
    /* nothing left */
    assert_int_equal(qfile_read_rcpts(fp, &env, 1, why), -1);
    assert_int_equal(env.rcpt_count, 0);
    qenv_free(&env);

    /* a slice read again from a remembered offset */
    assert_int_equal(qfile_read_header(fp, &env, why), 0);
    env.rcpt_offset = second;
    env.rcpt_seen = 3;
    assert_int_equal(qfile_read_rcpts(fp, &env, 100, why), 4);
    assert_int_equal(env.rcpts[2].done, 1);
    assert_int_equal(env.rcpts[1].done, 0);
    assert_int_equal(env.rcpt_offset, 0);
    qenv_free(&env);

    /* every limit reads the same file cleanly */
    for (int limit = 1; limit <= 8; limit++) {
	assert_int_equal(read_sliced(fp, limit, &slices, &seen), 0);
	assert_int_equal(slices, (7 + limit - 1) / limit);
	assert_int_equal(seen, 7);
    }
    qenv_free(&whole);
    vstream_close(fp);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
    vstring_free(id);
    vstring_free(why);
}

/* test_bad_slices - surprises in the recipient part, at any slice size */

static void test_bad_slices(void **state)
{
    static const char *good[][12] = {
	{"T:1 2", "S:a", "R:r1", "R:r2", "R:r3", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "A:x=y", "R:r1", "A:z=w", "D:r2", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "N:DELAY -", "O:o", "R:r1", "O:p", "R:r2", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "R:r1", "A:x=y", "M:", "X:", "E:", 0},
    };
    static const char *bad[][12] = {
	{"T:1 2", "S:a", "R:r1", "O:o", "M:", "X:", "E:", 0},	/* O without R */
	{"T:1 2", "S:a", "R:r1", "N:x y", "M:", "X:", "E:", 0},	/* N without R */
	{"T:1 2", "S:a", "R:r1", "O:o", "O:p", "R:r2", "M:", 0},	/* two O */
	{"T:1 2", "S:a", "R:r1", "O:o", "A:a=b", "R:r2", "M:", 0},	/* A inside */
	{"T:1 2", "S:a", "R:r1", "S:b", "R:r2", "M:", "X:", "E:", 0},	/* order */
	{"T:1 2", "S:a", "R:r1", "T:1 2", "R:r2", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "R:r1", "B:x", "R:r2", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "R:r1", "Z:junk", "R:r2", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "R:r1", "R:r2", "X:", "E:", 0},	/* no M */
	{"T:1 2", "S:a", "R:r1", "R:r2", 0},	/* ends early */
	{"T:1 2", "S:a", "R:r1", "A:noequals", "M:", "X:", "E:", 0},
	{"T:1 2", "S:a", "R:r1", "N:x", "R:r2", "M:", "X:", "E:", 0},
	{"S:a", "T:1 2", "R:r1", "M:", "X:", "E:", 0},	/* header order */
	{"T:1 2", "S:a", "B:x", "R:r1", "M:", "X:", "E:", 0},
    };
    int     slices;

    for (int limit = 1; limit <= 3; limit++) {
	for (int i = 0; i < (int) (sizeof(good) / sizeof(good[0])); i++)
	    if (sliced_file(good[i], 0, 0, limit, &slices) != 0)
		fail_msg("good layout %d refused (limit %d)", i, limit);
	for (int i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++)
	    if (sliced_file(bad[i], 0, 0, limit, &slices) == 0)
		fail_msg("bad layout %d accepted (limit %d)", i, limit);
	/* the size record disagrees: more, fewer recipients, other offset */
	assert_int_equal(sliced_file(good[0], 1, 0, limit, &slices), -1);
	assert_int_equal(sliced_file(good[0], -1, 0, limit, &slices), -1);
	assert_int_equal(sliced_file(good[0], 0, 2, limit, &slices), -1);
	assert_int_equal(sliced_file(good[0], 0, -2, limit, &slices), -1);
    }
}

/* test_truncated_slices - any cut, junk or flipped byte in slices */

static void test_truncated_slices(void **state)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *path = vstring_alloc(20);
    QFILE  *qf = qfile_create(MAIL_QUEUE_INCOMING);
    struct stat st;
    char   *copy;
    int     fd, slices;
    long    seen;
    VSTREAM *fp;

    qfile_sender(qf, "s@example.com");
    for (int i = 0; i < 5; i++)
	qfile_rcpt_dsn(qf, "o@example.com", "r@example.com", "SUCCESS", "rfc822;x@y");
    qfile_begin_content(qf);
    qfile_content(qf, "hi\n", 3);
    vstring_strcpy(id, STR(qf->id));
    assert_int_equal(qfile_commit(qf), 0);
    mail_queue_path(path, "incoming", STR(id));
    assert_int_equal(stat(STR(path), &st), 0);
    copy = malloc(st.st_size);
    fd = open(STR(path), O_RDWR);
    assert_int_equal(pread(fd, copy, st.st_size, 0), st.st_size);
    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
    /* every cut before the content (B "hi\n", X, E: 9 bytes) */
    for (off_t cut = 0; cut < st.st_size - 9; cut++) {
	for (int limit = 1; limit <= 2; limit++) {
	    assert_int_equal(ftruncate(fd, cut), 0);
	    vstream_close(fp);
	    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
	    if (read_sliced(fp, limit, &slices, &seen) == 0)
		fail_msg("cut at %ld of %ld not detected", (long) cut, (long) st.st_size);
	    assert_int_equal(pwrite(fd, copy, st.st_size, 0), st.st_size);
	}
    }
    /* junk bytes over the recipients; any byte flipped: no crash */
    for (off_t at = 0; at < st.st_size; at++) {
	static const char vals[] = {0, 'R', 'M', 'A', 0x7f, (char) 0xff};

	for (size_t v = 0; v < sizeof(vals); v++) {
	    assert_int_equal(pwrite(fd, vals + v, 1, at), 1);
	    vstream_close(fp);
	    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
	    (void) read_sliced(fp, 2, &slices, &seen);
	    assert_int_equal(pwrite(fd, copy + at, 1, at), 1);
	}
    }
    vstream_close(fp);
    fp = mail_queue_open("incoming", STR(id), O_RDONLY);
    assert_int_equal(read_sliced(fp, 2, &slices, &seen), 0);
    assert_int_equal(slices, 3);
    vstream_close(fp);
    close(fd);
    assert_int_equal(mail_queue_remove("incoming", STR(id)), 0);
    free(copy);
    vstring_free(id);
    vstring_free(path);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_queue_ids),
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_read_back_restart),
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_bad_envelopes),
	cmocka_unit_test(test_dsn_and_warn),
	cmocka_unit_test(test_old_and_bad_dsn_files),
	cmocka_unit_test(test_abort_and_write_error),
	cmocka_unit_test(test_slices),
	cmocka_unit_test(test_bad_slices),
	cmocka_unit_test(test_truncated_slices),
    };

    msg_init("test_qfile", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
