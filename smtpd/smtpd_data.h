/*
 * smtpd_data.h - the DATA content reader and header scanner.
 *
 * These are pure functions on buffers (no sockets, no queue files), so
 * test/unit/test_smtpd_data.c can drive them with any split of input.
 *
 * data_reader_feed() consumes message content from a buffer: it splits
 * lines with memchr, removes dot-stuffing, turns CRLF (and, by policy, bare
 * LF) into LF, and finds the end-of-data line.  Under policy NORMALIZE and
 * REJECT, only <CR><LF>.<CR><LF> ends the data (the "." line must end with
 * CRLF and so must the line before it); under NO, "." with any line end
 * does (the old, smuggling-prone behaviour).  A line longer than the limit
 * is passed on in pieces, never rejected.  Each piece of content goes to
 * OUT with a flag saying whether it starts a line.
 */
#ifndef SMTPD_DATA_H
#define SMTPD_DATA_H

#include "sys_defs.h"

#define BARE_LF_NORMALIZE	0	/* bare LF ends a line; only CRLF.CRLF ends data */
#define BARE_LF_REJECT		1	/* bare LF: 521 and disconnect */
#define BARE_LF_NO		2	/* legacy: LF.LF ends data too */

/* bare_lf_policy - parse a smtpd_forbid_bare_newline value; -1 if invalid */
int	bare_lf_policy(const char *value);

typedef void (*DATA_OUT_FN) (void *ctx, const char *data, size_t len, int line_start);

typedef struct DATA_READER {
    int     policy;			/* BARE_LF_* */
    size_t  line_limit;			/* longest piece passed on at once */
    int     at_line_start;		/* next byte starts a line */
    int     prev_crlf;			/* the previous line ended with CRLF */
} DATA_READER;

/* Results of data_reader_feed */
#define DATA_MORE	0		/* all usable input consumed, want more */
#define DATA_END	1		/* end-of-data line consumed */
#define DATA_BARE_LF	2		/* bare LF under the REJECT policy */

/* data_reader_init - PREV_CRLF: the DATA command line ended with CRLF */
void	data_reader_init(DATA_READER *dr, int policy, size_t line_limit, int prev_crlf);

/*
 * data_reader_feed - consume content from BUF; returns the number of
 * bytes used and sets *STATUS.  Bytes not used (an incomplete short line,
 * or whatever follows the end of data) must be offered again.
 */
size_t	data_reader_feed(DATA_READER *dr, const char *buf, size_t len,
			         DATA_OUT_FN out, void *ctx, int *status);

/*
 * The BDAT reader (RFC 3030 chunks): every byte of a chunk is content -
 * no dot-stuffing, no end marker.  CRLF becomes LF (also when a chunk ends
 * between the CR and the LF), a bare LF ends a line too, and a line is
 * held until it ends or reaches the limit, so OUT sees the same whole
 * lines (and pieces of long ones) as from the DATA reader.  Unlike that
 * one it keeps what it was given: the bytes after a chunk are commands.
 * bdat_reader_end() passes on a last line without a line end, with one.
 */
typedef struct BDAT_READER {
    size_t  line_limit;
    int     at_line_start;		/* the held bytes start a line */
    char   *held;			/* an unfinished line */
    size_t  held_len;
    size_t  held_size;
} BDAT_READER;

void	bdat_reader_init(BDAT_READER *br, size_t line_limit);
void	bdat_reader_feed(BDAT_READER *br, const char *buf, size_t len,
			         DATA_OUT_FN out, void *ctx);
void	bdat_reader_end(BDAT_READER *br, DATA_OUT_FN out, void *ctx);
void	bdat_reader_free(BDAT_READER *br);

/*
 * The header scanner watches line starts of the content (after the reader)
 * and tells when the header block ends, noting which of the headers that
 * a local submission must have were seen.
 */
typedef struct HDR_SCAN {
    int     in_header;			/* still in the header block */
    int     seen_from;
    int     seen_date;
    int     seen_msgid;
    int     received;			/* Received: headers (hop count) */
    char    msgid[256];			/* the Message-ID: value (first line) */
} HDR_SCAN;

void	hdr_scan_init(HDR_SCAN *hs);

/* hdr_name_len - the length of the name when LINE starts a header
 * ("Name:", white space allowed before the colon), else 0 */
size_t	hdr_name_len(const char *line, size_t len);

/*
 * hdr_scan_line - LINE (LEN bytes) starts a content line.  Returns 1 if
 * that line is the first one after the header block (an empty line or a
 * non-header line), else 0.
 */
int	hdr_scan_line(HDR_SCAN *hs, const char *line, size_t len);

#endif
