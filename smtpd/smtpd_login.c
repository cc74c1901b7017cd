/*
 * smtpd_login.c - who may send as whom: smtpd_sender_login_maps and the
 * reject_*sender_login_mismatch restrictions, as Postfix has them.
 *
 * smtpd_sender_login_maps maps a MAIL FROM address to the SASL login
 * names that own it (a list separated by commas or white space).  Keys
 * tried, the first answer deciding: user@domain; user, when the domain is
 * local (mydestination); @domain.  The null sender is never checked.
 *
 *   reject_authenticated_sender_login_mismatch  an authenticated client
 *	must own the address: "553 5.7.1 <addr>: Sender address rejected:
 *	not owned by user LOGIN" (also when the address has no owner);
 *   reject_unauthenticated_sender_login_mismatch  an address that has an
 *	owner needs an authenticated client: "553 5.7.1 <addr>: Sender
 *	address rejected: not logged in";
 *   reject_sender_login_mismatch  both;
 *   reject_known_sender_login_mismatch  both, for addresses that have an
 *	owner only.
 * A table that cannot answer gives "451 4.3.0 <addr>: Temporary lookup
 * failure".  Without smtpd_sender_login_maps nothing is checked.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "address.h"
#include "dict.h"
#include "resolve.h"
#include "smtpd_restrict.h"

#define LOGIN_SEP	", \t\r\n"

static MAPS *login_maps;
static int login_maps_read;

/* login_owners - the owners of SENDER, or NULL (*ERROR set when a table
 * could not answer) */

static const char *login_owners(const char *sender, int *error)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    const char *owners;

    *error = 0;
    if ((owners = maps_find(login_maps, sender)) == 0 && !login_maps->error
	&& addr_split(sender, local, domain) == 0 && LEN(domain) > 0) {
	if (resolve_class(STR(domain)) == RESOLVE_CLASS_LOCAL)
	    owners = maps_find(login_maps, STR(local));
	if (owners == 0 && !login_maps->error) {
	    vstring_sprintf(key, "@%s", STR(domain));
	    owners = maps_find(login_maps, STR(key));
	}
    }
    *error = (owners == 0 && login_maps->error);
    vstring_free(local);
    vstring_free(domain);
    vstring_free(key);
    return (owners);
}

/* login_owns - LOGIN is one of OWNERS */

static int login_owns(const char *owners, const char *login)
{
    char   *saved = mystrdup(owners);
    char   *cp = saved;
    char   *name;
    int     found = 0;

    while (!found && (name = strsep(&cp, LOGIN_SEP)) != 0)
	found = (*name && strcasecmp(name, login) == 0);
    myfree(saved);
    return (found);
}

int     smtpd_check_sender_login(SMTPD_CHECK *chk, int what)
{
    const char *sender = chk->sender;
    const char *login = chk->state->sasl_username;
    const char *owners;
    int     error;

    if (!login_maps_read) {
	login_maps_read = 1;
	if (*conf_str("smtpd_sender_login_maps"))
	    login_maps = maps_create("smtpd_sender_login_maps",
				     conf_str("smtpd_sender_login_maps"),
				     DICT_FLAG_FOLD_KEY);
    }
    if (login_maps == 0 || sender == 0 || *sender == 0)
	return (SMTPD_CHECK_DUNNO);
    if (login ? !(what & SMTPD_LOGIN_AUTHENTICATED)
	: !(what & SMTPD_LOGIN_UNAUTHENTICATED))
	return (SMTPD_CHECK_DUNNO);
    owners = login_owners(sender, &error);
    if (error)
	return (smtpd_check_reject(chk, 451, "4.3.0",
				   "<%s>: Temporary lookup failure", sender));
    if (login == 0)
	return (owners == 0 ? SMTPD_CHECK_DUNNO :
		smtpd_check_reject(chk, 553, "5.7.1",
				   "<%s>: %s rejected: not logged in",
				   sender, SMTPD_NAME_SENDER));
    if (owners == 0 && (what & SMTPD_LOGIN_KNOWN_ONLY))
	return (SMTPD_CHECK_DUNNO);
    if (owners != 0 && login_owns(owners, login))
	return (SMTPD_CHECK_DUNNO);
    return (smtpd_check_reject(chk, 553, "5.7.1",
			       "<%s>: %s rejected: not owned by user %s",
			       sender, SMTPD_NAME_SENDER, login));
}
