/*
 * fuzz_milter_proto.c - libFuzzer harness for the milter packet decoder
 * (lib/global/milter_proto.c): the input is what a filter could send.
 *
 * Built and run by test/fuzz/run.sh.  Packets are cut off the input with
 * milter_pkt_split() until it wants more or refuses a length; each must
 * lie inside the input and frame what it says.  Each is decoded as a
 * reply and as an SMFIC_OPTNEG answer: every string given back must end
 * in NUL inside the packet, raw data must lie inside it, and a failure
 * must come with a reason.  Strings of accepted replies go through the
 * checks milter_clnt.c applies: an accepted SMFIR_REPLYCODE text starts
 * with 4xx/5xx and holds no control character but CRLF line ends; a
 * header value made from any string has line breaks only as LF followed
 * by white space, and none at its end.  A broken invariant calls abort().
 */
#include "sys_defs.h"
#include "msg.h"
#include "vstring.h"
#include "milter_proto.h"

#define FUZZ_MAX_INPUT	(1024 * 1024)

static VSTRING *why;
static VSTRING *out;

/* fail - report a broken invariant and abort */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_milter_proto: %s\n", what);
    abort();
}

/* check_str - STR is NULL or a C string inside PKT's data */

static void check_str(const MILTER_PKT *pkt, const char *str)
{
    if (str == 0)
	return;
    if (str < pkt->data || str >= pkt->data + pkt->len)
	fail("a decoded string lies outside its packet");
    if (memchr(str, 0, (size_t) (pkt->data + pkt->len - str)) == 0)
	fail("a decoded string has no NUL inside its packet");
}

/* check_reply_text - what milter_reply_text() accepts is a safe reply */

static void check_reply_text(const char *text)
{
    const unsigned char *cp;

    if (milter_reply_text(out, text) < 0)
	return;
    cp = (const unsigned char *) STR(out);
    if ((cp[0] != '4' && cp[0] != '5') || cp[1] < '0' || cp[1] > '9'
	|| cp[2] < '0' || cp[2] > '9')
	fail("an accepted reply does not start with 4xx or 5xx");
    for (; *cp; cp++)
	if ((*cp < ' ' || *cp == 0x7f) && !(cp[0] == '\r' && cp[1] == '\n')
	    && !(cp[0] == '\n' && cp > (const unsigned char *) STR(out) && cp[-1] == '\r'))
	    fail("a control character in an accepted reply");
}

/* check_hdr_value - a header value never breaks out of its header */

static void check_hdr_value(const char *value, int leadspc)
{
    const char *cp;

    milter_hdr_value(out, value, leadspc);
    for (cp = STR(out); *cp; cp++) {
	if (*cp == '\r')
	    fail("CR in a header value");
	if (*cp == '\n' && cp[1] != ' ' && cp[1] != '\t')
	    fail("a line break in a header value not followed by white space");
    }
    if (LEN(out) > 0 && STR(out)[LEN(out) - 1] == '\n')
	fail("a header value ends in a line break");
}

/* check_strings - the checks milter_clnt.c makes on a reply's strings */

static void check_strings(const MILTER_REPLY *reply)
{
    const char *strs[2] = {reply->str1, reply->str2};

    if (reply->cmd == SMFIR_REPLYCODE)
	check_reply_text(reply->str1);
    for (int i = 0; i < 2; i++) {
	if (strs[i] == 0)
	    continue;
	(void) milter_hdr_name_ok(strs[i]);
	(void) milter_addr_ok(strs[i]);
	check_hdr_value(strs[i], i);
    }
}

/* check_packet - decode PKT both ways */

static void check_packet(const MILTER_PKT *pkt)
{
    MILTER_REPLY reply;
    MILTER_OPTNEG opt;

    vstring_reset(why);
    if (milter_reply_decode(pkt, &reply, why) == 0) {
	check_str(pkt, reply.str1);
	check_str(pkt, reply.str2);
	if (reply.data && (reply.data < pkt->data
			   || reply.data + reply.len > pkt->data + pkt->len))
	    fail("body data lies outside its packet");
	check_strings(&reply);
	(void) milter_reply_final(reply.cmd);
	(void) milter_reply_allowed(SMFIC_BODYEOB, reply.cmd);
    } else if (LEN(why) == 0) {
	fail("a refused reply without a reason");
    }
    vstring_reset(why);
    if (milter_optneg_decode(pkt, &opt, why) == 0) {
	for (int i = 0; i < SMFIM_COUNT; i++)
	    check_str(pkt, opt.macros[i]);
    } else if (LEN(why) == 0) {
	fail("a refused SMFIC_OPTNEG answer without a reason");
    }
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    msg_init("fuzz_milter_proto", 0);
    why = vstring_alloc(100);
    out = vstring_alloc(100);
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTRING *in;
    MILTER_PKT pkt;
    size_t  left;
    int     status;

    if (size > FUZZ_MAX_INPUT)
	return (0);
    in = vstring_alloc(size + 1);
    vstring_memcpy(in, data, size);		/* a copy the size of the input */
    for (left = 0; left < LEN(in); left += pkt.used) {
	vstring_reset(why);
	status = milter_pkt_split(STR(in) + left, LEN(in) - left, &pkt, why);
	if (status < 0 && LEN(why) == 0)
	    fail("a refused length without a reason");
	if (status <= 0)
	    break;
	if (pkt.used != MILTER_HDR_BYTES + 1 + pkt.len || pkt.used > LEN(in) - left
	    || pkt.len >= MILTER_MAX_PACKET)
	    fail("a packet does not frame what it says");
	check_packet(&pkt);
    }
    vstring_free(in);
    return (0);
}
