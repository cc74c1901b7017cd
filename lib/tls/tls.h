/*
 * tls.h - OpenSSL 3 contexts and non-blocking TLS sessions for event loops.
 *
 * A program makes one TLS_CTX at start-up (as root, so that a key file
 * readable by root only can be loaded) and then one TLS_SESS per
 * connection on an already connected, non-blocking socket.  Session calls
 * never block: they return TLS_WANT_READ or TLS_WANT_WRITE when OpenSSL
 * must wait for the socket, and the caller retries the same call when the
 * socket is ready in that direction.  Bytes that OpenSSL has decrypted but
 * not yet returned (tls_pending) produce no socket event: read them first.
 *
 * Configuration uses Postfix's syntax: protocol lists such as ">=TLSv1.2"
 * or "!SSLv2, !SSLv3", and cipher grades (high, medium, low, export, null)
 * that map to Postfix's tls_*_cipherlist defaults.  Errors while building
 * a context are logged as "warning: TLS library problem: ..." and the
 * context is NULL: the caller then goes on without TLS.
 *
 * Used by smtpd (STARTTLS, smtps), the smtp client (tls_client_ctx,
 * tls_session_client, tls_peer_status); later by pop3d, imapd.
 */
#ifndef TLS_H
#define TLS_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct TLS_CTX TLS_CTX;		/* one per program and role */
typedef struct TLS_SESS TLS_SESS;	/* one per connection */

/* Protocol bits for tls_protocol_mask() */
#define TLS_PROTO_SSLv2		(1<<0)
#define TLS_PROTO_SSLv3		(1<<1)
#define TLS_PROTO_TLSv1		(1<<2)
#define TLS_PROTO_TLSv1_1	(1<<3)
#define TLS_PROTO_TLSv1_2	(1<<4)
#define TLS_PROTO_TLSv1_3	(1<<5)
#define TLS_PROTO_ALL		((1<<6) - 1)

/*
 * tls_protocol_mask - the protocols a Postfix-style list enables: names
 * (only those), "!name" (not that one), ">=name" and "<=name" (bounds),
 * separated by white space, commas or colons.  -1 for an unknown name.
 */
int	tls_protocol_mask(const char *spec);

/* tls_cipher_list - the OpenSSL cipher string for a grade; NULL if unknown */
const char *tls_cipher_list(const char *grade);

typedef struct TLS_SERVER_PARAMS {
    const char *cert_file;		/* PEM: certificate, then its chain */
    const char *key_file;		/* PEM private key ("": in cert_file) */
    const char *chain_files;		/* key + chain per file; wins if set */
    const char *protocols;		/* tls_protocol_mask() syntax */
    const char *cipher_grade;		/* tls_cipher_list() grade */
    const char *exclude_ciphers;	/* list of ciphers to leave out */
} TLS_SERVER_PARAMS;

/* tls_server_ctx - a server context; NULL (and warnings logged) on error */
TLS_CTX *tls_server_ctx(const TLS_SERVER_PARAMS *params);
void	tls_ctx_free(TLS_CTX *ctx);

/* Session results besides byte counts */
#define TLS_ERROR	(-1)		/* failed: see tls_error_text() */
#define TLS_WANT_READ	(-2)		/* retry when the socket is readable */
#define TLS_WANT_WRITE	(-3)		/* retry when the socket is writable */

/* tls_session_server - the server side of a TLS session on FD */
TLS_SESS *tls_session_server(TLS_CTX *ctx, int fd);

/* tls_handshake - 1 when done, TLS_WANT_READ/WRITE, or TLS_ERROR */
int	tls_handshake(TLS_SESS *sess);

/* tls_read - bytes read (> 0), 0 at end of input, TLS_WANT_*, TLS_ERROR */
ssize_t	tls_read(TLS_SESS *sess, void *buf, size_t len);

/*
 * tls_write - bytes written (> 0; may be fewer than LEN), TLS_WANT_*,
 * TLS_ERROR.  After TLS_WANT_*, retry with at least the same bytes.
 */
ssize_t	tls_write(TLS_SESS *sess, const void *buf, size_t len);

/* tls_pending - nonzero when OpenSSL holds input (no socket event will come) */
size_t	tls_pending(TLS_SESS *sess);

/* tls_error_text - why the last call failed ("lost connection", OpenSSL text) */
const char *tls_error_text(TLS_SESS *sess, VSTRING *buf);

/* tls_params - "TLSv1.3", "TLS_AES_256_GCM_SHA384" and 256, as Postfix's
 * policy requests give them (encryption_protocol etc.) */
void	tls_params(TLS_SESS *sess, const char **protocol, const char **cipher,
		           int *bits);
/* tls_summary - "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" */
const char *tls_summary(TLS_SESS *sess, VSTRING *buf);

/*
 * tls_kex_summary - Postfix's key exchange details after the summary in
 * log lines: " key-exchange X25519 server-signature RSA-PSS (2048 bits)
 * server-digest SHA256"; "" when OpenSSL does not tell.
 */
const char *tls_kex_summary(TLS_SESS *sess, VSTRING *buf);

/* Client side (the smtp client) */

typedef struct TLS_CLIENT_PARAMS {
    const char *CAfile;			/* PEM trust anchors ("": none) */
    const char *CApath;			/* hashed CA directory ("": none) */
    const char *cert_file;		/* our certificate ("": none) */
    const char *key_file;		/* its key ("": in cert_file) */
    const char *protocols;		/* tls_protocol_mask() syntax */
    const char *cipher_grade;		/* tls_cipher_list() grade */
    const char *exclude_ciphers;	/* list of ciphers to leave out */
} TLS_CLIENT_PARAMS;

/*
 * tls_client_ctx - a client context; NULL (and warnings logged) on error.
 * The handshake never fails for an untrusted certificate: the caller
 * asks tls_peer_status() afterwards and decides (Postfix's levels).
 */
TLS_CTX *tls_client_ctx(const TLS_CLIENT_PARAMS *params);

/* tls_session_client - the client side on FD; SNI: server name to send or NULL */
TLS_SESS *tls_session_client(TLS_CTX *ctx, int fd, const char *sni);

/* Peer certificate status after the handshake, weakest first */
#define TLS_PEER_ANONYMOUS	0	/* no certificate */
#define TLS_PEER_UNTRUSTED	1	/* certificate chain not verified */
#define TLS_PEER_TRUSTED	2	/* chain verified, name not matched */
#define TLS_PEER_VERIFIED	3	/* chain verified and NAME matched */

/*
 * tls_peer_status - how far the peer's certificate checks out; NAME (a
 * host name or IP address, NULL: none) is matched against its
 * subjectAltName/CN.  tls_peer_status_name() gives Postfix's log word
 * ("Anonymous", "Untrusted", "Trusted", "Verified").
 */
int	tls_peer_status(TLS_SESS *sess, const char *name);
const char *tls_peer_status_name(int status);

/* tls_verify_text - why the chain did not verify ("self-signed certificate") */
const char *tls_verify_text(TLS_SESS *sess);

/* tls_session_free - send close_notify if possible (never waits), free */
void	tls_session_free(TLS_SESS *sess);

#endif
