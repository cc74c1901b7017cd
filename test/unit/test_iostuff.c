/*
 * test_iostuff.c - unit tests for lib/util/iostuff.c (socket and descriptor
 * helpers).
 *
 * UNIX and TCP listen/connect round trips on loopback (port 0, so tests
 * never collide), socket modes, refused and timed-out connects, bad
 * address syntax, descriptor flags, write_full with a slow reader,
 * peer_address and fsync_dir.  No test needs DNS or the network.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "iostuff.h"
#include "msg.h"

static char tmp_dir[] = "/tmp/test_iostuff.XXXXXX";

/* next_fd - the lowest free descriptor number (to spot leaks) */

static int next_fd(void)
{
    int     fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    close(fd);
    return (fd);
}

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, (struct timezone *) 0);
    return ((long long) tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* local_port - the port a socket is bound to */

static int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    assert_int_equal(getsockname(fd, (struct sockaddr *) &ss, &len), 0);
    if (ss.ss_family == AF_INET)
	return (ntohs(((struct sockaddr_in *) &ss)->sin_port));
    assert_int_equal(ss.ss_family, AF_INET6);
    return (ntohs(((struct sockaddr_in6 *) &ss)->sin6_port));
}

static int has_cloexec(int fd)
{
    return ((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
}

static int has_nonblock(int fd)
{
    return ((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
}

/* exchange - send a line each way over a connected pair */

static void exchange(int a, int b)
{
    char    buf[16];

    assert_int_equal(write_full(a, "ping", 4), 4);
    assert_int_equal(read(b, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write_full(b, "pong!", 5), 5);
    assert_int_equal(read(a, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "pong!", 5);
}

static void test_non_blocking(void **state)
{
    int     pfd[2];

    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(non_blocking(pfd[0], NON_BLOCKING), 0);
    assert_true(has_nonblock(pfd[0]));
    assert_int_equal(non_blocking(pfd[0], NON_BLOCKING), 1);
    assert_int_equal(non_blocking(pfd[0], BLOCKING), 1);
    assert_false(has_nonblock(pfd[0]));
    assert_int_equal(non_blocking(pfd[0], BLOCKING), 0);
    assert_int_equal(non_blocking(-1, NON_BLOCKING), -1);
    close(pfd[0]);
    assert_int_equal(non_blocking(pfd[0], NON_BLOCKING), -1);
    close(pfd[1]);
}

static void test_close_on_exec(void **state)
{
    int     pfd[2];

    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(close_on_exec(pfd[1], 1), 0);
    assert_true(has_cloexec(pfd[1]));
    assert_int_equal(close_on_exec(pfd[1], 1), 1);
    assert_int_equal(close_on_exec(pfd[1], 0), 1);
    assert_false(has_cloexec(pfd[1]));
    assert_int_equal(close_on_exec(-1, 1), -1);
    close(pfd[0]);
    close(pfd[1]);
}

static void test_unix_round_trip(void **state)
{
    char    path[256];
    struct stat st;
    int     lfd, cfd, sfd;
    int     before = next_fd();

    snprintf(path, sizeof(path), "%s/sock", tmp_dir);
    lfd = unix_listen(path, 5, 0620);
    assert_true(lfd >= 0);
    assert_true(has_cloexec(lfd));
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0620);

    cfd = unix_connect(path, 2);
    assert_true(cfd >= 0);
    assert_false(has_nonblock(cfd));		/* blocking again after connect */
    assert_true(has_cloexec(cfd));
    sfd = accept(lfd, 0, 0);
    assert_true(sfd >= 0);
    exchange(cfd, sfd);
    close(cfd);
    close(sfd);

    /* nothing listens on the (now stale) socket: refused, at once */
    close(lfd);
    assert_int_equal(unix_connect(path, 2), -1);
    assert_int_equal(errno, ECONNREFUSED);

    /* a stale socket file is replaced, and a new mode applied */
    lfd = unix_listen(path, 5, 0666);
    assert_true(lfd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0666);
    cfd = unix_connect(path, 2);
    assert_true(cfd >= 0);
    close(cfd);
    close(lfd);
    unlink(path);
    assert_int_equal(next_fd(), before);
}

static void test_unix_errors(void **state)
{
    char    path[256];
    char    longpath[300];
    int     before = next_fd();

    snprintf(path, sizeof(path), "%s/nosuch/sock", tmp_dir);
    assert_int_equal(unix_listen(path, 5, 0666), -1);
    assert_int_equal(unix_connect(path, 1), -1);
    assert_int_equal(errno, ENOENT);

    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    assert_int_equal(unix_listen(longpath, 5, 0666), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(unix_connect(longpath, 1), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(next_fd(), before);
}

static void test_inet_round_trip(void **state)
{
    char    addr[64];
    char    host[64], port[16];
    char    want[16];
    int     lfd, cfd, sfd;
    int     before = next_fd();

    lfd = inet_listen("127.0.0.1:0", 5);
    assert_true(lfd >= 0);
    assert_true(has_cloexec(lfd));
    assert_true(local_port(lfd) > 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", local_port(lfd));

    cfd = inet_connect(addr, 2);
    assert_true(cfd >= 0);
    assert_false(has_nonblock(cfd));
    assert_true(has_cloexec(cfd));
    sfd = accept(lfd, 0, 0);
    assert_true(sfd >= 0);
    exchange(cfd, sfd);

    /* each side sees the other's address and port */
    peer_address(sfd, host, sizeof(host), port, sizeof(port));
    assert_string_equal(host, "127.0.0.1");
    snprintf(want, sizeof(want), "%d", local_port(cfd));
    assert_string_equal(port, want);
    peer_address(cfd, host, sizeof(host), port, sizeof(port));
    assert_string_equal(host, "127.0.0.1");
    snprintf(want, sizeof(want), "%d", local_port(lfd));
    assert_string_equal(port, want);

    close(cfd);
    close(sfd);
    close(lfd);
    assert_int_equal(next_fd(), before);
}

static void test_inet_ipv6(void **state)
{
    char    addr[64];
    char    host[64], port[16];
    int     lfd, cfd, sfd;

    if ((lfd = inet_listen("[::1]:0", 5)) < 0)
	skip();					/* no IPv6 loopback here */
    snprintf(addr, sizeof(addr), "[::1]:%d", local_port(lfd));
    cfd = inet_connect(addr, 2);
    assert_true(cfd >= 0);
    sfd = accept(lfd, 0, 0);
    assert_true(sfd >= 0);
    exchange(cfd, sfd);
    peer_address(sfd, host, sizeof(host), port, sizeof(port));
    assert_string_equal(host, "::1");
    close(cfd);
    close(sfd);
    close(lfd);
}

/* ":port" and "port" listen on all addresses */

static void test_inet_wildcard_forms(void **state)
{
    static const char *forms[] = {":0", "0", "*:0"};

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
	int     lfd = inet_listen(forms[i], 5);

	if (lfd < 0)
	    fail_msg("inet_listen(\"%s\"): %s", forms[i], strerror(errno));
	assert_true(local_port(lfd) > 0);
	close(lfd);
    }
}

/*
 * Bad address syntax must fail, not listen on some port.
 * (Regression test: an empty port once bound a random port, 99999
 * wrapped to 34463, and "[]:25" listened on the wildcard address.)
 */
static void test_bad_addresses(void **state)
{
    static const char *bad[] = {
	"[::1", "[::1]", "[::1]25", "[::1]:", "127.0.0.1:", "", ":", "[]:25",
	"127.0.0.1:notaport", "127.0.0.1:99999", "127.0.0.1:-1",
	"localhost:",
    };
    char    failed[1024] = "";
    int     before = next_fd();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	int     fd;
	size_t  used = strlen(failed);

	if ((fd = inet_listen(bad[i], 5)) >= 0) {
	    snprintf(failed + used, sizeof(failed) - used,
		     " inet_listen(\"%s\")->port %d;", bad[i], local_port(fd));
	    close(fd);
	}
	used = strlen(failed);
	if ((fd = inet_connect(bad[i], 1)) >= 0) {
	    snprintf(failed + used, sizeof(failed) - used,
		     " inet_connect(\"%s\") ok;", bad[i]);
	    close(fd);
	}
    }
    assert_int_equal(next_fd(), before);
    if (*failed)
	fail_msg("accepted bad addresses:%s", failed);
}

/* a port nobody listens on: refused at once */

static void test_connect_refused(void **state)
{
    char    addr[64];
    int     lfd = inet_listen("127.0.0.1:0", 5);
    long long start;

    assert_true(lfd >= 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", local_port(lfd));
    close(lfd);
    start = now_ms();
    assert_int_equal(inet_connect(addr, 5), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_true(now_ms() - start < 2000);
}

/*
 * A listener that never accepts, with a full queue: the kernel drops
 * further SYNs, so a connect hangs until the timeout.
 */
static void test_connect_timeout(void **state)
{
    char    addr[64];
    int     lfd = inet_listen("127.0.0.1:0", 0);
    int     fds[8];
    int     nfds = 0;
    int     timed_out = 0;

    assert_true(lfd >= 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", local_port(lfd));
    for (int i = 0; i < 8 && !timed_out; i++) {
	long long start = now_ms();
	int     fd = inet_connect(addr, 1);

	if (fd >= 0) {
	    fds[nfds++] = fd;
	    continue;
	}
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(now_ms() - start >= 900);
	assert_true(now_ms() - start < 3000);
	timed_out = 1;
    }
    assert_true(timed_out);
    while (nfds > 0)
	close(fds[--nfds]);
    close(lfd);
}

/* write_full: a large buffer to a non-blocking socket with a slow reader */

#define BIG (4 * 1024 * 1024)

static void test_write_full(void **state)
{
    int     sv[2];
    int     result[2];
    pid_t   pid;
    char   *buf = malloc(BIG);
    unsigned long sum = 0, child_sum = 0;
    int     status;

    assert_non_null(buf);
    for (size_t i = 0; i < BIG; i++) {
	buf[i] = (char) (i * 131 + 7);
	sum += (unsigned char) buf[i];
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(pipe(result), 0);
    fflush(stdout);
    if ((pid = fork()) == 0) {
	char    chunk[65536];
	ssize_t n;
	unsigned long s = 0;

	alarm(20);
	close(sv[0]);
	usleep(100 * 1000);			/* let the writer fill up */
	while ((n = read(sv[1], chunk, sizeof(chunk))) > 0)
	    for (ssize_t i = 0; i < n; i++)
		s += (unsigned char) chunk[i];
	(void) write(result[1], &s, sizeof(s));
	_exit(0);
    }
    assert_true(pid > 0);
    close(sv[1]);
    close(result[1]);
    non_blocking(sv[0], NON_BLOCKING);
    assert_int_equal(write_full(sv[0], buf, BIG), BIG);
    assert_int_equal(write_full(sv[0], buf, 0), 0);
    close(sv[0]);
    assert_int_equal(read(result[0], &child_sum, sizeof(child_sum)), sizeof(child_sum));
    assert_true(child_sum == sum);
    close(result[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    free(buf);
}

/* write_full to a closed peer or a bad descriptor fails */

static void test_write_full_errors(void **state)
{
    int     sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(write_full(sv[0], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
    assert_int_equal(write_full(-1, "x", 1), -1);
}

static void test_peer_address_not_socket(void **state)
{
    int     pfd[2];
    char    host[64], port[16];
    char    tiny_host[4], tiny_port[3];
    int     lfd, cfd, sfd;
    char    addr[64];

    assert_int_equal(pipe(pfd), 0);
    peer_address(pfd[0], host, sizeof(host), port, sizeof(port));
    assert_string_equal(host, "unknown");
    assert_string_equal(port, "unknown");
    close(pfd[0]);
    close(pfd[1]);
    peer_address(-1, host, sizeof(host), port, sizeof(port));
    assert_string_equal(host, "unknown");

    /* small buffers: cut and terminated, never overflowed */
    lfd = inet_listen("127.0.0.1:0", 5);
    assert_true(lfd >= 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", local_port(lfd));
    cfd = inet_connect(addr, 2);
    assert_true(cfd >= 0);
    sfd = accept(lfd, 0, 0);
    assert_true(sfd >= 0);
    peer_address(sfd, tiny_host, sizeof(tiny_host), tiny_port, sizeof(tiny_port));
    assert_true(strlen(tiny_host) < sizeof(tiny_host));
    assert_true(strlen(tiny_port) < sizeof(tiny_port));
    close(cfd);
    close(sfd);
    close(lfd);
}

static void test_fsync_dir(void **state)
{
    char    path[256];
    int     before = next_fd();

    snprintf(path, sizeof(path), "%s/file", tmp_dir);
    assert_int_equal(fsync_dir(path), 0);
    assert_int_equal(fsync_dir("relative-name"), 0);	/* "." */
    assert_int_equal(fsync_dir("/"), 0);
    assert_int_equal(fsync_dir("/nonexistent-posthorn-dir/file"), -1);
    assert_int_equal(next_fd(), before);
}

static int setup(void **state)
{
    memcpy(tmp_dir + sizeof(tmp_dir) - 7, "XXXXXX", 6);
    return (mkdtemp(tmp_dir) ? 0 : -1);
}

static int teardown(void **state)
{
    return (rmdir(tmp_dir));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_non_blocking),
	cmocka_unit_test(test_close_on_exec),
	cmocka_unit_test(test_unix_round_trip),
	cmocka_unit_test(test_unix_errors),
	cmocka_unit_test(test_inet_round_trip),
	cmocka_unit_test(test_inet_ipv6),
	cmocka_unit_test(test_inet_wildcard_forms),
	cmocka_unit_test(test_bad_addresses),
	cmocka_unit_test(test_connect_refused),
	cmocka_unit_test(test_connect_timeout),
	cmocka_unit_test(test_write_full),
	cmocka_unit_test(test_write_full_errors),
	cmocka_unit_test(test_peer_address_not_socket),
	cmocka_unit_test(test_fsync_dir),
    };

    msg_init("test_iostuff", MSG_TO_STDERR);
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
