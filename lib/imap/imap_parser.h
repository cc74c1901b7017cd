/*
 * imap_parser.h - IMAP command lines (RFC 3501 section 9, RFC 7888
 * LITERAL+/LITERAL-), parsed incrementally from what the client sent.
 *
 * A command is: tag SP name [SP arguments] CRLF, where the arguments are
 * atoms, quoted strings, literals ("{N}" CRLF and N bytes; "{N+}" is
 * non-synchronizing), NIL, and parenthesized lists of these, nested.
 * Two relaxations that FETCH and friends need, as Dovecot's parser has:
 *   - an atom may contain "[...]" with anything but CR/LF inside, lists
 *     and spaces included, and a following "<...>": BODY[HEADER.FIELDS
 *     (From To)]<0.100> is ONE atom;
 *   - "\" may start an atom (flags: \Seen), and "*" and "%" are atom
 *     characters (sequence sets, LIST patterns).
 *
 * Use (one parser per session):
 *
 *   IMAP_PARSER *p = imap_parser_create(limits);
 *   for each chunk of input DATA/LEN:
 *     status = imap_parser_feed(p, data, len, &used);   // consumes USED bytes
 *     IMAP_PARSE_MORE:     need more input; everything given was consumed
 *     IMAP_PARSE_LITERAL:  a synchronizing literal of imap_parser_literal_size(p)
 *                          bytes was announced: send "+ OK" (or refuse it with
 *                          "tag NO/BAD" and imap_parser_reset()), then go on
 *                          feeding; the literal's bytes come next.  For a
 *                          non-synchronizing literal nothing is returned.
 *     IMAP_PARSE_DONE:     a whole command: imap_parser_tag(), _name(), _args()
 *     IMAP_PARSE_ERROR:    bad syntax: imap_parser_error() says why, the rest
 *                          of the line (and any literal it announced) is
 *                          skipped by the next feeds; the tag (if it was read)
 *                          is imap_parser_tag(), for "tag BAD ..."
 *   then imap_parser_reset(p) before the next command.
 *
 * A literal larger than limits.literal_max, or one that would bring the
 * argument data kept for the command beyond limits.text_max (0: no such
 * limit), is refused: for a synchronizing one IMAP_PARSE_ERROR is
 * returned right after the "{N}" CRLF (the client waits for "+" and will
 * not send it: nothing to skip); for "{N+}" the N bytes are skipped and
 * then IMAP_PARSE_ERROR is returned.  A line longer than limits.line_max
 * (literals not counted) is an error; so are more than limits.args_max
 * arguments (all levels) or lists nested deeper than limits.depth_max.
 *
 * Streaming a big literal (APPEND): a literal too big to keep but at most
 * limits.stream_max bytes (0: never) is offered to the caller instead:
 * imap_parser_feed() returns IMAP_PARSE_LITERAL at its first byte, for
 * "{N}" and "{N+}" alike (imap_parser_literal_sync() tells which: only
 * "{N}" wants "+ OK").  The caller then either calls
 * imap_parser_literal_external(p) and reads the literal's bytes itself
 * (the argument has type IMAP_ARG_LITERAL_EXT with its size and no data;
 * parsing goes on after those bytes), or imap_parser_literal_refuse(p),
 * which returns IMAP_PARSE_ERROR for "{N}" (answer it and reset, as after
 * any error) and IMAP_PARSE_MORE for "{N+}" (its bytes are skipped, then
 * the feed returns IMAP_PARSE_ERROR).  Feeding before one of the two is a
 * bug.  Only the LAST literal of a command may be streamed (APPEND's
 * message).  A literal the parser keeps may also be streamed:
 * imap_parser_literal_pending() is true at its first byte (after
 * IMAP_PARSE_LITERAL, or a feed that stopped there).
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include "sys_defs.h"

/* Argument types */
#define IMAP_ARG_ATOM		1
#define IMAP_ARG_STRING		2	/* quoted string, unescaped */
#define IMAP_ARG_LITERAL	3	/* data in memory */
#define IMAP_ARG_LITERAL_EXT	4	/* read by the caller: size only */
#define IMAP_ARG_NIL		5
#define IMAP_ARG_LIST		6

typedef struct IMAP_ARG {
    int     type;
    const char *data;			/* ATOM, STRING, LITERAL: NUL-terminated */
    size_t  len;			/* bytes of data (a literal may hold NULs) */
    int     literal8;			/* "~{N}" (RFC 3516); 0 otherwise */
    int     count;			/* LIST: number of elements */
    const struct IMAP_ARG *list;	/* LIST: the elements */
} IMAP_ARG;

typedef struct IMAP_PARSER_LIMITS {
    size_t  line_max;			/* bytes outside literals */
    size_t  literal_max;		/* bytes of one literal */
    int     args_max;			/* arguments, all levels together */
    int     depth_max;			/* list nesting */
    size_t  text_max;			/* argument data of a command; 0: any */
    size_t  stream_max;			/* literals offered for streaming; 0: none */
} IMAP_PARSER_LIMITS;

typedef struct IMAP_PARSER IMAP_PARSER;

#define IMAP_PARSE_MORE		0
#define IMAP_PARSE_DONE		1
#define IMAP_PARSE_LITERAL	2
#define IMAP_PARSE_ERROR	(-1)

IMAP_PARSER *imap_parser_create(const IMAP_PARSER_LIMITS *limits);
void	imap_parser_free(IMAP_PARSER *parser);
int	imap_parser_feed(IMAP_PARSER *parser, const char *data, size_t len,
			         size_t *used);
void	imap_parser_reset(IMAP_PARSER *parser);

/* After IMAP_PARSE_DONE (tag also after IMAP_PARSE_ERROR; NULL if none) */
const char *imap_parser_tag(IMAP_PARSER *parser);
const char *imap_parser_name(IMAP_PARSER *parser);	/* as sent, not folded */
const IMAP_ARG *imap_parser_args(IMAP_PARSER *parser, int *count);
const char *imap_parser_error(IMAP_PARSER *parser);

/* Literals */
size_t	imap_parser_literal_size(IMAP_PARSER *parser);
int	imap_parser_literal_pending(IMAP_PARSER *parser);	/* at its first byte */
void	imap_parser_literal_external(IMAP_PARSER *parser);
int	imap_parser_literal_sync(IMAP_PARSER *parser);	/* "{N}", not "{N+}" */
int	imap_parser_literal_offered(IMAP_PARSER *parser);	/* too big to keep */
int	imap_parser_literal_refuse(IMAP_PARSER *parser);	/* an offered one */

/* Convenience for command handlers */
/* imap_arg_astring - ATOM, STRING or LITERAL: its text; NULL otherwise */
const char *imap_arg_astring(const IMAP_ARG *arg);
/* imap_arg_atom_is - an ATOM equal to WORD (case-insensitive) */
int	imap_arg_atom_is(const IMAP_ARG *arg, const char *word);

#endif
