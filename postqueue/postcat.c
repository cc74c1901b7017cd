/*
 * postcat.c - show the contents of queue files (root and mail_owner).
 *
 *   postcat [-c config_dir] [-v] [-e] [-h] [-b] -q queue_id...
 *   postcat [-c config_dir] [-v] [-e] [-h] [-b] [file...]	(no file: stdin)
 *
 * Output is Postfix's: with -e (envelope) the records named as Postfix
 * names them ("message_arrival_time: ...", "sender: ...", "recipient:
 * ...", "done_recipient: ..." for delivered ones) between the markers
 * "*** ENVELOPE RECORDS path ***", "*** MESSAGE CONTENTS path ***",
 * "*** HEADER EXTRACTED path ***" and "*** MESSAGE FILE END path ***";
 * -h prints the message header, -b the body (from the empty line that
 * ends the header); without -e, -h or -b all three are printed.  -q looks
 * up each id in incoming, active, deferred, hold and corrupt.  Files are
 * opened read-only and never locked.
 *
 * Parameters: queue_directory, hash_queue_names, hash_queue_depth.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <sysexits.h>
#include <time.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "record.h"

#define PC_FLAG_ENV	(1<<0)
#define PC_FLAG_HEADER	(1<<1)
#define PC_FLAG_BODY	(1<<2)
#define PC_MASK_ALL	(PC_FLAG_ENV | PC_FLAG_HEADER | PC_FLAG_BODY)

#define PC_REC_LIMIT	(REC_BODY_CHUNK + 100)

/* Content state: the header until its first non-header line */
typedef struct PC_STATE {
    int     flags;
    int     in_header;
    VSTRING *line;			/* partial content line */
    VSTREAM *out;
} PC_STATE;

/* pc_is_header - "Name:" or a continuation line */

static int pc_is_header(const char *line)
{
    const char *cp;

    if (*line == ' ' || *line == '\t')
	return (1);
    for (cp = line; *cp > ' ' && *cp < 127 && *cp != ':'; cp++)
	 /* void */ ;
    return (cp > line && *cp == ':');
}

/* pc_line - one complete content line (LEN bytes, with its newline) */

static void pc_line(PC_STATE *st, const char *line, size_t len)
{
    if (st->in_header && !pc_is_header(line))
	st->in_header = 0;
    if (st->flags & (st->in_header ? PC_FLAG_HEADER : PC_FLAG_BODY))
	vstream_write(st->out, line, len);
}

/* pc_content - one B record: split into lines */

static void pc_content(PC_STATE *st, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
	vstring_addch(st->line, data[i]);
	if (data[i] == '\n') {
	    pc_line(st, STR(st->line), LEN(st->line));
	    vstring_reset(st->line);
	}
    }
}

/* pc_flush_line - an unterminated last line */

static void pc_flush_line(PC_STATE *st)
{
    if (LEN(st->line) > 0) {
	vstring_addch(st->line, '\n');
	pc_line(st, STR(st->line), LEN(st->line));
	vstring_reset(st->line);
    }
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

/* pc_envelope - one envelope record, as Postfix's postcat names it */

static void pc_envelope(VSTREAM *out, int type, const char *data)
{
    const char *sp;

    switch (type) {
    case REC_TYPE_SIZE:
	vstream_fprintf(out, "message_size: %s\n", data);
	break;
    case REC_TYPE_TIME:
	pc_time(out, "message_arrival_time", data);
	break;
    case REC_TYPE_WARN:
	if (atol(data) > 0)
	    pc_time(out, "warning_message_time", data);
	break;
    case REC_TYPE_FROM:
	vstream_fprintf(out, "sender: %s\n", data);
	break;
    case REC_TYPE_ATTR:
	vstream_fprintf(out, "named_attribute: %s\n", data);
	break;
    case REC_TYPE_ORCP:
	vstream_fprintf(out, "original_recipient: %s\n", data);
	break;
    case REC_TYPE_DSN:
	if ((sp = strchr(data, ' ')) == 0)
	    sp = data + strlen(data);
	if (sp > data && strncmp(data, "-", sp - data) != 0)
	    vstream_fprintf(out, "dsn_notify_flags: %.*s\n", (int) (sp - data), data);
	if (*sp == ' ' && strcmp(sp + 1, "-") != 0)
	    vstream_fprintf(out, "dsn_orig_rcpt: %s\n", sp + 1);
	break;
    case REC_TYPE_RCPT:
	vstream_fprintf(out, "recipient: %s\n", data);
	break;
    case REC_TYPE_DONE:
	vstream_fprintf(out, "done_recipient: %s\n", data);
	break;
    default:
	vstream_fprintf(out, "unknown_record_type_%d: %s\n", type, data);
	break;
    }
}

/* pc_marker - "*** TEXT path ***" when the envelope is shown */

static void pc_marker(PC_STATE *st, const char *text, const char *path)
{
    if (st->flags & PC_FLAG_ENV)
	vstream_fprintf(st->out, "*** %s %s ***\n", text, path);
}

/* postcat - show one queue file; 0 or -1 (bad file, warned) */

static int postcat(VSTREAM *fp, const char *path, int flags)
{
    VSTRING *buf = vstring_alloc(100);
    PC_STATE st = {flags, 0, vstring_alloc(100), vstream_stdout()};
    int     in_content = 0;
    int     type;
    int     ret = -1;

    pc_marker(&st, "ENVELOPE RECORDS", path);
    while ((type = rec_get(fp, buf, PC_REC_LIMIT)) >= 0) {
	if (type == REC_TYPE_MESG) {
	    pc_marker(&st, "MESSAGE CONTENTS", path);
	    in_content = st.in_header = 1;
	} else if (type == REC_TYPE_BODY && in_content) {
	    if (flags & (PC_FLAG_HEADER | PC_FLAG_BODY))
		pc_content(&st, STR(buf), LEN(buf));
	} else if (type == REC_TYPE_XTRA) {
	    pc_flush_line(&st);
	    in_content = 0;
	    pc_marker(&st, "HEADER EXTRACTED", path);
	} else if (type == REC_TYPE_END) {
	    pc_marker(&st, "MESSAGE FILE END", path);
	    ret = 0;
	    break;
	} else if (flags & PC_FLAG_ENV) {
	    pc_envelope(st.out, type, STR(buf));
	}
    }
    if (ret < 0) {
	pc_flush_line(&st);
	msg_warn("%s: %s", path, type == REC_TYPE_EOF ?
		 "premature end of queue file (incomplete?)" : "record read error");
    }
    if (vstream_flush(st.out) != 0 && errno != EPIPE)
	msg_fatal_status(EX_IOERR, "output write error: %m");
    vstring_free(st.line);
    vstring_free(buf);
    return (ret);
}

/* pc_queue_file - postcat -q ID: find it in the queues */

static int pc_queue_file(const char *id, int flags)
{
    static const char *queues[] = {
	MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
	MAIL_QUEUE_HOLD, MAIL_QUEUE_CORRUPT, 0,
    };
    VSTRING *path = vstring_alloc(64);
    VSTREAM *fp = 0;
    int     ret;

    if (!mail_queue_id_ok(id))
	msg_fatal_status(EX_USAGE, "bad mail queue ID: %s", id);
    errno = ENOENT;
    for (const char **qp = queues; fp == 0 && *qp; qp++) {
	mail_queue_path(path, *qp, id);
	if ((fp = vstream_open(STR(path), O_RDONLY, 0)) == 0 && errno != ENOENT)
	    msg_fatal_status(EX_NOPERM, "open queue file %s: %m", id);
    }
    if (fp == 0)
	msg_fatal_status(EX_UNAVAILABLE, "open queue file %s: %m", id);
    ret = postcat(fp, STR(path), flags);
    vstream_close(fp);
    vstring_free(path);
    return (ret);
}

static NORETURN usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postcat [-b (body text)] [-c config_dir] "
		     "[-e (envelope records)] [-h (header text)] [-q (access queue)] "
		     "[-v] [file(s)...]");
}

int     main(int argc, char **argv)
{
    int     flags = 0;
    int     search_queue = 0;
    int     status = 0;
    int     ch;

    msg_init("postcat", MSG_TO_STDERR);
    opterr = 0;
    while ((ch = getopt(argc, argv, "bc:ehqv")) != -1) {
	switch (ch) {
	case 'b':
	    flags |= PC_FLAG_BODY;
	    break;
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'e':
	    flags |= PC_FLAG_ENV;
	    break;
	case 'h':
	    flags |= PC_FLAG_HEADER;
	    break;
	case 'q':
	    search_queue = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    usage();
	}
    }
    if ((flags & PC_MASK_ALL) == 0)
	flags = PC_MASK_ALL;
    mail_conf_read(0);
    if (search_queue) {
	if (optind == argc)
	    usage();
	mail_queue_chdir();
	for (; optind < argc; optind++)
	    status |= pc_queue_file(argv[optind], flags);
    } else if (optind == argc) {
	status = postcat(vstream_stdin(), "stdin", flags);
    } else {
	for (; optind < argc; optind++) {
	    VSTREAM *fp = vstream_open(argv[optind], O_RDONLY, 0);

	    if (fp == 0)
		msg_fatal("open %s: %m", argv[optind]);
	    status |= postcat(fp, argv[optind], flags);
	    vstream_close(fp);
	}
    }
    return (status ? 1 : 0);
}
