/*
 * mail_owner.c - look up mail_owner once, for master, posthorn and the
 * daemon skeleton (see mail_owner.h).
 */
#include "sys_defs.h"
#include <pwd.h>
#include "mail_owner.h"
#include "mail_conf.h"
#include "msg.h"

void    mail_owner_ids(uid_t *uid, gid_t *gid)
{
    const char *owner = conf_str("mail_owner");
    struct passwd *pw;

    /* The real uid: local keeps root as its real uid but not as its euid */
    if (getuid() != 0) {
	*uid = getuid();
	*gid = getgid();
	return;
    }
    if ((pw = getpwnam(owner)) == 0)
	msg_fatal("mail_owner: unknown user name \"%s\"", owner);
    if (pw->pw_uid == 0)
	msg_fatal("mail_owner \"%s\" must not be root", owner);
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
}
