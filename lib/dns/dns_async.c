/*
 * dns_async.c - DNS lookups in worker threads.  See dns_async.h.
 *
 * The request belongs to the job: the worker thread reads the query and
 * writes the result into it, the event loop reads the result and frees
 * it.  Cancelling only clears the callback, which nothing but the event
 * loop thread touches.
 */
#include "sys_defs.h"
#include "mymalloc.h"
#include "worker.h"
#include "dns_async.h"

struct DNS_ASYNC {
    char   *query;			/* name, or address for a peer lookup */
    int     type;			/* DNS_TYPE_*, or 0 for a peer lookup */
    DNS_LOOKUP_CB lookup_cb;
    DNS_PEER_CB peer_cb;
    void   *context;
    int     cancelled;
    /* Results */
    int     status;
    DNS_ANSWER answer;
    DNS_PEER peer;
};

static void dns_async_work(void *arg)
{
    DNS_ASYNC *req = arg;

    if (req->type)
	req->status = dns_lookup(req->query, req->type, &req->answer);
    else
	dns_peer_lookup(req->query, &req->peer);
}

static void dns_async_done(void *arg)
{
    DNS_ASYNC *req = arg;

    if (!req->cancelled) {
	if (req->type)
	    req->lookup_cb(req->status, &req->answer, req->context);
	else
	    req->peer_cb(&req->peer, req->context);
    }
    dns_answer_free(&req->answer);
    myfree(req->query);
    myfree(req);
}

static DNS_ASYNC *dns_async_create(const char *query, int type, void *context)
{
    DNS_ASYNC *req = (DNS_ASYNC *) mycalloc(1, sizeof(*req));

    req->query = mystrdup(query);
    req->type = type;
    req->context = context;
    dns_answer_init(&req->answer);
    return (req);
}

DNS_ASYNC *dns_lookup_async(const char *name, int type, DNS_LOOKUP_CB callback,
			            void *context)
{
    DNS_ASYNC *req = dns_async_create(name, type, context);

    req->lookup_cb = callback;
    worker_submit(dns_async_work, dns_async_done, req);
    return (req);
}

DNS_ASYNC *dns_peer_async(const char *addr, DNS_PEER_CB callback, void *context)
{
    DNS_ASYNC *req = dns_async_create(addr, 0, context);

    req->peer_cb = callback;
    worker_submit(dns_async_work, dns_async_done, req);
    return (req);
}

void	dns_async_cancel(DNS_ASYNC *req)
{
    req->cancelled = 1;
}
