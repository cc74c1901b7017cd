/*
 * master.c - the Posthorn master daemon: main program.
 *
 * Usage: master [-c config_dir] [-d] [-v]
 *   -d  stay in the foreground (default: detach, exit once ready)
 *   -v  verbose logging
 *
 * master reads main.cf and master.cf, creates the queue tree, takes the
 * lock on pid/master.pid (so two masters never run on one queue), opens
 * every listener while still root, and then starts service processes on
 * demand (master_spawn.c), wakes services periodically (master_wakeup.c),
 * rereads its configuration on SIGHUP (master_service.c) and stops all
 * children on SIGTERM (master_sig.c).  Without -d the foreground process
 * waits until the daemon is ready and exits 0, or 1 if it failed.
 * master raises its descriptor limit (children inherit it): the soft
 * limit to the hard one, and as root both to 2^20 (or fs.nr_open).
 *
 * Parameters: queue_directory, mail_owner, mail_version, syslog_name,
 * maillog_file (plus those listed in master_service.c, master_spawn.c).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include "events.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "safe_open.h"
#include "master.h"

#define MASTER_PID_FILE	"pid/master.pid"
#define MASTER_NOFILE_WANT	((rlim_t) 1 << 20)	/* descriptors, as root */

int     master_stopping;

static int master_ready_fd = -1;	/* tells the foreground parent we're up */

/*
 * master_reserve_fds - close whatever the caller left open above stderr
 * (a daemon must not hold its starter's pipes), then occupy 0..6 so our
 * own descriptors never land on the child's fixed ones.
 */
static void master_reserve_fds(void)
{
    int     fd;

    close_range(3, ~0U, 0);
    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < MASTER_LISTEN_FD)
	 /* keep it */ ;
    if (fd < 0)
	msg_fatal("open /dev/null: %m");
    if (fd > MASTER_LISTEN_FD)
	close(fd);
}

/* master_open_pid - open (or create) the pid file; root owns pid/ */
static int master_open_pid(void)
{
    VSTRING *why = vstring_alloc(100);
    int     fd;

    fd = safe_open(MASTER_PID_FILE, O_RDWR | O_CREAT, 0644, (struct stat *) 0,
		   -1, -1, why);
    if (fd < 0 && errno == EPERM) {
	/* A link or swapped file left from before pid/ was root's */
	msg_warn("removing unsafe %s: %s", MASTER_PID_FILE, STR(why));
	if (unlink(MASTER_PID_FILE) < 0)
	    msg_fatal("remove %s: %m", MASTER_PID_FILE);
	fd = safe_open(MASTER_PID_FILE, O_RDWR | O_CREAT | O_EXCL, 0644,
		       (struct stat *) 0, -1, -1, why);
    }
    if (fd < 0)
	msg_fatal("open lock file %s: %s", MASTER_PID_FILE, STR(why));
    vstring_free(why);
    return (fd);
}

/* master_lock_pid - lock the pid file and write our pid, or exit */
static void master_lock_pid(void)
{
    struct flock lk;
    VSTRING *buf = vstring_alloc(32);
    int     fd = master_open_pid();

    memset(&lk, 0, sizeof(lk));
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &lk) < 0) {
	if (errno == EAGAIN || errno == EACCES)
	    msg_fatal("the %s mail system is already running", conf_str("mail_name"));
	msg_fatal("lock %s: %m", MASTER_PID_FILE);
    }
    vstring_sprintf(buf, "%*lu\n", 10, (unsigned long) getpid());
    if (ftruncate(fd, 0) < 0 || write_full(fd, STR(buf), LEN(buf)) < 0)
	msg_fatal("write %s: %m", MASTER_PID_FILE);
    vstring_free(buf);
    /* fd stays open: the lock lives as long as this process */
}

/* master_detach - fork; the parent waits for "ready" and exits */
static void master_detach(void)
{
    int     pipefd[2];
    char    ch;
    pid_t   pid;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
	msg_fatal("pipe: %m");
    if ((pid = fork()) < 0)
	msg_fatal("fork: %m");
    if (pid > 0) {
	close(pipefd[1]);
	_exit(read(pipefd[0], &ch, 1) == 1 ? 0 : 1);
    }
    close(pipefd[0]);
    master_ready_fd = pipefd[1];
    if (setsid() < 0)
	msg_warn("setsid: %m");
}

/* master_ready - startup done: release the parent, drop the terminal */
static void master_ready(int foreground)
{
    int     fd;

    if (master_ready_fd >= 0) {
	if (write(master_ready_fd, "R", 1) != 1)
	    msg_warn("write ready pipe: %m");
	close(master_ready_fd);
	master_ready_fd = -1;
    }
    if (!foreground && (fd = open("/dev/null", O_RDWR)) >= 0) {
	msg_stderr(0);
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
	    close(fd);
    }
}

/* master_nr_open - the kernel's bound for RLIMIT_NOFILE */
static rlim_t master_nr_open(void)
{
    FILE   *fp = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long val = 0;

    if (fp) {
	if (fscanf(fp, "%lu", &val) != 1)
	    val = 0;
	fclose(fp);
    }
    return (val > 0 ? (rlim_t) val : MASTER_NOFILE_WANT);
}

/*
 * master_raise_fd_limit - as many descriptors as allowed, for us and the
 * children (an event server holds process_client_limit clients): the
 * soft limit goes to the hard limit; as root the hard limit first goes
 * up to MASTER_NOFILE_WANT (bounded by fs.nr_open).
 */
static void master_raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t  want;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
	msg_warn("getrlimit RLIMIT_NOFILE: %m");
	return;
    }
    if (geteuid() == 0 && rl.rlim_max != RLIM_INFINITY
	&& rl.rlim_max < (want = master_nr_open()) && want > 0) {
	if (want > MASTER_NOFILE_WANT)
	    want = MASTER_NOFILE_WANT;
	if (rl.rlim_max < want) {
	    struct rlimit up = {want, want};

	    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
		return;
	    if (msg_verbose)			/* a container: no CAP_SYS_RESOURCE */
		msg_info("setrlimit RLIMIT_NOFILE %lu: %m", (unsigned long) want);
	}
    }
    if (rl.rlim_cur < rl.rlim_max) {
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
	    msg_warn("setrlimit RLIMIT_NOFILE: %m");
    }
}

NORETURN master_terminate(int sig)
{
    msg_info("terminating on signal %d", sig);
    master_stopping = 1;
    master_close_listeners();
    master_kill_children();
    if (unlink(MASTER_PID_FILE) < 0)
	msg_warn("remove %s: %m", MASTER_PID_FILE);
    exit(0);
}

static NORETURN usage(void)
{
    msg_fatal("usage: master [-c config_dir] [-d] [-v]");
}

int     main(int argc, char **argv)
{
    const char *logfile;
    int     foreground = 0;
    int     ch;

    master_reserve_fds();
    msg_init("master", MSG_TO_SYSLOG | MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:dv")) > 0) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'd':
	    foreground = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    usage();
	}
    }
    if (optind != argc)
	usage();
    mail_conf_dir_absolute();
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    if (*(logfile = conf_str("maillog_file")) != 0)
	msg_logfile(logfile);
    umask(022);
    mail_queue_setup();
    if (!foreground)
	master_detach();
    master_lock_pid();
    if (geteuid() != 0)
	mail_server_drop_privileges(0);		/* only warns, once */
    master_raise_fd_limit();
    master_sig_init();
    master_config(0);
    master_ready(foreground);
    msg_info("daemon started -- version %s, configuration %s",
	     conf_str("mail_version"), mail_conf_dir());
    for (;;)
	event_loop(-1);
}
