/*
 * milter_proto.c - milter packets: framing, reply decoding, checks of
 * what a filter asks for; see milter_proto.h.
 *
 * Every reply has a format in one table: "" (no data), "S" (a string),
 * "SS", "ISS" (a 32-bit index, then two strings), "Ss" (the second string
 * may be left out) or "B" (raw bytes).  The decoder walks the format over
 * the data and insists that nothing is left over, as Postfix does.
 */
#include "sys_defs.h"
#include <arpa/inet.h>
#include "vstring.h"
#include "printable.h"
#include "milter_proto.h"

typedef struct MILTER_CODE {
    int     code;
    const char *name;
    const char *format;			/* replies: the data's shape */
    int     action;			/* replies: the SMFIF_* it needs */
} MILTER_CODE;

static const MILTER_CODE milter_cmds[] = {
    {SMFIC_ABORT, "SMFIC_ABORT", 0, 0},
    {SMFIC_BODY, "SMFIC_BODY", 0, 0},
    {SMFIC_CONNECT, "SMFIC_CONNECT", 0, 0},
    {SMFIC_MACRO, "SMFIC_MACRO", 0, 0},
    {SMFIC_BODYEOB, "SMFIC_BODYEOB", 0, 0},
    {SMFIC_HELO, "SMFIC_HELO", 0, 0},
    {SMFIC_HEADER, "SMFIC_HEADER", 0, 0},
    {SMFIC_MAIL, "SMFIC_MAIL", 0, 0},
    {SMFIC_EOH, "SMFIC_EOH", 0, 0},
    {SMFIC_OPTNEG, "SMFIC_OPTNEG", 0, 0},
    {SMFIC_QUIT, "SMFIC_QUIT", 0, 0},
    {SMFIC_RCPT, "SMFIC_RCPT", 0, 0},
    {SMFIC_DATA, "SMFIC_DATA", 0, 0},
    {SMFIC_UNKNOWN, "SMFIC_UNKNOWN", 0, 0},
    {0, 0, 0, 0},
};

static const MILTER_CODE milter_replies[] = {
    {SMFIR_ADDRCPT, "SMFIR_ADDRCPT", "S", SMFIF_ADDRCPT},
    {SMFIR_DELRCPT, "SMFIR_DELRCPT", "S", SMFIF_DELRCPT},
    {SMFIR_ADDRCPT_PAR, "SMFIR_ADDRCPT_PAR", "Ss", SMFIF_ADDRCPT_PAR},
    {SMFIR_SHUTDOWN, "SMFIR_SHUTDOWN", "", 0},
    {SMFIR_ACCEPT, "SMFIR_ACCEPT", "", 0},
    {SMFIR_REPLBODY, "SMFIR_REPLBODY", "B", SMFIF_CHGBODY},
    {SMFIR_CONTINUE, "SMFIR_CONTINUE", "", 0},
    {SMFIR_DISCARD, "SMFIR_DISCARD", "", 0},
    {SMFIR_CHGFROM, "SMFIR_CHGFROM", "Ss", SMFIF_CHGFROM},
    {SMFIR_CONN_FAIL, "SMFIR_CONN_FAIL", "", 0},
    {SMFIR_ADDHEADER, "SMFIR_ADDHEADER", "SS", SMFIF_ADDHDRS},
    {SMFIR_INSHEADER, "SMFIR_INSHEADER", "ISS", SMFIF_ADDHDRS},
    {SMFIR_SETSYMLIST, "SMFIR_SETSYMLIST", 0, 0},	/* only in SMFIC_OPTNEG */
    {SMFIR_CHGHEADER, "SMFIR_CHGHEADER", "ISS", SMFIF_CHGHDRS},
    {SMFIR_PROGRESS, "SMFIR_PROGRESS", "", 0},
    {SMFIR_QUARANTINE, "SMFIR_QUARANTINE", "S", SMFIF_QUARANTINE},
    {SMFIR_REJECT, "SMFIR_REJECT", "", 0},
    {SMFIR_SKIP, "SMFIR_SKIP", "", 0},
    {SMFIR_TEMPFAIL, "SMFIR_TEMPFAIL", "", 0},
    {SMFIR_REPLYCODE, "SMFIR_REPLYCODE", "S", 0},
    {0, 0, 0, 0},
};

static const MILTER_CODE *milter_code_find(const MILTER_CODE *table, int code)
{
    for (; table->name; table++)
	if (table->code == code)
	    return (table);
    return (0);
}

const char *milter_cmd_name(int cmd)
{
    const MILTER_CODE *mc = milter_code_find(milter_cmds, cmd);

    return (mc ? mc->name : "(unknown MTA event)");
}

const char *milter_reply_name(int reply)
{
    const MILTER_CODE *mc = milter_code_find(milter_replies, reply);

    return (mc ? mc->name : "(unknown filter reply)");
}

/* Writing */

void    milter_pkt_put(VSTRING *out, int cmd, const char *data, size_t len)
{
    uint32_t net_len = htonl((uint32_t) (len + 1));

    vstring_memcat(out, &net_len, sizeof(net_len));
    vstring_addch(out, cmd);
    vstring_memcat(out, data, len);
}

void    milter_data_u32(VSTRING *data, uint32_t value)
{
    uint32_t net = htonl(value);

    vstring_memcat(data, &net, sizeof(net));
}

void    milter_data_u16(VSTRING *data, unsigned value)
{
    uint16_t net = htons((uint16_t) value);

    vstring_memcat(data, &net, sizeof(net));
}

void    milter_data_str(VSTRING *data, const char *str)
{
    vstring_memcat(data, str, strlen(str) + 1);
}

/* Reading */

int     milter_pkt_split(const char *buf, size_t len, MILTER_PKT *pkt, VSTRING *why)
{
    uint32_t net_len;
    size_t  pkt_len;

    if (len < MILTER_HDR_BYTES)
	return (0);
    memcpy(&net_len, buf, sizeof(net_len));
    pkt_len = ntohl(net_len);
    if (pkt_len < 1) {
	vstring_sprintf(why, "bad packet length: %lu", (unsigned long) pkt_len);
	return (-1);
    }
    if (pkt_len > MILTER_MAX_PACKET) {
	vstring_sprintf(why, "unreasonable packet length: %lu", (unsigned long) pkt_len);
	return (-1);
    }
    if (len < MILTER_HDR_BYTES + pkt_len)
	return (0);
    pkt->cmd = (unsigned char) buf[MILTER_HDR_BYTES];
    pkt->data = buf + MILTER_HDR_BYTES + 1;
    pkt->len = pkt_len - 1;
    pkt->used = MILTER_HDR_BYTES + pkt_len;
    return (1);
}

/* milter_get_u32 - a network long at *CP; 0, or -1 */

static int milter_get_u32(const char **cp, const char *end, uint32_t *value,
			          VSTRING *why)
{
    uint32_t net;

    if (end - *cp < (ptrdiff_t) sizeof(net)) {
	vstring_strcpy(why, "input packet too short for network long");
	return (-1);
    }
    memcpy(&net, *cp, sizeof(net));
    *value = ntohl(net);
    *cp += sizeof(net);
    return (0);
}

/* milter_get_str - a NUL-terminated string at *CP; 0, or -1 */

static int milter_get_str(const char **cp, const char *end, const char **str,
			          VSTRING *why)
{
    const char *nul;

    if (*cp >= end) {
	vstring_strcpy(why, "packet too short for string");
	return (-1);
    }
    if ((nul = memchr(*cp, 0, (size_t) (end - *cp))) == 0) {
	vstring_strcpy(why, "missing string null terminator");
	return (-1);
    }
    *str = *cp;
    *cp = nul + 1;
    return (0);
}

/* milter_walk - decode DATA by FORMAT into REPLY; 0, or -1 */

static int milter_walk(const char *format, const MILTER_PKT *pkt,
		               MILTER_REPLY *reply, VSTRING *why)
{
    const char *cp = pkt->data;
    const char *end = pkt->data + pkt->len;
    const char **next_str = &reply->str1;
    int     status = 0;

    for (; *format && status == 0; format++) {
	switch (*format) {
	case 'I':
	    status = milter_get_u32(&cp, end, &reply->index, why);
	    break;
	case 's':				/* optional: only if data is left */
	    if (cp == end)
		break;
	    /* FALLTHROUGH */
	case 'S':
	    status = milter_get_str(&cp, end, next_str, why);
	    next_str = &reply->str2;
	    break;
	case 'B':
	    reply->data = cp;
	    reply->len = (size_t) (end - cp);
	    cp = end;
	    break;
	}
    }
    if (status == 0 && cp < end) {
	vstring_sprintf(why, "left-over data %ld bytes", (long) (end - cp));
	status = -1;
    }
    return (status);
}

int     milter_reply_decode(const MILTER_PKT *pkt, MILTER_REPLY *reply, VSTRING *why)
{
    const MILTER_CODE *mc = milter_code_find(milter_replies, pkt->cmd);

    memset(reply, 0, sizeof(*reply));
    reply->cmd = pkt->cmd;
    if (mc == 0 || mc->format == 0) {
	vstring_sprintf(why, "unexpected filter response %s", milter_reply_name(pkt->cmd));
	return (-1);
    }
    if (*mc->format == 0 && pkt->len > 0) {
	vstring_sprintf(why, "reply %s was followed by %ld data bytes",
			mc->name, (long) pkt->len);
	return (-1);
    }
    return (milter_walk(mc->format, pkt, reply, why));
}

int     milter_optneg_decode(const MILTER_PKT *pkt, MILTER_OPTNEG *opt, VSTRING *why)
{
    const char *cp = pkt->data;
    const char *end = pkt->data + pkt->len;
    const char *list;
    uint32_t stage;

    memset(opt, 0, sizeof(*opt));
    if (milter_get_u32(&cp, end, &opt->version, why) < 0
	|| milter_get_u32(&cp, end, &opt->actions, why) < 0
	|| milter_get_u32(&cp, end, &opt->protocol, why) < 0)
	return (-1);
    while (cp < end) {				/* SMFIF_SETSYMLIST lists */
	if (milter_get_u32(&cp, end, &stage, why) < 0
	    || milter_get_str(&cp, end, &list, why) < 0)
	    return (-1);
	if (stage >= SMFIM_COUNT) {
	    vstring_sprintf(why, "unknown macro list stage %lu", (unsigned long) stage);
	    return (-1);
	}
	opt->macros[stage] = list;
    }
    return (0);
}

int     milter_reply_final(int reply)
{
    return (reply != 0 && strchr("cartdys4f", reply) != 0);
}

int     milter_reply_allowed(int event, int reply)
{
    const MILTER_CODE *mc = milter_code_find(milter_replies, reply);

    if (mc == 0 || mc->format == 0)
	return (0);
    if (reply == SMFIR_SKIP)
	return (event == SMFIC_BODY);
    if (mc->action != 0)
	return (event == SMFIC_BODYEOB);
    return (1);
}

int     milter_reply_action(int reply)
{
    const MILTER_CODE *mc = milter_code_find(milter_replies, reply);

    return (mc ? mc->action : 0);
}

/* milter_reply_line_ok - LINE starts with CODE and a proper separator */

static int milter_reply_line_ok(const char *line, size_t len, const char *code)
{
    const unsigned char *cp = (const unsigned char *) line;

    if (len < 4 || (cp[0] != '4' && cp[0] != '5')
	|| cp[1] < '0' || cp[1] > '9' || cp[2] < '0' || cp[2] > '9'
	|| (cp[3] != ' ' && cp[3] != '-'))
	return (0);
    if (code != 0 && strncmp(line, code, 3) != 0)
	return (0);
    if (len > 4 && cp[4] >= '0' && cp[4] <= '9' && cp[4] != cp[0])
	return (0);				/* 550 4.7.1: classes differ */
    return (1);
}

/* milter_reply_line - append LINE without Sendmail's '%' quoting, printable */

static void milter_reply_line(VSTRING *out, const char *line, size_t len)
{
    size_t  start = LEN(out);

    for (size_t i = 0; i < len; i++) {
	if (line[i] == '%' && ++i >= len)
	    break;				/* a lone '%' at the end goes */
	vstring_addch(out, line[i]);
    }
    printable(STR(out) + start, '?');
}

int     milter_reply_text(VSTRING *out, const char *text)
{
    const char *line = text;
    const char *end;
    size_t  len;

    vstring_reset(out);
    for (;;) {
	end = line + strcspn(line, "\n");
	len = (size_t) (end - line);
	if (len > 0 && line[len - 1] == '\r')
	    len--;
	if (!milter_reply_line_ok(line, len, line == text ? 0 : text))
	    return (-1);
	milter_reply_line(out, line, len);
	if (*end == 0 || end[1] == 0)		/* a final line break is fine */
	    return (0);
	vstring_strcat(out, "\r\n");
	line = end + 1;
    }
}

int     milter_hdr_name_ok(const char *name)
{
    const unsigned char *cp = (const unsigned char *) name;

    if (*cp == 0)
	return (0);
    for (; *cp; cp++)
	if (*cp <= ' ' || *cp >= 0x7f || *cp == ':')
	    return (0);
    return (1);
}

int     milter_addr_ok(const char *text)
{
    const unsigned char *cp = (const unsigned char *) text;

    for (; *cp; cp++)
	if (*cp < ' ' || *cp == 0x7f)
	    return (0);
    return (1);
}

void    milter_hdr_value(VSTRING *out, const char *value, int leadspc)
{
    const char *end = value + strlen(value);
    const char *cp;

    while (end > value && (end[-1] == '\r' || end[-1] == '\n'))
	end--;					/* no line break at the end */
    vstring_reset(out);
    if (!leadspc)
	vstring_addch(out, ' ');
    for (cp = value; cp < end; cp++) {
	if (*cp == '\r' && cp[1] == '\n')
	    continue;				/* CRLF: the LF does it */
	if (*cp != '\r' && *cp != '\n') {
	    vstring_addch(out, *cp);
	    continue;
	}
	vstring_addch(out, '\n');
	if (cp[1] != ' ' && cp[1] != '\t')
	    vstring_addch(out, '\t');		/* keep it a continuation */
    }
}
