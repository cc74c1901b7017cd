/*
 * dns_peer.h - the name of a client address, confirmed forward, as
 * Postfix's smtpd finds it (smtpd_peer.c).
 *
 *   DNS_PEER peer;
 *   dns_peer_lookup("192.0.2.1", &peer);
 *   peer.reverse_name    the PTR name, or "unknown"
 *   peer.reverse_status  DNS_PEER_OK, _TEMP (lookup failed for now) or
 *                        _PERM (no PTR record, or a malformed name)
 *   peer.name            the PTR name if one of its A/AAAA records is the
 *                        address itself, else "unknown"
 *   peer.status          DNS_PEER_OK, _TEMP, _PERM, or _FORGED (the name
 *                        exists but does not resolve to the address)
 *   peer.warning         "" or Postfix's warning text for the log
 *                        ("hostname x.example does not resolve to address
 *                        192.0.2.1")
 *
 * With POSTHORN_DNS_FILE set, PTR and A/AAAA records come from that file
 * (see dns.h), so tests never touch the network.  Otherwise the system's
 * resolver is asked through getnameinfo()/getaddrinfo(), which also
 * reads /etc/hosts (127.0.0.1 is "localhost"), as Postfix does.
 *
 * dns_peer_lookup() blocks: servers call it off their event loop
 * (dns_async.h).  It never calls msg_fatal().
 */
#ifndef DNS_PEER_H
#define DNS_PEER_H

#include "sys_defs.h"
#include "vstring.h"

#define DNS_PEER_OK	2
#define DNS_PEER_TEMP	4
#define DNS_PEER_PERM	5
#define DNS_PEER_FORGED	6

#define DNS_PEER_NAME_SIZE	256

typedef struct DNS_PEER {
    char    name[DNS_PEER_NAME_SIZE];
    char    reverse_name[DNS_PEER_NAME_SIZE];
    int     status;
    int     reverse_status;
    char    warning[2 * DNS_PEER_NAME_SIZE + 100];
} DNS_PEER;

void	dns_peer_lookup(const char *addr, DNS_PEER *peer);

/* dns_peer_valid_name - a host name that may stand for a client (not numeric) */
int	dns_peer_valid_name(const char *name);

/*
 * dns_reverse_query - "4.3.2.1.SUFFIX" for 1.2.3.4, or the nibbles of an
 * IPv6 address then SUFFIX; -1 if ADDR is not an address.  SUFFIX is a
 * DNS blocklist domain, or NULL for the PTR name (in-addr.arpa or
 * ip6.arpa, by the address family).
 */
int	dns_reverse_query(const char *addr, const char *suffix, VSTRING *query);

#endif
