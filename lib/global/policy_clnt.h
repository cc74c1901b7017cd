/*
 * policy_clnt.h - ask a policy service (Postfix's SMTPD_POLICY_README
 * protocol) from an event-driven process, without waiting.
 *
 *   POLICY_CLNT *clnt = policy_clnt_create("inet:127.0.0.1:10023", &limits);
 *   policy_clnt_request(clnt, "request=smtpd_access_policy\n...\n", done, ctx);
 *       done(POLICY_CLNT_OK, "DEFER_IF_PERMIT Greylisted", ctx), or
 *       done(POLICY_CLNT_FAIL, NULL, ctx) after LIMITS.try_limit attempts
 *   policy_clnt_cancel(clnt, ctx);       DONE will not run for CTX
 *   policy_clnt_free(clnt);
 *
 * The endpoint is "inet:host:port" (the host is resolved once, here) or
 * "unix:path" (a relative path is under queue_directory, as Postfix's
 * "unix:private/policy").  A request is the attribute lines
 * ("name=value\n"; this module adds the empty line); the answer is the
 * value of the service's "action=" attribute.
 *
 * Connections are kept and reused, as Postfix's smtpd does: a request
 * takes an idle connection or opens a new one (at most
 * POLICY_CLNT_MAX_CONN at once; more requests wait in line).  A
 * connection is closed after LIMITS.max_idle seconds unused, after
 * LIMITS.max_ttl seconds of life, after LIMITS.request_limit requests (0:
 * no limit), and on any error.  A request that gets no complete answer
 * within LIMITS.timeout seconds, or whose connection fails, is tried
 * again on a new connection, up to LIMITS.try_limit times in all.
 * Warnings name the service, as Postfix's do.
 */
#ifndef POLICY_CLNT_H
#define POLICY_CLNT_H

#include "sys_defs.h"

#define POLICY_CLNT_OK		0
#define POLICY_CLNT_FAIL	(-1)
#define POLICY_CLNT_MAX_CONN	10

typedef struct POLICY_LIMITS {
    int     timeout;			/* seconds for connect + answer */
    int     max_idle;			/* seconds an unused connection stays */
    int     max_ttl;			/* seconds a connection lives */
    int     try_limit;			/* attempts per request */
    int     request_limit;		/* requests per connection, 0: any */
} POLICY_LIMITS;

typedef struct POLICY_CLNT POLICY_CLNT;
typedef void (*POLICY_CLNT_FN) (int status, const char *action, void *context);

/* policy_clnt_create - NULL (with a warning) when ENDPOINT is malformed */
POLICY_CLNT *policy_clnt_create(const char *endpoint, const POLICY_LIMITS *limits);
void	policy_clnt_request(POLICY_CLNT *clnt, const char *request,
			            POLICY_CLNT_FN done, void *context);
void	policy_clnt_cancel(POLICY_CLNT *clnt, void *context);
/* policy_clnt_free - close every connection; waiting callbacks do not run */
void	policy_clnt_free(POLICY_CLNT *clnt);
const char *policy_clnt_name(POLICY_CLNT *clnt);

#endif
