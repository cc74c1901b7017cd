/*
 * test_milter_clnt.c - unit tests for lib/global/milter_clnt.c and
 * milters.c against a fake milter: a child process that answers each
 * command from a script built before the fork (what it expects, the
 * packets it sends back, or a hang, a close, SMFIR_PROGRESS with pauses,
 * a delay) and writes every packet it gets to a log file, one line each
 * ("L Subject|hello|": the command byte, then the data with NUL as '|').
 * The client runs in the parent's event loop; its warnings go to a log
 * file too, so Postfix's wording can be checked.
 *
 * Checked: negotiation, macros, every command and its packet, every
 * modification action, reply codes, connection-level decisions, the
 * SMFIP_NO* and SMFIP_NR_* flags, SMFIR_SKIP, SMFIR_PROGRESS, abort with
 * a reply on the way, a hang, EOF, garbage, an oversized length, refused
 * connections, each default action, configuration parsing, and chains of
 * filters.  No callback may run inside the call that started it.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "events.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "milter_clnt.h"
#include "milter_fixture.h"

/* What the fake milter does after reading a step's command */
#define FAKE_REPLY	0		/* send the step's packets */
#define FAKE_HANG	1		/* never answer */
#define FAKE_CLOSE	2		/* close the connection */
#define FAKE_PROGRESS	3		/* two SMFIR_PROGRESS 0.7 s apart, then the packets */
#define FAKE_DELAY	4		/* wait 0.3 s, then the packets */
#define FAKE_LAST	5		/* the packets, then close */

typedef struct FAKE_STEP {
    int     expect;			/* command byte it must get */
    int     what;			/* FAKE_* */
    char    reply[4096];		/* packets to send */
    size_t  len;
} FAKE_STEP;

#define FAKE_MAX_STEPS	40

typedef struct FAKE {
    FAKE_STEP steps[FAKE_MAX_STEPS];
    int     count;
    int     lfd;			/* listening socket */
    char    endpoint[320];		/* unix:... or inet:... */
    char    log_path[300];
    pid_t   pid;
} FAKE;

static char tmp_dir[] = "/tmp/test_milter_clnt.XXXXXX";
static char warn_path[200];
static int in_caller;				/* inside a milter_xxx() call */

/* Building scripts */

static FAKE_STEP *step(FAKE *fake, int expect, int what)
{
    FAKE_STEP *st = fake->steps + fake->count++;

    assert_true(fake->count <= FAKE_MAX_STEPS);
    st->expect = expect;
    st->what = what;
    st->len = 0;
    return (st);
}

/* add_raw - append bytes to a step's answer */

static void add_raw(FAKE_STEP *st, const char *data, size_t len)
{
    assert_true(st->len + len <= sizeof(st->reply));
    memcpy(st->reply + st->len, data, len);
    st->len += len;
}

/* add_pkt - append a packet: CODE, optional INDEX (>= 0), strings to NULL */

static void add_pkt(FAKE_STEP *st, int code, long index,...)
{
    VSTRING *data = vstring_alloc(100);
    VSTRING *pkt = vstring_alloc(100);
    const char *str;
    va_list ap;

    if (index >= 0)
	milter_data_u32(data, (uint32_t) index);
    va_start(ap, index);
    while ((str = va_arg(ap, const char *)) != 0)
	milter_data_str(data, str);
    va_end(ap);
    milter_pkt_put(pkt, code, STR(data), LEN(data));
    add_raw(st, STR(pkt), LEN(pkt));
    vstring_free(data);
    vstring_free(pkt);
}

/* reply - a step that expects EXPECT and answers with CODE alone */

static FAKE_STEP *reply(FAKE *fake, int expect, int code)
{
    FAKE_STEP *st = step(fake, expect, FAKE_REPLY);

    add_pkt(st, code, -1, (char *) 0);
    return (st);
}

/* optneg - the negotiation answer with VERSION, ACTIONS, PROTOCOL */

static FAKE_STEP *optneg(FAKE *fake, uint32_t version, uint32_t actions,
			         uint32_t protocol)
{
    FAKE_STEP *st = step(fake, SMFIC_OPTNEG, FAKE_REPLY);
    VSTRING *data = vstring_alloc(100);
    VSTRING *pkt = vstring_alloc(100);

    milter_data_u32(data, version);
    milter_data_u32(data, actions);
    milter_data_u32(data, protocol);
    milter_pkt_put(pkt, SMFIC_OPTNEG, STR(data), LEN(data));
    add_raw(st, STR(pkt), LEN(pkt));
    vstring_free(data);
    vstring_free(pkt);
    return (st);
}

/* The fake milter (child side) */

static int read_full(int fd, char *buf, size_t len)
{
    size_t  done = 0;
    ssize_t n;

    while (done < len) {
	if ((n = read(fd, buf + done, len - done)) <= 0)
	    return (-1);
	done += (size_t) n;
    }
    return (0);
}

/* fake_read - one packet, logged; its command byte, or -1 at EOF */

static int fake_read(int fd, int log_fd)
{
    static char data[200000];
    VSTRING *line = vstring_alloc(100);
    uint32_t net_len;
    size_t  len;

    if (read_full(fd, (char *) &net_len, 4) < 0)
	return (-1);
    len = ntohl(net_len);
    if (len < 1 || len > sizeof(data) || read_full(fd, data, len) < 0)
	return (-1);
    vstring_sprintf(line, "%c ", data[0]);
    for (size_t i = 1; i < len; i++) {
	unsigned char ch = data[i];

	if (ch == 0)
	    vstring_addch(line, '|');
	else if (ch >= 0x20 && ch < 0x7f)
	    vstring_addch(line, ch);
	else
	    vstring_sprintf_append(line, "\\x%02x", ch);
    }
    vstring_addch(line, '\n');
    (void) write(log_fd, STR(line), LEN(line));
    vstring_free(line);
    return ((unsigned char) data[0]);
}

/* fake_answer - do what step ST says after its command came */

static void fake_answer(int fd, const FAKE_STEP *st)
{
    static const char progress[] = "\0\0\0\x01p";

    char    buf[1000];

    switch (st->what) {
    case FAKE_HANG:				/* until the client gives up */
	while (read(fd, buf, sizeof(buf)) > 0)
	     /* void */ ;
	_exit(0);
    case FAKE_CLOSE:
	_exit(0);
    case FAKE_PROGRESS:
	for (int i = 0; i < 2; i++) {
	    (void) write(fd, progress, 5);
	    usleep(700000);
	}
	break;
    case FAKE_DELAY:
	usleep(300000);
	break;
    }
    if (st->len > 0)
	(void) write(fd, st->reply, st->len);
    if (st->what == FAKE_LAST)
	_exit(0);
}

/* fake_serve - run the script on one connection, then log what else comes */

static void fake_serve(FAKE *fake, int fd, int log_fd)
{
    int     cmd;

    for (int i = 0; i < fake->count; i++) {
	while ((cmd = fake_read(fd, log_fd)) == SMFIC_MACRO || cmd == SMFIC_ABORT)
	     /* logged only: no replies for these */ ;
	if (cmd != fake->steps[i].expect) {
	    dprintf(log_fd, "! expected %c\n", fake->steps[i].expect);
	    _exit(1);
	}
	fake_answer(fd, fake->steps + i);
    }
    while (fake_read(fd, log_fd) >= 0)
	 /* void */ ;
    _exit(0);
}

static void fake_start(FAKE *fake)
{
    int     fd;
    int     log_fd;

    if ((fake->pid = fork()) == 0) {
	signal(SIGPIPE, SIG_IGN);
	alarm(40);
	log_fd = open(fake->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if ((fd = accept(fake->lfd, (struct sockaddr *) 0, (socklen_t *) 0)) < 0)
	    _exit(1);
	close(fake->lfd);
	fake_serve(fake, fd, log_fd);
    }
    assert_true(fake->pid > 0);
}

/* fake_new - a fake milter listening on a UNIX socket (or on TCP) */

static FAKE *fake_new(const char *name, int inet)
{
    FAKE   *fake = (FAKE *) mycalloc(1, sizeof(*fake));
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char    path[300];

    snprintf(fake->log_path, sizeof(fake->log_path), "%s/%s.log", tmp_dir, name);
    unlink(fake->log_path);
    if (inet) {
	assert_true((fake->lfd = inet_listen("127.0.0.1:0", 10)) >= 0);
	assert_int_equal(getsockname(fake->lfd, (struct sockaddr *) &sin, &len), 0);
	snprintf(fake->endpoint, sizeof(fake->endpoint), "inet:127.0.0.1:%d",
		 ntohs(sin.sin_port));
    } else {
	snprintf(path, sizeof(path), "%s/%s.sock", tmp_dir, name);
	assert_true((fake->lfd = unix_listen(path, 10, 0600)) >= 0);
	snprintf(fake->endpoint, sizeof(fake->endpoint), "unix:%s", path);
    }
    return (fake);
}

/* fake_end - wait up to 3 s for the child to finish; its log */

static char *fake_end(FAKE *fake)
{
    static char text[20000];
    int     fd;
    ssize_t n;

    for (int i = 0; i < 60 && waitpid(fake->pid, (int *) 0, WNOHANG) == 0; i++)
	usleep(50000);
    kill(fake->pid, SIGKILL);
    (void) waitpid(fake->pid, (int *) 0, 0);
    close(fake->lfd);
    fd = open(fake->log_path, O_RDONLY);
    n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : 0;
    text[n > 0 ? n : 0] = 0;
    if (fd >= 0)
	close(fd);
    myfree(fake);
    return (text);
}

/* The client side */

static void done_cb(const MILTER_RESULT *result, void *context)
{
    RESULT *r = context;

    assert_false(in_caller);			/* never inside the call */
    milter_fixture_keep(result, r);
}

static void wait_for(RESULT *r, int max_ms)
{
    for (int waited = 0; r->done == 0 && waited < max_ms; waited += 20)
	event_loop(20);
    assert_int_equal(r->done, 1);
}

static const char *lookup(const char *name, void *context)
{
    if (strcmp(name, "j") == 0)
	return ("mx.example.org");
    if (strcmp(name, "{daemon_name}") == 0)
	return ("posthorn");
    if (strcmp(name, "i") == 0)
	return ("4AbCdE");
    if (strcmp(name, "{auth_authen}") == 0)
	return ("alice");
    return (0);
}

/* The commands, each run to its result */

#define RUN(r, call) do { \
	memset(&(r), 0, sizeof(r)); \
	in_caller = 1; \
	call; \
	in_caller = 0; \
	wait_for(&(r), 5000); \
    } while (0)

static const char *mail_argv[] = {"<alice@example.org>", "SIZE=100", 0};
static const char *rcpt_argv[] = {"<bob@example.net>", 0};

static MILTER *milter_for(FAKE *fake, int timeout, const char *def_action)
{
    MILTER_LIMITS limits;
    MILTER *m;

    milter_limits_init(&limits);
    limits.connect_timeout = limits.command_timeout = limits.content_timeout = timeout;
    limits.default_action = def_action;
    assert_non_null(m = milter_create(fake->endpoint, &limits));
    return (m);
}

static MILTER_SESS *connected(FAKE *fake, MILTER *m, int want_action)
{
    MILTER_SESS *s = milter_session(m, lookup, (void *) 0);
    RESULT  r;

    fake_start(fake);
    RUN(r, milter_connect(s, "client.example.com", SMFIA_INET, "192.0.2.1", 4711,
			  done_cb, &r));
    assert_int_equal(r.action, want_action);
    return (s);
}

/* opened - a script that negotiates and continues after connect */

static void opened(FAKE *fake, uint32_t actions, uint32_t protocol)
{
    optneg(fake, 6, actions, protocol);
    reply(fake, SMFIC_CONNECT, SMFIR_CONTINUE);
}

/* closed - end the session and the fake milter; its log */

static char *closed(FAKE *fake, MILTER *m, MILTER_SESS *s)
{
    char   *log;

    milter_session_free(s);
    log = fake_end(fake);
    milter_free(m);
    return (log);
}

/* warnings - what the client logged since the last call */

static char *warnings(void)
{
    static char text[10000];
    int     fd = open(warn_path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : 0;

    text[n > 0 ? n : 0] = 0;
    if (fd >= 0)
	close(fd);
    (void) truncate(warn_path, 0);
    return (text);
}

static void test_whole_session(void **unused)
{
    FAKE   *fake = fake_new("whole", 1);
    FAKE_STEP *eom;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    char   *log;

    opened(fake, MILTER_V6_ACTIONS, 0);
    reply(fake, SMFIC_HELO, SMFIR_CONTINUE);
    reply(fake, SMFIC_MAIL, SMFIR_CONTINUE);
    reply(fake, SMFIC_RCPT, SMFIR_REJECT);
    reply(fake, SMFIC_RCPT, SMFIR_CONTINUE);
    reply(fake, SMFIC_DATA, SMFIR_CONTINUE);
    reply(fake, SMFIC_HEADER, SMFIR_CONTINUE);
    reply(fake, SMFIC_EOH, SMFIR_CONTINUE);
    reply(fake, SMFIC_BODY, SMFIR_CONTINUE);
    eom = step(fake, SMFIC_BODYEOB, FAKE_REPLY);
    add_pkt(eom, SMFIR_ADDHEADER, -1, "X-Scanned", "yes", (char *) 0);
    add_pkt(eom, SMFIR_INSHEADER, 0, "X-First", "top", (char *) 0);
    add_pkt(eom, SMFIR_CHGHEADER, 1, "Subject", "", (char *) 0);
    add_pkt(eom, SMFIR_CHGHEADER, 0, "Subject", "new\r\nline", (char *) 0);
    add_pkt(eom, SMFIR_ADDRCPT, -1, "<carol@example.net>", (char *) 0);
    add_pkt(eom, SMFIR_ADDRCPT_PAR, -1, "<dave@example.net>", "NOTIFY=NEVER", (char *) 0);
    add_pkt(eom, SMFIR_DELRCPT, -1, "<bob@example.net>", (char *) 0);
    add_pkt(eom, SMFIR_CHGFROM, -1, "<bounce@example.org>", (char *) 0);
    add_pkt(eom, SMFIR_REPLBODY, -1, (char *) 0);	/* an empty chunk */
    add_raw(eom, "\0\0\0\x06" "bnew\r\n", 10);
    add_pkt(eom, SMFIR_QUARANTINE, -1, "looks\x01odd", (char *) 0);
    add_pkt(eom, SMFIR_CONTINUE, -1, (char *) 0);
    m = milter_for(fake, 5, "tempfail");
    s = connected(fake, m, MILTER_CONTINUE);
    RUN(r, milter_helo(s, "client.example.com", done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    RUN(r, milter_rcpt(s, rcpt_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    assert_string_equal(r.text, "550 5.7.1 Command rejected");
    RUN(r, milter_rcpt(s, rcpt_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_data(s, done_cb, &r));
    RUN(r, milter_header(s, "Subject", " hello there", done_cb, &r));
    RUN(r, milter_eoh(s, done_cb, &r));
    RUN(r, milter_body(s, "body\r\n", 6, done_cb, &r));
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    assert_string_equal(r.mods,
			"1 0 X-Scanned| yes|\n"
			"2 0 X-First| top|\n"
			"3 1 Subject||\n"
			"3 1 Subject| new\n\tline|\n"
			"5 0 <carol@example.net>|-|\n"
			"5 0 <dave@example.net>|NOTIFY=NEVER|\n"
			"6 0 <bob@example.net>|-|\n"
			"7 0 <bounce@example.org>|-|\n"
			"4 0 -|-|\n"
			"4 0 -|-|new\r\n\n"
			"8 0 looks?odd|-|\n");
    log = closed(fake, m, s);
    assert_non_null(strstr(log, "O |||\\x06||\\x01\\xff|\\x1f\\xff\\xff\n"));
    assert_non_null(strstr(log, "D Cj|mx.example.org|{daemon_name}|posthorn|\n"
			   "C client.example.com|4\\x12g192.0.2.1|\n"));
    assert_non_null(strstr(log, "H client.example.com|\n"));
    assert_non_null(strstr(log, "D Mi|4AbCdE|{auth_authen}|alice|\n"
			   "M <alice@example.org>|SIZE=100|\n"));
    assert_non_null(strstr(log, "L Subject|hello there|\n"));	/* one space less */
    assert_non_null(strstr(log, "B body\\x0d\\x0a\nD Ei|4AbCdE|\nE \n"));
    assert_non_null(strstr(log, "Q \n"));
    assert_null(strstr(log, "D H"));		/* no helo macro has a value */
    assert_null(strstr(log, "!"));
}

static void test_reply_codes(void **unused)
{
    FAKE   *fake = fake_new("codes", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    char   *log;

    opened(fake, 0, 0);
    st = step(fake, SMFIC_MAIL, FAKE_REPLY);
    add_pkt(st, SMFIR_REPLYCODE, -1, "550 5.7.1 No 100%% spam\x07", (char *) 0);
    st = step(fake, SMFIC_MAIL, FAKE_REPLY);
    add_pkt(st, SMFIR_REPLYCODE, -1, "451-4.7.1 Try\r\n451 4.7.1 later", (char *) 0);
    reply(fake, SMFIC_RCPT, SMFIR_TEMPFAIL);
    reply(fake, SMFIC_RCPT, SMFIR_DISCARD);
    st = step(fake, SMFIC_MAIL, FAKE_REPLY);
    add_pkt(st, SMFIR_REPLYCODE, -1, "421 4.7.0 Going down", (char *) 0);
    m = milter_for(fake, 5, "tempfail");
    s = connected(fake, m, MILTER_CONTINUE);
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    assert_string_equal(r.text, "550 5.7.1 No 100% spam?");
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));	/* ABORT goes first */
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.text, "451-4.7.1 Try\r\n451 4.7.1 later");
    RUN(r, milter_rcpt(s, rcpt_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.text, "451 4.7.1 Service unavailable - try again later");
    RUN(r, milter_rcpt(s, rcpt_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_DISCARD);
    RUN(r, milter_data(s, done_cb, &r));	/* discarded: no more of it */
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_eom(s, done_cb, &r));
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));	/* no ABORT after DISCARD */
    assert_int_equal(r.action, MILTER_SHUTDOWN);
    assert_string_equal(r.text, "421 4.7.0 Going down");
    RUN(r, milter_helo(s, "again", done_cb, &r));	/* for good */
    assert_int_equal(r.action, MILTER_SHUTDOWN);
    log = closed(fake, m, s);
    assert_non_null(strstr(log, "|SIZE=100|\nA \nD Mi"));	/* one ABORT only */
    assert_null(strstr(strstr(log, "A \n") + 1, "A \n"));
    assert_null(strstr(log, "Q \n"));		/* closed on 421 */
}

static void test_conf_errors(void **unused)
{
    FAKE   *fake = fake_new("conf", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    char   *log;

    opened(fake, SMFIF_ADDHDRS, 0);
    st = step(fake, SMFIC_BODYEOB, FAKE_REPLY);
    add_pkt(st, SMFIR_ADDRCPT, -1, "<x@y>", (char *) 0);	/* not negotiated */
    add_pkt(st, SMFIR_CONTINUE, -1, (char *) 0);
    m = milter_for(fake, 5, "reject");
    s = connected(fake, m, MILTER_CONTINUE);
    (void) warnings();
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.text, "451 4.3.5 Server configuration problem - try again later");
    assert_string_equal(r.mods, "");
    assert_non_null(strstr(warnings(), "warning: milter unix:"));
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));	/* for good */
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    log = closed(fake, m, s);
    assert_null(strstr(log, "M <"));
}

static void test_malformed_requests(void **unused)
{
    FAKE   *code = fake_new("badcode", 0);
    FAKE   *name = fake_new("badname", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    opened(code, 0, 0);
    st = step(code, SMFIC_MAIL, FAKE_REPLY);
    add_pkt(st, SMFIR_REPLYCODE, -1, "550 4.7.1 classes differ", (char *) 0);
    m = milter_for(code, 5, "tempfail");
    s = connected(code, m, MILTER_CONTINUE);
    (void) warnings();
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.text, "451 4.3.5 Server configuration problem - try again later");
    assert_non_null(strstr(warnings(), "malformed reply: 550 4.7.1 classes differ\n"));
    (void) closed(code, m, s);

    opened(name, SMFIF_ADDHDRS, 0);
    st = step(name, SMFIC_BODYEOB, FAKE_REPLY);
    add_pkt(st, SMFIR_ADDHEADER, -1, "X-Bad\r\nName", "v", (char *) 0);
    m = milter_for(name, 5, "quarantine");
    s = connected(name, m, MILTER_CONTINUE);
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_QUARANTINE);
    assert_non_null(strstr(warnings(), "malformed header name: X-Bad??Name\n"));
    (void) closed(name, m, s);
}

static void test_edit_limit(void **unused)
{
    FAKE   *fake = fake_new("editlimit", 0);
    FAKE_STEP *st;
    MILTER_LIMITS limits;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    opened(fake, SMFIF_CHGBODY, 0);
    st = step(fake, SMFIC_BODYEOB, FAKE_REPLY);
    add_raw(st, "\0\0\0\x0b" "b0123456789", 15);	/* 10 bytes: fine */
    add_raw(st, "\0\0\0\x0b" "b0123456789", 15);	/* 20 */
    add_raw(st, "\0\0\0\x02" "bX", 6);		/* 21: too much */
    add_pkt(st, SMFIR_CONTINUE, -1, (char *) 0);
    milter_limits_init(&limits);
    limits.edit_limit = 20;
    m = milter_create(fake->endpoint, &limits);
    s = connected(fake, m, MILTER_CONTINUE);
    (void) warnings();
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.mods, "");
    assert_non_null(strstr(warnings(), "edits exceed 20 bytes\n"));
    (void) closed(fake, m, s);
}

static void test_free_in_flight(void **unused)
{
    FAKE   *fake = fake_new("inflight", 0);
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    opened(fake, 0, 0);
    step(fake, SMFIC_MAIL, FAKE_HANG);
    m = milter_for(fake, 1, "tempfail");
    s = connected(fake, m, MILTER_CONTINUE);
    memset(&r, 0, sizeof(r));
    milter_mail(s, mail_argv, done_cb, &r);
    milter_session_free(s);			/* no callback, ever */
    for (int i = 0; i < 30; i++)
	event_loop(50);
    assert_int_equal(r.done, 0);
    (void) fake_end(fake);
    milter_free(m);
}

static void test_connection_level(void **unused)
{
    FAKE   *fake = fake_new("connlevel", 0);
    FAKE   *fake2 = fake_new("discard", 0);
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    opened(fake, 0, 0);
    reply(fake, SMFIC_HELO, SMFIR_REJECT);
    m = milter_for(fake, 5, "accept");
    s = connected(fake, m, MILTER_CONTINUE);
    RUN(r, milter_helo(s, "spammer", done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));	/* the same, no I/O */
    assert_int_equal(r.action, MILTER_REJECT);
    assert_string_equal(r.text, "550 5.7.1 Command rejected");
    assert_null(strstr(closed(fake, m, s), "M <"));

    optneg(fake2, 6, 0, 0);
    reply(fake2, SMFIC_CONNECT, SMFIR_DISCARD);	/* not allowed there */
    m = milter_for(fake2, 5, "accept");
    s = connected(fake2, m, MILTER_CONTINUE);	/* accept: left out */
    assert_non_null(strstr(warnings(), "DISCARD action is not allowed for connect or helo"));
    RUN(r, milter_helo(s, "x", done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    (void) closed(fake2, m, s);
}

static void test_accept_connection(void **unused)
{
    FAKE   *fake = fake_new("acceptcon", 0);
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    optneg(fake, 6, 0, 0);
    reply(fake, SMFIC_CONNECT, SMFIR_ACCEPT);
    m = milter_for(fake, 5, "tempfail");
    s = connected(fake, m, MILTER_ACCEPT);
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    assert_null(strstr(closed(fake, m, s), "M <"));
}

static void test_protocol_flags(void **unused)
{
    FAKE   *fake = fake_new("flags", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    char   *log;

    opened(fake, SMFIF_ADDHDRS, SMFIP_NOHELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT
	   | SMFIP_NODATA | SMFIP_NR_HDR | SMFIP_HDR_LEADSPC | SMFIP_NR_EOH
	   | SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_NOUNKNOWN);
    step(fake, SMFIC_MAIL, FAKE_REPLY);		/* no replies */
    step(fake, SMFIC_RCPT, FAKE_REPLY);
    step(fake, SMFIC_HEADER, FAKE_REPLY);
    step(fake, SMFIC_EOH, FAKE_REPLY);
    reply(fake, SMFIC_BODY, SMFIR_SKIP);
    st = step(fake, SMFIC_BODYEOB, FAKE_REPLY);
    add_pkt(st, SMFIR_ADDHEADER, -1, "X-Lead", "kept", (char *) 0);
    add_pkt(st, SMFIR_ACCEPT, -1, (char *) 0);
    m = milter_for(fake, 5, "tempfail");
    s = connected(fake, m, MILTER_CONTINUE);
    assert_true(milter_rcpt_rejected_wanted(s));
    RUN(r, milter_helo(s, "skipped", done_cb, &r));
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    RUN(r, milter_rcpt(s, rcpt_argv, done_cb, &r));
    RUN(r, milter_data(s, done_cb, &r));
    RUN(r, milter_unknown(s, "XYZZY", done_cb, &r));
    RUN(r, milter_header(s, "Subject", " spaced", done_cb, &r));
    RUN(r, milter_eoh(s, done_cb, &r));
    RUN(r, milter_body(s, "one\r\n", 5, done_cb, &r));
    RUN(r, milter_body(s, "two\r\n", 5, done_cb, &r));	/* skipped */
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_ACCEPT);
    assert_string_equal(r.mods, "1 0 X-Lead|kept|\n");	/* no space added */
    log = closed(fake, m, s);
    assert_null(strstr(log, "H "));
    assert_null(strstr(log, "T "));
    assert_null(strstr(log, "U "));
    assert_non_null(strstr(log, "L Subject| spaced|\n"));	/* the space stays */
    assert_non_null(strstr(log, "B one"));
    assert_null(strstr(log, "B two"));
    assert_null(strstr(log, "!"));
}

static void test_progress(void **unused)
{
    FAKE   *fake = fake_new("progress", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    opened(fake, 0, 0);
    st = step(fake, SMFIC_BODYEOB, FAKE_PROGRESS);	/* 1.4 s > 1 s timeout */
    add_pkt(st, SMFIR_CONTINUE, -1, (char *) 0);
    m = milter_for(fake, 1, "reject");
    s = connected(fake, m, MILTER_CONTINUE);
    RUN(r, milter_eom(s, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    (void) closed(fake, m, s);
}

static void test_hang(void **unused)
{
    FAKE   *fake = fake_new("hang", 0);
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    time_t  start;

    opened(fake, 0, 0);
    step(fake, SMFIC_MAIL, FAKE_HANG);
    m = milter_for(fake, 1, "tempfail");
    s = connected(fake, m, MILTER_CONTINUE);
    (void) warnings();
    start = time((time_t *) 0);
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    assert_true(time((time_t *) 0) - start <= 3);
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.text, "451 4.7.1 Service unavailable - try again later");
    assert_non_null(strstr(warnings(), ": can't read SMFIC_MAIL reply packet header:"
			   " Connection timed out\n"));
    RUN(r, milter_rcpt(s, rcpt_argv, done_cb, &r));	/* not used any more */
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    (void) closed(fake, m, s);
}

static void test_eof_garbage_oversized(void **unused)
{
    FAKE   *eof = fake_new("eof", 0);
    FAKE   *junk = fake_new("junk", 0);
    FAKE   *big = fake_new("big", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    optneg(eof, 6, 0, 0);
    step(eof, SMFIC_CONNECT, FAKE_CLOSE);
    m = milter_for(eof, 5, "accept");
    (void) warnings();
    s = connected(eof, m, MILTER_CONTINUE);
    assert_non_null(strstr(warnings(), "can't read SMFIC_CONNECT reply packet header:"
			   " unexpected end of file\n"));
    (void) closed(eof, m, s);

    optneg(junk, 6, 0, 0);
    st = step(junk, SMFIC_CONNECT, FAKE_REPLY);
    add_raw(st, "\0\0\0\x03Zzz", 7);
    m = milter_for(junk, 5, "reject");
    s = connected(junk, m, MILTER_REJECT);
    assert_non_null(strstr(warnings(), "unexpected filter response (unknown filter reply)"
			   " after event SMFIC_CONNECT\n"));
    RUN(r, milter_helo(s, "x", done_cb, &r));
    assert_string_equal(r.text, "550 5.5.0 Service unavailable");
    (void) closed(junk, m, s);

    optneg(big, 6, 0, 0);
    st = step(big, SMFIC_CONNECT, FAKE_REPLY);
    add_raw(st, "\x7f\xff\xff\xff" "c", 5);
    m = milter_for(big, 5, "quarantine");
    s = connected(big, m, MILTER_QUARANTINE);
    assert_non_null(strstr(warnings(), "unreasonable packet length: 2147483647\n"));
    (void) closed(big, m, s);
}

static void test_negotiation_errors(void **unused)
{
    FAKE   *fake;
    MILTER *m;
    MILTER_SESS *s;
    const struct {
	uint32_t version, actions, protocol;
	const char *warning;
    }       bad[] = {
	{7, 0, 0, "protocol version 7 conflict with MTA protocol version 6"},
	{6, 0x200, 0, "request mask 0x200 conflict with MTA request mask 0x1ff"},
	{6, 0, 0x400000, "event mask 0x400000 conflict with MTA event mask 0x1fffff"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	fake = fake_new("optneg", 0);
	optneg(fake, bad[i].version, bad[i].actions, bad[i].protocol);
	m = milter_for(fake, 5, "tempfail");
	(void) warnings();
	s = connected(fake, m, MILTER_TEMPFAIL);
	assert_non_null(strstr(warnings(), bad[i].warning));
	(void) closed(fake, m, s);
    }
    fake = fake_new("optneg", 0);
    step(fake, SMFIC_OPTNEG, FAKE_CLOSE);
    m = milter_for(fake, 5, "tempfail");
    s = connected(fake, m, MILTER_TEMPFAIL);
    assert_non_null(strstr(warnings(), "can't read SMFIC_OPTNEG reply packet header"));
    (void) closed(fake, m, s);
}

static void test_unreachable(void **unused)
{
    MILTER_LIMITS limits;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    char    spec[300];
    int     fd = inet_listen("127.0.0.1:0", 1);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    close(fd);					/* now nobody listens there */
    milter_limits_init(&limits);
    snprintf(spec, sizeof(spec), "inet:127.0.0.1:%d", ntohs(sin.sin_port));
    m = milter_create(spec, &limits);
    s = milter_session(m, lookup, (void *) 0);
    (void) warnings();
    RUN(r, milter_connect(s, "h", SMFIA_UNKNOWN, (char *) 0, 0, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_non_null(strstr(warnings(), "connect to Milter service inet:127.0.0.1:"));
    milter_session_free(s);
    milter_free(m);
    snprintf(spec, sizeof(spec), "unix:%s/nobody.sock", tmp_dir);
    m = milter_create(spec, &limits);
    s = milter_session(m, lookup, (void *) 0);
    RUN(r, milter_connect(s, "h", SMFIA_UNIX, "/x", 0, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_non_null(strstr(warnings(), "nobody.sock: No such file or directory\n"));
    milter_session_free(s);
    milter_free(m);
}

static void test_abort_in_flight(void **unused)
{
    FAKE   *fake = fake_new("abort", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r, lost;
    char   *log;

    opened(fake, 0, 0);
    reply(fake, SMFIC_MAIL, SMFIR_CONTINUE);
    st = step(fake, SMFIC_RCPT, FAKE_DELAY);
    add_pkt(st, SMFIR_REJECT, -1, (char *) 0);
    reply(fake, SMFIC_MAIL, SMFIR_TEMPFAIL);
    m = milter_for(fake, 5, "tempfail");
    s = connected(fake, m, MILTER_CONTINUE);
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    memset(&lost, 0, sizeof(lost));
    milter_rcpt(s, rcpt_argv, done_cb, &lost);
    milter_abort(s);				/* its reject never comes to us */
    RUN(r, milter_mail(s, mail_argv, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_int_equal(lost.done, 0);
    log = closed(fake, m, s);
    assert_non_null(strstr(log, "R <bob@example.net>|\nA \nD Mi|4AbCdE|{auth_authen}|alice|\nM "));
}

static void test_old_protocol(void **unused)
{
    FAKE   *fake = fake_new("v2", 0);
    MILTER_LIMITS limits;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;
    char   *log;

    optneg(fake, 2, SMFIF_ADDHDRS, 0);
    reply(fake, SMFIC_CONNECT, SMFIR_CONTINUE);
    reply(fake, SMFIC_HEADER, SMFIR_CONTINUE);
    milter_limits_init(&limits);
    limits.protocol = "2 no_header_reply";
    m = milter_create(fake->endpoint, &limits);
    s = connected(fake, m, MILTER_CONTINUE);
    RUN(r, milter_data(s, done_cb, &r));	/* not in version 2 */
    RUN(r, milter_unknown(s, "XYZZY", done_cb, &r));
    RUN(r, milter_header(s, "Subject", " x", done_cb, &r));
    log = closed(fake, m, s);
    assert_non_null(strstr(log, "O |||\\x02|||?|||\\xff\n"));
    assert_null(strstr(log, "T "));
    assert_null(strstr(log, "U "));
}

static void test_idle_eof(void **unused)
{
    FAKE   *fake = fake_new("idle", 0);
    FAKE_STEP *st;
    MILTER *m;
    MILTER_SESS *s;
    RESULT  r;

    optneg(fake, 6, 0, 0);
    st = step(fake, SMFIC_CONNECT, FAKE_LAST);	/* answers, then goes */
    add_pkt(st, SMFIR_CONTINUE, -1, (char *) 0);
    m = milter_for(fake, 5, "reject");
    (void) warnings();
    s = connected(fake, m, MILTER_CONTINUE);
    for (int i = 0; i < 20 && !strstr(warnings(), "lost connection after SMFIC_CONNECT:"
				      " unexpected end of file\n"); i++)
	event_loop(50);				/* noticed while idle */
    RUN(r, milter_helo(s, "x", done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    (void) closed(fake, m, s);
}

static void test_config(void **unused)
{
    MILTER_LIMITS limits;
    MILTER *m;
    MILTERS *ms;

    milter_limits_init(&limits);
    assert_string_equal(limits.macros[MILTER_MACRO_MAIL], MILTER_MAIL_MACROS);
    assert_null(milter_create("tcp:127.0.0.1:1", &limits));
    assert_null(milter_create("inet:127.0.0.1", &limits));
    assert_null(milter_create("unix:", &limits));
    assert_null(milter_create("{ inet:127.0.0.1:1, default_action = maybe }", &limits));
    assert_null(milter_create("{ inet:127.0.0.1:1, command_timeout = soon }", &limits));
    assert_null(milter_create("{ inet:127.0.0.1:1, color = red }", &limits));
    assert_null(milter_create("{ inet:127.0.0.1:1", &limits));
    assert_null(milter_create("{ inet:127.0.0.1:1, protocol = 5 }", &limits));
    limits.default_action = "defer";
    assert_null(milter_create("inet:127.0.0.1:1", &limits));
    milter_limits_init(&limits);
    m = milter_create("{ inet:[::1]:8891, connect_timeout=10s, command_timeout = 1m,"
		      " content_timeout=1h, default_action=Accept, protocol=6 }", &limits);
    assert_non_null(m);
    assert_string_equal(milter_name(m), "inet:[::1]:8891");
    milter_free(m);
    ms = milters_create(" inet:127.0.0.1:1,{ unix:/x, default_action=accept }"
			"  unix:/y ", &limits);
    assert_non_null(ms);
    assert_int_equal(milters_count(ms), 3);
    milters_free(ms);
    assert_null(milters_create("inet:127.0.0.1:1 bogus:x", &limits));
    ms = milters_create("", &limits);
    assert_int_equal(milters_count(ms), 0);
    milters_free(ms);
}

static void test_chain(void **unused)
{
    FAKE   *one = fake_new("one", 0);
    FAKE   *two = fake_new("two", 0);
    FAKE_STEP *st;
    MILTER_LIMITS limits;
    MILTERS *ms;
    MILTERS_SESS *chain;
    RESULT  r;
    char    list[800];
    char   *log;

    opened(one, MILTER_V6_ACTIONS, SMFIP_RCPT_REJ);
    reply(one, SMFIC_MAIL, SMFIR_CONTINUE);
    reply(one, SMFIC_RCPT, SMFIR_REJECT);		/* a refused one: ignored */
    reply(one, SMFIC_RCPT, SMFIR_CONTINUE);
    reply(one, SMFIC_MAIL, SMFIR_CONTINUE);
    st = step(one, SMFIC_BODYEOB, FAKE_REPLY);
    add_pkt(st, SMFIR_ADDHEADER, -1, "X-One", "1", (char *) 0);
    add_pkt(st, SMFIR_CONTINUE, -1, (char *) 0);
    opened(two, MILTER_V6_ACTIONS, 0);
    reply(two, SMFIC_MAIL, SMFIR_CONTINUE);
    reply(two, SMFIC_RCPT, SMFIR_REJECT);
    reply(two, SMFIC_MAIL, SMFIR_CONTINUE);
    st = step(two, SMFIC_BODYEOB, FAKE_REPLY);
    add_pkt(st, SMFIR_ADDHEADER, -1, "X-Two", "2", (char *) 0);
    add_pkt(st, SMFIR_REJECT, -1, (char *) 0);
    milter_limits_init(&limits);
    snprintf(list, sizeof(list), "%s, { %s, default_action=accept }",
	     one->endpoint, two->endpoint);
    ms = milters_create(list, &limits);
    chain = milters_session(ms, lookup, (void *) 0);
    fake_start(one);
    fake_start(two);
    RUN(r, milters_connect(chain, "c", SMFIA_INET6, "::1", 25, done_cb, &r));
    RUN(r, milters_mail(chain, mail_argv, done_cb, &r));
    RUN(r, milters_rcpt(chain, rcpt_argv, 1, done_cb, &r));	/* refused by us */
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milters_rcpt(chain, rcpt_argv, 0, done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    milters_abort(chain);
    RUN(r, milters_mail(chain, mail_argv, done_cb, &r));
    RUN(r, milters_eom(chain, done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    assert_string_equal(r.mods, "1 0 X-One| 1|\n1 0 X-Two| 2|\n");
    milters_session_free(chain);
    milters_free(ms);
    log = fake_end(one);
    assert_non_null(strstr(log, "M <alice@example.org>|SIZE=100|\nD Ri|4AbCdE|\n"
			   "R <bob@example.net>|\nD Ri|4AbCdE|\nR <bob@example.net>|\nA \n"));
    assert_null(strstr(log, "!"));
    log = fake_end(two);
    assert_non_null(strstr(log, "C c|6|\\x19::1|\n"));
    assert_non_null(strstr(log, "M <alice@example.org>|SIZE=100|\nD Ri|4AbCdE|\n"
			   "R <bob@example.net>|\nA \n"));
    assert_null(strstr(log, "!"));
}

static void test_empty_chain(void **unused)
{
    MILTER_LIMITS limits;
    MILTERS *ms;
    MILTERS_SESS *chain;
    RESULT  r;

    milter_limits_init(&limits);
    ms = milters_create("", &limits);
    chain = milters_session(ms, lookup, (void *) 0);
    RUN(r, milters_helo(chain, "x", done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    milters_session_free(chain);
    milters_free(ms);
}

static int setup(void **unused)
{
    assert_non_null(mkdtemp(tmp_dir));
    snprintf(warn_path, sizeof(warn_path), "%s/warnings", tmp_dir);
    msg_logfile(warn_path);
    return (0);
}

static int teardown(void **unused)
{
    char    cmd[300];

    msg_logfile((char *) 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
    return (system(cmd) != 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_whole_session),
	cmocka_unit_test(test_reply_codes),
	cmocka_unit_test(test_conf_errors),
	cmocka_unit_test(test_malformed_requests),
	cmocka_unit_test(test_edit_limit),
	cmocka_unit_test(test_free_in_flight),
	cmocka_unit_test(test_connection_level),
	cmocka_unit_test(test_accept_connection),
	cmocka_unit_test(test_protocol_flags),
	cmocka_unit_test(test_progress),
	cmocka_unit_test(test_hang),
	cmocka_unit_test(test_eof_garbage_oversized),
	cmocka_unit_test(test_negotiation_errors),
	cmocka_unit_test(test_unreachable),
	cmocka_unit_test(test_abort_in_flight),
	cmocka_unit_test(test_old_protocol),
	cmocka_unit_test(test_idle_eof),
	cmocka_unit_test(test_config),
	cmocka_unit_test(test_chain),
	cmocka_unit_test(test_empty_chain),
    };

    msg_init("test_milter_clnt", MSG_TO_STDERR);
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
