/*
 * vstream.c - buffered streams with deadlines (see vstream.h).
 *
 * A stream has one read buffer and one write buffer.  Before each read()
 * or write() system call the stream waits with poll() for at most its
 * timeout, so a stuck peer costs a bounded time.  The file position is
 * tracked so that queue file readers can learn record offsets.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <poll.h>
#include "vstream.h"
#include "mymalloc.h"
#include "msg.h"

#define VSTREAM_BUFSIZE	65536

#define VS_FLAG_EOF	(1<<0)
#define VS_FLAG_ERR	(1<<1)
#define VS_FLAG_TIMEOUT	(1<<2)

struct VSTREAM {
    int     fd;
    int     flags;
    int     timeout;			/* seconds, 0 = none */
    char   *rbuf;			/* read buffer */
    size_t  rpos;			/* next unread byte */
    size_t  rlen;			/* bytes in rbuf */
    char   *wbuf;			/* write buffer */
    size_t  wlen;			/* bytes pending */
    off_t   offset;			/* file offset of rbuf[0] / start of wbuf */
};

VSTREAM *vstream_fdopen(int fd, int oflags)
{
    VSTREAM *stream = mycalloc(1, sizeof(*stream));

    (void) oflags;
    stream->fd = fd;
    stream->offset = 0;
    if (oflags & O_APPEND) {
	off_t   end = lseek(fd, 0, SEEK_END);

	stream->offset = end < 0 ? 0 : end;
    }
    return (stream);
}

VSTREAM *vstream_open(const char *path, int oflags, mode_t mode)
{
    int     fd = open(path, oflags | O_CLOEXEC, mode);

    if (fd < 0)
	return (0);
    return (vstream_fdopen(fd, oflags));
}

int     vstream_fd(VSTREAM *stream)
{
    return (stream->fd);
}

void    vstream_set_timeout(VSTREAM *stream, int seconds)
{
    stream->timeout = seconds;
}

int     vstream_eof(VSTREAM *stream)
{
    return ((stream->flags & VS_FLAG_EOF) != 0);
}

int     vstream_error(VSTREAM *stream)
{
    return ((stream->flags & (VS_FLAG_ERR | VS_FLAG_TIMEOUT)) != 0);
}

int     vstream_timedout(VSTREAM *stream)
{
    return ((stream->flags & VS_FLAG_TIMEOUT) != 0);
}

void    vstream_clearerr(VSTREAM *stream)
{
    stream->flags = 0;
}

size_t  vstream_peek(VSTREAM *stream)
{
    return (stream->rlen - stream->rpos);
}

/* vstream_wait - wait until FD is ready for EVENTS or the timeout passes */
static int vstream_wait(VSTREAM *stream, short events)
{
    struct pollfd pfd;
    int     n;

    if (stream->timeout <= 0)
	return (0);
    pfd.fd = stream->fd;
    pfd.events = events;
    for (;;) {
	n = poll(&pfd, 1, stream->timeout * 1000);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n == 0) {
	    stream->flags |= VS_FLAG_TIMEOUT;
	    errno = ETIMEDOUT;
	    return (-1);
	}
	return (n < 0 ? -1 : 0);
    }
}

/* vstream_fill - refill the read buffer; returns bytes now available */
static size_t vstream_fill(VSTREAM *stream)
{
    ssize_t n;

    if (stream->rpos < stream->rlen)
	return (stream->rlen - stream->rpos);
    if (stream->flags & (VS_FLAG_ERR | VS_FLAG_TIMEOUT | VS_FLAG_EOF))
	return (0);
    if (stream->wlen > 0 && vstream_flush(stream) < 0)
	return (0);
    if (stream->rbuf == 0)
	stream->rbuf = mymalloc(VSTREAM_BUFSIZE);
    stream->offset += (off_t) stream->rlen;
    stream->rpos = stream->rlen = 0;
    for (;;) {
	if (vstream_wait(stream, POLLIN) < 0) {
	    stream->flags |= VS_FLAG_ERR;
	    return (0);
	}
	n = read(stream->fd, stream->rbuf, VSTREAM_BUFSIZE);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && errno == EAGAIN && stream->timeout > 0)
	    continue;
	break;
    }
    if (n < 0) {
	stream->flags |= VS_FLAG_ERR;
	return (0);
    }
    if (n == 0) {
	stream->flags |= VS_FLAG_EOF;
	return (0);
    }
    stream->rlen = (size_t) n;
    return (stream->rlen);
}

int     vstream_getc(VSTREAM *stream)
{
    if (vstream_fill(stream) == 0)
	return (VSTREAM_EOF);
    return ((unsigned char) stream->rbuf[stream->rpos++]);
}

ssize_t vstream_read(VSTREAM *stream, void *buf, size_t len)
{
    size_t  done = 0;

    while (done < len) {
	size_t  avail = vstream_fill(stream);

	if (avail == 0)
	    break;
	if (avail > len - done)
	    avail = len - done;
	memcpy((char *) buf + done, stream->rbuf + stream->rpos, avail);
	stream->rpos += avail;
	done += avail;
    }
    if (done == 0 && (stream->flags & (VS_FLAG_ERR | VS_FLAG_TIMEOUT)))
	return (-1);
    return ((ssize_t) done);
}

int     vstream_read_full(VSTREAM *stream, void *buf, size_t len)
{
    return (vstream_read(stream, buf, len) == (ssize_t) len ? 0 : -1);
}

int     vstream_get_line(VSTREAM *stream, VSTRING *line, size_t limit)
{
    int     last = VSTREAM_EOF;

    vstring_reset(line);
    while (LEN(line) < limit) {
	size_t  avail = vstream_fill(stream);
	const char *start;
	const char *nl;
	size_t  take;

	if (avail == 0)
	    break;
	start = stream->rbuf + stream->rpos;
	if (avail > limit - LEN(line))
	    avail = limit - LEN(line);
	nl = memchr(start, '\n', avail);
	take = nl ? (size_t) (nl - start) + 1 : avail;
	vstring_memcat(line, start, take);
	stream->rpos += take;
	last = (unsigned char) start[take - 1];
	if (nl)
	    break;
    }
    return (LEN(line) > 0 ? last : VSTREAM_EOF);
}

int     vstream_flush(VSTREAM *stream)
{
    size_t  done = 0;
    ssize_t n;

    if (stream->flags & (VS_FLAG_ERR | VS_FLAG_TIMEOUT)) {
	stream->wlen = 0;
	return (-1);
    }
    while (done < stream->wlen) {
	if (vstream_wait(stream, POLLOUT) < 0) {
	    stream->flags |= VS_FLAG_ERR;
	    break;
	}
	n = write(stream->fd, stream->wbuf + done, stream->wlen - done);
	if (n < 0 && (errno == EINTR || (errno == EAGAIN && stream->timeout > 0)))
	    continue;
	if (n <= 0) {
	    stream->flags |= VS_FLAG_ERR;
	    break;
	}
	done += (size_t) n;
    }
    stream->offset += (off_t) done;
    stream->wlen = 0;
    return ((stream->flags & (VS_FLAG_ERR | VS_FLAG_TIMEOUT)) ? -1 : 0);
}

int     vstream_write(VSTREAM *stream, const void *buf, size_t len)
{
    const char *cp = buf;

    if (stream->flags & (VS_FLAG_ERR | VS_FLAG_TIMEOUT))
	return (-1);
    if (stream->rlen > 0) {			/* switching from reading */
	stream->offset += (off_t) stream->rpos;
	if (stream->rpos < stream->rlen)
	    (void) lseek(stream->fd, stream->offset, SEEK_SET);
	stream->rpos = stream->rlen = 0;
    }
    if (stream->wbuf == 0)
	stream->wbuf = mymalloc(VSTREAM_BUFSIZE);
    while (len > 0) {
	size_t  room = VSTREAM_BUFSIZE - stream->wlen;
	size_t  take = len < room ? len : room;

	memcpy(stream->wbuf + stream->wlen, cp, take);
	stream->wlen += take;
	cp += take;
	len -= take;
	if (stream->wlen == VSTREAM_BUFSIZE && vstream_flush(stream) < 0)
	    return (-1);
    }
    return (0);
}

int     vstream_fputs(const char *str, VSTREAM *stream)
{
    return (vstream_write(stream, str, strlen(str)));
}

int     vstream_putc(int ch, VSTREAM *stream)
{
    char    c = (char) ch;

    return (vstream_write(stream, &c, 1));
}

int     vstream_fprintf(VSTREAM *stream, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(256);
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    ret = vstream_write(stream, STR(buf), LEN(buf));
    vstring_free(buf);
    return (ret);
}

off_t   vstream_tell(VSTREAM *stream)
{
    return (stream->offset + (off_t) stream->rpos + (off_t) stream->wlen);
}

int     vstream_seek(VSTREAM *stream, off_t offset)
{
    if (vstream_flush(stream) < 0)
	return (-1);
    stream->rpos = stream->rlen = 0;
    stream->flags &= ~VS_FLAG_EOF;
    if (lseek(stream->fd, offset, SEEK_SET) < 0) {
	stream->flags |= VS_FLAG_ERR;
	return (-1);
    }
    stream->offset = offset;
    return (0);
}

static void vstream_free(VSTREAM *stream)
{
    myfree(stream->rbuf);
    myfree(stream->wbuf);
    myfree(stream);
}

int     vstream_fdclose(VSTREAM *stream)
{
    int     ret = vstream_flush(stream);

    vstream_free(stream);
    return (ret);
}

int     vstream_close(VSTREAM *stream)
{
    int     ret = vstream_flush(stream);

    if (close(stream->fd) < 0)
	ret = -1;
    vstream_free(stream);
    return (ret);
}

static VSTREAM *vstream_std[3];

static VSTREAM *vstream_std_get(int fd)
{
    if (vstream_std[fd] == 0)
	vstream_std[fd] = vstream_fdopen(fd, fd == 0 ? O_RDONLY : O_WRONLY);
    return (vstream_std[fd]);
}

VSTREAM *vstream_stdin(void)
{
    return (vstream_std_get(0));
}

VSTREAM *vstream_stdout(void)
{
    return (vstream_std_get(1));
}

VSTREAM *vstream_stderr(void)
{
    return (vstream_std_get(2));
}
