"""test_bdat.py - CHUNKING / BDAT (RFC 3030) in smtpd, with Postfix's replies.

EHLO offers CHUNKING.  Chunks pipelined behind MAIL and RCPT make one
message, byte for byte (CRLF stored as LF): a chunk holding "\\r\\n.\\r\\n"
or text that looks like SMTP commands is content, never a command or an
end of data.  Every refused chunk is still read to its end before the
reply (so its bytes never run as commands): no MAIL (503), no recipients
(554), a bad LAST word (501), an empty chunk that is not LAST (551), a
chunk over message_size_limit (552, the transaction ends); a count that
is not a number ends the session (521).  DATA, MAIL and RCPT in the middle
of a chunked message get 503; RSET drops it.  Python's smtplib drives one
session through docmd()/send(), as a client library would.
"""

import smtplib

import pytest

from posthorn_instance import wait_until

ALICE = "alice@posthorn.test"


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory(main={"message_size_limit": "2000"})


def session(inst):
    c = inst.raw()
    code, text = c.cmd("EHLO client.example")
    assert code == 250 and "CHUNKING" in text.split("\n"), text
    return c


def replies(c, n):
    return [c.reply() for _ in range(n)]


def stored(inst, token):
    assert inst.wait_for_message(token.encode(), user="alice"), inst.log_tail()
    for data in inst.maildir_messages("alice"):
        if token.encode() in data:
            return data.split(b"\n\n", 1)[1] if b"\n\n" in data else data
    return None


def test_pipelined_chunks_are_content(inst):
    body = ("Subject: chunked-1\r\n\r\nfirst\r\n.\r\nMAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n"
            "..dots\r\nno line end").encode()
    c = session(inst)
    c.send(b"MAIL FROM:<s@example.com>\r\nRCPT TO:<%s>\r\nBDAT 23\r\n" % ALICE.encode()
           + body[:23] + b"BDAT %d\r\n" % (len(body) - 23) + body[23:] + b"BDAT 0 LAST\r\n")
    got = replies(c, 5)
    assert got[:4] == [(250, "2.1.0 Ok"), (250, "2.1.5 Ok"), (250, "2.0.0 Ok: 23 bytes"),
                       (250, "2.0.0 Ok: %d bytes" % (len(body) - 23))], got
    assert got[4][0] == 250 and got[4][1].startswith("2.0.0 Ok: queued as "), got
    c.cmd("QUIT")
    c.close()
    data = inst.wait_for_message(b"chunked-1", user="alice")
    assert data.endswith(b"first\n.\nMAIL FROM:<x@y>\nRCPT TO:<z@w>\n..dots\nno line end\n"), data
    assert inst.wait_for_log("bdat=3"), inst.log_tail()


def test_refused_chunks_are_read_first(inst):
    c = session(inst)
    # no MAIL: the chunk's "QUIT" is content to skip, not a command
    c.send(b"BDAT 6\r\nQUIT\r\n")
    assert c.reply() == (503, "5.5.1 Error: need MAIL command")
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    c.send(b"BDAT 6\r\nQUIT\r\n")
    assert c.reply() == (554, "5.5.1 Error: no valid recipients")
    assert c.cmd("RCPT TO:<%s>" % ALICE)[0] == 250
    c.send(b"BDAT 6 NOTLAST\r\nQUIT\r\n")
    assert c.reply() == (501, "5.5.4 Syntax: BDAT count [LAST]")
    assert c.cmd("BDAT 0") == (551, "5.7.1 Null BDAT request")
    c.send(b"BDAT 4\r\nabcd")
    assert c.reply() == (250, "2.0.0 Ok: 4 bytes")
    for cmd, name in (("DATA", "DATA"), ("MAIL FROM:<a@b.example>", "MAIL"),
                      ("RCPT TO:<%s>" % ALICE, "RCPT")):
        assert c.cmd(cmd) == (503, "5.5.1 Error: %s after BDAT" % name)
    assert c.cmd("RSET")[0] == 250                    # drops the chunked message
    assert c.cmd("BDAT 0 LAST") == (503, "5.5.1 Error: need MAIL command")
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_size_limit(inst):
    c = session(inst)
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % ALICE)[0] == 250
    c.send(b"BDAT 1500\r\n" + b"x" * 1500)
    assert c.reply() == (250, "2.0.0 Ok: 1500 bytes")
    c.send(b"BDAT 600 LAST\r\n" + b"y" * 600)
    assert c.reply() == (552, "5.3.4 Chunk exceeds message size limit")
    c.send(b"BDAT 3 LAST\r\nabc")                       # the transaction is over
    assert c.reply() == (503, "5.5.1 Error: need MAIL command")
    assert c.cmd("NOOP")[0] == 250
    c.close()
    assert "552 5.3.4 Chunk exceeds message size limit" in inst.log()


def test_bad_count_ends_the_session(inst):
    c = session(inst)
    assert c.cmd("BDAT ten") == (521, "5.5.4 Syntax: BDAT count [LAST]")
    assert c.closed()
    c.close()


def test_smtplib_drives_bdat(inst):
    s = smtplib.SMTP("127.0.0.1", inst.port, timeout=20)
    s.ehlo()
    assert s.has_extn("chunking")
    assert s.mail("s@example.com")[0] == 250
    assert s.rcpt(ALICE)[0] == 250
    msg = b"Subject: chunked-smtplib\r\n\r\nsent with smtplib in two chunks\r\n"
    s.putcmd("BDAT %d" % 30)
    s.send(msg[:30])
    assert s.getreply() == (250, b"2.0.0 Ok: 30 bytes")
    s.putcmd("BDAT %d LAST" % (len(msg) - 30))
    s.send(msg[30:])
    code, text = s.getreply()
    assert code == 250 and text.startswith(b"2.0.0 Ok: queued as"), text
    s.quit()
    assert wait_until(lambda: inst.wait_for_message(b"chunked-smtplib", user="alice"), 10)
