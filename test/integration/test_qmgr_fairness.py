"""test_qmgr_fairness.py - qmgr's destinations take turns (round robin).

qmgr keeps the jobs waiting for each destination (transport, next hop) in
their own FIFO and starts deliveries from one destination after another
(qmgr/qmgr_queue.c), as Postfix's qmgr does.  Shown: with only two
deliveries allowed at once (default_process_limit = 2) and 300 messages
queued for a slow next hop A, the mail that arrives afterwards for a next
hop B is delivered at once, while A's backlog still waits, and A keeps
its turns while B's mail goes out; within B the messages go first in,
first out.  A single FIFO of all jobs would deliver B's mail only after
all of A's (about 300 x 0.25 s / 2).

The next hops are SMTP servers on loopback written here; A answers each
end of data after DELAY seconds.
"""

import threading
import time

import pytest

from posthorn_instance import wait_until
from tcp_listener import TcpListener

A_COUNT = 300
B_COUNT = 10
A_DELAY = 0.25


class NextHop(TcpListener):
    """A threaded SMTP server that notes each message's recipient and time."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.got = []                       # (monotonic time, recipient)
        self.lock = threading.Lock()
        super().__init__()

    def count(self):
        with self.lock:
            return len(self.got)

    def rcpts(self):
        with self.lock:
            return [r for _t, r in self.got]

    def times(self):
        with self.lock:
            return [t for t, _r in self.got]

    def serve(self, conn):
        conn.settimeout(60)
        f = conn.makefile("rwb")

        def send(text):
            f.write(text.encode() + b"\r\n")
            f.flush()

        rcpts = []
        try:
            send("220 nexthop.test ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                verb, _, arg = line.decode("utf-8", "replace").strip().partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    send("250 nexthop.test")
                elif verb == "MAIL":
                    rcpts = []
                    send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    rcpts.append(arg.split(":", 1)[-1].strip("<> "))
                    send("250 2.1.5 Ok")
                elif verb == "DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    while f.readline() not in (b".\r\n", b""):
                        pass
                    time.sleep(self.delay)
                    with self.lock:
                        self.got.extend((time.monotonic(), r) for r in rcpts)
                    send("250 2.0.0 Ok: queued")
                elif verb == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("250 2.0.0 Ok")
        except OSError:
            return
        finally:
            conn.close()


@pytest.fixture
def nexthops():
    made = []

    def make(**kw):
        n = NextHop(**kw)
        made.append(n)
        return n
    yield make
    for n in made:
        n.close()


def message(rcpt):
    return ("From: fair@example.com\r\nTo: %s\r\nSubject: fairness\r\n\r\nbody\r\n"
            % rcpt).encode()


def send_many(inst, sender, rcpts):
    """One SMTP session, one message per recipient."""
    with inst.smtp() as s:
        s.ehlo()
        for r in rcpts:
            s.sendmail(sender, [r], message(r))


def test_destinations_take_turns(make_instance, nexthops):
    a, b = nexthops(delay=A_DELAY), nexthops()
    inst = make_instance(main={
        "default_process_limit": "2",
        "transport_maps": "inline:{ a.example=smtp:[127.0.0.1]:%d, "
                          "b.example=smtp:[127.0.0.1]:%d }" % (a.port, b.port),
    }, master=["smtp    unix  - - n - - smtp"])

    # A's backlog: every message active in qmgr before B's mail comes
    send_many(inst, "a-sender@example.com", ["a%d@a.example" % i for i in range(A_COUNT)])
    assert inst.wait_for_log(r"from=<a-sender@example\.com>, .*\(queue active\)", 30,
                             count=A_COUNT), inst.log_tail()
    assert a.count() < A_COUNT // 4, a.count()

    b_rcpts = ["b%d@b.example" % i for i in range(B_COUNT)]
    t0 = time.monotonic()
    send_many(inst, "b-sender@example.com", b_rcpts)
    assert wait_until(lambda: b.count() == B_COUNT, 20), inst.log_tail()
    b_done = time.monotonic()

    # B did not wait for A's backlog, which is still mostly there
    assert b_done - t0 < 10, b_done - t0
    a_left = A_COUNT - a.count()
    assert a_left > A_COUNT // 2, a_left
    # A kept its turns while B's mail went out
    b_times = b.times()
    a_during = [t for t in a.times() if b_times[0] < t < b_times[-1]]
    assert a_during, (b_times, a.times()[-5:])
    # within B, first in, first out (deliveries that overlap may finish out of order)
    got = [b_rcpts.index(r) for r in b.rcpts()]
    assert sorted(got) == list(range(B_COUNT)), got
    assert all(abs(i - n) <= 2 for n, i in enumerate(got)), got
    assert "status=deferred" not in inst.log(), inst.log_tail()
