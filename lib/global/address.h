/*
 * address.h - RFC 5321 envelope addresses: parsing, quoting, splitting.
 *
 * Posthorn keeps envelope addresses in their external (RFC 5321) form:
 * local parts that need it are quoted, domains are as given.  The empty
 * string is the null sender.  addr_parse_path() accepts what a strict
 * client sends ("<a@b>", "<>", "<@route:a@b>", with ESMTP parameters after
 * it) and, as Postfix does by default, a bare address without brackets.
 */
#ifndef ADDRESS_H
#define ADDRESS_H

#include "sys_defs.h"
#include "vstring.h"

/*
 * addr_parse_path - parse the address part of MAIL FROM:/RCPT TO:.
 * IN points after "FROM:" / "TO:" (leading white space allowed).
 * On success returns 0, stores the address in external form in ADDR
 * (source route removed, "" for <>), and sets *REST to the text after
 * the path (ESMTP parameters, leading white space skipped).
 * On error returns -1 and sets *WHY to a short reason.
 */
int	addr_parse_path(const char *in, VSTRING *addr, const char **rest, const char **why);

/*
 * addr_split - split an external-form address at the last '@' outside
 * quotes: LOCAL gets the unquoted (internal) local part, DOMAIN the domain
 * ("" when there is no '@').  Returns 0, or -1 on bad syntax.
 */
int	addr_split(const char *addr, VSTRING *local, VSTRING *domain);

/* addr_quote_local - append LOCAL (internal form) quoted as RFC 5321 needs */
void	addr_quote_local(const char *local, VSTRING *out);

/* addr_domain - pointer to the domain part (after the last '@'), or NULL */
const char *addr_domain(const char *addr);

/* addr_valid_domain - hostname syntax or an address literal [1.2.3.4] / [IPv6:...] */
int	addr_valid_domain(const char *domain);

/* addr_is_8bit - the address has bytes >= 0x80 (needs SMTPUTF8) */
int	addr_is_8bit(const char *addr);

#endif
