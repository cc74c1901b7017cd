"""test_many_recipients.py - one message with 10,000 recipients is delivered
in bounded memory (issue 14).

qmgr reads a message's recipients in slices (qmgr_message_recipient_limit
= 500 here, qmgr_message.c), so:
  - one message with 1,000 and then one with 10,000 recipients (relayed
    to a sink that accepts everything) is delivered completely, every
    recipient exactly once, the queue empty afterwards, and qmgr's peak
    memory (VmHWM) after the 10,000 is within a small bound of the peak
    after the 1,000;
  - a message of 1,400 recipients (three slices) where some recipients
    bounce (transport "error:") and some defer ("retry:") in every slice:
    postqueue -p lists every deferred recipient with its reason, no bounce
    is sent while some wait; postsuper -e then returns it, and the sender
    gets one bounce that lists every bounced and every expired recipient
    of all slices; the sink got each deliverable recipient once.
"""

import email
import os
import re
import socketserver
import threading
import time

import pytest

from posthorn_instance import build_dir, wait_until

# ASan keeps freed memory in quarantine: qmgr's peak says nothing there
SANITIZED = "san" in os.path.basename(build_dir())

SMTP_MASTER = ["smtp    unix  - - n - - smtp"]
RCPT_LIMIT = 500
HWM_GROWTH_LIMIT_KB = 1024      # 10,000 recipients in memory would be several MB


class Sink(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """An SMTP server that accepts everything and counts each recipient
    of a completed transaction."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.lock = threading.Lock()
        self.rcpts = {}

    def total(self):
        with self.lock:
            return sum(self.rcpts.values())


class SinkHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def data(self):
        while True:
            line = self.rfile.readline(100000)
            if not line or line == b".\r\n":
                return

    def handle(self):
        self.reply("220 sink.test ESMTP")
        rcpts = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd[:4].upper()
            if verb == "RCPT":
                rcpts.append(re.search(r"<([^>]*)>", cmd).group(1).lower())
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                self.data()
                with self.server.lock:
                    for r in rcpts:
                        self.server.rcpts[r] = self.server.rcpts.get(r, 0) + 1
                rcpts = []
                self.reply("250 2.0.0 Ok: queued")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 2.1.0 Ok")
            else:
                self.reply("250 sink.test")


@pytest.fixture
def sink():
    server = Sink()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def start(make_instance, sink, **main):
    params = {"transport_maps": "texthash:$config_directory/transport",
              "smtpd_recipient_limit": "20000",
              "qmgr_message_recipient_limit": str(RCPT_LIMIT)}
    params.update(main)
    inst = make_instance(main=params, master=SMTP_MASTER, start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write("sink.test smtp:[127.0.0.1]:%d\n"
                "bounce.example error:5.1.1 no such user here\n"
                "retry.example retry:4.4.1 try again later\n" % sink.server_address[1])
    inst.start()
    return inst


def send_many(inst, rcpts, subject):
    msg = ("From: alice@posthorn.test\r\nTo: undisclosed-recipients:;\r\n"
           "Subject: %s\r\n\r\nbody\r\n" % subject).encode()
    with inst.smtp(timeout=120) as s:
        s.ehlo()
        refused = s.sendmail("alice@posthorn.test", rcpts, msg)
    assert refused == {}


def qmgr_hwm_kb(inst):
    pid = inst.wait_for_child("qmgr")
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
    return pid, int(m.group(1))


def deliver(inst, sink, n, tag):
    rcpts = ["%s-%05d@sink.test" % (tag, i) for i in range(n)]
    before = sink.total()
    t0 = time.monotonic()
    send_many(inst, rcpts, tag)
    assert wait_until(lambda: sink.total() >= before + n, 300, 0.1), inst.log_tail()
    assert wait_until(lambda: inst.queue_empty(), 30), inst.log_tail()
    elapsed = time.monotonic() - t0
    with sink.lock:
        assert all(sink.rcpts.get(r) == 1 for r in rcpts)
    return elapsed


def test_10000_recipients_bounded_memory(make_instance, sink):
    inst = start(make_instance, sink)
    t_small = deliver(inst, sink, 1000, "small")
    pid, hwm_small = qmgr_hwm_kb(inst)
    t_big = deliver(inst, sink, 10000, "big")
    pid2, hwm_big = qmgr_hwm_kb(inst)
    assert pid2 == pid, "qmgr restarted: the comparison is void"
    assert sink.total() == 11000
    log = inst.log()
    assert re.search(r"nrcpt=10000 \(queue active\)", log)
    assert "corrupt" not in log
    print("qmgr VmHWM: %d kB after 1,000 recipients (%.1fs), %d kB after 10,000 (%.1fs)"
          % (hwm_small, t_small, hwm_big, t_big))
    if not SANITIZED:
        assert hwm_big - hwm_small < HWM_GROWTH_LIMIT_KB, (hwm_small, hwm_big)


def bounce_recipients(raw):
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report"
    status = [p for p in msg.get_payload()
              if p.get_content_type() == "message/delivery-status"]
    assert len(status) == 1
    blocks = [dict(b.items()) for b in status[0].get_payload()[1:]]
    return {b["Final-Recipient"].split(";", 1)[1].strip().lower(): b for b in blocks}


def test_mixed_results_across_slices(make_instance, sink):
    inst = start(make_instance, sink)
    rcpts = []
    for i in range(1400):
        domain = ("bounce.example" if i % 7 == 3 else
                  "retry.example" if i % 11 == 5 else "sink.test")
        rcpts.append("mix-%04d@%s" % (i, domain))
    bounced = {r for r in rcpts if r.endswith("@bounce.example")}
    deferred = {r for r in rcpts if r.endswith("@retry.example")}
    sent = [r for r in rcpts if r.endswith("@sink.test")]
    send_many(inst, rcpts, "mixed")
    assert wait_until(lambda: len(inst.queue_files("deferred")) == 1, 120), inst.log_tail()
    assert wait_until(lambda: sink.total() == len(sent), 30), inst.log_tail()
    with sink.lock:
        assert all(sink.rcpts.get(r) == 1 for r in sent)

    # The defer log lists every deferred recipient of every slice, once
    r = inst.run([inst.bin("postqueue"), "-c", inst.etc, "-p"])
    assert r.returncode == 0, r.stderr
    listed = set(re.findall(r"mix-\d+@retry\.example", r.stdout))
    assert listed == deferred
    assert r.stdout.count("try again later") >= 1
    assert not any(b"Undelivered" in m for m in inst.maildir_messages("alice"))

    # Returned to the sender: one bounce with all bounced and expired ones
    qid = os.path.basename(inst.queue_files("deferred")[0])
    r = inst.run([inst.bin("postsuper"), "-c", inst.etc, "-e", qid])
    assert r.returncode == 0, r.stderr
    r = inst.run([inst.bin("postqueue"), "-c", inst.etc, "-f"])
    assert r.returncode == 0, r.stderr
    raw = inst.wait_for_message("Undelivered Mail", user="alice", timeout=60)
    assert raw is not None, inst.log_tail()
    assert wait_until(lambda: inst.queue_empty(("incoming", "active", "deferred", "bounce",
                                                "defer")), 30), inst.log_tail()
    got = bounce_recipients(raw)
    assert set(got) == bounced | deferred
    assert all(got[r]["Status"] == "5.1.1" for r in bounced)
    assert all(got[r]["Status"] == "4.4.1" and got[r]["Action"] == "failed" for r in deferred)
    assert inst.wait_for_log(r"status=force-expired, returned to sender")
    time.sleep(1)
    assert len([m for m in inst.maildir_messages("alice") if b"Undelivered" in m]) == 1
    assert sink.total() == len(sent)
