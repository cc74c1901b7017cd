"""test_header_checks.py - header_checks, body_checks, message_drop_headers.

One instance with header_checks = pcre:FILE and body_checks = pcre:FILE
(small header_size_limit and body_checks_size_limit so the limits can be
seen) serves most tests: every action (REJECT with and without text and
with a 4.x.x code, DISCARD, HOLD, WARN, IGNORE, REPLACE, PREPEND), a folded
header matched as a whole, body lines, the limits, and Postfix's log line
shapes.  Bcc:, Resent-Bcc:, Content-Length: and Return-Path: are dropped
from every message (message_drop_headers), with and without checks, and
content that no rule matches arrives byte-exact in both setups.
"""

import os
import re
import shutil
import tempfile
import uuid

import pytest

from posthorn_instance import strip_added_headers, header_value, wait_until

HEADER_CHECKS = r"""
# header_checks for test_header_checks.py
/^Subject:.*hbc-reject-default/     REJECT
/^Subject:.*hbc-reject-text/        REJECT Spam is not welcome here
/^Subject:.*hbc-reject-tempfail/    REJECT 4.7.1 Try again later
/^Subject:.*hbc-discard/            DISCARD dropped on the floor
/^Subject:.*hbc-hold/               HOLD held for review
/^Subject:.*hbc-warn/               WARN looks odd
/^Subject:.*hbc-prepend/            PREPEND X-Prepended: yes
/^X-Drop-Me:/                       IGNORE
/^X-Replace-Me:\s*(.*)/             REPLACE X-Replaced: was $1
/^X-Folded:.*first part\n\s+second part/  REJECT folded header matched
/^X-Long:.*hbc-beyond-limit/        REJECT beyond the limit
/^X-Bad-Action:/                    FROBNICATE
/^Bcc:.*hbc-bcc-warn/               WARN bcc seen
"""

BODY_CHECKS = r"""
# body_checks for test_header_checks.py
/^hbc-body-reject/                  REJECT body line refused
/^hbc-body-ignore/                  IGNORE
/^hbc-body-replace (.*)/            REPLACE replaced body $1
/^hbc-body-prepend/                 PREPEND prepended body line
/^hbc-body-warn/                    WARN body warn
"""

HEADER_LIMIT = 2000
BODY_LIMIT = 10000
RCPT = "alice@posthorn.test"


def message(subject, body=b"body\r\n", extra=b""):
    """A complete message, CRLF line ends; EXTRA headers go after Subject."""
    mid = "<%s@client.example>" % uuid.uuid4().hex
    return (b"From: Sender <sender@example.com>\r\n"
            b"To: Alice <alice@posthorn.test>\r\n"
            b"Subject: " + subject.encode() + b"\r\n" + extra +
            b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
            b"Message-Id: " + mid.encode() + b"\r\n"
            b"\r\n" + body)


def lf(data):
    return data.replace(b"\r\n", b"\n")


def send(inst, msg):
    """Send MSG to alice; returns (code, text) of the end-of-data reply."""
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        s.rcpt(RCPT)
        code, text = s.data(msg)
        return code, text.decode()


def queued_id(text):
    m = re.search(r"queued as ([0-9A-F]+)", text)
    assert m, text
    return m.group(1)


def not_delivered(inst, needle, wait=1.5):
    """True when no message containing NEEDLE reaches alice within WAIT s."""
    return inst.wait_for_message(needle.encode(), "alice", timeout=wait) is None


@pytest.fixture(scope="module")
def tables():
    """The pcre files, in a directory that mail_owner can read."""
    d = tempfile.mkdtemp(prefix="ph-hbc-", dir="/tmp")
    os.chmod(d, 0o755)
    for name, text in (("header_checks", HEADER_CHECKS), ("body_checks", BODY_CHECKS)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(d, name), 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def inst(module_instance_factory, tables):
    return module_instance_factory(main={
        "header_checks": "pcre:" + os.path.join(tables, "header_checks"),
        "body_checks": "pcre:" + os.path.join(tables, "body_checks"),
        "header_size_limit": str(HEADER_LIMIT),
        "body_checks_size_limit": str(BODY_LIMIT),
    })


@pytest.fixture(scope="module")
def plain(module_instance_factory):
    return module_instance_factory()


LOG_TAIL = (r" from [^ ]+\[127\.0\.0\.1\]; from=<sender@example\.com> "
            r"to=<alice@posthorn\.test> proto=ESMTP helo=<client\.example>")


def test_reject_default_text(inst):
    code, text = send(inst, message("hbc-reject-default"))
    assert (code, text) == (550, "5.7.1 Message content rejected")
    assert inst.wait_for_log(r"[0-9A-F]+: reject: header Subject: hbc-reject-default"
                             + LOG_TAIL + r": 5\.7\.1 Message content rejected$")
    assert not_delivered(inst, "hbc-reject-default")
    assert inst.queue_empty(("incoming", "active", "deferred", "hold"))


def test_reject_with_text(inst):
    code, text = send(inst, message("hbc-reject-text"))
    assert (code, text) == (550, "5.7.1 Spam is not welcome here")


def test_reject_tempfail_code(inst):
    code, text = send(inst, message("hbc-reject-tempfail"))
    assert (code, text) == (451, "4.7.1 Try again later")


def test_session_goes_on_after_reject(inst):
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        s.rcpt(RCPT)
        assert s.data(message("hbc-reject-default"))[0] == 550
        s.mail("sender@example.com")
        s.rcpt(RCPT)
        code, _ = s.data(message("after a reject"))
        assert code == 250
    assert inst.wait_for_message(b"Subject: after a reject", "alice")


def test_discard(inst):
    code, text = send(inst, message("hbc-discard"))
    assert code == 250
    qid = queued_id(text)
    assert inst.wait_for_log(r"%s: discard: header Subject: hbc-discard" % qid
                             + LOG_TAIL + r": dropped on the floor$")
    assert not_delivered(inst, "hbc-discard")
    assert not any(qid in p for q in ("incoming", "active", "deferred", "hold")
                   for p in inst.queue_files(q))


def test_hold(inst):
    code, text = send(inst, message("hbc-hold"))
    assert code == 250
    qid = queued_id(text)
    assert inst.wait_for_log(r"%s: hold: header Subject: hbc-hold" % qid
                             + LOG_TAIL + r": held for review$")
    held = [p for p in inst.queue_files("hold") if p.endswith(qid)]
    assert held, "no file in hold/"
    assert os.stat(held[0]).st_mode & 0o100, "held file is not marked complete"
    assert not_delivered(inst, "hbc-hold", wait=3)
    assert [p for p in inst.queue_files("hold") if p.endswith(qid)]
    assert not any(qid in p for q in ("incoming", "active", "deferred")
                   for p in inst.queue_files(q))


def test_warn_logs_and_delivers(inst):
    code, text = send(inst, message("hbc-warn"))
    assert code == 250
    qid = queued_id(text)
    assert inst.wait_for_message(b"Subject: hbc-warn", "alice")
    assert re.search(r"%s: warning: header Subject: hbc-warn" % qid + LOG_TAIL
                     + r": looks odd$", inst.log(), re.M)


def test_ignore_removes_header(inst):
    msg = message("hbc-ignore", extra=b"X-Drop-Me: gone\r\n\tcontinued\r\nX-Keep: kept\r\n")
    assert send(inst, msg)[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-ignore", "alice")
    assert data and b"X-Drop-Me" not in data and b"continued" not in data
    assert b"X-Keep: kept\n" in data


def test_replace_header(inst):
    msg = message("hbc-replace", extra=b"X-Replace-Me: original value\r\n")
    assert send(inst, msg)[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-replace", "alice")
    assert data and b"X-Replace-Me" not in data
    assert b"\nX-Replaced: was original value\n" in data


def test_prepend_header(inst):
    assert send(inst, message("hbc-prepend"))[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-prepend", "alice")
    assert data and b"\nX-Prepended: yes\nSubject: hbc-prepend\n" in data


def test_folded_header_matched_whole(inst):
    msg = message("hbc-folded", extra=b"X-Folded: first part\r\n\tsecond part\r\n")
    code, text = send(inst, msg)
    assert (code, text) == (550, "5.7.1 folded header matched")
    # The log shows the newline and tab of the logical header as "?".
    assert inst.wait_for_log(r"reject: header X-Folded: first part\?\?second part from ")


def test_unknown_action_is_ignored(inst):
    msg = message("hbc-bad-action", extra=b"X-Bad-Action: yes\r\n")
    assert send(inst, msg)[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-bad-action", "alice")
    assert data and b"X-Bad-Action: yes\n" in data
    assert re.search(r"warning: unknown command in header_checks map: FROBNICATE", inst.log())


def test_body_reject(inst):
    body = b"first line\r\nhbc-body-reject this\r\nlast\r\n"
    code, text = send(inst, message("hbc-body-reject", body))
    assert (code, text) == (550, "5.7.1 body line refused")
    assert inst.wait_for_log(r"reject: body hbc-body-reject this" + LOG_TAIL
                             + r": 5\.7\.1 body line refused$")


def test_body_ignore_replace_prepend_warn(inst):
    body = (b"keep 1\r\nhbc-body-ignore me\r\nhbc-body-replace old text\r\n"
            b"hbc-body-prepend here\r\nhbc-body-warn\r\nkeep 2\r\n")
    assert send(inst, message("hbc-body-actions", body))[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-body-actions", "alice")
    assert data is not None
    got = data.partition(b"\n\n")[2]
    assert got == (b"keep 1\nreplaced body old text\n"
                   b"prepended body line\nhbc-body-prepend here\nhbc-body-warn\nkeep 2\n")
    assert re.search(r"warning: body hbc-body-warn" + LOG_TAIL + r": body warn$",
                     inst.log(), re.M)


def test_body_checks_size_limit(inst):
    filler = b"".join(b"filler line %05d\r\n" % i for i in range(BODY_LIMIT // 10))
    body = filler + b"hbc-body-reject not looked at\r\n"
    assert send(inst, message("hbc-body-limit", body))[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-body-limit", "alice")
    assert data and data.endswith(b"hbc-body-reject not looked at\n")


def test_header_longer_than_limit_streams_whole(inst):
    value = b" ".join([b"word%04d" % i for i in range(600)])	# ~5400 bytes
    folded = re.sub(rb"(.{70}) ", rb"\1\r\n\t", value)
    extra = b"X-Long: " + folded + b" hbc-beyond-limit\r\n"
    msg = message("hbc-long-header", extra=extra)
    assert send(inst, msg)[0] == 250, "a match beyond header_size_limit must not count"
    data = inst.wait_for_message(b"Subject: hbc-long-header", "alice")
    assert data and strip_added_headers(data) == lf(msg)


def test_unmatched_content_byte_exact_with_checks(inst):
    body = (b"plain line\r\n"
            b"8-bit: \xc3\xa4\xc3\xb6\xc3\xbc \xff\xfe\r\n"
            b"long " + b"y" * 7000 + b"\r\n"
            b"\r\n"
            b"..leading dot\r\n"
            b"trailing spaces   \r\n")
    msg = message("hbc-exact", body, extra=b"X-Folded: other\r\n  text\r\n")
    assert send(inst, msg)[0] == 250
    data = inst.wait_for_message(b"Subject: hbc-exact", "alice")
    assert data and strip_added_headers(data) == lf(msg)


def drop_headers_case(inst, subject):
    extra = (b"Bcc: hidden@example.com hbc-bcc-warn,\r\n\tsecond@example.com\r\n"
             b"Resent-Bcc: other@example.com\r\n"
             b"Content-Length: 12345\r\n"
             b"Return-Path: <forged@example.com>\r\n"
             b"X-After: stays\r\n")
    assert send(inst, message(subject, extra=extra))[0] == 250
    data = inst.wait_for_message(("Subject: " + subject).encode(), "alice")
    assert data is not None
    head = data.partition(b"\n\n")[0]
    for name in (b"Bcc:", b"Resent-Bcc:", b"Content-Length:", b"second@example"):
        assert name not in head
    assert head.count(b"Return-Path:") == 1
    assert header_value(data, "Return-Path") == b"<sender@example.com>"
    assert b"\nX-After: stays\n" in head
    return data


def test_drop_headers_with_checks(inst):
    drop_headers_case(inst, "hbc-drop-checks")
    # header_checks saw the Bcc: header before it was dropped
    assert re.search(r"warning: header Bcc: hidden@example\.com hbc-bcc-warn", inst.log())


def test_drop_headers_without_checks(plain):
    drop_headers_case(plain, "hbc-drop-plain")


def test_byte_exact_without_checks(plain):
    body = (b"8-bit: \xc3\xa4\xff\x80\r\n"
            b"long " + b"z" * 9000 + b"\r\n"
            b"\tindented\r\n")
    msg = message("hbc-plain-exact", body,
                  extra=b"X-Folded: a\r\n\tb\r\nX-Long: " + b"q" * 5000 + b"\r\n")
    assert send(plain, msg)[0] == 250
    data = plain.wait_for_message(b"Subject: hbc-plain-exact", "alice")
    assert data and strip_added_headers(data) == lf(msg)


def test_table_that_fails_defers_with_a_clear_reason(make_instance):
    """A header_checks table that cannot answer: 451 4.3.5 and a warning
    naming the parameter and the table, the header key on one short line
    (never a raw multi-line header in the log)."""
    import smtplib
    inst = make_instance(main={"header_checks": "pcre:/nonexistent/header_checks"})
    with pytest.raises(smtplib.SMTPDataError) as err:
        with smtplib.SMTP("127.0.0.1", inst.port) as s:
            s.sendmail("a@example.com", ["bob@posthorn.test"],
                       "Subject: x\r\nX-Folded: one\r\n\ttwo\r\n\r\nbody\r\n")
    assert err.value.smtp_code == 451
    assert err.value.smtp_error == b"4.3.5 Server configuration problem"
    assert inst.wait_for_log(r"warning: [0-9A-F]+: header_checks map lookup problem "
                             r"\(pcre:/nonexistent/header_checks\) -- message not "
                             r"accepted, try again later")
    for line in inst.log().splitlines():
        assert line[:1].isalpha(), "a continuation line in the log: %r" % line
