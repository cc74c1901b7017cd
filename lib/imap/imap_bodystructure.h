/*
 * imap_bodystructure.h - FETCH BODY and BODYSTRUCTURE (RFC 3501 section
 * 7.4.2), from a message_parse() tree.
 *
 * imap_bodystructure() appends the parenthesized structure of PART (the
 * top of the tree for FETCH): with EXTENDED 0 the BODY form, with 1 the
 * BODYSTRUCTURE form with all extension data:
 *
 *	leaf:	  (type subtype params id description encoding size
 *		   [lines] md5 disposition language location)
 *	message:  ("message" "rfc822" params id description encoding size
 *		   envelope body lines md5 disposition language location)
 *	multipart: (part part ... subtype params disposition language location)
 *
 * Sizes are CRLF sizes; "lines" is written for text parts.  As Dovecot
 * does: a text part without a charset parameter gets ("charset"
 * "us-ascii") added; a missing encoding is "7bit"; a multipart without
 * parts shows one empty text/plain part; Content-ID, -Description, -MD5
 * and -Location lose their CR and LF; the language list holds the tags
 * of Content-Language.
 */
#ifndef IMAP_BODYSTRUCTURE_H
#define IMAP_BODYSTRUCTURE_H

#include "sys_defs.h"
#include "vstring.h"
#include "message_part.h"

void	imap_bodystructure(VSTRING *out, const MESSAGE_PART *part, int extended);

#endif
