/*
 * test_store_maildir.c - unit tests for lib/store/store_maildir.c (the
 * Maildir driver of store.h), through the store.h interface.
 *
 * New folders, UIDs in arrival order that survive reopening, new mail and
 * files deleted behind the view's back at sync, expunge, flags and
 * keywords in file names, append with its UID (in new/, \Recent, also
 * with flags), batches (a Maildir writes at once), read-only views that
 * write nothing (and keep their in-memory UIDs unique), two sessions on
 * one folder, Dovecot-written and version 1 uidlists, bad uidlists, odd
 * file names, symbolic links, stale and held locks, files renamed or
 * doubled behind the view's back, dovecot-keywords with gaps, a uidlist
 * that disappears (new UIDVALIDITY), sizes from names and computed (a CR
 * LF in the content adds no CR, also across a 64 KB boundary), syncs
 * that skip reading unchanged directories yet see every change (this
 * one waits a few seconds for old time stamps), and
 * a 10,000-message folder (one uidlist write; the times are printed, not
 * asserted).  Every test works in its own Maildir under one temporary
 * directory; nothing here needs Dovecot.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"
#include "maildir_uidlist.h"
#include "store_maildir_priv.h"

static char topdir[] = "/tmp/test_store_maildirXXXXXX";

#define GUID	"b2077e0dc594146b481e000083ecc375"

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
 * Helpers.
 */

/* source - MAILBOX_SOURCE for a string */

static int source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    const char *text = (const char *) ctx;

    return (write_fn(sink, text, strlen(text)));
}

/* split_source - TEXT in pieces of 65536 bytes (as a reader sees it) */

static int split_source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    const char *text = (const char *) ctx;
    size_t  len = strlen(text), done, n;

    for (done = 0; done < len; done += n) {
	n = len - done < 65536 ? len - done : 65536;
	if (write_fn(sink, text + done, n) != 0)
	    return (-1);
    }
    return (0);
}

/* maildir - the path of test Maildir NAME (a new VSTRING) */

static VSTRING *maildir(const char *name)
{
    VSTRING *md = vstring_alloc(100);

    vstring_sprintf(md, "%s/%s", topdir, name);
    return (md);
}

/* deliver - local delivery of TEXT into MD */

static void deliver(VSTRING *md, const char *text)
{
    VSTRING *why = vstring_alloc(100);
    int     temporary;

    if (maildir_deliver(STR(md), geteuid(), source, (void *) text, why,
			&temporary) != 0)
	fail_msg("maildir_deliver: %s", STR(why));
    vstring_free(why);
}

/* write_file - create PATH (relative to MD) with TEXT */

static void write_file(VSTRING *md, const char *path, const char *text,
		               size_t len)
{
    VSTRING *full = vstring_alloc(100);
    int     fd;

    vstring_sprintf(full, "%s/%s", STR(md), path);
    fd = open(STR(full), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t) len);
    close(fd);
    vstring_free(full);
}

#define WRITE_TEXT(md, path, text) write_file((md), (path), (text), strlen(text))

/* read_file - the content of PATH (relative to MD); -1 if missing */

static int read_file(VSTRING *md, const char *path, VSTRING *buf)
{
    VSTRING *full = vstring_alloc(100);
    char    tmp[4096];
    ssize_t n;
    int     fd;

    vstring_sprintf(full, "%s/%s", STR(md), path);
    vstring_reset(buf);
    fd = open(STR(full), O_RDONLY);
    vstring_free(full);
    if (fd < 0)
	return (-1);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
    return (0);
}

/* make_maildir - MD with tmp/ new/ cur/, no control files */

static void make_maildir(VSTRING *md)
{
    VSTRING *path = vstring_alloc(100);
    const char *subs[] = {"", "/tmp", "/new", "/cur"};

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
	vstring_sprintf(path, "%s%s", STR(md), subs[i]);
	assert_int_equal(mkdir(STR(path), 0700), 0);
    }
    vstring_free(path);
}

/* open_folder - store_open that must work */

static STORE_FOLDER *open_folder(VSTRING *md, int flags)
{
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder;

    folder = store_open(STORE_KIND_MAILDIR, STR(md), flags, why);
    if (folder == 0)
	fail_msg("store_open %s: %s", STR(md), STR(why));
    vstring_free(why);
    return (folder);
}

/* sync_folder - store_sync that must work */

static void sync_folder(STORE_FOLDER *folder, int flags)
{
    VSTRING *why = vstring_alloc(100);

    if (store_sync(folder, flags, why) != 0)
	fail_msg("store_sync: %s", STR(why));
    vstring_free(why);
}

/* msg_text - the content of message SEQ, through a STORE_STREAM */

static void msg_text(STORE_FOLDER *folder, int seq, VSTRING *buf)
{
    VSTRING *why = vstring_alloc(100);
    STORE_STREAM *stream;
    char    tmp[7];				/* small: many reads */
    ssize_t n;

    vstring_reset(buf);
    stream = store_msg_open(folder, store_msg(folder, seq), why);
    if (stream == 0)
	fail_msg("store_msg_open %d: %s", seq, STR(why));
    while ((n = store_read(stream, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    assert_int_equal(n, 0);
    store_msg_close(stream);
    vstring_free(why);
}

/* assert_uids - the view's UIDs are exactly UIDS[] */

static void assert_uids(STORE_FOLDER *folder, const unsigned *uids, int count)
{
    assert_int_equal(folder->count, count);
    for (int i = 0; i < count; i++)
	assert_int_equal(store_view_msgs(folder)[i].uid, uids[i]);
}

/* assert_text - message SEQ has TEXT */

static void assert_text(STORE_FOLDER *folder, int seq, const char *text)
{
    VSTRING *buf = vstring_alloc(100);

    msg_text(folder, seq, buf);
    assert_string_equal(STR(buf), text);
    vstring_free(buf);
}

/* uidlist_text - dovecot-uidlist of MD */

static void uidlist_text(VSTRING *md, VSTRING *buf)
{
    assert_int_equal(read_file(md, MAILDIR_UIDLIST_FILE, buf), 0);
}

/* snapshot - every name, size, inode and time under MD, as text */

static void snapshot(VSTRING *md, VSTRING *out)
{
    const char *subs[] = {"", "/tmp", "/new", "/cur"};
    VSTRING *dir = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    struct dirent *de;
    struct stat st;
    DIR    *dp;

    vstring_reset(out);
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
	vstring_sprintf(dir, "%s%s", STR(md), subs[i]);
	assert_non_null(dp = opendir(STR(dir)));
	while ((de = readdir(dp)) != 0) {
	    vstring_sprintf(path, "%s/%s", STR(dir), de->d_name);
	    assert_int_equal(lstat(STR(path), &st), 0);
	    if (strcmp(de->d_name, "..") == 0 || strcmp(de->d_name, ".") == 0)
		continue;
	    vstring_sprintf_append(out, "%s %ld %ld %ld.%09ld\n", STR(path),
				   (long) st.st_size, (long) st.st_ino,
				   (long) st.st_mtim.tv_sec,
				   (long) st.st_mtim.tv_nsec);
	}
	closedir(dp);
    }
    vstring_free(dir);
    vstring_free(path);
}

/* external_rename - rename the file of message SEQ as another process would */

static void external_rename(VSTRING *md, STORE_FOLDER *folder, int seq,
			            const char *new_file)
{
    VSTRING *from = vstring_alloc(100);
    VSTRING *to = vstring_alloc(100);

    vstring_sprintf(from, "%s/%s", STR(md), store_msg(folder, seq)->file);
    vstring_sprintf(to, "%s/%s", STR(md), new_file);
    assert_int_equal(rename(STR(from), STR(to)), 0);
    vstring_free(from);
    vstring_free(to);
}

/* base_of - "cur/BASE:2,.." -> BASE (static buffer) */

static const char *base_of(const STORE_MSG *msg)
{
    static char buf[512];

    snprintf(buf, sizeof(buf), "%.*s", (int) strcspn(msg->file + 4, ":"),
	     msg->file + 4);
    return (buf);
}

/*
 * Tests.
 */

static const char *texts[] = {
    "Subject: one\n\nbody one\n",
    "Subject: two\n\nbody two\nline\n",
    "Subject: three\n\n\n",
    "Subject: four\n\nfour\n",
    "Subject: five\n\nfive\n",
};

/* A new Maildir; delivered mail gets UIDs 1..n in arrival order; reopen */

static void test_create_and_reopen(void **state)
{
    VSTRING *md = maildir("create");
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    struct stat st;
    unsigned validity;
    unsigned uids[] = {1, 2, 3};
    int     i;

    /* missing, no CREATE */
    assert_null(store_open(STORE_KIND_MAILDIR, STR(md), 0, why));
    assert_non_null(strstr(STR(why), "no such folder"));
    folder = open_folder(md, STORE_OPEN_CREATE);
    assert_int_equal(folder->count, 0);
    assert_int_not_equal(folder->uidvalidity, 0);
    assert_int_equal(folder->uidnext, 1);
    validity = folder->uidvalidity;
    store_close(folder);
    vstring_sprintf(buf, "%s/cur", STR(md));
    assert_int_equal(stat(STR(buf), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    uidlist_text(md, buf);
    assert_true(strncmp(STR(buf), "3 V", 3) == 0);

    for (i = 0; i < 3; i++)
	deliver(md, texts[i]);
    folder = open_folder(md, 0);
    assert_int_equal(folder->uidvalidity, validity);
    assert_uids(folder, uids, 3);
    assert_int_equal(folder->uidnext, 4);
    for (i = 0; i < 3; i++) {
	STORE_MSG *msg = store_msg(folder, i + 1);

	assert_text(folder, i + 1, texts[i]);
	assert_true(msg->flags & STORE_RECENT);
	assert_true(strncmp(msg->file, "new/", 4) == 0);
	assert_int_equal(msg->size, strlen(texts[i]));
	assert_int_equal(msg->received, -1);
    }
    assert_null(store_msg(folder, 4));
    assert_int_equal(store_uid_seq(folder, 2), 2);
    store_close(folder);

    /* again: the same numbers */
    folder = open_folder(md, 0);
    assert_int_equal(folder->uidvalidity, validity);
    assert_uids(folder, uids, 3);
    for (i = 0; i < 3; i++)
	assert_text(folder, i + 1, texts[i]);
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(buf);
}

/* New mail appears at sync with the next UID; deletions behind our back */

static void test_sync_changes(void **state)
{
    VSTRING *md = maildir("sync");
    VSTRING *path = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uids1[] = {1, 2};
    unsigned uids2[] = {1, 2, 3};
    unsigned uids3[] = {1, 3};
    unsigned uids4[] = {1, 3, 4};

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    folder = open_folder(md, 0);
    assert_uids(folder, uids1, 2);
    deliver(md, texts[2]);
    assert_uids(folder, uids1, 2);		/* no sync, no change */
    sync_folder(folder, 0);
    assert_uids(folder, uids2, 3);
    assert_int_equal(folder->uidnext, 4);
    assert_text(folder, 1, texts[0]);
    assert_text(folder, 3, texts[2]);

    /* another process removes message 2 */
    vstring_sprintf(path, "%s/%s", STR(md), store_msg(folder, 2)->file);
    assert_int_equal(unlink(STR(path)), 0);
    sync_folder(folder, 0);
    assert_uids(folder, uids3, 2);
    deliver(md, texts[3]);
    sync_folder(folder, 0);
    assert_uids(folder, uids4, 3);		/* 2 is never used again */
    assert_text(folder, 3, texts[3]);
    store_close(folder);
    vstring_free(md);
    vstring_free(path);
}

/* Expunge removes files and uidlist entries; UIDs are not reused */

static void test_expunge(void **state)
{
    VSTRING *md = maildir("expunge");
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned gone[] = {2, 99};
    unsigned uids1[] = {1, 3};
    unsigned uids2[] = {1, 3, 4};
    unsigned uids3[] = {3, 4};
    unsigned first = 1;

    for (int i = 0; i < 3; i++)
	deliver(md, texts[i]);
    folder = open_folder(md, 0);
    vstring_strcpy(name, base_of(store_msg(folder, 2)));
    vstring_sprintf(path, "%s/%s", STR(md), store_msg(folder, 2)->file);
    assert_int_equal(store_expunge(folder, gone, 2, why), 0);
    assert_uids(folder, uids1, 2);
    assert_int_equal(access(STR(path), F_OK), -1);
    uidlist_text(md, buf);
    assert_null(strstr(STR(buf), STR(name)));
    assert_non_null(strstr(STR(buf), " N4 "));
    store_close(folder);

    folder = open_folder(md, 0);
    assert_uids(folder, uids1, 2);
    deliver(md, texts[3]);
    sync_folder(folder, 0);
    assert_uids(folder, uids2, 3);
    /* a file already deleted by someone else: no error */
    vstring_sprintf(path, "%s/%s", STR(md), store_msg(folder, 1)->file);
    assert_int_equal(unlink(STR(path)), 0);
    assert_int_equal(store_expunge(folder, &first, 1, why), 0);
    assert_uids(folder, uids3, 2);
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(buf);
    vstring_free(name);
    vstring_free(path);
}

/* Flags and keywords: renames, dovecot-keywords, reopen */

static void test_flags_keywords(void **state)
{
    VSTRING *md = maildir("flags");
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *expect = vstring_alloc(100);
    STORE_FOLDER *folder;
    STORE_MSG *msg;

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    folder = open_folder(md, 0);
    assert_int_equal(store_keyword(folder, "Junk", 1, why), 0);
    assert_int_equal(store_keyword(folder, "$Forwarded", 1, why), 1);
    assert_int_equal(store_keyword(folder, "junk", 0, why), 0);
    assert_int_equal(store_keyword(folder, "Other", 0, why), -1);
    assert_int_equal(store_keyword(folder, "bad\nname", 1, why), -1);
    assert_int_equal(store_keyword(folder, "", 1, why), -1);
    assert_int_equal(folder->keyword_count, 2);
    assert_int_equal(read_file(md, "dovecot-keywords", buf), 0);
    assert_string_equal(STR(buf), "0 Junk\n1 $Forwarded\n");

    msg = store_msg(folder, 1);
    store_change_begin(folder);			/* a Maildir writes at once */
    if (store_set_flags(folder, msg, STORE_SEEN | STORE_FLAGGED, 3, why) != 0)
	fail_msg("store_set_flags: %s", STR(why));
    vstring_sprintf(expect, "cur/%s:2,FSab", base_of(msg));
    assert_string_equal(msg->file, STR(expect));
    assert_int_equal(read_file(md, STR(expect), buf), 0);
    assert_int_equal(store_change_end(folder, why), 0);
    assert_int_equal(msg->flags, STORE_SEEN | STORE_FLAGGED | STORE_RECENT);
    assert_int_equal(msg->keywords, 3);
    assert_text(folder, 1, texts[0]);
    assert_int_equal(store_set_flags(folder, msg, STORE_ANSWERED | STORE_DRAFT
				     | STORE_DELETED, 2, why), 0);
    vstring_sprintf(expect, "cur/%s:2,DRTb", base_of(msg));
    assert_string_equal(msg->file, STR(expect));
    /* keyword bits beyond the 26 letters */
    assert_int_equal(store_set_flags(folder, msg, 0, 1U << 26, why), -1);
    store_close(folder);

    folder = open_folder(md, 0);
    assert_int_equal(folder->keyword_count, 2);
    assert_string_equal(folder->keywords[0], "Junk");
    assert_string_equal(folder->keywords[1], "$Forwarded");
    msg = store_msg(folder, 1);
    assert_int_equal(msg->flags, STORE_ANSWERED | STORE_DRAFT | STORE_DELETED);
    assert_int_equal(msg->keywords, 2);
    assert_int_equal(store_msg(folder, 2)->flags, STORE_RECENT);

    /* P (passed) and unknown letters stay when flags change */
    vstring_sprintf(expect, "cur/%s:2,PRZb", base_of(msg));
    external_rename(md, folder, 1, STR(expect));
    sync_folder(folder, 0);
    assert_string_equal(msg->file, STR(expect));
    assert_int_equal(msg->flags, STORE_ANSWERED);
    assert_int_equal(store_set_flags(folder, msg, STORE_SEEN, 1, why), 0);
    vstring_sprintf(expect, "cur/%s:2,PSZa", base_of(msg));
    assert_string_equal(msg->file, STR(expect));
    /* clearing every flag of a message in new/ moves it to cur/ */
    msg = store_msg(folder, 2);
    assert_int_equal(store_set_flags(folder, msg, STORE_SEEN, 0, why), 0);
    assert_int_equal(store_set_flags(folder, msg, 0, 0, why), 0);
    vstring_sprintf(expect, "cur/%s:2,", base_of(msg));
    assert_string_equal(msg->file, STR(expect));
    assert_true(msg->flags & STORE_RECENT);
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(buf);
    vstring_free(expect);
}

/* Append: the UID at once, the message at the next sync */

static void test_append(void **state)
{
    VSTRING *md = maildir("append");
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    STORE_MSG *msg;
    unsigned uid = 0;
    unsigned uids[] = {1, 2, 3};

    deliver(md, texts[0]);
    folder = open_folder(md, 0);
    assert_int_equal(store_keyword(folder, "Work", 1, why), 0);
    if (store_append(folder, source, (void *) texts[1], STORE_SEEN, 1,
		     1000000000, &uid, why) != 0)
	fail_msg("store_append: %s", STR(why));
    assert_int_equal(uid, 2);
    assert_int_equal(folder->count, 1);
    assert_int_equal(store_append(folder, source, (void *) texts[2], 0, 0, 0,
				  &uid, why), 0);
    assert_int_equal(uid, 3);
    sync_folder(folder, 0);
    assert_uids(folder, uids, 3);
    assert_int_equal(folder->uidnext, 4);
    msg = store_msg(folder, 2);
    /* with flags too in new/, so \Recent as RFC 3501 asks */
    assert_int_equal(msg->flags, STORE_SEEN | STORE_RECENT);
    assert_int_equal(msg->keywords, 1);
    assert_true(strncmp(msg->file, "new/", 4) == 0);
    assert_non_null(strstr(msg->file, ":2,Sa"));
    assert_int_equal(store_msg_sizes(folder, msg, why), 0);
    assert_int_equal(msg->received, 1000000000);
    assert_text(folder, 2, texts[1]);
    msg = store_msg(folder, 3);
    assert_int_equal(msg->flags, STORE_RECENT);
    assert_true(strncmp(msg->file, "new/", 4) == 0);
    assert_text(folder, 3, texts[2]);
    uidlist_text(md, buf);
    assert_non_null(strstr(STR(buf), " N4 "));
    /* claimed: to cur/ with its flags; still \Recent in this view only */
    sync_folder(folder, STORE_SYNC_CLAIM_NEW);
    msg = store_msg(folder, 2);
    assert_true(strncmp(msg->file, "cur/", 4) == 0);
    assert_non_null(strstr(msg->file, ":2,Sa"));
    assert_int_equal(msg->flags, STORE_SEEN | STORE_RECENT);
    store_close(folder);
    folder = open_folder(md, 0);
    assert_int_equal(store_msg(folder, 2)->flags, STORE_SEEN);
    assert_int_equal(store_msg(folder, 2)->keywords, 1);
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(buf);
}

/* IMAP's sync moves new/ to cur/; \Recent stays in that view only */

static void test_claim_new(void **state)
{
    VSTRING *md = maildir("claim");
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder, *other;
    STORE_MSG *msg;

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    folder = open_folder(md, 0);
    sync_folder(folder, STORE_SYNC_CLAIM_NEW);
    for (int i = 1; i <= 2; i++) {
	msg = store_msg(folder, i);
	assert_true(strncmp(msg->file, "cur/", 4) == 0);
	assert_non_null(strstr(msg->file, ":2,"));
	assert_int_equal(msg->flags, STORE_RECENT);
	assert_int_equal(read_file(md, msg->file, buf), 0);
    }
    other = open_folder(md, 0);
    assert_int_equal(other->count, 2);
    assert_int_equal(store_msg(other, 1)->flags, 0);
    store_close(other);
    store_close(folder);
    vstring_free(md);
    vstring_free(buf);
}

/* A read-only view writes nothing, its UIDs in memory are stable */

static void test_readonly(void **state)
{
    VSTRING *md = maildir("readonly");
    VSTRING *why = vstring_alloc(100);
    VSTRING *before = vstring_alloc(1000);
    VSTRING *after = vstring_alloc(1000);
    STORE_FOLDER *folder, *writer;
    unsigned uid = 0;
    unsigned uids2[] = {1, 2};
    unsigned uids3[] = {1, 2, 3};

    /* READONLY never creates */
    assert_null(store_open(STORE_KIND_MAILDIR, STR(md), STORE_OPEN_READONLY
			   | STORE_OPEN_CREATE, why));
    assert_int_equal(access(STR(md), F_OK), -1);

    /* a Maildir local made: no uidlist yet */
    deliver(md, texts[0]);
    deliver(md, texts[1]);
    snapshot(md, before);
    folder = open_folder(md, STORE_OPEN_READONLY);
    assert_uids(folder, uids2, 2);
    assert_text(folder, 2, texts[1]);
    sync_folder(folder, STORE_SYNC_CLAIM_NEW);
    assert_int_equal(store_expunge(folder, uids2, 1, why), -1);
    assert_int_equal(store_set_flags(folder, store_msg(folder, 1), STORE_SEEN,
				     0, why), -1);
    assert_int_equal(store_append(folder, source, (void *) texts[2], 0, 0, 0,
				  &uid, why), -1);
    assert_int_equal(store_keyword(folder, "New", 1, why), -1);
    assert_int_equal(store_msg_sizes(folder, store_msg(folder, 1), why), 0);
    snapshot(md, after);
    assert_string_equal(STR(before), STR(after));

    /* new mail: the next UID in memory, the old ones kept */
    deliver(md, texts[2]);
    snapshot(md, before);
    sync_folder(folder, 0);
    assert_uids(folder, uids3, 3);
    assert_text(folder, 3, texts[2]);
    sync_folder(folder, 0);
    assert_uids(folder, uids3, 3);
    snapshot(md, after);
    assert_string_equal(STR(before), STR(after));

    /* a writer numbers them the same way */
    writer = open_folder(md, 0);
    assert_uids(writer, uids3, 3);
    for (int i = 1; i <= 3; i++)
	assert_string_equal(base_of(store_msg(writer, i)),
			    base_of(store_msg(folder, i)));
    store_close(writer);
    sync_folder(folder, 0);			/* reads the real list now */
    assert_uids(folder, uids3, 3);

    /*
     * A read-only view numbered a file in memory (4) before a writer gave
     * 4 to another one: the view keeps its numbers unique and ascending.
     */
    deliver(md, texts[3]);
    sync_folder(folder, 0);
    assert_int_equal(store_msg(folder, 4)->uid, 4);
    WRITE_TEXT(md, "cur/1.M1P1.other:2,S", texts[4]);
    uidlist_text(md, before);
    vstring_strcat(before, "4 :1.M1P1.other\n");
    WRITE_TEXT(md, "uidlist.new", STR(before));
    vstring_sprintf(before, "%s/uidlist.new", STR(md));
    vstring_sprintf(after, "%s/%s", STR(md), MAILDIR_UIDLIST_FILE);
    assert_int_equal(rename(STR(before), STR(after)), 0);
    sync_folder(folder, 0);
    assert_int_equal(folder->count, 5);
    for (int i = 1; i < folder->count; i++)
	assert_true(store_view_msgs(folder)[i].uid > store_view_msgs(folder)[i - 1].uid);
    assert_text(folder, 4, texts[3]);
    assert_int_equal(store_msg(folder, 4)->uid, 4);
    assert_text(folder, 5, texts[4]);
    assert_int_equal(store_msg(folder, 5)->uid, 5);
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(before);
    vstring_free(after);
}

/* Two sessions on one folder see each other's changes after sync */

static void test_two_sessions(void **state)
{
    VSTRING *md = maildir("two");
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *a, *b;
    unsigned uid = 0;
    unsigned two = 2;
    unsigned uids3[] = {1, 2, 3};
    unsigned uids13[] = {1, 3};

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    a = open_folder(md, 0);
    b = open_folder(md, 0);
    assert_int_equal(a->uidvalidity, b->uidvalidity);
    assert_int_equal(store_append(a, source, (void *) texts[2], 0, 0, 0, &uid,
				  why), 0);
    assert_int_equal(uid, 3);
    sync_folder(b, 0);
    sync_folder(a, 0);
    assert_uids(a, uids3, 3);
    assert_uids(b, uids3, 3);
    assert_text(b, 3, texts[2]);

    /* flags */
    assert_int_equal(store_set_flags(a, store_msg(a, 1), STORE_SEEN, 0, why), 0);
    assert_int_equal(store_msg(b, 1)->flags & STORE_SEEN, 0);
    sync_folder(b, 0);
    assert_int_equal(store_msg(b, 1)->flags & STORE_SEEN, STORE_SEEN);
    assert_string_equal(store_msg(b, 1)->file, store_msg(a, 1)->file);

    /* a file renamed by the other session is found without a sync */
    assert_int_equal(store_set_flags(b, store_msg(b, 3), STORE_FLAGGED, 0, why), 0);
    assert_text(a, 3, texts[2]);
    assert_string_equal(store_msg(a, 3)->file, store_msg(b, 3)->file);

    /*
     * changes to one message from both sessions, each on a view that has
     * not seen the other's: both stay (a adds \Answered, b removes
     * \Flagged and adds \Draft on its stale view of \Flagged)
     */
    sync_folder(a, 0);
    sync_folder(b, 0);
    assert_int_equal(store_set_flags(a, store_msg(a, 3), STORE_FLAGGED | STORE_ANSWERED,
				     0, why), 0);
    assert_int_equal(store_set_flags(b, store_msg(b, 3), STORE_DRAFT, 0, why), 0);
    assert_int_equal(store_msg(b, 3)->flags & ~STORE_RECENT, STORE_ANSWERED | STORE_DRAFT);
    sync_folder(a, 0);
    assert_int_equal(store_msg(a, 3)->flags & ~STORE_RECENT, STORE_ANSWERED | STORE_DRAFT);
    assert_string_equal(store_msg(a, 3)->file, store_msg(b, 3)->file);
    assert_int_equal(store_set_flags(a, store_msg(a, 2), STORE_DELETED, 0, why), 0);

    /* expunge */
    assert_int_equal(store_expunge(b, &two, 1, why), 0);
    assert_uids(a, uids3, 3);
    sync_folder(a, 0);
    assert_uids(a, uids13, 2);

    /* keywords: an index the other session took meanwhile */
    assert_int_equal(store_keyword(a, "Work", 1, why), 0);
    assert_int_equal(store_keyword(b, "Home", 1, why), -1);
    assert_non_null(strstr(STR(why), "try again"));
    assert_int_equal(b->keyword_count, 1);
    assert_string_equal(b->keywords[0], "Work");
    assert_int_equal(store_keyword(b, "Home", 1, why), 1);
    sync_folder(a, 0);
    assert_int_equal(a->keyword_count, 2);
    assert_string_equal(a->keywords[1], "Home");
    assert_int_equal(store_keyword(a, "home", 1, why), 1);
    store_close(a);
    store_close(b);
    vstring_free(md);
    vstring_free(why);
}

/* A uidlist as Dovecot writes it, with extension fields */

static void test_dovecot_uidlist(void **state)
{
    VSTRING *md = maildir("dovecot");
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    STORE_MSG *msg;
    unsigned uid = 0;
    unsigned uids[] = {1, 3, 4};
    unsigned uids5[] = {1, 3, 4, 5};

    make_maildir(md);
    WRITE_TEXT(md, "new/1796510917.M226351P7752.vm,S=19,W=22:2,Sab",
	       "Subject: one\n\nbody\n");
    WRITE_TEXT(md, "new/1796511000.M1P1.host", "Subject: three\n\nx\ny\n");
    WRITE_TEXT(md, "cur/1796511001.M1P1.host:2,S", "Subject: four\n\nx\n");
    WRITE_TEXT(md, "dovecot-keywords", "0 $Forwarded\n1 Junk\n");
    WRITE_TEXT(md, MAILDIR_UIDLIST_FILE,
	       "3 V1796510917 N5 G" GUID "\n"
	       "1 :1796510917.M226351P7752.vm,S=19,W=22\n"
	       "2 :1796510917.M246948P7756.vm,S=28,W=32\n"
	       "3 W23 S20 :1796511000.M1P1.host\n"
	       "4 G0123456789abcdef0123456789abcdef P1234 :1796511001.M1P1.host:2,S\n");
    folder = open_folder(md, 0);
    assert_int_equal(folder->uidvalidity, 1796510917u);
    assert_int_equal(folder->uidnext, 5);
    assert_uids(folder, uids, 3);
    msg = store_msg(folder, 1);
    assert_int_equal(msg->flags, STORE_SEEN | STORE_RECENT);
    assert_int_equal(msg->keywords, 3);
    assert_int_equal(msg->size, 19);
    assert_int_equal(msg->vsize, 22);
    assert_int_equal(folder->keyword_count, 2);
    assert_string_equal(folder->keywords[1], "Junk");
    msg = store_msg(folder, 2);
    assert_int_equal(msg->size, 20);		/* from the uidlist */
    assert_int_equal(msg->vsize, 23);
    assert_int_equal(store_msg(folder, 3)->flags, STORE_SEEN);

    /* a rewrite keeps the header and the extension fields */
    assert_int_equal(store_append(folder, source, (void *) texts[0], 0, 0, 0,
				  &uid, why), 0);
    assert_int_equal(uid, 5);
    uidlist_text(md, buf);
    assert_true(strncmp(STR(buf), "3 V1796510917 N6 G" GUID "\n"
			"1 :1796510917.M226351P7752.vm,S=19,W=22\n"
			"2 :1796510917.M246948P7756.vm,S=28,W=32\n"
			"3 W23 S20 :1796511000.M1P1.host\n"
			"4 G0123456789abcdef0123456789abcdef P1234 "
			":1796511001.M1P1.host\n"
			"5 :", strlen("3 V1796510917 N6 G" GUID "\n")) == 0);
    assert_non_null(strstr(STR(buf), "\n3 W23 S20 :1796511000.M1P1.host\n"
			   "4 G0123456789abcdef0123456789abcdef P1234 "
			   ":1796511001.M1P1.host\n5 :"));
    sync_folder(folder, 0);
    assert_uids(folder, uids5, 4);
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(buf);
}

/* Version 1 (Courier-style) uidlist */

static void test_uidlist_v1(void **state)
{
    VSTRING *md = maildir("v1");
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uids[] = {3, 7};
    unsigned uids3[] = {3, 7, 10};

    make_maildir(md);
    WRITE_TEXT(md, "cur/1111.M1P1.a:2,S", texts[0]);
    WRITE_TEXT(md, "cur/2222.M1P1.b:2,", texts[1]);
    WRITE_TEXT(md, MAILDIR_UIDLIST_FILE, "1 1234567 10\n3 1111.M1P1.a\n"
	       "7 2222.M1P1.b:2,S\n");
    folder = open_folder(md, 0);
    assert_int_equal(folder->uidvalidity, 1234567);
    assert_int_equal(folder->uidnext, 10);
    assert_uids(folder, uids, 2);
    assert_text(folder, 2, texts[1]);
    WRITE_TEXT(md, "new/3333.M1P1.c", texts[2]);
    sync_folder(folder, 0);
    assert_uids(folder, uids3, 3);
    uidlist_text(md, buf);
    assert_true(strncmp(STR(buf), "3 V1234567 N11 G", 16) == 0);
    assert_non_null(strstr(STR(buf), "\n3 :1111.M1P1.a\n7 :2222.M1P1.b\n10 :3333.M1P1.c\n"));
    store_close(folder);
    vstring_free(md);
    vstring_free(buf);
}

/* uidlist_case - a Maildir with FILES (in cur/) and uidlist DATA; the UIDs
 * the files get, in file order, into UIDS */

static unsigned uidlist_case(const char *name, const char *data, size_t len,
			             const char **files, int nfiles, unsigned *uids)
{
    VSTRING *md = maildir(name);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned validity;
    int     i, seq;

    make_maildir(md);
    for (i = 0; i < nfiles; i++) {
	vstring_sprintf(buf, "cur/%s", files[i]);
	WRITE_TEXT(md, STR(buf), files[i]);
    }
    write_file(md, MAILDIR_UIDLIST_FILE, data, len);
    folder = open_folder(md, 0);
    assert_int_equal(folder->count, nfiles);
    for (i = 0; i < nfiles; i++) {
	uids[i] = 0;
	for (seq = 1; seq <= folder->count; seq++)
	    if (strcmp(store_msg(folder, seq)->file + 4, files[i]) == 0)
		uids[i] = store_msg(folder, seq)->uid;
	assert_int_not_equal(uids[i], 0);
    }
    validity = folder->uidvalidity;
    store_close(folder);
    /* what was written reads back to the same */
    folder = open_folder(md, STORE_OPEN_READONLY);
    assert_int_equal(folder->uidvalidity, validity);
    assert_int_equal(folder->count, nfiles);
    for (i = 0; i < nfiles; i++)
	assert_int_not_equal(store_uid_seq(folder, uids[i]), 0);
    store_close(folder);
    vstring_free(md);
    vstring_free(buf);
    return (validity);
}

#define UIDLIST_CASE(name, text, files, nfiles, uids) \
	uidlist_case((name), (text), strlen(text), (files), (nfiles), (uids))

/* Bad uidlists: skipped lines, garbage, big UIDs, duplicates */

static void test_bad_uidlist(void **state)
{
    const char *files[] = {"100.M1P1.a", "200.M1P1.b", "300.M1P1.c"};
    static const char binary[] = "\x00\x01\xff garbage\n\x03\x04";
    static const char lines[] =
	"3 V100 N10 G" GUID " Xfuture\n"
	"1 :100.M1P1.a\n"
	"xyz\n"
	"\x01\x02 :b\n"
	"2 :\n"
	"5 W12\n"
	"0 :300.M1P1.c\n"
	"99999999999 :300.M1P1.c\n"
	"3 :bad name\n"
	"4 :200.M1P1.b\n"
	"6 :300.M1P1";				/* truncated, no newline */
    unsigned uids[3];
    VSTRING *md;
    VSTRING *buf = vstring_alloc(100);

    /* binary garbage: a new list with a new UIDVALIDITY */
    assert_int_not_equal(uidlist_case("bad1", binary, sizeof(binary) - 1,
				      files, 3, uids), 0);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[1], 2);
    assert_int_equal(uids[2], 3);

    /* bad lines skipped, good ones kept */
    assert_int_equal(uidlist_case("bad2", lines, sizeof(lines) - 1, files, 3,
				  uids), 100);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[1], 4);
    assert_int_equal(uids[2], 10);
    md = maildir("bad2");
    uidlist_text(md, buf);
    assert_true(strncmp(STR(buf), "3 V100 N11 G" GUID " Xfuture\n",
			strlen("3 V100 N11 G" GUID " Xfuture\n")) == 0);
    vstring_free(md);

    /* a UID above N: new ones go above it */
    assert_int_equal(UIDLIST_CASE("bad3", "3 V100 N2\n1 :100.M1P1.a\n"
				  "50 :200.M1P1.b\n", files, 3, uids), 100);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[1], 50);
    assert_int_equal(uids[2], 51);

    /* duplicate UIDs and names: the first in UID order stays */
    assert_int_equal(UIDLIST_CASE("bad4", "3 V100 N10\n1 :100.M1P1.a\n"
				  "1 :200.M1P1.b\n2 :100.M1P1.a\n8 :300.M1P1.c\n"
				  "7 :300.M1P1.c\n", files, 3, uids), 100);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[1], 10);
    assert_int_equal(uids[2], 7);

    /* unknown version, empty file, no UIDVALIDITY */
    assert_int_not_equal(UIDLIST_CASE("bad5", "7 V100 N10\n1 :100.M1P1.a\n",
				      files, 1, uids), 100);
    assert_int_equal(uids[0], 1);
    assert_int_not_equal(UIDLIST_CASE("bad6", "", files, 1, uids), 0);
    assert_int_not_equal(UIDLIST_CASE("bad7", "3 N10 Gxyz\n5 :100.M1P1.a\n",
				      files, 1, uids), 0);
    assert_int_equal(uids[0], 1);
    vstring_free(buf);
}

/* A stale lock is removed; a held one is waited for */

static void test_locks(void **state)
{
    VSTRING *md = maildir("lock");
    VSTRING *lock = vstring_alloc(100);
    STORE_FOLDER *folder;
    struct timespec old[2];
    struct timeval start, end;
    pid_t   pid;
    int     status;

    deliver(md, texts[0]);
    vstring_sprintf(lock, "%s/%s", STR(md), MAILDIR_UIDLIST_LOCK);
    WRITE_TEXT(md, MAILDIR_UIDLIST_LOCK, "12345:elsewhere");
    old[0].tv_sec = old[1].tv_sec = time((time_t *) 0) - 200;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    assert_int_equal(utimensat(AT_FDCWD, STR(lock), old, 0), 0);
    folder = open_folder(md, 0);
    assert_int_equal(folder->count, 1);
    assert_int_equal(access(STR(lock), F_OK), -1);
    store_close(folder);

    /* held by another process for 0.3 s */
    deliver(md, texts[1]);
    WRITE_TEXT(md, MAILDIR_UIDLIST_LOCK, "12345:elsewhere");
    if ((pid = fork()) == 0) {
	usleep(300000);
	_exit(unlink(STR(lock)) == 0 ? 0 : 1);
    }
    assert_true(pid > 0);
    gettimeofday(&start, 0);
    folder = open_folder(md, 0);
    gettimeofday(&end, 0);
    assert_int_equal(folder->count, 2);
    assert_true((end.tv_sec - start.tv_sec) * 1000000 + end.tv_usec
		- start.tv_usec >= 250000);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    assert_int_equal(access(STR(lock), F_OK), -1);
    store_close(folder);
    vstring_free(md);
    vstring_free(lock);
}

/* Odd names, non-files and symbolic links */

static void test_odd_names(void **state)
{
    VSTRING *md = maildir("odd");
    VSTRING *path = vstring_alloc(100);
    VSTRING *target = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder;
    STORE_MSG *msg;

    make_maildir(md);
    WRITE_TEXT(md, "cur/1000.M1P1.a", "a\n");	/* no info in cur/ */
    WRITE_TEXT(md, "cur/1001.M1P1.b:2,", "b\n");
    WRITE_TEXT(md, "cur/1002.M1P1.c:1,xyz", "c\n");	/* other info */
    WRITE_TEXT(md, "cur/1003.M1P1.d:2,SxP", "d\n");
    WRITE_TEXT(md, "new/1004.M1P1.e:2,S,", "e\n");	/* flags in new/ */
    WRITE_TEXT(md, "cur/.hidden:2,S", "hidden\n");
    WRITE_TEXT(md, "cur/1005.M1P1.sp ace:2,S", "space\n");
    WRITE_TEXT(md, "cur/1006.M1P1.ctl\001:2,S", "control\n");
    WRITE_TEXT(md, "cur/:2,S", "no base\n");
    WRITE_TEXT(md, "outside", "outside\n");
    vstring_sprintf(path, "%s/cur/1007.M1P1.dir", STR(md));
    assert_int_equal(mkdir(STR(path), 0700), 0);
    vstring_sprintf(path, "%s/cur/1008.M1P1.link:2,S", STR(md));
    vstring_sprintf(target, "%s/outside", STR(md));
    assert_int_equal(symlink(STR(target), STR(path)), 0);
    vstring_sprintf(path, "%s/cur/1009.M1P1.fifo", STR(md));
    assert_int_equal(mkfifo(STR(path), 0600), 0);

    folder = open_folder(md, 0);
    assert_int_equal(folder->count, 5);
    assert_text(folder, 1, "a\n");
    assert_int_equal(store_msg(folder, 1)->flags, 0);
    assert_int_equal(store_msg(folder, 2)->flags, 0);
    assert_int_equal(store_msg(folder, 3)->flags, 0);
    msg = store_msg(folder, 4);
    assert_int_equal(msg->flags, STORE_SEEN);
    assert_int_equal(msg->keywords, 1U << ('x' - 'a'));
    assert_int_equal(store_msg(folder, 5)->flags, STORE_SEEN | STORE_RECENT);
    assert_text(folder, 5, "e\n");
    for (int i = 1; i <= 5; i++)
	assert_null(strstr(store_msg(folder, i)->file, "link"));

    /* another info than ":2," is replaced; P stays */
    assert_int_equal(store_set_flags(folder, store_msg(folder, 3), STORE_SEEN,
				     0, why), 0);
    assert_string_equal(store_msg(folder, 3)->file, "cur/1002.M1P1.c:2,S");
    assert_int_equal(store_set_flags(folder, msg, STORE_FLAGGED, 0, why), 0);
    assert_string_equal(msg->file, "cur/1003.M1P1.d:2,FP");
    assert_int_equal(store_set_flags(folder, store_msg(folder, 1), STORE_DRAFT,
				     0, why), 0);
    assert_string_equal(store_msg(folder, 1)->file, "cur/1000.M1P1.a:2,D");

    /* a message file replaced by a symbolic link is not followed */
    vstring_sprintf(path, "%s/%s", STR(md), store_msg(folder, 2)->file);
    assert_int_equal(unlink(STR(path)), 0);
    assert_int_equal(symlink(STR(target), STR(path)), 0);
    assert_null(store_msg_open(folder, store_msg(folder, 2), why));
    assert_int_equal(store_msg_sizes(folder, store_msg(folder, 2), why), -1);
    sync_folder(folder, 0);
    assert_int_equal(folder->count, 4);
    store_close(folder);
    vstring_free(md);
    vstring_free(path);
    vstring_free(target);
    vstring_free(why);
}

/* Sizes from S= and W= equal the computed ones */

static void test_sizes(void **state)
{
    VSTRING *md = maildir("sizes");
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder;
    STORE_MSG *named, *plain;
    const char *text = "Subject: s\n\nline 1\nline 2\n";
    off_t   size, vsize;
    struct stat st;
    VSTRING *path = vstring_alloc(100);

    deliver(md, text);
    WRITE_TEXT(md, "cur/9999999999.M1P1.plain:2,S", text);
    folder = open_folder(md, 0);
    assert_int_equal(folder->count, 2);
    named = store_msg(folder, 1);
    plain = store_msg(folder, 2);
    assert_int_equal(named->size, strlen(text));
    assert_int_equal(named->vsize, strlen(text) + 4);
    assert_int_equal(named->received, -1);
    assert_int_equal(plain->size, -1);
    assert_int_equal(plain->vsize, -1);
    size = named->size;
    vsize = named->vsize;
    assert_int_equal(store_msg_sizes(folder, named, why), 0);
    assert_int_equal(named->size, size);
    assert_int_equal(named->vsize, vsize);
    vstring_sprintf(path, "%s/%s", STR(md), named->file);
    assert_int_equal(stat(STR(path), &st), 0);
    assert_int_equal(named->received, st.st_mtime);
    assert_int_equal(store_msg_sizes(folder, plain, why), 0);
    assert_int_equal(plain->size, size);
    assert_int_equal(plain->vsize, vsize);
    assert_true(plain->received > 0);
    store_close(folder);

    /*
     * W= and a computed vsize add a CR only where there is none: a CR LF
     * in the content (also one across a 64 KB boundary) stays two bytes
     */
    {
	VSTRING *big = vstring_alloc(70000);
	int     temporary;

	vstring_strcpy(big, "Subject: cr\n\nline one\r\nline two\n");
	while (LEN(big) < 65535)
	    vstring_addch(big, 'x');
	vstring_strcat(big, "\r\nend\n");	/* CR at 65535, LF at 65536 */
	if (maildir_deliver(STR(md), geteuid(), split_source, STR(big), why,
			    &temporary) != 0)
	    fail_msg("maildir_deliver: %s", STR(why));
	WRITE_TEXT(md, "cur/9999999998.M1P1.plain:2,S", STR(big));
	folder = open_folder(md, 0);
	assert_int_equal(folder->count, 4);
	named = store_msg(folder, 3);
	plain = store_msg(folder, 4);
	assert_int_equal(named->size, LEN(big));
	assert_int_equal(named->vsize, LEN(big) + 4);
	assert_int_equal(store_msg_sizes(folder, plain, why), 0);
	assert_int_equal(plain->size, LEN(big));
	assert_int_equal(plain->vsize, LEN(big) + 4);
	store_close(folder);
	vstring_free(big);
    }
    vstring_free(md);
    vstring_free(why);
    vstring_free(path);
}

/* A file renamed or doubled behind the view's back is found by base name */

static void test_relocate(void **state)
{
    VSTRING *md = maildir("relocate");
    VSTRING *why = vstring_alloc(100);
    VSTRING *file = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned two = 2;
    unsigned uids[] = {1, 3};

    for (int i = 0; i < 3; i++)
	deliver(md, texts[i]);
    folder = open_folder(md, 0);

    /* flag change after another process's rename: its \Seen stays */
    vstring_sprintf(file, "cur/%s:2,S", base_of(store_msg(folder, 1)));
    external_rename(md, folder, 1, STR(file));
    assert_int_equal(store_set_flags(folder, store_msg(folder, 1),
				     STORE_FLAGGED, 0, why), 0);
    vstring_sprintf(file, "cur/%s:2,FS", base_of(store_msg(folder, 1)));
    assert_string_equal(store_msg(folder, 1)->file, STR(file));
    assert_int_equal(read_file(md, STR(file), buf), 0);

    /* expunge after another process's rename */
    vstring_sprintf(file, "cur/%s:2,T", base_of(store_msg(folder, 2)));
    external_rename(md, folder, 2, STR(file));
    assert_int_equal(store_expunge(folder, &two, 1, why), 0);
    assert_int_equal(read_file(md, STR(file), buf), -1);
    assert_uids(folder, uids, 2);

    /* the same base in new/ and cur/: cur/ is the one */
    vstring_sprintf(file, "cur/%s:2,S", base_of(store_msg(folder, 2)));
    WRITE_TEXT(md, STR(file), texts[2]);
    sync_folder(folder, 0);
    assert_uids(folder, uids, 2);
    assert_string_equal(store_msg(folder, 2)->file, STR(file));
    assert_int_equal(store_msg(folder, 2)->flags, STORE_SEEN | STORE_RECENT);

    /* gone for good */
    vstring_sprintf(buf, "%s/%s", STR(md), STR(file));
    assert_int_equal(unlink(STR(buf)), 0);
    vstring_sprintf(buf, "%s/new/%s", STR(md), base_of(store_msg(folder, 2)));
    assert_int_equal(unlink(STR(buf)), 0);
    assert_null(store_msg_open(folder, store_msg(folder, 2), why));
    assert_non_null(strstr(STR(why), "gone"));
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(file);
    vstring_free(buf);
}

/* dovecot-keywords with gaps and bad lines */

static void test_keywords_file(void **state)
{
    VSTRING *md = maildir("keywords");
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    STORE_FOLDER *folder;

    make_maildir(md);
    WRITE_TEXT(md, "cur/1.M1P1.a:2,ac", texts[0]);
    WRITE_TEXT(md, "dovecot-keywords", "0 Junk\n2 Third\nbad line\n"
	       "30 Big\n1 \n0 Again\n");
    folder = open_folder(md, 0);
    assert_int_equal(folder->keyword_count, 3);
    assert_string_equal(folder->keywords[0], "Junk");
    assert_string_equal(folder->keywords[2], "Third");
    assert_int_equal(store_msg(folder, 1)->keywords, 5);
    assert_int_equal(store_keyword(folder, "Third", 1, why), 2);
    assert_int_equal(store_keyword(folder, "New", 1, why), 3);
    assert_int_equal(read_file(md, "dovecot-keywords", buf), 0);
    assert_string_equal(STR(buf), "0 Junk\n1 $Unnamed1\n2 Third\n3 New\n");
    store_close(folder);
    vstring_free(md);
    vstring_free(why);
    vstring_free(buf);
}

/* A missing uidlist after open: a new UIDVALIDITY, all renumbered */

static void test_uidvalidity_change(void **state)
{
    VSTRING *md = maildir("validity");
    VSTRING *path = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uids[] = {1, 2};
    unsigned validity;

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    folder = open_folder(md, 0);
    validity = folder->uidvalidity;
    vstring_sprintf(path, "%s/%s", STR(md), MAILDIR_UIDLIST_FILE);
    assert_int_equal(unlink(STR(path)), 0);
    sync_folder(folder, 0);
    assert_int_not_equal(folder->uidvalidity, validity);
    assert_uids(folder, uids, 2);
    assert_text(folder, 2, texts[1]);
    store_close(folder);
    vstring_free(md);
    vstring_free(path);
}

/* A base in both new/ and cur/ when a view is first filled: one
 * message, the file in cur/; for names the uidlist has and lacks */

static void test_doubled_at_open(void **state)
{
    VSTRING *md = maildir("doubled");
    VSTRING *file = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uids[] = {1, 2, 3};
    char    base[512];

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    folder = open_folder(md, 0);		/* the uidlist has 1 and 2 */
    snprintf(base, sizeof(base), "%s", base_of(store_msg(folder, 1)));
    store_close(folder);
    vstring_sprintf(file, "cur/%s:2,S", base);
    WRITE_TEXT(md, STR(file), texts[0]);
    WRITE_TEXT(md, "new/1700000001.M1P1.host", texts[2]);
    WRITE_TEXT(md, "cur/1700000001.M1P1.host:2,F", texts[2]);

    folder = open_folder(md, 0);
    assert_uids(folder, uids, 3);
    assert_string_equal(store_msg(folder, 1)->file, STR(file));
    assert_int_equal(store_msg(folder, 1)->flags & STORE_FLAGS_STORED,
		     STORE_SEEN);
    assert_string_equal(store_msg(folder, 3)->file,
			"cur/1700000001.M1P1.host:2,F");
    assert_int_equal(store_msg(folder, 3)->flags & STORE_FLAGS_STORED,
		     STORE_FLAGGED);
    assert_text(folder, 3, texts[2]);
    store_close(folder);

    /* again, with both names known now */
    folder = open_folder(md, STORE_OPEN_READONLY);
    assert_uids(folder, uids, 3);
    assert_string_equal(store_msg(folder, 3)->file,
			"cur/1700000001.M1P1.host:2,F");
    store_close(folder);
    vstring_free(md);
    vstring_free(file);
}

/* wait_stamps_old - until new/ and cur/ of MD were last changed more
 * than the driver's slack (2 s) ago, so that a sync may trust them */

static void wait_stamps_old(VSTRING *md)
{
    const char *subs[] = {"new", "cur"};
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    time_t  last = 0;

    for (int i = 0; i < 2; i++) {
	vstring_sprintf(path, "%s/%s", STR(md), subs[i]);
	assert_int_equal(stat(STR(path), &st), 0);
	if (st.st_mtim.tv_sec > last)
	    last = st.st_mtim.tv_sec;
	if (st.st_ctim.tv_sec > last)
	    last = st.st_ctim.tv_sec;
    }
    while (time((time_t *) 0) < last + 3)
	usleep(100000);
    vstring_free(path);
}

/*
 * A sync skips reading the directories when nothing changed, and still
 * sees every change: a rename, a delivery, a removal by another process;
 * it claims new/ files also when skipping; a changed folder is read at
 * every sync until its time stamps are old enough to trust.
 */
static void test_skip_unchanged(void **state)
{
    VSTRING *md = maildir("skip");
    VSTRING *path = vstring_alloc(100);
    VSTRING *target = vstring_alloc(100);
    STORE_FOLDER *folder;
    unsigned uids3[] = {1, 2, 3};
    unsigned uids4[] = {1, 2, 3, 4};
    unsigned uids234[] = {2, 3, 4};
    int     scans;

    deliver(md, texts[0]);
    deliver(md, texts[1]);
    deliver(md, texts[2]);
    folder = open_folder(md, 0);
    assert_uids(folder, uids3, 3);
    wait_stamps_old(md);

    /* The first sync with old stamps reads; then nothing to read */
    scans = maildir_dir_scans;
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans + 1);
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans + 1);
    assert_uids(folder, uids3, 3);

    /* Claiming needs no scan; the renames make the next sync read */
    assert_non_null(strstr(store_msg(folder, 2)->file, "new/"));
    sync_folder(folder, STORE_SYNC_CLAIM_NEW);
    assert_int_equal(maildir_dir_scans, scans + 1);
    for (int i = 1; i <= 3; i++) {
	assert_memory_equal(store_msg(folder, i)->file, "cur/", 4);
	assert_int_equal(store_msg(folder, i)->flags, STORE_RECENT);
    }
    sync_folder(folder, STORE_SYNC_CLAIM_NEW);
    assert_int_equal(maildir_dir_scans, scans + 2);
    assert_uids(folder, uids3, 3);

    /* Another process renames a file in cur/ (flags) */
    wait_stamps_old(md);
    sync_folder(folder, 0);
    scans = maildir_dir_scans;
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans);
    vstring_sprintf(target, "cur/%s:2,FS", base_of(store_msg(folder, 2)));
    external_rename(md, folder, 2, STR(target));
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans + 1);
    assert_int_equal(store_msg(folder, 2)->flags,
		     STORE_SEEN | STORE_FLAGGED | STORE_RECENT);
    assert_string_equal(store_msg(folder, 2)->file, STR(target));
    /* Changed just now: not trusted yet */
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans + 2);

    /* A delivery to new/ only, then a removal in cur/ only */
    wait_stamps_old(md);
    sync_folder(folder, 0);
    scans = maildir_dir_scans;
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans);
    deliver(md, texts[3]);
    sync_folder(folder, 0);
    assert_uids(folder, uids4, 4);
    assert_text(folder, 4, texts[3]);
    wait_stamps_old(md);
    sync_folder(folder, 0);
    scans = maildir_dir_scans;
    vstring_sprintf(path, "%s/%s", STR(md), store_msg(folder, 1)->file);
    assert_int_equal(unlink(STR(path)), 0);
    sync_folder(folder, 0);
    assert_int_equal(maildir_dir_scans, scans + 2);	/* gone: read twice */
    assert_uids(folder, uids234, 3);
    store_close(folder);
    vstring_free(md);
    vstring_free(path);
    vstring_free(target);
}

/* 10,000 messages: one uidlist write, none when it is current */

static void test_large_folder(void **state)
{
    enum {
	COUNT = 10000
    };
    VSTRING *md = maildir("large");
    VSTRING *name = vstring_alloc(100);
    STORE_FOLDER *folder;
    struct timeval start, end;
    int     writes;
    int     i;

    make_maildir(md);
    for (i = 0; i < COUNT; i++) {
	/* microseconds out of name order: "M9" sorts after "M10" as text */
	vstring_sprintf(name, "new/1700000000.M%dP1.host,S=6,W=7", COUNT - 1 - i);
	WRITE_TEXT(md, STR(name), "hello\n");
    }
    writes = maildir_uidlist_writes;
    gettimeofday(&start, 0);
    folder = open_folder(md, 0);
    gettimeofday(&end, 0);
    printf("# open %d new messages: %.3f s\n", COUNT,
	   (end.tv_sec - start.tv_sec) + (end.tv_usec - start.tv_usec) / 1e6);
    assert_int_equal(maildir_uidlist_writes, writes + 1);
    assert_int_equal(folder->count, COUNT);
    for (i = 0; i < COUNT; i++) {
	assert_int_equal(store_view_msgs(folder)[i].uid, i + 1);
	vstring_sprintf(name, "new/1700000000.M%dP1.host,S=6,W=7", i);
	assert_string_equal(store_view_msgs(folder)[i].file, STR(name));
    }
    store_close(folder);

    gettimeofday(&start, 0);
    folder = open_folder(md, 0);
    sync_folder(folder, 0);
    gettimeofday(&end, 0);
    printf("# open+sync %d messages, current uidlist: %.3f s\n", COUNT,
	   (end.tv_sec - start.tv_sec) + (end.tv_usec - start.tv_usec) / 1e6);
    assert_int_equal(maildir_uidlist_writes, writes + 1);
    assert_int_equal(folder->count, COUNT);
    assert_int_equal(store_view_msgs(folder)[COUNT - 1].uid, COUNT);
    store_close(folder);
    vstring_free(md);
    vstring_free(name);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_create_and_reopen),
	cmocka_unit_test(test_sync_changes),
	cmocka_unit_test(test_expunge),
	cmocka_unit_test(test_flags_keywords),
	cmocka_unit_test(test_append),
	cmocka_unit_test(test_claim_new),
	cmocka_unit_test(test_readonly),
	cmocka_unit_test(test_two_sessions),
	cmocka_unit_test(test_dovecot_uidlist),
	cmocka_unit_test(test_uidlist_v1),
	cmocka_unit_test(test_bad_uidlist),
	cmocka_unit_test(test_locks),
	cmocka_unit_test(test_odd_names),
	cmocka_unit_test(test_sizes),
	cmocka_unit_test(test_relocate),
	cmocka_unit_test(test_keywords_file),
	cmocka_unit_test(test_uidvalidity_change),
	cmocka_unit_test(test_doubled_at_open),
	cmocka_unit_test(test_skip_unchanged),
	cmocka_unit_test(test_large_folder),
    };

    msg_init("test_store_maildir", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
