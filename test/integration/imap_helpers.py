"""imap_helpers.py - a Posthorn instance with IMAP (and POP3, SASL, TLS) for tests.

imap_instance(make_instance, mbox=False, main=None) is pop3_instance()
(pop3_helpers.py: users, passwords, certificate, Maildir or mbox) plus
imapd on a free port (STARTTLS offered), imapd with implicit TLS on
another, and the auth service imapauth.  The instance has .imap_port and
.imaps_port besides the POP3 ones.  With start=False the caller starts
it, then wait_imap(inst) waits for the greeting.

connect(inst, tls=None, login=None) gives an imaplib client: plain, after
STARTTLS (tls="starttls") or IMAPS (tls="ssl"), logged in when LOGIN is
given.  Raw is a line-level client for bad input, literals and IDLE;
raw_login(inst, user) is one that is logged in (Raw.tls(inst) one over
IMAPS).  Raw.ok(tag, text) runs a command that must succeed and returns
its lines; untagged(lines, word) picks the "* ... WORD ..." responses.
append_uid(client, folder, message, flags, date) APPENDs with imaplib
and returns the UID the server gave (APPENDUID).  For the tests' own
bookkeeping: unique(prefix) is a new folder name, search(r, tag, text)
the numbers of a SEARCH, still_serving(r) checks that a NOOP is answered,
apply_expunges(lines, list) removes what "* N EXPUNGE" lines name.
"""

import imaplib
import os
import re
import socket
import uuid

from posthorn_instance import RawLines, free_port, wait_until
from pop3_helpers import PASSWORDS, pop3_instance, tls_context

__all__ = ["PASSWORDS", "ALICE", "BOB", "DEMO", "imap_instance", "connect", "Raw",
           "raw_login", "wait_imap", "tls_context", "message", "deliver", "untagged", "append_uid",
           "unique", "search", "still_serving", "apply_expunges"]

ALICE = "alice@posthorn.test"
BOB = "bob@posthorn.test"
DEMO = "demo@virt.test"


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
        wait_imap(inst)
    return inst


def wait_imap(inst):
    """Wait until INST's imapd greets (after inst.start())."""
    assert wait_until(lambda: _answers(inst.imap_port), 10), inst.log_tail()


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(100).startswith(b"* OK")
    except OSError:
        return False


def raw_login(inst, user=ALICE, tls=False):
    """A Raw client, logged in as USER (over IMAPS with TLS)."""
    r = Raw.tls(inst) if tls else Raw(inst.imap_port)
    r.login(user)
    return r


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
        # new/, or cur/ when an IMAP session has seen it already
        cur = os.path.join(os.path.dirname(inst.maildir_new(user)), "cur")
        ok = wait_until(lambda: any(needle in _read(p) for d in (inst.maildir_new(user), cur)
                                    for p in inst.maildir_files(d)), 15)
    assert ok, "not delivered: %s" % subject


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:            # renamed meanwhile
        return b""


def untagged(lines, word):
    """The untagged responses among LINES whose first word after "* " (or
    after "* N ") is WORD, e.g. untagged(lines, "FETCH")."""
    out = []
    for line in lines:
        if not isinstance(line, str) or not line.startswith("* "):
            continue
        words = line[2:].split(" ", 2)
        if words[0].upper() == word.upper() or \
                (len(words) > 1 and words[0].isdigit() and words[1].upper() == word.upper()):
            out.append(line)
    return out


def unique(prefix="t"):
    """A folder name no other test uses."""
    return prefix + uuid.uuid4().hex[:10]


def search(r, tag, text):
    """The numbers a SEARCH (or UID SEARCH) answered, as one string."""
    lines = r.cmd(tag, text)
    assert lines[-1].startswith(tag + " OK"), (text, lines)
    hits = [l for l in lines if isinstance(l, str) and l.startswith("* SEARCH")]
    assert len(hits) == 1, lines
    return hits[0][len("* SEARCH"):].strip()


def still_serving(r, tag="Z"):
    """The session answers a NOOP after whatever came before."""
    assert r.cmd(tag, "NOOP")[-1].startswith(tag + " OK"), "session stopped serving"


def apply_expunges(lines, numbers):
    """The list NUMBERS (e.g. UIDs by position) after the EXPUNGE responses."""
    out = list(numbers)
    for line in lines:
        m = re.match(r"\* (\d+) EXPUNGE$", line) if isinstance(line, str) else None
        if m:
            del out[int(m.group(1)) - 1]
    return out


def append_uid(client, folder, msg, flags=None, date=None):
    """APPEND MSG (bytes) with imaplib; the new message's UID (APPENDUID)."""
    typ, data = client.append(folder, flags, date, msg)
    assert typ == "OK", data
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert m, data
    return int(m.group(2))


class Raw(RawLines):
    """A line-level IMAP client: send bytes, read lines and literals (the
    line, send, read, closed and close of posthorn_instance.RawLines)."""

    def __init__(self, port, timeout=15, sock=None):
        if sock is None:
            super().__init__(port, timeout)
        else:
            self.sock, self.buf = sock, b""
        self.greeting = self.line()

    @classmethod
    def tls(cls, inst, timeout=15):
        """A client of the IMAPS port (TLS from the start)."""
        s = socket.create_connection(("127.0.0.1", inst.imaps_port), timeout=timeout)
        return cls(0, sock=tls_context(inst).wrap_socket(s))

    def starttls(self, inst, tag="T"):
        """STARTTLS and the handshake; the tagged reply."""
        reply = self.cmd(tag, "STARTTLS")
        assert reply[-1].startswith(tag + " OK"), reply
        assert self.buf == b"", self.buf
        self.sock = tls_context(inst).wrap_socket(self.sock)
        return reply

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

    def ok(self, tag, text):
        """A command that must succeed: its lines."""
        lines = self.cmd(tag, text)
        assert lines[-1].startswith(tag + " OK"), (text, lines)
        return lines

    def login(self, user, password=None):
        r = self.cmd("L", 'LOGIN "%s" "%s"' % (user, password or PASSWORDS[user]))
        assert r[-1].startswith("L OK"), r
        return r
