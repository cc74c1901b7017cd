/*
 * clock.c - the time seam (see clock.h).
 */
#include "sys_defs.h"
#include <sys/time.h>
#include "clock.h"

static long clock_offset(void)
{
    static int done;
    static long offset;

    if (!done) {
	const char *env = getenv("POSTHORN_TIME_OFFSET");

	offset = env ? strtol(env, (char **) 0, 10) : 0;
	done = 1;
    }
    return (offset);
}

time_t  clock_now(void)
{
    return (time((time_t *) 0) + clock_offset());
}

void    clock_gettimeofday(struct timeval *tv)
{
    gettimeofday(tv, (struct timezone *) 0);
    tv->tv_sec += clock_offset();
}

const char *clock_rfc2822(char *buf, size_t len, time_t t)
{
    struct tm tm;
    char    zone[16];
    long    off;

    localtime_r(&t, &tm);
    off = tm.tm_gmtoff / 60;
    strftime(zone, sizeof(zone), "%Z", &tm);
    {
	char    date[64];

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S", &tm);
	snprintf(buf, len, "%s %c%02ld%02ld (%s)", date, off < 0 ? '-' : '+',
		 labs(off) / 60, labs(off) % 60, zone);
    }
    return (buf);
}
