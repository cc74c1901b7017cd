"""test_transport.py - transport_maps (transport(5)) in qmgr.

qmgr resolves each recipient's transport when it delivers, not when the
mail arrives: "local:" delivers a non-local domain with the local agent,
"error:text" bounces with that text (status=bounced, relay=none),
"retry:text" defers, and "smtp:[127.0.0.1]:2" defers because no SMTP
client exists yet (private/smtp).  A configuration fix (postconf -e,
posthorn reload, posthorn flush) then frees the deferred mail.
"""

import os
import uuid

import pytest

from posthorn_instance import wait_until

TRANSPORT = """\
local.example      local:
bounce.example     error:5.7.1 no mail for this domain please
plainerr.example   error:go away
retry.example      retry:4.4.1 try again later
stuck.example      smtp:[127.0.0.1]:2
.sub.example       local:
"""


def message(token):
    return ("From: sender@example.com\r\nTo: whoever\r\nSubject: %s\r\n"
            "\r\nbody %s\r\n" % (token, token)).encode()


def send(inst, rcpts, token, sender="sender@example.com"):
    """One transaction from a mynetworks client; returns the queue id."""
    with inst.smtp() as s:
        s.ehlo()
        s.mail(sender)
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, text
        code, text = s.data(message(token))
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def count_token(inst, user, token):
    n = 0
    for p in inst.maildir_files(inst.maildir_new(user)):
        with open(p, "rb") as f:
            if token.encode() in f.read():
                n += 1
    return n


def start_with_transport(make_instance, name="transport", text=TRANSPORT):
    inst = make_instance(main={
        "transport_maps": "texthash:$config_directory/" + name,
    }, start=False)
    with open(os.path.join(inst.etc, name), "w") as f:
        f.write(text)
    return inst.start()


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    i = module_instance_factory(main={
        "transport_maps": "texthash:$config_directory/transport",
    }, start=False)
    with open(os.path.join(i.etc, "transport"), "w") as f:
        f.write(TRANSPORT)
    return i.start()


def test_local_transport_for_other_domain(inst):
    token = uuid.uuid4().hex
    qid = send(inst, ["alice@local.example", "bob@deep.sub.example"], token)
    assert inst.wait_for_log(r"%s: removed" % qid, 20), inst.log_tail()
    assert count_token(inst, "alice", token) == 1
    assert count_token(inst, "bob", token) == 1
    assert "%s: to=<alice@local.example>, relay=local" % qid in inst.log()


def test_error_transport_bounces(inst):
    token = uuid.uuid4().hex
    qid = send(inst, ["x@bounce.example", "y@plainerr.example", "alice@posthorn.test"], token,
               sender="bob@posthorn.test")
    assert inst.wait_for_log(r"%s: removed" % qid, 20), inst.log_tail()
    log = inst.log()
    assert inst.wait_for_log(r"%s: to=<x@bounce\.example>, relay=none, delay=[0-9.]+, "
                             r"delays=[0-9./]+, dsn=5\.7\.1, status=bounced "
                             r"\(no mail for this domain please\)" % qid, 1), log
    assert inst.wait_for_log(r"%s: to=<y@plainerr\.example>, relay=none, .*dsn=5\.0\.0, "
                             r"status=bounced \(go away\)" % qid, 1), log
    assert count_token(inst, "alice", token) == 1
    # one bounce for both failed recipients goes back to the (local) sender
    assert inst.wait_for_log(r"%s: sender non-delivery notification: " % qid, 10), inst.log_tail()
    assert wait_until(lambda: count_token(inst, "bob", token) == 1, 10)
    assert wait_until(inst.queue_empty, 10)


def test_retry_transport_defers(inst):
    qid = send(inst, ["x@retry.example"], uuid.uuid4().hex)
    assert inst.wait_for_log(r"%s: to=<x@retry\.example>, relay=none, .*dsn=4\.4\.1, "
                             r"status=deferred \(try again later\)" % qid, 20), inst.log_tail()


def test_config_fix_frees_stuck_mail(make_instance):
    inst = start_with_transport(make_instance)
    token = uuid.uuid4().hex
    qid = send(inst, ["alice@stuck.example"], token)
    assert inst.wait_for_log(r"%s: to=<alice@stuck\.example>, relay=none, .*"
                             r"status=deferred \(.*private/smtp.*\)" % qid, 20), inst.log_tail()
    assert "connect to transport private/smtp: No such file or directory" in inst.log()
    assert wait_until(lambda: inst.queue_files("deferred"), 10)
    assert count_token(inst, "alice", token) == 0

    # the fix: a new table, reload, flush
    with open(os.path.join(inst.etc, "transport.new"), "w") as f:
        f.write("stuck.example  local:\n")
    inst.postconf("-e", "transport_maps = texthash:$config_directory/transport.new",
                  check=True)
    inst.posthorn("reload", check=True)
    assert inst.wait_for_log(r"reload", 10)
    # wait until a qmgr of the new generation runs, then flush
    assert wait_until(lambda: _flush_delivered(inst, token), 30), inst.log_tail()
    assert inst.wait_for_log(r"%s: to=<alice@stuck\.example>, relay=local, .*"
                             r"status=sent" % qid, 10), inst.log_tail()
    assert inst.wait_for_log(r"%s: removed" % qid, 10)


def _flush_delivered(inst, token):
    inst.posthorn("flush")
    return wait_until(lambda: count_token(inst, "alice", token) == 1, 2)


def test_table_error_defers(make_instance):
    inst = make_instance(main={"transport_maps": "hash:$config_directory/missing"})
    qid = send(inst, ["alice@posthorn.test"], uuid.uuid4().hex)
    assert inst.wait_for_log(r"%s: to=<alice@posthorn\.test>, relay=none, .*"
                             r"status=deferred \(transport_maps lookup failure" % qid, 20), \
        inst.log_tail()
