/*
 * local.h - the local delivery agent's internal interfaces.
 *
 * local.c reads a delivery request and, per recipient, expands it
 * (local_expand.c): Delivered-To loop check, alias_maps (local_alias.c),
 * .forward and :include: files (local_forward.c), down to leaves: a
 * mailbox (local_resolve.c finds it, local_deliver.c writes it as its
 * owner), a file (local_file.c), a command (local_command.c) or an
 * address elsewhere (local_resubmit.c writes a new queue file), or a
 * mailbox that mailbox_transport / fallback_transport hand to another
 * agent (local_transport.c, e.g. lmtp to Dovecot).  Each
 * leaf's outcome is kept in a LOCAL_DELIVERY; when every leaf is done the
 * recipient is marked done in the queue file, the leaves are logged, and
 * the worst outcome (defer > bounce > sent) is the reply to qmgr.
 */
#ifndef LOCAL_H
#define LOCAL_H

#include "sys_defs.h"
#include "vstring.h"
#include "vstream.h"
#include "qfile.h"
#include "deliver_request.h"
#include "mailbox.h"
#include "addr_list.h"
#include "user.h"

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
    int     file;			/* a /file destination */
} LOCAL_DEST;

/* One request being served */
typedef struct LOCAL_STATE {
    DELIVER_REQUEST *req;
    VSTREAM *qfile;			/* the queue file, O_RDWR */
    QENV    env;			/* enough of an envelope to read content */
    ADDR_LIST delivered;		/* Delivered-To: values, lower case */
    int     delivered_read;		/* 1: read; -1: could not read */
    MAILDIR_SYNC *dirsync;		/* new/ directories to fsync (local.c) */
} LOCAL_STATE;

/* The rights of commands and files of one expansion */
typedef struct LOCAL_PRIV {
    uid_t   uid;
    gid_t   gid;
    char   *user;			/* USER, LOGNAME ("" if unknown) */
    char   *home;			/* HOME ("" if unknown) */
    char   *shell;			/* SHELL ("" if unknown) */
} LOCAL_PRIV;

/* Expansion types, as allow_mail_to_commands/files name them */
#define LOCAL_EXP_NONE		0	/* the recipient itself */
#define LOCAL_EXP_ALIAS		1
#define LOCAL_EXP_FORWARD	2
#define LOCAL_EXP_INCLUDE	3

/* One level of expansion: an alias, a .forward or an :include: file */
typedef struct LOCAL_EXP {
    const struct LOCAL_EXP *parent;
    int     type;			/* LOCAL_EXP_* */
    const char *name;			/* alias name, user name, include path */
    const char *addr;			/* the address being expanded */
    const LOCAL_PRIV *priv;		/* rights for files read, commands, files */
    const char *sender;			/* sender of forwarded copies */
    int     level;
} LOCAL_EXP;

#define LOCAL_MAX_LEVEL		100	/* expansion depth (Postfix: 100) */
#define LOCAL_MAX_LEAVES	1000	/* destinations of one recipient */

/* One leaf's outcome, logged after the recipient's done mark */
typedef struct LOCAL_LOG {
    char   *to;
    int     status;
    char   *dsn;
    char   *reason;
    int     logged;			/* the agent it was passed to logged it */
} LOCAL_LOG;

/* Everything about one recipient's delivery */
typedef struct LOCAL_DELIVERY {
    LOCAL_STATE *state;
    const DELIVER_RCPT *rcpt;
    LOCAL_RESULT *result;		/* the worst outcome so far */
    int     leaves;
    ADDR_LIST seen;			/* destinations handled (duplicates) */
    ADDR_LIST fwd_addrs;		/* addresses to resubmit ... */
    ADDR_LIST fwd_senders;		/* ... and their senders */
    LOCAL_LOG *logs;
    int     log_count;
    int     log_size;
    int     passed;			/* a destination went to another agent */
    const char *passed_action;		/* ... whose DSN success action */
} LOCAL_DELIVERY;

/* local_expand.c */
void	local_expand_rcpt(LOCAL_DELIVERY *d);
void	local_expand_list(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *text);
void	local_expand_addr(LOCAL_DELIVERY *d, const LOCAL_EXP *parent, const char *addr);
/* local_leaf - record one destination's outcome */
void	local_leaf(LOCAL_DELIVERY *d, const char *to, int status, const char *dsn,
		           const char *fmt,...) PRINTFLIKE(5, 6);
void	local_leaf_result(LOCAL_DELIVERY *d, const char *to, const LOCAL_RESULT *result);
/* local_leaf_passed - the same for an outcome the other agent has logged */
void	local_leaf_passed(LOCAL_DELIVERY *d, const char *to, const LOCAL_RESULT *result);
/* local_seen - 1 if KIND:NAME was handled before, else remember it, 0 */
int	local_seen(LOCAL_DELIVERY *d, const char *kind, const char *name);
/* local_allowed - is EXP's type listed in parameter PARAM? */
int	local_allowed(const char *param, const LOCAL_EXP *exp);

/* local_alias.c */
/* local_alias_find - 1 found (VALUE, PRIV of the table), 0 none, -1 table error */
int	local_alias_find(const char *name, VSTRING *value, LOCAL_PRIV *priv);
/* local_priv_* - rights of a user, of a file's owner, of default_privs */
void	local_priv_user(LOCAL_PRIV *priv, const USER_INFO *user);
void	local_priv_copy(LOCAL_PRIV *priv, const LOCAL_PRIV *from);
int	local_priv_owner(LOCAL_PRIV *priv, uid_t uid, gid_t gid, VSTRING *why);
int	local_priv_default(LOCAL_PRIV *priv, VSTRING *why);
/* local_priv_nonroot - EXP's rights, or default_privs for root; NULL: deferred */
const LOCAL_PRIV *local_priv_nonroot(LOCAL_DELIVERY *d, const LOCAL_EXP *exp,
				             LOCAL_PRIV *def);
void	local_priv_free(LOCAL_PRIV *priv);

/* local_forward.c */
/* local_forward - 1: USER's .forward handled the mail; 0: none, deliver */
int	local_forward(LOCAL_DELIVERY *d, const LOCAL_EXP *parent, const char *addr,
		              const USER_INFO *user);
/* local_user_expand - PATTERN's $home $user $shell $local $domain
 * $recipient $extension $recipient_delimiter for USER at ADDR into OUT */
void	local_user_expand(VSTRING *out, const char *pattern, const char *addr,
			          const USER_INFO *user);
void	local_include(LOCAL_DELIVERY *d, const LOCAL_EXP *parent, const char *path);

/* local_command.c, local_file.c */
void	local_command(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *command);
/* local_mailbox_command - mailbox_command: as EXP's user, not subject to
 * allow_mail_to_commands */
void	local_mailbox_command(LOCAL_DELIVERY *d, const LOCAL_EXP *exp,
			              const char *command);
void	local_file(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *path);

/* local_transport.c */
/* local_transport - hand destination ADDR to "transport[:nexthop]" VALUE */
void	local_transport(LOCAL_DELIVERY *d, const char *addr, const char *value);

/* local_resubmit.c */
void	local_resubmit_add(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *addr);
void	local_resubmit(LOCAL_DELIVERY *d);

/* local_delivered.c */
/* local_delivered_find - 1: a Delivered-To: header names ADDR; 0 no; -1 read error */
int	local_delivered_find(LOCAL_STATE *state, const char *addr, VSTRING *why);

/* local_resolve.c */
/* local_user_dest - USER's mailbox; 0, or -1 with RESULT set */
int	local_user_dest(const char *name, const USER_INFO *user, LOCAL_DEST *dest,
			        LOCAL_RESULT *result);
/* local_virtual_dest - a virtual mailbox; 0, or -1 with RESULT set */
int	local_virtual_dest(const char *addr, LOCAL_DEST *dest, LOCAL_RESULT *result);

/* local_deliver.c */
extern int local_is_root;		/* started as root: switch ids per delivery */

/* The message as delivered: our headers, then the queued content */
typedef struct LOCAL_SOURCE {
    LOCAL_STATE *state;
    const char *rcpt;			/* for Delivered-To */
    int     from_line;			/* start with "From sender date" */
    int     read_error;			/* the queue file could not be read */
    VSTRING *why;
} LOCAL_SOURCE;

/* local_source - a MAILBOX_SOURCE; CTX is a LOCAL_SOURCE */
int	local_source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx);
/* local_become_ids - effective ids UID/GID (root only); fatal on failure */
int	local_become_ids(uid_t uid, gid_t gid);
/* local_restore - back to mail_owner's effective ids; fatal on failure */
void	local_restore(void);
/* local_deliver - write the message into DEST; 0 or -1 with RESULT set */
int	local_deliver(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
		              const LOCAL_DEST *dest, LOCAL_RESULT *result);

/* local.c */
void	local_result(LOCAL_RESULT *result, int status, const char *dsn,
		             const char *fmt,...) PRINTFLIKE(4, 5);

#endif
