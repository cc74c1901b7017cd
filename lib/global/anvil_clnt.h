/*
 * anvil_clnt.h - ask the anvil service for client connection counts and
 * request rates, from an event-driven process, without waiting.
 *
 *	if (anvil_clnt_request("connect", "smtp:192.0.2.1", done, state) < 0)
 *	    ... anvil is not there: no limit applies (as Postfix) ...
 *	void done(int status, int count, int rate, void *context)
 *
 * Requests go out on one connection to private/anvil (master/anvil.c,
 * which says what they mean) and are answered in order; the callback runs
 * from the event loop with ANVIL_STAT_OK and the numbers, or with
 * ANVIL_STAT_FAIL when anvil went away or did not answer within 10 s.
 * anvil_clnt_request() returns -1, and calls nothing, when anvil cannot be
 * reached now (logged at most once a minute).  A caller that goes away
 * first calls anvil_clnt_cancel(context): its answers are then read and
 * dropped.  A NULL callback asks for no answer ("disconnect").
 */
#ifndef ANVIL_CLNT_H
#define ANVIL_CLNT_H

#include "sys_defs.h"

#define ANVIL_STAT_OK	0
#define ANVIL_STAT_FAIL	(-1)

typedef void (*ANVIL_CLNT_FN) (int status, int count, int rate, void *context);

int	anvil_clnt_request(const char *request, const char *ident,
			           ANVIL_CLNT_FN fn, void *context);
void	anvil_clnt_cancel(void *context);

#endif
