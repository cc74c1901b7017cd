/*
 * local_alias.c - alias_maps lookups and the rights that deliveries run with.
 *
 * local_alias_find() looks a name up in alias_maps (opened once, keys
 * folded to lower case) table by table, so that it knows which table
 * answered: as Postfix's local(8), an alias expands with the rights of the
 * alias database's owner (hash:/btree: NAME.db, texthash:/pcre: NAME), or
 * root's when the table has no file (inline:, static: live in main.cf).
 * Those rights read its :include: files; its commands and files run with
 * them too, except that root's become default_privs
 * (local_priv_nonroot()).  A table that cannot answer makes the lookup
 * fail (-1), so that the mail is deferred.
 *
 * The local_priv_* functions fill in a LOCAL_PRIV: a user's rights, a
 * file owner's, or default_privs' (looked up with lib/global/user.h, falling back
 * to the system's passwd for system accounts such as "nobody" when
 * passwd_file is set).  Without root everything runs as ourselves.
 *
 * Parameters: alias_maps, default_privs.
 */
#include "sys_defs.h"
#include <pwd.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict.h"
#include "mail_proto.h"
#include "mail_conf.h"
#include "local.h"

/* local_priv_set - fill in PRIV */

static void local_priv_set(LOCAL_PRIV *priv, uid_t uid, gid_t gid,
			           const char *user, const char *home,
			           const char *shell)
{
    local_priv_free(priv);
    priv->uid = uid;
    priv->gid = gid;
    priv->user = mystrdup(user ? user : "");
    priv->home = mystrdup(home ? home : "");
    priv->shell = mystrdup(shell ? shell : "");
}

void    local_priv_free(LOCAL_PRIV *priv)
{
    if (priv->user)
	myfree(priv->user);
    if (priv->home)
	myfree(priv->home);
    if (priv->shell)
	myfree(priv->shell);
    priv->user = priv->home = priv->shell = 0;
}

/* local_priv_self - our own rights (not root) */

static void local_priv_self(LOCAL_PRIV *priv)
{
    USER_INFO user;

    memset(&user, 0, sizeof(user));
    if (user_by_uid(getuid(), &user) > 0) {
	local_priv_set(priv, getuid(), getgid(), user.name, user.home, user.shell);
	user_info_free(&user);
    } else {
	local_priv_set(priv, getuid(), getgid(), "", "", "");
    }
}

void    local_priv_user(LOCAL_PRIV *priv, const USER_INFO *user)
{
    local_priv_set(priv, user->uid, user->gid, user->name, user->home, user->shell);
}

void    local_priv_copy(LOCAL_PRIV *priv, const LOCAL_PRIV *from)
{
    local_priv_set(priv, from->uid, from->gid, from->user, from->home, from->shell);
}

int     local_priv_default(LOCAL_PRIV *priv, VSTRING *why)
{
    const char *name = conf_str("default_privs");
    USER_INFO user;
    struct passwd *pw;

    if (!local_is_root) {
	local_priv_self(priv);
	return (0);
    }
    memset(&user, 0, sizeof(user));
    if (user_by_name(name, &user) > 0) {
	local_priv_set(priv, user.uid, user.gid, user.name, user.home, user.shell);
	user_info_free(&user);
    } else if ((pw = getpwnam(name)) != 0) {
	local_priv_set(priv, pw->pw_uid, pw->pw_gid, pw->pw_name, pw->pw_dir,
		       pw->pw_shell);
    } else {
	vstring_sprintf(why, "unknown default_privs user \"%s\"", name);
	return (-1);
    }
    if (priv->uid == 0) {
	vstring_sprintf(why, "default_privs user \"%s\" has uid 0", name);
	return (-1);
    }
    return (0);
}

/*
 * local_priv_nonroot - the rights for a command or file destination: those
 * of EXP, or default_privs instead of root (filled into DEF).  NULL when
 * default_privs is unusable: the destination is then deferred.
 */
const LOCAL_PRIV *local_priv_nonroot(LOCAL_DELIVERY *d, const LOCAL_EXP *exp,
				             LOCAL_PRIV *def)
{
    VSTRING *why;

    if (!local_is_root || exp->priv->uid != 0)
	return (exp->priv);
    why = vstring_alloc(100);
    if (local_priv_default(def, why) < 0) {
	local_leaf(d, exp->addr, DELIVER_STAT_DEFER, "4.3.5",
		   "mail system configuration error: %s", STR(why));
	vstring_free(why);
	return (0);
    }
    vstring_free(why);
    return (def);
}

int     local_priv_owner(LOCAL_PRIV *priv, uid_t uid, gid_t gid, VSTRING *why)
{
    USER_INFO user;

    if (!local_is_root) {
	local_priv_self(priv);
	return (0);
    }
    memset(&user, 0, sizeof(user));
    if (user_by_uid(uid, &user) > 0) {
	local_priv_set(priv, uid, user.gid, user.name, user.home, user.shell);
	user_info_free(&user);
    } else {
	local_priv_set(priv, uid, gid, "", "", "");
    }
    return (0);
}

/* local_table_file - the file behind a table, or NULL */

static const char *local_table_file(DICT *dict, VSTRING *buf)
{
    if (strcmp(dict->type, "hash") == 0 || strcmp(dict->type, "btree") == 0)
	return (STR(vstring_sprintf(buf, "%s.db", dict->name)));
    if (strcmp(dict->type, "texthash") == 0 || strcmp(dict->type, "pcre") == 0)
	return (STR(vstring_strcpy(buf, dict->name)));
    return (0);
}

/* local_table_priv - the rights of DICT's owner; 0 or -1 (logged) */

static int local_table_priv(DICT *dict, LOCAL_PRIV *priv)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *path = local_table_file(dict, buf);
    struct stat st;
    int     ret;

    if (path == 0)
	ret = local_priv_owner(priv, 0, 0, why);
    else if (stat(path, &st) == 0)
	ret = local_priv_owner(priv, st.st_uid, st.st_gid, why);
    else
	ret = local_priv_default(priv, why);
    if (ret < 0)
	msg_warn("alias_maps %s:%s: %s", dict->type, dict->name, STR(why));
    vstring_free(buf);
    vstring_free(why);
    return (ret);
}

int     local_alias_find(const char *name, VSTRING *value, LOCAL_PRIV *priv)
{
    static MAPS *maps;
    const char *found;

    if (maps == 0)
	maps = maps_create("alias_maps", conf_str("alias_maps"), DICT_FLAG_FOLD_KEY);
    for (int i = 0; i < maps->count; i++) {
	DICT   *dict = maps->dicts[i];

	if ((found = dict_lookup(dict, name)) != 0) {
	    vstring_strcpy(value, found);
	    return (local_table_priv(dict, priv) < 0 ? -1 : 1);
	}
	if (dict->error) {
	    msg_warn("alias_maps %s:%s: lookup error for \"%s\"",
		     dict->type, dict->name, name);
	    return (-1);
	}
    }
    return (0);
}
