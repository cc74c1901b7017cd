/*
 * smtp_cache.c - the per-process connection cache of the SMTP/LMTP client
 * (Postfix's connection cache, without its shared scache(8) service).
 *
 * After a delivery that left its session clean (smtp_proto_reusable()),
 * smtp.c stores the session here when the request asked for it: qmgr sets
 * DELIVER_FLAG_CONN_STORE when more mail for the destination waits and
 * smtp_connection_cache_on_demand is on, or the destination is listed in
 * smtp_connection_cache_destinations.  A session keeps what it learned
 * (EHLO features, TLS, AUTH), so the next delivery starts at MAIL FROM.
 *
 * Keys, as Postfix's: the next-hop destination (only for a session to
 * the best MX host, so that a backup MX is not kept in use once the
 * primary is back), and the server endpoint "host[addr]:port".  Both
 * count only under the same security policy: the TLS level and the SASL
 * credentials that AUTH would use with that server for the new request's
 * destination.  (Each process serves one master.cf service, so -o
 * overrides never mix in one cache; the policy is compared anyway.)
 *
 * Limits: a session idle for smtp_connection_cache_time_limit is closed
 * with QUIT, also while the process waits for requests (the server
 * skeleton's idle hooks, smtp.c); a session older than
 * smtp_connection_reuse_time_limit, or taken from the cache
 * smtp_connection_reuse_count_limit times (0: no limit), is not stored
 * again.  A session whose server closed it, or said anything while idle,
 * is dropped without QUIT when found (smtp_sess_alive()).  At most
 * SMTP_CACHE_SIZE sessions are kept; the oldest makes room.  LMTP mode
 * reads the lmtp_* twins (smtp.c).
 */
#include "sys_defs.h"
#include <limits.h>
#include <strings.h>
#include <time.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "smtp.h"

#define SMTP_CACHE_SIZE		8	/* most idle sessions per process */
#define SMTP_CACHE_QUIT_TIME	10	/* at most this for an idle session's QUIT */

typedef struct SMTP_CACHE_ENTRY {
    SMTP_SESS *sess;			/* NULL: a free slot */
    char   *dest;			/* next hop (NULL: not the best MX) */
    char   *policy;			/* TLS level and credentials */
    long long expires;			/* idle until then (smtp_cache_ms()) */
} SMTP_CACHE_ENTRY;

static SMTP_CACHE_ENTRY smtp_cache[SMTP_CACHE_SIZE];

/* smtp_cache_ms - a monotonic clock in milliseconds, for idle times */
static long long smtp_cache_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* smtp_cache_policy - the security policy of a session with HOST for DEST */
static void smtp_cache_policy(const char *host, const char *dest, VSTRING *buf)
{
    vstring_sprintf(buf, "%s\t", smtp_conf.tls_level ? smtp_conf.tls_level : "");
    smtp_sasl_cred_key(host, dest, buf);
}

/* smtp_cache_clear - empty slot E (its session is the caller's) */
static void smtp_cache_clear(SMTP_CACHE_ENTRY *e)
{
    if (e->dest)
	myfree(e->dest);
    myfree(e->policy);
    memset(e, 0, sizeof(*e));
}

/* smtp_cache_drop - close E's session (QUIT: say goodbye first), empty E */
static void smtp_cache_drop(SMTP_CACHE_ENTRY *e, int quit)
{
    int     timeout = smtp_conf.quit_timeout;

    if (quit) {
	if (timeout > SMTP_CACHE_QUIT_TIME)
	    timeout = SMTP_CACHE_QUIT_TIME;
	smtp_proto_quit(e->sess, timeout);
    }
    smtp_sess_free(e->sess);
    smtp_cache_clear(e);
}

/* smtp_cache_take - E's session, if still usable for DEST; NULL otherwise */
static SMTP_SESS *smtp_cache_take(SMTP_CACHE_ENTRY *e, const char *dest)
{
    VSTRING *policy = vstring_alloc(100);
    SMTP_SESS *sess = 0;

    smtp_cache_policy(e->sess->host, dest, policy);
    if (strcmp(STR(policy), e->policy) != 0) {
	vstring_free(policy);
	return (0);				/* another policy's: keep it */
    }
    vstring_free(policy);
    if (smtp_cache_ms() >= e->expires) {
	smtp_cache_drop(e, smtp_sess_alive(e->sess));
    } else if (!smtp_sess_alive(e->sess)) {
	if (msg_verbose)
	    msg_info("%s: cached session with %s is gone", __func__, e->sess->relay);
	smtp_cache_drop(e, 0);
    } else {
	sess = e->sess;
	smtp_cache_clear(e);
	sess->reuse_count++;
	sess->reused = 1;
	if (msg_verbose)
	    msg_info("%s: reusing cached session with %s for %s (reuse %d)",
		     __func__, sess->relay, dest, sess->reuse_count);
    }
    return (sess);
}

SMTP_SESS *smtp_cache_find_dest(const char *dest)
{
    SMTP_SESS *sess;

    for (int i = 0; i < SMTP_CACHE_SIZE; i++) {
	SMTP_CACHE_ENTRY *e = smtp_cache + i;

	if (e->sess && e->dest && strcasecmp(e->dest, dest) == 0
	    && (sess = smtp_cache_take(e, dest)) != 0)
	    return (sess);
    }
    return (0);
}

SMTP_SESS *smtp_cache_find_addr(const SMTP_ADDR *addr, const char *dest)
{
    VSTRING *endpoint = vstring_alloc(100);
    SMTP_SESS *sess = 0;

    smtp_addr_relay(addr, endpoint);
    for (int i = 0; sess == 0 && i < SMTP_CACHE_SIZE; i++) {
	SMTP_CACHE_ENTRY *e = smtp_cache + i;

	if (e->sess && strcasecmp(e->sess->relay, STR(endpoint)) == 0)
	    sess = smtp_cache_take(e, dest);
    }
    vstring_free(endpoint);
    return (sess);
}

/* smtp_cache_limits - may SESS be kept once more (reuse time and count)? */
static int smtp_cache_limits(const SMTP_SESS *sess)
{
    if (time((time_t *) 0) - sess->start >= smtp_conf.reuse_time_limit)
	return (0);
    return (smtp_conf.reuse_count_limit == 0
	    || sess->reuse_count < smtp_conf.reuse_count_limit);
}

/* smtp_cache_slot - a free slot; the oldest session makes room */
static SMTP_CACHE_ENTRY *smtp_cache_slot(void)
{
    SMTP_CACHE_ENTRY *oldest = smtp_cache;

    for (int i = 0; i < SMTP_CACHE_SIZE; i++) {
	if (smtp_cache[i].sess == 0)
	    return (smtp_cache + i);
	if (smtp_cache[i].expires < oldest->expires)
	    oldest = smtp_cache + i;
    }
    smtp_cache_drop(oldest, 1);
    return (oldest);
}

void	smtp_cache_store(SMTP_SESS *sess, const char *dest)
{
    SMTP_CACHE_ENTRY *e;
    VSTRING *policy;

    if (!smtp_cache_limits(sess)) {
	if (msg_verbose)
	    msg_info("%s: session with %s reached its reuse limit", __func__,
		     sess->relay);
	smtp_proto_quit(sess, smtp_conf.quit_timeout);
	smtp_sess_free(sess);
	return;
    }
    e = smtp_cache_slot();
    policy = vstring_alloc(100);
    smtp_cache_policy(sess->host, dest, policy);
    e->sess = sess;
    e->dest = sess->best_mx ? mystrdup(dest) : 0;
    e->policy = mystrdup(STR(policy));
    e->expires = smtp_cache_ms() + 1000LL * smtp_conf.cache_time_limit;
    sess->reused = 0;
    vstring_free(policy);
    if (msg_verbose)
	msg_info("%s: caching session with %s for %s", __func__, sess->relay, dest);
}

/* smtp_cache_listed - DEST is a word of smtp_connection_cache_destinations */
static int smtp_cache_listed(const char *dest)
{
    const char *cp = smtp_conf.cache_dests;
    size_t  len = strlen(dest);

    while (cp && *(cp += strspn(cp, ", \t\r\n"))) {
	size_t  word = strcspn(cp, ", \t\r\n");

	if (word == len && strncasecmp(cp, dest, len) == 0)
	    return (1);
	cp += word;
    }
    return (0);
}

int	smtp_cache_wanted(const char *dest, int conn_store)
{
    return ((conn_store && smtp_conf.cache_on_demand) || smtp_cache_listed(dest));
}

int	smtp_cache_wait_ms(void)
{
    long long now = smtp_cache_ms();
    long long first = -1;

    for (int i = 0; i < SMTP_CACHE_SIZE; i++)
	if (smtp_cache[i].sess && (first < 0 || smtp_cache[i].expires < first))
	    first = smtp_cache[i].expires;
    if (first < 0)
	return (-1);
    return (first <= now ? 0 : first - now > INT_MAX ? INT_MAX : (int) (first - now));
}

void	smtp_cache_expire(void)
{
    long long now = smtp_cache_ms();

    for (int i = 0; i < SMTP_CACHE_SIZE; i++) {
	if (smtp_cache[i].sess == 0 || smtp_cache[i].expires > now)
	    continue;
	if (msg_verbose)
	    msg_info("%s: closing idle session with %s", __func__,
		     smtp_cache[i].sess->relay);
	smtp_cache_drop(smtp_cache + i, smtp_sess_alive(smtp_cache[i].sess));
    }
}

void	smtp_cache_close_all(void)
{
    for (int i = 0; i < SMTP_CACHE_SIZE; i++)
	if (smtp_cache[i].sess)
	    smtp_cache_drop(smtp_cache + i, smtp_sess_alive(smtp_cache[i].sess));
}
