/*
 * record.h - typed, length-prefixed records: the queue file format.
 *
 * A record is one type byte, the data length as a base-128 varint (low
 * seven bits first, high bit = more follows, at most 5 bytes) and the
 * data.  rec_get() refuses a record longer than its limit, so a corrupt
 * or hostile file cannot make a reader allocate without bound.
 *
 * Queue file layout (see docs/ARCHITECTURE.md):
 *   C size record (fixed width, rewritten when the file is complete)
 *   T arrival time, W delay warning time (fixed width, rewritten in place),
 *   S sender, A attributes (dsn_envid, dsn_ret, ...), then for each
 *   recipient optional O (original recipient) and N (DSN NOTIFY and ORCPT)
 *   records and its R record (D once delivered),
 *   M start of content, B content chunks, X end of content, E end of file.
 */
#ifndef RECORD_H
#define RECORD_H

#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

#define REC_TYPE_SIZE	'C'		/* "%15ld %15ld %15ld": content offset, content size, rcpt count */
#define REC_TYPE_TIME	'T'		/* "sec usec" of arrival */
#define REC_TYPE_FROM	'S'		/* envelope sender, "" for <> */
#define REC_TYPE_ATTR	'A'		/* "name=value" */
#define REC_TYPE_WARN	'W'		/* "%15ld": when to send the delay warning (0: sent/none) */
#define REC_TYPE_ORCP	'O'		/* original recipient, before its R */
#define REC_TYPE_DSN	'N'		/* DSN of the next R: "NOTIFY ORCPT" ("-" if none) */
#define REC_TYPE_RCPT	'R'		/* recipient, not yet done */
#define REC_TYPE_DONE	'D'		/* recipient done (R flipped in place) */
#define REC_TYPE_MESG	'M'		/* content starts */
#define REC_TYPE_BODY	'B'		/* content bytes, LF line ends, any split */
#define REC_TYPE_XTRA	'X'		/* content ends */
#define REC_TYPE_END	'E'		/* file complete */

#define REC_TYPE_EOF	(-1)		/* clean end of file */
#define REC_TYPE_ERROR	(-2)		/* truncated, too long or I/O error */

#define REC_SIZE_FORMAT	"%15ld %15ld %15ld"
#define REC_SIZE_LEN	47

#define REC_BODY_CHUNK	65536		/* largest B record written */

int	rec_put(VSTREAM *stream, int type, const void *data, size_t len);
int	rec_puts(VSTREAM *stream, int type, const char *str);
int	rec_fprintf(VSTREAM *stream, int type, const char *fmt,...) PRINTFLIKE(3, 4);

/* rec_get - read one record into BUF (NUL-terminated); returns its type,
 * REC_TYPE_EOF at a clean end, REC_TYPE_ERROR otherwise (incl. len > LIMIT) */
int	rec_get(VSTREAM *stream, VSTRING *buf, size_t limit);

/*
 * rec_get_checked - rec_get(), and WHY says what went wrong: "premature
 * end of file", "truncated or malformed record", or a record other than
 * B (content) with a NUL byte in it (then REC_TYPE_ERROR)
 */
int	rec_get_checked(VSTREAM *stream, VSTRING *buf, size_t limit, VSTRING *why);

/* rec_size_header - bytes before the data of a record of length LEN */
size_t	rec_header_len(size_t len);

#endif
