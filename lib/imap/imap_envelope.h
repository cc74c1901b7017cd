/*
 * imap_envelope.h - FETCH ENVELOPE (RFC 3501 section 7.4.2).
 *
 * imap_envelope() appends the parenthesized envelope of MESSAGE (the top
 * part of message_parse(), or the child of a message/rfc822 part):
 *
 *	(date subject from sender reply-to to cc bcc in-reply-to message-id)
 *
 * Fields that are missing are NIL; sender and reply-to default to from.
 * An address is (name adl mailbox host); a group is a start entry
 * (NIL NIL "name" NIL), its members, and an end entry (NIL NIL NIL NIL).
 * As in Dovecot, the subject and display names are written "for humans"
 * (folding removed, runs of white space made one space, leading and
 * trailing white space dropped), the other strings with CR and LF
 * removed; text with 8-bit bytes becomes a literal.  Encoded words are
 * left encoded (the client decodes them).
 *
 * imap_envelope_humanize() is that "for humans" clean-up, for callers
 * that need it elsewhere.
 */
#ifndef IMAP_ENVELOPE_H
#define IMAP_ENVELOPE_H

#include "sys_defs.h"
#include "vstring.h"
#include "message_part.h"

void	imap_envelope(VSTRING *out, const MESSAGE_PART *message);

/* imap_envelope_humanize - TEXT cleaned up for display, into OUT */
void	imap_envelope_humanize(VSTRING *out, const char *text, size_t len);

/* imap_envelope_nstring_nolf - an nstring with CR and LF left out */
void	imap_envelope_nstring_nolf(VSTRING *out, const char *text);

#endif
