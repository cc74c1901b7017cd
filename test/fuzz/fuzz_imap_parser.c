/*
 * fuzz_imap_parser.c - libFuzzer harness for the IMAP command parser
 * (lib/imap/imap_parser.c), with the sequence-set and date parsers run on
 * what it produces.
 *
 * Built and run by test/fuzz/run.sh.  Input layout: byte 0 and byte 1
 * choose small limits (line 8..263 bytes, literal 0..127 bytes, 1..16
 * arguments, depth 0..7), byte 2 seeds the piece sizes (bits 0-5) and
 * sets stream_max (bit 6: 200) and text_max (bit 7: 16..79), byte 3 how
 * the "server" answers literals; the rest is what a client
 * sends in one session.  The session is fed twice (three times when it is
 * short): whole, in pseudo-random pieces of 1..N bytes, and one byte at a
 * time.  Every IMAP_PARSE_LITERAL is answered as a server would: go on
 * ("+ OK"; not for one offered for streaming), refuse (reset, or
 * imap_parser_literal_refuse() for an offered one) or stream the literal
 * (imap_parser_literal_external(), then the harness itself skips the
 * literal's bytes).  Checked, else abort():
 *   - "used" never exceeds what was given, IMAP_PARSE_MORE uses all of
 *     it, any other result uses at least one byte (progress);
 *   - every way of feeding gives the same results at the same offsets,
 *     with the same tags, names, errors and arguments;
 *   - a command's arguments are well formed: known types, counts within
 *     args_max (all levels), depth within depth_max, data NUL-terminated
 *     with the right length, atoms of atom characters (brackets aside),
 *     quoted strings without CR, LF, NUL or 8-bit, literals within
 *     literal_max; tags without "+"; an error has a reason; only
 *     literals beyond the limits are offered, only up to stream_max, and
 *     a kept {N+} literal is never announced;
 * and imap_seqset_parse() runs on every atom (an accepted set has ranges
 * that make sense and answer imap_seqset_seqs/uid_seqs sanely),
 * imap_date_time_parse() and imap_date_parse() on every string and atom
 * (an accepted date-time formats and parses back to the same time).
 */
#include "sys_defs.h"
#include <strings.h>

#include "msg.h"
#include "vstring.h"
#include "imap_quote.h"
#include "imap_parser.h"
#include "imap_seqset.h"
#include "imap_date.h"

#define FUZZ_MAX_INPUT	(64 * 1024)
#define FUZZ_BYTEWISE_MAX 4096		/* also fed a byte at a time */

#define FEED_WHOLE	0
#define FEED_BYTES	1
#define FEED_PIECES	2		/* + N: pieces of 1..N+1 bytes */

#define ANSWER_CONTINUE	0
#define ANSWER_REFUSE	1
#define ANSWER_STREAM	2

typedef struct RUN {
    IMAP_PARSER *parser;
    VSTRING *log;			/* results, serialized */
    const IMAP_PARSER_LIMITS *limits;
    unsigned answers;			/* byte 3: how literals are answered */
    int     literals;			/* literals answered so far */
} RUN;

static VSTRING *whole_log;
static VSTRING *piece_log;
static VSTRING *scratch;

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_imap_parser: %s\n", what);
    abort();
}

/* in_list - N is among the COUNT numbers of OUT */

static int in_list(const int *out, int count, int n)
{
    for (int i = 0; i < count; i++)
	if (out[i] == n)
	    return (1);
    return (0);
}

/*
 * check_seqset - an atom through the sequence-set parser; what the list
 * functions give must match imap_seqset_contains() number by number
 */
static void check_seqset(const char *text)
{
    static const unsigned uids[] = {2, 3, 7, 100, 4294967295U};
    IMAP_SEQSET set;
    int     out[16];
    int     bad;
    int     want_bad = 0;
    int     n;

    if (imap_seqset_parse(&set, text) == 0) {
	if (set.count < 1 || set.count > set.size)
	    fail("an accepted sequence set has no ranges");
	for (int i = 0; i < set.count; i++) {
	    const IMAP_SEQ_RANGE *r = set.ranges + i;

	    if (r->lo == IMAP_SEQ_STAR && r->hi != IMAP_SEQ_STAR)
		fail("\"*\" stored in LO of a range");
	    if (r->hi != IMAP_SEQ_STAR && r->lo > r->hi)
		fail("a range is stored backwards");
	    if (r->lo > 16 || (r->hi != IMAP_SEQ_STAR && r->hi > 16))
		want_bad = 1;		/* "*" is 16 */
	}
	n = imap_seqset_seqs(&set, 16, out, &bad);
	if (n < 0 || n > 16 || bad != want_bad)
	    fail("imap_seqset_seqs: bad count or bad flag");
	for (int i = 0; i < n; i++)
	    if (i > 0 && out[i] <= out[i - 1])
		fail("imap_seqset_seqs: not ascending");
	for (int seq = 1; seq <= 16; seq++)
	    if (in_list(out, n, seq) != imap_seqset_contains(&set, seq, 16))
		fail("imap_seqset_seqs and imap_seqset_contains disagree");
	n = imap_seqset_uid_seqs(&set, uids, 5, out);
	if (n < 0 || n > 5)
	    fail("imap_seqset_uid_seqs: bad count");
	for (int i = 0; i < n; i++)
	    if (i > 0 && out[i] <= out[i - 1])
		fail("imap_seqset_uid_seqs: not ascending");
	for (int seq = 1; seq <= 5; seq++)
	    if (in_list(out, n, seq)
		!= imap_seqset_contains(&set, uids[seq - 1], uids[4]))
		fail("imap_seqset_uid_seqs and imap_seqset_contains disagree");
    }
    imap_seqset_free(&set);
}

/* check_dates - a string or atom through the date parsers */

static void check_dates(const char *text)
{
    time_t  when;
    time_t  again;

    if (imap_date_time_parse(text, &when) == 0) {
	imap_date_time_format(scratch, when);
	if (imap_date_time_parse(STR(scratch), &again) != 0 || again != when)
	    fail("a date-time does not survive format + parse");
    }
    if (imap_date_parse(text, &when) == 0 && when % 86400 != 0)
	fail("imap_date_parse gave a time that is not the start of a day");
}

/* check_atom - ATOM-CHARs, "*", "%", "]", a leading "\", and "[...]" */

static void check_atom(const IMAP_ARG *arg)
{
    int     brackets = 0;

    for (size_t i = 0; i < arg->len; i++) {
	int     ch = (unsigned char) arg->data[i];

	if (brackets > 0) {
	    if (ch == 0 || ch == '\r' || ch == '\n' || ch >= 0x80)
		fail("bad byte inside an atom's brackets");
	    brackets += (ch == '[') - (ch == ']');
	} else if (ch == '[') {
	    brackets = 1;
	} else if (!imap_atom_char(ch) && ch != '*' && ch != '%' && ch != ']'
		   && !(ch == '\\' && i == 0)) {
	    fail("bad byte in an atom");
	}
    }
    if (brackets != 0)
	fail("an atom with an open bracket");
}

/* check_args - the tree of ARGS; logs it; returns how many nodes */

static int check_args(RUN *run, const IMAP_ARG *args, int count, int depth)
{
    int     nodes = count;

    if (count < 0 || (count > 0 && args == 0))
	fail("bad argument count or list");
    if (depth > run->limits->depth_max)
	fail("lists nested deeper than depth_max");
    for (int i = 0; i < count; i++) {
	const IMAP_ARG *arg = args + i;

	vstring_sprintf_append(run->log, " %d:%d:%lu:", arg->type,
			       arg->literal8, (unsigned long) arg->len);
	switch (arg->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
	case IMAP_ARG_STRING:
	case IMAP_ARG_LITERAL:
	    if (arg->data == 0 || arg->data[arg->len] != 0)
		fail("argument data missing or not NUL-terminated");
	    vstring_memcat(run->log, arg->data, arg->len);
	    if (arg->type != IMAP_ARG_LITERAL && strlen(arg->data) != arg->len)
		fail("NUL inside an atom or quoted string");
	    if (arg->literal8 && arg->type != IMAP_ARG_LITERAL)
		fail("literal8 set on something else than a literal");
	    break;
	case IMAP_ARG_LITERAL_EXT:
	    if (arg->data != 0)
		fail("a streamed literal has data");
	    break;
	case IMAP_ARG_LIST:
	    vstring_addch(run->log, '(');
	    nodes += check_args(run, arg->list, arg->count, depth + 1);
	    vstring_addch(run->log, ')');
	    break;
	default:
	    fail("unknown argument type");
	}
	if (arg->type == IMAP_ARG_LITERAL && arg->len > run->limits->literal_max)
	    fail("a literal larger than literal_max kept");
	if (arg->type == IMAP_ARG_LITERAL_EXT && arg->len > run->limits->literal_max
	    && arg->len > run->limits->stream_max)
	    fail("a streamed literal larger than literal_max and stream_max");
	if (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) {
	    if (arg->len == 0)
		fail("empty atom");
	    check_atom(arg);
	    if ((arg->type == IMAP_ARG_NIL) != (strcasecmp(arg->data, "NIL") == 0))
		fail("NIL and the atom NIL disagree");
	    check_seqset(arg->data);
	    check_dates(arg->data);
	}
	if (arg->type == IMAP_ARG_STRING) {
	    for (size_t j = 0; j < arg->len; j++) {
		int     ch = (unsigned char) arg->data[j];

		if (ch == '\r' || ch == '\n' || ch >= 0x80)
		    fail("bad byte in a quoted string");
	    }
	    check_dates(arg->data);
	}
	if ((imap_arg_astring(arg) != 0)
	    != (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_STRING
		|| arg->type == IMAP_ARG_LITERAL))
	    fail("imap_arg_astring disagrees with the type");
    }
    return (nodes);
}

/* check_done - a whole command */

static void check_done(RUN *run)
{
    IMAP_PARSER *p = run->parser;
    const char *tag = imap_parser_tag(p);
    const char *name = imap_parser_name(p);
    const IMAP_ARG *args;
    int     count;

    if (tag == 0 || *tag == 0 || name == 0 || *name == 0)
	fail("a command without a tag or name");
    for (const char *cp = tag; *cp; cp++)
	if ((!imap_atom_char((unsigned char) *cp) && *cp != ']') || *cp == '+')
	    fail("bad byte in a tag");
    for (const char *cp = name; *cp; cp++)
	if (!imap_atom_char((unsigned char) *cp))
	    fail("bad byte in a command name");
    vstring_sprintf_append(run->log, "DONE %s %s", tag, name);
    args = imap_parser_args(p, &count);
    if (args == 0)
	fail("no arguments after IMAP_PARSE_DONE");
    if (check_args(run, args, count, 0) > run->limits->args_max)
	fail("more arguments than args_max");
    if (imap_parser_error(p) != 0)
	fail("an error reason after IMAP_PARSE_DONE");
}

/*
 * answer_literal - the server's answer to a synchronizing literal; how
 * many input bytes the harness itself reads (a streamed literal)
 */
static size_t answer_literal(RUN *run)
{
    IMAP_PARSER *p = run->parser;
    size_t  size = imap_parser_literal_size(p);
    int     answer = (run->answers >> (2 * (run->literals++ % 4))) % 3;
    int     count;

    if (size > run->limits->literal_max && !imap_parser_literal_offered(p))
	fail("a literal above literal_max kept");
    if (imap_parser_literal_offered(p) && size > run->limits->stream_max)
	fail("a literal above stream_max offered");
    if (!imap_parser_literal_sync(p) && !imap_parser_literal_offered(p))
	fail("IMAP_PARSE_LITERAL for a {N+} literal that is kept");
    if (!imap_parser_literal_pending(p))
	fail("IMAP_PARSE_LITERAL without a pending literal");
    if (imap_parser_args(p, &count) != 0 || count != 0)
	fail("arguments before IMAP_PARSE_DONE");
    if (imap_parser_literal_offered(p) && answer == ANSWER_CONTINUE)
	answer = ANSWER_REFUSE;
    vstring_sprintf_append(run->log, "LITERAL %lu %d", (unsigned long) size,
			   answer);
    if (answer == ANSWER_REFUSE) {
	if (!imap_parser_literal_offered(p)) {
	    imap_parser_reset(p);
	} else if (imap_parser_literal_refuse(p) == IMAP_PARSE_ERROR) {
	    if (!imap_parser_literal_sync(p) || imap_parser_error(p) == 0)
		fail("a refused literal without a reason");
	    vstring_strcat(run->log, " refused");
	    imap_parser_reset(p);
	} else if (imap_parser_literal_sync(p)) {
	    fail("a refused {N} literal that is skipped");
	}
	return (0);
    }
    if (answer == ANSWER_STREAM) {
	imap_parser_literal_external(p);
	if (imap_parser_literal_pending(p))
	    fail("a streamed literal is still pending");
	return (size);
    }
    return (0);
}

/* result - log and check one result other than IMAP_PARSE_MORE */

static size_t result(RUN *run, int status, size_t offset)
{
    IMAP_PARSER *p = run->parser;
    const char *tag;
    size_t  skip = 0;

    vstring_sprintf_append(run->log, "@%lu ", (unsigned long) offset);
    switch (status) {
    case IMAP_PARSE_DONE:
	check_done(run);
	imap_parser_reset(p);
	break;
    case IMAP_PARSE_ERROR:
	tag = imap_parser_tag(p);
	if (imap_parser_error(p) == 0)
	    fail("IMAP_PARSE_ERROR without a reason");
	vstring_sprintf_append(run->log, "ERROR %s: %s", tag ? tag : "-",
			       imap_parser_error(p));
	imap_parser_reset(p);
	break;
    case IMAP_PARSE_LITERAL:
	skip = answer_literal(run);
	break;
    default:
	fail("unknown status from imap_parser_feed");
    }
    vstring_addch(run->log, '\n');
    return (skip);
}

/* next_piece - how many bytes the next read delivers */

static size_t next_piece(int mode, unsigned *seed)
{
    switch (mode) {
    case FEED_WHOLE:
	return (FUZZ_MAX_INPUT);
    case FEED_BYTES:
	return (1);
    default:
	*seed = *seed * 1103515245u + 12345u;
	return (1 + (*seed >> 16) % (1 + (mode - FEED_PIECES)));
    }
}

/* run_session - feed DATA as MODE says, answering like a server */

static void run_session(RUN *run, const char *data, size_t len, int mode)
{
    unsigned seed = (unsigned) mode;
    size_t  pos = 0;
    size_t  piece_end = 0;
    size_t  used;
    int     status;
    int     count;

    run->parser = imap_parser_create(run->limits);
    run->literals = 0;
    vstring_reset(run->log);
    while (pos < len) {
	if (pos >= piece_end) {
	    piece_end = pos + next_piece(mode, &seed);
	    if (piece_end > len)
		piece_end = len;
	}
	status = imap_parser_feed(run->parser, data + pos, piece_end - pos, &used);
	if (used > piece_end - pos)
	    fail("imap_parser_feed used more than it was given");
	if (status == IMAP_PARSE_MORE && used != piece_end - pos)
	    fail("IMAP_PARSE_MORE without using everything");
	if (status != IMAP_PARSE_MORE && used == 0)
	    fail("a result that used no input");
	pos += used;
	if (status != IMAP_PARSE_MORE)
	    pos += result(run, status, pos);
	else if (imap_parser_args(run->parser, &count) != 0 || count != 0)
	    fail("arguments while a command is incomplete");
    }
    imap_parser_free(run->parser);
}

/* same_log - two runs gave the same results */

static int same_log(const RUN *a, const RUN *b)
{
    return (LEN(a->log) == LEN(b->log)
	    && memcmp(STR(a->log), STR(b->log), LEN(a->log)) == 0);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_imap_parser", 0);
    setenv("TZ", "UTC0", 1);
    tzset();
    whole_log = vstring_alloc(1024);
    piece_log = vstring_alloc(1024);
    scratch = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    IMAP_PARSER_LIMITS limits;
    RUN     whole;
    RUN     piece;
    const char *session;
    size_t  len;

    if (size < 4 || size > FUZZ_MAX_INPUT)
	return (0);
    memset(&limits, 0, sizeof(limits));
    if (data[2] & 0x40)
	limits.stream_max = 200;
    if (data[2] & 0x80)
	limits.text_max = 16 + data[1] % 64;
    limits.line_max = 8 + data[0];
    limits.literal_max = data[1] & 0x7f;
    limits.args_max = 1 + (data[1] >> 4) % 16;
    limits.depth_max = data[0] % 8;
    session = (const char *) data + 4;
    len = size - 4;

    whole.limits = piece.limits = &limits;
    whole.answers = piece.answers = data[3];
    whole.log = whole_log;
    piece.log = piece_log;
    run_session(&whole, session, len, FEED_WHOLE);
    run_session(&piece, session, len, FEED_PIECES + data[2] % 64);
    if (!same_log(&whole, &piece))
	fail("whole and piecewise feeding disagree");
    if (len <= FUZZ_BYTEWISE_MAX) {
	run_session(&piece, session, len, FEED_BYTES);
	if (!same_log(&whole, &piece))
	    fail("whole and bytewise feeding disagree");
    }
    return (0);
}
