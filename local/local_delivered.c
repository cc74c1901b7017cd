/*
 * local_delivered.c - the Delivered-To: headers of the message being
 * delivered, for mail forwarding loop detection (as Postfix's local(8)).
 *
 * The message headers are read once per request from the queue file (at
 * most LOCAL_HEADER_LIMIT bytes, up to the first empty line); every
 * "Delivered-To:" value is kept, lower case.  local_delivered_find()
 * then tells whether a recipient is among them: mail that arrives for a
 * recipient it was already delivered to has looped.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "vstring.h"
#include "local.h"

#define LOCAL_HEADER_LIMIT	(1024 * 1024)

typedef struct LOCAL_HEADERS {
    VSTRING *text;
    int     complete;			/* the empty line was seen */
} LOCAL_HEADERS;

/* local_collect - qfile_read_content callback: stop after the headers */

static int local_collect(const char *data, size_t len, void *ctx)
{
    LOCAL_HEADERS *hdr = ctx;
    const char *end;

    vstring_memcat(hdr->text, data, len);
    if ((end = strstr(STR(hdr->text), "\n\n")) != 0 || *STR(hdr->text) == '\n') {
	vstring_truncate(hdr->text, *STR(hdr->text) == '\n' ? 0 :
			 (size_t) (end - STR(hdr->text)) + 1);
	hdr->complete = 1;
	return (1);
    }
    if (LEN(hdr->text) >= LOCAL_HEADER_LIMIT) {
	hdr->complete = 1;
	return (1);
    }
    return (0);
}

/* local_delivered_parse - the Delivered-To: values of TEXT */

static void local_delivered_parse(char *text, ADDR_LIST *list)
{
    static const char name[] = "delivered-to:";
    VSTRING *value = vstring_alloc(100);
    char   *line;

    while ((line = strsep(&text, "\n")) != 0) {
	if (strncasecmp(line, name, sizeof(name) - 1) != 0)
	    continue;
	line += sizeof(name) - 1;
	line += strspn(line, " \t");
	vstring_strcpy(value, line);
	while (LEN(value) > 0 && isspace((unsigned char) STR(value)[LEN(value) - 1]))
	    vstring_truncate(value, LEN(value) - 1);
	addr_list_add(list, STR(vstring_lowercase(value)));
    }
    vstring_free(value);
}

int     local_delivered_find(LOCAL_STATE *state, const char *addr, VSTRING *why)
{
    LOCAL_HEADERS hdr;
    int     ret;

    if (state->delivered_read == 0) {
	hdr.text = vstring_alloc(1000);
	hdr.complete = 0;
	ret = qfile_read_content(state->qfile, &state->env, local_collect, &hdr, why);
	if (ret == 0 || (ret > 0 && hdr.complete)) {
	    local_delivered_parse(STR(hdr.text), &state->delivered);
	    state->delivered_read = 1;
	} else {
	    state->delivered_read = -1;
	}
	vstring_free(hdr.text);
    }
    if (state->delivered_read < 0) {
	if (LEN(why) == 0)
	    vstring_strcpy(why, "cannot read message headers");
	return (-1);
    }
    for (int i = 0; i < state->delivered.count; i++)
	if (strcasecmp(state->delivered.addrs[i], addr) == 0)
	    return (1);
    return (0);
}
