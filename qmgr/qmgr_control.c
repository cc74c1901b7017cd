/*
 * qmgr_control.c - queue control requests (queue_control.h, QMGR_REQ_CONTROL).
 *
 * postsuper, postqueue and posthorn write 'C' and one attribute list to
 * public/qmgr: request = delete | hold | release | requeue | expire |
 * expire_release | flush | flush_site | flush_id, queue_id = ID or ALL
 * (repeatable), queue = incoming | active | deferred | hold (repeatable:
 * where to look; none: all four), site = domain.  qmgr answers status (0
 * ok), count (messages affected), released (expire_release: also
 * released from hold), a "done" line ("ID: placed on hold") for each
 * message named by its id, for postsuper to print, and reason.  qmgr is
 * one process that everything waits on, and public/qmgr is open to every
 * local user: so the request is collected in the event loop, never with a
 * blocking read, and must be complete within QMGR_CONTROL_TIMEOUT seconds
 * and QMGR_CONTROL_MAX bytes, else the client is dropped with a warning.
 * Everything but the flushes needs root or mail_owner (the peer's uid
 * from SO_PEERCRED); anyone may flush, and a flush also gives every
 * dead destination another chance (qmgr_queue.c), as Postfix's "flush
 * dead" trigger does.  A flush of all deferred mail answers at once with
 * the number of files in deferred/ and leaves the work to a deferred
 * pass (qmgr_scan.c: within the active queue's limits, however big the
 * queue); flush_site and flush_id take their messages at once.  A
 * message that is being
 * delivered is removed, held or requeued when its deliveries end.
 * expire marks a complete queue file as Postfix's postsuper -e does (the
 * group execute bit, QUEUE_CONTROL_STAT_EXPIRE), wherever it is, also in
 * active/: the message is returned to its sender the next time qmgr
 * takes it; expire_release also releases it from hold.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <utime.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "attr.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_owner.h"
#include "iostuff.h"
#include "events.h"
#include "mail_server.h"
#include "mail_queue.h"
#include "defer_log.h"
#include "queue_control.h"
#include "qmgr.h"

#define QMGR_CONTROL_TIMEOUT	10	/* seconds for the whole request */
#define QMGR_CONTROL_MAX	(64 * 1024)	/* bytes in one request */
#define QMGR_CONTROL_REPLY_TIMEOUT 1	/* seconds to write the small answer */
#define QMGR_CONTROL_DONE_MAX	(ATTR_MAX_COUNT - 8)	/* "done" lines per reply */
#define QMGR_CONTROL_NQUEUES	4

/* A client whose request is still arriving */
typedef struct QMGR_CONTROL_CLIENT {
    int     fd;
    VSTRING *buf;
} QMGR_CONTROL_CLIENT;

typedef struct QMGR_CONTROL {
    const char *request;
    const char *site;
    const char *queues[QMGR_CONTROL_NQUEUES + 1];	/* where to look */
    int     named;			/* the id at hand was named, not ALL */
    int     count;
    int     released;			/* expire_release: released from hold */
    VSTRING *done;			/* the reply's "done" lines */
    int     done_count;
} QMGR_CONTROL;

static const char *qmgr_control_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

/* qmgr_control_privileged - the peer is root or mail_owner */

static int qmgr_control_privileged(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    uid_t   owner;
    gid_t   group;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
	msg_warn("queue control: SO_PEERCRED: %m");
	return (0);
    }
    mail_owner_ids(&owner, &group);
    return (cred.uid == 0 || cred.uid == owner || cred.uid == geteuid());
}

/*
 * qmgr_control_tell - ID: TEXT happened: logged unless NOLOG (it is logged
 * when the deliveries of an active message end), and a "done" line for
 * the client when the message was named by its id
 */
static void qmgr_control_tell(QMGR_CONTROL *ctl, const char *id, const char *text,
			              int nolog)
{
    VSTRING *line;

    if (!nolog)
	msg_info("%s: %s", id, text);
    if (!ctl->named || ctl->done_count >= QMGR_CONTROL_DONE_MAX)
	return;
    line = vstring_alloc(60);
    vstring_sprintf(line, "%s: %s", id, text);
    attr_buf_put(ctl->done, "done", STR(line));
    ctl->done_count++;
    vstring_free(line);
}

#define QMGR_CONTROL_SLICE	100	/* recipients read at a time */

/* qmgr_control_site_slice - a pending recipient of ENV's slice is in SITE */

static int qmgr_control_site_slice(const QENV *env, const char *site)
{
    for (int i = 0; i < env->rcpt_count; i++) {
	const char *at = strrchr(env->rcpts[i].address, '@');

	if (!env->rcpts[i].done && at && strcasecmp(at + 1, site) == 0)
	    return (1);
    }
    return (0);
}

/*
 * qmgr_control_rcpt_site - a pending recipient of ID (in deferred/) is in
 * SITE; the recipients are read in slices, so a big message costs no
 * memory
 */
static int qmgr_control_rcpt_site(const char *id, const char *site)
{
    VSTREAM *stream;
    VSTRING *why = vstring_alloc(100);
    QENV    env;
    int     found = 0;

    if ((stream = mail_queue_open(MAIL_QUEUE_DEFERRED, id, O_RDONLY)) != 0) {
	if (qfile_read_header(stream, &env, why) == 0) {
	    while (!found && env.rcpt_offset > 0
		   && qfile_read_rcpts(stream, &env, QMGR_CONTROL_SLICE, why) >= 0)
		found = qmgr_control_site_slice(&env, site);
	    qenv_free(&env);
	}
	vstream_close(stream);
    }
    vstring_free(why);
    return (found);
}

/* qmgr_control_active - a request for a message that is being delivered */

static int qmgr_control_active(QMGR_CONTROL *ctl, const char *id)
{
    const char *req = ctl->request;
    QMGR_MESSAGE *message;

    if ((message = qmgr_message_find(id)) == 0)
	return (0);
    if (strcmp(req, "delete") == 0) {
	message->after = QMGR_AFTER_DELETE;
	qmgr_control_tell(ctl, id, "removed", 1);
    } else if (strcmp(req, "hold") == 0) {
	message->after = QMGR_AFTER_HOLD;
	qmgr_control_tell(ctl, id, "placed on hold", 1);
    } else if (strcmp(req, "requeue") == 0) {
	message->after = QMGR_AFTER_REQUEUE;
	qmgr_control_tell(ctl, id, "requeued", 1);
    } else {
	return (0);
    }
    return (1);
}

/* qmgr_control_release - move ID from hold/ to deferred/, due now; 1 if done */

static int qmgr_control_release(QMGR_CONTROL *ctl, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    struct utimbuf times;
    int     ret = 0;

    times.actime = times.modtime = clock_now();
    if (utime(mail_queue_path(path, MAIL_QUEUE_HOLD, id), &times) < 0)
	msg_warn("%s: utime %s: %m", id, STR(path));
    if (mail_queue_rename(id, MAIL_QUEUE_HOLD, MAIL_QUEUE_DEFERRED) == 0) {
	qmgr_control_tell(ctl, id, "released from hold", 0);
	ret = 1;
    }
    vstring_free(path);
    return (ret);
}

/* qmgr_control_expire - expire (and release: expire_release) ID in QUEUE */

static int qmgr_control_expire(QMGR_CONTROL *ctl, const char *id, const char *queue)
{
    int     expired = queue_control_expire_file(queue, id) > 0;

    if (expired)
	qmgr_control_tell(ctl, id, "expired", 0);
    if (strcmp(ctl->request, "expire_release") == 0
	&& strcmp(queue, MAIL_QUEUE_HOLD) == 0)
	ctl->released += qmgr_control_release(ctl, id);
    return (expired);
}

/* qmgr_control_move - hold or requeue ID from QUEUE; 1 if done */

static int qmgr_control_move(QMGR_CONTROL *ctl, const char *id, const char *queue,
			             const char *to, const char *text)
{
    if (strcmp(queue, to) == 0 || mail_queue_rename(id, queue, to) < 0)
	return (0);
    qmgr_control_tell(ctl, id, text, 0);
    return (1);
}

/* qmgr_control_one - apply the request to ID found in QUEUE; 1 if done */

static int qmgr_control_one(QMGR_CONTROL *ctl, const char *id, const char *queue)
{
    const char *req = ctl->request;

    if (strncmp(req, "expire", 6) == 0)
	return (qmgr_control_expire(ctl, id, queue));
    if (strcmp(queue, MAIL_QUEUE_ACTIVE) == 0)
	return (qmgr_control_active(ctl, id));
    if (strcmp(req, "delete") == 0) {
	if (mail_queue_remove(queue, id) < 0)
	    return (0);
	defer_log_remove(MAIL_QUEUE_DEFER, id);
	defer_log_remove(MAIL_QUEUE_BOUNCE, id);
	defer_log_remove(MAIL_QUEUE_TRACE, id);
	qmgr_control_tell(ctl, id, "removed", 0);
	return (1);
    }
    if (strcmp(req, "hold") == 0)
	return (qmgr_control_move(ctl, id, queue, MAIL_QUEUE_HOLD, "placed on hold"));
    if (strcmp(req, "release") == 0)
	return (strcmp(queue, MAIL_QUEUE_HOLD) == 0 && qmgr_control_release(ctl, id));
    if (strcmp(req, "requeue") == 0)
	return (qmgr_control_move(ctl, id, queue, MAIL_QUEUE_INCOMING, "requeued"));
    /* flush_id, flush_site, flush: deferred mail only */
    if (strcmp(queue, MAIL_QUEUE_DEFERRED) != 0)
	return (0);
    if (strcmp(req, "flush_site") == 0 && !qmgr_control_rcpt_site(id, ctl->site))
	return (0);
    return (qmgr_activate(id, MAIL_QUEUE_DEFERRED) == 0);
}

/*
 * qmgr_control_all - apply the request to every message in QUEUE; a file
 * without the complete bit is no message yet (being written, or one of
 * the empty files smtpd keeps ready): ALL passes over it
 */
static void qmgr_control_all(QMGR_CONTROL *ctl, const char *queue)
{
    VSTRING *path = vstring_alloc(100);
    QMGR_IDS ids;
    struct stat st;

    ctl->named = 0;
    qmgr_scan_ids(queue, &ids);
    for (int i = 0; i < ids.count; i++)
	if (qmgr_queue_stat(queue, ids.ids[i], path, &st) == 0
	    && MAIL_QUEUE_READY(&st))
	    ctl->count += qmgr_control_one(ctl, ids.ids[i], queue);
    qmgr_scan_ids_free(&ids);
    vstring_free(path);
}

/* qmgr_control_count - the files in QUEUE (names only: nothing is read) */

static int qmgr_control_count(const char *queue)
{
    MAIL_QUEUE_SCAN *scan = mail_queue_scan_open(queue);
    int     count = 0;

    while (mail_queue_scan_next(scan) != 0)
	count++;
    mail_queue_scan_close(scan);
    return (count);
}

/* qmgr_control_id - apply the request to ID, in the first queue that has it */

static void qmgr_control_id(QMGR_CONTROL *ctl, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;

    ctl->named = 1;
    for (int i = 0; ctl->queues[i]; i++) {
	if (qmgr_queue_stat(ctl->queues[i], id, path, &st) == 0) {
	    ctl->count += qmgr_control_one(ctl, id, ctl->queues[i]);
	    break;
	}
    }
    vstring_free(path);
}

/* qmgr_control_known - NAME is in the null-terminated LIST */

static int qmgr_control_known(const char *name, const char *const *list)
{
    for (int i = 0; name && list[i]; i++)
	if (strcmp(name, list[i]) == 0)
	    return (1);
    return (0);
}

/* qmgr_control_set_queues - the queues to look in; 0 or -1 (WHY) */

static int qmgr_control_set_queues(const ATTR_LIST *list, QMGR_CONTROL *ctl,
				           VSTRING *why)
{
    int     n = 0;

    for (int i = 0; i < list->count; i++) {
	const char *queue = list->values[i];

	if (strcmp(list->names[i], "queue") != 0)
	    continue;
	if (!qmgr_control_known(queue, qmgr_control_queues))
	    return (vstring_sprintf(why, "unknown queue \"%s\"", queue), -1);
	if (!qmgr_control_known(queue, ctl->queues))
	    ctl->queues[n++] = queue;		/* at most four different ones */
    }
    for (int i = 0; n == 0 && qmgr_control_queues[i]; i++)
	ctl->queues[i] = qmgr_control_queues[i];
    return (0);
}

/* qmgr_control_check - a request that may be run; 0 or -1 (WHY) */

static int qmgr_control_check(int fd, const ATTR_LIST *list, QMGR_CONTROL *ctl,
			              VSTRING *why)
{
    static const char *requests[] = {"delete", "hold", "release", "requeue",
	"expire", "expire_release", "flush", "flush_site", "flush_id", 0,
    };

    ctl->request = attr_find(list, "request");
    ctl->site = attr_find(list, "site");
    if (!qmgr_control_known(ctl->request, requests))
	return (vstring_strcpy(why, "unknown request"), -1);
    if (qmgr_control_set_queues(list, ctl, why) < 0)
	return (-1);
    if (strncmp(ctl->request, "flush", 5) != 0 && !qmgr_control_privileged(fd))
	return (vstring_strcpy(why, "permission denied"), -1);
    if (strcmp(ctl->request, "flush_site") == 0 && (ctl->site == 0 || !*ctl->site))
	return (vstring_strcpy(why, "flush_site needs a site"), -1);
    for (int i = 0; i < list->count; i++) {
	const char *id = list->values[i];

	if (strcmp(list->names[i], "queue_id") == 0
	    && strcmp(id, "ALL") != 0 && !mail_queue_id_ok(id))
	    return (vstring_sprintf(why, "bad queue id \"%s\"", id), -1);
    }
    return (0);
}

/* qmgr_control_run - check and perform one request; 0 or -1 (WHY) */

static int qmgr_control_run(int fd, const ATTR_LIST *list, QMGR_CONTROL *ctl,
			            VSTRING *why)
{
    int     ids = 0;

    if (qmgr_control_check(fd, list, ctl, why) < 0)
	return (-1);
    if (strncmp(ctl->request, "flush", 5) == 0)
	qmgr_queue_enable_all();		/* as Postfix's flush: retry dead sites */
    if (strcmp(ctl->request, "flush") == 0) {
	ctl->count = qmgr_control_count(MAIL_QUEUE_DEFERRED);
	qmgr_scan_deferred(1);
	qmgr_scan_incoming();
	return (0);
    }
    if (strcmp(ctl->request, "flush_site") == 0) {
	qmgr_control_all(ctl, MAIL_QUEUE_DEFERRED);
	qmgr_scan_incoming();
	return (0);
    }
    for (int i = 0; i < list->count; i++) {
	const char *id = list->values[i];

	if (strcmp(list->names[i], "queue_id") != 0)
	    continue;
	ids++;
	if (strcmp(id, "ALL") != 0) {
	    qmgr_control_id(ctl, id);
	    continue;
	}
	for (int q = 0; ctl->queues[q]; q++)
	    qmgr_control_all(ctl, ctl->queues[q]);
    }
    if (ids == 0)
	return (vstring_strcpy(why, "no queue_id"), -1);
    if (strcmp(ctl->request, "requeue") == 0)
	qmgr_scan_incoming_later(0);
    else if (strcmp(ctl->request, "release") == 0 || ctl->released > 0)
	qmgr_scan_deferred(0);
    return (0);
}

/* qmgr_control_answer - run a complete request and answer it */

static void qmgr_control_answer(int fd, ATTR_LIST *list, int parsed)
{
    VSTREAM *stream;
    QMGR_CONTROL ctl;
    VSTRING *why = vstring_alloc(100);
    int     status;

    memset(&ctl, 0, sizeof(ctl));
    ctl.done = vstring_alloc(100);
    if (!parsed) {
	vstring_strcpy(why, "bad request");
	status = -1;
    } else {
	status = qmgr_control_run(fd, list, &ctl, why);
	if (status < 0)
	    msg_warn("queue control: request %s refused: %s",
		     ctl.request ? ctl.request : "(none)", STR(why));
	attr_list_free(list);
    }
    stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(stream, QMGR_CONTROL_REPLY_TIMEOUT);
    attr_put_long(stream, "status", status < 0 ? 1 : 0);
    attr_put_long(stream, "count", ctl.count);
    attr_put_long(stream, "released", ctl.released);
    vstream_write(stream, STR(ctl.done), LEN(ctl.done));
    attr_put(stream, "reason", status < 0 ? STR(why) : "");
    attr_end(stream);
    vstream_fdclose(stream);
    vstring_free(ctl.done);
    vstring_free(why);
}

static void qmgr_control_timeout(int event, void *context);

/* qmgr_control_done - forget the client and close its connection */

static void qmgr_control_done(QMGR_CONTROL_CLIENT *client)
{
    event_cancel_timer(qmgr_control_timeout, client);
    event_disable_readwrite(client->fd);
    event_server_disconnect(client->fd);
    vstring_free(client->buf);
    myfree(client);
}

static void qmgr_control_timeout(int event, void *context)
{
    QMGR_CONTROL_CLIENT *client = context;

    msg_warn("queue control: request not complete within %d seconds",
	     QMGR_CONTROL_TIMEOUT);
    event_disable_readwrite(client->fd);
    qmgr_control_answer(client->fd, (ATTR_LIST *) 0, 0);
    qmgr_control_done(client);
}

/* qmgr_control_read - more of the request has arrived (or EOF) */

static void qmgr_control_read(int event, void *context)
{
    QMGR_CONTROL_CLIENT *client = context;
    char    chunk[4096];
    ssize_t n;
    ATTR_LIST list;
    int     status;

    n = read(client->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	msg_warn("queue control: incomplete request");
	qmgr_control_done(client);
	return;
    }
    vstring_memcat(client->buf, chunk, (size_t) n);
    if (LEN(client->buf) > QMGR_CONTROL_MAX) {
	msg_warn("queue control: request longer than %d bytes", QMGR_CONTROL_MAX);
	qmgr_control_done(client);
	return;
    }
    if ((status = attr_scan_list(STR(client->buf), LEN(client->buf), &list)) == 0)
	return;					/* wait for the rest */
    if (status < 0)
	msg_warn("queue control: bad request");
    event_cancel_timer(qmgr_control_timeout, client);
    event_disable_readwrite(client->fd);
    qmgr_control_answer(client->fd, &list, status > 0);
    qmgr_control_done(client);
    qmgr_deliver_pump();
}

void    qmgr_control(int fd)
{
    QMGR_CONTROL_CLIENT *client = (QMGR_CONTROL_CLIENT *) mymalloc(sizeof(*client));

    client->fd = fd;
    client->buf = vstring_alloc(256);
    event_enable_read(fd, qmgr_control_read, client);
    event_request_timer(qmgr_control_timeout, client, QMGR_CONTROL_TIMEOUT * 1000);
}
