"""bench_smtp.py - SMTP throughput and memory of Posthorn against Postfix.

Usage: python3 test/bench/bench_smtp.py BUILD_DIR   (normally via
test/bench/bench_smtp.sh, i.e. "make bench").

Starts a private Posthorn instance (the integration tests' fixture, in a
temporary directory on free ports) and a private Postfix instance (a copy
of /etc/postfix/{main,master}.cf with its own queue, data and mail
directories; needs root), and drives each with smtp-source: 5 KiB
messages to one virtual Maildir user, with 20 parallel sessions and with
one session.  Two modes:
  receive          only SMTP reception and queue-file writing: Posthorn
                   runs without qmgr (mail stays in incoming/), Postfix
                   puts every message on hold (an access-table HOLD
                   action; without qmgr its cleanup stalls ~1 s/message);
  receive+deliver  time until every message is in the Maildir.
Peak memory is the largest sum of RSS of the instance's master and all
its children, sampled every 50 ms (PSS, which shares library pages out
fairly, is printed too).  Prints a table with messages/second,
MB and the Posthorn/Postfix ratios.

A third receive+deliver row sends 10 recipients per message (smtp-source
-r 10: 0bench@bench.test ... 9bench@bench.test, all to the one Maildir):
messages per second, each delivered ten times.

Environment: BENCH_MSGS_20 (default 2000), BENCH_MSGS_1 (default 500),
BENCH_MSGS_RCPT10 (default 500),
BENCH_KEEP=1 keeps the temporary directories.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from posthorn_instance import PosthornInstance, free_port, wait_until, all_pids  # noqa: E402
from postfix_helpers import PostfixInstance  # noqa: E402

SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
MSG_LEN = 5120
RCPT = "bench@bench.test"
VUID = 20003
IS_ROOT = os.geteuid() == 0


def count_files(path):
    try:
        return sum(1 for n in os.listdir(path) if not n.startswith("."))
    except FileNotFoundError:
        return 0


def clear_dir(path):
    """Remove every file below PATH (the directories stay)."""
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                os.unlink(os.path.join(dirpath, f))
            except OSError:
                pass


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_members(root_pid):
    """ROOT_PID and all its descendants, with their RSS in KiB."""
    parent = {}
    rss = {}
    for pid in all_pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%d/statm" % pid) as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parent[pid] = int(stat[stat.rindex(")") + 2:].split()[1])
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    members = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in members and pid not in members:
                members.add(pid)
                changed = True
    return {p: rss.get(p, 0) for p in members}


class RssSampler(threading.Thread):
    """Samples the memory of a process tree until stop(): .peak_kb is the
    largest RSS sum seen, .peak_pss_kb the largest PSS sum."""

    def __init__(self, root_pid):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.done = threading.Event()

    def sample(self):
        members = tree_members(self.root_pid)
        self.peak_kb = max(self.peak_kb, sum(members.values()))
        self.peak_pss_kb = max(self.peak_pss_kb, sum(pss_kb(p) for p in members))

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.join()
        self.sample()


class PosthornSide:
    name = "posthorn"

    def __init__(self, build, deliver):
        os.environ["POSTHORN_BUILD"] = build
        self.base = tempfile.mkdtemp(prefix="phb-", dir="/tmp")
        self.inst = PosthornInstance(self.base, qmgr=deliver, main={
            "virtual_mailbox_domains": "bench.test",
            # every bench.test address (smtp-source -r N sends to
            # 0bench@, 1bench@, ...) into one Maildir, as Postfix's side
            "virtual_mailbox_maps": "static:bench.test/bench/",
        })
        self.port = self.inst.port
        self.maildir_new = os.path.join(self.inst.mail, "virtual", "bench.test", "bench", "new")
        self.incoming = os.path.join(self.inst.queue, "incoming")

    def start(self):
        self.inst.start()

    def master_pid(self):
        return self.inst.master_pid()

    def stop(self):
        self.inst.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self):
        return self.inst.log_tail(15)


class PostfixSide(PostfixInstance):
    """Postfix as the benchmarks run it (postfix_helpers.PostfixInstance)."""
    name = "postfix"

    def __init__(self, deliver):
        super().__init__(RCPT, VUID, hostname="bench.posthorn.test")
        self.incoming = os.path.join(self.queue, "incoming")
        if not deliver:
            # Postfix's cleanup waits for a missing qmgr (about 1 s per
            # message), so queue-only here means: cleanup puts each message
            # on hold (hold/ instead of incoming/), qmgr never delivers it.
            self.postconf("-e", "smtpd_recipient_restrictions = "
                          "check_recipient_access inline:{ %s=HOLD }" % RCPT)
            self.incoming = os.path.join(self.queue, "hold")


def measure(side, sessions, msgs, deliver, rcpts=1):
    """One smtp-source run, RCPTS recipients per message; returns
    dict(rate, mb, ok, note), rate in messages per second."""
    clear_dir(side.maildir_new)
    clear_dir(side.incoming)
    master = side.master_pid()
    sampler = RssSampler(master)
    sampler.start()
    t0 = time.monotonic()
    r = subprocess.run([SMTP_SOURCE, "-4", "-s", str(sessions), "-l", str(MSG_LEN),
                        "-m", str(msgs), "-r", str(rcpts), "-M", "client.example",
                        "-f", "bench@example.com", "-t", RCPT,
                        "127.0.0.1:%d" % side.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    t_recv = time.monotonic() - t0
    note = ""
    if r.returncode != 0:
        note = "smtp-source failed: " + r.stdout.decode("utf-8", "replace").strip()[-200:]
    if deliver:
        done = wait_until(lambda: count_files(side.maildir_new) >= msgs * rcpts,
                          max(60, msgs * rcpts / 10), 0.02)
        elapsed = time.monotonic() - t0
        got = count_files(side.maildir_new) // rcpts
        if not done:
            note = note or "timeout: %d of %d delivered" % (got * rcpts, msgs * rcpts)
    else:
        elapsed = t_recv
        got = count_files(side.incoming)
        if got < msgs:
            note = note or "only %d of %d queued" % (got, msgs)
    sampler.stop()
    return {"rate": got / elapsed if elapsed > 0 else 0.0,
            "mb": sampler.peak_kb / 1024.0, "pss": sampler.peak_pss_kb / 1024.0,
            "ok": not note, "note": note}


def run_side(make_side, runs, deliver, results):
    side = make_side(deliver)
    try:
        side.start()
        for label, sessions, msgs, rcpts in runs:
            res = measure(side, sessions, msgs, deliver, rcpts)
            results[(side.name, label)] = res
            status = "ok" if res["ok"] else res["note"]
            print("  %-8s %-28s %8.1f msg/s %7.1f MB RSS %7.1f MB PSS  %s" % (
                side.name, label, res["rate"], res["mb"], res["pss"], status), flush=True)
            if not res["ok"]:
                print("    log tail:\n" + side.log_tail(), flush=True)
    except Exception as e:  # report and continue with the other side
        print("  %s: %s" % (side.name, e), flush=True)
    finally:
        side.stop()


def on_sigterm(signum, frame):
    raise KeyboardInterrupt()


def cell(res, key):
    if not res:
        return "-"
    return "%.1f%s" % (res[key], "" if res["ok"] else "!")


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


def main():
    if len(sys.argv) < 2:
        print("usage: bench_smtp.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    if not os.access(os.path.join(build, "libexec", "master"), os.X_OK):
        print("bench: %s/libexec/master not built" % build, file=sys.stderr)
        return 1
    if not os.access(SMTP_SOURCE, os.X_OK):
        print("bench: smtp-source missing (apt-get install postfix)", file=sys.stderr)
        return 1
    n20 = int(os.environ.get("BENCH_MSGS_20", "2000"))
    n1 = int(os.environ.get("BENCH_MSGS_1", "500"))
    n10 = int(os.environ.get("BENCH_MSGS_RCPT10", "500"))
    with_postfix = IS_ROOT and os.access(POSTFIX, os.X_OK)
    signal.signal(signal.SIGTERM, on_sigterm)

    results = {}
    plan = []
    for deliver in (False, True):
        mode = "receive+deliver" if deliver else "receive"
        runs = [("%s, 20 sessions" % mode, 20, n20, 1), ("%s, 1 session" % mode, 1, n1, 1)]
        if deliver:
            runs.append(("%s, 10 rcpts, 20 sess" % mode, 20, n10, 10))
        plan.append((deliver, runs))
    print("bench: %d-byte messages via smtp-source to a virtual Maildir user" % MSG_LEN)
    for deliver, runs in plan:
        run_side(lambda d: PosthornSide(build, d), runs, deliver, results)
        if with_postfix:
            run_side(PostfixSide, runs, deliver, results)
    if not with_postfix:
        print("bench: Postfix comparison skipped (needs root and postfix installed)")

    print()
    head = "%-30s %6s | %10s %7s %7s | %10s %7s %7s | %6s %6s %6s" % (
        "test", "msgs", "posthorn/s", "RSS MB", "PSS MB", "postfix/s", "RSS MB", "PSS MB",
        "rate", "RSS", "PSS")
    print(head)
    print("-" * len(head))
    for deliver, runs in plan:
        for label, _sessions, msgs, _rcpts in runs:
            p = results.get(("posthorn", label), {})
            f = results.get(("postfix", label), {})
            print("%-30s %6d | %10s %7s %7s | %10s %7s %7s | %6s %6s %6s" % (
                label, msgs,
                cell(p, "rate"), cell(p, "mb"), cell(p, "pss"),
                cell(f, "rate"), cell(f, "mb"), cell(f, "pss"),
                ratio(p.get("rate"), f.get("rate")), ratio(p.get("mb"), f.get("mb")),
                ratio(p.get("pss"), f.get("pss"))))
    print("(last three columns: Posthorn/Postfix ratios of messages per second (higher is")
    print(" better) and of peak RSS and PSS sums (lower is better); '!' marks a failed run)")
    bad = [k for k, v in results.items() if not v["ok"]]
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
