"""bench_postmap.py - postmap build and query speed and memory, Posthorn
against Postfix.

Usage: python3 test/bench/bench_postmap.py BUILD_DIR   (normally via
test/bench/bench_postmap.sh).

Generates a table of BENCH_LINES lines (default 1,000,000) of the form
"userNNNNNNN@example.com target-NNNNNNN@dest.example.net" once, and a
file of BENCH_QUERIES keys (default 100,000: nine in ten present, one in
ten absent, in random order).  Then, for Posthorn's postmap and for
Postfix's (/usr/sbin/postmap -c /etc/postfix), each on its own copy:
  build   postmap hash:FILE
  query   postmap -q - hash:FILE < keys
and (BENCH_BTREE=1) the same with btree:.  Wall time and peak RSS of the
command are measured with /usr/bin/time (Debian package "time", installed
by "sh mk/deps.sh bench"; without it only times are shown).
The query outputs of the two must be identical (same keys found, same
values), else the run is marked failed.  Prints a table with seconds, MB
and the ratios Posthorn/Postfix (lower is better for both).

Environment: BENCH_LINES, BENCH_QUERIES, BENCH_BTREE=1, BENCH_KEEP=1
(keep the temporary directory).
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

PF_POSTMAP = "/usr/sbin/postmap"
PF_CONFIG = "/etc/postfix"
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def make_source(path, lines):
    with open(path, "w") as f:
        for i in range(lines):
            f.write("user%07d@example.com target-%07d@dest.example.net\n" % (i, i))


def make_keys(path, lines, queries):
    rnd = random.Random(1)
    keys = []
    for _ in range(queries):
        if rnd.random() < 0.9:
            keys.append("user%07d@example.com" % rnd.randrange(lines))
        else:
            keys.append("absent%07d@example.com" % rnd.randrange(10 ** 7))
    with open(path, "w") as f:
        f.write("\n".join(keys) + "\n")


def measure(argv, stdin_path=None, stdout_path=None, env=None):
    """Run ARGV under /usr/bin/time; (seconds, peak RSS in MB or None,
    exit status, stderr text).  The RSS must come from time(1), not from
    wait4() here: a child forked from this Python process starts with
    Python's own peak RSS, which exec does not reset."""
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    errf = tempfile.TemporaryFile()
    stats = tempfile.NamedTemporaryFile(prefix="bench-time-", delete=False)
    stats.close()
    prefix = [TIME, "-o", stats.name, "-f", "%e %M"] if TIME else []
    start = time.monotonic()
    proc = subprocess.run(prefix + argv, stdin=fin, stdout=fout, stderr=errf, env=env)
    elapsed = time.monotonic() - start
    for f in (fin, fout):
        if f is not subprocess.DEVNULL:
            f.close()
    errf.seek(0)
    err = errf.read().decode("utf-8", "replace")
    errf.close()
    rss = None
    with open(stats.name) as f:
        fields = f.read().split()
    os.unlink(stats.name)
    if TIME and len(fields) >= 2:
        rss = int(fields[-1]) / 1024.0
    return elapsed, rss, proc.returncode, err


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "-"


def fmt(v, spec):
    return spec % v if v is not None else "-"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_postmap.py BUILD_DIR")
    build = os.path.abspath(sys.argv[1])
    ph_postmap = os.path.join(build, "bin", "postmap")
    if not os.access(ph_postmap, os.X_OK):
        sys.exit("no %s: build first (make BUILD=... all)" % ph_postmap)
    have_pf = os.access(PF_POSTMAP, os.X_OK) and os.path.exists(os.path.join(PF_CONFIG, "main.cf"))
    lines = int(os.environ.get("BENCH_LINES", "1000000"))
    queries = int(os.environ.get("BENCH_QUERIES", "100000"))
    kinds = ["hash"] + (["btree"] if os.environ.get("BENCH_BTREE") else [])

    work = tempfile.mkdtemp(prefix="bench-postmap-", dir="/tmp")
    os.chmod(work, 0o755)
    try:
        etc = os.path.join(work, "etc")
        os.makedirs(etc)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write("# bench_postmap.py\n")
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")

        t0 = time.monotonic()
        src = os.path.join(work, "table")
        keys = os.path.join(work, "keys")
        make_source(src, lines)
        make_keys(keys, lines, queries)
        print("generated %d lines (%.1f MB) and %d keys in %.1fs; work dir %s"
              % (lines, os.path.getsize(src) / 1e6, queries, time.monotonic() - t0, work))

        who = [("posthorn", [ph_postmap, "-c", etc])]
        if have_pf:
            who.append(("postfix", [PF_POSTMAP, "-c", PF_CONFIG]))
        else:
            print("Postfix's postmap (%s, %s/main.cf) not found: Posthorn only" % (PF_POSTMAP, PF_CONFIG))

        rows = []
        failed = False
        for kind in kinds:
            results = {}
            outputs = {}
            for name, cmd in who:
                d = os.path.join(work, name)
                os.makedirs(d, exist_ok=True)
                copy = os.path.join(d, "table")
                shutil.copyfile(src, copy)
                spec = "%s:%s" % (kind, copy)
                b = measure(cmd + [spec], env=env)
                out = os.path.join(d, "answers-" + kind)
                q = measure(cmd + ["-q", "-", spec], stdin_path=keys, stdout_path=out, env=env)
                for label, r in (("build", b), ("query", q)):
                    if r[2] not in (0, 1) or (label == "build" and r[2] != 0):
                        print("! %s %s %s exited %d: %s" % (name, label, kind, r[2], r[3][-2000:]))
                        failed = True
                with open(out, "rb") as f:
                    outputs[name] = f.read()
                results[name] = (b, q, os.path.getsize(copy + ".db"))
                os.unlink(copy + ".db")
            found = outputs["posthorn"].count(b"\n")
            if "postfix" in outputs and outputs["postfix"] != outputs["posthorn"]:
                print("! %s: Posthorn's and Postfix's query answers differ" % kind)
                failed = True
            for i, label in ((0, "build %d lines" % lines), (1, "%d queries (%d found)" % (queries, found))):
                ph = results["posthorn"][i]
                pf = results.get("postfix", (None, None, None))[i]
                rows.append(("%s: %s" % (kind, label), ph[0], pf[0] if pf else None,
                             ph[1], pf[1] if pf else None))
            ph_size = results["posthorn"][2] / 1e6
            pf_size = results["postfix"][2] / 1e6 if "postfix" in results else None
            rows.append(("%s: .db size (MB)" % kind, None, None, ph_size, pf_size))

        if not TIME:
            print("/usr/bin/time not found (sh mk/deps.sh bench): no memory figures")
        print()
        head = "%-36s %10s %10s %7s %10s %10s %7s" % (
            "test", "Posthorn s", "Postfix s", "ratio", "Posthorn MB", "Postfix MB", "ratio")
        print(head)
        print("-" * len(head))
        for label, ph_t, pf_t, ph_m, pf_m in rows:
            print("%-36s %10s %10s %7s %10s %10s %7s" % (
                label, fmt(ph_t, "%.2f"), fmt(pf_t, "%.2f"), ratio(ph_t, pf_t),
                fmt(ph_m, "%.1f"), fmt(pf_m, "%.1f"), ratio(ph_m, pf_m)))
        print("\nseconds: wall time; MB: peak RSS of the postmap process (time -f %M),"
              " except the .db size rows; ratio = Posthorn/Postfix, lower is better")
        return 1 if failed else 0
    finally:
        if os.environ.get("BENCH_KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
