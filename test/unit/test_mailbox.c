/*
 * test_mailbox.c - unit tests for lib/store/mailbox.c (Maildir and mbox delivery).
 *
 * Maildir: one file in new/ with the content, directories created;
 * new/ fsyncs left to a MAILDIR_SYNC batch: one per directory, bounded,
 * descriptors closed, a failed fsync reported.
 * mbox: From line in Postfix's shape, >From quoting (also across write
 * boundaries), appends, no half message after a failing source or a
 * write error, stale dot-lock removal, fcntl lock held by mbox_lock.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <libgen.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <utime.h>
#include <cmocka.h>

#include "msg.h"
#include "vstring.h"
#include "mailbox.h"

static char topdir[] = "/tmp/test_mailboxXXXXXX";

typedef struct {
    const char *data;
    size_t  len;
    size_t  step;			/* bytes per write call */
    ssize_t fail_after;			/* return -1 after this many bytes, or -1 */
} SOURCE;

static int source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    SOURCE *s = ctx;
    size_t  off;

    for (off = 0; off < s->len; off += s->step) {
	size_t  n = s->len - off < s->step ? s->len - off : s->step;

	if (s->fail_after >= 0 && off >= (size_t) s->fail_after)
	    return (-1);
	if (write_fn(sink, s->data + off, n) != 0)
	    return (-1);
    }
    return (0);
}

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

/* read_file - whole file into BUF; -1 if missing */

static int read_file(const char *path, VSTRING *buf)
{
    char    tmp[4096];
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

/* list_dir - the single file name in DIR, with the count in *COUNT */

static void list_dir(const char *dir, VSTRING *name, int *count)
{
    DIR    *dp = opendir(dir);
    struct dirent *de;

    assert_non_null(dp);
    *count = 0;
    while ((de = readdir(dp)) != 0) {
	if (de->d_name[0] == '.')
	    continue;
	vstring_strcpy(name, de->d_name);
	(*count)++;
    }
    closedir(dp);
}

static void test_maildir(void **state)
{
    VSTRING *md = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *msg = "Subject: test\n\nFrom the body\n";
    SOURCE  src = {msg, strlen(msg), 5, -1};
    int     temporary = -1;
    int     count;
    struct stat st;

    vstring_sprintf(md, "%s/Maildir", topdir);
    if (maildir_deliver(STR(md), geteuid(), source, &src, why, &temporary) != 0)
	fail_msg("maildir_deliver: %s", STR(why));
    vstring_sprintf(path, "%s/new", STR(md));
    list_dir(STR(path), name, &count);
    assert_int_equal(count, 1);
    assert_non_null(strstr(STR(name), ".M"));
    assert_non_null(strstr(STR(name), "P"));
    assert_null(strchr(STR(name), '/'));
    assert_null(strchr(STR(name), ':'));
    vstring_sprintf(path, "%s/new/%s", STR(md), STR(name));
    assert_int_equal(read_file(STR(path), buf), 0);
    assert_string_equal(STR(buf), msg);	/* no From quoting in Maildir */
    assert_int_equal(stat(STR(path), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    vstring_sprintf(path, "%s/tmp", STR(md));
    list_dir(STR(path), name, &count);
    assert_int_equal(count, 0);
    vstring_sprintf(path, "%s/cur", STR(md));
    assert_int_equal(stat(STR(path), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* a second delivery gets its own name */
    assert_int_equal(maildir_deliver(STR(md), geteuid(), source, &src, why, &temporary), 0);
    vstring_sprintf(path, "%s/new", STR(md));
    list_dir(STR(path), name, &count);
    assert_int_equal(count, 2);

    /* a failing source leaves nothing behind */
    src.fail_after = 10;
    assert_int_equal(maildir_deliver(STR(md), geteuid(), source, &src, why, &temporary), -1);
    assert_int_equal(temporary, 1);
    assert_true(LEN(why) > 0);
    list_dir(STR(path), name, &count);
    assert_int_equal(count, 2);
    vstring_sprintf(path, "%s/tmp", STR(md));
    list_dir(STR(path), name, &count);
    assert_int_equal(count, 0);

    /* a Maildir path through a regular file fails */
    vstring_sprintf(path, "%s/plainfile", topdir);
    close(open(STR(path), O_WRONLY | O_CREAT, 0600));
    vstring_strcat(path, "/Maildir");
    src.fail_after = -1;
    assert_int_equal(maildir_deliver(STR(path), geteuid(), source, &src, why, &temporary), -1);
    assert_true(LEN(why) > 0);

    vstring_free(md);
    vstring_free(path);
    vstring_free(name);
    vstring_free(buf);
    vstring_free(why);
}

/* from_line - what the From line must be (Postfix: "From %s  %.24s") */

static void from_line(VSTRING *buf, const char *sender, time_t when)
{
    struct tm tm;
    char    date[32];

    localtime_r(&when, &tm);
    asctime_r(&tm, date);
    vstring_sprintf(buf, "From %s  %.24s\n", sender, date);
}

static void test_mbox(void **state)
{
    VSTRING *mbox = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *msg = "From start\nSubject: x\n\nFrom here\nFrom\n>From x\nFromage\n Fro\nFro";
    const char *quoted = ">From start\nSubject: x\n\n>From here\nFrom\n>From x\nFromage\n Fro\nFro\n\n";
    SOURCE  src = {msg, strlen(msg), 1, -1};
    time_t  when = 1700000000;
    int     temporary;
    size_t  step;

    vstring_sprintf(mbox, "%s/mbox", topdir);
    /* the quoting must not depend on how the source splits its writes */
    for (step = 1; step <= 8; step++) {
	unlink(STR(mbox));
	src.step = step;
	if (mbox_deliver(STR(mbox), "a@b.c", when, source, &src, why, &temporary) != 0)
	    fail_msg("mbox_deliver: %s", STR(why));
	from_line(want, "a@b.c", when);
	vstring_strcat(want, quoted);
	assert_int_equal(read_file(STR(mbox), buf), 0);
	assert_string_equal(STR(buf), STR(want));
    }

    /* a second delivery is appended; null sender is MAILER-DAEMON */
    src.data = "x\n";
    src.len = 2;
    assert_int_equal(mbox_deliver(STR(mbox), "", when, source, &src, why, &temporary), 0);
    from_line(buf, "MAILER-DAEMON", when);
    vstring_strcat(want, STR(buf));
    vstring_strcat(want, "x\n\n");
    assert_int_equal(read_file(STR(mbox), buf), 0);
    assert_string_equal(STR(buf), STR(want));

    /* a failing source leaves no half message */
    src.data = msg;
    src.len = strlen(msg);
    src.fail_after = 20;
    assert_int_equal(mbox_deliver(STR(mbox), "a@b", when, source, &src, why, &temporary), -1);
    assert_int_equal(temporary, 1);
    assert_int_equal(read_file(STR(mbox), buf), 0);
    assert_string_equal(STR(buf), STR(want));
    src.fail_after = -1;

    /* a write error (file size limit) too, and it is permanent like EDQUOT */
    {
	struct rlimit old, lim;
	char   *big = malloc(200000);
	SOURCE  bsrc = {big, 200000, 65536, -1};

	memset(big, 'y', 200000);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(mbox_deliver(STR(mbox), "a@b", when, source, &bsrc, why, &temporary), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(temporary, 0);
	assert_non_null(strstr(STR(why), "large"));
	free(big);
	assert_int_equal(read_file(STR(mbox), buf), 0);
	assert_string_equal(STR(buf), STR(want));
    }

    /* the lock file is gone afterwards */
    vstring_sprintf(buf, "%s.lock", STR(mbox));
    assert_int_equal(access(STR(buf), F_OK), -1);

    /* a stale dot-lock is removed */
    {
	struct utimbuf ut = {time(0) - 400, time(0) - 400};

	close(open(STR(buf), O_WRONLY | O_CREAT, 0600));
	assert_int_equal(utime(STR(buf), &ut), 0);
	assert_int_equal(mbox_deliver(STR(mbox), "a@b", when, source, &src, why, &temporary), 0);
	assert_int_equal(access(STR(buf), F_OK), -1);
    }

    /* not a regular file */
    assert_int_equal(mbox_deliver(topdir, "a@b", when, source, &src, why, &temporary), -1);

    vstring_free(mbox);
    vstring_free(want);
    vstring_free(buf);
    vstring_free(why);
}

static void test_mbox_lock(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     fd;
    pid_t   pid;
    int     status;

    vstring_sprintf(path, "%s/locked", topdir);
    fd = open(STR(path), O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(mbox_lock(fd, STR(path), why), 0);
    if ((pid = fork()) == 0) {
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int     fd2 = open(STR(path), O_RDWR);

	_exit(fcntl(fd2, F_SETLK, &fl) == 0 ? 1 : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    vstring_sprintf(why, "%s.lock", STR(path));
    assert_int_equal(access(STR(why), F_OK), 0);
    mbox_unlock(fd, STR(path));
    assert_int_equal(access(STR(why), F_OK), -1);
    if ((pid = fork()) == 0) {
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int     fd2 = open(STR(path), O_RDWR);

	_exit(fcntl(fd2, F_SETLK, &fl) == 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);

    /* directory not writable: fcntl lock only, no error (as nobody if root) */
    close(fd);
    vstring_sprintf(path, "%s/ro", topdir);
    assert_int_equal(mkdir(STR(path), 0700), 0);
    vstring_strcat(path, "/mbox");
    fd = open(STR(path), O_RDWR | O_CREAT, 0600);
    if ((pid = fork()) == 0) {
	if (geteuid() == 0) {
	    if (chmod(topdir, 0711) < 0 || chown(STR(path), 65534, 65534) < 0
		|| setgid(65534) < 0 || setuid(65534) < 0)
		_exit(2);
	} else if (chmod(dirname(STR(path)), 0500) < 0) {
	    _exit(2);
	}
	vstring_sprintf(path, "%s/ro/mbox", topdir);
	_exit(mbox_lock(fd, STR(path), why) == 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(chmod(topdir, 0700), 0);
    close(fd);
    vstring_free(path);
    vstring_free(why);
}

/* Another owner's Maildir, and links planted inside or instead of one */
/* count_fds - open descriptors of this process */

static int count_fds(void)
{
    DIR    *dp = opendir("/proc/self/fd");
    struct dirent *de;
    int     n = 0;

    assert_non_null(dp);
    while ((de = readdir(dp)) != 0)
	if (de->d_name[0] != '.')
	    n++;
    closedir(dp);
    return (n - 1);				/* not opendir's own */
}

/* test_maildir_sync_batch - new/ fsyncs left to one MAILDIR_SYNC */

static void test_maildir_sync_batch(void **state)
{
    VSTRING *md = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *msg = "Subject: batch\n\nbody\n";
    SOURCE  src = {msg, strlen(msg), 64, -1};
    MAILDIR_SYNC sync;
    int     temporary;
    int     fds = count_fds();
    int     count;
    int     i;

    maildir_sync_init(&sync);
    /* three messages in A, two in B: two directories, five uses */
    for (i = 0; i < 5; i++) {
	vstring_sprintf(md, "%s/Batch%c", topdir, i < 3 ? 'A' : 'B');
	assert_int_equal(maildir_deliver_later(STR(md), geteuid(), source, &src,
					       &sync, why, &temporary), 0);
    }
    assert_int_equal(sync.count, 2);
    assert_int_equal(sync.uses, 5);
    assert_int_equal(count_fds(), fds + 2);
    vstring_sprintf(md, "%s/BatchA/new", topdir);
    list_dir(STR(md), name, &count);
    assert_int_equal(count, 3);			/* linked at once, synced later */
    assert_int_equal(maildir_sync_run(&sync, why), 0);
    assert_int_equal(sync.count, 0);
    assert_int_equal(count_fds(), fds);

    /* more directories than the batch holds: the rest are fsynced at once */
    for (i = 0; i < MAILDIR_SYNC_MAX + 3; i++) {
	vstring_sprintf(md, "%s/Many%d", topdir, i);
	assert_int_equal(maildir_deliver_later(STR(md), geteuid(), source, &src,
					       &sync, why, &temporary), 0);
	vstring_sprintf(md, "%s/Many%d/new", topdir, i);
	list_dir(STR(md), name, &count);
	assert_int_equal(count, 1);
    }
    assert_int_equal(sync.count, MAILDIR_SYNC_MAX);
    assert_int_equal(sync.uses, 5 + MAILDIR_SYNC_MAX);

    /* a failing fsync is reported, and every descriptor still closed */
    close(sync.fds[0]);				/* fsync: EBADF */
    assert_int_equal(maildir_sync_run(&sync, why), -1);
    assert_non_null(strstr(STR(why), "fsync maildir directory"));
    assert_int_equal(sync.count, 0);
    assert_int_equal(count_fds(), fds);

    /* free without sync closes them too */
    vstring_sprintf(md, "%s/BatchA", topdir);
    assert_int_equal(maildir_deliver_later(STR(md), geteuid(), source, &src,
					   &sync, why, &temporary), 0);
    assert_int_equal(count_fds(), fds + 1);
    maildir_sync_free(&sync);
    assert_int_equal(count_fds(), fds);
    /* no batch: maildir_deliver_later fsyncs at once, as maildir_deliver */
    assert_int_equal(maildir_deliver_later(STR(md), geteuid(), source, &src,
					   (MAILDIR_SYNC *) 0, why, &temporary), 0);
    assert_int_equal(count_fds(), fds);
    vstring_free(md);
    vstring_free(name);
    vstring_free(why);
}

static void test_maildir_owner_and_links(void **state)
{
    VSTRING *md = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *msg = "Subject: x\n\nbody\n";
    SOURCE  src = {msg, strlen(msg), 100, -1};
    int     temporary;

    vstring_sprintf(md, "%s/Owned", topdir);
    assert_int_equal(maildir_deliver(STR(md), geteuid(), source, &src, why, &temporary), 0);
    /* the same Maildir for a recipient who does not own it */
    assert_int_equal(maildir_deliver(STR(md), geteuid() + 1, source, &src, why, &temporary), -1);
    assert_non_null(strstr(STR(why), "is not owned by recipient"));
    assert_int_equal(temporary, 1);
    /* new/ replaced by a symbolic link: never followed */
    vstring_sprintf(path, "%s/new", STR(md));
    assert_int_equal(rename(STR(path), STR(vstring_sprintf(why, "%s/elsewhere", topdir))), 0);
    assert_int_equal(symlink(STR(why), STR(path)), 0);
    assert_int_equal(maildir_deliver(STR(md), geteuid(), source, &src, why, &temporary), -1);
    assert_non_null(strstr(STR(why), "is not a directory"));
    /* the Maildir itself a link made by its owner: followed (a home
     * Maildir that lives elsewhere); by someone else: refused */
    vstring_sprintf(path, "%s/LinkedMaildir", topdir);
    vstring_sprintf(md, "%s/Target", topdir);
    assert_int_equal(maildir_deliver(STR(md), geteuid(), source, &src, why, &temporary), 0);
    assert_int_equal(symlink(STR(md), STR(path)), 0);
    assert_int_equal(maildir_deliver(STR(path), geteuid(), source, &src, why, &temporary), 0);
    if (geteuid() == 0) {
	assert_int_equal(lchown(STR(path), 65534, 65534), 0);
	assert_int_equal(maildir_deliver(STR(path), 0, source, &src, why, &temporary), -1);
	assert_non_null(strstr(STR(why), "symbolic link"));
    }
    vstring_free(md);
    vstring_free(path);
    vstring_free(why);
}

/* mbox_open: links, a wrong owner, a file that is not regular */
static void test_mbox_open_refuses(void **state)
{
    VSTRING *mbox = vstring_alloc(100);
    VSTRING *target = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     temporary, fd;

    vstring_sprintf(target, "%s/target", topdir);
    close(open(STR(target), O_WRONLY | O_CREAT, 0600));
    vstring_sprintf(mbox, "%s/linked.mbox", topdir);
    assert_int_equal(symlink(STR(target), STR(mbox)), 0);
    if (geteuid() == 0)
	assert_int_equal(lchown(STR(mbox), 65534, 65534), 0);
    assert_int_equal(mbox_open(STR(mbox), -1, -1, -1, &st, why, &temporary), -1);
    assert_string_equal(STR(why), "file is a symbolic link");

    vstring_sprintf(mbox, "%s/hard.mbox", topdir);
    assert_int_equal(link(STR(target), STR(mbox)), 0);
    assert_int_equal(mbox_open(STR(mbox), -1, -1, -1, &st, why, &temporary), -1);
    assert_string_equal(STR(why), "file has 2 hard links");

    vstring_sprintf(mbox, "%s/owned.mbox", topdir);
    fd = mbox_open(STR(mbox), geteuid(), -1, -1, &st, why, &temporary);
    assert_true(fd >= 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    close(fd);
    assert_int_equal(mbox_open(STR(mbox), geteuid() + 1, -1, -1, &st, why, &temporary), -1);
    assert_non_null(strstr(STR(why), "is not owned by recipient"));
    assert_int_equal(temporary, 1);

    vstring_sprintf(mbox, "%s/fifo.mbox", topdir);
    assert_int_equal(mkfifo(STR(mbox), 0600), 0);
    /* refused at once (ENXIO: no reader), never a hang */
    assert_int_equal(mbox_open(STR(mbox), -1, -1, -1, &st, why, &temporary), -1);
    /* a directory where the mbox should be */
    vstring_sprintf(mbox, "%s/dir.mbox", topdir);
    assert_int_equal(mkdir(STR(mbox), 0700), 0);
    assert_int_equal(mbox_open(STR(mbox), -1, -1, -1, &st, why, &temporary), -1);
    assert_non_null(strstr(STR(why), "directory"));
    vstring_free(mbox);
    vstring_free(target);
    vstring_free(why);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_maildir),
	cmocka_unit_test(test_mbox),
	cmocka_unit_test(test_mbox_lock),
	cmocka_unit_test(test_maildir_owner_and_links),
	cmocka_unit_test(test_maildir_sync_batch),
	cmocka_unit_test(test_mbox_open_refuses),
    };

    msg_init("test_mailbox", MSG_TO_STDERR);
    msg_stderr(0);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
