/*
 * imap_seqset.c - IMAP sequence sets and UID sets (imap_seqset.h).
 *
 * A parsed range keeps "*" as IMAP_SEQ_STAR; a range with "*" has it in
 * HI, and LO <= HI otherwise ("m:n" is stored as "n:m").  Numbers have
 * no leading zeros (RFC 3501 nz-number).
 *
 * The functions that list messages resolve "*", put every range in order
 * (LO <= HI), sort them by LO and merge those that overlap or touch, then
 * walk the merged ranges and the messages side by side: O(count + ranges
 * log ranges), whatever the numbers, so "1:*" on a big mailbox and ten
 * thousand single UIDs are both cheap.  imap_seqset_seqs() sets *BAD to 0
 * first, then to 1 when a number above COUNT was asked for ("*" in an
 * empty mailbox is 0 and is not counted as such).
 */
#include "sys_defs.h"

#include "mymalloc.h"
#include "imap_seqset.h"

#define SEQ_NUMBER_MAX	4294967295UL

/* seq_number - "*" or an nz-number at *CP; 0 and moves *CP past it, or -1 */

static int seq_number(const char **cp, unsigned *value)
{
    const char *s = *cp;
    unsigned long n = 0;

    if (*s == '*') {
	*value = IMAP_SEQ_STAR;
	*cp = s + 1;
	return (0);
    }
    if (*s < '1' || *s > '9')
	return (-1);
    for (; *s >= '0' && *s <= '9'; s++) {
	n = n * 10 + (unsigned long) (*s - '0');
	if (n > SEQ_NUMBER_MAX)
	    return (-1);
    }
    *value = (unsigned) n;
    *cp = s;
    return (0);
}

/* add_range - append LO:HI in the stored form */

static void add_range(IMAP_SEQSET *set, unsigned lo, unsigned hi)
{
    IMAP_SEQ_RANGE *range;

    if (set->count == set->size) {
	set->size = set->size ? set->size * 2 : 8;
	set->ranges = myrealloc(set->ranges, set->size * sizeof(*set->ranges));
    }
    range = set->ranges + set->count++;
    if (lo == IMAP_SEQ_STAR || (hi != IMAP_SEQ_STAR && lo > hi)) {
	range->lo = hi;
	range->hi = lo;
    } else {
	range->lo = lo;
	range->hi = hi;
    }
}

int     imap_seqset_parse(IMAP_SEQSET *set, const char *text)
{
    const char *cp = text;
    unsigned lo;
    unsigned hi;

    set->ranges = 0;
    set->count = set->size = 0;
    if (text == 0)
	return (-1);
    for (;;) {
	if (seq_number(&cp, &lo) < 0)
	    return (-1);
	hi = lo;
	if (*cp == ':') {
	    cp++;
	    if (seq_number(&cp, &hi) < 0)
		return (-1);
	}
	add_range(set, lo, hi);
	if (*cp == 0)
	    return (0);
	if (*cp++ != ',')
	    return (-1);
    }
}

void    imap_seqset_free(IMAP_SEQSET *set)
{
    if (set->ranges)
	myfree(set->ranges);
    set->ranges = 0;
    set->count = set->size = 0;
}

/* resolve - RANGE with "*" as MAX, LO <= HI */

static IMAP_SEQ_RANGE resolve(const IMAP_SEQ_RANGE *range, unsigned max)
{
    IMAP_SEQ_RANGE out;
    unsigned lo = range->lo == IMAP_SEQ_STAR ? max : range->lo;
    unsigned hi = range->hi == IMAP_SEQ_STAR ? max : range->hi;

    out.lo = lo < hi ? lo : hi;
    out.hi = lo < hi ? hi : lo;
    return (out);
}

int     imap_seqset_contains(const IMAP_SEQSET *set, unsigned n, unsigned max)
{
    for (int i = 0; i < set->count; i++) {
	IMAP_SEQ_RANGE r = resolve(set->ranges + i, max);

	if (n >= r.lo && n <= r.hi)
	    return (1);
    }
    return (0);
}

static int range_cmp(const void *a, const void *b)
{
    const IMAP_SEQ_RANGE *ra = a;
    const IMAP_SEQ_RANGE *rb = b;

    return (ra->lo < rb->lo ? -1 : ra->lo > rb->lo ? 1 : 0);
}

/*
 * merged_ranges - the set's ranges with "*" as MAX, sorted and merged;
 * the caller frees the result.  *COUNT: how many.
 */
static IMAP_SEQ_RANGE *merged_ranges(const IMAP_SEQSET *set, unsigned max,
				             int *count)
{
    IMAP_SEQ_RANGE *out;
    int     n = 0;

    out = mymalloc((set->count ? set->count : 1) * sizeof(*out));
    for (int i = 0; i < set->count; i++)
	out[i] = resolve(set->ranges + i, max);
    qsort(out, set->count, sizeof(*out), range_cmp);
    for (int i = 0; i < set->count; i++) {
	if (n > 0 && (out[n - 1].hi == (unsigned) SEQ_NUMBER_MAX
		      || out[i].lo <= out[n - 1].hi + 1)) {
	    if (out[i].hi > out[n - 1].hi)
		out[n - 1].hi = out[i].hi;
	} else {
	    out[n++] = out[i];
	}
    }
    *count = n;
    return (out);
}

int     imap_seqset_uid_seqs(const IMAP_SEQSET *set, const unsigned *uids,
			             int count, int *out)
{
    IMAP_SEQ_RANGE *ranges;
    int     nranges;
    int     found = 0;
    int     i = 0;
    int     r = 0;

    if (count <= 0)
	return (0);
    ranges = merged_ranges(set, uids[count - 1], &nranges);
    while (i < count && r < nranges) {
	if (uids[i] < ranges[r].lo)
	    i++;
	else if (uids[i] > ranges[r].hi)
	    r++;
	else
	    out[found++] = ++i;
    }
    myfree(ranges);
    return (found);
}

int     imap_seqset_seqs(const IMAP_SEQSET *set, int count, int *out, int *bad)
{
    IMAP_SEQ_RANGE *ranges;
    unsigned max = count > 0 ? (unsigned) count : 0;
    int     nranges;
    int     found = 0;

    *bad = 0;
    ranges = merged_ranges(set, max, &nranges);
    for (int r = 0; r < nranges; r++) {
	unsigned lo = ranges[r].lo ? ranges[r].lo : 1;
	unsigned hi = ranges[r].hi;

	if (hi > max) {
	    *bad = 1;
	    hi = max;
	}
	for (unsigned n = lo; n <= hi; n++)
	    out[found++] = (int) n;
    }
    myfree(ranges);
    return (found);
}
