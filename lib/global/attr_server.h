/*
 * attr_server.h - the client side of an event-driven service whose
 * clients keep a connection open and send attribute lists (attr.h), each
 * answered with one list, in order: anvil and proxymap.
 *
 *   attr_server_accept(fd, &spec, client_context);
 *
 * from the service's EVENT_SERVER_FN.  Requests are read as they come;
 * for each complete one SPEC->request(REQUEST, REPLY, CONTEXT) appends
 * the answer to REPLY (attr_buf_put ... attr_buf_end); the answers go out
 * when no complete request is left.  A client that closes, stops
 * reading, or sends a malformed request or one over SPEC->max_request
 * bytes (warned, with SPEC->name) is closed: SPEC->close(CONTEXT) runs,
 * then event_server_disconnect().
 */
#ifndef ATTR_SERVER_H
#define ATTR_SERVER_H

#include "sys_defs.h"
#include "vstring.h"
#include "attr.h"

typedef struct ATTR_SERVER_SPEC {
    const char *name;			/* "anvil", "proxymap": for warnings */
    size_t  max_request;		/* bytes */
    void    (*request) (const ATTR_LIST *request, VSTRING *reply, void *context);
    void    (*close) (void *context);	/* may be NULL */
} ATTR_SERVER_SPEC;

void	attr_server_accept(int fd, const ATTR_SERVER_SPEC *spec, void *context);

#endif
