/*
 * message_content.h - the values of Content-* header fields (RFC 2045,
 * RFC 2183, RFC 2231, RFC 3282), read as Dovecot 2.3 reads them, for
 * message_part.c and BODYSTRUCTURE.
 *
 * message_content_type() reads "type/subtype *(; param)": 0 when it is
 * well formed (a token, "/", a token, then the end or ";"), -1 when not
 * (TYPE and SUBTYPE are then empty, except that a lone token is kept in
 * TYPE; no parameters are read).  Case is kept as written.
 *
 * message_content_params() reads ";name=value" parameters from LEX to the
 * end, as Dovecot does: garbage is skipped a byte at a time up to the next
 * ";", a value may be a token, a quoted string or (for broken encoded
 * words) anything up to ";" or white space.  RFC 2231 sections are merged
 * afterwards: "name*0=a; name*1=b" becomes name="ab", and "name*0*=...;
 * name*1=..." becomes name*="..." (values kept encoded, a plain section
 * %-escaped); when sections are missing or repeated they stay as
 * "name*N" / "name*N*".  The merged parameters come after the plain ones.
 *
 * message_content_token() reads a value that must be a single token
 * (Content-Transfer-Encoding): 0 and the token, or -1.
 * message_content_disposition() reads "token *(; param)"; -1 only for an
 * unterminated comment right after the token (which may be empty).
 * message_content_languages() appends the language tags of a
 * Content-Language value (atoms separated by ",", up to the first thing
 * that is not one) to a NULL-terminated array and returns their count.
 * message_params_free() frees what the functions above return.
 */
#ifndef MESSAGE_CONTENT_H
#define MESSAGE_CONTENT_H

#include "sys_defs.h"
#include "vstring.h"
#include "rfc822_lex.h"
#include "message_part.h"

int	message_content_type(const char *value, size_t len, VSTRING *type,
			             VSTRING *subtype, MESSAGE_PARAM **params,
			             int *count);
void	message_content_params(RFC822_LEX *lex, MESSAGE_PARAM **params,
			               int *count);
int	message_content_token(const char *value, size_t len, VSTRING *token);
int	message_content_disposition(const char *value, size_t len,
				            VSTRING *type, MESSAGE_PARAM **params,
				            int *count);
int	message_content_languages(const char *value, size_t len,
				          char ***tags);
void	message_params_free(MESSAGE_PARAM *params, int count);
void	message_languages_free(char **tags);

/* message_param_find - the value of NAME (case-insensitive), or NULL */
const char *message_param_find(const MESSAGE_PARAM *params, int count,
			               const char *name);

#endif
