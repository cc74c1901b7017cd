"""test_open_relay.py - an open-relay checker's usual tricks relay nothing.

A client on 127.0.0.2 (outside mynetworks = 127.0.0.1/32, no AUTH) tries
the addresses that relay testers send: percent hack, source routes, bang
paths, an extra '@', quoted local parts, address literals, trailing dots,
case games, our domain as a subdomain of another.  Each RCPT must be
refused (4xx/5xx); a DATA after them finds no valid recipients; and
nothing reaches the queue or the log as a delivery.  This is checked with
the default smtpd_relay_restrictions, with reject_unauth_destination, with
the admin guide's smtpd_recipient_restrictions, and with relay_domains
set (a relay domain must not become a relay for other domains either).
"""

import socket

import pytest

from posthorn_instance import RawSMTP, DOMAIN

TRICKS = [
    "user@outside.example",
    "user@OUTSIDE.EXAMPLE",
    "user@outside.example.",
    "user%outside.example@" + DOMAIN,
    "user%outside.example@localhost",
    "user%outside.example@mail." + DOMAIN,
    "user%outside.example%" + DOMAIN + "@" + DOMAIN,
    "@" + DOMAIN + ":user@outside.example",
    "@" + DOMAIN + ",@mail." + DOMAIN + ":user@outside.example",
    "user@outside.example@" + DOMAIN,
    '"user@outside.example"@' + DOMAIN,
    '"user%outside.example"@' + DOMAIN,
    '"outside.example!user"@' + DOMAIN,
    "outside.example!user@" + DOMAIN,
    "outside.example!user%other.example@" + DOMAIN,
    "user@outside.example@[127.0.0.1]",
    "user%outside.example@[127.0.0.1]",
    "user@[192.0.2.1]",
    "user@[IPv6:2001:db8::1]",
    '"user@outside.example"',
    "user@" + DOMAIN + ".outside.example",
    "user@outside.example%" + DOMAIN,
    "user%relay.test@outside.example",
    "user@relay.test@outside.example",
    "user%outside.example@relay.test",
    "user@outside.example@relay.test",
    "outside.example!user@relay.test",
    '"user@outside.example"@relay.test',
]


class Client(RawSMTP):
    def __init__(self, port, source="127.0.0.2", timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""
        self.greeting = self.reply()


CONFIGS = {
    "default": {},
    "reject_unauth": {"smtpd_relay_restrictions":
                      "permit_mynetworks, permit_sasl_authenticated, "
                      "reject_unauth_destination"},
    "admin_guide": {"smtpd_delay_reject": "yes",
                    "smtpd_recipient_restrictions":
                        "permit_mynetworks permit_sasl_authenticated "
                        "permit_auth_destination reject",
                    "smtpd_client_restrictions":
                        "permit_mynetworks, permit_sasl_authenticated"},
    "relay_domains": {"relay_domains": "relay.test"},
}


def try_batch(inst, addrs):
    """One session: MAIL, a RCPT for each of ADDRS (all must be refused),
    then DATA, which must find no valid recipients."""
    c = Client(inst.port)
    assert c.greeting[0] == 220
    assert c.cmd("EHLO relaytest.example")[0] == 250
    assert c.cmd("MAIL FROM:<spammer@example.com>")[0] == 250
    for addr in addrs:
        code, text = c.cmd("RCPT TO:<%s>" % addr)
        assert 400 <= code < 600, (addr, code, text)
    code, text = c.cmd("DATA")
    assert code == 554 and "no valid recipients" in text, (code, text)
    c.cmd("QUIT")
    c.close()


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_no_open_relay(make_instance, config):
    inst = make_instance(main=CONFIGS[config])
    # smtpd_hard_error_limit (20) would end a session that tries them all
    for i in range(0, len(TRICKS), 8):
        try_batch(inst, TRICKS[i:i + 8])
    assert inst.queue_empty(("incoming", "active", "deferred", "hold"))
    log = inst.log()
    assert "queued as" not in log and "status=" not in log
    assert "client=unknown[127.0.0.2]" not in log


def test_routing_tricks_from_mynetworks_still_local(make_instance):
    """A trusted client may relay, but a percent-hack address to our own
    domain is not a way around the recipient check either."""
    inst = make_instance()
    c = Client(inst.port, source="127.0.0.1")
    assert c.cmd("EHLO trusted.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.com>")[0] == 250
    code, text = c.cmd("RCPT TO:<alice@%s>" % DOMAIN)
    assert code == 250, text
    c.close()
