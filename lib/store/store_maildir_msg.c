/*
 * store_maildir_msg.c - the Maildir driver's message functions: reading
 * a message, its sizes, expunge, flag changes and append.
 *
 * A message file is opened relative to the folder's open new/ or cur/
 * with O_NOFOLLOW (and O_NONBLOCK, so a FIFO swapped in cannot hang us)
 * and must be a regular file.  When it is not where the view says,
 * another process renamed it for a flag change: it is looked for by its
 * base name once before the operation fails (a message of a view taken
 * from the index gets its name first: maildir_msg_name).  Flag changes
 * rename the file into cur/ with the new info part; when another session
 * (of this host or another sharing the Maildir) renamed it first, the
 * change is made again on the flags its new name has, so that neither
 * session's change is lost (the rename is the only lock); expunge unlinks it
 * and drops its UID from the uidlist under the lock; append writes with
 * maildir_write() and numbers the message under the lock at once
 * (UIDPLUS).  An appended
 * message goes to new/ also when it has flags (with its info part, which
 * Dovecot reads there too): a message is \Recent for the view that first
 * finds it in new/, and RFC 3501 wants an appended message \Recent.
 */
#include "sys_defs.h"

#include <fcntl.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"
#include "maildir_name.h"
#include "maildir_uidlist.h"
#include "store_maildir_priv.h"

/* msg_openat - open MSG's file (looking for it when renamed); fd or -1 */

static int msg_openat(STORE_FOLDER *folder, STORE_MSG *msg, struct stat *st,
		              VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    const char *name;
    int     sub;
    int     fd;
    int     tries;

    if (maildir_msg_name(folder, msg, why) < 0)
	return (-1);
    for (tries = 0; /* void */ ; tries++) {
	sub = maildir_msg_sub(msg, &name);
	/* O_NONBLOCK: a FIFO swapped in must not hang the open */
	if ((fd = openat(priv->sub_fd[sub], name, O_RDONLY | O_NOFOLLOW
			 | O_NONBLOCK | O_CLOEXEC)) >= 0)
	    break;
	if (errno != ENOENT || tries > 0) {
	    vstring_sprintf(why, "open %s/%s: %m", folder->path, msg->file);
	    return (-1);
	}
	if (maildir_relocate(folder, msg, why) < 0)
	    return (-1);
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
	vstring_sprintf(why, "%s/%s is not a regular file", folder->path,
			msg->file);
	(void) close(fd);
	return (-1);
    }
    return (fd);
}

/* The stream of one message file */

typedef struct MAILDIR_STREAM {
    STORE_STREAM stream;
    int     fd;
} MAILDIR_STREAM;

static ssize_t maildir_stream_read(STORE_STREAM *stream, char *buf, size_t len)
{
    MAILDIR_STREAM *ms = (MAILDIR_STREAM *) stream->priv;
    ssize_t n;

    while ((n = read(ms->fd, buf, len)) < 0 && errno == EINTR)
	 /* void */ ;
    return (n);
}

static void maildir_stream_close(STORE_STREAM *stream)
{
    MAILDIR_STREAM *ms = (MAILDIR_STREAM *) stream->priv;

    (void) close(ms->fd);
    myfree(ms);
}

STORE_STREAM *maildir_msg_open(STORE_FOLDER *folder, STORE_MSG *msg,
			               VSTRING *why)
{
    MAILDIR_STREAM *ms;
    struct stat st;
    int     fd;

    if ((fd = msg_openat(folder, msg, &st, why)) < 0)
	return (0);
    ms = (MAILDIR_STREAM *) mymalloc(sizeof(*ms));
    ms->fd = fd;
    ms->stream.read = maildir_stream_read;
    ms->stream.close = maildir_stream_close;
    ms->stream.priv = ms;
    return (&ms->stream);
}

/* msg_count_lines - the LFs without a CR before them in the file on FD
 * (each becomes CRLF in the IMAP form), and its bytes; 0 or -1 */

static int msg_count_lines(int fd, off_t *bytes, off_t *lines)
{
    char    buf[65536];
    const char *cp, *end;
    int     last = -1;
    ssize_t n;

    *bytes = *lines = 0;
    for (;;) {
	if ((n = read(fd, buf, sizeof(buf))) < 0) {
	    if (errno == EINTR)
		continue;
	    return (-1);
	}
	if (n == 0)
	    return (0);
	*bytes += n;
	for (cp = buf, end = buf + n; (cp = memchr(cp, '\n', end - cp)) != 0;
	     cp++)
	    if ((cp > buf ? (unsigned char) cp[-1] : last) != '\r')
		(*lines)++;
	last = (unsigned char) buf[n - 1];
    }
}

/* maildir_msg_stat - size (stat), vsize (counted), received (mtime) */

int     maildir_msg_stat(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    struct stat st;
    off_t   bytes, lines;
    int     fd;

    if ((fd = msg_openat(folder, msg, &st, why)) < 0)
	return (-1);
    if (msg->size < 0)
	msg->size = st.st_size;
    if (msg->received < 0)
	msg->received = st.st_mtime;
    if (msg->vsize < 0) {
	if (msg_count_lines(fd, &bytes, &lines) < 0) {
	    vstring_sprintf(why, "read %s/%s: %m", folder->path, msg->file);
	    (void) close(fd);
	    return (-1);
	}
	msg->vsize = bytes + lines;		/* each bare LF becomes CRLF */
    }
    (void) close(fd);
    return (0);
}

/*
 * Changes.
 */

/* msg_unlink - remove MSG's file; 0 (also when already gone) or -1 */

static int msg_unlink(STORE_FOLDER *folder, STORE_MSG *msg, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    const char *name;
    int     sub;
    int     tries;

    if (maildir_msg_name(folder, msg, why) < 0)
	return (errno == ENOENT ? 0 : -1);
    for (tries = 0; /* void */ ; tries++) {
	sub = maildir_msg_sub(msg, &name);
	if (unlinkat(priv->sub_fd[sub], name, 0) == 0)
	    return (0);
	if (errno != ENOENT || tries > 0) {
	    vstring_sprintf(why, "remove %s/%s: %m", folder->path, msg->file);
	    return (-1);
	}
	if (maildir_relocate(folder, msg, why) < 0)
	    return (errno == ENOENT ? 0 : -1);
    }
}

/* expunge_uidlist - drop UIDS from the uidlist (stale entries are harmless) */

static void expunge_uidlist(STORE_FOLDER *folder, const unsigned *uids,
			            int count)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    VSTRING *why = vstring_alloc(100);
    int     dropped = 0;
    int     i;

    if (maildir_folder_lock(folder, why) < 0) {
	msg_warn("%s: expunged UIDs stay in the UID list: %s", folder->path,
		 STR(why));
	vstring_free(why);
	return;
    }
    if (priv->uidlist->uidvalidity == folder->uidvalidity)
	for (i = 0; i < count; i++)
	    dropped += maildir_uidlist_drop(priv->uidlist, uids[i]);
    if (dropped && maildir_folder_save(folder, why) < 0)
	msg_warn("%s: expunged UIDs stay in the UID list: %s", folder->path,
		 STR(why));
    maildir_folder_unlock(folder);
    vstring_free(why);
}

int     maildir_expunge(STORE_FOLDER *folder, const unsigned *uids,
			        int count, VSTRING *why)
{
    unsigned char *gone = (unsigned char *) mycalloc(folder->count + 1, 1);
    unsigned *removed = (unsigned *) mymalloc(sizeof(*removed) * (count + 1));
    VSTRING *reason = vstring_alloc(100);
    int     nremoved = 0;
    int     ret = 0;
    int     i, seq;

    for (i = 0; i < count; i++) {
	if ((seq = store_uid_seq(folder, uids[i])) == 0 || gone[seq - 1])
	    continue;
	if (msg_unlink(folder, folder->msgs + seq - 1, reason) < 0) {
	    if (ret == 0)
		vstring_strcpy(why, STR(reason));
	    ret = -1;
	    continue;
	}
	gone[seq - 1] = 1;
	removed[nremoved++] = uids[i];
    }
    maildir_drop_marked(folder, gone);
    if (nremoved > 0)
	expunge_uidlist(folder, removed, nremoved);
    vstring_free(reason);
    myfree(removed);
    myfree(gone);
    return (ret);
}

/* msg_target - BASE of NAME plus the info for FLAGS and KEYWORDS */

static void msg_target(VSTRING *target, const char *name, unsigned flags,
		               unsigned keywords)
{
    VSTRING *info = vstring_alloc(40);

    maildir_name_info(info, name, flags, keywords);
    vstring_strncpy(target, name, maildir_base_len(name));
    vstring_strcat(target, STR(info));
    vstring_free(info);
}

/* keywords_ok - KEYWORDS has no bit beyond the 26 letters */

static int keywords_ok(unsigned keywords, VSTRING *why)
{
    if (keywords >> STORE_MAX_KEYWORDS) {
	vstring_sprintf(why, "keyword bits 0x%x out of range", keywords);
	return (0);
    }
    return (1);
}

/*
 * MAILDIR_DELTA - what a flag change adds and removes, so that it can be
 * made again on flags that another session changed in the meantime
 */
typedef struct MAILDIR_DELTA {
    unsigned add_flags, del_flags;
    unsigned add_keywords, del_keywords;
} MAILDIR_DELTA;

/* delta_reapply - the change on the flags of NAME, the file as it is now */

static void delta_reapply(const MAILDIR_DELTA *d, const char *name,
			          unsigned *flags, unsigned *keywords)
{
    unsigned now_flags, now_keywords;

    maildir_name_flags(name, &now_flags, &now_keywords);
    *flags = (now_flags | d->add_flags) & ~d->del_flags;
    *keywords = (now_keywords | d->add_keywords) & ~d->del_keywords;
}

int     maildir_set_flags(STORE_FOLDER *folder, STORE_MSG *msg,
			          unsigned flags, unsigned keywords, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    unsigned old_flags = msg->flags & ~STORE_RECENT;
    MAILDIR_DELTA delta;
    VSTRING *target;
    const char *name;
    int     sub;
    int     tries;

    if (!keywords_ok(keywords, why) || maildir_msg_name(folder, msg, why) < 0)
	return (-1);
    delta.add_flags = flags & ~old_flags;
    delta.del_flags = old_flags & ~flags;
    delta.add_keywords = keywords & ~msg->keywords;
    delta.del_keywords = msg->keywords & ~keywords;
    target = vstring_alloc(100);
    for (tries = 0; /* void */ ; tries++) {
	sub = maildir_msg_sub(msg, &name);
	if (tries > 0)				/* renamed by another session */
	    delta_reapply(&delta, name, &flags, &keywords);
	msg_target(target, name, flags, keywords);
	if (sub == MAILDIR_SUB_CUR && strcmp(STR(target), name) == 0)
	    break;
	if (renameat(priv->sub_fd[sub], name, priv->sub_fd[MAILDIR_SUB_CUR],
		     STR(target)) == 0) {
	    myfree(msg->file);
	    msg->file = maildir_msg_file(MAILDIR_SUB_CUR, STR(target));
	    break;
	}
	if (errno != ENOENT || tries > 0) {
	    vstring_sprintf(why, "rename %s/%s to cur/%s: %m", folder->path,
			    msg->file, STR(target));
	    vstring_free(target);
	    return (-1);
	}
	if (maildir_relocate(folder, msg, why) < 0) {
	    vstring_free(target);
	    return (-1);
	}
    }
    vstring_free(target);
    msg->flags = flags | (msg->flags & STORE_RECENT);
    msg->keywords = keywords;
    return (0);
}

/* append_uid - the UID of the file NAME just written, under the lock */

static int append_uid(STORE_FOLDER *folder, const char *name, unsigned *uid,
		              VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    const MAILDIR_UIDREC *rec;
    size_t  base_len = maildir_base_len(name);
    int     ret = 0;

    if (maildir_folder_lock(folder, why) < 0)
	return (-1);
    /* Another session's sync may have numbered it already */
    if ((rec = maildir_uidlist_lookup(priv->uidlist, name, base_len)) != 0) {
	*uid = rec->uid;
	if (priv->uidlist_new)
	    ret = maildir_folder_save(folder, why);
    } else if ((*uid = maildir_uidlist_add(priv->uidlist, name, base_len,
					   "")) == 0) {
	vstring_sprintf(why, "%s: no UIDs left", folder->path);
	maildir_folder_forget(priv);
	ret = -1;
    } else {
	ret = maildir_folder_save(folder, why);
    }
    maildir_folder_unlock(folder);
    return (ret);
}

int     maildir_append(STORE_FOLDER *folder, MAILBOX_SOURCE source,
		               void *ctx, unsigned flags, unsigned keywords,
		               time_t received, unsigned *uid, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    VSTRING *info;
    VSTRING *name;
    int     temporary;
    int     ret = -1;

    if (!keywords_ok(keywords, why))
	return (-1);
    info = vstring_alloc(40);
    name = vstring_alloc(100);
    if (flags || keywords)
	maildir_name_info(info, "", flags, keywords);
    if (maildir_write(folder->path, (uid_t) -1, MAILDIR_NEW, STR(info), received,
		      source, ctx, name, why, &temporary) == 0) {
	if (append_uid(folder, STR(name), uid, why) == 0)
	    ret = 0;
	else if (unlinkat(priv->sub_fd[MAILDIR_SUB_NEW], STR(name), 0) < 0)
	    msg_warn("remove %s/new/%s: %m", folder->path, STR(name));
    }
    vstring_free(info);
    vstring_free(name);
    return (ret);
}
