/*
 * mailbox_find.h - where a user's mail lives, for local delivery and for
 * the logins of pop3d and imapd (one rule for both, so that a user reads
 * exactly the mailbox that local fills).
 *
 * A local user (passwd or passwd_file) has HOME/$home_mailbox when
 * home_mailbox is set, else $mail_spool_directory/NAME; a path ending in
 * '/' is a Maildir, else an mbox file.  A virtual address is looked up in
 * virtual_mailbox_maps (path below virtual_mailbox_base), with its owner
 * from virtual_uid_maps and virtual_gid_maps, the way Postfix's virtual(8)
 * does: the address, the address without its extension, "@domain".
 *
 * Results: MAILBOX_FOUND (PLACE filled in), MAILBOX_UNKNOWN (no such
 * virtual address), MAILBOX_TEMP (a table could not answer), or
 * MAILBOX_CONFIG (the configuration cannot work for this user); WHY says
 * why for the last three.
 *
 * Parameters: home_mailbox, mail_spool_directory, virtual_mailbox_base,
 * virtual_mailbox_maps, virtual_uid_maps, virtual_gid_maps,
 * virtual_minimum_uid, recipient_delimiter.
 */
#ifndef MAILBOX_FIND_H
#define MAILBOX_FIND_H

#include "sys_defs.h"
#include "vstring.h"
#include "user.h"

#define MAILBOX_FOUND	0
#define MAILBOX_UNKNOWN	1
#define MAILBOX_TEMP	2
#define MAILBOX_CONFIG	3

/* Mailbox formats */
#define MAILBOX_MBOX	1
#define MAILBOX_MAILDIR	2

typedef struct MAILBOX_PLACE {
    int     kind;			/* MAILBOX_MBOX or MAILBOX_MAILDIR */
    VSTRING *path;			/* mbox file, or Maildir ending in '/' */
    uid_t   uid;			/* the mailbox owner */
    gid_t   gid;
    int     virtual;			/* a virtual mailbox: parents may be made */
    int     spool;			/* in mail_spool_directory */
} MAILBOX_PLACE;

void	mailbox_place_init(MAILBOX_PLACE *place);
void	mailbox_place_free(MAILBOX_PLACE *place);

/* mailbox_find_user - the mailbox of local user NAME (USER from user.h) */
int	mailbox_find_user(const char *name, const USER_INFO *user,
			          MAILBOX_PLACE *place, VSTRING *why);

/* mailbox_find_virtual - the mailbox of virtual address ADDR */
int	mailbox_find_virtual(const char *addr, MAILBOX_PLACE *place, VSTRING *why);

/* mailbox_name_ok - a user name that is safe as a file name */
int	mailbox_name_ok(const char *name);

#endif
