/*
 * pop3d_parse.h - POP3 command lines (RFC 1939, 2449, 5034), for the
 * login and the session halves of pop3d.
 *
 * pop3_parse() splits a line (CRLF already removed) into the command
 * word, folded to upper case, and its arguments (split at spaces and
 * tabs; at most POP3_MAX_ARGS).  cmd->rest is everything after the
 * command word and one space, so that a PASS password may contain spaces.  A line with NUL or other
 * control characters (TAB aside), no command word, or an over-long command
 * word is refused.  pop3_number() takes a message number or line count:
 * decimal digits only, no sign, at most 9 digits.
 */
#ifndef POP3D_PARSE_H
#define POP3D_PARSE_H

#include "sys_defs.h"

#define POP3_MAX_ARGS	3
#define POP3_VERB_MAX	8

typedef struct POP3_CMD {
    char    verb[POP3_VERB_MAX + 1];
    int     argc;
    const char *argv[POP3_MAX_ARGS];	/* point into the line */
    const char *rest;			/* after the verb and one space */
    int     too_many;			/* more than POP3_MAX_ARGS arguments */
    char   *copy;			/* what argv points into */
} POP3_CMD;

/* pop3_parse - 0, or -1 with a reason for "-ERR" in *WHY; then pop3_cmd_free */
int	pop3_parse(const char *line, size_t len, POP3_CMD *cmd, const char **why);
void	pop3_cmd_free(POP3_CMD *cmd);

/* pop3_number - ARG as a number > 0 (or >= 0 with ZERO_OK); -1 if bad */
long	pop3_number(const char *arg, int zero_ok);

#endif
