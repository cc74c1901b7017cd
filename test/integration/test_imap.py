"""test_imap.py - imapd's RFC 3501 commands with Python's imaplib and raw lines.

One instance per module (imap_helpers.py: imapd with STARTTLS, imapd on
an IMAPS port, the auth service, sasldb users, Maildir; a second module
instance with mbox for the mbox tests); each test works in folders of
its own.  Covered, each with wrong-state, bad-syntax and over-long input
where the command takes any: CAPABILITY, NOOP, LOGOUT (BYE, then the
tagged OK), STARTTLS (and input pipelined after it thrown away), IMAPS,
LOGIN (quoted, synchronizing and LITERAL+ literals), AUTHENTICATE PLAIN
and LOGIN with and without SASL-IR, plaintext refused off loopback,
SELECT and EXAMINE (read-only: STORE, EXPUNGE refused, \\Seen not set by
BODY[]), CREATE, DELETE, RENAME (hierarchy, INBOX), SUBSCRIBE,
UNSUBSCRIBE, LIST and LSUB with "*" and "%", STATUS, APPEND (flags, date,
both literal forms, TRYCREATE), CHECK, CLOSE (expunges silently),
EXPUNGE, SEARCH with every RFC 3501 key (CHARSET with non-ASCII literals
against RFC 2047 and base64 text, BADCHARSET), FETCH with every item
(BODYSTRUCTURE of a nested multipart with message/rfc822, sections,
partial, macros), STORE, COPY, the UID forms, modified UTF-7 names,
quoted strings and literals as mailbox names, bad message sets,
over-long lines, huge literals, NUL and 8-bit junk, unbalanced
parentheses, a 70 kB argument to every command, pipelining, and two
sessions on one folder seeing each other's flag changes, new messages and
expunges (and BYE when the other one deletes or renames it).  Also: \\Recent
(NEW, OLD, APPEND with flags), the 26-keyword limit ([LIMIT], PERMANENTFLAGS
without "\\*"), APPENDed messages with odd line ends (RFC822.SIZE is the
length of BODY[] = HEADER + TEXT, also for SMTP data with "\\r\\r\\n"), and
STORE/FETCH on 300 messages at once, on Maildir and mbox.  Every bad input
gets BAD or NO and the session goes on (a NOOP answers).
"""

import base64
import datetime
import re
import socket
import time
import uuid

import pytest

from imap_helpers import (ALICE, BOB, PASSWORDS, Raw, append_uid, apply_expunges, connect,
                          imap_instance, raw_login, search, still_serving, tls_context, unique,
                          untagged)


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return imap_instance(module_instance_factory)


@pytest.fixture(scope="module")
def mbox_inst(module_instance_factory):
    return imap_instance(module_instance_factory, mbox=True)


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()




def same_instant(line, expected):
    """LINE's INTERNALDATE is the moment EXPECTED ("dd-Mon-yyyy hh:mm:ss
    +zzzz") names, in whatever zone the server writes it; LINE with the
    date replaced by "DATE"."""
    m = re.search(r'INTERNALDATE "([^"]+)"', line)
    assert m, line
    parse = lambda text: datetime.datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    assert parse(m.group(1)) == parse(expected), (line, expected)
    return line[:m.start(1)] + "DATE" + line[m.end(1):]


def folder_with(inst, messages, user=ALICE, claim=False):
    """A new folder of USER's holding MESSAGES: (bytes, flags, date) each.
    With CLAIM, a session has selected it, so the messages are no longer
    \\Recent for the tests' sessions."""
    name = unique("f")
    c = connect(inst, login=user)
    assert c.create(name)[0] == "OK"
    for msg, flags, date in messages:
        append_uid(c, name, msg, flags, date)
    if claim:
        assert c.select(name)[0] == "OK"
    c.logout()
    return name


# The messages of the SEARCH and FETCH tests
M1 = (b"From: Alice Sender <asender@example.com>\r\nTo: Bob <bob@posthorn.test>\r\n"
      b"Subject: alpha report\r\nDate: Mon, 01 Jan 2024 09:00:00 +0000\r\n"
      b"Message-Id: <m1@example.com>\r\nX-Priority: 1\r\n\r\n"
      b"first message body\r\nsecond line\r\n")
NESTED = (
    "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.com>\r\n"
    "To: Alice <alice@posthorn.test>, bob@posthorn.test\r\n"
    "Cc: Carol <carol@example.org>\r\n"
    "Bcc: secret@example.net\r\n"
    "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
    "Date: Tue, 01 Jul 2025 10:20:30 +0200\r\n"
    "Message-Id: <nested-1@example.com>\r\n"
    "In-Reply-To: <parent@example.com>\r\n"
    "X-Custom: hello world\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "RGVyIEvDpHNlIGlzdCBncsO8bi4K\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=us-ascii\r\n"
    "\r\n"
    "<p>html part</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Description: forwarded\r\n"
    "\r\n"
    "From: Inner Sender <inner@example.com>\r\n"
    "To: someone@example.com\r\n"
    "Subject: inner subject\r\n"
    "Date: Mon, 30 Jun 2025 08:00:00 +0000\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "inner body line\r\n"
    "--outer\r\n"
    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQFBgc=\r\n"
    "--outer--\r\n"
    "epilogue\r\n").encode()
M3 = (b"From: Gamma <gamma@example.org>\r\nTo: alice@posthorn.test\r\n"
      b"Cc: Carbon <cc-person@example.net>\r\nBcc: Hidden <bcc-person@example.net>\r\n"
      b"Subject: gamma notes\r\nDate: Sat, 15 Mar 2025 23:30:00 -0500\r\n"
      b"Message-Id: <m3@example.com>\r\n\r\n" + b"filler line of text for size\r\n" * 100)
M4 = ("From: =?ISO-8859-1?Q?Fran=E7ois?= <francois@example.fr>\r\nTo: alice@posthorn.test\r\n"
      "Subject: =?UTF-8?B?w5xiZXJ3ZWlzdW5n?= und mehr\r\n"
      "Date: Wed, 02 Apr 2025 12:00:00 +0200\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n"
      "SGFsbG8gV2VsdCwgR3LDvMOfZSB2b20gU3RyYcOfZW5mZXN0IQo=\r\n").encode()
# (internal dates at noon UTC or far from midnight: BEFORE/ON/SINCE use the
# server's time zone, as Dovecot's do)
SAMPLE = [(M1, r"(\Seen)", '"02-Jan-2024 10:00:00 +0000"'),
          (NESTED, r"(\Flagged $Work)", '"01-Jul-2025 10:20:30 +0200"'),
          (M3, r"(\Draft \Answered)", '"16-Mar-2025 12:00:00 +0000"'),
          (M4, r"(\Deleted)", '"03-Apr-2025 00:30:00 +0200"')]

NESTED_BODYSTRUCTURE = (
    '((("text" "plain" ("charset" "utf-8") NIL NIL "base64" 28 0 NIL NIL NIL NIL)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 16 0 NIL NIL NIL NIL) '
    '"alternative" ("boundary" "inner") NIL NIL NIL)'
    '("message" "rfc822" NIL NIL "forwarded" "7bit" 189 '
    '("Mon, 30 Jun 2025 08:00:00 +0000" "inner subject" '
    '(("Inner Sender" NIL "inner" "example.com")) (("Inner Sender" NIL "inner" "example.com")) '
    '(("Inner Sender" NIL "inner" "example.com")) ((NIL NIL "someone" "example.com")) '
    'NIL NIL NIL NIL) '
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 0 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)'
    '("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 12 NIL '
    '("attachment" ("filename" "data.bin")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)')
NESTED_BODY = (
    '((("text" "plain" ("charset" "utf-8") NIL NIL "base64" 28 0)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 16 0) "alternative")'
    '("message" "rfc822" NIL NIL "forwarded" "7bit" 189 '
    '("Mon, 30 Jun 2025 08:00:00 +0000" "inner subject" '
    '(("Inner Sender" NIL "inner" "example.com")) (("Inner Sender" NIL "inner" "example.com")) '
    '(("Inner Sender" NIL "inner" "example.com")) ((NIL NIL "someone" "example.com")) '
    'NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 0) 6)'
    '("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 12) "mixed")')
JUERGEN = '(("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.com"))'
NESTED_ENVELOPE = (
    '("Tue, 01 Jul 2025 10:20:30 +0200" "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=" '
    + JUERGEN + ' ' + JUERGEN + ' ' + JUERGEN + ' '
    '(("Alice" NIL "alice" "posthorn.test")(NIL NIL "bob" "posthorn.test")) '
    '(("Carol" NIL "carol" "example.org")) ((NIL NIL "secret" "example.net")) '
    '"<parent@example.com>" "<nested-1@example.com>")')


@pytest.fixture
def sample(inst):
    """A folder with M1 (\\Seen), NESTED (\\Flagged $Work), M3 (\\Draft
    \\Answered, 3 kB) and M4 (\\Deleted); UIDs 1-4."""
    return folder_with(inst, SAMPLE, claim=True)


# ------------------------------------------------------------ before login

def test_greeting_capability_noop_logout(inst):
    r = Raw(inst.imap_port)
    m = re.match(r"\* OK \[CAPABILITY ([^]]*)\] ", r.greeting)
    assert m, r.greeting
    capa = m.group(1).split()
    for cap in ("IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE", "STARTTLS",
                "AUTH=PLAIN", "AUTH=LOGIN"):
        assert cap in capa, capa
    lines = r.ok("a", "CAPABILITY")
    assert lines[0] == "* CAPABILITY " + " ".join(capa)
    assert r.cmd("b", "CAPABILITY now")[-1].startswith("b BAD")
    assert r.ok("c", "NOOP") == ["c OK NOOP completed."]
    assert r.cmd("d", "NOOP x")[-1].startswith("d BAD")
    assert r.cmd("e", "LOGOUT x")[-1].startswith("e BAD")
    lines = r.cmd("f", "LOGOUT")
    assert len(lines) == 2 and lines[0].startswith("* BYE ") and lines[1].startswith("f OK"), lines
    assert r.closed()
    # after login: the session's capabilities, then LOGOUT the same way
    r = raw_login(inst)
    capa = r.ok("a", "CAPABILITY")[0].split()[2:]
    for cap in ("IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE", "UIDPLUS", "MOVE",
                "NAMESPACE", "UNSELECT", "CHILDREN", "SPECIAL-USE", "LIST-EXTENDED",
                "LIST-STATUS", "CONDSTORE", "QRESYNC"):
        assert cap in capa, capa
    assert not [c for c in capa if c.startswith("AUTH=") or c in ("STARTTLS", "LOGINDISABLED")]
    assert r.cmd("b", "CAPABILITY x")[-1].startswith("b BAD")
    assert r.cmd("c", "LOGOUT x")[-1].startswith("c BAD")
    lines = r.cmd("d", "LOGOUT")
    assert len(lines) == 2 and lines[0].startswith("* BYE ") and lines[1].startswith("d OK"), lines
    assert r.closed()


SELECTED_ONLY = ["CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH ALL", "FETCH 1 FLAGS",
                 "STORE 1 +FLAGS (\\Seen)", "COPY 1 INBOX", "MOVE 1 INBOX", "UID FETCH 1 FLAGS",
                 "UID SEARCH ALL", "UID STORE 1 FLAGS ()", "UID COPY 1 INBOX",
                 "UID MOVE 1 INBOX", "UID EXPUNGE 1"]
AUTHENTICATED = ["SELECT INBOX", "EXAMINE INBOX", "CREATE x", "DELETE x", "RENAME x y",
                 "SUBSCRIBE x", "UNSUBSCRIBE x", 'LIST "" *', 'LSUB "" *',
                 "STATUS INBOX (MESSAGES)", "ENABLE CONDSTORE", "NAMESPACE", "IDLE"]


def test_wrong_state_before_login(inst):
    r = Raw(inst.imap_port)
    for i, cmd in enumerate(AUTHENTICATED + SELECTED_ONLY):
        reply = r.cmd("w%d" % i, cmd)
        assert reply == ["w%d BAD Command not valid in this state: log in first." % i], reply
    # APPEND, its literal included
    r.send("a APPEND INBOX {5+}\r\nhello\r\n")
    assert r.until_tagged("a")[-1].startswith("a BAD Command not valid in this state")
    assert r.cmd("u", "XYZZY")[-1] == "u BAD Unknown command."
    assert r.cmd("v", "ID NIL")[-1].startswith("v OK")
    r.login(ALICE)
    r.ok("s", "SELECT INBOX")
    r.close()


def test_wrong_state_after_login(inst):
    r = raw_login(inst)
    for i, cmd in enumerate(SELECTED_ONLY):
        reply = r.cmd("w%d" % i, cmd)
        assert reply == ["w%d BAD Command valid only when a mailbox is selected." % i], reply
    for cmd in ('LOGIN "%s" "%s"' % (ALICE, PASSWORDS[ALICE]), "AUTHENTICATE PLAIN",
                "STARTTLS"):
        assert r.cmd("x", cmd) == ["x BAD Already logged in."]
    assert r.cmd("y", "FOO BAR")[-1] == "y BAD Unknown command."
    # RFC 5161: ENABLE only in the authenticated state
    r.ok("s", "SELECT INBOX")
    assert r.cmd("e", "ENABLE CONDSTORE") == \
        ["e BAD Command valid only in the authenticated state."]
    still_serving(r)
    r.close()


def test_bad_input_before_login(inst):
    r = Raw(inst.imap_port)
    # over-long line (> 64 KiB), then the session goes on
    r.send(b"a " + b"x" * 70000 + b"\r\n")
    assert r.line().startswith("a BAD")
    still_serving(r, "z1")
    # a huge synchronizing literal is refused before the client sends it
    r.send(b"b LOGIN {99999999999}\r\n")
    assert r.line().startswith("b BAD")
    still_serving(r, "z2")
    # a LITERAL+ literal over the limit is read and dropped
    r.send(b"c LOGIN {20000+}\r\n" + b"u" * 20000 + b" pw\r\n")
    assert r.line().startswith("c BAD")
    still_serving(r, "z3")
    # binary junk and NUL bytes
    r.send(b"\x00\x01\x02\xff\xfe junk\r\n")
    assert r.line().startswith("* BAD")
    r.send(b"d NO\x00OP\r\n")
    assert r.line().startswith("d BAD")
    r.send(b"e LOGIN \"al\x00ice\" pw\r\n")
    assert r.line().startswith("e BAD")
    # syntax: quotes, parentheses, missing and extra arguments
    for text in ('LOGIN "unterminated', "LOGIN (a b", "LOGIN a b)", "LOGIN", "LOGIN a",
                 "LOGIN a b c", "LOGIN (a) b", "AUTHENTICATE", "AUTHENTICATE PLAIN a b",
                 "STARTTLS now"):
        assert r.cmd("f", text)[-1].startswith("f BAD"), text
    assert r.cmd("g", "AUTHENTICATE X-UNKNOWN")[-1].startswith("g NO")
    still_serving(r, "z4")
    r.login(ALICE)
    r.close()


def test_login_forms(inst):
    user, password = ALICE, PASSWORDS[ALICE]
    # quoted strings, with the capabilities in the answer
    r = Raw(inst.imap_port)
    reply = r.cmd("a", 'LOGIN "%s" "%s"' % (user, password))
    assert re.match(r"a OK \[CAPABILITY IMAP4rev1 .*QRESYNC.*\] Logged in", reply[-1]), reply
    r.close()
    # synchronizing literals: "+" before each
    r = Raw(inst.imap_port)
    r.send("a LOGIN {%d}\r\n" % len(user))
    assert r.line().startswith("+ ")
    r.send("%s {%d}\r\n" % (user, len(password)))
    assert r.line().startswith("+ ")
    r.send(password + "\r\n")
    assert r.until_tagged("a")[-1].startswith("a OK")
    r.ok("b", "SELECT INBOX")
    r.close()
    # LITERAL+: no continuation, everything in one write
    r = Raw(inst.imap_port)
    r.send("a LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\nb NOOP\r\n" % (len(user), user, len(password),
                                                            password))
    lines = r.until_tagged("b")
    assert [l for l in lines if l.startswith("a ")][0].startswith("a OK"), lines
    assert not [l for l in lines if l.startswith("+")], lines
    r.close()
    # wrong password, unknown user: NO, the session goes on, and a retry works
    r = Raw(inst.imap_port)
    t0 = time.monotonic()
    assert r.cmd("a", 'LOGIN "%s" "wrong-password"' % user) == \
        ["a NO [AUTHENTICATIONFAILED] Authentication failed."]
    assert time.monotonic() - t0 >= 0.5          # the failure delay
    assert r.cmd("b", 'LOGIN "nobody@posthorn.test" "x"')[-1].startswith(
        "b NO [AUTHENTICATIONFAILED]")
    r.login(user)
    r.close()
    assert inst.wait_for_log(r"imapd\[\d+\]: unknown\[127\.0\.0\.1\]: login: "
                             r"user=<alice@posthorn\.test>, method=LOGIN")
    assert "wrong-password" not in inst.log() and password not in inst.log()
    # imaplib
    c = connect(inst, login=user)
    assert c.select("INBOX")[0] == "OK"
    c.logout()


def test_authenticate(inst):
    user, password = ALICE, PASSWORDS[ALICE]
    plain = b64("\0%s\0%s" % (user, password))
    # PLAIN with an initial response (SASL-IR)
    r = Raw(inst.imap_port)
    assert r.cmd("a", "AUTHENTICATE PLAIN " + plain)[-1].startswith("a OK [CAPABILITY ")
    r.ok("b", "SELECT INBOX")
    r.close()
    # PLAIN with a continuation
    r = Raw(inst.imap_port)
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send(plain + "\r\n")
    assert r.until_tagged("a")[-1].startswith("a OK")
    r.close()
    # LOGIN without and with an initial response
    r = Raw(inst.imap_port)
    r.send("a AUTHENTICATE LOGIN\r\n")
    assert r.line() == "+ VXNlcm5hbWU6"
    r.send(b64(user) + "\r\n")
    assert r.line() == "+ UGFzc3dvcmQ6"
    r.send(b64(password) + "\r\n")
    assert r.until_tagged("a")[-1].startswith("a OK")
    r.close()
    r = Raw(inst.imap_port)
    r.send("a AUTHENTICATE LOGIN %s\r\n" % b64(user))
    assert r.line() == "+ UGFzc3dvcmQ6"
    r.send(b64(password) + "\r\n")
    assert r.until_tagged("a")[-1].startswith("a OK")
    r.close()
    # cancel, bad base64, a broken PLAIN response, a wrong password
    r = Raw(inst.imap_port)
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send("*\r\n")
    assert r.until_tagged("a")[-1].startswith("a BAD")
    assert r.cmd("b", "AUTHENTICATE PLAIN !!!notbase64")[-1].startswith("b BAD")
    r.send("c AUTHENTICATE LOGIN\r\n")
    assert r.line().startswith("+ ")
    r.send("@@@\r\n")
    assert r.until_tagged("c")[-1].startswith("c BAD")
    assert r.cmd("d", "AUTHENTICATE PLAIN " + b64("no-nuls"))[-1].startswith("d NO")
    assert r.cmd("e", "AUTHENTICATE PLAIN =")[-1].startswith("e NO")
    assert r.cmd("f", "AUTHENTICATE PLAIN " + b64("\0%s\0nope" % user)) == \
        ["f NO [AUTHENTICATIONFAILED] Authentication failed."]
    # an over-long continuation line
    r.send("g AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send("A" * 70000 + "\r\n")
    assert r.line() == "g BAD Response line too long."
    still_serving(r)
    r.close()
    # imaplib's AUTHENTICATE (no initial response)
    c = connect(inst)
    typ, data = c.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, password)).encode())
    assert typ == "OK", data
    assert c.select("INBOX")[0] == "OK"
    c.logout()


def test_starttls_and_imaps(inst):
    r = Raw(inst.imap_port)
    assert r.cmd("a", "STARTTLS x")[-1].startswith("a BAD")
    # input pipelined after STARTTLS is thrown away (CVE-2011-0411)
    r.send("b STARTTLS\r\nc NOOP\r\n")
    assert r.line().startswith("b OK")
    r.buf = b""
    r.sock = tls_context(inst).wrap_socket(r.sock)
    capa = r.ok("d", "CAPABILITY")[0].split()
    assert "STARTTLS" not in capa and "AUTH=PLAIN" in capa
    assert r.cmd("e", "STARTTLS")[-1].startswith("e BAD")
    assert r.cmd("f", "NOOP") == ["f OK NOOP completed."]      # no answer for "c"
    r.login(ALICE)
    r.ok("g", "SELECT INBOX")
    r.close()
    # imaplib: STARTTLS, and IMAPS
    for tls in ("starttls", "ssl"):
        c = connect(inst, tls=tls, login=ALICE)
        assert c.select("INBOX")[0] == "OK"
        c.logout()
    r = Raw.tls(inst)
    capa = r.ok("a", "CAPABILITY")[0].split()
    assert "STARTTLS" not in capa and "AUTH=PLAIN" in capa
    assert r.cmd("b", "STARTTLS")[-1].startswith("b BAD")
    r.login(ALICE)
    r.close()
    assert inst.wait_for_log(r"login: user=<alice@posthorn\.test>, method=LOGIN, TLS")


def test_plaintext_refused_off_loopback(inst):
    """127.0.0.2 is not trusted with a password in the clear."""
    s = socket.create_connection(("127.0.0.1", inst.imap_port), timeout=10,
                                 source_address=("127.0.0.2", 0))
    r = Raw(0, sock=s)
    assert "LOGINDISABLED" in r.greeting and "AUTH=PLAIN" not in r.greeting
    assert r.cmd("a", 'LOGIN "%s" "%s"' % (ALICE, PASSWORDS[ALICE]))[-1].startswith(
        "a NO [PRIVACYREQUIRED]")
    assert r.cmd("b", "AUTHENTICATE PLAIN " + b64("\0a\0b"))[-1].startswith(
        "b NO [PRIVACYREQUIRED]")
    r.starttls(inst)
    capa = r.ok("c", "CAPABILITY")[0].split()
    assert "LOGINDISABLED" not in capa and "AUTH=PLAIN" in capa
    r.login(ALICE)
    r.close()


def test_pipelining(inst):
    name = folder_with(inst, [(M1, None, None), (M3, None, None)])
    r = Raw(inst.imap_port)
    r.send('a CAPABILITY\r\nb LOGIN "%s" "%s"\r\nc SELECT %s\r\nd FETCH 1:2 (UID)\r\n'
           'e SEARCH SUBJECT gamma\r\nf NOOP\r\ng LOGOUT\r\n' % (ALICE, PASSWORDS[ALICE], name))
    lines = r.until_tagged("g")
    tags = [l.split(" ")[0] for l in lines if not l.startswith("*")]
    assert tags == ["a", "b", "c", "d", "e", "f", "g"], lines
    assert all(l.split(" ")[1] == "OK" for l in lines if not l.startswith("*")), lines
    assert "* 1 FETCH (UID 1)" in lines and "* 2 FETCH (UID 2)" in lines
    assert "* SEARCH 2" in lines
    assert r.closed()


# ------------------------------------------------------------ folders

def test_select_and_examine(inst, sample):
    r = raw_login(inst)
    lines = r.cmd("a", "SELECT " + sample)
    assert lines[-1] == "a OK [READ-WRITE] Select completed.", lines
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)" in lines
    assert "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] " \
        "Flags permitted." in lines
    assert "* 4 EXISTS" in lines
    assert [l for l in lines if re.match(r"\* \d+ RECENT$", l)], lines
    assert [l for l in lines if l.startswith("* OK [UNSEEN 2]")], lines
    validity = int(re.search(r"\[UIDVALIDITY (\d+)\]", "\n".join(lines)).group(1))
    assert "* OK [UIDNEXT 5] Predicted next UID" in lines
    status = r.ok("b", "STATUS %s (UIDVALIDITY)" % sample)[0]
    assert status == "* STATUS %s (UIDVALIDITY %d)" % (sample, validity)
    # EXAMINE: read-only
    lines = r.cmd("c", "EXAMINE " + sample)
    assert lines[-1] == "c OK [READ-ONLY] Examine completed.", lines
    assert "* OK [PERMANENTFLAGS ()] Read-only mailbox." in lines
    assert r.cmd("d", "STORE 1 +FLAGS (\\Deleted)")[-1].startswith("d NO [READ-ONLY]")
    assert r.cmd("e", "UID STORE 1 +FLAGS (\\Deleted)")[-1].startswith("e NO [READ-ONLY]")
    assert r.cmd("f", "EXPUNGE")[-1].startswith("f NO [READ-ONLY]")
    assert r.cmd("g", "UID EXPUNGE 4")[-1].startswith("g NO [READ-ONLY]")
    assert r.cmd("h", "MOVE 1 INBOX")[-1].startswith("h NO [READ-ONLY]")
    # BODY[] does not set \Seen in EXAMINE
    lines = r.ok("i", "FETCH 2 (BODY[] FLAGS)")
    assert lines[1] == NESTED and "\\Seen" not in lines[0] + lines[2], lines
    assert r.ok("j", "FETCH 2 FLAGS")[0] == "* 2 FETCH (FLAGS (\\Flagged $Work))"
    # SELECT again: nothing changed; CLOSE of an EXAMINEd folder expunges nothing
    r.ok("k", "CLOSE")
    lines = r.ok("l", "SELECT " + sample)
    assert "* 4 EXISTS" in lines
    assert r.ok("m", "FETCH 2 FLAGS")[0] == "* 2 FETCH (FLAGS (\\Flagged $Work))"
    # a failed SELECT leaves no folder selected
    assert r.cmd("n", "SELECT NoSuchFolder")[-1].startswith("n NO [NONEXISTENT]")
    assert r.cmd("o", "FETCH 1 FLAGS")[-1].startswith("o BAD")
    for bad in ("SELECT", "SELECT a b c", "SELECT (a)", "EXAMINE", "SELECT INBOX (FOO)"):
        assert r.cmd("p", bad)[-1].startswith("p BAD"), bad
    still_serving(r)
    r.close()


def test_create_delete_rename(inst):
    top = unique("h")
    c = connect(inst, login=ALICE)
    r = raw_login(inst)
    # CREATE makes the superior names (RFC 3501 6.3.3); a trailing separator is dropped
    r.ok("a", "CREATE %s.b.c" % top)
    lines = r.ok("b", 'LIST "" %s*' % top)
    assert lines[:-1] == ['* LIST (\\Noselect \\HasChildren) "." %s' % top,
                          '* LIST (\\Noselect \\HasChildren) "." %s.b' % top,
                          '* LIST (\\HasNoChildren) "." %s.b.c' % top], lines
    r.ok("c", "CREATE %s.d." % top)
    assert '* LIST (\\HasNoChildren) "." %s.d' % top in r.ok("d", 'LIST "" %s.d*' % top)
    assert r.cmd("e", "CREATE %s.b.c" % top)[-1].startswith("e NO [ALREADYEXISTS]")
    assert r.cmd("f", "CREATE INBOX")[-1].startswith("f NO [ALREADYEXISTS]")
    assert r.cmd("g", "CREATE inbox")[-1].startswith("g NO [ALREADYEXISTS]")
    # RENAME moves the children along
    append_uid(c, "%s.b.c" % top, M1)
    r.ok("h", "RENAME %s %s2" % (top, top))
    lines = r.ok("i", 'LIST "" %s*' % top)
    assert lines[:-1] == ['* LIST (\\Noselect \\HasChildren) "." %s2' % top,
                          '* LIST (\\Noselect \\HasChildren) "." %s2.b' % top,
                          '* LIST (\\HasNoChildren) "." %s2.b.c' % top,
                          '* LIST (\\HasNoChildren) "." %s2.d' % top], lines
    assert r.ok("j", "STATUS %s2.b.c (MESSAGES)" % top)[0] == \
        "* STATUS %s2.b.c (MESSAGES 1)" % top
    assert r.cmd("k", "RENAME %s2.d %s2.b.c" % (top, top))[-1].startswith("k NO [ALREADYEXISTS]")
    assert r.cmd("l", "RENAME NoSuch%s x%s" % (top, top))[-1].startswith("l NO [NONEXISTENT]")
    assert r.cmd("m", "RENAME %s2.d INBOX" % top)[-1].startswith("m NO")
    # DELETE: the leaf, then the \Noselect parents are gone with their last child
    assert r.cmd("n", "DELETE NoSuch" + top)[-1].startswith("n NO [NONEXISTENT]")
    assert r.cmd("o", "DELETE INBOX")[-1].startswith("o NO")
    r.ok("p", "DELETE %s2.b.c" % top)
    r.ok("q", "DELETE %s2.d" % top)
    assert r.ok("r", 'LIST "" %s*' % top) == ["r OK List completed."]
    # a folder with children (selectable): deleting it keeps the children
    r.ok("s", "CREATE %s3" % top)
    r.ok("t", "CREATE %s3.kid" % top)
    reply = r.cmd("u", "DELETE %s3" % top)[-1]
    lines = r.ok("v", 'LIST "" %s3*' % top)
    assert '* LIST (\\HasNoChildren) "." %s3.kid' % top in lines, (reply, lines)
    # deleting the selected folder deselects it
    r.ok("w", "SELECT %s3.kid" % top)
    r.ok("x", "DELETE %s3.kid" % top)
    assert r.cmd("y", "FETCH 1 FLAGS")[-1].startswith("y BAD")
    for bad in ("CREATE", "DELETE", "DELETE a b", "RENAME a", "RENAME a b c", "RENAME (a) b",
                "CREATE (x)"):
        assert r.cmd("z", bad)[-1].startswith("z BAD"), bad
    still_serving(r)
    r.close()
    c.logout()


def test_rename_inbox(inst):
    """RFC 3501 6.3.5: renaming INBOX moves its messages to the new name
    and leaves INBOX empty."""
    c = connect(inst, login=BOB)
    before = int(c.select("INBOX")[1][0])
    append_uid(c, "INBOX", M1)
    c.close()
    name = unique("oldinbox")
    assert c.rename("INBOX", name)[0] == "OK"
    assert c.select("INBOX")[1] == [b"0"]
    assert c.select(name)[1] == [str(before + 1).encode()]
    typ, data = c.list('""', "*")
    assert b'"." INBOX' in b"\n".join(data)
    c.logout()


def test_subscribe_list_lsub(inst):
    top = unique("p")
    r = raw_login(inst)
    for name in ("%s", "%s.q", "%s.q.r", "%s.s"):
        r.ok("a", "CREATE " + name % top)
    expect_all = ['* LIST (\\HasChildren) "." %s' % top,
                  '* LIST (\\HasChildren) "." %s.q' % top,
                  '* LIST (\\HasNoChildren) "." %s.q.r' % top,
                  '* LIST (\\HasNoChildren) "." %s.s' % top]
    assert r.ok("b", 'LIST "" %s*' % top)[:-1] == expect_all
    assert r.ok("c", 'LIST "" %s.%%' % top)[:-1] == [expect_all[1], expect_all[3]]
    assert r.ok("d", 'LIST %s. %%' % top)[:-1] == [expect_all[1], expect_all[3]]
    assert r.ok("e", 'LIST "" %s%%' % top)[:-1] == [expect_all[0]]
    assert r.ok("f", 'LIST "" %s.*.r' % top)[:-1] == [expect_all[2]]
    assert r.ok("g", 'LIST "" %s*s' % top)[:-1] == [expect_all[3]]
    lines = r.ok("h", 'LIST "" %')
    assert '* LIST (\\HasNoChildren) "." INBOX' in lines and expect_all[0] in lines
    assert not [l for l in lines[:-1] if "." in l.split('"."')[-1]], lines
    assert r.ok("i", 'LIST "" ""') == ['* LIST (\\Noselect) "." ""', "i OK List completed."]
    assert r.ok("j", 'LIST "" inBoX')[0] == '* LIST (\\HasNoChildren) "." INBOX'
    assert r.ok("k", 'LIST "" NoSuch%s*' % top) == ["k OK List completed."]
    # subscriptions
    r.ok("l", "SUBSCRIBE %s.q" % top)
    r.ok("m", 'SUBSCRIBE "%s.s"' % top)
    lines = r.ok("n", 'LSUB "" *')
    assert [l for l in lines if top in l] == ['* LSUB (\\HasChildren) "." %s.q' % top,
                                               '* LSUB (\\HasNoChildren) "." %s.s' % top], lines
    assert r.ok("o", 'LSUB "" %s.%%' % top)[:-1] == \
        ['* LSUB (\\HasChildren) "." %s.q' % top, '* LSUB (\\HasNoChildren) "." %s.s' % top]
    # "%" does not reach the subscribed children: the parent shows as \Noselect
    lines = r.ok("p", 'LSUB "" %s%%' % top)
    assert len(lines) == 2 and lines[0].startswith("* LSUB (\\Noselect") \
        and lines[0].endswith('"." %s' % top), lines
    r.ok("q", "UNSUBSCRIBE %s.q" % top)
    assert r.ok("s", 'LSUB "" %s*' % top)[:-1] == ['* LSUB (\\HasNoChildren) "." %s.s' % top]
    assert r.cmd("t", "SUBSCRIBE NoSuch" + top)[-1].startswith("t NO")
    for bad in ("LIST", 'LIST ""', 'LIST "" * extra', "LSUB", 'LSUB ""', "LSUB (a) b",
                "SUBSCRIBE", "SUBSCRIBE a b", "UNSUBSCRIBE", "LIST (\"\" *"):
        assert r.cmd("u", bad)[-1].startswith("u BAD"), bad
    still_serving(r)
    r.close()
    # imaplib
    c = connect(inst, login=ALICE)
    typ, data = c.list('""', top + ".%")
    assert typ == "OK" and len(data) == 2
    typ, data = c.lsub('""', top + "*")
    assert typ == "OK" and data == [b'(\\HasNoChildren) "." ' + ("%s.s" % top).encode()]
    c.logout()


def status_items(r, tag, name, items):
    """STATUS NAME (ITEMS) as a dict."""
    lines = r.ok(tag, "STATUS %s (%s)" % (name, items))
    m = re.match(r"\* STATUS (\S+) \(([^)]*)\)$", lines[0])
    assert m and m.group(1) == name, lines
    words = m.group(2).split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


def test_status(inst, sample):
    r = raw_login(inst)
    items = status_items(r, "a", sample, "MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN")
    assert sorted(items) == ["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN"]
    assert (items["MESSAGES"], items["UIDNEXT"], items["UNSEEN"]) == (4, 5, 3), items
    assert 0 <= items["RECENT"] <= 4 and items["UIDVALIDITY"] > 0
    assert r.ok("b", "STATUS %s (UNSEEN)" % sample)[0] == "* STATUS %s (UNSEEN 3)" % sample
    # on the selected folder too, after a change
    r.ok("c", "SELECT " + sample)
    r.ok("d", "STORE 2 +FLAGS.SILENT (\\Seen)")
    assert status_items(r, "e", sample, "UNSEEN MESSAGES") == {"MESSAGES": 4, "UNSEEN": 2}
    assert r.cmd("f", "STATUS NoSuch%s (MESSAGES)" % sample)[-1].startswith("f NO [NONEXISTENT]")
    for bad in ("STATUS", "STATUS INBOX", "STATUS INBOX ()", "STATUS INBOX (FOO)",
                "STATUS INBOX MESSAGES", "STATUS INBOX (MESSAGES) x", "STATUS INBOX (MESSAGES"):
        assert r.cmd("g", bad)[-1].startswith("g BAD"), bad
    still_serving(r)
    r.close()


def test_utf7_and_quoted_mailbox_names(inst):
    tag = uuid.uuid4().hex[:6]
    utf7 = "Entw&APw-rfe" + tag                  # "Entwürfe"
    r = raw_login(inst)
    r.ok("a", "CREATE " + utf7)
    assert r.ok("b", 'LIST "" Entw*%s' % tag)[:-1] == ['* LIST (\\HasNoChildren) "." ' + utf7]
    r.ok("c", "SELECT " + utf7)
    r.ok("d", 'STATUS "%s" (MESSAGES)' % utf7)
    # invalid modified UTF-7 and raw 8-bit names are refused
    for bad in (b"CREATE &Jjo" + tag.encode(), b"CREATE &AGE-" + tag.encode(),
                b"CREATE {9+}\r\nEntw\xc3\xbcrfe" + tag[:0].encode()):
        r.send(b"e " + bad + b"\r\n")
        reply = r.until_tagged("e")[-1]
        assert reply.startswith("e BAD") or reply.startswith("e NO"), (bad, reply)
    # quoted strings with space, quote and backslash, literals as names
    spaced = "with space %s" % tag
    r.ok("f", 'CREATE "%s"' % spaced)
    assert r.ok("g", 'LIST "" "with space %s"' % tag)[0] == \
        '* LIST (\\HasNoChildren) "." "%s"' % spaced
    r.ok("h", r'CREATE "q\"uo\\te%s"' % tag)
    assert r.ok("i", 'LIST "" q*%s' % tag)[0] == \
        r'* LIST (\HasNoChildren) "." "q\"uo\\te%s"' % tag
    r.send("j CREATE {%d}\r\n" % len("lit" + tag))
    assert r.line().startswith("+ ")
    r.send("lit%s\r\n" % tag)
    assert r.until_tagged("j")[-1].startswith("j OK")
    assert r.ok("k", 'LIST "" lit%s' % tag)[0] == '* LIST (\\HasNoChildren) "." lit' + tag
    still_serving(r)
    r.close()
    # imaplib sees the same names
    c = connect(inst, login=ALICE)
    typ, data = c.list('""', "*" + tag)
    names = sorted(d.split(b' "." ', 1)[1] for d in data)
    assert names == sorted([('"%s"' % spaced).encode(), utf7.encode(),
                            ('"q\\"uo\\\\te%s"' % tag).encode(), ("lit" + tag).encode()]), data
    c.logout()


# ------------------------------------------------------------ APPEND

def test_append_forms(inst):
    name = unique("ap")
    c = connect(inst, login=ALICE)
    assert c.create(name)[0] == "OK"
    uid = append_uid(c, name, M1, r"(\Flagged \Seen $Label1)", '"05-Feb-2023 13:14:15 +0100"')
    assert uid == 1
    c.select(name)
    typ, data = c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    head = data[0][0].decode()
    assert "FLAGS (\\Flagged \\Seen \\Recent $Label1)" in head      # RFC 3501 6.3.11
    same_instant(head, "05-Feb-2023 13:14:15 +0100")
    assert "RFC822.SIZE %d" % len(M1) in head
    assert data[0][1] == M1
    c.logout()
    r = raw_login(inst)
    r.ok("s", "SELECT " + name)
    # a synchronizing literal: "+" first; the new message is announced at once
    msg = b"Subject: sync\r\n\r\nbody\r\n"
    r.send("a APPEND %s {%d}\r\n" % (name, len(msg)))
    assert r.line().startswith("+ ")
    r.send(msg + b"\r\n")
    lines = r.until_tagged("a")
    assert re.match(r"a OK \[APPENDUID \d+ 2\] ", lines[-1]), lines
    assert "* 2 EXISTS" in lines
    # LITERAL+, flags and date, one write
    msg = b"Subject: nonsync\r\n\r\nbody\r\n"
    r.send(b'b APPEND %s (\\Answered) "01-Jan-2020 00:00:00 +0000" {%d+}\r\n%s\r\n'
           % (name.encode(), len(msg), msg))
    lines = r.until_tagged("b")
    assert not [l for l in lines if l.startswith("+")], lines
    assert re.match(r"b OK \[APPENDUID \d+ 3\] ", lines[-1]), lines
    assert same_instant(r.ok("c", "FETCH 3 (FLAGS INTERNALDATE)")[0], "01-Jan-2020 00:00:00 +0000") \
        == '* 3 FETCH (FLAGS (\\Answered \\Recent) INTERNALDATE "DATE")'
    assert r.ok("d", "FETCH 2:3 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")[1] == b"Subject: sync\r\n\r\n"
    # a missing folder: TRYCREATE (both literal forms)
    r.send("e APPEND NoSuch%s {3+}\r\nabc\r\n" % name)
    assert r.until_tagged("e")[-1].startswith("e NO [TRYCREATE]")
    r.send("f APPEND NoSuch%s {3}\r\n" % name)
    line = r.line()
    if line.startswith("+"):
        r.send("abc\r\n")
        line = r.until_tagged("f")[-1]
    assert line.startswith("f NO [TRYCREATE]"), line
    # bad arguments, each answered and the session goes on
    r.send("g APPEND %s {0+}\r\n\r\n" % name)
    assert r.until_tagged("g")[-1].startswith("g NO")
    for text in ('"bad date" {3+}', "(\\Recent) {3+}", "(\\Bogus) {3+}", "NIL {3+}",
                 '(\\Seen) "01-Jan-2020 00:00:00 +0000" "x" {3+}', '"01-Jan-2020" {3+}',
                 "(\\Seen) (\\Seen) {3+}"):
        r.send("h APPEND %s %s\r\nabc\r\n" % (name, text))
        reply = r.until_tagged("h")[-1]
        assert reply.startswith("h BAD"), (text, reply)
    assert r.cmd("i", "APPEND")[-1].startswith("i BAD")
    assert r.cmd("j", "APPEND %s" % name)[-1].startswith("j BAD")
    assert r.cmd("k", 'APPEND %s "not a literal"' % name)[-1].startswith("k BAD")
    assert r.cmd("k", "APPEND %s (\\Seen" % name)[-1].startswith("k BAD")
    still_serving(r)
    assert r.ok("l", "STATUS %s (MESSAGES)" % name)[0] == "* STATUS %s (MESSAGES 3)" % name
    r.close()


def fetch_whole(r, tag, n):
    """RFC822.SIZE, BODY[], BODY[HEADER] and BODY[TEXT] of message N, raw."""
    lines = r.ok(tag, "FETCH %d (RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT])" % n)
    size = int(re.search(r"RFC822\.SIZE (\d+)", lines[0]).group(1))
    whole, header, text = [l for l in lines if isinstance(l, bytes)]
    return size, whole, header, text


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_append_odd_line_ends_sizes_agree(inst, mbox_inst, kind):
    """Whatever the line ends of an APPENDed message, RFC822.SIZE is the
    length of BODY[], which is BODY[HEADER] + BODY[TEXT], in CRLF form."""
    inst = inst if kind == "maildir" else mbox_inst
    name = unique("le")
    r = raw_login(inst)
    r.ok("a", "CREATE " + name)
    cases = [b"Subject: lf\n\nbody\nmore\n",
             b"Subject: final cr\r\n\r\nbody\r",
             b"Subject: no newline\r\n\r\nbody",
             b"Subject: lone cr\r\n\r\na\rb\r\n",
             b"Subject: mixed\n\r\nbody\r\nmore\n",
             b"Subject: eight bit \xe4\xf6\r\n\r\nnul \x00 byte, \xff\r\n"]
    for msg in cases:
        r.send(b"b APPEND %s {%d+}\r\n%s\r\n" % (name.encode(), len(msg), msg))
        assert r.until_tagged("b")[-1].startswith("b OK"), msg
    r.ok("c", "SELECT " + name)
    for i, msg in enumerate(cases, 1):
        size, whole, header, text = fetch_whole(r, "d", i)
        assert size == len(whole) and whole == header + text, (msg, size, whole)
        assert b"\n" not in whole.replace(b"\r\n", b""), whole       # CRLF form
        assert whole.rstrip(b"\r\n").replace(b"\r\n", b"\n") == msg.rstrip(b"\r\n").replace(
            b"\r\n", b"\n"), (msg, whole)
    r.close()
    assert "padded" not in inst.log()


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_cr_before_line_end_sizes_agree(inst, mbox_inst, kind):
    """A line whose content ends in CR (SMTP "x\r\r\n", or in an APPEND
    literal): RFC822.SIZE still matches BODY[] (imapd_bugs.md, W= counted
    every LF)."""
    inst = inst if kind == "maildir" else mbox_inst
    subject = unique("crcr")
    inst.send("bob@posthorn.test", ("Subject: %s\r\n\r\nline one\r\r\nline two\r\n"
                                    % subject).encode())
    r = raw_login(inst, BOB)
    r.ok("a", "SELECT INBOX")
    assert wait_until_found(r, subject)
    n = int(search(r, "b", "SEARCH SUBJECT " + subject).split()[-1])
    size, whole, header, text = fetch_whole(r, "c", n)
    assert size == len(whole) and whole.endswith(b"line two\r\n"), (size, whole)
    name = unique("crcr")
    r.ok("d", "CREATE " + name)
    msg = b"Subject: x\r\n\r\na\r\r\nb\r\n"
    r.send(b"e APPEND %s {%d+}\r\n%s\r\n" % (name.encode(), len(msg), msg))
    r.until_tagged("e")
    r.ok("f", "SELECT " + name)
    size, whole, header, text = fetch_whole(r, "g", 1)
    assert size == len(whole) and whole.endswith(b"b\r\n"), (size, whole)
    r.close()


def wait_until_found(r, subject, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if search(r, "w", "SEARCH SUBJECT " + subject):
            return True
        time.sleep(0.1)
    return False


def test_append_with_flags_is_recent(inst):
    """RFC 3501 6.3.11: an appended message is \\Recent, flags or not
    (imapd_bugs.md: Maildir appends with flags were not)."""
    name = folder_with(inst, [(M1, r"(\Seen)", None)])
    c = connect(inst, login=ALICE)
    c.select(name)
    assert c.response("RECENT")[1] == [b"1"]
    c.logout()


def test_recent_new_old(inst):
    name = folder_with(inst, [(M1, None, None), (M3, None, None)])
    c = connect(inst, login=ALICE)
    d = connect(inst, login=ALICE)
    e = connect(inst, login=ALICE)
    e.select(name, readonly=True)                # EXAMINE does not take them
    assert e.response("RECENT")[1] == [b"2"]
    e.logout()
    c.select(name)
    assert c.response("RECENT")[1] == [b"2"]
    assert c.search(None, "RECENT")[1] == [b"1 2"]
    assert c.search(None, "NEW")[1] == [b"1 2"]
    c.store("1", "+FLAGS", r"(\Seen)")
    assert c.search(None, "NEW")[1] == [b"2"]
    assert c.search(None, "OLD")[1] == [b""]
    # another session sees them, but not as \Recent
    d.select(name)
    assert d.response("RECENT")[1] == [b"0"]
    assert d.search(None, "RECENT")[1] == [b""]
    assert d.search(None, "OLD")[1] == [b"1 2"]
    typ, data = d.fetch("2", "FLAGS")
    assert b"\\Recent" not in data[0]
    typ, data = c.fetch("2", "FLAGS")
    assert b"\\Recent" in data[0]
    c.logout()
    d.logout()


# ------------------------------------------------------------ CHECK, CLOSE, EXPUNGE


def test_check_close_expunge(inst):
    msgs = [(b"Subject: m%d\r\n\r\nbody\r\n" % i, None, None) for i in range(1, 7)]
    name = folder_with(inst, msgs)
    r = raw_login(inst)
    r.ok("a", "SELECT " + name)
    assert r.ok("b", "CHECK") == ["b OK Check completed."]
    assert r.cmd("c", "CHECK now")[-1].startswith("c BAD")
    r.ok("d", "STORE 2,4,5 +FLAGS.SILENT (\\Deleted)")
    lines = r.ok("e", "EXPUNGE")
    assert apply_expunges(lines, [1, 2, 3, 4, 5, 6]) == [1, 3, 6], lines
    assert len(untagged(lines, "EXPUNGE")) == 3
    assert r.ok("f", "EXPUNGE")[:-1] == []               # nothing left to expunge
    assert r.ok("g", "FETCH 1:* UID")[:-1] == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)",
                                                "* 3 FETCH (UID 6)"]
    assert r.cmd("h", "EXPUNGE 1")[-1].startswith("h BAD")
    # CLOSE expunges silently and leaves the selected state
    r.ok("i", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    lines = r.ok("j", "CLOSE")
    assert lines == ["j OK Close completed."], lines
    assert r.cmd("k", "FETCH 1 FLAGS")[-1].startswith("k BAD")
    assert r.cmd("l", "CLOSE")[-1].startswith("l BAD")
    lines = r.ok("m", "SELECT " + name)
    assert "* 2 EXISTS" in lines
    assert r.cmd("n", "CLOSE x")[-1].startswith("n BAD")
    still_serving(r)
    r.close()


# ------------------------------------------------------------ SEARCH

SEARCHES = [
    ("ALL", "1 2 3 4"), ("ANSWERED", "3"), ("BCC bcc-person", "3"), ("BCC Hidden", "3"),
    ("BEFORE 1-Mar-2025", "1"), ('BODY "second line"', "1"), ("BODY inner", "2"),
    ("CC carbon", "3"), ("DELETED", "4"), ("DRAFT", "3"), ("FLAGGED", "2"),
    ("FROM alice", "1"), ("FROM juergen", "2"), ("FROM FRANCOIS@", "4"),
    ("HEADER X-Priority 1", "1"), ('HEADER X-Custom ""', "2"),
    ("HEADER Message-Id m3", "3"), ('HEADER Nonexistent ""', ""),
    ("KEYWORD $Work", "2"), ("KEYWORD $Nothing", ""), ("UNKEYWORD $Work", "1 3 4"),
    ("LARGER 1000", "2 3"), ("SMALLER 1000", "1 4"), ("NOT SEEN", "2 3 4"),
    ("ON 16-Mar-2025", "3"), ("OR SEEN FLAGGED", "1 2"), ("SEEN", "1"),
    ("SENTBEFORE 15-Mar-2025", "1"), ("SENTON 15-Mar-2025", "3"),
    ("SENTSINCE 15-Mar-2025", "2 3 4"), ("SENTON 1-Jul-2025", "2"), ("SENTON 30-Jun-2025", ""),
    ("SINCE 16-Mar-2025", "2 3 4"), ("SUBJECT alpha", "1"), ('SUBJECT "und mehr"', "4"),
    ("SUBJECT \"\"", "1 2 3 4"), ("TEXT report", "1"), ("TEXT html", "2"),
    ("TEXT juergen", "2"), ("TEXT data.bin", "2"), ("TEXT Gamma", "3"), ("TEXT inner", "2"),
    ("BODY data.bin", ""), ("BODY juergen", ""), ("TO bob", "1 2"), ("HEADER To alice", "2 3 4"),
    ("UID 2:3", "2 3"), ("UID 3:*", "3 4"), ("UID 1,4", "1 4"), ("UNANSWERED", "1 2 4"),
    ("UNDELETED", "1 2 3"), ("UNDRAFT", "1 2 4"), ("UNFLAGGED", "1 3 4"), ("UNSEEN", "2 3 4"),
    ("2:3", "2 3"), ("2,4", "2 4"), ("*", "4"), ("3:*", "3 4"), ("NOT 1", "2 3 4"),
    ("(SEEN) (UNDELETED)", "1"), ("(OR DELETED DRAFT) NOT ANSWERED", "4"),
    ("NOT (OR SEEN DELETED)", "2 3"), ("OR OR SEEN DELETED DRAFT", "1 3 4"),
    ("1:* UNDELETED", "1 2 3"), ("((((FLAGGED))))", "2"), ("OR (SEEN DELETED) (FROM gamma)", "3"),
    ("CHARSET US-ASCII SUBJECT gamma", "3"), ("CHARSET utf-8 SUBJECT GAMMA", "3"),
]



def search_literal(r, tag, charset, key, text):
    """SEARCH CHARSET x KEY {n}: a non-ASCII string as a literal."""
    data = text.encode(charset)
    r.send("%s SEARCH CHARSET %s %s {%d}\r\n" % (tag, charset, key, len(data)))
    assert r.line().startswith("+ ")
    r.send(data + b"\r\n")
    lines = r.until_tagged(tag)
    assert lines[-1].startswith(tag + " OK"), lines
    return [l for l in lines if l.startswith("* SEARCH")][0][len("* SEARCH"):].strip()


def test_search_every_key(inst, sample):
    r = raw_login(inst)
    r.ok("s", "EXAMINE " + sample)
    for i, (key, expect) in enumerate(SEARCHES):
        assert search(r, "a%d" % i, "SEARCH " + key) == expect, key
    # UID SEARCH answers UIDs: make them differ from the numbers
    r.ok("c", "SELECT " + sample)
    r.ok("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("e", "EXPUNGE")
    assert search(r, "f", "SEARCH UNDELETED") == "1 2"
    assert search(r, "g", "UID SEARCH UNDELETED") == "2 3"
    assert search(r, "h", "UID SEARCH UID 3:4") == "3"
    assert search(r, "i", "UID SEARCH 1") == "2"
    r.close()


def test_search_charsets_and_encoded_text(inst, sample):
    r = raw_login(inst)
    r.ok("s", "EXAMINE " + sample)
    cases = [("UTF-8", "SUBJECT", "grüße", "2"),           # RFC 2047 B, UTF-8
             ("UTF-8", "SUBJECT", "GRÜßE", "2"),           # case folded
             ("UTF-8", "SUBJECT", "überweisung", "4"),
             ("UTF-8", "FROM", "Müller", "2"),             # RFC 2047 Q
             ("UTF-8", "FROM", "françois", "4"),           # Q, ISO-8859-1
             ("UTF-8", "BODY", "grün", "2"),               # base64 part of a multipart
             ("UTF-8", "BODY", "Käse", "2"),
             ("UTF-8", "TEXT", "Straßenfest", "4"),        # base64 body
             ("UTF-8", "BODY", "nirgendwo-ä", ""),
             ("ISO-8859-1", "FROM", "françois", "4"),      # the key converted
             ("ISO-8859-1", "BODY", "grün", "2")]
    for i, (charset, key, text, expect) in enumerate(cases):
        assert search_literal(r, "a%d" % i, charset, key, text) == expect, (charset, key, text)
    # 8-bit text outside a literal is bad syntax
    r.send("b SEARCH CHARSET UTF-8 SUBJECT grüße\r\n".encode())
    assert r.until_tagged("b")[-1].startswith("b BAD")
    # an unknown charset: NO [BADCHARSET ...]
    lines = r.cmd("c", "SEARCH CHARSET X-NO-SUCH-CHARSET SUBJECT x")
    assert re.match(r"c NO \[BADCHARSET( \([^)]*\))?\]", lines[-1]), lines
    assert r.cmd("d", "SEARCH CHARSET")[-1].startswith("d BAD")
    still_serving(r)
    r.close()


def test_search_bad_syntax(inst, sample):
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    for bad in ("SEARCH", "SEARCH FOO", "SEARCH SUBJECT", "SEARCH HEADER", "SEARCH HEADER X",
                "SEARCH ON 32-Jan-2025", "SEARCH BEFORE yesterday", "SEARCH LARGER x",
                "SEARCH LARGER", "SEARCH UID 0", "SEARCH UID x", "SEARCH 0", "SEARCH 1:",
                "SEARCH OR SEEN", "SEARCH OR", "SEARCH NOT", "SEARCH (SEEN", "SEARCH SEEN)",
                "SEARCH ()", "SEARCH KEYWORD", "SEARCH KEYWORD (x)", "SEARCH SUBJECT (x)",
                "SEARCH NOT NOT", "SEARCH " + "(" * 200 + "ALL" + ")" * 200,
                "SEARCH " + "NOT " * 300 + "ALL"):
        assert r.cmd("a", bad)[-1].startswith("a BAD"), bad
    still_serving(r)
    r.close()


# ------------------------------------------------------------ FETCH

def fetch_one(r, tag, text):
    """FETCH of one message: the lines between the first and the tag,
    literals as bytes, everything joined in order."""
    lines = r.cmd(tag, text)
    assert lines[-1].startswith(tag + " OK"), (text, lines)
    return lines[:-1]


def test_fetch_items(inst, sample):
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    lines = fetch_one(r, "a", "FETCH 2 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    assert len(lines) == 1 and same_instant(lines[0], "01-Jul-2025 10:20:30 +0200") == \
        '* 2 FETCH (FLAGS (\\Flagged $Work) INTERNALDATE "DATE" RFC822.SIZE %d ENVELOPE %s)' \
        % (len(NESTED), NESTED_ENVELOPE), lines
    assert fetch_one(r, "b", "FETCH 2 BODYSTRUCTURE") == \
        ["* 2 FETCH (BODYSTRUCTURE %s)" % NESTED_BODYSTRUCTURE]
    assert fetch_one(r, "c", "FETCH 2 BODY") == ["* 2 FETCH (BODY %s)" % NESTED_BODY]
    # sections; PEEK leaves \Seen alone
    inner_header = (b"From: Inner Sender <inner@example.com>\r\nTo: someone@example.com\r\n"
                    b"Subject: inner subject\r\nDate: Mon, 30 Jun 2025 08:00:00 +0000\r\n"
                    b"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    lines = fetch_one(r, "d", "FETCH 2 (BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] BODY.PEEK[2.HEADER] "
                              "BODY.PEEK[2.TEXT] BODY.PEEK[3]<2.5> BODY.PEEK[2.1] "
                              "BODY.PEEK[2] BODY.PEEK[3.MIME])")
    assert lines == [
        "* 2 FETCH (BODY[1.1] {28}", b"RGVyIEvDpHNlIGlzdCBncsO8bi4K",
        " BODY[1.2.MIME] {45}", b"Content-Type: text/html; charset=us-ascii\r\n\r\n",
        " BODY[2.HEADER] {%d}" % len(inner_header), inner_header,
        " BODY[2.TEXT] {15}", b"inner body line",
        " BODY[3]<2> {5}", b"ECAwQ",
        " BODY[2.1] {15}", b"inner body line",
        " BODY[2] {189}", inner_header + b"inner body line",
        " BODY[3.MIME] {148}", b'Content-Type: application/octet-stream; name="data.bin"\r\n'
        b'Content-Disposition: attachment; filename="data.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n",
        ")"], lines
    header = NESTED[:NESTED.index(b"\r\n\r\n") + 4]
    text = NESTED[len(header):]
    lines = fetch_one(r, "e", "FETCH 2 (BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.20> "
                              "BODY.PEEK[]<1150.100> BODY.PEEK[]<%d.10>)" % (len(NESTED) + 5))
    assert lines == ["* 2 FETCH (BODY[HEADER] {%d}" % len(header), header,
                     " BODY[TEXT]<0> {20}", text[:20],
                     " BODY[]<1150> {%d}" % len(NESTED[1150:]), NESTED[1150:],
                     " BODY[]<%d> {0}" % (len(NESTED) + 5), b"", ")"], lines
    lines = fetch_one(r, "f", "FETCH 2 (BODY.PEEK[HEADER.FIELDS (From Subject X-Custom)] "
                              "BODY.PEEK[HEADER.FIELDS.NOT (From To Cc Bcc Subject Date "
                              "Message-Id In-Reply-To MIME-Version Content-Type)])")
    assert lines[1] == (b"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.com>\r\n"
                        b"Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
                        b"X-Custom: hello world\r\n\r\n"), lines
    assert lines[3] == b"X-Custom: hello world\r\n\r\n", lines
    assert re.match(r"\* 2 FETCH \(BODY\[HEADER\.FIELDS \(FROM SUBJECT X-CUSTOM\)\] \{\d+\}$",
                    lines[0], re.I)
    # missing parts are empty
    lines = fetch_one(r, "g", "FETCH 2 (BODY.PEEK[4] BODY.PEEK[1.3])")
    assert re.sub(r'(\{0\}|"")', "E", "".join(l if isinstance(l, str) else l.decode()
                                                  for l in lines)) == \
        "* 2 FETCH (BODY[4] E BODY[1.3] E)", lines
    assert "\\Seen" not in "".join(l for l in fetch_one(r, "h", "FETCH 2 FLAGS"))
    # the whole message, and the RFC822 items; BODY[] and RFC822 set \Seen
    lines = fetch_one(r, "i", "FETCH 3 (RFC822.HEADER RFC822.SIZE)")
    assert lines[1] == M3[:M3.index(b"\r\n\r\n") + 4]
    assert "RFC822.SIZE %d" % len(M3) in lines[2] + lines[0], lines
    lines = fetch_one(r, "j", "FETCH 3 RFC822.TEXT")
    assert lines[1] == M3[M3.index(b"\r\n\r\n") + 4:]
    assert "\\Seen" in "".join(l for l in lines if isinstance(l, str))
    lines = fetch_one(r, "k", "FETCH 4 RFC822")
    assert lines[1] == M4 and "\\Seen" in lines[0] + lines[2], lines
    lines = fetch_one(r, "l", "FETCH 2 BODY[]")
    assert lines[1] == NESTED and "\\Seen" in lines[0] + lines[2], lines
    # the macros
    line = fetch_one(r, "m", "FETCH 1 FAST")[0]
    assert re.match(r'\* 1 FETCH \(FLAGS \(\\Seen\) INTERNALDATE "[^"]+" RFC822\.SIZE %d\)$'
                    % len(M1), line), line
    line = fetch_one(r, "n", "FETCH 1 ALL")[0]
    assert re.match(r'\* 1 FETCH \(FLAGS \(\\Seen\) INTERNALDATE "[^"]+" RFC822\.SIZE %d '
                    r'ENVELOPE \("Mon, 01 Jan 2024 09:00:00 \+0000" "alpha report" '
                    r'\(\("Alice Sender" NIL "asender" "example.com"\)\) .*\)\)$' % len(M1),
                    line), line
    line = fetch_one(r, "o", "FETCH 1 FULL")[0]
    body = M1[M1.index(b"\r\n\r\n") + 4:]
    assert re.search(r' ENVELOPE \(.*\) BODY \("text" "plain" \("charset" "us-ascii"\) NIL NIL '
                     r'"7bit" %d 2\)\)$' % len(body), line), line
    line = fetch_one(r, "p", "FETCH 1 (UID FLAGS)")[0]
    assert line == "* 1 FETCH (UID 1 FLAGS (\\Seen))"
    # several messages, in order
    lines = fetch_one(r, "q", "FETCH 1:* (UID)")
    assert lines == ["* %d FETCH (UID %d)" % (i, i) for i in (1, 2, 3, 4)]
    assert fetch_one(r, "r", "FETCH 4,2 UID") == ["* 2 FETCH (UID 2)", "* 4 FETCH (UID 4)"]
    r.close()


def test_fetch_bad_syntax(inst, sample):
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    for bad in ("FETCH", "FETCH 1", "FETCH 1 (FOO)", "FETCH 1 FOO", "FETCH 1 ()",
                "FETCH 0 FLAGS", "FETCH 1: FLAGS", "FETCH abc FLAGS", "FETCH 5 FLAGS",
                "FETCH 1:5 FLAGS", "FETCH 1,,2 FLAGS", "FETCH -1 FLAGS", "FETCH 1 (FLAGS",
                "FETCH 1 FLAGS)", "FETCH 1 BODY[1.x]", "FETCH 1 BODY[HEADER.FIELDS]",
                "FETCH 1 BODY[HEADER.FIELDS ()]", "FETCH 1 BODY[]<x>", "FETCH 1 BODY[]<1.0>",
                "FETCH 1 BODY[TEXT", "FETCH 1 BODY[0]", "FETCH 1 BODY[FOO]", "FETCH 1 RFC822.FOO",
                "FETCH 1 (FLAGS) (CHANGEDSINCE x)", "FETCH 1 (FLAGS) extra",
                "FETCH 99999999999 FLAGS", "UID FETCH 0 FLAGS", "UID FETCH x FLAGS", "UID",
                "UID FOO 1", "UID FETCH", "FETCH 1 (FLAGS (UID))"):
        assert r.cmd("a", bad)[-1].startswith("a BAD"), bad
    # "*" in a non-empty folder is its last message; UIDs that are not there are no error
    assert fetch_one(r, "b", "FETCH * UID") == ["* 4 FETCH (UID 4)"]
    assert fetch_one(r, "c", "UID FETCH 100:200 FLAGS") == []
    assert fetch_one(r, "d", "UID FETCH 4:100 FLAGS") == ["* 4 FETCH (UID 4 FLAGS (\\Deleted))"]
    still_serving(r)
    # "*" in an empty folder names no message
    r.ok("e", "CREATE " + sample + "empty")
    r.ok("f", "SELECT " + sample + "empty")
    assert r.cmd("g", "FETCH * FLAGS")[-1].startswith("g BAD")
    assert r.cmd("h", "FETCH 1 FLAGS")[-1].startswith("h BAD")
    assert fetch_one(r, "i", "UID FETCH 1:* FLAGS") == []
    assert search(r, "j", "SEARCH ALL") == ""
    still_serving(r)
    r.close()


# ------------------------------------------------------------ STORE, COPY, UID

def test_store(inst, sample):
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    assert r.ok("a", "STORE 1 +FLAGS (\\Flagged)")[:-1] == \
        ["* 1 FETCH (FLAGS (\\Flagged \\Seen))"]
    assert r.ok("b", "STORE 1 -FLAGS (\\Seen)")[:-1] == ["* 1 FETCH (FLAGS (\\Flagged))"]
    assert r.ok("c", "STORE 1 FLAGS (\\Answered \\Draft)")[:-1] == \
        ["* 1 FETCH (FLAGS (\\Answered \\Draft))"]
    assert r.ok("d", "STORE 1 FLAGS.SILENT (\\Seen)")[:-1] == []
    assert r.ok("e", "FETCH 1 FLAGS")[0] == "* 1 FETCH (FLAGS (\\Seen))"
    assert r.ok("f", "STORE 1:2 +FLAGS.SILENT (\\Deleted)")[:-1] == []
    assert r.ok("g", "STORE 1 -FLAGS.SILENT \\Deleted")[:-1] == []
    # flags as separate atoms, without parentheses
    assert r.ok("h", "STORE 3 +FLAGS \\Seen \\Flagged")[:-1] == \
        ["* 3 FETCH (FLAGS (\\Answered \\Flagged \\Seen \\Draft))"]
    # a new keyword: FLAGS and PERMANENTFLAGS announce it first
    lines = r.ok("i", "STORE 1 +FLAGS ($Important)")[:-1]
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work $Important)"
    assert lines[1].startswith("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                               "\\Draft $Work $Important \\*)]")
    assert lines[2] == "* 1 FETCH (FLAGS (\\Seen $Important))"
    assert r.ok("j", "STORE 1 -FLAGS ($Important)")[:-1] == ["* 1 FETCH (FLAGS (\\Seen))"]
    assert search(r, "k", "SEARCH KEYWORD $Important") == ""
    assert r.ok("l", "STORE 2 FLAGS ()")[:-1] == ["* 2 FETCH (FLAGS ())"]
    # removing a keyword nobody has is fine
    assert r.ok("m", "STORE 2 -FLAGS (NeverSeen)")[:-1] == ["* 2 FETCH (FLAGS ())"]
    # UID STORE answers with the UID
    assert r.ok("n", "UID STORE 2 +FLAGS (\\Seen)")[:-1] == ["* 2 FETCH (FLAGS (\\Seen) UID 2)"]
    assert r.ok("o", "UID STORE 50 +FLAGS (\\Seen)")[:-1] == []
    # the flags stay for the next session
    c = connect(inst, login=ALICE)
    c.select(sample, readonly=True)
    typ, data = c.fetch("1:4", "FLAGS")
    assert data == [b"1 (FLAGS (\\Seen))", b"2 (FLAGS (\\Seen))",
                    b"3 (FLAGS (\\Answered \\Flagged \\Seen \\Draft))", b"4 (FLAGS (\\Deleted))"]
    c.logout()
    for bad in ("STORE", "STORE 1", "STORE 1 FLAGS", "STORE 1 FOO (\\Seen)",
                "STORE 1 +FLAGS (\\Recent)", "STORE 1 +FLAGS (\\Bogus)", "STORE 1 +FLAGS (a(b)",
                "STORE 0 +FLAGS (\\Seen)", "STORE 9 +FLAGS (\\Seen)", "STORE x +FLAGS (\\Seen)",
                'STORE 1 +FLAGS ("quoted")', "STORE 1 +FLAGS (x{y)", "STORE 1 *FLAGS (\\Seen)",
                "STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)", "STORE 1 +FLAGS ((\\Seen))"):
        assert r.cmd("p", bad)[-1].startswith("p BAD"), bad
    still_serving(r)
    r.close()


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_keyword_limit(inst, mbox_inst, kind):
    """26 keywords per folder (Dovecot's Maildir letters a-z): then
    PERMANENTFLAGS loses "\\*" and a new keyword is NO [LIMIT]."""
    inst = inst if kind == "maildir" else mbox_inst
    name = folder_with(inst, [(M1, None, None)])
    r = raw_login(inst)
    lines = r.ok("a", "SELECT " + name)
    assert [l for l in lines if l.startswith("* OK [PERMANENTFLAGS (") and "\\*)" in l], lines
    words = ["kw%02d" % i for i in range(26)]
    lines = r.ok("b", "STORE 1 +FLAGS (%s)" % " ".join(words))
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft %s)" % " ".join(words) \
        in lines
    assert "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft %s)] " \
        "Flags permitted." % " ".join(words) in lines, lines
    assert r.cmd("c", "STORE 1 +FLAGS (kw26)")[-1] == "c NO [LIMIT] Too many keywords."
    r.send("d APPEND %s (kw27) {%d+}\r\n%s\r\n" % (name, len(M1), M1.decode()))
    assert r.until_tagged("d")[-1] == "d NO [LIMIT] Too many keywords."
    # the known ones still work, also on appended messages
    r.send("e APPEND %s (kw03 \\Seen) {%d+}\r\n%s\r\n" % (name, len(M1), M1.decode()))
    assert r.until_tagged("e")[-1].startswith("e OK [APPENDUID")
    no_recent = lambda line: line.replace(" \\Recent", "").replace("\\Recent ", "")
    assert no_recent(r.ok("f", "FETCH 2 FLAGS")[0]) == "* 2 FETCH (FLAGS (\\Seen kw03))"
    assert no_recent(r.ok("g", "STORE 1 -FLAGS (kw00 kw01)")[0]).startswith(
        "* 1 FETCH (FLAGS (kw02 ")
    lines = r.ok("h", "SELECT " + name)
    assert [l for l in lines if l.startswith("* OK [PERMANENTFLAGS (") and "\\*" not in l], lines
    still_serving(r)
    r.close()


def test_copy_and_uid_commands(inst, sample):
    target = unique("copy")
    c = connect(inst, login=ALICE)
    c.create(target)
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    validity = int(r.ok("v", "STATUS %s (UIDVALIDITY)" % target)[0].split()[-1].rstrip(")"))
    lines = r.ok("a", "COPY 2:3 " + target)
    assert lines == ["a OK [COPYUID %d 2:3 1:2] Copy completed." % validity], lines
    lines = r.ok("b", "UID COPY 4,1 " + target)
    assert lines == ["b OK [COPYUID %d 1,4 3:4] Copy completed." % validity], lines
    # the copies keep flags, keywords, the internal date and the bytes
    c.select(target, readonly=True)
    typ, data = c.fetch("1:4", "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert data[0][1] == NESTED and data[2][1] == M3 and data[4][1] == M1 and data[6][1] == M4
    # (and are \\Recent for the first session to see them)
    assert b"FLAGS (\\Flagged \\Recent $Work)" in data[0][0]
    same_instant(data[0][0].decode(), "01-Jul-2025 10:20:30 +0200")
    assert b"FLAGS (\\Answered \\Draft \\Recent)" in data[2][0]
    c.logout()
    assert r.cmd("c", "COPY 1 NoSuch" + target)[-1].startswith("c NO [TRYCREATE]")
    assert r.ok("d", "UID COPY 90:99 " + target) == ["d OK Copy completed."]
    # UID FETCH, UID SEARCH, UID STORE with UIDs that differ from the numbers
    r.ok("e", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("e", "STORE 4 -FLAGS.SILENT (\\Deleted)")
    r.ok("f", "EXPUNGE")
    assert fetch_one(r, "g", "UID FETCH 3:4 FLAGS") == \
        ["* 2 FETCH (UID 3 FLAGS (\\Answered \\Draft))", "* 3 FETCH (UID 4 FLAGS ())"]
    assert fetch_one(r, "h", "UID FETCH 1 FLAGS") == []
    assert fetch_one(r, "i", "UID FETCH * UID") == ["* 3 FETCH (UID 4)"]
    r.ok("j", "UID STORE 4 +FLAGS.SILENT (\\Deleted)")
    assert search(r, "j", "UID SEARCH DELETED") == "4"
    assert r.ok("k", "UID STORE 3 FLAGS (\\Seen)")[:-1] == ["* 2 FETCH (FLAGS (\\Seen) UID 3)"]
    for bad in ("COPY", "COPY 1", "COPY 1 a b", "COPY 0 INBOX", "COPY 9 INBOX", "UID COPY x INBOX",
                "UID COPY", "UID STORE 1", "UID SEARCH", "UID EXPUNGE", "UID EXPUNGE 0"):
        assert r.cmd("l", bad)[-1].startswith("l BAD"), bad
    still_serving(r)
    r.close()


# ------------------------------------------------------------ bad input after login

def test_bad_input_after_login(inst, sample):
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    r.send(b"a FETCH 1 (" + b"FLAGS " * 12000 + b")\r\n")        # > 64 KiB
    assert r.line().startswith("a BAD")
    still_serving(r, "z1")
    r.send(b"b " + b"x" * 200000 + b"\r\n")
    assert r.line().startswith("b BAD")
    still_serving(r, "z2")
    # a huge synchronizing literal is refused, nothing follows it
    r.send(b"c SELECT {99999999999}\r\n")
    assert r.line().startswith("c BAD")
    still_serving(r, "z3")
    r.send(b"d APPEND INBOX {99999999999}\r\n")
    assert r.line().startswith("d NO [TOOBIG]")
    still_serving(r, "z4")
    # a LITERAL+ literal too big for a command other than APPEND: read and dropped
    r.send(b"e LIST {100000+}\r\n" + b"a" * 100000 + b" *\r\n")
    assert r.until_tagged("e")[-1].startswith("e BAD")
    still_serving(r, "z5")
    # junk: NUL, 8-bit, control characters, unbalanced parentheses and quotes
    for junk in (b"\x00\x01\x02\xff\xfe junk", b"f NO\x00OP", b"f FETCH 1 (FLAGS\x00)",
                 b"f SEARCH SUBJECT \"a\x00b\"", b"f FETCH 1 (FLAGS", b"f FETCH 1 FLAGS)",
                 b"f SEARCH (ALL", b"f SEARCH ALL))", b"f SELECT \"unterminated",
                 b"f NOOP \xc3\xa4", b"f \xc3\xa4", b"f", b"+ NOOP", b"f FETCH 1 BODY[\r]",
                 b"* NOOP", b"f FETCH 1 (" + b"(" * 50 + b")" * 50 + b")"):
        r.send(junk + b"\r\n")
        line = r.line()
        assert re.match(r"(f|\*|\+) BAD ", line) or line.startswith("f BAD"), (junk, line)
        still_serving(r, "z6")
    # an empty line, a bare LF, a CR without LF
    r.send(b"\r\n")
    assert "BAD" in r.line()
    r.send(b"g NOOP\r\rh NOOP\r\n")
    assert "BAD" in r.line()
    still_serving(r, "z7")
    # too many arguments
    r.send(b"i FETCH 1 (" + b"UID " * 6000 + b")\r\n")
    assert r.line().startswith("i BAD")
    still_serving(r, "z8")
    # the folder is as it was
    assert r.ok("j", "STATUS %s (MESSAGES)" % sample)[0] == "* STATUS %s (MESSAGES 4)" % sample
    r.close()


LONG_COMMANDS = ["SELECT %s", "EXAMINE %s", "CREATE %s", "DELETE %s", "RENAME %s b",
                 "SUBSCRIBE %s", "UNSUBSCRIBE %s", 'LIST "" %s', 'LSUB "" %s',
                 "STATUS %s (MESSAGES)", "APPEND %s {1+}\r\nx", "FETCH %s FLAGS",
                 "FETCH 1 (FLAGS %s)", "STORE 1 +FLAGS (%s)", "COPY 1 %s", "MOVE %s x",
                 "SEARCH SUBJECT %s", 'SEARCH HEADER "X-%s" x', "UID FETCH %s UID",
                 "ENABLE %s", 'ID ("name" "%s")', "%s"]


def test_over_long_arguments(inst, sample):
    """Every command with a 70 kB argument: BAD, and the session goes on;
    a folder name too long for the file system: NO [CANNOT]."""
    r = raw_login(inst)
    r.ok("s", "SELECT " + sample)
    for text in LONG_COMMANDS:
        for arg in ("a" * 70000, '"%s"' % ("q" * 70000)):
            r.send("a " + text % arg + "\r\n")
            assert r.until_tagged("a")[-1].startswith("a BAD"), text
        still_serving(r)
    for text in ("COPY 1 %s", "CREATE %s", "SELECT %s", "STATUS %s (MESSAGES)", "DELETE %s",
                 "SUBSCRIBE %s", "RENAME %s b", "RENAME INBOX.x %s"):
        reply = r.cmd("b", text % ("n" * 1000))[-1]
        assert reply.startswith("b NO") and any(code in reply for code in (
            "[CANNOT]", "[TRYCREATE]", "[NONEXISTENT]")), (text, reply)
    still_serving(r)
    r.close()


# ------------------------------------------------------------ two sessions

def test_two_sessions_see_each_others_changes(inst):
    msgs = [(b"Subject: s%d\r\n\r\nbody\r\n" % i, None, None) for i in range(1, 5)]
    name = folder_with(inst, msgs)
    a = raw_login(inst)
    b = raw_login(inst)
    a.ok("a", "SELECT " + name)
    b.ok("b", "SELECT " + name)
    # a flag change
    b.ok("c", "STORE 2 +FLAGS (\\Flagged)")
    # (A selected first: the new messages are \Recent in A)
    assert "* 2 FETCH (FLAGS (\\Flagged \\Recent))" in a.ok("d", "NOOP")
    # a new message, from APPEND in the other session
    new = "Subject: new\r\n\r\nbody\r\n"
    b.send("e APPEND %s {%d+}\r\n%s\r\n" % (name, len(new), new))
    assert "* 5 EXISTS" in b.until_tagged("e")
    lines = a.ok("f", "NOOP")
    assert "* 5 EXISTS" in lines and [l for l in lines if re.match(r"\* \d RECENT", l)], lines
    # an expunge: not reported during FETCH, STORE or SEARCH (RFC 3501 7.4.1) ...
    b.ok("g", "STORE 3 +FLAGS.SILENT (\\Deleted)")
    b.ok("h", "EXPUNGE")
    lines = a.cmd("i", "FETCH 3 (UID FLAGS)")
    assert not untagged(lines, "EXPUNGE"), lines
    assert lines[-1].startswith("i OK") or lines[-1].startswith("i NO"), lines
    lines = a.ok("j", "FETCH 4 UID")
    assert lines[:-1] == ["* 4 FETCH (UID 4)"], lines
    assert search(a, "k", "SEARCH ALL") in ("1 2 4 5", "1 2 3 4 5")
    # ... but at the next NOOP, with the numbers moving up
    lines = a.ok("l", "NOOP")
    assert untagged(lines, "EXPUNGE") == ["* 3 EXPUNGE"], lines
    assert a.ok("m", "FETCH 1:* UID")[:-1] == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)",
                                               "* 3 FETCH (UID 4)", "* 4 FETCH (UID 5)"]
    # a STORE in A on a message B expunged meanwhile does not touch a neighbour
    b.ok("n", "STORE 4 +FLAGS.SILENT (\\Deleted)")      # UID 5
    b.ok("o", "EXPUNGE")
    a.cmd("p", "STORE 4 +FLAGS (\\Answered)")
    lines = a.ok("q", "NOOP")
    assert untagged(lines, "EXPUNGE") == ["* 4 EXPUNGE"], lines
    assert "\\Answered" not in "".join(a.ok("r", "FETCH 1:* FLAGS"))
    # imaplib sees it all too
    c = connect(inst, login=ALICE)
    c.select(name)
    assert c.search(None, "ALL")[1] == [b"1 2 3"]
    c.logout()
    a.close()
    b.close()


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_selected_folder_deleted_or_renamed_by_another_session(inst, mbox_inst, kind):
    """The other session says BYE and goes (as Dovecot): its view has no
    folder behind it any more.  LOGOUT still gets its answer."""
    inst = inst if kind == "maildir" else mbox_inst
    for action in ("DELETE %s", "RENAME %s %s-renamed"):
        name = folder_with(inst, [(M1, None, None)])
        a = raw_login(inst)
        b = raw_login(inst)
        a.ok("a", "SELECT " + name)
        b.ok("b", "SELECT " + name)
        c = raw_login(inst)
        c.ok("c", action.replace("%s", name))
        a.send("d FETCH 1 FLAGS\r\n")
        assert a.line() == "* BYE Selected mailbox was deleted or renamed, have to disconnect."
        assert a.closed() and a.buf == b""
        lines = b.cmd("e", "LOGOUT")
        assert lines[-1] == "e OK Logout completed.", lines
        # the folder was not made again behind the client's back
        assert c.ok("f", 'LIST "" %s' % name) == ["f OK List completed."]
        c.close()


# ------------------------------------------------------------ mbox

def test_mbox_folders(mbox_inst):
    """The same commands on mbox folders (X-UID, Status, X-Keywords)."""
    inst = mbox_inst
    name = folder_with(inst, SAMPLE)
    a = raw_login(inst)
    b = raw_login(inst)
    lines = a.ok("a", "SELECT " + name)
    assert "* 4 EXISTS" in lines and "* OK [UIDNEXT 5] Predicted next UID" in lines
    assert fetch_one(a, "b", "FETCH 2 BODYSTRUCTURE") == \
        ["* 2 FETCH (BODYSTRUCTURE %s)" % NESTED_BODYSTRUCTURE]
    lines = fetch_one(a, "c", "FETCH 1:4 (FLAGS BODY.PEEK[])")
    assert [l for l in lines if isinstance(l, bytes)] == [M1, NESTED, M3, M4]
    for i, (key, expect) in enumerate(SEARCHES):
        if not key.startswith("UID"):
            assert search(a, "d%d" % i, "SEARCH " + key) == expect, key
    b.ok("e", "SELECT " + name)
    b.ok("f", "STORE 1 +FLAGS ($Later)")
    lines = a.ok("g", "NOOP")
    assert "* 1 FETCH (FLAGS (\\Seen $Later))" in lines, lines
    a.ok("h", "EXPUNGE")
    lines = b.ok("i", "NOOP")
    assert untagged(lines, "EXPUNGE") == ["* 4 EXPUNGE"], lines
    lines = a.ok("j", "COPY 1:3 INBOX")
    assert re.match(r"j OK \[COPYUID \d+ 1:3 \d+:\d+\]", lines[-1]), lines
    a.ok("k", "CLOSE")
    # a second session started later sees the same UIDs and flags
    c = connect(inst, login=ALICE)
    c.select(name)
    typ, data = c.fetch("1:*", "(UID FLAGS)")
    assert data == [b"1 (UID 1 FLAGS (\\Seen $Later))", b"2 (UID 2 FLAGS (\\Flagged $Work))",
                    b"3 (UID 3 FLAGS (\\Answered \\Draft))"], data
    c.logout()
    a.close()
    b.close()


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_flags_of_many_messages_at_once(inst, mbox_inst, kind):
    """STORE 1:* and FETCH 1:* BODY[] change 300 messages (an mbox in one
    rewrite); another session sees every change."""
    inst = inst if kind == "maildir" else mbox_inst
    name = unique("many")
    r = raw_login(inst)
    r.ok("a", "CREATE " + name)
    msgs = [b"Subject: many %d\r\n\r\nbody %d\r\n" % (i, i) for i in range(300)]
    r.send(b"".join(b"b APPEND %s {%d+}\r\n%s\r\n" % (name.encode(), len(m), m) for m in msgs))
    for _ in msgs:
        assert r.until_tagged("b")[-1].startswith("b OK")
    r.ok("c", "SELECT " + name)
    lines = r.ok("d", "STORE 1:* +FLAGS ($Batch)")
    assert len(untagged(lines, "FETCH")) == 300
    lines = r.ok("e", "FETCH 1:* BODY[]")
    assert [l for l in lines if isinstance(l, bytes)] == msgs
    assert all("\\Seen" in l for l in untagged(lines, "FETCH")), lines[:3]
    other = raw_login(inst)
    other.ok("f", "EXAMINE " + name)
    assert search(other, "g", "SEARCH SEEN KEYWORD $Batch") == " ".join(
        str(i) for i in range(1, 301))
    r.ok("h", "STORE 2:300 -FLAGS.SILENT (\\Seen $Batch)")
    # (a command works on the view as of its start, as Dovecot's: NOOP first)
    assert len(untagged(other.ok("i", "NOOP"), "FETCH")) == 299
    assert search(other, "j", "SEARCH SEEN KEYWORD $Batch") == "1"
    other.close()
    r.close()

