"""test_sendmail_options.py - sendmail's options as Postfix's sendmail(1):
-F and the passwd full name in a From: it adds, -N (NOTIFY), -V (ENVID)
and -R (RET) seen in the bounce, -bs (SMTP on stdin/stdout), -bd (starts
the system), -qINTERVAL (accepted, nothing done), and Postfix's words
and exit status 75 for an unknown option, an unsupported -b mode and a
message without recipients.
"""

import os
import subprocess

import pytest

from posthorn_instance import DOMAIN, IS_ROOT


def sendmail(inst, args, message=""):
    return subprocess.run([inst.bin("sendmail"), "-C", inst.etc] + list(args),
                          input=message.encode(), capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory(users=("alice", "bob"))


def test_full_name_in_from(inst):
    r = sendmail(inst, ["-F", "Alice Liddell", "-f", "alice@" + DOMAIN, "bob@" + DOMAIN],
                 "Subject: full name\n\nhello\n")
    assert r.returncode == 0, r.stderr
    msg = inst.wait_for_message(b"Subject: full name", user="bob")
    assert b"From: Alice Liddell <alice@posthorn.test>\n" in msg
    r = sendmail(inst, ["-F", "Dodgson, C. L.", "-f", "alice@" + DOMAIN, "bob@" + DOMAIN],
                 "Subject: quoted name\n\nhello\n")
    msg = inst.wait_for_message(b"Subject: quoted name", user="bob")
    assert b'From: "Dodgson, C. L." <alice@posthorn.test>\n' in msg
    # A From: of the message's own is left alone
    r = sendmail(inst, ["-F", "Ignored", "bob@" + DOMAIN],
                 "From: Own <own@example.com>\nSubject: own from\n\nhello\n")
    msg = inst.wait_for_message(b"Subject: own from", user="bob")
    assert b"From: Own <own@example.com>\n" in msg and b"Ignored" not in msg


@pytest.mark.skipif(not IS_ROOT, reason="root's passwd entry has a known full name")
def test_passwd_full_name(inst):
    import pwd
    gecos = pwd.getpwuid(0).pw_gecos.split(",")[0].replace("&", "Root")
    r = sendmail(inst, ["bob@" + DOMAIN], "Subject: gecos\n\nhello\n")
    assert r.returncode == 0, r.stderr
    msg = inst.wait_for_message(b"Subject: gecos", user="bob")
    assert ("From: %s <root@mail.posthorn.test>\n" % gecos).encode() in msg


def test_dsn_options_reach_the_bounce(inst):
    r = sendmail(inst, ["-f", "alice@" + DOMAIN, "-V", "envid-42", "-R", "hdrs",
                        "nosuchuser@" + DOMAIN],
                 "Subject: dsn options\n\nthe body stays out\n")
    assert r.returncode == 0, r.stderr
    bounce = inst.wait_for_message(b"envid-42", user="alice")
    assert b"Original-Envelope-Id: envid-42" in bounce
    assert b"Subject: dsn options" in bounce
    assert b"the body stays out" not in bounce			# RET=HDRS
    r = sendmail(inst, ["-f", "alice@" + DOMAIN, "-N", "never", "-V", "silent-1",
                        "nosuchuser@" + DOMAIN], "Subject: never\n\nx\n")
    assert r.returncode == 0, r.stderr
    assert inst.wait_for_log(r"to=<nosuchuser@posthorn\.test>.*status=bounced", count=2)
    assert inst.wait_for_message(b"silent-1", user="alice", timeout=3) is None
    r = sendmail(inst, ["-N", "never,success", "bob@" + DOMAIN], "x\n")
    assert r.returncode == 64 and b"bad -N option value" in r.stderr


def test_bs_speaks_smtp_on_stdio(inst):
    dialogue = ("EHLO client\r\nMAIL FROM:<alice@posthorn.test>\r\n"
                "RCPT TO:<bob@posthorn.test>\r\nDATA\r\n"
                "Subject: over -bs\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    r = sendmail(inst, ["-bs"], dialogue)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("220 ") and "250 2.0.0 Ok: queued as" in out and "221 " in out
    assert inst.wait_for_message(b"Subject: over -bs", user="bob")


def test_usage_errors_as_postfix(inst):
    r = sendmail(inst, ["-Z", "bob@" + DOMAIN], "x\n")
    assert r.returncode == 75
    assert b"sendmail: invalid option -- 'Z'" in r.stderr
    assert b"sendmail: fatal: usage: sendmail [options]" in r.stderr
    r = sendmail(inst, ["-bz", "bob@" + DOMAIN], "x\n")
    assert r.returncode == 75 and b"sendmail: fatal: unsupported: -bz" in r.stderr
    r = sendmail(inst, ["-q5m"])
    assert r.returncode == 0 and r.stderr == b""


def test_bd_starts_the_system(make_instance):
    inst = make_instance()
    inst.stop()
    r = sendmail(inst, ["-bd"])
    assert r.returncode == 0, r.stderr
    inst.running = True
    from posthorn_instance import wait_until
    assert wait_until(inst.greets, 15)


def test_message_id_line_and_log_host(inst):
    """The "ID: message-id=<...>" line log tools count (Postfix's cleanup
    writes it), for SMTP mail with its own Message-ID and for local mail
    that gets one; maillog_file lines carry $myhostname's first label and
    a zero-padded day, as Postfix's."""
    import re
    import smtplib
    with smtplib.SMTP("127.0.0.1", inst.port) as s:
        s.sendmail("a@example.com", ["bob@" + DOMAIN],
                   "Message-ID: <abc.123@example.com>\r\nSubject: mid\r\n\r\nx\r\n")
    assert inst.wait_for_log(r"posthorn/cleanup\[\d+\]: [0-9A-F]+: "
                             r"message-id=<abc\.123@example\.com>$")
    r = sendmail(inst, ["bob@" + DOMAIN], "Subject: no id\n\nx\n")
    assert r.returncode == 0
    assert inst.wait_for_log(r"cleanup\[\d+\]: ([0-9A-F]+): message-id=<\d{14}\.\1@"
                             r"mail\.posthorn\.test>")
    for line in inst.log().splitlines():
        assert re.match(r"[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d mail posthorn/", line), line


def test_bv_reports_without_delivering(inst):
    """-bv: no message is read or delivered; the sender gets Postfix's
    "Mail Delivery Status Report" with where each recipient would go."""
    r = sendmail(inst, ["-bv", "-f", "alice@" + DOMAIN, "bob@" + DOMAIN,
                        "someone@remote.example"])
    assert r.returncode == 0, r.stderr
    report = inst.wait_for_message(b"Mail Delivery Status Report", user="alice")
    assert b"Enclosed is the mail delivery report that you requested." in report
    assert b"<bob@posthorn.test>: delivery via local:" in report
    assert b"<someone@remote.example>: delivery via smtp: remote.example" in report
    assert b"Action: deliverable" in report
    assert inst.wait_for_log(r"to=<bob@posthorn\.test>, relay=local, .*status=deliverable")
    assert inst.wait_for_message(b"address verification", user="bob", timeout=2) is None
