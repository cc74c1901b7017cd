/*
 * login_session.h - the mailbox session's side of a login: who logged in,
 * and buffered, timed I/O with the client.
 *
 * postlogin.c starts "PROGRAM session" with the client on descriptors 0
 * and 1 (the client's socket, or the login process's TLS proxy) and the
 * login's facts in the environment (login_proto.h).  login_session_init()
 * reads them once; input the client pipelined after its login command
 * comes first, then the descriptor.  Reads and writes wait at most
 * TIMEOUT seconds.  Output is buffered: flush before waiting for input
 * (login_session_get_line does that itself).
 */
#ifndef LOGIN_SESSION_H
#define LOGIN_SESSION_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct LOGIN_SESSION {
    const char *user;			/* the login name */
    const char *mailbox;		/* path of INBOX */
    int     maildir;			/* 1: Maildir, 0: mbox */
    const char *client;			/* "unknown[1.2.3.4]" */
    const char *tls;			/* TLS summary, "" without TLS */
    const char *tag;			/* IMAP: the login command's tag */
    const char *mech;			/* PLAIN, LOGIN, USER, APOP */
    int     timeout;
    VSTRING *in;			/* unread input */
    VSTRING *out;			/* unsent output */
    int     eof;			/* the client is gone */
    int     timed_out;
} LOGIN_SESSION;

/* login_session_log_init - where the session's log lines go */
void	login_session_log_init(void);

/* login_session_init - from the environment; fatal when it is not a session */
LOGIN_SESSION *login_session_init(int timeout);

/* Line results */
#define LOGIN_LINE_OK		1	/* LINE holds it, without CRLF */
#define LOGIN_LINE_EOF		0	/* EOF, error or timeout */
#define LOGIN_LINE_TOO_LONG	(-1)	/* longer than LIMIT: skipped */

int	login_session_get_line(LOGIN_SESSION *sess, VSTRING *line, size_t limit);
/* login_session_fill - flush, then read more into sess->in; 0, or -1 at
 * EOF, error or timeout (for parsers that work on sess->in directly) */
int	login_session_fill(LOGIN_SESSION *sess);
/* login_session_read - up to LEN bytes (for literals); 0 at EOF/timeout */
ssize_t login_session_read(LOGIN_SESSION *sess, char *buf, size_t len);

void	login_session_write(LOGIN_SESSION *sess, const char *data, size_t len);
void	login_session_printf(LOGIN_SESSION *sess, const char *fmt,...) PRINTFLIKE(2, 3);
/* login_session_flush - send everything; 0, or -1 (the client is gone) */
int	login_session_flush(LOGIN_SESSION *sess);
/* login_session_pending - complete input already buffered (pipelining) */
int	login_session_pending(LOGIN_SESSION *sess);

/*
 * login_session_wait - flush, then wait up to TIMEOUT_MS for input from
 * the client or for OTHER_FD (-1: none) to become readable (IMAP IDLE).
 */
#define LOGIN_WAIT_TIMEOUT	0
#define LOGIN_WAIT_INPUT	1
#define LOGIN_WAIT_OTHER	2
int	login_session_wait(LOGIN_SESSION *sess, int other_fd, int timeout_ms);

#endif
