/*
 * store_maildir_priv.h - the insides of the Maildir driver of store.h,
 * shared by its files and used by nothing else:
 *   store_maildir.c           open, close, sync, directory scans, the
 *                             cached uidlist and its lock;
 *   store_maildir_msg.c       reading messages, expunge, flags, append;
 *   store_maildir_keywords.c  dovecot-keywords.
 */
#ifndef STORE_MAILDIR_PRIV_H
#define STORE_MAILDIR_PRIV_H

#include "sys_defs.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"
#include "maildir_uidlist.h"

#define MAILDIR_SUB_NEW		0	/* index of new/ in sub_fd[] */
#define MAILDIR_SUB_CUR		1	/* index of cur/ */

typedef struct MAILDIR_PRIV {
    int     dir_fd;			/* the Maildir */
    int     sub_fd[2];			/* new/, cur/ */
    MAILDIR_UIDLIST *uidlist;		/* as last read, written, assigned */
    struct stat uidlist_st;		/* the file it came from (0: none) */
    int     uidlist_new;		/* made here, not written yet */
    struct stat keywords_st;		/* dovecot-keywords as last read */
    /* What the last full scan saw, so that a sync can skip the next one */
    struct stat sub_st[2];		/* new/, cur/ just before it */
    int     scan_clean;			/* the view is its result, and both
					 * directories were old enough then */
    int     uidlist_read;		/* the list was read since it began */
    int     view_new;			/* the view may have files in new/ */
    /* A view taken from the index (maildir_adopt) */
    int     list_lazy;			/* the list is uidlist_st's, unread */
    int     names_lazy;			/* messages may lack file names, or
					 * have ones made from their flags */
} MAILDIR_PRIV;

#define MAILDIR_PRIV_OF(folder)	((MAILDIR_PRIV *) (folder)->priv)

/* store_maildir.c: message files */
extern const char *maildir_subs[2];	/* "new", "cur" */
int	maildir_msg_sub(const STORE_MSG *msg, const char **name);
char   *maildir_msg_file(int sub, const char *name);
int	maildir_msg_name(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);
int	maildir_relocate(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);
void	maildir_drop_marked(STORE_FOLDER *folder, const unsigned char *gone);

/* store_maildir.c: the uidlist, cached in the folder, and its lock */
int	maildir_folder_lock(STORE_FOLDER *folder, VSTRING *why);
void	maildir_folder_unlock(STORE_FOLDER *folder);
int	maildir_folder_save(STORE_FOLDER *folder, VSTRING *why);
void	maildir_folder_forget(MAILDIR_PRIV *priv);

/* For tests: how often a sync or a search read new/ and cur/; the
 * seconds a directory's stamps must be old to be trusted (2) */
extern int maildir_dir_scans;
extern int maildir_stamp_slack;

/* store_maildir_keywords.c */
int	maildir_keywords_refresh(STORE_FOLDER *folder, VSTRING *why);
int	maildir_keywords_save(STORE_FOLDER *folder, VSTRING *why);

/* store_maildir_msg.c: the driver's message functions */
STORE_STREAM *maildir_msg_open(STORE_FOLDER *folder, STORE_MSG *msg,
			               VSTRING *why);
int	maildir_msg_stat(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why);
int	maildir_expunge(STORE_FOLDER *folder, const unsigned *uids, int count,
			        VSTRING *why);
int	maildir_set_flags(STORE_FOLDER *folder, STORE_MSG *msg, unsigned flags,
			          unsigned keywords, VSTRING *why);
int	maildir_append(STORE_FOLDER *folder, MAILBOX_SOURCE source, void *ctx,
		               unsigned flags, unsigned keywords, time_t received,
		               unsigned *uid, VSTRING *why);

#endif
