/*
 * worker.c - a thread pool whose results come back through the event
 * loop.  See worker.h.
 *
 * Two lists under one mutex: jobs waiting for a thread (todo) and jobs
 * whose work is over (done).  A thread that finishes a job moves it to
 * the done list and writes to an eventfd that the event loop watches;
 * the loop's callback takes the whole done list and runs each DONE.
 * A thread that has had nothing to do for worker_idle_time seconds
 * exits (its stack pages go back to the system), so that a process
 * keeps no threads, and no memory for them, from a burst long gone.
 */
#include "sys_defs.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/eventfd.h>
#include "msg.h"
#include "mymalloc.h"
#include "events.h"
#include "worker.h"

#define WORKER_STACK_SIZE	(1024 * 1024)
#define WORKER_URGENT_EXTRA	16	/* threads over the limit for urgent jobs */

typedef struct WORKER_JOB {
    WORKER_FN work;
    WORKER_FN done;
    void   *arg;
    struct WORKER_JOB *next;
} WORKER_JOB;

typedef struct WORKER_LIST {
    WORKER_JOB *head;
    WORKER_JOB *tail;
} WORKER_LIST;

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_wake = PTHREAD_COND_INITIALIZER;
static WORKER_LIST worker_todo;
static WORKER_LIST worker_done;
static int worker_threads;		/* started */
static int worker_idle;			/* waiting for a job */
static int worker_queued;		/* jobs in the todo list */
static int worker_limit = 16;
static int worker_idle_time = 10;	/* seconds before an idle thread exits */
static int worker_count;		/* submitted, DONE not run yet */
static int worker_event_fd = -1;

static void list_append(WORKER_LIST *list, WORKER_JOB *job)
{
    job->next = 0;
    if (list->tail)
	list->tail->next = job;
    else
	list->head = job;
    list->tail = job;
}

static void list_prepend(WORKER_LIST *list, WORKER_JOB *job)
{
    job->next = list->head;
    list->head = job;
    if (list->tail == 0)
	list->tail = job;
}

static WORKER_JOB *list_take(WORKER_LIST *list)
{
    WORKER_JOB *job = list->head;

    if (job && (list->head = job->next) == 0)
	list->tail = 0;
    return (job);
}

/* worker_wait - with the lock held: the next job, or none after idling */

static WORKER_JOB *worker_wait(void)
{
    WORKER_JOB *job;
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += worker_idle_time;
    while ((job = list_take(&worker_todo)) == 0)
	if (pthread_cond_timedwait(&worker_wake, &worker_lock, &deadline) == ETIMEDOUT)
	    return (list_take(&worker_todo));
    return (job);
}

/* worker_thread - take jobs until idle for worker_idle_time seconds */

static void *worker_thread(void *unused)
{
    WORKER_JOB *job;
    uint64_t one = 1;

    for (;;) {
	pthread_mutex_lock(&worker_lock);
	worker_idle++;
	if ((job = worker_wait()) == 0) {
	    worker_idle--;
	    worker_threads--;
	    pthread_mutex_unlock(&worker_lock);
	    return (0);
	}
	worker_idle--;
	worker_queued--;
	pthread_mutex_unlock(&worker_lock);

	job->work(job->arg);

	pthread_mutex_lock(&worker_lock);
	list_append(&worker_done, job);
	pthread_mutex_unlock(&worker_lock);
	if (write(worker_event_fd, &one, sizeof(one)) != sizeof(one))
	    msg_warn("worker: write eventfd: %m");
    }
    return (0);
}

/* worker_finished - the event loop runs DONE of every finished job */

static void worker_finished(int event, void *unused)
{
    uint64_t count;
    WORKER_JOB *job;
    WORKER_LIST list;

    if (read(worker_event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
	msg_warn("worker: read eventfd: %m");
    pthread_mutex_lock(&worker_lock);
    list = worker_done;
    worker_done.head = worker_done.tail = 0;
    pthread_mutex_unlock(&worker_lock);
    while ((job = list_take(&list)) != 0) {
	worker_count--;
	job->done(job->arg);
	myfree(job);
    }
}

/* worker_start - one more thread; -1 when none could be started */

static int worker_start(void)
{
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all;
    sigset_t saved;
    int     err;

    if (worker_event_fd < 0) {
	if ((worker_event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
	    msg_fatal("worker: eventfd: %m");
	event_enable_read(worker_event_fd, worker_finished, (void *) 0);
    }
    /* The new thread inherits this mask: every signal stays with main */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&thread, &attr, worker_thread, (void *) 0);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &saved, (sigset_t *) 0);
    if (err != 0) {
	pthread_mutex_lock(&worker_lock);
	worker_threads--;
	pthread_mutex_unlock(&worker_lock);
	errno = err;
	msg_warn("worker: cannot start a thread: %m");
	return (-1);
    }
    return (0);
}

/* worker_queue - put a job in line (URGENT: at its head, a thread beyond the limit) */

static void worker_queue(WORKER_FN work, WORKER_FN done, void *arg, int urgent)
{
    WORKER_JOB *job = (WORKER_JOB *) mymalloc(sizeof(*job));
    int     limit = worker_limit + (urgent ? WORKER_URGENT_EXTRA : 0);
    int     need_thread;

    job->work = work;
    job->done = done;
    job->arg = arg;
    worker_count++;
    pthread_mutex_lock(&worker_lock);
    if (urgent)
	list_prepend(&worker_todo, job);
    else
	list_append(&worker_todo, job);
    /* An idle thread that was woken but has not taken its job yet still
     * counts as idle: compare with the jobs in line, not with zero */
    need_thread = (++worker_queued > worker_idle && worker_threads < limit);
    if (need_thread)
	worker_threads++;			/* counted now; worker_start undoes it on failure */
    pthread_cond_signal(&worker_wake);
    pthread_mutex_unlock(&worker_lock);
    if (need_thread && worker_start() < 0 && worker_thread_count() == 0)
	msg_fatal("worker: no thread to run jobs");
}

void	worker_submit(WORKER_FN work, WORKER_FN done, void *arg)
{
    worker_queue(work, done, arg, 0);
}

void	worker_submit_urgent(WORKER_FN work, WORKER_FN done, void *arg)
{
    worker_queue(work, done, arg, 1);
}

void	worker_set_limit(int limit)
{
    worker_limit = limit < 1 ? 1 : limit;
}

void	worker_set_idle_time(int seconds)
{
    worker_idle_time = seconds < 1 ? 1 : seconds;
}

int	worker_thread_count(void)
{
    int     count;

    pthread_mutex_lock(&worker_lock);
    count = worker_threads;
    pthread_mutex_unlock(&worker_lock);
    return (count);
}

int	worker_pending(void)
{
    return (worker_count);
}
