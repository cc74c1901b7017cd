/*
 * store_root_mbox.c - the mbox layout of a user's folders (ROOT_LAYOUT,
 * store_root_priv.h), as Dovecot's mbox storage ("fs" layout) keeps it.
 *
 * INBOX is the spool file; every other folder is a file under the folder
 * directory (~/mail), hierarchy as directories, separator "/", each
 * level in modified UTF-7.  A file holds mail and cannot hold folders
 * (\NoInferiors); a directory holds folders and no mail (\Noselect).  The
 * children of INBOX live in the directory "INBOX" ("INBOX/x"); a top-level
 * file or directory named INBOX in any other case is not a folder.
 *
 * Dovecot keeps an index directory ".imap" in each directory (".imap/x/"
 * for file x, beside it); so does Posthorn (posthorn-index and
 * posthorn-cache, store_index.c), and the spool INBOX's is .imap/INBOX/
 * at the top.  It is never listed, is removed or moved with its folder,
 * and is where the marker of the special-use folders lives.  Other
 * entries that are not folders, and names that may not be created:
 * dot-locks ("x.lock"), ".subscriptions" at the top, the index files of
 * an mbox opened without an index directory (".x.posthorn-index",
 * ".x.posthorn-cache", store_index.c) and the temporary files of an mbox
 * rewrite (".x.PID.N.TIME", store_mbox.c).  Levels "."
 * and ".." are refused, as Dovecot does.
 *
 * CREATE makes missing parent directories; a name with a trailing "/"
 * makes a directory.  DELETE of a directory that still holds folders
 * fails ("delete them first", as Dovecot); of an empty one removes it.
 * RENAME moves a file (and its index) or a whole directory, making the
 * new parents.  Symbolic links are never followed: every level is
 * opened relative to the one above with O_NOFOLLOW, and links are not
 * listed.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <ctype.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "store_root_priv.h"

#define MBOX_INDEX_DIR		STORE_MBOX_INDEX_DIR
#define ROOT_LINK		(-1)	/* stat_kind(): a symbolic link */

/*
 * Names.
 */

/* ends_with - TEXT ends with SUFFIX */

static int ends_with(const char *text, const char *suffix)
{
    size_t  len = strlen(text), slen = strlen(suffix);

    return (len >= slen && strcmp(text + len - slen, suffix) == 0);
}

/* rewrite_temp - ".NAME.PID.N.TIME", store_mbox.c's temporary file */

static int rewrite_temp(const char *level)
{
    const char *cp = level + strlen(level);
    int     part;

    if (level[0] != '.')
	return (0);
    for (part = 0; part < 3; part++) {
	const char *digits_end = cp;

	while (cp > level && isdigit((unsigned char) cp[-1]))
	    cp--;
	if (cp == digits_end || cp == level || cp[-1] != '.')
	    return (0);
	cp--;
    }
    return (cp > level + 1);
}

/* own_index_file - LEVEL is a store_index.c file beside an mbox file NAME
 * (".NAME.posthorn-index", "-cache", or their temporary files), as a
 * folder opened without an index directory, or an older Posthorn, has */

static int own_index_file(const char *level)
{
    return (level[0] == '.' && (strstr(level + 1, ".posthorn-index") != 0
				|| strstr(level + 1, ".posthorn-cache") != 0));
}

/* mbox_internal - LEVEL (TOP: at the top) is an entry that is no folder */

static int mbox_internal(const char *level, int top)
{
    return (strcmp(level, MBOX_INDEX_DIR) == 0
	    || ends_with(level, ".lock")
	    || (top && strcmp(level, ".subscriptions") == 0)
	    || own_index_file(level)
	    || rewrite_temp(level));
}

static int mbox_name_ok(const char *enc, VSTRING *why)
{
    char   *copy = mystrdup(enc);
    char   *level, *next;
    const char *reason = 0;
    int     depth = 0;

    for (level = copy; level && !reason; level = next) {
	if ((next = strchr(level, '/')) != 0)
	    *next++ = 0;
	if (strcmp(level, ".") == 0 || strcmp(level, "..") == 0)
	    reason = "'.' or '..' level";
	else if (strlen(level) > ROOT_LEVEL_MAX)
	    reason = "too long";
	else if (mbox_internal(level, level == copy))
	    reason = "reserved name";
	else if (++depth > ROOT_DEPTH_MAX)
	    reason = "too deep";
    }
    myfree(copy);
    if (reason) {
	vstring_sprintf(why, "invalid folder name (%s)", reason);
	return (-1);
    }
    return (0);
}

/*
 * Walking down.
 */

/* stat_kind - what LEAF under FD is (ROOT_LINK: a symbolic link) */

static int stat_kind(int fd, const char *leaf)
{
    struct stat st;

    if (fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
	return (ROOT_NONE);
    return (S_ISREG(st.st_mode) ? ROOT_MAIL : S_ISDIR(st.st_mode) ? ROOT_DIR :
	    S_ISLNK(st.st_mode) ? ROOT_LINK : ROOT_NONE);
}

/* leaf_kind - ROOT_MAIL, ROOT_DIR, or ROOT_NONE (also for links) */

static int leaf_kind(int fd, const char *leaf)
{
    int     kind = stat_kind(fd, leaf);

    return (kind == ROOT_LINK ? ROOT_NONE : kind);
}

/*
 * walk - the directory that holds the last level of ENC, opened level
 * by level without following links (missing ones made when CREATE); a
 * descriptor (the caller closes it) and the last level in LEAF, or -1
 * with errno (ENOTDIR: a level is a file; ELOOP: a link)
 */
static int walk(STORE_ROOT *root, const char *enc, int create, VSTRING *leaf)
{
    char   *copy = mystrdup(enc);
    char   *level, *next;
    int     fd, nfd, saved;

    if ((fd = dup(root->dir_fd)) < 0) {
	myfree(copy);
	return (-1);
    }
    for (level = copy; (next = strchr(level, '/')) != 0; level = next + 1) {
	*next = 0;
	nfd = root_open_dir(fd, level);
	if (nfd < 0 && errno == ENOENT && create
	    && (mkdirat(fd, level, 0700) == 0 || errno == EEXIST))
	    nfd = root_open_dir(fd, level);
	saved = errno;
	if (nfd < 0 && saved == ENOTDIR && stat_kind(fd, level) == ROOT_LINK)
	    saved = ELOOP;			/* Linux says ENOTDIR */
	(void) close(fd);
	if ((fd = nfd) < 0) {
	    errno = saved;
	    break;
	}
    }
    if (fd >= 0)
	vstring_strcpy(leaf, level);
    myfree(copy);
    return (fd);
}

/* walk_error - why walk() failed for NAME, in WHY */

static void walk_error(const ROOT_NAME *name, int err, VSTRING *why)
{
    if (err == ENOTDIR)
	vstring_sprintf(why, "invalid folder name (a parent of %s cannot hold "
			"folders)", STR(name->utf8));
    else if (err == ENOENT)
	vstring_sprintf(why, "no such folder: %s", STR(name->utf8));
    else if (err == ELOOP)
	vstring_sprintf(why, "invalid folder name (a parent of %s is a "
			"symbolic link)", STR(name->utf8));
    else
	vstring_sprintf(why, "folder %s: %s", STR(name->utf8), strerror(err));
}

static int mbox_kind_of(STORE_ROOT *root, const ROOT_NAME *name)
{
    VSTRING *leaf = vstring_alloc(100);
    int     fd, kind = ROOT_NONE;

    if ((fd = walk(root, STR(name->enc), 0, leaf)) >= 0) {
	kind = leaf_kind(fd, STR(leaf));
	(void) close(fd);
    }
    vstring_free(leaf);
    return (kind);
}

/*
 * Listing.
 */

typedef struct SCAN_CTX {
    STORE_ROOT *root;
    ROOT_LIST *list;
    VSTRING *utf8;
} SCAN_CTX;

static void scan_dir(SCAN_CTX *scan, int fd, const char *prefix, int depth);

/* entry_kind - ROOT_MAIL (file), ROOT_DIR or ROOT_NONE (links, others) */

static int entry_kind(int fd, const struct dirent *de)
{
    if (de->d_type == DT_REG)
	return (ROOT_MAIL);
    if (de->d_type == DT_DIR)
	return (ROOT_DIR);
    if (de->d_type != DT_UNKNOWN)
	return (ROOT_NONE);
    return (leaf_kind(fd, de->d_name));
}

/* scan_sub - list the directory NAME under FD, its names after PREFIX */

static void scan_sub(SCAN_CTX *scan, int fd, const char *name,
		             const char *prefix, int depth)
{
    int     sub;

    if (depth >= ROOT_DEPTH_MAX || (sub = root_open_dir(fd, name)) < 0)
	return;
    scan_dir(scan, sub, prefix, depth);
    (void) close(sub);
}

/* scan_entry - one directory entry NAME (its path: ENC) */

static void scan_entry(SCAN_CTX *scan, int fd, const struct dirent *de,
		               const char *enc, int depth)
{
    int     kind;
    VSTRING *prefix;

    if (mbox_internal(de->d_name, depth == 0)
	|| (kind = entry_kind(fd, de)) == ROOT_NONE)
	return;
    prefix = vstring_alloc(100);
    vstring_sprintf(prefix, "%s/", enc);
    if (depth == 0 && strcasecmp(de->d_name, "INBOX") == 0) {
	/* INBOX is the spool file; its children are in INBOX/ */
	if (kind == ROOT_DIR && strcmp(de->d_name, "INBOX") == 0)
	    scan_sub(scan, fd, de->d_name, STR(prefix), depth + 1);
    } else if (root_name_from_disk(scan->root, enc, scan->utf8) == 0) {
	root_list_add(scan->list, STR(scan->utf8), kind == ROOT_MAIL ?
		      STORE_LIST_NOINFERIORS : STORE_LIST_NOSELECT);
	if (kind == ROOT_DIR)
	    scan_sub(scan, fd, de->d_name, STR(prefix), depth + 1);
    }
    vstring_free(prefix);
}

/* scan_dir - every folder in the open directory FD (unreadable: none) */

static void scan_dir(SCAN_CTX *scan, int fd, const char *prefix, int depth)
{
    VSTRING *enc = vstring_alloc(100);
    struct dirent *de;
    DIR    *dp;
    int     dup_fd;

    if ((dup_fd = dup(fd)) < 0 || (dp = fdopendir(dup_fd)) == 0) {
	if (dup_fd >= 0)
	    (void) close(dup_fd);
	vstring_free(enc);
	return;
    }
    rewinddir(dp);
    while ((de = readdir(dp)) != 0) {
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
	    continue;
	vstring_sprintf(enc, "%s%s", prefix, de->d_name);
	scan_entry(scan, fd, de, STR(enc), depth);
    }
    (void) closedir(dp);
    vstring_free(enc);
}

static int mbox_scan(STORE_ROOT *root, ROOT_LIST *list, VSTRING *why)
{
    SCAN_CTX scan = {root, list, vstring_alloc(100)};
    struct stat st;

    if (fstat(root->dir_fd, &st) < 0) {
	vstring_sprintf(why, "folder directory %s: %m", root->dir);
	vstring_free(scan.utf8);
	return (-1);
    }
    scan_dir(&scan, root->dir_fd, "", 0);
    vstring_free(scan.utf8);
    return (0);
}

/*
 * Changes.
 */

static int mbox_create(STORE_ROOT *root, const ROOT_NAME *name, int container,
		               VSTRING *why)
{
    VSTRING *leaf = vstring_alloc(100);
    int     fd, file, ret = -1;

    if ((fd = walk(root, STR(name->enc), 1, leaf)) < 0) {
	walk_error(name, errno, why);
	vstring_free(leaf);
	return (-1);
    }
    if (container)
	ret = mkdirat(fd, STR(leaf), 0700);
    else if ((file = openat(fd, STR(leaf), O_WRONLY | O_CREAT | O_EXCL
			    | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
	ret = close(file);
    if (ret < 0 && errno == EEXIST)
	vstring_sprintf(why, "folder already exists: %s", STR(name->utf8));
    else if (ret < 0)
	vstring_sprintf(why, "create folder %s: %m", STR(name->utf8));
    (void) close(fd);
    vstring_free(leaf);
    return (ret < 0 ? -1 : 0);
}

/* drop_indexes - the index directory of mbox LEAF under FD */

static void drop_indexes(STORE_ROOT *root, int fd, const char *leaf)
{
    VSTRING *buf = vstring_alloc(100);
    int     index_fd;

    if ((index_fd = root_open_dir(fd, MBOX_INDEX_DIR)) >= 0) {
	if (root_remove_tree(index_fd, leaf, buf) < 0)
	    msg_warn("%s: index of %s: %s", root->dir, leaf, STR(buf));
	(void) close(index_fd);
    }
    vstring_free(buf);
}

/* dir_holds_folders - the directory LEAF under FD has more than internal
 * entries (.imap, locks), which go with it */

static int dir_holds_folders(int fd, const char *leaf)
{
    struct dirent *de;
    DIR    *dp;
    int     sub, found = 0;

    if ((sub = root_open_dir(fd, leaf)) < 0 || (dp = fdopendir(sub)) == 0) {
	if (sub >= 0)
	    (void) close(sub);
	return (1);				/* let the removal fail */
    }
    while (!found && (de = readdir(dp)) != 0)
	found = (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0
		 && !mbox_internal(de->d_name, 0));
    (void) closedir(dp);
    return (found);
}

static int mbox_delete(STORE_ROOT *root, const ROOT_NAME *name, VSTRING *why)
{
    VSTRING *leaf = vstring_alloc(100);
    int     fd, ret = -1;

    if ((fd = walk(root, STR(name->enc), 0, leaf)) < 0) {
	vstring_sprintf(why, "no such folder: %s", STR(name->utf8));
	vstring_free(leaf);
	return (-1);
    }
    switch (leaf_kind(fd, STR(leaf))) {
    case ROOT_MAIL:
	if ((ret = unlinkat(fd, STR(leaf), 0)) < 0)
	    vstring_sprintf(why, "delete folder %s: %m", STR(name->utf8));
	else
	    drop_indexes(root, fd, STR(leaf));
	break;
    case ROOT_DIR:
	if (dir_holds_folders(fd, STR(leaf)))
	    vstring_sprintf(why, "folder %s has children, delete them first",
			    STR(name->utf8));
	else
	    ret = root_remove_tree(fd, STR(leaf), why);
	break;
    default:
	vstring_sprintf(why, "no such folder: %s", STR(name->utf8));
	break;
    }
    (void) close(fd);
    vstring_free(leaf);
    return (ret);
}

/* move_indexes - the indexes of mbox OLD_LEAF (under OLD_FD) along */

static void move_indexes(STORE_ROOT *root, int old_fd, const char *old_leaf,
			         int new_fd, const char *new_leaf)
{
    VSTRING *reason = vstring_alloc(100);
    int     old_index, new_index = -1;

    if ((old_index = root_open_dir(old_fd, MBOX_INDEX_DIR)) >= 0) {
	if (mkdirat(new_fd, MBOX_INDEX_DIR, 0700) == 0 || errno == EEXIST)
	    new_index = root_open_dir(new_fd, MBOX_INDEX_DIR);
	if (new_index < 0 || root_rename_noreplace(old_index, old_leaf,
						   new_index, new_leaf) < 0)
	    (void) root_remove_tree(old_index, old_leaf, reason);
	if (new_index >= 0)
	    (void) close(new_index);
	(void) close(old_index);
    }
    vstring_free(reason);
}

static int mbox_rename(STORE_ROOT *root, const ROOT_NAME *old_name,
		               const ROOT_NAME *new_name, VSTRING *why)
{
    VSTRING *old_leaf = vstring_alloc(100);
    VSTRING *new_leaf = vstring_alloc(100);
    int     old_fd, new_fd = -1, kind = ROOT_NONE, ret = -1;

    if ((old_fd = walk(root, STR(old_name->enc), 0, old_leaf)) >= 0)
	kind = leaf_kind(old_fd, STR(old_leaf));
    if (kind == ROOT_NONE)
	vstring_sprintf(why, "no such folder: %s", STR(old_name->utf8));
    else if ((new_fd = walk(root, STR(new_name->enc), 1, new_leaf)) < 0)
	walk_error(new_name, errno, why);
    else if (root_rename_noreplace(old_fd, STR(old_leaf), new_fd,
				   STR(new_leaf)) < 0) {
	if (errno == EEXIST || errno == ENOTEMPTY)
	    vstring_sprintf(why, "folder already exists: %s",
			    STR(new_name->utf8));
	else
	    vstring_sprintf(why, "rename folder %s: %m", STR(old_name->utf8));
    } else {
	if (kind == ROOT_MAIL)
	    move_indexes(root, old_fd, STR(old_leaf), new_fd, STR(new_leaf));
	ret = 0;
    }
    if (old_fd >= 0)
	(void) close(old_fd);
    if (new_fd >= 0)
	(void) close(new_fd);
    vstring_free(old_leaf);
    vstring_free(new_leaf);
    return (ret);
}

/* index_dir - the index directory of mbox file ENC: .imap/LEAF beside it */

static const char *index_dir(STORE_ROOT *root, const char *enc, VSTRING *buf)
{
    const char *slash = strrchr(enc, '/');

    if (slash)
	vstring_sprintf(buf, "%s/%.*s/%s/%s", root->dir, (int) (slash - enc),
			enc, MBOX_INDEX_DIR, slash + 1);
    else
	vstring_sprintf(buf, "%s/%s/%s", root->dir, MBOX_INDEX_DIR, enc);
    return (STR(buf));
}

static STORE_FOLDER *mbox_folder(STORE_ROOT *root, const ROOT_NAME *name,
				         int flags, VSTRING *why)
{
    VSTRING *path, *index;
    STORE_FOLDER *folder;

    switch (mbox_kind_of(root, name)) {
    case ROOT_MAIL:
	path = vstring_alloc(100);
	index = vstring_alloc(100);
	vstring_sprintf(path, "%s/%s", root->dir, STR(name->enc));
	folder = store_open_at(STORE_KIND_MBOX, STR(path),
			       index_dir(root, STR(name->enc), index), flags, why);
	vstring_free(path);
	vstring_free(index);
	return (folder);
    case ROOT_DIR:
	vstring_sprintf(why, "folder is not selectable: %s", STR(name->utf8));
	return (0);
    default:
	vstring_sprintf(why, "no such folder: %s", STR(name->utf8));
	return (0);
    }
}

const ROOT_LAYOUT root_mbox_layout = {
    .sep = '/',
    .subs_file = ".subscriptions",
    .marker_file = MBOX_INDEX_DIR "/posthorn-special-use",
    .name_ok = mbox_name_ok,
    .scan = mbox_scan,
    .kind_of = mbox_kind_of,
    .create = mbox_create,
    .delete = mbox_delete,
    .rename = mbox_rename,
    .folder = mbox_folder,
};
