/*
 * attr.h - typed requests between Posthorn processes.
 *
 * A request is a list of "name=value" lines ended by an empty line, sent
 * over a UNIX socket.  Values are encoded so that '\n', '%' and control
 * bytes survive (%XX).  The receiver bounds the size of every line and the
 * number of attributes.  Used by qmgr <-> delivery agents and by tools
 * that talk to qmgr.
 */
#ifndef ATTR_H
#define ATTR_H

#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

#define ATTR_MAX_COUNT	512
#define ATTR_MAX_LINE	100000

typedef struct ATTR_LIST {
    int     count;
    char   *names[ATTR_MAX_COUNT];
    char   *values[ATTR_MAX_COUNT];
} ATTR_LIST;

/* attr_put - write one attribute; attr_putf with a format for the value */
void	attr_put(VSTREAM *stream, const char *name, const char *value);
void	attr_putf(VSTREAM *stream, const char *name, const char *fmt,...) PRINTFLIKE(3, 4);
void	attr_put_long(VSTREAM *stream, const char *name, long value);
/* attr_end - write the terminating empty line and flush; 0 or -1 */
int	attr_end(VSTREAM *stream);
/* attr_buf_put, attr_buf_end - the same into a buffer (event-driven senders) */
void	attr_buf_put(VSTRING *buf, const char *name, const char *value);
void	attr_buf_end(VSTRING *buf);

/* attr_get_list - read one request; 0 ok, -1 on EOF/error/bad syntax */
int	attr_get_list(VSTREAM *stream, ATTR_LIST *list);
/*
 * attr_scan_list - one request from the LEN bytes at DATA, for readers
 * that collect input in an event loop: 1 complete (LIST filled), 0 not
 * complete yet (LIST empty), -1 bad syntax (also in a line that has not
 * ended yet, as soon as it can no longer become good) or a line over the
 * limit.
 */
int	attr_scan_list(const char *data, size_t len, ATTR_LIST *list);
/* attr_scan_next - the same for a stream of requests: when 1, *USED is
 * the bytes of the request (through its empty line) */
int	attr_scan_next(const char *data, size_t len, ATTR_LIST *list,
		               size_t *used);
void	attr_list_free(ATTR_LIST *list);
/* attr_find - the value of NAME or NULL; attr_find_long - value or DEFVAL */
const char *attr_find(const ATTR_LIST *list, const char *name);
long	attr_find_long(const ATTR_LIST *list, const char *name, long defval);

#endif
