/*
 * hbc.h - header_checks(5) and body_checks: look up a message header or
 * body line in a list of tables and say what to do with it.
 *
 * hbc_create("header_checks", "pcre:/etc/posthorn/header_checks") opens the
 * tables (NULL when the spec is empty: no checks, nothing to do).
 * hbc_check() looks up one logical header ("Subject: a\n\tb", folded lines
 * joined with their newlines, no final newline) or one body line (without
 * its newline) and returns an HBC_ACT_* code, with the action's text in
 * TEXT: for REJECT the reply text with an enhanced status code in front
 * ("5.7.1 Message content rejected" by default), for REPLACE and PREPEND
 * the new line, for DISCARD, HOLD, WARN, INFO, STRIP and PASS the optional
 * text to log ("" when none).  Bad results (REPLACE without text, a
 * REPLACE/PREPEND header text that is not "name: value", unknown or
 * unsupported actions) are warned about and count as DUNNO, as Postfix
 * does.  Empty lines never match.  What to log and to answer is up to the
 * caller (smtpd/smtpd_hbc.c); this module knows nothing about SMTP.
 */
#ifndef HBC_H
#define HBC_H

#include "sys_defs.h"
#include "vstring.h"
#include "dict.h"

#define HBC_ACT_DUNNO	0		/* no match, DUNNO, OK */
#define HBC_ACT_REJECT	1		/* refuse the message; TEXT: "5.7.1 ..." */
#define HBC_ACT_DISCARD	2		/* accept and throw away */
#define HBC_ACT_HOLD	3		/* queue into hold/ */
#define HBC_ACT_WARN	4		/* log "warning:" */
#define HBC_ACT_INFO	5		/* log "info:" */
#define HBC_ACT_IGNORE	6		/* delete the line, silently */
#define HBC_ACT_STRIP	7		/* delete the line, log "strip:" */
#define HBC_ACT_REPLACE	8		/* replace the line with TEXT */
#define HBC_ACT_PREPEND	9		/* insert TEXT before the line */
#define HBC_ACT_PASS	10		/* log "pass:", no more checks */
#define HBC_ACT_ERROR	11		/* a table could not answer: defer */

#define HBC_CTX_HEADER	1
#define HBC_CTX_BODY	0

typedef struct HBC {
    char   *param;			/* "header_checks", for warnings */
    MAPS   *maps;
} HBC;

/* hbc_create - NULL when SPEC has no tables */
HBC    *hbc_create(const char *param, const char *spec);
void	hbc_free(HBC *hbc);

/* hbc_check - LINE's action (IS_HEADER: HBC_CTX_HEADER or _BODY), text in TEXT */
int	hbc_check(HBC *hbc, int is_header, const char *line, VSTRING *text);

/* hbc_action - parse a table result VALUE (what hbc_check does after a match) */
int	hbc_action(const char *param, int is_header, const char *value, VSTRING *text);

/* hbc_action_label - the log label: "reject", "discard", "warning", ...; NULL: none */
const char *hbc_action_label(int action);

/* hbc_header_name_len - length of NAME in "NAME: value" (LEN bytes), 0 if not a header */
size_t	hbc_header_name_len(const char *text, size_t len);

#endif
