/*
 * iostuff.h - small descriptor and socket helpers.
 */
#ifndef IOSTUFF_H
#define IOSTUFF_H

#include "sys_defs.h"
#include <sys/socket.h>

#define BLOCKING	0
#define NON_BLOCKING	1

int	non_blocking(int fd, int on);		/* returns previous state */
int	close_on_exec(int fd, int on);

/*
 * unix_listen - bind+listen a UNIX stream socket (unlinks a stale one); -1
 * on error.  The socket gets MODE at creation (through the umask), and the
 * caller's effective ids as owner: master calls it as mail_owner, so no
 * root operation ever touches a name in a directory mail_owner can write.
 */
int	unix_listen(const char *path, int backlog, mode_t mode);
/* unix_connect - connect to a UNIX stream socket, waiting at most TIMEOUT s; -1 */
int	unix_connect(const char *path, int timeout);
/* inet_listen - "host:port", "[v6]:port", ":port" or "port"; -1 on error */
int	inet_listen(const char *addr, int backlog);
/* inet_connect - connect TCP to host:port within TIMEOUT s; -1 */
int	inet_connect(const char *addr, int timeout);

/*
 * endpoint_address - "unix:path" or "inet:host:port" ("[v6]:port"; no host:
 * 127.0.0.1) as a socket address, the host resolved now; 0, or -1
 */
int	endpoint_address(const char *endpoint, struct sockaddr_storage *addr,
			         socklen_t *addrlen);

/* write_full - write all of BUF or fail (-1); retries EINTR, waits on EAGAIN */
ssize_t write_full(int fd, const void *buf, size_t len);

/* peer_address - client IP text and port of a connected socket ("unknown" if none) */
void	peer_address(int fd, char *addr, size_t addrlen, char *port, size_t portlen);

/*
 * unix_send_fd - pass descriptor FD over the UNIX socket SOCK (with one
 * data byte); 0 or -1.  unix_recv_fd - receive it: the new descriptor
 * (close-on-exec), or -1 (EBADMSG: the byte came without a descriptor).
 */
int	unix_send_fd(int sock, int fd);
int	unix_recv_fd(int sock);

/* fsync_dir - fsync the directory that holds PATH (so a rename is durable) */
int	fsync_dir(const char *path);

#endif
