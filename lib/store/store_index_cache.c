/*
 * store_index_cache.c - the cache of a folder's index (store_index.c):
 * values that are slow to compute (ENVELOPE, BODYSTRUCTURE, sizes,
 * dates), by UID and field name, for store_cache_get() and
 * store_cache_put().
 *
 * The cache file: a 24-byte header ("PHCACHE1", UIDVALIDITY, two zeros,
 * a checksum), then records: UID, value length, name length (16 bits),
 * 0xCA5E, a checksum of the record, the field name, the value, a NUL.
 * It is read on first use (values stay in memory, in the buffers read),
 * values put are appended at sync and close, and it is written anew when
 * it is more than half dead or outgrows 64 MB (the values of the lowest
 * UIDs go first).  A record that fails its checks ends what is trusted.
 * It is changed under the index file's lock (store_index_file.c).  The
 * values of expunged UIDs go (index_cache_drop).
 *
 * A value from store_cache_get() stays valid until the next store_sync()
 * or store_close(); a value with NUL bytes in it reads as a string.
 */
#include "sys_defs.h"

#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "store_index_priv.h"

#define CACHE_MAGIC		"PHCACHE1"
#define CACHE_HDR_SIZE		24
#define CACHE_REC_SIZE		16
#define CACHE_REC_MAGIC		0xCA5E
#define CACHE_FILE_MAX		(64L << 20)
#define CACHE_LOAD_MAX		(CACHE_FILE_MAX + CACHE_FILE_MAX / 2)
#define CACHE_SLACK		(1L << 20)	/* dead bytes always allowed */
#define CACHE_VALUE_MAX		(256 << 10)
#define CACHE_FIELDS_MAX	64
#define CACHE_NAME_MAX		200

/*
 * The cache: a hash table of (UID, field number) -> value.
 */

typedef struct CACHE_ENT {
    unsigned uid;			/* 0: an empty slot */
    unsigned short field;		/* index in the cache's fields[] */
    unsigned short dirty;		/* not in the file yet */
    unsigned len;
    const char *value;			/* NUL-terminated; NULL: dropped */
} CACHE_ENT;

struct INDEX_CACHE {
    unsigned uidvalidity;
    CACHE_ENT *slots;
    size_t  size;			/* a power of two */
    size_t  used;			/* slots taken, dropped ones too */
    size_t  live;			/* values */
    size_t  bytes;			/* file bytes of the values */
    size_t  dirty;			/* values not written yet */
    size_t  dirty_bytes;
    int     damaged;			/* write the file anew */
    char   *fields[CACHE_FIELDS_MAX];
    int     nfields;
    char  **blocks;			/* what values live in */
    int     nblocks;
    int     blocks_size;
    int     have_seen;			/* SEEN and END are of a file */
    struct stat seen;
    off_t   end;			/* bytes of it read or written */
};

/* cache_rec_size - the bytes of a record in the file */

static size_t cache_rec_size(size_t name_len, size_t len)
{
    return (CACHE_REC_SIZE + name_len + len + 1);
}

#define ENT_SIZE(cache, ent) \
	cache_rec_size(strlen((cache)->fields[(ent)->field]), (ent)->len)

static INDEX_CACHE *cache_create(unsigned uidvalidity)
{
    INDEX_CACHE *cache = (INDEX_CACHE *) mycalloc(1, sizeof(*cache));

    cache->uidvalidity = uidvalidity;
    cache->size = 1024;
    cache->slots = (CACHE_ENT *) mycalloc(cache->size, sizeof(CACHE_ENT));
    return (cache);
}

void    index_cache_forget(STORE_INDEX *idx)
{
    INDEX_CACHE *cache = idx->cache;
    int     i;

    if (cache == 0)
	return;
    for (i = 0; i < cache->nfields; i++)
	myfree(cache->fields[i]);
    for (i = 0; i < cache->nblocks; i++)
	myfree(cache->blocks[i]);
    if (cache->blocks)
	myfree(cache->blocks);
    myfree(cache->slots);
    myfree(cache);
    idx->cache = 0;
}

/* cache_block - LEN bytes that live as long as the cache */

static char *cache_block(INDEX_CACHE *cache, size_t len)
{
    cache->blocks = (char **) index_grow(cache->blocks, &cache->blocks_size,
				   cache->nblocks + 1, sizeof(char *));
    return (cache->blocks[cache->nblocks++] = mymalloc(len ? len : 1));
}

/* cache_field - the number of field NAME (LEN bytes), made if CREATE; -1 */

static int cache_field(INDEX_CACHE *cache, const char *name, size_t len,
		               int create)
{
    int     i;

    for (i = 0; i < cache->nfields; i++)
	if (strncmp(cache->fields[i], name, len) == 0
	    && cache->fields[i][len] == 0)
	    return (i);
    if (!create || cache->nfields >= CACHE_FIELDS_MAX || len == 0
	|| len > CACHE_NAME_MAX || memchr(name, 0, len) != 0)
	return (-1);
    cache->fields[cache->nfields] = mystrndup(name, len);
    return (cache->nfields++);
}

static size_t cache_hash(unsigned uid, int field)
{
    uint32_t h = uid * 0x9E3779B1U ^ (uint32_t) field * 0x85EBCA6BU;

    h ^= h >> 15;
    h *= 0x2C1B3C6DU;
    h ^= h >> 12;
    return (h);
}

/* cache_slot - the slot of (UID, FIELD), or the empty one where it goes */

static CACHE_ENT *cache_slot(INDEX_CACHE *cache, unsigned uid, int field)
{
    size_t  mask = cache->size - 1;
    size_t  i;
    CACHE_ENT *ent;

    for (i = cache_hash(uid, field) & mask; /* void */ ; i = (i + 1) & mask) {
	ent = cache->slots + i;
	if (ent->uid == 0 || (ent->uid == uid && ent->field == field))
	    return (ent);
    }
}

/* cache_grow - a bigger table, without the dropped slots */

static void cache_grow(INDEX_CACHE *cache)
{
    CACHE_ENT *old = cache->slots;
    size_t  old_size = cache->size;
    size_t  i;

    while (cache->size < 4 * (cache->live + 1))
	cache->size *= 2;
    cache->slots = (CACHE_ENT *) mycalloc(cache->size, sizeof(CACHE_ENT));
    cache->used = 0;
    for (i = 0; i < old_size; i++) {
	if (old[i].value != 0) {
	    *cache_slot(cache, old[i].uid, old[i].field) = old[i];
	    cache->used++;
	}
    }
    myfree(old);
}

/* cache_drop_ent - a value goes */

static void cache_drop_ent(INDEX_CACHE *cache, CACHE_ENT *ent)
{
    if (ent->value == 0)
	return;
    cache->bytes -= ENT_SIZE(cache, ent);
    cache->live--;
    if (ent->dirty) {
	cache->dirty--;
	cache->dirty_bytes -= ENT_SIZE(cache, ent);
    }
    ent->value = 0;
    ent->dirty = 0;
}

/* cache_enter - (UID, FIELD) has VALUE (kept by the cache); DIRTY: to be
 * written */

static void cache_enter(INDEX_CACHE *cache, unsigned uid, int field,
			        const char *value, size_t len, int dirty)
{
    CACHE_ENT *ent;

    if ((cache->used + 1) * 4 > cache->size * 3)
	cache_grow(cache);
    ent = cache_slot(cache, uid, field);
    if (ent->uid == 0) {
	ent->uid = uid;
	ent->field = (unsigned short) field;
	cache->used++;
    } else {
	cache_drop_ent(cache, ent);
    }
    ent->value = value;
    ent->len = (unsigned) len;
    ent->dirty = (unsigned short) dirty;
    cache->live++;
    cache->bytes += ENT_SIZE(cache, ent);
    if (dirty) {
	cache->dirty++;
	cache->dirty_bytes += ENT_SIZE(cache, ent);
    }
}

/* index_cache_drop - the values of UIDs FIRST..LAST go (they were expunged) */

void    index_cache_drop(STORE_INDEX *idx, unsigned first, unsigned last)
{
    INDEX_CACHE *cache = idx->cache;
    unsigned uid;
    size_t  i;
    int     f;

    if (cache == 0 || cache->live == 0)
	return;
    if ((size_t) (last - first) * (size_t) cache->nfields < cache->size / 8) {
	for (uid = first; /* void */ ; uid++) {
	    for (f = 0; f < cache->nfields; f++)
		cache_drop_ent(cache, cache_slot(cache, uid, f));
	    if (uid == last)
		break;
	}
    } else {
	for (i = 0; i < cache->size; i++)
	    if (cache->slots[i].uid >= first && cache->slots[i].uid <= last)
		cache_drop_ent(cache, cache->slots + i);
    }
}

/*
 * The cache file.
 */

static void cache_header(VSTRING *out, unsigned uidvalidity)
{
    unsigned char hdr[CACHE_HDR_SIZE];

    memset(hdr, 0, sizeof(hdr));
    memcpy(hdr, CACHE_MAGIC, 8);
    put32(hdr + 8, uidvalidity);
    put32(hdr + 20, index_checksum(0, hdr, 20));
    vstring_memcat(out, (char *) hdr, sizeof(hdr));
}

static int cache_header_ok(const unsigned char *hdr, unsigned uidvalidity)
{
    return (memcmp(hdr, CACHE_MAGIC, 8) == 0
	    && get32(hdr + 20) == index_checksum(0, hdr, 20)
	    && get32(hdr + 8) == uidvalidity);
}

static uint32_t cache_rec_check(const unsigned char *hdr, const char *name,
			          size_t name_len, const char *value, size_t len)
{
    uint32_t sum = index_checksum(0, hdr, 12);

    sum = index_checksum(sum, name, name_len);
    return (index_checksum(sum, value, len));
}

static void cache_rec_put(VSTRING *out, INDEX_CACHE *cache,
			          const CACHE_ENT *ent)
{
    const char *name = cache->fields[ent->field];
    size_t  name_len = strlen(name);
    unsigned char hdr[CACHE_REC_SIZE];

    put32(hdr, ent->uid);
    put32(hdr + 4, ent->len);
    put16(hdr + 8, (unsigned) name_len);
    put16(hdr + 10, CACHE_REC_MAGIC);
    put32(hdr + 12, cache_rec_check(hdr, name, name_len, ent->value, ent->len));
    vstring_memcat(out, (char *) hdr, sizeof(hdr));
    vstring_memcat(out, name, name_len);
    vstring_memcat(out, ent->value, ent->len + 1);
}

/* cache_ingest - the records in BUF (kept by the cache); the bytes of the
 * ones that were whole and sane.  Values of UIDs not known are skipped. */

static size_t cache_ingest(STORE_INDEX *idx, const unsigned char *buf,
			           size_t len)
{
    INDEX_CACHE *cache = idx->cache;
    const unsigned char *p;
    size_t  off = 0, name_len, value_len, total;
    const char *name, *value;
    unsigned uid;
    int     field;

    while (len - off >= CACHE_REC_SIZE) {
	p = buf + off;
	uid = get32(p);
	value_len = get32(p + 4);
	name_len = get16(p + 8);
	if (uid == 0 || get16(p + 10) != CACHE_REC_MAGIC || name_len == 0
	    || name_len > CACHE_NAME_MAX || value_len > CACHE_VALUE_MAX)
	    break;
	total = cache_rec_size(name_len, value_len);
	if (total > len - off || p[total - 1] != 0)
	    break;
	name = (const char *) p + CACHE_REC_SIZE;
	value = name + name_len;
	if (get32(p + 12) != cache_rec_check(p, name, name_len, value, value_len))
	    break;
	if (index_rec_alive(idx, uid)
	    && (field = cache_field(cache, name, name_len, 1)) >= 0)
	    cache_enter(cache, uid, field, value, value_len, 0);
	off += total;
    }
    return (off);
}

/*
 * cache_tail - read what was added to the cache file on FD (ST) since we
 * read it (all of it when we had read none); 0, or -1 when it is not the
 * file we read.
 */
static int cache_tail(STORE_INDEX *idx, int fd, const struct stat *st)
{
    INDEX_CACHE *cache = idx->cache;
    unsigned char hdr[CACHE_HDR_SIZE];
    unsigned char *buf;
    size_t  len, used;

    if (!cache->have_seen) {
	if (st->st_size > 0 && (st->st_size < CACHE_HDR_SIZE
				|| index_read_at(fd, hdr, sizeof(hdr), 0) < 0
			      || !cache_header_ok(hdr, cache->uidvalidity)))
	    return (-1);
	cache->have_seen = 1;
	cache->seen = *st;
	cache->end = (st->st_size > 0 ? CACHE_HDR_SIZE : 0);
    }
    if (st->st_dev != cache->seen.st_dev || st->st_ino != cache->seen.st_ino
	|| st->st_size < cache->end || st->st_size > CACHE_LOAD_MAX)
	return (-1);
    if (st->st_size > cache->end) {
	len = (size_t) (st->st_size - cache->end);
	buf = (unsigned char *) cache_block(cache, len);
	if (index_read_at(fd, buf, len, cache->end) < 0)
	    return (-1);
	used = cache_ingest(idx, buf, len);
	cache->end += (off_t) used;
	if (used != len) {
	    msg_warn("%s: damaged at offset %ld: the rest is not used",
		     idx->cache_path, (long) cache->end);
	    cache->damaged = 1;
	}
    }
    cache->seen = *st;
    return (0);
}

/* cache_load - a new cache with what the file has (none when it is
 * missing, not ours, or damaged from its start) */

static void cache_load(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    int     locked = (index_lock(idx, F_RDLCK, 0) > 0);
    struct stat st;
    int     fd;

    index_cache_forget(idx);
    idx->cache = cache_create(folder->uidvalidity);
    fd = open(idx->cache_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
	if (errno != ENOENT) {
	    msg_warn("open %s: %m", idx->cache_path);
	    idx->cache->damaged = 1;
	}
    } else {
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
	    || cache_tail(idx, fd, &st) < 0)
	    idx->cache->damaged = 1;		/* written anew at the next flush */
	(void) close(fd);
    }
    if (locked)
	index_unlock(idx);
}

/* cache_open - the folder's cache, read on first use; NULL if none */

static INDEX_CACHE *cache_open(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;

    if (idx == 0)
	return (0);
    if (idx->cache && idx->cache->uidvalidity != folder->uidvalidity)
	index_cache_forget(idx);
    if (idx->cache == 0)
	cache_load(folder);
    return (idx->cache);
}

/* cache_check - at sync, read what others added (all if they replaced it) */

static void cache_check(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    INDEX_CACHE *cache = idx->cache;
    struct stat st;
    int     fd, ok, locked;

    if (lstat(idx->cache_path, &st) < 0
	|| (cache->have_seen && index_same_stat(&st, &cache->seen)))
	return;
    locked = (index_lock(idx, F_RDLCK, 0) > 0);
    fd = open(idx->cache_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    ok = (fd >= 0 && fstat(fd, &st) == 0 && cache_tail(idx, fd, &st) == 0);
    if (fd >= 0)
	(void) close(fd);
    if (locked)
	index_unlock(idx);
    if (!ok)
	cache_load(folder);
}

/* entry_uid_compare - qsort(): descending UIDs */

static int entry_uid_compare(const void *a, const void *b)
{
    unsigned ua = (*(CACHE_ENT * const *) a)->uid;
    unsigned ub = (*(CACHE_ENT * const *) b)->uid;

    return (ua > ub ? -1 : ua < ub);
}

/* cache_keep - the values to write anew: those of known UIDs, the highest
 * UIDs first while they fit; the others are dropped.  The count. */

static size_t cache_keep(STORE_INDEX *idx, CACHE_ENT ***list)
{
    INDEX_CACHE *cache = idx->cache;
    CACHE_ENT **ents = (CACHE_ENT **) mymalloc(sizeof(*ents) * (cache->live + 1));
    size_t  n = 0, i, kept = 0, bytes = 0;

    for (i = 0; i < cache->size; i++) {
	if (cache->slots[i].value == 0)
	    continue;
	if (index_rec_alive(idx, cache->slots[i].uid))
	    ents[n++] = cache->slots + i;
	else
	    cache_drop_ent(cache, cache->slots + i);
    }
    if (cache->bytes > CACHE_FILE_MAX / 4 * 3)
	qsort(ents, n, sizeof(*ents), entry_uid_compare);
    for (i = 0; i < n; i++) {
	if (bytes + ENT_SIZE(cache, ents[i]) > CACHE_FILE_MAX / 4 * 3) {
	    cache_drop_ent(cache, ents[i]);
	    continue;
	}
	bytes += ENT_SIZE(cache, ents[i]);
	ents[kept++] = ents[i];
    }
    *list = ents;
    return (kept);
}

/* cache_written - the values are in the file now (ST, END bytes) */

static void cache_written(INDEX_CACHE *cache, const struct stat *st)
{
    size_t  i;

    for (i = 0; i < cache->size; i++)
	cache->slots[i].dirty = 0;
    cache->dirty = cache->dirty_bytes = 0;
    cache->have_seen = 1;
    cache->seen = *st;
    cache->end = st->st_size;
}

/* cache_rewrite - the cache file anew (temporary file, rename) */

static void cache_rewrite(STORE_INDEX *idx)
{
    INDEX_CACHE *cache = idx->cache;
    VSTRING *buf = vstring_alloc(CACHE_SLACK + CACHE_VALUE_MAX);
    VSTRING *tmp = vstring_alloc(100);
    CACHE_ENT **ents;
    size_t  i, n = cache_keep(idx, &ents);
    off_t   off = 0;
    struct stat st;
    int     fd, ok;

    cache_header(buf, cache->uidvalidity);
    ok = ((fd = index_temp_create(idx->cache_path, tmp)) >= 0);
    for (i = 0; ok && i <= n; i++) {
	if (i < n)
	    cache_rec_put(buf, cache, ents[i]);
	if (LEN(buf) >= CACHE_SLACK || i == n) {
	    ok = (index_write_at(fd, STR(buf), LEN(buf), off) == 0);
	    off += (off_t) LEN(buf);
	    vstring_reset(buf);
	}
    }
    if (ok && fstat(fd, &st) == 0 && rename(STR(tmp), idx->cache_path) == 0) {
	cache_written(cache, &st);
	cache->damaged = 0;
    } else {
	msg_warn("write %s: %m", STR(tmp));
	if (fd >= 0)
	    (void) unlink(STR(tmp));
    }
    if (fd >= 0)
	(void) close(fd);
    myfree(ents);
    vstring_free(buf);
    vstring_free(tmp);
}

/* cache_append - the values not written yet, at the end of the file FD */

static void cache_append(STORE_INDEX *idx, int fd)
{
    INDEX_CACHE *cache = idx->cache;
    VSTRING *buf = vstring_alloc(cache->dirty_bytes + CACHE_HDR_SIZE);
    struct stat st;
    size_t  i;

    if (cache->end == 0)
	cache_header(buf, cache->uidvalidity);
    for (i = 0; i < cache->size; i++)
	if (cache->slots[i].dirty && cache->slots[i].value)
	    cache_rec_put(buf, cache, cache->slots + i);
    if (index_write_at(fd, STR(buf), LEN(buf), cache->end) < 0
	|| fstat(fd, &st) < 0) {
	msg_warn("write %s: %m", idx->cache_path);
	if (ftruncate(fd, cache->end) < 0)
	    msg_warn("truncate %s: %m", idx->cache_path);
    } else {
	cache_written(cache, &st);
    }
    vstring_free(buf);
}

/*
 * index_cache_flush - write the values not written yet (under the index
 * lock): appended, or the file anew when it is damaged, not the one we
 * read, too big, or more than half dead.
 */
void    index_cache_flush(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    INDEX_CACHE *cache = idx->cache;
    struct stat st;
    int     fd;

    if (cache == 0 || !idx->writable || (cache->dirty == 0 && !cache->damaged))
	return;
    if (cache->uidvalidity != folder->uidvalidity) {
	index_cache_forget(idx);
	return;
    }
    (void) index_update_begin(idx, 1);		/* the index is made if need be */
    if (idx->locked && idx->writable
	&& idx->uidvalidity == folder->uidvalidity) {
	fd = open(idx->cache_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC
		  | O_NONBLOCK, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	    msg_warn("open %s: %m", idx->cache_path);
	} else if (cache->damaged || cache_tail(idx, fd, &st) < 0
		   || cache->damaged
		   || cache->end + (off_t) cache->dirty_bytes > CACHE_FILE_MAX
		   || cache->end > 2 * (off_t) cache->bytes + CACHE_SLACK) {
	    cache_rewrite(idx);
	} else {
	    cache_append(idx, fd);
	}
	if (fd >= 0)
	    (void) close(fd);
    }
    index_update_end(folder, idx);
}

/* index_cache_sync - at sync: write ours, or read what others wrote */

void    index_cache_sync(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;

    if (idx->cache == 0)
	return;
    if (idx->cache->uidvalidity != folder->uidvalidity)
	index_cache_forget(idx);
    else if (idx->writable && (idx->cache->dirty || idx->cache->damaged))
	index_cache_flush(folder);
    else
	cache_check(folder);
}

const char *store_cache_get(STORE_FOLDER *folder, unsigned uid,
			            const char *field)
{
    INDEX_CACHE *cache;
    int     f;

    if (uid == 0 || (cache = cache_open(folder)) == 0
	|| (f = cache_field(cache, field, strlen(field), 0)) < 0)
	return (0);
    return (cache_slot(cache, uid, f)->value);
}

void    store_cache_put(STORE_FOLDER *folder, unsigned uid, const char *field,
			        const char *value, size_t len)
{
    INDEX_CACHE *cache;
    CACHE_ENT *ent;
    char   *copy;
    int     f;

    if (uid == 0 || len > CACHE_VALUE_MAX || (cache = cache_open(folder)) == 0
	|| (f = cache_field(cache, field, strlen(field), 1)) < 0)
	return;
    ent = cache_slot(cache, uid, f);
    if (ent->value && ent->len == len && memcmp(ent->value, value, len) == 0)
	return;
    if (cache->bytes + cache_rec_size(strlen(field), len) > CACHE_FILE_MAX)
	return;					/* full until the next rewrite */
    copy = cache_block(cache, len + 1);
    memcpy(copy, value, len);
    copy[len] = 0;
    cache_enter(cache, uid, f, copy, len, 1);
}
