/*
 * mbox_scan.c - UIDs, flags and keywords of the messages of an mbox file
 * (mbox_scan.h), from what mbox_parse() finds.
 *
 * Each parsed message is turned into an MBOX_MAIL as it comes: the first
 * one's X-IMAPbase (or X-IMAP, which makes it the pseudo message) sets
 * UIDVALIDITY, the next UID and the keyword names; then every message gets
 * its flags from Status/X-Status, its keywords from X-Keywords and its UID
 * by Dovecot's rules.  The scan keeps that state, so a file that only grew
 * is read on from where the last read stopped with the same result as a
 * read from the start.
 */
#include "sys_defs.h"
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mbox_parse.h"
#include "mbox_scan.h"

#define MBOX_KEYWORD_MAX	128	/* longest keyword name taken from a file */

typedef struct SCAN_CTX {
    STORE_FOLDER *folder;
    MBOX_SCAN *scan;
    time_t  mtime;
    int     keywords_full;		/* warned: no room for more */
} SCAN_CTX;

/* read_at - pread() without EINTR */

static ssize_t read_at(int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;

    while ((n = pread(fd, buf, len, off)) < 0 && errno == EINTR)
	 /* void */ ;
    return (n);
}

/* is_space - white space inside a field value (NUL is not) */

static int is_space(int ch)
{
    return (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n');
}

/* next_word - the next word of [*CPP, END); 0 at the end */

static int next_word(const char **cpp, const char *end, const char **word,
		             size_t *len)
{
    const char *cp = *cpp;

    while (cp < end && is_space(*cp))
	cp++;
    *word = cp;
    while (cp < end && !is_space(*cp))
	cp++;
    *len = (size_t) (cp - *word);
    *cpp = cp;
    return (*len > 0);
}

/* parse_uint - the decimal number WORD/LEN; -1 if it is not one */

static long long parse_uint(const char *word, size_t len)
{
    long long val = 0;
    size_t  i;

    if (len == 0 || len > 10)
	return (-1);
    for (i = 0; i < len; i++) {
	if (word[i] < '0' || word[i] > '9')
	    return (-1);
	val = val * 10 + (word[i] - '0');
    }
    return (val > UINT32_MAX ? -1 : val);
}

/* keyword_find - the folder's index of keyword NAME/LEN; -1 */

static int keyword_find(STORE_FOLDER *folder, const char *name, size_t len)
{
    int     i;

    for (i = 0; i < folder->keyword_count; i++)
	if (strlen(folder->keywords[i]) == len
	    && strncasecmp(folder->keywords[i], name, len) == 0)
	    return (i);
    return (-1);
}

/* mbox_keyword_ok - an IMAP atom that is not a system flag */

int     mbox_keyword_ok(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > MBOX_KEYWORD_MAX || name[0] == '\\')
	return (0);
    for (i = 0; i < len; i++)
	if ((unsigned char) name[i] <= ' ' || (unsigned char) name[i] >= 0x7f
	    || strchr("(){%*\"\\]", name[i]) != 0)
	    return (0);
    return (1);
}

/* scan_keyword_names - X-IMAPbase's keywords join the folder's list */

static void scan_keyword_names(SCAN_CTX *sc, const char *cp, const char *end)
{
    STORE_FOLDER *folder = sc->folder;
    const char *word;
    size_t  len;

    while (next_word(&cp, end, &word, &len)) {
	if (!mbox_keyword_ok(word, len) || keyword_find(folder, word, len) >= 0)
	    continue;
	if (folder->keyword_count >= STORE_MAX_KEYWORDS) {
	    if (sc->keywords_full++ == 0)
		msg_warn("mailbox %s: more than %d keywords; ignoring the rest",
			 folder->path, STORE_MAX_KEYWORDS);
	    continue;
	}
	folder->keywords[folder->keyword_count++] = mystrndup(word, len);
    }
}

/* scan_base - X-IMAPbase or X-IMAP of the first message; 0 if not valid */

static int scan_base(SCAN_CTX *sc, const MBOX_PARSED *pm, int field)
{
    const VSTRING *value = pm->value[field];
    const char *cp = STR(value), *end = cp + LEN(value);
    const char *word, *last_word;
    size_t  len, last_len;
    long long uidvalidity, last;

    sc->scan->base_seen = 1;
    if (!next_word(&cp, end, &word, &len)
	|| (uidvalidity = parse_uint(word, len)) <= 0
	|| !next_word(&cp, end, &last_word, &last_len)
	|| (last = parse_uint(last_word, last_len)) < 0)
	return (0);
    if (last >= MBOX_UID_LIMIT) {
	sc->scan->broken_uidvalidity = (unsigned) uidvalidity;
	return (0);
    }
    sc->scan->uidvalidity = (unsigned) uidvalidity;
    sc->scan->next_uid = (unsigned) last + 1;
    if (last_len == 10 && LEN(value) < MBOX_VALUE_MAX)
	sc->scan->base_last_off = pm->value_offset[field]
	    + (off_t) (last_word - STR(value));
    scan_keyword_names(sc, cp, end);
    return (1);
}

/* scan_flags - Status and X-Status */

static unsigned scan_flags(const MBOX_PARSED *pm)
{
    const VSTRING *status = pm->value[MBOX_STATUS];
    const VSTRING *xstatus = pm->value[MBOX_X_STATUS];
    unsigned flags = 0;
    int     old = 0;
    size_t  i;

    for (i = 0; pm->seen[MBOX_STATUS] && i < LEN(status); i++) {
	if (STR(status)[i] == 'R')
	    flags |= STORE_SEEN;
	else if (STR(status)[i] == 'O')
	    old = 1;
    }
    for (i = 0; pm->seen[MBOX_X_STATUS] && i < LEN(xstatus); i++) {
	switch (STR(xstatus)[i]) {
	case 'A':
	    flags |= STORE_ANSWERED;
	    break;
	case 'F':
	    flags |= STORE_FLAGGED;
	    break;
	case 'T':
	    flags |= STORE_DRAFT;
	    break;
	case 'D':
	    flags |= STORE_DELETED;
	    break;
	}
    }
    return (old ? flags : flags | STORE_RECENT);
}

/* scan_keywords - X-Keywords; none if it names one the folder lacks */

static unsigned scan_keywords(STORE_FOLDER *folder, const MBOX_PARSED *pm)
{
    const VSTRING *value = pm->value[MBOX_X_KEYWORDS];
    const char *cp = STR(value), *end = cp + LEN(value), *word;
    unsigned keywords = 0;
    size_t  len;
    int     idx;

    if (pm->seen[MBOX_X_KEYWORDS] == 0 || LEN(value) >= MBOX_VALUE_MAX)
	return (0);
    while (next_word(&cp, end, &word, &len)) {
	if ((idx = keyword_find(folder, word, len)) < 0)
	    return (0);				/* from the sender: not ours */
	keywords |= 1U << idx;
    }
    return (keywords);
}

/* scan_uid - the message's UID, by Dovecot's rules */

static unsigned scan_uid(MBOX_SCAN *scan, const MBOX_PARSED *pm)
{
    const VSTRING *value = pm->value[MBOX_X_UID];
    const char *cp = STR(value), *end = cp + LEN(value), *word, *more;
    long long xuid = 0;
    unsigned uid;
    size_t  len, more_len;

    if (scan->uidvalidity && pm->seen[MBOX_X_UID]
	&& next_word(&cp, end, &word, &len) && !next_word(&cp, end, &more, &more_len))
	xuid = parse_uint(word, len);
    if (xuid > scan->prev_uid && xuid <= scan->next_uid) {
	uid = (unsigned) xuid;
	if (uid == scan->next_uid)
	    scan->next_uid++;
    } else {
	if (scan->uidvalidity && pm->seen[MBOX_X_UID])
	    scan->broken++;
	uid = scan->next_uid++;
	scan->untagged = 1;
    }
    scan->prev_uid = uid;
    return (uid);
}

/* scan_add - room for one more message */

static MBOX_MAIL *scan_add(MBOX_SCAN *scan)
{
    if (scan->count == scan->alloc) {
	scan->alloc = scan->alloc ? 2 * scan->alloc : 64;
	scan->mails = (MBOX_MAIL *) myrealloc(scan->mails,
					 scan->alloc * sizeof(*scan->mails));
    }
    memset(scan->mails + scan->count, 0, sizeof(*scan->mails));
    return (scan->mails + scan->count++);
}

/* scan_message - MBOX_PARSE_FN: one message of the file */

static void scan_message(const MBOX_PARSED *pm, void *ctx)
{
    SCAN_CTX *sc = (SCAN_CTX *) ctx;
    MBOX_SCAN *scan = sc->scan;
    MBOX_MAIL *m = scan_add(scan);

    m->offset = pm->offset;
    m->length = pm->length;
    m->hdr_start = pm->hdr_start;
    m->hdr_end = pm->hdr_end;
    m->body_start = pm->body_start;
    m->content_end = pm->content_end;
    m->content_length = pm->content_length;
    m->size = pm->size;
    m->vsize = pm->vsize;
    m->received = pm->received >= 0 ? pm->received : sc->mtime;
    if (!scan->first_done) {
	scan->first_done = 1;
	if (pm->seen[MBOX_X_IMAP] && scan_base(sc, pm, MBOX_X_IMAP)) {
	    scan->pseudo = 1;			/* c-client's folder data */
	    return;
	}
	if (pm->seen[MBOX_X_IMAPBASE])
	    (void) scan_base(sc, pm, MBOX_X_IMAPBASE);
    }
    m->flags = scan_flags(pm);
    m->keywords = scan_keywords(sc->folder, pm);
    m->uid = scan_uid(scan, pm);
}

MBOX_SCAN *mbox_scan_create(void)
{
    MBOX_SCAN *scan = (MBOX_SCAN *) mycalloc(1, sizeof(*scan));

    scan->next_uid = 1;
    scan->base_last_off = -1;
    return (scan);
}

void    mbox_scan_free(MBOX_SCAN *scan)
{
    if (scan->mails)
	myfree(scan->mails);
    myfree(scan);
}

MBOX_MAIL *mbox_scan_find(const MBOX_SCAN *scan, unsigned uid)
{
    int     lo = scan->pseudo, hi = scan->count - 1;

    while (uid != 0 && lo <= hi) {
	int     mid = lo + (hi - lo) / 2;

	if (scan->mails[mid].uid == uid)
	    return (scan->mails + mid);
	if (scan->mails[mid].uid < uid)
	    lo = mid + 1;
	else
	    hi = mid - 1;
    }
    return (0);
}

int     mbox_scan_read(MBOX_SCAN *scan, STORE_FOLDER *folder, int fd,
		               const struct stat *st, VSTRING *why)
{
    SCAN_CTX sc;
    VSTRING *reason = vstring_alloc(100);
    int     full = (scan->end == 0);
    off_t   junk, end;

    memset(&sc, 0, sizeof(sc));
    sc.folder = folder;
    sc.scan = scan;
    sc.mtime = st->st_mtime;
    end = mbox_parse(fd, scan->end, st->st_size, scan_message, &sc, &junk, reason);
    if (end < 0) {
	vstring_sprintf(why, "cannot read mailbox %s: %s", folder->path, STR(reason));
	scan->stale = 1;
	vstring_free(reason);
	return (-1);
    }
    vstring_free(reason);
    if (full && junk > 0)
	msg_warn("mailbox %s: %ld bytes before the first From_ line are not "
		 "a message", folder->path, (long) junk);
    if (full && scan->base_seen && scan->uidvalidity == 0)
	msg_warn("mailbox %s: X-IMAPbase header is not valid: messages get "
		 "new UIDs", folder->path);
    if (full && scan->broken > 0)
	msg_warn("mailbox %s: %d messages with an X-UID out of order get "
		 "new UIDs", folder->path, scan->broken);
    scan->end = end;
    scan->mtime = st->st_mtim;
    return (0);
}

int     mbox_scan_can_continue(const MBOX_SCAN *scan, int fd, const struct stat *st)
{
    const MBOX_MAIL *last;
    char    buf[8], *at_end;
    off_t   from;
    ssize_t want;

    if (scan->stale || st->st_size <= scan->end)
	return (0);
    if (scan->end == 0)
	return (1);
    if (scan->count == 0)
	return (0);
    last = scan->mails + scan->count - 1;
    if (last->content_length && last->content_end == scan->end)
	return (0);				/* its end would move */
    if (read_at(fd, buf, 5, last->offset) != 5 || memcmp(buf, "From ", 5) != 0)
	return (0);
    from = scan->end >= 3 ? scan->end - 3 : 0;
    want = (ssize_t) (scan->end + 5 - from);
    if (read_at(fd, buf, (size_t) want, from) != want)
	return (0);
    at_end = buf + (scan->end - from);
    if (memcmp(at_end, "From ", 5) != 0 || at_end[-1] != '\n')
	return (0);
    return ((scan->end - from >= 2 && at_end[-2] == '\n')
	    || (scan->end - from >= 3 && at_end[-2] == '\r' && at_end[-3] == '\n'));
}
