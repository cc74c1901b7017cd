"""test_milter_rspamd.py - smtpd_milters with Debian's rspamd (package
rspamd 3.4) as the filter: its proxy worker in milter mode.

Shown: rspamd scores a normal message (its log line has Posthorn's queue
id, the client address, the envelope sender and recipient, all from the
milter commands and macros) and its milter_headers edits land in the
delivered message: X-Spamd-Result with the score, X-Rspamd-Server,
X-Rspamd-Queue-Id (Posthorn's queue id), X-Rspamd-Action, X-Spam-Status
and X-Spamd-Bar added, and the client's own X-Spam and X-Spamd-Result
headers deleted; the body is untouched.  A message with the GTUBE test
string gets rspamd's reject action: the end of DATA is refused with
rspamd's 554 reply, Posthorn logs "milter-reject: END-OF-MESSAGE", and
nothing is queued or delivered.  milter_default_action = tempfail, so an
rspamd that does not answer makes the tests fail, not pass.

rspamd runs in the foreground (rspamd -f -i -u root -g root), one for the
module, in a directory T below /tmp (mode 0755).  T/rspamd.conf takes the
system's common.conf (every module, symbol and action of /etc/rspamd) with
one worker: "rspamd_proxy" with milter = yes, bound to 127.0.0.1:PORT, its
one upstream self_scan = yes (the proxy scans, no normal worker); no
controller.  --var points RUNDIR, DBDIR, LOGDIR and LOCAL_CONFDIR into T,
so T/local.d holds the test's settings and the system instance's local
settings, state, logs and sockets are neither used nor touched (it is
stopped if it runs, never started).  Offline
and fast: DNS goes to 127.0.0.1:1 (nobody listens, every lookup fails at
once), fuzzy_check is off (it resolves its servers with the system
resolver at start-up), url_tld is a list of five suffixes (compiling the
packaged list of 9600 takes rspamd ~10 s) and scans use PCRE
(disable_hyperscan), so rspamd is up within a second or two.
milter_headers has extended_spam_headers = true, skip_local = false (the
client is 127.0.0.1) and uses x-spam-status and x-spamd-bar too.  rspamd
is ready when its port answers a milter option negotiation.  Skipped
unless root with /usr/bin/rspamd.
"""

import email.utils
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from posthorn_instance import DOMAIN, IS_ROOT, RawSMTP, free_port, wait_until

RSPAMD = "/usr/bin/rspamd"
ALICE = "alice@" + DOMAIN
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

RSPAMD_CONF = """\
# written by test/integration/test_milter_rspamd.py
.include "$CONFDIR/common.conf"

options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}

logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    .include "$CONFDIR/logging.inc"
}

worker "rspamd_proxy" {
    bind_socket = "127.0.0.1:%(port)d";
    milter = yes;
    timeout = 120s;
    upstream "local" {
        default = yes;
        self_scan = yes;
    }
    count = 1;
    max_retries = 5;
    discard_on_reject = false;
    quarantine_on_reject = false;
    spam_header = "X-Spam";
    reject_message = "Spam message rejected";
}
"""

LOCAL_D = {
    "options.inc": """\
dns {
    nameserver = ["127.0.0.1:1"];
    timeout = 0.2s;
    retransmits = 1;
}
url_tld = "%(dir)s/tld.dat";
disable_hyperscan = true;
""",
    "fuzzy_check.conf": """\
enabled = false;
""",
    "milter_headers.conf": """\
extended_spam_headers = true;
skip_local = false;
skip_authenticated = false;
use = ["x-spam-status", "x-spamd-bar"];
""",
}

TLDS = "com\nnet\norg\ntest\nexample\n"


# ------------------------------------------------------------------ rspamd

def milter_answers(port):
    """True when PORT answers SMFIC_OPTNEG with SMFIC_OPTNEG (then quit)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(5)
            s.sendall(struct.pack("!Ic3I", 13, b"O", 6, 0x1ff, 0x1fffff))
            data = b""
            while len(data) < 5:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                data += chunk
            s.sendall(struct.pack("!Ic", 1, b"Q"))
            return data[4:5] == b"O"
    except OSError:
        return False


class Rspamd:
    """A private rspamd with a milter proxy worker on 127.0.0.1:PORT."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ph-rspamd-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.spec = "inet:127.0.0.1:%d" % self.port
        self.logfile = os.path.join(self.dir, "log", "rspamd.log")
        self.proc = None
        self.startup_seconds = None
        for sub in ("local.d", "override.d", "run", "db", "log"):
            os.makedirs(os.path.join(self.dir, sub))
        self.write("rspamd.conf", RSPAMD_CONF % {"port": self.port})
        self.write("tld.dat", TLDS)
        for name, text in LOCAL_D.items():
            self.write(os.path.join("local.d", name), text % {"dir": self.dir})

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def start(self, timeout=30):
        argv = [RSPAMD, "-f", "-i", "-u", "root", "-g", "root",
                "-c", os.path.join(self.dir, "rspamd.conf")]
        for var, sub in (("RUNDIR", "run"), ("DBDIR", "db"), ("LOGDIR", "log"),
                         ("LOCAL_CONFDIR", None)):
            argv += ["--var", "%s=%s" % (var, os.path.join(self.dir, sub) if sub else self.dir)]
        t0 = time.monotonic()
        with open(os.path.join(self.dir, "stdout"), "wb") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self.proc.poll() is not None or milter_answers(self.port),
                   timeout, 0.2)
        if self.proc.poll() is not None or not milter_answers(self.port):
            raise AssertionError("rspamd gave no milter answer on port %d within %ds "
                                 "(exit status %r)\n%s"
                                 % (self.port, timeout, self.proc.poll(), self.log_tail()))
        self.startup_seconds = time.monotonic() - t0

    def stop(self):
        """SIGTERM to rspamd's process group (main, proxy, hs_helper)."""
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=40):
        text = self.log()
        try:
            with open(os.path.join(self.dir, "stdout"), errors="replace") as f:
                text += f.read()
        except OSError:
            pass
        return "\n".join(text.splitlines()[-n:])

    def task_line(self, queue_id, timeout=5):
        """rspamd's log line of the scan of Posthorn's QUEUE_ID."""
        rx = re.compile(r"^.*rspamd_task_write_log: .*qid: <%s>.*$" % re.escape(queue_id), re.M)

        def find():
            m = rx.search(self.log())
            return m.group(0) if m else None
        return wait_until(find, timeout, 0.1)


def stop_system_rspamd():
    """The system's rspamd is stopped if it runs (never started)."""
    if shutil.which("service") and subprocess.call(
            ["service", "rspamd", "status"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) == 0:
        subprocess.call(["service", "rspamd", "stop"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def rspamd():
    if not IS_ROOT:
        pytest.skip("needs root (rspamd runs as root, the instance has its users)")
    if not os.access(RSPAMD, os.X_OK):
        pytest.skip("%s missing (Debian package rspamd)" % RSPAMD)
    stop_system_rspamd()
    r = Rspamd()
    try:
        r.start()
        yield r
    finally:
        r.stop()
        if not os.environ.get("POSTHORN_KEEP"):
            shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def inst(make_instance, rspamd):
    return make_instance(main={"smtpd_milters": rspamd.spec,
                               "milter_default_action": "tempfail",
                               "milter_connect_timeout": "5s",
                               "milter_command_timeout": "15s",
                               "milter_content_timeout": "20s"})


# ------------------------------------------------------------------- SMTP

def message(subject, body, extra=""):
    """A plain, well-formed message to alice dated now."""
    return ("From: Sender <sender@example.com>\r\nTo: Alice <%s>\r\n"
            "Subject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            "%s\r\n%s"
            % (ALICE, subject, email.utils.formatdate(), subject.replace(" ", "."),
               extra, body))


def transaction(inst, msg, rcpts=(ALICE,), sender="sender@example.com"):
    """Replies of one session: greeting, EHLO, MAIL, RCPTs, DATA, end."""
    c = RawSMTP(inst.port, timeout=60)
    replies = [c.greeting]
    try:
        for line in ["EHLO client.example", "MAIL FROM:<%s>" % sender] + \
                ["RCPT TO:<%s>" % r for r in rcpts]:
            replies.append(c.cmd(line))
        replies.append(c.cmd("DATA"))
        if replies[-1][0] == 354:
            replies.append(c.cmd(msg.replace("\r\n.", "\r\n..") + "."))
        c.cmd("QUIT")
    except EOFError:
        replies.append((0, "closed"))
    finally:
        c.close()
    return replies


def headers(data, name):
    """Every NAME: header of a delivered message (LF line ends), unfolded."""
    head = data.partition(b"\n\n")[0].decode("latin-1")
    head = re.sub(r"\n[ \t]+", " ", head)
    return [m.group(1).strip() for m in
            re.finditer(r"(?im)^" + re.escape(name) + r":[ \t]*(.*)$", head)]


# ------------------------------------------------------------------ tests

def test_rspamd_scores_and_adds_its_headers(inst, rspamd):
    body = ("Hello Alice,\r\n\r\nthe minutes of Tuesday's meeting follow in a "
            "separate mail.\r\n\r\nRegards\r\nSender\r\n")
    msg = message("meeting minutes", body,
                  extra="X-Spam: forged by the client\r\n"
                        "X-Spamd-Result: forged by the client\r\n")
    r = transaction(inst, msg)
    assert [x[0] for x in r] == [220, 250, 250, 250, 354, 250], (r, rspamd.log_tail())
    queue_id = r[-1][1].split()[-1]

    # rspamd scanned it, with what the milter protocol told it
    line = rspamd.task_line(queue_id)
    assert line, rspamd.log_tail()
    assert "ip: 127.0.0.1," in line and "from: <sender@example.com>" in line, line
    assert "rcpts: <%s>" % ALICE in line, line
    logged = re.search(r"\(default: F \(no action\): \[(-?[0-9.]+)/15\.00\]", line)
    assert logged, line

    assert inst.wait_for_maildir("alice", 1), inst.log_tail(30)
    got = inst.maildir_messages("alice")[0]
    # X-Spamd-Result: default: False [SCORE / 15.00]; SYMBOL(SCORE)[...]; ...
    result = headers(got, "X-Spamd-Result")
    assert len(result) == 1, got.decode("latin-1")
    m = re.match(r"default: False \[(-?[0-9.]+) / 15\.00\];", result[0])
    assert m, result
    assert m.group(1) == logged.group(1)
    assert "MIME_GOOD(-0.10)" in result[0], result
    assert headers(got, "X-Rspamd-Queue-Id") == [queue_id]
    assert headers(got, "X-Rspamd-Server") == [socket.gethostname()]
    assert headers(got, "X-Rspamd-Action") == ["no action"]
    status = headers(got, "X-Spam-Status")
    assert status == ["No, score=%s" % logged.group(1)], status
    bar = headers(got, "X-Spamd-Bar")
    assert len(bar) == 1 and re.fullmatch(r"\++|-+|/", bar[0]), bar
    # The client's X-Spam is gone (remove-spam-flag), its X-Spamd-Result replaced
    assert headers(got, "X-Spam") == []
    assert b"forged by the client" not in got
    # Headers as sent, body untouched
    assert headers(got, "Subject") == ["meeting minutes"]
    assert got.partition(b"\n\n")[2] == body.replace("\r\n", "\n").encode()
    assert inst.wait_for_log(r"%s: to=<%s>.*status=sent" % (queue_id, re.escape(ALICE)))


def test_rspamd_reject_action_refuses_at_end_of_data(inst, rspamd):
    msg = message("test pattern", "This is the GTUBE test.\r\n\r\n%s\r\n\r\nEnd.\r\n" % GTUBE)
    r = transaction(inst, msg)
    assert [x[0] for x in r[:-1]] == [220, 250, 250, 250, 354], r
    code, text = r[-1]
    # rspamd 3.4 answers a GTUBE reject with its pre-result's message
    assert code == 554 and text.startswith("5.7.1 "), r
    assert text == "5.7.1 Gtube pattern", r
    assert inst.wait_for_log(r"[0-9A-F]+: milter-reject: END-OF-MESSAGE from "
                             r"unknown\[127\.0\.0\.1\]: (554 )?%s; from=<sender@example\.com>"
                             % re.escape(text)), inst.log_tail(20)
    queue_id = re.search(r"([0-9A-F]+): milter-reject: END-OF-MESSAGE", inst.log()).group(1)
    line = rspamd.task_line(queue_id)
    assert line and "(default: S (reject): [15.00/15.00]" in line, rspamd.log_tail()
    assert 'forced: reject "Gtube pattern"' in line, line
    # Nothing was queued or delivered
    time.sleep(1)
    assert inst.maildir_messages("alice") == []
    assert inst.queue_empty(), inst.log_tail(20)
    assert "status=sent" not in inst.log()
