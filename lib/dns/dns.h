/*
 * dns.h - the DNS seam: A, AAAA, MX, PTR and TXT lookups.
 *
 *   DNS_ANSWER answer;
 *   dns_answer_init(&answer);
 *   switch (dns_lookup("example.com", DNS_TYPE_MX, &answer)) {
 *   case DNS_OK:        answer.rr[i].value ("mx.example.com"), .pref (10)
 *   case DNS_NOTFOUND:  no such name, or no record of that type
 *   case DNS_RETRY:     temporary failure (server down, SERVFAIL, timeout)
 *   }
 *   dns_answer_free(&answer);
 *
 * Values are text: an address for A/AAAA ("192.0.2.1", "2001:db8::1"),
 * the exchange host for MX (pref holds the preference; "" is a null MX),
 * the host name for PTR,
 * the strings of a TXT record joined together.  Names compare without
 * case and without a trailing dot.
 *
 * Lookups go to glibc's resolver (res_query, /etc/resolv.conf) unless the
 * environment variable POSTHORN_DNS_FILE names a file; then that file is
 * the whole DNS and the network is never asked.  It is read at every
 * lookup, so a test can change it while daemons run.  Its lines:
 *
 *   # comment
 *   example.com        MX   10 mx.example.com
 *   example.com        MX   0 .                  (null MX)
 *   mx.example.com     A    192.0.2.1
 *   mx.example.com     AAAA 2001:db8::1
 *   1.2.0.192.in-addr.arpa PTR mx.example.com
 *   2.0.0.127.rbl.test A    127.0.0.2
 *   2.0.0.127.rbl.test TXT  listed for testing
 *   broken.test        SERVFAIL                  (every lookup: DNS_RETRY)
 *   slow.test          DELAY 3                   (every lookup of the name
 *                                                waits 3 s, at most 30)
 *
 * A name that is not in the file does not exist (DNS_NOTFOUND).
 *
 * dns_parse_answer() is the packet parser behind dns_lookup(), exposed
 * for unit tests and fuzzing.
 */
#ifndef DNS_H
#define DNS_H

#include "sys_defs.h"

/* Record types (RFC 1035 / 3596 numbers) */
#define DNS_TYPE_A	1
#define DNS_TYPE_PTR	12
#define DNS_TYPE_MX	15
#define DNS_TYPE_TXT	16
#define DNS_TYPE_AAAA	28

/* Results */
#define DNS_OK		0
#define DNS_NOTFOUND	1
#define DNS_RETRY	(-1)

#define DNS_FILE_ENV	"POSTHORN_DNS_FILE"

typedef struct DNS_RR {
    int     type;			/* DNS_TYPE_* */
    int     pref;			/* MX preference, else 0 */
    char   *value;
} DNS_RR;

typedef struct DNS_ANSWER {
    DNS_RR *rr;
    int     count;
    int     size;
} DNS_ANSWER;

void	dns_answer_init(DNS_ANSWER *answer);
void	dns_answer_free(DNS_ANSWER *answer);
/* dns_answer_copy - append copies of FROM's records to TO */
void	dns_answer_copy(DNS_ANSWER *to, const DNS_ANSWER *from);

/* dns_lookup - records of TYPE for NAME appended to ANSWER; DNS_OK etc. */
int	dns_lookup(const char *name, int type, DNS_ANSWER *answer);

/*
 * dns_parse_answer - the answer records of TYPE in a response packet MSG
 * of LEN bytes, appended to ANSWER.  DNS_OK (at least one), DNS_NOTFOUND,
 * or DNS_RETRY for a packet that does not parse.
 */
int	dns_parse_answer(const unsigned char *msg, int len, int type, DNS_ANSWER *answer);

/* dns_type_code - "MX" -> DNS_TYPE_MX; 0 for an unknown name */
int	dns_type_code(const char *name);
const char *dns_type_name(int type);

#endif
