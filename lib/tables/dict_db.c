/*
 * dict_db.c - hash: and btree: tables on Berkeley DB (NAME.db).
 *
 * Reading: dict_open("hash:/etc/aliases", flags) opens /etc/aliases.db
 * read-only, as made by postmap/postalias.  Postfix on Linux stores keys
 * and values with their trailing NUL byte; as Postfix's dict_db does, a
 * lookup tries the key with the NUL first, then without
 * (DICT_FLAG_TRY1NULL/TRY0NULL; neither flag means both), and remembers
 * which form the table uses once one matches.  A missing, unreadable or
 * corrupt NAME.db gives a table whose lookups fail with ->error set.  A
 * source file NAME newer than NAME.db is warned about, but still used.
 *
 * Writing (dict_open3, for postmap and postalias):
 *   O_RDWR|O_CREAT|O_TRUNC  builds a new database in NAME.db.tmpPID in the
 *	same directory; dict_close() syncs it and renames it to NAME.db
 *	(keeping the old file's permissions), so readers see the old table
 *	or the new one, never a half one.  On failure the temporary file is
 *	removed and dict_close() returns -1.
 *   O_RDWR                  updates NAME.db in place, holding an exclusive
 *	flock() on it until dict_close(), as Postfix's postmap -i/-d do
 *	(with O_CREAT a missing NAME.db is built as a new table).
 * Writes store key and value with the trailing NUL unless only
 * DICT_FLAG_TRY0NULL is given.  A duplicate key is kept (DICT_FLAG_DUP_WARN
 * warns, DUP_IGNORE is quiet; both answer 1) or replaced (DUP_REPLACE).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <libgen.h>
#include <sys/file.h>
#include <db.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict_private.h"

#define DICT_DB_NELM		4096		/* hash size hint, as Postfix */
#define DICT_DB_READ_CACHE	(128 * 1024)
#define DICT_DB_WRITE_CACHE	(16 * 1024 * 1024)	/* berkeley_db_create_buffer_size */

typedef struct DICT_DB {
    DICT    dict;			/* must be first */
    DB     *db;
    DBC    *cursor;			/* dict_sequence() */
    VSTRING *key_buf;			/* dict_sequence() result */
    VSTRING *value;			/* result of the last lookup */
    char   *db_path;			/* NAME.db */
    char   *tmp_path;			/* new table: the file to rename, or NULL */
    int     lock_fd;			/* in-place update: locked NAME.db, or -1 */
    int     write_error;		/* a write failed: do not commit */
} DICT_DB;

/* dict_db_dbt - a DBT for LEN bytes at DATA */

static void dict_db_dbt(DBT *dbt, const void *data, size_t len)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->data = (void *) data;
    dbt->size = (u_int32_t) len;
}

/* dict_db_get - one get() with or without the trailing NUL; 1 found, 0 not, -1 error */

static int dict_db_get(DICT_DB *dd, const char *key, size_t len)
{
    DBT     db_key;
    DBT     db_value;
    int     status;

    dict_db_dbt(&db_key, key, len);
    dict_db_dbt(&db_value, 0, 0);
    status = dd->db->get(dd->db, 0, &db_key, &db_value, 0);
    if (status == DB_NOTFOUND || status == DB_KEYEMPTY)
	return (0);
    if (status != 0) {
	msg_warn("error reading %s: %s", dd->db_path, db_strerror(status));
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

/* dict_db_write_fail - remember that the table must not be committed */

static int dict_db_write_fail(DICT_DB *dd, const char *what, int status)
{
    msg_warn("error %s %s: %s", what, dd->db_path, db_strerror(status));
    dd->write_error = 1;
    dd->dict.error = DICT_ERR_RETRY;
    return (-1);
}

/* dict_db_update - store KEY=VALUE; 0 stored, 1 duplicate, -1 error */

static int dict_db_update(DICT *dict, const char *key, const char *value)
{
    DICT_DB *dd = (DICT_DB *) dict;
    int     nul;
    DBT     db_key;
    DBT     db_value;
    int     status;

    dict->error = 0;
    /* undecided (both or neither): the Linux default, with the NUL */
    if ((dict->flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) != DICT_FLAG_TRY0NULL)
	dict->flags = (dict->flags & ~DICT_FLAG_TRY0NULL) | DICT_FLAG_TRY1NULL;
    nul = (dict->flags & DICT_FLAG_TRY1NULL) ? 1 : 0;
    dict_db_dbt(&db_key, key, strlen(key) + nul);
    dict_db_dbt(&db_value, value, strlen(value) + nul);
    status = dd->db->put(dd->db, 0, &db_key, &db_value,
		  (dict->flags & DICT_FLAG_DUP_REPLACE) ? 0 : DB_NOOVERWRITE);
    if (status == DB_KEYEXIST) {
	if ((dict->flags & DICT_FLAG_DUP_IGNORE) == 0)
	    msg_warn("%s: duplicate entry: \"%s\"", dd->db_path, key);
	return (1);
    }
    if (status != 0)
	return (dict_db_write_fail(dd, "writing", status));
    return (0);
}

/* dict_db_delete - remove KEY in either NUL form; 0 deleted, 1 not found, -1 error */

static int dict_db_delete(DICT *dict, const char *key)
{
    DICT_DB *dd = (DICT_DB *) dict;
    DBT     db_key;
    int     status = DB_NOTFOUND;
    size_t  len = strlen(key);

    dict->error = 0;
    if (dict->flags & DICT_FLAG_TRY1NULL) {
	dict_db_dbt(&db_key, key, len + 1);
	if ((status = dd->db->del(dd->db, 0, &db_key, 0)) == 0)
	    dict->flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (status == DB_NOTFOUND && (dict->flags & DICT_FLAG_TRY0NULL)) {
	dict_db_dbt(&db_key, key, len);
	if ((status = dd->db->del(dd->db, 0, &db_key, 0)) == 0)
	    dict->flags &= ~DICT_FLAG_TRY1NULL;
    }
    if (status == DB_NOTFOUND)
	return (1);
    if (status != 0)
	return (dict_db_write_fail(dd, "deleting from", status));
    return (0);
}

/* dict_db_sequence - walk the table; keys and values without their NUL */

static int dict_db_sequence(DICT *dict, int func, const char **key,
			            const char **value)
{
    DICT_DB *dd = (DICT_DB *) dict;
    DBT     db_key;
    DBT     db_value;
    int     status;

    dict->error = 0;
    if (func != DICT_SEQ_FIRST && func != DICT_SEQ_NEXT)
	msg_panic("dict_db_sequence: bad function %d", func);
    if (func == DICT_SEQ_FIRST && dd->cursor == 0
	&& (status = dd->db->cursor(dd->db, 0, &dd->cursor, 0)) != 0) {
	msg_warn("error reading %s: %s", dd->db_path, db_strerror(status));
	dict->error = DICT_ERR_RETRY;
	return (-1);
    }
    if (dd->cursor == 0)
	msg_panic("dict_db_sequence: DICT_SEQ_NEXT before DICT_SEQ_FIRST");
    dict_db_dbt(&db_key, 0, 0);
    dict_db_dbt(&db_value, 0, 0);
    status = dd->cursor->c_get(dd->cursor, &db_key, &db_value,
			       func == DICT_SEQ_FIRST ? DB_FIRST : DB_NEXT);
    if (status == DB_NOTFOUND)
	return (1);
    if (status != 0) {
	msg_warn("error reading %s: %s", dd->db_path, db_strerror(status));
	dict->error = DICT_ERR_RETRY;
	return (-1);
    }
    *key = STR(vstring_strncpy(dd->key_buf, db_key.data, db_key.size));
    *value = STR(vstring_strncpy(dd->value, db_value.data, db_value.size));
    return (0);
}

/* dict_db_fsync - flush PATH to disk (BDB's sync writes, this makes sure) */

static int dict_db_fsync(const char *path)
{
    int     fd;
    int     status;

    if ((fd = open(path, O_RDONLY)) < 0)
	return (-1);
    status = fsync(fd);
    (void) close(fd);
    return (status);
}

/* dict_db_fsync_dir - make a rename in PATH's directory durable */

static void dict_db_fsync_dir(const char *path)
{
    char   *copy = mystrdup(path);
    int     fd;

    if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY)) >= 0) {
	(void) fsync(fd);
	(void) close(fd);
    }
    myfree(copy);
}

/* dict_db_commit - write out and close the handle; rename a new table */

static int dict_db_commit(DICT_DB *dd)
{
    int     status;
    int     ok = !dd->write_error;

    if (dd->cursor)
	(void) dd->cursor->c_close(dd->cursor);
    dd->cursor = 0;
    if (ok && (status = dd->db->sync(dd->db, 0)) != 0) {
	msg_warn("flush database %s: %s", dd->db_path, db_strerror(status));
	ok = 0;
    }
    if ((status = dd->db->close(dd->db, 0)) != 0) {
	msg_warn("close database %s: %s", dd->db_path, db_strerror(status));
	ok = 0;
    }
    dd->db = 0;
    if (dd->tmp_path == 0)
	return (ok ? 0 : -1);
    if (ok && dict_db_fsync(dd->tmp_path) < 0) {
	msg_warn("fsync %s: %s", dd->tmp_path, strerror(errno));
	ok = 0;
    }
    if (ok && rename(dd->tmp_path, dd->db_path) < 0) {
	msg_warn("rename %s to %s: %s", dd->tmp_path, dd->db_path, strerror(errno));
	ok = 0;
    }
    if (!ok) {
	if (unlink(dd->tmp_path) < 0 && errno != ENOENT)
	    msg_warn("remove %s: %s", dd->tmp_path, strerror(errno));
	return (-1);
    }
    dict_db_fsync_dir(dd->db_path);
    return (0);
}

static int dict_db_close(DICT *dict)
{
    DICT_DB *dd = (DICT_DB *) dict;
    int     status = 0;

    if (dd->tmp_path != 0 || dd->lock_fd >= 0) {
	status = dict_db_commit(dd);
    } else {
	if (dd->cursor)
	    (void) dd->cursor->c_close(dd->cursor);
	(void) dd->db->close(dd->db, 0);
    }
    if (dd->lock_fd >= 0)
	(void) close(dd->lock_fd);		/* releases the flock */
    vstring_free(dd->value);
    vstring_free(dd->key_buf);
    myfree(dd->db_path);
    if (dd->tmp_path)
	myfree(dd->tmp_path);
    dict_free(dict);
    return (status);
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

/* dict_db_handle - open PATH as TYPE with DB_FLAGS; NULL (warned) on error */

static DB *dict_db_handle(const char *type, const char *path, u_int32_t db_flags)
{
    DB     *db;
    int     status;
    int     is_hash = strcmp(type, "hash") == 0;
    int     writing = (db_flags & DB_RDONLY) == 0;

    if ((status = db_create(&db, 0, 0)) != 0) {
	msg_warn("create DB handle for %s: %s", path, db_strerror(status));
	return (0);
    }
    db->set_errcall(db, dict_db_errcall);
    (void) db->set_cachesize(db, 0, writing ? DICT_DB_WRITE_CACHE
			     : DICT_DB_READ_CACHE, 1);
    if (is_hash && (db_flags & DB_CREATE))
	(void) db->set_h_nelem(db, DICT_DB_NELM);
    status = db->open(db, 0, path, 0, is_hash ? DB_HASH : DB_BTREE, db_flags, 0644);
    if (status != 0) {
	msg_warn("open database %s: %s", path,
		 status == EINVAL ? "not a valid database of this type"
		 : db_strerror(status));
	(void) db->close(db, 0);
	return (0);
    }
    return (db);
}

/* dict_db_new - the DICT for an open handle */

static DICT_DB *dict_db_new(const char *type, const char *name, int flags,
			            DB *db, const char *db_path)
{
    DICT_DB *dd;

    if ((flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) == 0)
	flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    dd = (DICT_DB *) dict_alloc(type, name, flags, sizeof(*dd));
    dd->db = db;
    dd->value = vstring_alloc(100);
    dd->key_buf = vstring_alloc(100);
    dd->db_path = mystrdup(db_path);
    dd->lock_fd = -1;
    dd->dict.lookup = dict_db_lookup;
    dd->dict.update = dict_db_update;
    dd->dict.delete = dict_db_delete;
    dd->dict.sequence = dict_db_sequence;
    dd->dict.close = dict_db_close;
    return (dd);
}

DICT   *dict_db_open(const char *type, const char *name, int flags)
{
    VSTRING *db_path = vstring_alloc(100);
    DICT_DB *dd;
    DB     *db;

    vstring_sprintf(db_path, "%s.db", name);
    if ((db = dict_db_handle(type, STR(db_path), DB_RDONLY)) == 0) {
	vstring_free(db_path);
	return (dict_fail_open(type, name, flags));
    }
    dict_db_check_age(name, STR(db_path));
    dd = dict_db_new(type, name, flags, db, STR(db_path));
    dd->dict.update = 0;			/* read-only */
    dd->dict.delete = 0;
    vstring_free(db_path);
    return (&dd->dict);
}

/* dict_db_create - a new table in a temporary file, renamed at close */

static DICT *dict_db_create(const char *type, const char *name, int flags,
			            const char *db_path)
{
    VSTRING *tmp = vstring_alloc(100);
    struct stat st;
    DB     *db;
    DICT_DB *dd;
    int     fd;

    vstring_sprintf(tmp, "%s.tmp%ld", db_path, (long) getpid());
    if (unlink(STR(tmp)) < 0 && errno != ENOENT)
	msg_warn("remove stale %s: %s", STR(tmp), strerror(errno));
    if ((db = dict_db_handle(type, STR(tmp), DB_CREATE | DB_EXCL)) == 0) {
	vstring_free(tmp);
	return (dict_fail_write(type, name, flags));
    }
    /* keep the permissions (and, for root, the owner) of the old table */
    if (stat(db_path, &st) == 0 && db->fd(db, &fd) == 0) {
	if (fchmod(fd, st.st_mode & 07777) < 0)
	    msg_warn("chmod %s: %s", STR(tmp), strerror(errno));
	if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
	    msg_warn("chown %s: %s", STR(tmp), strerror(errno));
    }
    dd = dict_db_new(type, name, flags, db, db_path);
    dd->tmp_path = vstring_export(tmp);
    return (&dd->dict);
}

/* dict_db_update_in_place - open NAME.db read-write under an exclusive lock */

static DICT *dict_db_update_in_place(const char *type, const char *name,
				             int flags, const char *db_path)
{
    DB     *db;
    DICT_DB *dd;
    int     lock_fd;

    if ((lock_fd = open(db_path, O_RDWR | O_CLOEXEC)) < 0) {
	msg_warn("open database %s: %s", db_path, strerror(errno));
	return (dict_fail_write(type, name, flags));
    }
    if (flock(lock_fd, LOCK_EX) < 0) {
	msg_warn("lock database %s: %s", db_path, strerror(errno));
	(void) close(lock_fd);
	return (dict_fail_write(type, name, flags));
    }
    if ((db = dict_db_handle(type, db_path, 0)) == 0) {
	(void) close(lock_fd);
	return (dict_fail_write(type, name, flags));
    }
    dd = dict_db_new(type, name, flags, db, db_path);
    dd->lock_fd = lock_fd;
    return (&dd->dict);
}

DICT   *dict_db_open_write(const char *type, const char *name, int open_flags,
			           int flags)
{
    VSTRING *db_path = vstring_alloc(100);
    DICT   *dict;

    vstring_sprintf(db_path, "%s.db", name);
    if ((open_flags & O_TRUNC)
	|| ((open_flags & O_CREAT) && access(STR(db_path), F_OK) < 0
	    && errno == ENOENT))
	dict = dict_db_create(type, name, flags, STR(db_path));
    else
	dict = dict_db_update_in_place(type, name, flags, STR(db_path));
    vstring_free(db_path);
    return (dict);
}
