"""test_seed_config.py - the admin guide's main.cf fragment works as it is.

Issue 4 quotes a main.cf fragment from a Postfix admin guide (relay for
mynetworks and SASL-authenticated clients, everything else only to our
own domains).  Each instance here gets that fragment appended VERBATIM
(SEED below: the continuation line and the mix of commas and spaces
included) to its main.cf, plus a self-signed certificate with
smtpd_tls_security_level = may, and one of the two Cyrus SASL set-ups the
issue names:

  saslauthd  the application file says "pwcheck_method: saslauthd"; a
             real saslauthd (-a sasldb) is started by the test, reading a
             sasldb made with saslpasswd2.  saslauthd's sasldb mechanism
             always opens /etc/sasldb2, so it runs in a private mount
             namespace (unshare -m as root, unshare -r -m otherwise) where
             the test's sasldb is bind-mounted over /etc/sasldb2; /etc
             itself is never written.
  auxprop    "pwcheck_method: auxprop" + "auxprop_plugin: sasldb": smtpd
             reads the sasldb itself.

Clients connect from 127.0.0.2 while mynetworks = 127.0.0.1/32, so they
count as outside.  The user is demo@posthorn.test, password "demo".

The helpers (Client, make_cert, make_sasldb, tls_context) are also used by
test_submission.py.
"""

import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from posthorn_instance import RawSMTP, IS_ROOT, wait_until

# The fragment from issue 4, verbatim.
SEED = """\
mydestination = $myhostname, localhost.$mydomain, $mydomain
smtpd_sasl_auth_enable = yes
smtpd_delay_reject = yes
smtpd_recipient_restrictions = permit_mynetworks permit_sasl_authenticated
 permit_auth_destination reject
smtpd_client_restrictions = permit_mynetworks, permit_sasl_authenticated
broken_sasl_auth_clients = yes
smtpd_sasl_security_options = noanonymous
smtpd_sasl_local_domain = $mydomain
"""

OUTSIDE = "127.0.0.2"
USER = "demo@posthorn.test"
PASSWORD = "demo"
SERVER_NAME = "mail.posthorn.test"
MESSAGE = (b"From: demo@posthorn.test\r\nTo: someone\r\nSubject: %s\r\n\r\n"
           b"hello from the seed configuration test\r\n")


# ------------------------------------------------------------------ helpers

def make_cert(directory):
    """A self-signed certificate for mail.posthorn.test in DIRECTORY:
    returns (cert_path, key_path); the key is mode 0600."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    old = os.umask(0o077)
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-days", "2", "-subj", "/CN=" + SERVER_NAME,
                        "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % SERVER_NAME,
                        "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        os.umask(old)
    os.chmod(cert, 0o644)
    return cert, key


def tls_context(cafile):
    """A client context that trusts only the test's own certificate."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


def make_sasldb(path, owner=None, users=((USER, PASSWORD),)):
    """A real sasldb made with saslpasswd2 (USER is name@realm)."""
    for user, password in users:
        name, realm = user.split("@", 1)
        subprocess.run(["saslpasswd2", "-p", "-f", path, "-c", "-u", realm, name],
                       input=password.encode(), check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if IS_ROOT and owner:
        shutil.chown(path, owner)
    os.chmod(path, 0o600)
    return path


def write_sasl_app_file(directory, lines):
    """The Cyrus SASL application file DIRECTORY/smtpd.conf."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    with open(os.path.join(directory, "smtpd.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(os.path.join(directory, "smtpd.conf"), 0o644)


def tls_main(inst):
    """main.cf settings for STARTTLS with a fresh certificate in etc/tls."""
    cert, key = make_cert(os.path.join(inst.etc, "tls"))
    return {"smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key,
            "smtpd_tls_security_level": "may",
            "cyrus_sasl_config_path": os.path.join(inst.etc, "sasl2")}


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain_response(user, password):
    return b64("\0%s\0%s" % (user, password))


class Client(RawSMTP):
    """A line-level SMTP client bound to SOURCE (default 127.0.0.2, which
    is outside mynetworks), with STARTTLS, smtps and AUTH helpers."""

    def __init__(self, port, cafile, source=OUTSIDE, wrap=False, timeout=15):
        self.ctx = tls_context(cafile)
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                        source_address=(source, 0))
        if wrap:
            sock = self.ctx.wrap_socket(sock, server_hostname=SERVER_NAME)
        self.sock = sock
        self.buf = b""
        self.greeting = self.reply()

    def ehlo(self, name="client.example"):
        """(code, [keyword lines]) of EHLO."""
        code, text = self.cmd("EHLO " + name)
        return code, text.split("\n")

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        assert code == 220, (code, text)
        assert self.buf == b"", "data after the 220 reply to STARTTLS: %r" % self.buf
        self.sock = self.ctx.wrap_socket(self.sock, server_hostname=SERVER_NAME)
        return self.sock.version()

    def auth_plain(self, user=USER, password=PASSWORD):
        return self.cmd("AUTH PLAIN " + plain_response(user, password))

    def auth_login(self, user=USER, password=PASSWORD):
        code, text = self.cmd("AUTH LOGIN")
        assert code == 334 and base64.b64decode(text) == b"Username:", (code, text)
        code, text = self.cmd(b64(user))
        assert code == 334 and base64.b64decode(text) == b"Password:", (code, text)
        return self.cmd(b64(password))

    def mail_transaction(self, rcpts, sender=USER, subject="test"):
        """MAIL, RCPT..., DATA; returns the list of replies (stops at the
        first refused RCPT when no recipient was accepted)."""
        replies = [self.cmd("MAIL FROM:<%s>" % sender)]
        ok = 0
        for r in rcpts:
            rep = self.cmd("RCPT TO:<%s>" % r)
            replies.append(rep)
            ok += rep[0] == 250
        if ok:
            replies.append(self.cmd("DATA"))
            if replies[-1][0] == 354:
                body = MESSAGE % subject.encode()
                self.send(body + b".\r\n")
                replies.append(self.reply())
        return replies


def queue_id(reply_text):
    m = re.search(r"queued as ([0-9A-F]+)", reply_text)
    assert m, reply_text
    return m.group(1)


def queued_files(inst, qid):
    return [p for q in ("incoming", "active", "deferred", "hold")
            for p in inst.queue_files(q) if os.path.basename(p) == qid]


def assert_relayed(inst, qid, rcpt):
    """QID was queued for RCPT, an outside address: qmgr tried it (there is
    no SMTP client yet, so the attempt is deferred) or it is still in the
    queue."""
    seen = inst.wait_for_log(r"%s: to=<%s>, .*status=(deferred|sent)"
                             % (qid, re.escape(rcpt)), timeout=15)
    assert seen or queued_files(inst, qid), \
        "%s for %s neither in the log nor in the queue\n%s" % (qid, rcpt, inst.log_tail())


def assert_nothing_for(inst, rcpt):
    """No message was queued for RCPT: no delivery attempt is logged (the
    "NOQUEUE: reject" line has "to=<RCPT>" too, but no queue id)."""
    time.sleep(0.3)
    assert not re.search(r"[0-9A-F]+: to=<%s>" % re.escape(rcpt), inst.log()), inst.log_tail()


# ------------------------------------------------------------- saslauthd

class Saslauthd:
    """A real saslauthd -a sasldb reading DB through a bind mount on
    /etc/sasldb2 inside a private mount namespace; socket in MUXDIR/mux."""

    def __init__(self, db, muxdir):
        self.muxdir = muxdir
        self.proc = None
        self.log = os.path.join(os.path.dirname(muxdir), "saslauthd.log")
        self.skip_reason = self._check()
        if self.skip_reason:
            return
        os.makedirs(muxdir, exist_ok=True)
        os.chmod(muxdir, 0o755)
        unshare = ["unshare", "-m", "--propagation", "private"]
        if not IS_ROOT:
            unshare.insert(1, "-r")
        script = ('mount --bind "$0" /etc/sasldb2 && '
                  'exec saslauthd -a sasldb -d -n 1 -m "$1"')
        with open(self.log, "wb") as log:
            # own session: on SIGTERM saslauthd signals its whole process group
            self.proc = subprocess.Popen(unshare + ["sh", "-c", script, db, muxdir],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        sock = os.path.join(muxdir, "mux")
        if not wait_until(lambda: os.path.exists(sock) or self.proc.poll() is not None, 10):
            self.stop()
            raise AssertionError("saslauthd did not start:\n" + self.log_text())
        if self.proc.poll() is not None:
            text = self.log_text()
            self.proc = None
            if "mount" in text or "unshare" in text:
                self.skip_reason = "no private mount namespace for saslauthd: " + text.strip()
                return
            raise AssertionError("saslauthd exited:\n" + text)

    @staticmethod
    def _check():
        for prog in ("saslauthd", "unshare", "mount"):
            if not shutil.which(prog) and not os.path.exists("/usr/sbin/" + prog):
                return "%s not installed" % prog
        if not os.path.isfile("/etc/sasldb2"):
            return ("/etc/sasldb2 does not exist: saslauthd -a sasldb reads only that "
                    "file and the test must not create files in /etc")
        return None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


# --------------------------------------------------------------- instances

def seed_instance(factory, method, extra=""):
    """An instance with TLS, the sasldb, the SASL application file for
    METHOD ("saslauthd" or "auxprop") and SEED appended verbatim to main.cf
    (then EXTRA, for variants); returns (inst, saslauthd or None)."""
    inst = factory(start=False)
    inst.main_overrides.update(tls_main(inst))
    inst.write_config()
    sasl_dir = os.path.join(inst.etc, "sasl2")
    os.makedirs(sasl_dir, exist_ok=True)
    db = make_sasldb(os.path.join(sasl_dir, "sasldb2"), owner=inst.mail_owner)
    daemon = None
    if method == "saslauthd":
        daemon = Saslauthd(db, os.path.join(inst.base, "saslauthd"))
        if daemon.skip_reason:
            pytest.skip(daemon.skip_reason)
        write_sasl_app_file(sasl_dir, ["pwcheck_method: saslauthd",
                                       "saslauthd_path: %s/mux" % daemon.muxdir,
                                       "mech_list: plain login"])
    else:
        write_sasl_app_file(sasl_dir, ["pwcheck_method: auxprop",
                                       "auxprop_plugin: sasldb",
                                       "sasldb_path: " + db,
                                       "mech_list: plain login"])
    with open(os.path.join(inst.etc, "main.cf"), "a") as f:
        f.write(SEED + extra)
    try:
        inst.start()
    except Exception:
        if daemon:
            daemon.stop()
        raise
    return inst, daemon


@pytest.fixture(scope="module", params=["saslauthd", "auxprop"])
def seed(request, module_instance_factory):
    inst, daemon = seed_instance(module_instance_factory, request.param)
    inst.sasl_method_under_test = request.param
    inst.saslauthd = daemon
    yield inst
    if daemon:
        daemon.stop()


@pytest.fixture
def client(seed):
    c = Client(seed.port, seed.main_overrides["smtpd_tls_cert_file"])
    assert c.greeting[0] == 220, c.greeting
    yield c
    c.close()


def cafile(inst):
    return inst.main_overrides["smtpd_tls_cert_file"]


# ------------------------------------------------------------------- tests

def test_main_cf_holds_the_fragment_verbatim(seed):
    with open(os.path.join(seed.etc, "main.cf")) as f:
        assert SEED in f.read()
    r = seed.postconf("smtpd_recipient_restrictions")
    assert r.returncode == 0, r.stderr
    assert "permit_auth_destination reject" in r.stdout, r.stdout


def test_ehlo_lists_auth_twice(client):
    """EHLO offers STARTTLS and AUTH in both forms (broken_sasl_auth_clients)
    with the mechanisms of mech_list, in the order Cyrus gives them (Cyrus
    2.1.28 keeps mech_list's order: "PLAIN LOGIN"; older ones gave the
    issue's "LOGIN PLAIN")."""
    code, lines = client.ehlo()
    assert code == 250, lines
    assert "STARTTLS" in lines, lines
    auth = [ln for ln in lines if ln.startswith("AUTH ")]
    broken = [ln for ln in lines if ln.startswith("AUTH=")]
    assert len(auth) == 1 and len(broken) == 1, lines
    mechs = auth[0][len("AUTH "):]
    assert sorted(mechs.split()) == ["LOGIN", "PLAIN"], lines
    assert broken[0] == "AUTH=" + mechs, lines


def test_relay_from_outside_refused(seed, client):
    """Without AUTH, a client outside mynetworks cannot relay: the default
    smtpd_relay_restrictions end in defer_unauth_destination (454 4.7.1)."""
    rcpt = "victim-%s@outside.example" % seed.sasl_method_under_test
    assert client.ehlo()[0] == 250
    replies = client.mail_transaction([rcpt], sender="spammer@example.net")
    assert replies[0][0] == 250, replies
    code, text = replies[1]
    assert code == 454, replies
    assert text.startswith("4.7.1 <%s>: Relay access denied" % rcpt), text
    assert len(replies) == 2, replies
    assert seed.wait_for_log(r"NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.2\]: 454 4\.7\.1 <%s>"
                             % re.escape(rcpt)), seed.log_tail()
    assert_nothing_for(seed, rcpt)


def test_relay_refused_after_starttls_without_auth(seed, client):
    rcpt = "victim2-%s@outside.example" % seed.sasl_method_under_test
    assert client.ehlo()[0] == 250
    client.starttls()
    assert client.ehlo()[0] == 250
    replies = client.mail_transaction([rcpt], sender="spammer@example.net")
    assert replies[1][0] == 454, replies
    assert_nothing_for(seed, rcpt)


def test_local_user_accepted_without_auth(seed, client):
    tag = "local-" + seed.sasl_method_under_test
    assert client.ehlo()[0] == 250
    replies = client.mail_transaction(["alice@posthorn.test"],
                                      sender="friend@example.net", subject=tag)
    assert [r[0] for r in replies] == [250, 250, 354, 250], replies
    assert seed.wait_for_message(tag, user="alice"), seed.log_tail()


def test_auth_plain_over_starttls_relays(seed, client):
    rcpt = "friend-%s@outside.example" % seed.sasl_method_under_test
    assert client.ehlo()[0] == 250
    version = client.starttls()
    assert version and version.startswith("TLSv1"), version
    code, lines = client.ehlo()
    assert code == 250 and "STARTTLS" not in lines, lines
    code, text = client.auth_plain()
    assert code == 235, (code, text)
    assert text.startswith("2.7.0"), text
    replies = client.mail_transaction([rcpt, "alice@posthorn.test"], subject="relayed")
    assert [r[0] for r in replies] == [250, 250, 250, 354, 250], replies
    qid = queue_id(replies[-1][1])
    assert seed.wait_for_log(r"%s: client=\S+\[127\.0\.0\.2\], sasl_method=PLAIN, "
                             r"sasl_username=%s$" % (qid, re.escape(USER))), seed.log_tail()
    assert_relayed(seed, qid, rcpt)
    if seed.saslauthd:
        # the password was checked by saslauthd, not by smtpd itself
        assert re.search(r"auth success: \[user=demo\] \[service=smtp\] "
                         r"\[realm=posthorn\.test\] \[mech=sasldb\]",
                         seed.saslauthd.log_text()), seed.saslauthd.log_text()
    msg = seed.wait_for_message("relayed", user="alice")
    assert msg, seed.log_tail()
    received = msg.partition(b"\n\n")[0]
    assert b"with ESMTPSA id " + qid.encode() in received, received
    assert b"TLSv1" in received, received


def test_auth_login_with_local_domain(seed, client):
    """AUTH LOGIN with a bare user name: smtpd_sasl_local_domain supplies
    the realm, so "demo" is demo@posthorn.test."""
    rcpt = "friend3-%s@outside.example" % seed.sasl_method_under_test
    assert client.ehlo()[0] == 250
    client.starttls()
    assert client.ehlo()[0] == 250
    code, text = client.auth_login(user="demo")
    assert code == 235, (code, text)
    replies = client.mail_transaction([rcpt])
    assert [r[0] for r in replies] == [250, 250, 354, 250], replies
    qid = queue_id(replies[-1][1])
    assert seed.wait_for_log(r"%s: client=.*, sasl_method=LOGIN, sasl_username=%s$"
                             % (qid, re.escape(USER))), seed.log_tail()
    assert_relayed(seed, qid, rcpt)


def test_wrong_password_535_and_no_relay(seed, client):
    rcpt = "friend4-%s@outside.example" % seed.sasl_method_under_test
    bad = "wrong-Secret-%s" % seed.sasl_method_under_test
    assert client.ehlo()[0] == 250
    client.starttls()
    assert client.ehlo()[0] == 250
    code, text = client.auth_plain(password=bad)
    assert code == 535, (code, text)
    assert text.startswith("5.7.8"), text
    # the session goes on, unauthenticated: relaying is still refused
    replies = client.mail_transaction([rcpt], sender=USER)
    assert replies[0][0] == 250 and replies[1][0] == 454, replies
    assert len(replies) == 2, replies
    assert seed.wait_for_log(r"\[127\.0\.0\.2\]: SASL PLAIN authentication failed"), seed.log_tail()
    log = seed.log()
    assert bad not in log
    assert plain_response(USER, bad) not in log
    assert_nothing_for(seed, rcpt)


def test_auth_with_unknown_user_535(client):
    assert client.ehlo()[0] == 250
    client.starttls()
    assert client.ehlo()[0] == 250
    code, text = client.auth_plain(user="nobody-here@posthorn.test")
    assert code == 535, (code, text)


# ----------------------------------------- the fragment without relay list

@pytest.fixture(scope="module")
def seed_recipient_only(module_instance_factory):
    """The fragment with an empty smtpd_relay_restrictions (as before
    Postfix 2.10): relay control is then the "reject" at the end of
    smtpd_recipient_restrictions."""
    inst, _ = seed_instance(module_instance_factory, "auxprop",
                            extra="smtpd_relay_restrictions =\n")
    return inst


def test_recipient_list_reject_gives_554(seed_recipient_only):
    inst = seed_recipient_only
    rcpt = "victim@outside.example"
    c = Client(inst.port, cafile(inst))
    try:
        assert c.ehlo()[0] == 250
        replies = c.mail_transaction([rcpt, "alice@posthorn.test"], sender="x@example.net",
                                     subject="recipient-only")
        code, text = replies[1]
        assert code == 554 and text.startswith("5.7.1 <%s>:" % rcpt), replies
        assert [r[0] for r in replies[2:]] == [250, 354, 250], replies
    finally:
        c.close()
    assert inst.wait_for_message("recipient-only", user="alice"), inst.log_tail()
    assert_nothing_for(inst, rcpt)

    c = Client(inst.port, cafile(inst))
    try:
        assert c.ehlo()[0] == 250
        c.starttls()
        assert c.ehlo()[0] == 250
        assert c.auth_plain()[0] == 235
        replies = c.mail_transaction(["friend@outside.example"])
        assert [r[0] for r in replies] == [250, 250, 354, 250], replies
    finally:
        c.close()
    assert_relayed(inst, queue_id(replies[-1][1]), "friend@outside.example")
