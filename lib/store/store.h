/*
 * store.h - mailboxes for reading and changing: what pop3d and imapd use.
 *
 * One interface, two drivers behind it (Dovecot's lib-storage in small):
 *   store_maildir.c  a Maildir folder: tmp/ new/ cur/, UIDs in Dovecot's
 *                    dovecot-uidlist (version 3), keywords in
 *                    dovecot-keywords, flags in the file names (":2,FS"),
 *                    sizes from ",S=" and ",W=" in the names when there;
 *   store_mbox.c     one mbox file: UIDs in X-IMAPbase:/X-UID: headers,
 *                    flags in Status:/X-Status:/X-Keywords:, as Dovecot and
 *                    UW-IMAP write them; changes rewrite the file into a
 *                    new one beside it that replaces it with rename(), under
 *                    the locks local delivery takes (lib/store/mailbox.h).
 * So a mailbox that Dovecot served can be served by Posthorn and back.
 *
 * A STORE_FOLDER is one session's view of one folder: the messages it
 * knows, in ascending UID order, numbered 1..count (IMAP sequence numbers,
 * POP3 message numbers).  A folder that opens from its index (a Maildir
 * that did not change since its last full sync) has the view's count,
 * UIDVALIDITY and UIDNEXT at once and makes the array of messages when
 * it is first asked for (store_msg, store_uid_seq, store_view_msgs) or
 * before anything changes the folder: callers outside the store read
 * messages only through these, never folder->msgs.  store_sync() brings the view up to date with the
 * disk: new mail gets UIDs (written where the format keeps them), messages
 * that another session expunged disappear, flag changes appear.  Nothing
 * else changes the view, so a POP3 session that never syncs keeps its
 * numbering.  view_gen changes with every sync or change that may have
 * changed the view's UIDs, flags or MODSEQs (and only then: a caller
 * that compared its copy after one value need not look again while the
 * value stays).  UIDVALIDITY and UIDs never change for a message while the
 * folder's control data (uidlist, X-IMAPbase) exists.
 *
 * Message content is read through a STORE_STREAM: the message exactly as
 * delivered, LF line ends, from its first header byte (an mbox's From_
 * line and the headers the store itself keeps - X-IMAPbase, X-IMAP, X-UID,
 * Status, X-Status, X-Keywords, Content-Length - are left out).  size is
 * that many bytes; vsize the same with CRLF line ends (POP3 LIST and
 * RFC822.SIZE), computed on first use when the format does not record it.
 *
 * Every function that can fail returns -1 (or NULL) with a reason in WHY;
 * none of them exits.  The caller runs with the mailbox owner's rights.
 */
#ifndef STORE_H
#define STORE_H

#include "sys_defs.h"
#include "vstring.h"
#include "mailbox.h"

/* Folder kinds */
#define STORE_KIND_MAILDIR	1
#define STORE_KIND_MBOX		2

/* store_open() flags */
#define STORE_OPEN_READONLY	(1<<0)	/* never write anything (EXAMINE) */
#define STORE_OPEN_CREATE	(1<<1)	/* create a missing folder */

/* store_sync() flags */
#define STORE_SYNC_CLAIM_NEW	(1<<0)	/* IMAP: new mail stops being \Recent
					 * for others (Maildir: new/ -> cur/) */

/* System flags, as IMAP names them; STORE_RECENT is never stored */
#define STORE_SEEN	(1<<0)
#define STORE_ANSWERED	(1<<1)
#define STORE_FLAGGED	(1<<2)
#define STORE_DELETED	(1<<3)
#define STORE_DRAFT	(1<<4)
#define STORE_RECENT	(1<<5)
#define STORE_FLAGS_STORED (STORE_SEEN | STORE_ANSWERED | STORE_FLAGGED | \
			    STORE_DELETED | STORE_DRAFT)

/* Dovecot's index directory in an mbox folder directory */
#define STORE_MBOX_INDEX_DIR	".imap"

/* Keywords: 26, the letters a..z of Dovecot's Maildir file names */
#define STORE_MAX_KEYWORDS	26

typedef struct STORE_MSG {
    unsigned uid;
    unsigned flags;			/* STORE_SEEN ... STORE_RECENT */
    unsigned keywords;			/* bit N: the folder's keywords[N] */
    unsigned long long modseq;		/* RFC 7162 MODSEQ (store_index.c) */
    off_t   size;			/* content bytes (LF), -1: not known yet */
    off_t   vsize;			/* with CRLF line ends, -1: not known yet */
    time_t  received;			/* INTERNALDATE, -1: not known yet */
    /* Driver data */
    char   *file;			/* Maildir: "cur/NAME:2,FS" or "new/NAME" */
    off_t   offset;			/* mbox: first byte of the From_ line */
    off_t   length;			/* mbox: bytes up to the next From_ line */
} STORE_MSG;

typedef struct STORE_FOLDER STORE_FOLDER;
typedef struct STORE_STREAM STORE_STREAM;

/* The driver interface (store.c dispatches; one instance per format) */
typedef struct STORE_DRIVER {
    const char *name;			/* "maildir", "mbox" */
    int     (*open) (STORE_FOLDER *folder, int flags, VSTRING *why);
    int     (*sync) (STORE_FOLDER *folder, int flags, VSTRING *why);
    void    (*close) (STORE_FOLDER *folder);
    STORE_STREAM *(*msg_open) (STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);
    int     (*msg_stat) (STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);
    int     (*expunge) (STORE_FOLDER *folder, const unsigned *uids, int count,
			        VSTRING *why);
    int     (*set_flags) (STORE_FOLDER *folder, STORE_MSG *msg, unsigned flags,
			          unsigned keywords, VSTRING *why);
    int     (*append) (STORE_FOLDER *folder, MAILBOX_SOURCE source, void *ctx,
		               unsigned flags, unsigned keywords, time_t received,
		               unsigned *uid, VSTRING *why);
    int     (*keywords_save) (STORE_FOLDER *folder, VSTRING *why);
    /* write what set_flags deferred in a batch (folder->batch > 0: it
     * notes the change in the view and nothing else); NULL: none */
    int     (*flush) (STORE_FOLDER *folder, VSTRING *why);
    /*
     * The view stamp (store_index.c), for opening a big folder without
     * reading it.  stamp: after a sync, 1 with DATA (at most
     * STORE_STAMP_MAX bytes) when the view is what the folder on disk
     * held, settled (every change after it alters the data), as DATA
     * describes it; else 0.  adopt: at open, instead of a sync, with the
     * view from the index (pending: the array, made from the index's
     * records when first needed, has UIDs, flags, keywords, no driver
     * data; adopt must not touch it):
     * 1 when the folder on disk is still as DATA says and the view is
     * taken as the driver's own, 0 when not, -1 on error (WHY); asked
     * again while the view is pending (store_view_unchanged), with the
     * same data.  open does not sync when the driver has these: store.c
     * does.  NULL: the driver has none.
     */
    int     (*stamp) (STORE_FOLDER *folder, VSTRING *data);
    int     (*adopt) (STORE_FOLDER *folder, const char *data, size_t len,
		              VSTRING *why);
} STORE_DRIVER;

#define STORE_STAMP_MAX		224	/* bytes of a driver's stamp data */

struct STORE_FOLDER {
    const STORE_DRIVER *driver;
    char   *path;			/* Maildir directory, or mbox file */
    char   *index_dir;			/* store_open_at()'s, or NULL */
    int     open_flags;
    int     batch;			/* store_change_begin() depth */
    int     deferred;			/* the driver may hold changes */
    unsigned uidvalidity;
    unsigned uidnext;
    STORE_MSG *msgs;			/* ascending UIDs; msgs[0] is number 1 */
    int     count;
    int     size;			/* allocated */
    char   *keywords[STORE_MAX_KEYWORDS];
    int     keyword_count;
    unsigned long long highestmodseq;	/* RFC 7162 (store_index.c) */
    struct STORE_INDEX *index;		/* modseqs, expunges, cache */
    unsigned long view_gen;		/* changes when the view may have */
    int     view_same;			/* the driver's last sync (or adopt)
					 * left UIDs and flags as they were */
    int     view_pending;		/* count known, msgs not made yet */
    void   *priv;			/* the driver's */
};

/* A message's bytes: store_read() until it returns 0 */
struct STORE_STREAM {
    ssize_t (*read) (STORE_STREAM *stream, char *buf, size_t len);
    void    (*close) (STORE_STREAM *stream);
    void   *priv;
};

/* store_open - open (and sync) a folder; NULL with WHY */
STORE_FOLDER *store_open(int kind, const char *path, int flags, VSTRING *why);

/* store_open_at - the same, with the directory for an mbox folder's
 * index files (see below; NULL: beside the file, as store_open()) */
STORE_FOLDER *store_open_at(int kind, const char *path, const char *index_dir,
			            int flags, VSTRING *why);
void	store_close(STORE_FOLDER *folder);

/* store_sync - bring the view up to date with the disk; 0 or -1 */
int	store_sync(STORE_FOLDER *folder, int flags, VSTRING *why);

/* store_msg - message number SEQ (1..count), or NULL */
STORE_MSG *store_msg(STORE_FOLDER *folder, int seq);
/* store_uid_seq - the number of the message with UID, or 0 */
int	store_uid_seq(STORE_FOLDER *folder, unsigned uid);
/* store_view_msgs - the view's array: [0] is number 1 */
STORE_MSG *store_view_msgs(STORE_FOLDER *folder);
/* store_view_counts - the view's \Recent and unseen messages, and the
 * number of the first unseen one (0: none), without making the array */
void	store_view_counts(STORE_FOLDER *folder, int *recent, int *unseen,
			          int *first_unseen);
/* store_view_unchanged - 1 while the view's array was not made and the
 * folder on disk is still what it was at open (a sync would find
 * nothing); a caller that keeps its own copy of the view may wait for a
 * 0 before it makes one (the next sync may change the view) */
int	store_view_unchanged(STORE_FOLDER *folder);

/* store_msg_sizes - fill in size and vsize (and received) if unknown; 0 or -1 */
int	store_msg_sizes(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);

/* Reading a message */
STORE_STREAM *store_msg_open(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);
ssize_t store_read(STORE_STREAM *stream, char *buf, size_t len);	/* 0: end */
void	store_msg_close(STORE_STREAM *stream);

/*
 * Changes.  store_expunge removes the messages with these UIDs for good
 * (ones already gone are no error) and drops them from the view.
 * store_set_flags replaces a message's stored flags and keywords.
 * store_append adds a message (flags, keywords, INTERNALDATE; 0: now) and
 * returns its UID; the view learns of it at the next store_sync.
 */
int	store_expunge(STORE_FOLDER *folder, const unsigned *uids, int count,
		              VSTRING *why);
int	store_set_flags(STORE_FOLDER *folder, STORE_MSG *msg, unsigned flags,
			        unsigned keywords, VSTRING *why);
int	store_append(STORE_FOLDER *folder, MAILBOX_SOURCE source, void *ctx,
		             unsigned flags, unsigned keywords, time_t received,
		             unsigned *uid, VSTRING *why);

/*
 * Batches of flag changes.  An mbox driver's store_set_flags() rewrites
 * the whole file, so setting the flags of every message one by one
 * (FETCH 1:* BODY[] marking each \Seen, STORE 1:* +FLAGS) would copy
 * the folder once per message.  Between store_change_begin() and
 * store_change_end(), store_set_flags() on an mbox only notes the change:
 * the view and the index (MODSEQ) have it at once, and
 * store_change_end() writes all of them with one rewrite.  Every other
 * call that goes to the folder on disk (store_sync, store_expunge,
 * store_append, store_keyword, store_close) writes the pending changes
 * first.  Batches nest: the outermost store_change_end() writes.  A
 * Maildir writes each change at once (a rename) either way.
 * store_change_end() returns 0, or -1 with WHY when the pending changes
 * could not be written: they are lost (the folder keeps the flags it
 * had), and the next store_sync() shows the folder's flags again.
 */
void	store_change_begin(STORE_FOLDER *folder);
int	store_change_end(STORE_FOLDER *folder, VSTRING *why);

/* store_keyword - the index of keyword NAME (case-insensitive), adding it
 * when CREATE and there is room (saved at once); -1 if none */
int	store_keyword(STORE_FOLDER *folder, const char *name, int create,
		              VSTRING *why);

/* For drivers: the view's array */
STORE_MSG *store_msg_add(STORE_FOLDER *folder);	/* at the end, zeroed */
void	store_msgs_free(STORE_FOLDER *folder);
void	store_msgs_drop(STORE_FOLDER *folder, int (*gone) (STORE_MSG *, void *),
			        void *ctx);

extern const STORE_DRIVER store_maildir_driver;
extern const STORE_DRIVER store_mbox_driver;

/*
 * CONDSTORE/QRESYNC and the cache (store_index*.c).  Every folder has a
 * small index file (Maildir: posthorn-index in the Maildir; mbox: in the
 * directory given to store_open_at(), made at the first write:
 * store_root_folder() gives Dovecot's index directory of the file,
 * .imap/NAME beside the mbox file NAME, which Dovecot's LIST and
 * store_root_list() never show, and FOLDER-DIRECTORY/.imap/INBOX for the
 * spool INBOX, as Dovecot keeps it; without one, .NAME.posthorn-index
 * beside the file, e.g. in the spool directory; what cannot be written
 * lives in memory for the session): the MODSEQ of each UID,
 * HIGHESTMODSEQ, the UIDs expunged with the MODSEQ at which they went
 * (for QRESYNC's VANISHED), and cached values that are slow to compute
 * (ENVELOPE, BODYSTRUCTURE, sizes, dates).  It is an accelerator that is
 * rebuilt when it is missing or damaged, never the source of truth for
 * messages, flags or UIDs.  MODSEQs never go backwards, even across a
 * rebuild: a rebuilt index starts above any value it could have handed
 * out before (time-based), so a client that remembered an old
 * HIGHESTMODSEQ just resynchronizes everything.
 *
 * store.c maintains it: store_sync() gives new messages and messages
 * whose flags changed (by another session, or another program) a new
 * MODSEQ and logs vanished UIDs; store_set_flags(), store_expunge() and
 * store_append() do the same for our own changes.
 */
/* store_expunged_since - UIDs (ascending, in UIDS[0..*COUNT]) expunged
 * after MODSEQ; *ALL_KNOWN = 0 when the log does not reach that far back
 * (the caller must then treat every UID not present as vanished) */
int	store_expunged_since(STORE_FOLDER *folder, unsigned long long modseq,
			             unsigned **uids, int *count, int *all_known);

/* store_cache_get - a cached value of message UID (NULL: not cached);
 * store_cache_put - remember one (written out at sync or close) */
const char *store_cache_get(STORE_FOLDER *folder, unsigned uid, const char *field);
void	store_cache_put(STORE_FOLDER *folder, unsigned uid, const char *field,
			        const char *value, size_t len);

/*
 * store_notify_fd - a descriptor that becomes readable when the folder
 * may have changed on disk (inotify on Maildir's new/ cur/ and uidlist,
 * or the mbox file), for IMAP IDLE; -1 if not available (then poll with
 * store_sync() every few seconds).  store_notify_clear() drains it.
 */
int	store_notify_fd(STORE_FOLDER *folder);
void	store_notify_clear(STORE_FOLDER *folder);

/*
 * A user's folders (store_root*.c).  Maildir: INBOX is the Maildir
 * itself, folder "A.B" is the Maildir++ directory .A.B inside it
 * (Dovecot's default layout; the hierarchy separator is "."; no parent
 * directories: "A" is listed \Noselect while only .A.B exists).  mbox:
 * INBOX is the spool file, other folders are mbox files (and
 * directories for hierarchy) under the folder directory (~/mail),
 * separator "/".  Names are kept on disk in modified UTF-7, as Dovecot
 * does.  Subscriptions are in Dovecot's file ("subscriptions" in the
 * Maildir, ".subscriptions" in the folder directory).  A new root gets
 * Drafts, Sent, Trash and Junk, subscribed, with their SPECIAL-USE
 * attributes, once (a marker file remembers it; a folder the user
 * deletes stays deleted, unlike Dovecot's "auto = subscribe").  Folder
 * names given and returned here are UTF-8, hierarchy separated by the
 * root's separator; "INBOX" (any case) is INBOX, also as the first
 * level ("inbox.x" is "INBOX.x").  A name with a trailing separator
 * given to store_root_create() asks for a folder to hold others (an
 * mbox directory).  Subscribing needs an existing folder (or mbox
 * directory); delete and rename leave subscriptions alone (as Dovecot).
 */
typedef struct STORE_ROOT STORE_ROOT;

/* LIST attributes */
#define STORE_LIST_NOSELECT	(1<<0)
#define STORE_LIST_NOINFERIORS	(1<<1)
#define STORE_LIST_CHILDREN	(1<<2)	/* \HasChildren */
#define STORE_LIST_NOCHILDREN	(1<<3)	/* \HasNoChildren */
#define STORE_LIST_SUBSCRIBED	(1<<4)
#define STORE_LIST_NONEXISTENT	(1<<5)	/* subscribed but gone */
#define STORE_LIST_DRAFTS	(1<<8)	/* RFC 6154 SPECIAL-USE */
#define STORE_LIST_SENT		(1<<9)
#define STORE_LIST_TRASH	(1<<10)
#define STORE_LIST_JUNK		(1<<11)
#define STORE_LIST_ARCHIVE	(1<<12)

typedef void (*STORE_LIST_FN) (const char *name, int attributes, void *ctx);

STORE_ROOT *store_root_open(int kind, const char *inbox, const char *folder_dir,
			            VSTRING *why);
void	store_root_close(STORE_ROOT *root);
int	store_root_separator(STORE_ROOT *root);
/* store_root_list - every folder (INBOX first) and every subscription */
int	store_root_list(STORE_ROOT *root, STORE_LIST_FN fn, void *ctx, VSTRING *why);
STORE_FOLDER *store_root_folder(STORE_ROOT *root, const char *name, int flags,
				        VSTRING *why);
int	store_root_create(STORE_ROOT *root, const char *name, VSTRING *why);
int	store_root_delete(STORE_ROOT *root, const char *name, VSTRING *why);
int	store_root_rename(STORE_ROOT *root, const char *old_name,
			          const char *new_name, VSTRING *why);
int	store_root_subscribe(STORE_ROOT *root, const char *name, int on,
			             VSTRING *why);
/* store_root_exists - 1 a folder that can be selected, 0 not, -1 an
 * invalid name (WHY) */
int	store_root_exists(STORE_ROOT *root, const char *name, VSTRING *why);

#endif
