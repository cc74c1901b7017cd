/*
 * test_xsasl.c - unit tests for lib/sasl/xsasl.c (the Cyrus SASL server wrapper).
 *
 * Writes a Cyrus application file (test.conf: auxprop + sasldb, mech_list
 * plain login) and a sasldb made with saslpasswd2 into a temporary
 * directory, then runs whole exchanges through the wrapper: PLAIN and
 * LOGIN, wrong passwords, unknown users (reported as "authentication
 * failure"), unknown mechanisms, malformed base64, "=" as an empty
 * initial response, the security option parser and sasl_checkpass.
 * The sasldb tests are skipped when saslpasswd2 is not installed.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "xsasl.h"
#include <sasl/sasl.h>

static char tmpdir[] = "/tmp/test_xsasl.XXXXXX";
static int have_db;

static void b64(VSTRING *out, const char *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *) data;

    vstring_reset(out);
    for (size_t i = 0; i < len; i += 3) {
	unsigned v = p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);

	vstring_addch(out, tab[v >> 18 & 63]);
	vstring_addch(out, tab[v >> 12 & 63]);
	vstring_addch(out, i + 1 < len ? tab[v >> 6 & 63] : '=');
	vstring_addch(out, i + 2 < len ? tab[v & 63] : '=');
    }
}

/* plain - base64 of "\0user\0pass" */
static const char *plain(VSTRING *out, const char *user, const char *pass)
{
    VSTRING *raw = vstring_alloc(100);

    vstring_addch(raw, 0);
    vstring_strcat(raw, user);
    vstring_addch(raw, 0);
    vstring_strcat(raw, pass);
    b64(out, STR(raw), LEN(raw));
    vstring_free(raw);
    return (STR(out));
}

static int setup(void **unused)
{
    VSTRING *buf = vstring_alloc(200);
    FILE   *fp;

    assert_non_null(mkdtemp(tmpdir));
    vstring_sprintf(buf, "%s/test.conf", tmpdir);
    fp = fopen(STR(buf), "w");
    assert_non_null(fp);
    fprintf(fp, "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
	    "sasldb_path: %s/sasldb2\nmech_list: plain login\n", tmpdir);
    assert_int_equal(fclose(fp), 0);
    vstring_sprintf(buf, "saslpasswd2 -p -f %s/sasldb2 -c -u example.test demo 2>/dev/null",
		    tmpdir);
    if ((fp = popen(STR(buf), "w")) != 0) {
	fputs("secret", fp);
	have_db = pclose(fp) == 0;
    }
    vstring_free(buf);
    assert_int_equal(xsasl_server_init("test", tmpdir), 0);
    /* a second call is harmless */
    assert_int_equal(xsasl_server_init("test", tmpdir), 0);
    return (0);
}

static int teardown(void **unused)
{
    VSTRING *buf = vstring_alloc(200);

    vstring_sprintf(buf, "rm -rf %s", tmpdir);
    if (system(STR(buf)) != 0)
	msg_warn("cannot remove %s", tmpdir);
    vstring_free(buf);
    return (0);
}

static XSASL_SERVER *server(void)
{
    XSASL_SERVER *s = xsasl_server_create("smtp", "mail.example.test",
					  "example.test", "noanonymous");

    assert_non_null(s);
    return (s);
}

static void test_security_flags(void **unused)
{
    unsigned flags;
    const char *bad = 0;

    assert_int_equal(xsasl_security_flags("", &flags, &bad), 0);
    assert_int_equal(flags, 0);
    assert_int_equal(xsasl_security_flags(" noanonymous,noplaintext\tNOACTIVE ", &flags, &bad), 0);
    assert_int_equal(flags, SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT | SASL_SEC_NOACTIVE);
    assert_int_equal(xsasl_security_flags("nodictionary, mutual_auth, forward_secrecy",
					  &flags, &bad), 0);
    assert_int_equal(xsasl_security_flags("noanonymous, bogus", &flags, &bad), -1);
    assert_string_equal(bad, "bogus");
    assert_int_equal(xsasl_security_flags("noanonymousx", &flags, &bad), -1);
    assert_null(xsasl_server_create("smtp", "h", 0, "nosuchoption"));
}

static void test_mechs(void **unused)
{
    XSASL_SERVER *s = server();
    const char *mechs = xsasl_server_mechs(s);

    assert_non_null(mechs);
    assert_non_null(strstr(mechs, "PLAIN"));
    assert_non_null(strstr(mechs, "LOGIN"));
    assert_null(strstr(mechs, "ANONYMOUS"));
    xsasl_server_free(s);
    xsasl_server_free(0);
}

static void test_plain(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    VSTRING *resp = vstring_alloc(10);
    XSASL_SERVER *s;

    if (!have_db)
	skip();
    s = server();
    assert_int_equal(xsasl_server_first(s, "PLAIN", plain(resp, "demo", "secret"), reply),
		     XSASL_AUTH_DONE);
    assert_string_equal(xsasl_server_username(s), "demo@example.test");
    xsasl_server_free(s);

    s = server();
    assert_int_equal(xsasl_server_first(s, "PLAIN", plain(resp, "demo", "wrong"), reply),
		     XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authentication failure");
    xsasl_server_free(s);

    s = server();				/* unknown user: same text */
    assert_int_equal(xsasl_server_first(s, "PLAIN", plain(resp, "nobody", "x"), reply),
		     XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authentication failure");
    xsasl_server_free(s);

    s = server();				/* empty challenge, then the response */
    assert_int_equal(xsasl_server_first(s, "PLAIN", 0, reply), XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "");
    assert_int_equal(xsasl_server_next(s, plain(resp, "demo@example.test", "secret"), reply),
		     XSASL_AUTH_DONE);
    xsasl_server_free(s);
    vstring_free(reply);
    vstring_free(resp);
}

static void test_login(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    VSTRING *resp = vstring_alloc(10);
    XSASL_SERVER *s;

    if (!have_db)
	skip();
    s = server();
    assert_int_equal(xsasl_server_first(s, "LOGIN", 0, reply), XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "VXNlcm5hbWU6");	/* Username: */
    b64(resp, "demo", 4);
    assert_int_equal(xsasl_server_next(s, STR(resp), reply), XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "UGFzc3dvcmQ6");	/* Password: */
    b64(resp, "secret", 6);
    assert_int_equal(xsasl_server_next(s, STR(resp), reply), XSASL_AUTH_DONE);
    xsasl_server_free(s);
    vstring_free(reply);
    vstring_free(resp);
}

static void test_bad_input(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    XSASL_SERVER *s = server();

    assert_int_equal(xsasl_server_first(s, "PLAIN", "!!!!", reply), XSASL_AUTH_FORM);
    assert_string_equal(STR(reply), "Invalid base64 data in initial response");
    assert_int_equal(xsasl_server_first(s, "PLAIN", "", reply), XSASL_AUTH_FORM);
    xsasl_server_free(s);

    s = server();
    assert_int_equal(xsasl_server_first(s, "LOGIN", 0, reply), XSASL_AUTH_MORE);
    assert_int_equal(xsasl_server_next(s, "a*b=", reply), XSASL_AUTH_FORM);
    assert_string_equal(STR(reply), "Invalid base64 data in continued response");
    xsasl_server_free(s);

    s = server();				/* "=": an empty initial response */
    assert_int_equal(xsasl_server_first(s, "PLAIN", "=", reply), XSASL_AUTH_FAIL);
    xsasl_server_free(s);

    s = server();
    assert_int_equal(xsasl_server_first(s, "NO-SUCH-MECH", 0, reply), XSASL_AUTH_FAIL);
    assert_true(LEN(reply) > 0);
    xsasl_server_free(s);

    s = server();				/* refused by noanonymous */
    assert_int_not_equal(xsasl_server_first(s, "ANONYMOUS", "eA==", reply), XSASL_AUTH_DONE);
    xsasl_server_free(s);
    vstring_free(reply);
}

static void test_checkpass(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    XSASL_SERVER *s;

    if (!have_db)
	skip();
    s = server();
    assert_int_equal(xsasl_server_checkpass(s, "demo", "secret", reply), XSASL_AUTH_DONE);
    assert_int_equal(xsasl_server_checkpass(s, "demo", "wrong", reply), XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authentication failure");
    assert_int_equal(xsasl_server_checkpass(s, "nobody", "x", reply), XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authentication failure");
    xsasl_server_free(s);
    vstring_free(reply);
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_security_flags),
	cmocka_unit_test(test_mechs),
	cmocka_unit_test(test_plain),
	cmocka_unit_test(test_login),
	cmocka_unit_test(test_bad_input),
	cmocka_unit_test(test_checkpass),
    };

    msg_init("test_xsasl", 0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
