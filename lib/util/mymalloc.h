/*
 * mymalloc.h - memory allocation that never returns NULL.
 *
 * Allocation failure is fatal (msg_fatal), so callers never test for NULL.
 */
#ifndef MYMALLOC_H
#define MYMALLOC_H

#include "sys_defs.h"

void   *mymalloc(size_t len);
void   *mymalloc_big(size_t len);		/* pages made present at once */
void   *mycalloc(size_t nmemb, size_t len);
void   *myrealloc(void *ptr, size_t len);
void	myfree(void *ptr);
char   *mystrdup(const char *str);
char   *mystrndup(const char *str, size_t len);
void   *mymemdup(const void *ptr, size_t len);

#endif
