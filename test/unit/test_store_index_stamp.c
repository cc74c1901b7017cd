/*
 * test_store_index_stamp.c - unit tests for the view stamp of the folder
 * index (store_index.c, store_index_file.c) and the Maildir driver's side
 * of it (maildir_stamp, maildir_adopt and the lazy file names in
 * store_maildir.c), through store.h on real Maildirs
 * (store_index_fixture.h).
 *
 * A settled folder is opened without reading new/ and cur/ (counted with
 * maildir_dir_scans), and that view is the one a full read gives: UIDs,
 * flags, keywords, MODSEQs, sizes, text.  Every change made after the
 * stamp - by a session, by another program, a delivery, an expunge, a
 * new uidlist - makes the next open read the folder again.  Files named
 * otherwise than their flags say are found; a view taken from the index
 * follows later changes as a read one does.  view_gen stays while nothing
 * changes and moves with every change.  Such a view is pending (its array
 * made when needed) and is the view at open even when the folder changed
 * before it was made.
 */
#include "store_index_fixture.h"

extern int maildir_dir_scans;		/* store_maildir.c */
extern int maildir_stamp_slack;

/* wait_old - until new/ and cur/ of TF were last changed before the
 * current second (the driver's slack is 0 here, 2 s in use), so that a
 * sync may trust them */

static void wait_old(TF *tf)
{
    const char *subs[] = {"new", "cur"};
    char    path[400];
    struct stat st;
    time_t  last = 0;

    for (int i = 0; i < 2; i++) {
	snprintf(path, sizeof(path), "%s/%s", tf->path, subs[i]);
	stat_path(path, &st);
	if (st.st_mtim.tv_sec > last)
	    last = st.st_mtim.tv_sec;
	if (st.st_ctim.tv_sec > last)
	    last = st.st_ctim.tv_sec;
    }
    while (time((time_t *) 0) < last + 1)
	usleep(20000);
}

/* stamped - settle TF and let a session write the stamp (a full read;
 * files in new/ are claimed first, as an IMAP session does) */

static void stamped(TF *tf)
{
    STORE_FOLDER *f;

    for (int i = 0; i < 2; i++) {
	wait_old(tf);
	f = tf_open(tf, 0);
	assert_int_equal(store_sync(f, STORE_SYNC_CLAIM_NEW, why), 0);
	store_close(f);
    }
}

/* open_counted - open TF; *SCANS: the directory reads it took */

static STORE_FOLDER *open_counted(TF *tf, int flags, int *scans)
{
    int     before = maildir_dir_scans;
    STORE_FOLDER *f = tf_open(tf, flags);

    *scans = maildir_dir_scans - before;
    return (f);
}

/* text_of - message SEQ's content */

static const char *text_of(STORE_FOLDER *f, int seq, VSTRING *out)
{
    STORE_STREAM *stream;
    char    buf[4096];
    ssize_t n;

    vstring_reset(out);
    if ((stream = store_msg_open(f, store_msg(f, seq), why)) == 0)
	fail_msg("store_msg_open: %s", STR(why));
    while ((n = store_read(stream, buf, sizeof(buf))) > 0)
	vstring_memcat(out, buf, n);
    store_msg_close(stream);
    return (STR(out));
}

/* assert_same_view - A (read) and B agree on everything a client sees */

static void assert_same_view(STORE_FOLDER *a, STORE_FOLDER *b)
{
    VSTRING *ta = vstring_alloc(100);
    VSTRING *tb = vstring_alloc(100);

    assert_same(a, b);
    assert_int_equal(a->uidvalidity, b->uidvalidity);
    assert_int_equal(a->uidnext, b->uidnext);
    assert_int_equal(a->keyword_count, b->keyword_count);
    for (int i = 0; i < a->keyword_count; i++)
	assert_string_equal(a->keywords[i], b->keywords[i]);
    for (int i = 1; i <= a->count; i++) {
	STORE_MSG *ma = store_msg(a, i), *mb = store_msg(b, i);

	assert_int_equal(ma->flags & STORE_FLAGS_STORED,
			 mb->flags & STORE_FLAGS_STORED);
	assert_int_equal(ma->keywords, mb->keywords);
	assert_int_equal(store_msg_sizes(a, ma, why), 0);
	assert_int_equal(store_msg_sizes(b, mb, why), 0);
	assert_int_equal(ma->size, mb->size);
	assert_int_equal(ma->vsize, mb->vsize);
	assert_int_equal(ma->received, mb->received);
	assert_string_equal(text_of(a, i, ta), text_of(b, i, tb));
    }
    vstring_free(ta);
    vstring_free(tb);
}

/* keyword - the index of keyword NAME, made */

static int keyword(STORE_FOLDER *f, const char *name)
{
    int     k = store_keyword(f, name, 1, why);

    assert_true(k >= 0);
    return (k);
}

/* A folder of COUNT messages with flags and a keyword, stamped */

static void stamped_folder(TF *tf, const char *name, int count)
{
    STORE_FOLDER *f;
    int     k;

    tf_init(tf, MAILDIR, name);
    deliver_n(tf, count);
    f = tf_open(tf, 0);
    assert_int_equal(store_sync(f, STORE_SYNC_CLAIM_NEW, why), 0);
    k = keyword(f, "$Label1");
    set_flags(f, 1, STORE_SEEN, 0);
    set_flags(f, 2, STORE_SEEN | STORE_FLAGGED, 1U << k);
    set_flags(f, 3, STORE_ANSWERED | STORE_DRAFT | STORE_DELETED, 0);
    store_close(f);
    stamped(tf);
}

/*
 * A settled folder opens from the index, with the view of a full read,
 * read-only too; the first open after the folder settled reads it.
 */
static void test_warm_open(void **state)
{
    STORE_FOLDER *cold, *warm, *ro;
    int     scans;
    TF      tf;

    stamped_folder(&tf, "warm", 6);
    warm = open_counted(&tf, 0, &scans);
    assert_int_equal(scans, 0);
    assert_int_equal(warm->count, 6);
    for (int i = 0; i < warm->count; i++)
	assert_null(store_view_msgs(warm)[i].file);	/* named when needed */
    ro = open_counted(&tf, STORE_OPEN_READONLY, &scans);
    assert_int_equal(scans, 0);

    /* The same as a read without the index */
    assert_int_equal(unlink(tf.index), 0);
    cold = open_counted(&tf, STORE_OPEN_READONLY, &scans);
    assert_int_equal(scans, 1);
    assert_same_view(warm, ro);
    for (int i = 0; i < cold->count; i++)
	store_view_msgs(cold)[i].modseq = store_view_msgs(warm)[i].modseq;	/* a new index */
    cold->highestmodseq = warm->highestmodseq;
    assert_same_view(cold, warm);

    /* A sync of the warm view reads nothing; a flag change works */
    scans = maildir_dir_scans;
    tf_sync(warm);
    assert_int_equal(maildir_dir_scans, scans);
    set_flags(warm, 4, STORE_FLAGGED, 0);
    tf_sync(cold);
    assert_int_equal(store_msg(cold, 4)->flags & STORE_FLAGS_STORED,
		     STORE_FLAGGED);
    store_close(cold);
    store_close(ro);
    store_close(warm);
    assert_int_equal(warnings(), 0);
}

/* changed_opens_cold - after CHANGE, the next open reads the folder and
 * sees it; a session later stamps again */

static void changed_opens_cold(TF *tf, int expect_count)
{
    STORE_FOLDER *f, *g;
    int     scans;

    f = open_counted(tf, 0, &scans);
    assert_true(scans >= 1);
    assert_int_equal(f->count, expect_count);
    store_close(f);
    stamped(tf);
    f = open_counted(tf, 0, &scans);
    assert_int_equal(scans, 0);
    g = tf_open(tf, STORE_OPEN_READONLY);
    assert_int_equal(unlink(tf->index), 0);
    tf_sync(g);
    assert_int_equal(f->count, g->count);
    for (int i = 0; i < f->count; i++) {
	assert_int_equal(store_view_msgs(f)[i].uid, store_view_msgs(g)[i].uid);
	assert_int_equal(store_view_msgs(f)[i].flags & STORE_FLAGS_STORED,
			 store_view_msgs(g)[i].flags & STORE_FLAGS_STORED);
	assert_int_equal(store_view_msgs(f)[i].keywords, store_view_msgs(g)[i].keywords);
    }
    store_close(g);
    store_close(f);
}

/* rename_in - rename message SEQ's file (as read by a session) to INFO */

static void rename_in(TF *tf, int seq, const char *info)
{
    STORE_FOLDER *f = tf_open(tf, STORE_OPEN_READONLY);
    char    from[600], to[600];
    const char *file;

    assert_int_equal(store_msg_sizes(f, store_msg(f, seq), why), 0);
    file = store_msg(f, seq)->file;
    snprintf(from, sizeof(from), "%s/%s", tf->path, file);
    snprintf(to, sizeof(to), "%s/cur/%.*s%s", tf->path,
	     (int) strcspn(file + 4, ":"), file + 4, info);
    assert_int_equal(rename(from, to), 0);
    store_close(f);
}

/*
 * Any change after the stamp makes the next open read the folder: a flag
 * change by a session (logged), a rename by another program (not
 * logged), a delivery, an unlink, a uidlist written anew.
 */
static void test_changes_void_stamp(void **state)
{
    STORE_FOLDER *f;
    char    path[600];
    TF      tf;

    stamped_folder(&tf, "void", 5);

    f = tf_open(&tf, 0);
    set_flags(f, 5, STORE_SEEN, 0);
    store_close(f);
    changed_opens_cold(&tf, 5);

    rename_in(&tf, 4, ":2,FS");
    changed_opens_cold(&tf, 5);
    f = tf_open(&tf, 0);
    assert_int_equal(store_msg(f, 4)->flags, STORE_FLAGGED | STORE_SEEN);
    store_close(f);

    deliver(&tf, "Subject: late\n\nlate\n");
    changed_opens_cold(&tf, 6);

    f = tf_open(&tf, STORE_OPEN_READONLY);
    assert_int_equal(store_msg_sizes(f, store_msg(f, 1), why), 0);
    snprintf(path, sizeof(path), "%s/%s", tf.path, store_msg(f, 1)->file);
    store_close(f);
    assert_int_equal(unlink(path), 0);
    changed_opens_cold(&tf, 5);

    /* The same list written anew (another inode) */
    snprintf(path, sizeof(path), "%s/dovecot-uidlist", tf.path);
    {
	VSTRING *buf = vstring_alloc(1000);
	char    tmp[620];

	assert_int_equal(read_path(path, buf), 0);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	write_path(tmp, STR(buf), LEN(buf));
	assert_int_equal(rename(tmp, path), 0);
	vstring_free(buf);
    }
    changed_opens_cold(&tf, 5);
    assert_int_equal(warnings(), 0);
}

/*
 * Files whose names are not what their flags make (a letter Posthorn does
 * not know, letters out of order) are found; their flags and the letters
 * it does not know survive a change.
 */
static void test_other_names(void **state)
{
    STORE_FOLDER *f;
    VSTRING *text = vstring_alloc(100);
    VSTRING *names = vstring_alloc(100);
    char    cur[400];
    int     scans;
    TF      tf;

    stamped_folder(&tf, "names", 4);
    rename_in(&tf, 1, ":2,PS");
    rename_in(&tf, 2, ":2,SF");
    stamped(&tf);
    f = open_counted(&tf, 0, &scans);
    assert_int_equal(scans, 0);
    assert_int_equal(store_msg(f, 1)->flags, STORE_SEEN);
    assert_int_equal(store_msg(f, 2)->flags, STORE_SEEN | STORE_FLAGGED);
    assert_string_equal(text_of(f, 1, text), "Subject: 0\n\nbody 0\n");
    assert_string_equal(text_of(f, 2, text), "Subject: 1\n\nbody 1\n");
    assert_string_equal(text_of(f, 4, text), "Subject: 3\n\nbody 3\n");
    set_flags(f, 1, STORE_SEEN | STORE_ANSWERED, 0);
    store_close(f);
    snprintf(cur, sizeof(cur), "%s/cur", tf.path);
    dir_names(cur, names);
    assert_non_null(strstr(STR(names), ":2,PRS\n"));
    assert_int_equal(warnings(), 0);
    vstring_free(text);
    vstring_free(names);
}

/*
 * A view taken from the index follows what happens after: a delivery, a
 * rename and an unlink by another program, an expunge of its own.
 */
static void test_warm_follows(void **state)
{
    STORE_FOLDER *f, *g;
    VSTRING *text = vstring_alloc(100);
    int     scans;
    unsigned uid;
    TF      tf;

    stamped_folder(&tf, "follows", 5);
    f = open_counted(&tf, 0, &scans);
    assert_int_equal(scans, 0);
    rename_in(&tf, 5, ":2,F");
    deliver(&tf, "Subject: new\n\nnew\n");
    tf_sync(f);
    assert_int_equal(f->count, 6);
    assert_int_equal(store_msg(f, 5)->flags, STORE_FLAGGED);
    assert_string_equal(text_of(f, 5, text), "Subject: 4\n\nbody 4\n");
    assert_string_equal(text_of(f, 6, text), "Subject: new\n\nnew\n");

    g = tf_open(&tf, 0);
    uid = store_view_msgs(g)[1].uid;
    expunge_uid(g, uid);
    store_close(g);
    tf_sync(f);
    assert_int_equal(f->count, 5);
    assert_int_equal(store_uid_seq(f, uid), 0);
    expunge_uid(f, store_view_msgs(f)[0].uid);
    assert_int_equal(f->count, 4);
    store_close(f);

    /* The same from a view whose names were never needed */
    stamped(&tf);
    f = open_counted(&tf, 0, &scans);
    assert_int_equal(scans, 0);
    uid = store_view_msgs(f)[0].uid;
    expunge_uid(f, uid);
    tf_sync(f);
    assert_int_equal(f->count, 3);
    store_close(f);
    f = tf_open(&tf, 0);
    assert_int_equal(f->count, 3);
    assert_int_equal(store_uid_seq(f, uid), 0);
    store_close(f);
    assert_int_equal(warnings(), 0);
    vstring_free(text);
}

/*
 * view_gen stays while a sync finds nothing new, and moves with every
 * change: another program's rename, a delivery, a change by another
 * session (logged), one of our own.
 */
static void test_view_gen(void **state)
{
    STORE_FOLDER *f, *g;
    unsigned long gen;
    TF      tf;

    stamped_folder(&tf, "gen", 4);
    f = tf_open(&tf, 0);
    gen = f->view_gen;
    tf_sync(f);
    tf_sync(f);
    assert_true(f->view_gen == gen);

    rename_in(&tf, 4, ":2,F");
    tf_sync(f);
    assert_true(f->view_gen != gen);
    assert_int_equal(store_msg(f, 4)->flags, STORE_FLAGGED);
    wait_old(&tf);
    tf_sync(f);
    gen = f->view_gen;
    tf_sync(f);
    assert_true(f->view_gen == gen);

    g = tf_open(&tf, 0);
    set_flags(g, 1, STORE_SEEN | STORE_FLAGGED, 0);
    store_close(g);
    tf_sync(f);
    assert_true(f->view_gen != gen);
    assert_int_equal(store_msg(f, 1)->flags, STORE_SEEN | STORE_FLAGGED);

    gen = f->view_gen;
    set_flags(f, 2, STORE_SEEN, 0);
    assert_true(f->view_gen != gen);
    gen = f->view_gen;
    deliver(&tf, "Subject: more\n\nmore\n");
    tf_sync(f);
    assert_true(f->view_gen != gen);
    assert_int_equal(f->count, 5);
    store_close(f);
    assert_int_equal(warnings(), 0);
}

/*
 * A view from the index is pending: its count and unseen messages are
 * known before its array is made.  While nothing changes, a sync leaves
 * it so; a keyword another session added still arrives.  Made after
 * another session changed flags and expunged, the array is the view at
 * open, and the next sync brings those changes.
 */
static void test_pending_view(void **state)
{
    STORE_FOLDER *f, *g;
    int     recent, unseen, first, k;
    unsigned *gone;
    int     gone_count, all_known;
    unsigned long gen;
    unsigned uid2;
    TF      tf;

    stamped_folder(&tf, "pending", 5);
    f = tf_open(&tf, 0);
    assert_true(f->view_pending);
    assert_int_equal(f->count, 5);
    store_view_counts(f, &recent, &unseen, &first);
    assert_int_equal(recent, 0);
    assert_int_equal(unseen, 3);
    assert_int_equal(first, 3);
    gen = f->view_gen;
    tf_sync(f);
    assert_true(f->view_pending);
    assert_true(f->view_gen == gen);
    assert_int_equal(store_view_unchanged(f), 1);

    g = tf_open(&tf, 0);
    k = keyword(g, "$Other");
    store_close(g);
    assert_int_equal(store_view_unchanged(f), 1);
    assert_int_equal(f->keyword_count, 2);
    assert_string_equal(f->keywords[k], "$Other");

    g = tf_open(&tf, 0);
    uid2 = store_msg(g, 2)->uid;
    set_flags(g, 4, STORE_SEEN, 0);
    expunge_uid(g, uid2);
    store_close(g);
    assert_int_equal(store_view_unchanged(f), 0);
    assert_true(f->view_pending);
    assert_int_equal(store_msg(f, 2)->uid, uid2);	/* the view at open */
    assert_int_equal(store_msg(f, 4)->flags, 0);
    assert_false(f->view_pending);
    assert_true(f->view_gen == gen);
    tf_sync(f);
    assert_true(f->view_gen != gen);
    assert_int_equal(f->count, 4);
    assert_int_equal(store_uid_seq(f, uid2), 0);
    assert_int_equal(store_msg(f, 3)->flags, STORE_SEEN);
    store_view_counts(f, &recent, &unseen, &first);
    assert_int_equal(unseen, 2);
    assert_int_equal(first, 2);
    store_close(f);

    /* QRESYNC's look at the log leaves it pending */
    stamped(&tf);
    f = tf_open(&tf, 0);
    assert_true(f->view_pending);
    g = tf_open(&tf, 0);
    uid2 = store_msg(g, 1)->uid;
    expunge_uid(g, uid2);
    store_close(g);
    assert_int_equal(store_expunged_since(f, 0, &gone, &gone_count,
					  &all_known), 0);
    if (gone)
	myfree(gone);
    assert_true(f->view_pending);
    assert_int_equal(store_uid_seq(f, uid2), 1);
    assert_int_equal(f->count, 4);
    tf_sync(f);
    assert_int_equal(f->count, 3);
    assert_int_equal(store_uid_seq(f, uid2), 0);
    store_close(f);
    assert_int_equal(warnings(), 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_warm_open),
	cmocka_unit_test(test_changes_void_stamp),
	cmocka_unit_test(test_other_names),
	cmocka_unit_test(test_warm_follows),
	cmocka_unit_test(test_view_gen),
	cmocka_unit_test(test_pending_view),
    };

    maildir_stamp_slack = 0;
    return (cmocka_run_group_tests(tests, setup, teardown));
}
