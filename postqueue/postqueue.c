/*
 * postqueue.c - the user's view of the mail queue.
 *
 *   postqueue [-c config_dir] [-v] -p	list the queue (Postfix's mailq format)
 *   postqueue [-c config_dir] [-v] -j	list the queue, one JSON object a line
 *   postqueue [-c config_dir] [-v] -f	retry all deferred mail now
 *   postqueue [-c config_dir] [-v] -s site	retry mail for SITE now
 *   postqueue [-c config_dir] [-v] -i queue_id	retry one message now
 *
 * Listing asks the showq service (public/showq, lib/global/showq_proto.h), which
 * reads the queue as mail_owner, so any user may list it.  When the mail
 * system is down, root and mail_owner read the queue directly (as
 * Postfix's postqueue then runs showq itself); anyone else gets "Queue
 * report unavailable - mail system is down" (exit 69).  Output: see
 * lib/global/mailq_format.h.  Output streams: a message is flushed when
 * no more of the listing is buffered (postqueue is about to wait for
 * showq), else it goes out with full buffers; memory stays constant.
 *
 * Flushing uses the queue-control protocol on public/qmgr (request flush,
 * flush_site, flush_id; lib/global/queue_control.h).  A qmgr that does not answer
 * control requests gets the one-byte flush trigger instead.  Any site
 * with deferred mail may be flushed (Postfix: only fast_flush_domains).
 *
 * Bad usage exits 69 (EX_UNAVAILABLE) with getopt's complaint and
 * Postfix's usage line, as Postfix's postqueue; so do a site that is no
 * host name or address literal and a name that is no queue id.  An id
 * that names no message is not an error.
 *
 * Parameters: queue_directory, mail_owner, syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <sysexits.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_owner.h"
#include "address.h"
#include "queue_control.h"
#include "showq_proto.h"
#include "mailq_format.h"

#define PQ_CONNECT_TIMEOUT	10
#define PQ_READ_TIMEOUT		300

/*
 * pq_output - format one message, and flush when FLUSH is set (the reader
 * is about to wait, or this is the first message); -1 when stdout went away
 */
static int pq_output(MAILQ_FORMAT *mf, int json, const SHOWQ_MSG *msg, int flush)
{
    if (json)
	mailq_format_json(mf, msg);
    else
	mailq_format_text(mf, msg);
    if ((flush || vstream_error(mf->out)) && vstream_flush(mf->out) != 0) {
	if (errno != EPIPE)
	    msg_fatal_status(EX_IOERR, "output write error: %m");
	return (-1);
    }
    return (0);
}

/* The direct (mail system down) listing: state for the scan callback */
typedef struct PQ_DIRECT {
    MAILQ_FORMAT *mf;
    int     json;
} PQ_DIRECT;

static int pq_direct_show(const SHOWQ_MSG *msg, void *ctx)
{
    PQ_DIRECT *pd = (PQ_DIRECT *) ctx;

    return (pq_output(pd->mf, pd->json, msg, pd->mf->files == 0));
}

/* pq_list_stream - read the listing from showq */

static void pq_list_stream(VSTREAM *showq, MAILQ_FORMAT *mf, int json)
{
    SHOWQ_MSG msg;
    int     status;

    while ((status = showq_get_message(showq, &msg)) > 0) {
	int     gone = pq_output(mf, json, &msg, vstream_peek(showq) == 0);

	showq_msg_free(&msg);
	if (gone)
	    return;
    }
    if (status < 0)
	msg_fatal_status(EX_SOFTWARE, "malformed showq server response");
}

/* pq_may_read_queue - root or mail_owner: may list the queue directly */

static int pq_may_read_queue(void)
{
    uid_t   uid;
    gid_t   gid;

    if (geteuid() == 0)
	return (1);
    mail_owner_ids(&uid, &gid);
    return (geteuid() == uid && access(MAIL_QUEUE_DEFERRED, R_OK | X_OK) == 0);
}

/* pq_list - postqueue -p / -j */

static void pq_list(int json)
{
    MAILQ_FORMAT mf;
    char    path[256];
    int     fd;

    mailq_format_init(&mf, vstream_stdout());
    mail_socket_path(path, sizeof(path), MAIL_CLASS_PUBLIC, MAIL_SERVICE_SHOWQ);
    if ((fd = unix_connect(path, PQ_CONNECT_TIMEOUT)) >= 0) {
	VSTREAM *showq = vstream_fdopen(fd, O_RDWR);

	vstream_set_timeout(showq, PQ_READ_TIMEOUT);
	pq_list_stream(showq, &mf, json);
	vstream_close(showq);
    } else if (errno == EACCES || errno == EPERM) {
	msg_fatal_status(EX_SOFTWARE, "connect to the %s %s service: %m",
			 MAIL_CLASS_PUBLIC, MAIL_SERVICE_SHOWQ);
    } else if (pq_may_read_queue()) {
	PQ_DIRECT pd = {&mf, json};

	if (msg_verbose)
	    msg_info("connect to %s: %m; reading the queue directly", path);
	(void) showq_scan(pq_direct_show, &pd);
    } else {
	msg_fatal_status(EX_UNAVAILABLE, "Queue report unavailable - mail system is down");
    }
    if (!json)
	mailq_format_text_end(&mf);
    if (vstream_flush(mf.out) != 0 && errno != EPIPE)
	msg_fatal_status(EX_IOERR, "output write error: %m");
}

/* pq_flush - postqueue -f, -s site, -i id */

static void pq_flush(const char *request, const char *site, const char *id)
{
    QUEUE_CONTROL_REPLY reply;
    char   *ids[1];
    int     status;

    memset(&reply, 0, sizeof(reply));
    reply.reason = vstring_alloc(100);
    ids[0] = (char *) id;
    status = queue_control(request, id ? ids : 0, id ? 1 : 0, 0, site, &reply);
    switch (status) {
    case QUEUE_CONTROL_OK:
	if (msg_verbose)
	    msg_info("%s: %ld message%s", request, reply.count,
		     reply.count == 1 ? "" : "s");
	break;
    case QUEUE_CONTROL_REFUSED:
	msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue: %s", STR(reply.reason));
    case QUEUE_CONTROL_NOREPLY:
	if (msg_verbose)
	    msg_info("%s; sending the flush trigger", STR(reply.reason));
	if (mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR, QMGR_REQ_FLUSH_DEFERRED) == 0)
	    break;
	/* FALLTHROUGH */
    default:
	if (msg_verbose)
	    msg_info("%s", STR(reply.reason));
	msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    }
    vstring_free(reply.reason);
}

static NORETURN usage(void)
{
    msg_fatal_status(EX_UNAVAILABLE, "usage: postqueue -f | postqueue -i queueid | "
		     "postqueue -j | postqueue -p | postqueue -s site");
}

/* pq_args - the one mode (ARG: -s site, -i queueid); exits on bad usage */

static int pq_args(int argc, char **argv, const char **arg)
{
    int     mode = 0;
    int     ch;

    argv[0] = (char *) msg_progname();	/* getopt's complaints, as Postfix */
    while ((ch = getopt(argc, argv, "+c:fi:jps:v")) != -1) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'i':
	case 's':
	    *arg = optarg;
	    /* FALLTHROUGH */
	case 'f':
	case 'j':
	case 'p':
	    if (mode != 0)
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
    return (mode);
}

/* pq_bad - Postfix's complaint about a site or queue id (at most 100 bytes) */

static NORETURN pq_bad(const char *what, const char *arg)
{
    msg_fatal_status(EX_UNAVAILABLE, "%s: \"%.100s%s\"", what, arg,
		     strlen(arg) > 100 ? "..." : "");
}

int     main(int argc, char **argv)
{
    const char *arg = 0;
    int     mode;

    msg_init("postqueue", MSG_TO_STDERR | MSG_TO_SYSLOG);
    mode = pq_args(argc, argv, &arg);
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    if (*conf_str("maillog_file") && (access(conf_str("maillog_file"), W_OK) == 0
				       || errno == ENOENT))
	msg_logfile(conf_str("maillog_file"));	/* not for users who may not */
    mail_queue_chdir();

    switch (mode) {
    case 'f':
	pq_flush("flush", 0, 0);
	break;
    case 's':
	if (!addr_valid_domain(arg))
	    pq_bad("Cannot flush mail queue - invalid destination", arg);
	pq_flush("flush_site", arg, 0);
	break;
    case 'i':
	if (!mail_queue_id_ok(arg))
	    pq_bad("Cannot flush queue ID - invalid name", arg);
	pq_flush("flush_id", 0, arg);
	break;
    default:
	pq_list(mode == 'j');
	break;
    }
    return (0);
}
