/*
 * test_worker.c - unit tests for lib/util/worker.c (thread pool with
 * results through the event loop).
 *
 * DONE runs in the main thread after WORK ran in another; a blocked job
 * does not hold up the event loop (a timer fires and a second job finishes
 * while the first still waits); the thread limit holds; 500 jobs all come
 * back exactly once; idle threads exit after the idle time and new jobs
 * start new ones; an urgent job runs while every thread the limit allows
 * is blocked, ahead of jobs waiting in line.  Every wait is bounded.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/time.h>

#include "events.h"
#include "msg.h"
#include "mymalloc.h"
#include "worker.h"

static pthread_t main_thread;

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, (struct timezone *) 0);
    return ((long long) tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

static void run_until(const int *count, int want, int max_ms)
{
    long long deadline = now_ms() + max_ms;

    while (*count < want && now_ms() < deadline)
	event_loop(50);
}

/* A job that notes where its parts ran */

typedef struct JOB {
    int     id;
    int     work_in_main;
    int     done_in_main;
    int     worked;
    int     gate_fd;			/* >= 0: WORK waits for a byte here */
    int    *finished;
} JOB;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int running;
static int max_running;

static void job_work(void *arg)
{
    JOB    *job = arg;
    char    ch;

    pthread_mutex_lock(&stats_lock);
    if (++running > max_running)
	max_running = running;
    pthread_mutex_unlock(&stats_lock);
    job->work_in_main = pthread_equal(pthread_self(), main_thread);
    if (job->gate_fd >= 0)
	(void) !read(job->gate_fd, &ch, 1);
    else
	usleep(2000);
    job->worked = 1;
    pthread_mutex_lock(&stats_lock);
    running--;
    pthread_mutex_unlock(&stats_lock);
}

static void job_done(void *arg)
{
    JOB    *job = arg;

    job->done_in_main = pthread_equal(pthread_self(), main_thread);
    assert_true(job->worked);
    (*job->finished)++;
}

static JOB *job_create(int id, int gate_fd, int *finished)
{
    JOB    *job = mycalloc(1, sizeof(*job));

    job->id = id;
    job->gate_fd = gate_fd;
    job->finished = finished;
    return (job);
}

static void test_threads_and_loop(void **unused)
{
    int     finished = 0;
    JOB    *job = job_create(1, -1, &finished);

    worker_submit(job_work, job_done, job);
    assert_int_equal(worker_pending(), 1);
    run_until(&finished, 1, 5000);
    assert_int_equal(finished, 1);
    assert_false(job->work_in_main);
    assert_true(job->done_in_main);
    assert_int_equal(worker_pending(), 0);
    myfree(job);
}

static int timer_fired;

static void timer_cb(int event, void *context)
{
    timer_fired++;
}

static void test_blocked_job_does_not_block_loop(void **unused)
{
    int     gate[2];
    int     slow_done = 0;
    int     fast_done = 0;
    JOB    *slow;
    JOB    *fast;

    assert_int_equal(pipe(gate), 0);
    slow = job_create(1, gate[0], &slow_done);
    fast = job_create(2, -1, &fast_done);
    worker_submit(job_work, job_done, slow);
    worker_submit(job_work, job_done, fast);
    timer_fired = 0;
    event_request_timer(timer_cb, (void *) 0, 10);
    run_until(&fast_done, 1, 5000);
    run_until(&timer_fired, 1, 5000);
    assert_int_equal(fast_done, 1);
    assert_int_equal(timer_fired, 1);
    assert_int_equal(slow_done, 0);		/* still waiting for its gate */
    assert_int_equal(write(gate[1], "x", 1), 1);
    run_until(&slow_done, 1, 5000);
    assert_int_equal(slow_done, 1);
    close(gate[0]);
    close(gate[1]);
    myfree(slow);
    myfree(fast);
}

static void test_many_jobs(void **unused)
{
    enum {
    COUNT = 500};
    JOB    *jobs[COUNT];
    int     finished = 0;

    for (int i = 0; i < COUNT; i++) {
	jobs[i] = job_create(i, -1, &finished);
	worker_submit(job_work, job_done, jobs[i]);
    }
    run_until(&finished, COUNT, 30000);
    assert_int_equal(finished, COUNT);
    assert_int_equal(worker_pending(), 0);
    assert_true(max_running <= 16);
    for (int i = 0; i < COUNT; i++) {
	assert_true(jobs[i]->done_in_main);
	myfree(jobs[i]);
    }
}

/* idle threads go away after worker_idle_time; the pool still works */

static void test_idle_threads_exit(void **unused)
{
    JOB    *jobs[4];
    int     finished = 0;
    long long deadline;

    for (int i = 0; i < 4; i++) {
	jobs[i] = job_create(i, -1, &finished);
	worker_submit(job_work, job_done, jobs[i]);
    }
    run_until(&finished, 4, 10000);
    assert_int_equal(finished, 4);
    assert_true(worker_thread_count() >= 1);
    deadline = now_ms() + 5000;
    while (worker_thread_count() > 0 && now_ms() < deadline)
	event_loop(100);
    assert_int_equal(worker_thread_count(), 0);
    for (int i = 0; i < 4; i++)
	myfree(jobs[i]);
    jobs[0] = job_create(9, -1, &finished);
    worker_submit(job_work, job_done, jobs[0]);
    run_until(&finished, 5, 10000);
    assert_int_equal(finished, 5);
    assert_true(jobs[0]->done_in_main);
    myfree(jobs[0]);
}

/* with the one allowed thread blocked, an urgent job still runs at once */

static void test_urgent_job_gets_a_thread(void **unused)
{
    int     gate[2];
    int     slow_done = 0, normal_done = 0, urgent_done = 0;
    JOB    *slow, *normal, *urgent;
    long long deadline = now_ms() + 5000;

    while (worker_thread_count() > 0 && now_ms() < deadline)
	event_loop(100);			/* the other tests' threads idle out */
    assert_int_equal(worker_thread_count(), 0);
    worker_set_limit(1);
    assert_int_equal(pipe(gate), 0);
    slow = job_create(1, gate[0], &slow_done);
    normal = job_create(2, -1, &normal_done);
    urgent = job_create(3, -1, &urgent_done);
    worker_submit(job_work, job_done, slow);
    worker_submit(job_work, job_done, normal);
    worker_submit_urgent(job_work, job_done, urgent);
    run_until(&urgent_done, 1, 5000);
    assert_int_equal(urgent_done, 1);
    assert_int_equal(slow_done, 0);		/* holds the one thread */
    assert_int_equal(write(gate[1], "x", 1), 1);
    run_until(&normal_done, 1, 5000);
    run_until(&slow_done, 1, 5000);
    assert_int_equal(normal_done + slow_done, 2);
    worker_set_limit(16);
    close(gate[0]);
    close(gate[1]);
    myfree(slow);
    myfree(normal);
    myfree(urgent);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_threads_and_loop),
	cmocka_unit_test(test_blocked_job_does_not_block_loop),
	cmocka_unit_test(test_many_jobs),
	cmocka_unit_test(test_idle_threads_exit),
	cmocka_unit_test(test_urgent_job_gets_a_thread),
    };

    msg_init("test_worker", MSG_TO_STDERR);
    worker_set_idle_time(1);			/* test_idle_threads_exit waits for it */
    main_thread = pthread_self();
    return (cmocka_run_group_tests(tests, 0, 0));
}
