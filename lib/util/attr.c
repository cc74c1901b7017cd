/*
 * attr.c - "name=value" request lists between processes (see attr.h).
 *
 * Encoding: bytes below 0x20, '%' and DEL in a value are sent as %XX.
 * Names are plain [a-z0-9_] words.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "attr.h"
#include "vstring.h"
#include "mymalloc.h"
#include "msg.h"

static void attr_encode(VSTRING *out, const char *value)
{
    for (const unsigned char *cp = (const unsigned char *) value; *cp; cp++) {
	if (*cp < 0x20 || *cp == '%' || *cp == 0x7f)
	    vstring_sprintf_append(out, "%%%02X", *cp);
	else
	    vstring_addch(out, *cp);
    }
}

static int attr_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
	return (ch - '0');
    if (ch >= 'A' && ch <= 'F')
	return (ch - 'A' + 10);
    if (ch >= 'a' && ch <= 'f')
	return (ch - 'a' + 10);
    return (-1);
}

/* attr_decode - decode in place; -1 on a bad escape or a NUL byte */
static int attr_decode(char *value)
{
    char   *in = value, *out = value;

    while (*in) {
	if (*in == '%') {
	    int     hi = attr_hexval((unsigned char) in[1]);
	    int     lo = hi < 0 ? -1 : attr_hexval((unsigned char) in[2]);

	    if (lo < 0 || (hi == 0 && lo == 0))
		return (-1);
	    *out++ = (char) (hi * 16 + lo);
	    in += 3;
	} else {
	    *out++ = *in++;
	}
    }
    *out = 0;
    return (0);
}

void    attr_buf_put(VSTRING *buf, const char *name, const char *value)
{
    vstring_strcat(buf, name);
    vstring_addch(buf, '=');
    attr_encode(buf, value ? value : "");
    vstring_addch(buf, '\n');
}

void    attr_buf_end(VSTRING *buf)
{
    vstring_addch(buf, '\n');
}

void    attr_put(VSTREAM *stream, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    attr_buf_put(buf, name, value);
    vstream_write(stream, STR(buf), LEN(buf));
    vstring_free(buf);
}

void    attr_putf(VSTREAM *stream, const char *name, const char *fmt,...)
{
    VSTRING *val = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(val, fmt, ap);
    va_end(ap);
    attr_put(stream, name, STR(val));
    vstring_free(val);
}

void    attr_put_long(VSTREAM *stream, const char *name, long value)
{
    attr_putf(stream, name, "%ld", value);
}

int     attr_end(VSTREAM *stream)
{
    vstream_putc('\n', stream);
    return (vstream_flush(stream));
}

static int attr_name_ok(const char *name, size_t len)
{
    if (len == 0)
	return (0);
    for (size_t i = 0; i < len; i++)
	if (!islower((unsigned char) name[i]) && !isdigit((unsigned char) name[i])
	    && name[i] != '_')
	    return (0);
    return (1);
}

/* attr_add_line - one "name=value" line (without '\n') into LIST; 0 or -1 */

static int attr_add_line(ATTR_LIST *list, char *line)
{
    char   *eq;

    if ((eq = strchr(line, '=')) == 0
	|| !attr_name_ok(line, (size_t) (eq - line))
	|| list->count >= ATTR_MAX_COUNT) {
	msg_warn("attr_get_list: bad attribute line");
	return (-1);
    }
    *eq = 0;
    if (attr_decode(eq + 1) < 0) {
	msg_warn("attr_get_list: bad value encoding for %s", line);
	return (-1);
    }
    list->names[list->count] = mystrdup(line);
    list->values[list->count] = mystrdup(eq + 1);
    list->count++;
    return (0);
}

int     attr_get_list(VSTREAM *stream, ATTR_LIST *list)
{
    VSTRING *line = vstring_alloc(200);
    int     ret = -1;

    list->count = 0;
    for (;;) {
	if (vstream_get_line(stream, line, ATTR_MAX_LINE) != '\n')
	    break;				/* EOF, error, or too long */
	vstring_truncate(line, LEN(line) - 1);
	if (LEN(line) == 0) {
	    ret = 0;
	    break;
	}
	if (attr_add_line(list, STR(line)) < 0)
	    break;
    }
    vstring_free(line);
    if (ret < 0)
	attr_list_free(list);
    return (ret);
}

/* attr_prefix_ok - can the incomplete line DATA..END still be good? */

static int attr_prefix_ok(const char *data, const char *end)
{
    const char *eq = memchr(data, '=', (size_t) (end - data));
    const char *name_end = eq ? eq : end;

    if (eq == data)
	return (0);
    for (const char *cp = data; cp < name_end; cp++)
	if (!islower((unsigned char) *cp) && !isdigit((unsigned char) *cp)
	    && *cp != '_')
	    return (0);
    return (eq == 0 || memchr(eq, 0, (size_t) (end - eq)) == 0);
}

int     attr_scan_list(const char *data, size_t len, ATTR_LIST *list)
{
    size_t  used;

    return (attr_scan_next(data, len, list, &used));
}

int     attr_scan_next(const char *data, size_t len, ATTR_LIST *list,
		               size_t *used)
{
    VSTRING *line = vstring_alloc(200);
    const char *start = data;
    const char *end = data + len;
    const char *nl;
    int     ret = 0;

    list->count = 0;
    *used = 0;
    while ((nl = memchr(data, '\n', (size_t) (end - data))) != 0) {
	if (nl == data) {
	    *used = (size_t) (nl + 1 - start);
	    ret = 1;
	    break;
	}
	vstring_memcpy(line, data, (size_t) (nl - data));
	if (LEN(line) > ATTR_MAX_LINE || strlen(STR(line)) != LEN(line)
	    || attr_add_line(list, STR(line)) < 0) {
	    ret = -1;
	    break;
	}
	data = nl + 1;
    }
    if (ret == 0 && (end - data > ATTR_MAX_LINE || !attr_prefix_ok(data, end)))
	ret = -1;			/* a line that can never end, or be good */
    vstring_free(line);
    if (ret <= 0)
	attr_list_free(list);
    return (ret);
}

void    attr_list_free(ATTR_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
	myfree(list->names[i]);
	myfree(list->values[i]);
    }
    list->count = 0;
}

const char *attr_find(const ATTR_LIST *list, const char *name)
{
    for (int i = 0; i < list->count; i++)
	if (strcmp(list->names[i], name) == 0)
	    return (list->values[i]);
    return (0);
}

long    attr_find_long(const ATTR_LIST *list, const char *name, long defval)
{
    const char *value = attr_find(list, name);
    char   *end;
    long    result;

    if (value == 0 || *value == 0)
	return (defval);
    errno = 0;
    result = strtol(value, &end, 10);
    if (*end != 0 || errno != 0)
	return (defval);
    return (result);
}
