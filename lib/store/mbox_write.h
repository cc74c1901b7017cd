/*
 * mbox_write.h - write a whole new mbox file from the scanned messages of
 * the old one, with our fields set (the mbox driver's rewrites).
 *
 * mbox_write_file() copies the old file (IN_FD, as SCAN describes it) to
 * OUT_FD: bytes before the first message as they are, then each message:
 * its From_ line, its header lines without our fields, our fields
 * (X-IMAPbase in the first message, or X-IMAP in the pseudo message;
 * X-UID, Status, X-Status, X-Keywords, and Content-Length for a message
 * that relied on it), the rest byte for byte (">From " stays), a final
 * newline when the content lacks one, and the empty separator line.  With
 * SAME (the caller's UIDs are the file's), CHANGE applies: its messages
 * are left out or get new flags and keywords (any number of them in one
 * pass), and messages the folder's
 * view knows are written "old" (Status O: no longer \Recent for others).
 * When no message is left, a pseudo message keeps UIDVALIDITY and
 * LAST-UID, as c-client and Dovecot do.  The result is flushed and
 * fsynced: 0, or -1 with WHY ("read PATH: ...", "write PATH: ...").
 */
#ifndef MBOX_WRITE_H
#define MBOX_WRITE_H

#include "sys_defs.h"
#include "vstring.h"
#include "store.h"
#include "mbox_scan.h"

/* New flags and keywords of one message */
typedef struct MBOX_FLAGS {
    unsigned uid;
    unsigned flags;			/* STORE_FLAGS_STORED bits */
    unsigned keywords;
} MBOX_FLAGS;

typedef struct MBOX_CHANGE {
    const unsigned *expunge;		/* these UIDs go (sorted) */
    int     expunge_count;
    const MBOX_FLAGS *flags;		/* these get new flags (UIDs sorted) */
    int     flags_count;
} MBOX_CHANGE;

int	mbox_write_file(int out_fd, const char *out_path, int in_fd,
			        STORE_FOLDER *folder, const MBOX_SCAN *scan,
			        const MBOX_CHANGE *change, int same,
			        unsigned uidvalidity, unsigned last, VSTRING *why);

/* mbox_change_expunges - CHANGE removes UID */
int	mbox_change_expunges(const MBOX_CHANGE *change, unsigned uid);

/* mbox_change_flags - the new flags CHANGE gives UID, or NULL */
const MBOX_FLAGS *mbox_change_flags(const MBOX_CHANGE *change, unsigned uid);

/* mbox_uid_sort - sort UIDS for MBOX_CHANGE */
void	mbox_uid_sort(unsigned *uids, int count);

/* mbox_put_base - "NAME: UIDVALIDITY LAST-UID KEYWORD...\n" (10 digits) */
void	mbox_put_base(VSTRING *buf, STORE_FOLDER *folder, const char *name,
		              unsigned uidvalidity, unsigned last);

/* mbox_put_fields - X-UID, and Status, X-Status, X-Keywords when set */
void	mbox_put_fields(VSTRING *buf, STORE_FOLDER *folder, unsigned uid,
			        unsigned flags, int old, unsigned keywords);

#endif
