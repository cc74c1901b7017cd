/*
 * mail_perms.h - owners and modes of the mail system's files: what
 * "posthorn check" compares and "posthorn set-permissions" sets, as
 * Postfix's postfix-script check-warn and post-install set-permissions.
 *
 * The queue.  queue_directory itself is root's and writable by root only
 * (when the mail system runs as root).  The directories in it, as
 * mail_queue_mkdirs() creates them (mail_queue.h), with OWNER/GROUP the
 * ids of mail_owner (mail_owner_ids(); the caller's own when not root):
 *
 *   incoming active deferred hold defer bounce trace
 *              OWNER, mode 0700; everything in them OWNER's (hash
 *              subdirectories 0700 too)
 *   corrupt    OWNER, mode 0700; its files are left as they are (pickup
 *              moves users' maildrop files there: the owner is the writer)
 *   maildrop   OWNER and GROUP, mode 3733; never looked into: the files
 *              there belong to the users who wrote them (pickup trusts
 *              their owner), so nothing here changes them
 *   public     OWNER, 0755; private OWNER, 0700 (sockets: not looked into)
 *   pid        root, 0755 (master's pid file)
 *
 * mail_perms_check_queue() reports each difference to CC as an error, the
 * messages in corrupt/ as warnings ("damaged message"), in Postfix's
 * words ("not owned by root: DIR", "group or other writable: DIR", "not
 * owned by posthorn: DIR/incoming/ID"); after MAIL_PERMS_MAX_REPORTS
 * problems in one queue the rest is only counted.  Missing directories
 * are not reported: "posthorn check" and "start" create them.  The
 * current directory is left where it was.
 *
 * mail_perms_fix_queue() (root only) makes the tree so: it creates what
 * is missing and sets owners and modes on open descriptors only, walking
 * the queues one name at a time from the directory it opened before
 * (safe_open_dir(), safe_open()): no symbolic link is followed, no file
 * with more than one hard link is given away, so nothing another account
 * planted in the queue can make root change a file elsewhere.  Each change
 * is logged; what it refuses is reported to CC as an error.  Afterwards
 * the current directory is queue_directory.
 *
 * Root's files (config_directory, main.cf, master.cf, the daemons master
 * runs): mail_perms_check_root() reports PATH when it is not root's or
 * group or other can write it (as root; it does nothing otherwise);
 * mail_perms_fix_root() makes it root's with MODE (or, for -1, its mode
 * without the group and other write bits), opened with safe_open() or
 * safe_open_dir().
 */
#ifndef MAIL_PERMS_H
#define MAIL_PERMS_H

#include "sys_defs.h"
#include "conf_check.h"

/* What is expected of one directory under queue_directory */
typedef struct MAIL_PERMS_DIR {
    const char *name;
    mode_t  mode;
    int     root_owned;			/* root's (when running as root) */
    int     group;			/* must have mail_owner's group too */
    int     walk;			/* everything in it is mail_owner's */
} MAIL_PERMS_DIR;

extern const MAIL_PERMS_DIR mail_perms_dirs[];	/* name NULL ends it */

/* Reports per walk about files before the rest is only counted */
#define MAIL_PERMS_MAX_REPORTS	10

void	mail_perms_check_queue(CONF_CHECK *cc, const char *queue_dir, uid_t owner,
			          gid_t group, int as_root);
void	mail_perms_fix_queue(CONF_CHECK *cc, const char *queue_dir, uid_t owner,
			        gid_t group);

void	mail_perms_check_root(CONF_CHECK *cc, const char *path);
void	mail_perms_fix_root(CONF_CHECK *cc, const char *path, mode_t mode);

#endif
