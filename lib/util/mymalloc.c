/*
 * mymalloc.c - allocation wrappers that never return NULL.
 *
 * mymalloc_big() is mymalloc() for an array of megabytes that is filled
 * at once (a folder's messages, an index file read whole): its pages are
 * made present with one madvise() call (MADV_POPULATE_WRITE, Linux 5.14)
 * instead of one page fault per 4 KiB as it is filled, which costs a
 * trap each.  Where the kernel cannot, nothing changes.  It is freed with
 * myfree() as any other.
 */
#include "sys_defs.h"

#include <sys/mman.h>

#include "mymalloc.h"
#include "msg.h"

#define BIG_MIN		(256 * 1024)	/* smaller: malloc's own pages */

void   *mymalloc(size_t len)
{
    void   *ptr = malloc(len ? len : 1);

    if (ptr == 0)
	msg_fatal("out of memory allocating %zu bytes", len);
    return (ptr);
}

void   *mymalloc_big(size_t len)
{
    void   *ptr = mymalloc(len);

#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t) ptr + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t) ptr + len) & ~(page - 1);

    if (len >= BIG_MIN && end > start)		/* advice: errors ignored */
	(void) madvise((void *) start, end - start, MADV_POPULATE_WRITE);
#endif
    return (ptr);
}

void   *mycalloc(size_t nmemb, size_t len)
{
    void   *ptr = calloc(nmemb ? nmemb : 1, len ? len : 1);

    if (ptr == 0)
	msg_fatal("out of memory allocating %zu x %zu bytes", nmemb, len);
    return (ptr);
}

void   *myrealloc(void *ptr, size_t len)
{
    void   *newptr = realloc(ptr, len ? len : 1);

    if (newptr == 0)
	msg_fatal("out of memory reallocating %zu bytes", len);
    return (newptr);
}

void    myfree(void *ptr)
{
    free(ptr);
}

char   *mystrdup(const char *str)
{
    return (mymemdup(str, strlen(str) + 1));
}

char   *mystrndup(const char *str, size_t len)
{
    const char *end = memchr(str, 0, len);
    size_t  n = end ? (size_t) (end - str) : len;
    char   *copy = mymalloc(n + 1);

    memcpy(copy, str, n);
    copy[n] = 0;
    return (copy);
}

void   *mymemdup(const void *ptr, size_t len)
{
    void   *copy = mymalloc(len);

    memcpy(copy, ptr, len);
    return (copy);
}
