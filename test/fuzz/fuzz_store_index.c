/*
 * fuzz_store_index.c - libFuzzer harness for the folder index of the
 * mailbox store (lib/store/store_index.c): index and cache files that are
 * damaged, truncated, foreign or made up.
 *
 * Built and run by test/fuzz/run.sh.  Each run makes the same small folder
 * anew in a private directory (on /dev/shm when there is one): a Maildir
 * with four messages and a dovecot-uidlist of UIDVALIDITY 1700000000, or
 * an mbox with the same UIDVALIDITY in X-IMAPbase (its index files in
 * .imap/mbox/, as store_root opens folders).  The input is
 *   byte 0	 mode: 1 write an index file, 2 write a cache file, 4 the
 *		 mbox (else the Maildir), 8 open read-only, 16 the flag
 *		 change in a batch (store_change_begin/end)
 *   bytes 1-2	 N, little-endian: the index file is the next N bytes
 *   the rest	 the cache file
 * (the seed corpus has sound files of this folder, so the fuzzer starts
 * from files that are read, not thrown away).  Then, as imapd would:
 *   1. open: every message has a MODSEQ, none above HIGHESTMODSEQ;
 *      expunged UIDs ascend, none after HIGHESTMODSEQ; every cached value
 *      is a string;
 *   2. writable: a flag change gets a MODSEQ above all before (at once,
 *      also in a batch, and the file has it after the batch); a value
 *      put reads back; a sync keeps all that;
 *   3. reopen: HIGHESTMODSEQ not lower than before (never backwards), no
 *      message's MODSEQ lower; writable: the value put is there.
 * A broken invariant calls abort().
 */
#include "sys_defs.h"

#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"

#define FUZZ_MAX_INPUT	(1024 * 1024)

#define MODE_INDEX	(1<<0)
#define MODE_CACHE	(1<<1)
#define MODE_MBOX	(1<<2)
#define MODE_READONLY	(1<<3)
#define MODE_BATCH	(1<<4)

#define MBOX_INDEX	".imap/mbox/posthorn-index"
#define MBOX_CACHE	".imap/mbox/posthorn-cache"

static char dir[64];
static VSTRING *why;

static const char *maildir_files[][2] = {
    {"cur/1700000001.M1P1.host,S=18,W=21:2,", "Subject: 1\n\nbody 1\n"},
    {"cur/1700000002.M2P1.host,S=18,W=21:2,S", "Subject: 2\n\nbody 2\n"},
    {"new/1700000003.M3P1.host,S=18,W=21", "Subject: 3\n\nbody 3\n"},
    {"cur/1700000004.M4P1.host,S=18,W=21:2,FS", "Subject: 4\n\nbody 4\n"},
    {"dovecot-uidlist", "3 V1700000000 N6 G0123456789abcdef0123456789abcdef\n"
	"1 :1700000001.M1P1.host,S=18,W=21\n"
	"2 :1700000002.M2P1.host,S=18,W=21\n"
	"4 :1700000003.M3P1.host,S=18,W=21\n"
    "5 :1700000004.M4P1.host,S=18,W=21\n"},
};

static const char mbox_text[] =
"From a@b.c  Mon Nov 23 15:07:19 2026\n"
"Subject: 1\n"
"X-IMAPbase: 1700000000 0000000005\n"
"X-UID: 1\n"
"Status: O\n"
"\n"
"body 1\n"
"\n"
"From a@b.c  Mon Nov 23 15:07:20 2026\n"
"Subject: 2\n"
"X-UID: 2\n"
"Status: RO\n"
"\n"
"body 2\n"
"\n"
"From a@b.c  Mon Nov 23 15:07:21 2026\n"
"Subject: 4\n"
"X-UID: 4\n"
"Status: O\n"
"X-Status: F\n"
"\n"
"body 4\n"
"\n"
"From a@b.c  Mon Nov 23 15:07:22 2026\n"
"Subject: 5\n"
"X-UID: 5\n"
"\n"
"body 5\n"
"\n";

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_store_index: %s: %s\n", what, why ? STR(why) : "");
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

static void write_file(const char *name, const void *data, size_t len)
{
    VSTRING *path = vstring_alloc(100);
    int     fd;

    vstring_sprintf(path, "%s/%s", dir, name);
    fd = open(STR(path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (len > 0 && write(fd, data, len) != (ssize_t) len)
	|| close(fd) < 0)
	fail("write a file");
    vstring_free(path);
}

/* make_folder - the test folder as it was at the start */

static void make_folder(void)
{
    static const char *subs[] = {"md", "md/tmp", "md/new", "md/cur"};
    VSTRING *cmd = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    size_t  i;

    vstring_sprintf(cmd, "rm -rf '%s'/md '%s'/mbox '%s'/.imap 2>/dev/null",
		    dir, dir, dir);
    if (system(STR(cmd)) != 0)
	fail("clean up");
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
	vstring_sprintf(path, "%s/%s", dir, subs[i]);
	if (mkdir(STR(path), 0700) < 0)
	    fail("mkdir");
    }
    for (i = 0; i < sizeof(maildir_files) / sizeof(maildir_files[0]); i++) {
	vstring_sprintf(path, "md/%s", maildir_files[i][0]);
	write_file(STR(path), maildir_files[i][1], strlen(maildir_files[i][1]));
    }
    write_file("mbox", mbox_text, sizeof(mbox_text) - 1);
    vstring_free(cmd);
    vstring_free(path);
}

/* make_index_dir - the mbox's index directory, for the files of the input */

static void make_index_dir(void)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/.imap", dir);
    if (mkdir(STR(path), 0700) < 0)
	fail("mkdir");
    vstring_sprintf(path, "%s/.imap/mbox", dir);
    if (mkdir(STR(path), 0700) < 0)
	fail("mkdir");
    vstring_free(path);
}

/* check_view - MODSEQs, expunges, cached values are sane */

static void check_view(STORE_FOLDER *folder)
{
    static const char *fields[] = {"ENVELOPE", "BODYSTRUCTURE", "DATE"};
    const char *value;
    unsigned *uids;
    int     count, all, i, f;

    if (folder->highestmodseq == 0)
	fail("no HIGHESTMODSEQ");
    for (i = 0; i < folder->count; i++)
	if (store_view_msgs(folder)[i].modseq == 0
	    || store_view_msgs(folder)[i].modseq > folder->highestmodseq)
	    fail("a MODSEQ out of range");
    if (store_expunged_since(folder, 0, &uids, &count, &all) != 0)
	fail("store_expunged_since");
    for (i = 1; i < count; i++)
	if (uids[i] <= uids[i - 1])
	    fail("expunged UIDs do not ascend");
    myfree(uids);
    if (store_expunged_since(folder, folder->highestmodseq, &uids, &count,
			     &all) != 0 || count != 0 || !all)
	fail("expunges after HIGHESTMODSEQ");
    myfree(uids);
    for (i = 0; i < folder->count; i++)
	for (f = 0; f < 3; f++)
	    if ((value = store_cache_get(folder, store_view_msgs(folder)[i].uid,
					 fields[f])) != 0 && strlen(value) > (1 << 20))
		fail("a cached value too long");
}

/* changes - a flag change (in a batch when BATCH) and a cached value, as
 * a session makes them */

static void changes(STORE_FOLDER *folder, int batch)
{
    unsigned long long before = folder->highestmodseq;
    STORE_MSG *msg = store_msg(folder, 1);
    unsigned flags;
    const char *value;

    if (msg == 0)
	fail("no message 1");
    flags = (msg->flags ^ STORE_FLAGGED) & STORE_FLAGS_STORED;
    if (batch)
	store_change_begin(folder);
    if (store_set_flags(folder, msg, flags, msg->keywords, why) != 0)
	fail("store_set_flags");
    if (msg->modseq <= before || msg->modseq != folder->highestmodseq)
	fail("a flag change without a new MODSEQ");
    if (batch && store_change_end(folder, why) != 0)
	fail("store_change_end");
    if ((msg = store_msg(folder, 1)) == 0
	|| (msg->flags & STORE_FLAGS_STORED) != flags)
	fail("a flag change is lost");
    store_cache_put(folder, msg->uid, "ENVELOPE", "(fuzz)", 6);
    if ((value = store_cache_get(folder, msg->uid, "ENVELOPE")) == 0
	|| strcmp(value, "(fuzz)") != 0)
	fail("a value put does not read back");
    if (store_sync(folder, 0, why) != 0)
	fail("store_sync");
    check_view(folder);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_store_index", 0);
    snprintf(dir, sizeof(dir), "%s/fuzz_store_index.XXXXXX",
	     access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == 0) {
	perror("mkdtemp");
	abort();
    }
    atexit(cleanup);
    why = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long long highest, modseqs[8];
    unsigned uids[8];
    STORE_FOLDER *folder;
    VSTRING *path, *index_dir;
    size_t  index_len;
    int     mode, kind, flags, count, i;
    unsigned first_flags;
    const char *value;
    STORE_MSG *msg;

    if (size < 3 || size > FUZZ_MAX_INPUT)
	return (0);
    mode = data[0];
    index_len = data[1] | (size_t) data[2] << 8;
    if (index_len > size - 3)
	index_len = size - 3;
    kind = (mode & MODE_MBOX) ? STORE_KIND_MBOX : STORE_KIND_MAILDIR;
    flags = (mode & MODE_READONLY) ? STORE_OPEN_READONLY : 0;
    make_folder();
    if (kind == STORE_KIND_MBOX && (mode & (MODE_INDEX | MODE_CACHE)))
	make_index_dir();			/* else the store makes it */
    if (mode & MODE_INDEX)
	write_file(kind == STORE_KIND_MBOX ? MBOX_INDEX :
		   "md/posthorn-index", data + 3, index_len);
    if (mode & MODE_CACHE)
	write_file(kind == STORE_KIND_MBOX ? MBOX_CACHE :
		   "md/posthorn-cache", data + 3 + index_len,
		   size - 3 - index_len);
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", dir, kind == STORE_KIND_MBOX ? "mbox" : "md");
    index_dir = vstring_alloc(100);
    vstring_sprintf(index_dir, "%s/.imap/mbox", dir);	/* as store_root has it */
    if (kind != STORE_KIND_MBOX)
	vstring_reset(index_dir);

    if ((folder = store_open_at(kind, STR(path), LEN(index_dir) ? STR(index_dir) : 0,
				flags, why)) == 0)
	fail("store_open");
    check_view(folder);
    if (!(mode & MODE_READONLY))
	changes(folder, mode & MODE_BATCH);
    highest = folder->highestmodseq;
    if ((count = folder->count) > 8)
	fail("too many messages");
    for (i = 0; i < count; i++) {
	uids[i] = store_view_msgs(folder)[i].uid;
	modseqs[i] = store_view_msgs(folder)[i].modseq;
    }
    first_flags = count > 0 ? store_view_msgs(folder)[0].flags ^ STORE_FLAGGED : 0;
    store_close(folder);

    if ((folder = store_open_at(kind, STR(path), LEN(index_dir) ? STR(index_dir) : 0,
				flags, why)) == 0)
	fail("store_open again");
    check_view(folder);
    if (folder->highestmodseq < highest)
	fail("HIGHESTMODSEQ went back");
    for (i = 0; i < count; i++)
	if ((msg = store_msg(folder, store_uid_seq(folder, uids[i]))) != 0
	    && msg->modseq < modseqs[i])
	    fail("a MODSEQ went back");
    if (!(mode & MODE_READONLY)
	&& ((value = store_cache_get(folder, uids[0], "ENVELOPE")) == 0
	    || strcmp(value, "(fuzz)") != 0))
	fail("the value put is lost");
    if (!(mode & MODE_READONLY) && count > 0
	&& ((msg = store_msg(folder, 1)) == 0 || msg->uid != uids[0]
	    || !(msg->flags & STORE_FLAGGED) == !(first_flags & STORE_FLAGGED)))
	fail("the flag change is not in the folder");
    store_close(folder);
    vstring_free(path);
    vstring_free(index_dir);
    return (0);
}
