/*
 * smtpd_tls.c - STARTTLS and TLS-wrapped (smtps) sessions.
 *
 * Stub until issue 4's TLS work lands: STARTTLS is not offered.
 */
#include "sys_defs.h"
#include "vstring.h"
#include "smtpd.h"

void	smtpd_tls_pre_init(void)
{
}

void	smtpd_tls_ehlo(SMTPD_STATE *state)
{
}

int	smtpd_tls_cmd(SMTPD_STATE *state, char *args)
{
    smtpd_reply(state, "502 5.5.1 Error: command not implemented");
    return (-1);
}

int	smtpd_tls_required(SMTPD_STATE *state)
{
    return (0);
}

void	smtpd_tls_free(SMTPD_STATE *state)
{
}

const char *smtpd_tls_info(SMTPD_STATE *state, VSTRING *buf)
{
    return (0);
}
