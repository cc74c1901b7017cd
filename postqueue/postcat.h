/*
 * postcat.h - the parts of postcat: postcat.c (options, finding files)
 * and postcat_print.c (one queue file in Postfix's words).
 */
#ifndef POSTCAT_H
#define POSTCAT_H

#include "sys_defs.h"
#include "vstream.h"

#define PC_FLAG_ENV	(1<<0)		/* -e: envelope records and markers */
#define PC_FLAG_HEADER	(1<<1)		/* -h: message header */
#define PC_FLAG_BODY	(1<<2)		/* -b: message body */
#define PC_FLAG_OFFSET	(1<<3)		/* -o: file offset of each record/line */
#define PC_FLAG_DECIMAL	(1<<4)		/* -d: decimal record type */
#define PC_FLAG_RAW	(1<<5)		/* -r: file order, go on after the end */
#define PC_MASK_TEXT	(PC_FLAG_HEADER | PC_FLAG_BODY)
#define PC_MASK_ALL	(PC_FLAG_ENV | PC_MASK_TEXT)

typedef struct PC_OPTS {
    int     flags;			/* PC_FLAG_* */
    off_t   start;			/* -s: print from this offset on */
} PC_OPTS;

/*
 * postcat_print - show the queue file FP (named PATH in the markers) on
 * standard output; a file that is not a queue file is warned about.
 * A damaged record is fatal, as with Postfix.
 */
void	postcat_print(VSTREAM *fp, const char *path, const PC_OPTS *opts);

#endif
