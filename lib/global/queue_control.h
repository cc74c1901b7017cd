/*
 * queue_control.h - client side of the qmgr queue-control protocol.
 *
 * Used by postqueue (-f, -s, -i) and postsuper (-d, -h, -H, -r).  See
 * mail_proto.h for the protocol: QMGR_REQ_CONTROL on public/qmgr, one
 * attribute list (request, queue_id..., queue, site), one reply list
 * (status, count, reason).
 */
#ifndef QUEUE_CONTROL_H
#define QUEUE_CONTROL_H

#include "sys_defs.h"
#include "vstring.h"

#define QUEUE_CONTROL_OK	0	/* qmgr did it; COUNT is valid */
#define QUEUE_CONTROL_REFUSED	1	/* qmgr answered with a failure (REASON) */
#define QUEUE_CONTROL_DOWN	(-1)	/* cannot connect: qmgr is not running */
#define QUEUE_CONTROL_NOREPLY	(-2)	/* connected, but no (valid) reply */

/*
 * queue_control - send REQUEST with NIDS queue ids (may be 0), optional
 * QUEUE and SITE (NULL: none).  COUNT and REASON receive the reply.
 */
int	queue_control(const char *request, char **ids, int nids, const char *queue,
		              const char *site, long *count, VSTRING *reason);

#endif
