/*
 * pop3d_session.c - POP3 after login: the TRANSACTION and UPDATE states of
 * RFC 1939, run as the mailbox owner ("pop3d session", started by the auth
 * service; lib/login/login_session.h has the client and the login facts).
 *
 * The mailbox (INBOX: the Maildir or mbox that local delivery fills) is
 * opened once through lib/store/store.h; the session's numbering never
 * changes, so mail that arrives meanwhile shows up in the next session.
 * DELE only marks; QUIT expunges the marked messages (by UID, so a message
 * another session removed meanwhile is no error) and answers after they
 * are gone.  A session that ends any other way (the client drops the
 * connection, a timeout) changes nothing.
 *
 * RETR and TOP send the message with CRLF line ends and dot-stuffing,
 * byte for byte as delivered; LIST sizes are those octet counts
 * (store's vsize).  UIDL values are Dovecot's default format, the UID and
 * UIDVALIDITY in hex (%08X%08X), so that mail served by Dovecot keeps its
 * UIDLs.  Every wrong state or bad argument gets "-ERR" with a reason.
 *
 * Log line at the end: "user=<NAME>, CLIENT: logout: top=N/BYTES,
 * retr=N/BYTES, del=N/TOTAL, size=BYTES" (Dovecot's pop3 logout figures).
 *
 * Parameters: pop3d_timeout, syslog_name, maillog_file.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "store.h"
#include "login_session.h"
#include "pop3d_parse.h"
#include "pop3d.h"

#define POP3_CHUNK	65536

typedef struct POP3_SESSION {
    LOGIN_SESSION *io;
    STORE_FOLDER *folder;		/* NULL: no mailbox file yet (empty) */
    int     count;			/* messages when the session began */
    char   *deleted;			/* DELE marks, by message number - 1 */
    /* figures for the logout line */
    int     top_count, retr_count, del_count;
    long    top_bytes, retr_bytes;
    long    size_total;			/* -1 until counted */
} POP3_SESSION;

static const char *const pop3_session_verbs[] = {
    "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP", "QUIT",
    "CAPA", "LAST", 0,
};

int     pop3_session_command(const char *verb)
{
    for (const char *const * cp = pop3_session_verbs; *cp; cp++)
	if (strcmp(*cp, verb) == 0)
	    return (1);
    return (0);
}

/* pop3_reply - one response line */

static void pop3_reply(POP3_SESSION *ps, const char *fmt,...) PRINTFLIKE(2, 3);

static void pop3_reply(POP3_SESSION *ps, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(ps->io->out, fmt, ap);
    va_end(ap);
    login_session_write(ps->io, "\r\n", 2);
}

/* pop3_msg - the live message numbered by argument ARG, or NULL (replied) */

static STORE_MSG *pop3_msg(POP3_SESSION *ps, const char *arg, int *seq)
{
    long    n = pop3_number(arg, 0);

    if (n < 0) {
	pop3_reply(ps, "-ERR Invalid message number: %.40s", arg);
	return (0);
    }
    if (n > ps->count) {
	pop3_reply(ps, "-ERR There's no message %ld.", n);
	return (0);
    }
    if (ps->deleted[n - 1]) {
	pop3_reply(ps, "-ERR Message is deleted.");
	return (0);
    }
    *seq = (int) n;
    return (store_msg(ps->folder, (int) n));
}

/* pop3_size - a message's size in octets as sent; -1 on error (replied) */

static long pop3_size(POP3_SESSION *ps, STORE_MSG *msg)
{
    VSTRING *why = vstring_alloc(100);
    long    size = -1;

    /* A size from the file name (S=/W=) costs no open() or read() */
    if (msg->vsize < 0 && store_msg_sizes(ps->folder, msg, why) < 0) {
	msg_warn("%s: %s", ps->io->user, STR(why));
	pop3_reply(ps, "-ERR [SYS/TEMP] Cannot read the message.");
    } else {
	size = (long) msg->vsize;
    }
    vstring_free(why);
    return (size);
}

static void pop3_stat(POP3_SESSION *ps, POP3_CMD *cmd)
{
    long    total = 0, size;
    int     live = 0;

    if (cmd->argc > 0) {
	pop3_reply(ps, "-ERR Syntax: STAT");
	return;
    }
    for (int i = 1; i <= ps->count; i++) {
	if (ps->deleted[i - 1])
	    continue;
	if ((size = pop3_size(ps, store_msg(ps->folder, i))) < 0)
	    return;
	total += size;
	live++;
    }
    pop3_reply(ps, "+OK %d %ld", live, total);
}

static void pop3_list(POP3_SESSION *ps, POP3_CMD *cmd, int uidl)
{
    STORE_MSG *msg;
    long    size;
    int     seq;

    if (cmd->argc > 1) {
	pop3_reply(ps, "-ERR Syntax: %s [message]", uidl ? "UIDL" : "LIST");
	return;
    }
    if (cmd->argc == 1) {
	if ((msg = pop3_msg(ps, cmd->argv[0], &seq)) == 0)
	    return;
	if (uidl)
	    pop3_reply(ps, "+OK %d %08X%08X", seq, msg->uid, ps->folder->uidvalidity);
	else if ((size = pop3_size(ps, msg)) >= 0)
	    pop3_reply(ps, "+OK %d %ld", seq, size);
	return;
    }
    /* Sizes first: an error must come before the "+OK" */
    for (int i = 1; i <= ps->count && !uidl; i++)
	if (!ps->deleted[i - 1] && pop3_size(ps, store_msg(ps->folder, i)) < 0)
	    return;
    pop3_reply(ps, "+OK%s", uidl ? "" : " scan listing follows");
    for (int i = 1; i <= ps->count; i++) {
	if (ps->deleted[i - 1])
	    continue;
	msg = store_msg(ps->folder, i);
	if (uidl)
	    pop3_reply(ps, "%d %08X%08X", i, msg->uid, ps->folder->uidvalidity);
	else
	    pop3_reply(ps, "%d %ld", i, (long) msg->vsize);
    }
    pop3_reply(ps, ".");
}

/* The state of a message copy to the client */
typedef struct POP3_COPY {
    int     bol;			/* at a line start */
    int     in_header;			/* still in the header */
    long    body_lines;			/* TOP: body lines still to send, -1 all */
    long    bytes;			/* octets sent, CRLF counted */
} POP3_COPY;

/* pop3_copy_chunk - LF->CRLF, dot-stuffing, TOP's cut; 0, or 1 when done */

static int pop3_copy_chunk(POP3_SESSION *ps, POP3_COPY *copy, const char *data,
			           size_t len, VSTRING *out)
{
    const char *end = data + len;
    const char *cp = data;

    vstring_reset(out);
    while (cp < end) {
	const char *nl = memchr(cp, '\n', (size_t) (end - cp));
	size_t  n = nl ? (size_t) (nl - cp) : (size_t) (end - cp);

	if (copy->bol) {
	    if (!copy->in_header && copy->body_lines == 0)
		break;
	    if (copy->in_header && (n == 0 || (n == 1 && *cp == '\r')) && nl)
		copy->in_header = 0;		/* the empty line: body follows */
	    else if (!copy->in_header && copy->body_lines > 0)
		copy->body_lines--;
	    if (*cp == '.')
		vstring_addch(out, '.');
	}
	if (n > 0 && nl && cp[n - 1] == '\r')
	    n--;				/* stored CRLF: send it once */
	vstring_memcat(out, cp, n);
	if (nl) {
	    vstring_strcat(out, "\r\n");
	    cp = nl + 1;
	    copy->bol = 1;
	} else {
	    cp = end;
	    copy->bol = 0;
	}
    }
    copy->bytes += (long) LEN(out);
    login_session_write(ps->io, STR(out), LEN(out));
    return (copy->bol && !copy->in_header && copy->body_lines == 0);
}

/* pop3_send - RETR (BODY_LINES -1) or TOP: the message, then "." */

static void pop3_send(POP3_SESSION *ps, STORE_MSG *msg, long body_lines,
		              long size)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *out = vstring_alloc(POP3_CHUNK * 2);
    STORE_STREAM *stream;
    POP3_COPY copy;
    char   *buf = mymalloc(POP3_CHUNK);
    ssize_t n = 0;

    if ((stream = store_msg_open(ps->folder, msg, why)) == 0) {
	msg_warn("%s: %s", ps->io->user, STR(why));
	pop3_reply(ps, "-ERR [SYS/TEMP] Cannot read the message.");
    } else {
	if (body_lines < 0)
	    pop3_reply(ps, "+OK %ld octets", size);
	else
	    pop3_reply(ps, "+OK");
	memset(&copy, 0, sizeof(copy));
	copy.bol = copy.in_header = 1;
	copy.body_lines = body_lines;
	while ((n = store_read(stream, buf, POP3_CHUNK)) > 0
	       && !pop3_copy_chunk(ps, &copy, buf, (size_t) n, out) && !ps->io->eof)
	     /* go on */ ;
	store_msg_close(stream);
	if (n < 0) {
	    /* The "+OK" is out: all we can do is end the connection */
	    msg_warn("%s: read error on message uid %u: the client gets a "
		     "short message", ps->io->user, msg->uid);
	    ps->io->eof = 1;
	} else {
	    if (!copy.bol)
		login_session_write(ps->io, "\r\n", 2);
	    pop3_reply(ps, ".");
	    if (body_lines < 0) {
		ps->retr_count++;
		ps->retr_bytes += copy.bytes;
	    } else {
		ps->top_count++;
		ps->top_bytes += copy.bytes;
	    }
	}
    }
    myfree(buf);
    vstring_free(out);
    vstring_free(why);
}

static void pop3_retr(POP3_SESSION *ps, POP3_CMD *cmd)
{
    STORE_MSG *msg;
    long    size;
    int     seq;

    if (cmd->argc != 1) {
	pop3_reply(ps, "-ERR Syntax: RETR message");
	return;
    }
    if ((msg = pop3_msg(ps, cmd->argv[0], &seq)) != 0
	&& (size = pop3_size(ps, msg)) >= 0) {
	pop3_send(ps, msg, -1, size);
	if (!(msg->flags & STORE_SEEN))
	    msg->flags |= STORE_SEEN;		/* for the logout figures only */
    }
}

static void pop3_top(POP3_SESSION *ps, POP3_CMD *cmd)
{
    STORE_MSG *msg;
    long    lines;
    int     seq;

    if (cmd->argc != 2) {
	pop3_reply(ps, "-ERR Syntax: TOP message lines");
	return;
    }
    if ((lines = pop3_number(cmd->argv[1], 1)) < 0) {
	pop3_reply(ps, "-ERR Invalid number of lines: %.40s", cmd->argv[1]);
	return;
    }
    if ((msg = pop3_msg(ps, cmd->argv[0], &seq)) != 0)
	pop3_send(ps, msg, lines, 0);
}

static void pop3_dele(POP3_SESSION *ps, POP3_CMD *cmd)
{
    STORE_MSG *msg;
    int     seq;

    if (cmd->argc != 1) {
	pop3_reply(ps, "-ERR Syntax: DELE message");
	return;
    }
    if ((msg = pop3_msg(ps, cmd->argv[0], &seq)) != 0) {
	ps->deleted[seq - 1] = 1;
	pop3_reply(ps, "+OK Marked to be deleted.");
    }
}

static void pop3_rset(POP3_SESSION *ps, POP3_CMD *cmd)
{
    if (cmd->argc > 0) {
	pop3_reply(ps, "-ERR Syntax: RSET");
	return;
    }
    memset(ps->deleted, 0, (size_t) ps->count + 1);
    pop3_reply(ps, "+OK");
}

/* pop3_known_size - the octets of the session's messages, as far as known */

static long pop3_known_size(POP3_SESSION *ps)
{
    long    size = 0;

    for (int i = 1; ps->folder && i <= ps->folder->count; i++) {
	STORE_MSG *msg = store_msg(ps->folder, i);

	if (msg->vsize >= 0)
	    size += (long) msg->vsize;
    }
    return (size);
}

/* pop3_update - QUIT: expunge what is marked; 0, or -1 (replied) */

static int pop3_update(POP3_SESSION *ps)
{
    VSTRING *why = vstring_alloc(100);
    unsigned *uids = (unsigned *) mymalloc(sizeof(unsigned) * ((size_t) ps->count + 1));
    int     n = 0, ret = 0;

    for (int i = 1; i <= ps->count; i++)
	if (ps->deleted[i - 1])
	    uids[n++] = store_msg(ps->folder, i)->uid;
    ps->del_count = n;
    ps->size_total = pop3_known_size(ps);	/* the view shrinks now */
    if (n > 0 && store_expunge(ps->folder, uids, n, why) < 0) {
	msg_warn("%s: cannot delete messages: %s", ps->io->user, STR(why));
	pop3_reply(ps, "-ERR [SYS/TEMP] Some deleted messages were not removed.");
	ps->del_count = 0;
	ret = -1;
    } else {
	pop3_reply(ps, "+OK Logging out%s.", n ? ", messages deleted" : "");
    }
    myfree(uids);
    vstring_free(why);
    return (ret);
}

/* pop3_command - one command line; 1 when the session ends */

static int pop3_command(POP3_SESSION *ps, const char *line, size_t len)
{
    POP3_CMD cmd;
    const char *why;
    int     done = 0;

    if (pop3_parse(line, len, &cmd, &why) < 0) {
	pop3_reply(ps, "-ERR %s.", why);
	return (0);
    }
    if (cmd.too_many)
	pop3_reply(ps, "-ERR Too many arguments.");
    else if (strcmp(cmd.verb, "STAT") == 0)
	pop3_stat(ps, &cmd);
    else if (strcmp(cmd.verb, "LIST") == 0)
	pop3_list(ps, &cmd, 0);
    else if (strcmp(cmd.verb, "UIDL") == 0)
	pop3_list(ps, &cmd, 1);
    else if (strcmp(cmd.verb, "RETR") == 0)
	pop3_retr(ps, &cmd);
    else if (strcmp(cmd.verb, "TOP") == 0)
	pop3_top(ps, &cmd);
    else if (strcmp(cmd.verb, "DELE") == 0)
	pop3_dele(ps, &cmd);
    else if (strcmp(cmd.verb, "RSET") == 0)
	pop3_rset(ps, &cmd);
    else if (strcmp(cmd.verb, "NOOP") == 0)
	pop3_reply(ps, cmd.argc ? "-ERR Syntax: NOOP" : "+OK");
    else if (strcmp(cmd.verb, "CAPA") == 0) {
	pop3_reply(ps, "+OK Capability list follows");
	for (const char *const * cp = pop3d_capabilities; *cp; cp++)
	    pop3_reply(ps, "%s", *cp);
	pop3_reply(ps, ".");
    } else if (strcmp(cmd.verb, "QUIT") == 0) {
	(void) pop3_update(ps);
	done = 1;
    } else if (strcmp(cmd.verb, "USER") == 0 || strcmp(cmd.verb, "PASS") == 0
	       || strcmp(cmd.verb, "AUTH") == 0 || strcmp(cmd.verb, "APOP") == 0
	       || strcmp(cmd.verb, "STLS") == 0)
	pop3_reply(ps, "-ERR Already logged in.");
    else
	pop3_reply(ps, "-ERR Unknown command.");
    pop3_cmd_free(&cmd);
    return (done);
}

/* pop3_open - INBOX; a missing mbox file is an empty mailbox */

static int pop3_open(POP3_SESSION *ps)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int     kind = ps->io->maildir ? STORE_KIND_MAILDIR : STORE_KIND_MBOX;

    if (kind == STORE_KIND_MBOX && stat(ps->io->mailbox, &st) < 0 && errno == ENOENT) {
	ps->folder = 0;
    } else if ((ps->folder = store_open(kind, ps->io->mailbox,
		    kind == STORE_KIND_MAILDIR ? STORE_OPEN_CREATE : 0, why)) == 0) {
	msg_warn("%s: cannot open mailbox %s: %s", ps->io->user, ps->io->mailbox,
		 STR(why));
	if (strstr(STR(why), "lock"))
	    pop3_reply(ps, "-ERR [IN-USE] Mailbox is locked, try again later.");
	else
	    pop3_reply(ps, "-ERR [SYS/TEMP] Cannot open the mailbox.");
	vstring_free(why);
	return (-1);
    }
    ps->count = ps->folder ? ps->folder->count : 0;
    ps->deleted = mycalloc(1, (size_t) ps->count + 1);
    vstring_free(why);
    return (0);
}

/* pop3_logout_log - Dovecot's figures */

static void pop3_logout_log(POP3_SESSION *ps, const char *how)
{
    if (ps->size_total < 0)
	ps->size_total = pop3_known_size(ps);
    msg_info("%s: %s: user=<%s>, top=%d/%ld, retr=%d/%ld, del=%d/%d, size=%ld",
	     ps->io->client, how, ps->io->user, ps->top_count, ps->top_bytes,
	     ps->retr_count, ps->retr_bytes, ps->del_count, ps->count,
	     ps->size_total);
}

NORETURN pop3d_session_main(void)
{
    POP3_SESSION ps;
    VSTRING *line = vstring_alloc(256);
    const char *how = "disconnected";
    int     status;

    msg_init("pop3d", MSG_TO_SYSLOG);
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    login_session_log_init();
    memset(&ps, 0, sizeof(ps));
    ps.size_total = -1;
    ps.io = login_session_init(conf_time("pop3d_timeout"));
    if (pop3_open(&ps) < 0) {
	(void) login_session_flush(ps.io);
	exit(1);
    }
    pop3_reply(&ps, "+OK Logged in.");
    for (;;) {
	status = login_session_get_line(ps.io, line, POP3_LINE_LIMIT);
	if (status == LOGIN_LINE_EOF) {
	    how = ps.io->timed_out ? "timeout" : "disconnected";
	    if (ps.io->timed_out) {
		pop3_reply(&ps, "-ERR Disconnected for inactivity.");
		(void) login_session_flush(ps.io);
	    }
	    break;
	}
	if (status == LOGIN_LINE_TOO_LONG) {
	    pop3_reply(&ps, "-ERR Input line too long.");
	    continue;
	}
	if (pop3_command(&ps, STR(line), LEN(line))) {
	    how = "logout";
	    (void) login_session_flush(ps.io);
	    break;
	}
	if (!login_session_pending(ps.io) && login_session_flush(ps.io) < 0) {
	    how = "disconnected";
	    break;
	}
    }
    pop3_logout_log(&ps, how);
    exit(0);
}
