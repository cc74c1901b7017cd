/*
 * mailq_format.h - postqueue -p (Postfix's mailq) and -j (JSON) output.
 *
 * A MAILQ_FORMAT counts messages and bytes across calls:
 *     MAILQ_FORMAT mf; mailq_format_init(&mf, out);
 *     for each message: mailq_format_text(&mf, msg) or mailq_format_json(&mf, msg);
 *     mailq_format_text_end(&mf);   (the closing line, text mode only)
 * The text format is Postfix's long-queue-id layout (showq_compat.c):
 * headings before the first message, a blank line between messages, a
 * "(reason)" line right-aligned to column 78 before a recipient whose
 * delay reason differs from the previous recipient's, "Mail queue is
 * empty" or "-- N Kbytes in M Requests." at the end.
 */
#ifndef MAILQ_FORMAT_H
#define MAILQ_FORMAT_H

#include "sys_defs.h"
#include "vstream.h"
#include "showq_proto.h"

typedef struct MAILQ_FORMAT {
    VSTREAM *out;
    unsigned long files;
    unsigned long bytes;
} MAILQ_FORMAT;

void	mailq_format_init(MAILQ_FORMAT *mf, VSTREAM *out);
void	mailq_format_text(MAILQ_FORMAT *mf, const SHOWQ_MSG *msg);
void	mailq_format_text_end(MAILQ_FORMAT *mf);
void	mailq_format_json(MAILQ_FORMAT *mf, const SHOWQ_MSG *msg);

#endif
