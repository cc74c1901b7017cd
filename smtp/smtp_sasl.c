/*
 * smtp_sasl.c - SMTP AUTH from the client side (smtp_sasl_auth_enable).
 *
 * smtp_sasl_password_maps is searched for the server's host name, then
 * for the next-hop destination as qmgr gave it ("[host]:port", "domain");
 * the value is "username:password".  No entry, or a server that offers
 * no AUTH, means no authentication.  The mechanism is chosen by Cyrus
 * SASL (lib/sasl/xsasl.c) from the server's list under
 * smtp_sasl_security_options (smtp_sasl_tls_security_options once TLS is
 * on), filtered by smtp_sasl_mechanism_filter.  A failure defers the
 * attempt, as Postfix's smtp_sasl_auth_soft_bounce=yes does: "SASL
 * authentication failed; server host[ip] said: 535 ...".
 *
 * smtp_sasl_cred_key() names the credentials a session would use, so
 * that the connection cache (smtp_cache.c) never hands a session that
 * authenticated with one entry to a request that would use another.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "xsasl.h"
#include "smtp.h"

/* smtp_sasl_lookup - "user:pass" for HOST and NEXTHOP, NULL if none (or error) */
static const char *smtp_sasl_lookup(const char *host, const char *nexthop,
				            int *error)
{
    const char *value;

    *error = 0;
    if ((value = maps_find(smtp_conf.sasl_passwd, host)) != 0)
	return (value);
    if (smtp_conf.sasl_passwd->error) {
	*error = 1;
	return (0);
    }
    if (nexthop && *nexthop
	&& (value = maps_find(smtp_conf.sasl_passwd, nexthop)) != 0)
	return (value);
    *error = smtp_conf.sasl_passwd->error;
    return (0);
}

void	smtp_sasl_cred_key(const char *host, const char *nexthop, VSTRING *key)
{
    static unsigned errors;
    const char *value;
    int     error;

    if (!smtp_conf.sasl_enable || smtp_conf.sasl_passwd == 0)
	return;
    if ((value = smtp_sasl_lookup(host, nexthop, &error)) != 0)
	vstring_sprintf_append(key, "auth:%s", value);
    else if (error)
	vstring_sprintf_append(key, "error:%u", ++errors);	/* matches nothing */
    else
	vstring_strcat(key, "noauth");
}

/* smtp_sasl_filter - the server's mechanisms that smtp_sasl_mechanism_filter allows */
static void smtp_sasl_filter(const char *mechs, VSTRING *out)
{
    const char *filter = conf_str("smtp_sasl_mechanism_filter");
    const char *cp = mechs;

    vstring_reset(out);
    while (*(cp += strspn(cp, " \t"))) {
	size_t  len = strcspn(cp, " \t");
	const char *fp = filter;
	int     ok = (*filter == 0);

	while (!ok && *(fp += strspn(fp, ", \t"))) {
	    size_t  flen = strcspn(fp, ", \t");

	    ok = (flen == len && strncasecmp(fp, cp, len) == 0);
	    fp += flen;
	}
	if (ok) {
	    if (LEN(out))
		vstring_addch(out, ' ');
	    vstring_memcat(out, cp, len);
	}
	cp += len;
    }
}

/* smtp_sasl_exchange - the AUTH dialogue; 0 or -1 with DSN/WHY */
static int smtp_sasl_exchange(SMTP_SESS *sess, XSASL_CLIENT *client,
			              const char *mechs, char *dsn, VSTRING *why)
{
    VSTRING *mech = vstring_alloc(20);
    VSTRING *data = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    VSTRING *reply = vstring_alloc(100);
    SMTP_RESP resp;
    int     timeout = smtp_conf.helo_timeout;
    int     ret = -1;

    smtp_resp_init(&resp);
    if (xsasl_client_first(client, mechs, mech, data, reply) != XSASL_AUTH_DONE) {
	snprintf(dsn, 16, "4.7.0");
	vstring_sprintf(why, "SASL authentication failed; cannot authenticate"
			" to server %s: %s", sess->namaddr, STR(reply));
	goto out;
    }
    vstring_sprintf(line, "AUTH %s%s%s\r\n", STR(mech), LEN(data) ? " " : "",
		    STR(data));
    for (;;) {
	if (smtp_sess_write(sess, STR(line), LEN(line), timeout) < 0
	    || smtp_sess_reply(sess, &resp, timeout) < 0) {
	    snprintf(dsn, 16, "4.4.2");
	    vstring_sprintf(why, "%s with %s while authenticating",
			    sess->timed_out ? "conversation timed out" :
			    "lost connection", sess->namaddr);
	    goto out;
	}
	if (resp.code == 235) {
	    msg_info("SASL authentication succeeded with %s", sess->namaddr);
	    ret = 0;
	    goto out;
	}
	if (resp.code != 334)
	    break;
	if (xsasl_client_next(client, LEN(resp.text) > 4 ? STR(resp.text) + 4 : "",
			      data, reply) != XSASL_AUTH_DONE) {
	    snprintf(dsn, 16, "4.7.0");
	    vstring_sprintf(why, "SASL authentication failed; server %s: %s",
			    sess->namaddr, STR(reply));
	    (void) smtp_sess_write(sess, "*\r\n", 3, timeout);
	    goto out;
	}
	vstring_sprintf(line, "%s\r\n", STR(data));
    }
    snprintf(dsn, 16, "4%.14s", resp.dsn + 1);
    vstring_sprintf(why, "SASL authentication failed; server %s said: %s",
		    sess->namaddr, STR(resp.text));
out:
    smtp_resp_free(&resp);
    vstring_free(mech);
    vstring_free(data);
    vstring_free(line);
    vstring_free(reply);
    return (ret);
}

int	smtp_sasl_authenticate(SMTP_SESS *sess, SMTP_TRANS *trans, char *dsn,
			               VSTRING *why)
{
    const char *value;
    char   *user, *pass;
    XSASL_CLIENT *client;
    VSTRING *mechs;
    int     error, ret;

    if (smtp_conf.sasl_passwd == 0 || !(sess->features & SMTP_FEATURE_AUTH))
	return (0);
    if ((value = smtp_sasl_lookup(sess->host, trans->nexthop, &error)) == 0) {
	if (!error)
	    return (0);
	snprintf(dsn, 16, "4.3.0");
	vstring_sprintf(why, "smtp_sasl_password_maps lookup error");
	return (-1);
    }
    user = mystrdup(value);
    if ((pass = strchr(user, ':')) != 0)
	*pass++ = 0;
    mechs = vstring_alloc(100);
    smtp_sasl_filter(sess->auth_mechs, mechs);
    client = xsasl_client_init() < 0 ? 0 :
	xsasl_client_create("smtp", sess->host, sess->tls ?
			    smtp_conf.sasl_tls_options : smtp_conf.sasl_options,
			    sess->tls ? 256 : 0, user, pass ? pass : "");
    if (client == 0) {
	snprintf(dsn, 16, "4.7.0");
	vstring_sprintf(why, "SASL authentication failed; cannot authenticate"
			" to server %s: SASL client setup failed", sess->namaddr);
	ret = -1;
    } else {
	ret = smtp_sasl_exchange(sess, client, STR(mechs), dsn, why);
	xsasl_client_free(client);
    }
    memset(user, 0, strlen(user));
    if (pass)
	memset(pass, 0, strlen(pass));
    myfree(user);
    vstring_free(mechs);
    return (ret);
}
