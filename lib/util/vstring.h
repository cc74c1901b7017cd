/*
 * vstring.h - length-tracked growable strings.
 *
 * A VSTRING holds LEN bytes of data followed by a NUL byte that is not
 * counted, so STR() can be passed to string functions while binary data is
 * still safe.  Every append grows the buffer; nothing is ever truncated
 * silently.  Use vstring_alloc/vstring_free; read with STR() and LEN().
 */
#ifndef VSTRING_H
#define VSTRING_H

#include "sys_defs.h"

typedef struct VSTRING {
    char   *data;			/* always NUL-terminated */
    size_t  len;			/* bytes in use, not counting the NUL */
    size_t  size;			/* bytes allocated */
} VSTRING;

#define STR(vp)		((vp)->data)
#define LEN(vp)		((vp)->len)

VSTRING *vstring_alloc(size_t initial);
void	vstring_free(VSTRING *vp);
void	vstring_reset(VSTRING *vp);
void	vstring_truncate(VSTRING *vp, size_t len);
void	vstring_reserve(VSTRING *vp, size_t extra);
VSTRING *vstring_strcpy(VSTRING *vp, const char *src);
VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len);
VSTRING *vstring_strcat(VSTRING *vp, const char *src);
VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len);
VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len);
VSTRING *vstring_addch(VSTRING *vp, int ch);
VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt,...) PRINTFLIKE(2, 3);
VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt,...) PRINTFLIKE(2, 3);
VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap);
/* vstring_drop_head - remove the first N bytes, shifting the rest down */
void	vstring_drop_head(VSTRING *vp, size_t n);
/* vstring_lowercase - fold ASCII letters to lower case in place */
VSTRING *vstring_lowercase(VSTRING *vp);
/* vstring_export - free the VSTRING, return its data (caller myfree()s) */
char   *vstring_export(VSTRING *vp);

#endif
