"""test_queue_control.py - queue control requests on public/qmgr.

A small client writes 'C' and an attribute list (mail_proto.h) and reads
status/count/reason.  hold moves a deferred message to hold/, release
puts it back into deferred/, requeue into incoming/ (qmgr then takes it
again), delete removes it with its defer log; garbage is refused and qmgr
keeps serving.
"""

import os
import socket
import uuid

from posthorn_instance import wait_until

TRANSPORT = "retry.example retry:4.4.1 try again later\n"


def control(inst, attrs, raw=None):
    """Send one request; returns the reply as a dict."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.path.join(inst.queue, "public", "qmgr"))
    if raw is None:
        raw = b"C" + b"".join(("%s=%s\n" % kv).encode() for kv in attrs) + b"\n"
    s.sendall(raw)
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)


def deferred_message(make_instance):
    inst = make_instance(main={"transport_maps": "texthash:$config_directory/transport",
                               "minimal_backoff_time": "300s",
                               "maximal_backoff_time": "300s"}, start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write(TRANSPORT)
    inst.start()
    with inst.smtp() as s:
        s.ehlo()
        s.sendmail("alice@posthorn.test", ["x@retry.example"],
                   b"Subject: q\r\n\r\n" + uuid.uuid4().hex.encode() + b"\r\n")
    assert wait_until(lambda: inst.queue_files("deferred"), 10), inst.log_tail()
    qid = os.path.basename(inst.queue_files("deferred")[0])
    assert wait_until(lambda: inst.queue_files("defer"), 5)
    return inst, qid


def test_hold_release_requeue_delete(make_instance):
    inst, qid = deferred_message(make_instance)
    r = control(inst, [("request", "hold"), ("queue_id", qid)])
    assert r["status"] == "0" and r["count"] == "1", r
    assert [os.path.basename(p) for p in inst.queue_files("hold")] == [qid]
    assert not inst.queue_files("deferred")
    r = control(inst, [("request", "release"), ("queue_id", qid)])
    assert r["count"] == "1", r
    assert wait_until(lambda: inst.queue_files("deferred"), 10)
    r = control(inst, [("request", "requeue"), ("queue_id", "ALL")])
    assert r["count"] == "1", r
    assert inst.wait_for_log(qid + r": requeued")
    # qmgr takes it again and defers it again
    assert inst.wait_for_log(qid + r": to=<x@retry.example>.*status=deferred", count=2)
    assert wait_until(lambda: inst.queue_files("deferred"), 10)
    r = control(inst, [("request", "delete"), ("queue_id", qid)])
    assert r["count"] == "1", r
    assert wait_until(lambda: inst.queue_empty(("incoming", "active", "deferred", "hold", "defer")), 10)
    assert inst.wait_for_log(qid + r": removed")


def test_flush_and_garbage(make_instance):
    inst, qid = deferred_message(make_instance)
    r = control(inst, [("request", "flush_id"), ("queue_id", qid)])
    assert r["status"] == "0", r
    assert inst.wait_for_log(qid + r": to=<x@retry.example>.*status=deferred", count=2)
    assert control(inst, [("request", "explode")])["status"] != "0"
    assert control(inst, [("request", "hold"), ("queue_id", "../../etc")])["status"] != "0"
    r = control(inst, None, raw=b"C\x01\x02garbage without end")
    assert r.get("status") != "0"
    r = control(inst, [("request", "flush")])
    assert r["status"] == "0" and r["count"] == "1", r
    assert inst.child_pids("qmgr")
