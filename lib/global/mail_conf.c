/*
 * mail_conf.c - main.cf reading, parameter lookup and $name expansion.
 *
 * Implements lib/global/mail_conf.h.  Every known parameter (mail_params[]) and
 * every name set in main.cf or by -o lives in one small hash table.  An
 * entry holds the raw value set in main.cf/-o (NULL: use the default) and
 * a cache of the expanded value.  Expansion follows Postfix's mac_expand:
 * $name ${name} $(name) ${name?text} ${name:text}, the 3.x brace forms
 * ${name?{text}} ${name?{t1}:{t2}} ${name:{text}}, and $$ for a '$'.
 *
 * Strings handed out by conf_str()/conf_raw() stay valid for the life of
 * the process: a value replaced by a reload, -o or mail_conf_update() is
 * kept on a "retired" list instead of being freed, because callers may
 * still hold the old pointer.  Reloads are rare, so this is small.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define CONF_HASH_SIZE		256
#define CONF_MAX_NESTING	100	/* Postfix's mac_expand limit */
#define CONF_READ_CHUNK		65536	/* bytes per vstream_get_line() */

typedef struct CONF_ENTRY {
    char   *name;
    const MAIL_PARAM *param;		/* NULL: only set in main.cf or -o */
    char   *value;			/* raw value set, NULL = not set */
    char   *computed;			/* default set at run time, or NULL */
    int     in_order;			/* listed in conf_order[] */
    char   *cache;			/* expanded value, valid if cache_gen */
    unsigned cache_gen;
    struct CONF_ENTRY *next;		/* hash chain */
} CONF_ENTRY;

static CONF_ENTRY *conf_hash[CONF_HASH_SIZE];
static int conf_ready;
static unsigned conf_gen = 1;		/* bumped on every change */

static CONF_ENTRY **conf_order;		/* set names, in main.cf order */
static size_t conf_order_len;
static size_t conf_order_cap;

static char **conf_overrides;		/* "name=value" from -o */
static size_t conf_override_len;

static char **conf_retired;		/* replaced strings, never freed */
static size_t conf_retired_len;
static size_t conf_retired_cap;

static char *conf_dir_arg;		/* from mail_conf_set_dir() */
static char *conf_host_default;		/* computed myhostname default */
static char *conf_domain_current;	/* computed mydomain (from myhostname) */

/* conf_retire - keep a replaced string alive (see the file comment) */

static void conf_retire(char *str)
{
    if (str == 0)
	return;
    if (conf_retired_len == conf_retired_cap) {
	conf_retired_cap = conf_retired_cap ? 2 * conf_retired_cap : 64;
	conf_retired = myrealloc(conf_retired,
				 conf_retired_cap * sizeof(*conf_retired));
    }
    conf_retired[conf_retired_len++] = str;
}

static unsigned conf_hash_name(const char *name)
{
    unsigned h = 5381;

    while (*name)
	h = h * 33 + (unsigned char) *name++;
    return (h % CONF_HASH_SIZE);
}

static CONF_ENTRY *conf_find_raw(const char *name)
{
    CONF_ENTRY *e;

    for (e = conf_hash[conf_hash_name(name)]; e; e = e->next)
	if (strcmp(e->name, name) == 0)
	    return (e);
    return (0);
}

static CONF_ENTRY *conf_add(const char *name, const MAIL_PARAM *param)
{
    CONF_ENTRY *e = mycalloc(1, sizeof(*e));
    unsigned h = conf_hash_name(name);

    e->name = mystrdup(name);
    e->param = param;
    e->next = conf_hash[h];
    conf_hash[h] = e;
    return (e);
}

/* conf_init - enter the parameter table once */

static void conf_init(void)
{
    const MAIL_PARAM *p;

    if (conf_ready)
	return;
    conf_ready = 1;
    for (p = mail_params; p->name; p++)
	if (conf_find_raw(p->name) == 0)
	    conf_add(p->name, p);
}

static CONF_ENTRY *conf_find(const char *name)
{
    conf_init();
    return (conf_find_raw(name));
}

const MAIL_PARAM *mail_param_find(const char *name)
{
    CONF_ENTRY *e = conf_find(name);

    return (e ? e->param : 0);
}

/* conf_set - set the raw value of NAME, keeping its first position */

static void conf_set(const char *name, const char *value)
{
    CONF_ENTRY *e = conf_find(name);

    if (e == 0)
	e = conf_add(name, 0);
    conf_retire(e->value);
    e->value = mystrdup(value);
    if (!e->in_order) {
	if (conf_order_len == conf_order_cap) {
	    conf_order_cap = conf_order_cap ? 2 * conf_order_cap : 64;
	    conf_order = myrealloc(conf_order,
				   conf_order_cap * sizeof(*conf_order));
	}
	conf_order[conf_order_len++] = e;
	e->in_order = 1;
    }
    conf_gen++;
}

/* conf_reset - forget every value set in main.cf, -o or by update */

static void conf_reset(void)
{
    size_t  i;

    for (i = 0; i < conf_order_len; i++) {
	conf_retire(conf_order[i]->value);
	conf_order[i]->value = 0;
	conf_order[i]->in_order = 0;
    }
    conf_order_len = 0;
    conf_gen++;
}

/* Configuration directory; mail_conf_set_dir(NULL) forgets a -c DIR */

void    mail_conf_set_dir(const char *dir)
{
    conf_retire(conf_dir_arg);
    conf_dir_arg = dir ? mystrdup(dir) : 0;
}

const char *mail_conf_dir(void)
{
    const char *env;

    if (conf_dir_arg)
	return (conf_dir_arg);
    if ((env = getenv("MAIL_CONFIG")) != 0 && *env)
	return (env);
    return (DEF_CONFIG_DIR);
}

void    mail_conf_dir_absolute(void)
{
    char   *abs = realpath(mail_conf_dir(), (char *) 0);

    if (abs == 0)
	msg_fatal("configuration directory %s: %m", mail_conf_dir());
    mail_conf_set_dir(abs);
    free(abs);
}

/* Computed defaults: myhostname and mydomain */

static const char *conf_default_hostname(void)
{
    char    host[256];

    if (conf_host_default)
	return (conf_host_default);
    if (gethostname(host, sizeof(host) - 1) < 0)
	msg_fatal("gethostname: %m");
    host[sizeof(host) - 1] = 0;
    if (host[0] == 0)
	msg_fatal("gethostname: empty host name");
    if (strchr(host, '.') != 0) {
	conf_host_default = mystrdup(host);
    } else {
	VSTRING *buf = vstring_alloc(64);

	vstring_sprintf(buf, "%s.localdomain", host);
	conf_host_default = vstring_export(buf);
    }
    return (conf_host_default);
}

static const char *conf_domain_of(const char *host)
{
    const char *dot = strchr(host, '.');

    return (dot && dot[1] ? dot + 1 : "localdomain");
}

/*
 * conf_refers_to - does the raw value of NAME refer to TARGET, directly or
 * through the names it refers to?  Conservative: every "$name", "${name"
 * and "$(name" counts, whatever the condition around it, and a walk that
 * uses up its BUDGET of names answers yes.
 */
static int conf_refers_to(const char *name, const char *target, int *budget)
{
    const char *raw = conf_raw(name);
    const char *cp;

    if (raw == 0)
	return (0);
    if (--*budget < 0)
	return (1);
    for (cp = strchr(raw, '$'); cp; cp = strchr(cp, '$')) {
	char    ref[100];
	size_t  len;

	cp++;
	if (*cp == '{' || *cp == '(')
	    cp++;
	len = strspn(cp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (len == 0 || len >= sizeof(ref))
	    continue;
	memcpy(ref, cp, len);
	ref[len] = 0;
	if (strcmp(ref, target) == 0 || conf_refers_to(ref, target, budget))
	    return (1);
    }
    return (0);
}

/*
 * conf_current_domain - mydomain derived from the current myhostname.  When
 * myhostname depends on mydomain (directly or through other names), the
 * system host name is used instead, so the two cannot feed each other.
 */
static const char *conf_current_domain(void)
{
    const char *domain;
    int     budget = 1000;

    if (conf_refers_to("myhostname", "mydomain", &budget))
	return (conf_domain_of(conf_default_hostname()));
    domain = conf_domain_of(conf_str("myhostname"));
    if (conf_domain_current == 0 || strcmp(conf_domain_current, domain) != 0) {
	char   *copy = mystrdup(domain);

	conf_retire(conf_domain_current);
	conf_domain_current = copy;
    }
    return (conf_domain_current);
}

const char *conf_default(const char *name)
{
    CONF_ENTRY *e = conf_find(name);
    const MAIL_PARAM *p = e ? e->param : 0;

    if (p == 0)
	return (0);
    if (e->computed)
	return (e->computed);
    if (p->defval)
	return (p->defval);
    if (strcmp(name, "myhostname") == 0)
	return (conf_default_hostname());
    if (strcmp(name, "mydomain") == 0)
	return (conf_domain_of(conf_default_hostname()));
    return ("");
}

/* conf_entry_raw - the raw value in effect for an entry, NULL if none */

static const char *conf_entry_raw(CONF_ENTRY *e)
{
    if (e->value)
	return (e->value);
    if (e->param == 0)
	return (0);
    if (e->computed)
	return (e->computed);
    if (e->param->defval)
	return (e->param->defval);
    if (strcmp(e->name, "mydomain") == 0)
	return (conf_current_domain());
    return (conf_default(e->name));
}

const char *conf_raw(const char *name)
{
    CONF_ENTRY *e = conf_find(name);

    return (e ? conf_entry_raw(e) : 0);
}

int     conf_is_set(const char *name)
{
    CONF_ENTRY *e = conf_find(name);

    return (e != 0 && e->value != 0);
}

/* Expansion */

/* A scope: names looked up before the parameter table (postconf -x for master.cf) */
typedef struct CONF_SCOPE {
    const char *(*lookup) (const char *name, void *ctx);
    void   *ctx;
} CONF_SCOPE;

static void conf_expand_text(VSTRING *out, const char *text, size_t len,
			             int level, const CONF_SCOPE *scope);

int     conf_is_name_char(int ch)
{
    return (isalnum((unsigned char) ch) || ch == '_');
}

/* conf_match_close - the CLOSE that matches an OPEN already passed */

const char *conf_match_close(const char *p, int open, int close)
{
    int     depth = 1;

    for (; *p; p++) {
	if (*p == open)
	    depth++;
	else if (*p == close && --depth == 0)
	    return (p);
    }
    return (0);
}

/* conf_lookup - append the expanded value of NAME; 1 if defined */

static int conf_lookup(VSTRING *out, const char *name, size_t len, int level,
		               const CONF_SCOPE *scope)
{
    char   *key = mystrndup(name, len);
    const char *raw = scope ? scope->lookup(key, scope->ctx) : 0;
    CONF_ENTRY *e;

    if (raw == 0 && (e = conf_find(key)) != 0)
	raw = conf_entry_raw(e);
    if (level > CONF_MAX_NESTING)
	msg_fatal("unreasonable macro call nesting: \"%s\"", key);
    myfree(key);
    if (raw == 0)
	return (0);
    conf_expand_text(out, raw, strlen(raw), level + 1, scope);
    return (1);
}

static NORETURN conf_syntax(const char *what, const char *start)
{
    msg_fatal("%s/main.cf: %s: \"%s\"", mail_conf_dir(), what, start);
}

/*
 * conf_expand_ref - expand the ${...} or $(...) at START ('$' then OPEN);
 * returns the text after the closing bracket.
 */
static const char *conf_expand_ref(VSTRING *out, const char *start, int level,
				           const CONF_SCOPE *scope)
{
    int     open = start[1];
    int     close = open == '{' ? '}' : ')';
    const char *name = start + 2;
    const char *q = name;
    const char *t1 = 0, *t1_end = 0, *t2 = 0, *t2_end = 0;
    VSTRING *val;
    size_t  name_len;
    int     op;

    while (conf_is_name_char(*q))
	q++;
    name_len = q - name;
    if (*q == 0)
	conf_syntax("truncated macro reference", start);
    if (q == name)
	conf_syntax("empty macro name", start);
    if (*q == close) {
	conf_lookup(out, name, q - name, level, scope);
	return (q + 1);
    }
    if (*q != '?' && *q != ':')
	conf_syntax("attribute name syntax error", start);
    op = *q++;
    if (*q == '{') {
	t1 = q + 1;
	if ((t1_end = conf_match_close(t1, '{', '}')) == 0)
	    conf_syntax("truncated macro reference", start);
	q = t1_end + 1;
	if (op == '?' && *q == ':') {
	    q++;
	    if (*q == '{') {
		t2 = q + 1;
		if ((t2_end = conf_match_close(t2, '{', '}')) == 0)
		    conf_syntax("truncated macro reference", start);
		q = t2_end + 1;
	    } else {
		t2 = q;
		if ((t2_end = conf_match_close(t2, open, close)) == 0)
		    conf_syntax("truncated macro reference", start);
		q = t2_end;
	    }
	}
	while (isspace((unsigned char) *q))
	    q++;
	if (*q == 0)
	    conf_syntax("truncated macro reference", start);
	if (*q != close)
	    conf_syntax("\":\" or closing bracket expected", start);
    } else {
	t1 = q;
	if ((t1_end = conf_match_close(t1, open, close)) == 0)
	    conf_syntax("truncated macro reference", start);
	q = t1_end;
    }
    val = vstring_alloc(64);
    conf_lookup(val, name, name_len, level, scope);
    if ((op == '?') == (LEN(val) > 0))
	conf_expand_text(out, t1, t1_end - t1, level + 1, scope);
    else if (t2)
	conf_expand_text(out, t2, t2_end - t2, level + 1, scope);
    vstring_free(val);
    return (q + 1);
}

static void conf_expand_text(VSTRING *out, const char *text, size_t len,
			             int level, const CONF_SCOPE *scope)
{
    char   *copy = mystrndup(text, len);	/* NUL-terminated for parsing */
    const char *p = copy;
    const char *q;

    while (*p) {
	if (*p != '$') {
	    q = strchr(p, '$');
	    if (q == 0)
		q = p + strlen(p);
	    vstring_memcat(out, p, q - p);
	    p = q;
	} else if (p[1] == '$') {
	    vstring_addch(out, '$');
	    p += 2;
	} else if (p[1] == '{' || p[1] == '(') {
	    p = conf_expand_ref(out, p, level, scope);
	} else if (conf_is_name_char(p[1])) {
	    for (q = p + 1; conf_is_name_char(*q); q++)
		 /* void */ ;
	    conf_lookup(out, p + 1, q - p - 1, level, scope);
	    p = q;
	} else {
	    conf_syntax("empty macro name", p);
	}
    }
    myfree(copy);
}

VSTRING *conf_expand(VSTRING *result, const char *text)
{
    vstring_reset(result);
    conf_expand_text(result, text, strlen(text), 0, 0);
    return (result);
}

VSTRING *conf_expand_scoped(VSTRING *result, const char *text,
			            const char *(*lookup) (const char *, void *),
			            void *ctx)
{
    CONF_SCOPE scope;

    scope.lookup = lookup;
    scope.ctx = ctx;
    vstring_reset(result);
    conf_expand_text(result, text, strlen(text), 0, &scope);
    return (result);
}

/* Typed access */

static CONF_ENTRY *conf_need(const char *name)
{
    CONF_ENTRY *e = conf_find(name);

    if (e == 0 || conf_entry_raw(e) == 0)
	msg_panic("unknown parameter %s", name);
    return (e);
}

const char *conf_str(const char *name)
{
    CONF_ENTRY *e = conf_need(name);
    VSTRING *buf;

    if (e->cache && e->cache_gen == conf_gen)
	return (e->cache);
    buf = vstring_alloc(64);
    conf_expand(buf, conf_entry_raw(e));
    if (e->cache == 0 || strcmp(e->cache, STR(buf)) != 0) {
	conf_retire(e->cache);
	e->cache = vstring_export(buf);
    } else {
	vstring_free(buf);
    }
    e->cache_gen = conf_gen;
    return (e->cache);
}

static NORETURN conf_bad(const char *what, const char *name, const char *value)
{
    msg_fatal("%s/main.cf: bad %s configuration: %s = %s",
	      mail_conf_dir(), what, name, value);
}

/* conf_check_range - enforce the table's min/max (0 = no bound) */

static void conf_check_range(CONF_ENTRY *e, long val)
{
    const MAIL_PARAM *p = e->param;

    if (p == 0)
	return;
    if (p->min && val < p->min)
	msg_fatal("%s/main.cf: invalid %s parameter value %ld < %ld",
		  mail_conf_dir(), e->name, val, p->min);
    if (p->max && val > p->max)
	msg_fatal("%s/main.cf: invalid %s parameter value %ld > %ld",
		  mail_conf_dir(), e->name, val, p->max);
}

/* conf_parse_long - whole-string decimal number, 0 on junk or overflow */

static int conf_parse_long(const char *value, long *result)
{
    char   *end;
    long    val;

    errno = 0;
    val = strtol(value, &end, 10);
    if (end == value || errno != 0)
	return (0);
    while (isspace((unsigned char) *end))
	end++;
    if (*end)
	return (0);
    *result = val;
    return (1);
}

long    conf_long(const char *name)
{
    CONF_ENTRY *e = conf_need(name);
    const char *value = conf_str(name);
    long    val;

    if (!conf_parse_long(value, &val))
	conf_bad("numerical", name, value);
    conf_check_range(e, val);
    return (val);
}

int     conf_int(const char *name)
{
    CONF_ENTRY *e = conf_need(name);
    const char *value = conf_str(name);
    long    val;

    if (!conf_parse_long(value, &val) || val < INT_MIN || val > INT_MAX)
	conf_bad("numerical", name, value);
    conf_check_range(e, val);
    return ((int) val);
}

int     conf_parse_bool(const char *value, int *result)
{
    if (strcasecmp(value, "yes") == 0) {
	*result = 1;
	return (1);
    }
    if (strcasecmp(value, "no") == 0) {
	*result = 0;
	return (1);
    }
    return (0);
}

int     conf_bool(const char *name)
{
    const char *value = conf_str(name);
    int     val;

    if (!conf_parse_bool(value, &val))
	conf_bad("boolean", name, value);
    return (val);
}

int     conf_parse_time(const char *value, char defunit, long *result)
{
    char   *end;
    long    val;
    long    mult;
    int     unit;

    errno = 0;
    val = strtol(value, &end, 10);
    if (end == value || errno != 0 || val < 0)
	return (0);
    unit = *end ? *end++ : (defunit ? defunit : 's');
    if (*end)
	return (0);
    switch (unit) {
    case 's':
	mult = 1;
	break;
    case 'm':
	mult = 60;
	break;
    case 'h':
	mult = 3600;
	break;
    case 'd':
	mult = 86400;
	break;
    case 'w':
	mult = 604800;
	break;
    default:
	return (0);
    }
    if (val > INT_MAX / mult)
	return (0);
    *result = val * mult;
    return (1);
}

int     conf_time(const char *name)
{
    CONF_ENTRY *e = conf_need(name);
    const char *value = conf_str(name);
    long    val;

    if (!conf_parse_time(value, e->param ? e->param->defunit : 's', &val))
	msg_fatal("%s/main.cf: parameter %s: bad time value or unit: %s",
		  mail_conf_dir(), name, value);
    conf_check_range(e, val);
    return ((int) val);
}

/* Reading main.cf */

/* conf_read_line - one physical line without '\n' into LINE; 0 at EOF */

static int conf_read_line(VSTREAM *fp, VSTRING *line, VSTRING *chunk)
{
    int     last;
    int     got = 0;

    vstring_reset(line);
    while ((last = vstream_get_line(fp, chunk, CONF_READ_CHUNK)) != VSTREAM_EOF) {
	got = 1;
	if (last == '\n') {
	    vstring_memcat(line, STR(chunk), LEN(chunk) - 1);
	    break;
	}
	vstring_memcat(line, STR(chunk), LEN(chunk));
    }
    if (vstream_error(fp))
	msg_fatal("read %s/main.cf: %m", mail_conf_dir());
    return (got);
}

const char *conf_split_nameval(const char *text, VSTRING *name, VSTRING *value)
{
    const char *p = text;
    const char *name_start;
    const char *name_end;
    const char *end;

    while (isspace((unsigned char) *p))
	p++;
    if (*p == 0 || *p == '=')
	return ("missing attribute name");
    for (name_start = p; *p && !isspace((unsigned char) *p) && *p != '='; p++)
	 /* void */ ;
    name_end = p;
    while (isspace((unsigned char) *p))
	p++;
    if (*p != '=')
	return ("missing '=' after attribute name");
    for (p++; isspace((unsigned char) *p); p++)
	 /* void */ ;
    for (end = p + strlen(p); end > p && isspace((unsigned char) end[-1]); end--)
	 /* void */ ;
    vstring_strncpy(name, name_start, name_end - name_start);
    vstring_strncpy(value, p, end - p);
    return (0);
}

/*
 * conf_parse_setting - "name = value" from one logical line; a name set
 * before in this file with another value is warned about, as Postfix does.
 */
static void conf_parse_setting(const char *path, int lineno, const char *text)
{
    VSTRING *name = vstring_alloc(64);
    VSTRING *value = vstring_alloc(64);
    const char *err;
    CONF_ENTRY *e;

    if ((err = conf_split_nameval(text, name, value)) != 0)
	msg_fatal("%s, line %d: %s: \"%s\"", path, lineno, err, text);
    if ((e = conf_find(STR(name))) != 0 && e->value != 0
	&& strcmp(e->value, STR(value)) != 0)
	msg_warn("%s, line %d: overriding earlier entry: %s=%s",
		 path, lineno, STR(name), e->value);
    conf_set(STR(name), STR(value));
    vstring_free(name);
    vstring_free(value);
}

/* conf_blank_line - empty, all white space, or a comment */

static int conf_blank_line(const char *line)
{
    while (isspace((unsigned char) *line))
	line++;
    return (*line == 0 || *line == '#');
}

/* conf_flush_logical - parse a complete logical line (nothing if empty) */

static void conf_flush_logical(const char *path, int lineno, VSTRING *logical)
{
    if (LEN(logical) == 0)
	return;
    if (isspace((unsigned char) STR(logical)[0]))
	msg_warn("%s: logical line must not start with whitespace: \"%.30s%s\"",
		 path, STR(logical), LEN(logical) > 30 ? "..." : "");
    else
	conf_parse_setting(path, lineno, STR(logical));
    vstring_reset(logical);
}

/*
 * conf_read_file - parse main.cf as Postfix's readllines() does: a logical
 * line starts at column 0 and takes every following line that starts with
 * white space, joined as they are (without the newlines); blank and
 * comment lines are skipped everywhere, also inside a logical line.
 */
static void conf_read_file(const char *path, VSTREAM *fp)
{
    VSTRING *line = vstring_alloc(256);
    VSTRING *chunk = vstring_alloc(256);
    VSTRING *logical = vstring_alloc(256);
    int     lineno = 0;
    int     start_line = 0;

    while (conf_read_line(fp, line, chunk)) {
	lineno++;
	if (conf_blank_line(STR(line)))
	    continue;
	if (isspace((unsigned char) STR(line)[0])) {
	    vstring_strcat(logical, STR(line));
	    continue;
	}
	conf_flush_logical(path, start_line, logical);
	vstring_strcpy(logical, STR(line));
	start_line = lineno;
    }
    conf_flush_logical(path, start_line, logical);
    vstring_free(line);
    vstring_free(chunk);
    vstring_free(logical);
}

/* conf_apply_override - one "name=value" */

static void conf_apply_override(const char *nv)
{
    const char *eq = strchr(nv, '=');
    const char *end;
    const char *val;
    char   *name;
    char   *value;
    size_t  len;

    if (eq == 0)
	msg_fatal("bad parameter override \"%s\": missing '='", nv);
    for (end = eq; end > nv && isspace((unsigned char) end[-1]); end--)
	 /* void */ ;
    while (isspace((unsigned char) *nv))
	nv++;
    if (end <= nv)
	msg_fatal("bad parameter override \"%s\": missing name", eq);
    for (val = eq + 1; isspace((unsigned char) *val); val++)
	 /* void */ ;
    name = mystrndup(nv, end - nv);
    value = mystrdup(val);
    for (len = strlen(value); len > 0 && isspace((unsigned char) value[len - 1]); len--)
	value[len - 1] = 0;
    conf_set(name, value);
    myfree(name);
    myfree(value);
}

void    mail_conf_read(int flags)
{
    VSTRING *path = vstring_alloc(100);
    const char *dir = mail_conf_dir();
    VSTREAM *fp;
    size_t  i;

    conf_init();
    conf_reset();
    vstring_sprintf(path, "%s/main.cf", dir);
    if ((fp = vstream_open(STR(path), O_RDONLY, 0)) == 0) {
	if (errno != ENOENT || !(flags & MAIL_CONF_MISSING_OK))
	    msg_fatal("open %s: %m", STR(path));
    } else {
	conf_read_file(STR(path), fp);
	(void) vstream_close(fp);
    }
    if (strcmp(dir, DEF_CONFIG_DIR) != 0)
	conf_set("config_directory", dir);
    for (i = 0; i < conf_override_len; i++)
	conf_apply_override(conf_overrides[i]);
    vstring_free(path);
}

void    mail_conf_override(const char *name_eq_value)
{
    conf_init();
    conf_apply_override(name_eq_value);
    conf_overrides = myrealloc(conf_overrides,
			   (conf_override_len + 1) * sizeof(*conf_overrides));
    conf_overrides[conf_override_len++] = mystrdup(name_eq_value);
}

void    mail_conf_update(const char *name, const char *value)
{
    conf_set(name, value);
}

void    mail_conf_set_default(const char *name, const char *value)
{
    CONF_ENTRY *e = conf_find(name);

    if (e == 0 || e->param == 0)
	msg_panic("mail_conf_set_default: unknown parameter %s", name);
    conf_retire(e->computed);
    e->computed = mystrdup(value);
    conf_gen++;
}

void    conf_walk(void (*fn) (const char *name, const char *raw, void *ctx),
		          void *ctx)
{
    size_t  i;

    conf_init();
    for (i = 0; i < conf_order_len; i++)
	fn(conf_order[i]->name, conf_order[i]->value, ctx);
}

void    mail_conf_syslog(void)
{
    msg_syslog_name(conf_str("syslog_name"));
    if (msg_syslog_facility(conf_str("syslog_facility")) < 0)
	msg_warn("unknown syslog_facility value \"%s\": using \"mail\"",
		 conf_str("syslog_facility"));
}
