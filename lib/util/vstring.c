/*
 * vstring.c - length-tracked growable strings (see vstring.h).
 */
#include "sys_defs.h"
#include <ctype.h>
#include "vstring.h"
#include "mymalloc.h"

VSTRING *vstring_alloc(size_t initial)
{
    VSTRING *vp = mymalloc(sizeof(*vp));

    vp->size = initial < 16 ? 16 : initial;
    vp->data = mymalloc(vp->size);
    vp->len = 0;
    vp->data[0] = 0;
    return (vp);
}

void    vstring_free(VSTRING *vp)
{
    if (vp) {
	myfree(vp->data);
	myfree(vp);
    }
}

char   *vstring_export(VSTRING *vp)
{
    char   *data = vp->data;

    myfree(vp);
    return (data);
}

void    vstring_reserve(VSTRING *vp, size_t extra)
{
    size_t  need = vp->len + extra + 1;

    if (need > vp->size) {
	size_t  size = vp->size * 2;

	if (size < need)
	    size = need;
	vp->data = myrealloc(vp->data, size);
	vp->size = size;
    }
}

void    vstring_reset(VSTRING *vp)
{
    vp->len = 0;
    vp->data[0] = 0;
}

void    vstring_truncate(VSTRING *vp, size_t len)
{
    if (len < vp->len) {
	vp->len = len;
	vp->data[len] = 0;
    }
}

VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len)
{
    vstring_reserve(vp, len);
    memcpy(vp->data + vp->len, src, len);
    vp->len += len;
    vp->data[vp->len] = 0;
    return (vp);
}

VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len)
{
    vstring_reset(vp);
    return (vstring_memcat(vp, src, len));
}

VSTRING *vstring_strcpy(VSTRING *vp, const char *src)
{
    return (vstring_memcpy(vp, src, strlen(src)));
}

VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len)
{
    const char *end = memchr(src, 0, len);

    return (vstring_memcpy(vp, src, end ? (size_t) (end - src) : len));
}

VSTRING *vstring_strcat(VSTRING *vp, const char *src)
{
    return (vstring_memcat(vp, src, strlen(src)));
}

VSTRING *vstring_addch(VSTRING *vp, int ch)
{
    char    c = (char) ch;

    return (vstring_memcat(vp, &c, 1));
}

VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap)
{
    va_list ap2;
    int     n;

    va_copy(ap2, ap);
    n = vsnprintf(vp->data + vp->len, vp->size - vp->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
	return (vp);
    if ((size_t) n >= vp->size - vp->len) {
	vstring_reserve(vp, (size_t) n);
	vsnprintf(vp->data + vp->len, vp->size - vp->len, fmt, ap);
    }
    vp->len += (size_t) n;
    return (vp);
}

VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return (vp);
}

VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt,...)
{
    va_list ap;

    vstring_reset(vp);
    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return (vp);
}

void    vstring_drop_head(VSTRING *vp, size_t n)
{
    if (n >= vp->len) {
	vstring_reset(vp);
	return;
    }
    memmove(vp->data, vp->data + n, vp->len - n);
    vp->len -= n;
    vp->data[vp->len] = 0;
}

VSTRING *vstring_lowercase(VSTRING *vp)
{
    for (size_t i = 0; i < vp->len; i++)
	vp->data[i] = (char) tolower((unsigned char) vp->data[i]);
    return (vp);
}
