/*
 * spawn.c - run a command for each client of a service, as Postfix's
 * spawn(8): the way policy servers such as policyd-spf are run.
 *
 *   policyd-spf  unix  -  n  n  -  0  spawn
 *       user=policyd-spf argv=/usr/bin/policyd-spf
 *
 * For each connection the command runs with the connection as its
 * standard input and output (standard error goes to /dev/null), as USER
 * (its uid, gid and groups; never root) and in the queue directory.  The
 * command must finish within $SERVICE_time_limit (default
 * $command_time_limit, 1000s), else it is killed; an exit status other
 * than 0 is logged, as Postfix does ("command /usr/bin/x exit status 1").
 *
 * The service runs with unpriv = n (master.cf column 4) so that it can
 * change to USER; when Posthorn runs without root, the command runs as
 * the Posthorn user and user= is only checked to exist.  It is a
 * single_server: one client per process, master starts up to maxproc of
 * them (0: no limit).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_server.h"

typedef struct SPAWN_ATTR {
    char   *user;
    uid_t   uid;
    gid_t   gid;
    char  **argv;			/* the command and its arguments */
    int     time_limit;			/* seconds */
} SPAWN_ATTR;

static SPAWN_ATTR spawn_attr;
static volatile sig_atomic_t spawn_timed_out;

/* spawn_time_limit - $SERVICE_time_limit, else $command_time_limit */

static int spawn_time_limit(const char *service)
{
    VSTRING *name = vstring_alloc(100);
    VSTRING *value = vstring_alloc(100);
    const char *raw;
    long    limit;

    vstring_sprintf(name, "%s_time_limit", service);
    if ((raw = conf_raw(STR(name))) == 0)
	limit = conf_time("command_time_limit");
    else if (!conf_parse_time(STR(conf_expand(value, raw)), 's', &limit) || limit <= 0)
	msg_fatal("%s: bad time value: %s", STR(name), raw);
    vstring_free(name);
    vstring_free(value);
    return ((int) limit);
}

/* spawn_parse - user=NAME argv=COMMAND ARGS...; fatal when wrong */

static void spawn_parse(const char *service, char **argv)
{
    struct passwd *pw;

    for (; *argv; argv++) {
	if (strncmp(*argv, "user=", 5) == 0) {
	    spawn_attr.user = mystrdup(*argv + 5);
	} else if (strncmp(*argv, "argv=", 5) == 0) {
	    if ((*argv)[5] == 0)
		msg_fatal("%s: argv= needs a command", service);
	    *argv += 5;
	    spawn_attr.argv = argv;
	    break;
	} else {
	    msg_fatal("%s: unknown attribute: %s", service, *argv);
	}
    }
    if (spawn_attr.user == 0)
	msg_fatal("%s: missing user= command-line attribute", service);
    if (spawn_attr.argv == 0)
	msg_fatal("%s: missing argv= command-line attribute", service);
    if ((pw = getpwnam(spawn_attr.user)) == 0)
	msg_fatal("%s: unknown user name: %s", service, spawn_attr.user);
    if (pw->pw_uid == 0)
	msg_fatal("%s: the command must not run as root: user=%s", service,
		  spawn_attr.user);
    spawn_attr.uid = pw->pw_uid;
    spawn_attr.gid = pw->pw_gid;
    spawn_attr.time_limit = spawn_time_limit(service);
}

/* spawn_child - in the child: become USER, connect FD, run the command */

static NORETURN spawn_child(int fd)
{
    int     devnull = open("/dev/null", O_WRONLY);

    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || devnull < 0 || dup2(devnull, 2) < 0)
	msg_fatal("spawn: dup2: %m");
    closefrom(3);				/* nothing of ours leaks into it */
    if (geteuid() == 0
	&& (setgid(spawn_attr.gid) < 0
	    || initgroups(spawn_attr.user, spawn_attr.gid) < 0
	    || setuid(spawn_attr.uid) < 0 || setuid(0) == 0))
	msg_fatal("spawn: cannot become %s", spawn_attr.user);
    signal(SIGPIPE, SIG_DFL);
    execvp(spawn_attr.argv[0], spawn_attr.argv);
    msg_fatal("spawn: execvp %s: %m", spawn_attr.argv[0]);
}

static void spawn_alarm(int sig)
{
    spawn_timed_out = 1;
}

/* spawn_wait - the command's end, within the time limit; logged when bad */

static void spawn_wait(pid_t pid)
{
    int     status;

    spawn_timed_out = 0;
    alarm((unsigned) spawn_attr.time_limit);
    while (waitpid(pid, &status, 0) < 0) {
	if (errno != EINTR) {
	    msg_warn("waitpid: %m");
	    alarm(0);
	    return;
	}
	if (spawn_timed_out) {
	    msg_warn("command %s time limit exceeded", spawn_attr.argv[0]);
	    (void) kill(pid, SIGKILL);
	    spawn_timed_out = 0;
	}
    }
    alarm(0);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
	msg_warn("command %s exit status %d", spawn_attr.argv[0], WEXITSTATUS(status));
    else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
	msg_warn("command %s killed by signal %d", spawn_attr.argv[0], WTERMSIG(status));
}

static void spawn_service(VSTREAM *client, const char *service, char **argv)
{
    pid_t   pid;

    if ((pid = fork()) < 0) {
	msg_warn("fork: %m");
	return;
    }
    if (pid == 0)
	spawn_child(vstream_fd(client));
    spawn_wait(pid);
}

static void spawn_pre_init(const char *service, char **argv)
{
    struct sigaction sa;

    spawn_parse(service, argv);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = spawn_alarm;		/* no SA_RESTART: waitpid wakes */
    sigaction(SIGALRM, &sa, (struct sigaction *) 0);
}

int	main(int argc, char **argv)
{
    static MAIL_SERVER_OPS ops;

    ops.pre_init = spawn_pre_init;
    single_server_main(argc, argv, spawn_service, &ops);
}
