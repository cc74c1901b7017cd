/*
 * showq_proto.c - write and read the showq queue listing stream.
 *
 * See showq_proto.h for the record layout.  The writer flushes only at
 * the end (and when its buffer is full): the caller flushes when it wants
 * a message on its way at once.  The reader keeps one list of
 * look-ahead: a "recipient" list belongs to the message before it, so the
 * next "message" or "end" list ends the current message.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "attr.h"
#include "showq_proto.h"

#define SHOWQ_TYPE_MESSAGE	"message"
#define SHOWQ_TYPE_RECIPIENT	"recipient"
#define SHOWQ_TYPE_END		"end"

/* showq_msg_init - empty message with its properties */

void    showq_msg_init(SHOWQ_MSG *msg, const char *queue_name, const char *queue_id,
		               long arrival_time, long message_size, const char *sender)
{
    memset(msg, 0, sizeof(*msg));
    msg->queue_name = mystrdup(queue_name);
    msg->queue_id = mystrdup(queue_id);
    msg->arrival_time = arrival_time;
    msg->message_size = message_size;
    msg->sender = mystrdup(sender);
}

/* showq_msg_add_rcpt - append one recipient (REASON may be NULL) */

void    showq_msg_add_rcpt(SHOWQ_MSG *msg, const char *address, const char *reason)
{
    if (msg->rcpt_count == msg->rcpt_size) {
	msg->rcpt_size = msg->rcpt_size ? 2 * msg->rcpt_size : 8;
	msg->rcpts = (SHOWQ_RCPT *) myrealloc(msg->rcpts,
					   msg->rcpt_size * sizeof(SHOWQ_RCPT));
    }
    msg->rcpts[msg->rcpt_count].address = mystrdup(address);
    msg->rcpts[msg->rcpt_count].reason = mystrdup(reason ? reason : "");
    msg->rcpt_count++;
}

void    showq_msg_free(SHOWQ_MSG *msg)
{
    for (int i = 0; i < msg->rcpt_count; i++) {
	myfree(msg->rcpts[i].address);
	myfree(msg->rcpts[i].reason);
    }
    if (msg->rcpts)
	myfree(msg->rcpts);
    if (msg->queue_name)
	myfree(msg->queue_name);
    if (msg->queue_id)
	myfree(msg->queue_id);
    if (msg->sender)
	myfree(msg->sender);
    memset(msg, 0, sizeof(*msg));
}

/*
 * showq_list_end - end one list without a flush: a listing of 200,000
 * messages goes out in full buffers, not in a write per list
 */
static int showq_list_end(VSTREAM *stream)
{
    vstream_putc('\n', stream);
    return (vstream_error(stream) ? -1 : 0);
}

/* showq_put_message - one message list plus one list per recipient */

int     showq_put_message(VSTREAM *stream, const SHOWQ_MSG *msg)
{
    attr_put(stream, "type", SHOWQ_TYPE_MESSAGE);
    attr_put(stream, "queue_name", msg->queue_name);
    attr_put(stream, "queue_id", msg->queue_id);
    attr_put_long(stream, "arrival_time", msg->arrival_time);
    attr_put_long(stream, "message_size", msg->message_size);
    attr_put_long(stream, "forced_expire", msg->forced_expire);
    attr_put(stream, "sender", msg->sender);
    if (showq_list_end(stream) < 0)
	return (-1);
    for (int i = 0; i < msg->rcpt_count; i++) {
	attr_put(stream, "type", SHOWQ_TYPE_RECIPIENT);
	attr_put(stream, "address", msg->rcpts[i].address);
	attr_put(stream, "delay_reason", msg->rcpts[i].reason);
	if (showq_list_end(stream) < 0)
	    return (-1);
    }
    return (0);
}

int     showq_put_end(VSTREAM *stream)
{
    attr_put(stream, "type", SHOWQ_TYPE_END);
    return (attr_end(stream));
}

/* showq_peek - the look-ahead list of STREAM (one reader at a time) */

static ATTR_LIST showq_ahead;
static int showq_have_ahead;

static int showq_next(VSTREAM *stream)
{
    if (showq_have_ahead)
	return (0);
    if (attr_get_list(stream, &showq_ahead) < 0)
	return (-1);
    showq_have_ahead = 1;
    return (0);
}

static void showq_consume(void)
{
    attr_list_free(&showq_ahead);
    showq_have_ahead = 0;
}

/* showq_get_message - read one message and its recipients */

int     showq_get_message(VSTREAM *stream, SHOWQ_MSG *msg)
{
    const char *type;
    const char *name, *id, *sender;

    memset(msg, 0, sizeof(*msg));
    if (showq_next(stream) < 0)
	return (-1);
    if ((type = attr_find(&showq_ahead, "type")) == 0)
	type = "";
    if (strcmp(type, SHOWQ_TYPE_END) == 0) {
	showq_consume();
	return (0);
    }
    if (strcmp(type, SHOWQ_TYPE_MESSAGE) != 0
	|| (name = attr_find(&showq_ahead, "queue_name")) == 0
	|| (id = attr_find(&showq_ahead, "queue_id")) == 0
	|| (sender = attr_find(&showq_ahead, "sender")) == 0) {
	msg_warn("malformed showq record (type \"%s\")", type);
	showq_consume();
	return (-1);
    }
    showq_msg_init(msg, name, id, attr_find_long(&showq_ahead, "arrival_time", 0),
		   attr_find_long(&showq_ahead, "message_size", 0), sender);
    msg->forced_expire = attr_find_long(&showq_ahead, "forced_expire", 0) != 0;
    showq_consume();
    for (;;) {
	const char *addr;

	if (showq_next(stream) < 0) {
	    showq_msg_free(msg);
	    return (-1);
	}
	type = attr_find(&showq_ahead, "type");
	if (type == 0 || strcmp(type, SHOWQ_TYPE_RECIPIENT) != 0)
	    return (1);				/* keep it for the next call */
	if ((addr = attr_find(&showq_ahead, "address")) == 0) {
	    msg_warn("malformed showq recipient record");
	    showq_consume();
	    showq_msg_free(msg);
	    return (-1);
	}
	showq_msg_add_rcpt(msg, addr, attr_find(&showq_ahead, "delay_reason"));
	showq_consume();
    }
}
