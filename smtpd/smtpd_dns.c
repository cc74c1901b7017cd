/*
 * smtpd_dns.c - DNS for one session without blocking the process: the
 * client's name at connect (reverse lookup with a forward check, as
 * Postfix's smtpd_peer.c) and the lookups of the restrictions
 * (reject_rbl_client, reject_rhsbl_*, reject_unknown_*), all answered by
 * worker threads (dns_async.h) while the process serves other sessions.
 *
 * The restrictions are plain synchronous code.  smtpd_dns_lookup()
 * answers from the session's cache; a miss starts a lookup and returns
 * SMTPD_DNS_PENDING.  The restriction code then unwinds without side
 * effects (smtpd_restrict.c holds back its log lines and actions until
 * it has a result), the caller parks its command with smtpd_lookup_wait(),
 * and when the last answer is in, the wake-up function runs the command
 * again from its start: this time the cache has the answer.  A command
 * that needs several lookups one after the other is parked once per
 * lookup.
 *
 * With smtpd_peername_lookup = no, or on the local submission socket,
 * the client name is "unknown" ("localhost" for submission) and nothing
 * is looked up.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "dns_async.h"
#include "smtpd.h"
#include "smtpd_restrict.h"

#define SMTPD_DNS_CACHE_MAX	64

/* One answer kept for the session */
typedef struct SMTPD_DNS_ENTRY {
    char   *name;
    int     type;
    int     status;
    DNS_ANSWER answer;
    struct SMTPD_DNS_ENTRY *next;
} SMTPD_DNS_ENTRY;

/* One lookup on the way */
typedef struct SMTPD_DNS_WAIT {
    SMTPD_STATE *state;
    DNS_ASYNC *req;
    char   *name;
    int     type;
    struct SMTPD_DNS_WAIT *next;
} SMTPD_DNS_WAIT;

typedef struct SMTPD_DNS {
    SMTPD_DNS_ENTRY *cache;
    int     cache_count;
    SMTPD_DNS_WAIT *pending;
    DNS_ASYNC *peer_req;		/* the client name lookup */
    void    (*peer_next) (SMTPD_STATE *);
} SMTPD_DNS;

/* smtpd_dns_get - the session's DNS state, made on first use */
static SMTPD_DNS *smtpd_dns_get(SMTPD_STATE *state)
{
    if (state->dns == 0)
	state->dns = (SMTPD_DNS *) mycalloc(1, sizeof(SMTPD_DNS));
    return (state->dns);
}

/* cache_flush - forget every kept answer */
static void cache_flush(SMTPD_DNS *dns)
{
    SMTPD_DNS_ENTRY *entry;

    while ((entry = dns->cache) != 0) {
	dns->cache = entry->next;
	dns_answer_free(&entry->answer);
	myfree(entry->name);
	myfree(entry);
    }
    dns->cache_count = 0;
}

/* cache_find - the kept answer for NAME TYPE, or NULL */
static SMTPD_DNS_ENTRY *cache_find(SMTPD_DNS *dns, const char *name, int type)
{
    for (SMTPD_DNS_ENTRY *entry = dns->cache; entry; entry = entry->next)
	if (entry->type == type && strcasecmp(entry->name, name) == 0)
	    return (entry);
    return (0);
}

/* smtpd_dns_answered - a lookup is back: keep it, wake the session when all are */
static void smtpd_dns_answered(int status, DNS_ANSWER *answer, void *context)
{
    SMTPD_DNS_WAIT *wait = context;
    SMTPD_STATE *state = wait->state;
    SMTPD_DNS *dns = state->dns;
    SMTPD_DNS_WAIT **pp;
    SMTPD_DNS_ENTRY *entry;

    for (pp = &dns->pending; *pp != wait; pp = &(*pp)->next)
	 /* void */ ;
    *pp = wait->next;
    if (dns->cache_count >= SMTPD_DNS_CACHE_MAX)
	cache_flush(dns);
    entry = (SMTPD_DNS_ENTRY *) mymalloc(sizeof(*entry));
    entry->name = wait->name;
    entry->type = wait->type;
    entry->status = status;
    dns_answer_init(&entry->answer);
    dns_answer_copy(&entry->answer, answer);
    entry->next = dns->cache;
    dns->cache = entry;
    dns->cache_count++;
    myfree(wait);
    smtpd_lookup_done(state);
}

int	smtpd_dns_lookup(SMTPD_STATE *state, const char *name, int type,
			         DNS_ANSWER *answer)
{
    SMTPD_DNS *dns = smtpd_dns_get(state);
    SMTPD_DNS_ENTRY *entry;
    SMTPD_DNS_WAIT *wait;

    if ((entry = cache_find(dns, name, type)) != 0) {
	if (answer)
	    dns_answer_copy(answer, &entry->answer);
	return (entry->status);
    }
    for (wait = dns->pending; wait; wait = wait->next)
	if (wait->type == type && strcasecmp(wait->name, name) == 0)
	    return (SMTPD_DNS_PENDING);
    wait = (SMTPD_DNS_WAIT *) mymalloc(sizeof(*wait));
    wait->state = state;
    wait->name = mystrdup(name);
    wait->type = type;
    wait->next = dns->pending;
    dns->pending = wait;
    wait->req = dns_lookup_async(name, type, smtpd_dns_answered, wait);
    smtpd_lookup_start(state);
    return (SMTPD_DNS_PENDING);
}

void	smtpd_lookup_start(SMTPD_STATE *state)
{
    state->lookups++;
}

void	smtpd_lookup_done(SMTPD_STATE *state)
{
    void    (*wakeup) (SMTPD_STATE *) = state->wakeup;

    if (--state->lookups > 0 || wakeup == 0)
	return;
    state->wakeup = 0;
    state->waiting = 0;
    wakeup(state);
}

void	smtpd_lookup_wait(SMTPD_STATE *state, void (*wakeup) (SMTPD_STATE *))
{
    if (state->lookups <= 0)
	msg_panic("smtpd_lookup_wait: nothing to wait for");
    state->wakeup = wakeup;
    state->waiting = 1;
}

/* smtpd_peer_answered - the client name is known (or not) */
static void smtpd_peer_answered(const DNS_PEER *peer, void *context)
{
    SMTPD_STATE *state = context;
    SMTPD_DNS *dns = state->dns;
    void    (*next) (SMTPD_STATE *) = dns->peer_next;

    dns->peer_req = 0;
    dns->peer_next = 0;
    state->waiting = 0;
    if (peer->warning[0])
	msg_warn("%s", peer->warning);
    snprintf(state->name, sizeof(state->name), "%s", peer->name);
    snprintf(state->reverse_name, sizeof(state->reverse_name), "%s",
	     peer->reverse_name);
    state->name_status = peer->status;
    state->reverse_name_status = peer->reverse_status;
    next(state);
}

void	smtpd_peer_lookup(SMTPD_STATE *state, void (*next) (SMTPD_STATE *))
{
    SMTPD_DNS *dns;

    if (state->submit || !conf_bool("smtpd_peername_lookup")) {
	snprintf(state->name, sizeof(state->name), state->submit ?
		 "localhost" : "unknown");
	snprintf(state->reverse_name, sizeof(state->reverse_name), "%s",
		 state->name);
	state->name_status = state->reverse_name_status =
	    state->submit ? DNS_PEER_OK : DNS_PEER_PERM;
	next(state);
	return;
    }
    dns = smtpd_dns_get(state);
    dns->peer_next = next;
    state->waiting = 1;
    dns->peer_req = dns_peer_async(smtpd_client_addr(state), smtpd_peer_answered,
				   state);
}

void	smtpd_dns_free(SMTPD_STATE *state)
{
    SMTPD_DNS *dns = state->dns;
    SMTPD_DNS_WAIT *wait;

    if (dns == 0)
	return;
    if (dns->peer_req)
	dns_async_cancel(dns->peer_req);
    while ((wait = dns->pending) != 0) {
	dns->pending = wait->next;
	dns_async_cancel(wait->req);
	myfree(wait->name);
	myfree(wait);
    }
    cache_flush(dns);
    myfree(dns);
    state->dns = 0;
}
