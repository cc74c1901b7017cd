"""bench_relay.py - relay throughput through the SMTP client: Posthorn
against Postfix, both sending to Debian's smtp-sink.

Usage: python3 test/bench/bench_relay.py BUILD_DIR   (via bench_relay.sh,
i.e. "make bench").

Each side is a private instance (the same set-up as bench_smtp.py) with
relayhost = [127.0.0.1]:SINK, where smtp-sink accepts everything.
smtp-source sends 5 KiB messages for an outside domain; the time runs
from the first connection until the instance's log shows every message
delivered (status=sent).  Peak memory is sampled as in bench_smtp.py.
Environment: BENCH_RELAY_MSGS (default 2000), BENCH_KEEP=1.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_smtp import (PosthornSide, PostfixSide, RssSampler, SMTP_SOURCE,  # noqa: E402
                        MSG_LEN, IS_ROOT, POSTFIX, free_port, wait_until,
                        cell, ratio)

SMTP_SINK = "/usr/sbin/smtp-sink"
RELAY_RCPT = "someone@relay.example"


def count_sent(path):
    try:
        with open(path, errors="replace") as f:
            return sum(1 for line in f if "status=sent" in line and "relay=127.0.0.1" in line)
    except OSError:
        return 0


class PosthornRelay(PosthornSide):
    def __init__(self, build, sink_port):
        super().__init__(build, True)
        self.inst.main_overrides.update({"relayhost": "[127.0.0.1]:%d" % sink_port,
                                         "mynetworks": "127.0.0.0/8"})
        self.inst.master_extra.append("smtp unix - - n - - smtp")
        self.inst.write_config()        # the instance wrote it once already
        self.maillog = self.inst.maillog


class PostfixRelay(PostfixSide):
    def __init__(self, sink_port):
        super().__init__(True)
        self.postconf("-e", "relayhost=[127.0.0.1]:%d" % sink_port)


def measure(side, msgs, sessions):
    before = count_sent(side.maillog)
    sampler = RssSampler(side.master_pid())
    sampler.start()
    t0 = time.monotonic()
    r = subprocess.run([SMTP_SOURCE, "-4", "-s", str(sessions), "-l", str(MSG_LEN),
                        "-m", str(msgs), "-M", "client.example", "-f", "bench@example.com",
                        "-t", RELAY_RCPT, "127.0.0.1:%d" % side.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    done = wait_until(lambda: count_sent(side.maillog) - before >= msgs, max(60, msgs / 10), 0.05)
    elapsed = time.monotonic() - t0
    sampler.stop()
    got = count_sent(side.maillog) - before
    note = ""
    if r.returncode != 0:
        note = "smtp-source failed"
    elif not done:
        note = "timeout: %d of %d relayed" % (got, msgs)
    return {"rate": got / elapsed if elapsed else 0.0, "mb": sampler.peak_kb / 1024.0,
            "pss": sampler.peak_pss_kb / 1024.0, "ok": not note, "note": note}


def run(side, msgs, results):
    try:
        side.start()
        for sessions in (20, 1):
            res = measure(side, msgs if sessions > 1 else max(1, msgs // 4), sessions)
            results[(side.name, sessions)] = res
            print("  %-8s relay, %2d sessions %8.1f msg/s %7.1f MB RSS  %s" % (
                side.name, sessions, res["rate"], res["mb"], "ok" if res["ok"] else res["note"]),
                flush=True)
            if not res["ok"]:
                print(side.log_tail(), flush=True)
    except Exception as e:  # report, go on with the other side
        print("  %s: %s" % (side.name, e), flush=True)
    finally:
        side.stop()


def main():
    if len(sys.argv) < 2:
        print("usage: bench_relay.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    if not os.access(os.path.join(build, "libexec", "smtp"), os.X_OK):
        print("bench: %s/libexec/smtp not built: relay benchmark skipped" % build)
        return 0
    msgs = int(os.environ.get("BENCH_RELAY_MSGS", "2000"))
    sink_port = free_port()
    user = ["-u", "nobody"] if IS_ROOT else []
    sink = subprocess.Popen([SMTP_SINK, "-4"] + user + ["127.0.0.1:%d" % sink_port, "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    try:
        time.sleep(0.3)
        print("bench: %d-byte messages relayed to smtp-sink via relayhost" % MSG_LEN)
        run(PosthornRelay(build, sink_port), msgs, results)
        if IS_ROOT and os.access(POSTFIX, os.X_OK):
            run(PostfixRelay(sink_port), msgs, results)
        else:
            print("bench: Postfix comparison skipped (needs root and postfix installed)")
    finally:
        sink.terminate()
        sink.wait()
    print()
    print("%-22s | %10s %7s | %10s %7s | %6s %6s" % ("test", "posthorn/s", "RSS MB",
                                                    "postfix/s", "RSS MB", "rate", "RSS"))
    for sessions in (20, 1):
        p = results.get(("posthorn", sessions), {})
        f = results.get(("postfix", sessions), {})
        print("%-22s | %10s %7s | %10s %7s | %6s %6s" % (
            "relay, %d sessions" % sessions, cell(p, "rate"), cell(p, "mb"),
            cell(f, "rate"), cell(f, "mb"),
            ratio(p.get("rate"), f.get("rate")), ratio(p.get("mb"), f.get("mb"))))
    return 0 if all(v["ok"] for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
