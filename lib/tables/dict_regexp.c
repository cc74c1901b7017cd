/*
 * dict_regexp.c - regexp: tables, Postfix's regexp_table(5) on POSIX
 * regular expressions (<regex.h>).
 *
 * dict_open("regexp:/etc/posthorn/header_checks", 0) reads the file once:
 *
 *	/regex/flags result		first rule that matches wins
 *	!/regex/flags result		when the regex does not match
 *	/regex1/flags!/regex2/flags result	when 1 matches and 2 does not
 *	if [!]/regex/flags  ...  endif	a block of rules; blocks nest
 *
 * Expressions are POSIX extended ones.  Flags toggle: i (case-less
 * matching, on by default), x (extended syntax, on by default: x turns
 * basic regular expressions on), m (multi-line: '^' and '$' match at
 * newlines, '.' and [^...] do not match a newline).  In the result, $1,
 * ${1} and $(1) insert what a group matched, $$ is a '$'.  Comments,
 * continuation lines (starting with white space) and the warnings
 * ("regexp map FILE, line N: ...", the rule skipped) are Postfix's; the
 * syntax and the lookup walk are shared with pcre: (dict_rules.c).
 * Keys are never folded: the patterns say how case is treated.
 */
#include "sys_defs.h"
#include <regex.h>
#include "msg.h"
#include "mymalloc.h"
#include "dict_rules.h"

/* regexp_error - "regexp map FILE, line N: " and what regerror() says */

static void regexp_error(DICT_RULES *dr, int lineno, int error, const regex_t *expr)
{
    char    buf[256];

    (void) regerror(error, expr, buf, sizeof(buf));
    dict_rules_warn(dr, lineno, "%s", buf);
}

/* regexp_flag - one option letter after the closing delimiter */

static int regexp_flag(DICT_RULES *dr, int lineno, int ch, unsigned *options)
{
    (void) dr;
    (void) lineno;
    switch (ch) {
    case 'i': *options ^= REG_ICASE; break;
    case 'm': *options ^= REG_NEWLINE; break;
    case 'x': *options ^= REG_EXTENDED; break;
    default: return (0);
    }
    return (1);
}

/* regexp_compile - REGEX with OPTIONS; NULL (warned) on error */

static void *regexp_compile(DICT_RULES *dr, int lineno, const char *regex,
			            unsigned options, int need_sub, int *nsub)
{
    regex_t *expr = (regex_t *) mymalloc(sizeof(*expr));
    int     error;

    if (!need_sub)
	options |= REG_NOSUB;
    if ((error = regcomp(expr, regex, (int) options)) != 0) {
	regexp_error(dr, lineno, error, expr);
	myfree(expr);
	return (0);
    }
    *nsub = (int) expr->re_nsub;
    return (expr);
}

/* regexp_exec - 1 match (GROUPS filled), 0 no match, -1 error (warned) */

static int regexp_exec(DICT_RULES *dr, const DICT_RULE *rule, const void *pattern,
		               const void *subject, DICT_RULE_GROUP *groups, int ngroups)
{
    regmatch_t *pmatch = (regmatch_t *) dr->scratch;
    int     error;

    error = regexec((const regex_t *) pattern, (const char *) subject,
		    ngroups, ngroups ? pmatch : 0, 0);
    if (error == REG_NOMATCH)
	return (0);
    if (error != 0) {
	regexp_error(dr, rule->lineno, error, (const regex_t *) pattern);
	return (-1);
    }
    for (int n = 0; n < ngroups; n++) {
	groups[n].start = pmatch[n].rm_so;
	groups[n].end = pmatch[n].rm_eo;
    }
    return (1);
}

static void regexp_free_pattern(void *pattern)
{
    regfree((regex_t *) pattern);
    myfree(pattern);
}

/* regexp_ready - room for the groups of the largest $n (dr->scratch) */

static int regexp_ready(DICT_RULES *dr)
{
    dr->scratch = mycalloc(dr->max_sub + 1, sizeof(regmatch_t));
    return (0);
}

/* Fields as in dict_rules.h; Postfix's wording "skipping", "out-of-range" */

static const DICT_RULES_ENGINE regexp_engine = {
    "regexp", dict_rules_parse_regex, 0, regexp_exec, regexp_free_pattern,
    regexp_ready, 0, REG_EXTENDED | REG_ICASE, regexp_flag, regexp_compile,
    1, 1, "skipping", "out-of-range",
};

DICT   *dict_regexp_open(const char *type, const char *name, int flags)
{
    return (dict_rules_open(type, name, flags, &regexp_engine, sizeof(DICT_RULES)));
}
