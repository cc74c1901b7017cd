"""posthorn_instance.py - a private Posthorn instance for integration tests.

PosthornInstance(tmp_dir, **options) writes a complete configuration in a
temporary directory D (D/etc/main.cf, D/etc/master.cf, D/etc/passwd,
D/queue, D/mail, D/home/USER, D/maillog), start() runs
"$POSTHORN_BUILD/bin/posthorn -c D/etc start" and waits until the SMTP
port greets with 220; stop() stops it and kills any leftover process that
belongs to D.  The helpers cover what the tests look at: SMTP clients
(smtplib and a raw line client), Maildir/mbox contents, queue
directories, the log, and the master's children with their uids.

The daemons never ask the network's DNS: POSTHORN_DNS_FILE (lib/dns/dns.h)
is D/etc/dns, a file without records, unless the test's environment names
its own file; so every client is "unknown[ADDR]" unless a test gives it a
PTR record.

Binaries come from the build directory named by the environment variable
POSTHORN_BUILD (libexec/ has the daemons, bin/ the commands).  As root,
the instance runs with mail_owner = posthorn (created with mk/mkuser.sh if
missing) and the test users get uids 20001 (alice) and 20002 (bob); as
another user everything runs as that user.
"""

import os
import pwd
import random
import grp
import re
import shutil
import signal
import socket
import smtplib
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IS_ROOT = os.geteuid() == 0
USERS = {"alice": 20001, "bob": 20002, "carol": 20004}
VIRTUAL_UID = 20003
DOMAIN = "posthorn.test"


def build_dir():
    """The build directory under test (POSTHORN_BUILD, else ./build)."""
    return os.path.abspath(os.environ.get("POSTHORN_BUILD",
                                          os.path.join(REPO, "build")))


_PORTS_GIVEN = set()


def _port_range():
    """This test process's share of ports 20000-31999, below the kernel's
    ephemeral range (32768 and up, where client sockets and bind(0) get
    theirs): the whole of it, or a slice per pytest-xdist worker, so that
    parallel workers never hand out the same port."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    size = 12000 // max(count, 1)
    return 20000 + (index % max(count, 1)) * size, size


def free_port():
    """A TCP port on 127.0.0.1 that is free now, and that this test run
    has not handed out before (two listeners of one instance, or of two
    instances of parallel workers, would clash)."""
    low, size = _port_range()
    while True:
        port = random.randrange(low, low + size)
        if port in _PORTS_GIVEN:
            continue
        _PORTS_GIVEN.add(port)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def wait_until(pred, timeout, interval=0.05):
    """Poll PRED until it returns a true value or TIMEOUT seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def strip_added_headers(data):
    """Remove Return-Path, Delivered-To and Received headers (with their
    continuation lines) from a delivered message; LF line ends expected."""
    head, sep, body = data.partition(b"\n\n")
    kept, skipping = [], False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].lower()
        skipping = name in (b"return-path", b"delivered-to", b"received")
        if not skipping:
            kept.append(line)
    return b"\n".join(kept) + sep + body


def header_value(data, name):
    """The first NAME: header of a message (bytes), or None."""
    head = data.partition(b"\n\n")[0]
    m = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":[ \t]*(.*)$", head)
    return m.group(1).strip() if m else None


class RawLines:
    """A line-level client over TCP on 127.0.0.1: send exactly what is
    given, read lines (CRLF or LF, returned without them) and byte counts;
    the base of the SMTP, POP3 and IMAP raw clients of the tests."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def read(self, n):
        """Exactly N bytes (an IMAP literal)."""
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def closed(self, timeout=5):
        """True when the server has closed the connection."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RawSMTP(RawLines):
    """A line-level SMTP client for bad input: send exactly what is given,
    read one (possibly multi-line) reply."""

    def __init__(self, port, timeout=10):
        super().__init__(port, timeout)
        self.greeting = self.reply()

    def reply(self):
        """(code, text) of the next reply; text joins all lines."""
        lines = []
        while True:
            line = self.line()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()


class PosthornInstance:
    """One private Posthorn instance in directory BASE."""

    def __init__(self, base, main=None, master=None, qmgr=True, users=("alice", "bob")):
        """MAIN: dict of main.cf overrides (value None removes a line).
        MASTER: extra master.cf lines.  QMGR=False leaves qmgr out."""
        self.base = os.path.abspath(base)
        self.build = build_dir()
        self.etc = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "queue")
        self.mail = os.path.join(self.base, "mail")
        self.maillog = os.path.join(self.base, "maillog")
        self.port = free_port()
        self.users = {}
        for name in users:
            uid = USERS[name] if IS_ROOT else os.getuid()
            gid = USERS[name] if IS_ROOT else os.getgid()
            self.users[name] = (uid, gid, os.path.join(self.base, "home", name))
        self.virtual_uid = VIRTUAL_UID if IS_ROOT else os.getuid()
        self.virtual_gid = VIRTUAL_UID if IS_ROOT else os.getgid()
        self.mail_owner = "posthorn" if IS_ROOT else pwd.getpwuid(os.getuid()).pw_name
        self.main_overrides = dict(main or {})
        self.master_extra = list(master or [])
        self.with_qmgr = qmgr
        self.running = False
        self.setup()

    # ---------------------------------------------------------------- setup

    def main_params(self):
        p = {
            "queue_directory": self.queue,
            "daemon_directory": os.path.join(self.build, "libexec"),
            "command_directory": os.path.join(self.build, "bin"),
            "maillog_file": self.maillog,
            "myhostname": "mail." + DOMAIN,
            "mydomain": DOMAIN,
            "mydestination": "$myhostname, localhost.$mydomain, localhost, $mydomain",
            "inet_interfaces": "127.0.0.1",
            "mynetworks": "127.0.0.1/32",
            "passwd_file": os.path.join(self.etc, "passwd"),
            "home_mailbox": "Maildir/",
            "mail_spool_directory": os.path.join(self.mail, "spool"),
            "virtual_mailbox_domains": "virt.test",
            "virtual_mailbox_base": os.path.join(self.mail, "virtual"),
            "virtual_mailbox_maps": "inline:{ demo@virt.test=virt.test/demo/ }",
            "virtual_uid_maps": "static:%d" % self.virtual_uid,
            "virtual_gid_maps": "static:%d" % self.virtual_gid,
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "2s",
            "service_throttle_time": "2s",
            "mail_owner": self.mail_owner,
        }
        if not IS_ROOT:
            p["virtual_minimum_uid"] = "0"
        p.update(self.main_overrides)
        return p

    def master_lines(self):
        lines = [
            "127.0.0.1:%d inet  n - n - - smtpd" % self.port,
            "submit  unix  n - n - - smtpd",
        ]
        if self.with_qmgr:
            lines.append("qmgr    unix  n - n 300 1 qmgr")
        lines.append("local   unix  - n n - - local")
        lines.append("showq   unix  n - n - - showq")
        lines.append("pickup  unix  n - n 60 1 pickup")
        lines.append("postlog unix  n - n - 1 postlogd")
        lines.append("anvil   unix  - - n - 1 anvil")
        lines.append("proxymap unix - - n - - proxymap")
        return lines + self.master_extra

    def write_config(self):
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("# written by test/integration/posthorn_instance.py\n")
            for name, value in self.main_params().items():
                if value is not None:
                    f.write("%s = %s\n" % (name, value))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write("# service type private unpriv chroot wakeup maxproc command\n")
            f.write("\n".join(self.master_lines()) + "\n")

    def setup(self):
        if IS_ROOT:
            if subprocess.call(["getent", "passwd", "posthorn"], stdout=subprocess.DEVNULL):
                subprocess.check_call(["sh", os.path.join(REPO, "mk", "mkuser.sh"), "posthorn"])
            self._open_path(self.base)
        for d in (self.etc, self.queue, self.mail, os.path.join(self.mail, "spool"),
                  os.path.join(self.mail, "virtual"), os.path.join(self.base, "home")):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        os.chmod(os.path.join(self.mail, "spool"), 0o1777)
        os.makedirs(os.path.join(self.base, "san"), exist_ok=True)
        os.chmod(os.path.join(self.base, "san"), 0o1777)   # sanitizer logs of any uid
        with open(os.path.join(self.etc, "passwd"), "w") as f:
            for name, (uid, gid, home) in self.users.items():
                f.write("%s:x:%d:%d::%s:/bin/sh\n" % (name, uid, gid, home))
                os.makedirs(home, exist_ok=True)
                os.chmod(home, 0o755)
                if IS_ROOT:
                    os.chown(home, uid, gid)
        if IS_ROOT:
            os.chown(os.path.join(self.mail, "virtual"), self.virtual_uid, self.virtual_gid)
        # The whole DNS of the daemons, unless a test names its own file
        with open(os.path.join(self.etc, "dns"), "w") as f:
            f.write("# no records: every name is unknown\n")
        self.write_config()

    def _open_path(self, path):
        """As root, make PATH and its parents below /tmp world-traversable
        so that unprivileged daemons and recipients can reach it."""
        os.makedirs(path, exist_ok=True)
        p = path
        while p.startswith("/tmp/") and p != "/tmp":
            os.chmod(p, os.stat(p).st_mode | 0o755)
            p = os.path.dirname(p)

    # ------------------------------------------------------- running things

    def env(self):
        """The environment for commands: MAIL_CONFIG, and for SAN=1 builds
        sanitizer reports written to D/san/asan.PID, D/san/ubsan.PID (see
        sanitizer_reports); leak checks off (daemons exit with live
        allocations by design)."""
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.etc
        e.setdefault("POSTHORN_DNS_FILE", os.path.join(self.etc, "dns"))
        e.setdefault("ASAN_OPTIONS", "detect_leaks=0:log_path=%s/san/asan" % self.base)
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:log_path=%s/san/ubsan" % self.base)
        return e

    def sanitizer_reports(self):
        """Text of any ASan/UBSan report files the instance produced."""
        out = []
        san = os.path.join(self.base, "san")
        for name in sorted(os.listdir(san)) if os.path.isdir(san) else []:
            if name.startswith(("asan.", "ubsan.")):
                with open(os.path.join(san, name), errors="replace") as f:
                    out.append("== %s\n%s" % (name, f.read()[:4000]))
        return "\n".join(out)

    def bin(self, name):
        return os.path.join(self.build, "bin", name)

    def run(self, argv, input=None, timeout=30, check=False):
        """Run a command with MAIL_CONFIG set; returns CompletedProcess
        (stdout/stderr as text)."""
        if isinstance(input, str):
            input = input.encode()
        r = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=self.env())
        r.stdout = r.stdout.decode("utf-8", "replace")
        r.stderr = r.stderr.decode("utf-8", "replace")
        if check and r.returncode != 0:
            raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s"
                                 % (argv, r.returncode, r.stdout, r.stderr))
        return r

    def posthorn(self, *args, **kw):
        return self.run([self.bin("posthorn"), "-c", self.etc] + list(args), **kw)

    def postconf(self, *args, **kw):
        return self.run([self.bin("postconf"), "-c", self.etc] + list(args), **kw)

    def sendmail(self, args, message, **kw):
        return self.run([self.bin("sendmail"), "-C", self.etc] + list(args),
                        input=message, **kw)

    def start(self, timeout=15):
        r = self.posthorn("start")
        if r.returncode != 0:
            raise AssertionError("posthorn start failed (%d): %s%s\nlog:\n%s"
                                 % (r.returncode, r.stdout, r.stderr, self.log_tail()))
        self.running = True
        if not wait_until(self.greets, timeout, 0.1):
            raise AssertionError("no 220 greeting on port %d within %ds\nlog:\n%s"
                                 % (self.port, timeout, self.log_tail()))
        return self

    def greets(self):
        """True when the SMTP port answers with 220."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.settimeout(3)
                data = b""
                while b"\n" not in data:
                    chunk = s.recv(512)
                    if not chunk:
                        break
                    data += chunk
                ok = data.startswith(b"220")
                if ok:
                    try:
                        s.sendall(b"QUIT\r\n")
                        s.recv(512)
                    except OSError:
                        pass
                return ok
        except OSError:
            return False

    def stop(self):
        """posthorn stop, wait for the master to go, then kill leftovers."""
        master = self.master_pid()
        try:
            self.posthorn("stop", timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if master:
            wait_until(lambda: not pid_alive(master), 10)
        self.running = False
        self.kill_leftovers()

    def kill_leftovers(self):
        """SIGKILL every process whose MAIL_CONFIG or command line points
        into this instance's directory (a safety net after stop)."""
        me = os.getpid()
        for pid in all_pids():
            if pid == me:
                continue
            try:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    environ = f.read().split(b"\0")
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            mine = (b"MAIL_CONFIG=" + self.etc.encode()) in environ \
                or self.base.encode() + b"/" in cmdline
            if mine:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    # --------------------------------------------------------------- clients

    def smtp(self, timeout=20):
        """An smtplib.SMTP connected to the instance's SMTP port."""
        return smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.example",
                            timeout=timeout)

    def raw(self, timeout=10):
        return RawSMTP(self.port, timeout)

    def send(self, rcpts, message, sender="sender@example.com", **kw):
        """Send MESSAGE (bytes, CRLF) over SMTP; returns the queue reply."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        with self.smtp() as s:
            s.ehlo()
            s.sendmail(sender, rcpts, message, **kw)
            return s.noop()

    # ------------------------------------------------------------ mailboxes

    def home(self, user):
        return self.users[user][2]

    def maildir_new(self, user):
        return os.path.join(self.home(user), "Maildir", "new")

    def maildir_files(self, path):
        """Sorted full paths of the files in a Maildir new/ directory."""
        try:
            names = sorted(os.listdir(path))
        except FileNotFoundError:
            return []
        return [os.path.join(path, n) for n in names if not n.startswith(".")]

    def maildir_messages(self, user):
        out = []
        for p in self.maildir_files(self.maildir_new(user)):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_for_maildir(self, user, n, timeout=15, path=None):
        """Wait until the Maildir new/ of USER (or PATH) holds at least N
        files; returns the list of file paths (may be shorter on timeout)."""
        path = path or self.maildir_new(user)
        wait_until(lambda: len(self.maildir_files(path)) >= n, timeout, 0.05)
        return self.maildir_files(path)

    def wait_for_message(self, needle, user=None, path=None, timeout=15):
        """The content of the first file in USER's Maildir new/ (or PATH)
        that contains NEEDLE (bytes), waiting up to TIMEOUT; None if none."""
        path = path or self.maildir_new(user)
        if isinstance(needle, str):
            needle = needle.encode()

        def look():
            for p in self.maildir_files(path):
                try:
                    with open(p, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                if needle in data:
                    return data
            return None
        return wait_until(look, timeout, 0.05)

    def virtual_new(self, domain="virt.test", user="demo"):
        return os.path.join(self.mail, "virtual", domain, user, "new")

    def mbox_path(self, user):
        return os.path.join(self.mail, "spool", user)

    # ---------------------------------------------------------------- queue

    def queue_files(self, queue, spares=False):
        """All file names (queue ids) below QUEUE (hash dirs included);
        without SPARES not the empty incomplete files that smtpd keeps
        ready in incoming/ (smtpd_spare.c): they are not messages."""
        top = os.path.join(self.queue, queue)
        out = []
        for dirpath, _dirs, files in os.walk(top):
            for f in files:
                path = os.path.join(dirpath, f)
                if not spares and is_spare(path):
                    continue
                out.append(path)
        return out

    def queue_empty(self, queues=("incoming", "active", "deferred")):
        return all(not self.queue_files(q) for q in queues)

    # ------------------------------------------------------------------ log

    def log(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log().splitlines()[-n:])

    def wait_for_log(self, pattern, timeout=10, count=1):
        """Wait until PATTERN (regex) matches COUNT times in the log."""
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: len(rx.findall(self.log())) >= count, timeout, 0.1)

    # ------------------------------------------------------------ processes

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
            return pid if pid_alive(pid) else None
        except (OSError, ValueError, IndexError):
            return None

    def children(self):
        """[{'pid', 'name', 'uid'}] for every child of the master."""
        master = self.master_pid()
        if not master:
            return []
        out = []
        for pid in all_pids():
            info = proc_info(pid)
            if info and info["ppid"] == master:
                out.append(info)
        return out

    def child_pids(self, name):
        return [c["pid"] for c in self.children() if c["name"] == name]

    def wait_for_child(self, name, timeout=10):
        """The pid of a child named NAME, waiting for it to appear."""
        pids = wait_until(lambda: self.child_pids(name), timeout, 0.02)
        return pids[0] if pids else None


def is_spare(path):
    """An empty file without the complete bit: made ahead by smtpd."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return st.st_size == 0 and not st.st_mode & 0o100


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def pid_alive(pid):
    """True when PID exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def proc_info(pid):
    """{'pid', 'ppid', 'name', 'uid', 'euid'} from /proc, or None.  The
    name is the basename of argv[0] (the program), else the comm field."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode("utf-8", "replace")
    except OSError:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
    name = os.path.basename(argv0) if argv0 else comm
    return {"pid": pid, "ppid": int(fields[1]), "name": name, "comm": comm,
            "uid": int(uids.group(1)), "euid": int(uids.group(2))}


def session_processes(inst, program):
    """proc_info() of the "PROGRAM session" processes (pop3d, imapd) of
    INST: their environment names its configuration directory."""
    out = []
    want = ("MAIL_CONFIG=" + inst.etc).encode()
    for pid in [int(d) for d in os.listdir("/proc") if d.isdigit()]:
        info = proc_info(pid)
        if not info or info["name"] != program:
            continue
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if b"session" in argv and want in env:
            out.append(info)
    return out


def uid_of(name):
    return pwd.getpwnam(name).pw_uid


def gid_of(name):
    return grp.getgrnam(name).gr_gid
