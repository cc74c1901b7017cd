/*
 * test_message_part.c - unit tests for lib/mail/message_part.c (the MIME
 * structure parser).
 *
 * Offsets, sizes, CRLF sizes and line counts of headers and bodies, with
 * LF and CRLF messages; boundaries and the newline before them; header
 * fields kept (Content-*, ENVELOPE fields, several From: lines, NUL);
 * the MIME-Version rule; message_part_find() numbering; the same tree
 * whatever the size of the pieces READ returns (every message of
 * test/unit/data/mail/, down to one byte at a time); RFC822.SIZE as
 * Dovecot computed it for that corpus; the limits (depth, part count,
 * boundary length); read errors; and speed and memory on big and hostile
 * input (20 MB messages streamed through READ, never held whole).
 */
#include "sys_defs.h"
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <cmocka.h>
#include "mymalloc.h"
#include "vstring.h"
#include "message_part.h"

#define DATA_DIR	"test/unit/data/mail"

 /*
  * A reader over a string, STEP bytes at a time (0: as much as asked).
  */
typedef struct SOURCE {
    const char *data;
    size_t  len;
    size_t  pos;
    size_t  step;
    int     fail;			/* return -1 at the end */
} SOURCE;

static ssize_t read_source(void *ctx, char *buf, size_t len)
{
    SOURCE *src = ctx;
    size_t  n = src->len - src->pos;

    if (n == 0 && src->fail) {
	errno = EIO;
	return (-1);
    }
    if (n > len)
	n = len;
    if (src->step && n > src->step)
	n = src->step;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (n);
}

static MESSAGE_PART *parse_len(const char *data, size_t len, size_t step)
{
    SOURCE  src = {data, len, 0, step, 0};
    VSTRING *why = vstring_alloc(10);
    MESSAGE_PART *top = message_parse(read_source, &src, why);

    assert_non_null(top);
    vstring_free(why);
    return (top);
}

static MESSAGE_PART *parse(const char *data)
{
    return (parse_len(data, strlen(data), 0));
}

/* check_sizes - header and body of PART */

static void check_sizes(const MESSAGE_PART *part, off_t hdr_offset,
			        off_t hdr_size, off_t hdr_vsize, off_t body_size,
			        off_t body_vsize, unsigned lines)
{
    assert_int_equal(part->hdr_offset, hdr_offset);
    assert_int_equal(part->hdr_size, hdr_size);
    assert_int_equal(part->hdr_vsize, hdr_vsize);
    assert_int_equal(part->body_offset, hdr_offset + hdr_size);
    assert_int_equal(part->body_size, body_size);
    assert_int_equal(part->body_vsize, body_vsize);
    assert_int_equal(part->body_lines, lines);
}

static void test_single(void **state)
{
    MESSAGE_PART *top = parse("Subject: x\n\nbody\n");

    check_sizes(top, 0, 12, 14, 5, 6, 1);
    assert_int_equal(top->kind, MESSAGE_PART_LEAF);
    assert_string_equal(top->type, "text");
    assert_string_equal(top->subtype, "plain");
    assert_int_equal(top->param_count, 0);
    assert_true(top->is_message);
    assert_string_equal(top->env_subject, "x");
    message_part_free(top);

    /* CRLF, a lone CR, no newline at the end */
    top = parse("A: b\r\n\r\nx\ry\r\nz");
    check_sizes(top, 0, 8, 8, 6, 6, 1);
    message_part_free(top);

    /* No empty line: all header; no header: all body */
    top = parse("Subject: x");
    check_sizes(top, 0, 10, 10, 0, 0, 0);
    message_part_free(top);
    top = parse("\nbody only\n");
    check_sizes(top, 0, 1, 2, 10, 11, 1);
    message_part_free(top);
    top = parse("");
    check_sizes(top, 0, 0, 0, 0, 0, 0);
    message_part_free(top);
}

static void test_multipart(void **state)
{
    const char *msg =
    "Content-Type: multipart/mixed; boundary=b\r\n"	/* 43 */
    "\r\n"					/* 45 */
    "preamble\r\n"				/* 55 */
    "--b\r\n"					/* 60 */
    "Content-Type: text/html\r\n"		/* 85 */
    "\r\n"					/* 87 */
    "<p>x</p>\r\n"				/* 97: the CRLF is the boundary's */
    "--b\n"					/* 101 */
    "\n"					/* 102 */
    "two\n"					/* 106 */
    "lines\n"					/* 112 */
    "--b--\n"					/* 118 */
    "epilogue\n";				/* 127 */
    MESSAGE_PART *top = parse(msg);
    const MESSAGE_PART *p;

    assert_int_equal(top->kind, MESSAGE_PART_MULTIPART);
    assert_string_equal(top->subtype, "mixed");
    assert_int_equal(top->child_count, 2);
    check_sizes(top, 0, 45, 45, 82, 88, 11);
    p = top->children;
    check_sizes(p, 60, 27, 27, 8, 8, 0);
    assert_string_equal(p->subtype, "html");
    assert_false(p->is_message);
    p = top->children + 1;
    check_sizes(p, 101, 1, 2, 9, 10, 1);	/* "two\nlines" */
    assert_string_equal(p->type, "text");
    message_part_free(top);
}

static void test_boundary_rules(void **state)
{
    MESSAGE_PART *top;

    /* An outer boundary ends the inner multipart; prefixes match. */
    top = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: multipart/alternative; boundary=c\n\n--c\n\nin c\n"
		"--b trailing junk\n\nafter\n--b--\n");
    assert_int_equal(top->child_count, 2);
    assert_int_equal(top->children[0].child_count, 1);
    assert_int_equal(top->children[0].children[0].body_size, 4);
    assert_int_equal(top->children[1].body_size, 5);
    message_part_free(top);

    /* A header cut short by a boundary loses its last newline. */
    top = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: text/plain\n--b\n\nx\n--b--\n");
    assert_int_equal(top->child_count, 2);
    check_sizes(top->children, 47, 24, 24, 0, 0, 0);
    message_part_free(top);

    /* An empty body: the newline ending the header stays in it. */
    top = parse("Content-Type: multipart/digest; boundary=b\n\n--b\n"
		"\nSubject: in\n\n--b--\n");
    assert_int_equal(top->child_count, 1);
    assert_int_equal(top->children[0].kind, MESSAGE_PART_MESSAGE);
    assert_int_equal(top->children[0].body_size, 13);
    assert_int_equal(top->children[0].body_lines, 2);
    assert_string_equal(top->children[0].children[0].env_subject, "in");
    message_part_free(top);

    /* "--b--" closes b when b is open; the longer "b-" otherwise. */
    top = parse("Content-Type: multipart/mixed; boundary=\"b-\"\n\n--b-\n"
		"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n"
		"\nafter\n--b---\n");
    assert_int_equal(top->child_count, 1);
    message_part_free(top);

    /* The close boundary first: no parts, the rest is epilogue. */
    top = parse("Content-Type: multipart/mixed; boundary=b\n\n--b--\n--b\n\nx\n");
    assert_int_equal(top->child_count, 0);
    message_part_free(top);

    /* No boundary parameter: no parts. */
    top = parse("Content-Type: multipart/mixed\n\n--b\n\nx\n");
    assert_int_equal(top->kind, MESSAGE_PART_MULTIPART);
    assert_int_equal(top->child_count, 0);
    message_part_free(top);
}

static void test_fields(void **state)
{
    MESSAGE_PART *top;
    const char *v;

    static const char fields[] = "MIME-Version: 1.0\n"
    "Content-Type: TEXT/Plain; CHARSET=UTF-8; Name*0=a; name*1=b\n"
    "Content-ID: <id\n\t1>\n"
    "Content-Description:   d  e  \n"
    "Content-Transfer-Encoding: QUOTED-printable (x)\n"
    "Content-Disposition: Attachment; filename=\"f.txt\"\n"
    "Content-Language: en, de\n"
    "Content-Location: http://x\n"
    "Content-MD5: abc\n"
    "From: a@b\nSubject: one\nSubject: two\n"
    "From: c@d\nTo: \"x\" <x@y>\nDate: now\nMessage-ID: <m>\n"
    "In-Reply-To: <r>\nX-Other: v\nSubject\x00: no\n"
    "Cc: a\x00z@b\n\n";

    top = parse_len(fields, sizeof(fields) - 1, 0);
    assert_string_equal(top->type, "TEXT");
    assert_string_equal(top->subtype, "Plain");
    assert_int_equal(top->param_count, 2);
    assert_string_equal(top->params[0].name, "CHARSET");
    assert_string_equal(top->params[0].value, "UTF-8");
    assert_string_equal(top->params[1].name, "Name");
    assert_string_equal(top->params[1].value, "ab");
    assert_string_equal(top->id, "<id\n\t1>");
    assert_string_equal(top->description, "d  e  ");
    assert_string_equal(top->encoding, "QUOTED-printable");
    assert_string_equal(top->disposition, "Attachment");
    assert_int_equal(top->disp_param_count, 1);
    assert_string_equal(top->disp_params[0].value, "f.txt");
    assert_string_equal(top->language, "en, de");
    assert_string_equal(top->location, "http://x");
    assert_string_equal(top->md5, "abc");
    assert_string_equal(top->env_subject, "two");
    assert_string_equal(top->env_date, "now");
    assert_string_equal(top->env_message_id, "<m>");
    assert_string_equal(top->env_in_reply_to, "<r>");
    v = top->env_from;
    assert_string_equal(v, "a@b");
    assert_non_null(v = message_part_next_value(v));
    assert_string_equal(v, "c@d");
    assert_null(message_part_next_value(v));
    assert_string_equal(top->env_to, "\"x\" <x@y>");
    assert_string_equal(top->env_cc, "a\xef\xbf\xbdz@b");
    assert_null(top->env_sender);
    assert_null(top->env_bcc);
    message_part_free(top);

    /* Without MIME-Version and Content-Type, Content-* fields do not count. */
    top = parse("Content-Disposition: attachment\nContent-ID: <x>\n\nb\n");
    assert_null(top->disposition);
    assert_null(top->id);
    message_part_free(top);

    /* A bad Content-Type is text/plain; the first one counts. */
    top = parse("Content-Type: text/plain garbage\nContent-Type: image/png\n\nb\n");
    assert_string_equal(top->type, "text");
    assert_string_equal(top->subtype, "plain");
    assert_int_equal(top->param_count, 0);
    message_part_free(top);

    /* All white space: one space is dropped, the rest kept. */
    top = parse("MIME-Version: 1.0\nContent-Location:   \n\nb\n");
    assert_string_equal(top->location, "  ");
    message_part_free(top);
}

static void test_message_rfc822(void **state)
{
    MESSAGE_PART *top;
    const MESSAGE_PART *inner;

    top = parse("Content-Type: message/rfc822\n\nSubject: inner\nFrom: a@b\n\n"
		"inner body\n");
    assert_int_equal(top->kind, MESSAGE_PART_MESSAGE);
    assert_int_equal(top->child_count, 1);
    check_sizes(top, 0, 30, 32, 37, 41, 4);
    inner = top->children;
    assert_true(inner->is_message);
    check_sizes(inner, 30, 26, 29, 11, 12, 1);
    assert_string_equal(inner->env_subject, "inner");
    message_part_free(top);

    /* message/global is a leaf, as in Dovecot 2.3 */
    top = parse("Content-Type: message/global\n\nSubject: x\n\ny\n");
    assert_int_equal(top->kind, MESSAGE_PART_LEAF);
    message_part_free(top);

    /* No body: still one (empty) enclosed message */
    top = parse("Content-Type: message/rfc822\n");
    assert_int_equal(top->child_count, 1);
    check_sizes(top->children, 29, 0, 0, 0, 0, 0);
    message_part_free(top);
}

static void test_find(void **state)
{
    MESSAGE_PART *top = parse("Content-Type: multipart/mixed; boundary=b\n\n"
			      "--b\n\none\n"
			      "--b\nContent-Type: message/rfc822\n\nSubject: s\n\ntwo\n"
			      "--b\nContent-Type: message/rfc822\n\n"
			      "Content-Type: multipart/alternative; boundary=c\n\n"
			      "--c\n\nthree-one\n--c--\n"
			      "--b--\n");
    MESSAGE_PART *single = parse("Subject: x\n\nbody\n");
    static const struct {
	unsigned nums[4];
	int     count;
	int     want;			/* -1: none; else a code for the part */
    }       cases[] = {
	{{1}, 1, 1},
	{{2}, 1, 2},
	{{2, 1}, 2, 21},		/* the enclosed single-part message */
	{{2, 1, 1}, 3, -1},
	{{3, 1}, 2, 31},		/* first part of the enclosed multipart */
	{{3, 1, 1}, 3, 31},		/* a leaf of a multipart is its own part 1 */
	{{3, 1, 1, 1}, 4, -1},
	{{1, 1}, 2, 1},
	{{1, 2}, 2, -1},
	{{4}, 1, -1},
	{{0}, 1, -1},
    };
    const MESSAGE_PART *want[32] = {0};

    want[1] = top->children;
    want[2] = top->children + 1;
    want[21] = top->children[1].children;
    want[31] = top->children[2].children[0].children;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	const MESSAGE_PART *got = message_part_find(top, cases[i].nums, cases[i].count);

	if (cases[i].want < 0)
	    assert_null(got);
	else
	    assert_ptr_equal(got, want[cases[i].want]);
    }
    {
	unsigned one[2] = {1, 1};

	assert_ptr_equal(message_part_find(single, one, 1), single);
	assert_null(message_part_find(single, one, 2));
    }
    message_part_free(top);
    message_part_free(single);
}

 /*
  * The same tree whatever the pieces.
  */
static void same_tree(const MESSAGE_PART *a, const MESSAGE_PART *b)
{
    assert_int_equal(a->hdr_offset, b->hdr_offset);
    assert_int_equal(a->hdr_size, b->hdr_size);
    assert_int_equal(a->hdr_vsize, b->hdr_vsize);
    assert_int_equal(a->body_size, b->body_size);
    assert_int_equal(a->body_vsize, b->body_vsize);
    assert_int_equal(a->body_lines, b->body_lines);
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->type, b->type);
    assert_string_equal(a->subtype, b->subtype);
    assert_int_equal(a->param_count, b->param_count);
    assert_int_equal(a->child_count, b->child_count);
    assert_int_equal(!a->env_subject, !b->env_subject);
    if (a->env_subject)
	assert_string_equal(a->env_subject, b->env_subject);
    for (int i = 0; i < a->child_count; i++)
	same_tree(a->children + i, b->children + i);
}

/* check_nesting - children inside their parents, in order */

static void check_nesting(const MESSAGE_PART *part, off_t msg_size)
{
    off_t   end = part->body_offset + part->body_size;
    off_t   prev_end = part->body_offset;

    assert_true(part->body_offset == part->hdr_offset + part->hdr_size);
    assert_true(end <= msg_size);
    assert_true(part->hdr_vsize >= part->hdr_size);
    assert_true(part->body_vsize >= part->body_size);
    for (int i = 0; i < part->child_count; i++) {
	const MESSAGE_PART *child = part->children + i;

	assert_true(child->hdr_offset >= prev_end);
	assert_true(child->body_offset + child->body_size <= end);
	prev_end = child->body_offset + child->body_size;
	check_nesting(child, msg_size);
    }
}

static int read_file(const char *path, VSTRING *buf)
{
    char    tmp[8192];
    ssize_t n;
    int     fd;

    vstring_reset(buf);
    if ((fd = open(path, O_RDONLY)) < 0)
	return (-1);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
    return (0);
}

/* dovecot_size - RFC822.SIZE from NAME.dovecot, or -1 */

static long dovecot_size(const char *eml, VSTRING *buf)
{
    VSTRING *path = vstring_alloc(100);
    const char *cp;
    long    size = -1;

    vstring_strncpy(path, eml, strlen(eml) - 4);
    vstring_strcat(path, ".dovecot");
    if (read_file(STR(path), buf) == 0
	&& (cp = strstr(STR(buf), "RFC822.SIZE ")) != 0
	&& (cp = strchr(cp, '\n')) != 0)
	size = atol(cp + 1);
    vstring_free(path);
    return (size);
}

static void test_corpus_pieces(void **state)
{
    DIR    *dir = opendir(DATA_DIR);
    struct dirent *de;
    VSTRING *path = vstring_alloc(100);
    VSTRING *msg = vstring_alloc(1000);
    VSTRING *buf = vstring_alloc(1000);
    static const size_t steps[] = {1, 2, 3, 7, 64, 1000};
    int     count = 0;

    assert_non_null(dir);
    while ((de = readdir(dir)) != 0) {
	size_t  len = strlen(de->d_name);
	MESSAGE_PART *whole;

	if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
	    continue;
	vstring_sprintf(path, "%s/%s", DATA_DIR, de->d_name);
	assert_int_equal(read_file(STR(path), msg), 0);
	whole = parse_len(STR(msg), LEN(msg), 0);
	check_nesting(whole, LEN(msg));
	if (dovecot_size(STR(path), buf) >= 0)
	    assert_int_equal(whole->hdr_vsize + whole->body_vsize,
			     dovecot_size(STR(path), buf));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
	    MESSAGE_PART *pieces = parse_len(STR(msg), LEN(msg), steps[i]);

	    same_tree(whole, pieces);
	    message_part_free(pieces);
	}
	message_part_free(whole);
	count++;
    }
    closedir(dir);
    assert_true(count >= 100);
    vstring_free(path);
    vstring_free(msg);
    vstring_free(buf);
}

 /*
  * Limits.
  */
static void test_limits(void **state)
{
    VSTRING *msg = vstring_alloc(10000);
    MESSAGE_PART *top;
    const MESSAGE_PART *part;
    int     depth;

    /* Nesting: MESSAGE_DEPTH_MAX levels, then application/octet-stream */
    for (int i = 0; i < MESSAGE_DEPTH_MAX + 10; i++)
	vstring_sprintf_append(msg, "Content-Type: multipart/mixed; boundary=b%d\n"
			       "\n--b%d\n", i, i);
    vstring_strcat(msg, "\nbody\n");
    top = parse(STR(msg));
    for (depth = 1, part = top; part->child_count > 0; depth++)
	part = part->children;
    assert_int_equal(depth, MESSAGE_DEPTH_MAX);
    assert_string_equal(part->type, "application");
    assert_string_equal(part->subtype, "octet-stream");
    message_part_free(top);

    vstring_reset(msg);
    for (int i = 0; i < MESSAGE_DEPTH_MAX + 10; i++)
	vstring_strcat(msg, "Content-Type: message/rfc822\n\n");
    top = parse(STR(msg));
    for (depth = 1, part = top; part->child_count > 0; depth++)
	part = part->children;
    assert_int_equal(depth, MESSAGE_DEPTH_MAX);
    message_part_free(top);

    /* Parts: the last one runs to the end */
    vstring_strcpy(msg, "Content-Type: multipart/mixed; boundary=b\n\n");
    for (int i = 0; i < MESSAGE_PARTS_MAX + 100; i++)
	vstring_strcat(msg, "--b\n\nx\n");
    vstring_strcat(msg, "--b--\n");
    top = parse(STR(msg));
    assert_int_equal(top->child_count, MESSAGE_PARTS_MAX - 1);
    part = top->children + top->child_count - 1;
    assert_int_equal(part->body_offset + part->body_size, LEN(msg));
    message_part_free(top);

    /* Boundaries are compared on MESSAGE_BOUNDARY_MAX bytes */
    vstring_strcpy(msg, "Content-Type: multipart/mixed; boundary=");
    for (int i = 0; i < MESSAGE_BOUNDARY_MAX; i++)
	vstring_addch(msg, 'x');
    vstring_strcat(msg, "LONGER\n\n--");
    for (int i = 0; i < MESSAGE_BOUNDARY_MAX; i++)
	vstring_addch(msg, 'x');
    vstring_strcat(msg, "DIFFERENT\n\nx\n");
    top = parse(STR(msg));
    assert_int_equal(top->child_count, 1);
    message_part_free(top);
    vstring_free(msg);
}

static void test_read_error(void **state)
{
    SOURCE  src = {"Subject: x\n\nbody", 16, 0, 3, 1};
    VSTRING *why = vstring_alloc(10);

    assert_null(message_parse(read_source, &src, why));
    assert_non_null(strstr(STR(why), "read error"));
    vstring_free(why);
}

 /*
  * Big and hostile input, generated as it is read: a header part, then
  * COUNT copies of a line, then a tail.
  */
typedef struct GENERATOR {
    const char *head;
    const char *line;
    const char *tail;
    size_t  count;			/* lines left */
    size_t  head_pos, line_pos, tail_pos;
} GENERATOR;

static ssize_t read_generator(void *ctx, char *buf, size_t len)
{
    GENERATOR *gen = ctx;
    size_t  n = 0;

    while (n < len) {
	if (gen->head[gen->head_pos]) {
	    buf[n++] = gen->head[gen->head_pos++];
	} else if (gen->count > 0) {
	    buf[n++] = gen->line[gen->line_pos++];
	    if (gen->line[gen->line_pos] == 0) {
		gen->line_pos = 0;
		gen->count--;
	    }
	} else if (gen->tail[gen->tail_pos]) {
	    buf[n++] = gen->tail[gen->tail_pos++];
	} else {
	    break;
	}
    }
    return (n);
}

static double now(void)
{
    struct timeval tv;

    gettimeofday(&tv, 0);
    return (tv.tv_sec + tv.tv_usec / 1e6);
}

static long max_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_maxrss);
}

/* run_big - parse a generated message, within time and memory bounds */

static MESSAGE_PART *run_big(const char *head, const char *line, size_t count,
			             const char *tail)
{
    GENERATOR gen = {head, line, tail, count, 0, 0, 0};
    VSTRING *why = vstring_alloc(10);
    long    rss = max_rss_kb();
    double  start = now();
    MESSAGE_PART *top = message_parse(read_generator, &gen, why);

    assert_non_null(top);
    /* Generous bounds: sanitizer builds are slow, but never quadratic. */
    assert_true(now() - start < 20.0);
    assert_true(max_rss_kb() - rss < 64 * 1024);
    vstring_free(why);
    return (top);
}

static void test_big(void **state)
{
    MESSAGE_PART *top;
    VSTRING *nested = vstring_alloc(10000);

    /* 20 MB of body lines under two multiparts */
    top = run_big("Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
		  "Content-Type: multipart/alternative; boundary=inner\n\n"
		  "--inner\n\n",
		  "-- a line of body text that looks a bit like a boundary --\n",
		  350000, "--inner--\n--outer--\n");
    assert_int_equal(top->children[0].children[0].body_lines, 350000 - 1);
    message_part_free(top);

    /* 20 MB of "--" lines against 49 open boundaries that share a prefix */
    for (int i = 0; i < MESSAGE_DEPTH_MAX - 1; i++)
	vstring_sprintf_append(nested, "Content-Type: multipart/mixed; boundary="
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%02d"
		      "\n\n--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%02d\n",
			       i, i);
    top = run_big(STR(nested), "--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaxx\n",
		  250000, "");
    message_part_free(top);
    vstring_free(nested);

    /* A 20 MB header line, and 20 MB of short header fields */
    top = run_big("Subject: ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ",
		  280000, "\n\nbody\n");
    assert_int_equal(top->hdr_size, 9 + 72 * 280000 + 2);
    assert_true(strlen(top->env_subject) <= MESSAGE_HEADER_MAX);
    message_part_free(top);
    top = run_big("", "To: a@b\n", 2500000, "\nbody\n");
    assert_int_equal(top->body_size, 5);
    message_part_free(top);

    /* Thousands of parts, each with a header */
    top = run_big("Content-Type: multipart/mixed; boundary=b\n\n",
		  "--b\nContent-Type: text/plain; charset=us-ascii\nContent-ID: <x>\n\nx\n",
		  MESSAGE_PARTS_MAX - 2, "--b--\n");
    assert_int_equal(top->child_count, MESSAGE_PARTS_MAX - 2);
    message_part_free(top);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_single),
	cmocka_unit_test(test_multipart),
	cmocka_unit_test(test_boundary_rules),
	cmocka_unit_test(test_fields),
	cmocka_unit_test(test_message_rfc822),
	cmocka_unit_test(test_find),
	cmocka_unit_test(test_corpus_pieces),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_read_error),
	cmocka_unit_test(test_big),
    };

    return (cmocka_run_group_tests_name("message_part", tests, 0, 0));
}
