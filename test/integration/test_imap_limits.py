"""test_imap_limits.py - imapd's limits, timeouts, load and privileges.

Covered: the login and session timeouts (imapd_login_timeout,
imapd_timeout, with "* BYE" and the log line), a client that stops
reading in the middle of a big FETCH (the session goes away, the folder
stays sound), 1,000 clients greeted at once, 100 concurrent logged-in
sessions on one folder, a 10,000-message Maildir (SELECT, FETCH 1:*
FLAGS, UIDs stable across sessions and after the index and cache are
removed), a 20 MB message fetched byte-exact, and (as root) which uid
each imapd process runs as.
"""

import os
import re
import socket
import time

import pytest

from posthorn_instance import IS_ROOT, USERS, session_processes, uid_of
from imap_helpers import PASSWORDS, imap_instance, connect, deliver, Raw

ALICE = "alice@posthorn.test"


@pytest.fixture
def inst(make_instance):
    return imap_instance(make_instance)


def bulk_maildir(inst, user, count, size=60):
    """COUNT messages written straight into USER's Maildir new/ (as a
    delivery agent would), owned by the user."""
    new = inst.maildir_new(user)
    maildir = os.path.dirname(new)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    pad = "x" * max(0, size - 40)
    for i in range(count):
        data = ("Subject: bulk %d\n\nbody %d %s\n" % (i, i, pad)).encode()
        vsize = len(data) + data.count(b"\n")
        name = "%d.M%dP1.bulk,S=%d,W=%d" % (1700000000 + i, i, len(data), vsize)
        with open(os.path.join(new, name), "wb") as f:
            f.write(data)
    if IS_ROOT:
        for dirpath, dirs, files in os.walk(maildir):
            for n in dirs + files:
                os.chown(os.path.join(dirpath, n), USERS[user], USERS[user])
            os.chown(dirpath, USERS[user], USERS[user])
    return maildir


# ------------------------------------------------------------ timeouts

def test_login_and_session_timeouts(make_instance):
    inst = imap_instance(make_instance, main={"imapd_login_timeout": "2s",
                                              "imapd_timeout": "2s"})
    r = Raw(inst.imap_port)
    t0 = time.monotonic()
    assert r.line().startswith("* BYE ")
    assert r.closed()
    assert 1.5 < time.monotonic() - t0 < 10
    r = Raw(inst.imap_port)
    r.login(ALICE)
    t0 = time.monotonic()
    assert r.line() == "* BYE Disconnected for inactivity."
    assert r.closed()
    assert time.monotonic() - t0 < 10
    assert inst.wait_for_log(r"imapd.*timeout: user=<alice@posthorn\.test>")


def test_idle_is_not_a_timeout_before_imapd_timeout(make_instance):
    """IDLE keeps the session for imapd_timeout, then BYE (RFC 3501's
    autologout timer applies to IDLE as to any other wait)."""
    inst = imap_instance(make_instance, main={"imapd_timeout": "3s"})
    r = Raw(inst.imap_port)
    r.login(ALICE)
    r.cmd("S", "SELECT INBOX")
    r.send("I IDLE\r\n")
    assert r.line().startswith("+ ")
    t0 = time.monotonic()
    lines = []
    while True:
        try:
            lines.append(r.line())
        except (EOFError, OSError):
            break
        if lines[-1].startswith("* BYE"):
            break
    assert lines and lines[-1].startswith("* BYE"), lines
    assert 2 < time.monotonic() - t0 < 15


def test_client_that_stops_reading(make_instance):
    inst = imap_instance(make_instance, main={"imapd_timeout": "3s"})
    bulk_maildir(inst, "alice", 200, size=60000)
    r = Raw(inst.imap_port)
    r.login(ALICE)
    r.cmd("S", "SELECT INBOX")
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    r.send("F FETCH 1:* BODY.PEEK[]\r\n")
    time.sleep(6)                        # reads nothing: the session must give up
    r.close()
    assert inst.wait_for_log(r"imapd.*(timeout|disconnected): user=<alice@posthorn\.test>")
    c = connect(inst, login=ALICE)
    typ, data = c.select("INBOX")
    assert typ == "OK" and int(data[0]) == 200
    c.logout()


# ------------------------------------------------------------ load

def test_1000_clients_greeted_at_once(inst):
    socks = []
    try:
        for _ in range(1000):
            socks.append(socket.create_connection(("127.0.0.1", inst.imap_port), timeout=30))
        for s in socks:
            assert s.recv(200).startswith(b"* OK")
    finally:
        for s in socks:
            s.close()
    c = connect(inst, login=ALICE)
    assert c.noop()[0] == "OK"
    c.logout()


def test_100_concurrent_sessions_one_folder(inst):
    deliver(inst, "alice", "shared")
    clients = []
    try:
        for i in range(100):
            r = Raw(inst.imap_port, timeout=60)
            r.send('L LOGIN %s "%s"\r\nS SELECT INBOX\r\n' % (ALICE, PASSWORDS[ALICE]))
            clients.append(r)
        for r in clients:
            assert r.until_tagged("L")[-1].startswith("L OK")
            out = r.until_tagged("S")
            assert out[-1].startswith("S OK [READ-WRITE]"), out
            assert "* 1 EXISTS" in out
        # One session flags the message: every other one hears of it
        first = clients[0]
        assert first.cmd("T", "STORE 1 +FLAGS (\\Flagged)")[-1].startswith("T OK")
        for r in clients[1:]:
            out = r.cmd("N", "NOOP")
            assert any(re.match(r"\* 1 FETCH \(.*\\Flagged", line) for line in out
                       if isinstance(line, str)), out
    finally:
        for r in clients:
            try:
                r.cmd("Q", "LOGOUT")
            except (OSError, EOFError):
                pass
            r.close()


def test_10000_messages(inst):
    maildir = bulk_maildir(inst, "alice", 10000)
    c = connect(inst, login=ALICE)
    typ, data = c.select("INBOX")
    assert typ == "OK" and int(data[0]) == 10000
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    uids = [int(re.search(rb"UID (\d+)", d).group(1)) for d in data]
    assert len(uids) == 10000 and len(set(uids)) == 10000
    typ, data = c.fetch("10000", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: bulk 9999" in data[0][1]
    c.logout()
    # The index and cache are only accelerators: the UIDs come back the same
    for name in os.listdir(maildir):
        if name.startswith("posthorn-"):
            os.unlink(os.path.join(maildir, name))
    c = connect(inst, login=ALICE)
    c.select("INBOX", readonly=True)
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    assert [int(re.search(rb"UID (\d+)", d).group(1)) for d in data] == uids
    c.logout()


def test_20mb_message_byte_exact(make_instance):
    inst = imap_instance(make_instance, main={"message_size_limit": "60000000"})
    line = "0123456789" * 9 + "\r\n"
    body = "".join(("." if i % 1000 == 0 else "") + line for i in range(210000))
    deliver(inst, "alice", "twenty megabytes", body)
    stored = inst.wait_for_message(b"twenty megabytes", "alice")
    c = connect(inst, login=ALICE)
    c.select("INBOX")
    typ, data = c.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
    size = int(re.search(rb"RFC822.SIZE (\d+)", data[0][0]).group(1))
    assert data[0][1] == stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert size == len(data[0][1])
    typ, data = c.fetch("1", "(BODY.PEEK[TEXT]<1000000.500>)")
    text = stored.split(b"\n\n", 1)[1] if b"\r\n\r\n" not in stored else stored.split(b"\r\n\r\n", 1)[1]
    text = text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert data[0][1] == text[1000000:1000500]
    c.logout()


# ------------------------------------------------------------ privileges

@pytest.mark.skipif(not IS_ROOT, reason="needs root: the uids of the processes")
def test_process_owners(inst):
    deliver(inst, "alice", "owners")
    c = connect(inst, login=ALICE)
    c.select("INBOX")
    kids = inst.children()
    logins = [k for k in kids if k["name"] == "imapd" and k["uid"] == uid_of("posthorn")]
    assert logins, kids
    for k in logins:
        assert k["euid"] == uid_of("posthorn")
    sessions = session_processes(inst, "imapd")
    assert sessions and all(s["uid"] == USERS["alice"] and s["euid"] == USERS["alice"]
                            for s in sessions), sessions
    for k in kids:
        if k["name"] == "imapd" and k["uid"] == 0:
            assert k["euid"] == uid_of("posthorn"), k
    c.logout()


@pytest.mark.skipif(not IS_ROOT, reason="needs root: files owned by the user")
def test_folders_and_index_owned_by_the_user(inst):
    deliver(inst, "alice", "ownership")
    c = connect(inst, login=ALICE)
    c.create("Projects")
    c.select("INBOX")
    c.store("1", "+FLAGS", "(\\Seen)")
    c.logout()
    maildir = os.path.dirname(inst.maildir_new("alice"))
    for dirpath, dirs, files in os.walk(maildir):
        for n in dirs + files:
            st = os.lstat(os.path.join(dirpath, n))
            assert st.st_uid == USERS["alice"], os.path.join(dirpath, n)
