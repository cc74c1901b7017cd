/*
 * fuzz_message_address.c - libFuzzer harness for the header-value parsers
 * of lib/mail and lib/imap that fuzz_message_part reaches only through
 * whole messages: message_address_parse(), message_date_parse(),
 * message_content_type() and its parameters, message_header_decode(),
 * imap_section_parse() and the search matcher.
 *
 * Built and run by test/fuzz/run.sh.  The input is one header value.
 * Invariants (a broken one calls abort()):
 *
 *  - addresses: with MESSAGE_ADDRESS_FILL_MISSING every entry is a
 *    mailbox (mailbox and host set), a group start (mailbox, no host) or
 *    a group end (neither), groups never nest and every start is closed,
 *    and parsing the input in one call or appended to a list gives the
 *    same entries;
 *  - a date that parses is in range, with its zone within +-99:59;
 *  - Content-Type: a well-formed type has a non-empty type and subtype
 *    made of token characters, and every parameter has a name and value;
 *  - header decoding gives valid UTF-8;
 *  - a section spec that parses has part numbers >= 1, a known kind,
 *    field names only with HEADER.FIELDS[.NOT], MIME only with a part;
 *  - searching the input (when it is UTF-8) for a piece of itself finds
 *    it, fed whole or a byte at a time.
 */
#include "sys_defs.h"

#include "msg.h"
#include "vstring.h"
#include "message_address.h"
#include "message_date.h"
#include "message_content.h"
#include "message_decode.h"
#include "rfc822_lex.h"
#include "mail_search.h"
#include "imap_section.h"

#define FUZZ_MAX_INPUT	(64 * 1024)

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_message_address: %s\n", what);
    abort();
}

static void check_addresses(const char *text, size_t len)
{
    MESSAGE_ADDRESS_LIST list = {0};
    MESSAGE_ADDRESS_LIST again = {0};
    int     in_group = 0;

    message_address_parse(&list, text, len, MESSAGE_ADDRESS_FILL_MISSING);
    for (int i = 0; i < list.count; i++) {
	const MESSAGE_ADDRESS *a = list.addrs + i;

	if (MESSAGE_ADDRESS_IS_GROUP_START(a)) {
	    if (in_group)
		fail("nested group");
	    in_group = 1;
	} else if (MESSAGE_ADDRESS_IS_GROUP_END(a)) {
	    if (!in_group)
		fail("group end without a start");
	    in_group = 0;
	} else if (a->mailbox == 0 || a->host == 0 || *a->host == 0) {
	    fail("a mailbox without mailbox or host");
	}
    }
    if (in_group)
	fail("group not closed");
    message_address_parse(&again, "x@y", 3, MESSAGE_ADDRESS_FILL_MISSING);
    message_address_parse(&again, text, len, MESSAGE_ADDRESS_FILL_MISSING);
    if (again.count != list.count + 1)
	fail("appending to a list changes the entries");
    for (int i = 0; i < list.count; i++) {
	const MESSAGE_ADDRESS *a = list.addrs + i, *b = again.addrs + i + 1;

	if (!a->mailbox != !b->mailbox || !a->host != !b->host
	    || (a->mailbox && strcmp(a->mailbox, b->mailbox) != 0)
	    || (a->host && strcmp(a->host, b->host) != 0))
	    fail("appending to a list changes the entries");
    }
    message_address_list_free(&list);
    message_address_list_free(&again);
}

static void check_date(const char *text, size_t len)
{
    int     zone = 0;
    time_t  when = message_date_parse(text, len, &zone);

    if (when != (time_t) -1 && (zone < -(99 * 60 + 59) || zone > 99 * 60 + 59))
	fail("zone out of range");
}

static void check_content_type(const char *text, size_t len)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *subtype = vstring_alloc(16);
    MESSAGE_PARAM *params;
    int     count;

    if (message_content_type(text, len, type, subtype, &params, &count) == 0) {
	if (LEN(type) == 0 || LEN(subtype) == 0)
	    fail("well-formed Content-Type with an empty type or subtype");
	for (size_t i = 0; i < LEN(type); i++)
	    if (!rfc822_is_token_char((unsigned char) STR(type)[i]))
		fail("type with a non-token character");
	for (int i = 0; i < count; i++)
	    if (params[i].name == 0 || params[i].value == 0)
		fail("parameter without name or value");
    } else if (count != 0) {
	fail("parameters of a broken Content-Type");
    }
    message_params_free(params, count);
    vstring_free(type);
    vstring_free(subtype);
}

/* valid_utf8 - TEXT is well-formed UTF-8 (overlong forms aside) */

static int valid_utf8(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;

    for (size_t i = 0; i < len;) {
	size_t  n = p[i] < 0x80 ? 1 : p[i] >= 0xc2 && p[i] < 0xe0 ? 2
	: p[i] >= 0xe0 && p[i] < 0xf0 ? 3 : p[i] >= 0xf0 && p[i] < 0xf5 ? 4 : 0;

	if (n == 0 || i + n > len)
	    return (0);
	for (size_t k = 1; k < n; k++)
	    if ((p[i + k] & 0xc0) != 0x80)
		return (0);
	i += n;
    }
    return (1);
}

static void check_decode(const char *text, size_t len)
{
    VSTRING *out = vstring_alloc(64);

    message_header_decode(out, text, len);
    if (!valid_utf8(STR(out), LEN(out)))
	fail("decoded header is not valid UTF-8");
    vstring_free(out);
}

static void check_section(const char *text, size_t len)
{
    IMAP_SECTION sec;
    VSTRING *why = vstring_alloc(16);

    if (imap_section_parse(&sec, text, len, why) == 0) {
	for (int i = 0; i < sec.part_count; i++)
	    if (sec.parts[i] < 1)
		fail("part number 0");
	if (sec.what < IMAP_SECTION_ALL || sec.what > IMAP_SECTION_MIME)
	    fail("unknown section kind");
	if ((sec.field_count > 0) != (sec.what == IMAP_SECTION_HEADER_FIELDS
				      || sec.what == IMAP_SECTION_HEADER_FIELDS_NOT))
	    fail("field names with the wrong kind of section");
	if (sec.what == IMAP_SECTION_MIME && sec.part_count == 0)
	    fail("MIME without a part number");
	imap_section_free(&sec);
    } else if (LEN(why) == 0) {
	fail("a section refused without a reason");
    }
    vstring_free(why);
}

static void check_search(const char *text, size_t len)
{
    size_t  start = len / 3, end = start + (len / 3 < 16 ? len / 3 : 16);
    MAIL_SEARCH *search;

    /* A piece of valid UTF-8 that starts and ends between characters */
    if (!valid_utf8(text, len))
	return;
    while (start < len && (text[start] & 0xc0) == 0x80)
	start++;
    while (end < len && (text[end] & 0xc0) == 0x80)
	end++;
    if (end < start)
	end = start;
    if (!mail_search_text(text + start, end - start, text, len))
	fail("a text does not contain a piece of itself");
    search = mail_search_create(text + start, end - start);
    for (size_t i = 0; i < len; i++)
	(void) mail_search_feed(search, text + i, 1);
    if (!mail_search_found(search))
	fail("a text fed a byte at a time does not contain a piece of itself");
    mail_search_free(search);
}

int     LLVMFuzzerInitialize(int *argc, char **argv[])
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_message_address", 0);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    check_addresses(text, size);
    check_date(text, size);
    check_content_type(text, size);
    check_decode(text, size);
    check_section(text, size);
    check_search(text, size);
    return (0);
}
