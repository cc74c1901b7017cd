"""bench_pop3.py - POP3 logins and retrieval of Posthorn's pop3d against Dovecot.

Usage: python3 test/bench/bench_pop3.py BUILD_DIR   (normally via
test/bench/bench_pop3.sh).

Starts a private Posthorn instance with pop3d (the integration tests'
fixture, test/integration/pop3_helpers.py: pop3d, the pop3auth service, a
sasldb) and a private Dovecot instance (Debian's dovecot-core and
dovecot-pop3d: its own base_dir, state_dir and log in a temporary
directory, a passwd-file passdb and userdb, pop3 on a free 127.0.0.1 port,
no TLS; needs root), with the same users, uids and Maildir files for both,
and measures:
  logins         20 client processes, each looping connect, USER, PASS,
                 STAT, QUIT for BENCH_POP3_LOGINS_SECONDS (after a 1 s
                 warm-up), on a 10-message Maildir; logins/second.
                 Dovecot twice: as Debian ships it (a new pop3-login
                 process per connection, service_count = 1) and in its
                 "high-performance" login mode (service_count = 0,
                 process_min_avail = 2), which is how Posthorn's
                 event-driven login process works.
  LIST+RETR      one client: USER/PASS, LIST, RETR 1..N (pipelined, at
                 most BENCH_POP3_WINDOW commands in flight), QUIT, on an
                 N-message Maildir (~4 KiB messages, BENCH_POP3_MSGS,
                 default 10000); the first session (cold: no
                 dovecot-uidlist, no Dovecot index) and the next ones
                 (warm: the median of BENCH_POP3_WARM_RUNS sessions);
                 messages/second from connect to QUIT's answer.
Every answer is checked (+OK, LIST lines and octet totals, RETR octet
totals); a row with a failure is marked '!'.  Peak memory is the largest
RSS and PSS sums of each server's process tree, sampled every 0.25 s.
The client processes' CPU time and the machine's busy share are printed
for each run, to show whether the client (which shares the machine's
cores with the servers) is the bottleneck; a run warns when the machine
was busy with other work just before it.

Environment: BENCH_POP3_LOGINS_SECONDS (default 10), BENCH_POP3_MSGS
(default 10000), BENCH_POP3_CLIENTS (default 20), BENCH_POP3_WINDOW
(default 64; 1 = one command at a time), BENCH_POP3_WARM_RUNS (default
3), BENCH_KEEP=1 keeps the server directories.
"""

import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from posthorn_instance import PosthornInstance, wait_until, free_port, pid_alive  # noqa: E402
import pop3_helpers  # noqa: E402
import dovecot_helpers  # noqa: E402
from bench_smtp import RssSampler, tree_members  # noqa: E402

DOVECOT = dovecot_helpers.DOVECOT
IS_ROOT = os.geteuid() == 0
LOGIN_USER = "alice@posthorn.test"      # the small Maildir, for the logins
BIG_USER = "bob@posthorn.test"          # the big Maildir, for LIST+RETR
SMALL_MSGS = 10
WARMUP = 1.0


class Sampler(RssSampler):
    """bench_smtp's RSS sampler at 0.25 s: the /proc walk costs CPU that
    the servers and the client share on a small machine."""

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.25)


# ------------------------------------------------------------------ mail

def make_messages(directory, count, seed=4242):
    """COUNT messages of about 4 KiB (LF line ends, no line starting with
    a dot) in DIRECTORY under Dovecot-style Maildir names with S= (file
    size) and W= (size with CRLF); returns [(name, size, vsize)]."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
             for _ in range(3000)]
    lines = []
    for _ in range(4000):
        line, width = [], rng.randint(40, 72)
        while sum(len(w) + 1 for w in line) < width:
            line.append(rng.choice(words))
        lines.append(" ".join(line).capitalize() + "\n")
    out = []
    for i in range(count):
        t = 1700000000 + i * 37
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        head = ("Return-Path: <sender%d@example.com>\n"
                "Received: from client.example (client.example [192.0.2.%d])\n"
                "\tby mail.posthorn.test (Posthorn) with ESMTP id B%08X\n"
                "\tfor <bob@posthorn.test>; %s\n"
                "From: Sender %d <sender%d@example.com>\n"
                "To: Bob <bob@posthorn.test>\n"
                "Subject: benchmark message %d\n"
                "Date: %s\n"
                "Message-Id: <%d.%08x@example.com>\n"
                "MIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=us-ascii\n\n"
                % (i % 97, i % 250 + 1, i, date, i % 97, i % 97, i, date,
                   t, rng.getrandbits(32)))
        target = rng.randint(3584, 4608)
        body = []
        size = len(head)
        while size < target:
            line = lines[rng.randrange(len(lines))]
            body.append(line)
            size += len(line)
        data = (head + "".join(body)).encode()
        size, vsize = len(data), len(data) + data.count(b"\n")
        name = "%d.M%dP%d.bench.posthorn.test,S=%d,W=%d" % (
            t, rng.randrange(1000000), 4000 + i % 30000, size, vsize)
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        out.append((name, size, vsize))
    return out


def fill_maildir(maildir, template, msgs, uid, gid):
    """A new Maildir MAILDIR whose new/ holds copies of MSGS from TEMPLATE,
    everything owned by UID:GID when we are root."""
    for sub in ("", "new", "cur", "tmp"):
        d = os.path.join(maildir, sub)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o700)
        if IS_ROOT:
            os.chown(d, uid, gid)
    for name, _size, _vsize in msgs:
        dest = os.path.join(maildir, "new", name)
        shutil.copyfile(os.path.join(template, name), dest)
        if IS_ROOT:
            os.chown(dest, uid, gid)


# -------------------------------------------------------------- servers

def pop3_greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(3)
            return s.recv(200).startswith(b"+OK")
    except OSError:
        return False


class PosthornSide:
    name = "posthorn"

    def __init__(self, build):
        os.environ["POSTHORN_BUILD"] = build
        self.inst = None
        try:
            self.inst = pop3_helpers.pop3_instance(self._make, start=False)
        except BaseException:
            self.cleanup()
            raise
        self.port = self.inst.pop3_port

    def _make(self, main=None, master=None, qmgr=False, start=True,
              users=("alice", "bob")):
        """pop3_helpers' factory (as conftest's): no qmgr, nothing is sent."""
        base = tempfile.mkdtemp(prefix="phb-pop3-", dir="/tmp")
        inst = PosthornInstance(base, main=main, master=master, qmgr=False, users=users)
        self.inst = inst
        if start:
            inst.start()
        return inst

    def account(self, login):
        """(uid, gid, Maildir path) of LOGIN."""
        uid, gid, home = self.inst.users[login.split("@")[0]]
        return uid, gid, os.path.join(home, "Maildir")

    def start(self):
        self.inst.start()
        if not wait_until(lambda: pop3_greets(self.port), 15, 0.1):
            raise RuntimeError("pop3d does not answer on %d\n%s" % (self.port, self.log_tail()))

    def master_pid(self):
        return self.inst.master_pid()

    def stop(self):
        if self.inst is not None and self.inst.running:
            self.inst.stop()

    def cleanup(self):
        if self.inst is None:
            return
        self.inst.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.inst.base, ignore_errors=True)
        self.inst = None

    def log_tail(self):
        return self.inst.log_tail(15)


def proc_start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class DovecotSide:
    """A private Dovecot (pop3 only) in a temporary directory; the same
    logins, uids and Maildir layout (HOME/Maildir) as the Posthorn side."""
    name = "dovecot"

    def __init__(self, accounts):
        """ACCOUNTS: {login: (password, uid, gid)}."""
        self.base = tempfile.mkdtemp(prefix="dvb-pop3-", dir="/tmp")
        self.proc = None
        self.members = {}
        try:
            self.setup(accounts)
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise

    def setup(self, accounts):
        os.chmod(self.base, 0o755)
        self.run_dir = os.path.join(self.base, "run")
        self.state_dir = os.path.join(self.base, "state")
        self.log = os.path.join(self.base, "dovecot.log")
        self.conf = os.path.join(self.base, "dovecot.conf")
        self.passwd = os.path.join(self.base, "passwd")
        for d in (self.run_dir, self.state_dir, os.path.join(self.base, "home")):
            os.makedirs(d)
            os.chmod(d, 0o755)
        self.homes = {}
        with open(self.passwd, "w") as f:
            for login, (password, uid, gid) in accounts.items():
                home = os.path.join(self.base, "home", login.split("@")[0])
                os.makedirs(home)
                os.chmod(home, 0o700)
                os.chown(home, uid, gid)
                self.homes[login] = (uid, gid, home)
                f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (login, password, uid, gid, home))
        os.chmod(self.passwd, 0o600)
        # read by the auth processes, which run as default_internal_user
        shutil.chown(self.passwd, "dovecot", "dovecot")
        self.port = free_port()

    def account(self, login):
        uid, gid, home = self.homes[login]
        return uid, gid, os.path.join(home, "Maildir")

    protocol = "pop3"

    def greets(self):
        return pop3_greets(self.port)

    def write_conf(self, fast_login):
        login_mode = ("  service_count = 0\n  process_min_avail = 2\n" if fast_login
                      else "")
        with open(self.conf, "w") as f:
            f.write(dovecot_helpers.conf_text(self.base, self.passwd, self.protocol, self.port,
                                              mechanisms="plain", login_extra=login_mode,
                                              written_by="test/bench/"))

    def start(self, fast_login=False):
        self.write_conf(fast_login)
        try:
            self.proc = dovecot_helpers.launch(self.base, self.conf, self.greets)
        except RuntimeError as e:
            raise RuntimeError("%s\n%s" % (e, self.log_tail()))
        self.remember()

    def remember(self):
        """Note the processes of the instance (with their start times), so
        that stop() can kill any that outlive the master."""
        if self.proc and self.proc.poll() is None:
            for pid in tree_members(self.proc.pid):
                st = proc_start_time(pid)
                if st is not None:
                    self.members[pid] = st

    def master_pid(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def stop(self):
        if self.proc is not None:
            self.remember()
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc = None
        wait_until(lambda: not any(pid_alive(p) and proc_start_time(p) == st
                                   for p, st in self.members.items()), 5, 0.1)
        for pid, st in self.members.items():
            if pid_alive(pid) and proc_start_time(pid) == st:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.members = {}

    def cleanup(self):
        self.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self):
        out = []
        for name in (self.log, os.path.join(self.base, "dovecot.stderr")):
            try:
                with open(name, errors="replace") as f:
                    out.extend(f.readlines()[-15:])
            except OSError:
                pass
        return "".join(out)


def stop_system_dovecot():
    """Stop Debian's own Dovecot if it runs (it would share the CPUs)."""
    try:
        with open("/run/dovecot/master.pid") as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if pid_alive(pid):
        print("bench: stopping the system's Dovecot (service dovecot stop)", flush=True)
        subprocess.run(["service", "dovecot", "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


# -------------------------------------------------------------- clients

class LineConn:
    """A minimal POP3 client over a raw socket."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def fill(self):
        """Read more; drops what was consumed first (positions past
        self.pos stay valid relative to it)."""
        if self.pos > 1 << 20:
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(262144)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self.fill()

    def cmd(self, text):
        self.sock.sendall(text)
        return self.line()

    def multi(self):
        """The next multi-line answer: (first line, octets of its data
        lines, CRLF included, dot-stuffing not undone)."""
        first = self.line()
        if not first.startswith(b"+OK"):
            return first, 0
        look = 0                        # offset from self.pos searched so far
        while True:
            avail = len(self.buf) - self.pos
            if avail >= 3 and self.buf[self.pos:self.pos + 3] == b".\r\n":
                self.pos += 3
                return first, 0
            i = self.buf.find(b"\r\n.\r\n", self.pos + look)
            if i >= 0:
                octets = i + 2 - self.pos
                self.pos = i + 5
                return first, octets
            look = max(0, avail - 4)
            self.fill()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def worker_signals():
    """A client process ends quietly on Ctrl-C or SIGTERM (the parent
    reports); it keeps ignoring SIGINT if the parent does."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def login_worker(port, login, password, t_start, t_end, conn):
    """One client process: log in, STAT, QUIT until T_END; counts the
    logins that end between T_START and T_END."""
    worker_signals()
    user = ("USER %s\r\n" % login).encode()
    pw = ("PASS %s\r\n" % password).encode()
    ok = bad = 0
    first_error = ""
    while time.monotonic() < t_end:
        good = False
        why = ""
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            try:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for command in (None, user, pw, b"STAT\r\n", b"QUIT\r\n"):
                    if command:
                        s.sendall(command)
                    answer = b""
                    while not answer.endswith(b"\n"):
                        chunk = s.recv(4096)
                        if not chunk:
                            raise EOFError("closed after %r" % answer)
                        answer += chunk
                    if not answer.startswith(b"+OK"):
                        why = "%s -> %s" % ((command or b"greeting").split()[0].decode(),
                                            answer.strip().decode("latin-1")[:100])
                        break
                else:
                    good = True
            finally:
                s.close()
        except (OSError, EOFError) as e:
            why = str(e)
        done = time.monotonic()
        if t_start <= done < t_end:
            if good:
                ok += 1
            else:
                bad += 1
                first_error = first_error or why
        if not good:
            time.sleep(0.01)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    conn.send((ok, bad, ru.ru_utime + ru.ru_stime, first_error))
    conn.close()


def retr_worker(port, login, password, count, window, conn):
    """One client: login, LIST, RETR 1..COUNT pipelined (WINDOW in
    flight), QUIT.  Sends back the times and the octet totals."""
    worker_signals()
    res = {"error": "", "list_lines": 0, "list_octets": 0, "retr_ok": 0, "retr_octets": 0}
    t0 = time.monotonic()
    try:
        c = LineConn(port)
        greeting = c.line()
        if not greeting.startswith(b"+OK"):
            raise RuntimeError("greeting: %r" % greeting)
        for command in (("USER %s\r\n" % login).encode(), ("PASS %s\r\n" % password).encode()):
            answer = c.cmd(command)
            if not answer.startswith(b"+OK"):
                raise RuntimeError("%s: %r" % (command.split()[0].decode(), answer))
        res["t_login"] = time.monotonic() - t0
        c.sock.sendall(b"LIST\r\n")
        first = c.line()
        if not first.startswith(b"+OK"):
            raise RuntimeError("LIST: %r" % first)
        while True:
            line = c.line()
            if line == b".":
                break
            res["list_lines"] += 1
            res["list_octets"] += int(line.split()[1])
        res["t_list"] = time.monotonic() - t0
        sent = answered = 0
        while answered < count:
            if sent < count and sent - answered < window:
                n = min(count, answered + window) - sent
                c.sock.sendall(b"".join(b"RETR %d\r\n" % (sent + k + 1) for k in range(n)))
                sent += n
            first, octets = c.multi()
            answered += 1
            if not first.startswith(b"+OK"):
                res["error"] = res["error"] or "RETR %d: %r" % (answered, first)
                continue
            res["retr_ok"] += 1
            res["retr_octets"] += octets
        res["t_retr"] = time.monotonic() - t0
        answer = c.cmd(b"QUIT\r\n")
        if not answer.startswith(b"+OK"):
            res["error"] = res["error"] or "QUIT: %r" % answer
        res["t_quit"] = time.monotonic() - t0
        c.close()
    except Exception as e:  # report whatever broke, the parent marks the row
        res["error"] = res["error"] or "%s: %s" % (type(e).__name__, e)
        res["t_quit"] = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    res["cpu"] = ru.ru_utime + ru.ru_stime
    conn.send(res)
    conn.close()


def cpu_ticks():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_share(before, after):
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


def start_processes(ctx, target, arglists):
    """One process per argument list (each gets a pipe end as its last
    argument); [(process, pipe end)].  Started before any thread of ours
    runs (fork)."""
    procs = []
    for args in arglists:
        parent_end, child_end = ctx.Pipe(duplex=False)
        p = ctx.Process(target=target, args=tuple(args) + (child_end,))
        p.start()
        child_end.close()
        procs.append((p, parent_end))
    return procs


def collect(procs, timeout):
    """The results of START_PROCESSES' processes in order (None for one
    that sent none in time); ends and reaps them all."""
    results = []
    try:
        deadline = time.monotonic() + timeout
        for _p, end in procs:
            try:
                ready = end.poll(max(0.1, deadline - time.monotonic()))
                results.append(end.recv() if ready else None)
            except (EOFError, OSError):
                results.append(None)
    finally:
        for p, _end in procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(5)
    return results


def measure_logins(ctx, side, clients, seconds, worker=None, password=None):
    """CLIENTS processes running WORKER (this module's login_worker; the
    IMAP bench passes its own) against SIDE for SECONDS after a warm-up."""
    t_start = time.monotonic() + WARMUP
    t_end = t_start + seconds
    worker = worker or login_worker
    password = password or pop3_helpers.PASSWORDS[LOGIN_USER]
    procs = start_processes(ctx, worker,
                            [(side.port, LOGIN_USER, password, t_start, t_end)] * clients)
    sampler = Sampler(side.master_pid())
    sampler.start()
    try:
        time.sleep(max(0.0, t_start - time.monotonic()))
        before = cpu_ticks()
        time.sleep(max(0.0, t_end - time.monotonic()))
        after = cpu_ticks()
    finally:
        results = collect(procs, 60)
        sampler.stop()
    if isinstance(side, DovecotSide):
        side.remember()
    ok = sum(r[0] for r in results if r)
    bad = sum(r[1] for r in results if r)
    client_cpu = sum(r[2] for r in results if r)
    errors = [r[3] for r in results if r and r[3]]
    lost = sum(1 for r in results if r is None)
    note = ""
    if bad or lost or not ok:
        note = "%d failed logins%s%s" % (bad, ", %d clients lost" % lost if lost else "",
                                         ": " + errors[0] if errors else "")
    ncpu = os.cpu_count() or 1
    return {"rate": ok / seconds, "mb": sampler.peak_kb / 1024.0,
            "pss": sampler.peak_pss_kb / 1024.0, "ok": not note,
            "note": note, "count": ok,
            "client_cpu": client_cpu / ((seconds + WARMUP) * ncpu),
            "busy": busy_share(before, after)}


def measure_retr(ctx, side, count, window, msgs):
    before = cpu_ticks()
    t0 = time.monotonic()
    procs = start_processes(ctx, retr_worker, [(side.port, BIG_USER,
                                                pop3_helpers.PASSWORDS[BIG_USER],
                                                count, window)])
    sampler = Sampler(side.master_pid())
    sampler.start()
    try:
        res = collect(procs, 600)[0]
    finally:
        sampler.stop()
    elapsed = time.monotonic() - t0
    after = cpu_ticks()
    if isinstance(side, DovecotSide):
        side.remember()
    if res is None:
        res = {"error": "client did not answer", "t_quit": elapsed, "cpu": 0.0,
               "list_lines": 0, "list_octets": 0, "retr_ok": 0, "retr_octets": 0}
    want_octets = sum(v for _n, _s, v in msgs)
    note = res["error"]
    if not note and res["list_lines"] != count:
        note = "LIST gave %d lines, not %d" % (res["list_lines"], count)
    if not note and res["list_octets"] != want_octets:
        note = "LIST sizes sum to %d, not %d" % (res["list_octets"], want_octets)
    if not note and (res["retr_ok"] != count or res["retr_octets"] != want_octets):
        note = "RETR gave %d messages, %d octets; expected %d, %d" % (
            res["retr_ok"], res["retr_octets"], count, want_octets)
    t = res.get("t_quit") or elapsed
    phases = ""
    if all(k in res for k in ("t_login", "t_list", "t_retr", "t_quit")):
        phases = "login %.3f s, LIST %.3f s, RETR %.3f s, QUIT %.3f s" % (
            res["t_login"], res["t_list"] - res["t_login"], res["t_retr"] - res["t_list"],
            res["t_quit"] - res["t_retr"])
    ncpu = os.cpu_count() or 1
    return {"rate": count / t if t > 0 else 0.0, "mb": sampler.peak_kb / 1024.0,
            "pss": sampler.peak_pss_kb / 1024.0, "ok": not note, "note": note,
            "count": res["retr_ok"], "time": t, "phases": phases,
            "client_cpu": res["cpu"] / (elapsed * ncpu) if elapsed > 0 else 0.0,
            "busy": busy_share(before, after)}


# ----------------------------------------------------------------- main

def report(side, label, res):
    status = "ok" if res["ok"] else "FAILED: " + res["note"]
    print("  %-8s %-46s %8.1f/s  RSS %5.1f MB  PSS %5.1f MB  client CPU %4.1f%%  "
          "machine busy %5.1f%%  %s"
          % (side.name, label, res["rate"], res["mb"], res["pss"], 100 * res["client_cpu"],
             100 * res["busy"], status), flush=True)
    if res.get("phases"):
        print("  %8s %.3f s: %s" % ("", res["time"], res["phases"]), flush=True)
    if res.get("bg", 0) > 0.10:
        print("  %8s (the machine was %.0f%% busy just before this run: other work "
              "disturbs the figure)" % ("", 100 * res["bg"]), flush=True)
    if not res["ok"]:
        print("    log tail:\n" + side.log_tail(), flush=True)


def background_busy(seconds=0.3):
    """The machine's busy share over SECONDS while we do nothing."""
    before = cpu_ticks()
    time.sleep(seconds)
    return busy_share(before, cpu_ticks())


def median_run(runs):
    """The run with the median rate of RUNS (peak memory: the largest);
    not ok if any of them failed."""
    ordered = sorted(runs, key=lambda r: r["rate"])
    res = dict(ordered[len(ordered) // 2])
    res["mb"] = max(r["mb"] for r in runs)
    res["pss"] = max(r["pss"] for r in runs)
    failed = [r for r in runs if not r["ok"]]
    if failed:
        res["ok"], res["note"] = False, failed[0]["note"]
    return res


def run_side(ctx, side, plan, results, msgs, start_args=None):
    """Start SIDE, run PLAN [(key, label, kind)], stop it (not remove).
    A "warm" row is the median of WARM_RUNS sessions."""
    try:
        side.start(**(start_args or {}))
        for key, label, kind in plan:
            runs = []
            for i in range(WARM_RUNS if key == "warm" else 1):
                bg = background_busy()
                if kind == "logins":
                    res = measure_logins(ctx, side, CLIENTS, LOGIN_SECONDS)
                else:
                    res = measure_retr(ctx, side, len(msgs), WINDOW, msgs)
                res["bg"] = bg
                report(side, label + (" #%d" % (i + 1) if key == "warm" else ""), res)
                runs.append(res)
            results[(side.name, key)] = median_run(runs)
    except Exception as e:  # report and go on with the other server
        print("  %s: %s" % (side.name, e), flush=True)
    finally:
        side.stop()


def cell(res, fmt="%.1f"):
    if not res:
        return "-"
    return (fmt % res["rate"]) + ("" if res["ok"] else "!")


def mb_cell(res, key="mb"):
    return "-" if not res else "%.1f" % res[key]


def ratio(a, b, key="rate"):
    if not a or not b or not a.get(key) or not b.get(key):
        return "-"
    return "%.2f" % (a[key] / b[key])


def on_sigterm(signum, frame):
    raise KeyboardInterrupt()


LOGIN_SECONDS = float(os.environ.get("BENCH_POP3_LOGINS_SECONDS", "10"))
NMSGS = int(os.environ.get("BENCH_POP3_MSGS", "10000"))
CLIENTS = int(os.environ.get("BENCH_POP3_CLIENTS", "20"))
WINDOW = max(1, int(os.environ.get("BENCH_POP3_WINDOW", "64")))
WARM_RUNS = max(1, int(os.environ.get("BENCH_POP3_WARM_RUNS", "3")))


def main():
    if len(sys.argv) < 2:
        print("usage: bench_pop3.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    if not os.access(os.path.join(build, "libexec", "pop3d"), os.X_OK):
        print("bench: %s/libexec/pop3d not built" % build, file=sys.stderr)
        return 1
    with_dovecot = IS_ROOT and os.access(DOVECOT, os.X_OK) and \
        os.path.exists("/usr/lib/dovecot/pop3")
    signal.signal(signal.SIGTERM, on_sigterm)
    ctx = multiprocessing.get_context("fork")

    results = {}
    template = tempfile.mkdtemp(prefix="pop3-msgs-", dir="/tmp")
    sides = []
    try:
        t = time.monotonic()
        msgs = make_messages(template, NMSGS)
        small = msgs[:SMALL_MSGS]
        print("bench: %d messages, %.1f MB, %d-%d octets (made in %.1f s); "
              "%d login clients for %g s; RETR pipelined %d deep; %d CPUs shared by "
              "client and server" % (
                  len(msgs), sum(m[1] for m in msgs) / 1e6, min(m[1] for m in msgs),
                  max(m[1] for m in msgs), time.monotonic() - t, CLIENTS, LOGIN_SECONDS,
                  WINDOW, os.cpu_count() or 1), flush=True)
        bg = background_busy(1.0)
        if bg > 0.10:
            print("bench: warning: the machine is %.0f%% busy before the run; other work "
                  "shares the CPUs with the servers and disturbs the figures" % (100 * bg),
                  flush=True)
        posthorn = PosthornSide(build)
        sides.append(posthorn)
        dovecot = None
        if with_dovecot:
            stop_system_dovecot()
            accounts = {}
            for login in (LOGIN_USER, BIG_USER):
                uid, gid, _md = posthorn.account(login)
                accounts[login] = (pop3_helpers.PASSWORDS[login], uid, gid)
            dovecot = DovecotSide(accounts)
            sides.append(dovecot)
        # every Maildir is filled before either server starts, so that the
        # page cache treats both alike
        for side in sides:
            for login, some in ((LOGIN_USER, small), (BIG_USER, msgs)):
                uid, gid, md = side.account(login)
                fill_maildir(md, template, some, uid, gid)

        logins = ("logins", "logins/s, %d clients" % CLIENTS, "logins")
        logins_fast = ("logins_fast", "logins/s, %d clients, Dovecot service_count=0"
                       % CLIENTS, "logins")
        cold = ("cold", "LIST+RETR %d msgs, cold (msg/s)" % len(msgs), "retr")
        warm = ("warm", "LIST+RETR %d msgs, warm (msg/s)" % len(msgs), "retr")
        run_side(ctx, posthorn, [logins, cold, warm], results, msgs)
        if dovecot:
            run_side(ctx, dovecot, [logins, cold, warm], results, msgs)
            run_side(ctx, dovecot, [logins_fast], results, msgs,
                     {"fast_login": True})
            results[("posthorn", "logins_fast")] = results.get(("posthorn", "logins"))
        else:
            print("bench: Dovecot comparison skipped (needs root and dovecot-core, "
                  "dovecot-pop3d)")
    finally:
        for side in sides:
            try:
                side.cleanup()
            except Exception as e:
                print("bench: stopping %s: %s" % (side.name, e), file=sys.stderr)
        shutil.rmtree(template, ignore_errors=True)

    rows = [logins, logins_fast, cold, warm] if dovecot else [logins, cold, warm]
    print()
    head = "%-46s %9s %9s %6s | %7s %7s %6s | %7s %7s %6s" % (
        "POP3", "Posthorn", "Dovecot", "ratio", "RSS MB", "RSS MB", "ratio",
        "PSS MB", "PSS MB", "ratio")
    print(head)
    print("-" * len(head))
    for key, label, _kind in rows:
        p = results.get(("posthorn", key))
        d = results.get(("dovecot", key))
        print("%-46s %9s %9s %6s | %7s %7s %6s | %7s %7s %6s" % (
            label, cell(p), cell(d), ratio(p, d), mb_cell(p), mb_cell(d),
            ratio(p, d, "mb"), mb_cell(p, "pss"), mb_cell(d, "pss"), ratio(p, d, "pss")))
    print("(ratios Posthorn/Dovecot: rate, higher is better; peak RSS and PSS sums of "
          "each server's")
    print(" processes, lower is better; '!' marks a failed run%s)" % (
        "; the service_count=0 row\n reuses Posthorn's logins run" if dovecot else ""))
    bad = [k for k, v in results.items() if v and not v["ok"]]
    missing = [k for k, _l, _k in rows if ("posthorn", k) not in results or
               (dovecot and ("dovecot", k) not in results)]
    return 1 if bad or missing else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
