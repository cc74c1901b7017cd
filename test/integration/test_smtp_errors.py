"""test_smtp_errors.py - bad SMTP input gets the RFC reply and the session goes on.

Each test sends one kind of bad input on a raw socket, checks the reply
code (RFC 5321 / Postfix's choice), and then checks that the same session
still works with a NOOP that gets 250.  The instance here has 127.0.0.1
outside mynetworks (so relaying is denied) and message_size_limit = 100000.
"""

import re
import time

import pytest


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory(main={"mynetworks": "192.0.2.0/24",
                                         "message_size_limit": "100000"})


@pytest.fixture
def c(inst):
    """A raw session after EHLO."""
    conn = inst.raw()
    assert conn.greeting[0] == 220, conn.greeting
    assert conn.cmd("EHLO client.example")[0] == 250
    yield conn
    conn.close()


def still_alive(conn):
    code, text = conn.cmd("NOOP")
    assert code == 250, (code, text)


def test_greeting_and_ehlo_keywords(inst):
    conn = inst.raw()
    try:
        assert conn.greeting[0] == 220
        assert "mail.posthorn.test" in conn.greeting[1]
        code, text = conn.cmd("EHLO client.example")
        assert code == 250
        kw = text.upper()
        for k in ("PIPELINING", "SIZE 100000", "8BITMIME", "ENHANCEDSTATUSCODES"):
            assert k in kw, (k, text)
        assert conn.cmd("QUIT")[0] == 221
        assert conn.closed()
    finally:
        conn.close()


def test_unknown_command(c):
    code, text = c.cmd("FROBNICATE now")
    assert code == 502, text
    still_alive(c)


def test_rcpt_before_mail(c):
    code, text = c.cmd("RCPT TO:<alice@posthorn.test>")
    assert code == 503, text
    still_alive(c)


def test_data_before_rcpt(c):
    code, text = c.cmd("DATA")
    assert code == 503, text
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    code, text = c.cmd("DATA")
    # RFC 5321 3.3: 503 or 554 "no valid recipients" (Postfix: 554 5.5.1)
    assert code in (503, 554), text
    still_alive(c)


def test_nested_mail(c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    code, text = c.cmd("MAIL FROM:<t@example.com>")
    assert code == 503, text
    still_alive(c)
    # the first transaction is still usable
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250


def test_rset_clears_transaction(c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 503
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250


def test_bad_address_syntax(c):
    code, text = c.cmd("MAIL FROM:<a b@c>")
    assert code == 501, text
    still_alive(c)
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    code, text = c.cmd("RCPT TO:<alice@@posthorn.test")
    assert code == 501, text
    still_alive(c)


def test_overlong_command_line(c):
    code, text = c.cmd("NOOP " + "x" * 5000)
    assert code == 500, text
    still_alive(c)


def test_size_at_mail_too_large(c):
    code, text = c.cmd("MAIL FROM:<s@example.com> SIZE=200000")
    assert code == 552, text
    still_alive(c)
    assert c.cmd("MAIL FROM:<s@example.com> SIZE=1000")[0] == 250


def test_data_too_large(inst, c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    line = b"y" * 98 + b"\r\n"
    c.send(b"Subject: too large\r\n\r\n" + line * 1500 + b".\r\n")
    code, text = c.reply()
    assert code == 552, text
    still_alive(c)


def test_unknown_local_user(c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    code, text = c.cmd("RCPT TO:<nosuchuser@posthorn.test>")
    assert code == 550, text
    still_alive(c)
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250


def test_unknown_virtual_user(c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    code, text = c.cmd("RCPT TO:<nobody@virt.test>")
    assert code == 550, text
    still_alive(c)


def test_relay_denied(c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    code, text = c.cmd("RCPT TO:<someone@outside.example>")
    assert code in (454, 554), text
    assert re.search(r"[45]\.7\.1", text), text
    assert "Relay access denied" in text
    still_alive(c)


def test_binary_junk(c):
    junk = bytes(b for b in range(1, 256) if b not in (10, 13)) + b"\0\0"
    c.send(junk + b"\r\n")
    code, text = c.reply()
    assert 500 <= code <= 599, text
    still_alive(c)


def test_helo_without_argument(c):
    code, text = c.cmd("HELO")
    assert code == 501, text
    still_alive(c)
    code, text = c.cmd("EHLO")
    assert code == 501, text
    still_alive(c)


def test_vrfy_and_help(c):
    code, text = c.cmd("VRFY alice")
    assert code in (250, 252), text
    code, text = c.cmd("HELP")
    assert code in (214, 502), text
    still_alive(c)


def test_bare_lf_does_not_end_data(inst, c):
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: bare lf test\r\n\r\nline1\n.\nline2\r\n.\r\n")
    code, text = c.reply()
    assert code == 250, text
    still_alive(c)
    data = inst.wait_for_message(b"Subject: bare lf test", "alice")
    assert data is not None
    body = data.partition(b"\n\n")[2]
    assert body == b"line1\n.\nline2\n", body
    # exactly one message came from that transaction
    n = sum(1 for m in inst.maildir_messages("alice") if b"line2" in m or b"line1" in m)
    assert n == 1


def test_too_many_errors(make_instance):
    inst = make_instance(main={"smtpd_soft_error_limit": "2",
                               "smtpd_hard_error_limit": "4"})
    conn = inst.raw(timeout=30)
    try:
        codes = []
        for _ in range(10):
            try:
                code, text = conn.cmd("BOGUS")
            except (EOFError, ConnectionResetError, BrokenPipeError):
                break
            codes.append(code)
            if code == 421:
                break
        assert 421 in codes, codes
        assert conn.closed(), "session must be closed after 421"
    finally:
        conn.close()
    assert inst.greets()


def test_error_sleep_does_not_stall_others(make_instance):
    """Over smtpd_soft_error_limit each reply waits smtpd_error_sleep_time
    (Postfix's tarpit), on a timer: another client of the same smtpd
    process is answered at once meanwhile.  A queued message starts the
    count again."""
    inst = make_instance(main={"smtpd_soft_error_limit": "2", "smtpd_hard_error_limit": "8",
                               "smtpd_error_sleep_time": "1s"})
    slow, other = inst.raw(timeout=30), inst.raw(timeout=30)
    try:
        for _ in range(3):                          # 3 errors, the last
            assert slow.cmd("BOGUS")[0] == 502      # counted after its reply
        t0 = time.monotonic()
        assert slow.cmd("BOGUS")[0] == 502          # error count 3 > 2: delayed
        assert time.monotonic() - t0 >= 0.9
        slow.send(b"NOOP\r\n")                        # delayed as well ...
        t0 = time.monotonic()
        assert other.cmd("NOOP")[0] == 250            # ... but not this one
        assert time.monotonic() - t0 < 0.5
        assert slow.reply()[0] == 250
        for line in ("EHLO client.example", "MAIL FROM:<a@example.com>",
                     "RCPT TO:<alice@posthorn.test>", "DATA"):
            assert slow.cmd(line)[0] in (250, 354)
        assert slow.cmd("Subject: x\r\n\r\nbody\r\n.")[0] == 250
        t0 = time.monotonic()
        assert slow.cmd("NOOP")[0] == 250             # counted from zero again
        assert time.monotonic() - t0 < 1.0
    finally:
        slow.close()
        other.close()


def test_junk_command_limit(make_instance):
    """NOOP, RSET and VRFY beyond smtpd_junk_command_limit count as errors,
    up to smtpd_hard_error_limit's 421."""
    inst = make_instance(main={"smtpd_junk_command_limit": "3", "smtpd_hard_error_limit": "3",
                               "smtpd_soft_error_limit": "10"})
    conn = inst.raw(timeout=30)
    try:
        codes = [conn.cmd(cmd)[0] for cmd in ("NOOP", "RSET", "NOOP", "NOOP", "RSET", "NOOP")]
        assert codes == [250, 250, 250, 250, 250, 250], codes
        assert conn.cmd("NOOP")[0] == 421
        assert conn.closed()
    finally:
        conn.close()
    assert re.search(r"too many errors after NOOP from", inst.log())


def test_nul_byte_in_command(c):
    """A NUL would cut the command short: the whole line is refused."""
    c.send(b"MAIL FROM:<a@b.example>\0 SIZE=1\r\n")
    code, text = c.reply()
    assert code == 500, text
    still_alive(c)
