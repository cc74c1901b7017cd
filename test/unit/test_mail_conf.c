/*
 * test_mail_conf.c - unit tests for lib/global/mail_conf.c (main.cf, parameters,
 * $name expansion).  Each test writes its own main.cf in a temporary
 * directory.  Cases that must end the process (bad values, loops, syntax
 * errors) run in a forked child whose exit status is checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sys_defs.h"
#include <signal.h>
#include <sys/wait.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static char conf_dir[] = "/tmp/test_mail_conf.XXXXXX";

/* write_conf - make DIR/main.cf hold TEXT, and read it */

static void write_conf(const char *text)
{
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    vstring_sprintf(path, "%s/main.cf", conf_dir);
    fp = fopen(STR(path), "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    vstring_free(path);
    mail_conf_set_dir(conf_dir);
}

static void load_conf(const char *text)
{
    write_conf(text);
    mail_conf_read(0);
}

/* in_child - run FN(ARG) in a child; return its wait() status */

static int in_child(void (*fn) (const char *), const char *arg)
{
    pid_t   pid;
    int     status;

    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0)
	fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
	alarm(10);				/* a hang becomes SIGALRM */
	fn(arg);
	_exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return (status);
}

static void assert_fatal(int status)
{
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

static void assert_panic(int status)
{
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_defaults(void **state)
{
    const char *host;
    const char *dot;

    load_conf("");
    assert_string_equal(conf_str("mail_name"), "Posthorn");
    assert_int_equal(conf_int("smtpd_hard_error_limit"), 20);
    assert_int_equal(conf_bool("biff"), 1);		/* as Postfix */
    assert_int_equal(conf_bool("smtpd_delay_reject"), 1);
    assert_int_equal(conf_time("max_idle"), 100);
    assert_int_equal(conf_time("maximal_queue_lifetime"), 5 * 86400);
    assert_int_equal(conf_long("message_size_limit"), 10240000L);
    assert_false(conf_is_set("biff"));
    assert_string_equal(conf_raw("myorigin"), "$myhostname");
    host = conf_str("myhostname");
    assert_non_null(dot = strchr(host, '.'));
    assert_string_equal(conf_str("mydomain"), dot + 1);
    assert_string_equal(conf_str("myorigin"), host);
    assert_string_equal(conf_default("myhostname"), host);
    assert_null(conf_default("no_such_parameter"));
    assert_non_null(mail_param_find("queue_directory"));
    assert_null(mail_param_find("no_such_parameter"));
    assert_string_equal(mail_conf_dir(), conf_dir);
}

static void test_missing_ok(void **state)
{
    char    empty[] = "/tmp/test_mail_conf_empty.XXXXXX";

    assert_non_null(mkdtemp(empty));
    mail_conf_set_dir(empty);
    mail_conf_read(MAIL_CONF_MISSING_OK);
    assert_string_equal(conf_str("mail_owner"), "posthorn");
    assert_int_equal(rmdir(empty), 0);
}

static void read_missing(const char *dir)
{
    mail_conf_set_dir(dir);
    mail_conf_read(0);
}

static void test_missing_fatal(void **state)
{
    assert_fatal(in_child(read_missing, "/nonexistent/posthorn-test"));
}

typedef struct WALK {
    VSTRING *names;
} WALK;

static void walk_fn(const char *name, const char *raw, void *ctx)
{
    WALK   *w = ctx;

    vstring_sprintf_append(w->names, "%s;", name);
}

static void test_parse_continuation_comments(void **state)
{
    WALK    w;

    load_conf("# a comment\n"
	      "mydestination = a,\n"
	      "    b\n"
	      "# comment inside\n"
	      "   # indented comment\n"
	      "\n"
	      "\tc   \n"
	      "biff = yes\n"
	      "mail_name=Other\r\n"
	      "biff = no\n"
	      "relay_domains =\n");
    /* continuation lines are joined as they are, as Postfix's readllines */
    assert_string_equal(conf_raw("mydestination"), "a,    b\tc");
    assert_int_equal(conf_bool("biff"), 0);		/* later setting wins */
    assert_string_equal(conf_str("mail_name"), "Other");
    assert_string_equal(conf_str("relay_domains"), "");
    assert_true(conf_is_set("relay_domains"));
    assert_true(conf_is_set("biff"));
    assert_false(conf_is_set("myorigin"));
    w.names = vstring_alloc(100);
    conf_walk(walk_fn, &w);
    assert_string_equal(STR(w.names),
	"mydestination;biff;mail_name;relay_domains;config_directory;");
    vstring_free(w.names);
}

static void test_leading_whitespace_ignored(void **state)
{
    load_conf("  biff = yes\nmail_name = X\n");
    assert_false(conf_is_set("biff"));
    assert_string_equal(conf_str("mail_name"), "X");
}

static void test_reread_resets(void **state)
{
    load_conf("biff = no\nown_param = 1\n");
    assert_int_equal(conf_bool("biff"), 0);
    assert_string_equal(conf_raw("own_param"), "1");
    load_conf("mail_name = Y\n");
    assert_int_equal(conf_bool("biff"), 1);
    assert_null(conf_raw("own_param"));
    assert_false(conf_is_set("own_param"));
}

static void test_expansion(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    load_conf("myhostname = mail.example.com\n"
	      "a = $myhostname|${myhostname}|$(mydomain)|$$x|$nosuch.|\n"
	      "b = ${myhostname?yes}|${nosuch?no}|${nosuch:dflt}|${myhostname:no}|\n"
	      "c = ${myhostname?{y $mydomain}}|${nosuch:{e}}|${nosuch?{t}:{f}}"
	      "|${myhostname?{t}:{f}}|$(myhostname?(p))\n"
	      "d = ${a}x\n"
	      "empty =\n"
	      "e = ${empty?set}${empty:unset}\n");
    assert_string_equal(conf_str("mydomain"), "example.com");
    assert_string_equal(conf_str("a"),
			"mail.example.com|mail.example.com|example.com|$x|.|");
    assert_string_equal(conf_str("b"), "yes||dflt||");
    assert_string_equal(conf_str("c"), "y example.com|e|f|t|(p)");
    assert_string_equal(conf_str("d"),
			"mail.example.com|mail.example.com|example.com|$x|.|x");
    assert_string_equal(conf_str("e"), "unset");
    assert_string_equal(conf_str("myorigin"), "mail.example.com");
    assert_string_equal(conf_str("mydestination"),
		    "mail.example.com, localhost.example.com, localhost");
    assert_string_equal(STR(conf_expand(buf, "<$mail_name>")), "<Posthorn>");
    vstring_free(buf);
}

static void test_user_defined(void **state)
{
    load_conf("mua_client_restrictions = permit_sasl_authenticated, reject\n"
	      "smtpd_client_restrictions = $mua_client_restrictions\n");
    assert_string_equal(conf_raw("mua_client_restrictions"),
			"permit_sasl_authenticated, reject");
    assert_string_equal(conf_str("smtpd_client_restrictions"),
			"permit_sasl_authenticated, reject");
    assert_null(mail_param_find("mua_client_restrictions"));
    assert_null(conf_raw("never_defined_anywhere"));
}

static void str_of(const char *name)
{
    (void) conf_str(name);
}

static void test_unknown_panics(void **state)
{
    load_conf("");
    assert_panic(in_child(str_of, "never_defined_anywhere"));
}

static void test_cache_invalidation(void **state)
{
    const char *old;

    load_conf("myhostname = one.example.com\n");
    old = conf_str("myorigin");
    assert_string_equal(old, "one.example.com");
    assert_ptr_equal(conf_str("myorigin"), old);	/* cached */
    mail_conf_update("myhostname", "two.example.org");
    assert_string_equal(conf_str("myorigin"), "two.example.org");
    assert_string_equal(conf_str("mydomain"), "example.org");
    assert_string_equal(old, "one.example.com");	/* still valid */
    assert_true(conf_is_set("myhostname"));
}

static void override_child(const char *arg)
{
    load_conf("biff = yes\nmail_name = File\n");
    mail_conf_override("biff=no");
    mail_conf_override(" mail_name = Over ride ");
    mail_conf_override("own_override=7");
    if (conf_bool("biff") != 0 || strcmp(conf_str("mail_name"), "Over ride") != 0
	|| conf_int("own_override") != 7)
	_exit(2);
    mail_conf_read(0);				/* overrides survive a reload */
    if (conf_bool("biff") != 0 || strcmp(conf_str("mail_name"), "Over ride") != 0
	|| !conf_is_set("own_override"))
	_exit(3);
    _exit(0);
}

static void test_overrides(void **state)
{
    int     status = in_child(override_child, 0);

    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void bad_override(const char *arg)
{
    mail_conf_override(arg);
}

static void int_of(const char *name)
{
    (void) conf_int(name);
}

static void bool_of(const char *name)
{
    (void) conf_bool(name);
}

static void time_of(const char *name)
{
    (void) conf_time(name);
}

static void long_of(const char *name)
{
    (void) conf_long(name);
}

static void test_bad_values(void **state)
{
    load_conf("smtpd_hard_error_limit = abc\n"
	      "smtpd_soft_error_limit = 12x\n"
	      "hash_queue_depth = 9\n"
	      "max_use = 0\n"
	      "biff = maybe\n"
	      "max_idle = 10x\n"
	      "queue_run_delay = 0s\n"
	      "message_size_limit = 99999999999999999999999\n"
	      "line_length_limit = 99999999999\n");
    assert_fatal(in_child(int_of, "smtpd_hard_error_limit"));
    assert_fatal(in_child(int_of, "smtpd_soft_error_limit"));
    assert_fatal(in_child(int_of, "hash_queue_depth"));	/* > max */
    assert_fatal(in_child(int_of, "max_use"));		/* < min */
    assert_fatal(in_child(bool_of, "biff"));
    assert_fatal(in_child(time_of, "max_idle"));
    assert_fatal(in_child(time_of, "queue_run_delay"));	/* < min */
    assert_fatal(in_child(long_of, "message_size_limit"));
    assert_fatal(in_child(int_of, "line_length_limit"));
    assert_fatal(in_child(bad_override, "no_equals_sign"));
}

static void test_good_numbers(void **state)
{
    load_conf("smtpd_hard_error_limit = 7\n"
	      "biff = YES\n"
	      "max_idle = 2m\n"
	      "delay_warning_time = 4\n"
	      "message_size_limit = 50000000000\n");
    assert_int_equal(conf_int("smtpd_hard_error_limit"), 7);
    assert_int_equal(conf_bool("biff"), 1);
    assert_int_equal(conf_time("max_idle"), 120);
    assert_int_equal(conf_time("delay_warning_time"), 4 * 3600);	/* unit h */
    assert_true(conf_long("message_size_limit") == 50000000000L);
}

static void test_time_units(void **state)
{
    long    t;
    int     b;

    assert_true(conf_parse_time("30", 's', &t) && t == 30);
    assert_true(conf_parse_time("30s", 'd', &t) && t == 30);
    assert_true(conf_parse_time("2m", 's', &t) && t == 120);
    assert_true(conf_parse_time("3h", 's', &t) && t == 3 * 3600);
    assert_true(conf_parse_time("5d", 's', &t) && t == 5 * 86400);
    assert_true(conf_parse_time("1w", 's', &t) && t == 604800);
    assert_true(conf_parse_time("2", 'd', &t) && t == 2 * 86400);
    assert_true(conf_parse_time("0", 'h', &t) && t == 0);
    assert_false(conf_parse_time("", 's', &t));
    assert_false(conf_parse_time("s", 's', &t));
    assert_false(conf_parse_time("5x", 's', &t));
    assert_false(conf_parse_time("5ss", 's', &t));
    assert_false(conf_parse_time("-5s", 's', &t));
    assert_false(conf_parse_time("99999999w", 's', &t));
    assert_true(conf_parse_bool("yes", &b) && b == 1);
    assert_true(conf_parse_bool("No", &b) && b == 0);
    assert_false(conf_parse_bool("true", &b));
    assert_false(conf_parse_bool("", &b));
}

static void test_loop_is_fatal(void **state)
{
    load_conf("a = $b\nb = ${a}\nself = x$self\n");
    assert_fatal(in_child(str_of, "a"));
    assert_fatal(in_child(str_of, "self"));
}

static void test_macro_syntax_errors(void **state)
{
    load_conf("t1 = ${foo\n"
	      "t2 = $\n"
	      "t3 = ${myhostname!x}\n"
	      "t4 = ${myhostname?{a} x}\n"
	      "t5 = $(myhostname:x}\n");
    assert_fatal(in_child(str_of, "t1"));
    assert_fatal(in_child(str_of, "t2"));
    assert_fatal(in_child(str_of, "t3"));
    assert_fatal(in_child(str_of, "t4"));
    assert_fatal(in_child(str_of, "t5"));
}

static void read_text(const char *text)
{
    load_conf(text);
}

static void test_missing_equals(void **state)
{
    assert_fatal(in_child(read_text, "foo bar\n"));
    assert_fatal(in_child(read_text, "biff = no\nfoo\n  bar\n"));
    assert_fatal(in_child(read_text, "= value\n"));
}

static void test_long_value(void **state)
{
    VSTRING *text = vstring_alloc(300000);
    VSTRING *want = vstring_alloc(300000);
    int     i;

    vstring_strcpy(text, "relay_domains = ");
    for (i = 0; i < 20000; i++) {
	vstring_sprintf_append(text, "d%05d.example ", i);
	vstring_sprintf_append(want, "%sd%05d.example", i ? " " : "", i);
	if (i == 10000) {
	    vstring_strcat(text, "\n  ");	/* a continuation in the middle */
	    vstring_strcat(want, "  ");		/* kept, as Postfix keeps it */
	}
    }
    vstring_addch(text, '\n');
    load_conf(STR(text));
    assert_int_equal(strlen(conf_str("relay_domains")), LEN(want));
    assert_string_equal(conf_str("relay_domains"), STR(want));
    vstring_free(text);
    vstring_free(want);
}

static void test_mail_config_env(void **state)
{
    mail_conf_set_dir(0);
    setenv("MAIL_CONFIG", "/some/where", 1);
    assert_string_equal(mail_conf_dir(), "/some/where");
    unsetenv("MAIL_CONFIG");
    assert_string_equal(mail_conf_dir(), DEF_CONFIG_DIR);
    mail_conf_set_dir(conf_dir);
    assert_string_equal(mail_conf_dir(), conf_dir);
}

static int setup(void **state)
{
    msg_init("test_mail_conf", MSG_TO_STDERR);
    if (mkdtemp(conf_dir) == 0)
	return (-1);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/main.cf", conf_dir);
    (void) unlink(STR(path));
    vstring_free(path);
    return (rmdir(conf_dir));
}

/* stderr_of - what FN(ARG) writes to stderr in a child */

static char *stderr_of(void (*fn) (const char *), const char *arg)
{
    char    path[] = "/tmp/test_mail_conf_err.XXXXXX";
    int     fd = mkstemp(path);
    int     saved = dup(2);
    char    buf[4096];
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    assert_int_equal(in_child(fn, arg), 0);
    dup2(saved, 2);
    close(saved);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n >= 0);
    buf[n] = 0;
    return (mystrdup(buf));
}

static void test_duplicate_warning(void **state)
{
    char   *err = stderr_of(read_text, "relayhost = x\n"
			    "myorigin = a\n"
			    "relayhost = x\n"
			    "# comment\n"
			    "relayhost = y\n"
			    "  continued\n"
			    "relayhost = z\n");

    /* the line where the overriding entry starts, and the earlier value */
    assert_non_null(strstr(err, "main.cf, line 5: overriding earlier entry: relayhost=x\n"));
    assert_non_null(strstr(err, "main.cf, line 7: overriding earlier entry: relayhost=y  continued\n"));
    /* the same value again is no override */
    assert_null(strstr(err, "line 3:"));
    myfree(err);
    load_conf("relayhost = x\nrelayhost = y\n");
    assert_string_equal(conf_raw("relayhost"), "y");
}

static void expect_nameval(const char *text, const char *name, const char *value,
			           const char *err)
{
    VSTRING *n = vstring_alloc(10);
    VSTRING *v = vstring_alloc(10);
    const char *got = conf_split_nameval(text, n, v);

    if (err) {
	assert_non_null(got);
	assert_string_equal(got, err);
    } else {
	assert_null(got);
	assert_string_equal(STR(n), name);
	assert_string_equal(STR(v), value);
    }
    vstring_free(n);
    vstring_free(v);
}

static void test_split_nameval(void **state)
{
    expect_nameval("a=b", "a", "b", 0);
    expect_nameval("  a  =  b c  ", "a", "b c", 0);
    expect_nameval("a =", "a", "", 0);
    expect_nameval("a/b/c=x=y", "a/b/c", "x=y", 0);
    expect_nameval("", 0, 0, "missing attribute name");
    expect_nameval(" = b", 0, 0, "missing attribute name");
    expect_nameval("a b = c", 0, 0, "missing '=' after attribute name");
    expect_nameval("a", 0, 0, "missing '=' after attribute name");
}

static const char *scope_lookup(const char *name, void *ctx)
{
    if (strcmp(name, "service_name") == 0)
	return ((const char *) ctx);
    if (strcmp(name, "local_only") == 0)
	return ("[$service_name]");
    return (0);
}

static void test_expand_scoped(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    load_conf("mail_name = M\n");
    conf_expand_scoped(buf, "$mail_name/$service_name ${local_only}", scope_lookup, "relay");
    assert_string_equal(STR(buf), "M/relay [relay]");
    conf_expand(buf, "$mail_name/$service_name");
    assert_string_equal(STR(buf), "M/");
    vstring_free(buf);
}

static void test_set_default(void **state)
{
    load_conf("");
    mail_conf_set_default("mynetworks", "192.0.2.0/24");
    assert_string_equal(conf_default("mynetworks"), "192.0.2.0/24");
    assert_string_equal(conf_str("mynetworks"), "192.0.2.0/24");
    load_conf("mynetworks = 10.0.0.0/8\n");
    assert_string_equal(conf_str("mynetworks"), "10.0.0.0/8");
    assert_string_equal(conf_default("mynetworks"), "192.0.2.0/24");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_missing_ok),
	cmocka_unit_test(test_missing_fatal),
	cmocka_unit_test(test_parse_continuation_comments),
	cmocka_unit_test(test_leading_whitespace_ignored),
	cmocka_unit_test(test_reread_resets),
	cmocka_unit_test(test_expansion),
	cmocka_unit_test(test_user_defined),
	cmocka_unit_test(test_unknown_panics),
	cmocka_unit_test(test_cache_invalidation),
	cmocka_unit_test(test_overrides),
	cmocka_unit_test(test_bad_values),
	cmocka_unit_test(test_good_numbers),
	cmocka_unit_test(test_time_units),
	cmocka_unit_test(test_loop_is_fatal),
	cmocka_unit_test(test_macro_syntax_errors),
	cmocka_unit_test(test_missing_equals),
	cmocka_unit_test(test_long_value),
	cmocka_unit_test(test_mail_config_env),
	cmocka_unit_test(test_duplicate_warning),
	cmocka_unit_test(test_split_nameval),
	cmocka_unit_test(test_expand_scoped),
	cmocka_unit_test(test_set_default),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
