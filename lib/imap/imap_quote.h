/*
 * imap_quote.h - writing IMAP strings (RFC 3501 section 4.3) into a reply.
 *
 * imap_append_astring() writes DATA as an atom when every byte is an
 * ATOM-CHAR (and it is not "NIL" and not empty), as a quoted string when
 * it is short 7-bit text without CR, LF or NUL, else as a literal
 * "{N}\r\nDATA".  imap_append_string() never writes an atom (for fields
 * that are "string" in the grammar: ENVELOPE parts, BODYSTRUCTURE
 * values).  imap_append_nstring() writes NIL for a NULL pointer.
 * imap_append_quoted() always quotes (the caller knows the text is safe:
 * no CR, LF, NUL or 8-bit); backslash and double quote are escaped.
 */
#ifndef IMAP_QUOTE_H
#define IMAP_QUOTE_H

#include "sys_defs.h"
#include "vstring.h"

#define IMAP_QUOTE_MAX	1024		/* longer text goes as a literal */

void	imap_append_astring(VSTRING *out, const char *data, size_t len);
void	imap_append_string(VSTRING *out, const char *data, size_t len);
void	imap_append_nstring(VSTRING *out, const char *data, size_t len);
void	imap_append_quoted(VSTRING *out, const char *data, size_t len);

/* imap_atom_char - CH may appear in an atom (ATOM-CHAR) */
int	imap_atom_char(int ch);

#endif
