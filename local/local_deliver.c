/*
 * local_deliver.c - writing one message into one mailbox, as its owner.
 *
 * When local runs as root, the effective uid/gid and the group list are
 * switched to the mailbox owner's around the mailbox write and restored
 * afterwards (failure to restore is fatal).  Delivery into
 * mail_spool_directory also gets the spool directory's group when that
 * directory is group-writable, so that the owner can create the mbox and
 * its dot-lock there (Debian's /var/mail is root:mail 2775).  Without root
 * everything is written as ourselves.
 *
 * The content is "Return-Path: <sender>", "Delivered-To: <rcpt>" and then
 * the queue file's content, streamed to lib/mailbox.h's writers.
 */
#include "sys_defs.h"
#include <grp.h>
#include <ctype.h>
#include "msg.h"
#include "vstring.h"
#include "mailbox.h"
#include "mail_proto.h"
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

/* local_spool_group - the spool directory's group, if we should add it */

static int local_spool_group(const char *path, gid_t *gid)
{
    VSTRING *dir = vstring_alloc(100);
    const char *slash;
    struct stat st;
    int     ret = 0;

    /* The directory that holds the mbox file (or the Maildir) */
    vstring_strcpy(dir, path);
    while (LEN(dir) > 1 && STR(dir)[LEN(dir) - 1] == '/')
	vstring_truncate(dir, LEN(dir) - 1);
    if ((slash = strrchr(STR(dir), '/')) != 0)
	vstring_truncate(dir, slash > STR(dir) ? (size_t) (slash - STR(dir)) : 1);
    else
	vstring_strcpy(dir, ".");
    if (stat(STR(dir), &st) == 0 && (st.st_mode & S_IWGRP)
	&& !(st.st_mode & S_IWOTH)) {
	*gid = st.st_gid;
	ret = 1;
    }
    vstring_free(dir);
    return (ret);
}

/* local_become_ids - switch effective ids (root only), no extra groups */

int     local_become_ids(uid_t uid, gid_t gid)
{
    if (!local_is_root)
	return (0);
    if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0)
	return (-1);
    return (0);
}

/* local_become - switch effective ids to DEST's owner (root only) */

static int local_become(const LOCAL_DEST *dest)
{
    gid_t   groups[2];
    int     ngroups = 1;

    if (!local_is_root)
	return (0);
    groups[0] = dest->gid;
    if (dest->spool && local_spool_group(STR(dest->path), groups + 1)
	&& groups[1] != dest->gid)
	ngroups = 2;
    if (setgroups((size_t) ngroups, groups) < 0
	|| setegid(dest->gid) < 0
	|| seteuid(dest->uid) < 0)
	return (-1);
    return (0);
}

/* local_restore - back to root; a process that cannot is unsafe: exit */

void    local_restore(void)
{
    gid_t   gid = getgid();

    if (!local_is_root)
	return;
    if (seteuid(0) < 0 || setegid(gid) < 0 || setgroups(1, &gid) < 0)
	msg_fatal("cannot restore root privileges: %m");
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
    if (local_become(dest) < 0) {
	local_result(result, DELIVER_STAT_DEFER, "4.3.0",
		     "cannot switch to uid %ld gid %ld: %s", (long) dest->uid,
		     (long) dest->gid, strerror(errno));
	local_restore();
	ret = -1;
    } else {
	if (dest->virtual)
	    local_make_parents(STR(dest->path));
	if (dest->kind == LOCAL_MAILBOX_MAILDIR)
	    ret = maildir_deliver(STR(dest->path), local_source, &src, why, &temporary);
	else
	    ret = mbox_deliver(STR(dest->path), state->req->sender,
			       state->req->stats.arrival.tv_sec,
			       local_source, &src, why, &temporary);
	local_restore();
	if (ret < 0 && src.read_error)
	    local_result(result, DELIVER_STAT_DEFER, "4.3.0",
			 "cannot read queue file: %s", STR(src.why));
	/* Mailbox errors defer even when "permanent": a fix frees the mail */
	else if (ret < 0 && dest->kind == LOCAL_MAILBOX_MAILDIR)
	    local_result(result, DELIVER_STAT_DEFER, temporary ? "4.2.0" : "4.3.0",
			 "maildir delivery failed: %s", STR(why));
	else if (ret < 0)
	    local_result(result, DELIVER_STAT_DEFER, temporary ? "4.2.0" : "4.3.0",
			 "cannot update mailbox %s: %s", STR(dest->path), STR(why));
    }
    vstring_free(src.why);
    vstring_free(rcpt_lc);
    vstring_free(why);
    return (ret < 0 ? -1 : 0);
}
