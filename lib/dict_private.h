/*
 * dict_private.h - what the table backends (dict_*.c) share with dict.c.
 *
 * Each backend embeds a DICT as the first member of its own structure,
 * fills in lookup/close, and is reached only through dict_open().  A table
 * that cannot be opened is still returned: dict_fail_open() makes one whose
 * lookups fail with ->error set, so callers defer instead of crashing.
 */
#ifndef DICT_PRIVATE_H
#define DICT_PRIVATE_H

#include "dict.h"

#define DICT_ERR_RETRY	(-1)		/* value for dict->error: try later */

/* dict_alloc - a zeroed backend object of SIZE bytes with type and name set */
DICT   *dict_alloc(const char *type, const char *name, int flags, size_t size);
/* dict_free - free what dict_alloc made (type, name, the object) */
void	dict_free(DICT *dict);
/* dict_fail_open - a table whose every lookup fails with ->error set */
DICT   *dict_fail_open(const char *type, const char *name, int flags);

/* Backends: each returns a usable DICT or a dict_fail_open() one */
DICT   *dict_db_open(const char *type, const char *name, int flags);	/* hash, btree */
DICT   *dict_thash_open(const char *type, const char *name, int flags);	/* texthash */
DICT   *dict_static_open(const char *type, const char *name, int flags);	/* static */
DICT   *dict_inline_open(const char *type, const char *name, int flags);	/* inline */
DICT   *dict_unix_open(const char *type, const char *name, int flags);	/* unix */

/* dict_extpar - strip "{ ... }" around TEXT in place (with white space); NULL if unbalanced */
char   *dict_extpar(char *text);

/*
 * dict_strtokq - next token of *BUFP separated by chars in SEP, where a
 * "{ ... }" group is kept whole (separators inside braces do not count).
 * Writes a NUL after the token, advances *BUFP; NULL when none is left.
 */
char   *dict_strtokq(char **bufp, const char *sep);

#endif
