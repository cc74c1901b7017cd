/*
 * master.h - the master daemon's services, processes and internal calls.
 *
 * master.c         main: configuration, pid file lock, detach, event loop
 * master_service.c services from master.cf: listeners, reload merging
 * master_spawn.c   children: fork+exec, status records, reaping, back-off
 * master_wakeup.c  periodic one-byte wakeups of services (qmgr)
 * master_sig.c     signals turned into events with a self-pipe
 */
#ifndef MASTER_H
#define MASTER_H

#include "sys_defs.h"
#include "master_cf.h"

typedef struct MASTER_SERV {
    char   *name;			/* service column */
    int     type;			/* MASTER_CF_INET or MASTER_CF_UNIX */
    int     unpriv;			/* -u */
    int     chroot;			/* -z */
    int     wakeup;			/* seconds, 0 = none */
    int     wakeup_cond;		/* only wake while processes exist */
    int     maxproc;			/* 0 = no limit */
    char   *path;			/* program to run */
    char  **argv;			/* master.cf command and arguments */
    char   *addr;			/* listen address: host:port or public/NAME */
    int     listen_fd;
    int     listening;		/* listen_fd registered for spawning */
    int     status_fd;		/* master's end of the status socketpair */
    int     child_status_fd;		/* the end handed to children as fd 5 */
    unsigned gen;			/* generation of current children */
    int     total_proc;			/* children of this generation */
    int     avail_proc;			/* of those, ready to take a client */
    int     throttled;			/* spawning paused after failures */
    int     throttle_delay;		/* seconds of the last back-off */
    int     claimed;			/* reload bookkeeping */
    struct MASTER_SERV *next;
} MASTER_SERV;

typedef struct MASTER_PROC {
    pid_t   pid;
    unsigned gen;
    MASTER_SERV *serv;			/* NULL once detached by a reload */
    char   *path;			/* for log messages */
    int     avail;			/* counted in serv->avail_proc */
    int     used;			/* has reported at least once */
    struct MASTER_PROC *next;
} MASTER_PROC;

extern MASTER_SERV *master_services;
extern MASTER_PROC *master_procs;
extern unsigned master_generation;
extern int master_stopping;

/* master_service.c */
int	master_config(int reload);		/* 0 ok, -1 kept old (reload) */
void	master_reload(void);
void	master_close_listeners(void);

/* master_spawn.c */
void	master_avail_listen(MASTER_SERV *serv);
void	master_status_open(MASTER_SERV *serv);
void	master_status_close(MASTER_SERV *serv);
void	master_detach_children(MASTER_SERV *serv);
void	master_reap_children(void);
void	master_throttle_cancel(MASTER_SERV *serv);
void	master_kill_children(void);

/* master_wakeup.c */
void	master_wakeup_start(MASTER_SERV *serv);
void	master_wakeup_cancel(MASTER_SERV *serv);

/* master_sig.c */
void	master_sig_init(void);

/* master.c */
NORETURN master_terminate(int sig);

#endif
