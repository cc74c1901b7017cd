/*
 * master_cf_words.c - master.cf entries as lists of words, for postconf.
 *
 * Implements the "text view" half of lib/global/master_cf.h: postconf -M,
 * -F and -P show and edit master.cf without the daemon's interpretation
 * (master_cf.c), with Postfix's rules:
 *   - a logical entry is a line that starts with a non-blank, plus every
 *     following line that starts with white space; blank lines and '#'
 *     lines are skipped, also inside an entry (master_cf_entry());
 *   - words are separated by white space, and a "{" opens a group that
 *     runs to its "}" whatever it contains (master_cf_words());
 *   - command options are brought into one form: "-vo x" is "-v" "-o" "x",
 *     "-oname=value" is "-o" "name=value", "-o { name = value }" is "-o"
 *     "name=value", and an argument "{ text }" is "text"
 *     (master_cf_words_normalize());
 *   - the columns are checked as Postfix's postconf checks them
 *     (master_cf_words_check()).
 * Warnings go to msg_warn() and name the file as Postfix does; nothing
 * here exits.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "mail_conf.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define WORD_BLANKS	" \t\r\n"
#define WARN_EXCERPT	30		/* chars of a bad line in a warning */

static const char *field_names[] = {
    "service", "type", "private", "unprivileged", "chroot", "wakeup",
    "process_limit", "command", 0,
};

static const char *valid_types[] = {
    "unix", "unix-dgram", "fifo", "inet", "pass", 0,
};

/* Field names */

const char *master_cf_field_name(int field)
{
    if (field < 0 || field > MASTER_CF_FLD_COMMAND)
	return ("(bad field)");
    return (field_names[field]);
}

int     master_cf_field_code(const char *name)
{
    int     i;

    for (i = 0; field_names[i]; i++)
	if (strcmp(field_names[i], name) == 0)
	    return (i);
    return (-1);
}

/* Logical entries */

/* line_is_blank - an empty, all-blank or comment line */

static int line_is_blank(const char *start, const char *end)
{
    while (start < end && isspace((unsigned char) *start))
	start++;
    return (start == end || *start == '#');
}

/* take_line - the physical line at *CURSOR (without '\n'); advances */

static void take_line(const char **cursor, const char **start, const char **end)
{
    const char *eol = strchrnul(*cursor, '\n');

    *start = *cursor;
    *end = eol;
    *cursor = *eol ? eol + 1 : eol;
}

int     master_cf_entry(const char **cursor, const char *path, int *lineno,
			        VSTRING *entry, int *first)
{
    const char *start;
    const char *end;

    for (;;) {
	vstring_reset(entry);
	*first = 0;
	while (**cursor) {
	    if (LEN(entry) > 0 && **cursor != '#' && **cursor != '\n'
		&& !isspace((unsigned char) **cursor))
		break;				/* the next entry starts */
	    take_line(cursor, &start, &end);
	    ++*lineno;
	    if (line_is_blank(start, end))
		continue;
	    if (LEN(entry) == 0)
		*first = *lineno;
	    vstring_memcat(entry, start, end - start);
	}
	if (LEN(entry) == 0)
	    return (0);
	if (!isspace((unsigned char) STR(entry)[0]))
	    return (1);
	msg_warn("%s: logical line must not start with whitespace: \"%.*s%s\"",
		 path, WARN_EXCERPT, STR(entry),
		 LEN(entry) > WARN_EXCERPT ? "..." : "");
    }
}

/* Word lists */

static void words_grow(MASTER_CF_WORDS *w, int need)
{
    if (need + 1 <= w->cap)
	return;
    while (w->cap < need + 1)
	w->cap = w->cap ? 2 * w->cap : 16;
    w->argv = myrealloc(w->argv, w->cap * sizeof(*w->argv));
}

void    master_cf_words_insert(MASTER_CF_WORDS *w, int at, const char *word)
{
    if (at < 0 || at > w->argc)
	msg_panic("master_cf_words_insert: bad position %d of %d", at, w->argc);
    words_grow(w, w->argc + 1);
    memmove(w->argv + at + 1, w->argv + at, (w->argc - at + 1) * sizeof(*w->argv));
    w->argv[at] = mystrdup(word);
    w->argc++;
}

void    master_cf_words_add(MASTER_CF_WORDS *w, const char *word)
{
    master_cf_words_insert(w, w->argc, word);
}

void    master_cf_words_delete(MASTER_CF_WORDS *w, int at, int count)
{
    int     i;

    if (at < 0 || count < 0 || at + count > w->argc)
	msg_panic("master_cf_words_delete: bad range %d+%d of %d", at, count, w->argc);
    for (i = at; i < at + count; i++)
	myfree(w->argv[i]);
    memmove(w->argv + at, w->argv + at + count,
	    (w->argc - at - count + 1) * sizeof(*w->argv));
    w->argc -= count;
}

void    master_cf_words_replace(MASTER_CF_WORDS *w, int at, const char *word)
{
    char   *copy = mystrdup(word);		/* WORD may be w->argv[at] */

    if (at < 0 || at >= w->argc)
	msg_panic("master_cf_words_replace: bad position %d of %d", at, w->argc);
    myfree(w->argv[at]);
    w->argv[at] = copy;
}

void    master_cf_words_truncate(MASTER_CF_WORDS *w, int count)
{
    if (count < w->argc)
	master_cf_words_delete(w, count, w->argc - count);
}

void    master_cf_words_free(MASTER_CF_WORDS *w)
{
    int     i;

    if (w == 0)
	return;
    for (i = 0; i < w->argc; i++)
	myfree(w->argv[i]);
    myfree(w->argv);
    myfree(w);
}

/* next_word - the next word of *CP: blanks separate, but not inside {} */

static const char *next_word(const char **cp, size_t *len)
{
    const char *start;
    const char *p;
    int     level = 0;

    for (p = *cp; *p && strchr(WORD_BLANKS, *p); p++)
	 /* void */ ;
    if (*p == 0)
	return (0);
    for (start = p; *p; p++) {
	if (*p == '{')
	    level++;
	else if (*p == '}' && level > 0)
	    level--;
	else if (level == 0 && strchr(WORD_BLANKS, *p))
	    break;
    }
    *len = p - start;
    *cp = p;
    return (start);
}

void    master_cf_words_append_text(MASTER_CF_WORDS *w, const char *text)
{
    const char *cp = text;
    const char *word;
    size_t  len;
    char   *copy;

    while ((word = next_word(&cp, &len)) != 0) {
	copy = mystrndup(word, len);
	master_cf_words_add(w, copy);
	myfree(copy);
    }
}

MASTER_CF_WORDS *master_cf_words(const char *text)
{
    MASTER_CF_WORDS *w = mycalloc(1, sizeof(*w));

    words_grow(w, 0);
    w->argv[0] = 0;
    master_cf_words_append_text(w, text);
    return (w);
}

/* Normalizing command options */

/* balanced_len - length of the "{...}" group at TEXT, 0 if unbalanced */

static size_t balanced_len(const char *text)
{
    const char *p;
    int     level = 0;

    for (p = text; *p; p++) {
	if (*p == '{')
	    level++;
	else if (*p == '}' && --level == 0)
	    return (p - text + 1);
    }
    return (0);
}

/* strip_braces - "{ text }" as "text"; a bad group is warned about */

static void strip_braces(MASTER_CF_WORDS *w, int at)
{
    const char *word = w->argv[at];
    size_t  len = balanced_len(word);
    const char *start = word + 1;
    const char *end;
    char   *inner;

    if (len == 0) {
	msg_warn("master.cf: missing '}' in \"%s\"", word);
	end = word + strlen(word);
    } else {
	if (word[len] != 0)
	    msg_warn("master.cf: syntax error after '}' in \"%s\"", word);
	end = word + len - 1;
    }
    while (start < end && isspace((unsigned char) *start))
	start++;
    while (end > start && isspace((unsigned char) end[-1]))
	end--;
    inner = mystrndup(start, end - start);
    master_cf_words_replace(w, at, inner);
    myfree(inner);
}

/* tidy_nameval - "name = value" as "name=value" (left alone when bad) */

static void tidy_nameval(MASTER_CF_WORDS *w, int at)
{
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(32);

    if (conf_split_nameval(w->argv[at], name, value) == 0) {
	vstring_addch(name, '=');
	vstring_strcat(name, STR(value));
	master_cf_words_replace(w, at, STR(name));
    }
    vstring_free(name);
    vstring_free(value);
}

/* split_combined - "-vo" as "-v" "-o"; 1 when the word was split */

static int split_combined(MASTER_CF_WORDS *w, int at)
{
    const char *arg = w->argv[at];
    const char *o = strchr(arg + 1, 'o');
    char   *head;
    char   *tail;

    if (o == 0 || o == arg + 1)
	return (0);
    head = mystrndup(arg, o - arg);
    tail = mymalloc(strlen(o) + 2);
    tail[0] = '-';
    strcpy(tail + 1, o);
    master_cf_words_insert(w, at + 1, tail);
    master_cf_words_replace(w, at, head);
    myfree(head);
    myfree(tail);
    return (1);
}

void    master_cf_words_normalize(MASTER_CF_WORDS *w)
{
    int     at;
    int     value_at;

    for (at = MASTER_CF_FLD_COMMAND + 1; at < w->argc; at++) {
	if (!MASTER_CF_IS_OPTION(w->argv[at]))
	    break;
	split_combined(w, at);
	if (w->argv[at][1] != 'o')
	    continue;
	if (w->argv[at][2] != 0) {		/* "-oname=value" */
	    master_cf_words_insert(w, at + 1, w->argv[at] + 2);
	    master_cf_words_replace(w, at, "-o");
	} else if (at + 1 >= w->argc) {
	    continue;				/* "-o" at the end */
	}
	value_at = ++at;
	if (w->argv[value_at][0] == '{') {
	    strip_braces(w, value_at);
	    tidy_nameval(w, value_at);
	}
    }
    for (; at < w->argc; at++)
	if (w->argv[at][0] == '{')
	    strip_braces(w, at);
}

/* Checks */

/* check_type - one of Postfix's service types */

static int check_type(const char *type)
{
    const char **cpp;

    for (cpp = valid_types; *cpp; cpp++)
	if (strcmp(*cpp, type) == 0)
	    return (0);
    return (-1);
}

/* check_wakeup - "-", "N" or "N?" */

static int check_wakeup(const char *text)
{
    size_t  len = strlen(text);

    if (len > 0 && text[len - 1] == '?')
	len--;
    if (text[0] == '-' && len == 1)
	return (0);
    return (strspn(text, "0123456789") == len ? 0 : -1);
}

const char *master_cf_words_check(const MASTER_CF_WORDS *w, VSTRING *why)
{
    const char *bad;
    int     field;

    if (w->argc <= MASTER_CF_FLD_COMMAND)
	return (vstring_strcpy(why, "bad field count")->data);
    if (check_type(w->argv[MASTER_CF_FLD_TYPE]) < 0) {
	field = MASTER_CF_FLD_TYPE;
    } else {
	for (field = MASTER_CF_FLD_PRIVATE; field <= MASTER_CF_FLD_CHROOT; field++) {
	    bad = w->argv[field];
	    if (bad[1] != 0 || strchr("yn-", bad[0]) == 0 || bad[0] == 0)
		break;
	}
	if (field > MASTER_CF_FLD_CHROOT) {
	    bad = w->argv[MASTER_CF_FLD_MAXPROC];
	    if (check_wakeup(w->argv[MASTER_CF_FLD_WAKEUP]) < 0)
		field = MASTER_CF_FLD_WAKEUP;
	    else if (strcmp(bad, "-") != 0 && bad[strspn(bad, "0123456789")] != 0)
		field = MASTER_CF_FLD_MAXPROC;
	    else
		return (0);
	}
    }
    vstring_sprintf(why, "invalid %s field \"%s\"", master_cf_field_name(field),
		    w->argv[field]);
    return (STR(why));
}
