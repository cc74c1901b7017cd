"""bench_milter.py - SMTP receive rates of Posthorn and Postfix with the
same mail filter in front: Debian's OpenDKIM signing every message.

    python3 test/bench/bench_milter.py BUILD_DIR      (root: Postfix too)

One private opendkim (Mode s, a fresh 1024-bit key, Domain example.com,
the sender domain smtp-source uses; 127.0.0.1 is an internal host, so
every message is signed) serves both MTAs in turn: smtpd_milters =
inet:127.0.0.1:PORT, milter_default_action = tempfail.  smtp-source
sends 5 KiB messages (bench_smtp.py's measure()); the messages are
queued, not delivered, as in bench_smtp.py's receive rows.  A run that
did not queue every message (a filter that failed) is marked '!'.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import bench_smtp  # noqa: E402
from test_milter_opendkim import OpenDKIM, GENKEY  # noqa: E402


def signer():
    """A private opendkim signer; (OpenDKIM, its directory)."""
    base = tempfile.mkdtemp(prefix="posthorn-bench-dkim-", dir="/run")
    os.chmod(base, 0o755)
    subprocess.run([GENKEY, "-b", "1024", "-d", "example.com", "-s", "bench", "-D", base],
                   check=True)
    return OpenDKIM(base, "signer", [
        "Mode s", "Domain example.com", "Selector bench",
        "KeyFile %s" % os.path.join(base, "bench.private"),
        "InternalHosts 127.0.0.1"]), base


def main():
    if len(sys.argv) < 2 or os.geteuid() != 0:
        print("usage (as root): bench_milter.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    dkim, base = signer()
    params = {"smtpd_milters": dkim.spec, "milter_default_action": "tempfail"}
    runs = [("receive+opendkim, 20 sessions", 20, 1000),
            ("receive+opendkim, 1 session", 1, 300)]
    results = {}

    def posthorn_side(deliver):
        side = bench_smtp.PosthornSide(build, deliver)
        side.inst.main_overrides.update(params)
        side.inst.write_config()
        return side

    def postfix_side(deliver):
        side = bench_smtp.PostfixSide(deliver)
        for name, value in params.items():
            side.postconf("-e", "%s = %s" % (name, value))
        return side
    try:
        print("bench: 5120-byte messages through OpenDKIM (signing), queued")
        bench_smtp.run_side(posthorn_side, runs, False, results)
        bench_smtp.run_side(postfix_side, runs, False, results)
    finally:
        dkim.stop()
        shutil.rmtree(base, ignore_errors=True)
    print()
    for label, _sessions, msgs in runs:
        p = results.get(("posthorn", label), {})
        f = results.get(("postfix", label), {})
        print("%-32s %5d msgs | posthorn %8s/s | postfix %8s/s | rate %s" % (
            label, msgs, bench_smtp.cell(p, "rate"), bench_smtp.cell(f, "rate"),
            bench_smtp.ratio(p.get("rate"), f.get("rate"))))
    return 0 if all(v["ok"] for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
