"""test_client_names.py - client host names and the DNS restrictions,
answered without stalling the smtpd process.

At connect smtpd looks up the PTR name of the client address and checks
that the name resolves back to the address, as Postfix's smtpd does:
"connect from NAME[ADDR]" and "(NAME [ADDR])" in Received: when it
confirms, "unknown[ADDR]" with Postfix's warning when it does not.  Then
reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
reject_unknown_helo_hostname, reject_rhsbl_client, _reverse_client,
_helo, _sender, _recipient and check_client_access on the name, with
Postfix's replies.  The DNS is the test file of lib/dns/dns.h
(POSTHORN_DNS_FILE), so nothing leaves the machine; its DELAY lines make
a name slow to answer, which shows that one session waiting for DNS does
not hold up another session of the same smtpd process.
"""

import os
import re
import select
import time

import pytest

from posthorn_instance import DOMAIN, wait_until
from test_restrictions import Client, rcpt, session, table_file

DNS_LINES = [
    # 127.0.0.2: confirmed
    "2.0.0.127.in-addr.arpa PTR client.good.example",
    "client.good.example A 127.0.0.2",
    # 127.0.0.3: the name does not point back
    "3.0.0.127.in-addr.arpa PTR forged.example",
    "forged.example A 192.0.2.99",
    # 127.0.0.4: no PTR at all; 127.0.0.5: the PTR lookup fails for now
    "5.0.0.127.in-addr.arpa SERVFAIL",
    # 127.0.0.6: slow to answer
    "6.0.0.127.in-addr.arpa DELAY 3",
    "6.0.0.127.in-addr.arpa PTR slow.good.example",
    "slow.good.example A 127.0.0.6",
    # names for HELO and the blocklists
    "helo.good.example A 192.0.2.1",
    "mx-only.example MX 10 helo.good.example",
    "client.good.example.dbl.test A 127.0.0.2",
    "client.good.example.dbl.test TXT listed name",
    "forged.example.dbl.test A 127.0.0.2",
    "spam.example.dbl.test A 127.0.0.2",
    "badhelo.example.dbl.test A 127.0.0.2",
    "victim.example.dbl.test A 127.0.0.2",
    "example.com A 192.0.2.2",
    # a sender domain that is slow to answer
    "slow.example DELAY 3",
    "slow.example MX 10 helo.good.example",
]


@pytest.fixture
def dns_instance(make_instance, monkeypatch):
    """Factory: an instance with MAIN whose daemons use DNS_LINES."""
    def start(main):
        inst = make_instance(main=main, start=False)
        monkeypatch.setenv("POSTHORN_DNS_FILE", table_file(inst, "dns.test", DNS_LINES))
        return inst.start()
    return start


def rcpt_from(inst, source, addr="alice@%s" % DOMAIN, **kw):
    """(code, text) for one RCPT TO from SOURCE in a fresh session."""
    return rcpt(inst, addr, source=source, **kw)


def test_confirmed_name_in_log_and_received(dns_instance):
    inst = dns_instance({})
    c = session(inst, source="127.0.0.2")
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd("Subject: named\r\n\r\nhello\r\n.")[0] == 250
    c.cmd("QUIT")
    c.close()
    assert inst.wait_for_log(r"smtpd\[\d+\]: connect from client\.good\.example\[127\.0\.0\.2\]$")
    assert inst.wait_for_log(r"client=client\.good\.example\[127\.0\.0\.2\]$")
    msg = inst.wait_for_message(b"Subject: named", user="alice")
    assert b"Received: from client.example (client.good.example [127.0.0.2])" in msg


def test_forged_and_missing_names_are_unknown(dns_instance):
    inst = dns_instance({})
    for source in ("127.0.0.3", "127.0.0.4", "127.0.0.5"):
        c = Client(inst.port, source)
        assert c.greeting[0] == 220
        c.cmd("QUIT")
        c.close()
        assert inst.wait_for_log(r"connect from unknown\[%s\]$" % re.escape(source))
    assert inst.wait_for_log(r"warning: hostname forged\.example does not resolve to "
                             r"address 127\.0\.0\.3$")


def test_reject_unknown_client_hostname(dns_instance):
    inst = dns_instance({"smtpd_client_restrictions": "reject_unknown_client_hostname"})
    assert rcpt_from(inst, "127.0.0.2")[0] == 250
    assert rcpt_from(inst, "127.0.0.3") == (
        450, "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]")
    assert rcpt_from(inst, "127.0.0.4")[0] == 450
    assert inst.wait_for_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.3\]: 450 4\.7\.25 "
                             r"Client host rejected: cannot find your hostname, \[127\.0\.0\.3\];")


def test_unknown_client_reject_code_and_temporary_failure(dns_instance):
    inst = dns_instance({"smtpd_client_restrictions": "reject_unknown_client_hostname",
                         "unknown_client_reject_code": "550"})
    assert rcpt_from(inst, "127.0.0.3")[0] == 550      # forged: permanent
    assert rcpt_from(inst, "127.0.0.4")[0] == 550      # no PTR
    assert rcpt_from(inst, "127.0.0.5")[0] == 450      # SERVFAIL: always 450


def test_reject_unknown_reverse_client_hostname(dns_instance):
    inst = dns_instance({"smtpd_client_restrictions":
                         "reject_unknown_reverse_client_hostname"})
    assert rcpt_from(inst, "127.0.0.2")[0] == 250
    assert rcpt_from(inst, "127.0.0.3")[0] == 250      # a PTR name exists
    assert rcpt_from(inst, "127.0.0.4") == (
        450, "4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.4]")


def test_check_client_access_by_name(dns_instance, make_instance):
    inst = make_instance(main={}, start=False)
    path = table_file(inst, "clients", ["good.example REJECT named client refused",
                                       "127.0.0.4 REJECT numbered client refused"])
    inst.run([inst.bin("postmap"), path], check=True)
    inst.main_overrides["smtpd_client_restrictions"] = "check_client_access hash:%s" % path
    inst.write_config()
    os.environ["POSTHORN_DNS_FILE"] = table_file(inst, "dns.test", DNS_LINES)
    try:
        inst.start()
        assert rcpt_from(inst, "127.0.0.2") == (
            554, "5.7.1 <client.good.example[127.0.0.2]>: Client host rejected: "
                 "named client refused")
        assert rcpt_from(inst, "127.0.0.4")[1].endswith("numbered client refused")
        assert rcpt_from(inst, "127.0.0.3")[0] == 250   # forged: the name is not used
    finally:
        del os.environ["POSTHORN_DNS_FILE"]


def test_reject_rhsbl(dns_instance):
    inst = dns_instance({
        "smtpd_client_restrictions": "reject_rhsbl_client dbl.test",
        "smtpd_helo_restrictions": "reject_rhsbl_helo dbl.test",
        "smtpd_sender_restrictions": "reject_rhsbl_sender dbl.test",
        "smtpd_recipient_restrictions": "reject_rhsbl_recipient dbl.test",
    })
    assert rcpt_from(inst, "127.0.0.2") == (
        554, "5.7.1 Service unavailable; Client host [client.good.example] blocked "
             "using dbl.test; listed name")
    assert rcpt_from(inst, "127.0.0.3")[0] == 250     # unverified name: not looked up
    assert rcpt_from(inst, "127.0.0.4", helo="EHLO badhelo.example") == (
        554, "5.7.1 Service unavailable; Helo command [badhelo.example] blocked using dbl.test")
    assert rcpt_from(inst, "127.0.0.4", sender="a@spam.example") == (
        554, "5.7.1 Service unavailable; Sender address [a@spam.example] blocked "
             "using dbl.test")
    assert rcpt_from(inst, "127.0.0.1", addr="x@victim.example") == (
        554, "5.7.1 Service unavailable; Recipient address [x@victim.example] blocked "
             "using dbl.test")


def test_reject_rhsbl_reverse_client(dns_instance):
    inst = dns_instance({"smtpd_client_restrictions": "reject_rhsbl_reverse_client dbl.test"})
    assert rcpt_from(inst, "127.0.0.3") == (
        554, "5.7.1 Service unavailable; Unverified Client host [forged.example] blocked "
             "using dbl.test")
    assert rcpt_from(inst, "127.0.0.4")[0] == 250


def test_reject_unknown_helo_hostname(dns_instance):
    inst = dns_instance({"smtpd_helo_restrictions": "reject_unknown_helo_hostname"})
    assert rcpt_from(inst, "127.0.0.4", helo="EHLO helo.good.example")[0] == 250
    assert rcpt_from(inst, "127.0.0.4", helo="EHLO mx-only.example")[0] == 250
    assert rcpt_from(inst, "127.0.0.4", helo="EHLO [192.0.2.1]")[0] == 250
    assert rcpt_from(inst, "127.0.0.4", helo="EHLO nohost.example") == (
        450, "4.7.1 <nohost.example>: Helo command rejected: Host not found")


def test_peername_lookup_off(dns_instance):
    inst = dns_instance({"smtpd_peername_lookup": "no"})
    c = Client(inst.port, "127.0.0.2")
    assert c.greeting[0] == 220
    c.cmd("QUIT")
    c.close()
    assert inst.wait_for_log(r"connect from unknown\[127\.0\.0\.2\]$")


def _reply_ready(c):
    """Is a reply (or part of one) waiting on C's socket?"""
    return bool(c.buf) or bool(select.select([c.sock], [], [], 0)[0])


def _full_session(inst):
    """A complete mail transaction from 127.0.0.1; the time it took."""
    started = time.monotonic()
    c = session(inst, source="127.0.0.1")
    assert c.cmd("RCPT TO:<bob@%s>" % DOMAIN)[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd("Subject: meanwhile\r\n\r\nnot held up\r\n.")[0] == 250
    c.cmd("QUIT")
    c.close()
    return time.monotonic() - started


def test_slow_restriction_lookup_does_not_stall_others(dns_instance):
    """One smtpd process.  A's RCPT needs the MX of slow.example (3 s);
    while A waits, B's whole transaction is served, then A is answered."""
    inst = dns_instance({"default_process_limit": "1",
                         "smtpd_sender_restrictions": "reject_unknown_sender_domain"})
    a = session(inst, source="127.0.0.2", sender="a@slow.example")
    a.send(b"RCPT TO:<alice@%s>\r\n" % DOMAIN.encode())
    took = _full_session(inst)
    assert not _reply_ready(a), ("A was answered before its lookup was done", a.reply())
    assert len(inst.child_pids("smtpd")) == 1
    assert a.reply()[0] == 250
    a.cmd("QUIT")
    a.close()
    print("\nB's transaction while A waited for DNS: %.3f s" % took)


def test_slow_client_name_does_not_stall_others(dns_instance):
    """The PTR of 127.0.0.6 takes 3 s: its greeting waits, others do not."""
    inst = dns_instance({"default_process_limit": "1"})
    import socket
    slow = socket.create_connection(("127.0.0.1", inst.port), timeout=15,
                                    source_address=("127.0.0.6", 0))
    try:
        time.sleep(0.2)                  # its lookup is on the way
        took = _full_session(inst)
        assert not select.select([slow], [], [], 0)[0], "greeted before its name was known"
        slow.settimeout(15)
        assert slow.recv(100).startswith(b"220 ")
        assert inst.wait_for_log(r"connect from slow\.good\.example\[127\.0\.0\.6\]$")
        print("\nB's transaction while A's name was looked up: %.3f s" % took)
    finally:
        slow.close()


def test_session_ends_while_lookup_runs(dns_instance):
    """A client that leaves while its lookup runs: the answer finds no
    session and nothing breaks; the server goes on serving."""
    inst = dns_instance({"smtpd_sender_restrictions": "reject_unknown_sender_domain"})
    a = session(inst, source="127.0.0.2", sender="a@slow.example")
    a.send(b"RCPT TO:<alice@%s>\r\n" % DOMAIN.encode())
    a.close()
    import socket
    s = socket.create_connection(("127.0.0.1", inst.port), source_address=("127.0.0.6", 0))
    s.close()
    time.sleep(3.5)
    assert rcpt_from(inst, "127.0.0.2")[0] == 250
    assert "panic" not in inst.log() and "fatal" not in inst.log()
