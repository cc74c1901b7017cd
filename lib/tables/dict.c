/*
 * dict.c - open "type:name" tables and look keys up in them.
 *
 * dict_open() splits "type:name", picks the backend (hash, btree, lmdb,
 * pcre, regexp, cidr, sqlite, pgsql, mysql, ldap, proxy, texthash, static,
 * inline, unix) and always returns a DICT: when the table cannot be opened
 * or the type is unknown, the DICT has ->error set and every lookup
 * returns NULL with ->error set, so callers defer mail.
 * dict_lookup() folds the key to lower case first when the table was
 * opened with DICT_FLAG_FOLD_KEY (the backends store folded keys);
 * dict_update() and dict_delete() fold the same way.  dict_open3() opens
 * hash:, btree: (dict_db.c) and lmdb: (dict_lmdb.c) for writing; other
 * types are read-only.
 *
 * Every table read from a file (hash, btree: NAME.db; lmdb: NAME.lmdb;
 * pcre, regexp, cidr, texthash: NAME; sqlite, pgsql, mysql, ldap: its
 * configuration file) is watched: dict_changed_name() compares each file
 * with what it was when the table was opened (device, inode, size, mtime,
 * ctime; a file that was missing then and exists now, or the other way round),
 * as Postfix does, so that a daemon can finish its work and restart with
 * the tables postmap, postalias or an editor just made (mail_server.c).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict_private.h"

typedef struct DICT_TYPE {
    const char *type;
    DICT   *(*open) (const char *type, const char *name, int flags);
    const char *file_suffix;		/* the file is NAME this; NULL: none */
} DICT_TYPE;

static const DICT_TYPE dict_types[] = {
    {"hash", dict_db_open, ".db"},
    {"btree", dict_db_open, ".db"},
    {"pcre", dict_pcre_open, ""},
    {"regexp", dict_regexp_open, ""},
    {"cidr", dict_cidr_open, ""},
    {"lmdb", dict_lmdb_open, ".lmdb"},
    {"sqlite", dict_sqlite_open, ""},
    {"pgsql", dict_pgsql_open, ""},
    {"mysql", dict_mysql_open, ""},
    {"ldap", dict_ldap_open, ""},
    {"proxy", dict_proxy_open, 0},
    {"texthash", dict_thash_open, ""},
    {"static", dict_static_open, 0},
    {"inline", dict_inline_open, 0},
    {"unix", dict_unix_open, 0},
    {0, 0, 0},
};

static DICT *dict_watched;		/* tables read from files */

/* dict_type_names - the types dict_open() knows, in table order */

const char *const *dict_type_names(void)
{
    static const char **names;
    size_t  n;

    if (names == 0) {
	for (n = 0; dict_types[n].type; n++)
	     /* void */ ;
	names = (const char **) mymalloc((n + 1) * sizeof(*names));
	for (n = 0; dict_types[n].type; n++)
	    names[n] = dict_types[n].type;
	names[n] = 0;
    }
    return (names);
}

/* dict_alloc - a zeroed backend object with the common fields set */

DICT   *dict_alloc(const char *type, const char *name, int flags, size_t size)
{
    DICT   *dict;

    if (size < sizeof(DICT))
	msg_panic("dict_alloc: bad size %lu", (unsigned long) size);
    dict = (DICT *) mycalloc(1, size);
    dict->type = mystrdup(type);
    dict->name = mystrdup(name);
    dict->flags = flags;
    dict->error = 0;
    return (dict);
}

/* dict_watch - remember the file PATH that DICT was read from */

static void dict_watch(DICT *dict, const char *path)
{
    dict->watch_path = mystrdup(path);
    if (stat(path, &dict->watch_st) < 0)
	memset(&dict->watch_st, 0, sizeof(dict->watch_st));	/* missing */
    dict->watch_next = dict_watched;
    dict_watched = dict;
}

/* dict_unwatch - forget DICT's file */

static void dict_unwatch(DICT *dict)
{
    DICT  **dp;

    for (dp = &dict_watched; *dp; dp = &(*dp)->watch_next) {
	if (*dp == dict) {
	    *dp = dict->watch_next;
	    break;
	}
    }
    myfree(dict->watch_path);
    dict->watch_path = 0;
}

/* dict_file_changed - ST (or a missing file, FOUND 0) is not WAS */

static int dict_file_changed(const struct stat *was, int found,
			             const struct stat *st)
{
    if (!found || was->st_ino == 0)
	return (found != (was->st_ino != 0));
    return (st->st_dev != was->st_dev || st->st_ino != was->st_ino
	    || st->st_size != was->st_size
	    || st->st_mtim.tv_sec != was->st_mtim.tv_sec
	    || st->st_mtim.tv_nsec != was->st_mtim.tv_nsec
	    || st->st_ctim.tv_sec != was->st_ctim.tv_sec
	    || st->st_ctim.tv_nsec != was->st_ctim.tv_nsec);
}

const char *dict_changed_name(void)
{
    static VSTRING *name;
    struct stat st;
    DICT   *dict;
    int     found;

    for (dict = dict_watched; dict; dict = dict->watch_next) {
	found = (stat(dict->watch_path, &st) == 0);
	if (!found && errno != ENOENT)
	    continue;				/* cannot tell */
	if (dict_file_changed(&dict->watch_st, found, &st)) {
	    if (name == 0)
		name = vstring_alloc(100);
	    vstring_sprintf(name, "%s:%s", dict->type, dict->name);
	    return (STR(name));
	}
    }
    return (0);
}

/* dict_free - release the common part and the object */

void    dict_free(DICT *dict)
{
    if (dict->watch_path)
	dict_unwatch(dict);
    if (dict->fold_buf)
	vstring_free(dict->fold_buf);
    myfree(dict->type);
    myfree(dict->name);
    myfree(dict);
}

/* dict_fail_lookup - a table that could not be opened cannot answer */

static const char *dict_fail_lookup(DICT *dict, const char *key)
{
    (void) key;
    dict->error = DICT_ERR_RETRY;
    return (0);
}

static int dict_fail_update(DICT *dict, const char *key, const char *value)
{
    (void) key;
    (void) value;
    dict->error = DICT_ERR_RETRY;
    return (-1);
}

static int dict_fail_delete(DICT *dict, const char *key)
{
    (void) key;
    dict->error = DICT_ERR_RETRY;
    return (-1);
}

static int dict_fail_sequence(DICT *dict, int func, const char **key,
			              const char **value)
{
    (void) func;
    (void) key;
    (void) value;
    dict->error = DICT_ERR_RETRY;
    return (-1);
}

static int dict_fail_close(DICT *dict)
{
    dict_free(dict);
    return (0);
}

/* dict_fail_close_write - nothing was committed */

static int dict_fail_close_write(DICT *dict)
{
    dict_free(dict);
    return (-1);
}

DICT   *dict_fail_open(const char *type, const char *name, int flags)
{
    DICT   *dict = dict_alloc(type, name, flags, sizeof(DICT));

    dict->lookup = dict_fail_lookup;
    dict->update = dict_fail_update;
    dict->delete = dict_fail_delete;
    dict->sequence = dict_fail_sequence;
    dict->close = dict_fail_close;
    dict->error = DICT_ERR_RETRY;
    return (dict);
}

DICT   *dict_fail_write(const char *type, const char *name, int flags)
{
    DICT   *dict = dict_fail_open(type, name, flags);

    dict->close = dict_fail_close_write;
    return (dict);
}

/* dict_extpar - strip "{ ... }" and the white space inside, in place */

char   *dict_extpar(char *text)
{
    char   *end;

    while (isspace((unsigned char) *text))
	text++;
    if (*text != '{')
	return (text);
    end = text + strlen(text);
    while (end > text + 1 && isspace((unsigned char) end[-1]))
	end--;
    if (end[-1] != '}' || end == text + 1)
	return (0);
    *--end = 0;
    text++;
    while (isspace((unsigned char) *text))
	text++;
    while (end > text && isspace((unsigned char) end[-1]))
	*--end = 0;
    return (text);
}

/* dict_open - open TYPE:NAME; never NULL */

DICT   *dict_open(const char *type_name, int flags)
{
    const DICT_TYPE *dt;
    const char *colon = strchr(type_name, ':');
    char   *type;
    DICT   *dict;

    if (colon == 0 || colon == type_name) {
	msg_warn("open dictionary: expecting \"type:name\" form instead of \"%s\"",
		 type_name);
	return (dict_fail_open("", type_name, flags));
    }
    type = mystrndup(type_name, colon - type_name);
    for (dt = dict_types; dt->type != 0; dt++)
	if (strcmp(dt->type, type) == 0)
	    break;
    if (dt->type == 0) {
	msg_warn("unsupported dictionary type: %s", type);
	dict = dict_fail_open(type, colon + 1, flags);
    } else {
	dict = dt->open(type, colon + 1, flags);
	if (dt->file_suffix) {
	    VSTRING *path = vstring_alloc(100);

	    vstring_sprintf(path, "%s%s", colon + 1, dt->file_suffix);
	    dict_watch(dict, STR(path));
	    vstring_free(path);
	}
    }
    myfree(type);
    return (dict);
}

/*
 * dict_fold - KEY, or a lower-case copy when the table folds keys.  Each
 * table has its own copy, so a backend that looks a part of its key up
 * in another table (sqlite: domain lists) keeps its key intact.
 */
static const char *dict_fold(DICT *dict, const char *key)
{
    if ((dict->flags & DICT_FLAG_FOLD_KEY) == 0)
	return (key);
    if (dict->fold_buf == 0)
	dict->fold_buf = vstring_alloc(100);
    vstring_strcpy(dict->fold_buf, key);
    vstring_lowercase(dict->fold_buf);
    return (STR(dict->fold_buf));
}

/* dict_lookup - look KEY up, folding it first if the table says so */

const char *dict_lookup(DICT *dict, const char *key)
{
    return (dict->lookup(dict, dict_fold(dict, key)));
}

/* dict_update, dict_delete, dict_sequence - for tables that support them */

static int dict_unsupported(DICT *dict, const char *what)
{
    msg_warn("%s:%s: table does not support %s", dict->type, dict->name, what);
    dict->error = DICT_ERR_RETRY;
    return (-1);
}

int     dict_update(DICT *dict, const char *key, const char *value)
{
    if (dict->update == 0)
	return (dict_unsupported(dict, "update"));
    return (dict->update(dict, dict_fold(dict, key), value));
}

int     dict_delete(DICT *dict, const char *key)
{
    if (dict->delete == 0)
	return (dict_unsupported(dict, "delete"));
    return (dict->delete(dict, dict_fold(dict, key)));
}

int     dict_sequence(DICT *dict, int func, const char **key, const char **value)
{
    if (dict->sequence == 0)
	return (dict_unsupported(dict, "sequence"));
    return (dict->sequence(dict, func, key, value));
}

/* dict_open3 - open with open(2) flags; hash:, btree:, lmdb: can be written */

DICT   *dict_open3(const char *type_name, int open_flags, int flags)
{
    const char *colon = strchr(type_name, ':');
    size_t  type_len = colon ? (size_t) (colon - type_name) : 0;
    char   *type;
    DICT   *dict;

    if ((open_flags & O_ACCMODE) == O_RDONLY)
	return (dict_open(type_name, flags));
    if (colon == 0 || type_len == 0) {
	msg_warn("open dictionary: expecting \"type:name\" form instead of \"%s\"",
		 type_name);
	return (dict_fail_write("", type_name, flags));
    }
    type = mystrndup(type_name, type_len);
    if (strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0) {
	dict = dict_db_open_write(type, colon + 1, open_flags, flags);
    } else if (strcmp(type, "lmdb") == 0) {
	dict = dict_lmdb_open_write(type, colon + 1, open_flags, flags);
    } else {
	msg_warn("%s map requires O_RDONLY access mode", type_name);
	dict = dict_fail_write(type, colon + 1, flags);
    }
    myfree(type);
    return (dict);
}

/* dict_close - release the table; -1 when committing a new table failed */

int     dict_close(DICT *dict)
{
    return (dict->close(dict));
}

/* dict_strtokq - split on SEP outside braces */

char   *dict_strtokq(char **bufp, const char *sep)
{
    char   *cp = *bufp;
    char   *start;
    int     level = 0;

    cp += strspn(cp, sep);
    if (*cp == 0) {
	*bufp = cp;
	return (0);
    }
    for (start = cp; *cp; cp++) {
	if (*cp == '{')
	    level++;
	else if (*cp == '}' && level > 0)
	    level--;
	else if (level == 0 && strchr(sep, *cp) != 0)
	    break;
    }
    if (*cp)
	*cp++ = 0;
    *bufp = cp;
    return (start);
}
