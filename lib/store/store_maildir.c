/*
 * store_maildir.c - the Maildir driver of store.h.
 *
 * A folder is a Maildir directory with tmp/ new/ cur/, kept the way
 * Dovecot keeps one, so either server can take over from the other with
 * the same UIDVALIDITY, UIDs, flags and keywords:
 *   - UIDs are in dovecot-uidlist (maildir_uidlist.h), which maps each
 *     file's base name to its UID.  It changes only under
 *     dovecot-uidlist.lock: re-read, add or drop records, write a new file
 *     and rename it over.  A read-only folder never writes: files the
 *     list lacks get UIDs in memory only.
 *   - Flags and keywords are letters in the file names (maildir_name.h);
 *     keyword letters a..z are named in dovecot-keywords ("<index> <name>"
 *     lines, rewritten under the same lock).
 *   - Files in new/ are \Recent for the view that first sees them; with
 *     STORE_SYNC_CLAIM_NEW (IMAP) they move to cur/ with ":2," appended.
 *
 * A sync reads new/ and cur/ once each (no stat per file), looks each
 * base name up in the view and in the uidlist (hash tables), and re-reads
 * the uidlist only when the file changed (device, inode, size, time).
 * It skips all that when neither directory nor the uidlist changed since
 * the last sync that read them (their time stamps, see sync_unchanged()),
 * so a command in a big folder costs three stat calls, not a readdir().
 * When a message of the view has no file, both directories are read once
 * more before it counts as expunged: a rename by another process during
 * readdir() can hide a file from one pass.  A message file that is not
 * where the view says (renamed for a flag change since) is looked for by
 * its base name before an operation fails.  Names that are dot files, have
 * control characters or spaces, or are not regular files (symbolic links)
 * are ignored; every file is opened relative to the open new/ and cur/
 * with O_NOFOLLOW.  msg->file is "new/NAME" or "cur/NAME".
 *
 * Opening a big folder need not read it at all: when the index's view
 * stamp (store_index.h) holds - new/, cur/ and the uidlist are the very
 * ones (device, inode, size, link count, change times) a settled full
 * sync saw, new/ held nothing, and nothing was logged since - the view
 * comes from the index's records (maildir_adopt).  Its messages get file
 * names when one is needed: the base name from the uidlist (read then)
 * with the info part of their flags, as Posthorn and Dovecot name files;
 * a file named otherwise is found by the scan that a miss starts, which
 * names every message of the view at once (names_from_scan).
 *
 * This file holds open, close and sync; store_maildir_msg.c the message
 * functions, store_maildir_keywords.c dovecot-keywords (their shared
 * declarations: store_maildir_priv.h).
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "htable.h"
#include "safe_open.h"
#include "store.h"
#include "maildir_name.h"
#include "maildir_uidlist.h"
#include "store_maildir_priv.h"

#define MAILDIR_SYNC_TRIES	3	/* UIDVALIDITY changed under us */

const char *maildir_subs[2] = {"new", "cur"};

int     maildir_dir_scans;

/*
 * One pass over new/ and cur/: the names in one buffer, indexed by base.
 */
typedef struct MAILDIR_ENTRY {
    size_t  off;			/* name in the pool */
    size_t  base_len;
    int     sub;			/* MAILDIR_SUB_NEW or _CUR */
    int     state;			/* below */
    unsigned uid;			/* when assigned */
} MAILDIR_ENTRY;

#define ENTRY_FREE	0		/* not in the view yet */
#define ENTRY_VIEW	1		/* a message of the view has it */
#define ENTRY_SHADOW	2		/* same base seen again later */

typedef struct MAILDIR_SCAN {
    VSTRING *pool;
    MAILDIR_ENTRY *ents;
    int     count;
    int     size;
    HTABLE *bases;			/* base name -> index in ents */
} MAILDIR_SCAN;

#define ENTRY_NAME(scan, e)	(STR((scan)->pool) + (e)->off)

static int uidlist_refresh(STORE_FOLDER *, VSTRING *);
static void names_from_scan(STORE_FOLDER *, MAILDIR_SCAN *);

/* maildir_msg_sub - the subdirectory index and name of MSG's file */

int     maildir_msg_sub(const STORE_MSG *msg, const char **name)
{
    *name = msg->file + 4;
    return (msg->file[0] == 'n' ? MAILDIR_SUB_NEW : MAILDIR_SUB_CUR);
}

/* maildir_msg_file - "new/NAME" or "cur/NAME", allocated */

char   *maildir_msg_file(int sub, const char *name)
{
    size_t  len = strlen(name);
    char   *file = mymalloc(len + 5);

    memcpy(file, maildir_subs[sub], 3);
    file[3] = '/';
    memcpy(file + 4, name, len + 1);
    return (file);
}

/*
 * Directory scans.
 */

/* scan_dir - add the message files of new/ or cur/ to SCAN; 0 or -1 */

static int scan_dir(STORE_FOLDER *folder, int sub, MAILDIR_SCAN *scan,
		            VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    struct dirent *de;
    struct stat st;
    MAILDIR_ENTRY *ent;
    DIR    *dp;
    size_t  len;
    int     fd;

    if ((fd = dup(priv->sub_fd[sub])) < 0 || (dp = fdopendir(fd)) == 0) {
	vstring_sprintf(why, "open directory %s/%s: %m", folder->path,
			maildir_subs[sub]);
	if (fd >= 0)
	    (void) close(fd);
	return (-1);
    }
    rewinddir(dp);			/* the offset is shared with sub_fd */
    for (errno = 0; (de = readdir(dp)) != 0; errno = 0) {
	len = strlen(de->d_name);
	if (!maildir_name_ok(de->d_name, len) || de->d_name[0] == ':')
	    continue;
	if (de->d_type != DT_REG) {
	    if (de->d_type != DT_UNKNOWN
		|| fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
		|| !S_ISREG(st.st_mode))
		continue;
	}
	if (scan->count == scan->size) {
	    scan->size = scan->size ? 2 * scan->size : 256;
	    scan->ents = (MAILDIR_ENTRY *) myrealloc(scan->ents,
					    scan->size * sizeof(*scan->ents));
	}
	ent = scan->ents + scan->count++;
	ent->off = LEN(scan->pool);
	ent->base_len = maildir_base_len(de->d_name);
	ent->sub = sub;
	ent->state = ENTRY_FREE;
	ent->uid = 0;
	vstring_memcat(scan->pool, de->d_name, len + 1);
    }
    if (errno != 0) {
	vstring_sprintf(why, "read directory %s/%s: %m", folder->path,
			maildir_subs[sub]);
	(void) closedir(dp);
	return (-1);
    }
    (void) closedir(dp);
    return (0);
}

/* scan_free - release a scan */

static void scan_free(MAILDIR_SCAN *scan)
{
    vstring_free(scan->pool);
    if (scan->ents)
	myfree(scan->ents);
    if (scan->bases)
	htable_free(scan->bases);
    myfree(scan);
}

/*
 * scan_folder - read new/ then cur/ (a file moved between the two reads
 * is seen in cur/), and with INDEX index the base names; a base seen
 * twice keeps its later entry.  NULL with WHY on error.
 */
static MAILDIR_SCAN *scan_folder(STORE_FOLDER *folder, int index,
				         VSTRING *why)
{
    MAILDIR_SCAN *scan = (MAILDIR_SCAN *) mycalloc(1, sizeof(*scan));
    HTABLE_INFO *info;
    int     added;
    int     i;

    maildir_dir_scans++;
    scan->pool = vstring_alloc(65536);
    if (scan_dir(folder, MAILDIR_SUB_NEW, scan, why) < 0
	|| scan_dir(folder, MAILDIR_SUB_CUR, scan, why) < 0) {
	scan_free(scan);
	return (0);
    }
    if (!index)
	return (scan);
    scan->bases = htable_create(scan->count);
    for (i = 0; i < scan->count; i++) {
	MAILDIR_ENTRY *ent = scan->ents + i;

	info = htable_add_len(scan->bases, ENTRY_NAME(scan, ent),
			      ent->base_len, &added);
	if (!added)
	    scan->ents[(uintptr_t) info->value].state = ENTRY_SHADOW;
	info->value = (void *) (uintptr_t) i;
    }
    return (scan);
}

/*
 * scan_known - for a sync into an empty view (no base names to match):
 * the UIDs the uidlist has for the entries, and a base seen twice marked
 * as scan_folder() does, without a table of every name: each record of
 * the list notes its entry, only names the list lacks go in a table.
 */
static void scan_known(STORE_FOLDER *folder, MAILDIR_SCAN *scan)
{
    MAILDIR_UIDLIST *list = MAILDIR_PRIV_OF(folder)->uidlist;
    int    *owner = (int *) mycalloc(list->count + 1, sizeof(*owner));
    const MAILDIR_UIDREC *rec;
    HTABLE *unknown = 0;
    HTABLE_INFO *info;
    MAILDIR_ENTRY *ent;
    int     added;
    int     i, r;

    for (i = 0; i < scan->count; i++) {
	ent = scan->ents + i;
	rec = maildir_uidlist_lookup(list, ENTRY_NAME(scan, ent), ent->base_len);
	if (rec != 0) {
	    r = rec - list->recs;
	    if (owner[r] > 0) {
		scan->ents[owner[r] - 1].state = ENTRY_SHADOW;
		scan->ents[owner[r] - 1].uid = 0;
	    }
	    owner[r] = i + 1;
	    ent->uid = rec->uid;
	    continue;
	}
	if (unknown == 0)
	    unknown = htable_create(16);
	info = htable_add_len(unknown, ENTRY_NAME(scan, ent), ent->base_len,
			      &added);
	if (!added)
	    scan->ents[(uintptr_t) info->value].state = ENTRY_SHADOW;
	info->value = (void *) (uintptr_t) i;
    }
    if (unknown)
	htable_free(unknown);
    myfree(owner);
}

/* scan_find - the entry with MSG's base name, or NULL */

static MAILDIR_ENTRY *scan_find(MAILDIR_SCAN *scan, const STORE_MSG *msg)
{
    const char *name;
    HTABLE_INFO *info;

    if (msg->file == 0)				/* not in the uidlist */
	return (0);
    name = msg->file + 4;
    info = htable_locate_len(scan->bases, name, maildir_base_len(name));
    return (info ? scan->ents + (uintptr_t) info->value : 0);
}

/*
 * maildir_relocate - find MSG's file by its base name after another
 * process renamed it; 0 (msg->file updated), or -1 with errno ENOENT.
 */
int     maildir_relocate(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    MAILDIR_SCAN *scan;
    MAILDIR_ENTRY *ent;
    int     found;

    if ((scan = scan_folder(folder, 1, why)) == 0)
	return (-1);
    if (MAILDIR_PRIV_OF(folder)->names_lazy)
	names_from_scan(folder, scan);		/* one scan names them all */
    if ((found = ((ent = scan_find(scan, msg)) != 0)) != 0) {
	myfree(msg->file);
	msg->file = maildir_msg_file(ent->sub, ENTRY_NAME(scan, ent));
    }
    scan_free(scan);
    if (!found) {
	vstring_sprintf(why, "the file of message UID %u in %s is gone",
			msg->uid, folder->path);
	errno = ENOENT;
	return (-1);
    }
    return (0);
}

/*
 * The uidlist.
 */

/* uidlist_new_validity - a UIDVALIDITY for a new list: now, and never the
 * one the view has (a list recreated within the same second) */

static unsigned uidlist_new_validity(STORE_FOLDER *folder)
{
    unsigned now = (unsigned) time((time_t *) 0);

    if (folder->uidvalidity != 0 && now <= folder->uidvalidity)
	now = folder->uidvalidity + 1;
    return (now ? now : 1);
}

/* maildir_folder_forget - drop the cached list (the next refresh reads) */

void    maildir_folder_forget(MAILDIR_PRIV *priv)
{
    if (priv->uidlist)
	maildir_uidlist_free(priv->uidlist);
    priv->uidlist = 0;
    priv->uidlist_new = 0;
    priv->list_lazy = 0;
}

/* uidlist_stat - dovecot-uidlist's stat (zeros: there is none); 0 or -1 */

static int uidlist_stat(STORE_FOLDER *folder, struct stat *st, VSTRING *why)
{
    if (fstatat(MAILDIR_PRIV_OF(folder)->dir_fd, MAILDIR_UIDLIST_FILE, st,
		AT_SYMLINK_NOFOLLOW) < 0) {
	if (errno != ENOENT) {
	    vstring_sprintf(why, "stat %s/%s: %m", folder->path,
			    MAILDIR_UIDLIST_FILE);
	    return (-1);
	}
	memset(st, 0, sizeof(*st));
    }
    return (0);
}

/*
 * uidlist_load - read dovecot-uidlist into priv->uidlist; a missing or
 * unreadable file gives a new empty list with a new UIDVALIDITY
 * (uidlist_new set).  Unless it is the lazy list of an adopted view,
 * unchanged, the next sync reads the directories.  0 or -1.
 */
static int uidlist_load(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    struct stat lazy_st = priv->uidlist_st;
    int     lazy = priv->list_lazy;
    MAILDIR_UIDLIST *list;

    priv->list_lazy = 0;
    if (maildir_uidlist_read(priv->dir_fd, folder->path, &list,
			     &priv->uidlist_st, why) < 0) {
	priv->uidlist_read = 1;
	return (-1);
    }
    if (!lazy || list == 0 || !maildir_same_file(&lazy_st, &priv->uidlist_st))
	priv->uidlist_read = 1;			/* news: read the dirs */
    if (list == 0) {
	list = maildir_uidlist_create(uidlist_new_validity(folder));
	priv->uidlist_new = 1;
    }
    priv->uidlist = list;
    return (0);
}

/*
 * uidlist_refresh - make priv->uidlist what dovecot-uidlist says (read it
 * again only when the file changed; a lazy list is read now).  0 or -1.
 */
static int uidlist_refresh(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    struct stat st;

    if (priv->uidlist || priv->list_lazy) {
	if (uidlist_stat(folder, &st, why) < 0)
	    return (-1);
	if (maildir_same_file(&st, &priv->uidlist_st)) {
	    if (priv->uidlist)
		return (0);
	} else {
	    maildir_folder_forget(priv);
	}
    }
    return (uidlist_load(folder, why));
}

/* uidlist_lazy_current - the adopted view's list is unread and unchanged */

static int uidlist_lazy_current(STORE_FOLDER *folder)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    struct stat st;

    return (priv->list_lazy && priv->uidlist == 0
	    && fstatat(priv->dir_fd, MAILDIR_UIDLIST_FILE, &st,
		       AT_SYMLINK_NOFOLLOW) == 0
	    && maildir_same_file(&st, &priv->uidlist_st));
}

/* maildir_folder_save - write priv->uidlist (under the lock); 0 or -1 */

int     maildir_folder_save(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);

    if (maildir_uidlist_write(priv->dir_fd, folder->path, priv->uidlist,
			      &priv->uidlist_st, why) < 0) {
	/* What is in memory is not on disk: never hand out its UIDs */
	maildir_folder_forget(priv);
	return (-1);
    }
    priv->uidlist_new = 0;
    return (0);
}

/* maildir_folder_lock - take the lock, then refresh the list; 0 or -1 */

int     maildir_folder_lock(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);

    if (maildir_uidlist_lock(priv->dir_fd, folder->path, why) < 0)
	return (-1);
    if (uidlist_refresh(folder, why) < 0) {
	maildir_uidlist_unlock(priv->dir_fd, folder->path);
	return (-1);
    }
    return (0);
}

/* maildir_folder_unlock - release the lock */

void    maildir_folder_unlock(STORE_FOLDER *folder)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);

    maildir_uidlist_unlock(priv->dir_fd, folder->path);
}

/*
 * File names of an adopted view (maildir_adopt).
 */

/* name_guess - "cur/" BASE and the info part of MSG's flags */

static char *name_guess(const char *base, const STORE_MSG *msg)
{
    VSTRING *name = vstring_alloc(100);
    VSTRING *info = vstring_alloc(40);

    maildir_name_info(info, base, msg->flags, msg->keywords);
    vstring_sprintf(name, "%s/%s%s", maildir_subs[MAILDIR_SUB_CUR], base,
		    STR(info));
    vstring_free(info);
    return (vstring_export(name));
}

/* name_sizes - MSG's sizes from its base name, or the uidlist record */

static void name_sizes(STORE_MSG *msg, const MAILDIR_UIDREC *rec)
{
    size_t  base_len = strlen(rec->name);

    if (msg->size < 0
	&& (msg->size = maildir_name_size(rec->name, base_len, 'S')) < 0)
	msg->size = maildir_uidlist_ext_number(rec->ext, 'S');
    if (msg->vsize < 0
	&& (msg->vsize = maildir_name_size(rec->name, base_len, 'W')) < 0)
	msg->vsize = maildir_uidlist_ext_number(rec->ext, 'W');
}

/* name_from_list - a name for MSG from the (read) list; 1, or 0 when the
 * list has no such UID */

static int name_from_list(STORE_FOLDER *folder, STORE_MSG *msg)
{
    MAILDIR_UIDLIST *list = MAILDIR_PRIV_OF(folder)->uidlist;
    const MAILDIR_UIDREC *rec;

    if (list->uidvalidity != folder->uidvalidity
	|| (rec = maildir_uidlist_find(list, msg->uid)) == 0)
	return (0);
    msg->file = name_guess(rec->name, msg);
    name_sizes(msg, rec);
    return (1);
}

/* maildir_msg_name - give MSG a file name when it has none; 0, or -1
 * (errno ENOENT: the uidlist no longer has its UID) */

int     maildir_msg_name(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    if (msg->file != 0)
	return (0);
    /* The list as read will do: a stale name is found by its base */
    if (MAILDIR_PRIV_OF(folder)->uidlist == 0
	&& uidlist_refresh(folder, why) < 0)
	return (-1);
    if (!name_from_list(folder, msg)) {
	vstring_sprintf(why, "the file of message UID %u in %s is gone",
			msg->uid, folder->path);
	errno = ENOENT;
	return (-1);
    }
    return (0);
}

/* names_guess - names for the view's messages that have none (the list
 * read); those the list lacks stay without one */

static void names_guess(STORE_FOLDER *folder)
{
    int     i;

    for (i = 0; i < folder->count; i++)
	if (folder->msgs[i].file == 0)
	    (void) name_from_list(folder, folder->msgs + i);
}

/* names_from_scan - the view's messages named as SCAN found them */

static void names_from_scan(STORE_FOLDER *folder, MAILDIR_SCAN *scan)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    VSTRING *why = vstring_alloc(100);
    MAILDIR_ENTRY *ent;
    STORE_MSG *msg;
    int     i;

    if (uidlist_refresh(folder, why) == 0)
	names_guess(folder);
    for (i = 0; i < folder->count; i++) {
	msg = folder->msgs + i;
	if ((ent = scan_find(scan, msg)) != 0) {
	    myfree(msg->file);
	    msg->file = maildir_msg_file(ent->sub, ENTRY_NAME(scan, ent));
	}
    }
    priv->names_lazy = 0;
    vstring_free(why);
}

/*
 * Sync: the view against the directories and the uidlist.
 */

/* sync_update - MSG's file name and flags from its entry ENT */

static void sync_update(STORE_MSG *msg, MAILDIR_SCAN *scan, MAILDIR_ENTRY *ent)
{
    const char *name = ENTRY_NAME(scan, ent);
    unsigned flags, keywords;

    if (strncmp(msg->file, maildir_subs[ent->sub], 3) != 0
	|| strcmp(msg->file + 4, name) != 0) {
	myfree(msg->file);
	msg->file = maildir_msg_file(ent->sub, name);
    }
    maildir_name_flags(name, &flags, &keywords);
    msg->flags = flags | (msg->flags & STORE_RECENT);
    msg->keywords = keywords;
}

/* sync_match - find the view's messages in SCAN; mark the missing in GONE */

static int sync_match(STORE_FOLDER *folder, MAILDIR_SCAN *scan,
		              unsigned char *gone)
{
    MAILDIR_ENTRY *ent;
    int     missing = 0;
    int     i;

    for (i = 0; i < folder->count; i++) {
	if ((ent = scan_find(scan, folder->msgs + i)) == 0) {
	    gone[i] = 1;
	    missing++;
	} else {
	    gone[i] = 0;
	    ent->state = ENTRY_VIEW;
	    sync_update(folder->msgs + i, scan, ent);
	}
    }
    return (missing);
}

/* drop_marked - store_msgs_drop() callback: GONE[index] set */

typedef struct DROP_MARKS {
    STORE_FOLDER *folder;
    const unsigned char *gone;
} DROP_MARKS;

static int drop_marked(STORE_MSG *msg, void *ctx)
{
    DROP_MARKS *marks = (DROP_MARKS *) ctx;

    return (marks->gone[msg - marks->folder->msgs]);
}

/* maildir_drop_marked - drop the view's messages whose GONE byte is set */

void    maildir_drop_marked(STORE_FOLDER *folder, const unsigned char *gone)
{
    DROP_MARKS marks;

    marks.folder = folder;
    marks.gone = gone;
    store_msgs_drop(folder, drop_marked, &marks);
}

/* sync_known - UIDs the uidlist has for the new entries (0: none yet);
 * the number still without one */

static int sync_known(STORE_FOLDER *folder, MAILDIR_SCAN *scan,
		              const int *fresh, int nfresh)
{
    MAILDIR_UIDLIST *list = MAILDIR_PRIV_OF(folder)->uidlist;
    const MAILDIR_UIDREC *rec;
    MAILDIR_ENTRY *ent;
    int     need = 0;
    int     i;

    for (i = 0; i < nfresh; i++) {
	ent = scan->ents + fresh[i];
	if (ent->uid != 0)
	    continue;
	rec = maildir_uidlist_lookup(list, ENTRY_NAME(scan, ent),
				     ent->base_len);
	/* A UID the view gives another file: the list was made anew */
	if (rec && store_uid_seq(folder, rec->uid) == 0)
	    ent->uid = rec->uid;
	else
	    need++;
    }
    return (need);
}

/* arrival_compare - qsort_r(): by the time that starts the name (seconds,
 * microseconds), then by name */

static int arrival_compare(const void *a, const void *b, void *ctx)
{
    MAILDIR_SCAN *scan = (MAILDIR_SCAN *) ctx;
    MAILDIR_ENTRY *ea = scan->ents + *(const int *) a;
    MAILDIR_ENTRY *eb = scan->ents + *(const int *) b;
    unsigned long sa, ua, sb, ub;
    size_t  len = ea->base_len < eb->base_len ? ea->base_len : eb->base_len;
    int     diff;

    maildir_name_stamp(ENTRY_NAME(scan, ea), &sa, &ua);
    maildir_name_stamp(ENTRY_NAME(scan, eb), &sb, &ub);
    if (sa != sb)
	return (sa < sb ? -1 : 1);
    if (ua != ub)
	return (ua < ub ? -1 : 1);
    if ((diff = memcmp(ENTRY_NAME(scan, ea), ENTRY_NAME(scan, eb), len)) != 0)
	return (diff);
    return (ea->base_len < eb->base_len ? -1 : ea->base_len > eb->base_len);
}

/*
 * sync_new_uids - give the entries the list lacks the next UIDs, in
 * arrival order, never below a UID of the view; 0 or -1.
 */
static int sync_new_uids(STORE_FOLDER *folder, MAILDIR_SCAN *scan,
			         int *fresh, int nfresh, VSTRING *why)
{
    MAILDIR_UIDLIST *list = MAILDIR_PRIV_OF(folder)->uidlist;
    const MAILDIR_UIDREC *rec;
    MAILDIR_ENTRY *ent;
    unsigned view_max = folder->count ? folder->msgs[folder->count - 1].uid : 0;
    int     i;

    qsort_r(fresh, nfresh, sizeof(*fresh), arrival_compare, scan);
    if (list->uidnext <= view_max)
	list->uidnext = view_max + 1;
    for (i = 0; i < nfresh; i++) {
	ent = scan->ents + fresh[i];
	if (ent->uid != 0)
	    continue;
	/* A record whose UID the view gives another file is replaced */
	if ((rec = maildir_uidlist_lookup(list, ENTRY_NAME(scan, ent),
					  ent->base_len)) != 0)
	    maildir_uidlist_drop(list, rec->uid);
	if ((ent->uid = maildir_uidlist_add(list, ENTRY_NAME(scan, ent),
					    ent->base_len, "")) == 0) {
	    vstring_sprintf(why, "%s: no UIDs left", folder->path);
	    return (-1);
	}
    }
    return (0);
}

/*
 * sync_assign - UIDs for the new entries: under the lock, from the list
 * as it is now, then new ones, then the list written; in memory only for
 * a read-only folder.  0, 1 when the UIDVALIDITY changed meanwhile (sync
 * again), -1 on error.
 */
static int sync_assign(STORE_FOLDER *folder, MAILDIR_SCAN *scan,
		               int *fresh, int nfresh, int need, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    unsigned validity = priv->uidlist->uidvalidity;
    int     ret = 0;

    if (folder->open_flags & STORE_OPEN_READONLY)
	return (need ? sync_new_uids(folder, scan, fresh, nfresh, why) : 0);
    if (need == 0 && !priv->uidlist_new)
	return (0);
    if (maildir_folder_lock(folder, why) < 0)
	return (-1);
    if (priv->uidlist->uidvalidity != validity) {
	ret = 1;
    } else if ((need = sync_known(folder, scan, fresh, nfresh)) > 0
	       || priv->uidlist_new) {
	if (sync_new_uids(folder, scan, fresh, nfresh, why) < 0
	    || maildir_folder_save(folder, why) < 0)
	    ret = -1;
    }
    maildir_folder_unlock(folder);
    return (ret);
}

/* fresh_uid_compare - qsort_r(): entries by UID */

static int fresh_uid_compare(const void *a, const void *b, void *ctx)
{
    MAILDIR_SCAN *scan = (MAILDIR_SCAN *) ctx;
    unsigned ua = scan->ents[*(const int *) a].uid;
    unsigned ub = scan->ents[*(const int *) b].uid;

    return (ua < ub ? -1 : ua > ub);
}

/*
 * sync_fresh_order - the new entries in UID order, so that sync_add()
 * appends them in order and the view needs no sort of its (much larger)
 * messages: by placing each at its UID's offset when the UIDs are dense
 * enough (they are, but for the expunged), else by sorting.  Entries
 * without a UID may be left out: the number of entries left.
 */
static int sync_fresh_order(MAILDIR_SCAN *scan, int *fresh, int nfresh)
{
    unsigned lo = ~0U, hi = 0, uid;
    size_t  range;
    int    *slots;
    int     i, out = 0;

    for (i = 0; i < nfresh; i++) {
	if ((uid = scan->ents[fresh[i]].uid) == 0)
	    continue;
	if (uid < lo)
	    lo = uid;
	if (uid > hi)
	    hi = uid;
    }
    if (lo > hi)
	return (0);				/* none has a UID */
    range = (size_t) (hi - lo) + 1;
    if (range <= 4 * (size_t) nfresh + 1024) {
	slots = (int *) mymalloc(sizeof(*slots) * range);
	memset(slots, 0xff, sizeof(*slots) * range);	/* all -1 */
	for (i = 0; i < nfresh; i++) {
	    if ((uid = scan->ents[fresh[i]].uid) == 0)
		continue;
	    if (slots[uid - lo] >= 0)
		break;				/* a UID twice: sort instead */
	    slots[uid - lo] = fresh[i];
	}
	if (i == nfresh) {
	    for (size_t n = 0; n < range; n++)
		if (slots[n] >= 0)
		    fresh[out++] = slots[n];
	    myfree(slots);
	    return (out);			/* entries without UID: left out */
	}
	myfree(slots);
    }
    qsort_r(fresh, nfresh, sizeof(*fresh), fresh_uid_compare, scan);
    return (nfresh);
}

/* sync_add - the new entries into the view, with their UIDs */

static void sync_add(STORE_FOLDER *folder, MAILDIR_SCAN *scan,
		             const int *fresh, int nfresh)
{
    MAILDIR_UIDLIST *list = MAILDIR_PRIV_OF(folder)->uidlist;
    const MAILDIR_UIDREC *rec;
    MAILDIR_ENTRY *ent;
    STORE_MSG *msg;
    const char *name;
    int     i;

    for (i = 0; i < nfresh; i++) {
	ent = scan->ents + fresh[i];
	if (ent->uid == 0)
	    continue;
	name = ENTRY_NAME(scan, ent);
	msg = store_msg_add(folder);
	msg->uid = ent->uid;
	msg->file = maildir_msg_file(ent->sub, name);
	maildir_name_flags(name, &msg->flags, &msg->keywords);
	if (ent->sub == MAILDIR_SUB_NEW)
	    msg->flags |= STORE_RECENT;
	msg->size = maildir_name_size(name, ent->base_len, 'S');
	msg->vsize = maildir_name_size(name, ent->base_len, 'W');
	if ((msg->size < 0 || msg->vsize < 0)
	    && (rec = maildir_uidlist_lookup(list, name, ent->base_len)) != 0) {
	    if (msg->size < 0)
		msg->size = maildir_uidlist_ext_number(rec->ext, 'S');
	    if (msg->vsize < 0)
		msg->vsize = maildir_uidlist_ext_number(rec->ext, 'W');
	}
    }
}

/* msg_uid_compare - qsort(): ascending UIDs */

static int msg_uid_compare(const void *a, const void *b)
{
    unsigned ua = ((const STORE_MSG *) a)->uid;
    unsigned ub = ((const STORE_MSG *) b)->uid;

    return (ua < ub ? -1 : ua > ub);
}

/* sync_order - keep the view in ascending UID order */

static void sync_order(STORE_FOLDER *folder)
{
    int     i;

    for (i = 1; i < folder->count; i++)
	if (folder->msgs[i].uid < folder->msgs[i - 1].uid)
	    break;
    if (i < folder->count)
	qsort(folder->msgs, folder->count, sizeof(*folder->msgs),
	      msg_uid_compare);
}

/* sync_claim_new - move the view's new/ files to cur/ (IMAP); the
 * number of the view's files still in new/ */

static int sync_claim_new(STORE_FOLDER *folder)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    VSTRING *target = vstring_alloc(100);
    STORE_MSG *msg;
    const char *name;
    int     left = 0;
    int     i;

    for (i = 0; i < folder->count; i++) {
	msg = folder->msgs + i;
	if (maildir_msg_sub(msg, &name) != MAILDIR_SUB_NEW)
	    continue;
	vstring_strcpy(target, name);
	if (strchr(name, ':') == 0)
	    vstring_strcat(target, ":2,");
	if (renameat(priv->sub_fd[MAILDIR_SUB_NEW], name,
		     priv->sub_fd[MAILDIR_SUB_CUR], STR(target)) < 0) {
	    if (errno != ENOENT) {		/* gone: the next sync sees */
		msg_warn("rename %s/%s to cur/%s: %m", folder->path,
			 msg->file, STR(target));
		left++;
	    }
	    continue;
	}
	myfree(msg->file);
	msg->file = maildir_msg_file(MAILDIR_SUB_CUR, STR(target));
    }
    vstring_free(target);
    return (left);
}

/* sync_count_new - the number of the view's files in new/ */

static int sync_count_new(STORE_FOLDER *folder)
{
    int     count = 0;
    int     i;

    for (i = 0; i < folder->count; i++)
	count += (folder->msgs[i].file[0] == 'n');
    return (count);
}

/*
 * Skipping the scan.  Adding, removing or renaming a file in a directory
 * sets the directory's mtime and ctime to the current time.  A sync that
 * reads new/ and cur/ first takes the time, then fstat()s both, then
 * reads them.  When the next sync finds both exactly as that fstat() saw
 * them (inode, size, links, mtime and ctime to the nanosecond) and the
 * uidlist not re-read, nothing was added, removed or renamed in them
 * since: a change after that fstat() would have stamped them with a
 * later time - provided their stamps were older than the sync's start by
 * more than MAILDIR_STAMP_SLACK seconds.  Otherwise (a change in the same
 * tick, a file system that keeps stamps in 1 or 2 s steps, a clock
 * behind by a tick) the folder is "dirty" and every sync reads both
 * directories, until one starts that long after the last change.  Our
 * own renames, unlinks and appends change the stamps too: the sync after
 * them reads the directories again, as one after another process's.
 */
#define MAILDIR_STAMP_SLACK	2		/* seconds */

int     maildir_stamp_slack = MAILDIR_STAMP_SLACK;	/* tests lower it */

/* same_dir_stat - A and B describe the same unchanged directory */

static int same_dir_stat(const struct stat *a, const struct stat *b)
{
    return (a->st_dev == b->st_dev && a->st_ino == b->st_ino
	    && a->st_size == b->st_size && a->st_nlink == b->st_nlink
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
	    && a->st_ctim.tv_sec == b->st_ctim.tv_sec
	    && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec);
}

/* stamps_old - ST was last changed more than the slack before START */

static int stamps_old(const struct stat *st, time_t start)
{
    return (st->st_mtim.tv_sec < start - maildir_stamp_slack
	    && st->st_ctim.tv_sec < start - maildir_stamp_slack);
}

/* sync_stat_dirs - the time, then new/ and cur/ in ST[]; 0 or -1 */

static int sync_stat_dirs(STORE_FOLDER *folder, struct stat *st,
			          time_t *start, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    int     i;

    *start = time((time_t *) 0);		/* the clock file stamps use */
    for (i = 0; i < 2; i++) {
	if (fstat(priv->sub_fd[i], st + i) < 0) {
	    vstring_sprintf(why, "stat %s/%s: %m", folder->path,
			    maildir_subs[i]);
	    return (-1);
	}
    }
    return (0);
}

/* sync_unchanged - 1 when the last full sync's view still holds for ST[] */

static int sync_unchanged(MAILDIR_PRIV *priv, const struct stat *st)
{
    return (priv->scan_clean && !priv->uidlist_read
	    && same_dir_stat(st + MAILDIR_SUB_NEW, priv->sub_st + MAILDIR_SUB_NEW)
	    && same_dir_stat(st + MAILDIR_SUB_CUR, priv->sub_st + MAILDIR_SUB_CUR));
}

/* sync_list - the uidlist current; a new UIDVALIDITY empties the view */

static int sync_list(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);

    if (uidlist_refresh(folder, why) < 0)
	return (-1);
    if (folder->uidvalidity != 0
	&& priv->uidlist->uidvalidity != folder->uidvalidity) {
	msg_warn("%s: UIDVALIDITY changed from %u to %u: all messages get"
		 " new UIDs", folder->path, folder->uidvalidity,
		 priv->uidlist->uidvalidity);
	store_msgs_free(folder);
    }
    return (0);
}

/*
 * sync_once - one sync: 0, 1 (the UIDVALIDITY changed while we were at
 * it: do it again), or -1.
 */
static int sync_once(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    MAILDIR_SCAN *scan = 0;
    unsigned char *gone;
    int    *fresh = 0;
    int     nfresh = 0;
    int     in_new;
    int     claim = ((flags & STORE_SYNC_CLAIM_NEW)
		     && !(folder->open_flags & STORE_OPEN_READONLY));
    struct stat sub_st[2];
    time_t  start;
    int     pass, i, ret;

    if (!uidlist_lazy_current(folder) && sync_list(folder, why) < 0)
	return (-1);
    if (sync_stat_dirs(folder, sub_st, &start, why) < 0)
	return (-1);
    if (sync_unchanged(priv, sub_st)) {
	if (claim && priv->view_new)
	    priv->view_new = sync_claim_new(folder);
	folder->view_same = 1;			/* names may move, not flags */
	return (0);
    }
    if (priv->uidlist == 0 && sync_list(folder, why) < 0)
	return (-1);
    if (priv->names_lazy) {
	names_guess(folder);			/* matched by base name */
	priv->names_lazy = 0;
    }
    /* Until this sync is done, the next one reads the directories */
    priv->scan_clean = 0;
    priv->uidlist_read = 0;
    gone = (unsigned char *) mymalloc(folder->count + 1);
    for (pass = 0; pass < 2; pass++) {
	if (scan)
	    scan_free(scan);
	if ((scan = scan_folder(folder, folder->count > 0, why)) == 0) {
	    myfree(gone);
	    return (-1);
	}
	if (folder->count == 0) {
	    scan_known(folder, scan);		/* nothing to match */
	    break;
	}
	if (sync_match(folder, scan, gone) == 0)
	    break;
    }
    maildir_drop_marked(folder, gone);
    myfree(gone);

    fresh = (int *) mymalloc(sizeof(*fresh) * (scan->count + 1));
    for (i = 0; i < scan->count; i++)
	if (scan->ents[i].state == ENTRY_FREE)
	    fresh[nfresh++] = i;
    ret = sync_assign(folder, scan, fresh, nfresh,
		      sync_known(folder, scan, fresh, nfresh), why);
    /*
     * The list's table of names is not needed until new files appear (it
     * is made again then): free it before the view grows, and after.
     */
    if (priv->uidlist)
	maildir_uidlist_unindex(priv->uidlist);
    if (ret == 0) {
	nfresh = sync_fresh_order(scan, fresh, nfresh);
	sync_add(folder, scan, fresh, nfresh);
	maildir_uidlist_unindex(priv->uidlist);
	sync_order(folder);
	in_new = sync_count_new(folder);
	priv->view_new = (claim && in_new > 0 ? sync_claim_new(folder) : in_new);
	folder->uidvalidity = priv->uidlist->uidvalidity;
	folder->uidnext = priv->uidlist->uidnext;
	if (folder->count
	    && folder->uidnext <= folder->msgs[folder->count - 1].uid)
	    folder->uidnext = folder->msgs[folder->count - 1].uid + 1;
	memcpy(priv->sub_st, sub_st, sizeof(priv->sub_st));
	/* Claimed files changed both directories after their fstat() */
	priv->scan_clean = (!(claim && in_new > 0)
			    && stamps_old(sub_st + MAILDIR_SUB_NEW, start)
			    && stamps_old(sub_st + MAILDIR_SUB_CUR, start));
    }
    myfree(fresh);
    scan_free(scan);
    return (ret);
}

static int maildir_sync(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    int     tries;
    int     ret = 1;

    for (tries = 0; ret == 1 && tries < MAILDIR_SYNC_TRIES; tries++)
	if ((ret = sync_once(folder, flags, why)) < 0)
	    return (-1);
    if (ret == 1) {
	vstring_sprintf(why, "%s: the UID list keeps changing", folder->path);
	return (-1);
    }
    return (maildir_keywords_refresh(folder, why));
}

/*
 * Open and close.
 */

/* open_dirs - the Maildir (created with its subdirectories if asked) and
 * its new/ and cur/; 0 or -1 */

static int open_dirs(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    static const char *subs[] = {"tmp", "new", "cur"};
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    int     create = ((flags & STORE_OPEN_CREATE)
		      && !(flags & STORE_OPEN_READONLY));
    VSTRING *path = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    struct stat st;
    size_t  i;
    int     ret = -1;

    /* Without trailing '/': a symbolic link must look like one */
    vstring_strcpy(path, folder->path);
    while (LEN(path) > 1 && STR(path)[LEN(path) - 1] == '/')
	vstring_truncate(path, LEN(path) - 1);
    if (create && mkdir(STR(path), 0700) < 0 && errno != EEXIST) {
	vstring_sprintf(why, "create folder %s: %m", folder->path);
	goto out;
    }
    if ((priv->dir_fd = safe_open_dir(STR(path), geteuid(), &st, reason)) < 0) {
	if (errno == ENOENT)
	    vstring_sprintf(why, "no such folder: %s", folder->path);
	else
	    vstring_sprintf(why, "open folder %s: %s", folder->path,
			    STR(reason));
	goto out;
    }
    for (i = 0; create && i < sizeof(subs) / sizeof(subs[0]); i++) {
	if (mkdirat(priv->dir_fd, subs[i], 0700) < 0 && errno != EEXIST) {
	    vstring_sprintf(why, "create %s/%s: %m", folder->path, subs[i]);
	    goto out;
	}
    }
    for (i = 0; i < 2; i++) {
	priv->sub_fd[i] = openat(priv->dir_fd, maildir_subs[i], O_RDONLY
				 | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (priv->sub_fd[i] < 0) {
	    vstring_sprintf(why, "not a Maildir: %s/%s: %m", folder->path,
			    maildir_subs[i]);
	    goto out;
	}
    }
    ret = 0;
out:
    vstring_free(path);
    vstring_free(reason);
    return (ret);
}

static void maildir_close(STORE_FOLDER *folder)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    int     i;

    if (priv == 0)
	return;
    if (priv->dir_fd >= 0)
	(void) close(priv->dir_fd);
    for (i = 0; i < 2; i++)
	if (priv->sub_fd[i] >= 0)
	    (void) close(priv->sub_fd[i]);
    maildir_folder_forget(priv);
    myfree(priv);
    folder->priv = 0;
}

/* maildir_open - the directories; store.c makes the view (adopt, sync) */

static int maildir_open(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    MAILDIR_PRIV *priv = (MAILDIR_PRIV *) mycalloc(1, sizeof(*priv));

    priv->dir_fd = priv->sub_fd[0] = priv->sub_fd[1] = -1;
    folder->priv = priv;
    if (open_dirs(folder, flags, why) == 0)
	return (0);
    maildir_close(folder);			/* store.c frees the folder */
    return (-1);
}

/*
 * The view stamp: new/, cur/ and the uidlist as a full sync saw them.
 */

#define STAMP_TAG	"MD1"
#define STAMP_FIELDS	8		/* 64-bit numbers per file */

/* stamp_file - ST's identity and change stamps, for the stamp data */

static void stamp_file(VSTRING *data, const struct stat *st)
{
    uint64_t v[STAMP_FIELDS];

    v[0] = (uint64_t) st->st_dev;
    v[1] = (uint64_t) st->st_ino;
    v[2] = (uint64_t) st->st_size;
    v[3] = (uint64_t) st->st_nlink;
    v[4] = (uint64_t) st->st_mtim.tv_sec;
    v[5] = (uint64_t) st->st_mtim.tv_nsec;
    v[6] = (uint64_t) st->st_ctim.tv_sec;
    v[7] = (uint64_t) st->st_ctim.tv_nsec;
    vstring_memcat(data, (char *) v, sizeof(v));
}

/* stamp_make - the stamp data for new/, cur/ (SUB_ST) and the uidlist */

static void stamp_make(VSTRING *data, const struct stat *sub_st,
		               const struct stat *list_st)
{
    vstring_strcpy(data, STAMP_TAG);
    stamp_file(data, sub_st + MAILDIR_SUB_NEW);
    stamp_file(data, sub_st + MAILDIR_SUB_CUR);
    stamp_file(data, list_st);
}

/* maildir_stamp - the view is a settled full sync's, with nothing in new/ */

static int maildir_stamp(STORE_FOLDER *folder, VSTRING *data)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);

    if (!priv->scan_clean || priv->uidlist_read || priv->view_new
	|| priv->uidlist_new || (priv->uidlist == 0 && !priv->list_lazy)
	|| priv->uidlist_st.st_ino == 0)
	return (0);
    stamp_make(data, priv->sub_st, &priv->uidlist_st);
    return (1);
}

/* maildir_adopt - the index's view, when the folder is as DATA says */

static int maildir_adopt(STORE_FOLDER *folder, const char *data, size_t len,
			         VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    VSTRING *now = vstring_alloc(STORE_STAMP_MAX);
    struct stat sub_st[2], list_st;
    time_t  start;
    int     same;

    if (sync_stat_dirs(folder, sub_st, &start, why) < 0
	|| uidlist_stat(folder, &list_st, why) < 0) {
	vstring_free(now);
	return (-1);
    }
    stamp_make(now, sub_st, &list_st);
    same = (LEN(now) == len && memcmp(STR(now), data, len) == 0);
    vstring_free(now);
    if (!same || maildir_keywords_refresh(folder, why) < 0)
	return (same ? -1 : 0);
    memcpy(priv->sub_st, sub_st, sizeof(priv->sub_st));
    priv->uidlist_st = list_st;
    priv->scan_clean = 1;
    priv->uidlist_read = 0;
    priv->view_new = 0;
    priv->list_lazy = 1;
    priv->names_lazy = 1;
    return (1);
}

const STORE_DRIVER store_maildir_driver = {
    .name = "maildir",
    .open = maildir_open,
    .sync = maildir_sync,
    .close = maildir_close,
    .msg_open = maildir_msg_open,
    .msg_stat = maildir_msg_stat,
    .expunge = maildir_expunge,
    .set_flags = maildir_set_flags,
    .append = maildir_append,
    .keywords_save = maildir_keywords_save,
    .stamp = maildir_stamp,
    .adopt = maildir_adopt,
};
