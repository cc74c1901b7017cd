/*
 * test_imap_parser.c - unit tests for lib/imap/imap_parser.c: command lines
 * from RFC 3501's examples and from real clients, literals of every kind
 * (synchronizing, non-synchronizing, literal8, streamed by the caller),
 * every kind of bad input with its recovery, and the limits.
 *
 * Each session is fed whole, one byte at a time, and in pieces of 2, 3
 * and 7 bytes; every way must give the same log of results.  The log has
 * one line per result other than IMAP_PARSE_MORE:
 *   DONE tag name args      args as sent, strings in "", literals {N}data,
 *                           literal8 ~{N}data, streamed literals {N:ext}
 *   LITERAL N               a synchronizing literal (the test answers "+")
 *   ERROR tag: reason       tag "-" when none was read
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "imap_parser.h"

static const IMAP_PARSER_LIMITS big_limits = {
    .line_max = 8192,
    .literal_max = 1024 * 1024,
    .args_max = 1000,
    .depth_max = 10,
};

static const IMAP_PARSER_LIMITS small_limits = {
    .line_max = 64,
    .literal_max = 50,
    .args_max = 8,
    .depth_max = 3,
};

/* dump_args - arguments as the log shows them */

static void dump_args(VSTRING *out, const IMAP_ARG *args, int count)
{
    for (int i = 0; i < count; i++) {
	const IMAP_ARG *arg = args + i;

	if (i > 0)
	    vstring_addch(out, ' ');
	switch (arg->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
	    assert_int_equal(arg->data[arg->len], 0);
	    assert_int_equal(strlen(arg->data), arg->len);
	    vstring_strcat(out, arg->type == IMAP_ARG_NIL ? "NIL" : arg->data);
	    break;
	case IMAP_ARG_STRING:
	    assert_int_equal(arg->data[arg->len], 0);
	    vstring_sprintf_append(out, "\"%s\"", arg->data);
	    break;
	case IMAP_ARG_LITERAL:
	    assert_int_equal(arg->data[arg->len], 0);
	    vstring_sprintf_append(out, "%s{%lu}", arg->literal8 ? "~" : "",
				   (unsigned long) arg->len);
	    vstring_memcat(out, arg->data, arg->len);
	    break;
	case IMAP_ARG_LITERAL_EXT:
	    assert_null(arg->data);
	    vstring_sprintf_append(out, "{%lu:ext}", (unsigned long) arg->len);
	    break;
	case IMAP_ARG_LIST:
	    assert_true(arg->count >= 0);
	    assert_true(arg->count == 0 || arg->list != 0);
	    vstring_addch(out, '(');
	    dump_args(out, arg->list, arg->count);
	    vstring_addch(out, ')');
	    break;
	default:
	    fail_msg("bad argument type %d", arg->type);
	}
    }
}

/* log_result - one line of the log for a result other than MORE */

static void log_result(VSTRING *log, IMAP_PARSER *p, int status)
{
    const IMAP_ARG *args;
    const char *tag = imap_parser_tag(p);
    int     count;

    switch (status) {
    case IMAP_PARSE_LITERAL:
	vstring_sprintf_append(log, "LITERAL %lu\n",
			       (unsigned long) imap_parser_literal_size(p));
	assert_true(imap_parser_literal_pending(p));
	break;
    case IMAP_PARSE_DONE:
	args = imap_parser_args(p, &count);
	assert_non_null(args);
	vstring_sprintf_append(log, "DONE %s %s%s", tag,
			       imap_parser_name(p), count ? " " : "");
	dump_args(log, args, count);
	vstring_addch(log, '\n');
	break;
    case IMAP_PARSE_ERROR:
	assert_non_null(imap_parser_error(p));
	vstring_sprintf_append(log, "ERROR %s: %s\n", tag ? tag : "-",
			       imap_parser_error(p));
	break;
    default:
	fail_msg("bad status %d", status);
    }
}

/* run_session - INPUT fed in pieces of CHUNK bytes (0: whole); the log */

static void run_session(VSTRING *log, const IMAP_PARSER_LIMITS *limits,
			        const char *input, size_t len, size_t chunk)
{
    IMAP_PARSER *p = imap_parser_create(limits);
    size_t  pos = 0;
    size_t  used;
    int     status;

    vstring_reset(log);
    while (pos < len) {
	size_t  n = (chunk == 0 || len - pos < chunk) ? len - pos : chunk;

	status = imap_parser_feed(p, input + pos, n, &used);
	assert_true(used <= n);
	pos += used;
	if (status == IMAP_PARSE_MORE) {
	    assert_int_equal(used, n);
	    continue;
	}
	assert_true(used > 0);
	log_result(log, p, status);
	if (status != IMAP_PARSE_LITERAL)
	    imap_parser_reset(p);
    }
    imap_parser_free(p);
}

/* parse_all - the log, the same for every way of feeding */

static const char *parse_all(const IMAP_PARSER_LIMITS *limits,
			             const char *input, size_t len)
{
    static VSTRING *whole;
    VSTRING *piece = vstring_alloc(100);
    static const size_t chunks[] = {1, 2, 3, 7};

    if (whole == 0)
	whole = vstring_alloc(100);
    run_session(whole, limits, input, len, 0);
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
	run_session(piece, limits, input, len, chunks[i]);
	if (strcmp(STR(piece), STR(whole)) != 0)
	    fail_msg("chunk %lu:\n%s\nwhole:\n%s", (unsigned long) chunks[i],
		     STR(piece), STR(whole));
    }
    vstring_free(piece);
    return (STR(whole));
}

#define PARSE(in)	parse_all(&big_limits, (in), sizeof(in) - 1)
#define PARSE_SMALL(in)	parse_all(&small_limits, (in), sizeof(in) - 1)

/* Good input: RFC 3501's examples */

static void test_rfc3501_examples(void **state)
{
    assert_string_equal(PARSE("a001 LOGIN SMITH SESAME\r\n"),
			"DONE a001 LOGIN SMITH SESAME\n");
    assert_string_equal(PARSE("a002 NOOP\r\n"), "DONE a002 NOOP\n");
    assert_string_equal(PARSE("A142 SELECT INBOX\r\n"),
			"DONE A142 SELECT INBOX\n");
    assert_string_equal(PARSE("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n"),
			"DONE A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\n");
    assert_string_equal(PARSE("a003 fetch 12 full\r\n"),
			"DONE a003 fetch 12 full\n");
    assert_string_equal(PARSE("a004 fetch 12 body[header]\r\n"),
			"DONE a004 fetch 12 body[header]\n");
    assert_string_equal(PARSE("A003 STORE 2:4 +FLAGS (\\Deleted)\r\n"),
			"DONE A003 STORE 2:4 +FLAGS (\\Deleted)\n");
    assert_string_equal(PARSE("A999 UID FETCH 4827313:4828442 FLAGS\r\n"),
			"DONE A999 UID FETCH 4827313:4828442 FLAGS\n");
    assert_string_equal(PARSE("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"),
			"DONE A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\n");
    assert_string_equal(PARSE("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n"),
			"LITERAL 6\nDONE A284 SEARCH CHARSET UTF-8 TEXT {6}XXXXXX\n");
    assert_string_equal(PARSE("A682 LIST \"\" *\r\n"),
			"DONE A682 LIST \"\" *\n");
    assert_string_equal(PARSE("A202 LIST ~/Mail/ %\r\n"),
			"DONE A202 LIST ~/Mail/ %\n");
    assert_string_equal(PARSE("A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n"),
			"DONE A042 STATUS blurdybloop (UIDNEXT MESSAGES)\n");
    assert_string_equal(PARSE("A001 AUTHENTICATE GSSAPI\r\n"),
			"DONE A001 AUTHENTICATE GSSAPI\n");
    assert_string_equal(PARSE("a fetch 1 BODY[]<0.100> BODY.PEEK[1.2.MIME]<10.20>\r\n"),
			"DONE a fetch 1 BODY[]<0.100> BODY.PEEK[1.2.MIME]<10.20>\n");
    assert_string_equal(PARSE("A003 APPEND saved-messages (\\Seen) {25}\r\n"
			      "Date: x\r\nSubject: y\r\n\r\nhi\r\n"),
			"LITERAL 25\nDONE A003 APPEND saved-messages (\\Seen) "
			"{25}Date: x\r\nSubject: y\r\n\r\nhi\n");
}

/* Good input: command lines of real clients */

static void test_client_commands(void **state)
{
    /* Thunderbird */
    assert_string_equal(PARSE("A1 UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])\r\n"),
			"DONE A1 UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])\n");
    assert_string_equal(PARSE("5 id (\"name\" \"Thunderbird\" \"version\" \"115.3.1\")\r\n"),
			"DONE 5 id (\"name\" \"Thunderbird\" \"version\" \"115.3.1\")\n");
    assert_string_equal(PARSE("8 select \"INBOX\" (CONDSTORE)\r\n"),
			"DONE 8 select \"INBOX\" (CONDSTORE)\n");
    assert_string_equal(PARSE("a APPEND \"Sent\" (\\Seen) \"05-Dec-2026 10:00:00 +0100\" {12}\r\nSubject: x\r\n\r\n"),
			"LITERAL 12\nDONE a APPEND \"Sent\" (\\Seen) \"05-Dec-2026 10:00:00 +0100\" {12}Subject: x\r\n\n");
    assert_string_equal(PARSE("x LIST \"\" \"%\"\r\n"),
			"DONE x LIST \"\" \"%\"\n");
    /* LITERAL+: no LITERAL result */
    assert_string_equal(PARSE("y SEARCH CHARSET UTF-8 SUBJECT {4+}\r\ntest\r\n"),
			"DONE y SEARCH CHARSET UTF-8 SUBJECT {4}test\n");
    assert_string_equal(PARSE("z LIST (SUBSCRIBED) \"\" \"*\" RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n"),
			"DONE z LIST (SUBSCRIBED) \"\" \"*\" RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\n");
    assert_string_equal(PARSE("t SELECT INBOX (QRESYNC (123 456 1:100))\r\n"),
			"DONE t SELECT INBOX (QRESYNC (123 456 1:100))\n");
    /* mutt */
    assert_string_equal(PARSE("a0005 UID STORE 1 +FLAGS.SILENT (\\Seen \\Flagged)\r\n"),
			"DONE a0005 UID STORE 1 +FLAGS.SILENT (\\Seen \\Flagged)\n");
    assert_string_equal(PARSE("a0006 UID FETCH 1 BODY.PEEK[]\r\n"),
			"DONE a0006 UID FETCH 1 BODY.PEEK[]\n");
    /* K-9 */
    assert_string_equal(PARSE("9 UID FETCH 1:5 (UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (date subject from content-type to cc reply-to message-id references in-reply-to X-K9mail-Identity)])\r\n"),
			"DONE 9 UID FETCH 1:5 (UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (date subject from content-type to cc reply-to message-id references in-reply-to X-K9mail-Identity)])\n");
    assert_string_equal(PARSE("12 UID SEARCH 1:* NOT DELETED\r\n"),
			"DONE 12 UID SEARCH 1:* NOT DELETED\n");
    /* mbsync: escapes in quoted strings */
    assert_string_equal(PARSE("3 LOGIN \"user\" \"pa\\\\ss\\\"word\"\r\n"),
			"DONE 3 LOGIN \"user\" \"pa\\ss\"word\"\n");
    assert_string_equal(PARSE("7 UID FETCH 1:1000000000 (UID FLAGS)\r\n"),
			"DONE 7 UID FETCH 1:1000000000 (UID FLAGS)\n");
    /* Outlook */
    assert_string_equal(PARSE("9fb3 ID (\"name\" \"Microsoft Outlook\" \"version\" \"16.0\")\r\n"),
			"DONE 9fb3 ID (\"name\" \"Microsoft Outlook\" \"version\" \"16.0\")\n");
    assert_string_equal(PARSE("fc4e UID FETCH 100:200 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n"),
			"DONE fc4e UID FETCH 100:200 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\n");
    /* Apple Mail style pipelining of several commands in one packet */
    assert_string_equal(PARSE("1.1 CAPABILITY\r\n1.2 NOOP\r\n1.3 LOGOUT\r\n"),
			"DONE 1.1 CAPABILITY\nDONE 1.2 NOOP\nDONE 1.3 LOGOUT\n");
}

/* Syntax details: NIL, empty things, literal8, spacing, line ends */

static void test_syntax_details(void **state)
{
    assert_string_equal(PARSE("a SETMETADATA INBOX (/private/comment NIL)\r\n"),
			"DONE a SETMETADATA INBOX (/private/comment NIL)\n");
    assert_string_equal(PARSE("a STORE 1 FLAGS ()\r\n"),
			"DONE a STORE 1 FLAGS ()\n");
    assert_string_equal(PARSE("a LOGIN \"\" \"\"\r\n"),
			"DONE a LOGIN \"\" \"\"\n");
    assert_string_equal(PARSE("a LOGIN foo] b]ar\r\n"),
			"DONE a LOGIN foo] b]ar\n");
    assert_string_equal(PARSE("a NOOP\n"), "DONE a NOOP\n");
    assert_string_equal(PARSE("a  SELECT   INBOX  \r\n"),
			"DONE a SELECT INBOX\n");
    assert_string_equal(PARSE("a X ( a  b )\r\n"), "DONE a X (a b)\n");
    assert_string_equal(PARSE("a X ((()))\r\n"), "DONE a X ((()))\n");
    assert_string_equal(PARSE("a X (a (b c) d (e (f)) g) h\r\n"),
			"DONE a X (a (b c) d (e (f)) g) h\n");
    assert_string_equal(PARSE("a LIST ~ %\r\n"), "DONE a LIST ~ %\n");
    assert_string_equal(PARSE("a STORE 1 FLAGS \\*\r\n"),
			"DONE a STORE 1 FLAGS \\*\n");
    assert_string_equal(PARSE("a X BODY[HEADER.FIELDS (\"a b\" c\\d)]\r\n"),
			"DONE a X BODY[HEADER.FIELDS (\"a b\" c\\d)]\n");
    assert_string_equal(PARSE("a X A[b[c]d]e\r\n"), "DONE a X A[b[c]d]e\n");
    /* literals: zero length, NUL bytes, literal8, several per command */
    assert_string_equal(PARSE("a LOGIN {0}\r\n {0+}\r\n\r\n"),
			"LITERAL 0\nDONE a LOGIN {0} {0}\n");
    {
	static const char in[] = "a APPEND INBOX ~{5}\r\nab\0cd ~{2+}\r\n\r\n\r\n";
	const char *log = parse_all(&big_limits, in, sizeof(in) - 1);

	assert_string_equal(log, "LITERAL 5\nDONE a APPEND INBOX ~{5}ab");
	assert_memory_equal(log + strlen(log) + 1, "cd ~{2}\r\n\n", 11);
    }
    assert_string_equal(PARSE("A LOGIN {3+}\r\nfoo {3}\r\nbar\r\n"),
			"LITERAL 3\nDONE A LOGIN {3}foo {3}bar\n");
    assert_string_equal(PARSE("a X ({1}\r\n))\r\n"),
			"LITERAL 1\nDONE a X ({1}))\n");
    assert_string_equal(PARSE("a X {2}\r\n\r\n\r\n"),
			"LITERAL 2\nDONE a X {2}\r\n\n");
    assert_string_equal(PARSE("a X {003}\n(x)\n"),
			"LITERAL 3\nDONE a X {3}(x)\n");
}

/* Bad input: every kind gives ERROR with a reason, then recovery */

static void test_bad_syntax(void **state)
{
    assert_string_equal(PARSE("\r\nb NOOP\r\n"),
			"ERROR -: empty command line\nDONE b NOOP\n");
    assert_string_equal(PARSE(" NOOP\r\nb NOOP\r\n"),
			"ERROR -: missing tag\nDONE b NOOP\n");
    assert_string_equal(PARSE("+ NOOP\r\nb NOOP\r\n"),
			"ERROR -: bad character in tag\nDONE b NOOP\n");
    assert_string_equal(PARSE("a+b NOOP\r\nb NOOP\r\n"),
			"ERROR -: bad character in tag\nDONE b NOOP\n");
    assert_string_equal(PARSE("a(b NOOP\r\nb NOOP\r\n"),
			"ERROR -: bad character in tag\nDONE b NOOP\n");
    assert_string_equal(PARSE("a*b NOOP\r\nb NOOP\r\n"),
			"ERROR -: bad character in tag\nDONE b NOOP\n");
    assert_string_equal(PARSE("a\r\nb NOOP\r\n"),
			"ERROR a: missing command name\nDONE b NOOP\n");
    assert_string_equal(PARSE("a \r\nb NOOP\r\n"),
			"ERROR a: missing command name\nDONE b NOOP\n");
    assert_string_equal(PARSE("a NO\"OP\r\nb NOOP\r\n"),
			"ERROR a: bad character in command name\nDONE b NOOP\n");
    assert_string_equal(PARSE("a NOOP(\r\nb NOOP\r\n"),
			"ERROR a: bad character in command name\nDONE b NOOP\n");
    /* unbalanced parentheses and brackets */
    assert_string_equal(PARSE("a FETCH 1 (FLAGS\r\nb NOOP\r\n"),
			"ERROR a: missing ')'\nDONE b NOOP\n");
    assert_string_equal(PARSE("a FETCH 1 FLAGS)\r\nb NOOP\r\n"),
			"ERROR a: unexpected ')'\nDONE b NOOP\n");
    assert_string_equal(PARSE("a FETCH 1 (FLAGS))\r\nb NOOP\r\n"),
			"ERROR a: unexpected ')'\nDONE b NOOP\n");
    assert_string_equal(PARSE("a FETCH 1 BODY[HEADER\r\nb NOOP\r\n"),
			"ERROR a: missing ']'\nDONE b NOOP\n");
    assert_string_equal(PARSE("a FETCH 1 (BODY[HEADER.FIELDS (A B)\r\nb NOOP\r\n"),
			"ERROR a: missing ']'\nDONE b NOOP\n");
    /* missing separators */
    assert_string_equal(PARSE("a LOGIN \"a\"\"b\"\r\nb NOOP\r\n"),
			"ERROR a: missing space between arguments\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X (a)(b)\r\nb NOOP\r\n"),
			"ERROR a: missing space between arguments\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X a(b)\r\nb NOOP\r\n"),
			"ERROR a: bad character in atom\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X a\\b\r\nb NOOP\r\n"),
			"ERROR a: bad character in atom\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X a{3}\r\nb NOOP\r\n"),
			"ERROR a: bad character in atom\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X ~x{3}\r\nb NOOP\r\n"),
			"ERROR a: bad character in atom\nDONE b NOOP\n");
    /* quoted strings */
    assert_string_equal(PARSE("a LOGIN \"foo\r\nb NOOP\r\n"),
			"ERROR a: line ends inside a quoted string\nDONE b NOOP\n");
    assert_string_equal(PARSE("a LOGIN \"foo\\\r\nb NOOP\r\n"),
			"ERROR a: line ends inside a quoted string\nDONE b NOOP\n");
    assert_string_equal(PARSE("a LOGIN \"a\\nb\" x\r\nb NOOP\r\n"),
			"ERROR a: bad escape in quoted string\nDONE b NOOP\n");
    assert_string_equal(PARSE("a LOGIN \"caf\xc3\xa9\" x\r\nb NOOP\r\n"),
			"ERROR a: bad character in quoted string\nDONE b NOOP\n");
    /* NUL bytes, 8-bit, control characters, CR alone */
    {
	static const char in[] = "a NO\0OP\r\nb LOGIN \"a\0b\" c\r\n"
	"c LOGIN a\0 b\r\nd NOOP\r\n";

	assert_string_equal(parse_all(&big_limits, in, sizeof(in) - 1),
			    "ERROR a: bad character in command name\n"
			    "ERROR b: bad character in quoted string\n"
			    "ERROR c: bad character in atom\n"
			    "DONE d NOOP\n");
    }
    assert_string_equal(PARSE("a SELECT Inb\xc3\xb6x\r\nb NOOP\r\n"),
			"ERROR a: bad character in atom\nDONE b NOOP\n");
    assert_string_equal(PARSE("a SELECT \xc3\xb6\r\nb NOOP\r\n"),
			"ERROR a: bad character in argument\nDONE b NOOP\n");
    assert_string_equal(PARSE("a FETCH 1 BODY[\xc3\xb6]\r\nb NOOP\r\n"),
			"ERROR a: bad character in atom\nDONE b NOOP\n");
    assert_string_equal(PARSE("a SELECT \tINBOX\r\nb NOOP\r\n"),
			"ERROR a: bad character in argument\nDONE b NOOP\n");
    assert_string_equal(PARSE("a NOOP\rb NOOP\r\nc NOOP\r\n"),
			"ERROR a: CR not followed by LF\nDONE c NOOP\n");
    assert_string_equal(PARSE("a SELECT INBOX\r\rb NOOP\r\nc NOOP\r\n"),
			"ERROR a: CR not followed by LF\nDONE c NOOP\n");
}

/* Bad literals */

static void test_bad_literals(void **state)
{
    assert_string_equal(PARSE("a X {\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {}\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {x}\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {+}\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {-1}\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {12 no CRLF\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {12+ }\r\nb NOOP\r\n"),
			"ERROR a: bad literal size\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {12}x\r\nb NOOP\r\n"),
			"ERROR a: literal size not followed by CRLF\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {12} \r\nb NOOP\r\n"),
			"ERROR a: literal size not followed by CRLF\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {1}\rx\r\nb NOOP\r\n"),
			"ERROR a: literal size not followed by CRLF\nDONE b NOOP\n");
    /* synchronizing, too large: refused at once, nothing to skip */
    assert_string_equal(PARSE("a X {99999999999}\r\nb NOOP\r\n"),
			"ERROR a: literal too large\nDONE b NOOP\n");
    assert_string_equal(PARSE("a X {99999999999999999999999999}\r\nb NOOP\r\n"),
			"ERROR a: literal too large\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a APPEND INBOX {51}\r\nb NOOP\r\n"),
			"ERROR a: literal too large\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a APPEND INBOX ~{51}\r\nb NOOP\r\n"),
			"ERROR a: literal too large\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a APPEND INBOX {50}\r\n"
				    "01234567890123456789012345678901234567890123456789\r\n"),
			"LITERAL 50\nDONE a APPEND INBOX {50}"
			"01234567890123456789012345678901234567890123456789\n");
    /* non-synchronizing, too large: its bytes and the line are skipped */
    assert_string_equal(PARSE_SMALL("a APPEND INBOX {60+}\r\n"
				    "b NOOP\r\nc NOOP\r\nd NOOP\r\ne NOOP\r\nf NOOP\r\ng NOOP\r\n"
				    "0123456789ab more {3}\r\nh NOOP\r\n"),
			"ERROR a: literal too large\nDONE h NOOP\n");
    assert_string_equal(PARSE_SMALL("a APPEND INBOX ~{51+}\r\n"
				    "012345678901234567890123456789012345678901234567890"
				    "\r\nb NOOP\r\n"),
			"ERROR a: literal too large\nDONE b NOOP\n");
}

/* Recovery skips a non-synchronizing literal announced on a bad line */

static void test_error_skips_literal(void **state)
{
    assert_string_equal(PARSE("a X \x01 {5+}\r\nb NOO\r\nc NOOP\r\n"),
			"ERROR a: bad character in argument\nDONE c NOOP\n");
    assert_string_equal(PARSE("a X ~{5+}\r\nb NOO (\x01 ~{1+}\r\n\n{2+}\r\n\r\n\r\nc NOOP\r\n"),
			"ERROR a: bad character in argument\nDONE c NOOP\n");
    /* a synchronizing one is not sent by the client: nothing to skip */
    assert_string_equal(PARSE("a X \x01 {5}\r\nb NOOP\r\n"),
			"ERROR a: bad character in argument\nDONE b NOOP\n");
    /* the error at the "{" itself */
    assert_string_equal(PARSE_SMALL("a X 1 2 3 4 5 6 7 8 {3+}\r\nabc\r\nc NOOP\r\n"),
			"ERROR a: too many arguments\nDONE c NOOP\n");
    assert_string_equal(PARSE_SMALL("a X 1 2 3 4 5 6 7 8 ~{3+}\r\nabc\r\nc NOOP\r\n"),
			"ERROR a: too many arguments\nDONE c NOOP\n");
    /* the line was bad before: inside "[...]" or a quoted string */
    assert_string_equal(PARSE("a FETCH 1 BODY[HEADER.FIELDS ({5+}\r\nab)]c\r\nd NOOP\r\n"),
			"ERROR a: missing ']'\nDONE d NOOP\n");
    assert_string_equal(PARSE("a LOGIN \"x{2+}\r\nyy\r\nd NOOP\r\n"),
			"ERROR a: line ends inside a quoted string\nDONE d NOOP\n");
    /* "{N+}" that is not at the end of the line is nothing */
    assert_string_equal(PARSE("a X \x01 {5+} \r\nb NOOP\r\n"),
			"ERROR a: bad character in argument\nDONE b NOOP\n");
}

/* Limits: exactly at the limit is fine, one more is an error */

static void test_limits(void **state)
{
    /* 64 bytes: "a X " + 60 */
    assert_string_equal(PARSE_SMALL("a X 012345678901234567890123456789012345678901234567890123456789\r\nb NOOP\r\n"),
			"DONE a X 012345678901234567890123456789012345678901234567890123456789\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a X 0123456789012345678901234567890123456789012345678901234567890\r\nb NOOP\r\n"),
			"ERROR a: line too long\nDONE b NOOP\n");
    /* literals do not count; the line after them does */
    assert_string_equal(PARSE_SMALL("a X {50+}\r\n01234567890123456789012345678901234567890123456789 012345678901234567890123456789012345678901234567890123\r\n"),
			"DONE a X {50}01234567890123456789012345678901234567890123456789 012345678901234567890123456789012345678901234567890123\n");
    assert_string_equal(PARSE_SMALL("a X {50+}\r\n01234567890123456789012345678901234567890123456789 0123456789012345678901234567890123456789012345678901234\r\nb NOOP\r\n"),
			"ERROR a: line too long\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a X 1 2 3 4 5 6 7 8\r\n"),
			"DONE a X 1 2 3 4 5 6 7 8\n");
    assert_string_equal(PARSE_SMALL("a X 1 2 3 4 5 6 7 8 9\r\nb NOOP\r\n"),
			"ERROR a: too many arguments\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a X (1 (2) 3) (4) 5\r\n"),
			"DONE a X (1 (2) 3) (4) 5\n");
    assert_string_equal(PARSE_SMALL("a X (1 (2) 3) (4) (5)\r\nb NOOP\r\n"),
			"ERROR a: too many arguments\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a X \"1\" 2 3 4 5 6 7 \"8\" \"9\"\r\nb NOOP\r\n"),
			"ERROR a: too many arguments\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a X (((a)))\r\n"),
			"DONE a X (((a)))\n");
    assert_string_equal(PARSE_SMALL("a X ((((a))))\r\nb NOOP\r\n"),
			"ERROR a: lists nested too deeply\nDONE b NOOP\n");
    assert_string_equal(PARSE_SMALL("a X ((()) ((())))\r\nb NOOP\r\n"),
			"ERROR a: lists nested too deeply\nDONE b NOOP\n");
}

/* A very long line is skipped in constant memory, then all is well */

static void test_long_line(void **state)
{
    size_t  len = 1024 * 1024;
    char   *in = malloc(len + 20);
    const char *log;

    memset(in, 'x', len);
    memcpy(in, "a X ", 4);
    memcpy(in + len, "\r\nb NOOP\r\n", 10);
    log = parse_all(&small_limits, in, len + 10);
    assert_string_equal(log, "ERROR a: line too long\nDONE b NOOP\n");
    free(in);
}

/* The synchronizing literal: LITERAL, then refusal or data */

static void test_literal_refused(void **state)
{
    IMAP_PARSER *p = imap_parser_create(&big_limits);
    static const char in[] = "a APPEND INBOX {10}\r\nb NOOP\r\n";
    size_t  used;

    assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used),
		     IMAP_PARSE_LITERAL);
    assert_int_equal(used, 21);
    assert_int_equal(imap_parser_literal_size(p), 10);
    assert_true(imap_parser_literal_pending(p));
    assert_string_equal(imap_parser_tag(p), "a");
    assert_string_equal(imap_parser_name(p), "APPEND");
    /* "a NO ..." and reset: the next command follows */
    imap_parser_reset(p);
    assert_null(imap_parser_tag(p));
    assert_int_equal(imap_parser_feed(p, in + used, sizeof(in) - 1 - used,
				      &used), IMAP_PARSE_DONE);
    assert_string_equal(imap_parser_tag(p), "b");
    imap_parser_free(p);
}

/* What is returned where, and what "used" counts */

static void test_feed_results(void **state)
{
    IMAP_PARSER *p = imap_parser_create(&big_limits);
    static const char in[] = "a LOGIN u {2}\r\npw\r\nb NOOP\r\n";
    const IMAP_ARG *args;
    size_t  used;
    int     count;

    assert_int_equal(imap_parser_feed(p, in, 0, &used), IMAP_PARSE_MORE);
    assert_int_equal(used, 0);
    assert_null(imap_parser_args(p, &count));
    assert_int_equal(count, 0);
    assert_null(imap_parser_tag(p));
    assert_null(imap_parser_name(p));
    assert_int_equal(imap_parser_feed(p, in, 5, &used), IMAP_PARSE_MORE);
    assert_int_equal(used, 5);
    assert_string_equal(imap_parser_tag(p), "a");
    assert_null(imap_parser_name(p));
    assert_int_equal(imap_parser_feed(p, in + 5, sizeof(in) - 6, &used),
		     IMAP_PARSE_LITERAL);
    assert_int_equal(used, 10);
    assert_false(imap_parser_literal_pending(p) == 0);
    assert_int_equal(imap_parser_feed(p, in + 15, 1, &used), IMAP_PARSE_MORE);
    assert_false(imap_parser_literal_pending(p));
    assert_int_equal(imap_parser_feed(p, in + 16, sizeof(in) - 17, &used),
		     IMAP_PARSE_DONE);
    assert_int_equal(used, 3);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 2);
    assert_int_equal(args[0].type, IMAP_ARG_ATOM);
    assert_int_equal(args[1].type, IMAP_ARG_LITERAL);
    assert_string_equal(args[1].data, "pw");
    assert_int_equal(args[1].literal8, 0);
    assert_null(imap_parser_error(p));
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, in + 19, sizeof(in) - 20, &used),
		     IMAP_PARSE_DONE);
    assert_int_equal(used, sizeof(in) - 20);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 0);
    assert_non_null(args);
    imap_parser_free(p);
}

/* Streaming a literal: APPEND's message read by the caller */

static void test_literal_external(void **state)
{
    IMAP_PARSER *p = imap_parser_create(&small_limits);
    const IMAP_ARG *args;
    size_t  used;
    int     count;

    /* synchronizing: after IMAP_PARSE_LITERAL */
    assert_int_equal(imap_parser_feed(p, "a APPEND INBOX {10}\r\n", 21, &used),
		     IMAP_PARSE_LITERAL);
    imap_parser_literal_external(p);
    assert_false(imap_parser_literal_pending(p));
    /* the caller reads 10 bytes; the line goes on */
    assert_int_equal(imap_parser_feed(p, "\r\n", 2, &used), IMAP_PARSE_DONE);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 2);
    assert_int_equal(args[1].type, IMAP_ARG_LITERAL_EXT);
    assert_int_equal(args[1].len, 10);
    assert_null(args[1].data);
    assert_null(imap_arg_astring(args + 1));
    imap_parser_reset(p);

    /* non-synchronizing: the caller feeds up to the end of the line */
    assert_int_equal(imap_parser_feed(p, "b APPEND INBOX (\\Seen) ~{5+}\r\n",
				      30, &used), IMAP_PARSE_MORE);
    assert_int_equal(used, 30);
    assert_true(imap_parser_literal_pending(p));
    assert_int_equal(imap_parser_literal_size(p), 5);
    assert_string_equal(imap_parser_name(p), "APPEND");
    imap_parser_literal_external(p);
    assert_int_equal(imap_parser_feed(p, "\r\n", 2, &used), IMAP_PARSE_DONE);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 3);
    assert_int_equal(args[1].type, IMAP_ARG_LIST);
    assert_int_equal(args[2].type, IMAP_ARG_LITERAL_EXT);
    assert_int_equal(args[2].literal8, 1);
    assert_int_equal(args[2].len, 5);
    imap_parser_reset(p);

    /* size 0 */
    assert_int_equal(imap_parser_feed(p, "c X {0+}\r\n", 10, &used),
		     IMAP_PARSE_MORE);
    assert_true(imap_parser_literal_pending(p));
    imap_parser_literal_external(p);
    assert_int_equal(imap_parser_feed(p, ")\r\nd NOOP\r\n", 11, &used),
		     IMAP_PARSE_ERROR);
    assert_string_equal(imap_parser_error(p), "unexpected ')'");
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "\r\nd NOOP\r\n", 10, &used),
		     IMAP_PARSE_DONE);
    imap_parser_reset(p);

    /* only the last literal may be streamed */
    assert_int_equal(imap_parser_feed(p, "e APPEND INBOX {3+}\r\n", 21, &used),
		     IMAP_PARSE_MORE);
    imap_parser_literal_external(p);
    assert_int_equal(imap_parser_feed(p, " {3+}\r\nabc\r\nf NOOP\r\n", 20,
				      &used), IMAP_PARSE_ERROR);
    assert_int_equal(used, 10);
    assert_string_equal(imap_parser_error(p), "literal after a streamed literal");
    assert_string_equal(imap_parser_tag(p), "e");
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "\r\nf NOOP\r\n", 10, &used),
		     IMAP_PARSE_DONE);
    assert_string_equal(imap_parser_tag(p), "f");
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "g APPEND INBOX {3}\r\n", 20, &used),
		     IMAP_PARSE_LITERAL);
    imap_parser_literal_external(p);
    assert_int_equal(imap_parser_feed(p, " {3}\r\n", 6, &used),
		     IMAP_PARSE_ERROR);
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "h NOOP\r\n", 8, &used),
		     IMAP_PARSE_DONE);
    imap_parser_free(p);
}

/* Literals too big to keep are offered for streaming, up to stream_max */

static void test_literal_offered(void **state)
{
    static const IMAP_PARSER_LIMITS offer_limits = {
	.line_max = 64,
	.literal_max = 50,
	.args_max = 8,
	.depth_max = 3,
	.text_max = 60,
	.stream_max = 1000,
    };
    IMAP_PARSER *p = imap_parser_create(&offer_limits);
    const IMAP_ARG *args;
    size_t  used;
    int     count;

    /* {N+} over literal_max: offered at its first byte, not skipped */
    assert_int_equal(imap_parser_feed(p, "a APPEND INBOX {500+}\r\nxyz", 26, &used),
		     IMAP_PARSE_LITERAL);
    assert_int_equal(used, 23);
    assert_true(imap_parser_literal_offered(p));
    assert_false(imap_parser_literal_sync(p));
    assert_true(imap_parser_literal_pending(p));
    assert_int_equal(imap_parser_literal_size(p), 500);
    imap_parser_literal_external(p);
    assert_false(imap_parser_literal_offered(p));
    assert_int_equal(imap_parser_feed(p, "\r\n", 2, &used), IMAP_PARSE_DONE);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 2);
    assert_int_equal(args[1].type, IMAP_ARG_LITERAL_EXT);
    assert_int_equal(args[1].len, 500);
    imap_parser_reset(p);

    /* {N} refused: an error at once, the client sends nothing */
    assert_int_equal(imap_parser_feed(p, "b APPEND INBOX {51}\r\n", 21, &used),
		     IMAP_PARSE_LITERAL);
    assert_true(imap_parser_literal_sync(p));
    assert_int_equal(imap_parser_literal_refuse(p), IMAP_PARSE_ERROR);
    assert_string_equal(imap_parser_error(p), "literal too large");
    assert_string_equal(imap_parser_tag(p), "b");
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "c NOOP\r\n", 8, &used), IMAP_PARSE_DONE);
    imap_parser_reset(p);

    /* {N+} refused: its bytes are skipped, then the error */
    assert_int_equal(imap_parser_feed(p, "d X {52+}\r\n", 11, &used),
		     IMAP_PARSE_LITERAL);
    assert_int_equal(imap_parser_literal_refuse(p), IMAP_PARSE_MORE);
    assert_int_equal(imap_parser_feed(p, "0123456789012345678901234567890123456789"
				      "012345678901\r\ne NOOP\r\n", 62, &used),
		     IMAP_PARSE_ERROR);
    assert_int_equal(used, 52);
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "\r\ne NOOP\r\n", 10, &used), IMAP_PARSE_DONE);
    assert_string_equal(imap_parser_tag(p), "e");
    imap_parser_reset(p);

    /* text_max: two literals that fit literal_max but not together */
    assert_int_equal(imap_parser_feed(p, "f X {40+}\r\n", 11, &used), IMAP_PARSE_MORE);
    assert_int_equal(imap_parser_feed(p, "0123456789012345678901234567890123456789"
				      " {30}\r\n", 47, &used), IMAP_PARSE_LITERAL);
    assert_true(imap_parser_literal_offered(p));
    assert_int_equal(imap_parser_literal_refuse(p), IMAP_PARSE_ERROR);
    imap_parser_reset(p);

    /* beyond stream_max: refused as without streaming */
    assert_int_equal(imap_parser_feed(p, "g APPEND INBOX {1001}\r\n", 23, &used),
		     IMAP_PARSE_ERROR);
    assert_string_equal(imap_parser_error(p), "literal too large");
    imap_parser_free(p);
}

/* The error result keeps the tag; reset keeps the skip going */

static void test_error_then_reset(void **state)
{
    IMAP_PARSER *p = imap_parser_create(&big_limits);
    static const char in[] = "tag1 FETCH 1 (FLAGS\x01 more stuff\r\ntag2 NOOP\r\n";
    size_t  used;

    assert_int_equal(imap_parser_feed(p, in, 20, &used), IMAP_PARSE_ERROR);
    assert_int_equal(used, 20);
    assert_string_equal(imap_parser_tag(p), "tag1");
    assert_string_equal(imap_parser_error(p), "bad character in atom");
    imap_parser_reset(p);
    assert_null(imap_parser_error(p));
    assert_int_equal(imap_parser_feed(p, in + 20, 5, &used), IMAP_PARSE_MORE);
    imap_parser_reset(p);		/* a reset mid-skip changes nothing */
    assert_int_equal(imap_parser_feed(p, in + 25, sizeof(in) - 26, &used),
		     IMAP_PARSE_DONE);
    assert_string_equal(imap_parser_tag(p), "tag2");
    assert_string_equal(imap_parser_name(p), "NOOP");
    imap_parser_free(p);
}

/* Big literals and many arguments: memory is returned at reset */

static void test_big_command(void **state)
{
    IMAP_PARSER_LIMITS limits = big_limits;
    VSTRING *in = vstring_alloc(1000);
    IMAP_PARSER *p;
    const IMAP_ARG *args;
    size_t  used;
    int     count;

    limits.line_max = 1024 * 1024;
    limits.args_max = 100000;
    vstring_strcpy(in, "a UID FETCH ");
    for (int i = 1; i <= 20000; i++)
	vstring_sprintf_append(in, "%s%d", i > 1 ? "," : "", 2 * i);
    vstring_strcat(in, " (");
    for (int i = 0; i < 5000; i++)
	vstring_strcat(in, i ? " (x y)" : "(x y)");
    vstring_strcat(in, ")\r\n");
    p = imap_parser_create(&limits);
    assert_int_equal(imap_parser_feed(p, STR(in), LEN(in), &used),
		     IMAP_PARSE_DONE);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 3);
    assert_int_equal(args[2].count, 5000);
    assert_int_equal(args[2].list[4999].count, 2);
    assert_string_equal(args[2].list[4999].list[1].data, "y");
    imap_parser_reset(p);
    assert_int_equal(imap_parser_feed(p, "b NOOP\r\n", 8, &used),
		     IMAP_PARSE_DONE);
    imap_parser_free(p);
    vstring_free(in);
}

/* The convenience functions */

static void test_convenience(void **state)
{
    IMAP_PARSER *p = imap_parser_create(&big_limits);
    static const char in[] = "a X atom \"str\" {3+}\r\nlit nil (l) ~{2+}\r\nl8\r\n";
    const IMAP_ARG *args;
    size_t  used;
    int     count;

    assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used),
		     IMAP_PARSE_DONE);
    args = imap_parser_args(p, &count);
    assert_int_equal(count, 6);
    assert_string_equal(imap_arg_astring(args + 0), "atom");
    assert_string_equal(imap_arg_astring(args + 1), "str");
    assert_string_equal(imap_arg_astring(args + 2), "lit");
    assert_int_equal(args[3].type, IMAP_ARG_NIL);
    assert_string_equal(args[3].data, "nil");
    assert_null(imap_arg_astring(args + 3));
    assert_null(imap_arg_astring(args + 4));
    assert_null(imap_arg_astring(0));
    assert_string_equal(imap_arg_astring(args + 5), "l8");
    assert_int_equal(args[5].literal8, 1);
    assert_true(imap_arg_atom_is(args + 0, "ATOM"));
    assert_true(imap_arg_atom_is(args + 0, "atom"));
    assert_false(imap_arg_atom_is(args + 0, "ato"));
    assert_false(imap_arg_atom_is(args + 1, "str"));
    assert_false(imap_arg_atom_is(args + 2, "lit"));
    assert_false(imap_arg_atom_is(args + 3, "NIL"));
    assert_false(imap_arg_atom_is(0, "x"));
    assert_string_equal(imap_parser_name(p), "X");
    imap_parser_free(p);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rfc3501_examples),
	cmocka_unit_test(test_client_commands),
	cmocka_unit_test(test_syntax_details),
	cmocka_unit_test(test_bad_syntax),
	cmocka_unit_test(test_bad_literals),
	cmocka_unit_test(test_error_skips_literal),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_long_line),
	cmocka_unit_test(test_literal_refused),
	cmocka_unit_test(test_feed_results),
	cmocka_unit_test(test_literal_external),
	cmocka_unit_test(test_literal_offered),
	cmocka_unit_test(test_error_then_reset),
	cmocka_unit_test(test_big_command),
	cmocka_unit_test(test_convenience),
    };

    msg_init("test_imap_parser", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, 0, 0));
}
