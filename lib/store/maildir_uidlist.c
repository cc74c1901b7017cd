/*
 * maildir_uidlist.c - Dovecot's dovecot-uidlist: parse, format, lock,
 * read and write (see maildir_uidlist.h).
 *
 * Parsing works on a private copy of the file (one block): each line is
 * cut in place, so a record's name and extension fields point into the
 * copy.  Records are sorted by UID afterwards (Dovecot writes them in
 * order; a hand-edited file may not be) and a hash table maps names to
 * records.  Nothing read from the file is trusted: numbers are range
 * checked, lines with control characters are refused, and a warning is
 * logged for the first few bad lines only, so a garbage file cannot
 * flood the log.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/random.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "iostuff.h"
#include "htable.h"
#include "maildir_uidlist.h"

#define UIDLIST_BLOCK_SIZE	65536	/* bytes per block of new names */
#define UIDLIST_MAX_WARNINGS	10	/* bad lines reported per parse */
#define UIDLIST_UID_MAX	(UINT_MAX - 1)	/* UINT_MAX: only a "next" */
#define UIDLIST_LOCK_WAIT_MS	10000	/* give up after this */
#define UIDLIST_LOCK_STALE	120	/* seconds: a dead process's */

int     maildir_uidlist_writes;

struct MAILDIR_UIDBLOCK {
    MAILDIR_UIDBLOCK *next;
    size_t  used;
    size_t  size;
    char    data[];
};

/*
 * Memory.
 */

/* uidlist_block - a new block of at least SIZE bytes, first in the list */

static MAILDIR_UIDBLOCK *uidlist_block(MAILDIR_UIDLIST *list, size_t size)
{
    MAILDIR_UIDBLOCK *block;

    block = (MAILDIR_UIDBLOCK *) mymalloc(sizeof(*block) + size);
    block->next = list->blocks;
    block->used = 0;
    block->size = size;
    list->blocks = block;
    return (block);
}

/* uidlist_strndup - a NUL-terminated copy of LEN bytes in the list's blocks */

static char *uidlist_strndup(MAILDIR_UIDLIST *list, const char *str, size_t len)
{
    MAILDIR_UIDBLOCK *block = list->blocks;
    char   *copy;

    if (block == 0 || block->size - block->used < len + 1)
	block = uidlist_block(list, len + 1 > UIDLIST_BLOCK_SIZE ?
			      len + 1 : UIDLIST_BLOCK_SIZE);
    copy = block->data + block->used;
    memcpy(copy, str, len);
    copy[len] = 0;
    block->used += len + 1;
    return (copy);
}

/* uidlist_random_guid - 128 random bits as 32 hex digits */

static void uidlist_random_guid(char *guid)
{
    unsigned char bits[16];
    size_t  i;

    if (getrandom(bits, sizeof(bits), 0) != (ssize_t) sizeof(bits)) {
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	srandom((unsigned) (ts.tv_nsec ^ ts.tv_sec ^ getpid()));
	for (i = 0; i < sizeof(bits); i++)
	    bits[i] = (unsigned char) random();
    }
    for (i = 0; i < sizeof(bits); i++)
	sprintf(guid + 2 * i, "%02x", bits[i]);
}

MAILDIR_UIDLIST *maildir_uidlist_create(unsigned uidvalidity)
{
    MAILDIR_UIDLIST *list = (MAILDIR_UIDLIST *) mycalloc(1, sizeof(*list));

    list->uidvalidity = uidvalidity;
    list->uidnext = 1;
    uidlist_random_guid(list->guid);
    list->hdr_ext = "";
    list->names = htable_create(0);
    return (list);
}

void    maildir_uidlist_free(MAILDIR_UIDLIST *list)
{
    MAILDIR_UIDBLOCK *block;

    while ((block = list->blocks) != 0) {
	list->blocks = block->next;
	myfree(block);
    }
    if (list->recs)
	myfree(list->recs);
    if (list->names)
	htable_free(list->names);
    myfree(list);
}

/* uidlist_append - a record at the end of the array (no checks) */

static void uidlist_append(MAILDIR_UIDLIST *list, unsigned uid,
			           const char *name, const char *ext)
{
    MAILDIR_UIDREC *rec;

    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 64;
	list->recs = (MAILDIR_UIDREC *) myrealloc(list->recs,
					     list->size * sizeof(*list->recs));
    }
    rec = list->recs + list->count++;
    rec->uid = uid;
    rec->name = name;
    rec->ext = ext;
    list->live++;
}

/*
 * Lookups and changes.
 */

/* uidlist_names - the table of names, made again after an unindex */

static HTABLE *uidlist_names(MAILDIR_UIDLIST *list)
{
    int     i;

    if (list->names == 0) {
	list->names = htable_create(list->live);
	for (i = 0; i < list->count; i++)
	    if (list->recs[i].name)
		htable_enter(list->names, list->recs[i].name,
			     (void *) (uintptr_t) i);
    }
    return (list->names);
}

void    maildir_uidlist_unindex(MAILDIR_UIDLIST *list)
{
    if (list->names)
	htable_free(list->names);
    list->names = 0;
}

const MAILDIR_UIDREC *maildir_uidlist_lookup(const MAILDIR_UIDLIST *list,
				              const char *name, size_t len)
{
    /* The table is a cache of the records: made here when dropped */
    HTABLE *names = uidlist_names((MAILDIR_UIDLIST *) list);
    HTABLE_INFO *info = htable_locate_len(names, name, len);

    return (info ? list->recs + (uintptr_t) info->value : 0);
}

const MAILDIR_UIDREC *maildir_uidlist_find(const MAILDIR_UIDLIST *list,
					            unsigned uid)
{
    int     lo = 0, hi = list->count;

    while (lo < hi) {
	int     mid = lo + (hi - lo) / 2;

	if (list->recs[mid].uid < uid)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return (lo < list->count && list->recs[lo].uid == uid
	    && list->recs[lo].name != 0 ? list->recs + lo : 0);
}

unsigned maildir_uidlist_add(MAILDIR_UIDLIST *list, const char *name,
			             size_t len, const char *ext)
{
    char   *copy;
    unsigned uid;

    if (list->uidnext == 0 || list->uidnext > UIDLIST_UID_MAX)
	return (0);
    uid = list->uidnext++;
    copy = uidlist_strndup(list, name, len);
    uidlist_append(list, uid, copy, ext && *ext ?
		   uidlist_strndup(list, ext, strlen(ext)) : "");
    htable_enter_len(uidlist_names(list), copy, len,
		     (void *) (uintptr_t) (list->count - 1));
    return (uid);
}

int     maildir_uidlist_drop(MAILDIR_UIDLIST *list, unsigned uid)
{
    int     lo = 0, hi = list->count - 1;

    while (lo <= hi) {
	int     mid = lo + (hi - lo) / 2;
	MAILDIR_UIDREC *rec = list->recs + mid;

	if (rec->uid == uid) {
	    if (rec->name == 0)
		return (0);
	    if (list->names)
		htable_delete(list->names, rec->name);
	    rec->name = 0;
	    list->live--;
	    return (1);
	}
	if (rec->uid < uid)
	    lo = mid + 1;
	else
	    hi = mid - 1;
    }
    return (0);
}

off_t   maildir_uidlist_ext_number(const char *ext, int key)
{
    const char *cp = ext;
    off_t   val;

    while (*cp) {
	if (*cp == key && cp[1] >= '0' && cp[1] <= '9') {
	    for (val = 0, cp++; *cp >= '0' && *cp <= '9'; cp++) {
		if (val > (LONG_MAX - 9) / 10)
		    return (-1);
		val = val * 10 + (*cp - '0');
	    }
	    return (*cp == 0 || *cp == ' ' ? val : -1);
	}
	while (*cp && *cp != ' ')
	    cp++;
	while (*cp == ' ')
	    cp++;
    }
    return (-1);
}

int     maildir_name_ok(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || name[0] == '.')
	return (0);
    for (i = 0; i < len; i++) {
	unsigned char ch = name[i];

	if (ch <= ' ' || ch == 0x7f || ch == '/')
	    return (0);
    }
    return (1);
}

/*
 * Parsing.
 */

typedef struct UIDLIST_PARSE {
    MAILDIR_UIDLIST *list;
    const char *origin;
    int     version;
    int     lineno;
    int     warnings;
} UIDLIST_PARSE;

/* parse_bad - warn about a bad line (the first few of them) */

static void PRINTFLIKE(2, 3) parse_bad(UIDLIST_PARSE *state,
				               const char *fmt,...)
{
    VSTRING *text;
    va_list ap;

    if (++state->warnings > UIDLIST_MAX_WARNINGS)
	return;
    text = vstring_alloc(100);
    if (state->lineno > 0)
	vstring_sprintf(text, "line %d: ", state->lineno);
    else
	vstring_reset(text);
    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    msg_warn("%s: %s%s", state->origin, STR(text),
	     state->warnings == UIDLIST_MAX_WARNINGS ?
	     " (no more warnings for this file)" : "");
    vstring_free(text);
}

/* parse_uint - the number at CP into *VAL; the end of the digits, or NULL */

static const char *parse_uint(const char *cp, unsigned *val)
{
    unsigned long long n = 0;

    if (*cp < '0' || *cp > '9')
	return (0);
    for (; *cp >= '0' && *cp <= '9'; cp++) {
	n = n * 10 + (unsigned) (*cp - '0');
	if (n > UINT_MAX)
	    return (0);
    }
    *val = (unsigned) n;
    return (cp);
}

/* line_printable - no control characters in LEN bytes at CP */

static int line_printable(const char *cp, size_t len)
{
    while (len-- > 0) {
	unsigned char ch = *cp++;

	if (ch < ' ' || ch == 0x7f)
	    return (0);
    }
    return (1);
}

/* parse_guid - 32 hex digits into GUID (lower case); 1, or 0 if bad */

static int parse_guid(const char *cp, size_t len, char *guid)
{
    size_t  i;

    if (len != 32 || strspn(cp, "0123456789abcdefABCDEF") < 32)
	return (0);
    for (i = 0; i < 32; i++)
	guid[i] = (char) tolower((unsigned char) cp[i]);
    guid[32] = 0;
    return (1);
}

/*
 * parse_header_v3 - the fields after "3 ": V (required), N, G; other
 * fields are kept for the rewrite.  0, or -1 with WHY.
 */
static int parse_header_v3(UIDLIST_PARSE *state, const char *cp, VSTRING *why)
{
    MAILDIR_UIDLIST *list = state->list;
    VSTRING *other = vstring_alloc(10);
    const char *field, *end;
    unsigned val;
    int     have_next = 0;

    list->guid[0] = 0;
    for (;;) {
	while (*cp == ' ')
	    cp++;
	if (*cp == 0)
	    break;
	for (field = cp; *cp && *cp != ' '; cp++)
	     /* void */ ;
	end = cp;
	if (*field == 'V') {
	    if (parse_uint(field + 1, &val) == end && val != 0)
		list->uidvalidity = val;
	} else if (*field == 'N') {
	    if (parse_uint(field + 1, &val) == end && val != 0) {
		list->uidnext = val;
		have_next = 1;
	    } else
		parse_bad(state, "bad next UID field \"%.*s\"",
			  (int) (end - field > 20 ? 20 : end - field), field);
	} else if (*field == 'G') {
	    if (!parse_guid(field + 1, (size_t) (end - field - 1), list->guid))
		parse_bad(state, "bad GUID field; making a new GUID");
	} else {
	    if (LEN(other) > 0)
		vstring_addch(other, ' ');
	    vstring_memcat(other, field, (size_t) (end - field));
	}
    }
    if (list->uidvalidity == 0) {
	vstring_strcpy(why, "no valid UIDVALIDITY in the header");
	vstring_free(other);
	return (-1);
    }
    if (!have_next)
	list->uidnext = 1;
    if (list->guid[0] == 0)
	uidlist_random_guid(list->guid);
    list->hdr_ext = LEN(other) ?
	uidlist_strndup(list, STR(other), LEN(other)) : "";
    vstring_free(other);
    return (0);
}

/* parse_header_v1 - "<uidvalidity> <nextuid>" after "1 "; 0 or -1 */

static int parse_header_v1(UIDLIST_PARSE *state, const char *cp, VSTRING *why)
{
    MAILDIR_UIDLIST *list = state->list;

    if ((cp = parse_uint(cp, &list->uidvalidity)) == 0 || *cp != ' '
	|| list->uidvalidity == 0) {
	vstring_strcpy(why, "no valid UIDVALIDITY in the header");
	return (-1);
    }
    while (*cp == ' ')
	cp++;
    if ((cp = parse_uint(cp, &list->uidnext)) == 0 || list->uidnext == 0) {
	parse_bad(state, "bad next UID");
	list->uidnext = 1;
    }
    uidlist_random_guid(list->guid);
    list->hdr_ext = "";
    return (0);
}

/* parse_header - the version, then the rest; 0, or -1 with WHY */

static int parse_header(UIDLIST_PARSE *state, const char *line, VSTRING *why)
{
    unsigned version;
    const char *cp;

    if (!line_printable(line, strlen(line))
	|| (cp = parse_uint(line, &version)) == 0 || *cp != ' ') {
	vstring_strcpy(why, "bad header line");
	return (-1);
    }
    state->version = (int) version;
    switch (version) {
    case 3:
	return (parse_header_v3(state, cp + 1, why));
    case 1:
	return (parse_header_v1(state, cp + 1, why));
    default:
	vstring_sprintf(why, "unsupported version %u", version);
	return (-1);
    }
}

/* parse_name - cut NAME at its info part, check it; NULL if bad */

static char *parse_name(UIDLIST_PARSE *state, char *name)
{
    size_t  len = strcspn(name, ":");

    if (!maildir_name_ok(name, len)) {
	parse_bad(state, "bad file name");
	return (0);
    }
    name[len] = 0;
    return (name);
}

/*
 * parse_record - "<uid> [fields] :<name>" (version 3) or "<uid> <name>"
 * (version 1), cut in place; a bad line is skipped with a warning.
 */
static void parse_record(UIDLIST_PARSE *state, char *line)
{
    char   *cp, *name, *ext = 0, *ext_end = 0;
    unsigned uid;

    if (!line_printable(line, strlen(line))) {
	parse_bad(state, "control characters");
	return;
    }
    if ((cp = (char *) parse_uint(line, &uid)) == 0 || uid == 0
	|| uid > UIDLIST_UID_MAX || *cp != ' ') {
	parse_bad(state, "bad UID");
	return;
    }
    for (;;) {
	while (*cp == ' ')
	    cp++;
	if (state->version == 1 || *cp == ':')
	    break;
	if (*cp == 0) {
	    parse_bad(state, "no file name");
	    return;
	}
	if (ext == 0)
	    ext = cp;
	while (*cp && *cp != ' ')
	    cp++;
	ext_end = cp;
    }
    name = state->version == 1 ? cp : cp + 1;
    if ((name = parse_name(state, name)) == 0)
	return;
    if (ext)
	*ext_end = 0;			/* a space before the ':' */
    uidlist_append(state->list, uid, name, ext ? ext : "");
}

/* rec_compare - by UID, then by position in the file */

static int rec_compare(const void *a, const void *b)
{
    const MAILDIR_UIDREC *ra = (const MAILDIR_UIDREC *) a;
    const MAILDIR_UIDREC *rb = (const MAILDIR_UIDREC *) b;

    if (ra->uid != rb->uid)
	return (ra->uid < rb->uid ? -1 : 1);
    return ((uintptr_t) ra->name < (uintptr_t) rb->name ? -1 :
	    (uintptr_t) ra->name > (uintptr_t) rb->name);
}

/*
 * parse_finish - sort by UID, drop duplicate UIDs and names (the first in
 * UID order stays), index the names, and keep the next UID above every
 * UID of the file.
 */
static void parse_finish(UIDLIST_PARSE *state)
{
    MAILDIR_UIDLIST *list = state->list;
    unsigned highest = 0;
    int     i, out = 0;

    state->lineno = 0;
    for (i = 1; i < list->count; i++)
	if (list->recs[i].uid <= list->recs[i - 1].uid)
	    break;
    if (i < list->count)
	qsort(list->recs, list->count, sizeof(*list->recs), rec_compare);
    maildir_uidlist_unindex(list);
    list->names = htable_create(list->count);
    for (i = 0; i < list->count; i++) {
	MAILDIR_UIDREC *rec = list->recs + i;
	HTABLE_INFO *info;
	int     added;

	highest = rec->uid;
	if (out > 0 && rec->uid == list->recs[out - 1].uid) {
	    parse_bad(state, "duplicate UID %u", rec->uid);
	    continue;
	}
	info = htable_add_len(list->names, rec->name, strlen(rec->name),
			      &added);
	if (!added) {
	    parse_bad(state, "duplicate file name (UID %u)", rec->uid);
	    continue;
	}
	list->recs[out] = *rec;
	info->value = (void *) (uintptr_t) out;
	out++;
    }
    list->count = list->live = out;
    /*
     * Never below a UID in the file, even a dropped one.  Not an error:
     * Dovecot appends records without updating the header.
     */
    if (list->uidnext <= highest)
	list->uidnext = highest + 1;
}

MAILDIR_UIDLIST *maildir_uidlist_parse(const char *data, size_t len,
				               const char *origin, VSTRING *why)
{
    MAILDIR_UIDLIST *list = (MAILDIR_UIDLIST *) mycalloc(1, sizeof(*list));
    MAILDIR_UIDBLOCK *block;
    UIDLIST_PARSE state;
    char   *cp, *end, *nl;
    int     has_nul;

    list->names = htable_create(0);
    list->hdr_ext = "";
    block = uidlist_block(list, len + 1);
    memcpy(block->data, data, len);
    block->data[len] = 0;
    block->used = block->size;
    memset(&state, 0, sizeof(state));
    state.list = list;
    state.origin = origin;
    for (cp = block->data, end = cp + len; cp < end; cp = nl + 1) {
	if ((nl = memchr(cp, '\n', (size_t) (end - cp))) == 0)
	    nl = end;			/* a last line without newline */
	has_nul = memchr(cp, 0, (size_t) (nl - cp)) != 0;
	*nl = 0;
	if (nl > cp && nl[-1] == '\r')
	    nl[-1] = 0;
	state.lineno++;
	if (has_nul) {
	    if (state.lineno == 1)
		break;
	    parse_bad(&state, "NUL byte");
	} else if (state.lineno == 1) {
	    if (parse_header(&state, cp, why) < 0) {
		maildir_uidlist_free(list);
		return (0);
	    }
	} else if (*cp != 0) {
	    parse_record(&state, cp);
	}
    }
    if (state.version == 0) {
	vstring_strcpy(why, len ? "bad header line" : "empty file");
	maildir_uidlist_free(list);
	return (0);
    }
    parse_finish(&state);
    return (list);
}

/*
 * Formatting: always version 3.
 */

void    maildir_uidlist_format(const MAILDIR_UIDLIST *list, VSTRING *out)
{
    int     i;

    vstring_sprintf(out, "3 V%u N%u G%s%s%s\n", list->uidvalidity,
		    list->uidnext, list->guid, *list->hdr_ext ? " " : "",
		    list->hdr_ext);
    vstring_reserve(out, (size_t) list->live * 64);
    for (i = 0; i < list->count; i++) {
	const MAILDIR_UIDREC *rec = list->recs + i;

	if (rec->name == 0)
	    continue;
	vstring_sprintf_append(out, "%u%s%s :%s\n", rec->uid,
			       *rec->ext ? " " : "", rec->ext, rec->name);
    }
}

/*
 * Files.
 */

int     maildir_same_file(const struct stat *a, const struct stat *b)
{
    return (a->st_dev == b->st_dev && a->st_ino == b->st_ino
	    && a->st_size == b->st_size
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

int     maildir_read_file(int dir_fd, const char *name, VSTRING *buf,
			          struct stat *st)
{
    ssize_t n;
    int     fd;
    int     saved;

    /* O_NONBLOCK: a FIFO planted here must not hang the open */
    if ((fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK
		     | O_CLOEXEC)) < 0)
	return (-1);
    if (fstat(fd, st) < 0)
	goto fail;
    if (!S_ISREG(st->st_mode)) {
	errno = EINVAL;
	goto fail;
    }
    vstring_reset(buf);
    vstring_reserve(buf, (size_t) st->st_size + 1);
    for (;;) {
	vstring_reserve(buf, 65536);
	if ((n = read(fd, STR(buf) + LEN(buf), buf->size - LEN(buf) - 1)) < 0) {
	    if (errno == EINTR)
		continue;
	    goto fail;
	}
	if (n == 0)
	    break;
	buf->len += (size_t) n;
	STR(buf)[LEN(buf)] = 0;
    }
    (void) close(fd);
    return (0);
fail:
    saved = errno;
    (void) close(fd);
    errno = saved;
    return (-1);
}

int     maildir_replace_file(int dir_fd, const char *dir_path, const char *name,
			             const char *data, size_t len, struct stat *st,
			             VSTRING *why)
{
    VSTRING *tmp = vstring_alloc(100);
    int     fd;
    int     ret = -1;

    vstring_sprintf(tmp, "%s.tmp%ld", name, (long) getpid());
    (void) unlinkat(dir_fd, STR(tmp), 0);	/* left by a crash */
    if ((fd = openat(dir_fd, STR(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
		     | O_CLOEXEC, 0600)) < 0) {
	vstring_sprintf(why, "create %s/%s: %m", dir_path, STR(tmp));
	vstring_free(tmp);
	return (-1);
    }
    if (write_full(fd, data, len) < 0 || fsync(fd) < 0 || fstat(fd, st) < 0) {
	vstring_sprintf(why, "write %s/%s: %m", dir_path, STR(tmp));
	(void) close(fd);
    } else if (close(fd) < 0) {
	vstring_sprintf(why, "close %s/%s: %m", dir_path, STR(tmp));
    } else if (renameat(dir_fd, STR(tmp), dir_fd, name) < 0) {
	vstring_sprintf(why, "rename %s/%s to %s: %m", dir_path, STR(tmp),
			name);
    } else {
	ret = 0;
    }
    if (ret < 0)
	(void) unlinkat(dir_fd, STR(tmp), 0);
    else if (fsync(dir_fd) < 0 && errno != EINVAL)
	msg_warn("fsync directory %s: %m", dir_path);
    vstring_free(tmp);
    return (ret);
}

int     maildir_uidlist_read(int dir_fd, const char *dir_path,
			             MAILDIR_UIDLIST **list, struct stat *st,
			             VSTRING *why)
{
    VSTRING *buf;
    VSTRING *origin;
    VSTRING *reason;

    *list = 0;
    if (fstatat(dir_fd, MAILDIR_UIDLIST_FILE, st, AT_SYMLINK_NOFOLLOW) < 0) {
	if (errno == ENOENT) {
	    memset(st, 0, sizeof(*st));
	    return (0);
	}
	vstring_sprintf(why, "stat %s/%s: %m", dir_path, MAILDIR_UIDLIST_FILE);
	return (-1);
    }
    origin = vstring_alloc(100);
    vstring_sprintf(origin, "%s/%s", dir_path, MAILDIR_UIDLIST_FILE);
    if (!S_ISREG(st->st_mode)) {
	msg_warn("%s: not a regular file: starting a new list", STR(origin));
	vstring_free(origin);
	return (0);
    }
    buf = vstring_alloc(4096);
    if (maildir_read_file(dir_fd, MAILDIR_UIDLIST_FILE, buf, st) < 0) {
	vstring_sprintf(why, "read %s: %m", STR(origin));
	vstring_free(buf);
	vstring_free(origin);
	return (-1);
    }
    reason = vstring_alloc(100);
    *list = maildir_uidlist_parse(STR(buf), LEN(buf), STR(origin), reason);
    if (*list == 0)
	msg_warn("%s: %s: starting a new list with a new UIDVALIDITY",
		 STR(origin), STR(reason));
    vstring_free(reason);
    vstring_free(buf);
    vstring_free(origin);
    return (*list ? 1 : 0);
}

int     maildir_uidlist_write(int dir_fd, const char *dir_path,
			              const MAILDIR_UIDLIST *list, struct stat *st,
			              VSTRING *why)
{
    VSTRING *buf = vstring_alloc(4096);
    int     ret;

    maildir_uidlist_format(list, buf);
    ret = maildir_replace_file(dir_fd, dir_path, MAILDIR_UIDLIST_FILE,
			       STR(buf), LEN(buf), st, why);
    if (ret == 0)
	maildir_uidlist_writes++;
    vstring_free(buf);
    return (ret);
}

/* sleep_ms - wait between lock attempts */

static void sleep_ms(int ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    (void) nanosleep(&ts, (struct timespec *) 0);
}

/*
 * lock_owner_gone - the lock says "PID:HOST", HOST is this host and no
 * process PID exists: its holder died (Dovecot's test too).  A lock of
 * another host sharing the Maildir waits for the age limit.
 */
static int lock_owner_gone(int dir_fd, const struct stat *seen)
{
    char    buf[300], host[256];
    char   *colon, *end;
    struct stat st;
    ssize_t len;
    long    pid;
    int     fd;

    if ((fd = openat(dir_fd, MAILDIR_UIDLIST_LOCK, O_RDONLY | O_NOFOLLOW
		     | O_NONBLOCK | O_CLOEXEC)) < 0)
	return (0);
    /* the file looked at, not a new lock made since */
    len = fstat(fd, &st) == 0 && st.st_ino == seen->st_ino
	&& st.st_dev == seen->st_dev ? read(fd, buf, sizeof(buf) - 1) : -1;
    (void) close(fd);
    if (len <= 0 || gethostname(host, sizeof(host)) < 0)
	return (0);
    buf[len] = 0;
    host[sizeof(host) - 1] = 0;
    pid = strtol(buf, &end, 10);
    if ((colon = strchr(buf, ':')) == 0 || end != colon || pid <= 0
	|| strcmp(colon + 1, host) != 0)
	return (0);
    return (kill((pid_t) pid, 0) < 0 && errno == ESRCH);
}

/* lock_stale - remove the lock file if it is older than the limit, or
 * its holder on this host is gone; 1 if so */

static int lock_stale(int dir_fd, const char *dir_path)
{
    struct stat st;

    if (fstatat(dir_fd, MAILDIR_UIDLIST_LOCK, &st, AT_SYMLINK_NOFOLLOW) < 0)
	return (0);
    if (st.st_mtime + UIDLIST_LOCK_STALE >= time((time_t *) 0)
	&& !lock_owner_gone(dir_fd, &st))
	return (0);
    msg_warn("removing stale lock file %s/%s", dir_path, MAILDIR_UIDLIST_LOCK);
    if (unlinkat(dir_fd, MAILDIR_UIDLIST_LOCK, 0) < 0 && errno != ENOENT) {
	msg_warn("remove %s/%s: %m", dir_path, MAILDIR_UIDLIST_LOCK);
	return (0);
    }
    return (1);
}

int     maildir_uidlist_lock(int dir_fd, const char *dir_path, VSTRING *why)
{
    VSTRING *owner;
    char    host[256];
    int     waited = 0, delay = 2;
    int     fd;

    for (;;) {
	if ((fd = openat(dir_fd, MAILDIR_UIDLIST_LOCK, O_WRONLY | O_CREAT
			 | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
	    break;
	if (errno != EEXIST) {
	    vstring_sprintf(why, "create lock file %s/%s: %m", dir_path,
			    MAILDIR_UIDLIST_LOCK);
	    return (-1);
	}
	if (lock_stale(dir_fd, dir_path))
	    continue;
	if (waited >= UIDLIST_LOCK_WAIT_MS) {
	    vstring_sprintf(why, "timeout waiting for lock file %s/%s",
			    dir_path, MAILDIR_UIDLIST_LOCK);
	    return (-1);
	}
	sleep_ms(delay);
	waited += delay;
	if (delay < 100)
	    delay *= 2;
    }
    /* "pid:host", as dot-lock files say who holds them */
    if (gethostname(host, sizeof(host)) < 0)
	strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    owner = vstring_alloc(100);
    vstring_sprintf(owner, "%ld:%s", (long) getpid(), host);
    if (write_full(fd, STR(owner), LEN(owner)) < 0)
	msg_warn("write lock file %s/%s: %m", dir_path, MAILDIR_UIDLIST_LOCK);
    vstring_free(owner);
    (void) close(fd);
    return (0);
}

void    maildir_uidlist_unlock(int dir_fd, const char *dir_path)
{
    if (unlinkat(dir_fd, MAILDIR_UIDLIST_LOCK, 0) < 0)
	msg_warn("remove lock file %s/%s: %m", dir_path, MAILDIR_UIDLIST_LOCK);
}
