/*
 * message_decode.h - message text to UTF-8, for IMAP SEARCH (and for
 * anything else that shows message text): Content-Transfer-Encoding,
 * charsets, and RFC 2047 encoded words in header fields.
 *
 * Charset conversion (CHARSET_CONV): charset_conv_create() takes any
 * charset name glibc's iconv knows; "us-ascii", "utf-8", names iconv does
 * not know and NULL are read as UTF-8 (8-bit text labelled us-ascii is
 * common).  charset_conv_feed() appends the UTF-8 of a piece of input to
 * OUT; a multibyte character may be cut between pieces.  Bytes that are
 * not valid in the charset become U+FFFD; nothing ever fails.
 * charset_conv_finish() ends the input (an unfinished character becomes
 * U+FFFD); the converter can then be used again.
 *
 * Body decoding (MESSAGE_DECODER): message_decoder_create() takes the
 * Content-Transfer-Encoding value (base64 and quoted-printable are
 * decoded, anything else is passed through: 7bit, 8bit, binary, unknown)
 * and the charset (NULL: no conversion, the decoded bytes as they are).
 * message_decoder_feed() takes pieces of the encoded body as stored and
 * appends decoded text to OUT, holding back only the few bytes a piece
 * may cut (a base64 quad, "=X" of quoted-printable, trailing white space
 * of a quoted-printable line, a multibyte character).  Broken encodings
 * decode as well as they can: base64 skips what is not base64 and goes on
 * after padding; quoted-printable keeps a "=" that starts no escape.
 *
 * message_header_decode() appends a header field body to OUT as UTF-8:
 * encoded words (=?charset?B?...?= and ?Q?, RFC 2047, a language after
 * "*" ignored) are decoded, white space between two encoded words is
 * dropped, adjacent words in one charset are joined before conversion (a
 * character may be cut between them), folding (CR and LF) is removed, and
 * the rest is read as UTF-8.
 */
#ifndef MESSAGE_DECODE_H
#define MESSAGE_DECODE_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct CHARSET_CONV CHARSET_CONV;

CHARSET_CONV *charset_conv_create(const char *charset);
void	charset_conv_feed(CHARSET_CONV *conv, const char *data, size_t len,
			          VSTRING *out);
void	charset_conv_finish(CHARSET_CONV *conv, VSTRING *out);
void	charset_conv_free(CHARSET_CONV *conv);

/* charset_known - iconv can convert CHARSET (or it is UTF-8/ASCII) */
int	charset_known(const char *charset);

/* Content-Transfer-Encoding */
#define MESSAGE_CTE_NONE	0	/* 7bit, 8bit, binary, unknown */
#define MESSAGE_CTE_BASE64	1
#define MESSAGE_CTE_QP		2

int	message_cte_lookup(const char *encoding);

typedef struct MESSAGE_DECODER MESSAGE_DECODER;

MESSAGE_DECODER *message_decoder_create(const char *encoding,
					        const char *charset);
void	message_decoder_feed(MESSAGE_DECODER *dec, const char *data,
			             size_t len, VSTRING *out);
void	message_decoder_finish(MESSAGE_DECODER *dec, VSTRING *out);
void	message_decoder_free(MESSAGE_DECODER *dec);

void	message_header_decode(VSTRING *out, const char *text, size_t len);

#endif
