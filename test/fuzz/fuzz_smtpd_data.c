/*
 * fuzz_smtpd_data.c - libFuzzer harness for smtpd's DATA reader and
 * header scanner (smtpd/smtpd_data.c, pure buffer code).
 *
 * Built and run by test/fuzz/run.sh.  Input layout: byte 0 picks the
 * bare-LF policy and whether the DATA command ended in CRLF, byte 1 the
 * line limit (3..258), byte 2 seeds the chunk sizes; the rest is what
 * the client sends after DATA.  The content is fed twice, whole and in
 * pseudo-random chunks as a socket would deliver it, and checked:
 *   - both ways end the same way and, at the end of data, consumed the
 *     same bytes and produced the same content;
 *   - under the normalize and reject policies the data ends exactly at
 *     the first <CR><LF>.<CR><LF> (no smuggling with bare LF), and reject
 *     stops at the first bare LF before it;
 *   - fed bytes are never used twice or beyond the buffer.
 * The same bytes also go to the BDAT reader, whole and in chunks: both
 * give exactly the content with each CRLF as LF and a line end added at
 * the end when missing (a CR there goes), whatever the chunk sizes.
 * A broken invariant calls abort().
 */
#include "sys_defs.h"

#include "msg.h"
#include "vstring.h"
#include "smtpd_data.h"

#define FUZZ_MAX_INPUT	(64 * 1024)

typedef struct RUN {
    VSTRING *out;			/* content produced */
    VSTRING *pending;			/* chunked run: bytes not yet used */
    size_t  consumed;			/* input bytes used */
    int     status;			/* last DATA_* status */
    HDR_SCAN hdr;
} RUN;

static RUN whole, chunked;
static VSTRING *bdat_whole, *bdat_chunked, *bdat_want;

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_smtpd_data: %s\n", what);
    abort();
}

/* collect - DATA_OUT_FN: keep the content, scan line starts */

static void collect(void *ctx, const char *data, size_t len, int line_start)
{
    RUN    *run = ctx;

    vstring_memcat(run->out, data, len);
    if (line_start)
	(void) hdr_scan_line(&run->hdr, data, len);
}

/* run_reset - empty state for one run */

static void run_reset(RUN *run)
{
    vstring_reset(run->out);
    vstring_reset(run->pending);
    run->consumed = 0;
    run->status = DATA_MORE;
    hdr_scan_init(&run->hdr);
}

/* feed - feed BUF until the reader uses nothing more or stops; bytes used */

static size_t feed(DATA_READER *dr, RUN *run, const char *buf, size_t len)
{
    size_t  pos = 0;
    size_t  used;

    while (run->status == DATA_MORE && pos < len) {
	used = data_reader_feed(dr, buf + pos, len - pos, collect, run, &run->status);
	if (used > len - pos)
	    fail("data_reader_feed used more bytes than it was given");
	if (used == 0)
	    break;
	pos += used;
    }
    run->consumed += pos;
    return (pos);
}

/* feed_chunked - deliver DATA in chunks whose sizes come from SEED */

static void feed_chunked(DATA_READER *dr, const char *data, size_t len, unsigned seed)
{
    size_t  off = 0;

    while (off < len && chunked.status == DATA_MORE) {
	size_t  n;

	seed = seed * 1103515245u + 12345u;
	n = 1 + (seed >> 16) % 97;
	if (n > len - off)
	    n = len - off;
	vstring_memcat(chunked.pending, data + off, n);
	off += n;
	vstring_drop_head(chunked.pending,
			  feed(dr, &chunked, STR(chunked.pending), LEN(chunked.pending)));
    }
}

/* expected_end - where CRLF.CRLF ends the data (strict policies); 0 if never */

static size_t expected_end(const char *data, size_t len, int prev_crlf)
{
    const char *p;

    if (prev_crlf && len >= 3 && memcmp(data, ".\r\n", 3) == 0)
	return (3);
    p = memmem(data, len, "\r\n.\r\n", 5);
    return (p ? (size_t) (p - data) + 5 : 0);
}

/* first_bare_lf - offset of the first LF without CR before it, or LEN */

static size_t first_bare_lf(const char *data, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++)
	if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
	    return (i);
    return (len);
}

/* check_strict - the normalize/reject policies end only at CRLF.CRLF */

static void check_strict(int policy, const char *data, size_t len, int prev_crlf)
{
    size_t  end = expected_end(data, len, prev_crlf);
    size_t  bare = first_bare_lf(data, len);

    if (policy == BARE_LF_REJECT && bare < (end ? end : len)) {
	if (whole.status != DATA_BARE_LF)
	    fail("reject policy missed a bare LF");
	if (whole.consumed > bare)
	    fail("reject policy used bytes past the bare LF");
	return;
    }
    if (end) {
	if (whole.status != DATA_END || whole.consumed != end)
	    fail("data did not end at the first CRLF.CRLF");
    } else if (whole.status == DATA_END) {
	fail("data ended without CRLF.CRLF");
    }
}

/* compare_runs - whole and chunked feeding must agree */

static void compare_runs(void)
{
    if (whole.status != chunked.status)
	fail("whole and chunked feeding end differently");
    if (whole.status == DATA_END) {
	if (whole.consumed != chunked.consumed)
	    fail("whole and chunked feeding used different byte counts");
	if (LEN(whole.out) != LEN(chunked.out)
	    || memcmp(STR(whole.out), STR(chunked.out), LEN(whole.out)) != 0)
	    fail("whole and chunked feeding produced different content");
    } else if (memcmp(STR(whole.out), STR(chunked.out),
		      LEN(whole.out) < LEN(chunked.out) ? LEN(whole.out) : LEN(chunked.out)) != 0) {
	/*
	 * Without an end, whole feeding may pass on more of a long last line;
	 * at a bare LF (reject), chunked feeding may have passed on the first
	 * pieces of the offending line.  Either way one is a prefix.
	 */
	fail("whole and chunked content differ before the end");
    }
}

/* bdat_collect - DATA_OUT_FN for the BDAT runs */

static void bdat_collect(void *ctx, const char *data, size_t len, int line_start)
{
    vstring_memcat((VSTRING *) ctx, data, len);
}

/* bdat_run - DATA through a BDAT reader in chunks from SEED (0: whole) */

static void bdat_run(VSTRING *out, const char *data, size_t len, size_t limit,
		             unsigned seed)
{
    BDAT_READER br;
    size_t  off = 0, n;

    vstring_reset(out);
    bdat_reader_init(&br, limit);
    while (off < len) {
	seed = seed * 1103515245u + 12345u;
	n = seed ? 1 + (seed >> 16) % 97 : len;
	if (n > len - off)
	    n = len - off;
	bdat_reader_feed(&br, data + off, n, bdat_collect, out);
	off += n;
    }
    bdat_reader_end(&br, bdat_collect, out);
    bdat_reader_free(&br);
}

/* bdat_check - the BDAT reader gives the content with LF line ends */

static void bdat_check(const char *data, size_t len, size_t limit, unsigned seed)
{
    vstring_reset(bdat_want);
    for (size_t i = 0; i < len; i++)
	if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
	    vstring_addch(bdat_want, data[i]);
    if (LEN(bdat_want) > 0 && STR(bdat_want)[LEN(bdat_want) - 1] != '\n') {
	if (STR(bdat_want)[LEN(bdat_want) - 1] == '\r')
	    vstring_truncate(bdat_want, LEN(bdat_want) - 1);
	vstring_addch(bdat_want, '\n');
    }
    bdat_run(bdat_whole, data, len, limit, 0);
    bdat_run(bdat_chunked, data, len, limit, seed | 1);
    if (LEN(bdat_whole) != LEN(bdat_want)
	|| memcmp(STR(bdat_whole), STR(bdat_want), LEN(bdat_want)) != 0)
	fail("BDAT content is not the input with LF line ends");
    if (LEN(bdat_chunked) != LEN(bdat_want)
	|| memcmp(STR(bdat_chunked), STR(bdat_want), LEN(bdat_want)) != 0)
	fail("BDAT content depends on the chunk sizes");
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_smtpd_data", 0);
    whole.out = vstring_alloc(1024);
    whole.pending = vstring_alloc(16);
    chunked.out = vstring_alloc(1024);
    chunked.pending = vstring_alloc(1024);
    bdat_whole = vstring_alloc(1024);
    bdat_chunked = vstring_alloc(1024);
    bdat_want = vstring_alloc(1024);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    DATA_READER dr;
    int     policy, prev_crlf;
    size_t  limit;
    unsigned seed;
    const char *content;
    size_t  len;

    if (size < 3 || size > FUZZ_MAX_INPUT)
	return (0);
    policy = data[0] % 3;
    prev_crlf = (data[0] & 0x80) == 0;
    limit = 3 + data[1];
    seed = data[2];
    content = (const char *) data + 3;
    len = size - 3;

    run_reset(&whole);
    data_reader_init(&dr, policy, limit, prev_crlf);
    feed(&dr, &whole, content, len);

    run_reset(&chunked);
    data_reader_init(&dr, policy, limit, prev_crlf);
    feed_chunked(&dr, content, len, seed);

    compare_runs();
    if (policy != BARE_LF_NO)
	check_strict(policy, content, len, prev_crlf);
    bdat_check(content, len, limit, seed);
    return (0);
}
