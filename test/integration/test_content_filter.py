"""test_content_filter.py - content_filter and the FILTER action: the
after-queue filter set-up of amavis and friends, as Postfix admins build it.

smtpd writes the filter into the queue file; qmgr sends every recipient
of the message to the filter's transport:nexthop (here the smtp client to
a filter on a port of 127.0.0.1).  The filter in this test adds
"X-Filtered: yes" and gives the message back to a second smtpd on its own
port, run with -o content_filter= and -o
receive_override_options=no_address_mappings,... so that nothing is
mapped or checked twice.  Each recipient gets the message once, with the
filter's header.  An access table FILTER action sends one sender's mail
through the filter and not the rest.
"""

import smtplib

import pytest

from posthorn_instance import DOMAIN, free_port, wait_until
from test_smtp_client import Receiver
from test_restrictions import table_file

FILTER_HEADER = b"X-Filtered: yes\r\n"


@pytest.fixture
def content_filter():
    """A filter on 127.0.0.1:PORT; .back is the port it re-injects to."""
    rx = Receiver()

    def reinject(trans):
        rcpts = [r[len("TO:"):].strip("<>") for r in trans["rcpts"]]
        sender = trans["mail"].split(" ")[0][len("FROM:"):].strip("<>")
        with smtplib.SMTP("127.0.0.1", rx.back, timeout=20) as s:
            s.sendmail(sender, rcpts, FILTER_HEADER + trans["data"])
    rx.on_message = reinject
    rx.back = free_port()
    yield rx
    rx.close()


def filter_instance(make_instance, rx, main):
    back = ("127.0.0.1:%d inet n - n - - smtpd -o content_filter= "
            "-o receive_override_options=no_unknown_recipient_checks,"
            "no_header_body_checks,no_address_mappings "
            "-o smtpd_client_restrictions= -o smtpd_helo_restrictions= "
            "-o smtpd_sender_restrictions= -o smtpd_data_restrictions= "
            "-o smtpd_recipient_restrictions=permit_mynetworks,reject "
            "-o mynetworks=127.0.0.0/8" % rx.back)
    inst = make_instance(main=main, master=["smtp unix - - n - - smtp", back], start=False)
    checks = table_file(inst, "header_checks.pcre",
                        ["/^X-Filtered: yes/ PREPEND X-Checked-Twice: yes"])
    aliases = table_file(inst, "virtual", ["team@%s alice@%s, bob@%s" % ((DOMAIN,) * 3)])
    inst.main_overrides["header_checks"] = "pcre:" + checks
    inst.main_overrides["virtual_alias_maps"] = "texthash:" + aliases
    inst.write_config()
    return inst.start()


def send(inst, sender, rcpts, subject):
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=20) as s:
        s.sendmail(sender, rcpts, ("Subject: %s\r\n\r\nbody\r\n" % subject).encode())


def copies(inst, user, subject):
    return [m for m in inst.maildir_messages(user) if ("Subject: " + subject).encode() in m]


def test_round_trip(make_instance, content_filter):
    rx = content_filter
    inst = filter_instance(make_instance, rx,
                           {"content_filter": "smtp:[127.0.0.1]:%d" % rx.port})
    send(inst, "s@example.com", ["team@" + DOMAIN], "filtered-1")
    assert wait_until(lambda: copies(inst, "alice", "filtered-1")
                      and copies(inst, "bob", "filtered-1"), 20), inst.log_tail()
    assert len(rx.transactions) == 1                    # one message to the filter
    assert sorted(rx.transactions[0]["rcpts"]) == ["TO:<alice@%s>" % DOMAIN,
                                                   "TO:<bob@%s>" % DOMAIN]
    for user in ("alice", "bob"):
        wait_until(lambda: inst.queue_empty(), 10)
        got = copies(inst, user, "filtered-1")
        assert len(got) == 1, got                       # once, not twice
        assert b"X-Filtered: yes\n" in got[0]
        assert b"X-Checked-Twice" not in got[0]         # no_header_body_checks
    assert inst.wait_for_log(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % rx.port)


def test_filter_action(make_instance, content_filter):
    rx = content_filter
    scratch = make_instance(main={}, start=False)
    path = table_file(scratch, "senders", ["filtered@example.com FILTER smtp:[127.0.0.1]:%d"
                                           % rx.port])
    inst2 = filter_instance(make_instance, rx, {
        "smtpd_sender_restrictions": "check_sender_access texthash:" + path})
    send(inst2, "filtered@example.com", ["alice@" + DOMAIN], "via-filter")
    send(inst2, "plain@example.com", ["alice@" + DOMAIN], "not-filtered")
    assert wait_until(lambda: copies(inst2, "alice", "via-filter")
                      and copies(inst2, "alice", "not-filtered"), 20), inst2.log_tail()
    assert b"X-Filtered: yes\n" in copies(inst2, "alice", "via-filter")[0]
    assert b"X-Filtered" not in copies(inst2, "alice", "not-filtered")[0]
    assert len(rx.transactions) == 1


def test_mail_loop_ends_at_hopcount_limit(make_instance):
    """What stops a filter loop: more than hopcount_limit Received:
    headers are refused at the end of DATA, as Postfix's smtpd does."""
    inst = make_instance(main={"hopcount_limit": "5"})
    hops = "".join("Received: from hop%d.example by x; Sun, 6 Dec 2026 00:00:00 +0000\r\n" % i
                   for i in range(6))
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=20) as s:
        s.ehlo()
        s.mail("s@example.com")
        s.rcpt("alice@" + DOMAIN)
        assert s.data((hops + "Subject: loop\r\n\r\nx\r\n").encode()) == (
            554, b"5.4.0 Error: too many hops")
        s.rset()
        s.mail("s@example.com")
        s.rcpt("alice@" + DOMAIN)
        assert s.data((hops[hops.index("Received: from hop1"):] +
                       "Subject: five\r\n\r\nx\r\n").encode())[0] == 250
    assert inst.wait_for_log(r"NOQUEUE: reject: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: "
                             r"554 5\.4\.0 Error: too many hops")
