/*
 * dict_ldap.c - ldap: tables, Postfix's ldap_table(5), over OpenLDAP's
 * client library (Debian's libldap).
 *
 * dict_open("ldap:/etc/posthorn/ldap-users.cf", 0) reads a file with
 * main.cf's syntax (dict_query.h):
 *
 *	server_host = ldap://ldap1.example.com ldap2.example.com:3389
 *	server_port = 389		for entries that name no port
 *	search_base = ou=people, dc=example, dc=com
 *	query_filter = (&(mail=%s)(accountStatus=active))
 *	result_attribute = mailbox	(default maildrop)
 *	special_result_attribute = member	DNs or LDAP URLs, searched again
 *	terminal_result_attribute, leaf_result_attribute	(below)
 *	result_format, domain, expansion_limit	(as sqlite:, dict_query.h)
 *	scope = sub			sub, one or base
 *	bind = yes			yes: a simple bind; no: none ("sasl"
 *					is not supported: the table fails)
 *	bind_dn = cn=reader, dc=example, dc=com
 *	bind_pw = secret
 *	timeout = 10			seconds to connect, bind, search
 *	size_limit = $expansion_limit	entries per search (0: no limit)
 *	recursion_limit = 1000		depth of special_result_attribute
 *	dereference = 0			LDAP aliases: 0 never .. 3 always
 *	chase_referrals = no
 *	version = 3			2 or 3
 *	start_tls = no			STARTTLS (not with ldaps:// URLs)
 *	tls_ca_cert_file, tls_ca_cert_dir, tls_cert, tls_key,
 *	tls_cipher_suite, tls_random_file
 *	tls_require_cert = no		yes: verify the server's certificate
 *	retry_interval = 60		(Posthorn) skip a failed server this long
 *
 * query_filter (default "(mailacceptinggeneralid=%s)", "result_filter"
 * the old name of result_format) and search_base know the escapes of the
 * query (%s %u %d %S %U %D %1..%9); the key's parts are escaped as RFC
 * 4515 says in the filter and as RFC 4514 says in the base, so a key with
 * * ( ) \ matches itself only.  A key that lacks a part either needs is
 * not looked up; one that is not UTF-8 is not looked up either.  When the
 * search base has escapes, a base that does not exist means "not found";
 * a fixed one that does not exist is an error.
 *
 * server_host (default localhost) entries are LDAP URLs (ldap://,
 * ldaps://, ldapi://) or "host", "host:port" (ldap://host:port, with
 * server_port by default) or "unix:/path" (ldapi://).  They are tried in
 * order (dict_query_connect(), ordered), a server that failed skipped
 * for retry_interval seconds while another answers.  The connection is
 * kept for the next lookups; a search that finds it gone (the server
 * restarted, or no answer within timeout) is retried once on a new one.
 * Every failure fails the lookup with ->error set, so that the caller
 * defers (4xx), never bounces: no server answers, the bind is refused,
 * the server refuses the search (a bad filter, a missing fixed search
 * base, size_limit exceeded), expansion_limit or recursion_limit.
 *
 * Results, as Postfix: each value of a result_attribute of each entry
 * found, through result_format, joined with commas.  The values of a
 * special_result_attribute are DNs (searched with base scope) or LDAP
 * URLs (their base, scope and filter on this connection, their
 * attributes where they are also ours), whose entries are taken the same
 * way, to recursion_limit levels.  An entry with a value of a
 * terminal_result_attribute gives those values only, no recursion; a
 * leaf_result_attribute counts only in entries without special values.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <strings.h>
#include <ldap.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "printable.h"
#include "dict_private.h"
#include "dict_query.h"

#define DICT_LDAP_SEP		", \t\r\n"
#define DICT_LDAP_ANY		"(objectClass=*)"

/* The kinds of attributes, in the order they are listed and matched */
#define DICT_LDAP_TERMINAL	0
#define DICT_LDAP_LEAF		1
#define DICT_LDAP_RESULT	2
#define DICT_LDAP_SPECIAL	3
#define DICT_LDAP_NONE		(-1)

/* What an attribute's values are for in one entry */
#define DICT_LDAP_SKIP		0
#define DICT_LDAP_ADD		1
#define DICT_LDAP_RECURSE	2

/* bind = ... */
#define DICT_LDAP_BIND_NO	0
#define DICT_LDAP_BIND_YES	1

/* The TLS file and text settings and their libldap options */
static const struct {
    const char *name;
    int     option;
} dict_ldap_tls_settings[] = {
    {"tls_ca_cert_file", LDAP_OPT_X_TLS_CACERTFILE},
    {"tls_ca_cert_dir", LDAP_OPT_X_TLS_CACERTDIR},
    {"tls_cert", LDAP_OPT_X_TLS_CERTFILE},
    {"tls_key", LDAP_OPT_X_TLS_KEYFILE},
    {"tls_cipher_suite", LDAP_OPT_X_TLS_CIPHER_SUITE},
    {"tls_random_file", LDAP_OPT_X_TLS_RANDOM_FILE},
};

#define DICT_LDAP_TLS_COUNT \
	(sizeof(dict_ldap_tls_settings) / sizeof(dict_ldap_tls_settings[0]))

typedef struct DICT_LDAP {
    DICT    dict;			/* must be first */
    DICT_QUERY query;			/* query_filter, result_format, ... */
    DICT_QUERY_HOSTS hosts;		/* server_host */
    char   *search_base;		/* a template */
    int     dynamic_base;		/* it has escapes */
    int     scope;			/* LDAP_SCOPE_* */
    char  **attrs;			/* all we ask for, null-terminated */
    int    *kinds;			/* DICT_LDAP_TERMINAL... of each */
    int     attr_count;
    int     bind;			/* DICT_LDAP_BIND_* */
    char   *bind_dn;
    char   *bind_pw;
    int     server_port;
    int     timeout;
    int     size_limit;
    int     recursion_limit;
    int     dereference;
    int     chase_referrals;
    int     version;
    int     start_tls;
    int     tls_require_cert;
    char   *tls[DICT_LDAP_TLS_COUNT];	/* NULL: not set */
    LDAP   *ld;				/* NULL: no connection */
    int     conn_host;			/* index of its server */
    VSTRING *base_buf;			/* the expanded search base */
    VSTRING *url_buf;
    VSTRING *why_buf;
} DICT_LDAP;

/*
 * Configuration.
 */

/* dict_ldap_bad - warn about NAME = VALUE; returns -1 */

static int dict_ldap_bad(const DICT_LDAP *dl, const char *name, const char *value)
{
    msg_warn("%s map %s: bad %s: %s", dl->dict.type, dl->dict.name, name, value);
    return (-1);
}

/* dict_ldap_int - NAME as MIN..MAX into *OUT, DEF when unset; 0, or -1 (warned) */

static int dict_ldap_int(const DICT_LDAP *dl, const DICT_QUERY_CF *cf,
			         const char *name, long def, long min, long max,
			         int *out)
{
    const char *value = dict_query_cf_get(cf, name);
    char   *end;
    long    n = def;

    if (value && *value) {
	errno = 0;
	n = strtol(value, &end, 10);
	if (*end != 0 || errno != 0 || n < min || n > max)
	    return (dict_ldap_bad(dl, name, value));
    }
    *out = (int) (n > INT_MAX ? INT_MAX : n);
    return (0);
}

/* dict_ldap_word - NAME as the index of one of WORDS, DEF when unset; -1 (warned) */

static int dict_ldap_word(const DICT_LDAP *dl, const DICT_QUERY_CF *cf,
			          const char *name, const char *def,
			          const char *const *words)
{
    const char *value = dict_query_cf_get(cf, name);

    if (value == 0 || *value == 0)
	value = def;
    for (int i = 0; words[i]; i++)
	if (strcasecmp(value, words[i]) == 0)
	    return (i);
    return (dict_ldap_bad(dl, name, value));
}

/* dict_ldap_bool - NAME as yes/no (true/false, 1/0), DEF when unset; -1 (warned) */

static int dict_ldap_bool(const DICT_LDAP *dl, const DICT_QUERY_CF *cf,
			          const char *name, int def)
{
    static const char *const words[] = {"no", "yes", "false", "true", "0", "1", 0};
    int     i = dict_ldap_word(dl, cf, name, def ? "yes" : "no", words);

    return (i < 0 ? -1 : i % 2);
}

/* dict_ldap_scope - scope = sub, one or base as LDAP_SCOPE_*; -1 (warned) */

static int dict_ldap_scope(const DICT_LDAP *dl, const DICT_QUERY_CF *cf)
{
    static const char *const words[] = {"sub", "one", "base", 0};
    static const int scopes[] = {
	LDAP_SCOPE_SUBTREE, LDAP_SCOPE_ONELEVEL, LDAP_SCOPE_BASE,
    };
    int     i = dict_ldap_word(dl, cf, "scope", "sub", words);

    return (i < 0 ? -1 : scopes[i]);
}

/* dict_ldap_bind_mode - bind = yes/no as DICT_LDAP_BIND_*; -1 (warned) */

static int dict_ldap_bind_mode(const DICT_LDAP *dl, const DICT_QUERY_CF *cf)
{
    static const char *const words[] = {"no", "yes", "none", "simple", "sasl", 0};
    int     i = dict_ldap_word(dl, cf, "bind", "yes", words);

    if (i == 4) {
	msg_warn("%s map %s: bind = sasl is not supported", dl->dict.type,
		 dl->dict.name);
	return (-1);
    }
    return (i < 0 ? -1 : i % 2);
}

/* dict_ldap_string - NAME, or DEF (NULL: not set) */

static char *dict_ldap_string(const DICT_QUERY_CF *cf, const char *name,
			              const char *def)
{
    const char *value = dict_query_cf_get(cf, name);

    if (value == 0 || *value == 0)
	value = def;
    return (value ? mystrdup(value) : 0);
}

/* dict_ldap_has_escape - TEMPLATE uses a part of the key */

static int dict_ldap_has_escape(const char *template)
{
    for (const char *cp = template; (cp = strchr(cp, '%')) != 0; cp += 2)
	if (cp[1] != '%')
	    return (1);
    return (0);
}

/* dict_ldap_attr_add - the attributes of LIST, of KIND; 0, or -1 (warned) */

static int dict_ldap_attr_add(DICT_LDAP *dl, const char *name, const char *list,
			              int kind)
{
    char   *saved = mystrdup(list);
    char   *cp = saved;
    char   *tok;
    int     ret = 0;

    while (ret == 0 && (tok = dict_strtokq(&cp, DICT_LDAP_SEP)) != 0) {
	if (strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-;.") != strlen(tok)) {
	    ret = dict_ldap_bad(dl, name, tok);
	    break;
	}
	dl->attrs = (char **) myrealloc(dl->attrs, (dl->attr_count + 2) * sizeof(char *));
	dl->kinds = (int *) myrealloc(dl->kinds, (dl->attr_count + 1) * sizeof(int));
	dl->kinds[dl->attr_count] = kind;
	dl->attrs[dl->attr_count++] = mystrdup(tok);
	dl->attrs[dl->attr_count] = 0;
    }
    myfree(saved);
    return (ret);
}

/* dict_ldap_attributes - the four attribute lists, in order; 0, or -1 (warned) */

static int dict_ldap_attributes(DICT_LDAP *dl, const DICT_QUERY_CF *cf)
{
    static const struct {
	const char *name;
	const char *def;
	int     kind;
    }       lists[] = {
	{"terminal_result_attribute", "", DICT_LDAP_TERMINAL},
	{"leaf_result_attribute", "", DICT_LDAP_LEAF},
	{"result_attribute", "maildrop", DICT_LDAP_RESULT},
	{"special_result_attribute", "", DICT_LDAP_SPECIAL},
    };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
	const char *value = dict_query_cf_get(cf, lists[i].name);

	if (dict_ldap_attr_add(dl, lists[i].name, value ? value : lists[i].def,
			       lists[i].kind) < 0)
	    return (-1);
    }
    if (dl->attr_count == 0) {
	msg_warn("%s map %s: no result_attribute", dl->dict.type, dl->dict.name);
	return (-1);
    }
    return (0);
}

/* dict_ldap_servers - server_host, tried in order; 0, or -1 (warned) */

static int dict_ldap_servers(DICT_LDAP *dl, const DICT_QUERY_CF *cf, int retry)
{
    LDAPURLDesc *url;

    dict_query_hosts_init(&dl->hosts, dict_query_cf_get(cf, "server_host"),
			  "localhost", retry);
    dl->hosts.ordered = 1;
    for (int i = 0; i < dl->hosts.count; i++) {
	DICT_QUERY_HOST *h = dl->hosts.list + i;

	if (!h->is_url)
	    continue;
	if (!ldap_is_ldap_url(h->name) || ldap_url_parse(h->name, &url) != LDAP_URL_SUCCESS)
	    return (dict_ldap_bad(dl, "server_host", h->name));
	ldap_free_urldesc(url);
	if (strncasecmp(h->name, "ldap://", 7) != 0 && dl->version < LDAP_VERSION3) {
	    msg_warn("%s map %s: %s needs version 3 -- using it", dl->dict.type,
		     dl->dict.name, h->name);
	    dl->version = LDAP_VERSION3;
	}
    }
    return (0);
}

/* dict_ldap_names - ldap_table(5)'s names for what dict_query_init reads */

static void dict_ldap_names(DICT_QUERY_CF *cf)
{
    const char *filter = dict_query_cf_get(cf, "query_filter");
    const char *old_format = dict_query_cf_get(cf, "result_filter");

    dict_query_cf_set(cf, "query", filter && *filter ? filter :
		      "(mailacceptinggeneralid=%s)");
    if (dict_query_cf_get(cf, "result_format") == 0 && old_format != 0)
	dict_query_cf_set(cf, "result_format", old_format);
}

/* dict_ldap_configure - DL from CF; 0, or -1 (warned) */

static int dict_ldap_configure(DICT_LDAP *dl, const DICT_QUERY_CF *cf)
{
    long    limit = dl->query.expansion_limit;
    int     retry;

    if (dict_ldap_int(dl, cf, "server_port", LDAP_PORT, 1, 65535, &dl->server_port) < 0
	|| dict_ldap_int(dl, cf, "version", LDAP_VERSION3, LDAP_VERSION2,
			 LDAP_VERSION3, &dl->version) < 0
	|| (dl->timeout = dict_query_cf_seconds(&dl->dict, cf, "timeout", 10)) < 0
	|| (retry = dict_query_cf_seconds(&dl->dict, cf, "retry_interval", 60)) < 0
	|| dict_ldap_int(dl, cf, "size_limit", limit, 0, LONG_MAX, &dl->size_limit) < 0
	|| dict_ldap_int(dl, cf, "recursion_limit", 1000, 1, INT_MAX,
			 &dl->recursion_limit) < 0
	|| dict_ldap_int(dl, cf, "dereference", 0, 0, 3, &dl->dereference) < 0
	|| (dl->scope = dict_ldap_scope(dl, cf)) < 0
	|| (dl->bind = dict_ldap_bind_mode(dl, cf)) < 0
	|| (dl->chase_referrals = dict_ldap_bool(dl, cf, "chase_referrals", 0)) < 0
	|| (dl->start_tls = dict_ldap_bool(dl, cf, "start_tls", 0)) < 0
	|| (dl->tls_require_cert = dict_ldap_bool(dl, cf, "tls_require_cert", 0)) < 0)
	return (-1);
    if (dl->start_tls && dl->version < LDAP_VERSION3) {
	msg_warn("%s map %s: start_tls needs version 3 -- using it",
		 dl->dict.type, dl->dict.name);
	dl->version = LDAP_VERSION3;
    }
    if (dl->timeout == 0)
	dl->timeout = 1;
    dl->search_base = dict_ldap_string(cf, "search_base", "");
    dl->dynamic_base = dict_ldap_has_escape(dl->search_base);
    dl->bind_dn = dict_ldap_string(cf, "bind_dn", "");
    dl->bind_pw = dict_ldap_string(cf, "bind_pw", "");
    for (size_t i = 0; i < DICT_LDAP_TLS_COUNT; i++)
	dl->tls[i] = dict_ldap_string(cf, dict_ldap_tls_settings[i].name, 0);
    if (!dict_query_template_ok(&dl->dict, "search_base", dl->search_base)
	|| dict_ldap_attributes(dl, cf) < 0
	|| dict_ldap_servers(dl, cf, retry) < 0)
	return (-1);
    if (!dict_ldap_has_escape(dl->query.query))
	msg_warn("%s map %s: fixed query_filter %s is probably useless",
		 dl->dict.type, dl->dict.name, dl->query.query);
    return (0);
}

/*
 * Connections.
 */

/* dict_ldap_why - the text of result RC, with the server's words, printable */

static const char *dict_ldap_why(DICT_LDAP *dl, int rc)
{
    char   *diag = 0;

    vstring_strcpy(dl->why_buf, ldap_err2string(rc));
    if (dl->ld && ldap_get_option(dl->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag)
	== LDAP_OPT_SUCCESS && diag != 0 && *diag != 0)
	vstring_sprintf_append(dl->why_buf, *diag == '(' ? " %s" : " (%s)", diag);
    if (diag)
	ldap_memfree(diag);
    return (printable(STR(dl->why_buf), '?'));
}

/* dict_ldap_url - the URL of server H */

static const char *dict_ldap_url(DICT_LDAP *dl, const DICT_QUERY_HOST *h)
{
    VSTRING *url = dl->url_buf;

    if (h->is_url) {
	vstring_strcpy(url, h->name);
    } else if (h->is_unix) {			/* ldapi://%2Frun%2Fslapd... */
	vstring_strcpy(url, "ldapi://");
	for (const char *cp = h->name; *cp; cp++) {
	    if (isalnum((unsigned char) *cp) || strchr("-._~", *cp))
		vstring_addch(url, *cp);
	    else
		vstring_sprintf_append(url, "%%%02X", (unsigned char) *cp);
	}
    } else {
	vstring_sprintf(url, strchr(h->name, ':') ? "ldap://[%s]:" : "ldap://%s:",
			h->name);
	if (h->port)
	    vstring_strcat(url, h->port);
	else
	    vstring_sprintf_append(url, "%d", dl->server_port);
    }
    return (STR(url));
}

/* dict_ldap_uses_tls - URL is ldaps://, or STARTTLS is wanted */

static int dict_ldap_uses_tls(const DICT_LDAP *dl, const char *url)
{
    return (dl->start_tls || strncasecmp(url, "ldaps://", 8) == 0);
}

/* dict_ldap_options - set the connection's options; LDAP_SUCCESS or an error */

static int dict_ldap_options(DICT_LDAP *dl, const char *url)
{
    struct timeval tv;
    int     verify = dl->tls_require_cert ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    int     server = 0;
    LDAP   *ld = dl->ld;

    tv.tv_sec = dl->timeout;
    tv.tv_usec = 0;
    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &dl->version) != LDAP_OPT_SUCCESS
	|| ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS
	|| ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS
	|| ldap_set_option(ld, LDAP_OPT_DEREF, &dl->dereference) != LDAP_OPT_SUCCESS
	|| ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS
	|| ldap_set_option(ld, LDAP_OPT_REFERRALS,
		       dl->chase_referrals ? LDAP_OPT_ON : LDAP_OPT_OFF) != LDAP_OPT_SUCCESS)
	return (LDAP_PARAM_ERROR);
    if (!dict_ldap_uses_tls(dl, url))
	return (LDAP_SUCCESS);
    for (size_t i = 0; i < DICT_LDAP_TLS_COUNT; i++)
	if (dl->tls[i] && ldap_set_option(ld, dict_ldap_tls_settings[i].option,
					  dl->tls[i]) != LDAP_OPT_SUCCESS)
	    return (LDAP_PARAM_ERROR);
    /* the settings above take effect in a context of this connection's own */
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &verify) != LDAP_OPT_SUCCESS
	|| ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server) != LDAP_OPT_SUCCESS)
	return (LDAP_PARAM_ERROR);
    return (LDAP_SUCCESS);
}

/* dict_ldap_bind - a simple bind as bind_dn (empty: anonymous) */

static int dict_ldap_bind(DICT_LDAP *dl)
{
    struct berval cred;

    cred.bv_val = dl->bind_pw;
    cred.bv_len = strlen(dl->bind_pw);
    return (ldap_sasl_bind_s(dl->ld, dl->bind_dn, LDAP_SASL_SIMPLE, &cred,
			     (LDAPControl **) 0, (LDAPControl **) 0,
			     (struct berval **) 0));
}

static void dict_ldap_disconnect(DICT_LDAP *dl)
{
    if (dl->ld) {
	(void) ldap_unbind_ext_s(dl->ld, (LDAPControl **) 0, (LDAPControl **) 0);
	dl->ld = 0;
    }
}

/* dict_ldap_connect_host - dict_query_connect() callback: a connection to H */

static int dict_ldap_connect_host(void *ctx, DICT_QUERY_HOST *h)
{
    DICT_LDAP *dl = ctx;
    const char *url = dict_ldap_url(dl, h);
    const char *what = "cannot connect to";
    int     fd;
    int     rc;

    if ((rc = ldap_initialize(&dl->ld, url)) != LDAP_SUCCESS)
	dl->ld = 0;
    else if ((rc = dict_ldap_options(dl, url)) != LDAP_SUCCESS)
	what = "cannot set the options for";
    else if ((rc = ldap_connect(dl->ld)) != LDAP_SUCCESS)
	 /* void */ ;
    else if (dl->start_tls && strncasecmp(url, "ldaps://", 8) != 0
	     && (rc = ldap_start_tls_s(dl->ld, (LDAPControl **) 0,
				       (LDAPControl **) 0)) != LDAP_SUCCESS)
	what = "cannot start TLS with";
    else if (dl->bind == DICT_LDAP_BIND_YES && (rc = dict_ldap_bind(dl)) != LDAP_SUCCESS)
	what = "cannot bind to";
    else {
	if (ldap_get_option(dl->ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS && fd >= 0)
	    (void) close_on_exec(fd, 1);
	return (0);
    }
    msg_warn("dict_ldap: %s: %s %s: %s", dl->dict.name, what, url,
	     dict_ldap_why(dl, rc));
    dict_ldap_disconnect(dl);
    return (-1);
}

/* dict_ldap_connect - the connection kept, or a new one; 0, or -1 (warned) */

static int dict_ldap_connect(void *ctx)
{
    DICT_LDAP *dl = ctx;

    if (dl->ld)
	return (0);
    /* a server that went away must fail a write, not kill the process */
    (void) signal(SIGPIPE, SIG_IGN);
    dl->conn_host = dict_query_connect(&dl->hosts, dict_ldap_connect_host, dl);
    return (dl->conn_host < 0 ? -1 : 0);
}

/*
 * Searches and their results.  The functions below return 1 (done), 0
 * (failed, warned) or -1 (the connection is lost: warned; the caller
 * closes it when it has let go of the results).
 */

static int dict_ldap_entries(DICT_LDAP *dl, LDAPMessage *res, const char *key,
			             int depth);

/* dict_ldap_search - one search; *RES to be freed even when it failed */

static int dict_ldap_search(DICT_LDAP *dl, const char *base, int scope,
			            const char *filter, char **attrs,
			            LDAPMessage **res)
{
    struct timeval tv;

    tv.tv_sec = dl->timeout;
    tv.tv_usec = 0;
    *res = 0;
    return (ldap_search_ext_s(dl->ld, base, scope, filter, attrs, 0,
			      (LDAPControl **) 0, (LDAPControl **) 0, &tv,
			      dl->size_limit, res));
}

/* dict_ldap_failed - search RC under BASE failed: warned; 0, or -1: lost */

static int dict_ldap_failed(DICT_LDAP *dl, int rc, const char *base)
{
    int     lost = (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR
		    || rc == LDAP_TIMEOUT);

    msg_warn("dict_ldap: %s: search under \"%s\" failed%s: %s", dl->dict.name,
	     base, lost ? " (connection lost)" : "", dict_ldap_why(dl, rc));
    return (lost ? -1 : 0);
}

/* dict_ldap_kind - the kind of attribute ATTR ("name" or "name;options") */

static int dict_ldap_kind(const DICT_LDAP *dl, const char *attr)
{
    for (int i = 0; i < dl->attr_count; i++) {
	size_t  n = strlen(dl->attrs[i]);

	if (strncasecmp(attr, dl->attrs[i], n) == 0 && (attr[n] == 0 || attr[n] == ';'))
	    return (dl->kinds[i]);
    }
    return (DICT_LDAP_NONE);
}

/* dict_ldap_has - ENTRY has a value of an attribute of KIND */

static int dict_ldap_has(DICT_LDAP *dl, LDAPMessage *entry, int kind)
{
    struct berval **vals;
    int     found = 0;

    for (int i = 0; !found && i < dl->attr_count; i++) {
	if (dl->kinds[i] != kind)
	    continue;
	if ((vals = ldap_get_values_len(dl->ld, entry, dl->attrs[i])) != 0) {
	    found = (vals[0] != 0);
	    ldap_value_free_len(vals);
	}
    }
    return (found);
}

/* dict_ldap_use - what the values of an attribute of KIND are for */

static int dict_ldap_use(int kind, int terminal, int leaf)
{
    if (terminal)
	return (kind == DICT_LDAP_TERMINAL ? DICT_LDAP_ADD : DICT_LDAP_SKIP);
    switch (kind) {
    case DICT_LDAP_LEAF:
	return (leaf ? DICT_LDAP_ADD : DICT_LDAP_SKIP);
    case DICT_LDAP_RESULT:
	return (DICT_LDAP_ADD);
    case DICT_LDAP_SPECIAL:
	return (DICT_LDAP_RECURSE);
    }
    return (DICT_LDAP_SKIP);
}

/* dict_ldap_url_attrs - those of our attributes that URL names (free it) */

static char **dict_ldap_url_attrs(DICT_LDAP *dl, const LDAPURLDesc *url)
{
    char  **attrs = (char **) mymalloc((dl->attr_count + 1) * sizeof(char *));
    int     n = 0;

    for (int i = 0; i < dl->attr_count; i++) {
	for (char **ap = url->lud_attrs; *ap; ap++) {
	    if (strcasecmp(*ap, dl->attrs[i]) == 0) {
		attrs[n++] = dl->attrs[i];
		break;
	    }
	}
    }
    attrs[n] = 0;
    return (attrs);
}

/* dict_ldap_special - the entries that special VALUE (a DN or URL) names */

static int dict_ldap_special(DICT_LDAP *dl, const char *attr, const char *value,
			             const char *key, int depth)
{
    LDAPURLDesc *url = 0;
    LDAPMessage *res;
    char  **attrs = dl->attrs;
    const char *base = value;
    const char *filter = DICT_LDAP_ANY;
    int     scope = LDAP_SCOPE_BASE;
    int     status;
    int     rc;

    if (depth >= dl->recursion_limit) {
	msg_warn("dict_ldap: %s: recursion limit exceeded for special attribute"
		 " %s=%s", dl->dict.name, attr, value);
	return (0);
    }
    if (ldap_is_ldap_url(value)) {
	if (ldap_url_parse(value, &url) != LDAP_URL_SUCCESS) {
	    msg_warn("dict_ldap: %s: malformed URL %s", dl->dict.name, value);
	    return (0);
	}
	base = url->lud_dn ? url->lud_dn : "";
	filter = url->lud_filter ? url->lud_filter : DICT_LDAP_ANY;
	scope = url->lud_scope == LDAP_SCOPE_DEFAULT ? LDAP_SCOPE_BASE : url->lud_scope;
	if (url->lud_attrs && url->lud_attrs[0])
	    attrs = dict_ldap_url_attrs(dl, url);
    }
    res = 0;
    if (attrs[0] == 0) {			/* the URL wants none of ours */
	status = 1;
    } else if ((rc = dict_ldap_search(dl, base, scope, filter, attrs, &res))
	       == LDAP_SUCCESS) {
	status = dict_ldap_entries(dl, res, key, depth + 1);
    } else if (rc == LDAP_NO_SUCH_OBJECT) {
	msg_warn("dict_ldap: %s: DN %s not found, skipping", dl->dict.name, base);
	status = 1;
    } else {
	status = dict_ldap_failed(dl, rc, base);
    }
    if (res)
	ldap_msgfree(res);
    if (attrs != dl->attrs)
	myfree(attrs);
    if (url)
	ldap_free_urldesc(url);
    return (status);
}

/* dict_ldap_values - the values of ATTR in ENTRY, used as USE says */

static int dict_ldap_values(DICT_LDAP *dl, LDAPMessage *entry, const char *attr,
			            int use, const char *key, int depth)
{
    struct berval **vals;
    int     status = 1;

    if (use == DICT_LDAP_SKIP || (vals = ldap_get_values_len(dl->ld, entry, attr)) == 0)
	return (1);
    for (int i = 0; status > 0 && vals[i] != 0; i++) {
	if (use == DICT_LDAP_RECURSE)
	    status = dict_ldap_special(dl, attr, vals[i]->bv_val, key, depth);
	else if (dict_query_row(&dl->query, vals[i]->bv_val, key) < 0)
	    status = 0;				/* expansion_limit */
    }
    ldap_value_free_len(vals);
    return (status);
}

/* dict_ldap_entry - the values of one entry (terminal, leaf: see above) */

static int dict_ldap_entry(DICT_LDAP *dl, LDAPMessage *entry, const char *key,
			           int depth)
{
    int     terminal = dict_ldap_has(dl, entry, DICT_LDAP_TERMINAL);
    int     leaf = !terminal && !dict_ldap_has(dl, entry, DICT_LDAP_SPECIAL);
    BerElement *ber = 0;
    char   *attr;
    int     status = 1;

    for (attr = ldap_first_attribute(dl->ld, entry, &ber); attr != 0;
	 attr = ldap_next_attribute(dl->ld, entry, ber)) {
	status = dict_ldap_values(dl, entry, attr,
				  dict_ldap_use(dict_ldap_kind(dl, attr), terminal, leaf),
				  key, depth);
	ldap_memfree(attr);
	if (status <= 0)
	    break;
    }
    if (ber)
	ber_free(ber, 0);
    return (status);
}

static int dict_ldap_entries(DICT_LDAP *dl, LDAPMessage *res, const char *key,
			             int depth)
{
    LDAPMessage *entry;
    int     count = 0;
    int     status = 1;

    for (entry = ldap_first_entry(dl->ld, res); status > 0 && entry != 0;
	 entry = ldap_next_entry(dl->ld, entry)) {
	if (dl->size_limit > 0 && ++count > dl->size_limit) {
	    msg_warn("dict_ldap: %s: size limit (%d) exceeded for key '%s'",
		     dl->dict.name, dl->size_limit, key);
	    return (0);
	}
	status = dict_ldap_entry(dl, entry, key, depth);
    }
    return (status);
}

/* dict_ldap_run - dict_query_server_lookup() callback: the search for KEY */

static int dict_ldap_run(void *ctx, const char *key)
{
    DICT_LDAP *dl = ctx;
    LDAPMessage *res = 0;
    int     status;
    int     rc;

    vstring_reset(dl->base_buf);
    if (!dict_query_expand_template(dl->search_base, key, dl->base_buf,
				    dict_query_ldap_dn_quote, 0))
	return (1);				/* the key lacks a part */
    rc = dict_ldap_search(dl, STR(dl->base_buf), dl->scope, STR(dl->query.query_buf),
			  dl->attrs, &res);
    if (rc == LDAP_SUCCESS)
	status = dict_ldap_entries(dl, res, key, 1);
    else if (rc == LDAP_NO_SUCH_OBJECT && dl->dynamic_base)
	status = 1;				/* no such base: not found */
    else
	status = dict_ldap_failed(dl, rc, STR(dl->base_buf));
    if (res)
	ldap_msgfree(res);
    if (status < 0) {
	dict_query_host_failed(&dl->hosts, dl->conn_host);
	dict_ldap_disconnect(dl);
    }
    return (status);
}

static const char *dict_ldap_lookup(DICT *dict, const char *key)
{
    static const DICT_QUERY_SERVER server = {
	dict_ldap_connect, dict_query_ldap_filter_quote, dict_ldap_run,
    };
    DICT_LDAP *dl = (DICT_LDAP *) dict;

    if (!utf8_valid(key, strlen(key))) {	/* as Postfix: not looked up */
	dict->error = 0;
	return (0);
    }
    return (dict_query_server_lookup(&dl->query, key, &server, dl));
}

static int dict_ldap_close(DICT *dict)
{
    DICT_LDAP *dl = (DICT_LDAP *) dict;

    dict_ldap_disconnect(dl);
    dict_query_hosts_free(&dl->hosts);
    for (int i = 0; i < dl->attr_count; i++)
	myfree(dl->attrs[i]);
    if (dl->attrs)
	myfree(dl->attrs);
    if (dl->kinds)
	myfree(dl->kinds);
    for (size_t i = 0; i < DICT_LDAP_TLS_COUNT; i++)
	if (dl->tls[i])
	    myfree(dl->tls[i]);
    if (dl->search_base)
	myfree(dl->search_base);
    if (dl->bind_dn)
	myfree(dl->bind_dn);
    if (dl->bind_pw)
	myfree(dl->bind_pw);
    vstring_free(dl->base_buf);
    vstring_free(dl->url_buf);
    vstring_free(dl->why_buf);
    dict_query_free(&dl->query);
    dict_free(dict);
    return (0);
}

/* dict_ldap_setup - buffers, then the settings */

static int dict_ldap_setup(DICT *dict, const DICT_QUERY_CF *cf)
{
    DICT_LDAP *dl = (DICT_LDAP *) dict;

    dl->base_buf = vstring_alloc(100);
    dl->url_buf = vstring_alloc(100);
    dl->why_buf = vstring_alloc(100);
    return (dict_ldap_configure(dl, cf));
}

DICT   *dict_ldap_open(const char *type, const char *name, int flags)
{
    static const DICT_QUERY_OPS ops = {
	sizeof(DICT_LDAP), offsetof(DICT_LDAP, query),
	dict_ldap_lookup, dict_ldap_close, dict_ldap_names, dict_ldap_setup,
    };

    return (dict_query_open(type, name, flags, &ops));
}
