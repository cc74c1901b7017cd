/*
 * pop3d.h - the POP3 server's internal interfaces.
 *
 * pop3d.c       main(): which of the three roles this process has
 * pop3d_login.c before login (the login process, as mail_owner)
 * pop3d_session.c after login (the session, as the mailbox owner)
 * pop3d_parse.c command lines, shared by both (and fuzzed)
 */
#ifndef POP3D_H
#define POP3D_H

#include "sys_defs.h"
#include "login_server.h"

/* RFC 2449 allows 255 octets per command; AUTH responses may be longer */
#define POP3_LINE_LIMIT		8192

/* CAPA lines both halves announce */
extern const char *const pop3d_capabilities[];

/* pop3d_login.c */
extern const LOGIN_PROTOCOL pop3d_login_protocol;

/* pop3d_session.c */
NORETURN pop3d_session_main(void);
/* pop3_session_command - VERB is a TRANSACTION-state command */
int	pop3_session_command(const char *verb);

#endif
