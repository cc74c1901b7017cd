/*
 * local_command.c - delivery to a "|command" from an alias, .forward or
 * :include: file, as Postfix's local(8) does it.
 *
 * Allowed only when allow_mail_to_commands lists the expansion type
 * (alias, forward, include); otherwise bounced with "mail to command is
 * restricted" (5.7.1).  mailbox_command (local_mailbox_command()) is the
 * admin's and runs for every user, as Postfix's.  The command runs as "/bin/sh -c COMMAND" (or the
 * words of local_command_shell followed by COMMAND) in a new session, with
 * the expansion's rights (never root: root becomes default_privs; no
 * supplementary groups), in the user's home directory (else /), with the
 * environment HOME, USER, LOGNAME, SHELL, SENDER, RECIPIENT, LOCAL,
 * DOMAIN, EXTENSION, ORIGINAL_RECIPIENT, PATH=/usr/bin:/bin (characters
 * outside command_expansion_filter's default replaced with '_').  Its
 * standard input is the message with a "From sender date" line,
 * Return-Path: and Delivered-To: headers; standard output and error are
 * collected (the first 2000 bytes) while the message is written, so a
 * chatty command cannot block us.  After command_time_limit seconds the
 * command's process group is killed.
 *
 * Results (Postfix's pipe_command): exit 0 sent; a signal defers; time
 * limit exceeded bounces (5.3.0); other exit codes follow <sysexits.h>
 * (EX_TEMPFAIL, EX_OSERR defer), unknown codes bounce; output that starts
 * with an enhanced status code (4.x.y / 5.x.y) decides instead.  The
 * first line of output is quoted in the reason.
 *
 * Parameters: allow_mail_to_commands, local_command_shell,
 * command_time_limit, default_privs.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sysexits.h>
#include <sys/wait.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "address.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "local.h"

#define CMD_OUTPUT_LIMIT	2000
#define CMD_FILTER \
    "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* The parent's side of a running command */
typedef struct CMD_IO {
    pid_t   pid;
    int     in_fd;			/* the command's stdin, or -1 */
    int     out_fd;			/* its stdout+stderr, or -1 */
    VSTRING *output;
    time_t  deadline;
    int     timed_out;
    int     exited;
    int     wait_status;
} CMD_IO;

/* cmd_env - append NAME=VALUE (filtered) to ENV */

static void cmd_env(ADDR_LIST *env, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s=", name);
    for (const char *cp = value ? value : ""; *cp; cp++)
	vstring_addch(buf, strchr(CMD_FILTER, *cp) ? *cp : '_');
    addr_list_add(env, STR(buf));
    vstring_free(buf);
}

/* cmd_environment - the command's environment */

static void cmd_environment(ADDR_LIST *env, LOCAL_DELIVERY *d,
			            const LOCAL_EXP *exp, const LOCAL_PRIV *priv)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    const char *delims = conf_str("recipient_delimiter");
    const char *ext = "";

    if (addr_split(exp->addr, local, domain) == 0 && *delims) {
	size_t  pos = strcspn(STR(local), delims);

	if (pos > 0 && pos < LEN(local))
	    ext = STR(local) + pos + 1;
    }
    addr_list_add(env, "PATH=/usr/bin:/bin");
    cmd_env(env, "HOME", priv->home);
    cmd_env(env, "USER", priv->user);
    cmd_env(env, "LOGNAME", priv->user);
    cmd_env(env, "SHELL", priv->shell);
    cmd_env(env, "SENDER", d->state->req->sender);
    cmd_env(env, "RECIPIENT", exp->addr);
    cmd_env(env, "LOCAL", STR(local));
    cmd_env(env, "DOMAIN", STR(domain));
    cmd_env(env, "EXTENSION", ext);
    cmd_env(env, "ORIGINAL_RECIPIENT", *d->rcpt->orig ? d->rcpt->orig : d->rcpt->address);
    addr_list_add(env, "");			/* room for the NULL */
    myfree(env->addrs[env->count - 1]);
    env->addrs[--env->count] = 0;
    vstring_free(local);
    vstring_free(domain);
}

/* cmd_child - in the child: become PRIV, exec the command; never returns */

static NORETURN cmd_child(int in_fd, int out_fd, const LOCAL_PRIV *priv,
			          const char *command, char **envp)
{
    const char *shell = conf_str("local_command_shell");
    ADDR_LIST argv = {0, 0, 0};
    char   *words = mystrdup(*shell ? shell : "/bin/sh -c");
    char   *cp = words;
    char   *word;

    (void) setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
	_exit(EX_OSERR);
    for (int fd = 3; fd < 1024; fd++)
	(void) close(fd);
    signal(SIGPIPE, SIG_DFL);
    /* Real uid 0: back to euid 0 (saved), then become PRIV for good */
    if (local_is_root
	&& (seteuid(0) < 0 || setgroups(1, &priv->gid) < 0 || setgid(priv->gid) < 0
	    || setuid(priv->uid) < 0 || getuid() == 0)) {
	dprintf(1, "cannot switch to uid %ld: %m\n", (long) priv->uid);
	_exit(EX_OSERR);
    }
    if ((*priv->home == 0 || chdir(priv->home) < 0) && chdir("/") < 0) {
	dprintf(1, "cannot change directory to /: %m\n");
	_exit(EX_OSERR);
    }
    while ((word = strsep(&cp, " \t")) != 0)
	if (*word)
	    addr_list_add(&argv, word);
    addr_list_add(&argv, command);
    addr_list_add(&argv, "");
    myfree(argv.addrs[argv.count - 1]);
    argv.addrs[argv.count - 1] = 0;
    execve(argv.addrs[0], argv.addrs, envp);
    dprintf(1, "cannot execute %s: %m\n", argv.addrs[0]);
    _exit(EX_OSERR);
}

/* cmd_reap - collect the child if it has exited; 1 if so */

static int cmd_reap(CMD_IO *io, int flags)
{
    if (!io->exited && waitpid(io->pid, &io->wait_status, flags) == io->pid)
	io->exited = 1;
    return (io->exited);
}

/* cmd_read - take what output there is; 0 at EOF */

static void cmd_read(CMD_IO *io)
{
    char    buf[4096];
    ssize_t n = read(io->out_fd, buf, sizeof(buf));

    if (n > 0) {
	if (LEN(io->output) < CMD_OUTPUT_LIMIT)
	    vstring_memcat(io->output, buf, (size_t) n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
	(void) close(io->out_fd);
	io->out_fd = -1;
    }
}

/* cmd_poll - wait for output (and for room to write when WRITING) */

static int cmd_poll(CMD_IO *io, int writing)
{
    struct pollfd pfd[2];
    int     n = 0, left;

    left = (int) (io->deadline - time((time_t *) 0));
    if (left <= 0) {
	io->timed_out = 1;
	return (-1);
    }
    if (io->out_fd >= 0) {
	pfd[n].fd = io->out_fd;
	pfd[n++].events = POLLIN;
    }
    if (writing) {
	pfd[n].fd = io->in_fd;
	pfd[n++].events = POLLOUT;
    }
    if (n == 0)
	return (0);
    if (poll(pfd, (nfds_t) n, (left > 1 ? 1000 : left * 1000)) < 0 && errno != EINTR)
	return (-1);
    if (io->out_fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
	cmd_read(io);
    return (0);
}

/* cmd_write - MAILBOX_WRITE_FN: feed the command, drain its output */

static int cmd_write(void *sink, const char *data, size_t len)
{
    CMD_IO *io = sink;
    ssize_t n;

    while (len > 0) {
	if (cmd_poll(io, 1) < 0)
	    return (-1);
	n = write(io->in_fd, data, len);
	if (n > 0) {
	    data += n;
	    len -= (size_t) n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
	    return (-1);			/* EPIPE: the exit status decides */
	}
    }
    return (0);
}

/* cmd_finish - wait for the exit, within the deadline; then the last output */

static void cmd_finish(CMD_IO *io)
{
    while (!io->timed_out && !cmd_reap(io, WNOHANG)) {
	if (io->out_fd >= 0) {
	    if (cmd_poll(io, 0) < 0)
		break;
	} else {
	    (void) poll((struct pollfd *) 0, 0, 20);
	    if (time((time_t *) 0) >= io->deadline)
		io->timed_out = 1;
	}
    }
    if (!io->exited) {
	(void) kill(-io->pid, SIGKILL);
	(void) kill(io->pid, SIGKILL);
	(void) waitpid(io->pid, &io->wait_status, 0);
	io->exited = 1;
    }
    /* Non-blocking: a left-over background process may hold the pipe */
    while (io->out_fd >= 0 && LEN(io->output) < CMD_OUTPUT_LIMIT) {
	char    buf[4096];
	ssize_t n = read(io->out_fd, buf, sizeof(buf));

	if (n <= 0)
	    break;
	vstring_memcat(io->output, buf, (size_t) n);
    }
    if (io->out_fd >= 0)
	(void) close(io->out_fd);
    io->out_fd = -1;
}

/* cmd_sysexit - Postfix's table of <sysexits.h> codes */

static const char *cmd_sysexit(int code, const char **text)
{
    static const struct {
	int     code;
	const char *dsn;
	const char *text;
    }       table[] = {
	{EX_USAGE, "5.3.0", "command line usage error"},
	{EX_DATAERR, "5.6.0", "data format error"},
	{EX_NOINPUT, "5.3.0", "cannot open input"},
	{EX_NOUSER, "5.1.1", "user unknown"},
	{EX_NOHOST, "5.1.2", "host name unknown"},
	{EX_UNAVAILABLE, "5.3.0", "service unavailable"},
	{EX_SOFTWARE, "5.3.0", "internal software error"},
	{EX_OSERR, "4.3.0", "system resource problem"},
	{EX_OSFILE, "5.3.0", "critical OS file missing"},
	{EX_CANTCREAT, "5.2.0", "can't create user output file"},
	{EX_IOERR, "5.3.0", "input/output error"},
	{EX_TEMPFAIL, "4.3.0", "temporary failure"},
	{EX_PROTOCOL, "5.5.0", "remote error in protocol"},
	{EX_NOPERM, "5.7.0", "permission denied"},
	{EX_CONFIG, "5.3.5", "local configuration error"},
    };

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
	if (table[i].code == code) {
	    *text = table[i].text;
	    return (table[i].dsn);
	}
    }
    *text = "unknown mail transport error";
    return ("5.3.0");
}

/* cmd_output_dsn - an enhanced status code at the start of OUTPUT, or NULL */

static const char *cmd_output_dsn(const char *output, char *buf, size_t len)
{
    size_t  n = strspn(output, "0123456789.");

    if (n < 5 || n >= len || (output[0] != '4' && output[0] != '5')
	|| output[1] != '.' || !isdigit((unsigned char) output[2]))
	return (0);
    memcpy(buf, output, n);
    buf[n] = 0;
    if (strchr(buf + 2, '.') == 0 || buf[n - 1] == '.')
	return (0);
    return (buf);
}

/* cmd_result - map the way the command ended to RES */

static void cmd_result(CMD_IO *io, const char *command, LOCAL_RESULT *res)
{
    VSTRING *first = vstring_alloc(100);
    const char *dsn, *text;
    static char dsn_buf[16];
    int     status;

    vstring_strncpy(first, STR(io->output), strcspn(STR(io->output), "\r\n"));
    for (char *cp = STR(first); *cp; cp++)
	if (iscntrl((unsigned char) *cp))
	    *cp = '?';
    if (io->timed_out) {
	local_result(res, DELIVER_STAT_BOUNCE, "5.3.0",
		     "Command time limit exceeded: \"%s\"", command);
    } else if (WIFSIGNALED(io->wait_status)) {
	local_result(res, DELIVER_STAT_DEFER, "4.3.0",
		     "Command died with signal %d: \"%s\"",
		     WTERMSIG(io->wait_status), command);
    } else if ((status = WEXITSTATUS(io->wait_status)) == 0) {
	local_result(res, DELIVER_STAT_OK, "2.0.0",
		     "delivered to command: %s", command);
    } else {
	dsn = cmd_sysexit(status, &text);
	if (cmd_output_dsn(STR(first), dsn_buf, sizeof(dsn_buf)))
	    dsn = dsn_buf;			/* static: RES keeps the pointer */
	local_result(res, *dsn == '4' ? DELIVER_STAT_DEFER : DELIVER_STAT_BOUNCE,
		     dsn, "Command died with status %d: \"%s\"%s%s",
		     status, command, LEN(first) ? ". Command output: " : "",
		     STR(first));
    }
    vstring_free(first);
}

/* cmd_run - start COMMAND as PRIV, feed it the message, wait; RES says how */

static void cmd_run(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const LOCAL_PRIV *priv,
		            const char *command, LOCAL_RESULT *res)
{
    int     in_pipe[2], out_pipe[2];
    ADDR_LIST env = {0, 0, 0};
    LOCAL_SOURCE src;
    CMD_IO  io;
    int     ret;

    if (pipe(in_pipe) < 0) {
	local_result(res, DELIVER_STAT_DEFER, "4.3.0", "cannot create pipe: %m");
	return;
    }
    if (pipe(out_pipe) < 0) {
	local_result(res, DELIVER_STAT_DEFER, "4.3.0", "cannot create pipe: %m");
	(void) close(in_pipe[0]);
	(void) close(in_pipe[1]);
	return;
    }
    cmd_environment(&env, d, exp, priv);
    memset(&io, 0, sizeof(io));
    if ((io.pid = fork()) < 0) {
	local_result(res, DELIVER_STAT_DEFER, "4.3.0", "cannot fork: %m");
	for (int i = 0; i < 2; i++) {
	    (void) close(in_pipe[i]);
	    (void) close(out_pipe[i]);
	}
	addr_list_free(&env);
	return;
    }
    if (io.pid == 0) {
	(void) close(in_pipe[1]);
	(void) close(out_pipe[0]);
	cmd_child(in_pipe[0], out_pipe[1], priv, command, env.addrs);
    }
    (void) close(in_pipe[0]);
    (void) close(out_pipe[1]);
    addr_list_free(&env);
    io.in_fd = in_pipe[1];
    io.out_fd = out_pipe[0];
    (void) fcntl(io.in_fd, F_SETFL, O_NONBLOCK);
    (void) fcntl(io.out_fd, F_SETFL, O_NONBLOCK);
    io.output = vstring_alloc(100);
    io.deadline = time((time_t *) 0) + conf_time("command_time_limit");

    src.state = d->state;
    src.rcpt = d->rcpt->address;
    src.from_line = 1;
    src.read_error = 0;
    src.why = vstring_alloc(100);
    ret = local_source(cmd_write, &io, &src);
    (void) close(io.in_fd);
    cmd_finish(&io);
    if (ret < 0 && src.read_error)
	local_result(res, DELIVER_STAT_DEFER, "4.3.0",
		     "cannot read queue file: %s", STR(src.why));
    else
	cmd_result(&io, command, res);
    vstring_free(src.why);
    vstring_free(io.output);
}

/* cmd_deliver - run COMMAND for EXP once, with EXP's rights (not root's) */

static void cmd_deliver(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *command)
{
    static int sigpipe_ignored;
    LOCAL_PRIV def;
    const LOCAL_PRIV *priv = exp->priv;
    LOCAL_RESULT res;
    VSTRING *key;

    key = vstring_alloc(100);
    vstring_sprintf(key, "%ld:%s", (long) priv->uid, command);
    if (local_seen(d, "command", STR(key))) {
	vstring_free(key);
	return;
    }
    vstring_free(key);
    if (!sigpipe_ignored) {
	signal(SIGPIPE, SIG_IGN);
	sigpipe_ignored = 1;
    }
    memset(&def, 0, sizeof(def));
    if ((priv = local_priv_nonroot(d, exp, &def)) == 0)
	return;
    res.reason = vstring_alloc(100);
    cmd_run(d, exp, priv, command, &res);
    local_leaf_result(d, exp->addr, &res);
    local_priv_free(&def);
    vstring_free(res.reason);
}

void    local_command(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *command)
{
    if (!local_allowed("allow_mail_to_commands", exp)) {
	local_leaf(d, exp->addr, DELIVER_STAT_BOUNCE, "5.7.1",
		   "mail to command is restricted");
	return;
    }
    cmd_deliver(d, exp, command);
}

void    local_mailbox_command(LOCAL_DELIVERY *d, const LOCAL_EXP *exp,
			              const char *command)
{
    cmd_deliver(d, exp, command);
}
