/*
 * imap_parser.c - IMAP command lines, parsed incrementally (imap_parser.h).
 *
 * The parser is a state machine that looks at every byte once, so input
 * fed in pieces of any size gives the same result, and the work is linear
 * in the input.  Literal data, and data being skipped, is taken in bulk.
 *
 * While a command is read, each argument is a NODE, kept in the order the
 * arguments start; a list links its elements (first, next).  Node 0 is the
 * command itself, the parent of the top-level arguments.  The text of
 * atoms, unescaped quoted strings and literals goes into one buffer, each
 * piece followed by a NUL.  When the line is complete the nodes are laid
 * out as imap_parser.h's IMAP_ARG arrays: the top-level arguments first,
 * then the elements of each list, contiguous, breadth first.
 *
 * Details the header leaves open:
 *   - a tag is 1*<ASTRING-CHAR except "+">; a command name is 1*ATOM-CHAR;
 *   - one or more spaces separate arguments, and spaces before ")" or the
 *     end of the line are ignored (as Dovecot); an argument that follows
 *     another without a space is an error: a"b", (a)(b);
 *   - a line may end with CRLF or a bare LF; a CR not followed by LF is an
 *     error;
 *   - "]" is an atom character (ASTRING-CHAR: mailbox names, tags); "["
 *     starts a bracketed part that may hold any CHAR but CR and LF (NUL
 *     and 8-bit are errors there too), ends at the matching "]" (nested
 *     brackets counted), and must be closed before the atom ends;
 *   - "\" is an atom character only at the start of an atom;
 *   - the atom NIL (any case) is IMAP_ARG_NIL; its data is the text as
 *     sent.  IMAP_ARG_LIST and IMAP_ARG_LITERAL_EXT have no data (NULL);
 *   - a literal may hold any byte, NUL included (its LEN says how many);
 *     "{N+}" and "~{N+}" are non-synchronizing (RFC 7888 covers both);
 *     a size beyond 2^63-1 counts as too large;
 *   - the line length counts every byte outside literal data but CR and
 *     LF; the argument count counts every argument, lists included;
 *   - imap_parser_tag() is there as soon as the space after the tag was
 *     read, imap_parser_name() as soon as the name was (so a caller that
 *     sees imap_parser_literal_pending() can tell an APPEND);
 *   - every result but IMAP_PARSE_MORE uses at least one byte; feeding
 *     again after IMAP_PARSE_DONE or IMAP_PARSE_ERROR without
 *     imap_parser_reset() is a bug (panic).
 *
 * After an error the rest of the line is skipped.  When the bad line ends
 * with "{N+}" (seen anywhere in the line, before or after the error) the
 * N bytes of that literal are skipped as well and the line goes on after
 * them, so a client's pipelined literal is never read as commands.
 * imap_parser_reset() keeps a skip in progress.
 */
#include "sys_defs.h"
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_quote.h"
#include "imap_parser.h"

#define LITERAL_SIZE_MAX	((uint64_t) INT64_MAX)	/* RFC 7888 number64 */
#define KEEP_TEXT_MAX		(64 * 1024)	/* buffer kept across commands */
#define KEEP_NODES_MAX		1024

typedef struct NODE {
    int     type;
    size_t  off;			/* text offset of data */
    size_t  len;			/* bytes of data */
    int     literal8;
    int     count;			/* LIST: elements */
    int     first;			/* LIST: first element, or -1 */
    int     last;			/* LIST: last element, or -1 */
    int     next;			/* next element of the same list, or -1 */
} NODE;

/* Parser states */
#define ST_TAG		0		/* reading the tag */
#define ST_NAME		1		/* reading the command name */
#define ST_ARG		2		/* expecting an argument, ")" or line end */
#define ST_AFTER_ARG	3		/* after an argument: SP, ")" or line end */
#define ST_ATOM		4
#define ST_BRACKET	5		/* inside an atom's "[...]" */
#define ST_QUOTED	6
#define ST_QUOTED_ESC	7		/* after "\" in a quoted string */
#define ST_LIT_SIZE	8		/* after "{": digits */
#define ST_LIT_PLUS	9		/* after "{N+": "}" */
#define ST_LIT_CLOSE	10		/* after "}": CR or LF */
#define ST_LIT_LF	11		/* after "}" CR: LF */
#define ST_LIT_DATA	12		/* reading a literal's bytes */
#define ST_LIT_REFUSE	13		/* skipping a refused {N+} literal */
#define ST_EOL_LF	14		/* after CR at the end of the line: LF */
#define ST_SKIP_LINE	15		/* after an error: up to the LF */
#define ST_SKIP_LITERAL	16		/* after an error: a {N+} literal */
#define ST_DONE		17		/* command complete */
#define ST_LIT_OFFER	18		/* a big literal offered for streaming */

/* What the skipper has seen of a "{N+}" at the end of a skipped line */
#define BRACE_NONE	0
#define BRACE_DIGITS	1		/* "{" and maybe digits */
#define BRACE_PLUS	2		/* "{N+" */
#define BRACE_CLOSE	3		/* "{N}" or "{N+}" */
#define BRACE_CR	4		/* and CR */

struct IMAP_PARSER {
    IMAP_PARSER_LIMITS limits;
    int     state;
    int     finished;			/* DONE or ERROR returned; reset due */
    const char *error;			/* why ERROR was returned */
    /* The command */
    VSTRING *tag;
    VSTRING *name;
    int     have_tag;
    int     have_name;
    VSTRING *text;			/* argument data, each NUL-terminated */
    NODE   *nodes;			/* nodes[0]: the command */
    int     node_count;
    int     node_size;
    int    *open;			/* open[d]: the list at depth d */
    int     open_size;
    int     depth;
    size_t  line_len;			/* bytes outside literals, no CR/LF */
    int     cur;			/* node being read */
    size_t  bracket_depth;
    /* The literal being announced or read */
    uint64_t lit_size;
    int     lit_digits;
    int     lit_plus;
    uint64_t lit_left;			/* bytes still to read or skip */
    int     lit_ext_taken;		/* a literal was streamed: no more */
    /* Skipping after an error */
    int     brace;			/* BRACE_* */
    uint64_t brace_size;
    int     brace_digits;
    int     brace_plus;
    /* The result, laid out at IMAP_PARSE_DONE */
    IMAP_ARG *args;
    int    *order;			/* args[i] is nodes[order[i]] */
    int     args_size;
    int     arg_count;
};

/* Character classes of RFC 3501 section 9 */

static int is_char(int ch)
{
    return (ch >= 0x01 && ch <= 0x7f);
}

static int is_astring_char(int ch)
{
    return (imap_atom_char(ch) || ch == ']');
}

static int is_tag_char(int ch)
{
    return (is_astring_char(ch) && ch != '+');
}

/* is_arg_atom_char - an atom character of an argument (see above) */

static int is_arg_atom_char(int ch)
{
    return (is_astring_char(ch) || ch == '*' || ch == '%');
}

/* add_digit - N * 10 + DIGIT, saturated beyond LITERAL_SIZE_MAX */

static uint64_t add_digit(uint64_t n, int ch)
{
    uint64_t digit = (uint64_t) (ch - '0');

    if (n > (LITERAL_SIZE_MAX - digit) / 10)
	return (LITERAL_SIZE_MAX + 1);
    return (n * 10 + digit);
}

/* The skipper: the rest of a line after an error */

static void skip_brace_reset(IMAP_PARSER *p)
{
    p->brace = BRACE_NONE;
    p->brace_size = 0;
    p->brace_digits = 0;
    p->brace_plus = 0;
}

/* skip_line_end - the skipped line ends: a {N+} literal follows, or not */

static void skip_line_end(IMAP_PARSER *p)
{
    int     non_sync = (p->brace == BRACE_CLOSE || p->brace == BRACE_CR)
    && p->brace_plus;

    if (non_sync && p->brace_size > 0) {
	p->lit_left = p->brace_size;
	p->state = ST_SKIP_LITERAL;
    } else {
	p->state = ST_TAG;
    }
    skip_brace_reset(p);
}

/*
 * track_brace - follow "{N}", "{N+}" and CR over the bytes of a line, so
 * that a line found bad knows whether it announced a literal.  Every byte
 * outside literal data passes here; LF starts over.
 */
static void track_brace(IMAP_PARSER *p, int ch)
{
    if (ch == '{') {
	skip_brace_reset(p);
	p->brace = BRACE_DIGITS;
    } else if (ch >= '0' && ch <= '9' && p->brace == BRACE_DIGITS) {
	p->brace_size = add_digit(p->brace_size, ch);
	p->brace_digits = 1;
    } else if (ch == '+' && p->brace == BRACE_DIGITS && p->brace_digits) {
	p->brace = BRACE_PLUS;
	p->brace_plus = 1;
    } else if (ch == '}' && ((p->brace == BRACE_DIGITS && p->brace_digits)
			     || p->brace == BRACE_PLUS)) {
	p->brace = BRACE_CLOSE;
    } else if (ch == '\r' && p->brace == BRACE_CLOSE) {
	p->brace = BRACE_CR;
    } else {
	skip_brace_reset(p);
    }
}

/* skip_byte - one byte of a skipped line */

static void skip_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '\n')
	skip_line_end(p);
    else
	track_brace(p, ch);
}

/* parse_error - report WHY; the offending byte CH starts the skip */

static int parse_error(IMAP_PARSER *p, const char *why, int ch)
{
    p->error = why;
    p->state = ST_SKIP_LINE;
    skip_byte(p, ch);
    return (IMAP_PARSE_ERROR);
}

/* Nodes */

/* new_node - a new argument of TYPE in the open list; -1 if too many */

static int new_node(IMAP_PARSER *p, int type)
{
    int     parent = p->open[p->depth];
    NODE   *node;
    int     idx;

    if (p->node_count - 1 >= p->limits.args_max)
	return (-1);
    if (p->node_count == p->node_size) {
	p->node_size *= 2;
	p->nodes = myrealloc(p->nodes, p->node_size * sizeof(*p->nodes));
    }
    idx = p->node_count++;
    node = p->nodes + idx;
    node->type = type;
    node->off = LEN(p->text);
    node->len = 0;
    node->literal8 = 0;
    node->count = 0;
    node->first = node->last = node->next = -1;
    if (p->nodes[parent].last >= 0)
	p->nodes[p->nodes[parent].last].next = idx;
    else
	p->nodes[parent].first = idx;
    p->nodes[parent].last = idx;
    p->nodes[parent].count++;
    p->cur = idx;
    return (idx);
}

/* end_text - the current node's data ends here; NUL-terminate it */

static void end_text(IMAP_PARSER *p)
{
    NODE   *node = p->nodes + p->cur;

    node->len = LEN(p->text) - node->off;
    vstring_addch(p->text, 0);
}

/* end_atom - the atom is complete: NIL, or an ATOM */

static void end_atom(IMAP_PARSER *p)
{
    NODE   *node = p->nodes + p->cur;

    end_text(p);
    if (node->len == 3 && strncasecmp(STR(p->text) + node->off, "NIL", 3) == 0)
	node->type = IMAP_ARG_NIL;
    p->state = ST_AFTER_ARG;
}

/* Line ends, lists */

/* layout_args - the nodes as IMAP_ARG arrays, breadth first */

static void layout_args(IMAP_PARSER *p)
{
    int     total = p->node_count - 1;
    int     placed = 0;
    int     i;
    int     n;

    if (total + 1 > p->args_size) {
	p->args_size = total + 1;
	p->args = myrealloc(p->args, p->args_size * sizeof(*p->args));
	p->order = myrealloc(p->order, p->args_size * sizeof(*p->order));
    }
    for (n = p->nodes[0].first; n >= 0; n = p->nodes[n].next)
	p->order[placed++] = n;
    for (i = 0; i < placed; i++) {
	const NODE *node = p->nodes + p->order[i];
	IMAP_ARG *arg = p->args + i;

	arg->type = node->type;
	arg->len = node->len;
	arg->literal8 = node->literal8;
	arg->count = 0;
	arg->list = 0;
	if (node->type == IMAP_ARG_LIST || node->type == IMAP_ARG_LITERAL_EXT)
	    arg->data = 0;
	else
	    arg->data = STR(p->text) + node->off;
	if (node->type == IMAP_ARG_LIST) {
	    arg->count = node->count;
	    arg->list = node->count ? p->args + placed : 0;
	    for (n = node->first; n >= 0; n = p->nodes[n].next)
		p->order[placed++] = n;
	}
    }
    if (placed != total)
	msg_panic("imap_parser: laid out %d of %d arguments", placed, total);
    p->arg_count = p->nodes[0].count;
}

/* line_end - LF: the command is complete, unless a list is open */

static int line_end(IMAP_PARSER *p, int ch)
{
    if (p->depth > 0)
	return (parse_error(p, "missing ')'", ch));
    layout_args(p);
    p->state = ST_DONE;
    return (IMAP_PARSE_DONE);
}

/* eol_byte - CR or LF where a line may end */

static int eol_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '\r') {
	p->state = ST_EOL_LF;
	return (IMAP_PARSE_MORE);
    }
    return (line_end(p, ch));
}

static int open_list(IMAP_PARSER *p, int ch)
{
    if (p->depth + 1 > p->limits.depth_max)
	return (parse_error(p, "lists nested too deeply", ch));
    if (new_node(p, IMAP_ARG_LIST) < 0)
	return (parse_error(p, "too many arguments", ch));
    if (p->depth + 1 >= p->open_size) {
	p->open_size *= 2;
	p->open = myrealloc(p->open, p->open_size * sizeof(*p->open));
    }
    p->open[++p->depth] = p->cur;
    p->state = ST_ARG;
    return (IMAP_PARSE_MORE);
}

static int close_list(IMAP_PARSER *p, int ch)
{
    if (p->depth == 0)
	return (parse_error(p, "unexpected ')'", ch));
    p->depth--;
    p->state = ST_AFTER_ARG;
    return (IMAP_PARSE_MORE);
}

/* States before the arguments */

static int tag_byte(IMAP_PARSER *p, int ch)
{
    if (ch == ' ' && LEN(p->tag) > 0) {
	p->have_tag = 1;
	p->state = ST_NAME;
	return (IMAP_PARSE_MORE);
    }
    if (is_tag_char(ch)) {
	vstring_addch(p->tag, ch);
	return (IMAP_PARSE_MORE);
    }
    if (LEN(p->tag) == 0)
	return (parse_error(p, ch == ' ' ? "missing tag" :
			    ch == '\r' || ch == '\n' ? "empty command line" :
			    "bad character in tag", ch));
    if (ch == '\r' || ch == '\n') {
	p->have_tag = 1;
	return (parse_error(p, "missing command name", ch));
    }
    return (parse_error(p, "bad character in tag", ch));
}

static int name_byte(IMAP_PARSER *p, int ch)
{
    if (imap_atom_char(ch)) {
	vstring_addch(p->name, ch);
	return (IMAP_PARSE_MORE);
    }
    if (ch == ' ' && LEN(p->name) == 0)
	return (IMAP_PARSE_MORE);
    if (LEN(p->name) == 0)
	return (parse_error(p, "missing command name", ch));
    if (ch == ' ' || ch == '\r' || ch == '\n') {
	p->have_name = 1;
	if (ch == ' ') {
	    p->state = ST_ARG;
	    return (IMAP_PARSE_MORE);
	}
	return (eol_byte(p, ch));
    }
    return (parse_error(p, "bad character in command name", ch));
}

/* Arguments */

static int atom_byte(IMAP_PARSER *p, int ch);

/* arg_byte - the first byte of an argument (or a space, ")", line end) */

static int arg_byte(IMAP_PARSER *p, int ch)
{
    switch (ch) {
    case ' ':
	return (IMAP_PARSE_MORE);
    case '\r':
    case '\n':
	return (eol_byte(p, ch));
    case '(':
	return (open_list(p, ch));
    case ')':
	return (close_list(p, ch));
    case '"':
	if (new_node(p, IMAP_ARG_STRING) < 0)
	    return (parse_error(p, "too many arguments", ch));
	p->state = ST_QUOTED;
	return (IMAP_PARSE_MORE);
    case '{':
	if (new_node(p, IMAP_ARG_LITERAL) < 0)
	    return (parse_error(p, "too many arguments", ch));
	p->lit_size = 0;
	p->lit_digits = 0;
	p->lit_plus = 0;
	p->state = ST_LIT_SIZE;
	return (IMAP_PARSE_MORE);
    case '\\':
	if (new_node(p, IMAP_ARG_ATOM) < 0)
	    return (parse_error(p, "too many arguments", ch));
	vstring_addch(p->text, ch);
	p->state = ST_ATOM;
	return (IMAP_PARSE_MORE);
    }
    if (!is_arg_atom_char(ch))
	return (parse_error(p, "bad character in argument", ch));
    if (new_node(p, IMAP_ARG_ATOM) < 0)
	return (parse_error(p, "too many arguments", ch));
    p->state = ST_ATOM;
    return (atom_byte(p, ch));
}

/* after_arg_byte - an argument ended: a separator must follow */

static int after_arg_byte(IMAP_PARSER *p, int ch)
{
    switch (ch) {
    case ' ':
	p->state = ST_ARG;
	return (IMAP_PARSE_MORE);
    case ')':
	return (close_list(p, ch));
    case '\r':
    case '\n':
	return (eol_byte(p, ch));
    default:
	return (parse_error(p, "missing space between arguments", ch));
    }
}

/* atom_to_literal8 - "~" followed by "{": the atom was a literal8 */

static int atom_to_literal8(IMAP_PARSER *p)
{
    NODE   *node = p->nodes + p->cur;

    if (LEN(p->text) - node->off != 1 || STR(p->text)[node->off] != '~')
	return (0);
    vstring_truncate(p->text, node->off);
    node->type = IMAP_ARG_LITERAL;
    node->literal8 = 1;
    p->lit_size = 0;
    p->lit_digits = 0;
    p->lit_plus = 0;
    p->state = ST_LIT_SIZE;
    return (1);
}

static int atom_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '[') {
	vstring_addch(p->text, ch);
	p->bracket_depth = 1;
	p->state = ST_BRACKET;
	return (IMAP_PARSE_MORE);
    }
    if (is_arg_atom_char(ch)) {
	vstring_addch(p->text, ch);
	return (IMAP_PARSE_MORE);
    }
    if (ch == ' ' || ch == ')' || ch == '\r' || ch == '\n') {
	end_atom(p);
	return (after_arg_byte(p, ch));
    }
    if (ch == '{' && atom_to_literal8(p))
	return (IMAP_PARSE_MORE);
    return (parse_error(p, "bad character in atom", ch));
}

static int bracket_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '\r' || ch == '\n')
	return (parse_error(p, "missing ']'", ch));
    if (!is_char(ch))
	return (parse_error(p, "bad character in atom", ch));
    vstring_addch(p->text, ch);
    if (ch == '[') {
	p->bracket_depth++;
    } else if (ch == ']' && --p->bracket_depth == 0) {
	p->state = ST_ATOM;
    }
    return (IMAP_PARSE_MORE);
}

static int quoted_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '"') {
	end_text(p);
	p->state = ST_AFTER_ARG;
	return (IMAP_PARSE_MORE);
    }
    if (ch == '\\') {
	p->state = ST_QUOTED_ESC;
	return (IMAP_PARSE_MORE);
    }
    if (ch == '\r' || ch == '\n')
	return (parse_error(p, "line ends inside a quoted string", ch));
    if (!is_char(ch))
	return (parse_error(p, "bad character in quoted string", ch));
    vstring_addch(p->text, ch);
    return (IMAP_PARSE_MORE);
}

static int quoted_esc_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '"' || ch == '\\') {
	vstring_addch(p->text, ch);
	p->state = ST_QUOTED;
	return (IMAP_PARSE_MORE);
    }
    if (ch == '\r' || ch == '\n')
	return (parse_error(p, "line ends inside a quoted string", ch));
    return (parse_error(p, "bad escape in quoted string", ch));
}

/* Literals */

static int lit_size_byte(IMAP_PARSER *p, int ch)
{
    if (ch >= '0' && ch <= '9') {
	p->lit_size = add_digit(p->lit_size, ch);
	p->lit_digits = 1;
	return (IMAP_PARSE_MORE);
    }
    if (p->lit_digits && (ch == '+' || ch == '}')) {
	p->lit_plus = (ch == '+');
	p->state = (ch == '+' ? ST_LIT_PLUS : ST_LIT_CLOSE);
	return (IMAP_PARSE_MORE);
    }
    return (parse_error(p, "bad literal size", ch));
}

static int lit_plus_byte(IMAP_PARSER *p, int ch)
{
    if (ch != '}')
	return (parse_error(p, "bad literal size", ch));
    p->state = ST_LIT_CLOSE;
    return (IMAP_PARSE_MORE);
}

/* refuse_literal - a literal we will not take: see imap_parser.h */

static int refuse_literal(IMAP_PARSER *p, const char *why)
{
    p->error = why;
    if (p->lit_plus && p->lit_size > 0) {
	p->lit_left = p->lit_size;
	p->state = ST_LIT_REFUSE;
	return (IMAP_PARSE_MORE);
    }
    p->state = p->lit_plus ? ST_SKIP_LINE : ST_TAG;	/* {N}: nothing follows */
    skip_brace_reset(p);
    return (IMAP_PARSE_ERROR);
}

/* literal_start - the LF after "{N}": the data comes next */

static int literal_start(IMAP_PARSER *p)
{
    int     too_big = (p->lit_size > p->limits.literal_max
		       || (p->limits.text_max != 0
			   && LEN(p->text) + p->lit_size > p->limits.text_max));

    if (too_big && p->lit_size > p->limits.stream_max)
	return (refuse_literal(p, "literal too large"));
    if (p->lit_ext_taken)
	return (refuse_literal(p, "literal after a streamed literal"));
    if (too_big) {
	p->lit_left = p->lit_size;
	p->state = ST_LIT_OFFER;
	return (IMAP_PARSE_LITERAL);
    }
    p->nodes[p->cur].off = LEN(p->text);
    p->lit_left = p->lit_size;
    p->state = ST_LIT_DATA;
    return (p->lit_plus ? IMAP_PARSE_MORE : IMAP_PARSE_LITERAL);
}

static int lit_close_byte(IMAP_PARSER *p, int ch)
{
    if (ch == '\r' && p->state == ST_LIT_CLOSE) {
	p->state = ST_LIT_LF;
	return (IMAP_PARSE_MORE);
    }
    if (ch == '\n')
	return (literal_start(p));
    return (parse_error(p, "literal size not followed by CRLF", ch));
}

/* take_literal - literal bytes from DATA; how many were used */

static size_t take_literal(IMAP_PARSER *p, const char *data, size_t len,
			           int *status)
{
    size_t  n = p->lit_left < len ? (size_t) p->lit_left : len;

    switch (p->state) {
    case ST_LIT_DATA:
	vstring_memcat(p->text, data, n);
	if ((p->lit_left -= n) == 0) {
	    end_text(p);
	    p->state = ST_AFTER_ARG;
	}
	break;
    case ST_LIT_REFUSE:
	if ((p->lit_left -= n) == 0) {
	    p->state = ST_SKIP_LINE;
	    skip_brace_reset(p);
	    *status = IMAP_PARSE_ERROR;
	}
	break;
    case ST_SKIP_LITERAL:
	if ((p->lit_left -= n) == 0)
	    p->state = ST_SKIP_LINE;
	break;
    }
    return (n);
}

/* dispatch_byte - one byte of a command line, by state */

static int dispatch_byte(IMAP_PARSER *p, int ch)
{
    switch (p->state) {
    case ST_TAG:
	return (tag_byte(p, ch));
    case ST_NAME:
	return (name_byte(p, ch));
    case ST_ARG:
	return (arg_byte(p, ch));
    case ST_AFTER_ARG:
	return (after_arg_byte(p, ch));
    case ST_ATOM:
	return (atom_byte(p, ch));
    case ST_BRACKET:
	return (bracket_byte(p, ch));
    case ST_QUOTED:
	return (quoted_byte(p, ch));
    case ST_QUOTED_ESC:
	return (quoted_esc_byte(p, ch));
    case ST_LIT_SIZE:
	return (lit_size_byte(p, ch));
    case ST_LIT_PLUS:
	return (lit_plus_byte(p, ch));
    case ST_LIT_CLOSE:
    case ST_LIT_LF:
	return (lit_close_byte(p, ch));
    case ST_EOL_LF:
	if (ch == '\n')
	    return (line_end(p, ch));
	return (parse_error(p, "CR not followed by LF", ch));
    default:
	msg_panic("imap_parser: bad state %d", p->state);
    }
}

/* parse_byte - one byte outside literal data */

static int parse_byte(IMAP_PARSER *p, int ch)
{
    int     status;

    if (p->state == ST_SKIP_LINE) {
	skip_byte(p, ch);
	return (IMAP_PARSE_MORE);
    }
    if (ch != '\r' && ch != '\n' && ++p->line_len > p->limits.line_max)
	return (parse_error(p, "line too long", ch));
    status = dispatch_byte(p, ch);
    if (status != IMAP_PARSE_ERROR)
	track_brace(p, ch);
    return (status);
}

/* Public interface */

static void clear_command(IMAP_PARSER *p)
{
    vstring_reset(p->tag);
    vstring_reset(p->name);
    p->have_tag = p->have_name = 0;
    if (p->text->size > KEEP_TEXT_MAX) {
	vstring_free(p->text);
	p->text = vstring_alloc(1024);
    }
    vstring_reset(p->text);
    if (p->node_size > KEEP_NODES_MAX) {
	p->node_size = 16;
	p->nodes = myrealloc(p->nodes, p->node_size * sizeof(*p->nodes));
    }
    p->node_count = 1;
    p->nodes[0].type = IMAP_ARG_LIST;
    p->nodes[0].count = 0;
    p->nodes[0].first = p->nodes[0].last = p->nodes[0].next = -1;
    p->depth = 0;
    p->open[0] = 0;
    p->line_len = 0;
    p->cur = 0;
    p->bracket_depth = 0;
    p->lit_size = p->lit_left = 0;
    p->lit_digits = p->lit_plus = 0;
    p->lit_ext_taken = 0;
    p->arg_count = 0;
    p->error = 0;
    p->finished = 0;
}

IMAP_PARSER *imap_parser_create(const IMAP_PARSER_LIMITS *limits)
{
    IMAP_PARSER *p = mycalloc(1, sizeof(*p));

    if (limits == 0 || limits->args_max < 0 || limits->depth_max < 0)
	msg_panic("imap_parser_create: bad limits");
    p->limits = *limits;
    p->tag = vstring_alloc(16);
    p->name = vstring_alloc(16);
    p->text = vstring_alloc(1024);
    p->node_size = 16;
    p->nodes = mymalloc(p->node_size * sizeof(*p->nodes));
    p->open_size = 8;
    p->open = mymalloc(p->open_size * sizeof(*p->open));
    p->args_size = 16;
    p->args = mymalloc(p->args_size * sizeof(*p->args));
    p->order = mymalloc(p->args_size * sizeof(*p->order));
    clear_command(p);
    p->state = ST_TAG;
    skip_brace_reset(p);
    return (p);
}

void    imap_parser_free(IMAP_PARSER *p)
{
    vstring_free(p->tag);
    vstring_free(p->name);
    vstring_free(p->text);
    myfree(p->nodes);
    myfree(p->open);
    myfree(p->args);
    myfree(p->order);
    myfree(p);
}

void    imap_parser_reset(IMAP_PARSER *p)
{
    int     skipping = (p->state == ST_SKIP_LINE
			|| p->state == ST_SKIP_LITERAL);

    clear_command(p);
    if (!skipping)
	p->state = ST_TAG;
}

int     imap_parser_feed(IMAP_PARSER *p, const char *data, size_t len,
			         size_t *used)
{
    int     status = IMAP_PARSE_MORE;
    size_t  pos = 0;

    if (p->finished)
	msg_panic("imap_parser_feed: imap_parser_reset() was not called");
    if (p->state == ST_LIT_OFFER && len > 0)
	msg_panic("imap_parser_feed: an offered literal was neither taken nor refused");
    while (pos < len && status == IMAP_PARSE_MORE) {
	if (p->state == ST_LIT_DATA || p->state == ST_LIT_REFUSE
	    || p->state == ST_SKIP_LITERAL)
	    pos += take_literal(p, data + pos, len - pos, &status);
	else
	    status = parse_byte(p, (unsigned char) data[pos++]);
    }
    *used = pos;
    if (status == IMAP_PARSE_DONE || status == IMAP_PARSE_ERROR)
	p->finished = 1;
    return (status);
}

const char *imap_parser_tag(IMAP_PARSER *p)
{
    return (p->have_tag ? STR(p->tag) : 0);
}

const char *imap_parser_name(IMAP_PARSER *p)
{
    return (p->have_name ? STR(p->name) : 0);
}

const IMAP_ARG *imap_parser_args(IMAP_PARSER *p, int *count)
{
    if (p->state != ST_DONE) {
	*count = 0;
	return (0);
    }
    *count = p->arg_count;
    return (p->args);
}

const char *imap_parser_error(IMAP_PARSER *p)
{
    return (p->error);
}

size_t  imap_parser_literal_size(IMAP_PARSER *p)
{
    return ((size_t) p->lit_size);
}

int     imap_parser_literal_pending(IMAP_PARSER *p)
{
    return (p->state == ST_LIT_OFFER
	    || (p->state == ST_LIT_DATA && p->lit_left == p->lit_size));
}

int     imap_parser_literal_sync(IMAP_PARSER *p)
{
    return (!p->lit_plus);
}

int     imap_parser_literal_offered(IMAP_PARSER *p)
{
    return (p->state == ST_LIT_OFFER);
}

int     imap_parser_literal_refuse(IMAP_PARSER *p)
{
    int     status;

    if (p->state != ST_LIT_OFFER)
	msg_panic("imap_parser_literal_refuse: no literal offered");
    if ((status = refuse_literal(p, "literal too large")) == IMAP_PARSE_ERROR)
	p->finished = 1;
    return (status);
}

void    imap_parser_literal_external(IMAP_PARSER *p)
{
    NODE   *node = p->nodes + p->cur;

    if (!imap_parser_literal_pending(p))
	msg_panic("imap_parser_literal_external: no literal pending");
    node->type = IMAP_ARG_LITERAL_EXT;
    node->len = (size_t) p->lit_size;
    p->lit_ext_taken = 1;
    p->lit_left = 0;
    p->state = ST_AFTER_ARG;
}

const char *imap_arg_astring(const IMAP_ARG *arg)
{
    if (arg == 0)
	return (0);
    if (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_STRING
	|| arg->type == IMAP_ARG_LITERAL)
	return (arg->data);
    return (0);
}

int     imap_arg_atom_is(const IMAP_ARG *arg, const char *word)
{
    return (arg != 0 && arg->type == IMAP_ARG_ATOM
	    && strcasecmp(arg->data, word) == 0);
}
