/*
 * maildir_uidlist.h - Dovecot's dovecot-uidlist: the UIDs of a Maildir.
 *
 * The file maps each message's base name (its file name without the
 * ":2,..." info part) to a permanent UID.  Version 3, as Dovecot 2.x
 * writes it:
 *
 *	3 V<uidvalidity> N<nextuid> G<mailbox guid, 32 hex digits>
 *	<uid> [<extension fields: a letter and a value, e.g. W1234>] :<name>
 *
 * and version 1 (Courier's): "1 <uidvalidity> <nextuid>", "<uid> <name>".
 * maildir_uidlist_parse() reads either from memory; a bad record line is
 * skipped with a warning (as are duplicate UIDs and names: the first one
 * in UID order stays), unknown extension and header fields are kept and
 * written back as they were, and the next UID is never below the highest
 * UID plus one.  A header it cannot read makes it return NULL: the caller
 * starts a new list with a new UIDVALIDITY.  maildir_uidlist_format()
 * always writes version 3.
 *
 * The file I/O works relative to the Maildir's open directory DIR_FD
 * (DIR_PATH only names it in messages).  maildir_uidlist_lock() takes
 * dovecot-uidlist.lock (O_EXCL, the name Dovecot uses, so the two never
 * write at once; NFS v3 and later create exclusively, as Dovecot's
 * dotlock_use_excl relies on), waiting up to 10 s and removing a lock
 * older than 120 s, or one whose holder ("PID:HOST") was on this host
 * and is gone;
 * under the lock, callers re-read the list, change it and write it with
 * maildir_uidlist_write(): a temporary file, fsync, rename over.
 * maildir_read_file() and maildir_replace_file() do the same I/O for the
 * other control files (dovecot-keywords).
 *
 * Names and extension strings live in the list's own memory: a file read
 * is one block, added names are packed into further blocks, so a list of
 * 100,000 messages makes a handful of allocations.
 */
#ifndef MAILDIR_UIDLIST_H
#define MAILDIR_UIDLIST_H

#include "sys_defs.h"
#include "vstring.h"
#include "htable.h"

#define MAILDIR_UIDLIST_FILE	"dovecot-uidlist"
#define MAILDIR_UIDLIST_LOCK	"dovecot-uidlist.lock"

typedef struct MAILDIR_UIDREC {
    unsigned uid;
    const char *name;			/* base name; NULL: dropped */
    const char *ext;			/* extension fields as read, or "" */
} MAILDIR_UIDREC;

typedef struct MAILDIR_UIDBLOCK MAILDIR_UIDBLOCK;

typedef struct MAILDIR_UIDLIST {
    unsigned uidvalidity;
    unsigned uidnext;
    char    guid[33];			/* 32 lower-case hex digits */
    const char *hdr_ext;		/* unknown header fields, or "" */
    MAILDIR_UIDREC *recs;		/* ascending UIDs */
    int     count;			/* including dropped ones */
    int     size;			/* allocated */
    int     live;			/* not dropped */
    HTABLE *names;			/* base name -> index in recs, or
					 * NULL: made again when needed */
    MAILDIR_UIDBLOCK *blocks;		/* where the strings live */
} MAILDIR_UIDLIST;

/* Lists in memory */
MAILDIR_UIDLIST *maildir_uidlist_create(unsigned uidvalidity);
MAILDIR_UIDLIST *maildir_uidlist_parse(const char *data, size_t len,
				               const char *origin, VSTRING *why);
void	maildir_uidlist_format(const MAILDIR_UIDLIST *list, VSTRING *out);
void	maildir_uidlist_free(MAILDIR_UIDLIST *list);

/* maildir_uidlist_lookup - the record of base name NAME (LEN bytes), or NULL */
const MAILDIR_UIDREC *maildir_uidlist_lookup(const MAILDIR_UIDLIST *list,
				              const char *name, size_t len);

/* maildir_uidlist_find - the record of UID (not dropped), or NULL */
const MAILDIR_UIDREC *maildir_uidlist_find(const MAILDIR_UIDLIST *list,
					           unsigned uid);

/* maildir_uidlist_add - a new record with the next UID for NAME, which
 * must not be in the list yet; 0: UIDs used up */
unsigned maildir_uidlist_add(MAILDIR_UIDLIST *list, const char *name,
			             size_t len, const char *ext);

/* maildir_uidlist_unindex - free the table of names (made again by the
 * next lookup, add; a list kept between syncs needs it rarely) */
void	maildir_uidlist_unindex(MAILDIR_UIDLIST *list);

/* maildir_uidlist_drop - forget UID; 1 if it was there */
int	maildir_uidlist_drop(MAILDIR_UIDLIST *list, unsigned uid);

/* maildir_uidlist_ext_number - the number after letter KEY in EXT, or -1 */
off_t	maildir_uidlist_ext_number(const char *ext, int key);

/* maildir_name_ok - a name Maildir code may use (no '/', no control
 * characters, no spaces, not a dot file) */
int	maildir_name_ok(const char *name, size_t len);

/* The files */
int	maildir_uidlist_read(int dir_fd, const char *dir_path,
			             MAILDIR_UIDLIST **list, struct stat *st,
			             VSTRING *why);
int	maildir_uidlist_write(int dir_fd, const char *dir_path,
			              const MAILDIR_UIDLIST *list, struct stat *st,
			              VSTRING *why);
int	maildir_uidlist_lock(int dir_fd, const char *dir_path, VSTRING *why);
void	maildir_uidlist_unlock(int dir_fd, const char *dir_path);

/* maildir_same_file - 1 if A and B describe the same unchanged file */
int	maildir_same_file(const struct stat *a, const struct stat *b);

/* Control files: 0, or -1 with errno (and WHY for replace) */
int	maildir_read_file(int dir_fd, const char *name, VSTRING *buf,
			          struct stat *st);
int	maildir_replace_file(int dir_fd, const char *dir_path, const char *name,
			             const char *data, size_t len, struct stat *st,
			             VSTRING *why);

/* For tests: uidlist files written by this process */
extern int maildir_uidlist_writes;

#endif
