/*
 * mailbox.h - writing one message into a Maildir or an mbox file.
 *
 * Used by local (and later by imapd APPEND).  The caller runs with the
 * mailbox owner's privileges.  The content is produced by a callback so
 * that a queue file can be streamed without holding it in memory.
 *
 * maildir_deliver: writes tmp/UNIQUE, fsyncs, links it into new/ (creating
 * the Maildir and its tmp/new/cur if missing).  UNIQUE is
 * "SECONDS.MmicrosPpid_count.HOST" (the Maildir spec's modern form).
 *
 * mbox_deliver: locks the file (fcntl and a NAME.lock dot-lock), appends
 * "From SENDER DATE\n", the content with lines beginning "From " quoted as
 * ">From ", and an empty line; on any failure the file is truncated back
 * to its old size so that no half message remains.
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
int	maildir_deliver(const char *maildir, MAILBOX_SOURCE source, void *ctx,
			        VSTRING *why, int *temporary);
int	mbox_deliver(const char *path, const char *sender, time_t arrival,
		             MAILBOX_SOURCE source, void *ctx,
		             VSTRING *why, int *temporary);

/* mbox_lock/unlock - shared with pop3d/imapd for mbox access */
int	mbox_lock(int fd, const char *path, VSTRING *why);
void	mbox_unlock(int fd, const char *path);

#endif
