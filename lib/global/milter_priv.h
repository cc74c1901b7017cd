/*
 * milter_priv.h - what the milter modules share and nobody else uses: a
 * configured filter (milter_conf.c makes it, milter_clnt.c talks to it)
 * and a list of them (milter_conf.c, milters.c).  Callers see only the
 * functions of milter_clnt.h.
 */
#ifndef MILTER_PRIV_H
#define MILTER_PRIV_H

#include "sys_defs.h"
#include <sys/socket.h>
#include "milter_clnt.h"

struct MILTER {
    char   *name;			/* the endpoint, as in warnings */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int     conn_timeout;
    int     cmd_timeout;
    int     content_timeout;
    long    edit_limit;
    int     def_action;			/* MILTER_DEF_* */
    uint32_t version;			/* what we offer */
    uint32_t actions;
    uint32_t events;
    char   *macros[MILTER_MACRO_STAGES];
};

struct MILTERS {
    MILTER **list;
    int     count;
};

#endif
