/*
 * address.c - RFC 5321 envelope addresses: parsing, quoting, splitting.
 *
 * smtpd calls addr_parse_path() on the text after "MAIL FROM:" or
 * "RCPT TO:" and keeps the result in external form; delivery agents use
 * addr_split() to get the unquoted local part and the domain.  The grammar
 * is RFC 5321 section 4.1.2:
 *
 *   Path      = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l     = At-domain *( "," At-domain ),  At-domain = "@" Domain
 *   Mailbox   = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string
 *
 * As Postfix does by default (strict_rfc821_envelopes = no) we also accept
 * a bare address without brackets, an address without '@' (the caller
 * qualifies it), and dot-strings with empty atoms ("a..b", which are then
 * quoted on output).  Bytes >= 0x80 are accepted (SMTPUTF8); the caller
 * decides whether they are allowed.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <strings.h>

#include "msg.h"
#include "vstring.h"
#include "address.h"

#define ADDR_PATH_MAX	256		/* RFC 5321 4.5.3.1.3, incl. "<>" */
#define ADDR_DOMAIN_MAX	255
#define ADDR_LABEL_MAX	63

#define IS_8BIT(c)	((unsigned char) (c) >= 0x80)
#define IS_CTRL(c)	((unsigned char) (c) < 0x20 || (unsigned char) (c) == 0x7f)
#define IS_ALNUM(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') \
			 || ((c) >= '0' && (c) <= '9'))
#define IS_SPACE(c)	((c) == ' ' || (c) == '\t')

/* is_atext - RFC 5322 atext, plus 8-bit bytes */

static int is_atext(int c)
{
    return (IS_ALNUM(c) || IS_8BIT(c)
	    || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0));
}

/* is_qtext - qtextSMTP: printable ASCII except '"' and '\', plus 8-bit */

static int is_qtext(int c)
{
    return ((c >= 32 && c <= 126 && c != '"' && c != '\\') || IS_8BIT(c));
}

/* addr_quote_local - append LOCAL quoted as RFC 5321 needs */

void    addr_quote_local(const char *local, VSTRING *out)
{
    const char *cp;
    int     need = (*local == 0 || *local == '.');

    for (cp = local; *cp && !need; cp++) {
	if (*cp == '.')
	    need = (cp[1] == '.' || cp[1] == 0);
	else if (!is_atext((unsigned char) *cp))
	    need = 1;
    }
    if (!need) {
	vstring_strcat(out, local);
	return;
    }
    vstring_addch(out, '"');
    for (cp = local; *cp; cp++) {
	if (*cp == '"' || *cp == '\\')
	    vstring_addch(out, '\\');
	vstring_addch(out, *cp);
    }
    vstring_addch(out, '"');
}

/* valid_hostname - sub-domain *("." sub-domain), Let-dig [Ldh-str] */

static int valid_hostname(const char *cp, size_t len)
{
    size_t  label = 0;
    size_t  i;

    if (len == 0 || len > ADDR_DOMAIN_MAX)
	return (0);
    for (i = 0; i < len; i++) {
	unsigned char c = cp[i];

	if (c == '.') {
	    if (label == 0 || cp[i - 1] == '-')
		return (0);
	    label = 0;
	} else if (IS_ALNUM(c) || IS_8BIT(c) || c == '_') {
	    if (++label > ADDR_LABEL_MAX)
		return (0);
	} else if (c == '-') {
	    if (label == 0)
		return (0);
	    label++;
	} else {
	    return (0);
	}
    }
    return (label > 0 && cp[len - 1] != '-');
}

/* valid_literal - [IPv4], [IPv6:addr], or [tag:dcontent] without the brackets */

static int valid_literal(const char *cp, size_t len)
{
    char    buf[64];
    struct in6_addr in6;
    const char *colon;
    size_t  i;

    if (len == 0)
	return (0);
    if (len < sizeof(buf) && (IS_ALNUM(*cp))) {
	memcpy(buf, cp, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, &in6) == 1)
	    return (1);
	if (strncasecmp(buf, "IPv6:", 5) == 0)
	    return (inet_pton(AF_INET6, buf + 5, &in6) == 1);
    }
    /* General-address-literal = Standardized-tag ":" 1*dcontent */
    if ((colon = memchr(cp, ':', len)) == 0 || colon == cp
	|| colon[-1] == '-' || (size_t) (colon - cp) + 1 == len)
	return (0);
    for (i = 0; cp + i < colon; i++)
	if (!IS_ALNUM(cp[i]) && cp[i] != '-')
	    return (0);
    for (i = colon - cp + 1; i < len; i++)
	if (!(cp[i] >= 33 && cp[i] <= 126 && cp[i] != '[' && cp[i] != ']'
	      && cp[i] != '\\'))
	    return (0);
    return (1);
}

/* valid_domain - hostname or [literal], LEN bytes at CP */

static int valid_domain(const char *cp, size_t len)
{
    if (len >= 2 && cp[0] == '[')
	return (cp[len - 1] == ']' && valid_literal(cp + 1, len - 2));
    return (valid_hostname(cp, len));
}

/* addr_valid_domain - hostname syntax or an address literal */

int     addr_valid_domain(const char *domain)
{
    return (valid_domain(domain, strlen(domain)));
}

/* scan_domain - length of the domain (or literal) starting at CP */

static size_t scan_domain(const char *cp)
{
    const char *end;

    if (*cp == '[') {
	for (end = cp + 1; *end && *end != ']' && !IS_CTRL(*end); end++)
	     /* void */ ;
	return (*end == ']' ? (size_t) (end - cp) + 1 : 0);
    }
    for (end = cp; IS_ALNUM(*end) || IS_8BIT(*end) || *end == '-'
	 || *end == '.' || *end == '_'; end++)
	 /* void */ ;
    return (end - cp);
}

/* parse_local - parse a local part at *CPP into LOCAL (internal form) */

static int parse_local(const char **cpp, VSTRING *local, const char **why)
{
    const char *cp = *cpp;

    vstring_reset(local);
    if (*cp == '"') {
	for (cp++; *cp != '"'; cp++) {
	    if (*cp == '\\') {
		cp++;
		if (!((*cp >= 32 && *cp <= 126) || IS_8BIT(*cp))) {
		    *why = "bad quoted character in local part";
		    return (-1);
		}
	    } else if (*cp == 0) {
		*why = "unterminated quoted string";
		return (-1);
	    } else if (!is_qtext((unsigned char) *cp)) {
		*why = "bad character in quoted local part";
		return (-1);
	    }
	    vstring_addch(local, *cp);
	}
	cp++;
    } else {
	for ( /* void */ ; is_atext((unsigned char) *cp) || *cp == '.'; cp++)
	    vstring_addch(local, *cp);
    }
    *cpp = cp;
    return (0);
}

/* parse_mailbox - Local-part [ "@" Domain ] at *CPP into ADDR */

static int parse_mailbox(const char **cpp, VSTRING *addr, const char **why)
{
    VSTRING *local = vstring_alloc(64);
    const char *cp = *cpp;
    size_t  dlen;
    int     quoted = (*cp == '"');
    int     ret = -1;

    vstring_reset(addr);
    if (parse_local(&cp, local, why) < 0)
	goto out;
    if (*cp == '@') {
	if (LEN(local) == 0 && !quoted) {
	    *why = "empty local part";
	    goto out;
	}
	cp++;
	if ((dlen = scan_domain(cp)) == 0 || !valid_domain(cp, dlen)) {
	    *why = "bad domain syntax";
	    goto out;
	}
	addr_quote_local(STR(local), addr);
	vstring_addch(addr, '@');
	vstring_memcat(addr, cp, dlen);
	cp += dlen;
    } else {
	if (LEN(local) == 0 && !quoted) {
	    *why = "empty address";
	    goto out;
	}
	addr_quote_local(STR(local), addr);
    }
    *cpp = cp;
    ret = 0;
out:
    vstring_free(local);
    return (ret);
}

/* parse_route - skip A-d-l ":" at *CPP (which points at '@') */

static int parse_route(const char **cpp, const char **why)
{
    const char *cp = *cpp;
    size_t  dlen;

    for (;;) {
	if (*cp != '@') {
	    *why = "bad source route";
	    return (-1);
	}
	cp++;
	if ((dlen = scan_domain(cp)) == 0 || !valid_domain(cp, dlen)) {
	    *why = "bad domain in source route";
	    return (-1);
	}
	cp += dlen;
	if (*cp == ':') {
	    *cpp = cp + 1;
	    return (0);
	}
	if (*cp != ',') {
	    *why = "bad source route";
	    return (-1);
	}
	cp++;
    }
}

/* addr_parse_path - parse the address part of MAIL FROM:/RCPT TO: */

int     addr_parse_path(const char *in, VSTRING *addr, const char **rest,
			        const char **why)
{
    const char *cp = in;
    const char *start;

    vstring_reset(addr);
    while (IS_SPACE(*cp))
	cp++;
    start = cp;
    if (*cp == '<') {
	cp++;
	if (*cp == '>') {
	    cp++;				/* null path */
	} else {
	    if (*cp == '@' && parse_route(&cp, why) < 0)
		return (-1);
	    if (parse_mailbox(&cp, addr, why) < 0)
		return (-1);
	    if (*cp != '>') {
		*why = (*cp == 0 ? "missing '>'" : "bad address syntax");
		return (-1);
	    }
	    cp++;
	}
	if (cp - start > ADDR_PATH_MAX) {
	    *why = "address too long";
	    return (-1);
	}
    } else {
	if (*cp == 0) {
	    *why = "missing address";
	    return (-1);
	}
	if (parse_mailbox(&cp, addr, why) < 0)
	    return (-1);
	if (cp - start + 2 > ADDR_PATH_MAX) {
	    *why = "address too long";
	    return (-1);
	}
    }
    if (*cp != 0 && !IS_SPACE(*cp)) {
	*why = "bad address syntax";
	return (-1);
    }
    while (IS_SPACE(*cp))
	cp++;
    *rest = cp;
    return (0);
}

/*
 * addr_domain_at - the '@' that starts the domain: the first one outside
 * quotes (a local part has no unquoted '@', while a domain literal may
 * hold any character), or NULL; -1 on bad quoting.
 */
static int addr_domain_at(const char *addr, const char **at)
{
    const char *cp;
    int     quoted = 0;

    *at = 0;
    for (cp = addr; *cp; cp++) {
	if (quoted && *cp == '\\') {
	    if (cp[1] == 0)
		return (-1);
	    cp++;
	} else if (*cp == '"') {
	    quoted = !quoted;
	} else if (!quoted && *cp == '@') {
	    *at = cp;
	    return (0);
	}
    }
    return (quoted ? -1 : 0);
}

/* addr_domain - pointer to the domain part, or NULL */

const char *addr_domain(const char *addr)
{
    const char *at;

    if (addr_domain_at(addr, &at) < 0 || at == 0)
	return (0);
    return (at + 1);
}

/* addr_split - LOCAL gets the unquoted local part, DOMAIN the domain */

int     addr_split(const char *addr, VSTRING *local, VSTRING *domain)
{
    const char *at;
    const char *end;
    const char *cp;
    int     quoted = 0;

    vstring_reset(local);
    vstring_reset(domain);
    if (addr_domain_at(addr, &at) < 0)
	return (-1);
    end = at ? at : addr + strlen(addr);
    for (cp = addr; cp < end; cp++) {
	if (IS_CTRL(*cp))
	    return (-1);
	if (quoted && *cp == '\\') {
	    cp++;				/* IS_CTRL() is a macro */
	    if (IS_CTRL(*cp))
		return (-1);
	} else if (*cp == '"') {
	    quoted = !quoted;
	    continue;
	}
	vstring_addch(local, *cp);
    }
    if (at) {
	for (cp = at + 1; *cp; cp++)
	    if (IS_CTRL(*cp))
		return (-1);
	vstring_strcpy(domain, at + 1);
    }
    return (0);
}

/* addr_is_8bit - the address has bytes >= 0x80 */

int     addr_is_8bit(const char *addr)
{
    for ( /* void */ ; *addr; addr++)
	if (IS_8BIT(*addr))
	    return (1);
    return (0);
}
