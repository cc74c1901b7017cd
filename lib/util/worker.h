/*
 * worker.h - run blocking work off the event loop: a small pool of
 * threads for calls that may wait on the network or the disk (DNS
 * lookups, SASL password checks), with the result handed back to the
 * event loop.
 *
 *   worker_submit(work, done, arg);
 *
 * WORK(ARG) runs in a pool thread; DONE(ARG) then runs in the event loop
 * (from event_loop(), like any other callback).  ARG belongs to the job
 * from submit until DONE returns: WORK may only use what ARG holds, never
 * the caller's session, and DONE must check whether whoever asked is
 * still there (the usual way: the caller clears a back pointer in ARG
 * when it goes away; only the event loop thread reads or writes it).
 *
 * Threads are started as jobs come, up to worker_limit (default 16, set
 * with worker_set_limit() before the first job); more jobs wait in line.
 * A thread idle for worker_idle_time seconds (default 10) exits.
 * Pool threads block every signal, so signals keep going to the main
 * thread.  WORK must not call msg_fatal() or exit; logging with
 * msg_info/msg_warn is safe.
 */
#ifndef WORKER_H
#define WORKER_H

#include "sys_defs.h"

typedef void (*WORKER_FN) (void *arg);

/* worker_submit - queue WORK(ARG); DONE(ARG) runs in the event loop after it */
void	worker_submit(WORKER_FN work, WORKER_FN done, void *arg);

/*
 * worker_submit_urgent - the same for a short job that must not wait
 * behind slow ones (a queue file's fsync behind DNS lookups): it goes to
 * the head of the line, and when no thread is idle it gets one of its
 * own even beyond worker_limit (up to 16 more)
 */
void	worker_submit_urgent(WORKER_FN work, WORKER_FN done, void *arg);

/* worker_set_limit - at most LIMIT threads (>= 1) */
void	worker_set_limit(int limit);

/* worker_set_idle_time - idle threads exit after SECONDS (>= 1) */
void	worker_set_idle_time(int seconds);

/* worker_thread_count - threads running now (busy or idle) */
int	worker_thread_count(void);

/* worker_pending - jobs submitted whose DONE has not run yet */
int	worker_pending(void);

#endif
