/*
 * test_xsasl_passdb.c - unit tests for lib/sasl/xsasl_passdb.c: SASL
 * passwords from smtpd_sasl_password_maps.
 *
 * The table is a texthash file of Dovecot-style stored passwords,
 * followed by a pgsql: table for the domain down.example whose server
 * does not answer, so such a name makes the lookup fail (a database
 * that is down).  Checked through xsasl's server interface as smtpd and the
 * login services use it: PLAIN and LOGIN exchanges (with and without an
 * initial response), names folded to lowercase and given the realm,
 * wrong passwords and unknown names ("authentication failure"), a failed
 * lookup and an unusable stored password (temporary failures), and bad
 * input: PLAIN without its NULs or with one too many, another authzid,
 * a NUL in a LOGIN name, control characters in names, over-long names,
 * unknown mechanisms; "noplaintext" leaves no mechanism; APOP fails.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include "msg.h"
#include "vstring.h"
#include "base64_code.h"
#include "xsasl.h"
#include "xsasl_passdb.h"

static char tmpdir[] = "/tmp/test_xsasl_passdb.XXXXXX";

static const char passwd_text[] =
"ann@example.com {SHA512-CRYPT}$6$bf9JdlX1UFkfBunu$.sI7Fb0f9C1BTdD9IpGX8gd4BtESDnQRgkfA7ICSPL.VXr7gSDVWILIJr09SpwBsxl0cwPGYIOGvfOJqOkkVi/\n"
"bob@example.com {PLAIN}bobpass\n"
"carl@example.com {ROT13}whatever\n"
"dan@example.com $1$LfdHiJW5$9ToQTkHr25PDLw5BdOWvo1\n";

static int setup(void **unused)
{
    VSTRING *buf = vstring_alloc(200);
    FILE   *fp;

    assert_non_null(mkdtemp(tmpdir));
    vstring_sprintf(buf, "%s/passwd", tmpdir);
    assert_non_null(fp = fopen(STR(buf), "w"));
    fputs(passwd_text, fp);
    fclose(fp);
    vstring_sprintf(buf, "%s/down.cf", tmpdir);
    assert_non_null(fp = fopen(STR(buf), "w"));
    fputs("hosts = inet:127.0.0.1:1\nuser = u\npassword = p\ndbname = d\n"
	  "connect_timeout = 1\ndomain = down.example\n"
	  "query = SELECT password FROM mailbox WHERE username = '%s'\n", fp);
    fclose(fp);
    vstring_sprintf(buf, "texthash:%s/passwd, pgsql:%s/down.cf", tmpdir, tmpdir);
    assert_int_equal(xsasl_passdb_init(STR(buf), "CRYPT"), 0);
    assert_true(xsasl_passdb_active());
    vstring_free(buf);
    return (0);
}

static int teardown(void **unused)
{
    VSTRING *buf = vstring_alloc(200);

    vstring_sprintf(buf, "rm -rf %s", tmpdir);
    assert_int_equal(system(STR(buf)), 0);
    vstring_free(buf);
    return (0);
}

/* b64 - base64 of LEN bytes */
static const char *b64(VSTRING *out, const char *data, size_t len)
{
    return (STR(base64_encode(out, data, len)));
}

/* plain - base64 of "AUTHZID\0USER\0PASS" */
static const char *plain(VSTRING *out, const char *authzid, const char *user,
			         const char *pass)
{
    VSTRING *raw = vstring_alloc(100);

    vstring_strcpy(raw, authzid);
    vstring_addch(raw, 0);
    vstring_strcat(raw, user);
    vstring_addch(raw, 0);
    vstring_strcat(raw, pass);
    b64(out, STR(raw), LEN(raw));
    vstring_free(raw);
    return (STR(out));
}

static XSASL_SERVER *server(const char *realm)
{
    XSASL_SERVER *s = xsasl_server_create("smtp", "mx.example.com", realm,
					  "noanonymous");

    assert_non_null(s);
    return (s);
}

/* plain_auth - one PLAIN exchange with an initial response */
static int plain_auth(const char *realm, const char *authzid, const char *user,
		              const char *pass, VSTRING *reply, VSTRING *name)
{
    XSASL_SERVER *s = server(realm);
    VSTRING *init = vstring_alloc(100);
    const char *got;
    int     status;

    status = xsasl_server_first(s, "PLAIN", plain(init, authzid, user, pass), reply);
    got = xsasl_server_username(s);
    vstring_strcpy(name, got ? got : "");
    xsasl_server_free(s);
    vstring_free(init);
    return (status);
}

static void test_mechs(void **unused)
{
    XSASL_SERVER *s = server("");

    assert_string_equal(xsasl_server_mechs(s), "PLAIN LOGIN");
    xsasl_server_free(s);
    s = xsasl_server_create("smtp", "mx.example.com", "", "noanonymous, noplaintext");
    assert_non_null(s);
    assert_null(xsasl_server_mechs(s));
    xsasl_server_free(s);
    assert_null(xsasl_server_create("smtp", "mx", "", "nosuchoption"));
}

static void test_plain(void **unused)
{
    VSTRING *reply = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);

    assert_int_equal(plain_auth("", "", "ann@example.com", "Tr0ub4dor&3", reply, name),
		     XSASL_AUTH_DONE);
    assert_string_equal(STR(name), "ann@example.com");
    /* case folded; the authzid may repeat the name */
    assert_int_equal(plain_auth("", "ANN@Example.COM", "ANN@Example.COM", "Tr0ub4dor&3",
				reply, name), XSASL_AUTH_DONE);
    assert_string_equal(STR(name), "ann@example.com");
    /* the realm completes a bare name */
    assert_int_equal(plain_auth("example.com", "", "bob", "bobpass", reply, name),
		     XSASL_AUTH_DONE);
    assert_string_equal(STR(name), "bob@example.com");
    /* no braces: the default scheme (CRYPT) */
    assert_int_equal(plain_auth("", "", "dan@example.com", "Tr0ub4dor&3", reply, name),
		     XSASL_AUTH_DONE);
    /* wrong password, unknown name: the same answer */
    assert_int_equal(plain_auth("", "", "ann@example.com", "Tr0ub4dor&4", reply, name),
		     XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authentication failure");
    assert_string_equal(STR(name), "ann@example.com");
    assert_int_equal(plain_auth("", "", "bob", "bobpass", reply, name), XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authentication failure");
    /* another authzid */
    assert_int_equal(plain_auth("", "bob@example.com", "ann@example.com", "Tr0ub4dor&3",
				reply, name), XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "authorization failure");
    vstring_free(reply);
    vstring_free(name);
}

static void test_temporary(void **unused)
{
    VSTRING *reply = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);

    /* the pgsql: table is asked, and fails */
    assert_int_equal(plain_auth("", "", "eve@down.example", "x", reply, name),
		     XSASL_AUTH_TEMP);
    assert_string_equal(STR(reply), "password table lookup failed");
    /* a scheme nobody knows: logged, temporary */
    assert_int_equal(plain_auth("", "", "carl@example.com", "whatever", reply, name),
		     XSASL_AUTH_TEMP);
    assert_string_equal(STR(reply), "stored password is unusable");
    vstring_free(reply);
    vstring_free(name);
}

static void test_login(void **unused)
{
    XSASL_SERVER *s = server("");
    VSTRING *reply = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);

    assert_int_equal(xsasl_server_first(s, "login", 0, reply), XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "VXNlcm5hbWU6");	/* Username: */
    assert_int_equal(xsasl_server_next(s, b64(buf, "bob@example.com", 15), reply),
		     XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "UGFzc3dvcmQ6");	/* Password: */
    assert_int_equal(xsasl_server_next(s, b64(buf, "bobpass", 7), reply), XSASL_AUTH_DONE);
    assert_string_equal(xsasl_server_username(s), "bob@example.com");
    /* again, the name as initial response, a wrong password */
    assert_int_equal(xsasl_server_first(s, "LOGIN", b64(buf, "bob@example.com", 15), reply),
		     XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "UGFzc3dvcmQ6");
    assert_int_equal(xsasl_server_next(s, b64(buf, "nope", 4), reply), XSASL_AUTH_FAIL);
    /* a NUL inside the name */
    assert_int_equal(xsasl_server_first(s, "LOGIN", 0, reply), XSASL_AUTH_MORE);
    assert_int_equal(xsasl_server_next(s, b64(buf, "bob\0x", 5), reply), XSASL_AUTH_FAIL);
    /* a response after the end of an exchange */
    assert_int_equal(xsasl_server_next(s, b64(buf, "bobpass", 7), reply), XSASL_AUTH_FAIL);
    xsasl_server_free(s);
    vstring_free(reply);
    vstring_free(buf);
}

static void test_bad_input(void **unused)
{
    XSASL_SERVER *s = server("");
    VSTRING *reply = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    char    long_name[400];

    /* PLAIN without an initial response: an empty challenge, then the data */
    assert_int_equal(xsasl_server_first(s, "PLAIN", 0, reply), XSASL_AUTH_MORE);
    assert_string_equal(STR(reply), "");
    assert_int_equal(xsasl_server_next(s, plain(buf, "", "bob@example.com", "bobpass"),
				       reply), XSASL_AUTH_DONE);
    /* one NUL, three NULs, none, "=" (empty) */
    assert_int_equal(xsasl_server_first(s, "PLAIN", b64(buf, "\0bob@example.com", 16), reply),
		     XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "bad protocol / cancel");
    assert_int_equal(xsasl_server_first(s, "PLAIN", b64(buf, "\0bob\0bobpass\0", 13), reply),
		     XSASL_AUTH_FAIL);
    assert_int_equal(xsasl_server_first(s, "PLAIN", b64(buf, "bobbobpass", 10), reply),
		     XSASL_AUTH_FAIL);
    assert_int_equal(xsasl_server_first(s, "PLAIN", "=", reply), XSASL_AUTH_FAIL);
    /* junk that is not base64 */
    assert_int_equal(xsasl_server_first(s, "PLAIN", "%%%", reply), XSASL_AUTH_FORM);
    assert_int_equal(xsasl_server_first(s, "LOGIN", 0, reply), XSASL_AUTH_MORE);
    assert_int_equal(xsasl_server_next(s, "not*base64", reply), XSASL_AUTH_FORM);
    /* control characters, spaces, over-long names: never looked up */
    assert_int_equal(xsasl_server_first(s, "PLAIN", plain(buf, "", "bob@example.com\r\n", "bobpass"),
					reply), XSASL_AUTH_FAIL);
    assert_int_equal(xsasl_server_first(s, "PLAIN", plain(buf, "", "bob @example.com", "bobpass"),
					reply), XSASL_AUTH_FAIL);
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    assert_int_equal(xsasl_server_first(s, "PLAIN", plain(buf, "", long_name, "x"), reply),
		     XSASL_AUTH_FAIL);
    /* mechanisms the table cannot serve */
    assert_int_equal(xsasl_server_first(s, "CRAM-MD5", 0, reply), XSASL_AUTH_FAIL);
    assert_string_equal(STR(reply), "no mechanism available");
    assert_int_equal(xsasl_server_checkapop(s, "<1.2@x>", "bob@example.com",
					    "0123456789abcdef0123456789abcdef", reply),
		     XSASL_AUTH_FAIL);
    xsasl_server_free(s);
    vstring_free(reply);
    vstring_free(buf);
}

static void test_checkpass(void **unused)
{
    XSASL_SERVER *s = server("example.com");
    VSTRING *reply = vstring_alloc(100);

    assert_int_equal(xsasl_server_checkpass(s, "Bob", "bobpass", reply), XSASL_AUTH_DONE);
    assert_string_equal(xsasl_server_username(s), "bob@example.com");
    assert_int_equal(xsasl_server_checkpass(s, "ann@example.com", "bobpass", reply),
		     XSASL_AUTH_FAIL);
    assert_int_equal(xsasl_server_checkpass(s, "eve", "x", reply), XSASL_AUTH_FAIL);
    assert_int_equal(xsasl_server_checkpass(s, "eve@down.example", "x", reply),
		     XSASL_AUTH_TEMP);
    xsasl_server_free(s);
    vstring_free(reply);
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_mechs),
	cmocka_unit_test(test_plain),
	cmocka_unit_test(test_temporary),
	cmocka_unit_test(test_login),
	cmocka_unit_test(test_bad_input),
	cmocka_unit_test(test_checkpass),
    };

    msg_init("test_xsasl_passdb", 0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
