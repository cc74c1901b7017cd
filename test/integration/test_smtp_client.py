"""test_smtp_client.py - the SMTP client (libexec/smtp) against a tiny receiver.

Receiver is a small threaded SMTP server on loopback, written here: it
answers each command with a configurable reply, can offer STARTTLS (a
self-signed certificate made with openssl) and AUTH PLAIN, and records
every transaction.  The Posthorn instance relays to it through relayhost
([127.0.0.1]:PORT skips MX) or, for MX tests, through a POSTHORN_DNS_FILE
zone (lib/dns/dns.h) that names receivers on 127.0.0.2 and 127.0.0.3.
Shown: byte-exact delivery with dot-stuffing, several recipients in one
transaction, a 5xx bounces only its recipient, a 4xx defers, STARTTLS
when offered, smtp_tls_security_level=encrypt defers without it, AUTH
PLAIN with smtp_sasl_password_maps, fallback to the second MX when the
first refuses, and a null MX bounces.
"""

import base64
import email
import os
import time
import re
import socket
import ssl
import subprocess
import uuid

import pytest

from posthorn_instance import DOMAIN, wait_until
from tcp_listener import TcpListener, make_test_cert

SMTP_MASTER = ["smtp    unix  - - n - - smtp", "relay   unix  - - n - - smtp"]
SENDER = "alice@" + DOMAIN


class Receiver(TcpListener):
    """A threaded SMTP receiver on ADDR; REPLIES maps a command verb
    ("MAIL", "RCPT", "DATA", "DOT" for end of data) to a function of the
    argument that returns a reply line or None (default reply); "CLOSE" at
    DOT drops the connection.  TLS_FILES "broken" answers STARTTLS with
    garbage.  DSN=False leaves DSN out of the EHLO reply; SMTPUTF8=True
    offers SMTPUTF8.  ON_MESSAGE(transaction), when set, runs for each
    message before its reply (a content filter re-injects there)."""

    def __init__(self, addr="127.0.0.1", port=0, greeting="220 rx.test ESMTP test",
                 replies=None, tls_files=None, auth=None, dsn=True, smtputf8=False):
        self.greeting = greeting
        self.dsn = dsn
        self.smtputf8 = smtputf8
        self.replies = dict(replies or {})
        self.tls_files = tls_files
        self.auth = auth                    # (user, password) or None
        self.transactions = []              # dicts: mail, rcpts, data, tls, auth
        self.on_message = None
        self.connections = 0
        self.auth_lines = []                # AUTH arguments as received
        super().__init__(addr, port)        # PORT: a second receiver on it

    def accepted(self, conn):
        self.connections += 1
        super().accepted(conn)

    def _reply(self, verb, arg, default):
        fn = self.replies.get(verb)
        r = fn(arg) if fn else None
        return r or default

    def serve(self, conn):
        conn.settimeout(20)
        f = conn.makefile("rwb")
        state = {"tls": False, "auth": None}
        trans = None

        def send(line):
            f.write(line.encode() + b"\r\n")
            f.flush()

        try:
            send(self.greeting)
            if not self.greeting.startswith("220"):
                f.readline()
                return
            while True:
                line = f.readline()
                if not line:
                    return
                text = line.decode("utf-8", "surrogateescape").rstrip("\r\n")
                verb, _, arg = text.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    ext = ["250-rx.test", "250-SIZE 10240000"] + (["250-DSN"] if self.dsn else [])
                    if self.smtputf8:
                        ext.append("250-SMTPUTF8")
                    if self.tls_files and not state["tls"]:
                        ext.append("250-STARTTLS")
                    if self.auth:
                        ext.append("250-AUTH PLAIN")
                    ext.append("250 8BITMIME")
                    for e in ext:
                        f.write(e.encode() + b"\r\n")
                    f.flush()
                elif verb == "HELO":
                    send("250 rx.test")
                elif verb == "STARTTLS" and self.tls_files == "broken":
                    send("220 2.0.0 Ready to start TLS")
                    f.write(b"this is not a TLS server hello\r\n" * 4)
                    f.flush()
                    return
                elif verb == "STARTTLS" and self.tls_files:
                    send("220 2.0.0 Ready to start TLS")
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(*self.tls_files)
                    f.close()
                    conn = ctx.wrap_socket(conn, server_side=True)
                    f = conn.makefile("rwb")
                    state["tls"] = True
                elif verb == "AUTH" and self.auth:
                    mech, _, init = arg.partition(" ")
                    self.auth_lines.append(arg)
                    try:
                        creds = tuple(base64.b64decode(init).decode().split("\0")[1:])
                    except ValueError:
                        creds = None
                    if mech.upper() == "PLAIN" and creds == self.auth:
                        state["auth"] = self.auth[0]
                        send("235 2.7.0 Authentication successful")
                    else:
                        send("535 5.7.8 Error: authentication failed")
                elif verb == "MAIL":
                    trans = {"mail": arg, "rcpts": [], "data": None,
                             "tls": state["tls"], "auth": state["auth"]}
                    send(self._reply("MAIL", arg, "250 2.1.0 Ok"))
                elif verb == "RCPT":
                    r = self._reply("RCPT", arg, "250 2.1.5 Ok")
                    if r.startswith("2"):
                        trans["rcpts"].append(arg.split(" ")[0])
                        trans.setdefault("rcpt_args", []).append(arg)
                    send(r)
                elif verb == "DATA":
                    r = self._reply("DATA", arg, "354 End data with <CR><LF>.<CR><LF>")
                    send(r)
                    if not r.startswith("354"):
                        continue
                    data = b""
                    while True:
                        line = f.readline()
                        if not line or line == b".\r\n":
                            break
                        if line.startswith(b"."):
                            line = line[1:]
                        data += line
                    trans["data"] = data
                    if self.on_message:
                        self.on_message(trans)
                    r = self._reply("DOT", arg, "250 2.0.0 Ok: queued as RX%d"
                                    % len(self.transactions))
                    if r == "CLOSE":
                        return
                    if r.startswith("2"):
                        self.transactions.append(trans)
                    send(r)
                elif verb == "RSET":
                    trans = None
                    send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("502 5.5.2 Error: command not recognized")
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


@pytest.fixture
def receivers():
    made = []

    def make(**kw):
        r = Receiver(**kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_test_cert(tmp_path_factory.mktemp("rxtls"), "rx.test")


def message(token, extra=""):
    return ("From: %s\r\nTo: someone@remote.example\r\nSubject: %s\r\n\r\n"
            "body %s\r\n.leading dot line\r\n..two dots\r\n%s" % (SENDER, token, token, extra)).encode()


def start(make_instance, main):
    return make_instance(main=main, master=SMTP_MASTER)


def relay_main(rx, **more):
    main = {"relayhost": "[127.0.0.1]:%d" % rx.port}
    main.update(more)
    return main


def test_relayhost_delivery_byte_exact(make_instance, receivers):
    rx = receivers()
    inst = start(make_instance, relay_main(rx))
    token = uuid.uuid4().hex
    msg = message(token)
    inst.send(["someone@remote.example"], msg, sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    t = rx.transactions[0]
    assert t["mail"].startswith("FROM:<%s>" % SENDER)
    assert t["rcpts"] == ["TO:<someone@remote.example>"]
    assert t["data"].endswith(msg), t["data"]
    assert inst.wait_for_log(
        r"to=<someone@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, "
        r"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, "
        r"status=sent \(250 2\.0\.0 Ok: queued as RX0\)" % rx.port, 10), inst.log_tail()


def test_several_recipients_one_bounced(make_instance, receivers):
    rx = receivers(replies={"RCPT": lambda a: "550 5.1.1 <bad@remote.example>: Recipient "
                            "address rejected" if "bad@" in a else None})
    inst = start(make_instance, relay_main(rx))
    token = uuid.uuid4().hex
    rcpts = ["one@remote.example", "bad@remote.example", "two@remote.example"]
    inst.send(rcpts, message(token), sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert rx.transactions[0]["rcpts"] == ["TO:<one@remote.example>", "TO:<two@remote.example>"]
    assert inst.wait_for_log(r"to=<(one|two)@remote\.example>.*status=sent", 10, count=2)
    assert inst.wait_for_log(
        r"to=<bad@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=5\.1\.1, "
        r"status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
        r"<bad@remote\.example>: Recipient address rejected \(in reply to RCPT TO command\)\)"
        % rx.port, 10), inst.log_tail()
    qid = re.search(r"(\w+): to=<bad@remote", inst.log()).group(1)
    assert inst.wait_for_log(r"%s: removed" % qid, 15), inst.log_tail()
    # exactly one RFC 3464 bounce, for the refused recipient, in the sender's mailbox
    raw = inst.wait_for_message("Undelivered Mail", user="alice")
    assert raw is not None, inst.log_tail()
    report = email.message_from_bytes(raw)
    assert report.get_content_type() == "multipart/report"
    status = [p for p in report.get_payload() if p.get_content_type() == "message/delivery-status"]
    assert len(status) == 1
    rcpt_blocks = [dict(b.items()) for b in status[0].get_payload()[1:]]
    assert len(rcpt_blocks) == 1
    assert rcpt_blocks[0]["Final-Recipient"] == "rfc822; bad@remote.example"
    assert rcpt_blocks[0]["Action"] == "failed"
    assert rcpt_blocks[0]["Status"] == "5.1.1"
    assert "550 5.1.1" in rcpt_blocks[0]["Diagnostic-Code"]
    time.sleep(1)
    assert len([m for m in inst.maildir_messages("alice") if b"Undelivered Mail" in m]) == 1


def test_4xx_defers(make_instance, receivers):
    rx = receivers(replies={"RCPT": lambda a: "451 4.3.0 Try again later"})
    inst = start(make_instance, relay_main(rx))
    inst.send(["later@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(
        r"to=<later@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=4\.3\.0, "
        r"status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.3\.0 Try again "
        r"later \(in reply to RCPT TO command\)\)" % rx.port, 20), inst.log_tail()
    assert wait_until(lambda: inst.queue_files("deferred"), 10), inst.log_tail()
    assert not rx.transactions


def test_connection_refused_defers(make_instance):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                  # nothing listens there now
    inst = start(make_instance, {"relayhost": "[127.0.0.1]:%d" % port})
    inst.send(["nobody@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(
        r"to=<nobody@remote\.example>, relay=none, .*status=deferred \(connect to "
        r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused\)" % port, 20), inst.log_tail()


def test_starttls_when_offered(make_instance, receivers, tls_files):
    rx = receivers(tls_files=tls_files)
    inst = start(make_instance, relay_main(rx, smtp_tls_security_level="may",
                                           smtp_tls_loglevel="1"))
    token = uuid.uuid4().hex
    msg = message(token)
    inst.send(["tls@remote.example"], msg, sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert rx.transactions[0]["tls"] is True
    assert rx.transactions[0]["data"].endswith(msg)
    assert inst.wait_for_log(r"Untrusted TLS connection established to 127\.0\.0\.1"
                             r"\[127\.0\.0\.1\]:%d: TLSv1\.[23] with cipher" % rx.port, 10)
    assert inst.wait_for_log(r"to=<tls@remote\.example>.*status=sent", 10)


def test_encrypt_without_starttls_defers(make_instance, receivers):
    rx = receivers()
    inst = start(make_instance, relay_main(rx, smtp_tls_security_level="encrypt"))
    inst.send(["enc@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(
        r"to=<enc@remote\.example>.*dsn=4\.7\.4, status=deferred \(TLS is required, but "
        r"was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)", 20), inst.log_tail()
    assert not rx.transactions


def test_verify_untrusted_cert_defers(make_instance, receivers, tls_files):
    rx = receivers(tls_files=tls_files)
    inst = start(make_instance, relay_main(rx, smtp_tls_security_level="verify"))
    inst.send(["ver@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(r"to=<ver@remote\.example>.*status=deferred \(Server "
                             r"certificate not verified\)", 20), inst.log_tail()
    assert not rx.transactions


def test_unsupported_levels_never_send_weaker(make_instance, receivers, tls_files):
    """fingerprint and dane-only cannot be checked: deferred, never sent
    with plain encryption; dane without a DNSSEC resolver is "may"."""
    for level in ("fingerprint", "dane-only"):
        rx = receivers(tls_files=tls_files)
        inst = start(make_instance, relay_main(rx, smtp_tls_security_level=level))
        inst.send(["pin@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
        assert inst.wait_for_log(r"to=<pin@remote\.example>.*dsn=4\.7\.5, status=deferred "
                                 r"\(TLS security level %s is not supported\)" % level, 20), \
            inst.log_tail()
        assert "smtp_tls_security_level = %s is not supported" % level in inst.log()
        assert not rx.transactions
        inst.stop()
    rx = receivers()				# no STARTTLS: "may" sends in plain text
    inst = start(make_instance, relay_main(rx, smtp_tls_security_level="dane"))
    inst.send(["dane@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert "DANE needs a DNSSEC-validating resolver" in inst.log()


def test_verify_with_cafile(make_instance, receivers, tmp_path):
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    subprocess.check_call(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                           "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                           "-addext", "subjectAltName=IP:127.0.0.1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o644)
    os.chmod(str(tmp_path), 0o755)
    rx = receivers(tls_files=(cert, key))
    inst = start(make_instance, relay_main(rx, smtp_tls_security_level="verify",
                                           smtp_tls_CAfile=cert, smtp_tls_loglevel="1"))
    inst.send(["ok@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert inst.wait_for_log(r"Verified TLS connection established to 127\.0\.0\.1", 10)


def test_auth_to_relayhost(make_instance, receivers, tls_files):
    rx = receivers(tls_files=tls_files, auth=("relayuser", "s3cret"))
    inst = make_instance(main=relay_main(
        rx, smtp_tls_security_level="may", smtp_sasl_auth_enable="yes",
        smtp_sasl_password_maps="texthash:$config_directory/sasl_passwd",
        smtp_sasl_tls_security_options="noanonymous"), master=SMTP_MASTER, start=False)
    with open(os.path.join(inst.etc, "sasl_passwd"), "w") as f:
        f.write("[127.0.0.1]:%d relayuser:s3cret\n" % rx.port)
    inst.start()
    inst.send(["auth@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), (inst.log_tail(), rx.auth_lines)
    assert rx.transactions[0]["auth"] == "relayuser", rx.auth_lines
    assert rx.transactions[0]["tls"] is True
    assert "s3cret" not in inst.log()


def test_auth_failure_defers(make_instance, receivers, tls_files):
    rx = receivers(tls_files=tls_files, auth=("relayuser", "right"))
    inst = make_instance(main=relay_main(
        rx, smtp_tls_security_level="may", smtp_sasl_auth_enable="yes",
        smtp_sasl_password_maps="texthash:$config_directory/sasl_passwd",
        smtp_sasl_tls_security_options="noanonymous"), master=SMTP_MASTER, start=False)
    with open(os.path.join(inst.etc, "sasl_passwd"), "w") as f:
        f.write("[127.0.0.1]:%d relayuser:wrong\n" % rx.port)
    inst.start()
    inst.send(["authfail@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(r"to=<authfail@remote\.example>.*status=deferred \(SASL "
                             r"authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] "
                             r"said: 535 5\.7\.8", 20), inst.log_tail()
    assert not rx.transactions


def dns_instance(make_instance, monkeypatch, main, text):
    """An instance whose daemons see the zone TEXT as the whole DNS."""
    inst = make_instance(main=main, master=SMTP_MASTER, start=False)
    path = os.path.join(inst.etc, "zone")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    monkeypatch.setenv("POSTHORN_DNS_FILE", path)
    return inst.start()


def test_mx_fallback_to_second(make_instance, receivers, monkeypatch):
    first = receivers(addr="127.0.0.2", greeting="554 5.7.1 go away")
    second = receivers(addr="127.0.0.3", port=first.port)
    inst = dns_instance(make_instance, monkeypatch,
                        {"relayhost": "example.test:%d" % first.port},
                        "example.test MX 10 mx1.example.test\n"
                        "example.test MX 20 mx2.example.test\n"
                        "mx1.example.test A 127.0.0.2\n"
                        "mx2.example.test A 127.0.0.3\n")
    inst.send(["user@example.test"], message(uuid.uuid4().hex), sender=SENDER)
    assert wait_until(lambda: second.transactions, 20), inst.log_tail()
    assert first.connections >= 1
    assert inst.wait_for_log(r"to=<user@example\.test>, relay=mx2\.example\.test"
                             r"\[127\.0\.0\.3\]:%d, .*status=sent" % first.port, 10)


def test_null_mx_bounces(make_instance, monkeypatch):
    inst = dns_instance(make_instance, monkeypatch, {"relayhost": "nullmx.test"},
                        "nullmx.test MX 0 .\n")
    inst.send(["user@nullmx.test"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(r"to=<user@nullmx\.test>, relay=none, .*dsn=5\.1\.10, "
                             r"status=bounced \(Domain nullmx\.test does not accept "
                             r"mail \(nullMX\)\)", 20), inst.log_tail()


def test_lost_connection_after_data_defers(make_instance, receivers):
    rx = receivers(replies={"DOT": lambda a: "CLOSE"})
    inst = start(make_instance, relay_main(rx))
    inst.send(["lost@remote.example"], message(uuid.uuid4().hex), sender=SENDER)
    assert inst.wait_for_log(
        r"to=<lost@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=4\.4\.2, "
        r"status=deferred \(lost connection with 127\.0\.0\.1\[127\.0\.0\.1\] while "
        r"sending end of data -- message may be sent more than once\)" % rx.port, 20), inst.log_tail()


def test_may_retries_without_tls_after_failed_handshake(make_instance, receivers):
    rx = receivers(tls_files="broken")
    inst = start(make_instance, relay_main(rx, smtp_tls_security_level="may"))
    msg = message(uuid.uuid4().hex)
    inst.send(["plain@remote.example"], msg, sender=SENDER)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert rx.transactions[0]["tls"] is False
    assert rx.transactions[0]["data"].endswith(msg)
    assert rx.connections == 2
    # the broken receiver may fail the handshake or answer junk: either way, retry
    assert inst.wait_for_log(r"Cannot start TLS: .*; retrying without TLS", 10)
