/*
 * dict_pcre.c - pcre: tables, Postfix's pcre_table(5) on PCRE2.
 *
 * dict_open("pcre:/etc/posthorn/header_checks", 0) reads the file once:
 *
 *	/regex/flags result	first rule that matches wins
 *	!/regex/flags result	matches when the regex does not ($n not allowed)
 *	if /regex/flags		the rules up to the matching "endif" apply
 *	if !/regex/flags	only when the input (does not) match; nests
 *	endif
 *
 * The first non-blank character (after any '!') is the delimiter.  Flags
 * toggle PCRE2 options: i (case-less, on by default), m (multi-line),
 * s (dot matches newline, on by default), x (extended), A (anchored),
 * E (dollar matches only at the end), U (ungreedy); X is obsolete and
 * ignored with a warning, as in Postfix built with PCRE2.  In the result,
 * $1, ${1} and $(1) insert what a group matched, $$ is a '$'.  Logical
 * lines, comments and continuation lines are as in every table source.
 *
 * A rule that cannot be used (bad regex, unknown flag, bad $n, ...) is
 * warned about as "pcre map FILE, line N: ..." and skipped; the other
 * rules still work.  A missing file gives a table with ->error set.
 * Keys are never folded: the patterns say how case is treated.  One
 * match-data block serves every rule of a table; matching is limited
 * (match and heap limits) so a bad pattern cannot run away.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dict_private.h"

#define PCRE_OP_MATCH	1
#define PCRE_OP_IF	2
#define PCRE_OP_ENDIF	3

#define PCRE_MATCH_LIMIT	1000000		/* backtracking steps per match */
#define PCRE_HEAP_LIMIT		(20 * 1024)	/* KiB per match */

typedef struct PCRE_RULE {
    int     op;				/* PCRE_OP_* */
    int     lineno;			/* where it is in the file */
    int     match;			/* 1: when it matches, 0: when it does not */
    pcre2_code *code;			/* MATCH and IF */
    char   *result;			/* MATCH: the result text */
    int     max_sub;			/* MATCH: largest $n; 0: result is literal */
    int     endif;			/* IF: index of its ENDIF, or -1 */
} PCRE_RULE;

typedef struct DICT_PCRE {
    DICT    dict;			/* must be first */
    PCRE_RULE *rules;
    int     count;
    int     size;
    uint32_t max_capture;		/* most groups in any pattern */
    pcre2_match_data *match_data;	/* shared by all rules */
    pcre2_match_context *match_context;	/* limits */
    VSTRING *expansion;			/* lookup result with $n */
} DICT_PCRE;

/* The parts of a pattern as written in the file */

typedef struct PCRE_PATTERN {
    char   *regex;
    uint32_t options;
    int     match;
} PCRE_PATTERN;

/* pcre_error_text - PCRE2's message for an error code */

static const char *pcre_error_text(int code, char *buf, size_t len)
{
    if (pcre2_get_error_message(code, (PCRE2_UCHAR *) buf, len) < 0)
	snprintf(buf, len, "unexpected pcre2 error code %d", code);
    return (buf);
}

/*
 * pcre_subst - scan result TEXT: with OUT NULL, check it and return
 * the largest $n (-1 on bad syntax, warned); otherwise append the
 * expansion for SUBJECT's match (RC from pcre2_match) to OUT.
 */
static int pcre_subst(const DICT_PCRE *dp, const PCRE_RULE *rule,
		              const char *text, const char *subject,
		              PCRE2_SIZE *ovector, int rc, VSTRING *out)
{
    const char *cp = text;
    int     max_sub = 0;

    while (*cp) {
	const char *name;
	size_t  len;
	char    close;
	long    n;

	if (*cp != '$') {
	    len = strcspn(cp, "$");
	    if (out)
		vstring_memcat(out, cp, len);
	    cp += len;
	    continue;
	}
	cp++;
	if (*cp == '$') {
	    if (out)
		vstring_addch(out, '$');
	    cp++;
	    continue;
	}
	if (*cp == '{' || *cp == '(') {
	    close = *cp == '{' ? '}' : ')';
	    name = ++cp;
	    if ((cp = strchr(cp, close)) == 0) {
		msg_warn("pcre map %s, line %d: truncated macro reference: \"%s\"",
			 dp->dict.name, rule->lineno, text);
		return (-1);
	    }
	    len = cp++ - name;
	} else {
	    name = cp;
	    while (isalnum((unsigned char) *cp) || *cp == '_')
		cp++;
	    len = cp - name;
	}
	if (len == 0 || strspn(name, "0123456789") < len) {
	    msg_warn("pcre map %s, line %d: %s replacement index \"%.*s\"",
		     dp->dict.name, rule->lineno,
		     len == 0 ? "empty" : "non-numeric", (int) len, name);
	    return (-1);
	}
	n = len > 4 ? 10000 : strtol(name, 0, 10);
	if (out == 0) {
	    if (n < 1) {
		msg_warn("pcre map %s, line %d: out of range replacement index \"%.*s\"",
			 dp->dict.name, rule->lineno, (int) len, name);
		return (-1);
	    }
	    if (n > max_sub)
		max_sub = (int) n;
	} else if (n < rc && ovector[2 * n] != PCRE2_UNSET) {
	    vstring_memcat(out, subject + ovector[2 * n],
			   ovector[2 * n + 1] - ovector[2 * n]);
	}
    }
    return (max_sub);
}

/* pcre_get_pattern - parse [!]/regex/flags at *BUFP; 0 (warned) if bad */

static int pcre_get_pattern(DICT_PCRE *dp, int lineno, char **bufp,
			            PCRE_PATTERN *pat)
{
    const char *map = dp->dict.name;
    char   *p = *bufp;
    char    delim;

    pat->match = 1;
    for (; *p == '!' || isspace((unsigned char) *p); p++)
	if (*p == '!')
	    pat->match = !pat->match;
    if (*p == 0) {
	msg_warn("pcre map %s, line %d: no regexp: skipping this rule", map, lineno);
	return (0);
    }
    delim = *p++;
    pat->regex = p;
    for (; *p && *p != delim; p++)
	if (*p == '\\' && p[1] != 0)
	    p++;
    if (*p == 0) {
	msg_warn("pcre map %s, line %d: no closing regexp delimiter \"%c\":"
		 " ignoring this rule", map, lineno,
		 isprint((unsigned char) delim) ? delim : '?');
	return (0);
    }
    *p++ = 0;
    pat->options = PCRE2_CASELESS | PCRE2_DOTALL;
    for (; *p && !isspace((unsigned char) *p); p++) {
	switch (*p) {
	case 'i': pat->options ^= PCRE2_CASELESS; break;
	case 'm': pat->options ^= PCRE2_MULTILINE; break;
	case 's': pat->options ^= PCRE2_DOTALL; break;
	case 'x': pat->options ^= PCRE2_EXTENDED; break;
	case 'A': pat->options ^= PCRE2_ANCHORED; break;
	case 'E': pat->options ^= PCRE2_DOLLAR_ENDONLY; break;
	case 'U': pat->options ^= PCRE2_UNGREEDY; break;
	case 'X':
	    msg_warn("pcre map %s, line %d: ignoring obsolete regexp option \"%c\"",
		     map, lineno, *p);
	    break;
	default:
	    msg_warn("pcre map %s, line %d: unknown regexp option \"%c\":"
		     " skipping this rule", map, lineno, isprint((unsigned char) *p) ? *p : '?');
	    return (0);
	}
    }
    *bufp = p;
    return (1);
}

/* pcre_compile - compile PAT into RULE; 0 (warned) on error */

static int pcre_compile(DICT_PCRE *dp, PCRE_RULE *rule, PCRE_PATTERN *pat)
{
    int     error;
    PCRE2_SIZE offset;
    uint32_t captures;
    char    buf[256];

    rule->code = pcre2_compile((PCRE2_SPTR) pat->regex, PCRE2_ZERO_TERMINATED,
			       pat->options, &error, &offset, 0);
    if (rule->code == 0) {
	msg_warn("pcre map %s, line %d: error in regex at offset %lu: %s",
		 dp->dict.name, rule->lineno, (unsigned long) offset,
		 pcre_error_text(error, buf, sizeof(buf)));
	return (0);
    }
    if (pcre2_pattern_info(rule->code, PCRE2_INFO_CAPTURECOUNT, &captures) == 0
	&& captures > dp->max_capture)
	dp->max_capture = captures;
    return (1);
}

/* pcre_parse_match - "/regex/flags result"; 0 when skipped */

static int pcre_parse_match(DICT_PCRE *dp, PCRE_RULE *rule, char *p)
{
    PCRE_PATTERN pat;
    VSTRING *literal;
    uint32_t captures = 0;

    if (!pcre_get_pattern(dp, rule->lineno, &p, &pat))
	return (0);
    while (isspace((unsigned char) *p))
	p++;
    if (*p == 0)
	msg_warn("pcre map %s, line %d: no replacement text: using empty string",
		 dp->dict.name, rule->lineno);
    if ((rule->max_sub = pcre_subst(dp, rule, p, 0, 0, 0, 0)) < 0) {
	msg_warn("pcre map %s, line %d: bad replacement syntax: skipping this rule",
		 dp->dict.name, rule->lineno);
	return (0);
    }
    if (rule->max_sub > 0 && pat.match == 0) {
	msg_warn("pcre map %s, line %d: $number found in negative match"
		 " replacement text: skipping this rule", dp->dict.name, rule->lineno);
	return (0);
    }
    if (!pcre_compile(dp, rule, &pat))
	return (0);
    (void) pcre2_pattern_info(rule->code, PCRE2_INFO_CAPTURECOUNT, &captures);
    if ((uint32_t) rule->max_sub > captures) {
	msg_warn("pcre map %s, line %d: out of range replacement index \"%d\":"
		 " skipping this rule", dp->dict.name, rule->lineno, rule->max_sub);
	pcre2_code_free(rule->code);
	rule->code = 0;
	return (0);
    }
    rule->match = pat.match;
    if (rule->max_sub == 0) {			/* store with $$ already undone */
	literal = vstring_alloc(100);
	(void) pcre_subst(dp, rule, p, "", 0, 0, literal);
	rule->result = vstring_export(literal);
    } else {
	rule->result = mystrdup(p);
    }
    return (1);
}

/* pcre_parse_if - "if /regex/flags"; 0 when skipped */

static int pcre_parse_if(DICT_PCRE *dp, PCRE_RULE *rule, char *p)
{
    PCRE_PATTERN pat;

    while (isspace((unsigned char) *p))
	p++;
    if (!pcre_get_pattern(dp, rule->lineno, &p, &pat))
	return (0);
    while (isspace((unsigned char) *p))
	p++;
    if (*p) {
	msg_warn("pcre map %s, line %d: ignoring extra text after IF statement:"
		 " \"%s\"", dp->dict.name, rule->lineno, p);
	msg_warn("pcre map %s, line %d: do not prepend whitespace to statements"
		 " between IF and ENDIF", dp->dict.name, rule->lineno);
    }
    if (!pcre_compile(dp, rule, &pat))
	return (0);
    rule->match = pat.match;
    rule->endif = -1;
    return (1);
}

/* pcre_parse_rule - one logical line into RULE; 0 when skipped (warned) */

static int pcre_parse_rule(DICT_PCRE *dp, PCRE_RULE *rule, char *line, int nesting)
{
    if (!isalnum((unsigned char) *line)) {
	rule->op = PCRE_OP_MATCH;
	return (pcre_parse_match(dp, rule, line));
    }
    if (strncasecmp(line, "if", 2) == 0 && !isalnum((unsigned char) line[2])) {
	rule->op = PCRE_OP_IF;
	return (pcre_parse_if(dp, rule, line + 2));
    }
    if (strncasecmp(line, "endif", 5) == 0 && !isalnum((unsigned char) line[5])) {
	if (nesting == 0) {
	    msg_warn("pcre map %s, line %d: ignoring ENDIF without matching IF",
		     dp->dict.name, rule->lineno);
	    return (0);
	}
	if (line[5 + strspn(line + 5, " \t\r\n\v\f")] != 0)
	    msg_warn("pcre map %s, line %d: ignoring extra text after ENDIF",
		     dp->dict.name, rule->lineno);
	rule->op = PCRE_OP_ENDIF;
	return (1);
    }
    msg_warn("pcre map %s, line %d: ignoring unrecognized request",
	     dp->dict.name, rule->lineno);
    return (0);
}

/* pcre_exec - does RULE apply to KEY?  Errors warn and count as no */

static int pcre_exec(DICT_PCRE *dp, const PCRE_RULE *rule, const char *key,
		             size_t len, int *rc)
{
    char    buf[256];

    *rc = pcre2_match(rule->code, (PCRE2_SPTR) key, len, 0, 0,
		      dp->match_data, dp->match_context);
    if (*rc >= 0)
	return (rule->match);
    if (*rc == PCRE2_ERROR_NOMATCH)
	return (!rule->match);
    msg_warn("pcre map %s, line %d: %s", dp->dict.name, rule->lineno,
	     pcre_error_text(*rc, buf, sizeof(buf)));
    return (0);
}

static const char *dict_pcre_lookup(DICT *dict, const char *key)
{
    DICT_PCRE *dp = (DICT_PCRE *) dict;
    size_t  len = strlen(key);
    int     rc;

    dict->error = 0;
    for (int i = 0; i < dp->count; i++) {
	PCRE_RULE *rule = dp->rules + i;

	switch (rule->op) {
	case PCRE_OP_MATCH:
	    if (!pcre_exec(dp, rule, key, len, &rc))
		continue;
	    if (rule->max_sub == 0)
		return (rule->result);
	    vstring_reset(dp->expansion);
	    (void) pcre_subst(dp, rule, rule->result, key,
			      pcre2_get_ovector_pointer(dp->match_data),
			      rc, dp->expansion);
	    return (STR(dp->expansion));
	case PCRE_OP_IF:
	    if (pcre_exec(dp, rule, key, len, &rc))
		continue;
	    if (rule->endif < 0)		/* IF without ENDIF */
		return (0);
	    i = rule->endif;
	    continue;
	default:
	    continue;
	}
    }
    return (0);
}

static int dict_pcre_close(DICT *dict)
{
    DICT_PCRE *dp = (DICT_PCRE *) dict;

    for (int i = 0; i < dp->count; i++) {
	if (dp->rules[i].code)
	    pcre2_code_free(dp->rules[i].code);
	if (dp->rules[i].result)
	    myfree(dp->rules[i].result);
    }
    if (dp->rules)
	myfree(dp->rules);
    if (dp->match_data)
	pcre2_match_data_free(dp->match_data);
    if (dp->match_context)
	pcre2_match_context_free(dp->match_context);
    vstring_free(dp->expansion);
    dict_free(dict);
    return (0);
}

/* pcre_next_rule - a zeroed slot at the end of the rule array */

static PCRE_RULE *pcre_next_rule(DICT_PCRE *dp, int lineno)
{
    PCRE_RULE *rule;

    if (dp->count == dp->size) {
	dp->size = dp->size ? 2 * dp->size : 16;
	dp->rules = (PCRE_RULE *) myrealloc(dp->rules, dp->size * sizeof(*dp->rules));
    }
    rule = dp->rules + dp->count;
    memset(rule, 0, sizeof(*rule));
    rule->lineno = lineno;
    rule->endif = -1;
    return (rule);
}

/* pcre_read - parse every rule of FP into DP; -1 on a read error */

static int pcre_read(DICT_PCRE *dp, VSTREAM *fp)
{
    DICT_LINES *lines = dict_lines_open(fp, dp->dict.name);
    VSTRING *line = vstring_alloc(200);
    int    *stack = 0;			/* open IF rules */
    int     nesting = 0;
    int     lineno;
    int     status;

    while ((status = dict_lines_next(lines, line, &lineno)) > 0) {
	PCRE_RULE *rule = pcre_next_rule(dp, lineno);
	char   *end = STR(line) + LEN(line);

	while (end > STR(line) && isspace((unsigned char) end[-1]))
	    *--end = 0;
	if (!pcre_parse_rule(dp, rule, STR(line), nesting))
	    continue;
	if (rule->op == PCRE_OP_IF) {
	    stack = (int *) myrealloc(stack, (nesting + 1) * sizeof(*stack));
	    stack[nesting++] = dp->count;
	} else if (rule->op == PCRE_OP_ENDIF) {
	    dp->rules[stack[--nesting]].endif = dp->count;
	}
	dp->count++;
    }
    while (nesting-- > 0)
	msg_warn("pcre map %s, line %d: IF has no matching ENDIF",
		 dp->dict.name, dp->rules[stack[nesting]].lineno);
    if (stack)
	myfree(stack);
    vstring_free(line);
    dict_lines_free(lines);
    return (status);
}

DICT   *dict_pcre_open(const char *type, const char *name, int flags)
{
    VSTREAM *fp;
    DICT_PCRE *dp;
    int     status;

    if ((fp = vstream_open(name, O_RDONLY, 0)) == 0) {
	msg_warn("open database %s: %s", name, strerror(errno));
	return (dict_fail_open(type, name, flags));
    }
    dp = (DICT_PCRE *) dict_alloc(type, name, flags & ~DICT_FLAG_FOLD_KEY,
				  sizeof(*dp));
    dp->dict.lookup = dict_pcre_lookup;
    dp->dict.close = dict_pcre_close;
    dp->expansion = vstring_alloc(100);
    status = pcre_read(dp, fp);
    (void) vstream_close(fp);
    if (status < 0) {
	dict_pcre_close(&dp->dict);
	return (dict_fail_open(type, name, flags));
    }
    dp->match_data = pcre2_match_data_create(dp->max_capture + 1, 0);
    dp->match_context = pcre2_match_context_create(0);
    if (dp->match_data == 0 || dp->match_context == 0)
	msg_fatal("pcre map %s: out of memory", name);
    pcre2_set_match_limit(dp->match_context, PCRE_MATCH_LIMIT);
    pcre2_set_heap_limit(dp->match_context, PCRE_HEAP_LIMIT);
    return (&dp->dict);
}
