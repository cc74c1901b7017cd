"""test_sql_maps.py - relay_domains, transport_maps and smtpd_sender_login_maps
from pgsql: and mysql: tables, Postfixadmin-shaped.

test_sql_tables.py covers virtual domains, mailboxes and aliases from a
database; this covers the other maps that Postfixadmin set-ups take from
it, against the same private PostgreSQL and MariaDB servers (its
mail_database() and write_cf()), with a database "maps" of their own:
a domain table with Postfixadmin's backupmx and transport columns, and
mailbox and alias tables (each mailbox has its alias to itself, as
Postfixadmin makes them).  The *_table(5) files' hosts list starts with a
dead server (failover), as in test_sql_tables.py.

  relay_domains   Postfixadmin's backup-MX query; postmap -q answers it,
                  a client outside mynetworks (127.0.0.2) may relay to a
                  listed domain (and its subdomains: relay_domains is in
                  parent_domain_matches_subdomains), the mail goes out by
                  relay_transport to a test receiver; an unlisted,
                  inactive or non-backup-MX domain gets "454 4.7.1 <rcpt>:
                  Relay access denied" from the default
                  smtpd_relay_restrictions (defer_unauth_destination) and
                  "554 5.7.1 ..." from an smtpd with reject_unauth_destination
  transport_maps  SELECT transport FROM domain: postmap -q answers it (an
                  empty column is "not found", as Postfix), mail for the
                  domain is delivered by that smtp:[127.0.0.1]:PORT
  smtpd_sender_login_maps  Postfixadmin's mailbox UNION alias query, with
                  reject_sender_login_mismatch on a submission service with
                  SASL AUTH (test_sasl.py's demo@posthorn.test / demo): the
                  user may send as his mailbox and as an alias that goes to
                  him, and gets "553 5.7.1 <addr>: Sender address rejected:
                  not owned by user demo@posthorn.test" for another user's
                  address or an inactive alias

With the database server stopped mid-test, each of them fails the
lookup, never answers "not found": the relay check and the sender login
check give RCPT "451 4.3.0 <addr>: Temporary lookup failure" (for a
listed domain or sender as for an unlisted one), never 5xx; mail in the
queue for a relay domain or a routed domain is deferred by qmgr (dsn
4.3.0), never bounced nor sent by the default transport; postmap -q
fails ("fatal: table ...: query error", exit 1).  When the server is
back, the same checks pass and the deferred mail goes out.
"""

import re
import uuid

import pytest

from posthorn_instance import wait_until, free_port
from test_sasl import Client, plain, sasl_instance
from test_smtp_client import Receiver, SMTP_MASTER
from test_sql_tables import SERVERS, mail_database, postmap_q, write_cf

MAPS_SCHEMA = """
CREATE TABLE domain (domain varchar(255) PRIMARY KEY, transport varchar(255),
                     backupmx boolean NOT NULL, active boolean NOT NULL);
CREATE TABLE mailbox (username varchar(255) PRIMARY KEY, domain varchar(255) NOT NULL,
                      active boolean NOT NULL);
CREATE TABLE alias (address varchar(255) PRIMARY KEY, goto text NOT NULL,
                    domain varchar(255) NOT NULL, active boolean NOT NULL);
INSERT INTO domain VALUES ('relay.test', NULL, true, true),
                          ('offline.test', NULL, true, false),
                          ('primary.test', NULL, false, true),
                          ('routed.test', 'smtp:[127.0.0.1]:2', false, true),
                          ('blank.test', '', false, true),
                          ('oldroute.test', 'smtp:[127.0.0.1]:2', false, false);
INSERT INTO mailbox VALUES ('demo@posthorn.test', 'posthorn.test', true),
                           ('alice@posthorn.test', 'posthorn.test', true),
                           ('ghost@posthorn.test', 'posthorn.test', false);
INSERT INTO alias VALUES ('demo@posthorn.test', 'demo@posthorn.test', 'posthorn.test', true),
                         ('alice@posthorn.test', 'alice@posthorn.test', 'posthorn.test', true),
                         ('ghost@posthorn.test', 'ghost@posthorn.test', 'posthorn.test', false),
                         ('info@posthorn.test', 'demo@posthorn.test,alice@posthorn.test',
                          'posthorn.test', true),
                         ('sales@posthorn.test', 'alice@posthorn.test', 'posthorn.test', true),
                         ('old-info@posthorn.test', 'demo@posthorn.test', 'posthorn.test',
                          false);
"""

# The queries of Postfixadmin set-ups (its backup-MX relay_domains, the
# domain table's transport column, mailboxes and aliases as sender owners)
MAPS_QUERIES = {
    "relay": "SELECT domain FROM domain WHERE domain = '%s' AND backupmx = '1' "
             "AND active = '1'",
    "transport": "SELECT transport FROM domain WHERE domain = '%s' AND active = '1'",
    "login": "SELECT username FROM mailbox WHERE username = '%s' AND active = '1' "
             "UNION SELECT goto FROM alias WHERE address = '%s' AND active = '1'",
}
READER, READER_PASSWORD = "mapsreader", "maps-secret"

LOGIN = "demo@posthorn.test"
NOT_OWNED = "5.7.1 <%s>: Sender address rejected: not owned by user " + LOGIN
TEMP_FAIL = "4.3.0 <%s>: Temporary lookup failure"

# A submission service as Postfixadmin set-ups have it (without TLS:
# test_submission.py covers that), with the sender login check.
SUBMISSION = [
    "-o syslog_name=posthorn/submission",
    "-o smtpd_sasl_auth_enable=yes",
    "-o smtpd_client_restrictions=permit_sasl_authenticated,reject",
    "-o smtpd_sender_restrictions=reject_sender_login_mismatch",
    "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
]
# An smtpd whose relay check refuses (5xx) rather than defers
STRICT = ["-o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination"]


@pytest.fixture(scope="module", params=sorted(SERVERS))
def db(request):
    """test_sql_tables.py's server, with the "maps" database and its reader."""
    servers = mail_database(request.param)
    server = next(servers)
    try:
        server.create_db("maps")
        server.sql(MAPS_SCHEMA, db="maps")
        server.create_reader(READER, READER_PASSWORD, "maps", ["domain", "mailbox", "alias"])
        yield server
    finally:
        servers.close()


@pytest.fixture
def receivers():
    made = []

    def make(**kw):
        r = Receiver(**kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def maps_cf(inst, db, name):
    """The *_table(5) file of map NAME (MAPS_QUERIES) in the maps database."""
    return write_cf(inst, "maps-" + name, db, MAPS_QUERIES[name], user=READER,
                    password=READER_PASSWORD, dbname="maps")


def service(port, overrides):
    return ["127.0.0.1:%d inet n - n - - smtpd" % port] + ["  " + o for o in overrides]


def route_to(db, domain, port):
    """DOMAIN's transport column: smtp:[127.0.0.1]:PORT."""
    db.sql("UPDATE domain SET transport = 'smtp:[127.0.0.1]:%d' WHERE domain = '%s'"
           % (port, domain), db="maps")


def message(token, sender="sender@example.com"):
    return ("From: %s\r\nTo: someone\r\nSubject: %s\r\n\r\nbody %s\r\n"
            % (sender, token, token)).encode()


def transaction(c, sender, rcpt, data=None):
    """MAIL, RCPT and, with DATA, the message: the last reply."""
    reply = c.cmd("MAIL FROM:<%s>" % sender)
    if reply[0] == 250:
        reply = c.cmd("RCPT TO:<%s>" % rcpt)
    if reply[0] == 250 and data is not None:
        reply = c.cmd("DATA")
        assert reply[0] == 354, reply
        c.send(data + b".\r\n")
        reply = c.reply()
    if reply[0] != 250 or data is None:
        c.cmd("RSET")
    return reply


def rcpt_reply(port, rcpt, sender="sender@example.com"):
    """The RCPT reply to a client outside mynetworks, in a new session."""
    c = Client(port)
    try:
        c.ehlo()
        return transaction(c, sender, rcpt)
    finally:
        c.close()


def rx_rcpts(rx):
    return [r for t in rx.transactions for r in t["rcpts"]]


def assert_never_bounced(inst):
    log = inst.log()
    assert "status=bounced" not in log, inst.log_tail()
    assert "sender non-delivery notification" not in log, inst.log_tail()


# ---------------------------------------------------------------- postmap -q


def test_postmap_queries(make_instance, db):
    inst = make_instance(start=False)
    route_to(db, "routed.test", 2)
    relay, transport, login = (maps_cf(inst, db, n) for n in ("relay", "transport", "login"))

    def q(key, table):
        r = postmap_q(inst, key, table)
        return r.returncode, r.stdout, r.stderr

    assert q("relay.test", relay)[:2] == (0, "relay.test\n"), q("relay.test", relay)
    assert q("RELAY.TEST", relay)[:2] == (0, "relay.test\n")  # keys are folded
    for key in ("offline.test", "primary.test", "other.test", "x' OR '1'='1"):
        assert q(key, relay)[:2] == (1, ""), (key, q(key, relay))

    assert q("routed.test", transport)[:2] == (0, "smtp:[127.0.0.1]:2\n"), \
        q("routed.test", transport)
    for key in ("relay.test",  # NULL transport
                "oldroute.test",  # inactive
                "someone@routed.test", "nosuch.test"):
        assert q(key, transport)[:2] == (1, ""), (key, q(key, transport))
    code, out, err = q("blank.test", transport)  # '' is no answer, as Postfix
    assert (code, out) == (1, ""), (code, out, err)
    assert "empty lookup result" in err, err

    assert q(LOGIN, login)[:2] == (0, LOGIN + "\n"), q(LOGIN, login)  # UNION: once
    code, out, err = q("info@posthorn.test", login)
    assert code == 0 and sorted(out.strip().split(",")) == \
        ["alice@posthorn.test", LOGIN], (code, out, err)
    assert q("sales@posthorn.test", login)[:2] == (0, "alice@posthorn.test\n")
    for key in ("ghost@posthorn.test", "old-info@posthorn.test", "stranger@example.com",
                "demo", "@posthorn.test", "x' OR '1'='1"):
        assert q(key, login)[:2] == (1, ""), (key, q(key, login))


# ------------------------------------------------------------- relay_domains


def relay_instance(make_instance, db, rx, qmgr=True):
    """relay_domains from the database, relayed mail to RX; a second smtpd
    with reject_unauth_destination on inst.strict_port."""
    strict_port = free_port()
    inst = make_instance(qmgr=qmgr, start=False,
                         master=SMTP_MASTER + service(strict_port, STRICT))
    inst.strict_port = strict_port
    inst.main_overrides.update({
        "relay_domains": maps_cf(inst, db, "relay"),
        # a backup MX hands the mail to the primary; here: to RX
        "relay_transport": "relay:[127.0.0.1]:%d" % rx.port,
    })
    inst.write_config()
    inst.start()
    return inst


def test_relay_domains(make_instance, db, receivers):
    rx = receivers()
    inst = relay_instance(make_instance, db, rx)
    token = uuid.uuid4().hex
    c = Client(inst.port)  # 127.0.0.2: not in mynetworks
    c.ehlo()
    reply = transaction(c, "sender@example.com", "user@relay.test", message(token))
    assert reply[0] == 250, reply
    assert transaction(c, "sender@example.com", "user@sub.relay.test")[0] == 250
    for domain in ("other.test", "offline.test", "primary.test"):
        rcpt = "user@" + domain
        assert transaction(c, "sender@example.com", rcpt) == \
            (454, "4.7.1 <%s>: Relay access denied" % rcpt), rcpt
    c.close()
    for domain in ("other.test", "offline.test", "primary.test"):
        rcpt = "user@" + domain
        assert rcpt_reply(inst.strict_port, rcpt) == \
            (554, "5.7.1 <%s>: Relay access denied" % rcpt), rcpt
    assert rcpt_reply(inst.strict_port, "user@relay.test")[0] == 250

    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert rx_rcpts(rx) == ["TO:<user@relay.test>"]
    assert token.encode() in rx.transactions[0]["data"]
    assert inst.wait_for_log(r"to=<user@relay\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, "
                             r".*status=sent" % rx.port, 10), inst.log_tail()
    assert "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 454 4.7.1 <user@other.test>: " \
           "Relay access denied" in inst.log(), inst.log_tail()


def test_relay_domains_server_down(make_instance, db, receivers):
    rx = receivers()
    inst = relay_instance(make_instance, db, rx, qmgr=False)
    token = uuid.uuid4().hex
    c = Client(inst.port)  # queued while the database answers
    c.ehlo()
    assert transaction(c, "sender@example.com", "user@relay.test", message(token))[0] == 250
    c.close()
    db.stop()
    try:
        # a relay domain, or not: nobody can tell; 4xx, never 5xx
        for port in (inst.port, inst.strict_port):
            for rcpt in ("user@relay.test", "user@other.test"):
                assert rcpt_reply(port, rcpt) == (451, TEMP_FAIL % rcpt), (port, rcpt)
        inst.stop()
        inst.with_qmgr = True
        inst.write_config()
        inst.start()
        assert inst.wait_for_log(r"to=<user@relay\.test>, relay=none, .*dsn=4\.3\.0, "
                                 r"status=deferred \(table lookup failure for domain "
                                 r"\"relay\.test\"\)", timeout=20), inst.log_tail()
        assert wait_until(lambda: inst.queue_files("deferred"), 10), inst.log_tail()
        assert not rx.transactions
        assert_never_bounced(inst)
    finally:
        db.start()
    # back: relaying is allowed again, the deferred message goes out
    assert wait_until(lambda: rcpt_reply(inst.port, "user@relay.test")[0] == 250, 20, 0.5), \
        inst.log_tail()
    assert rcpt_reply(inst.strict_port, "user@other.test")[0] == 554
    inst.posthorn("flush")
    assert wait_until(lambda: rx.transactions, 30), inst.log_tail()
    assert rx_rcpts(rx) == ["TO:<user@relay.test>"]
    assert token.encode() in rx.transactions[0]["data"]
    assert wait_until(lambda: inst.queue_empty(), 10), inst.log_tail()
    assert_never_bounced(inst)


# ------------------------------------------------------------ transport_maps


def transport_instance(make_instance, db):
    inst = make_instance(start=False, master=SMTP_MASTER)
    inst.main_overrides["transport_maps"] = maps_cf(inst, db, "transport")
    inst.write_config()
    inst.start()
    return inst


def send_routed(inst, token):
    """One message to someone@routed.test from mynetworks; the queue id."""
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        code, text = s.rcpt("someone@routed.test")
        assert code == 250, text
        code, text = s.data(message(token))
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def test_transport_maps(make_instance, db, receivers):
    rx = receivers()
    route_to(db, "routed.test", rx.port)
    inst = transport_instance(make_instance, db)
    table = inst.main_overrides["transport_maps"]
    r = postmap_q(inst, "routed.test", table)
    assert (r.returncode, r.stdout) == (0, "smtp:[127.0.0.1]:%d\n" % rx.port), r.stderr
    token = uuid.uuid4().hex
    qid = send_routed(inst, token)
    assert wait_until(lambda: rx.transactions, 20), inst.log_tail()
    assert rx_rcpts(rx) == ["TO:<someone@routed.test>"]
    assert token.encode() in rx.transactions[0]["data"]
    assert inst.wait_for_log(r"%s: to=<someone@routed\.test>, relay=127\.0\.0\.1"
                             r"\[127\.0\.0\.1\]:%d, .*status=sent" % (qid, rx.port), 10), \
        inst.log_tail()


def test_transport_maps_server_down(make_instance, db, receivers):
    rx = receivers()
    route_to(db, "routed.test", rx.port)
    inst = transport_instance(make_instance, db)
    token = uuid.uuid4().hex
    db.stop()
    try:
        table = inst.main_overrides["transport_maps"]
        r = postmap_q(inst, "routed.test", table)  # as Postfix: fatal, exit 1
        assert (r.returncode, r.stdout) == (1, ""), (r.returncode, r.stdout, r.stderr)
        assert "fatal: table %s: query error" % table in r.stderr, r.stderr
        qid = send_routed(inst, token)  # smtpd needs no transport
        assert inst.wait_for_log(r"%s: to=<someone@routed\.test>, relay=none, .*dsn=4\.3\.0, "
                                 r"status=deferred \(transport_maps lookup failure for "
                                 r"<someone@routed\.test>\)" % qid, 20), inst.log_tail()
        assert wait_until(lambda: inst.queue_files("deferred"), 10), inst.log_tail()
        assert not rx.transactions  # not the default transport either
        assert_never_bounced(inst)
    finally:
        db.start()
    inst.posthorn("flush")
    assert wait_until(lambda: rx.transactions, 30), inst.log_tail()
    assert rx_rcpts(rx) == ["TO:<someone@routed.test>"]
    assert token.encode() in rx.transactions[0]["data"]
    assert inst.wait_for_log(r"%s: to=<someone@routed\.test>, relay=127\.0\.0\.1"
                             r"\[127\.0\.0\.1\]:%d, .*status=sent" % (qid, rx.port), 10), \
        inst.log_tail()
    assert_never_bounced(inst)


# --------------------------------------------------- smtpd_sender_login_maps


def login_instance(make_instance, db):
    """test_sasl.py's SASL set-up, the login map from the database, and a
    submission service with reject_sender_login_mismatch on inst.sub_port."""
    sub_port = free_port()
    inst = sasl_instance(make_instance, start=False, master=service(sub_port, SUBMISSION))
    inst.sub_port = sub_port
    inst.main_overrides["smtpd_sender_login_maps"] = maps_cf(inst, db, "login")
    inst.write_config()
    inst.start()
    return inst


def submission(inst):
    c = Client(inst.sub_port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain(LOGIN))[0] == 235
    return c


def test_sender_login_maps(make_instance, db):
    inst = login_instance(make_instance, db)
    c = submission(inst)
    token = uuid.uuid4().hex
    for sender in (LOGIN, "info@posthorn.test"):  # his mailbox; an alias to him
        reply = transaction(c, sender, "bob@posthorn.test", message(token, sender))
        assert reply[0] == 250, (sender, reply)
    assert transaction(c, "DEMO@POSTHORN.TEST", "bob@posthorn.test")[0] == 250
    for sender in ("alice@posthorn.test",  # another user's mailbox
                   "sales@posthorn.test",  # an alias to another user
                   "old-info@posthorn.test",  # inactive alias to him
                   "ghost@posthorn.test",  # inactive mailbox
                   "stranger@example.com"):  # nobody's
        assert transaction(c, sender, "bob@posthorn.test") == (553, NOT_OWNED % sender), \
            sender
    c.close()
    assert len(inst.wait_for_maildir("bob", 2)) == 2, inst.log_tail()
    assert [m for m in inst.maildir_messages("bob") if token.encode() in m]
    assert re.search(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 553 5\.7\.1 "
                     r"<alice@posthorn\.test>: Sender address rejected: not owned by user "
                     r"demo@posthorn\.test", inst.log()), inst.log_tail()


def test_sender_login_maps_server_down(make_instance, db):
    inst = login_instance(make_instance, db)
    db.stop()
    try:
        c = submission(inst)
        for sender in (LOGIN, "alice@posthorn.test"):  # ours or not: nobody can tell
            assert transaction(c, sender, "bob@posthorn.test",
                               message("down", sender)) == (451, TEMP_FAIL % sender), sender
        c.close()
    finally:
        db.start()

    def works():
        c = submission(inst)
        try:
            return transaction(c, LOGIN, "bob@posthorn.test")[0] == 250
        finally:
            c.close()
    assert wait_until(works, 20, 0.5), inst.log_tail()
    c = submission(inst)
    assert transaction(c, "alice@posthorn.test", "bob@posthorn.test") == \
        (553, NOT_OWNED % "alice@posthorn.test")
    assert transaction(c, "info@posthorn.test", "bob@posthorn.test",
                       message("back", "info@posthorn.test"))[0] == 250
    c.close()
    assert len(inst.wait_for_maildir("bob", 1)) == 1, inst.log_tail()
    assert not inst.queue_files("deferred")
