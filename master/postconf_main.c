/*
 * postconf_main.c - main.cf parameters for postconf: show, and flag the
 * unknown and unused ones, as Postfix's postconf does.
 *
 * A name is known when it is in the parameter table (mail_params.c), or
 * when main.cf sets it and some value refers to it as $name (a default,
 * a main.cf value, an -o value in master.cf): Postfix's "user-defined"
 * parameters.  Without names every known parameter is printed, sorted;
 * -n only those main.cf (or -o) sets; -d the defaults.  Each line is
 * "name = value" with white space runs as one space (-h: the value, -H:
 * the name, -f: folded at 80 columns, -x: $name expanded).  A name asked
 * for that is not known: "warning: NAME: unknown parameter".  A name set
 * in main.cf that is neither in the table nor referred to: "warning:
 * DIR/main.cf: unused parameter: NAME=VALUE", after the output.
 *
 * mynetworks, when main.cf does not set it, is shown as smtpd computes
 * it: from mynetworks_style and this host's interfaces (inet_match.c).
 */
#include "sys_defs.h"
#include "inet_match.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"

static PC_LIST pc_refs;			/* every $name referred to */

int     pc_param_class = PC_CLASS_ALL;	/* -C */

/* pc_collect_ref - conf_walk() callback: the $names in one value */

static void pc_collect_ref(const char *name, const char *raw, void *ctx)
{
    pc_scan_refs(&pc_refs, raw);
}

/* pc_find_refs - the $names in defaults, main.cf and master.cf -o values */

static void pc_find_refs(void)
{
    const MAIL_PARAM *p;
    size_t  i;
    int     n;

    for (p = mail_params; p->name; p++)
	if (p->defval)
	    pc_scan_refs(&pc_refs, p->defval);
    conf_walk(pc_collect_ref, 0);
    for (n = 0; n < pc_master_count; n++)
	for (i = 0; i < pc_master_table[n].param_values.len; i++)
	    pc_scan_refs(&pc_refs, pc_master_table[n].param_values.item[i]);
}

/* pc_set_mynetworks - mynetworks' default as smtpd computes it */

static void pc_set_mynetworks(void)
{
    VSTRING *buf = vstring_alloc(200);

    if (inet_mynetworks(conf_str("mynetworks_style"), buf) == 0)
	mail_conf_set_default("mynetworks", STR(buf));
    vstring_free(buf);
}

void    pc_read_main(int mode)
{
    if (!(mode & PC_SHOW_DEFS))
	mail_conf_read(0);
    pc_read_master(PC_WARN_ON_OPEN);
    pc_find_refs();
    pc_set_mynetworks();
}

/* pc_is_user_param - set in main.cf and referred to */

static int pc_is_user_param(const char *name)
{
    return (conf_is_set(name) && pc_list_has(&pc_refs, name));
}

static int pc_is_known(const char *name, int mode)
{
    if (mail_param_find(name) != 0)
	return (1);
    return (!(mode & PC_SHOW_DEFS) && pc_is_user_param(name));
}

/* pc_value - the raw or expanded value to show, NULL when none */

static const char *pc_value(const char *name, int mode, VSTRING *buf)
{
    const char *raw;

    if (mode & PC_SHOW_DEFS)
	raw = conf_default(name);
    else if (mode & PC_SHOW_NONDEF)
	raw = conf_is_set(name) ? conf_raw(name) : 0;
    else
	raw = conf_raw(name);
    if (raw == 0)
	return (0);
    if (mode & PC_SHOW_EVAL)
	return (STR(conf_expand(buf, raw)));
    return (raw);
}

static void pc_print_param(VSTREAM *out, int mode, const char *name, const char *value)
{
    VSTRING *line = vstring_alloc(100);

    if (mode & PC_HIDE_VALUE)
	vstring_strcpy(line, name);
    else if (mode & PC_HIDE_NAME)
	vstring_strcpy(line, value);
    else
	vstring_sprintf(line, "%s = %s", name, value);
    pc_print_line(out, mode, STR(line));
    vstring_free(line);
}

static void pc_show_one(VSTREAM *out, int mode, const char *name, VSTRING *buf)
{
    const char *value;

    if (!pc_is_known(name, mode)) {
	msg_warn("%s: unknown parameter", name);
	return;
    }
    if ((value = pc_value(name, mode, buf)) != 0)
	pc_print_param(out, mode, name, value);
}

/* pc_collect_set - conf_walk() callback: the user-defined parameters */

static void pc_collect_set(const char *name, const char *raw, void *ctx)
{
    if (mail_param_find(name) == 0 && pc_is_user_param(name)
	&& !pc_list_has(ctx, name))
	pc_list_add(ctx, name);
}

void    pc_show_main(VSTREAM *out, int mode, char **names)
{
    VSTRING *buf = vstring_alloc(100);
    PC_LIST list = {0, 0, 0};
    const MAIL_PARAM *p;
    size_t  i;

    if (*names) {
	for (; *names; names++)
	    pc_show_one(out, mode, *names, buf);
    } else {
	for (p = mail_params; p->name; p++)
	    if ((pc_param_class & PC_CLASS_BUILTIN)
		&& (!(mode & PC_SHOW_NONDEF) || conf_is_set(p->name)))
		pc_list_add(&list, p->name);
	if (!(mode & PC_SHOW_DEFS) && (pc_param_class & PC_CLASS_USER))
	    conf_walk(pc_collect_set, &list);
	pc_list_sort(&list);
	for (i = 0; i < list.len; i++)
	    pc_show_one(out, mode, list.item[i], buf);
	pc_list_free(&list);
    }
    vstring_free(buf);
}

/* pc_flag_unused_one - conf_walk() callback */

static void pc_flag_unused_one(const char *name, const char *raw, void *ctx)
{
    if (mail_param_find(name) == 0 && !pc_list_has(&pc_refs, name))
	msg_warn("%s/main.cf: unused parameter: %s=%s", mail_conf_dir(), name, raw);
}

void    pc_flag_unused_main(void)
{
    conf_walk(pc_flag_unused_one, 0);
}
