"""test_imap_mbox.py - the classic spool INBOX over IMAP while mail arrives.

An instance with mbox mailboxes (imap_helpers.py, mbox=True: INBOX is
mail_spool_directory/alice, other folders in ~/mail).  While a thread
delivers 120 messages over SMTP (two connections; local delivery
appends to the spool under its locks), one IMAP session keeps syncing (NOOP, UID SEARCH) and
works on every new message it sees: reads it (BODY[], which sets \\Seen),
flags it, gives it a keyword, or marks it \\Deleted and expunges it (UID
EXPUNGE), each change a rewrite of the whole file.  Afterwards nothing
is lost: every delivered message is in the file exactly once unless the
session expunged it; the flags are in the file (Status: R, X-Status: F,
X-Keywords: $Conc); UIDs never went back and survivors keep the UIDs the
session saw (X-UID, and a new session's UID FETCH).  The folder's index
is in ~/mail/.imap/INBOX/ (Dovecot's index directory of the spool INBOX)
and neither it nor anything else of ours is listed as a folder.  As
root, a private Dovecot (dovecot_helpers.py) then reads the same files:
the same UIDVALIDITY, UIDs, flags and keywords (X-IMAPbase, X-UID,
Status, X-Status, X-Keywords), and no folder of Posthorn's files.
"""

import mailbox
import os
import re
import threading
import time
import uuid

import pytest

from dovecot_helpers import Dovecot, available
from imap_helpers import imap_instance, connect
from posthorn_instance import wait_until

ALICE = "alice@posthorn.test"
PRE = 20          # in the spool before the session starts
DURING = 120      # delivered while it works


def message(subject):
    return ("From: Sender <sender@example.com>\r\nTo: alice@posthorn.test\r\n"
            "Subject: %s\r\nMessage-Id: <%s@example.com>\r\n\r\n"
            "body of %s\r\nFrom the start of a line\r\n" % (subject, uuid.uuid4().hex,
                                                            subject)).encode()


def deliver_all(inst, subjects, errors, pause=0):
    """Send SUBJECTS over one SMTP connection (a thread), PAUSE seconds
    apart (so that deliveries and the session's rewrites interleave)."""
    try:
        with inst.smtp(timeout=60) as s:
            s.ehlo()
            for subject in subjects:
                s.sendmail("sender@example.com", [ALICE], message(subject))
                time.sleep(pause)
    except Exception as e:          # reported by the test
        errors.append(repr(e))


def spool_messages(path):
    """[(subject, UID, Status, X-Status, X-Keywords)] of the spool file.  The
    UID is X-UID's; mail delivered after the last rewrite has none yet and
    takes the next UID in file order (after X-IMAPbase's LAST-UID), as
    every reader numbers it (mbox_scan.h)."""
    out = []
    box = mailbox.mbox(path, create=False)
    try:
        next_uid = prev = 0
        for m in box:
            base = m.get("X-IMAPbase") or m.get("X-IMAP")
            if base is not None:
                next_uid = int(base.split()[1]) + 1
            if m.get("X-IMAP") is not None:
                continue                        # the pseudo message
            xuid = int(m.get("X-UID", "0"))
            if xuid:
                assert prev < xuid < next_uid, (m.get("Subject"), prev, xuid, next_uid)
                uid = xuid
            else:
                uid = next_uid
                next_uid += 1
            prev = uid
            out.append((m.get("Subject"), uid, m.get("Status", ""),
                        m.get("X-Status", ""), m.get("X-Keywords", "").split()))
    finally:
        box.close()
    return out


def uid_subjects(c, uid_set):
    """{uid: subject} for UID_SET of the selected folder."""
    typ, data = c.uid("FETCH", uid_set, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            out[uid] = re.search(rb"Subject: ([^\r\n]*)", item[1]).group(1).decode()
    return out


def uid_flags(c):
    """{uid: flags without \\Recent} of the selected folder."""
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK", data
    out = {}
    for line in data:
        if line:
            uid = int(re.search(rb"UID (\d+)", line).group(1))
            flags = set(re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode().split())
            out[uid] = flags - {"\\Recent"}
    return out


class Worker:
    """The IMAP session: what it saw and what it did."""

    def __init__(self, c):
        self.c = c
        self.subject = {}            # uid -> subject, every UID ever seen
        self.seen, self.flagged, self.keyworded, self.expunged = set(), set(), set(), set()
        self.count = 0

    def round(self):
        c = self.c
        assert c.noop()[0] == "OK"
        typ, data = c.uid("SEARCH", "ALL")
        assert typ == "OK", data
        uids = [int(u) for u in data[0].split()]
        new = [u for u in uids if u not in self.subject]
        if not new:
            return 0
        # UIDs only ever grow: new ones are above every UID seen before
        assert not self.subject or min(new) > max(self.subject), (new, max(self.subject))
        got = uid_subjects(c, ",".join(str(u) for u in new))
        for uid in new:
            self.subject[uid] = got[uid]
            self.act(uid)
        return len(new)

    def act(self, uid):
        c, subject = self.c, self.subject[uid]
        kind = self.count % 5
        self.count += 1
        if kind == 0:
            typ, data = c.uid("FETCH", str(uid), "(BODY[])")
            assert typ == "OK" and (b"body of %s" % subject.encode()) in data[0][1], data
            self.seen.add(subject)
        elif kind == 1:
            assert c.uid("STORE", str(uid), "+FLAGS", r"(\Flagged)")[0] == "OK"
            self.flagged.add(subject)
        elif kind == 2:
            assert c.uid("STORE", str(uid), "+FLAGS", r"(\Deleted)")[0] == "OK"
            assert c.uid("EXPUNGE", str(uid))[0] == "OK"
            self.expunged.add(subject)
        elif kind == 3:
            assert c.uid("STORE", str(uid), "+FLAGS", "($Conc)")[0] == "OK"
            self.keyworded.add(subject)


class Arrived:
    """What the scenario left: the instance, the session's record, the
    UIDVALIDITY, and a new session's view (UID -> subject, flags)."""


@pytest.fixture(scope="module")
def arrived(module_instance_factory):
    """The scenario, once for the module: mail arrives while a session works."""
    inst = imap_instance(module_instance_factory, mbox=True)
    spool = inst.mbox_path("alice")
    pre = ["pre %03d" % i for i in range(PRE)]
    during = ["during %03d" % i for i in range(DURING)]
    errors = []
    deliver_all(inst, pre, errors)
    assert not errors, errors
    assert wait_until(lambda: os.path.exists(spool)
                      and open(spool, "rb").read().count(b"\nSubject: pre ") == PRE, 30)

    c = connect(inst, login=ALICE)
    typ, data = c.select("INBOX")
    assert typ == "OK", data
    uidvalidity = int(c.response("UIDVALIDITY")[1][0])
    w = Worker(c)
    w.round()
    threads = [threading.Thread(target=deliver_all, args=(inst, during[i::2], errors, 0.03))
               for i in range(2)]
    for t in threads:
        t.start()
    rounds = busy = 0
    while any(t.is_alive() for t in threads):
        rounds += 1
        busy += w.round() > 0
        time.sleep(0.01)
    for t in threads:
        t.join()
    assert busy >= 5, (rounds, busy)           # the session worked meanwhile
    assert not errors, errors
    everything = set(pre) | set(during)
    deadline = time.monotonic() + 60
    while set(w.subject.values()) != everything and time.monotonic() < deadline:
        w.round()
        time.sleep(0.1)
    assert set(w.subject.values()) == everything, sorted(everything - set(w.subject.values()))
    assert int(c.response("UIDVALIDITY")[1][0] or uidvalidity) == uidvalidity
    c.logout()
    assert w.expunged and w.seen and w.flagged and w.keyworded

    a = Arrived()
    a.inst, a.spool, a.w, a.everything, a.uidvalidity = inst, spool, w, everything, uidvalidity
    c = connect(inst, login=ALICE)
    typ, data = c.select("INBOX", readonly=True)
    assert int(c.response("UIDVALIDITY")[1][0]) == uidvalidity
    a.now, a.flags = uid_subjects(c, "1:*"), uid_flags(c)
    typ, listing = c.list('""', '"*"')
    a.names = [re.sub(rb'^\([^)]*\) (?:"."|NIL) ', b"", line).decode() for line in listing]
    c.logout()
    return a


def test_nothing_lost_flags_and_uids_kept(arrived):
    a, w = arrived, arrived.w
    # The file: each message once unless expunged; flags and UIDs there
    in_file = spool_messages(a.spool)
    subjects = [m[0] for m in in_file]
    assert sorted(subjects) == sorted(a.everything - w.expunged)
    uid_of = {s: u for u, s in w.subject.items()}
    for subject, xuid, status, xstatus, keywords in in_file:
        assert xuid == uid_of[subject], subject
        assert ("R" in status) == (subject in w.seen), (subject, status)
        assert ("F" in xstatus) == (subject in w.flagged), (subject, xstatus)
        assert ("$Conc" in keywords) == (subject in w.keyworded), (subject, keywords)
        assert "D" not in xstatus
    with open(a.spool, "rb") as f:
        base = re.search(rb"(?m)^X-IMAPbase: (\d+) (\d+)", f.read())
    assert int(base.group(1)) == a.uidvalidity

    # A new session: the same UIDs and flags
    assert a.now == {u: s for u, s in w.subject.items() if s not in w.expunged}
    for uid, subject in a.now.items():
        assert ("\\Seen" in a.flags[uid]) == (subject in w.seen)
        assert ("\\Flagged" in a.flags[uid]) == (subject in w.flagged)
        assert ("$Conc" in a.flags[uid]) == (subject in w.keyworded)


def test_index_in_dovecots_place_and_not_listed(arrived):
    home = arrived.inst.home("alice")
    assert os.path.isfile(os.path.join(home, "mail", ".imap", "INBOX", "posthorn-index"))
    spool_dir = os.path.dirname(arrived.spool)
    assert not [n for n in os.listdir(spool_dir) if "posthorn" in n or n == ".imap"]
    assert not [n for n in os.listdir(os.path.join(home, "mail")) if "posthorn" in n]
    assert "INBOX" in arrived.names
    assert not [n for n in arrived.names if ".imap" in n or "posthorn" in n], arrived.names


@pytest.mark.skipif(available() is not None, reason=available() or "")
def test_dovecot_reads_the_result(arrived):
    """Dovecot reads the same mbox: the same UIDVALIDITY, UIDs, flags and
    keywords, and lists none of Posthorn's files as a folder."""
    uid, gid, home = arrived.inst.users["alice"]
    dv = Dovecot({"alice": ("dv-pw", uid, gid, home)},
                 "mbox:~/mail:INBOX=%s" % arrived.spool)
    try:
        dv.start()
        d = dv.imap("alice")
        typ, data = d.select("INBOX", readonly=True)
        assert typ == "OK", data
        assert int(d.response("UIDVALIDITY")[1][0]) == arrived.uidvalidity
        assert uid_subjects(d, "1:*") == arrived.now
        assert uid_flags(d) == arrived.flags
        typ, listing = d.list('""', '"*"')
        names = [re.sub(rb'^\([^)]*\) (?:"."|NIL) ', b"", line).decode() for line in listing]
        assert "INBOX" in names
        assert not [n for n in names if ".imap" in n or "posthorn" in n], names
        d.logout()
    finally:
        dv.cleanup()
