/*
 * xsasl_passdb.h - passwords from a lookup table instead of Cyrus SASL:
 * smtpd_sasl_password_maps (a database, LDAP, a hash file; through
 * proxy: usually) maps a login name to its stored password in one of
 * pass_scheme.h's schemes, as a mail panel writes it for Dovecot.
 *
 *   xsasl_passdb_init(maps, default_scheme)   once, before privileges
 *                      are dropped (tables are opened then); "" maps:
 *                      off, Cyrus SASL checks passwords
 *   xsasl_passdb_active()                     1 when on
 *   xsasl_passdb_check(user, realm, password, name, reply)
 *                      XSASL_AUTH_DONE (NAME: the name that was looked
 *                      up: lowercase, "@REALM" added to a name without
 *                      a domain when REALM is set), XSASL_AUTH_FAIL
 *                      (REPLY "authentication failure"), or
 *                      XSASL_AUTH_TEMP (the table failed, or the stored
 *                      password is unusable: logged)
 *
 * The mechanisms PLAIN and LOGIN over it, for xsasl.c (which decodes the
 * client's base64 and encodes the challenges):
 *   XSASL_PASSDB_EXCHANGE *x = xsasl_passdb_exchange(realm);
 *   status = xsasl_passdb_start(x, mech, init, init_len, challenge);
 *   status = xsasl_passdb_step(x, response, len, challenge);
 *                      INIT NULL: no initial response; XSASL_AUTH_MORE
 *                      with the raw CHALLENGE, or as _check (the reason
 *                      in CHALLENGE)
 *   xsasl_passdb_user(x)   the name tried or authenticated, or NULL
 *   xsasl_passdb_exchange_free(x)
 * xsasl_server_checkpass() uses _check for pop3d and imapd.  Lookups from
 * several threads (smtpd's workers) take turns; the hash checks run at once.
 */
#ifndef XSASL_PASSDB_H
#define XSASL_PASSDB_H

#include "sys_defs.h"
#include "vstring.h"

int	xsasl_passdb_init(const char *maps, const char *default_scheme);
int	xsasl_passdb_active(void);
int	xsasl_passdb_check(const char *user, const char *realm,
			           const char *password, VSTRING *name,
			           VSTRING *reply);

typedef struct XSASL_PASSDB_EXCHANGE XSASL_PASSDB_EXCHANGE;

#define XSASL_PASSDB_MECHS	"PLAIN LOGIN"

XSASL_PASSDB_EXCHANGE *xsasl_passdb_exchange(const char *realm);
int	xsasl_passdb_start(XSASL_PASSDB_EXCHANGE *x, const char *mech,
			           const char *init, size_t init_len,
			           VSTRING *challenge);
int	xsasl_passdb_step(XSASL_PASSDB_EXCHANGE *x, const char *response,
			          size_t len, VSTRING *challenge);
const char *xsasl_passdb_user(XSASL_PASSDB_EXCHANGE *x);
const char *xsasl_passdb_realm(XSASL_PASSDB_EXCHANGE *x);
void	xsasl_passdb_exchange_free(XSASL_PASSDB_EXCHANGE *x);

#endif
