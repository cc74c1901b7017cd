"""test_smtputf8.py - SMTPUTF8 (RFC 6531/6532), on by default as in Postfix 3.7.

smtpd offers SMTPUTF8 (smtputf8_enable = yes); Python's smtplib sends
with mail_options=["SMTPUTF8"] from and to UTF-8 addresses: a virtual
alias and a virtual mailbox with UTF-8 local parts get the message, its
UTF-8 header byte for byte.  Without the SMTPUTF8 parameter a UTF-8
address gets Postfix's "553 5.6.7 Must declare SMTPUTF8 to send unicode
address"; a command that is not valid UTF-8 gets "500 5.5.2 Error: bad
UTF-8 syntax" and the session goes on; with smtputf8_enable = no the
extension is gone ("555 5.5.4 Unsupported option: SMTPUTF8").  The smtp
client passes SMTPUTF8 on to a next hop that offers it, and bounces a
message whose addresses need it, as Postfix, where the next hop does not
("5.6.7 SMTPUTF8 is required, but was not offered by host ...") - against
the test's own receiver and against Debian's Postfix as the next hop
(root only: Postfix must start as root).
"""

import os
import re
import shutil
import smtplib
import subprocess

import pytest

from posthorn_instance import DOMAIN, wait_until
from postfix_helpers import HAVE_POSTFIX, WHY_NOT, PostfixInstance
from test_smtp_client import receivers, relay_main, start  # noqa: F401 (a fixture)

SENDER = "jörg@exämple.com"
ALIAS = "ünïcode@" + DOMAIN
VIRTUAL = "dëmo@virt.test"
HEADER = "Subject: grüße, 日本語\r\nFrom: Jörg <%s>\r\n" % SENDER


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory(main={
        "virtual_alias_maps": "inline:{ %s=alice@%s }" % (ALIAS, DOMAIN),
        "virtual_mailbox_maps": "inline:{ %s=virt.test/demo/ }" % VIRTUAL})


def test_utf8_addresses_delivered(inst):
    s = smtplib.SMTP("127.0.0.1", inst.port, timeout=20)
    s.ehlo()
    assert s.has_extn("smtputf8")
    msg = (HEADER + "\r\nbody utf8-1\r\n").encode()
    assert s.sendmail(SENDER, [ALIAS, VIRTUAL], msg, mail_options=["SMTPUTF8"]) == {}
    s.quit()
    data = inst.wait_for_message(b"utf8-1", user="alice")
    assert data and "Subject: grüße, 日本語\n".encode() in data, data
    assert wait_until(lambda: any(b"utf8-1" in open(p, "rb").read()
                                  for p in inst.maildir_files(inst.virtual_new())), 15)
    assert ("from=<%s>" % SENDER) in inst.log()


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed")
def test_swaks_sessions(inst):
    """Debian's swaks (20201014) cannot send the SMTPUTF8 or BDAT keywords
    itself; it sees both offered, sends RFC 6532 UTF-8 headers that arrive
    byte for byte, and gets Postfix's 553 for a UTF-8 address it does not
    declare."""
    base = ["swaks", "--server", "127.0.0.1", "--port", str(inst.port),
            "--helo", "client.example"]
    r = subprocess.run(base + ["--from", "plain@example.com", "--to", "alice@" + DOMAIN,
                               "--header", "Subject: grüße swaks-utf8",
                               "--body", "swaks-utf8 body"],
                       capture_output=True, timeout=30)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out
    assert re.search(r"<-  250-SMTPUTF8", out) and re.search(r"<-  250 CHUNKING", out), out
    data = inst.wait_for_message(b"swaks-utf8 body", user="alice")
    assert "Subject: grüße swaks-utf8".encode() in data, data
    r = subprocess.run(base + ["--from", SENDER, "--to", "alice@" + DOMAIN],
                       capture_output=True, timeout=30)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode != 0
    assert "<** 553 5.6.7 Must declare SMTPUTF8 to send unicode address" in out, out


def test_undeclared_and_malformed(inst):
    c = inst.raw()
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == (553, "5.6.7 Must declare SMTPUTF8 to "
                                                     "send unicode address")
    assert c.cmd("MAIL FROM:<plain@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % ALIAS) == (553, "5.6.7 Must declare SMTPUTF8 to send "
                                                 "unicode address")
    c.send(b"RCPT TO:<bad\xc3@posthorn.test>\r\n")
    assert c.reply() == (500, "5.5.2 Error: bad UTF-8 syntax")
    c.send(b"NOOP \xff\xfe\r\n")
    assert c.reply() == (500, "5.5.2 Error: bad UTF-8 syntax")
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_smtputf8_disabled(make_instance):
    inst = make_instance(main={"smtputf8_enable": "no"})
    c = inst.raw()
    code, text = c.cmd("EHLO client.example")
    assert "SMTPUTF8" not in text
    assert c.cmd("MAIL FROM:<a@example.com> SMTPUTF8") == (555, "5.5.4 Unsupported "
                                                              "option: SMTPUTF8")
    c.close()


@pytest.mark.parametrize("offered", [True, False])
def test_smtp_client_passes_or_bounces(make_instance, receivers, offered):
    rx = receivers(smtputf8=offered)
    inst = start(make_instance, relay_main(rx))
    s = smtplib.SMTP("127.0.0.1", inst.port, timeout=20)
    s.sendmail("alice@" + DOMAIN, ["rëmote@example.org"],
               (HEADER + "\r\nrelayed utf8\r\n").encode(), mail_options=["SMTPUTF8"])
    s.quit()
    if offered:
        assert wait_until(lambda: rx.transactions, 15), inst.log_tail()
        assert " SMTPUTF8" in rx.transactions[0]["mail"], rx.transactions[0]
        assert rx.transactions[0]["rcpts"] == ["TO:<rëmote@example.org>"]
    else:
        assert wait_until(lambda: "status=bounced" in inst.log(), 15), inst.log_tail()
        assert ("dsn=5.6.7, status=bounced (SMTPUTF8 is required, but was not "
                "offered by host 127.0.0.1[127.0.0.1])") in inst.log()
        assert not rx.transactions


@pytest.mark.skipif(not HAVE_POSTFIX, reason=WHY_NOT)
@pytest.mark.parametrize("postfix_utf8", ["yes", "no"])
def test_smtp_client_against_postfix(make_instance, postfix_utf8):
    """Debian's Postfix as the next hop: with smtputf8_enable = yes it
    takes the UTF-8 addresses (it would refuse them without SMTPUTF8);
    with no, Posthorn bounces them itself rather than downgrade."""
    pf = PostfixInstance("rëmote@example.org", 20003 if os.geteuid() == 0 else os.getuid())
    pf.postconf("-e", "smtputf8_enable=" + postfix_utf8)
    pf.start()
    try:
        inst = start(make_instance, {"relayhost": "[127.0.0.1]:%d" % pf.port})
        s = smtplib.SMTP("127.0.0.1", inst.port, timeout=20)
        s.sendmail(SENDER.replace("exämple.com", DOMAIN), ["rëmote@example.org"],
                   (HEADER + "\r\nto postfix utf8\r\n").encode(), mail_options=["SMTPUTF8"])
        s.quit()
        if postfix_utf8 == "yes":
            assert wait_until(pf.messages, 20), inst.log_tail() + pf.log_tail()
            [msg] = pf.messages()
            assert "Subject: grüße, 日本語".encode() in msg
            assert "to=<rëmote@example.org>" in pf.log()
            assert re.search(r"to=<rëmote@example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]"
                             r":\d+, .*status=sent", inst.log()), inst.log_tail()
        else:
            assert wait_until(lambda: "status=bounced" in inst.log(), 20), inst.log_tail()
            assert "SMTPUTF8 is required, but was not offered by host" in inst.log()
            assert not pf.messages()
    finally:
        pf.stop()
