/*
 * resolve.h - where an address goes: its class, its virtual aliases, and
 * its transport:nexthop.  Used by smtpd (at RCPT time) and qmgr (at
 * delivery time), so both see the same routing.
 *
 * resolve_class() puts a domain into Postfix's address classes:
 * mydestination (local), virtual_alias_domains, virtual_mailbox_domains,
 * relay_domains, or none of them (default).
 *
 * resolve_virtual_alias() expands an address through virtual_alias_maps
 * as Postfix's cleanup does (virtual(5)): keys user+ext@domain,
 * user@domain, user (local domains only), @domain; results are address
 * lists, expanded again up to virtual_alias_recursion_limit levels and
 * virtual_alias_expansion_limit addresses; an address that expands to
 * itself is kept; duplicates are removed.
 *
 * resolve_transport() picks the delivery transport as Postfix's
 * trivial-rewrite does: the class default (local_transport,
 * virtual_transport, relay_transport, default_transport), overridden by
 * transport_maps (transport(5): full address, address without extension,
 * domain, parent domains, "*").
 *
 * Parameters are read on first use; resolve_init() rereads them.
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include "sys_defs.h"
#include "vstring.h"
#include "dict.h"

/* Address classes */
#define RESOLVE_CLASS_ERROR	(-1)	/* a table could not answer: defer */
#define RESOLVE_CLASS_LOCAL	1	/* mydestination, or no domain */
#define RESOLVE_CLASS_ALIAS	2	/* virtual_alias_domains */
#define RESOLVE_CLASS_VIRTUAL	3	/* virtual_mailbox_domains */
#define RESOLVE_CLASS_RELAY	4	/* relay_domains */
#define RESOLVE_CLASS_DEFAULT	5	/* anything else */

/* resolve_init - (re)read every parameter and (re)open every table */
void	resolve_init(void);

/* resolve_class - the class of DOMAIN ("" = no domain; case ignored) */
int	resolve_class(const char *domain);

/* A list of addresses (external form) */
typedef struct RESOLVE_ADDRS {
    char  **addrs;
    int     count;
    int     size;
} RESOLVE_ADDRS;

void	resolve_addrs_init(RESOLVE_ADDRS *list);
/* resolve_addrs_add - append a copy of ADDR */
void	resolve_addrs_add(RESOLVE_ADDRS *list, const char *addr);
/* resolve_addrs_find - index of ADDR (case ignored), or -1 */
int	resolve_addrs_find(const RESOLVE_ADDRS *list, const char *addr);
void	resolve_addrs_free(RESOLVE_ADDRS *list);

/* resolve_virtual_alias results */
#define RESOLVE_ALIAS_NONE	0	/* no alias: OUT holds ADDR itself */
#define RESOLVE_ALIAS_FOUND	1	/* OUT holds the expansion */
#define RESOLVE_ALIAS_TEMP	(-1)	/* table error: try again later */
#define RESOLVE_ALIAS_LIMIT	(-2)	/* nesting or size limit exceeded */

/*
 * resolve_virtual_alias - expand ADDR (qualified, external form) into
 * OUT (initialized by the caller; addresses are appended).  On an error
 * OUT is left as it was and a warning is logged.
 */
int	resolve_virtual_alias(const char *addr, RESOLVE_ADDRS *out);

/* Routing */
typedef struct RESOLVE_REPLY {
    VSTRING *transport;			/* "local", "smtp", "error", ... */
    VSTRING *nexthop;			/* host, domain, or error text */
    int     class;			/* RESOLVE_CLASS_* */
} RESOLVE_REPLY;

void	resolve_reply_init(RESOLVE_REPLY *reply);
void	resolve_reply_free(RESOLVE_REPLY *reply);

/*
 * resolve_transport - where ADDR goes.  Returns 0 with REPLY filled in,
 * or -1 with the reason in WHY (a table could not answer, or a table
 * gave a bad transport name): the recipient must be deferred.
 */
int	resolve_transport(const char *addr, RESOLVE_REPLY *reply, VSTRING *why);

/*
 * resolve_addr_find - ADDR (qualified, external form) in MAPS, in the order
 * virtual(5), canonical(5) and relocated(5) share: user+ext@domain,
 * user@domain; user+ext and user when the domain is $myorigin or in
 * $mydestination; @domain.  The value, or NULL (MAPS->error when a table
 * could not answer).  EXT gets the extension a match without it left
 * over, when PROPAGATE ("" otherwise).
 */
const char *resolve_addr_find(MAPS *maps, const char *addr, VSTRING *ext,
			              int propagate);

/* resolve_list_has - the comma/space list in parameter PARAM has WORD */
int	resolve_list_has(const char *param, const char *word);

/* resolve_strip_extension - cut LOCAL at its recipient_delimiter extension */
void	resolve_strip_extension(VSTRING *local);

/* resolve_transport_name_ok - a transport name usable as private/NAME */
int	resolve_transport_name_ok(const char *name);

/* The delivery agents' domain classes */
#define DELIVER_CLASS_ERROR	(-1)	/* a table could not answer: defer */
#define DELIVER_CLASS_LOCAL	1	/* mydestination, or no domain */
#define DELIVER_CLASS_VIRTUAL	2	/* virtual_mailbox_domains */
#define DELIVER_CLASS_RELAY	3	/* everything else */

/*
 * deliver_domain_class - classify DOMAIN ("" = no domain) with
 * resolve_class(): the lists are read from the configuration on first
 * use and may hold names, ".parent.domain" patterns (subdomains) and
 * type:table entries (the domain is looked up as key).  Matching ignores
 * case.  virtual_alias_domains and relay_domains count as
 * DELIVER_CLASS_RELAY here.
 */
int	deliver_domain_class(const char *domain);

#endif
