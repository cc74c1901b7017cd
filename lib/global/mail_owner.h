/*
 * mail_owner.h - who owns the queue: mail_owner when root, else ourselves.
 */
#ifndef MAIL_OWNER_H
#define MAIL_OWNER_H

#include "sys_defs.h"

/*
 * mail_owner_ids - the uid/gid of mail_owner when the real uid is root
 * (fatal if that user is unknown or is root), else the caller's own ids.
 */
void	mail_owner_ids(uid_t *uid, gid_t *gid);

#endif
