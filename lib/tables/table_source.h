/*
 * table_source.h - reading the text files that tables are made from.
 *
 * postmap(1) format (TABLE_SOURCE_POSTMAP): "key whitespace value";
 * aliases(5) format (TABLE_SOURCE_ALIASES): "name: value" (the name may
 * be quoted; the colon may be followed by white space).  In both: lines
 * whose first non-blank is '#' and blank lines are skipped, a line that
 * starts with white space continues the previous entry (joined with one
 * space), and a line that cannot be parsed is warned about with the file
 * name and line number, in Postfix's wording, and skipped.
 *
 * Used by postmap, postalias and the texthash: table, so all three read a
 * source file the same way.
 */
#ifndef TABLE_SOURCE_H
#define TABLE_SOURCE_H

#include "sys_defs.h"
#include "vstream.h"

#define TABLE_SOURCE_POSTMAP	0
#define TABLE_SOURCE_ALIASES	1

typedef struct TABLE_SOURCE TABLE_SOURCE;

/* table_source_open - PATH ("-" or NULL: the stream IN); NULL with errno */
TABLE_SOURCE *table_source_open(const char *path, int format);
TABLE_SOURCE *table_source_stream(VSTREAM *in, const char *name, int format);

/*
 * table_source_next - the next entry: 1 with *KEY and *VALUE set (valid
 * until the next call), 0 at the end, -1 on a read error (warned).
 */
int	table_source_next(TABLE_SOURCE *src, const char **key, const char **value);

/* table_source_lineno - the line where the last entry started */
int	table_source_lineno(const TABLE_SOURCE *src);
const char *table_source_name(const TABLE_SOURCE *src);
void	table_source_close(TABLE_SOURCE *src);

#endif
