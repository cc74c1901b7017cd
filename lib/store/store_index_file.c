/*
 * store_index_file.c - the index file of a folder's index (store_index.c):
 * its format, locking, reading what others wrote, and writing ours.  An
 * update (index_update_begin/end) locks the file, reads what was added
 * since, lets the caller change what the index knows (logging the
 * entries with index_entry_log), writes that, and unlocks.
 *
 * The index file, integers little-endian:
 *   header (48 bytes)	"PHINDEX3", UIDVALIDITY, record count, expunge
 *			range count, a checksum of the ranges,
 *			HIGHESTMODSEQ (64 bits), the expunge floor (64
 *			bits: every expunge after it is logged), a checksum
 *			of the records, a checksum of the header
 *   commit (24 bytes)	the file's length and HIGHESTMODSEQ (64 bits each)
 *			as of the last append, a checksum seeded with the
 *			header's, 0; rewritten in place after each append
 *   stamp (256 bytes)	the view stamp (below): the committed length it
 *			holds for (64 bits; 0: none), UIDVALIDITY, UIDNEXT,
 *			message count, the driver's data length (16 bits),
 *			0 (16 bits), the data (up to 224 bytes), a checksum
 *			seeded with the header's, 0; all zero: none;
 *			rewritten in place
 *   records, 16 bytes	UID, flag bits (stored flags | keywords << 5),
 *			MODSEQ; ascending UIDs (the layout of INDEX_REC on
 *			a little-endian host: read into the array as is)
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
 * log keeps the last 10,000 ranges (at most 4M UIDs).  The records and
 * ranges have their checksums (index_checksum_wide: fast on megabytes),
 * the rest index_checksum's.
 *
 * The view stamp says that the records below UIDNEXT are exactly the
 * folder's messages and flags while the folder on disk is as the driver's
 * data describes it (store_index.c writes it after a sync whose view
 * matched the records, the driver vouching for the data): a session that
 * finds the folder so can take its view from the records without reading
 * the folder.  It holds only while the file's committed length is the one
 * it names, so any change logged after it voids it; a new snapshot starts
 * without one.
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
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <stddef.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "store_index.h"
#include "store_index_priv.h"

#define INDEX_MAGIC		"PHINDEX3"
#define INDEX_HDR_SIZE		48
#define INDEX_COMMIT_OFF	48	/* the commit block */
#define INDEX_COMMIT_SIZE	24
#define INDEX_STAMP_OFF		72	/* the view stamp */
#define INDEX_STAMP_SIZE	256
#define INDEX_STAMP_DATA	24	/* where its driver data starts */
#define INDEX_STAMP_CHECK	(INDEX_STAMP_SIZE - 8)
#define INDEX_BODY_OFF		328	/* records, ranges, log */
#define INDEX_REC_SIZE		16	/* records and expunge ranges */

/* A record in the file is an INDEX_REC in memory (little-endian hosts) */
_Static_assert(sizeof(INDEX_REC) == INDEX_REC_SIZE
	       && offsetof(INDEX_REC, bits) == 4
	       && offsetof(INDEX_REC, modseq) == 8, "INDEX_REC layout");

#define INDEX_LOG_MIN		4096	/* log entries kept before a rewrite */
#define INDEX_MODSEQ_MAX	(1ULL << 62)
#define INDEX_FILE_MAX		(256L << 20)
#define INDEX_LOCK_WAIT_US	2000
#define INDEX_LOCK_TRIES	5000	/* 10 s */
#define INDEX_REOPEN_MAX	10

#define READ_OK			0
#define READ_EMPTY		1
#define READ_BAD		2

/*
 * Bytes, checksums, files.
 */

/* index_checksum - of LEN bytes, continuing from SEED (fast; not for
 * security) */

uint32_t index_checksum(uint32_t seed, const void *data, size_t len)
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

/* index_checksum_wide - the same purpose for long data: four lanes of
 * 8-byte words, so that a megabyte of records is checked at memory speed */

uint32_t index_checksum_wide(uint32_t seed, const void *data, size_t len)
{
    const unsigned char *cp = (const unsigned char *) data;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ seed ^ ((uint64_t) len << 32);
    uint64_t a = h ^ 1, b = h ^ 2, c = h ^ 3, d = h ^ 4;
    uint64_t w[4];

#define LANE(x, v)	((x) = ((x) ^ (v)) * 0x100000001b3ULL, (x) ^= (x) >> 31)
    for (; len >= sizeof(w); cp += sizeof(w), len -= sizeof(w)) {
	memcpy(w, cp, sizeof(w));
	LANE(a, w[0]);
	LANE(b, w[1]);
	LANE(c, w[2]);
	LANE(d, w[3]);
    }
    LANE(h, a);
    LANE(h, b);
    LANE(h, c);
    LANE(h, d);
#undef LANE
    return (index_checksum((uint32_t) h ^ (uint32_t) (h >> 32), cp, len));
}

/* index_same_stat - the same file, unchanged */

int     index_same_stat(const struct stat *a, const struct stat *b)
{
    return (a->st_dev == b->st_dev && a->st_ino == b->st_ino
	    && a->st_size == b->st_size
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
	    && a->st_ctim.tv_sec == b->st_ctim.tv_sec
	    && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec);
}

/* read_at, write_at - all of LEN bytes at OFF; 0 or -1 */

int     index_read_at(int fd, void *buf, size_t len, off_t off)
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

int     index_write_at(int fd, const void *buf, size_t len, off_t off)
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

/* index_grow - make room for NEED elements of ELEM bytes */

void *index_grow(void *ptr, int *size, int need, size_t elem)
{
    if (need <= *size)
	return (ptr);
    if (*size < 64)
	*size = 64;
    while (*size < need)
	*size *= 2;
    return (myrealloc(ptr, (size_t) *size * elem));
}

/* index_temp_create - a new file beside PATH (its name in TMP); fd or -1 */

int     index_temp_create(const char *path, VSTRING *tmp)
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

/* entry_check - the checksum of entry ENT in a file seeded SEED */

static uint32_t entry_check(uint32_t seed, const unsigned char *ent)
{
    return (index_checksum(index_checksum(seed, ent, 12), ent + 16, 8));
}

/* index_entry_log - a change of ours, for the file */

void    index_entry_log(STORE_INDEX *idx, int type, unsigned uid, unsigned arg,
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
    index_entry_apply(idx, ent[0], uid, arg, modseq);
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

/* header_check - the header HDR of a file of LEN bytes is sane: the
 * length of its snapshot, or 0 */

static size_t header_check(const unsigned char *hdr, size_t len)
{
    unsigned long long highest = get64(hdr + 24), floor = get64(hdr + 32);
    size_t  nrecs = get32(hdr + 12), nexps = get32(hdr + 16);

    if (len < INDEX_BODY_OFF || memcmp(hdr, INDEX_MAGIC, 8) != 0
	|| get32(hdr + 44) != index_checksum(0, hdr, 44)
	|| highest >= INDEX_MODSEQ_MAX || floor > highest
	|| nexps > 2 * INDEX_EXPUNGE_MAX || nrecs > len / INDEX_REC_SIZE
	|| (nrecs + nexps) * INDEX_REC_SIZE > len - INDEX_BODY_OFF)
	return (0);
    return (INDEX_BODY_OFF + (nrecs + nexps) * INDEX_REC_SIZE);
}

/* recs_check - the records (file order) of header HDR are sane */

static int recs_check(const unsigned char *hdr, const INDEX_REC *recs)
{
    size_t  nrecs = get32(hdr + 12);
    unsigned long long highest = get64(hdr + 24);
    const unsigned char *cp = (const unsigned char *) recs;
    unsigned prev = 0, uid;
    unsigned long long modseq;

    if (get32(hdr + 40) != index_checksum_wide(0, recs, nrecs * INDEX_REC_SIZE))
	return (-1);
    for (size_t i = 0; i < nrecs; i++, cp += INDEX_REC_SIZE) {
	uid = get32(cp);
	modseq = get64(cp + 8);
	if (uid <= prev || (get32(cp + 4) >> BITS_WIDTH) != 0
	    || modseq == 0 || modseq > highest)
	    return (-1);
	prev = uid;
    }
    return (0);
}

/* exps_check - the expunge ranges of header HDR, in BUF, are sane */

static int exps_check(const unsigned char *hdr, const unsigned char *buf)
{
    size_t  nexps = get32(hdr + 16);
    unsigned long long highest = get64(hdr + 24), modseq;
    unsigned long spanned = 0;
    unsigned uid, last;

    if (get32(hdr + 20) != index_checksum_wide(0, buf, nexps * INDEX_REC_SIZE))
	return (-1);
    for (size_t i = 0; i < nexps; i++, buf += INDEX_REC_SIZE) {
	uid = get32(buf);
	last = get32(buf + 4);
	modseq = get64(buf + 8);
	if (uid == 0 || last < uid || modseq == 0 || modseq > highest
	    || (spanned += (unsigned long) (last - uid) + 1) > INDEX_EXPUNGE_UIDS)
	    return (-1);
    }
    return (0);
}

/* recs_host_order - records read as the file has them, in host order */

static void recs_host_order(INDEX_REC *recs, size_t nrecs)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    for (size_t i = 0; i < nrecs; i++) {
	const unsigned char *cp = (const unsigned char *) (recs + i);
	INDEX_REC rec;

	rec.uid = get32(cp);
	rec.bits = get32(cp + 4);
	rec.modseq = get64(cp + 8);
	recs[i] = rec;
    }
#endif
}

/* commit_put - the commit block for a file of LEN bytes, in BLOCK */

static void commit_put(STORE_INDEX *idx, unsigned char *block, off_t len)
{
    put64(block, (uint64_t) len);
    put64(block + 8, idx->highest);
    put32(block + 16, index_checksum(idx->seed, block, 16));
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
    if (get32(block + 16) != index_checksum(idx->seed, block, 16)
	|| get32(block + 20) != 0 || end < snap || end > INDEX_FILE_MAX
	|| (end - snap) % INDEX_LOG_SIZE != 0
	|| *committed < highest || *committed >= INDEX_MODSEQ_MAX)
	return (-1);
    *len = (off_t) end;
    return (0);
}

/*
 * The view stamp.
 */

/* stamp_get - the stamp in BLOCK; 0 (also: all zero, none), -1 if bad */

static int stamp_get(STORE_INDEX *idx, const unsigned char *block)
{
    uint64_t at = get64(block);
    unsigned len = get16(block + 20);
    int     i;

    idx->stamp_at = 0;
    for (i = 0; i < INDEX_STAMP_SIZE && block[i] == 0; i++)
	 /* void */ ;
    if (i == INDEX_STAMP_SIZE)
	return (0);
    if (at == 0 || at > INDEX_FILE_MAX || len == 0
	|| len > INDEX_STAMP_CHECK - INDEX_STAMP_DATA
	|| get16(block + 22) != 0 || get32(block + INDEX_STAMP_CHECK + 4) != 0
	|| get32(block + INDEX_STAMP_CHECK)
	!= index_checksum(idx->seed, block, INDEX_STAMP_CHECK))
	return (-1);
    idx->stamp_at = (off_t) at;
    idx->stamp_uidvalidity = get32(block + 8);
    idx->stamp_uidnext = get32(block + 12);
    idx->stamp_count = (int) get32(block + 16);
    vstring_memcpy(idx->stamp, (const char *) block + INDEX_STAMP_DATA, len);
    return (0);
}

/* stamp_read - the stamp of the locked file; 0 or -1 */

static int stamp_read(STORE_INDEX *idx)
{
    unsigned char block[INDEX_STAMP_SIZE];

    if (index_read_at(idx->fd, block, sizeof(block), INDEX_STAMP_OFF) < 0)
	return (-1);
    return (stamp_get(idx, block));
}

/*
 * index_stamp_write - the view stamp for the file as it is (locked, its
 * entries all read, none pending): DATA and what the records hold for
 * it; 0 or -1.
 */
int     index_stamp_write(STORE_INDEX *idx, const char *data, size_t len,
			          unsigned uidnext, int count)
{
    unsigned char block[INDEX_STAMP_SIZE];
    struct stat st;

    if (!idx->locked || !idx->writable || idx->rewrite || idx->end == 0
	|| LEN(idx->log) > 0 || len == 0
	|| len > INDEX_STAMP_CHECK - INDEX_STAMP_DATA)
	return (-1);
    memset(block, 0, sizeof(block));
    put64(block, (uint64_t) idx->end);
    put32(block + 8, idx->uidvalidity);
    put32(block + 12, uidnext);
    put32(block + 16, (uint32_t) count);
    put16(block + 20, (unsigned) len);
    memcpy(block + INDEX_STAMP_DATA, data, len);
    put32(block + INDEX_STAMP_CHECK,
	  index_checksum(idx->seed, block, INDEX_STAMP_CHECK));
    if (index_write_at(idx->fd, block, sizeof(block), INDEX_STAMP_OFF) < 0
	|| fstat(idx->fd, &st) < 0) {
	msg_warn("write %s: %m", idx->path);
	return (-1);
    }
    idx->seen = st;
    return (stamp_get(idx, block));
}

/* snapshot_load - what a checked snapshot says (header HDR, the array of
 * its records, which the index takes, its ranges in EXPS), as what the
 * index knows */

static void snapshot_load(STORE_INDEX *idx, const unsigned char *hdr,
			          INDEX_REC *recs, const unsigned char *exps)
{
    int     nrecs = (int) get32(hdr + 12);
    int     nexps = (int) get32(hdr + 16);
    unsigned long long highest = get64(hdr + 24);
    int     i;

    idx->uidvalidity = get32(hdr + 8);
    if (highest > idx->highest)
	idx->highest = highest;
    if (highest > idx->file_highest)
	idx->file_highest = highest;
    idx->floor = get64(hdr + 32);
    idx->seed = get32(hdr + 44);
    idx->log_count = 0;
    if (idx->recs)
	myfree(idx->recs);
    recs_host_order(recs, nrecs);
    idx->recs = recs;
    idx->recs_size = nrecs + 1;
    idx->nrecs = nrecs;
    idx->ndead = 0;
    idx->exps = (INDEX_EXP *) index_grow(idx->exps, &idx->exps_size, nexps,
				   sizeof(*idx->exps));
    idx->exp_uids = 0;
    for (i = 0; i < nexps; i++, exps += INDEX_REC_SIZE) {
	idx->exps[i].first = get32(exps);
	idx->exps[i].last = get32(exps + 4);
	idx->exps[i].modseq = get64(exps + 8);
	idx->exp_uids += index_exp_span(idx->exps + i);
    }
    idx->nexps = nexps;
}

/* snapshot_build - what the index knows, as a file */

static void snapshot_build(STORE_INDEX *idx, VSTRING *out)
{
    unsigned char hdr[INDEX_HDR_SIZE];
    unsigned char item[INDEX_REC_SIZE];
    int     i;

    index_rec_pack(idx);
    index_exp_trim(idx, INDEX_EXPUNGE_MAX);
    vstring_reset(out);
    vstring_reserve(out, INDEX_BODY_OFF + (size_t) (idx->nrecs + idx->nexps)
		    * INDEX_REC_SIZE);
    memset(hdr, 0, sizeof(hdr));
    vstring_memcat(out, (char *) hdr, sizeof(hdr));
    vstring_memcat(out, (char *) hdr, INDEX_COMMIT_SIZE);
    for (i = 0; i < INDEX_STAMP_SIZE; i += INDEX_REC_SIZE)
	vstring_memcat(out, (char *) hdr, INDEX_REC_SIZE);	/* none */
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
    put32(hdr + 40, index_checksum_wide(0, STR(out) + INDEX_BODY_OFF,
				  (size_t) idx->nrecs * INDEX_REC_SIZE));
    put32(hdr + 20, index_checksum_wide(0, STR(out) + INDEX_BODY_OFF
				  + (size_t) idx->nrecs * INDEX_REC_SIZE,
				  (size_t) idx->nexps * INDEX_REC_SIZE));
    put32(hdr + 44, index_checksum(0, hdr, 44));
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

void    index_close_fd(STORE_INDEX *idx)
{
    if (idx->fd >= 0)
	(void) close(idx->fd);			/* releases its lock */
    idx->fd = -1;
    idx->locked = 0;
}

/* index_make_dir - DIR, and its parent (an mbox's .imap) if need be */

static int index_make_dir(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    char   *parent;
    int     ret;

    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
	return (0);
    if (errno != ENOENT || slash == 0 || slash == dir)
	return (-1);
    parent = mystrndup(dir, (size_t) (slash - dir));
    ret = ((mkdir(parent, 0700) == 0 || errno == EEXIST)
	   && (mkdir(dir, 0700) == 0 || errno == EEXIST)) ? 0 : -1;
    myfree(parent);
    return (ret);
}

/* index_open_file - the index file (made when CREATE, with the mbox index
 * directory); fd, or -1 (with errno ENOENT: there is none) */

static int index_open_file(STORE_INDEX *idx, int create)
{
    struct stat st;
    int     flags = idx->writable ? O_RDWR | (create ? O_CREAT : 0) : O_RDONLY;
    int     fd;

    fd = open(idx->path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0 && errno == ENOENT && (flags & O_CREAT) && idx->dir) {
	if (index_make_dir(idx->dir) < 0) {
	    msg_warn("cannot create %s: %m; MODSEQs are kept in memory",
		     idx->dir);
	    idx->writable = 0;
	    errno = ENOENT;
	    return (-1);
	}
	fd = open(idx->path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    }
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
int     index_lock(STORE_INDEX *idx, int type, int create)
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
	idx->end = 0;				/* read the next whole: its inode */
	idx->seen.st_size = -1;			/* may be the closed one's */
    }
    if (!idx->disabled)
	msg_warn("%s keeps being replaced", idx->path);
    return (-1);
}

void    index_unlock(STORE_INDEX *idx)
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

/*
 * index_read_all - all of the locked file (ST) as what the index knows.
 * The records go straight into the array the index keeps (a megabyte for
 * 100,000 messages, read once and not copied).
 */
static int index_read_all(STORE_INDEX *idx, const struct stat *st)
{
    unsigned char hdr[INDEX_BODY_OFF];
    size_t  len = (size_t) st->st_size;
    size_t  snap, nrecs, rest;
    unsigned long long highest;
    off_t   committed;
    INDEX_REC *recs;
    unsigned char *buf;
    int     ret = READ_BAD;

    idx->end = 0;
    if (st->st_size == 0)
	return (READ_EMPTY);
    if (st->st_size > INDEX_FILE_MAX || len < INDEX_BODY_OFF
	|| index_read_at(idx->fd, hdr, sizeof(hdr), 0) < 0
	|| (snap = header_check(hdr, len)) == 0)
	return (READ_BAD);
    nrecs = get32(hdr + 12);
    recs = (INDEX_REC *) mymalloc_big(sizeof(*recs) * (nrecs + 1));
    rest = len - INDEX_BODY_OFF - nrecs * INDEX_REC_SIZE;
    buf = (unsigned char *) mymalloc(rest + 1);
    if (index_read_at(idx->fd, recs, nrecs * INDEX_REC_SIZE, INDEX_BODY_OFF) == 0
	&& index_read_at(idx->fd, buf, rest, len - rest) == 0
	&& recs_check(hdr, recs) == 0 && exps_check(hdr, buf) == 0) {
	idx->seed = get32(hdr + 44);
	if (commit_get(idx, hdr + INDEX_COMMIT_OFF, snap, get64(hdr + 24),
		       &committed, &highest) == 0
	    && committed <= st->st_size
	    && highest >= idx->file_highest	/* else out of date */
	    && stamp_get(idx, hdr + INDEX_STAMP_OFF) == 0) {
	    snapshot_load(idx, hdr, recs, buf);
	    recs = 0;
	    idx->snap = snap;
	    idx->end = (off_t) (snap + log_replay(idx, buf + (snap - INDEX_BODY_OFF
				     - nrecs * INDEX_REC_SIZE), len - snap));
	    ret = index_read_end(idx, st, committed, highest);
	}
    }
    if (recs)
	myfree(recs);
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
	|| index_read_at(idx->fd, block, sizeof(block), INDEX_COMMIT_OFF) < 0
	|| commit_get(idx, block, idx->snap, 0, &committed, &highest) < 0
	|| committed > st->st_size || stamp_read(idx) < 0)
	return (READ_BAD);
    buf = (unsigned char *) mymalloc(len);
    if (index_read_at(idx->fd, buf, len, idx->end) < 0) {
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
    if (idx->have_seen && index_same_stat(&st, &idx->seen))
	return;
    if (idx->pending)				/* from the records as they are */
	store_index_view_make(idx->pending);
    idx->gen++;
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

void    index_check(STORE_INDEX *idx)
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
    if (idx->have_seen && index_same_stat(&st, &idx->seen))
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
    if (index_write_at(idx->fd, STR(idx->log), LEN(idx->log), idx->end) < 0
	|| index_write_at(idx->fd, block, sizeof(block), INDEX_COMMIT_OFF) < 0
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
    if ((fd = index_temp_create(idx->path, tmp)) < 0
	|| index_write_at(fd, STR(buf), LEN(buf), 0) < 0
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
	idx->stamp_at = 0;			/* a new file has none */
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

/* index_update_begin - the file locked and current (when we may write it; made
 * when CREATE); the MODSEQ of this update */

unsigned long long index_update_begin(STORE_INDEX *idx, int create)
{
    vstring_reset(idx->log);
    idx->log_entries = 0;
    if (idx->writable && index_lock(idx, F_WRLCK, create) > 0)
	index_refresh(idx);
    return (idx->highest + 1);
}

/* index_update_end - the update written and the lock released */

void    index_update_end(STORE_FOLDER *folder, STORE_INDEX *idx)
{
    idx->gen++;
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
