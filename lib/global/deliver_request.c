/*
 * deliver_request.c - the delivery request protocol (see deliver_request.h).
 *
 * Request attributes (mail_proto.h): queue_name, queue_id, offset, size,
 * sender, arrival, nrcpt, rcpt_<i>, orcpt_<i>, rcpt_offset_<i>; plus
 * arrival_usec, active_time and handoff_time ("sec.usec") for the delays=
 * log field, passed=1 for a request one agent hands to another
 * (deliver_request.h), and flags=N (DELIVER_FLAG_*, unknown bits
 * dropped) when not 0.  Reply attributes: status, dsn, reason; optional
 * action (delivered/relayed) and site_fail=1 (a deferral because the
 * next hop as a whole failed; qmgr ignores it on other statuses).
 * The server side checks every field, since a delivery agent may run as
 * root and must not trust a malformed request.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "attr.h"
#include "clock.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "deliver_request.h"

/* put_time - one "sec.usec" attribute */

static void put_time(VSTREAM *stream, const char *name, const struct timeval *tv)
{
    attr_putf(stream, name, "%ld.%06ld", (long) tv->tv_sec, (long) tv->tv_usec);
}

/* deliver_request_put - client side: send one request */

int     deliver_request_put(VSTREAM *stream, const DELIVER_REQUEST *req)
{
    VSTRING *name = vstring_alloc(30);

    attr_put(stream, "queue_name", req->queue_name);
    attr_put(stream, "queue_id", req->queue_id);
    attr_put_long(stream, "offset", req->content_offset);
    attr_put_long(stream, "size", req->content_size);
    attr_put(stream, "sender", req->sender);
    attr_put(stream, "nexthop", req->nexthop ? req->nexthop : "");
    attr_put(stream, "dsn_envid", req->dsn_envid ? req->dsn_envid : "");
    attr_put(stream, "dsn_ret", req->dsn_ret ? req->dsn_ret : "");
    attr_put_long(stream, "smtputf8", req->smtputf8 != 0);
    if (req->passed)
	attr_put_long(stream, "passed", 1);
    if (req->flags)
	attr_put_long(stream, "flags", req->flags);
    attr_put_long(stream, "arrival", (long) req->stats.arrival.tv_sec);
    attr_put_long(stream, "arrival_usec", (long) req->stats.arrival.tv_usec);
    put_time(stream, "active_time", &req->stats.active);
    put_time(stream, "handoff_time", &req->stats.handoff);
    attr_put_long(stream, "nrcpt", req->rcpt_count);
    for (int i = 0; i < req->rcpt_count; i++) {
	vstring_sprintf(name, "rcpt_%d", i);
	attr_put(stream, STR(name), req->rcpts[i].address);
	vstring_sprintf(name, "orcpt_%d", i);
	attr_put(stream, STR(name), req->rcpts[i].orig);
	vstring_sprintf(name, "rcpt_offset_%d", i);
	attr_put_long(stream, STR(name), req->rcpts[i].offset);
	if (req->rcpts[i].dsn_notify && *req->rcpts[i].dsn_notify) {
	    vstring_sprintf(name, "dsn_notify_%d", i);
	    attr_put(stream, STR(name), req->rcpts[i].dsn_notify);
	}
	if (req->rcpts[i].dsn_orcpt && *req->rcpts[i].dsn_orcpt) {
	    vstring_sprintf(name, "dsn_orcpt_%d", i);
	    attr_put(stream, STR(name), req->rcpts[i].dsn_orcpt);
	}
    }
    vstring_free(name);
    return (attr_end(stream));
}

/* deliver_reply_get - client side: read one recipient's answer */

int     deliver_reply_get(VSTREAM *stream, DELIVER_REPLY *reply)
{
    ATTR_LIST list;
    const char *dsn;
    const char *reason;
    const char *action;
    long    status;

    reply->dsn = reply->reason = reply->action = 0;
    reply->site_fail = 0;
    if (attr_get_list(stream, &list) < 0)
	return (-1);
    status = attr_find_long(&list, "status", -1);
    dsn = attr_find(&list, "dsn");
    reason = attr_find(&list, "reason");
    if ((status != DELIVER_STAT_OK && status != DELIVER_STAT_DEFER
	 && status != DELIVER_STAT_BOUNCE) || dsn == 0 || reason == 0) {
	msg_warn("malformed reply from delivery agent");
	attr_list_free(&list);
	return (-1);
    }
    reply->status = (int) status;
    reply->dsn = mystrdup(dsn);
    reply->reason = mystrdup(reason);
    if ((action = attr_find(&list, "action")) != 0
	&& (strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0))
	reply->action = mystrdup(action);
    reply->site_fail = (status == DELIVER_STAT_DEFER
			&& attr_find_long(&list, "site_fail", 0) == 1);
    attr_list_free(&list);
    return (0);
}

void    deliver_reply_free(DELIVER_REPLY *reply)
{
    if (reply->dsn)
	myfree(reply->dsn);
    if (reply->reason)
	myfree(reply->reason);
    if (reply->action)
	myfree(reply->action);
    reply->dsn = reply->reason = reply->action = 0;
}

/* get_long - a required non-negative number attribute */

static int get_long(const ATTR_LIST *list, const char *name, long *value, VSTRING *why)
{
    const char *text = attr_find(list, name);
    char   *end;

    if (text == 0 || !isdigit((unsigned char) *text)) {
	vstring_sprintf(why, "missing or bad attribute %s", name);
	return (-1);
    }
    errno = 0;
    *value = strtol(text, &end, 10);
    if (*end != 0 || errno == ERANGE || *value < 0) {
	vstring_sprintf(why, "bad number in attribute %s", name);
	return (-1);
    }
    return (0);
}

/* get_time - an optional "sec.usec" attribute; zero when absent or bad */

static void get_time(const ATTR_LIST *list, const char *name, struct timeval *tv)
{
    const char *text = attr_find(list, name);
    long    sec = 0, usec = 0;

    tv->tv_sec = tv->tv_usec = 0;
    if (text && sscanf(text, "%ld.%ld", &sec, &usec) == 2
	&& sec >= 0 && usec >= 0 && usec < 1000000) {
	tv->tv_sec = sec;
	tv->tv_usec = usec;
    }
}

/* get_string - a required string attribute, copied */

static char *get_string(const ATTR_LIST *list, const char *name, VSTRING *why)
{
    const char *text = attr_find(list, name);

    if (text == 0) {
	vstring_sprintf(why, "missing attribute %s", name);
	return (0);
    }
    return (mystrdup(text));
}

/* get_optional - an optional string attribute, copied ("" if absent) */

static char *get_optional(const ATTR_LIST *list, const char *name)
{
    const char *text = attr_find(list, name);

    return (mystrdup(text ? text : ""));
}

/* queue_name_ok - a plain lower-case queue name, no path tricks */

static int queue_name_ok(const char *name)
{
    if (*name == 0 || strlen(name) > 20)
	return (0);
    for (const char *cp = name; *cp; cp++)
	if (!islower((unsigned char) *cp))
	    return (0);
    return (1);
}

/* get_rcpts - the recipient attributes */

static int get_rcpts(const ATTR_LIST *list, DELIVER_REQUEST *req, VSTRING *why)
{
    VSTRING *name = vstring_alloc(30);
    long    count;
    int     ret = 0;

    if (get_long(list, "nrcpt", &count, why) < 0)
	count = -1;
    else if (count < 1 || count > DELIVER_MAX_RCPT) {
	vstring_sprintf(why, "bad recipient count %ld", count);
	count = -1;
    }
    if (count < 0) {
	vstring_free(name);
	return (-1);
    }
    req->rcpts = mycalloc((size_t) count, sizeof(*req->rcpts));
    for (int i = 0; i < count && ret == 0; i++) {
	DELIVER_RCPT *rcpt = req->rcpts + i;

	req->rcpt_count = i + 1;
	vstring_sprintf(name, "rcpt_%d", i);
	if ((rcpt->address = get_string(list, STR(name), why)) == 0)
	    ret = -1;
	vstring_sprintf(name, "orcpt_%d", i);
	if (ret == 0 && (rcpt->orig = get_string(list, STR(name), why)) == 0)
	    ret = -1;
	vstring_sprintf(name, "rcpt_offset_%d", i);
	if (ret == 0 && get_long(list, STR(name), &rcpt->offset, why) < 0)
	    ret = -1;
	vstring_sprintf(name, "dsn_notify_%d", i);
	rcpt->dsn_notify = get_optional(list, STR(name));
	vstring_sprintf(name, "dsn_orcpt_%d", i);
	rcpt->dsn_orcpt = get_optional(list, STR(name));
    }
    vstring_free(name);
    return (ret);
}

/* deliver_request_get - server side: read and check one request */

int     deliver_request_get(VSTREAM *stream, DELIVER_REQUEST *req, VSTRING *why)
{
    ATTR_LIST list;
    long    arrival, arrival_usec;
    int     ret = -1;

    memset(req, 0, sizeof(*req));
    if (attr_get_list(stream, &list) < 0) {
	vstring_strcpy(why, vstream_timedout(stream) ? "timeout reading request"
		       : "cannot read request");
	return (-1);
    }
    if ((req->queue_name = get_string(&list, "queue_name", why)) == 0
	|| (req->queue_id = get_string(&list, "queue_id", why)) == 0
	|| (req->sender = get_string(&list, "sender", why)) == 0
	|| get_long(&list, "offset", &req->content_offset, why) < 0
	|| get_long(&list, "size", &req->content_size, why) < 0
	|| get_long(&list, "arrival", &arrival, why) < 0
	|| get_rcpts(&list, req, why) < 0) {
	/* why is set */
    } else if (!queue_name_ok(req->queue_name)) {
	vstring_sprintf(why, "bad queue name");
    } else if (!mail_queue_id_ok(req->queue_id)) {
	vstring_sprintf(why, "bad queue id");
    } else {
	arrival_usec = attr_find_long(&list, "arrival_usec", 0);
	req->stats.arrival.tv_sec = arrival;
	req->stats.arrival.tv_usec =
	    (arrival_usec >= 0 && arrival_usec < 1000000) ? arrival_usec : 0;
	get_time(&list, "active_time", &req->stats.active);
	get_time(&list, "handoff_time", &req->stats.handoff);
	req->nexthop = get_optional(&list, "nexthop");
	req->dsn_envid = get_optional(&list, "dsn_envid");
	req->dsn_ret = get_optional(&list, "dsn_ret");
	req->smtputf8 = (attr_find_long(&list, "smtputf8", 0) == 1);
	req->passed = (attr_find_long(&list, "passed", 0) == 1);
	req->flags = (int) (attr_find_long(&list, "flags", 0) & DELIVER_FLAG_CONN_STORE);
	ret = 0;
    }
    attr_list_free(&list);
    if (ret < 0)
	deliver_request_free(req);
    return (ret);
}

void    deliver_request_free(DELIVER_REQUEST *req)
{
    for (int i = 0; i < req->rcpt_count; i++) {
	if (req->rcpts[i].address)
	    myfree(req->rcpts[i].address);
	if (req->rcpts[i].orig)
	    myfree(req->rcpts[i].orig);
	if (req->rcpts[i].dsn_notify)
	    myfree(req->rcpts[i].dsn_notify);
	if (req->rcpts[i].dsn_orcpt)
	    myfree(req->rcpts[i].dsn_orcpt);
    }
    if (req->rcpts)
	myfree(req->rcpts);
    if (req->queue_name)
	myfree(req->queue_name);
    if (req->queue_id)
	myfree(req->queue_id);
    if (req->sender)
	myfree(req->sender);
    if (req->nexthop)
	myfree(req->nexthop);
    if (req->dsn_envid)
	myfree(req->dsn_envid);
    if (req->dsn_ret)
	myfree(req->dsn_ret);
    memset(req, 0, sizeof(*req));
}

/* deliver_reply_put - server side: answer one recipient */

int     deliver_reply_put(VSTREAM *stream, int status, const char *dsn,
			          const char *reason, const char *action)
{
    return (deliver_reply_put_flags(stream, status, dsn, reason, action, 0));
}

/* deliver_reply_put_flags - the same, with DELIVER_REPLY_* flags */

int     deliver_reply_put_flags(VSTREAM *stream, int status, const char *dsn,
			          const char *reason, const char *action, int flags)
{
    attr_put_long(stream, "status", status);
    attr_put(stream, "dsn", dsn);
    attr_put(stream, "reason", reason);
    if (action)
	attr_put(stream, "action", action);
    if ((flags & DELIVER_REPLY_SITE_FAIL) && status == DELIVER_STAT_DEFER)
	attr_put_long(stream, "site_fail", 1);
    return (attr_end(stream));
}

/* deliver_format_delay - Postfix's format: 2 digits, 10ms resolution */

void    deliver_format_delay(VSTRING *buf, long sec, long usec)
{
    double  value;

    if (sec < 0 || (sec == 0 && usec < 0))
	sec = usec = 0;
    value = (double) sec + (double) usec / 1e6;
    value = (double) (long) (value * 100 + 0.5) / 100;	/* 10ms resolution */
    if (value >= 10)
	vstring_sprintf_append(buf, "%ld", (long) (value + 0.5));
    else
	vstring_sprintf_append(buf, "%.2g", value);
}

/* delta - append B - A as a delay; zero when A or B is unset */

static void delta(VSTRING *buf, const struct timeval *b, const struct timeval *a)
{
    if (a->tv_sec <= 0 || b->tv_sec <= 0)
	deliver_format_delay(buf, 0, 0);
    else
	deliver_format_delay(buf, (long) (b->tv_sec - a->tv_sec),
			     (long) (b->tv_usec - a->tv_usec));
}

/* deliver_log - one recipient status line, Postfix's shape */

void    deliver_log(const char *id, const DELIVER_STATS *stats,
		            const char *rcpt, const char *orig,
		            const char *relay, const char *dsn,
		            const char *status, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(200);
    struct timeval now;
    static const struct timeval zero;
    const struct timeval *active = &stats->active;
    const struct timeval *handoff = &stats->handoff;
    va_list ap;

    clock_gettimeofday(&now);
    vstring_sprintf(buf, "%s: to=<%s>", id, rcpt);
    if (orig && *orig && strcasecmp(orig, rcpt) != 0)
	vstring_sprintf_append(buf, ", orig_to=<%s>", orig);
    vstring_sprintf_append(buf, ", relay=%s, delay=", relay);
    delta(buf, &now, &stats->arrival);
    vstring_strcat(buf, ", delays=");
    /* a: before qmgr; b: in qmgr; c: connection set-up; d: transmission */
    if (active->tv_sec <= 0) {
	delta(buf, &now, &stats->arrival);
	vstring_strcat(buf, "/0/0/0");
    } else if (handoff->tv_sec <= 0) {
	delta(buf, active, &stats->arrival);
	vstring_strcat(buf, "/");
	delta(buf, &now, active);
	vstring_strcat(buf, "/0/0");
    } else {
	delta(buf, active, &stats->arrival);
	vstring_strcat(buf, "/");
	delta(buf, handoff, active);
	vstring_strcat(buf, "/");
	delta(buf, &zero, &zero);
	vstring_strcat(buf, "/");
	delta(buf, &now, handoff);
    }
    vstring_sprintf_append(buf, ", dsn=%s, status=%s (", dsn, status);
    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    vstring_strcat(buf, ")");
    msg_info("%s", STR(buf));
    vstring_free(buf);
}
