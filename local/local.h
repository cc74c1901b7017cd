/*
 * local.h - the local delivery agent's internal interfaces.
 *
 * local.c reads a delivery request and, per recipient, resolves it
 * (local_resolve.c) to a mailbox with an owner, delivers the queue file's
 * content there with the owner's privileges (local_deliver.c), marks the
 * recipient done in the queue file, logs, and replies to qmgr.
 */
#ifndef LOCAL_H
#define LOCAL_H

#include "sys_defs.h"
#include "vstring.h"
#include "vstream.h"
#include "qfile.h"
#include "deliver_request.h"

/* The outcome of one step for one recipient */
typedef struct LOCAL_RESULT {
    int     status;			/* DELIVER_STAT_OK/DEFER/BOUNCE */
    const char *dsn;			/* "2.0.0", "4.3.0", "5.1.1" ... */
    VSTRING *reason;
} LOCAL_RESULT;

#define LOCAL_MAILBOX_MBOX	1
#define LOCAL_MAILBOX_MAILDIR	2

/* Where one recipient's mail goes, and as whom */
typedef struct LOCAL_DEST {
    int     kind;			/* LOCAL_MAILBOX_* */
    VSTRING *path;			/* mbox file or Maildir (ends in '/') */
    uid_t   uid;
    gid_t   gid;
    int     virtual;			/* virtual mailbox: create parent dirs */
    int     spool;			/* in mail_spool_directory */
} LOCAL_DEST;

/* One request being served */
typedef struct LOCAL_STATE {
    DELIVER_REQUEST *req;
    VSTREAM *qfile;			/* the queue file, O_RDWR */
    QENV    env;			/* enough of an envelope to read content */
} LOCAL_STATE;

/* local_resolve.c */
/* local_resolve - 0 with DEST filled in, or -1 with RESULT set */
int	local_resolve(const char *rcpt, LOCAL_DEST *dest, LOCAL_RESULT *result);

/* local_deliver.c */
extern int local_is_root;		/* started as root: switch ids per delivery */
/* local_deliver - write the message into DEST; 0 or -1 with RESULT set */
int	local_deliver(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
		              const LOCAL_DEST *dest, LOCAL_RESULT *result);

/* local.c */
void	local_result(LOCAL_RESULT *result, int status, const char *dsn,
		             const char *fmt,...) PRINTFLIKE(4, 5);

#endif
