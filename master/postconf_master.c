/*
 * postconf_master.c - master.cf for postconf: -M, -F and -P.
 *
 * pc_read_master() reads master.cf into pc_master_table[] through the
 * text view of lib/global/master_cf.h: words, with the command options
 * normalized, and the columns checked as Postfix's postconf checks them
 * (a bad entry is fatal: "file F: line N: bad field count", "invalid
 * type field ..."), so that every entry of a Postfix master.cf is shown.
 *
 * The output is Postfix 3.7's:
 *   -M  "name type private unpriv chroot wakeup maxproc command args" with
 *       the columns at 0, 11, 17, 25, 33, 41, 49 and 57; an argument with
 *       white space is shown as "{...}", an -o value with white space as
 *       "-o {name=value}"; with -f a line is folded before a word that
 *       would end past column 80, and each "-o name=value" (any option
 *       that takes a value) goes on its own line, indented by 4.
 *   -F  "name/type/field = value", one line per field.
 *   -P  "name/type/parameter = value" for each -o, sorted by name, the
 *       last of the same name winning.
 * Arguments narrow the output ("name", "name/type", "name/type/field",
 * "*" for any part); one that matches nothing is warned about as
 * "unmatched request".  -x expands $name in -o values, the entry's own
 * -o settings and its service_name first.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"

PC_MASTER_ENT *pc_master_table;
int     pc_master_count;

static const int pc_column_goal[] = {0, 11, 17, 25, 33, 41, 49, 57};

/* Reading */

/* pc_collect_params - the -o name=value settings of ENT, the last winning */

static void pc_collect_params(PC_MASTER_ENT *ent)
{
    MASTER_CF_WORDS *w = ent->words;
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(32);
    size_t  i;
    int     at;

    for (at = MASTER_CF_FLD_COMMAND + 1; at < w->argc; at++) {
	if (!MASTER_CF_IS_OPTION(w->argv[at]))
	    break;
	if (strcmp(w->argv[at], "-o") != 0 || at + 1 >= w->argc)
	    continue;
	at++;
	if (conf_split_nameval(w->argv[at], name, value) != 0)
	    continue;
	for (i = 0; i < ent->param_names.len; i++)
	    if (strcmp(ent->param_names.item[i], STR(name)) == 0)
		break;
	if (i < ent->param_names.len) {
	    myfree(ent->param_values.item[i]);
	    ent->param_values.item[i] = mystrdup(STR(value));
	} else {
	    pc_list_add(&ent->param_names, STR(name));
	    pc_list_add(&ent->param_values, STR(value));
	}
    }
    vstring_free(name);
    vstring_free(value);
}

/* pc_bad_field - fatal: a bad column; newlines in TEXT become spaces, as Postfix */

static NORETURN pc_bad_field(const char *why, const char *text)
{
    char   *copy = mystrdup(text);
    char   *cp;

    for (cp = copy; (cp = strchr(cp, '\n')) != 0; cp++)
	*cp = ' ';
    msg_fatal("%s in \"%s\"", why, copy);
}

const char *pc_parse_master_entry(PC_MASTER_ENT *ent, const char *text, VSTRING *why)
{
    MASTER_CF_WORDS *w = master_cf_words(text);
    VSTRING *ns;

    memset(ent, 0, sizeof(*ent));
    if (w->argc <= MASTER_CF_FLD_COMMAND) {
	master_cf_words_free(w);
	vstring_strcpy(why, "bad field count");
	return (STR(why));
    }
    if (master_cf_words_check(w, why) != 0)
	pc_bad_field(STR(why), text);
    master_cf_words_normalize(w);
    ent->words = w;
    ns = vstring_alloc(32);
    vstring_sprintf(ns, "%s/%s", w->argv[0], w->argv[1]);
    ent->name_space = vstring_export(ns);
    pc_collect_params(ent);
    return (0);
}

void    pc_free_master_entry(PC_MASTER_ENT *ent)
{
    master_cf_words_free(ent->words);
    if (ent->name_space)
	myfree(ent->name_space);
    pc_list_free(&ent->param_names);
    pc_list_free(&ent->param_values);
    memset(ent, 0, sizeof(*ent));
}

void    pc_read_master(int fail_on_open)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *entry = vstring_alloc(256);
    VSTRING *why = vstring_alloc(100);
    char   *text;
    const char *cursor;
    int     lineno = 0;
    int     first;

    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    if ((text = pc_read_file(STR(path))) == 0) {
	if (fail_on_open)
	    msg_fatal("open %s: %m", STR(path));
	msg_warn("open %s: %m", STR(path));
    } else {
	for (cursor = text; master_cf_entry(&cursor, STR(path), &lineno, entry, &first);) {
	    pc_master_table = myrealloc(pc_master_table,
			      (pc_master_count + 1) * sizeof(*pc_master_table));
	    if (pc_parse_master_entry(pc_master_table + pc_master_count,
				      STR(entry), why) != 0)
		msg_fatal("file %s: line %d: %s", STR(path), first, STR(why));
	    pc_master_count++;
	}
	myfree(text);
    }
    vstring_free(path);
    vstring_free(entry);
    vstring_free(why);
}

const char *pc_master_param(const PC_MASTER_ENT *ent, const char *name)
{
    size_t  i;

    for (i = 0; i < ent->param_names.len; i++)
	if (strcmp(ent->param_names.item[i], name) == 0)
	    return (ent->param_values.item[i]);
    return (0);
}

/* Expansion in an entry's scope */

static const char *pc_entry_lookup(const char *name, void *ctx)
{
    const PC_MASTER_ENT *ent = ctx;

    if (strcmp(name, "service_name") == 0)
	return (ent->words->argv[MASTER_CF_FLD_SERVICE]);
    return (pc_master_param(ent, name));
}

const char *pc_expand_in_entry(VSTRING *buf, const char *value, const PC_MASTER_ENT *ent)
{
    conf_expand_scoped(buf, value, pc_entry_lookup, (void *) ent);
    return (STR(buf));
}

/* Printing */

typedef struct PC_LINE {
    VSTREAM *out;
    int     mode;
    size_t  len;			/* columns on the current line */
} PC_LINE;

static void pc_add_text(PC_LINE *ln, const char *text)
{
    vstream_fputs(text, ln->out);
    ln->len += strlen(text);
}

/* pc_has_blank - a word that needs "{...}" around it */

static int pc_has_blank(const char *word)
{
    return (word[strcspn(word, " \t\r\n")] != 0);
}

/* pc_add_word - a word (or "{word}"), with a space or a fold before it */

static void pc_add_word(PC_LINE *ln, const char *word, size_t width, int parens)
{
    if (ln->len > PC_INDENT_LEN) {
	if (!(ln->mode & PC_FOLD_LINE) || ln->len + 1 + width < PC_LINE_LIMIT) {
	    pc_add_text(ln, " ");
	} else {
	    vstream_fputs("\n" PC_INDENT_TEXT, ln->out);
	    ln->len = PC_INDENT_LEN;
	}
    }
    if (parens)
	pc_add_text(ln, "{");
    pc_add_text(ln, word);
    if (parens)
	pc_add_text(ln, "}");
}

/*
 * pc_add_arguments - the command's arguments from AT on: options first
 * ("-o value" pairs on a line of their own), then the other arguments.
 */
static void pc_add_arguments(PC_LINE *ln, const PC_MASTER_ENT *ent, int at)
{
    char  **argv = ent->words->argv;
    VSTRING *buf = vstring_alloc(100);
    const char *value;
    int     options = 1;

    for (; argv[at]; at++) {
	if (options && !MASTER_CF_IS_OPTION(argv[at]))
	    options = 0;
	if (!options) {
	    pc_add_word(ln, argv[at], strlen(argv[at]), pc_has_blank(argv[at]));
	} else if (argv[at][1] != 'o' || argv[at + 1] == 0) {
	    pc_add_word(ln, argv[at], strlen(argv[at]), 0);
	} else {
	    value = argv[++at];
	    if (strcmp(argv[at - 1], "-o") == 0 && (ln->mode & PC_SHOW_EVAL))
		value = pc_expand_in_entry(buf, value, ent);
	    ln->len = PC_LINE_LIMIT;		/* a line of its own */
	    pc_add_word(ln, argv[at - 1], PC_LINE_LIMIT, 0);
	    pc_add_text(ln, " ");
	    if (pc_has_blank(value))
		pc_add_text(ln, "{");
	    pc_add_text(ln, value);
	    if (pc_has_blank(value))
		pc_add_text(ln, "}");
	    ln->len = PC_LINE_LIMIT;
	}
    }
    vstring_free(buf);
}

void    pc_print_master_entry(VSTREAM *out, int mode, PC_MASTER_ENT *ent)
{
    PC_LINE ln = {out, mode, 0};
    char  **argv = ent->words->argv;
    int     field;

    for (field = 0; field <= MASTER_CF_FLD_COMMAND; field++) {
	if (ln.len > 0) {
	    do {
		pc_add_text(&ln, " ");
	    } while (ln.len < (size_t) pc_column_goal[field]);
	}
	pc_add_text(&ln, argv[field]);
    }
    pc_add_arguments(&ln, ent, MASTER_CF_FLD_COMMAND + 1);
    vstream_putc('\n', out);
}

/* pc_print_field - "name/type/field = value" */

static void pc_print_field(VSTREAM *out, int mode, PC_MASTER_ENT *ent, int field)
{
    PC_LINE ln = {out, mode, 0};
    const char *value = ent->words->argv[field];

    if (!(mode & PC_HIDE_NAME)) {
	pc_add_text(&ln, ent->name_space);
	pc_add_text(&ln, "/");
	pc_add_text(&ln, master_cf_field_name(field));
	if (mode & PC_HIDE_VALUE) {
	    vstream_putc('\n', out);
	    return;
	}
	pc_add_text(&ln, " = ");
	if (ln.len + strlen(value) > PC_LINE_LIMIT) {
	    vstream_fputs("\n" PC_INDENT_TEXT, out);
	    ln.len = PC_INDENT_LEN;
	}
    }
    pc_add_text(&ln, value);
    if (field == MASTER_CF_FLD_COMMAND)
	pc_add_arguments(&ln, ent, field + 1);
    vstream_putc('\n', out);
}

/* pc_print_param - "name/type/parameter = value" */

static void pc_print_param(VSTREAM *out, int mode, const PC_MASTER_ENT *ent,
			           const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);

    if (mode & PC_SHOW_EVAL)
	value = pc_expand_in_entry(buf, value, ent);
    if (mode & PC_HIDE_VALUE)
	vstring_sprintf(line, "%s/%s", ent->name_space, name);
    else if (mode & PC_HIDE_NAME)
	vstring_strcpy(line, value);
    else
	vstring_sprintf(line, "%s/%s = %s", ent->name_space, name, value);
    pc_print_line(out, mode, STR(line));
    vstring_free(buf);
    vstring_free(line);
}

static void pc_print_all_params(VSTREAM *out, int mode, const PC_MASTER_ENT *ent)
{
    PC_LIST names = {0, 0, 0};
    size_t  i;

    for (i = 0; i < ent->param_names.len; i++)
	pc_list_add(&names, ent->param_names.item[i]);
    pc_list_sort(&names);
    for (i = 0; i < names.len; i++)
	pc_print_param(out, mode, ent, names.item[i], pc_master_param(ent, names.item[i]));
    pc_list_free(&names);
}

/* Requests on the command line */

typedef struct PC_REQUEST {
    const char *text;
    PC_PATTERN pat;
    int     field;			/* -F: a field, or -1 for "*" */
    int     matched;
} PC_REQUEST;

#define PC_REQ_FIELDS	1		/* the third part names a field */

static PC_REQUEST *pc_parse_requests(int argc, char **argv, int max, int flags,
				             const char *usage)
{
    PC_REQUEST *reqs = mycalloc(argc ? argc : 1, sizeof(*reqs));
    int     i;

    for (i = 0; i < argc; i++) {
	reqs[i].text = argv[i];
	if (pc_parse_pattern(argv[i], 1, max, &reqs[i].pat) < 0)
	    msg_fatal("%s", usage);
	reqs[i].field = -1;
	if ((flags & PC_REQ_FIELDS) && !PC_MATCH_ANY(reqs[i].pat.part[2])
	  && (reqs[i].field = master_cf_field_code(reqs[i].pat.part[2])) < 0)
	    msg_fatal("invalid service attribute name: \"%s\"", reqs[i].pat.part[2]);
    }
    return (reqs);
}

static void pc_finish_requests(PC_REQUEST *reqs, int argc)
{
    int     i;

    for (i = 0; i < argc; i++) {
	if (reqs[i].matched == 0)
	    msg_warn("unmatched request: \"%s\"", reqs[i].text);
	pc_free_pattern(&reqs[i].pat);
    }
    myfree(reqs);
}

static int pc_entry_matches(PC_REQUEST *req, const PC_MASTER_ENT *ent)
{
    return (pc_match_service(&req->pat, ent->words->argv[0], ent->words->argv[1]));
}

void    pc_show_master_entries(VSTREAM *out, int mode, int argc, char **argv)
{
    PC_REQUEST *reqs = pc_parse_requests(argc, argv, 2, 0,
				   "-M option requires service_name[/type]");
    int     n;
    int     i;

    for (n = 0; n < pc_master_count; n++) {
	if (argc == 0)
	    pc_print_master_entry(out, mode, pc_master_table + n);
	for (i = 0; i < argc; i++) {
	    if (pc_entry_matches(reqs + i, pc_master_table + n)) {
		reqs[i].matched++;
		pc_print_master_entry(out, mode, pc_master_table + n);
	    }
	}
    }
    pc_finish_requests(reqs, argc);
}

static void pc_print_fields(VSTREAM *out, int mode, PC_MASTER_ENT *ent, int field)
{
    if (field >= 0) {
	pc_print_field(out, mode, ent, field);
	return;
    }
    for (field = 0; field <= MASTER_CF_FLD_COMMAND; field++)
	pc_print_field(out, mode, ent, field);
}

void    pc_show_master_fields(VSTREAM *out, int mode, int argc, char **argv)
{
    PC_REQUEST *reqs = pc_parse_requests(argc, argv, 3, PC_REQ_FIELDS,
			   "-F option requires service_name[/type[/field]]");
    int     n;
    int     i;

    for (n = 0; n < pc_master_count; n++) {
	if (argc == 0)
	    pc_print_fields(out, mode, pc_master_table + n, -1);
	for (i = 0; i < argc; i++) {
	    if (pc_entry_matches(reqs + i, pc_master_table + n)) {
		reqs[i].matched++;
		pc_print_fields(out, mode, pc_master_table + n, reqs[i].field);
	    }
	}
    }
    pc_finish_requests(reqs, argc);
}

void    pc_show_master_params(VSTREAM *out, int mode, int argc, char **argv)
{
    PC_REQUEST *reqs = pc_parse_requests(argc, argv, 3, 0,
		       "-P option requires service_name[/type[/parameter]]");
    PC_MASTER_ENT *ent;
    const char *value;
    int     n;
    int     i;

    for (n = 0; n < pc_master_count; n++) {
	ent = pc_master_table + n;
	if (ent->param_names.len == 0)
	    continue;
	if (argc == 0)
	    pc_print_all_params(out, mode, ent);
	for (i = 0; i < argc; i++) {
	    if (!pc_entry_matches(reqs + i, ent))
		continue;
	    if (PC_MATCH_ANY(reqs[i].pat.part[2])) {
		pc_print_all_params(out, mode, ent);
		reqs[i].matched++;
	    } else if ((value = pc_master_param(ent, reqs[i].pat.part[2])) != 0) {
		pc_print_param(out, mode, ent, reqs[i].pat.part[2], value);
		reqs[i].matched++;
	    }
	}
    }
    pc_finish_requests(reqs, argc);
}

/* Editing an entry in memory (postconf_edit.c writes it) */

void    pc_edit_master_field(PC_MASTER_ENT *ent, int field, const char *value)
{
    VSTRING *why = vstring_alloc(100);
    MASTER_CF_WORDS *w = ent->words;

    if (field == MASTER_CF_FLD_COMMAND) {
	master_cf_words_truncate(w, MASTER_CF_FLD_COMMAND);
	master_cf_words_append_text(w, value);
	master_cf_words_normalize(w);
    } else {
	master_cf_words_replace(w, field, value);
    }
    if (master_cf_words_check(w, why) != 0)
	pc_bad_field(STR(why), value);
    vstring_free(why);
}

/* pc_param_word - "name=value" */

static char *pc_param_word(const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(64);

    vstring_sprintf(buf, "%s=%s", name, value);
    return (vstring_export(buf));
}

void    pc_edit_master_param(PC_MASTER_ENT *ent, int mode, const char *name,
			             const char *value)
{
    MASTER_CF_WORDS *w = ent->words;
    size_t  len = strlen(name);
    int     matched = 0;
    char   *word;
    int     at;

    for (at = MASTER_CF_FLD_COMMAND + 1; at < w->argc; at++) {
	if (!MASTER_CF_IS_OPTION(w->argv[at]))
	    break;
	if (w->argv[at][1] != 'o' || at + 1 >= w->argc)
	    continue;
	if (strcmp(w->argv[at], "-o") == 0 && strncmp(w->argv[at + 1], name, len) == 0
	    && w->argv[at + 1][len] == '=') {
	    matched = 1;
	    if (mode & PC_EDIT_CONF) {
		word = pc_param_word(name, value);
		master_cf_words_replace(w, at + 1, word);
		myfree(word);
	    } else {
		master_cf_words_delete(w, at, 2);
		at -= 2;
	    }
	}
	at++;
    }
    if ((mode & PC_EDIT_CONF) && !matched) {
	word = pc_param_word(name, value);
	master_cf_words_insert(w, at, "-o");
	master_cf_words_insert(w, at + 1, word);
	myfree(word);
    }
    pc_list_free(&ent->param_names);
    pc_list_free(&ent->param_values);
    pc_collect_params(ent);
}

/* Unused -o parameters */

/* pc_entry_refs - $names in the -o values of ENT */

static void pc_entry_refs(PC_LIST *refs, const PC_MASTER_ENT *ent)
{
    size_t  i;

    for (i = 0; i < ent->param_values.len; i++)
	pc_scan_refs(refs, ent->param_values.item[i]);
}

static void pc_scan_main_refs(const char *name, const char *raw, void *ctx)
{
    pc_scan_refs(ctx, raw);
}

void    pc_flag_unused_master(void)
{
    PC_LIST global = {0, 0, 0};
    PC_LIST local = {0, 0, 0};
    const MAIL_PARAM *p;
    const char *name;
    size_t  i;
    int     n;

    for (p = mail_params; p->name; p++)
	if (p->defval)
	    pc_scan_refs(&global, p->defval);
    conf_walk(pc_scan_main_refs, &global);
    for (n = 0; n < pc_master_count; n++) {
	pc_entry_refs(&local, pc_master_table + n);
	for (i = 0; i < pc_master_table[n].param_names.len; i++) {
	    name = pc_master_table[n].param_names.item[i];
	    if (mail_param_find(name) == 0 && !pc_list_has(&local, name)
		&& !pc_list_has(&global, name))
		msg_warn("%s/master.cf: unused parameter: %s=%s", mail_conf_dir(),
			 name, pc_master_table[n].param_values.item[i]);
	}
	pc_list_free(&local);
    }
    pc_list_free(&global);
}
