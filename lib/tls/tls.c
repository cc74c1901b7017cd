/*
 * tls.c - OpenSSL 3 contexts and non-blocking TLS sessions (see tls.h).
 *
 * Contexts: certificate and key from PEM files, the protocol range from a
 * Postfix-style list (SSL_CTX_set_min/max_proto_version, plus SSL_OP_NO_*
 * for holes), ciphers from a Postfix grade.  No session cache and no
 * tickets (every process has its own keys, so resumption would rarely
 * work), no renegotiation, and SSL_MODE_RELEASE_BUFFERS so that an idle
 * session keeps no record buffers.
 *
 * Client contexts (the smtp client) load CAfile/CApath but never fail a
 * handshake for an untrusted chain: tls_peer_status() reports it afterwards.
 *
 * Sessions: every call clears OpenSSL's (per-thread) error queue first and
 * saves the first error of a failure in the session, so that another
 * session's call cannot change what tls_error_text() reports.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "tls.h"

struct TLS_CTX {
    SSL_CTX *ssl_ctx;
};

struct TLS_SESS {
    SSL    *ssl;
    unsigned long err;			/* first OpenSSL error of a failure */
    int     sys_errno;			/* errno of a failed system call */
    int     eof;			/* the peer closed the connection */
};

/* Protocol names in version order; TLS_PROTO_* bit i is names[i] */
static const struct {
    const char *name;
    int     version;			/* OpenSSL version constant, 0: none */
} tls_protocols[] = {
    {"SSLv2", 0},
    {"SSLv3", SSL3_VERSION},
    {"TLSv1", TLS1_VERSION},
    {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION},
    {"TLSv1.3", TLS1_3_VERSION},
};

#define TLS_PROTO_COUNT	((int) (sizeof(tls_protocols) / sizeof(tls_protocols[0])))

/* Postfix's default tls_{high,medium,low,export,null}_cipherlist */
static const struct {
    const char *grade;
    const char *list;
} tls_grades[] = {
    {"high", "aNULL:-aNULL:HIGH:@STRENGTH"},
    {"medium", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"},
    {"low", "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH"},
    {"export", "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH"},
    {"null", "eNULL:!aNULL"},
};

/* tls_protocol_index - index of a protocol name, -1 if unknown */
static int tls_protocol_index(const char *name, size_t len)
{
    for (int i = 0; i < TLS_PROTO_COUNT; i++)
	if (strlen(tls_protocols[i].name) == len
	    && strncasecmp(tls_protocols[i].name, name, len) == 0)
	    return (i);
    return (-1);
}

int	tls_protocol_mask(const char *spec)
{
    static const char sep[] = " \t\r\n,:";
    int     include = 0;
    int     exclude = 0;
    int     lo = 0;
    int     hi = TLS_PROTO_COUNT - 1;
    const char *cp = spec;

    while (*(cp += strspn(cp, sep))) {
	size_t  len = strcspn(cp, sep);
	const char *name = cp;
	int     op = 0;
	int     idx;

	if (*name == '!' || strncmp(name, ">=", 2) == 0 || strncmp(name, "<=", 2) == 0)
	    op = *name;
	name += (op == 0 ? 0 : op == '!' ? 1 : 2);
	if ((idx = tls_protocol_index(name, len - (name - cp))) < 0)
	    return (-1);
	if (op == 0)
	    include |= 1 << idx;
	else if (op == '!')
	    exclude |= 1 << idx;
	else if (op == '>')
	    lo = idx > lo ? idx : lo;
	else
	    hi = idx < hi ? idx : hi;
	cp += len;
    }
    if (include == 0)
	include = TLS_PROTO_ALL;
    for (int i = 0; i < TLS_PROTO_COUNT; i++)
	if (i < lo || i > hi)
	    exclude |= 1 << i;
    return (include & ~exclude);
}

const char *tls_cipher_list(const char *grade)
{
    for (size_t i = 0; i < sizeof(tls_grades) / sizeof(tls_grades[0]); i++)
	if (strcasecmp(grade, tls_grades[i].grade) == 0)
	    return (tls_grades[i].list);
    return (0);
}

static void tls_common_options(SSL_CTX *ssl_ctx);

/* tls_print_errors - log and clear OpenSSL's error queue */
static void tls_print_errors(void)
{
    unsigned long err;
    char    buf[256];

    while ((err = ERR_get_error()) != 0) {
	ERR_error_string_n(err, buf, sizeof(buf));
	msg_warn("TLS library problem: %s", buf);
    }
}

/* tls_set_protocols - apply a protocol list to CTX; -1 (logged) if bad */
static int tls_set_protocols(SSL_CTX *ctx, const char *spec)
{
    static const long no_opts[] = {
	0, SSL_OP_NO_SSLv3, SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1,
	SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3,
    };
    int     mask = tls_protocol_mask(spec);
    int     lo = -1;
    int     hi = -1;

    if (mask < 0) {
	msg_warn("invalid TLS protocol list \"%s\": disabling TLS support", spec);
	return (-1);
    }
    mask &= ~TLS_PROTO_SSLv2;			/* OpenSSL 3 has none */
    for (int i = 0; i < TLS_PROTO_COUNT; i++) {
	if ((mask & (1 << i)) == 0)
	    continue;
	if (lo < 0)
	    lo = i;
	hi = i;
    }
    if (lo < 0) {
	msg_warn("TLS protocol list \"%s\" leaves no protocol: disabling TLS support",
		 spec);
	return (-1);
    }
    if (!SSL_CTX_set_min_proto_version(ctx, tls_protocols[lo].version)
	|| !SSL_CTX_set_max_proto_version(ctx, tls_protocols[hi].version)) {
	tls_print_errors();
	return (-1);
    }
    for (int i = lo + 1; i < hi; i++)
	if ((mask & (1 << i)) == 0)
	    SSL_CTX_set_options(ctx, no_opts[i]);
    return (0);
}

/* tls_set_ciphers - grade plus exclusions; -1 (logged) if bad */
static int tls_set_ciphers(SSL_CTX *ctx, const char *grade, const char *exclude)
{
    const char *list = tls_cipher_list(grade);
    VSTRING *buf;
    const char *cp = exclude ? exclude : "";
    int     ok;

    if (list == 0) {
	msg_warn("invalid TLS cipher grade \"%s\": disabling TLS support", grade);
	return (-1);
    }
    buf = vstring_alloc(100);
    vstring_strcpy(buf, list);
    while (*(cp += strspn(cp, " \t\r\n,:"))) {
	size_t  len = strcspn(cp, " \t\r\n,:");

	vstring_strcat(buf, ":!");
	vstring_memcat(buf, cp, len);
	cp += len;
    }
    if ((ok = SSL_CTX_set_cipher_list(ctx, STR(buf))) == 0) {
	msg_warn("invalid TLS cipher list \"%s\": disabling TLS support", STR(buf));
	tls_print_errors();
    }
    vstring_free(buf);
    return (ok ? 0 : -1);
}

/* tls_load_pair - certificate chain and key from files; -1 (logged) */
static int tls_load_pair(SSL_CTX *ctx, const char *cert, const char *key)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
	msg_warn("cannot get certificate from file \"%s\": disabling TLS support", cert);
	tls_print_errors();
	return (-1);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
	msg_warn("cannot get private key from file \"%s\": disabling TLS support", key);
	tls_print_errors();
	return (-1);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
	msg_warn("private key in \"%s\" does not match the certificate in \"%s\":"
		 " disabling TLS support", key, cert);
	tls_print_errors();
	return (-1);
    }
    return (0);
}

/* tls_load_keys - cert/key files or chain files; -1 (logged) */
static int tls_load_keys(SSL_CTX *ctx, const TLS_SERVER_PARAMS *params)
{
    const char *cp = params->chain_files ? params->chain_files : "";
    int     count = 0;

    /* smtpd_tls_chain_files: each file holds a key and its certificates */
    while (*(cp += strspn(cp, " \t\r\n,"))) {
	size_t  len = strcspn(cp, " \t\r\n,");
	char   *file = mystrndup(cp, len);
	int     ret = tls_load_pair(ctx, file, file);

	myfree(file);
	if (ret < 0)
	    return (-1);
	count++;
	cp += len;
    }
    if (count > 0)
	return (0);
    if (params->cert_file == 0 || *params->cert_file == 0) {
	msg_warn("No server certs available. TLS won't be enabled");
	return (-1);
    }
    return (tls_load_pair(ctx, params->cert_file,
			  params->key_file && *params->key_file ?
			  params->key_file : params->cert_file));
}

TLS_CTX *tls_server_ctx(const TLS_SERVER_PARAMS *params)
{
    SSL_CTX *ssl_ctx;
    TLS_CTX *ctx;

    ERR_clear_error();
    if ((ssl_ctx = SSL_CTX_new(TLS_server_method())) == 0) {
	tls_print_errors();
	return (0);
    }
    tls_common_options(ssl_ctx);
    SSL_CTX_set_num_tickets(ssl_ctx, 0);
    if (tls_set_protocols(ssl_ctx, params->protocols ? params->protocols : "") < 0
	|| tls_set_ciphers(ssl_ctx, params->cipher_grade ? params->cipher_grade : "medium",
			   params->exclude_ciphers) < 0
	|| tls_load_keys(ssl_ctx, params) < 0) {
	SSL_CTX_free(ssl_ctx);
	return (0);
    }
    ctx = mymalloc(sizeof(*ctx));
    ctx->ssl_ctx = ssl_ctx;
    return (ctx);
}

void	tls_ctx_free(TLS_CTX *ctx)
{
    SSL_CTX_free(ctx->ssl_ctx);
    myfree(ctx);
}

TLS_SESS *tls_session_server(TLS_CTX *ctx, int fd)
{
    TLS_SESS *sess;
    SSL    *ssl;

    ERR_clear_error();
    if ((ssl = SSL_new(ctx->ssl_ctx)) == 0 || SSL_set_fd(ssl, fd) != 1) {
	tls_print_errors();
	if (ssl)
	    SSL_free(ssl);
	return (0);
    }
    SSL_set_accept_state(ssl);
    sess = mycalloc(1, sizeof(*sess));
    sess->ssl = ssl;
    return (sess);
}

/* tls_common_options - what every context (server or client) gets */
static void tls_common_options(SSL_CTX *ssl_ctx)
{
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET
			| SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE
		     | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
}

/* tls_client_trust - CAfile/CApath for chain checks; -1 (logged) */
static int tls_client_trust(SSL_CTX *ssl_ctx, const TLS_CLIENT_PARAMS *params)
{
    const char *file = params->CAfile && *params->CAfile ? params->CAfile : 0;
    const char *path = params->CApath && *params->CApath ? params->CApath : 0;

    if ((file || path) && SSL_CTX_load_verify_locations(ssl_ctx, file, path) != 1) {
	msg_warn("cannot load Certification Authority data, CAfile=\"%s\","
		 " CApath=\"%s\": disabling TLS support", file ? file : "",
		 path ? path : "");
	tls_print_errors();
	return (-1);
    }
    return (0);
}

TLS_CTX *tls_client_ctx(const TLS_CLIENT_PARAMS *params)
{
    SSL_CTX *ssl_ctx;
    TLS_CTX *ctx;

    ERR_clear_error();
    if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == 0) {
	tls_print_errors();
	return (0);
    }
    tls_common_options(ssl_ctx);
    /* Chains are checked, but the caller decides (tls_peer_status) */
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, 0);
    if (tls_set_protocols(ssl_ctx, params->protocols ? params->protocols : "") < 0
	|| tls_set_ciphers(ssl_ctx, params->cipher_grade ? params->cipher_grade : "medium",
			   params->exclude_ciphers) < 0
	|| tls_client_trust(ssl_ctx, params) < 0
	|| (params->cert_file && *params->cert_file
	    && tls_load_pair(ssl_ctx, params->cert_file,
			     params->key_file && *params->key_file ?
			     params->key_file : params->cert_file) < 0)) {
	SSL_CTX_free(ssl_ctx);
	return (0);
    }
    ctx = mymalloc(sizeof(*ctx));
    ctx->ssl_ctx = ssl_ctx;
    return (ctx);
}

TLS_SESS *tls_session_client(TLS_CTX *ctx, int fd, const char *sni)
{
    TLS_SESS *sess;
    SSL    *ssl;

    ERR_clear_error();
    if ((ssl = SSL_new(ctx->ssl_ctx)) == 0 || SSL_set_fd(ssl, fd) != 1
	|| (sni && *sni && SSL_set_tlsext_host_name(ssl, sni) != 1)) {
	tls_print_errors();
	if (ssl)
	    SSL_free(ssl);
	return (0);
    }
    SSL_set_connect_state(ssl);
    sess = mycalloc(1, sizeof(*sess));
    sess->ssl = ssl;
    return (sess);
}

int	tls_peer_status(TLS_SESS *sess, const char *name)
{
    X509   *cert = SSL_get0_peer_certificate(sess->ssl);
    int     status;

    if (cert == 0)
	return (TLS_PEER_ANONYMOUS);
    if (SSL_get_verify_result(sess->ssl) != X509_V_OK)
	return (TLS_PEER_UNTRUSTED);
    status = TLS_PEER_TRUSTED;
    if (name && *name && (X509_check_host(cert, name, 0, 0, 0) == 1
			  || X509_check_ip_asc(cert, name, 0) == 1))
	status = TLS_PEER_VERIFIED;
    ERR_clear_error();
    return (status);
}

const char *tls_peer_status_name(int status)
{
    static const char *names[] = {"Anonymous", "Untrusted", "Trusted", "Verified"};

    return (status >= 0 && status <= TLS_PEER_VERIFIED ? names[status] : "Untrusted");
}

const char *tls_verify_text(TLS_SESS *sess)
{
    return (X509_verify_cert_error_string(SSL_get_verify_result(sess->ssl)));
}

/* tls_result - map an SSL_* call's result RET to ours, saving errors */
static int tls_result(TLS_SESS *sess, int ret)
{
    int     saved_errno = errno;

    switch (SSL_get_error(sess->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
	return (TLS_WANT_READ);
    case SSL_ERROR_WANT_WRITE:
	return (TLS_WANT_WRITE);
    case SSL_ERROR_ZERO_RETURN:
	sess->eof = 1;
	return (0);
    case SSL_ERROR_SYSCALL:
	sess->err = ERR_get_error();
	sess->sys_errno = saved_errno;
	sess->eof = (sess->err == 0 && (ret == 0 || saved_errno == 0));
	ERR_clear_error();
	return (sess->eof ? 0 : TLS_ERROR);
    default:
	sess->err = ERR_get_error();
	ERR_clear_error();
	return (TLS_ERROR);
    }
}

int	tls_handshake(TLS_SESS *sess)
{
    int     ret;

    ERR_clear_error();
    if ((ret = SSL_do_handshake(sess->ssl)) == 1)
	return (1);
    /* An end of input during the handshake is a failure */
    return ((ret = tls_result(sess, ret)) == 0 ? TLS_ERROR : ret);
}

ssize_t	tls_read(TLS_SESS *sess, void *buf, size_t len)
{
    size_t  done = 0;

    ERR_clear_error();
    if (SSL_read_ex(sess->ssl, buf, len, &done) == 1)
	return ((ssize_t) done);
    return (tls_result(sess, 0));
}

ssize_t	tls_write(TLS_SESS *sess, const void *buf, size_t len)
{
    size_t  done = 0;
    int     ret;

    ERR_clear_error();
    if (SSL_write_ex(sess->ssl, buf, len, &done) == 1)
	return ((ssize_t) done);
    /* Nothing written and no error: the peer closed the connection */
    return ((ret = tls_result(sess, 0)) == 0 ? TLS_ERROR : ret);
}

size_t	tls_pending(TLS_SESS *sess)
{
    int     n = SSL_pending(sess->ssl);

    /* SSL_has_pending: also record bytes not yet decrypted */
    return (n > 0 ? (size_t) n : SSL_has_pending(sess->ssl) ? 1 : 0);
}

const char *tls_error_text(TLS_SESS *sess, VSTRING *buf)
{
    char    text[256];

    if (sess->err != 0) {
	ERR_error_string_n(sess->err, text, sizeof(text));
	vstring_strcpy(buf, text);
    } else if (sess->eof) {
	vstring_strcpy(buf, "lost connection");
    } else if (sess->sys_errno != 0) {
	vstring_strcpy(buf, strerror(sess->sys_errno));
    } else {
	vstring_strcpy(buf, "unknown error");
    }
    return (STR(buf));
}

const char *tls_summary(TLS_SESS *sess, VSTRING *buf)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(sess->ssl);
    int     alg_bits = 0;
    int     use_bits = cipher ? SSL_CIPHER_get_bits(cipher, &alg_bits) : 0;

    vstring_sprintf(buf, "%s with cipher %s (%d/%d bits)",
		    SSL_get_version(sess->ssl),
		    cipher ? SSL_CIPHER_get_name(cipher) : "(none)",
		    use_bits, alg_bits);
    return (STR(buf));
}

void	tls_params(TLS_SESS *sess, const char **protocol, const char **cipher_name,
		           int *bits)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(sess->ssl);

    *protocol = SSL_get_version(sess->ssl);
    *cipher_name = cipher ? SSL_CIPHER_get_name(cipher) : "";
    *bits = cipher ? SSL_CIPHER_get_bits(cipher, (int *) 0) : 0;
}

/* tls_pkey_name - Postfix's short name for a key type */
static const char *tls_pkey_name(int id)
{
    switch (id) {
    case EVP_PKEY_DH:
	return ("DHE");
    case EVP_PKEY_EC:
	return ("ECDHE");
    default:
	return (OBJ_nid2sn(id));
    }
}

const char *tls_kex_summary(TLS_SESS *sess, VSTRING *buf)
{
    EVP_PKEY *kex = 0;
    EVP_PKEY *own = SSL_get_privatekey(sess->ssl);
    int     nid;

    vstring_reset(buf);
    if (SSL_get_peer_tmp_key(sess->ssl, &kex) == 1) {
	vstring_sprintf_append(buf, " key-exchange %s", tls_pkey_name(EVP_PKEY_get_base_id(kex)));
	if (EVP_PKEY_get_base_id(kex) == EVP_PKEY_DH)
	    vstring_sprintf_append(buf, " (%d bits)", EVP_PKEY_get_bits(kex));
	EVP_PKEY_free(kex);
    }
    if (own != 0) {
	const char *name = EVP_PKEY_get_base_id(own) == EVP_PKEY_EC ? "ECDSA"
	    : OBJ_nid2sn(EVP_PKEY_get_base_id(own));

	if (SSL_get_signature_type_nid(sess->ssl, &nid) == 1 && nid == EVP_PKEY_RSA_PSS)
	    name = "RSA-PSS";
	vstring_sprintf_append(buf, " server-signature %s (%d bits)", name,
			       EVP_PKEY_get_bits(own));
	if (SSL_get_signature_nid(sess->ssl, &nid) == 1 && nid != NID_undef)
	    vstring_sprintf_append(buf, " server-digest %s", OBJ_nid2sn(nid));
    }
    ERR_clear_error();
    return (STR(buf));
}

void	tls_session_free(TLS_SESS *sess)
{
    ERR_clear_error();
    if (SSL_is_init_finished(sess->ssl) && !sess->eof && sess->err == 0)
	(void) SSL_shutdown(sess->ssl);		/* one try: never waits */
    ERR_clear_error();
    SSL_free(sess->ssl);
    myfree(sess);
}
