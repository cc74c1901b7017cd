/*
 * local_resubmit.c - forwarding: a new queue file for addresses elsewhere.
 *
 * As Postfix's local(8), mail for an address in another domain that an
 * alias, .forward or :include: file names is re-submitted as a new message,
 * so that each new recipient has its own delivery status on file.
 * local_resubmit_add() collects the addresses of one recipient's
 * expansion (once each); local_resubmit() writes, per envelope sender
 * (the original sender, or owner-NAME@$myorigin below an alias with an
 * owner- alias), one queue file in incoming/ with lib/global/qfile.h: the
 * original arrival time, the new recipients with the recipient as given
 * to Posthorn as their original recipient (O record), and the content
 * with "Delivered-To: RECIPIENT" in front (so that a forwarding loop that
 * comes back here is caught).  local writes it with mail_owner's effective
 * ids, so it is qmgr's like any other; then qmgr is woken up.  Each forwarded address
 * is logged "status=sent (forwarded as NEWID)".
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "qfile.h"
#include "mail_queue.h"
#include "mail_proto.h"
#include "local.h"

void    local_resubmit_add(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *addr)
{
    VSTRING *key = vstring_lowercase(vstring_strcpy(vstring_alloc(100), addr));

    if (!local_seen(d, "resubmit", STR(key))) {
	addr_list_add(&d->fwd_addrs, addr);
	addr_list_add(&d->fwd_senders, exp->sender);
    }
    vstring_free(key);
}

/* local_copy_content - qfile_read_content callback: into the new file */

static int local_copy_content(const char *data, size_t len, void *ctx)
{
    qfile_content((QFILE *) ctx, data, len);
    return (0);
}

/* local_write_queue_file - the new message for SENDER; 0 (ID set) or -1 (WHY) */

static int local_write_queue_file(LOCAL_DELIVERY *d, const char *sender,
				          VSTRING *id, VSTRING *why)
{
    LOCAL_STATE *state = d->state;
    const char *orig = *d->rcpt->orig ? d->rcpt->orig : d->rcpt->address;
    VSTRING *header = vstring_alloc(100);
    QFILE  *qf;

    if ((qf = qfile_create(MAIL_QUEUE_INCOMING)) == 0) {
	vstring_sprintf(why, "cannot create queue file: %m");
	vstring_free(header);
	return (-1);
    }
    vstring_strcpy(id, STR(qf->id));
    /* local's effective ids are mail_owner's: the file is qmgr's to take */
    qfile_time(qf, &state->req->stats.arrival);
    qfile_sender(qf, sender);
    for (int i = 0; i < d->fwd_addrs.count; i++)
	if (strcmp(d->fwd_senders.addrs[i], sender) == 0)
	    qfile_rcpt(qf, orig, d->fwd_addrs.addrs[i]);
    qfile_begin_content(qf);
    vstring_strcpy(header, "Delivered-To: ");
    for (const char *cp = d->rcpt->address; *cp; cp++)
	vstring_addch(header, iscntrl((unsigned char) *cp) ? '?' : tolower((unsigned char) *cp));
    vstring_addch(header, '\n');
    qfile_content(qf, STR(header), LEN(header));
    vstring_free(header);
    if (qfile_read_content(state->qfile, &state->env, local_copy_content, qf, why) != 0) {
	if (LEN(why) == 0)
	    vstring_strcpy(why, "cannot read queue file");
	qfile_abort(qf);
	return (-1);
    }
    if (qfile_commit(qf) < 0) {
	vstring_sprintf(why, "cannot write queue file: %m");
	return (-1);
    }
    return (0);
}

void    local_resubmit(LOCAL_DELIVERY *d)
{
    VSTRING *id = vstring_alloc(20);
    VSTRING *why = vstring_alloc(100);
    const char *sender;
    int     done, queued = 0;

    for (int i = 0; i < d->fwd_addrs.count; i++) {
	sender = d->fwd_senders.addrs[i];
	/* One file per sender: skip senders handled at an earlier index */
	done = 0;
	for (int j = 0; j < i && !done; j++)
	    done = (strcmp(d->fwd_senders.addrs[j], sender) == 0);
	if (done)
	    continue;
	if (local_write_queue_file(d, sender, id, why) == 0)
	    queued = 1;
	for (int j = i; j < d->fwd_addrs.count; j++) {
	    if (strcmp(d->fwd_senders.addrs[j], sender) != 0)
		continue;
	    if (LEN(why) == 0)
		local_leaf(d, d->fwd_addrs.addrs[j], DELIVER_STAT_OK, "2.0.0",
			   "forwarded as %s", STR(id));
	    else
		local_leaf(d, d->fwd_addrs.addrs[j], DELIVER_STAT_DEFER, "4.3.0",
			   "%s", STR(why));
	}
	vstring_reset(why);
    }
    if (queued)
	(void) mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QMGR,
			    QMGR_REQ_SCAN_INCOMING);
    vstring_free(id);
    vstring_free(why);
}
