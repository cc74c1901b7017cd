/*
 * conf_check_master.c - check master.cf without dying (conf_check.h):
 * its syntax (master_cf_parse()), that each service's command can be run,
 * the -o values of each service, the postlog service maillog_file needs
 * and the proxymap service that proxy: tables need.
 */
#include "sys_defs.h"
#include <limits.h>
#include "conf_check.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct CC_MASTER {
    CONF_CHECK *cc;
    const char *path;			/* DIR/master.cf */
} CC_MASTER;

/* cc_default_maxproc - default_process_limit, or 100 when it is bad */

static int cc_default_maxproc(CONF_CHECK *cc)
{
    VSTRING *buf = vstring_alloc(20);
    const char *value = conf_check_param(cc, "default_process_limit", buf);
    char   *end = 0;
    long    val = value ? strtol(value, &end, 10) : 0;
    int     result;

    result = value && end > value && *end == 0 && val > 0 && val <= INT_MAX ?
	(int) val : 100;
    vstring_free(buf);
    return (result);
}

/* cc_check_option - one -o of a service */

static void cc_check_option(const MASTER_CF_ENT *ent, const char *name,
			            const char *value, void *ctx)
{
    CC_MASTER *cm = ctx;
    VSTRING *where = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    const MAIL_PARAM *p;

    vstring_sprintf(where, "%s, line %d", cm->path, ent->line);
    if (name == 0) {
	conf_check_report(cm->cc, CONF_CHECK_FATAL,
			  "%s: service %s/%s: bad -o option \"%s\" (need: -o name=value)",
			  STR(where), ent->name, master_cf_type_name(ent->type), value);
    } else if ((p = mail_param_find(name)) != 0
	       && conf_check_expand(cm->cc, STR(where), name, value, buf) == 0) {
	(void) conf_check_value(cm->cc, STR(where), name, p->type, p, STR(buf));
    }
    vstring_free(where);
    vstring_free(buf);
}

/* cc_check_program - the command of a service must be there to run */

static void cc_check_program(CC_MASTER *cm, const MASTER_CF_ENT *ent,
			             const char *dir)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    const char *why = 0;

    if (strchr(ent->argv[0], '/'))
	vstring_strcpy(path, ent->argv[0]);
    else
	vstring_sprintf(path, "%s/%s", dir, ent->argv[0]);
    if (stat(STR(path), &st) < 0 || access(STR(path), X_OK) < 0)
	why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
	why = "not a regular file";
    if (why)
	conf_check_report(cm->cc, CONF_CHECK_ERROR,
			  "%s, line %d: service %s/%s: cannot execute %s: %s",
			  cm->path, ent->line, ent->name,
			  master_cf_type_name(ent->type), STR(path), why);
    vstring_free(path);
}

/* cc_check_programs - master and every service's command */

static void cc_check_programs(CC_MASTER *cm, const MASTER_CF *cf)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *master = vstring_alloc(100);
    const char *dir = conf_check_param(cm->cc, "daemon_directory", buf);
    const char *name = conf_raw("mail_name");
    struct stat st;

    if (dir == 0) {
	/* a bad value: conf_check_main() says why */
    } else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
	conf_check_report(cm->cc, CONF_CHECK_FATAL, "no %s daemon directory %s",
			  name, dir);
    } else {
	vstring_sprintf(master, "%s/master", dir);
	if (access(STR(master), X_OK) < 0)
	    conf_check_report(cm->cc, CONF_CHECK_FATAL, "no %s master program %s",
			      name, STR(master));
	for (int i = 0; i < cf->count; i++)
	    cc_check_program(cm, cf->ents + i, dir);
    }
    vstring_free(buf);
    vstring_free(master);
}

/* cc_check_postlog - maillog_file needs postlogd for the users' sessions */

static void cc_check_postlog(CC_MASTER *cm, const MASTER_CF *cf)
{
    VSTRING *buf = vstring_alloc(100);
    const char *logfile = conf_check_param(cm->cc, "maillog_file", buf);

    for (int i = 0; logfile && i < cf->count; i++)
	if (strcmp(cf->ents[i].name, "postlog") == 0
	    && cf->ents[i].type == MASTER_CF_UNIX)
	    logfile = 0;
    if (logfile && *logfile)
	conf_check_report(cm->cc, CONF_CHECK_ERROR,
			  "missing 'postlog' service in master.cf - run "
			  "'posthorn upgrade-configuration'");
    vstring_free(buf);
}

/* cc_has_unix - master.cf has the unix service NAME */

static int cc_has_unix(const MASTER_CF *cf, const char *name)
{
    for (int i = 0; i < cf->count; i++)
	if (strcmp(cf->ents[i].name, name) == 0 && cf->ents[i].type == MASTER_CF_UNIX)
	    return (1);
    return (0);
}

/* cc_check_proxymap - a proxy: table needs the proxymap service */

static void cc_check_proxymap(CC_MASTER *cm, const MASTER_CF *cf)
{
    VSTRING *buf = vstring_alloc(100);
    const char *value;
    const char *user = 0;

    if (cc_has_unix(cf, "proxymap")) {
	vstring_free(buf);
	return;
    }
    for (const MAIL_PARAM *p = mail_params; user == 0 && p->name; p++)
	if (strcmp(p->name, "proxy_read_maps") != 0
	    && (value = conf_check_param(cm->cc, p->name, buf)) != 0
	    && strstr(value, "proxy:") != 0)
	    user = p->name;
    if (user)
	conf_check_report(cm->cc, CONF_CHECK_ERROR,
			  "missing 'proxymap' service in master.cf (%s uses "
			  "proxy: tables) - run 'posthorn upgrade-configuration'",
			  user);
    vstring_free(buf);
}

void    conf_check_master(CONF_CHECK *cc, MASTER_CF **cfp)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    CC_MASTER cm;
    struct stat st;

    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    cm.cc = cc;
    cm.path = STR(path);
    if (stat(STR(path), &st) < 0 && errno == ENOENT) {
	conf_check_report(cc, CONF_CHECK_FATAL, "no %s file found", STR(path));
	*cfp = 0;
    } else if ((*cfp = master_cf_parse(STR(path), cc_default_maxproc(cc), err)) == 0) {
	conf_check_report(cc, CONF_CHECK_FATAL, "%s", STR(err));
    } else {
	cc_check_programs(&cm, *cfp);
	conf_check_options(*cfp, cc_check_option, &cm);
	cc_check_postlog(&cm, *cfp);
	cc_check_proxymap(&cm, *cfp);
    }
    vstring_free(path);
    vstring_free(err);
}
