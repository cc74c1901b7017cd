/*
 * proxymap.c - lookups for other processes' proxy: tables (Postfix's
 * proxymap(8) read service), so that hundreds of smtpd, qmgr, local and
 * login processes share a few database connections.
 *
 * A master.cf service
 *
 *   proxymap  unix  -  -  n  -  -  proxymap
 *
 * on private/proxymap, event-driven, as mail_owner.  Clients keep a
 * connection open (lib/tables/dict_proxy.c) and send attribute lists,
 * each answered with one (attr_server.c):
 *
 *   request=lookup table=TYPE:NAME flags=N key=KEY
 *       status=0 value=V | status=1 (no such key) | status=2 (the table
 *       failed: the client defers) | status=3 (not allowed)
 *
 * A table is opened at its first request, with the client's flags, and
 * kept (one per TYPE:NAME and flags): a pgsql: table keeps its one
 * connection for all clients.  Only the tables that proxy_read_maps names
 * as proxy:TYPE:NAME may be opened; any other request is refused and
 * logged ("request for unapproved table").  Lookups run in the event
 * loop, one at a time, as in Postfix's proxymap: a busy site runs more
 * proxymap processes (process_client_soft_limit makes master start them).
 * When a table's file changes the process finishes and a new one takes
 * over (MAIL_SERVER_OPS changed).
 *
 * Parameters: proxy_read_maps.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "htable.h"
#include "attr.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "attr_server.h"
#include "dict.h"

#define PROXY_REQUEST_MAX	(64 * 1024)	/* bytes of one request */
#define PROXY_LIST_SEP		", \t\r\n"
#define PROXY_PREFIX		"proxy:"

#define PROXY_STAT_FOUND	0
#define PROXY_STAT_NOKEY	1
#define PROXY_STAT_RETRY	2
#define PROXY_STAT_DENY		3

static HTABLE *proxy_allowed;		/* TYPE:NAME from proxy_read_maps */
static HTABLE *proxy_tables;		/* "FLAGS TYPE:NAME" -> DICT */

/* proxy_allow - the proxy:TYPE:NAME words of proxy_read_maps */

static void proxy_allow(void)
{
    char   *list = mystrdup(conf_str("proxy_read_maps"));
    char   *cp = list;
    char   *word;

    proxy_allowed = htable_create(50);
    while ((word = strsep(&cp, PROXY_LIST_SEP)) != 0)
	if (strncmp(word, PROXY_PREFIX, sizeof(PROXY_PREFIX) - 1) == 0
	    && htable_locate(proxy_allowed, word + sizeof(PROXY_PREFIX) - 1) == 0)
	    htable_enter(proxy_allowed, mystrdup(word + sizeof(PROXY_PREFIX) - 1),
			 (void *) 0);
    myfree(list);
}

/* proxy_table - the open table TABLE with FLAGS */

static DICT *proxy_table(const char *table, int flags)
{
    VSTRING *key = vstring_alloc(100);
    HTABLE_INFO *info;
    DICT   *dict;

    vstring_sprintf(key, "%d %s", flags, table);
    if ((info = htable_locate(proxy_tables, STR(key))) != 0) {
	dict = (DICT *) info->value;
    } else {
	dict = dict_open(table, flags);
	htable_enter(proxy_tables, vstring_export(key), dict);	/* kept */
	return (dict);
    }
    vstring_free(key);
    return (dict);
}

/* proxy_request - one request into OUT (ATTR_SERVER_SPEC request) */

static void proxy_request(const ATTR_LIST *list, VSTRING *out, void *context)
{
    const char *request = attr_find(list, "request");
    const char *table = attr_find(list, "table");
    const char *key = attr_find(list, "key");
    /* only the flags that change a lookup: a bounded number of tables */
    long    flags = attr_find_long(list, "flags", 0)
	& (DICT_FLAG_FOLD_KEY | DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL);
    const char *value;
    DICT   *dict;
    char    status[2];

    if (request == 0 || strcmp(request, "lookup") != 0 || table == 0 || key == 0) {
	msg_warn("bad request from a proxymap client: %.100s",
		 request ? request : "request missing");
	status[0] = '0' + PROXY_STAT_RETRY;
    } else if (htable_locate(proxy_allowed, table) == 0) {
	msg_warn("request for unapproved table: \"%.300s\"", table);
	msg_warn("to approve this table for read-only access, list "
		 PROXY_PREFIX "%.300s in proxy_read_maps", table);
	status[0] = '0' + PROXY_STAT_DENY;
    } else {
	dict = proxy_table(table, (int) flags);
	if ((value = dict_lookup(dict, key)) != 0) {
	    attr_buf_put(out, "status", "0");
	    attr_buf_put(out, "value", value);
	    attr_buf_end(out);
	    return;
	}
	status[0] = '0' + (dict->error ? PROXY_STAT_RETRY : PROXY_STAT_NOKEY);
    }
    status[1] = 0;
    attr_buf_put(out, "status", status);
    attr_buf_end(out);
}

static const ATTR_SERVER_SPEC proxy_spec = {
    "proxymap", PROXY_REQUEST_MAX, proxy_request, 0,
};

static void proxy_accept(int fd, const char *service, char **argv)
{
    attr_server_accept(fd, &proxy_spec, (void *) 0);
}

static void proxy_post_init(const char *service, char **argv)
{
    proxy_allow();
    proxy_tables = htable_create(20);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {
	.post_init = proxy_post_init,
	.changed = dict_changed_name,
    };

    event_server_main(argc, argv, proxy_accept, &ops);
}
