/*
 * fuzz_record.c - libFuzzer harness for lib/global/record.c and the queue file
 * reader in lib/global/qfile.c.
 *
 * Built and run by test/fuzz/run.sh.  The input becomes the content of a
 * memfd, read through a VSTREAM as a queue file would be:
 *   1. rec_get() until EOF or error; every record read must come back
 *      unchanged through rec_put() + rec_get(), and never exceed the limit;
 *   2. qfile_read_envelope() and, when it succeeds, qfile_read_content();
 *   3. qfile_read_content() on the whole input as if it were content only.
 * The readers must return 0 or -1 and never crash; a broken invariant
 * calls abort().  queue_file_attribute_count_limit comes from a temporary
 * main.cf made in LLVMFuzzerInitialize.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "record.h"
#include "qfile.h"

#define FUZZ_REC_LIMIT	(1024 * 1024)	/* as QFILE_REC_LIMIT */
#define FUZZ_MAX_INPUT	(256 * 1024)

static VSTRING *buf, *buf2, *why;

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_record: %s\n", what);
    abort();
}

/* memfd_stream - a read/write VSTREAM on an anonymous file holding DATA */

static VSTREAM *memfd_stream(const uint8_t *data, size_t size)
{
    int     fd = memfd_create("fuzz_record", MFD_CLOEXEC);

    if (fd < 0) {
	perror("memfd_create");
	abort();
    }
    if (size > 0 && write(fd, data, size) != (ssize_t) size) {
	perror("write memfd");
	abort();
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
	perror("lseek memfd");
	abort();
    }
    return (vstream_fdopen(fd, O_RDWR));
}

/* check_rec_roundtrip - TYPE/BUF written with rec_put read back the same */

static void check_rec_roundtrip(int type)
{
    VSTREAM *out = memfd_stream((const uint8_t *) "", 0);

    if (rec_put(out, type, STR(buf), LEN(buf)) < 0 || vstream_flush(out) < 0)
	fail("rec_put to a memfd failed");
    if ((off_t) (rec_header_len(LEN(buf)) + LEN(buf)) != vstream_tell(out))
	fail("rec_header_len disagrees with rec_put");
    if (vstream_seek(out, 0) < 0)
	fail("seek memfd");
    if (rec_get(out, buf2, FUZZ_REC_LIMIT) != type)
	fail("rec_put + rec_get changed the type");
    if (LEN(buf2) != LEN(buf) || memcmp(STR(buf), STR(buf2), LEN(buf)) != 0)
	fail("rec_put + rec_get changed the data");
    if (rec_get(out, buf2, FUZZ_REC_LIMIT) != REC_TYPE_EOF)
	fail("rec_put wrote more than one record");
    vstream_close(out);
}

/* fuzz_rec_get - read all records; check bounds and the round trip */

static void fuzz_rec_get(const uint8_t *data, size_t size, size_t limit)
{
    VSTREAM *in = memfd_stream(data, size);
    off_t   last = 0;
    int     type;

    while ((type = rec_get(in, buf, limit)) >= 0) {
	if (type > 255)
	    fail("rec_get returned a type above 255");
	if (LEN(buf) > limit || STR(buf)[LEN(buf)] != 0)
	    fail("rec_get record exceeds its limit or lacks the NUL");
	if (vstream_tell(in) <= last || vstream_tell(in) > (off_t) size)
	    fail("rec_get stream position went wrong");
	last = vstream_tell(in);
	check_rec_roundtrip(type);
    }
    if (type != REC_TYPE_EOF && type != REC_TYPE_ERROR)
	fail("rec_get returned an unknown negative type");
    if (type == REC_TYPE_EOF && last != (off_t) size)
	fail("rec_get said EOF before the end of the input");
    vstream_close(in);
}

/* count_content - qfile_read_content callback: add up the bytes */

static int count_content(const char *data, size_t len, void *ctx)
{
    long   *total = (long *) ctx;

    if (len > REC_BODY_CHUNK || (len > 0 && data == 0))
	fail("content chunk too large");
    *total += (long) len;
    return (0);
}

/* check_content - qfile_read_content returns 0 or -1, with WHY on -1 */

static void check_content(VSTREAM *in, const QENV *env)
{
    long    total = 0;
    int     ret = qfile_read_content(in, env, count_content, &total, why);

    if (ret == 0 && total != env->content_size)
	fail("qfile_read_content accepted a wrong content size");
    if (ret != 0 && (ret != -1 || LEN(why) == 0))
	fail("qfile_read_content failed without -1 and a reason");
}

/* fuzz_qfile - the envelope reader, then the content reader */

static void fuzz_qfile(const uint8_t *data, size_t size)
{
    VSTREAM *in = memfd_stream(data, size);
    QENV    env;
    int     i;

    if (qfile_read_envelope(in, &env, why) == 0) {
	if (env.sender == 0 || env.content_offset <= 0
	    || env.content_offset > (off_t) size || env.content_size < 0
	    || env.content_offset + env.content_size > (off_t) size)
	    fail("qfile_read_envelope accepted a bad envelope");
	for (i = 0; i < env.rcpt_count; i++)
	    if (env.rcpts[i].address == 0 || env.rcpts[i].offset <= 0
		|| env.rcpts[i].offset >= env.content_offset
		|| data[env.rcpts[i].offset] != (env.rcpts[i].done ?
						 REC_TYPE_DONE : REC_TYPE_RCPT))
		fail("qfile_read_envelope recipient offset is wrong");
	for (i = 0; i < env.attr_count; i++)
	    if (qenv_attr(&env, env.attr_names[i]) == 0)
		fail("qenv_attr cannot find a stored attribute");
	check_content(in, &env);
	qenv_free(&env);
    } else {
	if (LEN(why) == 0)
	    fail("qfile_read_envelope failed without a reason");
	if (env.sender || env.rcpts || env.attr_names || env.rcpt_count)
	    fail("qfile_read_envelope left data behind after failing");
    }
    /* The same bytes as content only (from offset 0). */
    memset(&env, 0, sizeof(env));
    env.content_offset = 0;
    env.content_size = (long) size;
    check_content(in, &env);
    vstream_close(in);
}

/* make_config - a temporary config dir with a main.cf, read once */

static void make_config(void)
{
    char    dir[] = "/tmp/fuzz_record.XXXXXX";
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    if (mkdtemp(dir) == 0) {
	perror("mkdtemp");
	abort();
    }
    vstring_sprintf(path, "%s/main.cf", dir);
    if ((fp = fopen(STR(path), "w")) == 0) {
	perror("fopen main.cf");
	abort();
    }
    fprintf(fp, "queue_file_attribute_count_limit = 20\n");
    fclose(fp);
    mail_conf_set_dir(dir);
    mail_conf_read(0);
    (void) conf_int("queue_file_attribute_count_limit");
    unlink(STR(path));
    rmdir(dir);
    vstring_free(path);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_record", 0);
    make_config();
    buf = vstring_alloc(100);
    buf2 = vstring_alloc(100);
    why = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
	return (0);
    fuzz_rec_get(data, size, FUZZ_REC_LIMIT);
    fuzz_rec_get(data, size, 16);		/* the limit must hold */
    fuzz_qfile(data, size);
    return (0);
}
