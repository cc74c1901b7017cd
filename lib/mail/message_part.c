/*
 * message_part.c - one pass over a message, building its MIME tree
 * (message_part.h).
 *
 * The input is cut into lines as it is read; no line is ever held whole.
 * Three counters run over every byte: the offset, the number of LFs and
 * the number of LFs without a CR before them.  A part notes the counters
 * where its header and body start; where it ends, the differences give
 * its size, its line count and its CRLF size (size + bare LFs), so the
 * cost per byte does not depend on how deep the part is.
 *
 * The open parts form a stack (LEVEL), the message at the bottom.  The
 * part on top is either reading its header (fields are collected by
 * header_byte() into bounded buffers), reading its body, or (after a
 * boundary line) skipping the rest of that line.  While any multipart on
 * the stack has a boundary, the first bytes of each line (at most
 * HEAD_MAX, only when it starts with "--") are looked at: a boundary
 * closes every part above its multipart, at the newline before the
 * boundary line.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "message_content.h"
#include "message_part.h"

#define READ_BUF_SIZE	(64 * 1024)
#define HEAD_MAX	(2 + MESSAGE_BOUNDARY_MAX + 2)	/* "--" boundary "--" */
#define NAME_KEEP	32		/* longer field names are not wanted */
#define NUL_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/* Counters at one position of the input */
typedef struct POS {
    off_t   offset;			/* bytes */
    off_t   lines;			/* LFs */
    off_t   bare;			/* LFs without a CR before them */
} POS;

/* One open part */
typedef struct LEVEL {
    MESSAGE_PART *part;
    int     child_alloc;		/* room in part->children */
    char   *boundary;			/* an open multipart's, or NULL */
    size_t  boundary_len;
    int     is_digest;			/* multipart/digest */
    int     in_header;			/* still reading the header */
    POS     hdr_start;
    POS     body_start;
    off_t   fresh_offset;		/* where its body (or epilogue) started */
} LEVEL;

/* The header fields that are kept */
typedef enum FIELD {
    F_NONE, F_MIME_VERSION, F_TYPE, F_ENCODING, F_ID, F_DESCRIPTION,
    F_MD5, F_DISPOSITION, F_LANGUAGE, F_LOCATION,
    F_DATE, F_SUBJECT, F_IN_REPLY_TO, F_MESSAGE_ID,
    F_FROM, F_SENDER, F_REPLY_TO, F_TO, F_CC, F_BCC,
} FIELD;

#define F_FIRST_ENVELOPE	F_DATE
#define F_FIRST_ADDRESS		F_FROM
#define ADDRESS_FIELDS		6

static const struct {
    const char *name;
    FIELD   field;
}       field_names[] = {
    {"mime-version", F_MIME_VERSION},
    {"content-type", F_TYPE},
    {"content-transfer-encoding", F_ENCODING},
    {"content-id", F_ID},
    {"content-description", F_DESCRIPTION},
    {"content-md5", F_MD5},
    {"content-disposition", F_DISPOSITION},
    {"content-language", F_LANGUAGE},
    {"content-location", F_LOCATION},
    {"date", F_DATE},
    {"subject", F_SUBJECT},
    {"in-reply-to", F_IN_REPLY_TO},
    {"message-id", F_MESSAGE_ID},
    {"from", F_FROM},
    {"sender", F_SENDER},
    {"reply-to", F_REPLY_TO},
    {"to", F_TO},
    {"cc", F_CC},
    {"bcc", F_BCC},
};

/* What the top part is doing */
#define S_HEADER	1
#define S_BODY		2
#define S_BOUNDARY	3		/* the rest of a boundary line */

typedef struct PARSER {
    MESSAGE_PART *top;
    LEVEL  *stack;
    int     depth;			/* levels in use */
    int     stack_alloc;
    int     state;
    int     boundary_count;		/* open boundaries on the stack */
    int     part_count;
    int     split_stopped;		/* MESSAGE_PARTS_MAX reached */
    int     boundary_child;		/* S_BOUNDARY: a part starts after it */

    /* The input */
    POS     pos;			/* counters so far */
    int     last_byte;
    POS     prev_eol;			/* where the last newline started */
    int     have_eol;

    /* The current line */
    int     line_pending;		/* a new line starts with the next byte */
    POS     line_start_pos;		/* where this line starts */
    POS     line_prev_eol;		/* the newline before this line */
    int     line_has_prev_eol;
    int     head_wanted;		/* collecting the start of the line */
    char    head[HEAD_MAX];
    size_t  head_len;

    /* The header being read (always the top part's) */
    int     is_mime;			/* Content-* fields count */
    int     seen_type;			/* the first Content-Type was seen */
    char   *boundary;			/* its boundary parameter */
    size_t  line_len;			/* content bytes of this header line */
    int     pending_cr;			/* a CR that may end the line */
    int     prev_crlf;			/* the previous header line ended CRLF */
    int     field_active;		/* a field has started */
    FIELD   field;			/* which one is kept, or F_NONE */
    int     in_name;			/* before the colon */
    char    name[NAME_KEEP + 1];
    size_t  name_len;
    int     name_too_long;
    int     skipping_lwsp;		/* after the colon */
    VSTRING *value;			/* the field body */
    VSTRING *lead_lwsp;			/* white space skipped after the colon */
    VSTRING *addresses[ADDRESS_FIELDS];	/* env_from ... env_bcc values */
    size_t  header_kept;		/* bytes kept of this header */
    size_t  total_kept;			/* bytes kept of the message */
    VSTRING *scratch[3];
} PARSER;

/* pos_max - the later of two positions */

static POS pos_max(POS a, POS b)
{
    return (a.offset >= b.offset ? a : b);
}

/* replace - set a string field of a part */

static void replace(char **field, const char *value)
{
    if (*field)
	myfree(*field);
    *field = value ? mystrdup(value) : 0;
}

/* top_level - the part on top of the stack */

#define TOP(p)	((p)->stack + (p)->depth - 1)

/* count_bytes - run the counters over DATA */

static void count_bytes(PARSER *p, const char *data, size_t len)
{
    const char *cp = data, *end = data + len, *lf;
    off_t   base = p->pos.offset;

    while ((lf = memchr(cp, '\n', end - cp)) != 0) {
	int     cr = (lf > data ? lf[-1] : p->last_byte) == '\r';

	p->prev_eol.offset = base + (lf - data) - cr;
	p->prev_eol.lines = p->pos.lines;
	p->prev_eol.bare = p->pos.bare;
	p->have_eol = 1;
	p->pos.lines++;
	if (!cr)
	    p->pos.bare++;
	cp = lf + 1;
    }
    if (len > 0)
	p->last_byte = (unsigned char) data[len - 1];
    p->pos.offset += len;
}

/*
 * Header fields.
 */

/* reset_header - before a new header block */

static void reset_header(PARSER *p, int is_mime)
{
    p->is_mime = is_mime;
    p->seen_type = 0;
    if (p->boundary) {
	myfree(p->boundary);
	p->boundary = 0;
    }
    p->line_len = 0;
    p->pending_cr = 0;
    p->prev_crlf = 0;
    p->field_active = 0;
    p->field = F_NONE;
    p->in_name = 0;
    p->header_kept = 0;
    for (int i = 0; i < ADDRESS_FIELDS; i++)
	vstring_reset(p->addresses[i]);
}

/* keep_bytes - append to the field body, within the limits */

static void keep_bytes(PARSER *p, const char *data, size_t len)
{
    if (p->field == F_NONE)
	return;
    if (p->header_kept + len > MESSAGE_HEADER_MAX
	|| p->total_kept + len > MESSAGE_KEPT_MAX)
	return;
    p->header_kept += len;
    p->total_kept += len;
    vstring_memcat(p->value, data, len);
}

/* keep_byte - one byte of a field body; NUL becomes U+FFFD */

static void keep_byte(PARSER *p, int ch)
{
    char    c = ch;

    if (ch == 0)
	keep_bytes(p, NUL_REPLACEMENT, sizeof(NUL_REPLACEMENT) - 1);
    else
	keep_bytes(p, &c, 1);
}

/* field_lookup - the kept field called NAME, or F_NONE */

static FIELD field_lookup(PARSER *p, const char *name)
{
    for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
	if (strcasecmp(name, field_names[i].name) == 0) {
	    if (field_names[i].field >= F_FIRST_ENVELOPE
		&& !TOP(p)->part->is_message)
		return (F_NONE);
	    return (field_names[i].field);
	}
    }
    return (F_NONE);
}

/* end_name - at the colon: is this field wanted? */

static void end_name(PARSER *p)
{
    while (p->name_len > 0 && (p->name[p->name_len - 1] == ' '
			       || p->name[p->name_len - 1] == '\t'))
	p->name_len--;
    p->name[p->name_len] = 0;
    p->in_name = 0;
    if (p->name_too_long || strlen(p->name) != p->name_len)
	p->field = F_NONE;			/* too long, or a NUL in it */
    else
	p->field = field_lookup(p, p->name);
    if (p->field == F_MIME_VERSION) {
	p->is_mime = 1;
	p->field = F_NONE;
    }
    p->skipping_lwsp = 1;
    vstring_reset(p->value);
    vstring_reset(p->lead_lwsp);
}

/* take_type - the first Content-Type */

static void take_type(PARSER *p, MESSAGE_PART *part, const char *value)
{
    VSTRING *type = p->scratch[0];
    VSTRING *subtype = p->scratch[1];
    MESSAGE_PARAM *params;
    const char *boundary;
    int     count;

    p->is_mime = 1;
    if (p->seen_type)
	return;
    p->seen_type = 1;
    if (message_content_type(value, strlen(value), type, subtype,
			     &params, &count) < 0)
	return;					/* counts as missing */
    replace(&part->type, STR(type));
    replace(&part->subtype, STR(subtype));
    part->params = params;
    part->param_count = count;
    if (strcasecmp(STR(type), "multipart") == 0
	&& (boundary = message_param_find(params, count, "boundary")) != 0) {
	size_t  len = strlen(boundary);

	if (len > MESSAGE_BOUNDARY_MAX)
	    len = MESSAGE_BOUNDARY_MAX;
	p->boundary = mystrndup(boundary, len);
    }
}

/* take_disposition - Content-Disposition, until one has parameters */

static void take_disposition(PARSER *p, MESSAGE_PART *part, const char *value)
{
    MESSAGE_PARAM *params;
    int     count;

    if (part->disp_params != 0)
	return;
    if (message_content_disposition(value, strlen(value), p->scratch[0],
				    &params, &count) < 0)
	return;
    replace(&part->disposition, STR(p->scratch[0]));
    part->disp_params = params;
    part->disp_param_count = count;
}

/* take_language - the first Content-Language with a language tag in it */

static void take_language(MESSAGE_PART *part, const char *value)
{
    char  **tags;

    if (part->language != 0)
	return;
    if (message_content_languages(value, strlen(value), &tags) > 0)
	replace(&part->language, value);
    message_languages_free(tags);
}

/* take_field - a complete kept field */

static void take_field(PARSER *p, FIELD field, const char *value)
{
    MESSAGE_PART *part = TOP(p)->part;
    VSTRING *addrs;

    switch (field) {
    case F_TYPE:
	take_type(p, part, value);
	break;
    case F_ENCODING:
	if (part->encoding == 0
	    && message_content_token(value, strlen(value), p->scratch[0]) == 0)
	    replace(&part->encoding, STR(p->scratch[0]));
	break;
    case F_ID:
	if (part->id == 0)
	    replace(&part->id, value);
	break;
    case F_DESCRIPTION:
	if (part->description == 0)
	    replace(&part->description, value);
	break;
    case F_MD5:
	if (part->md5 == 0)
	    replace(&part->md5, value);
	break;
    case F_LOCATION:
	if (part->location == 0)
	    replace(&part->location, value);
	break;
    case F_DISPOSITION:
	take_disposition(p, part, value);
	break;
    case F_LANGUAGE:
	take_language(part, value);
	break;
    case F_DATE:
	replace(&part->env_date, value);
	break;
    case F_SUBJECT:
	replace(&part->env_subject, value);
	break;
    case F_IN_REPLY_TO:
	replace(&part->env_in_reply_to, value);
	break;
    case F_MESSAGE_ID:
	replace(&part->env_message_id, value);
	break;
    case F_FROM:
    case F_SENDER:
    case F_REPLY_TO:
    case F_TO:
    case F_CC:
    case F_BCC:
	addrs = p->addresses[field - F_FIRST_ADDRESS];
	if (*value)				/* empty: no addresses */
	    vstring_memcat(addrs, value, strlen(value) + 1);
	break;
    default:
	break;
    }
}

/* finish_field - the field in progress is complete */

static void finish_field(PARSER *p)
{
    if (p->field_active && p->field != F_NONE && !p->in_name)
	take_field(p, p->field, STR(p->value));
    p->field_active = 0;
    p->field = F_NONE;
    p->in_name = 0;
}

/* header_byte - one content byte of a header line (no CR/LF of its end) */

static void header_byte(PARSER *p, int ch)
{
    if (p->line_len++ == 0) {
	if ((ch == ' ' || ch == '\t') && p->field_active) {
	    if (p->prev_crlf)
		keep_bytes(p, "\r\n", 2);	/* a continuation line */
	    else
		keep_bytes(p, "\n", 1);
	} else {
	    finish_field(p);
	    p->field_active = 1;
	    p->in_name = 1;
	    p->name_len = 0;
	    p->name_too_long = 0;
	}
    }
    if (p->in_name) {
	if (ch == ':')
	    end_name(p);
	else if (p->name_len < NAME_KEEP)
	    p->name[p->name_len++] = ch;
	else if (ch != ' ' && ch != '\t')
	    p->name_too_long = 1;
    } else if (p->skipping_lwsp && (ch == ' ' || ch == '\t')) {
	if (LEN(p->lead_lwsp) < MESSAGE_HEADER_MAX)
	    vstring_addch(p->lead_lwsp, ch);
    } else {
	p->skipping_lwsp = 0;
	keep_byte(p, ch);
    }
}

/* header_bytes - content bytes of a header line; a CR is held back */

static void header_bytes(PARSER *p, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
	if (p->pending_cr) {
	    p->pending_cr = 0;
	    header_byte(p, '\r');
	}
	if (data[i] == '\r')
	    p->pending_cr = 1;
	else
	    header_byte(p, (unsigned char) data[i]);
    }
}

/* header_line_end - the end of a header line; 1 if it was the empty line */

static int header_line_end(PARSER *p, int at_eof)
{
    int     crlf = p->pending_cr;

    if (at_eof && p->pending_cr) {
	p->pending_cr = 0;
	header_byte(p, '\r');			/* no newline: the CR is text */
	crlf = 0;
    }
    p->pending_cr = 0;
    if (p->line_len == 0)
	return (!at_eof);
    p->line_len = 0;
    p->prev_crlf = crlf;
    if (p->in_name) {				/* no colon: not a field */
	p->in_name = 0;
	p->field = F_NONE;
    } else if (p->skipping_lwsp) {
	/* Only white space after the colon: drop the first of it. */
	p->skipping_lwsp = 0;
	if (LEN(p->lead_lwsp) > 1)
	    keep_bytes(p, STR(p->lead_lwsp) + 1, LEN(p->lead_lwsp) - 1);
    }
    return (0);
}

/*
 * Parts.
 */

/* push_part - start a part at POS: the message, or a child of the top */

static void push_part(PARSER *p, int is_message, POS pos)
{
    MESSAGE_PART *part;
    LEVEL  *parent = p->depth > 0 ? TOP(p) : 0;
    LEVEL  *level;
    int     is_mime;

    if (parent) {
	MESSAGE_PART *pp = parent->part;

	if (pp->child_count == parent->child_alloc) {
	    parent->child_alloc = parent->child_alloc ? 2 * parent->child_alloc : 4;
	    pp->children = (MESSAGE_PART *)
		myrealloc(pp->children, parent->child_alloc * sizeof(*part));
	}
	part = pp->children + pp->child_count++;
	is_mime = (pp->kind == MESSAGE_PART_MULTIPART);
    } else {
	part = p->top = (MESSAGE_PART *) mymalloc(sizeof(*part));
	is_mime = 0;
    }
    memset(part, 0, sizeof(*part));
    part->hdr_offset = pos.offset;
    part->is_message = is_message;

    if (p->depth == p->stack_alloc) {
	p->stack_alloc = p->stack_alloc ? 2 * p->stack_alloc : 8;
	p->stack = (LEVEL *) myrealloc(p->stack, p->stack_alloc * sizeof(LEVEL));
    }
    level = p->stack + p->depth++;
    memset(level, 0, sizeof(*level));
    level->part = part;
    level->in_header = 1;
    level->hdr_start = pos;

    p->state = S_HEADER;
    reset_header(p, is_mime);
    if (++p->part_count >= MESSAGE_PARTS_MAX)
	p->split_stopped = 1;
}

/* set_type - replace type and subtype */

static void set_type(MESSAGE_PART *part, const char *type, const char *subtype)
{
    replace(&part->type, type);
    replace(&part->subtype, subtype);
}

/* forget_content - a header without MIME-Version or Content-Type */

static void forget_content(MESSAGE_PART *part)
{
    set_type(part, 0, 0);
    message_params_free(part->params, part->param_count);
    part->params = 0;
    part->param_count = 0;
    replace(&part->id, 0);
    replace(&part->description, 0);
    replace(&part->encoding, 0);
    replace(&part->md5, 0);
    replace(&part->disposition, 0);
    message_params_free(part->disp_params, part->disp_param_count);
    part->disp_params = 0;
    part->disp_param_count = 0;
    replace(&part->language, 0);
    replace(&part->location, 0);
}

/* take_addresses - the env_* address fields of a message */

static void take_addresses(PARSER *p, MESSAGE_PART *part)
{
    char  **fields[ADDRESS_FIELDS];

    fields[0] = &part->env_from;
    fields[1] = &part->env_sender;
    fields[2] = &part->env_reply_to;
    fields[3] = &part->env_to;
    fields[4] = &part->env_cc;
    fields[5] = &part->env_bcc;
    for (int i = 0; i < ADDRESS_FIELDS; i++) {
	VSTRING *values = p->addresses[i];

	if (LEN(values) == 0)
	    continue;
	vstring_addch(values, 0);		/* the empty value at the end */
	*fields[i] = mymemdup(STR(values), LEN(values) + 1);
    }
}

/* finish_header - the top part's header ends at END (EOH: at an empty line) */

static void finish_header(PARSER *p, POS end, int eoh)
{
    LEVEL  *level = TOP(p);
    MESSAGE_PART *part = level->part;
    LEVEL  *parent = p->depth > 1 ? level - 1 : 0;

    finish_field(p);
    part->hdr_size = end.offset - level->hdr_start.offset;
    part->hdr_vsize = part->hdr_size + (end.bare - level->hdr_start.bare);
    level->in_header = 0;
    level->body_start = end;
    level->fresh_offset = end.offset;
    part->body_offset = end.offset;
    if (part->is_message)
	take_addresses(p, part);

    if (!p->is_mime)
	forget_content(part);
    if (part->type == 0) {
	if (parent && parent->is_digest)
	    set_type(part, "message", "rfc822");
	else
	    set_type(part, "text", "plain");
    }
    if (strcasecmp(part->type, "multipart") == 0)
	part->kind = MESSAGE_PART_MULTIPART;
    else if (strcasecmp(part->type, "message") == 0
	     && strcasecmp(part->subtype, "rfc822") == 0)
	part->kind = MESSAGE_PART_MESSAGE;
    if (part->kind != MESSAGE_PART_LEAF
	&& (p->depth >= MESSAGE_DEPTH_MAX || p->split_stopped)) {
	part->kind = MESSAGE_PART_LEAF;		/* too deep or too many */
	set_type(part, "application", "octet-stream");
    }
    if (part->kind == MESSAGE_PART_MULTIPART) {
	level->is_digest = (strcasecmp(part->subtype, "digest") == 0);
	if (eoh && p->boundary) {
	    level->boundary = p->boundary;
	    level->boundary_len = strlen(p->boundary);
	    p->boundary = 0;
	    p->boundary_count++;
	}
    }
    if (part->kind == MESSAGE_PART_MESSAGE) {
	push_part(p, 1, end);
    } else {
	p->state = S_BODY;
	reset_header(p, 0);
    }
}

/* close_parts - end the parts above the first KEEP levels at END */

static void close_parts(PARSER *p, int keep, POS end)
{
    while (p->depth > keep) {
	LEVEL  *level = TOP(p);
	MESSAGE_PART *part = level->part;
	POS     body_end;

	if (level->in_header) {
	    finish_header(p, pos_max(end, level->hdr_start), 0);
	    continue;				/* it may have pushed a child */
	}
	body_end = pos_max(end, level->body_start);
	part->body_size = body_end.offset - level->body_start.offset;
	part->body_lines = body_end.lines - level->body_start.lines;
	part->body_vsize = part->body_size + (body_end.bare - level->body_start.bare);
	if (level->boundary) {
	    myfree(level->boundary);
	    p->boundary_count--;
	}
	if (part->child_count > 0 && part->child_count < level->child_alloc)
	    part->children = (MESSAGE_PART *)
		myrealloc(part->children, part->child_count * sizeof(*part));
	p->depth--;
    }
}

/*
 * Lines.
 */

/*
 * find_boundary - the level whose boundary starts the head line, or -1.
 * As in Dovecot, the open boundaries are tried from the innermost out and
 * the longest that matches wins, except that when the best so far matches
 * the whole line ("--b" or "--b--") the search stops there.
 */
static int find_boundary(PARSER *p, int *is_close)
{
    size_t  avail = p->head_len - 2;	/* bytes after the "--" */
    ssize_t line_len = -1;		/* after the "--", when known */
    int     dashes = 0;			/* the line ends with "--" */
    int     best = -1;

    if (p->head_len < 2 || p->head[0] != '-' || p->head[1] != '-')
	return (-1);
    if (p->head[p->head_len - 1] == '\n') {	/* not at EOF: as Dovecot */
	line_len = avail - 1;
	if (line_len > 0 && p->head[2 + line_len - 1] == '\r')
	    line_len--;
	dashes = (line_len >= 2 && p->head[2 + line_len - 1] == '-'
		  && p->head[2 + line_len - 2] == '-');
    }
    for (int i = p->depth - 1; i >= 0; i--) {
	LEVEL  *level = p->stack + i;
	size_t  blen = level->boundary_len;

	if (level->boundary == 0 || blen > avail
	    || memcmp(p->head + 2, level->boundary, blen) != 0)
	    continue;
	if (best >= 0 && blen <= p->stack[best].boundary_len)
	    continue;
	best = i;
	if ((ssize_t) blen == line_len || (dashes && (ssize_t) blen + 2 == line_len))
	    break;				/* the whole line: no better one */
    }
    if (best >= 0) {
	size_t  blen = p->stack[best].boundary_len;

	*is_close = (avail >= blen + 2 && p->head[2 + blen] == '-'
		     && p->head[3 + blen] == '-');
    }
    return (best);
}

/*
 * take_boundary - the current line is a boundary of the multipart at
 * INDEX.  The newline before the line belongs to the boundary when it
 * ended a line of body text; a newline that ended a header block stays
 * where it is (the body was empty).  A header cut short by the boundary
 * gives its last newline to the boundary and has an empty body.
 */
static void take_boundary(PARSER *p, int index, int is_close)
{
    POS     start = p->line_start_pos;
    POS     strip = p->line_has_prev_eol ? p->line_prev_eol : start;
    LEVEL  *top = TOP(p);
    POS     end;

    if (top->in_header) {
	int     cut = p->depth - 1;

	finish_header(p, pos_max(strip, top->hdr_start), 0);
	close_parts(p, cut, p->stack[cut].body_start);
	end = start;
    } else if (top->fresh_offset == start.offset) {
	end = start;
    } else {
	end = strip;
    }
    close_parts(p, index + 1, end);
    top = TOP(p);
    if (is_close) {
	myfree(top->boundary);
	top->boundary = 0;
	p->boundary_count--;
    }
    p->state = S_BOUNDARY;
    p->boundary_child = !is_close;
}

/* line_end - a whole line (or the last one, at EOF) was read */

static void line_end(PARSER *p, int at_eof)
{
    switch (p->state) {
    case S_HEADER:
	if (header_line_end(p, at_eof))
	    finish_header(p, p->pos, 1);
	break;
    case S_BOUNDARY:
	if (!at_eof) {
	    if (p->boundary_child) {
		push_part(p, 0, p->pos);
	    } else {
		p->state = S_BODY;
		TOP(p)->fresh_offset = p->pos.offset;	/* the epilogue */
	    }
	}
	break;
    }
    p->line_pending = 1;
}

/* line_start - the next byte starts a line */

static void line_start(PARSER *p)
{
    p->line_pending = 0;
    p->line_start_pos = p->pos;
    p->line_prev_eol = p->prev_eol;
    p->line_has_prev_eol = p->have_eol;
    p->head_len = 0;
    p->head_wanted = (p->boundary_count > 0 && !p->split_stopped);
}

/* head_decided - the start of the line was seen: boundary or not */

static void head_decided(PARSER *p, int at_eof)
{
    int     index, is_close = 0;
    int     has_lf = (p->head_len > 0 && p->head[p->head_len - 1] == '\n');
    size_t  text_len = p->head_len - has_lf;

    p->head_wanted = 0;
    if ((index = find_boundary(p, &is_close)) >= 0) {
	take_boundary(p, index, is_close);
    } else if (p->state == S_HEADER) {
	header_bytes(p, p->head, text_len);
    }
    if (has_lf)
	line_end(p, 0);
    else if (at_eof)
	line_end(p, 1);
}

/* collect_head - bytes of the line start into HEAD; the bytes used */

static size_t collect_head(PARSER *p, const char *data, size_t len)
{
    size_t  n = 0;

    while (n < len && p->head_len < HEAD_MAX) {
	char    ch = data[n++];

	p->head[p->head_len++] = ch;
	if (ch == '\n' || (p->head_len <= 2 && ch != '-'))
	    break;
    }
    count_bytes(p, data, n);
    if (p->head[p->head_len - 1] == '\n' || p->head_len == HEAD_MAX
	|| (p->head_len <= 2 && p->head[p->head_len - 1] != '-'))
	head_decided(p, 0);
    return (n);
}

/* rest_of_line - bytes up to and including the next LF; the bytes used */

static size_t rest_of_line(PARSER *p, const char *data, size_t len)
{
    const char *lf = memchr(data, '\n', len);
    size_t  n = lf ? (size_t) (lf - data) + 1 : len;

    count_bytes(p, data, n);
    if (p->state == S_HEADER)
	header_bytes(p, data, lf ? n - 1 : n);
    if (lf)
	line_end(p, 0);
    return (n);
}

/* feed - a piece of the message */

static void feed(PARSER *p, const char *data, size_t len)
{
    size_t  used;

    while (len > 0) {
	if (p->state == S_BODY && (p->boundary_count == 0 || p->split_stopped)) {
	    count_bytes(p, data, len);		/* nothing more can happen */
	    return;
	}
	if (p->line_pending)
	    line_start(p);
	if (p->head_wanted)
	    used = collect_head(p, data, len);
	else
	    used = rest_of_line(p, data, len);
	data += used;
	len -= used;
    }
}

/* finish - the end of the input */

static void finish(PARSER *p)
{
    if (!p->line_pending && p->head_wanted && p->head_len > 0)
	head_decided(p, 1);
    else if (!p->line_pending)
	line_end(p, 1);
    close_parts(p, 0, p->pos);
}

MESSAGE_PART *message_parse(MESSAGE_READ_FN read_fn, void *ctx, VSTRING *why)
{
    PARSER  p;
    char   *buf = mymalloc(READ_BUF_SIZE);
    MESSAGE_PART *top;
    ssize_t n;

    memset(&p, 0, sizeof(p));
    p.value = vstring_alloc(256);
    p.lead_lwsp = vstring_alloc(16);
    for (int i = 0; i < ADDRESS_FIELDS; i++)
	p.addresses[i] = vstring_alloc(64);
    for (int i = 0; i < 3; i++)
	p.scratch[i] = vstring_alloc(64);
    push_part(&p, 1, p.pos);
    p.line_pending = 1;

    while ((n = read_fn(ctx, buf, READ_BUF_SIZE)) > 0)
	feed(&p, buf, n);
    if (n < 0) {
	vstring_sprintf(why, "message read error: %s",
			errno ? strerror(errno) : "unknown");
	close_parts(&p, 0, p.pos);
	message_part_free(p.top);
	top = 0;
    } else {
	finish(&p);
	top = p.top;
    }

    myfree(buf);
    if (p.boundary)
	myfree(p.boundary);
    myfree(p.stack);
    vstring_free(p.value);
    vstring_free(p.lead_lwsp);
    for (int i = 0; i < ADDRESS_FIELDS; i++)
	vstring_free(p.addresses[i]);
    for (int i = 0; i < 3; i++)
	vstring_free(p.scratch[i]);
    return (top);
}

/* free_part - what a part holds, not the part itself */

static void free_part(MESSAGE_PART *part)
{
    for (int i = 0; i < part->child_count; i++)
	free_part(part->children + i);
    if (part->children)
	myfree(part->children);
    forget_content(part);
    replace(&part->env_date, 0);
    replace(&part->env_subject, 0);
    replace(&part->env_in_reply_to, 0);
    replace(&part->env_message_id, 0);
    if (part->env_from)
	myfree(part->env_from);
    if (part->env_sender)
	myfree(part->env_sender);
    if (part->env_reply_to)
	myfree(part->env_reply_to);
    if (part->env_to)
	myfree(part->env_to);
    if (part->env_cc)
	myfree(part->env_cc);
    if (part->env_bcc)
	myfree(part->env_bcc);
}

void    message_part_free(MESSAGE_PART *top)
{
    if (top) {
	free_part(top);
	myfree(top);
    }
}

const MESSAGE_PART *message_part_find(const MESSAGE_PART *top,
				              const unsigned *nums, int count)
{
    const MESSAGE_PART *part = top;
    int     in_multipart = 0;		/* PART was reached as a child */

    for (int i = 0; i < count && part != 0; i++) {
	unsigned num = nums[i];

	/* Below message/rfc822, numbers count in the enclosed message. */
	if (i > 0 && part->kind == MESSAGE_PART_MESSAGE)
	    part = part->children;
	else if (i > 0 && part->kind == MESSAGE_PART_LEAF) {
	    /* As Dovecot: a leaf of a multipart is also its own part 1. */
	    if (!in_multipart || num != 1)
		return (0);
	    in_multipart = 0;
	    continue;
	}
	if (part->kind == MESSAGE_PART_MULTIPART) {
	    if (num < 1 || num > (unsigned) part->child_count)
		return (0);
	    part = part->children + num - 1;
	    in_multipart = 1;
	} else if (num == 1) {
	    in_multipart = 0;			/* a message that is one part */
	} else {
	    return (0);
	}
    }
    return (part);
}

const char *message_part_next_value(const char *value)
{
    value += strlen(value) + 1;
    return (*value ? value : 0);
}
