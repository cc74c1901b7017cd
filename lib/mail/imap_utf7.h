/*
 * imap_utf7.h - mailbox names in modified UTF-7 (RFC 3501 section 5.1.3).
 *
 * In lib/mail (not lib/imap) because the mailbox store keeps folder names
 * on disk in this form, as Dovecot does.
 *
 * imap_utf7_to_utf8() decodes NAME (as the client sent it) into OUT as
 * UTF-8 and returns 0, or -1 if NAME is not valid modified UTF-7 (bad
 * base64, a "&" not closed by "-", non-canonical encodings such as an
 * encoded printable ASCII character or "&-" split wrongly, bad UTF-16
 * surrogates, bytes >= 0x80).  imap_utf8_to_utf7() encodes valid UTF-8
 * into modified UTF-7 (for LIST replies); -1 for invalid UTF-8.
 */
#ifndef IMAP_UTF7_H
#define IMAP_UTF7_H

#include "sys_defs.h"
#include "vstring.h"

int	imap_utf7_to_utf8(VSTRING *out, const char *name);
int	imap_utf8_to_utf7(VSTRING *out, const char *name);

#endif
