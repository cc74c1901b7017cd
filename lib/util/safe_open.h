/*
 * safe_open.h - open or create a file in a directory that others can write.
 *
 * Root (or any process acting for one user) must never be lured by
 * another account into writing somewhere else: a mailbox in a sticky
 * spool, a /file destination, a pid or log file.  safe_open() follows
 * Postfix's rules:
 *   - an existing file must not be a symbolic link (one owned by root is
 *     followed: only root could have made it), must not be a directory,
 *     and must have exactly one hard link;
 *   - it must be the same file (device and inode) that was checked before
 *     it was opened: a file swapped in between is refused;
 *   - a new file is created with O_EXCL (never through a symbolic link)
 *     and, when USER/GROUP are not -1, given to them with fchown() on the
 *     open descriptor, never by name.
 * FLAGS are open(2)'s; O_EXCL only with O_CREAT.  O_CREAT alone means
 * "open, or create if missing", retried once either way for a racing
 * creator.  The result is a descriptor (ST filled in when not NULL), or
 * -1 with errno set (EPERM for a refused file) and the reason in WHY in
 * Postfix's words ("file is a symbolic link", "file has 2 hard links").
 *
 * safe_open_dir() opens a directory for openat()-style use: not through a
 * symbolic link unless the link is owned by root or by TRUSTED_UID.
 */
#ifndef SAFE_OPEN_H
#define SAFE_OPEN_H

#include "sys_defs.h"
#include "vstring.h"

int	safe_open(const char *path, int flags, mode_t mode, struct stat *st,
		          uid_t user, gid_t group, VSTRING *why);

int	safe_open_dir(const char *path, uid_t trusted_uid, struct stat *st,
		              VSTRING *why);

/* Tests only: called between the check of an existing file and its open */
extern void (*safe_open_race_hook) (const char *path);

#endif
