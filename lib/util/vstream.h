/*
 * vstream.h - buffered streams on file descriptors, with deadlines.
 *
 * One stream type for sockets, pipes and files.  Reads and writes wait at
 * most the stream's timeout (vstream_set_timeout; 0 = wait forever) and
 * then fail with vstream_timedout() set.  Lines are read with an explicit
 * length bound so no peer can make a process grow without limit.
 * Errors are sticky: after a failed read or write, vstream_error() stays
 * set and further I/O fails at once.
 */
#ifndef VSTREAM_H
#define VSTREAM_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct VSTREAM VSTREAM;

#define VSTREAM_EOF	(-1)

VSTREAM *vstream_fdopen(int fd, int oflags);	/* O_RDONLY, O_WRONLY, O_RDWR */
VSTREAM *vstream_open(const char *path, int oflags, mode_t mode);
int	vstream_close(VSTREAM *stream);		/* flush, close fd; -1 on error */
int	vstream_fdclose(VSTREAM *stream);	/* flush, free, keep fd open */
int	vstream_fd(VSTREAM *stream);
void	vstream_set_timeout(VSTREAM *stream, int seconds);

int	vstream_getc(VSTREAM *stream);
/* vstream_read - read up to LEN bytes; returns count (0 at EOF), -1 on error */
ssize_t vstream_read(VSTREAM *stream, void *buf, size_t len);
/* vstream_read_full - read exactly LEN bytes; -1 on error, EOF or timeout */
int	vstream_read_full(VSTREAM *stream, void *buf, size_t len);

/*
 * vstream_get_line - read one line into LINE (replacing its content),
 * including the '\n', but at most LIMIT bytes.  Returns the last byte
 * stored: '\n' for a complete line, another byte when LIMIT was reached
 * (the rest of the line stays unread), or VSTREAM_EOF when nothing was
 * read (EOF, error or timeout: see vstream_eof/vstream_error/_timedout).
 */
int	vstream_get_line(VSTREAM *stream, VSTRING *line, size_t limit);

int	vstream_write(VSTREAM *stream, const void *buf, size_t len);
int	vstream_fputs(const char *str, VSTREAM *stream);
int	vstream_fprintf(VSTREAM *stream, const char *fmt,...) PRINTFLIKE(2, 3);
int	vstream_putc(int ch, VSTREAM *stream);
int	vstream_flush(VSTREAM *stream);

/* Position in the underlying file (files only): what has been read/written */
off_t	vstream_tell(VSTREAM *stream);
/* vstream_seek - flush, discard read buffer, lseek(SEEK_SET) */
int	vstream_seek(VSTREAM *stream, off_t offset);

int	vstream_eof(VSTREAM *stream);
int	vstream_error(VSTREAM *stream);
int	vstream_timedout(VSTREAM *stream);
void	vstream_clearerr(VSTREAM *stream);

/* Bytes already buffered for reading (so poll() would not see them) */
size_t	vstream_peek(VSTREAM *stream);

/* Streams on the standard descriptors, created on first use */
VSTREAM *vstream_stdin(void);
VSTREAM *vstream_stdout(void);
VSTREAM *vstream_stderr(void);

#endif
