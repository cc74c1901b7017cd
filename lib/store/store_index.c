/*
 * store_index.c - the per-folder index of store.h: RFC 7162 MODSEQs
 * (CONDSTORE, QRESYNC), the log of expunged UIDs, the cache of values
 * that are slow to compute, and change notification.  This file holds
 * what the index knows and how the view is matched against it; the index
 * file is store_index_file.c, the cache store_index_cache.c, inotify
 * store_index_notify.c (store_index_priv.h joins them).
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
 * The driver looks at the folder without the index lock, so another
 * session may change a message and log it after that look: the view is
 * then older than the record, and writing the view's flags would lose
 * that change.  So a record logged after all the index knew before the
 * sync (for store_index_open: any record) whose flags differ from the
 * view's is left as it is: the view shows the state before it (one
 * MODSEQ below the record's), and the next sync, whose look comes after
 * the record, counts the message as changed either way (the record is
 * then known before the look: the view wins if it still differs), so
 * the state the view shows next has a MODSEQ above any HIGHESTMODSEQ it
 * reported meanwhile.  What a rebuild of a damaged file keeps is no news:
 * there the view wins at once.
 *
 * When the index was damaged or lost, or UIDVALIDITY changed, it starts
 * anew above every MODSEQ handed out before (index_reset: the time in
 * microseconds), so MODSEQs never go backwards.
 *
 * Files: posthorn-index (MODSEQs and expunges) and posthorn-cache (cached
 * values).  Maildir: in the Maildir.  mbox: in the directory given to
 * store_open_at() (store_root gives Dovecot's index directory of the
 * file, .imap/NAME beside the mbox file NAME, which Dovecot's LIST never
 * shows, and FOLDER-DIRECTORY/.imap/INBOX for the spool INBOX), made
 * (with its parent) at the first write; without one, beside the mbox
 * file as .NAME.posthorn-index and .NAME.posthorn-cache (a spool file
 * opened by itself).  What cannot be written lives in memory for the
 * session.  Nothing is created by opening a folder: the index file is
 * written at the first update after that (a sync, a change, a cache
 * write).
 *
 * store_expunged_since() returns memory from mymalloc() (also when
 * *count is 0) that the caller releases with myfree().
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "maildir_uidlist.h"
#include "store_index.h"
#include "store_index_priv.h"

/* time_base - the time in microseconds: above any MODSEQ handed out */

static unsigned long long time_base(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);
    return ((unsigned long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
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

/* index_rec_alive - UID's record, unless it is not there or expunged */

int     index_rec_alive(const STORE_INDEX *idx, unsigned uid)
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
	idx->recs = (INDEX_REC *) index_grow(idx->recs, &idx->recs_size,
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

/* index_rec_pack - forget expunged records */

void    index_rec_pack(STORE_INDEX *idx)
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
	index_rec_pack(idx);
}

/* index_exp_trim - keep the newest KEEP ranges (within the UID bound); what
 * goes raises the floor */

void    index_exp_trim(STORE_INDEX *idx, int keep)
{
    int     drop = 0;

    while (drop < idx->nexps && (idx->nexps - drop > keep
				 || idx->exp_uids > INDEX_EXPUNGE_UIDS)) {
	if (idx->exps[drop].modseq > idx->floor)
	    idx->floor = idx->exps[drop].modseq;
	idx->exp_uids -= index_exp_span(idx->exps + drop);
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

    idx->exps = (INDEX_EXP *) index_grow(idx->exps, &idx->exps_size,
				   idx->nexps + 1, sizeof(*exp));
    exp = idx->exps + idx->nexps++;
    exp->first = first;
    exp->last = last;
    exp->modseq = modseq;
    idx->exp_uids += index_exp_span(exp);
    if (idx->nexps > 2 * INDEX_EXPUNGE_MAX
	|| idx->exp_uids > INDEX_EXPUNGE_UIDS)
	index_exp_trim(idx, INDEX_EXPUNGE_MAX);
}

/*
 * index_reset - start anew above every MODSEQ handed out before; KEEP:
 * with the records known (the index of the same UIDVALIDITY was damaged
 * or lost), else with none (a new UIDVALIDITY).
 */
void    index_reset(STORE_INDEX *idx, int keep, unsigned uidvalidity)
{
    unsigned long long now = time_base();

    idx->highest = (now > idx->highest ? now : idx->highest + 1);
    idx->floor = idx->highest;
    idx->rebuilt = idx->highest;		/* what it keeps is no news */
    if (!keep) {
	idx->nrecs = idx->ndead = 0;
	idx->nexps = 0;
	idx->exp_uids = 0;
	index_cache_forget(idx);
    }
    idx->uidvalidity = uidvalidity;
    idx->rewrite = 1;
    idx->gen++;
}

/*
 * Log entries: one change each.
 */

/* index_entry_apply - a change, ours or read from the file */

void    index_entry_apply(STORE_INDEX *idx, int type, unsigned uid,
			        unsigned arg, unsigned long long modseq)
{
    if (type == LOG_FLAGS) {
	rec_set(idx, uid, arg, modseq);
    } else {
	rec_drop_range(idx, uid, arg);
	exp_add(idx, uid, arg, modseq);
	index_cache_drop(idx, uid, arg);
    }
    if (modseq > idx->highest)
	idx->highest = modseq;
}

/* entry_change - a change of ours: known now, and logged for the file */

static void entry_change(STORE_INDEX *idx, int type, unsigned uid,
			         unsigned arg, unsigned long long modseq)
{
    index_entry_apply(idx, type, uid, arg, modseq);
    index_entry_log(idx, type, uid, arg, modseq);
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

/* rec_ahead - REC was logged after KNOWN (all the index knew before the
 * driver looked) with other flags than MSG: the view may be older */

static int rec_ahead(const STORE_INDEX *idx, const INDEX_REC *rec,
		             const STORE_MSG *msg, unsigned long long known)
{
    return (rec->modseq > known && rec->modseq > idx->rebuilt
	    && rec->modseq > 1
	    && rec->bits != BITS_OF(msg->flags, msg->keywords));
}

/* view_behind - MSG shows the state before REC's, until the next sync */

static void view_behind(STORE_INDEX *idx, const INDEX_REC *rec,
			        STORE_MSG *msg)
{
    if (msg->modseq < rec->modseq - 1)
	msg->modseq = rec->modseq - 1;
    idx->lag = (unsigned *) index_grow(idx->lag, &idx->lag_size,
				       idx->nlag + 1, sizeof(*idx->lag));
    idx->lag[idx->nlag++] = msg->uid;
}

/* LAG - the UIDs the view lagged at the last sync, walked with the view */

typedef struct LAG {
    const unsigned *uids;
    int     count;
    int     pos;
} LAG;

/* lag_has - UID lagged (UIDs asked in ascending order) */

static int lag_has(LAG *lag, unsigned uid)
{
    while (lag->pos < lag->count && lag->uids[lag->pos] < uid)
	lag->pos++;
    return (lag->pos < lag->count && lag->uids[lag->pos] == uid);
}

/* rec_shown - REC describes MSG, which did not lag it */

static int rec_shown(const INDEX_REC *rec, const STORE_MSG *msg, LAG *lag)
{
    return (rec_current(rec, msg) && !lag_has(lag, msg->uid));
}

/* reconcile_count - the changes a sync finds (KNOWN: what the index knew
 * before the driver looked); the unchanged messages get their MODSEQs */

static int reconcile_count(STORE_FOLDER *folder, STORE_INDEX *idx,
			           unsigned long long known, LAG lag)
{
    const INDEX_REC *rec = idx->recs;
    const INDEX_REC *end = rec ? rec + idx->nrecs : rec;
    STORE_MSG *msg;
    int     changes = 0;
    int     i;

    idx->nlag = 0;
    for (i = 0; i < folder->count; i++) {
	msg = folder->msgs + i;
	for (; rec < end && rec->uid < msg->uid; rec++)
	    changes += (rec->modseq != 0 && rec->uid < folder->uidnext);
	if (rec < end && rec->uid == msg->uid && rec_shown(rec, msg, &lag))
	    msg->modseq = rec->modseq;
	else if (rec < end && rec->uid == msg->uid
		 && rec_ahead(idx, rec, msg, known))
	    view_behind(idx, rec, msg);
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
	&& index_exp_span(run) < INDEX_EXPUNGE_UIDS) {
	run->last = uid;
	return;
    }
    if (run->last != 0) {
	exp_add(idx, run->first, run->last, modseq);
	index_cache_drop(idx, run->first, run->last);
	index_entry_log(idx, LOG_EXPUNGE, run->first, run->last, modseq);
    }
    run->first = run->last = uid;
}

/*
 * reconcile_apply - what the index knows made the view's: new and changed
 * messages at MODSEQ, records below UIDNEXT the view lacks expunged at
 * MODSEQ (records above it are mail the view has not seen yet); records
 * logged after KNOWN that the view may lag stay.
 */
static void reconcile_apply(STORE_FOLDER *folder, STORE_INDEX *idx,
			            unsigned long long modseq,
			            unsigned long long known, LAG lag)
{
    int     size = idx->nrecs + folder->count + 1;
    INDEX_REC *out = (INDEX_REC *) mymalloc(sizeof(*out) * (size_t) size);
    const INDEX_REC *rec = idx->recs;
    const INDEX_REC *end = rec ? rec + idx->nrecs : rec;
    INDEX_EXP run = {0, 0, 0};
    STORE_MSG *msg;
    int     nout = 0, changes = 0, i;

    idx->nlag = 0;
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
	if (rec < end && rec->uid == msg->uid && rec_shown(rec, msg, &lag)) {
	    out[nout++] = *rec;
	    msg->modseq = rec->modseq;
	} else if (rec < end && rec->uid == msg->uid
		   && rec_ahead(idx, rec, msg, known)) {
	    out[nout++] = *rec;
	    view_behind(idx, rec, msg);
	} else {
	    out[nout].uid = msg->uid;
	    out[nout].bits = BITS_OF(msg->flags, msg->keywords);
	    out[nout].modseq = modseq;
	    index_entry_log(idx, LOG_FLAGS, msg->uid, out[nout].bits, modseq);
	    msg->modseq = modseq;
	    nout++;
	    changes++;
	}
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

/* index_update_view - record what a sync found (the file made if CREATE;
 * KNOWN: what the index knew before the driver looked) */

static void index_update_view(STORE_FOLDER *folder, STORE_INDEX *idx,
			              int create, unsigned long long known,
			              LAG lag)
{
    unsigned long long modseq = index_update_begin(idx, create);

    if (idx->uidvalidity != folder->uidvalidity) {
	index_reset(idx, 0, folder->uidvalidity);
	modseq = idx->highest + 1;
    }
    reconcile_apply(folder, idx, modseq, known, lag);
    index_update_end(folder, idx);
}

/* sync_needless - neither the view nor what the index knows changed
 * since the last reconcile left them agreeing */

static int sync_needless(STORE_FOLDER *folder, STORE_INDEX *idx, int create)
{
    return (folder->view_same && idx->gen == idx->synced_gen
	    && idx->nlag == 0 && idx->uidvalidity == folder->uidvalidity
	    && !(idx->rewrite && idx->writable && !idx->disabled && create));
}

/*
 * index_sync - after the driver's sync (the file made if CREATE).  What
 * the index knows now it learnt before the driver looked (no index call
 * runs during a driver call).  1 if the view was matched against the
 * records, 0 if that was needless.
 */
static int index_sync(STORE_FOLDER *folder, int create)
{
    STORE_INDEX *idx = folder->index;
    unsigned long long known = idx->highest;
    LAG     lag;

    index_check(idx);
    if (sync_needless(folder, idx, create))
	return (0);
    lag.uids = idx->lag;			/* the last sync's; made anew */
    lag.count = idx->nlag;
    lag.pos = 0;
    idx->lag = 0;
    idx->nlag = idx->lag_size = 0;
    if (idx->uidvalidity != folder->uidvalidity
	|| reconcile_count(folder, idx, known, lag) > 0
	|| (idx->rewrite && idx->writable && !idx->disabled && create))
	index_update_view(folder, idx, create, known, lag);
    if (idx->highest > folder->highestmodseq)
	folder->highestmodseq = idx->highest;
    if (lag.uids)
	myfree((void *) lag.uids);
    idx->synced_gen = idx->gen;
    return (1);
}

/* index_file - FOLDER's index file NAME: in the Maildir, in the mbox
 * index directory given to store_open_at(), else beside the mbox file
 * (".FILE.NAME") */

static char *index_file(STORE_FOLDER *folder, const char *name)
{
    VSTRING *buf = vstring_alloc(100);
    const char *slash = strrchr(folder->path, '/');

    if (folder->driver == &store_maildir_driver)
	vstring_sprintf(buf, "%s/%s", folder->path, name);
    else if (folder->index_dir)
	vstring_sprintf(buf, "%s/%s", folder->index_dir, name);
    else if (slash)
	vstring_sprintf(buf, "%.*s/.%s.%s", (int) (slash - folder->path),
			folder->path, slash + 1, name);
    else
	vstring_sprintf(buf, ".%s.%s", folder->path, name);
    return (vstring_export(buf));
}

void    store_index_load(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = (STORE_INDEX *) mycalloc(1, sizeof(*idx));
    VSTRING *buf = vstring_alloc(100);

    idx->path = index_file(folder, INDEX_FILE);
    idx->cache_path = index_file(folder, CACHE_FILE);
    if (folder->driver == &store_maildir_driver) {
	vstring_sprintf(buf, "%s/%s", folder->path, MAILDIR_UIDLIST_FILE);
	idx->watch_path = vstring_export(buf);
    } else {
	vstring_free(buf);
	idx->watch_path = mystrdup(folder->path);
	if (folder->index_dir)			/* made at the first write */
	    idx->dir = mystrdup(folder->index_dir);
    }
    idx->writable = !(folder->open_flags & STORE_OPEN_READONLY);
    idx->fd = -1;
    idx->notify_fd = -1;
    idx->log = vstring_alloc(INDEX_LOG_SIZE * 16);
    idx->stamp = vstring_alloc(STORE_STAMP_MAX);
    folder->index = idx;
    index_check(idx);
}

void    store_index_open(STORE_FOLDER *folder)
{
    if (folder->index == 0)
	store_index_load(folder);
    (void) index_sync(folder, 0);
    if (folder->index->highest > folder->highestmodseq)
	folder->highestmodseq = folder->index->highest;
}

/*
 * The view stamp (store_index_file.c): the view from the records.
 */

/*
 * store_index_view - when the file has a view stamp that holds (the live
 * records below its UIDNEXT are as many as it names): the view's count,
 * UIDVALIDITY and UIDNEXT from it, its driver data in DATA, and 1.  The
 * view's array is not made yet (view_pending): store_index_view_make()
 * makes it from the records when it is first needed, or before anything
 * changes the records.  Else 0.
 */
int     store_index_view(STORE_FOLDER *folder, VSTRING *data)
{
    STORE_INDEX *idx = folder->index;
    const INDEX_REC *rec, *end;
    int     live = 0;

    if (idx == 0 || idx->disabled || idx->stamp_at == 0
	|| idx->stamp_at != idx->end
	|| idx->stamp_uidvalidity != idx->uidvalidity
	|| idx->stamp_count < 0 || idx->stamp_count > idx->nrecs)
	return (0);
    for (rec = idx->recs, end = rec + idx->nrecs; rec < end; rec++)
	live += (rec->modseq != 0 && rec->uid < idx->stamp_uidnext);
    if (live != idx->stamp_count)
	return (0);				/* not the view it names */
    store_msgs_free(folder);
    folder->count = live;
    folder->view_pending = 1;
    idx->pending = folder;
    folder->uidvalidity = idx->stamp_uidvalidity;
    folder->uidnext = idx->stamp_uidnext;
    vstring_memcpy(data, STR(idx->stamp), LEN(idx->stamp));
    idx->synced_gen = idx->gen;			/* they agree: made so */
    return (1);
}

/* store_index_view_make - the array of a pending view, from the records
 * (which nothing changed since store_index_view: index_refresh() calls
 * this before it applies what others wrote) */

void    store_index_view_make(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    const INDEX_REC *rec, *end;
    STORE_MSG *msg;
    int     count = folder->count;

    if (!folder->view_pending)
	return;
    folder->view_pending = 0;
    idx->pending = 0;
    folder->count = 0;
    folder->msgs = (STORE_MSG *) mymalloc_big(sizeof(*msg) * (size_t) (count + 1));
    folder->size = count + 1;
    for (rec = idx->recs, end = rec + idx->nrecs; rec < end; rec++) {
	if (rec->modseq == 0 || rec->uid >= folder->uidnext)
	    continue;				/* expunged, or mail after it */
	if (folder->count == count)
	    break;
	msg = store_msg_add(folder);
	msg->uid = rec->uid;
	msg->flags = rec->bits & STORE_FLAGS_STORED;
	msg->keywords = (rec->bits >> 5) & KEYWORD_MASK;
	msg->modseq = rec->modseq;
    }
    if (folder->count != count)
	msg_panic("%s: index records changed under a pending view",
		  folder->path);
}

/* store_index_view_holds - the pending view's stamp (its driver data in
 * DATA) is still the file's, and nothing was written since (one lstat) */

int     store_index_view_holds(STORE_FOLDER *folder, VSTRING *data)
{
    STORE_INDEX *idx = folder->index;
    struct stat st;

    if (!folder->view_pending || idx->disabled || idx->stamp_at != idx->end
	|| lstat(idx->path, &st) < 0 || !index_same_stat(&st, &idx->seen))
	return (0);
    vstring_memcpy(data, STR(idx->stamp), LEN(idx->stamp));
    return (1);
}

/* store_index_view_unseen - a pending view's unseen messages, and the
 * number of the first (0: none) */

void    store_index_view_unseen(const STORE_FOLDER *folder, int *unseen,
				        int *first)
{
    const STORE_INDEX *idx = folder->index;
    const INDEX_REC *rec, *end;
    int     seq = 0;

    *unseen = *first = 0;
    for (rec = idx->recs, end = rec + idx->nrecs; rec < end; rec++) {
	if (rec->modseq == 0 || rec->uid >= folder->uidnext)
	    continue;
	seq++;
	if (!(rec->bits & STORE_SEEN) && (*unseen)++ == 0)
	    *first = seq;
    }
}

/* view_is_records - the view is the live records below UIDNEXT */

static int view_is_records(const STORE_FOLDER *folder, const STORE_INDEX *idx)
{
    const INDEX_REC *rec = idx->recs;
    const INDEX_REC *end = rec ? rec + idx->nrecs : rec;
    const STORE_MSG *msg;
    int     i;

    if (idx->uidvalidity != folder->uidvalidity || idx->nlag > 0)
	return (0);
    for (i = 0; i < folder->count; i++, rec++) {
	msg = folder->msgs + i;
	while (rec < end && rec->modseq == 0)
	    rec++;
	if (rec == end || rec->uid != msg->uid
	    || rec->bits != BITS_OF(msg->flags, msg->keywords))
	    return (0);
    }
    for (; rec < end; rec++)
	if (rec->modseq != 0 && rec->uid < folder->uidnext)
	    return (0);
    return (1);
}

/* stamp_current - the file's stamp is DATA for this view already */

static int stamp_current(const STORE_FOLDER *folder, const STORE_INDEX *idx,
			         const VSTRING *data)
{
    return (idx->stamp_at != 0 && idx->stamp_at == idx->end
	    && idx->stamp_uidvalidity == folder->uidvalidity
	    && idx->stamp_uidnext == folder->uidnext
	    && idx->stamp_count == folder->count
	    && LEN(idx->stamp) == LEN(data)
	    && memcmp(STR(idx->stamp), STR(data), LEN(data)) == 0);
}

/*
 * index_stamp - after a sync: when the driver vouches for the view and it
 * is what the records say, a view stamp for the file as it is (unless it
 * has that one, or something was written since we read it).
 */
static void index_stamp(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    VSTRING *data;
    off_t   end = idx->end;

    if (folder->driver->stamp == 0 || !idx->writable || idx->disabled
	|| idx->end == 0 || idx->rewrite)
	return;
    data = vstring_alloc(STORE_STAMP_MAX);
    if (folder->driver->stamp(folder, data) == 1
	&& !stamp_current(folder, idx, data) && view_is_records(folder, idx)) {
	int     synced = (idx->synced_gen == idx->gen);
	ino_t   ino = idx->seen.st_ino;

	(void) index_update_begin(idx, 0);
	if (idx->locked && idx->end == end && !idx->rewrite)
	    (void) index_stamp_write(idx, STR(data), LEN(data),
				     folder->uidnext, folder->count);
	index_update_end(folder, idx);
	if (synced && idx->end == end && idx->seen.st_ino == ino)
	    idx->synced_gen = idx->gen;		/* the same records */
    }
    vstring_free(data);
}

int     store_index_sync(STORE_FOLDER *folder)
{
    int     matched;

    if (folder->index == 0)
	return (0);
    matched = index_sync(folder, 1);
    index_stamp(folder);
    index_cache_sync(folder);
    index_notify_rearm(folder->index);
    return (matched);
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
    modseq = index_update_begin(idx, 1);
    if (idx->uidvalidity == folder->uidvalidity)
	entry_change(idx, LOG_FLAGS, uid, BITS_OF(msg->flags, msg->keywords),
		     modseq);
    else
	idx->highest = modseq;			/* the next sync starts anew */
    msg->modseq = modseq;
    index_update_end(folder, idx);
}

void    store_index_expunged(STORE_FOLDER *folder, const unsigned *uids,
			             int count)
{
    STORE_INDEX *idx = folder->index;
    unsigned long long modseq;
    int     i, j;

    if (idx == 0 || count == 0)
	return;
    modseq = index_update_begin(idx, 1);
    for (i = 0; i < count && idx->uidvalidity == folder->uidvalidity; i = j) {
	for (j = i + 1; j < count && uids[j] == uids[j - 1] + 1
	     && uids[j] - uids[i] < INDEX_EXPUNGE_UIDS - 1; j++)
	     /* void */ ;
	entry_change(idx, LOG_EXPUNGE, uids[i], uids[j - 1], modseq);
    }
    if (modseq > idx->highest)
	idx->highest = modseq;
    index_update_end(folder, idx);
}

void    store_index_appended(STORE_FOLDER *folder, unsigned uid,
			             unsigned flags, unsigned keywords)
{
    STORE_INDEX *idx = folder->index;
    unsigned long long modseq;

    if (idx == 0)
	return;
    modseq = index_update_begin(idx, 1);
    if (idx->uidvalidity == folder->uidvalidity)
	entry_change(idx, LOG_FLAGS, uid, BITS_OF(flags, keywords), modseq);
    else
	idx->highest = modseq;
    index_update_end(folder, idx);
}

void    store_index_close(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;

    if (idx == 0)
	return;
    idx->pending = 0;				/* not needed any more */
    index_cache_flush(folder);
    index_cache_forget(idx);
    if (idx->notify_fd >= 0)
	(void) close(idx->notify_fd);
    index_close_fd(idx);
    vstring_free(idx->log);
    vstring_free(idx->stamp);
    if (idx->recs)
	myfree(idx->recs);
    if (idx->exps)
	myfree(idx->exps);
    if (idx->lag)
	myfree(idx->lag);
    if (idx->dir)
	myfree(idx->dir);
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
	    total += index_exp_span(idx->exps + i);
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
