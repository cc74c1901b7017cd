/*
 * postconf.h - what the parts of postconf share (master/postconf*.c).
 *
 *   postconf.c         options, which of them go together, dispatch
 *   postconf_main.c    main.cf: show parameters (-n -d -h -H -x -f),
 *                      unknown and unused names
 *   postconf_master.c  master.cf: read it, show entries (-M), fields (-F)
 *                      and -o parameters (-P), as Postfix 3.7 prints them
 *   postconf_edit.c    edit main.cf (-e -X -#) and master.cf (-Me -MX -M#
 *                      -Fe -Pe -PX): copy to a temporary file, rename
 *   postconf_other.c   -m -l -a -A -T; -b and -t are refused
 *   postconf_util.c    lines (normalized, folded), small lists,
 *                      service patterns ("name/type/field", "*")
 */
#ifndef POSTCONF_H
#define POSTCONF_H

#include "sys_defs.h"
#include "master_cf.h"
#include "vstream.h"
#include "vstring.h"

/* Command modes and modifiers, one bit per option letter */
#define PC_SHOW_SASL_SERV	(1<<0)	/* -a */
#define PC_SHOW_SASL_CLNT	(1<<1)	/* -A */
#define PC_EXP_DSN_TEMPL	(1<<2)	/* -b */
#define PC_SHOW_DEFS		(1<<3)	/* -d */
#define PC_EDIT_CONF		(1<<4)	/* -e */
#define PC_FOLD_LINE		(1<<5)	/* -f */
#define PC_MASTER_FLD		(1<<6)	/* -F */
#define PC_HIDE_NAME		(1<<7)	/* -h */
#define PC_HIDE_VALUE		(1<<8)	/* -H */
#define PC_SHOW_LOCKS		(1<<9)	/* -l */
#define PC_SHOW_MAPS		(1<<10)	/* -m */
#define PC_MASTER_ENTRY		(1<<11)	/* -M */
#define PC_SHOW_NONDEF		(1<<12)	/* -n */
#define PC_MAIN_OVER		(1<<13)	/* -o */
#define PC_MAIN_PARAM		(1<<14)	/* -p */
#define PC_MASTER_PARAM		(1<<15)	/* -P */
#define PC_DUMP_DSN_TEMPL	(1<<16)	/* -t */
#define PC_SHOW_TLS		(1<<17)	/* -T */
#define PC_SHOW_EVAL		(1<<18)	/* -x */
#define PC_EDIT_EXCL		(1<<19)	/* -X */
#define PC_COMMENT_OUT		(1<<20)	/* -# */

#define PC_ANY_EDIT	(PC_EDIT_CONF | PC_EDIT_EXCL | PC_COMMENT_OUT)
#define PC_ANY_MASTER	(PC_MASTER_ENTRY | PC_MASTER_FLD | PC_MASTER_PARAM)

/* Line layout, as Postfix's postconf */
#define PC_LINE_LIMIT	80		/* fold longer lines (-f) */
#define PC_INDENT_LEN	4
#define PC_INDENT_TEXT	"    "

/* A growable list of strings (postconf_util.c) */
typedef struct PC_LIST {
    char  **item;
    size_t  len;
    size_t  cap;
} PC_LIST;

void	pc_list_add(PC_LIST *list, const char *str);
int	pc_list_has(const PC_LIST *list, const char *str);
void	pc_list_sort(PC_LIST *list);
void	pc_list_free(PC_LIST *list);

/* pc_print_line - TEXT with white space runs as one space, folded with -f */
void	pc_print_line(VSTREAM *out, int mode, const char *text);

/* pc_scan_refs - add each $name, ${name...} and $(name...) in TEXT to REFS */
void	pc_scan_refs(PC_LIST *refs, const char *text);

/* pc_read_file - a whole configuration file (at most 16 MiB); NULL: errno */
char   *pc_read_file(const char *path);

/*
 * A service pattern: "name[/type[/field-or-parameter]]", split at '/';
 * a part is "*" (anything) or a literal.  pc_parse_pattern() pads the
 * missing trailing parts with "*"; -1 when TEXT has fewer than MIN or
 * more than MAX parts, or a '*' inside a part.
 */
typedef struct PC_PATTERN {
    char   *part[3];
    int     count;			/* parts in use (MAX) */
} PC_PATTERN;

#define PC_MATCH_ANY(p)	((p)[0] == '*')

int	pc_parse_pattern(const char *text, int min, int max, PC_PATTERN *pat);
int	pc_match_service(const PC_PATTERN *pat, const char *name, const char *type);
void	pc_free_pattern(PC_PATTERN *pat);

/* One master.cf entry (postconf_master.c) */
typedef struct PC_MASTER_ENT {
    MASTER_CF_WORDS *words;		/* normalized fields */
    char   *name_space;			/* "name/type" */
    PC_LIST param_names;		/* -o names, each once */
    PC_LIST param_values;		/* the last value of each */
} PC_MASTER_ENT;

extern PC_MASTER_ENT *pc_master_table;
extern int pc_master_count;

#define PC_WARN_ON_OPEN	0
#define PC_FAIL_ON_OPEN	1

void	pc_read_master(int fail_on_open);
const char *pc_parse_master_entry(PC_MASTER_ENT *ent, const char *text, VSTRING *why);
void	pc_free_master_entry(PC_MASTER_ENT *ent);
void	pc_print_master_entry(VSTREAM *out, int mode, PC_MASTER_ENT *ent);
void	pc_show_master_entries(VSTREAM *out, int mode, int argc, char **argv);
void	pc_show_master_fields(VSTREAM *out, int mode, int argc, char **argv);
void	pc_show_master_params(VSTREAM *out, int mode, int argc, char **argv);
void	pc_edit_master_field(PC_MASTER_ENT *ent, int field, const char *value);
void	pc_edit_master_param(PC_MASTER_ENT *ent, int mode, const char *name,
			             const char *value);
const char *pc_master_param(const PC_MASTER_ENT *ent, const char *name);
void	pc_flag_unused_master(void);
const char *pc_expand_in_entry(VSTRING *buf, const char *value, const PC_MASTER_ENT *ent);

/* main.cf (postconf_main.c); -C: which parameters a listing shows */
#define PC_CLASS_BUILTIN	(1<<0)	/* in the parameter table */
#define PC_CLASS_SERVICE	(1<<1)	/* named after a master.cf service: none here */
#define PC_CLASS_USER		(1<<2)	/* set in main.cf and referred to */
#define PC_CLASS_ALL		(PC_CLASS_BUILTIN | PC_CLASS_SERVICE | PC_CLASS_USER)

extern int pc_param_class;

void	pc_read_main(int mode);
void	pc_show_main(VSTREAM *out, int mode, char **names);
void	pc_flag_unused_main(void);

/* Editing (postconf_edit.c) */
void	pc_edit_main(int mode, int argc, char **argv);
void	pc_edit_master(int mode, int argc, char **argv);

/* Other information (postconf_other.c) */
void	pc_show_maps(VSTREAM *out);
void	pc_show_locks(VSTREAM *out);
void	pc_show_sasl(VSTREAM *out, int mode);
void	pc_show_tls(VSTREAM *out, const char *what);
NORETURN pc_no_templates(void);

#endif
