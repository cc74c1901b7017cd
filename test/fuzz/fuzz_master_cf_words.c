/*
 * fuzz_master_cf_words.c - libFuzzer harness for the text view of
 * master.cf (lib/global/master_cf_words.c), what postconf -M/-F/-P read.
 *
 * Built and run by test/fuzz/run.sh.  The input (up to its first NUL) is
 * a master.cf: every logical entry must be non-empty, start with a
 * non-blank and hold no newline, at lines that only go up; its words
 * must be non-empty, and a word without "{" must hold no white space;
 * the words joined by spaces must split into the same words again;
 * normalizing must keep the eight columns and (without braces) leave no
 * "-...o..." option before its value; the column check gives NULL or a reason.  A broken
 * invariant calls abort().
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "master_cf.h"

#define FUZZ_MAX_INPUT	(64 * 1024)

static VSTRING *entry, *joined, *why;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_master_cf_words: %s\n", what);
    abort();
}

/* check_words - words of one entry, and their re-split */

static void check_words(const MASTER_CF_WORDS *w)
{
    MASTER_CF_WORDS *again;
    int     i;

    vstring_reset(joined);
    for (i = 0; i < w->argc; i++) {
	if (w->argv[i] == 0 || *w->argv[i] == 0)
	    fail("empty word");
	if (strchr(w->argv[i], '{') == 0 && w->argv[i][strcspn(w->argv[i], " \t\r\n")])
	    fail("blank inside a word without braces");
	vstring_sprintf_append(joined, "%s%s", i ? " " : "", w->argv[i]);
    }
    if (w->argv[w->argc] != 0)
	fail("word list not NULL-terminated");
    again = master_cf_words(STR(joined));
    if (again->argc != w->argc)
	fail("re-split gives another word count");
    for (i = 0; i < w->argc; i++)
	if (strcmp(again->argv[i], w->argv[i]) != 0)
	    fail("re-split gives other words");
    master_cf_words_free(again);
}

/*
 * check_normalized - the columns kept; without braces (whose text may
 * start with '-' once they are gone), every option split before its value.
 */
static void check_normalized(const char *text, const MASTER_CF_WORDS *before,
			             const MASTER_CF_WORDS *w)
{
    int     i;

    for (i = 0; i <= MASTER_CF_FLD_COMMAND && i < before->argc; i++)
	if (i >= w->argc || strcmp(before->argv[i], w->argv[i]) != 0)
	    fail("normalizing changed a column");
    if (strchr(text, '{') != 0)
	return;
    for (i = MASTER_CF_FLD_COMMAND + 1; i < w->argc; i++) {
	if (!MASTER_CF_IS_OPTION(w->argv[i]))
	    break;
	if (strchr(w->argv[i] + 1, 'o') != 0 && strcmp(w->argv[i], "-o") != 0)
	    fail("an option with 'o' left combined");
	if (strcmp(w->argv[i], "-o") == 0)
	    i++;				/* its value */
    }
}

static void check_entry(const char *text)
{
    MASTER_CF_WORDS *w = master_cf_words(text);
    MASTER_CF_WORDS *norm = master_cf_words(text);
    const char *reason;

    check_words(w);
    master_cf_words_normalize(norm);
    check_normalized(text, w, norm);
    reason = master_cf_words_check(norm, why);
    if (reason != 0 && *reason == 0)
	fail("a refusal without a reason");
    master_cf_words_free(w);
    master_cf_words_free(norm);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text;
    const char *cursor;
    int     lineno = 0;
    int     first;
    int     last_first = 0;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    if (entry == 0) {
	msg_init("fuzz_master_cf_words", MSG_TO_STDERR);
	msg_stderr(0);
	entry = vstring_alloc(100);
	joined = vstring_alloc(100);
	why = vstring_alloc(100);
    }
    text = mystrndup((const char *) data, size);
    for (cursor = text; master_cf_entry(&cursor, "master.cf", &lineno, entry, &first);) {
	if (LEN(entry) == 0 || strchr(STR(entry), '\n') != 0
	    || STR(entry)[0] == ' ' || STR(entry)[0] == '\t')
	    fail("bad logical entry");
	if (first <= last_first || first > lineno)
	    fail("entry lines out of order");
	last_first = first;
	check_entry(STR(entry));
    }
    if (*cursor != 0)
	fail("entries end before the text");
    myfree(text);
    return (0);
}
