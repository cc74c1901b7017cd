/*
 * master_sig.c - turn signals into events (self-pipe).
 *
 * The handlers only write the signal number into a non-blocking pipe; the
 * event loop reads it and does the work outside signal context:
 * SIGCHLD reaps children, SIGHUP reloads the configuration, SIGTERM and
 * SIGINT stop master and all its children.  SIGPIPE is ignored.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <signal.h>
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "master.h"

static int master_sig_pipe[2] = {-1, -1};

static void master_sig_handler(int sig)
{
    int     saved = errno;
    unsigned char ch = (unsigned char) sig;

    if (write(master_sig_pipe[1], &ch, 1) < 0) {
	/* pipe full: the pending bytes will wake the loop anyway */
    }
    errno = saved;
}

static void master_sig_event(int event, void *context)
{
    unsigned char buf[64];
    ssize_t n;
    ssize_t i;
    int     reap = 0;
    int     reload = 0;

    while ((n = read(master_sig_pipe[0], buf, sizeof(buf))) > 0) {
	for (i = 0; i < n; i++) {
	    if (buf[i] == SIGTERM || buf[i] == SIGINT)
		master_terminate(buf[i]);
	    else if (buf[i] == SIGHUP)
		reload = 1;
	    else if (buf[i] == SIGCHLD)
		reap = 1;
	}
    }
    if (reap)
	master_reap_children();
    if (reload)
	master_reload();
}

void    master_sig_init(void)
{
    struct sigaction sa;

    if (pipe2(master_sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
	msg_fatal("pipe: %m");
    event_enable_read(master_sig_pipe[0], master_sig_event, 0);
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = master_sig_handler;
    if (sigaction(SIGCHLD, &sa, (struct sigaction *) 0) < 0
	|| sigaction(SIGHUP, &sa, (struct sigaction *) 0) < 0
	|| sigaction(SIGTERM, &sa, (struct sigaction *) 0) < 0
	|| sigaction(SIGINT, &sa, (struct sigaction *) 0) < 0)
	msg_fatal("sigaction: %m");
    signal(SIGPIPE, SIG_IGN);
}
