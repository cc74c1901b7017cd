"""test_proxymap.py - proxy: tables share proxymap's database connections.

Against a private PostgreSQL server (pgsql_helpers.py, the schema of
test_sql_tables.py): 200 SMTP sessions, 40 at a time, spread over many
smtpd processes (process_client_soft_limit 4), each look up recipients
in virtual domain and mailbox tables; the database's client connections
are counted meanwhile.  Through proxy:pgsql: they stay at
proxymap's one connection per table, fewer than the same load makes
with the tables opened by every process.  A proxy: table that
proxy_read_maps does not list is refused (the lookup fails: 4xx, and
proxymap logs "request for unapproved table"); postmap -q works through
proxymap too; mail through proxied tables is delivered.
"""

import os
import smtplib
import threading
import time

import pytest

import pgsql_helpers
from posthorn_instance import wait_until
from test_sql_tables import QUERIES, mail_database, write_cf

pytestmark = pytest.mark.skipif(not pgsql_helpers.available(),
                                reason="PostgreSQL is not installed (Debian package postgresql)")

SESSIONS = 200
PARALLEL = 40


@pytest.fixture(scope="module")
def db():
    yield from mail_database("pgsql")


def instance(make_instance, db, proxy):
    inst = make_instance(start=False)
    maps = {name: write_cf(inst, name, db, q, hosts="127.0.0.1:%d" % db.port)
            for name, q in QUERIES.items()}
    if proxy:
        maps = {name: "proxy:" + table for name, table in maps.items()}
    inst.main_overrides.update({
        "virtual_mailbox_domains": maps["domains"],
        "virtual_mailbox_maps": maps["mailboxes"],
        "virtual_alias_maps": maps["aliases"],
    })
    lines = inst.master_lines()			# smtpd sessions spread over many
    lines[0] += " -o process_client_soft_limit=4"	# processes, as Postfix's would
    inst.master_lines = lambda: lines
    inst.write_config()
    inst.start()
    return inst, maps


def one_session(inst, results):
    try:
        with smtplib.SMTP("127.0.0.1", inst.port, timeout=60) as s:
            s.ehlo()
            s.mail("sender@example.com")
            codes = [s.rcpt(r)[0] for r in ("ann@db.test", "ben@db.test", "nobody@db.test")]
            s.rset()
        results.append(tuple(codes))
    except (OSError, smtplib.SMTPException) as e:
        results.append(("error", str(e)))


def load(inst, db):
    """SESSIONS sessions, PARALLEL at a time; (peak connections, results)."""
    results = []
    peak = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            peak[0] = max(peak[0], db.connections("mail"))
            time.sleep(0.05)
    counter = threading.Thread(target=count)
    counter.start()
    try:
        for start in range(0, SESSIONS, PARALLEL):
            threads = [threading.Thread(target=one_session, args=(inst, results))
                       for _ in range(PARALLEL)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
        time.sleep(0.3)
    finally:
        stop.set()
        counter.join()
    return peak[0], results


def test_sessions_share_the_connections(make_instance, db):
    inst, _ = instance(make_instance, db, proxy=True)
    proxied, results = load(inst, db)
    assert results.count((250, 250, 550)) == SESSIONS, results[:5]
    assert 1 <= proxied <= len(QUERIES), proxied	# one per proxied table at most
    assert wait_until(lambda: inst.wait_for_child("proxymap", 1), 5)
    inst.stop()
    assert wait_until(lambda: db.connections("mail") == 0, 20)
    direct_inst, _ = instance(make_instance, db, proxy=False)
    direct, results = load(direct_inst, db)
    assert results.count((250, 250, 550)) == SESSIONS, results[:5]
    print("database connections: proxied %d, direct %d" % (proxied, direct))
    assert direct >= 2 * proxied, (direct, proxied)


def test_mail_and_postmap_through_proxymap(make_instance, db):
    inst, maps = instance(make_instance, db, proxy=True)
    assert inst.send("sales@db.test", b"Subject: via proxy\r\n\r\nhi\r\n")[0] == 250
    for user in ("ann", "ben"):
        path = os.path.join(inst.mail, "virtual", "db.test", user, "new")
        assert len(inst.wait_for_maildir(None, 1, path=path)) == 1, inst.log_tail()
    r = inst.run([inst.bin("postmap"), "-c", inst.etc, "-q", "ann@db.test", maps["mailboxes"]])
    assert (r.returncode, r.stdout) == (0, "db.test/ann/\n"), r.stderr


def test_unapproved_table_is_refused(make_instance, db):
    inst = make_instance(start=False)
    other = write_cf(inst, "other", db, QUERIES["mailboxes"], hosts="127.0.0.1:%d" % db.port)
    inst.main_overrides.update({
        "virtual_mailbox_domains": "db.test",
        "virtual_mailbox_maps": "proxy:" + other,
        "proxy_read_maps": "proxy:unix:passwd.byname",	# not this one
    })
    inst.write_config()
    inst.start()
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        code, _ = s.rcpt("ann@db.test")
    assert code // 100 == 4, code
    assert inst.wait_for_log(r"proxymap\[\d+\]: warning: request for unapproved table: "
                             r"\"%s\"" % other.replace(".", r"\.")), inst.log_tail()
