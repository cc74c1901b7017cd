/*
 * store_root_inbox.c - RENAME INBOX (RFC 3501 6.3.5): every message of
 * INBOX moves to a new folder, INBOX stays, empty, and so do its
 * children.
 *
 * Dovecot refuses this for Maildir ("Renaming INBOX isn't supported")
 * and moves the spool file for mbox; Posthorn does what the RFC says for
 * both, through the store interface (so the drivers' locks apply): make
 * the new folder, append a copy of each message with its flags,
 * keywords and INTERNALDATE (UIDs in the new folder are new), then
 * expunge exactly the copied UIDs from INBOX.  Mail that arrives while
 * this runs stays in INBOX.  A failure before the expunge removes the
 * new folder and leaves INBOX as it was; a crash between the copies and
 * the expunge leaves the messages in both (never in neither).
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mailbox.h"
#include "store.h"
#include "store_root_priv.h"

typedef struct COPY_SOURCE {
    STORE_FOLDER *folder;
    STORE_MSG *msg;
    VSTRING *why;
} COPY_SOURCE;

/* copy_content - MAILBOX_SOURCE: the message's bytes as stored */

static int copy_content(MAILBOX_WRITE_FN write_fn, void *sink, void *ctx)
{
    COPY_SOURCE *src = (COPY_SOURCE *) ctx;
    STORE_STREAM *stream;
    char    buf[65536];
    ssize_t n;

    if ((stream = store_msg_open(src->folder, src->msg, src->why)) == 0)
	return (-1);
    while ((n = store_read(stream, buf, sizeof(buf))) > 0)
	if (write_fn(sink, buf, (size_t) n) < 0)
	    break;
    store_msg_close(stream);
    if (n < 0)
	vstring_sprintf(src->why, "read message UID %u of INBOX: %m",
			src->msg->uid);
    return (n == 0 ? 0 : -1);
}

/* copy_keywords - MSG's keywords (of FROM) as keyword bits of TO */

static unsigned copy_keywords(STORE_FOLDER *from, const STORE_MSG *msg,
			              STORE_FOLDER *to, VSTRING *why)
{
    unsigned bits = 0;
    int     idx;

    for (int k = 0; k < from->keyword_count; k++) {
	if (!(msg->keywords & (1U << k)))
	    continue;
	if ((idx = store_keyword(to, from->keywords[k], 1, why)) >= 0)
	    bits |= 1U << idx;
    }
    return (bits);
}

/* copy_messages - every message of INBOX into TO; their UIDs in UIDS */

static int copy_messages(STORE_FOLDER *inbox, STORE_FOLDER *to, unsigned *uids,
			         VSTRING *why)
{
    COPY_SOURCE src = {inbox, 0, why};
    unsigned keywords, uid;
    time_t  received;

    for (int seq = 1; seq <= inbox->count; seq++) {
	src.msg = store_msg(inbox, seq);
	received = (store_msg_sizes(inbox, src.msg, why) == 0
		    && src.msg->received > 0 ? src.msg->received : 0);
	keywords = copy_keywords(inbox, src.msg, to, why);
	vstring_reset(why);
	if (store_append(to, copy_content, &src, src.msg->flags, keywords,
			 received, &uid, why) < 0) {
	    if (LEN(why) == 0)
		vstring_strcpy(why, "cannot copy a message");
	    return (-1);
	}
	uids[seq - 1] = src.msg->uid;
    }
    return (0);
}

/* drop_new_folder - undo the creation of NAME after a failure */

static void drop_new_folder(STORE_ROOT *root, const ROOT_NAME *name)
{
    VSTRING *why = vstring_alloc(100);

    if (root->layout->delete(root, name, why) < 0)
	msg_warn("rename INBOX: cannot remove %s again: %s", STR(name->utf8),
		 STR(why));
    vstring_free(why);
}

int     root_rename_inbox(STORE_ROOT *root, const ROOT_NAME *new_name,
			          VSTRING *why)
{
    STORE_FOLDER *inbox, *to = 0;
    unsigned *uids = 0;
    int     ret = -1;

    inbox = root_open_inbox(root, 0, why);
    if (inbox == 0)
	return (-1);
    if (root->layout->create(root, new_name, 0, why) < 0) {
	store_close(inbox);
	return (-1);
    }
    if ((to = root->layout->folder(root, new_name, 0, why)) != 0) {
	uids = (unsigned *) mymalloc(sizeof(*uids)
				     * (size_t) (inbox->count + 1));
	if (copy_messages(inbox, to, uids, why) == 0)
	    ret = 0;
	store_close(to);
    }
    if (ret < 0)
	drop_new_folder(root, new_name);
    else if (inbox->count > 0
	     && store_expunge(inbox, uids, inbox->count, why) < 0)
	ret = -1;				/* messages now in both */
    if (uids)
	myfree(uids);
    store_close(inbox);
    return (ret);
}
