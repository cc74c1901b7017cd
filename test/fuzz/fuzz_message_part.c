/*
 * fuzz_message_part.c - libFuzzer harness for the message-format library:
 * message_parse() (lib/mail/message_part.c) and what is built on its
 * tree: BODYSTRUCTURE, BODY, ENVELOPE, BODY[section], the body decoders
 * and the search matcher.
 *
 * Built and run by test/fuzz/run.sh.  The input is a message; it is
 * parsed twice, once whole and once in pieces of sizes drawn from a
 * generator seeded by the input, and the two trees must be the same.
 * Invariants (a broken one calls abort()):
 *
 *  - every part lies inside the message, its body right after its
 *    header, its children inside its body, in order and not overlapping;
 *    depth and part count within MESSAGE_DEPTH_MAX / MESSAGE_PARTS_MAX;
 *    a message/rfc822 part has exactly one child, a leaf none;
 *  - sizes, CRLF sizes and line counts match the bytes: vsize = size +
 *    the LFs in the range without a CR before them, lines = the LFs of
 *    the body;
 *  - BODYSTRUCTURE, BODY (of the top) and ENVELOPE (of every message) are
 *    one well-formed IMAP value: quoted strings closed with only valid
 *    escapes and no CR, LF or 8-bit inside, literals "{N}" CRLF and
 *    exactly N bytes, parentheses balanced;
 *  - the section of every part ("N", "N.MIME", "N.HEADER", "N.TEXT",
 *    "N.HEADER.FIELDS (...)") lies inside the message, its CRLF form has
 *    the announced size, and the header filter ends with CRLF CRLF;
 *  - every leaf decodes (its Content-Transfer-Encoding, its charset) to
 *    valid UTF-8, fed in pieces, and is searched for a key taken from the
 *    input; the Subject decodes to valid UTF-8.
 */
#include "sys_defs.h"
#include <strings.h>

#include "msg.h"
#include "vstring.h"
#include "message_part.h"
#include "message_decode.h"
#include "message_content.h"
#include "mail_search.h"
#include "imap_bodystructure.h"
#include "imap_envelope.h"
#include "imap_section.h"

#define FUZZ_MAX_INPUT	(1024 * 1024)

static VSTRING *search_key;		/* the key of the search matcher */

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_message_part: %s\n", what);
    abort();
}

 /*
  * The reader: pieces of pseudo-random size.
  */
typedef struct SOURCE {
    const uint8_t *data;
    size_t  len;
    size_t  pos;
    uint32_t seed;			/* 0: whole reads */
} SOURCE;

static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245 + 12345;
    return (*seed >> 16);
}

static ssize_t read_source(void *ctx, char *buf, size_t len)
{
    SOURCE *src = ctx;
    size_t  n = src->len - src->pos;

    if (n > len)
	n = len;
    if (src->seed && n > 0)
	n = 1 + next_random(&src->seed) % (n < 97 ? n : 97);
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (n);
}

static MESSAGE_PART *parse(const uint8_t *data, size_t len, uint32_t seed)
{
    SOURCE  src = {data, len, 0, seed};
    VSTRING *why = vstring_alloc(10);
    MESSAGE_PART *top = message_parse(read_source, &src, why);

    if (top == 0)
	fail("message_parse failed without a read error");
    vstring_free(why);
    return (top);
}

 /*
  * The tree.
  */

/* range_counts - size + bare LFs, and LFs, of [OFFSET, OFFSET+SIZE) */

static void range_counts(const uint8_t *msg, off_t offset, off_t size,
			         off_t *vsize, off_t *lines)
{
    *vsize = size;
    *lines = 0;
    for (off_t i = offset; i < offset + size; i++) {
	if (msg[i] != '\n')
	    continue;
	(*lines)++;
	if (i == 0 || msg[i - 1] != '\r')
	    (*vsize)++;
    }
}

static void check_part(const uint8_t *msg, off_t msg_len,
		               const MESSAGE_PART *part, int depth, int *count)
{
    off_t   end = part->body_offset + part->body_size;
    off_t   prev = part->body_offset;
    off_t   vsize, lines;

    if (++*count > MESSAGE_PARTS_MAX)
	fail("more than MESSAGE_PARTS_MAX parts");
    if (depth >= MESSAGE_DEPTH_MAX)
	fail("deeper than MESSAGE_DEPTH_MAX");
    if (part->hdr_offset < 0 || part->hdr_size < 0 || part->body_size < 0
	|| part->body_offset != part->hdr_offset + part->hdr_size
	|| end > msg_len)
	fail("part outside the message");
    range_counts(msg, part->hdr_offset, part->hdr_size, &vsize, &lines);
    if (vsize != part->hdr_vsize)
	fail("header CRLF size does not match the bytes");
    range_counts(msg, part->body_offset, part->body_size, &vsize, &lines);
    if (vsize != part->body_vsize || lines != part->body_lines)
	fail("body CRLF size or line count does not match the bytes");
    if (part->type == 0 || part->subtype == 0)
	fail("part without a type");
    if ((part->kind == MESSAGE_PART_MESSAGE && part->child_count != 1)
	|| (part->kind == MESSAGE_PART_LEAF && part->child_count != 0))
	fail("wrong number of children");
    for (int i = 0; i < part->child_count; i++) {
	const MESSAGE_PART *child = part->children + i;

	if (child->hdr_offset < prev || child->body_offset + child->body_size > end)
	    fail("child outside its parent or before its sibling");
	prev = child->body_offset + child->body_size;
	check_part(msg, msg_len, child, depth + 1, count);
    }
}

static void same_tree(const MESSAGE_PART *a, const MESSAGE_PART *b)
{
    if (a->hdr_offset != b->hdr_offset || a->hdr_size != b->hdr_size
	|| a->body_size != b->body_size || a->body_lines != b->body_lines
	|| a->kind != b->kind || a->child_count != b->child_count
	|| a->param_count != b->param_count
	|| strcmp(a->type, b->type) != 0 || strcmp(a->subtype, b->subtype) != 0
	|| !a->env_subject != !b->env_subject
	|| (a->env_subject && strcmp(a->env_subject, b->env_subject) != 0))
	fail("the tree depends on the sizes of the pieces");
    for (int i = 0; i < a->child_count; i++)
	same_tree(a->children + i, b->children + i);
}

 /*
  * IMAP values.
  */

/* imap_value - the end of one IMAP value at S, or NULL */

static const char *imap_value(const char *s, const char *end, int depth)
{
    if (s >= end || depth > 2 * MESSAGE_DEPTH_MAX + 10)
	return (0);
    if (*s == '(') {
	for (s++; s < end && *s != ')'; ) {
	    if ((s = imap_value(s, end, depth + 1)) == 0)
		return (0);
	    if (s < end && *s == ' ')
		s++;
	}
	return (s < end ? s + 1 : 0);
    }
    if (*s == '"') {
	for (s++; s < end && *s != '"'; s++) {
	    unsigned char ch = *s;

	    if (ch == '\\' && (s + 1 >= end || (s[1] != '"' && s[1] != '\\')))
		return (0);
	    if (ch == '\\')
		s++;
	    else if (ch == '\r' || ch == '\n' || ch == 0 || ch >= 0x80)
		return (0);
	}
	return (s < end ? s + 1 : 0);
    }
    if (*s == '{') {
	char   *cp;
	unsigned long n = strtoul(s + 1, &cp, 10);

	if (cp == s + 1 || cp + 3 > end || memcmp(cp, "}\r\n", 3) != 0
	    || n > (unsigned long) (end - cp - 3))
	    return (0);
	return (cp + 3 + n);
    }
    if (end - s >= 3 && memcmp(s, "NIL", 3) == 0)
	return (s + 3);
    if (*s >= '0' && *s <= '9') {
	while (s < end && *s >= '0' && *s <= '9')
	    s++;
	return (s);
    }
    return (0);
}

static void check_imap(const VSTRING *out, const char *what)
{
    const char *end = STR(out) + LEN(out);

    if (imap_value(STR(out), end, 0) != end)
	fail(what);
}

static void check_envelopes(const MESSAGE_PART *part, VSTRING *out)
{
    if (part->is_message) {
	vstring_reset(out);
	imap_envelope(out, part);
	check_imap(out, "ENVELOPE is not one well-formed IMAP value");
    }
    for (int i = 0; i < part->child_count; i++)
	check_envelopes(part->children + i, out);
}

 /*
  * Sections, decoders, search.
  */

/* valid_utf8 - TEXT is well-formed UTF-8 */

static int valid_utf8(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;

    for (size_t i = 0; i < len;) {
	size_t  n = p[i] < 0x80 ? 1 : p[i] >= 0xc2 && p[i] < 0xe0 ? 2
	: p[i] >= 0xe0 && p[i] < 0xf0 ? 3 : p[i] >= 0xf0 && p[i] < 0xf5 ? 4 : 0;

	if (n == 0 || i + n > len)
	    return (0);
	for (size_t k = 1; k < n; k++)
	    if ((p[i + k] & 0xc0) != 0x80)
		return (0);
	i += n;
    }
    return (1);
}

static void check_section(const uint8_t *msg, size_t len,
			          const MESSAGE_PART *top, const char *spec,
			          VSTRING *out)
{
    IMAP_SECTION sec;
    IMAP_SECTION_RANGE range;
    VSTRING *why = vstring_alloc(10);
    int     last_cr = 0;

    if (imap_section_parse(&sec, spec, strlen(spec), why) < 0)
	fail("a section spec made by the harness does not parse");
    vstring_reset(out);
    if (imap_section_find(top, &sec, &range) == IMAP_SECTION_FOUND) {
	if (range.offset < 0 || range.size < 0
	    || range.offset + range.size > (off_t) len)
	    fail("section outside the message");
	if (range.filter) {
	    IMAP_HEADER_FILTER *filter = imap_header_filter_create(&sec);

	    imap_header_filter_feed(filter, (const char *) msg + range.offset,
				    range.size, out);
	    imap_header_filter_finish(filter, out);
	    imap_header_filter_free(filter);
	    if (LEN(out) < 2 || memcmp(STR(out) + LEN(out) - 2, "\r\n", 2) != 0
		|| (LEN(out) > 2 && memcmp(STR(out) + LEN(out) - 4, "\r\n\r\n", 4) != 0))
		fail("filtered header does not end with the empty line");
	} else {
	    imap_section_crlf(out, (const char *) msg + range.offset,
			      range.size, &last_cr);
	    if ((off_t) LEN(out) != range.vsize)
		fail("CRLF form of a section is not vsize bytes");
	}
    }
    imap_section_free(&sec);
    vstring_free(why);
}

static void check_decode(const uint8_t *msg, const MESSAGE_PART *part,
			         MAIL_SEARCH *search, VSTRING *out)
{
    const char *charset = message_param_find(part->params, part->param_count,
					     "charset");
    MESSAGE_DECODER *dec = message_decoder_create(part->encoding,
						  charset ? charset : "utf-8");
    const char *body = (const char *) msg + part->body_offset;
    off_t   pos = 0;

    vstring_reset(out);
    mail_search_reset(search);
    while (pos < part->body_size) {
	off_t   n = part->body_size - pos < 61 ? part->body_size - pos : 61;
	size_t  before = LEN(out);

	message_decoder_feed(dec, body + pos, n, out);
	(void) mail_search_feed(search, STR(out) + before, LEN(out) - before);
	pos += n;
    }
    if (mail_search_found(search) != mail_search_text(STR(search_key),
				    LEN(search_key), STR(out), LEN(out)))
	fail("the streamed search and the one-shot search disagree");
    message_decoder_finish(dec, out);
    message_decoder_free(dec);
    if (!valid_utf8(STR(out), LEN(out)))
	fail("decoded body is not valid UTF-8");
}

/* walk - sections, decoding and search for every part; PATH names it */

static void walk(const uint8_t *msg, size_t len, const MESSAGE_PART *top,
		         const MESSAGE_PART *part, VSTRING *path,
		         MAIL_SEARCH *search, VSTRING *buf)
{
    static const char *suffixes[] = {
	"", ".MIME", ".HEADER", ".TEXT", ".HEADER.FIELDS (Subject \"X-A\")",
	".HEADER.FIELDS.NOT (content-type)",
    };
    VSTRING *spec = vstring_alloc(32);
    size_t  mark = LEN(path);

    if (LEN(path) > 0) {
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
	    vstring_sprintf(spec, "%s%s", STR(path), suffixes[i]);
	    check_section(msg, len, top, STR(spec), buf);
	}
    }
    if (part->kind == MESSAGE_PART_LEAF)
	check_decode(msg, part, search, buf);
    if (part->kind == MESSAGE_PART_MULTIPART) {
	for (int i = 0; i < part->child_count && i < 20; i++) {
	    vstring_sprintf_append(path, "%s%d", LEN(path) ? "." : "", i + 1);
	    walk(msg, len, top, part->children + i, path, search, buf);
	    vstring_truncate(path, mark);
	}
    } else if (part->kind == MESSAGE_PART_MESSAGE) {
	const MESSAGE_PART *inner = part->children;

	if (LEN(path) == 0)
	    vstring_strcpy(path, "1");
	if (inner->kind == MESSAGE_PART_MULTIPART) {
	    for (int i = 0; i < inner->child_count && i < 20; i++) {
		vstring_sprintf_append(path, ".%d", i + 1);
		walk(msg, len, top, inner->children + i, path, search, buf);
		vstring_truncate(path, mark ? mark : 1);
	    }
	} else {
	    vstring_strcat(path, ".1");
	    walk(msg, len, top, inner, path, search, buf);
	}
	vstring_truncate(path, mark);
    }
    vstring_free(spec);
}

int     LLVMFuzzerInitialize(int *argc, char **argv[])
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_message_part", 0);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MESSAGE_PART *whole, *pieces;
    VSTRING *out, *path, *buf;
    MAIL_SEARCH *search;
    uint32_t seed = 1;
    int     count = 0;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    for (size_t i = 0; i < size && i < 64; i++)
	seed = seed * 31 + data[i];

    whole = parse(data, size, 0);
    pieces = parse(data, size, seed | 1);
    check_part(data, size, whole, 0, &count);
    same_tree(whole, pieces);
    message_part_free(pieces);

    out = vstring_alloc(1024);
    imap_bodystructure(out, whole, 1);
    check_imap(out, "BODYSTRUCTURE is not one well-formed IMAP value");
    vstring_reset(out);
    imap_bodystructure(out, whole, 0);
    check_imap(out, "BODY is not one well-formed IMAP value");
    check_envelopes(whole, out);
    if (whole->env_subject) {
	vstring_reset(out);
	message_header_decode(out, whole->env_subject, strlen(whole->env_subject));
	if (!valid_utf8(STR(out), LEN(out)))
	    fail("decoded Subject is not valid UTF-8");
    }

    /* Sections of the whole message and of every part; decode; search. */
    path = vstring_alloc(32);
    buf = vstring_alloc(1024);
    search_key = vstring_alloc(8);
    vstring_memcpy(search_key, data, size < 5 ? size : 5);
    search = mail_search_create(STR(search_key), LEN(search_key));
    check_section(data, size, whole, "", buf);
    if (whole->kind == MESSAGE_PART_LEAF) {
	check_section(data, size, whole, "1", buf);
	check_section(data, size, whole, "1.MIME", buf);
    }
    check_section(data, size, whole, "HEADER", buf);
    check_section(data, size, whole, "TEXT", buf);
    check_section(data, size, whole, "HEADER.FIELDS (From To)", buf);
    walk(data, size, whole, whole, path, search, buf);
    mail_search_free(search);
    vstring_free(search_key);

    vstring_free(path);
    vstring_free(buf);
    vstring_free(out);
    message_part_free(whole);
    return (0);
}
