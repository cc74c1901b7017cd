/*
 * test_milter_proto.c - unit tests for lib/global/milter_proto.c: packet
 * framing (bytes as the protocol defines them), splitting input that
 * comes in pieces, bad lengths, every reply format and its errors, the
 * SMFIC_OPTNEG answer with macro lists, which reply may answer which
 * command, SMFIR_REPLYCODE checks, header names and values, addresses.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "milter_proto.h"

static VSTRING *why;

/* packet - a packet CMD with LEN bytes of DATA, framed */

static VSTRING *packet(int cmd, const char *data, size_t len)
{
    VSTRING *buf = vstring_alloc(100);

    milter_pkt_put(buf, cmd, data, len);
    return (buf);
}

static void test_framing(void **unused)
{
    VSTRING *data = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);
    static const char want[] = "\0\0\0\x12H" "\x01\x02\x03\x04" "\x12\x34" "mx.example";

    milter_data_u32(data, 0x01020304);
    milter_data_u16(data, 0x1234);
    milter_data_str(data, "mx.example");
    milter_pkt_put(out, SMFIC_HELO, STR(data), LEN(data));
    assert_int_equal(LEN(out), sizeof(want));	/* with the string's NUL */
    assert_memory_equal(STR(out), want, sizeof(want));
    vstring_free(data);
    vstring_free(out);
}

static void test_split(void **unused)
{
    VSTRING *in = packet(SMFIR_ADDRCPT, "<a@b>", 6);
    MILTER_PKT pkt;

    vstring_memcat(in, "\0\0\0\x01" "c", 5);
    for (size_t cut = 0; cut < 10; cut++)	/* not complete yet */
	assert_int_equal(milter_pkt_split(STR(in), cut, &pkt, why), 0);
    assert_int_equal(milter_pkt_split(STR(in), LEN(in), &pkt, why), 1);
    assert_int_equal(pkt.cmd, SMFIR_ADDRCPT);
    assert_int_equal(pkt.len, 6);
    assert_string_equal(pkt.data, "<a@b>");
    assert_int_equal(pkt.used, 11);
    vstring_drop_head(in, pkt.used);
    assert_int_equal(milter_pkt_split(STR(in), LEN(in), &pkt, why), 1);
    assert_int_equal(pkt.cmd, SMFIR_CONTINUE);
    assert_int_equal(pkt.len, 0);
    vstring_free(in);
}

static void test_bad_lengths(void **unused)
{
    MILTER_PKT pkt;

    assert_int_equal(milter_pkt_split("\0\0\0\0c", 5, &pkt, why), -1);
    assert_string_equal(STR(why), "bad packet length: 0");
    assert_int_equal(milter_pkt_split("\x7f\xff\xff\xff" "c", 5, &pkt, why), -1);
    assert_string_equal(STR(why), "unreasonable packet length: 2147483647");
    assert_int_equal(milter_pkt_split("\0\x02\0\0" "b", 5, &pkt, why), -1);
    assert_int_equal(milter_pkt_split("\0\x01\xff\xfe" "b", 5, &pkt, why), 0);	/* = max */
}

/* decode - decode a packet made of CMD and DATA; 0, or -1 (REPLY lives
 * until the next call) */

static int decode(int cmd, const char *data, size_t len, MILTER_REPLY *reply)
{
    static VSTRING *buf;			/* REPLY points into it */
    MILTER_PKT pkt;

    if (buf)
	vstring_free(buf);
    buf = packet(cmd, data, len);
    assert_int_equal(milter_pkt_split(STR(buf), LEN(buf), &pkt, why), 1);
    return (milter_reply_decode(&pkt, reply, why));
}

static void test_reply_formats(void **unused)
{
    MILTER_REPLY r;

    assert_int_equal(decode(SMFIR_CONTINUE, "", 0, &r), 0);
    assert_int_equal(decode(SMFIR_ACCEPT, "x", 1, &r), -1);
    assert_string_equal(STR(why), "reply SMFIR_ACCEPT was followed by 1 data bytes");
    assert_int_equal(decode(SMFIR_ADDHEADER, "X-A\0v\0", 6, &r), 0);
    assert_int_equal(decode(SMFIR_INSHEADER, "\0\0\0\x02X-A\0v\0", 10, &r), 0);
    assert_int_equal(r.index, 2);
    assert_string_equal(r.str1, "X-A");
    assert_string_equal(r.str2, "v");
    assert_int_equal(decode(SMFIR_CHGHEADER, "\0\0\0", 3, &r), -1);
    assert_string_equal(STR(why), "input packet too short for network long");
    assert_int_equal(decode(SMFIR_ADDHEADER, "X-A\0v", 5, &r), -1);
    assert_string_equal(STR(why), "missing string null terminator");
    assert_int_equal(decode(SMFIR_ADDHEADER, "X-A\0", 4, &r), -1);
    assert_string_equal(STR(why), "packet too short for string");
    assert_int_equal(decode(SMFIR_DELRCPT, "<a>\0junk", 8, &r), -1);
    assert_string_equal(STR(why), "left-over data 4 bytes");
    assert_int_equal(decode(SMFIR_ADDRCPT_PAR, "<a>\0", 4, &r), 0);	/* args optional */
    assert_null(r.str2);
    assert_int_equal(decode(SMFIR_CHGFROM, "<a>\0SIZE=1\0", 11, &r), 0);
    assert_string_equal(r.str2, "SIZE=1");
    assert_int_equal(decode(SMFIR_REPLBODY, "line\r\n", 6, &r), 0);
    assert_int_equal(r.len, 6);
    assert_memory_equal(r.data, "line\r\n", 6);
    assert_int_equal(decode(SMFIR_REPLBODY, "", 0, &r), 0);
    assert_int_equal(decode('Z', "", 0, &r), -1);
    assert_string_equal(STR(why), "unexpected filter response (unknown filter reply)");
    assert_int_equal(decode(SMFIR_SETSYMLIST, "", 0, &r), -1);
}

static void test_optneg(void **unused)
{
    VSTRING *data = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    MILTER_OPTNEG opt;
    MILTER_PKT pkt;

    milter_data_u32(data, 6);
    milter_data_u32(data, SMFIF_ADDHDRS | SMFIF_SETSYMLIST);
    milter_data_u32(data, SMFIP_NOHELO);
    milter_data_u32(data, SMFIM_ENVFROM);
    milter_data_str(data, "{auth_authen} i");
    milter_pkt_put(buf, SMFIC_OPTNEG, STR(data), LEN(data));
    assert_int_equal(milter_pkt_split(STR(buf), LEN(buf), &pkt, why), 1);
    assert_int_equal(milter_optneg_decode(&pkt, &opt, why), 0);
    assert_int_equal(opt.version, 6);
    assert_int_equal(opt.actions, SMFIF_ADDHDRS | SMFIF_SETSYMLIST);
    assert_int_equal(opt.protocol, SMFIP_NOHELO);
    assert_string_equal(opt.macros[SMFIM_ENVFROM], "{auth_authen} i");
    assert_null(opt.macros[SMFIM_CONNECT]);
    pkt.len = 8;				/* cut short */
    assert_int_equal(milter_optneg_decode(&pkt, &opt, why), -1);
    vstring_reset(data);
    for (int i = 0; i < 3; i++)
	milter_data_u32(data, 0);
    milter_data_u32(data, 9);			/* no such stage */
    milter_data_str(data, "i");
    pkt.data = STR(data);
    pkt.len = LEN(data);
    assert_int_equal(milter_optneg_decode(&pkt, &opt, why), -1);
    assert_string_equal(STR(why), "unknown macro list stage 9");
    vstring_free(data);
    vstring_free(buf);
}

static void test_allowed(void **unused)
{
    assert_true(milter_reply_allowed(SMFIC_HELO, SMFIR_CONTINUE));
    assert_true(milter_reply_allowed(SMFIC_RCPT, SMFIR_REPLYCODE));
    assert_true(milter_reply_allowed(SMFIC_BODY, SMFIR_SKIP));
    assert_false(milter_reply_allowed(SMFIC_HEADER, SMFIR_SKIP));
    assert_true(milter_reply_allowed(SMFIC_BODYEOB, SMFIR_ADDHEADER));
    assert_true(milter_reply_allowed(SMFIC_BODYEOB, SMFIR_QUARANTINE));
    assert_false(milter_reply_allowed(SMFIC_MAIL, SMFIR_ADDRCPT));
    assert_false(milter_reply_allowed(SMFIC_MAIL, 'Z'));
    assert_true(milter_reply_final(SMFIR_SKIP));
    assert_false(milter_reply_final(SMFIR_PROGRESS));
    assert_false(milter_reply_final(SMFIR_ADDHEADER));
    assert_false(milter_reply_final(0));
    assert_int_equal(milter_reply_action(SMFIR_INSHEADER), SMFIF_ADDHDRS);
    assert_int_equal(milter_reply_action(SMFIR_CHGHEADER), SMFIF_CHGHDRS);
    assert_int_equal(milter_reply_action(SMFIR_REJECT), 0);
    assert_string_equal(milter_cmd_name(SMFIC_OPTNEG), "SMFIC_OPTNEG");
    assert_string_equal(milter_cmd_name('z'), "(unknown MTA event)");
    assert_string_equal(milter_reply_name(SMFIR_SKIP), "SMFIR_SKIP");
}

static void test_reply_text(void **unused)
{
    VSTRING *out = vstring_alloc(100);

    assert_int_equal(milter_reply_text(out, "550 5.7.1 No 100%% spam%"), 0);
    assert_string_equal(STR(out), "550 5.7.1 No 100% spam");
    assert_int_equal(milter_reply_text(out, "451 try later"), 0);
    assert_int_equal(milter_reply_text(out, "550-5.7.1 one\r\n550 5.7.1 two\r\n"), 0);
    assert_string_equal(STR(out), "550-5.7.1 one\r\n550 5.7.1 two");
    assert_int_equal(milter_reply_text(out, "550 5.7.1 a\x1b[2Jb"), 0);
    assert_string_equal(STR(out), "550 5.7.1 a?[2Jb");
    assert_int_equal(milter_reply_text(out, "550 4.7.1 mixed"), -1);
    assert_int_equal(milter_reply_text(out, "250 2.0.0 ok"), -1);
    assert_int_equal(milter_reply_text(out, "550"), -1);
    assert_int_equal(milter_reply_text(out, "55x 5.7.1"), -1);
    assert_int_equal(milter_reply_text(out, "550-5.7.1 a\n451 4.7.1 b"), -1);
    assert_int_equal(milter_reply_text(out, "550+5.7.1"), -1);
    vstring_free(out);
}

static void test_header_checks(void **unused)
{
    VSTRING *out = vstring_alloc(100);

    assert_true(milter_hdr_name_ok("X-Spam-Score"));
    assert_false(milter_hdr_name_ok(""));
    assert_false(milter_hdr_name_ok("X-A: b"));
    assert_false(milter_hdr_name_ok("X\nInjected"));
    assert_false(milter_hdr_name_ok("X A"));
    assert_true(milter_addr_ok("<user@example.org>"));
    assert_false(milter_addr_ok("<a@b>\r\nRCPT TO:<c@d>"));
    milter_hdr_value(out, "value", 0);
    assert_string_equal(STR(out), " value");
    milter_hdr_value(out, " value", 1);
    assert_string_equal(STR(out), " value");
    milter_hdr_value(out, "a\r\n\tb\nc\r\n", 0);
    assert_string_equal(STR(out), " a\n\tb\n\tc");
    milter_hdr_value(out, "a\rb", 1);
    assert_string_equal(STR(out), "a\n\tb");
    vstring_free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_framing),
	cmocka_unit_test(test_split),
	cmocka_unit_test(test_bad_lengths),
	cmocka_unit_test(test_reply_formats),
	cmocka_unit_test(test_optneg),
	cmocka_unit_test(test_allowed),
	cmocka_unit_test(test_reply_text),
	cmocka_unit_test(test_header_checks),
    };
    int     status;

    msg_init("test_milter_proto", MSG_TO_STDERR);
    why = vstring_alloc(100);
    status = cmocka_run_group_tests(tests, 0, 0);
    vstring_free(why);
    return (status);
}
