"""test_imap_dovecot.py - mailboxes move between Dovecot and Posthorn's imapd.

Each test runs a Posthorn instance (imap_helpers.py) and a private Dovecot
(dovecot_helpers.py: Debian's dovecot-imapd, its own configuration and
port, a passwd-file user alice with the uid and home of Posthorn's alice)
on the same files: the Maildir ~/Maildir, or the spool mbox with folders
in ~/mail.  Dovecot needs root; the tests skip otherwise.

Dovecot first: over Dovecot's IMAP, folders (one nested) are created and
subscribed, messages appended with flags, keywords, an 8-bit body and
INTERNALDATEs, keywords stored, some messages expunged; then Posthorn's
imapd shows every folder (and its own special-use ones, which it adds to
a tree once), the subscriptions, and in every folder the same
UIDVALIDITY, UIDNEXT, UIDs, flags, keywords and message bytes.

(An mbox file that never held a message has its UIDVALIDITY only in the
server's own index: compared where UIDNEXT > 1.)

Posthorn first: the same made over Posthorn's IMAP (with expunges), then
Dovecot shows the same folders, subscriptions, UIDVALIDITY, UIDNEXT (no
re-download: nothing renumbered), UIDs, flags, keywords and bytes, and
none of Posthorn's own files as a folder; a change Dovecot makes (a
keyword, an append) is then seen by Posthorn with Dovecot's UIDs.
"""

import os
import re

import pytest

from dovecot_helpers import Dovecot, available
from imap_helpers import PASSWORDS, imap_instance, connect

ALICE = "alice@posthorn.test"
DV_PASSWORD = "dovecot-pw"
SPECIAL = {"Drafts", "Sent", "Trash", "Junk"}
DATE = '"05-Nov-2025 10:11:12 +0100"'

pytestmark = pytest.mark.skipif(available() is not None, reason=available() or "")


def msg(subject, body="plain body\r\n", extra=""):
    return ("From: Someone <someone@example.com>\r\nTo: alice@posthorn.test\r\n"
            "Subject: %s\r\nMessage-Id: <%s@example.com>\r\n%s\r\n%s"
            % (subject, subject.replace(" ", "."), extra, body)).encode("utf-8")


EIGHT_BIT = msg("eight bit", "Gr\u00fc\u00dfe, \u00e9t\u00e9, \u65e5\u672c\r\n",
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n")


@pytest.fixture(params=["maildir", "mbox"])
def pair(request, make_instance):
    """A Posthorn instance and a Dovecot (not started) on alice's mail."""
    mbox = request.param == "mbox"
    inst = imap_instance(make_instance, mbox=mbox)
    uid, gid, home = inst.users["alice"]
    if mbox:
        location = "mbox:~/mail:INBOX=%s" % inst.mbox_path("alice")
    else:
        location = "maildir:~/Maildir"
    dv = Dovecot({"alice": (DV_PASSWORD, uid, gid, home)}, location)
    yield inst, dv, mbox
    dv.cleanup()


def ok(result):
    typ, data = result
    assert typ == "OK", (typ, data)
    return data


def folders(c):
    """(separator, {name: set of attributes}) from LIST "" "*"."""
    out, sep = {}, None
    for line in ok(c.list('""', '"*"')):
        m = re.match(rb'\(([^)]*)\) (?:"(.)"|NIL) (.*)$', line)
        assert m, line
        sep = (m.group(2) or b"").decode() or sep
        name = m.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[name] = set(m.group(1).decode().lower().split())
    return sep, out


def subscribed(c):
    names = set()
    for line in ok(c.lsub('""', '"*"')):
        if line is None:
            continue
        name = re.match(rb'\([^)]*\) (?:"."|NIL) (.*)$', line).group(1).decode()
        names.add(name.strip('"'))
    return names


def folder_state(c, name):
    """UIDVALIDITY, UIDNEXT and {uid: (flags without \\Recent, bytes)}."""
    status = ok(c.status('"%s"' % name, "(UIDVALIDITY UIDNEXT MESSAGES)"))[0].decode()
    uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", status).group(1))
    uidnext = int(re.search(r"UIDNEXT (\d+)", status).group(1))
    ok(c.select('"%s"' % name, readonly=True))
    msgs = {}
    for line in ok(c.uid("FETCH", "1:*", "(UID FLAGS)")):
        if line is None:
            continue
        uid = int(re.search(rb"UID (\d+)", line).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode().split())
        msgs[uid] = flags - {"\\Recent"}
    for uid in list(msgs):
        data = ok(c.uid("FETCH", str(uid), "(BODY.PEEK[])"))
        body = [d[1] for d in data if isinstance(d, tuple)]
        assert len(body) == 1, data
        msgs[uid] = (msgs[uid], body[0])
    ok(c.close())
    return uidvalidity, uidnext, msgs


def everything(c):
    """The whole account: folders, subscriptions, the state of each folder."""
    sep, names = folders(c)
    state = {n: folder_state(c, n) for n, attrs in names.items()
             if "\\noselect" not in attrs and "\\nonexistent" not in attrs}
    return sep, names, subscribed(c), state


def populate(c, sep):
    """Folders, messages, flags, keywords, expunges; as any client makes them.
    Returns the expunged subjects."""
    work, nested = "Work", "Work%sProjects" % sep
    # mbox: a file holds no folders; CREATE makes the directory "Work"
    for name in ((nested, "Lists") if sep == "/" else (work, nested, "Lists")):
        ok(c.create(name))
    ok(c.subscribe(work))
    ok(c.subscribe(nested))
    appends = [("INBOX", r"(\Seen)", msg("first")),
               ("INBOX", r"(\Flagged $Important)", msg("second")),
               ("INBOX", "()", msg("goes away")),
               ("INBOX", r"(\Answered $Work Junk)", EIGHT_BIT),
               ("INBOX", r"(\Draft)", msg("draft")),
               ("INBOX", "()", msg("also goes")),
               ("INBOX", "()", msg("last one", "a body\r\n\r\nFrom the start of a line\r\n")),
               (nested, r"(\Seen $Work)", msg("in a folder")),
               (nested, "()", msg("folder two")),
               ("Lists", r"(\Deleted)", msg("deleted but kept"))]
    for folder, flags, data in appends:
        ok(c.append(folder, flags, DATE, data))
    ok(c.select("INBOX"))
    ok(c.store("2", "+FLAGS", r"($Later)"))
    ok(c.store("7", "+FLAGS", r"(\Seen $Important)"))
    ok(c.store("5", "-FLAGS", r"(\Draft)"))
    ok(c.store("3,6", "+FLAGS", r"(\Deleted)"))
    ok(c.expunge())
    ok(c.close())
    return {"goes away", "also goes"}


def subjects(state):
    out = set()
    for _uid, (_flags, data) in state[2].items():
        out.add(re.search(rb"Subject: ([^\r\n]*)", data).group(1).decode())
    return out


def check_same(src, dst, mbox, extra_folders=frozenset()):
    """DST shows what SRC showed; DST may have EXTRA_FOLDERS besides.  An
    mbox file that never held a message keeps its UIDVALIDITY nowhere
    both servers read (Dovecot: in its own index), and with no UID handed
    out a new one costs a client nothing: compared only once UIDNEXT > 1."""
    sep_a, names_a, subs_a, state_a = src
    sep_b, names_b, subs_b, state_b = dst
    assert sep_a == sep_b
    assert set(names_b) - set(names_a) <= set(extra_folders), (names_a, names_b)
    assert set(names_a) <= set(names_b), (names_a, names_b)
    assert subs_a <= subs_b and subs_b - subs_a <= set(extra_folders), (subs_a, subs_b)
    for name, (uidvalidity, uidnext, msgs) in state_a.items():
        assert name in state_b, name
        got_validity, got_next, got_msgs = state_b[name]
        if not mbox or uidnext > 1:
            assert got_validity == uidvalidity, name
        assert got_next == uidnext, name
        assert sorted(got_msgs) == sorted(msgs), name
        for uid in msgs:
            assert got_msgs[uid][0] == msgs[uid][0], (name, uid, got_msgs[uid][0], msgs[uid][0])
            assert got_msgs[uid][1] == msgs[uid][1], (name, uid)


def test_dovecot_to_posthorn(pair):
    inst, dv, mbox = pair
    dv.start()
    c = dv.imap("alice")
    sep, _ = folders(c)
    gone = populate(c, sep)
    before = everything(c)
    c.logout()
    dv.stop()
    inbox = before[3]["INBOX"]
    assert not gone & subjects(inbox)
    assert len(inbox[2]) == 5 and inbox[1] == 8               # UIDs 1..7, two gone
    assert {"$Work", "Junk", "\\Answered"} <= inbox[2][4][0]

    p = connect(inst, login=ALICE)
    after = everything(p)
    p.logout()
    check_same(before, after, mbox, SPECIAL)
    lists = after[3]["Lists"][2]
    assert [f for f, _ in lists.values()] == [{"\\Deleted"}]


def test_posthorn_to_dovecot(pair):
    inst, dv, mbox = pair
    p = connect(inst, login=ALICE)
    sep, _ = folders(p)
    gone = populate(p, sep)
    before = everything(p)
    p.logout()
    inbox = before[3]["INBOX"]
    assert not gone & subjects(inbox) and inbox[1] == 8
    assert SPECIAL <= set(before[1])

    dv.start()
    c = dv.imap("alice")
    after = everything(c)
    check_same(before, after, mbox)
    assert set(after[1]) == set(before[1])                 # no index files as folders
    assert not any("posthorn" in n or n.startswith(".") for n in after[1]), after[1]

    # Dovecot changes something: Posthorn sees it, with Dovecot's UIDs
    ok(c.select("INBOX"))
    ok(c.uid("STORE", str(min(inbox[2])), "+FLAGS", "($FromDovecot)"))
    data = ok(c.append("INBOX", r"(\Flagged)", DATE, msg("from dovecot")))
    ok(c.close())
    dv_state = folder_state(c, "INBOX")
    c.logout()
    dv.stop()
    m = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
    if m:
        assert int(m.group(1)) == inbox[0]
        assert int(m.group(2)) in dv_state[2]
    assert dv_state[0] == inbox[0] and dv_state[1] == inbox[1] + 1
    p = connect(inst, login=ALICE)
    now = folder_state(p, "INBOX")
    p.logout()
    assert now[0] == dv_state[0] and now[1] == dv_state[1]
    assert {u: f for u, (f, _) in now[2].items()} == {u: f for u, (f, _) in dv_state[2].items()}
    assert "$FromDovecot" in now[2][min(inbox[2])][0]
