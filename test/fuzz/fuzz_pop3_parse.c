/*
 * fuzz_pop3_parse.c - libFuzzer harness for pop3d/pop3d_parse.c, the POP3
 * command line parser that both halves of pop3d run on client input.
 *
 * Built and run by test/fuzz/run.sh.  The input is split at LF into lines
 * (CR removed at the end, as the servers do); each line is parsed.  A
 * refused line must have a reason; an accepted one must have an
 * upper-case command word of 1..POP3_VERB_MAX letters, at most
 * POP3_MAX_ARGS arguments without white space, each inside the line, and
 * cmd.rest inside the line.  Every argument also goes through
 * pop3_number(), whose result must be -1 or the decimal value of an
 * all-digit argument.  A broken invariant calls abort().
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "pop3d_parse.h"

#define FUZZ_MAX_INPUT	(64 * 1024)

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_pop3_parse: %s\n", what);
    abort();
}

static void check_number(const char *arg)
{
    long    n = pop3_number(arg, 1);
    size_t  len = strlen(arg);

    if (n < 0)
	return;
    if (len == 0 || len > 9 || strspn(arg, "0123456789") != len)
	fail("pop3_number accepted a non-number");
    if (n != strtol(arg, (char **) 0, 10))
	fail("pop3_number gave a wrong value");
}

static void check_line(const char *line, size_t len)
{
    POP3_CMD cmd;
    const char *why = 0;

    if (pop3_parse(line, len, &cmd, &why) < 0) {
	if (why == 0 || *why == 0)
	    fail("refused without a reason");
	pop3_cmd_free(&cmd);
	return;
    }
    if (cmd.verb[0] == 0 || strlen(cmd.verb) > POP3_VERB_MAX)
	fail("bad command word length");
    for (const char *cp = cmd.verb; *cp; cp++)
	if (islower((unsigned char) *cp) || isspace((unsigned char) *cp))
	    fail("command word not upper case or has white space");
    if (cmd.argc < 0 || cmd.argc > POP3_MAX_ARGS)
	fail("argument count out of range");
    if (cmd.rest < line || cmd.rest > line + len)
	fail("rest outside the line");
    for (int i = 0; i < cmd.argc; i++) {
	if (*cmd.argv[i] == 0 || strpbrk(cmd.argv[i], " \t"))
	    fail("empty argument or white space in an argument");
	check_number(cmd.argv[i]);
    }
    pop3_cmd_free(&cmd);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    msg_init("fuzz_pop3_parse", 0);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *copy;
    char   *line, *end, *nl;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    end = copy + size;
    for (line = copy; line < end; line = nl + 1) {
	size_t  len;

	if ((nl = memchr(line, '\n', (size_t) (end - line))) == 0)
	    nl = end;
	len = (size_t) (nl - line);
	if (len > 0 && line[len - 1] == '\r')
	    len--;
	line[len] = 0;
	check_line(line, len);
    }
    free(copy);
    return (0);
}
