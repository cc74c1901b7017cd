"""test_submission.py - the master.cf submission and smtps services.

One instance with two extra services in master.cf, each an smtpd with the
-o overrides of the commented examples in conf/master.cf (SUBMISSION and
SMTPS below; test_examples_match_conf_master_cf checks they are the same):

  submission  STARTTLS required (smtpd_tls_security_level=encrypt), AUTH
              only over TLS, client and relay restrictions
              permit_sasl_authenticated,reject
  smtps       smtpd_tls_wrappermode=yes: TLS from the first byte

main.cf has a self-signed certificate, smtpd_tls_security_level = may
and a Cyrus SASL application file with auxprop/sasldb holding
demo@posthorn.test / demo (made with saslpasswd2).  Clients connect from
127.0.0.2, outside mynetworks (127.0.0.1/32).  Python's smtplib
(starttls + login, SMTP_SSL) and swaks --tls --auth must both work, as
the issue asks.
"""

import os
import re
import smtplib
import subprocess

import pytest

from posthorn_instance import REPO, free_port
from test_seed_config import (Client, OUTSIDE, USER, PASSWORD, assert_nothing_for,
                              assert_relayed, make_sasldb, tls_context, tls_main,
                              write_sasl_app_file)

# The -o overrides of conf/master.cf's commented examples.
SUBMISSION = [
    "-o syslog_name=posthorn/submission",
    "-o smtpd_tls_security_level=encrypt",
    "-o smtpd_sasl_auth_enable=yes",
    "-o smtpd_tls_auth_only=yes",
    "-o smtpd_client_restrictions=permit_sasl_authenticated,reject",
    "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
]
SMTPS = [
    "-o syslog_name=posthorn/submissions",
    "-o smtpd_tls_wrappermode=yes",
    "-o smtpd_sasl_auth_enable=yes",
    "-o smtpd_client_restrictions=permit_sasl_authenticated,reject",
    "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
]

MESSAGE = ("From: demo@posthorn.test\r\nTo: friend@outside.example\r\n"
           "Subject: %s\r\n\r\nsent through the submission service\r\n")


def service(port, overrides):
    return ["127.0.0.1:%d inet n - n - - smtpd" % port] + ["  " + o for o in overrides]


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    sub_port, smtps_port = free_port(), free_port()
    while smtps_port == sub_port:
        smtps_port = free_port()
    inst = module_instance_factory(start=False,
                                   master=service(sub_port, SUBMISSION) + service(smtps_port, SMTPS))
    inst.main_overrides.update(tls_main(inst))
    inst.write_config()
    sasl_dir = os.path.join(inst.etc, "sasl2")
    os.makedirs(sasl_dir, exist_ok=True)
    db = make_sasldb(os.path.join(sasl_dir, "sasldb2"), owner=inst.mail_owner)
    write_sasl_app_file(sasl_dir, ["pwcheck_method: auxprop", "auxprop_plugin: sasldb",
                                   "sasldb_path: " + db, "mech_list: plain login"])
    inst.start()
    inst.sub_port, inst.smtps_port = sub_port, smtps_port
    inst.cafile = inst.main_overrides["smtpd_tls_cert_file"]
    return inst


@pytest.fixture
def sub(inst):
    c = Client(inst.sub_port, inst.cafile)
    assert c.greeting[0] == 220, c.greeting
    yield c
    c.close()


def test_examples_match_conf_master_cf():
    """SUBMISSION and SMTPS are conf/master.cf's commented examples."""
    path = os.path.join(REPO, "conf", "master.cf")
    if not os.path.exists(path):
        pytest.skip("conf/master.cf is not part of this copy of the tests")
    with open(path) as f:
        text = f.read()
    for head, overrides in (("#submission inet", SUBMISSION), ("#submissions ", SMTPS)):
        block = text[text.index("\n" + head) + 1:].split("\n")[1:]
        got = []
        for line in block:
            if not line.startswith("#  -o "):
                break
            got.append(line[len("#  "):])
        assert got == overrides, (head, got)


def test_ehlo_before_starttls_offers_no_auth(sub):
    code, lines = sub.ehlo()
    assert code == 250, lines
    assert "STARTTLS" in lines, lines
    assert not [ln for ln in lines if ln.startswith(("AUTH", "AUTH="))], lines


def test_commands_before_starttls_get_530(sub):
    assert sub.ehlo()[0] == 250
    code, text = sub.cmd("MAIL FROM:<%s>" % USER)
    assert code == 530 and text.startswith("5.7.0"), (code, text)
    code, text = sub.cmd("AUTH PLAIN AGRlbW9AcG9zdGhvcm4udGVzdABkZW1v")
    assert code == 530 and text.startswith("5.7.0"), (code, text)
    assert sub.cmd("NOOP")[0] == 250
    # after STARTTLS, AUTH is offered
    sub.starttls()
    code, lines = sub.ehlo()
    assert code == 250 and "STARTTLS" not in lines, lines
    auth = [ln for ln in lines if ln.startswith("AUTH ")]
    assert auth and sorted(auth[0].split()[1:]) == ["LOGIN", "PLAIN"], lines


def test_smtplib_starttls_login_relays(inst):
    rcpt = "friend-smtplib@outside.example"
    with smtplib.SMTP("127.0.0.1", inst.sub_port, local_hostname="client.example",
                      timeout=20, source_address=(OUTSIDE, 0)) as s:
        s.ehlo()
        assert not s.has_extn("auth")
        s.starttls(context=tls_context(inst.cafile))
        s.ehlo()
        assert s.has_extn("auth")
        code, _ = s.login(USER, PASSWORD)
        assert code == 235
        refused = s.sendmail(USER, [rcpt, "alice@posthorn.test"], MESSAGE % "smtplib")
        assert refused == {}
        code, text = s.noop()
        assert code == 250
    m = inst.wait_for_log(r"posthorn/submission/smtpd\[\d+\]: ([0-9A-F]+): client=\S+"
                          r"\[127\.0\.0\.2\], sasl_method=PLAIN, sasl_username=%s$"
                          % re.escape(USER))
    assert m, inst.log_tail()
    qid = re.findall(r"posthorn/submission/smtpd\[\d+\]: ([0-9A-F]+): client=", inst.log())[-1]
    assert_relayed(inst, qid, rcpt)
    msg = inst.wait_for_message("smtplib", user="alice")
    assert msg, inst.log_tail()
    received = msg.partition(b"\n\n")[0]
    assert b"with ESMTPSA id " + qid.encode() in received, received
    assert b"TLSv1" in received, received


def test_swaks_tls_auth(inst):
    rcpt = "friend-swaks@outside.example"
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % inst.sub_port,
                        "--local-interface", OUTSIDE, "--helo", "client.example",
                        "--tls", "--auth", "PLAIN", "--auth-user", USER,
                        "--auth-password", PASSWORD, "--from", USER, "--to", rcpt,
                        "--timeout", "20"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out
    assert "235 2.7.0" in out, out
    m = re.search(r"<~  250 2\.0\.0 Ok: queued as ([0-9A-F]+)", out)
    assert m, out
    assert_relayed(inst, m.group(1), rcpt)


def test_relay_without_auth_refused(inst, sub):
    rcpt = "victim-noauth@outside.example"
    assert sub.ehlo()[0] == 250
    sub.starttls()
    assert sub.ehlo()[0] == 250
    replies = sub.mail_transaction([rcpt, "alice@posthorn.test"], sender="x@example.net")
    assert replies[0][0] == 250, replies
    # smtpd_client_restrictions=permit_sasl_authenticated,reject (delayed to RCPT)
    assert [r[0] for r in replies[1:]] == [554, 554], replies
    assert all(r[1].startswith("5.7.1") for r in replies[1:]), replies
    assert_nothing_for(inst, rcpt)


def test_wrong_password_on_submission(inst, sub):
    assert sub.ehlo()[0] == 250
    sub.starttls()
    assert sub.ehlo()[0] == 250
    code, text = sub.auth_plain(password="not-the-password")
    assert code == 535, (code, text)
    replies = sub.mail_transaction(["victim-badpw@outside.example"])
    assert replies[1][0] == 554, replies
    assert "not-the-password" not in inst.log()


def test_smtps_wrappermode(inst):
    rcpt = "friend-smtps@outside.example"
    with smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, local_hostname="client.example",
                          timeout=20, source_address=(OUTSIDE, 0),
                          context=tls_context(inst.cafile)) as s:
        assert s.sock.version().startswith("TLSv1")
        s.ehlo()
        assert not s.has_extn("starttls")
        code, _ = s.login(USER, PASSWORD)
        assert code == 235
        assert s.sendmail(USER, [rcpt], MESSAGE % "smtps") == {}
    assert inst.wait_for_log(r"posthorn/submissions/smtpd\[\d+\]: [0-9A-F]+: client=.*"
                             r"sasl_username=%s$" % re.escape(USER)), inst.log_tail()
    qid = re.findall(r"posthorn/submissions/smtpd\[\d+\]: ([0-9A-F]+): client=", inst.log())[-1]
    assert_relayed(inst, qid, rcpt)


def test_smtps_without_auth_refused(inst):
    c = Client(inst.smtps_port, inst.cafile, wrap=True)
    try:
        assert c.greeting[0] == 220, c.greeting
        assert c.ehlo()[0] == 250
        replies = c.mail_transaction(["victim-smtps@outside.example"], sender="x@example.net")
        assert replies[1][0] == 554, replies
    finally:
        c.close()
    assert_nothing_for(inst, "victim-smtps@outside.example")
