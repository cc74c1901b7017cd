/*
 * test_maildir_uidlist.c - unit tests for lib/store/maildir_uidlist.c
 * (Dovecot's dovecot-uidlist: parse, format, lock, read, write).
 *
 * Version 3 with extension and unknown header fields round-trips byte
 * for byte; version 1 is read and written as version 3; garbage headers
 * are refused with a reason; bad lines, duplicates, unsorted records and
 * a stale next UID are repaired; add/drop/lookup, also after the table
 * of names was freed (unindex); the files: read of a
 * missing list, write + read back, no temporary file left, the lock with
 * stale-lock removal (old, or its holder on this host gone).
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "maildir_uidlist.h"

#define GUID	"3085f01b7f11094c501100008c4a11c1"

static char topdir[] = "/tmp/test_maildir_uidlistXXXXXX";

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

/* read_all - the content of PATH; -1 if missing */

static int read_all(const char *path, VSTRING *buf)
{
    char    tmp[1024];
    ssize_t n;
    int     fd;

    vstring_reset(buf);
    if ((fd = open(path, O_RDONLY)) < 0)
	return (-1);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
    return (0);
}

/* parse - maildir_uidlist_parse of a string; WHY may be NULL */

static MAILDIR_UIDLIST *parse(const char *text, VSTRING *why)
{
    VSTRING *reason = vstring_alloc(100);
    MAILDIR_UIDLIST *list;

    list = maildir_uidlist_parse(text, strlen(text), "test", reason);
    if (why)
	vstring_strcpy(why, STR(reason));
    vstring_free(reason);
    return (list);
}

/* uid_of - the UID of NAME, 0 if none */

static unsigned uid_of(MAILDIR_UIDLIST *list, const char *name)
{
    const MAILDIR_UIDREC *rec = maildir_uidlist_lookup(list, name, strlen(name));

    return (rec ? rec->uid : 0);
}

static void test_v3_roundtrip(void **state)
{
    const char *text =
    "3 V1275660208 N25022 G" GUID " Xfuture Y1\n"
    "1 :1275660208.M1P1.host,S=10,W=12\n"
    "7 W1234 S1200 :1275660300.M2P1.host\n"
    "25021 G00000000000000000000000000000001 P1234 O5 :1275660400.M3P1.host\n";
    VSTRING *out = vstring_alloc(100);
    MAILDIR_UIDLIST *list = parse(text, 0);
    const MAILDIR_UIDREC *rec;

    assert_non_null(list);
    assert_int_equal(list->uidvalidity, 1275660208);
    assert_int_equal(list->uidnext, 25022);
    assert_string_equal(list->guid, GUID);
    assert_string_equal(list->hdr_ext, "Xfuture Y1");
    assert_int_equal(list->live, 3);
    assert_int_equal(uid_of(list, "1275660208.M1P1.host,S=10,W=12"), 1);
    assert_int_equal(uid_of(list, "1275660400.M3P1.host"), 25021);
    rec = maildir_uidlist_lookup(list, "1275660300.M2P1.host:2,S", 20);
    assert_non_null(rec);
    assert_string_equal(rec->ext, "W1234 S1200");
    assert_int_equal(maildir_uidlist_ext_number(rec->ext, 'W'), 1234);
    assert_int_equal(maildir_uidlist_ext_number(rec->ext, 'S'), 1200);
    assert_int_equal(maildir_uidlist_ext_number(rec->ext, 'G'), -1);
    assert_int_equal(maildir_uidlist_ext_number("W12x S5", 'W'), -1);
    assert_int_equal(maildir_uidlist_ext_number("W12x S5", 'S'), 5);
    assert_int_equal(uid_of(list, "1275660300.M2P1"), 0);
    /* by UID */
    assert_string_equal(maildir_uidlist_find(list, 7)->name,
			"1275660300.M2P1.host");
    assert_string_equal(maildir_uidlist_find(list, 1)->name,
			"1275660208.M1P1.host,S=10,W=12");
    assert_int_equal(maildir_uidlist_find(list, 25021)->uid, 25021);
    assert_null(maildir_uidlist_find(list, 0));
    assert_null(maildir_uidlist_find(list, 2));
    assert_null(maildir_uidlist_find(list, 25022));
    maildir_uidlist_format(list, out);
    assert_string_equal(STR(out), text);

    /* add and drop */
    assert_int_equal(maildir_uidlist_add(list, "new.name:2,S", 8, "W5"), 25022);
    assert_int_equal(uid_of(list, "new.name"), 25022);
    assert_int_equal(list->uidnext, 25023);
    assert_int_equal(maildir_uidlist_drop(list, 7), 1);
    assert_int_equal(maildir_uidlist_drop(list, 7), 0);
    assert_int_equal(maildir_uidlist_drop(list, 8), 0);
    assert_int_equal(uid_of(list, "1275660300.M2P1.host"), 0);
    assert_null(maildir_uidlist_find(list, 7));	/* dropped */
    assert_string_equal(maildir_uidlist_find(list, 25022)->name, "new.name");
    maildir_uidlist_format(list, out);
    assert_string_equal(STR(out),
			"3 V1275660208 N25023 G" GUID " Xfuture Y1\n"
			"1 :1275660208.M1P1.host,S=10,W=12\n"
			"25021 G00000000000000000000000000000001 P1234 O5 "
			":1275660400.M3P1.host\n"
			"25022 W5 :new.name\n");
    maildir_uidlist_free(list);
    vstring_free(out);
}

static void test_v1_and_create(void **state)
{
    VSTRING *out = vstring_alloc(100);
    MAILDIR_UIDLIST *list = parse("1 1234567 10\r\n3 1111.M1P1.a\r\n"
				  "7 2222.M1P1.b:2,S\n", 0);

    assert_non_null(list);
    assert_int_equal(list->uidvalidity, 1234567);
    assert_int_equal(list->uidnext, 10);
    assert_int_equal(uid_of(list, "1111.M1P1.a"), 3);
    assert_int_equal(uid_of(list, "2222.M1P1.b"), 7);
    assert_int_equal(strlen(list->guid), 32);
    maildir_uidlist_format(list, out);
    assert_true(strncmp(STR(out), "3 V1234567 N10 G", 16) == 0);
    assert_non_null(strstr(STR(out), "\n3 :1111.M1P1.a\n7 :2222.M1P1.b\n"));
    maildir_uidlist_free(list);

    list = maildir_uidlist_create(42);
    assert_int_equal(list->uidnext, 1);
    assert_int_equal(strspn(list->guid, "0123456789abcdef"), 32);
    assert_int_equal(maildir_uidlist_add(list, "a", 1, ""), 1);
    maildir_uidlist_format(list, out);
    assert_non_null(strstr(STR(out), " N2 G"));
    assert_non_null(strstr(STR(out), "\n1 :a\n"));
    maildir_uidlist_free(list);
    vstring_free(out);
}

static void test_garbage(void **state)
{
    static const char binary[] = "\0\1\2garbage\n1 :a\n";
    const char *bad[] = {
	"",
	"\n",
	"garbage\n",
	"3\n",
	"3 N10 G" GUID "\n",			/* no UIDVALIDITY */
	"3 V0 N10\n",
	"3 Vx N10\n",
	"2 V1 N2\n",				/* unsupported version */
	"1 abc 10\n",
	"3 V1\001 N2\n",
    };
    VSTRING *why = vstring_alloc(100);
    MAILDIR_UIDLIST *list;
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	vstring_reset(why);
	list = parse(bad[i], why);
	if (list != 0)
	    fail_msg("accepted \"%s\"", bad[i]);
	assert_true(LEN(why) > 0);
    }
    list = maildir_uidlist_parse(binary, sizeof(binary) - 1, "test", why);
    assert_null(list);
    vstring_free(why);
}

static void test_repairs(void **state)
{
    MAILDIR_UIDLIST *list;
    VSTRING *out = vstring_alloc(100);

    /* bad lines are skipped */
    list = parse("3 V5 N10 Gnothex\n"
		 "1 :a\n"
		 "x :b\n"
		 "2 b\n"				/* no ':' in version 3 */
		 "3 W5\n"
		 "0 :c\n"
		 "4294967295 :d\n"
		 "4294967296 :e\n"
		 "5 :f\001\n"
		 "6 :g h\n"
		 "7 :.dot\n"
		 "8 :i/j\n"
		 "9 :\n"
		 "\n"
		 "10 W1 S2 :k\n"
		 "11 :l", 0);
    assert_non_null(list);
    assert_int_equal(list->live, 3);
    assert_int_equal(uid_of(list, "a"), 1);
    assert_int_equal(uid_of(list, "k"), 10);
    assert_int_equal(uid_of(list, "l"), 11);
    assert_int_equal(list->uidnext, 12);
    assert_int_equal(strlen(list->guid), 32);	/* a new one */
    maildir_uidlist_free(list);

    /* unsorted, duplicate UIDs and names; N below the highest UID */
    list = parse("3 V5 N3\n"
		 "9 :z\n"
		 "4 :y\n"
		 "4 :x\n"
		 "5 :z\n"
		 "1 :w\n", 0);
    assert_non_null(list);
    assert_int_equal(list->live, 3);
    assert_int_equal(uid_of(list, "w"), 1);
    assert_int_equal(uid_of(list, "y"), 4);
    assert_int_equal(uid_of(list, "x"), 0);
    assert_int_equal(uid_of(list, "z"), 5);
    assert_int_equal(list->uidnext, 10);
    maildir_uidlist_format(list, out);
    assert_true(strncmp(STR(out), "3 V5 N10 G", 10) == 0);
    assert_non_null(strstr(STR(out), "\n1 :w\n4 :y\n5 :z\n"));
    maildir_uidlist_free(list);

    /* UIDs run out */
    list = parse("3 V5 N4294967294\n", 0);
    assert_int_equal(maildir_uidlist_add(list, "a", 1, ""), 4294967294u);
    assert_int_equal(maildir_uidlist_add(list, "b", 1, ""), 0);
    maildir_uidlist_free(list);
    vstring_free(out);
}

static void test_files(void **state)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    MAILDIR_UIDLIST *list, *again;
    struct stat st, st2;
    struct timespec old[2];
    int     dir_fd;
    int     fd;

    dir_fd = open(topdir, O_RDONLY | O_DIRECTORY);
    assert_true(dir_fd >= 0);
    assert_int_equal(maildir_uidlist_read(dir_fd, topdir, &list, &st, why), 0);
    assert_null(list);
    assert_int_equal(st.st_ino, 0);

    list = maildir_uidlist_create(99);
    maildir_uidlist_add(list, "one", 3, "");
    assert_int_equal(maildir_uidlist_lock(dir_fd, topdir, why), 0);
    assert_int_equal(maildir_uidlist_write(dir_fd, topdir, list, &st, why), 0);
    maildir_uidlist_unlock(dir_fd, topdir);
    assert_int_equal(maildir_uidlist_read(dir_fd, topdir, &again, &st2, why), 1);
    assert_true(maildir_same_file(&st, &st2));
    assert_int_equal(again->uidvalidity, 99);
    assert_string_equal(again->guid, list->guid);
    assert_int_equal(uid_of(again, "one"), 1);
    maildir_uidlist_free(again);
    maildir_uidlist_free(list);
    vstring_sprintf(buf, "%s/%s.tmp%ld", topdir, MAILDIR_UIDLIST_FILE,
		    (long) getpid());
    assert_int_equal(access(STR(buf), F_OK), -1);
    vstring_sprintf(path, "%s/%s", topdir, MAILDIR_UIDLIST_LOCK);
    assert_int_equal(access(STR(path), F_OK), -1);

    /* garbage: no list, and a warning */
    assert_int_equal(maildir_replace_file(dir_fd, topdir, MAILDIR_UIDLIST_FILE,
					  "junk\n", 5, &st, why), 0);
    assert_int_equal(maildir_uidlist_read(dir_fd, topdir, &list, &st2, why), 0);
    assert_null(list);
    assert_true(maildir_same_file(&st, &st2));

    /* a stale lock goes; a held one is still there after the lock fails */
    fd = open(STR(path), O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    old[0].tv_sec = old[1].tv_sec = time((time_t *) 0) - 121;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    assert_int_equal(utimensat(AT_FDCWD, STR(path), old, 0), 0);
    assert_int_equal(maildir_uidlist_lock(dir_fd, topdir, why), 0);
    assert_int_equal(read_all(STR(path), buf), 0);
    vstring_sprintf(why, "%ld:", (long) getpid());
    assert_true(strncmp(STR(buf), STR(why), LEN(why)) == 0);
    maildir_uidlist_unlock(dir_fd, topdir);
    assert_int_equal(access(STR(path), F_OK), -1);

    /* a fresh lock of a process of this host that is gone goes at once */
    {
	char    host[256];
	pid_t   dead = fork();
	FILE   *fp;

	assert_true(dead >= 0);
	if (dead == 0)
	    _exit(0);
	assert_int_equal(waitpid(dead, 0, 0), dead);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_non_null(fp = fopen(STR(path), "w"));
	fprintf(fp, "%ld:%s", (long) dead, host);
	fclose(fp);
	assert_int_equal(maildir_uidlist_lock(dir_fd, topdir, why), 0);
	assert_int_equal(read_all(STR(path), buf), 0);
	vstring_sprintf(why, "%ld:", (long) getpid());
	assert_true(strncmp(STR(buf), STR(why), LEN(why)) == 0);
	maildir_uidlist_unlock(dir_fd, topdir);
    }
    close(dir_fd);
    vstring_free(why);
    vstring_free(path);
    vstring_free(buf);
}

static void test_names(void **state)
{
    assert_true(maildir_name_ok("1.M1P1.host,S=5:2,S", 19));
    assert_true(maildir_name_ok("x\xc3\xa9", 3));
    assert_false(maildir_name_ok("", 0));
    assert_false(maildir_name_ok(".hidden", 7));
    assert_false(maildir_name_ok("a b", 3));
    assert_false(maildir_name_ok("a/b", 3));
    assert_false(maildir_name_ok("a\tb", 3));
    assert_false(maildir_name_ok("a\177", 2));
}

/* Without its table of names (unindexed), a list still finds, adds and
 * drops: each of them after an unindex, and lookups after drops */

static void test_unindexed(void **state)
{
    const char *text =
    "3 V1275660208 N4 G" GUID "\n"
    "1 :a.host\n"
    "2 :b.host\n"
    "3 :c.host\n";
    MAILDIR_UIDLIST *list = parse(text, 0);

    assert_non_null(list);
    maildir_uidlist_unindex(list);
    assert_null(list->names);
    assert_int_equal(uid_of(list, "b.host"), 2);
    assert_non_null(list->names);
    maildir_uidlist_unindex(list);
    assert_int_equal(maildir_uidlist_drop(list, 2), 1);
    assert_int_equal(uid_of(list, "b.host"), 0);
    assert_int_equal(uid_of(list, "c.host"), 3);
    maildir_uidlist_unindex(list);
    assert_int_equal(maildir_uidlist_add(list, "d.host", 6, ""), 4);
    assert_int_equal(uid_of(list, "d.host"), 4);
    assert_int_equal(uid_of(list, "a.host"), 1);
    assert_int_equal(maildir_uidlist_drop(list, 1), 1);
    assert_int_equal(uid_of(list, "a.host"), 0);
    maildir_uidlist_unindex(list);
    maildir_uidlist_unindex(list);
    assert_int_equal(uid_of(list, "a.host"), 0);
    assert_int_equal(uid_of(list, "d.host"), 4);
    assert_int_equal(list->live, 2);
    maildir_uidlist_free(list);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_v3_roundtrip),
	cmocka_unit_test(test_v1_and_create),
	cmocka_unit_test(test_garbage),
	cmocka_unit_test(test_repairs),
	cmocka_unit_test(test_files),
	cmocka_unit_test(test_names),
	cmocka_unit_test(test_unindexed),
    };

    msg_init("test_maildir_uidlist", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
