/*
 * test_milter_libmilter.c - lib/global/milter_clnt.c against Sendmail's
 * libmilter, the reference implementation: test/unit/milter_libmilter.c
 * (built next to this test by the Makefile) runs as the filter on a UNIX
 * socket, and each test drives SMTP sessions through the client.
 *
 * Checked: negotiation, macros (Postfix's default lists, and the filter's
 * own with SETSYMLIST), every modification action libmilter can send,
 * reply codes from smfi_setreply for a recipient, a sender and the
 * content, a rejected connection, quarantine, SMFIP_NR_HDR,
 * SMFIP_HDR_LEADSPC, SMFIR_SKIP, a second message after an abort, and
 * two filters in a row.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include "events.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "milter_clnt.h"
#include "milter_fixture.h"

static char tmp_dir[] = "/tmp/test_milter_libmilter.XXXXXX";
static char filter_path[PATH_MAX];
static VSTRING *asked;				/* macro names looked up */

typedef struct FILTER {
    pid_t   pid;
    char    spec[300];
} FILTER;

/* filter_start - the libmilter filter on socket NAME; FLAGS: "-n" or "" */

static FILTER *filter_start(const char *name, const char *flags)
{
    FILTER *f = (FILTER *) mycalloc(1, sizeof(*f));
    char    path[250];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    snprintf(f->spec, sizeof(f->spec), "unix:%s", path);
    if ((f->pid = fork()) == 0) {
	execl(filter_path, filter_path, f->spec, *flags ? flags : (char *) 0, (char *) 0);
	_exit(127);
    }
    for (int i = 0; i < 100 && stat(path, &st) < 0; i++)
	usleep(50000);
    assert_int_equal(stat(path, &st), 0);
    return (f);
}

static void filter_stop(FILTER *f)
{
    kill(f->pid, SIGKILL);
    (void) waitpid(f->pid, (int *) 0, 0);
    myfree(f);
}

static void done_cb(const MILTER_RESULT *result, void *context)
{
    RESULT *r = context;

    milter_fixture_keep(result, r);
}

#define RUN(r, call) do { \
	memset(&(r), 0, sizeof(r)); \
	call; \
	for (int waited = 0; (r).done == 0 && waited < 10000; waited += 20) \
	    event_loop(20); \
	assert_int_equal((r).done, 1); \
    } while (0)

static const char *lookup(const char *name, void *context)
{
    static const char *macros[] = {
	"j", "mx.example.org", "{daemon_name}", "posthorn", "v", "Posthorn 1",
	"i", "QID1", "{auth_authen}", "alice", "{mail_addr}", "alice@example.org",
	0,
    };

    vstring_sprintf_append(asked, "%s ", name);
    for (int i = 0; macros[i]; i += 2)
	if (strcmp(name, macros[i]) == 0)
	    return (macros[i + 1]);
    return (0);
}

static MILTER *milter_for(FILTER *f)
{
    MILTER_LIMITS limits;

    milter_limits_init(&limits);
    limits.connect_timeout = limits.command_timeout = limits.content_timeout = 10;
    return (milter_create(f->spec, &limits));
}

static const char *sender[] = {"<alice@example.org>", "BODY=8BITMIME", 0};
static const char *bob[] = {"<bob@example.net>", 0};

/* message - MAIL .. end of message with SUBJECT, checking each step */

static void message(MILTER_SESS *s, const char *subject, RESULT *eom)
{
    RESULT  r;

    RUN(r, milter_mail(s, sender, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_rcpt(s, bob, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    RUN(r, milter_data(s, done_cb, &r));
    RUN(r, milter_header(s, "Subject", subject, done_cb, &r));
    RUN(r, milter_header(s, "X-Remove", " x", done_cb, &r));
    RUN(r, milter_eoh(s, done_cb, &r));
    RUN(r, milter_body(s, "line one\r\n", 10, done_cb, &r));
    RUN(r, milter_body(s, "line two\r\n", 10, done_cb, &r));
    RUN(*eom, milter_eom(s, done_cb, eom));
}

static MILTER_SESS *session(MILTER *m, const char *client)
{
    MILTER_SESS *s = milter_session(m, lookup, (void *) 0);
    RESULT  r;

    RUN(r, milter_connect(s, client, SMFIA_INET, "192.0.2.1", 4711, done_cb, &r));
    RUN(r, milter_helo(s, client, done_cb, &r));
    return (s);
}

static const char edits[] =
    "1 0 X-Filtered| yes|\n"
    "1 0 X-Seen| auth=alice i=QID1 args=BODY=8BITMIME subject=[hello world] body=20|\n"
    "2 0 X-First| at the top|\n"
    "3 1 Subject| changed subject|\n"
    "3 1 X-Remove||\n"
    "5 0 <added@example.org>|-|\n"
    "5 0 <added2@example.org>|NOTIFY=NEVER|\n"
    "6 0 <bob@example.net>|-|\n"
    "7 0 <changed@example.org>|-|\n"
    "4 0 -|-|new body\r\nsecond line\r\n\n";

static void test_modifications(void **unused)
{
    FILTER *f = filter_start("plain", "");
    MILTER *m = milter_for(f);
    MILTER_SESS *s = session(m, "client.example.com");
    const char *rejected[] = {"<reject@example.net>", 0};
    RESULT  r, eom;

    message(s, " hello world", &eom);
    assert_int_equal(eom.action, MILTER_CONTINUE);
    assert_string_equal(eom.mods, edits);
    RUN(r, milter_mail(s, sender, done_cb, &r));	/* a second message */
    RUN(r, milter_rcpt(s, rejected, done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    assert_string_equal(r.text, "550 5.7.1 No such user here");
    milter_abort(s);
    message(s, " hello world", &eom);
    assert_string_equal(eom.mods, edits);
    milter_session_free(s);
    milter_free(m);
    filter_stop(f);
}

static void test_refusals(void **unused)
{
    FILTER *f = filter_start("refuse", "");
    MILTER *m = milter_for(f);
    MILTER_SESS *s = milter_session(m, lookup, (void *) 0);
    const char *tempfail[] = {"<tempfail@example.org>", 0};
    RESULT  r, eom;

    RUN(r, milter_connect(s, "reject.example", SMFIA_INET, "192.0.2.9", 25, done_cb, &r));
    assert_int_equal(r.action, MILTER_REJECT);
    assert_string_equal(r.text, "550 5.7.1 Command rejected");
    RUN(r, milter_helo(s, "x", done_cb, &r));	/* the whole session */
    assert_int_equal(r.action, MILTER_REJECT);
    milter_session_free(s);
    s = session(m, "client.example.com");
    RUN(r, milter_mail(s, tempfail, done_cb, &r));
    assert_int_equal(r.action, MILTER_TEMPFAIL);
    assert_string_equal(r.text, "451 4.7.1 Try again later please");
    milter_abort(s);
    message(s, " please reject this", &eom);
    assert_int_equal(eom.action, MILTER_REJECT);
    assert_string_equal(eom.text, "550 5.7.1 Content rejected");
    message(s, " quarantine me", &eom);
    assert_int_equal(eom.action, MILTER_CONTINUE);
    assert_non_null(strstr(eom.mods, "8 0 suspicious|-|\n1 0 X-Filtered| yes|\n"));
    milter_session_free(s);
    milter_free(m);
    filter_stop(f);
}

static void test_negotiated(void **unused)
{
    FILTER *f = filter_start("flags", "-n");
    MILTER *m = milter_for(f);
    MILTER_SESS *s = session(m, "client.example.com");
    RESULT  eom;

    vstring_reset(asked);
    message(s, " hello world", &eom);
    assert_int_equal(eom.action, MILTER_CONTINUE);
    assert_non_null(strstr(STR(asked), "{auth_authen} i {rcpt_addr}"));	/* MAIL: its own list */
    assert_non_null(strstr(eom.mods, "1 0 X-Filtered|yes|\n"));	/* no space added */
    assert_non_null(strstr(eom.mods, "auth=alice i=(none) args=BODY=8BITMIME"
			   " subject=[ hello world] body=10|\n"));
    milter_session_free(s);
    milter_free(m);
    filter_stop(f);
}

static void test_chain(void **unused)
{
    FILTER *f1 = filter_start("first", "");
    FILTER *f2 = filter_start("second", "-n");
    MILTER_LIMITS limits;
    MILTERS *ms;
    MILTERS_SESS *chain;
    RESULT  r;
    char    list[700];
    const char *first_mod;

    milter_limits_init(&limits);
    snprintf(list, sizeof(list), "%s { %s, command_timeout=10s }", f1->spec, f2->spec);
    assert_non_null(ms = milters_create(list, &limits));
    chain = milters_session(ms, lookup, (void *) 0);
    RUN(r, milters_connect(chain, "client.example.com", SMFIA_INET, "192.0.2.1", 25,
			   done_cb, &r));
    RUN(r, milters_mail(chain, sender, done_cb, &r));
    RUN(r, milters_rcpt(chain, bob, 0, done_cb, &r));
    RUN(r, milters_data(chain, done_cb, &r));
    RUN(r, milters_header(chain, "Subject", " chained", done_cb, &r));
    RUN(r, milters_eoh(chain, done_cb, &r));
    RUN(r, milters_body(chain, "text\r\n", 6, done_cb, &r));
    RUN(r, milters_eom(chain, done_cb, &r));
    assert_int_equal(r.action, MILTER_CONTINUE);
    first_mod = strstr(r.mods, "1 0 X-Filtered| yes|\n");	/* the first's */
    assert_non_null(first_mod);
    assert_non_null(strstr(first_mod, "1 0 X-Filtered|yes|\n"));	/* then the second's */
    milters_session_free(chain);
    milters_free(ms);
    filter_stop(f1);
    filter_stop(f2);
}

static int setup(void **unused)
{
    char    self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    assert_true(n > 0);
    self[n] = 0;
    snprintf(filter_path, sizeof(filter_path), "%s/milter_libmilter", dirname(self));
    assert_int_equal(access(filter_path, X_OK), 0);
    assert_non_null(mkdtemp(tmp_dir));
    asked = vstring_alloc(100);
    return (0);
}

static int teardown(void **unused)
{
    char    cmd[300];

    vstring_free(asked);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
    return (system(cmd) != 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_modifications),
	cmocka_unit_test(test_refusals),
	cmocka_unit_test(test_negotiated),
	cmocka_unit_test(test_chain),
    };

    msg_init("test_milter_libmilter", MSG_TO_STDERR);
    signal(SIGPIPE, SIG_IGN);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
