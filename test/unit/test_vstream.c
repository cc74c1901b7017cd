/*
 * test_vstream.c - unit tests for lib/util/vstream.c: partial reads (a byte at
 * a time from a pipe), line bounds, timeouts, file offsets, binary data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sys_defs.h"
#include <fcntl.h>
#include <sys/wait.h>
#include "vstream.h"
#include "vstring.h"

/* feed - child process writes TEXT into a pipe one byte at a time */
static VSTREAM *feed(const char *text, size_t len, pid_t *pid)
{
    int     fds[2];

    assert_int_equal(pipe(fds), 0);
    if ((*pid = fork()) == 0) {
	close(fds[0]);
	for (size_t i = 0; i < len; i++) {
	    if (write(fds[1], text + i, 1) != 1)
		_exit(1);
	    if (i % 7 == 0)
		usleep(100);
	}
	_exit(0);
    }
    close(fds[1]);
    return (vstream_fdopen(fds[0], O_RDONLY));
}

static void reap(pid_t pid)
{
    int     status;

    waitpid(pid, &status, 0);
}

static void test_lines_byte_at_a_time(void **state)
{
    pid_t   pid;
    VSTREAM *in = feed("one\r\ntwo\n\nlast", 14, &pid);
    VSTRING *line = vstring_alloc(10);

    vstream_set_timeout(in, 10);
    assert_int_equal(vstream_get_line(in, line, 100), '\n');
    assert_string_equal(STR(line), "one\r\n");
    assert_int_equal(vstream_get_line(in, line, 100), '\n');
    assert_string_equal(STR(line), "two\n");
    assert_int_equal(vstream_get_line(in, line, 100), '\n');
    assert_string_equal(STR(line), "\n");
    assert_int_equal(vstream_get_line(in, line, 100), 't');	/* no newline */
    assert_string_equal(STR(line), "last");
    assert_int_equal(vstream_get_line(in, line, 100), VSTREAM_EOF);
    assert_true(vstream_eof(in));
    assert_false(vstream_error(in));
    vstream_close(in);
    vstring_free(line);
    reap(pid);
}

static void test_line_limit(void **state)
{
    pid_t   pid;
    char    text[3001];
    VSTREAM *in;
    VSTRING *line = vstring_alloc(10);

    memset(text, 'x', 2999);
    text[2999] = '\n';
    text[3000] = 0;
    in = feed(text, 3000, &pid);
    vstream_set_timeout(in, 10);
    assert_int_equal(vstream_get_line(in, line, 1000), 'x');
    assert_int_equal(LEN(line), 1000);
    assert_int_equal(vstream_get_line(in, line, 1000), 'x');
    assert_int_equal(vstream_get_line(in, line, 1000), '\n');
    assert_int_equal(LEN(line), 1000);
    vstream_close(in);
    vstring_free(line);
    reap(pid);
}

static void test_timeout(void **state)
{
    int     fds[2];
    VSTREAM *in;
    VSTRING *line = vstring_alloc(10);

    assert_int_equal(pipe(fds), 0);
    in = vstream_fdopen(fds[0], O_RDONLY);
    vstream_set_timeout(in, 1);
    assert_int_equal(vstream_get_line(in, line, 100), VSTREAM_EOF);
    assert_true(vstream_timedout(in));
    assert_true(vstream_error(in));
    vstream_close(in);
    close(fds[1]);
    vstring_free(line);
}

static void test_file_offsets_and_binary(void **state)
{
    char    path[] = "/tmp/test_vstream.XXXXXX";
    int     fd = mkstemp(path);
    VSTREAM *fp = vstream_fdopen(fd, O_RDWR);
    const char bin[] = {0, 1, 2, (char) 0xff, '\n', 0};
    char    back[6];

    vstream_fputs("header\n", fp);
    assert_int_equal(vstream_tell(fp), 7);
    vstream_write(fp, bin, sizeof(bin));
    assert_int_equal(vstream_tell(fp), 13);
    vstream_fprintf(fp, "%d\n", 12345);
    assert_int_equal(vstream_flush(fp), 0);
    assert_int_equal(vstream_seek(fp, 7), 0);
    assert_int_equal(vstream_read_full(fp, back, sizeof(back)), 0);
    assert_memory_equal(back, bin, sizeof(bin));
    assert_int_equal(vstream_tell(fp), 13);
    assert_int_equal(vstream_getc(fp), '1');
    assert_int_equal(vstream_tell(fp), 14);
    /* read past the end */
    assert_int_equal(vstream_read_full(fp, back, sizeof(back)), -1);
    vstream_close(fp);
    unlink(path);
}

static void test_write_error_sticky(void **state)
{
    int     fds[2];
    VSTREAM *out;

    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    out = vstream_fdopen(fds[1], O_WRONLY);
    vstream_fputs("lost", out);
    assert_int_equal(vstream_flush(out), -1);
    assert_true(vstream_error(out));
    assert_int_equal(vstream_fputs("more", out), -1);
    assert_int_equal(vstream_close(out), -1);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_lines_byte_at_a_time),
	cmocka_unit_test(test_line_limit),
	cmocka_unit_test(test_timeout),
	cmocka_unit_test(test_file_offsets_and_binary),
	cmocka_unit_test(test_write_error_sticky),
    };

    return (cmocka_run_group_tests_name("vstream", tests, 0, 0));
}
