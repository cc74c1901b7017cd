"""test_smtp_delivery.py - SMTP in, mailbox out: content arrives intact.

A message sent over SMTP arrives byte-exact (besides the Return-Path,
Delivered-To and Received headers Posthorn adds) in a Maildir and in an
mbox; dot lines and 8-bit bodies survive; virtual mailboxes work; a
pipelined transaction (raw socket and swaks --pipeline) is served.
"""

import os
import re
import shutil
import subprocess
import uuid

import pytest

from posthorn_instance import strip_added_headers, header_value, wait_until, IS_ROOT


def make_message(subject, body, extra_headers=b""):
    """A complete message with the headers Postfix would otherwise add,
    CRLF line ends."""
    mid = "<%s@client.example>" % uuid.uuid4().hex
    head = (b"From: Sender <sender@example.com>\r\n"
            b"To: Alice <alice@posthorn.test>\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
            b"Message-Id: " + mid.encode() + b"\r\n" + extra_headers)
    return head + b"\r\n" + body


def lf(data):
    return data.replace(b"\r\n", b"\n")


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory()


def test_maildir_byte_exact(inst):
    body = (b"Hello Alice,\r\n"
            b"\r\n"
            b"  leading spaces and trailing spaces   \r\n"
            b"\ttab line\t\r\n"
            b"From here a line that mbox would quote\r\n"
            b"a long line " + b"x" * 900 + b"\r\n"
            b"\r\n"
            b"-- \r\nSig\r\n")
    msg = make_message("maildir exact", body,
                       b"X-Folded: first part\r\n\tsecond part\r\n")
    inst.send("alice@posthorn.test", msg)
    data = inst.wait_for_message(b"Subject: maildir exact", "alice")
    assert data is not None, "message not delivered to Maildir"
    assert b"\r\n" not in data, "Maildir file should have LF line ends"
    assert strip_added_headers(data) == lf(msg)
    assert header_value(data, "Delivered-To") == b"alice@posthorn.test"
    assert header_value(data, "Return-Path") == b"<sender@example.com>"
    assert re.search(rb"(?m)^Received: ", data)


def test_maildir_file_owner(inst):
    if not IS_ROOT:
        pytest.skip("needs root")
    msg = make_message("owner check", b"body\r\n")
    inst.send("alice@posthorn.test", msg)
    data = inst.wait_for_message(b"Subject: owner check", "alice")
    assert data is not None
    for p in inst.maildir_files(inst.maildir_new("alice")):
        assert os.stat(p).st_uid == 20001


def test_dot_lines_survive(inst):
    body = (b".\r\n"
            b"..\r\n"
            b".hidden\r\n"
            b"...three\r\n"
            b" .space dot\r\n"
            b"end\r\n")
    msg = make_message("dot lines", body)
    inst.send("alice@posthorn.test", msg)
    data = inst.wait_for_message(b"Subject: dot lines", "alice")
    assert data is not None
    assert strip_added_headers(data) == lf(msg)


def test_8bit_body_survives(inst):
    body = ("caf\u00e9 \u20ac \u00fcber \u65e5\u672c\r\n".encode("utf-8")
            + bytes(range(0x80, 0x100)) + b"\r\n"
            + b"plain line\r\n")
    msg = make_message("eight bit", body,
                       b"MIME-Version: 1.0\r\n"
                       b"Content-Type: text/plain; charset=utf-8\r\n"
                       b"Content-Transfer-Encoding: 8bit\r\n")
    with inst.smtp() as s:
        code, text = s.ehlo()
        assert code == 250
        assert s.has_extn("8bitmime")
        s.sendmail("sender@example.com", ["alice@posthorn.test"], msg,
                   mail_options=["BODY=8BITMIME"])
    data = inst.wait_for_message(b"Subject: eight bit", "alice")
    assert data is not None
    assert strip_added_headers(data) == lf(msg)


def test_virtual_user(inst):
    msg = make_message("virtual demo", b"to the virtual mailbox\r\n")
    inst.send("demo@virt.test", msg)
    path = inst.virtual_new()
    data = inst.wait_for_message(b"Subject: virtual demo", path=path)
    assert data is not None, "nothing in %s" % path
    assert strip_added_headers(data) == lf(msg)
    assert header_value(data, "Delivered-To") == b"demo@virt.test"
    if IS_ROOT:
        for p in inst.maildir_files(path):
            assert os.stat(p).st_uid == 20003


def test_pipelined_transaction_raw(inst):
    c = inst.raw()
    try:
        assert c.greeting[0] == 220
        code, text = c.cmd("EHLO client.example")
        assert code == 250
        assert "PIPELINING" in text.upper()
        c.send(b"MAIL FROM:<pipe@example.com>\r\n"
               b"RCPT TO:<alice@posthorn.test>\r\n"
               b"RCPT TO:<bob@posthorn.test>\r\n"
               b"DATA\r\n")
        assert c.reply()[0] == 250
        assert c.reply()[0] == 250
        assert c.reply()[0] == 250
        assert c.reply()[0] == 354
        c.send(make_message("pipelined raw", b"pipelined body\r\n") + b".\r\n")
        code, text = c.reply()
        assert code == 250, text
        assert re.search(r"queued as [0-9A-F]{13}", text), text
        assert c.cmd("QUIT")[0] == 221
    finally:
        c.close()
    for user in ("alice", "bob"):
        assert inst.wait_for_message(b"Subject: pipelined raw", user) is not None, user


def test_pipelined_quit_in_same_write(inst):
    """A whole transaction including QUIT in one write."""
    c = inst.raw()
    try:
        assert c.cmd("EHLO client.example")[0] == 250
        c.send(b"MAIL FROM:<pipe2@example.com>\r\nRCPT TO:<alice@posthorn.test>\r\nDATA\r\n")
        assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
        c.send(make_message("pipelined quit", b"x\r\n") + b".\r\nQUIT\r\n")
        assert c.reply()[0] == 250
        assert c.reply()[0] == 221
    finally:
        c.close()
    assert inst.wait_for_message(b"Subject: pipelined quit", "alice") is not None


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed")
def test_swaks_pipeline(inst):
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % inst.port,
                        "--ehlo", "client.example",
                        "--from", "swaks@example.com", "--to", "alice@posthorn.test",
                        "--header", "Subject: swaks pipeline",
                        "--body", "sent by swaks", "--pipeline", "--timeout", "20"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out
    assert "queued as" in out
    assert inst.wait_for_message(b"Subject: swaks pipeline", "alice") is not None


def test_log_lines(inst):
    """Postfix's log shapes for one delivery."""
    msg = make_message("log shapes", b"x\r\n")
    assert inst.send("bob@posthorn.test", msg)[0] == 250
    assert inst.wait_for_message(b"Subject: log shapes", "bob") is not None
    ok = inst.wait_for_log(r"posthorn/local\[\d+\]: [0-9A-F]{13}: to=<bob@posthorn\.test>, "
                           r"relay=local, .*status=sent", 10)
    assert ok, inst.log_tail()
    log = inst.log()
    assert re.search(r"posthorn/smtpd\[\d+\]: connect from \S+\[127\.0\.0\.1\]", log)
    assert re.search(r"posthorn/smtpd\[\d+\]: [0-9A-F]{13}: client=\S+\[127\.0\.0\.1\]", log)
    assert re.search(r"posthorn/qmgr\[\d+\]: [0-9A-F]{13}: from=<sender@example\.com>, "
                     r"size=\d+, nrcpt=1 \(queue active\)", log)
    assert inst.wait_for_log(r"posthorn/qmgr\[\d+\]: [0-9A-F]{13}: removed", 10)


# ---------------------------------------------------------------- mbox


@pytest.fixture(scope="module")
def mbox_inst(module_instance_factory):
    return module_instance_factory(main={"home_mailbox": ""})


def test_mbox_byte_exact(mbox_inst):
    inst = mbox_inst
    body = (b"first line\r\n"
            b"From here a line that must be quoted\r\n"
            b">From already quoted stays quoted plus one\r\n"
            b"From\r\n"
            b"\r\n"
            b"last line\r\n")
    msg = make_message("mbox exact", body)
    inst.send("alice@posthorn.test", msg)
    path = inst.mbox_path("alice")

    def content():
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        return data if b"last line\n\n" in data else None
    data = wait_until(content, 15)
    assert data is not None, "no mbox at %s" % path
    if IS_ROOT:
        assert os.stat(path).st_uid == 20001
    first, rest = data.split(b"\n", 1)
    # Postfix writes "From sender  asctime" (two spaces); accept one or two
    assert re.match(rb"From sender@example\.com  ?\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", first), first
    assert rest.endswith(b"last line\n\n"), "one empty line must end the message"
    assert not rest.endswith(b"\n\n\n")
    got = strip_added_headers(rest[:-1])
    # Postfix quotes only lines beginning "From " with ">"
    want = lf(msg).replace(b"\nFrom here", b"\n>From here")
    assert got == want
    assert b"\n>>From already quoted" not in data
    assert b"\nFrom\n" in data

    # a second message appends after the empty line; two "From " lines
    msg2 = make_message("mbox second", b"second body\r\n")
    inst.send("alice@posthorn.test", msg2)
    assert wait_until(lambda: (open(path, "rb").read().count(b"second body\n\n") == 1), 15)
    with open(path, "rb") as f:
        data = f.read()
    starts = re.findall(rb"(?m)^From \S+ ", data)
    assert len(starts) == 2, starts
    assert data.startswith(b"From sender@example.com ")
    assert b"last line\n\nFrom sender@example.com " in data
