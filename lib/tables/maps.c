/*
 * maps.c - a list of tables searched in order, as *_maps parameters are.
 *
 * maps_create("alias_maps", "hash:/etc/aliases, inline:{a=b, c=d}", flags)
 * opens each "type:name" of SPEC (separated by commas or white space;
 * "{ ... }" groups inside a name are kept whole; "proxy:type:name" asks
 * the proxymap service, dict_proxy.c).  maps_find() returns the
 * first table's answer; when a table cannot answer, the search stops with
 * NULL and maps->error set, so the caller defers rather than bounces.
 */
#include "sys_defs.h"
#include "msg.h"
#include "printable.h"
#include "mymalloc.h"
#include "dict_private.h"

#define MAPS_SEP	", \t\r\n"

MAPS   *maps_create(const char *title, const char *spec, int flags)
{
    MAPS   *maps = (MAPS *) mycalloc(1, sizeof(*maps));
    char   *saved = mystrdup(spec);
    char   *cp = saved;
    char   *name;
    int     size = 0;

    maps->title = mystrdup(title);
    while ((name = dict_strtokq(&cp, MAPS_SEP)) != 0) {
	if (maps->count == size) {
	    size = size ? 2 * size : 4;
	    maps->dicts = (DICT **) myrealloc(maps->dicts, size * sizeof(DICT *));
	}
	maps->dicts[maps->count++] = dict_open(name, flags);
    }
    myfree(saved);
    return (maps);
}

const char *maps_find(MAPS *maps, const char *key)
{
    const char *value;

    maps->error = 0;
    for (int i = 0; i < maps->count; i++) {
	DICT   *dict = maps->dicts[i];

	if ((value = dict_lookup(dict, key)) != 0)
	    return (value);
	if (dict->error) {			/* a header key: one line, short */
	    char   *shown = printable(mystrndup(key, 100), '?');

	    msg_warn("%s:%s lookup error for \"%s\"", dict->type, dict->name, shown);
	    myfree(shown);
	    maps->error = dict->error;
	    return (0);
	}
    }
    return (0);
}

void    maps_free(MAPS *maps)
{
    for (int i = 0; i < maps->count; i++)
	dict_close(maps->dicts[i]);
    if (maps->dicts)
	myfree(maps->dicts);
    myfree(maps->title);
    myfree(maps);
}
