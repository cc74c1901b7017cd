/*
 * events.c - epoll event loop with one-shot timers (see events.h).
 *
 * Descriptor registrations live in a table indexed by descriptor.  Timers
 * are kept in an unsorted array: the number of timers is the number of
 * clients of one process (at most a few thousand), and each loop round
 * needs only the earliest deadline and the expired ones.
 */
#include "sys_defs.h"
#include <sys/epoll.h>
#include <sys/time.h>
#include "events.h"
#include "mymalloc.h"
#include "msg.h"

typedef struct EVENT_FD {
    EVENT_FN read_fn;
    void   *read_ctx;
    EVENT_FN write_fn;
    void   *write_ctx;
    unsigned mask;			/* EVENT_READ | EVENT_WRITE registered */
} EVENT_FD;

typedef struct EVENT_TIMER {
    EVENT_FN fn;
    void   *ctx;
    long long when;			/* milliseconds since the epoch */
} EVENT_TIMER;

static int event_epfd = -1;
static EVENT_FD *event_fds;
static int event_fd_slots;
static EVENT_TIMER *event_timers;
static int event_timer_count;
static int event_timer_slots;
static time_t event_now;

static long long event_msec(void)
{
    struct timeval tv;

    gettimeofday(&tv, (struct timezone *) 0);
    return ((long long) tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

static void event_init(void)
{
    if (event_epfd >= 0)
	return;
    if ((event_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
	msg_fatal("epoll_create1: %m");
    event_now = time((time_t *) 0);
}

void    event_fork(void)
{
    if (event_epfd >= 0)
	close(event_epfd);
    event_epfd = -1;
    myfree(event_fds);
    event_fds = 0;
    event_fd_slots = 0;
    event_timer_count = 0;
}

static EVENT_FD *event_slot(int fd)
{
    if (fd < 0)
	msg_panic("event_slot: bad descriptor %d", fd);
    event_init();
    if (fd >= event_fd_slots) {
	int     slots = event_fd_slots ? event_fd_slots : 64;

	while (slots <= fd)
	    slots *= 2;
	event_fds = myrealloc(event_fds, slots * sizeof(*event_fds));
	memset(event_fds + event_fd_slots, 0,
	       (slots - event_fd_slots) * sizeof(*event_fds));
	event_fd_slots = slots;
    }
    return (event_fds + fd);
}

static void event_update(int fd, EVENT_FD *ef, unsigned newmask)
{
    struct epoll_event ev;
    int     op;

    memset(&ev, 0, sizeof(ev));
    ev.data.fd = fd;
    ev.events = ((newmask & EVENT_READ) ? EPOLLIN : 0)
	| ((newmask & EVENT_WRITE) ? EPOLLOUT : 0);
    if (ef->mask == newmask)
	return;
    op = ef->mask == 0 ? EPOLL_CTL_ADD : newmask == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(event_epfd, op, fd, &ev) < 0)
	msg_fatal("epoll_ctl fd %d: %m", fd);
    ef->mask = newmask;
}

void    event_enable_read(int fd, EVENT_FN callback, void *context)
{
    EVENT_FD *ef = event_slot(fd);

    ef->read_fn = callback;
    ef->read_ctx = context;
    event_update(fd, ef, ef->mask | EVENT_READ);
}

void    event_enable_write(int fd, EVENT_FN callback, void *context)
{
    EVENT_FD *ef = event_slot(fd);

    ef->write_fn = callback;
    ef->write_ctx = context;
    event_update(fd, ef, ef->mask | EVENT_WRITE);
}

void    event_disable_readwrite(int fd)
{
    EVENT_FD *ef;

    if (fd < 0 || fd >= event_fd_slots)
	return;
    ef = event_fds + fd;
    event_update(fd, ef, 0);
    memset(ef, 0, sizeof(*ef));
}

void    event_request_timer(EVENT_FN callback, void *context, int delay_ms)
{
    long long when = event_msec() + (delay_ms > 0 ? delay_ms : 0);

    for (int i = 0; i < event_timer_count; i++) {
	if (event_timers[i].fn == callback && event_timers[i].ctx == context) {
	    event_timers[i].when = when;
	    return;
	}
    }
    if (event_timer_count == event_timer_slots) {
	event_timer_slots = event_timer_slots ? 2 * event_timer_slots : 64;
	event_timers = myrealloc(event_timers, event_timer_slots * sizeof(*event_timers));
    }
    event_timers[event_timer_count].fn = callback;
    event_timers[event_timer_count].ctx = context;
    event_timers[event_timer_count].when = when;
    event_timer_count++;
}

void    event_cancel_timer(EVENT_FN callback, void *context)
{
    for (int i = 0; i < event_timer_count; i++) {
	if (event_timers[i].fn == callback && event_timers[i].ctx == context) {
	    event_timers[i] = event_timers[--event_timer_count];
	    return;
	}
    }
}

time_t  event_time(void)
{
    if (event_now == 0)
	event_now = time((time_t *) 0);
    return (event_now);
}

/* event_run_timers - call every expired timer once, earliest first */
static void event_run_timers(void)
{
    long long now = event_msec();

    for (;;) {
	int     first = -1;
	EVENT_TIMER t;

	for (int i = 0; i < event_timer_count; i++)
	    if (event_timers[i].when <= now
		&& (first < 0 || event_timers[i].when < event_timers[first].when))
		first = i;
	if (first < 0)
	    break;
	t = event_timers[first];
	event_timers[first] = event_timers[--event_timer_count];
	t.fn(EVENT_TIME, t.ctx);
    }
}

static int event_wait_ms(int max_wait_ms)
{
    long long now = event_msec();
    long long wait = max_wait_ms;

    for (int i = 0; i < event_timer_count; i++) {
	long long left = event_timers[i].when - now;

	if (left < 0)
	    left = 0;
	if (wait < 0 || left < wait)
	    wait = left;
    }
    return ((int) wait);
}

void    event_loop(int max_wait_ms)
{
    struct epoll_event evs[256];
    int     n;

    event_init();
    n = epoll_wait(event_epfd, evs, 256, event_wait_ms(max_wait_ms));
    if (n < 0 && errno != EINTR)
	msg_fatal("epoll_wait: %m");
    event_now = time((time_t *) 0);
    for (int i = 0; i < n; i++) {
	int     fd = evs[i].data.fd;
	EVENT_FD *ef;
	unsigned events = evs[i].events;

	if (fd >= event_fd_slots)
	    continue;
	ef = event_fds + fd;
	if ((ef->mask & EVENT_READ) && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
	    ef->read_fn((events & EPOLLIN) ? EVENT_READ : EVENT_XCPT, ef->read_ctx);
	ef = event_fds + fd;			/* the table may have moved */
	if ((ef->mask & EVENT_WRITE) && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
	    ef->write_fn((events & EPOLLOUT) ? EVENT_WRITE : EVENT_XCPT, ef->write_ctx);
    }
    event_run_timers();
}
