/*
 * smtpd_hbc.h - header_checks, body_checks and message_drop_headers on
 * the content of one DATA transaction (smtpd_hbc.c).
 *
 * smtpd_queue.c passes every piece of content through here instead of
 * writing it to the queue file itself: header pieces (with the header
 * scanner's verdict that they belong to the header block) go to
 * smtpd_hbc_header(), the rest to smtpd_hbc_body().  This module writes
 * to state->qf whatever survives.  Actions that decide the fate of the
 * whole message set state->hold_reason / discard_reason (the same fields
 * that HOLD and DISCARD from access tables set), or make smtpd_hbc_end()
 * answer SMTPD_HBC_REJECT with the reply in REPLY.
 *
 * With no header_checks and no body_checks, headers are streamed with a
 * drop-or-keep decision per header name and body content goes straight to
 * the queue file, without copies.
 */
#ifndef SMTPD_HBC_H
#define SMTPD_HBC_H

#include "smtpd.h"

#define SMTPD_HBC_OK		0	/* commit (or hold/discard, see state) */
#define SMTPD_HBC_REJECT	1	/* REPLY has the complete reply */
#define SMTPD_HBC_ERROR		2	/* a table failed: REPLY has a 451 */

/* smtpd_hbc_begin - per-message state; opens the tables on first use */
/* smtpd_hbc_init - open header_checks/body_checks once (pre_init) */
void	smtpd_hbc_init(void);
void	smtpd_hbc_begin(SMTPD_STATE *state);
/* smtpd_hbc_header_text - our own header lines (Received:), checked too */
void	smtpd_hbc_header_text(SMTPD_STATE *state, const char *text, size_t len);
/* smtpd_hbc_header - a piece of the header block; LINE_START: starts a line */
void	smtpd_hbc_header(SMTPD_STATE *state, const char *data, size_t len, int line_start);
/* smtpd_hbc_header_end - the header block ended: finish the last header */
void	smtpd_hbc_header_end(SMTPD_STATE *state);
/* smtpd_hbc_body - a piece of body content */
void	smtpd_hbc_body(SMTPD_STATE *state, const char *data, size_t len, int line_start);
/* smtpd_hbc_end - end of data: flush, and the verdict (SMTPD_HBC_*) */
int	smtpd_hbc_end(SMTPD_STATE *state, VSTRING *reply);
/* smtpd_hbc_free - release the per-message state (safe to call twice) */
void	smtpd_hbc_free(SMTPD_STATE *state);

#endif
