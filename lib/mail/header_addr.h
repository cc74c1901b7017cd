/*
 * header_addr.h - rewrite the addresses in an address header's value
 * (From:, To:, Cc:, ... RFC 5322 address lists) and keep every other byte:
 * display names, comments, groups, folding, spacing.
 *
 *	n = header_addr_rewrite(value, len, out, fn, ctx);
 *
 * FN gets each addr-spec in turn - the inside of <...> (after a source
 * route "@a,@b:", which stays) or a bare "user@domain" mailbox - and
 * returns 1 with the replacement in its VSTRING, or 0 to keep it.  OUT
 * gets the value with the replacements; the result is the number made.
 * Text that is not an address list (unbalanced quotes, brackets or
 * comments, junk) is copied as it is: nothing in it is rewritten, and no
 * byte is lost.  Only addresses with an '@' (and no NUL byte) are offered.
 */
#ifndef HEADER_ADDR_H
#define HEADER_ADDR_H

#include "sys_defs.h"
#include "vstring.h"

typedef int (*HEADER_ADDR_FN) (const char *addr, VSTRING *result, void *ctx);

int	header_addr_rewrite(const char *value, size_t len, VSTRING *out,
			            HEADER_ADDR_FN fn, void *ctx);

#endif
