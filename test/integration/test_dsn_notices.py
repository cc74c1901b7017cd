"""test_dsn_notices.py - DSN success notices and delay warnings (RFC 3461/3464).

NOTIFY=SUCCESS on a recipient delivered locally (or to a virtual mailbox)
gives the sender a "Successful Mail Delivery Report" with Action:
delivered; relayed to a next hop that does not speak DSN, Action: relayed;
relayed to one that does, no notice (the NOTIFY travels on, and that host
tells).  NOTIFY=FAILURE alone, or no NOTIFY, gives none.  qmgr logs
"ID: sender delivery status notification: NEWID", as Postfix.  A message
deferred past delay_warning_time gives the sender one "Delayed Mail (still
being retried)" notice with Action: delayed, once.  Senders are local
users here, so every notice lands in a Maildir.
"""

import email
import os
import re
import uuid

import pytest

from posthorn_instance import DOMAIN, wait_until
from test_smtp_client import receivers, relay_main, start  # noqa: F401 (a fixture)

SENDER = "bob@" + DOMAIN


def send(inst, rcpts, token):
    """One transaction: RCPTS is [(address, NOTIFY or None)]."""
    with inst.smtp() as s:
        s.ehlo()
        assert s.mail(SENDER)[0] == 250
        for addr, notify in rcpts:
            opts = ["NOTIFY=" + notify] if notify else []
            assert s.rcpt(addr, opts)[0] == 250, addr
        code, text = s.data(("From: %s\r\nSubject: %s\r\nMessage-Id: <%s@example.com>\r\n"
                             "\r\nbody\r\n" % (SENDER, token, uuid.uuid4().hex)).encode())
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def notices(inst, subject):
    """The messages in bob's Maildir with SUBJECT, parsed."""
    out = []
    for data in inst.maildir_messages("bob"):
        msg = email.message_from_bytes(data)
        if msg["Subject"] == subject:
            out.append(msg)
    return out


def report_fields(msg):
    """The per-recipient fields of a multipart/report's delivery-status."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            return [dict(block.items()) for block in part.get_payload()[1:]]
    return []


def test_success_notice_for_local_delivery(make_instance):
    inst = make_instance()
    qid = send(inst, [("alice@" + DOMAIN, "SUCCESS,FAILURE"), ("bob@" + DOMAIN, "FAILURE")],
               "success-local")
    assert inst.wait_for_message(b"success-local", user="alice")
    assert wait_until(lambda: notices(inst, "Successful Mail Delivery Report"), 15), \
        inst.log_tail()
    [report] = notices(inst, "Successful Mail Delivery Report")
    fields = report_fields(report)
    assert [(f["Final-Recipient"], f["Action"], f["Status"]) for f in fields] == \
        [("rfc822; alice@" + DOMAIN, "delivered", "2.0.0")], fields
    assert "Your message was successfully delivered" in report.as_string()
    assert re.search(r"%s: sender delivery status notification: [0-9A-F]+" % qid, inst.log())
    # none for NOTIFY=FAILURE, nor without NOTIFY
    send(inst, [("alice@" + DOMAIN, "FAILURE"), ("alice@" + DOMAIN, None)], "no-notice")
    assert inst.wait_for_message(b"no-notice", user="alice")
    assert wait_until(lambda: inst.queue_empty(), 10)
    assert len(notices(inst, "Successful Mail Delivery Report")) == 1


@pytest.mark.parametrize("dsn", [False, True])
def test_relayed_notice_only_without_dsn_at_the_next_hop(make_instance, receivers, dsn):
    rx = receivers(dsn=dsn)
    inst = start(make_instance, relay_main(rx))
    send(inst, [("someone@remote.example", "SUCCESS")], "relay-%s" % dsn)
    assert wait_until(lambda: rx.transactions and inst.queue_empty(), 15), inst.log_tail()
    rcpt_args = rx.transactions[0]["rcpt_args"][0]
    assert ("NOTIFY=SUCCESS" in rcpt_args) == dsn, rcpt_args
    if dsn:
        assert not notices(inst, "Successful Mail Delivery Report")
        assert "sender delivery status notification" not in inst.log()
        return
    assert wait_until(lambda: notices(inst, "Successful Mail Delivery Report"), 15)
    [report] = notices(inst, "Successful Mail Delivery Report")
    fields = report_fields(report)
    assert [(f["Final-Recipient"], f["Action"]) for f in fields] == \
        [("rfc822; someone@remote.example", "relayed")], fields


def test_delay_warning(make_instance):
    inst = make_instance(main={"delay_warning_time": "1s",
                               "transport_maps": "texthash:$config_directory/transport"},
                         start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write("slow.example retry:4.4.1 the next hop is busy\n")
    inst.start()
    qid = send(inst, [("someone@slow.example", None)], "delayed")
    assert wait_until(lambda: notices(inst, "Delayed Mail (still being retried)"), 20), \
        inst.log_tail()
    [warning] = notices(inst, "Delayed Mail (still being retried)")
    fields = report_fields(warning)
    assert [(f["Final-Recipient"], f["Action"], f["Status"]) for f in fields] == \
        [("rfc822; someone@slow.example", "delayed", "4.4.1")], fields
    assert "THIS IS A WARNING ONLY" in warning.as_string()
    assert re.search(r"%s: sender delay notification: [0-9A-F]+" % qid, inst.log())
    # once only, though it is tried again
    n = inst.log().count("%s: to=<someone@slow.example>" % qid)
    assert wait_until(lambda: inst.log().count("%s: to=<someone@slow.example>" % qid) > n,
                      20)
    assert len(notices(inst, "Delayed Mail (still being retried)")) == 1
