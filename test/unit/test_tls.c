/*
 * test_tls.c - unit tests for lib/tls/tls.c.
 *
 * Protocol lists and cipher grades are checked as pure functions.  For
 * contexts and sessions the test makes a self-signed certificate with the
 * OpenSSL API in a temporary directory, then runs a server TLS_SESS and a
 * plain OpenSSL client over a non-blocking socketpair, stepping both
 * sides by hand so that every TLS_WANT_READ/TLS_WANT_WRITE path is taken.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "iostuff.h"
#include "msg.h"
#include "vstring.h"
#include "tls.h"

static char tmpdir[] = "/tmp/test_tls.XXXXXX";
static char cert_path[256];
static char key_path[256];
static char junk_path[256];

/* write_self_signed - key and certificate PEM files for CN=test */
static void write_self_signed(void)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509   *crt = X509_new();
    FILE   *fp;

    assert_non_null(key);
    ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
    X509_gmtime_adj(X509_getm_notBefore(crt), 0);
    X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
    X509_set_pubkey(crt, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(crt), "CN", MBSTRING_ASC,
			       (const unsigned char *) "test", -1, -1, 0);
    X509_set_issuer_name(crt, X509_get_subject_name(crt));
    assert_true(X509_sign(crt, key, EVP_sha256()) > 0);
    assert_non_null(fp = fopen(cert_path, "w"));
    PEM_write_X509(fp, crt);
    fclose(fp);
    assert_non_null(fp = fopen(key_path, "w"));
    PEM_write_PrivateKey(fp, key, 0, 0, 0, 0, 0);
    fclose(fp);
    assert_non_null(fp = fopen(junk_path, "w"));
    fputs("not a certificate\n", fp);
    fclose(fp);
    X509_free(crt);
    EVP_PKEY_free(key);
}

static int setup(void **unused)
{
    assert_non_null(mkdtemp(tmpdir));
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmpdir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", tmpdir);
    snprintf(junk_path, sizeof(junk_path), "%s/junk.pem", tmpdir);
    write_self_signed();
    return (0);
}

static int teardown(void **unused)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(junk_path);
    rmdir(tmpdir);
    return (0);
}

static void test_protocol_mask(void **unused)
{
    assert_int_equal(tls_protocol_mask(""), TLS_PROTO_ALL);
    assert_int_equal(tls_protocol_mask(">=TLSv1"), TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1
		     | TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocol_mask(">=TLSv1.2"), TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocol_mask("!SSLv2, !SSLv3"), TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1
		     | TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocol_mask("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1"),
		     TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocol_mask("TLSv1.2 TLSv1.3"), TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocol_mask(">=TLSv1.1 <=TLSv1.2"), TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2);
    assert_int_equal(tls_protocol_mask("tlsv1.3"), TLS_PROTO_TLSv1_3);
    assert_int_equal(tls_protocol_mask(">=TLSv1.3, !TLSv1.3"), 0);
    /* bad input */
    assert_int_equal(tls_protocol_mask("TLSv1.4"), -1);
    assert_int_equal(tls_protocol_mask("!"), -1);
    assert_int_equal(tls_protocol_mask(">="), -1);
    assert_int_equal(tls_protocol_mask("=>TLSv1"), -1);
    assert_int_equal(tls_protocol_mask("!SSLv2,, junk"), -1);
}

static void test_cipher_list(void **unused)
{
    assert_string_equal(tls_cipher_list("medium"), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH");
    assert_string_equal(tls_cipher_list("HIGH"), "aNULL:-aNULL:HIGH:@STRENGTH");
    assert_non_null(tls_cipher_list("low"));
    assert_non_null(tls_cipher_list("export"));
    assert_non_null(tls_cipher_list("null"));
    assert_null(tls_cipher_list("strong"));
    assert_null(tls_cipher_list(""));
}

static TLS_CTX *server_ctx(const char *cert, const char *key, const char *protocols,
			           const char *grade)
{
    TLS_SERVER_PARAMS p = {cert, key, "", protocols, grade, "RC4, aNULL"};

    return (tls_server_ctx(&p));
}

static void test_ctx_errors(void **unused)
{
    TLS_CTX *ctx;

    assert_null(server_ctx("", "", ">=TLSv1", "medium"));	/* no cert */
    assert_null(server_ctx("/nonexistent/cert.pem", "", ">=TLSv1", "medium"));
    assert_null(server_ctx(junk_path, junk_path, ">=TLSv1", "medium"));
    assert_null(server_ctx(cert_path, junk_path, ">=TLSv1", "medium"));
    assert_null(server_ctx(cert_path, key_path, "TLSv9", "medium"));
    assert_null(server_ctx(cert_path, key_path, "!TLSv1.2 !TLSv1.3 !TLSv1 !TLSv1.1 !SSLv3", "medium"));
    assert_null(server_ctx(cert_path, key_path, ">=TLSv1", "strong"));
    assert_non_null(ctx = server_ctx(cert_path, key_path, ">=TLSv1.2", "high"));
    tls_ctx_free(ctx);
}

/* A server session and an OpenSSL client over a socketpair */
typedef struct PAIR {
    TLS_CTX *ctx;
    TLS_SESS *server;
    SSL_CTX *client_ctx;
    SSL    *client;
    int     fd[2];
} PAIR;

static void pair_open(PAIR *p, const char *protocols, int client_max)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
    non_blocking(p->fd[0], NON_BLOCKING);
    non_blocking(p->fd[1], NON_BLOCKING);
    assert_non_null(p->ctx = server_ctx(cert_path, key_path, protocols, "medium"));
    assert_non_null(p->server = tls_session_server(p->ctx, p->fd[0]));
    assert_non_null(p->client_ctx = SSL_CTX_new(TLS_client_method()));
    if (client_max)
	SSL_CTX_set_max_proto_version(p->client_ctx, client_max);
    assert_non_null(p->client = SSL_new(p->client_ctx));
    SSL_set_fd(p->client, p->fd[1]);
    SSL_set_connect_state(p->client);
}

static void pair_close(PAIR *p)
{
    tls_session_free(p->server);
    tls_ctx_free(p->ctx);
    SSL_free(p->client);
    SSL_CTX_free(p->client_ctx);
    close(p->fd[0]);
    close(p->fd[1]);
}

/* pair_handshake - step both sides; the server's final result */
static int pair_handshake(PAIR *p)
{
    int     s = TLS_WANT_READ;
    int     c = -1;
    int     saw_want = 0;

    for (int round = 0; round < 50; round++) {
	if (c != 1)
	    c = SSL_do_handshake(p->client);
	if (c <= 0 && SSL_get_error(p->client, c) != SSL_ERROR_WANT_READ
	    && SSL_get_error(p->client, c) != SSL_ERROR_WANT_WRITE)
	    c = -2;				/* client gave up */
	if (s != 1 && s != TLS_ERROR)
	    s = tls_handshake(p->server);
	saw_want |= (s == TLS_WANT_READ);
	if ((s == 1 && c == 1) || s == TLS_ERROR || (c == -2 && s != TLS_WANT_READ))
	    break;
    }
    if (s == 1)
	assert_true(saw_want);			/* the server had to wait */
    return (s);
}

static void test_session(void **unused)
{
    PAIR    p;
    char    buf[100];
    VSTRING *vp = vstring_alloc(10);
    ssize_t n;
    size_t  done;

    pair_open(&p, ">=TLSv1.2", 0);
    assert_int_equal(pair_handshake(&p), 1);
    assert_string_equal(tls_summary(p.server, vp),
			"TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
    assert_non_null(strstr(tls_kex_summary(p.server, vp), " server-signature RSA-PSS (2048 bits)"));
    /* nothing to read yet */
    assert_int_equal(tls_read(p.server, buf, sizeof(buf)), TLS_WANT_READ);
    /* client -> server, in two records; pending data is visible */
    assert_int_equal(SSL_write_ex(p.client, "EHLO a\r\n", 8, &done), 1);
    assert_int_equal(SSL_write_ex(p.client, "QUIT\r\n", 6, &done), 1);
    n = tls_read(p.server, buf, 4);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "EHLO", 4);
    assert_true(tls_pending(p.server) > 0);
    assert_int_equal(tls_read(p.server, buf, sizeof(buf)), 4);
    assert_int_equal(tls_read(p.server, buf, sizeof(buf)), 6);
    /* server -> client */
    assert_int_equal(tls_write(p.server, "250 ok\r\n", 8), 8);
    assert_int_equal(SSL_read_ex(p.client, buf, sizeof(buf), &done), 1);
    assert_int_equal(done, 8);
    /* the client closes: end of input */
    SSL_shutdown(p.client);
    assert_int_equal(tls_read(p.server, buf, sizeof(buf)), 0);
    pair_close(&p);
    vstring_free(vp);
}

static void test_write_backpressure(void **unused)
{
    PAIR    p;
    static char big[16384];
    char    buf[16384];
    ssize_t n;
    long    total = 0;
    size_t  done;

    pair_open(&p, "", 0);
    assert_int_equal(pair_handshake(&p), 1);
    memset(big, 'x', sizeof(big));
    /* fill the socket until TLS must wait, then drain and retry */
    while ((n = tls_write(p.server, big, sizeof(big))) > 0)
	total += n;
    assert_int_equal(n, TLS_WANT_WRITE);
    while (SSL_read_ex(p.client, buf, sizeof(buf), &done) == 1)
	total -= done;
    assert_true((n = tls_write(p.server, big, sizeof(big))) > 0);
    pair_close(&p);
}

static void test_handshake_failures(void **unused)
{
    PAIR    p;
    VSTRING *vp = vstring_alloc(10);

    /* the server wants TLSv1.3, the client offers at most TLSv1.2 */
    pair_open(&p, ">=TLSv1.3", TLS1_2_VERSION);
    assert_int_equal(pair_handshake(&p), TLS_ERROR);
    assert_non_null(strstr(tls_error_text(p.server, vp), "protocol"));
    pair_close(&p);

    /* plaintext instead of a ClientHello */
    pair_open(&p, "", 0);
    assert_int_equal(write(p.fd[1], "RSET\r\nRSET\r\nRSET\r\n", 18), 18);
    assert_int_equal(tls_handshake(p.server), TLS_ERROR);
    assert_non_null(strstr(tls_error_text(p.server, vp), "wrong version number"));
    pair_close(&p);

    /* the client goes away */
    pair_open(&p, "", 0);
    assert_int_equal(tls_handshake(p.server), TLS_WANT_READ);
    shutdown(p.fd[1], SHUT_WR);
    assert_int_equal(tls_handshake(p.server), TLS_ERROR);
    assert_string_equal(tls_error_text(p.server, vp), "lost connection");
    pair_close(&p);
    vstring_free(vp);
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_protocol_mask),
	cmocka_unit_test(test_cipher_list),
	cmocka_unit_test(test_ctx_errors),
	cmocka_unit_test(test_session),
	cmocka_unit_test(test_write_backpressure),
	cmocka_unit_test(test_handshake_failures),
    };

    msg_init("test_tls", 0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
