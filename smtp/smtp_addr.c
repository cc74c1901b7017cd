/*
 * smtp_addr.c - a next-hop destination as an ordered list of addresses.
 *
 * "[host]:port" and "[host]" skip the MX lookup; "host:port", "host" and
 * "domain" look up MX records (lib/dns/dns.h) and fall back to the name's own
 * A/AAAA records when there are none, as Postfix's smtp(8) does.  MX
 * hosts are sorted by preference, equal preferences shuffled.  A null MX
 * (RFC 7505) bounces with 5.1.10; a name that does not exist bounces with
 * 5.4.4; a temporary DNS failure defers.  Literal IP addresses are used
 * as they are.  Without POSTHORN_DNS_FILE, a host name that DNS does not
 * know is also tried through getaddrinfo (/etc/hosts, e.g. "localhost").
 *
 * In LMTP mode (smtp_conf.lmtp), as Postfix's lmtp(8): "unix:PATH" is a
 * UNIX-domain socket (a relative PATH is below the queue directory, where
 * the daemon runs), host "myhostname[PATH]" in logs, port 0; "inet:" is
 * dropped; host names are never MX-looked-up; the default port is
 * smtp_conf.tcp_port (lmtp_tcp_port, 24).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dns.h"
#include "mail_conf.h"
#include "smtp.h"

#define SMTP_DEFAULT_PORT	25

static void smtp_addr_add(SMTP_ADDR_LIST *list, const char *host,
			          const char *addr, int port, int pref)
{
    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 8;
	list->addrs = myrealloc(list->addrs, list->size * sizeof(*list->addrs));
    }
    list->addrs[list->count].host = mystrdup(host);
    list->addrs[list->count].addr = mystrdup(addr);
    list->addrs[list->count].port = port;
    list->addrs[list->count].pref = pref;
    list->count++;
}

void	smtp_addr_list_free(SMTP_ADDR_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
	myfree(list->addrs[i].host);
	myfree(list->addrs[i].addr);
    }
    if (list->addrs)
	myfree(list->addrs);
    memset(list, 0, sizeof(*list));
}

static int smtp_addr_cmp(const void *a, const void *b)
{
    const SMTP_ADDR *x = a;
    const SMTP_ADDR *y = b;

    return (x->pref < y->pref ? -1 : x->pref > y->pref);
}

void	smtp_addr_sort(SMTP_ADDR *addrs, int count)
{
    qsort(addrs, (size_t) count, sizeof(*addrs), smtp_addr_cmp);
    /* Fisher-Yates within each run of equal preference */
    for (int start = 0; start < count;) {
	int     end = start;

	while (end < count && addrs[end].pref == addrs[start].pref)
	    end++;
	for (int i = end - 1; i > start; i--) {
	    int     j = start + (int) (random() % (i - start + 1));
	    SMTP_ADDR tmp = addrs[i];

	    addrs[i] = addrs[j];
	    addrs[j] = tmp;
	}
	start = end;
    }
}

/* smtp_is_literal - is NAME an IPv4 or IPv6 address? */
static int smtp_is_literal(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1);
}

/* smtp_addr_getaddrinfo - /etc/hosts and friends; DNS_OK or DNS_NOTFOUND */
static int smtp_addr_getaddrinfo(const char *host, int port, int pref,
				         SMTP_ADDR_LIST *list)
{
    struct addrinfo hints, *res, *ai;
    char    buf[INET6_ADDRSTRLEN];
    int     found = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, 0, &hints, &res) != 0)
	return (DNS_NOTFOUND);
    for (ai = res; ai; ai = ai->ai_next) {
	void   *sa = ai->ai_family == AF_INET ?
	    (void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr :
	    (void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr;

	if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
	    continue;
	if (inet_ntop(ai->ai_family, sa, buf, sizeof(buf)) == 0)
	    continue;
	smtp_addr_add(list, host, buf, port, pref);
	found = 1;
    }
    freeaddrinfo(res);
    return (found ? DNS_OK : DNS_NOTFOUND);
}

/*
 * smtp_addr_host - the addresses of HOST appended to LIST; DNS_OK,
 * DNS_NOTFOUND or DNS_RETRY.  WHY gets the name service error.
 */
static int smtp_addr_host(const char *host, int port, int pref,
			          SMTP_ADDR_LIST *list, VSTRING *why)
{
    static const int types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    int     result = DNS_NOTFOUND;

    if (smtp_is_literal(host)) {
	smtp_addr_add(list, host, host, port, pref);
	return (DNS_OK);
    }
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
	DNS_ANSWER answer;
	int     status;

	dns_answer_init(&answer);
	status = dns_lookup(host, types[t], &answer);
	for (int i = 0; status == DNS_OK && i < answer.count; i++)
	    smtp_addr_add(list, host, answer.rr[i].value, port, pref);
	dns_answer_free(&answer);
	if (status == DNS_OK)
	    result = DNS_OK;
	else if (status == DNS_RETRY && result != DNS_OK)
	    result = DNS_RETRY;
    }
    if (result == DNS_NOTFOUND && getenv(DNS_FILE_ENV) == 0)
	result = smtp_addr_getaddrinfo(host, port, pref, list);
    if (result == DNS_NOTFOUND)
	vstring_sprintf(why, "Host or domain name not found. Name service error"
			" for name=%s type=A: Host not found", host);
    else if (result == DNS_RETRY)
	vstring_sprintf(why, "Host or domain name not found. Name service error"
			" for name=%s type=A: Host not found, try again", host);
    return (result);
}

/* smtp_addr_mx - MX hosts of NAME and their addresses */
static int smtp_addr_mx(const char *name, int port, SMTP_ADDR_LIST *list,
			        char *dsn, size_t dsn_len, VSTRING *why)
{
    DNS_ANSWER answer;
    SMTP_ADDR_LIST hosts = {0, 0, 0};
    int     status, retry = 0;

    dns_answer_init(&answer);
    status = dns_lookup(name, DNS_TYPE_MX, &answer);
    if (status == DNS_RETRY) {
	dns_answer_free(&answer);
	snprintf(dsn, dsn_len, "4.4.3");
	vstring_sprintf(why, "Host or domain name not found. Name service error"
			" for name=%s type=MX: Host not found, try again", name);
	return (SMTP_ADDR_DEFER);
    }
    if (status == DNS_NOTFOUND) {
	dns_answer_free(&answer);
	status = smtp_addr_host(name, port, 0, list, why);
	snprintf(dsn, dsn_len, status == DNS_RETRY ? "4.4.3" : "5.4.4");
	return (status == DNS_OK ? SMTP_ADDR_OK :
		status == DNS_RETRY ? SMTP_ADDR_DEFER : SMTP_ADDR_BOUNCE);
    }
    for (int i = 0; i < answer.count; i++) {
	if (*answer.rr[i].value == 0 || strcmp(answer.rr[i].value, ".") == 0) {
	    dns_answer_free(&answer);
	    smtp_addr_list_free(&hosts);
	    snprintf(dsn, dsn_len, "5.1.10");
	    vstring_sprintf(why, "Domain %s does not accept mail (nullMX)", name);
	    return (SMTP_ADDR_BOUNCE);
	}
	smtp_addr_add(&hosts, answer.rr[i].value, "", port, answer.rr[i].pref);
    }
    dns_answer_free(&answer);
    smtp_addr_sort(hosts.addrs, hosts.count);
    for (int i = 0; i < hosts.count; i++)
	if (smtp_addr_host(hosts.addrs[i].host, port, hosts.addrs[i].pref,
			   list, why) == DNS_RETRY)
	    retry = 1;
    smtp_addr_list_free(&hosts);
    if (list->count > 0)
	return (SMTP_ADDR_OK);
    snprintf(dsn, dsn_len, retry ? "4.4.3" : "5.4.4");
    return (retry ? SMTP_ADDR_DEFER : SMTP_ADDR_BOUNCE);
}

/* smtp_addr_parse - split DEST into host, port and whether MX applies */
static int smtp_addr_parse(const char *dest, VSTRING *host, int *port, int *use_mx)
{
    const char *cp = dest;
    const char *colon;

    *port = smtp_conf.tcp_port > 0 ? smtp_conf.tcp_port : SMTP_DEFAULT_PORT;
    *use_mx = !smtp_conf.lmtp;
    if (*cp == '[') {
	const char *end = strchr(cp, ']');

	if (end == 0)
	    return (-1);
	vstring_strncpy(host, cp + 1, (size_t) (end - cp - 1));
	*use_mx = 0;
	cp = end + 1;
	if (*cp == 0)
	    return (LEN(host) ? 0 : -1);
	if (*cp != ':')
	    return (-1);
	colon = cp;
    } else if ((colon = strrchr(cp, ':')) != 0 && strchr(cp, ':') == colon) {
	vstring_strncpy(host, cp, (size_t) (colon - cp));
    } else {
	vstring_strcpy(host, cp);
	colon = 0;
    }
    if (colon) {
	char   *end;
	long    n = strtol(colon + 1, &end, 10);

	if (*end != 0 || n <= 0 || n > 65535) {
	    struct servent *se = getservbyname(colon + 1, "tcp");

	    if (se == 0)
		return (-1);
	    n = ntohs((unsigned short) se->s_port);
	}
	*port = (int) n;
    }
    return (LEN(host) ? 0 : -1);
}

/* smtp_addr_unix - an LMTP "unix:PATH" next hop */
static int smtp_addr_unix(const char *path, SMTP_ADDR_LIST *list, char *dsn,
			          size_t dsn_len, VSTRING *why)
{
    if (*path == 0) {
	snprintf(dsn, dsn_len, "4.3.5");
	vstring_strcpy(why, "bad next-hop destination \"unix:\"");
	return (SMTP_ADDR_DEFER);
    }
    smtp_addr_add(list, conf_str("myhostname"), path, 0, 0);
    return (SMTP_ADDR_OK);
}

int	smtp_addr_find(const char *dest, SMTP_ADDR_LIST *list, char *dsn,
		               size_t dsn_len, VSTRING *why)
{
    VSTRING *host;
    int     port, use_mx, status, ret;

    memset(list, 0, sizeof(*list));
    if (smtp_conf.lmtp && strncmp(dest, "unix:", 5) == 0)
	return (smtp_addr_unix(dest + 5, list, dsn, dsn_len, why));
    if (smtp_conf.lmtp && strncmp(dest, "inet:", 5) == 0)
	dest += 5;
    host = vstring_alloc(100);
    if (smtp_addr_parse(dest, host, &port, &use_mx) < 0) {
	snprintf(dsn, dsn_len, "4.3.5");
	vstring_sprintf(why, "bad next-hop destination \"%s\"", dest);
	ret = SMTP_ADDR_DEFER;
    } else if (use_mx && !smtp_is_literal(STR(host))) {
	ret = smtp_addr_mx(STR(host), port, list, dsn, dsn_len, why);
    } else {
	status = smtp_addr_host(STR(host), port, 0, list, why);
	snprintf(dsn, dsn_len, status == DNS_RETRY ? "4.4.3" : "5.4.4");
	ret = status == DNS_OK ? SMTP_ADDR_OK :
	    status == DNS_RETRY ? SMTP_ADDR_DEFER : SMTP_ADDR_BOUNCE;
    }
    vstring_free(host);
    return (ret);
}
