/*
 * postcat_print.c - one queue file in Postfix's postcat words.
 *
 * The records are read in file order (Posthorn files have no pointer
 * records, so -r changes only what happens after the end record: the
 * rest of the file is shown too).  Envelope records are named as
 * Postfix names them ("sender: ...", "recipient: ...", "done_recipient:
 * ...", the size record in Postfix's six fields) between the markers "*** ENVELOPE RECORDS path ***", "***
 * MESSAGE CONTENTS path ***", "*** HEADER EXTRACTED path ***" and "***
 * MESSAGE FILE END path ***".  Content is stored in chunks (B records)
 * that need not end at line ends, so it is shown a line at a time, as
 * Postfix shows its line records; the header ends at the first line that
 * is neither a header field nor a continuation.  -o puts the file offset
 * before each record and each content line ("%9lu ": the offset of the
 * record's type byte, or of the line's first byte), -d the decimal record
 * type ("%3d ": 66 for every content line, the B record), -v names
 * content lines "regular_text:" (a last line without its newline
 * "unterminated_text:").  -s OFFSET starts the output at the first
 * record or content line at or after OFFSET (the file is still read from
 * its start, so the header/body state is right).
 */
#include "sys_defs.h"
#include <time.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "record.h"
#include "postcat.h"

#define PC_REC_LIMIT	(REC_BODY_CHUNK + 100)

#define PC_STATE_ENV	0		/* envelope, or after the content */
#define PC_STATE_HEADER	1
#define PC_STATE_BODY	2

typedef struct PC_STATE {
    const PC_OPTS *opts;
    const char *path;
    VSTREAM *out;
    int     state;			/* PC_STATE_* */
    int     started;			/* at or after -s OFFSET */
    VSTRING *line;			/* content line being put together */
    off_t   line_offset;		/* file offset of its first byte */
} PC_STATE;

/* pc_prefix - "-o" offset and "-d" type; 0 when not yet at -s OFFSET */

static int pc_prefix(PC_STATE *st, off_t offset, int type)
{
    if (!st->started && offset >= st->opts->start)
	st->started = 1;
    if (!st->started)
	return (0);
    if (st->opts->flags & PC_FLAG_OFFSET)
	vstream_fprintf(st->out, "%9lu ", (unsigned long) offset);
    if (st->opts->flags & PC_FLAG_DECIMAL)
	vstream_fprintf(st->out, "%3d ", type);
    return (1);
}

/* pc_marker - "*** TEXT path ***" when the envelope is shown */

static void pc_marker(PC_STATE *st, off_t offset, int type, const char *text)
{
    if ((st->opts->flags & PC_FLAG_ENV) && pc_prefix(st, offset, type))
	vstream_fprintf(st->out, "*** %s %s ***\n", text, st->path);
}

/* pc_is_header - "Name:" with printable name characters */

static int pc_is_header(const char *line)
{
    const char *cp;

    for (cp = line; *cp > ' ' && *cp < 127 && *cp != ':'; cp++)
	 /* void */ ;
    return (cp > line && *cp == ':');
}

/* pc_line - one content line (without its newline; UNTERMINATED: none) */

static void pc_line(PC_STATE *st, int unterminated)
{
    const char *line = STR(st->line);
    int     want;

    if (st->state == PC_STATE_HEADER && !pc_is_header(line)
	&& *line != ' ' && *line != '\t')
	st->state = PC_STATE_BODY;
    want = st->state == PC_STATE_HEADER ? PC_FLAG_HEADER : PC_FLAG_BODY;
    if ((st->opts->flags & want) && pc_prefix(st, st->line_offset, REC_TYPE_BODY)) {
	if (msg_verbose)
	    vstream_fputs(unterminated ? "unterminated_text: " : "regular_text: ", st->out);
	vstream_write(st->out, line, LEN(st->line));
	vstream_putc('\n', st->out);
    }
    vstring_reset(st->line);
}

/* pc_content - a B record's DATA (LEN bytes at file offset OFFSET) */

static void pc_content(PC_STATE *st, const char *data, size_t len, off_t offset)
{
    for (size_t i = 0; i < len; i++) {
	if (LEN(st->line) == 0)
	    st->line_offset = offset + (off_t) i;
	if (data[i] == '\n')
	    pc_line(st, 0);
	else
	    vstring_addch(st->line, data[i]);
    }
}

/* pc_flush_line - the content ends: a last line without a newline */

static void pc_flush_line(PC_STATE *st)
{
    if (LEN(st->line) > 0)
	pc_line(st, 1);
}

/* pc_time - "name: asctime" for a "sec [usec]" value */

static void pc_time(VSTREAM *out, const char *name, const char *value)
{
    time_t  when = (time_t) atol(value);
    struct tm tm;
    char    buf[32];

    if (localtime_r(&when, &tm) == 0 || asctime_r(&tm, buf) == 0)
	vstream_fprintf(out, "%s: %s\n", name, value);
    else
	vstream_fprintf(out, "%s: %s", name, buf);
}

/* pc_dsn - an N record: "NOTIFY ORCPT", each "-" when not given */

static void pc_dsn(PC_STATE *st, off_t offset, const char *data)
{
    const char *sp = data + strcspn(data, " ");

    if (sp > data && strncmp(data, "-", sp - data) != 0
	&& pc_prefix(st, offset, REC_TYPE_DSN))
	vstream_fprintf(st->out, "dsn_notify_flags: %.*s\n", (int) (sp - data), data);
    if (*sp == ' ' && strcmp(sp + 1, "-") != 0 && pc_prefix(st, offset, REC_TYPE_DSN))
	vstream_fprintf(st->out, "dsn_orig_rcpt: %s\n", sp + 1);
}

/*
 * pc_size - the size record in Postfix's six fields: content size,
 * content offset, recipient count, then 0 (qmgr options), the content
 * size again and 0 (SMTPUTF8 flag: here an attribute); ours holds
 * "offset size count"
 */
static void pc_size(VSTREAM *out, const char *data)
{
    long    offset, size, count;
    char    end;

    if (sscanf(data, "%ld %ld %ld%c", &offset, &size, &count, &end) != 3)
	vstream_fprintf(out, "message_size: %s\n", data);
    else
	vstream_fprintf(out, "message_size: %15ld %15ld %15ld %15d %15ld %15d\n",
			size, offset, count, 0, size, 0);
}

/* pc_name - Postfix's name of an envelope record type */

static const char *pc_name(int type)
{
    switch (type) {
    case REC_TYPE_FROM:
	return ("sender");
    case REC_TYPE_ATTR:
	return ("named_attribute");
    case REC_TYPE_ORCP:
	return ("original_recipient");
    case REC_TYPE_RCPT:
	return ("recipient");
    case REC_TYPE_DONE:
	return ("done_recipient");
    case REC_TYPE_BODY:
	return ("regular_text");
    default:
	return ("unknown_record_type");
    }
}

/* pc_envelope - one envelope record, when the envelope is shown */

static void pc_envelope(PC_STATE *st, off_t offset, int type, const char *data)
{
    if ((st->opts->flags & PC_FLAG_ENV) == 0)
	return;
    if (type == REC_TYPE_DSN) {
	pc_dsn(st, offset, data);
    } else if (type == REC_TYPE_WARN) {
	if (atol(data) > 0 && pc_prefix(st, offset, type))
	    pc_time(st->out, "warning_message_time", data);
    } else if (pc_prefix(st, offset, type)) {
	if (type == REC_TYPE_TIME)
	    pc_time(st->out, "message_arrival_time", data);
	else if (type == REC_TYPE_SIZE)
	    pc_size(st->out, data);
	else
	    vstream_fprintf(st->out, "%s: %s\n", pc_name(type), data);
    }
}

/*
 * pc_record - one record of TYPE at OFFSET (its data at DATA_OFFSET);
 * 1 when it ends the file
 */
static int pc_record(PC_STATE *st, int type, const VSTRING *buf, off_t offset,
		             off_t data_offset)
{
    switch (type) {
    case REC_TYPE_MESG:
	if (st->state != PC_STATE_ENV)
	    msg_warn("%s: out-of-order message content marker", st->path);
	pc_marker(st, offset, type, "MESSAGE CONTENTS");
	st->state = PC_STATE_HEADER;
	return (0);
    case REC_TYPE_BODY:
	if (st->state == PC_STATE_ENV)
	    pc_envelope(st, offset, type, STR(buf));
	else
	    pc_content(st, STR(buf), LEN(buf), data_offset);
	return (0);
    case REC_TYPE_XTRA:
	pc_flush_line(st);
	if (st->state == PC_STATE_ENV)
	    msg_warn("%s: out-of-order extracted segment marker", st->path);
	pc_marker(st, offset, type, "HEADER EXTRACTED");
	st->state = PC_STATE_ENV;
	return (0);
    case REC_TYPE_END:
	if (st->state != PC_STATE_ENV)
	    msg_warn("%s: out-of-order message end marker", st->path);
	pc_marker(st, offset, type, "MESSAGE FILE END");
	return ((st->opts->flags & PC_FLAG_RAW) == 0);
    default:
	pc_envelope(st, offset, type, STR(buf));
	return (0);
    }
}

/* pc_plausible - the first record type of a queue (or maildrop) file */

static int pc_plausible(int type)
{
    return (type > 0 && strchr("CTSAWONRD", type) != 0);
}

/*
 * pc_first - the first record, its type byte looked at before anything
 * else is read (as Postfix, so that a file that is no queue file gets
 * only "input is not a valid queue file"): the record format of
 * record.h, a varint length and the data, read here for that one record
 */
static int pc_first(VSTREAM *fp, VSTRING *buf, VSTRING *why, int *type)
{
    size_t  len = 0;
    int     ch;

    vstring_reset(buf);
    if ((*type = vstream_getc(fp)) == VSTREAM_EOF || !pc_plausible(*type))
	return (*type == VSTREAM_EOF ? 0 : -1);
    for (int shift = 0; shift < 35; shift += 7) {
	if ((ch = vstream_getc(fp)) == VSTREAM_EOF)
	    break;
	len |= (size_t) (ch & 0x7f) << shift;
	if ((ch & 0x80) == 0) {
	    vstring_reserve(buf, len);
	    if (len <= PC_REC_LIMIT && vstream_read_full(fp, STR(buf), len) == 0) {
		buf->len = len;
		STR(buf)[len] = 0;
		return (1);
	    }
	    break;
	}
    }
    vstring_strcpy(why, "truncated or malformed record");
    *type = REC_TYPE_ERROR;
    return (1);
}

/* pc_flush - the output so far; write errors other than EPIPE are fatal */

static void pc_flush(VSTREAM *out)
{
    if (vstream_flush(out) != 0 && errno != EPIPE)
	msg_fatal("write error: %m");
}

void    postcat_print(VSTREAM *fp, const char *path, const PC_OPTS *opts)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    PC_STATE st = {opts, path, vstream_stdout(), PC_STATE_ENV, opts->start == 0,
    vstring_alloc(100), 0};
    off_t   offset = 0;
    int     type;

    switch (pc_first(fp, buf, why, &type)) {
    case -1:
	msg_warn("%s: input is not a valid queue file", path);
	break;
    case 1:
	if (type >= 0 && opts->start == 0 && (opts->flags & PC_FLAG_ENV))
	    vstream_fprintf(st.out, "*** ENVELOPE RECORDS %s ***\n", path);
	for (; type >= 0; type = rec_get_checked(fp, buf, PC_REC_LIMIT, why)) {
	    off_t   data_offset = offset + (off_t) rec_header_len(LEN(buf));

	    if (pc_record(&st, type, buf, offset, data_offset))
		break;
	    offset = data_offset + (off_t) LEN(buf);
	    pc_flush(st.out);
	}
	pc_flush_line(&st);
	pc_flush(st.out);
	if (type == REC_TYPE_ERROR) {
	    msg_warn("%s: %s at offset %ld", path, STR(why), (long) offset);
	    msg_fatal("record read error");
	}
	break;
    }
    vstring_free(st.line);
    vstring_free(why);
    vstring_free(buf);
}
