/*
 * store_index_priv.h - what the parts of the folder index (store_index.h)
 * share: the in-memory index, the byte helpers of its files, and the
 * calls between the parts.
 *
 *   store_index.c	  what the index knows (records, expunge ranges),
 *			  the view against it (MODSEQs), where the files
 *			  live, the entry points of store_index.h, QRESYNC;
 *   store_index_file.c   the index file: its format, locking, reading,
 *			  writing, and updates (lock, refresh, write);
 *   store_index_cache.c  the cache of slow values and its file;
 *   store_index_notify.c change notification (inotify).
 */
#ifndef STORE_INDEX_PRIV_H
#define STORE_INDEX_PRIV_H

#include "sys_defs.h"
#include "vstring.h"
#include "store.h"

#define INDEX_FILE		"posthorn-index"
#define CACHE_FILE		"posthorn-cache"

#define INDEX_LOG_SIZE		24	/* a log entry in the file */
#define LOG_FLAGS		'F'	/* log entry types */
#define LOG_EXPUNGE		'X'

#define INDEX_EXPUNGE_MAX	10000	/* expunge ranges kept */
#define INDEX_EXPUNGE_UIDS	(1UL << 22)	/* UIDs they may span */

#define KEYWORD_MASK		((1U << STORE_MAX_KEYWORDS) - 1)
#define BITS_WIDTH		(5 + STORE_MAX_KEYWORDS)
#define BITS_OF(flags, keywords) \
	(((flags) & STORE_FLAGS_STORED) | (((keywords) & KEYWORD_MASK) << 5))

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

typedef struct INDEX_CACHE INDEX_CACHE;	/* store_index_cache.c */
typedef struct STORE_INDEX STORE_INDEX;

struct STORE_INDEX {
    char   *dir;			/* mbox: made for the files; or NULL */
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
    unsigned *lag;			/* UIDs whose view lags their record */
    int     nlag;			/* (ascending; since the last sync) */
    int     lag_size;
    unsigned long long rebuilt;		/* where our last rebuild started */
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
    unsigned long gen;			/* what it knows changed */
    unsigned long synced_gen;		/* ... as of the last reconcile */
    /* The view stamp, as the file had it when read last */
    off_t   stamp_at;			/* the length it holds for; 0: none */
    unsigned stamp_uidvalidity;
    unsigned stamp_uidnext;
    int     stamp_count;
    VSTRING *stamp;			/* the driver's data */
    STORE_FOLDER *pending;		/* its view made from the records
					 * later (store_index_view_make) */
    INDEX_CACHE *cache;			/* made on first use */
    int     notify_fd;			/* made on first use, or -1 */
};

/* Integers in the files: little-endian */

static inline void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
}

static inline void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

static inline void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t) v);
    put32(p + 4, (uint32_t) (v >> 32));
}

static inline unsigned get16(const unsigned char *p)
{
    return (p[0] | (unsigned) p[1] << 8);
}

static inline uint32_t get32(const unsigned char *p)
{
    return (p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
	    | (uint32_t) p[3] << 24);
}

static inline uint64_t get64(const unsigned char *p)
{
    return (get32(p) | (uint64_t) get32(p + 4) << 32);
}

/* index_exp_span - the UIDs an expunge range covers */

static inline unsigned long index_exp_span(const INDEX_EXP *exp)
{
    return ((unsigned long) (exp->last - exp->first) + 1);
}

/* Helpers (store_index_file.c) */
uint32_t index_checksum(uint32_t seed, const void *data, size_t len);
uint32_t index_checksum_wide(uint32_t seed, const void *data, size_t len);
int	index_same_stat(const struct stat *a, const struct stat *b);
int	index_read_at(int fd, void *buf, size_t len, off_t off);
int	index_write_at(int fd, const void *buf, size_t len, off_t off);
void   *index_grow(void *ptr, int *size, int need, size_t elem);
int	index_temp_create(const char *path, VSTRING *tmp);

/* What the index knows (store_index.c) */
int	index_rec_alive(const STORE_INDEX *idx, unsigned uid);
void	index_rec_pack(STORE_INDEX *idx);
void	index_exp_trim(STORE_INDEX *idx, int keep);
void	index_reset(STORE_INDEX *idx, int keep, unsigned uidvalidity);
void	index_entry_apply(STORE_INDEX *idx, int type, unsigned uid,
			          unsigned arg, unsigned long long modseq);

/* The index file (store_index_file.c) */
void	index_entry_log(STORE_INDEX *idx, int type, unsigned uid,
			        unsigned arg, unsigned long long modseq);
int	index_lock(STORE_INDEX *idx, int type, int create);
void	index_unlock(STORE_INDEX *idx);
void	index_close_fd(STORE_INDEX *idx);
void	index_check(STORE_INDEX *idx);
unsigned long long index_update_begin(STORE_INDEX *idx, int create);
int	index_stamp_write(STORE_INDEX *idx, const char *data, size_t len,
			          unsigned uidnext, int count);
void	index_update_end(STORE_FOLDER *folder, STORE_INDEX *idx);

/* The cache (store_index_cache.c) */
void	index_cache_drop(STORE_INDEX *idx, unsigned first, unsigned last);
void	index_cache_forget(STORE_INDEX *idx);
void	index_cache_sync(STORE_FOLDER *folder);
void	index_cache_flush(STORE_FOLDER *folder);

/* Notification (store_index_notify.c) */
void	index_notify_rearm(STORE_INDEX *idx);

#endif
