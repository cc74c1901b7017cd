/*
 * dict_rules.c - rule-list tables: pcre:, regexp:, cidr:.  See dict_rules.h.
 *
 * dict_rules_open() reads the file with the logical-line reader that
 * every table source shares (comments, blank lines, continuation lines,
 * over-long lines and NUL bytes as Postfix's readllines), hands each
 * line to the engine's parse(), and links every IF to its ENDIF.  The
 * lookup walks the rules; a failed IF jumps past its ENDIF.
 *
 * For pcre: and regexp: this file also parses the rules themselves, as
 * Postfix's dict_pcre.c and dict_regexp.c do, with the same warnings:
 *
 *	[!]/regex/flags result		(any delimiter; "\" escapes it)
 *	/regex/flags!/regex/flags result	(regexp: and not the second)
 *	if [!]/regex/flags  ...  endif
 *
 * A result's $1, ${1} and $(1) are checked when the file is read (a
 * rule with a bad or too large $n, or $n in a negated rule, is skipped)
 * and expanded at lookup time; $$ is a '$'.  A result without $n is
 * stored with $$ already undone and returned as is.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dict_rules.h"

/* The parts of a "[!]/regex/flags" pattern as written in the file */

typedef struct RULES_PATTERN {
    char   *regex;
    unsigned options;
    int     match;
} RULES_PATTERN;

void    dict_rules_warn(DICT_RULES *dr, int lineno, const char *fmt,...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    msg_warn("%s map %s, line %d: %s", dr->engine->kind, dr->dict.name,
	     lineno, STR(text));
    vstring_free(text);
}

int     dict_rules_keyword(const char *line, const char *word)
{
    size_t  len = strlen(word);

    return (strncasecmp(line, word, len) == 0
	    && !isalnum((unsigned char) line[len]));
}

/* rules_macro - the name of the "$name" at *CP (after '$'); -1 bad (warned) */

static int rules_macro(DICT_RULES *dr, int lineno, const char *text,
		               const char **cp, const char **name, size_t *len)
{
    const char *p = *cp;
    char    close;

    if (*p == '{' || *p == '(') {
	close = *p == '{' ? '}' : ')';
	*name = ++p;
	if ((p = strchr(p, close)) == 0) {
	    dict_rules_warn(dr, lineno, "truncated macro reference: \"%s\"", text);
	    return (-1);
	}
	*len = p++ - *name;
    } else {
	*name = p;
	while (isalnum((unsigned char) *p) || *p == '_')
	    p++;
	*len = p - *name;
    }
    *cp = p;
    if (*len == 0 || strspn(*name, "0123456789") < *len) {
	dict_rules_warn(dr, lineno, "%s replacement index \"%.*s\"",
			*len == 0 ? "empty" : "non-numeric", (int) *len, *name);
	return (-1);
    }
    return (0);
}

/*
 * rules_subst - scan result TEXT: with OUT NULL, check it and return the
 * largest $n (-1 on bad syntax, warned); otherwise append its expansion
 * for KEY with the GROUPS of a match to OUT.
 */
static int rules_subst(DICT_RULES *dr, int lineno, const char *text,
		               const char *key, const DICT_RULE_GROUP *groups,
		               VSTRING *out)
{
    const char *cp = text;
    const char *name;
    size_t  len;
    long    n;
    int     max_sub = 0;

    while (*cp) {
	if (*cp != '$') {
	    len = strcspn(cp, "$");
	    if (out)
		vstring_memcat(out, cp, len);
	    cp += len;
	    continue;
	}
	if (cp[1] == '$') {			/* $$ is a '$' */
	    if (out)
		vstring_addch(out, '$');
	    cp += 2;
	    continue;
	}
	cp++;
	if (rules_macro(dr, lineno, text, &cp, &name, &len) < 0)
	    return (-1);
	n = len > 4 ? 10000 : strtol(name, 0, 10);
	if (out == 0) {
	    if (n < 1) {
		dict_rules_warn(dr, lineno, "%s replacement index \"%.*s\"",
				dr->engine->range_word, (int) len, name);
		return (-1);
	    }
	    if (n > max_sub)
		max_sub = (int) n;
	} else if (groups[n].start >= 0) {
	    vstring_memcat(out, key + groups[n].start,
			   groups[n].end - groups[n].start);
	}
    }
    return (max_sub);
}

/* rules_get_pattern - "[!]/regex/flags" at *BUFP; 0 (warned) if bad */

static int rules_get_pattern(DICT_RULES *dr, int lineno, char **bufp,
			             RULES_PATTERN *pat)
{
    const DICT_RULES_ENGINE *eng = dr->engine;
    char   *p = *bufp;
    char    delim;

    pat->match = 1;
    for (; *p == '!' || isspace((unsigned char) *p); p++)
	if (*p == '!')
	    pat->match = !pat->match;
    if (*p == 0) {
	dict_rules_warn(dr, lineno, "no regexp: skipping this rule");
	return (0);
    }
    delim = *p++;
    for (pat->regex = p; *p && *p != delim; p++) {
	if (*p == '\\' && p[1] != 0)
	    p++;
	else if (*p == '\\' && eng->backslash_ends)
	    break;
    }
    if (*p == 0) {
	dict_rules_warn(dr, lineno, "no closing regexp delimiter \"%c\": %s this rule",
			isprint((unsigned char) delim) ? delim : '?',
			eng->delim_action);
	return (0);
    }
    *p++ = 0;
    pat->options = eng->default_options;
    for (; *p && !isspace((unsigned char) *p); p++) {
	if (*p == '!' && eng->second_pattern)
	    break;
	if (!eng->flag(dr, lineno, *p, &pat->options)) {
	    dict_rules_warn(dr, lineno, "unknown regexp option \"%c\": skipping this rule",
			    isprint((unsigned char) *p) ? *p : '?');
	    return (0);
	}
    }
    *bufp = p;
    return (1);
}

/* rules_literal - RESULT with $$ undone, for a rule without $n */

static char *rules_literal(DICT_RULES *dr, int lineno, const char *result)
{
    VSTRING *literal = vstring_alloc(100);

    (void) rules_subst(dr, lineno, result, "", 0, literal);
    return (vstring_export(literal));
}

/* rules_compile_match - compile the pattern(s) of a MATCH rule; 0 when skipped */

static int rules_compile_match(DICT_RULES *dr, DICT_RULE *rule,
			               RULES_PATTERN *first, RULES_PATTERN *second)
{
    const DICT_RULES_ENGINE *eng = dr->engine;
    int     nsub = 0;

    rule->pattern = eng->compile(dr, rule->lineno, first->regex, first->options,
				 rule->max_sub > 0, &nsub);
    if (rule->pattern == 0)
	return (0);
    if (rule->max_sub > nsub) {
	dict_rules_warn(dr, rule->lineno, "out of range replacement index \"%d\":"
			" skipping this rule", rule->max_sub);
	return (0);
    }
    if (second->regex) {
	rule->pattern2 = eng->compile(dr, rule->lineno, second->regex,
				      second->options, 0, &nsub);
	if (rule->pattern2 == 0)
	    return (0);
	rule->match2 = second->match;
    }
    rule->match = first->match;
    return (1);
}

/* rules_parse_match - "[!]/regex/flags[!/regex/flags] result"; 0 when skipped */

static int rules_parse_match(DICT_RULES *dr, DICT_RULE *rule, char *p)
{
    RULES_PATTERN first;
    RULES_PATTERN second;

    second.regex = 0;
    if (!rules_get_pattern(dr, rule->lineno, &p, &first))
	return (0);
    if (*p == '!' && !rules_get_pattern(dr, rule->lineno, &p, &second))
	return (0);
    while (isspace((unsigned char) *p))
	p++;
    if (*p == 0)
	dict_rules_warn(dr, rule->lineno, "no replacement text: using empty string");
    if ((rule->max_sub = rules_subst(dr, rule->lineno, p, "", 0, 0)) < 0) {
	dict_rules_warn(dr, rule->lineno, "bad replacement syntax: skipping this rule");
	return (0);
    }
    if (rule->max_sub > 0 && first.match == 0) {
	dict_rules_warn(dr, rule->lineno, "$number found in negative match"
			" replacement text: skipping this rule");
	return (0);
    }
    if (!rules_compile_match(dr, rule, &first, &second))
	return (0);
    rule->result = rule->max_sub ? mystrdup(p) : rules_literal(dr, rule->lineno, p);
    if (rule->max_sub > dr->max_sub)
	dr->max_sub = rule->max_sub;
    return (1);
}

/* rules_parse_if - "if [!]/regex/flags"; 0 when skipped */

static int rules_parse_if(DICT_RULES *dr, DICT_RULE *rule, char *p)
{
    RULES_PATTERN pat;
    int     nsub;

    while (isspace((unsigned char) *p))
	p++;
    if (!rules_get_pattern(dr, rule->lineno, &p, &pat))
	return (0);
    while (isspace((unsigned char) *p))
	p++;
    if (*p) {
	dict_rules_warn(dr, rule->lineno, "ignoring extra text after IF statement:"
			" \"%s\"", p);
	dict_rules_warn(dr, rule->lineno, "do not prepend whitespace to statements"
			" between IF and ENDIF");
    }
    rule->pattern = dr->engine->compile(dr, rule->lineno, pat.regex, pat.options,
					0, &nsub);
    rule->match = pat.match;
    return (rule->pattern != 0);
}

int     dict_rules_parse_regex(DICT_RULES *dr, DICT_RULE *rule, char *line,
			               int nesting)
{
    if (!isalnum((unsigned char) *line)) {
	rule->op = DICT_RULE_MATCH;
	return (rules_parse_match(dr, rule, line));
    }
    if (dict_rules_keyword(line, "if")) {
	rule->op = DICT_RULE_IF;
	return (rules_parse_if(dr, rule, line + 2));
    }
    if (dict_rules_keyword(line, "endif")) {
	if (nesting == 0) {
	    dict_rules_warn(dr, rule->lineno, "ignoring ENDIF without matching IF");
	    return (0);
	}
	if (line[5 + strspn(line + 5, " \t\r\n\v\f")] != 0)
	    dict_rules_warn(dr, rule->lineno, "ignoring extra text after ENDIF");
	rule->op = DICT_RULE_ENDIF;
	return (1);
    }
    dict_rules_warn(dr, rule->lineno, "ignoring unrecognized request");
    return (0);
}

/* rules_applies - does RULE apply to SUBJECT (negation included)? */

static int rules_applies(DICT_RULES *dr, const DICT_RULE *rule,
			         const void *subject, int ngroups)
{
    const DICT_RULES_ENGINE *eng = dr->engine;
    int     rc;

    rc = eng->exec(dr, rule, rule->pattern, subject, dr->groups, ngroups);
    if (rc < 0 || rc != rule->match)
	return (0);
    if (rule->pattern2 == 0)
	return (1);
    rc = eng->exec(dr, rule, rule->pattern2, subject, 0, 0);
    return (rc >= 0 && rc == rule->match2);
}

/* rules_result - what a MATCH rule gives for KEY */

static const char *rules_result(DICT_RULES *dr, const DICT_RULE *rule,
				        const char *key)
{
    if (rule->max_sub == 0)
	return (rule->result);
    vstring_reset(dr->expansion);
    (void) rules_subst(dr, rule->lineno, rule->result, key, dr->groups,
		       dr->expansion);
    return (STR(dr->expansion));
}

static const char *dict_rules_lookup(DICT *dict, const char *key)
{
    DICT_RULES *dr = (DICT_RULES *) dict;
    const void *subject = key;

    dict->error = 0;
    if (dr->engine->prepare && (subject = dr->engine->prepare(dr, key)) == 0)
	return (0);
    for (int i = 0; i < dr->count; i++) {
	const DICT_RULE *rule = dr->rules + i;

	if (rule->op == DICT_RULE_MATCH) {
	    if (rules_applies(dr, rule, subject, rule->max_sub ? rule->max_sub + 1 : 0))
		return (rules_result(dr, rule, key));
	} else if (rule->op == DICT_RULE_IF && !rules_applies(dr, rule, subject, 0)) {
	    if (rule->endif < 0)		/* IF without ENDIF */
		return (0);
	    i = rule->endif;
	}
    }
    return (0);
}

/* rules_free_rule - what one rule holds */

static void rules_free_rule(DICT_RULES *dr, DICT_RULE *rule)
{
    if (rule->pattern)
	dr->engine->free_pattern(rule->pattern);
    if (rule->pattern2)
	dr->engine->free_pattern(rule->pattern2);
    if (rule->result)
	myfree(rule->result);
    memset(rule, 0, sizeof(*rule));
}

static int dict_rules_close(DICT *dict)
{
    DICT_RULES *dr = (DICT_RULES *) dict;

    if (dr->engine->release)
	dr->engine->release(dr);
    for (int i = 0; i < dr->count; i++)
	rules_free_rule(dr, dr->rules + i);
    if (dr->rules)
	myfree(dr->rules);
    if (dr->groups)
	myfree(dr->groups);
    if (dr->scratch)
	myfree(dr->scratch);
    vstring_free(dr->expansion);
    dict_free(dict);
    return (0);
}

/* rules_next - a zeroed slot at the end of the rule array */

static DICT_RULE *rules_next(DICT_RULES *dr, int lineno)
{
    DICT_RULE *rule;

    if (dr->count == dr->size) {
	dr->size = dr->size ? 2 * dr->size : 16;
	dr->rules = (DICT_RULE *) myrealloc(dr->rules, dr->size * sizeof(*dr->rules));
    }
    rule = dr->rules + dr->count;
    memset(rule, 0, sizeof(*rule));
    rule->lineno = lineno;
    rule->endif = -1;
    return (rule);
}

/* rules_line - parse one logical line; its rule is kept when it parses */

static void rules_line(DICT_RULES *dr, VSTRING *line, int lineno,
		               int **stack, int *nesting)
{
    DICT_RULE *rule = rules_next(dr, lineno);
    char   *end = STR(line) + LEN(line);

    while (end > STR(line) && isspace((unsigned char) end[-1]))
	*--end = 0;
    if (!dr->engine->parse(dr, rule, STR(line), *nesting)) {
	rules_free_rule(dr, rule);
	return;
    }
    if (rule->op == DICT_RULE_IF) {
	*stack = (int *) myrealloc(*stack, (*nesting + 1) * sizeof(**stack));
	(*stack)[(*nesting)++] = dr->count;
    } else if (rule->op == DICT_RULE_ENDIF) {
	if (*nesting == 0)
	    msg_panic("%s map %s: ENDIF without IF", dr->engine->kind, dr->dict.name);
	dr->rules[(*stack)[--(*nesting)]].endif = dr->count;
    }
    dr->count++;
}

/* rules_read - every rule of FP into DR; -1 on a read error */

static int rules_read(DICT_RULES *dr, VSTREAM *fp)
{
    DICT_LINES *lines = dict_lines_open(fp, dr->dict.name);
    VSTRING *line = vstring_alloc(200);
    int    *stack = 0;			/* open IF rules */
    int     nesting = 0;
    int     lineno;
    int     status;

    while ((status = dict_lines_next(lines, line, &lineno)) > 0)
	rules_line(dr, line, lineno, &stack, &nesting);
    while (nesting-- > 0)
	dict_rules_warn(dr, dr->rules[stack[nesting]].lineno,
			"IF has no matching ENDIF");
    if (stack)
	myfree(stack);
    vstring_free(line);
    dict_lines_free(lines);
    return (status);
}

DICT   *dict_rules_open(const char *type, const char *name, int flags,
			        const DICT_RULES_ENGINE *engine, size_t size)
{
    VSTREAM *fp;
    DICT_RULES *dr;
    int     status;

    if ((fp = vstream_open(name, O_RDONLY, 0)) == 0) {
	msg_warn("open database %s: %s", name, strerror(errno));
	return (dict_fail_open(type, name, flags));
    }
    /* the patterns say how case is treated: keys are never folded */
    dr = (DICT_RULES *) dict_alloc(type, name, flags & ~DICT_FLAG_FOLD_KEY, size);
    dr->engine = engine;
    dr->dict.lookup = dict_rules_lookup;
    dr->dict.close = dict_rules_close;
    dr->expansion = vstring_alloc(100);
    status = rules_read(dr, fp);
    (void) vstream_close(fp);
    dr->groups = (DICT_RULE_GROUP *) mycalloc(dr->max_sub + 1, sizeof(*dr->groups));
    if (status < 0 || (engine->ready && engine->ready(dr) < 0)) {
	dict_rules_close(&dr->dict);
	return (dict_fail_open(type, name, flags));
    }
    return (&dr->dict);
}
