/*
 * postmap.c - Postfix-compatible lookup table management.
 *
 *   postmap [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [type:]file ...
 *
 * Compiles "key whitespace value" text files into hash:/btree: databases
 * (FILE.db) that Postfix's own postmap and Posthorn's daemons both read,
 * and queries (-q), dumps (-s) or edits (-i, -d) any supported table.
 * The work is done by maptool.c, shared with postalias; see there for the
 * options and the Postfix behaviour they follow.
 *
 * Exit status: 0 on success (for -q/-d: a key was found); 1 when no key
 * was found or on any error (reported as "postmap: fatal: ...").
 */
#include "maptool.h"

int     main(int argc, char **argv)
{
    static const MAPTOOL postmap = {"postmap", TABLE_SOURCE_POSTMAP, "\t"};

    return (maptool_main(argc, argv, &postmap));
}
