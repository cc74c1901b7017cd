"""bench_proxymap.py - table lookups per second from PostgreSQL, directly
and through proxymap, Posthorn against Postfix on the same database.

Usage: python3 test/bench/bench_proxymap.py BUILD_DIR   (via
bench_proxymap.sh, i.e. "make bench"; needs root for Postfix's side).

A private PostgreSQL server (test/integration/pgsql_helpers.py) holds a
table of BENCH_PG_ROWS (default 10,000) addresses; BENCH_PG_QUERIES
(default 20,000) keys, nine in ten present, in random order, are looked
up by each side's postmap -q - (one process, keys on stdin) with the same
pgsql_table(5) file:
  pgsql:FILE         postmap's own connection
  proxy:pgsql:FILE   through the running instance's proxymap
(Posthorn: a private instance; Postfix: a private instance with Debian's
postfix-pgsql).  Both sides must print the same answers, else the row is
marked failed.  Prints lookups per second and the Posthorn/Postfix ratio
(higher is better).
"""

import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import pgsql_helpers  # noqa: E402
from posthorn_instance import IS_ROOT, PosthornInstance  # noqa: E402

PF_POSTMAP = "/usr/sbin/postmap"
ROWS = int(os.environ.get("BENCH_PG_ROWS", "10000"))
QUERIES = int(os.environ.get("BENCH_PG_QUERIES", "20000"))
QUERY = "SELECT goto FROM alias WHERE address = '%s'"


def make_db(base):
    db = pgsql_helpers.PgServer(os.path.join(base, "pg"))
    db.start()
    db.create_db("mail")
    db.sql("CREATE TABLE alias (address varchar(255) PRIMARY KEY, goto text NOT NULL);"
           "INSERT INTO alias SELECT 'user' || i || '@example.com', "
           "'target' || i || '@dest.example.net' FROM generate_series(1, %d) i;" % ROWS,
           db="mail")
    db.create_reader("mailreader", "secret", "mail", ["alias"])
    return db


def write_cf(path, db):
    with open(path, "w") as f:
        f.write("hosts = 127.0.0.1:%d\nuser = mailreader\npassword = secret\n"
                "dbname = mail\nquery = %s\n" % (db.port, QUERY))
    os.chmod(path, 0o644)
    return path


def make_keys(path):
    rnd = random.Random(7)
    with open(path, "w") as f:
        for _ in range(QUERIES):
            i = rnd.randint(1, ROWS)
            f.write("user%d@example.com\n" % (i if rnd.random() < 0.9 else ROWS + i))
    return path


def run_postmap(argv, keys):
    """(seconds, output) of ARGV with KEYS on stdin."""
    with open(keys) as f:
        t0 = time.monotonic()
        r = subprocess.run(argv, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=600)
        secs = time.monotonic() - t0
    if r.returncode not in (0, 1):
        raise RuntimeError("%s: %s" % (" ".join(argv[:3]), r.stderr[-500:]))
    return secs, r.stdout


def posthorn_side(base, build, db, keys, results):
    os.environ["POSTHORN_BUILD"] = build
    inst = PosthornInstance(os.path.join(base, "posthorn"))
    cf = write_cf(os.path.join(inst.etc, "pgsql-alias.cf"), db)
    inst.main_overrides["proxy_read_maps"] = "proxy:unix:passwd.byname proxy:pgsql:" + cf
    inst.write_config()
    inst.start()
    try:
        postmap = [inst.bin("postmap"), "-c", inst.etc, "-q", "-"]
        for label, table in (("pgsql", "pgsql:" + cf), ("proxy", "proxy:pgsql:" + cf)):
            results[("posthorn", label)] = run_postmap(postmap + [table], keys)
    finally:
        inst.stop()


def postfix_side(base, db, keys, results):
    from postfix_helpers import PostfixInstance
    pf = PostfixInstance("bench@bench.test", os.getuid())
    cf = write_cf(os.path.join(pf.etc, "pgsql-alias.cf"), db)
    pf.postconf("-e", "proxy_read_maps = proxy:unix:passwd.byname proxy:pgsql:" + cf)
    pf.start()
    try:
        postmap = [PF_POSTMAP, "-c", pf.etc, "-q", "-"]
        for label, table in (("pgsql", "pgsql:" + cf), ("proxy", "proxy:pgsql:" + cf)):
            results[("postfix", label)] = run_postmap(postmap + [table], keys)
    finally:
        pf.stop()


def main():
    if len(sys.argv) < 2:
        print("usage: bench_proxymap.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    if not pgsql_helpers.available():
        print("bench: PostgreSQL not installed: proxymap benchmark skipped")
        return 0
    base = tempfile.mkdtemp(prefix="bench-pg-", dir="/tmp")
    os.chmod(base, 0o755)
    results = {}
    db = make_db(base)
    try:
        keys = make_keys(os.path.join(base, "keys"))
        print("bench: %d lookups of %d PostgreSQL rows with postmap -q -, direct and "
              "through proxymap" % (QUERIES, ROWS), flush=True)
        posthorn_side(base, build, db, keys, results)
        if IS_ROOT and os.access(PF_POSTMAP, os.X_OK):
            postfix_side(base, db, keys, results)
    finally:
        db.cleanup()
        if not os.environ.get("BENCH_KEEP"):
            subprocess.run(["rm", "-rf", base])
    print()
    print("%-26s | %12s | %12s | %6s" % ("lookups/s", "posthorn", "postfix", "ratio"))
    print("-" * 64)
    for label, name in (("pgsql", "pgsql:FILE (direct)"), ("proxy", "proxy:pgsql:FILE")):
        ph, pf = results.get(("posthorn", label)), results.get(("postfix", label))
        same = ph and pf and ph[1] == pf[1]
        cells = [("%.0f" % (QUERIES / r[0])) if r else "-" for r in (ph, pf)]
        ratio = "%.2f" % (pf[0] / ph[0]) if ph and pf else "-"
        print("%-26s | %12s | %12s | %6s%s" % (name, cells[0], cells[1], ratio,
                                              "" if same or not pf else " !"))
    print("(ratio: Posthorn/Postfix lookups per second, higher is better; '!' marks answers "
          "that differ)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
