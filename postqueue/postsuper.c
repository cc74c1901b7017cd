/*
 * postsuper.c - queue maintenance for the super-user and mail_owner.
 *
 *   postsuper [-psSv] [-c config_dir] [-d queue_id] [-e queue_id]
 *             [-f queue_id] [-h queue_id] [-H queue_id] [-r queue_id]
 *             [queue ...]
 *
 * As Postfix 3.7's: -d delete, -e force-expire (the message is returned
 * to its sender the next time qmgr tries it), -f force-expire and release
 * from hold, -h put on hold, -H release from hold, -r requeue.  Each may
 * be repeated; "ALL" means every message, "-" reads one queue id per line
 * from standard input.  They run in command-line order, after -p (purge
 * stale temporary files) and -s/-S (structure fix: misplaced files to
 * their hash directory, non-files removed; -S is -s, as Posthorn ids do
 * not carry an inode number).  With no option at all, -s -p is done.
 * Trailing queue names (maildrop incoming active deferred hold defer
 * bounce trace flush) limit everything to those queues.
 *
 * The operations go to qmgr over the queue-control protocol
 * (queue_control.h: qmgr changes its own files and logs each message);
 * when qmgr is not running, postsuper does the same work on the files
 * (postsuper_direct.c).  Output on the terminal is Postfix's: a line per
 * message named by its id ("postsuper: ID: placed on hold"), none for
 * ALL, and at the end a report line per kind of operation asked for,
 * also when nothing matched ("postsuper: Deleted: 0 messages"), in
 * Postfix's order: Requeued, Deleted, Force-expired, Placed on hold,
 * Released from hold.  Usage errors exit 1 with getopt's complaint and
 * Postfix's usage line.
 *
 * Runs as mail_owner (root drops to it first); only root and mail_owner
 * may run it.  Parameters: queue_directory, mail_owner, hash_queue_names,
 * hash_queue_depth, syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "postsuper.h"

static const PS_OP ps_ops[] = {
    {'d', "delete", "removed"},
    {'e', "expire", "expired"},
    {'f', "expire_release", "expired"},
    {'h', "hold", "placed on hold"},
    {'H', "release", "released from hold"},
    {'r', "requeue", "requeued"},
    {0, 0, 0},
};

/* Queue names postsuper accepts, as Postfix's */
static const char *ps_queue_names[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
    MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, MAIL_QUEUE_TRACE, MAIL_QUEUE_DEFER,
    MAIL_QUEUE_BOUNCE, "flush", 0,
};

/* Report lines: which were asked for */
#define PS_ASK_REQUEUE	(1<<0)
#define PS_ASK_DELETE	(1<<1)
#define PS_ASK_EXPIRE	(1<<2)
#define PS_ASK_HOLD	(1<<3)
#define PS_ASK_RELEASE	(1<<4)

/* Queue ids per step through qmgr, at most */
#define PS_BATCH	10000

/* One option with its argument, in command-line order */
typedef struct PS_ARG {
    const PS_OP *op;
    const char *arg;			/* ALL, "-" or a queue id */
} PS_ARG;

/* The command line, parsed */
typedef struct PS_ARGS {
    PS_ARG *steps;
    int     step_count;
    int     repair;			/* PS_REPAIR_* */
    int     asked;			/* PS_ASK_* */
    const char *queues[PS_MAX_QUEUES + 1];	/* given queue names */
    int     queue_count;
} PS_ARGS;

static NORETURN usage(void)
{
    msg_fatal("usage: %s [-c config_dir] [-d queue_id (delete)] "
	      "[-e queue_id (expire)] [-f queue_id (expire and/or un-hold)] "
	      "[-h queue_id (hold)] [-H queue_id (un-hold)] "
	      "[-p (purge temporary files)] [-r queue_id (requeue)] "
	      "[-s (structure fix)] [-S (redundant structure fix)]"
	      "[-v (verbose)] [queue...]", msg_progname());
}

int     ps_in_list(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
	if (strcmp(name, list[i]) == 0)
	    return (1);
    return (0);
}

/* ps_find_op - the operation for option letter CH, or NULL */

static const PS_OP *ps_find_op(int ch)
{
    for (const PS_OP *op = ps_ops; op->letter; op++)
	if (op->letter == ch)
	    return (op);
    return (0);
}

/* ps_ask - the report lines that option CH asks for */

static int ps_ask(int ch)
{
    switch (ch) {
    case 'd':
	return (PS_ASK_DELETE);
    case 'e':
	return (PS_ASK_EXPIRE);
    case 'f':
	return (PS_ASK_EXPIRE | PS_ASK_RELEASE);
    case 'h':
	return (PS_ASK_HOLD);
    case 'H':
	return (PS_ASK_RELEASE);
    default:
	return (PS_ASK_REQUEUE);
    }
}

/* ps_add_step - option CH with ARG: a step in command-line order */

static void ps_add_step(PS_ARGS *args, int ch, const char *arg)
{
    PS_ARG *step;

    args->steps = (PS_ARG *) myrealloc(args->steps,
				 (args->step_count + 1) * sizeof(PS_ARG));
    step = args->steps + args->step_count++;
    step->op = ps_find_op(ch);
    step->arg = arg;
    args->asked |= ps_ask(ch);
}

/* ps_flush - run the ids collected in BATCH, if any */

static void ps_flush(PS_STEP *batch, const char *const *queues, PS_COUNTS *counts)
{
    if (batch->id_count > 0)
	ps_step_run(batch, queues, counts);
    for (int i = 0; i < batch->id_count; i++)
	myfree(batch->ids[i]);
    batch->id_count = 0;
}

/*
 * ps_add_id - ID into BATCH; a name that cannot be a queue id is warned
 * about in its turn, after the ids before it were done, as Postfix does
 */
static void ps_add_id(PS_STEP *batch, const char *id, const char *const *queues,
		              PS_COUNTS *counts)
{
    if (!mail_queue_id_ok(id)) {
	ps_flush(batch, queues, counts);
	msg_warn("invalid mail queue id: %s", id);
	return;
    }
    batch->ids = (char **) myrealloc(batch->ids, (batch->id_count + 1) * sizeof(char *));
    batch->ids[batch->id_count++] = mystrdup(id);
    if (batch->id_count >= PS_BATCH)
	ps_flush(batch, queues, counts);
}

/* ps_read_ids - "-": one id per line from standard input, as Postfix */

static void ps_read_ids(PS_STEP *batch, const char *const *queues, PS_COUNTS *counts)
{
    VSTRING *line = vstring_alloc(100);

    while (vstream_get_line(vstream_stdin(), line, 10000) != VSTREAM_EOF) {
	if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == '\n')
	    vstring_truncate(line, LEN(line) - 1);
	ps_add_id(batch, STR(line), queues, counts);
    }
    vstring_free(line);
}

/* ps_run - one option: ALL, "-" or a queue id */

static void ps_run(const PS_ARG *step, const char *const *queues, PS_COUNTS *counts)
{
    PS_STEP batch;

    memset(&batch, 0, sizeof(batch));
    batch.op = step->op;
    if (strcmp(step->arg, "ALL") == 0) {
	batch.all = 1;
	ps_step_run(&batch, queues, counts);
	return;
    }
    if (strcmp(step->arg, "-") == 0)
	ps_read_ids(&batch, queues, counts);
    else
	ps_add_id(&batch, step->arg, queues, counts);
    ps_flush(&batch, queues, counts);
    if (batch.ids)
	myfree(batch.ids);
}

/* ps_parse - the options and queue names */

static void ps_parse(int argc, char **argv, PS_ARGS *args)
{
    int     ch;

    argv[0] = (char *) msg_progname();	/* getopt's complaints, as Postfix */
    while ((ch = getopt(argc, argv, "+c:d:e:f:h:H:pr:sSv")) != -1) {
	switch (ch) {
	case 'c':
	    if (*optarg != '/')
		msg_fatal("-c requires absolute pathname");
	    mail_conf_set_dir(optarg);
	    break;
	case 'p':
	    args->repair |= PS_REPAIR_PURGE;
	    break;
	case 's':
	case 'S':
	    args->repair |= PS_REPAIR_STRUCT;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'd':
	case 'e':
	case 'f':
	case 'h':
	case 'H':
	case 'r':
	    ps_add_step(args, ch, optarg);
	    break;
	default:
	    usage();
	}
    }
    for (; optind < argc && args->queue_count < PS_MAX_QUEUES; optind++) {
	if (!ps_in_list(argv[optind], ps_queue_names))
	    msg_fatal("invalid directory name: %s", argv[optind]);
	args->queues[args->queue_count++] = argv[optind];
    }
    if (optind < argc)
	usage();
    if (args->step_count == 0 && args->repair == 0)
	args->repair = PS_REPAIR_STRUCT | PS_REPAIR_PURGE;
}

/* ps_check_user - root or the owner of the queue only; root becomes mail_owner */

static void ps_check_user(void)
{
    struct stat st;

    if (stat(MAIL_QUEUE_INCOMING, &st) < 0)
	msg_fatal("stat %s/%s: %m", conf_str("queue_directory"), MAIL_QUEUE_INCOMING);
    if (getuid() != 0 && getuid() != st.st_uid)
	msg_fatal("use of this command is reserved for the superuser");
    if (geteuid() == 0)
	mail_server_drop_privileges(0);
}

/* ps_report_line - "Deleted: 2 messages" */

static void ps_report_line(const char *label, long count)
{
    msg_info("%s: %ld message%s", label, count, count != 1 ? "s" : "");
}

/* ps_report - the report lines asked for, in Postfix's order */

static void ps_report(int asked, const PS_COUNTS *counts)
{
    if (asked & PS_ASK_REQUEUE)
	ps_report_line("Requeued", counts->requeued);
    if (asked & PS_ASK_DELETE)
	ps_report_line("Deleted", counts->deleted);
    if (asked & PS_ASK_EXPIRE)
	ps_report_line("Force-expired", counts->expired);
    if (asked & PS_ASK_HOLD)
	ps_report_line("Placed on hold", counts->held);
    if (asked & PS_ASK_RELEASE)
	ps_report_line("Released from hold", counts->released);
}

int     main(int argc, char **argv)
{
    PS_ARGS args;
    PS_COUNTS counts;
    const char *const *queues;

    msg_init("postsuper", MSG_TO_STDERR | MSG_TO_SYSLOG);
    memset(&args, 0, sizeof(args));
    memset(&counts, 0, sizeof(counts));
    ps_parse(argc, argv, &args);
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    if (*conf_str("maillog_file") && (access(conf_str("maillog_file"), W_OK) == 0
				       || errno == ENOENT))
	msg_logfile(conf_str("maillog_file"));	/* not for users who may not */
    mail_queue_chdir();
    ps_check_user();

    queues = args.queue_count ? args.queues : 0;
    if (args.repair)
	ps_repair(queues, args.repair);
    for (int i = 0; i < args.step_count; i++)
	ps_run(args.steps + i, queues, &counts);
    ps_report(args.asked, &counts);
    return (0);
}
