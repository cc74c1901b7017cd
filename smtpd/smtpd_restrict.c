/*
 * smtpd_restrict.c - the smtpd_*_restrictions lists.
 *
 * Stub until issue 4's restriction work lands: relay control is still
 * done by smtpd_check.c.
 */
#include "sys_defs.h"
#include "vstring.h"
#include "smtpd.h"

void	smtpd_restrict_init(void)
{
}

int	smtpd_restrict_connect(SMTPD_STATE *state, VSTRING *reply)
{
    return (0);
}

int	smtpd_restrict_helo(SMTPD_STATE *state, const char *helo, VSTRING *reply)
{
    return (0);
}

int	smtpd_restrict_mail(SMTPD_STATE *state, const char *sender, VSTRING *reply)
{
    return (0);
}

int	smtpd_restrict_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    return (0);
}

int	smtpd_restrict_data(SMTPD_STATE *state, VSTRING *reply)
{
    return (0);
}

void	smtpd_restrict_free(SMTPD_STATE *state)
{
}
