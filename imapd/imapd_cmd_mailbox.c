/*
 * imapd_cmd_mailbox.c - SELECT, EXAMINE (with RFC 7162's CONDSTORE and
 * QRESYNC parameters), CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE and
 * STATUS.
 *
 * Mailbox names come in modified UTF-7 and go to lib/store/store.h as
 * UTF-8 (imapd_mailbox_name); "INBOX" in any case is INBOX.  Answers use
 * Dovecot's response codes where RFC 5530 has one ([NONEXISTENT],
 * [ALREADYEXISTS], [TRYCREATE], [CANNOT], [SERVERBUG]).
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_quote.h"
#include "imap_seqset.h"
#include "imap_utf7.h"
#include "imapd.h"

/* imapd_number - an atom as an unsigned 64-bit number; -1 if bad */

static int imapd_number(const IMAP_ARG *arg, unsigned long long *value)
{
    char   *end;

    if (arg->type != IMAP_ARG_ATOM || !*arg->data
	|| strspn(arg->data, "0123456789") != arg->len)
	return (-1);
    errno = 0;
    *value = strtoull(arg->data, &end, 10);
    return (errno ? -1 : 0);
}

/* imapd_seqset_ok - an atom that is a valid sequence set */

static int imapd_seqset_ok(const IMAP_ARG *arg)
{
    IMAP_SEQSET set;

    if (arg->type != IMAP_ARG_ATOM || imap_seqset_parse(&set, arg->data) < 0)
	return (0);
    imap_seqset_free(&set);
    return (1);
}

/*
 * imapd_qresync_ok - RFC 7162's "(" uidvalidity SP mod-sequence-value
 * [SP known-uids] [SP "(" known-sequence-set SP known-uid-set ")"] ")"
 */
static int imapd_qresync_ok(const IMAP_ARG *q)
{
    unsigned long long n;
    int     i = 2;

    if (q->type != IMAP_ARG_LIST || q->count < 2 || q->count > 4
	|| imapd_number(q->list, &n) < 0 || n == 0 || n > 0xFFFFFFFFULL
	|| imapd_number(q->list + 1, &n) < 0)
	return (0);
    if (i < q->count && q->list[i].type == IMAP_ARG_ATOM && !imapd_seqset_ok(q->list + i++))
	return (0);
    if (i < q->count) {
	const IMAP_ARG *match = q->list + i++;

	if (match->type != IMAP_ARG_LIST || match->count != 2
	    || !imapd_seqset_ok(match->list) || !imapd_seqset_ok(match->list + 1))
	    return (0);
    }
    return (i == q->count);
}

/* imapd_select_params - (CONDSTORE) / (QRESYNC (...)); -1 if bad */

static int imapd_select_params(IMAPD *im, const IMAP_ARG *arg,
			               const IMAP_ARG **qresync)
{
    *qresync = 0;
    if (arg->type != IMAP_ARG_LIST)
	return (-1);
    for (int i = 0; i < arg->count; i++) {
	if (imap_arg_atom_is(arg->list + i, "CONDSTORE")) {
	    im->enabled |= IMAPD_ENABLE_CONDSTORE;
	} else if (imap_arg_atom_is(arg->list + i, "QRESYNC")
		   && i + 1 < arg->count && imapd_qresync_ok(arg->list + i + 1)
		   && (im->enabled & IMAPD_ENABLE_QRESYNC) && *qresync == 0) {
	    *qresync = arg->list + ++i;
	} else {
	    return (-1);
	}
    }
    return (0);
}

/*
 * imapd_qresync - RFC 7162 3.2.5: what changed since the client's MODSEQ
 * (VANISHED (EARLIER) and FETCH), when its UIDVALIDITY is still ours.
 */
static void imapd_qresync(IMAPD *im, const IMAP_ARG *q)
{
    STORE_FOLDER *f = im->folder;
    const STORE_MSG *msgs;
    unsigned long long uidvalidity, modseq;
    IMAP_SEQSET known;
    int     have_known = 0;
    unsigned *gone;
    int     gone_count, all_known;
    VSTRING *buf = vstring_alloc(100);

    if (q->count < 2 || imapd_number(q->list, &uidvalidity) < 0
	|| imapd_number(q->list + 1, &modseq) < 0 || uidvalidity != f->uidvalidity) {
	vstring_free(buf);
	return;
    }
    if (q->count > 2 && q->list[2].type == IMAP_ARG_ATOM
	&& imap_seqset_parse(&known, q->list[2].data) == 0)
	have_known = 1;
    if (store_expunged_since(f, modseq, &gone, &gone_count, &all_known) == 0) {
	for (int i = 0; i < gone_count; i++)
	    if (!have_known || imap_seqset_contains(&known, gone[i], f->uidnext))
		vstring_sprintf_append(buf, "%s%u", LEN(buf) ? "," : "", gone[i]);
	if (!all_known && have_known) {
	    /* The log does not go back that far: every known UID not here */
	    for (unsigned uid = 1; uid < f->uidnext && LEN(buf) < 1000000; uid++)
		if (imap_seqset_contains(&known, uid, f->uidnext)
		    && store_uid_seq(f, uid) == 0)
		    vstring_sprintf_append(buf, "%s%u", LEN(buf) ? "," : "", uid);
	}
	if (LEN(buf))
	    imapd_untagged(im, "VANISHED (EARLIER) %s", STR(buf));
	if (gone)
	    myfree(gone);
    }
    msgs = store_view_msgs(f);
    for (int i = 0; i < f->count; i++) {
	const STORE_MSG *msg = msgs + i;

	if (msg->modseq <= modseq)
	    continue;
	vstring_reset(buf);
	imapd_flags_text(im, buf, msg->flags, msg->keywords);
	imapd_untagged(im, "%d FETCH (UID %u FLAGS %s MODSEQ (%llu))", i + 1,
		       msg->uid, STR(buf), msg->modseq);
    }
    if (have_known)
	imap_seqset_free(&known);
    vstring_free(buf);
}

/* imapd_select_common - SELECT and EXAMINE */

static int imapd_select_common(IMAPD *im, const IMAP_ARG *args, int count,
			               int readonly)
{
    VSTRING *name = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const IMAP_ARG *qresync = 0;
    int     recent, unseen, first_unseen;
    int     was_selected = (im->folder != 0);
    STORE_FOLDER *f;

    if (count < 1 || count > 2 || imapd_mailbox_name(args, name) < 0
	|| (count == 2 && imapd_select_params(im, args + 1, &qresync) < 0)) {
	vstring_free(name);
	vstring_free(why);
	return (IMAPD_BAD);
    }
    imapd_close_folder(im);
    if (was_selected && (im->enabled & IMAPD_ENABLE_QRESYNC))
	imapd_untagged(im, "OK [CLOSED] Previous mailbox closed.");
    f = store_root_folder(im->root, STR(name),
			  readonly ? STORE_OPEN_READONLY : 0, why);
    if (f == 0) {
	imapd_store_error(im, STR(why));
    } else {
	im->folder = f;
	im->folder_name = mystrdup(STR(name));
	im->readonly = readonly;
	im->state = IMAPD_SELECTED;
	if (!readonly && store_sync(f, STORE_SYNC_CLAIM_NEW, why) < 0)
	    msg_warn("%s: %s: %s", im->io->user, STR(name), STR(why));
	imapd_view_reset(im);
	imapd_send_flags_list(im);
	store_view_counts(f, &recent, &unseen, &first_unseen);
	imapd_untagged(im, "%d EXISTS", f->count);
	imapd_untagged(im, "%d RECENT", recent);
	if (first_unseen)
	    imapd_untagged(im, "OK [UNSEEN %d] First unseen.", first_unseen);
	imapd_untagged(im, "OK [UIDVALIDITY %u] UIDs valid", f->uidvalidity);
	imapd_untagged(im, "OK [UIDNEXT %u] Predicted next UID", f->uidnext);
	/* RFC 7162 3.1.2.1: always, as the MODSEQs are persistent */
	imapd_untagged(im, "OK [HIGHESTMODSEQ %llu] Highest", f->highestmodseq);
	if (qresync)
	    imapd_qresync(im, qresync);
	imapd_tagged(im, "OK", "[%s] %s completed.", readonly ? "READ-ONLY" : "READ-WRITE",
		     readonly ? "Examine" : "Select");
    }
    vstring_free(name);
    vstring_free(why);
    return (IMAPD_OK);
}

int     imapd_cmd_select(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (imapd_select_common(im, args, count, 0));
}

int     imapd_cmd_examine(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (imapd_select_common(im, args, count, 1));
}

/* imapd_one_name - the single mailbox argument of CREATE etc.; NULL: BAD */

static VSTRING *imapd_one_name(const IMAP_ARG *args, int count, int max)
{
    VSTRING *name;

    if (count < 1 || count > max)
	return (0);
    name = vstring_alloc(100);
    if (imapd_mailbox_name(args, name) < 0) {
	vstring_free(name);
	return (0);
    }
    return (name);
}

int     imapd_cmd_create(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *name = imapd_one_name(args, count, 2);	/* RFC 4466 (params) */
    VSTRING *why;

    if (name == 0)
	return (IMAPD_BAD);
    why = vstring_alloc(100);
    /* "CREATE a/" asks for a folder to hold others: the store knows how */
    if (strcasecmp(STR(name), "INBOX") == 0)
	imapd_tagged(im, "NO", "[ALREADYEXISTS] Mailbox already exists");
    else if (store_root_create(im->root, STR(name), why) < 0)
	imapd_store_error(im, STR(why));
    else
	imapd_tagged(im, "OK", "Create completed.");
    vstring_free(why);
    vstring_free(name);
    return (IMAPD_OK);
}

int     imapd_cmd_delete(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *name = imapd_one_name(args, count, 1);
    VSTRING *why;

    if (name == 0)
	return (IMAPD_BAD);
    why = vstring_alloc(100);
    if (strcasecmp(STR(name), "INBOX") == 0) {
	imapd_tagged(im, "NO", "[CANNOT] INBOX can't be deleted.");
    } else {
	if (im->folder && strcmp(im->folder_name, STR(name)) == 0)
	    imapd_close_folder(im);		/* as Dovecot: deselected */
	if (store_root_delete(im->root, STR(name), why) < 0)
	    imapd_store_error(im, STR(why));
	else
	    imapd_tagged(im, "OK", "Delete completed.");
    }
    vstring_free(why);
    vstring_free(name);
    return (IMAPD_OK);
}

int     imapd_cmd_rename(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *old_name = vstring_alloc(100);
    VSTRING *new_name = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     ret = IMAPD_OK;

    if (count != 2 || imapd_mailbox_name(args, old_name) < 0
	|| imapd_mailbox_name(args + 1, new_name) < 0) {
	ret = IMAPD_BAD;
    } else if (strcasecmp(STR(new_name), "INBOX") == 0) {
	imapd_tagged(im, "NO", "[ALREADYEXISTS] Target mailbox already exists");
    } else {
	if (im->folder && strcmp(im->folder_name, STR(old_name)) == 0
	    && strcasecmp(STR(old_name), "INBOX") != 0)
	    imapd_close_folder(im);
	if (store_root_rename(im->root, STR(old_name), STR(new_name), why) < 0)
	    imapd_store_error(im, STR(why));
	else
	    imapd_tagged(im, "OK", "Rename completed.");
    }
    vstring_free(old_name);
    vstring_free(new_name);
    vstring_free(why);
    return (ret);
}

static int imapd_subscription(IMAPD *im, const IMAP_ARG *args, int count, int on)
{
    VSTRING *name = imapd_one_name(args, count, 1);
    VSTRING *why;

    if (name == 0)
	return (IMAPD_BAD);
    why = vstring_alloc(100);
    if (store_root_subscribe(im->root, STR(name), on, why) < 0)
	imapd_store_error(im, STR(why));
    else
	imapd_tagged(im, "OK", "%s completed.", on ? "Subscribe" : "Unsubscribe");
    vstring_free(why);
    vstring_free(name);
    return (IMAPD_OK);
}

int     imapd_cmd_subscribe(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (imapd_subscription(im, args, count, 1));
}

int     imapd_cmd_unsubscribe(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (imapd_subscription(im, args, count, 0));
}

/*
 * STATUS.
 */

#define STATUS_MESSAGES		(1<<0)
#define STATUS_RECENT		(1<<1)
#define STATUS_UIDNEXT		(1<<2)
#define STATUS_UIDVALIDITY	(1<<3)
#define STATUS_UNSEEN		(1<<4)
#define STATUS_HIGHESTMODSEQ	(1<<5)

/* imapd_status_items - the item list; -1 if bad */

int     imapd_status_items(const IMAP_ARG *list)
{
    static const struct {
	const char *name;
	int     bit;
    }       items[] = {
	{"MESSAGES", STATUS_MESSAGES}, {"RECENT", STATUS_RECENT},
	{"UIDNEXT", STATUS_UIDNEXT}, {"UIDVALIDITY", STATUS_UIDVALIDITY},
	{"UNSEEN", STATUS_UNSEEN}, {"HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ},
	{0, 0},
    };
    int     bits = 0, i;

    if (list->type != IMAP_ARG_LIST || list->count == 0)
	return (-1);
    for (int n = 0; n < list->count; n++) {
	for (i = 0; items[i].name && !imap_arg_atom_is(list->list + n, items[i].name); i++)
	     /* void */ ;
	if (items[i].name == 0)
	    return (-1);
	bits |= items[i].bit;
    }
    return (bits);
}

/* imapd_status_reply - "* STATUS name (...)" for NAME; 0, or -1 (WHY) */

int     imapd_status_reply(IMAPD *im, const char *name, int items, VSTRING *why)
{
    STORE_FOLDER *f;
    VSTRING *out = vstring_alloc(100);
    int     own = 0, recent, unseen, first_unseen;

    if (im->folder && strcmp(im->folder_name, name) == 0) {
	f = im->folder;
    } else if ((f = store_root_folder(im->root, name, STORE_OPEN_READONLY, why)) == 0) {
	vstring_free(out);
	return (-1);
    } else {
	own = 1;
    }
    store_view_counts(f, &recent, &unseen, &first_unseen);
    vstring_strcpy(out, "STATUS ");
    imapd_append_mailbox(out, name);
    vstring_strcat(out, " (");
    if (items & STATUS_MESSAGES)
	vstring_sprintf_append(out, "MESSAGES %d ", f->count);
    if (items & STATUS_RECENT)
	vstring_sprintf_append(out, "RECENT %d ", recent);
    if (items & STATUS_UIDNEXT)
	vstring_sprintf_append(out, "UIDNEXT %u ", f->uidnext);
    if (items & STATUS_UIDVALIDITY)
	vstring_sprintf_append(out, "UIDVALIDITY %u ", f->uidvalidity);
    if (items & STATUS_UNSEEN)
	vstring_sprintf_append(out, "UNSEEN %d ", unseen);
    if (items & STATUS_HIGHESTMODSEQ)
	vstring_sprintf_append(out, "HIGHESTMODSEQ %llu ", f->highestmodseq);
    vstring_truncate(out, LEN(out) - 1);
    vstring_addch(out, ')');
    imapd_untagged(im, "%s", STR(out));
    if (own)
	store_close(f);
    vstring_free(out);
    return (0);
}

int     imapd_cmd_status(IMAPD *im, const IMAP_ARG *args, int count)
{
    VSTRING *name = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     items, ret = IMAPD_OK;

    if (count != 2 || imapd_mailbox_name(args, name) < 0
	|| (items = imapd_status_items(args + 1)) < 0) {
	ret = IMAPD_BAD;
    } else if (imapd_status_reply(im, STR(name), items, why) < 0) {
	imapd_store_error(im, STR(why));
    } else {
	if (items & STATUS_HIGHESTMODSEQ)
	    im->enabled |= IMAPD_ENABLE_CONDSTORE;
	imapd_tagged(im, "OK", "Status completed.");
    }
    vstring_free(name);
    vstring_free(why);
    return (ret);
}
