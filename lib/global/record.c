/*
 * record.c - typed, length-prefixed records (the queue file format).
 *
 * Writers call rec_put/rec_puts/rec_fprintf on a VSTREAM; readers call
 * rec_get with a length limit.  A record is a type byte, the data length
 * as a base-128 varint (low seven bits first, high bit = more follows,
 * at most REC_LEN_MAX_BYTES bytes) and the data.  See record.h.
 */
#include "sys_defs.h"
#include "msg.h"
#include "vstream.h"
#include "vstring.h"
#include "record.h"

#define REC_LEN_MAX_BYTES	5	/* 35 bits: more than any size_t we accept */

/* rec_header_len - bytes of type + length before the data of a record */

size_t  rec_header_len(size_t len)
{
    size_t  n = 1;

    do {
	n++;
	len >>= 7;
    } while (len != 0);
    return (n);
}

/* rec_put - write one record; 0 or -1 (stream error) */

int     rec_put(VSTREAM *stream, int type, const void *data, size_t len)
{
    unsigned char hdr[1 + REC_LEN_MAX_BYTES];
    size_t  n = 0;
    size_t  left = len;

    if (type < 0 || type > 255)
	msg_panic("rec_put: bad record type %d", type);
    if (len > 0x7fffffffUL)
	msg_panic("rec_put: record too long: %zu bytes", len);
    hdr[n++] = (unsigned char) type;
    do {
	unsigned char byte = left & 0x7f;

	left >>= 7;
	if (left != 0)
	    byte |= 0x80;
	hdr[n++] = byte;
    } while (left != 0);
    if (vstream_write(stream, hdr, n) < 0)
	return (-1);
    if (len > 0 && vstream_write(stream, data, len) < 0)
	return (-1);
    return (0);
}

/* rec_puts - write a string record */

int     rec_puts(VSTREAM *stream, int type, const char *str)
{
    return (rec_put(stream, type, str, strlen(str)));
}

/* rec_fprintf - write a formatted record */

int     rec_fprintf(VSTREAM *stream, int type, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    ret = rec_put(stream, type, STR(buf), LEN(buf));
    vstring_free(buf);
    return (ret);
}

/* rec_get_len - read the varint length; 0 or -1 (truncated/bad) */

static int rec_get_len(VSTREAM *stream, size_t *len)
{
    size_t  value = 0;
    int     shift;
    int     ch;

    for (shift = 0; shift < 7 * REC_LEN_MAX_BYTES; shift += 7) {
	if ((ch = vstream_getc(stream)) == VSTREAM_EOF)
	    return (-1);
	value |= (size_t) (ch & 0x7f) << shift;
	if ((ch & 0x80) == 0) {
	    *len = value;
	    return (0);
	}
    }
    return (-1);				/* length field too long */
}

/* rec_get - read one record into BUF; type, REC_TYPE_EOF or REC_TYPE_ERROR */

int     rec_get(VSTREAM *stream, VSTRING *buf, size_t limit)
{
    int     type;
    size_t  len;

    vstring_reset(buf);
    if ((type = vstream_getc(stream)) == VSTREAM_EOF)
	return (vstream_error(stream) ? REC_TYPE_ERROR : REC_TYPE_EOF);
    if (rec_get_len(stream, &len) < 0) {
	msg_warn("record type %d: truncated or bad length field", type);
	return (REC_TYPE_ERROR);
    }
    if (len > limit) {
	msg_warn("record type %d: length %zu exceeds limit %zu",
		 type, len, limit);
	return (REC_TYPE_ERROR);
    }
    vstring_reserve(buf, len);
    if (len > 0 && vstream_read_full(stream, STR(buf), len) < 0) {
	vstring_reset(buf);
	msg_warn("record type %d: truncated data (%zu bytes expected)",
		 type, len);
	return (REC_TYPE_ERROR);
    }
    buf->len = len;
    STR(buf)[len] = 0;
    return (type);
}

/* rec_get_checked - rec_get(), with WHY for a reader that refuses surprises */

int     rec_get_checked(VSTREAM *stream, VSTRING *buf, size_t limit, VSTRING *why)
{
    int     type = rec_get(stream, buf, limit);

    if (type == REC_TYPE_EOF)
	vstring_sprintf(why, "premature end of file");
    else if (type == REC_TYPE_ERROR)
	vstring_sprintf(why, "truncated or malformed record");
    else if (type != REC_TYPE_BODY && strlen(STR(buf)) != LEN(buf)) {
	vstring_sprintf(why, "record type %c contains a null byte", type);
	return (REC_TYPE_ERROR);
    }
    return (type);
}
