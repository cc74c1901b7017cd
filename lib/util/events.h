/*
 * events.h - the event loop (epoll) used by every multi-client process.
 *
 * A process registers read/write interest in descriptors and one-shot
 * timers, each with a callback and a context pointer, then calls
 * event_loop() repeatedly.  A callback gets the event that fired
 * (EVENT_READ, EVENT_WRITE, EVENT_XCPT for error/hangup, EVENT_TIME).
 * Timers are keyed by (callback, context): requesting the same pair again
 * moves the deadline.  Callbacks may change any registration, including
 * their own, and may close descriptors after event_disable_readwrite().
 */
#ifndef EVENTS_H
#define EVENTS_H

#include "sys_defs.h"

#define EVENT_READ	(1<<0)
#define EVENT_WRITE	(1<<1)
#define EVENT_XCPT	(1<<2)
#define EVENT_TIME	(1<<3)

typedef void (*EVENT_FN) (int event, void *context);

void	event_enable_read(int fd, EVENT_FN callback, void *context);
void	event_enable_write(int fd, EVENT_FN callback, void *context);
void	event_disable_readwrite(int fd);

/* event_request_timer - call back after DELAY_MS milliseconds, once */
void	event_request_timer(EVENT_FN callback, void *context, int delay_ms);
void	event_cancel_timer(EVENT_FN callback, void *context);

/* event_loop - wait at most MAX_WAIT_MS (-1: until something happens), run callbacks */
void	event_loop(int max_wait_ms);

/* event_time - the time of the current loop round (cheap, cached) */
time_t	event_time(void);

/* event_fork - call in a child after fork() to drop the parent's registrations */
void	event_fork(void);

#endif
