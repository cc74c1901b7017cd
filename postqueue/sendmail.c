/*
 * sendmail.c - the Sendmail-compatible mail submission command.
 *
 *   sendmail [-t] [-i|-oi] [-f sender] [-r sender] [-F name] [-C dir] [-v]
 *	      [-N dsn] [-R ret] [-V envid] [-bm|-bp|-bi|-bs|-bd|-bv]
 *	      [-oAalias_database] [--] [recipient ...]
 *   sendmail -q | -qRsite | -qIqueue_id	(postqueue -f | -s site | -i id)
 *   mailq	(same as sendmail -bp)
 *   newaliases	(same as sendmail -bi or -I)
 *
 * Reads a message from standard input (until EOF, or a line with only "."
 * unless -i/-oi), converts it to SMTP wire form in an unlinked temporary
 * file (CRLF line ends, dot-stuffing, a leading mbox "From " line dropped),
 * then submits it over ESMTP to smtpd on the UNIX socket
 * $queue_directory/public/submit, where smtpd identifies the local user by
 * SO_PEERCRED (lib/global/submit_clnt.c).  When the mail system cannot
 * take it now (not running, a 4xx reply), the message goes into
 * maildrop/ instead (lib/global/maildrop.c), where pickup finds it once
 * the system runs: sendmail does not lose mail.  With -t, recipients also come from the To:, Cc: and Bcc:
 * headers (Resent-To/Cc/Bcc: instead when present, as Sendmail and Postfix
 * do) and Bcc: headers are removed; recipients on the command line are
 * added, as Postfix 2.1 and later does.  -bp (or the name mailq) runs
 * "postqueue -p"; -q, -qRsite and -qIid run "postqueue -f", "-s site"
 * and "-i id" (-qINTERVAL is ignored).  -bi, -I (or the name newaliases)
 * rebuild every table in alias_database (or the -oA one) by running
 * "postalias -c DIR type:name" for each, as Postfix does; the exit status is 1 when any of them fails.
 * A message without From: gets "From: Full Name <sender>" when a full name
 * is known (-F, else the passwd entry's GECOS field).  -N, -R and -V are
 * the RFC 3461 NOTIFY, RET and ENVID.  -bv reads no message: the
 * recipients are resolved, not delivered, and a "Mail Delivery Status
 * Report" goes to the sender (MAIL FROM ... XVERIFY; qmgr writes it).
 * -bs speaks SMTP on standard input
 * and output (to smtpd on public/submit), -bd starts the mail system,
 * -qINTERVAL is accepted and does nothing; an unknown option or -b mode
 * gets Postfix's "usage: sendmail [options]" / "unsupported: -bX" and
 * status 75.
 *
 * Exit status (sysexits.h): 0 queued; EX_USAGE bad usage; EX_TEMPFAIL no
 * recipients (Postfix's status and words);
 * EX_NOUSER a recipient rejected with 5xx; EX_DATAERR sender or content
 * rejected with 5xx; EX_TEMPFAIL neither smtpd nor maildrop/ took it;
 * EX_PROTOCOL a malformed reply; EX_IOERR local I/O errors.
 *
 * Parameters: queue_directory, command_directory, maillog_file,
 * alias_database.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <sysexits.h>
#include <sys/wait.h>
#include <libgen.h>
#include <poll.h>
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "address.h"
#include "addr_list.h"
#include "user.h"
#include "xtext.h"
#include "maildrop.h"
#include "submit_clnt.h"

#define SM_LINE_LIMIT	(64 * 1024)	/* input read in pieces this big */
#define SM_HEADER_LIMIT	(1024 * 1024)	/* -t: parse at most this much header */

/* Command-line state */
typedef struct SM_ARGS {
    int     extract;			/* -t */
    int     dot_ends;			/* no -i: "." ends the input */
    char   *sender;			/* -f/-r, or NULL */
    char   *config_dir;			/* -C */
    int     list_queue;			/* -bp or mailq */
    const char *flush_opt;		/* -q: postqueue -f, -qR: -s, -qI: -i */
    const char *flush_arg;		/* site or queue id */
    int     newaliases;			/* -bi, -I or newaliases */
    char   *alias_db;			/* -oA: instead of alias_database */
    char  **rcpts;			/* command-line recipients */
    int     rcpt_count;
    char   *full_name;			/* -F */
    char   *notify;			/* -N: RCPT NOTIFY= */
    char   *envid;			/* -V: MAIL ENVID= */
    char   *ret;			/* -R: MAIL RET= */
    int     smtp_stdio;			/* -bs */
    int     start_system;		/* -bd */
    int     queue_interval;		/* -qINTERVAL */
    int     verify;			/* -bv: a report, no delivery */
} SM_ARGS;

 /*
  * Reading the message.  State carried from line to line while the input
  * is converted to wire form in the spool file.
  */
typedef struct SM_INPUT {
    VSTREAM *spool;			/* unlinked temp file, wire form */
    int     extract;			/* -t */
    int     dot_ends;			/* "." line ends input */
    int     first_line;			/* for the "From " line */
    int     in_header;			/* still in the header section */
    int     dropping;			/* current header is a Bcc: */
    size_t  header_bytes;		/* parsed so far */
    VSTRING *header;			/* current logical header (unfolded) */
    ADDR_LIST plain;			/* To/Cc/Bcc addresses */
    ADDR_LIST resent;			/* Resent-To/Cc/Bcc addresses */
    int     saw_resent;
    int     saw_from;			/* the message has a From: */
    char   *from_header;		/* else this one (a full name is known) */
} SM_INPUT;

/* header_name_len - length of "Name" in "Name: value", 0 if not a header */

static size_t header_name_len(const char *line)
{
    size_t  len = 0;

    while (line[len] > 32 && line[len] < 127 && line[len] != ':')
	len++;
    return (line[len] == ':' && len > 0 ? len : 0);
}

static int header_is(const char *hdr, size_t len, const char *name)
{
    return (strlen(name) == len && strncasecmp(hdr, name, len) == 0);
}

/* header_done - the current logical header is complete: extract addresses */

static void header_done(SM_INPUT *in)
{
    const char *hdr = STR(in->header);
    size_t  len = header_name_len(hdr);

    if (LEN(in->header) == 0 || len == 0)
	return;
    if (header_is(hdr, len, "To") || header_is(hdr, len, "Cc")
	|| header_is(hdr, len, "Bcc"))
	addr_parse_list(hdr + len + 1, &in->plain);
    else if (header_is(hdr, len, "Resent-To") || header_is(hdr, len, "Resent-Cc")
	     || header_is(hdr, len, "Resent-Bcc")) {
	addr_parse_list(hdr + len + 1, &in->resent);
	in->saw_resent = 1;
    }
    vstring_reset(in->header);
}

/* header_line - one complete header-section line; 0 = it was a body line */

static int header_line(SM_INPUT *in, const char *line)
{
    size_t  len;

    if (*line == ' ' || *line == '\t') {
	if (LEN(in->header) == 0)
	    return (0);				/* body starts with white space */
	if (in->header_bytes < SM_HEADER_LIMIT)
	    vstring_strcat(in->header, line);
	in->header_bytes += strlen(line);
	return (1);
    }
    header_done(in);
    if ((len = header_name_len(line)) == 0)
	return (0);
    in->dropping = header_is(line, len, "Bcc") || header_is(line, len, "Resent-Bcc");
    in->saw_from |= header_is(line, len, "From");
    if (in->header_bytes < SM_HEADER_LIMIT)
	vstring_strcpy(in->header, line);
    in->header_bytes += strlen(line);
    return (1);
}

/* spool_write - one piece of a line in wire form; START: at a line start */

static void spool_write(SM_INPUT *in, const char *data, size_t len, int start)
{
    if (start && len > 0 && *data == '.')
	vstream_putc('.', in->spool);
    vstream_write(in->spool, data, len);
}

/* header_end - the header section is over: a From: with the full name */

static void header_end(SM_INPUT *in)
{
    header_done(in);
    in->in_header = 0;
    in->dropping = 0;
    if (!in->saw_from && in->from_header) {
	vstream_fputs(in->from_header, in->spool);
	vstream_write(in->spool, "\r\n", 2);
    }
}

/* input_line - a complete input line (without its line end); 0 = end of input */

static int input_line(SM_INPUT *in, VSTRING *line)
{
    int     first = in->first_line;

    in->first_line = 0;
    if (in->dot_ends && strcmp(STR(line), ".") == 0)
	return (0);
    if (first && strncmp(STR(line), "From ", 5) == 0)
	return (1);
    if (in->in_header) {
	if (LEN(line) == 0 || !header_line(in, STR(line))) {
	    header_end(in);
	} else if (in->extract && in->dropping) {
	    return (1);				/* remove Bcc: with -t */
	}
    }
    spool_write(in, STR(line), LEN(line), 1);
    vstream_write(in->spool, "\r\n", 2);
    return (1);
}

/* read_message - copy standard input to IN->spool in wire form */

static void read_message(SM_INPUT *in)
{
    VSTREAM *fp = vstream_stdin();
    VSTRING *line = vstring_alloc(1024);
    int     at_start = 1;
    int     ch;

    while ((ch = vstream_get_line(fp, line, SM_LINE_LIMIT)) != VSTREAM_EOF) {
	if (ch != '\n') {			/* a piece of a long line */
	    if (at_start && in->in_header)
		header_end(in);
	    in->first_line = 0;
	    spool_write(in, STR(line), LEN(line), at_start);
	    at_start = 0;
	    continue;
	}
	vstring_truncate(line, LEN(line) - 1);
	if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == '\r')
	    vstring_truncate(line, LEN(line) - 1);
	if (!at_start) {
	    spool_write(in, STR(line), LEN(line), 0);
	    vstream_write(in->spool, "\r\n", 2);
	} else if (input_line(in, line) == 0) {
	    break;
	}
	at_start = 1;
    }
    if (vstream_error(fp))
	msg_fatal_status(EX_IOERR, "read message from standard input: %m");
    if (!at_start)
	vstream_write(in->spool, "\r\n", 2);
    if (in->in_header)
	header_end(in);
    if (vstream_flush(in->spool) != 0)
	msg_fatal_status(EX_IOERR, "write temporary file: %m");
    vstring_free(line);
}

/* write_verify_message - -bv: the headers the report shows, no body */

static void write_verify_message(SM_INPUT *in)
{
    vstream_fputs("Subject: address verification\r\n", in->spool);
    header_end(in);
    if (vstream_flush(in->spool) != 0)
	msg_fatal_status(EX_IOERR, "write temporary file: %m");
}

/* spool_open - an unlinked temporary file */

static VSTREAM *spool_open(void)
{
    const char *dir = getenv("TMPDIR");
    VSTRING *path = vstring_alloc(100);
    int     fd;

    vstring_sprintf(path, "%s/sendmail.XXXXXX", dir && *dir ? dir : "/tmp");
    if ((fd = mkstemp(STR(path))) < 0)
	msg_fatal_status(EX_IOERR, "create temporary file %s: %m", STR(path));
    (void) unlink(STR(path));
    vstring_free(path);
    return (vstream_fdopen(fd, O_RDWR));
}

/* exit_status - the exit status for a failed submission (submit_clnt.h) */

static int exit_status(int status)
{
    switch (status) {
    case SUBMIT_TEMP:
	return (EX_TEMPFAIL);
    case SUBMIT_RCPT:
	return (EX_NOUSER);
    case SUBMIT_SENDER:
    case SUBMIT_DATA:
	return (EX_DATAERR);
    case SUBMIT_IO:
	return (EX_IOERR);
    default:
	return (EX_PROTOCOL);
    }
}

/* spool_to_maildrop - the wire-form SPOOL as LF content, dots undone */

static int spool_to_maildrop(VSTREAM *spool, MAILDROP *md)
{
    VSTRING *line = vstring_alloc(1024);
    int     at_start = 1;
    int     ch;

    if (vstream_seek(spool, 0) < 0)
	return (-1);
    while ((ch = vstream_get_line(spool, line, SM_LINE_LIMIT)) != VSTREAM_EOF) {
	const char *cp = STR(line);
	size_t  len = LEN(line);

	if (at_start && len > 0 && *cp == '.') {	/* stuffed in wire form */
	    cp++;
	    len--;
	}
	if (ch == '\n') {
	    len -= (len >= 2 && cp[len - 2] == '\r') ? 2 : 1;
	    maildrop_content(md, cp, len);
	    maildrop_content(md, "\n", 1);
	} else {
	    maildrop_content(md, cp, len);
	}
	at_start = (ch == '\n');
    }
    vstring_free(line);
    return (vstream_error(spool) ? -1 : 0);
}

/*
 * drop_message - the mail system cannot take the message now: leave it
 * in maildrop/ for pickup, and wake pickup up (it also looks by itself).
 * 0, or -1 with the reason in WHY.
 */

static int drop_message(const SUBMIT_REQ *req, const SM_ARGS *args, VSTRING *why)
{
    VSTRING *id = vstring_alloc(20);
    MAILDROP *md;
    int     ret = -1;

    mail_queue_chdir();
    if ((md = maildrop_create(id)) == 0) {
	vstring_sprintf(why, "create file in %s: %m", MAIL_QUEUE_MAILDROP);
    } else {
	maildrop_sender(md, req->sender, args->sender != 0);
	if (args->envid)
	    maildrop_attr(md, "dsn_envid", args->envid);
	if (args->ret)
	    maildrop_attr(md, "dsn_ret", args->ret);
	if (args->verify)
	    maildrop_attr(md, "verify", "1");
	for (int i = 0; i < req->rcpt_count; i++)
	    maildrop_rcpt(md, req->rcpts[i], args->notify);
	if (spool_to_maildrop(req->spool, md) < 0) {
	    vstring_sprintf(why, "read temporary file: %m");
	    maildrop_abort(md);
	} else if (maildrop_commit(md) < 0) {
	    vstring_sprintf(why, "write file in %s: %m", MAIL_QUEUE_MAILDROP);
	} else {
	    if (msg_verbose)
		msg_info("queued in %s as %s", MAIL_QUEUE_MAILDROP, STR(id));
	    (void) mail_trigger_quiet(MAIL_CLASS_PUBLIC, MAIL_SERVICE_PICKUP, PICKUP_REQ_SCAN);
	    ret = 0;
	}
    }
    vstring_free(id);
    return (ret);
}

/*
 * submit - to smtpd on public/submit; when the mail system cannot take
 * it now, into maildrop/ (sendmail never loses mail).  Returns only when
 * the message was queued one way or the other.
 */

static void submit(const SM_ARGS *args, const char *sender, ADDR_LIST *rcpts,
		           VSTREAM *spool)
{
    SUBMIT_REQ req;
    VSTRING *why = vstring_alloc(100);
    VSTRING *mail_args = vstring_alloc(100);
    VSTRING *rcpt_param = vstring_alloc(100);
    const char **rcpt_params;
    VSTRING *drop_why;
    int     status;

    memset(&req, 0, sizeof(req));
    req.sender = sender;
    req.rcpts = (const char **) rcpts->addrs;
    req.rcpt_count = rcpts->count;
    req.uid = -1;
    req.spool = spool;
    if (args->ret)
	vstring_sprintf_append(mail_args, " RET=%s", args->ret);
    if (args->verify)
	vstring_strcat(mail_args, " XVERIFY");
    if (args->envid) {
	vstring_strcat(mail_args, " ENVID=");
	xtext_quote(why, args->envid);
	vstring_strcat(mail_args, STR(why));
    }
    req.mail_params = STR(mail_args);
    rcpt_params = (const char **) mycalloc(rcpts->count + 1, sizeof(char *));
    if (args->notify) {
	vstring_sprintf(rcpt_param, " NOTIFY=%s", args->notify);
	for (int i = 0; i < rcpts->count; i++)
	    rcpt_params[i] = STR(rcpt_param);
    }
    req.rcpt_params = rcpt_params;
    status = submit_message(&req, why);
    myfree(rcpt_params);
    vstring_free(rcpt_param);
    vstring_free(mail_args);
    if (status == SUBMIT_OK) {
	vstring_free(why);
	return;
    }
    if (status != SUBMIT_TEMP)
	msg_fatal_status(exit_status(status), "%s", STR(why));
    if (msg_verbose)
	msg_info("%s; queueing in %s", STR(why), MAIL_QUEUE_MAILDROP);
    drop_why = vstring_alloc(100);
    if (drop_message(&req, args, drop_why) < 0)
	msg_fatal_status(EX_TEMPFAIL, "%s; and cannot queue the message: %s",
			 STR(why), STR(drop_why));
    vstring_free(drop_why);
    vstring_free(why);
}

/* default_sender - the login name of the real user */

static char *default_sender(void)
{
    struct passwd *pw;
    USER_INFO info;
    char   *name;

    if ((pw = getpwuid(getuid())) != 0)
	return (mystrdup(pw->pw_name));
    if (user_by_uid(getuid(), &info) > 0) {
	name = mystrdup(info.name);
	user_info_free(&info);
	return (name);
    }
    msg_fatal_status(EX_USAGE, "no login name found for user ID %lu",
		     (unsigned long) getuid());
}

/* gecos_name - the passwd full name: its first field, "&" the login capitalized */

static char *gecos_name(void)
{
    struct passwd *pw = getpwuid(getuid());
    VSTRING *name = vstring_alloc(40);
    const char *cp;

    for (cp = pw && pw->pw_gecos ? pw->pw_gecos : ""; *cp && *cp != ','; cp++) {
	if (*cp == '&' && pw->pw_name[0]) {
	    vstring_addch(name, toupper((unsigned char) pw->pw_name[0]));
	    vstring_strcat(name, pw->pw_name + 1);
	} else {
	    vstring_addch(name, *cp);
	}
    }
    if (LEN(name) == 0) {
	vstring_free(name);
	return (0);
    }
    return (vstring_export(name));
}

/*
 * from_header - "From: Full Name <sender>" for a message without From:,
 * when a full name is known (-F, else the passwd entry's); NULL if not.
 * The name is quoted when it is not a plain phrase (RFC 5322).
 */

static char *from_header(const char *full_name, const char *sender)
{
    char   *gecos = full_name ? 0 : gecos_name();
    const char *name = full_name ? full_name : gecos;
    VSTRING *hdr;
    int     plain;

    if (name == 0 || *name == 0 || *sender == 0) {
	if (gecos)
	    myfree(gecos);
	return (0);
    }
    hdr = vstring_alloc(100);
    plain = strpbrk(name, "()<>@,;:\\\".[]") == 0;
    vstring_strcpy(hdr, plain ? "From: " : "From: \"");
    for (const char *cp = name; *cp; cp++) {
	if ((unsigned char) *cp < ' ' || *cp == 127)
	    continue;				/* no control characters */
	if (!plain && (*cp == '"' || *cp == '\\'))
	    vstring_addch(hdr, '\\');
	vstring_addch(hdr, *cp);
    }
    vstring_sprintf_append(hdr, "%s <%s", plain ? "" : "\"", sender);
    if (strchr(sender, '@') == 0)
	vstring_sprintf_append(hdr, "@%s", conf_str("myorigin"));
    vstring_strcat(hdr, ">");
    if (gecos)
	myfree(gecos);
    return (vstring_export(hdr));
}

/* relay - copy what FROM has to TO; 0 at EOF or on error */

static int relay(int from, int to)
{
    char    buf[8192];
    ssize_t n = read(from, buf, sizeof(buf));

    return (n > 0 && write_full(to, buf, n) == n);
}

/*
 * smtp_stdio - -bs: SMTP on standard input and output, to smtpd on
 * public/submit (the user is known there as for any submission)
 */

static NORETURN smtp_stdio(void)
{
    VSTRING *path = vstring_alloc(100);
    struct pollfd fds[2];
    int     fd;

    vstring_sprintf(path, "%s/%s/%s", conf_str("queue_directory"),
		    MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
    fd = unix_connect(STR(path), 30);
    vstring_free(path);
    if (fd < 0)
	msg_fatal_status(EX_TEMPFAIL, "connect to %s/%s: %m",
			 MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
    fds[0].fd = 0;
    fds[1].fd = fd;
    fds[0].events = fds[1].events = POLLIN;
    for (;;) {
	if (poll(fds, 2, -1) < 0) {
	    if (errno == EINTR)
		continue;
	    msg_fatal_status(EX_OSERR, "poll: %m");
	}
	if ((fds[1].revents & (POLLIN | POLLHUP)) && !relay(fd, 1))
	    break;				/* smtpd said goodbye */
	if ((fds[0].revents & (POLLIN | POLLHUP)) && !relay(0, fd)) {
	    (void) shutdown(fd, SHUT_WR);	/* the client is done */
	    fds[0].fd = -1;
	}
    }
    exit(0);
}

static void command_path(VSTRING *path, const char *name);

/* start_system - -bd: "posthorn start" */

static NORETURN start_system(void)
{
    VSTRING *path = vstring_alloc(100);

    command_path(path, "posthorn");
    execl(STR(path), "posthorn", "-c", mail_conf_dir(), "start", (char *) 0);
    msg_fatal_status(EX_OSERR, "execute %s: %m", STR(path));
}

/* parse_sender - -f/-r argument to one address (external form) */

static char *parse_sender(const char *arg)
{
    ADDR_LIST list = {0, 0, 0};
    char   *sender;

    addr_parse_list(arg, &list);
    if (list.count > 1)
	msg_warn("-f option specified malformed sender: %s", arg);
    sender = mystrdup(list.count > 0 ? list.addrs[0] : "");
    for (int i = 0; i < list.count; i++)
	myfree(list.addrs[i]);
    if (list.addrs)
	myfree(list.addrs);
    return (sender);
}

/* run_postqueue - exec "postqueue OPTION [ARG]": -p for mailq / -bp, -f/-s/-i for -q */

static NORETURN run_postqueue(const char *option, const char *arg)
{
    char    self[4096];
    ssize_t n;
    VSTRING *path = vstring_alloc(100);

    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
	self[n] = 0;
	vstring_sprintf(path, "%s/postqueue", dirname(self));
    }
    if (LEN(path) == 0 || access(STR(path), X_OK) != 0)
	vstring_sprintf(path, "%s/postqueue", conf_str("command_directory"));
    execl(STR(path), "postqueue", "-c", mail_conf_dir(), option, arg, (char *) 0);
    msg_fatal_status(EX_OSERR, "execute %s: %m", STR(path));
}

/* command_path - a Posthorn command: next to this binary, else in command_directory */

static void command_path(VSTRING *path, const char *name)
{
    char    self[4096];
    ssize_t n;

    vstring_reset(path);
    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
	self[n] = 0;
	vstring_sprintf(path, "%s/%s", dirname(self), name);
    }
    if (LEN(path) == 0 || access(STR(path), X_OK) != 0)
	vstring_sprintf(path, "%s/%s", conf_str("command_directory"), name);
}

/* run_postalias - "postalias -c DIR [-v...] TABLE"; 0 when it succeeded */

static int run_postalias(const char *path, const char *table)
{
    char   *argv[4 + 10 + 1];
    int     argc = 0;
    int     status;
    pid_t   pid;

    argv[argc++] = "postalias";
    argv[argc++] = "-c";
    argv[argc++] = (char *) mail_conf_dir();
    for (int v = 0; v < msg_verbose && v < 10; v++)
	argv[argc++] = "-v";
    argv[argc++] = (char *) table;
    argv[argc] = 0;
    if ((pid = fork()) < 0)
	msg_fatal_status(EX_OSERR, "fork: %m");
    if (pid == 0) {
	execv(path, argv);
	msg_fatal_status(EX_OSERR, "execute %s: %m", path);
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    msg_fatal_status(EX_OSERR, "waitpid: %m");
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1);
}

/*
 * run_newaliases - newaliases / sendmail -bi: postalias for each table in
 * alias_database (comma/space separated); the exit status
 */

static int run_newaliases(const SM_ARGS *args)
{
    VSTRING *path = vstring_alloc(100);
    char   *list;
    char   *cp;
    char   *table;
    int     failed = 0;

    if (args->rcpt_count > 0)
	msg_fatal_status(EX_USAGE, "alias initialization mode requires no recipient");
    list = mystrdup(args->alias_db ? args->alias_db : conf_str("alias_database"));
    command_path(path, "postalias");
    for (cp = list; (table = strsep(&cp, ", \t\r\n")) != 0; /* void */ ) {
	if (*table == 0)
	    continue;
	if (run_postalias(STR(path), table) != 0) {
	    msg_warn("cannot rebuild alias table %s", table);
	    failed = 1;
	}
    }
    myfree(list);
    vstring_free(path);
    return (failed);
}

/* usage - Postfix's words and status (EX_TEMPFAIL, as Postfix) */

static NORETURN usage(const char *progname)
{
    msg_fatal_status(EX_TEMPFAIL, "usage: %s [options]", progname);
}

/* mode_arg - -bX: what sendmail is to do */

static void mode_arg(const char *mode, SM_ARGS *args)
{
    if (strcmp(mode, "p") == 0)
	args->list_queue = 1;
    else if (strcmp(mode, "i") == 0)
	args->newaliases = 1;
    else if (strcmp(mode, "s") == 0)
	args->smtp_stdio = 1;
    else if (strcmp(mode, "d") == 0)
	args->start_system = 1;
    else if (strcmp(mode, "v") == 0)
	args->verify = 1;
    else if (strcmp(mode, "m") != 0)
	msg_fatal_status(EX_TEMPFAIL, "unsupported: -b%s", mode);
}

/* notify_arg - -N never | success,delay,failure as NOTIFY= (RFC 3461) */

static char *notify_arg(const char *arg)
{
    static const char *names[] = {"NEVER", "SUCCESS", "DELAY", "FAILURE", 0};
    VSTRING *out = vstring_alloc(40);
    char   *copy = mystrdup(arg);
    char   *cp = copy;
    char   *word;
    int     i;
    int     never = 0;

    while ((word = strsep(&cp, ", \t")) != 0) {
	if (*word == 0)
	    continue;
	for (i = 0; names[i] && strcasecmp(word, names[i]) != 0; i++)
	     /* void */ ;
	if (names[i] == 0)
	    msg_fatal_status(EX_USAGE, "bad -N option value: %s", arg);
	never |= (i == 0);
	if (LEN(out))
	    vstring_addch(out, ',');
	vstring_strcat(out, names[i]);
    }
    myfree(copy);
    if (LEN(out) == 0 || (never && strchr(STR(out), ',')))
	msg_fatal_status(EX_USAGE, "bad -N option value: %s", arg);
    return (vstring_export(out));
}

/* ret_arg - -R full | hdrs as RET= */

static char *ret_arg(const char *arg)
{
    if (strcasecmp(arg, "full") == 0)
	return ("FULL");
    if (strcasecmp(arg, "hdrs") == 0)
	return ("HDRS");
    msg_fatal_status(EX_USAGE, "bad -R option value: %s", arg);
}

/* config_dir_arg - -C takes main.cf or its directory */

static char *config_dir_arg(const char *arg)
{
    struct stat st;
    char   *copy;
    char   *dir;

    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
	copy = mystrdup(arg);
	dir = mystrdup(dirname(copy));
	myfree(copy);
	return (dir);
    }
    return (mystrdup(arg));
}

/* parse_args - the Sendmail command line (unknown compatibility options ignored) */

static void parse_args(int argc, char **argv, SM_ARGS *args)
{
    const char *progname = msg_progname();
    int     ch;

    args->dot_ends = 1;
    argv[0] = (char *) progname;		/* getopt's complaints, as Postfix */
    while ((ch = getopt(argc, argv, "+B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:q::r:tvx")) != -1) {
	switch (ch) {
	case 'C':
	    args->config_dir = config_dir_arg(optarg);
	    break;
	case 'f':
	case 'r':
	    args->sender = optarg;
	    break;
	case 'i':
	    args->dot_ends = 0;
	    break;
	case 'o':
	    if (optarg[0] == 'i')
		args->dot_ends = 0;
	    else if (optarg[0] == 'A' && optarg[1] != 0)
		args->alias_db = optarg + 1;
	    break;
	case 't':
	    args->extract = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'b':
	    mode_arg(optarg, args);
	    break;
	case 'F':
	    args->full_name = optarg;
	    break;
	case 'N':
	    args->notify = notify_arg(optarg);
	    break;
	case 'V':
	    args->envid = optarg;
	    break;
	case 'R':
	    args->ret = ret_arg(optarg);
	    break;
	case 'I':
	    args->newaliases = 1;
	    break;
	case 'q':				/* -q, -qRsite, -qIid, -qINTERVAL */
	    if (optarg == 0) {
		args->flush_opt = "-f";
	    } else if (optarg[0] == 'R' && optarg[1]) {
		args->flush_opt = "-s";
		args->flush_arg = optarg + 1;
	    } else if (optarg[0] == 'I' && optarg[1]) {
		args->flush_opt = "-i";
		args->flush_arg = optarg + 1;
	    } else if (isdigit((unsigned char) optarg[0])) {
		args->queue_interval = 1;	/* a daemon's: nothing to do */
	    } else {
		msg_fatal_status(EX_USAGE, "-q%s: unsupported option", optarg);
	    }
	    break;
	case 'X':
	    msg_warn("-%c option is not supported -- ignored", ch);
	    break;
	case '?':
	    usage(progname);
	default:				/* -B -G -L -O -U -c -e -h -m -n -p -x */
	    break;
	}
    }
    args->rcpts = argv + optind;
    args->rcpt_count = argc - optind;
}

/* free_list - release an address list */

static void free_list(ADDR_LIST *list)
{
    for (int i = 0; i < list->count; i++)
	myfree(list->addrs[i]);
    if (list->addrs)
	myfree(list->addrs);
}

int     main(int argc, char **argv)
{
    SM_ARGS args;
    SM_INPUT in;
    ADDR_LIST rcpts = {0, 0, 0};
    ADDR_LIST *hdr_rcpts;
    char   *sender;
    char   *login;

    msg_init(argv[0], MSG_TO_STDERR | MSG_TO_SYSLOG);
    signal(SIGPIPE, SIG_IGN);
    memset(&args, 0, sizeof(args));
    if (strcmp(msg_progname(), "mailq") == 0)
	args.list_queue = 1;
    else if (strcmp(msg_progname(), "newaliases") == 0)
	args.newaliases = 1;
    parse_args(argc, argv, &args);
    if (args.config_dir)
	mail_conf_set_dir(args.config_dir);
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    if (*conf_str("maillog_file"))
	msg_logfile(conf_str("maillog_file"));
    if (args.list_queue)
	run_postqueue("-p", (char *) 0);
    if (args.flush_opt)
	run_postqueue(args.flush_opt, args.flush_arg);
    if (args.newaliases)
	exit(run_newaliases(&args));
    if (args.smtp_stdio)
	smtp_stdio();
    if (args.start_system)
	start_system();
    if (args.queue_interval)			/* as Postfix: accepted, nothing done */
	exit(0);

    login = default_sender();
    sender = args.sender ? parse_sender(args.sender) : mystrdup(login);
    for (int i = 0; i < args.rcpt_count; i++)
	addr_parse_list(args.rcpts[i], &rcpts);

    memset(&in, 0, sizeof(in));
    in.spool = spool_open();
    in.extract = args.extract;
    in.dot_ends = args.dot_ends;
    in.first_line = in.in_header = 1;
    in.header = vstring_alloc(1000);
    in.from_header = from_header(args.full_name, sender);
    if (args.verify)				/* as Postfix: no message read */
	write_verify_message(&in);
    else
	read_message(&in);

    if (args.extract) {
	hdr_rcpts = in.saw_resent ? &in.resent : &in.plain;
	for (int i = 0; i < hdr_rcpts->count; i++)
	    addr_list_add(&rcpts, hdr_rcpts->addrs[i]);
	if (rcpts.count == 0)
	    msg_fatal_status(EX_TEMPFAIL, "%s(%ld): No recipient addresses found in"
			     " message header", login, (long) getuid());
    }
    if (rcpts.count == 0)				/* Postfix's words and status */
	msg_fatal_status(EX_TEMPFAIL, "%s(%ld): Recipient addresses must be specified"
		     " on the command line or via the -t option", login, (long) getuid());
    submit(&args, sender, &rcpts, in.spool);

    vstream_close(in.spool);
    vstring_free(in.header);
    if (in.from_header)
	myfree(in.from_header);
    free_list(&in.plain);
    free_list(&in.resent);
    free_list(&rcpts);
    myfree(sender);
    myfree(login);
    if (args.notify)
	myfree(args.notify);
    if (args.config_dir)
	myfree(args.config_dir);
    return (0);
}
