/*
 * submit_clnt.c - one message to smtpd on public/submit (submit_clnt.h).
 *
 * A plain blocking ESMTP client for commands and single-purpose daemons
 * (sendmail, pickup): EHLO, XUID when asked, MAIL FROM, RCPT TO for each
 * recipient, DATA, the message, QUIT.  It stops at the first refusal,
 * says QUIT, and tells which part failed; nothing is queued then.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "address.h"
#include "submit_clnt.h"

#define SUBMIT_REPLY_LIMIT	4096	/* one reply line */
#define SUBMIT_REPLY_LINES	100	/* lines of one reply */
#define SUBMIT_TIMEOUT		300	/* seconds per read or write */
#define SUBMIT_CONN_TIMEOUT	30	/* seconds to connect */

typedef struct SUBMIT_SESS {
    VSTREAM *stream;
    VSTRING *reply;			/* the last reply, lines joined by "\n" */
    int     code;
    int     utf8;			/* the server offers SMTPUTF8 */
} SUBMIT_SESS;

/* sess_send - one command line; SUBMIT_OK or SUBMIT_TEMP */

static int sess_send(SUBMIT_SESS *sess, const char *cmd, VSTRING *why)
{
    if (msg_verbose)
	msg_info("> %s", cmd);
    vstream_fprintf(sess->stream, "%s\r\n", cmd);
    if (vstream_flush(sess->stream) != 0) {
	vstring_sprintf(why, "lost connection to %s/%s while sending \"%s\": %m",
			MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT, cmd);
	return (SUBMIT_TEMP);
    }
    return (SUBMIT_OK);
}

/* reply_line_ok - "ddd", "ddd text" or "ddd-text" */

static int reply_line_ok(const VSTRING *line)
{
    const char *cp = STR(line);

    return (LEN(line) >= 3 && isdigit((unsigned char) cp[0])
	    && isdigit((unsigned char) cp[1]) && isdigit((unsigned char) cp[2])
	    && (LEN(line) == 3 || cp[3] == ' ' || cp[3] == '-'));
}

/* sess_reply - one (multi-line) reply into SESS; SUBMIT_OK or an error */

static int sess_reply(SUBMIT_SESS *sess, VSTRING *why)
{
    VSTRING *line = vstring_alloc(100);
    int     lines = 0;
    int     ret = SUBMIT_OK;

    vstring_reset(sess->reply);
    for (;;) {
	if (vstream_get_line(sess->stream, line, SUBMIT_REPLY_LIMIT) == VSTREAM_EOF) {
	    vstring_sprintf(why, "%s from %s/%s", vstream_timedout(sess->stream) ?
			    "timeout reading reply" : "lost connection reading reply",
			    MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
	    ret = SUBMIT_TEMP;
	    break;
	}
	while (LEN(line) > 0 && (STR(line)[LEN(line) - 1] == '\n'
				 || STR(line)[LEN(line) - 1] == '\r'))
	    vstring_truncate(line, LEN(line) - 1);
	if (msg_verbose)
	    msg_info("< %s", STR(line));
	if (!reply_line_ok(line) || ++lines > SUBMIT_REPLY_LINES) {
	    vstring_sprintf(why, "malformed reply from %s/%s: %.100s",
			    MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT, STR(line));
	    ret = SUBMIT_PROTO;
	    break;
	}
	if (LEN(sess->reply) > 0)
	    vstring_addch(sess->reply, '\n');
	vstring_strcat(sess->reply, STR(line));
	if (LEN(line) == 3 || STR(line)[3] == ' ') {
	    sess->code = atoi(STR(line));
	    break;
	}
    }
    vstring_free(line);
    return (ret);
}

/*
 * sess_command - CMD (NULL: just read a reply), expecting WANT (2 or 3)
 * as the first digit; a 5xx is FIVE, a 4xx SUBMIT_TEMP; WHY: "WHAT: reply"
 */

static int sess_command(SUBMIT_SESS *sess, const char *cmd, int want, int five,
			        const char *what, VSTRING *why)
{
    int     ret;

    if ((cmd && (ret = sess_send(sess, cmd, why)) != SUBMIT_OK)
	|| (ret = sess_reply(sess, why)) != SUBMIT_OK)
	return (ret);
    if (sess->code / 100 == want)
	return (SUBMIT_OK);
    vstring_sprintf(why, "%s: %s", what, STR(sess->reply));
    return (sess->code / 100 == 4 ? SUBMIT_TEMP : five);
}

/* sess_quit - say QUIT, wait a little for the answer, close */

static void sess_quit(SUBMIT_SESS *sess)
{
    VSTRING *line = vstring_alloc(100);

    vstream_fputs("QUIT\r\n", sess->stream);
    if (vstream_flush(sess->stream) == 0) {
	vstream_set_timeout(sess->stream, 5);	/* polite, not patient */
	(void) vstream_get_line(sess->stream, line, SUBMIT_REPLY_LIMIT);
    }
    vstring_free(line);
}

/* sess_open - connect, greeting, EHLO (and XUID); SUBMIT_OK or error */

static int sess_open(SUBMIT_SESS *sess, long uid, VSTRING *why)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *cmd;
    int     fd;
    int     ret;

    vstring_sprintf(path, "%s/%s/%s", conf_str("queue_directory"),
		    MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
    fd = unix_connect(STR(path), SUBMIT_CONN_TIMEOUT);
    vstring_free(path);
    if (fd < 0) {
	vstring_sprintf(why, "connect to %s/%s: %m", MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
	return (SUBMIT_TEMP);
    }
    sess->stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(sess->stream, SUBMIT_TIMEOUT);
    if ((ret = sess_command(sess, 0, 2, SUBMIT_PROTO, "mail system refused submission",
			    why)) != SUBMIT_OK
	|| (ret = sess_command(sess, "EHLO localhost", 2, SUBMIT_PROTO, "EHLO rejected",
			       why)) != SUBMIT_OK)
	return (ret);
    sess->utf8 = strstr(STR(sess->reply), "SMTPUTF8") != 0;
    if (uid < 0)
	return (SUBMIT_OK);
    cmd = vstring_alloc(30);
    vstring_sprintf(cmd, "XUID %ld", uid);
    ret = sess_command(sess, STR(cmd), 2, SUBMIT_PROTO, "XUID rejected", why);
    vstring_free(cmd);
    return (ret);
}

/* send_spool - the wire-form SPOOL from its start */

static int send_spool(SUBMIT_SESS *sess, VSTREAM *spool, VSTRING *why)
{
    char    buf[8192];
    ssize_t n;

    if (vstream_seek(spool, 0) < 0) {
	vstring_sprintf(why, "rewind temporary file: %m");
	return (SUBMIT_IO);
    }
    while ((n = vstream_read(spool, buf, sizeof(buf))) > 0)
	if (vstream_write(sess->stream, buf, n) < 0)
	    break;
    if (n < 0) {
	vstring_sprintf(why, "read temporary file: %m");
	return (SUBMIT_IO);
    }
    return (SUBMIT_OK);
}

/* send_lf_content - CONTENT (LF line ends) in wire form */

static void send_lf_content(SUBMIT_SESS *sess, const VSTRING *content)
{
    const char *cp = STR(content);
    const char *end = cp + LEN(content);

    while (cp < end) {
	const char *nl = memchr(cp, '\n', end - cp);
	size_t  len = nl ? (size_t) (nl - cp) : (size_t) (end - cp);

	if (*cp == '.')
	    vstream_putc('.', sess->stream);
	vstream_write(sess->stream, cp, len);
	vstream_write(sess->stream, "\r\n", 2);
	cp += len + (nl != 0);
    }
}

/* send_data - DATA, the message, the final "."; the reply */

static int send_data(SUBMIT_SESS *sess, SUBMIT_REQ *req, VSTRING *why)
{
    int     ret;

    if ((ret = sess_command(sess, "DATA", 3, SUBMIT_DATA, "DATA rejected", why)) != SUBMIT_OK)
	return (ret);
    if (req->spool)
	ret = send_spool(sess, req->spool, why);
    else
	send_lf_content(sess, req->content);
    if (ret != SUBMIT_OK)
	return (ret);
    vstream_fputs(".\r\n", sess->stream);
    if (vstream_flush(sess->stream) != 0) {
	vstring_sprintf(why, "lost connection to %s/%s while sending message: %m",
			MAIL_CLASS_PUBLIC, MAIL_SERVICE_SUBMIT);
	return (SUBMIT_TEMP);
    }
    return (sess_command(sess, 0, 2, SUBMIT_DATA, "message rejected", why));
}

/* send_envelope - MAIL FROM and each RCPT TO */

static int send_envelope(SUBMIT_SESS *sess, SUBMIT_REQ *req, VSTRING *why)
{
    VSTRING *cmd = vstring_alloc(100);
    int     eight = addr_is_8bit(req->sender);
    int     ret;

    for (int i = 0; i < req->rcpt_count; i++)
	eight |= addr_is_8bit(req->rcpts[i]);
    vstring_sprintf(cmd, "MAIL FROM:<%s>%s%s", req->sender,
		    eight && sess->utf8 ? " SMTPUTF8" : "",
		    req->mail_params ? req->mail_params : "");
    ret = sess_command(sess, STR(cmd), 2, SUBMIT_SENDER, "sender rejected", why);
    for (int i = 0; ret == SUBMIT_OK && i < req->rcpt_count; i++) {
	vstring_sprintf(cmd, "RCPT TO:<%s>%s", req->rcpts[i],
		   req->rcpt_params && req->rcpt_params[i] ? req->rcpt_params[i] : "");
	if ((ret = sess_command(sess, STR(cmd), 2, SUBMIT_RCPT, "recipient rejected",
				why)) == SUBMIT_RCPT) {
	    req->failed_rcpt = i;
	    vstring_sprintf(why, "recipient <%s> rejected: %s", req->rcpts[i],
			    STR(sess->reply));
	}
    }
    vstring_free(cmd);
    return (ret);
}

int     submit_message(SUBMIT_REQ *req, VSTRING *why)
{
    SUBMIT_SESS sess;
    int     ret;

    memset(&sess, 0, sizeof(sess));
    sess.reply = vstring_alloc(100);
    vstring_reset(why);
    req->failed_rcpt = -1;
    if ((ret = sess_open(&sess, req->uid, why)) == SUBMIT_OK
	&& (ret = send_envelope(&sess, req, why)) == SUBMIT_OK
	&& (ret = send_data(&sess, req, why)) == SUBMIT_OK && msg_verbose)
	msg_info("%s", STR(sess.reply));
    if (sess.stream) {
	sess_quit(&sess);
	(void) vstream_close(sess.stream);
    }
    vstring_free(sess.reply);
    return (ret);
}
