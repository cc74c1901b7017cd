"""test_dead_destination.py - qmgr remembers a dead next hop.

When a destination (transport + next hop, here the relayhost) fails as a
whole (refused connection, lost connection, timeout), qmgr counts it
against that destination as Postfix's qmgr_queue_throttle(); after
default_destination_concurrency_failed_cohort_limit (1) failed cohorts
it is dead, and its other mail is deferred at once, without a delivery
attempt, with Postfix's reason "delivery temporarily suspended: REASON",
until minimal_backoff_time has passed; then a few deliveries are tried
again.

Hop is a listener on 127.0.0.1 written here that counts the connections
it accepts; its mode says what it does with them: "close" (the client
loses the connection before the greeting), "silent" (the greeting never
comes: a timeout), "sink" (a small SMTP server that takes every message),
"mail451" (an SMTP server that answers 451 to MAIL FROM: a failure of
the message, not of the site).

Shown: 1,000 messages injected while the relayhost closes every
connection cost a handful of connections (<= 10), every message is
deferred, all but those few with "delivery temporarily suspended: lost
connection with 127.0.0.1[127.0.0.1] while receiving the initial server
greeting"; the next retry period costs a handful again; when the hop
answers, all 1,000 are delivered after the retry time.  A refused port
(counted by the agent's "Connection refused" log lines) gives Postfix's
"delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:PORT:
Connection refused", and postqueue -f revives it at once; a silent hop
(smtp_helo_timeout) is declared dead by its timeouts; the same for LMTP
(lmtp:inet:...).  A 451 to MAIL FROM does not kill the destination:
every message is tried.
"""

import re
import socket
import threading
import time

from posthorn_instance import free_port, wait_until
from tcp_listener import TcpListener

SMTP_MASTER = ["smtp    unix  - - n - - smtp"]
LMTP_MASTER = ["lmtp    unix  - - n - - smtp"]
SENDER = "alice@posthorn.test"
BACKOFF = 8                                 # minimal = maximal_backoff_time


class Hop(TcpListener):
    """A next hop on 127.0.0.1 (PORT 0: a free one) that counts accepted
    connections; MODE (changeable) is close, silent, sink or mail451."""

    def __init__(self, mode, port=0):
        self.mode = mode
        self.accepts = 0
        self.delivered = 0
        self.lock = threading.Lock()
        self.held = []                      # silent connections, kept open
        super().__init__(port=port, backlog=128)

    def close(self):
        super().close()
        for s in self.held:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def accepted(self, conn):
        with self.lock:
            self.accepts += 1
        if self.mode == "close":
            conn.close()
        elif self.mode == "silent":
            self.held.append(conn)
        else:
            threading.Thread(target=self._smtp, args=(conn, self.mode),
                             daemon=True).start()

    def _smtp(self, conn, mode):
        conn.settimeout(20)
        f = conn.makefile("rwb")

        def send(line):
            f.write(line.encode() + b"\r\n")
            f.flush()
        try:
            send("220 hop.test ESMTP")
            for line in f:
                verb = line[:4].decode("ascii", "replace").upper()
                if verb in ("EHLO", "HELO", "LHLO"):
                    send("250 hop.test")
                elif verb == "MAIL":
                    send("451 4.3.0 Try again later" if mode == "mail451" else "250 2.1.0 Ok")
                elif verb == "RCPT":
                    send("250 2.1.5 Ok")
                elif verb == "DATA":
                    send("354 go ahead")
                    for body in f:
                        if body == b".\r\n":
                            break
                    with self.lock:
                        self.delivered += 1
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


def inject(inst, count, domain="remote.example", sessions=4):
    """COUNT messages, one recipient each (rcptN@DOMAIN), over SESSIONS
    SMTP sessions in parallel."""
    def run(first):
        with inst.smtp(timeout=60) as s:
            s.ehlo()
            for n in range(first, count, sessions):
                msg = ("From: %s\r\nTo: rcpt%d@%s\r\nSubject: %d\r\n\r\nbody %d\r\n"
                       % (SENDER, n, domain, n, n)).encode()
                s.sendmail(SENDER, ["rcpt%d@%s" % (n, domain)], msg)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def count(inst, pattern):
    return len(re.findall(pattern, inst.log(), re.M))


def deferred_rcpts(inst, domain="remote.example"):
    """The recipients logged as deferred so far (each counted once)."""
    return set(re.findall(r"to=<(rcpt\d+@%s)>, .*status=deferred" % re.escape(domain),
                          inst.log()))


def relay_instance(make_instance, hop_port, **more):
    main = {"relayhost": "[127.0.0.1]:%d" % hop_port,
            "minimal_backoff_time": "%ds" % BACKOFF,
            "maximal_backoff_time": "%ds" % BACKOFF,
            "queue_run_delay": "1s"}
    main.update(more)
    return make_instance(main=main, master=SMTP_MASTER)


def suspended(reason, dsn, domain="remote.example"):
    return (r"to=<rcpt\d+@%s>, relay=none, delay=[0-9.]+, delays=[0-9./]+, "
            r"dsn=%s, status=deferred \(delivery temporarily suspended: %s\)$"
            % (re.escape(domain), re.escape(dsn), reason))


def test_dead_relayhost_1000_messages(make_instance):
    hop = Hop("close")
    try:
        inst = relay_instance(make_instance, hop.port)
        start = time.monotonic()
        inject(inst, 1000)
        injected = time.monotonic() - start
        assert wait_until(lambda: len(deferred_rcpts(inst)) == 1000, 30), inst.log_tail()
        first = hop.accepts
        lost = (r"lost connection with 127\.0\.0\.1\[127\.0\.0\.1\] while receiving "
                r"the initial server greeting")
        quick = count(inst, suspended(lost, "4.4.2"))
        print("1000 messages injected in %.1fs; %d connections; %d deferred "
              "without a try" % (injected, first, quick))
        assert 1 <= first <= 10, first
        assert quick >= 1000 - first, inst.log_tail()
        assert wait_until(lambda: len(inst.queue_files("deferred")) == 1000, 10)

        # The next retry period (one revival at most): a handful again
        time.sleep(BACKOFF)
        second = hop.accepts - first
        time.sleep(2)
        again = count(inst, suspended(lost, "4.4.2")) - quick
        print("next period: %d connections, %d more suspended" % (second, again))
        assert second <= 10, second
        assert again >= 500, inst.log_tail()

        # The hop answers: after the retry time every message is delivered
        hop.mode = "sink"
        start = time.monotonic()
        assert wait_until(lambda: hop.delivered >= 1000, 3 * BACKOFF + 20, 0.2), \
            (hop.delivered, inst.log_tail())
        assert inst.wait_for_log(r"to=<rcpt\d+@remote\.example>, relay=127\.0\.0\.1"
                                 r"\[127\.0\.0\.1\]:%d, .*status=sent" % hop.port,
                                 20, count=1000), inst.log_tail()
        print("delivered 1000 in %.1fs after the hop came back"
              % (time.monotonic() - start))
        assert wait_until(inst.queue_empty, 20), inst.log_tail()
    finally:
        hop.close()


def test_refused_port_and_flush(make_instance):
    port = free_port()                      # nothing listens there
    inst = relay_instance(make_instance, port)
    inject(inst, 300)
    assert wait_until(lambda: len(deferred_rcpts(inst)) == 300, 30), inst.log_tail()
    refused = r"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused" % port
    tries = count(inst, r"status=deferred \(%s\)$" % refused)
    assert 1 <= tries <= 10, tries
    assert count(inst, suspended(refused, "4.4.1")) == 300 - tries, inst.log_tail()
    # postqueue -f gives the dead destination another chance at once
    inst.run([inst.bin("postqueue"), "-c", inst.etc, "-f"], check=True)
    assert wait_until(lambda: count(inst, r"status=deferred \(%s\)$" % refused) > tries, 5), \
        inst.log_tail()
    assert count(inst, r"status=deferred \(%s\)$" % refused) <= 2 * 10


def test_silent_hop_times_out(make_instance):
    hop = Hop("silent")
    try:
        inst = relay_instance(make_instance, hop.port, smtp_helo_timeout="2s")
        inject(inst, 100)
        assert wait_until(lambda: len(deferred_rcpts(inst)) == 100, 30), inst.log_tail()
        timed_out = (r"conversation with 127\.0\.0\.1\[127\.0\.0\.1\] timed out while "
                     r"receiving the initial server greeting")
        assert 1 <= hop.accepts <= 10, hop.accepts
        assert count(inst, suspended(timed_out, "4.4.2")) >= 100 - hop.accepts, \
            inst.log_tail()
    finally:
        hop.close()


def test_lmtp_dead_destination(make_instance):
    port = free_port()
    inst = make_instance(main={"transport_maps": "inline:{ lmtp.test=lmtp:inet:127.0.0.1:%d }"
                               % port,
                               "minimal_backoff_time": "%ds" % BACKOFF,
                               "maximal_backoff_time": "%ds" % BACKOFF},
                         master=LMTP_MASTER)
    inject(inst, 100, domain="lmtp.test")
    assert wait_until(lambda: len(deferred_rcpts(inst, "lmtp.test")) == 100, 30), \
        inst.log_tail()
    refused = r"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused" % port
    tries = count(inst, r"posthorn/lmtp\[\d+\]: \w+: to=.*status=deferred \(%s\)$" % refused)
    assert 1 <= tries <= 10, tries
    assert count(inst, r"posthorn/qmgr\[\d+\]: \w+: " + suspended(refused, "4.4.1", "lmtp.test")) \
        == 100 - tries, inst.log_tail()


def test_message_failure_is_no_site_failure(make_instance):
    hop = Hop("mail451")
    try:
        inst = relay_instance(make_instance, hop.port)
        inject(inst, 30, sessions=1)
        assert wait_until(lambda: len(deferred_rcpts(inst)) == 30, 30), inst.log_tail()
        assert hop.accepts >= 30         # every message was tried
        assert count(inst, r"delivery temporarily suspended") == 0, inst.log_tail()
        assert count(inst, r"dsn=4\.3\.0, status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] "
                     r"said: 451 4\.3\.0 Try again later \(in reply to MAIL FROM command\)\)") \
            >= 30
    finally:
        hop.close()
