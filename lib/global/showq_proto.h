/*
 * showq_proto.h - the queue listing stream from showq to postqueue.
 *
 * showq (libexec/showq on public/showq) writes, for each queued message,
 * one attribute list (attr.h)
 *     type=message, queue_name, queue_id, arrival_time, message_size,
 *     forced_expire (0/1), sender (empty for the null sender)
 * then one list per recipient that is not yet done
 *     type=recipient, address, delay_reason (empty when unknown)
 * and after the last message one list "type=end".  postqueue reads the
 * stream with showq_get_message() until it returns 0 (end) or -1 (broken
 * stream or server gone).
 *
 * showq_scan() builds the listing from the queue itself (current directory
 * = queue_directory): used by the showq daemon, and by postqueue as root
 * or mail_owner when the mail system is down (as Postfix's postqueue runs
 * showq itself then).
 */
#ifndef SHOWQ_PROTO_H
#define SHOWQ_PROTO_H

#include "sys_defs.h"
#include "vstream.h"

typedef struct SHOWQ_RCPT {
    char   *address;
    char   *reason;			/* "" when unknown */
} SHOWQ_RCPT;

typedef struct SHOWQ_MSG {
    char   *queue_name;
    char   *queue_id;
    long    arrival_time;
    long    message_size;
    int     forced_expire;
    char   *sender;			/* "" for the null sender */
    SHOWQ_RCPT *rcpts;
    int     rcpt_count;
    int     rcpt_size;
} SHOWQ_MSG;

/* showq_msg_init/showq_msg_add_rcpt/showq_msg_free - build and release */
void	showq_msg_init(SHOWQ_MSG *msg, const char *queue_name, const char *queue_id,
		               long arrival_time, long message_size, const char *sender);
void	showq_msg_add_rcpt(SHOWQ_MSG *msg, const char *address, const char *reason);
void	showq_msg_free(SHOWQ_MSG *msg);

/*
 * showq_put_message - write MSG and its recipients, buffered (no flush
 * of its own); 0 or -1 (write error)
 */
int	showq_put_message(VSTREAM *stream, const SHOWQ_MSG *msg);
/* showq_put_end - write the end marker and flush; 0 or -1 */
int	showq_put_end(VSTREAM *stream);

/* showq_get_message - 1 with MSG filled (free with showq_msg_free), 0 at the end, -1 error */
int	showq_get_message(VSTREAM *stream, SHOWQ_MSG *msg);

/*
 * showq_scan - call FN(msg, ctx) for every complete queue file in
 * incoming, active, deferred, hold (directory order within each), with the
 * recipients not yet done and their delay reasons from defer/ID.  Stops
 * when FN returns nonzero and returns that value, else 0.
 */
typedef int (*SHOWQ_SCAN_FN) (const SHOWQ_MSG *msg, void *ctx);
int	showq_scan(SHOWQ_SCAN_FN fn, void *ctx);

#endif
