/*
 * qmgr_message.c - active messages: routing recipients, collecting answers.
 *
 * qmgr_message_create() keeps an envelope in memory; qmgr_message_route()
 * decides each not-done recipient's transport: local (mydestination, no
 * domain) and virtual (virtual_mailbox_domains) go to the local agent in
 * jobs of local_destination_recipient_limit recipients; anything else is
 * deferred ("mail transport unavailable") until an SMTP client exists.
 * qmgr_message_result() records one answer; when the last one arrives the
 * file is removed (all done) or deferred with back-off (qmgr_defer.c).
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "clock.h"
#include "address.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "qmgr.h"

int     qmgr_message_count;
static QMGR_MESSAGE *qmgr_messages;	/* list of active messages */
static int qmgr_routing;		/* a message is being routed: no finishing */

QMGR_MESSAGE *qmgr_message_create(const char *id, QENV *env)
{
    QMGR_MESSAGE *message = mycalloc(1, sizeof(*message));

    message->id = mystrdup(id);
    message->env = *env;			/* takes over the envelope */
    message->stats.arrival = env->arrival;
    clock_gettimeofday(&message->stats.active);
    message->rcpt_status = mymalloc((size_t) env->rcpt_count * sizeof(int));
    for (int i = 0; i < env->rcpt_count; i++)
	message->rcpt_status[i] = env->rcpts[i].done ? QMGR_RCPT_SKIP : QMGR_RCPT_PENDING;
    message->next = qmgr_messages;
    if (qmgr_messages)
	qmgr_messages->prev = message;
    qmgr_messages = message;
    qmgr_message_count++;
    return (message);
}

static void qmgr_message_free(QMGR_MESSAGE *message)
{
    if (message->prev)
	message->prev->next = message->next;
    else
	qmgr_messages = message->next;
    if (message->next)
	message->next->prev = message->prev;
    qmgr_message_count--;
    qenv_free(&message->env);
    myfree(message->rcpt_status);
    myfree(message->id);
    myfree(message);
}

int     qmgr_message_active(const char *id)
{
    for (QMGR_MESSAGE *message = qmgr_messages; message; message = message->next)
	if (strcmp(message->id, id) == 0)
	    return (1);
    return (0);
}

/* qmgr_message_finish - every recipient has an answer */

static void qmgr_message_finish(QMGR_MESSAGE *message)
{
    if (message->deferred > 0) {
	qmgr_defer_message(message);
    } else if (mail_queue_remove(MAIL_QUEUE_ACTIVE, message->id) < 0) {
	msg_warn("%s: remove from %s: %m", message->id, MAIL_QUEUE_ACTIVE);
    } else {
	msg_info("%s: removed", message->id);
    }
    qmgr_message_free(message);
    qmgr_scan_room();
}

void    qmgr_message_result(QMGR_MESSAGE *message, int index, int status)
{
    if (index < 0 || index >= message->env.rcpt_count
	|| message->rcpt_status[index] != QMGR_RCPT_PENDING)
	msg_panic("%s: bad result for recipient %d", message->id, index);
    message->rcpt_status[index] = status;
    if (status == DELIVER_STAT_DEFER)
	message->deferred++;
    message->unanswered--;
    if (message->unanswered == 0 && !qmgr_routing)
	qmgr_message_finish(message);
}

/* qmgr_job_limit - recipients per local delivery request */

static int qmgr_job_limit(void)
{
    int     limit = conf_int("local_destination_recipient_limit");

    return (limit > DELIVER_MAX_RCPT ? DELIVER_MAX_RCPT : limit < 1 ? 1 : limit);
}

void    qmgr_message_route(QMGR_MESSAGE *message)
{
    QENV   *env = &message->env;
    QMGR_JOB *job = 0;
    int     limit = qmgr_job_limit();

    for (int i = 0; i < env->rcpt_count; i++)
	if (message->rcpt_status[i] == QMGR_RCPT_PENDING)
	    message->unanswered++;
    qmgr_routing = 1;
    for (int i = 0; i < env->rcpt_count; i++) {
	const char *domain;
	int     class;

	if (message->rcpt_status[i] != QMGR_RCPT_PENDING)
	    continue;
	domain = addr_domain(env->rcpts[i].address);
	class = deliver_domain_class(domain ? domain : "");
	if (class == DELIVER_CLASS_ERROR) {
	    qmgr_defer_rcpt(message, i, "none", "4.3.0", "table lookup failure");
	} else if (class == DELIVER_CLASS_RELAY) {
	    qmgr_defer_rcpt(message, i, "none", "4.3.0", "mail transport unavailable");
	} else {
	    if (job == 0) {
		job = mycalloc(1, sizeof(*job));
		job->message = message;
	    }
	    job->rcpt_index[job->rcpt_count++] = i;
	    if (job->rcpt_count >= limit) {
		qmgr_deliver_add(job);
		job = 0;
	    }
	}
    }
    if (job)
	qmgr_deliver_add(job);
    qmgr_routing = 0;
    if (message->unanswered == 0)
	qmgr_message_finish(message);
}
