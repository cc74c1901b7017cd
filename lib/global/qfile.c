/*
 * qfile.c - writing and reading whole queue files.
 *
 * Writer (smtpd): qfile_create() (or qfile_adopt() of a file created
 * ahead), qfile_time(), [qfile_warn_time()],
 * qfile_sender(), qfile_attr(), qfile_rcpt() or qfile_rcpt_dsn(),
 * qfile_begin_content(), qfile_content()..., qfile_commit().
 * Before the commit a writer may read its content back (qfile_read_back)
 * and write the whole file again under the same id (qfile_restart, then
 * from qfile_time() on): smtpd does so after mail filters edited it.
 * The first failure is remembered in qf->error and reported by
 * qfile_commit(), which then removes the file.  The T record is written
 * by qfile_time(), or with the current time by qfile_sender() when the
 * caller did not call qfile_time() first.  A fixed-width W record (delay
 * warning time, 0 = none) always follows T, so that qmgr can set or
 * clear it in place later (qfile_update_warn); qfile_warn_time() sets its
 * initial value.  The caller must call qfile_sender() before attributes
 * and recipients (the reader insists).
 *
 * Files written before W and N records existed (no W after T, no N
 * records) are still read: warn_offset and the DSN fields stay 0/NULL.
 *
 * Reader (local, smtp, postcat, showq...): qfile_read_envelope() checks
 * every record up to M; qfile_read_content() streams the B records and
 * checks X, E and the size from the C record; qfile_mark_done() flips R to
 * D in place.  qmgr reads a message with many recipients in slices, so
 * that its memory does not grow with their number: qfile_read_header()
 * reads up to the first recipient, then each qfile_read_rcpts() call
 * reads the next slice from the offset the previous one left in the
 * QENV (qfile_read_envelope() is these two, with no limit).  The same
 * checks apply: the end of the last slice must be where the size record
 * says, with its number of recipients.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/time.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "record.h"
#include "qfile.h"

#define QFILE_REC_LIMIT		(1024 * 1024)	/* largest envelope record */
#define QFILE_SIZE_REC_LEN	(2 + REC_SIZE_LEN)	/* type, length, data */
#define QFILE_WARN_FORMAT	"%15ld"
#define QFILE_WARN_LEN		15
#define QFILE_WARN_REC_LEN	(2 + QFILE_WARN_LEN)

/* qfile_fail - remember the first error */

static void qfile_fail(QFILE *qf, const char *what)
{
    if (qf->error == 0) {
	qf->error = errno ? errno : EIO;
	msg_warn("%s: write queue file: %s: %m", STR(qf->id), what);
    }
}

/* qfile_put - write one record unless an error happened before */

static void qfile_put(QFILE *qf, int type, const void *data, size_t len)
{
    if (qf->error == 0 && rec_put(qf->stream, type, data, len) < 0)
	qfile_fail(qf, "rec_put");
}

/* qfile_put_size - write the fixed-width C record */

static void qfile_put_size(QFILE *qf, long offset, long size, long count)
{
    VSTRING *buf = vstring_alloc(REC_SIZE_LEN + 1);

    vstring_sprintf(buf, REC_SIZE_FORMAT, offset, size, count);
    if (LEN(buf) != REC_SIZE_LEN)
	msg_panic("qfile_put_size: size record is %zu bytes", LEN(buf));
    qfile_put(qf, REC_TYPE_SIZE, STR(buf), LEN(buf));
    vstring_free(buf);
}

/*
 * qfile_adopt - a QFILE over STREAM, an empty locked file of QUEUE made by
 * mail_queue_enter() or mail_queue_create() under the id in ID; the
 * QFILE owns both from now on
 */
QFILE  *qfile_adopt(const char *queue, VSTREAM *stream, VSTRING *id)
{
    QFILE  *qf;

    qf = mycalloc(1, sizeof(*qf));
    qf->stream = stream;
    qf->id = id;
    qf->queue = queue;
    qf->chunk = vstring_alloc(REC_BODY_CHUNK);
    qfile_put_size(qf, 0L, 0L, 0L);
    return (qf);
}

/* qfile_create - new locked file in QUEUE with the size placeholder */

QFILE  *qfile_create(const char *queue)
{
    VSTRING *id = vstring_alloc(MAIL_QUEUE_ID_LEN + 1);
    VSTREAM *stream;

    if ((stream = mail_queue_enter(queue, id)) == 0) {
	int     saved = errno;

	vstring_free(id);
	errno = saved;
	return (0);
    }
    return (qfile_adopt(queue, stream, id));
}

/* qfile_format_warn - the fixed-width W data for WHEN into BUF (16 bytes) */

static void qfile_format_warn(char *buf, size_t size, time_t when)
{
    if (snprintf(buf, size, QFILE_WARN_FORMAT, (long) when) != QFILE_WARN_LEN)
	msg_panic("qfile_format_warn: bad warning time %ld", (long) when);
}

/* qfile_time - the T record and the W placeholder; right after qfile_create */

void    qfile_time(QFILE *qf, const struct timeval *arrival)
{
    VSTRING *buf;

    if (qf->error)
	return;
    if (vstream_tell(qf->stream) != QFILE_SIZE_REC_LEN) {
	msg_warn("%s: qfile_time called out of order", STR(qf->id));
	errno = EINVAL;
	qfile_fail(qf, "record order");
	return;
    }
    buf = vstring_alloc(40);
    vstring_sprintf(buf, "%ld %ld", (long) arrival->tv_sec, (long) arrival->tv_usec);
    qfile_put(qf, REC_TYPE_TIME, STR(buf), LEN(buf));
    vstring_free(buf);
    {
	char    warn[QFILE_WARN_LEN + 1];

	qfile_format_warn(warn, sizeof(warn), 0);
	qfile_put(qf, REC_TYPE_WARN, warn, QFILE_WARN_LEN);
    }
}

/* qfile_need_time - write T with the current time if the caller did not */

static void qfile_need_time(QFILE *qf)
{
    if (qf->error == 0 && vstream_tell(qf->stream) == QFILE_SIZE_REC_LEN) {
	struct timeval now;

	gettimeofday(&now, (struct timezone *) 0);
	qfile_time(qf, &now);
    }
}

/*
 * qfile_warn_time - set the W record that qfile_time() wrote.  It must be
 * the last record so far (nothing after T but W); we flush and check that
 * from the T record's length before overwriting W's data in place.
 */

void    qfile_warn_time(QFILE *qf, time_t when)
{
    int     fd = vstream_fd(qf->stream);
    unsigned char thdr[2];
    char    warn[QFILE_WARN_LEN + 1];
    off_t   w_off;

    if (when < 0)
	msg_panic("qfile_warn_time: negative time %ld", (long) when);
    qfile_need_time(qf);
    if (qf->error)
	return;
    if (vstream_flush(qf->stream) < 0) {
	qfile_fail(qf, "flush");
	return;
    }
    if (pread(fd, thdr, 2, QFILE_SIZE_REC_LEN) != 2) {
	qfile_fail(qf, "read time record");
	return;
    }
    w_off = QFILE_SIZE_REC_LEN + 2 + thdr[1];
    if (thdr[0] != REC_TYPE_TIME || thdr[1] >= 128
	|| vstream_tell(qf->stream) != w_off + QFILE_WARN_REC_LEN) {
	msg_warn("%s: qfile_warn_time called out of order", STR(qf->id));
	errno = EINVAL;
	qfile_fail(qf, "record order");
	return;
    }
    qfile_format_warn(warn, sizeof(warn), when);
    if (pwrite(fd, warn, QFILE_WARN_LEN, w_off + 2) != QFILE_WARN_LEN) {
	if (errno == 0)
	    errno = EIO;
	qfile_fail(qf, "write warning time");
    }
}

/* qfile_sender - the S record (after T) */

void    qfile_sender(QFILE *qf, const char *sender)
{
    qfile_need_time(qf);
    qfile_put(qf, REC_TYPE_FROM, sender, strlen(sender));
}

/* qfile_attr - an A record "name=value" */

void    qfile_attr(QFILE *qf, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    if (strchr(name, '=') != 0 || *name == 0)
	msg_panic("qfile_attr: bad attribute name \"%s\"", name);
    vstring_sprintf(buf, "%s=%s", name, value);
    qfile_need_time(qf);
    qfile_put(qf, REC_TYPE_ATTR, STR(buf), LEN(buf));
    vstring_free(buf);
}

/* qfile_rcpt - optional O record, then the R record */

void    qfile_rcpt(QFILE *qf, const char *orig_rcpt, const char *rcpt)
{
    qfile_need_time(qf);
    if (orig_rcpt != 0)
	qfile_put(qf, REC_TYPE_ORCP, orig_rcpt, strlen(orig_rcpt));
    qfile_put(qf, REC_TYPE_RCPT, rcpt, strlen(rcpt));
    qf->rcpt_count++;
}

/*
 * qfile_rcpt_dsn - as qfile_rcpt, with an N record "NOTIFY ORCPT" ("-" for
 * a missing part) when NOTIFY or ORCPT is given.  NOTIFY may not contain
 * white space; ORCPT may (it is the rest of the record).
 */

void    qfile_rcpt_dsn(QFILE *qf, const char *orig_rcpt, const char *rcpt,
		               const char *notify, const char *orcpt)
{
    VSTRING *buf;

    if (notify != 0 && *notify == 0)
	notify = 0;
    if (orcpt != 0 && *orcpt == 0)
	orcpt = 0;
    if (notify == 0 && orcpt == 0) {
	qfile_rcpt(qf, orig_rcpt, rcpt);
	return;
    }
    if (notify != 0 && (strpbrk(notify, " \t\r\n") != 0 || strcmp(notify, "-") == 0))
	msg_panic("qfile_rcpt_dsn: bad NOTIFY value \"%s\"", notify);
    if (orcpt != 0 && strcmp(orcpt, "-") == 0)
	msg_panic("qfile_rcpt_dsn: bad ORCPT value \"%s\"", orcpt);
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s %s", notify ? notify : "-", orcpt ? orcpt : "-");
    qfile_need_time(qf);
    if (orig_rcpt != 0)
	qfile_put(qf, REC_TYPE_ORCP, orig_rcpt, strlen(orig_rcpt));
    qfile_put(qf, REC_TYPE_DSN, STR(buf), LEN(buf));
    qfile_put(qf, REC_TYPE_RCPT, rcpt, strlen(rcpt));
    qf->rcpt_count++;
    vstring_free(buf);
}

/* qfile_begin_content - the M record */

void    qfile_begin_content(QFILE *qf)
{
    qfile_need_time(qf);
    qf->content_offset = vstream_tell(qf->stream);
    qfile_put(qf, REC_TYPE_MESG, "", 0);
}

/* qfile_flush_chunk - write pending content as one B record */

static void qfile_flush_chunk(QFILE *qf)
{
    if (LEN(qf->chunk) > 0) {
	qfile_put(qf, REC_TYPE_BODY, STR(qf->chunk), LEN(qf->chunk));
	vstring_reset(qf->chunk);
    }
}

/* qfile_content - content bytes, buffered into B records */

void    qfile_content(QFILE *qf, const void *data, size_t len)
{
    const char *cp = data;

    qf->content_size += len;
    while (len > 0 && qf->error == 0) {
	size_t  take = REC_BODY_CHUNK - LEN(qf->chunk);

	if (take > len)
	    take = len;
	vstring_memcat(qf->chunk, cp, take);
	cp += take;
	len -= take;
	if (LEN(qf->chunk) >= REC_BODY_CHUNK)
	    qfile_flush_chunk(qf);
    }
}

/*
 * qfile_read_back - the content written so far (B records from the M
 * record on) into CONTENT, for a writer that must look at it again
 * before the commit (smtpd's milters).  The file position is the end
 * again afterwards.  0, or -1 with errno (the file's error is set).
 */

int     qfile_read_back(QFILE *qf, VSTRING *content)
{
    VSTRING *buf = vstring_alloc(REC_BODY_CHUNK);
    off_t   end;
    int     type = REC_TYPE_ERROR;

    vstring_reset(content);
    qfile_flush_chunk(qf);
    if (qf->error == 0 && qf->content_offset == 0) {
	errno = EINVAL;
	qfile_fail(qf, "read back before content");
    }
    end = vstream_tell(qf->stream);
    if (qf->error == 0 && vstream_seek(qf->stream, qf->content_offset + 2) < 0)
	qfile_fail(qf, "seek");
    while (qf->error == 0
	   && (type = rec_get(qf->stream, buf, REC_BODY_CHUNK)) == REC_TYPE_BODY)
	vstring_memcat(content, STR(buf), LEN(buf));
    if (qf->error == 0 && (type != REC_TYPE_EOF || (long) LEN(content) != qf->content_size)) {
	errno = EIO;
	qfile_fail(qf, "read back content");
    }
    if (qf->error == 0 && vstream_seek(qf->stream, end) < 0)
	qfile_fail(qf, "seek");
    vstring_free(buf);
    if (qf->error)
	errno = qf->error;
    return (qf->error ? -1 : 0);
}

/*
 * qfile_restart - empty the file (same id, still locked) so the writer
 * can write it again from qfile_time() on: smtpd after milter edits.
 */

void    qfile_restart(QFILE *qf)
{
    if (qf->error)
	return;
    vstring_reset(qf->chunk);
    if (vstream_seek(qf->stream, 0) < 0 || ftruncate(vstream_fd(qf->stream), 0) < 0) {
	qfile_fail(qf, "truncate");
	return;
    }
    qf->rcpt_count = 0;
    qf->content_offset = 0;
    qf->content_size = 0;
    qfile_put_size(qf, 0L, 0L, 0L);
}

/* qfile_free - release memory, close the stream if still open */

static void qfile_free(QFILE *qf)
{
    if (qf->stream)
	(void) vstream_close(qf->stream);
    vstring_free(qf->id);
    vstring_free(qf->chunk);
    myfree(qf);
}

/* qfile_remove - unlink the file (it is still locked by us) */

static void qfile_remove(QFILE *qf)
{
    if (mail_queue_remove(qf->queue, STR(qf->id)) < 0 && errno != ENOENT)
	msg_warn("%s: remove %s file: %m", STR(qf->id), qf->queue);
}

/*
 * qfile_commit_start - write the end records and the size record, and set
 * the complete bit: everything of a commit but the fsync.  The bit goes on
 * before the fsync, so that one fsync covers both; qmgr may see the file
 * before it is on disk, but nobody hears of it before qfile_commit_finish.
 * 0: call qfile_sync_fd() and qfile_commit_finish(); -1 with errno: the
 * file is removed and QF freed.
 */

int     qfile_commit_start(QFILE *qf)
{
    int     saved;

    if (qf->content_offset == 0 && qf->error == 0) {
	msg_warn("%s: qfile_commit without content", STR(qf->id));
	errno = EINVAL;
	qfile_fail(qf, "record order");
    }
    qfile_flush_chunk(qf);
    qfile_put(qf, REC_TYPE_XTRA, "", 0);
    qfile_put(qf, REC_TYPE_END, "", 0);
    if (qf->error == 0 && vstream_seek(qf->stream, 0) < 0)
	qfile_fail(qf, "seek");
    qfile_put_size(qf, (long) qf->content_offset + 2, qf->content_size,
		   qf->rcpt_count);
    if (qf->error == 0 && vstream_flush(qf->stream) < 0)
	qfile_fail(qf, "flush");
    if (qf->error == 0 && fchmod(vstream_fd(qf->stream), MAIL_QUEUE_STAT_READY) < 0)
	qfile_fail(qf, "fchmod");
    if ((saved = qf->error) == 0)
	return (0);
    qfile_remove(qf);
    qfile_free(qf);
    errno = saved;
    return (-1);
}

/* qfile_sync_fd - the descriptor to fsync between start and finish */

int     qfile_sync_fd(const QFILE *qf)
{
    return (vstream_fd(qf->stream));
}

/*
 * qfile_commit_finish - after the fsync of qfile_sync_fd() (SYNC_ERR: its
 * errno, 0 if it worked): close; 0 when the file is complete and on disk,
 * else -1 with errno and the file removed.  QF is freed either way.
 */

int     qfile_commit_finish(QFILE *qf, int sync_err)
{
    int     saved;
    int     ret;

    if (sync_err) {
	errno = sync_err;
	qfile_fail(qf, "fsync");
    }
    if (qf->error == 0) {
	ret = vstream_close(qf->stream);
	qf->stream = 0;
	if (ret < 0)
	    qfile_fail(qf, "close");
    }
    if ((saved = qf->error) != 0)
	qfile_remove(qf);
    qfile_free(qf);
    if (saved) {
	errno = saved;
	return (-1);
    }
    return (0);
}

/* qfile_commit - finish the file and make it durable and complete */

int     qfile_commit(QFILE *qf)
{
    if (qfile_commit_start(qf) < 0)
	return (-1);
    return (qfile_commit_finish(qf, fsync(qfile_sync_fd(qf)) < 0 ? errno : 0));
}

/* qfile_abort - remove and free an unfinished file */

void    qfile_abort(QFILE *qf)
{
    qfile_remove(qf);
    qfile_free(qf);
}

/*
 * Reader.
 */

/* qenv_add_attr - store one "name=value" */

static int qenv_add_attr(QENV *env, const char *text, VSTRING *why)
{
    const char *eq = strchr(text, '=');

    if (eq == 0 || eq == text) {
	vstring_sprintf(why, "bad attribute record");
	return (-1);
    }
    if (env->attr_count >= conf_int("queue_file_attribute_count_limit")) {
	vstring_sprintf(why, "too many attribute records");
	return (-1);
    }
    env->attr_names = myrealloc(env->attr_names,
				(env->attr_count + 1) * sizeof(char *));
    env->attr_values = myrealloc(env->attr_values,
				 (env->attr_count + 1) * sizeof(char *));
    env->attr_names[env->attr_count] = mystrndup(text, eq - text);
    env->attr_values[env->attr_count] = mystrdup(eq + 1);
    env->attr_count++;
    return (0);
}

/* qenv_add_rcpt - store one recipient */

static void qenv_add_rcpt(QENV *env, const char *addr, char *orig,
			          char **dsn, off_t offset, int done)
{
    QRCPT  *rcpt;

    if ((env->rcpt_count & (env->rcpt_count - 1)) == 0)	/* 0, 1, 2, 4... */
	env->rcpts = myrealloc(env->rcpts, (env->rcpt_count ? 2 * env->rcpt_count
					    : 1) * sizeof(QRCPT));
    rcpt = env->rcpts + env->rcpt_count++;
    rcpt->address = mystrdup(addr);
    rcpt->orig = orig;
    rcpt->offset = offset;
    rcpt->done = done;
    rcpt->dsn_notify = dsn[0];
    rcpt->dsn_orcpt = dsn[1];
    dsn[0] = dsn[1] = 0;
}

/* qfile_parse_dsn - the N record "NOTIFY ORCPT" into DSN[0], DSN[1] */

static int qfile_parse_dsn(const char *text, char **dsn, VSTRING *why)
{
    const char *sp = strchr(text, ' ');

    if (dsn[0] != 0 || dsn[1] != 0) {
	vstring_sprintf(why, "two DSN records for one recipient");
	return (-1);
    }
    if (sp == 0 || sp == text || sp[1] == 0) {
	vstring_sprintf(why, "bad DSN record");
	return (-1);
    }
    if (sp - text != 1 || text[0] != '-')
	dsn[0] = mystrndup(text, sp - text);
    if (strcmp(sp + 1, "-") != 0)
	dsn[1] = mystrdup(sp + 1);
    return (0);
}

/* qfile_parse_warn - the W record */

static int qfile_parse_warn(const char *text, time_t *when)
{
    long    val;
    char    junk;

    if (sscanf(text, "%ld%c", &val, &junk) != 1 || val < 0)
	return (0);
    *when = val;
    return (1);
}

/* qfile_parse_size - the C record */

static int qfile_parse_size(const char *text, long *offset, long *size,
			            long *count)
{
    char    junk;

    return (sscanf(text, "%ld %ld %ld%c", offset, size, count, &junk) == 3
	    && *offset > 0 && *size >= 0 && *count >= 0);
}

/* qfile_parse_time - the T record */

static int qfile_parse_time(const char *text, struct timeval *tv)
{
    long    sec;
    long    usec;
    char    junk;

    if (sscanf(text, "%ld %ld%c", &sec, &usec, &junk) != 2
	|| sec < 0 || usec < 0 || usec >= 1000000)
	return (0);
    tv->tv_sec = sec;
    tv->tv_usec = usec;
    return (1);
}

/* qfile_rcpt_record - a record that starts a recipient (O, N, R or D) */

static int qfile_rcpt_record(int type)
{
    return (type == REC_TYPE_ORCP || type == REC_TYPE_DSN
	    || type == REC_TYPE_RCPT || type == REC_TYPE_DONE);
}

/*
 * qfile_read_end - the M record was read: the envelope ends where the size
 * record says, with as many recipients as it says
 */
static int qfile_read_end(VSTREAM *stream, QENV *env, VSTRING *why)
{
    off_t   end = vstream_tell(stream);

    env->rcpt_offset = 0;
    if (end != env->content_offset) {
	vstring_sprintf(why, "content offset %ld does not match size record %ld",
			(long) end, (long) env->content_offset);
	return (-1);
    }
    if (env->rcpt_seen != env->rcpt_total) {
	vstring_sprintf(why, "%ld recipients do not match size record %ld",
			env->rcpt_seen, env->rcpt_total);
	return (-1);
    }
    return (0);
}

/* QFILE_PENDING - O and N records waiting for their R */

typedef struct QFILE_PENDING {
    char   *orig;			/* O record */
    char   *dsn[2];			/* NOTIFY, ORCPT of the N record */
} QFILE_PENDING;

static void qfile_pending_free(QFILE_PENDING *p)
{
    if (p->orig)
	myfree(p->orig);
    if (p->dsn[0])
	myfree(p->dsn[0]);
    if (p->dsn[1])
	myfree(p->dsn[1]);
}

#define QFILE_PENDING_ANY(p) ((p)->orig || (p)->dsn[0] || (p)->dsn[1])

/* qfile_rcpt_one - one A/O/N/R/D record of the recipient part; 0 or -1 */

static int qfile_rcpt_one(QENV *env, int type, const char *text, off_t offset,
			          QFILE_PENDING *p, VSTRING *why)
{
    switch (type) {
    case REC_TYPE_ATTR:
	if (QFILE_PENDING_ANY(p)) {
	    vstring_sprintf(why, "attribute between recipient records");
	    return (-1);
	}
	return (qenv_add_attr(env, text, why));
    case REC_TYPE_DSN:
	return (qfile_parse_dsn(text, p->dsn, why));
    case REC_TYPE_ORCP:
	if (p->orig != 0) {
	    vstring_sprintf(why, "two original recipient records in a row");
	    return (-1);
	}
	p->orig = mystrdup(text);
	return (0);
    case REC_TYPE_RCPT:
    case REC_TYPE_DONE:
	if (++env->rcpt_seen > env->rcpt_total) {
	    vstring_sprintf(why, "more recipients than the size record says (%ld)",
			    env->rcpt_total);
	    return (-1);
	}
	qenv_add_rcpt(env, text, p->orig, p->dsn, offset, type == REC_TYPE_DONE);
	p->orig = 0;
	return (0);
    default:
	vstring_sprintf(why, "unexpected record type %d in envelope", type);
	return (-1);
    }
}

/*
 * qfile_read_rcpts - the next slice of at most LIMIT recipients (with the
 * A records among them), from ENV's rcpt_offset; the previous slice is
 * freed first.  Afterwards rcpt_offset is where the next slice starts, or
 * 0 when the M record was reached (then the end is checked against the
 * size record).  The number of recipients read, or -1 (WHY).
 */
int     qfile_read_rcpts(VSTREAM *stream, QENV *env, int limit, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(100);
    QFILE_PENDING pending = {0, {0, 0}};
    off_t   offset;
    int     type;
    int     ret = -1;

    if (limit < 1)
	msg_panic("qfile_read_rcpts: bad limit %d", limit);
    qenv_free_rcpts(env);
    vstring_reset(why);
    if (env->rcpt_offset <= 0) {
	vstring_sprintf(why, "no recipients left to read");
    } else if (vstream_seek(stream, env->rcpt_offset) < 0) {
	vstring_sprintf(why, "seek: %m");
    } else {
	for (;;) {
	    offset = vstream_tell(stream);
	    if ((type = rec_get_checked(stream, buf, QFILE_REC_LIMIT, why)) < 0)
		break;
	    if (env->rcpt_count >= limit && qfile_rcpt_record(type)) {
		env->rcpt_offset = offset;	/* the next slice starts here */
		ret = env->rcpt_count;
		break;
	    }
	    if (type == REC_TYPE_MESG) {
		if (QFILE_PENDING_ANY(&pending))
		    vstring_sprintf(why, "%s without recipient", pending.orig ?
				    "original recipient" : "DSN record");
		else if (qfile_read_end(stream, env, why) == 0)
		    ret = env->rcpt_count;
		break;
	    }
	    if (qfile_rcpt_one(env, type, STR(buf), offset, &pending, why) < 0)
		break;
	}
    }
    qfile_pending_free(&pending);
    vstring_free(buf);
    if (ret < 0) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "bad recipient records");
	qenv_free_rcpts(env);
    }
    return (ret);
}

/* qfile_read_start - C, T, optional W and S records; 0 or -1 (WHY) */

static int qfile_read_start(VSTREAM *stream, QENV *env, VSTRING *buf, VSTRING *why)
{
    long    offset, size, count;
    off_t   off;
    int     type;

    if (rec_get_checked(stream, buf, QFILE_REC_LIMIT, why) != REC_TYPE_SIZE
	|| !qfile_parse_size(STR(buf), &offset, &size, &count)) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "missing or bad size record");
	return (-1);
    }
    env->content_offset = offset;
    env->content_size = size;
    env->rcpt_total = count;
    if (rec_get_checked(stream, buf, QFILE_REC_LIMIT, why) != REC_TYPE_TIME
	|| !qfile_parse_time(STR(buf), &env->arrival)) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "missing or bad arrival time record");
	return (-1);
    }
    off = vstream_tell(stream);
    if ((type = rec_get_checked(stream, buf, QFILE_REC_LIMIT, why)) == REC_TYPE_WARN) {
	if (!qfile_parse_warn(STR(buf), &env->warn_time)) {
	    vstring_sprintf(why, "bad delay warning time record");
	    return (-1);
	}
	env->warn_offset = off;
	type = rec_get_checked(stream, buf, QFILE_REC_LIMIT, why);
    }
    if (type != REC_TYPE_FROM) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "missing sender record");
	return (-1);
    }
    env->sender = mystrdup(STR(buf));
    return (0);
}

/* qfile_check_size - the file is as long as the size record says */

static int qfile_check_size(VSTREAM *stream, const QENV *env, VSTRING *why)
{
    struct stat st;

    if (fstat(vstream_fd(stream), &st) < 0) {
	vstring_sprintf(why, "fstat: %m");
	return (-1);
    }
    if (env->content_offset > st.st_size
	|| env->content_size > st.st_size - env->content_offset) {
	vstring_sprintf(why, "file is shorter than its size record says");
	return (-1);
    }
    return (0);
}

/*
 * qfile_read_header - the envelope up to its first recipient: sender,
 * attributes, times and the size record's numbers (content_offset and
 * content_size as the size record says, rcpt_total).  rcpt_offset is the
 * first recipient's first record, for qfile_read_rcpts(), or 0 when the M
 * record came first (no recipients; the end is checked).  0 or -1 (WHY).
 */
int     qfile_read_header(VSTREAM *stream, QENV *env, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(100);
    off_t   offset;
    int     type;
    int     ret = -1;

    memset(env, 0, sizeof(*env));
    vstring_reset(why);
    if (vstream_seek(stream, 0) < 0) {
	vstring_sprintf(why, "seek: %m");
    } else if (qfile_read_start(stream, env, buf, why) == 0
	       && qfile_check_size(stream, env, why) == 0) {
	for (;;) {
	    offset = vstream_tell(stream);
	    if ((type = rec_get_checked(stream, buf, QFILE_REC_LIMIT, why)) < 0)
		break;
	    if (qfile_rcpt_record(type)) {
		env->rcpt_offset = offset;
		ret = 0;
		break;
	    }
	    if (type == REC_TYPE_MESG) {
		ret = qfile_read_end(stream, env, why);
		break;
	    }
	    if (type != REC_TYPE_ATTR) {
		vstring_sprintf(why, "unexpected record type %d in envelope", type);
		break;
	    }
	    if (qenv_add_attr(env, STR(buf), why) < 0)
		break;
	}
    }
    vstring_free(buf);
    if (ret < 0)
	qenv_free(env);
    return (ret);
}

/* qfile_read_envelope - everything before the content: every recipient */

int     qfile_read_envelope(VSTREAM *stream, QENV *env, VSTRING *why)
{
    if (qfile_read_header(stream, env, why) < 0)
	return (-1);
    if (env->rcpt_offset > 0 && qfile_read_rcpts(stream, env, INT_MAX, why) < 0) {
	qenv_free(env);
	return (-1);
    }
    return (0);
}

/* qenv_free_rcpts - release the recipients (of a slice) only */

void    qenv_free_rcpts(QENV *env)
{
    for (int i = 0; i < env->rcpt_count; i++) {
	myfree(env->rcpts[i].address);
	if (env->rcpts[i].orig)
	    myfree(env->rcpts[i].orig);
	if (env->rcpts[i].dsn_notify)
	    myfree(env->rcpts[i].dsn_notify);
	if (env->rcpts[i].dsn_orcpt)
	    myfree(env->rcpts[i].dsn_orcpt);
    }
    if (env->rcpts)
	myfree(env->rcpts);
    env->rcpts = 0;
    env->rcpt_count = 0;
}

/* qenv_free - release what qfile_read_envelope stored */

void    qenv_free(QENV *env)
{
    int     i;

    if (env->sender)
	myfree(env->sender);
    for (i = 0; i < env->attr_count; i++) {
	myfree(env->attr_names[i]);
	myfree(env->attr_values[i]);
    }
    if (env->attr_names)
	myfree(env->attr_names);
    if (env->attr_values)
	myfree(env->attr_values);
    qenv_free_rcpts(env);
    memset(env, 0, sizeof(*env));
}

/* qenv_attr - the value of the first attribute NAME, or NULL */

const char *qenv_attr(const QENV *env, const char *name)
{
    int     i;

    for (i = 0; i < env->attr_count; i++)
	if (strcmp(env->attr_names[i], name) == 0)
	    return (env->attr_values[i]);
    return (0);
}

/* qfile_read_content - stream B records to FN, then check X and E */

int     qfile_read_content(VSTREAM *stream, const QENV *env,
		   int (*fn) (const char *data, size_t len, void *ctx), void *ctx,
			           VSTRING *why)
{
    VSTRING *buf = vstring_alloc(REC_BODY_CHUNK);
    long    total = 0;
    int     type;
    int     ret = -1;

    vstring_reset(why);
    if (vstream_seek(stream, env->content_offset) < 0) {
	vstring_sprintf(why, "seek: %m");
	goto out;
    }
    while ((type = rec_get_checked(stream, buf, REC_BODY_CHUNK, why)) == REC_TYPE_BODY) {
	total += (long) LEN(buf);
	if (total > env->content_size) {
	    vstring_sprintf(why, "content is longer than its size record says");
	    goto out;
	}
	if ((ret = fn(STR(buf), LEN(buf), ctx)) != 0)
	    goto out;
	ret = -1;
    }
    if (type != REC_TYPE_XTRA) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "unexpected record type %d in content", type);
	goto out;
    }
    if (total != env->content_size) {
	vstring_sprintf(why, "content size %ld does not match size record %ld",
			total, env->content_size);
	goto out;
    }
    if ((type = rec_get_checked(stream, buf, QFILE_REC_LIMIT, why)) != REC_TYPE_END) {
	if (LEN(why) == 0)
	    vstring_sprintf(why, "missing end record");
	goto out;
    }
    if ((type = rec_get(stream, buf, QFILE_REC_LIMIT)) != REC_TYPE_EOF) {
	vstring_sprintf(why, "garbage after end record");
	goto out;
    }
    ret = 0;
out:
    vstring_free(buf);
    return (ret);
}

/*
 * qfile_mark_done - flip the R record at OFFSET to D.  Not fsynced, as
 * Postfix's deliver_completed(): the mark only saves a second delivery
 * after a crash; losing it (the page not yet written back) makes the
 * recipient be delivered again, never lost.  What must be durable before
 * the queue file goes away is the delivery itself (the mailbox's fsyncs,
 * the next hop's 250).
 */

int     qfile_mark_done(int fd, off_t offset)
{
    char    ch;
    ssize_t n;

    if ((n = pread(fd, &ch, 1, offset)) != 1) {
	msg_warn("qfile_mark_done: read at offset %ld: %s", (long) offset,
		 n < 0 ? strerror(errno) : "end of file");
	if (n >= 0)
	    errno = EINVAL;
	return (-1);
    }
    if (ch != REC_TYPE_RCPT && ch != REC_TYPE_DONE) {
	msg_warn("qfile_mark_done: no recipient record at offset %ld",
		 (long) offset);
	errno = EINVAL;
	return (-1);
    }
    ch = REC_TYPE_DONE;
    if (pwrite(fd, &ch, 1, offset) != 1) {
	msg_warn("qfile_mark_done: write at offset %ld: %m", (long) offset);
	return (-1);
    }
    return (0);
}

/*
 * qfile_update_warn - overwrite the data of ENV's W record with WHEN (0:
 * warning sent or none due) and make it durable.  The record has a fixed
 * width, so the file size does not change and fdatasync() suffices.
 */

int     qfile_update_warn(int fd, const QENV *env, time_t when)
{
    unsigned char hdr[2];
    char    warn[QFILE_WARN_LEN + 1];
    ssize_t n;

    if (env->warn_offset <= 0 || when < 0) {
	msg_warn("qfile_update_warn: %s", when < 0 ? "negative time" :
		 "queue file has no delay warning record");
	errno = EINVAL;
	return (-1);
    }
    if ((n = pread(fd, hdr, 2, env->warn_offset)) != 2) {
	msg_warn("qfile_update_warn: read at offset %ld: %s",
		 (long) env->warn_offset, n < 0 ? strerror(errno) : "end of file");
	if (n >= 0)
	    errno = EINVAL;
	return (-1);
    }
    if (hdr[0] != REC_TYPE_WARN || hdr[1] != QFILE_WARN_LEN) {
	msg_warn("qfile_update_warn: no delay warning record at offset %ld",
		 (long) env->warn_offset);
	errno = EINVAL;
	return (-1);
    }
    qfile_format_warn(warn, sizeof(warn), when);
    if (pwrite(fd, warn, QFILE_WARN_LEN, env->warn_offset + 2) != QFILE_WARN_LEN) {
	msg_warn("qfile_update_warn: write at offset %ld: %m",
		 (long) env->warn_offset);
	if (errno == 0)
	    errno = EIO;
	return (-1);
    }
    if (fdatasync(fd) < 0) {
	msg_warn("qfile_update_warn: fdatasync: %m");
	return (-1);
    }
    return (0);
}
