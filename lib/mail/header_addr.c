/*
 * header_addr.c - rewrite the addresses of an address header; see
 * header_addr.h.
 *
 * One pass over the value finds the spans to replace: the inside of each
 * <...>, and each bare mailbox - one word with an '@', alone between
 * separators (',' ';', a group's ':', or the ends).  Quoted strings and
 * comments are stepped over as wholes; an unbalanced one ends the search
 * (what was found before it still counts).  Then the value is copied with
 * the replacements that FN gave.
 */
#include "sys_defs.h"
#include "mymalloc.h"
#include "vstring.h"
#include "header_addr.h"

typedef struct SPAN {
    size_t  start, end;			/* value[start..end) */
} SPAN;

typedef struct SCAN {
    const char *p;
    size_t  len;
    SPAN   *spans;
    int     count, size;
} SCAN;

/* skip_quoted - from the '"' at I: the index after the closing one, or 0 */

static size_t skip_quoted(const SCAN *s, size_t i)
{
    for (i++; i < s->len; i++) {
	if (s->p[i] == '\\' && i + 1 < s->len)
	    i++;
	else if (s->p[i] == '"')
	    return (i + 1);
    }
    return (0);
}

/* skip_comment - from the '(' at I (nested): the index after it, or 0 */

static size_t skip_comment(const SCAN *s, size_t i)
{
    int     depth = 0;

    for (; i < s->len; i++) {
	if (s->p[i] == '\\' && i + 1 < s->len)
	    i++;
	else if (s->p[i] == '(')
	    depth++;
	else if (s->p[i] == ')' && --depth == 0)
	    return (i + 1);
    }
    return (0);
}

static void add_span(SCAN *s, size_t start, size_t end)
{
    if (s->count == s->size) {
	s->size = s->size ? 2 * s->size : 8;
	s->spans = (SPAN *) myrealloc(s->spans, sizeof(SPAN) * s->size);
    }
    s->spans[s->count].start = start;
    s->spans[s->count++].end = end;
}

/* angle - the <...> at I: its addr-spec as a span; the index after '>', or 0 */

static size_t angle(SCAN *s, size_t i)
{
    size_t  start = i + 1, j;

    j = start;
    while (j < s->len && s->p[j] != '>') {
	if (s->p[j] == '<')
	    return (0);
	if (s->p[j] == '"') {
	    if ((j = skip_quoted(s, j)) == 0)
		return (0);
	    continue;
	}
	j++;
    }
    if (j >= s->len)
	return (0);
    if (s->p[start] == '@') {			/* a source route stays */
	while (start < j && s->p[start] != ':')
	    start++;
	if (start < j)
	    start++;
    }
    if (memchr(s->p + start, '@', j - start))
	add_span(s, start, j);
    return (j + 1);
}

/* find_spans - the addresses of the value; 0, or -1 when it is not sane */

static int find_spans(SCAN *s)
{
    size_t  i = 0, word_start = 0, word_end = 0, next;
    int     words = 0, in_word = 0, has_at = 0, has_angle = 0;

#define END_MAILBOX() do { \
	if (words == 1 && has_at && !has_angle) \
	    add_span(s, word_start, word_end); \
	words = in_word = has_at = has_angle = 0; \
    } while (0)

    while (i < s->len) {
	char    c = s->p[i];

	if (c == '(') {
	    if ((next = skip_comment(s, i)) == 0)
		return (-1);
	    in_word = 0;
	    i = next;
	} else if (c == '<') {
	    if ((next = angle(s, i)) == 0)
		return (-1);
	    has_angle = 1;
	    in_word = 0;
	    i = next;
	} else if (c == ',' || c == ';' || c == ':') {
	    END_MAILBOX();
	    i++;
	} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
	    in_word = 0;
	    i++;
	} else {
	    if (!in_word) {
		words++;
		in_word = 1;
		word_start = i;
	    }
	    if (c == '"') {
		if ((next = skip_quoted(s, i)) == 0)
		    return (-1);
		i = next;
	    } else {
		has_at |= (c == '@');
		i++;
	    }
	    word_end = i;
	}
    }
    END_MAILBOX();
    return (0);
}

int     header_addr_rewrite(const char *value, size_t len, VSTRING *out,
			            HEADER_ADDR_FN fn, void *ctx)
{
    SCAN    s = {value, len, 0, 0, 0};
    VSTRING *addr = vstring_alloc(100);
    VSTRING *result = vstring_alloc(100);
    size_t  done = 0;
    int     changed = 0;

    vstring_reset(out);
    (void) find_spans(&s);			/* what was found before trouble */
    for (int k = 0; k < s.count; k++) {
	if (memchr(value + s.spans[k].start, 0, s.spans[k].end - s.spans[k].start))
	    continue;				/* not a C string: as it is */
	vstring_memcpy(addr, value + s.spans[k].start, s.spans[k].end - s.spans[k].start);
	vstring_reset(result);
	if (fn(STR(addr), result, ctx) != 1)
	    continue;
	vstring_memcat(out, value + done, s.spans[k].start - done);
	vstring_memcat(out, STR(result), LEN(result));
	done = s.spans[k].end;
	changed++;
    }
    vstring_memcat(out, value + done, len - done);
    if (s.spans)
	myfree(s.spans);
    vstring_free(addr);
    vstring_free(result);
    return (changed);
}
