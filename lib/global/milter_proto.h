/*
 * milter_proto.h - the Sendmail/Postfix milter protocol (version 6) on
 * the wire, as pure functions on buffers: no descriptors, no events, no
 * logging.  lib/global/milter_clnt.c does the I/O; test/fuzz/fuzz_milter
 * feeds the decoder any bytes.
 *
 * A packet is a 32-bit length in network order (counting the command
 * byte and the data), a command byte, and the data: 32-bit and 16-bit
 * numbers in network order, strings that end in NUL, raw body bytes.
 *
 *   Writing (MTA -> filter): build the data, then frame it
 *	vstring_reset(data);
 *	milter_data_str(data, "client.example.org");
 *	milter_pkt_put(out, SMFIC_HELO, STR(data), LEN(data));
 *
 *   Reading (filter -> MTA): cut one packet off the input, then decode it
 *	MILTER_PKT pkt;
 *	switch (milter_pkt_split(STR(in), LEN(in), &pkt, why)) {
 *	case 1:  milter_reply_decode(&pkt, &reply, why) ... (or
 *		 milter_optneg_decode() for the negotiation answer), then
 *		 vstring_drop_head(in, pkt.used) when done with it
 *	case 0:  the packet is not complete yet: read more
 *	case -1: a length no filter sends; WHY says why
 *	}
 *
 * Decoded strings point into the input buffer (a string in a packet ends
 * in NUL, so they are C strings); they are text as the filter sent it.
 * milter_reply_text(), milter_hdr_name_ok() and milter_addr_ok() check
 * what a filter asks for before anyone uses it; WHY texts come with
 * unprintable bytes replaced, ready for a log line.
 *
 * The constants are the protocol's (the names Sendmail's libmilter uses);
 * the code here is Posthorn's own.
 */
#ifndef MILTER_PROTO_H
#define MILTER_PROTO_H

#include "sys_defs.h"
#include "vstring.h"

/* Commands from the MTA to the filter */
#define SMFIC_ABORT	'A'		/* abort the message */
#define SMFIC_BODY	'B'		/* body chunk */
#define SMFIC_CONNECT	'C'		/* connection information */
#define SMFIC_MACRO	'D'		/* define macros */
#define SMFIC_BODYEOB	'E'		/* end of message */
#define SMFIC_HELO	'H'		/* HELO/EHLO */
#define SMFIC_HEADER	'L'		/* one header */
#define SMFIC_MAIL	'M'		/* MAIL FROM */
#define SMFIC_EOH	'N'		/* end of headers */
#define SMFIC_OPTNEG	'O'		/* option negotiation */
#define SMFIC_QUIT	'Q'		/* end of session */
#define SMFIC_RCPT	'R'		/* RCPT TO */
#define SMFIC_DATA	'T'		/* DATA */
#define SMFIC_UNKNOWN	'U'		/* a command the MTA does not know */

/* Replies from the filter to the MTA */
#define SMFIR_ADDRCPT	'+'		/* add recipient */
#define SMFIR_DELRCPT	'-'		/* delete recipient */
#define SMFIR_ADDRCPT_PAR '2'		/* add recipient with ESMTP arguments */
#define SMFIR_SHUTDOWN	'4'		/* 421: close the session */
#define SMFIR_ACCEPT	'a'		/* accept */
#define SMFIR_REPLBODY	'b'		/* replace body (one chunk) */
#define SMFIR_CONTINUE	'c'		/* continue */
#define SMFIR_DISCARD	'd'		/* discard the message */
#define SMFIR_CHGFROM	'e'		/* change the envelope sender */
#define SMFIR_CONN_FAIL	'f'		/* fail the connection */
#define SMFIR_ADDHEADER	'h'		/* add header */
#define SMFIR_INSHEADER	'i'		/* insert header */
#define SMFIR_SETSYMLIST 'l'		/* macro lists (in the SMFIC_OPTNEG answer) */
#define SMFIR_CHGHEADER	'm'		/* change or delete header */
#define SMFIR_PROGRESS	'p'		/* still working */
#define SMFIR_QUARANTINE 'q'		/* quarantine the message */
#define SMFIR_REJECT	'r'		/* reject */
#define SMFIR_SKIP	's'		/* skip the rest of the body */
#define SMFIR_TEMPFAIL	't'		/* tempfail */
#define SMFIR_REPLYCODE	'y'		/* an SMTP reply of its own */

/* Actions the filter may ask for (SMFIC_OPTNEG) */
#define SMFIF_ADDHDRS	0x0001
#define SMFIF_CHGBODY	0x0002
#define SMFIF_ADDRCPT	0x0004
#define SMFIF_DELRCPT	0x0008
#define SMFIF_CHGHDRS	0x0010
#define SMFIF_QUARANTINE 0x0020
#define SMFIF_CHGFROM	0x0040
#define SMFIF_ADDRCPT_PAR 0x0080
#define SMFIF_SETSYMLIST 0x0100

/* Steps the filter does not want, or will not answer (SMFIC_OPTNEG) */
#define SMFIP_NOCONNECT	0x00000001
#define SMFIP_NOHELO	0x00000002
#define SMFIP_NOMAIL	0x00000004
#define SMFIP_NORCPT	0x00000008
#define SMFIP_NOBODY	0x00000010
#define SMFIP_NOHDRS	0x00000020
#define SMFIP_NOEOH	0x00000040
#define SMFIP_NR_HDR	0x00000080		/* no reply per header */
#define SMFIP_NOUNKNOWN	0x00000100
#define SMFIP_NODATA	0x00000200
#define SMFIP_SKIP	0x00000400		/* the MTA knows SMFIR_SKIP */
#define SMFIP_RCPT_REJ	0x00000800		/* send rejected recipients too */
#define SMFIP_NR_CONN	0x00001000
#define SMFIP_NR_HELO	0x00002000
#define SMFIP_NR_MAIL	0x00004000
#define SMFIP_NR_RCPT	0x00008000
#define SMFIP_NR_DATA	0x00010000
#define SMFIP_NR_UNKN	0x00020000
#define SMFIP_NR_EOH	0x00040000
#define SMFIP_NR_BODY	0x00080000
#define SMFIP_HDR_LEADSPC 0x00100000		/* header values keep their space */
#define SMFIP_MDS_256K	0x10000000		/* larger packets: not offered */
#define SMFIP_MDS_1M	0x20000000

/* What the MTA offers for each protocol version it can speak */
#define MILTER_V2_EVENTS	0x0000007f	/* SMFIP_NOCONNECT .. SMFIP_NOEOH */
#define MILTER_V3_EVENTS	(MILTER_V2_EVENTS | SMFIP_NOUNKNOWN)
#define MILTER_V4_EVENTS	(MILTER_V3_EVENTS | SMFIP_NODATA)
#define MILTER_V6_EVENTS	0x001fffff	/* everything up to HDR_LEADSPC */
#define MILTER_V2_ACTIONS	0x003f		/* SMFIF_ADDHDRS .. QUARANTINE */
#define MILTER_V6_ACTIONS	0x01ff		/* ... CHGFROM, ADDRCPT_PAR, SETSYMLIST */

/* Address families in SMFIC_CONNECT */
#define SMFIA_UNKNOWN	'U'
#define SMFIA_UNIX	'L'
#define SMFIA_INET	'4'
#define SMFIA_INET6	'6'

/* Macro stages (SMFIR_SETSYMLIST numbers; MILTER_MACRO_* in milter_clnt.h) */
#define SMFIM_CONNECT	0
#define SMFIM_HELO	1
#define SMFIM_ENVFROM	2
#define SMFIM_ENVRCPT	3
#define SMFIM_DATA	4
#define SMFIM_EOM	5
#define SMFIM_EOH	6
#define SMFIM_COUNT	7

#define MILTER_CHUNK_SIZE	65535		/* body bytes per SMFIC_BODY */
#define MILTER_MAX_PACKET	(2 * MILTER_CHUNK_SIZE)	/* as Postfix: more is insane */
#define MILTER_HDR_BYTES	4		/* the length in front */

/* One packet cut off the input; DATA points into it */
typedef struct MILTER_PKT {
    int     cmd;			/* the command or reply byte */
    const char *data;			/* LEN bytes after it */
    size_t  len;
    size_t  used;			/* bytes of input it took, length included */
} MILTER_PKT;

/* A decoded reply; strings point into the packet */
typedef struct MILTER_REPLY {
    int     cmd;			/* SMFIR_* */
    uint32_t index;			/* SMFIR_INSHEADER, SMFIR_CHGHEADER */
    const char *str1;			/* header name, address, reason, text */
    const char *str2;			/* header value, ESMTP arguments; or NULL */
    const char *data;			/* SMFIR_REPLBODY: the chunk */
    size_t  len;
} MILTER_REPLY;

/* The filter's SMFIC_OPTNEG answer */
typedef struct MILTER_OPTNEG {
    uint32_t version;
    uint32_t actions;			/* SMFIF_* */
    uint32_t protocol;			/* SMFIP_* */
    const char *macros[SMFIM_COUNT];	/* SMFIF_SETSYMLIST lists, or NULL */
} MILTER_OPTNEG;

/* Writing */
void	milter_pkt_put(VSTRING *out, int cmd, const char *data, size_t len);
void	milter_data_u32(VSTRING *data, uint32_t value);
void	milter_data_u16(VSTRING *data, unsigned value);
void	milter_data_str(VSTRING *data, const char *str);	/* with its NUL */

/* Reading; each returns -1 with a reason in WHY for what no filter sends */
int	milter_pkt_split(const char *buf, size_t len, MILTER_PKT *pkt, VSTRING *why);
int	milter_reply_decode(const MILTER_PKT *pkt, MILTER_REPLY *reply, VSTRING *why);
int	milter_optneg_decode(const MILTER_PKT *pkt, MILTER_OPTNEG *opt, VSTRING *why);

/* milter_reply_final - REPLY ends the MTA's wait (c a r t d y s 4 f) */
int	milter_reply_final(int reply);

/* milter_reply_allowed - REPLY may answer command EVENT (SMFIR_SKIP only a
 * body chunk, modifications only the end of the message) */
int	milter_reply_allowed(int event, int reply);

/* milter_reply_action - the SMFIF_* permission a modification needs, 0: none */
int	milter_reply_action(int reply);

/*
 * milter_reply_text - an SMFIR_REPLYCODE text made safe: "4xx" or "5xx",
 * then ' ' or '-', an enhanced status code (if any) of the same class, each
 * further line with the same code; "%%" becomes '%' and a lone '%' goes
 * (Sendmail's replies are format strings); lines end up joined by CRLF,
 * unprintable bytes replaced.  0 with OUT, or -1 (OUT is unspecified).
 */
int	milter_reply_text(VSTRING *out, const char *text);

/* milter_hdr_name_ok - a header name: printable ASCII, no ':' or space */
int	milter_hdr_name_ok(const char *name);

/* milter_addr_ok - an address or ESMTP argument text without controls */
int	milter_addr_ok(const char *text);

/* milter_hdr_value - a filter's header VALUE as the text after "NAME:":
 * a space in front unless LEADSPC was negotiated, line breaks as LF, each
 * followed by white space (so a value never starts a header of its own) */
void	milter_hdr_value(VSTRING *out, const char *value, int leadspc);

/* Names for log lines; unknown codes get Postfix's "(unknown ...)" */
const char *milter_cmd_name(int cmd);
const char *milter_reply_name(int reply);

#endif
