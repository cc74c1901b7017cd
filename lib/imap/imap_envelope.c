/*
 * imap_envelope.c - FETCH ENVELOPE (imap_envelope.h).
 */
#include "sys_defs.h"
#include "vstring.h"
#include "message_address.h"
#include "message_part.h"
#include "imap_quote.h"
#include "imap_envelope.h"

void    imap_envelope_humanize(VSTRING *out, const char *text, size_t len)
{
    int     space = 0;			/* white space is waiting */

    vstring_reset(out);
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = text[i];

	if (ch == '\r' || ch == '\n')
	    continue;
	if (ch == ' ' || ch == '\t') {
	    space = 1;
	    continue;
	}
	if (space && LEN(out) > 0)
	    vstring_addch(out, ' ');
	space = 0;
	vstring_addch(out, ch ? ch : 0x80);
    }
}

/* append_humanized - a string for humans, or NIL */

static void append_humanized(VSTRING *out, const char *text)
{
    VSTRING *buf;

    if (text == 0) {
	vstring_strcat(out, "NIL");
	return;
    }
    buf = vstring_alloc(strlen(text) + 1);
    imap_envelope_humanize(buf, text, strlen(text));
    imap_append_string(out, STR(buf), LEN(buf));
    vstring_free(buf);
}

void    imap_envelope_nstring_nolf(VSTRING *out, const char *text)
{
    VSTRING *buf;

    if (text == 0 || strpbrk(text, "\r\n") == 0) {
	imap_append_nstring(out, text, text ? strlen(text) : 0);
	return;
    }
    buf = vstring_alloc(strlen(text) + 1);
    for (const char *cp = text; *cp; cp++)
	if (*cp != '\r' && *cp != '\n')
	    vstring_addch(buf, *cp);
    imap_append_string(out, STR(buf), LEN(buf));
    vstring_free(buf);
}

/* append_nstring - NSTRING or NIL */

static void append_nstring(VSTRING *out, const char *text)
{
    imap_append_nstring(out, text, text ? strlen(text) : 0);
}

/* parse_addresses - every value of a multi-value env_* field */

static void parse_addresses(MESSAGE_ADDRESS_LIST *list, const char *values)
{
    for (const char *cp = values; cp; cp = message_part_next_value(cp))
	message_address_parse(list, cp, strlen(cp), MESSAGE_ADDRESS_FILL_MISSING);
}

/* append_addresses - an address list, or NIL */

static void append_addresses(VSTRING *out, const MESSAGE_ADDRESS_LIST *list)
{
    if (list->count == 0) {
	vstring_strcat(out, "NIL");
	return;
    }
    vstring_addch(out, '(');
    for (int i = 0; i < list->count; i++) {
	const MESSAGE_ADDRESS *addr = list->addrs + i;

	vstring_addch(out, '(');
	append_humanized(out, addr->name);
	vstring_addch(out, ' ');
	append_nstring(out, addr->route);
	vstring_addch(out, ' ');
	append_nstring(out, addr->mailbox);
	vstring_addch(out, ' ');
	append_nstring(out, addr->host);
	vstring_addch(out, ')');
    }
    vstring_addch(out, ')');
}

void    imap_envelope(VSTRING *out, const MESSAGE_PART *msg)
{
    const char *fields[6];
    MESSAGE_ADDRESS_LIST lists[6];
    int     i;

    fields[0] = msg->env_from;
    fields[1] = msg->env_sender;
    fields[2] = msg->env_reply_to;
    fields[3] = msg->env_to;
    fields[4] = msg->env_cc;
    fields[5] = msg->env_bcc;
    memset(lists, 0, sizeof(lists));
    for (i = 0; i < 6; i++)
	if (fields[i])
	    parse_addresses(lists + i, fields[i]);

    vstring_addch(out, '(');
    imap_envelope_nstring_nolf(out, msg->env_date);
    vstring_addch(out, ' ');
    append_humanized(out, msg->env_subject);
    for (i = 0; i < 6; i++) {
	const MESSAGE_ADDRESS_LIST *list = lists + i;

	/* Sender and Reply-To default to From. */
	if ((i == 1 || i == 2) && list->count == 0)
	    list = lists;
	vstring_addch(out, ' ');
	append_addresses(out, list);
    }
    vstring_addch(out, ' ');
    imap_envelope_nstring_nolf(out, msg->env_in_reply_to);
    vstring_addch(out, ' ');
    imap_envelope_nstring_nolf(out, msg->env_message_id);
    vstring_addch(out, ')');

    for (i = 0; i < 6; i++)
	message_address_list_free(lists + i);
}
