/*
 * dns_peer.c - a client address to its forward-confirmed host name.
 * See dns_peer.h.
 */
#include "sys_defs.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dns.h"
#include "dns_peer.h"

#define UNKNOWN	"unknown"

int	dns_reverse_query(const char *addr, const char *suffix, VSTRING *query)
{
    unsigned char bin[16];

    vstring_reset(query);
    if (inet_pton(AF_INET, addr, bin) == 1) {
	vstring_sprintf(query, "%d.%d.%d.%d.%s", bin[3], bin[2], bin[1], bin[0],
			suffix ? suffix : "in-addr.arpa");
	return (0);
    }
    if (inet_pton(AF_INET6, addr, bin) == 1) {
	for (int i = 15; i >= 0; i--)
	    vstring_sprintf_append(query, "%x.%x.", bin[i] & 0xf, bin[i] >> 4);
	vstring_strcat(query, suffix ? suffix : "ip6.arpa");
	return (0);
    }
    return (-1);
}

int	dns_peer_valid_name(const char *name)
{
    size_t  label = 0;
    size_t  len = strlen(name);
    int     alpha = 0;

    if (len == 0 || len > 255)
	return (0);
    for (const char *cp = name; *cp; cp++) {
	if (*cp == '.') {
	    if (label == 0 || cp[-1] == '-')
		return (0);
	    label = 0;
	    continue;
	}
	if (!isalnum((unsigned char) *cp) && *cp != '-' && *cp != '_')
	    return (0);
	if ((*cp == '-' && label == 0) || ++label > 63)
	    return (0);
	if (!isdigit((unsigned char) *cp))
	    alpha = 1;
    }
    return (alpha);				/* "1.2.3.4" is no host name */
}

/* same_addr - do two address texts name the same address? */
static int same_addr(const char *a, const char *b)
{
    unsigned char ba[16];
    unsigned char bb[16];
    int     fa = strchr(a, ':') ? AF_INET6 : AF_INET;
    int     fb = strchr(b, ':') ? AF_INET6 : AF_INET;

    if (fa != fb || inet_pton(fa, a, ba) != 1 || inet_pton(fb, b, bb) != 1)
	return (0);
    return (memcmp(ba, bb, fa == AF_INET ? 4 : 16) == 0);
}

/* peer_unknown - no name: both statuses STATUS */
static void peer_unknown(DNS_PEER *peer, int status)
{
    snprintf(peer->name, sizeof(peer->name), UNKNOWN);
    snprintf(peer->reverse_name, sizeof(peer->reverse_name), UNKNOWN);
    peer->status = peer->reverse_status = status;
}

/* reverse_file - the PTR name from the test DNS file; DNS_PEER_* */
static int reverse_file(const char *addr, char *name, size_t size)
{
    VSTRING *query = vstring_alloc(100);
    DNS_ANSWER answer;
    int     status;

    dns_answer_init(&answer);
    if (dns_reverse_query(addr, (char *) 0, query) < 0)
	status = DNS_NOTFOUND;
    else
	status = dns_lookup(STR(query), DNS_TYPE_PTR, &answer);
    if (status == DNS_OK)
	snprintf(name, size, "%s", answer.rr[0].value);
    dns_answer_free(&answer);
    vstring_free(query);
    return (status == DNS_OK ? DNS_PEER_OK :
	    status == DNS_RETRY ? DNS_PEER_TEMP : DNS_PEER_PERM);
}

/* reverse_system - the PTR name through getnameinfo(); DNS_PEER_* */
static int reverse_system(const char *addr, char *name, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int     err;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
	ss.ss_family = AF_INET;
	len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
	ss.ss_family = AF_INET6;
	len = sizeof(struct sockaddr_in6);
    } else {
	return (DNS_PEER_PERM);
    }
    err = getnameinfo((struct sockaddr *) &ss, len, name, size, (char *) 0, 0,
		      NI_NAMEREQD);
    if (err == 0)
	return (DNS_PEER_OK);
    return (err == EAI_AGAIN || err == EAI_MEMORY || err == EAI_SYSTEM ?
	    DNS_PEER_TEMP : DNS_PEER_PERM);
}

/* forward_file - does NAME have ADDR among its file records? DNS_PEER_* */
static int forward_file(const char *name, const char *addr, DNS_PEER *peer)
{
    DNS_ANSWER answer;
    int     status;
    int     found = 0;

    dns_answer_init(&answer);
    status = dns_lookup(name, strchr(addr, ':') ? DNS_TYPE_AAAA : DNS_TYPE_A, &answer);
    for (int i = 0; status == DNS_OK && i < answer.count; i++)
	if (same_addr(answer.rr[i].value, addr))
	    found = 1;
    dns_answer_free(&answer);
    if (status != DNS_OK) {
	snprintf(peer->warning, sizeof(peer->warning),
		 "hostname %s does not resolve to address %s: %s", name, addr,
		 status == DNS_RETRY ? "Temporary failure in name resolution" :
		 "Name or service not known");
	return (status == DNS_RETRY ? DNS_PEER_TEMP : DNS_PEER_PERM);
    }
    return (found ? DNS_PEER_OK : DNS_PEER_FORGED);
}

/* forward_system - the same through getaddrinfo(); DNS_PEER_* */
static int forward_system(const char *name, const char *addr, DNS_PEER *peer)
{
    struct addrinfo hints;
    struct addrinfo *res;
    char    text[INET6_ADDRSTRLEN];
    int     found = 0;
    int     err;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((err = getaddrinfo(name, (char *) 0, &hints, &res)) != 0) {
	snprintf(peer->warning, sizeof(peer->warning),
		 "hostname %s does not resolve to address %s: %s", name, addr,
		 gai_strerror(err));
	return (err == EAI_AGAIN || err == EAI_MEMORY || err == EAI_SYSTEM ?
		DNS_PEER_TEMP : DNS_PEER_PERM);
    }
    for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next)
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof(text),
			(char *) 0, 0, NI_NUMERICHOST) == 0
	    && same_addr(text, addr))
	    found = 1;
    freeaddrinfo(res);
    return (found ? DNS_PEER_OK : DNS_PEER_FORGED);
}

void	dns_peer_lookup(const char *addr, DNS_PEER *peer)
{
    const char *path = getenv(DNS_FILE_ENV);
    int     use_file = (path && *path);
    char    name[DNS_PEER_NAME_SIZE];
    size_t  len;

    peer->warning[0] = 0;
    peer_unknown(peer, DNS_PEER_PERM);
    peer->reverse_status = use_file ? reverse_file(addr, name, sizeof(name)) :
	reverse_system(addr, name, sizeof(name));
    if (peer->reverse_status != DNS_PEER_OK) {
	peer->status = peer->reverse_status;
	return;
    }
    if ((len = strlen(name)) > 1 && name[len - 1] == '.')
	name[len - 1] = 0;
    if (!dns_peer_valid_name(name)) {
	/* Printable before it reaches a log line */
	for (char *cp = name; *cp; cp++)
	    if (!isprint((unsigned char) *cp))
		*cp = '?';
	snprintf(peer->warning, sizeof(peer->warning), "%s hostname: %.*s",
		 strspn(name, "0123456789.") == strlen(name) ? "numeric" : "malformed",
		 DNS_PEER_NAME_SIZE, name);
	peer->reverse_status = peer->status = DNS_PEER_PERM;
	return;
    }
    snprintf(peer->reverse_name, sizeof(peer->reverse_name), "%s", name);
    peer->status = use_file ? forward_file(name, addr, peer) :
	forward_system(name, addr, peer);
    if (peer->status == DNS_PEER_FORGED)
	snprintf(peer->warning, sizeof(peer->warning),
		 "hostname %s does not resolve to address %s", name, addr);
    if (peer->status == DNS_PEER_OK)
	snprintf(peer->name, sizeof(peer->name), "%s", name);
}
