/*
 * msg.h - diagnostics: one failure model for every program.
 *
 * msg_info/msg_warn/msg_error log and return; msg_fatal logs and exits(1);
 * msg_panic logs and aborts.  Output goes to syslog (facility mail), to the
 * file named by maillog_file, and/or to stderr, as chosen by msg_init() and
 * msg_logfile().  Lines have Postfix's shape: "posthorn/smtpd[PID]: text",
 * with "warning: ", "error: ", "fatal: " or "panic: " before the text.
 */
#ifndef MSG_H
#define MSG_H

#include "sys_defs.h"

#define MSG_TO_STDERR	(1<<0)		/* copy to stderr */
#define MSG_TO_SYSLOG	(1<<1)		/* send to syslog facility mail */

extern int msg_verbose;

/* msg_init - name the program ("smtpd"), choose outputs; may be called again */
void	msg_init(const char *progname, int flags);

/* msg_hostname - the host in maillog_file lines: NAME's first label, as
 * Postfix writes $myhostname there (default: gethostname()) */
void	msg_hostname(const char *name);

/* msg_syslog_name - set the "posthorn" part of "posthorn/smtpd" */
void	msg_syslog_name(const char *name);
/* msg_syslog_facility - "mail", "local0".."local7", ...; -1 if unknown */
int	msg_syslog_facility(const char *name);

/* msg_logfile - append to PATH instead of syslog; NULL or "" stops it */
void	msg_logfile(const char *path);

/*
 * msg_logsocket - send the lines meant for maillog_file to the UNIX stream
 * socket PATH instead (postlogd, for programs that cannot open the file:
 * mailbox sessions run as users); nothing changes if it cannot connect.
 * msg_log_raw - postlogd's side: write one complete line as it is.
 */
void	msg_logsocket(const char *path);
void	msg_log_raw(const char *line, size_t len);

/* msg_stderr - turn the stderr copy on or off */
void	msg_stderr(int on);

/* msg_progname - the program name given to msg_init */
const char *msg_progname(void);

void	msg_info(const char *fmt,...) PRINTFLIKE(1, 2);
/* msg_info_as - one line as program PROG ("pickup" for what Postfix's
 * pickup logs), the rest as before */
void	msg_info_as(const char *prog, const char *fmt,...) PRINTFLIKE(2, 3);
void	msg_warn(const char *fmt,...) PRINTFLIKE(1, 2);
void	msg_error(const char *fmt,...) PRINTFLIKE(1, 2);
NORETURN msg_fatal(const char *fmt,...) PRINTFLIKE(1, 2);
NORETURN msg_panic(const char *fmt,...) PRINTFLIKE(1, 2);

/* msg_fatal_status - like msg_fatal but with a specific exit status */
NORETURN msg_fatal_status(int status, const char *fmt,...) PRINTFLIKE(2, 3);

/* msg_cleanup - function called by msg_fatal before exit (e.g. remove temp files) */
void	msg_cleanup(void (*fn)(void));

#endif
