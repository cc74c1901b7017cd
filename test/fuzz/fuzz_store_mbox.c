/*
 * fuzz_store_mbox.c - libFuzzer harness for the mbox driver of the mailbox
 * store (lib/store/store_mbox.c, mbox_scan.c, mbox_parse.c, mbox_write.c).
 *
 * Built and run by test/fuzz/run.sh.  The input becomes an mbox file in a
 * private directory (on /dev/shm when there is one: rewrites fsync), and
 * goes through what pop3d and imapd do with it:
 *   1. a read-only open: UIDs ascend and stay below UIDNEXT; every message
 *      reads to exactly its size, its vsize counts a CR for every bare LF,
 *      and none of our fields is left in its header block; the file is
 *      not touched;
 *   2. a writable open (which may write X-IMAPbase once): the same
 *      messages with the same content (a final newline may be added where
 *      one was missing);
 *   3. expunge of every other message, a flag and keyword change (for an
 *      input of odd length: in a batch that also marks every survivor
 *      \Seen, store_change_begin/end), an append; a read-only reopen
 *      must show exactly the survivors, with their UIDs, content, flags,
 *      and the appended message.
 * Every store call on these inputs must succeed; a broken invariant
 * calls abort().
 */
#include "sys_defs.h"

#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "mbox_parse.h"
#include "store.h"

#define FUZZ_MAX_INPUT	(256 * 1024)
#define FUZZ_MAX_MSGS	512

static char dir[64];
static VSTRING *path, *why;

/* One message as first read */
typedef struct {
    unsigned uid;
    VSTRING *content;
} SEEN;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_store_mbox: %s: %s\n", what, why ? STR(why) : "");
    abort();
}

static void cleanup(void)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", dir);
    if (system(STR(cmd)) != 0)
	fprintf(stderr, "cannot remove %s\n", dir);
    vstring_free(cmd);
}

static void write_mbox(const uint8_t *data, size_t size)
{
    int     fd = open(STR(path), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size)
	|| close(fd) < 0)
	fail("write the mailbox file");
}

static void read_mbox(VSTRING *buf)
{
    char    tmp[65536];
    ssize_t n;
    int     fd = open(STR(path), O_RDONLY);

    if (fd < 0)
	fail("read the mailbox file");
    vstring_reset(buf);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
}

/* read_message - its content, in pieces of odd sizes */

static void read_message(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *buf)
{
    STORE_STREAM *stream;
    char    tmp[8192];
    size_t  step = 1 + msg->uid % 4000;
    ssize_t n;

    if ((stream = store_msg_open(folder, msg, why)) == 0)
	fail("store_msg_open");
    vstring_reset(buf);
    while ((n = store_read(stream, tmp, step)) > 0)
	vstring_memcat(buf, tmp, n);
    store_msg_close(stream);
    if (n < 0)
	fail("store_read");
}

/* check_message - sizes, and no field of ours in the header block */

static void check_message(const STORE_MSG *msg, const VSTRING *content)
{
    const char *cp = STR(content), *end = cp + LEN(content), *nl;
    off_t   vsize = (off_t) LEN(content);
    size_t  pos, i;
    int     field, kind;

    if (msg->size != (off_t) LEN(content))
	fail("size differs from the bytes read");
    for (i = 0; i < LEN(content); i++)
	if (cp[i] == '\n' && (i == 0 || cp[i - 1] != '\r'))
	    vsize++;
    if (msg->vsize != vsize)
	fail("vsize differs from the bytes read");
    for (; cp < end; cp = nl + 1) {
	nl = memchr(cp, '\n', (size_t) (end - cp));
	kind = mbox_line_kind(cp, nl ? (size_t) (nl - cp) + 1 : (size_t) (end - cp),
			      &field, &pos);
	if (kind == MBOX_LINE_EMPTY)
	    break;
	if (kind == MBOX_LINE_OURS)
	    fail("one of our fields is left in the header block");
	if (nl == 0)
	    break;
    }
}

/* same_content - equal, or with a final newline added */

static int same_content(const VSTRING *was, const VSTRING *now)
{
    if (LEN(was) == LEN(now))
	return (memcmp(STR(was), STR(now), LEN(now)) == 0);
    return (LEN(now) == LEN(was) + 1 && STR(now)[LEN(was)] == '\n'
	    && (LEN(was) == 0 || STR(was)[LEN(was) - 1] != '\n')
	    && memcmp(STR(was), STR(now), LEN(was)) == 0);
}

/* read_all - every message of FOLDER, checked, into SEEN */

static int read_all(STORE_FOLDER *folder, SEEN *seen)
{
    int     i, n = folder->count < FUZZ_MAX_MSGS ? folder->count : FUZZ_MAX_MSGS;

    for (i = 0; i < folder->count; i++) {
	STORE_MSG *msg = store_msg(folder, i + 1);

	if (msg->uid == 0 || msg->uid >= folder->uidnext
	    || (i > 0 && msg->uid <= store_view_msgs(folder)[i - 1].uid))
	    fail("UIDs out of order");
	if (i < n) {
	    seen[i].uid = msg->uid;
	    read_message(folder, msg, seen[i].content);
	    check_message(msg, seen[i].content);
	}
    }
    return (n);
}

static int append_source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    static const char text[] = "Subject: appended\nX-UID: 1\n\nFrom here\nbody\n";

    return (write_fn(sink, text, sizeof(text) - 1));
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_store_mbox", 0);
    snprintf(dir, sizeof(dir), "%s/fuzz_store_mbox.XXXXXX",
	     access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == 0) {
	perror("mkdtemp");
	abort();
    }
    atexit(cleanup);
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/mbox", dir);
    why = vstring_alloc(100);
    return (0);
}

/* check_after_changes - the survivors, the flags, the appended message */

static void check_after_changes(SEEN *seen, int n, unsigned uidvalidity,
				        unsigned flagged, int all_seen,
				        unsigned appended)
{
    STORE_FOLDER *folder;
    VSTRING *buf = vstring_alloc(1000);
    int     i, j = 0;

    if ((folder = store_open(STORE_KIND_MBOX, STR(path), STORE_OPEN_READONLY, why)) == 0)
	fail("read-only reopen");
    if (uidvalidity != 0 && folder->uidvalidity != uidvalidity)
	fail("UIDVALIDITY changed");
    for (i = 0; i < n; i += 2) {		/* the odd ones were expunged */
	if (i + 1 < n) {
	    STORE_MSG *msg = store_msg(folder, ++j);

	    if (msg == 0 || msg->uid != seen[i + 1].uid)
		fail("a message that was not expunged is gone");
	    read_message(folder, msg, buf);
	    check_message(msg, buf);
	    if (!same_content(seen[i + 1].content, buf))
		fail("content changed by a rewrite");
	    if (msg->uid == flagged
		&& (msg->flags & (STORE_SEEN | STORE_FLAGGED)) != (STORE_SEEN | STORE_FLAGGED))
		fail("flags did not stick");
	    if (all_seen && !(msg->flags & STORE_SEEN))
		fail("flags of a batch did not stick");
	}
    }
    if (appended) {
	STORE_MSG *msg = store_msg(folder, ++j);

	if (msg == 0 || msg->uid != appended)
	    fail("the appended message is not there");
	read_message(folder, msg, buf);
	if (strcmp(STR(buf), "Subject: appended\n\n>From here\nbody\n") != 0)
	    fail("the appended message reads back wrong");
    }
    if (folder->count != j)
	fail("messages appeared");
    store_close(folder);
    vstring_free(buf);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SEEN    seen[FUZZ_MAX_MSGS];
    VSTRING *after = vstring_alloc(1000);
    STORE_FOLDER *folder;
    unsigned *uids, flagged = 0, appended = 0, uidvalidity;
    int     i, n, m, count = 0;
    int     batch = (size & 1);

    if (size > FUZZ_MAX_INPUT)
	return (0);
    for (i = 0; i < FUZZ_MAX_MSGS; i++)
	seen[i].content = vstring_alloc(100);
    write_mbox(data, size);

    /* 1. read-only: consistent, and nothing written */
    if ((folder = store_open(STORE_KIND_MBOX, STR(path), STORE_OPEN_READONLY, why)) == 0)
	fail("read-only open");
    n = read_all(folder, seen);
    count = folder->count;
    store_close(folder);
    read_mbox(after);
    if (LEN(after) != size || (size > 0 && memcmp(STR(after), data, size) != 0))
	fail("a read-only open changed the file");

    /* 2. writable: the same messages */
    if ((folder = store_open(STORE_KIND_MBOX, STR(path), 0, why)) == 0)
	fail("writable open");
    if (folder->count != count)
	fail("the message count changed at the first writable open");
    for (i = 0; i < n; i++) {
	STORE_MSG *msg = store_msg(folder, i + 1);

	read_message(folder, msg, after);
	check_message(msg, after);
	if (!same_content(seen[i].content, after))
	    fail("content changed by the first writable open");
	vstring_memcpy(seen[i].content, STR(after), LEN(after));
	seen[i].uid = msg->uid;
    }

    /* 3. changes */
    if (n < count) {				/* too many to follow */
	store_close(folder);
    } else {
	uidvalidity = count > 0 ? folder->uidvalidity : 0;
	uids = (unsigned *) mymalloc(sizeof(*uids) * (count / 2 + 1));
	for (m = 0, i = 0; i < count; i += 2)
	    uids[m++] = store_msg(folder, i + 1)->uid;
	if (m > 0 && store_expunge(folder, uids, m, why) != 0)
	    fail("expunge");
	myfree(uids);
	if (folder->count > 0) {
	    int     kw = store_keyword(folder, "$Fuzz", 1, why);

	    if (kw < 0 && folder->keyword_count < STORE_MAX_KEYWORDS)
		fail("store_keyword");		/* refused only when full */
	    flagged = store_msg(folder, 1)->uid;
	    if (batch)
		store_change_begin(folder);
	    if (store_set_flags(folder, store_msg(folder, 1), STORE_SEEN | STORE_FLAGGED,
				kw < 0 ? 0 : 1U << kw, why) != 0)
		fail("set_flags");
	    for (i = 2; batch && i <= folder->count; i++)
		if (store_set_flags(folder, store_msg(folder, i), STORE_SEEN, 0,
				    why) != 0)
		    fail("set_flags in a batch");
	    if (batch && store_change_end(folder, why) != 0)
		fail("store_change_end");
	}
	if (store_append(folder, append_source, 0, 0, 0, 0, &appended, why) != 0)
	    fail("append");
	if (appended < folder->uidnext)
	    fail("append reused a UID");
	store_close(folder);
	check_after_changes(seen, n, uidvalidity, flagged, batch, appended);
    }
    for (i = 0; i < FUZZ_MAX_MSGS; i++)
	vstring_free(seen[i].content);
    vstring_free(after);
    return (0);
}
