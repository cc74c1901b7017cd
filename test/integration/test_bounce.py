"""test_bounce.py - RFC 3464 bounces from qmgr (lib/global/bounce.c, qmgr_bounce.c).

A recipient bounced by transport_maps "error:" (and an expired deferred
recipient: maximal_queue_lifetime = 0 means one attempt) produces exactly
one multipart/report bounce in the local sender's Maildir, with a
message/delivery-status part (Final-Recipient, Action, Status) and the
original message.  Mail from <> is never bounced again: the queue empties
and the log says the bounce was discarded.
"""

import email
import os
import time
import uuid

from posthorn_instance import wait_until

TRANSPORT = """\
bounce.example     error:5.1.1 no such user here
retry.example      retry:4.4.1 try again later
"""


def start(make_instance, **main):
    params = {"transport_maps": "texthash:$config_directory/transport"}
    params.update(main)
    inst = make_instance(main=params, start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write(TRANSPORT)
    inst.start()
    return inst


def send(inst, sender, rcpt, token):
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody %s\r\n"
           % (sender or "nobody", rcpt, token, token)).encode()
    with inst.smtp() as s:
        s.ehlo()
        s.sendmail(sender, [rcpt], msg)


def delivery_status(raw):
    """(message, [per-recipient dicts]) of a bounce."""
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    status = [p for p in parts if p.get_content_type() == "message/delivery-status"]
    assert len(status) == 1
    blocks = status[0].get_payload()
    return msg, parts, [dict(b.items()) for b in blocks[1:]]


def test_error_transport_bounces_once(make_instance):
    inst = start(make_instance)
    token = uuid.uuid4().hex
    send(inst, "alice@posthorn.test", "someone@bounce.example", token)
    raw = inst.wait_for_message("Undelivered Mail", user="alice")
    assert raw is not None, inst.log_tail()
    assert inst.wait_for_log(r"sender non-delivery notification: [0-9A-F]{13}")
    msg, parts, rcpts = delivery_status(raw)
    assert msg["From"].startswith("MAILER-DAEMON@")
    assert "This is the mail system at host mail.posthorn.test." in parts[0].get_payload()
    assert rcpts[0]["Final-Recipient"] == "rfc822; someone@bounce.example"
    assert rcpts[0]["Action"] == "failed"
    assert rcpts[0]["Status"] == "5.1.1"
    assert "no such user here" in rcpts[0]["Diagnostic-Code"]
    assert parts[2].get_content_type() == "message/rfc822"
    assert token.encode() in raw
    assert wait_until(lambda: inst.queue_empty(("incoming", "active", "deferred", "bounce")), 10)
    time.sleep(1)
    assert len([m for m in inst.maildir_messages("alice") if b"Undelivered" in m]) == 1


def test_bounce_of_bounce_does_not_loop(make_instance):
    inst = start(make_instance)
    send(inst, "", "someone@bounce.example", uuid.uuid4().hex)
    assert inst.wait_for_log(r"undeliverable bounce discarded"), inst.log_tail()
    assert wait_until(lambda: inst.queue_empty(), 10)
    time.sleep(1)
    assert "non-delivery notification" not in inst.log()


def test_double_bounce_to_postmaster(make_instance):
    inst = start(make_instance, notify_classes="resource, software, 2bounce",
                 **{"2bounce_notice_recipient": "bob@posthorn.test"})
    send(inst, "", "someone@bounce.example", uuid.uuid4().hex)
    assert inst.wait_for_log(r"postmaster non-delivery notification"), inst.log_tail()
    assert inst.wait_for_message("Undelivered Mail", user="bob") is not None
    assert wait_until(lambda: inst.queue_empty(), 10)


def test_expired_message_bounces_once(make_instance):
    inst = start(make_instance, maximal_queue_lifetime="0")
    token = uuid.uuid4().hex
    send(inst, "alice@posthorn.test", "someone@retry.example", token)
    raw = inst.wait_for_message("Undelivered Mail", user="alice")
    assert raw is not None, inst.log_tail()
    assert inst.wait_for_log(r"status=expired, returned to sender")
    _msg, _parts, rcpts = delivery_status(raw)
    assert rcpts[0]["Action"] == "failed"
    assert rcpts[0]["Status"] == "4.4.1"
    assert wait_until(lambda: inst.queue_empty(("incoming", "active", "deferred", "defer")), 10)
