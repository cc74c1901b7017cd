/*
 * message_address.c - RFC 5322 address lists for ENVELOPE (message_address.h).
 *
 * A recursive-descent parser over rfc822_lex.  The grammar, with the
 * obsolete forms and the ways Dovecot 2.3 copes with broken input:
 *
 *	address-list = address *("," address)
 *	address      = group / mailbox
 *	group        = phrase ":" [mailbox *("," mailbox)] ";"
 *	mailbox      = [phrase] "<" [route ":"] local-part ["@" domain] ">"
 *		     / local-part ["@" domain] [(comment)]
 *	route        = "@" domain *(*("," / CFWS) "@" domain)
 *
 * Every scanning step returns 1 (more input), 0 (input ended) or -1
 * (broken), as the scanner does.  A failed group is retried as a mailbox,
 * a failed name-addr as an addr-spec.  The entry being built is
 * P->current; add_entry() moves it into the list.
 */
#include "sys_defs.h"
#include "mymalloc.h"
#include "vstring.h"
#include "rfc822_lex.h"
#include "message_address.h"

typedef struct ADDR_PARSER {
    RFC822_LEX lex;
    VSTRING *word;			/* scratch text */
    VSTRING *comment;			/* the last comment skipped */
    MESSAGE_ADDRESS current;		/* the entry being built */
    MESSAGE_ADDRESS_LIST *list;
    int     fill_missing;
} ADDR_PARSER;

/* set_text - replace one field of the current entry */

static void set_text(char **field, const char *text)
{
    if (*field != 0)
	myfree(*field);
    *field = text ? mystrdup(text) : 0;
}

/* add_entry - move the current entry into the list */

static void add_entry(ADDR_PARSER *p)
{
    MESSAGE_ADDRESS_LIST *list = p->list;

    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 8;
	list->addrs = (MESSAGE_ADDRESS *)
	    myrealloc(list->addrs, list->size * sizeof(*list->addrs));
    }
    list->addrs[list->count++] = p->current;
    memset(&p->current, 0, sizeof(p->current));
}

/* add_mailbox - add the current entry with its missing parts filled in */

static void add_mailbox(ADDR_PARSER *p)
{
    MESSAGE_ADDRESS *cur = &p->current;

    if (cur->mailbox == 0) {
	set_text(&cur->mailbox, p->fill_missing ? "MISSING_MAILBOX" : "");
	cur->invalid = 1;
    }
    if (cur->host == 0 || *cur->host == 0) {
	set_text(&cur->host, p->fill_missing ? "MISSING_DOMAIN" : "");
	cur->invalid = 1;
    }
    add_entry(p);
}

/* nonstrict_dot_atom - a local part where dots may be anywhere ("a..b.") */

static int nonstrict_dot_atom(ADDR_PARSER *p)
{
    RFC822_LEX *lex = &p->lex;
    int     ret = -1;

    do {
	while (*lex->ptr == '.') {
	    vstring_addch(p->word, '.');
	    if (++lex->ptr >= lex->end)
		return (0);
	    ret = 1;
	}
	if (*lex->ptr == '@')
	    break;
	ret = rfc822_lex_atom(lex, p->word);
    } while (ret > 0 && *lex->ptr == '.');
    return (ret);
}

/* local_part - a quoted string or a dot-atom into current.mailbox */

static int local_part(ADDR_PARSER *p)
{
    int     ret;

    vstring_reset(p->word);
    if (*p->lex.ptr == '"')
	ret = rfc822_lex_quoted(&p->lex, p->word);
    else
	ret = nonstrict_dot_atom(p);
    if (ret < 0)
	return (-1);
    set_text(&p->current.mailbox, STR(p->word));
    return (ret);
}

/* domain - at '@': the domain into current.host */

static int domain(ADDR_PARSER *p)
{
    int     ret;

    vstring_reset(p->word);
    if ((ret = rfc822_lex_domain(&p->lex, p->word)) < 0)
	return (-1);
    set_text(&p->current.host, STR(p->word));
    return (ret);
}

/* route - at '@': "@a,@b" into current.route */

static int route(ADDR_PARSER *p)
{
    RFC822_LEX *lex = &p->lex;
    int     ret;

    vstring_reset(p->word);
    for (;;) {
	if (!RFC822_LEX_MORE(lex))
	    return (0);
	if (*lex->ptr != '@')
	    break;
	if (LEN(p->word) > 0)
	    vstring_addch(p->word, ',');
	vstring_addch(p->word, '@');
	if ((ret = rfc822_lex_domain(lex, p->word)) <= 0)
	    return (ret);
	while (rfc822_lex_skip_cfws(lex) > 0 && *lex->ptr == ',')
	    lex->ptr++;
    }
    set_text(&p->current.route, STR(p->word));
    return (1);
}

/* angle_addr - at '<': "<" [route ":"] [local-part ["@" domain]] ">" */

static int angle_addr(ADDR_PARSER *p)
{
    RFC822_LEX *lex = &p->lex;

    lex->ptr++;
    if (rfc822_lex_skip_cfws(lex) <= 0)
	return (-1);
    if (*lex->ptr == '@') {
	if (route(p) > 0 && RFC822_LEX_AT(lex, ':')) {
	    lex->ptr++;
	} else {
	    if (p->fill_missing)
		set_text(&p->current.route, "INVALID_ROUTE");
	    if (!RFC822_LEX_MORE(lex))
		return (-1);
	}
	if (rfc822_lex_skip_cfws(lex) <= 0)
	    return (-1);
    }
    if (*lex->ptr != '>') {
	if (local_part(p) <= 0)
	    return (-1);
	if (*lex->ptr == '@' && domain(p) <= 0)
	    return (-1);
    }
    if (!RFC822_LEX_AT(lex, '>'))
	return (-1);
    lex->ptr++;
    return (rfc822_lex_skip_cfws(lex));
}

/* name_addr - [phrase] angle-addr; -1 when it is not one (nothing changed) */

static int name_addr(ADDR_PARSER *p)
{
    vstring_reset(p->word);
    if (rfc822_lex_phrase(&p->lex, p->word) <= 0
	|| !RFC822_LEX_AT(&p->lex, '<'))
	return (-1);
    set_text(&p->current.name, LEN(p->word) > 0 ? STR(p->word) : 0);
    if (angle_addr(p) < 0) {
	if (p->fill_missing)
	    set_text(&p->current.host, "SYNTAX_ERROR");
	p->current.invalid = 1;
    }
    return (RFC822_LEX_MORE(&p->lex));
}

/*
 * addr_spec - local-part ["@" domain], a trailing comment as the name; a
 * word followed by more words is a display name without an address.
 */
static int addr_spec(ADDR_PARSER *p)
{
    MESSAGE_ADDRESS *cur = &p->current;
    int     quoted = (*p->lex.ptr == '"');
    int     ret, dom_ret = -2;
    size_t  len;

    vstring_reset(p->comment);
    if ((ret = local_part(p)) <= 0)
	cur->invalid = 1;
    if (ret != 0 && RFC822_LEX_AT(&p->lex, '@')) {
	if ((dom_ret = domain(p)) <= 0)
	    ret = dom_ret;
    }
    if (LEN(p->comment) > 0) {
	set_text(&cur->name, STR(p->comment));
    } else if (dom_ret == -2) {
	vstring_addch(p->word, ' ');
	len = LEN(p->word);
	(void) rfc822_lex_phrase(&p->lex, p->word);
	if (LEN(p->word) != len) {
	    set_text(&cur->mailbox, 0);
	    set_text(&cur->name, STR(p->word));
	} else if (!quoted) {
	    set_text(&cur->host, "");
	}
	cur->invalid = 1;
	ret = -1;
    }
    return (ret);
}

/* mailbox - name-addr or addr-spec, added to the list */

static int mailbox(ADDR_PARSER *p)
{
    MESSAGE_ADDRESS *cur = &p->current;
    const unsigned char *start = p->lex.ptr;
    int     ret;

    if ((ret = name_addr(p)) < 0) {
	p->lex.ptr = start;
	ret = addr_spec(p);
	if (cur->invalid && cur->name == 0 && cur->mailbox != 0
	    && cur->host == 0) {
	    cur->name = cur->mailbox;		/* a lone "word" is a name */
	    cur->mailbox = 0;
	}
    }
    if (ret < 0)
	cur->invalid = 1;
    add_mailbox(p);
    return (ret);
}

/* group - phrase ":" [mailbox-list] ";"; -1 when it is not a group */

static int group(ADDR_PARSER *p)
{
    RFC822_LEX *lex = &p->lex;
    int     ret;

    vstring_reset(p->word);
    if (rfc822_lex_phrase(lex, p->word) <= 0 || !RFC822_LEX_AT(lex, ':'))
	return (-1);

    /* From here on it is a group, however broken. */
    lex->ptr++;
    if ((ret = rfc822_lex_skip_cfws(lex)) <= 0)
	p->current.invalid = 1;
    set_text(&p->current.mailbox, STR(p->word));
    add_entry(p);

    if (ret > 0 && *lex->ptr != ';') {
	for (;;) {
	    (void) mailbox(p);
	    if (!RFC822_LEX_AT(lex, ','))
		break;
	    lex->ptr++;
	    if (rfc822_lex_skip_cfws(lex) <= 0) {
		ret = -1;
		break;
	    }
	}
    }
    if (ret >= 0) {
	if (!RFC822_LEX_AT(lex, ';')) {
	    ret = -1;
	} else {
	    lex->ptr++;
	    ret = rfc822_lex_skip_cfws(lex);
	}
    }
    if (ret < 0)
	p->current.invalid = 1;
    add_entry(p);				/* the group end */
    return (ret == 0 ? 0 : 1);
}

/* address - a group or a mailbox */

static int address(ADDR_PARSER *p)
{
    const unsigned char *start = p->lex.ptr;
    int     ret;

    if ((ret = group(p)) < 0) {
	p->lex.ptr = start;
	ret = mailbox(p);
    }
    return (ret);
}

/* address_list - addresses separated by commas, to the end or to garbage */

static void address_list(ADDR_PARSER *p)
{
    RFC822_LEX *lex = &p->lex;
    int     ret;

    for (;;) {
	if (address(p) == 0)
	    break;
	if (!RFC822_LEX_AT(lex, ','))
	    break;
	lex->ptr++;
	if ((ret = rfc822_lex_skip_cfws(lex)) <= 0) {
	    if (ret < 0)
		add_mailbox(p);			/* ends with garbage */
	    break;
	}
    }
}

void    message_address_parse(MESSAGE_ADDRESS_LIST *list, const char *text,
			              size_t len, int flags)
{
    ADDR_PARSER p;

    memset(&p, 0, sizeof(p));
    p.word = vstring_alloc(64);
    p.comment = vstring_alloc(64);
    p.list = list;
    p.fill_missing = (flags & MESSAGE_ADDRESS_FILL_MISSING) != 0;
    rfc822_lex_init(&p.lex, text, len, p.comment);
    if (rfc822_lex_skip_cfws(&p.lex) > 0)
	address_list(&p);
    set_text(&p.current.name, 0);		/* nothing is left over */
    set_text(&p.current.route, 0);
    set_text(&p.current.mailbox, 0);
    set_text(&p.current.host, 0);
    vstring_free(p.word);
    vstring_free(p.comment);
}

void    message_address_list_free(MESSAGE_ADDRESS_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
	MESSAGE_ADDRESS *addr = list->addrs + i;

	if (addr->name)
	    myfree(addr->name);
	if (addr->route)
	    myfree(addr->route);
	if (addr->mailbox)
	    myfree(addr->mailbox);
	if (addr->host)
	    myfree(addr->host);
    }
    if (list->addrs)
	myfree(list->addrs);
    list->addrs = 0;
    list->count = list->size = 0;
}
