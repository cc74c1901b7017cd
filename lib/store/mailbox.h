/*
 * mailbox.h - writing one message into a Maildir or an mbox file.
 *
 * Used by local (and later by imapd APPEND).  The caller runs with the
 * mailbox owner's privileges.  The content is produced by a callback so
 * that a queue file can be streamed without holding it in memory.
 *
 * maildir_deliver: writes tmp/UNIQUE, fsyncs, links it into new/ (creating
 * the Maildir and its tmp/new/cur if missing).  UNIQUE is
 * "SECONDS.MmicrosPpid_count.HOST" (the Maildir spec's modern form).  The
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

#endif
