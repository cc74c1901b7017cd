/*
 * test_events.c - unit tests for lib/util/events.c (epoll loop and timers).
 *
 * Read/write callbacks on socketpairs and pipes, timers in deadline order,
 * moving and cancelling timers, callbacks that disable or close their own
 * and other descriptors, 2000 timers, and event_fork() in a child.
 * Every wait is bounded, so a broken loop fails instead of hanging.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "events.h"
#include "msg.h"
#include "mymalloc.h"

/* now_ms - wall clock in milliseconds */

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, (struct timezone *) 0);
    return ((long long) tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* run_until - run the loop until *COUNT reaches WANT or MAX_MS pass */

static void run_until(const int *count, int want, int max_ms)
{
    long long deadline = now_ms() + max_ms;

    while (*count < want && now_ms() < deadline)
	event_loop(50);
}

static void make_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* Read and write callbacks on a socketpair */

typedef struct RW_STATE {
    int     fd;
    int     calls;
    int     last_event;
    char    data[64];
    ssize_t got;
} RW_STATE;

static void write_cb(int event, void *context)
{
    RW_STATE *st = context;

    st->calls++;
    st->last_event = event;
    assert_int_equal(write(st->fd, "hello", 5), 5);
    event_disable_readwrite(st->fd);
}

static void read_cb(int event, void *context)
{
    RW_STATE *st = context;

    st->calls++;
    st->last_event = event;
    st->got = read(st->fd, st->data, sizeof(st->data) - 1);
    if (st->got >= 0)
	st->data[st->got] = 0;
}

static void test_read_write(void **state)
{
    int     sv[2];
    RW_STATE w = {0}, r = {0};

    make_pair(sv);
    w.fd = sv[0];
    r.fd = sv[1];
    event_enable_read(r.fd, read_cb, &r);
    event_enable_write(w.fd, write_cb, &w);
    run_until(&r.calls, 1, 2000);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.last_event, EVENT_WRITE);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_event, EVENT_READ);
    assert_int_equal(r.got, 5);
    assert_string_equal(r.data, "hello");

    /* nothing more to read: a short loop round calls nobody */
    event_loop(20);
    assert_int_equal(r.calls, 1);
    assert_int_equal(w.calls, 1);

    /* peer closes: the reader sees a readable EOF */
    close(w.fd);
    run_until(&r.calls, 2, 2000);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.got, 0);
    event_disable_readwrite(r.fd);
    close(r.fd);
}

/* Hangup on a pipe with no data: the read callback gets EVENT_XCPT */

static void test_hangup_xcpt(void **state)
{
    int     pfd[2];
    RW_STATE r = {0};

    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    r.fd = pfd[0];
    event_enable_read(r.fd, read_cb, &r);
    close(pfd[1]);
    run_until(&r.calls, 1, 2000);
    assert_int_equal(r.calls, 1);
    assert_true(r.last_event == EVENT_XCPT || r.last_event == EVENT_READ);
    event_disable_readwrite(r.fd);
    close(r.fd);
}

/* Read and write registered on one descriptor, with different callbacks */

typedef struct BOTH_STATE {
    int     fd;
    int     reads;
    int     writes;
} BOTH_STATE;

static void both_read_cb(int event, void *context)
{
    BOTH_STATE *st = context;
    char    buf[16];

    st->reads++;
    (void) read(st->fd, buf, sizeof(buf));
}

static void both_write_cb(int event, void *context)
{
    BOTH_STATE *st = context;

    st->writes++;
    /* stop writing, keep reading: disable all, then re-enable read */
    event_disable_readwrite(st->fd);
    event_enable_read(st->fd, both_read_cb, st);
}

static void test_read_and_write_same_fd(void **state)
{
    int     sv[2];
    BOTH_STATE st = {0};

    make_pair(sv);
    st.fd = sv[0];
    event_enable_read(st.fd, both_read_cb, &st);
    event_enable_write(st.fd, both_write_cb, &st);
    run_until(&st.writes, 1, 2000);
    assert_int_equal(st.writes, 1);
    assert_int_equal(st.reads, 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    run_until(&st.reads, 1, 2000);
    assert_int_equal(st.reads, 1);
    assert_int_equal(st.writes, 1);
    event_disable_readwrite(st.fd);
    close(sv[0]);
    close(sv[1]);
}

/* Timers */

#define MAX_FIRED 4000

static int fired[MAX_FIRED];
static long long fired_at[MAX_FIRED];
static int fired_count;

static void timer_cb(int event, void *context)
{
    assert_int_equal(event, EVENT_TIME);
    assert_true(fired_count < MAX_FIRED);
    fired_at[fired_count] = now_ms();
    fired[fired_count++] = (int) (intptr_t) context;
}

static void other_timer_cb(int event, void *context)
{
    timer_cb(event, (void *) ((intptr_t) context + 1000));
}

static void reset_fired(void)
{
    fired_count = 0;
}

static void test_timers_in_order(void **state)
{
    reset_fired();
    event_request_timer(timer_cb, (void *) 3, 60);
    event_request_timer(timer_cb, (void *) 1, 10);
    event_request_timer(timer_cb, (void *) 2, 35);
    run_until(&fired_count, 3, 3000);
    assert_int_equal(fired_count, 3);
    assert_int_equal(fired[0], 1);
    assert_int_equal(fired[1], 2);
    assert_int_equal(fired[2], 3);
    /* one-shot: nothing fires again */
    event_loop(100);
    assert_int_equal(fired_count, 3);
}

/*
 * Timers that are all overdue when the loop looks at them should still
 * run in deadline order (Postfix keeps its timer list sorted).
 * (Regression test: event_run_timers() once ran them in array order.)
 */
static void test_overdue_timers_in_order(void **state)
{
    reset_fired();
    event_request_timer(timer_cb, (void *) 3, 30);
    event_request_timer(timer_cb, (void *) 1, 10);
    event_request_timer(timer_cb, (void *) 2, 20);
    usleep(60 * 1000);
    event_loop(0);
    assert_int_equal(fired_count, 3);
    assert_int_equal(fired[0], 1);
    assert_int_equal(fired[1], 2);
    assert_int_equal(fired[2], 3);
}

static void test_timer_rerequest_moves(void **state)
{
    long long start;

    /* later */
    reset_fired();
    start = now_ms();
    event_request_timer(timer_cb, (void *) 7, 10);
    event_request_timer(timer_cb, (void *) 7, 250);
    event_loop(60);
    assert_int_equal(fired_count, 0);
    run_until(&fired_count, 1, 3000);
    assert_int_equal(fired_count, 1);
    assert_int_equal(fired[0], 7);
    assert_true(fired_at[0] - start >= 250);
    event_loop(300);
    assert_int_equal(fired_count, 1);		/* moved, not duplicated */

    /* earlier */
    reset_fired();
    start = now_ms();
    event_request_timer(timer_cb, (void *) 8, 60000);
    event_request_timer(timer_cb, (void *) 8, 10);
    run_until(&fired_count, 1, 3000);
    assert_int_equal(fired_count, 1);
    assert_true(now_ms() - start < 2000);
    event_loop(50);
    assert_int_equal(fired_count, 1);
}

static void test_timer_cancel(void **state)
{
    reset_fired();
    /* same callback, different contexts; and same context, other callback */
    event_request_timer(timer_cb, (void *) 1, 10);
    event_request_timer(timer_cb, (void *) 2, 10);
    event_request_timer(other_timer_cb, (void *) 1, 10);
    event_cancel_timer(timer_cb, (void *) 1);
    event_cancel_timer(timer_cb, (void *) 99);	/* unknown: no-op */
    event_cancel_timer(timer_cb, (void *) 1);	/* twice: no-op */
    run_until(&fired_count, 2, 3000);
    event_loop(50);
    assert_int_equal(fired_count, 2);
    assert_true((fired[0] == 2 && fired[1] == 1001)
		|| (fired[0] == 1001 && fired[1] == 2));
}

/* A zero or negative delay fires in the next round */

static void test_timer_zero_delay(void **state)
{
    reset_fired();
    event_request_timer(timer_cb, (void *) 5, 0);
    event_request_timer(timer_cb, (void *) 6, -100);
    event_loop(1000);
    assert_int_equal(fired_count, 2);
}

/* A timer callback that re-arms itself keeps firing, and the loop goes on */

static int rearm_calls;

static void rearm_cb(int event, void *context)
{
    rearm_calls++;
    if (rearm_calls < 1000)
	event_request_timer(rearm_cb, context, 0);
}

static void test_timer_rearm_self(void **state)
{
    long long start = now_ms();

    rearm_calls = 0;
    event_request_timer(rearm_cb, (void *) 0, 0);
    while (rearm_calls < 1000 && now_ms() - start < 5000)
	event_loop(100);
    assert_int_equal(rearm_calls, 1000);
    event_cancel_timer(rearm_cb, (void *) 0);
}

/* Many timers: each fires once, never early; cancelled ones never fire */

#define MANY 2000

static void test_many_timers(void **state)
{
    static long long due[MANY];
    static int seen[MANY];
    long long start = now_ms();

    reset_fired();
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < MANY; i++) {
	int     delay = (i * 7919) % 300;

	due[i] = start + delay;
	event_request_timer(timer_cb, (void *) (intptr_t) i, delay);
    }
    /* cancel every fourth one, and move every tenth one a bit */
    for (int i = 0; i < MANY; i += 4)
	event_cancel_timer(timer_cb, (void *) (intptr_t) i);
    for (int i = 1; i < MANY; i += 10) {
	due[i] = now_ms() + 50;
	event_request_timer(timer_cb, (void *) (intptr_t) i, 50);
    }
    run_until(&fired_count, MANY - MANY / 4, 10000);
    event_loop(50);
    assert_int_equal(fired_count, MANY - MANY / 4);
    for (int n = 0; n < fired_count; n++) {
	int     i = fired[n];

	assert_true(i >= 0 && i < MANY);
	assert_true(i % 4 != 0);
	assert_int_equal(seen[i], 0);
	seen[i] = 1;
	assert_true(fired_at[n] >= due[i]);
    }
}

/*
 * Callbacks that change registrations of their own and other descriptors
 * in the middle of a round: the first callback to run disables and closes
 * every descriptor (its own included) and registers a fresh socketpair,
 * which probably reuses a closed descriptor number.
 */
#define NPAIRS 6

typedef struct CHURN {
    int     pairs[NPAIRS][2];
    int     calls[NPAIRS];
    int     fresh[2];
    int     fresh_calls;
    int     fresh_event;
} CHURN;

static CHURN churn;

static void fresh_cb(int event, void *context)
{
    char    buf[16];

    churn.fresh_calls++;
    churn.fresh_event = event;
    assert_true(read(churn.fresh[0], buf, sizeof(buf)) > 0);
}

static void churn_cb(int event, void *context)
{
    int     me = (int) (intptr_t) context;

    churn.calls[me]++;
    for (int i = 0; i < NPAIRS; i++) {
	if (churn.pairs[i][0] < 0)
	    continue;
	event_disable_readwrite(churn.pairs[i][0]);
	close(churn.pairs[i][0]);
	close(churn.pairs[i][1]);
	churn.pairs[i][0] = churn.pairs[i][1] = -1;
    }
    make_pair(churn.fresh);
    event_enable_read(churn.fresh[0], fresh_cb, 0);
}

static void test_callback_churn(void **state)
{
    int     total = 0;

    memset(&churn, 0, sizeof(churn));
    for (int i = 0; i < NPAIRS; i++) {
	make_pair(churn.pairs[i]);
	event_enable_read(churn.pairs[i][0], churn_cb, (void *) (intptr_t) i);
	assert_int_equal(write(churn.pairs[i][1], "x", 1), 1);
    }
    event_loop(1000);
    for (int i = 0; i < NPAIRS; i++)
	total += churn.calls[i];
    assert_int_equal(total, 1);
    /* no stale event for a reused descriptor number reached fresh_cb */
    assert_int_equal(churn.fresh_calls, 0);
    event_loop(20);
    assert_int_equal(churn.fresh_calls, 0);

    assert_int_equal(write(churn.fresh[1], "y", 1), 1);
    run_until(&churn.fresh_calls, 1, 2000);
    assert_int_equal(churn.fresh_calls, 1);
    assert_int_equal(churn.fresh_event, EVENT_READ);
    event_disable_readwrite(churn.fresh[0]);
    close(churn.fresh[0]);
    close(churn.fresh[1]);
}

/* A callback that disables its own descriptor and re-enables it later */

typedef struct SELF {
    int     sv[2];
    int     calls;
} SELF;

static void self_cb(int event, void *context)
{
    SELF   *st = context;
    char    buf[4];

    st->calls++;
    assert_true(read(st->sv[0], buf, 1) == 1);
    event_disable_readwrite(st->sv[0]);
}

static void test_self_disable(void **state)
{
    SELF    st = {0};

    make_pair(st.sv);
    assert_int_equal(write(st.sv[1], "ab", 2), 2);
    event_enable_read(st.sv[0], self_cb, &st);
    run_until(&st.calls, 1, 2000);
    event_loop(30);				/* "b" is pending, but disabled */
    assert_int_equal(st.calls, 1);
    event_enable_read(st.sv[0], self_cb, &st);
    run_until(&st.calls, 2, 2000);
    assert_int_equal(st.calls, 2);
    /* disabling twice, or an fd never registered, is harmless */
    event_disable_readwrite(st.sv[0]);
    event_disable_readwrite(st.sv[1]);
    event_disable_readwrite(100000);
    close(st.sv[0]);
    close(st.sv[1]);
}

/* Descriptor numbers far above the initial table size */

static void test_high_fd(void **state)
{
    int     sv[2];
    int     high;
    RW_STATE r = {0};

    make_pair(sv);
    high = fcntl(sv[0], F_DUPFD_CLOEXEC, 700);
    assert_true(high >= 700);
    r.fd = high;
    event_enable_read(high, read_cb, &r);
    assert_int_equal(write(sv[1], "z", 1), 1);
    run_until(&r.calls, 1, 2000);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.data, "z");
    event_disable_readwrite(high);
    close(high);
    close(sv[0]);
    close(sv[1]);
}

static void test_event_time(void **state)
{
    time_t  before = time((time_t *) 0);
    time_t  t;

    event_loop(0);
    t = event_time();
    assert_true(t >= before && t <= time((time_t *) 0));
}

/* event_fork: the child starts with no registrations and can add its own */

static void child_timer_cb(int event, void *context)
{
    *(int *) context += 1;
}

static void test_event_fork(void **state)
{
    int     sv[2];
    RW_STATE r = {0};
    pid_t   pid;
    int     status;

    make_pair(sv);
    r.fd = sv[0];
    event_enable_read(sv[0], read_cb, &r);
    reset_fired();
    event_request_timer(timer_cb, (void *) 42, 20);
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) == 0) {
	RW_STATE cr = {0};
	int     ticks = 0;

	alarm(10);
	event_fork();
	cr.fd = sv[0];
	/* same descriptor, registered anew in the child's own epoll set */
	event_enable_read(sv[0], read_cb, &cr);
	event_request_timer(child_timer_cb, &ticks, 10);
	assert_int_equal(write(sv[1], "c", 1), 1);
	for (int i = 0; i < 40 && (cr.calls == 0 || ticks == 0); i++)
	    event_loop(50);
	/* the parent's timer is gone; its read callback is not called */
	_exit(cr.calls == 1 && r.calls == 0 && ticks == 1
	      && fired_count == 0 && strcmp(cr.data, "c") == 0 ? 0 : 3);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the parent's registrations still work */
    event_disable_readwrite(sv[0]);
    event_cancel_timer(timer_cb, (void *) 42);
    close(sv[0]);
    close(sv[1]);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_read_write),
	cmocka_unit_test(test_hangup_xcpt),
	cmocka_unit_test(test_read_and_write_same_fd),
	cmocka_unit_test(test_timers_in_order),
	cmocka_unit_test(test_overdue_timers_in_order),
	cmocka_unit_test(test_timer_rerequest_moves),
	cmocka_unit_test(test_timer_cancel),
	cmocka_unit_test(test_timer_zero_delay),
	cmocka_unit_test(test_timer_rearm_self),
	cmocka_unit_test(test_many_timers),
	cmocka_unit_test(test_callback_churn),
	cmocka_unit_test(test_self_disable),
	cmocka_unit_test(test_high_fd),
	cmocka_unit_test(test_event_time),
	cmocka_unit_test(test_event_fork),
    };

    msg_init("test_events", MSG_TO_STDERR);
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, 0, 0));
}
