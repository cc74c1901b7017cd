/*
 * store_root_maildir.c - the Maildir++ layout of a user's folders
 * (ROOT_LAYOUT, store_root_priv.h), as Dovecot keeps it.
 *
 * INBOX is the Maildir itself; folder "A.B" (separator ".") is the
 * directory ".A.B" in it, a Maildir of its own with an empty
 * "maildirfolder" file, its name in modified UTF-7 (".Entw&APw-rfe").
 * Every folder is one directory beside the others: a parent is not
 * needed ("CREATE a.b.c" makes ".a.b.c" only; "a" and "a.b" are then
 * listed \Noselect), deleting a folder leaves its children, and renaming
 * one renames each ".OLD.*" directory too (also for a parent that exists
 * only through its children, as Dovecot allows).  Names may not hold
 * "/" and must fit one directory entry.
 *
 * A directory entry is a folder when it starts with "." (not ".." or
 * "..x", which Maildir++ cannot name), is a real directory (not a
 * symbolic link) and its name decodes to a name we could have made.  A
 * folder without cur/ is listed (Dovecot does); opening it for writing
 * makes tmp/, new/ and cur/, as Dovecot does.  A folder we create gets
 * its dovecot-uidlist at once, so that its UIDVALIDITY is the same for
 * every reader from the start (a read-only open writes none, and would
 * make one up each time).  A deleted folder is first
 * renamed to "..posthorn-deleted.PID.N" (gone at once for every reader),
 * then removed.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_utf7.h"
#include "store.h"
#include "maildir_uidlist.h"
#include "store_root_priv.h"

#define MAILDIR_SUBFOLDER	"maildirfolder"

/* dir_name - the directory of NAME: ".ENC" */

static const char *dir_name(const ROOT_NAME *name, VSTRING *buf)
{
    vstring_sprintf(buf, ".%s", STR(name->enc));
    return (STR(buf));
}

/* is_dir - NAME under FD is a directory (not a symbolic link) */

static int is_dir(int fd, const char *name, unsigned char d_type)
{
    struct stat st;

    if (d_type != DT_UNKNOWN)
	return (d_type == DT_DIR);
    return (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
	    && S_ISDIR(st.st_mode));
}

/* layout_name_ok - Maildir++ rules */

static int layout_name_ok(const char *enc, VSTRING *why)
{
    if (strchr(enc, '/') != 0) {
	vstring_strcpy(why, "invalid folder name (contains '/')");
	return (-1);
    }
    if (strlen(enc) + 1 > ROOT_LEVEL_MAX) {
	vstring_strcpy(why, "invalid folder name (too long)");
	return (-1);
    }
    return (0);
}

/* read_dirs - call FN with every directory entry ".X" of the root */

static int read_dirs(STORE_ROOT *root, void (*fn) (const char *, void *),
		             void *ctx, VSTRING *why)
{
    struct dirent *de;
    DIR    *dp;
    int     fd;

    if ((fd = dup(root->dir_fd)) < 0 || (dp = fdopendir(fd)) == 0) {
	vstring_sprintf(why, "read directory %s: %m", root->dir);
	if (fd >= 0)
	    (void) close(fd);
	return (-1);
    }
    rewinddir(dp);				/* the offset is dir_fd's */
    for (errno = 0; (de = readdir(dp)) != 0; errno = 0) {
	if (de->d_name[0] != '.' || de->d_name[1] == 0 || de->d_name[1] == '.')
	    continue;
	if (is_dir(root->dir_fd, de->d_name, de->d_type))
	    fn(de->d_name, ctx);
    }
    if (errno != 0) {
	vstring_sprintf(why, "read directory %s: %m", root->dir);
	(void) closedir(dp);
	return (-1);
    }
    (void) closedir(dp);
    return (0);
}

/* Scanning */

typedef struct SCAN_CTX {
    STORE_ROOT *root;
    ROOT_LIST *list;
    VSTRING *utf8;
} SCAN_CTX;

static void scan_one(const char *dir, void *ctx)
{
    SCAN_CTX *scan = (SCAN_CTX *) ctx;

    if (root_name_from_disk(scan->root, dir + 1, scan->utf8) == 0)
	root_list_add(scan->list, STR(scan->utf8), 0);
}

static int maildir_scan(STORE_ROOT *root, ROOT_LIST *list, VSTRING *why)
{
    SCAN_CTX scan = {root, list, vstring_alloc(100)};
    int     ret;

    ret = read_dirs(root, scan_one, &scan, why);
    vstring_free(scan.utf8);
    return (ret);
}

static int maildir_kind_of(STORE_ROOT *root, const ROOT_NAME *name)
{
    VSTRING *dir = vstring_alloc(100);
    int     kind = is_dir(root->dir_fd, dir_name(name, dir), DT_UNKNOWN) ?
    ROOT_MAIL : ROOT_NONE;

    vstring_free(dir);
    return (kind);
}

/* fill_maildir - tmp/ new/ cur/ and maildirfolder in the open FD */

static int fill_maildir(int fd)
{
    static const char *subs[] = {"tmp", "new", "cur"};
    int     file;

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
	if (mkdirat(fd, subs[i], 0700) < 0 && errno != EEXIST)
	    return (-1);
    file = openat(fd, MAILDIR_SUBFOLDER, O_WRONLY | O_CREAT | O_NOFOLLOW
		  | O_CLOEXEC, 0600);
    if (file < 0)
	return (-1);
    (void) close(file);
    return (0);
}

/* write_uidlist - an empty dovecot-uidlist in the new folder DIR (open FD) */

static void write_uidlist(STORE_ROOT *root, int fd, const char *dir)
{
    MAILDIR_UIDLIST *list = maildir_uidlist_create((unsigned) time((time_t *) 0));
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    struct stat st;

    vstring_sprintf(path, "%s/%s", root->dir, dir);
    if (maildir_uidlist_write(fd, STR(path), list, &st, why) < 0)
	msg_warn("%s", STR(why));		/* the first writer makes one */
    maildir_uidlist_free(list);
    vstring_free(path);
    vstring_free(why);
}

static int maildir_create(STORE_ROOT *root, const ROOT_NAME *name,
			          int container, VSTRING *why)
{
    VSTRING *dir = vstring_alloc(100);
    VSTRING *ignored = vstring_alloc(100);
    int     fd = -1, ret = -1;

    if (mkdirat(root->dir_fd, dir_name(name, dir), 0700) < 0) {
	if (errno == EEXIST)
	    vstring_sprintf(why, "folder already exists: %s", STR(name->utf8));
	else
	    vstring_sprintf(why, "create folder %s: %m", STR(name->utf8));
    } else if ((fd = root_open_dir(root->dir_fd, STR(dir))) < 0
	       || fill_maildir(fd) < 0) {
	vstring_sprintf(why, "create folder %s: %m", STR(name->utf8));
	if (fd >= 0)
	    (void) close(fd);
	(void) root_remove_tree(root->dir_fd, STR(dir), ignored);
    } else {
	write_uidlist(root, fd, STR(dir));
	(void) close(fd);
	ret = 0;
    }
    vstring_free(dir);
    vstring_free(ignored);
    return (ret);
}

static int maildir_delete(STORE_ROOT *root, const ROOT_NAME *name, VSTRING *why)
{
    static unsigned count;
    VSTRING *dir = vstring_alloc(100);
    VSTRING *trash = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    int     ret = -1;

    vstring_sprintf(trash, "..posthorn-deleted.%ld.%u", (long) getpid(),
		    count++);
    if (!is_dir(root->dir_fd, dir_name(name, dir), DT_UNKNOWN)) {
	vstring_sprintf(why, "no such folder: %s", STR(name->utf8));
    } else if (root_rename_noreplace(root->dir_fd, STR(dir), root->dir_fd,
				     STR(trash)) < 0) {
	vstring_sprintf(why, "delete folder %s: %m", STR(name->utf8));
    } else {
	if (root_remove_tree(root->dir_fd, STR(trash), reason) < 0)
	    msg_warn("%s/%s: %s", root->dir, STR(trash), STR(reason));
	ret = 0;
    }
    vstring_free(dir);
    vstring_free(trash);
    vstring_free(reason);
    return (ret);
}

/*
 * Renaming: the folder's own directory and its children's.
 */

typedef struct RENAME_CTX {
    const char *old_dir;		/* ".OLD" */
    size_t  old_len;
    char  **dirs;			/* to rename */
    int     count;
} RENAME_CTX;

static void rename_collect(const char *dir, void *ctx)
{
    RENAME_CTX *rc = (RENAME_CTX *) ctx;

    if (strncmp(dir, rc->old_dir, rc->old_len) != 0
	|| (dir[rc->old_len] != 0 && dir[rc->old_len] != '.'))
	return;
    rc->dirs = (char **) myrealloc(rc->dirs,
				   (size_t) (rc->count + 1) * sizeof(char *));
    rc->dirs[rc->count++] = mystrdup(dir);
}

/* rename_target - the new directory of OLD_DIR */

static const char *rename_target(const RENAME_CTX *rc, const char *new_dir,
				         const char *old_dir, VSTRING *buf)
{
    vstring_sprintf(buf, "%s%s", new_dir, old_dir + rc->old_len);
    return (STR(buf));
}

/* rename_taken - a target that exists already, in WHY; 1 if any */

static int rename_taken(STORE_ROOT *root, const RENAME_CTX *rc,
			        const char *new_dir, VSTRING *why)
{
    VSTRING *target = vstring_alloc(100);
    VSTRING *utf8 = vstring_alloc(100);
    struct stat st;
    int     taken = 0;

    for (int i = 0; i < rc->count && !taken; i++) {
	(void) rename_target(rc, new_dir, rc->dirs[i], target);
	if (fstatat(root->dir_fd, STR(target), &st, AT_SYMLINK_NOFOLLOW) == 0) {
	    if (imap_utf7_to_utf8(utf8, STR(target) + 1) < 0)
		vstring_strcpy(utf8, STR(target) + 1);
	    vstring_sprintf(why, "folder already exists: %s", STR(utf8));
	    taken = 1;
	}
    }
    vstring_free(target);
    vstring_free(utf8);
    return (taken);
}

/* rename_all - rename every directory; undo them all if one fails */

static int rename_all(STORE_ROOT *root, const RENAME_CTX *rc,
		              const ROOT_NAME *old_name, const char *new_dir,
		              VSTRING *why)
{
    VSTRING *target = vstring_alloc(100);
    int     done;

    for (done = 0; done < rc->count; done++) {
	(void) rename_target(rc, new_dir, rc->dirs[done], target);
	if (root_rename_noreplace(root->dir_fd, rc->dirs[done], root->dir_fd,
				  STR(target)) < 0)
	    break;
    }
    if (done < rc->count) {
	vstring_sprintf(why, "rename folder %s: %m", STR(old_name->utf8));
	while (done-- > 0) {
	    (void) rename_target(rc, new_dir, rc->dirs[done], target);
	    if (renameat(root->dir_fd, STR(target), root->dir_fd,
			 rc->dirs[done]) < 0)
		msg_warn("%s: cannot undo rename of %s: %m", root->dir,
			 rc->dirs[done]);
	}
    }
    vstring_free(target);
    return (done == rc->count ? 0 : -1);
}

static int maildir_rename(STORE_ROOT *root, const ROOT_NAME *old_name,
			          const ROOT_NAME *new_name, VSTRING *why)
{
    VSTRING *old_dir = vstring_alloc(100);
    VSTRING *new_dir = vstring_alloc(100);
    RENAME_CTX rc;
    int     ret = -1;

    rc.old_dir = dir_name(old_name, old_dir);
    rc.old_len = LEN(old_dir);
    rc.dirs = 0;
    rc.count = 0;
    (void) dir_name(new_name, new_dir);
    if (read_dirs(root, rename_collect, &rc, why) < 0)
	 /* void */ ;
    else if (rc.count == 0)
	vstring_sprintf(why, "no such folder: %s", STR(old_name->utf8));
    else if (!rename_taken(root, &rc, STR(new_dir), why))
	ret = rename_all(root, &rc, old_name, STR(new_dir), why);
    for (int i = 0; i < rc.count; i++)
	myfree(rc.dirs[i]);
    if (rc.dirs)
	myfree(rc.dirs);
    vstring_free(old_dir);
    vstring_free(new_dir);
    return (ret);
}

/* maildir_folder - open a folder; tmp/ new/ cur/ made when missing */

static STORE_FOLDER *maildir_folder(STORE_ROOT *root, const ROOT_NAME *name,
				            int flags, VSTRING *why)
{
    VSTRING *dir = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    STORE_FOLDER *folder = 0;
    struct stat st;
    int     fd;

    if ((fd = root_open_dir(root->dir_fd, dir_name(name, dir))) < 0) {
	vstring_sprintf(why, "no such folder: %s", STR(name->utf8));
    } else {
	if (!(flags & STORE_OPEN_READONLY)
	    && fstatat(fd, "cur", &st, AT_SYMLINK_NOFOLLOW) < 0
	    && errno == ENOENT)
	    flags |= STORE_OPEN_CREATE;
	(void) close(fd);
	vstring_sprintf(path, "%s/%s", root->dir, STR(dir));
	folder = store_open(STORE_KIND_MAILDIR, STR(path), flags, why);
    }
    vstring_free(dir);
    vstring_free(path);
    return (folder);
}

const ROOT_LAYOUT root_maildir_layout = {
    .sep = '.',
    .subs_file = "subscriptions",
    .marker_file = "posthorn-special-use",
    .name_ok = layout_name_ok,
    .scan = maildir_scan,
    .kind_of = maildir_kind_of,
    .create = maildir_create,
    .delete = maildir_delete,
    .rename = maildir_rename,
    .folder = maildir_folder,
};
