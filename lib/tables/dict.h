/*
 * dict.h - the one "type:name" lookup table interface.
 *
 * dict_open("hash:/etc/posthorn/virtual", flags) opens a table of any
 * supported type; dict_lookup() returns the value or NULL.  When the
 * table cannot answer (unreadable, corrupt, out of date) dict->error is
 * set and callers defer the mail ("table unavailable"), never bounce it.
 * maps_create() opens a list of tables ("hash:a, texthash:b") searched in
 * order, as Postfix's *_maps parameters are.
 *
 * Types: hash:, btree: (Berkeley DB NAME.db), lmdb: (NAME.lmdb), pcre:
 * (PCRE2 pattern file), regexp: (POSIX pattern file), cidr: (networks),
 * sqlite: (a configuration file naming the database and the query),
 * texthash:, static:, inline:{key=value, ...}, unix:passwd.byname.
 *
 * Tools (postmap, postalias) open tables for writing with dict_open3():
 * O_RDWR|O_CREAT|O_TRUNC builds a new database in a temporary file that
 * dict_close() renames into place, so a reader never sees a half table;
 * O_RDWR alone updates the existing database in place (postmap -i, -d).
 * dict_update/dict_delete/dict_sequence work on tables that support them
 * (hash, btree, lmdb); others answer -1 with dict->error set.
 */
#ifndef DICT_H
#define DICT_H

#include "sys_defs.h"
#include "vstring.h"

#define DICT_FLAG_FOLD_KEY	(1<<0)	/* fold the key to lower case */
#define DICT_FLAG_TRY0NULL	(1<<1)	/* keys stored without trailing NUL */
#define DICT_FLAG_TRY1NULL	(1<<2)	/* keys stored with trailing NUL */
#define DICT_FLAG_DUP_WARN	(1<<3)	/* update: warn about a duplicate key, keep the first */
#define DICT_FLAG_DUP_REPLACE	(1<<4)	/* update: a duplicate key replaces the old value */
#define DICT_FLAG_DUP_IGNORE	(1<<5)	/* update: keep the first, quietly */

/* dict_sequence FUNC */
#define DICT_SEQ_FIRST	0
#define DICT_SEQ_NEXT	1

typedef struct DICT DICT;
struct DICT {
    char   *type;
    char   *name;
    int     flags;
    int     error;			/* 0, or nonzero after a failed lookup/open */
    const char *(*lookup) (DICT *dict, const char *key);
    int     (*close) (DICT *dict);		/* 0, or -1 when a commit failed */
    /* optional (NULL: not supported); results as dict_update etc. below */
    int     (*update) (DICT *dict, const char *key, const char *value);
    int     (*delete) (DICT *dict, const char *key);
    int     (*sequence) (DICT *dict, int func, const char **key, const char **value);
    VSTRING *fold_buf;			/* dict.c: this table's folded key */
    /* dict.c: the file the table was read from, as it was then */
    char   *watch_path;			/* NULL: not a file */
    struct stat watch_st;		/* st_ino 0: it was missing */
    struct DICT *watch_next;
};

DICT   *dict_open(const char *type_name, int flags);	/* never NULL: errors set ->error */
/* dict_open3 - as dict_open, with open(2) flags: O_RDONLY, O_RDWR[|O_CREAT|O_TRUNC] */
DICT   *dict_open3(const char *type_name, int open_flags, int flags);
const char *dict_lookup(DICT *dict, const char *key);
/* dict_update - 0 stored, 1 duplicate key (per DICT_FLAG_DUP_*), -1 error */
int	dict_update(DICT *dict, const char *key, const char *value);
/* dict_delete - 0 deleted, 1 not found, -1 error */
int	dict_delete(DICT *dict, const char *key);
/* dict_sequence - 0: a pair in *KEY and *VALUE; 1: no more; -1: error */
int	dict_sequence(DICT *dict, int func, const char **key, const char **value);
/* dict_close - for a new table: commit (rename into place); -1 on failure */
int	dict_close(DICT *dict);
/* dict_changed_name - "type:name" of an open table whose file changed
 * since it was read (rebuilt, edited, removed, made), or NULL */
const char *dict_changed_name(void);

typedef struct MAPS {
    char   *title;
    DICT  **dicts;
    int     count;
    int     error;			/* last maps_find() could not answer */
} MAPS;

MAPS   *maps_create(const char *title, const char *spec, int flags);
const char *maps_find(MAPS *maps, const char *key);
void	maps_free(MAPS *maps);

/* dict_type_names - the types dict_open() knows ("hash", ...), NULL-terminated */
const char *const *dict_type_names(void);

#endif
