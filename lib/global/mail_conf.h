/*
 * mail_conf.h - main.cf and the table of every parameter.
 *
 * Every parameter that any Posthorn program reads is declared once, with
 * its type, default and bounds, in mail_params.c (table mail_params[]).
 * Programs read values with conf_str/conf_int/conf_bool/conf_time after
 * mail_conf_read(); asking for a name that is not in the table is a panic,
 * so a typo is found by the first test that runs that code.
 *
 * main.cf syntax is Postfix's: "name = value", a line that starts with
 * white space continues the previous one (joined as it is), '#' starts a
 * comment line, a later setting wins; a name set twice with different
 * values is warned about ("FILE, line N: overriding earlier entry: ...").
 * Values are expanded on read: $name, ${name}, $(name), ${name?text}
 * (text if name is non-empty), ${name:text} (text if empty).
 * Unknown names in main.cf are warned about, not fatal.
 *
 * The configuration directory comes from mail_conf_set_dir() (-c DIR), else
 * the MAIL_CONFIG environment variable, else DEF_CONFIG_DIR.
 */
#ifndef MAIL_CONF_H
#define MAIL_CONF_H

#include "sys_defs.h"
#include "vstring.h"

/* Parameter types */
#define PARAM_STR	1		/* string (lists are strings too) */
#define PARAM_INT	2		/* integer, checked against min/max */
#define PARAM_BOOL	3		/* yes/no */
#define PARAM_TIME	4		/* number with unit s,m,h,d,w (default unit in defunit) */
#define PARAM_LONG	5		/* large integer (sizes in bytes) */

typedef struct MAIL_PARAM {
    const char *name;
    int     type;
    const char *defval;			/* raw default; may contain $name */
    long    min;			/* INT/LONG/TIME: lower bound (0 = none) */
    long    max;			/* INT/LONG/TIME: upper bound (0 = none) */
    char    defunit;			/* TIME: unit when none given ('s','m','h','d') */
} MAIL_PARAM;

extern const MAIL_PARAM mail_params[];	/* terminated by name == 0 */

/* mail_param_find - the table entry for NAME, or NULL */
const MAIL_PARAM *mail_param_find(const char *name);

/* mail_conf_set_dir - use DIR instead of MAIL_CONFIG / the default */
void	mail_conf_set_dir(const char *dir);
/* mail_conf_dir - the configuration directory in use */
const char *mail_conf_dir(void);
/* mail_conf_dir_absolute - make it an absolute path (before a chdir); fatal if missing */
void	mail_conf_dir_absolute(void);

/*
 * mail_conf_read - load defaults, then DIR/main.cf (missing file: fatal
 * unless MAIL_CONF_MISSING_OK), then the overrides given so far.
 * May be called again (reload): values are reset first.
 */
#define MAIL_CONF_MISSING_OK	(1<<0)
void	mail_conf_read(int flags);
/* mail_conf_syslog - syslog_name and syslog_facility for the log */
void	mail_conf_syslog(void);

/* mail_conf_override - "name=value" from -o; applied now and after each read */
void	mail_conf_override(const char *name_eq_value);

/* mail_conf_update - set one raw value in memory (not written to main.cf) */
void	mail_conf_update(const char *name, const char *value);

/*
 * mail_conf_set_default - the default of a table parameter, computed at
 * run time by the caller (postconf: mynetworks from mynetworks_style);
 * conf_default() and unset values use it from now on.
 */
void	mail_conf_set_default(const char *name, const char *value);

/* Typed access to expanded values; fatal if the value fails its check */
const char *conf_str(const char *name);
int	conf_int(const char *name);
long	conf_long(const char *name);
int	conf_bool(const char *name);
int	conf_time(const char *name);		/* seconds */

/* conf_raw - the unexpanded value (main.cf or default), NULL if unset and unknown */
const char *conf_raw(const char *name);
/* conf_is_set - set in main.cf or by -o (not just a default) */
int	conf_is_set(const char *name);
/* conf_expand - expand $name references in TEXT into RESULT */
VSTRING *conf_expand(VSTRING *result, const char *text);

/*
 * conf_expand_scoped - the same, where LOOKUP(name, CTX) is asked first
 * for each name (a raw value, expanded in turn, or NULL: the parameter
 * table's).  postconf -x uses it for the -o settings of a master.cf entry.
 */
VSTRING *conf_expand_scoped(VSTRING *result, const char *text,
			            const char *(*lookup) (const char *, void *),
			            void *ctx);

/* conf_walk - call FN for every name set in main.cf or -o, in file order */
void	conf_walk(void (*fn) (const char *name, const char *raw, void *ctx), void *ctx);

/* conf_default - the default raw value of a table parameter (computed ones too) */
const char *conf_default(const char *name);

/*
 * conf_split_nameval - "name = value" (white space around both trimmed)
 * into NAME and VALUE; NULL, or Postfix's reason: "missing attribute
 * name", "missing '=' after attribute name".
 */
const char *conf_split_nameval(const char *text, VSTRING *name, VSTRING *value);

/* parse helpers shared with postconf */
int	conf_parse_bool(const char *value, int *result);
int	conf_parse_time(const char *value, char defunit, long *result);

/*
 * The $name syntax, for a checker that must read it as conf_expand()
 * does (lib/global/conf_check.c): a character of a name, and the CLOSE
 * that matches an OPEN already passed (NULL: none)
 */
int	conf_is_name_char(int ch);
const char *conf_match_close(const char *p, int open, int close);

#endif
