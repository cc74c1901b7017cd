/*
 * test_conf_check.c - unit tests for lib/global/conf_check.c (what
 * "posthorn check" finds wrong in main.cf and master.cf).
 *
 * Each test writes main.cf and master.cf into a temporary directory with
 * a daemon_directory of its own (an executable "master" and "smtpd"),
 * runs conf_check_master() and conf_check_main(), and looks at the
 * problems reported, collected as "W: text", "E: text", "F: text" lines.
 * Bad input: every kind of $name syntax error, loops, values of every
 * type out of bounds or not numbers at all, broken master.cf lines, a
 * proxy: table without the proxymap service.
 * Whatever is accepted must also expand without dying (checked in-process).
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "conf_check.h"
#include "mail_conf.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static char tmp_dir[] = "/tmp/test_conf_check.XXXXXX";
static VSTRING *said;			/* the problems of the last check */

/* collect - the REPORT function: one line per problem */

static void collect(int severity, const char *text, void *ctx)
{
    static const char *tag[] = {"?", "W", "E", "F"};

    vstring_sprintf_append(said, "%s: %s\n", tag[severity], text);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    vstring_sprintf(path, "%s/%s", tmp_dir, name);
    fp = fopen(STR(path), "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(STR(path), mode), 0);
    vstring_free(path);
}

/* a main.cf that points daemon_directory at our own libexec/ */

static void write_main(const char *extra)
{
    VSTRING *text = vstring_alloc(200);

    vstring_sprintf(text, "daemon_directory = %s/libexec\n%s", tmp_dir, extra);
    write_file("main.cf", STR(text), 0644);
    vstring_free(text);
}

#define MASTER_OK "smtp inet n - n - - smtpd\nqmgr unix n - n 300 1 master\n" \
	"proxymap unix - - n - - proxymap\n"

/* check - both checks over MAIN (after daemon_directory) and MASTER */

static const char *check(const char *main_cf, const char *master_cf)
{
    CONF_CHECK cc;
    MASTER_CF *cf;

    write_main(main_cf);
    if (master_cf)
	write_file("master.cf", master_cf, 0644);
    mail_conf_set_dir(tmp_dir);
    mail_conf_read(0);
    vstring_reset(said);
    conf_check_init(&cc, collect, 0);
    conf_check_master(&cc, &cf);
    conf_check_main(&cc, cf);
    master_cf_free(cf);
    conf_check_free(&cc);
    return (STR(said));
}

static int count_lines(const char *text)
{
    int     n = 0;

    for (; *text; text++)
	n += *text == '\n';
    return (n);
}

/* assert_said - TEXT holds exactly one line, with NEEDLE */

#define assert_said(text, needle) do { \
	if (strstr((text), (needle)) == 0 || count_lines(text) != 1) \
	    fail_msg("wanted one line with \"%s\", got:\n%s", (needle), (text)); \
    } while (0)

static void test_clean(void **state)
{
    assert_string_equal(check("myorigin = $mydomain\n"
			      "smtpd_timeout = 5m\n"
			      "message_size_limit = 20480000\n"
			      "smtpd_helo_required = yes\n"
			      "my_list = a, b\n"
			      "mydestination = $myhostname, $my_list\n",
			      MASTER_OK), "");
}

/* test_proxymap_service - proxy: tables need proxymap in master.cf */

static void test_proxymap_service(void **state)
{
    static const char no_proxymap[] = "smtp inet n - n - - smtpd\n"
	"qmgr unix n - n 300 1 master\n";

    /* the default local_recipient_maps is proxy:unix:passwd.byname ... */
    assert_said(check("", no_proxymap),
		"E: missing 'proxymap' service in master.cf (local_recipient_maps "
		"uses proxy: tables) - run 'posthorn upgrade-configuration'");
    /* ... without a proxy: table nothing needs it */
    assert_string_equal(check("local_recipient_maps =\n", no_proxymap), "");
    assert_string_equal(check("", MASTER_OK), "");
}

static void test_bad_values(void **state)
{
    assert_said(check("smtpd_recipient_limit = abc\n", MASTER_OK),
		"F: ");
    assert_said(check("smtpd_recipient_limit = abc\n", MASTER_OK),
	   "main.cf: bad numerical configuration: smtpd_recipient_limit = abc");
    assert_said(check("smtpd_recipient_limit = 12x\n", MASTER_OK),
		"bad numerical configuration: smtpd_recipient_limit = 12x");
    assert_said(check("smtpd_recipient_limit = 99999999999\n", MASTER_OK),
		"bad numerical configuration: smtpd_recipient_limit = 99999999999");
    assert_said(check("message_size_limit = 12k\n", MASTER_OK),
		"bad numerical configuration: message_size_limit = 12k");
    assert_said(check("message_size_limit = 999999999999999999999999\n", MASTER_OK),
		"bad numerical configuration: message_size_limit");
    assert_said(check("smtpd_helo_required = maybe\n", MASTER_OK),
		"bad boolean configuration: smtpd_helo_required = maybe");
    assert_said(check("smtpd_helo_required =\n", MASTER_OK),
		"bad boolean configuration: smtpd_helo_required = ");
    assert_said(check("smtpd_timeout = 10x\n", MASTER_OK),
		"parameter smtpd_timeout: bad time value or unit: 10x");
    assert_said(check("smtpd_timeout = -5\n", MASTER_OK),
		"parameter smtpd_timeout: bad time value or unit: -5");
    assert_said(check("smtpd_timeout = 5ss\n", MASTER_OK),
		"parameter smtpd_timeout: bad time value or unit: 5ss");
    assert_said(check("smtpd_timeout = 99999999999w\n", MASTER_OK),
		"parameter smtpd_timeout: bad time value or unit");
}

static void test_bounds(void **state)
{
    assert_said(check("hash_queue_depth = 9\n", MASTER_OK),
		"invalid hash_queue_depth parameter value 9 > 4");
    assert_said(check("hash_queue_depth = 0\n", MASTER_OK),
		"invalid hash_queue_depth parameter value 0 < 1");
    assert_said(check("ipc_timeout = 0\n", MASTER_OK),
		"invalid ipc_timeout: 0 (min 1)");
    assert_said(check("unknown_local_recipient_reject_code = 250\n", MASTER_OK),
		"invalid unknown_local_recipient_reject_code parameter value 250 < 400");
    /* A bad value reached through a $name is the value's problem */
    assert_said(check("my_limit = lots\nsmtpd_recipient_limit = $my_limit\n",
		      MASTER_OK),
		"bad numerical configuration: smtpd_recipient_limit = lots");
}

static void test_macro_syntax(void **state)
{
    assert_said(check("myorigin = ${foo\n", MASTER_OK),
		"main.cf: parameter myorigin: truncated macro reference: \"${foo\"");
    assert_said(check("myorigin = $(foo\n", MASTER_OK),
		"truncated macro reference: \"$(foo\"");
    assert_said(check("myorigin = x$\n", MASTER_OK),
		"parameter myorigin: empty macro name: \"$\"");
    assert_said(check("myorigin = ${}\n", MASTER_OK), "empty macro name");
    assert_said(check("myorigin = $ x\n", MASTER_OK), "empty macro name: \"$ x\"");
    assert_said(check("myorigin = ${a!b}\n", MASTER_OK),
		"attribute name syntax error: \"${a!b}\"");
    assert_said(check("myorigin = ${a?{x}y}\n", MASTER_OK),
		"\":\" or closing bracket expected");
    assert_said(check("myorigin = ${a?{x}\n", MASTER_OK), "truncated macro reference");
    assert_said(check("myorigin = ${a?x\n", MASTER_OK), "truncated macro reference");
    assert_said(check("myorigin = ${a?${b}\n", MASTER_OK), "truncated macro reference");
    /* an error inside a branch that is not taken is still an error */
    assert_said(check("myorigin = ${mail_name?x:{${y}}\n", MASTER_OK),
		"truncated macro reference");
    /* a user-defined name that nothing reads is checked too */
    assert_true(strstr(check("x = ${y\n", MASTER_OK),
			 "F: ") != 0);
}

/* test_good_syntax - what is accepted expands as the daemons expand it */

static void test_good_syntax(void **state)
{
    static const char *values[] = {
	"$$", "$$$mail_name", "${mail_name?{x}:{y}}", "${mail_name:{x}}",
	"${mail_name?x}", "$(mail_name:b)", "${mail_name?${mail_version}}",
	"${nothing?{a}:{b}}", "$mail_name.$mail_version",
	"{${mail_name?{a}}}", "${mail_name?{ {nested} }}", "",
    };
    VSTRING *main_cf = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
	vstring_sprintf(main_cf, "my_value = %s\nsmtpd_banner = $my_value\n", values[i]);
	check(STR(main_cf), MASTER_OK);
	if (strstr(STR(said), "F: ") != 0)
	    fail_msg("\"%s\": %s", values[i], STR(said));
	conf_expand(out, values[i]);		/* must not die */
    }
    vstring_free(main_cf);
    vstring_free(out);
}

static void test_loops(void **state)
{
    const char *text;

    assert_said(check("myorigin = $myorigin\n", MASTER_OK),
		"parameter myorigin: unreasonable macro call nesting: \"myorigin\"");
    /* one loop: one report, however many names are caught in it */
    text = check("a1 = $a2\na2 = $a1\nmyorigin = $a1\n", MASTER_OK);
    assert_said(text, "unreasonable macro call nesting");
    /* a loop met first where nothing reports it is reported later */
    assert_said(check("daemon_directory = $x\nx = $daemon_directory\n", MASTER_OK),
		"unreasonable macro call nesting");
    /* mydomain from myhostname, myhostname from mydomain: mail_conf.c copes */
    assert_string_equal(check("myhostname = mail.$mydomain\n", MASTER_OK), "");
}

static void test_undefined_and_unused(void **state)
{
    assert_said(check("smtpd_banner = $nosuch ESMTP\n", MASTER_OK),
		"W: ");
    assert_said(check("smtpd_banner = $nosuch ESMTP\n", MASTER_OK),
		"main.cf: undefined parameter: nosuch");
    assert_said(check("smtpd_banner = ${nosuch?x}\n", MASTER_OK),
		"undefined parameter: nosuch");
    assert_said(check("foo_bar = 1\n", MASTER_OK),
		"main.cf: unused parameter: foo_bar=1");
    assert_said(check("foo = 1\nbar = $foo\n", MASTER_OK),
		"unused parameter: bar=$foo");
    /* forward_path's $names are local's own */
    assert_string_equal(check("forward_path = $home/.forward$nosuch\n", MASTER_OK), "");
    /* names used by master.cf -o values are used */
    assert_string_equal(check("mua_restrictions = permit\n",
			      MASTER_OK "sub unix n - n - - smtpd"
			      " -o smtpd_client_restrictions=$mua_restrictions\n"), "");
}

static void test_service_params(void **state)
{
    const char *master_cf = MASTER_OK "relay unix - - n - - smtpd\n";

    assert_string_equal(check("relay_destination_concurrency_limit = 5\n"
			      "relay_time_limit = 60s\n", master_cf), "");
    assert_said(check("relay_destination_concurrency_limit = x\n", master_cf),
		"bad numerical configuration: relay_destination_concurrency_limit = x");
    assert_said(check("relay_time_limit = 10x\n", master_cf),
		"parameter relay_time_limit: bad time value or unit: 10x");
    /* no such service: nothing reads it */
    assert_said(check("relay_destination_concurrency_limit = 5\n", MASTER_OK),
		"unused parameter: relay_destination_concurrency_limit=5");
    assert_int_equal(conf_check_service_param(0, "relay_time_limit"), 0);
}

static void test_master_syntax(void **state)
{
    assert_said(check("", MASTER_OK "bogus unix - - n - -\n"),
		"master.cf, line 4: too few fields");
    assert_said(check("", MASTER_OK "bogus unox - - n - - smtpd\n"),
		"master.cf, line 4: bad transport type");
    assert_said(check("", MASTER_OK "smtp inet n - n - - smtpd\n"),
		"duplicate service name and type");
    assert_said(check("", "  -o x=y\n"), "continuation line without a preceding entry");
    assert_said(check("", "smtp inet n - n - 1x smtpd\n"), "bad maximal process count");
}

static void test_master_programs(void **state)
{
    VSTRING *path = vstring_alloc(100);

    assert_said(check("", MASTER_OK "bogus unix - - n - - nosuchdaemon\n"),
		"E: ");
    assert_said(check("", MASTER_OK "bogus unix - - n - - nosuchdaemon\n"),
		"master.cf, line 4: service bogus/unix: cannot execute");
    assert_said(check("", MASTER_OK "bogus unix - - n - - /nonexistent/x\n"),
		"cannot execute /nonexistent/x: No such file or directory");
    assert_said(check("", MASTER_OK "bogus unix - - n - - /tmp\n"),
		"cannot execute /tmp: not a regular file");
    write_file("libexec/plain", "", 0644);
    if (geteuid() != 0)				/* root may execute anything */
	assert_said(check("", MASTER_OK "bogus unix - - n - - plain\n"),
		    "Permission denied");
    vstring_sprintf(path, "%s/libexec/master", tmp_dir);
    assert_int_equal(unlink(STR(path)), 0);
    assert_true(strstr(check("", MASTER_OK), "F: no Posthorn master program ") != 0);
    write_file("libexec/master", "", 0755);
    assert_said(check("daemon_directory = /nonexistent/libexec\n", MASTER_OK),
		"F: no Posthorn daemon directory /nonexistent/libexec");
    vstring_free(path);
}

static void test_master_options(void **state)
{
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -o smtpd_timeout=abc\n"),
		"master.cf, line 4: parameter smtpd_timeout: bad time value or unit: abc");
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -osmtpd_helo_required=x\n"),
		"bad boolean configuration: smtpd_helo_required = x");
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -o\n"),
		"service sub/unix: bad -o option \"\" (need: -o name=value)");
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -o =x\n"),
		"bad -o option \"=x\"");
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -o nosuch_x=1\n"),
		"master.cf: unused parameter: nosuch_x=1");
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -o myorigin=${x\n"),
		"master.cf, line 4: parameter myorigin: truncated macro reference");
    /* the skeleton's options that take a word do not hide what follows */
    assert_said(check("", MASTER_OK "sub unix - - n - - smtpd -t unix -o smtpd_timeout=x\n"),
		"bad time value or unit: x");
    /* after the first word that is no option, the arguments are the command's */
    assert_string_equal(check("", MASTER_OK "sub unix - - n - - smtpd args -o x\n"), "");
}

static void test_master_missing(void **state)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/master.cf", tmp_dir);
    assert_int_equal(unlink(STR(path)), 0);
    assert_said(check("", 0), "F: no ");
    assert_said(check("", 0), "/master.cf file found");
    vstring_free(path);
}

static void test_postlog(void **state)
{
    assert_said(check("maillog_file = /var/log/posthorn.log\n", MASTER_OK),
		"E: missing 'postlog' service in master.cf - run "
		"'posthorn upgrade-configuration'");
    assert_string_equal(check("maillog_file = /var/log/posthorn.log\n",
			      MASTER_OK "postlog unix n - n - 1 master\n"), "");
}

static void test_param_and_expand(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    CONF_CHECK cc;

    check("x = ${y\nz = $x\nw = $mail_name!\n", MASTER_OK);
    conf_check_init(&cc, collect, 0);
    vstring_reset(said);
    assert_null(conf_check_param(&cc, "x", buf));
    assert_null(conf_check_param(&cc, "z", buf));
    assert_null(conf_check_param(&cc, "nosuch", buf));
    assert_string_equal(conf_check_param(&cc, "w", buf), "Posthorn!");
    assert_string_equal(STR(said), "");		/* silent */
    assert_int_equal(conf_check_expand(&cc, "here", "v", "$z", buf), -1);
    assert_string_equal(STR(said), "");		/* z's own error is z's */
    assert_int_equal(conf_check_expand(&cc, "here", "v", "<$w>", buf), 0);
    assert_string_equal(STR(buf), "<Posthorn!>");
    assert_int_equal(conf_check_value(&cc, "here", "n", PARAM_INT, 0, "-7"), 0);
    assert_int_equal(conf_check_value(&cc, "here", "t", PARAM_TIME, 0, "7"), 0);
    assert_int_equal(conf_check_value(&cc, "here", "t", PARAM_TIME, 0, "7q"), -1);
    assert_int_equal(conf_check_value(&cc, "here", "s", PARAM_STR, 0, "${"), 0);
    assert_int_equal(cc.count[CONF_CHECK_FATAL], 1);
    assert_string_equal(STR(said), "F: here: parameter t: bad time value or unit: 7q\n");
    conf_check_free(&cc);
    vstring_free(buf);
}

static void test_long_value(void **state)
{
    VSTRING *text = vstring_alloc(100000);

    vstring_strcpy(text, "myorigin = ");
    for (int i = 0; i < 20000; i++)
	vstring_strcat(text, "$mail_name${mail_name?{$$}}");
    vstring_strcat(text, "\n");
    assert_string_equal(check(STR(text), MASTER_OK), "");
    vstring_strcpy(text, "a0 = x\n");
    for (int i = 1; i < 150; i++)			/* deeper than expansion goes */
	vstring_sprintf_append(text, "a%d = $a%d\n", i, i - 1);
    vstring_sprintf_append(text, "myorigin = $a149\n");
    assert_said(check(STR(text), MASTER_OK), "unreasonable macro call nesting");
    vstring_free(text);
}

static int setup(void **state)
{
    VSTRING *path = vstring_alloc(100);

    msg_init("test_conf_check", MSG_TO_STDERR);
    said = vstring_alloc(1000);
    if (mkdtemp(tmp_dir) == 0)
	return (-1);
    vstring_sprintf(path, "%s/libexec", tmp_dir);
    if (mkdir(STR(path), 0755) < 0)
	return (-1);
    write_file("libexec/master", "", 0755);
    write_file("libexec/smtpd", "", 0755);
    write_file("libexec/proxymap", "", 0755);
    write_file("master.cf", MASTER_OK, 0644);
    vstring_free(path);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     status;

    vstring_sprintf(cmd, "rm -rf '%s'", tmp_dir);
    status = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(said);
    return (status);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_clean),
	cmocka_unit_test(test_proxymap_service),
	cmocka_unit_test(test_bad_values),
	cmocka_unit_test(test_bounds),
	cmocka_unit_test(test_macro_syntax),
	cmocka_unit_test(test_good_syntax),
	cmocka_unit_test(test_loops),
	cmocka_unit_test(test_undefined_and_unused),
	cmocka_unit_test(test_service_params),
	cmocka_unit_test(test_master_syntax),
	cmocka_unit_test(test_master_programs),
	cmocka_unit_test(test_master_options),
	cmocka_unit_test(test_master_missing),
	cmocka_unit_test(test_postlog),
	cmocka_unit_test(test_param_and_expand),
	cmocka_unit_test(test_long_value),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
