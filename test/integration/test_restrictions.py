"""test_restrictions.py - smtpd_*_restrictions and access(5) tables.

Every client here connects from 127.0.0.2 while mynetworks = 127.0.0.1/32,
so it counts as an outside client.  Each test starts an instance with the
main.cf settings it needs and checks the SMTP replies and the log lines
against Postfix's shapes.  DNS-based restrictions (reject_rbl_client,
reject_unknown_*_domain) use the test DNS of lib/dns/dns.h: the environment
variable POSTHORN_DNS_FILE names a file of "name TYPE value" lines, set
before the instance starts so every daemon inherits it.
"""

import os
import time
import re
import socket
import subprocess

import pytest

from posthorn_instance import RawSMTP, DOMAIN, wait_until

OUTSIDE = "127.0.0.2"
SENDER = "sender@example.com"


class Client(RawSMTP):
    """A RawSMTP session from a chosen source address."""

    def __init__(self, port, source=OUTSIDE, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""
        self.greeting = self.reply()


def session(inst, source=OUTSIDE, helo="EHLO client.example", sender=SENDER):
    """A session after greeting, HELO/EHLO and (if SENDER is not None) MAIL."""
    c = Client(inst.port, source)
    assert c.greeting[0] == 220, c.greeting
    if helo:
        code, text = c.cmd(helo)
        assert code == 250, (code, text)
    if sender is not None:
        code, text = c.cmd("MAIL FROM:<%s>" % sender)
        assert code == 250, (code, text)
    return c


def rcpt(inst, addr, **kw):
    """(code, text) for one RCPT TO in a fresh session."""
    c = session(inst, **kw)
    try:
        return c.cmd("RCPT TO:<%s>" % addr)
    finally:
        c.cmd("QUIT")
        c.close()


def table_file(inst, name, lines):
    """Write a table source file into the instance's etc/; its path."""
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def make(make_instance, main, tables=None):
    """An instance whose main.cf may name tables written before start:
    TABLES maps a file name to its lines; "@NAME@" in main values becomes
    the file's path."""
    inst = make_instance(main={}, start=False)
    paths = {}
    for name, lines in (tables or {}).items():
        paths[name] = table_file(inst, name, lines)
    params = {}
    for k, v in main.items():
        for name, path in paths.items():
            v = v.replace("@%s@" % name, path)
        params[k] = v
    inst.main_overrides.update(params)
    inst.write_config()
    inst.start()
    return inst


# ----------------------------------------------------------- relay control

def test_default_relay_restrictions_defer(instance):
    code, text = rcpt(instance, "user@outside.example")
    assert (code, text) == (454, "4.7.1 <user@outside.example>: Relay access denied")
    assert instance.wait_for_log(
        r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 454 4\.7\.1 "
        r"<user@outside\.example>: Relay access denied; from=<sender@example\.com> "
        r"to=<user@outside\.example> proto=ESMTP helo=<client\.example>$")


def test_reject_unauth_destination(make_instance):
    inst = make_instance(main={
        "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"})
    code, text = rcpt(inst, "user@outside.example")
    assert (code, text) == (554, "5.7.1 <user@outside.example>: Relay access denied")


def test_mynetworks_client_may_relay(instance):
    code, text = rcpt(instance, "user@outside.example", source="127.0.0.1")
    assert code == 250, text


def test_local_user_without_auth(instance):
    c = session(instance)
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, text = c.cmd("Subject: outside to local\r\n\r\nhello\r\n.")
    assert code == 250, text
    c.cmd("QUIT")
    assert instance.wait_for_message("outside to local", user="alice")


def test_unknown_local_user_still_rejected(instance):
    code, text = rcpt(instance, "nobody@%s" % DOMAIN)
    assert code == 550 and "User unknown in local recipient table" in text


def test_admin_guide_setup(make_instance):
    """The main.cf fragment of the issue (without SASL, tested elsewhere)."""
    inst = make_instance(main={
        "smtpd_delay_reject": "yes",
        "smtpd_recipient_restrictions":
            "permit_mynetworks permit_sasl_authenticated\n permit_auth_destination reject",
        "smtpd_client_restrictions": "permit_mynetworks, permit_sasl_authenticated",
    })
    assert rcpt(inst, "user@outside.example")[0] == 454
    assert rcpt(inst, "alice@%s" % DOMAIN)[0] == 250
    assert rcpt(inst, "user@outside.example", source="127.0.0.1")[0] == 250


def test_recipient_list_reject_after_relay_permit(make_instance):
    """Each list is evaluated on its own: a permit in the relay list does
    not skip the recipient list."""
    inst = make_instance(main={"smtpd_recipient_restrictions": "reject"})
    code, text = rcpt(inst, "user@outside.example", source="127.0.0.1")
    assert (code, text) == (554, "5.7.1 <user@outside.example>: Recipient address rejected: "
                                 "Access denied")


def test_relay_domains(make_instance):
    inst = make_instance(main={"relay_domains": "relay.test"})
    assert rcpt(inst, "user@relay.test")[0] == 250
    assert rcpt(inst, "user@sub.relay.test")[0] == 250
    assert rcpt(inst, "user@notrelay.test")[0] == 454


def test_mynetworks_cidr_v6_syntax(make_instance):
    inst = make_instance(main={"mynetworks": "[::1]/128, [2001:db8::]/32 127.0.0.2/32"})
    assert rcpt(inst, "user@outside.example")[0] == 250
    assert rcpt(inst, "user@outside.example", source="127.0.0.1")[0] == 454


def test_mynetworks_style_default(make_instance):
    """Without mynetworks, mynetworks_style = host trusts the loopback nets."""
    inst = make_instance(main={"mynetworks": None, "mynetworks_style": "host"})
    assert rcpt(inst, "user@outside.example")[0] == 250


# ------------------------------------------------------------ access tables

ACCESS_LINES = [
    "ok@outside.example OK",
    "reject@outside.example REJECT",
    "rejtext@outside.example REJECT Go away",
    "rejdsn@outside.example REJECT 5.7.2 Not here",
    "dunno@outside.example DUNNO",
    "temp@outside.example 450 Try later",
    "perm@outside.example 550 5.1.1 No such user here",
    "defer@outside.example DEFER",
    "defertext@outside.example DEFER Come back later",
    "alice@%s HOLD" % DOMAIN,
    "bob@%s DISCARD" % DOMAIN,
    "blocked.example REJECT blocked domain",
    "baduser@ REJECT bad user",
    "relayto.example permit",
    "viarule.example reject_unauth_destination",
]

ACCESS_EXPECT = [
    ("ok@outside.example", 250, None),
    ("reject@outside.example", 554,
     "5.7.1 <reject@outside.example>: Recipient address rejected: Access denied"),
    ("rejtext@outside.example", 554,
     "5.7.1 <rejtext@outside.example>: Recipient address rejected: Go away"),
    ("rejdsn@outside.example", 554,
     "5.7.2 <rejdsn@outside.example>: Recipient address rejected: Not here"),
    ("dunno@outside.example", 554, "5.7.1 <dunno@outside.example>: Relay access denied"),
    ("temp@outside.example", 450,
     "4.7.1 <temp@outside.example>: Recipient address rejected: Try later"),
    ("perm@outside.example", 550,
     "5.1.1 <perm@outside.example>: Recipient address rejected: No such user here"),
    ("defer@outside.example", 450,
     "4.7.1 <defer@outside.example>: Recipient address rejected: Access denied"),
    ("defertext@outside.example", 450,
     "4.7.1 <defertext@outside.example>: Recipient address rejected: Come back later"),
    ("x@blocked.example", 554,
     "5.7.1 <x@blocked.example>: Recipient address rejected: blocked domain"),
    ("x@sub.blocked.example", 554,
     "5.7.1 <x@sub.blocked.example>: Recipient address rejected: blocked domain"),
    ("baduser@anywhere.example", 554,
     "5.7.1 <baduser@anywhere.example>: Recipient address rejected: bad user"),
    ("someone@relayto.example", 250, None),
    ("someone@viarule.example", 554, "5.7.1 <someone@viarule.example>: Relay access denied"),
    ("other@outside.example", 554, "5.7.1 <other@outside.example>: Relay access denied"),
]


def access_instance(make_instance, table_type):
    inst = make_instance(main={}, start=False)
    src = table_file(inst, "access", ACCESS_LINES)
    if table_type == "hash":
        postmap = os.path.join(inst.build, "bin", "postmap")
        if not os.access(postmap, os.X_OK):
            pytest.skip("no postmap in the build")
        inst.run([postmap, "hash:" + src], check=True)
    inst.main_overrides["smtpd_relay_restrictions"] = (
        "check_recipient_access %s:%s, permit_mynetworks, reject_unauth_destination"
        % (table_type, src))
    inst.write_config()
    return inst.start()


@pytest.mark.parametrize("table_type", ["texthash", "hash"])
def test_check_recipient_access_results(make_instance, table_type):
    inst = access_instance(make_instance, table_type)
    for addr, want_code, want_text in ACCESS_EXPECT:
        code, text = rcpt(inst, addr)
        assert code == want_code, (addr, code, text)
        if want_text:
            assert text == want_text, (addr, text)


def test_access_hold_and_discard(make_instance):
    inst = access_instance(make_instance, "texthash")
    c = session(inst)
    code, text = c.cmd("RCPT TO:<alice@%s>" % DOMAIN)
    assert code == 250, text
    code, text = c.cmd("RCPT TO:<bob@%s>" % DOMAIN)
    assert code == 250, text
    c.cmd("QUIT")
    c.close()
    assert inst.wait_for_log(
        r"NOQUEUE: hold: RCPT from unknown\[127\.0\.0\.2\]: <alice@posthorn\.test>: "
        r"Recipient address triggers HOLD action; from=<sender@example\.com> "
        r"to=<alice@posthorn\.test> proto=ESMTP helo=<client\.example>$")
    assert inst.wait_for_log(
        r"NOQUEUE: discard: RCPT from unknown\[127\.0\.0\.2\]: <bob@posthorn\.test>: "
        r"Recipient address triggers DISCARD action; from=<sender@example\.com> "
        r"to=<bob@posthorn\.test> proto=ESMTP helo=<client\.example>$")


def _send_one(inst, rcpt_addr, subject):
    """One whole message from 127.0.0.2; the final reply (code, text)."""
    c = session(inst)
    assert c.cmd("RCPT TO:<%s>" % rcpt_addr)[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(("Subject: %s\r\n\r\nbody\r\n.\r\n" % subject).encode())
    reply = c.reply()
    c.cmd("QUIT")
    c.close()
    return reply


def test_access_hold_and_discard_reach_the_queue(make_instance):
    """HOLD files the message in hold/ (never delivered); DISCARD accepts it
    with a queue id and throws it away."""
    inst = access_instance(make_instance, "texthash")
    code, text = _send_one(inst, "alice@%s" % DOMAIN, "held")
    assert code == 250 and "queued as" in text, text
    code, text = _send_one(inst, "bob@%s" % DOMAIN, "discarded")
    assert code == 250 and "queued as" in text, text
    assert wait_until(lambda: len(inst.queue_files("hold")) == 1, 10)
    time.sleep(1)                       # give qmgr and local a chance to err
    assert inst.maildir_messages("alice") == []
    assert inst.maildir_messages("bob") == []
    assert inst.queue_empty()


def test_vrfy_runs_the_recipient_restrictions(make_instance):
    """VRFY must not tell what RCPT would refuse (no user probing around
    access tables)."""
    inst = access_instance(make_instance, "texthash")
    c = session(inst, sender=None)
    code, text = c.cmd("VRFY <reject@outside.example>")
    assert code == 554, text
    code, text = c.cmd("VRFY <alice@%s>" % DOMAIN)
    assert code == 252, text
    c.cmd("QUIT")
    c.close()


def test_access_reject_is_logged(make_instance):
    inst = access_instance(make_instance, "texthash")
    rcpt(inst, "rejtext@outside.example")
    assert inst.wait_for_log(
        r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
        r"<rejtext@outside\.example>: Recipient address rejected: Go away; "
        r"from=<sender@example\.com> to=<rejtext@outside\.example> proto=ESMTP "
        r"helo=<client\.example>$")


def test_parent_domain_style_dot(make_instance):
    """Without smtpd_access_maps in parent_domain_matches_subdomains,
    "domain" matches only itself and ".domain" matches subdomains."""
    inst = make(make_instance, {
        "parent_domain_matches_subdomains": "relay_domains",
        "smtpd_recipient_restrictions": "check_recipient_access texthash:@rcpt@",
        "mynetworks": "127.0.0.0/8"},
        {"rcpt": ["exact.example REJECT exact", ".dotted.example REJECT dotted"]})
    assert rcpt(inst, "a@exact.example")[0] == 554
    assert rcpt(inst, "a@sub.exact.example")[0] == 250
    assert rcpt(inst, "a@sub.dotted.example")[0] == 554
    assert rcpt(inst, "a@dotted.example")[0] == 250


def test_check_sender_access_delayed(make_instance):
    inst = make(make_instance, {
        "smtpd_sender_restrictions": "check_sender_access texthash:@senders@"},
        {"senders": ["spammer@bad.example REJECT", "<> 550 No bounces here",
                     "bad2.example 450 4.7.0 Slow down"]})
    # smtpd_delay_reject = yes: MAIL is accepted, the reject comes at RCPT
    code, text = rcpt(inst, "alice@%s" % DOMAIN, sender="spammer@bad.example")
    assert (code, text) == (554, "5.7.1 <spammer@bad.example>: Sender address rejected: "
                                 "Access denied")
    assert inst.wait_for_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                             r"<spammer@bad\.example>: Sender address rejected: Access denied; "
                             r"from=<spammer@bad\.example> to=<alice@posthorn\.test>")
    code, text = rcpt(inst, "alice@%s" % DOMAIN, sender="")
    assert (code, text) == (550, "5.7.1 <>: Sender address rejected: No bounces here")
    code, text = rcpt(inst, "alice@%s" % DOMAIN, sender="x@mx.bad2.example")
    assert (code, text) == (450, "4.7.0 <x@mx.bad2.example>: Sender address rejected: "
                                 "Slow down")
    assert rcpt(inst, "alice@%s" % DOMAIN, sender="good@example.com")[0] == 250


def test_check_sender_access_not_delayed(make_instance):
    inst = make(make_instance, {
        "smtpd_delay_reject": "no",
        "smtpd_sender_restrictions": "check_sender_access texthash:@senders@"},
        {"senders": ["spammer@bad.example REJECT"]})
    c = session(inst, sender=None)
    code, text = c.cmd("MAIL FROM:<spammer@bad.example>")
    assert (code, text) == (554, "5.7.1 <spammer@bad.example>: Sender address rejected: "
                                 "Access denied")
    assert c.cmd("MAIL FROM:<good@example.com>")[0] == 250
    c.close()


def test_check_client_access_prefixes(make_instance):
    inst = make(make_instance, {
        "smtpd_client_restrictions": "check_client_access texthash:@clients@"},
        {"clients": ["127.0.0.1 OK", "127.0.0 REJECT prefix match"]})
    code, text = rcpt(inst, "alice@%s" % DOMAIN)
    assert (code, text) == (554, "5.7.1 <unknown[127.0.0.2]>: Client host rejected: "
                                 "prefix match")
    assert rcpt(inst, "alice@%s" % DOMAIN, source="127.0.0.1")[0] == 250


def test_client_reject_not_delayed(make_instance):
    inst = make(make_instance, {
        "smtpd_delay_reject": "no",
        "smtpd_client_restrictions": "check_client_access texthash:@clients@"},
        {"clients": ["127.0.0.2 REJECT"]})
    c = Client(inst.port)
    assert c.greeting == (554, "5.7.1 <unknown[127.0.0.2]>: Client host rejected: "
                               "Access denied")
    assert c.cmd("HELO client.example") == (
        503, "5.7.0 Error: access denied for unknown[127.0.0.2]")
    assert c.cmd("MAIL FROM:<a@example.com>")[0] == 503
    assert c.cmd("QUIT")[0] == 221
    c.close()
    assert inst.wait_for_log(r"NOQUEUE: reject: CONNECT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                             r"<unknown\[127\.0\.0\.2\]>: Client host rejected: Access denied")
    c = Client(inst.port, source="127.0.0.1")
    assert c.greeting[0] == 220
    c.close()


def test_check_helo_access(make_instance):
    inst = make(make_instance, {
        "smtpd_helo_restrictions": "check_helo_access texthash:@helo@"},
        {"helo": ["bad.helo.example REJECT", "evil.example 554 Go away"]})
    code, text = rcpt(inst, "alice@%s" % DOMAIN, helo="EHLO bad.helo.example")
    assert (code, text) == (554, "5.7.1 <bad.helo.example>: Helo command rejected: "
                                 "Access denied")
    code, text = rcpt(inst, "alice@%s" % DOMAIN, helo="HELO host.evil.example")
    assert (code, text) == (554, "5.7.1 <host.evil.example>: Helo command rejected: Go away")
    assert rcpt(inst, "alice@%s" % DOMAIN)[0] == 250


# --------------------------------------------------- name and syntax checks

def test_helo_required(make_instance):
    inst = make_instance(main={"smtpd_helo_required": "yes"})
    c = Client(inst.port)
    assert c.cmd("MAIL FROM:<a@example.com>") == (503, "5.5.1 Error: send HELO/EHLO first")
    assert c.cmd("HELO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.com>")[0] == 250
    c.close()


def test_non_fqdn_and_invalid_helo(make_instance):
    inst = make_instance(main={
        "smtpd_delay_reject": "no",
        "smtpd_helo_restrictions": "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
        "smtpd_sender_restrictions": "reject_non_fqdn_sender",
        "smtpd_recipient_restrictions": "reject_non_fqdn_recipient"})
    c = Client(inst.port)
    assert c.cmd("EHLO bad_host!") == (501, "5.5.2 <bad_host!>: Helo command rejected: "
                                            "Invalid name")
    assert c.cmd("EHLO localhost") == (504, "5.5.2 <localhost>: Helo command rejected: "
                                            "need fully-qualified hostname")
    assert c.cmd("EHLO [127.0.0.2]")[0] == 250
    assert c.cmd("EHLO client.example.")[0] == 250
    assert c.cmd("MAIL FROM:<user@host>") == (504, "5.5.2 <user@host>: Sender address "
                                                    "rejected: need fully-qualified address")
    assert c.cmd("MAIL FROM:<>")[0] == 250
    assert c.cmd("RCPT TO:<alice@localhost>") == (
        504, "5.5.2 <alice@localhost>: Recipient address rejected: "
             "need fully-qualified address")
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    c.close()


def test_warn_if_reject(make_instance):
    inst = make_instance(main={
        "smtpd_recipient_restrictions": "warn_if_reject reject_non_fqdn_recipient"})
    assert rcpt(inst, "alice@localhost")[0] == 250
    assert inst.wait_for_log(r"NOQUEUE: reject_warning: RCPT from unknown\[127\.0\.0\.2\]: "
                             r"504 5\.5\.2 <alice@localhost>: Recipient address rejected: "
                             r"need fully-qualified address;")


def test_reject_unauth_pipelining(make_instance):
    inst = make_instance(main={"smtpd_data_restrictions": "reject_unauth_pipelining"})
    c = session(inst)
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    c.send("DATA\r\nSubject: too early\r\n\r\nbody\r\n.\r\n")
    assert c.reply() == (503, "5.5.0 <DATA>: Data command rejected: "
                              "Improper use of SMTP command pipelining")
    c.close()
    assert inst.wait_for_log(r"NOQUEUE: reject: DATA from unknown\[127\.0\.0\.2\]: 503 5\.5\.0 "
                             r"<DATA>: Data command rejected: Improper use of SMTP command "
                             r"pipelining;")
    # A client that waits for the replies is fine, and ESMTP pipelining of
    # MAIL and RCPT is allowed.
    c = Client(inst.port)
    assert c.cmd("EHLO client.example")[0] == 250
    c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice@%s>\r\n" % (SENDER, DOMAIN))
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd("Subject: patient\r\n\r\nbody\r\n.")[0] == 250
    c.close()


def test_plain_defer_and_reject_items(make_instance):
    inst = make_instance(main={"smtpd_sender_restrictions": "defer"})
    assert rcpt(inst, "alice@%s" % DOMAIN) == (
        450, "4.7.1 <sender@example.com>: Sender address rejected: Try again later")


def test_unknown_restriction_is_a_config_error(make_instance):
    inst = make_instance(main={"smtpd_recipient_restrictions": "reject_nonsense_typo"})
    assert rcpt(inst, "alice@%s" % DOMAIN) == (451, "4.3.5 Server configuration error")


# --------------------------------------------------------------------- DNS

DNS_LINES = [
    "good.example MX 10 mx.good.example",
    "mx.good.example A 192.0.2.10",
    "aonly.example A 192.0.2.11",
    "nullmx.example MX 0 .",
    "broken.example SERVFAIL",
    "2.0.0.127.rbl.test A 127.0.0.2",
    "2.0.0.127.rbl.test TXT Listed for testing",
]


@pytest.fixture
def dns_instance(make_instance, monkeypatch):
    """Factory: an instance with MAIN whose daemons use a test DNS file
    (in the instance's etc/, readable by mail_owner)."""
    def start(main):
        inst = make_instance(main=main, start=False)
        path = table_file(inst, "dns", DNS_LINES)
        monkeypatch.setenv("POSTHORN_DNS_FILE", path)
        return inst.start()
    return start


def test_reject_unknown_sender_domain(dns_instance):
    inst = dns_instance({"smtpd_sender_restrictions": "reject_unknown_sender_domain"})
    local = "alice@%s" % DOMAIN
    assert rcpt(inst, local, sender="a@good.example")[0] == 250
    assert rcpt(inst, local, sender="a@aonly.example")[0] == 250
    assert rcpt(inst, local, sender="a@nowhere.example") == (
        450, "4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found")
    assert rcpt(inst, local, sender="a@broken.example")[0] == 450
    assert rcpt(inst, local, sender="a@nullmx.example")[0] == 556
    assert rcpt(inst, local, sender="")[0] == 250
    assert rcpt(inst, local, sender="bob@%s" % DOMAIN)[0] == 250


def test_reject_unknown_recipient_domain(dns_instance):
    inst = dns_instance({"smtpd_recipient_restrictions":
                               "reject_unknown_recipient_domain"})
    assert rcpt(inst, "x@nowhere.example", source="127.0.0.1") == (
        450, "4.1.2 <x@nowhere.example>: Recipient address rejected: Domain not found")
    assert rcpt(inst, "x@good.example", source="127.0.0.1")[0] == 250
    assert rcpt(inst, "alice@%s" % DOMAIN)[0] == 250


def test_reject_rbl_client(dns_instance):
    inst = dns_instance({"smtpd_client_restrictions": "reject_rbl_client rbl.test"})
    assert rcpt(inst, "alice@%s" % DOMAIN) == (
        554, "5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.test; "
             "Listed for testing")
    assert rcpt(inst, "alice@%s" % DOMAIN, source="127.0.0.1")[0] == 250


def test_reject_rbl_client_filter(dns_instance):
    inst = dns_instance({"smtpd_client_restrictions":
                               "reject_rbl_client rbl.test=127.0.0.4"})
    assert rcpt(inst, "alice@%s" % DOMAIN)[0] == 250
