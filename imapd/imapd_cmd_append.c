/*
 * imapd_cmd_append.c - APPEND (RFC 3501 6.3.11, RFC 4315 APPENDUID), and
 * the big literals it brings.
 *
 * A message of up to IMAPD_LITERAL_MAX bytes arrives in the parser's
 * memory like any literal.  A bigger one is announced to the command loop
 * (imap_parser.h: IMAP_PARSE_LITERAL, then imap_parser_literal_external)
 * which calls imapd_literal(): for APPEND the bytes go into an unlinked
 * temporary file, so memory stays small whatever the size; for any other
 * command a big literal is refused.  A message bigger than
 * message_size_limit is refused before it is sent ("NO [TOOBIG]") when
 * the client waits for "+", and read and dropped when it does not
 * (LITERAL+).
 *
 * The message is stored with LF line ends (lib/store/store.h): CRLF
 * becomes LF, and a last line without a newline gets one (a CR at the
 * very end counts as that newline).  A CR elsewhere is kept as it is.
 *
 * Parameters: message_size_limit (0: no limit).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "imap_date.h"
#include "imapd.h"

#define APPEND_BUF	65536

/* append_limit - message_size_limit, 0 for none */

static off_t append_limit(void)
{
    long    limit = conf_long("message_size_limit");

    return (limit > 0 ? (off_t) limit : 0);
}

/* append_spool - SIZE bytes from the client into a temporary file (or
 * nowhere when DROP); 0, or -1 when the client went away */

static int append_spool(IMAPD *im, off_t size, int drop)
{
    char    buf[APPEND_BUF];
    const char *tmpdir = getenv("TMPDIR");
    VSTRING *path = vstring_alloc(100);
    int     fd = -1;
    ssize_t n;

    if (!drop) {
	vstring_sprintf(path, "%s/imapd-append.XXXXXX",
			tmpdir && *tmpdir ? tmpdir : "/tmp");
	if ((fd = mkstemp(STR(path))) < 0)
	    msg_warn("%s: cannot create %s: %m", im->io->user, STR(path));
	else if (unlink(STR(path)) < 0)
	    msg_warn("%s: remove %s: %m", im->io->user, STR(path));
    }
    vstring_free(path);
    im->append_fd = fd;
    im->append_size = size;
    im->append_failed = (fd < 0 && !drop);
    while (size > 0) {
	n = login_session_read(im->io, buf, size < APPEND_BUF ? (size_t) size : APPEND_BUF);
	if (n <= 0)
	    return (-1);
	if (fd >= 0 && write(fd, buf, (size_t) n) != n && !im->append_failed) {
	    msg_warn("%s: write a temporary file: %m", im->io->user);
	    im->append_failed = 1;
	}
	size -= n;
    }
    return (0);
}

void    imapd_literal(IMAPD *im)
{
    IMAP_PARSER *p = im->parser;
    off_t   size = (off_t) imap_parser_literal_size(p);
    int     sync = imap_parser_literal_sync(p);
    const char *name = imap_parser_name(p);
    off_t   limit = append_limit();

    if (size <= IMAPD_LITERAL_MAX) {
	if (sync) {
	    imapd_write(im, "+ OK\r\n", 6);
	    (void) login_session_flush(im->io);
	}
	return;
    }
    im->tag = imap_parser_tag(p);
    if (name == 0 || strcasecmp(name, "APPEND") != 0) {
	/* "{N}": answered now; "{N+}": skipped, then a parse error */
	if (imap_parser_literal_refuse(p) == IMAP_PARSE_ERROR) {
	    imapd_tagged(im, "BAD", "Syntax error: %s.", imap_parser_error(p));
	    imap_parser_reset(p);
	}
	return;
    }
    if (limit && size > limit) {
	if (sync) {
	    (void) imap_parser_literal_refuse(p);
	    imapd_tagged(im, "NO", "[TOOBIG] Message too large (limit %ld bytes).",
			 (long) limit);
	    imap_parser_reset(p);
	    return;
	}
	im->append_toobig = 1;
    }
    imap_parser_literal_external(p);
    if (sync) {
	imapd_write(im, "+ OK\r\n", 6);
	(void) login_session_flush(im->io);
    }
    if (append_spool(im, size, im->append_toobig) < 0)
	im->state = IMAPD_LOGOUT;		/* the client is gone */
}

void    imapd_literal_done(IMAPD *im)
{
    if (im->append_fd >= 0)
	(void) close(im->append_fd);
    im->append_fd = -1;
    im->append_size = 0;
    im->append_toobig = 0;
    im->append_failed = 0;
}

/*
 * The message, from memory or the spool file, with CRLF made LF.
 */
typedef struct APPEND_SOURCE {
    const char *data;			/* in memory, or NULL */
    size_t  len;
    int     fd;				/* else the spool file */
    off_t   size;
} APPEND_SOURCE;

/* append_convert - write DATA with CRLF as LF; *CR: a CR pending from before */

static int append_convert(MAILBOX_WRITE_FN write_fn, void *sink, const char *data,
			          size_t len, int *cr, int *last)
{
    size_t  start = 0;

    for (size_t i = 0; i < len; i++) {
	if (*cr) {
	    *cr = 0;
	    if (data[i] != '\n' && write_fn(sink, "\r", 1) < 0)
		return (-1);
	}
	if (data[i] == '\r') {
	    if (i > start && write_fn(sink, data + start, i - start) < 0)
		return (-1);
	    *cr = 1;
	    start = i + 1;
	}
    }
    if (len > start && write_fn(sink, data + start, len - start) < 0)
	return (-1);
    if (len > 0 && data[len - 1] != '\r')
	*last = data[len - 1];
    return (0);
}

static int append_emit(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    APPEND_SOURCE *src = (APPEND_SOURCE *) ctx;
    char    buf[APPEND_BUF];
    int     cr = 0, last = '\n';
    off_t   left = src->size;
    ssize_t n;

    if (src->data) {
	if (append_convert(write_fn, sink, src->data, src->len, &cr, &last) < 0)
	    return (-1);
    } else {
	if (lseek(src->fd, 0, SEEK_SET) < 0)
	    return (-1);
	while (left > 0 && (n = read(src->fd, buf, sizeof(buf))) > 0) {
	    if (append_convert(write_fn, sink, buf, (size_t) n, &cr, &last) < 0)
		return (-1);
	    left -= n;
	}
	if (left > 0)
	    return (-1);
    }
    /* A CR at the very end ends the last line (stored as LF, not CRLF) */
    if (cr)
	last = '\r';
    if (last != '\n' && write_fn(sink, "\n", 1) < 0)
	return (-1);
    return (0);
}

/* append_args - [(flags)] [date-time] message; -1 if bad */

static int append_args(const IMAP_ARG *args, int count, const IMAP_ARG **flags,
		               time_t *when, const IMAP_ARG **message)
{
    int     i = 1;

    *flags = 0;
    *when = 0;
    if (i < count && args[i].type == IMAP_ARG_LIST)
	*flags = args + i++;
    if (i < count && args[i].type == IMAP_ARG_STRING) {
	if (imap_date_time_parse(args[i].data, when) < 0)
	    return (-1);
	i++;
    }
    if (i != count - 1 || (args[i].type != IMAP_ARG_LITERAL
			   && args[i].type != IMAP_ARG_LITERAL_EXT))
	return (-1);
    *message = args + i;
    return (0);
}

/* append_target - the folder to append to, or NULL after a tagged NO */

static STORE_FOLDER *append_target(IMAPD *im, const char *name, VSTRING *why)
{
    STORE_FOLDER *to;

    if (im->folder && strcmp(name, im->folder_name) == 0)
	return (im->folder);
    if (store_root_exists(im->root, name, why) == 0) {
	imapd_tagged(im, "NO", "[TRYCREATE] Mailbox doesn't exist: %s", name);
	return (0);
    }
    if ((to = store_root_folder(im->root, name, 0, why)) == 0)
	imapd_store_error(im, STR(why));
    return (to);
}

int     imapd_cmd_append(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *name = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const IMAP_ARG *flag_arg, *message;
    APPEND_SOURCE src;
    STORE_FOLDER *to;
    unsigned flags = 0, keywords = 0, uid;
    const char *bad = 0;
    time_t  when;
    int     ret = IMAPD_OK, status;

    if (count < 2 || imapd_mailbox_name(args, name) < 0
	|| append_args(args, count, &flag_arg, &when, &message) < 0) {
	ret = IMAPD_BAD;
    } else if (im->append_toobig) {
	imapd_tagged(im, "NO", "[TOOBIG] Message too large.");
    } else if (im->append_failed) {
	imapd_tagged(im, "NO", "[SERVERBUG] Cannot store the message now.");
    } else if (message->len == 0) {
	imapd_tagged(im, "NO", "Can't save a zero byte message.");
    } else if ((to = append_target(im, STR(name), why)) != 0) {
	if (flag_arg && (status = imapd_flags_parse(to, flag_arg, &flags, &keywords, 1,
						    &bad)) < 0) {
	    imapd_tagged(im, status == -2 ? "NO" : "BAD", "%s.", bad);
	} else {
	    memset(&src, 0, sizeof(src));
	    if (message->type == IMAP_ARG_LITERAL) {
		src.data = message->data;
		src.len = message->len;
	    } else {
		src.fd = im->append_fd;
		src.size = im->append_size;
	    }
	    if (store_append(to, append_emit, &src, flags, keywords, when, &uid, why) < 0) {
		imapd_sync(im, 1);
		imapd_tagged(im, "NO", "[SERVERBUG] Append failed: %s", STR(why));
	    } else {
		imapd_sync(im, 1);
		imapd_tagged(im, "OK", "[APPENDUID %u %u] Append completed.",
			     to->uidvalidity, uid);
	    }
	}
	if (to != im->folder)
	    store_close(to);
    }
    imapd_literal_done(im);
    vstring_free(name);
    vstring_free(why);
    return (ret);
}
