/*
 * master_cf_upgrade.h - the master.cf services that Posthorn versions
 * after the first need, and adding those an older master.cf lacks:
 * "posthorn upgrade-configuration", as Postfix's post-install
 * upgrade-configuration does.
 *
 * A service is there when a line of master.cf starts (in column 0, not
 * commented out) with its name and type, whatever its other columns say:
 * the admin's settings are kept.  A missing one is appended at the end as
 * conf/master.cf has it; no other line is touched, the file is edited in
 * place (appended to through a descriptor that safe_open() checked, so a
 * link planted in place of master.cf is refused) and synced.
 *
 * master_cf_upgrade_text() finds what TEXT lacks: the lines to add go to
 * ADD, and FN(service, CTX) is called for each, in order; it returns how
 * many.  master_cf_upgrade() does that to the file PATH: the count, or -1
 * with the reason in ERR (nothing written).
 */
#ifndef MASTER_CF_UPGRADE_H
#define MASTER_CF_UPGRADE_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct MASTER_CF_SERVICE {
    const char *name;			/* service column */
    const char *type;			/* "unix" */
    const char *line;			/* the whole entry, as conf/master.cf */
} MASTER_CF_SERVICE;

extern const MASTER_CF_SERVICE master_cf_upgrade_services[];	/* name NULL ends it */

typedef void (*MASTER_CF_UPGRADE_FN) (const MASTER_CF_SERVICE *service, void *ctx);

int	master_cf_upgrade_text(const char *text, VSTRING *add,
			               MASTER_CF_UPGRADE_FN fn, void *ctx);
int	master_cf_upgrade(const char *path, MASTER_CF_UPGRADE_FN fn, void *ctx,
			          VSTRING *err);

#endif
