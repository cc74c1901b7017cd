/*
 * imapd_cmd_message.c - commands on the messages of the selected folder:
 * CHECK, CLOSE, UNSELECT (RFC 3691), EXPUNGE, UID EXPUNGE (RFC 4315),
 * STORE (with RFC 7162 UNCHANGEDSINCE), COPY (COPYUID), MOVE (RFC 6851)
 * and the UID prefix.
 *
 * Messages are named by the client's numbers (imapd_msgset) and looked up
 * in the store by UID, so a message another session expunged meanwhile
 * is skipped, never confused with its neighbour.  Changes go through
 * lib/store/store.h; the session's view (im->seen) is updated for what
 * the client was told, so imapd_sync() does not report it twice.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imapd.h"

int     imapd_cmd_check(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 0)
	return (IMAPD_BAD);
    imapd_sync(im, 1);
    imapd_tagged(im, "OK", "Check completed.");
    return (IMAPD_OK);
}

/* imapd_expunge_deleted - expunge the \Deleted messages (of the set); -1 (WHY) */

static int imapd_expunge_deleted(IMAPD *im, const int *seqs, int seq_count,
				         VSTRING *why)
{
    STORE_FOLDER *f = im->folder;
    unsigned *uids = (unsigned *) mymalloc(sizeof(unsigned) * ((size_t) f->count + 1));
    const STORE_MSG *msgs;
    int     n = 0, ret = 0;

    (void) imapd_view(im);			/* before the sync changes it */
    if (store_sync(f, STORE_SYNC_CLAIM_NEW, why) < 0)
	msg_warn("%s: %s: %s", im->io->user, im->folder_name, STR(why));
    if (seqs == 0) {
	msgs = store_view_msgs(f);
	for (int i = 0; i < f->count; i++)
	    if (msgs[i].flags & STORE_DELETED)
		uids[n++] = msgs[i].uid;
    } else {
	for (int i = 0; i < seq_count; i++) {
	    STORE_MSG *msg = imapd_current_msg(im, seqs[i]);

	    if (msg && (msg->flags & STORE_DELETED) && n < f->count)
		uids[n++] = msg->uid;
	}
    }
    if (n > 0)
	ret = store_expunge(f, uids, n, why);
    myfree(uids);
    return (ret);
}

int     imapd_cmd_expunge(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *why;
    int    *seqs = 0;
    int     seq_count = 0;
    const char *bad;

    if (count != (im->uid_cmd ? 1 : 0))
	return (IMAPD_BAD);
    if (im->readonly) {
	imapd_tagged(im, "NO", "[READ-ONLY] Mailbox is read-only.");
	return (IMAPD_OK);
    }
    if (im->uid_cmd && (seqs = imapd_msgset(im, args, 1, &seq_count, &bad)) == 0) {
	imapd_tagged(im, "BAD", "%s.", bad);
	return (IMAPD_OK);
    }
    why = vstring_alloc(100);
    if (imapd_expunge_deleted(im, seqs, seq_count, why) < 0) {
	imapd_sync(im, 1);
	imapd_tagged(im, "NO", "[SERVERBUG] Expunge failed: %s", STR(why));
    } else {
	imapd_sync(im, 1);
	if (im->enabled & IMAPD_ENABLE_CONDSTORE)
	    imapd_tagged(im, "OK", "[HIGHESTMODSEQ %llu] Expunge completed.",
			 im->folder->highestmodseq);
	else
	    imapd_tagged(im, "OK", "Expunge completed.");
    }
    if (seqs)
	myfree(seqs);
    vstring_free(why);
    return (IMAPD_OK);
}

int     imapd_cmd_close(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *why;

    if (count != 0)
	return (IMAPD_BAD);
    why = vstring_alloc(100);
    /* RFC 3501 6.4.2: expunge silently; errors do not stop the close */
    if (!im->readonly && imapd_expunge_deleted(im, 0, 0, why) < 0)
	msg_warn("%s: %s: expunge at CLOSE: %s", im->io->user, im->folder_name, STR(why));
    imapd_close_folder(im);
    imapd_tagged(im, "OK", "Close completed.");
    vstring_free(why);
    return (IMAPD_OK);
}

int     imapd_cmd_unselect(IMAPD *im, const IMAP_ARG *args, int count)
{
    if (count != 0)
	return (IMAPD_BAD);
    imapd_close_folder(im);
    imapd_tagged(im, "OK", "Unselect completed.");
    return (IMAPD_OK);
}

/*
 * STORE.
 */

#define STORE_MODE_SET	0
#define STORE_MODE_ADD	1
#define STORE_MODE_DEL	2

typedef struct STORE_REQ {
    int     mode;
    int     silent;
    unsigned flags;
    unsigned keywords;
    int     conditional;
    unsigned long long unchangedsince;
} STORE_REQ;

/* store_parse_item - FLAGS, +FLAGS.SILENT etc.; -1 if bad */

static int store_parse_item(const IMAP_ARG *arg, STORE_REQ *req)
{
    const char *item = arg->type == IMAP_ARG_ATOM ? arg->data : "";

    req->mode = STORE_MODE_SET;
    if (*item == '+' || *item == '-')
	req->mode = (*item++ == '+') ? STORE_MODE_ADD : STORE_MODE_DEL;
    if (strcasecmp(item, "FLAGS") == 0)
	req->silent = 0;
    else if (strcasecmp(item, "FLAGS.SILENT") == 0)
	req->silent = 1;
    else
	return (-1);
    return (0);
}

/* store_parse_modifier - (UNCHANGEDSINCE N); -1 if bad */

static int store_parse_modifier(const IMAP_ARG *arg, STORE_REQ *req)
{
    char   *end;

    if (arg->count != 2 || !imap_arg_atom_is(arg->list, "UNCHANGEDSINCE")
	|| arg->list[1].type != IMAP_ARG_ATOM
	|| strspn(arg->list[1].data, "0123456789") != arg->list[1].len
	|| arg->list[1].len == 0 || arg->list[1].len > 20)
	return (-1);
    errno = 0;
    req->unchangedsince = strtoull(arg->list[1].data, &end, 10);
    if (errno)
	return (-1);
    req->conditional = 1;
    return (0);
}

/* store_new_flags - the flags REQ makes of a message's */

static void store_new_flags(const STORE_REQ *req, const STORE_MSG *msg,
			            unsigned *flags, unsigned *keywords)
{
    unsigned old = msg->flags & STORE_FLAGS_STORED;

    switch (req->mode) {
    case STORE_MODE_ADD:
	*flags = old | req->flags;
	*keywords = msg->keywords | req->keywords;
	break;
    case STORE_MODE_DEL:
	*flags = old & ~req->flags;
	*keywords = msg->keywords & ~req->keywords;
	break;
    default:
	*flags = req->flags;
	*keywords = req->keywords;
	break;
    }
}

/* store_reply - the FETCH a STORE answers with */

static void store_reply(IMAPD *im, const STORE_REQ *req, int n, STORE_MSG *msg)
{
    VSTRING *buf = vstring_alloc(100);
    int     condstore = (im->enabled & IMAPD_ENABLE_CONDSTORE) != 0;

    if (!req->silent) {
	vstring_strcpy(buf, "FLAGS ");
	imapd_flags_text(im, buf, msg->flags, msg->keywords);
    }
    if (im->uid_cmd || (condstore && req->silent))
	vstring_sprintf_append(buf, "%sUID %u", LEN(buf) ? " " : "", msg->uid);
    if (condstore)
	vstring_sprintf_append(buf, " MODSEQ (%llu)", msg->modseq);
    if (LEN(buf))
	imapd_untagged(im, "%d FETCH (%s)", n, STR(buf));
    vstring_free(buf);
}

/* store_apply - REQ on the messages SEQS; the MODIFIED ones into MODIFIED */

static int store_apply(IMAPD *im, const STORE_REQ *req, const int *seqs, int count,
		               VSTRING *modified, VSTRING *why)
{
    unsigned flags, keywords;
    int     failed = 0;

    for (int i = 0; i < count; i++) {
	STORE_MSG *msg = imapd_current_msg(im, seqs[i]);
	IMAPD_SEEN *seen = imapd_view(im) + seqs[i] - 1;

	if (msg == 0)
	    continue;				/* expunged by another session */
	if (req->conditional && msg->modseq > req->unchangedsince) {
	    vstring_sprintf_append(modified, "%s%u", LEN(modified) ? "," : "",
				   im->uid_cmd ? msg->uid : (unsigned) seqs[i]);
	    continue;
	}
	store_new_flags(req, msg, &flags, &keywords);
	if (flags != (msg->flags & STORE_FLAGS_STORED) || keywords != msg->keywords) {
	    if (store_set_flags(im->folder, msg, flags, keywords, why) < 0) {
		failed = 1;
		break;
	    }
	} else if (req->silent && !(im->enabled & IMAPD_ENABLE_CONDSTORE)) {
	    continue;
	}
	imapd_announce_keywords(im);
	store_reply(im, req, seqs[i], msg);
	seen->flags = msg->flags;
	seen->keywords = msg->keywords;
	seen->modseq = msg->modseq;
    }
    return (failed ? -1 : 0);
}

int     imapd_cmd_store(IMAPD *im, const IMAP_ARG *args, int count)
{
    STORE_REQ req;
    const char *bad = 0;
    int    *seqs, seq_count, item = 1;
    VSTRING *modified, *why;
    int     status = 0;

    memset(&req, 0, sizeof(req));
    if (count >= 2 && args[1].type == IMAP_ARG_LIST) {
	if (store_parse_modifier(args + 1, &req) < 0)
	    return (IMAPD_BAD);
	im->enabled |= IMAPD_ENABLE_CONDSTORE;
	item = 2;
    }
    if (count < item + 2 || store_parse_item(args + item, &req) < 0)
	return (IMAPD_BAD);
    if (im->readonly) {
	imapd_tagged(im, "NO", "[READ-ONLY] Mailbox is read-only.");
	return (IMAPD_OK);
    }
    /* (flags), or flags as separate atoms */
    for (int i = item + 1; i < count; i++) {
	unsigned f, k;

	if ((count > item + 2 && args[i].type != IMAP_ARG_ATOM)
	    || (status = imapd_flags_parse(im->folder, args + i, &f, &k,
					   req.mode != STORE_MODE_DEL, &bad)) < 0) {
	    imapd_tagged(im, status == -2 ? "NO" : "BAD", "%s.", bad ? bad : "Invalid flags");
	    return (IMAPD_OK);
	}
	req.flags |= f;
	req.keywords |= k;
    }
    if ((seqs = imapd_msgset(im, args, im->uid_cmd, &seq_count, &bad)) == 0) {
	imapd_tagged(im, "BAD", "%s.", bad);
	return (IMAPD_OK);
    }
    modified = vstring_alloc(100);
    why = vstring_alloc(100);
    store_change_begin(im->folder);		/* mbox: one rewrite for all */
    status = store_apply(im, &req, seqs, seq_count, modified, why);
    if (status < 0) {
	VSTRING *ignored = vstring_alloc(100);	/* WHY says what failed first */

	(void) store_change_end(im->folder, ignored);
	vstring_free(ignored);
    } else if (store_change_end(im->folder, why) < 0) {
	status = -1;
    }
    imapd_sync(im, im->uid_cmd);
    if (status < 0)
	imapd_tagged(im, "NO", "[SERVERBUG] Store failed: %s", STR(why));
    else if (LEN(modified))
	imapd_tagged(im, "OK", "[MODIFIED %s] Conditional store failed.", STR(modified));
    else
	imapd_tagged(im, "OK", "Store completed.");
    myfree(seqs);
    vstring_free(modified);
    vstring_free(why);
    return (IMAPD_OK);
}

/*
 * COPY and MOVE.
 */

typedef struct COPY_SOURCE {
    STORE_STREAM *stream;
    int     last;				/* the last byte written */
} COPY_SOURCE;

/* copy_emit - MAILBOX_SOURCE: the message's bytes, ending with a newline */

static int copy_emit(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    COPY_SOURCE *src = (COPY_SOURCE *) ctx;
    char    buf[65536];
    ssize_t n;

    src->last = '\n';
    while ((n = store_read(src->stream, buf, sizeof(buf))) > 0) {
	if (write_fn(sink, buf, (size_t) n) < 0)
	    return (-1);
	src->last = buf[n - 1];
    }
    if (n < 0)
	return (-1);
    if (src->last != '\n' && write_fn(sink, "\n", 1) < 0)
	return (-1);
    return (0);
}

/* copy_keywords - a message's keywords as the target folder numbers them */

static unsigned copy_keywords(STORE_FOLDER *from, STORE_FOLDER *to, unsigned keywords,
			              VSTRING *why)
{
    unsigned out = 0;
    int     k;

    for (int i = 0; i < from->keyword_count; i++)
	if ((keywords & (1U << i))
	    && (k = store_keyword(to, from->keywords[i], 1, why)) >= 0)
	    out |= 1U << k;
    return (out);
}

/* copy_one - MSG into TO; its new UID, or 0 (WHY) */

static unsigned copy_one(IMAPD *im, STORE_MSG *msg, STORE_FOLDER *to, VSTRING *why)
{
    COPY_SOURCE src;
    unsigned uid = 0;
    unsigned keywords = copy_keywords(im->folder, to, msg->keywords, why);

    if ((src.stream = store_msg_open(im->folder, msg, why)) == 0)
	return (0);
    if (msg->received < 0)
	(void) store_msg_sizes(im->folder, msg, why);
    if (store_append(to, copy_emit, &src, msg->flags & STORE_FLAGS_STORED, keywords,
		     msg->received > 0 ? msg->received : 0, &uid, why) < 0)
	uid = 0;
    store_msg_close(src.stream);
    return (uid);
}

/* copy_target - the target folder, or NULL after a tagged NO */

static STORE_FOLDER *copy_target(IMAPD *im, const IMAP_ARG *arg, VSTRING *why)
{
    VSTRING *name = vstring_alloc(100);
    STORE_FOLDER *to = 0;

    if (imapd_mailbox_name(arg, name) < 0) {
	imapd_tagged(im, "BAD", "Invalid mailbox name.");
    } else if (strcmp(STR(name), im->folder_name) == 0) {
	to = im->folder;
    } else if (store_root_exists(im->root, STR(name), why) == 0) {
	imapd_tagged(im, "NO", "[TRYCREATE] Mailbox doesn't exist: %s", STR(name));
    } else if ((to = store_root_folder(im->root, STR(name), 0, why)) == 0) {
	imapd_store_error(im, STR(why));
    }
    vstring_free(name);
    return (to);
}

/* imapd_uid_list - UIDs as an IMAP set, runs joined ("1:3,7") */

static void imapd_uid_list(VSTRING *out, const unsigned *uids, int count)
{
    for (int i = 0; i < count; i++) {
	int     j = i;

	while (j + 1 < count && uids[j + 1] == uids[j] + 1)
	    j++;
	vstring_sprintf_append(out, "%s%u", LEN(out) ? "," : "", uids[i]);
	if (j > i)
	    vstring_sprintf_append(out, ":%u", uids[j]);
	i = j;
    }
}

static int imapd_copy_move(IMAPD *im, const IMAP_ARG *args, int count, int move)
{
    const char *bad;
    int    *seqs, seq_count, done = 0, failed = 0;
    unsigned *src_uids, *dst_uids;
    STORE_FOLDER *to;
    VSTRING *why, *src_set, *dst_set;

    if (count != 2)
	return (IMAPD_BAD);
    if ((seqs = imapd_msgset(im, args, im->uid_cmd, &seq_count, &bad)) == 0) {
	imapd_tagged(im, "BAD", "%s.", bad);
	return (IMAPD_OK);
    }
    why = vstring_alloc(100);
    if (move && im->readonly) {
	imapd_tagged(im, "NO", "[READ-ONLY] Mailbox is read-only.");
    } else if ((to = copy_target(im, args + 1, why)) != 0) {
	src_uids = (unsigned *) mymalloc(sizeof(unsigned) * ((size_t) seq_count + 1));
	dst_uids = (unsigned *) mymalloc(sizeof(unsigned) * ((size_t) seq_count + 1));
	for (int i = 0; i < seq_count; i++) {
	    STORE_MSG *msg = imapd_current_msg(im, seqs[i]);
	    unsigned uid;

	    if (msg == 0)
		continue;
	    if ((uid = copy_one(im, msg, to, why)) == 0) {
		failed = 1;
		break;
	    }
	    src_uids[done] = msg->uid;
	    dst_uids[done++] = uid;
	}
	src_set = vstring_alloc(100);
	dst_set = vstring_alloc(100);
	imapd_uid_list(src_set, src_uids, done);
	imapd_uid_list(dst_set, dst_uids, done);
	if (failed) {
	    /* RFC 3501: a failed COPY leaves nothing behind, when it can */
	    if (done > 0 && to != im->folder)
		(void) store_expunge(to, dst_uids, done, why);
	    imapd_sync(im, im->uid_cmd);
	    imapd_tagged(im, "NO", "%s failed: %s", move ? "Move" : "Copy", STR(why));
	} else if (move) {
	    if (done > 0)
		imapd_untagged(im, "OK [COPYUID %u %s %s] Moved UIDs.",
			       to->uidvalidity, STR(src_set), STR(dst_set));
	    if (done > 0 && store_expunge(im->folder, src_uids, done, why) < 0)
		msg_warn("%s: %s: MOVE: %s", im->io->user, im->folder_name, STR(why));
	    imapd_sync(im, 1);
	    imapd_tagged(im, "OK", "Move completed.");
	} else {
	    imapd_sync(im, im->uid_cmd);
	    if (done > 0)
		imapd_tagged(im, "OK", "[COPYUID %u %s %s] Copy completed.",
			     to->uidvalidity, STR(src_set), STR(dst_set));
	    else
		imapd_tagged(im, "OK", "Copy completed.");
	}
	if (to != im->folder)
	    store_close(to);
	myfree(src_uids);
	myfree(dst_uids);
	vstring_free(src_set);
	vstring_free(dst_set);
    }
    myfree(seqs);
    vstring_free(why);
    return (IMAPD_OK);
}

int     imapd_cmd_copy(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (imapd_copy_move(im, args, count, 0));
}

int     imapd_cmd_move(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (imapd_copy_move(im, args, count, 1));
}

/*
 * UID FETCH, UID STORE, UID SEARCH, UID COPY, UID MOVE, UID EXPUNGE.
 */
int     imapd_cmd_uid(IMAPD *im, const IMAP_ARG *args, int count)
{
    static const struct {
	const char *name;
	int     (*fn) (IMAPD *, const IMAP_ARG *, int);
    }       uid_cmds[] = {
	{"FETCH", imapd_cmd_fetch}, {"STORE", imapd_cmd_store},
	{"SEARCH", imapd_cmd_search}, {"COPY", imapd_cmd_copy},
	{"MOVE", imapd_cmd_move}, {"EXPUNGE", imapd_cmd_expunge},
	{0, 0},
    };

    if (count < 1 || args[0].type != IMAP_ARG_ATOM)
	return (IMAPD_BAD);
    for (int i = 0; uid_cmds[i].name; i++) {
	if (strcasecmp(args[0].data, uid_cmds[i].name) == 0) {
	    im->uid_cmd = 1;
	    return (uid_cmds[i].fn(im, args + 1, count - 1));
	}
    }
    imapd_tagged(im, "BAD", "Unknown UID command.");
    return (IMAPD_OK);
}
