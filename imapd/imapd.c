/*
 * imapd.c - the Posthorn IMAP server: main().
 *
 * One program, three roles, as pop3d (docs/ARCHITECTURE.md, "Mail
 * access"): the login process (master.cf inet service, mail_owner,
 * event-driven: imapd_login.c on lib/login/login_server.h), the auth
 * service ("imapd postlogin", unpriv = n: lib/login/postlogin.h), and the
 * session ("imapd session", started by the auth service as the mailbox
 * owner: imapd_session.c).
 *
 * Typical master.cf lines:
 *   imap      inet  n  -  n  -  -  imapd
 *   imaps     inet  n  -  n  -  -  imapd -o imapd_tls_wrappermode=yes
 *   imapauth  unix  -  n  n  -  -  imapd postlogin
 */
#include "sys_defs.h"
#include "mail_server.h"
#include "postlogin.h"
#include "imapd.h"

int     main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "session") == 0)
	imapd_session_main();
    if (mail_server_has_arg(argc, argv, "postlogin"))
	postlogin_main(argc, argv, "imapd", "imap", "imapd");
    login_server_main(argc, argv, &imapd_login_protocol);
}
