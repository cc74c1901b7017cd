/*
 * imap_bodystructure.c - FETCH BODY and BODYSTRUCTURE (imap_bodystructure.h).
 *
 * Recursion follows the tree, which message_parse() keeps within
 * MESSAGE_DEPTH_MAX levels.
 */
#include "sys_defs.h"
#include <strings.h>
#include "vstring.h"
#include "message_part.h"
#include "message_content.h"
#include "imap_quote.h"
#include "imap_envelope.h"
#include "imap_bodystructure.h"

#define EMPTY_BODY \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

static void write_part(VSTRING *out, const MESSAGE_PART *part, int extended);

/* append_str - a string that is never NIL */

static void append_str(VSTRING *out, const char *text)
{
    imap_append_string(out, text, strlen(text));
}

/* write_params - ("name" "value" ...), NIL, or the default charset */

static void write_params(VSTRING *out, const MESSAGE_PARAM *params, int count,
			         int default_charset)
{
    int     have_charset = 0;

    if (count == 0 && !default_charset) {
	vstring_strcat(out, "NIL");
	return;
    }
    vstring_addch(out, '(');
    for (int i = 0; i < count; i++) {
	if (i > 0)
	    vstring_addch(out, ' ');
	if (strcasecmp(params[i].name, "charset") == 0)
	    have_charset = 1;
	append_str(out, params[i].name);
	vstring_addch(out, ' ');
	append_str(out, params[i].value);
    }
    if (default_charset && !have_charset) {
	if (count > 0)
	    vstring_addch(out, ' ');
	vstring_strcat(out, "\"charset\" \"us-ascii\"");
    }
    vstring_addch(out, ')');
}

/* write_extension - disposition, language and location */

static void write_extension(VSTRING *out, const MESSAGE_PART *part)
{
    char  **tags;

    vstring_addch(out, ' ');
    if (part->disposition == 0) {
	vstring_strcat(out, "NIL");
    } else {
	vstring_addch(out, '(');
	append_str(out, part->disposition);
	vstring_addch(out, ' ');
	write_params(out, part->disp_params, part->disp_param_count, 0);
	vstring_addch(out, ')');
    }

    vstring_addch(out, ' ');
    if (part->language == 0
	|| message_content_languages(part->language, strlen(part->language),
				     &tags) == 0) {
	vstring_strcat(out, "NIL");
    } else {
	vstring_addch(out, '(');
	for (char **cp = tags; *cp; cp++) {
	    if (cp > tags)
		vstring_addch(out, ' ');
	    append_str(out, *cp);
	}
	vstring_addch(out, ')');
    }
    if (part->language)
	message_languages_free(tags);

    vstring_addch(out, ' ');
    imap_envelope_nstring_nolf(out, part->location);
}

/* write_multipart - the parts, the subtype and the extension data */

static void write_multipart(VSTRING *out, const MESSAGE_PART *part,
			            int extended)
{
    if (part->child_count == 0) {
	vstring_strcat(out, EMPTY_BODY);
	vstring_strcat(out, extended ? " NIL NIL NIL NIL)" : ")");
    }
    for (int i = 0; i < part->child_count; i++)
	write_part(out, part->children + i, extended);
    vstring_addch(out, ' ');
    append_str(out, part->subtype);
    if (!extended)
	return;
    vstring_addch(out, ' ');
    write_params(out, part->params, part->param_count, 0);
    write_extension(out, part);
}

/* write_single - a leaf or a message/rfc822 part */

static void write_single(VSTRING *out, const MESSAGE_PART *part, int extended)
{
    int     is_message = (part->kind == MESSAGE_PART_MESSAGE);
    int     is_text = !is_message && strcasecmp(part->type, "text") == 0;

    if (is_message) {
	vstring_strcat(out, "\"message\" \"rfc822\"");
    } else {
	append_str(out, part->type);
	vstring_addch(out, ' ');
	append_str(out, part->subtype);
    }
    vstring_addch(out, ' ');
    write_params(out, part->params, part->param_count, is_text);
    vstring_addch(out, ' ');
    imap_envelope_nstring_nolf(out, part->id);
    vstring_addch(out, ' ');
    imap_envelope_nstring_nolf(out, part->description);
    vstring_addch(out, ' ');
    if (part->encoding)
	append_str(out, part->encoding);
    else
	vstring_strcat(out, "\"7bit\"");
    vstring_sprintf_append(out, " %lld", (long long) part->body_vsize);

    if (is_text) {
	vstring_sprintf_append(out, " %u", part->body_lines);
    } else if (is_message && part->child_count == 1) {
	vstring_addch(out, ' ');
	imap_envelope(out, part->children);
	vstring_addch(out, ' ');
	write_part(out, part->children, extended);
	vstring_sprintf_append(out, " %u", part->body_lines);
    }
    if (!extended)
	return;
    vstring_addch(out, ' ');
    imap_envelope_nstring_nolf(out, part->md5);
    write_extension(out, part);
}

/* write_part - one parenthesized body */

static void write_part(VSTRING *out, const MESSAGE_PART *part, int extended)
{
    vstring_addch(out, '(');
    if (part->kind == MESSAGE_PART_MULTIPART)
	write_multipart(out, part, extended);
    else
	write_single(out, part, extended);
    vstring_addch(out, ')');
}

void    imap_bodystructure(VSTRING *out, const MESSAGE_PART *part, int extended)
{
    write_part(out, part, extended);
}
