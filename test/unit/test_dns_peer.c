/*
 * test_dns_peer.c - unit tests for lib/dns/dns_peer.c: client names
 * through the POSTHORN_DNS_FILE seam (confirmed, forged, no PTR, a PTR
 * lookup that fails for now, numeric and malformed PTR names, IPv6),
 * through the system resolver for 127.0.0.1 (/etc/hosts), the reverse
 * query names and the host name check.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "dns.h"
#include "dns_fixture.h"
#include "dns_peer.h"

static int setup(void **unused)
{
    static const char text[] =
    "2.0.0.127.in-addr.arpa PTR ok.example.\n"
    "ok.example A 10.0.0.9\n"
    "ok.example A 127.0.0.2\n"
    "3.0.0.127.in-addr.arpa PTR forged.example\n"
    "forged.example A 192.0.2.99\n"
    "5.0.0.127.in-addr.arpa SERVFAIL\n"
    "6.0.0.127.in-addr.arpa PTR 1.2.3.4\n"
    "7.0.0.127.in-addr.arpa PTR bad\x01name.example\n"
    "8.0.0.127.in-addr.arpa PTR gone.example\n"
    "gone.example SERVFAIL\n"
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR six.example\n"
    "six.example AAAA 2001:db8::1\n";
    return (dns_fixture_start(text));
}

static int teardown(void **unused)
{
    return (dns_fixture_stop());
}

static void test_confirmed(void **unused)
{
    DNS_PEER peer;

    dns_peer_lookup("127.0.0.2", &peer);
    assert_int_equal(peer.status, DNS_PEER_OK);
    assert_int_equal(peer.reverse_status, DNS_PEER_OK);
    assert_string_equal(peer.name, "ok.example");
    assert_string_equal(peer.reverse_name, "ok.example");
    assert_string_equal(peer.warning, "");
    dns_peer_lookup("2001:db8::1", &peer);
    assert_int_equal(peer.status, DNS_PEER_OK);
    assert_string_equal(peer.name, "six.example");
}

static void test_forged(void **unused)
{
    DNS_PEER peer;

    dns_peer_lookup("127.0.0.3", &peer);
    assert_int_equal(peer.status, DNS_PEER_FORGED);
    assert_int_equal(peer.reverse_status, DNS_PEER_OK);
    assert_string_equal(peer.name, "unknown");
    assert_string_equal(peer.reverse_name, "forged.example");
    assert_string_equal(peer.warning,
		   "hostname forged.example does not resolve to address 127.0.0.3");
    dns_peer_lookup("127.0.0.8", &peer);	/* forward lookup fails for now */
    assert_int_equal(peer.status, DNS_PEER_TEMP);
    assert_string_equal(peer.reverse_name, "gone.example");
    assert_non_null(strstr(peer.warning, "Temporary failure"));
}

static void test_no_name(void **unused)
{
    DNS_PEER peer;

    dns_peer_lookup("127.0.0.4", &peer);
    assert_int_equal(peer.status, DNS_PEER_PERM);
    assert_int_equal(peer.reverse_status, DNS_PEER_PERM);
    assert_string_equal(peer.name, "unknown");
    assert_string_equal(peer.reverse_name, "unknown");
    dns_peer_lookup("127.0.0.5", &peer);
    assert_int_equal(peer.status, DNS_PEER_TEMP);
    assert_int_equal(peer.reverse_status, DNS_PEER_TEMP);
    dns_peer_lookup("not an address", &peer);
    assert_int_equal(peer.status, DNS_PEER_PERM);
}

static void test_bad_names(void **unused)
{
    DNS_PEER peer;

    dns_peer_lookup("127.0.0.6", &peer);
    assert_int_equal(peer.reverse_status, DNS_PEER_PERM);
    assert_string_equal(peer.reverse_name, "unknown");
    assert_string_equal(peer.warning, "numeric hostname: 1.2.3.4");
    dns_peer_lookup("127.0.0.7", &peer);
    assert_int_equal(peer.status, DNS_PEER_PERM);
    assert_string_equal(peer.warning, "malformed hostname: bad?name.example");
}

static void test_system_resolver(void **unused)
{
    DNS_PEER peer;
    FILE   *fp = fopen("/etc/hosts", "r");
    char    line[512];
    int     listed = 0;

    while (fp && fgets(line, sizeof(line), fp))
	if (strncmp(line, "127.0.0.1", 9) == 0 && strstr(line, "localhost"))
	    listed = 1;
    if (fp)
	fclose(fp);
    if (!listed)
	skip();
    unsetenv(DNS_FILE_ENV);
    dns_peer_lookup("127.0.0.1", &peer);
    setenv(DNS_FILE_ENV, dns_fixture_path(), 1);
    assert_int_equal(peer.status, DNS_PEER_OK);
    assert_string_equal(peer.name, "localhost");
}

static void test_reverse_query(void **unused)
{
    VSTRING *q = vstring_alloc(10);

    assert_int_equal(dns_reverse_query("192.0.2.1", (char *) 0, q), 0);
    assert_string_equal(STR(q), "1.2.0.192.in-addr.arpa");
    assert_int_equal(dns_reverse_query("192.0.2.1", "zen.test", q), 0);
    assert_string_equal(STR(q), "1.2.0.192.zen.test");
    assert_int_equal(dns_reverse_query("2001:db8::1", (char *) 0, q), 0);
    assert_string_equal(STR(q),
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(dns_reverse_query("example.com", (char *) 0, q), -1);
    assert_int_equal(dns_reverse_query("", "x", q), -1);
    vstring_free(q);
}

static void test_valid_name(void **unused)
{
    char    long_label[80];

    assert_true(dns_peer_valid_name("mail.example.com"));
    assert_true(dns_peer_valid_name("a-b.example"));
    assert_true(dns_peer_valid_name("localhost"));
    assert_false(dns_peer_valid_name(""));
    assert_false(dns_peer_valid_name("1.2.3.4"));
    assert_false(dns_peer_valid_name("a..b"));
    assert_false(dns_peer_valid_name(".a"));
    assert_false(dns_peer_valid_name("-a.example"));
    assert_false(dns_peer_valid_name("a-.example"));
    assert_false(dns_peer_valid_name("a b.example"));
    assert_false(dns_peer_valid_name("a\nb"));
    memset(long_label, 'a', 64);
    strcpy(long_label + 64, ".example");
    assert_false(dns_peer_valid_name(long_label));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_confirmed),
	cmocka_unit_test(test_forged),
	cmocka_unit_test(test_no_name),
	cmocka_unit_test(test_bad_names),
	cmocka_unit_test(test_system_resolver),
	cmocka_unit_test(test_reverse_query),
	cmocka_unit_test(test_valid_name),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
