/*
 * smtpd_reply.c - SMTP replies, reject logging and error counting.
 *
 * Replies are appended to the session's output buffer with CRLF; smtpd.c
 * writes them out when the pipelined input is used up.  Rejected requests
 * are logged in Postfix's "NOQUEUE: reject:" shape so log tools work.
 *
 * Errors (a failed command, bad syntax, junk commands over
 * smtpd_junk_command_limit) are counted as Postfix does: over
 * smtpd_soft_error_limit every reply waits smtpd_error_sleep_time
 * (smtpd.c holds the output on a timer, so other sessions go on), at
 * smtpd_hard_error_limit the session ends with 421.  A queued message
 * sets both counts back to zero.
 */
#include "sys_defs.h"
#include "msg.h"
#include "vstring.h"
#include "smtpd.h"

void	smtpd_reply(SMTPD_STATE *state, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(state->out, fmt, ap);
    va_end(ap);
    vstring_memcat(state->out, "\r\n", 2);
    if (state->errors > var_soft_error_limit)
	state->delay_due = 1;
}

/* smtpd_reply_raw - append TEXT as one reply line */
void	smtpd_reply_raw(SMTPD_STATE *state, const char *text)
{
    vstring_strcat(state->out, text);
    vstring_memcat(state->out, "\r\n", 2);
    if (state->errors > var_soft_error_limit)
	state->delay_due = 1;
}

void	smtpd_delivered(SMTPD_STATE *state)
{
    state->errors = 0;
    state->junk_cmds = 0;
}

/* action_log - "ID: ACTION: CMD from host[addr]: TEXT; from=<> ..." */
static void action_log(SMTPD_STATE *state, const char *id, const char *action,
		               const char *cmd, const char *text, const char *rcpt)
{
    VSTRING *buf = vstring_alloc(200);

    vstring_sprintf(buf, "%s: %s: %s from %s: %s;", id, action, cmd,
		    state->namaddr, text);
    if (state->sender)
	vstring_sprintf_append(buf, " from=<%s>", state->sender);
    if (rcpt)
	vstring_sprintf_append(buf, " to=<%s>", rcpt);
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo)
	vstring_sprintf_append(buf, " helo=<%s>", state->helo);
    msg_info("%s", STR(buf));
    vstring_free(buf);
}

void	smtpd_action_log(SMTPD_STATE *state, const char *action, const char *cmd,
			         const char *text, const char *rcpt)
{
    action_log(state, state->qf ? STR(state->qf->id) : "NOQUEUE", action, cmd,
	       text, rcpt);
}

void	smtpd_reject_log(SMTPD_STATE *state, const char *cmd, const char *reply,
			         const char *rcpt)
{
    action_log(state, "NOQUEUE", "reject", cmd, reply, rcpt);
}

int	smtpd_error(SMTPD_STATE *state)
{
    if (++state->errors < var_hard_error_limit)
	return (0);
    msg_info("too many errors after %s from %s", state->where, state->namaddr);
    smtpd_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
    state->mode = SMTPD_MODE_CLOSE;
    return (1);
}
