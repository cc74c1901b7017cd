/*
 * maildrop.c - maildrop/ files: written by sendmail when the mail system
 * cannot take a message now, read by pickup (see maildrop.h).
 *
 * A file is records (record.h) in this order, and nothing else:
 *   A "maildrop_version=1"   first, always
 *   A "uid=N"                the uid sendmail ran as (only compared)
 *   S sender                 only when given with -f/-r
 *   A name=value             dsn_envid, dsn_ret, full_name, verify (-bv)
 *   N notify, R recipient    per recipient (N optional: NOTIFY=)
 *   M, B content..., X, E
 * The reader refuses anything else: a file that does not read cleanly is
 * damaged or foreign, and pickup moves it to corrupt/.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_queue.h"
#include "record.h"
#include "maildrop.h"

#define MAILDROP_VERSION	"maildrop_version=1"
#define MAILDROP_REC_LIMIT	(64 * 1024)	/* longest envelope record */
#define MAILDROP_RCPT_LIMIT	100000		/* recipients per file */

struct MAILDROP {
    VSTREAM *stream;
    char   *id;
    int     in_content;			/* the M record is written */
    int     error;			/* errno of the first failure */
};

/* maildrop_put - one record, unless an error came before */

static void maildrop_put(MAILDROP *md, int type, const char *data, size_t len)
{
    if (md->error == 0 && rec_put(md->stream, type, data, len) < 0)
	md->error = errno ? errno : EIO;
}

MAILDROP *maildrop_create(VSTRING *id)
{
    MAILDROP *md;
    VSTREAM *stream;
    VSTRING *buf;

    if ((stream = mail_queue_enter(MAIL_QUEUE_MAILDROP, id)) == 0)
	return (0);
    md = (MAILDROP *) mycalloc(1, sizeof(*md));
    md->stream = stream;
    md->id = mystrdup(STR(id));
    /* The group is maildrop/'s (set-gid directory): pickup may read it */
    if (fchmod(vstream_fd(stream), MAILDROP_FILE_MODE) < 0)
	md->error = errno;
    maildrop_put(md, REC_TYPE_ATTR, MAILDROP_VERSION, strlen(MAILDROP_VERSION));
    buf = vstring_alloc(30);
    vstring_sprintf(buf, "uid=%ld", (long) getuid());
    maildrop_put(md, REC_TYPE_ATTR, STR(buf), LEN(buf));
    vstring_free(buf);
    return (md);
}

void    maildrop_sender(MAILDROP *md, const char *sender, int given)
{
    if (given)
	maildrop_put(md, REC_TYPE_FROM, sender, strlen(sender));
}

void    maildrop_attr(MAILDROP *md, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s=%s", name, value);
    maildrop_put(md, REC_TYPE_ATTR, STR(buf), LEN(buf));
    vstring_free(buf);
}

void    maildrop_rcpt(MAILDROP *md, const char *rcpt, const char *notify)
{
    if (notify)
	maildrop_put(md, REC_TYPE_DSN, notify, strlen(notify));
    maildrop_put(md, REC_TYPE_RCPT, rcpt, strlen(rcpt));
}

/* begin_content - the M record, once */

static void begin_content(MAILDROP *md)
{
    if (!md->in_content) {
	maildrop_put(md, REC_TYPE_MESG, "", 0);
	md->in_content = 1;
    }
}

void    maildrop_content(MAILDROP *md, const char *data, size_t len)
{
    begin_content(md);
    while (len > 0) {
	size_t  n = len > REC_BODY_CHUNK ? REC_BODY_CHUNK : len;

	maildrop_put(md, REC_TYPE_BODY, data, n);
	data += n;
	len -= n;
    }
}

/* maildrop_free - close and forget; REMOVE: the file goes too */

static void maildrop_free(MAILDROP *md, int remove)
{
    if (md->stream)
	(void) vstream_close(md->stream);
    if (remove && mail_queue_remove(MAIL_QUEUE_MAILDROP, md->id) < 0 && errno != ENOENT)
	msg_warn("remove %s/%s: %m", MAIL_QUEUE_MAILDROP, md->id);
    myfree(md->id);
    myfree(md);
}

int     maildrop_commit(MAILDROP *md)
{
    int     fd = vstream_fd(md->stream);
    int     err;

    begin_content(md);
    maildrop_put(md, REC_TYPE_XTRA, "", 0);
    maildrop_put(md, REC_TYPE_END, "", 0);
    if (md->error == 0 && vstream_flush(md->stream) < 0)
	md->error = errno ? errno : EIO;
    if (md->error == 0 && fsync(fd) < 0)
	md->error = errno;
    if (md->error == 0 && fchmod(fd, MAILDROP_READY_MODE) < 0)
	md->error = errno;
    if ((err = md->error) != 0) {
	maildrop_free(md, 1);
	errno = err;
	return (-1);
    }
    maildrop_free(md, 0);
    return (0);
}

void    maildrop_abort(MAILDROP *md)
{
    maildrop_free(md, 1);
}

/* Reader */

int     maildrop_trust(int fd, const char *name, long size_limit, struct stat *st,
		               VSTRING *why)
{
    if (fstat(fd, st) < 0) {
	vstring_sprintf(why, "fstat: %m");
	return (-1);
    }
    if (!S_ISREG(st->st_mode)) {
	vstring_sprintf(why, "not a regular file");
	return (-1);
    }
    if (st->st_nlink != 1) {
	vstring_sprintf(why, "%lu hard links", (unsigned long) st->st_nlink);
	return (-1);
    }
    if ((st->st_mode & S_IXUSR) == 0) {
	vstring_sprintf(why, "not complete");
	return (-1);
    }
    if (size_limit > 0 && st->st_size > size_limit) {
	vstring_sprintf(why, "%ld bytes, over the limit of %ld",
			(long) st->st_size, size_limit);
	return (-1);
    }
    return (0);
}

/* msg_add_attr - a name=value record into MSG; 0, or -1 with WHY */

static int msg_add_attr(MAILDROP_MSG *msg, const char *text, VSTRING *why)
{
    static const char *known[] = {"dsn_envid", "dsn_ret", "full_name", "verify", 0};
    const char *eq = strchr(text, '=');
    int     i;

    for (i = 0; eq && known[i]; i++)
	if (strlen(known[i]) == (size_t) (eq - text)
	    && strncmp(text, known[i], eq - text) == 0)
	    break;
    if (eq == 0 || known[i] == 0) {
	vstring_sprintf(why, "unknown attribute \"%.50s\"", text);
	return (-1);
    }
    msg->attr_names = myrealloc(msg->attr_names, (msg->attr_count + 1) * sizeof(char *));
    msg->attr_values = myrealloc(msg->attr_values, (msg->attr_count + 1) * sizeof(char *));
    msg->attr_names[msg->attr_count] = mystrndup(text, eq - text);
    msg->attr_values[msg->attr_count++] = mystrdup(eq + 1);
    return (0);
}

/* msg_add_rcpt - RCPT with NOTIFY (or NULL) into MSG */

static int msg_add_rcpt(MAILDROP_MSG *msg, const char *rcpt, const char *notify,
			        VSTRING *why)
{
    if (msg->rcpt_count >= MAILDROP_RCPT_LIMIT || *rcpt == 0) {
	vstring_sprintf(why, *rcpt ? "too many recipients" : "empty recipient");
	return (-1);
    }
    msg->rcpts = myrealloc(msg->rcpts, (msg->rcpt_count + 1) * sizeof(char *));
    msg->notify = myrealloc(msg->notify, (msg->rcpt_count + 1) * sizeof(char *));
    msg->rcpts[msg->rcpt_count] = mystrdup(rcpt);
    msg->notify[msg->rcpt_count++] = notify ? mystrdup(notify) : 0;
    return (0);
}

/* read_head - version and uid; 0, or -1 with WHY */

static int read_head(VSTREAM *stream, MAILDROP_MSG *msg, VSTRING *buf, VSTRING *why)
{
    char   *end;

    if (rec_get_checked(stream, buf, MAILDROP_REC_LIMIT, why) != REC_TYPE_ATTR
	|| strcmp(STR(buf), MAILDROP_VERSION) != 0) {
	vstring_sprintf(why, "not a maildrop file");
	return (-1);
    }
    if (rec_get_checked(stream, buf, MAILDROP_REC_LIMIT, why) != REC_TYPE_ATTR
	|| strncmp(STR(buf), "uid=", 4) != 0
	|| (msg->uid = strtol(STR(buf) + 4, &end, 10), *end || end == STR(buf) + 4)) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "missing uid record");
	return (-1);
    }
    return (0);
}

/* read_envelope - sender, attributes, recipients, up to M; 0 or -1 */

static int read_envelope(VSTREAM *stream, MAILDROP_MSG *msg, VSTRING *buf, VSTRING *why)
{
    char   *notify = 0;
    int     type;
    int     ret = -1;

    while ((type = rec_get_checked(stream, buf, MAILDROP_REC_LIMIT, why)) > 0) {
	if (type == REC_TYPE_FROM && msg->sender == 0 && msg->attr_count == 0
	    && msg->rcpt_count == 0 && notify == 0) {
	    msg->sender = mystrdup(STR(buf));
	} else if (type == REC_TYPE_ATTR && msg->rcpt_count == 0 && notify == 0) {
	    if (msg_add_attr(msg, STR(buf), why) < 0)
		break;
	} else if (type == REC_TYPE_DSN && notify == 0) {
	    notify = mystrdup(STR(buf));
	} else if (type == REC_TYPE_RCPT) {
	    if (msg_add_rcpt(msg, STR(buf), notify, why) < 0)
		break;
	    if (notify)
		myfree(notify);
	    notify = 0;
	} else if (type == REC_TYPE_MESG && msg->rcpt_count > 0 && notify == 0) {
	    ret = 0;
	    break;
	} else {
	    vstring_sprintf(why, "unexpected record type %c", type);
	    break;
	}
    }
    if (notify)
	myfree(notify);
    return (ret);
}

/* read_content - B records up to X, then E and the end; 0 or -1 */

static int read_content(VSTREAM *stream, MAILDROP_MSG *msg, long size_limit,
			        VSTRING *buf, VSTRING *why)
{
    int     type;

    while ((type = rec_get_checked(stream, buf, REC_BODY_CHUNK, why)) == REC_TYPE_BODY) {
	vstring_memcat(msg->content, STR(buf), LEN(buf));
	if (size_limit > 0 && (long) LEN(msg->content) > size_limit) {
	    vstring_sprintf(why, "content over the size limit");
	    return (-1);
	}
    }
    if (type != REC_TYPE_XTRA
	|| rec_get_checked(stream, buf, MAILDROP_REC_LIMIT, why) != REC_TYPE_END) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "content not ended");
	return (-1);
    }
    if (rec_get(stream, buf, MAILDROP_REC_LIMIT) != REC_TYPE_EOF) {
	vstring_sprintf(why, "garbage after the end record");
	return (-1);
    }
    return (0);
}

int     maildrop_read(VSTREAM *stream, MAILDROP_MSG *msg, long size_limit, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(100);
    int     ret;

    memset(msg, 0, sizeof(*msg));
    msg->uid = -1;
    msg->content = vstring_alloc(1024);
    vstring_reset(why);
    ret = (read_head(stream, msg, buf, why) == 0
	   && read_envelope(stream, msg, buf, why) == 0
	   && read_content(stream, msg, size_limit, buf, why) == 0) ? 0 : -1;
    vstring_free(buf);
    return (ret);
}

void    maildrop_msg_free(MAILDROP_MSG *msg)
{
    for (int i = 0; i < msg->attr_count; i++) {
	myfree(msg->attr_names[i]);
	myfree(msg->attr_values[i]);
    }
    for (int i = 0; i < msg->rcpt_count; i++) {
	myfree(msg->rcpts[i]);
	if (msg->notify[i])
	    myfree(msg->notify[i]);
    }
    if (msg->attr_names) {
	myfree(msg->attr_names);
	myfree(msg->attr_values);
    }
    if (msg->rcpts) {
	myfree(msg->rcpts);
	myfree(msg->notify);
    }
    if (msg->sender)
	myfree(msg->sender);
    vstring_free(msg->content);
    memset(msg, 0, sizeof(*msg));
}

const char *maildrop_msg_attr(const MAILDROP_MSG *msg, const char *name)
{
    for (int i = 0; i < msg->attr_count; i++)
	if (strcmp(msg->attr_names[i], name) == 0)
	    return (msg->attr_values[i]);
    return (0);
}
