/*
 * test_store_mbox.c - unit tests for lib/store/store_mbox.c, the mbox
 * driver of the mailbox store, through store.h.
 *
 * Mail delivered by mbox_deliver() is found byte for byte (">From " kept)
 * with the right sizes and dates; the first writable open writes
 * X-IMAPbase/X-UID once and UIDs stay; a read-only open writes nothing and
 * two read-only opens agree on the UIDs of untagged mail; new mail shows
 * up at sync; expunge, flags, keywords and append round-trip through the
 * file and Dovecot's headers; a batch of flag changes
 * (store_change_begin/end) is seen at once and written with one rewrite
 * at its end (or before a sync), and a batch that cannot be written
 * leaves the file and, after a sync, the view as they were; a second
 * session reads its old messages
 * after a rewrite until it syncs, and a writer's mbox_replaced() notices;
 * a failed rewrite (no permission, file size limit, full disk) leaves the
 * file as it was; bad input (junk, no final newline, CR-LF, NUL bytes,
 * giant header lines, From_ lines without a date) gives messages, not
 * crashes.  Runs as root or not: the permission case drops to uid 65534
 * in a child when root.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"

#define WHEN	1795446439			/* Mon Nov 23 2026 */
#define NOBODY	65534

static char topdir[] = "/tmp/test_store_mboxXXXXXX";
static VSTRING *why;

typedef struct {
    const char *data;
    size_t  len;
    size_t  step;			/* bytes per write call */
} SOURCE;

static int source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    SOURCE *s = ctx;
    size_t  off, n;

    for (off = 0; off < s->len; off += n) {
	n = s->len - off < s->step ? s->len - off : s->step;
	if (write_fn(sink, s->data + off, n) != 0)
	    return (-1);
    }
    return (0);
}

static int setup(void **state)
{
    why = vstring_alloc(100);
    return (mkdtemp(topdir) ? 0 : -1);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);
    int     ret;

    vstring_sprintf(cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", topdir, topdir);
    ret = system(STR(cmd));
    vstring_free(cmd);
    vstring_free(why);
    return (ret == 0 ? 0 : -1);
}

/* mbox_path - a fresh file name under topdir */

static const char *mbox_path(VSTRING *buf, const char *name)
{
    vstring_sprintf(buf, "%s/%s", topdir, name);
    (void) unlink(STR(buf));
    return (STR(buf));
}

static void deliver(const char *path, const char *text, time_t when)
{
    SOURCE  src = {text, strlen(text), 7};
    int     temporary;

    if (mbox_deliver(path, "a@b.c", when, source, &src, why, &temporary) != 0)
	fail_msg("mbox_deliver: %s", STR(why));
}

static void read_file(const char *path, VSTRING *buf)
{
    char    tmp[65536];
    ssize_t n;
    int     fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    vstring_reset(buf);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
}

static void write_file(const char *path, const char *data, size_t len)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);
}

/* quoted - TEXT as stored in an mbox: ">From " quoting, final newline */

static void quoted(VSTRING *buf, const char *text)
{
    const char *cp;

    vstring_reset(buf);
    for (cp = text; *cp; cp++) {
	if ((cp == text || cp[-1] == '\n') && strncmp(cp, "From ", 5) == 0)
	    vstring_addch(buf, '>');
	vstring_addch(buf, *cp);
    }
    if (LEN(buf) > 0 && STR(buf)[LEN(buf) - 1] != '\n')
	vstring_addch(buf, '\n');
}

static off_t crlf_size(const char *data, size_t len)
{
    off_t   n = (off_t) len;
    size_t  i;

    for (i = 0; i < len; i++)
	if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
	    n++;
    return (n);
}

/* read_msg - message SEQ's content, read in pieces of STEP bytes */

static void read_msg(STORE_FOLDER *folder, int seq, VSTRING *buf, size_t step)
{
    STORE_MSG *msg = store_msg(folder, seq);
    STORE_STREAM *stream;
    char    tmp[65536];
    ssize_t n;

    assert_non_null(msg);
    if ((stream = store_msg_open(folder, msg, why)) == 0)
	fail_msg("store_msg_open: %s", STR(why));
    vstring_reset(buf);
    while ((n = store_read(stream, tmp, step)) > 0)
	vstring_memcat(buf, tmp, n);
    assert_int_equal(n, 0);
    store_msg_close(stream);
}

/* check_msg - SEQ's content is WANT, and its sizes say so */

static void check_msg(STORE_FOLDER *folder, int seq, const char *want, size_t len)
{
    VSTRING *buf = vstring_alloc(1000);
    STORE_MSG *msg = store_msg(folder, seq);
    size_t  step;

    assert_non_null(msg);
    for (step = 1; step < 20000; step *= 37) {
	read_msg(folder, seq, buf, step);
	assert_int_equal(LEN(buf), len);
	assert_memory_equal(STR(buf), want, len);
    }
    assert_int_equal(msg->size, (off_t) len);
    assert_int_equal(msg->vsize, crlf_size(want, len));
    vstring_free(buf);
}

static STORE_FOLDER *open_mbox(const char *path, int flags)
{
    STORE_FOLDER *folder = store_open(STORE_KIND_MBOX, path, flags, why);

    if (folder == 0)
	fail_msg("store_open %s: %s", path, STR(why));
    return (folder);
}

static const char *texts[] = {
    "Subject: one\n\nFrom the body\nFrom\n>From x\n",
    "Subject: two\nFrom: someone\n\nno final newline",
    "Subject: three\n\nline\n\nFrom here after an empty line\n\n",
};

#define NTEXTS	(sizeof(texts) / sizeof(texts[0]))

/* Delivered mail, first open, reopen */
static void test_deliver_open(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    VSTRING *file = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uidvalidity;
    size_t  i;

    mbox_path(path, "inbox");
    for (i = 0; i < NTEXTS; i++)
	deliver(STR(path), texts[i], WHEN + (time_t) i);
    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->count, NTEXTS);
    assert_true(folder->uidvalidity != 0);
    assert_int_equal(folder->uidnext, NTEXTS + 1);
    for (i = 0; i < NTEXTS; i++) {
	quoted(want, texts[i]);
	check_msg(folder, i + 1, STR(want), LEN(want));
	assert_int_equal(store_msg(folder, i + 1)->uid, i + 1);
	assert_int_equal(store_msg(folder, i + 1)->received, WHEN + (time_t) i);
	assert_int_equal(store_msg(folder, i + 1)->flags, STORE_RECENT);
    }
    uidvalidity = folder->uidvalidity;
    store_close(folder);

    /* the one rewrite: X-IMAPbase in the first message, X-UID in all */
    read_file(STR(path), file);
    vstring_sprintf(want, "X-IMAPbase: %u 0000000003\n", uidvalidity);
    assert_non_null(strstr(STR(file), STR(want)));
    assert_non_null(strstr(STR(file), "X-UID: 1\n"));
    assert_non_null(strstr(STR(file), "X-UID: 2\n"));
    assert_non_null(strstr(STR(file), "X-UID: 3\n"));
    assert_non_null(strstr(STR(file), "\n>From the body\n"));

    /* a second open writes nothing and sees the same */
    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->uidvalidity, uidvalidity);
    assert_int_equal(folder->count, NTEXTS);
    for (i = 0; i < NTEXTS; i++) {
	quoted(want, texts[i]);
	check_msg(folder, i + 1, STR(want), LEN(want));
	assert_int_equal(store_msg(folder, i + 1)->uid, i + 1);
    }
    store_close(folder);
    read_file(STR(path), want);
    assert_int_equal(LEN(want), LEN(file));
    assert_memory_equal(STR(want), STR(file), LEN(file));
    vstring_free(path);
    vstring_free(want);
    vstring_free(file);
}

/* Read-only: nothing written; untagged mail gets the same UIDs twice */
static void test_readonly(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *before = vstring_alloc(100);
    VSTRING *after = vstring_alloc(100);
    STORE_FOLDER *a, *b;
    struct stat st;

    mbox_path(path, "ro");
    deliver(STR(path), texts[0], WHEN);
    deliver(STR(path), texts[1], WHEN);
    read_file(STR(path), before);
    a = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(a->count, 2);
    assert_int_equal(stat(STR(path), &st), 0);
    assert_int_equal(a->uidvalidity, (unsigned) st.st_ino);
    store_close(a);
    read_file(STR(path), after);
    assert_int_equal(LEN(before), LEN(after));
    assert_memory_equal(STR(before), STR(after), LEN(after));
    assert_int_equal(store_expunge(a = open_mbox(STR(path), STORE_OPEN_READONLY),
				   (unsigned[]) {1}, 1, why), -1);
    store_close(a);

    /* tag the file, then deliver untagged mail */
    store_close(open_mbox(STR(path), 0));
    deliver(STR(path), texts[2], WHEN);
    deliver(STR(path), texts[0], WHEN);
    read_file(STR(path), before);
    a = open_mbox(STR(path), STORE_OPEN_READONLY);
    b = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(a->count, 4);
    assert_int_equal(b->count, 4);
    assert_int_equal(a->uidvalidity, b->uidvalidity);
    assert_int_equal(store_msg(a, 3)->uid, 3);
    assert_int_equal(store_msg(a, 4)->uid, 4);
    assert_int_equal(store_msg(b, 3)->uid, 3);
    assert_int_equal(store_msg(b, 4)->uid, 4);
    assert_int_equal(a->uidnext, 5);
    store_close(a);
    store_close(b);
    read_file(STR(path), after);
    assert_int_equal(LEN(before), LEN(after));
    assert_memory_equal(STR(before), STR(after), LEN(after));
    vstring_free(path);
    vstring_free(before);
    vstring_free(after);
}

/* New mail appended after open appears at sync, with the next UIDs */
static void test_sync_new_mail(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    STORE_FOLDER *folder;

    mbox_path(path, "sync");
    deliver(STR(path), texts[0], WHEN);
    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->count, 1);
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_int_equal(folder->count, 1);
    deliver(STR(path), texts[1], WHEN);
    deliver(STR(path), texts[2], WHEN);
    assert_int_equal(folder->count, 1);		/* nothing changes by itself */
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_int_equal(folder->count, 3);
    assert_int_equal(store_msg(folder, 2)->uid, 2);
    assert_int_equal(store_msg(folder, 3)->uid, 3);
    assert_int_equal(folder->uidnext, 4);
    quoted(want, texts[2]);
    check_msg(folder, 3, STR(want), LEN(want));
    quoted(want, texts[0]);
    check_msg(folder, 1, STR(want), LEN(want));
    store_close(folder);

    /*
     * An empty file: every reader gives it the same UIDVALIDITY (its
     * mtime), and the first mail delivered keeps it for a session that
     * had it empty (a client that selected an empty INBOX keeps its UIDs)
     */
    {
	struct timespec times[2] = {{1500000000, 0}, {1500000000, 0}};
	STORE_FOLDER *ro;

	mbox_path(path, "sync-empty");
	write_file(STR(path), "", 0);
	assert_int_equal(utimensat(AT_FDCWD, STR(path), times, 0), 0);
	folder = open_mbox(STR(path), 0);
	ro = open_mbox(STR(path), STORE_OPEN_READONLY);
	assert_int_equal(folder->uidvalidity, 1500000000);
	assert_int_equal(ro->uidvalidity, 1500000000);
	store_close(ro);
	deliver(STR(path), texts[1], WHEN);
	deliver(STR(path), texts[2], WHEN);
	assert_int_equal(store_sync(folder, 0, why), 0);
	assert_int_equal(folder->uidvalidity, 1500000000);
	assert_int_equal(folder->count, 2);
	assert_int_equal(store_msg(folder, 1)->uid, 1);
	assert_int_equal(store_msg(folder, 2)->uid, 2);
	store_close(folder);
	ro = open_mbox(STR(path), STORE_OPEN_READONLY);
	assert_int_equal(ro->uidvalidity, 1500000000);
	assert_int_equal(ro->uidnext, 3);
	store_close(ro);
    }
    vstring_free(path);
    vstring_free(want);
}

/* Expunge: exactly those go, the rest stays byte for byte */
static void test_expunge(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    VSTRING *file = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uidvalidity;
    size_t  i;

    mbox_path(path, "expunge");
    for (i = 0; i < 4; i++)
	deliver(STR(path), texts[i % NTEXTS], WHEN);
    folder = open_mbox(STR(path), 0);
    uidvalidity = folder->uidvalidity;
    assert_int_equal(store_expunge(folder, (unsigned[]) {4, 2, 99}, 3, why), 0);
    assert_int_equal(folder->count, 2);
    assert_int_equal(store_msg(folder, 1)->uid, 1);
    assert_int_equal(store_msg(folder, 2)->uid, 3);
    quoted(want, texts[0]);
    check_msg(folder, 1, STR(want), LEN(want));
    quoted(want, texts[2]);
    check_msg(folder, 2, STR(want), LEN(want));
    /* already gone: no error */
    assert_int_equal(store_expunge(folder, (unsigned[]) {2}, 1, why), 0);
    store_close(folder);

    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->uidvalidity, uidvalidity);
    assert_int_equal(folder->count, 2);
    assert_int_equal(store_msg(folder, 2)->uid, 3);
    assert_int_equal(folder->uidnext, 5);
    quoted(want, texts[2]);
    check_msg(folder, 2, STR(want), LEN(want));

    /* all of them: a pseudo message keeps UIDVALIDITY and the last UID */
    assert_int_equal(store_expunge(folder, (unsigned[]) {1, 3}, 2, why), 0);
    assert_int_equal(folder->count, 0);
    store_close(folder);
    read_file(STR(path), file);
    vstring_sprintf(want, "X-IMAP: %u 0000000004\n", uidvalidity);
    assert_non_null(strstr(STR(file), STR(want)));
    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->count, 0);
    assert_int_equal(folder->uidvalidity, uidvalidity);
    assert_int_equal(folder->uidnext, 5);
    deliver(STR(path), texts[1], WHEN);
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_int_equal(folder->count, 1);
    assert_int_equal(store_msg(folder, 1)->uid, 5);
    quoted(want, texts[1]);
    check_msg(folder, 1, STR(want), LEN(want));
    store_close(folder);
    vstring_free(path);
    vstring_free(want);
    vstring_free(file);
}

/* Flags and keywords round-trip through Status/X-Status/X-Keywords */
static void test_flags(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    VSTRING *file = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned all = STORE_SEEN | STORE_ANSWERED | STORE_FLAGGED | STORE_DRAFT
	| STORE_DELETED;
    int     work, junk;

    mbox_path(path, "flags");
    deliver(STR(path), texts[0], WHEN);
    deliver(STR(path), texts[1], WHEN);
    folder = open_mbox(STR(path), 0);
    assert_int_equal(work = store_keyword(folder, "$Work", 1, why), 0);
    assert_int_equal(junk = store_keyword(folder, "Junk", 1, why), 1);
    assert_int_equal(store_keyword(folder, "$work", 0, why), work);
    assert_int_equal(store_keyword(folder, "two words", 1, why), -1);
    assert_non_null(strstr(STR(why), "invalid keyword"));
    assert_int_equal(folder->keyword_count, 2);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 1), all,
				     1U << work, why), 0);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 2), STORE_SEEN,
				     (1U << work) | (1U << junk), why), 0);
    assert_int_equal(store_msg(folder, 1)->flags, all | STORE_RECENT);
    assert_int_equal(store_msg(folder, 2)->keywords, 3);
    quoted(want, texts[1]);
    check_msg(folder, 2, STR(want), LEN(want));
    store_close(folder);

    read_file(STR(path), file);
    assert_non_null(strstr(STR(file), " 0000000002 $Work Junk\n"));
    assert_non_null(strstr(STR(file), "X-UID: 1\nStatus: RO\nX-Status: AFTD\n"
			   "X-Keywords: $Work\n"));
    assert_non_null(strstr(STR(file), "X-UID: 2\nStatus: RO\n"
			   "X-Keywords: $Work Junk\n"));

    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->keyword_count, 2);
    assert_string_equal(folder->keywords[0], "$Work");
    assert_int_equal(store_msg(folder, 1)->flags, all);	/* O: not recent */
    assert_int_equal(store_msg(folder, 1)->keywords, 1);
    assert_int_equal(store_msg(folder, 2)->flags, STORE_SEEN);
    assert_int_equal(store_msg(folder, 2)->keywords, 3);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 1), 0, 0, why), 0);
    store_close(folder);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(store_msg(folder, 1)->flags, 0);
    assert_int_equal(store_msg(folder, 1)->keywords, 0);
    quoted(want, texts[0]);
    check_msg(folder, 1, STR(want), LEN(want));
    store_close(folder);
    vstring_free(path);
    vstring_free(want);
    vstring_free(file);
}

/* Append: the UID comes back, the message reads back; our fields only */
static void test_append(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    VSTRING *file = vstring_alloc(100);
    const char *text = "X-UID: 77\nStatus: RO\nSubject: appended\n\nFrom me\nbody\n";
    SOURCE  src = {text, strlen(text), 3};
    STORE_FOLDER *folder;
    unsigned uid = 0, uid2 = 0, uidvalidity;
    int     kw;

    mbox_path(path, "append");
    deliver(STR(path), texts[0], WHEN);
    folder = open_mbox(STR(path), 0);
    kw = store_keyword(folder, "$Label1", 1, why);
    assert_int_equal(store_append(folder, source, &src, STORE_SEEN | STORE_FLAGGED,
				  1U << kw, WHEN + 60, &uid, why), 0);
    assert_int_equal(uid, 2);
    assert_int_equal(folder->count, 1);		/* until the next sync */
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_int_equal(folder->count, 2);
    assert_int_equal(store_msg(folder, 2)->uid, 2);
    assert_int_equal(store_msg(folder, 2)->flags,
		     STORE_SEEN | STORE_FLAGGED | STORE_RECENT);
    assert_int_equal(store_msg(folder, 2)->keywords, 1U << kw);
    assert_int_equal(store_msg(folder, 2)->received, WHEN + 60);
    quoted(want, "Subject: appended\n\nFrom me\nbody\n");
    check_msg(folder, 2, STR(want), LEN(want));
    assert_int_equal(folder->uidnext, 3);
    /* LAST-UID updated in place */
    read_file(STR(path), file);
    assert_non_null(strstr(STR(file), " 0000000002 $Label1\n"));
    /* mail delivered meanwhile: the append's UID follows it */
    deliver(STR(path), texts[1], WHEN);
    assert_int_equal(store_append(folder, source, &src, 0, 0, WHEN, &uid2, why), 0);
    assert_int_equal(uid2, 4);
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_int_equal(folder->count, 4);
    assert_int_equal(store_msg(folder, 3)->uid, 3);
    assert_int_equal(store_msg(folder, 4)->uid, 4);
    store_close(folder);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->count, 4);
    assert_int_equal(store_msg(folder, 4)->uid, 4);
    assert_int_equal(folder->uidnext, 5);
    check_msg(folder, 4, STR(want), LEN(want));
    store_close(folder);

    /* after a message that Content-Length ends (Dovecot's, unquoted) */
    {
	static const char cl_file[] =
	"From tester@vm  Thu Jan 01 09:00:00 2026\n"
	"X-IMAPbase: 17 0000000001\nX-UID: 1\nContent-Length: 16\n\n"
	"line\n\nFrom evil\n";
	static const char *endings[] = {"\n", ""};	/* separator, or none */
	size_t  e;

	for (e = 0; e < 2; e++) {
	    mbox_path(path, "append-cl");
	    vstring_sprintf(file, "%s%s", cl_file, endings[e]);
	    write_file(STR(path), STR(file), LEN(file));
	    folder = open_mbox(STR(path), 0);
	    assert_int_equal(folder->count, 1);
	    assert_int_equal(store_append(folder, source, &src, 0, 0, 0, &uid, why), 0);
	    assert_int_equal(uid, 2);
	    store_close(folder);
	    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
	    assert_int_equal(folder->count, 2);
	    assert_int_equal(folder->uidvalidity, 17);
	    check_msg(folder, 1, "\nline\n\nFrom evil\n", 17);
	    assert_int_equal(store_msg(folder, 2)->uid, 2);
	    check_msg(folder, 2, STR(want), LEN(want));
	    store_close(folder);
	}
    }

    /* a new, empty mailbox: the message carries X-IMAPbase, with the
     * UIDVALIDITY the view announced (a client selected it already) */
    mbox_path(path, "append-new");
    folder = open_mbox(STR(path), STORE_OPEN_CREATE);
    assert_int_equal(folder->count, 0);
    uidvalidity = folder->uidvalidity;
    assert_int_equal(store_append(folder, source, &src, 0, 0, 0, &uid, why), 0);
    assert_int_equal(uid, 1);
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_int_equal(folder->uidvalidity, uidvalidity);
    assert_int_equal(folder->count, 1);
    assert_int_equal(store_msg(folder, 1)->uid, 1);
    check_msg(folder, 1, STR(want), LEN(want));
    store_close(folder);
    read_file(STR(path), file);
    vstring_sprintf(want, "X-IMAPbase: %u 0000000001\nX-UID: 1\n", uidvalidity);
    assert_non_null(strstr(STR(file), STR(want)));
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->uidvalidity, uidvalidity);
    store_close(folder);
    vstring_free(path);
    vstring_free(want);
    vstring_free(file);
}

/* stat_ino - the inode PATH names now */

static ino_t stat_ino(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (st.st_ino);
}

/* A batch: changes seen at once, written with one rewrite at the end */
static void test_batch(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *before = vstring_alloc(100);
    VSTRING *file = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    STORE_FOLDER *folder, *other;
    unsigned long long modseq;
    ino_t   ino;
    int     i, work;

    mbox_path(path, "batch");
    for (i = 0; i < 5; i++)
	deliver(STR(path), texts[i % NTEXTS], WHEN);
    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->count, 5);
    assert_int_equal(work = store_keyword(folder, "$Work", 1, why), 0);
    read_file(STR(path), before);
    ino = stat_ino(STR(path));

    store_change_begin(folder);
    for (i = 1; i <= 5; i++) {
	modseq = folder->highestmodseq;
	assert_int_equal(store_set_flags(folder, store_msg(folder, i), STORE_SEEN,
					 i == 3 ? 1U << work : 0, why), 0);
	assert_true(store_msg(folder, i)->modseq > modseq);	/* at once */
	assert_int_equal(store_msg(folder, i)->flags & STORE_FLAGS_STORED,
			 STORE_SEEN);
    }
    assert_int_equal(store_set_flags(folder, store_msg(folder, 2), STORE_FLAGGED,
				     0, why), 0);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 2),
				   STORE_SEEN | STORE_ANSWERED, 0, why), 0);
    store_change_begin(folder);			/* nested: the outer one writes */
    assert_int_equal(store_change_end(folder, why), 0);
    /* Nothing written yet; messages still read; others see the old flags */
    read_file(STR(path), file);
    assert_int_equal(LEN(file), LEN(before));
    assert_memory_equal(STR(file), STR(before), LEN(file));
    assert_int_equal(stat_ino(STR(path)), ino);
    quoted(want, texts[1]);
    check_msg(folder, 2, STR(want), LEN(want));
    other = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(store_msg(other, 1)->flags & STORE_SEEN, 0);
    store_close(other);

    assert_int_equal(store_change_end(folder, why), 0);
    assert_true(stat_ino(STR(path)) != ino);	/* one rewrite */
    read_file(STR(path), file);
    assert_non_null(strstr(STR(file), "X-UID: 2\nStatus: RO\nX-Status: A\n\n"));
    assert_non_null(strstr(STR(file), "X-UID: 3\nStatus: RO\nX-Keywords: $Work\n"));
    assert_null(strstr(STR(file), "X-Status: F"));
    check_msg(folder, 2, STR(want), LEN(want));
    other = open_mbox(STR(path), STORE_OPEN_READONLY);
    for (i = 1; i <= 5; i++) {
	assert_int_equal(store_msg(other, i)->uid, (unsigned) i);
	assert_int_equal(store_msg(other, i)->flags, i == 2 ?
			 STORE_SEEN | STORE_ANSWERED : STORE_SEEN);
	assert_int_equal(store_msg(other, i)->keywords, i == 3 ? 1 : 0);
    }
    store_close(other);

    /* A sync (and an expunge, and a close) writes what is pending first */
    store_change_begin(folder);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 1), 0, 0, why), 0);
    ino = stat_ino(STR(path));
    assert_int_equal(store_sync(folder, 0, why), 0);
    assert_true(stat_ino(STR(path)) != ino);
    assert_int_equal(store_msg(folder, 1)->flags & STORE_FLAGS_STORED, 0);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 5), STORE_DELETED,
				     0, why), 0);
    assert_int_equal(store_expunge(folder, &store_msg(folder, 4)->uid, 1, why), 0);
    assert_int_equal(folder->count, 4);
    assert_int_equal(store_msg(folder, 4)->flags & STORE_FLAGS_STORED,
		     STORE_DELETED);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 3), STORE_DRAFT,
				     0, why), 0);
    store_close(folder);			/* inside the batch */
    other = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(other->count, 4);
    assert_int_equal(store_msg(other, 1)->flags, 0);
    assert_int_equal(store_msg(other, 3)->flags, STORE_DRAFT);
    assert_int_equal(store_msg(other, 4)->uid, 5);
    assert_int_equal(store_msg(other, 4)->flags, STORE_DELETED);
    store_close(other);
    vstring_free(path);
    vstring_free(before);
    vstring_free(file);
    vstring_free(want);
}

/* Two sessions; a rewrite while one still reads the old file */
static void test_two_sessions(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    STORE_FOLDER *a, *b;
    size_t  i;
    int     fd;

    mbox_path(path, "shared");
    for (i = 0; i < NTEXTS; i++)
	deliver(STR(path), texts[i], WHEN);
    a = open_mbox(STR(path), 0);
    b = open_mbox(STR(path), 0);
    fd = open(STR(path), O_WRONLY | O_APPEND);	/* a writer, like local */
    assert_true(fd >= 0);
    assert_int_equal(mbox_replaced(fd, STR(path)), 0);
    assert_int_equal(store_set_flags(a, store_msg(a, 2), STORE_SEEN, 0, why), 0);
    assert_int_equal(store_expunge(a, (unsigned[]) {1}, 1, why), 0);
    assert_int_equal(mbox_replaced(fd, STR(path)), 1);
    close(fd);

    /* b still reads its old messages until it syncs */
    assert_int_equal(b->count, NTEXTS);
    for (i = 0; i < NTEXTS; i++) {
	quoted(want, texts[i]);
	check_msg(b, i + 1, STR(want), LEN(want));
    }
    assert_int_equal(store_sync(b, 0, why), 0);
    assert_int_equal(b->count, NTEXTS - 1);
    assert_int_equal(store_msg(b, 1)->uid, 2);
    assert_int_equal(store_msg(b, 1)->flags & STORE_SEEN, STORE_SEEN);
    quoted(want, texts[1]);
    check_msg(b, 1, STR(want), LEN(want));

    /* and the other way round */
    assert_int_equal(store_set_flags(b, store_msg(b, 2), STORE_FLAGGED, 0, why), 0);
    assert_int_equal(store_sync(a, 0, why), 0);
    assert_int_equal(a->count, NTEXTS - 1);
    assert_int_equal(store_msg(a, 2)->flags & STORE_FLAGGED, STORE_FLAGGED);
    store_close(a);
    store_close(b);
    vstring_free(path);
    vstring_free(want);
}

/* count_files - entries in DIR other than . and .. */

static int count_files(const char *dir)
{
    DIR    *dp = opendir(dir);
    struct dirent *de;
    int     n = 0;

    assert_non_null(dp);
    while ((de = readdir(dp)) != 0)
	if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
	    n++;
    closedir(dp);
    return (n);
}

/* try_failing_rewrite - in a child: rewrites must fail and change nothing */

static int try_failing_rewrite(const char *dir, const char *path, const char *reason)
{
    STORE_FOLDER *folder;
    VSTRING *err = vstring_alloc(100);
    VSTRING *before = vstring_alloc(100);
    VSTRING *after = vstring_alloc(100);
    int     ret;

    read_file(path, before);
    if ((folder = store_open(STORE_KIND_MBOX, path, 0, err)) == 0)
	return (2);
    ret = store_set_flags(folder, store_msg(folder, 1), STORE_SEEN, 0, err);
    if (ret != -1 || strstr(STR(err), "cannot rewrite mailbox") == 0
	|| strstr(STR(err), reason) == 0) {
	fprintf(stderr, "rewrite: %d %s\n", ret, STR(err));
	return (3);
    }
    if (store_keyword(folder, "$New", 1, err) != -1
	|| store_msg(folder, 1)->flags != STORE_RECENT)
	return (4);
    store_close(folder);
    read_file(path, after);
    if (LEN(before) != LEN(after) || memcmp(STR(before), STR(after), LEN(after)) != 0
	|| count_files(dir) != 1)
	return (5);
    vstring_free(err);
    vstring_free(before);
    vstring_free(after);
    return (0);
}

/* failing_batch - in a child: a batch that cannot be written */

static int failing_batch(const char *dir, const char *path, const char *reason)
{
    STORE_FOLDER *folder;
    VSTRING *err = vstring_alloc(100);
    VSTRING *before = vstring_alloc(100);
    VSTRING *after = vstring_alloc(100);
    struct rlimit lim;
    int     ret;

    read_file(path, before);
    signal(SIGXFSZ, SIG_IGN);
    lim.rlim_cur = lim.rlim_max = 4096;
    if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
	return (8);
    if ((folder = store_open(STORE_KIND_MBOX, path, 0, err)) == 0)
	return (2);
    store_change_begin(folder);
    if (store_set_flags(folder, store_msg(folder, 1), STORE_SEEN, 0, err) != 0
	|| store_msg(folder, 1)->flags != (STORE_SEEN | STORE_RECENT))
	return (3);
    ret = store_change_end(folder, err);
    if (ret != -1 || strstr(STR(err), "cannot rewrite mailbox") == 0
	|| strstr(STR(err), reason) == 0) {
	fprintf(stderr, "batch: %d %s\n", ret, STR(err));
	return (4);
    }
    if (store_sync(folder, 0, err) != 0
	|| store_msg(folder, 1)->flags != STORE_RECENT)
	return (5);				/* the folder's flags again */
    store_close(folder);
    read_file(path, after);
    if (LEN(before) != LEN(after) || memcmp(STR(before), STR(after), LEN(after)) != 0)
	return (6);
    vstring_free(err);
    vstring_free(before);
    vstring_free(after);
    return (0);
}

/* run_child - FN in a child; its exit status (77: cannot be tried here) */

static int run_child(int (*fn) (const char *, const char *, const char *),
		             const char *dir, const char *path, const char *reason)
{
    pid_t   pid;
    int     status;

    if ((pid = fork()) == 0)
	_exit(fn(dir, path, reason));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return (WEXITSTATUS(status));
}

/* no_permission - the directory is not writable (as uid 65534 when root) */

static int no_permission(const char *dir, const char *path, const char *reason)
{
    if (geteuid() == 0 && (chmod(topdir, 0711) < 0
			   || chown(dir, NOBODY, NOBODY) < 0
			   || chown(path, NOBODY, NOBODY) < 0
			   || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
	return (6);
    if (chmod(dir, 0500) < 0)
	return (7);
    return (try_failing_rewrite(dir, path, reason));
}

/* file_size_limit - RLIMIT_FSIZE below the new file's size */

static int file_size_limit(const char *dir, const char *path, const char *reason)
{
    struct rlimit lim;

    signal(SIGXFSZ, SIG_IGN);
    lim.rlim_cur = lim.rlim_max = 4096;
    if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
	return (8);
    return (try_failing_rewrite(dir, path, reason));
}

/* disk_full - the mailbox on a 64 KiB tmpfs (root, private mount namespace) */

static int disk_full(const char *dir, const char *path, const char *reason)
{
    VSTRING *text = vstring_alloc(40000);
    int     fd;

    if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0
	|| mount("none", "/", 0, MS_REC | MS_PRIVATE, 0) < 0
	|| mount("tmpfs", dir, "tmpfs", 0, "size=64k") < 0)
	return (77);
    while (LEN(text) < 36000)
	vstring_strcat(text, "0123456789 0123456789 0123456789 0123456789\n");
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
	return (9);
    (void) close(fd);
    deliver(path, STR(text), WHEN);
    vstring_free(text);
    return (try_failing_rewrite(dir, path, reason));
}

static void check_unchanged(const char *dir, const char *path, VSTRING *before)
{
    VSTRING *after = vstring_alloc(100);

    read_file(path, after);
    assert_int_equal(LEN(before), LEN(after));
    assert_memory_equal(STR(before), STR(after), LEN(after));
    assert_int_equal(count_files(dir), 1);	/* no temporary file left */
    vstring_free(after);
}

/* A rewrite that fails leaves the file as it was */
static void test_rewrite_fails(void **state)
{
    VSTRING *dir = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *before = vstring_alloc(100);
    VSTRING *big = vstring_alloc(10000);

    vstring_sprintf(dir, "%s/fail", topdir);
    assert_int_equal(mkdir(STR(dir), 0700), 0);
    vstring_sprintf(path, "%s/mbox", STR(dir));
    while (LEN(big) < 8000)
	vstring_strcat(big, "a line of text that makes the message big\n");
    deliver(STR(path), STR(big), WHEN);
    store_close(open_mbox(STR(path), 0));	/* tagged: only our change */
    read_file(STR(path), before);

    assert_int_equal(run_child(file_size_limit, STR(dir), STR(path),
			       "File too large"), 0);
    check_unchanged(STR(dir), STR(path), before);
    assert_int_equal(run_child(failing_batch, STR(dir), STR(path),
			       "File too large"), 0);
    vstring_sprintf(big, "rm '%s'/.mbox.posthorn-*", STR(dir));	/* the index */
    assert_int_equal(system(STR(big)), 0);
    check_unchanged(STR(dir), STR(path), before);
    assert_int_equal(run_child(no_permission, STR(dir), STR(path),
			       "Permission denied"), 0);
    assert_int_equal(chmod(STR(dir), 0700), 0);
    assert_int_equal(chmod(topdir, 0700), 0);
    check_unchanged(STR(dir), STR(path), before);
    vstring_free(dir);
    vstring_free(path);
    vstring_free(before);
    vstring_free(big);
}

/* ENOSPC on a tiny tmpfs (root only; skipped elsewhere) */
static void test_disk_full(void **state)
{
    VSTRING *dir = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    int     status;

    vstring_sprintf(dir, "%s/full", topdir);
    assert_int_equal(mkdir(STR(dir), 0700), 0);
    vstring_sprintf(path, "%s/mbox", STR(dir));
    status = run_child(disk_full, STR(dir), STR(path), "No space left on device");
    vstring_free(dir);
    vstring_free(path);
    if (status == 77)
	skip();					/* not root, or no mount here */
    assert_int_equal(status, 0);
}

/* Dovecot's headers, written by hand */
static void test_dovecot_headers(void **state)
{
    static const char file[] =
    "From a@b  Mon Nov 23 15:07:19 2026\n"
    "Subject: one\n"
    "X-IMAPbase: 1796510747 0000000005 $Foo Junk\n"
    "X-UID: 3     \n"
    "Status: RO\n"
    "X-Status: AF\n"
    "X-Keywords: $Foo                  \n"
    "\n"
    "body 1\n"
    "\n"
    "From c@d  Mon Nov 23 15:08:19 2026\n"
    "Subject: two\n"
    "X-UID: 5\n"
    "Status: O\n"
    "X-Keywords: Junk $Foo\n"
    "\n"
    "body 2\n"
    "\n"
    "From tester@vm  Thu Jan 01 09:00:00 2026\n"
    "Subject: three\n"
    "X-UID: 6\n"
    "X-Keywords: $Evil\n"
    "Content-Length: 21\n"
    "\n"
    "line\n"
    "\n"
    "From evil\n"
    "last\n"
    "\n"
    "From x@y  Thu Jan 01 09:00:00 2026\n"
    "Subject: four\n"
    "X-UID: 4\n"
    "\n"
    "forged X-UID\n";
    static const char pseudo[] =
    "From MAILER_DAEMON  Sat Dec 05 22:45:58 2026\n"
    "Date: Sat, 05 Dec 2026 22:45:58 +0000\n"
    "From: Mail System Internal Data <MAILER-DAEMON@vm>\n"
    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
    "Message-ID: <1796510758@vm>\n"
    "X-IMAP: 1796510747 0000000004\n"
    "Status: RO\n"
    "\n"
    "This text is part of the internal format of your mail folder.\n"
    "\n"
    "From c@d  Mon Nov 23 15:08:19 2026\n"
    "Subject: three\n"
    "X-UID: 3                                                  \n"
    "Status: O\n"
    "X-Status: F\n"
    "\n"
    "body3\n"
    "\n";
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    struct tm tm;

    mbox_path(path, "dovecot");
    write_file(STR(path), file, sizeof(file) - 1);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->uidvalidity, 1796510747);
    assert_int_equal(folder->keyword_count, 2);
    assert_string_equal(folder->keywords[0], "$Foo");
    assert_string_equal(folder->keywords[1], "Junk");
    assert_int_equal(folder->count, 4);
    assert_int_equal(store_msg(folder, 1)->uid, 3);
    assert_int_equal(store_msg(folder, 1)->flags,
		     STORE_SEEN | STORE_ANSWERED | STORE_FLAGGED);
    assert_int_equal(store_msg(folder, 1)->keywords, 1);
    check_msg(folder, 1, "Subject: one\n\nbody 1\n", 21);
    assert_int_equal(store_msg(folder, 2)->uid, 5);
    assert_int_equal(store_msg(folder, 2)->flags, 0);
    assert_int_equal(store_msg(folder, 2)->keywords, 3);
    check_msg(folder, 2, "Subject: two\n\nbody 2\n", 21);
    /* X-UID 6 is the next UID: taken; $Evil is not a folder keyword */
    assert_int_equal(store_msg(folder, 3)->uid, 6);
    assert_int_equal(store_msg(folder, 3)->flags, STORE_RECENT);
    assert_int_equal(store_msg(folder, 3)->keywords, 0);
    check_msg(folder, 3, "Subject: three\n\nline\n\nFrom evil\nlast\n", 37);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 126;
    tm.tm_mday = 1;
    tm.tm_hour = 9;
    tm.tm_isdst = -1;
    assert_int_equal(store_msg(folder, 3)->received, mktime(&tm));
    /* X-UID 4 is below the previous UID: forged, gets the next one */
    assert_int_equal(store_msg(folder, 4)->uid, 7);
    assert_int_equal(folder->uidnext, 8);
    store_close(folder);

    /* a writable session keeps UIDVALIDITY; Content-Length still protects */
    folder = open_mbox(STR(path), 0);
    assert_int_equal(folder->uidvalidity, 1796510747);
    assert_int_equal(store_expunge(folder, (unsigned[]) {5}, 1, why), 0);
    store_close(folder);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->uidvalidity, 1796510747);
    assert_int_equal(folder->count, 3);
    assert_int_equal(store_msg(folder, 2)->uid, 6);
    check_msg(folder, 2, "Subject: three\n\nline\n\nFrom evil\nlast\n", 37);
    assert_int_equal(store_msg(folder, 3)->uid, 7);
    assert_int_equal(folder->uidnext, 8);
    store_close(folder);
    read_file(STR(path), buf);
    assert_non_null(strstr(STR(buf), "X-IMAPbase: 1796510747 0000000007 $Foo Junk\n"));
    assert_non_null(strstr(STR(buf), "X-UID: 6\nStatus: O\nContent-Length: 21\n\n"));

    /* c-client's pseudo message is not a message; its X-IMAP counts */
    mbox_path(path, "pseudo");
    write_file(STR(path), pseudo, sizeof(pseudo) - 1);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->count, 1);
    assert_int_equal(folder->uidvalidity, 1796510747);
    assert_int_equal(store_msg(folder, 1)->uid, 3);
    assert_int_equal(store_msg(folder, 1)->flags, STORE_FLAGGED);
    assert_int_equal(folder->uidnext, 5);
    check_msg(folder, 1, "Subject: three\n\nbody3\n", 22);
    store_close(folder);
    vstring_free(path);
    vstring_free(buf);
}

/* try_bad - open FILE read-only and writable, read every message */

static void try_bad(const char *name, const char *data, size_t len, int want_count)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    int     pass, i;

    mbox_path(path, name);
    write_file(STR(path), data, len);
    for (pass = 0; pass < 2; pass++) {
	folder = open_mbox(STR(path), pass ? 0 : STORE_OPEN_READONLY);
	if (want_count >= 0)
	    assert_int_equal(folder->count, want_count);
	for (i = 1; i <= folder->count; i++) {
	    read_msg(folder, i, buf, 4096);
	    assert_int_equal(LEN(buf), store_msg(folder, i)->size);
	    assert_int_equal(crlf_size(STR(buf), LEN(buf)), store_msg(folder, i)->vsize);
	}
	if (pass == 1 && folder->count > 0)
	    assert_int_equal(store_expunge(folder, (unsigned[]) {
		store_msg(folder, 1)->uid}, 1, why), 0);
	store_close(folder);
    }
    vstring_free(path);
    vstring_free(buf);
}

#define FROM	"From a@b  Mon Nov 23 15:07:19 2026\n"
#define TRY_BAD(name, lit, count) try_bad((name), (lit), sizeof(lit) - 1, (count))

/* Bad input: messages or clean errors, never a crash */
static void test_bad_input(void **state)
{
    VSTRING *big = vstring_alloc(1100000);
    VSTRING *path = vstring_alloc(100);
    STORE_FOLDER *folder;
    struct stat st;
    int     i;

    TRY_BAD("empty", "", 0);
    TRY_BAD("junk-only", "junk\n\nmore junk\n", 0);
    TRY_BAD("junk", "junk\nFrom no\n\n" FROM "Subject: x\n\nbody\n\n", 1);
    TRY_BAD("no-newline", FROM "Subject: x\n\nbody", 1);
    TRY_BAD("crlf", "From a  Mon Nov 23 15:07:19 2026\r\nSubject: x\r\n\r\nbody\r\n\r\n"
	    "From b  Mon Nov 23 15:07:19 2026\r\nX-UID: 3\r\nS: y\r\n\r\nb2\r\n\r\n", 2);
    TRY_BAD("nul", FROM "S: \0x\n\nbo\0dy\n\n", 1);
    TRY_BAD("truncated", FROM "Subj", 1);
    TRY_BAD("from-only", "From ", 1);
    TRY_BAD("binary", "From \xff\xfe\n\x01\x02\n\nFrom \n\n\n", 2);
    TRY_BAD("bad-base", FROM "X-IMAPbase: 0 junk\nX-UID: x\n\nb\n", 1);
    TRY_BAD("huge-base", FROM "X-IMAPbase: 5 4294967295\nX-UID: 3\n\nb\n", 1);
    TRY_BAD("bad-cl", FROM "Content-Length: 99999\n\nb\n\n" FROM "\nc\n", 2);
    TRY_BAD("cl-cut", FROM "Content-Length: 3\n\nabcd\nFrom x\n\n" FROM "\nc\n", 2);

    /* a 1 MB header line, and a 1 MB value of one of our fields */
    vstring_strcpy(big, FROM "X-Long: ");
    for (i = 0; i < 1024 * 1024; i++)
	vstring_addch(big, 'a' + i % 26);
    vstring_strcat(big, "\nX-Keywords: ");
    for (i = 0; i < 1024 * 1024; i++)
	vstring_addch(big, i % 7 ? 'k' : ' ');
    vstring_strcat(big, "\n\nbody\n");
    try_bad("huge-header", STR(big), LEN(big), 1);
    mbox_path(path, "huge-header");
    write_file(STR(path), STR(big), LEN(big));
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(store_msg(folder, 1)->size, 8 + 1024 * 1024 + 1 + 6);
    store_close(folder);

    /* a From_ line without a date: the file's time */
    mbox_path(path, "nodate");
    write_file(STR(path), "From \nS: x\n\nb\n", 14);
    assert_int_equal(stat(STR(path), &st), 0);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->count, 1);
    assert_int_equal(store_msg(folder, 1)->received, st.st_mtime);
    store_close(folder);

    /* not a regular file, missing */
    assert_null(store_open(STORE_KIND_MBOX, topdir, 0, why));
    assert_non_null(strstr(STR(why), "directory"));
    mbox_path(path, "missing");
    assert_null(store_open(STORE_KIND_MBOX, STR(path), 0, why));
    assert_non_null(strstr(STR(why), "cannot open mailbox"));
    vstring_free(big);
    vstring_free(path);
}

/* 10,000 messages, 50 MB: parse time */
static void test_speed(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *text = vstring_alloc(6000);
    VSTRING *all = vstring_alloc(100);
    STORE_FOLDER *folder;
    struct timeval t0, t1;
    double  secs;
    int     i, fd;

    mbox_path(path, "big");
    vstring_strcpy(text, "Subject: a test message\nFrom: a@b.c\n\n");
    while (LEN(text) < 5000)
	vstring_strcat(text, "The quick brown fox jumps over the lazy dog; 0123456789.\n");
    fd = open(STR(path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    for (i = 0; i < 10000; i++) {
	vstring_sprintf(all, FROM "%s\n", STR(text));
	assert_int_equal(write(fd, STR(all), LEN(all)), (ssize_t) LEN(all));
    }
    close(fd);
    gettimeofday(&t0, 0);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    gettimeofday(&t1, 0);
    secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
    print_message("parse of 10,000 messages (%.0f MB): %.3f s\n",
		  10000.0 * LEN(all) / 1e6, secs);
    assert_int_equal(folder->count, 10000);
    assert_int_equal(store_msg(folder, 10000)->uid, 10000);
    assert_int_equal(store_msg(folder, 10000)->size, (off_t) LEN(text));
    assert_true(secs < 5.0);
    store_close(folder);

    /* \Seen on every message in one batch: one rewrite */
    folder = open_mbox(STR(path), 0);
    gettimeofday(&t0, 0);
    store_change_begin(folder);
    for (i = 1; i <= 10000; i++)
	assert_int_equal(store_set_flags(folder, store_msg(folder, i), STORE_SEEN,
					 0, why), 0);
    assert_int_equal(store_change_end(folder, why), 0);
    gettimeofday(&t1, 0);
    print_message("\\Seen on 10,000 messages in a batch: %.3f s\n",
		  (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6);
    store_close(folder);
    folder = open_mbox(STR(path), STORE_OPEN_READONLY);
    assert_int_equal(folder->count, 10000);
    assert_int_equal(store_msg(folder, 1)->flags, STORE_SEEN);
    assert_int_equal(store_msg(folder, 10000)->flags, STORE_SEEN);
    store_close(folder);
    vstring_free(path);
    vstring_free(text);
    vstring_free(all);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_deliver_open),
	cmocka_unit_test(test_readonly),
	cmocka_unit_test(test_sync_new_mail),
	cmocka_unit_test(test_expunge),
	cmocka_unit_test(test_flags),
	cmocka_unit_test(test_append),
	cmocka_unit_test(test_batch),
	cmocka_unit_test(test_two_sessions),
	cmocka_unit_test(test_rewrite_fails),
	cmocka_unit_test(test_disk_full),
	cmocka_unit_test(test_dovecot_headers),
	cmocka_unit_test(test_bad_input),
	cmocka_unit_test(test_speed),
    };

    msg_init("test_store_mbox", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
