/*
 * test_store_index.c - unit tests for lib/store/store_index*.c (MODSEQs,
 * the expunge log, the cache and change notification), through store.h
 * on real Maildir and mbox folders (an mbox's index files in the
 * directory store_open_at() names, made at the first write, or beside
 * the file without one).
 *
 * MODSEQs go up on every kind of change (new mail, our flag and keyword
 * changes, another session's and another program's, expunges, appends)
 * and never go back, also across damaged, deleted, out-of-date and
 * foreign index files and a new UIDVALIDITY; an open writes no file, a
 * sync that finds nothing writes nothing, a flag change appends 24 bytes;
 * two folder objects on one path agree on MODSEQs and expunges, also two
 * processes changing flags at once (every MODSEQ handed out once); the
 * expunge log is exact and bounded; cache values round-trip between
 * sessions, go with their message, stay bounded, and a damaged cache
 * file never yields a wrong value; read-only folders write nothing;
 * notification fires for a delivery and a flag change and is quiet
 * otherwise.  Timings of a 10,000-message folder are printed (set
 * POSTHORN_INDEX_BENCH=100000 for more).  Warnings are logged to a file
 * and counted: a sound index never causes one.
 */
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

static int setup(void **state)
{
    if (mkdtemp(topdir) == 0)
	return (-1);
    why = vstring_alloc(100);
    snprintf(logpath, sizeof(logpath), "%s/log", topdir);
    msg_init("test_store_index", 0);
    msg_logfile(logpath);
    return (0);
}

static int teardown(void **state)
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

static int read_path(const char *path, VSTRING *buf)
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

static void write_path(const char *path, const char *data, size_t len)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);
}

static int exists(const char *path)
{
    struct stat st;

    return (lstat(path, &st) == 0);
}

static void stat_path(const char *path, struct stat *st)
{
    assert_int_equal(lstat(path, st), 0);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return (a->st_ino == b->st_ino && a->st_size == b->st_size
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

/* dir_names - the names in DIR, sorted, one a line */

static void dir_names(const char *dir, VSTRING *out)
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

static int warnings(void)
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

static void tf_init(TF *tf, int kind, const char *name)
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

static int source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    const char *text = (const char *) ctx;

    return (write_fn(sink, text, strlen(text)));
}

static void deliver(TF *tf, const char *text)
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

static void deliver_n(TF *tf, int count)
{
    char    text[100];

    for (int i = 0; i < count; i++) {
	snprintf(text, sizeof(text), "Subject: %d\n\nbody %d\n", i, i);
	deliver(tf, text);
    }
}

/* make_maildir - a Maildir with COUNT messages in cur/, written directly */

static void make_maildir(TF *tf, int count)
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

static STORE_FOLDER *tf_open(TF *tf, int flags)
{
    STORE_FOLDER *folder;

    folder = store_open_at(tf->kind, tf->path, *tf->index_dir ? tf->index_dir : 0,
			   flags, why);
    if (folder == 0)
	fail_msg("store_open %s: %s", tf->path, STR(why));
    return (folder);
}

static void tf_sync(STORE_FOLDER *folder)
{
    if (store_sync(folder, 0, why) != 0)
	fail_msg("store_sync: %s", STR(why));
}

static void set_flags(STORE_FOLDER *folder, int seq, unsigned flags,
		              unsigned keywords)
{
    if (store_set_flags(folder, store_msg(folder, seq), flags, keywords,
			why) != 0)
	fail_msg("store_set_flags: %s", STR(why));
}

static void expunge_uid(STORE_FOLDER *folder, unsigned uid)
{
    if (store_expunge(folder, &uid, 1, why) != 0)
	fail_msg("store_expunge: %s", STR(why));
}

static STORE_MSG *by_uid(STORE_FOLDER *folder, unsigned uid)
{
    return (store_msg(folder, store_uid_seq(folder, uid)));
}

/* check_view - every message has a MODSEQ, none above HIGHESTMODSEQ */

static void check_view(STORE_FOLDER *folder)
{
    assert_true(folder->highestmodseq > 0);
    for (int i = 0; i < folder->count; i++) {
	assert_true(folder->msgs[i].modseq > 0);
	assert_true(folder->msgs[i].modseq <= folder->highestmodseq);
    }
}

/* assert_same - two views of one folder agree */

static void assert_same(STORE_FOLDER *a, STORE_FOLDER *b)
{
    check_view(a);
    check_view(b);
    assert_int_equal(a->count, b->count);
    assert_true(a->highestmodseq == b->highestmodseq);
    for (int i = 0; i < a->count; i++) {
	assert_int_equal(a->msgs[i].uid, b->msgs[i].uid);
	assert_true(a->msgs[i].modseq == b->msgs[i].modseq);
    }
}

/* What a view said once, to compare with later */
typedef struct SAVED {
    int     count;
    unsigned uids[64];
    unsigned long long modseqs[64];
    unsigned long long highest;
} SAVED;

static void save_view(STORE_FOLDER *folder, SAVED *saved)
{
    assert_true(folder->count <= 64);
    saved->count = folder->count;
    for (int i = 0; i < folder->count; i++) {
	saved->uids[i] = folder->msgs[i].uid;
	saved->modseqs[i] = folder->msgs[i].modseq;
    }
    saved->highest = folder->highestmodseq;
}

/* assert_not_lower - no MODSEQ went back since SAVED */

static void assert_not_lower(STORE_FOLDER *folder, const SAVED *saved)
{
    STORE_MSG *msg;

    check_view(folder);
    assert_true(folder->highestmodseq >= saved->highest);
    for (int i = 0; i < saved->count; i++)
	if ((msg = by_uid(folder, saved->uids[i])) != 0)
	    assert_true(msg->modseq >= saved->modseqs[i]);
}

/* assert_equal_saved - the view says exactly what SAVED says */

static void assert_equal_saved(STORE_FOLDER *folder, const SAVED *saved)
{
    assert_int_equal(folder->count, saved->count);
    assert_true(folder->highestmodseq == saved->highest);
    for (int i = 0; i < saved->count; i++) {
	assert_int_equal(folder->msgs[i].uid, saved->uids[i]);
	assert_true(folder->msgs[i].modseq == saved->modseqs[i]);
    }
}

/* expunged - store_expunged_since as a string "1,2,3", and *ALL_KNOWN */

static const char *expunged(STORE_FOLDER *folder, unsigned long long modseq,
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

static int expunged_count(STORE_FOLDER *folder, unsigned long long modseq,
			          int *all_known)
{
    unsigned *uids;
    int     count;

    assert_int_equal(store_expunged_since(folder, modseq, &uids, &count,
					  all_known), 0);
    myfree(uids);
    return (count);
}

/*
 * MODSEQs go up on every kind of change.
 */

static void run_changes(int kind, const char *name)
{
    VSTRING *buf = vstring_alloc(100);
    struct stat st1, st2;
    STORE_FOLDER *f, *g;
    unsigned long long h, m1, m3;
    char    expect[20];
    unsigned uid;
    SAVED   saved;
    int     all, kw;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 3);
    f = tf_open(&tf, 0);
    assert_int_equal(f->count, 3);
    check_view(f);
    assert_false(exists(tf.index));		/* an open writes no index */
    h = f->highestmodseq;
    m1 = f->msgs[0].modseq;

    /* The first sync writes it; one that finds nothing writes nothing */
    tf_sync(f);
    assert_true(exists(tf.index));
    assert_true(f->highestmodseq == h && f->msgs[0].modseq == m1);
    stat_path(tf.index, &st1);
    tf_sync(f);
    stat_path(tf.index, &st2);
    assert_true(same_file(&st1, &st2));

    /* Our flag change: that message only, 24 bytes appended */
    m3 = f->msgs[2].modseq;
    set_flags(f, 2, STORE_SEEN, 0);
    assert_true(f->msgs[1].modseq > h);
    assert_true(f->msgs[1].modseq == f->highestmodseq);
    assert_true(f->msgs[0].modseq == m1 && f->msgs[2].modseq == m3);
    stat_path(tf.index, &st2);
    assert_int_equal(st2.st_ino, st1.st_ino);
    assert_int_equal(st2.st_size, st1.st_size + 24);
    h = f->highestmodseq;
    tf_sync(f);
    assert_true(f->highestmodseq == h);
    stat_path(tf.index, &st1);
    assert_true(same_file(&st1, &st2));

    /* A change that changes nothing gets no MODSEQ */
    set_flags(f, 2, STORE_SEEN, 0);
    assert_true(f->highestmodseq == h);

    /* New mail */
    deliver(&tf, "Subject: 4\n\nfour\n");
    tf_sync(f);
    assert_int_equal(f->count, 4);
    assert_true(f->msgs[3].modseq > h);
    assert_true(f->msgs[3].modseq == f->highestmodseq);
    h = f->highestmodseq;

    /* Our expunge */
    uid = f->msgs[0].uid;
    expunge_uid(f, uid);
    assert_int_equal(f->count, 3);
    assert_true(f->highestmodseq > h);
    snprintf(expect, sizeof(expect), "%u", uid);
    assert_string_equal(expunged(f, h, &all, buf), expect);
    assert_int_equal(all, 1);
    assert_string_equal(expunged(f, f->highestmodseq, &all, buf), "");
    assert_int_equal(all, 1);
    h = f->highestmodseq;

    /* Another session's flag change */
    g = tf_open(&tf, 0);
    set_flags(g, 1, STORE_FLAGGED, 0);
    store_close(g);
    tf_sync(f);
    assert_true(f->msgs[0].flags & STORE_FLAGGED);
    assert_true(f->msgs[0].modseq > h);
    assert_true(f->msgs[0].modseq == f->highestmodseq);
    h = f->highestmodseq;

    /* A keyword */
    assert_true((kw = store_keyword(f, "$Label1", 1, why)) >= 0);
    set_flags(f, 3, f->msgs[2].flags & STORE_FLAGS_STORED, 1U << kw);
    assert_true(f->msgs[2].modseq > h);
    h = f->highestmodseq;

    /* Our append: a MODSEQ at once, the view learns it at sync */
    if (store_append(f, source, "Subject: 5\n\nfive\n", STORE_SEEN, 0, 0,
		     &uid, why) != 0)
	fail_msg("store_append: %s", STR(why));
    assert_true(f->highestmodseq > h);
    h = f->highestmodseq;
    tf_sync(f);
    assert_non_null(by_uid(f, uid));
    assert_true(by_uid(f, uid)->modseq == h);
    assert_true(f->highestmodseq == h);
    check_view(f);

    /* The same after reopening, and never a warning */
    save_view(f, &saved);
    store_close(f);
    f = tf_open(&tf, 0);
    assert_equal_saved(f, &saved);
    store_close(f);
    assert_int_equal(warnings(), 0);
    vstring_free(buf);
}

static void test_maildir_changes(void **state)
{
    run_changes(MAILDIR, "changes-md");
}

static void test_mbox_changes(void **state)
{
    run_changes(MBOX, "changes-mbox");
}

/*
 * Two folder objects on one path.
 */

static void run_two_sessions(int kind, const char *name)
{
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *a, *b;
    unsigned long long h;
    char    expect[20];
    unsigned uid;
    SAVED   saved_a, saved_b;
    int     all;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 3);

    /* Both open before there is an index file: they agree after syncs */
    a = tf_open(&tf, 0);
    b = tf_open(&tf, 0);
    save_view(a, &saved_a);
    save_view(b, &saved_b);
    tf_sync(a);
    tf_sync(b);
    tf_sync(a);
    assert_same(a, b);
    assert_not_lower(a, &saved_a);
    assert_not_lower(b, &saved_b);

    /* Each sees the other's flag changes with the same MODSEQ */
    set_flags(a, 1, STORE_SEEN, 0);
    tf_sync(b);
    assert_same(a, b);
    set_flags(b, 2, STORE_FLAGGED | STORE_ANSWERED, 0);
    tf_sync(a);
    assert_same(a, b);
    assert_true(a->msgs[1].flags & STORE_ANSWERED);

    /* ... and expunges */
    h = b->highestmodseq;
    uid = a->msgs[2].uid;
    expunge_uid(a, uid);
    tf_sync(b);
    assert_same(a, b);
    assert_int_equal(b->count, 2);
    snprintf(expect, sizeof(expect), "%u", uid);
    assert_string_equal(expunged(b, h, &all, buf), expect);
    assert_int_equal(all, 1);

    /* ... and new mail */
    deliver(&tf, "Subject: new\n\nnew\n");
    tf_sync(b);
    tf_sync(a);
    assert_same(a, b);
    assert_int_equal(a->count, 3);
    assert_true(a->msgs[2].modseq > h);

    /* A third one, opened now, agrees at once */
    store_close(b);
    b = tf_open(&tf, 0);
    assert_same(a, b);
    store_close(a);
    store_close(b);
    assert_int_equal(warnings(), 0);
    vstring_free(buf);
}

static void test_maildir_two_sessions(void **state)
{
    run_two_sessions(MAILDIR, "two-md");
}

static void test_mbox_two_sessions(void **state)
{
    run_two_sessions(MBOX, "two-mbox");
}

/*
 * A record logged after a session's look at the folder: the look may be
 * older than it, so the session's sync must not write its view over it;
 * when the view catches up, the message counts as changed (the view may
 * have reported a HIGHESTMODSEQ above the record meanwhile).  An mbox
 * batch logs a flag change before it writes the file, which gives that
 * order deterministically (two processes can produce it with any driver:
 * a sync's look, another session's change, the sync's index update).
 */

static void test_late_record(void **state)
{
    unsigned long long h, m;
    STORE_FOLDER *a, *b, *c;
    TF      tf;

    tf_init(&tf, MBOX, "late");
    deliver_n(&tf, 2);
    a = tf_open(&tf, 0);
    tf_sync(a);
    b = tf_open(&tf, 0);
    tf_sync(b);
    h = b->highestmodseq;

    /* Logged, not written yet: B's look comes before the record */
    store_change_begin(a);
    set_flags(a, 2, STORE_SEEN, 0);
    m = a->msgs[1].modseq;
    assert_true(m > h);
    tf_sync(b);
    assert_false(b->msgs[1].flags & STORE_SEEN);
    assert_true(b->msgs[1].modseq < m);		/* the state before m */
    check_view(b);

    /* Written: the index has A's change, not B's older view */
    assert_int_equal(store_change_end(a, why), 0);
    c = tf_open(&tf, 0);
    assert_true(c->msgs[1].flags & STORE_SEEN);
    assert_true(c->msgs[1].modseq == m);
    assert_true(c->highestmodseq == m);
    store_close(c);

    /* B catches up: a change for B's view, above what it said before */
    tf_sync(b);
    assert_true(b->msgs[1].flags & STORE_SEEN);
    assert_true(b->msgs[1].modseq > m);
    assert_true(b->msgs[1].modseq == b->highestmodseq);
    tf_sync(a);
    assert_same(a, b);
    tf_sync(b);
    assert_same(a, b);
    store_close(a);
    store_close(b);
    assert_int_equal(warnings(), 0);
}

/*
 * Changes by another program: files removed and renamed behind the view.
 */

static void test_program_changes(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    char    from[600], to[600];
    STORE_FOLDER *f;
    unsigned long long h;
    const char *name;
    int     all;
    TF      tf;

    tf_init(&tf, MAILDIR, "program");
    deliver_n(&tf, 5);
    f = tf_open(&tf, 0);
    tf_sync(f);
    h = f->highestmodseq;

    /* Files removed: logged as expunged, in runs */
    for (int seq = 2; seq <= 5; seq += (seq == 3 ? 2 : 1)) {
	snprintf(from, sizeof(from), "%s/%s", tf.path, store_msg(f, seq)->file);
	assert_int_equal(unlink(from), 0);
    }
    tf_sync(f);
    assert_int_equal(f->count, 2);
    assert_true(f->highestmodseq > h);
    assert_string_equal(expunged(f, h, &all, buf), "2,3,5");
    assert_int_equal(all, 1);
    /* Before the index existed, nothing is known */
    (void) expunged(f, 0, &all, buf);
    assert_int_equal(all, 0);
    h = f->highestmodseq;

    /* A flag change by a mail reader: a rename into cur/ */
    name = strchr(f->msgs[0].file, '/') + 1;
    snprintf(from, sizeof(from), "%s/%s", tf.path, f->msgs[0].file);
    snprintf(to, sizeof(to), "%s/cur/%s%s", tf.path, name,
	     strchr(name, ':') ? "S" : ":2,S");
    assert_int_equal(rename(from, to), 0);
    tf_sync(f);
    assert_true(f->msgs[0].flags & STORE_SEEN);
    assert_true(f->msgs[0].modseq > h);
    assert_true(f->msgs[1].modseq <= h);
    store_close(f);
    assert_int_equal(warnings(), 0);
    vstring_free(buf);
}

/*
 * The expunge log: exact, bounded, and honest about what it lost.
 */

static void test_expunge_log_bounded(void **state)
{
    enum {
	COUNT = 20100
    };
    VSTRING *buf = vstring_alloc(100);
    unsigned *uids = (unsigned *) mymalloc(sizeof(unsigned) * COUNT);
    unsigned long long h0, h1;
    STORE_FOLDER *f, *g;
    struct stat st;
    int     n = 0, all;
    TF      tf;

    tf_init(&tf, MAILDIR, "bounded");
    make_maildir(&tf, COUNT);
    f = tf_open(&tf, 0);
    tf_sync(f);
    assert_int_equal(f->count, COUNT);
    h0 = f->highestmodseq;
    for (int i = 0; i < COUNT; i += 2)		/* 1, 3, 5, ...: no runs */
	uids[n++] = f->msgs[i].uid;
    if (store_expunge(f, uids, n, why) != 0)
	fail_msg("store_expunge: %s", STR(why));
    h1 = f->highestmodseq;
    assert_true(h1 > h0);
    assert_int_equal(expunged_count(f, h0, &all), n);
    assert_int_equal(all, 1);

    /* One more: now the log is cut to the last 10,000 ranges */
    expunge_uid(f, 2);
    assert_string_equal(expunged(f, h1, &all, buf), "2");
    assert_int_equal(all, 1);
    assert_true(expunged_count(f, h0, &all) <= 10001);
    assert_int_equal(all, 0);
    stat_path(tf.index, &st);
    assert_true(st.st_size < 400000);

    /* Another session reads the same */
    g = tf_open(&tf, 0);
    assert_string_equal(expunged(g, h1, &all, buf), "2");
    assert_int_equal(all, 1);
    assert_true(expunged_count(g, h0, &all) <= 10001);
    assert_int_equal(all, 0);
    assert_int_equal(expunged_count(g, g->highestmodseq, &all), 0);
    assert_int_equal(all, 1);
    store_close(g);
    store_close(f);
    assert_int_equal(warnings(), 0);
    myfree(uids);
    vstring_free(buf);
}

/*
 * The cache.
 */

static void put(STORE_FOLDER *folder, unsigned uid, const char *field,
		        const char *value)
{
    store_cache_put(folder, uid, field, value, strlen(value));
}

static void assert_cached(STORE_FOLDER *folder, unsigned uid,
			          const char *field, const char *value)
{
    const char *got = store_cache_get(folder, uid, field);

    if (value == 0)
	assert_null(got);
    else
	assert_string_equal(got ? got : "(null)", value);
}

static void run_cache(int kind, const char *name)
{
    char    big[300 * 1024];
    STORE_FOLDER *a, *b, *c;
    unsigned u1, u2, u3;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 3);
    a = tf_open(&tf, 0);
    u1 = a->msgs[0].uid;
    u2 = a->msgs[1].uid;
    u3 = a->msgs[2].uid;
    assert_cached(a, u1, "ENVELOPE", 0);
    put(a, u1, "ENVELOPE", "(\"env one\")");
    put(a, u2, "ENVELOPE", "(\"env two\")");
    put(a, u1, "BODYSTRUCTURE", "(\"text\" \"plain\")");
    put(a, u2, "DATE", "");
    assert_cached(a, u1, "ENVELOPE", "(\"env one\")");
    assert_cached(a, u1, "BODYSTRUCTURE", "(\"text\" \"plain\")");
    assert_cached(a, u2, "DATE", "");
    assert_cached(a, u2, "BODYSTRUCTURE", 0);
    assert_cached(a, u3, "ENVELOPE", 0);
    assert_false(exists(tf.cache));		/* written at sync or close */
    tf_sync(a);
    assert_true(exists(tf.cache));

    /* Another session finds them */
    b = tf_open(&tf, 0);
    assert_cached(b, u1, "ENVELOPE", "(\"env one\")");
    assert_cached(b, u2, "DATE", "");
    assert_cached(b, u1, "BODY", 0);

    /* ... and those written later, at its next sync */
    put(a, u3, "ENVELOPE", "three");
    put(a, u2, "ENVELOPE", "two, again");
    store_close(a);
    tf_sync(b);
    assert_cached(b, u3, "ENVELOPE", "three");
    assert_cached(b, u2, "ENVELOPE", "two, again");

    /* Values go with their message */
    expunge_uid(b, u1);
    assert_cached(b, u1, "ENVELOPE", 0);
    assert_cached(b, u1, "BODYSTRUCTURE", 0);
    c = tf_open(&tf, 0);
    assert_cached(c, u1, "ENVELOPE", 0);
    assert_cached(c, u2, "ENVELOPE", "two, again");

    /* Too big: not kept */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    put(c, u2, "BODY[]", big);
    assert_cached(c, u2, "BODY[]", 0);
    store_close(c);
    store_close(b);
    assert_int_equal(warnings(), 0);
}

static void test_maildir_cache(void **state)
{
    run_cache(MAILDIR, "cache-md");
}

static void test_mbox_cache(void **state)
{
    run_cache(MBOX, "cache-mbox");
}

/* cache_values - how many of the test values FOLDER has; each is right */

static const char *cache_fields[] = {"ENVELOPE", "BODYSTRUCTURE"};

static int cache_values(STORE_FOLDER *folder)
{
    char    expect[100];
    const char *got;
    int     n = 0;

    for (int i = 0; i < folder->count; i++) {
	for (int f = 0; f < 2; f++) {
	    snprintf(expect, sizeof(expect), "%s of %u", cache_fields[f],
		     folder->msgs[i].uid);
	    if ((got = store_cache_get(folder, folder->msgs[i].uid,
				       cache_fields[f])) != 0) {
		assert_string_equal(got, expect);
		n++;
	    }
	}
    }
    return (n);
}

/* A damaged cache file never gives a wrong value */

static void test_cache_damage(void **state)
{
    VSTRING *good = vstring_alloc(1000);
    VSTRING *bad = vstring_alloc(1000);
    char    value[100];
    STORE_FOLDER *f;
    size_t  pos;
    TF      tf;

    tf_init(&tf, MAILDIR, "cache-damage");
    deliver_n(&tf, 3);
    f = tf_open(&tf, 0);
    for (int i = 0; i < f->count; i++) {
	for (int k = 0; k < 2; k++) {
	    snprintf(value, sizeof(value), "%s of %u", cache_fields[k],
		     f->msgs[i].uid);
	    put(f, f->msgs[i].uid, cache_fields[k], value);
	}
    }
    store_close(f);
    assert_int_equal(read_path(tf.cache, good), 0);
    f = tf_open(&tf, STORE_OPEN_READONLY);
    assert_int_equal(cache_values(f), 6);
    store_close(f);

    /* Every byte changed, and every length cut short */
    for (pos = 0; pos < 2 * LEN(good); pos++) {
	vstring_memcpy(bad, STR(good), LEN(good));
	if (pos < LEN(good))
	    STR(bad)[pos] ^= 0x5a;
	else
	    vstring_truncate(bad, pos - LEN(good));
	write_path(tf.cache, STR(bad), LEN(bad));
	f = tf_open(&tf, STORE_OPEN_READONLY);
	assert_true(cache_values(f) < 6);
	store_close(f);
    }
    (void) warnings();

    /* A writer replaces a damaged file; what it puts is kept */
    vstring_memcpy(bad, STR(good), LEN(good));
    STR(bad)[LEN(good) / 2] ^= 1;
    write_path(tf.cache, STR(bad), LEN(bad));
    f = tf_open(&tf, 0);
    (void) cache_values(f);
    put(f, f->msgs[0].uid, "ENVELOPE", "a new one");
    store_close(f);
    assert_true(warnings() > 0);
    f = tf_open(&tf, 0);
    assert_cached(f, f->msgs[0].uid, "ENVELOPE", "a new one");
    store_close(f);
    assert_int_equal(warnings(), 0);
    vstring_free(good);
    vstring_free(bad);
}

/* A cache file that is mostly dead is written anew */

static void test_cache_rewrite(void **state)
{
    static char value[200 * 1024];
    STORE_FOLDER *f;
    struct stat st;
    TF      tf;

    tf_init(&tf, MAILDIR, "cache-rewrite");
    deliver_n(&tf, 2);
    f = tf_open(&tf, 0);
    for (int i = 0; i < 20; i++) {
	memset(value, 'a' + i, sizeof(value) - 1);
	put(f, f->msgs[0].uid, "BODY[TEXT]", value);
	tf_sync(f);
	stat_path(tf.cache, &st);
	assert_true(st.st_size < 2 * 1024 * 1024);	/* 2 x live + 1 MB */
    }
    store_close(f);
    f = tf_open(&tf, 0);
    assert_cached(f, f->msgs[0].uid, "BODY[TEXT]", value);
    store_close(f);
    assert_int_equal(warnings(), 0);
}

/*
 * Damaged index files: rebuilt, and no MODSEQ goes back.
 */

/* try_index - the index file is DATA now: a new session rebuilds (or
 * reads) it without a MODSEQ going back below SAVED, and what it writes
 * is sound.  Whether it was rebuilt (HIGHESTMODSEQ above SAVED's). */

static int try_index(TF *tf, const SAVED *saved, const char *data, size_t len)
{
    unsigned long long h;
    STORE_FOLDER *f;
    int     count, all, rebuilt;
    unsigned *uids;

    write_path(tf->index, data, len);
    f = tf_open(tf, 0);
    assert_not_lower(f, saved);
    rebuilt = (f->highestmodseq > saved->highest);
    assert_int_equal(store_expunged_since(f, 0, &uids, &count, &all), 0);
    myfree(uids);
    tf_sync(f);
    h = f->highestmodseq;
    store_close(f);
    f = tf_open(tf, 0);
    assert_true(f->highestmodseq == h);		/* sound now: not rebuilt */
    store_close(f);
    return (rebuilt);
}

static void run_index_damage(int kind, const char *name)
{
    VSTRING *good = vstring_alloc(1000);
    VSTRING *bad = vstring_alloc(1000);
    STORE_FOLDER *f;
    SAVED   saved;
    size_t  pos;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 4);
    f = tf_open(&tf, 0);
    tf_sync(f);
    set_flags(f, 1, STORE_SEEN, 0);
    set_flags(f, 2, STORE_FLAGGED, 0);
    expunge_uid(f, f->msgs[3].uid);
    set_flags(f, 1, STORE_SEEN | STORE_ANSWERED, 0);
    save_view(f, &saved);
    store_close(f);
    assert_int_equal(read_path(tf.index, good), 0);
    assert_int_equal(try_index(&tf, &saved, STR(good), LEN(good)), 0);
    assert_int_equal(warnings(), 0);

    /* Every byte changed, every length cut short: rebuilt */
    for (pos = 0; pos < LEN(good); pos++) {
	vstring_memcpy(bad, STR(good), LEN(good));
	STR(bad)[pos] ^= 0x21;
	assert_int_equal(try_index(&tf, &saved, STR(bad), LEN(bad)), 1);
	assert_true(warnings() > 0);
	vstring_truncate(bad, pos);
	memcpy(STR(bad), STR(good), pos);
	assert_int_equal(try_index(&tf, &saved, STR(bad), LEN(bad)), 1);
	assert_int_equal(warnings() > 0, pos > 0);	/* empty: just new */
    }

    /* Garbage, another version, junk after the last entry */
    vstring_memcpy(bad, STR(good), LEN(good));
    for (pos = 0; pos < 5000; pos++)
	STR(bad)[pos % LEN(bad)] = (char) (pos * 7919 >> 3);
    assert_int_equal(try_index(&tf, &saved, STR(bad), LEN(bad)), 1);
    vstring_memcpy(bad, STR(good), LEN(good));
    STR(bad)[7] = '2';
    assert_int_equal(try_index(&tf, &saved, STR(bad), LEN(bad)), 1);
    assert_true(warnings() > 0);
    vstring_memcpy(bad, STR(good), LEN(good));
    vstring_memcat(bad, "junk after the end", 18);
    assert_int_equal(try_index(&tf, &saved, STR(bad), LEN(bad)), 0);
    assert_int_equal(warnings(), 0);

    /* A symbolic link: not followed, MODSEQs in memory */
    write_path(tf.cache, "", 0);
    assert_int_equal(unlink(tf.index), 0);
    assert_int_equal(symlink(tf.cache, tf.index), 0);
    f = tf_open(&tf, 0);
    assert_not_lower(f, &saved);
    tf_sync(f);
    set_flags(f, 1, 0, 0);
    check_view(f);
    store_close(f);
    assert_true(warnings() > 0);
    assert_int_equal(read_path(tf.cache, bad), 0);
    assert_int_equal(LEN(bad), 0);
    vstring_free(good);
    vstring_free(bad);
}

static void test_maildir_index_damage(void **state)
{
    run_index_damage(MAILDIR, "damage-md");
}

static void test_mbox_index_damage(void **state)
{
    run_index_damage(MBOX, "damage-mbox");
}

/* An index file deleted, or put back out of date, while a session runs */

static void test_index_deleted(void **state)
{
    VSTRING *old = vstring_alloc(1000);
    STORE_FOLDER *a, *b;
    SAVED   saved_a, saved_b;
    TF      tf;

    tf_init(&tf, MAILDIR, "deleted");
    deliver_n(&tf, 3);
    a = tf_open(&tf, 0);
    tf_sync(a);
    set_flags(a, 1, STORE_SEEN, 0);
    save_view(a, &saved_a);
    store_close(a);

    /* Deleted between sessions */
    assert_int_equal(unlink(tf.index), 0);
    a = tf_open(&tf, 0);
    assert_not_lower(a, &saved_a);
    assert_true(a->highestmodseq > saved_a.highest);
    tf_sync(a);
    assert_true(exists(tf.index));

    /* Deleted while two sessions run: they agree again */
    assert_int_equal(read_path(tf.index, old), 0);
    set_flags(a, 2, STORE_SEEN, 0);
    assert_int_equal(unlink(tf.index), 0);
    b = tf_open(&tf, 0);
    save_view(a, &saved_a);
    save_view(b, &saved_b);
    set_flags(a, 3, STORE_SEEN, 0);
    tf_sync(b);
    tf_sync(a);
    assert_same(a, b);
    assert_not_lower(a, &saved_a);
    assert_not_lower(b, &saved_b);

    /* An older file put back: a session that knew better rebuilds it */
    save_view(a, &saved_a);
    write_path(tf.index, STR(old), LEN(old));
    tf_sync(a);
    assert_not_lower(a, &saved_a);
    assert_true(a->highestmodseq > saved_a.highest);
    assert_true(warnings() > 0);
    tf_sync(b);
    assert_same(a, b);
    store_close(a);
    store_close(b);
    assert_int_equal(warnings(), 0);
    vstring_free(old);
}

/* A new UIDVALIDITY starts the index (and the cache) afresh */

static void test_uidvalidity_change(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    unsigned long uidvalidity;
    char    path[400], text[40];
    STORE_FOLDER *a, *b;
    const char *cp;
    SAVED   saved;
    int     all;
    TF      tf;

    tf_init(&tf, MAILDIR, "uidvalidity");
    deliver_n(&tf, 3);
    a = tf_open(&tf, 0);
    tf_sync(a);
    set_flags(a, 1, STORE_SEEN, 0);
    put(a, 1, "ENVELOPE", "old");
    save_view(a, &saved);
    store_close(a);

    /* Another UIDVALIDITY, the same UIDs (in the same second, a new list
     * may get the old value: say so explicitly) */
    snprintf(path, sizeof(path), "%s/dovecot-uidlist", tf.path);
    assert_int_equal(read_path(path, buf), 0);
    assert_non_null(cp = strstr(STR(buf), " V"));
    uidvalidity = strtoul(cp + 2, 0, 10);
    snprintf(text, sizeof(text), " V%lu", uidvalidity - 1);
    vstring_strcpy(line, text);
    vstring_strcat(line, strchr(cp + 2, ' '));
    vstring_truncate(buf, cp - STR(buf));
    vstring_strcat(buf, STR(line));
    write_path(path, STR(buf), LEN(buf));
    b = tf_open(&tf, 0);
    assert_int_equal(b->uidvalidity, uidvalidity - 1);
    check_view(b);
    assert_true(b->highestmodseq > saved.highest);
    (void) expunged(b, saved.highest, &all, buf);
    assert_int_equal(all, 0);
    assert_cached(b, 1, "ENVELOPE", 0);
    tf_sync(b);
    store_close(b);
    assert_int_equal(warnings(), 0);

    /* While a session runs */
    a = tf_open(&tf, 0);
    save_view(a, &saved);
    assert_int_equal(unlink(path), 0);
    tf_sync(a);
    check_view(a);
    assert_true(a->highestmodseq > saved.highest);
    store_close(a);
    (void) warnings();				/* the driver's, about it */
    vstring_free(buf);
    vstring_free(line);
}

/*
 * Read-only folders write nothing.
 */

static void run_readonly(int kind, const char *name)
{
    VSTRING *before = vstring_alloc(100);
    VSTRING *after = vstring_alloc(100);
    struct stat st1, st2;
    STORE_FOLDER *r, *w;
    SAVED   saved;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 3);
    if (kind == MBOX) {				/* X-IMAPbase, once */
	w = tf_open(&tf, 0);
	store_close(w);
    }
    dir_names(tf.dir, before);
    r = tf_open(&tf, STORE_OPEN_READONLY);
    check_view(r);
    tf_sync(r);
    put(r, r->msgs[0].uid, "ENVELOPE", "ro");
    assert_cached(r, r->msgs[0].uid, "ENVELOPE", "ro");
    tf_sync(r);
    store_close(r);
    dir_names(tf.dir, after);
    assert_string_equal(STR(before), STR(after));
    assert_false(exists(tf.index));

    /* It reads what a writer wrote, and follows it */
    w = tf_open(&tf, 0);
    tf_sync(w);
    set_flags(w, 1, STORE_SEEN, 0);
    r = tf_open(&tf, STORE_OPEN_READONLY);
    assert_same(r, w);
    deliver(&tf, "Subject: new\n\nnew\n");
    set_flags(w, 2, STORE_FLAGGED, 0);
    tf_sync(w);
    stat_path(tf.index, &st1);
    save_view(r, &saved);
    tf_sync(r);
    assert_same(r, w);
    assert_not_lower(r, &saved);

    /* A change no writer recorded (Maildir: a mail reader's rename): a
     * MODSEQ in memory only */
    store_close(w);
    if (kind == MAILDIR) {
	char    from[600], to[600];
	const char *base = strchr(r->msgs[2].file, '/') + 1;

	snprintf(from, sizeof(from), "%s/%s", tf.path, r->msgs[2].file);
	snprintf(to, sizeof(to), "%s/cur/%s%s", tf.path, base,
		 strchr(base, ':') ? "D" : ":2,D");
	assert_int_equal(rename(from, to), 0);
	stat_path(tf.index, &st1);
	save_view(r, &saved);
	tf_sync(r);
	assert_not_lower(r, &saved);
	assert_true(r->msgs[2].flags & STORE_DRAFT);
	assert_true(r->msgs[2].modseq > saved.highest);
	assert_true(r->msgs[2].modseq == r->highestmodseq);
    }
    stat_path(tf.index, &st1);
    put(r, r->msgs[0].uid, "ENVELOPE", "ro");
    tf_sync(r);
    store_close(r);
    stat_path(tf.index, &st2);
    assert_true(same_file(&st1, &st2));
    assert_false(exists(tf.cache));
    assert_int_equal(warnings(), 0);
    vstring_free(before);
    vstring_free(after);
}

static void test_maildir_readonly(void **state)
{
    run_readonly(MAILDIR, "ro-md");
}

static void test_mbox_readonly(void **state)
{
    run_readonly(MBOX, "ro-mbox");
}

/*
 * The log is compacted: many flag changes keep the file small.
 */

static void test_log_compaction(void **state)
{
    STORE_FOLDER *f;
    struct stat st;
    SAVED   saved;
    off_t   max = 72 + 10 * 16 + 4097 * 24;
    TF      tf;

    tf_init(&tf, MAILDIR, "compaction");
    make_maildir(&tf, 10);
    f = tf_open(&tf, 0);
    tf_sync(f);
    for (int i = 0; i < 10000; i++) {
	set_flags(f, 1 + i % 10, (i / 10) % 2 ? STORE_SEEN : 0, 0);
	if (i % 1000 == 999) {
	    stat_path(tf.index, &st);
	    assert_true(st.st_size <= max);
	}
    }
    check_view(f);
    save_view(f, &saved);
    store_close(f);
    f = tf_open(&tf, 0);
    assert_equal_saved(f, &saved);
    store_close(f);
    assert_int_equal(warnings(), 0);
}

/*
 * Two processes changing flags at once: every MODSEQ handed out once.
 */

static int modseq_compare(const void *a, const void *b)
{
    unsigned long long ma = *(const unsigned long long *) a;
    unsigned long long mb = *(const unsigned long long *) b;

    return (ma < mb ? -1 : ma > mb);
}

static void toggle(TF *tf, int seq, int rounds, unsigned long long *out)
{
    STORE_FOLDER *f = tf_open(tf, 0);

    for (int i = 0; i < rounds; i++) {
	set_flags(f, seq, i % 2 ? 0 : STORE_SEEN, 0);
	out[i] = f->msgs[seq - 1].modseq;
    }
    store_close(f);
}

static void test_processes(void **state)
{
    enum {
	ROUNDS = 300
    };
    unsigned long long got[2 * ROUNDS];
    STORE_FOLDER *f;
    int     pipefd[2], status, i;
    pid_t   pid;
    TF      tf;

    tf_init(&tf, MAILDIR, "processes");
    deliver_n(&tf, 3);
    f = tf_open(&tf, 0);
    tf_sync(f);
    store_close(f);
    assert_int_equal(pipe(pipefd), 0);
    if ((pid = fork()) == 0) {
	toggle(&tf, 1, ROUNDS, got);
	_exit(write(pipefd[1], got, sizeof(got[0]) * ROUNDS)
	      == (ssize_t) (sizeof(got[0]) * ROUNDS) ? 0 : 1);
    }
    toggle(&tf, 2, ROUNDS, got + ROUNDS);
    assert_int_equal(read(pipefd[0], got, sizeof(got[0]) * ROUNDS),
		     (ssize_t) (sizeof(got[0]) * ROUNDS));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pipefd[0]);
    close(pipefd[1]);
    qsort(got, 2 * ROUNDS, sizeof(got[0]), modseq_compare);
    for (i = 1; i < 2 * ROUNDS; i++)
	assert_true(got[i] > got[i - 1]);
    f = tf_open(&tf, 0);
    assert_true(f->highestmodseq == got[2 * ROUNDS - 1]);
    store_close(f);
    assert_int_equal(warnings(), 0);
}

/*
 * Notification.
 */

static int readable(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd,.events = POLLIN};

    return (poll(&pfd, 1, ms) == 1);
}

/* settle - wake-up, drain, sync until quiet (our own sync may write) */

static void settle(STORE_FOLDER *f, int fd)
{
    for (int i = 0; i < 3 && readable(fd, 0); i++) {
	store_notify_clear(f);
	tf_sync(f);
    }
    assert_false(readable(fd, 0));
}

static void run_notify(int kind, const char *name)
{
    STORE_FOLDER *f, *g;
    int     fd;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 2);
    f = tf_open(&tf, 0);
    tf_sync(f);
    assert_true((fd = store_notify_fd(f)) >= 0);
    assert_int_equal(store_notify_fd(f), fd);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_false(readable(fd, 0));
    tf_sync(f);
    put(f, f->msgs[0].uid, "ENVELOPE", "x");
    tf_sync(f);					/* our own files: no wake-up */
    assert_false(readable(fd, 0));

    /* A delivery */
    deliver(&tf, "Subject: new\n\nnew\n");
    assert_true(readable(fd, 2000));
    store_notify_clear(f);
    assert_false(readable(fd, 0));
    tf_sync(f);
    settle(f, fd);
    assert_int_equal(f->count, 3);

    /* Another session's flag change */
    g = tf_open(&tf, 0);
    set_flags(g, 1, STORE_SEEN, 0);
    assert_true(readable(fd, 2000));
    settle(f, fd);
    assert_true(f->msgs[0].flags & STORE_SEEN);

    /* Still watched after the change (mbox: a new file) */
    store_close(g);
    settle(f, fd);
    deliver(&tf, "Subject: newer\n\nnewer\n");
    assert_true(readable(fd, 2000));
    settle(f, fd);
    assert_int_equal(f->count, 4);
    store_close(f);
    assert_int_equal(fcntl(fd, F_GETFD), -1);	/* closed with the folder */
    assert_int_equal(warnings(), 0);
}

static void test_maildir_notify(void **state)
{
    run_notify(MAILDIR, "notify-md");
}

static void test_mbox_notify(void **state)
{
    run_notify(MBOX, "notify-mbox");
}

/*
 * A large folder: the times are printed, not asserted.
 */

static double since(const struct timeval *start)
{
    struct timeval now;

    gettimeofday(&now, 0);
    return ((now.tv_sec - start->tv_sec) + (now.tv_usec - start->tv_usec) / 1e6);
}

/* Where an mbox's index goes: the directory given (made with its parent),
 * beside the file without one, in memory when it cannot be made */
static void test_mbox_index_places(void **state)
{
    STORE_FOLDER *f;
    char    path[400];
    TF      tf;

    tf_init(&tf, MBOX, "places");
    deliver(&tf, "Subject: 1\n\nbody\n");
    f = tf_open(&tf, 0);			/* .imap/mbox: made now */
    set_flags(f, 1, STORE_SEEN, 0);
    store_close(f);
    assert_true(exists(tf.index));
    snprintf(path, sizeof(path), "%s/.mbox.posthorn-index", tf.dir);
    assert_false(exists(path));

    if ((f = store_open(STORE_KIND_MBOX, tf.path, 0, why)) == 0)
	fail_msg("store_open: %s", STR(why));
    set_flags(f, 1, STORE_FLAGGED, 0);
    store_close(f);
    assert_true(exists(path));			/* beside the file */

    snprintf(path, sizeof(path), "%s/no/such/dir", tf.dir);
    if ((f = store_open_at(STORE_KIND_MBOX, tf.path, path, 0, why)) == 0)
	fail_msg("store_open_at: %s", STR(why));
    set_flags(f, 1, STORE_SEEN, 0);		/* works, in memory */
    assert_int_equal(store_msg(f, 1)->flags & STORE_FLAGS_STORED, STORE_SEEN);
    assert_true(store_msg(f, 1)->modseq > 0);
    store_close(f);
    assert_false(exists(path));
    assert_int_equal(warnings(), 1);		/* "cannot create" */
}

static void test_large_folder(void **state)
{
    const char *env = getenv("POSTHORN_INDEX_BENCH");
    int     count = env ? atoi(env) : 10000;
    char    envelope[300];
    struct timeval start;
    struct stat st1, st2;
    STORE_FOLDER *f;
    double  t_open, t_sync, t_reopen, t_nochange, t_flag, t_get;
    int     found = 0;
    TF      tf;

    tf_init(&tf, MAILDIR, "large");
    make_maildir(&tf, count);
    gettimeofday(&start, 0);
    f = tf_open(&tf, 0);
    t_open = since(&start);
    gettimeofday(&start, 0);
    tf_sync(f);
    t_sync = since(&start);
    assert_int_equal(f->count, count);
    memset(envelope, 'e', sizeof(envelope) - 1);
    envelope[sizeof(envelope) - 1] = 0;
    for (int i = 0; i < count; i++)
	put(f, f->msgs[i].uid, "ENVELOPE", envelope);
    store_close(f);

    gettimeofday(&start, 0);
    f = tf_open(&tf, 0);
    t_reopen = since(&start);
    stat_path(tf.index, &st1);
    gettimeofday(&start, 0);
    tf_sync(f);
    t_nochange = since(&start);
    stat_path(tf.index, &st2);
    assert_true(same_file(&st1, &st2));
    gettimeofday(&start, 0);
    set_flags(f, count / 2, STORE_SEEN, 0);
    t_flag = since(&start);
    stat_path(tf.index, &st2);
    assert_int_equal(st2.st_size, st1.st_size + 24);
    gettimeofday(&start, 0);
    for (int i = 0; i < count; i++)
	found += (store_cache_get(f, f->msgs[i].uid, "ENVELOPE") != 0);
    t_get = since(&start);
    assert_int_equal(found, count);
    check_view(f);
    store_close(f);
    printf("# %d messages: open, no index %.3f s; first sync (index"
	   " written) %.3f s; open, index current %.3f s; sync, nothing new"
	   " %.4f s; one flag change %.6f s (+24 bytes); cache: %d values"
	   " read %.3f s\n", count, t_open, t_sync, t_reopen, t_nochange,
	   t_flag, count, t_get);
    assert_int_equal(warnings(), 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_maildir_changes),
	cmocka_unit_test(test_mbox_changes),
	cmocka_unit_test(test_maildir_two_sessions),
	cmocka_unit_test(test_mbox_two_sessions),
	cmocka_unit_test(test_program_changes),
	cmocka_unit_test(test_expunge_log_bounded),
	cmocka_unit_test(test_maildir_cache),
	cmocka_unit_test(test_mbox_cache),
	cmocka_unit_test(test_cache_damage),
	cmocka_unit_test(test_cache_rewrite),
	cmocka_unit_test(test_maildir_index_damage),
	cmocka_unit_test(test_mbox_index_damage),
	cmocka_unit_test(test_index_deleted),
	cmocka_unit_test(test_uidvalidity_change),
	cmocka_unit_test(test_maildir_readonly),
	cmocka_unit_test(test_mbox_readonly),
	cmocka_unit_test(test_log_compaction),
	cmocka_unit_test(test_late_record),
	cmocka_unit_test(test_processes),
	cmocka_unit_test(test_maildir_notify),
	cmocka_unit_test(test_mbox_notify),
	cmocka_unit_test(test_mbox_index_places),
	cmocka_unit_test(test_large_folder),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
