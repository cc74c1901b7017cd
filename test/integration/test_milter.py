"""test_milter.py - smtpd_milters and non_smtpd_milters with a filter
written for the tests (milter_server.py, the protocol spoken in Python)
and with one on Sendmail's own libmilter (test/unit/milter_libmilter.c).

Shown: every SMTP step reaches the filter in order with Postfix's default
macros (our own Received: header is not shown to it); every edit
(add/insert/change/delete header, replace body, add/delete recipient,
change sender, quarantine) lands in the delivered message and envelope;
a second filter sees the first one's edits; refusals at each step
(connect, HELO, MAIL, RCPT, DATA, header, end of message), reply codes,
discard, quarantine to hold/ and 421 shutdown, each logged as Postfix
logs it; each SMFIP_* flag (steps left out, no replies, SMFIP_SKIP,
rejected recipients with {rcpt_mailer} error, leading spaces); a filter
that hangs or closes gets milter_default_action within its timeouts
while another session goes on; local submission goes through
non_smtpd_milters; receive_override_options = no_milters leaves them out.
"""

import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from milter_server import (MilterServer, cstr, NOCONNECT, NOHELO, NOMAIL,
                           NORCPT, NOBODY, NOHDRS, NOEOH, NOUNKNOWN, NODATA,
                           SKIP, RCPT_REJ, NR_CONN, NR_HELO, NR_MAIL, NR_RCPT,
                           NR_DATA, NR_UNKN, NR_EOH, NR_BODY, NR_HDR, HDR_LEADSPC)
from posthorn_instance import DOMAIN, RawSMTP, build_dir, free_port, wait_until

ALICE = "alice@" + DOMAIN
BOB = "bob@" + DOMAIN
MESSAGE = ("From: Sender <sender@example.com>\r\nTo: alice@posthorn.test\r\n"
           "Subject: hello\r\nX-Remove: this goes\r\nX-Remove: this stays\r\n"
           "\r\nfirst line\r\n.dotted line\r\nlast line\r\n")


def start(make_instance, milters, main=None, **kw):
    """An instance with smtpd_milters = the MILTERS' specs."""
    params = {"smtpd_milters": ", ".join(m.spec for m in milters),
              "milter_command_timeout": "3s", "milter_content_timeout": "5s",
              "milter_connect_timeout": "3s"}
    params.update(main or {})
    inst = make_instance(main=params, **kw)
    for m in milters:
        forget_probe(m)
    return inst


def forget_probe(m):
    """Forget the session of the instance's start-up probe."""
    assert wait_until(lambda: all(s.closed for s in m.sessions), 5)
    m.sessions.clear()


def transaction(inst, rcpts=(ALICE,), sender="sender@example.com", message=MESSAGE,
                helo="EHLO client.example"):
    """Replies of one session: greeting, HELO, MAIL, RCPTs, DATA, end."""
    c = RawSMTP(inst.port, timeout=30)
    replies = [c.greeting]
    try:
        for line in [helo, "MAIL FROM:<%s>" % sender] + ["RCPT TO:<%s>" % r for r in rcpts]:
            replies.append(c.cmd(line))
            if replies[-1][0] == 421:
                return replies
        replies.append(c.cmd("DATA"))
        if replies[-1][0] == 354:
            data = message.replace("\r\n.", "\r\n..")
            replies.append(c.cmd(data + "."))
            if replies[-1][0] == 421:
                return replies
        c.cmd("QUIT")
    except EOFError:
        replies.append((0, "closed"))
    finally:
        c.close()
    return replies


def in_hold(inst, queue_id):
    """QUEUE_ID is a file in hold/."""
    return any(os.path.basename(p) == queue_id for p in inst.queue_files("hold"))


def delivered(inst, user, timeout=15):
    """The one message in USER's Maildir."""
    assert inst.wait_for_maildir(user, 1, timeout=timeout), inst.log_tail(30)
    return inst.maildir_messages(user)[0]


@pytest.fixture
def milter(tmp_path):
    made = []

    def make(**kw):
        m = MilterServer(port=free_port(), **kw)
        made.append(m)
        return m
    yield make
    for m in made:
        m.stop()


def test_every_step_in_order_with_macros(make_instance, milter):
    m = milter()
    inst = start(make_instance, [m])
    replies = transaction(inst, rcpts=(ALICE, BOB))
    assert [r[0] for r in replies] == [220, 250, 250, 250, 250, 354, 250], replies
    queue_id = replies[-1][1].split()[-1]
    assert delivered(inst, "alice")
    s = m.sessions[0]
    assert wait_until(lambda: s.closed, 5)
    assert s.commands == ["C", "H", "M", "R", "R", "T", "L", "L", "L", "L", "L",
                          "N", "B", "E"], s.commands
    assert s.connect == ("unknown", "4", s.connect[2], "127.0.0.1")
    assert s.helo == "client.example"
    assert s.mail == ["<sender@example.com>"]
    assert s.rcpts == [["<%s>" % ALICE], ["<%s>" % BOB]]
    # Our Received: is not shown; the client's headers are, as sent
    assert s.headers[0] == ("From", "Sender <sender@example.com>")
    assert ("X-Remove", "this stays") in s.headers
    assert s.body == b"first line\r\n.dotted line\r\nlast line\r\n"
    mac = s.macros
    assert mac["j"] == "mail." + DOMAIN
    assert mac["{daemon_name}"] == "mail." + DOMAIN
    assert mac["{daemon_addr}"] == "127.0.0.1"
    assert mac["v"].startswith("Posthorn ")
    assert mac["_"] == "unknown [127.0.0.1]"
    assert mac["{mail_addr}"] == "sender@example.com"
    assert mac["{mail_mailer}"] == "smtp" and mac["{mail_host}"] == "example.com"
    assert mac["{rcpt_addr}"] == BOB and mac["{rcpt_mailer}"] == "local"
    assert mac["i"] == queue_id
    assert inst.wait_for_log(r"%s: client=unknown\[127\.0\.0\.1\]" % queue_id)


def every_edit(session):
    """Every modification the protocol has (SMFIR_*)."""
    return [("h", cstr("X-Added", "added at the end")),
            ("i", struct.pack("!I", 0) + cstr("X-Top", "above everything")),
            ("m", struct.pack("!I", 1) + cstr("Subject", "changed subject")),
            ("m", struct.pack("!I", 1) + cstr("X-Remove", "")),
            ("h", cstr("X-Folded", "first\n\tsecond")),
            ("b", b"replaced body\r\n"), ("b", b"in two pieces\r\n"),
            ("+", cstr("<bob@posthorn.test>")),
            ("2", cstr("<carol@posthorn.test>", "NOTIFY=NEVER")),
            ("-", cstr("<alice@posthorn.test>")),
            ("e", cstr("<changed@example.org>")),
            ("h", cstr("X-Inject", "one\nBcc: evil@example.com"))]


def test_every_edit_is_applied(make_instance, milter):
    m = milter(edits=every_edit)
    inst = start(make_instance, [m], users=("alice", "bob", "carol"))
    replies = transaction(inst)
    assert replies[-1][0] == 250, replies
    msg = delivered(inst, "bob")
    head, body = msg.split(b"\n\n", 1)
    lines = head.split(b"\n")
    # Delivery adds Return-Path and Delivered-To on top; then X-Top, then ours
    top = [l for l in lines if not l.startswith((b"Return-Path:", b"Delivered-To:"))]
    assert top[0] == b"X-Top: above everything", lines
    assert top[1].startswith(b"Received: from client.example")
    assert b"Return-Path: <changed@example.org>" in lines
    assert b"Subject: changed subject" in lines and b"Subject: hello" not in lines
    assert b"X-Remove: this stays" in lines and b"X-Remove: this goes" not in lines
    # A value's line break never starts a header of its own
    assert lines[-5:] == [b"X-Added: added at the end", b"X-Folded: first", b"\tsecond",
                          b"X-Inject: one", b"\tBcc: evil@example.com"]
    assert body == b"replaced body\nin two pieces\n"
    assert delivered(inst, "carol")
    time.sleep(1)
    assert inst.maildir_messages("alice") == []


def test_second_filter_sees_first_ones_edits(make_instance, milter):
    first = milter(edits=lambda s: [("h", cstr("X-First", "was here")),
                                    ("m", struct.pack("!I", 1) + cstr("Subject", "by first"))])
    second = milter(edits=lambda s: [("h", cstr("X-Second", "saw %d headers" % len(s.headers)))])
    inst = start(make_instance, [first, second])
    assert transaction(inst)[-1][0] == 250
    msg = delivered(inst, "alice")
    assert b"X-First: was here" in msg and b"X-Second: saw 6 headers" in msg
    assert ("X-First", "was here") in second.sessions[0].headers
    assert ("Subject", "by first") in second.sessions[0].headers


def test_refusals_at_each_step(make_instance, milter):
    """Which step refuses is decided by the sender and recipients."""
    def when(session, letter, data):
        text = data.decode("latin-1")
        if letter == "M" and "tempfail" in text:
            return "tempfail"
        if letter == "M" and "coded" in text:
            return ("553", "5.7.9 Sender refused by filter")
        if letter == "R" and "bob" in text:
            return "reject"
        if letter == "T" and session.mail and "nodata" in session.mail[0]:
            return "reject"
        if letter == "L" and b"Subject\0bad" in data:
            return ("554", "5.7.1 Bad header")
        if letter == "E" and session.mail and "bounce" in session.mail[0]:
            return ("550", "5.7.1 Message content rejected")
        return None
    m = milter(when=when)
    inst = start(make_instance, [m])
    r = transaction(inst, sender="tempfail@example.com")
    assert r[2] == (451, "4.7.1 Service unavailable - try again later"), r
    r = transaction(inst, sender="coded@example.com")
    assert r[2] == (553, "5.7.9 Sender refused by filter"), r
    r = transaction(inst, rcpts=(BOB, ALICE))
    assert r[3] == (550, "5.7.1 Command rejected") and r[4][0] == 250, r
    assert r[-1][0] == 250
    r = transaction(inst, sender="nodata@example.com")
    assert r[4] == (550, "5.7.1 Command rejected"), r
    r = transaction(inst, message="Subject: bad\r\n\r\nbody\r\n")
    assert r[-1] == (554, "5.7.1 Bad header"), r
    r = transaction(inst, sender="bounce@example.com")
    assert r[-1] == (550, "5.7.1 Message content rejected"), r
    assert inst.wait_for_log(r"NOQUEUE: milter-reject: MAIL from unknown\[127\.0\.0\.1\]: "
                             r"451 4\.7\.1 Service unavailable - try again later; "
                             r"from=<tempfail@example\.com> proto=ESMTP helo=<client\.example>")
    assert inst.wait_for_log(r"NOQUEUE: milter-reject: RCPT from unknown\[127\.0\.0\.1\]: "
                             r"550 5\.7\.1 Command rejected; from=<sender@example\.com> "
                             r"to=<bob@posthorn\.test> proto=ESMTP")
    assert inst.wait_for_log(r"[0-9A-F]+: milter-reject: END-OF-MESSAGE from "
                             r"unknown\[127\.0\.0\.1\]: 5\.7\.1 Message content rejected; "
                             r"from=<bounce@example\.com> to=<alice@posthorn\.test> proto=ESMTP")
    # Only the one good message was delivered; nothing refused is queued
    assert delivered(inst, "alice")
    time.sleep(0.5)
    assert len(inst.maildir_messages("alice")) == 1
    assert inst.queue_empty(("incoming", "active", "deferred", "hold"))


def test_connect_and_helo_refusals(make_instance, milter):
    armed = []					# not for the start-up probe
    m = milter(when=lambda s, letter, data: "reject" if letter == "C" and armed else None)
    inst = start(make_instance, [m])
    armed.append(1)
    c = RawSMTP(inst.port)
    assert c.greeting[0] == 554 and "not accepting connections" in c.greeting[1]
    assert c.cmd("EHLO client.example") == (250, "mail.%s\nENHANCEDSTATUSCODES" % DOMAIN)
    assert c.cmd("MAIL FROM:<a@example.com>") == (550, "5.7.1 Command rejected")
    c.close()
    assert inst.wait_for_log(r"NOQUEUE: milter-reject: CONNECT from unknown\[127\.0\.0\.1\]: "
                             r"550 5\.7\.1 Command rejected; proto=SMTP")
    m2 = milter(replies={"H": ("421", "4.7.0 Go away now")})
    inst2 = start(make_instance, [m2])
    c = RawSMTP(inst2.port)
    assert c.greeting[0] == 220
    assert c.cmd("HELO client.example") == (421, "4.7.0 Go away now")
    assert c.closed()


def test_discard_quarantine_and_shutdown(make_instance, milter):
    def when(session, letter, data):
        if letter != "E" or not session.mail:
            return None
        if "discard" in session.mail[0]:
            return "discard"
        if "shutdown" in session.mail[0]:
            return ("421", "4.7.0 Filter shutting down")
        return None

    def edits(session):
        if session.mail and "hold" in session.mail[0]:
            return [("q", cstr("looks like spam"))]
        return []
    m = milter(when=when, edits=edits)
    inst = start(make_instance, [m])
    r = transaction(inst, sender="discard@example.com")
    assert r[-1][0] == 250 and "queued as" in r[-1][1], r
    assert inst.wait_for_log(r"milter-discard: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: "
                             r"milter triggers DISCARD action; from=<discard@example\.com>")
    r = transaction(inst, sender="hold@example.com")
    assert r[-1][0] == 250, r
    held = r[-1][1].split()[-1]
    assert wait_until(lambda: in_hold(inst, held), 5)
    assert inst.wait_for_log(r"%s: milter-hold: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: "
                             r"milter triggers HOLD action" % held)
    r = transaction(inst, sender="shutdown@example.com")
    assert r[-1] == (421, "4.7.0 Filter shutting down"), r
    time.sleep(1)
    assert inst.maildir_messages("alice") == []


def test_skipped_steps_are_not_sent(make_instance, milter):
    m = milter(protocol=NOCONNECT | NOHELO | NOMAIL | NORCPT | NODATA | NOHDRS
               | NOEOH | NOBODY | NOUNKNOWN)
    inst = start(make_instance, [m])
    c = RawSMTP(inst.port)
    assert c.cmd("XYZZY")[0] == 502
    c.close()
    assert transaction(inst)[-1][0] == 250
    assert delivered(inst, "alice")
    assert wait_until(lambda: len(m.sessions) == 2 and m.sessions[1].closed, 5)
    assert m.sessions[0].commands == [] and m.sessions[1].commands == ["E"]


def test_no_reply_flags(make_instance, milter):
    """The filter answers nothing it asked not to (SMFIP_NR_*); a reply
    would be taken for the next step's and break the session."""
    m = milter(protocol=NR_CONN | NR_HELO | NR_MAIL | NR_RCPT | NR_DATA | NR_UNKN
               | NR_EOH | NR_BODY | NR_HDR,
               edits=lambda s: [("h", cstr("X-After-Silence", "yes"))])
    inst = start(make_instance, [m])
    c = RawSMTP(inst.port)
    assert c.cmd("XYZZY")[0] == 502
    c.close()
    assert transaction(inst, rcpts=(ALICE, BOB))[-1][0] == 250
    assert b"X-After-Silence: yes" in delivered(inst, "alice")
    assert m.sessions[1].commands[-1] == "E"


def test_skip_rcpt_rej_and_leading_space(make_instance, milter):
    big = "x" * 70 + "\r\n"
    body = big * 2000				# > one 64 KiB chunk
    m = milter(protocol=SKIP | RCPT_REJ | HDR_LEADSPC,
               when=lambda s, letter, data: "skip" if letter == "B" else None)
    inst = start(make_instance, [m])
    r = transaction(inst, rcpts=("nosuchuser@posthorn.test", ALICE),
                    message="Subject:  two spaces\r\n\r\n" + body)
    assert r[3][0] == 550 and r[4][0] == 250 and r[-1][0] == 250, r
    s = m.sessions[0]
    assert wait_until(lambda: s.closed, 5)
    assert s.commands.count("B") == 1 and len(s.body) == 65535
    assert s.rcpts[0] == ["<nosuchuser@posthorn.test>"]
    assert s.headers[0] == ("Subject", "  two spaces")
    msg = delivered(inst, "alice")
    assert msg.count(b"x" * 70) == 2000


def test_rejected_recipient_macros(make_instance, milter):
    seen = {}

    def when(session, letter, data):
        if letter == "R" and "nosuchuser" in data.decode():
            seen.update(session.macros)
        return None
    m = milter(protocol=RCPT_REJ, when=when)
    inst = start(make_instance, [m])
    transaction(inst, rcpts=("nosuchuser@posthorn.test", ALICE))
    assert seen["{rcpt_mailer}"] == "error"
    assert seen["{rcpt_host}"] == "5.1.1"
    assert "User unknown" in seen["{rcpt_addr}"]


def test_hung_filter_gets_default_action_others_go_on(make_instance, milter):
    """A filter that never answers MAIL from "hang@": that session gets
    milter_default_action (tempfail) after milter_command_timeout, and a
    second session is served meanwhile."""
    m = milter(when=lambda s, letter, data: "hang" if letter == "M" and b"hang" in data else None)
    inst = start(make_instance, [m], main={"milter_command_timeout": "3s"})
    result = {}

    def hung():
        t0 = time.time()
        result["replies"] = transaction(inst, sender="hang@example.com")
        result["seconds"] = time.time() - t0
    t = threading.Thread(target=hung)
    t.start()
    assert wait_until(lambda: any(s.mail for s in m.sessions), 5)
    t0 = time.time()
    other = transaction(inst)
    other_seconds = time.time() - t0
    t.join(30)
    assert other[-1][0] == 250 and other_seconds < 2, (other, other_seconds)
    assert result["replies"][2] == (451, "4.7.1 Service unavailable - try again later")
    assert 2.5 < result["seconds"] < 10, result
    assert inst.wait_for_log(r"milter inet:127\.0\.0\.1:\d+: can't read SMFIC_MAIL reply "
                             r"packet header: .*timed out")


def test_dead_filter_default_actions(make_instance, milter):
    # Nobody listens: accept lets mail through, tempfail holds it back,
    # reject refuses the connection (554 greeting, 550 to MAIL), as Postfix
    port = free_port()
    for action, greeting, code in (("accept", 220, 250), ("tempfail", 220, 451),
                                   ("reject", 554, 550)):
        inst = make_instance(main={"smtpd_milters": "inet:127.0.0.1:%d" % port,
                                   "milter_default_action": action}, start=False)
        assert inst.posthorn("start").returncode == 0
        inst.running = True
        assert wait_until(lambda: inst.log().count("connect to Milter service") > 0
                          or inst.greets(), 10)
        r = transaction(inst)
        assert r[0][0] == greeting and r[2][0] == code, (action, r)
        inst.stop()
    assert inst.wait_for_log(r"warning: connect to Milter service inet:127\.0\.0\.1:%d: "
                             r"Connection refused" % port)
    # A filter that closes the connection in the middle of the body
    m = milter(replies={"B": "close"})
    inst = start(make_instance, [m])
    r = transaction(inst)
    assert r[-1] == (451, "4.7.1 Service unavailable - try again later"), r
    inst2 = start(make_instance, [m], main={"milter_default_action": "quarantine"})
    r = transaction(inst2)
    assert r[-1][0] == 250, r
    held = r[-1][1].split()[-1]
    assert wait_until(lambda: in_hold(inst2, held), 5)


def test_unknown_command_reply(make_instance, milter):
    m = milter(replies={"U": ("550", "5.5.1 Filter says no such command")})
    inst = start(make_instance, [m])
    c = RawSMTP(inst.port)
    assert c.cmd("XYZZY plugh") == (550, "5.5.1 Filter says no such command")
    c.close()
    assert wait_until(lambda: m.sessions and m.sessions[0].unknown == ["XYZZY"], 5)


def test_local_submission_uses_non_smtpd_milters(make_instance, milter):
    smtp_filter = milter()
    local_filter = milter(edits=lambda s: [("h", cstr("X-Local-Filter", "signed"))])
    inst = make_instance(main={"smtpd_milters": smtp_filter.spec,
                               "non_smtpd_milters": local_filter.spec})
    forget_probe(smtp_filter)
    r = inst.sendmail(["-f", ALICE, BOB], "Subject: local\n\nhello\n")
    assert r.returncode == 0, r.stderr
    msg = delivered(inst, "bob")
    assert b"X-Local-Filter: signed" in msg
    assert smtp_filter.sessions == []
    assert local_filter.sessions[0].connect[0] == "localhost"
    # From:, Date: and Message-Id: that the submission adds are shown too
    names = [h[0] for h in local_filter.sessions[0].headers]
    assert {"From", "Date", "Message-Id"} <= set(names)


def test_no_milters_override(make_instance, milter):
    m = milter(replies={"M": "reject"})
    inst = start(make_instance, [m], main={"receive_override_options": "no_milters"})
    assert transaction(inst)[-1][0] == 250
    assert m.sessions == []


def test_bdat_goes_through_the_filters(make_instance, milter):
    m = milter(edits=lambda s: [("h", cstr("X-Chunked", "yes"))])
    inst = start(make_instance, [m])
    c = RawSMTP(inst.port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % ALICE)[0] == 250
    data = b"Subject: chunks\r\n\r\nbody\r\n"
    c.send(b"BDAT %d LAST\r\n" % len(data) + data)
    assert c.reply()[0] == 250
    c.close()
    assert b"X-Chunked: yes" in delivered(inst, "alice")
    assert "T" in m.sessions[0].commands


def test_libmilter_reference_filter(make_instance):
    """The filter on Sendmail's libmilter applies every edit it has."""
    binary = os.path.join(build_dir(), "test", "milter_libmilter")
    if not os.access(binary, os.X_OK):
        pytest.skip("test/unit/milter_libmilter not built (make build/test/milter_libmilter)")
    where = tempfile.mkdtemp(dir="/tmp")	# smtpd (mail_owner) must reach it
    os.chmod(where, 0o755)
    sock = os.path.join(where, "libmilter.sock")
    proc = subprocess.Popen([binary, "unix:" + sock])
    try:
        assert wait_until(lambda: os.path.exists(sock), 5)
        os.chmod(sock, 0o666)
        inst = make_instance(main={"smtpd_milters": "unix:" + sock})
        r = transaction(inst, rcpts=(ALICE, "bob@example.net"),
                        message="Subject: hello\r\nX-Remove: x\r\n\r\nold body\r\n")
        assert r[3][0] == 250 and r[-1][0] == 250, r
        msg = delivered(inst, "alice")
        head, body = msg.split(b"\n\n", 1)
        assert b"Subject: changed subject" in head and b"X-Remove" not in head
        assert b"X-Filtered: yes" in head and b"Return-Path: <changed@example.org>" in head
        assert b"subject=[hello]" in head
        assert body == b"new body\nsecond line\n"
        # bob@example.net was deleted, the two added ones are queued for relay
        assert inst.wait_for_log(r"to=<added@example\.org>")
        assert inst.wait_for_log(r"to=<added2@example\.org>")
        assert "to=<bob@example.net>" not in inst.log()
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(where, ignore_errors=True)
