/*
 * imapd_fetch.c - FETCH and UID FETCH (RFC 3501 section 6.4.5), with
 * RFC 7162's MODSEQ item and CHANGEDSINCE/VANISHED modifiers.
 *
 * The items are parsed once into a FETCH_REQ; then each message gets one
 * "* N FETCH (...)" built in a buffer, except that message text is
 * streamed: the line so far is written, then "{size}" and the bytes in
 * CRLF form, read from the store in pieces (a 50 MB message never sits in
 * memory).  ENVELOPE, BODY and BODYSTRUCTURE come from the folder's cache
 * (store_cache_get) or from a MIME parse of the message
 * (lib/mail/message_part.h), whose results are then cached; BODY[] and
 * RFC822 need no parse at all.  Sections are located with
 * lib/imap/imap_section.h.  A literal is always exactly the size it
 * announced: should the message be shorter than its recorded size, the
 * rest is padded with spaces (and logged), so the client never loses
 * step.  BODY[...] and RFC822[.TEXT] set \Seen (not in EXAMINE); the
 * reply then carries the new FLAGS.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_quote.h"
#include "imap_date.h"
#include "imap_seqset.h"
#include "imap_section.h"
#include "imap_envelope.h"
#include "imap_bodystructure.h"
#include "message_part.h"
#include "imapd.h"

/* Items that are not message text */
#define FETCH_FLAGS		(1<<0)
#define FETCH_UID		(1<<1)
#define FETCH_INTERNALDATE	(1<<2)
#define FETCH_SIZE		(1<<3)
#define FETCH_ENVELOPE		(1<<4)
#define FETCH_BODY		(1<<5)
#define FETCH_BODYSTRUCTURE	(1<<6)
#define FETCH_MODSEQ		(1<<7)

#define FETCH_CACHE_ENVELOPE	"imap.envelope"
#define FETCH_CACHE_BODY	"imap.body"
#define FETCH_CACHE_BODYSTRUCTURE "imap.bodystructure"

#define FETCH_CHUNK		65536

/* One BODY[section]<partial>, or an RFC822 item */
typedef struct FETCH_TEXT {
    char   *name;			/* what the reply calls it */
    IMAP_SECTION section;
    int     partial;
    off_t   start;
    off_t   length;
    int     seen;			/* sets \Seen */
} FETCH_TEXT;

typedef struct FETCH_REQ {
    int     items;			/* FETCH_FLAGS etc. */
    FETCH_TEXT *texts;
    int     text_count;
    int     changedsince_set;
    unsigned long long changedsince;
    int     vanished;
} FETCH_REQ;

/* The message being answered */
typedef struct FETCH_MSG {
    IMAPD  *im;
    STORE_MSG *msg;
    int     seq;
    MESSAGE_PART *parts;		/* parsed on demand */
    VSTRING *line;			/* the reply so far */
    VSTRING *why;
    int     failed;			/* could not read the message */
    int     first;			/* no item in the reply yet */
    VSTRING *line_filtered;		/* HEADER.FIELDS[.NOT] output */
} FETCH_MSG;

/*
 * Parsing the items.
 */

static void fetch_req_free(FETCH_REQ *req)
{
    for (int i = 0; i < req->text_count; i++) {
	myfree(req->texts[i].name);
	imap_section_free(&req->texts[i].section);
    }
    if (req->texts)
	myfree(req->texts);
}

/* fetch_add_text - one text item; -1 with WHY if the section is bad */

static int fetch_add_text(FETCH_REQ *req, const char *name, const char *section,
			          size_t section_len, int seen, VSTRING *why)
{
    FETCH_TEXT *text;

    req->texts = (FETCH_TEXT *) myrealloc(req->texts,
				  sizeof(FETCH_TEXT) * (req->text_count + 1));
    text = req->texts + req->text_count;
    memset(text, 0, sizeof(*text));
    if (imap_section_parse(&text->section, section, section_len, why) < 0)
	return (-1);
    text->name = mystrdup(name);
    text->seen = seen;
    req->text_count++;
    return (0);
}

/* fetch_parse_body - "BODY[...]<...>" or "BODY.PEEK[...]<...>" */

static int fetch_parse_body(FETCH_REQ *req, const char *item, VSTRING *why)
{
    const char *open = strchr(item, '[');
    const char *close = strrchr(item, ']');
    int     peek = (size_t) (open - item) == 9;	/* "BODY.PEEK" */
    VSTRING *name;
    FETCH_TEXT *text;

    if (close == 0 || close < open) {
	vstring_strcpy(why, "Invalid BODY section");
	return (-1);
    }
    name = vstring_alloc(100);
    vstring_strcpy(name, "BODY");
    vstring_memcat(name, open, close + 1 - open);
    if (fetch_add_text(req, STR(name), open + 1, close - open - 1, !peek, why) < 0) {
	vstring_free(name);
	return (-1);
    }
    vstring_free(name);
    if (close[1] == 0)
	return (0);
    text = req->texts + req->text_count - 1;
    if (imap_section_parse_partial(close + 1, strlen(close + 1), &text->start,
				   &text->length) < 0) {
	vstring_strcpy(why, "Invalid partial range");
	return (-1);
    }
    text->partial = 1;
    return (0);
}

/* fetch_parse_item - one item into REQ; -1 with WHY */

static int fetch_parse_item(FETCH_REQ *req, const IMAP_ARG *arg, VSTRING *why)
{
    static const struct {
	const char *name;
	int     bits;
    }       simple[] = {
	{"FLAGS", FETCH_FLAGS}, {"UID", FETCH_UID},
	{"INTERNALDATE", FETCH_INTERNALDATE}, {"RFC822.SIZE", FETCH_SIZE},
	{"ENVELOPE", FETCH_ENVELOPE}, {"BODY", FETCH_BODY},
	{"BODYSTRUCTURE", FETCH_BODYSTRUCTURE}, {"MODSEQ", FETCH_MODSEQ},
	{0, 0},
    };
    const char *item;

    if (arg->type != IMAP_ARG_ATOM) {
	vstring_strcpy(why, "Invalid fetch item");
	return (-1);
    }
    item = arg->data;
    for (int i = 0; simple[i].name; i++) {
	if (strcasecmp(item, simple[i].name) == 0) {
	    req->items |= simple[i].bits;
	    return (0);
	}
    }
    if (strcasecmp(item, "RFC822") == 0)
	return (fetch_add_text(req, "RFC822", "", 0, 1, why));
    if (strcasecmp(item, "RFC822.HEADER") == 0)
	return (fetch_add_text(req, "RFC822.HEADER", "HEADER", 6, 0, why));
    if (strcasecmp(item, "RFC822.TEXT") == 0)
	return (fetch_add_text(req, "RFC822.TEXT", "TEXT", 4, 1, why));
    if (strncasecmp(item, "BODY[", 5) == 0 || strncasecmp(item, "BODY.PEEK[", 10) == 0)
	return (fetch_parse_body(req, item, why));
    vstring_sprintf(why, "Unknown fetch item");
    return (-1);
}

/* fetch_parse_items - the item, macro or list; -1 with WHY */

static int fetch_parse_items(FETCH_REQ *req, const IMAP_ARG *arg, VSTRING *why)
{
    static const struct {
	const char *name;
	int     bits;
    }       macros[] = {
	{"ALL", FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_SIZE | FETCH_ENVELOPE},
	{"FAST", FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_SIZE},
	{"FULL", FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_SIZE | FETCH_ENVELOPE | FETCH_BODY},
	{0, 0},
    };

    if (arg->type == IMAP_ARG_ATOM) {
	for (int i = 0; macros[i].name; i++) {
	    if (strcasecmp(arg->data, macros[i].name) == 0) {
		req->items |= macros[i].bits;
		return (0);
	    }
	}
	return (fetch_parse_item(req, arg, why));
    }
    if (arg->type != IMAP_ARG_LIST || arg->count == 0) {
	vstring_strcpy(why, "Invalid fetch items");
	return (-1);
    }
    for (int i = 0; i < arg->count; i++)
	if (fetch_parse_item(req, arg->list + i, why) < 0)
	    return (-1);
    return (0);
}

/* fetch_parse_modifiers - (CHANGEDSINCE n [VANISHED]); -1 with WHY */

static int fetch_parse_modifiers(IMAPD *im, FETCH_REQ *req, const IMAP_ARG *arg,
				         VSTRING *why)
{
    char   *end;

    for (int i = 0; i < arg->count; i++) {
	const IMAP_ARG *mod = arg->list + i;

	if (imap_arg_atom_is(mod, "CHANGEDSINCE") && i + 1 < arg->count
	    && mod[1].type == IMAP_ARG_ATOM && mod[1].len > 0 && mod[1].len <= 20
	    && strspn(mod[1].data, "0123456789") == mod[1].len) {
	    errno = 0;
	    req->changedsince = strtoull(mod[1].data, &end, 10);
	    if (errno) {
		vstring_strcpy(why, "Invalid CHANGEDSINCE value");
		return (-1);
	    }
	    req->changedsince_set = 1;
	    i++;
	} else if (imap_arg_atom_is(mod, "VANISHED")) {
	    req->vanished = 1;
	} else {
	    vstring_strcpy(why, "Invalid FETCH modifier");
	    return (-1);
	}
    }
    if (req->vanished && (!im->uid_cmd || !req->changedsince_set
			  || !(im->enabled & IMAPD_ENABLE_QRESYNC))) {
	vstring_strcpy(why, "VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC");
	return (-1);
    }
    if (req->changedsince_set) {
	im->enabled |= IMAPD_ENABLE_CONDSTORE;
	req->items |= FETCH_MODSEQ;
    }
    return (0);
}

/*
 * Reading message text.
 */

static ssize_t fetch_read(void *ctx, char *buf, size_t len)
{
    return (store_read((STORE_STREAM *) ctx, buf, len));
}

/* fetch_parts - the message's MIME tree, parsed once; NULL if unreadable */

static MESSAGE_PART *fetch_parts(FETCH_MSG *fm)
{
    STORE_STREAM *stream;

    if (fm->parts == 0 && !fm->failed) {
	if ((stream = store_msg_open(fm->im->folder, fm->msg, fm->why)) == 0) {
	    fm->failed = 1;
	} else {
	    if ((fm->parts = message_parse(fetch_read, stream, fm->why)) == 0)
		fm->failed = 1;
	    store_msg_close(stream);
	}
	if (fm->failed)
	    msg_warn("%s: %s: UID %u: %s", fm->im->io->user, fm->im->folder_name,
		     fm->msg->uid, STR(fm->why));
    }
    return (fm->parts);
}

/* fetch_item - start an item of the reply: a space before all but the first */

static void fetch_item(FETCH_MSG *fm, const char *name)
{
    if (!fm->first)
	vstring_addch(fm->line, ' ');
    fm->first = 0;
    vstring_strcat(fm->line, name);
}

/* fetch_flush_line - send what was built so far */

static void fetch_flush_line(FETCH_MSG *fm)
{
    imapd_write(fm->im, STR(fm->line), LEN(fm->line));
    vstring_reset(fm->line);
}

/*
 * A window of the CRLF form of stored bytes: skip the first START output
 * bytes, send at most LENGTH.
 */
typedef struct FETCH_WINDOW {
    off_t   start;
    off_t   left;
    off_t   sent;
} FETCH_WINDOW;

static void fetch_window_send(IMAPD *im, FETCH_WINDOW *win, const char *data,
			              size_t len)
{
    size_t  skip;

    if (win->start > 0) {
	skip = (off_t) len < win->start ? len : (size_t) win->start;
	win->start -= skip;
	data += skip;
	len -= skip;
    }
    if ((off_t) len > win->left)
	len = (size_t) win->left;
    if (len > 0) {
	imapd_write(im, data, len);
	win->left -= len;
	win->sent += len;
    }
}

/*
 * fetch_read_range - stored bytes OFFSET..+SIZE of the message, in pieces,
 * to FN (which returns 0 to go on, 1 when it wants no more); -1 (WHY) if
 * the message cannot be opened.
 */
typedef int (*FETCH_RANGE_FN) (FETCH_MSG *fm, const char *data, size_t len, void *ctx);

static int fetch_read_range(FETCH_MSG *fm, off_t offset, off_t size, FETCH_RANGE_FN fn,
			            void *ctx)
{
    STORE_STREAM *stream;
    char   *buf;
    ssize_t n;
    size_t  use;

    if ((stream = store_msg_open(fm->im->folder, fm->msg, fm->why)) == 0)
	return (-1);
    buf = mymalloc(FETCH_CHUNK);
    while (size > 0 && (n = store_read(stream, buf, FETCH_CHUNK)) > 0) {
	if (offset >= n) {
	    offset -= n;
	    continue;
	}
	use = (size_t) (n - offset);
	if ((off_t) use > size)
	    use = (size_t) size;
	if (fn(fm, buf + offset, use, ctx) != 0)
	    break;
	size -= use;
	offset = 0;
    }
    myfree(buf);
    store_msg_close(stream);
    return (0);
}

/* The CRLF form of a range, through a window, to the client */
typedef struct FETCH_CRLF {
    FETCH_WINDOW *win;
    VSTRING *crlf;
    int     last_cr;
} FETCH_CRLF;

static int fetch_crlf_piece(FETCH_MSG *fm, const char *data, size_t len, void *ctx)
{
    FETCH_CRLF *fc = (FETCH_CRLF *) ctx;

    vstring_reset(fc->crlf);
    imap_section_crlf(fc->crlf, data, len, &fc->last_cr);
    fetch_window_send(fm->im, fc->win, STR(fc->crlf), LEN(fc->crlf));
    return (fc->win->left <= 0 || fm->im->io->eof);
}

/* fetch_stream_range - stored bytes OFFSET..+SIZE, CRLF form, through WIN */

static int fetch_stream_range(FETCH_MSG *fm, off_t offset, off_t size, FETCH_WINDOW *win)
{
    FETCH_CRLF fc;
    int     ret;

    fc.win = win;
    fc.crlf = vstring_alloc(FETCH_CHUNK * 2);
    fc.last_cr = 0;
    ret = fetch_read_range(fm, offset, size, fetch_crlf_piece, &fc);
    vstring_free(fc.crlf);
    return (ret);
}

/* fetch_filter_piece - a piece of the header, through the field filter */

static int fetch_filter_piece(FETCH_MSG *fm, const char *data, size_t len, void *ctx)
{
    imap_header_filter_feed((IMAP_HEADER_FILTER *) ctx, data, len, fm->line_filtered);
    return (0);
}

/* fetch_filtered - the header fields HEADER.FIELDS[.NOT] keeps, into OUT */

static int fetch_filtered(FETCH_MSG *fm, const IMAP_SECTION *section,
			          const IMAP_SECTION_RANGE *range, VSTRING *out)
{
    IMAP_HEADER_FILTER *filter = imap_header_filter_create(section);
    int     ret;

    fm->line_filtered = out;
    ret = fetch_read_range(fm, range->offset, range->size, fetch_filter_piece, filter);
    if (ret == 0)
	imap_header_filter_finish(filter, out);
    imap_header_filter_free(filter);
    return (ret);
}

/* fetch_literal_size - how much of TOTAL bytes the item's window sends */

static off_t fetch_literal_size(const FETCH_TEXT *text, off_t total)
{
    off_t   size;

    if (!text->partial)
	return (total);
    if (text->start >= total)
	return (0);
    size = total - text->start;
    return (size < text->length ? size : text->length);
}

/* fetch_text_name - the item's name in the reply */

static void fetch_text_name(FETCH_MSG *fm, const FETCH_TEXT *text)
{
    fetch_item(fm, text->name);
    if (text->partial)
	vstring_sprintf_append(fm->line, "<%lld>", (long long) text->start);
    vstring_addch(fm->line, ' ');
}

/* fetch_pad - a message shorter than announced: keep the protocol in step */

static void fetch_pad(FETCH_MSG *fm, off_t missing)
{
    char    spaces[1024];

    msg_warn("%s: %s: UID %u: message shorter than its size; padded %lld bytes",
	     fm->im->io->user, fm->im->folder_name, fm->msg->uid, (long long) missing);
    memset(spaces, ' ', sizeof(spaces));
    while (missing > 0) {
	size_t  n = missing > (off_t) sizeof(spaces) ? sizeof(spaces) : (size_t) missing;

	imapd_write(fm->im, spaces, n);
	missing -= n;
    }
}

/* fetch_send_range - the literal of a stored range (not filtered) */

static void fetch_send_range(FETCH_MSG *fm, const FETCH_TEXT *text,
			             const IMAP_SECTION_RANGE *range)
{
    FETCH_WINDOW win;
    off_t   size = fetch_literal_size(text, range->vsize);

    vstring_sprintf_append(fm->line, "{%lld}\r\n", (long long) size);
    fetch_flush_line(fm);
    win.start = text->partial ? text->start : 0;
    win.left = size;
    win.sent = 0;
    if (size > 0 && fetch_stream_range(fm, range->offset, range->size, &win) < 0)
	msg_warn("%s: %s: UID %u: %s", fm->im->io->user, fm->im->folder_name,
		 fm->msg->uid, STR(fm->why));
    if (win.sent < size && !fm->im->io->eof)
	fetch_pad(fm, size - win.sent);
}

/* fetch_send_buffer - the literal of bytes in memory, through the window */

static void fetch_send_buffer(FETCH_MSG *fm, const FETCH_TEXT *text, VSTRING *data)
{
    off_t   size = fetch_literal_size(text, LEN(data));
    off_t   start = text->partial ? text->start : 0;

    vstring_sprintf_append(fm->line, "{%lld}\r\n", (long long) size);
    fetch_flush_line(fm);
    if (size > 0)
	imapd_write(fm->im, STR(data) + start, (size_t) size);
}

/* fetch_text - one BODY[...] / RFC822* item */

static void fetch_text(FETCH_MSG *fm, const FETCH_TEXT *text)
{
    const IMAP_SECTION *section = &text->section;
    IMAP_SECTION_RANGE range;
    MESSAGE_PART *parts;
    VSTRING *filtered;

    fetch_text_name(fm, text);
    if (section->what == IMAP_SECTION_ALL && section->part_count == 0) {
	/* The whole message: no parse needed */
	range.offset = 0;
	range.size = fm->msg->size;
	range.vsize = fm->msg->vsize;
	fetch_send_range(fm, text, &range);
	return;
    }
    if ((parts = fetch_parts(fm)) == 0
	|| imap_section_find(parts, section, &range) != IMAP_SECTION_FOUND) {
	vstring_strcat(fm->line, "\"\"");
	return;
    }
    if (!range.filter) {
	fetch_send_range(fm, text, &range);
	return;
    }
    filtered = vstring_alloc(1024);
    if (fetch_filtered(fm, section, &range, filtered) < 0)
	msg_warn("%s: %s: UID %u: %s", fm->im->io->user, fm->im->folder_name,
		 fm->msg->uid, STR(fm->why));
    fetch_send_buffer(fm, text, filtered);
    vstring_free(filtered);
}

/*
 * Structure items: from the cache, else from a parse (then cached).
 */

static void fetch_structure(FETCH_MSG *fm, const char *item, const char *field)
{
    STORE_FOLDER *f = fm->im->folder;
    const char *cached = store_cache_get(f, fm->msg->uid, field);
    MESSAGE_PART *parts;
    VSTRING *value;

    fetch_item(fm, item);
    vstring_addch(fm->line, ' ');
    if (cached != 0) {
	vstring_strcat(fm->line, cached);
	return;
    }
    if ((parts = fetch_parts(fm)) == 0) {
	vstring_strcat(fm->line, "NIL");
	return;
    }
    value = vstring_alloc(1024);
    if (strcmp(field, FETCH_CACHE_ENVELOPE) == 0)
	imap_envelope(value, parts);
    else
	imap_bodystructure(value, parts,
			   strcmp(field, FETCH_CACHE_BODYSTRUCTURE) == 0);
    /* A value with a literal ({N} CRLF ...) is sent but not cached */
    if (memchr(STR(value), '\n', LEN(value)) == 0)
	store_cache_put(f, fm->msg->uid, field, STR(value), LEN(value));
    vstring_memcat(fm->line, STR(value), LEN(value));
    vstring_free(value);
}

/*
 * One message.
 */

/* fetch_set_seen - BODY[...] without PEEK: \Seen; 1 if the flags changed */

static int fetch_set_seen(IMAPD *im, const FETCH_REQ *req, STORE_MSG *msg,
			          VSTRING *why)
{
    int     wants = 0;

    if (im->readonly || (msg->flags & STORE_SEEN))
	return (0);
    for (int i = 0; i < req->text_count; i++)
	wants |= req->texts[i].seen;
    if (!wants)
	return (0);
    if (store_set_flags(im->folder, msg, (msg->flags & STORE_FLAGS_STORED) | STORE_SEEN,
			msg->keywords, why) < 0) {
	msg_warn("%s: %s: UID %u: cannot set \\Seen: %s", im->io->user,
		 im->folder_name, msg->uid, STR(why));
	return (0);
    }
    return (1);
}

/* fetch_simple_items - everything but structures and text */

static void fetch_simple_items(FETCH_MSG *fm, int items)
{
    IMAPD  *im = fm->im;
    STORE_MSG *msg = fm->msg;
    VSTRING *date;

    if (items & FETCH_UID) {
	fetch_item(fm, "UID");
	vstring_sprintf_append(fm->line, " %u", msg->uid);
    }
    if (items & FETCH_FLAGS) {
	fetch_item(fm, "FLAGS ");
	imapd_flags_text(im, fm->line, msg->flags, msg->keywords);
    }
    if (items & FETCH_INTERNALDATE) {
	date = vstring_alloc(40);
	imap_date_time_format(date, msg->received > 0 ? msg->received : 0);
	fetch_item(fm, "INTERNALDATE");
	vstring_sprintf_append(fm->line, " \"%s\"", STR(date));
	vstring_free(date);
    }
    if (items & FETCH_SIZE) {
	fetch_item(fm, "RFC822.SIZE");
	vstring_sprintf_append(fm->line, " %lld",
			       (long long) (msg->vsize > 0 ? msg->vsize : 0));
    }
    if (items & FETCH_MODSEQ) {
	fetch_item(fm, "MODSEQ");
	vstring_sprintf_append(fm->line, " (%llu)", msg->modseq);
    }
}

/* fetch_one - "* N FETCH (...)" for the client's message SEQ */

static void fetch_one(IMAPD *im, const FETCH_REQ *req, int seq, STORE_MSG *msg,
		              VSTRING *line, VSTRING *why)
{
    FETCH_MSG fm;
    IMAPD_SEEN *seen;
    int     items = req->items;

    memset(&fm, 0, sizeof(fm));
    fm.im = im;
    fm.msg = msg;
    fm.seq = seq;
    fm.line = line;
    fm.why = why;
    fm.first = 1;
    if (fetch_set_seen(im, req, msg, why))
	items |= FETCH_FLAGS;
    if (im->enabled & (IMAPD_ENABLE_CONDSTORE | IMAPD_ENABLE_QRESYNC)
	&& (items & FETCH_FLAGS))
	items |= FETCH_MODSEQ;
    if ((items & (FETCH_INTERNALDATE | FETCH_SIZE)) || req->text_count > 0)
	if (store_msg_sizes(im->folder, msg, why) < 0)
	    msg_warn("%s: %s: UID %u: %s", im->io->user, im->folder_name, msg->uid,
		     STR(why));
    imapd_announce_keywords(im);
    vstring_sprintf(line, "* %d FETCH (", seq);
    fetch_simple_items(&fm, items);
    if (items & FETCH_ENVELOPE)
	fetch_structure(&fm, "ENVELOPE", FETCH_CACHE_ENVELOPE);
    if (items & FETCH_BODY)
	fetch_structure(&fm, "BODY", FETCH_CACHE_BODY);
    if (items & FETCH_BODYSTRUCTURE)
	fetch_structure(&fm, "BODYSTRUCTURE", FETCH_CACHE_BODYSTRUCTURE);
    for (int i = 0; i < req->text_count && !im->io->eof; i++)
	fetch_text(&fm, req->texts + i);
    vstring_strcat(line, ")\r\n");
    fetch_flush_line(&fm);
    if (fm.parts)
	message_part_free(fm.parts);
    /* The client now knows these flags */
    seen = imapd_view(im) + seq - 1;
    seen->flags = msg->flags;
    seen->keywords = msg->keywords;
    seen->modseq = msg->modseq;
}

/*
 * VANISHED (EARLIER): the UIDs of the set expunged since CHANGEDSINCE.
 */

static void fetch_vanished(IMAPD *im, const IMAP_ARG *set_arg, const FETCH_REQ *req)
{
    STORE_FOLDER *f = im->folder;
    const STORE_MSG *msgs = store_view_msgs(f);
    IMAP_SEQSET set;
    unsigned *gone, max = f->uidnext > 0 ? f->uidnext - 1 : 0;
    int     count, all_known;
    VSTRING *out = vstring_alloc(100);
    int     j = 0;

    if (imap_seqset_parse(&set, set_arg->data) < 0)
	return;
    store_expunged_since(f, req->changedsince, &gone, &count, &all_known);
    if (all_known) {
	for (int i = 0; i < count; i++)
	    if (imap_seqset_contains(&set, gone[i], max))
		vstring_sprintf_append(out, "%s%u", LEN(out) ? "," : "", gone[i]);
    } else {
	/* The log does not reach back: every UID of the set not here is gone */
	for (unsigned uid = 1; uid <= max; uid++) {
	    while (j < f->count && msgs[j].uid < uid)
		j++;
	    if (j < f->count && msgs[j].uid == uid)
		continue;
	    if (imap_seqset_contains(&set, uid, max)) {
		unsigned end = uid;

		while (end < max && (j >= f->count || msgs[j].uid > end + 1)
		       && imap_seqset_contains(&set, end + 1, max))
		    end++;
		vstring_sprintf_append(out, "%s%u", LEN(out) ? "," : "", uid);
		if (end > uid)
		    vstring_sprintf_append(out, ":%u", end);
		if (end == max)
		    break;
		uid = end;
	    }
	}
    }
    if (LEN(out))
	imapd_untagged(im, "VANISHED (EARLIER) %s", STR(out));
    myfree(gone);
    imap_seqset_free(&set);
    vstring_free(out);
}

/*
 * The command.
 */

int     imapd_cmd_fetch(IMAPD *im, const IMAP_ARG *args, int count)
{
    FETCH_REQ req;
    const char *bad;
    int    *seqs, seq_count, missing = 0;
    VSTRING *why, *line;

    if (count < 2 || count > 3 || (count == 3 && args[2].type != IMAP_ARG_LIST))
	return (IMAPD_BAD);
    memset(&req, 0, sizeof(req));
    why = vstring_alloc(100);
    if (fetch_parse_items(&req, args + 1, why) < 0
	|| (count == 3 && fetch_parse_modifiers(im, &req, args + 2, why) < 0)) {
	imapd_tagged(im, "BAD", "%s.", STR(why));
	fetch_req_free(&req);
	vstring_free(why);
	return (IMAPD_OK);
    }
    if (im->uid_cmd)
	req.items |= FETCH_UID;
    if (req.items & FETCH_MODSEQ)
	im->enabled |= IMAPD_ENABLE_CONDSTORE;
    if ((seqs = imapd_msgset(im, args, im->uid_cmd, &seq_count, &bad)) == 0) {
	imapd_tagged(im, "BAD", "%s.", bad);
	fetch_req_free(&req);
	vstring_free(why);
	return (IMAPD_OK);
    }
    if (req.vanished)
	fetch_vanished(im, args, &req);
    line = vstring_alloc(1024);
    store_change_begin(im->folder);		/* the \Seen flags: one write */
    for (int i = 0; i < seq_count && !im->io->eof; i++) {
	STORE_MSG *msg = imapd_current_msg(im, seqs[i]);

	if (msg == 0) {
	    missing = 1;			/* expunged by another session */
	    continue;
	}
	if (req.changedsince_set && msg->modseq <= req.changedsince)
	    continue;
	fetch_one(im, &req, seqs[i], msg, line, why);
    }
    /* On failure imapd_sync() tells the client the flags as they are */
    if (store_change_end(im->folder, why) < 0)
	msg_warn("%s: %s: cannot set \\Seen: %s", im->io->user, im->folder_name, STR(why));
    imapd_sync(im, im->uid_cmd);
    if (missing)
	imapd_tagged(im, "NO", "[EXPUNGEISSUED] Some messages were expunged.");
    else
	imapd_tagged(im, "OK", "Fetch completed.");
    myfree(seqs);
    fetch_req_free(&req);
    vstring_free(line);
    vstring_free(why);
    return (IMAPD_OK);
}
