/*
 * message_part.h - the MIME structure of one message (RFC 2045-2049, RFC
 * 5322), for IMAP's BODYSTRUCTURE, ENVELOPE, BODY[section] and SEARCH.
 *
 * message_parse() reads a message through READ (the bytes as stored: LF
 * or CRLF line ends) in one pass with bounded memory (a header block is
 * kept up to MESSAGE_HEADER_MAX bytes; bodies are not kept) and returns
 * the tree of its parts: every offset and size is in bytes of the stored
 * message, and every *_vsize the same with CRLF line ends (IMAP's octet
 * counts), so a section can be sent by reading stored bytes and turning
 * LF into CRLF.  Broken MIME never fails the parse and never loops: a
 * missing boundary ends the multipart at the end of its parent, a bad
 * Content-Type is text/plain (as Dovecot does), nesting deeper than
 * MESSAGE_DEPTH_MAX is treated as text/plain, and more than
 * MESSAGE_PARTS_MAX parts in one message stops splitting.
 *
 * A part of type message/rfc822 (or message/global) has one child: the
 * enclosed message, whose own header fields (for its ENVELOPE) are kept.
 * A multipart part has its children in order.
 */
#ifndef MESSAGE_PART_H
#define MESSAGE_PART_H

#include "sys_defs.h"
#include "vstring.h"

#define MESSAGE_HEADER_MAX	(1024 * 1024)
#define MESSAGE_DEPTH_MAX	50
#define MESSAGE_PARTS_MAX	5000

typedef struct MESSAGE_PARAM {
    char   *name;			/* as written */
    char   *value;			/* unquoted; RFC 2231 left as written */
} MESSAGE_PARAM;

typedef struct MESSAGE_PART {
    off_t   hdr_offset;			/* first header byte */
    off_t   hdr_size;			/* through the empty line (if any) */
    off_t   hdr_vsize;
    off_t   body_offset;
    off_t   body_size;
    off_t   body_vsize;
    unsigned body_lines;		/* lines of the body (IMAP "lines") */
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

/* message_part_find - part "1.2.3" (NUMS, COUNT levels) as IMAP numbers them */
const MESSAGE_PART *message_part_find(const MESSAGE_PART *top,
				              const unsigned *nums, int count);

#endif
