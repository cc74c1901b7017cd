/*
 * master_spawn.c - start, track and reap the children of each service.
 *
 * A service's listening socket is watched only while the service has no
 * available child, is below its process limit and is not throttled
 * (master_avail_listen); a connection then starts one more child with
 * the listener on fd 6 and the status socket on fd 5.  Children report
 * MASTER_STATUS records; a new child counts as available until it
 * reports.  A child that dies abnormally before it ever reported pauses
 * its service for 1s, 2s, 4s ... up to service_throttle_time.  A service
 * whose children are all busy at its process limit gets Postfix's
 * "has reached its process limit" warning, at most once in 1000s.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "events.h"
#include "htable.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "master.h"

MASTER_PROC *master_procs;

#define MASTER_BUSY_WARN_TIME	1000	/* seconds between limit warnings */

static void master_listen_cb(int event, void *context);

/* master_busy_warn - every child busy at the process limit: say so, rarely */
static void master_busy_warn(const MASTER_SERV *serv)
{
    static HTABLE *warned;			/* address -> time of the warning */
    HTABLE_INFO *ht;
    time_t  now = event_time();

    if (warned == 0)
	warned = htable_create(10);
    if ((ht = htable_locate(warned, serv->addr)) == 0)
	ht = htable_enter(warned, mystrdup(serv->addr), (void *) 0);
    else if (now - (time_t) (intptr_t) ht->value < MASTER_BUSY_WARN_TIME)
	return;
    ht->value = (void *) (intptr_t) now;
    msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
	     "new clients may experience noticeable delays",
	     serv->name, serv->addr, serv->maxproc);
    msg_warn("to avoid this condition, increase the process limit of the "
	     "service or reduce the service time per client");
}

/* master_waiting - a client waits in SERV's listen queue */
static int master_waiting(const MASTER_SERV *serv)
{
    struct pollfd pfd;

    if (serv->listen_fd < 0)
	return (0);
    pfd.fd = serv->listen_fd;
    pfd.events = POLLIN;
    return (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN));
}

void    master_avail_listen(MASTER_SERV *serv)
{
    int     want = serv->listen_fd >= 0 && !serv->throttled && !master_stopping
    && serv->avail_proc == 0
    && (serv->maxproc == 0 || serv->total_proc < serv->maxproc);

    if (want && !serv->listening) {
	event_enable_read(serv->listen_fd, master_listen_cb, serv);
	serv->listening = 1;
    } else if (!want && serv->listening) {
	event_disable_readwrite(serv->listen_fd);
	serv->listening = 0;
    }
    if (serv->maxproc > 1 && serv->total_proc >= serv->maxproc
	&& serv->avail_proc == 0 && !master_stopping && master_waiting(serv))
	master_busy_warn(serv);
}

/* master_find_proc - the child with PID, and the link that points to it */
static MASTER_PROC **master_find_proc(pid_t pid)
{
    MASTER_PROC **pp;

    for (pp = &master_procs; *pp; pp = &(*pp)->next)
	if ((*pp)->pid == pid)
	    return (pp);
    return (0);
}

/* master_child_exec - in the child: set up descriptors and run the program */
static NORETURN master_child_exec(MASTER_SERV *serv)
{
    VSTRING *gen = vstring_alloc(32);
    char  **args;
    int     n = 0;
    int     i;
    int     status_fd;
    int     listen_fd;
    sigset_t none;

    for (i = 0; serv->argv[i]; i++)
	 /* count */ ;
    args = mymalloc(sizeof(char *) * (i + 8));
    args[n++] = serv->path;
    args[n++] = "-n";
    args[n++] = serv->name;
    args[n++] = "-t";
    args[n++] = (char *) master_cf_type_name(serv->type);
    if (serv->unpriv)
	args[n++] = "-u";
    if (serv->chroot)
	args[n++] = "-z";
    for (i = 1; serv->argv[i]; i++)
	args[n++] = serv->argv[i];
    args[n] = 0;

    vstring_sprintf(gen, "%u", serv->gen);
    if (setenv("GENERATION", STR(gen), 1) < 0
	|| setenv("MAIL_CONFIG", mail_conf_dir(), 1) < 0)
	msg_fatal("setenv: %m");
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, (sigset_t *) 0);

    /* Move both descriptors above 6 first, so dup2 cannot clobber one. */
    if ((status_fd = fcntl(serv->child_status_fd, F_DUPFD, 7)) < 0
	|| (listen_fd = fcntl(serv->listen_fd, F_DUPFD, 7)) < 0
	|| dup2(status_fd, MASTER_STATUS_FD) < 0
	|| dup2(listen_fd, MASTER_LISTEN_FD) < 0)
	msg_fatal("set up descriptors for %s: %m", serv->path);
    close(3);
    close(4);
    close_range(7, ~0U, 0);
    execv(serv->path, args);
    msg_fatal("exec %s: %m", serv->path);
}

/* master_spawn - start one more child of SERV */
static void master_spawn(MASTER_SERV *serv)
{
    MASTER_PROC *proc;
    pid_t   pid;

    if (serv->maxproc > 0 && serv->total_proc >= serv->maxproc)
	return;
    if ((pid = fork()) < 0) {
	msg_warn("fork: %m");
	return;
    }
    if (pid == 0)
	master_child_exec(serv);
    if (msg_verbose)
	msg_info("spawn %s pid %d service %s", serv->path, (int) pid, serv->name);
    proc = mycalloc(1, sizeof(*proc));
    proc->pid = pid;
    proc->gen = serv->gen;
    proc->serv = serv;
    proc->path = mystrdup(serv->path);
    proc->avail = 1;
    proc->next = master_procs;
    master_procs = proc;
    serv->total_proc++;
    serv->avail_proc++;
    master_avail_listen(serv);
}

static void master_listen_cb(int event, void *context)
{
    MASTER_SERV *serv = context;

    master_spawn(serv);
}

/* master_status_record - one report from a child */
static void master_status_record(MASTER_SERV *serv, const MASTER_STATUS *st)
{
    MASTER_PROC **pp = master_find_proc(st->pid);
    MASTER_PROC *proc = pp ? *pp : 0;

    if (proc == 0 || proc->serv != serv || st->generation != serv->gen) {
	if (msg_verbose)
	    msg_info("ignoring status from pid %d generation %u", st->pid, st->generation);
	return;
    }
    proc->used = 1;
    serv->throttle_delay = 0;
    if (st->avail && !proc->avail)
	serv->avail_proc++;
    else if (!st->avail && proc->avail)
	serv->avail_proc--;
    proc->avail = st->avail ? 1 : 0;
}

static void master_status_cb(int event, void *context)
{
    MASTER_SERV *serv = context;
    MASTER_STATUS st;
    ssize_t n;

    while ((n = recv(serv->status_fd, &st, sizeof(st), MSG_DONTWAIT)) > 0) {
	if (n != (ssize_t) sizeof(st)) {
	    msg_warn("service %s: bad status record size %zd", serv->name, n);
	    continue;
	}
	master_status_record(serv, &st);
    }
    if (n == 0)
	msg_panic("service %s: status channel closed", serv->name);
    master_avail_listen(serv);
}

void    master_status_open(MASTER_SERV *serv)
{
    int     pair[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
	msg_fatal("socketpair: %m");
    serv->status_fd = pair[0];
    serv->child_status_fd = pair[1];
    non_blocking(serv->status_fd, NON_BLOCKING);
    event_enable_read(serv->status_fd, master_status_cb, serv);
}

void    master_status_close(MASTER_SERV *serv)
{
    if (serv->status_fd >= 0) {
	event_disable_readwrite(serv->status_fd);
	close(serv->status_fd);
	close(serv->child_status_fd);
	serv->status_fd = serv->child_status_fd = -1;
    }
}

/* master_detach_children - children of SERV become old generation */
void    master_detach_children(MASTER_SERV *serv)
{
    MASTER_PROC *proc;

    for (proc = master_procs; proc; proc = proc->next)
	if (proc->serv == serv)
	    proc->serv = 0;
    serv->total_proc = serv->avail_proc = 0;
}

static void master_unthrottle_cb(int event, void *context)
{
    MASTER_SERV *serv = context;

    serv->throttled = 0;
    master_avail_listen(serv);
}

void    master_throttle_cancel(MASTER_SERV *serv)
{
    event_cancel_timer(master_unthrottle_cb, serv);
    serv->throttled = 0;
}

/* master_throttle - pause spawning with a doubling delay */
static void master_throttle(MASTER_SERV *serv)
{
    int     limit = conf_time("service_throttle_time");

    if (limit > INT_MAX / 1000)
	limit = INT_MAX / 1000;

    if (serv->throttled)
	return;
    serv->throttle_delay = serv->throttle_delay ? serv->throttle_delay * 2 : 1;
    if (serv->throttle_delay > limit)
	serv->throttle_delay = limit;
    msg_warn("%s: bad command startup -- throttling for %ds",
	     serv->path, serv->throttle_delay);
    serv->throttled = 1;
    event_request_timer(master_unthrottle_cb, serv, serv->throttle_delay * 1000);
    master_avail_listen(serv);
}

/* master_log_exit - Postfix's warnings for an abnormal exit; 1 if abnormal */
static int master_log_exit(const MASTER_PROC *proc, int status)
{
    if (WIFSIGNALED(status)) {
	if (!master_stopping)
	    msg_warn("process %s pid %d killed by signal %d",
		     proc->path, (int) proc->pid, WTERMSIG(status));
	return (1);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
	if (!master_stopping)
	    msg_warn("process %s pid %d exit status %d",
		     proc->path, (int) proc->pid, WEXITSTATUS(status));
	return (1);
    }
    return (0);
}

/* master_child_gone - account for a reaped child */
static void master_child_gone(MASTER_PROC *proc, int status)
{
    MASTER_SERV *serv = proc->serv;
    int     bad = master_log_exit(proc, status);

    if (serv == 0)
	return;
    serv->total_proc--;
    if (proc->avail)
	serv->avail_proc--;
    if (bad && !proc->used && !master_stopping)
	master_throttle(serv);
    master_avail_listen(serv);
}

void    master_reap_children(void)
{
    MASTER_PROC **pp;
    MASTER_PROC *proc;
    pid_t   pid;
    int     status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
	if ((pp = master_find_proc(pid)) == 0) {
	    msg_warn("unknown child pid %d exited", (int) pid);
	    continue;
	}
	proc = *pp;
	*pp = proc->next;
	if (msg_verbose)
	    msg_info("reaped %s pid %d status 0x%x", proc->path, (int) pid, status);
	master_child_gone(proc, status);
	myfree(proc->path);
	myfree(proc);
    }
}

/* master_kill_children - SIGTERM all, wait up to 5s, then SIGKILL */
void    master_kill_children(void)
{
    MASTER_PROC *proc;
    int     i;

    for (proc = master_procs; proc; proc = proc->next)
	kill(proc->pid, SIGTERM);
    for (i = 0; master_procs && i < 100; i++) {
	usleep(50000);
	master_reap_children();
    }
    while ((proc = master_procs) != 0) {
	msg_warn("process %s pid %d did not stop -- killing it",
		 proc->path, (int) proc->pid);
	kill(proc->pid, SIGKILL);
	(void) waitpid(proc->pid, (int *) 0, 0);
	master_procs = proc->next;
	myfree(proc->path);
	myfree(proc);
    }
}
