"""test_tls.py - STARTTLS and smtps (smtpd_tls_* parameters, lib/tls/tls.c).

Each test makes a self-signed certificate with the openssl command (the key
file mode 0600: as root, smtpd must load it before it drops privileges),
starts an instance with TLS settings in main.cf, and talks to it with
smtplib, raw sockets wrapped in Python's ssl module, and swaks.  Checked:
the EHLO offer, delivery over STARTTLS with the TLS details in the
Received: header and the log, the CVE-2011-0411 plaintext injection, the
RFC 3207 session reset, security level encrypt, wrapper mode (smtps),
a failed handshake, protocol limits, and a broken certificate.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess

import pytest

from posthorn_instance import DOMAIN, free_port

RCPT = "alice@" + DOMAIN


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """(cert_file, key_file) of a fresh self-signed RSA certificate."""
    d = tmp_path_factory.mktemp("tls")
    os.chmod(d, 0o755)
    crt, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.check_call(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-subj", "/CN=mail." + DOMAIN, "-days", "2", "-keyout", key, "-out", crt],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    os.chmod(crt, 0o644)
    return crt, key


def tls_main(cert, **extra):
    main = {"smtpd_tls_cert_file": cert[0], "smtpd_tls_key_file": cert[1],
            "smtpd_tls_security_level": "may"}
    main.update(extra)
    return main


def client_ctx(**kw):
    """An SSL context that accepts the self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for name, value in kw.items():
        setattr(ctx, name, value)
    return ctx


class Lines:
    """Reply reader over a plain or TLS socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("closed; pending %r" % self.buf)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("latin-1")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "\n".join(lines)

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()


def starttls_socket(port, ctx=None, pipelined=b"STARTTLS\r\n"):
    """Connect, EHLO, send PIPELINED (which starts with STARTTLS), expect
    220, then handshake.  Returns (ssl socket, reader)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    r = Lines(sock)
    assert r.reply()[0] == 220
    assert r.cmd("EHLO client.example")[0] == 250
    sock.sendall(pipelined)
    code, text = r.reply()
    assert (code, text) == (220, "220 2.0.0 Ready to start TLS")
    assert r.buf == b"", "server answered pipelined input: %r" % r.buf
    tsock = (ctx or client_ctx()).wrap_socket(sock)
    return tsock, Lines(tsock)


def test_ehlo_offers_starttls(make_instance, cert):
    inst = make_instance(main=tls_main(cert))
    with inst.smtp() as s:
        s.ehlo()
        assert s.has_extn("starttls")
        s.starttls(context=client_ctx())
        s.ehlo()
        assert not s.has_extn("starttls")      # not offered inside TLS
        assert s.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")


def test_no_starttls_by_default(make_instance, cert):
    inst = make_instance(main={"smtpd_tls_cert_file": cert[0]})   # level none
    with inst.smtp() as s:
        s.ehlo()
        assert not s.has_extn("starttls")
        assert s.docmd("STARTTLS") == (502, b"5.5.1 Error: command not implemented")


def test_starttls_delivery_received_header_and_log(make_instance, cert):
    inst = make_instance(main=tls_main(cert))
    msg = b"From: s@example.com\r\nTo: " + RCPT.encode() + b"\r\nSubject: tls1\r\n\r\nover TLS\r\n"
    with inst.smtp() as s:
        s.ehlo()
        s.starttls(context=client_ctx())
        s.ehlo()
        s.sendmail("s@example.com", [RCPT], msg)
        cipher = s.sock.cipher()
        version = s.sock.version()
    data = inst.wait_for_message(b"Subject: tls1", "alice")
    assert data is not None
    head = data.partition(b"\n\n")[0].decode()
    m = re.search(r"\(using (TLSv1\.[23]) with cipher (\S+) \((\d+)/(\d+) bits\)\)\n\tby "
                  r"mail\.posthorn\.test \(Posthorn\) with ESMTPS id ", head)
    assert m, head
    assert m.group(1) == version and m.group(2) == cipher[0]
    assert int(m.group(3)) == cipher[2]
    assert inst.wait_for_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                      r"%s with cipher %s \(%d/%d bits\)"
                      % (re.escape(version), re.escape(cipher[0]), cipher[2], cipher[2]))


def test_session_reset_after_starttls(make_instance, cert):
    """RFC 3207 4.2: HELO and the transaction are forgotten."""
    inst = make_instance(main=tls_main(cert, smtpd_helo_required="yes"))
    sock = socket.create_connection(("127.0.0.1", inst.port), timeout=10)
    r = Lines(sock)
    r.reply()
    r.cmd("EHLO client.example")
    assert r.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert r.cmd("STARTTLS")[0] == 220
    t = Lines(client_ctx().wrap_socket(sock))
    assert t.cmd("MAIL FROM:<s@example.com>") == (503, "503 5.5.1 Error: send HELO/EHLO first")
    assert t.cmd("EHLO client.example")[0] == 250
    assert t.cmd("RCPT TO:<%s>" % RCPT)[0] == 503        # transaction gone
    assert t.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert t.cmd("QUIT")[0] == 221


def test_pipelined_plaintext_after_starttls_is_discarded(make_instance, cert):
    """CVE-2011-0411: "STARTTLS\\r\\nRSET\\r\\n" in one write; RSET must vanish."""
    inst = make_instance(main=tls_main(cert))
    tsock, t = starttls_socket(inst.port, pipelined=b"STARTTLS\r\nRSET\r\nMAIL FROM:<x@y>\r\n")
    code, text = t.cmd("EHLO client.example")
    assert code == 250 and text.startswith("250-mail.posthorn.test"), text
    assert t.cmd("QUIT")[0] == 221
    tsock.close()
    assert inst.wait_for_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 starttls=1 quit=1 commands=4$")


def test_starttls_syntax(make_instance, cert):
    inst = make_instance(main=tls_main(cert))
    r = inst.raw()
    r.cmd("EHLO client.example")
    assert r.cmd("STARTTLS now") == (501, "5.5.4 Syntax: STARTTLS")
    r.close()


def test_swaks_tls(make_instance, cert):
    if not shutil.which("swaks"):
        pytest.skip("swaks not installed")
    inst = make_instance(main=tls_main(cert))
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.port),
                        "--to", RCPT, "--from", "s@example.com", "--tls",
                        "--header", "Subject: swaks-tls", "--helo", "client.example"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out
    assert "TLS started" in out
    data = inst.wait_for_message(b"Subject: swaks-tls", "alice")
    assert data is not None and b"with ESMTPS id" in data


def test_encrypt_requires_starttls(make_instance, cert):
    inst = make_instance(main=tls_main(cert, smtpd_tls_security_level="encrypt"))
    r = inst.raw()
    assert "STARTTLS" in r.cmd("EHLO client.example")[1]
    assert r.cmd("MAIL FROM:<s@example.com>") == (530, "5.7.0 Must issue a STARTTLS command first")
    assert r.cmd("VRFY alice")[0] == 530
    assert r.cmd("NOOP")[0] == 250
    r.close()
    msg = b"Subject: enc\r\n\r\nencrypted\r\n"
    with inst.smtp() as s:
        s.ehlo()
        s.starttls(context=client_ctx())
        s.ehlo()
        s.sendmail("s@example.com", [RCPT], msg)
    assert inst.wait_for_message(b"Subject: enc", "alice") is not None


def test_wrappermode_smtps(make_instance, cert):
    port = free_port()
    inst = make_instance(main=tls_main(cert, smtpd_tls_security_level="none"),
                         master=["127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"
                                 % port])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        t = Lines(client_ctx().wrap_socket(raw))
        code, text = t.reply()
        assert code == 220 and "mail.posthorn.test" in text
        code, text = t.cmd("EHLO client.example")
        assert code == 250 and "STARTTLS" not in text
        assert t.cmd("MAIL FROM:<s@example.com>")[0] == 250
        assert t.cmd("RCPT TO:<%s>" % RCPT)[0] == 250
        assert t.cmd("DATA")[0] == 354
        t.sock.sendall(b"Subject: smtps\r\n\r\nwrapped\r\n.\r\n")
        assert t.reply()[0] == 250
        assert t.cmd("QUIT")[0] == 221
    data = inst.wait_for_message(b"Subject: smtps", "alice")
    assert data is not None and b"with ESMTPS id" in data
    # the plaintext port of the same instance still has no TLS at all
    with inst.smtp() as s:
        s.ehlo()
        assert not s.has_extn("starttls")


def test_bad_handshake_closes_and_server_goes_on(make_instance, cert):
    inst = make_instance(main=tls_main(cert))
    r = inst.raw()
    r.cmd("EHLO client.example")
    assert r.cmd("STARTTLS")[0] == 220
    r.send(b"this is not a TLS client hello\r\n" * 4)
    assert r.closed()
    r.close()
    assert inst.wait_for_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: ")
    assert inst.wait_for_log(r"lost connection after STARTTLS from unknown\[127\.0\.0\.1\]")
    # a client that goes away during the handshake
    r = inst.raw()
    r.cmd("EHLO client.example")
    assert r.cmd("STARTTLS")[0] == 220
    r.close()
    assert inst.wait_for_log(r"lost connection after STARTTLS", count=2)
    # others are still served, over TLS too
    with inst.smtp() as s:
        s.ehlo()
        s.starttls(context=client_ctx())
        assert s.ehlo()[0] == 250


def test_protocols_minimum(make_instance, cert):
    inst = make_instance(main=tls_main(cert, smtpd_tls_protocols=">=TLSv1.3"))
    ctx = client_ctx(maximum_version=ssl.TLSVersion.TLSv1_2)
    sock = socket.create_connection(("127.0.0.1", inst.port), timeout=10)
    r = Lines(sock)
    r.reply()
    r.cmd("EHLO client.example")
    assert r.cmd("STARTTLS")[0] == 220
    with pytest.raises((ssl.SSLError, ConnectionError)):
        ctx.wrap_socket(sock)
    sock.close()
    assert inst.wait_for_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: .*protocol")
    # TLSv1.3 works
    tsock, t = starttls_socket(inst.port)
    assert tsock.version() == "TLSv1.3"
    tsock.close()


def test_protocols_exclusion_syntax(make_instance, cert):
    inst = make_instance(main=tls_main(cert, smtpd_tls_protocols="!SSLv2, !SSLv3, !TLSv1.3",
                                       smtpd_tls_ciphers="high"))
    tsock, t = starttls_socket(inst.port)
    assert tsock.version() == "TLSv1.2"
    assert t.cmd("EHLO client.example")[0] == 250
    tsock.close()


def test_bad_certificate_disables_tls(make_instance, cert, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(bad, 0o644)
    inst = make_instance(main=tls_main(cert, smtpd_tls_cert_file=str(bad),
                                       smtpd_tls_key_file=str(bad)))
    with inst.smtp() as s:
        s.ehlo()
        assert not s.has_extn("starttls")
        assert s.docmd("STARTTLS")[0] == 502
        s.sendmail("s@example.com", [RCPT], b"Subject: plain\r\n\r\nstill works\r\n")
    assert inst.wait_for_log(r"warning: cannot get certificate from file")
    assert inst.wait_for_log(r"warning: TLS library problem: ")


def test_encrypt_with_bad_certificate_refuses_mail(make_instance, cert, tmp_path):
    inst = make_instance(main=tls_main(cert, smtpd_tls_security_level="encrypt",
                                       smtpd_tls_cert_file=str(tmp_path / "missing.pem"),
                                       smtpd_tls_key_file=str(tmp_path / "missing.pem")))
    r = inst.raw()
    r.cmd("EHLO client.example")
    assert r.cmd("MAIL FROM:<s@example.com>") == (454, "4.7.0 TLS not available due to local problem")
    assert r.cmd("STARTTLS") == (454, "4.7.0 TLS not available due to local problem")
    r.close()


def test_large_message_over_tls(make_instance, cert):
    """Many records each way, pipelined commands inside TLS."""
    inst = make_instance(main=tls_main(cert))
    body = b"".join(b"line %06d of a long message over TLS ........................\r\n" % i
                    for i in range(40000))
    msg = b"Subject: big-tls\r\n\r\n" + body
    with inst.smtp(timeout=60) as s:
        s.ehlo()
        s.starttls(context=client_ctx())
        s.ehlo()
        s.sendmail("s@example.com", [RCPT, "bob@" + DOMAIN], msg)
    data = inst.wait_for_message(b"Subject: big-tls", "alice", timeout=30)
    assert data is not None and data.count(b"of a long message") == 40000
