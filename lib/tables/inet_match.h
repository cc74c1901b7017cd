/*
 * inet_match.h - client address lists: mynetworks and its relatives.
 *
 * A list is Postfix's "network/mask" syntax, entries separated by commas
 * or white space:
 *   1.2.3.4            one IPv4 host
 *   10.0.0.0/8         an IPv4 network (CIDR)
 *   [::1]/128, ::1     an IPv6 host or network, with or without brackets
 *   [2001:db8::]/32
 *   type:table         the client address is looked up in a table
 *                      (lib/tables/dict.h); any answer is a match
 *   !entry             a match on ENTRY ends the search with "no match"
 * The first entry that matches decides.  IPv4 entries also match the
 * IPv4-mapped form ::ffff:a.b.c.d of a client address.  Host names are
 * skipped (Posthorn does not look up client names).
 *
 *   INET_LIST *l = inet_list_create("mynetworks", conf_str("mynetworks"));
 *   if (inet_list_match(l, "192.0.2.7") > 0) ...
 *
 * inet_mynetworks() computes what mynetworks means when it is not set, from
 * mynetworks_style: "host" (loopback networks and this host's own
 * addresses), "subnet" (the subnets of this host's interfaces), "class"
 * (their IPv4 class A/B/C networks; IPv6 as subnet).
 */
#ifndef INET_MATCH_H
#define INET_MATCH_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct INET_LIST INET_LIST;

/* inet_list_create - parse LIST; bad entries are warned about (TITLE) and skipped */
INET_LIST *inet_list_create(const char *title, const char *list);
/* inet_list_match - 1: ADDR matches, 0: no match, -1: a table could not answer */
int	inet_list_match(INET_LIST *list, const char *addr);
void	inet_list_free(INET_LIST *list);

/* inet_match - one-shot: 1 when ADDR matches LIST (a table failure is no match) */
int	inet_match(const char *list, const char *addr);

/*
 * inet_parse_net - "a.b.c.d[/n]", "[v6][/n]" or "v6[/n]" into 16 bytes
 * (IPv4 as ::ffff:a.b.c.d) and a prefix length 0..128.  0 or -1.
 */
int	inet_parse_net(const char *text, unsigned char addr[16], int *bits);

/* inet_prefix_equal - do A and B agree in their first BITS bits? */
int	inet_prefix_equal(const unsigned char *a, const unsigned char *b, int bits);

/* inet_mynetworks - the default mynetworks for STYLE into OUT; 0, or -1 bad style */
int	inet_mynetworks(const char *style, VSTRING *out);

#endif
