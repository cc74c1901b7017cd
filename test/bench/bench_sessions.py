"""bench_sessions.py - many concurrent idle SMTP sessions: Posthorn and Postfix.

Usage: python3 test/bench/bench_sessions.py BUILD_DIR

Starts a private Posthorn instance (test/integration/posthorn_instance.py,
default settings) and, as root, a private Postfix 3.x
(test/integration/postfix_helpers.py), and for each in turn:

  1. opens BENCH_SESSIONS (default 10000) TCP connections to its smtpd at
     once (non-blocking sockets, one selector; this process raises its own
     RLIMIT_NOFILE), reads each greeting, sends EHLO on each greeted one
     and keeps it idle;
  2. reports how many got a 220 greeting within BENCH_WINDOW (10) seconds,
     how many a 421, how many are still waiting (connected or in the listen
     queue, no greeting), and the time until the last one was greeted;
  3. samples the memory of the whole instance (the sum of RSS and of PSS
     over master and all its descendants) 1 s after the burst, and again
     with every session idle for BENCH_IDLE (15) more seconds: the steady
     state, after smtpd's worker threads of the burst (client name
     lookups) have gone (they exit after 10 s idle);
  4. sends QUIT on every session, closes all, waits BENCH_AFTER (5)
     seconds and samples the memory again (is it given back?).

Postfix runs one client per smtpd process, at most default_process_limit
(100): the others wait in the listen queue, which is reported as it is.
Prints a table with the Posthorn/Postfix ratios.

SessionSwarm, the client, is also used by
test/integration/test_many_sessions.py.
"""

import os
import re
import resource
import selectors
import socket
import sys
import tempfile
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from posthorn_instance import PosthornInstance, wait_until  # noqa: E402
from bench_smtp import tree_members, pss_kb  # noqa: E402

IS_ROOT = os.geteuid() == 0
RX_REPLY_END = re.compile(rb"^(\d\d\d)(?: [^\n]*)?\r?\n", re.M)


def raise_nofile(want):
    """Raise our RLIMIT_NOFILE to WANT descriptors (as root also the hard
    limit); returns the soft limit we got."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if want > hard and IS_ROOT:
        hard = want
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Session:
    __slots__ = ("sock", "state", "buf", "greet_code", "t_greet", "t_ehlo")

    def __init__(self, sock):
        self.sock = sock
        self.state = "connecting"	# -> greeting -> ehlo -> idle | closed
        self.buf = b""
        self.greet_code = None
        self.t_greet = None
        self.t_ehlo = None


class SessionSwarm:
    """N SMTP clients in one selector: connect all at once, read the
    greeting, EHLO, stay idle; quit_all() ends them."""

    def __init__(self, port, n, host="127.0.0.1"):
        self.port = port
        self.host = host
        self.n = n
        self.sel = selectors.DefaultSelector()
        self.sessions = []
        self.t0 = None
        self.connect_errors = 0

    def open_all(self):
        self.t0 = time.monotonic()
        for _ in range(self.n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((self.host, self.port))
            if err not in (0, 115):		# EINPROGRESS
                self.connect_errors += 1
                s.close()
                continue
            sess = Session(s)
            self.sessions.append(sess)
            self.sel.register(s, selectors.EVENT_READ, sess)

    def _close(self, sess, state):
        try:
            self.sel.unregister(sess.sock)
        except (KeyError, ValueError):
            pass
        sess.sock.close()
        sess.state = state

    def _reply(self, sess):
        """A complete (last line of a) reply in sess.buf: its code, or None."""
        m = None
        for m in RX_REPLY_END.finditer(sess.buf):
            pass
        if m is None:
            return None
        sess.buf = sess.buf[m.end():]
        return int(m.group(1))

    def _readable(self, sess):
        try:
            data = sess.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if sess.state in ("connecting", "greeting") and sess.greet_code is None:
                sess.greet_code = 0			# closed before any greeting
            self._close(sess, "closed")
            return
        sess.buf += data
        code = self._reply(sess)
        if code is None:
            return
        now = time.monotonic() - self.t0
        if sess.greet_code is None:
            sess.greet_code, sess.t_greet = code, now
            if code != 220:
                self._close(sess, "closed")
                return
            sess.state = "ehlo"
            try:
                sess.sock.send(b"EHLO client.example\r\n")
            except OSError:
                self._close(sess, "closed")
        elif sess.state == "ehlo":
            sess.t_ehlo = now
            sess.state = "idle"

    def run(self, until):
        """Handle events until every session is idle or closed, or UNTIL
        (monotonic seconds) has come."""
        while time.monotonic() < until:
            if all(s.state in ("idle", "closed") for s in self.sessions[-1:]) \
               and self.pending() == 0:
                return
            for key, _ev in self.sel.select(min(0.2, max(0.0, until - time.monotonic()))):
                self._readable(key.data)

    def pending(self):
        return sum(1 for s in self.sessions if s.state not in ("idle", "closed"))

    def counts(self, window):
        """{'greeted', 'r421', 'other', 'closed', 'waiting', 'idle', 'last'}:
        greetings with 220 within WINDOW seconds, 421s, other codes, closed
        without a greeting, still waiting, idle after EHLO, and the time of
        the last 220."""
        c = {"greeted": 0, "late": 0, "r421": 0, "other": 0, "closed": 0,
             "waiting": self.connect_errors, "idle": 0, "last": 0.0}
        for s in self.sessions:
            if s.greet_code == 220:
                c["greeted" if s.t_greet <= window else "late"] += 1
                c["last"] = max(c["last"], s.t_greet)
            elif s.greet_code == 421:
                c["r421"] += 1
            elif s.greet_code == 0:
                c["closed"] += 1
            elif s.greet_code is None:
                c["waiting"] += 1
            else:
                c["other"] += 1
            if s.state == "idle":
                c["idle"] += 1
        return c

    def quit_all(self):
        """QUIT and close every session (without waiting for the 221)."""
        for s in self.sessions:
            if s.state != "closed":
                try:
                    if s.state == "idle":
                        s.sock.send(b"QUIT\r\n")
                except OSError:
                    pass
                self._close(s, "closed")


def instance_memory(master_pid):
    """(RSS KiB, PSS KiB, process count) summed over MASTER_PID's tree."""
    members = tree_members(master_pid)
    return (sum(members.values()), sum(pss_kb(p) for p in members), len(members))


def measure(name, port, master_pid, n, window, after):
    """One burst against PORT; a dict of figures."""
    swarm = SessionSwarm(port, n)
    swarm.open_all()
    swarm.run(swarm.t0 + window)
    c = swarm.counts(window)
    time.sleep(1)					# let the last EHLOs settle
    swarm.run(time.monotonic() + 0.5)
    c["rss_burst"], c["pss_burst"], _ = instance_memory(master_pid)
    swarm.run(time.monotonic() + IDLE)		# the sessions stay idle
    rss, pss, nproc = instance_memory(master_pid)
    c.update({"name": name, "rss": rss, "pss": pss, "nproc": nproc,
              "idle": swarm.counts(window)["idle"]})
    swarm.quit_all()
    time.sleep(after)
    c["rss_after"], c["pss_after"], c["nproc_after"] = instance_memory(master_pid)
    return c


def report(c, n):
    print("  %-8s greeted<=%ds %5d  late %5d  421 %5d  other %d  closed %d  waiting %5d"
          "  last 220 at %.2fs" % (c["name"], WINDOW, c["greeted"], c["late"], c["r421"],
                                   c["other"], c["closed"], c["waiting"], c["last"]))
    print("  %-8s idle sessions %d: 1 s after the burst RSS %.1f MB, PSS %.1f MB; idle %ds:"
          " %d processes, RSS %.1f MB, PSS %.1f MB (%.1f KB/session)"
          "; %ds after close: %d processes, RSS %.1f MB, PSS %.1f MB" % (
              c["name"], c["idle"], c["rss_burst"] / 1024, c["pss_burst"] / 1024, IDLE,
              c["nproc"], c["rss"] / 1024, c["pss"] / 1024,
              c["pss"] / max(c["idle"], 1), AFTER, c["nproc_after"],
              c["rss_after"] / 1024, c["pss_after"] / 1024), flush=True)


def run_posthorn(build, n):
    os.environ["POSTHORN_BUILD"] = build
    base = tempfile.mkdtemp(prefix="phs-", dir="/tmp")
    inst = PosthornInstance(base, qmgr=False)
    try:
        inst.start()
        time.sleep(1)
        c = measure("posthorn", inst.port, inst.master_pid(), n, WINDOW, AFTER)
        log = inst.log()
        c["logged421"] = len(re.findall(r"reject: CONNECT from .*: 421 4\.3\.2", log))
        c["proclimit"] = len(re.findall(r"has reached its process limit", log))
        report(c, n)
        print("  posthorn log: %d refusals logged (NOQUEUE: reject: CONNECT ... 421 4.3.2)"
              % c["logged421"], flush=True)
        return c
    finally:
        inst.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)


def run_postfix(n):
    from postfix_helpers import PostfixInstance, HAVE_POSTFIX, WHY_NOT
    if not HAVE_POSTFIX:
        print("  postfix: skipped (%s)" % WHY_NOT)
        return None
    pf = PostfixInstance("bench@bench.test", 20003, hostname="bench.posthorn.test")
    try:
        pf.start()
        time.sleep(1)
        c = measure("postfix", pf.port, pf.master_pid(), n, WINDOW, AFTER)
        report(c, n)
        return c
    finally:
        pf.stop()


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


def table(p, f, n):
    rows = [("greeted (220) within %ds" % WINDOW, "greeted", "%d"),
            ("refused (421)", "r421", "%d"),
            ("waiting (no greeting)", "waiting", "%d"),
            ("time until last 220 (s)", "last", "%.2f"),
            ("PSS MB, 1 s after the burst", "pss_burst", "mb"),
            ("processes, idle %ds" % IDLE, "nproc", "%d"),
            ("RSS MB, idle %ds" % IDLE, "rss", "mb"),
            ("PSS MB, idle %ds" % IDLE, "pss", "mb"),
            ("PSS KB per idle session", "per", "%.1f"),
            ("RSS MB, %ds after close" % AFTER, "rss_after", "mb"),
            ("PSS MB, %ds after close" % AFTER, "pss_after", "mb")]
    for c in (p, f):
        if c:
            c["per"] = c["pss"] / max(c["idle"], 1)
    print()
    print("%d sessions at once, then idle" % n)
    head = "%-28s | %10s | %10s | %6s" % ("", "posthorn", "postfix", "ratio")
    print(head)
    print("-" * len(head))
    for label, key, fmt in rows:
        cells = []
        for c in (p, f):
            if not c:
                cells.append("-")
            elif fmt == "mb":
                cells.append("%.1f" % (c[key] / 1024))
            else:
                cells.append(fmt % c[key])
        r = ratio(p[key], f[key]) if p and f and key not in ("r421", "waiting") else ""
        print("%-28s | %10s | %10s | %6s" % (label, cells[0], cells[1], r))
    print("(ratio: Posthorn/Postfix; memory is the sum over master and all its"
          " descendants; Postfix serves one client per process, at most 100)")


WINDOW = float(os.environ.get("BENCH_WINDOW", "10"))
AFTER = int(os.environ.get("BENCH_AFTER", "5"))
IDLE = int(os.environ.get("BENCH_IDLE", "15"))


def main():
    if len(sys.argv) < 2:
        print("usage: bench_sessions.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    n = int(os.environ.get("BENCH_SESSIONS", "10000"))
    got = raise_nofile(n + 1000)
    if got < n + 100:
        print("bench: only %d descriptors (need %d): run as root" % (got, n + 100))
        n = got - 100
    print("bench: %d SMTP sessions at once, greeting, EHLO, idle, then QUIT" % n, flush=True)
    p = run_posthorn(build, n)
    f = run_postfix(n) if not os.environ.get("BENCH_NO_POSTFIX") else None
    table(p, f, n)
    goals = [("every session greeted within %ds" % WINDOW, p["greeted"] == n),
             ("at most 10 KB PSS per idle session", p["per"] <= 10.0)]
    if f:
        goals.append(("whole-instance PSS at most Postfix's", p["pss"] <= f["pss"]))
    for text, met in goals:
        print("goal: %s: %s" % (text, "met" if met else "MISSED"))
    return 0 if p["greeted"] + p["r421"] == n else 1	# 1: clients lost or hung


if __name__ == "__main__":
    sys.exit(main())
