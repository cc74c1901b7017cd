/*
 * test_mail_queue.c - unit tests for the incremental queue walk of
 * lib/global/mail_queue.c (mail_queue_scan_open/next/close).
 *
 * In a fresh temporary queue (deferred/ hashed two levels deep): 500
 * files spread over the hash directories are each returned once, names
 * that are no queue ids and stray directories are skipped, a missing or
 * empty queue ends at once, a walk may be closed half way, and a file
 * removed behind the walk is simply not returned.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"

#define NFILES	500

static char topdir[] = "/tmp/test_mail_queueXXXXXX";

static int setup(void **state)
{
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    if (mkdtemp(topdir) == 0)
	return (-1);
    vstring_sprintf(path, "%s/main.cf", topdir);
    if ((fp = fopen(STR(path), "w")) == 0)
	return (-1);
    fprintf(fp, "queue_directory = %s\nhash_queue_names = deferred, defer\n"
	    "hash_queue_depth = 2\n", topdir);
    fclose(fp);
    mail_conf_set_dir(topdir);
    mail_conf_read(0);
    mail_queue_chdir();
    mail_queue_mkdirs(getuid(), getgid());
    vstring_free(path);
    return (0);
}

static int teardown(void **state)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", topdir);
    if (chdir("/") < 0 || system(STR(cmd)) != 0)
	return (-1);
    vstring_free(cmd);
    return (0);
}

/* make_id - a queue id whose microsecond digits spread over the hash dirs */

static void make_id(char *buf, int n)
{
    snprintf(buf, MAIL_QUEUE_ID_LEN + 1, "6919C2F7%05X", (unsigned) (n * 2053) & 0xFFFFF);
}

/* put_file - an empty file ID in QUEUE */

static void put_file(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    int     fd;

    mail_queue_dir(path, queue, id);
    if (mkdir(STR(path), 0700) < 0 && errno != EEXIST) {
	char   *slash = strrchr(STR(path), '/');

	*slash = 0;
	assert_int_equal(mkdir(STR(path), 0700) == 0 || errno == EEXIST, 1);
	*slash = '/';
	assert_int_equal(mkdir(STR(path), 0700) == 0 || errno == EEXIST, 1);
    }
    fd = open(mail_queue_path(path, queue, id), O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    vstring_free(path);
}

/* walk - count what a walk of QUEUE returns; SEEN[i] counts id i */

static int walk(const char *queue, int *seen)
{
    MAIL_QUEUE_SCAN *scan = mail_queue_scan_open(queue);
    const char *id;
    int     count = 0;

    while ((id = mail_queue_scan_next(scan)) != 0) {
	char    want[MAIL_QUEUE_ID_LEN + 1];
	int     i;

	assert_true(mail_queue_id_ok(id));
	for (i = 0; i < NFILES; i++) {
	    make_id(want, i);
	    if (strcmp(want, id) == 0)
		break;
	}
	assert_true(i < NFILES);
	seen[i]++;
	count++;
    }
    mail_queue_scan_close(scan);
    return (count);
}

static void test_walk_hashed(void **state)
{
    static int seen[NFILES];
    char    id[MAIL_QUEUE_ID_LEN + 1];
    int     fd;

    for (int i = 0; i < NFILES; i++) {
	make_id(id, i);
	put_file(MAIL_QUEUE_DEFERRED, id);
    }
    /* junk: a bad name, a lower-case name, a deeper stray directory */
    fd = open("deferred/README", O_CREAT | O_WRONLY, 0600);
    close(fd);
    fd = open("deferred/6919c2f70a3b1", O_CREAT | O_WRONLY, 0600);
    close(fd);
    assert_int_equal(mkdir("deferred/zz", 0700), 0);

    memset(seen, 0, sizeof(seen));
    assert_int_equal(walk(MAIL_QUEUE_DEFERRED, seen), NFILES);
    for (int i = 0; i < NFILES; i++)
	assert_int_equal(seen[i], 1);
}

static void test_walk_empty_missing(void **state)
{
    int     seen[NFILES];

    memset(seen, 0, sizeof(seen));
    assert_int_equal(walk(MAIL_QUEUE_INCOMING, seen), 0);
    assert_int_equal(walk("no-such-queue", seen), 0);
}

static void test_walk_close_early_and_remove(void **state)
{
    MAIL_QUEUE_SCAN *scan = mail_queue_scan_open(MAIL_QUEUE_DEFERRED);
    static int seen[NFILES];
    char    id[MAIL_QUEUE_ID_LEN + 1];

    /* half way, then closed: nothing leaks or breaks */
    for (int i = 0; i < NFILES / 2; i++)
	assert_non_null(mail_queue_scan_next(scan));
    mail_queue_scan_close(scan);

    /* files removed behind a walk are not returned */
    for (int i = 0; i < NFILES; i += 2) {
	make_id(id, i);
	assert_int_equal(mail_queue_remove(MAIL_QUEUE_DEFERRED, id), 0);
    }
    memset(seen, 0, sizeof(seen));
    assert_int_equal(walk(MAIL_QUEUE_DEFERRED, seen), NFILES / 2);
    for (int i = 0; i < NFILES; i++)
	assert_int_equal(seen[i], i % 2);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_walk_hashed),
	cmocka_unit_test(test_walk_empty_missing),
	cmocka_unit_test(test_walk_close_early_and_remove),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
