/*
 * maildrop.h - the files sendmail leaves in maildrop/ when the mail
 * system cannot take a message now, and pickup reads.
 *
 * maildrop/ is mode 3733, owned by mail_owner and its group: any local
 * user may create a file there but cannot list the directory or remove
 * another user's file (sticky), and each file gets the directory's group
 * (set-gid), so that mode 0640 lets pickup (mail_owner) read it and no
 * other user.  No program runs set-uid or set-gid.
 *
 * Writer (sendmail, as the user):
 *	MAILDROP *md = maildrop_create(&id);	 maildrop/ID, mode 0640
 *	maildrop_sender(md, sender, given);	 GIVEN: from -f (else the
 *						 reader takes the login name)
 *	maildrop_attr(md, "dsn_envid", value);	 dsn_envid dsn_ret full_name verify
 *	maildrop_rcpt(md, rcpt, notify);	 NOTIFY= list or NULL
 *	maildrop_content(md, data, len);	 the message, LF line ends
 *	maildrop_commit(md);			 0: complete (mode 0750)
 *	maildrop_abort(md);
 *
 * Reader (pickup, as mail_owner): maildrop_read(fd, &msg, why) checks
 * every record of an open file and fills a MAILDROP_MSG; the caller has
 * checked the file itself (maildrop_trust()).  The identity of the user
 * is the file's owner, never what the file says: the uid it records is
 * only compared (a mismatch is logged).
 */
#ifndef MAILDROP_H
#define MAILDROP_H

#include "sys_defs.h"
#include <sys/stat.h>
#include "vstream.h"
#include "vstring.h"

#define MAILDROP_FILE_MODE	0640	/* being written */
#define MAILDROP_READY_MODE	0750	/* complete (owner x bit) */

typedef struct MAILDROP MAILDROP;

MAILDROP *maildrop_create(VSTRING *id);	/* NULL with errno */
void	maildrop_sender(MAILDROP *md, const char *sender, int given);
void	maildrop_attr(MAILDROP *md, const char *name, const char *value);
void	maildrop_rcpt(MAILDROP *md, const char *rcpt, const char *notify);
void	maildrop_content(MAILDROP *md, const char *data, size_t len);
int	maildrop_commit(MAILDROP *md);		/* 0, or -1 with errno (removed) */
void	maildrop_abort(MAILDROP *md);

typedef struct MAILDROP_MSG {
    long    uid;			/* what the file claims (-1: nothing) */
    char   *sender;			/* -f sender, or NULL: the owner's login */
    char  **attr_names;			/* dsn_envid dsn_ret full_name verify */
    char  **attr_values;
    int     attr_count;
    char  **rcpts;
    char  **notify;			/* per recipient, or NULL */
    int     rcpt_count;
    VSTRING *content;			/* LF line ends */
} MAILDROP_MSG;

/*
 * maildrop_trust - may pickup take the open file FD (name NAME) at all?
 * A regular file, one link, complete, of at most SIZE_LIMIT bytes.  0
 * with *ST filled in, or -1 with the reason in WHY.
 */
int	maildrop_trust(int fd, const char *name, long size_limit, struct stat *st,
		               VSTRING *why);

/* maildrop_read - the whole file from STREAM; 0, or -1 with WHY */
int	maildrop_read(VSTREAM *stream, MAILDROP_MSG *msg, long size_limit, VSTRING *why);
void	maildrop_msg_free(MAILDROP_MSG *msg);
const char *maildrop_msg_attr(const MAILDROP_MSG *msg, const char *name);

#endif
