/*
 * inet_match.c - client address lists (mynetworks) and the mynetworks
 * default from mynetworks_style.  See inet_match.h.
 *
 * A list is parsed once into entries: networks are kept as 16-byte
 * addresses (IPv4 mapped into ::ffff:0:0/96) with a prefix length, tables
 * are opened at creation (so before a daemon drops privileges).
 */
#include "sys_defs.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict.h"
#include "dict_private.h"
#include "inet_match.h"

#define LIST_SEP	", \t\r\n"

typedef struct INET_ENTRY {
    int     negate;			/* "!entry" */
    unsigned char net[16];
    int     bits;
    DICT   *dict;			/* type:table entry, else NULL */
} INET_ENTRY;

struct INET_LIST {
    INET_ENTRY *entries;
    int     count;
    int     size;
};

/* inet_parse_net - see inet_match.h */
int	inet_parse_net(const char *text, unsigned char addr[16], int *bits)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    char   *slash;
    char   *end = 0;
    size_t  n = 0;
    int     v4;

    for (const char *cp = text; *cp; cp++) {
	if (*cp == '[' || *cp == ']')
	    continue;
	if (n >= sizeof(buf) - 1)
	    return (-1);
	buf[n++] = *cp;
    }
    buf[n] = 0;
    if ((slash = strchr(buf, '/')) != 0)
	*slash++ = 0;
    if ((v4 = (inet_pton(AF_INET, buf, addr + 12) == 1)) != 0) {
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
    } else if (inet_pton(AF_INET6, buf, addr) != 1) {
	return (-1);
    }
    *bits = 128;
    if (slash) {
	if (!isdigit((unsigned char) *slash))
	    return (-1);
	errno = 0;
	long    len = strtol(slash, &end, 10);

	if (*end != 0 || errno != 0 || len < 0 || len > (v4 ? 32 : 128))
	    return (-1);
	*bits = (int) len + (v4 ? 96 : 0);
    }
    return (0);
}

/* inet_prefix_equal - see inet_match.h */
int	inet_prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int     bytes = bits / 8;
    int     rest = bits % 8;

    if (memcmp(a, b, bytes) != 0)
	return (0);
    if (rest == 0)
	return (1);
    return (((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)) & 0xff) == 0);
}

/* is_table - "type:name" with a type made of letters (not an IPv6 address) */
static int is_table(const char *entry)
{
    const char *cp = entry;

    if (!isalpha((unsigned char) *cp))
	return (0);
    while (isalnum((unsigned char) *cp) || *cp == '_')
	cp++;
    return (*cp == ':' && cp[1] != 0 && cp[1] != ':');
}

/* add_entry - parse one list entry; 0, or -1 (skipped) */
static int add_entry(INET_LIST *list, const char *title, const char *text)
{
    INET_ENTRY entry;

    memset(&entry, 0, sizeof(entry));
    while (*text == '!') {
	entry.negate = !entry.negate;
	text++;
    }
    if (inet_parse_net(text, entry.net, &entry.bits) == 0) {
	unsigned char masked[16];

	memcpy(masked, entry.net, 16);
	for (int i = entry.bits; i < 128; i++)
	    masked[i / 8] &= ~(0x80 >> (i % 8));
	if (memcmp(masked, entry.net, 16) != 0) {
	    msg_warn("%s: non-null host address bits in \"%s\"", title, text);
	    memcpy(entry.net, masked, 16);
	}
    } else if (is_table(text)) {
	entry.dict = dict_open(text, 0);
    } else {
	if (msg_verbose || strchr(text, '/') || strchr(text, ':'))
	    msg_warn("%s: skipping entry \"%s\": not an address, network or table",
		     title, text);
	return (-1);
    }
    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 8;
	list->entries = myrealloc(list->entries, list->size * sizeof(INET_ENTRY));
    }
    list->entries[list->count++] = entry;
    return (0);
}

INET_LIST *inet_list_create(const char *title, const char *text)
{
    INET_LIST *list = mycalloc(1, sizeof(*list));
    char   *saved = mystrdup(text);
    char   *cp = saved;
    char   *tok;

    while ((tok = dict_strtokq(&cp, LIST_SEP)) != 0)
	if (*tok)
	    (void) add_entry(list, title, tok);
    myfree(saved);
    return (list);
}

/* entry_match - 1 match, 0 not, -1 table failure */
static int entry_match(INET_ENTRY *entry, const unsigned char client[16],
		               const char *addr)
{
    if (entry->dict == 0)
	return (inet_prefix_equal(client, entry->net, entry->bits));
    if (dict_lookup(entry->dict, addr) != 0)
	return (1);
    if (entry->dict->error) {
	msg_warn("%s:%s lookup error for \"%s\"", entry->dict->type,
		 entry->dict->name, addr);
	return (-1);
    }
    return (0);
}

int	inet_list_match(INET_LIST *list, const char *addr)
{
    unsigned char client[16];
    int     bits;
    int     found;

    if (inet_parse_net(addr, client, &bits) < 0 || bits != 128)
	return (0);
    for (int i = 0; i < list->count; i++) {
	if ((found = entry_match(list->entries + i, client, addr)) < 0)
	    return (-1);
	if (found)
	    return (!list->entries[i].negate);
    }
    return (0);
}

void	inet_list_free(INET_LIST *list)
{
    for (int i = 0; i < list->count; i++)
	if (list->entries[i].dict)
	    dict_close(list->entries[i].dict);
    if (list->entries)
	myfree(list->entries);
    myfree(list);
}

int	inet_match(const char *text, const char *addr)
{
    INET_LIST *list = inet_list_create("address list", text);
    int     match = inet_list_match(list, addr) > 0;

    inet_list_free(list);
    return (match);
}

/* prefix_len - number of leading one bits in a netmask of LEN bytes */
static int prefix_len(const unsigned char *mask, int len)
{
    int     bits = 0;

    for (int i = 0; i < len * 8 && (mask[i / 8] & (0x80 >> (i % 8))); i++)
	bits++;
    return (bits);
}

/* class_len - the IPv4 class A/B/C prefix length of ADDR */
static int class_len(const unsigned char *addr)
{
    if (addr[0] < 128)
	return (8);
    if (addr[0] < 192)
	return (16);
    if (addr[0] < 224)
	return (24);
    return (32);
}

/* append_net - "a.b.c.d/n" or "[v6]/n" (host bits cleared), once */
static void append_net(VSTRING *out, int family, const unsigned char *addr,
		               int bits)
{
    unsigned char net[16];
    char    text[INET6_ADDRSTRLEN];
    char    entry[INET6_ADDRSTRLEN + 8];
    int     len = (family == AF_INET ? 4 : 16);
    char   *saved;
    char   *cp;
    char   *tok;

    memcpy(net, addr, len);
    for (int i = bits; i < len * 8; i++)
	net[i / 8] &= ~(0x80 >> (i % 8));
    if (inet_ntop(family, net, text, sizeof(text)) == 0)
	return;
    snprintf(entry, sizeof(entry), family == AF_INET ? "%s/%d" : "[%s]/%d",
	     text, bits);
    saved = cp = mystrdup(STR(out));
    while ((tok = strsep(&cp, " ")) != 0)
	if (strcmp(tok, entry) == 0)
	    break;
    myfree(saved);
    if (tok == 0)
	vstring_sprintf_append(out, "%s%s", LEN(out) ? " " : "", entry);
}

/* add_interface - one interface address in the given style */
static void add_interface(VSTRING *out, const char *style, struct ifaddrs *ifa)
{
    int     family = ifa->ifa_addr->sa_family;
    const unsigned char *addr;
    const unsigned char *mask;
    int     len = (family == AF_INET ? 4 : 16);
    int     bits;

    if (family == AF_INET) {
	addr = (const unsigned char *) &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
	mask = ifa->ifa_netmask ? (const unsigned char *)
	    &((struct sockaddr_in *) ifa->ifa_netmask)->sin_addr : 0;
    } else {
	addr = (const unsigned char *) &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
	mask = ifa->ifa_netmask ? (const unsigned char *)
	    &((struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr : 0;
    }
    if (strcasecmp(style, "host") == 0 || mask == 0)
	bits = len * 8;
    else if (strcasecmp(style, "class") == 0 && family == AF_INET)
	bits = class_len(addr);
    else
	bits = prefix_len(mask, len);
    append_net(out, family, addr, bits);
}

int	inet_mynetworks(const char *style, VSTRING *out)
{
    struct ifaddrs *ifap;
    struct ifaddrs *ifa;
    int     host = (strcasecmp(style, "host") == 0);

    if (!host && strcasecmp(style, "subnet") != 0 && strcasecmp(style, "class") != 0)
	return (-1);
    vstring_strcpy(out, host ? "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128" : "");
    if (getifaddrs(&ifap) < 0) {
	msg_warn("getifaddrs: %m; mynetworks has loopback addresses only");
	if (!host)
	    vstring_strcpy(out, "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128");
	return (0);
    }
    for (ifa = ifap; ifa; ifa = ifa->ifa_next) {
	if (ifa->ifa_addr == 0 || (ifa->ifa_flags & IFF_UP) == 0
	    || (ifa->ifa_addr->sa_family != AF_INET
		&& ifa->ifa_addr->sa_family != AF_INET6))
	    continue;
	if (host && (ifa->ifa_flags & IFF_LOOPBACK))
	    continue;				/* already covered */
	add_interface(out, style, ifa);
    }
    freeifaddrs(ifap);
    return (0);
}
