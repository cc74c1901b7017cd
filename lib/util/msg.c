/*
 * msg.c - diagnostics to syslog, a log file and/or stderr (see msg.h).
 *
 * Each message is formatted once and written with one write() per output,
 * so that lines from concurrent processes appending to one maillog_file
 * (opened with O_APPEND) never interleave.  A log file or log socket
 * replaces syslog, as Postfix's maillog_file does: with one open, syslog
 * is neither written nor (re)opened, which also spares a process without
 * a syslog daemon a failed connect to /dev/log per line.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <strings.h>
#include <syslog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "msg.h"
#include "safe_open.h"
#include "vstring.h"

int     msg_verbose;

static char msg_prog[64] = "posthorn";
static char msg_name[64] = "posthorn";
static char msg_ident[140] = "posthorn";
static int msg_flags = MSG_TO_STDERR;
static int msg_log_fd = -1;
static void (*msg_cleanup_fn) (void);
static char msg_host[256];
static int msg_facility = LOG_MAIL;

static void msg_update_ident(void)
{
    snprintf(msg_ident, sizeof(msg_ident), "%s/%s", msg_name, msg_prog);
    if ((msg_flags & MSG_TO_SYSLOG) && msg_log_fd < 0) {
	closelog();
	openlog(msg_ident, LOG_PID | LOG_NDELAY, msg_facility);
    }
}

static void msg_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
	ssize_t n = write(fd, buf, len);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return;
	buf += n;
	len -= (size_t) n;
    }
}

void    msg_init(const char *progname, int flags)
{
    const char *slash = strrchr(progname, '/');

    snprintf(msg_prog, sizeof(msg_prog), "%s", slash ? slash + 1 : progname);
    msg_flags = flags;
    /* msg_host stays: a second msg_init (smtp becoming lmtp) keeps $myhostname */
    msg_update_ident();
}

void    msg_hostname(const char *name)
{
    size_t  len;

    if (name && *name) {
	len = strcspn(name, ".");
	snprintf(msg_host, sizeof(msg_host), "%.*s", (int) len, name);
    }
}

void    msg_syslog_name(const char *name)
{
    if (name && *name) {
	snprintf(msg_name, sizeof(msg_name), "%s", name);
	msg_update_ident();
    }
}

int     msg_syslog_facility(const char *name)
{
    static const struct {
	const char *name;
	int     facility;
    }       facilities[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"auth", LOG_AUTH}, {"authpriv", LOG_AUTHPRIV},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {0, 0},
    };

    for (int i = 0; facilities[i].name; i++) {
	if (strcasecmp(facilities[i].name, name) == 0) {
	    msg_facility = facilities[i].facility;
	    msg_update_ident();
	    return (0);
	}
    }
    return (-1);
}

void    msg_logfile(const char *path)
{
    VSTRING *why;

    if (msg_log_fd >= 0) {
	close(msg_log_fd);
	msg_log_fd = -1;
    }
    if (path == 0 || *path == 0) {
	msg_update_ident();			/* back to syslog */
	return;
    }
    /* Root opens it: never through a link someone else planted */
    why = vstring_alloc(100);
    msg_log_fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0644,
			   (struct stat *) 0, -1, -1, why);
    if (msg_log_fd < 0)
	msg_warn("open maillog_file %s: %s", path, STR(why));
    else
	closelog();
    vstring_free(why);
}

void    msg_logsocket(const char *path)
{
    struct sockaddr_un sun;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
	return;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return;
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	close(fd);
	return;					/* syslog it is */
    }
    if (msg_log_fd >= 0)
	close(msg_log_fd);
    msg_log_fd = fd;
    closelog();
}

void    msg_log_raw(const char *line, size_t len)
{
    if (msg_log_fd >= 0)
	msg_write_all(msg_log_fd, line, len);
}

void    msg_stderr(int on)
{
    if (on)
	msg_flags |= MSG_TO_STDERR;
    else
	msg_flags &= ~MSG_TO_STDERR;
}

const char *msg_progname(void)
{
    return (msg_prog);
}

void    msg_cleanup(void (*fn) (void))
{
    msg_cleanup_fn = fn;
}

static void msg_vlog(int level, const char *label, const char *fmt, va_list ap)
{
    int     saved_errno = errno;
    char    text[4096];
    char    line[4500];
    int     n;

    errno = saved_errno;			/* for %m */
    vsnprintf(text, sizeof(text), fmt, ap);
    if ((msg_flags & MSG_TO_SYSLOG) && msg_log_fd < 0)
	syslog(level, "%s%s", label, text);
    if (msg_log_fd >= 0) {
	time_t  now = time((time_t *) 0);

	if (msg_host[0] == 0 && gethostname(msg_host, sizeof(msg_host) - 1) < 0)
	    snprintf(msg_host, sizeof(msg_host), "localhost");
	struct tm tm;
	char    stamp[32];

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);	/* as Postfix's */
	n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n",
		     stamp, msg_host, msg_ident, (long) getpid(), label, text);
	if (n > 0)
	    msg_write_all(msg_log_fd, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
    }
    if (msg_flags & MSG_TO_STDERR) {
	n = snprintf(line, sizeof(line), "%s: %s%s\n", msg_prog, label, text);
	if (n > 0)
	    msg_write_all(2, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
    }
    errno = saved_errno;
}

#define MSG_FN(name, level, label) \
void name(const char *fmt, ...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    msg_vlog(level, label, fmt, ap); \
    va_end(ap); \
}

MSG_FN(msg_info, LOG_INFO, "")

void    msg_info_as(const char *prog, const char *fmt,...)
{
    char    saved[sizeof(msg_prog)];
    va_list ap;

    memcpy(saved, msg_prog, sizeof(saved));
    snprintf(msg_prog, sizeof(msg_prog), "%s", prog);
    msg_update_ident();
    va_start(ap, fmt);
    msg_vlog(LOG_INFO, "", fmt, ap);
    va_end(ap);
    memcpy(msg_prog, saved, sizeof(msg_prog));
    msg_update_ident();
}
MSG_FN(msg_warn, LOG_WARNING, "warning: ")
MSG_FN(msg_error, LOG_ERR, "error: ")

static void msg_run_cleanup(void)
{
    void    (*fn) (void) = msg_cleanup_fn;

    msg_cleanup_fn = 0;				/* no recursion */
    if (fn)
	fn();
}

NORETURN msg_fatal_status(int status, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    msg_run_cleanup();
    exit(status);
}

NORETURN msg_fatal(const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    msg_run_cleanup();
    exit(1);
}

NORETURN msg_panic(const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "panic: ", fmt, ap);
    va_end(ap);
    abort();
}
