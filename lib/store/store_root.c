/*
 * store_root.c - a user's folders (store.h, "A user's folders"): opening
 * a root, checking folder names, and the operations that are the same
 * for both layouts; the layouts do the disk work (store_root_maildir.c,
 * store_root_mbox.c through ROOT_LAYOUT, store_root_priv.h).  Listing is
 * in store_root_list.c, subscriptions in store_root_subs.c, renaming
 * INBOX in store_root_inbox.c.
 *
 * Folder names, as Dovecot 2.3 checks them (so a tree either server made
 * is valid for the other): not empty, no empty level (no leading, double
 * or trailing separator), not beginning with "~", valid UTF-8 without
 * control characters, at most ROOT_NAME_MAX bytes in modified UTF-7; a
 * first level "INBOX" in any case is INBOX ("inbox.x" is "INBOX.x", whose
 * Maildir++ directory is ".INBOX.x" and whose mbox file is INBOX/x under
 * the folder directory); each layout adds its own rules (name_ok).
 *
 * Opening a root makes its directory and missing parents (the Maildir,
 * or the mbox folder directory; the latter may also be unusable, and
 * the root then has INBOX only) and, the first time only, Drafts, Sent,
 * Trash and Junk, subscribed.  A marker file (layout->marker_file:
 * "posthorn-special-use" in the Maildir, ".imap/posthorn-special-use"
 * in the mbox folder directory) records that this was done, so a folder
 * the user deletes later stays deleted (unlike Dovecot's "auto =
 * subscribe", which shows it again at every login); a tree that Dovecot
 * served gets them at its first Posthorn login.  A failure there is
 * logged and retried at the next open.
 *
 * Subscriptions follow Dovecot: SUBSCRIBE needs a folder that exists
 * (INBOX, a folder, an mbox directory), UNSUBSCRIBE does not, and DELETE
 * and RENAME leave the subscriptions as they are (a deleted folder stays
 * subscribed, listed \NonExistent).
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "safe_open.h"
#include "imap_utf7.h"
#include "store.h"
#include "store_root_priv.h"

#define ROOT_REMOVE_PASSES	5	/* readdir() while removing entries */

/* Folders made once, with their SPECIAL-USE attributes */
static const char *special_names[] = {"Drafts", "Sent", "Trash", "Junk", 0};

/*
 * Names.
 */

ROOT_NAME *root_name_alloc(void)
{
    ROOT_NAME *name = (ROOT_NAME *) mymalloc(sizeof(*name));

    name->utf8 = vstring_alloc(100);
    name->enc = vstring_alloc(100);
    return (name);
}

void    root_name_free(ROOT_NAME *name)
{
    vstring_free(name->utf8);
    vstring_free(name->enc);
    myfree(name);
}

int     root_is_inbox(const char *utf8)
{
    return (strcasecmp(utf8, "INBOX") == 0);
}

/* name_syntax - the rules for every layout; a reason, or NULL */

static const char *name_syntax(const char *utf8, int sep)
{
    const char *cp;

    if (*utf8 == 0)
	return ("name is empty");
    for (cp = utf8; *cp; cp++) {
	if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
	    return ("control characters are not allowed");
	if (*cp == sep && (cp == utf8 || cp[1] == sep || cp[1] == 0))
	    return ("empty hierarchy level");
    }
    if (*utf8 == '~')
	return ("begins with '~'");
    return (0);
}

/*
 * root_name_parse - check UTF8 as a folder name of ROOT (not INBOX
 * itself), into NAME; 0, or -1 with WHY
 */
int     root_name_parse(STORE_ROOT *root, const char *utf8, ROOT_NAME *name,
			        VSTRING *why)
{
    int     sep = root->layout->sep;
    const char *reason;
    size_t  first;

    if ((reason = name_syntax(utf8, sep)) != 0) {
	vstring_sprintf(why, "invalid folder name (%s)", reason);
	return (-1);
    }
    vstring_strcpy(name->utf8, utf8);
    first = strcspn(utf8, (char[]) {(char) sep, 0});
    if (first == 5 && strncasecmp(utf8, "INBOX", 5) == 0)
	memcpy(STR(name->utf8), "INBOX", 5);
    if (imap_utf8_to_utf7(name->enc, STR(name->utf8)) < 0) {
	vstring_strcpy(why, "invalid folder name (not UTF-8)");
	return (-1);
    }
    if (LEN(name->enc) > ROOT_NAME_MAX) {
	vstring_strcpy(why, "invalid folder name (too long)");
	return (-1);
    }
    return (root->layout->name_ok(STR(name->enc), why));
}

/*
 * root_name_from_disk - the UTF-8 name of a folder ENC found on disk; -1
 * when it is not one we could have made (it is then not listed)
 */
int     root_name_from_disk(STORE_ROOT *root, const char *enc, VSTRING *utf8)
{
    ROOT_NAME *name;
    VSTRING *why;
    int     ret = -1;

    if (imap_utf7_to_utf8(utf8, enc) < 0 || root_is_inbox(STR(utf8)))
	return (-1);
    name = root_name_alloc();
    why = vstring_alloc(100);
    if (root_name_parse(root, STR(utf8), name, why) == 0
	&& strcmp(STR(name->enc), enc) == 0)
	ret = 0;
    root_name_free(name);
    vstring_free(why);
    return (ret);
}

/* parse_or_fail - root_name_parse into a new ROOT_NAME, or NULL */

static ROOT_NAME *parse_or_fail(STORE_ROOT *root, const char *utf8,
			               VSTRING *why)
{
    ROOT_NAME *name = root_name_alloc();

    if (root_name_parse(root, utf8, name, why) < 0) {
	root_name_free(name);
	return (0);
    }
    return (name);
}

/*
 * Directories.
 */

/* root_dir_available - the folder directory can be used; else -1, WHY */

int     root_dir_available(STORE_ROOT *root, VSTRING *why)
{
    if (root->dir_fd >= 0)
	return (0);
    vstring_sprintf(why, "folder directory %s is not available",
		    root->dir ? root->dir : "(none)");
    return (-1);
}

/* root_open_dir - NAME under DIR_FD as a directory, never through a link */

int     root_open_dir(int dir_fd, const char *name)
{
    return (openat(dir_fd, name,
		   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

static int remove_tree(int dir_fd, const char *name, int depth, VSTRING *why);

/* remove_entries - empty the open directory FD; 0 or -1 */

static int remove_entries(int fd, int depth, VSTRING *why)
{
    struct dirent *de;
    DIR    *dp;
    int     pass, removed, dup_fd;

    if ((dup_fd = dup(fd)) < 0 || (dp = fdopendir(dup_fd)) == 0) {
	vstring_sprintf(why, "read directory: %m");
	if (dup_fd >= 0)
	    (void) close(dup_fd);
	return (-1);
    }
    /* Entries removed during readdir() may hide others: read again */
    for (pass = 0, removed = 1; removed && pass < ROOT_REMOVE_PASSES; pass++) {
	rewinddir(dp);
	for (removed = 0; (de = readdir(dp)) != 0; /* void */ ) {
	    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		continue;
	    removed++;
	    if (unlinkat(fd, de->d_name, 0) == 0)
		continue;
	    if ((errno != EISDIR && errno != EPERM)
		|| depth >= ROOT_DEPTH_MAX) {
		vstring_sprintf(why, "remove %s: %m", de->d_name);
		(void) closedir(dp);
		return (-1);
	    }
	    if (remove_tree(fd, de->d_name, depth + 1, why) < 0) {
		(void) closedir(dp);
		return (-1);
	    }
	}
    }
    (void) closedir(dp);
    return (0);
}

/* remove_tree - NAME under DIR_FD, DEPTH levels below the first */

static int remove_tree(int dir_fd, const char *name, int depth, VSTRING *why)
{
    int     fd, ret;

    if ((fd = root_open_dir(dir_fd, name)) < 0) {
	if (errno == ENOENT)
	    return (0);
	if (errno != ENOTDIR && errno != ELOOP) {
	    vstring_sprintf(why, "open %s: %m", name);
	    return (-1);
	}
	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT) {
	    vstring_sprintf(why, "remove %s: %m", name);
	    return (-1);
	}
	return (0);
    }
    ret = remove_entries(fd, depth, why);
    (void) close(fd);
    if (ret == 0 && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0
	&& errno != ENOENT) {
	vstring_sprintf(why, "remove directory %s: %m", name);
	ret = -1;
    }
    return (ret);
}

/*
 * root_remove_tree - remove NAME under DIR_FD, a file or a whole
 * directory tree, never following a symbolic link; a missing NAME is no
 * error.  0, or -1 with WHY.
 */
int     root_remove_tree(int dir_fd, const char *name, VSTRING *why)
{
    return (remove_tree(dir_fd, name, 0, why));
}

/*
 * root_rename_noreplace - rename, failing with EEXIST when the new name
 * is taken (renameat2 where the file system has it)
 */
int     root_rename_noreplace(int old_fd, const char *old_name, int new_fd,
			              const char *new_name)
{
    struct stat st;

    if (renameat2(old_fd, old_name, new_fd, new_name, RENAME_NOREPLACE) == 0)
	return (0);
    if (errno != EINVAL && errno != ENOSYS)
	return (-1);
    if (fstatat(new_fd, new_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
	errno = EEXIST;
	return (-1);
    }
    return (renameat(old_fd, old_name, new_fd, new_name));
}

/*
 * Opening.
 */

/* make_dirs - mkdir -p PATH (mode 0700), as Dovecot makes a mail root */

static int make_dirs(const char *path)
{
    char   *copy = mystrdup(path);
    char   *cp;
    int     ret;

    for (cp = copy + 1; (cp = strchr(cp, '/')) != 0; cp++) {
	*cp = 0;
	if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
	    *cp = '/';
	    break;
	}
	*cp = '/';
    }
    ret = mkdir(copy, 0700);
    myfree(copy);
    return (ret < 0 && errno != EEXIST ? -1 : 0);
}

/* open_top - make and open ROOT's directory; 0 or -1 with WHY */

static int open_top(STORE_ROOT *root, VSTRING *why)
{
    VSTRING *reason = vstring_alloc(100);
    struct stat st;

    if (root->dir == 0 || *root->dir == 0) {
	vstring_strcpy(why, "no folder directory");
	vstring_free(reason);
	return (-1);
    }
    if (make_dirs(root->dir) < 0)
	vstring_sprintf(why, "create %s: %m", root->dir);
    else if ((root->dir_fd = safe_open_dir(root->dir, geteuid(), &st,
					   reason)) < 0)
	vstring_sprintf(why, "open %s: %s", root->dir, STR(reason));
    vstring_free(reason);
    return (root->dir_fd >= 0 ? 0 : -1);
}

/* write_marker - note that the special-use folders were made */

static void write_marker(STORE_ROOT *root)
{
    const char *marker = root->layout->marker_file;
    const char *slash = strrchr(marker, '/');
    char   *dir;
    int     fd;

    if (slash) {
	dir = mystrndup(marker, (size_t) (slash - marker));
	if (mkdirat(root->dir_fd, dir, 0700) < 0 && errno != EEXIST)
	    msg_warn("create %s/%s: %m", root->dir, dir);
	myfree(dir);
    }
    fd = openat(root->dir_fd, marker,
		O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
	msg_warn("create %s/%s: %m", root->dir, marker);
	return;
    }
    if (write(fd, "Drafts Sent Trash Junk\n", 23) != 23)
	msg_warn("write %s/%s: %m", root->dir, marker);
    (void) close(fd);
}

/* special_use - make Drafts, Sent, Trash, Junk (subscribed), once */

static void special_use(STORE_ROOT *root)
{
    ROOT_NAME *name = root_name_alloc();
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     i, ok = 1;

    if (fstatat(root->dir_fd, root->layout->marker_file, &st,
		AT_SYMLINK_NOFOLLOW) == 0) {
	root_name_free(name);
	vstring_free(why);
	return;
    }
    for (i = 0; special_names[i]; i++) {
	if (root_name_parse(root, special_names[i], name, why) < 0)
	    msg_panic("special_use: %s: %s", special_names[i], STR(why));
	if (root->layout->kind_of(root, name) == ROOT_NONE
	    && root->layout->create(root, name, 0, why) < 0
	    && root->layout->kind_of(root, name) == ROOT_NONE) {
	    msg_warn("create folder %s in %s: %s", special_names[i], root->dir,
		     STR(why));
	    ok = 0;
	} else if (root_subs_change(root, name, 1, why) < 0) {
	    msg_warn("subscribe folder %s in %s: %s", special_names[i],
		     root->dir, STR(why));
	    ok = 0;
	}
    }
    if (ok)
	write_marker(root);
    root_name_free(name);
    vstring_free(why);
}

STORE_ROOT *store_root_open(int kind, const char *inbox, const char *folder_dir,
			            VSTRING *why)
{
    STORE_ROOT *root = (STORE_ROOT *) mycalloc(1, sizeof(*root));
    size_t  len;

    vstring_reset(why);
    root->kind = kind;
    root->dir_fd = -1;
    root->inbox = mystrdup(inbox);
    switch (kind) {
    case STORE_KIND_MAILDIR:
	root->layout = &root_maildir_layout;
	for (len = strlen(inbox); len > 1 && inbox[len - 1] == '/'; len--)
	     /* void */ ;
	root->dir = mystrndup(inbox, len);
	break;
    case STORE_KIND_MBOX:
	root->layout = &root_mbox_layout;
	root->dir = folder_dir ? mystrdup(folder_dir) : 0;
	break;
    default:
	msg_panic("store_root_open: bad kind %d", kind);
    }
    if (open_top(root, why) < 0) {
	if (kind == STORE_KIND_MAILDIR) {
	    store_root_close(root);
	    return (0);
	}
	/* mbox: INBOX still works */
	msg_warn("mail folders unavailable: %s", STR(why));
	vstring_reset(why);
    }
    if (root->dir_fd >= 0)
	special_use(root);
    return (root);
}

void    store_root_close(STORE_ROOT *root)
{
    if (root->dir_fd >= 0)
	(void) close(root->dir_fd);
    myfree(root->inbox);
    if (root->dir)
	myfree(root->dir);
    myfree(root);
}

int     store_root_separator(STORE_ROOT *root)
{
    return (root->layout->sep);
}

/*
 * Folders.
 */

/*
 * root_open_inbox - INBOX; a spool mbox keeps its index where Dovecot
 * keeps it, in the folder directory's .imap/INBOX (store.h), when there
 * is a folder directory
 */
STORE_FOLDER *root_open_inbox(STORE_ROOT *root, int flags, VSTRING *why)
{
    VSTRING *index_dir;
    STORE_FOLDER *folder;

    if (root->kind != STORE_KIND_MBOX || root->dir_fd < 0)
	return (store_open(root->kind, root->inbox, flags | STORE_OPEN_CREATE,
			   why));
    index_dir = vstring_alloc(100);
    vstring_sprintf(index_dir, "%s/%s/INBOX", root->dir, STORE_MBOX_INDEX_DIR);
    folder = store_open_at(root->kind, root->inbox, STR(index_dir),
			   flags | STORE_OPEN_CREATE, why);
    vstring_free(index_dir);
    return (folder);
}

STORE_FOLDER *store_root_folder(STORE_ROOT *root, const char *name, int flags,
				        VSTRING *why)
{
    STORE_FOLDER *folder;
    ROOT_NAME *rn;

    vstring_reset(why);
    if (root_is_inbox(name))
	return (root_open_inbox(root, flags, why));
    if ((rn = parse_or_fail(root, name, why)) == 0)
	return (0);
    folder = (root_dir_available(root, why) < 0 ? 0 :
	      root->layout->folder(root, rn, flags & ~STORE_OPEN_CREATE, why));
    root_name_free(rn);
    return (folder);
}

int     store_root_exists(STORE_ROOT *root, const char *name, VSTRING *why)
{
    ROOT_NAME *rn;
    int     ret;

    vstring_reset(why);
    if (root_is_inbox(name))
	return (1);
    if ((rn = parse_or_fail(root, name, why)) == 0)
	return (-1);
    ret = (root->dir_fd >= 0 && root->layout->kind_of(root, rn) == ROOT_MAIL);
    root_name_free(rn);
    return (ret);
}

/*
 * store_root_create - a trailing separator asks for a folder that will
 * hold others: an mbox directory (\Noselect); Maildir++ makes the folder
 * itself, as Dovecot does.  Missing parents are made where the layout
 * needs them (mbox directories; Maildir++ has none).
 */
int     store_root_create(STORE_ROOT *root, const char *name, VSTRING *why)
{
    size_t  len = strlen(name);
    int     container = (len > 1 && name[len - 1] == root->layout->sep);
    char   *bare = mystrndup(name, container ? len - 1 : len);
    ROOT_NAME *rn;
    int     ret = -1;

    vstring_reset(why);
    if (root_is_inbox(bare))
	vstring_strcpy(why, "folder already exists: INBOX");
    else if ((rn = parse_or_fail(root, bare, why)) != 0) {
	if (root_dir_available(root, why) == 0)
	    ret = root->layout->create(root, rn, container, why);
	root_name_free(rn);
    }
    myfree(bare);
    return (ret);
}

int     store_root_delete(STORE_ROOT *root, const char *name, VSTRING *why)
{
    ROOT_NAME *rn;
    int     ret = -1;

    vstring_reset(why);
    if (root_is_inbox(name)) {
	vstring_strcpy(why, "INBOX cannot be deleted");
	return (-1);
    }
    if ((rn = parse_or_fail(root, name, why)) == 0)
	return (-1);
    if (root_dir_available(root, why) == 0)
	ret = root->layout->delete(root, rn, why);
    root_name_free(rn);
    return (ret);
}

/* rename_folders - OLD_NAME to NEW_NAME, neither INBOX */

static int rename_folders(STORE_ROOT *root, const ROOT_NAME *old_name,
			          const ROOT_NAME *new_name, VSTRING *why)
{
    size_t  len = LEN(old_name->utf8);

    if (strcmp(STR(old_name->utf8), STR(new_name->utf8)) == 0) {
	vstring_sprintf(why, "folder already exists: %s", STR(new_name->utf8));
	return (-1);
    }
    if (strncmp(STR(new_name->utf8), STR(old_name->utf8), len) == 0
	&& STR(new_name->utf8)[len] == root->layout->sep) {
	vstring_sprintf(why, "cannot move folder %s into itself",
			STR(old_name->utf8));
	return (-1);
    }
    if (root_dir_available(root, why) < 0)
	return (-1);
    return (root->layout->rename(root, old_name, new_name, why));
}

/*
 * store_root_rename - children move along; INBOX is special (RFC 3501
 * 6.3.5: its messages go to the new folder and INBOX stays, empty; its
 * children stay where they are).
 */
int     store_root_rename(STORE_ROOT *root, const char *old_name,
			          const char *new_name, VSTRING *why)
{
    ROOT_NAME *old_rn = 0;
    ROOT_NAME *new_rn;
    int     ret = -1;

    vstring_reset(why);
    if (root_is_inbox(new_name)) {
	vstring_strcpy(why, "folder already exists: INBOX");
	return (-1);
    }
    if ((new_rn = parse_or_fail(root, new_name, why)) == 0)
	return (-1);
    if (root_is_inbox(old_name)) {
	if (root_dir_available(root, why) == 0)
	    ret = root_rename_inbox(root, new_rn, why);
    } else if ((old_rn = parse_or_fail(root, old_name, why)) != 0) {
	ret = rename_folders(root, old_rn, new_rn, why);
	root_name_free(old_rn);
    }
    root_name_free(new_rn);
    return (ret);
}

int     store_root_subscribe(STORE_ROOT *root, const char *name, int on,
			             VSTRING *why)
{
    ROOT_NAME *rn = root_name_alloc();
    int     ret = -1;

    vstring_reset(why);
    if (root_is_inbox(name)) {
	vstring_strcpy(rn->utf8, "INBOX");
	vstring_strcpy(rn->enc, "INBOX");
    } else if (root_name_parse(root, name, rn, why) < 0) {
	root_name_free(rn);
	return (-1);
    }
    if (root_dir_available(root, why) == 0) {
	if (on && !root_is_inbox(STR(rn->utf8))
	    && root->layout->kind_of(root, rn) == ROOT_NONE)
	    vstring_sprintf(why, "no such folder: %s", STR(rn->utf8));
	else
	    ret = root_subs_change(root, rn, on, why);
    }
    root_name_free(rn);
    return (ret);
}

/* root_special_use - the SPECIAL-USE attribute of folder NAME, or 0 */

int     root_special_use(const char *name)
{
    static const int attrs[] = {STORE_LIST_DRAFTS, STORE_LIST_SENT,
    STORE_LIST_TRASH, STORE_LIST_JUNK};
    int     i;

    for (i = 0; special_names[i]; i++)
	if (strcmp(name, special_names[i]) == 0)
	    return (attrs[i]);
    return (0);
}
