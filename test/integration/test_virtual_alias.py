"""test_virtual_alias.py - virtual_alias_maps (virtual(5)) expanded by smtpd.

smtpd expands a recipient through virtual_alias_maps at RCPT time, as
Postfix's cleanup does, and queues the results with the original
recipient (orig_to= in the log).  Covered: an alias to a local user and to
a virtual mailbox, an @domain catch-all, several targets, nested aliases,
an address that expands to itself (kept, plus a copy), duplicates removed,
an unknown user in a virtual alias domain (550), an alias loop (451), a
table that cannot be opened (451), an alias to an outside domain (accepted
from a client that may not relay; the copy is deferred: no SMTP client
yet), and local_recipient_maps accepting a name that is only an alias.
"""

import os
import smtplib
import uuid

import pytest

from posthorn_instance import wait_until

VIRTUAL = """\
# virtual alias domains (Postfix convention: the domain as a key)
valias.test          virtual alias domain
catch.test           virtual alias domain

alice@valias.test    alice
demo@valias.test     demo@virt.test
team@valias.test     alice@posthorn.test, bob@posthorn.test
deep@valias.test     team@valias.test
dup@valias.test      alice, alice@mail.posthorn.test ALICE@mail.posthorn.test
outside@valias.test  someone@elsewhere.example, bob
loop1@valias.test    loop2@valias.test
loop2@valias.test    loop1@valias.test
@catch.test          bob@posthorn.test
# a local user who keeps a copy and forwards one
bob@posthorn.test    bob@posthorn.test, alice@posthorn.test
"""


def message(token):
    return ("From: sender@example.com\r\nTo: whoever\r\nSubject: %s\r\n"
            "\r\nbody %s\r\n" % (token, token)).encode()


def send(inst, rcpts, token):
    """One transaction; returns (queue id, [RCPT replies])."""
    replies = []
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        for r in rcpts:
            replies.append(s.rcpt(r))
        if not any(code == 250 for code, _ in replies):
            return None, replies
        code, text = s.data(message(token))
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1], replies


def count_token(inst, user, token, path=None):
    path = path or inst.maildir_new(user)
    n = 0
    for p in inst.maildir_files(path):
        with open(p, "rb") as f:
            if token.encode() in f.read():
                n += 1
    return n


def wait_removed(inst, qid):
    assert inst.wait_for_log(r"%s: removed" % qid, 20), inst.log_tail()


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    # mynetworks excludes the test client: it may not relay
    i = module_instance_factory(main={
        "virtual_alias_maps": "texthash:$config_directory/virtual",
        "mynetworks": "10.9.9.0/24",
    }, start=False)
    with open(os.path.join(i.etc, "virtual"), "w") as f:
        f.write(VIRTUAL)
    return i.start()


def test_alias_to_local_user(inst):
    token = uuid.uuid4().hex
    qid, replies = send(inst, ["alice@valias.test"], token)
    assert replies[0][0] == 250
    wait_removed(inst, qid)
    assert count_token(inst, "alice", token) == 1
    assert "%s: to=<alice@mail.posthorn.test>, orig_to=<alice@valias.test>" % qid in inst.log()


def test_alias_to_virtual_mailbox(inst):
    token = uuid.uuid4().hex
    qid, _ = send(inst, ["demo@valias.test"], token)
    wait_removed(inst, qid)
    assert count_token(inst, None, token, path=inst.virtual_new()) == 1


def test_catch_all(inst):
    token = uuid.uuid4().hex
    qid, replies = send(inst, ["anything@catch.test"], token)
    assert replies[0][0] == 250
    wait_removed(inst, qid)
    # bob@posthorn.test is itself aliased: bob keeps a copy, alice gets one
    assert count_token(inst, "bob", token) == 1
    assert count_token(inst, "alice", token) == 1


def test_multiple_and_nested(inst):
    token = uuid.uuid4().hex
    qid, _ = send(inst, ["deep@valias.test"], token)
    wait_removed(inst, qid)
    # deep -> team -> alice, bob; bob -> bob, alice; alice only once
    assert count_token(inst, "alice", token) == 1
    assert count_token(inst, "bob", token) == 1
    assert "to=<bob@posthorn.test>, orig_to=<deep@valias.test>" in inst.log()


def test_expands_to_itself(inst):
    token = uuid.uuid4().hex
    qid, _ = send(inst, ["bob@posthorn.test"], token)
    wait_removed(inst, qid)
    assert count_token(inst, "bob", token) == 1
    assert count_token(inst, "alice", token) == 1


def test_duplicates_removed(inst):
    token = uuid.uuid4().hex
    qid, replies = send(inst, ["dup@valias.test", "alice@valias.test",
                               "alice@mail.posthorn.test"], token)
    assert [c for c, _ in replies] == [250, 250, 250]
    wait_removed(inst, qid)
    assert count_token(inst, "alice", token) == 1
    assert inst.log().count("%s: to=<alice@mail.posthorn.test>" % qid) == 1


def test_unknown_in_alias_domain(inst):
    _, replies = send(inst, ["nobody@valias.test"], "x")
    code, text = replies[0]
    assert code == 550
    assert text.decode() == ("5.1.1 <nobody@valias.test>: Recipient address "
                             "rejected: User unknown in virtual alias table")
    assert "NOQUEUE: reject: RCPT from" in inst.log()


def test_alias_loop_is_deferred(inst):
    _, replies = send(inst, ["loop1@valias.test"], "x")
    assert replies[0][0] == 451
    assert b"4.6.0" in replies[0][1]
    assert "unreasonable virtual_alias_maps map nesting" in inst.log()


def test_alias_to_outside_domain(inst):
    # the client may not relay ...
    _, replies = send(inst, ["someone@elsewhere.example"], "x")
    assert replies[0][0] == 454
    # ... but the alias is in our domain, so it is accepted
    token = uuid.uuid4().hex
    qid, replies = send(inst, ["outside@valias.test"], token)
    assert replies[0][0] == 250
    assert inst.wait_for_log(r"%s: to=<someone@elsewhere\.example>, "
                             r"orig_to=<outside@valias\.test>, relay=none, .*"
                             r"status=deferred" % qid, 20), inst.log_tail()
    assert wait_until(lambda: count_token(inst, "bob", token) == 1, 15)


def test_table_error_is_temporary(make_instance):
    inst = make_instance(main={
        "virtual_alias_maps": "hash:$config_directory/missing",
    })
    _, replies = send(inst, ["alice@posthorn.test"], "x")
    code, text = replies[0]
    assert code == 451
    assert text.decode() == "4.3.0 <alice@posthorn.test>: Temporary lookup failure"


def test_local_recipient_maps_accepts_aliases(make_instance):
    inst = make_instance(main={
        "alias_maps": "texthash:$config_directory/aliases",
    }, start=False)
    with open(os.path.join(inst.etc, "aliases"), "w") as f:
        f.write("workgroup alice, bob\n")
    inst.start()
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        assert s.rcpt("workgroup@posthorn.test")[0] == 250
        assert s.rcpt("alice@posthorn.test")[0] == 250
        code, text = s.rcpt("nosuch@posthorn.test")
        assert code == 550
        assert text.decode() == ("5.1.1 <nosuch@posthorn.test>: Recipient address "
                                 "rejected: User unknown in local recipient table")
