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
 * Types (now): hash:, btree: (Berkeley DB NAME.db), texthash:, static:,
 * inline:{key=value, ...}, unix:passwd.byname.  More in issue 3.
 */
#ifndef DICT_H
#define DICT_H

#include "sys_defs.h"

#define DICT_FLAG_FOLD_KEY	(1<<0)	/* fold the key to lower case */
#define DICT_FLAG_TRY0NULL	(1<<1)	/* keys stored without trailing NUL */
#define DICT_FLAG_TRY1NULL	(1<<2)	/* keys stored with trailing NUL */

typedef struct DICT DICT;
struct DICT {
    char   *type;
    char   *name;
    int     flags;
    int     error;			/* 0, or nonzero after a failed lookup/open */
    const char *(*lookup) (DICT *dict, const char *key);
    void    (*close) (DICT *dict);
};

DICT   *dict_open(const char *type_name, int flags);	/* never NULL: errors set ->error */
const char *dict_lookup(DICT *dict, const char *key);
void	dict_close(DICT *dict);

typedef struct MAPS {
    char   *title;
    DICT  **dicts;
    int     count;
    int     error;			/* last maps_find() could not answer */
} MAPS;

MAPS   *maps_create(const char *title, const char *spec, int flags);
const char *maps_find(MAPS *maps, const char *key);
void	maps_free(MAPS *maps);

#endif
