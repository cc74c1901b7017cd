/*
 * fuzz_store_uidlist.c - libFuzzer harness for maildir_uidlist_parse()
 * in lib/store/maildir_uidlist.c (Dovecot's dovecot-uidlist).
 *
 * Built and run by test/fuzz/run.sh.  The input is a whole uidlist file,
 * as another program (or a broken disk) may have left it in a Maildir.
 * The parser must refuse it with a reason or return a list that is well
 * formed: a non-zero UIDVALIDITY, a 32-digit GUID, UIDs strictly
 * ascending and below the next UID, valid base names that the name index
 * finds, extension fields without line breaks.  Such a list, written out
 * by maildir_uidlist_format() and parsed again, must come back the same,
 * and formatting that gives the same bytes again.  Adding a name gives it
 * the next UID; dropping it makes it unknown again.  A broken invariant
 * calls abort().
 */
#include "sys_defs.h"

#include "msg.h"
#include "vstring.h"
#include "maildir_uidlist.h"

#define FUZZ_MAX_INPUT	(1024 * 1024)

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_store_uidlist: %s\n", what);
    abort();
}

/* printable - no control characters and no line breaks */

static int printable(const char *str)
{
    for (; *str; str++)
	if ((unsigned char) *str < ' ' || *str == 0x7f)
	    return (0);
    return (1);
}

/* check_list - the shape of a list the parser accepted */

static void check_list(const MAILDIR_UIDLIST *list)
{
    const MAILDIR_UIDREC *rec, *found;
    int     i;

    if (list->uidvalidity == 0)
	fail("UIDVALIDITY 0 accepted");
    if (strlen(list->guid) != 32 || strspn(list->guid, "0123456789abcdef") != 32)
	fail("bad GUID");
    if (!printable(list->hdr_ext))
	fail("control character in the header fields");
    if (list->live != list->count)
	fail("a parsed list has dropped records");
    for (i = 0; i < list->count; i++) {
	rec = list->recs + i;
	if (rec->uid == 0 || rec->uid >= list->uidnext)
	    fail("UID out of range");
	if (i > 0 && rec->uid <= rec[-1].uid)
	    fail("UIDs not strictly ascending");
	if (rec->name == 0 || !maildir_name_ok(rec->name, strlen(rec->name))
	    || strchr(rec->name, ':') != 0)
	    fail("bad name accepted");
	if (!printable(rec->ext) || rec->ext[0] == ' ' || rec->ext[0] == ':')
	    fail("bad extension fields accepted");
	found = maildir_uidlist_lookup(list, rec->name, strlen(rec->name));
	if (found != rec)
	    fail("the name index does not find a record");
	(void) maildir_uidlist_ext_number(rec->ext, 'S');
	(void) maildir_uidlist_ext_number(rec->ext, 'W');
    }
}

/* check_same - A and B hold the same list */

static void check_same(const MAILDIR_UIDLIST *a, const MAILDIR_UIDLIST *b)
{
    int     i;

    if (a->uidvalidity != b->uidvalidity || a->uidnext != b->uidnext
	|| strcmp(a->guid, b->guid) != 0 || strcmp(a->hdr_ext, b->hdr_ext) != 0)
	fail("format + parse changed the header");
    if (a->count != b->count)
	fail("format + parse changed the record count");
    for (i = 0; i < a->count; i++)
	if (a->recs[i].uid != b->recs[i].uid
	    || strcmp(a->recs[i].name, b->recs[i].name) != 0
	    || strcmp(a->recs[i].ext, b->recs[i].ext) != 0)
	    fail("format + parse changed a record");
}

/* check_roundtrip - format LIST, parse it again, compare, format again */

static void check_roundtrip(const MAILDIR_UIDLIST *list)
{
    VSTRING *text = vstring_alloc(1000);
    VSTRING *again = vstring_alloc(1000);
    VSTRING *why = vstring_alloc(100);
    MAILDIR_UIDLIST *copy;

    maildir_uidlist_format(list, text);
    if ((copy = maildir_uidlist_parse(STR(text), LEN(text), "again", why)) == 0)
	fail("a formatted list does not parse");
    check_list(copy);
    check_same(list, copy);
    maildir_uidlist_format(copy, again);
    if (LEN(again) != LEN(text) || memcmp(STR(again), STR(text), LEN(text)) != 0)
	fail("formatting is not stable");
    maildir_uidlist_free(copy);
    vstring_free(text);
    vstring_free(again);
    vstring_free(why);
}

/* check_add_drop - a new name gets the next UID and can be dropped */

static void check_add_drop(MAILDIR_UIDLIST *list)
{
    static const char name[] = "fuzz.M1P1.added";
    unsigned next = list->uidnext;
    unsigned uid;

    if (maildir_uidlist_lookup(list, name, sizeof(name) - 1) != 0)
	return;
    if ((uid = maildir_uidlist_add(list, name, sizeof(name) - 1, "W1")) == 0) {
	if (next < 4294967295u)
	    fail("add failed with UIDs left");
	return;
    }
    if (uid != next || list->uidnext != next + 1)
	fail("add did not use the next UID");
    if (maildir_uidlist_lookup(list, name, sizeof(name) - 1)->uid != uid)
	fail("an added name is not found");
    if (maildir_uidlist_drop(list, uid) != 1
	|| maildir_uidlist_lookup(list, name, sizeof(name) - 1) != 0)
	fail("a dropped name is still found");
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_store_uidlist", 0);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTRING *why;
    MAILDIR_UIDLIST *list;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    why = vstring_alloc(100);
    list = maildir_uidlist_parse((const char *) data, size, "fuzz", why);
    if (list == 0) {
	if (LEN(why) == 0)
	    fail("refused without a reason");
    } else {
	check_list(list);
	check_roundtrip(list);
	check_add_drop(list);
	maildir_uidlist_free(list);
    }
    vstring_free(why);
    return (0);
}
