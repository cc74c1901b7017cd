/*
 * mbox_parse.c - find the messages of an mbox file and read the fields
 * IMAP servers keep in their headers (mbox_parse.h).
 *
 * mbox_parse() reads the file in 64 KiB pieces with pread() and walks it
 * line by line with memchr(); a line longer than the buffer is handled in
 * pieces (only its first MBOX_LOOKAHEAD bytes decide what it is), so
 * nothing is allocated per line and a giant header line costs no memory.
 * Sizes are counted on the way: a message's size is its content minus the
 * lines of our fields; its vsize adds one byte for every newline that is
 * not already preceded by a carriage return.  Whatever the bytes (NUL,
 * binary junk, CR-LF, no final newline), the result is a list of messages
 * or a read error, never a crash.
 */
#include "sys_defs.h"
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mbox_parse.h"

#define MBOX_BUF_SIZE	65536
#define MBOX_FROM_MAX	512		/* From_ line bytes kept for its date */

static const struct {
    const char *name;
    size_t  len;
} mbox_fields[MBOX_FIELD_COUNT] = {
    [MBOX_X_IMAPBASE] = {"X-IMAPbase", 10},
    [MBOX_X_IMAP] = {"X-IMAP", 6},
    [MBOX_X_UID] = {"X-UID", 5},
    [MBOX_STATUS] = {"Status", 6},
    [MBOX_X_STATUS] = {"X-Status", 8},
    [MBOX_X_KEYWORDS] = {"X-Keywords", 10},
    [MBOX_CONTENT_LENGTH] = {"Content-Length", 14},
};

/* mbox_line_kind - what a header line is, from its first bytes */

int     mbox_line_kind(const char *line, size_t len, int *field, size_t *value_pos)
{
    size_t  name_len, i;
    int     n;

    if (len > MBOX_LOOKAHEAD)
	len = MBOX_LOOKAHEAD;
    if (len == 0)
	return (MBOX_LINE_OTHER);
    if (line[0] == '\n' || (len >= 2 && line[0] == '\r' && line[1] == '\n'))
	return (MBOX_LINE_EMPTY);
    if (line[0] == ' ' || line[0] == '\t')
	return (MBOX_LINE_CONT);
    for (name_len = 0; name_len < len; name_len++)
	if (line[name_len] == ':' || line[name_len] == ' '
	    || line[name_len] == '\t' || line[name_len] == '\n')
	    break;
    for (i = name_len; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
	 /* void */ ;
    if (i >= len || line[i] != ':')
	return (MBOX_LINE_OTHER);
    for (n = 0; n < MBOX_FIELD_COUNT; n++) {
	if (mbox_fields[n].len == name_len
	    && strncasecmp(line, mbox_fields[n].name, name_len) == 0) {
	    *field = n;
	    *value_pos = i + 1;
	    return (MBOX_LINE_OURS);
	}
    }
    return (MBOX_LINE_OTHER);
}

/*
 * The header filter.
 */

void    mbox_filter_init(MBOX_FILTER *filter)
{
    memset(filter, 0, sizeof(*filter));
    filter->in_header = 1;
    filter->bol = 1;
}

/* filter_decide - the pending line start is complete: pass or hide it */

static int filter_decide(MBOX_FILTER *filter, MAILBOX_WRITE_FN out, void *out_ctx)
{
    size_t  pos;
    int     field;
    int     ret = 0;

    switch (mbox_line_kind(filter->pend, filter->npend, &field, &pos)) {
    case MBOX_LINE_EMPTY:
	filter->in_header = 0;
	filter->hide = 0;
	break;
    case MBOX_LINE_CONT:
	filter->hide = filter->hide_cont;
	break;
    case MBOX_LINE_OURS:
	filter->hide = filter->hide_cont = 1;
	break;
    default:
	filter->hide = filter->hide_cont = 0;
	break;
    }
    if (!filter->hide)
	ret = out(out_ctx, filter->pend, filter->npend);
    filter->bol = (filter->pend[filter->npend - 1] == '\n');
    filter->npend = 0;
    return (ret);
}

int     mbox_filter_write(MBOX_FILTER *filter, const char *data, size_t len,
			          MAILBOX_WRITE_FN out, void *out_ctx)
{
    const char *nl;
    size_t  n;

    while (len > 0) {
	if (!filter->in_header)
	    return (out(out_ctx, data, len));
	if (filter->bol) {
	    n = MBOX_LOOKAHEAD - filter->npend;
	    if (n > len)
		n = len;
	    if ((nl = memchr(data, '\n', n)) != 0)
		n = (size_t) (nl - data) + 1;
	    memcpy(filter->pend + filter->npend, data, n);
	    filter->npend += n;
	    data += n;
	    len -= n;
	    if (nl == 0 && filter->npend < MBOX_LOOKAHEAD)
		continue;			/* len is 0: wait for more */
	    if (filter_decide(filter, out, out_ctx) != 0)
		return (-1);
	    continue;
	}
	nl = memchr(data, '\n', len);
	n = nl ? (size_t) (nl - data) + 1 : len;
	if (!filter->hide && out(out_ctx, data, n) != 0)
	    return (-1);
	data += n;
	len -= n;
	filter->bol = (nl != 0);
    }
    return (0);
}

int     mbox_filter_flush(MBOX_FILTER *filter, MAILBOX_WRITE_FN out, void *out_ctx)
{
    if (filter->in_header && filter->npend > 0)
	return (filter_decide(filter, out, out_ctx));
    return (0);
}

/*
 * From_ line dates: "From sender Mon Nov 23 15:07:19 2026", also with a
 * zone ("+0100", "PST") before or after the year, or without seconds.
 */

/* name_index - which of COUNT three-letter NAMES is at CP; -1 */

static int name_index(const char *names, int count, const char *cp, size_t len)
{
    int     i;

    if (len < 3)
	return (-1);
    for (i = 0; i < count; i++)
	if (strncasecmp(cp, names + 3 * i, 3) == 0)
	    return (i);
    return (-1);
}

/* skip_spaces - at least one space; 0 if none */

static int skip_spaces(const char **cpp, const char *end)
{
    const char *cp = *cpp;

    while (cp < end && *cp == ' ')
	cp++;
    if (cp == *cpp)
	return (0);
    *cpp = cp;
    return (1);
}

/* get_number - MIN..MAX digits; 0 if not */

static int get_number(const char **cpp, const char *end, int min, int max, int *val)
{
    const char *cp = *cpp;
    int     n = 0;

    *val = 0;
    while (cp < end && n < max && *cp >= '0' && *cp <= '9') {
	*val = *val * 10 + (*cp++ - '0');
	n++;
    }
    if (n < min || (cp < end && *cp >= '0' && *cp <= '9'))
	return (0);
    *cpp = cp;
    return (1);
}

/* from_time - " Mmm dd hh:mm[:ss] [zone] yyyy [zone]" after the weekday */

static time_t from_time(const char *cp, const char *end)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    int     year = -1, zone = 0, have_zone = 0, val, i;
    time_t  t;

    memset(&tm, 0, sizeof(tm));
    if (!skip_spaces(&cp, end)
	|| (tm.tm_mon = name_index(months, 12, cp, (size_t) (end - cp))) < 0)
	return (-1);
    cp += 3;
    if (!skip_spaces(&cp, end) || !get_number(&cp, end, 1, 2, &tm.tm_mday)
	|| tm.tm_mday < 1 || tm.tm_mday > 31
	|| !skip_spaces(&cp, end) || !get_number(&cp, end, 1, 2, &tm.tm_hour)
	|| cp >= end || *cp++ != ':' || !get_number(&cp, end, 2, 2, &tm.tm_min))
	return (-1);
    if (cp < end && *cp == ':' && (cp++, !get_number(&cp, end, 2, 2, &tm.tm_sec)))
	return (-1);
    if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
	return (-1);
    for (i = 0; i < 2 && skip_spaces(&cp, end) && cp < end; i++) {
	if (year < 0 && get_number(&cp, end, 4, 4, &val)) {
	    year = val;
	    continue;
	}
	if ((*cp == '+' || *cp == '-') && end - cp >= 5) {
	    int     sign = (*cp++ == '-') ? -1 : 1;

	    if (!get_number(&cp, end, 4, 4, &val))
		break;
	    zone = sign * ((val / 100) * 3600 + (val % 100) * 60);
	    have_zone = 1;
	    continue;
	}
	while (cp < end && ((*cp >= 'A' && *cp <= 'Z') || (*cp >= 'a' && *cp <= 'z')))
	    cp++;				/* a zone name: local time anyway */
    }
    if (year < 1970)
	return (-1);
    tm.tm_year = year - 1900;
    if (have_zone)
	return ((t = timegm(&tm)) == -1 ? -1 : t - zone);
    tm.tm_isdst = -1;
    return (mktime(&tm));
}

time_t  mbox_from_date(const char *line, size_t len)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    const char *end = line + len;
    size_t  i;
    time_t  t;

    for (i = 5; i + 3 <= len; i++) {
	if (line[i - 1] != ' ' || name_index(days, 7, line + i, len - i) < 0)
	    continue;
	if ((t = from_time(line + i + 3, end)) != -1)
	    return (t);
    }
    return (-1);
}

/*
 * The parser.
 */

typedef struct PARSER {
    int     fd;
    off_t   end;			/* stop here */
    char   *buf;
    size_t  len;			/* bytes in buf */
    size_t  pos;			/* next unread byte in buf */
    off_t   buf_off;			/* file offset of buf[0] */
    int     eof;
    MBOX_PARSE_FN fn;
    void   *ctx;
    VSTRING *why;
    int     error;
    /* Lines */
    int     bol;			/* the next piece starts a line */
    int     line_empty;			/* the current line is empty */
    int     prev_empty;			/* the last complete line was empty */
    off_t   line_off;			/* where the current line starts */
    off_t   empty_off;			/* where the last empty line started */
    int     last_byte;			/* last byte of the previous piece */
    off_t   first;			/* the first From_ line, -1 */
    /* The message being read */
    MBOX_PARSED msg;
    int     in_msg;
    int     in_from;			/* in its From_ line */
    int     in_header;			/* in its header block */
    int     line_hidden;		/* the current line is one of our fields */
    int     cont_hidden;		/* ... and so are its continuations */
    int     capture;			/* the field the current line adds to, -1 */
    off_t   hidden;			/* bytes in hidden lines */
    off_t   newlines;			/* content newlines without a CR before */
    off_t   last_newline;		/* the last of them, -1 */
    off_t   cl_end;			/* Content-Length says the body ends here */
    VSTRING *from_line;
} PARSER;

/* parser_fill - move the unread bytes to the front, read more; 0 at the end */

static int parser_fill(PARSER *p)
{
    off_t   at;
    size_t  want;
    ssize_t n;

    if (p->pos > 0) {
	memmove(p->buf, p->buf + p->pos, p->len - p->pos);
	p->len -= p->pos;
	p->buf_off += (off_t) p->pos;
	p->pos = 0;
    }
    at = p->buf_off + (off_t) p->len;
    want = MBOX_BUF_SIZE - p->len;
    if (p->end - at < (off_t) want)
	want = (size_t) (p->end - at);
    if (want == 0) {
	p->eof = (at >= p->end);
	return (0);
    }
    while ((n = pread(p->fd, p->buf + p->len, want, at)) < 0 && errno == EINTR)
	 /* void */ ;
    if (n < 0) {
	vstring_sprintf(p->why, "read mailbox: %m");
	p->error = 1;
	return (-1);
    }
    if (n == 0) {				/* the file is shorter than said */
	p->end = at;
	p->eof = 1;
	return (0);
    }
    p->len += (size_t) n;
    return (1);
}

/* read_at - up to LEN bytes at OFF; the count, -1 on error */

static ssize_t read_at(int fd, char *buf, size_t len, off_t off)
{
    ssize_t n;

    while ((n = pread(fd, buf, len, off)) < 0 && errno == EINTR)
	 /* void */ ;
    return (n);
}

/* check_content_length - at the end of the header block: trust it? */

static void check_content_length(PARSER *p)
{
    const VSTRING *value = p->msg.value[MBOX_CONTENT_LENGTH];
    const char *cp = STR(value), *end = cp + LEN(value);
    off_t   count = 0, cl_end;
    char    next[6];
    int     digits = 0;

    if (p->msg.seen[MBOX_CONTENT_LENGTH] != 1 || LEN(value) >= MBOX_VALUE_MAX)
	return;
    while (cp < end && (*cp == ' ' || *cp == '\t'))
	cp++;
    for (; cp < end && *cp >= '0' && *cp <= '9'; cp++, digits++) {
	if (count > (p->end - p->msg.body_start) / 10)
	    return;				/* longer than the file */
	count = count * 10 + (*cp - '0');
    }
    while (cp < end && (*cp == ' ' || *cp == '\t' || *cp == '\r' || *cp == '\n'))
	cp++;
    if (digits == 0 || cp != end || count > p->end - p->msg.body_start)
	return;
    cl_end = p->msg.body_start + count;
    if (cl_end < p->end) {
	ssize_t n = read_at(p->fd, next, sizeof(next), cl_end);

	if (n <= 0 || next[0] != '\n')
	    return;
	if (cl_end + 1 < p->end && (n < 6 || memcmp(next + 1, "From ", 5) != 0))
	    return;
    }
    p->cl_end = cl_end;
}

/* start_message - a From_ line at OFF */

static void start_message(PARSER *p, off_t off)
{
    MBOX_PARSED *m = &p->msg;
    int     i;

    if (p->first < 0)
	p->first = off;
    m->offset = off;
    m->length = 0;
    m->hdr_start = m->hdr_end = m->body_start = m->content_end = -1;
    m->size = m->vsize = 0;
    m->received = -1;
    m->content_length = 0;
    for (i = 0; i < MBOX_FIELD_COUNT; i++) {
	m->seen[i] = 0;
	vstring_reset(m->value[i]);
	m->value_offset[i] = -1;
    }
    vstring_reset(p->from_line);
    p->in_msg = p->in_from = 1;
    p->in_header = 0;
    p->line_hidden = p->cont_hidden = 0;
    p->capture = -1;
    p->hidden = p->newlines = 0;
    p->last_newline = -1;
    p->cl_end = -1;
}

/* finish_message - the message ends where the next one (or the file) starts */

static void finish_message(PARSER *p, off_t next)
{
    MBOX_PARSED *m = &p->msg;

    if (p->in_from)				/* From_ line without newline */
	m->hdr_start = next;
    m->length = next - m->offset;
    if (p->cl_end >= 0)
	m->content_end = p->cl_end;
    else if (p->bol && p->prev_empty && p->empty_off >= m->hdr_start)
	m->content_end = p->empty_off;		/* the separator line */
    else
	m->content_end = next;
    if (m->hdr_end < 0 || m->hdr_end > m->content_end)
	m->hdr_end = m->content_end;
    if (m->body_start < 0 || m->body_start > m->content_end)
	m->body_start = m->content_end;
    if (p->last_newline >= m->content_end)
	p->newlines--;				/* the separator's newline */
    m->size = m->content_end - m->hdr_start - p->hidden;
    m->vsize = m->size + p->newlines;
    m->content_length = (p->cl_end >= 0);
    m->received = mbox_from_date(STR(p->from_line), LEN(p->from_line));
    p->in_msg = p->in_from = p->in_header = 0;
    p->fn(m, p->ctx);
}

/* header_line - a line of the header block starts */

static size_t header_line(PARSER *p, off_t off, const char *data, size_t len)
{
    size_t  pos = 0;
    int     field;

    switch (mbox_line_kind(data, len, &field, &pos)) {
    case MBOX_LINE_EMPTY:
	p->in_header = 0;
	p->msg.hdr_end = off;
	p->msg.body_start = off + (off_t) len;
	p->line_hidden = 0;
	p->capture = -1;
	check_content_length(p);
	return (0);
    case MBOX_LINE_CONT:
	p->line_hidden = p->cont_hidden;
	return (0);
    case MBOX_LINE_OURS:
	p->line_hidden = p->cont_hidden = 1;
	if (p->msg.seen[field]++ == 0) {
	    p->capture = field;
	    p->msg.value_offset[field] = off + (off_t) pos;
	} else {
	    p->capture = -1;
	}
	return (pos);
    default:
	p->line_hidden = p->cont_hidden = 0;
	p->capture = -1;
	return (0);
    }
}

/* line_start - decide what the line starting at OFF is; bytes to skip */

static size_t line_start(PARSER *p, off_t off, const char *data, size_t len, int eol)
{
    int     from = (len >= 5 && memcmp(data, "From ", 5) == 0);
    int     boundary;

    p->line_off = off;
    p->line_empty = eol && (len == 1 || (len == 2 && data[0] == '\r'));
    if (p->in_msg && p->cl_end >= 0)
	boundary = from && off == p->cl_end + 1;
    else
	boundary = from && p->prev_empty;
    if (boundary) {
	if (p->in_msg)
	    finish_message(p, off);
	start_message(p, off);
	return (0);
    }
    p->line_hidden = 0;
    if (p->in_msg && p->in_header)
	return (header_line(p, off, data, len));
    return (0);
}

/* capture - add the value bytes of our field */

static void capture(PARSER *p, const char *data, size_t len)
{
    VSTRING *value = p->msg.value[p->capture];

    if (LEN(value) + len > MBOX_VALUE_MAX)
	len = MBOX_VALUE_MAX - LEN(value);
    vstring_memcat(value, data, len);
}

/* parse_piece - a line, or a piece of a long one */

static void parse_piece(PARSER *p, off_t off, const char *data, size_t len, int eol)
{
    size_t  skip = 0;

    if (p->bol)
	skip = line_start(p, off, data, len, eol);
    if (!p->in_msg) {
	 /* junk before the first message */ ;
    } else if (p->in_from) {
	size_t  n = len - (eol ? 1 : 0);

	if (LEN(p->from_line) + n > MBOX_FROM_MAX)
	    n = MBOX_FROM_MAX - LEN(p->from_line);
	vstring_memcat(p->from_line, data, n);
    } else if (p->line_hidden) {
	p->hidden += (off_t) len;
	if (p->capture >= 0)
	    capture(p, data + skip, len - skip);
    } else if (eol && (len >= 2 ? data[len - 2] : p->last_byte) != '\r') {
	p->newlines++;
	p->last_newline = off + (off_t) len - 1;
    }
    if (eol) {
	if (p->in_msg && p->in_from) {
	    p->in_from = 0;
	    p->in_header = 1;
	    p->msg.hdr_start = off + (off_t) len;
	}
	p->prev_empty = p->line_empty;
	if (p->line_empty)
	    p->empty_off = p->line_off;
    }
    p->last_byte = (unsigned char) data[len - 1];
    p->bol = eol;
}

off_t   mbox_parse(int fd, off_t start, off_t end, MBOX_PARSE_FN fn, void *ctx,
		           off_t *junk, VSTRING *why)
{
    PARSER  p;
    const char *nl;
    size_t  avail, len;
    int     i;

    memset(&p, 0, sizeof(p));
    p.fd = fd;
    p.end = end;
    p.buf = mymalloc(MBOX_BUF_SIZE);
    p.buf_off = start;
    p.fn = fn;
    p.ctx = ctx;
    p.why = why;
    p.bol = p.prev_empty = 1;			/* START follows an empty line */
    p.last_byte = '\n';
    p.first = -1;
    p.empty_off = -1;
    for (i = 0; i < MBOX_FIELD_COUNT; i++)
	p.msg.value[i] = vstring_alloc(100);
    p.from_line = vstring_alloc(100);

    for (;;) {
	avail = p.len - p.pos;
	nl = avail ? memchr(p.buf + p.pos, '\n', avail) : 0;
	if (nl == 0 && !p.eof && avail < MBOX_BUF_SIZE) {
	    if (parser_fill(&p) < 0)
		break;
	    continue;
	}
	if (avail == 0)
	    break;
	len = nl ? (size_t) (nl - (p.buf + p.pos)) + 1 : avail;
	parse_piece(&p, p.buf_off + (off_t) p.pos, p.buf + p.pos, len, nl != 0);
	p.pos += len;
    }
    if (!p.error && p.in_msg)
	finish_message(&p, p.end);
    *junk = (p.first < 0 ? p.end : p.first) - start;
    myfree(p.buf);
    for (i = 0; i < MBOX_FIELD_COUNT; i++)
	vstring_free(p.msg.value[i]);
    vstring_free(p.from_line);
    return (p.error ? -1 : p.end);
}
