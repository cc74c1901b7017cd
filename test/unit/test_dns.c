/*
 * test_dns.c - unit tests for lib/dns/dns.c: the POSTHORN_DNS_FILE seam (A,
 * AAAA, MX, null MX, PTR, TXT, SERVFAIL, DELAY, unknown names, bad lines),
 * dns_answer_copy, and the
 * response packet parser (hand-made packets: answers, CNAME skipping,
 * NXDOMAIN, SERVFAIL, truncated and malformed packets).
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "mymalloc.h"
#include "vstring.h"
#include "dns.h"
#include "dns_fixture.h"

static int setup(void **unused)
{
    static const char text[] =
    "# test DNS\n"
    "example.test  MX 10 mx.example.test\n"
    "example.test  MX 20 mx2.example.test.\n"
    "mx.example.test A 192.0.2.1\n"
    "Mx.Example.Test. AAAA 2001:db8::1\n"
    "nullmx.test MX 0 .\n"
    "2.0.0.127.rbl.test A 127.0.0.2\n"
    "2.0.0.127.rbl.test TXT listed for testing\n"
    "broken.test SERVFAIL\n"
    "1.2.0.192.in-addr.arpa PTR host.example.test.\n"
    "slow.test DELAY 1\n"
    "slow.test A 192.0.2.7\n"
    "bad.test A not-an-address\n"
    "bad.test MX x mx\n"
    "bad.test TXT\n"
    "lonely.test\n";
    return (dns_fixture_start(text));
}

static int teardown(void **unused)
{
    return (dns_fixture_stop());
}

static void test_file_mx(void **unused)
{
    DNS_ANSWER a;

    dns_answer_init(&a);
    assert_int_equal(dns_lookup("EXAMPLE.test.", DNS_TYPE_MX, &a), DNS_OK);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.rr[0].pref, 10);
    assert_string_equal(a.rr[0].value, "mx.example.test");
    assert_int_equal(a.rr[1].pref, 20);
    dns_answer_free(&a);
    assert_int_equal(dns_lookup("nullmx.test", DNS_TYPE_MX, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "");
    dns_answer_free(&a);
}

static void test_file_addr(void **unused)
{
    DNS_ANSWER a;

    dns_answer_init(&a);
    assert_int_equal(dns_lookup("mx.example.test", DNS_TYPE_A, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "192.0.2.1");
    dns_answer_free(&a);
    assert_int_equal(dns_lookup("mx.example.test", DNS_TYPE_AAAA, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "2001:db8::1");
    dns_answer_free(&a);
    assert_int_equal(dns_lookup("example.test", DNS_TYPE_A, &a), DNS_NOTFOUND);
    assert_int_equal(dns_lookup("nowhere.test", DNS_TYPE_A, &a), DNS_NOTFOUND);
    assert_int_equal(a.count, 0);
}

static void test_file_txt(void **unused)
{
    DNS_ANSWER a;

    dns_answer_init(&a);
    assert_int_equal(dns_lookup("2.0.0.127.rbl.test", DNS_TYPE_TXT, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "listed for testing");
    dns_answer_free(&a);
}

static void test_file_ptr_delay_copy(void **unused)
{
    DNS_ANSWER a;
    DNS_ANSWER b;
    time_t  before;

    dns_answer_init(&a);
    dns_answer_init(&b);
    assert_int_equal(dns_lookup("1.2.0.192.in-addr.arpa", DNS_TYPE_PTR, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "host.example.test.");
    assert_int_equal(dns_type_code("ptr"), DNS_TYPE_PTR);
    dns_answer_copy(&b, &a);
    dns_answer_copy(&b, &a);
    assert_int_equal(b.count, 2);
    assert_string_equal(b.rr[1].value, "host.example.test.");
    assert_true(b.rr[1].value != a.rr[0].value);
    dns_answer_free(&a);
    dns_answer_free(&b);
    before = time((time_t *) 0);
    assert_int_equal(dns_lookup("slow.test", DNS_TYPE_A, &a), DNS_OK);
    assert_true(time((time_t *) 0) >= before + 1);	/* DELAY 1 */
    assert_string_equal(a.rr[0].value, "192.0.2.7");
    dns_answer_free(&a);
}

static void test_file_bad(void **unused)
{
    DNS_ANSWER a;

    dns_answer_init(&a);
    assert_int_equal(dns_lookup("broken.test", DNS_TYPE_MX, &a), DNS_RETRY);
    assert_int_equal(dns_lookup("bad.test", DNS_TYPE_A, &a), DNS_NOTFOUND);
    assert_int_equal(dns_lookup("bad.test", DNS_TYPE_MX, &a), DNS_NOTFOUND);
    assert_int_equal(dns_lookup("bad.test", DNS_TYPE_TXT, &a), DNS_NOTFOUND);
    assert_int_equal(dns_lookup("lonely.test", DNS_TYPE_A, &a), DNS_NOTFOUND);
    assert_int_equal(dns_lookup("", DNS_TYPE_A, &a), DNS_NOTFOUND);
    assert_int_equal(a.count, 0);
    /* a missing file is a temporary failure, not "no such domain" */
    setenv(DNS_FILE_ENV, "/nonexistent/dns", 1);
    assert_int_equal(dns_lookup("example.test", DNS_TYPE_MX, &a), DNS_RETRY);
    setenv(DNS_FILE_ENV, dns_fixture_path(), 1);
}

static void test_types(void **unused)
{
    assert_int_equal(dns_type_code("mx"), DNS_TYPE_MX);
    assert_int_equal(dns_type_code("AAAA"), DNS_TYPE_AAAA);
    assert_int_equal(dns_type_code("SRV"), 0);
    assert_string_equal(dns_type_name(DNS_TYPE_TXT), "TXT");
}

/* Packet building */
typedef struct {
    unsigned char buf[512];
    int     len;
} PKT;

static void put(PKT *p, const void *data, int len)
{
    memcpy(p->buf + p->len, data, len);
    p->len += len;
}

static void put16(PKT *p, int v)
{
    unsigned char b[2] = {v >> 8, v & 0xff};

    put(p, b, 2);
}

static void put_name(PKT *p, const char *name)
{
    while (*name) {
	const char *dot = strchr(name, '.');
	int     n = dot ? dot - name : (int) strlen(name);
	unsigned char len = n;

	put(p, &len, 1);
	put(p, name, n);
	name += n + (dot != 0);
    }
    put(p, "", 1);
}

/* start - header and question for NAME/TYPE with RCODE and ANCOUNT */
static void start(PKT *p, const char *name, int type, int rcode, int ancount)
{
    p->len = 0;
    put16(p, 0x1234);
    put16(p, 0x8180 | rcode);
    put16(p, 1);
    put16(p, ancount);
    put16(p, 0);
    put16(p, 0);
    put_name(p, name);
    put16(p, type);
    put16(p, 1);
}

/* answer - one record for the question name (pointer 0xc00c) */
static void answer(PKT *p, int type, const void *rdata, int rdlen)
{
    put16(p, 0xc00c);
    put16(p, type);
    put16(p, 1);
    put16(p, 0);
    put16(p, 300);
    put16(p, rdlen);
    put(p, rdata, rdlen);
}

static void test_packet_answers(void **unused)
{
    PKT     p;
    DNS_ANSWER a;
    unsigned char mx[64] = {0, 10};
    PKT     tmp = {{0}, 0};

    put_name(&tmp, "mx.example.test");
    memcpy(mx + 2, tmp.buf, tmp.len);
    start(&p, "example.test", DNS_TYPE_MX, 0, 3);
    answer(&p, 5, "\0", 1);			/* a CNAME-typed record: skipped */
    answer(&p, DNS_TYPE_MX, mx, 2 + tmp.len);
    answer(&p, DNS_TYPE_A, "\xc0\x00\x02\x01", 4);	/* other type: skipped */
    dns_answer_init(&a);
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_MX, &a), DNS_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.rr[0].pref, 10);
    assert_string_equal(a.rr[0].value, "mx.example.test");
    dns_answer_free(&a);

    start(&p, "x.test", DNS_TYPE_A, 0, 1);
    answer(&p, DNS_TYPE_A, "\xc0\x00\x02\x01", 4);
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_A, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "192.0.2.1");
    dns_answer_free(&a);

    start(&p, "1.2.0.192.in-addr.arpa", DNS_TYPE_PTR, 0, 1);
    answer(&p, DNS_TYPE_PTR, tmp.buf, tmp.len);
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_PTR, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "mx.example.test");
    dns_answer_free(&a);
    start(&p, "1.2.0.192.in-addr.arpa", DNS_TYPE_PTR, 0, 1);
    answer(&p, DNS_TYPE_PTR, "\x05" "ab", 3);	/* label runs past the data */
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_PTR, &a), DNS_NOTFOUND);

    start(&p, "x.test", DNS_TYPE_TXT, 0, 1);
    answer(&p, DNS_TYPE_TXT, "\x03" "abc" "\x02" "de", 7);
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_TXT, &a), DNS_OK);
    assert_string_equal(a.rr[0].value, "abcde");
    dns_answer_free(&a);
}

static void test_packet_errors(void **unused)
{
    PKT     p;
    DNS_ANSWER a;

    dns_answer_init(&a);
    start(&p, "x.test", DNS_TYPE_A, 3, 0);	/* NXDOMAIN */
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_A, &a), DNS_NOTFOUND);
    start(&p, "x.test", DNS_TYPE_A, 2, 0);	/* SERVFAIL */
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_A, &a), DNS_RETRY);
    start(&p, "x.test", DNS_TYPE_A, 0, 0);	/* no data */
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_A, &a), DNS_NOTFOUND);
    /* bad record data: skipped */
    start(&p, "x.test", DNS_TYPE_A, 0, 2);
    answer(&p, DNS_TYPE_A, "\x01\x02", 2);
    answer(&p, DNS_TYPE_TXT, "\x09" "ab", 3);
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_A, &a), DNS_NOTFOUND);
    start(&p, "x.test", DNS_TYPE_TXT, 0, 1);
    answer(&p, DNS_TYPE_TXT, "\x09" "ab", 3);
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_TXT, &a), DNS_NOTFOUND);
    start(&p, "x.test", DNS_TYPE_MX, 0, 1);
    answer(&p, DNS_TYPE_MX, "\x00\x01\xc0\xff", 4);	/* pointer out of range */
    assert_int_equal(dns_parse_answer(p.buf, p.len, DNS_TYPE_MX, &a), DNS_NOTFOUND);
    /* truncated packets */
    start(&p, "x.test", DNS_TYPE_A, 0, 1);
    answer(&p, DNS_TYPE_A, "\xc0\x00\x02\x01", 4);
    for (int len = 0; len < p.len; len++) {
	int     st = dns_parse_answer(p.buf, len, DNS_TYPE_A, &a);

	assert_true(st == DNS_RETRY || st == DNS_NOTFOUND);
    }
    assert_int_equal(a.count, 0);
}

int	main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_file_mx),
	cmocka_unit_test(test_file_addr),
	cmocka_unit_test(test_file_txt),
	cmocka_unit_test(test_file_ptr_delay_copy),
	cmocka_unit_test(test_file_bad),
	cmocka_unit_test(test_types),
	cmocka_unit_test(test_packet_answers),
	cmocka_unit_test(test_packet_errors),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
