/*
 * test_dns_async.c - unit tests for lib/dns/dns_async.c: lookups and
 * client names answered through the event loop (with the
 * POSTHORN_DNS_FILE seam), a slow name (DELAY) that does not hold up a
 * fast one, and a cancelled request whose callback never runs.
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include <sys/time.h>
#include "events.h"
#include "msg.h"
#include "dns_async.h"
#include "dns_fixture.h"

static int setup(void **unused)
{
    static const char text[] =
    "fast.test A 192.0.2.1\n"
    "slow.test DELAY 1\n"
    "slow.test A 192.0.2.2\n"
    "2.0.0.127.in-addr.arpa PTR fast.test\n"
    "fast.test A 127.0.0.2\n";
    return (dns_fixture_start(text));
}

static int teardown(void **unused)
{
    return (dns_fixture_stop());
}

static void run_until(const int *count, int want, int max_ms)
{
    for (int waited = 0; *count < want && waited < max_ms; waited += 50)
	event_loop(50);
}

typedef struct RESULT {
    int     done;
    int     order;
    int     status;
    char    value[DNS_PEER_NAME_SIZE];
} RESULT;

static int order;

static void lookup_cb(int status, DNS_ANSWER *answer, void *context)
{
    RESULT *r = context;

    r->done++;
    r->order = ++order;
    r->status = status;
    if (status == DNS_OK)
	snprintf(r->value, sizeof(r->value), "%s", answer->rr[0].value);
}

static void peer_cb(const DNS_PEER *peer, void *context)
{
    RESULT *r = context;

    r->done++;
    r->status = peer->status;
    snprintf(r->value, sizeof(r->value), "%s", peer->name);
}

static void test_lookup_and_order(void **unused)
{
    RESULT  slow = {0};
    RESULT  fast = {0};
    RESULT  none = {0};

    order = 0;
    (void) dns_lookup_async("slow.test", DNS_TYPE_A, lookup_cb, &slow);
    (void) dns_lookup_async("fast.test", DNS_TYPE_A, lookup_cb, &fast);
    (void) dns_lookup_async("none.test", DNS_TYPE_A, lookup_cb, &none);
    run_until(&slow.done, 1, 5000);
    assert_int_equal(slow.done, 1);
    assert_int_equal(fast.done, 1);
    assert_int_equal(fast.status, DNS_OK);
    assert_string_equal(fast.value, "192.0.2.1");
    assert_int_equal(none.status, DNS_NOTFOUND);
    assert_string_equal(slow.value, "192.0.2.2");
    assert_true(fast.order < slow.order);	/* not held up by the slow one */
}

static void test_peer(void **unused)
{
    RESULT  r = {0};

    (void) dns_peer_async("127.0.0.2", peer_cb, &r);
    run_until(&r.done, 1, 5000);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, DNS_PEER_OK);
    assert_string_equal(r.value, "fast.test");
}

static void test_cancel(void **unused)
{
    RESULT  cancelled = {0};
    RESULT  other = {0};
    DNS_ASYNC *req;

    req = dns_lookup_async("slow.test", DNS_TYPE_A, lookup_cb, &cancelled);
    dns_async_cancel(req);
    (void) dns_lookup_async("slow.test", DNS_TYPE_A, lookup_cb, &other);
    run_until(&other.done, 1, 5000);
    for (int i = 0; i < 4; i++)
	event_loop(50);
    assert_int_equal(other.done, 1);
    assert_int_equal(cancelled.done, 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_lookup_and_order),
	cmocka_unit_test(test_peer),
	cmocka_unit_test(test_cancel),
    };

    msg_init("test_dns_async", MSG_TO_STDERR);
    return (cmocka_run_group_tests(tests, setup, teardown));
}
