"""test_milter_opendkim.py - Debian's OpenDKIM as smtpd_milters: it signs
the mail of our own clients, and the signature verifies.

Two private opendkim processes run in the foreground (opendkim -f -x
CONF), each its own configuration in a temporary directory below /run
(opendkim refuses files below a directory others may write, like /tmp): a signer
(Mode s, Domain posthorn.test, Selector test, a key made with
opendkim-genkey; 127.0.0.1 is an internal host, so its mail is signed)
and a verifier (Mode v; no internal hosts; the public key comes from
TestDNSData, so nothing asks the DNS).  A message through
smtpd_milters = signer, verifier gets a DKIM-Signature on top (above our
Received: header) and, as the verifier sees the signer's edit, an
Authentication-Results header saying dkim=pass, both on top.  The delivered message
goes again through a second Posthorn instance with only the verifier:
pass as it is, fail once its Subject is changed.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from posthorn_instance import DOMAIN, IS_ROOT, free_port, wait_until
from test_milter import transaction

OPENDKIM = "/usr/sbin/opendkim"
GENKEY = "/usr/sbin/opendkim-genkey"

pytestmark = pytest.mark.skipif(
    not (os.access(OPENDKIM, os.X_OK) and os.access(GENKEY, os.X_OK)),
    reason="opendkim and opendkim-tools are not installed")

MESSAGE = ("From: Alice <alice@posthorn.test>\r\nTo: bob@posthorn.test\r\n"
           "Subject: signed mail\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n"
           "Message-ID: <dkim-test@posthorn.test>\r\n\r\n"
           "Hello Bob,\r\n\r\nthis message is signed.\r\n")


def public_key_record(txt_file):
    """The TXT record text of opendkim-genkey's .txt output."""
    text = open(txt_file).read()
    return "".join(re.findall(r'"([^"]*)"', text))


class OpenDKIM:
    """One opendkim in the foreground on a 127.0.0.1 port."""

    def __init__(self, base, name, settings):
        self.port = free_port()
        self.spec = "inet:127.0.0.1:%d" % self.port
        conf = os.path.join(base, name + ".conf")
        lines = ["Syslog yes", "LogWhy yes", "Socket inet:%d@127.0.0.1" % self.port,
                 "PidFile %s" % os.path.join(base, name + ".pid"),
                 "Canonicalization relaxed/relaxed", "UMask 002"]
        with open(conf, "w") as f:
            f.write("\n".join(lines + settings) + "\n")
        self.proc = subprocess.Popen([OPENDKIM, "-f", "-x", conf],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if not wait_until(self.listening, 15):
            self.stop()
            raise AssertionError("opendkim %s did not start: %s" % (name, self.output()))

    def listening(self):
        import socket
        if self.proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def output(self):
        if self.proc.poll() is None:
            return ""
        return self.proc.stdout.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def dkim():
    if not IS_ROOT:
        pytest.skip("opendkim runs as root in this test (key file ownership)")
    # opendkim refuses files below a directory others may write (/tmp,
    # and a checkout under /tmp): /run is root's alone
    base = tempfile.mkdtemp(prefix="posthorn-dkim-", dir="/run")
    os.chmod(base, 0o755)
    subprocess.run([GENKEY, "-b", "1024", "-d", DOMAIN, "-s", "test", "-D", base],
                   check=True)
    dns = os.path.join(base, "dns")
    with open(dns, "w") as f:
        f.write("test._domainkey.%s %s\n" % (DOMAIN, public_key_record(
            os.path.join(base, "test.txt"))))
    signer = OpenDKIM(base, "signer", [
        "Mode s", "Domain %s" % DOMAIN, "Selector test",
        "KeyFile %s" % os.path.join(base, "test.private"),
        "InternalHosts 127.0.0.1"])
    verifier = OpenDKIM(base, "verifier", [
        "Mode v", "InternalHosts 192.0.2.1", "AuthservID mail.%s" % DOMAIN,
        "TestDNSData %s" % dns])
    yield signer, verifier
    signer.stop()
    verifier.stop()
    shutil.rmtree(base, ignore_errors=True)


def results(msg):
    """The dkim= results of the message's Authentication-Results headers."""
    unfolded = re.sub(rb"\n[ \t]+", b" ", msg)
    return re.findall(rb"^Authentication-Results: [^\n]*dkim=(\w+)", unfolded, re.M)


def test_opendkim_signs_and_the_signature_verifies(make_instance, dkim):
    signer, verifier = dkim
    inst = make_instance(main={"smtpd_milters": "%s, %s" % (signer.spec, verifier.spec),
                               "milter_default_action": "tempfail"})
    replies = transaction(inst, sender="alice@" + DOMAIN, rcpts=("bob@" + DOMAIN,),
                          message=MESSAGE)
    assert replies[-1][0] == 250, replies
    assert inst.wait_for_maildir("bob", 1)
    msg = inst.maildir_messages("bob")[0]
    head = msg.split(b"\n\n", 1)[0]
    names = [l.split(b":")[0] for l in head.split(b"\n") if l and l[0] not in b" \t"]
    # Local delivery adds its two on top; each filter inserted its header
    # at the very top (index 0), above our Received:, the verifier last
    assert names[:5] == [b"Return-Path", b"Delivered-To", b"Authentication-Results",
                         b"DKIM-Signature", b"Received"], names
    assert b"d=posthorn.test" in head and b"s=test" in head
    assert results(msg) == [b"pass"], head.decode()

    # Again, only the verifier: as delivered, and with its Subject changed
    check = make_instance(main={"smtpd_milters": verifier.spec,
                                "milter_default_action": "tempfail"})
    body = msg.split(b"\n", 2)[2].decode()	# without Return-Path, Delivered-To
    body = re.sub(r"(?m)^Authentication-Results:.*\n(?:[ \t].*\n)*", "", body)
    for text, expected in ((body, b"pass"),
                           (body.replace("Subject: signed mail", "Subject: changed"),
                            b"fail")):
        r = transaction(check, sender="alice@" + DOMAIN, rcpts=("alice@" + DOMAIN,),
                        message=text.replace("\n", "\r\n"))
        assert r[-1][0] == 250, r
    assert check.wait_for_maildir("alice", 2)
    got = sorted(results(m)[-1] for m in check.maildir_messages("alice"))
    assert got == [b"fail", b"pass"], got
