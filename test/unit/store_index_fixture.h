/*
 * store_index_fixture.h - what the unit tests of lib/store/store_index*.c
 * share (test_store_index.c, test_store_index_cache.c): a private
 * directory with a log file whose warnings are counted, test folders
 * (TF: a Maildir or an mbox with its index files as store_root places
 * them), deliveries, flag changes, views saved and compared, and cache
 * values put and checked.  It includes what these tests need.
 */
#ifndef STORE_INDEX_FIXTURE_H
#define STORE_INDEX_FIXTURE_H

#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"

#define MAILDIR	STORE_KIND_MAILDIR
#define MBOX	STORE_KIND_MBOX

static char topdir[] = "/tmp/test_store_indexXXXXXX";
static VSTRING *why;
static char logpath[300];

/* A test folder: its kind and files */
typedef struct TF {
    int     kind;
    char    dir[256];			/* where its files are */
    char    path[300];			/* the Maildir, or the mbox file */
    char    index_dir[300];		/* mbox: as store_root gives it */
    char    index[340];
    char    cache[340];
} TF;

static inline int setup(void **state)
{
    if (mkdtemp(topdir) == 0)
	return (-1);
    why = vstring_alloc(100);
    snprintf(logpath, sizeof(logpath), "%s/log", topdir);
    msg_init("test_store_index", 0);
    msg_logfile(logpath);
    return (0);
}

static inline int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     ret;

    msg_logfile("");
    vstring_sprintf(cmd, "rm -rf '%s'", topdir);
    ret = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(why);
    return (ret == 0 ? 0 : -1);
}

/*
 * Files.
 */

static inline int read_path(const char *path, VSTRING *buf)
{
    char    tmp[65536];
    ssize_t n;
    int     fd = open(path, O_RDONLY);

    vstring_reset(buf);
    if (fd < 0)
	return (-1);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
    return (0);
}

static inline void write_path(const char *path, const char *data, size_t len)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);
}

static inline int exists(const char *path)
{
    struct stat st;

    return (lstat(path, &st) == 0);
}

static inline void stat_path(const char *path, struct stat *st)
{
    assert_int_equal(lstat(path, st), 0);
}

static inline int same_file(const struct stat *a, const struct stat *b)
{
    return (a->st_ino == b->st_ino && a->st_size == b->st_size
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

/* dir_names - the names in DIR, sorted, one a line */

static inline void dir_names(const char *dir, VSTRING *out)
{
    VSTRING *cmd = vstring_alloc(100);
    FILE   *fp;
    char    line[1000];

    vstring_reset(out);
    vstring_sprintf(cmd, "ls -a '%s' | sort", dir);
    assert_non_null(fp = popen(STR(cmd), "r"));
    while (fgets(line, sizeof(line), fp))
	vstring_strcat(out, line);
    pclose(fp);
    vstring_free(cmd);
}

/* warnings - how many were logged since the last call */

static inline int warnings(void)
{
    VSTRING *buf = vstring_alloc(1000);
    const char *cp;
    int     n = 0;

    (void) read_path(logpath, buf);
    for (cp = STR(buf); (cp = strstr(cp, "warning: ")) != 0; cp++)
	n++;
    if (n > 0 && getenv("VERBOSE"))
	fputs(STR(buf), stderr);
    assert_int_equal(truncate(logpath, 0), 0);
    vstring_free(buf);
    return (n);
}

/*
 * Folders.
 */

static inline void tf_init(TF *tf, int kind, const char *name)
{
    tf->kind = kind;
    tf->index_dir[0] = 0;
    snprintf(tf->dir, sizeof(tf->dir), "%s/%s", topdir, name);
    if (kind == MAILDIR) {
	snprintf(tf->path, sizeof(tf->path), "%s", tf->dir);
	snprintf(tf->index, sizeof(tf->index), "%s/posthorn-index", tf->dir);
	snprintf(tf->cache, sizeof(tf->cache), "%s/posthorn-cache", tf->dir);
    } else {
	assert_int_equal(mkdir(tf->dir, 0700), 0);
	snprintf(tf->path, sizeof(tf->path), "%s/mbox", tf->dir);
	snprintf(tf->index_dir, sizeof(tf->index_dir), "%s/.imap/mbox", tf->dir);
	snprintf(tf->index, sizeof(tf->index), "%s/posthorn-index",
		 tf->index_dir);
	snprintf(tf->cache, sizeof(tf->cache), "%s/posthorn-cache",
		 tf->index_dir);
    }
}

static inline int source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    const char *text = (const char *) ctx;

    return (write_fn(sink, text, strlen(text)));
}

static inline void deliver(TF *tf, const char *text)
{
    int     temporary, ret;

    if (tf->kind == MAILDIR)
	ret = maildir_deliver(tf->path, geteuid(), source, (void *) text, why,
			      &temporary);
    else
	ret = mbox_deliver(tf->path, "a@b.c", time((time_t *) 0), source,
			   (void *) text, why, &temporary);
    if (ret != 0)
	fail_msg("deliver: %s", STR(why));
}

static inline void deliver_n(TF *tf, int count)
{
    char    text[100];

    for (int i = 0; i < count; i++) {
	snprintf(text, sizeof(text), "Subject: %d\n\nbody %d\n", i, i);
	deliver(tf, text);
    }
}

/* make_maildir - a Maildir with COUNT messages in cur/, written directly */

static inline void make_maildir(TF *tf, int count)
{
    char    path[400];
    int     i;

    const char *subs[] = {"", "/tmp", "/new", "/cur"};

    for (i = 0; i < 4; i++) {
	snprintf(path, sizeof(path), "%s%s", tf->path, subs[i]);
	assert_int_equal(mkdir(path, 0700), 0);
    }
    for (i = 0; i < count; i++) {
	snprintf(path, sizeof(path), "%s/cur/1700000000.M%dP1.host,S=6,W=7:2,",
		 tf->path, i);
	write_path(path, "hello\n", 6);
    }
}

static inline STORE_FOLDER *tf_open(TF *tf, int flags)
{
    STORE_FOLDER *folder;

    folder = store_open_at(tf->kind, tf->path, *tf->index_dir ? tf->index_dir : 0,
			   flags, why);
    if (folder == 0)
	fail_msg("store_open %s: %s", tf->path, STR(why));
    return (folder);
}

static inline void tf_sync(STORE_FOLDER *folder)
{
    if (store_sync(folder, 0, why) != 0)
	fail_msg("store_sync: %s", STR(why));
}

static inline void set_flags(STORE_FOLDER *folder, int seq, unsigned flags,
		              unsigned keywords)
{
    if (store_set_flags(folder, store_msg(folder, seq), flags, keywords,
			why) != 0)
	fail_msg("store_set_flags: %s", STR(why));
}

static inline void expunge_uid(STORE_FOLDER *folder, unsigned uid)
{
    if (store_expunge(folder, &uid, 1, why) != 0)
	fail_msg("store_expunge: %s", STR(why));
}

static inline STORE_MSG *by_uid(STORE_FOLDER *folder, unsigned uid)
{
    return (store_msg(folder, store_uid_seq(folder, uid)));
}

/* check_view - every message has a MODSEQ, none above HIGHESTMODSEQ */

static inline void check_view(STORE_FOLDER *folder)
{
    assert_true(folder->highestmodseq > 0);
    for (int i = 0; i < folder->count; i++) {
	assert_true(store_view_msgs(folder)[i].modseq > 0);
	assert_true(store_view_msgs(folder)[i].modseq <= folder->highestmodseq);
    }
}

/* assert_same - two views of one folder agree */

static inline void assert_same(STORE_FOLDER *a, STORE_FOLDER *b)
{
    check_view(a);
    check_view(b);
    assert_int_equal(a->count, b->count);
    assert_true(a->highestmodseq == b->highestmodseq);
    for (int i = 0; i < a->count; i++) {
	assert_int_equal(store_view_msgs(a)[i].uid, store_view_msgs(b)[i].uid);
	assert_true(store_view_msgs(a)[i].modseq == store_view_msgs(b)[i].modseq);
    }
}

/* What a view said once, to compare with later */
typedef struct SAVED {
    int     count;
    unsigned uids[64];
    unsigned long long modseqs[64];
    unsigned long long highest;
} SAVED;

static inline void save_view(STORE_FOLDER *folder, SAVED *saved)
{
    assert_true(folder->count <= 64);
    saved->count = folder->count;
    for (int i = 0; i < folder->count; i++) {
	saved->uids[i] = store_view_msgs(folder)[i].uid;
	saved->modseqs[i] = store_view_msgs(folder)[i].modseq;
    }
    saved->highest = folder->highestmodseq;
}

/* assert_not_lower - no MODSEQ went back since SAVED */

static inline void assert_not_lower(STORE_FOLDER *folder, const SAVED *saved)
{
    STORE_MSG *msg;

    check_view(folder);
    assert_true(folder->highestmodseq >= saved->highest);
    for (int i = 0; i < saved->count; i++)
	if ((msg = by_uid(folder, saved->uids[i])) != 0)
	    assert_true(msg->modseq >= saved->modseqs[i]);
}

/* assert_equal_saved - the view says exactly what SAVED says */

static inline void assert_equal_saved(STORE_FOLDER *folder, const SAVED *saved)
{
    assert_int_equal(folder->count, saved->count);
    assert_true(folder->highestmodseq == saved->highest);
    for (int i = 0; i < saved->count; i++) {
	assert_int_equal(store_view_msgs(folder)[i].uid, saved->uids[i]);
	assert_true(store_view_msgs(folder)[i].modseq == saved->modseqs[i]);
    }
}

/* expunged - store_expunged_since as a string "1,2,3", and *ALL_KNOWN */

static inline const char *expunged(STORE_FOLDER *folder, unsigned long long modseq,
			            int *all_known, VSTRING *out)
{
    unsigned *uids;
    int     count;

    assert_int_equal(store_expunged_since(folder, modseq, &uids, &count,
					  all_known), 0);
    vstring_reset(out);
    for (int i = 0; i < count; i++) {
	if (i > 0)
	    assert_true(uids[i] > uids[i - 1]);
	vstring_sprintf_append(out, "%s%u", i ? "," : "", uids[i]);
    }
    myfree(uids);
    return (STR(out));
}

static inline int expunged_count(STORE_FOLDER *folder, unsigned long long modseq,
			          int *all_known)
{
    unsigned *uids;
    int     count;

    assert_int_equal(store_expunged_since(folder, modseq, &uids, &count,
					  all_known), 0);
    myfree(uids);
    return (count);
}


static inline void put(STORE_FOLDER *folder, unsigned uid, const char *field,
		        const char *value)
{
    store_cache_put(folder, uid, field, value, strlen(value));
}

static inline void assert_cached(STORE_FOLDER *folder, unsigned uid,
			          const char *field, const char *value)
{
    const char *got = store_cache_get(folder, uid, field);

    if (value == 0)
	assert_null(got);
    else
	assert_string_equal(got ? got : "(null)", value);
}

#endif
