"""test_dsn.py - RFC 3461 DSN parameters in smtpd (issue 5).

EHLO advertises DSN; MAIL FROM takes RET=FULL|HDRS and ENVID=xtext, RCPT
TO takes NOTIFY=NEVER|SUCCESS,FAILURE,DELAY and ORCPT=type;xtext.  The
values are decoded and stored in the queue file: A records dsn_ret and
dsn_envid, and an N record "NOTIFY ORCPT" before each R record (ORCPT
defaults to "rfc822;" + the RCPT address, as Postfix records it; virtual
alias expansions inherit the RCPT's NOTIFY and ORCPT).  Every new file
has a W (delay warning) record right after T.  Bad or repeated
parameters get Postfix's 501 replies and the session goes on.  Stored
files are read with a small record reader here (qmgr is off for those
tests); one test checks that such a message is still delivered.
"""

import os
import uuid

import pytest

from posthorn_instance import wait_until

VIRTUAL = """\
valias.test          virtual alias domain
team@valias.test     alice@posthorn.test, bob@posthorn.test
"""


def read_records(path):
    """[(type char, bytes)] of a queue file: type byte, varint length, data."""
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], 0
    while i < len(data):
        rtype = chr(data[i])
        i += 1
        length, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((rtype, data[i:i + length]))
        i += length
    return out


def envelope(inst, qid):
    """(attrs dict, [(R address, N record or None, O record or None)], types)."""
    paths = [p for p in inst.queue_files("incoming") if os.path.basename(p) == qid]
    assert paths, "queue file %s not in incoming/" % qid
    recs = read_records(paths[0])
    attrs, rcpts, pending = {}, [], {}
    for t, d in recs:
        if t == "M":
            break
        if t == "A":
            k, v = d.decode().split("=", 1)
            attrs[k] = v
        elif t in "ON":
            pending[t] = d.decode()
        elif t == "R":
            rcpts.append((d.decode(), pending.get("N"), pending.get("O")))
            pending = {}
    return attrs, rcpts, "".join(t for t, _ in recs)


MESSAGE = b"From: s@example.com\r\nSubject: dsn\r\n\r\nbody\r\n"


def transaction(raw, mail, rcpts):
    """MAIL, RCPTs, DATA on a RawSMTP; returns the queue id."""
    code, text = raw.cmd(mail)
    assert code == 250, text
    for r in rcpts:
        code, text = raw.cmd(r)
        assert code == 250, (r, text)
    code, text = raw.cmd("DATA")
    assert code == 354, text
    code, text = raw.cmd(MESSAGE.decode() + ".")
    assert code == 250, text
    return text.rsplit(" ", 1)[-1]


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    i = module_instance_factory(main={
        "virtual_alias_maps": "texthash:$config_directory/virtual",
    }, qmgr=False, start=False)
    with open(os.path.join(i.etc, "virtual"), "w") as f:
        f.write(VIRTUAL)
    return i.start()


def test_ehlo_lists_dsn(inst):
    raw = inst.raw()
    code, text = raw.cmd("EHLO client.example")
    assert code == 250
    lines = text.split("\n")
    assert "DSN" in lines
    assert lines.index("8BITMIME") < lines.index("DSN")
    assert lines.index("ENHANCEDSTATUSCODES") < lines.index("DSN")
    raw.cmd("QUIT")
    raw.close()


def test_dsn_parameters_stored(inst):
    raw = inst.raw()
    raw.cmd("EHLO client.example")
    qid = transaction(raw, "MAIL FROM:<s@example.com> RET=HDRS ENVID=abc+2Bdef", [
        "RCPT TO:<alice@posthorn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user@example.com",
        "RCPT TO:<bob@posthorn.test>",
        "RCPT TO:<demo@virt.test> notify=delay ORCPT=rfc822;x+2By@example.com",
    ])
    raw.cmd("QUIT")
    raw.close()
    attrs, rcpts, types = envelope(inst, qid)
    assert types.startswith("CTWS"), types
    assert attrs["dsn_ret"] == "HDRS"
    assert attrs["dsn_envid"] == "abc+def"
    assert rcpts[0] == ("alice@posthorn.test", "SUCCESS,FAILURE rfc822;user@example.com",
                        "alice@posthorn.test")
    assert rcpts[1] == ("bob@posthorn.test", "- rfc822;bob@posthorn.test", "bob@posthorn.test")
    assert rcpts[2][:2] == ("demo@virt.test", "DELAY rfc822;x+y@example.com")


def test_no_dsn_parameters(inst):
    raw = inst.raw()
    raw.cmd("EHLO client.example")
    qid = transaction(raw, "MAIL FROM:<s@example.com>", ["RCPT TO:<alice>"])
    raw.cmd("QUIT")
    raw.close()
    attrs, rcpts, _ = envelope(inst, qid)
    assert "dsn_ret" not in attrs and "dsn_envid" not in attrs
    # as Postfix: ORCPT is the address as the client sent it
    assert rcpts[0][1] == "- rfc822;alice"


def test_virtual_alias_inherits(inst):
    raw = inst.raw()
    raw.cmd("EHLO client.example")
    qid = transaction(raw, "MAIL FROM:<s@example.com> RET=FULL", [
        "RCPT TO:<team@valias.test> NOTIFY=NEVER",
        "RCPT TO:<alice@posthorn.test> NOTIFY=FAILURE",
    ])
    raw.cmd("QUIT")
    raw.close()
    attrs, rcpts, _ = envelope(inst, qid)
    assert attrs["dsn_ret"] == "FULL"
    got = {r[0]: r[1] for r in rcpts}
    # alice came first through the alias: its NOTIFY wins (one copy only)
    assert got == {"alice@posthorn.test": "NEVER rfc822;team@valias.test",
                   "bob@posthorn.test": "NEVER rfc822;team@valias.test"}


BAD_MAIL = [
    ("RET=ALL", "501 5.5.4 Bad RET parameter syntax"),
    ("RET=", "501 5.5.4 Bad RET parameter syntax"),
    ("RET=FULL RET=HDRS", "501 5.5.4 Bad RET parameter syntax"),
    ("ENVID=", "501 5.5.4 Bad ENVID parameter syntax"),
    ("ENVID=abc+2", "501 5.5.4 Bad ENVID parameter syntax"),
    ("ENVID=abc+ZZ", "501 5.5.4 Bad ENVID parameter syntax"),
    ("ENVID=a+00b", "501 5.5.4 Bad ENVID parameter syntax"),
    ("ENVID=a+0Ab", "501 5.5.4 Bad ENVID parameter syntax"),
    ("ENVID=a ENVID=b", "501 5.5.4 Bad ENVID parameter syntax"),
]

BAD_RCPT = [
    ("NOTIFY=NEVER,SUCCESS", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=DELAY,NEVER", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=SOMETIMES", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=SUCCESS,,DELAY", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=SUCCESS NOTIFY=DELAY", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("ORCPT=user@example.com", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=;user@example.com", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=rfc822;", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=rfc822;a+2", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=rfc822;a+0D+0Ab", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=rfc822;a@b ORCPT=rfc822;c@d", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("FOO=BAR", "555 5.5.4 Unsupported option: FOO=BAR"),
]


def test_bad_mail_parameters(inst):
    raw = inst.raw()
    raw.cmd("EHLO client.example")
    for param, want in BAD_MAIL:
        code, text = raw.cmd("MAIL FROM:<s@example.com> " + param)
        assert "%d %s" % (code, text) == want, param
    # the session goes on, and a failed MAIL left no RET/ENVID behind
    qid = transaction(raw, "MAIL FROM:<s@example.com> ENVID=ok", ["RCPT TO:<alice>"])
    raw.cmd("QUIT")
    raw.close()
    attrs, _, _ = envelope(inst, qid)
    assert attrs["dsn_envid"] == "ok" and "dsn_ret" not in attrs


def test_bad_rcpt_parameters(inst):
    raw = inst.raw()
    raw.cmd("EHLO client.example")
    assert raw.cmd("MAIL FROM:<s@example.com>")[0] == 250
    for param, want in BAD_RCPT:
        code, text = raw.cmd("RCPT TO:<alice@posthorn.test> " + param)
        assert "%d %s" % (code, text) == want, param
    code, text = raw.cmd("RCPT TO:<bob@posthorn.test> NOTIFY=never ORCPT=utf-8;b\\x{E9}b@x")
    assert code == 250, text
    code, text = raw.cmd("DATA")
    assert code == 354
    code, text = raw.cmd(MESSAGE.decode() + ".")
    assert code == 250, text
    raw.cmd("QUIT")
    raw.close()
    _, rcpts, _ = envelope(inst, text.rsplit(" ", 1)[-1])
    assert [r[0] for r in rcpts] == ["bob@posthorn.test"]
    assert rcpts[0][1] == "NEVER utf-8;b\u00e9b@x"


def test_dsn_message_delivered(make_instance):
    """qmgr and local accept files with W and N records; NOTIFY=SUCCESS
    then queues a success notice for the (remote) sender."""
    i = make_instance()
    token = uuid.uuid4().hex
    raw = i.raw()
    raw.cmd("EHLO client.example")
    raw.cmd("MAIL FROM:<s@example.com> RET=HDRS ENVID=e1")
    raw.cmd("RCPT TO:<alice@posthorn.test> NOTIFY=SUCCESS ORCPT=rfc822;a@b")
    raw.cmd("DATA")
    code, text = raw.cmd("Subject: %s\r\n\r\nbody\r\n." % token)
    assert code == 250, text
    raw.cmd("QUIT")
    raw.close()
    qid = text.rsplit(" ", 1)[-1]
    assert i.wait_for_log(r"%s: removed" % qid, 20), i.log_tail()
    assert i.wait_for_message(token, user="alice")
    assert i.wait_for_log(r"%s: sender delivery status notification: [0-9A-F]+" % qid, 10)
    assert i.wait_for_log(r"from=<>, size=\d+, nrcpt=1 \(queue active\)", 10)
