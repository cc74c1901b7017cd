/*
 * store.c - the folder interface of store.h: dispatch to the Maildir and
 * mbox drivers, and the parts every driver shares (the view's array of
 * messages, UID lookups, keywords).
 *
 * The folder's index (store_index.c: MODSEQs, expunges, the cache) is
 * kept up to date here, after each driver call that changed the view or
 * the folder: open and sync, our flag changes, expunges and appends.  The
 * drivers know nothing of it.
 *
 * Batches (store_change_begin/end): the depth is kept here, the driver
 * defers what it can (store_mbox.c), and its flush writes that at the
 * end of the outermost batch and before every other call that goes to
 * the folder on disk.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "store_index.h"

/*
 * A view's MODSEQs across a driver call.  The mbox driver refills its
 * array in place when messages leave the view (view_merge), and a
 * message's MODSEQ would stay behind in its old slot; so around each mbox
 * driver call that may change the view, each UID gets its MODSEQ back.
 * store_expunge() also learns from this which UIDs left the view.
 */
typedef struct VIEW_SAVE {
    unsigned *uids;			/* ascending */
    unsigned long long *modseqs;	/* NULL: MODSEQs stay put */
    int     count;
} VIEW_SAVE;

/* view_save - remember the view's UIDs (and MODSEQs, when they move) */

static void view_save(const STORE_FOLDER *folder, VIEW_SAVE *save, int uids)
{
    int     moves = (folder->driver == &store_mbox_driver);

    save->count = folder->count;
    save->uids = 0;
    save->modseqs = 0;
    if (uids || moves)
	save->uids = (unsigned *) mymalloc(sizeof(unsigned) * (save->count + 1));
    if (moves)
	save->modseqs = (unsigned long long *)
	    mymalloc(sizeof(unsigned long long) * (save->count + 1));
    for (int i = 0; save->uids && i < save->count; i++) {
	save->uids[i] = folder->msgs[i].uid;
	if (save->modseqs)
	    save->modseqs[i] = folder->msgs[i].modseq;
    }
}

/* view_restore - each UID's MODSEQ back (0 for a message new to the view) */

static void view_restore(STORE_FOLDER *folder, VIEW_SAVE *save)
{
    int     i, j = 0;

    for (i = 0; save->modseqs && i < folder->count; i++) {
	while (j < save->count && save->uids[j] < folder->msgs[i].uid)
	    j++;
	folder->msgs[i].modseq = (j < save->count
				  && save->uids[j] == folder->msgs[i].uid ?
				  save->modseqs[j] : 0);
    }
}

/* view_left - the saved UIDs no longer in the view (in place) */

static int view_left(const STORE_FOLDER *folder, VIEW_SAVE *save)
{
    int     i, j = 0, out = 0;

    for (i = 0; i < save->count; i++) {
	while (j < folder->count && folder->msgs[j].uid < save->uids[i])
	    j++;
	if (j >= folder->count || folder->msgs[j].uid != save->uids[i])
	    save->uids[out++] = save->uids[i];
    }
    return (out);
}

static void view_free(VIEW_SAVE *save)
{
    if (save->uids)
	myfree(save->uids);
    if (save->modseqs)
	myfree(save->modseqs);
}

/* folder_free - what store_open_at() made */

static void folder_free(STORE_FOLDER *folder)
{
    store_msgs_free(folder);
    for (int i = 0; i < folder->keyword_count; i++)
	myfree(folder->keywords[i]);
    if (folder->index_dir)
	myfree(folder->index_dir);
    myfree(folder->path);
    myfree(folder);
}

/* flush - write what a batch deferred; 0 or -1 with WHY */

static int flush(STORE_FOLDER *folder, VSTRING *why)
{
    VIEW_SAVE save;
    int     ret;

    if (folder->driver->flush == 0 || !folder->deferred)
	return (0);
    folder->deferred = 0;
    view_save(folder, &save, 0);
    ret = folder->driver->flush(folder, why);
    view_restore(folder, &save);
    view_free(&save);
    folder->view_gen++;
    return (ret);
}

/* flush_or_warn - flush before another call; a failure is logged (the
 * changes are lost, as store_change_end() would have said) */

static void flush_or_warn(STORE_FOLDER *folder)
{
    VSTRING *why;

    if (folder->driver->flush == 0 || !folder->deferred)
	return;
    why = vstring_alloc(100);
    if (flush(folder, why) < 0)
	msg_warn("%s: flag changes lost: %s", folder->path, STR(why));
    vstring_free(why);
}

/*
 * open_view - for a driver with a view stamp: the view from the index
 * when the folder on disk is as its stamp says, else from a driver sync;
 * 0 or -1 with WHY.
 */
static int open_view(STORE_FOLDER *folder, VSTRING *why)
{
    VSTRING *data = vstring_alloc(STORE_STAMP_MAX);
    int     ret = 0;

    store_index_load(folder);
    if (store_index_view(folder, data)
	&& folder->driver->adopt(folder, STR(data), LEN(data), why) == 1) {
	folder->view_same = 1;			/* the records' own view */
    } else {
	store_msgs_free(folder);		/* not the folder's view now */
	folder->uidvalidity = folder->uidnext = 0;
	vstring_reset(why);
	ret = folder->driver->sync(folder, 0, why);
    }
    vstring_free(data);
    return (ret);
}

STORE_FOLDER *store_open(int kind, const char *path, int flags, VSTRING *why)
{
    return (store_open_at(kind, path, (char *) 0, flags, why));
}

STORE_FOLDER *store_open_at(int kind, const char *path, const char *index_dir,
			            int flags, VSTRING *why)
{
    STORE_FOLDER *folder;

    vstring_reset(why);
    folder = (STORE_FOLDER *) mycalloc(1, sizeof(*folder));
    switch (kind) {
    case STORE_KIND_MAILDIR:
	folder->driver = &store_maildir_driver;
	break;
    case STORE_KIND_MBOX:
	folder->driver = &store_mbox_driver;
	break;
    default:
	msg_panic("store_open: bad kind %d", kind);
    }
    folder->path = mystrdup(path);
    folder->index_dir = index_dir ? mystrdup(index_dir) : 0;
    folder->open_flags = flags;
    folder->view_gen = 1;
    if (folder->driver->open(folder, flags, why) < 0) {
	folder_free(folder);
	return (0);
    }
    if (folder->driver->adopt != 0 && open_view(folder, why) < 0) {
	store_index_close(folder);
	folder->driver->close(folder);
	folder_free(folder);
	return (0);
    }
    store_index_open(folder);
    return (folder);
}

void    store_close(STORE_FOLDER *folder)
{
    flush_or_warn(folder);
    store_index_close(folder);
    folder->driver->close(folder);
    folder_free(folder);
}

/* view_make - the array of a view that came from the index */

static void view_make(STORE_FOLDER *folder)
{
    if (folder->view_pending)
	store_index_view_make(folder);
}

int     store_view_unchanged(STORE_FOLDER *folder)
{
    VSTRING *data, *why;
    int     ret;

    if (!folder->view_pending)
	return (0);
    data = vstring_alloc(STORE_STAMP_MAX);
    why = vstring_alloc(100);
    ret = (store_index_view_holds(folder, data)
	   && folder->driver->adopt(folder, STR(data), LEN(data), why) == 1);
    vstring_free(data);
    vstring_free(why);				/* a sync will say it again */
    return (ret);
}

int     store_sync(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    VIEW_SAVE save;
    int     ret;

    vstring_reset(why);
    if (store_view_unchanged(folder)) {
	folder->view_same = 1;			/* nothing to look at */
	return (0);
    }
    view_make(folder);
    flush_or_warn(folder);
    view_save(folder, &save, 0);
    folder->view_same = 0;
    ret = folder->driver->sync(folder, flags, why);
    view_restore(folder, &save);
    view_free(&save);
    if ((ret == 0 && store_index_sync(folder)) || !folder->view_same)
	folder->view_gen++;
    return (ret);
}

STORE_MSG *store_msg(STORE_FOLDER *folder, int seq)
{
    if (seq < 1 || seq > folder->count)
	return (0);
    view_make(folder);
    return (folder->msgs + seq - 1);
}

STORE_MSG *store_view_msgs(STORE_FOLDER *folder)
{
    view_make(folder);
    return (folder->msgs);
}

void    store_view_counts(STORE_FOLDER *folder, int *recent, int *unseen,
			          int *first_unseen)
{
    *recent = *unseen = *first_unseen = 0;
    if (folder->view_pending) {			/* nothing is \Recent there */
	store_index_view_unseen(folder, unseen, first_unseen);
	return;
    }
    for (int i = 0; i < folder->count; i++) {
	*recent += (folder->msgs[i].flags & STORE_RECENT) != 0;
	if (!(folder->msgs[i].flags & STORE_SEEN) && (*unseen)++ == 0)
	    *first_unseen = i + 1;
    }
}

int     store_uid_seq(STORE_FOLDER *folder, unsigned uid)
{
    int     lo = 0, hi = folder->count - 1;

    view_make(folder);

    while (lo <= hi) {
	int     mid = lo + (hi - lo) / 2;

	if (folder->msgs[mid].uid == uid)
	    return (mid + 1);
	if (folder->msgs[mid].uid < uid)
	    lo = mid + 1;
	else
	    hi = mid - 1;
    }
    return (0);
}

int     store_msg_sizes(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    if (msg->size >= 0 && msg->vsize >= 0 && msg->received >= 0)
	return (0);
    return (folder->driver->msg_stat(folder, msg, why));
}

STORE_STREAM *store_msg_open(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    return (folder->driver->msg_open(folder, msg, why));
}

ssize_t store_read(STORE_STREAM *stream, char *buf, size_t len)
{
    return (stream->read(stream, buf, len));
}

void    store_msg_close(STORE_STREAM *stream)
{
    stream->close(stream);
}

/* store_readonly - refuse a change to a read-only folder */

static int store_readonly(STORE_FOLDER *folder, VSTRING *why)
{
    if (folder->open_flags & STORE_OPEN_READONLY) {
	vstring_strcpy(why, "folder is open read-only");
	return (1);
    }
    return (0);
}

int     store_expunge(STORE_FOLDER *folder, const unsigned *uids, int count,
		              VSTRING *why)
{
    VIEW_SAVE save;
    int     ret;

    vstring_reset(why);
    view_make(folder);				/* before the index changes */
    if (store_readonly(folder, why))
	return (-1);
    if (count == 0)
	return (0);
    flush_or_warn(folder);
    view_save(folder, &save, 1);
    ret = folder->driver->expunge(folder, uids, count, why);
    view_restore(folder, &save);
    /* Whatever left the view is gone from the folder, even on failure */
    store_index_expunged(folder, save.uids, view_left(folder, &save));
    view_free(&save);
    folder->view_gen++;
    return (ret);
}

int     store_set_flags(STORE_FOLDER *folder, STORE_MSG *msg, unsigned flags,
			        unsigned keywords, VSTRING *why)
{
    unsigned uid = msg->uid;

    vstring_reset(why);
    if (store_readonly(folder, why))
	return (-1);
    flags &= STORE_FLAGS_STORED;
    VIEW_SAVE save;
    int     ret;

    if ((msg->flags & STORE_FLAGS_STORED) == flags && msg->keywords == keywords)
	return (0);
    if (folder->batch > 0 && folder->driver->flush) {
	folder->deferred = 1;			/* noted; the view stays */
	ret = folder->driver->set_flags(folder, msg, flags, keywords, why);
    } else {
	view_save(folder, &save, 0);
	ret = folder->driver->set_flags(folder, msg, flags, keywords, why);
	view_restore(folder, &save);
	view_free(&save);
    }
    if (ret == 0)
	store_index_flags(folder, uid);		/* MSG may have moved */
    folder->view_gen++;
    return (ret);
}

int     store_append(STORE_FOLDER *folder, MAILBOX_SOURCE source, void *ctx,
		             unsigned flags, unsigned keywords, time_t received,
		             unsigned *uid, VSTRING *why)
{
    vstring_reset(why);
    view_make(folder);				/* before the index changes */
    if (store_readonly(folder, why))
	return (-1);
    VIEW_SAVE save;
    int     ret;

    flags &= STORE_FLAGS_STORED;
    flush_or_warn(folder);
    view_save(folder, &save, 0);
    ret = folder->driver->append(folder, source, ctx, flags, keywords,
				 received, uid, why);
    view_restore(folder, &save);
    view_free(&save);
    if (ret == 0)
	store_index_appended(folder, *uid, flags, keywords);
    return (ret);
}

int     store_keyword(STORE_FOLDER *folder, const char *name, int create,
		              VSTRING *why)
{
    VIEW_SAVE save;
    int     i, ret;

    for (i = 0; i < folder->keyword_count; i++)
	if (strcasecmp(folder->keywords[i], name) == 0)
	    return (i);
    if (!create || folder->keyword_count >= STORE_MAX_KEYWORDS
	|| store_readonly(folder, why))
	return (-1);
    view_make(folder);
    flush_or_warn(folder);
    folder->keywords[folder->keyword_count++] = mystrdup(name);
    view_save(folder, &save, 0);
    ret = folder->driver->keywords_save(folder, why);
    view_restore(folder, &save);
    view_free(&save);
    if (ret < 0) {
	myfree(folder->keywords[--folder->keyword_count]);
	return (-1);
    }
    /* The driver may have merged keywords another session saved first */
    for (i = 0; i < folder->keyword_count; i++)
	if (strcasecmp(folder->keywords[i], name) == 0)
	    return (i);
    return (-1);
}

void    store_change_begin(STORE_FOLDER *folder)
{
    folder->batch++;
}

int     store_change_end(STORE_FOLDER *folder, VSTRING *why)
{
    vstring_reset(why);
    if (folder->batch <= 0)
	msg_panic("store_change_end: no batch");
    if (--folder->batch > 0)
	return (0);
    return (flush(folder, why));
}

STORE_MSG *store_msg_add(STORE_FOLDER *folder)
{
    STORE_MSG *msg;

    if (folder->count == folder->size) {
	folder->size = folder->size ? 2 * folder->size : 64;
	folder->msgs = (STORE_MSG *) myrealloc(folder->msgs,
					folder->size * sizeof(*folder->msgs));
    }
    msg = folder->msgs + folder->count++;
    memset(msg, 0, sizeof(*msg));
    msg->size = msg->vsize = -1;
    msg->received = -1;
    msg->offset = msg->length = -1;
    return (msg);
}

void    store_msgs_free(STORE_FOLDER *folder)
{
    folder->view_pending = 0;
    for (int i = 0; folder->msgs && i < folder->count; i++)
	if (folder->msgs[i].file)
	    myfree(folder->msgs[i].file);
    if (folder->msgs)
	myfree(folder->msgs);
    folder->msgs = 0;
    folder->count = folder->size = 0;
}

void    store_msgs_drop(STORE_FOLDER *folder, int (*gone) (STORE_MSG *, void *),
			        void *ctx)
{
    int     out = 0;

    for (int i = 0; i < folder->count; i++) {
	if (gone(folder->msgs + i, ctx)) {
	    if (folder->msgs[i].file)
		myfree(folder->msgs[i].file);
	} else {
	    folder->msgs[out++] = folder->msgs[i];
	}
    }
    folder->count = out;
}
