"""test_lmtp.py - LMTP delivery (RFC 2033): the SMTP client in LMTP mode
(master.cf "lmtp unix - - n - - smtp"), local's mailbox_transport and
fallback_transport, and virtual_transport = lmtp:... through the resolver.

LmtpServer is a small LMTP server written here, on a UNIX socket or on a
127.0.0.1 port: it offers PIPELINING (or not), records each session (the
LHLO line, the commands, whether MAIL, RCPT and DATA arrived in one go,
the message as received after undoing the dot-stuffing) and answers the
end of data once per recipient by its local part: "temp..." gets 452
(the first time), "perm..." 550, anything else 250.  Shown with it: one
message to three recipients gives one sent, one deferred and one bounced
recipient with Postfix's lmtp log lines (relay=HOST[PATH] for a UNIX
socket, relay=HOST[ADDR]:PORT for inet), LHLO and never EHLO, the
commands pipelined, the body byte-exact through dot-stuffing; the retry
sends the deferred recipient alone (the others were marked done), then
the sender gets the bounce.  Through mailbox_transport the expanded
destinations go to the server with orig_to=, each logged once (by lmtp,
not by local), and again only the deferred one is retried;
fallback_transport takes only names that are no local user; a missing
socket defers with Postfix's "connect to HOST[PATH]: ..." reason, a
refused LHLO bounces with "host HOST[PATH] refused to talk to me: ...";
lmtp_destination_recipient_limit = 1 gives one recipient per session.

Debian's Dovecot LMTP (dovecot-lmtpd; a private instance, root only)
receives local mail through mailbox_transport = lmtp:unix:PATH and
virtual mail through virtual_transport = lmtp:unix:PATH into the users'
Maildirs, and once through lmtp:inet:127.0.0.1:PORT.
"""

import os
import re
import select
import shutil
import socketserver
import tempfile
import threading
import time
import uuid

import pytest

from dovecot_helpers import Dovecot, available
from posthorn_instance import free_port, wait_until

LMTP_MASTER = ["lmtp    unix  - - n - - smtp"]
LMTP_BINARY = "/usr/lib/dovecot/lmtp"
SENDER = "alice@posthorn.test"


def lmtp_address(arg):
    """The address in "FROM:<a> ..." or "TO:<a> ..."."""
    m = re.search(r"<([^>]*)>", arg)
    return m.group(1) if m else arg


def lmtp_reply(rcpt, deferred):
    """The end-of-data reply for RCPT, chosen by its local part; "temp..."
    is deferred once (DEFERRED: the set of those already deferred)."""
    local = rcpt.split("@")[0]
    if local.startswith("temp") and rcpt not in deferred:
        deferred.add(rcpt)
        return "452 4.2.2 <%s> Mailbox is full" % rcpt
    if local.startswith("perm"):
        return "550 5.1.1 <%s> User doesn't exist" % rcpt
    return "250 2.0.0 <%s> Saved" % rcpt


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.server.lmtp.serve(self.request)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _InetServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class LmtpServer:
    """An LMTP server on the UNIX socket PATH, or on 127.0.0.1 (PATH None);
    sessions: one dict per connection (lhlo, commands, pipelined,
    messages: [(sender, rcpts, data)])."""

    def __init__(self, path=None, pipelining=True, lhlo=None):
        self.path = path
        self.pipelining = pipelining
        self.lhlo = lhlo                        # a reply instead of 250
        self.sessions = []
        self.arrived = []       # every message, in the order it came, over all sessions
        self.deferred = set()
        if path:
            self.server = _UnixServer(path, _Handler)
            os.chmod(path, 0o666)               # the lmtp client runs as mail_owner
        else:
            self.port = free_port()
            self.server = _InetServer(("127.0.0.1", self.port), _Handler)
        self.server.lmtp = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def rcpts(self):
        """Every recipient of every message received, in the order the
        messages came (a cached connection carries several, interleaved
        with other connections' messages)."""
        return [r for m in list(self.arrived) for r in m[1]]

    def serve(self, conn):
        session = {"lhlo": None, "commands": [], "pipelined": None, "messages": []}
        self.sessions.append(session)
        try:
            self._dialogue(_Lines(conn), session)
        except (OSError, EOFError):
            pass

    def _dialogue(self, io, session):
        io.send("220 lmtp.test LMTP test server")
        trans = None
        while True:
            text = io.line().decode("utf-8", "surrogateescape")
            session["commands"].append(text)
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if verb == "LHLO" and self.lhlo:
                io.send(self.lhlo)
            elif verb == "LHLO":
                session["lhlo"] = text
                ext = ["PIPELINING"] if self.pipelining else []
                io.send("\r\n".join(["250-lmtp.test"] + ["250-" + e for e in ext]
                                    + ["250-ENHANCEDSTATUSCODES", "250 8BITMIME"]))
            elif verb == "MAIL":
                # did RCPT and DATA come with MAIL, before any reply?
                session["pipelined"] = io.wait_for(b"DATA\r\n", 1.0)
                trans = (lmtp_address(arg), [])
                io.send("250 2.1.0 Ok")
            elif verb == "RCPT" and trans:
                trans[1].append(lmtp_address(arg))
                io.send("250 2.1.5 Ok")
            elif verb == "DATA" and trans and trans[1]:
                io.send("354 Start mail input; end with <CRLF>.<CRLF>")
                session["messages"].append((trans[0], trans[1], io.message()))
                self.arrived.append(session["messages"][-1])
                io.send("\r\n".join(lmtp_reply(r, self.deferred) for r in trans[1]))
                trans = None
            elif verb == "DATA":
                io.send("503 5.5.1 No valid recipients")
            elif verb == "QUIT":
                io.send("221 2.0.0 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                trans = None if verb == "RSET" else trans
                io.send("250 2.0.0 Ok")
            else:
                io.send("500 5.5.1 Unknown command (this is LMTP)")


class _Lines:
    """Line I/O over a socket, with a look at what is buffered."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""
        conn.settimeout(30)

    def send(self, text):
        self.conn.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")

    def _more(self):
        chunk = self.conn.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def line(self):
        while b"\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def wait_for(self, needle, timeout):
        """True when NEEDLE arrives within TIMEOUT seconds (no reply sent)."""
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.conn], [], [], left)[0]:
                return False
            self._more()
        return True

    def message(self):
        """The message after DATA, dot-stuffing undone, CRLF kept."""
        out = []
        while True:
            while b"\r\n" not in self.buf:
                self._more()
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line == b".":
                return b"".join(out)
            out.append((line[1:] if line.startswith(b".") else line) + b"\r\n")


BODY = (b"line one\r\n"
        b".leading dot\r\n"
        b"..two dots\r\n"
        b".\r\n"
        b"after a lone dot\r\n"
        b"last line\r\n")


def message(token, to="someone"):
    return (b"From: Alice <alice@posthorn.test>\r\nTo: " + to.encode() + b"\r\n"
            b"Subject: " + token.encode() + b"\r\n\r\n" + BODY)


def send(inst, rcpts, token, sender=SENDER):
    """One transaction from a mynetworks client; the queue id."""
    with inst.smtp() as s:
        s.ehlo()
        s.mail(sender)
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (r, text)
        code, text = s.data(message(token))
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def wait_log(inst, pattern, timeout=20, count=1):
    assert inst.wait_for_log(pattern, timeout, count), \
        "log has no %r\n%s" % (pattern, inst.log_tail())


@pytest.fixture
def sockdir():
    """A directory for UNIX sockets that mail_owner can reach."""
    d = tempfile.mkdtemp(prefix="ph-lmtp-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def servers():
    made = []

    def make(*args, **kw):
        s = LmtpServer(*args, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def nexthop_of(kind, server):
    """The next hop of SERVER written as KIND, its relay= in the log and
    its name in "host NAME said:" (regular expressions)."""
    if kind == "unix":
        name = r"mail\.posthorn\.test\[%s\]" % re.escape(server.path)
        return "unix:" + server.path, name, name
    hop = {"inet": "inet:127.0.0.1:%d", "bracket": "[127.0.0.1]:%d"}[kind] % server.port
    name = r"127\.0\.0\.1\[127\.0\.0\.1\]"
    return hop, name + ":%d" % server.port, name


# ------------------------------------------------------------ the client

@pytest.mark.parametrize("kind", ["unix", "inet", "bracket"])
def test_per_recipient_replies(make_instance, servers, sockdir, kind):
    server = servers(os.path.join(sockdir, "lmtp.sock") if kind == "unix" else None)
    hop, relay, name = nexthop_of(kind, server)
    inst = make_instance(main={"transport_maps": "inline:{ lmtp.test=lmtp:%s }" % hop},
                         master=LMTP_MASTER)
    token = uuid.uuid4().hex
    qid = send(inst, ["ok@lmtp.test", "temp@lmtp.test", "perm@lmtp.test"], token)

    common = r"posthorn/lmtp\[\d+\]: %s: to=<%%s@lmtp\.test>, relay=%s, delay=[0-9.]+, " \
             r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, " % (qid, relay)
    wait_log(inst, common % "ok" + r"dsn=2\.0\.0, status=sent "
             r"\(250 2\.0\.0 <ok@lmtp\.test> Saved\)$")
    said = r"\(host %s said: %%s \(in reply to end of DATA command\)\)$" % name
    wait_log(inst, common % "temp" + r"dsn=4\.2\.2, status=deferred "
             + said % r"452 4\.2\.2 <temp@lmtp\.test> Mailbox is full")
    wait_log(inst, common % "perm" + r"dsn=5\.1\.1, status=bounced "
             + said % r"550 5\.1\.1 <perm@lmtp\.test> User doesn't exist")

    session = server.sessions[0]
    assert session["lhlo"] == "LHLO mail.posthorn.test"
    assert not [c for c in session["commands"] if c.upper().startswith(("EHLO", "HELO"))]
    assert session["pipelined"] is True, session["commands"]
    sender, rcpts, data = session["messages"][0]
    assert (sender, rcpts) == (SENDER, ["ok@lmtp.test", "temp@lmtp.test", "perm@lmtp.test"])
    assert data.endswith(b"Subject: " + token.encode() + b"\r\n\r\n" + BODY), data

    # the retry sends temp@ alone; then the bounce for perm@ goes to alice
    wait_log(inst, common % "temp" + r"dsn=2\.0\.0, status=sent", timeout=30)
    assert server.rcpts()[3:] == ["temp@lmtp.test"]
    bounce = inst.wait_for_message(b"perm@lmtp.test", "alice", timeout=20)
    assert bounce is not None, inst.log_tail()
    assert b"User doesn't exist" in bounce


def test_no_pipelining_one_command_at_a_time(make_instance, servers, sockdir):
    server = servers(os.path.join(sockdir, "lmtp.sock"), pipelining=False)
    inst = make_instance(main={"transport_maps":
                               "inline:{ lmtp.test=lmtp:unix:%s }" % server.path},
                         master=LMTP_MASTER)
    qid = send(inst, ["ok1@lmtp.test", "ok2@lmtp.test"], uuid.uuid4().hex)
    wait_log(inst, r"%s: removed" % qid)
    session = server.sessions[0]
    assert session["pipelined"] is False
    assert server.rcpts() == ["ok1@lmtp.test", "ok2@lmtp.test"]
    assert len(re.findall(r"%s: to=<ok\d@lmtp\.test>, .*status=sent" % qid, inst.log())) == 2


def test_destination_recipient_limit(make_instance, servers, sockdir):
    server = servers(os.path.join(sockdir, "lmtp.sock"))
    inst = make_instance(main={"transport_maps":
                               "inline:{ lmtp.test=lmtp:unix:%s }" % server.path,
                               "lmtp_destination_recipient_limit": "1"},
                         master=LMTP_MASTER)
    qid = send(inst, ["ok1@lmtp.test", "ok2@lmtp.test"], uuid.uuid4().hex)
    wait_log(inst, r"%s: removed" % qid)
    assert sorted(m[1][0] for s in server.sessions for m in s["messages"]) == \
        ["ok1@lmtp.test", "ok2@lmtp.test"]
    assert [len(m[1]) for s in server.sessions for m in s["messages"]] == [1, 1]


def test_unreachable_socket_defers(make_instance, sockdir):
    path = os.path.join(sockdir, "nothing-here")
    inst = make_instance(main={"transport_maps": "inline:{ lmtp.test=lmtp:unix:%s }" % path},
                         master=LMTP_MASTER)
    qid = send(inst, ["ok@lmtp.test"], uuid.uuid4().hex)
    wait_log(inst, r"posthorn/lmtp\[\d+\]: %s: to=<ok@lmtp\.test>, relay=none, .*"
             r"dsn=4\.4\.1, status=deferred \(connect to mail\.posthorn\.test\[%s\]: "
             r"No such file or directory\)" % (qid, re.escape(path)))


def test_lhlo_refused_bounces(make_instance, servers, sockdir):
    server = servers(os.path.join(sockdir, "lmtp.sock"), lhlo="550 5.7.1 Not you")
    inst = make_instance(main={"transport_maps":
                               "inline:{ lmtp.test=lmtp:unix:%s }" % server.path},
                         master=LMTP_MASTER)
    qid = send(inst, ["ok@lmtp.test"], uuid.uuid4().hex)
    wait_log(inst, r"posthorn/lmtp\[\d+\]: %s: to=<ok@lmtp\.test>, relay=mail\.posthorn\.test"
             r"\[%s\], .*dsn=5\.7\.1, status=bounced \(host mail\.posthorn\.test\[%s\] "
             r"refused to talk to me: 550 5\.7\.1 Not you\)"
             % (qid, re.escape(server.path), re.escape(server.path)))
    assert server.rcpts() == []


# ------------------------------------------------- local: mailbox_transport

def write_aliases(inst, text):
    path = os.path.join(inst.etc, "aliases")
    with open(path, "w") as f:
        f.write(text)
    return "texthash:" + path


def test_mailbox_transport(make_instance, servers, sockdir):
    server = servers(os.path.join(sockdir, "lmtp.sock"))
    inst = make_instance(master=LMTP_MASTER, start=False)
    inst.main_overrides.update({
        "mailbox_transport": "lmtp:unix:" + server.path,
        "alias_maps": write_aliases(inst, "team alice, bob\n"),
        "local_recipient_maps": "",         # names that are no user pass too
    })
    inst.write_config()
    inst.start()
    rcpts = ["team@posthorn.test", "alice@posthorn.test", "permx@posthorn.test",
             "tempx@posthorn.test"]
    qid = send(inst, rcpts, uuid.uuid4().hex, sender="sender@posthorn.test")
    path = re.escape(server.path)
    lmtp = r"posthorn/lmtp\[\d+\]: %s: to=<%s>, %srelay=mail\.posthorn\.test\[%s\], .*"
    for to in ("alice@mail.posthorn.test", "bob@mail.posthorn.test"):
        wait_log(inst, lmtp % (qid, re.escape(to), r"orig_to=<team@posthorn\.test>, ", path)
                 + r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 <%s> Saved\)" % re.escape(to))
    wait_log(inst, lmtp % (qid, r"alice@posthorn\.test", "", path) + "status=sent")
    wait_log(inst, lmtp % (qid, r"permx@posthorn\.test", "", path) + r"dsn=5\.1\.1, "
             r"status=bounced \(host mail\.posthorn\.test\[%s\] said: 550 5\.1\.1 " % path)
    wait_log(inst, lmtp % (qid, r"tempx@posthorn\.test", "", path) + r"dsn=4\.2\.2, "
             r"status=deferred")
    # each destination logged once, by lmtp; none by local; no local mailbox
    log = inst.log()
    assert not re.search(r"posthorn/local\[\d+\]: %s: to=" % qid, log), log
    assert len(re.findall(r"%s: to=<alice@mail\.posthorn\.test>" % qid, log)) == 1
    assert inst.maildir_files(inst.maildir_new("alice")) == []
    first = sorted(server.rcpts())
    assert first == sorted(["alice@mail.posthorn.test", "bob@mail.posthorn.test",
                            "alice@posthorn.test", "permx@posthorn.test",
                            "tempx@posthorn.test"]), first

    # done marks: the retry sends tempx@ alone
    wait_log(inst, lmtp % (qid, r"tempx@posthorn\.test", "", path) + "status=sent",
             timeout=30)
    assert server.rcpts()[len(first)] == "tempx@posthorn.test"
    # the bounce for permx@ goes to the sender's mailbox: LMTP again
    wait_log(inst, r"%s: sender non-delivery notification: " % qid)
    wait_log(inst, r"%s: removed" % qid)
    assert wait_until(lambda: len(server.rcpts()) == len(first) + 2, 10)
    assert server.rcpts()[len(first):] == ["tempx@posthorn.test", "sender@posthorn.test"]


def test_fallback_transport(make_instance, servers, sockdir):
    server = servers(os.path.join(sockdir, "lmtp.sock"))
    inst = make_instance(main={"fallback_transport": "lmtp:unix:" + server.path,
                               "local_recipient_maps": ""},
                         master=LMTP_MASTER)
    token = uuid.uuid4().hex
    qid = send(inst, ["alice@posthorn.test", "ghost@posthorn.test"], token)
    wait_log(inst, r"%s: removed" % qid)
    assert inst.wait_for_message(token, "alice") is not None
    assert server.rcpts() == ["ghost@posthorn.test"]
    wait_log(inst, r"posthorn/local\[\d+\]: %s: to=<alice@posthorn\.test>, relay=local, "
             % qid + r".*status=sent \(delivered to maildir\)")
    wait_log(inst, r"posthorn/lmtp\[\d+\]: %s: to=<ghost@posthorn\.test>, "
             r"relay=mail\.posthorn\.test\[" % qid)


def test_virtual_transport_lmtp(make_instance, servers, sockdir):
    server = servers(os.path.join(sockdir, "lmtp.sock"))
    inst = make_instance(main={"virtual_transport": "lmtp:unix:" + server.path},
                         master=LMTP_MASTER)
    token = uuid.uuid4().hex
    qid = send(inst, ["demo@virt.test"], token)
    wait_log(inst, r"posthorn/lmtp\[\d+\]: %s: to=<demo@virt\.test>, "
             r"relay=mail\.posthorn\.test\[%s\], .*status=sent" % (qid, re.escape(server.path)))
    assert server.rcpts() == ["demo@virt.test"]
    assert not os.path.exists(inst.virtual_new())


# ------------------------------------------------------- Dovecot's LMTP

def dovecot_reason():
    """None when Dovecot's LMTP can run here (root, installed), else why."""
    reason = available()
    if reason is None and not os.access(LMTP_BINARY, os.X_OK):
        reason = "dovecot-lmtpd is not installed"
    return reason


# Dovecot's lmtp service: its default socket BASE/run/lmtp (mode 0666), and
# a port; dovecot_helpers' instance serves IMAP besides, unused here.
DOVECOT_LMTP = """protocols = $protocols lmtp
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %d
  }
}
"""


@pytest.fixture
def dovecot_pair(make_instance):
    """A Posthorn instance (not started), a started private Dovecot with
    LMTP for alice@posthorn.test (Posthorn's alice) and demo@virt.test,
    and demo's home there (mail in ~/Maildir for both)."""
    reason = dovecot_reason()
    if reason:
        pytest.skip(reason)
    inst = make_instance(master=LMTP_MASTER, start=False)
    vhome = os.path.join(inst.base, "vhome", "demo")
    os.makedirs(vhome)
    os.chown(vhome, inst.virtual_uid, inst.virtual_gid)
    port = free_port()
    dv = Dovecot({"alice@posthorn.test": ("unused",) + inst.users["alice"],
                  "demo@virt.test": ("unused", inst.virtual_uid, inst.virtual_gid, vhome)},
                 "maildir:~/Maildir", extra=DOVECOT_LMTP % port)
    dv.lmtp_socket = os.path.join(dv.base, "run", "lmtp")
    dv.lmtp_port = port
    try:
        dv.start()
    except RuntimeError as e:
        dv.cleanup()
        pytest.fail(str(e))
    yield inst, dv, vhome
    dv.cleanup()


def start_with(inst, params):
    inst.main_overrides.update(params)
    inst.write_config()
    return inst.start()


def maildir_with(inst, home, token):
    """The message in HOME/Maildir/new that holds TOKEN, waiting for it."""
    return inst.wait_for_message(token, path=os.path.join(home, "Maildir", "new"),
                                 timeout=20)


def test_dovecot_mailbox_and_virtual_transport(dovecot_pair):
    inst, dv, vhome = dovecot_pair
    hop = "lmtp:unix:" + dv.lmtp_socket
    start_with(inst, {"mailbox_transport": hop, "virtual_transport": hop})
    token = uuid.uuid4().hex
    qid = send(inst, ["alice@posthorn.test", "demo@virt.test"], token)
    alice = maildir_with(inst, inst.home("alice"), token)
    assert alice is not None, "%s\n%s" % (inst.log_tail(), dv.log_tail())
    assert alice.replace(b"\r\n", b"\n").endswith(BODY.replace(b"\r\n", b"\n"))
    assert maildir_with(inst, vhome, token) is not None, \
        "%s\n%s" % (inst.log_tail(), dv.log_tail())
    relay = r"relay=mail\.posthorn\.test\[%s\]" % re.escape(dv.lmtp_socket)
    for to in (r"alice@posthorn\.test", r"demo@virt\.test"):
        wait_log(inst, r"posthorn/lmtp\[\d+\]: %s: to=<%s>, %s, .*dsn=2\.0\.0, "
                 r"status=sent \(250 2\.0\.0 <%s> \S+ Saved\)" % (qid, to, relay, to))
    wait_log(inst, r"%s: removed" % qid)
    # Posthorn wrote neither mailbox itself
    assert not os.path.exists(inst.virtual_new())


def test_dovecot_inet(dovecot_pair):
    inst, dv, vhome = dovecot_pair
    start_with(inst, {"virtual_transport": "lmtp:inet:127.0.0.1:%d" % dv.lmtp_port})
    token = uuid.uuid4().hex
    qid = send(inst, ["demo@virt.test"], token)
    assert maildir_with(inst, vhome, token) is not None, \
        "%s\n%s" % (inst.log_tail(), dv.log_tail())
    wait_log(inst, r"posthorn/lmtp\[\d+\]: %s: to=<demo@virt\.test>, "
             r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % (qid, dv.lmtp_port))
