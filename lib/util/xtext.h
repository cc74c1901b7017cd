/*
 * xtext.h - RFC 3461 xtext (ENVID=, ORCPT=) and RFC 6533 utf-8 xtext.
 *
 * smtpd decodes the ESMTP DSN parameters with xtext_unquote() (and
 * uxtext_unquote() for ORCPT=utf-8;...) and stores the plain text in the
 * queue file; the smtp client encodes them again with xtext_quote().
 */
#ifndef XTEXT_H
#define XTEXT_H

#include "vstring.h"

/* xtext_quote - OUT = IN with "+", "=", controls, space, 8-bit as "+XX"; returns OUT */
VSTRING *xtext_quote(VSTRING *out, const char *in);

/*
 * xtext_unquote - OUT = decoded IN; returns OUT, or NULL when IN is not
 * xtext (bad "+XX", a byte outside "!".."~") or decodes to a NUL byte.
 * Hex digits may be in either case (as Postfix accepts).
 */
VSTRING *xtext_unquote(VSTRING *out, const char *in);

/* uxtext_unquote - as xtext_unquote, also UTF-8 bytes and "\x{HEX}" (RFC 6533) */
VSTRING *uxtext_unquote(VSTRING *out, const char *in);

#endif
