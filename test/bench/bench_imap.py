"""bench_imap.py - IMAP logins and big folders: Posthorn's imapd against Dovecot.

Usage: python3 test/bench/bench_imap.py BUILD_DIR   (normally via
test/bench/bench_imap.sh).

Starts a private Posthorn instance with imapd (the integration tests'
fixture, test/integration/imap_helpers.py: imapd on a free port, the
imapauth service, a sasldb) and a private Dovecot instance (Debian's
dovecot-core and dovecot-imapd: its own base_dir, state_dir and log in a
temporary directory, a passwd-file passdb and userdb, imap on a free
127.0.0.1 port, no TLS; needs root), with the same users, uids and
Maildir files for both, and measures:
  logins         20 client processes, each looping connect, LOGIN,
                 LOGOUT for BENCH_IMAP_LOGINS_SECONDS (after a 1 s
                 warm-up); logins/second.  Dovecot twice: as Debian ships
                 it (a new imap-login process per connection) and with
                 imap-login in its "high-performance" mode
                 (service_count = 0, process_min_avail = 2).
  FETCH FLAGS    one client: LOGIN, SELECT f10k, FETCH 1:* (FLAGS),
                 LOGOUT on a folder of BENCH_IMAP_MSGS (10,000) messages.
  FETCH RFC822   the same with FETCH 1:* RFC822 (messages of 2-4 KB).
  SELECT 100k    LOGIN, SELECT f100k, LOGOUT on a folder of
                 BENCH_IMAP_BIG (100,000) messages.
  NOOP 100k      LOGIN, SELECT f100k, 20 NOOPs, LOGOUT: the time of one
                 NOOP (what each command costs in a big folder besides
                 its own work: the check for changes made by others).
Each folder row runs "cold" (the server's own index and cache files
removed first, and dovecot-uidlist put back as made) and "warm" (again,
with what the previous session left); the figure is the median of
BENCH_IMAP_RUNS sessions.  The time is from sending SELECT to the
tagged answer of the last command (LOGIN and LOGOUT are printed apart).
Every answer is checked: tagged OK, EXISTS, UIDVALIDITY and UIDNEXT as
in the dovecot-uidlist made here, the number of FETCH answers, the flag
counts, the RFC822 literal octets (summing to the messages' W= sizes);
a row that fails is marked '!' and the server's log tail is printed.
Memory: the peak RSS (VmHWM) of the session process (the process of
the mailbox's uid), read before LOGOUT, with its CPU time; for the
logins rows the peak RSS and PSS sums of each server's process tree.

Environment: BENCH_IMAP_LOGINS_SECONDS (default 10), BENCH_IMAP_CLIENTS
(default 20), BENCH_IMAP_MSGS (default 10000), BENCH_IMAP_BIG (default
100000), BENCH_IMAP_RUNS (default 5), BENCH_KEEP=1 keeps the server
directories.
"""

import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from posthorn_instance import PosthornInstance, all_pids, wait_until  # noqa: E402
import imap_helpers  # noqa: E402
import bench_pop3  # noqa: E402
from bench_pop3 import background_busy, stop_system_dovecot, worker_signals  # noqa: E402

IS_ROOT = os.geteuid() == 0
LOGIN_USER = "alice@posthorn.test"      # logins only (a 10-message INBOX)
BIG_USER = "bob@posthorn.test"          # the folders f10k and f100k
SMALL_MSGS = 10
UIDVALIDITY = {"INBOX": 1690000000, "f10k": 1690000001, "f100k": 1690000002}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ mail

FIRST = ["Anna", "Bernd", "Chiara", "Dmitri", "Elif", "Femi", "Greta", "Hiro", "Ines",
         "Jonas", "Kasia", "Lars", "Mei", "Nils", "Olga", "Pablo", "Rosa", "Sven"]
LAST = ["Berger", "Castillo", "Dubois", "Eriksen", "Fischer", "Gallo", "Horvat", "Ito",
        "Jansen", "Kowalski", "Lind", "Moreau", "Novak", "Okafor", "Petrov", "Quinn"]
DOMAINS = ["example.com", "example.net", "example.org", "lists.example.org",
           "mail.example.de", "corp.example"]
TOPICS = ["quarterly report", "build failure on main", "meeting notes", "invoice 2023-%d",
          "release planning", "your order #%d has shipped", "lunch on friday?",
          "patch v%d: fix the parser", "weekly digest", "server maintenance window"]


def words_and_lines(rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
             for _ in range(3000)]
    lines = []
    for _ in range(4000):
        line, width = [], rng.randint(40, 72)
        while sum(len(w) + 1 for w in line) < width:
            line.append(rng.choice(words))
        lines.append(" ".join(line).capitalize() + "\n")
    return lines


def b64ish(rng, n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(n))


def message_head(rng, i, t):
    """Realistic headers for message I sent at time T (about 1-1.6 KB)."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = rng.choice(DOMAINS)
    sender = "%s.%s@%s" % (first.lower(), last.lower(), domain)
    topic = rng.choice(TOPICS)
    subject = topic % (i % 1000) if "%d" in topic else topic
    if rng.random() < 0.3:
        subject = "Re: " + subject
    if rng.random() < 0.1:
        subject = "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_zum_" + subject.replace(" ", "_") + "?="
    mx = rng.randint(1, 9)
    h = ["Return-Path: <%s>\n" % sender,
         "Delivered-To: bob@posthorn.test\n",
         "Received: from mx%d.%s (mx%d.%s [198.51.100.%d])\n"
         "\tby mail.posthorn.test (Posthorn) with ESMTPS id %08X%04X\n"
         "\tfor <bob@posthorn.test>; %s\n" % (mx, domain, mx, domain, rng.randint(1, 254),
                                              rng.getrandbits(32), i % 65536, date),
         "Received: from [10.0.%d.%d] (unknown [203.0.113.%d])\n"
         "\tby mx%d.%s (Postfix) with ESMTPSA id %010X\n"
         "\tfor <bob@posthorn.test>; %s\n" % (rng.randint(0, 255), rng.randint(1, 254),
                                              rng.randint(1, 254), mx, domain,
                                              rng.getrandbits(40), date),
         "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=2023;\n"
         "\tt=%d; h=from:to:subject:date:message-id:mime-version;\n"
         "\tbh=%s=;\n\tb=%s\n\t %s\n\t %s==\n" % (domain, t, b64ish(rng, 43), b64ish(rng, 70),
                                                  b64ish(rng, 70), b64ish(rng, 62)),
         "From: %s %s <%s>\n" % (first, last, sender),
         "To: Bob Example <bob@posthorn.test>\n"]
    if rng.random() < 0.3:
        h.append("Cc: %s %s <%s@%s>, team@%s\n" % (rng.choice(FIRST), rng.choice(LAST),
                                                   rng.choice(FIRST).lower(), domain, domain))
    h.append("Subject: %s\n" % subject)
    h.append("Date: %s\n" % date)
    h.append("Message-ID: <%d.%08x@%s>\n" % (t, rng.getrandbits(32), domain))
    if subject.startswith("Re: "):
        ref = "<%d.%08x@%s>" % (t - 3600, rng.getrandbits(32), domain)
        h.append("In-Reply-To: %s\nReferences: %s\n" % (ref, ref))
    if "lists." in domain:
        h.append("List-Id: Development <dev.%s>\n"
                 "List-Unsubscribe: <mailto:dev-leave@%s>\n" % (domain, domain))
    h.append("MIME-Version: 1.0\n")
    return "".join(h)


def message_body(rng, lines, target, head_len):
    """A text/plain or (one in four) multipart/alternative body that
    brings the message to about TARGET octets: (headers to add, body)."""
    def text(n):
        out, size = [], 0
        while size < n:
            line = lines[rng.randrange(len(lines))]
            out.append(line)
            size += len(line)
        return "".join(out)
    room = max(200, target - head_len - 80)
    if rng.random() < 0.75:
        return ("Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n", text(room))
    boundary = "=_%s" % b64ish(rng, 24).replace("+", "x").replace("/", "y")
    plain = text(room // 2 - 120)
    html = "<html><body><p>" + text(room // 2 - 160).replace("\n", "</p>\n<p>") + \
        "</p></body></html>\n"
    body = ("This is a multi-part message in MIME format.\n\n"
            "--%s\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n%s\n"
            "--%s\nContent-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n%s\n--%s--\n"
            % (boundary, plain, boundary, html, boundary))
    return ('Content-Type: multipart/alternative; boundary="%s"\n\n' % boundary, body)


def make_messages(directory, count, seed=5151):
    """COUNT messages of 2-4 KB (LF line ends) in DIRECTORY, named by
    their number; returns [(file name, size, vsize)] (vsize: with CRLF)."""
    rng = random.Random(seed)
    lines = words_and_lines(rng)
    out = []
    for i in range(count):
        t = 1700000000 + i * 37
        head = message_head(rng, i, t)
        ctype, body = message_body(rng, lines, rng.randint(2048, 4096), len(head))
        data = (head + ctype + body).encode()
        name = "m%06d" % i
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        out.append((name, len(data), len(data) + data.count(b"\n")))
    return out


class Folder:
    """One folder as made for both servers: its Maildir names (as Dovecot
    names deliveries), the template file of each, flags, and the
    dovecot-uidlist text."""

    def __init__(self, name, msgs, count, seed, unseen_share):
        rng = random.Random(seed)
        self.name = name
        self.entries = []               # (template file, Maildir name)
        self.vsize = 0
        self.seen = self.answered = self.flagged = 0
        base_t = 1600000000 if count > len(msgs) else 1700000000
        lines = ["3 V%d N%d G%032x\n" % (UIDVALIDITY[name], count + 1, rng.getrandbits(128))]
        for i in range(count):
            src, size, vsize = msgs[i % len(msgs)]
            t = base_t + i * (7 if count > len(msgs) else 37)
            base = "%d.M%dP%d.bench.posthorn.test,S=%d,W=%d" % (
                t, rng.randrange(1000000), 4000 + i % 30000, size, vsize)
            flags = self.flags(rng, i, count, unseen_share)
            self.entries.append((src, base + ":2," + flags))
            lines.append("%d :%s\n" % (i + 1, base))
            self.vsize += vsize
            self.seen += "S" in flags
            self.answered += "R" in flags
            self.flagged += "F" in flags
        self.uidlist = "".join(lines).encode()
        self.count = count

    def flags(self, rng, i, count, unseen_share):
        """Most messages read, some answered or flagged; UNSEEN_SHARE of
        them (the newest half of those, and some at random) unread."""
        x = rng.random()
        flags = "FRS" if x < 0.01 else "FS" if x < 0.04 else "RS" if x < 0.14 else "S"
        if i >= count * (1 - unseen_share / 2) or rng.random() < unseen_share / 2:
            flags = flags.replace("S", "")
        return flags


def maildir_dirs(path, uid, gid, subfolder):
    for sub in ("", "new", "cur", "tmp"):
        d = os.path.join(path, sub)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o700)
        if IS_ROOT:
            os.chown(d, uid, gid)
    if subfolder:
        marker = os.path.join(path, "maildirfolder")
        open(marker, "w").close()
        if IS_ROOT:
            os.chown(marker, uid, gid)


def put_uidlist(path, folder, uid, gid):
    name = os.path.join(path, "dovecot-uidlist")
    with open(name, "wb") as f:
        f.write(folder.uidlist)
    os.chmod(name, 0o600)
    if IS_ROOT:
        os.chown(name, uid, gid)


def fill_folder(maildir, template, folder, uid, gid):
    """FOLDER as MAILDIR/.NAME (INBOX: MAILDIR itself): cur/ holds hard
    links to the template files (no copies: both servers read the same
    inodes, so the page cache treats them alike; Maildir files are never
    changed in place, a flag change renames the server's own link); files
    of another owner are copied."""
    path = folder_path(maildir, folder.name)
    maildir_dirs(maildir, uid, gid, False)
    maildir_dirs(path, uid, gid, folder.name != "INBOX")
    cur = os.path.join(path, "cur")
    for src, name in folder.entries:
        src = os.path.join(template, src)
        if os.stat(src).st_uid == uid:
            os.link(src, os.path.join(cur, name))
        else:
            shutil.copyfile(src, os.path.join(cur, name))
            os.chmod(os.path.join(cur, name), 0o600)
            if IS_ROOT:
                os.chown(os.path.join(cur, name), uid, gid)
    put_uidlist(path, folder, uid, gid)


def folder_path(maildir, name):
    return maildir if name == "INBOX" else os.path.join(maildir, "." + name)


INDEX_NAMES = re.compile(r"^(dovecot\.index|dovecot\.list\.index|dovecot\.mailbox\.log|"
                         r"posthorn-index|posthorn-cache)")


def make_cold(maildir, folder, uid, gid):
    """Remove both servers' index and cache files of FOLDER (and the
    folder-list indexes at the top) and put its dovecot-uidlist back."""
    path = folder_path(maildir, folder.name)
    for d in {maildir, path}:
        for name in os.listdir(d):
            if INDEX_NAMES.match(name):
                os.unlink(os.path.join(d, name))
    put_uidlist(path, folder, uid, gid)


# -------------------------------------------------------------- servers

def imap_greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(3)
            return s.recv(200).startswith(b"* OK")
    except OSError:
        return False


class PosthornSide:
    name = "posthorn"

    def __init__(self, build):
        os.environ["POSTHORN_BUILD"] = build
        self.inst = None
        try:
            self.inst = imap_helpers.imap_instance(self._make, start=False)
        except BaseException:
            self.cleanup()
            raise
        self.port = self.inst.imap_port

    def _make(self, main=None, master=None, qmgr=False, start=True,
              users=("alice", "bob")):
        """imap_helpers' factory (as conftest's): no qmgr, nothing is sent."""
        base = tempfile.mkdtemp(prefix="phb-imap-", dir="/tmp")
        self.inst = PosthornInstance(base, main=main, master=master, qmgr=False, users=users)
        if start:
            self.inst.start()
        return self.inst

    def account(self, login):
        """(uid, gid, Maildir path) of LOGIN."""
        uid, gid, home = self.inst.users[login.split("@")[0]]
        return uid, gid, os.path.join(home, "Maildir")

    def start(self):
        self.inst.start()
        if not wait_until(lambda: imap_greets(self.port), 15, 0.1):
            raise RuntimeError("imapd does not answer on %d\n%s" % (self.port, self.log_tail()))

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


class DovecotSide(bench_pop3.DovecotSide):
    """bench_pop3's private Dovecot with imap instead of pop3."""

    def __init__(self, accounts):
        self.base = tempfile.mkdtemp(prefix="dvb-imap-", dir="/tmp")
        self.proc = None
        self.members = {}
        try:
            self.setup(accounts)
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise

    protocol = "imap"

    def greets(self):
        return imap_greets(self.port)


# -------------------------------------------------------------- clients

def quoted(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class ImapConn:
    """A minimal IMAP client over a raw socket that reads every octet of
    the answers (literals are skipped over, their octets counted)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def fill(self):
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

    def skip(self, n):
        avail = len(self.buf) - self.pos
        while n > avail:
            n -= avail
            self.pos = len(self.buf)
            self.fill()
            avail = len(self.buf) - self.pos
        self.pos += n

    def command(self, tag, text, untagged=None):
        """Send TAG TEXT; call UNTAGGED(line, literal octets, literal
        count) for each other answer (the line without the literals'
        contents); return the tagged line."""
        self.sock.sendall(tag + b" " + text + b"\r\n")
        prefix = tag + b" "
        while True:
            line = self.line()
            octets = literals = 0
            while line.endswith(b"}"):
                i = line.rfind(b"{")
                try:
                    n = int(line[i + 1:-1])
                except ValueError:
                    break
                self.skip(n)
                octets += n
                literals += 1
                line = line[:i] + self.line()
            if line.startswith(prefix):
                return line
            if untagged:
                untagged(line, octets, literals)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tagged_line(answer, tag):
    """The first complete line of ANSWER that starts with TAG, or None."""
    if answer.startswith(tag):
        i = 0
    else:
        i = answer.find(b"\r\n" + tag)
        if i < 0:
            return None
        i += 2
    j = answer.find(b"\r\n", i)
    return answer[i:j] if j >= 0 else None


def login_worker(port, login, password, t_start, t_end, conn):
    """One client process: connect, LOGIN, LOGOUT until T_END; counts the
    logins that end between T_START and T_END."""
    worker_signals()
    cmd_login = ("a LOGIN %s %s\r\n" % (quoted(login), quoted(password))).encode()
    ok = bad = 0
    first_error = ""
    while time.monotonic() < t_end:
        good = False
        why = ""
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            try:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for command, tag in ((None, b"* "), (cmd_login, b"a "), (b"b LOGOUT\r\n", b"b ")):
                    if command:
                        s.sendall(command)
                    answer = b""
                    last = None
                    while last is None:
                        chunk = s.recv(4096)
                        if not chunk:
                            raise EOFError("closed before the answer to %s (got %r)" % (
                                "the greeting" if not command else
                                command.split()[1].decode(), answer[:100]))
                        answer += chunk
                        last = tagged_line(answer, tag)
                    if not last.startswith(tag + b"OK"):
                        why = "%s -> %s" % ("greeting" if not command else
                                            command.split()[1].decode(),
                                            last.decode("latin-1")[:100])
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


def measure_logins(ctx, side, clients, seconds):
    """bench_pop3's login measure with the IMAP client, as a table row."""
    res = bench_pop3.measure_logins(ctx, side, clients, seconds, worker=login_worker,
                                    password=imap_helpers.PASSWORDS[LOGIN_USER])
    res["value"] = res["rate"]
    res["detail"] = ("%d logins, client CPU %.1f%%, machine busy %.1f%%, peak RSS sum "
                     "%.1f MB, PSS sum %.1f MB" % (res["count"], 100 * res["client_cpu"],
                                                  100 * res["busy"], res["mb"], res["pss"]))
    return res


def socket_inode(server_port, client_port):
    """The inode of the server's end of the connection from CLIENT_PORT."""
    local = "0100007F:%04X" % server_port
    remote = "0100007F:%04X" % client_port
    with open("/proc/net/tcp") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 9 and fields[1] == local and fields[2] == remote:
                return int(fields[9])
    return None


def session_stats(conn, server_port, uid):
    """(peak RSS in KiB, CPU seconds) of the process running as UID that
    holds the server's end of CONN (the session process), or (0, 0.0).
    Found by its socket: a Posthorn session may have been handed on by
    an auth process that has exited since, so it is not always in the
    master's process tree."""
    inode = socket_inode(server_port, conn.sock.getsockname()[1])
    if inode is None:
        return (0, 0.0)
    target = "socket:[%d]" % inode
    for pid in all_pids():
        try:
            with open("/proc/%d/status" % pid) as f:
                status = f.read()
            m = re.search(r"^Uid:\s+(\d+)", status, re.M)
            if not m or int(m.group(1)) != uid:
                continue
            fds = "/proc/%d/fd" % pid
            if not any(os.readlink(os.path.join(fds, fd)) == target for fd in os.listdir(fds)):
                continue
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        hwm = re.search(r"^VmHWM:\s+(\d+)", status, re.M)
        return (int(hwm.group(1)) if hwm else 0, (int(stat[11]) + int(stat[12])) / CLK_TCK)
    return (0, 0.0)


class Check:
    """Counts the untagged answers of one SELECT or FETCH."""

    def __init__(self):
        self.fetches = self.literals = self.octets = 0
        self.seen = self.answered = self.flagged = 0
        self.exists = self.uidvalidity = self.uidnext = None

    def __call__(self, line, octets, literals):
        if b" FETCH (" in line:
            self.fetches += 1
            self.literals += literals
            self.octets += octets
            if b"FLAGS (" in line:
                self.seen += b"\\Seen" in line
                self.answered += b"\\Answered" in line
                self.flagged += b"\\Flagged" in line
            return
        m = re.match(rb"\* (\d+) EXISTS$", line)
        if m:
            self.exists = int(m.group(1))
        m = re.search(rb"\[UIDVALIDITY (\d+)\]", line)
        if m:
            self.uidvalidity = int(m.group(1))
        m = re.search(rb"\[UIDNEXT (\d+)\]", line)
        if m:
            self.uidnext = int(m.group(1))


def folder_session(side, folder, fetch):
    """One client: LOGIN, SELECT FOLDER, FETCH 1:* FETCH (if any; "NOOP":
    NOOPS NOOPs instead), LOGOUT.  Returns {"value": seconds from SELECT
    to the last answer (NOOP: per NOOP), "ok", "note", "mb", "detail"}."""
    uid = side.account(BIG_USER)[0]
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    note = ""
    times = {}
    mem_kb, server_cpu = 0, 0.0
    sel, fet = Check(), Check()
    try:
        c = ImapConn(side.port)
        greeting = c.line()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError("greeting: %r" % greeting)
        answer = c.command(b"a", ("LOGIN %s %s" % (quoted(BIG_USER), quoted(
            imap_helpers.PASSWORDS[BIG_USER]))).encode())
        if not answer.startswith(b"a OK"):
            raise RuntimeError("LOGIN: %r" % answer)
        times["login"] = time.monotonic()
        answer = c.command(b"b", b"SELECT " + folder.name.encode(), sel)
        times["select"] = time.monotonic()
        if not answer.startswith(b"b OK"):
            raise RuntimeError("SELECT: %r" % answer)
        if fetch == "NOOP":
            for _i in range(NOOPS):
                answer = c.command(b"c", b"NOOP", fet)
                if not answer.startswith(b"c OK"):
                    raise RuntimeError("NOOP: %r" % answer)
            times["noop"] = time.monotonic()
        elif fetch:
            answer = c.command(b"c", b"FETCH 1:* " + fetch.encode(), fet)
            times["fetch"] = time.monotonic()
            if not answer.startswith(b"c OK"):
                raise RuntimeError("FETCH: %r" % answer)
        mem_kb, server_cpu = session_stats(c, side.port, uid)
        times["stats"] = time.monotonic()
        answer = c.command(b"d", b"LOGOUT")
        times["logout"] = time.monotonic()
        if not answer.startswith(b"d OK"):
            note = "LOGOUT: %r" % answer
        c.close()
    except Exception as e:  # report whatever broke; the row is marked
        note = "%s: %s" % (type(e).__name__, e)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    note = note or check_select(sel, folder) or check_fetch(fet, folder, fetch)
    end = times.get("noop") or times.get("fetch") or times.get("select")
    value = end - times["login"] if end else time.monotonic() - t0
    phases = "LOGIN %.3f s" % (times.get("login", t0) - t0)
    if "select" in times:
        phases += ", SELECT %.3f s" % (times["select"] - times["login"])
    if "fetch" in times:
        phases += ", FETCH %.3f s" % (times["fetch"] - times["select"])
    if "noop" in times:
        value = (times["noop"] - times["select"]) / NOOPS
        phases += ", %d NOOPs %.3f s" % (NOOPS, times["noop"] - times["select"])
    if "logout" in times:
        phases += ", LOGOUT %.3f s" % (times["logout"] - times["stats"])
    client = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    detail = "%s; session process CPU %.3f s, peak RSS %.1f MB; client CPU %.3f s" % (
        phases, server_cpu, mem_kb / 1024.0, client)
    return {"value": value, "ok": not note, "note": note, "mb": mem_kb / 1024.0,
            "detail": detail}


def check_select(sel, folder):
    if sel.exists != folder.count:
        return "SELECT: EXISTS %s, not %d" % (sel.exists, folder.count)
    if sel.uidvalidity != UIDVALIDITY[folder.name]:
        return "SELECT: UIDVALIDITY %s, not %d (dovecot-uidlist not used?)" % (
            sel.uidvalidity, UIDVALIDITY[folder.name])
    if sel.uidnext != folder.count + 1:
        return "SELECT: UIDNEXT %s, not %d" % (sel.uidnext, folder.count + 1)
    return ""


def check_fetch(fet, folder, fetch):
    if not fetch:
        return ""
    if fetch == "NOOP":
        return "NOOP: %d FETCH answers" % fet.fetches if fet.fetches else ""
    if fet.fetches != folder.count:
        return "FETCH: %d answers, not %d" % (fet.fetches, folder.count)
    if fetch == "(FLAGS)":
        got = (fet.seen, fet.answered, fet.flagged)
        want = (folder.seen, folder.answered, folder.flagged)
        if got != want:
            return "FETCH: \\Seen, \\Answered, \\Flagged %s, not %s" % (got, want)
    elif fet.literals != folder.count or fet.octets != folder.vsize:
        return "FETCH: %d literals of %d octets, not %d of %d" % (
            fet.literals, fet.octets, folder.count, folder.vsize)
    return ""


# ----------------------------------------------------------------- main

def median_run(runs):
    """The run with the median value (memory: the largest); not ok if any
    of RUNS failed."""
    ordered = sorted(runs, key=lambda r: r["value"])
    res = dict(ordered[len(ordered) // 2])
    res["mb"] = max(r["mb"] for r in runs)
    failed = [r for r in runs if not r["ok"]]
    if failed:
        res["ok"], res["note"] = False, failed[0]["note"]
    return res


def report(side, label, res):
    status = "ok" if res["ok"] else "FAILED: " + res["note"]
    value = ("%.1f/s" % res["value"] if label.startswith("logins")
             else "%.2f ms" % (1000 * res["value"]))
    print("  %-8s %-48s %11s  %s" % (side.name, label, value, status), flush=True)
    print("  %8s %s" % ("", res["detail"]), flush=True)
    if res.get("bg", 0) > 0.10:
        print("  %8s (the machine was %.0f%% busy just before this run: other work "
              "disturbs the figure)" % ("", 100 * res["bg"]), flush=True)
    if not res["ok"]:
        print("    log tail:\n" + side.log_tail(), flush=True)


def run_side(ctx, side, plan, results, start_args=None):
    """Start SIDE, run PLAN [(key, label, kind, folder, fetch)], stop it.
    kind "cold": each run after make_cold(); "warm": plain runs."""
    try:
        side.start(**(start_args or {}))
        for key, label, kind, folder, fetch in plan:
            runs = []
            for i in range(1 if kind == "logins" else RUNS):
                bg = background_busy(0.2)
                if kind == "logins":
                    res = measure_logins(ctx, side, CLIENTS, LOGIN_SECONDS)
                else:
                    uid, gid, md = side.account(BIG_USER)
                    if kind == "cold":
                        make_cold(md, folder, uid, gid)
                    res = folder_session(side, folder, fetch)
                res["bg"] = bg
                report(side, label + ("" if kind == "logins" else " #%d" % (i + 1)), res)
                runs.append(res)
            results[(side.name, key)] = median_run(runs)
    except Exception as e:  # report and go on with the other server
        print("  %s: %s" % (side.name, e), flush=True)
    finally:
        side.stop()


def on_sigterm(signum, frame):
    raise KeyboardInterrupt()


LOGIN_SECONDS = float(os.environ.get("BENCH_IMAP_LOGINS_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_IMAP_CLIENTS", "20"))
NMSGS = int(os.environ.get("BENCH_IMAP_MSGS", "10000"))
NBIG = int(os.environ.get("BENCH_IMAP_BIG", "100000"))
RUNS = max(1, int(os.environ.get("BENCH_IMAP_RUNS", "5")))
NOOPS = 20


def count_text(n):
    return "%dk" % (n // 1000) if n % 1000 == 0 else "%d" % n


def build_plan(f10k, f100k):
    small, big = count_text(NMSGS), count_text(NBIG)
    return [
        ("logins", "logins/s, %d clients" % CLIENTS, "logins", None, None),
        ("flags_cold", "SELECT+FETCH 1:* (FLAGS) %s, cold" % small, "cold",
         f10k, "(FLAGS)"),
        ("flags_warm", "SELECT+FETCH 1:* (FLAGS) %s, warm" % small, "warm",
         f10k, "(FLAGS)"),
        ("rfc822_cold", "SELECT+FETCH 1:* RFC822 %s, cold" % small, "cold",
         f10k, "RFC822"),
        ("rfc822_warm", "SELECT+FETCH 1:* RFC822 %s, warm" % small, "warm",
         f10k, "RFC822"),
        ("select_cold", "SELECT %s, cold" % big, "cold", f100k, None),
        ("select_warm", "SELECT %s, warm" % big, "warm", f100k, None),
        ("noop", "NOOP in the %s folder (per command)" % big, "warm", f100k,
         "NOOP"),
    ]


def print_table(rows, results, dovecot):
    print()
    head = "%-48s %11s %11s %7s | %8s %8s %6s" % (
        "IMAP", "Posthorn", "Dovecot", "ratio", "MB", "MB", "ratio")
    print(head)
    print("-" * len(head))
    for key, label, kind, _f, _x in rows:
        p = results.get(("posthorn", key))
        d = results.get(("dovecot", key))
        cells = []
        for r in (p, d):
            if not r:
                cells.append("-")
                continue
            cells.append(("%.1f/s" % r["value"] if kind == "logins" else
                          "%.2f ms" % (1000 * r["value"])) + ("" if r["ok"] else "!"))
        speed = mem = "-"
        if p and d and p["value"] > 0 and d["value"] > 0:
            x = p["value"] / d["value"] if kind == "logins" else d["value"] / p["value"]
            speed = "%.2f" % x if x >= 0.1 else "%.2g" % x
        if p and d and p["mb"] > 0 and d["mb"] > 0:
            mem = "%.2f" % (p["mb"] / d["mb"])
        print("%-48s %11s %11s %7s | %8s %8s %6s" % (
            label, cells[0], cells[1], speed,
            "-" if not p else "%.1f" % p["mb"], "-" if not d else "%.1f" % d["mb"], mem))
    print("(speed ratio: how many times faster Posthorn is than Dovecot, higher is better:")
    print(" logins/s Posthorn/Dovecot, times Dovecot/Posthorn; times from SELECT to the last")
    print(" answer, median of %d sessions.  MB: peak RSS of the session process (logins:" % RUNS)
    print(" sum over all processes), ratio Posthorn/Dovecot, lower is better; '!' marks a")
    print(" failed run%s)" % ("; the service_count=0 row reuses Posthorn's logins run"
                             if dovecot else ""))


def prepare(template, sides):
    """The messages and folders, linked into each side's Maildirs."""
    t = time.monotonic()
    msgs = make_messages(template, NMSGS)
    small = Folder("INBOX", msgs, SMALL_MSGS, 1, 0.2)
    f10k = Folder("f10k", msgs, NMSGS, 2, 0.0)
    f100k = Folder("f100k", msgs, NBIG, 3, 0.05)
    uid, gid, _md = sides[0].account(BIG_USER)
    for name, _s, _v in msgs:
        os.chmod(os.path.join(template, name), 0o600)
        if IS_ROOT:
            os.chown(os.path.join(template, name), uid, gid)
    for side in sides:
        for login, folders in ((LOGIN_USER, (small,)), (BIG_USER, (f10k, f100k))):
            uid, gid, md = side.account(login)
            for folder in folders:
                fill_folder(md, template, folder, uid, gid)
    print("bench: %d messages, %.1f MB, %d-%d octets; folders f10k (%d) and f100k (%d, "
          "hard links); made in %.1f s; %d login clients for %g s; %d runs per folder row; "
          "%d CPUs shared by client and server" % (
              len(msgs), sum(m[1] for m in msgs) / 1e6, min(m[1] for m in msgs),
              max(m[1] for m in msgs), f10k.count, f100k.count, time.monotonic() - t,
              CLIENTS, LOGIN_SECONDS, RUNS, os.cpu_count() or 1), flush=True)
    return f10k, f100k


def main():
    if len(sys.argv) < 2:
        print("usage: bench_imap.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    if not os.access(os.path.join(build, "libexec", "imapd"), os.X_OK):
        print("bench: %s/libexec/imapd not built" % build, file=sys.stderr)
        return 1
    with_dovecot = IS_ROOT and os.access(bench_pop3.DOVECOT, os.X_OK) and \
        os.path.exists("/usr/lib/dovecot/imap")
    signal.signal(signal.SIGTERM, on_sigterm)
    ctx = multiprocessing.get_context("fork")

    results = {}
    template = tempfile.mkdtemp(prefix="imap-msgs-", dir="/tmp")
    os.chmod(template, 0o755)
    sides = []
    dovecot = None
    plan = []
    logins_fast = ("logins_fast", "logins/s, %d clients, Dovecot service_count=0"
                   % CLIENTS, "logins", None, None)
    try:
        posthorn = PosthornSide(build)
        sides.append(posthorn)
        if with_dovecot:
            stop_system_dovecot()
            accounts = {}
            for login in (LOGIN_USER, BIG_USER):
                uid, gid, _md = posthorn.account(login)
                accounts[login] = (imap_helpers.PASSWORDS[login], uid, gid)
            dovecot = DovecotSide(accounts)
            sides.append(dovecot)
        f10k, f100k = prepare(template, sides)
        bg = background_busy(1.0)
        if bg > 0.10:
            print("bench: warning: the machine is %.0f%% busy before the run; other work "
                  "shares the CPUs with the servers and disturbs the figures" % (100 * bg),
                  flush=True)
        plan = build_plan(f10k, f100k)
        run_side(ctx, posthorn, plan, results)
        if dovecot:
            run_side(ctx, dovecot, plan, results)
            run_side(ctx, dovecot, [logins_fast], results, {"fast_login": True})
            results[("posthorn", "logins_fast")] = results.get(("posthorn", "logins"))
        else:
            print("bench: Dovecot comparison skipped (needs root and dovecot-core, "
                  "dovecot-imapd)")
    finally:
        for side in sides:
            try:
                side.cleanup()
            except Exception as e:
                print("bench: stopping %s: %s" % (side.name, e), file=sys.stderr)
        shutil.rmtree(template, ignore_errors=True)

    rows = plan[:1] + ([logins_fast] if dovecot else []) + plan[1:]
    print_table(rows, results, dovecot)
    bad = [k for k, v in results.items() if v and not v["ok"]]
    missing = [k for k, _l, _k, _f, _x in rows if ("posthorn", k) not in results or
               (dovecot and ("dovecot", k) not in results)]
    return 1 if bad or missing else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
