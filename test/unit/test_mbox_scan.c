/*
 * test_mbox_scan.c - unit tests for lib/store/mbox_scan.c.
 *
 * UIDs by Dovecot's rules (an X-UID counts above the previous UID and up
 * to the next one; a bigger, smaller or repeated one, or any without a
 * valid X-IMAPbase, gets the next UID); X-IMAPbase's LAST-UID position
 * for in-place updates; broken X-IMAPbase headers; c-client's pseudo
 * message; flags from Status and X-Status; keywords only when X-IMAPbase
 * lists them all, at most 26; reading on after the file grew gives what
 * a full read gives, and growth that moved old bytes is refused.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "mbox_scan.h"

#define FROM	"From a@b  Mon Nov 23 15:07:19 2026\n"

static STORE_FOLDER *folder_new(void)
{
    STORE_FOLDER *folder = (STORE_FOLDER *) mycalloc(1, sizeof(*folder));

    folder->path = mystrdup("test.mbox");
    return (folder);
}

static void folder_free(STORE_FOLDER *folder)
{
    int     i;

    for (i = 0; i < folder->keyword_count; i++)
	myfree(folder->keywords[i]);
    myfree(folder->path);
    myfree(folder);
}

static int memfd(const char *data, size_t len)
{
    int     fd = memfd_create("test_mbox_scan", MFD_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    return (fd);
}

/* scan - all of DATA, read into a new scan */

static MBOX_SCAN *scan(STORE_FOLDER *folder, const char *data, size_t len)
{
    VSTRING *why = vstring_alloc(100);
    MBOX_SCAN *scan = mbox_scan_create();
    struct stat st;
    int     fd = memfd(data, len);

    assert_int_equal(fstat(fd, &st), 0);
    if (mbox_scan_read(scan, folder, fd, &st, why) != 0)
	fail_msg("mbox_scan_read: %s", STR(why));
    close(fd);
    vstring_free(why);
    return (scan);
}

#define SCAN(folder, lit)	scan((folder), (lit), sizeof(lit) - 1)

static void check_uids(const MBOX_SCAN *s, const unsigned *uids, int count)
{
    int     i;

    assert_int_equal(s->count - s->pseudo, count);
    for (i = 0; i < count; i++)
	assert_int_equal(s->mails[s->pseudo + i].uid, uids[i]);
}

static void test_uid_rules(void **state)
{
    static const char data[] =
    FROM "X-IMAPbase: 100 0000000005\nX-UID: 2\n\na\n\n"
    FROM "X-UID: 4\n\nb\n\n"
    FROM "\nnew mail, no X-UID\n\n"	/* 6 */
    FROM "X-UID: 9\n\nforged, too big\n\n"	/* 7 */
    FROM "X-UID: 3\n\nbelow the previous\n\n"	/* 8 */
    FROM "X-UID: 9\n\nthe next one: taken\n\n"
    FROM "X-UID: 9\n\nagain\n\n"	/* 10 */
    FROM "X-UID: 0\n\nzero\n\n"	/* 11 */
    FROM "X-UID: 12 13\n\ntwo words\n\n"	/* 12 */
    FROM "X-UID: 13   \n\ntrailing space: taken\n\n";
    static const unsigned uids[] = {2, 4, 6, 7, 8, 9, 10, 11, 12, 13};
    STORE_FOLDER *folder = folder_new();
    MBOX_SCAN *s = SCAN(folder, data);

    assert_int_equal(s->uidvalidity, 100);
    check_uids(s, uids, 10);
    assert_int_equal(s->next_uid, 14);
    assert_int_equal(s->untagged, 1);
    assert_int_equal(s->broken, 5);
    assert_int_equal(s->base_last_off, sizeof(FROM) - 1 + 16);
    assert_memory_equal(data + s->base_last_off, "0000000005", 10);
    assert_ptr_equal(mbox_scan_find(s, 9), s->mails + 5);
    assert_null(mbox_scan_find(s, 5));
    assert_null(mbox_scan_find(s, 0));
    assert_int_equal(mbox_scan_needs_base(s), 0);
    mbox_scan_free(s);

    /* all tagged: nothing untagged, LAST-UID not padded: no offset */
    s = SCAN(folder, FROM "X-IMAPbase: 7 2\nX-UID: 1\n\na\n\n" FROM "X-UID: 2\n\nb\n");
    assert_int_equal(s->untagged, 0);
    assert_int_equal(s->next_uid, 3);
    assert_int_equal(s->base_last_off, -1);
    mbox_scan_free(s);
    folder_free(folder);
}

static void test_no_base(void **state)
{
    static const unsigned one_two[] = {1, 2};
    STORE_FOLDER *folder = folder_new();
    MBOX_SCAN *s;

    /* no X-IMAPbase: X-UIDs from senders count for nothing */
    s = SCAN(folder, FROM "X-UID: 5\n\na\n\n" FROM "X-UID: 6\n\nb\n");
    assert_int_equal(s->uidvalidity, 0);
    assert_int_equal(s->base_seen, 0);
    check_uids(s, one_two, 2);
    assert_int_equal(mbox_scan_needs_base(s), 1);
    mbox_scan_free(s);

    /* broken ones */
    s = SCAN(folder, FROM "X-IMAPbase: 0 0000000005\nX-UID: 5\n\na\n");
    assert_int_equal(s->uidvalidity, 0);
    assert_int_equal(s->base_seen, 1);
    assert_int_equal(s->mails[0].uid, 1);
    mbox_scan_free(s);
    s = SCAN(folder, FROM "X-IMAPbase: 42 4294967000\nX-UID: 5\n\na\n");
    assert_int_equal(s->uidvalidity, 0);
    assert_int_equal(s->broken_uidvalidity, 42);
    assert_int_equal(s->mails[0].uid, 1);
    mbox_scan_free(s);
    s = SCAN(folder, FROM "X-IMAPbase: 42 x\n\na\n");
    assert_int_equal(s->uidvalidity, 0);
    mbox_scan_free(s);
    s = SCAN(folder, FROM "X-IMAPbase: 42\n\na\n");
    assert_int_equal(s->uidvalidity, 0);
    mbox_scan_free(s);
    /* only in the first message */
    s = SCAN(folder, FROM "\na\n\n" FROM "X-IMAPbase: 42 0000000009\nX-UID: 3\n\nb\n");
    assert_int_equal(s->uidvalidity, 0);
    check_uids(s, one_two, 2);
    mbox_scan_free(s);
    /* folded over two lines is fine */
    s = SCAN(folder, FROM "X-IMAPbase: 42\n 0000000009\nX-UID: 3\n\nb\n");
    assert_int_equal(s->uidvalidity, 42);
    assert_int_equal(s->mails[0].uid, 3);
    mbox_scan_free(s);
    s = SCAN(folder, "");
    assert_int_equal(s->count, 0);
    assert_int_equal(mbox_scan_needs_base(s), 0);
    mbox_scan_free(s);
    folder_free(folder);
}

static void test_pseudo(void **state)
{
    static const char data[] =
    "From MAILER-DAEMON  Sat Dec  5 22:45:58 2026\n"
    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
    "X-IMAP: 1796510747 0000000004 $Foo\n"
    "Status: RO\n"
    "\n"
    "folder data\n"
    "\n"
    FROM "X-UID: 3\n\nreal\n";
    STORE_FOLDER *folder = folder_new();
    MBOX_SCAN *s = SCAN(folder, data);

    assert_int_equal(s->pseudo, 1);
    assert_int_equal(s->count, 2);
    assert_int_equal(s->mails[0].uid, 0);
    assert_int_equal(s->mails[1].uid, 3);
    assert_int_equal(s->uidvalidity, 1796510747);
    assert_int_equal(s->next_uid, 5);
    assert_int_equal(folder->keyword_count, 1);
    assert_null(mbox_scan_find(s, 0));
    assert_ptr_equal(mbox_scan_find(s, 3), s->mails + 1);
    assert_int_equal(mbox_scan_needs_base(s), 0);
    mbox_scan_free(s);

    /* a pseudo message alone: no messages, no need for X-IMAPbase */
    s = scan(folder, data, strstr(data, FROM) - data);
    assert_int_equal(s->count, 1);
    assert_int_equal(mbox_scan_needs_base(s), 0);
    mbox_scan_free(s);
    folder_free(folder);
}

static void test_flags_keywords(void **state)
{
    static const char data[] =
    FROM "X-IMAPbase: 1 0000000009 $Foo Junk \\Bad (bad) $foo\n"
    "Status: RO\nX-Status: AFTD\nX-Keywords: junk $Foo\n\na\n\n"
    FROM "Status: O\nX-Keywords: $Foo $Other\n\nb\n\n"
    FROM "Status: R\nX-Status: D\nX-Keywords:\n\nc\n\n"
    FROM "\nd\n";
    STORE_FOLDER *folder = folder_new();
    MBOX_SCAN *s = SCAN(folder, data);
    VSTRING *many = vstring_alloc(1000);
    int     i;

    assert_int_equal(folder->keyword_count, 2);
    assert_string_equal(folder->keywords[0], "$Foo");
    assert_string_equal(folder->keywords[1], "Junk");
    assert_int_equal(s->mails[0].flags, STORE_SEEN | STORE_ANSWERED | STORE_FLAGGED
		     | STORE_DRAFT | STORE_DELETED);
    assert_int_equal(s->mails[0].keywords, 3);
    assert_int_equal(s->mails[1].flags, 0);
    assert_int_equal(s->mails[1].keywords, 0);	/* $Other is not ours */
    assert_int_equal(s->mails[2].flags, STORE_SEEN | STORE_DELETED | STORE_RECENT);
    assert_int_equal(s->mails[2].keywords, 0);
    assert_int_equal(s->mails[3].flags, STORE_RECENT);
    mbox_scan_free(s);

    /* at most STORE_MAX_KEYWORDS */
    vstring_strcpy(many, FROM "X-IMAPbase: 1 0000000001");
    for (i = 0; i < 30; i++)
	vstring_sprintf_append(many, " k%d", i);
    vstring_strcat(many, "\nX-Keywords: k23\n\na\n\n" FROM "X-Keywords: k29\n\nb\n");
    s = scan(folder, STR(many), LEN(many));
    assert_int_equal(folder->keyword_count, STORE_MAX_KEYWORDS);
    assert_string_equal(folder->keywords[25], "k23");
    assert_int_equal(s->mails[0].keywords, 1U << 25);
    assert_int_equal(s->mails[1].keywords, 0);
    mbox_scan_free(s);
    assert_int_equal(mbox_keyword_ok("$Label1", 7), 1);
    assert_int_equal(mbox_keyword_ok("NonJunk", 7), 1);
    assert_int_equal(mbox_keyword_ok("two words", 9), 0);
    assert_int_equal(mbox_keyword_ok("\\Seen", 5), 0);
    assert_int_equal(mbox_keyword_ok("a(b", 3), 0);
    assert_int_equal(mbox_keyword_ok("", 0), 0);
    assert_int_equal(mbox_keyword_ok("caf\xc3\xa9", 5), 0);
    vstring_free(many);
    folder_free(folder);
}

/* Reading on after the file grew */
static void test_continue(void **state)
{
#define FIRST	FROM "X-IMAPbase: 9 0000000002\nX-UID: 1\n\na\n\n" FROM "X-UID: 2\n\nb\n\n"
#define MORE	FROM "\nc\n\n" FROM "X-UID: 4\n\nd\n"
    static const char first[] = FIRST;
    static const char more[] = MORE;
    VSTRING *why = vstring_alloc(100);
    STORE_FOLDER *folder = folder_new();
    MBOX_SCAN *s = mbox_scan_create(), *full;
    struct stat st;
    int     fd = memfd(first, sizeof(first) - 1), i;

    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mbox_scan_can_continue(s, fd, &st), 1);	/* empty scan */
    assert_int_equal(mbox_scan_read(s, folder, fd, &st, why), 0);
    assert_int_equal(mbox_scan_can_continue(s, fd, &st), 0);	/* no growth */
    assert_int_equal(write(fd, more, sizeof(more) - 1), (ssize_t) sizeof(more) - 1);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mbox_scan_can_continue(s, fd, &st), 1);
    assert_int_equal(mbox_scan_read(s, folder, fd, &st, why), 0);
    full = SCAN(folder, FIRST MORE);
    assert_int_equal(s->count, full->count);
    for (i = 0; i < full->count; i++) {
	assert_int_equal(s->mails[i].uid, full->mails[i].uid);
	assert_int_equal(s->mails[i].offset, full->mails[i].offset);
	assert_int_equal(s->mails[i].size, full->mails[i].size);
	assert_int_equal(s->mails[i].content_end, full->mails[i].content_end);
    }
    assert_int_equal(s->mails[2].uid, 3);
    assert_int_equal(s->mails[3].uid, 4);
    assert_int_equal(s->next_uid, full->next_uid);
    mbox_scan_free(full);

    /* old bytes moved: refused */
    assert_int_equal(pwrite(fd, "X", 1, s->mails[3].offset), 1);
    assert_int_equal(write(fd, "\n\n" FROM "\ne\n", sizeof(FROM) + 4), sizeof(FROM) + 4);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mbox_scan_can_continue(s, fd, &st), 0);
    close(fd);

    /* the old end not after an empty line: refused */
    mbox_scan_free(s);
    s = mbox_scan_create();
    fd = memfd(FROM "\na\n", sizeof(FROM) + 2);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mbox_scan_read(s, folder, fd, &st, why), 0);
    assert_int_equal(write(fd, FROM "\nb\n", sizeof(FROM) + 2), sizeof(FROM) + 2);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mbox_scan_can_continue(s, fd, &st), 0);
    s->stale = 1;
    assert_int_equal(mbox_scan_can_continue(s, fd, &st), 0);
    close(fd);
    mbox_scan_free(s);
    vstring_free(why);
    folder_free(folder);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_uid_rules),
	cmocka_unit_test(test_no_base),
	cmocka_unit_test(test_pseudo),
	cmocka_unit_test(test_flags_keywords),
	cmocka_unit_test(test_continue),
    };

    msg_init("test_mbox_scan", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, 0, 0));
}
