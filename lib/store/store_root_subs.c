/*
 * store_root_subs.c - subscriptions, in Dovecot's file: "subscriptions"
 * in the Maildir, ".subscriptions" in the mbox folder directory.
 *
 * Format (Dovecot 2.3, subscription-file.c): version 2 starts with the
 * line "V<TAB>2" and an empty line; each further line is one folder name
 * as stored on disk (modified UTF-7), its hierarchy levels separated by
 * TAB, each level tab-escaped (\001 -> \0011, TAB -> \001t, CR -> \001r,
 * LF -> \001n).  Version 1 has no header and one name per line with the
 * layout's own separator.  A new file is written as version 2, an
 * existing file keeps its version (as Dovecot does).
 *
 * A change follows Dovecot's locking: create "<file>.lock" exclusively,
 * write the whole new list into it, fsync, rename it over the file, so
 * a reader sees the old or the new list and two writers never interleave.
 * A lock that has not changed for SUBS_LOCK_STALE seconds is left over
 * by a crash and is removed.  Lines that are not names we understand are
 * kept as they are; reading skips them.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <poll.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "htable.h"
#include "imap_utf7.h"
#include "store.h"
#include "store_root_priv.h"

#define SUBS_HEADER		"V\t2\n\n"
#define SUBS_HEADER_LEN		5
#define SUBS_MAX_SIZE		(4 * 1024 * 1024)
#define SUBS_LOCK_WAIT_MS	10000	/* then give up */
#define SUBS_LOCK_STALE		30	/* seconds, as Dovecot */
#define SUBS_LOCK_SLEEP_MS	50

/*
 * Reading.
 */

/* subs_load - the file's bytes into BUF; 0 (absent: *EXISTS = 0) or -1 */

static int subs_load(STORE_ROOT *root, VSTRING *buf, int *exists, VSTRING *why)
{
    const char *file = root->layout->subs_file;
    struct stat st;
    char    chunk[8192];
    ssize_t n;
    int     fd;

    vstring_reset(buf);
    *exists = 0;
    fd = openat(root->dir_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
	if (errno == ENOENT)
	    return (0);
	vstring_sprintf(why, "open %s/%s: %m", root->dir, file);
	return (-1);
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
	|| st.st_size > SUBS_MAX_SIZE) {
	vstring_sprintf(why, "%s/%s: not a regular file of at most %d bytes",
			root->dir, file, SUBS_MAX_SIZE);
	(void) close(fd);
	return (-1);
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
	vstring_memcat(buf, chunk, (size_t) n);
	if (LEN(buf) > SUBS_MAX_SIZE) {
	    errno = EFBIG;
	    n = -1;
	    break;
	}
    }
    if (n < 0)
	vstring_sprintf(why, "read %s/%s: %m", root->dir, file);
    (void) close(fd);
    *exists = (n == 0);
    return (n == 0 ? 0 : -1);
}

/* subs_version - 2 or 1; *BODY is where the names start */

static int subs_version(const VSTRING *buf, size_t *body)
{
    if (LEN(buf) >= SUBS_HEADER_LEN
	&& memcmp(STR(buf), SUBS_HEADER, SUBS_HEADER_LEN) == 0) {
	*body = SUBS_HEADER_LEN;
	return (2);
    }
    *body = 0;
    return (1);
}

/* tab_unescape - append LEN bytes of TEXT to OUT, undoing tab-escapes */

static void tab_unescape(VSTRING *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
	if (text[i] != '\001' || i + 1 == len) {
	    vstring_addch(out, text[i]);
	    continue;
	}
	switch (text[++i]) {
	case '1':
	    vstring_addch(out, '\001');
	    break;
	case 't':
	    vstring_addch(out, '\t');
	    break;
	case 'r':
	    vstring_addch(out, '\r');
	    break;
	case 'n':
	    vstring_addch(out, '\n');
	    break;
	default:
	    vstring_addch(out, text[i]);
	    break;
	}
    }
}

/*
 * line_name - the folder a line names, as a checked UTF-8 name in UTF8;
 * 0, or -1 for a line that names nothing we could use
 */
static int line_name(STORE_ROOT *root, const char *line, size_t len,
		             int version, VSTRING *utf8)
{
    VSTRING *enc = vstring_alloc(100);
    ROOT_NAME *name = root_name_alloc();
    VSTRING *why = vstring_alloc(100);
    const char *tab;
    int     ret = -1;

    if (version == 1) {
	vstring_memcpy(enc, line, len);
    } else {
	while ((tab = memchr(line, '\t', len)) != 0) {
	    tab_unescape(enc, line, (size_t) (tab - line));
	    vstring_addch(enc, root->layout->sep);
	    len -= (size_t) (tab - line) + 1;
	    line = tab + 1;
	}
	tab_unescape(enc, line, len);
    }
    if (strlen(STR(enc)) == LEN(enc)
	&& imap_utf7_to_utf8(utf8, STR(enc)) == 0) {
	if (root_is_inbox(STR(utf8))) {
	    vstring_strcpy(utf8, "INBOX");
	    ret = 0;
	} else if (root_name_parse(root, STR(utf8), name, why) == 0) {
	    vstring_strcpy(utf8, STR(name->utf8));
	    ret = 0;
	}
    }
    vstring_free(enc);
    root_name_free(name);
    vstring_free(why);
    return (ret);
}

/* next_line - the line at *POS of BUF (advanced past it), its length */

static const char *next_line(const VSTRING *buf, size_t *pos, size_t *len)
{
    const char *start = STR(buf) + *pos;
    const char *nl;

    if (*pos >= LEN(buf))
	return (0);
    nl = memchr(start, '\n', LEN(buf) - *pos);
    *len = nl ? (size_t) (nl - start) : LEN(buf) - *pos;
    *pos += *len + (nl != 0);
    return (start);
}

/*
 * root_subs_read - every subscription that names a folder we could have
 * (UTF-8, INBOX as "INBOX", each once) into LIST; 0 or -1 with WHY
 */
int     root_subs_read(STORE_ROOT *root, ROOT_LIST *list, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(1024);
    VSTRING *utf8 = vstring_alloc(100);
    HTABLE *seen = htable_create(32);
    const char *line;
    size_t  pos, len;
    int     version, exists;

    if (subs_load(root, buf, &exists, why) < 0) {
	vstring_free(buf);
	vstring_free(utf8);
	htable_free(seen);
	return (-1);
    }
    version = subs_version(buf, &pos);
    while ((line = next_line(buf, &pos, &len)) != 0) {
	if (len == 0 || line_name(root, line, len, version, utf8) < 0)
	    continue;
	if (htable_locate(seen, STR(utf8)))
	    continue;
	root_list_add(list, STR(utf8), 0);
	htable_enter(seen, list->entries[list->count - 1].name, (void *) 1);
    }
    vstring_free(buf);
    vstring_free(utf8);
    htable_free(seen);
    return (0);
}

/*
 * Changing.
 */

/* lock_stale - the lock file LOCK is old enough to be left over */

static int lock_stale(STORE_ROOT *root, const char *lock)
{
    struct stat st;

    return (fstatat(root->dir_fd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0
	    && st.st_mtime + SUBS_LOCK_STALE < time((time_t *) 0));
}

/* subs_lock - create LOCK exclusively (waiting a while); fd or -1 */

static int subs_lock(STORE_ROOT *root, const char *lock, VSTRING *why)
{
    int     waited, fd;

    for (waited = 0; waited <= SUBS_LOCK_WAIT_MS;
	 waited += SUBS_LOCK_SLEEP_MS) {
	fd = openat(root->dir_fd, lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
		    | O_CLOEXEC, 0600);
	if (fd >= 0)
	    return (fd);
	if (errno != EEXIST) {
	    vstring_sprintf(why, "create %s/%s: %m", root->dir, lock);
	    return (-1);
	}
	if (lock_stale(root, lock)) {
	    msg_warn("removing stale lock file %s/%s", root->dir, lock);
	    (void) unlinkat(root->dir_fd, lock, 0);
	    continue;
	}
	(void) poll(0, 0, SUBS_LOCK_SLEEP_MS);
    }
    vstring_sprintf(why, "timeout waiting for lock file %s/%s", root->dir,
		    lock);
    return (-1);
}

/* subs_line - NAME as a line of a version VERSION file */

static void subs_line(STORE_ROOT *root, const ROOT_NAME *name, int version,
		              VSTRING *line)
{
    /* Checked names hold no control characters: nothing to escape */
    vstring_strcpy(line, STR(name->enc));
    if (version == 2)
	for (char *cp = STR(line); *cp; cp++)
	    if (*cp == root->layout->sep)
		*cp = '\t';
    vstring_addch(line, '\n');
}

/*
 * subs_rewrite - the new list from OLD (the file's bytes) into OUT: NAME
 * dropped (ON = 0) or added when missing; 1 if OUT differs, else 0
 */
static int subs_rewrite(STORE_ROOT *root, const ROOT_NAME *name, int on,
			        const VSTRING *old, int exists, VSTRING *out)
{
    VSTRING *utf8 = vstring_alloc(100);
    const char *line;
    size_t  pos, len;
    int     version = exists ? subs_version(old, &pos) : 2;
    int     found = 0, changed = 0;

    if (!exists)
	pos = 0;
    vstring_strcpy(out, version == 2 ? SUBS_HEADER : "");
    while ((line = next_line(old, &pos, &len)) != 0) {
	if (len > 0 && line_name(root, line, len, version, utf8) == 0
	    && strcmp(STR(utf8), STR(name->utf8)) == 0) {
	    found = 1;
	    if (!on) {
		changed = 1;
		continue;
	    }
	}
	vstring_memcat(out, line, len);
	vstring_addch(out, '\n');
    }
    if (on && !found) {
	subs_line(root, name, version, utf8);
	vstring_strcat(out, STR(utf8));
	changed = 1;
    }
    vstring_free(utf8);
    return (changed);
}

/* subs_commit - write OUT to the lock file FD and rename it into place */

static int subs_commit(STORE_ROOT *root, int fd, const char *lock,
		               const VSTRING *out, VSTRING *why)
{
    const char *file = root->layout->subs_file;

    if (write(fd, STR(out), LEN(out)) != (ssize_t) LEN(out) || fsync(fd) < 0) {
	vstring_sprintf(why, "write %s/%s: %m", root->dir, lock);
	return (-1);
    }
    if (renameat(root->dir_fd, lock, root->dir_fd, file) < 0) {
	vstring_sprintf(why, "rename %s/%s: %m", root->dir, lock);
	return (-1);
    }
    return (0);
}

/*
 * root_subs_change - subscribe (ON) or unsubscribe checked NAME (or
 * "INBOX"); 0 or -1 with WHY
 */
int     root_subs_change(STORE_ROOT *root, const ROOT_NAME *name, int on,
			         VSTRING *why)
{
    VSTRING *lock = vstring_alloc(100);
    VSTRING *old = vstring_alloc(1024);
    VSTRING *out = vstring_alloc(1024);
    int     fd, exists, ret = -1;

    vstring_sprintf(lock, "%s.lock", root->layout->subs_file);
    if ((fd = subs_lock(root, STR(lock), why)) >= 0) {
	if (subs_load(root, old, &exists, why) == 0) {
	    if (!subs_rewrite(root, name, on, old, exists, out))
		ret = 0;
	    else if (subs_commit(root, fd, STR(lock), out, why) == 0) {
		(void) close(fd);
		fd = -1;
		ret = 1;
	    }
	}
	if (fd >= 0) {
	    (void) close(fd);
	    (void) unlinkat(root->dir_fd, STR(lock), 0);
	}
    }
    vstring_free(lock);
    vstring_free(old);
    vstring_free(out);
    return (ret < 0 ? -1 : 0);
}
