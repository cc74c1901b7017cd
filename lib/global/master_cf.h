/*
 * master_cf.h - parse master.cf, the table of services master runs.
 *
 * Postfix's format: one service per line with the columns
 *     service type private unpriv chroot wakeup maxproc command [args...]
 * '-' in a column means its default (private y, unpriv y, chroot n,
 * wakeup 0, maxproc DEFAULT_MAXPROC); a line that starts with white space
 * continues the previous one; '#' lines and empty lines are ignored.
 * type is "inet" (service = [host:]port, port numeric or a name from
 * /etc/services) or "unix" (a socket named public/SERVICE, or
 * private/SERVICE when private=y, under queue_directory).  wakeup is "N"
 * (master triggers the service every N seconds) or "N?" (only while the
 * service has processes); maxproc 0 means no limit.
 *
 * master_cf_parse() never dies: on a syntax error it returns NULL and puts
 * "FILE, line N: reason" into ERR, so that master can refuse a bad file
 * on reload and keep running with the old one.
 */
#ifndef MASTER_CF_H
#define MASTER_CF_H

#include "sys_defs.h"
#include "vstring.h"

#define MASTER_CF_INET	1
#define MASTER_CF_UNIX	2

typedef struct MASTER_CF_ENT {
    char   *name;			/* service column as written */
    int     type;			/* MASTER_CF_INET or MASTER_CF_UNIX */
    int     private_;			/* unix: socket in private/ */
    int     unpriv;			/* run as mail_owner (-u) */
    int     chroot;			/* chroot into the queue (-z) */
    int     wakeup;			/* seconds between wakeups, 0 = none */
    int     wakeup_cond;		/* "N?": only when processes exist */
    int     maxproc;			/* 0 = no limit */
    int     argc;			/* command and its arguments */
    char  **argv;			/* NULL-terminated */
    int     line;			/* where the entry started */
} MASTER_CF_ENT;

typedef struct MASTER_CF {
    int     count;
    MASTER_CF_ENT *ents;
} MASTER_CF;

/* master_cf_parse_text - parse TEXT (named NAME in errors); NULL + ERR on error */
MASTER_CF *master_cf_parse_text(const char *text, const char *name,
				        int default_maxproc, VSTRING *err);

/* master_cf_parse - the same for the file PATH (an unreadable file is an error) */
MASTER_CF *master_cf_parse(const char *path, int default_maxproc, VSTRING *err);

void	master_cf_free(MASTER_CF *cf);

/*
 * master_cf_inet_addr - turn an inet service column ("[host:]port", port
 * numeric or an /etc/services name) into "host:NUMBER" or ":NUMBER" in
 * ADDR; 0 ok, -1 with a reason in ERR.
 */
int	master_cf_inet_addr(const char *service, VSTRING *addr, VSTRING *err);

/* master_cf_type_name - "inet" or "unix" */
const char *master_cf_type_name(int type);

#endif
