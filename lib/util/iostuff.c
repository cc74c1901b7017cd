/*
 * iostuff.c - descriptor flags, socket set-up and small I/O helpers.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "iostuff.h"
#include "mymalloc.h"
#include "msg.h"

int     non_blocking(int fd, int on)
{
    int     flags = fcntl(fd, F_GETFL, 0);

    if (flags < 0)
	return (-1);
    if (fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) < 0)
	return (-1);
    return ((flags & O_NONBLOCK) != 0);
}

int     close_on_exec(int fd, int on)
{
    int     flags = fcntl(fd, F_GETFD, 0);

    if (flags < 0)
	return (-1);
    if (fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0)
	return (-1);
    return ((flags & FD_CLOEXEC) != 0);
}

static int unix_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
	errno = ENAMETOOLONG;
	return (-1);
    }
    memcpy(sun->sun_path, path, strlen(path) + 1);
    return (0);
}

int     unix_listen(const char *path, int backlog, mode_t mode)
{
    struct sockaddr_un sun;
    mode_t  old_mask;
    int     fd, ret, saved;

    if (unix_addr(&sun, path) < 0)
	return (-1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    (void) unlink(path);
    /* The mode comes from the umask at bind(): nothing changes it by name */
    old_mask = umask(~mode & 0777);
    ret = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
    saved = errno;
    umask(old_mask);
    if (ret < 0 || listen(fd, backlog) < 0) {
	if (ret == 0)
	    saved = errno;
	close(fd);
	errno = saved;
	return (-1);
    }
    return (fd);
}

/* connect_wait - finish a non-blocking connect within TIMEOUT seconds */
static int connect_wait(int fd, int timeout)
{
    struct pollfd pfd;
    int     err = 0;
    socklen_t len = sizeof(err);

    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, timeout > 0 ? timeout * 1000 : -1) <= 0) {
	errno = ETIMEDOUT;
	return (-1);
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
	return (-1);
    if (err) {
	errno = err;
	return (-1);
    }
    return (0);
}

static int timed_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    non_blocking(fd, NON_BLOCKING);
    if (connect(fd, sa, len) < 0
	&& (errno != EINPROGRESS || connect_wait(fd, timeout) < 0))
	return (-1);
    non_blocking(fd, BLOCKING);
    return (0);
}

int     unix_connect(const char *path, int timeout)
{
    struct sockaddr_un sun;
    int     fd;

    if (unix_addr(&sun, path) < 0)
	return (-1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    if (timed_connect(fd, (struct sockaddr *) &sun, sizeof(sun), timeout) < 0) {
	int     saved = errno;

	close(fd);
	errno = saved;
	return (-1);
    }
    return (fd);
}

/* port_ok - a service name, or a number 0..65535 */
static int port_ok(const char *port)
{
    char   *end;
    long    num;

    if (*port == 0)
	return (0);
    if (!isdigit((unsigned char) *port))
	return (strspn(port, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == strlen(port));
    errno = 0;
    num = strtol(port, &end, 10);
    return (*end == 0 && errno == 0 && num >= 0 && num <= 65535);
}

/* split_host_port - "host:port", "[v6]:port", ":port", "port" */
static int split_host_port(const char *addr, char **host, char **port)
{
    char   *copy = mystrdup(addr);
    char   *colon;

    if (*copy == '[') {
	char   *end = strchr(copy, ']');

	if (end == 0 || end[1] != ':') {
	    myfree(copy);
	    return (-1);
	}
	*end = 0;
	*host = mystrdup(copy + 1);
	*port = mystrdup(end + 2);
    } else if ((colon = strrchr(copy, ':')) != 0) {
	*colon = 0;
	*host = mystrdup(copy);
	*port = mystrdup(colon + 1);
    } else {
	*host = mystrdup("");
	*port = mystrdup(copy);
    }
    myfree(copy);
    if (!port_ok(*port) || (**host == 0 && addr[0] == '[')) {
	myfree(*host);
	myfree(*port);
	return (-1);
    }
    return (0);
}

static struct addrinfo *inet_resolve(const char *addr, int passive)
{
    struct addrinfo hints, *res = 0;
    char   *host, *port;
    int     err;

    if (split_host_port(addr, &host, &port) < 0) {
	errno = EINVAL;
	return (0);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    err = getaddrinfo(*host && strcmp(host, "*") ? host : 0, port, &hints, &res);
    myfree(host);
    myfree(port);
    if (err != 0) {
	errno = EINVAL;
	return (0);
    }
    return (res);
}

int     endpoint_address(const char *endpoint, struct sockaddr_storage *addr,
			         socklen_t *addrlen)
{
    struct addrinfo hints, *res = 0;
    char   *host, *port;
    int     err;

    memset(addr, 0, sizeof(*addr));
    if (strncmp(endpoint, "unix:", 5) == 0) {
	if (endpoint[5] == 0 || unix_addr((struct sockaddr_un *) addr, endpoint + 5) < 0)
	    return (-1);
	*addrlen = sizeof(struct sockaddr_un);
	return (0);
    }
    if (strncmp(endpoint, "inet:", 5) != 0
	|| split_host_port(endpoint + 5, &host, &port) < 0) {
	errno = EINVAL;
	return (-1);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(*host ? host : "127.0.0.1", port, &hints, &res);
    myfree(host);
    myfree(port);
    if (err != 0) {
	errno = EINVAL;
	return (-1);
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return (0);
}

int     inet_listen(const char *addr, int backlog)
{
    struct addrinfo *res = inet_resolve(addr, 1);
    int     fd = -1;
    int     on = 1;

    if (res == 0)
	return (-1);
    if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	|| setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	|| bind(fd, res->ai_addr, res->ai_addrlen) < 0
	|| listen(fd, backlog) < 0) {
	int     saved = errno;

	if (fd >= 0)
	    close(fd);
	fd = -1;
	errno = saved;
    }
    freeaddrinfo(res);
    return (fd);
}

int     inet_connect(const char *addr, int timeout)
{
    struct addrinfo *res = inet_resolve(addr, 0);
    int     fd = -1;

    if (res == 0)
	return (-1);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	    continue;
	if (timed_connect(fd, ai->ai_addr, ai->ai_addrlen, timeout) == 0)
	    break;
	close(fd);
	fd = -1;
    }
    freeaddrinfo(res);
    return (fd);
}

ssize_t write_full(int fd, const void *buf, size_t len)
{
    const char *cp = buf;
    size_t  done = 0;

    while (done < len) {
	ssize_t n = write(fd, cp + done, len - done);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && errno == EAGAIN) {
	    struct pollfd pfd = {.fd = fd,.events = POLLOUT};

	    (void) poll(&pfd, 1, 1000);
	    continue;
	}
	if (n <= 0)
	    return (-1);
	done += (size_t) n;
    }
    return ((ssize_t) done);
}

void    peer_address(int fd, char *addr, size_t addrlen, char *port, size_t portlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    snprintf(addr, addrlen, "unknown");
    snprintf(port, portlen, "unknown");
    if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0)
	return;
    if (ss.ss_family == AF_UNIX) {
	snprintf(addr, addrlen, "127.0.0.1");
	snprintf(port, portlen, "0");
	return;
    }
    if (getnameinfo((struct sockaddr *) &ss, len, addr, addrlen, port, portlen,
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
	return;
    /* IPv4-mapped IPv6 addresses are shown as IPv4, as Postfix does */
    if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
	memmove(addr, addr + 7, strlen(addr + 7) + 1);
}

int     fsync_dir(const char *path)
{
    char   *copy = mystrdup(path);
    int     fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int     ret = -1;

    if (fd >= 0) {
	ret = fsync(fd);
	close(fd);
    }
    myfree(copy);
    return (ret);
}

int     unix_send_fd(int sock, int fd)
{
    struct msghdr msg;
    struct iovec iov;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(sizeof(int))];
    }       control;
    struct cmsghdr *cmsg;
    char    byte = 'F';
    ssize_t n;

    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
	 /* again */ ;
    return (n == 1 ? 0 : -1);
}

int     unix_recv_fd(int sock)
{
    struct msghdr msg;
    struct iovec iov;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(sizeof(int))];
    }       control;
    struct cmsghdr *cmsg;
    char    byte;
    ssize_t n;
    int     fd = -1;

    memset(&msg, 0, sizeof(msg));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
	 /* again */ ;
    if (n != 1) {
	if (n == 0)
	    errno = ECONNRESET;
	return (-1);
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
	if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
	    && cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
	    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    if (fd < 0)
	errno = EBADMSG;
    return (fd);
}
