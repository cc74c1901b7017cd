/*
 * postconf_edit.c - edit main.cf (-e, -X, -#) and master.cf (-Me, -MX,
 * -M#, -Fe, -Pe, -PX) as Postfix's postconf does.
 *
 * The file is read whole, copied line by line to a temporary file in the
 * same directory (same mode), and the copy is synced and renamed over
 * the original; a fatal error on the way removes the copy.  Comment and
 * blank lines are always copied, also inside an entry.
 *
 * main.cf: each line that sets a named parameter is replaced by "name =
 * value" (-e), removed (-X) or commented out (-#), with its continuation
 * lines (dropped, or commented out); a name set more than once is warned
 * about ("multiple entries") and every one of its lines is edited.  -e
 * appends the names main.cf did not set, sorted.
 *
 * master.cf: -Me replaces the entries that match "name/type", or that have
 * the name and type of the new entry, by the new entry (the first match;
 * later ones are removed), or appends it; -MX removes and -M# comments out
 * the matching entries; -Fe replaces one field and -Pe sets one "-o name=
 * value" (-PX removes it) of each matching entry, which is then written
 * anew as postconf -Mf prints it.  "*" matches any name or type.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"

#define PC_BLANKS	" \t\r\n"

/* The file being edited */

typedef struct PC_EDIT_FILE {
    VSTRING *path;			/* DIR/main.cf or DIR/master.cf */
    char   *text;			/* the original, whole */
    const char *cursor;			/* the next line in it */
    VSTREAM *dst;			/* the copy */
} PC_EDIT_FILE;

static char *pc_temp_path;		/* removed if we die while editing */

static void pc_remove_temp(void)
{
    if (pc_temp_path)
	(void) unlink(pc_temp_path);
}

static void pc_edit_open(PC_EDIT_FILE *ef, const char *name)
{
    VSTRING *temp = vstring_alloc(100);
    struct stat st;
    int     fd;

    ef->path = vstring_alloc(100);
    vstring_sprintf(ef->path, "%s/%s", mail_conf_dir(), name);
    if ((ef->text = pc_read_file(STR(ef->path))) == 0)
	msg_fatal("open %s for reading: %m", STR(ef->path));
    ef->cursor = ef->text;
    vstring_sprintf(temp, "%s.XXXXXX", STR(ef->path));
    if ((fd = mkstemp(STR(temp))) < 0)
	msg_fatal("create temporary file %s: %m", STR(temp));
    pc_temp_path = vstring_export(temp);
    msg_cleanup(pc_remove_temp);
    if (stat(STR(ef->path), &st) == 0 && fchmod(fd, st.st_mode & 07777) < 0)
	msg_fatal("chmod %s: %m", pc_temp_path);
    ef->dst = vstream_fdopen(fd, O_WRONLY);
}

static void pc_edit_close(PC_EDIT_FILE *ef)
{
    if (vstream_flush(ef->dst) < 0 || fsync(vstream_fd(ef->dst)) < 0)
	msg_fatal("write %s: %m", pc_temp_path);
    if (vstream_close(ef->dst) < 0)
	msg_fatal("close %s: %m", pc_temp_path);
    if (rename(pc_temp_path, STR(ef->path)) < 0)
	msg_fatal("rename %s to %s: %m", pc_temp_path, STR(ef->path));
    myfree(pc_temp_path);
    pc_temp_path = 0;
    myfree(ef->text);
    vstring_free(ef->path);
}

/* pc_take_line - the next physical line, always with its '\n'; 0 at the end */

static int pc_take_line(PC_EDIT_FILE *ef, VSTRING *line)
{
    const char *eol;

    if (*ef->cursor == 0)
	return (0);
    eol = strchrnul(ef->cursor, '\n');
    vstring_strncpy(line, ef->cursor, eol - ef->cursor);
    vstring_addch(line, '\n');
    ef->cursor = *eol ? eol + 1 : eol;
    return (1);
}

/* pc_content - the first non-blank of LINE, or NULL for a comment or blank line */

static const char *pc_content(const char *line)
{
    while (isspace((unsigned char) *line))
	line++;
    return (*line == '#' || *line == 0 ? 0 : line);
}

/*
 * pc_next_content - the next line with content into LINE (its first
 * non-blank returned); comment and blank lines are copied on the way.
 */
static const char *pc_next_content(PC_EDIT_FILE *ef, VSTRING *line, int *lineno)
{
    const char *cp;

    while (pc_take_line(ef, line)) {
	++*lineno;
	if ((cp = pc_content(STR(line))) != 0)
	    return (cp);
	vstream_fputs(STR(line), ef->dst);
    }
    return (0);
}

/* pc_check_edit_arg - no newline, no comment; the text after leading blanks */

static const char *pc_check_edit_arg(const char *arg, const char *opts, const char *verb)
{
    if (strchr(arg, '\n') != 0)
	msg_fatal("%s %s no multi-line input", opts, verb);
    while (isspace((unsigned char) *arg))
	arg++;
    if (*arg == '#')
	msg_fatal("%s %s no comment input", opts, verb);
    return (arg);
}

/* pc_trim - a copy of TEXT without trailing blanks */

static char *pc_trim(const char *text)
{
    size_t  len = strlen(text);

    while (len > 0 && isspace((unsigned char) text[len - 1]))
	len--;
    return (mystrndup(text, len));
}

/* main.cf */

typedef struct PC_MAIN_EDIT {
    char   *name;
    char   *value;			/* NULL for -X and -# */
    int     found;
} PC_MAIN_EDIT;

static PC_MAIN_EDIT *pc_find_main_edit(PC_MAIN_EDIT *edits, int count, const char *name)
{
    int     i;

    for (i = 0; i < count; i++)
	if (strcmp(edits[i].name, name) == 0)
	    return (edits + i);
    return (0);
}

/* pc_parse_main_edits - the arguments, a later one for the same name winning */

static int pc_parse_main_edits(int mode, int argc, char **argv, PC_MAIN_EDIT *edits)
{
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(32);
    PC_MAIN_EDIT *old;
    const char *cp;
    const char *err;
    int     count = 0;
    int     i;

    for (i = 0; i < argc; i++) {
	cp = pc_check_edit_arg(argv[i], "-e, -X, or -#", "accepts");
	if (mode & PC_EDIT_CONF) {
	    if ((err = conf_split_nameval(cp, name, value)) != 0)
		msg_fatal("%s: \"%s\"", err, cp);
	} else {
	    if (*cp == 0)
		msg_fatal("-X or -# requires non-blank parameter names");
	    if (strchr(cp, '=') != 0)
		msg_fatal("-X or -# requires parameter names without value");
	    vstring_strcpy(name, cp);
	}
	if ((old = pc_find_main_edit(edits, count, STR(name))) != 0) {
	    msg_warn("ignoring earlier request: '%s = %s'", old->name,
		     old->value ? old->value : "(null)");
	    myfree(old->name);
	    if (old->value)
		myfree(old->value);
	    *old = edits[--count];
	}
	edits[count].name = (mode & PC_EDIT_CONF) ? mystrdup(STR(name)) : pc_trim(STR(name));
	edits[count].value = (mode & PC_EDIT_CONF) ? mystrdup(STR(value)) : 0;
	edits[count++].found = 0;
    }
    vstring_free(name);
    vstring_free(value);
    return (count);
}

/* pc_main_line - the start of a setting: replace, drop or comment it out */

static int pc_main_line(PC_EDIT_FILE *ef, int mode, const char *line,
			        PC_MAIN_EDIT *edits, int count)
{
    char   *key = mystrndup(line, strcspn(line, PC_BLANKS "="));
    PC_MAIN_EDIT *edit = pc_find_main_edit(edits, count, key);

    myfree(key);
    if (edit == 0) {
	vstream_fputs(line, ef->dst);
	return (0);
    }
    if (edit->found++ == 1)
	msg_warn("%s: multiple entries for \"%s\"", STR(ef->path), edit->name);
    if (mode & PC_EDIT_CONF)
	vstream_fprintf(ef->dst, "%s = %s\n", edit->name, edit->value);
    else if (mode & PC_COMMENT_OUT)
	vstream_fprintf(ef->dst, "#%s", line);
    return (1);
}

static int pc_compare_edits(const void *a, const void *b)
{
    return (strcmp(((const PC_MAIN_EDIT *) a)->name, ((const PC_MAIN_EDIT *) b)->name));
}

void    pc_edit_main(int mode, int argc, char **argv)
{
    PC_MAIN_EDIT *edits = mycalloc(argc, sizeof(*edits));
    VSTRING *line = vstring_alloc(256);
    PC_EDIT_FILE ef;
    const char *cp;
    int     interesting = 0;
    int     lineno = 0;
    int     count;
    int     i;

    count = pc_parse_main_edits(mode, argc, argv, edits);
    pc_edit_open(&ef, "main.cf");
    while ((cp = pc_next_content(&ef, line, &lineno)) != 0) {
	if (cp > STR(line)) {			/* a continuation line */
	    if (!interesting)
		vstream_fputs(STR(line), ef.dst);
	    else if (mode & PC_COMMENT_OUT)
		vstream_fprintf(ef.dst, "#%s", STR(line));
	} else {
	    interesting = pc_main_line(&ef, mode, STR(line), edits, count);
	}
    }
    if (mode & PC_EDIT_CONF) {
	qsort(edits, count, sizeof(*edits), pc_compare_edits);
	for (i = 0; i < count; i++)
	    if (edits[i].found == 0)
		vstream_fprintf(ef.dst, "%s = %s\n", edits[i].name, edits[i].value);
    }
    pc_edit_close(&ef);
    for (i = 0; i < count; i++) {
	myfree(edits[i].name);
	if (edits[i].value)
	    myfree(edits[i].value);
    }
    myfree(edits);
    vstring_free(line);
}

/* master.cf */

#define PC_MASTER_OPTS	"-Me, -Fe, -Pe, -X, or -#"

typedef struct PC_MASTER_EDIT {
    const char *raw;			/* the argument as given */
    PC_PATTERN pat;
    int     field;			/* -F */
    char   *value;			/* -e: the new value */
    int     matched;
} PC_MASTER_EDIT;

/* pc_parse_master_pattern - the pattern part of one argument */

static void pc_parse_master_pattern(int mode, PC_MASTER_EDIT *req, const char *pattern)
{
    if (mode & PC_MASTER_ENTRY) {
	if (pc_parse_pattern(pattern, 2, 2, &req->pat) < 0)
	    msg_fatal("-Me, -MX or -M# requires service_name/type");
    } else if (mode & PC_MASTER_FLD) {
	if (pc_parse_pattern(pattern, 3, 3, &req->pat) < 0)
	    msg_fatal("-Fe or -FX requires service_name/type/field_name");
	if (PC_MATCH_ANY(req->pat.part[2]))
	    msg_fatal("-Fe does not accept wild-card field name");
	if ((req->field = master_cf_field_code(req->pat.part[2])) < 0)
	    msg_fatal("invalid service attribute name: \"%s\"", req->pat.part[2]);
	if ((mode & PC_EDIT_CONF) && req->field < MASTER_CF_FLD_COMMAND
	    && req->value[strcspn(req->value, PC_BLANKS)])
	    msg_fatal("-Fe does not accept whitespace in non-command field");
    } else {
	if (pc_parse_pattern(pattern, 3, 3, &req->pat) < 0)
	    msg_fatal("-Pe or -PX requires service_name/type/parameter");
	if (PC_MATCH_ANY(req->pat.part[2]))
	    msg_fatal("-Pe does not accept wild-card parameter name");
	if ((mode & PC_EDIT_CONF) && req->value[strcspn(req->value, PC_BLANKS)])
	    msg_fatal("-Pe does not accept whitespace in parameter value");
    }
}

static PC_MASTER_EDIT *pc_parse_master_edits(int mode, int argc, char **argv)
{
    PC_MASTER_EDIT *reqs = mycalloc(argc, sizeof(*reqs));
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(32);
    const char *cp;
    const char *err;
    char   *pattern;
    int     i;

    for (i = 0; i < argc; i++) {
	reqs[i].raw = argv[i];
	cp = pc_check_edit_arg(argv[i], PC_MASTER_OPTS, "accept");
	if (mode & PC_EDIT_CONF) {
	    if ((err = conf_split_nameval(cp, name, value)) != 0)
		msg_fatal("%s: \"%s\"", err, argv[i]);
	    pattern = mystrdup(STR(name));
	    reqs[i].value = mystrdup(STR(value));
	} else {
	    if (strchr(cp, '=') != 0)
		msg_fatal("-X or -# requires names without value");
	    pattern = pc_trim(cp);
	}
	pc_parse_master_pattern(mode, reqs + i, pattern);
	myfree(pattern);
    }
    vstring_free(name);
    vstring_free(value);
    return (reqs);
}

/* pc_line_service - the service name and type at the start of an entry */

static void pc_line_service(const char *path, int lineno, const char *line,
			            VSTRING *name, VSTRING *type)
{
    const char *p = line + strspn(line, PC_BLANKS);
    size_t  len = strcspn(p, PC_BLANKS);

    vstring_strncpy(name, p, len);
    p += len;
    p += strspn(p, PC_BLANKS);
    vstring_strncpy(type, p, strcspn(p, PC_BLANKS));
    if (LEN(name) == 0 || LEN(type) == 0)
	msg_fatal("file %s: line %d: specify service name and type on the same line",
		  path, lineno);
    if (strchr(STR(name), '='))
	msg_fatal("file %s: line %d: service name syntax \"%s\" is unsupported with %s",
		  path, lineno, STR(name), PC_MASTER_OPTS);
    if (STR(type)[strcspn(STR(type), "=/")] != 0)
	msg_fatal("file %s: line %d: service type syntax \"%s\" is unsupported with %s",
		  path, lineno, STR(type), PC_MASTER_OPTS);
}

/*
 * pc_gobble_entry - LINE and its continuation lines as one text; comment
 * and blank lines among them are copied at once, as Postfix does.
 */
static void pc_gobble_entry(PC_EDIT_FILE *ef, VSTRING *line, VSTRING *entry)
{
    VSTRING *next = vstring_alloc(100);

    vstring_strcpy(entry, STR(line));
    while (*ef->cursor == '#' || isspace((unsigned char) *ef->cursor)) {
	pc_take_line(ef, next);
	if (pc_content(STR(next)))
	    vstring_strcat(entry, STR(next));
	else
	    vstream_fputs(STR(next), ef->dst);
    }
    vstring_free(next);
}

/* pc_new_entry - parse TEXT as an entry; fatal with "ERR: \"RAW\"" */

static PC_MASTER_ENT *pc_new_entry(const char *text, const char *raw)
{
    PC_MASTER_ENT *ent = mymalloc(sizeof(*ent));
    VSTRING *why = vstring_alloc(100);

    if (pc_parse_master_entry(ent, text, why) != 0)
	msg_fatal("%s: \"%s\"", STR(why), raw);
    vstring_free(why);
    return (ent);
}

static void pc_drop_entry(PC_MASTER_ENT *ent)
{
    if (ent) {
	pc_free_master_entry(ent);
	myfree(ent);
    }
}

/* The state of one master.cf edit while the file is copied */

typedef struct PC_MASTER_STATE {
    int     mode;
    PC_MASTER_EDIT *reqs;
    int     count;
    PC_EDIT_FILE ef;
    VSTRING *line;			/* the current line */
    int     lineno;
    PC_MASTER_ENT *new_entry;		/* what replaces the current entry */
} PC_MASTER_STATE;

/* pc_edit_fields - -Fe, -Pe, -PX: the current entry, edited in memory */

static void pc_edit_fields(PC_MASTER_STATE *st, PC_MASTER_EDIT *req)
{
    VSTRING *entry;
    VSTRING *why;

    if (st->new_entry == 0) {
	entry = vstring_alloc(256);
	why = vstring_alloc(100);
	pc_gobble_entry(&st->ef, st->line, entry);
	st->new_entry = mymalloc(sizeof(*st->new_entry));
	if (pc_parse_master_entry(st->new_entry, STR(entry), why) != 0)
	    msg_fatal("file %s: line %d: %s", STR(st->ef.path), st->lineno, STR(why));
	vstring_free(entry);
	vstring_free(why);
    }
    if (st->mode & PC_MASTER_FLD)
	pc_edit_master_field(st->new_entry, req->field, req->value);
    else
	pc_edit_master_param(st->new_entry, st->mode, req->pat.part[2], req->value);
}

/* pc_match_request - one request against the entry NAME/TYPE; 1: matched */

static int pc_match_request(PC_MASTER_STATE *st, PC_MASTER_EDIT *req,
			            const char *name, const char *type)
{
    PC_MASTER_ENT *tentative = 0;
    int     use_tentative = 0;
    int     matched = 0;

    if ((st->mode & PC_MASTER_ENTRY) && (st->mode & PC_EDIT_CONF))
	tentative = pc_new_entry(req->value, req->raw);
    if (pc_match_service(&req->pat, name, type)) {
	matched = 1;
	req->matched++;
	if ((st->mode & PC_EDIT_CONF)
	    || ((st->mode & PC_MASTER_PARAM) && (st->mode & PC_EDIT_EXCL))) {
	    if (st->mode & PC_MASTER_ENTRY)
		use_tentative = (req->matched == 1);
	    else
		pc_edit_fields(st, req);
	}
    } else if (tentative != 0 && strcmp(tentative->words->argv[0], name) == 0
	       && strcmp(tentative->words->argv[1], type) == 0) {
	matched = 1;
	use_tentative = (++req->matched == 1);
    }
    if (use_tentative) {
	pc_drop_entry(st->new_entry);
	st->new_entry = tentative;
    } else {
	pc_drop_entry(tentative);
    }
    return (matched);
}

/* pc_master_line - the first line of an entry: copy, replace, drop, comment */

static int pc_master_line(PC_MASTER_STATE *st)
{
    VSTRING *name = vstring_alloc(32);
    VSTRING *type = vstring_alloc(32);
    int     matched = 0;
    int     i;

    pc_line_service(STR(st->ef.path), st->lineno, STR(st->line), name, type);
    for (i = 0; i < st->count; i++)
	matched |= pc_match_request(st, st->reqs + i, STR(name), STR(type));
    if (st->new_entry) {
	pc_print_master_entry(st->ef.dst, PC_FOLD_LINE, st->new_entry);
	pc_drop_entry(st->new_entry);
	st->new_entry = 0;
    } else if (!matched) {
	vstream_fputs(STR(st->line), st->ef.dst);
    } else if (st->mode & PC_COMMENT_OUT) {
	vstream_fprintf(st->ef.dst, "#%s", STR(st->line));
    }
    vstring_free(name);
    vstring_free(type);
    return (matched);
}

/* pc_master_unmatched - append new entries; warn about other misses */

static void pc_master_unmatched(PC_MASTER_STATE *st)
{
    PC_MASTER_ENT *ent;
    int     i;

    for (i = 0; i < st->count; i++) {
	if (st->reqs[i].matched)
	    continue;
	if ((st->mode & PC_MASTER_ENTRY) && (st->mode & PC_EDIT_CONF)) {
	    ent = pc_new_entry(st->reqs[i].value, st->reqs[i].raw);
	    pc_print_master_entry(st->ef.dst, PC_FOLD_LINE, ent);
	    pc_drop_entry(ent);
	} else if (!(st->mode & PC_MASTER_ENTRY)) {
	    msg_warn("unmatched service_name/type: \"%s\"", st->reqs[i].raw);
	}
    }
}

void    pc_edit_master(int mode, int argc, char **argv)
{
    PC_MASTER_STATE st;
    const char *cp;
    int     matched = 0;
    int     i;

    memset(&st, 0, sizeof(st));
    st.mode = mode;
    st.count = argc;
    st.reqs = pc_parse_master_edits(mode, argc, argv);
    st.line = vstring_alloc(256);
    pc_edit_open(&st.ef, "master.cf");
    while ((cp = pc_next_content(&st.ef, st.line, &st.lineno)) != 0) {
	if (cp > STR(st.line)) {		/* a continuation line */
	    if (!matched)
		vstream_fputs(STR(st.line), st.ef.dst);
	    else if (mode & PC_COMMENT_OUT)
		vstream_fprintf(st.ef.dst, "#%s", STR(st.line));
	} else {
	    matched = pc_master_line(&st);
	}
    }
    pc_master_unmatched(&st);
    pc_edit_close(&st.ef);
    for (i = 0; i < argc; i++) {
	pc_free_pattern(&st.reqs[i].pat);
	if (st.reqs[i].value)
	    myfree(st.reqs[i].value);
    }
    myfree(st.reqs);
    vstring_free(st.line);
}
