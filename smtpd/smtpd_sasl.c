/*
 * smtpd_sasl.c - the AUTH command.
 *
 * Stub until issue 4's SASL work lands: AUTH is not offered.
 */
#include "sys_defs.h"
#include "vstring.h"
#include "smtpd.h"

void	smtpd_sasl_pre_init(void)
{
}

void	smtpd_sasl_ehlo(SMTPD_STATE *state)
{
}

int	smtpd_sasl_cmd(SMTPD_STATE *state, char *args)
{
    smtpd_reply(state, "503 5.5.1 Error: authentication not enabled");
    return (-1);
}

void	smtpd_sasl_input(SMTPD_STATE *state, char *line)
{
    state->mode = SMTPD_MODE_CMD;
}

void	smtpd_sasl_free(SMTPD_STATE *state)
{
}
