/*
 * dns_fixture.h - what the unit tests of lib/dns share: a test DNS file
 * (the POSTHORN_DNS_FILE seam of dns.h) with the records a test needs.
 *
 * Include after <cmocka.h> and "dns.h":
 *   dns_fixture_start(text)   write TEXT to a new temporary file and name
 *                             it in POSTHORN_DNS_FILE; returns 0 (a group
 *                             setup may return it)
 *   dns_fixture_path()        that file's name
 *   dns_fixture_stop()        remove the file, unset the variable; 0
 */
#ifndef DNS_FIXTURE_H
#define DNS_FIXTURE_H

static char dns_fixture_file[] = "/tmp/test_dns_fixture.XXXXXX";

static inline int dns_fixture_start(const char *text)
{
    int     fd = mkstemp(dns_fixture_file);
    ssize_t len = (ssize_t) strlen(text);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), len);
    close(fd);
    setenv(DNS_FILE_ENV, dns_fixture_file, 1);
    return (0);
}

static inline const char *dns_fixture_path(void)
{
    return (dns_fixture_file);
}

static inline int dns_fixture_stop(void)
{
    unlink(dns_fixture_file);
    unsetenv(DNS_FILE_ENV);
    return (0);
}

#endif
