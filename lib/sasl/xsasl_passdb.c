/*
 * xsasl_passdb.c - login passwords from smtpd_sasl_password_maps (see
 * xsasl_passdb.h).  One MAPS for the process, opened at init; a mutex
 * makes threads take turns at it (a table keeps one connection or
 * stream), and the value is copied before the mutex is let go.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <pthread.h>
#include "msg.h"
#include "mymalloc.h"
#include "dict.h"
#include "xsasl.h"
#include "pass_scheme.h"
#include "xsasl_passdb.h"

#define PASSDB_PARAM	"smtpd_sasl_password_maps"

static MAPS *passdb_maps;
static char *passdb_scheme;
static pthread_mutex_t passdb_lock = PTHREAD_MUTEX_INITIALIZER;

int	xsasl_passdb_init(const char *maps, const char *default_scheme)
{
    if (*maps == 0)
	return (0);
    if (!pass_scheme_known(default_scheme)) {
	msg_warn("unknown password scheme \"%s\" in smtpd_sasl_default_pass_scheme",
		 default_scheme);
	return (-1);
    }
    passdb_maps = maps_create(PASSDB_PARAM, maps, DICT_FLAG_FOLD_KEY);
    passdb_scheme = mystrdup(default_scheme);
    return (0);
}

int	xsasl_passdb_active(void)
{
    return (passdb_maps != 0);
}

/* passdb_name - the name to look up; -1 for a name no table holds */

static int passdb_name(const char *user, const char *realm, VSTRING *name)
{
    const unsigned char *cp;

    if (*user == 0 || strlen(user) > 255)
	return (-1);
    for (cp = (const unsigned char *) user; *cp; cp++)
	if (iscntrl(*cp) || isspace(*cp))
	    return (-1);
    vstring_strcpy(name, user);
    if (realm && *realm && strchr(user, '@') == 0)
	vstring_sprintf_append(name, "@%s", realm);
    vstring_lowercase(name);
    return (0);
}

/* passdb_lookup - the stored password into STORED; 1 found, 0 not, -1 error */

static int passdb_lookup(const char *name, VSTRING *stored)
{
    const char *value;
    int     found;

    pthread_mutex_lock(&passdb_lock);
    if ((value = maps_find(passdb_maps, name)) != 0) {
	vstring_strcpy(stored, value);
	found = 1;
    } else {
	found = passdb_maps->error ? -1 : 0;
    }
    pthread_mutex_unlock(&passdb_lock);
    return (found);
}

int	xsasl_passdb_check(const char *user, const char *realm,
			           const char *password, VSTRING *name,
			           VSTRING *reply)
{
    VSTRING *stored;
    int     status;

    vstring_strcpy(reply, "authentication failure");
    if (passdb_name(user, realm, name) < 0)
	return (XSASL_AUTH_FAIL);
    stored = vstring_alloc(100);
    switch (passdb_lookup(STR(name), stored)) {
    case -1:
	vstring_strcpy(reply, "password table lookup failed");
	status = XSASL_AUTH_TEMP;
	break;
    case 0:
	status = XSASL_AUTH_FAIL;
	break;
    default:
	switch (pass_scheme_verify(STR(stored), password, passdb_scheme, reply)) {
	case PASS_SCHEME_MATCH:
	    vstring_reset(reply);
	    status = XSASL_AUTH_DONE;
	    break;
	case PASS_SCHEME_MISMATCH:
	    vstring_strcpy(reply, "authentication failure");
	    status = XSASL_AUTH_FAIL;
	    break;
	default:
	    msg_warn("%s: stored password of %s: %s", PASSDB_PARAM,
		     STR(name), STR(reply));
	    vstring_strcpy(reply, "stored password is unusable");
	    status = XSASL_AUTH_TEMP;
	    break;
	}
	memset(STR(stored), 0, LEN(stored));
	break;
    }
    vstring_free(stored);
    return (status);
}

 /*
  * PLAIN (RFC 4616) and LOGIN (the old draft's "Username:", "Password:").
  */
typedef enum {
    PASSDB_IDLE, PASSDB_PLAIN, PASSDB_LOGIN_USER, PASSDB_LOGIN_PASS,
} PASSDB_STEP;

struct XSASL_PASSDB_EXCHANGE {
    char   *realm;
    PASSDB_STEP step;
    VSTRING *login_user;		/* LOGIN: the name given */
    VSTRING *name;			/* the name tried */
    int     named;			/* NAME is set */
};

XSASL_PASSDB_EXCHANGE *xsasl_passdb_exchange(const char *realm)
{
    XSASL_PASSDB_EXCHANGE *x = mycalloc(1, sizeof(*x));

    x->realm = mystrdup(realm ? realm : "");
    x->login_user = vstring_alloc(100);
    x->name = vstring_alloc(100);
    return (x);
}

void	xsasl_passdb_exchange_free(XSASL_PASSDB_EXCHANGE *x)
{
    myfree(x->realm);
    vstring_free(x->login_user);
    vstring_free(x->name);
    myfree(x);
}

const char *xsasl_passdb_user(XSASL_PASSDB_EXCHANGE *x)
{
    return (x->named ? STR(x->name) : 0);
}

const char *xsasl_passdb_realm(XSASL_PASSDB_EXCHANGE *x)
{
    return (x->realm);
}

/* passdb_finish - check USER's PASSWORD; the exchange is over */

static int passdb_finish(XSASL_PASSDB_EXCHANGE *x, const char *user,
			         const char *password, VSTRING *reply)
{
    int     status;

    x->step = PASSDB_IDLE;
    status = xsasl_passdb_check(user, x->realm, password, x->name, reply);
    x->named = LEN(x->name) > 0;
    return (status);
}

/* passdb_plain - authzid NUL authcid NUL password (LEN bytes, not
 * NUL-terminated: parsed in a terminated copy) */

static int passdb_plain(XSASL_PASSDB_EXCHANGE *x, const char *data, size_t len,
			        VSTRING *reply)
{
    VSTRING *copy = vstring_alloc(len + 1);
    const char *authzid, *authcid, *password, *end;
    int     status;

    x->step = PASSDB_IDLE;
    vstring_memcpy(copy, data, len);
    authzid = STR(copy);
    end = authzid + len;
    authcid = memchr(authzid, 0, len);
    password = authcid ? memchr(authcid + 1, 0, (size_t) (end - authcid - 1)) : 0;
    if (password == 0 || memchr(password + 1, 0, (size_t) (end - password - 1))) {
	vstring_strcpy(reply, "bad protocol / cancel");
	status = XSASL_AUTH_FAIL;
    } else if (*authzid && strcasecmp(authzid, authcid + 1) != 0) {
	vstring_strcpy(reply, "authorization failure");
	status = XSASL_AUTH_FAIL;
    } else {
	status = passdb_finish(x, authcid + 1, password + 1, reply);
    }
    memset(STR(copy), 0, len);
    vstring_free(copy);
    return (status);
}

/* passdb_text - LEN bytes of DATA as text in OUT; -1 if they hold a NUL */

static int passdb_text(VSTRING *out, const char *data, size_t len)
{
    if (memchr(data, 0, len) != 0)
	return (-1);
    vstring_memcpy(out, data, len);
    return (0);
}

int	xsasl_passdb_start(XSASL_PASSDB_EXCHANGE *x, const char *mech,
			           const char *init, size_t init_len,
			           VSTRING *challenge)
{
    x->named = 0;
    if (strcasecmp(mech, "PLAIN") == 0) {
	if (init)
	    return (passdb_plain(x, init, init_len, challenge));
	x->step = PASSDB_PLAIN;
	vstring_reset(challenge);
	return (XSASL_AUTH_MORE);
    }
    if (strcasecmp(mech, "LOGIN") == 0) {
	x->step = PASSDB_LOGIN_USER;
	if (init)				/* the name came with AUTH */
	    return (xsasl_passdb_step(x, init, init_len, challenge));
	vstring_strcpy(challenge, "Username:");
	return (XSASL_AUTH_MORE);
    }
    vstring_strcpy(challenge, "no mechanism available");
    return (XSASL_AUTH_FAIL);
}

int	xsasl_passdb_step(XSASL_PASSDB_EXCHANGE *x, const char *response,
			          size_t len, VSTRING *challenge)
{
    VSTRING *password;
    int     status;

    switch (x->step) {
    case PASSDB_PLAIN:
	return (passdb_plain(x, response, len, challenge));
    case PASSDB_LOGIN_USER:
	if (passdb_text(x->login_user, response, len) < 0)
	    break;
	x->step = PASSDB_LOGIN_PASS;
	vstring_strcpy(challenge, "Password:");
	return (XSASL_AUTH_MORE);
    case PASSDB_LOGIN_PASS:
	password = vstring_alloc(100);
	status = passdb_text(password, response, len) < 0 ? -1 :
	    passdb_finish(x, STR(x->login_user), STR(password), challenge);
	memset(STR(password), 0, LEN(password));
	vstring_free(password);
	if (status >= 0)
	    return (status);
	break;
    default:
	break;
    }
    x->step = PASSDB_IDLE;
    vstring_strcpy(challenge, "bad protocol / cancel");
    return (XSASL_AUTH_FAIL);
}
