/*
 * smtpd_bdat.c - the BDAT command: CHUNKING (RFC 3030), as Postfix has it.
 *
 * "BDAT count [LAST]" is followed by exactly COUNT bytes of message
 * content: no dot-stuffing and no end marker, so nothing in the content can
 * end the message early (the reader is smtpd_data.c's BDAT reader; CRLF
 * becomes LF, a bare LF ends a line).  The first chunk of a transaction
 * opens the queue file after the data restrictions; each chunk is answered
 * "250 2.0.0 Ok: N bytes" once its bytes are in, and the LAST one with
 * "250 2.0.0 Ok: queued as ID" once the file is committed (header and body
 * checks, hold, discard and the size limit as with DATA).  BDAT works with
 * PIPELINING: the bytes after the command line are the chunk, whatever
 * they look like.
 *
 * A chunk that cannot be taken is still read to its end, then refused:
 * "501 5.5.4 Syntax: BDAT count [LAST]" (a bad LAST word), "503 5.5.1
 * Error: need MAIL command", "554 5.5.1 Error: no valid recipients",
 * "551 5.7.1 Null BDAT request" (an empty chunk that is not LAST), "552
 * 5.3.4 Chunk exceeds message size limit" (the transaction ends), a data
 * restriction's reject, or a queue file error.  A count that is not a
 * number leaves no way to find the next command: "521 5.5.4 Syntax: BDAT
 * count [LAST]" and the session ends.  DATA, MAIL and RCPT in the middle
 * of a chunked message get "503 5.5.1 Error: DATA after BDAT" (MAIL, RCPT
 * the same); RSET drops the message.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "smtpd.h"

#define BDAT_COUNT_DIGITS	18		/* a count fits a long */

/* bdat_refuse - read the chunk, then answer REPLY (and count an error) */

static void bdat_refuse(SMTPD_STATE *state, const char *reply)
{
    state->bdat_reply = mystrdup(reply);
}

/* bdat_parse - "count [LAST]": 1 good, 0 a bad LAST word, -1 no count */

static int bdat_parse(char *args, long *count, int *last)
{
    char   *word = strsep(&args, " \t");
    char   *rest;

    *last = 0;
    if (word == 0 || *word == 0 || strlen(word) > BDAT_COUNT_DIGITS)
	return (-1);
    for (const char *cp = word; *cp; cp++)
	if (!isdigit((unsigned char) *cp))
	    return (-1);
    *count = strtol(word, (char **) 0, 10);
    while (args && (*args == ' ' || *args == '\t'))
	args++;
    if (args == 0 || *args == 0)
	return (1);
    rest = strsep(&args, " \t");
    if (strcasecmp(rest, "LAST") != 0 || (args && *args))
	return (0);
    *last = 1;
    return (1);
}

/* bdat_first - the first chunk of a message: restrictions, queue file;
 * 0, -1 (refused), or SMTPD_WAIT */

static int bdat_first(SMTPD_STATE *state)
{
    VSTRING *reply = vstring_alloc(100);
    int     ret;

    if ((ret = smtpd_restrict_data(state, reply)) == SMTPD_WAIT) {
	 /* again after DNS */ ;
    } else if (ret < 0) {
	smtpd_reject_log(state, "BDAT", STR(reply), 0);
	bdat_refuse(state, STR(reply));
	ret = -1;
    } else if (smtpd_bdat_begin(state) < 0) {
	/* replied already: take the chunk quietly */
	state->bdat_reply = mystrdup("");
	ret = -1;
    }
    vstring_free(reply);
    return (ret);
}

/* bdat_done - the chunk is in: answer it */

static void bdat_done(SMTPD_STATE *state)
{
    state->mode = SMTPD_MODE_CMD;
    if (state->bdat_reply) {
	if (*state->bdat_reply)
	    smtpd_reply_raw(state, state->bdat_reply);
	myfree(state->bdat_reply);
	state->bdat_reply = 0;
	state->cmd_ok[SMTPD_CMD_BDAT]--;	/* counted good when it came */
	smtpd_error(state);
	return;
    }
    if (state->bdat_last)
	smtpd_bdat_end(state);
    else
	smtpd_reply(state, "250 2.0.0 Ok: %ld bytes", state->bdat_size);
}

int     smtpd_bdat_cmd(SMTPD_STATE *state, char *args)
{
    long    count;
    int     syntax;
    int     first;

    if ((syntax = bdat_parse(args, &count, &state->bdat_last)) < 0) {
	smtpd_reply(state, "521 5.5.4 Syntax: BDAT count [LAST]");
	state->mode = SMTPD_MODE_CLOSE;		/* no way to find the end */
	return (-1);
    }
    state->bdat_size = state->bdat_left = count;
    if (syntax == 0)
	bdat_refuse(state, "501 5.5.4 Syntax: BDAT count [LAST]");
    else if (!state->in_mail)
	bdat_refuse(state, "503 5.5.1 Error: need MAIL command");
    else if (state->rcpt_count == 0)
	bdat_refuse(state, "554 5.5.1 Error: no valid recipients");
    else if (count == 0 && !state->bdat_last)
	bdat_refuse(state, "551 5.7.1 Null BDAT request");
    else if (var_message_size_limit > 0
	     && (state->bdat_active ? state->bdat_total : 0) + count
	     > var_message_size_limit) {
	msg_info("NOQUEUE: reject: BDAT from %s: 552 5.3.4 Chunk exceeds message "
		 "size limit; from=<%s> proto=%s", state->namaddr, state->sender,
		 state->protocol);
	bdat_refuse(state, "552 5.3.4 Chunk exceeds message size limit");
	smtpd_data_abort(state);		/* the transaction ends */
	smtpd_reset_transaction(state);
    } else if (state->bdat_active || (first = bdat_first(state)) == 0) {
	state->bdat_total += count;
    } else if (first == SMTPD_WAIT) {
	return (SMTPD_WAIT);			/* the chunk waits in the input */
    }
    state->mode = SMTPD_MODE_BDAT;
    if (count == 0)
	bdat_done(state);
    return (0);
}

size_t  smtpd_bdat_input(SMTPD_STATE *state, const char *buf, size_t len)
{
    size_t  n = len < (size_t) state->bdat_left ? len : (size_t) state->bdat_left;

    if (state->bdat_reply == 0 && n > 0)
	smtpd_bdat_content(state, buf, n);
    state->bdat_left -= (long) n;
    if (state->bdat_left == 0)
	bdat_done(state);
    return (n);
}
