/*
 * mymalloc.c - allocation wrappers that never return NULL.
 */
#include "sys_defs.h"
#include "mymalloc.h"
#include "msg.h"

void   *mymalloc(size_t len)
{
    void   *ptr = malloc(len ? len : 1);

    if (ptr == 0)
	msg_fatal("out of memory allocating %zu bytes", len);
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
