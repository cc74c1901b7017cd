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
 * $1, ${1} and $(1) insert what a group matched, $$ is a '$'.
 *
 * The file syntax, the warnings ("pcre map FILE, line N: ...") and the
 * lookup walk are shared with regexp: in dict_rules.c; this file is the
 * PCRE2 part: options, compiling, matching.  Keys are never folded: the
 * patterns say how case is treated.  One match-data block serves every
 * rule of a table; matching is limited (match and heap limits) so a bad
 * pattern cannot run away.
 */
#include "sys_defs.h"
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "msg.h"
#include "mymalloc.h"
#include "dict_rules.h"

#define PCRE_MATCH_LIMIT	1000000		/* backtracking steps per match */
#define PCRE_HEAP_LIMIT		(20 * 1024)	/* KiB per match */

typedef struct DICT_PCRE {
    DICT_RULES rules;			/* must be first */
    uint32_t max_capture;		/* most groups in any pattern */
    pcre2_match_data *match_data;	/* shared by all rules */
    pcre2_match_context *match_context;	/* limits */
} DICT_PCRE;

/* pcre_error_text - PCRE2's message for an error code */

static const char *pcre_error_text(int code, char *buf, size_t len)
{
    if (pcre2_get_error_message(code, (PCRE2_UCHAR *) buf, len) < 0)
	snprintf(buf, len, "unexpected pcre2 error code %d", code);
    return (buf);
}

/* pcre_flag - one option letter after the closing delimiter */

static int pcre_flag(DICT_RULES *dr, int lineno, int ch, unsigned *options)
{
    switch (ch) {
    case 'i': *options ^= PCRE2_CASELESS; break;
    case 'm': *options ^= PCRE2_MULTILINE; break;
    case 's': *options ^= PCRE2_DOTALL; break;
    case 'x': *options ^= PCRE2_EXTENDED; break;
    case 'A': *options ^= PCRE2_ANCHORED; break;
    case 'E': *options ^= PCRE2_DOLLAR_ENDONLY; break;
    case 'U': *options ^= PCRE2_UNGREEDY; break;
    case 'X':
	dict_rules_warn(dr, lineno, "ignoring obsolete regexp option \"%c\"", ch);
	break;
    default:
	return (0);
    }
    return (1);
}

/* pcre_compile - REGEX with OPTIONS; NULL (warned) on error */

static void *pcre_compile(DICT_RULES *dr, int lineno, const char *regex,
			          unsigned options, int need_sub, int *nsub)
{
    DICT_PCRE *dp = (DICT_PCRE *) dr;
    pcre2_code *code;
    int     error;
    PCRE2_SIZE offset;
    uint32_t captures = 0;
    char    buf[256];

    (void) need_sub;
    code = pcre2_compile((PCRE2_SPTR) regex, PCRE2_ZERO_TERMINATED, options,
			 &error, &offset, 0);
    if (code == 0) {
	dict_rules_warn(dr, lineno, "error in regex at offset %lu: %s",
			(unsigned long) offset,
			pcre_error_text(error, buf, sizeof(buf)));
	return (0);
    }
    (void) pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
    if (captures > dp->max_capture)
	dp->max_capture = captures;
    *nsub = (int) captures;
    return (code);
}

/* pcre_exec - 1 match (GROUPS filled), 0 no match, -1 error (warned) */

static int pcre_exec(DICT_RULES *dr, const DICT_RULE *rule, const void *pattern,
		             const void *subject, DICT_RULE_GROUP *groups, int ngroups)
{
    DICT_PCRE *dp = (DICT_PCRE *) dr;
    PCRE2_SIZE *ovector;
    char    buf[256];
    int     rc;

    rc = pcre2_match((const pcre2_code *) pattern, (PCRE2_SPTR) subject,
		     PCRE2_ZERO_TERMINATED, 0, 0, dp->match_data, dp->match_context);
    if (rc == PCRE2_ERROR_NOMATCH)
	return (0);
    if (rc < 0) {
	dict_rules_warn(dr, rule->lineno, "%s", pcre_error_text(rc, buf, sizeof(buf)));
	return (-1);
    }
    ovector = pcre2_get_ovector_pointer(dp->match_data);
    for (int n = 0; n < ngroups; n++) {
	int     set = n < rc && ovector[2 * n] != PCRE2_UNSET;

	groups[n].start = set ? (long) ovector[2 * n] : -1;
	groups[n].end = set ? (long) ovector[2 * n + 1] : -1;
    }
    return (1);
}

static void pcre_free_pattern(void *pattern)
{
    pcre2_code_free((pcre2_code *) pattern);
}

/* pcre_ready - the match data for the largest pattern, and the limits */

static int pcre_ready(DICT_RULES *dr)
{
    DICT_PCRE *dp = (DICT_PCRE *) dr;

    dp->match_data = pcre2_match_data_create(dp->max_capture + 1, 0);
    dp->match_context = pcre2_match_context_create(0);
    if (dp->match_data == 0 || dp->match_context == 0)
	msg_fatal("pcre map %s: out of memory", dr->dict.name);
    pcre2_set_match_limit(dp->match_context, PCRE_MATCH_LIMIT);
    pcre2_set_heap_limit(dp->match_context, PCRE_HEAP_LIMIT);
    return (0);
}

static void pcre_release(DICT_RULES *dr)
{
    DICT_PCRE *dp = (DICT_PCRE *) dr;

    if (dp->match_data)
	pcre2_match_data_free(dp->match_data);
    if (dp->match_context)
	pcre2_match_context_free(dp->match_context);
}

/* Fields as in dict_rules.h; Postfix's wording "ignoring", "out of range" */

static const DICT_RULES_ENGINE pcre_engine = {
    "pcre", dict_rules_parse_regex, 0, pcre_exec, pcre_free_pattern,
    pcre_ready, pcre_release, PCRE2_CASELESS | PCRE2_DOTALL, pcre_flag,
    pcre_compile, 0, 0, "ignoring", "out of range",
};

DICT   *dict_pcre_open(const char *type, const char *name, int flags)
{
    return (dict_rules_open(type, name, flags, &pcre_engine, sizeof(DICT_PCRE)));
}
