/*
 * pass_scheme.c - password schemes as Dovecot names them (see
 * pass_scheme.h): crypt(3) hashes through libxcrypt's crypt_rn(),
 * Argon2 through libsodium (as Dovecot does; its Argon2 is about 1.7
 * times as fast as the reference libargon2), salted and plain digests
 * through OpenSSL.
 * Thread-safe: smtpd checks passwords in worker threads.
 */
#include "sys_defs.h"
#include <crypt.h>
#include <ctype.h>
#include <strings.h>
#include <sodium.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "msg.h"
#include "mymalloc.h"
#include "base64_code.h"
#include "pass_scheme.h"

typedef int (*PASS_VERIFY_FN) (const char *data, const char *password,
			               const void *arg, VSTRING *why);

typedef struct PASS_SCHEME {
    const char *name;
    PASS_VERIFY_FN verify;
    const void *arg;
} PASS_SCHEME;

/* same_bytes - constant-time equality of two byte strings */

static int same_bytes(const void *a, size_t a_len, const void *b, size_t b_len)
{
    return (a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0);
}

/* verify_crypt - crypt(3); ARG: the prefixes the scheme allows, or NULL */

static int verify_crypt(const char *data, const char *password,
			        const void *arg, VSTRING *why)
{
    const char *const *prefix = arg;
    struct crypt_data *work;
    const char *hash;
    int     ret;

    if (prefix) {
	while (*prefix && strncmp(data, *prefix, strlen(*prefix)) != 0)
	    prefix++;
	if (*prefix == 0) {
	    vstring_strcpy(why, "stored hash does not match its scheme");
	    return (PASS_SCHEME_ERROR);
	}
    }
    work = mycalloc(1, sizeof(*work));
    hash = crypt_rn(password, data, work, (int) sizeof(*work));
    if (hash == 0 || *hash == '*') {
	vstring_strcpy(why, "malformed or unsupported crypt hash");
	ret = PASS_SCHEME_ERROR;
    } else {
	ret = same_bytes(hash, strlen(hash), data, strlen(data));
    }
    memset(work, 0, sizeof(*work));
    myfree(work);
    return (ret);
}

/* The Argon2 variants, with libsodium's functions for each */
typedef struct PASS_ARGON2 {
    int     (*needs_rehash) (const char *, unsigned long long, size_t);
    int     (*verify) (const char *, const char *, unsigned long long);
} PASS_ARGON2;

/* verify_argon2 - an encoded Argon2 hash; ARG: the PASS_ARGON2 */

static int verify_argon2(const char *data, const char *password,
			         const void *arg, VSTRING *why)
{
    const PASS_ARGON2 *argon2 = arg;

    if (sodium_init() < 0) {
	vstring_strcpy(why, "libsodium initialization failed");
	return (PASS_SCHEME_ERROR);
    }
    /* a string libsodium cannot parse: an error, not a wrong password */
    if (strlen(data) >= crypto_pwhash_STRBYTES
	|| argon2->needs_rehash(data, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				crypto_pwhash_MEMLIMIT_INTERACTIVE) < 0) {
	vstring_strcpy(why, "malformed Argon2 hash");
	return (PASS_SCHEME_ERROR);
    }
    return (argon2->verify(data, password, strlen(password)) == 0 ?
	    PASS_SCHEME_MATCH : PASS_SCHEME_MISMATCH);
}

/* verify_plain - the password itself */

static int verify_plain(const char *data, const char *password,
			        const void *arg, VSTRING *why)
{
    return (same_bytes(data, strlen(data), password, strlen(password)));
}

/* hex_value - the value of hex digit CH */

static unsigned hex_value(int ch)
{
    return (isdigit(ch) ? (unsigned) (ch - '0') : (unsigned) (tolower(ch) - 'a' + 10));
}

/* hex_decode - TEXT of hex digits into OUT; -1 if it is not */

static int hex_decode(VSTRING *out, const char *text)
{
    const unsigned char *cp = (const unsigned char *) text;
    size_t  len = strlen(text);

    if (len == 0 || len % 2)
	return (-1);
    vstring_reset(out);
    for (size_t i = 0; i < len; i += 2) {
	if (!isxdigit(cp[i]) || !isxdigit(cp[i + 1]))
	    return (-1);
	vstring_addch(out, (int) (hex_value(cp[i]) << 4 | hex_value(cp[i + 1])));
    }
    return (0);
}

/* The digest schemes: which digest, salted or not */
typedef struct PASS_DIGEST {
    const char *md_name;		/* OpenSSL's name */
    int     salted;
} PASS_DIGEST;

/* verify_digest - base64 (or hex) of digest(password [+ salt]) [+ salt] */

static int verify_digest(const char *data, const char *password,
			         const void *arg, VSTRING *why)
{
    const PASS_DIGEST *dg = arg;
    const EVP_MD *md = EVP_get_digestbyname(dg->md_name);
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned hash_len = 0;
    size_t  md_len;
    VSTRING *raw = vstring_alloc(100);
    VSTRING *input = vstring_alloc(100);
    int     ret = PASS_SCHEME_ERROR;

    if (md == 0) {
	vstring_sprintf(why, "digest %s unavailable", dg->md_name);
	goto out;
    }
    md_len = (size_t) EVP_MD_get_size(md);
    if (!(strlen(data) == 2 * md_len && hex_decode(raw, data) == 0)
	&& base64_decode(raw, data, strlen(data)) < 0) {
	vstring_strcpy(why, "stored digest is neither base64 nor hex");
	goto out;
    }
    if (LEN(raw) < md_len || (!dg->salted && LEN(raw) != md_len)) {
	vstring_strcpy(why, "stored digest has the wrong length");
	goto out;
    }
    vstring_strcpy(input, password);
    vstring_memcat(input, STR(raw) + md_len, LEN(raw) - md_len);	/* salt */
    if (EVP_Digest(STR(input), LEN(input), hash, &hash_len, md, 0) != 1) {
	vstring_sprintf(why, "digest %s failed", dg->md_name);
	goto out;
    }
    ret = same_bytes(hash, hash_len, STR(raw), md_len);
out:
    memset(STR(input), 0, LEN(input));
    vstring_free(input);
    vstring_free(raw);
    return (ret);
}

static const char *const prefix_md5[] = {"$1$", 0};
static const char *const prefix_sha256[] = {"$5$", 0};
static const char *const prefix_sha512[] = {"$6$", 0};
static const char *const prefix_blf[] = {"$2y$", "$2b$", "$2a$", 0};
static const PASS_ARGON2 type_argon2i = {
    crypto_pwhash_argon2i_str_needs_rehash, crypto_pwhash_argon2i_str_verify,
};
static const PASS_ARGON2 type_argon2id = {
    crypto_pwhash_argon2id_str_needs_rehash, crypto_pwhash_argon2id_str_verify,
};
static const PASS_DIGEST dg_md5 = {"MD5", 0};
static const PASS_DIGEST dg_smd5 = {"MD5", 1};
static const PASS_DIGEST dg_sha1 = {"SHA1", 0};
static const PASS_DIGEST dg_ssha1 = {"SHA1", 1};
static const PASS_DIGEST dg_sha256 = {"SHA256", 0};
static const PASS_DIGEST dg_ssha256 = {"SHA256", 1};
static const PASS_DIGEST dg_sha512 = {"SHA512", 0};
static const PASS_DIGEST dg_ssha512 = {"SHA512", 1};

static const PASS_SCHEME pass_schemes[] = {
    {"CRYPT", verify_crypt, 0},
    {"DES-CRYPT", verify_crypt, 0},
    {"MD5-CRYPT", verify_crypt, prefix_md5},
    {"SHA256-CRYPT", verify_crypt, prefix_sha256},
    {"SHA512-CRYPT", verify_crypt, prefix_sha512},
    {"BLF-CRYPT", verify_crypt, prefix_blf},
    {"ARGON2I", verify_argon2, &type_argon2i},
    {"ARGON2ID", verify_argon2, &type_argon2id},
    {"PLAIN", verify_plain, 0},
    {"CLEAR", verify_plain, 0},
    {"CLEARTEXT", verify_plain, 0},
    {"PLAINTEXT", verify_plain, 0},
    {"PLAIN-MD5", verify_digest, &dg_md5},
    {"LDAP-MD5", verify_digest, &dg_md5},
    {"SMD5", verify_digest, &dg_smd5},
    {"SHA", verify_digest, &dg_sha1},
    {"SHA1", verify_digest, &dg_sha1},
    {"SSHA", verify_digest, &dg_ssha1},
    {"SHA256", verify_digest, &dg_sha256},
    {"SSHA256", verify_digest, &dg_ssha256},
    {"SHA512", verify_digest, &dg_sha512},
    {"SSHA512", verify_digest, &dg_ssha512},
    {0},
};

/*
 * pass_scheme_find - the scheme of NAME (LEN bytes), or NULL.  Dovecot's
 * encoding suffixes (SHA256.HEX, SSHA.B64) name the scheme too: the
 * digest schemes tell hex from base64 by the length.
 */
static const PASS_SCHEME *pass_scheme_find(const char *name, size_t len)
{
    const char *dot = memchr(name, '.', len);

    if (dot && (((size_t) (name + len - dot) == 4 && strncasecmp(dot, ".HEX", 4) == 0)
		|| ((size_t) (name + len - dot) == 4 && strncasecmp(dot, ".B64", 4) == 0)
		|| ((size_t) (name + len - dot) == 7 && strncasecmp(dot, ".BASE64", 7) == 0)))
	len = (size_t) (dot - name);
    for (const PASS_SCHEME *sp = pass_schemes; sp->name; sp++)
	if (strlen(sp->name) == len && strncasecmp(sp->name, name, len) == 0)
	    return (sp);
    return (0);
}

int	pass_scheme_known(const char *scheme)
{
    return (pass_scheme_find(scheme, strlen(scheme)) != 0);
}

int	pass_scheme_verify(const char *stored, const char *password,
			           const char *default_scheme, VSTRING *why)
{
    const PASS_SCHEME *sp;
    const char *close;
    const char *data = stored;

    if (*stored == '{' && (close = strchr(stored, '}')) != 0) {
	sp = pass_scheme_find(stored + 1, (size_t) (close - stored - 1));
	data = close + 1;
    } else {
	sp = pass_scheme_find(default_scheme, strlen(default_scheme));
    }
    if (sp == 0) {
	vstring_strcpy(why, "unknown password scheme");
	return (PASS_SCHEME_ERROR);
    }
    if (*data == 0) {
	vstring_strcpy(why, "empty stored password");
	return (PASS_SCHEME_ERROR);
    }
    return (sp->verify(data, password, sp->arg, why));
}
