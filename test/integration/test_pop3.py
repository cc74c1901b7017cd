"""test_pop3.py - pop3d with Python's poplib, raw lines and fetchmail.

Each test starts an instance with pop3d on two ports (STLS, POP3S), the
auth service, a sasldb shared with SMTP AUTH, and Maildir or mbox
mailboxes (pop3_helpers.py).  Covered: every command in both states, the
wrong-state and bad-argument answers, TOP 0 and n, DELE+RSET, DELE+QUIT,
UIDL stable across sessions, mail that arrives during a session, AUTH
PLAIN and LOGIN with and without initial responses, pipelining, STLS and
POP3S, plaintext refused off loopback, failed logins (delayed, logged in
fail2ban's shape, no password in the log), a 10,000-message mailbox, a
20 MB message byte-exact, a client that drops during RETR, over-long and
binary input, local and virtual users, the same password for SMTP AUTH and
POP3, fetchmail, and (as root) who each process runs as.
"""

import base64
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import stat
import subprocess
import time
import uuid

import pytest

from posthorn_instance import (IS_ROOT, USERS, VIRTUAL_UID, wait_until, uid_of,
                               session_processes)
from pop3_helpers import PASSWORDS, pop3_instance, connect, Raw, tls_context
from test_sasl import saslauthd  # noqa: F401  (a fixture)

ALICE = "alice@posthorn.test"
BOB = "bob@posthorn.test"
DEMO = "demo@virt.test"


def message(subject, body="body line\r\n"):
    return ("From: Sender <sender@example.com>\r\nTo: x@posthorn.test\r\n"
            "Subject: %s\r\nMessage-Id: <%s@example.com>\r\n\r\n%s"
            % (subject, uuid.uuid4().hex, body)).encode()


def deliver(inst, rcpt, subject, body="body line\r\n", user=None, path=None):
    """Send over SMTP and wait until it is in the mailbox; the stored bytes."""
    inst.send(rcpt, message(subject, body))
    if path is None and user:
        return inst.wait_for_message(subject.encode(), user)
    if path is not None:
        return inst.wait_for_message(subject.encode(), path=path)
    return None


def mbox_wait(inst, user, needle, timeout=15):
    path = inst.mbox_path(user)
    return wait_until(lambda: os.path.exists(path) and needle.encode() in open(path, "rb").read(),
                      timeout)


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


@pytest.fixture
def inst(make_instance):
    return pop3_instance(make_instance)


@pytest.fixture
def mbox_inst(make_instance):
    return pop3_instance(make_instance, mbox=True)


# ------------------------------------------------------------ before login

def test_greeting_and_capa(inst):
    r = Raw(inst.pop3_port)
    assert r.greeting.startswith("+OK ")
    assert r.cmd("CAPA").startswith("+OK")
    capa = r.multi()
    for cap in ("TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER",
                "SASL PLAIN LOGIN", "STLS"):
        assert cap in capa, capa
    assert any(c.startswith("IMPLEMENTATION ") for c in capa)
    assert r.cmd("QUIT").startswith("+OK")
    assert r.closed()


def test_wrong_state_and_bad_commands_before_login(inst):
    r = Raw(inst.pop3_port)
    for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "NOOP", "RSET"):
        reply = r.cmd(cmd)
        assert reply.startswith("-ERR") and "AUTHORIZATION" in reply, (cmd, reply)
    assert r.cmd("XYZZY").startswith("-ERR Unknown command")
    assert r.cmd("PASS nothing").startswith("-ERR No username")
    assert r.cmd("USER").startswith("-ERR Syntax")
    assert r.cmd("USER a b").startswith("-ERR Syntax")
    assert r.cmd("APOP alice 0123").startswith("-ERR APOP is not enabled")
    assert r.cmd("AUTH FOO").startswith("-ERR [AUTH] Unsupported")
    assert r.cmd("").startswith("-ERR")
    assert r.cmd("STLS x").startswith("-ERR Syntax")
    # still serving
    assert r.cmd("CAPA").startswith("+OK")
    r.multi()
    r.close()


def test_bad_input_before_login(inst):
    r = Raw(inst.pop3_port)
    assert r.cmd("USER " + "x" * 20000).startswith("-ERR Input line too long")
    r.send(b"\x00\x01\x02\xff\xfe junk\r\n")
    assert r.line().startswith("-ERR")
    r.send(b"US\x00ER alice\r\n")
    assert r.line().startswith("-ERR")
    assert r.cmd("CAPA").startswith("+OK")
    r.multi()
    r.close()


def test_login_user_pass_stls_and_ssl(inst):
    deliver(inst, ALICE, "three ways", user="alice")
    for tls in (None, "stls", "ssl"):
        p = connect(inst, tls=tls, login=ALICE)
        assert p.stat()[0] == 1
        p.quit()
    log = inst.log()
    assert re.search(r"pop3d\[\d+\]: unknown\[127\.0\.0\.1\]: login: user=<alice@posthorn\.test>, "
                     r"method=USER, TLS", log), log
    assert "alice-Secret" not in log


def test_failed_login_delayed_logged_and_retry(inst):
    r = Raw(inst.pop3_port)
    r.cmd("USER " + ALICE)
    t0 = time.monotonic()
    assert r.cmd("PASS wrong-password") == "-ERR [AUTH] Authentication failed."
    assert time.monotonic() - t0 >= 0.9
    assert r.cmd("USER " + ALICE) == "+OK"
    assert r.cmd("PASS " + PASSWORDS[ALICE]) == "+OK Logged in."
    assert r.cmd("QUIT").startswith("+OK")
    r.close()
    assert inst.wait_for_log(r"warning: unknown\[127\.0\.0\.1\]: SASL LOGIN authentication "
                             r"failed: authentication failure, sasl_username=alice@posthorn\.test")
    assert "wrong-password" not in inst.log()


def test_auth_plain_and_login(inst):
    deliver(inst, ALICE, "auth mechanisms", user="alice")
    creds = "\0%s\0%s" % (ALICE, PASSWORDS[ALICE])
    # PLAIN with an initial response
    r = Raw(inst.pop3_port)
    assert r.cmd("AUTH PLAIN " + b64(creds)) == "+OK Logged in."
    assert r.cmd("STAT").startswith("+OK 1 ")
    r.cmd("QUIT")
    r.close()
    # PLAIN with a continuation
    r = Raw(inst.pop3_port)
    assert r.cmd("AUTH PLAIN") == "+ "
    assert r.cmd(b64(creds)) == "+OK Logged in."
    r.cmd("QUIT")
    r.close()
    # LOGIN, both ways
    r = Raw(inst.pop3_port)
    assert r.cmd("AUTH LOGIN") == "+ VXNlcm5hbWU6"
    assert r.cmd(b64(ALICE)) == "+ UGFzc3dvcmQ6"
    assert r.cmd(b64(PASSWORDS[ALICE])) == "+OK Logged in."
    r.cmd("QUIT")
    r.close()
    r = Raw(inst.pop3_port)
    assert r.cmd("AUTH LOGIN " + b64(ALICE)) == "+ UGFzc3dvcmQ6"
    assert r.cmd(b64(PASSWORDS[ALICE])) == "+OK Logged in."
    r.cmd("QUIT")
    r.close()
    # cancel, bad base64, wrong password
    r = Raw(inst.pop3_port)
    assert r.cmd("AUTH PLAIN") == "+ "
    assert r.cmd("*").startswith("-ERR")
    assert r.cmd("AUTH PLAIN !!!notbase64").startswith("-ERR [AUTH]")
    assert r.cmd("AUTH PLAIN " + b64("\0%s\0nope" % ALICE)) == "-ERR [AUTH] Authentication failed."
    assert r.cmd("AUTH").startswith("+OK")
    assert r.multi() == ["PLAIN", "LOGIN"]
    r.close()
    assert inst.wait_for_log(r"SASL PLAIN authentication failed: authentication failure, "
                             r"sasl_username=alice@posthorn\.test")


def test_pipelined_login_and_commands(inst):
    deliver(inst, ALICE, "pipelined", user="alice")
    r = Raw(inst.pop3_port)
    r.send("USER %s\r\nPASS %s\r\nSTAT\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n" % (ALICE, PASSWORDS[ALICE]))
    assert r.line() == "+OK"
    assert r.line() == "+OK Logged in."
    assert r.line().startswith("+OK 1 ")
    assert re.match(r"\+OK 1 [0-9A-F]{16}$", r.line())
    assert r.line() == "+OK"
    assert r.line().startswith("+OK Logging out")
    r.close()


def test_plaintext_refused_off_loopback(inst):
    """127.0.0.1 and ::1 are loopback; 127.0.0.2 is not trusted with a
    password in the clear (pop3d_tls_auth_only = yes)."""
    s = socket.create_connection(("127.0.0.1", inst.pop3_port), timeout=10,
                                 source_address=("127.0.0.2", 0))
    r = Raw.__new__(Raw)
    r.sock, r.buf = s, b""
    r.greeting = r.line()
    assert r.cmd("USER " + ALICE).startswith("-ERR [AUTH] Plaintext authentication disallowed")
    assert r.cmd("AUTH PLAIN " + b64("\0a\0b")).startswith("-ERR [AUTH] Plaintext")
    assert r.cmd("CAPA").startswith("+OK")
    capa = r.multi()
    assert "USER" not in capa and "STLS" in capa
    r.close()
    # after STLS it works
    ctx = tls_context(inst)
    s = socket.create_connection(("127.0.0.1", inst.pop3_port), timeout=10,
                                 source_address=("127.0.0.2", 0))
    p = poplib.POP3.__new__(poplib.POP3)
    p.host, p.port, p._tls_established = "127.0.0.1", inst.pop3_port, False
    p.sock = s
    p.file = s.makefile("rb")
    p._debugging = 0
    p.welcome = p._getresp()
    p.stls(context=ctx)
    p.user(ALICE)
    assert p.pass_(PASSWORDS[ALICE]).startswith(b"+OK")
    p.quit()


# ------------------------------------------------------------ transaction

def test_transaction_commands(inst):
    stored = [deliver(inst, ALICE, "msg %d" % i, "line %d\r\n.dotted\r\nlast\r\n" % i,
                      user="alice") for i in range(1, 4)]
    assert all(stored)
    p = connect(inst, tls="stls", login=ALICE)
    count, total = p.stat()
    assert count == 3
    resp, listing, _ = p.list()
    sizes = {int(a): int(b) for a, b in (l.split() for l in listing)}
    assert sum(sizes.values()) == total
    files = inst.maildir_files(inst.maildir_new("alice"))
    by_subject = {}
    for path in files:
        data = open(path, "rb").read()
        by_subject[re.search(rb"Subject: (msg \d)", data).group(1)] = data
    for n in (1, 2, 3):
        resp, lines, octets = p.retr(n)
        body = b"\n".join(lines) + b"\n"
        subject = re.search(rb"Subject: (msg \d)", body).group(1)
        assert body == by_subject[subject], (body, by_subject[subject])
        assert sizes[n] == len(body) + body.count(b"\n")       # CRLF octets
        assert p.list(n).split()[2] == str(sizes[n]).encode()
    # TOP 0: the header and the empty line; TOP 1: one body line
    resp, lines, _ = p.top(1, 0)
    assert lines[-1] == b"" and not any(l.startswith(b"line ") for l in lines)
    resp, lines, _ = p.top(1, 1)
    assert lines[-1].startswith(b"line ")
    resp, lines, _ = p.top(1, 100)
    assert lines[-2:] == [b".dotted", b"last"]
    uidl = p.uidl()[1]
    assert len(uidl) == 3 and all(re.match(rb"\d [0-9A-F]{16}$", u) for u in uidl)
    assert p.noop().startswith(b"+OK")
    # DELE + RSET keeps everything
    p.dele(2)
    assert p.stat()[0] == 2
    with pytest.raises(poplib.error_proto, match="deleted"):
        p.retr(2)
    p.rset()
    assert p.stat()[0] == 3
    # DELE + QUIT removes exactly that one
    p.dele(1)
    p.quit()
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 2
    assert [u.split()[1] for u in p.uidl()[1]] == [u.split()[1] for u in uidl[1:]]
    p.quit()
    assert inst.wait_for_log(r"logout: user=<alice@posthorn\.test>, top=\d+/\d+, retr=3/\d+, "
                             r"del=1/3, size=\d+")


def test_transaction_bad_arguments(inst):
    deliver(inst, ALICE, "args", user="alice")
    r = Raw(inst.pop3_port)
    r.cmd("USER " + ALICE)
    assert r.cmd("PASS " + PASSWORDS[ALICE]).startswith("+OK")
    cases = {
        "RETR": "-ERR Syntax", "RETR 0": "-ERR Invalid message number",
        "RETR 2": "-ERR There's no message 2", "RETR -1": "-ERR Invalid",
        "RETR abc": "-ERR Invalid", "RETR 1 2": "-ERR Syntax",
        "RETR 99999999999": "-ERR Invalid", "TOP 1": "-ERR Syntax",
        "TOP 1 x": "-ERR Invalid number of lines", "TOP 1 -3": "-ERR Invalid",
        "DELE": "-ERR Syntax", "LIST 5": "-ERR There's no message 5",
        "LIST 1 2": "-ERR Syntax", "UIDL x": "-ERR Invalid", "STAT 1": "-ERR Syntax",
        "RSET 1": "-ERR Syntax", "NOOP x": "-ERR Syntax", "USER x": "-ERR Already logged in",
        "PASS x": "-ERR Already logged in", "AUTH PLAIN": "-ERR Already logged in",
        "STLS": "-ERR Already logged in", "FOO": "-ERR Unknown command",
        "LIST 1 2 3 4": "-ERR Too many arguments",
    }
    for cmd, want in cases.items():
        reply = r.cmd(cmd)
        assert reply.startswith(want), (cmd, reply)
    assert r.cmd("DELE 1").startswith("+OK")
    assert r.cmd("DELE 1").startswith("-ERR Message is deleted")
    assert r.cmd("x" * 10000).startswith("-ERR Input line too long")
    r.send(b"\x00\xff\x01\r\n")
    assert r.line().startswith("-ERR")
    assert r.cmd("CAPA").startswith("+OK")
    assert "UIDL" in r.multi()
    assert r.cmd("RSET") == "+OK"
    assert r.cmd("QUIT").startswith("+OK")
    r.close()
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 1
    p.quit()


def test_uidl_stable_and_new_mail_during_session(inst):
    deliver(inst, ALICE, "first", user="alice")
    p1 = connect(inst, login=ALICE)
    before = p1.uidl()[1]
    deliver(inst, ALICE, "second", user="alice")
    assert p1.stat()[0] == 1                    # the session's view is fixed
    p1.quit()
    p2 = connect(inst, login=ALICE)
    after = p2.uidl()[1]
    assert after[0] == before[0] and len(after) == 2
    p2.quit()
    p3 = connect(inst, tls="ssl", login=ALICE)
    assert p3.uidl()[1] == after
    p3.quit()


def test_concurrent_quit_does_not_lose_new_mail(inst):
    deliver(inst, ALICE, "old one", user="alice")
    p = connect(inst, login=ALICE)
    p.dele(1)
    deliver(inst, ALICE, "arrived meanwhile", user="alice")
    p.quit()
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 1
    assert b"arrived meanwhile" in b"\n".join(p.retr(1)[1])
    p.quit()


def test_dropped_connection_during_retr_keeps_mailbox(make_instance):
    inst = pop3_instance(make_instance, main={"message_size_limit": "0"})
    big = "".join("line %06d of a big message, padded to be long enough\r\n" % i
                  for i in range(60000))
    deliver(inst, ALICE, "big one", big, user="alice")
    deliver(inst, ALICE, "small one", user="alice")
    r = Raw(inst.pop3_port)
    r.cmd("USER " + ALICE)
    r.cmd("PASS " + PASSWORDS[ALICE])
    assert r.cmd("DELE 2").startswith("+OK")
    r.send("RETR 1\r\n")
    assert r.line().startswith("+OK ")
    r.sock.recv(1000)
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    r.close()                                   # RST in the middle of RETR
    assert inst.wait_for_log(r"disconnected: user=<alice@posthorn\.test>, .*del=0/2")
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 2
    p.quit()


def test_20mb_message_byte_exact(make_instance):
    inst = pop3_instance(make_instance, main={"message_size_limit": "50000000"})
    line = "x" * 98 + "\r\n"
    body = "".join(("." if i % 1000 == 0 else "") + line for i in range(210000))
    stored = deliver(inst, ALICE, "twenty megabytes", body, user="alice")
    assert stored and len(stored) > 20 * 1000 * 1000
    p = connect(inst, tls="stls", login=ALICE)
    resp, lines, octets = p.retr(1)
    got = b"\n".join(lines) + b"\n"
    assert got == stored
    assert int(resp.split()[1]) == len(stored) + stored.count(b"\n")
    p.quit()


def test_10000_messages(make_instance):
    inst = pop3_instance(make_instance)
    new = inst.maildir_new("alice")
    maildir = os.path.dirname(new)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    for i in range(10000):
        data = ("Subject: bulk %d\n\nbody %d\n" % (i, i)).encode()
        name = "%d.M%dP1.bulk,S=%d,W=%d" % (1700000000 + i, i, len(data), len(data) + 3)
        with open(os.path.join(new, name), "wb") as f:
            f.write(data)
    if IS_ROOT:
        for dirpath, dirs, files in os.walk(maildir):
            for n in dirs + files:
                os.chown(os.path.join(dirpath, n), USERS["alice"], USERS["alice"])
            os.chown(dirpath, USERS["alice"], USERS["alice"])
    p = connect(inst, login=ALICE)
    count, total = p.stat()
    assert count == 10000
    assert len(p.list()[1]) == 10000
    uidl = p.uidl()[1]
    assert len(set(u.split()[1] for u in uidl)) == 10000
    assert b"bulk 9999" in b"\n".join(p.retr(10000)[1])
    p.quit()
    p = connect(inst, login=ALICE)
    assert p.uidl()[1] == uidl
    p.quit()


# ------------------------------------------------------------ mbox, virtual

def test_mbox_mailbox(mbox_inst):
    inst = mbox_inst
    for i in (1, 2, 3):
        inst.send(ALICE, message("mbox %d" % i, "a line\r\nFrom the middle\r\n"))
    for i in (1, 2, 3):                    # deliveries may finish in any order
        assert mbox_wait(inst, "alice", "Subject: mbox %d\n" % i)
    p = connect(inst, tls="stls", login=ALICE)
    assert p.stat()[0] == 3
    uidl = p.uidl()[1]
    bodies = [b"\n".join(p.retr(n)[1]) for n in (1, 2, 3)]
    for body in bodies:
        assert b">From the middle" in body
        assert b"X-UID" not in body and b"X-IMAPbase" not in body and b"Status:" not in body
    # deliveries may finish in any order: delete the one that says "mbox 2"
    n = [i for i, b in enumerate(bodies, 1) if b"Subject: mbox 2" in b][0]
    p.dele(n)
    p.quit()
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 2
    assert [u.split()[1] for u in p.uidl()[1]] == \
        [u.split()[1] for i, u in enumerate(uidl, 1) if i != n]
    assert all(b"Subject: mbox 2" not in b"\n".join(p.retr(i)[1]) for i in (1, 2))
    p.quit()
    inst.send(ALICE, message("mbox 4"))
    assert mbox_wait(inst, "alice", "mbox 4")
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 3
    p.quit()


def test_virtual_user(inst):
    inst.send(DEMO, message("virtual mail"))
    assert inst.wait_for_message(b"virtual mail", path=inst.virtual_new()) is not None
    p = connect(inst, tls="ssl", login=DEMO)
    assert p.stat()[0] == 1
    assert b"virtual mail" in b"\n".join(p.retr(1)[1])
    p.quit()


def test_unknown_user_and_wrong_domain(inst):
    for login in ("nobody-here@posthorn.test", "alice@elsewhere.example"):
        r = Raw(inst.pop3_port)
        r.cmd("USER " + login)
        assert r.cmd("PASS whatever") == "-ERR [AUTH] Authentication failed."
        r.close()


# ------------------------------------------------------------ one password

def test_same_password_for_smtp_auth(inst):
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=20) as s:
        s.ehlo()
        s.starttls(context=tls_context(inst))
        s.ehlo()
        s.login(ALICE, PASSWORDS[ALICE])
        s.sendmail(ALICE, [BOB], message("via submission"))
    assert inst.wait_for_message(b"via submission", "bob") is not None
    p = connect(inst, tls="stls", login=BOB)
    assert b"via submission" in b"\n".join(p.retr(1)[1])
    p.quit()


def test_same_password_with_saslauthd(make_instance, saslauthd, monkeypatch):
    """saslauthd (issue 4's rimap set-up) checks POP3 logins as it checks
    SMTP AUTH; the fake IMAP server behind it knows alice's password."""
    import test_sasl
    monkeypatch.setattr(test_sasl, "USER", "alice")
    monkeypatch.setattr(test_sasl, "PASSWORD", PASSWORDS[ALICE])
    mux, imap = saslauthd
    inst = pop3_instance(make_instance, start=False)
    with open(os.path.join(inst.base, "sasl2", "smtpd.conf"), "w") as f:
        f.write("pwcheck_method: saslauthd\nsaslauthd_path: %s\nmech_list: plain login\n" % mux)
    inst.start()
    deliver(inst, ALICE, "saslauthd login", user="alice")
    p = connect(inst, login="alice", password=PASSWORDS[ALICE])
    assert p.stat()[0] == 1
    p.quit()
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=20) as s:
        s.ehlo()
        s.starttls(context=tls_context(inst))
        s.ehlo()
        s.login("alice", PASSWORDS[ALICE])
    assert ALICE in imap.logins


# ------------------------------------------------------------ fetchmail

def test_fetchmail_stls(inst, tmp_path):
    if not shutil.which("fetchmail"):
        pytest.skip("fetchmail is not installed")
    stored = [deliver(inst, ALICE, "fetch %d" % i, "text %d\r\n.leading dot\r\n" % i,
                      user="alice") for i in range(5)]
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        'poll mail.posthorn.test via 127.0.0.1 service %d protocol pop3\n'
        '  user "%s" password "%s" sslproto TLS1.2+ sslcertck sslcertfile "%s"\n'
        '  sslcommonname "mail.posthorn.test"\n'
        '  mda "/bin/sh -c \'cat > %s/msg.$$\'" no rewrite\n'
        % (inst.pop3_port, ALICE, PASSWORDS[ALICE], inst.cafile, out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--invisible", "-v",
                        "--pidfile", str(tmp_path / "pid")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    log = r.stdout.decode(errors="replace")
    assert r.returncode == 0, log
    assert "STLS" in log
    got = sorted(open(os.path.join(out, n), "rb").read() for n in os.listdir(out))
    assert got == sorted(stored), log
    p = connect(inst, login=ALICE)
    assert p.stat()[0] == 0                    # fetchmail deletes by default
    p.quit()


# ------------------------------------------------------------ privileges

@pytest.mark.skipif(not IS_ROOT, reason="needs root: the uids of the processes")
def test_process_owners(inst):
    deliver(inst, ALICE, "owners", user="alice")
    p = connect(inst, login=ALICE)
    p.stat()
    kids = inst.children()
    logins = [c for c in kids if c["name"] == "pop3d" and c["uid"] == uid_of("posthorn")]
    assert logins, kids
    for c in logins:
        assert c["euid"] == uid_of("posthorn")
    sessions = session_processes(inst, "pop3d")
    assert sessions and all(s["uid"] == USERS["alice"] and s["euid"] == USERS["alice"]
                            for s in sessions), sessions
    auth = [c for c in kids if c["name"] == "pop3d" and c["uid"] == 0]
    for c in auth:
        assert c["euid"] == uid_of("posthorn"), c
    p.quit()


# ------------------------------------------------------------ limits

def test_idle_timeouts(make_instance):
    inst = pop3_instance(make_instance, main={"pop3d_login_timeout": "2s",
                                              "pop3d_timeout": "2s"})
    r = Raw(inst.pop3_port)
    t0 = time.monotonic()
    assert r.line() == "-ERR Disconnected for inactivity."
    assert r.closed()
    assert 1.5 < time.monotonic() - t0 < 10
    r = Raw(inst.pop3_port)
    r.cmd("USER " + ALICE)
    assert r.cmd("PASS " + PASSWORDS[ALICE]) == "+OK Logged in."
    t0 = time.monotonic()
    assert r.line() == "-ERR Disconnected for inactivity."
    assert r.closed()
    assert time.monotonic() - t0 < 10
    assert inst.wait_for_log(r"timeout: user=<alice@posthorn\.test>")


def test_1000_clients_greeted_at_once(inst):
    socks = []
    try:
        for _ in range(1000):
            socks.append(socket.create_connection(("127.0.0.1", inst.pop3_port), timeout=30))
        t0 = time.monotonic()
        for s in socks:
            assert s.recv(100).startswith(b"+OK")
        assert time.monotonic() - t0 < 20
    finally:
        for s in socks:
            s.close()


def test_100_concurrent_sessions(inst):
    deliver(inst, ALICE, "shared", user="alice")
    clients = []
    try:
        for _ in range(100):
            r = Raw(inst.pop3_port, timeout=60)
            r.send("USER %s\r\nPASS %s\r\n" % (ALICE, PASSWORDS[ALICE]))
            clients.append(r)
        for r in clients:
            assert r.line() == "+OK"
            assert r.line() == "+OK Logged in."
        for r in clients:
            assert r.cmd("STAT").startswith("+OK 1 ")
    finally:
        for r in clients:
            try:
                r.cmd("QUIT")
            except (OSError, EOFError):
                pass
            r.close()


def test_mbox_forged_imap_headers_are_dropped(mbox_inst):
    """A sender cannot set the flags or UIDs an mbox keeps in headers:
    local delivery leaves X-UID, X-IMAPbase, Status, ... out."""
    inst = mbox_inst
    inst.send(ALICE, b"X-IMAPbase: 1 4000000000\r\nX-UID: 999999\r\nStatus: RO\r\n"
              b"X-Status: D\r\nX-Keywords: forged\r\nSubject: forged headers\r\n\r\nbody\r\n")
    assert mbox_wait(inst, "alice", "forged headers")
    data = open(inst.mbox_path("alice"), "rb").read()
    for field in (b"X-UID: 999999", b"4000000000", b"Status: RO", b"X-Status: D", b"forged\r"):
        assert field not in data, field
    p = connect(inst, login=ALICE)
    uid = p.uidl(1).split()[2]
    assert int(uid[:8], 16) < 100, uid
    p.quit()


def test_virtual_mbox_user(make_instance):
    inst = pop3_instance(make_instance, main={
        "virtual_mailbox_maps": "inline:{ demo@virt.test=virt.test/demo.mbox }"})
    inst.send(DEMO, message("virtual mbox"))
    path = os.path.join(inst.mail, "virtual", "virt.test", "demo.mbox")
    assert wait_until(lambda: os.path.exists(path) and b"virtual mbox" in open(path, "rb").read(), 15)
    p = connect(inst, tls="stls", login=DEMO)
    assert p.stat()[0] == 1
    p.dele(1)
    p.quit()
    p = connect(inst, login=DEMO)
    assert p.stat()[0] == 0
    p.quit()
