/*
 * milter_cmds.c - the per-command entry points of milter_clnt.h, for one
 * filter's session (milter_helo() ...) and for a chain (milters_helo()
 * ...): each builds the MILTER_CMD once, here, and hands it to
 * milter_command() or milters_command().
 */
#include "sys_defs.h"
#include "milter_clnt.h"

/* milter_cmd - CMD for EVENT with strings ARGV, nothing else set */

static MILTER_CMD *milter_cmd(MILTER_CMD *cmd, int event, const char **argv)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->event = event;
    cmd->argv = argv;
    return (cmd);
}

/* milter_run - CMD to SESS, or else to CHAIN */

static void milter_run(MILTER_SESS *sess, MILTERS_SESS *chain, MILTER_CMD *cmd,
		               MILTER_FN done, void *context)
{
    if (sess)
	milter_command(sess, cmd, done, context);
    else
	milters_command(chain, cmd, done, context);
}

/* milter_run_argv - a command of EVENT with strings ARGV */

static void milter_run_argv(MILTER_SESS *sess, MILTERS_SESS *chain, int event,
			            const char **argv, MILTER_FN done, void *context)
{
    MILTER_CMD cmd;

    milter_run(sess, chain, milter_cmd(&cmd, event, argv), done, context);
}

/* milter_run_one - a command of EVENT with one string, or none */

static void milter_run_one(MILTER_SESS *sess, MILTERS_SESS *chain, int event,
			           const char *str, MILTER_FN done, void *context)
{
    const char *argv[2] = {str, 0};

    milter_run_argv(sess, chain, event, str ? argv : 0, done, context);
}

static void milter_run_connect(MILTER_SESS *sess, MILTERS_SESS *chain,
			               const char *hostname, int family,
			               const char *addr, unsigned port,
			               MILTER_FN done, void *context)
{
    const char *argv[3] = {hostname, addr ? addr : "", 0};
    MILTER_CMD cmd;

    milter_cmd(&cmd, SMFIC_CONNECT, argv);
    cmd.family = family;
    cmd.port = port;
    milter_run(sess, chain, &cmd, done, context);
}

static void milter_run_body(MILTER_SESS *sess, MILTERS_SESS *chain,
			            const char *data, size_t len,
			            MILTER_FN done, void *context)
{
    MILTER_CMD cmd;

    milter_cmd(&cmd, SMFIC_BODY, (const char **) 0);
    cmd.data = data;
    cmd.len = len;
    milter_run(sess, chain, &cmd, done, context);
}

static void milter_run_header(MILTER_SESS *sess, MILTERS_SESS *chain,
			              const char *name, const char *value,
			              MILTER_FN done, void *context)
{
    const char *argv[3] = {name, value, 0};

    milter_run_argv(sess, chain, SMFIC_HEADER, argv, done, context);
}

/* One filter */

void    milter_connect(MILTER_SESS *sess, const char *hostname, int family,
	               const char *addr, unsigned port, MILTER_FN done, void *context)
{
    milter_run_connect(sess, 0, hostname, family, addr, port, done, context);
}

void    milter_helo(MILTER_SESS *sess, const char *helo, MILTER_FN done, void *context)
{
    milter_run_one(sess, 0, SMFIC_HELO, helo, done, context);
}

void    milter_mail(MILTER_SESS *sess, const char **argv, MILTER_FN done, void *context)
{
    milter_run_argv(sess, 0, SMFIC_MAIL, argv, done, context);
}

void    milter_rcpt(MILTER_SESS *sess, const char **argv, MILTER_FN done, void *context)
{
    milter_run_argv(sess, 0, SMFIC_RCPT, argv, done, context);
}

void    milter_data(MILTER_SESS *sess, MILTER_FN done, void *context)
{
    milter_run_one(sess, 0, SMFIC_DATA, (char *) 0, done, context);
}

void    milter_header(MILTER_SESS *sess, const char *name, const char *value,
		              MILTER_FN done, void *context)
{
    milter_run_header(sess, 0, name, value, done, context);
}

void    milter_eoh(MILTER_SESS *sess, MILTER_FN done, void *context)
{
    milter_run_one(sess, 0, SMFIC_EOH, (char *) 0, done, context);
}

void    milter_body(MILTER_SESS *sess, const char *data, size_t len,
		            MILTER_FN done, void *context)
{
    milter_run_body(sess, 0, data, len, done, context);
}

void    milter_eom(MILTER_SESS *sess, MILTER_FN done, void *context)
{
    milter_run_one(sess, 0, SMFIC_BODYEOB, (char *) 0, done, context);
}

void    milter_unknown(MILTER_SESS *sess, const char *line, MILTER_FN done, void *context)
{
    milter_run_one(sess, 0, SMFIC_UNKNOWN, line, done, context);
}

/* A chain */

void    milters_connect(MILTERS_SESS *chain, const char *hostname, int family,
	               const char *addr, unsigned port, MILTER_FN done, void *context)
{
    milter_run_connect(0, chain, hostname, family, addr, port, done, context);
}

void    milters_helo(MILTERS_SESS *chain, const char *helo, MILTER_FN done, void *context)
{
    milter_run_one(0, chain, SMFIC_HELO, helo, done, context);
}

void    milters_mail(MILTERS_SESS *chain, const char **argv, MILTER_FN done, void *context)
{
    milter_run_argv(0, chain, SMFIC_MAIL, argv, done, context);
}

void    milters_rcpt(MILTERS_SESS *chain, const char **argv, int rejected,
		             MILTER_FN done, void *context)
{
    MILTER_CMD cmd;

    milter_cmd(&cmd, SMFIC_RCPT, argv);
    cmd.rejected = rejected;
    milters_command(chain, &cmd, done, context);
}

void    milters_data(MILTERS_SESS *chain, MILTER_FN done, void *context)
{
    milter_run_one(0, chain, SMFIC_DATA, (char *) 0, done, context);
}

void    milters_header(MILTERS_SESS *chain, const char *name, const char *value,
		               MILTER_FN done, void *context)
{
    milter_run_header(0, chain, name, value, done, context);
}

void    milters_eoh(MILTERS_SESS *chain, MILTER_FN done, void *context)
{
    milter_run_one(0, chain, SMFIC_EOH, (char *) 0, done, context);
}

void    milters_body(MILTERS_SESS *chain, const char *data, size_t len,
		             MILTER_FN done, void *context)
{
    milter_run_body(0, chain, data, len, done, context);
}

void    milters_eom(MILTERS_SESS *chain, MILTER_FN done, void *context)
{
    milter_run_one(0, chain, SMFIC_BODYEOB, (char *) 0, done, context);
}

void    milters_unknown(MILTERS_SESS *chain, const char *line, MILTER_FN done,
			        void *context)
{
    milter_run_one(0, chain, SMFIC_UNKNOWN, line, done, context);
}
