/*
 * postsuper_op.c - one postsuper step through qmgr (queue_control.h).
 *
 * ps_step_run() sends the step's request with its ids (or ALL) and the
 * queues qmgr knows among those given.  qmgr changes its files, logs
 * each message, and answers with a "done" line per message named by its
 * id, which goes to the terminal only ("postsuper: ID: removed"; qmgr
 * logged it already).  Once qmgr is found not running, this and every
 * later step is done on the files (postsuper_direct.c).  maildrop/ is not
 * qmgr's: -d also deletes there itself, as Postfix's does, the named ids
 * that qmgr did not find, or every file for ALL (postsuper_direct.c).
 */
#include "sys_defs.h"
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "htable.h"
#include "mail_queue.h"
#include "queue_control.h"
#include "postsuper.h"

static const char *ps_qmgr_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, 0,
};

static int ps_qmgr_down;		/* qmgr did not answer: files directly */

/* The "done" lines of one step */
typedef struct PS_DONE {
    HTABLE *found;			/* the step's ids; value 1: qmgr found it */
} PS_DONE;

/* ps_done - one "ID: text" line from qmgr: to the terminal, not the log */

static void ps_done(const char *line, void *context)
{
    PS_DONE *done = (PS_DONE *) context;
    VSTREAM *err = vstream_stderr();
    HTABLE_INFO *info;

    if (done->found && (info = htable_locate_len(done->found, line,
						 strcspn(line, ":"))) != 0)
	info->value = (void *) 1;
    vstream_fprintf(err, "%s: %s\n", msg_progname(), line);
    vstream_flush(err);
}

/*
 * ps_request_queues - the queues of QUEUES (NULL: all) that qmgr keeps,
 * into OUT (NULL when all); the number of them, or -1 for all
 */
static int ps_request_queues(const char *const *queues, const char **out)
{
    int     n = 0;

    if (queues == 0) {
	out[0] = 0;
	return (-1);
    }
    for (int i = 0; ps_qmgr_queues[i]; i++)
	if (ps_in_list(ps_qmgr_queues[i], queues))
	    out[n++] = ps_qmgr_queues[i];
    out[n] = 0;
    return (n);
}

/* ps_count - the reply's counts for the step's operation */

static void ps_count(int letter, const QUEUE_CONTROL_REPLY *reply, PS_COUNTS *counts)
{
    switch (letter) {
    case 'd':
	counts->deleted += reply->count;
	break;
    case 'e':
	counts->expired += reply->count;
	break;
    case 'f':
	counts->expired += reply->count;
	counts->released += reply->released;
	break;
    case 'h':
	counts->held += reply->count;
	break;
    case 'H':
	counts->released += reply->count;
	break;
    default:
	counts->requeued += reply->count;
	break;
    }
}

/* ps_control - STEP through qmgr; 0, or -1 when qmgr does not answer */

static int ps_control(const PS_STEP *step, const char *const *queues,
		              PS_COUNTS *counts, PS_DONE *done)
{
    const char *req_queues[PS_MAX_QUEUES + 1];
    char   *all[1] = {(char *) "ALL"};
    QUEUE_CONTROL_REPLY reply;
    int     status;

    if (ps_request_queues(queues, req_queues) == 0 || (!step->all && step->id_count == 0))
	return (0);				/* nothing for qmgr */
    memset(&reply, 0, sizeof(reply));
    reply.reason = vstring_alloc(100);
    reply.done = ps_done;
    reply.context = (void *) done;
    status = queue_control(step->op->request, step->all ? all : step->ids,
			   step->all ? 1 : step->id_count,
			   req_queues[0] ? req_queues : 0, 0, &reply);
    ps_count(step->op->letter, &reply, counts);
    if (status == QUEUE_CONTROL_REFUSED)
	msg_fatal("%s: %s", step->op->request, STR(reply.reason));
    if (status != QUEUE_CONTROL_OK && msg_verbose)
	msg_info("%s; working on the queue files directly", STR(reply.reason));
    vstring_free(reply.reason);
    return (status == QUEUE_CONTROL_OK ? 0 : -1);
}

/* ps_maildrop - -d in maildrop/: ALL, or the ids that qmgr did not find */

static void ps_maildrop(const PS_STEP *step, HTABLE *found, PS_COUNTS *counts)
{
    if (step->all) {
	counts->deleted += ps_direct_maildrop((const char *) 0);
	return;
    }
    for (int i = 0; i < step->id_count; i++)
	if (htable_locate(found, step->ids[i])->value == 0)
	    counts->deleted += ps_direct_maildrop(step->ids[i]);
}

void    ps_step_run(const PS_STEP *step, const char *const *queues, PS_COUNTS *counts)
{
    int     in_maildrop = step->op->letter == 'd'
    && (queues == 0 || ps_in_list(MAIL_QUEUE_MAILDROP, queues));
    PS_DONE done;

    done.found = 0;
    if (in_maildrop && !step->all) {
	done.found = htable_create(step->id_count + 1);
	for (int i = 0; i < step->id_count; i++)
	    htable_enter(done.found, step->ids[i], (void *) 0);
    }
    if (!ps_qmgr_down && ps_control(step, queues, counts, &done) < 0)
	ps_qmgr_down = 1;
    if (ps_qmgr_down)
	ps_direct_run(step, queues, counts);	/* maildrop/ included */
    else if (in_maildrop)
	ps_maildrop(step, done.found, counts);
    if (done.found)
	htable_free(done.found);
}
