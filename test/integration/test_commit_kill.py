"""test_commit_kill.py - kill -9 smtpd between the fsync and the 250, under load.

smtpd fsyncs a queue file in a worker thread and answers "250 ... queued
as ID" from its event loop when the fsync is done (smtpd_queue.c).  The
rule is that a client hears 250 only for a file that is complete and on
disk.  Here eight clients keep sending while strace holds the return of
every fsync of the smtpd processes for a while (`inject=fsync:delay_exit`:
the data is on disk, nobody has heard of it yet), and smtpd is killed
with SIGKILL while fsyncs are held.  Afterwards every message a client
got 250 for must be delivered.  Messages whose fsync was held when smtpd
died were never acknowledged; they may arrive too (a duplicate at worst,
as after a connection lost right after the dot), never half.

Needs strace and permission to trace smtpd (root, or the same user where
kernel.yama.ptrace_scope allows it); else skipped, saying why.
"""

import os
import shutil
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from posthorn_instance import header_value, wait_until

STRACE = shutil.which("strace")
CLIENTS = 8
ROUNDS = 4
HOLD_USEC = 300000


class Client(threading.Thread):
    """Sends messages in a loop; .acked holds the subjects answered 250."""

    def __init__(self, inst, index, stop):
        super().__init__(daemon=True)
        self.inst = inst
        self.index = index
        self.stop = stop
        self.acked = []
        self.failed = 0

    def one_session(self, count):
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=30) as s:
            for _ in range(5):
                if self.stop.is_set():
                    return count
                subj = "ck %d %05d" % (self.index, count)
                count += 1
                msg = ("From: ck@example.com\r\nTo: alice@posthorn.test\r\n"
                       "Subject: %s\r\n\r\n" % subj).encode() + b"y" * 3000 + b"\r\n"
                s.sendmail("ck@example.com", ["alice@posthorn.test"], msg)
                self.acked.append(subj)		# only after the 250
        return count

    def run(self):
        count = 0
        while not self.stop.is_set():
            try:
                count = self.one_session(count)
            except (OSError, smtplib.SMTPException):
                self.failed += 1		# killed under us: not acknowledged
                count += 1
                time.sleep(0.05)


def smtpd_pids(inst):
    return [c["pid"] for c in inst.children() if c["name"] == "smtpd"]


def hold_and_kill(pid, log):
    """Hold smtpd PID's fsyncs, kill it while they are held; True when an
    fsync had completed and was held at the moment of the kill."""
    tracer = subprocess.Popen([STRACE, "-f", "-qq", "-e", "trace=fsync",
                               "-e", "inject=fsync:delay_exit=%d" % HOLD_USEC,
                               "-o", log, "-p", str(pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    held = wait_until(lambda: tracer.poll() is not None or
                      (os.path.exists(log) and "fsync(" in open(log).read()), 5, 0.01)
    if tracer.poll() is not None:			# could not attach
        why = tracer.stderr.read().decode("utf-8", "replace")
        if "not permitted" in why:
            pytest.skip("cannot trace smtpd: %s" % why.strip())
        raise AssertionError("strace: " + why)
    time.sleep(HOLD_USEC / 1e6 / 3)		# within the hold of some fsync
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        held = False
    tracer.wait(timeout=10)
    return held


def delivered(inst):
    """Subjects of the test's messages in alice's Maildir; each must be whole."""
    out = set()
    for data in inst.maildir_messages("alice"):
        subj = header_value(data, "Subject")
        if subj and subj.startswith(b"ck "):
            assert data.rstrip(b"\r\n").endswith(b"\n" + b"y" * 3000), data[:300]
            out.add(subj.decode())
    return out


def test_kill_smtpd_between_fsync_and_250(instance, tmp_path):
    if not STRACE:
        pytest.skip("strace is not installed")
    inst = instance
    stop = threading.Event()
    clients = [Client(inst, i, stop) for i in range(CLIENTS)]
    for c in clients:
        c.start()
    kills_while_held = 0
    try:
        for rnd in range(ROUNDS):
            assert wait_until(lambda: smtpd_pids(inst), 10, 0.05), inst.log_tail()
            time.sleep(0.5)				# load builds up again
            pid = smtpd_pids(inst)[0]
            log = str(tmp_path / ("strace.%d" % rnd))
            if hold_and_kill(pid, log):
                kills_while_held += 1
    finally:
        time.sleep(0.5)
        stop.set()
        for c in clients:
            c.join(timeout=60)
    acked = [s for c in clients for s in c.acked]
    assert kills_while_held >= ROUNDS - 1, "fsyncs were not held at the kills"
    assert sum(c.failed for c in clients) > 0, "no session was cut by the kills"
    assert len(acked) > 50, len(acked)
    want = set(acked)
    deadline = time.monotonic() + 60
    got = delivered(inst)
    while not want <= got and time.monotonic() < deadline:
        inst.posthorn("flush")
        time.sleep(0.5)
        got = delivered(inst)
    missing = sorted(want - got)
    assert not missing, "acknowledged but lost: %s\n%s" % (missing[:10], inst.log_tail())
    # master saw each smtpd die of the signal
    assert inst.wait_for_log(r"smtpd.*(signal 9|killed)", count=ROUNDS), inst.log_tail()
