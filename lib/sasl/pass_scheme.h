/*
 * pass_scheme.h - check a password against a stored one in the schemes
 * that mail panels write and Dovecot reads ("{SCHEME}data").
 *
 *   switch (pass_scheme_verify(stored, password, "CRYPT", why)) {
 *   case PASS_SCHEME_MATCH: ...
 *   case PASS_SCHEME_MISMATCH: ...
 *   case PASS_SCHEME_ERROR: ...    WHY: unknown scheme, malformed data
 *   }
 *
 * STORED is "{SCHEME}data", or data in DEFAULT_SCHEME when it has no
 * braces.  The schemes, with Dovecot's names and encodings:
 *   CRYPT, MD5-CRYPT ($1$), SHA256-CRYPT ($5$), SHA512-CRYPT ($6$),
 *     BLF-CRYPT ($2y$, $2b$, $2a$), DES-CRYPT: crypt(3) (libxcrypt;
 *     CRYPT takes any hash it knows, the others only their own prefix)
 *   ARGON2I, ARGON2ID: "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
 *     (libsodium, as Dovecot)
 *   PLAIN, CLEAR, CLEARTEXT, PLAINTEXT: the password itself
 *   PLAIN-MD5 (hex or base64), LDAP-MD5 (base64), SHA, SHA256, SHA512
 *     (base64 of the digest, or hex), SMD5, SSHA, SSHA256, SSHA512
 *     (base64 of the digest of password+salt, then the salt)
 * Dovecot's encoding suffixes are accepted: {SHA256.HEX}, {SSHA.B64}.
 * Comparisons take the same time whatever the position of a difference.
 */
#ifndef PASS_SCHEME_H
#define PASS_SCHEME_H

#include "sys_defs.h"
#include "vstring.h"

#define PASS_SCHEME_MATCH	1
#define PASS_SCHEME_MISMATCH	0
#define PASS_SCHEME_ERROR	(-1)

int	pass_scheme_verify(const char *stored, const char *password,
			           const char *default_scheme, VSTRING *why);

/* pass_scheme_known - SCHEME (without braces) is one of the above */
int	pass_scheme_known(const char *scheme);

#endif
