/*
 * imapd_cmd_any.c - commands valid in any state after login: CAPABILITY,
 * NOOP, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161: CONDSTORE, QRESYNC),
 * NAMESPACE (RFC 2342) and IDLE (RFC 2177).
 *
 * IDLE answers "+ idling", then reports changes to the selected folder as
 * they happen (the store's change notification, or a look every few
 * seconds when there is none) until the client sends DONE.  With
 * notification it still looks every IMAPD_IDLE_CHECK seconds, as
 * Dovecot's mailbox_idle_check_interval: inotify does not hear what
 * another host does to a Maildir on shared storage (NFS).  Every
 * IMAPD_IDLE_KEEPALIVE seconds it says "* OK Still here" so that NAT
 * boxes keep the connection, as Dovecot does.
 *
 * Parameters: imapd_timeout (an IDLE lasts at most this long, then "* BYE").
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "vstring.h"
#include "mail_conf.h"
#include "imapd.h"

#define IMAPD_IDLE_KEEPALIVE	120	/* seconds */
#define IMAPD_IDLE_POLL		5	/* seconds, without notification */
#define IMAPD_IDLE_CHECK	30	/* seconds, with notification */

int     imapd_cmd_capability(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 0)
	return (IMAPD_BAD);
    imapd_untagged(im, "CAPABILITY %s", IMAPD_CAPA_AUTH);
    imapd_tagged(im, "OK", "Capability completed.");
    return (IMAPD_OK);
}

int     imapd_cmd_noop(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 0)
	return (IMAPD_BAD);
    imapd_sync(im, 1);
    imapd_tagged(im, "OK", "NOOP completed.");
    return (IMAPD_OK);
}

int     imapd_cmd_logout(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 0)
	return (IMAPD_BAD);
    imapd_untagged(im, "BYE Logging out");
    imapd_tagged(im, "OK", "Logout completed.");
    im->state = IMAPD_LOGOUT;
    return (IMAPD_OK);
}

int     imapd_cmd_id(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 1 || (args[0].type != IMAP_ARG_NIL && args[0].type != IMAP_ARG_LIST))
	return (IMAPD_BAD);
    imapd_untagged(im, "ID (\"name\" \"Posthorn\")");
    imapd_tagged(im, "OK", "ID completed.");
    return (IMAPD_OK);
}

int     imapd_cmd_enable(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *enabled = vstring_alloc(50);

    if (count == 0) {
	vstring_free(enabled);
	return (IMAPD_BAD);
    }
    for (int i = 0; i < count; i++) {
	if (args[i].type != IMAP_ARG_ATOM) {
	    vstring_free(enabled);
	    return (IMAPD_BAD);
	}
	if (strcasecmp(args[i].data, "CONDSTORE") == 0
	    && !(im->enabled & IMAPD_ENABLE_CONDSTORE)) {
	    im->enabled |= IMAPD_ENABLE_CONDSTORE;
	    vstring_strcat(enabled, " CONDSTORE");
	} else if (strcasecmp(args[i].data, "QRESYNC") == 0
		   && !(im->enabled & IMAPD_ENABLE_QRESYNC)) {
	    /* RFC 7162 3.2.3: QRESYNC implies CONDSTORE */
	    if (!(im->enabled & IMAPD_ENABLE_CONDSTORE))
		vstring_strcat(enabled, " CONDSTORE");
	    im->enabled |= IMAPD_ENABLE_QRESYNC | IMAPD_ENABLE_CONDSTORE;
	    vstring_strcat(enabled, " QRESYNC");
	}
    }
    imapd_untagged(im, "ENABLED%s", STR(enabled));
    imapd_tagged(im, "OK", "Enabled.");
    vstring_free(enabled);
    return (IMAPD_OK);
}

int     imapd_cmd_namespace(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 0)
	return (IMAPD_BAD);
    imapd_untagged(im, "NAMESPACE ((\"\" \"%c\")) NIL NIL",
		   store_root_separator(im->root));
    imapd_tagged(im, "OK", "Namespace completed.");
    return (IMAPD_OK);
}

/* imapd_idle_done - the client's line during IDLE; 1 if it was DONE */

static int imapd_idle_done(IMAPD *im)
{
    VSTRING *line = vstring_alloc(100);
    int     status = login_session_get_line(im->io, line, 1000);
    int     done = (status == LOGIN_LINE_OK && strcasecmp(STR(line), "DONE") == 0);

    if (status == LOGIN_LINE_OK && !done)
	imapd_tagged(im, "BAD", "Expected DONE.");
    else if (done)
	imapd_tagged(im, "OK", "Idle completed.");
    vstring_free(line);
    return (status != LOGIN_LINE_OK ? -1 : 1);
}

/* imapd_idle_wait_ms - until the next keepalive or the end of the IDLE */

static int imapd_idle_wait_ms(time_t now, time_t last_word, time_t deadline, int fd)
{
    time_t  next = last_word + IMAPD_IDLE_KEEPALIVE;

    if (now + (fd < 0 ? IMAPD_IDLE_POLL : IMAPD_IDLE_CHECK) < next)
	next = now + (fd < 0 ? IMAPD_IDLE_POLL : IMAPD_IDLE_CHECK);
    if (deadline < next)
	next = deadline;
    return (next > now ? (int) (next - now) * 1000 : 0);
}

int     imapd_cmd_idle(IMAPD *im, const IMAP_ARG *args, int count)
{
    time_t  now = time((time_t *) 0);
    time_t  last_word = now;
    time_t  deadline = now + conf_time("imapd_timeout");
    int     fd, status;

    if (count != 0)
	return (IMAPD_BAD);
    imapd_sync(im, 1);
    imapd_write(im, "+ idling\r\n", 10);
    for (;;) {
	fd = im->folder ? store_notify_fd(im->folder) : -1;
	status = login_session_wait(im->io, fd,
				    imapd_idle_wait_ms(now, last_word, deadline, fd));
	if (status == LOGIN_WAIT_INPUT) {
	    if (imapd_idle_done(im) < 0)
		im->state = IMAPD_LOGOUT;	/* the client is gone */
	    return (IMAPD_OK);
	}
	if (status == LOGIN_WAIT_OTHER)
	    store_notify_clear(im->folder);
	if (imapd_folder_gone(im))
	    return (IMAPD_OK);
	imapd_sync(im, 1);
	now = time((time_t *) 0);
	if (now >= deadline) {
	    imapd_untagged(im, "BYE Disconnected for inactivity.");
	    im->state = IMAPD_LOGOUT;
	    return (IMAPD_OK);
	}
	if (now - last_word >= IMAPD_IDLE_KEEPALIVE) {
	    imapd_untagged(im, "OK Still here");
	    last_word = now;
	}
    }
}
