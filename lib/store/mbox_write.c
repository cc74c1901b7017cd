/*
 * mbox_write.c - write a whole new mbox file from the scanned messages of
 * the old one (mbox_write.h).
 *
 * The old file is read with pread() in 64 KiB pieces and the new one
 * written through a 64 KiB buffer; header blocks pass through an
 * MBOX_FILTER, which drops our fields whatever their case or folding.
 * The first read or write error stops the copy and is reported; the
 * caller removes the new file then.
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "clock.h"
#include "mbox_parse.h"
#include "mbox_write.h"

#define MBOX_IO_SIZE		65536
#define MBOX_FLAGS_X_STATUS	(STORE_ANSWERED | STORE_FLAGGED | STORE_DRAFT \
				 | STORE_DELETED)

typedef struct WRITER {
    int     fd;				/* the new file */
    int     in_fd;			/* the old one */
    VSTRING *buf;
    char   *in;
    int     last;			/* last byte written */
    int     write_error;		/* errno of the first failure */
    int     read_error;
} WRITER;

/* read_at - pread() without EINTR */

static ssize_t read_at(int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;

    while ((n = pread(fd, buf, len, off)) < 0 && errno == EINTR)
	 /* void */ ;
    return (n);
}

static int writer_flush(WRITER *w)
{
    if (w->write_error == 0 && LEN(w->buf) > 0
	&& write_full(w->fd, STR(w->buf), LEN(w->buf)) < 0)
	w->write_error = errno ? errno : EIO;
    vstring_reset(w->buf);
    return (w->write_error ? -1 : 0);
}

/* writer_put - MAILBOX_WRITE_FN into the new file */

static int writer_put(void *ctx, const char *data, size_t len)
{
    WRITER *w = (WRITER *) ctx;

    if (w->write_error || w->read_error)
	return (-1);
    if (len == 0)
	return (0);
    vstring_memcat(w->buf, data, len);
    w->last = (unsigned char) data[len - 1];
    return (LEN(w->buf) >= MBOX_IO_SIZE ? writer_flush(w) : 0);
}

/* writer_copy - bytes FROM..TO of the old file, through FILTER if given */

static void writer_copy(WRITER *w, off_t from, off_t to, MBOX_FILTER *filter)
{
    ssize_t n;
    size_t  want;

    while (from < to && !w->read_error && !w->write_error) {
	want = to - from < MBOX_IO_SIZE ? (size_t) (to - from) : MBOX_IO_SIZE;
	if ((n = read_at(w->in_fd, w->in, want, from)) <= 0) {
	    w->read_error = n < 0 ? errno : EIO;
	    return;
	}
	if (filter)
	    (void) mbox_filter_write(filter, w->in, (size_t) n, writer_put, w);
	else
	    (void) writer_put(w, w->in, (size_t) n);
	from += n;
    }
    if (filter)
	(void) mbox_filter_flush(filter, writer_put, w);
}

void    mbox_put_base(VSTRING *buf, STORE_FOLDER *folder, const char *name,
		              unsigned uidvalidity, unsigned last)
{
    int     i;

    vstring_sprintf_append(buf, "%s: %u %010u", name, uidvalidity, last);
    for (i = 0; i < folder->keyword_count; i++)
	vstring_sprintf_append(buf, " %s", folder->keywords[i]);
    vstring_strcat(buf, "\n");
}

void    mbox_put_fields(VSTRING *buf, STORE_FOLDER *folder, unsigned uid,
			        unsigned flags, int old, unsigned keywords)
{
    int     i;

    vstring_sprintf_append(buf, "X-UID: %u\n", uid);
    if ((flags & STORE_SEEN) || old)
	vstring_sprintf_append(buf, "Status: %s%s\n",
			       (flags & STORE_SEEN) ? "R" : "", old ? "O" : "");
    if (flags & MBOX_FLAGS_X_STATUS)
	vstring_sprintf_append(buf, "X-Status: %s%s%s%s\n",
			       (flags & STORE_ANSWERED) ? "A" : "",
			       (flags & STORE_FLAGGED) ? "F" : "",
			       (flags & STORE_DRAFT) ? "T" : "",
			       (flags & STORE_DELETED) ? "D" : "");
    if (folder->keyword_count < 32)
	keywords &= (1U << folder->keyword_count) - 1;
    if (keywords == 0)
	return;
    vstring_strcat(buf, "X-Keywords:");
    for (i = 0; i < folder->keyword_count; i++)
	if (keywords & (1U << i))
	    vstring_sprintf_append(buf, " %s", folder->keywords[i]);
    vstring_strcat(buf, "\n");
}

/*
 * write_mail - one message: From_ line, header lines without our fields,
 * FIELDS, the rest byte for byte, a final newline if missing, separator.
 * A header block that ends the file with a lone CR keeps that CR after
 * FIELDS: with the newline added it becomes the empty line that ends the
 * header block, and FIELDS must come before it.
 */
static void write_mail(WRITER *w, const MBOX_MAIL *m, VSTRING *fields)
{
    MBOX_FILTER filter;
    off_t   body = m->content_end - m->body_start;
    off_t   hdr_end = m->hdr_end;
    char    tail[2];

    if (hdr_end == m->content_end && hdr_end > m->hdr_start
	&& read_at(w->in_fd, tail, 2, hdr_end - 2) == 2 && tail[1] == '\r'
	&& (hdr_end - 1 == m->hdr_start || tail[0] == '\n'))
	hdr_end -= 1;
    writer_copy(w, m->offset, m->hdr_start, (MBOX_FILTER *) 0);
    if (w->last != '\n')
	(void) writer_put(w, "\n", 1);
    mbox_filter_init(&filter);
    writer_copy(w, m->hdr_start, hdr_end, &filter);
    if (w->last != '\n')
	(void) writer_put(w, "\n", 1);
    if (m->content_length) {
	if (body > 0 && read_at(w->in_fd, tail, 1, m->content_end - 1) == 1
	    && tail[0] != '\n')
	    body++;				/* the newline added below */
	vstring_sprintf_append(fields, "Content-Length: %ld\n", (long) body);
    }
    (void) writer_put(w, STR(fields), LEN(fields));
    writer_copy(w, hdr_end, m->content_end, (MBOX_FILTER *) 0);
    if (w->last != '\n')
	(void) writer_put(w, "\n", 1);
    (void) writer_put(w, "\n", 1);
}

/* write_new_pseudo - a "FOLDER INTERNAL DATA" message of our own */

static void write_new_pseudo(WRITER *w, STORE_FOLDER *folder,
			             unsigned uidvalidity, unsigned last)
{
    VSTRING *buf = vstring_alloc(1000);
    time_t  now = time((time_t *) 0);
    char    host[256], date[64], from_date[32];
    struct tm tm;

    if (gethostname(host, sizeof(host)) < 0)
	memcpy(host, "localhost", sizeof("localhost"));
    host[sizeof(host) - 1] = 0;
    localtime_r(&now, &tm);
    strftime(from_date, sizeof(from_date), "%a %b %e %H:%M:%S %Y", &tm);
    vstring_sprintf(buf, "From MAILER-DAEMON  %s\n"
		    "Date: %s\n"
		    "From: Mail System Internal Data <MAILER-DAEMON@%s>\n"
		    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
		    "Message-ID: <%ld@%s>\n",
		    from_date, clock_rfc2822(date, sizeof(date), now),
		    host, (long) now, host);
    mbox_put_base(buf, folder, "X-IMAP", uidvalidity, last);
    vstring_strcat(buf, "Status: RO\n\n"
		   "This message holds the folder's own data (UIDs and keywords)\n"
		   "for IMAP and POP3 servers; it is not a real message.  Deleting\n"
		   "it resets that data.\n\n");
    (void) writer_put(w, STR(buf), LEN(buf));
    vstring_free(buf);
}

static int uid_compare(const void *a, const void *b)
{
    unsigned ua = *(const unsigned *) a, ub = *(const unsigned *) b;

    return (ua < ub ? -1 : ua > ub);
}

void    mbox_uid_sort(unsigned *uids, int count)
{
    qsort(uids, count, sizeof(*uids), uid_compare);
}

int     mbox_change_expunges(const MBOX_CHANGE *change, unsigned uid)
{
    return (change && change->expunge_count > 0
	    && bsearch(&uid, change->expunge, change->expunge_count,
		       sizeof(unsigned), uid_compare) != 0);
}

const MBOX_FLAGS *mbox_change_flags(const MBOX_CHANGE *change, unsigned uid)
{
    int     lo = 0, hi, mid;

    if (change == 0)
	return (0);
    for (hi = change->flags_count - 1; lo <= hi; /* void */ ) {
	mid = lo + (hi - lo) / 2;
	if (change->flags[mid].uid == uid)
	    return (change->flags + mid);
	if (change->flags[mid].uid < uid)
	    lo = mid + 1;
	else
	    hi = mid - 1;
    }
    return (0);
}

/* write_messages - junk before the first message, the messages, a pseudo */

static void write_messages(WRITER *w, STORE_FOLDER *folder, const MBOX_SCAN *scan,
			           const MBOX_CHANGE *change, int same,
			           unsigned uidvalidity, unsigned last)
{
    VSTRING *fields = vstring_alloc(200);
    const MBOX_MAIL *m;
    const MBOX_FLAGS *set;
    unsigned flags, keywords;
    int     i, old, kept = 0;

    writer_copy(w, 0, scan->count ? scan->mails[0].offset : scan->end,
		(MBOX_FILTER *) 0);
    for (i = 0; i < scan->count; i++) {
	m = scan->mails + i;
	vstring_reset(fields);
	if (m->uid == 0) {
	    mbox_put_base(fields, folder, "X-IMAP", uidvalidity, last);
	    vstring_strcat(fields, "Status: RO\n");
	    write_mail(w, m, fields);
	    continue;
	}
	if (same && mbox_change_expunges(change, m->uid))
	    continue;
	flags = m->flags & STORE_FLAGS_STORED;
	keywords = m->keywords;
	if (same && (set = mbox_change_flags(change, m->uid)) != 0) {
	    flags = set->flags;
	    keywords = set->keywords;
	}
	old = !(m->flags & STORE_RECENT) || (same && store_uid_seq(folder, m->uid) > 0);
	if (kept++ == 0 && !scan->pseudo)
	    mbox_put_base(fields, folder, "X-IMAPbase", uidvalidity, last);
	mbox_put_fields(fields, folder, m->uid, flags, old, keywords);
	write_mail(w, m, fields);
    }
    if (kept == 0 && !scan->pseudo && scan->count > 0)
	write_new_pseudo(w, folder, uidvalidity, last);
    vstring_free(fields);
}

int     mbox_write_file(int out_fd, const char *out_path, int in_fd,
			        STORE_FOLDER *folder, const MBOX_SCAN *scan,
			        const MBOX_CHANGE *change, int same,
			        unsigned uidvalidity, unsigned last, VSTRING *why)
{
    WRITER  w;
    int     ret = 0;

    memset(&w, 0, sizeof(w));
    w.fd = out_fd;
    w.in_fd = in_fd;
    w.buf = vstring_alloc(MBOX_IO_SIZE);
    w.in = mymalloc(MBOX_IO_SIZE);
    w.last = '\n';
    write_messages(&w, folder, scan, change, same, uidvalidity, last);
    if (writer_flush(&w) == 0 && w.read_error == 0 && fsync(out_fd) < 0)
	w.write_error = errno;
    if (w.read_error) {
	vstring_sprintf(why, "read %s: %s", folder->path, strerror(w.read_error));
	ret = -1;
    } else if (w.write_error) {
	vstring_sprintf(why, "write %s: %s", out_path, strerror(w.write_error));
	ret = -1;
    }
    vstring_free(w.buf);
    myfree(w.in);
    return (ret);
}
