/*
 * table_source.c - read the text files that tables are made from.
 *
 * The logical-line reader (dict_lines_*, declared in dict_private.h) is
 * Postfix's readllines(): blank and '#' lines are skipped, a line that
 * starts with white space continues the previous one, and its text is
 * appended as is (so "a b\n   c" gives "a b   c", as Postfix does).
 * table_source_next() splits logical lines in one of two formats:
 *
 * TABLE_SOURCE_POSTMAP, as postmap(1): the key ends at the first white
 * space outside double quotes (a backslash escapes the next character;
 * the key keeps its quotes), the value is the rest, trimmed.
 *
 * TABLE_SOURCE_ALIASES, as postalias(1): the line is split into RFC 822
 * tokens; the name is what precedes the first ':' token, unquoted
 * ("a b": x gives the name a b); the value is re-joined from its tokens
 * (", " after each comma, one space between words, quoted strings kept).
 *
 * Bad lines are warned about with the file name and line number in
 * Postfix's wording and skipped; a read error ends the file with -1.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dict_private.h"
#include "table_source.h"

#define SPACE_CHARS	" \t\r\n\v\f"

/* Logical lines */

struct DICT_LINES {
    VSTREAM *fp;
    char   *name;
    VSTRING *phys;			/* the current physical line */
    int     pending;			/* phys read but not yet used */
    int     lineno;			/* physical lines read so far */
    int     eof;
};

DICT_LINES *dict_lines_open(VSTREAM *fp, const char *name)
{
    DICT_LINES *lp = (DICT_LINES *) mycalloc(1, sizeof(*lp));

    lp->fp = fp;
    lp->name = mystrdup(name);
    lp->phys = vstring_alloc(200);
    return (lp);
}

void    dict_lines_free(DICT_LINES *lp)
{
    vstring_free(lp->phys);
    myfree(lp->name);
    myfree(lp);
}

/* lines_skip_rest - discard the rest of an over-long physical line */

static void lines_skip_rest(DICT_LINES *lp)
{
    int     ch;

    do {
	ch = vstream_get_line(lp->fp, lp->phys, DICT_LINE_MAX);
    } while (ch != '\n' && ch != VSTREAM_EOF);
    vstring_reset(lp->phys);
}

/* lines_read - the next physical line, without '\n'; 1, 0 at EOF, -1 error */

static int lines_read(DICT_LINES *lp)
{
    int     ch;

    if (lp->eof)
	return (0);
    ch = vstream_get_line(lp->fp, lp->phys, DICT_LINE_MAX);
    if (ch == VSTREAM_EOF) {
	lp->eof = 1;
	if (vstream_error(lp->fp)) {
	    msg_warn("read %s: %s", lp->name, strerror(errno ? errno : EIO));
	    return (-1);
	}
	return (0);
    }
    lp->lineno++;
    if (ch == '\n') {
	vstring_truncate(lp->phys, LEN(lp->phys) - 1);
    } else if (LEN(lp->phys) >= DICT_LINE_MAX) {
	msg_warn("%s, line %d: line too long (more than %d bytes)"
		 " -- ignoring this line", lp->name, lp->lineno, DICT_LINE_MAX);
	lines_skip_rest(lp);
    }
    /* binary junk: text after a NUL byte is not used */
    vstring_truncate(lp->phys, strlen(STR(lp->phys)));
    return (1);
}

/* lines_gather - one logical line (may start with space); 1, 0 EOF, -1 */

static int lines_gather(DICT_LINES *lp, VSTRING *buf, int *start)
{
    int     status;
    int     too_long = 0;
    int     started = 0;
    const char *cp;

    vstring_reset(buf);
    for (;;) {
	if (!lp->pending && (status = lines_read(lp)) <= 0) {
	    if (status < 0)
		return (-1);
	    break;
	}
	lp->pending = 0;
	cp = STR(lp->phys) + strspn(STR(lp->phys), SPACE_CHARS);
	if (*cp == 0 || *cp == '#')
	    continue;
	if (started && !isspace((unsigned char) *STR(lp->phys))) {
	    lp->pending = 1;
	    break;
	}
	if (!started) {
	    started = 1;
	    *start = lp->lineno;
	}
	if (too_long)
	    continue;
	if (LEN(buf) + LEN(lp->phys) > DICT_LINE_MAX) {
	    msg_warn("%s, line %d: logical line too long (more than %d bytes)"
		     " -- ignoring this line", lp->name, *start, DICT_LINE_MAX);
	    too_long = 1;
	    vstring_reset(buf);
	    continue;
	}
	vstring_memcat(buf, STR(lp->phys), LEN(lp->phys));
    }
    return (started ? 1 : 0);
}

int     dict_lines_next(DICT_LINES *lp, VSTRING *buf, int *lineno)
{
    int     status;
    int     start = 0;

    for (;;) {
	if ((status = lines_gather(lp, buf, &start)) <= 0)
	    return (status);
	if (LEN(buf) == 0)			/* was too long */
	    continue;
	if (isspace((unsigned char) *STR(buf))) {
	    msg_warn("%s: logical line must not start with whitespace: \"%.30s%s\"",
		     lp->name, STR(buf), LEN(buf) > 30 ? "..." : "");
	    continue;
	}
	*lineno = start;
	return (1);
    }
}

/* Table sources */

struct TABLE_SOURCE {
    VSTREAM *fp;
    int     owned;			/* we opened fp, so we close it */
    char   *name;
    int     format;
    int     lineno;
    DICT_LINES *lines;
    VSTRING *line;
    VSTRING *key;
    VSTRING *value;
    VSTRING *tokens;			/* ALIASES: token text */
};

TABLE_SOURCE *table_source_stream(VSTREAM *in, const char *name, int format)
{
    TABLE_SOURCE *src = (TABLE_SOURCE *) mycalloc(1, sizeof(*src));

    if (format != TABLE_SOURCE_POSTMAP && format != TABLE_SOURCE_ALIASES)
	msg_panic("table_source_stream: bad format %d", format);
    src->fp = in;
    src->name = mystrdup(name);
    src->format = format;
    src->lines = dict_lines_open(in, name);
    src->line = vstring_alloc(200);
    src->key = vstring_alloc(100);
    src->value = vstring_alloc(200);
    src->tokens = vstring_alloc(200);
    return (src);
}

TABLE_SOURCE *table_source_open(const char *path, int format)
{
    VSTREAM *fp;
    TABLE_SOURCE *src;

    if (path == 0 || strcmp(path, "-") == 0)
	return (table_source_stream(vstream_stdin(), "stdin", format));
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	return (0);
    src = table_source_stream(fp, path, format);
    src->owned = 1;
    return (src);
}

void    table_source_close(TABLE_SOURCE *src)
{
    if (src->owned)
	(void) vstream_close(src->fp);
    dict_lines_free(src->lines);
    vstring_free(src->line);
    vstring_free(src->key);
    vstring_free(src->value);
    vstring_free(src->tokens);
    myfree(src->name);
    myfree(src);
}

int     table_source_lineno(const TABLE_SOURCE *src)
{
    return (src->lineno);
}

const char *table_source_name(const TABLE_SOURCE *src)
{
    return (src->name);
}

/* trim_right - remove trailing white space in place */

static void trim_right(char *text)
{
    char   *end = text + strlen(text);

    while (end > text && isspace((unsigned char) end[-1]))
	*--end = 0;
}

/* postmap_split - "key whitespace value"; 1 done, 0 bad line (warned) */

static int postmap_split(TABLE_SOURCE *src)
{
    char   *key = STR(src->line);
    char   *cp;
    int     in_quotes = 0;

    for (cp = key; *cp; cp++) {
	if (*cp == '\\') {
	    if (*++cp == 0)
		break;
	} else if (isspace((unsigned char) *cp)) {
	    if (!in_quotes)
		break;
	} else if (*cp == '"') {
	    in_quotes = !in_quotes;
	}
    }
    if (in_quotes) {
	msg_warn("%s, line %d: unbalanced '\"' in '%s' -- ignoring this line",
		 src->name, src->lineno, key);
	return (0);
    }
    if (*cp)
	*cp++ = 0;
    cp += strspn(cp, SPACE_CHARS);
    trim_right(cp);
    if (*key == 0 || *cp == 0) {
	msg_warn("%s, line %d: expected format: key whitespace value",
		 src->name, src->lineno);
	return (0);
    }
    if (key[strlen(key) - 1] == ':')
	msg_warn("%s, line %d: record is in \"key: value\" format;"
		 " is this an alias file?", src->name, src->lineno);
    vstring_strcpy(src->key, key);
    vstring_strcpy(src->value, cp);
    return (1);
}

/*
 * RFC 822 tokens for the aliases format.  Each token is a type and its
 * text in src->tokens: TOK_ATOM (backslash escapes resolved), TOK_QSTRING
 * and TOK_COMMENT and TOK_DOMLIT (verbatim, with delimiters), or one
 * special character as its own type.
 */
#define TOK_ATOM	256
#define TOK_QSTRING	257
#define TOK_COMMENT	258
#define TOK_DOMLIT	259
#define TOK_SPECIALS	"()<>@,;:\\\".[]"
#define TOK_IS_WORD(t)	((t) >= TOK_ATOM)

typedef struct TOKEN {
    int     type;
    size_t  offset;			/* text in src->tokens */
    size_t  len;
} TOKEN;

typedef struct TOKENS {
    TOKEN  *list;
    int     count;
    int     size;
} TOKENS;

static void tok_add(TOKENS *tl, int type, size_t offset, size_t len)
{
    if (tl->count == tl->size) {
	tl->size = tl->size ? 2 * tl->size : 16;
	tl->list = (TOKEN *) myrealloc(tl->list, tl->size * sizeof(*tl->list));
    }
    tl->list[tl->count].type = type;
    tl->list[tl->count].offset = offset;
    tl->list[tl->count++].len = len;
}

/* tok_delimited - copy "..." (CLOSE '"'), (...) or [...] from *CPP; closes it if unterminated */

static void tok_delimited(VSTRING *out, const char **cpp, int open, int close)
{
    const char *cp = *cpp + 1;
    int     level = 1;

    vstring_addch(out, open);
    for (; *cp; cp++) {
	if (*cp == '\\' && cp[1]) {
	    vstring_addch(out, *cp++);
	} else if (*cp == close && --level == 0) {
	    break;
	} else if (open == '(' && *cp == '(') {
	    level++;
	}
	vstring_addch(out, *cp);
    }
    vstring_addch(out, close);
    *cpp = *cp ? cp + 1 : cp;
}

/* tok_scan - split TEXT into tokens */

static void tok_scan(TABLE_SOURCE *src, TOKENS *tl, const char *cp)
{
    VSTRING *out = src->tokens;
    size_t  start;

    vstring_reset(out);
    while (*cp) {
	if (isspace((unsigned char) *cp)) {
	    cp++;
	    continue;
	}
	start = LEN(out);
	if (*cp == '"' || *cp == '(' || *cp == '[') {
	    int     type = *cp == '"' ? TOK_QSTRING : *cp == '(' ? TOK_COMMENT : TOK_DOMLIT;

	    tok_delimited(out, &cp, *cp, *cp == '"' ? '"' : *cp == '(' ? ')' : ']');
	    tok_add(tl, type, start, LEN(out) - start);
	} else if (*cp != '\\' && strchr(TOK_SPECIALS, *cp) != 0) {
	    tok_add(tl, (unsigned char) *cp++, start, 0);
	} else {
	    for (; *cp && !isspace((unsigned char) *cp); cp++) {
		if (*cp == '\\') {
		    if (cp[1] == 0)
			break;
		    cp++;
		} else if (strchr(TOK_SPECIALS, *cp) != 0) {
		    break;
		}
		vstring_addch(out, *cp);
	    }
	    if (*cp == '\\' && cp[1] == 0)
		cp++;
	    if (LEN(out) > start)
		tok_add(tl, TOK_ATOM, start, LEN(out) - start);
	}
    }
}

/* tok_text - the text of token TP */

static const char *tok_text(TABLE_SOURCE *src, const TOKEN *tp)
{
    return (STR(src->tokens) + tp->offset);
}

/* tok_internalize - the name: quotes removed, one space between words */

static void tok_internalize(TABLE_SOURCE *src, VSTRING *out, TOKEN *tp, int count)
{
    vstring_reset(out);
    for (int i = 0; i < count; i++, tp++) {
	const char *text = tok_text(src, tp);

	if (!TOK_IS_WORD(tp->type)) {
	    vstring_addch(out, tp->type);
	    continue;
	}
	if (i > 0 && TOK_IS_WORD(tp[-1].type))
	    vstring_addch(out, ' ');
	if (tp->type != TOK_QSTRING) {
	    vstring_memcat(out, text, tp->len);
	    continue;
	}
	for (size_t n = 1; n + 1 < tp->len; n++) {
	    if (text[n] == '\\' && n + 2 < tp->len)
		n++;
	    vstring_addch(out, text[n]);
	}
    }
}

/* tok_quote_atom - an atom that holds specials or space is written quoted */

static void tok_quote_atom(VSTRING *out, const char *text, size_t len)
{
    size_t  n;

    for (n = 0; n < len; n++)
	if (strchr(TOK_SPECIALS, text[n]) || isspace((unsigned char) text[n]))
	    break;
    if (n == len) {
	vstring_memcat(out, text, len);
	return;
    }
    vstring_addch(out, '"');
    for (n = 0; n < len; n++) {
	if (text[n] == '"' || text[n] == '\\')
	    vstring_addch(out, '\\');
	vstring_addch(out, text[n]);
    }
    vstring_addch(out, '"');
}

/* tok_externalize - the value: ", " after commas, one space between words */

static void tok_externalize(TABLE_SOURCE *src, VSTRING *out, TOKEN *tp, int count)
{
    vstring_reset(out);
    for (int i = 0; i < count; i++, tp++) {
	if (tp->type == ',') {
	    trim_right(STR(out));
	    vstring_truncate(out, strlen(STR(out)));
	    vstring_strcat(out, ", ");
	} else if (!TOK_IS_WORD(tp->type)) {
	    vstring_addch(out, tp->type);
	} else {
	    if (i > 0 && TOK_IS_WORD(tp[-1].type))
		vstring_addch(out, ' ');
	    if (tp->type == TOK_ATOM)
		tok_quote_atom(out, tok_text(src, tp), tp->len);
	    else
		vstring_memcat(out, tok_text(src, tp), tp->len);
	}
    }
    trim_right(STR(out));
    vstring_truncate(out, strlen(STR(out)));
}

/* tok_find - a TYPE token among COUNT, or an atom holding IN_ATOM */

static int tok_find(TABLE_SOURCE *src, const TOKEN *tp, int count,
		            int type, int in_atom)
{
    for (int i = 0; i < count; i++, tp++) {
	if (tp->type == type)
	    return (1);
	if (in_atom && tp->type == TOK_ATOM
	    && memchr(tok_text(src, tp), in_atom, tp->len) != 0)
	    return (1);
    }
    return (0);
}

/* aliases_split - "name: value"; 1 done, 0 bad or empty line */

static int aliases_split(TABLE_SOURCE *src)
{
    TOKENS  tl = {0, 0, 0};
    int     colon;
    int     status = 0;

    tok_scan(src, &tl, STR(src->line));
    for (colon = 0; colon < tl.count && tl.list[colon].type != ':'; colon++)
	 /* void */ ;
    if (tl.count == 0) {
	/* nothing to do */
    } else if (colon == 0 || colon >= tl.count - 1) {
	msg_warn("%s, line %d: need name:value pair", src->name, src->lineno);
    } else {
	tok_internalize(src, src->key, tl.list, colon);
	if (LEN(src->key) == 0 || tok_find(src, tl.list, colon, ',', 0)) {
	    msg_warn("%s, line %d: need name:value pair", src->name, src->lineno);
	} else if (tok_find(src, tl.list, colon, '@', '%')) {
	    msg_warn("%s, line %d: name must be local", src->name, src->lineno);
	} else {
	    tok_externalize(src, src->value, tl.list + colon + 1,
			    tl.count - colon - 1);
	    status = 1;
	}
    }
    if (tl.list)
	myfree(tl.list);
    return (status);
}

int     table_source_next(TABLE_SOURCE *src, const char **key, const char **value)
{
    int     status;
    int     ok;

    for (;;) {
	if ((status = dict_lines_next(src->lines, src->line, &src->lineno)) <= 0)
	    return (status);
	if (src->format == TABLE_SOURCE_POSTMAP)
	    ok = postmap_split(src);
	else
	    ok = aliases_split(src);
	if (ok) {
	    *key = STR(src->key);
	    *value = STR(src->value);
	    return (1);
	}
    }
}
