/*
 * maptool.h - the body shared by postmap(1) and postalias(1).
 *
 * Both commands are one program with a different source format
 * (lib/tables/table_source.h: "key value" for postmap, aliases(5) for postalias)
 * and a different output separator ("key<TAB>value" against
 * "key:<TAB>value").  postmap.c and postalias.c each call maptool_main()
 * from main(); the work is in maptool.c.
 */
#ifndef MAPTOOL_H
#define MAPTOOL_H

#include "sys_defs.h"
#include "table_source.h"

/* What differs between postmap and postalias */
typedef struct MAPTOOL {
    const char *progname;		/* "postmap" or "postalias" */
    int     format;			/* TABLE_SOURCE_POSTMAP or _ALIASES */
    const char *sep;			/* between key and value in -s, -q - */
} MAPTOOL;

int	maptool_main(int argc, char **argv, const MAPTOOL *tool);

#endif
