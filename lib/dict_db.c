/*
 * dict_db.c - hash: and btree: tables on Berkeley DB (NAME.db).
 *
 * dict_open("hash:/etc/aliases", flags) opens /etc/aliases.db read-only,
 * as made by postmap/postalias.  Postfix on Linux stores keys with their
 * trailing NUL byte; as Postfix's dict_db does, a lookup tries the key with
 * the NUL first, then without (DICT_FLAG_TRY1NULL/TRY0NULL; neither flag
 * means both), and remembers which form the table uses once one matches.
 * A missing or unreadable NAME.db gives a table whose lookups fail with
 * ->error set.  A source file NAME newer than NAME.db is warned about but
 * the database is still used.
 */
#include "sys_defs.h"
#include <db.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict_private.h"

typedef struct DICT_DB {
    DICT    dict;			/* must be first */
    DB     *db;
    VSTRING *value;			/* result of the last lookup */
} DICT_DB;

/* dict_db_get - one get() with or without the trailing NUL; 1 found, 0 not, -1 error */

static int dict_db_get(DICT_DB *dd, const char *key, size_t len)
{
    DBT     db_key;
    DBT     db_value;
    int     status;

    memset(&db_key, 0, sizeof(db_key));
    memset(&db_value, 0, sizeof(db_value));
    db_key.data = (void *) key;
    db_key.size = (u_int32_t) len;
    status = dd->db->get(dd->db, 0, &db_key, &db_value, 0);
    if (status == DB_NOTFOUND)
	return (0);
    if (status != 0) {
	msg_warn("error reading %s:%s: %s",
		 dd->dict.type, dd->dict.name, db_strerror(status));
	return (-1);
    }
    vstring_strncpy(dd->value, (const char *) db_value.data, db_value.size);
    return (1);
}

/* dict_db_lookup - find KEY, in the stored NUL form(s) */

static const char *dict_db_lookup(DICT *dict, const char *key)
{
    DICT_DB *dd = (DICT_DB *) dict;
    size_t  len = strlen(key);
    int     status;

    dict->error = 0;
    if (dict->flags & DICT_FLAG_TRY1NULL) {
	if ((status = dict_db_get(dd, key, len + 1)) > 0) {
	    dict->flags &= ~DICT_FLAG_TRY0NULL;
	    return (STR(dd->value));
	}
	if (status < 0) {
	    dict->error = DICT_ERR_RETRY;
	    return (0);
	}
    }
    if (dict->flags & DICT_FLAG_TRY0NULL) {
	if ((status = dict_db_get(dd, key, len)) > 0) {
	    dict->flags &= ~DICT_FLAG_TRY1NULL;
	    return (STR(dd->value));
	}
	if (status < 0)
	    dict->error = DICT_ERR_RETRY;
    }
    return (0);
}

static void dict_db_close(DICT *dict)
{
    DICT_DB *dd = (DICT_DB *) dict;

    (void) dd->db->close(dd->db, 0);
    vstring_free(dd->value);
    dict_free(dict);
}

/* dict_db_errcall - Berkeley DB's own diagnostics, only when verbose */

static void dict_db_errcall(const DB_ENV *env, const char *prefix, const char *text)
{
    (void) env;
    (void) prefix;
    if (msg_verbose)
	msg_info("Berkeley DB: %s", text);
}

/* dict_db_check_age - warn when the source file is newer than the database */

static void dict_db_check_age(const char *source, const char *db_path)
{
    struct stat src_st;
    struct stat db_st;

    if (stat(source, &src_st) == 0 && stat(db_path, &db_st) == 0
	&& src_st.st_mtime > db_st.st_mtime)
	msg_warn("database %s is older than source file %s", db_path, source);
}

DICT   *dict_db_open(const char *type, const char *name, int flags)
{
    VSTRING *db_path = vstring_alloc(100);
    DICT_DB *dd;
    DB     *db;
    int     status;

    vstring_sprintf(db_path, "%s.db", name);
    if ((status = db_create(&db, 0, 0)) != 0) {
	msg_warn("create DB handle for %s: %s", STR(db_path), db_strerror(status));
	vstring_free(db_path);
	return (dict_fail_open(type, name, flags));
    }
    db->set_errcall(db, dict_db_errcall);
    status = db->open(db, 0, STR(db_path), 0,
		      strcmp(type, "btree") == 0 ? DB_BTREE : DB_HASH,
		      DB_RDONLY, 0644);
    if (status != 0) {
	msg_warn("open database %s: %s", STR(db_path), db_strerror(status));
	(void) db->close(db, 0);
	vstring_free(db_path);
	return (dict_fail_open(type, name, flags));
    }
    dict_db_check_age(name, STR(db_path));
    vstring_free(db_path);
    if ((flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) == 0)
	flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    dd = (DICT_DB *) dict_alloc(type, name, flags, sizeof(*dd));
    dd->db = db;
    dd->value = vstring_alloc(100);
    dd->dict.lookup = dict_db_lookup;
    dd->dict.close = dict_db_close;
    return (&dd->dict);
}
