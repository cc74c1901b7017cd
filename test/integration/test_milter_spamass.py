"""test_milter_spamass.py - smtpd_milters with Debian's spamass-milter in
front of SpamAssassin's spamd, both private to the test and without any
network (the issue "spamass-milter or clamav-milter where they run
without a network").

Shown: a clean message goes through spamass-milter and is delivered with
the X-Spam-Checker-Version, X-Spam-Level and X-Spam-Status: No headers it
adds; the GTUBE message is refused at the end of DATA with
spamass-milter's "550 5.7.1 Blocked by SpamAssassin" when it runs with
-r (reject threshold), nothing is delivered or queued and Posthorn logs
"milter-reject: END-OF-MESSAGE from ..."; without -r the same message is
delivered marked (X-Spam-Flag: YES, X-Spam-Status: Yes, SpamAssassin's
report as the new body with the original attached), so the milter's
header and body replacements land.  Every message is seen by our own
spamd (its log has the "result:" line).  milter_default_action =
tempfail: a filter that cannot be reached or does not answer makes the
tests fail (451) instead of letting mail through; spamass-milter itself
lets mail through unchanged when its spamc gets no answer from spamd,
which the tests catch by the headers they expect.

The daemons (started once per module, stopped at its end):
  spamd           /usr/sbin/spamd in the foreground (no --daemonize) on
                  127.0.0.1:PORT, --local (no DNS or network tests, so
                  nothing ever waits on DNS), --nouser-config, as the
                  user debian-spamd (else nobody; spamd does not check
                  mail as root), with its helper home and pid file in a
                  temporary directory, Bayes and auto-learning off, one
                  rule of the test's own (POSTHORN_MINUTES: 3 points for
                  the clean message, so that it has an X-Spam-Level), and
                  its log on stderr kept in that directory.  The rules
                  are SpamAssassin's own: those of sa-update in
                  /var/lib/spamassassin/<version>/ if it ever ran, else
                  the package's defaults in /usr/share/spamassassin (both
                  offline); without any, spamd exits with "no rules were
                  found" and the tests are skipped.
  spamass-milter  /usr/sbin/spamass-milter in the foreground (no -f) on
                  inet:PORT2@127.0.0.1, one with -r 15 and one without,
                  both without -i, so mail from 127.0.0.1 is checked
                  (Debian's /etc/default/spamass-milter has -i 127.0.0.1;
                  the program itself ignores no network), and with
                  "-- -d 127.0.0.1 -p PORT -t 30" after the options, so
                  that their spamc talks to our spamd.
No system spamd or spamass-milter is started or needed (the ports are
our own).  The tests need root (spamd's -u, the instance's users) and
the Debian packages spamd, spamc, spamass-milter (and spamassassin, which
spamd pulls in); they are skipped when any of that is missing.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from posthorn_instance import DOMAIN, IS_ROOT, free_port, wait_until
from test_milter import transaction

SPAMD = "/usr/sbin/spamd"
SPAMC = "/usr/bin/spamc"
SPAMASS_MILTER = "/usr/sbin/spamass-milter"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
ALICE = "alice@" + DOMAIN
REJECT_SCORE = 15
# A rule of our own for spamd: the clean message gets a few points, so
# that its X-Spam-Level has stars (spamass-milter adds no X-Spam-Level
# when SpamAssassin's is empty, a score below 1)
TEST_RULE = ["body POSTHORN_MINUTES /minutes of Tuesday's meeting/",
             "describe POSTHORN_MINUTES Posthorn's test: a few points for clean mail",
             "score POSTHORN_MINUTES 3.0"]


def message(subject, body, msgid):
    """A well-formed message (no MISSING_* points) from outside to alice."""
    return ("From: Sender <sender@example.com>\r\nTo: <%s>\r\n"
            "Subject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            "\r\n%s" % (ALICE, subject, time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                                      time.gmtime()), msgid, body))


CLEAN = message("Minutes of Tuesday's meeting", "Hello Alice,\r\n\r\n"
                "here are the minutes of Tuesday's meeting: we agreed to meet\r\n"
                "again next week, same room, same time.\r\n\r\nRegards,\r\nSender\r\n",
                "clean.1")
SPAM = message("Test spam mail (GTUBE)", "This is the GTUBE, the\r\n"
               "\tGeneric\r\n\tTest for\r\n\tUnsolicited\r\n\tBulk\r\n\tEmail\r\n\r\n"
               "%s\r\n" % GTUBE, "gtube.1")


def _log(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "\n".join(f.read().splitlines()[-n:])
    except OSError:
        return ""


def _stop(proc, gently=True):
    """Stop a daemon started in its own session: SIGTERM (if GENTLY), then
    SIGKILL to the process group it leads (spamd's children, spamc's)."""
    if gently and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def spamd_pong(port):
    """True when spamd on PORT answers PING with PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(5)
            s.sendall(b"PING SPAMC/1.5\r\n\r\n")
            data = b""
            while b"\n" not in data:
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
            return b"PONG" in data
    except OSError:
        return False


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


class Daemon:
    def __init__(self, proc, port, log):
        self.proc, self.port, self.log = proc, port, log

    def tail(self, n=40):
        return _log(self.log, n)


@pytest.fixture(scope="module")
def spamd():
    if not IS_ROOT:
        pytest.skip("needs root (spamd -u, the instance's users)")
    missing = [p for p in (SPAMD, SPAMC, SPAMASS_MILTER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip("missing %s (Debian packages spamd, spamc, spamass-milter)"
                    % ", ".join(missing))
    user = None
    for name in ("debian-spamd", "nobody"):
        try:
            user = pwd.getpwnam(name)
            break
        except KeyError:
            continue
    if user is None:
        pytest.skip("no user debian-spamd or nobody for spamd to run as")
    where = tempfile.mkdtemp(prefix="ph-spamd-", dir="/tmp")
    os.chmod(where, 0o755)
    home = os.path.join(where, "home")
    os.mkdir(home, 0o755)
    os.chown(home, user.pw_uid, user.pw_gid)
    log = os.path.join(where, "spamd.log")
    port = free_port()
    argv = [SPAMD, "--local", "--nouser-config", "--username", user.pw_name,
            "--helper-home-dir=" + home, "--pidfile", os.path.join(where, "spamd.pid"),
            "--listen", "127.0.0.1:%d" % port, "--allowed-ips", "127.0.0.1",
            "--ipv4-only", "--max-children", "2", "--min-children", "1",
            "--syslog", "stderr", "--cf", "use_bayes 0", "--cf", "bayes_auto_learn 0",
            "--cf", "dns_available no"] + \
        [a for line in TEST_RULE for a in ("--cf", line)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                cwd=where, start_new_session=True)
    d = Daemon(proc, port, log)
    try:
        up = wait_until(lambda: proc.poll() is not None or spamd_pong(port), 40, 0.2)
        if proc.poll() is not None:
            text = d.tail()
            if "no rules were found" in text:
                pytest.skip("spamd finds no SpamAssassin rules (neither sa-update's in "
                            "/var/lib/spamassassin nor /usr/share/spamassassin):\n" + text)
            pytest.fail("spamd exited %s:\n%s" % (proc.returncode, text), pytrace=False)
        if not up:
            pytest.fail("spamd does not answer PING on port %d within 40 s:\n%s"
                        % (port, d.tail()), pytrace=False)
        yield d
    finally:
        _stop(proc)
        if not os.environ.get("POSTHORN_KEEP"):
            shutil.rmtree(where, ignore_errors=True)


def start_milter(spamd, where, *options):
    """spamass-milter with OPTIONS on 127.0.0.1, its spamc talking to SPAMD."""
    port = free_port()
    log = os.path.join(where, "spamass-milter.%d.log" % port)
    argv = [SPAMASS_MILTER, "-p", "inet:%d@127.0.0.1" % port] + list(options) + \
        ["--", "-d", "127.0.0.1", "-p", str(spamd.port), "-t", "30"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                cwd=where, start_new_session=True)
    d = Daemon(proc, port, log)
    d.spec = "inet:127.0.0.1:%d" % port
    if not wait_until(lambda: proc.poll() is not None or listening(port), 15):
        _stop(proc, gently=False)
        pytest.fail("spamass-milter not listening on port %d:\n%s" % (port, d.tail()),
                    pytrace=False)
    if proc.poll() is not None:
        pytest.fail("spamass-milter exited %s:\n%s" % (proc.returncode, d.tail()),
                    pytrace=False)
    return d


@pytest.fixture(scope="module")
def milters(spamd):
    """{'reject': spamass-milter -r 15, 'tag': spamass-milter without -r}."""
    where = tempfile.mkdtemp(prefix="ph-spamass-", dir="/tmp")
    made = {}
    try:
        made["reject"] = start_milter(spamd, where, "-r", str(REJECT_SCORE))
        made["tag"] = start_milter(spamd, where)
        yield made
    finally:
        # libmilter takes 4 s to leave after SIGTERM; nothing to save here
        for d in made.values():
            _stop(d.proc, gently=False)
        shutil.rmtree(where, ignore_errors=True)


def start(make_instance, milter):
    return make_instance(main={"smtpd_milters": milter.spec,
                               "milter_default_action": "tempfail",
                               "milter_connect_timeout": "10s",
                               "milter_command_timeout": "30s",
                               "milter_content_timeout": "60s"})


def spamd_results(spamd):
    """spamd's "result:" log lines so far."""
    with open(spamd.log, errors="replace") as f:
        return [l for l in f.read().splitlines() if "spamd: result:" in l]


def checked(spamd, before, flag, timeout=10):
    """The new "result:" lines of spamd after BEFORE of them, once one with
    FLAG ('.' ham, 'Y' spam) is there."""
    def new():
        lines = spamd_results(spamd)[before:]
        return lines if any(" result: %s " % flag in l for l in lines) else None
    return wait_until(new, timeout, 0.1)


def head_of(msg):
    return msg.split(b"\n\n", 1)[0]


def header_values(msg, name):
    """Every NAME: header of MSG (continuation lines unfolded)."""
    out = []
    for line in head_of(msg).replace(b"\n\t", b" ").replace(b"\n ", b" ").split(b"\n"):
        key, sep, value = line.partition(b":")
        if sep and key.lower() == name.lower().encode():
            out.append(value.strip().decode("latin-1"))
    return out


def test_clean_message_delivered_with_spamassassin_headers(make_instance, milters, spamd):
    inst = start(make_instance, milters["reject"])
    before = len(spamd_results(spamd))
    replies = transaction(inst, message=CLEAN)
    assert [r[0] for r in replies] == [220, 250, 250, 250, 354, 250], \
        (replies, milters["reject"].tail(), spamd.tail())
    assert checked(spamd, before, "."), spamd.tail()
    assert inst.wait_for_maildir("alice", 1), inst.log_tail(30)
    msg = inst.maildir_messages("alice")[0]
    version = header_values(msg, "X-Spam-Checker-Version")
    assert len(version) == 1 and version[0].startswith("SpamAssassin "), head_of(msg)
    status = header_values(msg, "X-Spam-Status")
    assert len(status) == 1 and status[0].startswith("No, score="), head_of(msg)
    assert "required=5.0" in status[0] and "POSTHORN_MINUTES" in status[0], status
    score = float(status[0].split("score=", 1)[1].split()[0])
    assert 1 <= score < 5, status
    # One star a point (X-Spam-Level is left out below 1 point)
    assert header_values(msg, "X-Spam-Level") == ["*" * int(score)], head_of(msg)
    assert not header_values(msg, "X-Spam-Flag")
    # The message itself is untouched
    assert header_values(msg, "Subject") == ["Minutes of Tuesday's meeting"]
    body = CLEAN.split("\r\n\r\n", 1)[1].replace("\r\n", "\n").encode()
    assert msg.split(b"\n\n", 1)[1] == body
    assert inst.wait_for_log(r"[0-9A-F]+: to=<alice@posthorn\.test>.*status=sent")


def test_gtube_refused_at_end_of_data_with_reject_threshold(make_instance, milters, spamd):
    inst = start(make_instance, milters["reject"])
    before = len(spamd_results(spamd))
    replies = transaction(inst, message=SPAM)
    assert [r[0] for r in replies[:-1]] == [220, 250, 250, 250, 354], replies
    code, text = replies[-1]
    assert code == 550 and text.startswith("5.7.1 ") and "Blocked by SpamAssassin" in text, \
        (replies, milters["reject"].tail())
    lines = checked(spamd, before, "Y")
    assert lines and any("GTUBE" in l for l in lines), spamd.tail()
    # Postfix's cleanup logs "5.7.1 Blocked ...; from=<> to=<> proto= helo=",
    # Posthorn's smtpd has the reply code in front and no to=<>
    assert inst.wait_for_log(r"[0-9A-F]+: milter-reject: END-OF-MESSAGE from "
                             r"unknown\[127\.0\.0\.1\]: (550 )?5\.7\.1 Blocked by "
                             r"SpamAssassin; from=<sender@example\.com>( to=<alice@posthorn"
                             r"\.test>)? proto=ESMTP helo=<client\.example>"), \
        inst.log_tail(30)
    time.sleep(1)
    assert inst.maildir_messages("alice") == []
    assert wait_until(inst.queue_empty, 5), inst.log_tail(30)
    assert "status=sent" not in inst.log()


def test_gtube_delivered_marked_without_reject_threshold(make_instance, milters, spamd):
    inst = start(make_instance, milters["tag"])
    before = len(spamd_results(spamd))
    replies = transaction(inst, message=SPAM)
    assert [r[0] for r in replies] == [220, 250, 250, 250, 354, 250], \
        (replies, milters["tag"].tail(), spamd.tail())
    assert checked(spamd, before, "Y"), spamd.tail()
    assert inst.wait_for_maildir("alice", 1), inst.log_tail(30)
    msg = inst.maildir_messages("alice")[0]
    assert header_values(msg, "X-Spam-Flag") == ["YES"], head_of(msg)
    status = header_values(msg, "X-Spam-Status")
    assert len(status) == 1 and status[0].startswith("Yes, score=") and "GTUBE" in status[0], \
        head_of(msg)
    score = float(status[0].split("score=", 1)[1].split()[0])
    assert score >= REJECT_SCORE
    assert header_values(msg, "X-Spam-Level") == ["*" * 50]
    # SpamAssassin's report replaces the body (report_safe 1), the original
    # message is attached to it
    body = msg.split(b"\n\n", 1)[1]
    assert b"Spam detection software" in body, body[:500]
    assert b"message/rfc822" in body and GTUBE.encode() in body
    # The one Content-Type is the report's (the milter changed it)
    ctype = header_values(msg, "Content-Type")
    assert len(ctype) == 1 and ctype[0].startswith("multipart/mixed;"), head_of(msg)

