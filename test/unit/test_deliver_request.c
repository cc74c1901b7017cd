/*
 * test_deliver_request.c - unit tests for lib/global/deliver_request.c (the
 * qmgr <-> delivery agent request protocol).
 *
 * A client and a forked server talk over a socketpair: one request with
 * several recipients, one reply per recipient.  In-process cases check
 * every field, awkward characters, the recipient limit, and that the
 * server refuses bad requests (path tricks in the queue id or name, bad
 * recipient counts, missing or bad fields, truncated streams, junk) with
 * a reason and a cleared request.  Replies with bad syntax are refused too;
 * the site failure flag of a reply travels with deferrals only.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "attr.h"
#include "deliver_request.h"
#include "iostuff.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define GOOD_ID	"6919C2F70A3B1"

typedef struct PAIR {
    int     sv[2];
    VSTREAM *client;
    VSTREAM *server;
} PAIR;

static void pair_open(PAIR *p)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sv), 0);
    p->client = vstream_fdopen(p->sv[0], O_RDWR);
    p->server = vstream_fdopen(p->sv[1], O_RDWR);
    vstream_set_timeout(p->client, 5);
    vstream_set_timeout(p->server, 5);
}

static void pair_close(PAIR *p)
{
    if (p->client)
	(void) vstream_close(p->client);
    if (p->server)
	(void) vstream_close(p->server);
    p->client = p->server = 0;
}

/* A request with N recipients; addresses live in static storage */

static char rcpt_names[DELIVER_MAX_RCPT + 2][64];
static char orig_names[DELIVER_MAX_RCPT + 2][64];
static DELIVER_RCPT rcpt_table[DELIVER_MAX_RCPT + 2];

static DELIVER_REQUEST make_request(int n)
{
    DELIVER_REQUEST req;

    memset(&req, 0, sizeof(req));
    req.queue_name = "active";
    req.queue_id = GOOD_ID;
    req.content_offset = 321;
    req.content_size = 4567;
    req.sender = "sender@example.org";
    req.stats.arrival.tv_sec = 1700000000;
    req.stats.arrival.tv_usec = 123456;
    req.stats.active.tv_sec = 1700000001;
    req.stats.active.tv_usec = 5;
    req.stats.handoff.tv_sec = 1700000002;
    req.stats.handoff.tv_usec = 999999;
    for (int i = 0; i < n; i++) {
	snprintf(rcpt_names[i], sizeof(rcpt_names[i]), "user%d@example.com", i);
	snprintf(orig_names[i], sizeof(orig_names[i]), i % 2 ? "orig%d@example.com" : "", i);
	rcpt_table[i].address = rcpt_names[i];
	rcpt_table[i].orig = orig_names[i];
	rcpt_table[i].offset = 1000 + 10 * i;
    }
    req.rcpt_count = n;
    req.rcpts = rcpt_table;
    return (req);
}

/* assert_cleared - a refused request holds nothing */

static void assert_cleared(const DELIVER_REQUEST *req)
{
    assert_null(req->queue_name);
    assert_null(req->queue_id);
    assert_null(req->sender);
    assert_null(req->rcpts);
    assert_int_equal(req->rcpt_count, 0);
}

/* server_child - the delivery agent side, in a forked child */

static int server_child(VSTREAM *stream)
{
    DELIVER_REQUEST req;
    VSTRING *why = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    static const int status[] = {DELIVER_STAT_OK, DELIVER_STAT_DEFER, DELIVER_STAT_BOUNCE};
    static const char *dsn[] = {"2.0.0", "4.2.2", "5.1.1"};

    if (deliver_request_get(stream, &req, why) < 0)
	return (10);
    if (strcmp(req.queue_name, "active") || strcmp(req.queue_id, GOOD_ID)
	|| req.content_offset != 321 || req.content_size != 4567
	|| strcmp(req.sender, "sender@example.org") || req.rcpt_count != 5)
	return (11);
    for (int i = 0; i < req.rcpt_count; i++) {
	vstring_sprintf(reason, "done with %s", req.rcpts[i].address);
	if (deliver_reply_put(stream, status[i % 3], dsn[i % 3], STR(reason), 0) < 0)
	    return (12);
    }
    deliver_request_free(&req);
    vstring_free(why);
    vstring_free(reason);
    return (0);
}

static void test_round_trip_forked(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(5);
    DELIVER_REPLY reply;
    pid_t   pid;
    int     status;
    char    want[100];

    pair_open(&p);
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) == 0) {
	alarm(10);
	_exit(server_child(p.server));
    }
    assert_true(pid > 0);
    (void) vstream_close(p.server);
    p.server = 0;
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    for (int i = 0; i < 5; i++) {
	assert_int_equal(deliver_reply_get(p.client, &reply), 0);
	assert_int_equal(reply.status, i % 3 == 0 ? DELIVER_STAT_OK
			 : i % 3 == 1 ? DELIVER_STAT_DEFER : DELIVER_STAT_BOUNCE);
	assert_string_equal(reply.dsn, i % 3 == 0 ? "2.0.0" : i % 3 == 1 ? "4.2.2" : "5.1.1");
	snprintf(want, sizeof(want), "done with user%d@example.com", i);
	assert_string_equal(reply.reason, want);
	deliver_reply_free(&reply);
	assert_null(reply.dsn);
    }
    /* the agent is gone: no sixth reply */
    assert_int_equal(deliver_reply_get(p.client, &reply), -1);
    assert_null(reply.dsn);
    assert_null(reply.reason);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    pair_close(&p);
}

/* Every field arrives, including the time stamps and odd characters */

static void test_round_trip_fields(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(3);
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    /* characters that must survive the encoding */
    snprintf(rcpt_names[1], sizeof(rcpt_names[1]), "we%%ird=\"a b\"\n\r\t@x");
    snprintf(orig_names[2], sizeof(orig_names[2]), "\xc3\xa9t\xc3\xa9@example.com");
    req.sender = "";
    pair_open(&p);
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_string_equal(got.queue_name, "active");
    assert_string_equal(got.queue_id, GOOD_ID);
    assert_int_equal(got.content_offset, 321);
    assert_int_equal(got.content_size, 4567);
    assert_string_equal(got.sender, "");
    assert_int_equal(got.stats.arrival.tv_sec, 1700000000);
    assert_int_equal(got.stats.arrival.tv_usec, 123456);
    assert_int_equal(got.stats.active.tv_sec, 1700000001);
    assert_int_equal(got.stats.active.tv_usec, 5);
    assert_int_equal(got.stats.handoff.tv_sec, 1700000002);
    assert_int_equal(got.stats.handoff.tv_usec, 999999);
    assert_int_equal(got.rcpt_count, 3);
    for (int i = 0; i < 3; i++) {
	assert_string_equal(got.rcpts[i].address, rcpt_names[i]);
	assert_string_equal(got.rcpts[i].orig, orig_names[i]);
	assert_int_equal(got.rcpts[i].offset, 1000 + 10 * i);
    }
    deliver_request_free(&got);
    assert_cleared(&got);
    deliver_request_free(&got);			/* twice is harmless */
    pair_close(&p);
    vstring_free(why);
}

/* Two requests back to back on one stream are read one at a time */

static void test_two_requests(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(1);
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    pair_open(&p);
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    req.content_size = 77;
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.content_size, 4567);
    deliver_request_free(&got);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.content_size, 77);
    deliver_request_free(&got);
    pair_close(&p);
    vstring_free(why);
}

/* "passed" (a request one agent hands to another) arrives with its offsets */

static void test_passed_flag(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(2);
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    req.passed = 1;
    pair_open(&p);
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.passed, 1);
    assert_int_equal(got.rcpts[1].offset, 1010);
    deliver_request_free(&got);
    pair_close(&p);
    vstring_free(why);
}

/* the connection-cache flag passes; bits nobody knows are dropped */

static void test_conn_store_flag(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(1);
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    req.flags = DELIVER_FLAG_CONN_STORE | 0x30;
    pair_open(&p);
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.flags, DELIVER_FLAG_CONN_STORE);
    deliver_request_free(&got);
    req.flags = 0;
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.flags, 0);
    deliver_request_free(&got);
    pair_close(&p);
    vstring_free(why);
}

/* DELIVER_MAX_RCPT recipients pass; one more is refused */

static void test_recipient_limit(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(DELIVER_MAX_RCPT);
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    pair_open(&p);
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.rcpt_count, DELIVER_MAX_RCPT);
    assert_string_equal(got.rcpts[DELIVER_MAX_RCPT - 1].address,
			rcpt_names[DELIVER_MAX_RCPT - 1]);
    deliver_request_free(&got);

    req = make_request(DELIVER_MAX_RCPT + 1);
    assert_int_equal(deliver_request_put(p.client, &req), 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), -1);
    assert_true(LEN(why) > 0);
    assert_cleared(&got);
    pair_close(&p);
    vstring_free(why);
}

/*
 * Raw requests.  The base request is valid; each case replaces or drops
 * one attribute line (value NULL = drop) or adds lines.
 */
static const char *base_lines[] = {
    "queue_name=active",
    "queue_id=" GOOD_ID,
    "offset=10",
    "size=20",
    "sender=s@example.org",
    "arrival=1700000000",
    "nrcpt=2",
    "rcpt_0=a@example.com",
    "orcpt_0=",
    "rcpt_offset_0=100",
    "rcpt_1=b@example.com",
    "orcpt_1=",
    "rcpt_offset_1=200",
    0,
};

/* send_raw - the base request with NAME's line replaced by LINE (NULL: dropped) */

static void send_raw(PAIR *p, const char *name, const char *line)
{
    VSTRING *buf = vstring_alloc(1000);
    size_t  nlen = name ? strlen(name) : 0;

    for (int i = 0; base_lines[i]; i++) {
	if (name && strncmp(base_lines[i], name, nlen) == 0
	    && base_lines[i][nlen] == '=') {
	    if (line)
		vstring_sprintf_append(buf, "%s\n", line);
	    continue;
	}
	vstring_sprintf_append(buf, "%s\n", base_lines[i]);
    }
    vstring_strcat(buf, "\n");
    assert_int_equal(write_full(p->sv[0], STR(buf), LEN(buf)), (ssize_t) LEN(buf));
    vstring_free(buf);
}

/* expect_refused - the server refuses what was sent, and says why */

static void expect_refused(PAIR *p, const char *what)
{
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    if (deliver_request_get(p->server, &got, why) == 0) {
	deliver_request_free(&got);
	vstring_free(why);
	fail_msg("request with %s was accepted", what);
    }
    assert_true(LEN(why) > 0);
    assert_cleared(&got);
    vstring_free(why);
}

static void test_base_request_ok(void **state)
{
    PAIR    p;
    DELIVER_REQUEST got;
    VSTRING *why = vstring_alloc(10);

    pair_open(&p);
    send_raw(&p, 0, 0);
    assert_int_equal(deliver_request_get(p.server, &got, why), 0);
    assert_int_equal(got.rcpt_count, 2);
    assert_string_equal(got.rcpts[1].address, "b@example.com");
    /* optional time stamps and flags absent: zero */
    assert_int_equal(got.passed, 0);
    assert_int_equal(got.stats.arrival.tv_usec, 0);
    assert_int_equal(got.stats.active.tv_sec, 0);
    assert_int_equal(got.stats.handoff.tv_sec, 0);
    deliver_request_free(&got);
    pair_close(&p);
    vstring_free(why);
}

static void test_bad_fields(void **state)
{
    static const struct {
	const char *name;
	const char *line;
    }       cases[] = {
	{"queue_id", "queue_id=../x"},
	{"queue_id", "queue_id=../../etc/passwd"},
	{"queue_id", "queue_id=6919C2F70A3B"},	/* 12 digits */
	{"queue_id", "queue_id=6919C2F70A3B12"},	/* 14 digits */
	{"queue_id", "queue_id=6919c2f70a3b1"},	/* lower case */
	{"queue_id", "queue_id="},
	{"queue_id", 0},
	{"queue_name", "queue_name=../active"},
	{"queue_name", "queue_name=active/x"},
	{"queue_name", "queue_name="},
	{"queue_name", "queue_name=ACTIVE"},
	{"queue_name", 0},
	{"nrcpt", "nrcpt=0"},
	{"nrcpt", "nrcpt=65"},
	{"nrcpt", "nrcpt=-1"},
	{"nrcpt", "nrcpt=1000000000000000000000"},
	{"nrcpt", "nrcpt=two"},
	{"nrcpt", "nrcpt=2x"},
	{"nrcpt", "nrcpt="},
	{"nrcpt", "nrcpt=3"},			/* more than are listed */
	{"nrcpt", 0},
	{"sender", 0},
	{"offset", 0},
	{"offset", "offset=-5"},
	{"offset", "offset=+5"},
	{"offset", "offset=5.5"},
	{"size", 0},
	{"size", "size=99999999999999999999999"},
	{"arrival", 0},
	{"arrival", "arrival=yesterday"},
	{"rcpt_1", 0},
	{"orcpt_1", 0},
	{"rcpt_offset_1", 0},
	{"rcpt_offset_0", "rcpt_offset_0=-1"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	PAIR    p;
	char    what[200];

	snprintf(what, sizeof(what), "%s", cases[i].line ? cases[i].line : "");
	if (cases[i].line == 0)
	    snprintf(what, sizeof(what), "no %s", cases[i].name);
	pair_open(&p);
	send_raw(&p, cases[i].name, cases[i].line);
	expect_refused(&p, what);
	pair_close(&p);
    }
}

/* write_then_eof - send TEXT (LEN bytes), then end the stream */

static void write_then_eof(PAIR *p, const char *text, size_t len)
{
    assert_int_equal(write_full(p->sv[0], text, len), (ssize_t) len);
    assert_int_equal(shutdown(p->sv[0], SHUT_WR), 0);
}

static void test_truncated(void **state)
{
    VSTRING *full = vstring_alloc(1000);
    size_t  cuts[] = {0, 1, 10, 0, 0, 0};
    int     ncuts;

    for (int i = 0; base_lines[i]; i++)
	vstring_sprintf_append(full, "%s\n", base_lines[i]);
    /* cut mid-line, at a line end, and just before the final empty line */
    cuts[3] = LEN(full) / 2;
    cuts[4] = LEN(full) - 3;
    cuts[5] = LEN(full);
    ncuts = 6;
    for (int i = 0; i < ncuts; i++) {
	PAIR    p;

	pair_open(&p);
	write_then_eof(&p, STR(full), cuts[i]);
	expect_refused(&p, "a truncated stream");
	pair_close(&p);
    }
    vstring_free(full);
}

static void test_junk(void **state)
{
    static const char nul_line[] = "queue_name=act\0ive\n\n";
    static const char *junk[] = {
	"\x01\x02\x03\xff\xfe\n\n",
	"no equals sign here\n\n",
	"=value\n\n",
	"bad name=x\n\n",
	"queue_name=%zz\n\n",
	"queue_name=%4\n\n",
	"\n",					/* an empty list */
	"GET / HTTP/1.0\r\n\r\n",
    };
    PAIR    p;
    VSTRING *big = vstring_alloc(ATTR_MAX_LINE + 100);

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
	pair_open(&p);
	write_then_eof(&p, junk[i], strlen(junk[i]));
	expect_refused(&p, junk[i]);
	pair_close(&p);
    }

    /* a NUL byte inside a value */
    pair_open(&p);
    write_then_eof(&p, nul_line, sizeof(nul_line) - 1);
    expect_refused(&p, "a NUL byte");
    pair_close(&p);

    /* random bytes */
    srandom(4711);
    for (int round = 0; round < 50; round++) {
	char    buf[512];

	for (size_t j = 0; j < sizeof(buf); j++)
	    buf[j] = (char) random();
	pair_open(&p);
	write_then_eof(&p, buf, sizeof(buf));
	expect_refused(&p, "random bytes");
	pair_close(&p);
    }

    /* too many attributes */
    vstring_strcpy(big, "");
    for (int i = 0; i < ATTR_MAX_COUNT + 10; i++)
	vstring_sprintf_append(big, "x%d=1\n", i);
    vstring_strcat(big, "\n");
    pair_open(&p);
    write_then_eof(&p, STR(big), LEN(big));
    expect_refused(&p, "too many attributes");
    pair_close(&p);

    /* one over-long line */
    vstring_strcpy(big, "sender=");
    for (int i = 0; i < ATTR_MAX_LINE + 10; i++)
	vstring_strcat(big, "a");
    vstring_strcat(big, "\n\n");
    pair_open(&p);
    write_then_eof(&p, STR(big), LEN(big));
    expect_refused(&p, "an over-long line");
    pair_close(&p);
    vstring_free(big);
}

/* The client refuses malformed replies */

static void test_bad_replies(void **state)
{
    static const char *bad[] = {
	"status=3\ndsn=2.0.0\nreason=x\n\n",
	"status=-1\ndsn=2.0.0\nreason=x\n\n",
	"status=ok\ndsn=2.0.0\nreason=x\n\n",
	"dsn=2.0.0\nreason=x\n\n",
	"status=0\nreason=x\n\n",
	"status=0\ndsn=2.0.0\n\n",
	"status=0\ndsn=2.0.0\nreason=x\n",	/* no end */
	"\xff\xfe\n\n",
	"",
    };
    PAIR    p;
    DELIVER_REPLY reply;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	pair_open(&p);
	assert_int_equal(write_full(p.sv[1], bad[i], strlen(bad[i])), (ssize_t) strlen(bad[i]));
	assert_int_equal(shutdown(p.sv[1], SHUT_WR), 0);
	if (deliver_reply_get(p.client, &reply) == 0) {
	    deliver_reply_free(&reply);
	    fail_msg("reply %zu accepted", i);
	}
	assert_null(reply.dsn);
	assert_null(reply.reason);
	deliver_reply_free(&reply);		/* harmless after failure */
	pair_close(&p);
    }

    /* and a good one, with an empty reason */
    pair_open(&p);
    assert_int_equal(deliver_reply_put(p.server, DELIVER_STAT_DEFER, "4.3.0", "", 0), 0);
    assert_int_equal(deliver_reply_get(p.client, &reply), 0);
    assert_int_equal(reply.status, DELIVER_STAT_DEFER);
    assert_string_equal(reply.dsn, "4.3.0");
    assert_string_equal(reply.reason, "");
    deliver_reply_free(&reply);
    pair_close(&p);
}

/*
 * The site failure flag: sent with a deferral only, read back as
 * site_fail; an old-style reply (deliver_reply_put) has none, and a
 * peer that claims it for a delivered or bounced recipient is ignored
 */
static void test_site_fail_flag(void **state)
{
    static const char forged[] = "status=0\ndsn=2.0.0\nreason=x\nsite_fail=1\n\n";
    PAIR    p;
    DELIVER_REPLY reply;

    pair_open(&p);
    assert_int_equal(deliver_reply_put_flags(p.server, DELIVER_STAT_DEFER, "4.4.1",
				   "connect to 127.0.0.1[127.0.0.1]:25: Connection refused",
					     0, DELIVER_REPLY_SITE_FAIL), 0);
    assert_int_equal(deliver_reply_put_flags(p.server, DELIVER_STAT_BOUNCE, "5.1.1",
				     "no such user", 0, DELIVER_REPLY_SITE_FAIL), 0);
    assert_int_equal(deliver_reply_put(p.server, DELIVER_STAT_DEFER, "4.2.2",
				       "mailbox full", 0), 0);
    assert_int_equal(write_full(p.sv[1], forged, strlen(forged)), (ssize_t) strlen(forged));

    assert_int_equal(deliver_reply_get(p.client, &reply), 0);
    assert_int_equal(reply.status, DELIVER_STAT_DEFER);
    assert_string_equal(reply.dsn, "4.4.1");
    assert_string_equal(reply.reason,
			"connect to 127.0.0.1[127.0.0.1]:25: Connection refused");
    assert_int_equal(reply.site_fail, 1);
    deliver_reply_free(&reply);
    assert_int_equal(deliver_reply_get(p.client, &reply), 0);
    assert_int_equal(reply.status, DELIVER_STAT_BOUNCE);
    assert_int_equal(reply.site_fail, 0);
    deliver_reply_free(&reply);
    assert_int_equal(deliver_reply_get(p.client, &reply), 0);
    assert_int_equal(reply.status, DELIVER_STAT_DEFER);
    assert_int_equal(reply.site_fail, 0);
    deliver_reply_free(&reply);
    assert_int_equal(deliver_reply_get(p.client, &reply), 0);
    assert_int_equal(reply.status, DELIVER_STAT_OK);
    assert_int_equal(reply.site_fail, 0);
    deliver_reply_free(&reply);
    pair_close(&p);
}

/* Writing to an agent that went away fails instead of killing qmgr */

static void test_put_to_closed_peer(void **state)
{
    PAIR    p;
    DELIVER_REQUEST req = make_request(2);

    pair_open(&p);
    (void) vstream_close(p.server);
    p.server = 0;
    assert_int_equal(deliver_request_put(p.client, &req), -1);
    assert_int_equal(deliver_reply_put(p.client, 0, "2.0.0", "x", 0), -1);
    pair_close(&p);
}

static void test_format_delay(void **state)
{
    static const struct {
	long    sec, usec;
	const char *want;
    }       cases[] = {
	{0, 0, "0"},
	{0, 140000, "0.14"},
	{0, 5000, "0.01"},
	{1, 500000, "1.5"},
	{2, 0, "2"},
	{12, 300000, "12"},
	{100, 0, "100"},
	{-3, 0, "0"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	VSTRING *buf = vstring_alloc(10);

	deliver_format_delay(buf, cases[i].sec, cases[i].usec);
	assert_string_equal(STR(buf), cases[i].want);
	vstring_free(buf);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_round_trip_forked),
	cmocka_unit_test(test_round_trip_fields),
	cmocka_unit_test(test_two_requests),
	cmocka_unit_test(test_passed_flag),
	cmocka_unit_test(test_conn_store_flag),
	cmocka_unit_test(test_recipient_limit),
	cmocka_unit_test(test_base_request_ok),
	cmocka_unit_test(test_bad_fields),
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_junk),
	cmocka_unit_test(test_bad_replies),
	cmocka_unit_test(test_site_fail_flag),
	cmocka_unit_test(test_put_to_closed_peer),
	cmocka_unit_test(test_format_delay),
    };

    msg_init("test_deliver_request", 0);	/* refusals warn; keep quiet */
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, 0, 0));
}
