"""test_sendmail.py - the sendmail, mailq and postqueue commands.

sendmail submits through smtpd's local "submit" socket: -t takes the
recipients from To/Cc/Bcc and removes Bcc, plain recipients work, -f sets
the envelope sender (seen as Return-Path), -i/-oi keeps "." lines;
mailq / postqueue -p list the queue.
"""

import os
import re
import uuid

import pytest

from posthorn_instance import header_value


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory(users=("alice", "bob", "carol"))


def tag():
    return uuid.uuid4().hex[:12]


def test_sendmail_t_uses_headers_and_removes_bcc(inst):
    t = tag()
    msg = ("From: Sender <sender@example.com>\n"
           "To: alice@posthorn.test\n"
           "Cc: Bob <bob@posthorn.test>\n"
           "Bcc: carol@posthorn.test\n"
           "Subject: sendmail-t %s\n"
           "\n"
           "body of %s\n" % (t, t))
    r = inst.sendmail(["-t"], msg)
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob", "carol"):
        data = inst.wait_for_message("sendmail-t " + t, user)
        assert data is not None, "no copy for %s" % user
        head = data.partition(b"\n\n")[0]
        assert not re.search(rb"(?im)^bcc:", head), head
        assert header_value(data, "To") == b"alice@posthorn.test"
        assert data.endswith(b"body of " + t.encode() + b"\n")


def test_sendmail_plain_recipient(inst):
    t = tag()
    msg = "Subject: plain %s\n\nhello %s\n" % (t, t)
    r = inst.sendmail(["alice"], msg)
    assert r.returncode == 0, r.stderr
    data = inst.wait_for_message("plain " + t, "alice")
    assert data is not None
    assert b"hello " + t.encode() + b"\n" in data


def test_sendmail_f_sets_return_path(inst):
    t = tag()
    msg = "Subject: envelope %s\n\nx\n" % t
    r = inst.sendmail(["-f", "bounces@example.org", "bob@posthorn.test"], msg)
    assert r.returncode == 0, r.stderr
    data = inst.wait_for_message("envelope " + t, "bob")
    assert data is not None
    assert header_value(data, "Return-Path") == b"<bounces@example.org>"


def test_sendmail_adds_missing_headers(inst):
    t = tag()
    r = inst.sendmail(["alice"], "Subject: bare %s\n\nno other headers\n" % t)
    assert r.returncode == 0, r.stderr
    data = inst.wait_for_message("bare " + t, "alice")
    assert data is not None
    for name in ("From", "Date", "Message-Id"):
        assert header_value(data, name), "missing %s header" % name


def test_sendmail_oi_keeps_dot_lines(inst):
    t = tag()
    msg = "Subject: dots %s\n\nbefore\n.\n..\nafter\n" % t
    r = inst.sendmail(["-oi", "alice"], msg)
    assert r.returncode == 0, r.stderr
    data = inst.wait_for_message("dots " + t, "alice")
    assert data is not None
    assert data.endswith(b"before\n.\n..\nafter\n"), data


def test_sendmail_without_i_stops_at_dot(inst):
    t = tag()
    msg = "Subject: dotend %s\n\nbefore\n.\nafter\n" % t
    r = inst.sendmail(["alice"], msg)
    assert r.returncode == 0, r.stderr
    data = inst.wait_for_message("dotend " + t, "alice")
    assert data is not None
    assert data.endswith(b"before\n"), data


def test_sendmail_crlf_input_becomes_lf(inst):
    t = tag()
    msg = "Subject: crlf %s\r\n\r\nline one\r\nline two\r\n" % t
    r = inst.sendmail(["-i", "alice"], msg)
    assert r.returncode == 0, r.stderr
    data = inst.wait_for_message("crlf " + t, "alice")
    assert data is not None
    assert data.endswith(b"line one\nline two\n"), data


def test_sendmail_no_recipients_fails(inst):
    r = inst.sendmail(["-t"], "Subject: nobody\n\nx\n")
    assert r.returncode != 0


def test_mailq_empty(inst):
    r = inst.run([inst.bin("postqueue"), "-c", inst.etc, "-p"])
    assert r.returncode == 0, r.stderr
    assert "Mail queue is empty" in r.stdout
    mailq = inst.bin("mailq")
    if os.path.exists(mailq):
        r = inst.run([mailq])
        assert r.returncode == 0, r.stderr
        assert "Mail queue is empty" in r.stdout


def test_mailq_lists_waiting_mail(make_instance):
    inst = make_instance(qmgr=False)
    reply = None
    with inst.smtp() as s:
        s.sendmail("waiting@example.com", ["alice@posthorn.test"],
                   b"Subject: waiting\r\n\r\nin the queue\r\n")
        reply = s.noop()
    r = inst.run([inst.bin("postqueue"), "-c", inst.etc, "-p"])
    assert r.returncode == 0, r.stderr
    ids = [os.path.basename(p) for p in inst.queue_files("incoming")]
    assert len(ids) == 1
    assert ids[0] in r.stdout, r.stdout
    assert "waiting@example.com" in r.stdout
    assert "alice@posthorn.test" in r.stdout
    assert "Mail queue is empty" not in r.stdout
    assert reply[0] == 250
