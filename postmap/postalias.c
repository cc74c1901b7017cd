/*
 * postalias.c - Postfix-compatible alias database management.
 *
 *   postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [type:]file ...
 *
 * Compiles aliases(5) files ("name: value, value", continuation lines,
 * quoted names) into hash:/btree: databases (FILE.db) for alias_maps, with
 * the Sendmail "@" entry and the NIS YP_* entries that Postfix adds, and
 * queries (-q), dumps (-s, "key:<TAB>value") or edits (-i, -d) them.
 * newaliases (sendmail -bi) runs this program for each alias_database
 * table.  The work is done by maptool.c, shared with postmap.
 *
 * Exit status: 0 on success (for -q/-d: a key was found); 1 otherwise.
 */
#include "maptool.h"

int     main(int argc, char **argv)
{
    static const MAPTOOL postalias = {"postalias", TABLE_SOURCE_ALIASES, ":\t"};

    return (maptool_main(argc, argv, &postalias));
}
