/*
 * local_deliver.c - writing one message into one mailbox, as its owner.
 *
 * local keeps a real uid of 0 but works with the effective ids of
 * mail_owner (lib/global/mail_server.c, keep_root); local_become_ids() takes the
 * ids of a user for a step and local_restore() goes back to mail_owner.
 * As Postfix's local(8):
 *   - Maildir (home_mailbox ending in '/', a virtual mailbox, a file
 *     destination ending in '/'): everything as the owner; the Maildir
 *     must belong to the owner (lib/store/mailbox.c checks every directory).
 *   - mbox in the owner's home, or a /file destination: opened, locked
 *     and written as the owner.
 *   - mbox in mail_spool_directory: opened and locked with the rights the
 *     spool directory asks for (world-writable: the recipient; group-
 *     writable: the recipient with the spool's group, Debian's root:mail
 *     2775; otherwise root, and a new file is given to the recipient with
 *     fchown), then written as the recipient.  The file must be owned by
 *     the recipient (strict_mailbox_ownership), else the mail is deferred
 *     with "destination ... is not owned by recipient".
 * Opening uses safe_open(): a symbolic link (unless root's), a hard link
 * or a file swapped in is refused.  /file destinations must not have an
 * executable bit.  Without root everything runs as ourselves and the
 * expected owner is ourselves.
 *
 * The content is "Return-Path: <sender>", "Delivered-To: <rcpt>" and then
 * the queue file's content, streamed to lib/store/mailbox.h's writers;
 * into an mbox without the headers IMAP servers keep there (X-UID,
 * X-IMAPbase, X-IMAP, Status, X-Status, X-Keywords, Content-Length), so
 * that no sender can set a message's flags or a folder's UIDs.
 *
 * Parameters: mail_owner, strict_mailbox_ownership.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "vstring.h"
#include "mailbox.h"
#include "mbox_parse.h"
#include "mail_conf.h"
#include "mail_owner.h"
#include "mail_proto.h"
#include "set_eugid.h"
#include "local.h"

int     local_is_root;

typedef struct LOCAL_COPY {
    MAILBOX_WRITE_FN write_fn;
    void   *sink;
    int     write_error;
} LOCAL_COPY;

/* local_header - append NAME: OPEN VALUE CLOSE\n, control characters replaced */

static void local_header(VSTRING *buf, const char *name, const char *open,
			         const char *value, const char *close)
{
    vstring_sprintf_append(buf, "%s: %s", name, open);
    for (const char *cp = value; *cp; cp++)
	vstring_addch(buf, iscntrl((unsigned char) *cp) ? '?' : *cp);
    vstring_sprintf_append(buf, "%s\n", close);
}

/* local_copy - qfile_read_content callback: pass content to the mailbox */

static int local_copy(const char *data, size_t len, void *ctx)
{
    LOCAL_COPY *copy = ctx;

    if (copy->write_fn(copy->sink, data, len) != 0) {
	copy->write_error = 1;
	return (1);
    }
    return (0);
}

/* local_source - MAILBOX_SOURCE: our headers, then the queued content */

int     local_source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    LOCAL_SOURCE *src = ctx;
    LOCAL_STATE *state = src->state;
    VSTRING *headers = vstring_alloc(200);
    LOCAL_COPY copy;
    time_t  arrival = state->req->stats.arrival.tv_sec;
    int     ret;

    if (src->from_line) {
	vstring_sprintf(headers, "From %s  %.24s\n", *state->req->sender ?
			state->req->sender : "MAILER-DAEMON", ctime(&arrival));
	for (char *cp = STR(headers); *cp; cp++)
	    if (iscntrl((unsigned char) *cp) && *cp != '\n')
		*cp = '?';
    }
    local_header(headers, "Return-Path", "<", state->req->sender, ">");
    local_header(headers, "Delivered-To", "", src->rcpt, "");
    ret = write_fn(sink, STR(headers), LEN(headers));
    vstring_free(headers);
    if (ret != 0)
	return (-1);
    copy.write_fn = write_fn;
    copy.sink = sink;
    copy.write_error = 0;
    if (qfile_read_content(state->qfile, &state->env, local_copy, &copy, src->why) != 0) {
	if (!copy.write_error)
	    src->read_error = 1;
	return (-1);
    }
    return (0);
}

/* local_become_ids - effective ids UID/GID (root only) */

int     local_become_ids(uid_t uid, gid_t gid)
{
    if (local_is_root)
	set_eugid(uid, gid);
    return (0);
}

/* local_restore - back to mail_owner's effective ids (root only) */

void    local_restore(void)
{
    static uid_t owner_uid;
    static gid_t owner_gid;
    static int looked_up;

    if (!local_is_root)
	return;
    if (!looked_up) {
	mail_owner_ids(&owner_uid, &owner_gid);
	looked_up = 1;
    }
    set_eugid(owner_uid, owner_gid);
}

/* local_expected_owner - who must own DEST's mailbox */

static uid_t local_expected_owner(const LOCAL_DEST *dest)
{
    return (local_is_root ? dest->uid : geteuid());
}

/* local_make_parents - mkdir -p the directories above a virtual mailbox */

static void local_make_parents(const char *path)
{
    VSTRING *dir = vstring_alloc(100);

    vstring_strcpy(dir, path);
    while (LEN(dir) > 1 && STR(dir)[LEN(dir) - 1] == '/')
	vstring_truncate(dir, LEN(dir) - 1);
    for (char *cp = STR(dir) + 1; *cp; cp++) {
	if (*cp != '/')
	    continue;
	*cp = 0;
	if (mkdir(STR(dir), 0700) < 0 && errno != EEXIST)
	    break;				/* delivery will say why */
	*cp = '/';
    }
    vstring_free(dir);
}

/* local_maildir - deliver into a Maildir, all as its owner */

static int local_maildir(const LOCAL_DEST *dest, LOCAL_SOURCE *src,
			         VSTRING *why, int *temporary)
{
    int     ret;

    local_become_ids(dest->uid, dest->gid);
    if (dest->virtual)
	local_make_parents(STR(dest->path));
    ret = maildir_deliver_later(STR(dest->path), local_expected_owner(dest),
				local_source, src, src->state->dirsync, why,
				temporary);
    local_restore();
    return (ret);
}

/*
 * local_spool_ids - the ids to open an mbox in mail_spool_directory with,
 * as Postfix: the recipient's in a world-writable spool, the recipient's
 * uid with the spool's group in a group-writable one, else root's.
 */
static void local_spool_ids(const LOCAL_DEST *dest, uid_t *uid, gid_t *gid)
{
    const char *spool = conf_str("mail_spool_directory");
    struct stat st;

    *uid = dest->uid;
    *gid = dest->gid;
    if (!dest->spool || stat(spool, &st) < 0 || (st.st_mode & S_IWOTH))
	return;
    if (st.st_mode & S_IWGRP) {
	*gid = st.st_gid;
    } else {
	*uid = 0;
	*gid = 0;
    }
}

/* local_mbox_owner - who must own an existing mbox; -1: anyone */

static uid_t local_mbox_owner(const LOCAL_DEST *dest)
{
    if (dest->file || !conf_bool("strict_mailbox_ownership"))
	return ((uid_t) -1);
    return (local_expected_owner(dest));
}

/*
 * local_mbox_open_locked - open and lock the mbox; a file that pop3d or
 * imapd replaced (rewrote and renamed over) while we waited for the lock
 * is let go and the new one opened, or the message would go into a file
 * nobody reads.  The descriptor, or -1 with WHY.
 */
static int local_mbox_open_locked(const LOCAL_DEST *dest, uid_t chown_uid,
				          gid_t chown_gid, struct stat *st,
				          VSTRING *why, int *temporary)
{
    const char *path = STR(dest->path);
    int     fd, tries;

    for (tries = 0; tries < 10; tries++) {
	fd = mbox_open(path, local_mbox_owner(dest), chown_uid, chown_gid, st,
		       why, temporary);
	if (fd < 0) {
	    if (strstr(STR(why), "is not owned by recipient"))
		msg_warn("specify \"strict_mailbox_ownership = no\" to ignore "
			 "mailbox ownership mismatch");
	    return (-1);
	}
	if (mbox_lock(fd, path, why) < 0) {
	    *temporary = 1;
	    (void) close(fd);
	    return (-1);
	}
	if (!mbox_replaced(fd, path))
	    return (fd);
	mbox_unlock(fd, path);
	(void) close(fd);
    }
    vstring_sprintf(why, "mailbox %s keeps being replaced", path);
    *temporary = 1;
    return (-1);
}

/*
 * An mbox keeps the flags and UIDs of IMAP servers in headers (X-UID,
 * X-IMAPbase, Status, ...).  As Dovecot asks of delivery agents, a sender
 * must not be able to set them: they are left out of what we append.
 */
typedef struct LOCAL_STRIP {
    MBOX_FILTER filter;
    MAILBOX_WRITE_FN write_fn;
    void   *sink;
    LOCAL_SOURCE *src;
} LOCAL_STRIP;

static int local_strip_write(void *ctx, const char *data, size_t len)
{
    LOCAL_STRIP *strip = ctx;

    return (mbox_filter_write(&strip->filter, data, len, strip->write_fn,
			      strip->sink));
}

/* local_strip_source - MAILBOX_SOURCE: local_source() through the filter */

static int local_strip_source(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    LOCAL_STRIP *strip = ctx;

    strip->write_fn = write_fn;
    strip->sink = sink;
    mbox_filter_init(&strip->filter);
    if (local_source(local_strip_write, strip, strip->src) != 0)
	return (-1);
    return (mbox_filter_flush(&strip->filter, write_fn, sink));
}

/* local_mbox - open and lock with the spool's rights, write as the owner */

static int local_mbox(LOCAL_STATE *state, const LOCAL_DEST *dest,
		              LOCAL_SOURCE *src, VSTRING *why, int *temporary)
{
    const char *path = STR(dest->path);
    LOCAL_STRIP strip;
    struct stat st;
    uid_t   spool_uid, chown_uid = -1;
    gid_t   spool_gid, chown_gid = -1;
    int     fd;
    int     ret = -1;

    local_spool_ids(dest, &spool_uid, &spool_gid);
    if (local_is_root && spool_uid != dest->uid) {
	chown_uid = dest->uid;
	chown_gid = dest->gid;
    }
    local_become_ids(spool_uid, spool_gid);
    if (dest->virtual)
	local_make_parents(STR(dest->path));
    fd = local_mbox_open_locked(dest, chown_uid, chown_gid, &st, why, temporary);
    if (fd >= 0 && dest->file && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
	vstring_strcpy(why, "destination file is executable");
	*temporary = 0;
	mbox_unlock(fd, path);
    } else if (fd >= 0) {
	local_become_ids(dest->uid, dest->gid);
	strip.src = src;
	ret = mbox_append(fd, path, state->req->sender,
			  state->req->stats.arrival.tv_sec,
			  local_strip_source, &strip, why, temporary);
	local_become_ids(spool_uid, spool_gid);
	mbox_unlock(fd, path);
    }
    if (fd >= 0) {
	if (close(fd) < 0 && ret == 0) {
	    vstring_sprintf(why, "close %s: %m", path);
	    ret = -1;
	}
    }
    local_restore();
    return (ret);
}

int     local_deliver(LOCAL_STATE *state, const DELIVER_RCPT *rcpt,
		              const LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    LOCAL_SOURCE src;
    VSTRING *rcpt_lc = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     temporary = 1;
    int     ret;

    vstring_lowercase(vstring_strcpy(rcpt_lc, rcpt->address));
    src.state = state;
    src.rcpt = STR(rcpt_lc);
    src.read_error = 0;
    src.from_line = 0;
    src.why = vstring_alloc(100);
    if (dest->kind == LOCAL_MAILBOX_MAILDIR)
	ret = local_maildir(dest, &src, why, &temporary);
    else
	ret = local_mbox(state, dest, &src, why, &temporary);
    if (ret < 0 && src.read_error)
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "cannot read queue file: %s", STR(src.why));
    else if (ret < 0 && dest->file && dest->kind == LOCAL_MAILBOX_MBOX && !temporary)
	local_result(result, DELIVER_STAT_BOUNCE, "5.3.0",
		     "cannot append message to destination file %s: %s",
		     STR(dest->path), STR(why));
    /* Other mailbox errors defer, even "permanent" ones: a fix frees the mail */
    else if (ret < 0 && dest->file && dest->kind == LOCAL_MAILBOX_MBOX)
	local_result(result, DELIVER_STAT_DEFER, "4.2.0",
		     "cannot append message to destination file %s: %s",
		     STR(dest->path), STR(why));
    else if (ret < 0 && dest->kind == LOCAL_MAILBOX_MAILDIR)
	local_result(result, DELIVER_STAT_DEFER, temporary ? "4.2.0" : "4.3.0",
		     "maildir delivery failed: %s", STR(why));
    else if (ret < 0)
	local_result(result, DELIVER_STAT_DEFER, temporary ? "4.2.0" : "4.3.0",
		     "cannot update mailbox %s: %s", STR(dest->path), STR(why));
    vstring_free(src.why);
    vstring_free(rcpt_lc);
    vstring_free(why);
    return (ret < 0 ? -1 : 0);
}
