/*
 * mailq_format.c - Postfix's mailq text and postqueue -j JSON output.
 *
 * Mirrors the rules of Postfix's showq_compat.c and showq_json.c (see
 * mailq_format.h); used by postqueue and held by a unit test.
 */
#include "sys_defs.h"
#include <time.h>
#include "vstring.h"
#include "mailq_format.h"

#define MQ_STRING_FORMAT	"%-17s %8s %-19s %s\n"
#define MQ_SENDER_FORMAT	"%-17s %8ld %19.19s %s\n"
#define MQ_HEADINGS		"----Queue ID-----", "--Size--", \
				"---Arrival Time----", "--Sender/Recipient------"
#define MQ_EMPTY_SENDER		"MAILER-DAEMON"
#define MQ_REASON_WIDTH		76

void    mailq_format_init(MAILQ_FORMAT *mf, VSTREAM *out)
{
    mf->out = out;
    mf->files = 0;
    mf->bytes = 0;
}

/* mailq_format_text - one message in Postfix's mailq layout */

void    mailq_format_text(MAILQ_FORMAT *mf, const SHOWQ_MSG *msg)
{
    VSTRING *id_status = vstring_alloc(20);
    time_t  arrival = msg->arrival_time;
    const char *saved_reason = "";
    char    date[32];
    struct tm tm;

    if (mf->files == 0)
	vstream_fprintf(mf->out, MQ_STRING_FORMAT, MQ_HEADINGS);
    else
	vstream_fputs("\n", mf->out);
    vstring_strcpy(id_status, msg->queue_id);
    if (strcmp(msg->queue_name, "active") == 0)
	vstring_addch(id_status, '*');
    else if (strcmp(msg->queue_name, "hold") == 0)
	vstring_addch(id_status, '!');
    if (msg->forced_expire)
	vstring_addch(id_status, '#');
    if (localtime_r(&arrival, &tm) == 0 || asctime_r(&tm, date) == 0)
	date[0] = 0;
    vstream_fprintf(mf->out, MQ_SENDER_FORMAT, STR(id_status),
		    msg->message_size, date,
		    *msg->sender ? msg->sender : MQ_EMPTY_SENDER);
    for (int i = 0; i < msg->rcpt_count; i++) {
	const char *why = msg->rcpts[i].reason;

	if (strcmp(saved_reason, why) != 0) {
	    const char *show = *why ? why : "reason unavailable";
	    int     padding = MQ_REASON_WIDTH - (int) strlen(show);

	    saved_reason = why;
	    vstream_fprintf(mf->out, "%*s(%s)\n", padding > 0 ? padding : 0, "", show);
	}
	vstream_fprintf(mf->out, MQ_STRING_FORMAT, "", "", "", msg->rcpts[i].address);
    }
    mf->files++;
    mf->bytes += msg->message_size > 0 ? (unsigned long) msg->message_size : 0;
    vstring_free(id_status);
}

/* mailq_format_text_end - the closing summary line */

void    mailq_format_text_end(MAILQ_FORMAT *mf)
{
    if (mf->files == 0)
	vstream_fputs("Mail queue is empty\n", mf->out);
    else
	vstream_fprintf(mf->out, "\n-- %lu Kbytes in %lu Request%s.\n",
			mf->bytes / 1024, mf->files, mf->files == 1 ? "" : "s");
}

/* json_quote - TEXT as the inside of a JSON string, into BUF */

static const char *json_quote(VSTRING *buf, const char *text)
{
    vstring_reset(buf);
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++) {
	switch (*cp) {
	case '"':
	case '\\':
	    vstring_addch(buf, '\\');
	    vstring_addch(buf, *cp);
	    break;
	case '\n':
	    vstring_strcat(buf, "\\n");
	    break;
	case '\r':
	    vstring_strcat(buf, "\\r");
	    break;
	case '\t':
	    vstring_strcat(buf, "\\t");
	    break;
	default:
	    if (*cp < 0x20 || *cp == 0x7f)
		vstring_sprintf_append(buf, "\\u%04X", *cp);
	    else
		vstring_addch(buf, *cp);
	    break;
	}
    }
    return (STR(buf));
}

/* mailq_format_json - one message as one JSON object on one line */

void    mailq_format_json(MAILQ_FORMAT *mf, const SHOWQ_MSG *msg)
{
    VSTRING *buf = vstring_alloc(100);
    VSTREAM *out = mf->out;

    vstream_fprintf(out, "{\"queue_name\": \"%s\", ", json_quote(buf, msg->queue_name));
    vstream_fprintf(out, "\"queue_id\": \"%s\", ", json_quote(buf, msg->queue_id));
    vstream_fprintf(out, "\"arrival_time\": %ld, ", msg->arrival_time);
    vstream_fprintf(out, "\"message_size\": %ld, ", msg->message_size);
    vstream_fprintf(out, "\"forced_expire\": %s, ", msg->forced_expire ? "true" : "false");
    vstream_fprintf(out, "\"sender\": \"%s\", ", json_quote(buf, msg->sender));
    vstream_fputs("\"recipients\": [", out);
    for (int i = 0; i < msg->rcpt_count; i++) {
	vstream_fprintf(out, "%s{\"address\": \"%s\"", i ? ", " : "",
			json_quote(buf, msg->rcpts[i].address));
	if (*msg->rcpts[i].reason)
	    vstream_fprintf(out, ", \"delay_reason\": \"%s\"",
			    json_quote(buf, msg->rcpts[i].reason));
	vstream_fputs("}", out);
    }
    vstream_fputs("]}\n", out);
    mf->files++;
    vstring_free(buf);
}
