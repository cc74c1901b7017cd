/*
 * test_store_index_cache.c - unit tests for lib/store/store_index_cache.c
 * and store_index_notify.c, through store.h on real Maildir and mbox
 * folders (store_index_fixture.h): cache values round-trip between
 * sessions, go with their message, stay bounded, and a damaged cache file
 * never yields a wrong value; notification fires for a delivery and a
 * flag change and is quiet otherwise.  Warnings are logged to a file and
 * counted: a sound cache never causes one.
 */
#include "store_index_fixture.h"

/*
 * The cache.
 */

static void run_cache(int kind, const char *name)
{
    char    big[300 * 1024];
    STORE_FOLDER *a, *b, *c;
    unsigned u1, u2, u3;
    TF      tf;

    tf_init(&tf, kind, name);
    deliver_n(&tf, 3);
    a = tf_open(&tf, 0);
    u1 = store_view_msgs(a)[0].uid;
    u2 = store_view_msgs(a)[1].uid;
    u3 = store_view_msgs(a)[2].uid;
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
		     store_view_msgs(folder)[i].uid);
	    if ((got = store_cache_get(folder, store_view_msgs(folder)[i].uid,
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
		     store_view_msgs(f)[i].uid);
	    put(f, store_view_msgs(f)[i].uid, cache_fields[k], value);
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
    put(f, store_view_msgs(f)[0].uid, "ENVELOPE", "a new one");
    store_close(f);
    assert_true(warnings() > 0);
    f = tf_open(&tf, 0);
    assert_cached(f, store_view_msgs(f)[0].uid, "ENVELOPE", "a new one");
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
	put(f, store_view_msgs(f)[0].uid, "BODY[TEXT]", value);
	tf_sync(f);
	stat_path(tf.cache, &st);
	assert_true(st.st_size < 2 * 1024 * 1024);	/* 2 x live + 1 MB */
    }
    store_close(f);
    f = tf_open(&tf, 0);
    assert_cached(f, store_view_msgs(f)[0].uid, "BODY[TEXT]", value);
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
    put(f, store_view_msgs(f)[0].uid, "ENVELOPE", "x");
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
    assert_true(store_view_msgs(f)[0].flags & STORE_SEEN);

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

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_maildir_cache),
	cmocka_unit_test(test_mbox_cache),
	cmocka_unit_test(test_cache_damage),
	cmocka_unit_test(test_cache_rewrite),
	cmocka_unit_test(test_maildir_notify),
	cmocka_unit_test(test_mbox_notify),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
