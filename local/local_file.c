/*
 * local_file.c - delivery to a "/file/name" from an alias, .forward or
 * :include: file.
 *
 * Allowed only when allow_mail_to_files lists the expansion type (alias,
 * forward, include); otherwise bounced with "mail to file is restricted"
 * (5.7.1), as Postfix.  The file is appended in mbox format (a name ending
 * in '/' is a Maildir) by local_deliver() with the expansion's rights,
 * never root's (root becomes default_privs): never through a symbolic
 * link (unless root's) or a hard link, and never into a file with an
 * executable bit ("destination file is executable", bounced, as
 * Postfix).  /dev/null accepts everything.
 */
#include "sys_defs.h"
#include "msg.h"
#include "vstring.h"
#include "mail_proto.h"
#include "local.h"

void    local_file(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *path)
{
    LOCAL_PRIV def;
    const LOCAL_PRIV *priv = exp->priv;
    LOCAL_DEST dest;
    LOCAL_RESULT res;

    if (!local_allowed("allow_mail_to_files", exp)) {
	local_leaf(d, exp->addr, DELIVER_STAT_BOUNCE, "5.7.1",
		   "mail to file is restricted");
	return;
    }
    if (local_seen(d, "file", path))
	return;
    if (strcmp(path, "/dev/null") == 0) {
	local_leaf(d, exp->addr, DELIVER_STAT_OK, "2.0.0",
		   "delivered to file: %s", path);
	return;
    }
    memset(&def, 0, sizeof(def));
    if ((priv = local_priv_nonroot(d, exp, &def)) == 0)
	return;
    res.reason = vstring_alloc(100);
    memset(&dest, 0, sizeof(dest));
    dest.path = vstring_alloc(100);
    vstring_strcpy(dest.path, path);
    dest.kind = path[strlen(path) - 1] == '/' ?
	LOCAL_MAILBOX_MAILDIR : LOCAL_MAILBOX_MBOX;
    dest.uid = priv->uid;
    dest.gid = priv->gid;
    dest.file = 1;
    if (local_deliver(d->state, d->rcpt, &dest, &res) == 0)
	local_result(&res, DELIVER_STAT_OK, "2.0.0", "delivered to file: %s", path);
    local_leaf_result(d, exp->addr, &res);
    local_priv_free(&def);
    vstring_free(dest.path);
    vstring_free(res.reason);
}
