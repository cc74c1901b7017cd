/*
 * user.h - the user lookup seam.
 *
 * Local delivery and smtpd's local_recipient_maps find users here.  When
 * the Posthorn parameter passwd_file is set, users come from that
 * passwd(5)-format file (name:pw:uid:gid:gecos:home:shell) instead of the
 * system database, so tests and "make run" need no system accounts.
 * Otherwise getpwnam()/getpwuid() are used.
 */
#ifndef USER_H
#define USER_H

#include "sys_defs.h"

typedef struct USER_INFO {
    char   *name;
    uid_t   uid;
    gid_t   gid;
    char   *home;
    char   *shell;
} USER_INFO;

/* user_by_name - 1 found, 0 not found, -1 lookup error (errno) */
int	user_by_name(const char *name, USER_INFO *info);
int	user_by_uid(uid_t uid, USER_INFO *info);
void	user_info_free(USER_INFO *info);

#endif
