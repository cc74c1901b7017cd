"""test_sender_login.py - an authenticated user cannot send as someone else.

smtpd_sender_login_maps with Postfix's four restrictions
(reject_sender_login_mismatch and its authenticated_, unauthenticated_ and
known_ forms), its key forms (user@domain, the bare user of a local
domain, @domain) and replies ("553 5.7.1 <addr>: Sender address rejected:
not owned by user LOGIN", "... not logged in"); and reject_non_fqdn_sender
/ _recipient on the address as the client sent it (MAIL FROM:<user> is
not fully qualified, even though smtpd adds @$myorigin later).  The SASL
set-up is test_sasl.py's (auxprop/sasldb, demo@posthorn.test / demo);
clients come from 127.0.0.2, outside mynetworks.
"""

import base64
import os

import pytest

from test_sasl import Client, sasl_instance

LOGIN = "demo@posthorn.test"
OWNERS = """\
demo@posthorn.test    demo@posthorn.test
alice@posthorn.test   alice@posthorn.test
bob                   demo@posthorn.test, someone-else
@shared.example       demo@posthorn.test
"""


def instance(make_instance, restriction):
    inst = sasl_instance(make_instance, start=False, main={
        "smtpd_delay_reject": "no",
        "smtpd_sender_login_maps": "texthash:$config_directory/owners",
        "smtpd_sender_restrictions": restriction})
    with open(os.path.join(inst.etc, "owners"), "w") as f:
        f.write(OWNERS)
    inst.start()
    return inst


def session(inst, login):
    c = Client(inst.port)
    c.ehlo()
    if login:
        token = base64.b64encode(b"\0demo@posthorn.test\0demo").decode()
        assert c.cmd("AUTH PLAIN " + token)[0] == 235
    return c


def mail(c, sender):
    reply = c.cmd("MAIL FROM:<%s>" % sender)
    if reply[0] == 250:
        c.cmd("RSET")
    return reply


NOT_OWNED = "5.7.1 <%s>: Sender address rejected: not owned by user " + LOGIN
NOT_LOGGED_IN = "5.7.1 <%s>: Sender address rejected: not logged in"


def test_reject_sender_login_mismatch(make_instance):
    inst = instance(make_instance, "reject_sender_login_mismatch")
    c = session(inst, login=True)
    for ok in ("demo@posthorn.test", "bob@posthorn.test", "anyone@shared.example", ""):
        assert mail(c, ok)[0] == 250, ok
    for theirs in ("alice@posthorn.test", "stranger@example.com", "DEMO@other.example"):
        assert mail(c, theirs) == (553, NOT_OWNED % theirs), theirs
    c.close()
    c = session(inst, login=False)
    assert mail(c, "alice@posthorn.test") == (553, NOT_LOGGED_IN % "alice@posthorn.test")
    assert mail(c, "stranger@example.com")[0] == 250        # nobody owns it
    c.close()
    assert ("NOQUEUE: reject: MAIL from unknown[127.0.0.2]: 553 5.7.1 "
            "<alice@posthorn.test>: Sender address rejected: not owned by user "
            + LOGIN) in inst.log()


def expect(inst, login, cases):
    """MAIL FROM each sender of CASES in one session: 250, or the reply."""
    c = session(inst, login)
    for sender, want in cases:
        got = mail(c, sender)
        assert got[0] == 250 if want == 250 else got == want, (sender, got)
    c.close()


def test_the_three_other_forms(make_instance):
    alice = "alice@posthorn.test"
    inst = instance(make_instance, "reject_known_sender_login_mismatch")
    expect(inst, True, [("stranger@example.com", 250),          # no owner: not checked
                        (alice, (553, NOT_OWNED % alice))])
    expect(inst, False, [(alice, (553, NOT_LOGGED_IN % alice))])
    inst = instance(make_instance, "reject_authenticated_sender_login_mismatch")
    expect(inst, False, [(alice, 250)])
    expect(inst, True, [("stranger@example.com",
                         (553, NOT_OWNED % "stranger@example.com"))])
    inst = instance(make_instance, "reject_unauthenticated_sender_login_mismatch")
    expect(inst, True, [(alice, 250)])
    expect(inst, False, [(alice, (553, NOT_LOGGED_IN % alice))])


def test_non_fqdn_as_sent(make_instance):
    """MAIL FROM:<user> and RCPT TO:<user> are not fully qualified."""
    inst = make_instance(main={"smtpd_delay_reject": "no",
                               "smtpd_sender_restrictions": "reject_non_fqdn_sender",
                               "smtpd_recipient_restrictions": "reject_non_fqdn_recipient"})
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<user>") == (504, "5.5.2 <user>: Sender address rejected: "
                                              "need fully-qualified address")
    assert c.cmd("MAIL FROM:<user@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<alice>") == (504, "5.5.2 <alice>: Recipient address rejected: "
                                             "need fully-qualified address")
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250
    c.close()
