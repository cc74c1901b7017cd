/*
 * mail_server.c - the server skeleton every daemon's main() uses.
 *
 * See mail_server.h.  The shared part (server_init) parses the command
 * line master gives, reads main.cf, opens the log, runs pre_init as root,
 * chdirs to the queue, drops privileges and runs post_init.  Then
 * single_server_main serves one client at a time with poll() (waking up
 * early for the service's ops->idle_wait_ms/idle_timeout hooks), and
 * event_server_main hands clients to the service in one event loop.
 *
 * Status channel: MASTER_STATUS_FD is one end of a SOCK_SEQPACKET
 * socketpair that master shares with all children of one service and
 * generation.  A child writes one MASTER_STATUS record per report; it
 * also watches the descriptor for reading: master never writes to it, so
 * readability means master closed its end (reload, stop, or master died),
 * and the child stops accepting and exits once its clients are gone.
 * The generation comes from the environment variable GENERATION.
 *
 * Restart on change: before it accepts a client (at most once a second),
 * a process whose ops->changed names something (a table file that
 * postmap, postalias or an editor changed) logs "table NAME has changed
 * -- restarting" as Postfix does, tells master it is busy, stops
 * accepting, and exits when its clients are gone and ops->busy (work that
 * is not a client, as qmgr's deliveries) says nothing is left; master
 * starts a fresh process for the next client.  A drain for master (reload)
 * waits for ops->busy the same way.
 *
 * Spreading a burst (event server): below its soft limit a process
 * accepts whatever is waiting.  At the soft limit it reports busy, and
 * from then on it leaves new clients to others for a while: it stops
 * watching the listener for SERVER_YIELD_MIN_MS, growing with its load
 * to SERVER_YIELD_MAX_MS near the hard limit, and then takes one client.
 * So processes below their soft limit (and those master starts because
 * every process is busy) take a burst first, and a process reaches its
 * hard limit only when the others are as loaded.  At the hard limit it
 * waits SERVER_YIELD_MAX_MS, then hands what is still waiting (at most
 * SERVER_REJECT_BATCH at a time) to ops->reject_fn, which answers 421
 * and logs it.  When its client count falls to half the peak since the
 * last trim, the process gives freed memory back (malloc_trim), and its
 * worker threads share one malloc arena (M_ARENA_MAX 1), so that a
 * process holds little memory of clients that are gone.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <libgen.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include "events.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "mail_owner.h"
#include "msg.h"
#include "mymalloc.h"
#include "set_eugid.h"
#include "vstream.h"

#define SERVER_BACKLOG	100

#define SERVER_YIELD_MIN_MS	1	/* at the soft limit: pause between accepts */
#define SERVER_YIELD_MAX_MS	100	/* ... growing to this at the hard limit */
#define SERVER_REJECT_BATCH	100	/* at the hard limit: refusals per turn */
#define SERVER_TRIM_MIN		32	/* fewer clients: no malloc_trim needed */
#define SERVER_TRIM_DELAY_MS	1000	/* a trim waits for more disconnects */

static const char *server_name;		/* -n SERVICE */
static int server_unix;			/* -t unix */
static int server_listen_fd = -1;
static int server_status_fd = -1;
static unsigned server_generation;
static int server_draining;
static int server_clients;
static int server_reported_busy;
static int server_ever_used;
static int server_max_idle;
static int server_max_use;
static int server_soft_limit;
static int server_hard_limit;
static int server_yielding;		/* accepts paused: others' turn */
static int server_yield_done;		/* paused once: may take one now */
static int server_peak;			/* most clients since the last trim */
static int server_trim_due;		/* a trim timer runs */
static char **server_argv;
static EVENT_SERVER_FN server_accept_fn;
static const MAIL_SERVER_OPS *server_ops;

int     mail_server_has_arg(int argc, char **argv, const char *word)
{
    int     i = 1;

    /* Skip the options server_init() takes (see its getopt string) */
    while (i < argc && argv[i][0] == '-' && argv[i][1] != 0) {
	if (strcmp(argv[i], "--") == 0) {
	    i++;
	    break;
	}
	if (strchr("cnoSt", argv[i][1]) && argv[i][2] == 0)
	    i++;				/* the value is the next word */
	i++;
    }
    for (; i < argc; i++)
	if (strcmp(argv[i], word) == 0)
	    return (1);
    return (0);
}

const char *mail_server_service(void)
{
    return (server_name ? server_name : msg_progname());
}

int     mail_server_is_unix(void)
{
    return (server_unix);
}

int     event_server_client_count(void)
{
    return (server_clients);
}

int     event_server_draining(void)
{
    return (server_draining);
}

/* mail_server_drop_privileges - become mail_owner, optionally chroot */
void    mail_server_drop_privileges(int do_chroot)
{
    static int warned;
    const char *owner = conf_str("mail_owner");
    struct passwd *pw;
    uid_t   uid;
    gid_t   gid;

    if (geteuid() != 0) {
	if (warned++ == 0) {
	    pw = getpwuid(geteuid());
	    msg_warn("not running as root: privilege separation is disabled, "
		     "all processes run as user %s",
		     pw ? pw->pw_name : "(unknown)");
	}
	return;
    }
    mail_owner_ids(&uid, &gid);
    if (do_chroot) {
	const char *qdir = conf_str("queue_directory");

	if (chroot(qdir) < 0 || chdir("/") < 0)
	    msg_fatal("chroot %s: %m", qdir);
    }
    if (setgid(gid) < 0 || initgroups(owner, gid) < 0)
	msg_fatal("set group id %ld for %s: %m", (long) gid, owner);
    if (setuid(uid) < 0)
	msg_fatal("set user id %ld for %s: %m", (long) uid, owner);
    if (setuid(0) == 0)
	msg_fatal("could not drop root privileges");
}

/* server_privileges - what -u and -z ask for, when root and allowed */
static void server_privileges(int unpriv, int do_chroot)
{
    const char *qdir;
    uid_t   uid;
    gid_t   gid;

    if (geteuid() != 0)
	return;
    if (server_ops->keep_root) {		/* root stays the saved uid */
	mail_owner_ids(&uid, &gid);
	set_eugid(uid, gid);
	return;
    }
    if (unpriv) {
	mail_server_drop_privileges(do_chroot);
    } else if (do_chroot) {
	qdir = conf_str("queue_directory");
	if (chroot(qdir) < 0 || chdir("/") < 0)
	    msg_fatal("chroot %s: %m", qdir);
    }
}

/* server_exit - leave after pre_exit */
static NORETURN server_exit(void)
{
    if (server_ops && server_ops->pre_exit)
	server_ops->pre_exit();
    exit(0);
}

static void server_sigterm(int sig)
{
    if (server_ops && server_ops->sigterm)
	server_ops->sigterm();
    _exit(0);
}

/* server_changed - what the process read at start changed (once a second) */

static int server_changed(void)
{
    static time_t last;
    const char *name;
    time_t  now;

    if (server_ops->changed == 0 || (now = time((time_t *) 0)) == last)
	return (0);
    last = now;
    if ((name = server_ops->changed()) == 0)
	return (0);
    msg_info("table %s has changed -- restarting", name);
    return (1);
}

/* server_busy - work that is not a client is still going on */

static int server_busy(void)
{
    return (server_ops->busy != 0 && server_ops->busy());
}

/* server_report - tell master whether this process can take a client */
static void server_report(int avail)
{
    MASTER_STATUS st;

    if (server_status_fd < 0)
	return;
    memset(&st, 0, sizeof(st));
    st.pid = getpid();
    st.generation = server_generation;
    st.avail = avail;
    while (write(server_status_fd, &st, sizeof(st)) != (ssize_t) sizeof(st)) {
	if (errno == EINTR)
	    continue;
	if (msg_verbose)
	    msg_info("status report: %m: master is gone");
	server_draining = 1;
	break;
    }
}

/* server_idle_ms - max_idle in milliseconds for poll/timers, without overflow */
static int server_idle_ms(void)
{
    return (server_max_idle > INT_MAX / 1000 ? INT_MAX : server_max_idle * 1000);
}

/* server_listen_standalone - -S ADDRESS: open our own listener */
static int server_listen_standalone(const char *addr)
{
    int     fd;

    if (strchr(addr, '/')) {
	server_unix = 1;
	fd = unix_listen(addr, SERVER_BACKLOG, 0666);
    } else {
	fd = inet_listen(addr, SERVER_BACKLOG);
    }
    if (fd < 0)
	msg_fatal("listen on %s: %m", addr);
    return (fd);
}

/* server_fd_open - is FD an open descriptor */
static int server_fd_open(int fd)
{
    return (fcntl(fd, F_GETFD) >= 0);
}

/* server_getenv_generation - GENERATION=N from master */
static unsigned server_getenv_generation(void)
{
    const char *gen = getenv("GENERATION");

    return (gen ? (unsigned) strtoul(gen, (char **) 0, 10) : 0);
}

/* server_init - everything up to and including post_init */
static void server_init(int argc, char **argv, const MAIL_SERVER_OPS *ops)
{
    static const MAIL_SERVER_OPS no_ops;
    const char *standalone = 0;
    const char *logfile;
    int     unpriv = 0;
    int     do_chroot = 0;
    int     ch;

    server_ops = ops ? ops : &no_ops;
    msg_init(basename(argv[0]), MSG_TO_SYSLOG);
    while ((ch = getopt(argc, argv, "+c:n:o:S:t:uvz")) > 0) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'n':
	    server_name = optarg;
	    break;
	case 'o':
	    mail_conf_override(optarg);
	    break;
	case 'S':
	    standalone = optarg;
	    break;
	case 't':
	    if (strcmp(optarg, "unix") == 0)
		server_unix = 1;
	    else if (strcmp(optarg, "inet") == 0)
		server_unix = 0;
	    else
		msg_fatal("bad service type: -t %s", optarg);
	    break;
	case 'u':
	    unpriv = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'z':
	    do_chroot = 1;
	    break;
	default:
	    msg_fatal("usage: %s [-n service] [-t inet|unix] [-u] [-z] "
		      "[-o name=value] [-v] [-S address] [args]", argv[0]);
	}
    }
    server_argv = argv + optind;
    if (standalone)
	msg_stderr(1);
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    if (*(logfile = conf_str("maillog_file")) != 0)
	msg_logfile(logfile);

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, server_sigterm);
    if (standalone) {
	server_listen_fd = server_listen_standalone(standalone);
    } else {
	if (!server_fd_open(MASTER_LISTEN_FD))
	    msg_fatal("no listening socket on descriptor %d: "
		      "run from master, or use -S address", MASTER_LISTEN_FD);
	server_listen_fd = MASTER_LISTEN_FD;
	if (server_fd_open(MASTER_STATUS_FD)) {
	    server_status_fd = MASTER_STATUS_FD;
	    close_on_exec(server_status_fd, 1);
	}
	server_generation = server_getenv_generation();
    }
    close_on_exec(server_listen_fd, 1);
    non_blocking(server_listen_fd, NON_BLOCKING);

    if (server_ops->pre_init)
	server_ops->pre_init(mail_server_service(), server_argv);
    mail_queue_chdir();
    server_privileges(unpriv, do_chroot);
    if (server_ops->post_init)
	server_ops->post_init(mail_server_service(), server_argv);

    /* Read after post_init, so that a daemon may adjust them there. */
    server_max_idle = conf_time("max_idle");
    server_max_use = conf_int("max_use");
    if (msg_verbose)
	msg_info("%s: service %s type %s generation %u", __func__,
		 mail_server_service(), server_unix ? "unix" : "inet",
		 server_generation);
}

/* server_status_closed - master never writes: readable means it closed */
static int server_status_closed(short revents)
{
    return ((revents & (POLLIN | POLLHUP | POLLERR)) != 0);
}

/* single_server_accept - take one client (or none, when another won) */
static int single_server_accept(void)
{
    int     fd = accept4(server_listen_fd, 0, 0, SOCK_CLOEXEC);

    if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
	&& errno != ECONNABORTED) {
	msg_warn("accept: %m");
	sleep(1);
    }
    return (fd);
}

/* single_server_now_ms - a monotonic clock in milliseconds */
static long long single_server_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * single_server_timeout - the wait for a client: what is left of max_idle
 * since IDLE_START, or the service's own wait (ops->idle_wait_ms) when
 * that is sooner (*HOOK set: then ops->idle_timeout runs)
 */
static int single_server_timeout(long long idle_start, int *hook)
{
    long long left = (long long) server_idle_ms() - (single_server_now_ms() - idle_start);
    int     want = server_ops->idle_wait_ms ? server_ops->idle_wait_ms() : -1;

    if (left < 0)
	left = 0;
    *hook = (want >= 0 && want < left && server_ops->idle_timeout != 0);
    return (*hook ? want : left > INT_MAX ? INT_MAX : (int) left);
}

NORETURN single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
			            const MAIL_SERVER_OPS *ops)
{
    struct pollfd pfd[2];
    long long idle_start;
    int     use_count = 0;
    int     hook;
    int     nfd;
    int     fd;
    int     n;

    server_init(argc, argv, ops);
    idle_start = single_server_now_ms();
    for (;;) {
	if (server_draining)
	    server_exit();
	pfd[0].fd = server_listen_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = server_status_fd;
	pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	nfd = server_status_fd >= 0 ? 2 : 1;
	n = poll(pfd, nfd, single_server_timeout(idle_start, &hook));
	if (n < 0) {
	    if (errno != EINTR)
		msg_fatal("poll: %m");
	    continue;
	}
	if (n == 0 && hook) {
	    server_ops->idle_timeout();
	    continue;
	}
	if (n == 0) {
	    if (msg_verbose)
		msg_info("idle timeout -- exiting");
	    server_exit();
	}
	if (nfd == 2 && server_status_closed(pfd[1].revents)) {
	    server_draining = 1;
	    continue;
	}
	if ((pfd[0].revents & POLLIN) == 0)
	    continue;
	if (server_changed())
	    server_exit();			/* the client is the next one's */
	if ((fd = single_server_accept()) < 0)
	    continue;
	server_report(0);
	non_blocking(fd, BLOCKING);
	{
	    VSTREAM *client = vstream_fdopen(fd, O_RDWR);

	    service(client, mail_server_service(), server_argv);
	    vstream_close(client);
	}
	if (++use_count >= server_max_use) {
	    if (msg_verbose)
		msg_info("max_use reached -- exiting");
	    server_exit();
	}
	server_report(1);
	idle_start = single_server_now_ms();
    }
}

/* event_server_exit_cb - leave outside any service callback */
static void event_server_exit_cb(int event, void *context)
{
    server_exit();
}

static void event_server_idle_cb(int event, void *context)
{
    if (server_clients == 0 && !server_busy()) {
	if (msg_verbose)
	    msg_info("idle timeout -- exiting");
	server_exit();
    }
}

/* event_server_drain_check - exit when no client and no work is left */
static void event_server_drain_check(int event, void *context)
{
    if (server_clients > 0)
	return;					/* the last disconnect comes back */
    if (server_busy())
	event_request_timer(event_server_drain_check, 0, 1000);
    else
	event_request_timer(event_server_exit_cb, 0, 0);
}

/* event_server_drain - stop accepting; exit when no client is left */
static void event_server_drain(void)
{
    if (server_listen_fd >= 0) {
	event_disable_readwrite(server_listen_fd);
	close(server_listen_fd);
	server_listen_fd = -1;
    }
    if (server_status_fd >= 0) {
	event_disable_readwrite(server_status_fd);
	close(server_status_fd);
	server_status_fd = -1;
    }
    server_draining = 1;
    event_server_drain_check(0, 0);
}

static void event_server_status_cb(int event, void *context)
{
    char    ch;

    if (recv(server_status_fd, &ch, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN)
	return;
    if (msg_verbose)
	msg_info("master closed the status channel -- draining");
    event_server_drain();
}

/* event_server_update_avail - report busy at the soft limit, free below */
static void event_server_update_avail(void)
{
    if (!server_reported_busy && server_clients >= server_soft_limit) {
	server_reported_busy = 1;
	server_report(0);
    } else if (server_reported_busy && server_clients < server_soft_limit) {
	server_reported_busy = 0;
	server_report(1);
    }
    if (server_draining && server_clients == 0)
	event_server_drain();
}

static void event_server_accept_cb(int event, void *context);

/* event_server_resume_cb - listen again after a pause */
static void event_server_resume_cb(int event, void *context)
{
    server_yielding = 0;
    server_yield_done = 1;
    if (server_listen_fd >= 0 && !server_draining)
	event_enable_read(server_listen_fd, event_server_accept_cb, 0);
}

/* event_server_pause - stop accepting for DELAY_MS */
static void event_server_pause(int delay_ms)
{
    event_disable_readwrite(server_listen_fd);
    server_yielding = 1;
    event_request_timer(event_server_resume_cb, 0, delay_ms);
}

/* event_server_unpause - below the soft limit again: accept at once */
static void event_server_unpause(void)
{
    if (server_yielding && server_clients < server_soft_limit) {
	event_cancel_timer(event_server_resume_cb, 0);
	event_server_resume_cb(0, 0);
    }
}

/* event_server_yield_ms - over the soft limit: the pause for this load */
static int event_server_yield_ms(void)
{
    long    over = server_clients - server_soft_limit;
    long    span = server_hard_limit - server_soft_limit;

    if (span <= 0 || over >= span)
	return (SERVER_YIELD_MAX_MS);
    return (SERVER_YIELD_MIN_MS
	    + (int) ((SERVER_YIELD_MAX_MS - SERVER_YIELD_MIN_MS) * over / span));
}

/* event_server_accept_error - pause accepting when out of descriptors */
static void event_server_accept_error(void)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
	|| errno == ECONNABORTED)
	return;
    msg_warn("accept: %m");
    event_server_pause(1000);
}

/* event_server_trim_cb - give memory of gone clients back to the system */
static void event_server_trim_cb(int event, void *context)
{
    server_trim_due = 0;
    server_peak = server_clients;
    (void) malloc_trim(0);
}

/* event_server_trim_check - many clients left: schedule a trim */
static void event_server_trim_check(void)
{
    if (!server_trim_due && server_peak >= SERVER_TRIM_MIN
	&& server_clients <= server_peak / 2) {
	server_trim_due = 1;
	event_request_timer(event_server_trim_cb, 0, SERVER_TRIM_DELAY_MS);
    }
}

/* event_server_take - one accepted client: serve it, or refuse it when full */
static void event_server_take(int fd)
{
    if (!server_ever_used) {
	server_ever_used = 1;			/* tells master we started fine */
	server_report(1);
    }
    if (server_hard_limit > 0 && server_clients >= server_hard_limit) {
	if (server_ops->reject_fn)
	    server_ops->reject_fn(fd);
	close(fd);
	return;
    }
    server_clients++;
    if (server_clients > server_peak)
	server_peak = server_clients;
    event_cancel_timer(event_server_idle_cb, 0);
    event_server_update_avail();
    server_accept_fn(fd, mail_server_service(), server_argv);
}

/*
 * event_server_quota - how many clients to accept now: all that wait
 * below the soft limit; over it one after each pause, and at the hard
 * limit (to refuse them) a batch after each pause.  0: pause first.
 */
static int event_server_quota(void)
{
    if (server_clients < server_soft_limit)
	return (server_soft_limit - server_clients);
    if (!server_yield_done)
	return (0);
    server_yield_done = 0;
    if (server_hard_limit > 0 && server_clients >= server_hard_limit)
	return (SERVER_REJECT_BATCH);
    return (1);
}

static void event_server_accept_cb(int event, void *context)
{
    int     quota;
    int     fd;

    if (!server_draining && server_changed()) {
	server_report(0);			/* master starts another */
	event_server_drain();
	return;
    }
    while (!server_draining && server_listen_fd >= 0) {
	if ((quota = event_server_quota()) == 0) {
	    event_server_pause(event_server_yield_ms());
	    return;
	}
	while (quota-- > 0 && !server_draining && server_listen_fd >= 0) {
	    if ((fd = accept4(server_listen_fd, 0, 0,
			      SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		event_server_accept_error();
		return;
	    }
	    event_server_take(fd);
	}
    }
}

void    event_server_disconnect(int fd)
{
    event_disable_readwrite(fd);
    if (close(fd) < 0)
	msg_warn("close client descriptor %d: %m", fd);
    if (server_clients > 0)
	server_clients--;
    event_server_update_avail();
    event_server_unpause();
    event_server_trim_check();
    if (server_clients == 0 && !server_draining)
	event_request_timer(event_server_idle_cb, 0, server_idle_ms());
}

NORETURN event_server_main(int argc, char **argv, EVENT_SERVER_FN accept_fn,
			           const MAIL_SERVER_OPS *ops)
{
    mallopt(M_ARENA_MAX, 1);			/* threads: no arenas of their own */
    server_init(argc, argv, ops);
    server_soft_limit = server_ops->soft_limit > 0 ? server_ops->soft_limit :
	conf_int("process_client_soft_limit");
    server_hard_limit = server_ops->hard_limit > 0 ? server_ops->hard_limit :
	conf_int("process_client_limit");
    if (server_hard_limit < server_soft_limit)
	server_hard_limit = server_soft_limit;
    server_accept_fn = accept_fn;
    event_enable_read(server_listen_fd, event_server_accept_cb, 0);
    if (server_status_fd >= 0)
	event_enable_read(server_status_fd, event_server_status_cb, 0);
    event_request_timer(event_server_idle_cb, 0, server_idle_ms());
    for (;;)
	event_loop(-1);
}
