/*
 * maillog_rotate.h - rotate maillog_file, for "posthorn logrotate" (as
 * Postfix 3.4's "postfix logrotate").
 *
 * maillog_rotate() renames the log PATH to PATH.SUFFIX, SUFFIX being the
 * local time formatted with strftime(FORMAT) (Postfix's default
 * maillog_file_rotate_suffix is "%Y%m%d-%H%M%S").  It refuses a log under
 * /dev/, a symbolic link, a file with more than one hard link, and an
 * existing PATH.SUFFIX (never overwritten).  The new name goes to ROTATED.
 * The writers still hold the old file: the caller makes them reopen
 * (master reload) before compressing.
 *
 * maillog_compress() runs COMPRESSOR ROTATED (found in PATH, as Postfix's
 * shell finds maillog_file_compressor; gzip makes ROTATED.gz) and waits
 * for it, after checking that ROTATED is still the file that was renamed
 * (an ordinary file with one link, whose device and inode are in ST).
 *
 * Both return 0, or -1 with the reason in ERR.
 */
#ifndef MAILLOG_ROTATE_H
#define MAILLOG_ROTATE_H

#include "sys_defs.h"
#include "vstring.h"

int	maillog_rotate(const char *path, const char *format, time_t when,
		               VSTRING *rotated, struct stat *st, VSTRING *err);
int	maillog_compress(const char *rotated, const struct stat *st,
			         const char *compressor, VSTRING *err);

#endif
