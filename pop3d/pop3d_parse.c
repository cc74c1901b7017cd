/*
 * pop3d_parse.c - POP3 command lines (pop3d_parse.h).
 *
 * The arguments are split in a copy of the line, so cmd->rest (which
 * points into the caller's line) stays whole; pop3_cmd_free() releases
 * the copy.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "mymalloc.h"
#include "pop3d_parse.h"

void    pop3_cmd_free(POP3_CMD *cmd)
{
    if (cmd->copy)
	myfree(cmd->copy);
    cmd->copy = 0;
}

int     pop3_parse(const char *line, size_t len, POP3_CMD *cmd, const char **why)
{
    const char *start = line;
    char   *cp;
    char   *word;
    size_t  n;

    memset(cmd, 0, sizeof(*cmd));
    if (strlen(line) != len) {
	*why = "NUL character in command";
	return (-1);
    }
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = (unsigned char) line[i];

	if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
	    *why = "Control character in command";
	    return (-1);
	}
    }
    n = strcspn(start, " \t");
    if (n == 0) {
	*why = "Missing command";
	return (-1);
    }
    if (n > POP3_VERB_MAX) {
	*why = "Unknown command";
	return (-1);
    }
    for (size_t i = 0; i < n; i++)
	cmd->verb[i] = (char) toupper((unsigned char) start[i]);
    cmd->verb[n] = 0;
    start += n;
    cmd->rest = *start ? start + 1 : start;	/* one separator */
    cp = cmd->copy = mystrdup(start);
    while (*cp) {
	cp += strspn(cp, " \t");
	if (*cp == 0)
	    break;
	word = cp;
	cp += strcspn(cp, " \t");
	if (*cp)
	    *cp++ = 0;
	if (cmd->argc == POP3_MAX_ARGS) {
	    cmd->too_many = 1;
	    break;
	}
	cmd->argv[cmd->argc++] = word;
    }
    return (0);
}

long    pop3_number(const char *arg, int zero_ok)
{
    long    value = 0;
    size_t  n = strspn(arg, "0123456789");

    if (n == 0 || n > 9 || arg[n] != 0)
	return (-1);
    for (size_t i = 0; i < n; i++)
	value = value * 10 + (arg[i] - '0');
    if (value == 0 && !zero_ok)
	return (-1);
    return (value);
}
