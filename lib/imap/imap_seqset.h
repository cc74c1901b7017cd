/*
 * imap_seqset.h - IMAP sequence sets: "1:4,7,9:*" (RFC 3501 sequence-set,
 * RFC 5182 "$" is not supported).
 *
 * imap_seqset_parse() reads TEXT into ranges; "*" stands for the largest
 * number in use, given later to the functions that need it (MAX: the
 * message count, or the largest UID; with an empty mailbox "*" is 0 for
 * sequence numbers and "the largest UID" for UIDs).  "n:m" and "m:n" are
 * the same range.  Numbers are 1..4294967295 (0 is an error).  An empty
 * set, a trailing comma, or anything else is an error.
 */
#ifndef IMAP_SEQSET_H
#define IMAP_SEQSET_H

#include "sys_defs.h"

#define IMAP_SEQ_STAR	0		/* "*" in a range */

typedef struct IMAP_SEQ_RANGE {
    unsigned lo;			/* IMAP_SEQ_STAR for "*" */
    unsigned hi;
} IMAP_SEQ_RANGE;

typedef struct IMAP_SEQSET {
    IMAP_SEQ_RANGE *ranges;
    int     count;
    int     size;
} IMAP_SEQSET;

/* imap_seqset_parse - 0, or -1 for bad syntax; then imap_seqset_free */
int	imap_seqset_parse(IMAP_SEQSET *set, const char *text);
void	imap_seqset_free(IMAP_SEQSET *set);

/* imap_seqset_contains - N is in the set, with "*" meaning MAX */
int	imap_seqset_contains(const IMAP_SEQSET *set, unsigned n, unsigned max);

/*
 * imap_seqset_uid_seqs - the sequence numbers (1..COUNT, ascending, each
 * once) of the messages whose UIDs (ascending array UIDS of COUNT) are in
 * the set, with "*" the largest UID (RFC 3501: "*" is the last message
 * even when the range is beyond it).  Returns how many were written to
 * OUT (room for COUNT).  imap_seqset_seqs - the same for a set of
 * sequence numbers; numbers above COUNT are ignored, *BAD set to 1 when
 * there was one (RFC 3501: "BAD" or "NO" for such a FETCH).
 */
int	imap_seqset_uid_seqs(const IMAP_SEQSET *set, const unsigned *uids,
			             int count, int *out);
int	imap_seqset_seqs(const IMAP_SEQSET *set, int count, int *out, int *bad);

#endif
