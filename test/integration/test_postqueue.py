"""test_postqueue.py - postqueue, mailq, postsuper and postcat.

A deferred message (transport "smtp:[127.0.0.1]:2" with no SMTP client
service, or one that cannot connect) is listed by postqueue -p in
Postfix's mailq format with its reason line, by -j as JSON, by mailq and
sendmail -bp identically; postqueue -f after a configuration fix delivers
it.  postsuper -h/-H/-r/-d do what they say, -s puts a misplaced file
back, -p removes a stale temporary file; postcat -q shows envelope,
header and body.  Listing goes through the showq service, so (as root) a
user who cannot read the queue can list it.
"""

import json
import os
import re
import subprocess
import time
import uuid

import pytest

from posthorn_instance import wait_until, IS_ROOT

TRANSPORT = "stuck.example  smtp:[127.0.0.1]:2\n"
HEADINGS = "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------"
ID_LINE = re.compile(r"^([0-9A-F]{13})([*!#]*) +(\d+) "
                     r"(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+)$")
RCPT_PAD = " " * 47


def start(make_instance, transport=TRANSPORT, **kw):
    inst = make_instance(main={"transport_maps": "texthash:$config_directory/transport"},
                         start=False, **kw)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write(transport)
    return inst.start()


def send(inst, rcpts, token):
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, text
        code, text = s.data(("From: sender@example.com\r\nTo: %s\r\nSubject: %s\r\n"
                             "\r\nbody %s\r\n" % (rcpts[0], token, token)).encode())
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def postqueue(inst, *args, **kw):
    return inst.run([inst.bin("postqueue"), "-c", inst.etc] + list(args), **kw)


def postsuper(inst, *args, **kw):
    return inst.run([inst.bin("postsuper"), "-c", inst.etc] + list(args), **kw)


def queue_of(inst, qid):
    for q in ("incoming", "active", "deferred", "hold"):
        if any(os.path.basename(p) == qid for p in inst.queue_files(q)):
            return q
    return None


def deferred_message(make_instance, rcpts=("alice@stuck.example",)):
    inst = start(make_instance)
    token = uuid.uuid4().hex
    qid = send(inst, list(rcpts), token)
    assert inst.wait_for_log(r"%s: to=<.*status=deferred" % qid, 20), inst.log_tail()
    assert wait_until(lambda: queue_of(inst, qid) == "deferred", 10), inst.log_tail()
    return inst, qid, token


def count_token(inst, user, token):
    n = 0
    for p in inst.maildir_files(inst.maildir_new(user)):
        with open(p, "rb") as f:
            n += token.encode() in f.read()
    return n


def check_mailq_format(out, qid, rcpts):
    """OUT is Postfix's mailq output for one deferred message QID."""
    lines = out.split("\n")
    assert lines[0] == HEADINGS, out
    m = ID_LINE.match(lines[1])
    assert m, lines[1]
    assert m.group(1) == qid and m.group(2) == "" and m.group(5) == "sender@example.com"
    size = int(m.group(3))
    rest = lines[2:]
    for rcpt in rcpts:
        if rest[0].strip().startswith("("):
            reason = rest.pop(0)
            assert reason.endswith(")") and (len(reason) == 78 or reason.startswith("(")), reason
        assert rest.pop(0) == RCPT_PAD + rcpt, out
    assert rest == ["", "-- %d Kbytes in 1 Request." % (size // 1024), ""], out


def test_deferred_listing_and_flush(make_instance):
    inst, qid, token = deferred_message(make_instance)
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    check_mailq_format(r.stdout, qid, ["alice@stuck.example"])
    # the reason comes from qmgr's defer log once it writes one
    if os.path.exists(os.path.join(inst.queue, "defer")) and any(
            os.path.basename(f) == qid for _, _, fs in os.walk(os.path.join(inst.queue, "defer"))
            for f in fs):
        assert re.search(r"^ *\(.+\)$", r.stdout, re.M), r.stdout

    # mailq and sendmail -bp print the same
    for argv in ([inst.bin("mailq"), "-C", inst.etc], [inst.bin("sendmail"), "-C", inst.etc, "-bp"]):
        if os.path.exists(argv[0]):
            r2 = inst.run(argv)
            assert r2.returncode == 0, r2.stderr
            assert r2.stdout == r.stdout

    # JSON
    r = postqueue(inst, "-j")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(objs) == 1
    o = objs[0]
    assert o["queue_name"] == "deferred" and o["queue_id"] == qid
    assert o["sender"] == "sender@example.com"
    assert isinstance(o["arrival_time"], int) and abs(o["arrival_time"] - time.time()) < 120
    assert isinstance(o["message_size"], int) and o["message_size"] > 0
    assert o["forced_expire"] is False
    assert [x["address"] for x in o["recipients"]] == ["alice@stuck.example"]

    # fix the transport, reload, flush: delivered
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write("stuck.example  local:\n")
    inst.posthorn("reload", check=True)
    assert inst.wait_for_log(r"reload", 10)

    def flushed():
        r3 = postqueue(inst, "-f")
        assert r3.returncode == 0, r3.stderr
        return wait_until(lambda: count_token(inst, "alice", token) == 1, 2)
    assert wait_until(flushed, 30), inst.log_tail()
    assert inst.wait_for_log(r"%s: removed" % qid, 10)
    r = postqueue(inst, "-p")
    assert r.stdout == "Mail queue is empty\n", r.stdout
    r = postqueue(inst, "-j")
    assert r.returncode == 0 and r.stdout == ""


def test_postsuper_hold_release_requeue_delete(make_instance):
    inst, qid, _ = deferred_message(make_instance)

    r = postsuper(inst, "-h", qid)
    assert r.returncode == 0, r.stderr
    assert "postsuper: Placed on hold: 1 message" in r.stderr
    assert queue_of(inst, qid) == "hold"
    r = postqueue(inst, "-p")
    assert re.search(r"^%s! " % qid, r.stdout, re.M), r.stdout
    assert json.loads(postqueue(inst, "-j").stdout)["queue_name"] == "hold"

    r = postsuper(inst, "-H", qid)
    assert r.returncode == 0, r.stderr
    assert "postsuper: Released from hold: 1 message" in r.stderr
    assert queue_of(inst, qid) in ("deferred", "active", "incoming")

    r = postsuper(inst, "-r", "ALL")
    assert r.returncode == 0, r.stderr
    assert "postsuper: Requeued: 1 message" in r.stderr
    assert inst.wait_for_log(r"%s: to=<.*status=deferred" % qid, 20, count=2), inst.log_tail()
    assert wait_until(lambda: queue_of(inst, qid) == "deferred", 10)

    r = inst.run([inst.bin("postsuper"), "-c", inst.etc, "-d", "-"], input=qid + "\n")
    assert r.returncode == 0, r.stderr
    assert "postsuper: Deleted: 1 message" in r.stderr
    assert wait_until(lambda: queue_of(inst, qid) is None, 10)
    r = postqueue(inst, "-p")
    assert r.stdout == "Mail queue is empty\n"

    r = postsuper(inst, "-d", "NOTANID")
    assert "invalid mail queue id" in r.stderr
    r = postsuper(inst, "-d", qid, "bogusqueue")
    assert r.returncode != 0


def test_postcat(make_instance):
    inst, qid, token = deferred_message(make_instance, ("alice@stuck.example", "alice@posthorn.test"))
    r = inst.run([inst.bin("postcat"), "-c", inst.etc, "-q", qid])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    path = os.path.relpath(inst.queue_files("deferred")[0], inst.queue)
    for marker in ("ENVELOPE RECORDS", "MESSAGE CONTENTS", "HEADER EXTRACTED", "MESSAGE FILE END"):
        assert "*** %s %s ***" % (marker, path) in out, out
    assert re.search(r"^message_arrival_time: \w{3} \w{3} ", out, re.M), out
    assert "\nsender: sender@example.com\n" in out
    assert "\nrecipient: alice@stuck.example\n" in out
    assert "\ndone_recipient: alice@posthorn.test\n" in out
    assert "\nSubject: %s\n" % token in out and "\nbody %s\n" % token in out

    r = inst.run([inst.bin("postcat"), "-c", inst.etc, "-h", "-q", qid])
    assert "Subject: %s\n" % token in r.stdout
    assert "body" not in r.stdout and "***" not in r.stdout
    r = inst.run([inst.bin("postcat"), "-c", inst.etc, "-bq", qid])
    assert r.stdout == "\nbody %s\n" % token, r.stdout
    r = inst.run([inst.bin("postcat"), "-c", inst.etc, "-e", "-q", qid])
    assert "sender: sender@example.com" in r.stdout and "Subject" not in r.stdout
    r = inst.run([inst.bin("postcat"), "-c", inst.etc, "-q", "0123456789ABC"])
    assert r.returncode != 0


def test_structure_and_purge(make_instance):
    inst = start(make_instance)
    q = inst.queue
    # a deferred file in the wrong hash directory, one with a bad name
    good = "6919C2F70A3B1"
    wrong = os.path.join(q, "deferred", "F")
    os.makedirs(wrong, exist_ok=True)
    with open(os.path.join(wrong, good), "w") as f:
        f.write("x")
    with open(os.path.join(q, "deferred", "not-an-id"), "w") as f:
        f.write("x")
    # a stale and a fresh incomplete incoming file
    stale, fresh = "6919C2F70A3B2", "6919C2F70A3B3"
    for name in (stale, fresh):
        with open(os.path.join(q, "incoming", name), "w") as f:
            f.write("partial")
        os.chmod(os.path.join(q, "incoming", name), 0o600)
    old = time.time() - 7200
    os.utime(os.path.join(q, "incoming", stale), (old, old))

    if IS_ROOT:     # the queue belongs to mail_owner; postsuper runs as it
        import pwd
        pw = pwd.getpwnam(inst.mail_owner)
        for p in (wrong, os.path.join(wrong, good), os.path.join(q, "deferred", "not-an-id"),
                  os.path.join(q, "incoming", stale), os.path.join(q, "incoming", fresh)):
            os.chown(p, pw.pw_uid, pw.pw_gid)

    # As Postfix's, "postsuper -s" is run with the mail system down: a
    # running qmgr could pick the repaired file up before it is looked at
    inst.stop()
    r = postsuper(inst, "-s", "-p")
    assert r.returncode == 0, r.stderr
    right = os.path.join(q, "deferred", good[8])    # hashed by the first usec digit
    assert os.path.exists(os.path.join(right, good)), r.stderr
    assert not os.path.exists(os.path.join(wrong, good))
    assert os.path.exists(os.path.join(q, "corrupt", "not-an-id"))
    assert not os.path.exists(os.path.join(q, "incoming", stale))
    assert os.path.exists(os.path.join(q, "incoming", fresh))
    os.unlink(os.path.join(right, good))
    os.unlink(os.path.join(q, "incoming", fresh))


def test_mail_system_down(make_instance):
    inst = make_instance()              # creates the queue ...
    inst.stop()                         # ... then the mail system goes down
    r = postqueue(inst, "-f")
    assert r.returncode == 69, r.stderr
    assert "postqueue: fatal: Cannot flush mail queue - mail system is down" in r.stderr
    r = inst.run([inst.bin("sendmail"), "-C", inst.etc, "-q"])
    assert r.returncode == 69
    # root and mail_owner still see the queue
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Mail queue is empty\n"


@pytest.mark.skipif(not IS_ROOT, reason="needs root: runs postqueue as nobody")
def test_unprivileged_user_lists_through_showq(make_instance):
    inst, qid, _ = deferred_message(make_instance)
    qdir = os.path.join(inst.queue, "deferred")
    assert subprocess.call(["runuser", "-u", "nobody", "--", "ls", qdir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0
    r = inst.run(["runuser", "-u", "nobody", "--", inst.bin("postqueue"), "-c", inst.etc, "-p"])
    assert r.returncode == 0, r.stderr
    check_mailq_format(r.stdout, qid, ["alice@stuck.example"])
    r = inst.run(["runuser", "-u", "nobody", "--", inst.bin("postsuper"), "-c", inst.etc, "-d", qid])
    assert r.returncode != 0
    assert "reserved for the superuser" in r.stderr
    assert queue_of(inst, qid) == "deferred"
