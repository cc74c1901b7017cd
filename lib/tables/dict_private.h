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
#include "vstream.h"

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

/* dict_db_open_write - hash/btree opened O_RDWR[|O_CREAT|O_TRUNC] (see dict.h) */
DICT   *dict_db_open_write(const char *type, const char *name, int open_flags, int flags);
/* dict_lmdb_open_write - the same for lmdb (NAME.lmdb) */
DICT   *dict_lmdb_open_write(const char *type, const char *name, int open_flags, int flags);
DICT   *dict_pcre_open(const char *type, const char *name, int flags);	/* pcre */
DICT   *dict_regexp_open(const char *type, const char *name, int flags);	/* regexp */
DICT   *dict_cidr_open(const char *type, const char *name, int flags);	/* cidr */
DICT   *dict_lmdb_open(const char *type, const char *name, int flags);	/* lmdb */
DICT   *dict_sqlite_open(const char *type, const char *name, int flags);	/* sqlite */
DICT   *dict_pgsql_open(const char *type, const char *name, int flags);	/* pgsql */
DICT   *dict_mysql_open(const char *type, const char *name, int flags);	/* mysql */
DICT   *dict_ldap_open(const char *type, const char *name, int flags);	/* ldap */
DICT   *dict_proxy_open(const char *type, const char *name, int flags);	/* proxy */

/* dict_fail_write - as dict_fail_open, for a table opened for writing: close gives -1 */
DICT   *dict_fail_write(const char *type, const char *name, int flags);

/*
 * Logical lines of a table source file (Postfix's readllines): blank
 * lines and lines whose first non-blank is '#' are skipped, a line that
 * starts with white space continues the previous one (its text is
 * appended as is), text after a NUL byte is dropped, and a physical or
 * logical line longer than DICT_LINE_MAX is warned about and skipped.
 * Implemented in table_source.c; used there, by dict_rules.c (pcre:,
 * regexp:, cidr:) and by dict_query.c (the configuration file of sqlite:,
 * pgsql:, mysql: and ldap:).
 */
#define DICT_LINE_MAX	(1024 * 1024)
typedef struct DICT_LINES DICT_LINES;
DICT_LINES *dict_lines_open(VSTREAM *fp, const char *name);
/* dict_lines_next - 1: a logical line in BUF (*LINENO: where it started); 0 EOF; -1 read error */
int	dict_lines_next(DICT_LINES *lines, VSTRING *buf, int *lineno);
void	dict_lines_free(DICT_LINES *lines);

/* dict_extpar - strip "{ ... }" around TEXT in place (with white space); NULL if unbalanced */
char   *dict_extpar(char *text);

/*
 * dict_strtokq - next token of *BUFP separated by chars in SEP, where a
 * "{ ... }" group is kept whole (separators inside braces do not count).
 * Writes a NUL after the token, advances *BUFP; NULL when none is left.
 */
char   *dict_strtokq(char **bufp, const char *sep);

#endif
