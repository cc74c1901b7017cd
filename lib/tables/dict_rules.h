/*
 * dict_rules.h - tables that are a list of rules tried in order: pcre:,
 * regexp: (dict_pcre.c, dict_regexp.c) and cidr: (dict_cidr.c).
 *
 * The file is read once into rules: MATCH (a pattern and a result),
 * IF (a pattern; the rules up to its ENDIF apply only when it matches)
 * and ENDIF.  A lookup walks the rules and returns the first MATCH
 * result whose pattern applies to the key ("!" negates a pattern).
 * A line that cannot be used is warned about as "KIND map FILE, line N:
 * ..." and skipped, so the rest of the table still works; an IF without
 * ENDIF is warned about and, when it does not match, ends the lookup.
 *
 * What this module shares: reading the logical lines (dict_lines_*),
 * the IF/ENDIF nesting, the lookup walk, and for pcre:/regexp: the
 * whole "[!]/regex/flags result" syntax (dict_rules_parse_regex) with
 * $1, ${1}, $(1) and $$ in results.  A backend describes itself with a
 * DICT_RULES_ENGINE and embeds DICT_RULES first in its own structure:
 *
 *	static const DICT_RULES_ENGINE engine = {"regexp", ...};
 *	return (dict_rules_open(type, name, flags, &engine, sizeof(MY_DICT)));
 */
#ifndef DICT_RULES_H
#define DICT_RULES_H

#include "sys_defs.h"
#include "dict_private.h"

#define DICT_RULE_MATCH	1
#define DICT_RULE_IF	2
#define DICT_RULE_ENDIF	3

typedef struct DICT_RULE {
    int     op;				/* DICT_RULE_* */
    int     lineno;			/* where it starts in the file */
    int     match;			/* 1: applies when it matches; 0: "!" */
    void   *pattern;			/* MATCH, IF: the engine's pattern */
    void   *pattern2;			/* regexp "/a/!/b/": the second, or NULL */
    int     match2;
    char   *result;			/* MATCH: literal, or with $n (max_sub) */
    int     max_sub;			/* MATCH: largest $n; 0: literal result */
    int     endif;			/* IF: index of its ENDIF, or -1 */
} DICT_RULE;

/* What a group of a match covered in the key; start < 0: did not take part */
typedef struct DICT_RULE_GROUP {
    long    start;
    long    end;
} DICT_RULE_GROUP;

typedef struct DICT_RULES DICT_RULES;

typedef struct DICT_RULES_ENGINE {
    const char *kind;			/* "pcre": "pcre map FILE, line N: ..." */
    /* parse - LINE (trimmed) into RULE (op set); 0 when skipped (warned) */
    int     (*parse) (DICT_RULES *dr, DICT_RULE *rule, char *line, int nesting);
    /* prepare - what exec() gets for KEY (NULL: nothing can match); NULL: KEY */
    const void *(*prepare) (DICT_RULES *dr, const char *key);
    /*
     * exec - 1: PATTERN matches SUBJECT (with NGROUPS > 0, GROUPS[0..n-1]
     * filled), 0: it does not, -1: neither the rule nor its negation
     * applies (an error, warned; or cidr: another address family).
     */
    int     (*exec) (DICT_RULES *dr, const DICT_RULE *rule, const void *pattern,
		             const void *subject, DICT_RULE_GROUP *groups, int ngroups);
    void    (*free_pattern) (void *pattern);
    int     (*ready) (DICT_RULES *dr);	/* after reading (or NULL): 0, -1 */
    void    (*release) (DICT_RULES *dr);	/* at close (or NULL) */

    /* The "/regex/flags" syntax of dict_rules_parse_regex() */
    unsigned default_options;
    /* flag - apply option letter CH to *OPTIONS; 0: unknown letter */
    int     (*flag) (DICT_RULES *dr, int lineno, int ch, unsigned *options);
    /* compile - NULL on error (warned); *NSUB: its capture groups */
    void   *(*compile) (DICT_RULES *dr, int lineno, const char *regex,
			            unsigned options, int need_sub, int *nsub);
    int     second_pattern;		/* "/a/!/b/ result" allowed */
    int     backslash_ends;		/* "/a\" at the end: the pattern is "a" */
    const char *delim_action;		/* "skipping" or "ignoring" (wording) */
    const char *range_word;		/* "out-of-range" or "out of range" */
} DICT_RULES_ENGINE;

struct DICT_RULES {
    DICT    dict;			/* must be first */
    const DICT_RULES_ENGINE *engine;
    DICT_RULE *rules;
    int     count;
    int     size;
    int     max_sub;			/* largest $n of any rule */
    DICT_RULE_GROUP *groups;		/* max_sub + 1 of them */
    VSTRING *expansion;			/* a result with $n */
    void   *scratch;			/* the engine's buffer, or NULL; myfree()d */
};

/* dict_rules_open - read NAME into a table of SIZE bytes; never NULL */
DICT   *dict_rules_open(const char *type, const char *name, int flags,
			        const DICT_RULES_ENGINE *engine, size_t size);

/* dict_rules_parse_regex - the parse() of pcre: and regexp: */
int	dict_rules_parse_regex(DICT_RULES *dr, DICT_RULE *rule, char *line, int nesting);

/* dict_rules_keyword - LINE starts with WORD (any case) and then no letter or digit */
int	dict_rules_keyword(const char *line, const char *word);

/* dict_rules_warn - "KIND map NAME, line LINENO: text" */
void	dict_rules_warn(DICT_RULES *dr, int lineno, const char *fmt,...) PRINTFLIKE(3, 4);

#endif
