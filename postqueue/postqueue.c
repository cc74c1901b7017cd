/*
 * postqueue.c - the user's view of the mail queue.
 *
 *   postqueue [-c config_dir] [-v] -p	list the queue (Postfix's mailq format)
 *   postqueue [-c config_dir] [-v] -j	list the queue, one JSON object a line
 *   postqueue [-c config_dir] [-v] -f	ask qmgr to retry deferred mail now
 *
 * Listing reads the queue directly (Posthorn has no showq daemon):
 * incoming/, active/, deferred/ (hashed) and hold/, each in queue id
 * order; files that are incomplete or unreadable are skipped.  The output
 * is Postfix's long-queue-id format: "%-17s %8ld %19.19s %s" with "*"
 * after the id of active mail and "!" after held mail, the null sender as
 * MAILER-DAEMON, and only recipients that are not yet done.  The JSON
 * fields are Postfix's: queue_name, queue_id, arrival_time, message_size,
 * force_expired, sender, recipients [{address, delay_reason?}].
 * (Deferral reasons come with the defer logs in a later issue.)
 *
 * Parameters: queue_directory, hash_queue_names, hash_queue_depth,
 * syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <sysexits.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "qfile.h"

#define PQ_STRING_FORMAT	"%-17s %8s %-19s %s\n"
#define PQ_SENDER_FORMAT	"%-17s %8ld %19.19s %s\n"
#define PQ_HEADINGS		"----Queue ID-----", "--Size--", \
				"---Arrival Time----", "--Sender/Recipient------"
#define PQ_EMPTY_SENDER		"MAILER-DAEMON"

static const char *pq_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

/* Listing state shared by the per-file callbacks */
typedef struct PQ_LIST {
    const char *queue;
    int     json;
    VSTREAM *out;
    unsigned long files;
    unsigned long bytes;
    char  **ids;			/* collected ids of the current queue */
    int     id_count;
    int     id_size;
} PQ_LIST;

/* json_quote - TEXT as the inside of a JSON string, into BUF */

static const char *json_quote(VSTRING *buf, const char *text)
{
    const unsigned char *cp;

    vstring_reset(buf);
    for (cp = (const unsigned char *) text; *cp; cp++) {
	switch (*cp) {
	case '"':
	case '\\':
	    vstring_addch(buf, '\\');
	    vstring_addch(buf, *cp);
	    break;
	case '\b':
	    vstring_strcat(buf, "\\b");
	    break;
	case '\f':
	    vstring_strcat(buf, "\\f");
	    break;
	case '\n':
	    vstring_strcat(buf, "\\n");
	    break;
	case '\r':
	    vstring_strcat(buf, "\\r");
	    break;
	case '\t':
	    vstring_strcat(buf, "\\t");
	    break;
	default:
	    if (*cp < 0x20 || *cp == 0x7f)
		vstring_sprintf_append(buf, "\\u%04X", *cp);
	    else
		vstring_addch(buf, *cp);
	    break;
	}
    }
    return (STR(buf));
}

/* show_text - one message in mailq format */

static void show_text(PQ_LIST *pl, const char *id, const QENV *env)
{
    VSTRING *id_status = vstring_alloc(20);
    time_t  arrival = env->arrival.tv_sec;
    char    date[32];

    if (pl->files == 0)
	vstream_fprintf(pl->out, PQ_STRING_FORMAT, PQ_HEADINGS);
    else
	vstream_fputs("\n", pl->out);
    vstring_strcpy(id_status, id);
    if (strcmp(pl->queue, MAIL_QUEUE_ACTIVE) == 0)
	vstring_addch(id_status, '*');
    else if (strcmp(pl->queue, MAIL_QUEUE_HOLD) == 0)
	vstring_addch(id_status, '!');
    if (asctime_r(localtime(&arrival), date) == 0)
	date[0] = 0;
    vstream_fprintf(pl->out, PQ_SENDER_FORMAT, STR(id_status),
		    env->content_size, date,
		    *env->sender ? env->sender : PQ_EMPTY_SENDER);
    for (int i = 0; i < env->rcpt_count; i++)
	if (!env->rcpts[i].done)
	    vstream_fprintf(pl->out, PQ_STRING_FORMAT, "", "", "",
			    env->rcpts[i].address);
    vstring_free(id_status);
}

/* show_json - one message as one JSON object */

static void show_json(PQ_LIST *pl, const char *id, const QENV *env)
{
    VSTRING *buf = vstring_alloc(100);
    int     count = 0;

    vstream_fprintf(pl->out, "{\"queue_name\": \"%s\", ", json_quote(buf, pl->queue));
    vstream_fprintf(pl->out, "\"queue_id\": \"%s\", ", json_quote(buf, id));
    vstream_fprintf(pl->out, "\"arrival_time\": %ld, ", (long) env->arrival.tv_sec);
    vstream_fprintf(pl->out, "\"message_size\": %ld, ", env->content_size);
    vstream_fprintf(pl->out, "\"force_expired\": false, ");
    vstream_fprintf(pl->out, "\"sender\": \"%s\", ",
		    json_quote(buf, *env->sender ? env->sender : PQ_EMPTY_SENDER));
    vstream_fputs("\"recipients\": [", pl->out);
    for (int i = 0; i < env->rcpt_count; i++) {
	if (env->rcpts[i].done)
	    continue;
	vstream_fprintf(pl->out, "%s{\"address\": \"%s\"}", count++ ? ", " : "",
			json_quote(buf, env->rcpts[i].address));
    }
    vstream_fputs("]}\n", pl->out);
    vstring_free(buf);
}

/* show_file - read one queue file's envelope and print it */

static void show_file(PQ_LIST *pl, const char *id)
{
    VSTREAM *fp;
    VSTRING *why;
    QENV    env;
    struct stat st;

    if ((fp = mail_queue_open(pl->queue, id, O_RDONLY)) == 0) {
	if (errno != ENOENT)			/* moved on: not an error */
	    msg_warn("open %s/%s: %m", pl->queue, id);
	return;
    }
    if (fstat(vstream_fd(fp), &st) < 0 || !MAIL_QUEUE_READY(&st)) {
	vstream_close(fp);			/* still being written */
	return;
    }
    why = vstring_alloc(100);
    if (qfile_read_envelope(fp, &env, why) == 0) {
	if (pl->json)
	    show_json(pl, id, &env);
	else
	    show_text(pl, id, &env);
	pl->files++;
	pl->bytes += env.content_size > 0 ? (unsigned long) env.content_size : 0;
	qenv_free(&env);
    } else if (msg_verbose) {
	msg_info("skipping %s/%s: %s", pl->queue, id, STR(why));
    }
    vstring_free(why);
    vstream_close(fp);
    if (vstream_flush(pl->out) != 0 && errno != EPIPE)
	msg_fatal_status(EX_IOERR, "output write error: %m");
}

/* collect_id - mail_queue_scan callback */

static void collect_id(const char *id, void *ctx)
{
    PQ_LIST *pl = (PQ_LIST *) ctx;

    if (pl->id_count == pl->id_size) {
	pl->id_size = pl->id_size ? 2 * pl->id_size : 64;
	pl->ids = (char **) myrealloc(pl->ids, pl->id_size * sizeof(char *));
    }
    pl->ids[pl->id_count++] = mystrdup(id);
}

static int id_cmp(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* list_queue - one queue directory, in id (arrival) order */

static void list_queue(PQ_LIST *pl, const char *queue)
{
    if (access(queue, R_OK | X_OK) != 0) {
	if (errno == ENOENT)
	    return;
	msg_fatal_status(errno == EACCES ? EX_NOPERM : EX_UNAVAILABLE,
			 "open queue directory: %m");
    }
    pl->queue = queue;
    pl->id_count = 0;
    mail_queue_scan(queue, collect_id, pl);
    if (pl->id_count > 1)
	qsort(pl->ids, pl->id_count, sizeof(char *), id_cmp);
    for (int i = 0; i < pl->id_count; i++) {
	show_file(pl, pl->ids[i]);
	myfree(pl->ids[i]);
    }
}

/* list_all - postqueue -p / -j */

static void list_all(int json)
{
    PQ_LIST pl;

    memset(&pl, 0, sizeof(pl));
    pl.json = json;
    pl.out = vstream_stdout();
    for (const char **qp = pq_queues; *qp; qp++)
	list_queue(&pl, *qp);
    if (!json) {
	if (pl.files == 0)
	    vstream_fputs("Mail queue is empty\n", pl.out);
	else
	    vstream_fprintf(pl.out, "\n-- %lu Kbytes in %lu Request%s.\n",
			    pl.bytes / 1024, pl.files, pl.files == 1 ? "" : "s");
    }
    if (vstream_flush(pl.out) != 0 && errno != EPIPE)
	msg_fatal_status(EX_IOERR, "output write error: %m");
    if (pl.ids)
	myfree(pl.ids);
}

static NORETURN usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postqueue -f | postqueue -j | postqueue -p");
}

int     main(int argc, char **argv)
{
    int     mode = 0;
    int     ch;

    msg_init("postqueue", MSG_TO_STDERR | MSG_TO_SYSLOG);
    opterr = 0;
    while ((ch = getopt(argc, argv, "c:fjpv")) != -1) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'f':
	case 'j':
	case 'p':
	    if (mode != 0 && mode != ch)
		usage();
	    mode = ch;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    usage();
	}
    }
    if (mode == 0 || optind != argc)
	usage();
    mail_conf_read(0);
    msg_syslog_name(conf_str("syslog_name"));
    if (*conf_str("maillog_file"))
	msg_logfile(conf_str("maillog_file"));
    mail_queue_chdir();

    if (mode == 'f') {
	if (mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR,
			 QMGR_REQ_FLUSH_DEFERRED) < 0)
	    msg_fatal_status(EX_UNAVAILABLE,
			     "Cannot flush mail queue - mail system is down");
    } else {
	list_all(mode == 'j');
    }
    return (0);
}
