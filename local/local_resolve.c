/*
 * local_resolve.c - from a recipient address to a mailbox and its owner.
 *
 * Domains in mydestination (or no domain) are local users: the local part,
 * folded to lower case and without its recipient_delimiter extension, is
 * looked up with user_by_name() (lib/global/user.h).  Their mailbox is
 * HOME/$home_mailbox when home_mailbox is set, else
 * $mail_spool_directory/NAME; a name ending in '/' means Maildir.
 * Domains in virtual_mailbox_domains use virtual_mailbox_maps (path under
 * virtual_mailbox_base, '/' at the end = Maildir), virtual_uid_maps and
 * virtual_gid_maps, looked up as Postfix's virtual(8) does: the address,
 * the address without extension, then "@domain".
 *
 * local_expand.c decides which of these a recipient reaches (aliases and
 * .forward come first).
 * Any table failure or doubtful configuration defers; only an unknown
 * user bounces.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "address.h"
#include "dict.h"
#include "user.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "local.h"

/* local_strip_extension - cut LOCAL at the first recipient_delimiter */

void    local_strip_extension(VSTRING *local)
{
    const char *delims = conf_str("recipient_delimiter");
    size_t  pos;

    if (*delims == 0)
	return;
    pos = strcspn(STR(local), delims);
    if (pos > 0 && pos < LEN(local))
	vstring_truncate(local, pos);
}

/* local_name_ok - a user name that is safe as a file name */

int     local_name_ok(const char *name)
{
    return (*name != 0 && *name != '.' && strchr(name, '/') == 0
	    && strlen(name) < 256);
}

int     local_user_dest(const char *name, const USER_INFO *user,
			        LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    const char *home_mailbox = conf_str("home_mailbox");
    const char *spool = conf_str("mail_spool_directory");

    dest->virtual = dest->spool = 0;
    dest->uid = user->uid;
    dest->gid = user->gid;
    if (*home_mailbox == 0 && *spool == 0) {
	local_result(result, DELIVER_STAT_DEFER, "4.3.5", "mail system "
		     "configuration error: empty mail_spool_directory");
	return (-1);
    }
    if (*home_mailbox) {
	vstring_sprintf(dest->path, "%s/%s", user->home, home_mailbox);
    } else {
	vstring_sprintf(dest->path, "%s%s%s", spool,
			spool[strlen(spool) - 1] == '/' ? "" : "/", name);
	if (spool[strlen(spool) - 1] == '/')
	    vstring_addch(dest->path, '/');
	dest->spool = 1;
    }
    dest->kind = STR(dest->path)[LEN(dest->path) - 1] == '/' ?
	LOCAL_MAILBOX_MAILDIR : LOCAL_MAILBOX_MBOX;
    return (0);
}

/*
 * local_virtual_find - look up KEYS in MAPS; 1 found (VALUE), 0 not found,
 * -1 table error.
 */
static int local_virtual_find(MAPS *maps, char **keys, VSTRING *value)
{
    const char *found;

    for (int i = 0; keys[i]; i++) {
	if ((found = maps_find(maps, keys[i])) != 0) {
	    vstring_strcpy(value, found);
	    return (1);
	}
	if (maps->error)
	    return (-1);
    }
    return (0);
}

/* local_virtual_id - a uid or gid from its table; 0 or -1 (RESULT set) */

static int local_virtual_id(MAPS *maps, char **keys, long *id,
			            const char *what, LOCAL_RESULT *result)
{
    VSTRING *value = vstring_alloc(20);
    int     found = local_virtual_find(maps, keys, value);
    char   *end;

    *id = -1;
    if (found > 0 && isdigit((unsigned char) *STR(value))) {
	errno = 0;
	*id = strtol(STR(value), &end, 10);
	if (*end || errno)
	    *id = -1;
    }
    if (found < 0)
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "table lookup failure in virtual_%s_maps", what);
    else if (*id < 0)
	local_result(result, DELIVER_STAT_DEFER, "4.3.5",
		     "mail system configuration error: no valid %s for \"%s\"",
		     what, keys[0]);
    vstring_free(value);
    return (*id < 0 ? -1 : 0);
}

/* local_path_ok - no ".." component in a table-supplied path */

static int local_path_ok(const char *path)
{
    const char *cp = path;

    while (*cp) {
	if (cp[0] == '.' && cp[1] == '.' && (cp[2] == '/' || cp[2] == 0))
	    return (0);
	cp += strcspn(cp, "/");
	cp += strspn(cp, "/");
    }
    return (*path != 0);
}

/* local_resolve_virtual - a virtual mailbox */

static int local_resolve_virtual(VSTRING *local, VSTRING *domain,
			               LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    static MAPS *mailbox_maps, *uid_maps, *gid_maps;
    VSTRING *full = vstring_alloc(100);
    VSTRING *bare = vstring_alloc(100);
    VSTRING *catchall = vstring_alloc(100);
    VSTRING *mailbox = vstring_alloc(100);
    char   *keys[4];
    long    uid = -1, gid = -1;
    int     found, ret = -1;

    if (mailbox_maps == 0) {
	mailbox_maps = maps_create("virtual_mailbox_maps",
			       conf_str("virtual_mailbox_maps"), DICT_FLAG_FOLD_KEY);
	uid_maps = maps_create("virtual_uid_maps",
			       conf_str("virtual_uid_maps"), DICT_FLAG_FOLD_KEY);
	gid_maps = maps_create("virtual_gid_maps",
			       conf_str("virtual_gid_maps"), DICT_FLAG_FOLD_KEY);
    }
    vstring_lowercase(local);
    vstring_lowercase(domain);
    vstring_sprintf(full, "%s@%s", STR(local), STR(domain));
    local_strip_extension(local);
    vstring_sprintf(bare, "%s@%s", STR(local), STR(domain));
    vstring_sprintf(catchall, "@%s", STR(domain));
    keys[0] = STR(full);
    keys[1] = strcmp(STR(full), STR(bare)) ? STR(bare) : STR(catchall);
    keys[2] = keys[1] == STR(bare) ? STR(catchall) : 0;
    keys[3] = 0;

    if ((found = local_virtual_find(mailbox_maps, keys, mailbox)) < 0)
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "table lookup failure in virtual_mailbox_maps");
    else if (found == 0)
	local_result(result, DELIVER_STAT_BOUNCE, "5.1.1",
		     "unknown user: \"%s\"", STR(full));
    else if (!local_path_ok(STR(mailbox)) || *conf_str("virtual_mailbox_base") == 0)
	local_result(result, DELIVER_STAT_DEFER, "4.3.5",
		     "mail system configuration error: bad virtual mailbox "
		     "path \"%s\" for \"%s\"", STR(mailbox), STR(full));
    else if (local_virtual_id(uid_maps, keys, &uid, "uid", result) < 0
	     || local_virtual_id(gid_maps, keys, &gid, "gid", result) < 0)
	 /* result is set */ ;
    else if (uid == 0 || uid < conf_int("virtual_minimum_uid"))
	local_result(result, DELIVER_STAT_DEFER, "4.3.5",
		     "mail system configuration error: bad uid %ld for \"%s\"",
		     uid, STR(full));
    else {
	vstring_sprintf(dest->path, "%s/%s", conf_str("virtual_mailbox_base"),
			STR(mailbox));
	dest->kind = STR(mailbox)[LEN(mailbox) - 1] == '/' ?
	    LOCAL_MAILBOX_MAILDIR : LOCAL_MAILBOX_MBOX;
	dest->uid = (uid_t) uid;
	dest->gid = (gid_t) gid;
	dest->virtual = 1;
	ret = 0;
    }
    vstring_free(full);
    vstring_free(bare);
    vstring_free(catchall);
    vstring_free(mailbox);
    return (ret);
}

int     local_virtual_dest(const char *addr, LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    int     ret = -1;

    dest->virtual = dest->spool = 0;
    if (addr_split(addr, local, domain) < 0 || LEN(local) == 0)
	local_result(result, DELIVER_STAT_BOUNCE, "5.1.3",
		     "bad address syntax: \"%s\"", addr);
    else
	ret = local_resolve_virtual(local, domain, dest, result);
    vstring_free(local);
    vstring_free(domain);
    return (ret);
}
