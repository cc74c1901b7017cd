/*
 * dict_cidr.c - cidr: tables, Postfix's cidr_table(5): client addresses
 * against networks, first match wins.
 *
 * dict_open("cidr:/etc/posthorn/client_access.cidr", 0) reads the file:
 *
 *	192.0.2.0/24		result	a network (host bits must be zero)
 *	192.0.2.7		result	one address (all bits)
 *	2001:db8::/32		result	IPv6; [2001:db8::]/32 and [::1] too
 *	!198.51.100.0/24	result	any address of that family but these
 *	if [!]network  ...  endif	a block of rules; blocks nest
 *
 * The result is the rest of the line (continuation lines included),
 * white space trimmed; there is no $n substitution.  An address is
 * IPv6 when it contains ':' and IPv4 otherwise, and a rule only ever
 * applies to keys of its own family: 192.0.2.0/24 does not match
 * ::ffff:192.0.2.1, and !192.0.2.0/24 does not match an IPv6 key.  A
 * key that is not an address matches nothing.
 *
 * A line that is not a valid rule is warned about as Postfix words it
 * ("cidr map FILE, line N: bad mask length in "10.0.0.0/33": skipping
 * this rule") and skipped.  Reading, IF/ENDIF and the walk are shared
 * with pcre: and regexp: (dict_rules.c).
 */
#include "sys_defs.h"
#include <arpa/inet.h>
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "inet_match.h"
#include "dict_rules.h"

typedef struct CIDR_ADDR {
    int     v6;				/* 1: IPv6 (16 bytes), 0: IPv4 (4) */
    unsigned char bytes[16];
    int     bits;			/* network: prefix length */
} CIDR_ADDR;

typedef struct DICT_CIDR {
    DICT_RULES rules;			/* must be first */
    CIDR_ADDR key;			/* the key of the lookup in progress */
} DICT_CIDR;

/* cidr_family - IPv6 when TEXT has a ':', else IPv4 (as Postfix) */

static int cidr_family(const char *text, CIDR_ADDR *addr)
{
    addr->v6 = strchr(text, ':') != 0;
    return (addr->v6 ? AF_INET6 : AF_INET);
}

/* cidr_all_digits - a non-empty string of digits */

static int cidr_all_digits(const char *text)
{
    return (*text != 0 && text[strspn(text, "0123456789")] == 0);
}

/* cidr_host_bits - 1 when NET has bits set after its prefix; clears them */

static int cidr_host_bits(CIDR_ADDR *net)
{
    int     len = net->v6 ? 16 : 4;
    int     set = 0;

    for (int i = net->bits; i < len * 8; i++) {
	unsigned char bit = 0x80 >> (i % 8);

	if (net->bytes[i / 8] & bit) {
	    set = 1;
	    net->bytes[i / 8] &= ~bit;
	}
    }
    return (set);
}

/* cidr_parse_masked - "addr/len"; 0, or -1 with WHY set */

static int cidr_parse_masked(CIDR_ADDR *net, const char *addr, const char *len,
			             VSTRING *why)
{
    int     max = cidr_family(addr, net) == AF_INET6 ? 128 : 32;
    char    text[INET6_ADDRSTRLEN];
    const char *error = 0;
    long    bits = 0;

    if (!cidr_all_digits(len))
	error = "bad mask value";
    else if ((bits = strtol(len, 0, 10)) > max)	/* LONG_MAX if huge */
	error = "bad mask length";
    else if (inet_pton(net->v6 ? AF_INET6 : AF_INET, addr, net->bytes) != 1)
	error = "bad network value";
    if (error) {
	vstring_sprintf(why, "%s in \"%s/%s\"", error, addr, len);
	return (-1);
    }
    net->bits = (int) bits;
    if (cidr_host_bits(net)) {
	if (inet_ntop(net->v6 ? AF_INET6 : AF_INET, net->bytes, text, sizeof(text)) == 0)
	    msg_fatal("inet_ntop: %m");
	vstring_sprintf(why, "non-null host address bits in \"%s/%s\", perhaps"
			" you should use \"%s/%d\" instead", addr, len, text, net->bits);
	return (-1);
    }
    return (0);
}

/* cidr_parse_net - PATTERN ("[addr]/len", "addr/len", "addr"); 0, or -1 with WHY */

static int cidr_parse_net(CIDR_ADDR *net, char *pattern, VSTRING *why)
{
    char   *mask_search = pattern;
    char   *slash;

    if (*pattern == '[') {
	if ((mask_search = strchr(++pattern, ']')) == 0) {
	    vstring_sprintf(why, "missing ']' character after \"[%s\"", pattern);
	    return (-1);
	}
	*mask_search++ = 0;
	if (*mask_search != '/' && *mask_search != 0) {
	    vstring_sprintf(why, "garbage after \"[%s]\"", pattern);
	    return (-1);
	}
	if (*mask_search == 0)
	    mask_search = pattern;		/* "[addr/len]" */
    }
    if ((slash = strchr(mask_search, '/')) != 0) {
	*slash = 0;
	return (cidr_parse_masked(net, pattern, slash + 1, why));
    }
    if (inet_pton(cidr_family(pattern, net), pattern, net->bytes) != 1) {
	vstring_sprintf(why, "bad address pattern: \"%s\"", pattern);
	return (-1);
    }
    net->bits = net->v6 ? 128 : 32;
    return (0);
}

/* cidr_negation - skip '!' and white space at *P; 1, or 0 for a negated rule */

static int cidr_negation(char **p)
{
    int     match = 1;

    for (; **p == '!' || isspace((unsigned char) **p); (*p)++)
	if (**p == '!')
	    match = !match;
    return (match);
}

/* cidr_new_net - RULE's pattern from TEXT; 0 with WHY set when bad */

static int cidr_new_net(DICT_RULE *rule, char *text, VSTRING *why)
{
    CIDR_ADDR net;

    memset(&net, 0, sizeof(net));
    if (cidr_parse_net(&net, text, why) < 0)
	return (0);
    rule->pattern = mymemdup(&net, sizeof(net));
    return (1);
}

/* cidr_parse_match - "[!]network result" */

static int cidr_parse_match(DICT_RULE *rule, char *p, VSTRING *why)
{
    char   *pattern;

    rule->op = DICT_RULE_MATCH;
    rule->match = cidr_negation(&p);
    pattern = p;
    while (*p && !isspace((unsigned char) *p))
	p++;
    if (*p)
	*p++ = 0;
    while (isspace((unsigned char) *p))
	p++;
    if (*pattern == 0) {
	vstring_strcpy(why, "no address pattern");
	return (0);
    }
    if (*p == 0) {
	vstring_strcpy(why, "no lookup result");
	return (0);
    }
    if (!cidr_new_net(rule, pattern, why))
	return (0);
    rule->result = mystrdup(p);
    return (1);
}

/* cidr_parse_if - "if [!]network" (the rest of the line is the network) */

static int cidr_parse_if(DICT_RULE *rule, char *p, VSTRING *why)
{
    rule->op = DICT_RULE_IF;
    rule->match = cidr_negation(&p);
    if (*p == 0) {
	vstring_strcpy(why, "no address pattern");
	return (0);
    }
    return (cidr_new_net(rule, p, why));
}

/* cidr_parse_endif - "endif", with nothing after it */

static int cidr_parse_endif(DICT_RULE *rule, char *p, int nesting, VSTRING *why)
{
    while (isspace((unsigned char) *p))
	p++;
    if (*p != 0) {
	vstring_strcpy(why, "garbage after ENDIF");
	return (0);
    }
    if (nesting == 0) {
	vstring_strcpy(why, "ENDIF without IF");
	return (0);
    }
    rule->op = DICT_RULE_ENDIF;
    return (1);
}

/* cidr_parse - one line; a bad one is warned about and skipped */

static int cidr_parse(DICT_RULES *dr, DICT_RULE *rule, char *line, int nesting)
{
    static VSTRING *why;
    int     ok;

    if (why == 0)
	why = vstring_alloc(100);
    if (dict_rules_keyword(line, "if"))
	ok = cidr_parse_if(rule, line + 2, why);
    else if (dict_rules_keyword(line, "endif"))
	ok = cidr_parse_endif(rule, line + 5, nesting, why);
    else
	ok = cidr_parse_match(rule, line, why);
    if (!ok)
	dict_rules_warn(dr, rule->lineno, "%s: skipping this rule", STR(why));
    return (ok);
}

/* cidr_prepare - the key as an address, or NULL when it is none */

static const void *cidr_prepare(DICT_RULES *dr, const char *key)
{
    DICT_CIDR *dc = (DICT_CIDR *) dr;

    if (inet_pton(cidr_family(key, &dc->key), key, dc->key.bytes) != 1)
	return (0);
    return (&dc->key);
}

/* cidr_exec - 1: in the network, 0: not, -1: another address family */

static int cidr_exec(DICT_RULES *dr, const DICT_RULE *rule, const void *pattern,
		             const void *subject, DICT_RULE_GROUP *groups, int ngroups)
{
    const CIDR_ADDR *net = (const CIDR_ADDR *) pattern;
    const CIDR_ADDR *addr = (const CIDR_ADDR *) subject;

    (void) dr;
    (void) rule;
    (void) groups;
    (void) ngroups;
    if (net->v6 != addr->v6)
	return (-1);
    return (inet_prefix_equal(addr->bytes, net->bytes, net->bits));
}

static void cidr_free_pattern(void *pattern)
{
    myfree(pattern);
}

static const DICT_RULES_ENGINE cidr_engine = {
    .kind = "cidr",
    .parse = cidr_parse,
    .prepare = cidr_prepare,
    .exec = cidr_exec,
    .free_pattern = cidr_free_pattern,
};

DICT   *dict_cidr_open(const char *type, const char *name, int flags)
{
    return (dict_rules_open(type, name, flags, &cidr_engine, sizeof(DICT_CIDR)));
}
