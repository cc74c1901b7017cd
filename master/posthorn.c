/*
 * posthorn.c - the Posthorn control command.
 *
 * Usage: posthorn [-c config_dir] [-v] command
 *
 *   start   check the configuration (as "check", but only what would
 *           keep the mail system from running is fatal), create the queue,
 *           start master and wait until it runs (fatal if it already runs)
 *   stop    SIGTERM to master, wait until it is gone
 *   abort   SIGINT to master (stop at once, same clean-up)
 *   reload  SIGHUP to master: reread main.cf and master.cf
 *   status  "the Posthorn mail system is running: PID: N" (exit 0) or
 *           "... is not running" (exit 1)
 *   flush   ask qmgr to retry all deferred mail now
 *   check   what Postfix's "postfix check" looks at, and more: main.cf
 *           values, $names and unused names (lib/global/conf_check.c),
 *           master.cf and its commands, that every table of a *_maps,
 *           *_checks and restriction parameter opens, owners and modes of
 *           the queue and of root's files (lib/global/mail_perms.c); then
 *           creates missing queue directories.  Each problem is one line
 *           ("posthorn: error: ..."; warnings for what Postfix only warns
 *           about); exit 1 when there was an error.
 *   set-permissions        (root) owners and modes of the queue tree,
 *           config_directory, main.cf, master.cf and the daemons as they
 *           should be, as Postfix's "postfix set-permissions"
 *   upgrade-configuration  add the master.cf services a newer Posthorn
 *           needs ("Editing DIR/master.cf, adding missing entry for
 *           pickup service"), as Postfix's post-install
 *   logrotate  rename maillog_file to maillog_file.SUFFIX (strftime of
 *           maillog_file_rotate_suffix), reload master so that the
 *           daemons open a new file, wait a second and compress the old
 *           one with maillog_file_compressor, as Postfix 3.4's
 *
 * Whether master runs is decided by the fcntl lock on pid/master.pid
 * under queue_directory, not by the pid in it, so a stale file after a
 * crash never fools it.  Messages go to stderr and to the mail log.
 *
 * A table is opened in a child process (dict_open(), so every type the
 * table layer has is checked the same way): its warnings come back over
 * a pipe and count as problems, and a backend that dies takes only the
 * child with it.
 *
 * Parameters: queue_directory, daemon_directory, mail_owner, mail_name,
 * default_process_limit, syslog_name, maillog_file,
 * maillog_file_rotate_suffix, maillog_file_compressor (and, for check,
 * every parameter there is).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include "conf_check.h"
#include "dict.h"
#include "dict_private.h"			/* dict_strtokq */
#include "htable.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_owner.h"
#include "mail_perms.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "maillog_rotate.h"
#include "master_cf.h"
#include "master_cf_upgrade.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define PID_FILE	"pid/master.pid"
#define START_WAIT	50		/* tenths of a second */
#define STOP_WAIT	100
#define TABLE_TIMEOUT	30		/* seconds to open one table */
#define TABLE_SEP	", \t\r\n"	/* as maps.c splits a list */

/* Postfix 3.4's defaults, until the parameter table has these two */

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

/* Tables: each opened in a child, its warnings counted */

/* table_child - open SPEC with stderr on ERR_FD; exit 0 if it opened */
static NORETURN table_child(const char *spec, int err_fd)
{
    DICT   *dict;

    alarm(TABLE_TIMEOUT);
    if (dup2(err_fd, 2) < 0)
	_exit(2);
    dict = dict_open(spec, 0);
    _exit(dict->error ? 1 : 0);
}

/* table_collect - what the child said, until it closes the pipe */
static void table_collect(int fd, VSTRING *text)
{
    char    buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) != 0) {
	if (n > 0)
	    vstring_memcat(text, buf, (size_t) n);
	else if (errno != EINTR)
	    break;
    }
}

/* table_open_status - open SPEC in a child; its wait status, its words in TEXT */
static int table_open_status(const char *spec, VSTRING *text)
{
    int     pipefd[2];
    int     status;
    pid_t   pid;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
	msg_fatal("pipe: %m");
    if ((pid = fork()) < 0)
	msg_fatal("fork: %m");
    if (pid == 0)
	table_child(spec, pipefd[1]);
    close(pipefd[1]);
    table_collect(pipefd[0], text);
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    msg_fatal("waitpid: %m");
    return (status);
}

/* count_lines - lines of TEXT */
static int count_lines(const VSTRING *text)
{
    int     n = 0;

    for (size_t i = 0; i < LEN(text); i++)
	n += STR(text)[i] == '\n';
    return (n);
}

/*
 * unknown_type - SPEC's type, when the table layer does not know it: the
 * known ones listed in HINT (as postconf -m would)
 */
static int unknown_type(const char *spec, VSTRING *hint)
{
    size_t  len = strcspn(spec, ":");
    const char *const *types = dict_type_names();

    for (const char *const *tp = types; *tp; tp++)
	if (strlen(*tp) == len && strncmp(*tp, spec, len) == 0)
	    return (0);
    vstring_strcpy(hint, " (known types:");
    for (const char *const *tp = types; *tp; tp++)
	vstring_sprintf_append(hint, " %s", *tp);
    vstring_strcat(hint, ")");
    return (1);
}

/* check_table - can SPEC (a table of PARAM) be opened without a warning? */
static void check_table(CONF_CHECK *cc, const char *param, const char *spec)
{
    VSTRING *text = vstring_alloc(200);
    VSTRING *hint = vstring_alloc(100);
    int     status = table_open_status(spec, text);
    int     warnings = count_lines(text);
    const char *where = mail_conf_dir();

    if (LEN(text) > 0 && write_full(2, STR(text), LEN(text)) < 0)
	msg_warn("write to stderr: %m");	/* the log has them anyway */
    if (WIFSIGNALED(status))
	conf_check_report(cc, CONF_CHECK_ERROR,
		      "%s/main.cf: parameter %s: table %s: killed by signal %d "
			  "while opening", where, param, spec, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
	conf_check_report(cc, CONF_CHECK_ERROR,
			  "%s/main.cf: parameter %s: table %s: cannot open%s",
			  where, param, spec,
			  unknown_type(spec, hint) ? STR(hint) : "");
    else if (warnings > 0)
	conf_check_report(cc, CONF_CHECK_ERROR,
			  "%s/main.cf: parameter %s: table %s: %d warning%s while opening",
			  where, param, spec, warnings, warnings == 1 ? "" : "s");
    vstring_free(text);
    vstring_free(hint);
}

/* check_table_once - SPEC of PARAM, unless another parameter had it */
static void check_table_once(CONF_CHECK *cc, HTABLE *seen, const char *param,
			             const char *spec)
{
    while (strncmp(spec, "proxy:", 6) == 0)
	spec += 6;
    if (htable_locate(seen, spec) != 0)
	return;
    htable_enter(seen, mystrdup(spec), 0);
    check_table(cc, param, spec);
}

/* is_access_restriction - check_*_access: a table follows */
static int is_access_restriction(const char *word)
{
    size_t  len = strlen(word);

    return (strncmp(word, "check_", 6) == 0 && len > 13
	    && strcmp(word + len - 7, "_access") == 0);
}

/* check_table_list - the tables in PARAM: all words, or after check_*_access */
static void check_table_list(CONF_CHECK *cc, HTABLE *seen, const char *param,
			             int restrictions)
{
    VSTRING *buf = vstring_alloc(100);
    const char *value = conf_check_param(cc, param, buf);
    char   *copy = mystrdup(value ? value : "");
    char   *cp = copy;
    char   *word;
    int     table_next = 0;

    while ((word = dict_strtokq(&cp, TABLE_SEP)) != 0) {
	if (!restrictions || table_next)
	    check_table_once(cc, seen, param, word);
	table_next = restrictions && is_access_restriction(word);
    }
    myfree(copy);
    vstring_free(buf);
}

static int has_suffix(const char *name, const char *suffix)
{
    size_t  len = strlen(name);
    size_t  slen = strlen(suffix);

    return (len > slen && strcmp(name + len - slen, suffix) == 0);
}

/* check_tables - every table named by a *_maps, *_checks or restriction list */
static void check_tables(CONF_CHECK *cc)
{
    HTABLE *seen = htable_create(20);

    for (const MAIL_PARAM *p = mail_params; p->name; p++) {
	if (strcmp(p->name, "proxy_read_maps") == 0)
	    continue;				/* names what proxymap may open */
	if (has_suffix(p->name, "_maps") || has_suffix(p->name, "_checks"))
	    check_table_list(cc, seen, p->name, 0);
	else if (has_suffix(p->name, "_restrictions"))
	    check_table_list(cc, seen, p->name, 1);
    }
    for (size_t i = 0; i < seen->size; i++)
	if (seen->slots[i].key)
	    myfree((char *) seen->slots[i].key);
    htable_free(seen);
}

/* Files: the queue, and what root reads or runs */

/* daemon_path - the program of a service, NULL when not in daemon_directory */
static const char *daemon_path(VSTRING *buf, const char *dir, const char *cmd)
{
    if (strchr(cmd, '/'))
	return (0);
    vstring_sprintf(buf, "%s/%s", dir, cmd);
    return (STR(buf));
}

/* root_files - FN for config_directory, main.cf, master.cf and the daemons */
static void root_files(CONF_CHECK *cc, const MASTER_CF *cf,
		            void (*fn) (CONF_CHECK *, const char *, mode_t))
{
    VSTRING *dir = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);

    fn(cc, mail_conf_dir(), (mode_t) -1);
    vstring_sprintf(path, "%s/main.cf", mail_conf_dir());
    fn(cc, STR(path), 0644);
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    fn(cc, STR(path), 0644);
    if (conf_check_param(cc, "daemon_directory", dir) != 0) {
	fn(cc, daemon_path(path, STR(dir), "master"), (mode_t) -1);
	for (int i = 0; cf && i < cf->count; i++)
	    if (daemon_path(path, STR(dir), cf->ents[i].argv[0]))
		fn(cc, STR(path), (mode_t) -1);
    }
    vstring_free(dir);
    vstring_free(path);
}

static void check_root_file(CONF_CHECK *cc, const char *path, mode_t unused)
{
    mail_perms_check_root(cc, path);
}

/* check_files - the queue tree and root's files */
static void check_files(CONF_CHECK *cc, const MASTER_CF *cf)
{
    VSTRING *buf = vstring_alloc(100);
    const char *queue_dir = conf_check_param(cc, "queue_directory", buf);
    uid_t   uid;
    gid_t   gid;

    if (queue_dir) {
	mail_owner_ids(&uid, &gid);
	mail_perms_check_queue(cc, queue_dir, uid, gid, getuid() == 0);
    }
    root_files(cc, cf, check_root_file);
    vstring_free(buf);
}

/* The checks */

/* check_say - one problem; before start, errors only warn */
static void check_say(int severity, const char *text, void *ctx)
{
    int     start = *(int *) ctx;

    if (severity == CONF_CHECK_WARN || (start && severity == CONF_CHECK_ERROR))
	msg_warn("%s", text);
    else
	msg_error("%s", text);
}

/* run_checks - every check; how many problems fail it (START: fatal ones) */
static int run_checks(int start)
{
    CONF_CHECK cc;
    MASTER_CF *cf;
    int     failed;

    conf_check_init(&cc, check_say, &start);
    conf_check_master(&cc, &cf);
    conf_check_main(&cc, cf);
    check_tables(&cc);
    check_files(&cc, cf);
    failed = cc.count[CONF_CHECK_FATAL] + (start ? 0 : cc.count[CONF_CHECK_ERROR]);
    master_cf_free(cf);
    conf_check_free(&cc);
    return (failed);
}

static void do_check(const char *name)
{
    int     failed = run_checks(0);

    if (failed)
	msg_fatal("%s integrity check failed: %d error%s", name, failed,
		  failed == 1 ? "" : "s");
    mail_queue_setup();				/* what is missing */
}

/* set-permissions */

static void fix_root_file(CONF_CHECK *cc, const char *path, mode_t mode)
{
    mail_perms_fix_root(cc, path, mode);
}

/* fix_say - what could not be fixed */
static void fix_say(int severity, const char *text, void *ctx)
{
    msg_error("%s", text);
}

static int do_set_permissions(void)
{
    VSTRING *err = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    CONF_CHECK cc;
    MASTER_CF *cf;
    uid_t   uid;
    gid_t   gid;
    int     failed;

    if (getuid() != 0)
	msg_fatal("set-permissions: only root can change owners");
    conf_check_init(&cc, fix_say, (void *) 0);
    mail_owner_ids(&uid, &gid);
    if (access(conf_str("queue_directory"), F_OK) < 0 && errno == ENOENT)
	mail_queue_setup();			/* made with its parents */
    mail_perms_fix_queue(&cc, conf_str("queue_directory"), uid, gid);
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    if ((cf = master_cf_parse(STR(path), conf_int("default_process_limit"), err)) == 0)
	msg_warn("%s -- not looking at the daemons", STR(err));
    root_files(&cc, cf, fix_root_file);
    failed = cc.count[CONF_CHECK_ERROR];
    master_cf_free(cf);
    conf_check_free(&cc);
    vstring_free(err);
    vstring_free(path);
    return (failed ? 1 : 0);
}

/* upgrade-configuration */

static void upgrade_said(const MASTER_CF_SERVICE *service, void *ctx)
{
    msg_info("Editing %s, adding missing entry for %s unix-domain service",
	     (const char *) ctx, service->name);
}

static void do_upgrade_configuration(void)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);

    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    if (master_cf_upgrade(STR(path), upgrade_said, STR(path), err) < 0)
	msg_fatal("%s", STR(err));
    vstring_free(path);
    vstring_free(err);
}

/* logrotate */

/* rotate_param - NAME's value; empty is fatal, as Postfix */
static const char *rotate_param(const char *name)
{
    const char *value = conf_str(name);

    if (*value == 0)
	msg_fatal("empty '%s' parameter value - logfile rotation failed", name);
    return (value);
}

static void do_logrotate(void)
{
    VSTRING *rotated = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    const char *logfile;
    const char *suffix;
    const char *compressor;
    struct stat st;
    pid_t   pid;

    logfile = rotate_param("maillog_file");
    suffix = rotate_param("maillog_file_rotate_suffix");
    compressor = rotate_param("maillog_file_compressor");
    if (strncmp(logfile, "/dev/", 5) == 0)
	msg_fatal("not rotating '%s'", logfile);
    if (maillog_rotate(logfile, suffix, time((time_t *) 0), rotated, &st, err) < 0)
	msg_fatal("logfile '%s' rotation failed: %s", logfile, STR(err));
    msg_logfile(logfile);			/* our own lines: the new file */
    msg_info("%s: rotated to %s", logfile, STR(rotated));
    if ((pid = master_pid()) != 0 && kill(pid, SIGHUP) < 0)
	msg_fatal("logfile '%s' rotation failed: send signal to master pid %d: %m",
		  logfile, (int) pid);
    sleep(1);					/* the daemons reopen (Postfix) */
    if (maillog_compress(STR(rotated), &st, compressor, err) < 0)
	msg_fatal("logfile '%s' rotation failed: %s", logfile, STR(err));
    vstring_free(rotated);
    vstring_free(err);
}

/* start, stop, status */

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
    if (run_checks(1) != 0)
	msg_fatal("%s integrity check failed!", name);
    mail_queue_setup();
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
    msg_fatal("usage: posthorn [-c config_dir] [-v] start|stop|reload|status|"
	      "check|flush|abort|set-permissions|upgrade-configuration|logrotate");
}

/* run_command - CMD; the exit status */
static int run_command(const char *cmd, const char *name)
{
    if (strcmp(cmd, "start") == 0)
	do_start(name);
    else if (strcmp(cmd, "stop") == 0)
	do_stop(name, SIGTERM);
    else if (strcmp(cmd, "abort") == 0)
	do_stop(name, SIGINT);
    else if (strcmp(cmd, "reload") == 0)
	signal_master(name, SIGHUP, "refreshing");
    else if (strcmp(cmd, "status") == 0)
	return (do_status(name));
    else if (strcmp(cmd, "check") == 0)
	do_check(name);
    else if (strcmp(cmd, "set-permissions") == 0)
	return (do_set_permissions());
    else if (strcmp(cmd, "upgrade-configuration") == 0)
	do_upgrade_configuration();
    else if (strcmp(cmd, "logrotate") == 0)
	do_logrotate();
    else if (strcmp(cmd, "flush") == 0) {
	mail_queue_chdir();
	if (mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR, QMGR_REQ_FLUSH_DEFERRED) < 0)
	    return (1);
    } else
	usage();
    return (0);
}

int     main(int argc, char **argv)
{
    const char *logfile;
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
    mail_conf_dir_absolute();			/* master runs elsewhere */
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    if (*(logfile = conf_str("maillog_file")) != 0)
	msg_logfile(logfile);
    return (run_command(argv[optind], conf_str("mail_name")));
}
