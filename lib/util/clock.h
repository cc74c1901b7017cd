/*
 * clock.h - the time seam.
 *
 * Code that decides by time (retries, expiry, log delays) asks clock_now()
 * instead of time().  Tests may shift the clock of all processes with the
 * environment variable POSTHORN_TIME_OFFSET (seconds added to real time).
 */
#ifndef CLOCK_H
#define CLOCK_H

#include "sys_defs.h"
#include <sys/time.h>

time_t	clock_now(void);
void	clock_gettimeofday(struct timeval *tv);
/* clock_rfc2822 - "Mon, 23 Nov 2026 15:07:19 +0000 (UTC)" for T into BUF */
const char *clock_rfc2822(char *buf, size_t len, time_t t);

#endif
