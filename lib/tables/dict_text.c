/*
 * dict_text.c - in-memory tables: texthash:, inline: and static:.
 *
 * texthash:FILE reads a postmap(1)-format text file once at open time,
 * with the same parser as postmap (lib/tables/table_source.c): "key whitespace
 * value" lines, '#' comment lines and blank lines are skipped, a line
 * that starts with white space continues the previous one.
 * inline:{ key=value, { key = value with spaces }, ... } takes its entries
 * from the table name.  Both fold keys to lower case when opened with
 * DICT_FLAG_FOLD_KEY, keep the first of duplicate keys (with a warning),
 * and are searched with bsearch() on a sorted array.
 * static:VALUE (or static:{ text with spaces }) returns VALUE for any key.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "dict_private.h"
#include "table_source.h"

typedef struct DICT_ENTRY {
    char   *key;
    char   *value;
    int     order;			/* input position: first one wins */
} DICT_ENTRY;

typedef struct DICT_MEM {
    DICT    dict;			/* must be first */
    DICT_ENTRY *entries;
    int     count;
    int     size;
} DICT_MEM;

/* dict_mem_add - remember one entry (sorted later) */

static void dict_mem_add(DICT_MEM *dm, const char *key, const char *value)
{
    DICT_ENTRY *ep;

    if (dm->count == dm->size) {
	dm->size = dm->size ? 2 * dm->size : 16;
	dm->entries = (DICT_ENTRY *) myrealloc(dm->entries,
					  dm->size * sizeof(*dm->entries));
    }
    ep = dm->entries + dm->count;
    ep->key = mystrdup(key);
    if (dm->dict.flags & DICT_FLAG_FOLD_KEY)
	for (char *cp = ep->key; *cp; cp++)
	    *cp = tolower((unsigned char) *cp);
    ep->value = mystrdup(value);
    ep->order = dm->count++;
}

static int dict_entry_cmp(const void *a, const void *b)
{
    const DICT_ENTRY *ea = (const DICT_ENTRY *) a;
    const DICT_ENTRY *eb = (const DICT_ENTRY *) b;
    int     diff = strcmp(ea->key, eb->key);

    return (diff ? diff : ea->order - eb->order);
}

/* dict_mem_finish - sort, and drop later duplicates with a warning */

static void dict_mem_finish(DICT_MEM *dm)
{
    int     in;
    int     out = 0;

    if (dm->count > 1)
	qsort(dm->entries, dm->count, sizeof(*dm->entries), dict_entry_cmp);
    for (in = 0; in < dm->count; in++) {
	if (out > 0 && strcmp(dm->entries[out - 1].key, dm->entries[in].key) == 0) {
	    msg_warn("%s:%s: duplicate entry: \"%s\" -- keeping the first one",
		     dm->dict.type, dm->dict.name, dm->entries[in].key);
	    myfree(dm->entries[in].key);
	    myfree(dm->entries[in].value);
	    continue;
	}
	dm->entries[out++] = dm->entries[in];
    }
    dm->count = out;
}

static const char *dict_mem_lookup(DICT *dict, const char *key)
{
    DICT_MEM *dm = (DICT_MEM *) dict;
    int     lo = 0;
    int     hi = dm->count - 1;

    dict->error = 0;
    while (lo <= hi) {
	int     mid = lo + (hi - lo) / 2;
	int     diff = strcmp(key, dm->entries[mid].key);

	if (diff == 0)
	    return (dm->entries[mid].value);
	if (diff < 0)
	    hi = mid - 1;
	else
	    lo = mid + 1;
    }
    return (0);
}

static int dict_mem_close(DICT *dict)
{
    DICT_MEM *dm = (DICT_MEM *) dict;

    for (int i = 0; i < dm->count; i++) {
	myfree(dm->entries[i].key);
	myfree(dm->entries[i].value);
    }
    if (dm->entries)
	myfree(dm->entries);
    dict_free(dict);
    return (0);
}

static DICT_MEM *dict_mem_alloc(const char *type, const char *name, int flags)
{
    DICT_MEM *dm = (DICT_MEM *) dict_alloc(type, name, flags, sizeof(DICT_MEM));

    dm->dict.lookup = dict_mem_lookup;
    dm->dict.close = dict_mem_close;
    return (dm);
}

/* trim_right - remove trailing white space in place */

static char *trim_right(char *text)
{
    char   *end = text + strlen(text);

    while (end > text && isspace((unsigned char) end[-1]))
	*--end = 0;
    return (text);
}

DICT   *dict_thash_open(const char *type, const char *name, int flags)
{
    TABLE_SOURCE *src;
    DICT_MEM *dm;
    const char *key;
    const char *value;
    int     status;

    if ((src = table_source_open(name, TABLE_SOURCE_POSTMAP)) == 0) {
	msg_warn("open database %s: %s", name, strerror(errno));
	return (dict_fail_open(type, name, flags));
    }
    dm = dict_mem_alloc(type, name, flags);
    while ((status = table_source_next(src, &key, &value)) > 0)
	dict_mem_add(dm, key, value);
    table_source_close(src);
    if (status < 0) {
	dict_mem_close(&dm->dict);
	return (dict_fail_open(type, name, flags));
    }
    dict_mem_finish(dm);
    return (&dm->dict);
}

/* inline_entry - store "key = value"; NULL or the reason it is bad */

static const char *inline_entry(DICT_MEM *dm, char *item)
{
    char   *eq;
    char   *key;
    char   *value;

    if (*item == '{' && (item = dict_extpar(item)) == 0)
	return ("missing '}'");
    if ((eq = strchr(item, '=')) == 0)
	return ("missing '=' after attribute name");
    *eq = 0;
    key = trim_right(item);
    while (isspace((unsigned char) *key))
	key++;
    value = eq + 1;
    while (isspace((unsigned char) *value))
	value++;
    trim_right(value);
    if (*key == 0)
	return ("missing attribute name");
    dict_mem_add(dm, key, value);
    return (0);
}

DICT   *dict_inline_open(const char *type, const char *name, int flags)
{
    char   *saved = mystrdup(name);
    char   *cp;
    char   *item;
    const char *err = 0;
    DICT_MEM *dm;

    if (*name != '{' || (cp = dict_extpar(saved)) == 0) {
	err = "syntax error: expected \"{ name = value, ... }\"";
    } else {
	dm = dict_mem_alloc(type, name, flags);
	while (err == 0 && (item = dict_strtokq(&cp, ", \t\r\n")) != 0)
	    err = inline_entry(dm, item);
	if (err == 0 && dm->count == 0)
	    err = "empty table";
	if (err == 0) {
	    myfree(saved);
	    dict_mem_finish(dm);
	    return (&dm->dict);
	}
	dict_mem_close(&dm->dict);
    }
    msg_warn("%s:%s: %s", type, name, err);
    myfree(saved);
    return (dict_fail_open(type, name, flags));
}

/* static: one value for every key */

typedef struct DICT_STATIC {
    DICT    dict;			/* must be first */
    char   *value;
} DICT_STATIC;

static const char *dict_static_lookup(DICT *dict, const char *key)
{
    (void) key;
    dict->error = 0;
    return (((DICT_STATIC *) dict)->value);
}

static int dict_static_close(DICT *dict)
{
    myfree(((DICT_STATIC *) dict)->value);
    dict_free(dict);
    return (0);
}

DICT   *dict_static_open(const char *type, const char *name, int flags)
{
    char   *saved = mystrdup(name);
    char   *value = saved;
    DICT_STATIC *ds;

    if (*name == '{' && (value = dict_extpar(saved)) == 0) {
	msg_warn("%s:%s: missing '}'", type, name);
	myfree(saved);
	return (dict_fail_open(type, name, flags));
    }
    ds = (DICT_STATIC *) dict_alloc(type, name, flags, sizeof(*ds));
    ds->value = mystrdup(value);
    ds->dict.lookup = dict_static_lookup;
    ds->dict.close = dict_static_close;
    myfree(saved);
    return (&ds->dict);
}
