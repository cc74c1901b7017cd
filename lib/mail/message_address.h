/*
 * message_address.h - RFC 5322 address lists (From:, To:, ...) as IMAP's
 * ENVELOPE shows them (RFC 3501 section 7.4.2).
 *
 * message_address_parse() appends the addresses of one header value to a
 * list.  Each entry is {name, route, mailbox, host}:
 *
 *	Joe <joe@example.com>		name "Joe", mailbox "joe", host "example.com"
 *	joe@example.com (Joe)		the comment is the name when there is no phrase
 *	<@a,@b:joe@example.com>		route "@a,@b" (obsolete source route)
 *	team: a@b, c@d;			a group start {mailbox "team", host NULL},
 *					the members, then a group end (all NULL)
 *
 * Display names are unquoted and unfolded, but encoded words (RFC 2047)
 * are left as they are.  Broken input never fails: what cannot be read
 * becomes an entry with invalid set, and with MESSAGE_ADDRESS_FILL_MISSING
 * a missing mailbox or host reads "MISSING_MAILBOX" / "MISSING_DOMAIN", a
 * broken <angle address> has host "SYNTAX_ERROR" and a broken route
 * "INVALID_ROUTE" (Dovecot's markers, so ENVELOPE replies match its own).
 * The rules of what is accepted follow Dovecot 2.3's parser, including
 * local parts with stray dots (common in Japan) and a lone word taken as
 * a display name.
 *
 * Usage: MESSAGE_ADDRESS_LIST list = {0};
 *	message_address_parse(&list, value, len, MESSAGE_ADDRESS_FILL_MISSING);
 *	... list.addrs[0 .. list.count-1] ...
 *	message_address_list_free(&list);
 */
#ifndef MESSAGE_ADDRESS_H
#define MESSAGE_ADDRESS_H

#include "sys_defs.h"

typedef struct MESSAGE_ADDRESS {
    char   *name;			/* display name or comment, or NULL */
    char   *route;			/* "@a,@b", or NULL */
    char   *mailbox;			/* local part; group name; NULL: group end */
    char   *host;			/* domain; NULL: group start or end */
    int     invalid;			/* the syntax was broken */
} MESSAGE_ADDRESS;

typedef struct MESSAGE_ADDRESS_LIST {
    MESSAGE_ADDRESS *addrs;
    int     count;
    int     size;
} MESSAGE_ADDRESS_LIST;

#define MESSAGE_ADDRESS_FILL_MISSING	(1<<0)

/* message_address_parse - append the addresses of TEXT (LEN bytes) */
void	message_address_parse(MESSAGE_ADDRESS_LIST *list, const char *text,
			              size_t len, int flags);

/* message_address_list_free - the entries (the list itself is the caller's) */
void	message_address_list_free(MESSAGE_ADDRESS_LIST *list);

/* Group markers */
#define MESSAGE_ADDRESS_IS_GROUP_START(a) ((a)->host == 0 && (a)->mailbox != 0)
#define MESSAGE_ADDRESS_IS_GROUP_END(a) ((a)->host == 0 && (a)->mailbox == 0)

#endif
