/*
 * imap_section.c - FETCH BODY[section] (imap_section.h).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "mymalloc.h"
#include "vstring.h"
#include "message_part.h"
#include "imap_quote.h"
#include "imap_section.h"

#define SECTION_PART_MAX	1000000	/* larger part numbers: no such part */
#define FILTER_NAME_SLACK	1024	/* white space before a colon */

 /*
  * Parsing the section spec.
  */

/* add_part - append a part number */

static void add_part(IMAP_SECTION *sec, unsigned num)
{
    if ((sec->part_count & (sec->part_count - 1)) == 0)
	sec->parts = (unsigned *) myrealloc(sec->parts, (sec->part_count ?
			       2 * sec->part_count : 1) * sizeof(unsigned));
    sec->parts[sec->part_count++] = num;
}

/* add_field - append a header field name */

static void add_field(IMAP_SECTION *sec, const char *name, size_t len)
{
    if ((sec->field_count & (sec->field_count - 1)) == 0)
	sec->fields = (char **) myrealloc(sec->fields, (sec->field_count ?
			       2 * sec->field_count : 1) * sizeof(char *));
    sec->fields[sec->field_count++] = mystrndup(name, len);
}

/* keyword_is - TEXT[0..LEN) is KEYWORD, ignoring case */

static int keyword_is(const char *text, size_t len, const char *keyword)
{
    return (len == strlen(keyword) && strncasecmp(text, keyword, len) == 0);
}

/* parse_numbers - "1.2.3" at the start; *POS after the last number (and its dot) */

static int parse_numbers(IMAP_SECTION *sec, const char *spec, size_t len,
			         size_t *pos, VSTRING *why)
{
    size_t  i = *pos;

    while (i < len && isdigit((unsigned char) spec[i])) {
	unsigned long num = 0;

	if (spec[i] == '0') {
	    vstring_strcpy(why, "part numbers start at 1");
	    return (-1);
	}
	for (; i < len && isdigit((unsigned char) spec[i]); i++)
	    if ((num = num * 10 + spec[i] - '0') > SECTION_PART_MAX)
		num = SECTION_PART_MAX;		/* no such part anyway */
	add_part(sec, (unsigned) num);
	if (i == len)
	    break;
	if (spec[i] != '.') {
	    vstring_strcpy(why, "bad part number");
	    return (-1);
	}
	if (++i == len) {
	    vstring_strcpy(why, "section ends with a dot");
	    return (-1);
	}
    }
    *pos = i;
    return (0);
}

/* parse_field_list - " (name name ...)" to the end of the spec */

static int parse_field_list(IMAP_SECTION *sec, const char *spec, size_t len,
			            size_t pos, VSTRING *why)
{
    VSTRING *name = vstring_alloc(32);
    int     ret = -1;

    if (pos >= len || spec[pos] != ' ') {
	vstring_strcpy(why, "missing header field list");
	goto done;
    }
    while (pos < len && spec[pos] == ' ')
	pos++;
    if (pos >= len || spec[pos] != '(') {
	vstring_strcpy(why, "missing '(' before the header field list");
	goto done;
    }
    for (pos++;;) {
	while (pos < len && spec[pos] == ' ')
	    pos++;
	if (pos >= len) {
	    vstring_strcpy(why, "missing ')' after the header field list");
	    goto done;
	}
	if (spec[pos] == ')')
	    break;
	vstring_reset(name);
	if (spec[pos] == '"') {
	    for (pos++; pos < len && spec[pos] != '"'; pos++) {
		if (spec[pos] == '\\' && pos + 1 < len)
		    pos++;
		vstring_addch(name, spec[pos]);
	    }
	    if (pos++ >= len) {
		vstring_strcpy(why, "unterminated quoted string");
		goto done;
	    }
	} else {
	    for (; pos < len && (imap_atom_char((unsigned char) spec[pos])
				 || spec[pos] == ']'); pos++)
		vstring_addch(name, spec[pos]);
	    if (LEN(name) == 0) {
		vstring_strcpy(why, "bad header field name");
		goto done;
	    }
	}
	add_field(sec, STR(name), LEN(name));
	if (pos < len && spec[pos] != ' ' && spec[pos] != ')') {
	    vstring_strcpy(why, "bad header field name");
	    goto done;
	}
    }
    if (sec->field_count == 0) {
	vstring_strcpy(why, "empty header field list");
	goto done;
    }
    if (pos + 1 != len) {
	vstring_strcpy(why, "junk after the header field list");
	goto done;
    }
    ret = 0;
done:
    vstring_free(name);
    return (ret);
}

int     imap_section_parse(IMAP_SECTION *sec, const char *spec, size_t len,
			           VSTRING *why)
{
    size_t  pos = 0, word;

    memset(sec, 0, sizeof(*sec));
    if (parse_numbers(sec, spec, len, &pos, why) < 0)
	goto bad;
    if (pos == len) {
	sec->what = IMAP_SECTION_ALL;
	return (0);
    }
    for (word = pos; word < len && spec[word] != ' '; word++)
	 /* void */ ;
    if (keyword_is(spec + pos, word - pos, "MIME") && sec->part_count > 0) {
	sec->what = IMAP_SECTION_MIME;
    } else if (keyword_is(spec + pos, word - pos, "HEADER")) {
	sec->what = IMAP_SECTION_HEADER;
    } else if (keyword_is(spec + pos, word - pos, "TEXT")) {
	sec->what = IMAP_SECTION_TEXT;
    } else if (keyword_is(spec + pos, word - pos, "HEADER.FIELDS")) {
	sec->what = IMAP_SECTION_HEADER_FIELDS;
	if (parse_field_list(sec, spec, len, word, why) < 0)
	    goto bad;
	return (0);
    } else if (keyword_is(spec + pos, word - pos, "HEADER.FIELDS.NOT")) {
	sec->what = IMAP_SECTION_HEADER_FIELDS_NOT;
	if (parse_field_list(sec, spec, len, word, why) < 0)
	    goto bad;
	return (0);
    } else {
	vstring_strcpy(why, "unknown section");
	goto bad;
    }
    if (word != len) {
	vstring_strcpy(why, "junk after the section");
	goto bad;
    }
    return (0);

bad:
    imap_section_free(sec);
    return (-1);
}

void    imap_section_free(IMAP_SECTION *sec)
{
    for (int i = 0; i < sec->field_count; i++)
	myfree(sec->fields[i]);
    if (sec->fields)
	myfree(sec->fields);
    if (sec->parts)
	myfree(sec->parts);
    memset(sec, 0, sizeof(*sec));
}

/* parse_offset - decimal digits into *VALUE; the position after them, or 0 */

static size_t parse_offset(const char *text, size_t len, size_t pos, off_t *value)
{
    size_t  start = pos;

    *value = 0;
    for (; pos < len && isdigit((unsigned char) text[pos]); pos++) {
	if (*value > (((off_t) 1 << 62) - 10) / 10)
	    return (0);
	*value = *value * 10 + text[pos] - '0';
    }
    return (pos > start ? pos : 0);
}

int     imap_section_parse_partial(const char *text, size_t len,
				           off_t *start, off_t *length)
{
    size_t  pos;

    if (len < 5 || text[0] != '<' || text[len - 1] != '>')
	return (-1);
    if ((pos = parse_offset(text, len - 1, 1, start)) == 0 || text[pos] != '.')
	return (-1);
    if ((pos = parse_offset(text, len - 1, pos + 1, length)) != len - 1
	|| *length == 0)
	return (-1);
    return (0);
}

 /*
  * Finding the section.
  */

static void header_range(const MESSAGE_PART *part, IMAP_SECTION_RANGE *range)
{
    range->offset = part->hdr_offset;
    range->size = part->hdr_size;
    range->vsize = part->hdr_vsize;
}

static void body_range(const MESSAGE_PART *part, IMAP_SECTION_RANGE *range)
{
    range->offset = part->body_offset;
    range->size = part->body_size;
    range->vsize = part->body_vsize;
}

int     imap_section_find(const MESSAGE_PART *top, const IMAP_SECTION *sec,
			          IMAP_SECTION_RANGE *range)
{
    const MESSAGE_PART *part = top;

    memset(range, 0, sizeof(*range));
    if (sec->part_count > 0) {
	part = message_part_find(top, sec->parts, sec->part_count);
	if (part == 0)
	    return (IMAP_SECTION_NONE);
	if (sec->what == IMAP_SECTION_ALL) {
	    body_range(part, range);
	    return (IMAP_SECTION_FOUND);
	}
	if (sec->what == IMAP_SECTION_MIME) {
	    header_range(part, range);
	    return (IMAP_SECTION_FOUND);
	}
	/* HEADER, TEXT, HEADER.FIELDS: of the message that a part encloses. */
	if (part->kind != MESSAGE_PART_MESSAGE || part->child_count != 1)
	    return (IMAP_SECTION_INVALID);
	part = part->children;
    }
    switch (sec->what) {
    case IMAP_SECTION_ALL:
	range->offset = part->hdr_offset;
	range->size = part->hdr_size + part->body_size;
	range->vsize = part->hdr_vsize + part->body_vsize;
	break;
    case IMAP_SECTION_TEXT:
	body_range(part, range);
	break;
    case IMAP_SECTION_HEADER_FIELDS:
    case IMAP_SECTION_HEADER_FIELDS_NOT:
	range->filter = 1;
	/* FALLTHROUGH */
    default:
	header_range(part, range);
	break;
    }
    return (IMAP_SECTION_FOUND);
}

 /*
  * CRLF form and the header filter.
  */
void    imap_section_crlf(VSTRING *out, const char *data, size_t len,
			          int *last_cr)
{
    const char *cp = data, *end = data + len, *lf;

    while ((lf = memchr(cp, '\n', end - cp)) != 0) {
	int     cr = (lf > cp ? lf[-1] == '\r' : *last_cr);

	vstring_memcat(out, cp, lf - cp);
	vstring_strcat(out, cr ? "\n" : "\r\n");
	cp = lf + 1;
	*last_cr = 0;
    }
    if (cp < end) {
	vstring_memcat(out, cp, end - cp);
	*last_cr = (end[-1] == '\r');
    }
}

#define HF_LINE_START	0		/* at the start of a line */
#define HF_FIRST_CR	1		/* a line that starts with CR */
#define HF_NAME		2		/* reading a field name */
#define HF_COPY		3		/* passing the rest of the line */
#define HF_SKIP		4		/* dropping the rest of the line */
#define HF_DONE		5		/* after the empty line */

struct IMAP_HEADER_FILTER {
    char  **fields;
    int     field_count;
    int     negate;			/* HEADER.FIELDS.NOT */
    size_t  name_max;			/* longer names are in no list */
    int     state;
    int     include;			/* the current field goes out */
    int     seen_field;			/* a continuation has a field */
    VSTRING *name;			/* the line so far, in HF_NAME */
    int     last_cr;			/* for the CRLF form */
};

IMAP_HEADER_FILTER *imap_header_filter_create(const IMAP_SECTION *sec)
{
    IMAP_HEADER_FILTER *filter = (IMAP_HEADER_FILTER *) mycalloc(1, sizeof(*filter));

    filter->fields = sec->fields;
    filter->field_count = sec->field_count;
    filter->negate = (sec->what == IMAP_SECTION_HEADER_FIELDS_NOT);
    for (int i = 0; i < sec->field_count; i++)
	if (strlen(sec->fields[i]) > filter->name_max)
	    filter->name_max = strlen(sec->fields[i]);
    filter->name_max += FILTER_NAME_SLACK;
    filter->name = vstring_alloc(64);
    return (filter);
}

void    imap_header_filter_free(IMAP_HEADER_FILTER *filter)
{
    vstring_free(filter->name);
    myfree(filter);
}

/* in_list - NAME (without trailing white space) is a listed field */

static int in_list(IMAP_HEADER_FILTER *filter, const char *name, size_t len)
{
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
	len--;
    for (int i = 0; i < filter->field_count; i++)
	if (strlen(filter->fields[i]) == len
	    && strncasecmp(filter->fields[i], name, len) == 0)
	    return (1);
    return (0);
}

/* decide - the field's name is known (or cannot be): pass it or not */

static void decide(IMAP_HEADER_FILTER *filter, int listed, VSTRING *out)
{
    filter->include = (listed != filter->negate);
    filter->seen_field = 1;
    if (filter->include) {
	filter->last_cr = 0;
	imap_section_crlf(out, STR(filter->name), LEN(filter->name),
			  &filter->last_cr);
	filter->state = HF_COPY;
    } else {
	filter->state = HF_SKIP;
    }
}

/* end_colonless - a line without a colon ended: never a listed field */

static void end_colonless(IMAP_HEADER_FILTER *filter, VSTRING *out)
{
    if (LEN(filter->name) > 0 && STR(filter->name)[LEN(filter->name) - 1] == '\r')
	vstring_truncate(filter->name, LEN(filter->name) - 1);
    decide(filter, 0, out);
    if (filter->include)
	vstring_strcat(out, "\r\n");
    filter->state = HF_LINE_START;
}

/* filter_byte - one byte of the header, outside the fast paths */

static void filter_byte(IMAP_HEADER_FILTER *filter, int ch, VSTRING *out)
{
    switch (filter->state) {
    case HF_LINE_START:
	if (ch == '\n') {
	    filter->state = HF_DONE;
	} else if (ch == '\r') {
	    filter->state = HF_FIRST_CR;
	} else if ((ch == ' ' || ch == '\t') && filter->seen_field) {
	    filter->state = filter->include ? HF_COPY : HF_SKIP;
	    if (filter->include)
		vstring_addch(out, ch);
	} else {
	    vstring_reset(filter->name);
	    vstring_addch(filter->name, ch);
	    filter->state = HF_NAME;
	}
	break;
    case HF_FIRST_CR:
	if (ch == '\n') {
	    filter->state = HF_DONE;
	} else {
	    vstring_strcpy(filter->name, "\r");
	    filter->state = HF_NAME;
	    filter_byte(filter, ch, out);
	}
	break;
    case HF_NAME:
	if (ch == '\n') {
	    end_colonless(filter, out);
	    break;
	}
	vstring_addch(filter->name, ch);
	if (ch == ':')
	    decide(filter, in_list(filter, STR(filter->name), LEN(filter->name) - 1), out);
	else if (LEN(filter->name) > filter->name_max)
	    decide(filter, 0, out);
	break;
    case HF_COPY:
	if (ch == '\n') {
	    vstring_strcat(out, filter->last_cr ? "\n" : "\r\n");
	    filter->state = HF_LINE_START;
	} else {
	    vstring_addch(out, ch);
	}
	filter->last_cr = (ch == '\r');
	break;
    case HF_SKIP:
	if (ch == '\n')
	    filter->state = HF_LINE_START;
	break;
    }
}

void    imap_header_filter_feed(IMAP_HEADER_FILTER *filter, const char *data,
				        size_t len, VSTRING *out)
{
    const char *end = data + len, *lf;

    while (data < end && filter->state != HF_DONE) {
	/* Whole runs inside a line that is being passed or dropped. */
	if ((filter->state == HF_COPY || filter->state == HF_SKIP)
	    && *data != '\n') {
	    lf = memchr(data, '\n', end - data);
	    if (lf == 0)
		lf = end;
	    if (filter->state == HF_COPY) {
		vstring_memcat(out, data, lf - data);
		filter->last_cr = (lf[-1] == '\r');
	    }
	    data = lf;
	    continue;
	}
	filter_byte(filter, (unsigned char) *data++, out);
    }
}

void    imap_header_filter_finish(IMAP_HEADER_FILTER *filter, VSTRING *out)
{
    switch (filter->state) {
    case HF_NAME:
	end_colonless(filter, out);		/* the last line had no newline */
	break;
    case HF_COPY:
	if (filter->last_cr)
	    vstring_addch(out, '\n');
	else
	    vstring_strcat(out, "\r\n");
	break;
    }
    vstring_strcat(out, "\r\n");
    filter->state = HF_DONE;
}
