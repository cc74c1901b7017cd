/*
 * fuzz_attr.c - libFuzzer harness for attr_get_list() in lib/util/attr.c.
 *
 * Built and run by test/fuzz/run.sh.  The input is the byte stream a
 * delivery agent or qmgr would read from its peer (a memfd behind a
 * VSTREAM).  Requests are read with attr_get_list() until it fails.  Each
 * request read must be well formed (count within ATTR_MAX_COUNT, names
 * [a-z0-9_]) and must come back unchanged through attr_put() + attr_end()
 * + attr_get_list(); a failed read must leave an empty list.  A broken
 * invariant calls abort().  The same bytes also go to attr_scan_list(),
 * which must agree with attr_get_list() on a complete request.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "msg.h"
#include "vstream.h"
#include "attr.h"

#define FUZZ_MAX_INPUT	(512 * 1024)
#define FUZZ_MAX_LISTS	64		/* requests read per input */

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_attr: %s\n", what);
    abort();
}

/* memfd_stream - a read/write VSTREAM on an anonymous file holding DATA */

static VSTREAM *memfd_stream(const uint8_t *data, size_t size)
{
    int     fd = memfd_create("fuzz_attr", MFD_CLOEXEC);

    if (fd < 0) {
	perror("memfd_create");
	abort();
    }
    if (size > 0 && write(fd, data, size) != (ssize_t) size) {
	perror("write memfd");
	abort();
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
	perror("lseek memfd");
	abort();
    }
    return (vstream_fdopen(fd, O_RDWR));
}

/* check_list - the shape of a list attr_get_list accepted */

static void check_list(const ATTR_LIST *list)
{
    int     i;

    if (list->count < 0 || list->count > ATTR_MAX_COUNT)
	fail("attribute count out of range");
    for (i = 0; i < list->count; i++) {
	if (list->names[i] == 0 || list->values[i] == 0 || *list->names[i] == 0)
	    fail("missing attribute name or value");
	if (strspn(list->names[i], "abcdefghijklmnopqrstuvwxyz0123456789_")
	    != strlen(list->names[i]))
	    fail("bad character in an accepted attribute name");
	if (attr_find(list, list->names[i]) == 0)
	    fail("attr_find cannot find an accepted name");
    }
}

/* check_roundtrip - write LIST with attr_put, read it back, compare */

static void check_roundtrip(const ATTR_LIST *list)
{
    VSTREAM *out = memfd_stream((const uint8_t *) "", 0);
    ATTR_LIST again;
    int     i;

    for (i = 0; i < list->count; i++)
	attr_put(out, list->names[i], list->values[i]);
    if (attr_end(out) < 0 || vstream_seek(out, 0) < 0)
	fail("attr_put/attr_end to a memfd failed");
    if (attr_get_list(out, &again) != 0)
	fail("a list written by attr_put does not read back");
    if (again.count != list->count)
	fail("attr_put + attr_get_list changed the count");
    for (i = 0; i < list->count; i++)
	if (strcmp(again.names[i], list->names[i]) != 0
	    || strcmp(again.values[i], list->values[i]) != 0)
	    fail("attr_put + attr_get_list changed a name or value");
    attr_list_free(&again);
    vstream_close(out);
}

/*
 * check_scan - attr_scan_list (qmgr's event-loop reader) on the same
 * bytes: a complete request must agree with attr_get_list's first one,
 * and no answer may leave attributes behind when it is not "complete".
 */
static void check_scan(const uint8_t *data, size_t size)
{
    ATTR_LIST scanned, read;
    VSTREAM *in;
    int     status;

    status = attr_scan_list((const char *) data, size, &scanned);
    if (status != 1) {
	if (scanned.count != 0)
	    fail("attr_scan_list left attributes behind");
	return;
    }
    check_list(&scanned);
    in = memfd_stream(data, size);
    if (attr_get_list(in, &read) != 0 || read.count != scanned.count)
	fail("attr_scan_list accepted what attr_get_list refuses");
    for (int i = 0; i < read.count; i++)
	if (strcmp(read.names[i], scanned.names[i]) != 0
	    || strcmp(read.values[i], scanned.values[i]) != 0)
	    fail("attr_scan_list and attr_get_list disagree");
    attr_list_free(&read);
    attr_list_free(&scanned);
    vstream_close(in);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_attr", 0);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTREAM *in;
    ATTR_LIST list;
    int     n;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    check_scan(data, size);
    in = memfd_stream(data, size);
    for (n = 0; n < FUZZ_MAX_LISTS; n++) {
	if (attr_get_list(in, &list) != 0) {
	    if (list.count != 0)
		fail("failed attr_get_list left attributes behind");
	    break;
	}
	check_list(&list);
	check_roundtrip(&list);
	(void) attr_find_long(&list, "size", -1);
	attr_list_free(&list);
    }
    vstream_close(in);
    return (0);
}
