/*
 * postlogin.h - the privileged half of a login: the auth service that
 * checks credentials and starts the mailbox session as its owner.
 *
 * pop3d and imapd run it as a second master.cf service of the same
 * program (unpriv = n: it keeps a real uid of 0, working as mail_owner):
 *
 *   pop3auth  unix  -  n  n  -  -  pop3d postlogin
 *
 * The login processes (login_server.h) connect to it with one request per
 * login (login_proto.h).
 */
#ifndef POSTLOGIN_H
#define POSTLOGIN_H

#include "sys_defs.h"

/* postlogin_main - serve requests for PROTOCOL ("pop3"); the session is
 * "$daemon_directory/PROGRAM session"; PREFIX names the parameters */
NORETURN postlogin_main(int argc, char **argv, const char *program,
			        const char *protocol, const char *prefix);

#endif
