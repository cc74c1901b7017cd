/*
 * local_resolve.c - from a recipient to its mailbox and owner, through
 * lib/store/mailbox_find.h (the rule pop3d and imapd use as well), with
 * the outcome in local's terms: an unknown virtual address bounces
 * (5.1.1), a table that cannot answer defers (4.3.0), a configuration
 * that cannot work defers (4.3.5).
 *
 * local_expand.c decides which of these a recipient reaches (aliases and
 * .forward come first).
 */
#include "sys_defs.h"
#include "vstring.h"
#include "mail_proto.h"
#include "mailbox_find.h"
#include "local.h"

/* local_place_result - the outcome of a mailbox_find call into DEST/RESULT */

static int local_place_result(int status, MAILBOX_PLACE *place, VSTRING *why,
			              LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    switch (status) {
    case MAILBOX_FOUND:
	vstring_strcpy(dest->path, STR(place->path));
	dest->kind = place->kind == MAILBOX_MAILDIR ?
	    LOCAL_MAILBOX_MAILDIR : LOCAL_MAILBOX_MBOX;
	dest->uid = place->uid;
	dest->gid = place->gid;
	dest->virtual = place->virtual;
	dest->spool = place->spool;
	return (0);
    case MAILBOX_UNKNOWN:
	local_result(result, DELIVER_STAT_BOUNCE, "5.1.1", "%s", STR(why));
	return (-1);
    case MAILBOX_TEMP:
	local_result(result, DELIVER_STAT_DEFER, "4.3.0", "%s", STR(why));
	return (-1);
    default:
	local_result(result, DELIVER_STAT_DEFER, "4.3.5", "%s", STR(why));
	return (-1);
    }
}

int     local_user_dest(const char *name, const USER_INFO *user,
			        LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    MAILBOX_PLACE place;
    VSTRING *why = vstring_alloc(100);
    int     ret;

    mailbox_place_init(&place);
    ret = local_place_result(mailbox_find_user(name, user, &place, why),
			     &place, why, dest, result);
    mailbox_place_free(&place);
    vstring_free(why);
    return (ret);
}

int     local_virtual_dest(const char *addr, LOCAL_DEST *dest, LOCAL_RESULT *result)
{
    MAILBOX_PLACE place;
    VSTRING *why = vstring_alloc(100);
    int     ret;

    mailbox_place_init(&place);
    ret = local_place_result(mailbox_find_virtual(addr, &place, why),
			     &place, why, dest, result);
    mailbox_place_free(&place);
    vstring_free(why);
    return (ret);
}
