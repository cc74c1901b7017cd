/*
 * set_eugid.c - effective identity switches (set_eugid.h).
 */
#include "sys_defs.h"
#include <grp.h>
#include "msg.h"
#include "set_eugid.h"

void    set_eugid(uid_t uid, gid_t gid)
{
    if (getuid() != 0)
	return;
    if (geteuid() != 0 && seteuid(0) < 0)
	msg_fatal("seteuid 0: %m");
    if (setgroups(1, &gid) < 0)
	msg_fatal("setgroups %ld: %m", (long) gid);
    if (setegid(gid) < 0)
	msg_fatal("setegid %ld: %m", (long) gid);
    if (uid != 0 && seteuid(uid) < 0)
	msg_fatal("seteuid %ld: %m", (long) uid);
}
