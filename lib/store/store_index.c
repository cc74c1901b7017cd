/*
 * store_index.c - the per-folder index of store.h: RFC 7162 MODSEQs
 * (CONDSTORE, QRESYNC), the log of expunged UIDs, the cache of values
 * that are slow to compute, and change notification (inotify).
 *
 * The index is an accelerator.  Messages, UIDs and flags come from the
 * folder (store_maildir.c, store_mbox.c); the index remembers, per UID,
 * the flags it saw last and the MODSEQ of that state.  After each driver
 * sync (store_index_sync) a message the index does not know, or whose
 * flags differ, gets a new MODSEQ, and a UID it knows below the view's
 * UIDNEXT that the view lacks is logged as expunged.  A message's MODSEQ
 * in a view never goes down: a record older than what the view showed
 * counts as a change.  The changes of one sync, or of one of our own
 * operations, share one new MODSEQ (as one transaction's do in Dovecot).
 *
 * Files (Maildir: in the Maildir; mbox: beside the file, as dot files):
 *   posthorn-index   .NAME.posthorn-index	MODSEQs and expunges
 *   posthorn-cache   .NAME.posthorn-cache	cached values
 * Nothing is created by opening a folder: the index file is written at
 * the first update after that (a sync, a change, a cache write).
 *
 * The index file, integers little-endian:
 *   header (48 bytes)	"PHINDEX1", UIDVALIDITY, record count, expunge
 *			range count, 0, HIGHESTMODSEQ (64 bits), the expunge
 *			floor (64 bits: every expunge after it is logged),
 *			a checksum of the records and ranges, a checksum
 *			of the header
 *   commit (24 bytes)	the file's length and HIGHESTMODSEQ (64 bits each)
 *			as of the last append, a checksum seeded with the
 *			header's, 0; rewritten in place after each append
 *   records, 16 bytes	UID, flag bits (stored flags | keywords << 5),
 *			MODSEQ; ascending UIDs
 *   ranges, 16 bytes	first UID, last UID, MODSEQ: expunged then
 *   log, 24 bytes each	type ('F': UID has these flag bits at MODSEQ;
 *			'X': UIDs first..last expunged at MODSEQ), three
 *			zero bytes, UID, bits or last UID, a checksum seeded
 *			with the header's, MODSEQ
 * A change appends its log entries with one write and then updates the
 * commit block; when the log outgrows the snapshot (more entries than
 * records, and at least 4096) the file is written anew (temporary file,
 * rename).  So a flag change costs two small writes, and a sync that
 * finds nothing new writes nothing.  A file shorter than its commit says
 * lost entries (a crash, a truncation): it counts as damaged; entries
 * after the committed length are used while they are sane.  The expunge
 * log keeps the last 10,000 ranges (at most 4M UIDs).
 *
 * Locking: an open-file-description fcntl lock on the index file, shared
 * to read and exclusive to change, held for one read or one update, never
 * across a driver call; a file that was replaced while we waited for the
 * lock is opened again.  Each sync compares the file's device, inode,
 * size and times with what was read last (one lstat), and reads only the
 * entries appended since (the whole file after a rename).  The cache file
 * is changed under the same lock.
 *
 * Damage: a short, garbage or other-version file, a bad log entry, or a
 * file whose HIGHESTMODSEQ is below one that a file said before is
 * replaced, keeping what this session knows, and a different UIDVALIDITY
 * starts afresh; either way HIGHESTMODSEQ jumps to the time in
 * microseconds when that is higher, and the expunge floor moves up to it
 * (a client that knows an older MODSEQ is told that not every expunge is
 * known).  So MODSEQs never go backwards across a rebuild.  A read-only
 * folder, or one whose index cannot be written, does all this in memory.
 *
 * The cache file: a 24-byte header ("PHCACHE1", UIDVALIDITY, two zeros,
 * a checksum), then records: UID, value length, name length (16 bits),
 * 0xCA5E, a checksum of the record, the field name, the value, a NUL.
 * It is read on first use (values stay in memory, in the buffers read),
 * values put are appended at sync and close, and it is written anew when
 * it is more than half dead or outgrows 64 MB (the values of the lowest
 * UIDs go first).  A record that fails its checks ends what is trusted.
 * A value from store_cache_get() stays valid until the next store_sync()
 * or store_close(); a value with NUL bytes in it reads as a string.
 * store_expunged_since() returns memory from mymalloc() (also when
 * *count is 0) that the caller releases with myfree().
 *
 * Notification: an inotify descriptor per folder, made on first use:
 * Maildir new/ and cur/ (files arriving, renamed, removed) and
 * dovecot-uidlist; an mbox file (written, replaced).  A replaced file is
 * watched anew at each sync and at store_notify_clear(): call that before
 * the store_sync() that follows a wake-up.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <sys/inotify.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "maildir_uidlist.h"
#include "store_index.h"

#define INDEX_FILE		"posthorn-index"
#define CACHE_FILE		"posthorn-cache"

#define INDEX_MAGIC		"PHINDEX1"
#define INDEX_HDR_SIZE		48
#define INDEX_COMMIT_OFF	48	/* the commit block */
#define INDEX_COMMIT_SIZE	24
#define INDEX_BODY_OFF		72	/* records, ranges, log */
#define INDEX_REC_SIZE		16	/* records and expunge ranges */
#define INDEX_LOG_SIZE		24
#define LOG_FLAGS		'F'
#define LOG_EXPUNGE		'X'

#define INDEX_LOG_MIN		4096	/* log entries kept before a rewrite */
#define INDEX_EXPUNGE_MAX	10000	/* expunge ranges kept */
#define INDEX_EXPUNGE_UIDS	(1UL << 22)	/* UIDs they may span */
#define INDEX_MODSEQ_MAX	(1ULL << 62)
#define INDEX_FILE_MAX		(256L << 20)
#define INDEX_LOCK_WAIT_US	2000
#define INDEX_LOCK_TRIES	5000	/* 10 s */
#define INDEX_REOPEN_MAX	10

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

#define KEYWORD_MASK		((1U << STORE_MAX_KEYWORDS) - 1)
#define BITS_WIDTH		(5 + STORE_MAX_KEYWORDS)
#define BITS_OF(flags, keywords) \
	(((flags) & STORE_FLAGS_STORED) | (((keywords) & KEYWORD_MASK) << 5))

#define READ_OK			0
#define READ_EMPTY		1
#define READ_BAD		2

typedef struct INDEX_REC {
    unsigned uid;
    unsigned bits;			/* BITS_OF() the flags seen last */
    unsigned long long modseq;		/* 0: expunged, gone at the next pack */
} INDEX_REC;

typedef struct INDEX_EXP {
    unsigned first;			/* UIDs first..last were expunged */
    unsigned last;
    unsigned long long modseq;		/* ... at this MODSEQ */
} INDEX_EXP;

typedef struct INDEX_CACHE INDEX_CACHE;
typedef struct STORE_INDEX STORE_INDEX;

struct STORE_INDEX {
    char   *path;			/* the index file */
    char   *cache_path;			/* the cache file */
    char   *watch_path;			/* dovecot-uidlist, or the mbox */
    int     writable;			/* may write files */
    int     disabled;			/* the index file is unusable */
    int     fd;				/* the index file, or -1 */
    int     locked;
    int     have_seen;			/* SEEN is a file we read */
    struct stat seen;
    off_t   end;			/* bytes of it applied */
    size_t  snap;			/* bytes of its snapshot */
    uint32_t seed;			/* its header checksum */
    int     log_count;			/* its log entries */
    int     rewrite;			/* write it anew at the next update */
    unsigned long long file_highest;	/* the highest a file said */
    /* What the index knows */
    unsigned uidvalidity;
    unsigned long long highest;
    unsigned long long floor;		/* every expunge after it is logged */
    INDEX_REC *recs;			/* ascending UIDs */
    int     nrecs;
    int     recs_size;
    int     ndead;
    INDEX_EXP *exps;			/* in log order */
    int     nexps;
    int     exps_size;
    unsigned long exp_uids;		/* UIDs the ranges span */
    /* One update */
    VSTRING *log;			/* its entries, for the file */
    int     log_entries;
    INDEX_CACHE *cache;			/* made on first use */
    int     notify_fd;			/* made on first use, or -1 */
};

static void cache_drop(STORE_INDEX *, unsigned, unsigned);
static void cache_forget(STORE_INDEX *);

/*
 * Bytes, checksums, time.
 */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t) v);
    put32(p + 4, (uint32_t) (v >> 32));
}

static unsigned get16(const unsigned char *p)
{
    return (p[0] | (unsigned) p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
	    | (uint32_t) p[3] << 24);
}

static uint64_t get64(const unsigned char *p)
{
    return (get32(p) | (uint64_t) get32(p + 4) << 32);
}

/* checksum - of LEN bytes, continuing from SEED (fast, not for security) */

static uint32_t checksum(uint32_t seed, const void *data, size_t len)
{
    const unsigned char *cp = (const unsigned char *) data;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ seed ^ ((uint64_t) len << 32);
    uint64_t w;

    for (; len >= 8; cp += 8, len -= 8) {
	memcpy(&w, cp, 8);
	h = (h ^ w) * 0x100000001b3ULL;
	h ^= h >> 31;
    }
    for (; len > 0; cp++, len--)
	h = (h ^ *cp) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return ((uint32_t) h);
}

/* time_base - the time in microseconds: above any MODSEQ handed out */

static unsigned long long time_base(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);
    return ((unsigned long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* same_stat - the same file, unchanged */

static int same_stat(const struct stat *a, const struct stat *b)
{
    return (a->st_dev == b->st_dev && a->st_ino == b->st_ino
	    && a->st_size == b->st_size
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
	    && a->st_ctim.tv_sec == b->st_ctim.tv_sec
	    && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec);
}

/* read_at, write_at - all of LEN bytes at OFF; 0 or -1 */

static int read_at(int fd, void *buf, size_t len, off_t off)
{
    size_t  done = 0;
    ssize_t n;

    while (done < len) {
	if ((n = pread(fd, (char *) buf + done, len - done,
		       off + (off_t) done)) < 0 && errno == EINTR)
	    continue;
	if (n <= 0) {
	    if (n == 0)
		errno = EIO;			/* shorter than it said */
	    return (-1);
	}
	done += (size_t) n;
    }
    return (0);
}

static int write_at(int fd, const void *buf, size_t len, off_t off)
{
    size_t  done = 0;
    ssize_t n;

    while (done < len) {
	if ((n = pwrite(fd, (const char *) buf + done, len - done,
			off + (off_t) done)) < 0 && errno == EINTR)
	    continue;
	if (n <= 0) {
	    if (n == 0)
		errno = EIO;
	    return (-1);
	}
	done += (size_t) n;
    }
    return (0);
}

/* grow - make room for NEED elements of ELEM bytes */

static void *grow(void *ptr, int *size, int need, size_t elem)
{
    if (need <= *size)
	return (ptr);
    if (*size < 64)
	*size = 64;
    while (*size < need)
	*size *= 2;
    return (myrealloc(ptr, (size_t) *size * elem));
}

/* temp_create - a new file beside PATH (its name in TMP); fd or -1 */

static int temp_create(const char *path, VSTRING *tmp)
{
    int     fd;

    vstring_sprintf(tmp, "%s.%ld.tmp", path, (long) getpid());
    if ((fd = open(STR(tmp), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW
		   | O_CLOEXEC, 0600)) < 0 && errno == EEXIST
	&& unlink(STR(tmp)) == 0)		/* left by a crash */
	fd = open(STR(tmp), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW
		  | O_CLOEXEC, 0600);
    return (fd);
}

/*
 * What the index knows: records by UID, expunge ranges.
 */

/* rec_find - the first record with a UID not below UID */

static int rec_find(const STORE_INDEX *idx, unsigned uid)
{
    int     lo = 0, hi = idx->nrecs;

    while (lo < hi) {
	int     mid = lo + (hi - lo) / 2;

	if (idx->recs[mid].uid < uid)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return (lo);
}

/* rec_alive - UID's record, unless it is not there or expunged */

static int rec_alive(const STORE_INDEX *idx, unsigned uid)
{
    int     i = rec_find(idx, uid);

    return (i < idx->nrecs && idx->recs[i].uid == uid
	    && idx->recs[i].modseq != 0);
}

/* rec_set - UID has BITS at MODSEQ */

static void rec_set(STORE_INDEX *idx, unsigned uid, unsigned bits,
		            unsigned long long modseq)
{
    INDEX_REC *rec;
    int     i;

    if (idx->nrecs == 0 || idx->recs[idx->nrecs - 1].uid < uid)
	i = idx->nrecs;				/* the usual case: a new UID */
    else
	i = rec_find(idx, uid);
    if (i < idx->nrecs && idx->recs[i].uid == uid) {
	rec = idx->recs + i;
	if (rec->modseq == 0)
	    idx->ndead--;
    } else {
	idx->recs = (INDEX_REC *) grow(idx->recs, &idx->recs_size,
				       idx->nrecs + 1, sizeof(*rec));
	memmove(idx->recs + i + 1, idx->recs + i,
		(size_t) (idx->nrecs - i) * sizeof(*rec));
	idx->nrecs++;
	rec = idx->recs + i;
	rec->uid = uid;
    }
    rec->bits = bits;
    rec->modseq = modseq;
}

/* rec_pack - forget expunged records */

static void rec_pack(STORE_INDEX *idx)
{
    int     i, out = 0;

    for (i = 0; i < idx->nrecs; i++)
	if (idx->recs[i].modseq != 0)
	    idx->recs[out++] = idx->recs[i];
    idx->nrecs = out;
    idx->ndead = 0;
}

/* rec_drop_range - UIDs FIRST..LAST are expunged */

static void rec_drop_range(STORE_INDEX *idx, unsigned first, unsigned last)
{
    int     i;

    for (i = rec_find(idx, first); i < idx->nrecs && idx->recs[i].uid <= last;
	 i++) {
	if (idx->recs[i].modseq != 0) {
	    idx->recs[i].modseq = 0;
	    idx->ndead++;
	}
    }
    if (idx->ndead > 64 && idx->ndead > idx->nrecs / 2)
	rec_pack(idx);
}

/* exp_span - the UIDs a range covers */

static unsigned long exp_span(const INDEX_EXP *exp)
{
    return ((unsigned long) (exp->last - exp->first) + 1);
}

/* exp_trim - keep the newest KEEP ranges (within the UID bound); what
 * goes raises the floor */

static void exp_trim(STORE_INDEX *idx, int keep)
{
    int     drop = 0;

    while (drop < idx->nexps && (idx->nexps - drop > keep
				 || idx->exp_uids > INDEX_EXPUNGE_UIDS)) {
	if (idx->exps[drop].modseq > idx->floor)
	    idx->floor = idx->exps[drop].modseq;
	idx->exp_uids -= exp_span(idx->exps + drop);
	drop++;
    }
    if (drop > 0) {
	memmove(idx->exps, idx->exps + drop,
		(size_t) (idx->nexps - drop) * sizeof(*idx->exps));
	idx->nexps -= drop;
    }
}

/* exp_add - UIDs FIRST..LAST went at MODSEQ */

static void exp_add(STORE_INDEX *idx, unsigned first, unsigned last,
		            unsigned long long modseq)
{
    INDEX_EXP *exp;

    idx->exps = (INDEX_EXP *) grow(idx->exps, &idx->exps_size,
				   idx->nexps + 1, sizeof(*exp));
    exp = idx->exps + idx->nexps++;
    exp->first = first;
    exp->last = last;
    exp->modseq = modseq;
    idx->exp_uids += exp_span(exp);
    if (idx->nexps > 2 * INDEX_EXPUNGE_MAX
	|| idx->exp_uids > INDEX_EXPUNGE_UIDS)
	exp_trim(idx, INDEX_EXPUNGE_MAX);
}

/*
 * index_reset - start anew above every MODSEQ handed out before; KEEP:
 * with the records known (the index of the same UIDVALIDITY was damaged
 * or lost), else with none (a new UIDVALIDITY).
 */
static void index_reset(STORE_INDEX *idx, int keep, unsigned uidvalidity)
{
    unsigned long long now = time_base();

    idx->highest = (now > idx->highest ? now : idx->highest + 1);
    idx->floor = idx->highest;
    if (!keep) {
	idx->nrecs = idx->ndead = 0;
	idx->nexps = 0;
	idx->exp_uids = 0;
	cache_forget(idx);
    }
    idx->uidvalidity = uidvalidity;
    idx->rewrite = 1;
}

/*
 * Log entries: one change each.
 */

/* entry_apply - a change, ours or read from the file */

static void entry_apply(STORE_INDEX *idx, int type, unsigned uid,
			        unsigned arg, unsigned long long modseq)
{
    if (type == LOG_FLAGS) {
	rec_set(idx, uid, arg, modseq);
    } else {
	rec_drop_range(idx, uid, arg);
	exp_add(idx, uid, arg, modseq);
	cache_drop(idx, uid, arg);
    }
    if (modseq > idx->highest)
	idx->highest = modseq;
}

/* entry_check - the checksum of entry ENT in a file seeded SEED */

static uint32_t entry_check(uint32_t seed, const unsigned char *ent)
{
    return (checksum(checksum(seed, ent, 12), ent + 16, 8));
}

/* entry_log - a change of ours, for the file */

static void entry_log(STORE_INDEX *idx, int type, unsigned uid, unsigned arg,
		              unsigned long long modseq)
{
    unsigned char ent[INDEX_LOG_SIZE];

    memset(ent, 0, sizeof(ent));
    ent[0] = (unsigned char) type;
    put32(ent + 4, uid);
    put32(ent + 8, arg);
    put64(ent + 16, modseq);
    put32(ent + 12, entry_check(idx->seed, ent));
    vstring_memcat(idx->log, (char *) ent, sizeof(ent));
    idx->log_entries++;
}

/* entry_change - a change of ours: known now, and logged for the file */

static void entry_change(STORE_INDEX *idx, int type, unsigned uid,
			         unsigned arg, unsigned long long modseq)
{
    entry_apply(idx, type, uid, arg, modseq);
    entry_log(idx, type, uid, arg, modseq);
}

/* entry_replay - apply an entry from the file; 0, or -1 when it is bad */

static int entry_replay(STORE_INDEX *idx, const unsigned char *ent)
{
    unsigned uid = get32(ent + 4);
    unsigned arg = get32(ent + 8);
    unsigned long long modseq = get64(ent + 16);

    if ((ent[1] | ent[2] | ent[3]) != 0 || uid == 0 || modseq == 0
	|| modseq >= INDEX_MODSEQ_MAX
	|| get32(ent + 12) != entry_check(idx->seed, ent))
	return (-1);
    if (ent[0] == LOG_FLAGS ? (arg >> BITS_WIDTH) != 0 :
	ent[0] != LOG_EXPUNGE || arg < uid || arg - uid >= INDEX_EXPUNGE_UIDS)
	return (-1);
    entry_apply(idx, ent[0], uid, arg, modseq);
    idx->log_count++;
    return (0);
}

/* log_replay - the entries in BUF; the bytes of those that were sane */

static size_t log_replay(STORE_INDEX *idx, const unsigned char *buf,
			         size_t len)
{
    size_t  off;

    for (off = 0; off + INDEX_LOG_SIZE <= len; off += INDEX_LOG_SIZE)
	if (entry_replay(idx, buf + off) < 0)
	    break;
    return (off);
}

/*
 * Snapshots: the header, the records and the expunge ranges.
 */

/* snapshot_check - the snapshot BUF starts with is whole and sane: its
 * length, or 0 */

static size_t snapshot_check(const unsigned char *buf, size_t len)
{
    unsigned long long highest, floor, modseq;
    unsigned long spanned = 0;
    unsigned prev = 0, uid, last;
    const unsigned char *cp;
    size_t  nrecs, nexps, body, i;

    if (len < INDEX_BODY_OFF || memcmp(buf, INDEX_MAGIC, 8) != 0
	|| get32(buf + 44) != checksum(0, buf, 44))
	return (0);
    nrecs = get32(buf + 12);
    nexps = get32(buf + 16);
    highest = get64(buf + 24);
    floor = get64(buf + 32);
    if (get32(buf + 20) != 0 || highest >= INDEX_MODSEQ_MAX || floor > highest
	|| nexps > 2 * INDEX_EXPUNGE_MAX || nrecs > len / INDEX_REC_SIZE)
	return (0);
    body = (nrecs + nexps) * INDEX_REC_SIZE;
    if (body > len - INDEX_BODY_OFF
	|| get32(buf + 40) != checksum(0, buf + INDEX_BODY_OFF, body))
	return (0);
    cp = buf + INDEX_BODY_OFF;
    for (i = 0; i < nrecs; i++, cp += INDEX_REC_SIZE) {
	uid = get32(cp);
	modseq = get64(cp + 8);
	if (uid <= prev || (get32(cp + 4) >> BITS_WIDTH) != 0
	    || modseq == 0 || modseq > highest)
	    return (0);
	prev = uid;
    }
    for (i = 0; i < nexps; i++, cp += INDEX_REC_SIZE) {
	uid = get32(cp);
	last = get32(cp + 4);
	modseq = get64(cp + 8);
	if (uid == 0 || last < uid || modseq == 0 || modseq > highest
	    || (spanned += (unsigned long) (last - uid) + 1) > INDEX_EXPUNGE_UIDS)
	    return (0);
    }
    return (INDEX_BODY_OFF + body);
}

/* commit_put - the commit block for a file of LEN bytes, in BLOCK */

static void commit_put(STORE_INDEX *idx, unsigned char *block, off_t len)
{
    put64(block, (uint64_t) len);
    put64(block + 8, idx->highest);
    put32(block + 16, checksum(idx->seed, block, 16));
    put32(block + 20, 0);
}

/* commit_get - the committed length and HIGHESTMODSEQ of a file whose
 * snapshot (SNAP bytes) says HIGHEST; 0, or -1 if the block is bad */

static int commit_get(const STORE_INDEX *idx, const unsigned char *block,
		              size_t snap, unsigned long long highest,
		              off_t *len, unsigned long long *committed)
{
    uint64_t end = get64(block);

    *committed = get64(block + 8);
    if (get32(block + 16) != checksum(idx->seed, block, 16)
	|| get32(block + 20) != 0 || end < snap || end > INDEX_FILE_MAX
	|| (end - snap) % INDEX_LOG_SIZE != 0
	|| *committed < highest || *committed >= INDEX_MODSEQ_MAX)
	return (-1);
    *len = (off_t) end;
    return (0);
}

/* snapshot_load - what a checked snapshot says, as what the index knows */

static void snapshot_load(STORE_INDEX *idx, const unsigned char *buf)
{
    int     nrecs = (int) get32(buf + 12);
    int     nexps = (int) get32(buf + 16);
    unsigned long long highest = get64(buf + 24);
    const unsigned char *cp = buf + INDEX_BODY_OFF;
    int     i;

    idx->uidvalidity = get32(buf + 8);
    if (highest > idx->highest)
	idx->highest = highest;
    if (highest > idx->file_highest)
	idx->file_highest = highest;
    idx->floor = get64(buf + 32);
    idx->seed = get32(buf + 44);
    idx->log_count = 0;
    idx->recs = (INDEX_REC *) grow(idx->recs, &idx->recs_size, nrecs,
				   sizeof(*idx->recs));
    for (i = 0; i < nrecs; i++, cp += INDEX_REC_SIZE) {
	idx->recs[i].uid = get32(cp);
	idx->recs[i].bits = get32(cp + 4);
	idx->recs[i].modseq = get64(cp + 8);
    }
    idx->nrecs = nrecs;
    idx->ndead = 0;
    idx->exps = (INDEX_EXP *) grow(idx->exps, &idx->exps_size, nexps,
				   sizeof(*idx->exps));
    idx->exp_uids = 0;
    for (i = 0; i < nexps; i++, cp += INDEX_REC_SIZE) {
	idx->exps[i].first = get32(cp);
	idx->exps[i].last = get32(cp + 4);
	idx->exps[i].modseq = get64(cp + 8);
	idx->exp_uids += exp_span(idx->exps + i);
    }
    idx->nexps = nexps;
}

/* snapshot_build - what the index knows, as a file */

static void snapshot_build(STORE_INDEX *idx, VSTRING *out)
{
    unsigned char hdr[INDEX_HDR_SIZE];
    unsigned char item[INDEX_REC_SIZE];
    int     i;

    rec_pack(idx);
    exp_trim(idx, INDEX_EXPUNGE_MAX);
    vstring_reset(out);
    vstring_reserve(out, INDEX_BODY_OFF + (size_t) (idx->nrecs + idx->nexps)
		    * INDEX_REC_SIZE);
    memset(hdr, 0, sizeof(hdr));
    vstring_memcat(out, (char *) hdr, sizeof(hdr));
    vstring_memcat(out, (char *) hdr, INDEX_COMMIT_SIZE);
    for (i = 0; i < idx->nrecs; i++) {
	put32(item, idx->recs[i].uid);
	put32(item + 4, idx->recs[i].bits);
	put64(item + 8, idx->recs[i].modseq);
	vstring_memcat(out, (char *) item, sizeof(item));
    }
    for (i = 0; i < idx->nexps; i++) {
	put32(item, idx->exps[i].first);
	put32(item + 4, idx->exps[i].last);
	put64(item + 8, idx->exps[i].modseq);
	vstring_memcat(out, (char *) item, sizeof(item));
    }
    memcpy(hdr, INDEX_MAGIC, 8);
    put32(hdr + 8, idx->uidvalidity);
    put32(hdr + 12, (uint32_t) idx->nrecs);
    put32(hdr + 16, (uint32_t) idx->nexps);
    put64(hdr + 24, idx->highest);
    put64(hdr + 32, idx->floor);
    put32(hdr + 40, checksum(0, STR(out) + INDEX_BODY_OFF,
			     LEN(out) - INDEX_BODY_OFF));
    put32(hdr + 44, checksum(0, hdr, 44));
    memcpy(STR(out), hdr, sizeof(hdr));
    idx->seed = get32(hdr + 44);
    commit_put(idx, (unsigned char *) STR(out) + INDEX_COMMIT_OFF,
	       (off_t) LEN(out));
}

/*
 * The index file: opening and locking.
 */

/* fd_lock - an OFD lock of TYPE on all of FD (waiting up to 10 s) */

static int fd_lock(int fd, int type)
{
    struct timespec ts = {0, INDEX_LOCK_WAIT_US * 1000L};
    struct flock fl;
    int     tries;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    for (tries = 0; fcntl(fd, F_OFD_SETLK, &fl) < 0; tries++) {
	if ((errno != EAGAIN && errno != EACCES && errno != EINTR)
	    || type == F_UNLCK || tries >= INDEX_LOCK_TRIES)
	    return (-1);
	(void) nanosleep(&ts, (struct timespec *) 0);
    }
    return (0);
}

static void index_close_fd(STORE_INDEX *idx)
{
    if (idx->fd >= 0)
	(void) close(idx->fd);			/* releases its lock */
    idx->fd = -1;
    idx->locked = 0;
}

/* index_open_file - the index file (made when CREATE); fd, or -1 (with
 * errno ENOENT: there is none) */

static int index_open_file(STORE_INDEX *idx, int create)
{
    struct stat st;
    int     flags = idx->writable ? O_RDWR | (create ? O_CREAT : 0) : O_RDONLY;
    int     fd;

    fd = open(idx->path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
	if (errno == ENOENT)
	    return (-1);
	if (idx->writable && (errno == EACCES || errno == EPERM || errno == EROFS)) {
	    msg_warn("cannot write %s: %m; MODSEQs are kept in memory",
		     idx->path);
	    idx->writable = 0;
	    return (index_open_file(idx, 0));
	}
	msg_warn("open %s: %m; MODSEQs are kept in memory", idx->path);
	idx->disabled = 1;
	return (-1);
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	msg_warn("%s is not a regular file; MODSEQs are kept in memory",
		 idx->path);
	(void) close(fd);
	idx->disabled = 1;
	errno = EINVAL;
	return (-1);
    }
    return (fd);
}

/*
 * index_lock - the index file open, locked (TYPE; shared when we cannot
 * write) and still the one the path names: 1, 0 when there is none (and
 * not CREATE), -1 on error.
 */
static int index_lock(STORE_INDEX *idx, int type, int create)
{
    struct stat st, pst;
    int     tries;

    for (tries = 0; tries < INDEX_REOPEN_MAX && !idx->disabled; tries++) {
	if (idx->fd < 0 && (idx->fd = index_open_file(idx, create)) < 0)
	    return (errno == ENOENT && !idx->disabled ? 0 : -1);
	if (fd_lock(idx->fd, idx->writable ? type : F_RDLCK) < 0) {
	    msg_warn("lock %s: %m", idx->path);
	    return (-1);
	}
	if (fstat(idx->fd, &st) == 0 && lstat(idx->path, &pst) == 0
	    && st.st_dev == pst.st_dev && st.st_ino == pst.st_ino) {
	    idx->locked = 1;
	    return (1);
	}
	index_close_fd(idx);			/* replaced or removed meanwhile */
    }
    if (!idx->disabled)
	msg_warn("%s keeps being replaced", idx->path);
    return (-1);
}

static void index_unlock(STORE_INDEX *idx)
{
    if (idx->locked && fd_lock(idx->fd, F_UNLCK) < 0)
	msg_warn("unlock %s: %m", idx->path);
    idx->locked = 0;
}

/*
 * The index file: reading.
 */

/* index_read_end - after the entries of a file (ST) were read: all that
 * was COMMITTED must have been there; HIGHEST is the file's */

static int index_read_end(STORE_INDEX *idx, const struct stat *st,
			          off_t committed, unsigned long long highest)
{
    if (idx->end < committed)
	return (READ_BAD);
    if (idx->end < st->st_size)
	idx->rewrite = 1;			/* not committed, not sane: gone */
    if (highest > idx->highest)
	idx->highest = highest;
    if (highest > idx->file_highest)
	idx->file_highest = highest;
    return (READ_OK);
}

/* index_read_all - all of the locked file (ST) as what the index knows */

static int index_read_all(STORE_INDEX *idx, const struct stat *st)
{
    size_t  len = (size_t) st->st_size;
    unsigned long long highest;
    off_t   committed;
    size_t  snap;
    unsigned char *buf;
    int     ret = READ_BAD;

    idx->end = 0;
    if (st->st_size == 0)
	return (READ_EMPTY);
    if (st->st_size > INDEX_FILE_MAX)
	return (READ_BAD);
    buf = (unsigned char *) mymalloc(len);
    if (read_at(idx->fd, buf, len, 0) == 0
	&& (snap = snapshot_check(buf, len)) != 0) {
	idx->seed = get32(buf + 44);
	if (commit_get(idx, buf + INDEX_COMMIT_OFF, snap, get64(buf + 24),
		       &committed, &highest) == 0
	    && committed <= st->st_size
	    && highest >= idx->file_highest) {	/* else out of date */
	    snapshot_load(idx, buf);
	    idx->snap = snap;
	    idx->end = (off_t) (snap + log_replay(idx, buf + snap, len - snap));
	    ret = index_read_end(idx, st, committed, highest);
	}
    }
    myfree(buf);
    return (ret);
}

/* index_read_tail - the entries appended to the locked file (ST) since */

static int index_read_tail(STORE_INDEX *idx, const struct stat *st)
{
    size_t  len = (size_t) (st->st_size - idx->end);
    unsigned char block[INDEX_COMMIT_SIZE];
    unsigned long long highest;
    off_t   committed;
    unsigned char *buf;

    if (st->st_size > INDEX_FILE_MAX
	|| read_at(idx->fd, block, sizeof(block), INDEX_COMMIT_OFF) < 0
	|| commit_get(idx, block, idx->snap, 0, &committed, &highest) < 0
	|| committed > st->st_size)
	return (READ_BAD);
    buf = (unsigned char *) mymalloc(len);
    if (read_at(idx->fd, buf, len, idx->end) < 0) {
	myfree(buf);
	return (READ_BAD);
    }
    idx->end += (off_t) log_replay(idx, buf, len);
    myfree(buf);
    return (index_read_end(idx, st, committed, highest));
}

/* index_refresh - bring what the index knows up to the locked file */

static void index_refresh(STORE_INDEX *idx)
{
    struct stat st;
    int     ret;

    if (fstat(idx->fd, &st) < 0) {
	msg_warn("fstat %s: %m", idx->path);
	return;
    }
    if (idx->have_seen && same_stat(&st, &idx->seen))
	return;
    if (idx->have_seen && idx->end > 0 && st.st_dev == idx->seen.st_dev
	&& st.st_ino == idx->seen.st_ino && st.st_size > idx->end)
	ret = index_read_tail(idx, &st);
    else
	ret = index_read_all(idx, &st);
    idx->seen = st;
    idx->have_seen = 1;
    if (ret == READ_EMPTY) {
	idx->rewrite = 1;			/* just made, or emptied */
    } else if (ret == READ_BAD) {
	msg_warn("%s is damaged or out of date: rebuilding it", idx->path);
	idx->end = 0;
	index_reset(idx, 1, idx->uidvalidity);
    }
}

/* index_check - re-read the file if it changed since (one lstat) */

static void index_check(STORE_INDEX *idx)
{
    struct stat st;

    if (idx->disabled)
	return;
    if (lstat(idx->path, &st) < 0) {
	if (errno == ENOENT && idx->have_seen) {	/* removed: write anew */
	    index_close_fd(idx);
	    idx->have_seen = 0;
	    idx->end = 0;
	    idx->rewrite = 1;
	}
	return;
    }
    if (idx->have_seen && same_stat(&st, &idx->seen))
	return;
    if (index_lock(idx, F_RDLCK, 0) > 0) {
	index_refresh(idx);
	index_unlock(idx);
    }
}

/*
 * The index file: writing (under the exclusive lock, what we know being
 * the file's and more).
 */

/* index_append - this update's log entries at the end of the file */

static int index_append(STORE_INDEX *idx)
{
    unsigned char block[INDEX_COMMIT_SIZE];
    off_t   end = idx->end + (off_t) LEN(idx->log);
    struct stat st;

    commit_put(idx, block, end);
    if (write_at(idx->fd, STR(idx->log), LEN(idx->log), idx->end) < 0
	|| write_at(idx->fd, block, sizeof(block), INDEX_COMMIT_OFF) < 0
	|| fstat(idx->fd, &st) < 0) {
	msg_warn("write %s: %m", idx->path);
	return (-1);				/* a snapshot will follow */
    }
    idx->end = end;
    idx->log_count += idx->log_entries;
    idx->seen = st;
    if (idx->highest > idx->file_highest)
	idx->file_highest = idx->highest;
    return (0);
}

/* index_write_snapshot - the file anew: a temporary file, locked, renamed */

static int index_write_snapshot(STORE_INDEX *idx)
{
    VSTRING *buf = vstring_alloc(4096);
    VSTRING *tmp = vstring_alloc(100);
    uint32_t old_seed = idx->seed;
    struct stat st;
    int     fd;
    int     ret = 0;

    snapshot_build(idx, buf);
    if ((fd = temp_create(idx->path, tmp)) < 0
	|| write_at(fd, STR(buf), LEN(buf), 0) < 0
	|| fd_lock(fd, F_WRLCK) < 0 || fstat(fd, &st) < 0
	|| rename(STR(tmp), idx->path) < 0) {
	msg_warn("write %s: %m", STR(tmp));
	if (fd >= 0) {
	    (void) close(fd);
	    (void) unlink(STR(tmp));
	}
	idx->seed = old_seed;			/* the old file stays */
	ret = -1;
    } else {
	index_close_fd(idx);
	idx->fd = fd;
	idx->locked = 1;
	idx->seen = st;
	idx->have_seen = 1;
	idx->end = (off_t) LEN(buf);
	idx->snap = LEN(buf);
	idx->log_count = 0;
	idx->rewrite = 0;
	if (idx->highest > idx->file_highest)
	    idx->file_highest = idx->highest;
    }
    vstring_free(buf);
    vstring_free(tmp);
    return (ret);
}

/* index_write - this update: appended, or the file anew */

static void index_write(STORE_INDEX *idx)
{
    int     limit = idx->nrecs > INDEX_LOG_MIN ? idx->nrecs : INDEX_LOG_MIN;

    if (!idx->rewrite && idx->end > 0
	&& idx->log_count + idx->log_entries <= limit
	&& (idx->log_entries == 0 || index_append(idx) == 0))
	return;
    if (index_write_snapshot(idx) < 0)
	idx->rewrite = 1;
}

/*
 * Updates: lock, read what others wrote, change, write, unlock.
 */

/* update_begin - the file locked and current (when we may write it; made
 * when CREATE); the MODSEQ of this update */

static unsigned long long update_begin(STORE_INDEX *idx, int create)
{
    vstring_reset(idx->log);
    idx->log_entries = 0;
    if (idx->writable && index_lock(idx, F_WRLCK, create) > 0)
	index_refresh(idx);
    return (idx->highest + 1);
}

/* update_end - the update written and the lock released */

static void update_end(STORE_FOLDER *folder, STORE_INDEX *idx)
{
    if (idx->locked) {
	if (idx->writable && (idx->log_entries > 0 || idx->rewrite))
	    index_write(idx);
	index_unlock(idx);
    } else if (idx->log_entries > 0 && idx->writable && !idx->disabled) {
	idx->rewrite = 1;			/* not on disk yet */
    }
    if (idx->highest > folder->highestmodseq)
	folder->highestmodseq = idx->highest;
}

/*
 * The view against what the index knows.
 */

/* rec_current - REC still describes MSG as the view showed it */

static int rec_current(const INDEX_REC *rec, const STORE_MSG *msg)
{
    return (rec->modseq != 0 && rec->modseq >= msg->modseq
	    && rec->bits == BITS_OF(msg->flags, msg->keywords));
}

/* reconcile_count - the changes a sync finds; the unchanged messages get
 * their MODSEQs */

static int reconcile_count(STORE_FOLDER *folder, STORE_INDEX *idx)
{
    const INDEX_REC *rec = idx->recs;
    const INDEX_REC *end = rec ? rec + idx->nrecs : rec;
    STORE_MSG *msg;
    int     changes = 0;
    int     i;

    for (i = 0; i < folder->count; i++) {
	msg = folder->msgs + i;
	for (; rec < end && rec->uid < msg->uid; rec++)
	    changes += (rec->modseq != 0 && rec->uid < folder->uidnext);
	if (rec < end && rec->uid == msg->uid && rec_current(rec, msg))
	    msg->modseq = rec->modseq;
	else
	    changes++;
	if (rec < end && rec->uid == msg->uid)
	    rec++;
    }
    for (; rec < end; rec++)
	changes += (rec->modseq != 0 && rec->uid < folder->uidnext);
    return (changes);
}

/* vanish_note - UID is gone: extend the run in RUN, or log that run and
 * start one (UID 0: log the last run) */

static void vanish_note(STORE_INDEX *idx, INDEX_EXP *run, unsigned uid,
			        unsigned long long modseq)
{
    if (uid != 0 && run->last != 0 && uid == run->last + 1
	&& exp_span(run) < INDEX_EXPUNGE_UIDS) {
	run->last = uid;
	return;
    }
    if (run->last != 0) {
	exp_add(idx, run->first, run->last, modseq);
	cache_drop(idx, run->first, run->last);
	entry_log(idx, LOG_EXPUNGE, run->first, run->last, modseq);
    }
    run->first = run->last = uid;
}

/*
 * reconcile_apply - what the index knows made the view's: new and changed
 * messages at MODSEQ, records below UIDNEXT the view lacks expunged at
 * MODSEQ (records above it are mail the view has not seen yet).
 */
static void reconcile_apply(STORE_FOLDER *folder, STORE_INDEX *idx,
			            unsigned long long modseq)
{
    int     size = idx->nrecs + folder->count + 1;
    INDEX_REC *out = (INDEX_REC *) mymalloc(sizeof(*out) * (size_t) size);
    const INDEX_REC *rec = idx->recs;
    const INDEX_REC *end = rec ? rec + idx->nrecs : rec;
    INDEX_EXP run = {0, 0, 0};
    STORE_MSG *msg;
    int     nout = 0, changes = 0, i;

    for (i = 0; i <= folder->count; i++) {
	msg = (i < folder->count ? folder->msgs + i : 0);
	for (; rec < end && (msg == 0 || rec->uid < msg->uid); rec++) {
	    if (rec->modseq == 0)
		continue;
	    if (rec->uid >= folder->uidnext) {
		out[nout++] = *rec;
	    } else {
		vanish_note(idx, &run, rec->uid, modseq);
		changes++;
	    }
	}
	if (msg == 0)
	    break;
	if (rec < end && rec->uid == msg->uid && rec_current(rec, msg)) {
	    out[nout++] = *rec;
	} else {
	    out[nout].uid = msg->uid;
	    out[nout].bits = BITS_OF(msg->flags, msg->keywords);
	    out[nout].modseq = modseq;
	    entry_log(idx, LOG_FLAGS, msg->uid, out[nout].bits, modseq);
	    nout++;
	    changes++;
	}
	msg->modseq = out[nout - 1].modseq;
	if (rec < end && rec->uid == msg->uid)
	    rec++;
    }
    vanish_note(idx, &run, 0, modseq);
    myfree(idx->recs);
    idx->recs = out;
    idx->nrecs = nout;
    idx->recs_size = size;
    idx->ndead = 0;
    if (changes > 0 && modseq > idx->highest)
	idx->highest = modseq;
}

/* index_update_view - record what a sync found (the file made if CREATE) */

static void index_update_view(STORE_FOLDER *folder, STORE_INDEX *idx,
			              int create)
{
    unsigned long long modseq = update_begin(idx, create);

    if (idx->uidvalidity != folder->uidvalidity) {
	index_reset(idx, 0, folder->uidvalidity);
	modseq = idx->highest + 1;
    }
    reconcile_apply(folder, idx, modseq);
    update_end(folder, idx);
}

static void cache_sync(STORE_FOLDER *);
static void cache_flush(STORE_FOLDER *);
static void notify_rearm(STORE_INDEX *);

/* index_sync - after the driver's sync (the file made if CREATE) */

static void index_sync(STORE_FOLDER *folder, int create)
{
    STORE_INDEX *idx = folder->index;

    index_check(idx);
    if (idx->uidvalidity != folder->uidvalidity
	|| reconcile_count(folder, idx) > 0
	|| (idx->rewrite && idx->writable && !idx->disabled && create))
	index_update_view(folder, idx, create);
    if (idx->highest > folder->highestmodseq)
	folder->highestmodseq = idx->highest;
}

/* index_path - the file NAME of FOLDER's index */

static char *index_path(STORE_FOLDER *folder, const char *name)
{
    VSTRING *buf = vstring_alloc(100);
    const char *slash;

    if (folder->driver == &store_maildir_driver)
	vstring_sprintf(buf, "%s/%s", folder->path, name);
    else if ((slash = strrchr(folder->path, '/')) != 0)
	vstring_sprintf(buf, "%.*s/.%s.%s", (int) (slash - folder->path),
			folder->path, slash + 1, name);
    else
	vstring_sprintf(buf, ".%s.%s", folder->path, name);
    return (vstring_export(buf));
}

void    store_index_open(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = (STORE_INDEX *) mycalloc(1, sizeof(*idx));
    VSTRING *buf = vstring_alloc(100);

    idx->path = index_path(folder, INDEX_FILE);
    idx->cache_path = index_path(folder, CACHE_FILE);
    if (folder->driver == &store_maildir_driver)
	vstring_sprintf(buf, "%s/%s", folder->path, MAILDIR_UIDLIST_FILE);
    else
	vstring_strcpy(buf, folder->path);
    idx->watch_path = vstring_export(buf);
    idx->writable = !(folder->open_flags & STORE_OPEN_READONLY);
    idx->fd = -1;
    idx->notify_fd = -1;
    idx->log = vstring_alloc(INDEX_LOG_SIZE * 16);
    folder->index = idx;
    index_sync(folder, 0);
}

void    store_index_sync(STORE_FOLDER *folder)
{
    if (folder->index == 0)
	return;
    index_sync(folder, 1);
    cache_sync(folder);
    notify_rearm(folder->index);
}

void    store_index_flags(STORE_FOLDER *folder, unsigned uid)
{
    STORE_INDEX *idx = folder->index;
    unsigned long long modseq;
    STORE_MSG *msg;
    int     seq;

    if (idx == 0 || (seq = store_uid_seq(folder, uid)) == 0)
	return;
    msg = folder->msgs + seq - 1;
    modseq = update_begin(idx, 1);
    if (idx->uidvalidity == folder->uidvalidity)
	entry_change(idx, LOG_FLAGS, uid, BITS_OF(msg->flags, msg->keywords),
		     modseq);
    else
	idx->highest = modseq;			/* the next sync starts anew */
    msg->modseq = modseq;
    update_end(folder, idx);
}

void    store_index_expunged(STORE_FOLDER *folder, const unsigned *uids,
			             int count)
{
    STORE_INDEX *idx = folder->index;
    unsigned long long modseq;
    int     i, j;

    if (idx == 0 || count == 0)
	return;
    modseq = update_begin(idx, 1);
    for (i = 0; i < count && idx->uidvalidity == folder->uidvalidity; i = j) {
	for (j = i + 1; j < count && uids[j] == uids[j - 1] + 1
	     && uids[j] - uids[i] < INDEX_EXPUNGE_UIDS - 1; j++)
	     /* void */ ;
	entry_change(idx, LOG_EXPUNGE, uids[i], uids[j - 1], modseq);
    }
    if (modseq > idx->highest)
	idx->highest = modseq;
    update_end(folder, idx);
}

void    store_index_appended(STORE_FOLDER *folder, unsigned uid,
			             unsigned flags, unsigned keywords)
{
    STORE_INDEX *idx = folder->index;
    unsigned long long modseq;

    if (idx == 0)
	return;
    modseq = update_begin(idx, 1);
    if (idx->uidvalidity == folder->uidvalidity)
	entry_change(idx, LOG_FLAGS, uid, BITS_OF(flags, keywords), modseq);
    else
	idx->highest = modseq;
    update_end(folder, idx);
}

void    store_index_close(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;

    if (idx == 0)
	return;
    cache_flush(folder);
    cache_forget(idx);
    if (idx->notify_fd >= 0)
	(void) close(idx->notify_fd);
    index_close_fd(idx);
    vstring_free(idx->log);
    if (idx->recs)
	myfree(idx->recs);
    if (idx->exps)
	myfree(idx->exps);
    myfree(idx->path);
    myfree(idx->cache_path);
    myfree(idx->watch_path);
    myfree(idx);
    folder->index = 0;
}

/*
 * QRESYNC: what was expunged since a MODSEQ.
 */

static int uid_compare(const void *a, const void *b)
{
    unsigned ua = *(const unsigned *) a;
    unsigned ub = *(const unsigned *) b;

    return (ua < ub ? -1 : ua > ub);
}

int     store_expunged_since(STORE_FOLDER *folder, unsigned long long modseq,
			             unsigned **uids, int *count, int *all_known)
{
    STORE_INDEX *idx = folder->index;
    unsigned long total = 0;
    unsigned *out;
    unsigned uid;
    int     i, n = 0;

    *count = 0;
    *all_known = 0;
    if (idx == 0 || idx->uidvalidity != folder->uidvalidity) {
	*uids = (unsigned *) mymalloc(sizeof(**uids));
	return (0);
    }
    for (i = 0; i < idx->nexps; i++)
	if (idx->exps[i].modseq > modseq)
	    total += exp_span(idx->exps + i);
    out = (unsigned *) mymalloc(sizeof(*out) * (total + 1));
    for (i = 0; i < idx->nexps; i++) {
	if (idx->exps[i].modseq <= modseq)
	    continue;
	for (uid = idx->exps[i].first; /* void */ ; uid++) {
	    out[n++] = uid;
	    if (uid == idx->exps[i].last)
		break;
	}
    }
    qsort(out, (size_t) n, sizeof(*out), uid_compare);
    for (i = 0, total = 0; i < n; i++)		/* the same UID twice: once */
	if (total == 0 || out[total - 1] != out[i])
	    out[total++] = out[i];
    *uids = out;
    *count = (int) total;
    *all_known = (modseq >= idx->floor);
    return (0);
}

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

static void cache_forget(STORE_INDEX *idx)
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
    cache->blocks = (char **) grow(cache->blocks, &cache->blocks_size,
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

/* cache_drop - the values of UIDs FIRST..LAST go (they were expunged) */

static void cache_drop(STORE_INDEX *idx, unsigned first, unsigned last)
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
    put32(hdr + 20, checksum(0, hdr, 20));
    vstring_memcat(out, (char *) hdr, sizeof(hdr));
}

static int cache_header_ok(const unsigned char *hdr, unsigned uidvalidity)
{
    return (memcmp(hdr, CACHE_MAGIC, 8) == 0
	    && get32(hdr + 20) == checksum(0, hdr, 20)
	    && get32(hdr + 8) == uidvalidity);
}

static uint32_t cache_rec_check(const unsigned char *hdr, const char *name,
			          size_t name_len, const char *value, size_t len)
{
    return (checksum(checksum(checksum(0, hdr, 12), name, name_len),
		     value, len));
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
	if (rec_alive(idx, uid)
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
				|| read_at(fd, hdr, sizeof(hdr), 0) < 0
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
	if (read_at(fd, buf, len, cache->end) < 0)
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

    cache_forget(idx);
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
	cache_forget(idx);
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
	|| (cache->have_seen && same_stat(&st, &cache->seen)))
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
	if (rec_alive(idx, cache->slots[i].uid))
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
    ok = ((fd = temp_create(idx->cache_path, tmp)) >= 0);
    for (i = 0; ok && i <= n; i++) {
	if (i < n)
	    cache_rec_put(buf, cache, ents[i]);
	if (LEN(buf) >= CACHE_SLACK || i == n) {
	    ok = (write_at(fd, STR(buf), LEN(buf), off) == 0);
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
    if (write_at(fd, STR(buf), LEN(buf), cache->end) < 0 || fstat(fd, &st) < 0) {
	msg_warn("write %s: %m", idx->cache_path);
	if (ftruncate(fd, cache->end) < 0)
	    msg_warn("truncate %s: %m", idx->cache_path);
    } else {
	cache_written(cache, &st);
    }
    vstring_free(buf);
}

/*
 * cache_flush - write the values not written yet (under the index lock):
 * appended, or the file anew when it is damaged, not the one we read,
 * too big, or more than half dead.
 */
static void cache_flush(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    INDEX_CACHE *cache = idx->cache;
    struct stat st;
    int     fd;

    if (cache == 0 || !idx->writable || (cache->dirty == 0 && !cache->damaged))
	return;
    if (cache->uidvalidity != folder->uidvalidity) {
	cache_forget(idx);
	return;
    }
    (void) update_begin(idx, 1);		/* the index is made if need be */
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
    update_end(folder, idx);
}

/* cache_sync - at sync: write ours, or read what others wrote */

static void cache_sync(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;

    if (idx->cache == 0)
	return;
    if (idx->cache->uidvalidity != folder->uidvalidity)
	cache_forget(idx);
    else if (idx->writable && (idx->cache->dirty || idx->cache->damaged))
	cache_flush(folder);
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

/*
 * Notification.
 */

#define NOTIFY_DIR_EVENTS	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM \
				 | IN_DELETE | IN_ONLYDIR)
#define NOTIFY_FILE_EVENTS	(IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF \
				 | IN_DELETE_SELF | IN_DONT_FOLLOW)

/* notify_rearm - watch the file the path names now (it may be new) */

static void notify_rearm(STORE_INDEX *idx)
{
    if (idx->notify_fd >= 0
	&& inotify_add_watch(idx->notify_fd, idx->watch_path,
			     NOTIFY_FILE_EVENTS) < 0 && errno != ENOENT)
	msg_warn("inotify_add_watch %s: %m", idx->watch_path);
}

int     store_notify_fd(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    VSTRING *dir;
    int     fd, i, ok = 1;

    if (idx == 0)
	return (-1);
    if (idx->notify_fd >= 0)
	return (idx->notify_fd);
    if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
	msg_warn("inotify_init1: %m");
	return (-1);
    }
    dir = vstring_alloc(100);
    for (i = 0; ok && i < 2 && folder->driver == &store_maildir_driver; i++) {
	vstring_sprintf(dir, "%s/%s", folder->path, i ? "cur" : "new");
	if (inotify_add_watch(fd, STR(dir), NOTIFY_DIR_EVENTS) < 0) {
	    msg_warn("inotify_add_watch %s: %m", STR(dir));
	    ok = 0;
	}
    }
    if (ok && folder->driver != &store_maildir_driver
	&& inotify_add_watch(fd, idx->watch_path, NOTIFY_FILE_EVENTS) < 0) {
	msg_warn("inotify_add_watch %s: %m", idx->watch_path);
	ok = 0;
    }
    vstring_free(dir);
    if (!ok) {
	(void) close(fd);
	return (-1);
    }
    idx->notify_fd = fd;
    notify_rearm(idx);
    return (fd);
}

void    store_notify_clear(STORE_FOLDER *folder)
{
    char    buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    STORE_INDEX *idx = folder->index;

    if (idx == 0 || idx->notify_fd < 0)
	return;
    while (read(idx->notify_fd, buf, sizeof(buf)) > 0)
	 /* void */ ;
    notify_rearm(idx);
}
