/*
 * fuzz_dict_inline.c - libFuzzer harness for the in-memory tables in
 * lib/tables/dict_text.c: inline:{...}, static: and texthash:.
 *
 * Built and run by test/fuzz/run.sh.  The first input byte picks the
 * flags (DICT_FLAG_FOLD_KEY or none); the rest is used three ways: as the
 * text after "inline:", after "static:", and as the content of a texthash
 * file (a memfd opened as texthash:/proc/self/fd/N).  Every word of the
 * input is then looked up.  dict_open must always return a table; a
 * table that opened must answer every lookup without error; with
 * FOLD_KEY, upper and lower case keys must give the same answer; a
 * texthash value is never empty.  A broken invariant calls abort().
 */
#include "sys_defs.h"

#include <ctype.h>
#include <sys/mman.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict.h"

#define FUZZ_MAX_INPUT	(64 * 1024)
#define FUZZ_MAX_KEYS	64

static VSTRING *name, *key, *upper;

/* fail - report a broken invariant and abort */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_dict_inline: %s: \"%s\"\n", what, detail);
    abort();
}

/* lookup_one - look KEY up in DICT; check error and case folding */

static void lookup_one(DICT *dict, const char *k, int empty_ok)
{
    const char *val = dict_lookup(dict, k);
    const char *val2;
    char   *cp;

    if (dict->error)
	fail("lookup in an open table failed", k);
    if (val && *val == 0 && !empty_ok)
	fail("lookup returned an empty value", k);
    if (dict->flags & DICT_FLAG_FOLD_KEY) {
	vstring_strcpy(upper, k);
	for (cp = STR(upper); *cp; cp++)
	    *cp = toupper((unsigned char) *cp);
	val2 = dict_lookup(dict, STR(upper));
	if ((val == 0) != (val2 == 0) || (val && strcmp(val, val2) != 0))
	    fail("folded lookup differs by case", k);
    }
}

/* lookup_words - look up every word of TEXT (split on space , = { }) */

static void lookup_words(DICT *dict, const char *text, int empty_ok)
{
    const char *sep = " \t\r\n\v\f,={}";
    const char *cp = text;
    int     n = 0;

    if (dict->error)
	return;					/* did not open: nothing to ask */
    lookup_one(dict, "", empty_ok);
    while (*cp && n++ < FUZZ_MAX_KEYS) {
	size_t  len;

	cp += strspn(cp, sep);
	if ((len = strcspn(cp, sep)) == 0)
	    break;
	vstring_strncpy(key, cp, len);
	lookup_one(dict, STR(key), empty_ok);
	cp += len;
    }
}

/* try_table - open "PREFIX TEXT", look words up, close */

static void try_table(const char *prefix, const char *text, int flags,
		              int empty_ok)
{
    DICT   *dict;

    vstring_sprintf(name, "%s%s", prefix, text);
    if ((dict = dict_open(STR(name), flags)) == 0)
	fail("dict_open returned NULL", STR(name));
    lookup_words(dict, text, empty_ok);
    dict_close(dict);
}

/* try_texthash - DATA as a texthash file on a memfd; it must open */

static void try_texthash(const uint8_t *data, size_t size, const char *text, int flags)
{
    int     fd = memfd_create("texthash", MFD_CLOEXEC);
    DICT   *dict;

    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size)) {
	perror("memfd");
	abort();
    }
    vstring_sprintf(name, "texthash:/proc/self/fd/%d", fd);
    dict = dict_open(STR(name), flags);
    if (dict->error)
	fail("texthash on a readable file did not open", STR(name));
    lookup_words(dict, text, 0);
    dict_close(dict);
    close(fd);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_dict_inline", 0);
    name = vstring_alloc(100);
    key = vstring_alloc(100);
    upper = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     flags;
    char   *text;

    if (size < 1 || size > FUZZ_MAX_INPUT)
	return (0);
    flags = (data[0] & 1) ? DICT_FLAG_FOLD_KEY : 0;
    data++;
    size--;
    text = mystrndup((const char *) data, size);
    try_table("inline:", text, flags, 1);
    try_table("static:", text, flags, 1);
    try_texthash(data, size, text, flags);
    myfree(text);
    return (0);
}
