/*
 * base64_code.h - RFC 4648 base64, for SASL exchanges that a login process
 * decodes itself (POP3 AUTH, IMAP AUTHENTICATE).
 *
 * base64_encode() replaces OUT with the encoding of LEN bytes at IN.
 * base64_decode() replaces OUT with the bytes that TEXT encodes (strict:
 * padding required, no white space, no bytes after the padding) and
 * returns 0, or -1 for bad input.  OUT stays NUL-terminated.
 */
#ifndef BASE64_CODE_H
#define BASE64_CODE_H

#include "sys_defs.h"
#include "vstring.h"

VSTRING *base64_encode(VSTRING *out, const char *in, size_t len);
int	base64_decode(VSTRING *out, const char *text, size_t len);

#endif
