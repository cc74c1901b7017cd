/*
 * xsasl.c - the server side of SASL authentication, through Cyrus SASL.
 *
 * See xsasl.h for the interface.  The Cyrus library is initialised once
 * per process (sasl_set_path for cyrus_sasl_config_path, then
 * sasl_server_init with the application name, which makes Cyrus read
 * APP.conf: pwcheck_method, auxprop_plugin, sasldb_path, mech_list,
 * saslauthd_path).  Each session gets a sasl_conn_t with the security
 * properties from the options text and no security layer (max_ssf 0), as
 * Postfix does.  Base64 coding uses Cyrus's sasl_encode64/sasl_decode64.
 *
 * With smtpd_sasl_password_maps set (xsasl_passdb.h), Cyrus is not asked:
 * PLAIN and LOGIN are served here and the password is checked against
 * the table's stored hash, for smtpd, pop3d and imapd alike.
 *
 * Threads: before sasl_server_init, Cyrus gets pthread mutexes
 * (sasl_set_mutex), the condition under which its documentation calls
 * the library thread-safe; smtpd then runs the password checks of
 * several sessions at once in worker threads, each XSASL_SERVER used by
 * one thread at a time.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <strings.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "printable.h"
#include "base64_code.h"
#include "xsasl.h"
#include "xsasl_passdb.h"

struct XSASL_SERVER {
    sasl_conn_t *conn;
    char   *mechs;			/* from sasl_listmech, or NULL */
    char   *username;			/* printable copy, or NULL */
    VSTRING *decoded;			/* decoded client response */
    XSASL_PASSDB_EXCHANGE *passdb;	/* passwords from a table, or NULL */
    int     plaintext_ok;		/* passdb: "noplaintext" not set */
};

static int xsasl_init_status = 1;	/* 1: not yet; 0: ok; -1: failed */

/*
 * xsasl_log - Cyrus's log callback.  Levels NOTE and above (DEBUG, TRACE,
 * PASS) are dropped: PASS carries passwords, and the others only noise.
 */
static int xsasl_log(void *context, int level, const char *message)
{
    switch (level) {
    case SASL_LOG_ERR:
    case SASL_LOG_WARN:
	msg_warn("SASL authentication problem: %s", message);
	break;
    case SASL_LOG_FAIL:
	msg_warn("SASL authentication failure: %s", message);
	break;
    default:
	break;
    }
    return (SASL_OK);
}

/* Cyrus's mutexes: pthread mutexes */

static void *xsasl_mutex_alloc(void)
{
    pthread_mutex_t *mutex = (pthread_mutex_t *) mymalloc(sizeof(*mutex));

    pthread_mutex_init(mutex, (pthread_mutexattr_t *) 0);
    return (mutex);
}

static int xsasl_mutex_lock(void *mutex)
{
    return (pthread_mutex_lock((pthread_mutex_t *) mutex) == 0 ? SASL_OK : SASL_FAIL);
}

static int xsasl_mutex_unlock(void *mutex)
{
    return (pthread_mutex_unlock((pthread_mutex_t *) mutex) == 0 ? SASL_OK : SASL_FAIL);
}

static void xsasl_mutex_free(void *mutex)
{
    pthread_mutex_destroy((pthread_mutex_t *) mutex);
    myfree(mutex);
}

static sasl_callback_t xsasl_callbacks[] = {
    {SASL_CB_LOG, (int (*) (void)) (void (*) (void)) xsasl_log, 0},
    {SASL_CB_LIST_END, 0, 0},
};

int	xsasl_server_init(const char *app_name, const char *config_path)
{
    int     status;

    if (xsasl_init_status != 1)
	return (xsasl_init_status);
    sasl_set_mutex(xsasl_mutex_alloc, xsasl_mutex_lock, xsasl_mutex_unlock,
		   xsasl_mutex_free);
    if (config_path && *config_path
	&& sasl_set_path(SASL_PATH_TYPE_CONFIG, (char *) config_path) != SASL_OK)
	msg_warn("failed to set Cyrus SASL configuration path: \"%s\"", config_path);
    if ((status = sasl_server_init(xsasl_callbacks, app_name)) != SASL_OK) {
	msg_warn("SASL per-process initialization failed: %s",
		 sasl_errstring(status, 0, 0));
	xsasl_init_status = -1;
    } else {
	xsasl_init_status = 0;
    }
    return (xsasl_init_status);
}

static const struct {
    const char *name;
    unsigned flag;
} xsasl_sec_table[] = {
    {"noplaintext", SASL_SEC_NOPLAINTEXT},
    {"noactive", SASL_SEC_NOACTIVE},
    {"nodictionary", SASL_SEC_NODICTIONARY},
    {"noanonymous", SASL_SEC_NOANONYMOUS},
    {"forward_secrecy", SASL_SEC_FORWARD_SECRECY},
    {"mutual_auth", SASL_SEC_MUTUAL_AUTH},
    {0, 0},
};

/* xsasl_sec_word - the flag for one option word, 0 if unknown */
static unsigned xsasl_sec_word(const char *word, size_t len)
{
    for (int i = 0; xsasl_sec_table[i].name; i++)
	if (strlen(xsasl_sec_table[i].name) == len
	    && strncasecmp(xsasl_sec_table[i].name, word, len) == 0)
	    return (xsasl_sec_table[i].flag);
    return (0);
}

int	xsasl_security_flags(const char *text, unsigned *flags, const char **bad)
{
    static char bad_word[64];
    const char *cp = text;
    size_t  len;
    unsigned flag;

    *flags = 0;
    for (;;) {
	cp += strspn(cp, ", \t\r\n");
	if (*cp == 0)
	    return (0);
	len = strcspn(cp, ", \t\r\n");
	if ((flag = xsasl_sec_word(cp, len)) == 0) {
	    snprintf(bad_word, sizeof(bad_word), "%.*s", (int) len, cp);
	    if (bad)
		*bad = bad_word;
	    return (-1);
	}
	*flags |= flag;
	cp += len;
    }
}

/* xsasl_set_security - apply the security options to a new connection */
static int xsasl_set_security(sasl_conn_t *conn, const char *security)
{
    sasl_security_properties_t props;
    const char *bad;
    unsigned flags;
    int     status;

    if (xsasl_security_flags(security, &flags, &bad) < 0) {
	msg_warn("unknown SASL security option \"%s\"", bad);
	return (-1);
    }
    memset(&props, 0, sizeof(props));
    props.min_ssf = 0;
    props.max_ssf = 0;				/* no SASL security layer */
    props.maxbufsize = 0;
    props.security_flags = flags;
    if ((status = sasl_setprop(conn, SASL_SEC_PROPS, &props)) != SASL_OK) {
	msg_warn("SASL per-connection security setup: %s",
		 sasl_errstring(status, 0, 0));
	return (-1);
    }
    return (0);
}

/* xsasl_passdb_server - a server whose passwords come from the table */

static XSASL_SERVER *xsasl_passdb_server(const char *realm, const char *security)
{
    XSASL_SERVER *server;
    unsigned flags;
    const char *bad;

    if (xsasl_security_flags(security, &flags, &bad) < 0) {
	msg_warn("unknown SASL security option \"%s\"", bad);
	return (0);
    }
    server = mycalloc(1, sizeof(*server));
    server->decoded = vstring_alloc(100);
    server->passdb = xsasl_passdb_exchange(realm);
    server->plaintext_ok = !(flags & SASL_SEC_NOPLAINTEXT);
    return (server);
}

XSASL_SERVER *xsasl_server_create(const char *service, const char *hostname,
				          const char *realm, const char *security)
{
    XSASL_SERVER *server;
    sasl_conn_t *conn = 0;
    int     status;

    if (xsasl_passdb_active())
	return (xsasl_passdb_server(realm, security));
    if (xsasl_init_status != 0) {
	msg_warn("SASL server used before successful initialization");
	return (0);
    }
    if ((status = sasl_server_new(service, hostname,
				  realm && *realm ? realm : 0, 0, 0, 0, 0,
				  &conn)) != SASL_OK) {
	msg_warn("SASL per-connection server initialization: %s",
		 sasl_errstring(status, 0, 0));
	return (0);
    }
    if (xsasl_set_security(conn, security) < 0) {
	sasl_dispose(&conn);
	return (0);
    }
    server = mycalloc(1, sizeof(*server));
    server->conn = conn;
    server->decoded = vstring_alloc(100);
    return (server);
}

const char *xsasl_server_mechs(XSASL_SERVER *server)
{
    const char *list;
    int     count;
    int     status;

    if (server->mechs)
	return (server->mechs);
    if (server->passdb) {
	if (!server->plaintext_ok) {
	    msg_warn("no applicable SASL mechanisms: the password table needs"
		     " PLAIN or LOGIN, and the security options forbid them");
	    return (0);
	}
	return (server->mechs = mystrdup(XSASL_PASSDB_MECHS));
    }
    status = sasl_listmech(server->conn, 0, "", " ", "", &list, 0, &count);
    if (status != SASL_OK) {
	msg_warn("SASL mechanism list: %s", sasl_errstring(status, 0, 0));
	return (0);
    }
    if (count <= 0 || *list == 0) {
	msg_warn("no applicable SASL mechanisms");
	return (0);
    }
    server->mechs = mystrdup(list);
    return (server->mechs);
}

/*
 * xsasl_failure - the reason text for a failed Cyrus call; "user not
 * found" becomes "authentication failure" (privacy).  Returns FAIL or TEMP.
 */
static int xsasl_failure(int status, VSTRING *reply)
{
    if (status == SASL_NOUSER)
	status = SASL_BADAUTH;
    vstring_strcpy(reply, sasl_errstring(status, 0, 0));
    switch (status) {
    case SASL_FAIL:
    case SASL_NOMEM:
    case SASL_TRYAGAIN:
    case SASL_UNAVAIL:
	return (XSASL_AUTH_TEMP);
    default:
	return (XSASL_AUTH_FAIL);
    }
}

/* xsasl_result - turn a start/step result into an XSASL_AUTH_* code */
static int xsasl_result(int status, const char *out, unsigned outlen,
			        VSTRING *reply)
{
    unsigned size;
    unsigned enc_len;

    if (status == SASL_OK) {
	vstring_reset(reply);
	return (XSASL_AUTH_DONE);
    }
    if (status != SASL_CONTINUE)
	return (xsasl_failure(status, reply));
    size = ((outlen + 2) / 3) * 4 + 1;
    vstring_reset(reply);
    vstring_reserve(reply, size);
    if (sasl_encode64(out ? out : "", outlen, STR(reply), size, &enc_len) != SASL_OK)
	msg_panic("sasl_encode64 failed on %u bytes", outlen);
    reply->len = enc_len;
    reply->data[enc_len] = 0;
    return (XSASL_AUTH_MORE);
}

/* xsasl_passdb_result - a passdb result; a challenge is sent as base64 */
static int xsasl_passdb_result(int status, VSTRING *challenge, VSTRING *reply)
{
    if (status == XSASL_AUTH_MORE)
	base64_encode(reply, STR(challenge), LEN(challenge));
    else
	vstring_strcpy(reply, STR(challenge));
    return (status);
}

/* xsasl_decode - base64 TEXT into server->decoded; -1 when malformed */
static int xsasl_decode(XSASL_SERVER *server, const char *text)
{
    size_t  len = strlen(text);
    unsigned out_len;

    vstring_reset(server->decoded);
    if (len == 0)
	return (0);
    if (len > UINT_MAX / 2)
	return (-1);
    vstring_reserve(server->decoded, len + 1);
    if (sasl_decode64(text, (unsigned) len, STR(server->decoded),
		      (unsigned) len + 1, &out_len) != SASL_OK)
	return (-1);
    server->decoded->len = out_len;
    server->decoded->data[out_len] = 0;
    return (0);
}

int	xsasl_server_first(XSASL_SERVER *server, const char *mech,
			           const char *init, VSTRING *reply)
{
    const char *out = 0;
    unsigned outlen = 0;
    int     status;

    if (init && strcmp(init, "=") == 0) {
	vstring_reset(server->decoded);
    } else if (init && (*init == 0 || xsasl_decode(server, init) < 0)) {
	vstring_strcpy(reply, "Invalid base64 data in initial response");
	return (XSASL_AUTH_FORM);
    }
    if (server->passdb) {
	VSTRING *challenge = vstring_alloc(100);

	status = xsasl_passdb_start(server->passdb, mech,
				    init ? STR(server->decoded) : 0,
				    LEN(server->decoded), challenge);
	status = xsasl_passdb_result(status, challenge, reply);
	vstring_free(challenge);
	return (status);
    }
    status = sasl_server_start(server->conn, mech,
			       init ? STR(server->decoded) : 0,
			       init ? (unsigned) LEN(server->decoded) : 0,
			       &out, &outlen);
    return (xsasl_result(status, out, outlen, reply));
}

int	xsasl_server_next(XSASL_SERVER *server, const char *response, VSTRING *reply)
{
    const char *out = 0;
    unsigned outlen = 0;
    int     status;

    if (xsasl_decode(server, response) < 0) {
	vstring_strcpy(reply, "Invalid base64 data in continued response");
	return (XSASL_AUTH_FORM);
    }
    if (server->passdb) {
	VSTRING *challenge = vstring_alloc(100);

	status = xsasl_passdb_step(server->passdb, STR(server->decoded),
				   LEN(server->decoded), challenge);
	status = xsasl_passdb_result(status, challenge, reply);
	vstring_free(challenge);
	return (status);
    }
    status = sasl_server_step(server->conn, STR(server->decoded),
			      (unsigned) LEN(server->decoded), &out, &outlen);
    return (xsasl_result(status, out, outlen, reply));
}

const char *xsasl_server_username(XSASL_SERVER *server)
{
    const void *value = 0;
    int     status;

    if (server->passdb) {			/* the exchange's, or checkpass's */
	if ((value = xsasl_passdb_user(server->passdb)) != 0) {
	    if (server->username)
		myfree(server->username);
	    server->username = printable(mystrdup(value), '?');
	}
	return (server->username);
    }
    status = sasl_getprop(server->conn, SASL_USERNAME, &value);
    if (status != SASL_OK || value == 0)
	return (0);
    if (server->username)
	myfree(server->username);
    server->username = printable(mystrdup(value), '?');
    return (server->username);
}

int	xsasl_server_checkpass(XSASL_SERVER *server, const char *user,
			               const char *pass, VSTRING *reply)
{
    int     status;

    if (server->passdb) {
	VSTRING *name = vstring_alloc(100);

	status = xsasl_passdb_check(user, xsasl_passdb_realm(server->passdb),
				    pass, name, reply);
	if (server->username)
	    myfree(server->username);
	server->username = printable(vstring_export(name), '?');
	return (status);
    }
    status = sasl_checkpass(server->conn, user, (unsigned) strlen(user),
			    pass, (unsigned) strlen(pass));
    if (status == SASL_OK) {
	vstring_reset(reply);
	return (XSASL_AUTH_DONE);
    }
    return (xsasl_failure(status, reply));
}

int	xsasl_server_checkapop(XSASL_SERVER *server, const char *challenge,
			               const char *user, const char *digest,
			               VSTRING *reply)
{
    VSTRING *response;
    int     status;

    if (server->passdb) {			/* APOP needs the plain password */
	vstring_strcpy(reply, "no mechanism available");
	return (XSASL_AUTH_FAIL);
    }
    response = vstring_alloc(100);
    vstring_sprintf(response, "%s %s", user, digest);
    status = sasl_checkapop(server->conn, challenge, (unsigned) strlen(challenge),
			    STR(response), (unsigned) LEN(response));
    vstring_free(response);
    if (status == SASL_OK) {
	vstring_reset(reply);
	return (XSASL_AUTH_DONE);
    }
    return (xsasl_failure(status, reply));
}

void	xsasl_server_free(XSASL_SERVER *server)
{
    if (server == 0)
	return;
    if (server->conn)
	sasl_dispose(&server->conn);
    if (server->passdb)
	xsasl_passdb_exchange_free(server->passdb);
    vstring_free(server->decoded);
    if (server->mechs)
	myfree(server->mechs);
    if (server->username)
	myfree(server->username);
    myfree(server);
}

/* The client side (see xsasl.h) */

struct XSASL_CLIENT {
    sasl_conn_t *conn;
    char   *user;
    sasl_secret_t *secret;		/* the password, as Cyrus wants it */
    sasl_callback_t callbacks[5];
};

static int xsasl_client_init_status = 1;

int	xsasl_client_init(void)
{
    int     status;

    if (xsasl_client_init_status != 1)
	return (xsasl_client_init_status);
    if ((status = sasl_client_init(xsasl_callbacks)) != SASL_OK) {
	msg_warn("SASL per-process initialization failed: %s",
		 sasl_errstring(status, 0, 0));
	xsasl_client_init_status = -1;
    } else {
	xsasl_client_init_status = 0;
    }
    return (xsasl_client_init_status);
}

/* xsasl_client_user - SASL_CB_USER and SASL_CB_AUTHNAME */
static int xsasl_client_user(void *context, int id, const char **result,
			             unsigned *len)
{
    XSASL_CLIENT *client = context;

    if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
	return (SASL_FAIL);
    *result = client->user;
    if (len)
	*len = (unsigned) strlen(client->user);
    return (SASL_OK);
}

/* xsasl_client_pass - SASL_CB_PASS */
static int xsasl_client_pass(sasl_conn_t *conn, void *context, int id,
			             sasl_secret_t **secret)
{
    XSASL_CLIENT *client = context;

    (void) conn;
    if (id != SASL_CB_PASS)
	return (SASL_FAIL);
    *secret = client->secret;
    return (SASL_OK);
}

XSASL_CLIENT *xsasl_client_create(const char *service, const char *server,
				          const char *security, unsigned ssf,
				          const char *user, const char *pass)
{
    XSASL_CLIENT *client;
    size_t  plen = strlen(pass);
    sasl_ssf_t ext_ssf = ssf;
    int     status;

    if (xsasl_client_init_status != 0) {
	msg_warn("SASL client used before successful initialization");
	return (0);
    }
    client = mycalloc(1, sizeof(*client));
    client->user = mystrdup(user);
    client->secret = mymalloc(sizeof(sasl_secret_t) + plen);
    client->secret->len = plen;
    memcpy(client->secret->data, pass, plen + 1);
    client->callbacks[0] = (sasl_callback_t) {SASL_CB_USER,
	(int (*) (void)) (void (*) (void)) xsasl_client_user, client};
    client->callbacks[1] = (sasl_callback_t) {SASL_CB_AUTHNAME,
	(int (*) (void)) (void (*) (void)) xsasl_client_user, client};
    client->callbacks[2] = (sasl_callback_t) {SASL_CB_PASS,
	(int (*) (void)) (void (*) (void)) xsasl_client_pass, client};
    client->callbacks[3] = (sasl_callback_t) {SASL_CB_LOG,
	(int (*) (void)) (void (*) (void)) xsasl_log, 0};
    client->callbacks[4] = (sasl_callback_t) {SASL_CB_LIST_END, 0, 0};
    if ((status = sasl_client_new(service, server, 0, 0, client->callbacks,
				  SASL_SUCCESS_DATA, &client->conn)) != SASL_OK) {
	msg_warn("per-session SASL client initialization: %s",
		 sasl_errstring(status, 0, 0));
	xsasl_client_free(client);
	return (0);
    }
    if (xsasl_set_security(client->conn, security) < 0
	|| (ssf > 0 && sasl_setprop(client->conn, SASL_SSF_EXTERNAL, &ext_ssf) != SASL_OK)) {
	xsasl_client_free(client);
	return (0);
    }
    return (client);
}

/* xsasl_client_encode - base64 of OUT into BUF; "=" for an empty response */
static int xsasl_client_encode(const char *out, unsigned outlen, VSTRING *buf,
			               VSTRING *reply)
{
    unsigned enclen;
    int     status;

    if (outlen == 0) {
	vstring_strcpy(buf, "=");
	return (XSASL_AUTH_DONE);
    }
    size_t  size = (size_t) outlen * 4 / 3 + 8;
    char   *tmp = mymalloc(size);

    status = sasl_encode64(out, outlen, tmp, (unsigned) size, &enclen);
    if (status == SASL_OK)
	vstring_memcpy(buf, tmp, enclen);
    myfree(tmp);
    if (status != SASL_OK) {
	vstring_strcpy(reply, sasl_errstring(status, 0, 0));
	return (XSASL_AUTH_FAIL);
    }
    return (XSASL_AUTH_DONE);
}

int	xsasl_client_first(XSASL_CLIENT *client, const char *mechs, VSTRING *mech,
			           VSTRING *init, VSTRING *reply)
{
    const char *out = 0;
    const char *chosen = 0;
    unsigned outlen = 0;
    int     status;

    status = sasl_client_start(client->conn, mechs, 0, &out, &outlen, &chosen);
    if (status != SASL_OK && status != SASL_CONTINUE) {
	vstring_strcpy(reply, sasl_errdetail(client->conn));
	return (status == SASL_TRYAGAIN ? XSASL_AUTH_TEMP : XSASL_AUTH_FAIL);
    }
    vstring_strcpy(mech, chosen ? chosen : "");
    if (out == 0) {
	vstring_reset(init);
	return (XSASL_AUTH_DONE);
    }
    return (xsasl_client_encode(out, outlen, init, reply));
}

int	xsasl_client_next(XSASL_CLIENT *client, const char *challenge,
			          VSTRING *response, VSTRING *reply)
{
    size_t  len = strlen(challenge);
    const char *out = 0;
    unsigned outlen = 0;
    unsigned declen = 0;
    int     status;

    char   *tmp = mymalloc(len + 1);

    if (sasl_decode64(challenge, (unsigned) len, tmp, (unsigned) len + 1,
		      &declen) != SASL_OK) {
	myfree(tmp);
	vstring_strcpy(reply, "malformed SASL challenge from server");
	return (XSASL_AUTH_FAIL);
    }
    status = sasl_client_step(client->conn, tmp, declen, 0, &out, &outlen);
    myfree(tmp);
    if (status != SASL_OK && status != SASL_CONTINUE) {
	vstring_strcpy(reply, sasl_errdetail(client->conn));
	return (XSASL_AUTH_FAIL);
    }
    return (xsasl_client_encode(out ? out : "", out ? outlen : 0, response, reply));
}

void	xsasl_client_free(XSASL_CLIENT *client)
{
    if (client->conn)
	sasl_dispose(&client->conn);
    memset(client->secret->data, 0, client->secret->len);
    myfree(client->secret);
    myfree(client->user);
    myfree(client);
}
