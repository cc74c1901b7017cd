/*
 * mail_server.h - the server skeleton every daemon's main() uses.
 *
 * master forks a daemon with the listening socket on MASTER_LISTEN_FD and
 * a status pipe on MASTER_STATUS_FD, and runs it as
 *     COMMAND -n SERVICE -t TYPE [-u] [-z] [-o name=value]... [-v] [args]
 * (-u: drop to mail_owner; -z: chroot into queue_directory; -o: parameter
 * override).  The skeleton parses that, reads main.cf, opens the log,
 * calls pre_init (still root: open tables, files), chdirs to the queue,
 * drops privileges, calls post_init, and then serves:
 *
 *  single_server_main: one client at a time.  SERVICE gets a stream on
 *   the accepted connection; the skeleton closes it afterwards.  The
 *   process exits after max_use clients or max_idle idle seconds (counted
 *   from the last client).  While it waits, ops->idle_wait_ms may ask for
 *   control after a while: ops->idle_timeout then runs, and the wait goes
 *   on (the smtp client closes its idle cached connections there).
 *
 *  event_server_main: many clients in one event loop.  ACCEPT_FN gets
 *   each new descriptor (non-blocking); the service calls
 *   event_server_disconnect(fd) when it closes one.  The process reports
 *   itself available to master while it has fewer than SOFT_LIMIT clients;
 *   at HARD_LIMIT it still accepts, but hands the descriptor to REJECT_FN
 *   (e.g. "421 4.3.2 All server ports are busy") instead.
 *
 * When master closes the status pipe (reload, stop), or a table it read
 * changed (ops->changed), the process stops accepting and exits once its
 * clients are gone (and ops->busy says no other work is left).  Without master (no
 * MASTER_STATUS_FD), "-S ADDRESS" runs a daemon standalone for debugging.
 *
 * The status "pipe" is a SOCK_SEQPACKET socketpair shared by all children
 * of one service generation: each report is one MASTER_STATUS record, and
 * since master never writes to it, the child sees EOF (readability) on
 * MASTER_STATUS_FD when master closes its end or dies.  master passes the
 * generation in the environment variable GENERATION.  A new child counts
 * as available until it reports; an event server sends one avail=1 record
 * at its first client (so master knows it started fine), then avail=0 at
 * SOFT_LIMIT clients and avail=1 again below it.
 *
 * max_idle and max_use are read after post_init, so a daemon that must not
 * exit while idle (qmgr) may raise them there with mail_conf_update().
 * Event server: SOFT_LIMIT 0 means process_client_soft_limit, HARD_LIMIT 0
 * means process_client_limit; it exits after max_idle with no clients.
 */
#ifndef MAIL_SERVER_H
#define MAIL_SERVER_H

#include "sys_defs.h"
#include "vstream.h"

#define MASTER_STATUS_FD	5	/* child -> master status pipe */
#define MASTER_LISTEN_FD	6	/* the service's listening socket */

typedef struct MASTER_STATUS {
    int     pid;
    unsigned generation;
    int     avail;			/* 1 = can take a client, 0 = busy */
} MASTER_STATUS;

typedef struct MAIL_SERVER_OPS {
    void    (*pre_init) (const char *service, char **argv);	/* as root */
    void    (*post_init) (const char *service, char **argv);	/* unprivileged */
    void    (*pre_exit) (void);
    void    (*sigterm) (void);		/* master stops us: async-signal-safe
					 * work before _exit(0) */
    int     soft_limit;			/* event server: report busy at this count (0: default) */
    int     hard_limit;			/* event server: reject at this count (0: default) */
    void    (*reject_fn) (int fd);	/* event server: over HARD_LIMIT (then closed) */
    int     keep_root;			/* real uid stays 0, effective ids are
					 * mail_owner's (local; lib/util/set_eugid.h) */
    /* what the process read at start changed (dict_changed_name): the
     * name; it finishes its work and exits (see mail_server.c) */
    const char *(*changed) (void);
    /* event server: work that is not a client goes on (a draining process
     * waits for it) */
    int     (*busy) (void);
    /* single server, optional: while waiting for a client, how long until
     * the service wants control (ms, -1: not at all); then idle_timeout
     * runs (smtp closes idle cached connections) */
    int     (*idle_wait_ms) (void);
    void    (*idle_timeout) (void);
} MAIL_SERVER_OPS;

typedef void (*SINGLE_SERVER_FN) (VSTREAM *client, const char *service, char **argv);
typedef void (*EVENT_SERVER_FN) (int fd, const char *service, char **argv);

NORETURN single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
			            const MAIL_SERVER_OPS *ops);
NORETURN event_server_main(int argc, char **argv, EVENT_SERVER_FN accept_fn,
			           const MAIL_SERVER_OPS *ops);

/*
 * mail_server_has_arg - WORD is among the service arguments (after the
 * options master passes): programs with more than one role (pop3d and
 * imapd's "postlogin") choose theirs before calling a *_server_main().
 */
int	mail_server_has_arg(int argc, char **argv, const char *word);

/* event_server_disconnect - close FD and count one client less */
void	event_server_disconnect(int fd);
int	event_server_client_count(void);
/* event_server_drain - true once master asked this process to exit */
int	event_server_draining(void);

/* The service's name (-n) and whether the peer is on a UNIX socket (-t unix) */
const char *mail_server_service(void);
int	mail_server_is_unix(void);

/* mail_server_drop_privileges - shared with master and tools: switch to
 * mail_owner (when root) and optionally chroot; warns once when not root */
void	mail_server_drop_privileges(int do_chroot);

#endif
