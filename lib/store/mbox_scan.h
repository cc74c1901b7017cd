/*
 * mbox_scan.h - the messages of an mbox file as IMAP and POP3 see them:
 * UIDs, flags and keywords from the headers c-client (UW-IMAP) and
 * Dovecot keep in the file.  Used by the mbox driver (store_mbox.c) and
 * its rewriter (mbox_write.c).
 *
 *   X-IMAPbase: UIDVALIDITY LAST-UID [KEYWORD...]	(first message only)
 *   X-IMAP: the same, in c-client's "FOLDER INTERNAL DATA" pseudo message,
 *	which is not a message
 *   X-UID: UID
 *   Status: R (\Seen) O (old: not \Recent)
 *   X-Status: A (\Answered) F (\Flagged) T (\Draft) D (\Deleted)
 *   X-Keywords: KEYWORD...	(all of them must be listed in X-IMAPbase,
 *	else the header came from a sender and counts for nothing)
 *
 * UIDs follow Dovecot's rules: with a valid X-IMAPbase, an X-UID counts
 * when it is above the previous message's UID and at most the next UID;
 * every other message (new mail, or a forged or disordered X-UID) gets
 * the next UID in file order.  Any reader of the same bytes thus gives
 * the same UIDs, with nothing written.  Without a valid X-IMAPbase (none,
 * UIDVALIDITY 0, LAST-UID of 2^31 or more) X-UIDs count for nothing and
 * messages are numbered from 1.
 *
 * mbox_scan_read() parses a file from where the scan stopped (0 for a
 * new scan) to its end, adding messages and merging X-IMAPbase's keywords
 * into the folder's list; mbox_scan_can_continue() says whether a file
 * that grew can be read that way (its old end is still a From_ boundary,
 * its last message still where it was).
 */
#ifndef MBOX_SCAN_H
#define MBOX_SCAN_H

#include "sys_defs.h"
#include "vstring.h"
#include "store.h"

#define MBOX_UID_LIMIT	0x7fffffffU	/* a bigger LAST-UID is broken */

/* One message of the file */
typedef struct MBOX_MAIL {
    unsigned uid;			/* 0: the pseudo message */
    unsigned flags;			/* STORE_SEEN...; STORE_RECENT without O */
    unsigned keywords;			/* bit N: folder->keywords[N] */
    int     content_length;		/* Content-Length ended it */
    off_t   offset, length;		/* From_ line; bytes up to the next one */
    off_t   hdr_start, hdr_end, body_start, content_end;	/* mbox_parse.h */
    off_t   size, vsize;
    time_t  received;			/* From_ date, else the file's mtime */
} MBOX_MAIL;

/* The messages of one file, and the UID state after the last one */
typedef struct MBOX_SCAN {
    MBOX_MAIL *mails;			/* in file order: ascending UIDs */
    int     count;
    int     alloc;
    int     pseudo;			/* mails[0] is a pseudo message */
    unsigned uidvalidity;		/* from X-IMAPbase/X-IMAP, 0: none */
    unsigned broken_uidvalidity;	/* from one that is not valid */
    unsigned next_uid;
    unsigned prev_uid;
    int     first_done;			/* the first message was seen */
    int     base_seen;			/* it has X-IMAPbase/X-IMAP */
    int     untagged;			/* a message got no UID from X-UID */
    int     broken;			/* ... because its X-UID is out of order */
    off_t   base_last_off;		/* LAST-UID's 10 digits in the file, -1 */
    off_t   end;			/* bytes parsed */
    struct timespec mtime;		/* the file's mtime then */
    int     stale;			/* a parse failed: read it all again */
} MBOX_SCAN;

MBOX_SCAN *mbox_scan_create(void);
void	mbox_scan_free(MBOX_SCAN *scan);

/* mbox_scan_read - parse FD from SCAN->end to ST's size; 0 or -1 with WHY */
int	mbox_scan_read(MBOX_SCAN *scan, STORE_FOLDER *folder, int fd,
		               const struct stat *st, VSTRING *why);
int	mbox_scan_can_continue(const MBOX_SCAN *scan, int fd, const struct stat *st);

/* mbox_scan_find - the message with UID; NULL */
MBOX_MAIL *mbox_scan_find(const MBOX_SCAN *scan, unsigned uid);

/* mbox_keyword_ok - a keyword name X-IMAPbase can hold (an IMAP atom) */
int	mbox_keyword_ok(const char *name, size_t len);

/* mbox_scan_needs_base - messages, but no valid X-IMAPbase */
#define mbox_scan_needs_base(scan) \
	((scan)->count > (scan)->pseudo && (scan)->uidvalidity == 0)

#endif
