/*
 * dns.c - A/AAAA/MX/PTR/TXT lookups through res_query, or through the file
 * named by POSTHORN_DNS_FILE for tests.  See dns.h.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <resolv.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dns.h"

#define DNS_PACKET_SIZE	65536

static const struct {
    const char *name;
    int     code;
} dns_types[] = {
    {"A", DNS_TYPE_A},
    {"MX", DNS_TYPE_MX},
    {"PTR", DNS_TYPE_PTR},
    {"TXT", DNS_TYPE_TXT},
    {"AAAA", DNS_TYPE_AAAA},
    {0, 0},
};

int	dns_type_code(const char *name)
{
    for (int i = 0; dns_types[i].name; i++)
	if (strcasecmp(name, dns_types[i].name) == 0)
	    return (dns_types[i].code);
    return (0);
}

const char *dns_type_name(int type)
{
    for (int i = 0; dns_types[i].name; i++)
	if (dns_types[i].code == type)
	    return (dns_types[i].name);
    return ("unknown");
}

void	dns_answer_init(DNS_ANSWER *answer)
{
    answer->rr = 0;
    answer->count = answer->size = 0;
}

void	dns_answer_free(DNS_ANSWER *answer)
{
    for (int i = 0; i < answer->count; i++)
	myfree(answer->rr[i].value);
    if (answer->rr)
	myfree(answer->rr);
    dns_answer_init(answer);
}

/* dns_answer_add - append one record (VALUE is copied) */
static void dns_answer_add(DNS_ANSWER *answer, int type, int pref, const char *value)
{
    if (answer->count == answer->size) {
	answer->size = answer->size ? 2 * answer->size : 4;
	answer->rr = myrealloc(answer->rr, answer->size * sizeof(DNS_RR));
    }
    answer->rr[answer->count].type = type;
    answer->rr[answer->count].pref = pref;
    answer->rr[answer->count].value = mystrdup(value);
    answer->count++;
}

void	dns_answer_copy(DNS_ANSWER *to, const DNS_ANSWER *from)
{
    for (int i = 0; i < from->count; i++)
	dns_answer_add(to, from->rr[i].type, from->rr[i].pref, from->rr[i].value);
}

/* same_name - compare without case and without a trailing dot */
static int same_name(const char *a, const char *b)
{
    size_t  la = strlen(a);
    size_t  lb = strlen(b);

    if (la > 0 && a[la - 1] == '.')
	la--;
    if (lb > 0 && b[lb - 1] == '.')
	lb--;
    return (la == lb && strncasecmp(a, b, la) == 0);
}

/* parse_rdata - one record's data as text; 0, or -1 when malformed */
static int parse_rdata(const unsigned char *msg, int len, ns_rr *rr,
		               int *pref, VSTRING *value)
{
    const unsigned char *rdata = ns_rr_rdata(*rr);
    int     rdlen = ns_rr_rdlen(*rr);
    char    buf[NS_MAXDNAME];

    *pref = 0;
    vstring_reset(value);
    switch (ns_rr_type(*rr)) {
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
	if (rdlen != (ns_rr_type(*rr) == DNS_TYPE_A ? 4 : 16)
	    || inet_ntop(rdlen == 4 ? AF_INET : AF_INET6, rdata, buf, sizeof(buf)) == 0)
	    return (-1);
	vstring_strcpy(value, buf);
	return (0);
    case DNS_TYPE_MX:
	if (rdlen < 3 || dn_expand(msg, msg + len, rdata + 2, buf, sizeof(buf)) < 0)
	    return (-1);
	*pref = (rdata[0] << 8) | rdata[1];
	vstring_strcpy(value, strcmp(buf, ".") == 0 ? "" : buf);
	return (0);
    case DNS_TYPE_PTR:
	if (dn_expand(msg, msg + len, rdata, buf, sizeof(buf)) < 0)
	    return (-1);
	vstring_strcpy(value, buf);
	return (0);
    case DNS_TYPE_TXT:
	for (int pos = 0; pos < rdlen; pos += 1 + rdata[pos]) {
	    if (pos + 1 + rdata[pos] > rdlen)
		return (-1);
	    vstring_memcat(value, rdata + pos + 1, rdata[pos]);
	}
	return (0);
    default:
	return (-1);
    }
}

int	dns_parse_answer(const unsigned char *msg, int len, int type, DNS_ANSWER *answer)
{
    ns_msg  handle;
    ns_rr   rr;
    VSTRING *value;
    int     pref;
    int     found = 0;

    if (ns_initparse(msg, len, &handle) < 0)
	return (DNS_RETRY);
    switch (ns_msg_getflag(handle, ns_f_rcode)) {
    case ns_r_noerror:
	break;
    case ns_r_nxdomain:
	return (DNS_NOTFOUND);
    default:
	return (DNS_RETRY);
    }
    value = vstring_alloc(100);
    for (int i = 0; i < ns_msg_count(handle, ns_s_an); i++) {
	if (ns_parserr(&handle, ns_s_an, i, &rr) < 0)
	    break;
	if ((int) ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
	    continue;				/* CNAME and friends */
	if (parse_rdata(msg, len, &rr, &pref, value) < 0) {
	    msg_warn("malformed %s record for %s", dns_type_name(type), ns_rr_name(rr));
	    continue;
	}
	dns_answer_add(answer, type, pref, STR(value));
	found++;
    }
    vstring_free(value);
    return (found ? DNS_OK : DNS_NOTFOUND);
}

/* dns_lookup_res - the real resolver */
static int dns_lookup_res(const char *name, int type, DNS_ANSWER *answer)
{
    unsigned char *msg = mymalloc(DNS_PACKET_SIZE);
    int     len;
    int     status;

    len = res_query(name, ns_c_in, type, msg, DNS_PACKET_SIZE);
    if (len < 0) {
	status = (h_errno == HOST_NOT_FOUND || h_errno == NO_DATA) ?
	    DNS_NOTFOUND : DNS_RETRY;
    } else {
	status = dns_parse_answer(msg, len > DNS_PACKET_SIZE ? DNS_PACKET_SIZE : len,
				  type, answer);
    }
    myfree(msg);
    return (status);
}

/* file_line - one line of the DNS file; DNS_OK added, DNS_RETRY, or DNS_NOTFOUND */
static int file_line(char *line, const char *name, int type, DNS_ANSWER *answer,
		             const char *path, int lineno, int *delay)
{
    char   *cp = line;
    char   *rname = strsep(&cp, " \t");
    char   *rtype;
    char   *end;
    long    pref = 0;
    unsigned char bin[16];

    while (cp && (*cp == ' ' || *cp == '\t'))
	cp++;
    if (*rname == 0 || *rname == '#' || !same_name(rname, name))
	return (DNS_NOTFOUND);
    rtype = cp ? strsep(&cp, " \t") : "";
    if (strcasecmp(rtype, "SERVFAIL") == 0)
	return (DNS_RETRY);
    if (strcasecmp(rtype, "DELAY") == 0) {
	*delay = cp ? atoi(cp) : 0;
	return (DNS_NOTFOUND);
    }
    if (dns_type_code(rtype) != type)
	return (DNS_NOTFOUND);
    while (cp && (*cp == ' ' || *cp == '\t'))
	cp++;
    if (cp == 0 || *cp == 0) {
	msg_warn("%s, line %d: missing value", path, lineno);
	return (DNS_NOTFOUND);
    }
    if (type == DNS_TYPE_MX) {
	pref = strtol(cp, &end, 10);
	if (end == cp || pref < 0 || pref > 65535) {
	    msg_warn("%s, line %d: bad MX preference", path, lineno);
	    return (DNS_NOTFOUND);
	}
	cp = end + strspn(end, " \t");
	if (strcmp(cp, ".") == 0)
	    cp = "";
    } else if ((type == DNS_TYPE_A || type == DNS_TYPE_AAAA)
	       && inet_pton(type == DNS_TYPE_A ? AF_INET : AF_INET6, cp, bin) != 1) {
	msg_warn("%s, line %d: bad address \"%s\"", path, lineno, cp);
	return (DNS_NOTFOUND);
    }
    dns_answer_add(answer, type, (int) pref, cp);
    return (DNS_OK);
}

/* dns_lookup_file - the test DNS in PATH */
static int dns_lookup_file(const char *path, const char *name, int type,
			           DNS_ANSWER *answer)
{
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(200);
    int     lineno = 0;
    int     found = 0;
    int     delay = 0;
    int     status;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	msg_warn("open %s (%s): %m", path, DNS_FILE_ENV);
	vstring_free(line);
	return (DNS_RETRY);
    }
    while (vstream_get_line(fp, line, 4096) != VSTREAM_EOF) {
	lineno++;
	while (LEN(line) > 0 && isspace((unsigned char) STR(line)[LEN(line) - 1]))
	    vstring_truncate(line, LEN(line) - 1);
	status = file_line(STR(line), name, type, answer, path, lineno, &delay);
	if (status == DNS_RETRY) {
	    found = -1;
	    break;
	}
	if (status == DNS_OK)
	    found++;
    }
    (void) vstream_close(fp);
    vstring_free(line);
    if (delay > 0)
	sleep(delay > 30 ? 30 : delay);		/* a slow server, for tests */
    return (found < 0 ? DNS_RETRY : found ? DNS_OK : DNS_NOTFOUND);
}

int	dns_lookup(const char *name, int type, DNS_ANSWER *answer)
{
    const char *path = getenv(DNS_FILE_ENV);
    int     status;

    if (*name == 0 || strlen(name) >= NS_MAXDNAME)
	return (DNS_NOTFOUND);
    if (path && *path)
	status = dns_lookup_file(path, name, type, answer);
    else
	status = dns_lookup_res(name, type, answer);
    if (msg_verbose)
	msg_info("dns_lookup %s %s: %s", name, dns_type_name(type),
		 status == DNS_OK ? "found" : status == DNS_RETRY ? "retry" : "not found");
    return (status);
}
