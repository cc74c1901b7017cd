/*
 * dns_async.h - DNS lookups that do not block the event loop: the
 * lookups of dns.h and dns_peer.h run in worker threads (worker.h) and
 * their results come back as callbacks from the event loop.
 *
 *   DNS_ASYNC *req = dns_lookup_async("example.com", DNS_TYPE_MX, cb, ctx);
 *       cb(status, &answer, ctx): status and records as dns_lookup()'s;
 *       the answer is freed after cb returns (copy what you keep)
 *   DNS_ASYNC *req = dns_peer_async("192.0.2.1", peer_cb, ctx);
 *       peer_cb(&peer, ctx): as dns_peer_lookup() filled it
 *   dns_async_cancel(req);
 *       the callback will not run (call it when CTX goes away); the
 *       lookup itself still finishes in its thread
 *
 * A request is valid from the call until its callback returns or it is
 * cancelled, whichever comes first.
 */
#ifndef DNS_ASYNC_H
#define DNS_ASYNC_H

#include "sys_defs.h"
#include "dns.h"
#include "dns_peer.h"

typedef struct DNS_ASYNC DNS_ASYNC;

typedef void (*DNS_LOOKUP_CB) (int status, DNS_ANSWER *answer, void *context);
typedef void (*DNS_PEER_CB) (const DNS_PEER *peer, void *context);

DNS_ASYNC *dns_lookup_async(const char *name, int type, DNS_LOOKUP_CB callback,
			            void *context);
DNS_ASYNC *dns_peer_async(const char *addr, DNS_PEER_CB callback, void *context);
void	dns_async_cancel(DNS_ASYNC *req);

#endif
