/*
 * conf_check.c - check main.cf without dying (conf_check.h); master.cf is
 * conf_check_master.c's.
 *
 * The $name syntax is checked by a scanner that follows mail_conf.c's
 * expansion rule for rule (the same reasons in the same words), so that a
 * value it accepts never makes conf_expand() fatal.  Before a value is
 * expanded, every name it refers to is checked the same way, depth first,
 * with the result kept per name: a syntax error anywhere below, or a name
 * that refers back to itself, keeps the value from being expanded.
 *
 * forward_path is not scanned: local expands its $names ($home, $user, ...)
 * itself at delivery time, as Postfix's local does.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <limits.h>
#include "conf_check.h"
#include "msg.h"
#include "mymalloc.h"

#define CC_MAX_NESTING	100		/* mail_conf.c's limit */

/* Expansion check results, kept per name in cc->state */
#define CC_BUSY		1		/* being checked: a loop if met again */
#define CC_OK		2
#define CC_BAD		3		/* a syntax error here or below */
#define CC_LOOP		4		/* refers back to itself, here or below */
#define CC_LOOP_SAID	5		/* the same, and reported */

/* How deep expanding a name goes is kept with its state: OK | (depth + 1) << 3 */
#define CC_STATE(v)	((int) ((v) & 7))
#define CC_DEPTH(v)	((int) ((v) >> 3) - 1)
#define CC_OK_DEPTH(d)	(CC_OK | ((uintptr_t) ((d) + 1) << 3))

/* A dependency that mail_conf.c expands on its own, not nested (mydomain) */
#define CC_LEVEL_APART	(-1)

/*
 * A list of names: the refs of one value, with the nesting level of
 * conditions each is found at (as many levels deeper as it is expanded),
 * or the first-seen order of all refs.
 */
typedef struct CC_NAMES {
    char  **item;
    int    *level;
    int     len;
    int     cap;
} CC_NAMES;

/* The state of one scan: where refs go, the first syntax error */
typedef struct CC_SCAN {
    CC_NAMES *refs;
    int     level;			/* inside how many conditions */
    const char *why;			/* NULL, or the syntax error */
    char   *where;			/* the text from the error on */
} CC_SCAN;

/* Parameters whose $names a daemon expands itself, not mail_conf.c */
static const char *cc_raw_params[] = {"forward_path", 0};

/*
 * Postfix's per-transport parameters, SERVICE_SUFFIX for a master.cf
 * service: what qmgr and spawn read (the rest Postfix knows; accepted).
 */
static const struct {
    const char *suffix;
    int     type;
}       cc_service_params[] = {
    {"delivery_slot_cost", PARAM_INT},
    {"delivery_slot_discount", PARAM_INT},
    {"delivery_slot_loan", PARAM_INT},
    {"destination_concurrency_failed_cohort_limit", PARAM_INT},
    {"destination_concurrency_limit", PARAM_INT},
    {"destination_concurrency_negative_feedback", PARAM_STR},
    {"destination_concurrency_positive_feedback", PARAM_STR},
    {"destination_rate_delay", PARAM_TIME},
    {"destination_recipient_limit", PARAM_INT},
    {"extra_recipient_limit", PARAM_INT},
    {"initial_destination_concurrency", PARAM_INT},
    {"minimum_delivery_slots", PARAM_INT},
    {"recipient_limit", PARAM_INT},
    {"recipient_refill_delay", PARAM_TIME},
    {"recipient_refill_limit", PARAM_INT},
    {"time_limit", PARAM_TIME},
    {0, 0},
};

/* Name lists */

static void cc_names_add(CC_NAMES *names, const char *name, size_t len,
			         int level)
{
    if (names->len == names->cap) {
	names->cap = names->cap ? 2 * names->cap : 8;
	names->item = myrealloc(names->item, names->cap * sizeof(char *));
	names->level = myrealloc(names->level, names->cap * sizeof(int));
    }
    names->level[names->len] = level;
    names->item[names->len++] = mystrndup(name, len);
}

static void cc_names_free(CC_NAMES *names)
{
    for (int i = 0; i < names->len; i++)
	myfree(names->item[i]);
    if (names->item) {
	myfree(names->item);
	myfree(names->level);
    }
    memset(names, 0, sizeof(*names));
}

/* cc_table_free - a table whose keys were mystrdup()ed */

static void cc_table_free(HTABLE *table)
{
    for (size_t i = 0; i < table->size; i++)
	if (table->slots[i].key)
	    myfree((char *) table->slots[i].key);
    htable_free(table);
}

/* cc_table_set - NAME's value in TABLE (the key copied when new) */

static void cc_table_set(HTABLE *table, const char *name, uintptr_t value)
{
    HTABLE_INFO *info = htable_locate(table, name);

    if (info == 0)
	info = htable_enter(table, mystrdup(name), 0);
    info->value = (void *) value;
}

static uintptr_t cc_table_get(HTABLE *table, const char *name)
{
    HTABLE_INFO *info = htable_locate(table, name);

    return (info ? (uintptr_t) info->value : 0);
}

/* Set-up and reporting */

void    conf_check_init(CONF_CHECK *cc, CONF_CHECK_REPORT report, void *ctx)
{
    memset(cc, 0, sizeof(*cc));
    cc->report = report;
    cc->ctx = ctx;
    cc->refs = htable_create(100);
    cc->state = htable_create(100);
}

void    conf_check_free(CONF_CHECK *cc)
{
    cc_table_free(cc->refs);
    cc_table_free(cc->state);
    cc->refs = cc->state = 0;
}

void    conf_check_report(CONF_CHECK *cc, int severity, const char *fmt,...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    if (severity < CONF_CHECK_WARN || severity > CONF_CHECK_FATAL)
	msg_panic("conf_check_report: bad severity %d", severity);
    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    cc->count[severity]++;
    cc->report(severity, STR(text), cc->ctx);
    vstring_free(text);
}

/* The $name scanner (mail_conf.c's conf_expand_text and conf_expand_ref) */

static int cc_scan_text(CC_SCAN *scan, const char *text, size_t len);

/* cc_syntax - remember the first syntax error; NULL (for the callers) */

static const char *cc_syntax(CC_SCAN *scan, const char *why, const char *start)
{
    if (scan->why == 0) {
	scan->why = why;
	scan->where = mystrdup(start);
    }
    return (0);
}

/* cc_scan_branch - the {text} after '?' or ':' from P; its bounds, or NULL */

static const char *cc_scan_branch(CC_SCAN *scan, const char *start,
			             const char *p, int open, int close,
				          const char **t_end)
{
    if (*p == '{') {
	if ((*t_end = conf_match_close(p + 1, '{', '}')) == 0)
	    return (cc_syntax(scan, "truncated macro reference", start));
	return (p + 1);
    }
    if ((*t_end = conf_match_close(p, open, close)) == 0)
	return (cc_syntax(scan, "truncated macro reference", start));
    return (p);
}

/*
 * cc_scan_ref - the ${...} or $(...) at START; the text after it, or
 * NULL on a syntax error.  Both branches of a condition are scanned.
 */
static const char *cc_scan_ref(CC_SCAN *scan, const char *start)
{
    int     open = start[1];
    int     close = open == '{' ? '}' : ')';
    const char *name = start + 2;
    const char *q = name;
    const char *t1, *t1_end, *t2 = 0, *t2_end = 0;
    int     op;

    while (conf_is_name_char(*q))
	q++;
    if (*q == 0)
	return (cc_syntax(scan, "truncated macro reference", start));
    if (q == name)
	return (cc_syntax(scan, "empty macro name", start));
    cc_names_add(scan->refs, name, q - name, scan->level);
    if (*q == close)
	return (q + 1);
    if (*q != '?' && *q != ':')
	return (cc_syntax(scan, "attribute name syntax error", start));
    op = *q++;
    if (*q != '{') {
	if ((t1 = cc_scan_branch(scan, start, q, open, close, &t1_end)) == 0)
	    return (0);
	q = t1_end;
    } else {
	if ((t1 = cc_scan_branch(scan, start, q, open, close, &t1_end)) == 0)
	    return (0);
	q = t1_end + 1;
	if (op == '?' && *q == ':') {
	    if ((t2 = cc_scan_branch(scan, start, q + 1, open, close, &t2_end)) == 0)
		return (0);
	    q = q[1] == '{' ? t2_end + 1 : t2_end;
	}
	while (isspace((unsigned char) *q))
	    q++;
	if (*q == 0)
	    return (cc_syntax(scan, "truncated macro reference", start));
	if (*q != close)
	    return (cc_syntax(scan, "\":\" or closing bracket expected", start));
    }
    scan->level++;				/* a branch is expanded deeper */
    if (cc_scan_text(scan, t1, t1_end - t1) == 0 && t2)
	(void) cc_scan_text(scan, t2, t2_end - t2);
    scan->level--;
    return (scan->why ? 0 : q + 1);
}

/* cc_scan_text - every $name of TEXT (LEN bytes) into scan->refs; 0 or -1 */

static int cc_scan_text(CC_SCAN *scan, const char *text, size_t len)
{
    char   *copy = mystrndup(text, len);	/* as conf_expand_text does */
    const char *p = copy;
    const char *q;

    while (p && *p) {
	if (*p != '$') {
	    p++;
	} else if (p[1] == '$') {
	    p += 2;
	} else if (p[1] == '{' || p[1] == '(') {
	    p = cc_scan_ref(scan, p);
	} else if (conf_is_name_char(p[1])) {
	    for (q = p + 1; conf_is_name_char(*q); q++)
		 /* void */ ;
	    cc_names_add(scan->refs, p + 1, q - p - 1, scan->level);
	    p = q;
	} else {
	    p = cc_syntax(scan, "empty macro name", p);
	}
    }
    myfree(copy);
    return (scan->why ? -1 : 0);
}

/*
 * cc_scan - REFS of RAW; NULL, or the syntax error (and in *WHERE, to be
 * freed, the text from it on)
 */
static const char *cc_scan(const char *raw, CC_NAMES *refs, char **where)
{
    CC_SCAN scan;

    scan.refs = refs;
    scan.level = 0;
    scan.why = 0;
    scan.where = 0;
    (void) cc_scan_text(&scan, raw, strlen(raw));
    if (where)
	*where = scan.where;
    else if (scan.where)
	myfree(scan.where);
    return (scan.why);
}

/* Values as main.cf has them, without expanding anything */

static int cc_is_raw_param(const char *name)
{
    for (const char **cp = cc_raw_params; *cp; cp++)
	if (strcmp(*cp, name) == 0)
	    return (1);
    return (0);
}

/*
 * cc_raw - the raw value of NAME, NULL if nothing defines it.  Unlike
 * conf_raw(), an unset mydomain is not derived from myhostname here (that
 * would expand myhostname before it was checked).
 */
static const char *cc_raw(const char *name)
{
    if (conf_is_set(name))
	return (conf_raw(name));
    return (conf_default(name));
}

/*
 * cc_refers_to - does NAME's value refer to TARGET, directly or through
 * other names?  As mail_conf.c decides it (every $name counts, a walk
 * that uses up its BUDGET says yes), for mydomain below.
 */
static int cc_refers_to(const char *name, const char *target, int *budget)
{
    CC_NAMES refs = {0, 0, 0, 0};
    const char *raw = cc_raw(name);
    int     found = 0;

    if (raw == 0)
	return (0);
    if (--*budget < 0)
	return (1);
    (void) cc_scan(raw, &refs, (char **) 0);
    for (int i = 0; !found && i < refs.len; i++)
	found = strcmp(refs.item[i], target) == 0
	    || cc_refers_to(refs.item[i], target, budget);
    cc_names_free(&refs);
    return (found);
}

/*
 * cc_deps - the names the value of NAME needs; -1 on a syntax error.  An
 * unset mydomain is made from myhostname (expanded apart) unless that
 * refers to mydomain (mail_conf.c's conf_current_domain()).
 */
static int cc_deps(const char *name, CC_NAMES *deps)
{
    const char *raw = cc_raw(name);
    int     budget = 1000;

    if (raw == 0 || cc_is_raw_param(name))
	return (0);
    if (cc_scan(raw, deps, (char **) 0) != 0)
	return (-1);
    if (strcmp(name, "mydomain") == 0 && !conf_is_set(name)
	&& !cc_refers_to("myhostname", "mydomain", &budget))
	cc_names_add(deps, "myhostname", strlen("myhostname"), CC_LEVEL_APART);
    return (0);
}

/* cc_deeper - *DEPTH after a ref at LEVEL whose own expansion goes REF_DEPTH deep */

static void cc_deeper(int *depth, int level, int ref_depth)
{
    if (level == CC_LEVEL_APART)
	return;
    if (*depth < level)
	*depth = level;				/* the lookup itself */
    if (*depth < level + 1 + ref_depth)
	*depth = level + 1 + ref_depth;		/* what its value looks up */
}

/*
 * cc_expandable - can NAME's value be expanded: CC_OK (*DEPTH: the
 * deepest lookup level it reaches, -1 for none), CC_BAD (a syntax error
 * in it or below, or a loop already reported) or CC_LOOP (it refers back
 * to itself, or goes deeper than mail_conf.c allows: LOOP_AT says where)
 */
static int cc_expandable(CONF_CHECK *cc, const char *name, int hops,
			         VSTRING *loop_at, int *depth)
{
    CC_NAMES deps = {0, 0, 0, 0};
    uintptr_t state = cc_table_get(cc->state, name);
    int     result = CC_STATE(state);
    int     ref_depth;

    if (result == CC_OK)
	*depth = CC_DEPTH(state);
    if (result == CC_LOOP_SAID)
	return (CC_BAD);
    if (result == CC_BUSY || result == CC_LOOP || hops > CC_MAX_NESTING) {
	vstring_strcpy(loop_at, name);
	return (CC_LOOP);
    }
    if (result != 0)
	return (result);
    cc_table_set(cc->state, name, CC_BUSY);
    result = cc_deps(name, &deps) < 0 ? CC_BAD : CC_OK;
    *depth = -1;
    for (int i = 0; result == CC_OK && i < deps.len; i++)
	if ((result = cc_expandable(cc, deps.item[i], hops + 1, loop_at,
				    &ref_depth)) == CC_OK)
	    cc_deeper(depth, deps.level[i], ref_depth);
    cc_names_free(&deps);
    if (result == CC_OK && *depth > CC_MAX_NESTING) {
	vstring_strcpy(loop_at, name);
	result = CC_LOOP;
    }
    cc_table_set(cc->state, name, result == CC_OK ? CC_OK_DEPTH(*depth) : (uintptr_t) result);
    return (result);
}

/* cc_loop_said - the loop found is reported: not again for its other names */

static void cc_loop_said(CONF_CHECK *cc)
{
    for (size_t i = 0; i < cc->state->size; i++)
	if (cc->state->slots[i].key
	    && CC_STATE((uintptr_t) cc->state->slots[i].value) == CC_LOOP)
	    cc->state->slots[i].value = (void *) (uintptr_t) CC_LOOP_SAID;
}

int     conf_check_expand(CONF_CHECK *cc, const char *where, const char *name,
			          const char *raw, VSTRING *out)
{
    CC_NAMES refs = {0, 0, 0, 0};
    VSTRING *loop_at = vstring_alloc(50);
    const char *own = cc_raw(name);
    const char *why;
    char   *text;
    int     result = CC_OK;
    int     depth = -1;
    int     ref_depth;

    if ((why = cc_scan(raw, &refs, &text)) != 0) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: parameter %s: %s: \"%s\"",
			  where, name, why, text);
	myfree(text);
	result = CC_BAD;
    }
    for (int i = 0; result == CC_OK && i < refs.len; i++)
	if ((result = cc_expandable(cc, refs.item[i], 1, loop_at, &ref_depth)) == CC_OK)
	    cc_deeper(&depth, refs.level[i], ref_depth);
    cc_names_free(&refs);
    if (result == CC_OK && depth > CC_MAX_NESTING) {
	vstring_strcpy(loop_at, name);
	result = CC_LOOP;
    }
    if (result == CC_LOOP) {
	conf_check_report(cc, CONF_CHECK_FATAL,
			  "%s: parameter %s: unreasonable macro call nesting: \"%s\"",
			  where, name, STR(loop_at));
	cc_loop_said(cc);
	if (own && strcmp(own, raw) == 0)	/* not again where it is used */
	    cc_table_set(cc->state, name, CC_LOOP_SAID);
    }
    vstring_free(loop_at);
    if (result != CC_OK)
	return (-1);
    conf_expand(out, raw);
    return (0);
}

const char *conf_check_param(CONF_CHECK *cc, const char *name, VSTRING *buf)
{
    const char *raw = cc_raw(name);
    int     depth;

    if (raw == 0 || cc_expandable(cc, name, 0, buf, &depth) != CC_OK)
	return (0);
    return (STR(conf_expand(buf, raw)));
}

/* Values against their types (mail_conf.c's checks, without exiting) */

/* cc_parse_long - a whole decimal number, as mail_conf.c reads one */

static int cc_parse_long(const char *value, long *result)
{
    char   *end;

    errno = 0;
    *result = strtol(value, &end, 10);
    if (end == value || errno != 0)
	return (0);
    while (isspace((unsigned char) *end))
	end++;
    return (*end == 0);
}

static int cc_check_number(CONF_CHECK *cc, const char *where, const char *name,
			           int type, const MAIL_PARAM *p, const char *value)
{
    long    val;

    if (!cc_parse_long(value, &val)
	|| (type == PARAM_INT && (val < INT_MIN || val > INT_MAX))) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: bad numerical configuration: %s = %s",
			  where, name, value);
	return (-1);
    }
    if (p && p->min && val < p->min) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: invalid %s parameter value %ld < %ld",
			  where, name, val, p->min);
	return (-1);
    }
    if (p && p->max && val > p->max) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: invalid %s parameter value %ld > %ld",
			  where, name, val, p->max);
	return (-1);
    }
    return (0);
}

static int cc_check_time(CONF_CHECK *cc, const char *where, const char *name,
			         const MAIL_PARAM *p, const char *value)
{
    long    val;

    if (!conf_parse_time(value, p && p->defunit ? p->defunit : 's', &val)) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: parameter %s: bad time value or unit: %s",
			  where, name, value);
	return (-1);
    }
    if (p && p->min && val < p->min) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: invalid %s: %ld (min %ld)",
			  where, name, val, p->min);
	return (-1);
    }
    if (p && p->max && val > p->max) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: invalid %s: %ld (max %ld)",
			  where, name, val, p->max);
	return (-1);
    }
    return (0);
}

int     conf_check_value(CONF_CHECK *cc, const char *where, const char *name,
			         int type, const MAIL_PARAM *p, const char *value)
{
    int     flag;

    switch (type) {
    case PARAM_INT:
    case PARAM_LONG:
	return (cc_check_number(cc, where, name, type, p, value));
    case PARAM_BOOL:
	if (conf_parse_bool(value, &flag))
	    return (0);
	conf_check_report(cc, CONF_CHECK_FATAL, "%s: bad boolean configuration: %s = %s",
			  where, name, value);
	return (-1);
    case PARAM_TIME:
	return (cc_check_time(cc, where, name, p, value));
    default:
	return (0);
    }
}

int     conf_check_service_param(const MASTER_CF *cf, const char *name)
{
    size_t  len;

    for (int i = 0; cf && i < cf->count; i++) {
	len = strlen(cf->ents[i].name);
	if (strncmp(name, cf->ents[i].name, len) != 0 || name[len] != '_')
	    continue;
	for (int j = 0; cc_service_params[j].suffix; j++)
	    if (strcmp(name + len + 1, cc_service_params[j].suffix) == 0)
		return (cc_service_params[j].type);
    }
    return (0);
}

/* main.cf */

typedef struct CC_MAIN {
    CONF_CHECK *cc;
    const MASTER_CF *cf;
    CC_NAMES order;			/* every $name, first seen first */
    VSTRING *where;			/* DIR/main.cf */
} CC_MAIN;

/* cc_note_refs - remember the $names of RAW (none of a broken one: reported elsewhere) */

static void cc_note_refs(CC_MAIN *cm, const char *raw)
{
    CC_NAMES refs = {0, 0, 0, 0};
    int     broken = cc_scan(raw, &refs, (char **) 0) != 0;

    for (int i = 0; !broken && i < refs.len; i++) {
	if (htable_locate(cm->cc->refs, refs.item[i]) == 0) {
	    htable_enter(cm->cc->refs, mystrdup(refs.item[i]), 0);
	    cc_names_add(&cm->order, refs.item[i], strlen(refs.item[i]), 0);
	}
    }
    cc_names_free(&refs);
}

/* cc_note_set - conf_walk() callback: refs of a main.cf value */

static void cc_note_set(const char *name, const char *raw, void *ctx)
{
    if (!cc_is_raw_param(name))
	cc_note_refs((CC_MAIN *) ctx, raw);
}

/*
 * cc_option_value - "name=value" of the -o option at ARGV[*I] (advancing
 * *I), NULL if ARGV[*I] is another option (the daemon skeleton's -c, -n,
 * -S and -t take the next word); *END when the options are over
 */
static const char *cc_option_value(char **argv, int *i, int *end)
{
    const char *word = argv[*i];

    *end = 0;
    if (word[0] != '-' || strcmp(word, "--") == 0) {
	*end = 1;
	return (0);
    }
    if (strcmp(word, "-o") == 0)
	return (argv[*i + 1] ? argv[++*i] : "");
    if (strncmp(word, "-o", 2) == 0)
	return (word + 2);
    if (word[1] && strchr("cnSt", word[1]) && word[2] == 0 && argv[*i + 1])
	++*i;
    return (0);
}

void    conf_check_options(const MASTER_CF *cf, CONF_CHECK_OPTION_FN fn, void *ctx)
{
    VSTRING *name = vstring_alloc(50);
    VSTRING *value = vstring_alloc(50);
    const char *nv;
    int     end = 0;

    for (int n = 0; cf && n < cf->count; n++) {
	const MASTER_CF_ENT *ent = cf->ents + n;

	for (int i = 1; !end && i < ent->argc; i++) {
	    if ((nv = cc_option_value(ent->argv, &i, &end)) == 0)
		continue;
	    if (conf_split_nameval(nv, name, value) != 0)
		fn(ent, 0, nv, ctx);
	    else
		fn(ent, STR(name), STR(value), ctx);
	}
	end = 0;
    }
    vstring_free(name);
    vstring_free(value);
}

static void cc_note_option(const MASTER_CF_ENT *ent, const char *name,
			           const char *value, void *ctx)
{
    if (name)
	cc_note_refs((CC_MAIN *) ctx, value);
}

/* cc_note_all - every $name in defaults, main.cf and master.cf -o values */

static void cc_note_all(CC_MAIN *cm)
{
    for (const MAIL_PARAM *p = mail_params; p->name; p++)
	if (p->defval && !conf_is_set(p->name) && !cc_is_raw_param(p->name))
	    cc_note_refs(cm, p->defval);
    conf_walk(cc_note_set, cm);
    conf_check_options(cm->cf, cc_note_option, cm);
}

/* cc_check_setting - conf_walk() callback: one main.cf setting */

static void cc_check_setting(const char *name, const char *raw, void *ctx)
{
    CC_MAIN *cm = ctx;
    const MAIL_PARAM *p = mail_param_find(name);
    VSTRING *value;
    int     type;

    if (cc_is_raw_param(name))
	return;
    value = vstring_alloc(100);
    type = p ? p->type : conf_check_service_param(cm->cf, name);
    if (conf_check_expand(cm->cc, STR(cm->where), name, raw, value) == 0 && type)
	(void) conf_check_value(cm->cc, STR(cm->where), name, type, p, STR(value));
    vstring_free(value);
}

/* cc_check_unused - conf_walk() callback: a name nothing reads */

static void cc_check_unused(const char *name, const char *raw, void *ctx)
{
    CC_MAIN *cm = ctx;

    if (mail_param_find(name) == 0 && htable_locate(cm->cc->refs, name) == 0
	&& conf_check_service_param(cm->cf, name) == 0)
	conf_check_report(cm->cc, CONF_CHECK_WARN, "%s: unused parameter: %s=%s",
			  STR(cm->where), name, raw);
}

/* cc_check_unused_option - conf_check_options() callback: an -o nothing reads */

static void cc_check_unused_option(const MASTER_CF_ENT *ent, const char *name,
				           const char *value, void *ctx)
{
    CC_MAIN *cm = ctx;

    if (name && mail_param_find(name) == 0 && htable_locate(cm->cc->refs, name) == 0
	&& conf_check_service_param(cm->cf, name) == 0)
	conf_check_report(cm->cc, CONF_CHECK_WARN, "%s/master.cf: unused parameter: %s=%s",
			  mail_conf_dir(), name, value);
}

/* cc_check_undefined - $names that nothing defines */

static void cc_check_undefined(CC_MAIN *cm)
{
    for (int i = 0; i < cm->order.len; i++)
	if (cc_raw(cm->order.item[i]) == 0)
	    conf_check_report(cm->cc, CONF_CHECK_WARN, "%s: undefined parameter: %s",
			      STR(cm->where), cm->order.item[i]);
}

void    conf_check_main(CONF_CHECK *cc, const MASTER_CF *cf)
{
    CC_MAIN cm;

    cm.cc = cc;
    cm.cf = cf;
    memset(&cm.order, 0, sizeof(cm.order));
    cm.where = vstring_alloc(100);
    vstring_sprintf(cm.where, "%s/main.cf", mail_conf_dir());
    cc_note_all(&cm);
    conf_walk(cc_check_setting, &cm);
    cc_check_undefined(&cm);
    conf_walk(cc_check_unused, &cm);
    conf_check_options(cf, cc_check_unused_option, &cm);
    cc_names_free(&cm.order);
    vstring_free(cm.where);
}
