/*
 * smtpd_restrict.h - private interface between the restriction list
 * evaluator (smtpd_restrict.c) and the access table checks
 * (smtpd_access.c).  The rest of smtpd uses the smtpd_restrict_* hooks
 * in smtpd.h.
 *
 * One SMTPD_CHECK lives for one hook call (one SMTP command): it carries
 * what the restrictions look at and the reply being built.  Every check
 * returns SMTPD_CHECK_DUNNO (go on with the list), SMTPD_CHECK_OK (this
 * list permits) or SMTPD_CHECK_REJECT (CHK->reply holds the full reply),
 * or SMTPD_CHECK_PENDING (a DNS lookup was started: stop at once, with
 * no side effects; the command runs again when the answer is in).  Log
 * lines (smtpd_check_log) and HOLD/DISCARD reasons are kept in the
 * SMTPD_CHECK and take effect when the hook has its result.
 */
#ifndef SMTPD_RESTRICT_H
#define SMTPD_RESTRICT_H

#include "sys_defs.h"
#include "vstring.h"
#include "dict.h"
#include "smtpd.h"

#define SMTPD_CHECK_DUNNO	0
#define SMTPD_CHECK_OK		1
#define SMTPD_CHECK_REJECT	2
#define SMTPD_CHECK_PENDING	3	/* a DNS answer is not in yet: stop */

/* Reply classes, as Postfix words them */
#define SMTPD_NAME_CLIENT	"Client host"
#define SMTPD_NAME_REV_CLIENT	"Unverified Client host"
#define SMTPD_NAME_HELO		"Helo command"
#define SMTPD_NAME_SENDER	"Sender address"
#define SMTPD_NAME_RECIPIENT	"Recipient address"
#define SMTPD_NAME_DATA		"Data command"

typedef struct SMTPD_CHECK {
    SMTPD_STATE *state;
    const char *cmd;			/* "RCPT" etc., for log lines */
    const char *helo;			/* HELO argument, or NULL */
    const char *sender;			/* MAIL FROM address, or NULL */
    const char *rcpt;			/* RCPT TO address, or NULL */
    const char *sender_raw;		/* ... as the client sent them (not */
    const char *rcpt_raw;		/* qualified with @$myorigin), or NULL */
    VSTRING *reply;			/* the reply when REJECT */
    VSTRING *defer_if_permit;		/* a pending defer_if_permit reply, or NULL */
    int     warn_if_reject;		/* the next restriction only warns */
    int     recursion;			/* access results that are restriction lists */
    VSTRING *log;			/* log lines, logged when done */
    VSTRING *prepend;			/* PREPEND header lines, kept when done */
    char   *hold_reason;		/* HOLD and DISCARD, applied when done */
    char   *discard_reason;
    char   *filter;			/* FILTER, applied when done */
} SMTPD_CHECK;

/* smtpd_restrict.c */
int	smtpd_check_reject(SMTPD_CHECK *chk, int code, const char *dsn,
			           const char *fmt,...) PRINTFLIKE(4, 5);
/* smtpd_check_log - "NOQUEUE: ACTION: CMD from host[addr]: TEXT; from=<> to=<> ..." */
void	smtpd_check_log(SMTPD_CHECK *chk, const char *action, const char *text);
/* smtpd_check_prepend - a PREPEND header line, added when done */
void	smtpd_check_prepend(SMTPD_CHECK *chk, const char *header);
/* smtpd_check_keep - store TEXT into *WHERE unless it is already set */
void	smtpd_check_keep(char **where, const char *text);
/* smtpd_check_defer_if_permit - remember a defer reply for when the result is permit */
void	smtpd_check_defer_if_permit(SMTPD_CHECK *chk, int code, const char *dsn,
				            const char *text);
/* smtpd_check_text - evaluate an access table result that is a restriction list */
int	smtpd_check_text(SMTPD_CHECK *chk, const char *table, const char *value,
			         const char *reply_name, const char *reply_class);
/* smtpd_client_addr - the client address, IPv4-mapped IPv6 as plain IPv4 */
const char *smtpd_client_addr(SMTPD_STATE *state);

/* smtpd_login.c: reject_*sender_login_mismatch, WHAT says which */
#define SMTPD_LOGIN_AUTHENTICATED	(1<<0)	/* check logged-in clients */
#define SMTPD_LOGIN_UNAUTHENTICATED	(1<<1)	/* check the others */
#define SMTPD_LOGIN_KNOWN_ONLY		(1<<2)	/* addresses with an owner only */
int	smtpd_check_sender_login(SMTPD_CHECK *chk, int what);

/* smtpd_policy.c: check_policy_service ENDPOINT */
int	smtpd_check_policy(SMTPD_CHECK *chk, const char *endpoint,
			           const char *reply_name, const char *reply_class);
/* smtpd_policy_forget - the command has its result: drop its answers */
void	smtpd_policy_forget(SMTPD_STATE *state);

/* smtpd_access.c */
/* smtpd_check_access_result - what an access(5) result VALUE means (also
 * a policy service's action); TABLE names it in warnings */
int	smtpd_check_access_result(SMTPD_CHECK *chk, const char *table,
			              const char *value, const char *reply_name,
				          const char *reply_class);
/* smtpd_access_open - the MAPS for "type:name" (opened once, kept) */
MAPS   *smtpd_access_open(const char *spec);
int	smtpd_check_client_access(SMTPD_CHECK *chk, const char *table, MAPS *maps);
int	smtpd_check_helo_access(SMTPD_CHECK *chk, const char *table, MAPS *maps);
/* smtpd_check_addr_access - check_sender_access / check_recipient_access */
int	smtpd_check_addr_access(SMTPD_CHECK *chk, const char *table, MAPS *maps,
				        const char *addr, const char *reply_class);

#endif
