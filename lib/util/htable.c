/*
 * htable.c - a small string-keyed hash table (see htable.h).
 *
 * Open addressing with linear probing over a power-of-two array of slots;
 * the hash (a word at a time, see htable_hash) is kept in the slot, so a
 * probe compares bytes only when the hashes agree.  Deletion shifts the following entries
 * of the cluster back, so no tombstones accumulate.
 */
#include "sys_defs.h"
#include "mymalloc.h"
#include "htable.h"

#define HTABLE_MIN_SIZE	16

/*
 * htable_hash - LEN bytes, eight at a time: each word is mixed in with a
 * multiply and a shift, the tail is one more word padded with zeros (the
 * length is in the seed, so "a" and "a\0" differ), and a final mix
 * spreads every byte over the low bits that pick the slot.
 */
static unsigned htable_hash(const char *key, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t) len;
    uint64_t word;

    for (/* void */ ; len >= 8; key += 8, len -= 8) {
	memcpy(&word, key, 8);
	h = (h ^ word) * 0xff51afd7ed558ccdull;
	h ^= h >> 32;
    }
    if (len > 0) {
	word = 0;
	memcpy(&word, key, len);
	h = (h ^ word) * 0xff51afd7ed558ccdull;
    }
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return ((unsigned) h);
}

/* htable_size_for - the smallest power of two that holds COUNT at 3/4 load */

static size_t htable_size_for(size_t count)
{
    size_t  size = HTABLE_MIN_SIZE;

    while (size - size / 4 <= count)
	size *= 2;
    return (size);
}

HTABLE *htable_create(size_t expected)
{
    HTABLE *table = (HTABLE *) mymalloc(sizeof(*table));

    table->size = htable_size_for(expected);
    table->slots = (HTABLE_INFO *) mycalloc(table->size, sizeof(*table->slots));
    table->used = 0;
    return (table);
}

void    htable_free(HTABLE *table)
{
    myfree(table->slots);
    myfree(table);
}

/* htable_probe - the slot holding KEY, or the empty slot where it belongs */

static HTABLE_INFO *htable_probe(const HTABLE *table, const char *key,
				         size_t len, unsigned hash)
{
    size_t  mask = table->size - 1;
    size_t  i = hash & mask;
    HTABLE_INFO *slot;

    for (;;) {
	slot = table->slots + i;
	if (slot->key == 0)
	    return (slot);
	if (slot->hash == hash && slot->len == len
	    && memcmp(slot->key, key, len) == 0)
	    return (slot);
	i = (i + 1) & mask;
    }
}

/* htable_grow - double the slot array and re-insert every entry */

static void htable_grow(HTABLE *table)
{
    HTABLE_INFO *old = table->slots;
    size_t  old_size = table->size;
    size_t  i;

    table->size *= 2;
    table->slots = (HTABLE_INFO *) mycalloc(table->size, sizeof(*table->slots));
    for (i = 0; i < old_size; i++)
	if (old[i].key != 0)
	    *htable_probe(table, old[i].key, old[i].len, old[i].hash) = old[i];
    myfree(old);
}

HTABLE_INFO *htable_enter_len(HTABLE *table, const char *key, size_t len,
			              void *value)
{
    unsigned hash = htable_hash(key, len);
    HTABLE_INFO *slot;

    if (table->used + 1 > table->size - table->size / 4)
	htable_grow(table);
    slot = htable_probe(table, key, len, hash);
    if (slot->key == 0) {
	slot->key = key;
	slot->len = len;
	slot->hash = hash;
	table->used++;
    }
    slot->value = value;
    return (slot);
}

HTABLE_INFO *htable_add_len(HTABLE *table, const char *key, size_t len,
			            int *added)
{
    unsigned hash = htable_hash(key, len);
    HTABLE_INFO *slot;

    if (table->used + 1 > table->size - table->size / 4)
	htable_grow(table);
    slot = htable_probe(table, key, len, hash);
    if ((*added = (slot->key == 0)) != 0) {
	slot->key = key;
	slot->len = len;
	slot->hash = hash;
	slot->value = 0;
	table->used++;
    }
    return (slot);
}

HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value)
{
    return (htable_enter_len(table, key, strlen(key), value));
}

HTABLE_INFO *htable_locate_len(const HTABLE *table, const char *key, size_t len)
{
    HTABLE_INFO *slot = htable_probe(table, key, len, htable_hash(key, len));

    return (slot->key ? slot : 0);
}

HTABLE_INFO *htable_locate(const HTABLE *table, const char *key)
{
    return (htable_locate_len(table, key, strlen(key)));
}

/*
 * htable_delete_len - empty KEY's slot, then move later members of the
 * cluster back into the hole when their home slot is at or before it.
 */
int     htable_delete_len(HTABLE *table, const char *key, size_t len)
{
    size_t  mask = table->size - 1;
    HTABLE_INFO *slot = htable_locate_len(table, key, len);
    size_t  hole, next, home;

    if (slot == 0)
	return (0);
    hole = (size_t) (slot - table->slots);
    for (next = (hole + 1) & mask; table->slots[next].key;
	 next = (next + 1) & mask) {
	home = table->slots[next].hash & mask;
	/* Leave it when its home lies cyclically in (hole, next] */
	if (hole < next ? (home > hole && home <= next)
	    : (home > hole || home <= next))
	    continue;
	table->slots[hole] = table->slots[next];
	hole = next;
    }
    memset(table->slots + hole, 0, sizeof(table->slots[hole]));
    table->used--;
    return (1);
}

int     htable_delete(HTABLE *table, const char *key)
{
    return (htable_delete_len(table, key, strlen(key)));
}
