/*
 * mailbox_find.c - where a user's mail lives (mailbox_find.h).
 *
 * Any table failure or doubtful configuration is MAILBOX_TEMP or
 * MAILBOX_CONFIG, so that local defers (and a login fails for now); only
 * an address no table knows is MAILBOX_UNKNOWN.  A table-supplied path
 * with a ".." component is refused.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "address.h"
#include "mail_conf.h"
#include "dict.h"
#include "resolve.h"
#include "mailbox_find.h"

void    mailbox_place_init(MAILBOX_PLACE *place)
{
    memset(place, 0, sizeof(*place));
    place->path = vstring_alloc(100);
}

void    mailbox_place_free(MAILBOX_PLACE *place)
{
    if (place->path)
	vstring_free(place->path);
    place->path = 0;
}

int     mailbox_name_ok(const char *name)
{
    return (*name != 0 && *name != '.' && strchr(name, '/') == 0
	    && strlen(name) < 256);
}

/* mailbox_kind - Maildir when PATH ends in '/' */

static int mailbox_kind(VSTRING *path)
{
    return (LEN(path) > 0 && STR(path)[LEN(path) - 1] == '/' ?
	    MAILBOX_MAILDIR : MAILBOX_MBOX);
}

int     mailbox_find_user(const char *name, const USER_INFO *user,
			          MAILBOX_PLACE *place, VSTRING *why)
{
    const char *home_mailbox = conf_str("home_mailbox");
    const char *spool = conf_str("mail_spool_directory");
    size_t  len = strlen(spool);

    place->virtual = place->spool = 0;
    place->uid = user->uid;
    place->gid = user->gid;
    if (*home_mailbox == 0 && *spool == 0) {
	vstring_strcpy(why, "mail system configuration error: empty "
		       "mail_spool_directory");
	return (MAILBOX_CONFIG);
    }
    if (*home_mailbox) {
	vstring_sprintf(place->path, "%s/%s", user->home, home_mailbox);
    } else {
	vstring_sprintf(place->path, "%s%s%s", spool,
			spool[len - 1] == '/' ? "" : "/", name);
	if (spool[len - 1] == '/')
	    vstring_addch(place->path, '/');
	place->spool = 1;
    }
    place->kind = mailbox_kind(place->path);
    return (MAILBOX_FOUND);
}

/* mailbox_table_find - KEYS in MAPS; 1 found (VALUE), 0 not found, -1 error */

static int mailbox_table_find(MAPS *maps, char **keys, VSTRING *value)
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

/* mailbox_table_id - a uid or gid from its table; MAILBOX_FOUND or else */

static int mailbox_table_id(MAPS *maps, char **keys, long *id,
			            const char *what, VSTRING *why)
{
    VSTRING *value = vstring_alloc(20);
    int     found = mailbox_table_find(maps, keys, value);
    int     ret = MAILBOX_FOUND;
    char   *end;

    *id = -1;
    if (found > 0 && isdigit((unsigned char) *STR(value))) {
	errno = 0;
	*id = strtol(STR(value), &end, 10);
	if (*end || errno)
	    *id = -1;
    }
    if (found < 0) {
	vstring_sprintf(why, "table lookup failure in virtual_%s_maps", what);
	ret = MAILBOX_TEMP;
    } else if (*id < 0) {
	vstring_sprintf(why, "mail system configuration error: no valid %s "
			"for \"%s\"", what, keys[0]);
	ret = MAILBOX_CONFIG;
    }
    vstring_free(value);
    return (ret);
}

/* mailbox_path_ok - no ".." component in a table-supplied path */

static int mailbox_path_ok(const char *path)
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

/* mailbox_virtual_lookup - KEYS (most specific first) -> PLACE */

static int mailbox_virtual_lookup(char **keys, MAILBOX_PLACE *place, VSTRING *why)
{
    static MAPS *mailbox_maps, *uid_maps, *gid_maps;
    VSTRING *mailbox = vstring_alloc(100);
    long    uid = -1, gid = -1;
    int     found, ret;

    if (mailbox_maps == 0) {
	mailbox_maps = maps_create("virtual_mailbox_maps",
			       conf_str("virtual_mailbox_maps"), DICT_FLAG_FOLD_KEY);
	uid_maps = maps_create("virtual_uid_maps",
			       conf_str("virtual_uid_maps"), DICT_FLAG_FOLD_KEY);
	gid_maps = maps_create("virtual_gid_maps",
			       conf_str("virtual_gid_maps"), DICT_FLAG_FOLD_KEY);
    }
    if ((found = mailbox_table_find(mailbox_maps, keys, mailbox)) < 0) {
	vstring_strcpy(why, "table lookup failure in virtual_mailbox_maps");
	ret = MAILBOX_TEMP;
    } else if (found == 0) {
	vstring_sprintf(why, "unknown user: \"%s\"", keys[0]);
	ret = MAILBOX_UNKNOWN;
    } else if (!mailbox_path_ok(STR(mailbox)) || *conf_str("virtual_mailbox_base") == 0) {
	vstring_sprintf(why, "mail system configuration error: bad virtual "
			"mailbox path \"%s\" for \"%s\"", STR(mailbox), keys[0]);
	ret = MAILBOX_CONFIG;
    } else if ((ret = mailbox_table_id(uid_maps, keys, &uid, "uid", why)) != MAILBOX_FOUND
	       || (ret = mailbox_table_id(gid_maps, keys, &gid, "gid", why)) != MAILBOX_FOUND) {
	 /* WHY is set */ ;
    } else if (uid == 0 || uid < conf_int("virtual_minimum_uid")) {
	vstring_sprintf(why, "mail system configuration error: bad uid %ld "
			"for \"%s\"", uid, keys[0]);
	ret = MAILBOX_CONFIG;
    } else {
	vstring_sprintf(place->path, "%s/%s", conf_str("virtual_mailbox_base"),
			STR(mailbox));
	place->kind = mailbox_kind(mailbox);
	place->uid = (uid_t) uid;
	place->gid = (gid_t) gid;
	place->virtual = 1;
    }
    vstring_free(mailbox);
    return (ret);
}

int     mailbox_find_virtual(const char *addr, MAILBOX_PLACE *place, VSTRING *why)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *full = vstring_alloc(100);
    VSTRING *bare = vstring_alloc(100);
    VSTRING *catchall = vstring_alloc(100);
    char   *keys[4];
    int     ret;

    place->virtual = place->spool = 0;
    if (addr_split(addr, local, domain) < 0 || LEN(local) == 0) {
	vstring_sprintf(why, "bad address syntax: \"%s\"", addr);
	ret = MAILBOX_UNKNOWN;
    } else {
	vstring_lowercase(local);
	vstring_lowercase(domain);
	vstring_sprintf(full, "%s@%s", STR(local), STR(domain));
	resolve_strip_extension(local);
	vstring_sprintf(bare, "%s@%s", STR(local), STR(domain));
	vstring_sprintf(catchall, "@%s", STR(domain));
	keys[0] = STR(full);
	keys[1] = strcmp(STR(full), STR(bare)) ? STR(bare) : STR(catchall);
	keys[2] = keys[1] == STR(bare) ? STR(catchall) : 0;
	keys[3] = 0;
	ret = mailbox_virtual_lookup(keys, place, why);
    }
    vstring_free(local);
    vstring_free(domain);
    vstring_free(full);
    vstring_free(bare);
    vstring_free(catchall);
    return (ret);
}
