/*
 * test_mbox_write.c - unit tests for lib/store/mbox_write.c.
 *
 * A file rewritten with no change gets X-IMAPbase, X-UID and its flags
 * after the other header lines, and otherwise the same bytes (junk before
 * the first message, ">From ", a body that Content-Length protects), plus
 * a final newline where one was missing; expunges and flag changes apply
 * only with SAME; with nothing left a pseudo message keeps UIDVALIDITY
 * and LAST-UID; read and write errors are reported, not hidden.
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
#include "mbox_parse.h"
#include "mbox_scan.h"
#include "mbox_write.h"

#define FROM	"From a@b  Mon Nov 23 15:07:19 2026\n"

static const char input[] =
"junk\n\n"
FROM "Subject: one\nX-UID: 7\nStatus: RO\n\nbody 1\n>From quoted\n\n"
FROM "Subject: two\nX-Keywords: x\nx-status: A\n\nbody 2\n\n"
FROM "Subject: three\ncontent-length: 16\n\nline\n\nFrom evil\n\n"
FROM "Subject: four\n\nno newline";

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
    int     fd = memfd_create("test_mbox_write", MFD_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    return (fd);
}

static MBOX_SCAN *scan_fd(STORE_FOLDER *folder, int fd)
{
    VSTRING *why = vstring_alloc(100);
    MBOX_SCAN *scan = mbox_scan_create();
    struct stat st;

    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mbox_scan_read(scan, folder, fd, &st, why), 0);
    vstring_free(why);
    return (scan);
}

static void read_fd(int fd, VSTRING *buf)
{
    char    tmp[4096];
    ssize_t n;
    off_t   off = 0;

    vstring_reset(buf);
    while ((n = pread(fd, tmp, sizeof(tmp), off)) > 0) {
	vstring_memcat(buf, tmp, n);
	off += n;
    }
}

/* rewrite_data - DATA with CHANGE into OUT (the new file's bytes) */

static void rewrite_data(STORE_FOLDER *folder, const char *data, size_t len,
			         const MBOX_CHANGE *change, int same,
			         unsigned last, VSTRING *out)
{
    VSTRING *why = vstring_alloc(100);
    int     in_fd = memfd(data, len);
    int     out_fd = memfd("", 0);
    MBOX_SCAN *scan = scan_fd(folder, in_fd);

    if (mbox_write_file(out_fd, "out", in_fd, folder, scan, change, same, 1000,
			last, why) != 0)
	fail_msg("mbox_write_file: %s", STR(why));
    read_fd(out_fd, out);
    mbox_scan_free(scan);
    close(in_fd);
    close(out_fd);
    vstring_free(why);
}

#define rewrite(folder, change, same, last, out) \
	rewrite_data((folder), input, sizeof(input) - 1, (change), (same), (last), (out))

static void test_no_change(void **state)
{
    static const char want[] =
    "junk\n\n"
    FROM "Subject: one\nX-IMAPbase: 1000 0000000004\nX-UID: 1\nStatus: RO\n\n"
    "body 1\n>From quoted\n\n"
    FROM "Subject: two\nX-UID: 2\nX-Status: A\n\nbody 2\n\n"
    FROM "Subject: three\nX-UID: 3\nContent-Length: 16\n\nline\n\nFrom evil\n\n"
    FROM "Subject: four\nX-UID: 4\n\nno newline\n\n";
    STORE_FOLDER *folder = folder_new();
    VSTRING *out = vstring_alloc(1000);
    MBOX_SCAN *again;
    int     fd;

    rewrite(folder, (MBOX_CHANGE *) 0, 0, 4, out);
    assert_string_equal(STR(out), want);

    /* it reads back as it was meant to */
    fd = memfd(STR(out), LEN(out));
    again = scan_fd(folder, fd);
    assert_int_equal(again->uidvalidity, 1000);
    assert_int_equal(again->count, 4);
    assert_int_equal(again->untagged, 0);
    assert_int_equal(again->mails[0].flags, STORE_SEEN);
    assert_int_equal(again->mails[1].flags, STORE_ANSWERED | STORE_RECENT);
    assert_int_equal(again->mails[2].content_length, 1);
    assert_int_equal(again->mails[2].size, 15 + 1 + 16);
    assert_int_equal(again->mails[3].uid, 4);
    assert_memory_equal(STR(out) + again->base_last_off, "0000000004", 10);
    mbox_scan_free(again);
    close(fd);
    vstring_free(out);
    folder_free(folder);
}

/* Header blocks that end the file without a newline */
static void test_unterminated(void **state)
{
    static const char lone_cr[] = FROM "Subject: x\r\nX-UID: 2\r\n\r";
    static const char lone_cr_want[] =
    FROM "Subject: x\r\nX-IMAPbase: 1000 0000000001\nX-UID: 1\n\r\n\n";
    static const char only_cr[] = FROM "\r";
    static const char only_cr_want[] =
    FROM "X-IMAPbase: 1000 0000000001\nX-UID: 1\n\r\n\n";
    static const char line[] = FROM "Subject: x\nX-UID: 2";
    static const char line_want[] =
    FROM "Subject: x\nX-IMAPbase: 1000 0000000001\nX-UID: 1\n\n";
    static const char text[] = FROM "Subject: x\nX-Other: 2\r";
    static const char text_want[] =
    FROM "Subject: x\nX-Other: 2\r\nX-IMAPbase: 1000 0000000001\nX-UID: 1\n\n";
    static const char from_only[] = "From x";
    static const char from_only_want[] =
    "From x\nX-IMAPbase: 1000 0000000001\nX-UID: 1\n\n";
    STORE_FOLDER *folder = folder_new();
    VSTRING *out = vstring_alloc(1000);

    rewrite_data(folder, lone_cr, sizeof(lone_cr) - 1, 0, 0, 1, out);
    assert_string_equal(STR(out), lone_cr_want);
    rewrite_data(folder, only_cr, sizeof(only_cr) - 1, 0, 0, 1, out);
    assert_string_equal(STR(out), only_cr_want);
    rewrite_data(folder, line, sizeof(line) - 1, 0, 0, 1, out);
    assert_string_equal(STR(out), line_want);
    rewrite_data(folder, text, sizeof(text) - 1, 0, 0, 1, out);
    assert_string_equal(STR(out), text_want);
    rewrite_data(folder, from_only, sizeof(from_only) - 1, 0, 0, 1, out);
    assert_string_equal(STR(out), from_only_want);
    vstring_free(out);
    folder_free(folder);
}

static void test_change(void **state)
{
    static const char want[] =
    "junk\n\n"
    FROM "Subject: one\nX-IMAPbase: 1000 0000000009 $A\nX-UID: 1\nStatus: RO\n"
    "X-Status: A\n\nbody 1\n>From quoted\n\n"
    FROM "Subject: three\nX-UID: 3\nX-Status: FT\nX-Keywords: $A\n"
    "Content-Length: 16\n\nline\n\nFrom evil\n\n"
    FROM "Subject: four\nX-UID: 4\n\nno newline\n\n";
    static unsigned gone[] = {2, 8};
    static MBOX_FLAGS set[] = {		/* 2 goes, 5 is not there */
	{1, STORE_SEEN | STORE_ANSWERED, 0}, {2, STORE_SEEN, 0},
	{3, STORE_FLAGGED | STORE_DRAFT, 1 | 8},	/* bit 3: no such keyword */
	{5, STORE_SEEN, 0},
    };
    STORE_FOLDER *folder = folder_new();
    VSTRING *out = vstring_alloc(1000);
    MBOX_CHANGE change;

    folder->keywords[folder->keyword_count++] = mystrdup("$A");
    memset(&change, 0, sizeof(change));
    change.expunge = gone;
    change.expunge_count = 2;
    change.flags = set;
    change.flags_count = 4;
    rewrite(folder, &change, 1, 9, out);
    assert_string_equal(STR(out), want);
    assert_int_equal(mbox_change_expunges(&change, 8), 1);
    assert_int_equal(mbox_change_expunges(&change, 3), 0);
    assert_int_equal(mbox_change_expunges((MBOX_CHANGE *) 0, 3), 0);
    assert_ptr_equal(mbox_change_flags(&change, 1), set);
    assert_ptr_equal(mbox_change_flags(&change, 5), set + 3);
    assert_null(mbox_change_flags(&change, 4));
    assert_null(mbox_change_flags((MBOX_CHANGE *) 0, 1));

    /* the UIDs are not the caller's: no change applies */
    rewrite(folder, &change, 0, 4, out);
    assert_non_null(strstr(STR(out), "Subject: two\n"));
    assert_null(strstr(STR(out), "X-Status: FT"));
    vstring_free(out);
    folder_free(folder);
}

static void test_all_gone(void **state)
{
    static unsigned all[] = {1, 2, 3, 4};
    STORE_FOLDER *folder = folder_new();
    VSTRING *out = vstring_alloc(1000);
    MBOX_CHANGE change;
    MBOX_SCAN *again;
    int     fd;

    memset(&change, 0, sizeof(change));
    change.expunge = all;
    change.expunge_count = 4;
    rewrite(folder, &change, 1, 4, out);
    assert_memory_equal(STR(out), "junk\n\nFrom MAILER-DAEMON  ", 26);
    assert_non_null(strstr(STR(out), "\nX-IMAP: 1000 0000000004\nStatus: RO\n\n"));
    fd = memfd(STR(out), LEN(out));
    again = scan_fd(folder, fd);
    assert_int_equal(again->pseudo, 1);
    assert_int_equal(again->count, 1);
    assert_int_equal(again->uidvalidity, 1000);
    assert_int_equal(again->next_uid, 5);
    assert_int_equal(mbox_scan_needs_base(again), 0);
    mbox_scan_free(again);
    close(fd);

    /* and a pseudo message stays, with X-IMAP up to date */
    fd = memfd(STR(out), LEN(out));
    again = scan_fd(folder, fd);
    {
	VSTRING *why = vstring_alloc(100);
	int     out_fd = memfd("", 0);

	assert_int_equal(mbox_write_file(out_fd, "out", fd, folder, again, 0, 1,
					 1000, 6, why), 0);
	read_fd(out_fd, out);
	assert_non_null(strstr(STR(out), "\nX-IMAP: 1000 0000000006\nStatus: RO\n\n"));
	assert_null(strstr(strstr(STR(out), "X-IMAP:") + 1, "X-IMAP:"));
	close(out_fd);
	vstring_free(why);
    }
    mbox_scan_free(again);
    close(fd);
    vstring_free(out);
    folder_free(folder);
}

static void test_errors(void **state)
{
    STORE_FOLDER *folder = folder_new();
    VSTRING *why = vstring_alloc(100);
    int     in_fd = memfd(input, sizeof(input) - 1);
    int     out_fd = open("/dev/null", O_RDONLY);
    MBOX_SCAN *scan = scan_fd(folder, in_fd);

    assert_true(out_fd >= 0);
    assert_int_equal(mbox_write_file(out_fd, "out", in_fd, folder, scan, 0, 0,
				     1000, 4, why), -1);
    assert_non_null(strstr(STR(why), "write out: "));
    close(out_fd);
    out_fd = memfd("", 0);
    close(in_fd);
    assert_int_equal(mbox_write_file(out_fd, "out", in_fd, folder, scan, 0, 0,
				     1000, 4, why), -1);
    assert_non_null(strstr(STR(why), "read test.mbox: "));
    close(out_fd);
    mbox_scan_free(scan);
    vstring_free(why);
    folder_free(folder);
}

static void test_put(void **state)
{
    STORE_FOLDER *folder = folder_new();
    VSTRING *buf = vstring_alloc(100);
    unsigned uids[] = {5, 1, 3};

    folder->keywords[folder->keyword_count++] = mystrdup("$A");
    folder->keywords[folder->keyword_count++] = mystrdup("b");
    mbox_put_base(buf, folder, "X-IMAPbase", 7, 0);
    assert_string_equal(STR(buf), "X-IMAPbase: 7 0000000000 $A b\n");
    vstring_reset(buf);
    mbox_put_fields(buf, folder, 3, 0, 0, 0);
    assert_string_equal(STR(buf), "X-UID: 3\n");
    vstring_reset(buf);
    mbox_put_fields(buf, folder, 3, STORE_SEEN | STORE_DELETED | STORE_ANSWERED, 1, 2);
    assert_string_equal(STR(buf), "X-UID: 3\nStatus: RO\nX-Status: AD\nX-Keywords: b\n");
    vstring_reset(buf);
    mbox_put_fields(buf, folder, 4, 0, 1, 4);
    assert_string_equal(STR(buf), "X-UID: 4\nStatus: O\n");
    mbox_uid_sort(uids, 3);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[2], 5);
    vstring_free(buf);
    folder_free(folder);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_no_change),
	cmocka_unit_test(test_unterminated),
	cmocka_unit_test(test_change),
	cmocka_unit_test(test_all_gone),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_put),
    };

    msg_init("test_mbox_write", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, 0, 0));
}
