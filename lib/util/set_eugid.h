/*
 * set_eugid.h - switching identities in processes that keep root.
 *
 * master, local (and the session starters of pop3d/imapd) keep a real uid
 * of 0 but do their ordinary work with the effective ids of mail_owner, and
 * act for a user with that user's effective ids.  set_eugid() goes there:
 * back to euid 0 first when needed, then the single group GID as the
 * group list, the effective gid, the effective uid.  A failure is fatal:
 * a process that cannot be sure who it is must not go on.  When the real
 * uid is not 0 (a developer's or test instance) there is nothing to switch
 * and set_eugid() does nothing.
 */
#ifndef SET_EUGID_H
#define SET_EUGID_H

#include "sys_defs.h"

void	set_eugid(uid_t uid, gid_t gid);

#endif
