/*
 * defer_log.c - per-message deferral and bounce logs (see defer_log.h).
 *
 * Entries are attribute lists (lib/util/attr.h).  Appends are one write of a
 * whole entry to a file opened O_APPEND; rewrites go to a temporary file
 * that is renamed over the log, so a reader never sees half a log.  A
 * replace (qmgr's first deferral of an attempt) truncates and writes the
 * entries in one write: a reader may see the log empty for a moment.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "attr.h"
#include "mail_queue.h"
#include "defer_log.h"

#define DEFER_LOG_MAX_ENTRIES	100000	/* a sanity bound for readers */

/* defer_log_mkdirs - create the (hash) directories above PATH */

static int defer_log_mkdirs(const char *path)
{
    char   *copy = mystrdup(path);
    int     ret = 0;

    for (char *cp = strchr(copy, '/'); cp; cp = strchr(cp + 1, '/')) {
	*cp = 0;
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
	    ret = -1;
	*cp = '/';
    }
    myfree(copy);
    return (ret);
}

/* defer_log_open - open PATH with FLAGS, creating hash directories */

static VSTREAM *defer_log_open(const char *path, int flags)
{
    VSTREAM *stream;

    if ((stream = vstream_open(path, flags, 0600)) == 0 && errno == ENOENT
	&& defer_log_mkdirs(path) == 0)
	stream = vstream_open(path, flags, 0600);
    return (stream);
}

static void defer_log_put(VSTREAM *stream, const DEFER_LOG_ENTRY *entry,
			          const char *notify)
{
    attr_put(stream, "recipient", entry->recipient);
    attr_put(stream, "orig_rcpt", entry->orig_rcpt ? entry->orig_rcpt : "");
    attr_put(stream, "dsn_orcpt", entry->dsn_orcpt ? entry->dsn_orcpt : "");
    attr_put(stream, "status", entry->status);
    attr_put(stream, "action", entry->action);
    attr_put(stream, "relay", entry->relay ? entry->relay : "none");
    attr_put(stream, "reason", entry->reason);
    attr_put_long(stream, "time", entry->time);
    if (notify && *notify)
	attr_put(stream, "dsn_notify", notify);
    vstream_putc('\n', stream);
}

int     defer_log_append(const char *queue, const char *id, const DEFER_LOG_ENTRY *entry)
{
    return (defer_log_append_list(queue, id, entry, (const char *const *) 0, 1));
}

/*
 * defer_log_store - append (HOW = O_APPEND) or replace (O_TRUNC); the
 * entries go out in one flush when they fit
 * the stream's buffer (one entry always does); a reader that meets a torn
 * last entry after a crash reports EINVAL and keeps the ones before.
 */
static int defer_log_store(const char *queue, const char *id,
			           const DEFER_LOG_ENTRY *entries,
			           const char *const *notify, int count, int how)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *stream;
    int     ret = 0;

    if (count <= 0) {
	vstring_free(path);
	return (0);
    }
    mail_queue_path(path, queue, id);
    if ((stream = defer_log_open(STR(path), O_WRONLY | O_CREAT | how)) == 0) {
	msg_warn("%s: open %s: %m", id, STR(path));
	ret = -1;
    } else {
	for (int i = 0; i < count; i++)
	    defer_log_put(stream, entries + i, notify ? notify[i] : 0);
	if (vstream_flush(stream) != 0 || fsync(vstream_fd(stream)) < 0) {
	    msg_warn("%s: write %s: %m", id, STR(path));
	    ret = -1;
	}
	if (vstream_close(stream) != 0 && ret == 0) {
	    msg_warn("%s: write %s: %m", id, STR(path));
	    ret = -1;
	}
    }
    vstring_free(path);
    return (ret);
}

int     defer_log_append_list(const char *queue, const char *id,
			              const DEFER_LOG_ENTRY *entries,
			              const char *const *notify, int count)
{
    return (defer_log_store(queue, id, entries, notify, count, O_APPEND));
}

int     defer_log_replace_list(const char *queue, const char *id,
			               const DEFER_LOG_ENTRY *entries,
			               const char *const *notify, int count)
{
    return (defer_log_store(queue, id, entries, notify, count, O_TRUNC));
}

int     defer_log_write(const char *queue, const char *id,
			        const DEFER_LOG_ENTRY *entries, int count)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *temp = vstring_alloc(100);
    VSTREAM *stream;
    int     ret = 0;

    if (count == 0) {
	vstring_free(path);
	vstring_free(temp);
	return (defer_log_remove(queue, id));
    }
    mail_queue_path(path, queue, id);
    vstring_sprintf(temp, "%s.tmp", STR(path));
    if ((stream = defer_log_open(STR(temp), O_WRONLY | O_CREAT | O_TRUNC)) == 0) {
	msg_warn("%s: open %s: %m", id, STR(temp));
	ret = -1;
    } else {
	for (int i = 0; i < count; i++)
	    defer_log_put(stream, entries + i, (const char *) 0);
	if (vstream_close(stream) != 0 || rename(STR(temp), STR(path)) < 0) {
	    msg_warn("%s: write %s: %m", id, STR(path));
	    (void) unlink(STR(temp));
	    ret = -1;
	}
    }
    vstring_free(path);
    vstring_free(temp);
    return (ret);
}

static char *defer_log_value(const ATTR_LIST *list, const char *name)
{
    const char *value = attr_find(list, name);

    return (mystrdup(value ? value : ""));
}

int     defer_log_read(const char *queue, const char *id, DEFER_LOG *log)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *stream;
    ATTR_LIST list;
    int     ret = 0;

    log->entries = 0;
    log->notify = 0;
    log->count = 0;
    mail_queue_path(path, queue, id);
    if ((stream = vstream_open(STR(path), O_RDONLY, 0)) == 0) {
	vstring_free(path);
	return (-1);
    }
    for (;;) {
	off_t   where = vstream_tell(stream);

	/* A clean end of file between entries ends the log */
	if (vstream_getc(stream) < 0 || vstream_seek(stream, where) < 0)
	    break;
	if (attr_get_list(stream, &list) < 0) {
	    list.count = 0;
	} else if (log->count >= DEFER_LOG_MAX_ENTRIES
		   || attr_find(&list, "recipient") == 0) {
	    attr_list_free(&list);
	    list.count = 0;
	}
	if (list.count == 0) {
	    msg_warn("%s: bad entry in %s", id, STR(path));
	    errno = EINVAL;
	    ret = -1;
	    break;
	}
	log->entries = myrealloc(log->entries,
				 (size_t) (log->count + 1) * sizeof(*log->entries));
	log->notify = myrealloc(log->notify,
				(size_t) (log->count + 1) * sizeof(*log->notify));
	log->notify[log->count] = defer_log_value(&list, "dsn_notify");
	DEFER_LOG_ENTRY *e = log->entries + log->count++;

	e->recipient = defer_log_value(&list, "recipient");
	e->orig_rcpt = defer_log_value(&list, "orig_rcpt");
	e->dsn_orcpt = defer_log_value(&list, "dsn_orcpt");
	e->status = defer_log_value(&list, "status");
	e->action = defer_log_value(&list, "action");
	e->relay = defer_log_value(&list, "relay");
	e->reason = defer_log_value(&list, "reason");
	e->time = attr_find_long(&list, "time", 0);
	attr_list_free(&list);
    }
    vstream_close(stream);
    vstring_free(path);
    return (ret);
}

void    defer_log_free(DEFER_LOG *log)
{
    for (int i = 0; i < log->count; i++) {
	DEFER_LOG_ENTRY *e = log->entries + i;

	myfree(e->recipient);
	myfree(e->orig_rcpt);
	myfree(e->dsn_orcpt);
	myfree(e->status);
	myfree(e->action);
	myfree(e->relay);
	myfree(e->reason);
	myfree(log->notify[i]);
    }
    if (log->entries)
	myfree(log->entries);
    if (log->notify)
	myfree(log->notify);
    log->notify = 0;
    log->entries = 0;
    log->count = 0;
}

const DEFER_LOG_ENTRY *defer_log_find(const DEFER_LOG *log, const char *recipient)
{
    for (int i = log->count - 1; i >= 0; i--)
	if (strcasecmp(log->entries[i].recipient, recipient) == 0)
	    return (log->entries + i);
    return (0);
}

int     defer_log_remove(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    int     ret = 0;

    mail_queue_path(path, queue, id);
    if (unlink(STR(path)) < 0 && errno != ENOENT) {
	msg_warn("%s: remove %s: %m", id, STR(path));
	ret = -1;
    }
    vstring_free(path);
    return (ret);
}
