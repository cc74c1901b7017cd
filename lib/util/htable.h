/*
 * htable.h - a small string-keyed hash table.
 *
 * Keys are byte strings given with their length (htable_enter_len) or
 * NUL-terminated (htable_enter); each maps to one void * value.  Keys are
 * NOT copied: the caller keeps each key's bytes valid and unchanged while
 * the key is in the table (for example, names inside one big buffer, so a
 * table of 100,000 names costs no allocation per name).  Open addressing
 * with linear probing; the table doubles when three quarters full.
 *
 *	HTABLE *table = htable_create(expected);
 *	htable_enter(table, "key", value);	   replaces an existing value
 *	info = htable_locate(table, "key");	   NULL when absent
 *	htable_delete(table, "key");		   1 if it was there
 *	info = htable_add_len(table, key, len, &added);
 *		the key's slot, one probe: when ADDED, new with value NULL
 *		(the caller sets it), else as it was
 *	htable_free(table);
 *
 * A pointer returned by htable_locate() or htable_enter() stays valid
 * until the next htable_enter() or htable_delete().  Values that are
 * small integers can be stored with (void *) (uintptr_t) N.
 */
#ifndef HTABLE_H
#define HTABLE_H

#include "sys_defs.h"

typedef struct HTABLE_INFO {
    const char *key;			/* the caller's bytes, not copied */
    size_t  len;
    unsigned hash;
    void   *value;
} HTABLE_INFO;

typedef struct HTABLE {
    HTABLE_INFO *slots;			/* key == NULL: empty slot */
    size_t  size;			/* power of two */
    size_t  used;
} HTABLE;

HTABLE *htable_create(size_t expected);
void	htable_free(HTABLE *table);
HTABLE_INFO *htable_enter_len(HTABLE *table, const char *key, size_t len,
			              void *value);
HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value);
HTABLE_INFO *htable_add_len(HTABLE *table, const char *key, size_t len,
			            int *added);
HTABLE_INFO *htable_locate_len(const HTABLE *table, const char *key,
			               size_t len);
HTABLE_INFO *htable_locate(const HTABLE *table, const char *key);
int	htable_delete_len(HTABLE *table, const char *key, size_t len);
int	htable_delete(HTABLE *table, const char *key);

#define htable_count(table)	((table)->used)

#endif
