/*
 * addr_list.h - splitting address lists into addresses.
 *
 * Two syntaxes share one growable ADDR_LIST:
 *
 * addr_parse_list() reads an RFC 5322 header address list (To:, Cc:,
 * Bcc: as sendmail -t needs them): display names, (comments), "quoted
 * strings", groups "name: a, b;", <angle addresses> with an optional
 * source route.  Display names and comments are dropped; an address is
 * kept in external form (quoted local parts stay quoted).  Control
 * characters outside quotes are white space; an address with a control
 * character inside quotes is dropped with a warning.
 *
 * addr_parse_alias() reads the right-hand side of an aliases(5) entry, a
 * line of a .forward file or of an :include: file, as local(8) does:
 * elements are separated by commas outside "quotes", <angle brackets>
 * and (comments); white space inside an element is kept (collapsed to one
 * space) so that "|command arg" survives; an element that is one quoted
 * string as a whole is unquoted ("|cmd, arg" -> |cmd, arg); a leading
 * backslash is kept ("\user" means: this user's mailbox, no expansion);
 * <addr> stands for the element.  Empty elements are skipped.
 *
 * Usage: ADDR_LIST list = {0}; addr_parse_alias(text, &list); use
 * list.addrs[0..list.count-1]; addr_list_free(&list).
 */
#ifndef ADDR_LIST_H
#define ADDR_LIST_H

#include "sys_defs.h"

/* A growable list of addresses */
typedef struct ADDR_LIST {
    char  **addrs;
    int     count;
    int     size;
} ADDR_LIST;

/* addr_list_add - append a copy of ADDR */
void	addr_list_add(ADDR_LIST *list, const char *addr);
/* addr_list_free - release the addresses (the ADDR_LIST itself is the caller's) */
void	addr_list_free(ADDR_LIST *list);

/* addr_parse_list - append the addresses of an RFC 5322 list TEXT to OUT */
void	addr_parse_list(const char *text, ADDR_LIST *out);

/* addr_parse_alias - append the elements of an aliases(5) value TEXT to OUT */
void	addr_parse_alias(const char *text, ADDR_LIST *out);

#endif
