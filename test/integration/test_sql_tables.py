"""test_sql_tables.py - pgsql: and mysql: tables against real servers.

Each test runs against a private PostgreSQL (pgsql_helpers.py) and a
private MariaDB (mysql_helpers.py) server holding a Postfixadmin-shaped
schema: domain, mailbox and alias tables, read by a login with a
password over TCP.  Posthorn takes its virtual domains, mailboxes and
aliases from it, with *_table(5) files whose hosts list starts with a
dead server (failover).  Checked: postmap -q answers, found and not,
with quoting (no SQL injection); mail to a mailbox and to an alias is
delivered, an unknown or inactive user in a database domain is refused
(5xx), an inactive domain is not ours; with the server stopped, RCPT gets 4xx and mail already queued is
deferred, never bounced; when the server is back both go through (the
tables reconnect by themselves); a bad password or a query the server
refuses fail the lookup (postmap -q: a fatal "query error", exit 1, as
Postfix's), and bad configuration files are refused.
"""

import os
import re
import tempfile

import pytest

import mysql_helpers
import pgsql_helpers
from posthorn_instance import free_port, wait_until

SERVERS = {"pgsql": pgsql_helpers, "mysql": mysql_helpers}

SCHEMA = """
CREATE TABLE domain (domain varchar(255) PRIMARY KEY, active boolean NOT NULL);
CREATE TABLE mailbox (username varchar(255) PRIMARY KEY, maildir varchar(255) NOT NULL,
                      domain varchar(255) NOT NULL, active boolean NOT NULL);
CREATE TABLE alias (address varchar(255) PRIMARY KEY, goto text NOT NULL,
                    domain varchar(255) NOT NULL, active boolean NOT NULL);
INSERT INTO domain VALUES ('db.test', true), ('gone.test', false);
INSERT INTO mailbox VALUES ('ann@db.test', 'db.test/ann/', 'db.test', true),
                           ('ben@db.test', 'db.test/ben/', 'db.test', true),
                           ('old@db.test', 'db.test/old/', 'db.test', false);
INSERT INTO alias VALUES ('sales@db.test', 'ann@db.test,ben@db.test', 'db.test', true),
                         ('o''brien@db.test', 'ann@db.test', 'db.test', true);
"""

QUERIES = {
    "domains": "SELECT domain FROM domain WHERE domain = '%s' AND active = '1'",
    "mailboxes": "SELECT maildir FROM mailbox WHERE username = '%s' AND active = '1'",
    "aliases": "SELECT goto FROM alias WHERE address = '%s' AND active = '1'",
}


def mail_database(kind):
    """A started private KIND server with the schema and the reader login
    (a generator for module fixtures: yields it, removes it after)."""
    helpers = SERVERS[kind]
    if not helpers.available():
        pytest.skip("%s server is not installed" % kind)
    cls = helpers.PgServer if kind == "pgsql" else helpers.MariaServer
    server = cls(tempfile.mkdtemp(prefix="db-", dir="/tmp"))
    try:
        server.start()
        server.create_db("mail")
        server.sql(SCHEMA, db="mail")
        server.create_reader("mailreader", "secret", "mail", ["domain", "mailbox", "alias"])
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module", params=sorted(SERVERS))
def db(request):
    yield from mail_database(request.param)


def write_cf(inst, name, db, query, **extra):
    path = os.path.join(inst.etc, "%s-%s.cf" % (db.kind, name))
    lines = {"hosts": "inet:127.0.0.1:%d 127.0.0.1:%d" % (free_port(), db.port),
             "user": "mailreader", "password": "secret", "dbname": "mail",
             "connect_timeout": "2", "query": query}
    lines.update(extra)
    with open(path, "w") as f:
        f.write("# %s_table(5)\n" % db.kind)
        for k, v in lines.items():
            f.write("%s = %s\n" % (k, v))
    return "%s:%s" % (db.kind, path)


def db_instance(make_instance, db, qmgr=True):
    inst = make_instance(qmgr=qmgr, start=False)
    maps = {name: write_cf(inst, name, db, q) for name, q in QUERIES.items()}
    inst.main_overrides.update({
        "virtual_mailbox_domains": "virt.test, " + maps["domains"],
        "virtual_mailbox_maps": "inline:{ demo@virt.test=virt.test/demo/ }, " + maps["mailboxes"],
        "virtual_alias_maps": maps["aliases"],
    })
    inst.write_config()
    inst.start()
    return inst, maps


def postmap_q(inst, key, table):
    return inst.run([inst.bin("postmap"), "-c", inst.etc, "-q", key, table])


def rcpt_code(inst, rcpt):
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        code, text = s.rcpt(rcpt)
        s.rset()
        return code, text


def maildir(inst, user):
    return os.path.join(inst.mail, "virtual", "db.test", user, "new")


def test_postmap_queries(make_instance, db):
    inst, maps = db_instance(make_instance, db)
    r = postmap_q(inst, "ann@db.test", maps["mailboxes"])
    assert (r.returncode, r.stdout) == (0, "db.test/ann/\n"), r.stderr
    r = postmap_q(inst, "ANN@DB.TEST", maps["mailboxes"])	# keys are folded
    assert r.stdout == "db.test/ann/\n", r.stderr
    r = postmap_q(inst, "nobody@db.test", maps["mailboxes"])
    assert r.returncode == 1 and r.stdout == ""
    r = postmap_q(inst, "old@db.test", maps["mailboxes"])	# inactive
    assert r.returncode == 1
    r = postmap_q(inst, "o'brien@db.test", maps["aliases"])	# quoted
    assert r.stdout == "ann@db.test\n", r.stderr
    r = postmap_q(inst, "x' OR '1'='1", maps["aliases"])	# no injection
    assert r.returncode == 1 and r.stdout == ""
    r = postmap_q(inst, "x\\' OR 1=1 -- ", maps["aliases"])	# nor with a backslash
    assert r.returncode == 1 and r.stdout == ""
    r = postmap_q(inst, "gone.test", maps["domains"])
    assert r.returncode == 1


def test_mail_to_mailboxes_and_aliases(make_instance, db):
    inst, _maps = db_instance(make_instance, db)
    assert inst.send("ann@db.test", b"Subject: to ann\r\n\r\nhi\r\n")[0] == 250
    assert inst.send("sales@db.test", b"Subject: to sales\r\n\r\nhi\r\n")[0] == 250
    assert len(inst.wait_for_maildir(None, 2, path=maildir(inst, "ann"))) == 2, inst.log_tail()
    assert len(inst.wait_for_maildir(None, 1, path=maildir(inst, "ben"))) == 1, inst.log_tail()
    assert rcpt_code(inst, "nobody@db.test")[0] == 550
    assert rcpt_code(inst, "old@db.test")[0] == 550
    assert re.search(r"warning: dict_%s: .*cannot connect to 127\.0\.0\.1" % db.kind,
                     inst.log()), inst.log_tail()		# the dead first host


def test_server_down_defers_then_recovers(make_instance, db):
    inst, _maps = db_instance(make_instance, db, qmgr=False)
    # queued while the database answers, delivered after it went away
    assert inst.send("ben@db.test", b"Subject: queued\r\n\r\nwait\r\n")[0] == 250
    db.stop()
    try:
        code, text = rcpt_code(inst, "ann@db.test")
        assert code // 100 == 4, (code, text)
        inst.stop()
        inst.with_qmgr = True
        inst.write_config()
        inst.start()
        assert inst.wait_for_log(r"to=<ben@db\.test>.*status=deferred", timeout=20), \
            inst.log_tail()
        assert "status=bounced" not in inst.log()
        assert wait_until(lambda: inst.queue_files("deferred"), 10), inst.log_tail()
    finally:
        db.start()
    # back: new mail is taken, the deferred message goes out
    assert wait_until(lambda: rcpt_code(inst, "ann@db.test")[0] == 250, 20, 0.5)
    inst.posthorn("flush")
    assert len(inst.wait_for_maildir(None, 1, path=maildir(inst, "ben"), timeout=30)) == 1, \
        inst.log_tail()
    assert "status=bounced" not in inst.log()


def test_refusals_fail_the_lookup(make_instance, db):
    inst = make_instance(start=False)
    one_host = "127.0.0.1:%d" % db.port
    bad_pw = write_cf(inst, "badpw", db, QUERIES["mailboxes"], password="wrong", hosts=one_host)
    bad_query = write_cf(inst, "badq", db, "SELECT nosuch FROM mailbox WHERE username = '%s'",
                         hosts=one_host)
    for table, why in ((bad_pw, db.auth_error), (bad_query, "query failed")):
        r = postmap_q(inst, "ann@db.test", table)		# as Postfix: fatal, exit 1
        assert r.returncode == 1 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
        assert why in r.stderr, r.stderr
        assert "fatal: table %s: query error" % table in r.stderr, r.stderr
    # configuration errors: the table fails, the program goes on
    no_db = write_cf(inst, "nodb", db, QUERIES["mailboxes"], dbname="")
    bad_tpl = write_cf(inst, "badtpl", db, "SELECT 1 WHERE '%x'")
    bad_num = write_cf(inst, "badnum", db, QUERIES["mailboxes"], retry_interval="soon")
    for table, why in ((no_db, "dbname is not set"), (bad_tpl, "invalid query template"),
                       (bad_num, "bad retry_interval: soon")):
        r = postmap_q(inst, "ann@db.test", table)
        assert r.returncode == 1 and "fatal: table %s: cannot open" % table in r.stderr, \
            r.stderr
        assert why in r.stderr, r.stderr
