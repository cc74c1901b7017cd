/*
 * pop3d.c - the Posthorn POP3 server: main().
 *
 * One program, three roles (docs/ARCHITECTURE.md, "Mail access"):
 *
 *   pop3d            the login process: master.cf inet service, runs as
 *                    mail_owner, event-driven (lib/login/login_server.h);
 *   pop3d postlogin  the auth service: master.cf unix service with
 *                    unpriv = n, checks a login and starts the session
 *                    (lib/login/postlogin.h);
 *   pop3d session    the session, started by the auth service as the
 *                    mailbox owner with the client on descriptors 0 and 1
 *                    (pop3d_session.c).
 *
 * Typical master.cf lines:
 *   pop3      inet  n  -  n  -  -  pop3d
 *   pop3s     inet  n  -  n  -  -  pop3d -o pop3d_tls_wrappermode=yes
 *   pop3auth  unix  -  n  n  -  -  pop3d postlogin
 */
#include "sys_defs.h"
#include "mail_server.h"
#include "postlogin.h"
#include "pop3d.h"

const char *const pop3d_capabilities[] = {
    "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
    "IMPLEMENTATION Posthorn", 0,
};

int     main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "session") == 0)
	pop3d_session_main();
    if (mail_server_has_arg(argc, argv, "postlogin"))
	postlogin_main(argc, argv, "pop3d", "pop3", "pop3d");
    login_server_main(argc, argv, &pop3d_login_protocol);
}
