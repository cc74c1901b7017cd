/*
 * imap_section.h - FETCH BODY[section]<partial> (RFC 3501 sections 6.4.5
 * and 9): the section spec, where it is in a message, and the filtered
 * header of HEADER.FIELDS and HEADER.FIELDS.NOT.
 *
 * imap_section_parse() reads the text between "[" and "]": "", "HEADER",
 * "TEXT", "1", "1.2.MIME", "2.HEADER.FIELDS (From To)",
 * "HEADER.FIELDS.NOT (X-Foo)"; part numbers are >= 1 without leading
 * zeros, keywords are case-insensitive, the field names are IMAP astrings
 * (atoms or quoted strings).  It returns 0, or -1 with a reason for a BAD
 * reply.  imap_section_parse_partial() reads "<start.length>".
 *
 * imap_section_find() says where the section is: an offset and size in
 * the message as stored, and its size with CRLF line ends (the literal's
 * size, except for HEADER.FIELDS[.NOT], whose bytes must go through the
 * header filter).  It returns IMAP_SECTION_FOUND; IMAP_SECTION_NONE when
 * the part does not exist (the reply is an empty string, as in Dovecot);
 * or IMAP_SECTION_INVALID when HEADER, TEXT or HEADER.FIELDS is asked of
 * a part that is not message/rfc822 (Dovecot answers with an empty
 * string; a client asked for something RFC 3501 does not define).  Part
 * numbers follow message_part_find(); "N.MIME" is part N's own header
 * (for the top message or an enclosed one, its header).
 *
 * The header filter (IMAP_HEADER_FILTER) is fed the stored header bytes
 * in pieces and appends the fields whose names are (HEADER.FIELDS) or are
 * not (HEADER.FIELDS.NOT) in the list, names compared without case, in
 * message order with their continuation lines, in CRLF form, and ends
 * with the empty line (RFC 3501).  Lines without a colon are never in
 * the list.  Nothing after the header's empty line is passed.
 * imap_section_crlf() turns stored bytes into CRLF form for the reply
 * (LF without CR before it becomes CRLF), in pieces.
 */
#ifndef IMAP_SECTION_H
#define IMAP_SECTION_H

#include "sys_defs.h"
#include "vstring.h"
#include "message_part.h"

/* What the section names */
#define IMAP_SECTION_ALL		0	/* "" or "1.2": the message or part */
#define IMAP_SECTION_HEADER		1
#define IMAP_SECTION_HEADER_FIELDS	2
#define IMAP_SECTION_HEADER_FIELDS_NOT	3
#define IMAP_SECTION_TEXT		4
#define IMAP_SECTION_MIME		5

typedef struct IMAP_SECTION {
    unsigned *parts;			/* part numbers, or NULL */
    int     part_count;
    int     what;			/* IMAP_SECTION_ALL etc. */
    char  **fields;			/* HEADER.FIELDS[.NOT] names */
    int     field_count;
} IMAP_SECTION;

int	imap_section_parse(IMAP_SECTION *section, const char *spec, size_t len,
			           VSTRING *why);
void	imap_section_free(IMAP_SECTION *section);

/* imap_section_parse_partial - "<start.length>": 0, or -1 */
int	imap_section_parse_partial(const char *text, size_t len,
				           off_t *start, off_t *length);

typedef struct IMAP_SECTION_RANGE {
    off_t   offset;			/* bytes as stored */
    off_t   size;
    off_t   vsize;			/* with CRLF line ends */
    int     filter;			/* HEADER.FIELDS[.NOT]: filter the bytes */
} IMAP_SECTION_RANGE;

#define IMAP_SECTION_FOUND	0
#define IMAP_SECTION_NONE	1
#define IMAP_SECTION_INVALID	(-1)

int	imap_section_find(const MESSAGE_PART *top, const IMAP_SECTION *section,
			          IMAP_SECTION_RANGE *range);

typedef struct IMAP_HEADER_FILTER IMAP_HEADER_FILTER;

IMAP_HEADER_FILTER *imap_header_filter_create(const IMAP_SECTION *section);
void	imap_header_filter_feed(IMAP_HEADER_FILTER *filter, const char *data,
				        size_t len, VSTRING *out);
void	imap_header_filter_finish(IMAP_HEADER_FILTER *filter, VSTRING *out);
void	imap_header_filter_free(IMAP_HEADER_FILTER *filter);

/* imap_section_crlf - DATA in CRLF form; *LAST_CR carries a CR between pieces */
void	imap_section_crlf(VSTRING *out, const char *data, size_t len,
			          int *last_cr);

#endif
