/*
 * addr_list.c - RFC 5322 address lists and aliases(5) values, split into
 * addresses (see addr_list.h).  Used by sendmail -t (header recipients)
 * and by local (alias, .forward and :include: expansion).
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "addr_list.h"

void    addr_list_add(ADDR_LIST *list, const char *addr)
{
    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 8;
	list->addrs = (char **) myrealloc(list->addrs, list->size * sizeof(char *));
    }
    list->addrs[list->count++] = mystrdup(addr);
}

/* addr_warn_bad - warn about a dropped address, printably and briefly */

static void addr_warn_bad(const char *what, const char *addr)
{
    VSTRING *buf = vstring_alloc(100);
    const char *cp;

    for (cp = addr; *cp && LEN(buf) < 100; cp++)
	vstring_addch(buf, isprint((unsigned char) *cp) ? *cp : '?');
    msg_warn("ignoring %s with control characters: %s%s", what, STR(buf),
	     *cp ? "..." : "");
    vstring_free(buf);
}

void    addr_list_free(ADDR_LIST *list)
{
    for (int i = 0; i < list->count; i++)
	myfree(list->addrs[i]);
    if (list->addrs)
	myfree(list->addrs);
    list->addrs = 0;
    list->count = list->size = 0;
}

 /*
  * RFC 5322 address lists, good enough for what MUAs and scripts write:
  * display names, (comments), "quoted strings", groups "name: a, b;",
  * <angle addresses> with an optional source route.  Display names and
  * comments are dropped; an address is kept in external form (quoted local
  * parts stay quoted).  Control characters outside quotes are white space;
  * an address with a control character inside quotes is dropped.
  */
#define ADDR_SPECIALS	"<>,;:@()\"[]\\"

typedef struct ADDR_PARSE {
    VSTRING *words;			/* tokens of the current address */
    VSTRING *angle;			/* the <...> part, if any */
    int     in_angle;
    int     have_angle;
    int     bad;			/* control character inside quotes */
    ADDR_LIST *out;
} ADDR_PARSE;

/* addr_emit - finish the current address at ',' or ';' or the end */

static void addr_emit(ADDR_PARSE *ap)
{
    const char *addr = STR(ap->have_angle ? ap->angle : ap->words);
    const char *colon;

    /* drop a source route: <@a,@b:user@domain> */
    if (ap->have_angle && *addr == '@' && (colon = strchr(addr, ':')) != 0)
	addr = colon + 1;
    if (ap->bad)
	addr_warn_bad("address", addr);
    else if (*addr)
	addr_list_add(ap->out, addr);
    vstring_reset(ap->words);
    vstring_reset(ap->angle);
    ap->in_angle = ap->have_angle = ap->bad = 0;
}

/* addr_skip_comment - skip a (possibly nested) comment; returns the end */

static const char *addr_skip_comment(const char *cp)
{
    int     level = 0;

    for (; *cp; cp++) {
	if (*cp == '\\' && cp[1])
	    cp++;
	else if (*cp == '(')
	    level++;
	else if (*cp == ')' && --level == 0)
	    return (cp + 1);
    }
    return (cp);
}

/* addr_copy_quoted - copy "..." or [...] into BUF; returns the end */

static const char *addr_copy_quoted(ADDR_PARSE *ap, VSTRING *buf,
				            const char *cp, int close)
{
    vstring_addch(buf, *cp++);
    for (; *cp && *cp != close; cp++) {
	if (*cp == '\\' && cp[1])
	    vstring_addch(buf, *cp++);
	if (iscntrl((unsigned char) *cp) && *cp != '\t')
	    ap->bad = 1;
	vstring_addch(buf, *cp);
    }
    vstring_addch(buf, close);
    return (*cp ? cp + 1 : cp);
}

/* addr_parse_list - append the addresses in TEXT to OUT */

void    addr_parse_list(const char *text, ADDR_LIST *out)
{
    ADDR_PARSE ap;
    const char *cp = text;
    VSTRING *cur;

    ap.words = vstring_alloc(100);
    ap.angle = vstring_alloc(100);
    ap.in_angle = ap.have_angle = ap.bad = 0;
    ap.out = out;
    while (*cp) {
	unsigned char ch = *cp;

	cur = ap.in_angle ? ap.angle : ap.words;
	if (isspace(ch) || iscntrl(ch)) {
	    cp++;
	} else if (ch == '(') {
	    cp = addr_skip_comment(cp);
	} else if (ch == '"') {
	    cp = addr_copy_quoted(&ap, cur, cp, '"');
	} else if (ch == '[') {
	    cp = addr_copy_quoted(&ap, cur, cp, ']');
	} else if (ch == '<') {
	    vstring_reset(ap.angle);		/* words so far: display name */
	    ap.in_angle = ap.have_angle = 1;
	    ap.bad = 0;
	    cp++;
	} else if (ch == '>') {
	    ap.in_angle = 0;
	    cp++;
	} else if ((ch == ',' && !ap.in_angle) || ch == ';') {
	    addr_emit(&ap);
	    cp++;
	} else if (ch == ':' && !ap.in_angle) {
	    vstring_reset(ap.words);		/* group name */
	    cp++;
	} else if (ch == ',' || ch == ':' || ch == '@') {
	    vstring_addch(cur, ch);		/* route or address syntax */
	    cp++;
	} else if (ap.have_angle && !ap.in_angle) {
	    cp++;				/* junk after <addr> */
	} else {
	    size_t  len = strcspn(cp, ADDR_SPECIALS " \t\r\n");

	    if (len == 0)
		len = 1;			/* stray ")", "]" or "\" */
	    for (size_t i = 0; i < len; i++)
		if (!iscntrl((unsigned char) cp[i]))
		    vstring_addch(cur, cp[i]);
	    cp += len;
	}
    }
    addr_emit(&ap);
    vstring_free(ap.words);
    vstring_free(ap.angle);
}


 /*
  * aliases(5) values.  The element is collected as written (quotes kept),
  * and separately without quotes, for an element that is one quoted
  * string as a whole.
  */
typedef struct ALIAS_PARSE {
    VSTRING *elem;			/* the element as written */
    VSTRING *unquoted;			/* the contents of its quoted strings */
    VSTRING *angle;			/* the <...> part, if any */
    int     in_angle;
    int     have_angle;
    int     space;			/* white space since the last character */
    int     quoted_parts;		/* "..." strings in the element */
    int     plain_chars;		/* characters outside quotes */
    int     bad;			/* control character inside quotes */
    ADDR_LIST *out;
} ALIAS_PARSE;

/* alias_reset - start a new element */

static void alias_reset(ALIAS_PARSE *ap)
{
    vstring_reset(ap->elem);
    vstring_reset(ap->unquoted);
    vstring_reset(ap->angle);
    ap->in_angle = ap->have_angle = ap->space = 0;
    ap->quoted_parts = ap->plain_chars = ap->bad = 0;
}

/* alias_emit - finish the current element at ',' or the end */

static void alias_emit(ALIAS_PARSE *ap)
{
    const char *elem;

    if (ap->have_angle)
	elem = STR(ap->angle);
    else if (ap->quoted_parts == 1 && ap->plain_chars == 0)
	elem = STR(ap->unquoted);
    else
	elem = STR(ap->elem);
    if (ap->bad)
	addr_warn_bad("alias element", elem);
    else if (*elem)
	addr_list_add(ap->out, elem);
    alias_reset(ap);
}

/* alias_buf - where characters go now */

static VSTRING *alias_buf(ALIAS_PARSE *ap)
{
    VSTRING *buf = ap->in_angle ? ap->angle : ap->elem;

    if (ap->space && LEN(buf) > 0) {
	vstring_addch(buf, ' ');
	if (!ap->in_angle)
	    ap->plain_chars++;
    }
    ap->space = 0;
    return (buf);
}

/* alias_plain - one character outside quotes */

static void alias_plain(ALIAS_PARSE *ap, int ch)
{
    vstring_addch(alias_buf(ap), ch);
    if (!ap->in_angle)
	ap->plain_chars++;
}

/* alias_quoted - copy "..." (as written and unquoted); returns the end */

static const char *alias_quoted(ALIAS_PARSE *ap, const char *cp)
{
    VSTRING *buf = alias_buf(ap);

    if (!ap->in_angle)
	ap->quoted_parts++;
    vstring_addch(buf, *cp++);
    for (; *cp && *cp != '"'; cp++) {
	if (*cp == '\\' && cp[1])
	    vstring_addch(buf, *cp++);
	if (iscntrl((unsigned char) *cp) && *cp != '\t')
	    ap->bad = 1;
	vstring_addch(buf, *cp);
	if (!ap->in_angle)
	    vstring_addch(ap->unquoted, *cp);
    }
    vstring_addch(buf, '"');
    return (*cp ? cp + 1 : cp);
}

void    addr_parse_alias(const char *text, ADDR_LIST *out)
{
    ALIAS_PARSE ap;
    const char *cp = text;

    ap.elem = vstring_alloc(100);
    ap.unquoted = vstring_alloc(100);
    ap.angle = vstring_alloc(100);
    ap.out = out;
    alias_reset(&ap);
    while (*cp) {
	unsigned char ch = *cp;

	if (ch == '"') {
	    cp = alias_quoted(&ap, cp);
	} else if (ch == '(') {
	    cp = addr_skip_comment(cp);
	    ap.space = 1;
	} else if (ch == ',' && !ap.in_angle) {
	    alias_emit(&ap);
	    cp++;
	} else if (ch == '<' && !ap.in_angle) {
	    vstring_reset(ap.angle);		/* words so far: display name */
	    ap.in_angle = ap.have_angle = 1;
	    ap.space = 0;
	    cp++;
	} else if (ch == '>' && ap.in_angle) {
	    ap.in_angle = 0;
	    cp++;
	} else if (isspace(ch) || iscntrl(ch)) {
	    ap.space = 1;
	    cp++;
	} else if (ap.have_angle && !ap.in_angle) {
	    cp++;				/* junk after <addr> */
	} else if (ch == '\\' && cp[1] && !iscntrl((unsigned char) cp[1])) {
	    alias_plain(&ap, ch);		/* "\user", or an escaped character */
	    alias_plain(&ap, cp[1]);
	    cp += 2;
	} else {
	    alias_plain(&ap, ch);
	    cp++;
	}
    }
    alias_emit(&ap);
    vstring_free(ap.elem);
    vstring_free(ap.unquoted);
    vstring_free(ap.angle);
}
