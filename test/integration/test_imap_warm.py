"""test_imap_warm.py - imapd on a settled Maildir folder, opened from its index.

A folder whose new/ and cur/ did not change for a few seconds gets a view
stamp in its posthorn-index at the next full read (lib/store/store_index.c).
A session that SELECTs it then answers from the index alone: its view, and
the session's copy of it, are made only when a command needs them.  These
tests check from outside that such a session says what a cold one says,
and that changes made by other sessions before its view was made (flags,
expunges, new mail, a new keyword) reach it as untagged responses, with
the client's numbering kept until it may change.
"""

import os
import re
import struct
import time

import pytest

from imap_helpers import ALICE, append_uid, connect, deliver, imap_instance, raw_login, \
    search, unique, untagged

STAMP_OFF = 72          # the view stamp block in posthorn-index (format v3)
SETTLE = 2              # seconds new/ and cur/ must be unchanged (MAILDIR_STAMP_SLACK)


# Folders the tests take (their message counts), made and settled at once
POOL = [6, 5, 5, 4, 3, 3]
_pool = {}


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    """The instance, with POOL's folders and INBOX made and settled (one
    wait for all of them)."""
    i = imap_instance(module_instance_factory)
    _pool.clear()
    for count in POOL:
        _pool.setdefault(count, []).append(new_folder(i, count))
    deliver(i, "alice", "settle")
    c = connect(i, login=ALICE)
    assert c.select("INBOX")[0] == "OK"         # new/ to cur/
    c.logout()
    time.sleep(SETTLE + 1.1)
    return i


def folder_dir(inst, name):
    maildir = os.path.join(inst.home("alice"), "Maildir")
    return maildir if name == "INBOX" else os.path.join(maildir, "." + name)


def has_stamp(inst, name):
    with open(os.path.join(folder_dir(inst, name), "posthorn-index"), "rb") as f:
        f.seek(STAMP_OFF)
        block = f.read(16)
    return len(block) == 16 and struct.unpack("<Q", block[:8])[0] != 0


def new_folder(inst, count):
    """A new folder of COUNT messages (1 and 2 \\Seen, 3 \\Flagged), its
    messages claimed (new/ to cur/)."""
    name = unique("w")
    c = connect(inst, login=ALICE)
    assert c.create(name)[0] == "OK"
    for i in range(1, count + 1):
        flags = "(\\Seen)" if i <= 2 else "(\\Flagged)" if i == 3 else None
        append_uid(c, name, b"Subject: m%d\r\n\r\nbody %d\r\n" % (i, i), flags)
    assert c.select(name)[0] == "OK"
    c.logout()
    return name


def settled_folder(inst, count):
    """A settled folder of COUNT messages from the pool, read once in full
    so that it has a view stamp."""
    name = _pool[count].pop()
    stamp(inst, name)
    return name


def stamp(inst, name):
    """A session reads settled NAME in full: it gets a view stamp."""
    r = raw_login(inst)
    r.ok("s", "SELECT " + name)
    r.ok("l", "LOGOUT")
    assert has_stamp(inst, name)


def two_sessions(inst, count, number):
    """A settled folder of COUNT messages SELECTed by two sessions; the
    second expunges message NUMBER.  Returns the first and the second."""
    name = settled_folder(inst, count)
    a, b = raw_login(inst), raw_login(inst)
    a.ok("a", "SELECT " + name)
    b.ok("b", "SELECT " + name)
    b.ok("c", "STORE %d +FLAGS.SILENT (\\Deleted)" % number)
    b.ok("d", "EXPUNGE")
    return a, b


def select_lines(r, tag, name):
    lines = r.ok(tag, "SELECT " + name)
    return [l for l in lines if not l.startswith(tag + " ")]


def test_select_answers_as_a_cold_open(inst):
    name = settled_folder(inst, 6)
    warm = raw_login(inst)
    w = select_lines(warm, "a", name)
    assert "* 6 EXISTS" in w and "* 0 RECENT" in w
    assert "* OK [UNSEEN 3] First unseen." in w
    assert any(re.match(r"\* OK \[UIDNEXT 7\]", l) for l in w), w
    # the same without the index (a cold read)
    warm.ok("b", "LOGOUT")
    os.unlink(os.path.join(folder_dir(inst, name), "posthorn-index"))
    cold = raw_login(inst)
    c = select_lines(cold, "c", name)
    drop = lambda lines: [l for l in lines if "HIGHESTMODSEQ" not in l]
    assert drop(c) == drop(w)
    cold.ok("d", "LOGOUT")


def test_status_and_fetch_from_the_index(inst):
    name = settled_folder(inst, 5)
    r = raw_login(inst)
    line = untagged(r.ok("a", "STATUS %s (MESSAGES UNSEEN UIDNEXT RECENT)" % name), "STATUS")
    assert "MESSAGES 5" in line[0] and "UNSEEN 3" in line[0] and "UIDNEXT 6" in line[0]
    r.ok("b", "SELECT " + name)
    lines = r.ok("c", "FETCH 1:* (UID FLAGS)")[:-1]
    assert lines == ["* 1 FETCH (UID 1 FLAGS (\\Seen))", "* 2 FETCH (UID 2 FLAGS (\\Seen))",
                     "* 3 FETCH (UID 3 FLAGS (\\Flagged))", "* 4 FETCH (UID 4 FLAGS ())",
                     "* 5 FETCH (UID 5 FLAGS ())"], lines
    assert search(r, "d", "SEARCH UNSEEN") == "3 4 5"
    assert search(r, "e", "UID SEARCH UID 2:4") == "2 3 4"
    assert "* 5 FETCH (BODY[] {23}" in r.ok("f", "FETCH 5 BODY.PEEK[]")[0]
    r.ok("g", "LOGOUT")


def test_noop_quiet_while_nothing_changes(inst):
    name = settled_folder(inst, 3)
    r = raw_login(inst)
    r.ok("a", "SELECT " + name)
    for i in range(3):
        assert r.ok("n%d" % i, "NOOP") == ["n%d OK NOOP completed." % i]
    r.ok("z", "LOGOUT")


def test_changes_before_the_view_was_made(inst):
    """Another session changes flags, expunges and adds a keyword while
    this one has only SELECTed: the first NOOP reports all of it."""
    a, b = two_sessions(inst, 5, 2)
    b.ok("e", "STORE 3 +FLAGS.SILENT (\\Answered $Work)")    # UID 4
    lines = a.ok("f", "NOOP")
    assert untagged(lines, "EXPUNGE") == ["* 2 EXPUNGE"], lines
    assert any(l.startswith("* FLAGS (") and "$Work" in l for l in lines), lines
    fetches = untagged(lines, "FETCH")
    assert len(fetches) == 1 and fetches[0].startswith("* 3 FETCH (FLAGS (")
    assert "\\Answered" in fetches[0] and "$Work" in fetches[0]
    assert a.ok("g", "FETCH 1:* UID")[:-1] == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)",
                                               "* 3 FETCH (UID 4)", "* 4 FETCH (UID 5)"]
    a.ok("h", "LOGOUT")
    b.ok("i", "LOGOUT")


def test_numbers_kept_until_expunges_may_be_said(inst):
    """An expunge by another session before this one made its view: FETCH
    by number still uses the numbers the client knows (RFC 3501 7.4.1)."""
    a, b = two_sessions(inst, 4, 1)
    lines = a.ok("e", "FETCH 4 (UID)")
    assert not untagged(lines, "EXPUNGE") and "* 4 FETCH (UID 4)" in lines, lines
    lines = a.ok("f", "NOOP")
    assert untagged(lines, "EXPUNGE") == ["* 1 EXPUNGE"], lines
    a.ok("g", "LOGOUT")
    b.ok("h", "LOGOUT")


def test_new_mail_and_own_changes(inst):
    name = settled_folder(inst, 3)
    a = raw_login(inst)
    a.ok("a", "SELECT " + name)
    c = connect(inst, login=ALICE)
    append_uid(c, name, b"Subject: late\r\n\r\nlate\r\n")
    c.logout()
    lines = a.ok("b", "NOOP")
    assert "* 4 EXISTS" in lines, lines
    a.ok("c", "STORE 2 +FLAGS.SILENT (\\Deleted)")
    lines = a.ok("d", "EXPUNGE")
    assert untagged(lines, "EXPUNGE") == ["* 2 EXPUNGE"], lines
    assert search(a, "e", "UID SEARCH ALL") == "1 3 4"
    a.ok("f", "LOGOUT")
    # and a session after that sees the same
    r = raw_login(inst)
    assert "* 3 EXISTS" in r.ok("g", "SELECT " + name)
    r.ok("h", "LOGOUT")


def test_idle_sees_smtp_delivery(inst):
    """INBOX settled: IDLE in a session that opened it from the index still
    hears of a message delivered over SMTP."""
    stamp(inst, "INBOX")                        # settled by the fixture
    r = raw_login(inst)
    exists = int(untagged(r.ok("c", "SELECT INBOX"), "EXISTS")[0].split()[1])
    r.send("d IDLE\r\n")
    assert r.line().startswith("+ ")
    deliver(inst, "alice", "while idling")
    r.sock.settimeout(10)
    line = r.line()
    assert line == "* %d EXISTS" % (exists + 1), line
    r.send("DONE\r\n")
    assert r.until_tagged("d")[-1].startswith("d OK")
    r.ok("e", "LOGOUT")
