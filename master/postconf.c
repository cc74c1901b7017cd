/*
 * postconf.c - show or edit main.cf parameters, like Postfix's postconf.
 *
 *   postconf [-c dir] [-o name=value] [-dhHnx] [name...]
 *   postconf [-c dir] -e name=value...	(also implied by a name=value arg)
 *
 * With no name, every parameter is printed as "name = value", sorted by
 * name: the main.cf value where set, else the default.  -n prints only the
 * names set in main.cf, -d the defaults, -h values only, -H names only,
 * -x expanded values.  An unknown name is a warning (exit status 0), as in
 * Postfix.  -e replaces each setting (with its continuation lines) in
 * main.cf or appends it; the new file is written next to main.cf, synced
 * and renamed over it.  Names set in main.cf that are neither known nor
 * referenced as $name anywhere (main.cf, defaults, master.cf) are warned
 * about as "unused parameter", as Postfix does.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define PC_SHOW_DEFS	(1<<0)		/* -d */
#define PC_SHOW_NONDEF	(1<<1)		/* -n */
#define PC_HIDE_NAME	(1<<2)		/* -h */
#define PC_HIDE_VALUE	(1<<3)		/* -H */
#define PC_EXPAND	(1<<4)		/* -x */
#define PC_DO_EDIT	(1<<5)		/* -e */

#define PC_CHUNK	65536		/* bytes per physical-line read */

/* A growable list of strings */

typedef struct PC_LIST {
    char  **item;
    size_t  len;
    size_t  cap;
} PC_LIST;

static void pc_list_add(PC_LIST *list, const char *str)
{
    if (list->len == list->cap) {
	list->cap = list->cap ? 2 * list->cap : 64;
	list->item = myrealloc(list->item, list->cap * sizeof(*list->item));
    }
    list->item[list->len++] = mystrdup(str);
}

static int pc_list_has(const PC_LIST *list, const char *str)
{
    size_t  i;

    for (i = 0; i < list->len; i++)
	if (strcmp(list->item[i], str) == 0)
	    return (1);
    return (0);
}

static void pc_list_free(PC_LIST *list)
{
    size_t  i;

    for (i = 0; i < list->len; i++)
	myfree(list->item[i]);
    myfree(list->item);
    list->item = 0;
    list->len = list->cap = 0;
}

static int pc_compare(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

static void pc_list_sort(PC_LIST *list)
{
    if (list->len > 1)
	qsort(list->item, list->len, sizeof(*list->item), pc_compare);
}

static NORETURN pc_usage(void)
{
    msg_fatal("usage: postconf [-c config_dir] [-d (defaults)] "
	      "[-e (edit)] [-h (no names)] [-H (no values)] "
	      "[-n (non-default)] [-o name=value] [-v] "
	      "[-x (expand values)] [name...]");
}

/* Printing */

/* pc_print - one parameter; words joined by one space, as Postfix prints */

static void pc_print(VSTREAM *out, const char *name, const char *value,
		             int flags)
{
    const char *p = value;
    size_t  n;
    int     first = 1;

    if (flags & PC_HIDE_VALUE) {
	vstream_fprintf(out, "%s\n", name);
	return;
    }
    if (!(flags & PC_HIDE_NAME))
	vstream_fprintf(out, "%s =", name);
    for (;;) {
	while (isspace((unsigned char) *p))
	    p++;
	if (*p == 0)
	    break;
	for (n = 0; p[n] && !isspace((unsigned char) p[n]); n++)
	     /* void */ ;
	if (!first || !(flags & PC_HIDE_NAME))
	    vstream_putc(' ', out);
	vstream_write(out, p, n);
	first = 0;
	p += n;
    }
    vstream_putc('\n', out);
}

/* pc_value - the raw or expanded value to show, NULL if unknown */

static const char *pc_value(const char *name, int flags, VSTRING *buf)
{
    const char *raw;

    if (flags & PC_SHOW_DEFS)
	raw = conf_default(name);
    else if (flags & PC_SHOW_NONDEF)
	raw = conf_is_set(name) ? conf_raw(name) : 0;
    else
	raw = conf_raw(name);
    if (raw == 0)
	return (0);
    if (flags & PC_EXPAND)
	return (STR(conf_expand(buf, raw)));
    return (raw);
}

static void pc_show_list(VSTREAM *out, PC_LIST *names, int flags)
{
    VSTRING *buf = vstring_alloc(100);
    const char *value;
    size_t  i;

    pc_list_sort(names);
    for (i = 0; i < names->len; i++)
	if ((value = pc_value(names->item[i], flags, buf)) != 0)
	    pc_print(out, names->item[i], value, flags);
    vstring_free(buf);
}

static void pc_collect_set(const char *name, const char *raw, void *ctx)
{
    if (!pc_list_has(ctx, name))
	pc_list_add(ctx, name);
}

/* pc_show_names - the names given on the command line, in that order */

static void pc_show_names(VSTREAM *out, char **names, int flags)
{
    VSTRING *buf = vstring_alloc(100);
    const char *value;

    for (; *names; names++) {
	if ((value = pc_value(*names, flags, buf)) != 0)
	    pc_print(out, *names, value, flags);
	else if (mail_param_find(*names) == 0 && !conf_is_set(*names))
	    msg_warn("%s: unknown parameter", *names);
    }
    vstring_free(buf);
}

/* Unused-parameter check */

/* pc_scan_refs - add every $name, ${name, $(name in TEXT to REFS */

static void pc_scan_refs(PC_LIST *refs, const char *text)
{
    const char *p = text;
    const char *start;
    char   *name;

    while ((p = strchr(p, '$')) != 0) {
	p++;
	if (*p == '$') {
	    p++;
	    continue;
	}
	if (*p == '{' || *p == '(')
	    p++;
	for (start = p; isalnum((unsigned char) *p) || *p == '_'; p++)
	     /* void */ ;
	if (p > start) {
	    name = mystrndup(start, p - start);
	    if (!pc_list_has(refs, name))
		pc_list_add(refs, name);
	    myfree(name);
	}
    }
}

static void pc_scan_set(const char *name, const char *raw, void *ctx)
{
    pc_scan_refs(ctx, raw);
}

static void pc_scan_file(PC_LIST *refs, const char *path)
{
    VSTREAM *fp;
    VSTRING *line;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	return;
    line = vstring_alloc(256);
    while (vstream_get_line(fp, line, PC_CHUNK) != VSTREAM_EOF)
	pc_scan_refs(refs, STR(line));
    vstring_free(line);
    (void) vstream_close(fp);
}

static void pc_warn_unused_one(const char *name, const char *raw, void *ctx)
{
    if (mail_param_find(name) == 0 && !pc_list_has(ctx, name))
	msg_warn("%s/main.cf: unused parameter: %s=%s",
		 mail_conf_dir(), name, raw);
}

static void pc_warn_unused(void)
{
    PC_LIST refs = {0, 0, 0};
    VSTRING *path = vstring_alloc(100);
    const MAIL_PARAM *p;

    for (p = mail_params; p->name; p++)
	if (p->defval)
	    pc_scan_refs(&refs, p->defval);
    conf_walk(pc_scan_set, &refs);
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    pc_scan_file(&refs, STR(path));
    conf_walk(pc_warn_unused_one, &refs);
    pc_list_free(&refs);
    vstring_free(path);
}

/* Editing main.cf */

typedef struct PC_EDIT {
    char   *name;
    char   *value;
    int     done;
} PC_EDIT;

static char *pc_temp_path;		/* removed if we die while editing */

static void pc_remove_temp(void)
{
    if (pc_temp_path)
	(void) unlink(pc_temp_path);
}

/* pc_parse_edit - "name=value" or "name = value" into EDIT */

static void pc_parse_edit(const char *arg, PC_EDIT *edit)
{
    const char *p = arg;
    const char *name_end;
    const char *value;
    size_t  len;

    while (*p && !isspace((unsigned char) *p) && *p != '=')
	p++;
    name_end = p;
    while (isspace((unsigned char) *p))
	p++;
    if (name_end == arg)
	msg_fatal("missing attribute name: \"%s\"", arg);
    if (*p != '=')
	msg_fatal("missing '=' after attribute name: \"%s\"", arg);
    for (value = p + 1; isspace((unsigned char) *value); value++)
	 /* void */ ;
    if (strchr(value, '\n') != 0)
	msg_fatal("value of %.*s must not contain a newline",
		  (int) (name_end - arg), arg);
    for (len = strlen(value); len > 0 && isspace((unsigned char) value[len - 1]); len--)
	 /* void */ ;
    edit->name = mystrndup(arg, name_end - arg);
    edit->value = mystrndup(value, len);
    edit->done = 0;
}

static PC_EDIT *pc_find_edit(PC_EDIT *edits, int count, const char *line)
{
    size_t  len = 0;
    int     i;

    while (line[len] && !isspace((unsigned char) line[len]) && line[len] != '=')
	len++;
    for (i = 0; i < count; i++)
	if (strlen(edits[i].name) == len && strncmp(edits[i].name, line, len) == 0)
	    return (edits + i);
    return (0);
}

static void pc_write_setting(VSTREAM *dst, PC_EDIT *edit)
{
    if (*edit->value)
	vstream_fprintf(dst, "%s = %s\n", edit->name, edit->value);
    else
	vstream_fprintf(dst, "%s =\n", edit->name);
    edit->done = 1;
}

/*
 * pc_copy_edited - copy SRC to DST, replacing each edited setting and its
 * continuation lines.  Comment and blank lines are copied and do not end
 * a setting, as in the main.cf parser.
 */
static void pc_copy_edited(VSTREAM *src, VSTREAM *dst, PC_EDIT *edits, int count)
{
    VSTRING *chunk = vstring_alloc(256);
    int     at_start = 1;		/* chunk begins a physical line */
    int     dropping = 0;		/* inside an edited setting */
    int     drop_line = 0;		/* this physical line is dropped */
    int     last = '\n';
    const char *p;
    PC_EDIT *edit;

    while ((last = vstream_get_line(src, chunk, PC_CHUNK)) != VSTREAM_EOF) {
	if (at_start) {
	    for (p = STR(chunk); *p == ' ' || *p == '\t'; p++)
		 /* void */ ;
	    drop_line = 0;
	    if (*p == 0 || *p == '\n' || *p == '\r' || *p == '#') {
		 /* comment or blank line: copy */ ;
	    } else if (p != STR(chunk)) {
		drop_line = dropping;
	    } else if ((edit = pc_find_edit(edits, count, p)) != 0) {
		if (!edit->done)
		    pc_write_setting(dst, edit);
		dropping = drop_line = 1;
	    } else {
		dropping = 0;
	    }
	}
	if (!drop_line)
	    vstream_write(dst, STR(chunk), LEN(chunk));
	at_start = (last == '\n');
    }
    if (vstream_error(src))
	msg_fatal("read %s/main.cf: %m", mail_conf_dir());
    if (!at_start && !drop_line)
	vstream_putc('\n', dst);
    vstring_free(chunk);
}

static void pc_edit(char **args)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *temp = vstring_alloc(100);
    PC_EDIT *edits;
    PC_EDIT *old;
    VSTREAM *src;
    VSTREAM *dst;
    struct stat st;
    mode_t  mode = 0644;
    int     count = 0;
    int     fd;
    int     i;

    for (i = 0; args[i]; i++)
	 /* void */ ;
    edits = mycalloc(i ? i : 1, sizeof(*edits));
    for (i = 0; args[i]; i++) {
	pc_parse_edit(args[i], edits + count);
	if ((old = pc_find_edit(edits, count, edits[count].name)) != 0) {
	    myfree(old->value);			/* later argument wins */
	    old->value = edits[count].value;
	    myfree(edits[count].name);
	} else {
	    count++;
	}
    }
    vstring_sprintf(path, "%s/main.cf", mail_conf_dir());
    if ((src = vstream_open(STR(path), O_RDONLY, 0)) == 0 && errno != ENOENT)
	msg_fatal("open %s: %m", STR(path));
    if (src != 0 && fstat(vstream_fd(src), &st) == 0)
	mode = st.st_mode & 07777;
    vstring_sprintf(temp, "%s/main.cf.XXXXXX", mail_conf_dir());
    if ((fd = mkstemp(STR(temp))) < 0)
	msg_fatal("create temporary file %s: %m", STR(temp));
    pc_temp_path = STR(temp);
    msg_cleanup(pc_remove_temp);
    if (fchmod(fd, mode) < 0)
	msg_fatal("chmod %s: %m", STR(temp));
    dst = vstream_fdopen(fd, O_WRONLY);
    if (src != 0) {
	pc_copy_edited(src, dst, edits, count);
	(void) vstream_close(src);
    }
    for (i = 0; i < count; i++)
	if (!edits[i].done)
	    pc_write_setting(dst, edits + i);
    if (vstream_flush(dst) < 0 || fsync(fd) < 0)
	msg_fatal("write %s: %m", STR(temp));
    if (vstream_close(dst) < 0)
	msg_fatal("close %s: %m", STR(temp));
    if (rename(STR(temp), STR(path)) < 0)
	msg_fatal("rename %s to %s: %m", STR(temp), STR(path));
    pc_temp_path = 0;
    for (i = 0; i < count; i++) {
	myfree(edits[i].name);
	myfree(edits[i].value);
    }
    myfree(edits);
    vstring_free(path);
    vstring_free(temp);
}

/* pc_show - everything but -e */

static void pc_show(char **names, int flags)
{
    VSTREAM *out = vstream_stdout();
    PC_LIST list = {0, 0, 0};
    const MAIL_PARAM *p;

    if (!(flags & PC_SHOW_DEFS)) {
	mail_conf_read(0);
	pc_warn_unused();
    }
    if (*names) {
	pc_show_names(out, names, flags);
    } else {
	if (!(flags & PC_SHOW_NONDEF))
	    for (p = mail_params; p->name; p++)
		pc_list_add(&list, p->name);
	if (!(flags & PC_SHOW_DEFS))
	    conf_walk(pc_collect_set, &list);
	pc_show_list(out, &list, flags);
	pc_list_free(&list);
    }
    if (vstream_flush(out) < 0)
	msg_fatal("write standard output: %m");
}

int     main(int argc, char **argv)
{
    int     flags = 0;
    int     ch;

    msg_init("postconf", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:dehHno:vx")) > 0) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'd':
	    flags |= PC_SHOW_DEFS;
	    break;
	case 'e':
	    flags |= PC_DO_EDIT;
	    break;
	case 'h':
	    flags |= PC_HIDE_NAME;
	    break;
	case 'H':
	    flags |= PC_HIDE_VALUE;
	    break;
	case 'n':
	    flags |= PC_SHOW_NONDEF;
	    break;
	case 'o':
	    mail_conf_override(optarg);
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'x':
	    flags |= PC_EXPAND;
	    break;
	default:
	    pc_usage();
	}
    }
    if ((flags & PC_SHOW_DEFS) && (flags & PC_SHOW_NONDEF))
	msg_fatal("specify one of -d -n");
    if (!(flags & (PC_DO_EDIT | PC_SHOW_DEFS | PC_SHOW_NONDEF))
	&& optind < argc && strchr(argv[optind], '=') != 0)
	flags |= PC_DO_EDIT;
    if (flags & PC_DO_EDIT) {
	if (flags & (PC_SHOW_DEFS | PC_SHOW_NONDEF | PC_HIDE_NAME | PC_HIDE_VALUE | PC_EXPAND))
	    pc_usage();
	if (optind >= argc)
	    msg_fatal("-e requires name=value argument");
	pc_edit(argv + optind);
    } else {
	pc_show(argv + optind, flags);
    }
    exit(0);
}
