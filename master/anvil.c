/*
 * anvil.c - client connection counts and request rates, for every smtpd
 * process at once (Postfix's anvil(8)).
 *
 * A master.cf service
 *
 *   anvil     unix  -  -  n  -  1  anvil
 *
 * on private/anvil, one event-driven process as mail_owner.  Each smtpd
 * process keeps one connection open and sends attribute lists (attr.h),
 * each answered with one list, in order:
 *
 *   request=connect   ident=SERVICE:ADDR   status=0 count=N rate=N
 *   request=disconnect ident=...           status=0
 *   request=message   ident=...            status=0 rate=N
 *   request=recipient ident=...            status=0 rate=N
 *   request=auth      ident=...            status=0 rate=N
 *
 * count is the number of connections open now (a client's connection to
 * anvil that goes away gives back the connections it registered, so a
 * dead smtpd leaves no count behind); a rate counts the events since the
 * start of the ident's current anvil_rate_time_unit.  An unknown or
 * malformed request gets status=1 (and is logged); the connection goes
 * on.  An ident with no connection and an expired unit is forgotten.
 * Every anvil_status_update_time, and at exit, the maxima seen are logged
 * as Postfix logs them ("statistics: max connection rate 3/60s for
 * (smtp:192.0.2.1) at Dec  6 06:01:02").
 *
 * Parameters: anvil_rate_time_unit, anvil_status_update_time.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "htable.h"
#include "attr.h"
#include "events.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "attr_server.h"

#define ANVIL_REQUEST_MAX	4096	/* bytes of one request */
#define ANVIL_IDENT_MAX		300

/* What anvil knows of one (service, client) */
typedef struct ANVIL_IDENT {
    char   *ident;
    int     count;			/* connections open */
    time_t  start;			/* of the current rate unit */
    int     rate[4];			/* connect, message, recipient, auth */
} ANVIL_IDENT;

/* The requests that count a rate, in ANVIL_IDENT.rate[] order */
static const char *anvil_rate_names[] = {"connect", "message", "recipient", "auth"};

#define RATE_CONNECT	0
#define RATE_COUNT	(sizeof(anvil_rate_names) / sizeof(anvil_rate_names[0]))

/* A maximum seen, for the statistics */
typedef struct ANVIL_MAX {
    int     value;
    char   *ident;
    time_t  when;
} ANVIL_MAX;

/* One smtpd's connection to anvil (the I/O is attr_server.c's) */
typedef struct ANVIL_CLIENT {
    HTABLE *open;			/* ident -> connections it registered */
} ANVIL_CLIENT;

static HTABLE *anvil_idents;
static int anvil_unit;			/* anvil_rate_time_unit, seconds */
static ANVIL_MAX anvil_max_rate[RATE_COUNT];
static ANVIL_MAX anvil_max_count;
static size_t anvil_max_cache;
static time_t anvil_max_cache_when;

/* anvil_max_update - remember a new maximum */

static void anvil_max_update(ANVIL_MAX *max, int value, const char *ident)
{
    if (value <= max->value)
	return;
    max->value = value;
    max->when = time((time_t *) 0);
    if (max->ident == 0 || strcmp(max->ident, ident) != 0) {
	if (max->ident)
	    myfree(max->ident);
	max->ident = mystrdup(ident);
    }
}

/* anvil_log_max - one statistics line, then forget the maximum */

static void anvil_log_max(ANVIL_MAX *max, const char *what, int per_unit)
{
    char    when[32];

    if (max->value == 0)
	return;
    strftime(when, sizeof(when), "%b %e %H:%M:%S", localtime(&max->when));
    if (per_unit)
	msg_info("statistics: max %s %d/%ds for (%s) at %s",
		 what, max->value, anvil_unit, max->ident, when);
    else
	msg_info("statistics: max %s %d for (%s) at %s",
		 what, max->value, max->ident, when);
    max->value = 0;
}

static void anvil_statistics(void)
{
    static const char *what[] = {"connection rate", "message rate",
    "recipient rate", "auth rate"};
    char    when[32];

    for (size_t i = 0; i < RATE_COUNT; i++)
	anvil_log_max(anvil_max_rate + i, what[i], 1);
    anvil_log_max(&anvil_max_count, "connection count", 0);
    if (anvil_max_cache > 0) {
	strftime(when, sizeof(when), "%b %e %H:%M:%S",
		 localtime(&anvil_max_cache_when));
	msg_info("statistics: max cache size %lu at %s",
		 (unsigned long) anvil_max_cache, when);
	anvil_max_cache = 0;
    }
}

static void anvil_status_event(int event, void *context)
{
    anvil_statistics();
    event_request_timer(anvil_status_event, 0,
			conf_time("anvil_status_update_time") * 1000);
}

/* anvil_ident - the entry of IDENT, made when missing; its rates current */

static ANVIL_IDENT *anvil_ident(const char *ident)
{
    HTABLE_INFO *info = htable_locate(anvil_idents, ident);
    ANVIL_IDENT *id;
    time_t  now = time((time_t *) 0);

    if (info == 0) {
	id = (ANVIL_IDENT *) mycalloc(1, sizeof(*id));
	id->ident = mystrdup(ident);
	id->start = now;
	htable_enter(anvil_idents, id->ident, id);
	if (htable_count(anvil_idents) > anvil_max_cache) {
	    anvil_max_cache = htable_count(anvil_idents);
	    anvil_max_cache_when = now;
	}
	return (id);
    }
    id = (ANVIL_IDENT *) info->value;
    if (now - id->start >= anvil_unit) {
	memset(id->rate, 0, sizeof(id->rate));
	id->start = now;
    }
    return (id);
}

/* anvil_forget - drop an entry that holds nothing */

static void anvil_forget(ANVIL_IDENT *id)
{
    if (id->count > 0 || time((time_t *) 0) - id->start < anvil_unit)
	return;
    htable_delete(anvil_idents, id->ident);
    myfree(id->ident);
    myfree(id);
}

/* anvil_cleanup_event - forget idents whose unit ended with no connection */

static void anvil_cleanup_event(int event, void *context)
{
    ANVIL_IDENT **gone;
    size_t  n = 0;

    gone = (ANVIL_IDENT **) mymalloc(sizeof(*gone) * (htable_count(anvil_idents) + 1));
    for (size_t i = 0; i < anvil_idents->size; i++)
	if (anvil_idents->slots[i].key)
	    gone[n++] = (ANVIL_IDENT *) anvil_idents->slots[i].value;
    for (size_t i = 0; i < n; i++)
	anvil_forget(gone[i]);
    myfree(gone);
    event_request_timer(anvil_cleanup_event, 0, anvil_unit * 1000);
}

/* anvil_client_open - CLIENT registered one more connection of ID */

static void anvil_client_open(ANVIL_CLIENT *client, ANVIL_IDENT *id, int delta)
{
    HTABLE_INFO *info = htable_locate(client->open, id->ident);
    long    held = info ? (long) (intptr_t) info->value : 0;

    if (delta < 0 && held == 0)
	return;					/* not ours to give back */
    held += delta;
    id->count += delta;
    if (held > 0)
	htable_enter(client->open, info ? info->key : id->ident,
		     (void *) (intptr_t) held);
    else
	htable_delete(client->open, id->ident);
}

/* anvil_request - answer one request into OUT (ATTR_SERVER_SPEC request) */

static void anvil_request(const ATTR_LIST *list, VSTRING *out, void *context)
{
    ANVIL_CLIENT *client = context;
    const char *request = attr_find(list, "request");
    const char *ident = attr_find(list, "ident");
    HTABLE_INFO *info;
    ANVIL_IDENT *id;
    size_t  i;

    if (request == 0 || ident == 0 || *ident == 0 || strlen(ident) > ANVIL_IDENT_MAX) {
	msg_warn("bad request from an anvil client: %s",
		 request ? "ident missing or too long" : "request missing");
	attr_buf_put(out, "status", "1");
	attr_buf_end(out);
	return;
    }
    if (strcmp(request, "disconnect") == 0) {
	if ((info = htable_locate(anvil_idents, ident)) != 0) {
	    id = (ANVIL_IDENT *) info->value;
	    anvil_client_open(client, id, -1);
	    anvil_forget(id);
	}
	attr_buf_put(out, "status", "0");
	attr_buf_end(out);
	return;
    }
    for (i = 0; i < RATE_COUNT && strcmp(request, anvil_rate_names[i]) != 0; i++)
	 /* void */ ;
    if (i == RATE_COUNT) {
	msg_warn("unknown anvil request: %.100s", request);
	attr_buf_put(out, "status", "1");
	attr_buf_end(out);
	return;
    }
    id = anvil_ident(ident);
    id->rate[i]++;
    anvil_max_update(anvil_max_rate + i, id->rate[i], ident);
    attr_buf_put(out, "status", "0");
    if (i == RATE_CONNECT) {
	anvil_client_open(client, id, 1);
	anvil_max_update(&anvil_max_count, id->count, ident);
	vstring_sprintf_append(out, "count=%d\n", id->count);
    }
    vstring_sprintf_append(out, "rate=%d\n", id->rate[i]);
    attr_buf_end(out);
}

/* anvil_client_close - the smtpd went away: its connections with it */

static void anvil_client_close(void *context)
{
    ANVIL_CLIENT *client = context;
    HTABLE_INFO *info;
    ANVIL_IDENT *id;
    HTABLE_INFO *found;

    for (size_t i = 0; i < client->open->size; i++) {
	if ((info = client->open->slots + i)->key == 0
	    || (found = htable_locate(anvil_idents, info->key)) == 0)
	    continue;
	id = (ANVIL_IDENT *) found->value;
	id->count -= (int) (intptr_t) info->value;
	if (id->count < 0)
	    id->count = 0;
    }
    htable_free(client->open);
    myfree(client);
}

static const ATTR_SERVER_SPEC anvil_spec = {
    "anvil", ANVIL_REQUEST_MAX, anvil_request, anvil_client_close,
};

static void anvil_accept(int fd, const char *service, char **argv)
{
    ANVIL_CLIENT *client = (ANVIL_CLIENT *) mycalloc(1, sizeof(*client));

    client->open = htable_create(16);
    attr_server_accept(fd, &anvil_spec, client);
}

static void anvil_post_init(const char *service, char **argv)
{
    /* smtpd processes stay connected: never exit while they do */
    mail_conf_update("max_idle", "1000000s");
    anvil_unit = conf_time("anvil_rate_time_unit");
    anvil_idents = htable_create(100);
    event_request_timer(anvil_status_event, 0,
			conf_time("anvil_status_update_time") * 1000);
    event_request_timer(anvil_cleanup_event, 0, anvil_unit * 1000);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {
	.post_init = anvil_post_init,
	.pre_exit = anvil_statistics,
    };

    event_server_main(argc, argv, anvil_accept, &ops);
}
