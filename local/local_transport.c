/*
 * local_transport.c - a mailbox delivery handed to another transport, as
 * Postfix's local(8) does for mailbox_transport and fallback_transport.
 *
 * local_transport(d, addr, "lmtp:unix:/run/dovecot/lmtp") connects to
 * private/lmtp (the master.cf service named before the colon), sends one
 * delivery request (lib/global/deliver_request.h) and waits for its one
 * reply.  The request is local's own (queue file, sender, DSN envelope
 * fields, time stamps), with the next hop of the value (after the colon;
 * none: local's own next hop) and one recipient: ADDR (after alias
 * expansion), its original recipient, its NOTIFY/ORCPT and its record's
 * offset.  The request is marked "passed": the other agent neither
 * checks nor marks the queue file record, since local marks the
 * recipient once all of its destinations are done (what Postfix's
 * deliver_pass() says with a recipient offset of -1).
 *
 * The other agent logs the destination itself (lmtp: "relay=host[path]"),
 * so its outcome is recorded with local_leaf_passed() and not logged
 * again; its DSN success action ("relayed", "delivered", or none when the
 * next hop took NOTIFY) becomes the recipient's.  When the agent cannot
 * be reached, or its reply is lost, local defers the destination and logs
 * it, with Postfix's texts ("mail transport unavailable", "unknown mail
 * transport error").  A transport that names local's own service would
 * loop, and is deferred as a configuration error.
 *
 * Parameters: ipc_timeout (the values come from local_expand.c).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_server.h"
#include "resolve.h"
#include "local.h"

#define LOCAL_TRANSPORT_CONNECT	10	/* seconds to reach the agent */

/* local_transport_request - the request for ADDR, next hop NEXTHOP */

static void local_transport_request(LOCAL_DELIVERY *d, const char *addr,
				            const char *nexthop, DELIVER_REQUEST *req,
				            DELIVER_RCPT *rcpt)
{
    const DELIVER_RCPT *orig = d->rcpt;

    *req = *d->state->req;
    req->nexthop = (char *) (*nexthop ? nexthop : d->state->req->nexthop);
    req->passed = 1;
    req->rcpt_count = 1;
    req->rcpts = rcpt;
    memset(rcpt, 0, sizeof(*rcpt));
    rcpt->address = (char *) addr;
    rcpt->orig = *orig->orig ? orig->orig : orig->address;
    rcpt->offset = orig->offset;
    rcpt->dsn_notify = orig->dsn_notify;
    rcpt->dsn_orcpt = orig->dsn_orcpt;
}

/* local_transport_call - one request, one reply; 0, or -1 with WHY */

static int local_transport_call(const char *service, DELIVER_REQUEST *req,
				        DELIVER_REPLY *reply, VSTRING *why)
{
    char    path[100];
    VSTREAM *stream;
    int     fd, ret = -1;

    mail_socket_path(path, sizeof(path), MAIL_CLASS_PRIVATE, service);
    if ((fd = unix_connect(path, LOCAL_TRANSPORT_CONNECT)) < 0) {
	msg_warn("%s: connect to transport %s: %s", req->queue_id, path,
		 strerror(errno));
	vstring_strcpy(why, "mail transport unavailable");
	return (-1);
    }
    close_on_exec(fd, 1);
    stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(stream, conf_time("ipc_timeout"));
    if (deliver_request_put(stream, req) < 0) {
	msg_warn("%s: cannot send request to %s", req->queue_id, path);
	vstring_strcpy(why, "mail transport unavailable");
    } else if (deliver_reply_get(stream, reply) < 0) {
	msg_warn("%s: no reply from %s", req->queue_id, path);
	vstring_strcpy(why, "unknown mail transport error");
    } else {
	ret = 0;
    }
    vstream_close(stream);
    return (ret);
}

/* local_transport_split - VALUE into TRANSPORT and NEXTHOP; 0 or -1 */

static int local_transport_split(const char *value, VSTRING *transport,
				         VSTRING *nexthop)
{
    const char *colon = strchr(value, ':');

    vstring_strncpy(transport, value, colon ? (size_t) (colon - value) : strlen(value));
    vstring_strcpy(nexthop, colon ? colon + 1 : "");
    return (resolve_transport_name_ok(STR(transport))
	    && strcmp(STR(transport), mail_server_service()) != 0 ? 0 : -1);
}

void    local_transport(LOCAL_DELIVERY *d, const char *addr, const char *value)
{
    VSTRING *transport = vstring_alloc(30);
    VSTRING *nexthop = vstring_alloc(100);
    DELIVER_REQUEST req;
    DELIVER_RCPT rcpt;
    DELIVER_REPLY reply;
    LOCAL_RESULT res;

    res.reason = vstring_alloc(100);
    if (local_transport_split(value, transport, nexthop) < 0) {
	msg_warn("bad mailbox transport \"%s\" for %s", value, addr);
	local_leaf(d, addr, DELIVER_STAT_DEFER, "4.3.5",
		   "mail system configuration error");
    } else {
	local_transport_request(d, addr, STR(nexthop), &req, &rcpt);
	if (local_transport_call(STR(transport), &req, &reply, res.reason) < 0) {
	    local_leaf(d, addr, DELIVER_STAT_DEFER, "4.3.0", "%s", STR(res.reason));
	} else {
	    res.status = reply.status;
	    res.dsn = reply.dsn;
	    vstring_strcpy(res.reason, reply.reason);
	    local_leaf_passed(d, addr, &res);
	    d->passed = 1;
	    d->passed_action = !reply.action ? 0 :
		strcmp(reply.action, "relayed") == 0 ? "relayed" : "delivered";
	    deliver_reply_free(&reply);
	}
    }
    vstring_free(res.reason);
    vstring_free(transport);
    vstring_free(nexthop);
}
