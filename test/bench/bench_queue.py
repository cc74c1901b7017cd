"""bench_queue.py - a big deferred queue: Posthorn against Postfix.

Usage: python3 test/bench/bench_queue.py BUILD_DIR   (via bench_queue.sh,
i.e. "make bench").

Each side is a private instance (the set-up of bench_relay.py) whose
relayhost is [127.0.0.1]:PORT with nothing listening there, and whose
back-off and queue run times are an hour, so that every message ends up
in deferred/ and stays there.  For each side:
  fill       smtp-source -s 20 -l 1024 -m N to an outside domain; the time
             runs until the log shows N deferrals and deferred/ holds N
             files (messages per second);
  -p         postqueue -p: time to the first output line and to the end;
             the listing must name N messages;
  -j         postqueue -j: the same, N JSON lines;
  flush      smtp-sink starts on PORT, postqueue -f; the time runs until
             the log shows N messages sent (messages per second); qmgr's
             peak RSS is sampled meanwhile (every 50 ms) and its VmHWM
             (the peak of its whole life, fill included) is read at the end.
Prints a table with both sides and the Posthorn/Postfix ratios.

Environment: BENCH_QUEUE_MSGS (default 200000; 20000 for a quick run),
BENCH_KEEP=1 keeps the temporary directories.  At 200,000 messages a run
of both sides takes about 10-15 minutes on two cores.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_smtp import SMTP_SOURCE, IS_ROOT, POSTFIX, tree_members, cell, ratio  # noqa: E402
from bench_relay import PosthornRelay, PostfixRelay, SMTP_SINK, RELAY_RCPT  # noqa: E402
from posthorn_instance import free_port, wait_until  # noqa: E402

MSG_LEN = 1024
SLOW = {"minimal_backoff_time": "3600s", "maximal_backoff_time": "4000s",
        "queue_run_delay": "3600s"}
ID_LINE = re.compile(r"^[0-9A-F]{6,}[*!#]*\s+\d+\s")
SUMMARY = re.compile(r"^-- \d+ Kbytes in (\d+) Requests?\.")


class LogCounter:
    """Counts log lines with NEEDLE, reading only what was added."""

    def __init__(self, path, needle):
        self.path = path
        self.needle = needle
        self.offset = 0
        self.count = 0
        self.rest = b""

    def update(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.count
        self.offset += len(data)
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        self.rest = data[cut:]
        self.count += data[:cut].count(self.needle)
        return self.count


def count_tree(path):
    n = 0
    for _dirpath, _dirs, files in os.walk(path):
        n += len(files)
    return n


def qmgr_pid(master):
    for pid in tree_members(master):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "qmgr":
                    return pid
        except OSError:
            pass
    return None


def proc_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class QmgrSampler(threading.Thread):
    """Peak VmRSS of qmgr (found again when it restarts) until stop()."""

    def __init__(self, master):
        super().__init__(daemon=True)
        self.master = master
        self.pid = None
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            if self.pid is None or not os.path.exists("/proc/%d" % self.pid):
                self.pid = qmgr_pid(self.master)
            if self.pid:
                self.peak_kb = max(self.peak_kb, proc_kb(self.pid, "VmRSS"))
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.join()


class QueueSide:
    """What both instances need here: commands, log, queue paths."""

    def __init__(self, side, postqueue, env):
        self.side = side
        self.postqueue = postqueue
        self.env = env

    def listing(self, flag, is_entry):
        """Run postqueue FLAG: (seconds to first line, seconds, entries, lines)."""
        t0 = time.monotonic()
        p = subprocess.Popen(self.postqueue + [flag], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=self.env, bufsize=1 << 16)
        first = None
        entries = 0
        last = ""
        for line in p.stdout:
            if first is None:
                first = time.monotonic() - t0
            text = line.decode("utf-8", "replace")
            entries += is_entry(text)
            if text.strip():
                last = text
        p.wait()
        return first or 0.0, time.monotonic() - t0, entries, last


def posthorn_side(build, port):
    side = PosthornRelay(build, port)
    side.inst.main_overrides.update(SLOW)
    side.inst.write_config()
    pq = [side.inst.bin("postqueue"), "-c", side.inst.etc]
    return side, QueueSide(side, pq, side.inst.env()), os.path.join(side.inst.queue, "deferred")


def postfix_side(port):
    side = PostfixRelay(port)
    side.postconf("-e", *["%s=%s" % kv for kv in SLOW.items()])
    pq = ["/usr/sbin/postqueue", "-c", side.etc]
    return side, QueueSide(side, pq, dict(os.environ)), os.path.join(side.queue, "deferred")


def fill(side, deferred_dir, msgs, res):
    deferrals = LogCounter(side.maillog, b"status=deferred")
    t0 = time.monotonic()
    r = subprocess.run([SMTP_SOURCE, "-4", "-s", "20", "-l", str(MSG_LEN), "-m", str(msgs),
                        "-M", "client.example", "-f", "bench@example.com",
                        "-t", RELAY_RCPT, "127.0.0.1:%d" % side.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3600)
    res["fill_smtp_s"] = time.monotonic() - t0
    ok = wait_until(lambda: deferrals.update() >= msgs, max(120, msgs / 50), 0.2)
    ok = ok and wait_until(lambda: count_tree(deferred_dir) >= msgs, 120, 0.5)
    res["fill_s"] = time.monotonic() - t0
    res["fill"] = msgs / res["fill_s"]
    if r.returncode != 0:
        res["note"] = "smtp-source failed"
    elif not ok:
        res["note"] = "fill: %d deferrals, %d files" % (deferrals.count, count_tree(deferred_dir))


def is_json_entry(text):
    try:
        return 1 if "queue_id" in json.loads(text) else 0
    except ValueError:
        return 0


def listings(qs, msgs, res):
    first, total, entries, last = qs.listing("-p", lambda t: 1 if ID_LINE.match(t) else 0)
    m = SUMMARY.match(last)
    res["p_first"], res["p_total"] = first, total
    if entries != msgs or not m or int(m.group(1)) != msgs:
        res["note"] = res.get("note") or "postqueue -p: %d entries, last line %r" % (
            entries, last.strip())
    first, total, entries, _last = qs.listing("-j", is_json_entry)
    res["j_first"], res["j_total"] = first, total
    if entries != msgs:
        res["note"] = res.get("note") or "postqueue -j: %d entries" % entries


def flush(side, qs, port, msgs, res):
    sent = LogCounter(side.maillog, b"status=sent")
    user = ["-u", "nobody"] if IS_ROOT else []
    sink = subprocess.Popen([SMTP_SINK, "-4"] + user + ["127.0.0.1:%d" % port, "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = QmgrSampler(side.master_pid())
    try:
        time.sleep(0.3)
        sampler.start()
        t0 = time.monotonic()
        subprocess.run(qs.postqueue + ["-f"], env=qs.env, timeout=600,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = wait_until(lambda: sent.update() >= msgs, max(120, msgs / 20), 0.2)
        res["flush_s"] = time.monotonic() - t0
        res["flush"] = sent.count / res["flush_s"]
        if not ok:
            res["note"] = res.get("note") or "flush: %d of %d sent" % (sent.count, msgs)
    finally:
        sampler.stop()
        sink.terminate()
        sink.wait()
    res["qmgr_mb"] = sampler.peak_kb / 1024.0
    res["qmgr_hwm_mb"] = proc_kb(sampler.pid, "VmHWM") / 1024.0 if sampler.pid else 0.0


def run(name, make, msgs, results):
    port = free_port()
    res = {"note": ""}
    results[name] = res
    side = None
    try:
        side, qs, deferred_dir = make(port)
        side.start()
        fill(side, deferred_dir, msgs, res)
        print("  %-8s fill %8.1f msg/s (%.0f s)" % (name, res["fill"], res["fill_s"]), flush=True)
        listings(qs, msgs, res)
        print("  %-8s postqueue -p first line %.3f s, all %.2f s; -j %.3f s, %.2f s" % (
            name, res["p_first"], res["p_total"], res["j_first"], res["j_total"]), flush=True)
        flush(side, qs, port, msgs, res)
        print("  %-8s flush %8.1f msg/s (%.0f s), qmgr peak RSS %.1f MB (VmHWM %.1f MB)" % (
            name, res["flush"], res["flush_s"], res["qmgr_mb"], res["qmgr_hwm_mb"]), flush=True)
    except Exception as e:  # report, go on with the other side
        res["note"] = res.get("note") or str(e)
    finally:
        if res["note"]:
            print("  %s: %s" % (name, res["note"]), flush=True)
            if side is not None:
                print(side.log_tail(), flush=True)
        if side is not None:
            side.stop()


def fmt(res, key, form):
    if key not in res:
        return "-"
    return (form % res[key]) + ("!" if res.get("note") else "")


def table(results, msgs):
    p, f = results.get("posthorn", {}), results.get("postfix", {})
    rows = [("fill (msg/s)", "fill", "%.1f", True),
            ("postqueue -p first line (s)", "p_first", "%.3f", False),
            ("postqueue -p total (s)", "p_total", "%.2f", False),
            ("postqueue -j first line (s)", "j_first", "%.3f", False),
            ("postqueue -j total (s)", "j_total", "%.2f", False),
            ("flush (msg/s)", "flush", "%.1f", True),
            ("qmgr peak RSS in flush (MB)", "qmgr_mb", "%.1f", False),
            ("qmgr VmHWM (MB)", "qmgr_hwm_mb", "%.1f", False)]
    print()
    head = "%-30s | %12s | %12s | %7s" % ("%d deferred messages" % msgs, "posthorn",
                                          "postfix", "ratio")
    print(head)
    print("-" * len(head))
    for label, key, form, _higher in rows:
        print("%-30s | %12s | %12s | %7s" % (label, fmt(p, key, form), fmt(f, key, form),
                                             ratio(p.get(key), f.get(key))))
    print("(ratio: Posthorn/Postfix; higher is better for msg/s, lower for seconds and MB;")
    print(" '!' marks a side whose run failed)")


def main():
    if len(sys.argv) < 2:
        print("usage: bench_queue.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    if not os.access(os.path.join(build, "libexec", "smtp"), os.X_OK):
        print("bench: %s/libexec/smtp not built: queue benchmark skipped" % build)
        return 0
    if not os.access(SMTP_SINK, os.X_OK) or not os.access(SMTP_SOURCE, os.X_OK):
        print("bench: smtp-source/smtp-sink missing (apt-get install postfix)", file=sys.stderr)
        return 1
    msgs = int(os.environ.get("BENCH_QUEUE_MSGS", "200000"))
    only = os.environ.get("BENCH_QUEUE_ONLY", "")
    results = {}
    t0 = time.monotonic()
    print("bench: %d deferred %d-byte messages (relayhost down), listed and flushed"
          % (msgs, MSG_LEN), flush=True)
    if only in ("", "posthorn"):
        run("posthorn", lambda port: posthorn_side(build, port), msgs, results)
    if only in ("", "postfix"):
        if IS_ROOT and os.access(POSTFIX, os.X_OK):
            run("postfix", postfix_side, msgs, results)
        else:
            print("bench: Postfix comparison skipped (needs root and postfix installed)")
    table(results, msgs)
    print("(run time %.0f s)" % (time.monotonic() - t0))
    return 0 if all(not v.get("note") for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
