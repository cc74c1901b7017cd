/*
 * postlogd.c - write the log lines of programs that cannot open
 * maillog_file themselves (mailbox sessions, which run as their users).
 *
 * As Postfix's postlogd(8) for maillog_file: a master.cf service
 *
 *   postlog   unix  n  -  n  -  1  postlogd
 *
 * on public/postlog.  master opens maillog_file for it as root; the
 * daemon then runs as mail_owner in one event loop.  Clients (lib/util/msg.c
 * msg_logsocket) connect once and write complete lines, already in the
 * maillog shape; each line is written to the file with one write(), so
 * lines of different clients never mix.  Control characters in a line
 * become '?', and a line longer than POSTLOGD_LINE_MAX is cut.  As with
 * syslog, any local user could write a line here; the file itself stays
 * out of their reach.
 *
 * After a reload (as "posthorn logrotate" makes once it renamed the log)
 * this process still holds the old file, and its clients stay connected
 * to it: so once master lets it go, it sends their lines on to the
 * postlogd of the new generation (a client of public/SERVICE like any
 * other), which opened the file maillog_file names now.  When that one
 * cannot be reached (the mail system stops), it writes them itself.
 *
 * Parameters: maillog_file.
 */
#include "sys_defs.h"
#include "iostuff.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "mail_conf.h"
#include "mail_server.h"

#define POSTLOGD_LINE_MAX	8192

typedef struct POSTLOGD_CLIENT {
    int     fd;
    VSTRING *buf;
    int     skipping;			/* the rest of an over-long line */
} POSTLOGD_CLIENT;

static int postlogd_next_fd = -1;	/* draining: to the new postlogd */
static time_t postlogd_next_tried;	/* when it was last tried */

/* postlogd_next - once draining: a connection to the next postlogd, or -1 */

static int postlogd_next(void)
{
    VSTRING *path;
    time_t  now;

    if (!event_server_draining())
	return (-1);
    if (postlogd_next_fd >= 0 || (now = time((time_t *) 0)) == postlogd_next_tried)
	return (postlogd_next_fd);
    postlogd_next_tried = now;			/* at most once a second */
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", MAIL_QUEUE_PUBLIC, mail_server_service());
    postlogd_next_fd = unix_connect(STR(path), 1);
    vstring_free(path);
    return (postlogd_next_fd);
}

/* postlogd_line - one complete line (LEN bytes and its newline) out */

static void postlogd_line(char *line, size_t len)
{
    int     fd;

    for (size_t i = 0; i < len; i++)
	if ((unsigned char) line[i] < 0x20 || line[i] == 0x7f)
	    line[i] = '?';
    line[len] = '\n';
    if ((fd = postlogd_next()) >= 0) {
	if (write_full(fd, line, len + 1) == (ssize_t) len + 1)
	    return;
	(void) close(fd);			/* gone: write it ourselves */
	postlogd_next_fd = -1;
    }
    msg_log_raw(line, len + 1);
}

static void postlogd_close(POSTLOGD_CLIENT *client)
{
    event_disable_readwrite(client->fd);
    event_server_disconnect(client->fd);
    vstring_free(client->buf);
    myfree(client);
}

static void postlogd_read(int event, void *context)
{
    POSTLOGD_CLIENT *client = context;
    char    chunk[16384];
    ssize_t n;
    char   *start, *nl;

    n = read(client->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	postlogd_close(client);
	return;
    }
    vstring_memcat(client->buf, chunk, (size_t) n);
    start = STR(client->buf);
    while ((nl = memchr(start, '\n', LEN(client->buf) - (size_t) (start - STR(client->buf)))) != 0) {
	if (!client->skipping)
	    postlogd_line(start, (size_t) (nl - start));
	client->skipping = 0;
	start = nl + 1;
    }
    vstring_drop_head(client->buf, (size_t) (start - STR(client->buf)));
    if (LEN(client->buf) > POSTLOGD_LINE_MAX) {
	if (!client->skipping) {
	    vstring_truncate(client->buf, POSTLOGD_LINE_MAX);
	    vstring_addch(client->buf, 0);	/* room for the newline */
	    postlogd_line(STR(client->buf), POSTLOGD_LINE_MAX);
	}
	client->skipping = 1;
	vstring_reset(client->buf);
    }
}

static void postlogd_accept(int fd, const char *service, char **argv)
{
    POSTLOGD_CLIENT *client = (POSTLOGD_CLIENT *) mycalloc(1, sizeof(*client));

    client->fd = fd;
    client->buf = vstring_alloc(1024);
    event_enable_read(fd, postlogd_read, client);
}

static void postlogd_post_init(const char *service, char **argv)
{
    /* Clients may stay connected for hours: never exit while they do */
    mail_conf_update("max_idle", "1000000s");
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPS ops = {
	.post_init = postlogd_post_init,
    };

    event_server_main(argc, argv, postlogd_accept, &ops);
}
