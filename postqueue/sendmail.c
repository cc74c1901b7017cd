/*
 * sendmail.c - the Sendmail-compatible mail submission command.
 *
 *   sendmail [-t] [-i|-oi] [-f sender] [-r sender] [-F name] [-C dir] [-v]
 *	      [-bm|-bp|-bi] [-oAalias_database] [--] [recipient ...]
 *   sendmail -q | -qRsite | -qIqueue_id	(postqueue -f | -s site | -i id)
 *   mailq	(same as sendmail -bp)
 *   newaliases	(same as sendmail -bi or -I)
 *
 * Reads a message from standard input (until EOF, or a line with only "."
 * unless -i/-oi), converts it to SMTP wire form in an unlinked temporary
 * file (CRLF line ends, dot-stuffing, a leading mbox "From " line dropped),
 * then submits it over ESMTP to smtpd on the UNIX socket
 * $queue_directory/public/submit, where smtpd identifies the local user by
 * SO_PEERCRED.  With -t, recipients also come from the To:, Cc: and Bcc:
 * headers (Resent-To/Cc/Bcc: instead when present, as Sendmail and Postfix
 * do) and Bcc: headers are removed; recipients on the command line are
 * added, as Postfix 2.1 and later does.  -bp (or the name mailq) runs
 * "postqueue -p"; -q, -qRsite and -qIid run "postqueue -f", "-s site"
 * and "-i id" (-qINTERVAL is ignored).  -bi, -I (or the name newaliases)
 * rebuild every table in alias_database (or the -oA one) by running
 * "postalias -c DIR type:name" for each, as Postfix does; the exit status is 1 when any of them fails.
 *
 * Exit status (sysexits.h): 0 queued; EX_USAGE bad usage or no recipients;
 * EX_NOUSER a recipient rejected with 5xx; EX_DATAERR sender or content
 * rejected with 5xx; EX_TEMPFAIL a 4xx reply or smtpd unreachable;
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

#define SM_LINE_LIMIT	(64 * 1024)	/* input read in pieces this big */
#define SM_HEADER_LIMIT	(1024 * 1024)	/* -t: parse at most this much header */
#define SM_REPLY_LIMIT	4096		/* one SMTP reply line */
#define SM_REPLY_LINES	100		/* lines in one SMTP reply */
#define SM_TIMEOUT	300		/* seconds per SMTP read/write */
#define SM_CONN_TIMEOUT	30		/* seconds to connect */

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
	    header_done(in);
	    in->in_header = 0;
	    in->dropping = 0;
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
	    if (at_start && in->in_header) {
		header_done(in);
		in->in_header = in->dropping = 0;
	    }
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
	header_done(in);
    if (vstream_flush(in->spool) != 0)
	msg_fatal_status(EX_IOERR, "write temporary file: %m");
    vstring_free(line);
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

 /*
  * The SMTP conversation with smtpd on public/submit.
  */
typedef struct SM_SMTP {
    VSTREAM *stream;
    VSTRING *reply;			/* last reply, lines joined by "\n" */
    int     code;			/* its status code */
    int     utf8;			/* server offers SMTPUTF8 */
} SM_SMTP;

static void smtp_quit_fatal(SM_SMTP *smtp, int status, const char *fmt,...) PRINTFLIKE(3, 4);

/* smtp_send - one command line */

static void smtp_send(SM_SMTP *smtp, const char *cmd)
{
    if (msg_verbose)
	msg_info("> %s", cmd);
    vstream_fprintf(smtp->stream, "%s\r\n", cmd);
    if (vstream_flush(smtp->stream) != 0)
	msg_fatal_status(EX_TEMPFAIL, "lost connection to public/submit while sending \"%s\": %m", cmd);
}

/* smtp_get_reply - read one (multi-line) reply; returns its code */

static int smtp_get_reply(SM_SMTP *smtp)
{
    VSTRING *line = vstring_alloc(100);
    int     ch;
    int     lines = 0;

    vstring_reset(smtp->reply);
    for (;;) {
	ch = vstream_get_line(smtp->stream, line, SM_REPLY_LIMIT);
	if (ch == VSTREAM_EOF)
	    msg_fatal_status(EX_TEMPFAIL, "%s from public/submit",
			     vstream_timedout(smtp->stream) ? "timeout reading reply"
			     : "lost connection reading reply");
	while (LEN(line) > 0 && (STR(line)[LEN(line) - 1] == '\n'
				 || STR(line)[LEN(line) - 1] == '\r'))
	    vstring_truncate(line, LEN(line) - 1);
	if (msg_verbose)
	    msg_info("< %s", STR(line));
	if (LEN(line) < 3 || !isdigit((unsigned char) STR(line)[0])
	    || !isdigit((unsigned char) STR(line)[1])
	    || !isdigit((unsigned char) STR(line)[2])
	    || (LEN(line) > 3 && STR(line)[3] != ' ' && STR(line)[3] != '-')
	    || ++lines > SM_REPLY_LINES)
	    msg_fatal_status(EX_PROTOCOL, "malformed reply from public/submit: %.100s",
			     STR(line));
	if (LEN(smtp->reply) > 0)
	    vstring_addch(smtp->reply, '\n');
	vstring_strcat(smtp->reply, STR(line));
	if (LEN(line) == 3 || STR(line)[3] == ' ')
	    break;
    }
    smtp->code = atoi(STR(line));
    vstring_free(line);
    return (smtp->code);
}

/* smtp_quit_fatal - say QUIT (waiting briefly for the reply), then exit with STATUS */

static void smtp_quit_fatal(SM_SMTP *smtp, int status, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    vstream_fprintf(smtp->stream, "QUIT\r\n");
    if (vstream_flush(smtp->stream) == 0) {
	VSTRING *line = vstring_alloc(100);

	vstream_set_timeout(smtp->stream, 5);	/* be polite, not patient */
	(void) vstream_get_line(smtp->stream, line, SM_REPLY_LIMIT);
	vstring_free(line);
    }
    msg_fatal_status(status, "%s", STR(buf));
}

/* smtp_status - exit status for a failed reply: 4xx tempfail, else FIVE */

static int smtp_status(SM_SMTP *smtp, int five)
{
    return (smtp->code >= 400 && smtp->code < 500 ? EX_TEMPFAIL : five);
}

/* smtp_command - send CMD, expect a 2xx (or 3xx for DATA) reply */

static void smtp_command(SM_SMTP *smtp, const char *cmd, int want, int five,
			         const char *what)
{
    smtp_send(smtp, cmd);
    if (smtp_get_reply(smtp) / 100 != want)
	smtp_quit_fatal(smtp, smtp_status(smtp, five), "%s: %s",
			what, STR(smtp->reply));
}

/* smtp_open - connect, read the greeting, say EHLO */

static void smtp_open(SM_SMTP *smtp)
{
    VSTRING *path = vstring_alloc(100);
    int     fd;

    vstring_sprintf(path, "%s/%s/%s", conf_str("queue_directory"),
		    MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
    if (msg_verbose)
	msg_info("connecting to %s", STR(path));
    if ((fd = unix_connect(STR(path), SM_CONN_TIMEOUT)) < 0)
	msg_fatal_status(EX_TEMPFAIL, "connect to %s/%s: %m",
			 MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
    vstring_free(path);
    smtp->stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(smtp->stream, SM_TIMEOUT);
    smtp->reply = vstring_alloc(100);
    if (smtp_get_reply(smtp) / 100 != 2)
	smtp_quit_fatal(smtp, smtp_status(smtp, EX_UNAVAILABLE),
			"mail system refused submission: %s", STR(smtp->reply));
    smtp_command(smtp, "EHLO localhost", 2, EX_UNAVAILABLE, "EHLO rejected");
    smtp->utf8 = strstr(STR(smtp->reply), "SMTPUTF8") != 0;
}

/* smtp_send_spool - copy the wire-form message and the final "." */

static void smtp_send_spool(SM_SMTP *smtp, VSTREAM *spool)
{
    char    buf[8192];
    ssize_t n;

    if (vstream_seek(spool, 0) < 0)
	msg_fatal_status(EX_IOERR, "rewind temporary file: %m");
    while ((n = vstream_read(spool, buf, sizeof(buf))) > 0)
	if (vstream_write(smtp->stream, buf, n) < 0)
	    break;
    if (n < 0)
	msg_fatal_status(EX_IOERR, "read temporary file: %m");
    vstream_fputs(".\r\n", smtp->stream);
    if (vstream_flush(smtp->stream) != 0)
	msg_fatal_status(EX_TEMPFAIL, "lost connection to public/submit while sending message: %m");
}

/* submit - the whole SMTP transaction; returns only on success */

static void submit(const char *sender, ADDR_LIST *rcpts, VSTREAM *spool)
{
    SM_SMTP smtp;
    VSTRING *cmd = vstring_alloc(100);
    int     eight = addr_is_8bit(sender);

    for (int i = 0; i < rcpts->count; i++)
	eight |= addr_is_8bit(rcpts->addrs[i]);
    smtp_open(&smtp);
    vstring_sprintf(cmd, "MAIL FROM:<%s>%s", sender,
		    eight && smtp.utf8 ? " SMTPUTF8" : "");
    smtp_command(&smtp, STR(cmd), 2, EX_DATAERR, "sender rejected");
    for (int i = 0; i < rcpts->count; i++) {
	vstring_sprintf(cmd, "RCPT TO:<%s>", rcpts->addrs[i]);
	smtp_send(&smtp, STR(cmd));
	if (smtp_get_reply(&smtp) / 100 != 2)
	    smtp_quit_fatal(&smtp, smtp_status(&smtp, EX_NOUSER),
			    "recipient <%s> rejected: %s",
			    rcpts->addrs[i], STR(smtp.reply));
    }
    smtp_command(&smtp, "DATA", 3, EX_DATAERR, "DATA rejected");
    smtp_send_spool(&smtp, spool);
    if (smtp_get_reply(&smtp) / 100 != 2)
	smtp_quit_fatal(&smtp, smtp_status(&smtp, EX_DATAERR),
			"message rejected: %s", STR(smtp.reply));
    if (msg_verbose)
	msg_info("%s", STR(smtp.reply));
    smtp_send(&smtp, "QUIT");
    (void) smtp_get_reply(&smtp);
    vstream_close(smtp.stream);
    vstring_free(smtp.reply);
    vstring_free(cmd);
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

static NORETURN usage(const char *progname)
{
    msg_fatal_status(EX_USAGE, "usage: %s [-t] [-i] [-f sender] [-F name]"
		     " [-C config_dir] [-v] [-bm|-bp|-bi] [recipient ...]", progname);
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
    opterr = 0;
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
	    if (strcmp(optarg, "p") == 0)
		args->list_queue = 1;
	    else if (strcmp(optarg, "i") == 0)
		args->newaliases = 1;
	    else if (strcmp(optarg, "m") != 0)
		msg_fatal_status(EX_USAGE, "-b%s: unsupported mode", optarg);
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
		msg_warn("-q%s: queue run interval ignored", optarg);
	    } else {
		msg_fatal_status(EX_USAGE, "-q%s: unsupported option", optarg);
	    }
	    break;
	case 'N':
	case 'V':
	case 'X':
	    msg_warn("-%c option is not supported -- ignored", ch);
	    break;
	case '?':
	    usage(progname);
	default:				/* -B -F -G -L -O -R -U -c -e -h -m -n -p -x */
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
    msg_syslog_name(conf_str("syslog_name"));
    if (*conf_str("maillog_file"))
	msg_logfile(conf_str("maillog_file"));
    if (args.list_queue)
	run_postqueue("-p", (char *) 0);
    if (args.flush_opt)
	run_postqueue(args.flush_opt, args.flush_arg);
    if (args.newaliases)
	exit(run_newaliases(&args));

    sender = args.sender ? parse_sender(args.sender) : default_sender();
    for (int i = 0; i < args.rcpt_count; i++)
	addr_parse_list(args.rcpts[i], &rcpts);

    memset(&in, 0, sizeof(in));
    in.spool = spool_open();
    in.extract = args.extract;
    in.dot_ends = args.dot_ends;
    in.first_line = in.in_header = 1;
    in.header = vstring_alloc(1000);
    read_message(&in);

    if (args.extract) {
	hdr_rcpts = in.saw_resent ? &in.resent : &in.plain;
	for (int i = 0; i < hdr_rcpts->count; i++)
	    addr_list_add(&rcpts, hdr_rcpts->addrs[i]);
	if (rcpts.count == 0)
	    msg_fatal_status(EX_USAGE, "No recipient addresses found in message header");
    }
    if (rcpts.count == 0)
	msg_fatal_status(EX_USAGE, "no recipients specified");
    submit(sender, &rcpts, in.spool);

    vstream_close(in.spool);
    vstring_free(in.header);
    free_list(&in.plain);
    free_list(&in.resent);
    free_list(&rcpts);
    myfree(sender);
    if (args.config_dir)
	myfree(args.config_dir);
    return (0);
}
