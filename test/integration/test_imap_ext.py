"""test_imap_ext.py - imapd's IMAP extensions with imaplib and raw lines.

One Maildir instance (message_size_limit 6 MB) and one mbox instance
for the module.  Covered, each with wrong-state and bad-syntax input:
IDLE (RFC 2177: "+ idling", DONE, a message delivered over SMTP pushed as
EXISTS within a second, on Maildir and mbox; another session's flag
change and expunge pushed as FETCH and EXPUNGE; BYE when it deletes the
folder; IDLE without a folder; IDLE and DONE in one write),
UIDPLUS (APPENDUID, COPYUID, UID EXPUNGE), MOVE (COPYUID and EXPUNGE or
VANISHED), NAMESPACE, ID, ENABLE, UNSELECT, CHILDREN, SPECIAL-USE
(Drafts, Sent, Trash and Junk made and subscribed for a new user;
LIST (SPECIAL-USE)), LIST-EXTENDED (SUBSCRIBED, RECURSIVEMATCH and
CHILDINFO, \\NonExistent, several patterns, RETURN options), LIST-STATUS,
CONDSTORE (MODSEQ, STORE UNCHANGEDSINCE and [MODIFIED], SEARCH MODSEQ,
STATUS HIGHESTMODSEQ, CHANGEDSINCE), QRESYNC (SELECT with QRESYNC after
another session changed flags and expunged: VANISHED (EARLIER) and the
changed FETCHes; UID FETCH (CHANGEDSINCE n VANISHED); VANISHED instead
of EXPUNGE), and LITERAL+ (a 5 MB APPEND, byte-exact; one over
message_size_limit read, dropped and refused with the session going on).
"""

import re
import socket
import time

import pytest

from imap_helpers import (ALICE, BOB, DEMO, Raw, append_uid, apply_expunges, connect, deliver,
                          imap_instance, raw_login, still_serving, unique, untagged)

SIZE_LIMIT = 6000000


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return imap_instance(module_instance_factory,
                         main={"message_size_limit": str(SIZE_LIMIT)})


@pytest.fixture(scope="module")
def mbox_inst(module_instance_factory):
    return imap_instance(module_instance_factory, mbox=True)



def small(i):
    return b"Subject: msg %d\r\nFrom: a@example.com\r\n\r\nbody %d\r\n" % (i, i)


def folder_with(inst, count, user=ALICE, flags=None):
    name = unique("f")
    c = connect(inst, login=user)
    assert c.create(name)[0] == "OK"
    for i in range(1, count + 1):
        append_uid(c, name, small(i), flags)
    c.logout()
    return name




def uidvalidity(r, tag, name):
    line = r.ok(tag, "STATUS %s (UIDVALIDITY)" % name)[0]
    return int(re.search(r"UIDVALIDITY (\d+)", line).group(1))


def read_until(r, pred, timeout):
    """Lines until one satisfies PRED or TIMEOUT seconds pass: (lines, found)."""
    r.sock.settimeout(timeout)
    lines, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r.sock.settimeout(max(0.01, deadline - time.monotonic()))
            line = r.line()
            lines.append(line)
            if pred(line):
                return lines, True
    except socket.timeout:
        pass
    finally:
        r.sock.settimeout(15)
    return lines, False


# ------------------------------------------------------------ IDLE

def idle_start(r, tag="I"):
    r.send("%s IDLE\r\n" % tag)
    lines, ok = read_until(r, lambda l: l.startswith("+ "), 5)
    assert ok, lines
    return lines


def idle_done(r, tag="I"):
    r.send("DONE\r\n")
    lines = r.until_tagged(tag)
    assert lines[-1] == "%s OK Idle completed." % tag, lines
    return lines


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_idle_sees_smtp_delivery_within_a_second(inst, mbox_inst, kind):
    i = inst if kind == "maildir" else mbox_inst
    r = raw_login(i, BOB)
    lines = r.ok("s", "SELECT INBOX")
    exists = int([l for l in lines if l.endswith(" EXISTS")][0].split()[1])
    idle_start(r)
    subject = unique("idle-")
    deliver(i, "bob", subject, mbox=(kind == "mbox"))     # returns once it is stored
    lines, ok = read_until(r, lambda l: l == "* %d EXISTS" % (exists + 1), 1.0)
    assert ok, "no EXISTS within a second of the delivery: %r" % lines
    idle_done(r)
    lines = r.ok("f", "FETCH %d BODY.PEEK[HEADER.FIELDS (SUBJECT)]" % (exists + 1))
    assert lines[1] == ("Subject: %s\r\n\r\n" % subject).encode()
    r.close()


def test_idle_sees_other_sessions(inst):
    name = folder_with(inst, 3)
    a = raw_login(inst)
    b = raw_login(inst)
    a.ok("a", "SELECT " + name)
    b.ok("b", "SELECT " + name)
    idle_start(a)
    b.ok("c", "STORE 2 +FLAGS (\\Flagged)")
    lines, ok = read_until(a, lambda l: re.match(r"\* 2 FETCH \(FLAGS \(\\Flagged.*\)\)$", l), 2)
    assert ok, lines
    b.ok("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("e", "EXPUNGE")
    lines, ok = read_until(a, lambda l: l == "* 1 EXPUNGE", 2)
    assert ok, lines
    b.send("f APPEND %s {%d+}\r\n%s\r\n" % (name, len(small(9)), small(9).decode()))
    b.until_tagged("f")
    lines, ok = read_until(a, lambda l: l == "* 3 EXISTS", 2)
    assert ok, lines
    idle_done(a)
    assert a.ok("g", "FETCH 1:* UID")[:-1] == ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)",
                                               "* 3 FETCH (UID 4)"]
    a.close()
    b.close()


def test_idle_syntax_and_states(inst):
    r = raw_login(inst)
    assert r.cmd("a", "IDLE now")[-1].startswith("a BAD")
    # without a selected folder: nothing to report, but it works
    idle_start(r, "b")
    idle_done(r, "b")
    # DONE in any case; another line ends the IDLE with BAD
    r.ok("s", "SELECT INBOX")
    idle_start(r, "c")
    r.send("done\r\n")
    assert r.until_tagged("c")[-1] == "c OK Idle completed."
    idle_start(r, "d")
    r.send("NOOP\r\n")
    assert r.until_tagged("d")[-1].startswith("d BAD")
    still_serving(r)
    # DONE and the next command in one write
    idle_start(r, "e")
    r.send("DONE\r\nf NOOP\r\n")
    assert r.until_tagged("e")[-1] == "e OK Idle completed."
    assert r.until_tagged("f")[-1].startswith("f OK")
    # IDLE, DONE and more in one write
    r.send("g IDLE\r\nDONE\r\nh NOOP\r\n")
    lines = r.until_tagged("h")
    assert lines[0].startswith("+ ") and "g OK Idle completed." in lines, lines
    r.close()


def test_idle_folder_deleted_by_another_session(inst):
    name = folder_with(inst, 1)
    a = raw_login(inst)
    a.ok("a", "SELECT " + name)
    idle_start(a)
    b = raw_login(inst)
    b.ok("b", "DELETE " + name)
    lines, ok = read_until(a, lambda l: l.startswith("* BYE "), 3)
    assert ok and lines[-1] == "* BYE Selected mailbox was deleted or renamed, have to " \
        "disconnect.", lines
    assert a.closed()
    b.close()


# ------------------------------------------------------------ UIDPLUS, MOVE

def test_uidplus(inst):
    name = unique("u")
    target = unique("ut")
    c = connect(inst, login=ALICE)
    c.create(name)
    c.create(target)
    r = raw_login(inst)
    validity = uidvalidity(r, "v", name)
    target_validity = uidvalidity(r, "w", target)
    for i in range(1, 6):
        r.send("a APPEND %s {%d+}\r\n%s\r\n" % (name, len(small(i)), small(i).decode()))
        assert r.until_tagged("a")[-1] == \
            "a OK [APPENDUID %d %d] Append completed." % (validity, i)
    r.ok("s", "SELECT " + name)
    assert r.ok("b", "COPY 1:3,5 " + target)[-1] == \
        "b OK [COPYUID %d 1:3,5 1:4] Copy completed." % target_validity
    assert r.ok("c", "UID COPY 4 " + target)[-1] == \
        "c OK [COPYUID %d 4 5] Copy completed." % target_validity
    # UID EXPUNGE: only the \Deleted messages it names
    r.ok("d", "STORE 2,4,5 +FLAGS.SILENT (\\Deleted)")
    lines = r.ok("e", "UID EXPUNGE 1:4")
    assert untagged(lines, "EXPUNGE") == ["* 4 EXPUNGE", "* 2 EXPUNGE"] or \
        untagged(lines, "EXPUNGE") == ["* 2 EXPUNGE", "* 3 EXPUNGE"], lines
    # (this session selected the folder first: its messages are \Recent here)
    assert r.ok("f", "UID FETCH 1:* FLAGS")[:-1] == ["* 1 FETCH (UID 1 FLAGS (\\Recent))",
                                                     "* 2 FETCH (UID 3 FLAGS (\\Recent))",
                                                     "* 3 FETCH (UID 5 FLAGS (\\Deleted "
                                                     "\\Recent))"]
    assert r.ok("g", "UID EXPUNGE 1:2")[:-1] == []
    assert r.ok("h", "UID EXPUNGE *")[:-1] == ["* 3 EXPUNGE"]
    for bad in ("UID EXPUNGE", "UID EXPUNGE x", "UID EXPUNGE 1 2", "UID EXPUNGE 0:3"):
        assert r.cmd("i", bad)[-1].startswith("i BAD"), bad
    still_serving(r)
    r.close()
    # imaplib
    typ, data = c.append(target, None, None, small(7))
    assert data[0].startswith(b"[APPENDUID %d 6]" % target_validity)
    c.logout()



def test_move(inst):
    name = folder_with(inst, 5)
    target = unique("mt")
    c = connect(inst, login=ALICE)
    c.create(target)
    r = raw_login(inst)
    tv = uidvalidity(r, "v", target)
    r.ok("s", "SELECT " + name)
    r.ok("a", "STORE 2 +FLAGS ($Moved \\Answered)")
    lines = r.ok("b", "MOVE 2:3 " + target)
    assert lines[0] == "* OK [COPYUID %d 2:3 1:2] Moved UIDs." % tv, lines
    assert apply_expunges(lines, [1, 2, 3, 4, 5]) == [1, 4, 5], lines
    assert lines[-1].startswith("b OK")
    lines = r.ok("c", "UID MOVE 5 " + target)
    assert lines[0] == "* OK [COPYUID %d 5 3] Moved UIDs." % tv
    assert untagged(lines, "EXPUNGE") == ["* 3 EXPUNGE"]
    assert r.cmd("d", "MOVE 1 NoSuch" + target)[-1].startswith("d NO [TRYCREATE]")
    assert r.ok("e", "UID MOVE 90:99 " + target)[:-1] == []
    assert r.ok("f", "FETCH 1:* UID")[:-1] == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 4)"]
    for bad in ("MOVE", "MOVE 1", "MOVE 1 a b", "MOVE 0 " + target, "MOVE 9 " + target,
                "UID MOVE", "UID MOVE x " + target):
        assert r.cmd("g", bad)[-1].startswith("g BAD"), bad
    still_serving(r)
    r.close()
    # the moved messages keep their flags and bytes
    c.select(target, readonly=True)
    typ, data = c.fetch("1:3", "(UID FLAGS BODY.PEEK[])")
    assert [d[1] for d in data if isinstance(d, tuple)] == [small(2), small(3), small(5)]
    assert b"FLAGS (\\Answered \\Recent $Moved)" in data[0][0], data
    c.logout()


# ------------------------------------------------------------ NAMESPACE, ID, ENABLE, UNSELECT

def test_namespace_id_enable_unselect(inst):
    r = Raw(inst.imap_port)
    assert r.ok("a", "ID NIL") == ['* ID ("name" "Posthorn")', "a OK ID completed."]
    for bad in ("ID", "ID x", "ID NIL NIL", 'ID ("name"'):
        assert r.cmd("b", bad)[-1].startswith("b BAD"), bad
    r.login(ALICE)
    assert r.ok("c", "NAMESPACE") == ['* NAMESPACE (("" ".")) NIL NIL', "c OK Namespace completed."]
    assert r.cmd("d", "NAMESPACE x")[-1].startswith("d BAD")
    assert r.ok("e", 'ID ("name" "test" "version" "1.0")')[0] == '* ID ("name" "Posthorn")'
    for bad in ("ID", "ID x", "ID () ()"):
        assert r.cmd("f", bad)[-1].startswith("f BAD"), bad
    # ENABLE
    assert r.ok("g", "ENABLE CONDSTORE")[0] == "* ENABLED CONDSTORE"
    assert r.ok("h", "ENABLE X-NOTHING")[0] == "* ENABLED"
    lines = r.ok("i", "ENABLE QRESYNC")
    assert lines[0] in ("* ENABLED QRESYNC", "* ENABLED CONDSTORE QRESYNC"), lines
    for bad in ("ENABLE", "ENABLE (CONDSTORE)", 'ENABLE "CONDSTORE"'):
        assert r.cmd("j", bad)[-1].startswith("j BAD"), bad
    # UNSELECT: no expunge, back to the authenticated state
    name = folder_with(inst, 2)
    r.ok("k", "SELECT " + name)
    r.ok("l", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert r.cmd("m", "UNSELECT now")[-1].startswith("m BAD")
    assert r.ok("n", "UNSELECT") == ["n OK Unselect completed."]
    assert r.cmd("o", "FETCH 1 FLAGS")[-1].startswith("o BAD")
    assert r.cmd("p", "UNSELECT")[-1].startswith("p BAD")
    assert r.ok("q", "STATUS %s (MESSAGES)" % name)[0] == "* STATUS %s (MESSAGES 2)" % name
    still_serving(r)
    r.close()


# ------------------------------------------------------------ LIST extensions

def test_special_use_for_a_new_user(inst):
    r = raw_login(inst, DEMO)
    lines = r.ok("a", 'LIST "" *')
    for name, attr in (("Drafts", "\\Drafts"), ("Sent", "\\Sent"), ("Trash", "\\Trash"),
                       ("Junk", "\\Junk")):
        assert '* LIST (\\HasNoChildren %s) "." %s' % (attr, name) in lines, lines
    assert '* LIST (\\HasNoChildren) "." INBOX' in lines
    lines = r.ok("b", 'LSUB "" *')
    assert sorted(l.split()[-1] for l in lines[:-1]) == ["Drafts", "Junk", "Sent", "Trash"], lines
    lines = r.ok("c", 'LIST (SPECIAL-USE) "" *')
    assert sorted(l.split()[-1] for l in lines[:-1]) == ["Drafts", "Junk", "Sent", "Trash"], lines
    lines = r.ok("d", 'LIST "" * RETURN (SPECIAL-USE)')
    assert '* LIST (\\HasNoChildren \\Sent) "." Sent' in lines
    lines = r.ok("e", 'LIST (SUBSCRIBED) "" *')
    assert '* LIST (\\Subscribed \\HasNoChildren \\Trash) "." Trash' in lines, lines
    # they are real folders
    for name in ("Drafts", "Sent", "Trash", "Junk"):
        assert r.ok("f", "SELECT " + name)[-1] == "f OK [READ-WRITE] Select completed."
    r.close()


def test_list_extended_and_children(inst):
    top = unique("le")
    r = raw_login(inst)
    for name in ("%s", "%s.a", "%s.a.x", "%s.b", "%s.gone"):
        r.ok("a", "CREATE " + name % top)
    r.ok("b", "SUBSCRIBE %s.a.x" % top)
    r.ok("c", "SUBSCRIBE %s.b" % top)
    r.ok("d", "SUBSCRIBE %s.gone" % top)
    r.ok("e", "DELETE %s.gone" % top)                 # the subscription stays
    # CHILDREN
    lines = r.ok("f", 'LIST "" %s*' % top)[:-1]
    assert lines == ['* LIST (\\HasChildren) "." %s' % top,
                     '* LIST (\\HasChildren) "." %s.a' % top,
                     '* LIST (\\HasNoChildren) "." %s.a.x' % top,
                     '* LIST (\\HasNoChildren) "." %s.b' % top], lines
    # (SUBSCRIBED): subscribed names only, \NonExistent for the deleted one
    lines = r.ok("g", 'LIST (SUBSCRIBED) "" %s*' % top)[:-1]
    assert lines == ['* LIST (\\Subscribed \\HasNoChildren) "." %s.a.x' % top,
                     '* LIST (\\Subscribed \\HasNoChildren) "." %s.b' % top,
                     '* LIST (\\NonExistent \\Subscribed) "." %s.gone' % top], lines
    # RECURSIVEMATCH: a parent with subscribed children gets CHILDINFO
    lines = r.ok("h", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" %s.%%' % top)[:-1]
    assert lines == ['* LIST (\\HasChildren) "." %s.a ("CHILDINFO" ("SUBSCRIBED"))' % top,
                     '* LIST (\\Subscribed \\HasNoChildren) "." %s.b' % top,
                     '* LIST (\\NonExistent \\Subscribed) "." %s.gone' % top], lines
    # RETURN (SUBSCRIBED CHILDREN): every folder, subscriptions marked
    lines = r.ok("i", 'LIST "" %s.* RETURN (SUBSCRIBED CHILDREN)' % top)[:-1]
    assert lines == ['* LIST (\\HasChildren) "." %s.a' % top,
                     '* LIST (\\Subscribed \\HasNoChildren) "." %s.a.x' % top,
                     '* LIST (\\Subscribed \\HasNoChildren) "." %s.b' % top], lines
    # several patterns
    lines = r.ok("j", 'LIST "" (%s.a %s.b INBOX)' % (top, top))[:-1]
    assert lines == ['* LIST (\\HasNoChildren) "." INBOX',
                     '* LIST (\\HasChildren) "." %s.a' % top,
                     '* LIST (\\HasNoChildren) "." %s.b' % top], lines
    # a child deleted: \HasNoChildren
    r.ok("k", "DELETE %s.a.x" % top)
    assert r.ok("l", 'LIST "" %s.a' % top)[0] == '* LIST (\\HasNoChildren) "." %s.a' % top
    for bad in ('LIST (FOO) "" *', 'LIST (RECURSIVEMATCH) "" *', 'LIST "" * RETURN (FOO)',
                'LIST "" * RETURN', 'LIST "" * FOO (CHILDREN)', 'LIST "" * RETURN CHILDREN',
                'LIST "" ()', 'LIST "" (a (b))', 'LSUB "" (a b)', 'LIST (SUBSCRIBED "" *',
                'LIST "" * RETURN (STATUS)', 'LIST "" * RETURN (STATUS (FOO))',
                'LIST "" * RETURN (STATUS MESSAGES)'):
        assert r.cmd("m", bad)[-1].startswith("m BAD"), bad
    still_serving(r)
    r.close()


def test_list_status(inst):
    top = unique("ls")
    c = connect(inst, login=ALICE)
    c.create(top + ".one")
    c.create(top + ".two")
    for i in range(3):
        append_uid(c, top + ".one", small(i), r"(\Seen)" if i == 0 else None)
    c.logout()
    r = raw_login(inst)
    lines = r.ok("a", 'LIST "" %s* RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))' % top)[:-1]
    assert lines == ['* LIST (\\Noselect \\HasChildren) "." %s' % top,
                     '* LIST (\\HasNoChildren) "." %s.one' % top,
                     '* STATUS %s.one (MESSAGES 3 UIDNEXT 4 UNSEEN 2)' % top,
                     '* LIST (\\HasNoChildren) "." %s.two' % top,
                     '* STATUS %s.two (MESSAGES 0 UIDNEXT 1 UNSEEN 0)' % top], lines
    # the selected folder too, with its current numbers
    r.ok("b", "SELECT %s.one" % top)
    r.ok("c", "STORE 2 +FLAGS.SILENT (\\Seen)")
    lines = r.ok("d", 'LIST "" %s.one RETURN (CHILDREN STATUS (UNSEEN))' % top)[:-1]
    assert lines == ['* LIST (\\HasNoChildren) "." %s.one' % top,
                     '* STATUS %s.one (UNSEEN 1)' % top], lines
    r.close()


# ------------------------------------------------------------ CONDSTORE

def modseqs(lines):
    """{number: modseq} of the FETCH responses."""
    out = {}
    for line in lines:
        m = re.match(r"\* (\d+) FETCH .*MODSEQ \((\d+)\)", line) if isinstance(line, str) else None
        if m:
            out[int(m.group(1))] = int(m.group(2))
    return out


def test_condstore(inst):
    name = folder_with(inst, 4)
    r = raw_login(inst)
    lines = r.ok("a", "SELECT %s (CONDSTORE)" % name)
    highest = int(re.search(r"\[HIGHESTMODSEQ (\d+)\]", "\n".join(lines)).group(1))
    ms = modseqs(r.ok("b", "FETCH 1:* (MODSEQ)"))
    assert sorted(ms) == [1, 2, 3, 4] and max(ms.values()) == highest and min(ms.values()) > 0
    status = r.ok("c", "STATUS %s (HIGHESTMODSEQ MESSAGES)" % name)[0]
    assert "HIGHESTMODSEQ %d" % highest in status
    # a change raises the MODSEQ past HIGHESTMODSEQ; STORE answers with it
    lines = r.ok("d", "STORE 1 +FLAGS (\\Seen)")
    m1 = modseqs(lines)[1]
    assert m1 > highest and lines[0].startswith("* 1 FETCH (FLAGS (\\Seen \\Recent)"), lines
    # UNCHANGEDSINCE: message 1 changed after HIGHEST, message 2 did not
    lines = r.ok("e", "STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\\Flagged)" % highest)
    assert lines[-1].startswith("e OK [MODIFIED 1]"), lines
    assert list(modseqs(lines)) == [2], lines
    assert "\\Flagged" not in r.ok("f", "FETCH 1 FLAGS")[0]
    lines = r.ok("g", "UID STORE 1:2 (UNCHANGEDSINCE 0) -FLAGS (\\Flagged)")
    assert lines[-1].startswith("g OK [MODIFIED 1:2]") or \
        lines[-1].startswith("g OK [MODIFIED 1,2]"), lines
    # SEARCH MODSEQ: the messages changed since, with the highest MODSEQ among them
    m2 = modseqs(r.ok("h", "FETCH 2 MODSEQ"))[2]
    lines = r.ok("i", "SEARCH MODSEQ %d" % (highest + 1))
    assert lines[0] == "* SEARCH 1 2 (MODSEQ %d)" % max(m1, m2), lines
    lines = r.ok("j", 'SEARCH MODSEQ "/flags/\\\\seen" all %d' % (highest + 1))
    assert lines[0] == "* SEARCH 1 2 (MODSEQ %d)" % max(m1, m2), lines
    assert r.ok("k", "SEARCH MODSEQ %d" % (max(m1, m2) + 1))[0] == "* SEARCH"
    # CHANGEDSINCE
    lines = r.ok("l", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % highest)[:-1]
    assert sorted(modseqs(lines)) == [1, 2], lines
    assert r.ok("m", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % max(m1, m2))[:-1] == []
    status = r.ok("n", "STATUS %s (HIGHESTMODSEQ)" % name)[0]
    assert status == "* STATUS %s (HIGHESTMODSEQ %d)" % (name, max(m1, m2)), status
    # another session's change comes with its MODSEQ
    b = raw_login(inst)
    b.ok("o", "SELECT " + name)
    b.ok("p", "STORE 3 +FLAGS (\\Answered)")
    lines = r.ok("q", "NOOP")
    assert re.match(r"\* 3 FETCH \(UID 3 FLAGS \(\\Answered \\Recent\) MODSEQ \((\d+)\)\)$",
                    lines[0]), lines
    assert modseqs(lines)[3] > max(m1, m2)
    b.close()
    for bad in ("STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)",
                "STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)",
                "STORE 1 (FOO 1) +FLAGS (\\Seen)", "FETCH 1 (FLAGS) (CHANGEDSINCE)",
                "FETCH 1 (FLAGS) (CHANGEDSINCE -1)", "FETCH 1 (FLAGS) (FOO 1)",
                "SEARCH MODSEQ", "SEARCH MODSEQ x", 'SEARCH MODSEQ "/flags/x" bogus 1',
                "SELECT %s (FOO)" % name, "SELECT %s (CONDSTORE" % name,
                "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)"):
        assert r.cmd("z", bad)[-1].startswith("z BAD"), bad
    still_serving(r)
    r.close()


# ------------------------------------------------------------ QRESYNC

def test_qresync(inst):
    name = folder_with(inst, 6)
    # what a client remembers from an earlier session
    r = raw_login(inst)
    lines = r.ok("a", "SELECT %s (CONDSTORE)" % name)
    validity = int(re.search(r"\[UIDVALIDITY (\d+)\]", "\n".join(lines)).group(1))
    highest = int(re.search(r"\[HIGHESTMODSEQ (\d+)\]", "\n".join(lines)).group(1))
    r.ok("b", "LOGOUT")
    # meanwhile another session changes flags and expunges
    b = raw_login(inst)
    b.ok("c", "SELECT " + name)
    b.ok("d", "STORE 2 +FLAGS (\\Flagged)")
    b.ok("e", "STORE 3,5 +FLAGS.SILENT (\\Deleted)")
    b.ok("f", "EXPUNGE")
    b.ok("g", "UID STORE 6 +FLAGS ($Seen2)")
    # the client comes back: VANISHED (EARLIER) and the changed messages only
    r = raw_login(inst)
    assert r.cmd("h", "SELECT %s (QRESYNC (%d %d))" % (name, validity, highest))[-1].startswith(
        "h BAD")                                # QRESYNC not enabled yet
    assert r.ok("i", "ENABLE QRESYNC")[0].startswith("* ENABLED")
    lines = r.ok("j", "SELECT %s (QRESYNC (%d %d))" % (name, validity, highest))
    assert "* 4 EXISTS" in lines
    assert untagged(lines, "VANISHED") == ["* VANISHED (EARLIER) 3,5"] or \
        untagged(lines, "VANISHED") == ["* VANISHED (EARLIER) 5,3"], lines
    fetches = untagged(lines, "FETCH")
    assert len(fetches) == 2, lines
    assert re.match(r"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$", fetches[0])
    assert re.match(r"\* 4 FETCH \(UID 6 FLAGS \(\$Seen2\) MODSEQ \(\d+\)\)$", fetches[1])
    new_highest = int(re.search(r"\[HIGHESTMODSEQ (\d+)\]", "\n".join(lines)).group(1))
    assert new_highest > highest
    # with the known UIDs: only those that vanished among them
    lines = r.ok("k", "SELECT %s (QRESYNC (%d %d 1:4))" % (name, validity, highest))
    assert untagged(lines, "VANISHED") == ["* VANISHED (EARLIER) 3"], lines
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed.", lines
    # a wrong UIDVALIDITY: a plain SELECT
    lines = r.ok("l", "SELECT %s (QRESYNC (%d %d))" % (name, validity + 1, highest))
    assert not untagged(lines, "VANISHED") and not untagged(lines, "FETCH"), lines
    # UID FETCH ... (CHANGEDSINCE n VANISHED)
    lines = r.ok("m", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % highest)
    assert untagged(lines, "VANISHED")[0] in ("* VANISHED (EARLIER) 3,5",
                                               "* VANISHED (EARLIER) 3:5",
                                               "* VANISHED (EARLIER) 5,3"), lines
    assert [re.sub(r"MODSEQ \(\d+\)", "M", l) for l in untagged(lines, "FETCH")] == \
        ["* 2 FETCH (UID 2 FLAGS (\\Flagged) M)", "* 4 FETCH (UID 6 FLAGS ($Seen2) M)"], lines
    # live: another session's expunge is VANISHED, not EXPUNGE
    b.ok("n", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("o", "EXPUNGE")
    lines = r.ok("p", "NOOP")
    assert untagged(lines, "VANISHED") == ["* VANISHED 1"] and not untagged(lines, "EXPUNGE"), \
        lines
    # ... and our own EXPUNGE and MOVE too
    r.ok("q", "STORE 1 +FLAGS.SILENT (\\Deleted)")       # UID 2
    lines = r.ok("r", "EXPUNGE")
    assert untagged(lines, "VANISHED") == ["* VANISHED 2"], lines
    assert re.match(r"r OK \[HIGHESTMODSEQ \d+\]", lines[-1]), lines
    lines = r.ok("s", "MOVE 1 INBOX")
    assert untagged(lines, "VANISHED") == ["* VANISHED 4"], lines
    for bad in ("SELECT %s (QRESYNC)" % name, "SELECT %s (QRESYNC ())" % name,
                "SELECT %s (QRESYNC (x 1))" % name, "SELECT %s (QRESYNC (1))" % name,
                "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)",
                "UID FETCH 1:* (FLAGS) (VANISHED)"):
        assert r.cmd("t", bad)[-1].startswith("t BAD"), bad
    r.close()
    b.close()


# ------------------------------------------------------------ LITERAL+, big messages

def test_literal_plus_big_append(inst):
    body = b"".join(b"line %07d of a big message, with some text to fill it up\r\n" % i
                    for i in range(85000))
    big = b"Subject: big\r\nFrom: a@example.com\r\n\r\n" + body
    assert 5000000 < len(big) < SIZE_LIMIT
    name = unique("big")
    r = raw_login(inst)
    r.ok("a", "CREATE " + name)
    r.send(b"b APPEND %s {%d+}\r\n" % (name.encode(), len(big)) + big + b"\r\n")
    lines = r.until_tagged("b")
    assert re.match(r"b OK \[APPENDUID \d+ 1\]", lines[-1]), lines
    # a synchronizing literal of the same size: "+" first
    r.send(b"c APPEND %s {%d}\r\n" % (name.encode(), len(big)))
    assert r.line().startswith("+ ")
    r.send(big + b"\r\n")
    assert re.match(r"c OK \[APPENDUID \d+ 2\]", r.until_tagged("c")[-1])
    r.ok("d", "SELECT " + name)
    lines = r.ok("e", "FETCH 1:2 (RFC822.SIZE BODY.PEEK[])")
    assert [l for l in lines if isinstance(l, bytes)] == [big, big]
    assert "RFC822.SIZE %d" % len(big) in lines[0]
    # over message_size_limit: LITERAL+ bytes are read and dropped, "{N}" refused first
    too_big = big + body[:SIZE_LIMIT - len(big) + 1000]
    r.send(b"f APPEND %s {%d+}\r\n" % (name.encode(), len(too_big)) + too_big + b"\r\n")
    assert r.until_tagged("f")[-1].startswith("f NO [TOOBIG]")
    still_serving(r, "z1")
    r.send(b"g APPEND %s {%d}\r\n" % (name.encode(), len(too_big)))
    assert r.line().startswith("g NO [TOOBIG]")
    still_serving(r, "z2")
    assert r.ok("h", "STATUS %s (MESSAGES)" % name)[0] == "* STATUS %s (MESSAGES 2)" % name
    r.close()
