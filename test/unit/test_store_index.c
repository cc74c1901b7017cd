/*
 * test_store_index.c - unit tests for lib/store/store_index.c and
 * store_index_file.c (MODSEQs, the expunge log, the index file), through store.h
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
 * expunge log is exact and bounded; read-only folders write nothing.
 * The cache and notification: test_store_index_cache.c.  Timings of a 10,000-message folder are printed (set
 * POSTHORN_INDEX_BENCH=100000 for more).  Warnings are logged to a file
 * and counted: a sound index never causes one.
 */
#include "store_index_fixture.h"

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
    m1 = store_view_msgs(f)[0].modseq;

    /* The first sync writes it; one that finds nothing writes nothing */
    tf_sync(f);
    assert_true(exists(tf.index));
    assert_true(f->highestmodseq == h && store_view_msgs(f)[0].modseq == m1);
    stat_path(tf.index, &st1);
    tf_sync(f);
    stat_path(tf.index, &st2);
    assert_true(same_file(&st1, &st2));

    /* Our flag change: that message only, 24 bytes appended */
    m3 = store_view_msgs(f)[2].modseq;
    set_flags(f, 2, STORE_SEEN, 0);
    assert_true(store_view_msgs(f)[1].modseq > h);
    assert_true(store_view_msgs(f)[1].modseq == f->highestmodseq);
    assert_true(store_view_msgs(f)[0].modseq == m1 && store_view_msgs(f)[2].modseq == m3);
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
    assert_true(store_view_msgs(f)[3].modseq > h);
    assert_true(store_view_msgs(f)[3].modseq == f->highestmodseq);
    h = f->highestmodseq;

    /* Our expunge */
    uid = store_view_msgs(f)[0].uid;
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
    assert_true(store_view_msgs(f)[0].flags & STORE_FLAGGED);
    assert_true(store_view_msgs(f)[0].modseq > h);
    assert_true(store_view_msgs(f)[0].modseq == f->highestmodseq);
    h = f->highestmodseq;

    /* A keyword */
    assert_true((kw = store_keyword(f, "$Label1", 1, why)) >= 0);
    set_flags(f, 3, store_view_msgs(f)[2].flags & STORE_FLAGS_STORED, 1U << kw);
    assert_true(store_view_msgs(f)[2].modseq > h);
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
    assert_true(store_view_msgs(a)[1].flags & STORE_ANSWERED);

    /* ... and expunges */
    h = b->highestmodseq;
    uid = store_view_msgs(a)[2].uid;
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
    assert_true(store_view_msgs(a)[2].modseq > h);

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
    m = store_view_msgs(a)[1].modseq;
    assert_true(m > h);
    tf_sync(b);
    assert_false(store_view_msgs(b)[1].flags & STORE_SEEN);
    assert_true(store_view_msgs(b)[1].modseq < m);		/* the state before m */
    check_view(b);

    /* Written: the index has A's change, not B's older view */
    assert_int_equal(store_change_end(a, why), 0);
    c = tf_open(&tf, 0);
    assert_true(store_view_msgs(c)[1].flags & STORE_SEEN);
    assert_true(store_view_msgs(c)[1].modseq == m);
    assert_true(c->highestmodseq == m);
    store_close(c);

    /* B catches up: a change for B's view, above what it said before */
    tf_sync(b);
    assert_true(store_view_msgs(b)[1].flags & STORE_SEEN);
    assert_true(store_view_msgs(b)[1].modseq > m);
    assert_true(store_view_msgs(b)[1].modseq == b->highestmodseq);
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
    name = strchr(store_view_msgs(f)[0].file, '/') + 1;
    snprintf(from, sizeof(from), "%s/%s", tf.path, store_view_msgs(f)[0].file);
    snprintf(to, sizeof(to), "%s/cur/%s%s", tf.path, name,
	     strchr(name, ':') ? "S" : ":2,S");
    assert_int_equal(rename(from, to), 0);
    tf_sync(f);
    assert_true(store_view_msgs(f)[0].flags & STORE_SEEN);
    assert_true(store_view_msgs(f)[0].modseq > h);
    assert_true(store_view_msgs(f)[1].modseq <= h);
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
	uids[n++] = store_view_msgs(f)[i].uid;
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
    expunge_uid(f, store_view_msgs(f)[3].uid);
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
    STR(bad)[7] = '1';				/* the version before */
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
    put(r, store_view_msgs(r)[0].uid, "ENVELOPE", "ro");
    assert_cached(r, store_view_msgs(r)[0].uid, "ENVELOPE", "ro");
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
	const char *base = strchr(store_view_msgs(r)[2].file, '/') + 1;

	snprintf(from, sizeof(from), "%s/%s", tf.path, store_view_msgs(r)[2].file);
	snprintf(to, sizeof(to), "%s/cur/%s%s", tf.path, base,
		 strchr(base, ':') ? "D" : ":2,D");
	assert_int_equal(rename(from, to), 0);
	stat_path(tf.index, &st1);
	save_view(r, &saved);
	tf_sync(r);
	assert_not_lower(r, &saved);
	assert_true(store_view_msgs(r)[2].flags & STORE_DRAFT);
	assert_true(store_view_msgs(r)[2].modseq > saved.highest);
	assert_true(store_view_msgs(r)[2].modseq == r->highestmodseq);
    }
    stat_path(tf.index, &st1);
    put(r, store_view_msgs(r)[0].uid, "ENVELOPE", "ro");
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
	out[i] = store_view_msgs(f)[seq - 1].modseq;
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
	put(f, store_view_msgs(f)[i].uid, "ENVELOPE", envelope);
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
	found += (store_cache_get(f, store_view_msgs(f)[i].uid, "ENVELOPE") != 0);
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
	cmocka_unit_test(test_maildir_index_damage),
	cmocka_unit_test(test_mbox_index_damage),
	cmocka_unit_test(test_index_deleted),
	cmocka_unit_test(test_uidvalidity_change),
	cmocka_unit_test(test_maildir_readonly),
	cmocka_unit_test(test_mbox_readonly),
	cmocka_unit_test(test_log_compaction),
	cmocka_unit_test(test_late_record),
	cmocka_unit_test(test_processes),
	cmocka_unit_test(test_mbox_index_places),
	cmocka_unit_test(test_large_folder),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
