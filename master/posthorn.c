/*
 * posthorn.c - the Posthorn control command.
 *
 * Usage: posthorn [-c config_dir] [-v] start|stop|reload|status|check|flush|abort
 *
 *   start   check the configuration, create the queue, start master and
 *           wait until it runs (fatal if it already runs)
 *   stop    SIGTERM to master, wait until it is gone
 *   abort   SIGINT to master (stop at once, same clean-up)
 *   reload  SIGHUP to master: reread main.cf and master.cf
 *   status  "the Posthorn mail system is running: PID: N" (exit 0) or
 *           "... is not running" (exit 1)
 *   check   validate main.cf and master.cf, create/fix the queue tree
 *   flush   ask qmgr to retry all deferred mail now
 *
 * Whether master runs is decided by the fcntl lock on pid/master.pid
 * under queue_directory, not by the pid in it, so a stale file after a
 * crash never fools it.  Messages go to stderr and to the mail log.
 *
 * Parameters: queue_directory, daemon_directory, mail_owner, mail_name,
 * default_process_limit, syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define PID_FILE	"pid/master.pid"
#define START_WAIT	50		/* tenths of a second */
#define STOP_WAIT	100

/* master_pid - pid of the running master, or 0 */
static pid_t master_pid(void)
{
    VSTRING *path = vstring_alloc(100);
    struct flock lk;
    int     fd;

    vstring_sprintf(path, "%s/%s", conf_str("queue_directory"), PID_FILE);
    if ((fd = open(STR(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
	/* ELOOP: a link left from an older layout; master replaces it */
	if (errno != ENOENT && errno != ELOOP)
	    msg_fatal("open %s: %m", STR(path));
	vstring_free(path);
	return (0);
    }
    memset(&lk, 0, sizeof(lk));
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &lk) < 0)
	msg_fatal("lock test %s: %m", STR(path));
    close(fd);
    vstring_free(path);
    return (lk.l_type == F_UNLCK ? 0 : lk.l_pid);
}

/* check_program - warn when a master.cf command is not there */
static void check_program(const char *cmd)
{
    VSTRING *path = vstring_alloc(100);

    if (strchr(cmd, '/'))
	vstring_strcpy(path, cmd);
    else
	vstring_sprintf(path, "%s/%s", conf_str("daemon_directory"), cmd);
    if (access(STR(path), X_OK) < 0)
	msg_warn("master.cf command %s: %m", STR(path));
    vstring_free(path);
}

/* do_check - validate the configuration, create the queue tree */
static void do_check(void)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    MASTER_CF *cf;
    int     i;

    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    if ((cf = master_cf_parse(STR(path), conf_int("default_process_limit"), err)) == 0)
	msg_fatal("%s", STR(err));
    for (i = 0; i < cf->count; i++)
	check_program(cf->ents[i].argv[0]);
    vstring_sprintf(path, "%s/master", conf_str("daemon_directory"));
    check_program(STR(path));
    master_cf_free(cf);
    mail_queue_setup();
    vstring_free(path);
    vstring_free(err);
}

/* run_master - start master (it detaches once ready); its exit status */
static int run_master(void)
{
    VSTRING *path = vstring_alloc(100);
    char   *args[4];
    int     n = 0;
    int     status;
    pid_t   pid;

    vstring_sprintf(path, "%s/master", conf_str("daemon_directory"));
    args[n++] = STR(path);
    if (msg_verbose)
	args[n++] = "-v";
    args[n] = 0;
    if ((pid = fork()) < 0)
	msg_fatal("fork: %m");
    if (pid == 0) {
	if (setenv("MAIL_CONFIG", mail_conf_dir(), 1) < 0)
	    msg_fatal("setenv: %m");
	execv(STR(path), args);
	msg_fatal("exec %s: %m", STR(path));
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    msg_fatal("waitpid: %m");
    vstring_free(path);
    return (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* wait_for - wait up to TENTHS/10 s until master runs (WANT 1) or not (0) */
static int wait_for(int want, int tenths)
{
    int     i;

    for (i = 0; i < tenths; i++) {
	if ((master_pid() != 0) == want)
	    return (1);
	usleep(100000);
    }
    return ((master_pid() != 0) == want);
}

static void do_start(const char *name)
{
    if (master_pid())
	msg_fatal("the %s mail system is already running", name);
    do_check();
    msg_info("starting the %s mail system", name);
    if (run_master() != 0)
	msg_fatal("the %s mail system did not start", name);
    if (!wait_for(1, START_WAIT))
	msg_fatal("the %s mail system did not start", name);
}

/* signal_master - log WHAT, then send SIG to the running master */
static void signal_master(const char *name, int sig, const char *what)
{
    pid_t   pid = master_pid();

    if (pid == 0)
	msg_fatal("the %s mail system is not running", name);
    msg_info("%s the %s mail system", what, name);
    if (kill(pid, sig) < 0)
	msg_fatal("send signal %d to master pid %d: %m", sig, (int) pid);
}

static void do_stop(const char *name, int sig)
{
    signal_master(name, sig, sig == SIGTERM ? "stopping" : "aborting");
    if (!wait_for(0, STOP_WAIT))
	msg_fatal("the %s mail system did not stop", name);
}

static int do_status(const char *name)
{
    pid_t   pid = master_pid();

    if (pid == 0) {
	msg_info("the %s mail system is not running", name);
	return (1);
    }
    msg_info("the %s mail system is running: PID: %d", name, (int) pid);
    return (0);
}

static NORETURN usage(void)
{
    msg_fatal("usage: posthorn [-c config_dir] [-v] "
	      "start|stop|reload|status|check|flush|abort");
}

int     main(int argc, char **argv)
{
    const char *logfile;
    const char *cmd;
    const char *name;
    int     ch;

    msg_init("posthorn", MSG_TO_STDERR | MSG_TO_SYSLOG);
    while ((ch = getopt(argc, argv, "c:v")) > 0) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    usage();
	}
    }
    if (argc - optind != 1)
	usage();
    cmd = argv[optind];
    mail_conf_dir_absolute();			/* master runs elsewhere */
    mail_conf_read(0);
    msg_syslog_name(conf_str("syslog_name"));
    if (*(logfile = conf_str("maillog_file")) != 0)
	msg_logfile(logfile);
    name = conf_str("mail_name");

    if (strcmp(cmd, "start") == 0) {
	do_start(name);
    } else if (strcmp(cmd, "stop") == 0) {
	do_stop(name, SIGTERM);
    } else if (strcmp(cmd, "abort") == 0) {
	do_stop(name, SIGINT);
    } else if (strcmp(cmd, "reload") == 0) {
	signal_master(name, SIGHUP, "refreshing");
    } else if (strcmp(cmd, "status") == 0) {
	return (do_status(name));
    } else if (strcmp(cmd, "check") == 0) {
	do_check();
    } else if (strcmp(cmd, "flush") == 0) {
	mail_queue_chdir();
	if (mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR, QMGR_REQ_FLUSH_DEFERRED) < 0)
	    return (1);
    } else {
	usage();
    }
    return (0);
}
