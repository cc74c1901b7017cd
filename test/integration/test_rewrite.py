"""test_rewrite.py - canonical(5), masquerading and relocated(5), as Postfix.

Envelope addresses are rewritten before mail is queued, in Postfix's
order: sender_canonical_maps then canonical_maps for the sender,
recipient_canonical_maps then canonical_maps for recipients (before
virtual aliases), each in canonical(5)'s search order (user@domain, user
of a local domain, @domain; "@domain" results keep the user; unmatched
recipient_delimiter extensions are kept), then masquerade_domains for the
sender (with masquerade_exceptions and "!domain").  A recipient in
relocated_maps gets "550 5.1.6 ... User has moved to ...".  A table that
cannot answer defers (451).
"""

import os
import re
import smtplib

import pytest

from posthorn_instance import DOMAIN

TABLES = {
    "sender_canonical": "bob@%s  robert@example.com\n" % DOMAIN,
    "recipient_canonical": "info@%s  alice@%s\n" % (DOMAIN, DOMAIN),
    "canonical": "@old.example  @%s\n" % DOMAIN,
    "relocated": "gone@%s  gone@new.example\n" % DOMAIN,
}


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    i = module_instance_factory(main={
        "recipient_delimiter": "+",
        "sender_canonical_maps": "texthash:$config_directory/sender_canonical",
        "recipient_canonical_maps": "texthash:$config_directory/recipient_canonical",
        "canonical_maps": "texthash:$config_directory/canonical",
        "relocated_maps": "texthash:$config_directory/relocated",
        "masquerade_domains": "!keep.%s, %s" % (DOMAIN, DOMAIN),
        "masquerade_exceptions": "root",
    }, start=False)
    for name, text in TABLES.items():
        with open(os.path.join(i.etc, name), "w") as f:
            f.write(text)
    i.start()
    return i


def send(inst, sender, rcpt, token):
    with inst.smtp() as s:
        s.ehlo()
        assert s.mail(sender)[0] == 250
        code, text = s.rcpt(rcpt)
        assert code == 250, text
        code, text = s.data(("Subject: %s\r\n\r\nbody\r\n" % token).encode())
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def queued_from(inst, qid):
    assert inst.wait_for_log(r"%s: from=<[^>]*>, size=" % qid), inst.log_tail()
    for line in inst.log().splitlines():
        if "%s: from=<" % qid in line:
            return line.split("from=<", 1)[1].split(">", 1)[0]
    return None


def test_sender_canonical_and_masquerade(inst):
    qid = send(inst, "bob@" + DOMAIN, "alice@" + DOMAIN, "sender-canon")
    assert queued_from(inst, qid) == "robert@example.com"
    data = inst.wait_for_message(b"sender-canon", user="alice")
    assert b"Return-Path: <robert@example.com>" in data, data
    assert queued_from(inst, send(inst, "carol@mail.%s" % DOMAIN, "alice@" + DOMAIN,
                                  "masq-1")) == "carol@" + DOMAIN
    assert queued_from(inst, send(inst, "root@mail.%s" % DOMAIN, "alice@" + DOMAIN,
                                  "masq-2")) == "root@mail." + DOMAIN
    assert queued_from(inst, send(inst, "dave@keep.%s" % DOMAIN, "alice@" + DOMAIN,
                                  "masq-3")) == "dave@keep." + DOMAIN


def test_recipient_canonical(inst):
    send(inst, "s@example.com", "info@" + DOMAIN, "rcpt-canon")
    assert inst.wait_for_message(b"rcpt-canon", user="alice")
    assert inst.wait_for_log(re.escape("orig_to=<info@%s>" % DOMAIN))
    send(inst, "s@example.com", "info+sales@" + DOMAIN, "rcpt-ext")
    assert inst.wait_for_message(b"rcpt-ext", user="alice")
    assert inst.wait_for_log(re.escape("to=<alice+sales@%s>" % DOMAIN))
    send(inst, "s@example.com", "bob@old.example", "domain-canon")
    assert inst.wait_for_message(b"domain-canon", user="bob")


def test_relocated(inst):
    with inst.smtp() as s:
        s.ehlo()
        s.mail("s@example.com")
        code, text = s.rcpt("gone@" + DOMAIN)
    assert (code, text.decode()) == (550, "5.1.6 <gone@%s>: Recipient address rejected: "
                                          "User has moved to gone@new.example" % DOMAIN)


def test_table_failure_defers(make_instance):
    inst = make_instance(main={"recipient_canonical_maps": "hash:/nonexistent/canonical"})
    with inst.smtp() as s:
        s.ehlo()
        s.mail("s@example.com")
        code, text = s.rcpt("alice@" + DOMAIN)
    assert (code, text.decode()) == (451, "4.3.0 <alice@%s>: Temporary lookup failure"
                                     % DOMAIN)


def header_lines(data):
    head = data.split(b"\n\n", 1)[0].decode()
    return [l for l in head.split("\n") if l.split(":", 1)[0] in ("From", "To", "Cc")]


@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.2"])
def test_headers_of_local_clients(inst, source):
    """Headers are rewritten for local_header_rewrite_clients (default:
    the server's own addresses, 127.0.0.1 here), not for others."""
    token = "headers-%s" % source
    msg = ("From: Bob <bob@%s>\r\nTo: \"Info, Desk\" <info@%s>\r\n"
           "Cc: carol@mail.%s (Carol), nobody\r\nSubject: %s\r\n\r\nbody\r\n"
           % (DOMAIN, DOMAIN, DOMAIN, token))
    with smtplib.SMTP("127.0.0.1", inst.port, source_address=(source, 0)) as s:
        s.ehlo()
        assert s.sendmail("s@example.com", ["alice@" + DOMAIN], msg.encode()) == {}
    data = inst.wait_for_message(token.encode(), user="alice")
    if source == "127.0.0.1":
        assert header_lines(data) == [
            "From: Bob <robert@example.com>",
            "To: \"Info, Desk\" <alice@%s>" % DOMAIN,
            "Cc: carol@%s (Carol), nobody" % DOMAIN], data
    else:
        assert header_lines(data) == [
            "From: Bob <bob@%s>" % DOMAIN,
            "To: \"Info, Desk\" <info@%s>" % DOMAIN,
            "Cc: carol@mail.%s (Carol), nobody" % DOMAIN], data
