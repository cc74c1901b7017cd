"""test_two_hosts.py - two Posthorn hosts serving one user base.

Two instances (each with its own configuration, queue, ports and
processes, as two hosts behind one MX) share a private PostgreSQL
server holding a Postfixadmin-shaped user base - domains, mailboxes
and the stored passwords a panel writes for Dovecot ({SHA512-CRYPT},
{BLF-CRYPT}, {ARGON2ID}) - read through proxy:pgsql: tables, and one
virtual_mailbox_base directory (the Maildir tree on shared storage).

Checked:
- logins from the database on both hosts: IMAP LOGIN, POP3 USER/PASS
  and SMTP AUTH PLAIN with each scheme; a wrong password is refused; with
  the database stopped a login fails for the moment (IMAP "NO
  [UNAVAILABLE]", SMTP 454), never as a wrong password;
- mail delivered to the same mailboxes from both hosts at once while an
  IMAP session on each host reads the folder and flags messages: nothing
  is lost, no UID is given twice, both hosts show every message under
  the same UID with the same flags, each flag that either session set;
- a session killed in the middle of an EXPUNGE leaves a mailbox that the
  other host reads whole: every message there once or expunged, UIDs
  unchanged, and the next delivery gets a new UID.
"""

import imaplib
import os
import poplib
import re
import shutil
import smtplib
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

import pgsql_helpers
from imap_helpers import imap_instance, wait_imap
from posthorn_instance import IS_ROOT, all_pids, proc_info, wait_until

# Login names, passwords, and the scheme the panel stored each in
USERS = {
    "ann@hosts.test": ("ann-Secret 1", "SHA512-CRYPT"),
    "ben@hosts.test": ("ben-pw", "BLF-CRYPT"),
    "cat@hosts.test": ("cat pass", "ARGON2ID"),
}

SCHEMA = """
CREATE TABLE domain (domain varchar(255) PRIMARY KEY, active boolean NOT NULL);
CREATE TABLE mailbox (username varchar(255) PRIMARY KEY, password varchar(255) NOT NULL,
                      maildir varchar(255) NOT NULL, active boolean NOT NULL);
INSERT INTO domain VALUES ('hosts.test', true);
"""

QUERIES = {
    "domains": "SELECT domain FROM domain WHERE domain = '%s' AND active = '1'",
    "mailboxes": "SELECT maildir FROM mailbox WHERE username = '%s' AND active = '1'",
    "passwords": "SELECT password FROM mailbox WHERE username = '%s' AND active = '1'",
}

SENDS_PER_HOST = 30


def doveadm_hash(scheme, password):
    """PASSWORD in SCHEME as Dovecot makes it (so Posthorn reads Dovecot's
    encoding, not its own)."""
    doveadm = shutil.which("doveadm")
    if not doveadm:
        pytest.skip("doveadm (dovecot-core) is not installed")
    return subprocess.check_output([doveadm, "pw", "-s", scheme, "-p", password],
                                   text=True).strip()


@pytest.fixture(scope="module")
def db():
    if not pgsql_helpers.available():
        pytest.skip("PostgreSQL is not installed")
    server = pgsql_helpers.PgServer(tempfile.mkdtemp(prefix="db-", dir="/tmp"))
    try:
        server.start()
        server.create_db("mail")
        server.sql(SCHEMA, db="mail")
        rows = []
        for name, (password, scheme) in sorted(USERS.items()):
            stored = doveadm_hash(scheme, password).replace("'", "''")
            rows.append("('%s', '%s', 'hosts.test/%s/', true)"
                        % (name, stored, name.split("@")[0]))
        server.sql("INSERT INTO mailbox VALUES %s;" % ", ".join(rows), db="mail")
        server.create_reader("mailreader", "secret", "mail", ["domain", "mailbox"])
        yield server
    finally:
        server.cleanup()


def write_cf(inst, name, db, query):
    path = os.path.join(inst.etc, "pgsql-%s.cf" % name)
    with open(path, "w") as f:
        f.write("hosts = 127.0.0.1:%d\nuser = mailreader\npassword = secret\n"
                "dbname = mail\nconnect_timeout = 2\nquery = %s\n" % (db.port, query))
    return "proxy:pgsql:" + path


def host(make_instance, db, shared, name):
    inst = imap_instance(make_instance, start=False)
    maps = {n: write_cf(inst, n, db, q) for n, q in QUERIES.items()}
    inst.main_overrides.update({
        "myhostname": "%s.posthorn.test" % name,
        "virtual_mailbox_domains": maps["domains"],
        "virtual_mailbox_maps": maps["mailboxes"],
        "virtual_mailbox_base": shared,
        "smtpd_sasl_password_maps": maps["passwords"],
    })
    inst.write_config()
    inst.start()
    wait_imap(inst)
    return inst


@pytest.fixture
def hosts(make_instance, db):
    shared = tempfile.mkdtemp(prefix="vmail-", dir="/tmp")
    os.chmod(shared, 0o755)
    a = host(make_instance, db, shared, "mail1")
    if IS_ROOT:
        os.chown(shared, a.virtual_uid, a.virtual_gid)
    b = host(make_instance, db, shared, "mail2")
    try:
        yield a, b, shared
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def imap(inst, user="ann@hosts.test"):
    c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
    c.login(user, USERS[user][0])
    return c


def message(tag):
    mid = "<%s.%s@hosts.test>" % (tag, uuid.uuid4().hex)
    return mid, ("From: sender@example.com\r\nTo: ann@hosts.test\r\nSubject: %s\r\n"
                 "Message-Id: %s\r\n\r\nbody of %s\r\n" % (tag, mid, tag)).encode()


def folder_state(inst, user="ann@hosts.test"):
    """{uid: (message-id, set of flags)} of USER's INBOX as INST shows it."""
    c = imap(inst, user)
    try:
        typ, _ = c.select("INBOX")
        assert typ == "OK"
        typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        assert typ == "OK"
    finally:
        c.logout()
    state = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, body = item
        uid = int(re.search(rb"UID (\d+)", head).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split())
        flags.discard("\\Recent")
        mid = re.search(rb"<[^>]+>", body).group(0).decode()
        assert uid not in state, "UID %d twice in one FETCH" % uid
        state[uid] = (mid, flags)
    return state


def test_logins_from_the_database(hosts, db):
    a, b, _shared = hosts
    for inst in (a, b):
        for user, (password, _) in USERS.items():
            c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
            assert c.login(user, password)[0] == "OK"
            c.logout()
        c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            c.login("ann@hosts.test", "ben-pw")
        c.logout()
    p = poplib.POP3("127.0.0.1", b.pop3_port, timeout=30)
    p.user("ben@hosts.test")
    assert p.pass_("ben-pw").startswith(b"+OK")
    p.quit()
    with smtplib.SMTP("127.0.0.1", a.port, timeout=30) as s:
        s.ehlo()
        assert "PLAIN" in s.esmtp_features.get("auth", "")
        s.login("cat@hosts.test", "cat pass")
    with smtplib.SMTP("127.0.0.1", b.port, timeout=30) as s:
        s.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login("cat@hosts.test", "cat-pass")
        assert e.value.smtp_code == 535
    assert "authentication failed" in a.log() + b.log()
    # the database away: a login fails for now, never as a wrong password
    db.stop()
    try:
        c = imaplib.IMAP4("127.0.0.1", a.imap_port, timeout=30)
        with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
            c.login("ann@hosts.test", USERS["ann@hosts.test"][0])
        c.logout()
        with smtplib.SMTP("127.0.0.1", b.port, timeout=30) as s:
            s.ehlo()
            with pytest.raises(smtplib.SMTPAuthenticationError) as e:
                s.login("cat@hosts.test", "cat pass")
            assert e.value.smtp_code == 454, e.value
    finally:
        db.start()
    assert wait_until(lambda: _login_works(a), 20, 0.5), a.log_tail()


def _login_works(inst):
    try:
        imap(inst).logout()
        return True
    except (imaplib.IMAP4.error, OSError):
        return False


def _sender(inst, tag, sent, errors):
    try:
        with smtplib.SMTP("127.0.0.1", inst.port, timeout=60) as s:
            for i in range(SENDS_PER_HOST):
                mid, msg = message("%s-%d" % (tag, i))
                s.sendmail("sender@example.com", ["ann@hosts.test", "ben@hosts.test"], msg)
                sent.append(mid)
    except Exception as e:			# reported by the main thread
        errors.append(e)


def _flagger(inst, flag, divisor, done, flagged, errors):
    """Until DONE: look at the folder, flag every UID divisible by DIVISOR."""
    try:
        c = imap(inst)
        c.select("INBOX")
        while not done.is_set():
            typ, data = c.uid("SEARCH", "ALL")
            for uid in (int(u) for u in data[0].split()):
                if uid % divisor == 0 and uid not in flagged:
                    typ, _ = c.uid("STORE", str(uid), "+FLAGS", "(%s)" % flag)
                    assert typ == "OK"
                    flagged.add(uid)
            c.noop()
            time.sleep(0.05)
        c.logout()
    except Exception as e:
        errors.append(e)


def test_deliveries_and_flags_from_both_hosts(hosts):
    a, b, shared = hosts
    sent, errors = [], []
    done = threading.Event()
    flagged_a, flagged_b = set(), set()
    flaggers = [threading.Thread(target=_flagger, args=(a, "\\Flagged", 2, done, flagged_a, errors)),
                threading.Thread(target=_flagger, args=(b, "$Label1", 3, done, flagged_b, errors))]
    senders = [threading.Thread(target=_sender, args=(inst, tag, sent, errors))
               for inst, tag in ((a, "a"), (b, "b"), (a, "a2"), (b, "b2"))]
    for t in flaggers + senders:
        t.start()
    for t in senders:
        t.join()
    total = 4 * SENDS_PER_HOST

    def stored(user):
        root = os.path.join(shared, "hosts.test", user)
        return sum(len(os.listdir(os.path.join(root, d))) for d in ("new", "cur")
                   if os.path.isdir(os.path.join(root, d)))
    try:
        assert wait_until(lambda: stored("ann") >= total and stored("ben") >= total, 90, 0.2), \
            (stored("ann"), stored("ben"), a.log_tail(), b.log_tail())
        time.sleep(1)				# a last round of flags
    finally:
        done.set()
        for t in flaggers:
            t.join()
    assert not errors, errors
    assert len(sent) == total
    assert a.queue_empty() and b.queue_empty()
    assert "status=bounced" not in a.log() + b.log()
    # both hosts delivered
    assert re.search(r"to=<ann@hosts\.test>.*status=sent", a.log())
    assert re.search(r"to=<ann@hosts\.test>.*status=sent", b.log())
    for user in ("ann@hosts.test", "ben@hosts.test"):
        seen_a, seen_b = folder_state(a, user), folder_state(b, user)
        assert seen_a == seen_b, "the hosts disagree about %s" % user
        mids = [mid for mid, _ in seen_a.values()]
        assert sorted(mids) == sorted(sent), "lost or doubled mail for %s" % user
    ann = folder_state(a)
    for uid in flagged_a:
        assert "\\Flagged" in ann[uid][1], uid
    for uid in flagged_b:
        assert "$Label1" in ann[uid][1], uid
    assert flagged_a and flagged_b
    # the uidlist itself: each UID and each file once
    with open(os.path.join(shared, "hosts.test", "ann", "dovecot-uidlist")) as f:
        lines = f.read().splitlines()[1:]
    uids = [int(line.split()[0]) for line in lines]
    names = [line.split(":", 1)[1] for line in lines]
    assert len(uids) == len(set(uids)) == total
    assert len(names) == len(set(names))


def _sessions(inst):
    """The pids of INST's IMAP sessions (children of its auth service)."""
    parents = set(inst.child_pids("imapd"))
    return [pid for pid in all_pids()
            if (proc_info(pid) or {}).get("ppid") in parents]


def test_session_killed_during_expunge(hosts):
    a, b, _shared = hosts
    sent = []
    for i in range(40):
        mid, msg = message("x-%d" % i)
        (a if i % 2 else b).send("cat@hosts.test", msg)
        sent.append(mid)
    assert wait_until(lambda: len(folder_state(b, "cat@hosts.test")) == 40, 30, 0.3), \
        a.log_tail()
    before = folder_state(b, "cat@hosts.test")
    c = imap(a, "cat@hosts.test")
    c.select("INBOX")
    assert c.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK"
    sessions = _sessions(a)
    assert sessions, a.log_tail()
    c.send(b"X1 EXPUNGE\r\n")			# and the host dies under it
    for pid in sessions:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    c.shutdown()
    after = folder_state(b, "cat@hosts.test")
    for uid, (mid, flags) in after.items():
        assert before[uid][0] == mid		# no UID changed its message
        assert "\\Deleted" in flags
    # the folder goes on: the expunge finishes on the other host, new mail
    # gets a UID above every earlier one
    c = imap(b, "cat@hosts.test")
    c.select("INBOX")
    assert c.expunge()[0] == "OK"
    c.logout()
    mid, msg = message("after")
    a.send("cat@hosts.test", msg)
    assert wait_until(lambda: len(folder_state(b, "cat@hosts.test")) == 1, 30, 0.3)
    (uid, (got, _)), = folder_state(a, "cat@hosts.test").items()
    assert got == mid and uid > max(before)
