"""test_ldap_tables.py - ldap: tables against a real OpenLDAP server.

A private slapd (ldap_helpers.py, with ldap:// and ldaps:// listeners)
holds a small mail directory under dc=example,dc=test: ou=domains
(virtual domains with mailActive, relay domains with mailTransport;
anonymous clients may read them), ou=users (inetOrgPerson entries with
mail, mailbox, mailActive and uid) and ou=aliases (mailForwardingAddress
lists, groups with member DNs and a labeledURI).  Everything but
ou=domains is read by a reader that binds with a password.  Posthorn
takes its virtual domains, mailboxes and aliases, its relay domains and
transports and smtpd_sender_login_maps from it, with ldap_table(5)
files whose server_host starts with a dead server (failover).

Checked: postmap -q answers, found and not, with a key's * ( ) \\
escaped (it matches itself only); special_result_attribute with DNs and
URLs, leaf and terminal attributes, recursion, expansion and size
limits, a search base with the key in it; mail to a mailbox and to an
alias is delivered, an unknown or inactive user is refused (5xx); with
slapd stopped, RCPT gets 4xx and queued mail is deferred, never bounced,
and when slapd is back both go through (the tables reconnect; a process
whose connection slapd closed retries the lookup at once); a wrong
bind password, a bad filter, a missing search base or a server that
does not answer within timeout fail the lookup
(postmap -q: "query error", exit 1) and bad configuration files are
refused; ldaps:// and STARTTLS with the server's certificate checked;
relay_domains, transport_maps and smtpd_sender_login_maps from LDAP;
IMAP, POP3 and SMTP AUTH logins with the users' userPassword values
(smtpd_sasl_password_maps: {SSHA} as slappasswd makes it, {CRYPT} with a
SHA-512 crypt hash), a wrong password refused, slapd stopped: the login
fails for now ("NO [UNAVAILABLE]", 454), not as a wrong password.
"""

import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

import pytest

import ldap_helpers
from imap_helpers import imap_instance, wait_imap
from ldap_helpers import READER_DN, READER_PW, SUFFIX
from posthorn_instance import free_port, wait_until

USERS = "ou=users," + SUFFIX

DIRECTORY = """\
dn: ou=db.test,ou=domains,{suffix}
objectClass: organizationalUnit
objectClass: domainRelatedObject
objectClass: posthornMailObject
ou: db.test
associatedDomain: db.test
mailActive: TRUE

dn: ou=gone.test,ou=domains,{suffix}
objectClass: organizationalUnit
objectClass: domainRelatedObject
objectClass: posthornMailObject
ou: gone.test
associatedDomain: gone.test
mailActive: FALSE

dn: ou=relay.test,ou=domains,{suffix}
objectClass: organizationalUnit
objectClass: domainRelatedObject
objectClass: posthornMailObject
ou: relay.test
associatedDomain: relay.test
mailTransport: local:

dn: uid=ann,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: ann
cn: Ann
sn: Example
mail: ann@db.test
mailbox: db.test/ann/
mailActive: TRUE

dn: uid=ben,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: ben
cn: Ben
sn: Example
mail: ben@db.test
mailbox: db.test/ben/
mailActive: TRUE

dn: uid=old,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: old
cn: Old
sn: Example
mail: old@db.test
mailbox: db.test/old/
mailActive: FALSE

dn: uid=odd,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: odd
cn: Odd
sn: Example
mail: x(y)*z\\@db.test
mailbox: db.test/odd/
mailActive: TRUE

dn: uid=demo@posthorn.test,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: demo@posthorn.test
cn: Demo
sn: Example
mail: owned@db.test

dn: cn=sales,ou=aliases,{suffix}
objectClass: organizationalRole
objectClass: posthornMailObject
cn: sales
mail: sales@db.test
mailForwardingAddress: ann@db.test
mailForwardingAddress: ben@db.test
mailActive: TRUE

dn: cn=team,ou=aliases,{suffix}
objectClass: groupOfNames
objectClass: labeledURIObject
objectClass: posthornMailObject
cn: team
mail: team@db.test
member: uid=ann,{users}
member: cn=nobody,{users}
labeledURI: ldap:///{users}?mail?one?(uid=ben)

dn: cn=frozen,ou=aliases,{suffix}
objectClass: groupOfNames
objectClass: posthornMailObject
cn: frozen
mail: frozen@db.test
member: uid=ann,{users}
mailForwardingAddress: archive@db.test

dn: cn=loop,ou=aliases,{suffix}
objectClass: groupOfNames
objectClass: posthornMailObject
cn: loop
mail: loop@db.test
member: cn=loop,ou=aliases,{suffix}
""".format(suffix=SUFFIX, users=USERS)

ACTIVE = "(&(mail=%s)(mailActive=TRUE))"
DOMAINS = "ou=domains," + SUFFIX
TABLES = {
    "domains": dict(search_base=DOMAINS, bind="no", result_attribute="associatedDomain",
                    query_filter="(&(associatedDomain=%s)(mailActive=TRUE))"),
    "mailboxes": dict(search_base=USERS, query_filter=ACTIVE, result_attribute="mailbox"),
    "aliases": dict(search_base="ou=aliases," + SUFFIX, query_filter=ACTIVE,
                    result_attribute="mailForwardingAddress", domain="db.test"),
    "relays": dict(search_base=DOMAINS, bind="no", result_attribute="associatedDomain",
                   query_filter="(&(associatedDomain=%s)(mailTransport=*))"),
    "transport": dict(search_base=DOMAINS, bind="no", result_attribute="mailTransport",
                      query_filter="(&(associatedDomain=%s)(mailTransport=*))"),
    "owners": dict(search_base=USERS, query_filter="(mail=%s)", result_attribute="uid"),
}


@pytest.fixture(scope="module")
def ldap():
    if not ldap_helpers.available():
        pytest.skip("slapd (Debian's slapd, ldap-utils) is not installed")
    server = ldap_helpers.LdapServer(tempfile.mkdtemp(prefix="ldap-", dir="/tmp"), tls=True)
    try:
        server.start()
        server.add_base()
        server.ldapadd(DIRECTORY)
        yield server
    finally:
        server.cleanup()


def write_cf(inst, name, ldap, **settings):
    """An ldap_table(5) file in the instance's etc: the reader's bind, the
    server after a dead one, and SETTINGS; returns "ldap:PATH"."""
    path = os.path.join(inst.etc, "ldap-%s.cf" % name)
    lines = {"server_host": "ldap://127.0.0.1:%d 127.0.0.1:%d" % (free_port(), ldap.port),
             "search_base": SUFFIX, "timeout": "5", "version": "3",
             "bind_dn": READER_DN, "bind_pw": READER_PW}
    lines.update(settings)
    with open(path, "w") as f:
        f.write("# ldap_table(5)\n")
        for k, v in lines.items():
            f.write("%s = %s\n" % (k, v))
    return "ldap:" + path


def ldap_instance(make_instance, ldap, qmgr=True):
    inst = make_instance(qmgr=qmgr, start=False)
    maps = {name: write_cf(inst, name, ldap, **s) for name, s in TABLES.items()}
    inst.main_overrides.update({
        "virtual_mailbox_domains": "virt.test, " + maps["domains"],
        "virtual_mailbox_maps": "inline:{ demo@virt.test=virt.test/demo/ }, "
                                + maps["mailboxes"],
        "virtual_alias_maps": maps["aliases"],
        "relay_domains": maps["relays"],
        "transport_maps": maps["transport"],
    })
    inst.write_config()
    inst.start()
    return inst, maps


def postmap_q(inst, key, table):
    return inst.run([inst.bin("postmap"), "-c", inst.etc, "-q", key, table])


def found(inst, key, table):
    r = postmap_q(inst, key, table)
    assert r.returncode in (0, 1) and "query error" not in r.stderr, (key, r.stderr)
    return r.stdout.rstrip("\n") if r.returncode == 0 else None


def query_error(inst, key, table, why):
    """The lookup fails (as Postfix's postmap: fatal, exit 1) saying WHY."""
    r = postmap_q(inst, key, table)
    assert r.returncode == 1 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert "fatal: table %s: query error" % table in r.stderr, r.stderr
    assert why in r.stderr, r.stderr


def rcpt_code(inst, rcpt):
    with inst.smtp() as s:
        s.ehlo()
        s.mail("sender@example.com")
        code, text = s.rcpt(rcpt)
        s.rset()
        return code, text


def maildir(inst, user):
    return os.path.join(inst.mail, "virtual", "db.test", user, "new")


def test_postmap_queries(make_instance, ldap):
    inst = make_instance(start=False)
    maps = {name: write_cf(inst, name, ldap, **s) for name, s in TABLES.items()}
    assert found(inst, "ann@db.test", maps["mailboxes"]) == "db.test/ann/"
    assert found(inst, "ANN@DB.TEST", maps["mailboxes"]) == "db.test/ann/"
    assert found(inst, "nobody@db.test", maps["mailboxes"]) is None
    assert found(inst, "old@db.test", maps["mailboxes"]) is None	# inactive
    assert found(inst, "sales@db.test", maps["aliases"]) == "ann@db.test,ben@db.test"
    assert found(inst, "sales@other.test", maps["aliases"]) is None	# domain list
    assert found(inst, "db.test", maps["domains"]) == "db.test"	# bind = no
    assert found(inst, "gone.test", maps["domains"]) is None
    assert found(inst, "relay.test", maps["transport"]) == "local:"
    assert found(inst, "owned@db.test", maps["owners"]) == "demo@posthorn.test"


def test_key_is_escaped(make_instance, ldap):
    inst = make_instance(start=False)
    table = write_cf(inst, "mailboxes", ldap, **TABLES["mailboxes"])
    assert found(inst, "x(y)*z\\@db.test", table) == "db.test/odd/"	# itself
    for key in ("*", "*@db.test", "a*", "ann@db.test)(mail=*", "*)(mailActive=TRUE",
                "x(y)*z\\\\@db.test", "x(y)?z\\@db.test", "\\2a"):
        assert found(inst, key, table) is None, key
    # the key in the search base: RFC 4514 escapes, a missing base is "not found"
    by_uid = write_cf(inst, "byuid", ldap, search_base="uid=%u," + USERS, scope="base",
                      query_filter=ACTIVE, result_attribute="mailbox")
    assert found(inst, "ben@db.test", by_uid) == "db.test/ben/"
    for key in ("nobody@db.test", "ben,ou=users@db.test", "ann+cn=Ann@db.test"):
        assert found(inst, key, by_uid) is None, key


def test_special_leaf_terminal(make_instance, ldap):
    inst = make_instance(start=False)
    groups = dict(search_base="ou=aliases," + SUFFIX, query_filter="(mail=%s)")
    plain = write_cf(inst, "plain", ldap, result_attribute="mail",
                     special_result_attribute="member, labeledURI", **groups)
    # the group's own mail, its member DN (a missing one skipped) and its URL
    assert found(inst, "team@db.test", plain) == "team@db.test,ann@db.test,ben@db.test"
    leaf = write_cf(inst, "leaf", ldap, result_attribute="", leaf_result_attribute="mail",
                    special_result_attribute="member labeledURI", **groups)
    assert found(inst, "team@db.test", leaf) == "ann@db.test,ben@db.test"
    assert found(inst, "sales@db.test", leaf) == "sales@db.test"	# no members
    terminal = write_cf(inst, "terminal", ldap, result_attribute="mail",
                        terminal_result_attribute="mailForwardingAddress",
                        special_result_attribute="member", result_format="<%s>", **groups)
    assert found(inst, "frozen@db.test", terminal) == "<archive@db.test>"
    assert found(inst, "team@db.test", terminal) == "<team@db.test>,<ann@db.test>"
    query_error(inst, "loop@db.test", write_cf(inst, "loop", ldap, result_attribute="mail",
                special_result_attribute="member", recursion_limit="5", **groups),
                "recursion limit exceeded for special attribute member=cn=loop")
    query_error(inst, "sales@db.test", write_cf(inst, "expand", ldap, expansion_limit="1",
                result_attribute="mailForwardingAddress", **groups),
                "Expansion limit exceeded for key 'sales@db.test'")
    query_error(inst, "x@db.test", write_cf(inst, "size", ldap, search_base=USERS,
                query_filter="(&(mail=*@%d)(uid=*))", result_attribute="uid",
                size_limit="1"), "Size limit exceeded")


def test_mail_to_mailboxes_and_aliases(make_instance, ldap):
    inst, _maps = ldap_instance(make_instance, ldap)
    assert inst.send("ann@db.test", b"Subject: to ann\r\n\r\nhi\r\n")[0] == 250
    assert inst.send("sales@db.test", b"Subject: to sales\r\n\r\nhi\r\n")[0] == 250
    assert len(inst.wait_for_maildir(None, 2, path=maildir(inst, "ann"))) == 2, inst.log_tail()
    assert len(inst.wait_for_maildir(None, 1, path=maildir(inst, "ben"))) == 1, inst.log_tail()
    assert rcpt_code(inst, "nobody@db.test")[0] == 550
    assert rcpt_code(inst, "old@db.test")[0] == 550
    assert re.search(r"warning: dict_ldap: .*cannot connect to ldap://127\.0\.0\.1:\d+: ",
                     inst.log()), inst.log_tail()		# the dead first server


def test_server_down_defers_then_recovers(make_instance, ldap):
    inst, _maps = ldap_instance(make_instance, ldap, qmgr=False)
    # queued while the directory answers, delivered after it went away
    assert inst.send("ben@db.test", b"Subject: queued\r\n\r\nwait\r\n")[0] == 250
    ldap.stop()
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
        ldap.start()
    # back: new mail is taken, the deferred message goes out
    assert wait_until(lambda: rcpt_code(inst, "ann@db.test")[0] == 250, 20, 0.5)
    inst.posthorn("flush")
    assert len(inst.wait_for_maildir(None, 1, path=maildir(inst, "ben"), timeout=30)) == 1, \
        inst.log_tail()
    assert "status=bounced" not in inst.log()


def test_reconnect_after_restart(make_instance, ldap):
    """One process (postmap -q -: keys from stdin) keeps its connection;
    after a slapd restart the next lookup finds it closed and is retried
    at once on a new one: found, no error."""
    inst = make_instance(start=False)
    table = write_cf(inst, "mailboxes", ldap, **TABLES["mailboxes"])
    answered = ldap.log().count("SEARCH RESULT")
    p = subprocess.Popen([inst.bin("postmap"), "-c", inst.etc, "-q", "-", table],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=inst.env())
    try:
        p.stdin.write(b"ann@db.test\n")
        p.stdin.flush()
        assert wait_until(lambda: ldap.log().count("SEARCH RESULT") > answered, 20), \
            ldap.log_tail()
        ldap.stop()
        ldap.start()
        out, err = p.communicate(b"ben@db.test\n", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out, err = out.decode(), err.decode()
    assert p.returncode == 0 and "db.test/ann/" in out and "db.test/ben/" in out, (out, err)
    assert "failed (connection lost)" in err and "query error" not in err, err


def test_hung_server_times_out(make_instance, ldap):
    """A server that accepts connections but does not answer (stopped with
    SIGSTOP): the bind, or without a bind the search, gives up after
    timeout seconds and the lookup fails; it does not hang."""
    inst = make_instance(start=False)
    one = dict(TABLES["mailboxes"], server_host=ldap.url, timeout="1")
    tables = [(write_cf(inst, "hung-bind", ldap, **one), "cannot bind to"),
              (write_cf(inst, "hung-search", ldap, **dict(one, bind="no")),
               "failed (connection lost): Timed out")]
    ldap.proc.send_signal(signal.SIGSTOP)
    try:
        for table, why in tables:
            start = time.monotonic()
            query_error(inst, "ann@db.test", table, why)
            assert time.monotonic() - start < 10
    finally:
        ldap.proc.send_signal(signal.SIGCONT)


def test_refusals_fail_the_lookup(make_instance, ldap):
    inst = make_instance(start=False)
    one = ldap.url
    mailboxes = dict(TABLES["mailboxes"], server_host=one)
    query_error(inst, "ann@db.test", write_cf(inst, "badpw", ldap, **dict(mailboxes,
                bind_pw="wrong")), "cannot bind to %s: Invalid credentials" % one)
    query_error(inst, "ann@db.test", write_cf(inst, "badfilter", ldap, **dict(mailboxes,
                query_filter="(&(mail=%s)(mailActive=TRUE)")), "Bad search filter")
    query_error(inst, "ann@db.test", write_cf(inst, "nobase", ldap, **dict(mailboxes,
                search_base="ou=nosuch," + SUFFIX)), "No such object")
    dead = "ldap://127.0.0.1:%d" % free_port()
    query_error(inst, "ann@db.test", write_cf(inst, "dead", ldap, **dict(mailboxes,
                server_host=dead)), "cannot connect to %s" % dead)
    # configuration errors: the table fails, the program goes on
    for settings, why in ((dict(scope="sideways"), "bad scope: sideways"),
                          (dict(bind="sasl"), "bind = sasl is not supported"),
                          (dict(timeout="soon"), "bad timeout: soon"),
                          (dict(version="4"), "bad version: 4"),
                          (dict(query_filter="(mail=%x)"), "invalid query template"),
                          (dict(search_base="uid=%z," + USERS), "invalid search_base"),
                          (dict(result_attribute="mail)"), "bad result_attribute: mail)"),
                          (dict(server_host="ldap://[bad"), "bad server_host: ldap://[bad")):
        table = write_cf(inst, "bad", ldap, **dict(mailboxes, **settings))
        r = postmap_q(inst, "ann@db.test", table)
        assert r.returncode == 1 and "fatal: table %s: cannot open" % table in r.stderr, \
            r.stderr
        assert why in r.stderr, r.stderr


def test_ldaps_and_starttls(make_instance, ldap):
    inst = make_instance(start=False)
    other_ca, _key = ldap_helpers.make_cert(inst.etc, "other")
    checked = dict(TABLES["mailboxes"], tls_require_cert="yes",
                   tls_ca_cert_file=ldap.cert_file)
    ldaps = write_cf(inst, "ldaps", ldap, **dict(checked, server_host=ldap.ldaps_url))
    assert found(inst, "ann@db.test", ldaps) == "db.test/ann/"
    starttls = write_cf(inst, "starttls", ldap, **dict(checked, server_host=ldap.url,
                                                          start_tls="yes"))
    assert found(inst, "ann@db.test", starttls) == "db.test/ann/"
    assert re.search(r"EXT oid=1\.3\.6\.1\.4\.1\.1466\.20037", ldap.log())
    for name, host, extra in (("ldaps-bad", ldap.ldaps_url, {}),
                              ("starttls-bad", ldap.url, {"start_tls": "yes"})):
        table = write_cf(inst, name, ldap, **dict(checked, server_host=host,
                                                  tls_ca_cert_file=other_ca, **extra))
        query_error(inst, "ann@db.test", table, "cannot ")


def test_relay_domains_and_transport(make_instance, ldap):
    from test_sasl import Client
    inst, maps = ldap_instance(make_instance, ldap)
    assert found(inst, "relay.test", maps["relays"]) == "relay.test"
    assert found(inst, "db.test", maps["relays"]) is None
    c = Client(inst.port)					# from outside mynetworks
    c.ehlo()
    assert c.cmd("MAIL FROM:<sender@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<alice@relay.test>")[0] == 250
    code, text = c.cmd("RCPT TO:<someone@elsewhere.test>")
    assert code // 100 in (4, 5) and "Relay access denied" in text, (code, text)
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: relayed\r\n\r\nvia ldap transport\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    c.close()
    assert len(inst.wait_for_maildir("alice", 1)) == 1, inst.log_tail()
    assert re.search(r"to=<alice@relay\.test>, relay=local", inst.log()), inst.log_tail()


def test_sender_login_maps(make_instance, ldap):
    import base64
    from test_sasl import Client, sasl_instance
    inst = sasl_instance(make_instance, start=False, main={
        "smtpd_delay_reject": "no",
        "smtpd_sender_restrictions": "reject_sender_login_mismatch"})
    inst.main_overrides["smtpd_sender_login_maps"] = write_cf(inst, "owners", ldap,
                                                              **TABLES["owners"])
    inst.write_config()
    inst.start()
    c = Client(inst.port)
    c.ehlo()
    token = base64.b64encode(b"\0demo@posthorn.test\0demo").decode()
    assert c.cmd("AUTH PLAIN " + token)[0] == 235
    assert c.cmd("MAIL FROM:<owned@db.test>")[0] == 250
    assert c.cmd("RSET")[0] == 250
    code, text = c.cmd("MAIL FROM:<ann@db.test>")
    assert code == 553 and "not owned by user demo@posthorn.test" in text, (code, text)
    c.close()


LOGIN_USERS = """\
dn: uid=pat,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: pat
cn: Pat
sn: Example
mail: pat@db.test
mailbox: db.test/pat/
mailActive: TRUE
userPassword: {pat}

dn: uid=quin,{users}
objectClass: inetOrgPerson
objectClass: posthornMailObject
uid: quin
cn: Quin
sn: Example
mail: quin@db.test
mailbox: db.test/quin/
mailActive: TRUE
userPassword: {quin}
"""


def hashed(argv):
    return subprocess.check_output(argv, text=True).strip()


def test_logins_from_ldap(make_instance, ldap):
    """userPassword as directories store it: slappasswd's {SSHA}, and
    {CRYPT} with a SHA-512 crypt hash (from Dovecot's doveadm, when there)"""
    crypt = ("{CRYPT}" + hashed(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", "quin pw"])
             .split("}", 1)[1]) if shutil.which("doveadm") else \
        hashed(["slappasswd", "-h", "{CRYPT}", "-c", "$6$%.16s", "-s", "quin pw"])
    ldap.ldapadd(LOGIN_USERS.format(users=USERS, quin=crypt,
                                    pat=hashed(["slappasswd", "-s", "pat pw"])))
    inst = imap_instance(make_instance, start=False)
    maps = {name: write_cf(inst, name, ldap, **s) for name, s in TABLES.items()}
    passwords = write_cf(inst, "passwords", ldap, search_base=USERS, query_filter=ACTIVE,
                         result_attribute="userPassword")
    assert found(inst, "pat@db.test", passwords).startswith("{SSHA}")
    inst.main_overrides.update({
        "virtual_mailbox_domains": maps["domains"],
        "virtual_mailbox_maps": maps["mailboxes"],
        "smtpd_sasl_password_maps": passwords,
    })
    inst.write_config()
    inst.start()
    wait_imap(inst)
    assert inst.send("pat@db.test", b"Subject: for pat\r\n\r\nhi\r\n")[0] == 250
    assert len(inst.wait_for_maildir(None, 1, path=maildir(inst, "pat"))) == 1, inst.log_tail()
    c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
    assert c.login("pat@db.test", "pat pw")[0] == "OK"
    assert c.select("INBOX") == ("OK", [b"1"])
    c.logout()
    p = poplib.POP3("127.0.0.1", inst.pop3_port, timeout=30)
    p.user("quin@db.test")
    assert p.pass_("quin pw").startswith(b"+OK")
    p.quit()
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=30) as s:
        s.ehlo()
        s.login("quin@db.test", "quin pw")
    c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login("pat@db.test", "quin pw")
    c.logout()
    ldap.stop()
    try:
        c = imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=30)
        with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
            c.login("pat@db.test", "pat pw")
        c.logout()
        with smtplib.SMTP("127.0.0.1", inst.port, timeout=30) as s:
            s.ehlo()
            with pytest.raises(smtplib.SMTPAuthenticationError) as e:
                s.login("quin@db.test", "quin pw")
            assert e.value.smtp_code == 454, e.value
    finally:
        ldap.start()
    assert wait_until(lambda: _login_works(inst, "pat@db.test", "pat pw"), 20, 0.5), \
        inst.log_tail()


def _login_works(inst, user, password):
    try:
        imaplib.IMAP4("127.0.0.1", inst.imap_port, timeout=10).login(user, password)
        return True
    except (imaplib.IMAP4.error, OSError):
        return False
