/*
 * test_attr.c - unit tests for lib/util/attr.c (inter-process request lists).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sys_defs.h"
#include <fcntl.h>
#include "attr.h"
#include "vstream.h"
#include "vstring.h"

static VSTREAM *tmp_stream(char *path)
{
    int     fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    return (vstream_fdopen(fd, O_RDWR));
}

static VSTREAM *stream_with(const char *text)
{
    char    path[] = "/tmp/test_attr.XXXXXX";
    VSTREAM *fp = tmp_stream(path);

    vstream_fputs(text, fp);
    vstream_flush(fp);
    vstream_seek(fp, 0);
    return (fp);
}

static void test_round_trip(void **state)
{
    char    path[] = "/tmp/test_attr.XXXXXX";
    VSTREAM *fp = tmp_stream(path);
    ATTR_LIST list;

    attr_put(fp, "sender", "a@b");
    attr_put(fp, "reason", "line1\nline2 100% done\t");
    attr_put_long(fp, "offset", 123456789L);
    attr_put(fp, "empty", "");
    assert_int_equal(attr_end(fp), 0);
    attr_put(fp, "second", "x");
    attr_end(fp);
    vstream_seek(fp, 0);
    assert_int_equal(attr_get_list(fp, &list), 0);
    assert_int_equal(list.count, 4);
    assert_string_equal(attr_find(&list, "sender"), "a@b");
    assert_string_equal(attr_find(&list, "reason"), "line1\nline2 100% done\t");
    assert_int_equal(attr_find_long(&list, "offset", -1), 123456789L);
    assert_string_equal(attr_find(&list, "empty"), "");
    assert_null(attr_find(&list, "missing"));
    assert_int_equal(attr_find_long(&list, "missing", 7), 7);
    attr_list_free(&list);
    assert_int_equal(attr_get_list(fp, &list), 0);
    assert_string_equal(attr_find(&list, "second"), "x");
    attr_list_free(&list);
    assert_int_equal(attr_get_list(fp, &list), -1);	/* EOF */
    vstream_close(fp);
}

static void test_bad_input(void **state)
{
    const char *bad[] = {
	"noequals\n\n",			/* no '=' */
	"Upper=x\n\n",			/* bad name */
	"=x\n\n",			/* empty name */
	"a=%zz\n\n",			/* bad escape */
	"a=%00\n\n",			/* NUL */
	"a=b\n",			/* truncated: no end line */
	"a=b",				/* truncated line */
	"\x01\x02\xff=junk\n\n",	/* binary junk */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	VSTREAM *fp = stream_with(bad[i]);
	ATTR_LIST list;

	assert_int_equal(attr_get_list(fp, &list), -1);
	assert_int_equal(list.count, 0);
	vstream_close(fp);
    }
}

static void test_too_many_attributes(void **state)
{
    char    path[] = "/tmp/test_attr.XXXXXX";
    VSTREAM *fp = tmp_stream(path);
    ATTR_LIST list;

    for (int i = 0; i < ATTR_MAX_COUNT + 1; i++)
	attr_putf(fp, "n", "%d", i);
    attr_end(fp);
    vstream_seek(fp, 0);
    assert_int_equal(attr_get_list(fp, &list), -1);
    vstream_close(fp);
}

/* attr_scan_list: a request collected piece by piece in an event loop */
static void test_scan_list(void **state)
{
    const char *req = "request=flush\nqueue_id=ABC%0Ad\n\n";
    ATTR_LIST list;
    size_t  len = strlen(req);

    /* every proper prefix is "not yet complete", never an error */
    for (size_t n = 0; n < len; n++) {
	assert_int_equal(attr_scan_list(req, n, &list), 0);
	assert_int_equal(list.count, 0);
    }
    assert_int_equal(attr_scan_list(req, len, &list), 1);
    assert_int_equal(list.count, 2);
    assert_string_equal(attr_find(&list, "request"), "flush");
    assert_string_equal(attr_find(&list, "queue_id"), "ABC\nd");
    attr_list_free(&list);
    /* an empty request */
    assert_int_equal(attr_scan_list("\n", 1, &list), 1);
    assert_int_equal(list.count, 0);
}

/* attr_scan_next: requests one after another in one buffer */
static void test_scan_next(void **state)
{
    const char *two = "request=connect\nident=smtp:1.2.3.4\n\nrequest=disconnect\n\nreq";
    size_t  len = strlen(two), used;
    ATTR_LIST list;

    assert_int_equal(attr_scan_next(two, len, &list, &used), 1);
    assert_int_equal(used, strlen("request=connect\nident=smtp:1.2.3.4\n\n"));
    assert_string_equal(attr_find(&list, "ident"), "smtp:1.2.3.4");
    attr_list_free(&list);
    two += used;
    len -= used;
    assert_int_equal(attr_scan_next(two, len, &list, &used), 1);
    assert_int_equal(used, strlen("request=disconnect\n\n"));
    assert_string_equal(attr_find(&list, "request"), "disconnect");
    attr_list_free(&list);
    assert_int_equal(attr_scan_next(two + used, len - used, &list, &used), 0);
    assert_int_equal(used, 0);
    assert_int_equal(attr_scan_next("bad\n\n", 5, &list, &used), -1);
}

static void test_scan_list_bad_input(void **state)
{
    const char *bad[] = {"noequals\n", "Upper=x\n", "a=%zz\n", "a=%00\n",
    "\x01\x02\xff=junk\n"};
    ATTR_LIST list;
    VSTRING *big = vstring_alloc(ATTR_MAX_LINE + 10);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	assert_int_equal(attr_scan_list(bad[i], strlen(bad[i]), &list), -1);
	assert_int_equal(list.count, 0);
    }
    /* an unfinished line that can no longer become good is bad at once */
    assert_int_equal(attr_scan_list("C\x01garbage", 9, &list), -1);
    assert_int_equal(attr_scan_list("=value", 6, &list), -1);
    assert_int_equal(attr_scan_list("name=va\0", 8, &list), -1);
    assert_int_equal(attr_scan_list("good_name=", 10, &list), 0);
    /* a NUL byte inside a line */
    assert_int_equal(attr_scan_list("a=b\0c\n\n", 7, &list), -1);
    /* a line that can never end within the limit */
    for (int i = 0; i < ATTR_MAX_LINE + 5; i++)
	vstring_addch(big, 'x');
    assert_int_equal(attr_scan_list(STR(big), LEN(big), &list), -1);
    vstring_free(big);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_scan_list),
	cmocka_unit_test(test_scan_next),
	cmocka_unit_test(test_scan_list_bad_input),
	cmocka_unit_test(test_bad_input),
	cmocka_unit_test(test_too_many_attributes),
    };

    return (cmocka_run_group_tests_name("attr", tests, 0, 0));
}
