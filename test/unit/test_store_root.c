/*
 * test_store_root.c - unit tests for a user's folders (store.h, "A user's
 * folders": lib/store/store_root*.c), both layouts, through store.h.
 *
 * A new root: its directory and the special-use folders made and
 * subscribed once (a deleted one stays deleted).  Maildir++: CREATE of
 * a.b.c (no parents made, listed \Noselect; its dovecot-uidlist written
 * at once), INBOX.x, UTF-8 names kept in modified UTF-7 on disk, DELETE with children (they stay), RENAME
 * with children (also of a parent that only its children imply), folders
 * without cur/.  mbox: files and directories, parents made, a trailing
 * "/" for a directory, INBOX/ for INBOX's children, DELETE of a directory
 * with children refused, RENAME of files (index along) and directories,
 * Dovecot's .imap directories and other internal files never listed, the
 * folders' indexes in .imap/NAME (the spool INBOX's in .imap/INBOX).
 * RENAME INBOX in both (messages, flags and keywords move; INBOX stays,
 * empty).  Subscriptions: Dovecot's file byte for byte, version 1 files
 * kept as version 1, lines we cannot read kept, stale locks.  Trees made
 * by Dovecot 2.3.19 (copied here as mkdir/file calls, with the listing
 * Dovecot gave) listed the same.  Hostile names (.., /, ~, control
 * characters, bad UTF-8, reserved names, too long) refused, and symbolic
 * links inside the root never followed, listed, changed or opened.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"

static char topdir[] = "/tmp/test_store_rootXXXXXX";

static int setup(void **state)
{
    return (mkdtemp(topdir) ? 0 : -1);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     ret;

    vstring_sprintf(cmd, "rm -rf '%s'", topdir);
    ret = system(STR(cmd));
    vstring_free(cmd);
    return (ret == 0 ? 0 : -1);
}

/*
 * Files.
 */

/* path_of - TOPDIR/REL in BUF */

static const char *path_of(VSTRING *buf, const char *rel)
{
    vstring_sprintf(buf, "%s/%s", topdir, rel);
    return (STR(buf));
}

/* make_dirs - mkdir -p TOPDIR/REL */

static void make_dirs(const char *rel)
{
    VSTRING *path = vstring_alloc(100);
    char   *cp;

    path_of(path, rel);
    for (cp = STR(path) + strlen(topdir) + 1; (cp = strchr(cp, '/')) != 0; cp++) {
	*cp = 0;
	(void) mkdir(STR(path), 0700);
	*cp = '/';
    }
    (void) mkdir(STR(path), 0700);
    vstring_free(path);
}

/* write_file - TOPDIR/REL with TEXT (parents made) */

static void write_file(const char *rel, const char *text)
{
    VSTRING *path = vstring_alloc(100);
    char   *dir = mystrdup(rel);
    char   *slash = strrchr(dir, '/');
    int     fd;

    if (slash) {
	*slash = 0;
	make_dirs(dir);
    }
    fd = open(path_of(path, rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
	fail_msg("create %s: %m", STR(path));
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    myfree(dir);
    vstring_free(path);
}

/* read_text - the content of TOPDIR/REL, or "(missing)" */

static const char *read_text(VSTRING *buf, const char *rel)
{
    VSTRING *path = vstring_alloc(100);
    char    tmp[4096];
    ssize_t n;
    int     fd;

    vstring_reset(buf);
    fd = open(path_of(path, rel), O_RDONLY);
    vstring_free(path);
    if (fd < 0)
	return ("(missing)");
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, (size_t) n);
    close(fd);
    return (STR(buf));
}

/* kind - 'd' directory, 'f' file, 'l' link, '-' missing: TOPDIR/REL */

static int kind(const char *rel)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    int     ret;

    if (lstat(path_of(path, rel), &st) < 0)
	ret = '-';
    else
	ret = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f';
    vstring_free(path);
    return (ret);
}

/* make_link - TOPDIR/REL, a symbolic link to TARGET */

static void make_link(const char *target, const char *rel)
{
    VSTRING *path = vstring_alloc(100);

    assert_int_equal(symlink(target, path_of(path, rel)), 0);
    vstring_free(path);
}

/*
 * Mail.
 */

static int source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    const char *text = (const char *) ctx;

    return (write_fn(sink, text, strlen(text)));
}

/* deliver_maildir - local delivery of TEXT into the Maildir TOPDIR/REL */

static void deliver_maildir(const char *rel, const char *text)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     temporary;

    if (maildir_deliver(path_of(path, rel), geteuid(), source, (void *) text,
			why, &temporary) != 0)
	fail_msg("maildir_deliver: %s", STR(why));
    vstring_free(path);
    vstring_free(why);
}

/* deliver_mbox - local delivery of TEXT into the mbox TOPDIR/REL */

static void deliver_mbox(const char *rel, const char *text)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     temporary;

    if (mbox_deliver(path_of(path, rel), "a@b.c", time((time_t *) 0), source,
		     (void *) text, why, &temporary) != 0)
	fail_msg("mbox_deliver: %s", STR(why));
    vstring_free(path);
    vstring_free(why);
}

/*
 * Roots.
 */

/* open_maildir - the root of Maildir TOPDIR/REL */

static STORE_ROOT *open_maildir(const char *rel)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root;

    root = store_root_open(STORE_KIND_MAILDIR, path_of(path, rel), 0, why);
    if (root == 0)
	fail_msg("store_root_open %s: %s", STR(path), STR(why));
    vstring_free(path);
    vstring_free(why);
    return (root);
}

/* open_mbox - the root of spool file TOPDIR/SPOOL, folders in TOPDIR/DIR */

static STORE_ROOT *open_mbox(const char *spool, const char *dir)
{
    VSTRING *inbox = vstring_alloc(100);
    VSTRING *folders = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root;

    root = store_root_open(STORE_KIND_MBOX, path_of(inbox, spool),
			   path_of(folders, dir), why);
    if (root == 0)
	fail_msg("store_root_open %s: %s", STR(inbox), STR(why));
    vstring_free(inbox);
    vstring_free(folders);
    vstring_free(why);
    return (root);
}

/* list_line - STORE_LIST_FN: "NAME attr attr\n" */

static void list_line(const char *name, int attrs, void *ctx)
{
    static const struct {
	int     bit;
	const char *word;
    }       words[] = {
	{STORE_LIST_NOSELECT, "noselect"}, {STORE_LIST_NOINFERIORS, "noinferiors"},
	{STORE_LIST_CHILDREN, "children"}, {STORE_LIST_NOCHILDREN, "nochildren"},
	{STORE_LIST_SUBSCRIBED, "subscribed"},
	{STORE_LIST_NONEXISTENT, "nonexistent"}, {STORE_LIST_DRAFTS, "drafts"},
	{STORE_LIST_SENT, "sent"}, {STORE_LIST_TRASH, "trash"},
	{STORE_LIST_JUNK, "junk"}, {STORE_LIST_ARCHIVE, "archive"}, {0, 0},
    };
    VSTRING *out = (VSTRING *) ctx;

    vstring_strcat(out, name);
    for (int i = 0; words[i].word; i++)
	if (attrs & words[i].bit)
	    vstring_sprintf_append(out, " %s", words[i].word);
    vstring_addch(out, '\n');
}

/* listing - what store_root_list() says, one line per folder */

static const char *listing(STORE_ROOT *root, VSTRING *buf)
{
    VSTRING *why = vstring_alloc(100);

    vstring_reset(buf);
    if (store_root_list(root, list_line, buf, why) != 0)
	fail_msg("store_root_list: %s", STR(why));
    vstring_free(why);
    return (STR(buf));
}

/* must - an operation that must work (RESULT 0) */

#define MUST(expr, why) do { \
	if ((expr) != 0) \
	    fail_msg("%s: %s", #expr, STR(why)); \
    } while (0)

/* refused - an operation that must fail with WHY containing TEXT */

#define REFUSED(expr, why, text) do { \
	vstring_reset(why); \
	if ((expr) != -1) \
	    fail_msg("%s was not refused", #expr); \
	if (strstr(STR(why), (text)) == 0) \
	    fail_msg("%s: \"%s\" lacks \"%s\"", #expr, STR(why), (text)); \
    } while (0)

/* folder_count - messages in folder NAME of ROOT */

static int folder_count(STORE_ROOT *root, const char *name)
{
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder;
    int     count;

    if ((folder = store_root_folder(root, name, STORE_OPEN_READONLY, why)) == 0)
	fail_msg("store_root_folder %s: %s", name, STR(why));
    count = folder->count;
    store_close(folder);
    vstring_free(why);
    return (count);
}

/* flag_first - mark message 1 of folder NAME \Flagged (the folder's index
 * is written) */

static void flag_first(STORE_ROOT *root, const char *name)
{
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder;

    if ((folder = store_root_folder(root, name, 0, why)) == 0)
	fail_msg("store_root_folder %s: %s", name, STR(why));
    assert_true(folder->count > 0);
    if (store_set_flags(folder, store_msg(folder, 1), STORE_FLAGGED, 0, why) < 0)
	fail_msg("store_set_flags %s: %s", name, STR(why));
    store_close(folder);
    vstring_free(why);
}

#define SPECIAL_MAILDIR \
    "Drafts nochildren subscribed drafts\n" \
    "Junk nochildren subscribed junk\n" \
    "Sent nochildren subscribed sent\n" \
    "Trash nochildren subscribed trash\n"

#define SPECIAL_MBOX \
    "Drafts noinferiors subscribed drafts\n" \
    "Junk noinferiors subscribed junk\n" \
    "Sent noinferiors subscribed sent\n" \
    "Trash noinferiors subscribed trash\n"

#define SUBS_SPECIAL	"V\t2\n\nDrafts\nSent\nTrash\nJunk\n"

/*
 * Maildir++.
 */

static void test_maildir_new_root(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("new/Maildir");
    const char *sub[] = {"tmp", "new", "cur"};

    assert_int_equal(store_root_separator(root), '.');
    assert_string_equal(listing(root, buf), "INBOX nochildren\n" SPECIAL_MAILDIR);
    assert_string_equal(read_text(buf, "new/Maildir/subscriptions"), SUBS_SPECIAL);
    assert_int_equal(kind("new/Maildir/posthorn-special-use"), 'f');
    for (int i = 0; i < 3; i++) {
	vstring_sprintf(buf, "new/Maildir/.Drafts/%s", sub[i]);
	assert_int_equal(kind(STR(buf)), 'd');
    }
    assert_int_equal(kind("new/Maildir/.Sent/maildirfolder"), 'f');
    assert_int_equal(kind("new/Maildir/subscriptions.lock"), '-');
    store_root_close(root);
    vstring_free(buf);
}

static void test_special_use_once(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("once/Maildir");

    MUST(store_root_delete(root, "Trash", why), why);
    MUST(store_root_subscribe(root, "Junk", 0, why), why);
    store_root_close(root);
    root = open_maildir("once/Maildir");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n"
			"Drafts nochildren subscribed drafts\n"
			"Junk nochildren junk\n"
			"Sent nochildren subscribed sent\n"
			"Trash subscribed nonexistent trash\n");
    store_root_close(root);
    /* Without the marker (a Maildir Dovecot served): made again */
    assert_int_equal(unlink(path_of(path, "once/Maildir/posthorn-special-use")), 0);
    root = open_maildir("once/Maildir");
    assert_string_equal(listing(root, buf), "INBOX nochildren\n" SPECIAL_MAILDIR);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
    vstring_free(path);
}

static void test_maildir_create(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("create/Maildir");

    MUST(store_root_create(root, "a.b.c", why), why);
    assert_int_equal(kind("create/Maildir/.a.b.c/cur"), 'd');
    assert_int_equal(kind("create/Maildir/.a.b.c/maildirfolder"), 'f');
    /* its UIDVALIDITY is written at once: read-only opens agree */
    assert_int_equal(kind("create/Maildir/.a.b.c/dovecot-uidlist"), 'f');
    {
	STORE_FOLDER *folder;
	unsigned validity = 0;
	FILE   *fp;

	assert_non_null(fp = fopen(path_of(buf, "create/Maildir/.a.b.c/dovecot-uidlist"),
				   "r"));
	assert_int_equal(fscanf(fp, "3 V%u ", &validity), 1);
	fclose(fp);
	folder = store_root_folder(root, "a.b.c", STORE_OPEN_READONLY, why);
	assert_non_null(folder);
	assert_int_equal(folder->uidvalidity, validity);
	assert_int_equal(folder->uidnext, 1);
	store_close(folder);
    }
    assert_int_equal(kind("create/Maildir/.a"), '-');
    assert_int_equal(kind("create/Maildir/.a.b"), '-');
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MAILDIR
			"a noselect children\n"
			"a.b noselect children\n"
			"a.b.c nochildren\n");
    MUST(store_root_create(root, "a", why), why);
    REFUSED(store_root_create(root, "a", why), why, "already exists");
    REFUSED(store_root_create(root, "a.b.c", why), why, "already exists");
    REFUSED(store_root_create(root, "INBOX", why), why, "already exists");
    REFUSED(store_root_create(root, "inbox", why), why, "already exists");
    MUST(store_root_create(root, "INBOX.x", why), why);
    MUST(store_root_create(root, "inbox.y", why), why);
    assert_int_equal(kind("create/Maildir/.INBOX.y"), 'd');
    /* "trail." asks for a parent: Maildir++ makes the folder */
    MUST(store_root_create(root, "trail.", why), why);
    assert_int_equal(kind("create/Maildir/.trail"), 'd');
    MUST(store_root_create(root, "sp ace", why), why);
    MUST(store_root_create(root, "x~y&z", why), why);
    assert_int_equal(kind("create/Maildir/.x~y&-z"), 'd');
    assert_string_equal(listing(root, buf),
			"INBOX children\n"
			"Drafts nochildren subscribed drafts\n"
			"INBOX.x nochildren\n"
			"INBOX.y nochildren\n"
			"Junk nochildren subscribed junk\n"
			"Sent nochildren subscribed sent\n"
			"Trash nochildren subscribed trash\n"
			"a children\n"
			"a.b noselect children\n"
			"a.b.c nochildren\n"
			"sp ace nochildren\n"
			"trail nochildren\n"
			"x~y&z nochildren\n");
    assert_int_equal(store_root_exists(root, "a", why), 1);
    assert_int_equal(store_root_exists(root, "a.b", why), 0);
    assert_int_equal(store_root_exists(root, "inbox", why), 1);
    assert_int_equal(store_root_exists(root, "nope", why), 0);
    assert_int_equal(store_root_exists(root, "a..b", why), -1);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_maildir_utf8(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("utf8/Maildir");
    STORE_FOLDER *folder;

    MUST(store_root_create(root, "Entw\xc3\xbcrfe", why), why);
    MUST(store_root_create(root, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", why), why);
    MUST(store_root_create(root, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.Unter", why), why);
    assert_int_equal(kind("utf8/Maildir/.Entw&APw-rfe"), 'd');
    assert_int_equal(kind("utf8/Maildir/.&ZeVnLIqe-"), 'd');
    assert_int_equal(kind("utf8/Maildir/.&ZeVnLIqe-.Unter"), 'd');
    MUST(store_root_subscribe(root, "Entw\xc3\xbcrfe", 1, why), why);
    MUST(store_root_subscribe(root, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.Unter", 1,
				why), why);
    assert_string_equal(read_text(buf, "utf8/Maildir/subscriptions"),
			SUBS_SPECIAL "Entw&APw-rfe\n&ZeVnLIqe-\tUnter\n");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n"
			"Drafts nochildren subscribed drafts\n"
			"Entw\xc3\xbcrfe nochildren subscribed\n"
			"Junk nochildren subscribed junk\n"
			"Sent nochildren subscribed sent\n"
			"Trash nochildren subscribed trash\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e children\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.Unter nochildren subscribed\n");
    deliver_maildir("utf8/Maildir/.Entw&APw-rfe", "Subject: draft\n\nbody\n");
    folder = store_root_folder(root, "Entw\xc3\xbcrfe", 0, why);
    if (folder == 0)
	fail_msg("store_root_folder: %s", STR(why));
    assert_int_equal(folder->count, 1);
    store_close(folder);
    /* A directory name that is not modified UTF-7 is not a folder */
    make_dirs("utf8/Maildir/.&Jjo");
    make_dirs("utf8/Maildir/.&AGE-");
    make_dirs("utf8/Maildir/.inbox.lower");
    make_dirs("utf8/Maildir/..double");
    make_dirs("utf8/Maildir/.a..b");
    make_dirs("utf8/Maildir/.end.");
    write_file("utf8/Maildir/.file", "");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n"
			"Drafts nochildren subscribed drafts\n"
			"Entw\xc3\xbcrfe nochildren subscribed\n"
			"Junk nochildren subscribed junk\n"
			"Sent nochildren subscribed sent\n"
			"Trash nochildren subscribed trash\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e children\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.Unter nochildren subscribed\n");
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_maildir_delete(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("delete/Maildir");

    MUST(store_root_create(root, "p", why), why);
    MUST(store_root_create(root, "p.q", why), why);
    MUST(store_root_subscribe(root, "p", 1, why), why);
    deliver_maildir("delete/Maildir/.p", "Subject: p\n\nbody\n");
    write_file("delete/Maildir/.p/posthorn-index", "index");
    /* As Dovecot: the folder goes, its children stay */
    MUST(store_root_delete(root, "p", why), why);
    assert_int_equal(kind("delete/Maildir/.p"), '-');
    assert_int_equal(kind("delete/Maildir/.p.q"), 'd');
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MAILDIR
			"p noselect children subscribed\n"
			"p.q nochildren\n");
    REFUSED(store_root_delete(root, "p", why), why, "no such folder");
    REFUSED(store_root_delete(root, "nope", why), why, "no such folder");
    REFUSED(store_root_delete(root, "INBOX", why), why, "INBOX");
    REFUSED(store_root_delete(root, "Inbox", why), why, "INBOX");
    MUST(store_root_delete(root, "p.q", why), why);
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MAILDIR
			"p subscribed nonexistent\n");
    /* Nothing left behind */
    {
	DIR    *dp = opendir(path_of(buf, "delete/Maildir"));
	struct dirent *de;

	assert_non_null(dp);
	while ((de = readdir(dp)) != 0)
	    if (strncmp(de->d_name, "..", 2) == 0 && de->d_name[2] != 0)
		fail_msg("left over: %s", de->d_name);
	closedir(dp);
    }
    MUST(store_root_subscribe(root, "p", 0, why), why);
    MUST(store_root_subscribe(root, "p", 0, why), why);	/* no error */
    assert_string_equal(read_text(buf, "delete/Maildir/subscriptions"), SUBS_SPECIAL);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_maildir_rename(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("rename/Maildir");

    MUST(store_root_create(root, "a", why), why);
    MUST(store_root_create(root, "a.b.c", why), why);
    MUST(store_root_create(root, "ab", why), why);
    MUST(store_root_create(root, "x", why), why);
    deliver_maildir("rename/Maildir/.a.b.c", "Subject: c\n\nbody\n");
    MUST(store_root_rename(root, "a", "z", why), why);
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MAILDIR
			"ab nochildren\n"
			"x nochildren\n"
			"z children\n"
			"z.b noselect children\n"
			"z.b.c nochildren\n");
    assert_int_equal(folder_count(root, "z.b.c"), 1);
    /* A parent that only its children imply moves them (as Dovecot) */
    MUST(store_root_rename(root, "z.b", "w", why), why);
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MAILDIR
			"ab nochildren\n"
			"w noselect children\n"
			"w.c nochildren\n"
			"x nochildren\n"
			"z nochildren\n");
    REFUSED(store_root_rename(root, "z", "x", why), why, "already exists");
    REFUSED(store_root_rename(root, "z", "z", why), why, "already exists");
    REFUSED(store_root_rename(root, "z", "z.sub", why), why, "into itself");
    REFUSED(store_root_rename(root, "nope", "new", why), why, "no such folder");
    REFUSED(store_root_rename(root, "z", "INBOX", why), why, "already exists");
    REFUSED(store_root_rename(root, "z", "a/b", why), why, "invalid");
    /* A child's target is taken: nothing moves */
    MUST(store_root_create(root, "v.c", why), why);
    REFUSED(store_root_rename(root, "w", "v", why), why, "already exists: v.c");
    assert_int_equal(kind("rename/Maildir/.w.c"), 'd');
    /* Renaming does not change the subscriptions (as Dovecot) */
    MUST(store_root_subscribe(root, "x", 1, why), why);
    MUST(store_root_rename(root, "x", "y", why), why);
    assert_string_equal(read_text(buf, "rename/Maildir/subscriptions"),
			SUBS_SPECIAL "x\n");
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

/* check_moved - folder NAME has the three messages INBOX had */

static void check_moved(STORE_ROOT *root, const char *name)
{
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder;

    if ((folder = store_root_folder(root, name, STORE_OPEN_READONLY, why)) == 0)
	fail_msg("store_root_folder %s: %s", name, STR(why));
    assert_int_equal(folder->count, 3);
    assert_int_equal(store_view_msgs(folder)[0].flags & STORE_FLAGS_STORED,
		     STORE_SEEN | STORE_FLAGGED);
    assert_int_equal(store_view_msgs(folder)[1].flags & STORE_FLAGS_STORED, 0);
    assert_int_equal(store_view_msgs(folder)[2].flags & STORE_FLAGS_STORED, STORE_ANSWERED);
    assert_int_equal(folder->keyword_count >= 1, 1);
    assert_string_equal(folder->keywords[0], "$Forwarded");
    assert_int_equal(store_view_msgs(folder)[2].keywords, 1);
    assert_int_equal(store_view_msgs(folder)[0].keywords, 0);
    store_close(folder);
    vstring_free(why);
}

/* set_inbox_flags - Seen+Flagged on 1, Answered+$Forwarded on 3 */

static void set_inbox_flags(STORE_ROOT *root)
{
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *inbox = store_root_folder(root, "INBOX", 0, why);
    int     kw;

    if (inbox == 0)
	fail_msg("INBOX: %s", STR(why));
    assert_int_equal(inbox->count, 3);
    MUST(store_set_flags(inbox, store_msg(inbox, 1), STORE_SEEN | STORE_FLAGGED,
			 0, why), why);
    kw = store_keyword(inbox, "$Forwarded", 1, why);
    assert_true(kw >= 0);
    MUST(store_set_flags(inbox, store_msg(inbox, 3), STORE_ANSWERED, 1U << kw,
			 why), why);
    store_close(inbox);
    vstring_free(why);
}

static void test_maildir_rename_inbox(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("inbox/Maildir");

    deliver_maildir("inbox/Maildir", "Subject: 1\n\none\n");
    deliver_maildir("inbox/Maildir", "Subject: 2\n\ntwo\n");
    deliver_maildir("inbox/Maildir", "Subject: 3\n\nthree\n");
    set_inbox_flags(root);
    MUST(store_root_create(root, "INBOX.child", why), why);
    REFUSED(store_root_rename(root, "INBOX", "Sent", why), why, "already exists");
    MUST(store_root_rename(root, "inbox", "INBOX.old", why), why);
    check_moved(root, "INBOX.old");
    assert_int_equal(folder_count(root, "INBOX"), 0);
    assert_string_equal(listing(root, buf),
			"INBOX children\n"
			"Drafts nochildren subscribed drafts\n"
			"INBOX.child nochildren\n"
			"INBOX.old nochildren\n"
			"Junk nochildren subscribed junk\n"
			"Sent nochildren subscribed sent\n"
			"Trash nochildren subscribed trash\n");
    /* An empty INBOX renames too */
    MUST(store_root_rename(root, "INBOX", "empty", why), why);
    assert_int_equal(folder_count(root, "empty"), 0);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_maildir_folders(void **state)
{
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("folders/Maildir");
    STORE_FOLDER *folder;

    /* INBOX is made when missing */
    assert_int_equal(kind("folders/Maildir/cur"), '-');
    folder = store_root_folder(root, "INBOX", 0, why);
    if (folder == 0)
	fail_msg("INBOX: %s", STR(why));
    store_close(folder);
    assert_int_equal(kind("folders/Maildir/cur"), 'd');
    /* A folder without cur/ (Dovecot lists it): made for writing */
    make_dirs("folders/Maildir/.bare");
    assert_null(store_root_folder(root, "bare", STORE_OPEN_READONLY, why));
    folder = store_root_folder(root, "bare", 0, why);
    if (folder == 0)
	fail_msg("bare: %s", STR(why));
    store_close(folder);
    assert_int_equal(kind("folders/Maildir/.bare/cur"), 'd');
    /* Opening never creates other folders */
    assert_null(store_root_folder(root, "nope", 0, why));
    assert_non_null(strstr(STR(why), "no such folder"));
    assert_int_equal(kind("folders/Maildir/.nope"), '-');
    assert_null(store_root_folder(root, "a..b", 0, why));
    assert_non_null(strstr(STR(why), "invalid"));
    store_root_close(root);
    vstring_free(why);
}

/*
 * mbox.
 */

static void test_mbox_new_root(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    STORE_ROOT *root = open_mbox("mnew/spool", "mnew/mail");

    assert_int_equal(store_root_separator(root), '/');
    assert_string_equal(listing(root, buf), "INBOX nochildren\n" SPECIAL_MBOX);
    assert_string_equal(read_text(buf, "mnew/mail/.subscriptions"), SUBS_SPECIAL);
    assert_int_equal(kind("mnew/mail/Drafts"), 'f');
    assert_int_equal(kind("mnew/mail/.imap/posthorn-special-use"), 'f');
    assert_int_equal(kind("mnew/spool"), '-');
    store_root_close(root);
    vstring_free(buf);
}

static void test_mbox_create(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_mbox("mcreate/spool", "mcreate/mail");

    MUST(store_root_create(root, "a/b/c", why), why);
    assert_int_equal(kind("mcreate/mail/a/b"), 'd');
    assert_int_equal(kind("mcreate/mail/a/b/c"), 'f');
    MUST(store_root_create(root, "dir/", why), why);
    assert_int_equal(kind("mcreate/mail/dir"), 'd');
    MUST(store_root_create(root, "INBOX/x", why), why);
    MUST(store_root_create(root, "inbox/y", why), why);
    assert_int_equal(kind("mcreate/mail/INBOX/y"), 'f');
    MUST(store_root_create(root, "Entw\xc3\xbcrfe", why), why);
    MUST(store_root_create(root, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/x", why), why);
    assert_int_equal(kind("mcreate/mail/&ZeVnLIqe-/x"), 'f');
    MUST(store_root_create(root, ".hidden", why), why);
    MUST(store_root_create(root, "a.b", why), why);
    REFUSED(store_root_create(root, "a/b/c", why), why, "already exists");
    REFUSED(store_root_create(root, "a/b", why), why, "already exists");
    REFUSED(store_root_create(root, "a/b/c/d", why), why, "cannot hold");
    REFUSED(store_root_create(root, "INBOX/", why), why, "already exists");
    assert_string_equal(listing(root, buf),
			"INBOX children\n"
			".hidden noinferiors\n"
			"Drafts noinferiors subscribed drafts\n"
			"Entw\xc3\xbcrfe noinferiors\n"
			"INBOX/x noinferiors\n"
			"INBOX/y noinferiors\n"
			"Junk noinferiors subscribed junk\n"
			"Sent noinferiors subscribed sent\n"
			"Trash noinferiors subscribed trash\n"
			"a noselect children\n"
			"a/b noselect children\n"
			"a/b/c noinferiors\n"
			"a.b noinferiors\n"
			"dir noselect nochildren\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e noselect children\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/x noinferiors\n");
    assert_int_equal(store_root_exists(root, "a/b/c", why), 1);
    assert_int_equal(store_root_exists(root, "a/b", why), 0);
    assert_null(store_root_folder(root, "a/b", 0, why));
    assert_non_null(strstr(STR(why), "not selectable"));
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_mbox_internal_files(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_mbox("mint/spool", "mint/mail");

    deliver_mbox("mint/mail/box", "Subject: box\n\nbody\n");
    deliver_mbox("mint/spool", "Subject: inbox\n\nbody\n");
    /* Indexes go to Dovecot's .imap; the spool INBOX's to .imap/INBOX */
    flag_first(root, "box");
    flag_first(root, "INBOX");
    write_file("mint/mail/box.lock", "");
    write_file("mint/mail/.box.posthorn-index", "");	/* an older Posthorn's */
    write_file("mint/mail/.box.posthorn-cache.123.tmp", "");
    write_file("mint/mail/.box.1234.0.1700000000", "");
    write_file("mint/mail/.imap/box/dovecot.index.log", "");
    write_file("mint/mail/INBOX", "From x  Thu Jan  1 00:00:00 2020\n\nhi\n\n");
    write_file("mint/mail/inbox", "");
    write_file("mint/mail/sub/INBOX", "");
    write_file("mint/mail/sub/.imap/INBOX/dovecot.index.log", "");
    make_link("/etc/passwd", "mint/mail/link");
    make_link("/etc", "mint/mail/dirlink");
    assert_int_equal(kind("mint/mail/.imap/box/posthorn-index"), 'f');
    assert_int_equal(kind("mint/mail/.imap/INBOX/posthorn-index"), 'f');
    assert_int_equal(kind("mint/.imap"), '-');
    assert_int_equal(kind("mint/.spool.posthorn-index"), '-');
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MBOX
			"box noinferiors\n"
			"sub noselect children\n"
			"sub/INBOX noinferiors\n");
    REFUSED(store_root_create(root, "x.lock", why), why, "reserved");
    REFUSED(store_root_create(root, "a/.imap/b", why), why, "reserved");
    REFUSED(store_root_create(root, ".imap", why), why, "reserved");
    REFUSED(store_root_create(root, ".subscriptions", why), why, "reserved");
    REFUSED(store_root_create(root, ".box.posthorn-index", why), why, "reserved");
    REFUSED(store_root_create(root, ".box.1.2.3", why), why, "reserved");
    MUST(store_root_create(root, "sub/.subscriptions", why), why);
    /* Deleting a file takes its indexes along, not its neighbours' */
    MUST(store_root_delete(root, "box", why), why);
    assert_int_equal(kind("mint/mail/.imap/box"), '-');
    assert_int_equal(kind("mint/mail/.imap/INBOX/posthorn-index"), 'f');
    assert_int_equal(kind("mint/mail/.imap/posthorn-special-use"), 'f');
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_mbox_delete_rename(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_mbox("mren/spool", "mren/mail");

    MUST(store_root_create(root, "a/b/c", why), why);
    deliver_mbox("mren/mail/a/b/c", "Subject: c\n\nbody\n");
    write_file("mren/mail/a/b/.imap/c/dovecot.index.log", "log");
    flag_first(root, "a/b/c");
    assert_int_equal(kind("mren/mail/a/b/.imap/c/posthorn-index"), 'f');
    REFUSED(store_root_delete(root, "a/b", why), why, "has children");
    REFUSED(store_root_delete(root, "a", why), why, "has children");
    REFUSED(store_root_delete(root, "a/b/c/d", why), why, "no such folder");
    /* A file moves with its index */
    MUST(store_root_rename(root, "a/b/c", "y", why), why);
    assert_int_equal(kind("mren/mail/y"), 'f');
    assert_int_equal(kind("mren/mail/.imap/y/dovecot.index.log"), 'f');
    assert_int_equal(kind("mren/mail/.imap/y/posthorn-index"), 'f');
    assert_int_equal(kind("mren/mail/a/b/.imap/c"), '-');
    assert_int_equal(folder_count(root, "y"), 1);
    /* A directory moves whole; new parents are made */
    MUST(store_root_create(root, "a/b/d", why), why);
    MUST(store_root_rename(root, "a", "w/q", why), why);
    assert_int_equal(kind("mren/mail/w/q/b/d"), 'f');
    REFUSED(store_root_rename(root, "w", "y/q", why), why, "cannot hold");
    REFUSED(store_root_rename(root, "w", "y", why), why, "already exists");
    REFUSED(store_root_rename(root, "w", "w/q/z", why), why, "into itself");
    REFUSED(store_root_rename(root, "gone", "z", why), why, "no such folder");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren\n" SPECIAL_MBOX
			"w noselect children\n"
			"w/q noselect children\n"
			"w/q/b noselect children\n"
			"w/q/b/d noinferiors\n"
			"y noinferiors\n");
    /* An empty directory can go; then its parent */
    MUST(store_root_delete(root, "w/q/b/d", why), why);
    MUST(store_root_delete(root, "w/q/b", why), why);
    MUST(store_root_delete(root, "w/q", why), why);
    MUST(store_root_delete(root, "w", why), why);
    assert_int_equal(kind("mren/mail/w"), '-');
    MUST(store_root_delete(root, "y", why), why);
    assert_int_equal(kind("mren/mail/.imap/y"), '-');
    assert_string_equal(listing(root, buf), "INBOX nochildren\n" SPECIAL_MBOX);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_mbox_rename_inbox(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_mbox("mbin/spool", "mbin/mail");

    deliver_mbox("mbin/spool", "Subject: 1\n\none\n");
    deliver_mbox("mbin/spool", "Subject: 2\n\ntwo\n");
    deliver_mbox("mbin/spool", "Subject: 3\n\nthree\n");
    set_inbox_flags(root);
    MUST(store_root_create(root, "INBOX/child", why), why);
    MUST(store_root_rename(root, "INBOX", "old/inbox", why), why);
    check_moved(root, "old/inbox");
    assert_int_equal(folder_count(root, "INBOX"), 0);
    assert_int_equal(kind("mbin/spool"), 'f');
    assert_string_equal(listing(root, buf),
			"INBOX children\n"
			"Drafts noinferiors subscribed drafts\n"
			"INBOX/child noinferiors\n"
			"Junk noinferiors subscribed junk\n"
			"Sent noinferiors subscribed sent\n"
			"Trash noinferiors subscribed trash\n"
			"old noselect children\n"
			"old/inbox noinferiors\n");
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_mbox_no_folder_dir(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root;
    STORE_FOLDER *folder;

    /* The folder directory cannot exist (a file is in the way): INBOX only */
    write_file("mnone/file", "");
    msg_stderr(0);
    root = open_mbox("mnone/spool", "mnone/file/mail");
    msg_stderr(1);
    assert_string_equal(listing(root, buf), "INBOX nochildren\n");
    REFUSED(store_root_create(root, "x", why), why, "not available");
    REFUSED(store_root_subscribe(root, "INBOX", 1, why), why, "not available");
    folder = store_root_folder(root, "INBOX", 0, why);
    if (folder == 0)
	fail_msg("INBOX: %s", STR(why));
    store_close(folder);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

/*
 * Subscriptions.
 */

static void test_subscriptions(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("subs/Maildir");

    MUST(store_root_create(root, "a.b", why), why);
    REFUSED(store_root_subscribe(root, "nope", 1, why), why, "no such folder");
    REFUSED(store_root_subscribe(root, "a", 1, why), why, "no such folder");
    REFUSED(store_root_subscribe(root, "a..b", 1, why), why, "invalid");
    MUST(store_root_subscribe(root, "a.b", 1, why), why);
    MUST(store_root_subscribe(root, "a.b", 1, why), why);
    MUST(store_root_subscribe(root, "inbox", 1, why), why);
    assert_string_equal(read_text(buf, "subs/Maildir/subscriptions"),
			SUBS_SPECIAL "a\tb\nINBOX\n");
    MUST(store_root_subscribe(root, "Sent", 0, why), why);
    MUST(store_root_subscribe(root, "nope", 0, why), why);
    assert_string_equal(read_text(buf, "subs/Maildir/subscriptions"),
			"V\t2\n\nDrafts\nTrash\nJunk\na\tb\nINBOX\n");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren subscribed\n"
			"Drafts nochildren subscribed drafts\n"
			"Junk nochildren subscribed junk\n"
			"Sent nochildren sent\n"
			"Trash nochildren subscribed trash\n"
			"a noselect children\n"
			"a.b nochildren subscribed\n");
    /* A left-over lock is removed; a fresh one is waited for */
    write_file("subs/Maildir/subscriptions.lock", "");
    {
	struct timespec old[2] = {{time((time_t *) 0) - 3600, 0},
	{time((time_t *) 0) - 3600, 0}};

	assert_int_equal(utimensat(AT_FDCWD, path_of(buf,
				   "subs/Maildir/subscriptions.lock"), old, 0), 0);
    }
    msg_stderr(0);
    MUST(store_root_subscribe(root, "Sent", 1, why), why);
    msg_stderr(1);
    assert_int_equal(kind("subs/Maildir/subscriptions.lock"), '-');
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_subscriptions_dovecot(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root;

    /* Dovecot 2.3.19 wrote this; plus a line with tab-escapes */
    make_dirs("dsubs/Maildir/.x~y");
    make_dirs("dsubs/Maildir/.sp ace");
    write_file("dsubs/Maildir/posthorn-special-use", "");
    write_file("dsubs/Maildir/subscriptions",
	       "V\t2\n\na\tb\tc\nEntw&APw-rfe\n&ZeVnLIqe-\nINBOX\nx~y\nTrash\n"
	       "sp ace\nwe\001tird\n\n");
    root = open_maildir("dsubs/Maildir");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren subscribed\n"
			"Entw\xc3\xbcrfe subscribed nonexistent\n"
			"Trash subscribed nonexistent trash\n"
			"a.b.c subscribed nonexistent\n"
			"sp ace nochildren subscribed\n"
			"x~y nochildren subscribed\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e subscribed nonexistent\n");
    /* Lines we do not use are kept as they are */
    MUST(store_root_subscribe(root, "Entw\xc3\xbcrfe", 0, why), why);
    assert_string_equal(read_text(buf, "dsubs/Maildir/subscriptions"),
			"V\t2\n\na\tb\tc\n&ZeVnLIqe-\nINBOX\nx~y\nTrash\n"
			"sp ace\nwe\001tird\n\n");
    store_root_close(root);

    /* Version 1 stays version 1 (as Dovecot) */
    make_dirs("dsubs1/Maildir/.b");
    write_file("dsubs1/Maildir/posthorn-special-use", "");
    write_file("dsubs1/Maildir/subscriptions", "a.x\nINBOX\nx.lock\n");
    root = open_maildir("dsubs1/Maildir");
    MUST(store_root_subscribe(root, "b", 1, why), why);
    MUST(store_root_subscribe(root, "x.lock", 0, why), why);
    assert_string_equal(read_text(buf, "dsubs1/Maildir/subscriptions"),
			"a.x\nINBOX\nb\n");
    assert_string_equal(listing(root, buf),
			"INBOX nochildren subscribed\n"
			"a.x subscribed nonexistent\n"
			"b nochildren subscribed\n");
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

/*
 * Trees that Dovecot 2.3.19 made (mail_location = maildir:~/Maildir, and
 * mbox:~/mail:INBOX=/var/mail/USER; CREATE, SUBSCRIBE and APPEND through
 * IMAP), with what Dovecot's LIST said about them.
 */

static const char *dovecot_maildir_dirs[] = {
    ".&ZeVnLIqe-", ".Entw&APw-rfe", ".INBOX.x", ".INBOX.y", ".a", ".a.b.c",
    ".sp ace", ".trail", ".x~y", 0,
};

static void make_dovecot_maildir(const char *top)
{
    VSTRING *path = vstring_alloc(100);
    const char *sub[] = {"cur", "new", "tmp"};

    for (int i = 0; dovecot_maildir_dirs[i]; i++) {
	for (int j = 0; j < 3; j++) {
	    vstring_sprintf(path, "%s/%s/%s", top, dovecot_maildir_dirs[i], sub[j]);
	    make_dirs(STR(path));
	}
	vstring_sprintf(path, "%s/%s/maildirfolder", top, dovecot_maildir_dirs[i]);
	write_file(STR(path), "");
	vstring_sprintf(path, "%s/%s/dovecot.index.log", top, dovecot_maildir_dirs[i]);
	write_file(STR(path), "");
	vstring_sprintf(path, "%s/%s/dovecot-uidlist", top, dovecot_maildir_dirs[i]);
	write_file(STR(path), "3 V1796516583 N1 G2b1b0c0a3a5b0f67c15d0000e6b1d24c\n");
    }
    for (int j = 0; j < 3; j++) {
	vstring_sprintf(path, "%s/%s", top, sub[j]);
	make_dirs(STR(path));
    }
    vstring_sprintf(path, "%s/.a.b.c/cur/1796516617.M928443P23718.vm,S=20,W=23:2,FS", top);
    write_file(STR(path), "Subject: one\n\nbody1\n");
    vstring_sprintf(path, "%s/.a.b.c/dovecot-uidlist", top);
    write_file(STR(path), "3 V1796516583 N2 G2b1b0c0a3a5b0f67c15d0000e6b1d24c\n"
	       "1 :1796516617.M928443P23718.vm,S=20,W=23\n");
    vstring_sprintf(path, "%s/dovecot-uidvalidity", top);
    write_file(STR(path), "6b14aaf4");
    vstring_sprintf(path, "%s/dovecot-uidvalidity.6b14aaed", top);
    write_file(STR(path), "");
    vstring_sprintf(path, "%s/dovecot.list.index.log", top);
    write_file(STR(path), "");
    vstring_sprintf(path, "%s/subscriptions", top);
    write_file(STR(path), "V\t2\n\na\tb\tc\nEntw&APw-rfe\n&ZeVnLIqe-\nINBOX\n"
	       "x~y\nTrash\nsp ace\n");
    vstring_free(path);
}

static void test_dovecot_maildir(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root;

    /*
     * Dovecot listed: INBOX \HasChildren, a \HasChildren, a.b \Noselect
     * \HasChildren, every other folder \HasNoChildren; its Drafts, Junk,
     * Sent and Trash were virtual (auto = subscribe), ours are made now.
     */
    make_dovecot_maildir("dove/Maildir");
    root = open_maildir("dove/Maildir");
    assert_string_equal(listing(root, buf),
			"INBOX children subscribed\n"
			"Drafts nochildren subscribed drafts\n"
			"Entw\xc3\xbcrfe nochildren subscribed\n"
			"INBOX.x nochildren\n"
			"INBOX.y nochildren\n"
			"Junk nochildren subscribed junk\n"
			"Sent nochildren subscribed sent\n"
			"Trash nochildren subscribed trash\n"
			"a children\n"
			"a.b noselect children\n"
			"a.b.c nochildren subscribed\n"
			"sp ace nochildren subscribed\n"
			"trail nochildren\n"
			"x~y nochildren subscribed\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e nochildren subscribed\n");
    assert_string_equal(read_text(buf, "dove/Maildir/subscriptions"),
			"V\t2\n\na\tb\tc\nEntw&APw-rfe\n&ZeVnLIqe-\nINBOX\n"
			"x~y\nTrash\nsp ace\nDrafts\nSent\nJunk\n");
    assert_int_equal(folder_count(root, "a.b.c"), 1);
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_dovecot_mbox(void **state)
{
    static const char *files[] = {
	"&-", "&ZeVnLIqe-/x", "&ZeVnLIqe-/.imap/x/dovecot.index.log", ".hidden",
	".imap/&-/dovecot.index.log", ".imap/.hidden/dovecot.index.log",
	".imap/Entw&APw-rfe/dovecot.index.log", ".imap/INBOX/dovecot.index.log",
	".imap/a.b/dovecot.index.log", ".imap/a\\b/dovecot.index.log",
	".imap/sp ace/dovecot.index.log", ".imap/x\"y/dovecot.index.log",
	".imap/x~/dovecot.index.log", ".imap/dovecot-uidvalidity",
	".imap/dovecot-uidvalidity.6b14ac0a", ".imap/dovecot.list.index.log",
	".imap/dovecot.mailbox.log", "Entw&APw-rfe", "INBOX/x", "INBOX/y",
	"INBOX/.imap/x/dovecot.index.log", "INBOX/.imap/y/dovecot.index.log",
	"a/b/c", "a/b/.imap/c/dovecot.index.log", "a.b", "a\\b", "sp ace",
	"x\"y", "x~", 0,
    };
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root;

    for (int i = 0; files[i]; i++) {
	vstring_sprintf(buf, "dovembox/mail/%s", files[i]);
	write_file(STR(buf), "");
    }
    make_dirs("dovembox/mail/a b");
    make_dirs("dovembox/mail/ab");
    make_dirs("dovembox/mail/dir");
    write_file("dovembox/mail/.subscriptions",
	       "V\t2\n\na\tb\tc\nEntw&APw-rfe\nINBOX\ndir\n");
    write_file("dovembox/mail/a/b/c",
	       "From mb@vm  Sun Dec 06 00:28:16 2026\n"
	       "Subject: p\nX-IMAPbase: 1796516862 0000000001\nX-UID: 1\n"
	       "Status: RO\nX-Keywords:\nContent-Length: 7\n\nbody1\n\n");
    /*
     * Dovecot listed files \NoInferiors, directories \Noselect with
     * \HasChildren or \HasNoChildren, INBOX \HasChildren.
     */
    root = open_mbox("dovembox/spool", "dovembox/mail");
    assert_string_equal(listing(root, buf),
			"INBOX children subscribed\n"
			"& noinferiors\n"
			".hidden noinferiors\n"
			"Drafts noinferiors subscribed drafts\n"
			"Entw\xc3\xbcrfe noinferiors subscribed\n"
			"INBOX/x noinferiors\n"
			"INBOX/y noinferiors\n"
			"Junk noinferiors subscribed junk\n"
			"Sent noinferiors subscribed sent\n"
			"Trash noinferiors subscribed trash\n"
			"a noselect children\n"
			"a/b noselect children\n"
			"a/b/c noinferiors subscribed\n"
			"a b noselect nochildren\n"
			"a.b noinferiors\n"
			"a\\b noinferiors\n"
			"ab noselect nochildren\n"
			"dir noselect nochildren subscribed\n"
			"sp ace noinferiors\n"
			"x\"y noinferiors\n"
			"x~ noinferiors\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e noselect children\n"
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/x noinferiors\n");
    assert_int_equal(folder_count(root, "a/b/c"), 1);
    assert_string_equal(read_text(buf, "dovembox/mail/.subscriptions"),
			"V\t2\n\na\tb\tc\nEntw&APw-rfe\nINBOX\ndir\n"
			"Drafts\nSent\nTrash\nJunk\n");
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

/*
 * Hostile names and links.
 */

/* count_entries - entries in directory TOPDIR/REL (not . and ..) */

static int count_entries(const char *rel)
{
    VSTRING *path = vstring_alloc(100);
    DIR    *dp = opendir(path_of(path, rel));
    struct dirent *de;
    int     count = 0;

    assert_non_null(dp);
    while ((de = readdir(dp)) != 0)
	if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
	    count++;
    closedir(dp);
    vstring_free(path);
    return (count);
}

/* try_everything - every operation on NAME must fail with "invalid" */

static void try_everything(STORE_ROOT *root, const char *name)
{
    VSTRING *why = vstring_alloc(100);

    if (store_root_create(root, name, why) != -1 || !strstr(STR(why), "invalid"))
	fail_msg("create \"%s\": %s", name, STR(why));
    if (store_root_delete(root, name, why) != -1 || !strstr(STR(why), "invalid"))
	fail_msg("delete \"%s\": %s", name, STR(why));
    if (store_root_rename(root, name, "ok", why) != -1
	|| !strstr(STR(why), "invalid"))
	fail_msg("rename from \"%s\": %s", name, STR(why));
    if (store_root_rename(root, "Sent", name, why) != -1
	|| !strstr(STR(why), "invalid"))
	fail_msg("rename to \"%s\": %s", name, STR(why));
    if (store_root_subscribe(root, name, 1, why) != -1
	|| !strstr(STR(why), "invalid"))
	fail_msg("subscribe \"%s\": %s", name, STR(why));
    if (store_root_folder(root, name, 0, why) != 0 || !strstr(STR(why), "invalid"))
	fail_msg("folder \"%s\": %s", name, STR(why));
    if (store_root_exists(root, name, why) != -1)
	fail_msg("exists \"%s\"", name);
    vstring_free(why);
}

static const char *hostile_both[] = {
    "", "..", "../x", "a/../../etc", "/etc/passwd", "~root", "~",
    "a\nb", "a\tb", "a\rb", "x\x7f", "\x01", "bad\xff", "\xc3", "\xed\xa0\x80",
    "\xc0\xaf" "etc", 0,
};

static void test_hostile_maildir(void **state)
{
    static const char *names[] = {
	".", ".hidden", "a..b", "a/b", "../../etc", "x/", "./x", 0,
    };
    VSTRING *buf = vstring_alloc(1000);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_maildir("hmd/Maildir");
    int     before = count_entries("hmd/Maildir");
    int     top = count_entries("hmd");

    for (int i = 0; hostile_both[i]; i++)
	try_everything(root, hostile_both[i]);
    for (int i = 0; names[i]; i++)
	try_everything(root, names[i]);
    for (int i = 0; i < 300; i++)
	vstring_addch(buf, 'x');
    try_everything(root, STR(buf));
    assert_int_equal(count_entries("hmd/Maildir"), before);
    assert_int_equal(count_entries("hmd"), top);
    /* A link in the Maildir is no folder, and is not followed */
    make_dirs("hmd/outside/cur");
    make_dirs("hmd/outside/new");
    make_dirs("hmd/outside/tmp");
    make_link("../outside", "hmd/Maildir/.evil");
    assert_string_equal(listing(root, buf), "INBOX nochildren\n" SPECIAL_MAILDIR);
    assert_int_equal(store_root_exists(root, "evil", why), 0);
    assert_null(store_root_folder(root, "evil", 0, why));
    REFUSED(store_root_delete(root, "evil", why), why, "no such folder");
    REFUSED(store_root_create(root, "evil", why), why, "already exists");
    REFUSED(store_root_subscribe(root, "evil", 1, why), why, "no such folder");
    REFUSED(store_root_rename(root, "evil", "good", why), why, "no such folder");
    REFUSED(store_root_rename(root, "Sent", "evil", why), why, "already exists");
    assert_int_equal(kind("hmd/outside/cur"), 'd');
    assert_int_equal(kind("hmd/Maildir/.evil"), 'l');
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

static void test_hostile_mbox(void **state)
{
    static const char *names[] = {
	".", "a/.", "a/./b", "a/..", "a//b", "//", "/", ".imap", "x/.imap",
	"f.lock", ".subscriptions", 0,
    };
    VSTRING *buf = vstring_alloc(1000);
    VSTRING *why = vstring_alloc(100);
    STORE_ROOT *root = open_mbox("hmb/spool", "hmb/mail");
    int     before = count_entries("hmb/mail");
    int     top = count_entries("hmb");

    for (int i = 0; hostile_both[i]; i++)
	try_everything(root, hostile_both[i]);
    for (int i = 0; names[i]; i++)
	try_everything(root, names[i]);
    for (int i = 0; i < 300; i++)
	vstring_addch(buf, 'x');
    try_everything(root, STR(buf));
    for (vstring_reset(buf); LEN(buf) < 1200;)
	vstring_strcat(buf, "d/");
    vstring_strcat(buf, "f");
    try_everything(root, STR(buf));
    assert_int_equal(count_entries("hmb/mail"), before);
    assert_int_equal(count_entries("hmb"), top);
    /* Links to a directory and to a file outside: never followed */
    make_dirs("hmb/outside");
    write_file("hmb/outside/victim", "keep\n");
    make_link("../outside", "hmb/mail/evil");
    make_link("../outside/victim", "hmb/mail/file");
    assert_string_equal(listing(root, buf), "INBOX nochildren\n" SPECIAL_MBOX);
    REFUSED(store_root_create(root, "evil/x", why), why, "symbolic link");
    REFUSED(store_root_create(root, "evil/", why), why, "already exists");
    REFUSED(store_root_delete(root, "evil/victim", why), why, "no such folder");
    REFUSED(store_root_delete(root, "evil", why), why, "no such folder");
    REFUSED(store_root_delete(root, "file", why), why, "no such folder");
    REFUSED(store_root_rename(root, "evil/victim", "mine", why), why, "no such folder");
    REFUSED(store_root_rename(root, "file", "mine", why), why, "no such folder");
    REFUSED(store_root_rename(root, "Sent", "evil/sent", why), why, "symbolic link");
    assert_null(store_root_folder(root, "evil/victim", 0, why));
    assert_null(store_root_folder(root, "file", 0, why));
    REFUSED(store_root_subscribe(root, "evil/victim", 1, why), why, "no such folder");
    assert_int_equal(count_entries("hmb/outside"), 1);
    assert_string_equal(read_text(buf, "hmb/outside/victim"), "keep\n");
    assert_int_equal(kind("hmb/mail/evil"), 'l');
    assert_int_equal(kind("hmb/mail/file"), 'l');
    store_root_close(root);
    vstring_free(buf);
    vstring_free(why);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_maildir_new_root),
	cmocka_unit_test(test_special_use_once),
	cmocka_unit_test(test_maildir_create),
	cmocka_unit_test(test_maildir_utf8),
	cmocka_unit_test(test_maildir_delete),
	cmocka_unit_test(test_maildir_rename),
	cmocka_unit_test(test_maildir_rename_inbox),
	cmocka_unit_test(test_maildir_folders),
	cmocka_unit_test(test_mbox_new_root),
	cmocka_unit_test(test_mbox_create),
	cmocka_unit_test(test_mbox_internal_files),
	cmocka_unit_test(test_mbox_delete_rename),
	cmocka_unit_test(test_mbox_rename_inbox),
	cmocka_unit_test(test_mbox_no_folder_dir),
	cmocka_unit_test(test_subscriptions),
	cmocka_unit_test(test_subscriptions_dovecot),
	cmocka_unit_test(test_dovecot_maildir),
	cmocka_unit_test(test_dovecot_mbox),
	cmocka_unit_test(test_hostile_maildir),
	cmocka_unit_test(test_hostile_mbox),
    };

    msg_init("test_store_root", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
