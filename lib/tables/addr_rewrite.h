/*
 * addr_rewrite.h - what Postfix's cleanup does to envelope addresses
 * before mail is queued: canonical(5) mapping, masquerading, and the
 * relocated(5) table.
 *
 *	addr_rewrite_sender(addr, out)	   sender_canonical_maps, then
 *					   canonical_maps, then
 *					   masquerade_domains
 *	addr_rewrite_recipient(addr, out)  recipient_canonical_maps, then
 *					   canonical_maps (masquerading only
 *					   when masquerade_classes says so)
 *	addr_rewrite_relocated(addr, where) the relocated_maps entry
 *	addr_rewrite_class(class, addr, out) the same for header addresses
 *
 * ADDR is qualified (external form).  The canonical tables are searched in
 * canonical(5) order (resolve_addr_find: user@domain, user for a local
 * domain, @domain, with recipient_delimiter extensions); a result
 * "@other.domain" keeps the user, a result without a domain gets
 * @$myorigin, and an unmatched extension is kept when
 * propagate_unmatched_extensions has "canonical".  The mapping repeats
 * until the address stops changing (at most 10 times).  canonical_classes,
 * sender_canonical_classes and recipient_canonical_classes choose whether
 * the envelope sender or recipient is mapped at all;
 * masquerade_exceptions lists users never masqueraded, and a
 * masquerade_domains entry "!domain" keeps that domain's subdomains.
 * Each returns 0 (OUT holds the result, perhaps ADDR itself) or -1 when a
 * table could not answer (defer the mail); addr_rewrite_relocated returns
 * 1 (WHERE holds the text), 0 or -1.  Tables are opened on first use.
 */
#ifndef ADDR_REWRITE_H
#define ADDR_REWRITE_H

#include "sys_defs.h"
#include "vstring.h"

/* addr_rewrite_init - (re)read the parameters' tables (else: at first use) */
void	addr_rewrite_init(void);
int	addr_rewrite_sender(const char *addr, VSTRING *out);
int	addr_rewrite_recipient(const char *addr, VSTRING *out);
int	addr_rewrite_relocated(const char *addr, VSTRING *where);

/* addr_rewrite_class - the same for CLASS: "header_sender" or
 * "header_recipient" (addresses in message headers) or the envelope's */
int	addr_rewrite_class(const char *class, const char *addr, VSTRING *out);
/* addr_rewrite_active - some canonical table or masquerading is set */
int	addr_rewrite_active(void);

#endif
