"""imap_helpers.py - a Posthorn instance with IMAP (and POP3, SASL, TLS) for tests.

imap_instance(make_instance, mbox=False, main=None) is pop3_instance()
(pop3_helpers.py: users, passwords, certificate, Maildir or mbox) plus
imapd on a free port (STARTTLS offered), imapd with implicit TLS on
another, and the auth service imapauth.  The instance has .imap_port and
.imaps_port besides the POP3 ones.

connect(inst, tls=None, login=None) gives an imaplib client: plain, after
STARTTLS (tls="starttls") or IMAPS (tls="ssl"), logged in when LOGIN is
given.  Raw is a line-level client for bad input, literals and IDLE.
"""

import imaplib
import os
import re
import socket
import uuid

from posthorn_instance import free_port, wait_until
from pop3_helpers import PASSWORDS, pop3_instance, tls_context

__all__ = ["PASSWORDS", "imap_instance", "connect", "Raw", "tls_context", "message",
           "deliver"]


def imap_instance(make_instance, mbox=False, main=None, start=True):
    imap_port, imaps_port = free_port(), free_port()
    master = ["127.0.0.1:%d inet n - n - - imapd" % imap_port,
              "127.0.0.1:%d inet n - n - - imapd -o imapd_tls_wrappermode=yes" % imaps_port,
              "imapauth unix - n n - - imapd postlogin"]
    inst = pop3_instance(make_instance, mbox=mbox, main=main, start=False,
                         extra_master=master)
    inst.imap_port, inst.imaps_port = imap_port, imaps_port
    if start:
        inst.start()
        assert wait_until(lambda: _answers(imap_port), 10), inst.log_tail()
    return inst


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(100).startswith(b"* OK")
    except OSError:
        return False


def connect(inst, tls=None, login=None, password=None):
    if tls == "ssl":
        c = imaplib.IMAP4_SSL("127.0.0.1", inst.imaps_port, ssl_context=tls_context(inst),
                              timeout=30)
    else:
        c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
        if tls == "starttls":
            c.starttls(ssl_context=tls_context(inst))
    if login:
        c.login(login, password if password is not None else PASSWORDS[login])
    return c


def message(subject, body="body line\r\n", headers=""):
    """A small message (bytes, CRLF) with a unique Message-Id."""
    return ("From: Sender <sender@example.com>\r\nTo: alice@posthorn.test\r\n"
            "Subject: %s\r\nMessage-Id: <%s@example.com>\r\n%s\r\n%s"
            % (subject, uuid.uuid4().hex, headers, body)).encode()


def deliver(inst, user, subject, body="body line\r\n", headers="", mbox=False):
    """Send to USER@posthorn.test over SMTP and wait until it is stored."""
    inst.send("%s@posthorn.test" % user, message(subject, body, headers))
    needle = ("Subject: %s\r" % subject).encode().replace(b"\r", b"\n")
    if mbox:
        path = inst.mbox_path(user)
        ok = wait_until(lambda: os.path.exists(path) and needle in open(path, "rb").read(), 15)
    else:
        ok = inst.wait_for_message(needle, user) is not None
    assert ok, "not delivered: %s" % subject


class Raw:
    """A line-level IMAP client: send bytes, read lines and literals."""

    def __init__(self, port, timeout=15, sock=None):
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until_tagged(self, tag):
        """Lines up to and including the tagged reply; literals inline as bytes."""
        out = []
        while True:
            line = self.line()
            m = re.search(r"\{(\d+)\}$", line)
            if m:
                out.append(line)
                out.append(self.read(int(m.group(1))))
                continue
            out.append(line)
            if line.startswith(tag + " "):
                return out

    def cmd(self, tag, text):
        self.send("%s %s\r\n" % (tag, text))
        return self.until_tagged(tag)

    def login(self, user, password=None):
        r = self.cmd("L", 'LOGIN "%s" "%s"' % (user, password or PASSWORDS[user]))
        assert r[-1].startswith("L OK"), r
        return r

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
