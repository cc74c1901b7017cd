/*
 * message_part.h - the MIME structure of one message (RFC 2045-2049, RFC
 * 5322), for IMAP's BODYSTRUCTURE, ENVELOPE, BODY[section] and SEARCH.
 *
 * message_parse() reads a message through READ (the bytes as stored: LF
 * or CRLF line ends) in one pass with bounded memory (the fields it keeps
 * from one header block are cut at MESSAGE_HEADER_MAX bytes, from the
 * whole message at MESSAGE_KEPT_MAX; bodies are not kept) and returns
 * the tree of its parts: every offset and size is in bytes of the stored
 * message, and every *_vsize the same with CRLF line ends (IMAP's octet
 * counts), so a section can be sent by reading stored bytes and turning
 * LF into CRLF.  Broken MIME never fails the parse and never loops; it is
 * read as Dovecot 2.3 reads it: a boundary is any line starting with
 * "--" and a boundary of an open multipart (cut to MESSAGE_BOUNDARY_MAX
 * bytes; of several, the longest, unless one already matches the whole
 * line), and the newline before it belongs to the boundary unless it
 * ended a header; a boundary of an outer multipart ends the inner ones; a
 * missing close boundary ends the multipart at the end of its parent; a
 * header block cut short by a boundary or by the end of the message ends
 * there.  A Content-Type that is not "type/subtype" counts as
 * missing (text/plain, RFC 2045 section 5.2; Dovecot 2.3 shows "" ""
 * instead).  Content-* fields count only in a MIME part (a multipart's
 * child, or a header with MIME-Version or Content-Type).  A multipart or
 * message/rfc822 part MESSAGE_DEPTH_MAX levels down, or the part that
 * brings the count to MESSAGE_PARTS_MAX, is not split further: it becomes
 * application/octet-stream and (for the latter) runs to the end of the
 * message, as in Dovecot.
 *
 * A part of type message/rfc822 has one child: the enclosed message,
 * whose own header fields (for its ENVELOPE) are kept.  message/global is
 * a leaf, as in Dovecot 2.3 (IMAP4rev1 gives only message/rfc822 an
 * envelope and a body structure).  A multipart part has its children in
 * order; one with no boundary, or none found, has none.
 *
 * Kept header values are the raw field bodies: folded lines keep their
 * newlines, white space after the colon is dropped (all but one space of
 * a body that is only white space), NUL bytes become U+FFFD.  The first
 * Content-Type, -Transfer-Encoding (that parses), -ID, -Description,
 * -MD5, -Language (with a tag) and -Location count; Content-Disposition
 * until one has parameters; for the envelope, the last Date, Subject,
 * Message-ID and In-Reply-To.  The ENVELOPE address fields (env_from ... env_bcc) may come
 * from several header lines: their values are then stored one after the
 * other, each ended by a NUL, with an empty value (two NULs) at the end;
 * message_part_next_value() steps through them.
 */
#ifndef MESSAGE_PART_H
#define MESSAGE_PART_H

#include "sys_defs.h"
#include "vstring.h"

#define MESSAGE_HEADER_MAX	(1024 * 1024)
#define MESSAGE_KEPT_MAX	(16 * 1024 * 1024)
#define MESSAGE_DEPTH_MAX	50
#define MESSAGE_PARTS_MAX	5000
#define MESSAGE_BOUNDARY_MAX	80

typedef struct MESSAGE_PARAM {
    char   *name;			/* as written */
    char   *value;			/* unquoted; RFC 2231 sections merged */
} MESSAGE_PARAM;

/* What a part holds */
#define MESSAGE_PART_LEAF	0
#define MESSAGE_PART_MULTIPART	1	/* children: the body parts */
#define MESSAGE_PART_MESSAGE	2	/* message/rfc822: one child */

typedef struct MESSAGE_PART {
    off_t   hdr_offset;			/* first header byte */
    off_t   hdr_size;			/* through the empty line (if any) */
    off_t   hdr_vsize;
    off_t   body_offset;
    off_t   body_size;
    off_t   body_vsize;
    unsigned body_lines;		/* lines of the body (IMAP "lines") */
    int     kind;			/* MESSAGE_PART_LEAF etc. */
    /* Content-Type, defaulted as RFC 2045 (digest children: message/rfc822) */
    char   *type;			/* "text" */
    char   *subtype;			/* "plain" */
    MESSAGE_PARAM *params;
    int     param_count;
    char   *id;				/* Content-ID, or NULL */
    char   *description;		/* Content-Description, or NULL */
    char   *encoding;			/* Content-Transfer-Encoding, or NULL (7bit) */
    char   *md5;			/* Content-MD5 */
    char   *disposition;		/* Content-Disposition type, or NULL */
    MESSAGE_PARAM *disp_params;
    int     disp_param_count;
    char   *language;			/* Content-Language, raw, or NULL */
    char   *location;			/* Content-Location, or NULL */
    /* For a message (the top, or the child of message/rfc822): ENVELOPE fields, raw */
    char   *env_date, *env_subject, *env_from, *env_sender, *env_reply_to;
    char   *env_to, *env_cc, *env_bcc, *env_in_reply_to, *env_message_id;
    int     is_message;			/* has the env_* fields */
    struct MESSAGE_PART *children;
    int     child_count;
} MESSAGE_PART;

/* The reader: like read(2): bytes, 0 at the end, -1 on error */
typedef ssize_t (*MESSAGE_READ_FN) (void *ctx, char *buf, size_t len);

/* message_parse - the tree, or NULL (WHY) only when READ failed */
MESSAGE_PART *message_parse(MESSAGE_READ_FN read_fn, void *ctx, VSTRING *why);
void	message_part_free(MESSAGE_PART *top);

/*
 * message_part_find - part "1.2.3" (NUMS, COUNT levels) as IMAP numbers
 * them, or NULL: a multipart's parts count from 1; a message (the top, or
 * the one a message/rfc822 part encloses) that is not multipart is its
 * own part 1; and, as in Dovecot, a leaf part of a multipart is also its
 * own part 1 ("1.1" is "1"), once.
 */
const MESSAGE_PART *message_part_find(const MESSAGE_PART *top,
				              const unsigned *nums, int count);

/* message_part_next_value - the value after VALUE in a multi-value env_* field, or NULL */
const char *message_part_next_value(const char *value);

#endif
