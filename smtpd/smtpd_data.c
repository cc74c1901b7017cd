/*
 * smtpd_data.c - the DATA and BDAT content readers and header scanner.
 *
 * Pure buffer code, used by smtpd_queue.c and by the unit test
 * test/unit/test_smtpd_data.c.  See smtpd_data.h for the rules; the main
 * one is that under the default policy only <CR><LF>.<CR><LF> ends the
 * message, so a bare LF can never smuggle a second message past us.
 */
#include "sys_defs.h"
#include <strings.h>
#include "mymalloc.h"
#include "smtpd_data.h"

/* bare_lf_policy - parse a smtpd_forbid_bare_newline value */
int	bare_lf_policy(const char *value)
{
    if (strcasecmp(value, "normalize") == 0 || strcasecmp(value, "yes") == 0)
	return (BARE_LF_NORMALIZE);
    if (strcasecmp(value, "reject") == 0)
	return (BARE_LF_REJECT);
    if (strcasecmp(value, "no") == 0)
	return (BARE_LF_NO);
    return (-1);
}

void	data_reader_init(DATA_READER *dr, int policy, size_t line_limit, int prev_crlf)
{
    dr->policy = policy;
    dr->line_limit = line_limit;
    dr->at_line_start = 1;
    dr->prev_crlf = prev_crlf;
}

/* emit_piece - pass on part of a line, removing a stuffed dot at line start */
static void emit_piece(DATA_READER *dr, const char *p, size_t n,
		               DATA_OUT_FN out, void *ctx)
{
    if (dr->at_line_start && n > 0 && p[0] == '.') {
	p++;
	n--;
    }
    out(ctx, p, n, dr->at_line_start);
    dr->at_line_start = 0;
}

/* feed_partial - no line end in sight: pass on a long line's first piece */
static size_t feed_partial(DATA_READER *dr, const char *p, size_t avail,
			           DATA_OUT_FN out, void *ctx)
{
    size_t  piece = avail;

    if (p[piece - 1] == '\r')			/* may be half of a CRLF */
	piece--;
    if (piece == 0)
	return (0);
    emit_piece(dr, p, piece, out, ctx);
    return (piece);
}

/* is_end_line - is this complete line the end-of-data marker? */
static int is_end_line(const DATA_READER *dr, const char *line, size_t n, int crlf)
{
    if (!dr->at_line_start || n != 1 || line[0] != '.')
	return (0);
    if (dr->policy == BARE_LF_NO)
	return (1);
    return (crlf && dr->prev_crlf);
}

size_t	data_reader_feed(DATA_READER *dr, const char *buf, size_t len,
			         DATA_OUT_FN out, void *ctx, int *status)
{
    size_t  pos = 0;

    *status = DATA_MORE;
    while (pos < len) {
	const char *line = buf + pos;
	const char *nl = memchr(line, '\n', len - pos);
	size_t  n;
	int     crlf;

	if (nl == 0) {
	    size_t  used;

	    if (len - pos < dr->line_limit)
		break;
	    if ((used = feed_partial(dr, line, len - pos, out, ctx)) == 0)
		break;
	    pos += used;
	    continue;
	}
	n = nl - line;
	crlf = (n > 0 && line[n - 1] == '\r');
	if (crlf)
	    n--;
	else if (dr->policy == BARE_LF_REJECT) {
	    *status = DATA_BARE_LF;
	    return (pos);
	}
	if (is_end_line(dr, line, n, crlf)) {
	    *status = DATA_END;
	    return (pos + (nl - line) + 1);
	}
	if (dr->at_line_start && n == 1 && line[0] == '.') {
	    /* A "." that does not end the data is kept as a "." line. */
	    out(ctx, ".\n", 2, 1);
	} else if (crlf) {
	    emit_piece(dr, line, n, out, ctx);
	    out(ctx, "\n", 1, 0);
	} else {
	    int     start = dr->at_line_start;

	    if (start && line[0] == '.')
		out(ctx, line + 1, n, 1);	/* n bytes + LF, minus the dot */
	    else
		out(ctx, line, n + 1, start);
	}
	dr->at_line_start = 1;
	dr->prev_crlf = crlf;
	pos += (nl - line) + 1;
    }
    return (pos);
}

void	bdat_reader_init(BDAT_READER *br, size_t line_limit)
{
    br->line_limit = line_limit;
    br->at_line_start = 1;
    br->held = 0;
    br->held_len = br->held_size = 0;
}

/* bdat_hold - keep LEN more bytes of the unfinished line */
static void bdat_hold(BDAT_READER *br, const char *data, size_t len)
{
    if (br->held_len + len + 2 > br->held_size) {
	br->held_size = 2 * (br->held_len + len + 2);
	br->held = (char *) myrealloc(br->held, br->held_size);
    }
    memcpy(br->held + br->held_len, data, len);
    br->held_len += len;
}

/* bdat_emit - pass on what is held (a line when LINE_END), then drop it */
static void bdat_emit(BDAT_READER *br, int line_end, DATA_OUT_FN out, void *ctx)
{
    if (line_end) {
	if (br->held_len > 0 && br->held[br->held_len - 1] == '\r')
	    br->held_len--;			/* CRLF: the CR goes */
	bdat_hold(br, "\n", 1);
    }
    out(ctx, br->held, br->held_len, br->at_line_start);
    br->at_line_start = line_end;
    br->held_len = 0;
}

void	bdat_reader_feed(BDAT_READER *br, const char *buf, size_t len,
			         DATA_OUT_FN out, void *ctx)
{
    const char *end = buf + len;
    const char *nl;
    size_t  room;

    while (buf < end) {
	if ((nl = memchr(buf, '\n', (size_t) (end - buf))) != 0) {
	    bdat_hold(br, buf, (size_t) (nl - buf));
	    bdat_emit(br, 1, out, ctx);
	    buf = nl + 1;
	    continue;
	}
	room = br->line_limit > br->held_len ? br->line_limit - br->held_len : 0;
	if ((size_t) (end - buf) < room) {
	    bdat_hold(br, buf, (size_t) (end - buf));
	    break;
	}
	bdat_hold(br, buf, room);		/* a long line: its first piece */
	buf += room;
	if (br->held_len > 1 && br->held[br->held_len - 1] == '\r') {
	    br->held_len--;			/* may be half of a CRLF */
	    buf--;
	}
	bdat_emit(br, 0, out, ctx);
    }
}

void	bdat_reader_end(BDAT_READER *br, DATA_OUT_FN out, void *ctx)
{
    if (br->held_len > 0 || !br->at_line_start)	/* a line not ended */
	bdat_emit(br, 1, out, ctx);
}

void	bdat_reader_free(BDAT_READER *br)
{
    if (br->held)
	myfree(br->held);
    br->held = 0;
    br->held_len = br->held_size = 0;
}

void	hdr_scan_init(HDR_SCAN *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->in_header = 1;
}

size_t	hdr_name_len(const char *line, size_t len)
{
    size_t  i = 0;
    size_t  name_len;

    while (i < len && line[i] > 32 && line[i] < 127 && line[i] != ':')
	i++;
    name_len = i;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
	i++;
    if (name_len == 0 || i >= len || line[i] != ':')
	return (0);
    return (name_len);
}

/* hdr_scan_msgid - the Message-ID: header LINE: note it and its value */
static void hdr_scan_msgid(HDR_SCAN *hs, const char *line, size_t len)
{
    const char *cp = memchr(line, ':', len) + 1;
    const char *end = line + len;

    hs->seen_msgid = 1;
    while (cp < end && (*cp == ' ' || *cp == '\t'))
	cp++;
    while (end > cp && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
	end--;
    snprintf(hs->msgid, sizeof(hs->msgid), "%.*s", (int) (end - cp), cp);
}

int	hdr_scan_line(HDR_SCAN *hs, const char *line, size_t len)
{
    size_t  name_len;

    if (!hs->in_header)
	return (0);
    if (len > 0 && line[len - 1] == '\n')
	len--;
    if (len > 0 && (line[0] == ' ' || line[0] == '\t'))
	return (0);				/* continuation line */
    if (len == 0 || (name_len = hdr_name_len(line, len)) == 0) {
	hs->in_header = 0;
	return (1);
    }
    if (name_len == 4 && strncasecmp(line, "from", 4) == 0)
	hs->seen_from = 1;
    else if (name_len == 4 && strncasecmp(line, "date", 4) == 0)
	hs->seen_date = 1;
    else if (name_len == 10 && strncasecmp(line, "message-id", 10) == 0)
	hdr_scan_msgid(hs, line, len);
    else if (name_len == 8 && strncasecmp(line, "received", 8) == 0)
	hs->received++;
    return (0);
}
