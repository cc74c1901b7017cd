/*
 * mailbox.h - writing one message into a Maildir or an mbox file.
 *
 * Used by local (and later by imapd APPEND).  The caller runs with the
 * mailbox owner's privileges.  The content is produced by a callback so
 * that a queue file can be streamed without holding it in memory.
 *
 * maildir_deliver: writes tmp/UNIQUE, fsyncs, links it into new/ (creating
 * the Maildir and its tmp/new/cur if missing) as UNIQUE,S=SIZE,W=VSIZE.
 * UNIQUE is "SECONDS.MmicrosPpid_count.HOST" (the Maildir spec's modern
 * form).  The
 * Maildir and its subdirectories must be owned by OWNER ((uid_t) -1: any
 * owner), and are never reached through a symbolic link that someone else
 * than root or OWNER made ("destination ... is not owned by recipient").
 *
 * mbox: mbox_open() opens or creates the file with safe_open() (a new file
 * gets mode 0600 and, unless -1, CHOWN_UID/CHOWN_GID); it must be a
 * regular file and, unless OWNER is -1, belong to OWNER ("destination ...
 * is not owned by recipient", temporary, as Postfix); mbox_lock() takes
 * a NAME.lock dot-lock (when the directory allows) and an fcntl lock;
 * mbox_append() appends "From SENDER DATE\n", the content with lines
 * beginning "From " quoted as ">From ", and an empty line, fsyncs, and on
 * any failure truncates the file back to its old size so that no half
 * message remains; mbox_unlock() releases the locks.  Callers that switch
 * identities between these steps (local) call them one by one;
 * mbox_deliver() does all of them as the caller.
 */
#ifndef MAILBOX_H
#define MAILBOX_H

#include "sys_defs.h"
#include "vstring.h"

/* MAILBOX_SOURCE - called repeatedly to emit content through WRITE_FN */
typedef int (*MAILBOX_WRITE_FN) (void *sink, const char *data, size_t len);
typedef int (*MAILBOX_SOURCE) (MAILBOX_WRITE_FN write_fn, void *sink, void *ctx);

/*
 * The content a source emits has LF line ends and ends with a newline.
 * Each function returns 0 on success, or -1 with a reason in WHY and
 * *TEMPORARY set to 1 for a temporary (4.x.x) failure, 0 for a permanent one.
 */
int	maildir_deliver(const char *maildir, uid_t owner, MAILBOX_SOURCE source,
			        void *ctx, VSTRING *why, int *temporary);

/*
 * MAILDIR_SYNC - the new/ directories of several deliveries, fsynced once
 * at the end instead of once per message (local: per delivery request,
 * e.g. ten recipients in one Maildir cost one directory fsync).  Each
 * message file is fsynced as always; its name in new/ is durable only
 * once maildir_sync_run() returned 0, so a caller must not report such a
 * delivery (queue file done mark, log) before.  maildir_deliver_later()
 * is maildir_deliver() with the directory left to SYNC (fsynced at once
 * when SYNC is full).  maildir_sync_run() fsyncs and forgets them: 0, or
 * -1 with WHY; maildir_sync_free() forgets them unsynced.
 */
#define MAILDIR_SYNC_MAX	16

typedef struct MAILDIR_SYNC {
    int     count;
    int     fds[MAILDIR_SYNC_MAX];
    dev_t   devs[MAILDIR_SYNC_MAX];
    ino_t   inos[MAILDIR_SYNC_MAX];
    unsigned uses;			/* messages left to this batch so far */
} MAILDIR_SYNC;

void	maildir_sync_init(MAILDIR_SYNC *sync);
int	maildir_deliver_later(const char *maildir, uid_t owner,
			              MAILBOX_SOURCE source, void *ctx,
			              MAILDIR_SYNC *sync, VSTRING *why,
			              int *temporary);
int	maildir_sync_run(MAILDIR_SYNC *sync, VSTRING *why);
void	maildir_sync_free(MAILDIR_SYNC *sync);

/*
 * maildir_write - the same with choices (imapd APPEND): into new/ or cur/,
 * INFO appended to the name (":2,FS" or ""), the file's time set to
 * RECEIVED (unless 0), and the final name (without "new/"/"cur/") copied to
 * NAME_OUT (unless NULL).  Names carry Dovecot's size fields:
 * UNIQUE,S=<bytes>,W=<bytes with CRLF line ends>INFO.
 */
#define MAILDIR_NEW	0
#define MAILDIR_CUR	1
int	maildir_write(const char *maildir, uid_t owner, int where,
		              const char *info, time_t received,
		              MAILBOX_SOURCE source, void *ctx, VSTRING *name_out,
		              VSTRING *why, int *temporary);
/* mbox_open - a descriptor (ST filled in), or -1 */
int	mbox_open(const char *path, uid_t owner, uid_t chown_uid, gid_t chown_gid,
		          struct stat *st, VSTRING *why, int *temporary);
int	mbox_append(int fd, const char *path, const char *sender, time_t arrival,
		            MAILBOX_SOURCE source, void *ctx,
		            VSTRING *why, int *temporary);
int	mbox_deliver(const char *path, const char *sender, time_t arrival,
		             MAILBOX_SOURCE source, void *ctx,
		             VSTRING *why, int *temporary);

/* mbox_lock/unlock - also for pop3d/imapd's mbox access */
int	mbox_lock(int fd, const char *path, VSTRING *why);
void	mbox_unlock(int fd, const char *path);

/*
 * mbox_replaced - after mbox_lock: 1 if PATH no longer names the file FD
 * is open on.  pop3d and imapd change an mbox by writing a new file and
 * renaming it over the old one (under both locks); a writer that opened
 * the old file before must then unlock, reopen and lock again, or its
 * message would go into a file nobody reads.
 */
int	mbox_replaced(int fd, const char *path);

#endif
