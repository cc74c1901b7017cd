/*
 * mbox_parse.h - reading an mbox file: where its messages are, and what
 * the headers that IMAP servers keep in them say.
 *
 * Used by the mbox driver of the mailbox store (store_mbox.c); no
 * knowledge of UIDs or flags here, only of bytes.
 *
 * The file is a sequence of messages, each starting with a From_ line:
 * "From " at the start of the file, or at a line start right after an
 * empty line ("\n" or "\r\n").  A message's content runs from the byte
 * after its From_ line to the byte before the empty line that precedes
 * the next From_ line, or to the end of the file (an empty last line is
 * the separator too; a missing one is fine).  A Content-Length: header is
 * trusted when another From_ line (or the end of the file) follows the
 * body it counts, after one newline, as Dovecot writes messages without
 * ">From " quoting.  Bytes before the first From_ line are not a message.
 * ">From " lines are never unquoted.
 *
 * "Our" fields (X-IMAPbase, X-IMAP, X-UID, Status, X-Status, X-Keywords,
 * Content-Length), with their continuation lines, count only in a
 * message's header block; readers never see them.
 *
 * mbox_line_kind() classifies a header line from its first bytes (at
 * most MBOX_LOOKAHEAD of them, through the newline); mbox_filter_*() hide
 * our fields from a header block streamed through them in pieces of any
 * size (readers, rewrites, appends); mbox_from_date() reads the date of a
 * From_ line; mbox_parse() walks a file region in 64 KiB reads, with no
 * allocation per line, and reports each message with its offsets, its
 * size without our fields (and with CRLF line ends), and the values of
 * our fields.
 */
#ifndef MBOX_PARSE_H
#define MBOX_PARSE_H

#include "sys_defs.h"
#include "vstring.h"
#include "mailbox.h"

/* Our fields */
#define MBOX_X_IMAPBASE		0
#define MBOX_X_IMAP		1
#define MBOX_X_UID		2
#define MBOX_STATUS		3
#define MBOX_X_STATUS		4
#define MBOX_X_KEYWORDS		5
#define MBOX_CONTENT_LENGTH	6
#define MBOX_FIELD_COUNT	7

/* mbox_line_kind() results */
#define MBOX_LINE_OTHER		0	/* a header line readers see */
#define MBOX_LINE_EMPTY		1	/* "\n" or "\r\n": end of the header block */
#define MBOX_LINE_CONT		2	/* space or tab: continues the last field */
#define MBOX_LINE_OURS		3	/* one of our fields (*FIELD) */

#define MBOX_LOOKAHEAD		64	/* line bytes that decide its kind */
#define MBOX_VALUE_MAX		8192	/* field value bytes kept */

/* VALUE_POS: where the value starts (after the colon) */
int	mbox_line_kind(const char *line, size_t len, int *field, size_t *value_pos);

/* A header block filter: feed it the message from its first content byte */
typedef struct MBOX_FILTER {
    int     in_header;			/* still in the header block */
    int     bol;			/* at a line start */
    int     hide;			/* the current line is hidden */
    int     hide_cont;			/* its continuation lines are too */
    size_t  npend;
    char    pend[MBOX_LOOKAHEAD];	/* a line start, until its kind is known */
} MBOX_FILTER;

void	mbox_filter_init(MBOX_FILTER *filter);
int	mbox_filter_write(MBOX_FILTER *filter, const char *data, size_t len,
			          MAILBOX_WRITE_FN out, void *out_ctx);
/* mbox_filter_flush - at the end of the input: decide on a pending line */
int	mbox_filter_flush(MBOX_FILTER *filter, MAILBOX_WRITE_FN out, void *out_ctx);

/* mbox_from_date - the date of a From_ line (asctime, maybe a zone); -1 */
time_t	mbox_from_date(const char *line, size_t len);

/* One message as found in the file */
typedef struct MBOX_PARSED {
    off_t   offset;			/* the From_ line */
    off_t   length;			/* bytes up to the next From_ line or the end */
    off_t   hdr_start;			/* first content byte */
    off_t   hdr_end;			/* the empty line ending the header block,
					 * or content_end */
    off_t   body_start;			/* the byte after that empty line */
    off_t   content_end;		/* end of content (before the separator) */
    off_t   size;			/* content bytes without our fields */
    off_t   vsize;			/* the same with CRLF line ends */
    time_t  received;			/* the From_ line's date, -1 if none */
    int     content_length;		/* Content-Length ended the message */
    int     seen[MBOX_FIELD_COUNT];	/* how often each field occurs */
    VSTRING *value[MBOX_FIELD_COUNT];	/* the first one's value, raw: after
					 * the colon, continuation lines and
					 * newlines included, at most
					 * MBOX_VALUE_MAX bytes */
    off_t   value_offset[MBOX_FIELD_COUNT];	/* ... and its file offset */
} MBOX_PARSED;

typedef void (*MBOX_PARSE_FN) (const MBOX_PARSED *msg, void *ctx);

/*
 * mbox_parse - read FD (with pread) from START to END, calling FN for
 * each message.  START is 0 or the offset of a From_ line that follows an
 * empty line.  Returns the offset where parsing stopped (END, or less if
 * the file ended early), with *JUNK the bytes before the first From_ line;
 * -1 with WHY on a read error.
 */
off_t	mbox_parse(int fd, off_t start, off_t end, MBOX_PARSE_FN fn, void *ctx,
		           off_t *junk, VSTRING *why);

#endif
