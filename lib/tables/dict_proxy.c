/*
 * dict_proxy.c - proxy: tables, looked up by the proxymap service
 * (Postfix's proxymap(8) client).
 *
 * dict_open("proxy:pgsql:/etc/posthorn/virtual.cf", flags) names a table
 * that proxymap opens and asks for us, so that the hundreds of processes
 * that read a database share proxymap's few connections.  A process keeps
 * one connection to private/proxymap for all its proxy: tables (made at
 * the first lookup, relative to the queue directory where daemons run,
 * else under $queue_directory) and sends one attribute list per lookup:
 *
 *	request=lookup  table=TYPE:NAME  flags=N  key=KEY
 *
 * and reads one back: status=0 value=VALUE (found), status=1 (not
 * found), status=2 (the table failed: try later), status=3 (the table is
 * not in proxy_read_maps; warned by both sides).  A connection that
 * proxymap closed (it exited after max_idle or max_use, or its tables
 * changed) is made again and the lookup sent once more.  When proxymap
 * cannot be reached or does not answer within ipc_timeout, the lookup
 * fails with ->error set: the caller defers.  The first connection sets
 * SIGPIPE to be ignored (daemons do anyway), so that a command whose
 * proxymap went away gets a write error instead of dying.  Threads take
 * turns at the connection (smtpd looks up SASL passwords in workers).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "attr.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "dict_private.h"

#define PROXY_SERVICE		"proxymap"
#define PROXY_STAT_FOUND	0
#define PROXY_STAT_NOKEY	1
#define PROXY_STAT_RETRY	2
#define PROXY_STAT_DENY		3

typedef struct DICT_PROXY {
    DICT    dict;			/* must be first */
    VSTRING *value;
} DICT_PROXY;

static VSTREAM *proxy_stream;		/* shared by the process's tables */
static pthread_mutex_t proxy_lock = PTHREAD_MUTEX_INITIALIZER;

/* proxy_connect - the connection to proxymap; 0, or -1 (warned) */

static int proxy_connect(void)
{
    char    path[256];
    VSTRING *full;
    int     fd;

    if (proxy_stream)
	return (0);
    /* a proxymap that went away must fail a write, not kill a command */
    (void) signal(SIGPIPE, SIG_IGN);
    mail_socket_path(path, sizeof(path), MAIL_CLASS_PRIVATE, PROXY_SERVICE);
    if ((fd = unix_connect(path, 5)) < 0 && errno == ENOENT) {
	full = vstring_alloc(100);
	vstring_sprintf(full, "%s/%s", conf_str("queue_directory"), path);
	fd = unix_connect(STR(full), 5);
	vstring_free(full);
    }
    if (fd < 0) {
	msg_warn("connect to %s service: %m", PROXY_SERVICE);
	return (-1);
    }
    close_on_exec(fd, 1);
    proxy_stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(proxy_stream, conf_time("ipc_timeout"));
    return (0);
}

static void proxy_disconnect(void)
{
    if (proxy_stream) {
	(void) vstream_close(proxy_stream);
	proxy_stream = 0;
    }
}

/* proxy_ask - one request and its answer; the status, or -1 (no answer) */

static int proxy_ask(DICT_PROXY *dp, const char *key)
{
    ATTR_LIST reply;
    const char *value;
    int     status;

    attr_put(proxy_stream, "request", "lookup");
    attr_put(proxy_stream, "table", dp->dict.name);
    attr_put_long(proxy_stream, "flags", (long) dp->dict.flags);
    attr_put(proxy_stream, "key", key);
    if (attr_end(proxy_stream) < 0 || attr_get_list(proxy_stream, &reply) < 0)
	return (-1);
    status = (int) attr_find_long(&reply, "status", PROXY_STAT_RETRY);
    if (status == PROXY_STAT_FOUND) {
	value = attr_find(&reply, "value");
	vstring_strcpy(dp->value, value ? value : "");
    }
    attr_list_free(&reply);
    return (status);
}

static const char *dict_proxy_lookup(DICT *dict, const char *key)
{
    DICT_PROXY *dp = (DICT_PROXY *) dict;
    int     status = -1;

    dict->error = 0;
    pthread_mutex_lock(&proxy_lock);
    for (int tries = 0; status < 0 && tries < 2; tries++) {
	if (proxy_connect() < 0)
	    break;
	if ((status = proxy_ask(dp, key)) < 0)
	    proxy_disconnect();			/* gone: once more on a new one */
    }
    pthread_mutex_unlock(&proxy_lock);
    switch (status) {
    case PROXY_STAT_FOUND:
	return (STR(dp->value));
    case PROXY_STAT_NOKEY:
	return (0);
    case PROXY_STAT_DENY:
	msg_warn("%s:%s: table is not in proxy_read_maps (proxymap refused it)",
		 dict->type, dict->name);
	break;
    case -1:
	msg_warn("%s:%s: no answer from the %s service", dict->type, dict->name,
		 PROXY_SERVICE);
	break;
    }
    dict->error = DICT_ERR_RETRY;
    return (0);
}

static int dict_proxy_close(DICT *dict)
{
    DICT_PROXY *dp = (DICT_PROXY *) dict;

    vstring_free(dp->value);
    dict_free(dict);
    return (0);
}

DICT   *dict_proxy_open(const char *type, const char *name, int flags)
{
    DICT_PROXY *dp;
    const char *colon = strchr(name, ':');

    if (colon == 0 || colon == name || strncmp(name, "proxy:", 6) == 0) {
	msg_warn("%s:%s: expected proxy:type:name", type, name);
	return (dict_fail_open(type, name, flags));
    }
    dp = (DICT_PROXY *) dict_alloc(type, name, flags, sizeof(*dp));
    dp->dict.lookup = dict_proxy_lookup;
    dp->dict.close = dict_proxy_close;
    dp->value = vstring_alloc(100);
    return (&dp->dict);
}
