/*
 * dict_lmdb.c - lmdb: tables on LMDB (NAME.lmdb), as Postfix's
 * postfix-lmdb (lmdb_table(5)) makes and reads them.
 *
 * The file is one LMDB environment without a sub-directory and without
 * LMDB's lock file (MDB_NOSUBDIR | MDB_NOLOCK), its unnamed database
 * holding the pairs; as Postfix, processes keep out of each other's way
 * with fcntl() locks on NAME.lmdb: a lookup holds a shared lock while it
 * reads, a writer an exclusive one.  Keys and values are stored with
 * their trailing NUL (Postfix on Linux); lookups try both forms, as
 * dict_db.c does (DICT_FLAG_TRY1NULL/TRY0NULL).
 *
 * Reading: dict_open("lmdb:/etc/posthorn/virtual", flags); a missing or
 * bad NAME.lmdb gives a table whose lookups fail with ->error set.
 * Writing (dict_open3, postmap/postalias):
 *   O_RDWR|O_CREAT|O_TRUNC  builds the new table in NAME.lmdb.tmpPID
 *	(keeping the old file's permissions and owner) and dict_close()
 *	syncs it and renames it to NAME.lmdb: readers see the old table or
 *	the new one, never a half one;
 *   O_RDWR                  updates NAME.lmdb in place under an exclusive
 *	lock held until dict_close() (postmap -i, -d).
 * Writes go in transactions of up to LMDB_BATCH changes.  When the
 * memory map is full (MDB_MAP_FULL), the map is doubled and the changes
 * of the unfinished transaction are applied again from a log, so a
 * table grows as large as it needs (the first map is 16 MiB, Postfix's
 * lmdb_map_size).  A reader whose map became too small for a table that
 * grew (MDB_MAP_RESIZED) takes the new size and tries again.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <libgen.h>
#include <lmdb.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict_private.h"

#define LMDB_MAP_SIZE	(16UL * 1024 * 1024)	/* first map: lmdb_map_size */
#define LMDB_MAP_MAX	((size_t) 1 << 40)	/* grow no further */
#define LMDB_BATCH	10000			/* changes per write transaction */
#define LMDB_OP_PUT	'p'
#define LMDB_OP_DEL	'd'

typedef struct DICT_LMDB {
    DICT    dict;			/* must be first */
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;			/* writer: open transaction; -s: read one */
    MDB_cursor *cursor;			/* dict_sequence() */
    int     fd;				/* NAME.lmdb (locks), or -1 */
    int     own_fd;			/* fd is ours (in-place writer's lock) */
    char   *path;			/* NAME.lmdb */
    char   *tmp_path;			/* new table: the file to rename, or NULL */
    size_t  map_size;			/* writer: the map size in use */
    VSTRING *log;			/* writer: changes of the open transaction */
    int     pending;			/* how many */
    int     write_error;		/* a write failed: do not commit */
    VSTRING *key_buf;
    VSTRING *value;
} DICT_LMDB;

static int lmdb_begin(DICT_LMDB *dl);

/* lmdb_lock - fcntl lock TYPE (F_RDLCK, F_WRLCK, F_UNLCK) on all of FD */

static int lmdb_lock(int fd, const char *path, short type)
{
    struct flock lock;

    memset(&lock, 0, sizeof(lock));
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    while (fcntl(fd, F_SETLKW, &lock) < 0) {
	if (errno != EINTR) {
	    msg_warn("%s %s: %s", type == F_UNLCK ? "unlock" : "lock",
		     path, strerror(errno));
	    return (-1);
	}
    }
    return (0);
}

/* lmdb_val - an MDB_val for LEN bytes at DATA */

static MDB_val lmdb_val(const void *data, size_t len)
{
    MDB_val val;

    val.mv_data = (void *) data;
    val.mv_size = len;
    return (val);
}

/* lmdb_read_txn - a read transaction; a map that became too small grows */

static int lmdb_read_txn(DICT_LMDB *dl, MDB_txn **txn)
{
    int     status = mdb_txn_begin(dl->env, 0, MDB_RDONLY, txn);

    if (status == MDB_MAP_RESIZED
	&& (status = mdb_env_set_mapsize(dl->env, 0)) == 0)
	status = mdb_txn_begin(dl->env, 0, MDB_RDONLY, txn);
    return (status);
}

/* lmdb_get - KEY (LEN bytes) into dl->value; 1 found, 0 not, -1 error */

static int lmdb_get(DICT_LMDB *dl, MDB_txn *txn, const char *key, size_t len)
{
    MDB_val k = lmdb_val(key, len);
    MDB_val v;
    int     status = mdb_get(txn, dl->dbi, &k, &v);

    if (status == MDB_NOTFOUND)
	return (0);
    if (status != 0) {
	msg_warn("error reading %s: %s", dl->path, mdb_strerror(status));
	return (-1);
    }
    vstring_strncpy(dl->value, (const char *) v.mv_data, v.mv_size);
    return (1);
}

/* lmdb_find - KEY with, then without its NUL (as the table says) */

static int lmdb_find(DICT_LMDB *dl, MDB_txn *txn, const char *key)
{
    DICT   *dict = &dl->dict;
    size_t  len = strlen(key);
    int     status = 0;

    if ((dict->flags & DICT_FLAG_TRY1NULL)
	&& (status = lmdb_get(dl, txn, key, len + 1)) > 0)
	dict->flags &= ~DICT_FLAG_TRY0NULL;
    if (status == 0 && (dict->flags & DICT_FLAG_TRY0NULL)
	&& (status = lmdb_get(dl, txn, key, len)) > 0)
	dict->flags &= ~DICT_FLAG_TRY1NULL;
    return (status);
}

/* lmdb_reader_find - KEY in a read transaction of its own, under a shared lock */

static int lmdb_reader_find(DICT_LMDB *dl, const char *key)
{
    MDB_txn *txn;
    int     status;

    if (lmdb_lock(dl->fd, dl->path, F_RDLCK) < 0)
	return (-1);
    if ((status = lmdb_read_txn(dl, &txn)) != 0) {
	msg_warn("error reading %s: %s", dl->path, mdb_strerror(status));
	status = -1;
    } else {
	status = lmdb_find(dl, txn, key);
	mdb_txn_abort(txn);
    }
    (void) lmdb_lock(dl->fd, dl->path, F_UNLCK);
    return (status);
}

/* lmdb_writer_find - KEY in the writer's transaction (its changes included) */

static int lmdb_writer_find(DICT_LMDB *dl, const char *key)
{
    int     status;

    if (dl->txn == 0 && (status = lmdb_begin(dl)) != 0) {
	msg_warn("error reading %s: %s", dl->path, mdb_strerror(status));
	return (-1);
    }
    return (lmdb_find(dl, dl->txn, key));
}

static const char *dict_lmdb_lookup(DICT *dict, const char *key)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    int     status;

    dict->error = 0;
    status = dl->log ? lmdb_writer_find(dl, key) : lmdb_reader_find(dl, key);
    if (status < 0)
	dict->error = DICT_ERR_RETRY;
    return (status > 0 ? STR(dl->value) : 0);
}

/* lmdb_apply - one change in the open transaction; LMDB's status */

static int lmdb_apply(DICT_LMDB *dl, int op, MDB_val *key, MDB_val *value,
		              unsigned flags)
{
    if (op == LMDB_OP_PUT)
	return (mdb_put(dl->txn, dl->dbi, key, value, flags));
    return (mdb_del(dl->txn, dl->dbi, key, 0));
}

/* lmdb_log - remember a change until its transaction is committed */

static void lmdb_log(DICT_LMDB *dl, int op, const MDB_val *key,
		             const MDB_val *value, unsigned flags)
{
    size_t  sizes[2] = {key->mv_size, value ? value->mv_size : 0};

    vstring_addch(dl->log, op);
    vstring_memcat(dl->log, &flags, sizeof(flags));
    vstring_memcat(dl->log, sizes, sizeof(sizes));
    vstring_memcat(dl->log, key->mv_data, sizes[0]);
    if (value)
	vstring_memcat(dl->log, value->mv_data, sizes[1]);
    dl->pending++;
}

/* lmdb_replay - apply the logged changes again, in a new transaction */

static int lmdb_replay(DICT_LMDB *dl)
{
    const char *cp = STR(dl->log);
    const char *end = cp + LEN(dl->log);
    unsigned flags;
    size_t  sizes[2];
    MDB_val key;
    MDB_val value;
    int     op;
    int     status;

    while (cp < end) {
	op = *cp++;
	memcpy(&flags, cp, sizeof(flags));
	memcpy(sizes, cp + sizeof(flags), sizeof(sizes));
	cp += sizeof(flags) + sizeof(sizes);
	key = lmdb_val(cp, sizes[0]);
	value = lmdb_val(cp + sizes[0], sizes[1]);
	cp += sizes[0] + (op == LMDB_OP_PUT ? sizes[1] : 0);
	status = lmdb_apply(dl, op, &key, &value, flags);
	if (status != 0 && status != MDB_KEYEXIST && status != MDB_NOTFOUND)
	    return (status);
    }
    return (0);
}

/* lmdb_begin - a write transaction */

static int lmdb_begin(DICT_LMDB *dl)
{
    int     status = mdb_txn_begin(dl->env, 0, 0, &dl->txn);

    if (status == MDB_MAP_RESIZED
	&& (status = mdb_env_set_mapsize(dl->env, 0)) == 0)
	status = mdb_txn_begin(dl->env, 0, 0, &dl->txn);
    if (status != 0)
	dl->txn = 0;
    return (status);
}

/* lmdb_grow - drop the transaction, double the map, replay the log */

static int lmdb_grow(DICT_LMDB *dl)
{
    int     status;

    do {
	if (dl->txn)
	    mdb_txn_abort(dl->txn);
	dl->txn = 0;
	if (dl->map_size >= LMDB_MAP_MAX)
	    return (MDB_MAP_FULL);
	dl->map_size *= 2;
	if (msg_verbose)
	    msg_info("%s: map size %lu", dl->path, (unsigned long) dl->map_size);
	if ((status = mdb_env_set_mapsize(dl->env, dl->map_size)) != 0
	    || (status = lmdb_begin(dl)) != 0)
	    return (status);
	status = lmdb_replay(dl);
    } while (status == MDB_MAP_FULL);
    return (status);
}

/* lmdb_commit - commit the open transaction (growing the map if need be) */

static int lmdb_commit(DICT_LMDB *dl)
{
    int     status = 0;

    while (dl->txn && (status = mdb_txn_commit(dl->txn)) == MDB_MAP_FULL) {
	dl->txn = 0;				/* commit freed it */
	if ((status = lmdb_grow(dl)) != 0)
	    break;
    }
    dl->txn = 0;
    vstring_reset(dl->log);
    dl->pending = 0;
    return (status);
}

/* lmdb_write - one change; LMDB's status (MDB_KEYEXIST, MDB_NOTFOUND: no change) */

static int lmdb_write(DICT_LMDB *dl, int op, MDB_val *key, MDB_val *value,
		              unsigned flags)
{
    int     status;

    if (dl->txn == 0 && (status = lmdb_begin(dl)) != 0)
	return (status);
    while ((status = lmdb_apply(dl, op, key, value, flags)) == MDB_MAP_FULL)
	if ((status = lmdb_grow(dl)) != 0)
	    return (status);
    if (status == 0) {
	lmdb_log(dl, op, key, op == LMDB_OP_PUT ? value : 0, flags);
	if (dl->pending >= LMDB_BATCH)
	    status = lmdb_commit(dl);
    }
    return (status);
}

/* lmdb_write_fail - a failed write: the table must not be committed */

static int lmdb_write_fail(DICT_LMDB *dl, const char *what, int status)
{
    msg_warn("error %s %s: %s", what, dl->path, mdb_strerror(status));
    dl->write_error = 1;
    dl->dict.error = DICT_ERR_RETRY;
    return (-1);
}

/* dict_lmdb_update - store KEY=VALUE; 0 stored, 1 duplicate, -1 error */

static int dict_lmdb_update(DICT *dict, const char *key, const char *value)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    int     nul;
    MDB_val k;
    MDB_val v;
    int     status;

    dict->error = 0;
    /* undecided (both or neither): the Linux default, with the NUL */
    if ((dict->flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) != DICT_FLAG_TRY0NULL)
	dict->flags = (dict->flags & ~DICT_FLAG_TRY0NULL) | DICT_FLAG_TRY1NULL;
    nul = (dict->flags & DICT_FLAG_TRY1NULL) ? 1 : 0;
    k = lmdb_val(key, strlen(key) + nul);
    v = lmdb_val(value, strlen(value) + nul);
    status = lmdb_write(dl, LMDB_OP_PUT, &k, &v,
		 (dict->flags & DICT_FLAG_DUP_REPLACE) ? 0 : MDB_NOOVERWRITE);
    if (status == MDB_KEYEXIST) {
	if ((dict->flags & DICT_FLAG_DUP_IGNORE) == 0)
	    msg_warn("%s: duplicate entry: \"%s\"", dl->path, key);
	return (1);
    }
    return (status ? lmdb_write_fail(dl, "writing", status) : 0);
}

/* dict_lmdb_delete - remove KEY in either NUL form; 0 deleted, 1 not found, -1 error */

static int dict_lmdb_delete(DICT *dict, const char *key)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    size_t  len = strlen(key);
    MDB_val k;
    int     status = MDB_NOTFOUND;

    dict->error = 0;
    if (dict->flags & DICT_FLAG_TRY1NULL) {
	k = lmdb_val(key, len + 1);
	if ((status = lmdb_write(dl, LMDB_OP_DEL, &k, 0, 0)) == 0)
	    dict->flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (status == MDB_NOTFOUND && (dict->flags & DICT_FLAG_TRY0NULL)) {
	k = lmdb_val(key, len);
	if ((status = lmdb_write(dl, LMDB_OP_DEL, &k, 0, 0)) == 0)
	    dict->flags &= ~DICT_FLAG_TRY1NULL;
    }
    if (status == MDB_NOTFOUND)
	return (1);
    return (status ? lmdb_write_fail(dl, "deleting from", status) : 0);
}

/* lmdb_seq_end - end a walk: cursor, read transaction, shared lock */

static void lmdb_seq_end(DICT_LMDB *dl)
{
    if (dl->txn == 0)
	return;
    if (dl->cursor)
	mdb_cursor_close(dl->cursor);
    dl->cursor = 0;
    mdb_txn_abort(dl->txn);
    dl->txn = 0;
    (void) lmdb_lock(dl->fd, dl->path, F_UNLCK);
}

/* lmdb_seq_start - a read transaction and a cursor, under a shared lock */

static int lmdb_seq_start(DICT_LMDB *dl)
{
    int     status;

    lmdb_seq_end(dl);
    if (lmdb_lock(dl->fd, dl->path, F_RDLCK) < 0)
	return (-1);
    if ((status = lmdb_read_txn(dl, &dl->txn)) != 0) {
	msg_warn("error reading %s: %s", dl->path, mdb_strerror(status));
	dl->txn = 0;
	(void) lmdb_lock(dl->fd, dl->path, F_UNLCK);
	return (-1);
    }
    if ((status = mdb_cursor_open(dl->txn, dl->dbi, &dl->cursor)) != 0) {
	msg_warn("error reading %s: %s", dl->path, mdb_strerror(status));
	dl->cursor = 0;
	lmdb_seq_end(dl);
	return (-1);
    }
    return (0);
}

/* dict_lmdb_sequence - walk the table; keys and values without their NUL */

static int dict_lmdb_sequence(DICT *dict, int func, const char **key,
			              const char **value)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    MDB_val k;
    MDB_val v;
    int     status;

    dict->error = 0;
    if (func != DICT_SEQ_FIRST && func != DICT_SEQ_NEXT)
	msg_panic("dict_lmdb_sequence: bad function %d", func);
    if (func == DICT_SEQ_FIRST && lmdb_seq_start(dl) < 0) {
	dict->error = DICT_ERR_RETRY;
	return (-1);
    }
    if (dl->cursor == 0)
	return (1);				/* NEXT after the end */
    status = mdb_cursor_get(dl->cursor, &k, &v,
			    func == DICT_SEQ_FIRST ? MDB_FIRST : MDB_NEXT);
    if (status != 0) {
	lmdb_seq_end(dl);
	if (status == MDB_NOTFOUND)
	    return (1);
	msg_warn("error reading %s: %s", dl->path, mdb_strerror(status));
	dict->error = DICT_ERR_RETRY;
	return (-1);
    }
    *key = STR(vstring_strncpy(dl->key_buf, k.mv_data, k.mv_size));
    *value = STR(vstring_strncpy(dl->value, v.mv_data, v.mv_size));
    return (0);
}

/* lmdb_fsync_dir - make a rename in PATH's directory durable */

static void lmdb_fsync_dir(const char *path)
{
    char   *copy = mystrdup(path);
    int     fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);

    if (fd >= 0) {
	(void) fsync(fd);
	(void) close(fd);
    }
    myfree(copy);
}

/* lmdb_finish - writer: commit, sync, close; a new table is renamed into place */

static int lmdb_finish(DICT_LMDB *dl)
{
    int     status;
    int     ok = !dl->write_error;

    if (ok && (status = lmdb_commit(dl)) != 0) {
	msg_warn("error writing %s: %s", dl->path, mdb_strerror(status));
	ok = 0;
    }
    if (dl->txn)
	mdb_txn_abort(dl->txn);
    if (ok && (status = mdb_env_sync(dl->env, 1)) != 0) {
	msg_warn("flush database %s: %s", dl->path, mdb_strerror(status));
	ok = 0;
    }
    mdb_env_close(dl->env);
    dl->env = 0;
    if (dl->tmp_path == 0)
	return (ok ? 0 : -1);
    if (ok && rename(dl->tmp_path, dl->path) < 0) {
	msg_warn("rename %s to %s: %s", dl->tmp_path, dl->path, strerror(errno));
	ok = 0;
    }
    if (!ok) {
	if (unlink(dl->tmp_path) < 0 && errno != ENOENT)
	    msg_warn("remove %s: %s", dl->tmp_path, strerror(errno));
	return (-1);
    }
    lmdb_fsync_dir(dl->path);
    return (0);
}

static int dict_lmdb_close(DICT *dict)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    int     status = 0;

    if (dl->log) {
	status = lmdb_finish(dl);
	vstring_free(dl->log);
    } else {
	lmdb_seq_end(dl);
	mdb_env_close(dl->env);
    }
    if (dl->own_fd)
	(void) close(dl->fd);			/* releases the lock */
    vstring_free(dl->value);
    vstring_free(dl->key_buf);
    myfree(dl->path);
    if (dl->tmp_path)
	myfree(dl->tmp_path);
    dict_free(dict);
    return (status);
}

/* lmdb_size_ok - does the file hold every page its meta page counts? */

static int lmdb_size_ok(MDB_env *env, const char *path)
{
    MDB_envinfo info;
    MDB_stat stat_buf;
    struct stat st;
    int     fd;

    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &stat_buf) != 0
	|| mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) < 0)
	return (1);				/* cannot tell */
    if ((size_t) st.st_size < (info.me_last_pgno + 1) * stat_buf.ms_psize) {
	msg_warn("open database %s: file is truncated (%ld bytes, %lu pages)",
		 path, (long) st.st_size, (unsigned long) info.me_last_pgno + 1);
	return (0);
    }
    return (1);
}

/* lmdb_env - open the environment in PATH and its database; NULL (warned) */

static MDB_env *lmdb_env(const char *path, unsigned env_flags, MDB_dbi *dbi)
{
    MDB_env *env;
    MDB_txn *txn;
    int     status;

    if ((status = mdb_env_create(&env)) != 0) {
	msg_warn("open database %s: %s", path, mdb_strerror(status));
	return (0);
    }
    if (((env_flags & MDB_RDONLY) == 0
	 && (status = mdb_env_set_mapsize(env, LMDB_MAP_SIZE)) != 0)
	|| (status = mdb_env_open(env, path, env_flags | MDB_NOSUBDIR | MDB_NOLOCK,
				  0644)) != 0
	|| (status = mdb_txn_begin(env, 0, env_flags & MDB_RDONLY, &txn)) != 0) {
	msg_warn("open database %s: %s", path, mdb_strerror(status));
	mdb_env_close(env);
	return (0);
    }
    if (!lmdb_size_ok(env, path)) {
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return (0);
    }
    if ((status = mdb_dbi_open(txn, 0, 0, dbi)) != 0)
	mdb_txn_abort(txn);
    if (status != 0 || (status = mdb_txn_commit(txn)) != 0) {
	msg_warn("open database %s: %s", path,
		 status == MDB_INCOMPATIBLE ? "not an LMDB database of this kind"
		 : mdb_strerror(status));
	mdb_env_close(env);
	return (0);
    }
    return (env);
}

/* lmdb_new - the DICT for an open environment */

static DICT_LMDB *lmdb_new(const char *type, const char *name, int flags,
			           MDB_env *env, MDB_dbi dbi, const char *path)
{
    DICT_LMDB *dl;

    if ((flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) == 0)
	flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    dl = (DICT_LMDB *) dict_alloc(type, name, flags, sizeof(*dl));
    dl->env = env;
    dl->dbi = dbi;
    dl->path = mystrdup(path);
    dl->value = vstring_alloc(100);
    dl->key_buf = vstring_alloc(100);
    dl->dict.lookup = dict_lmdb_lookup;
    dl->dict.close = dict_lmdb_close;
    if (mdb_env_get_fd(env, &dl->fd) != 0)
	dl->fd = -1;
    return (dl);
}

/* lmdb_writer - make DL a writer: update, delete, the change log, the map size */

static void lmdb_writer(DICT_LMDB *dl)
{
    MDB_envinfo info;

    dl->dict.update = dict_lmdb_update;
    dl->dict.delete = dict_lmdb_delete;
    dl->log = vstring_alloc(1024);
    dl->map_size = LMDB_MAP_SIZE;
    if (mdb_env_info(dl->env, &info) == 0 && info.me_mapsize > dl->map_size)
	dl->map_size = info.me_mapsize;
}

DICT   *dict_lmdb_open(const char *type, const char *name, int flags)
{
    VSTRING *path = vstring_alloc(100);
    MDB_env *env;
    MDB_dbi dbi;
    DICT_LMDB *dl;
    struct stat src_st;
    struct stat st;

    vstring_sprintf(path, "%s.lmdb", name);
    if ((env = lmdb_env(STR(path), MDB_RDONLY, &dbi)) == 0) {
	vstring_free(path);
	return (dict_fail_open(type, name, flags));
    }
    dl = lmdb_new(type, name, flags, env, dbi, STR(path));
    dl->dict.sequence = dict_lmdb_sequence;
    if (stat(name, &src_st) == 0 && stat(STR(path), &st) == 0
	&& src_st.st_mtime > st.st_mtime)
	msg_warn("database %s is older than source file %s", STR(path), name);
    vstring_free(path);
    return (&dl->dict);
}

/* lmdb_keep_owner - give the new file at TMP the mode (and owner) of PATH */

static void lmdb_keep_owner(const char *path, const char *tmp, int fd)
{
    struct stat st;

    if (fd < 0 || stat(path, &st) < 0)
	return;
    if (fchmod(fd, st.st_mode & 07777) < 0)
	msg_warn("chmod %s: %s", tmp, strerror(errno));
    if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
	msg_warn("chown %s: %s", tmp, strerror(errno));
}

/* lmdb_create - a new table in a temporary file, renamed at close */

static DICT *lmdb_create(const char *type, const char *name, int flags,
			         const char *path)
{
    VSTRING *tmp = vstring_alloc(100);
    MDB_env *env;
    MDB_dbi dbi;
    DICT_LMDB *dl;

    vstring_sprintf(tmp, "%s.tmp%ld", path, (long) getpid());
    if (unlink(STR(tmp)) < 0 && errno != ENOENT)
	msg_warn("remove stale %s: %s", STR(tmp), strerror(errno));
    if ((env = lmdb_env(STR(tmp), MDB_NOSYNC, &dbi)) == 0) {
	(void) unlink(STR(tmp));
	vstring_free(tmp);
	return (dict_fail_write(type, name, flags));
    }
    dl = lmdb_new(type, name, flags, env, dbi, path);
    lmdb_keep_owner(path, STR(tmp), dl->fd);
    dl->tmp_path = vstring_export(tmp);
    lmdb_writer(dl);
    return (&dl->dict);
}

/* lmdb_update_in_place - NAME.lmdb read-write, under an exclusive lock */

static DICT *lmdb_update_in_place(const char *type, const char *name,
				          int flags, const char *path)
{
    MDB_env *env;
    MDB_dbi dbi;
    DICT_LMDB *dl;
    int     fd;

    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
	msg_warn("open database %s: %s", path, strerror(errno));
	return (dict_fail_write(type, name, flags));
    }
    if (lmdb_lock(fd, path, F_WRLCK) < 0 || (env = lmdb_env(path, 0, &dbi)) == 0) {
	(void) close(fd);
	return (dict_fail_write(type, name, flags));
    }
    dl = lmdb_new(type, name, flags, env, dbi, path);
    dl->fd = fd;				/* the one that holds the lock */
    dl->own_fd = 1;
    lmdb_writer(dl);
    return (&dl->dict);
}

DICT   *dict_lmdb_open_write(const char *type, const char *name, int open_flags,
			             int flags)
{
    VSTRING *path = vstring_alloc(100);
    DICT   *dict;

    vstring_sprintf(path, "%s.lmdb", name);
    if ((open_flags & O_TRUNC)
	|| ((open_flags & O_CREAT) && access(STR(path), F_OK) < 0 && errno == ENOENT))
	dict = lmdb_create(type, name, flags, STR(path));
    else
	dict = lmdb_update_in_place(type, name, flags, STR(path));
    vstring_free(path);
    return (dict);
}
