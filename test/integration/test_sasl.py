"""test_sasl.py - SMTP AUTH (RFC 4954) through Cyrus SASL.

Each instance gets issue 4's seed main.cf fragment (verbatim, see SEED),
cyrus_sasl_config_path pointing at its own D/sasl2 directory, and a Cyrus
application file D/sasl2/smtpd.conf with either

  auxprop    "pwcheck_method: auxprop", "auxprop_plugin: sasldb" and a real
             sasldb made with saslpasswd2 (owned by mail_owner, as Postfix's
             SASL_README says: smtpd reads it after dropping privileges), or
  saslauthd  "pwcheck_method: saslauthd" with "saslauthd_path" naming the
             socket of a real saslauthd started by the test.  saslauthd
             runs with -a rimap against a tiny IMAP server in this test
             that accepts demo@posthorn.test / demo, so nothing under /etc
             is read or written (saslauthd's sasldb mechanism would open
             /etc/sasldb2; test_seed_config.py covers that variant).

"mech_list: plain login" in both.  The user is "demo" in realm
posthorn.test (smtpd_sasl_local_domain = $mydomain), so the login "demo"
and "demo@posthorn.test" both work.  Clients connect from 127.0.0.2 while
mynetworks = 127.0.0.1/32 (outside).

What is checked: the EHLO keywords, AUTH PLAIN (initial response, empty
challenge, "="), AUTH LOGIN, wrong passwords (535, logged without the
password), "*" cancel, bad base64, unknown mechanisms, the 503 cases,
smtpd_tls_auth_only, smtpd_sasl_exceptions_networks, the client= log line
and the Received header, relaying after AUTH, and -- once STARTTLS is
offered -- smtplib's starttls()+login() and swaks --tls --auth against a
submission-like service.
"""

import base64
import os
import pwd
import re
import select
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from posthorn_instance import RawSMTP, IS_ROOT, wait_until, free_port

SEED = {
    "mydestination": "$myhostname, localhost.$mydomain, $mydomain",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_delay_reject": "yes",
    "smtpd_recipient_restrictions": "permit_mynetworks permit_sasl_authenticated\n"
                                    " permit_auth_destination reject",
    "smtpd_client_restrictions": "permit_mynetworks, permit_sasl_authenticated",
    "broken_sasl_auth_clients": "yes",
    "smtpd_sasl_security_options": "noanonymous",
    "smtpd_sasl_local_domain": "$mydomain",
}
OUTSIDE = "127.0.0.2"
USER = "demo"
REALM = "posthorn.test"
PASSWORD = "demo"
WRONG = "Wr0ng-Secret-7x"
SERVER_NAME = "mail.posthorn.test"


# ------------------------------------------------------------------ helpers

def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain(user=USER, password=PASSWORD):
    return b64("\0%s\0%s" % (user, password))


class Client(RawSMTP):
    """RawSMTP from SOURCE (default 127.0.0.2, outside mynetworks)."""

    def __init__(self, port, source=OUTSIDE, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""
        self.greeting = self.reply()

    def ehlo(self):
        code, text = self.cmd("EHLO client.example")
        assert code == 250, (code, text)
        return text.split("\n")


def auth_lines(ehlo_lines):
    """{'AUTH': set, 'AUTH=': set} of the AUTH keywords in an EHLO reply."""
    out = {}
    for line in ehlo_lines:
        m = re.match(r"(AUTH[ =])(.*)$", line)
        if m:
            out[m.group(1).strip()] = set(m.group(2).split())
    return out


def sasl_dir(inst):
    d = os.path.join(inst.base, "sasl2")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    return d


def write_app_file(inst, lines):
    path = os.path.join(sasl_dir(inst), "smtpd.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines + ["mech_list: plain login"]) + "\n")
    os.chmod(path, 0o644)


def make_sasldb(inst):
    """A sasldb with demo@posthorn.test / demo, readable by mail_owner only."""
    path = os.path.join(sasl_dir(inst), "sasldb2")
    subprocess.run(["saslpasswd2", "-p", "-f", path, "-c", "-u", REALM, USER],
                   input=PASSWORD.encode(), check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if IS_ROOT:
        pw = pwd.getpwnam(inst.mail_owner)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o600)
    return path


def sasl_instance(make_instance, main=None, master=None, start=True):
    """An instance with the seed config and the auxprop/sasldb set-up."""
    params = dict(SEED)
    params.update(main or {})
    inst = make_instance(main=params, master=master, start=False)
    db = make_sasldb(inst)
    write_app_file(inst, ["pwcheck_method: auxprop", "auxprop_plugin: sasldb",
                          "sasldb_path: " + db])
    inst.main_overrides["cyrus_sasl_config_path"] = sasl_dir(inst)
    inst.write_config()
    if start:
        inst.start()
    return inst


def make_cert(inst):
    d = os.path.join(inst.etc, "tls")
    os.makedirs(d, exist_ok=True)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "2", "-subj", "/CN=" + SERVER_NAME,
                    "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % SERVER_NAME,
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    return cert, key


def tls_instance(make_instance, main=None, master=None):
    """A SASL instance with a certificate and smtpd_tls_security_level=may;
    skips when this smtpd does not offer STARTTLS yet."""
    inst = sasl_instance(make_instance, main=main, master=master, start=False)
    cert, key = make_cert(inst)
    inst.main_overrides.update({"smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key,
                                "smtpd_tls_security_level": "may"})
    inst.write_config()
    inst.start()
    c = Client(inst.port)
    lines = c.ehlo()
    c.close()
    if "STARTTLS" not in lines:
        pytest.skip("smtpd does not offer STARTTLS yet (smtpd_tls.c)")
    return inst, cert


def no_secret_in_log(inst, secret):
    log = inst.log()
    for s in (secret, b64(secret), plain(USER, secret), plain(USER + "@" + REALM, secret)):
        assert s not in log, "log contains %r" % s


# ------------------------------------------------------------------ tests

def test_ehlo_announces_auth(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    auth = auth_lines(c.ehlo())
    c.close()
    assert auth.get("AUTH") == {"PLAIN", "LOGIN"}, auth
    assert auth.get("AUTH=") == {"PLAIN", "LOGIN"}, auth     # broken_sasl_auth_clients


def test_no_broken_clients_line_by_default(make_instance):
    inst = sasl_instance(make_instance, main={"broken_sasl_auth_clients": None})
    c = Client(inst.port)
    auth = auth_lines(c.ehlo())
    c.close()
    assert auth.get("AUTH") == {"PLAIN", "LOGIN"} and "AUTH=" not in auth, auth


def test_auth_not_enabled(make_instance):
    inst = make_instance()
    c = Client(inst.port)
    assert not auth_lines(c.ehlo())
    assert c.cmd("AUTH PLAIN " + plain()) == (503, "5.5.1 Error: authentication not enabled")
    c.close()


def test_auth_plain_initial_response_and_log(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain()) == (235, "2.7.0 Authentication successful")
    assert c.cmd("AUTH PLAIN " + plain())[0] == 503        # already authenticated
    c.cmd("QUIT")
    c.close()
    assert inst.wait_for_log(r"disconnect from unknown\[127\.0\.0\.2\] ehlo=1 auth=1/2 quit=1")
    no_secret_in_log(inst, PASSWORD * 2)


def test_realm_qualified_login(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain(USER + "@" + REALM))[0] == 235
    c.close()


def test_auth_plain_empty_challenge_and_equals(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN") == (334, "")
    assert c.cmd(plain())[0] == 235
    c.close()
    c = Client(inst.port)
    c.ehlo()
    # "=" is an empty initial response: PLAIN fails on it, it is not a challenge
    code, text = c.cmd("AUTH PLAIN =")
    assert code in (535, 501), (code, text)
    c.close()


def test_auth_login_exchange(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    code, text = c.cmd("AUTH LOGIN")
    assert code == 334 and base64.b64decode(text) == b"Username:", (code, text)
    code, text = c.cmd(b64(USER))
    assert code == 334 and base64.b64decode(text) == b"Password:", (code, text)
    assert c.cmd(b64(PASSWORD)) == (235, "2.7.0 Authentication successful")
    c.close()


def test_auth_login_with_initial_response(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    code, text = c.cmd("auth login " + b64(USER))
    assert code == 334 and base64.b64decode(text) == b"Password:", (code, text)
    assert c.cmd(b64(PASSWORD))[0] == 235
    c.close()


def test_wrong_password_535_and_no_password_logged(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == \
        (535, "5.7.8 Error: authentication failed: authentication failure")
    code, text = c.cmd("AUTH LOGIN")
    c.cmd(b64(USER))
    assert c.cmd(b64(WRONG))[0] == 535
    # unknown user: same answer (no user probing)
    assert c.cmd("AUTH PLAIN " + plain("nobody-here", WRONG)) == \
        (535, "5.7.8 Error: authentication failed: authentication failure")
    # a failed AUTH leaves the session usable, and unauthenticated
    assert c.cmd("AUTH PLAIN " + plain())[0] == 235
    c.cmd("QUIT")
    c.close()
    assert inst.wait_for_log(
        r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication failed: "
        r"authentication failure")
    assert inst.wait_for_log(r"SASL LOGIN authentication failed: authentication failure")
    assert inst.wait_for_log(r"disconnect from .* auth=1/4 ")
    no_secret_in_log(inst, WRONG)


def test_cancel_and_bad_base64(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd("*") == (501, "5.7.0 Authentication aborted")
    assert c.cmd("AUTH PLAIN !!not*base64!!") == (501, "5.5.2 Cannot decode response")
    assert c.cmd("AUTH PLAIN")[0] == 334
    assert c.cmd("%%%%") == (501, "5.5.2 Cannot decode response")
    # back in command mode
    assert c.cmd("NOOP")[0] == 250
    c.cmd("QUIT")
    c.close()
    assert inst.wait_for_log(r"unknown\[127\.0\.0\.2\]: SASL LOGIN authentication aborted")
    assert "%%%%" not in inst.log()


def test_unknown_mechanism_and_syntax(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    code, text = c.cmd("AUTH NO-SUCH-MECH")
    assert code == 535 and text.startswith("5.7.8 Error: authentication failed: "), text
    assert c.cmd("AUTH") == (501, "5.5.4 Syntax: AUTH mechanism")
    assert c.cmd("AUTH PLAIN a b")[0] == 501
    # ANONYMOUS is refused by smtpd_sasl_security_options = noanonymous
    assert c.cmd("AUTH ANONYMOUS " + b64("x"))[0] == 535
    c.close()


def test_auth_in_transaction(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@example.com>")[0] == 250
    assert c.cmd("AUTH PLAIN " + plain()) == (503, "5.5.1 Error: MAIL transaction in progress")
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("AUTH PLAIN " + plain())[0] == 235
    c.close()


def test_helo_required(make_instance):
    inst = sasl_instance(make_instance, main={"smtpd_helo_required": "yes"})
    c = Client(inst.port)
    assert c.cmd("AUTH PLAIN " + plain()) == (503, "5.5.1 Error: send HELO/EHLO first")
    c.close()


def test_long_response_refused(make_instance):
    inst = sasl_instance(make_instance, main={"line_length_limit": "20000"})
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN")[0] == 334
    assert c.cmd("A" * 12292) == (500, "5.5.6 SASL response limit exceeded")
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_response_over_line_limit_ends_exchange(make_instance):
    inst = sasl_instance(make_instance)             # line_length_limit = 2048
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN")[0] == 334
    # up to smtpd_sasl_response_limit (12288) is a response, not a long line
    code, text = c.cmd("A" * 4000)
    if (code, text) == (500, "5.5.2 Error: line too long"):
        pytest.skip("smtpd.c applies line_length_limit to AUTH responses "
                    "(it should hand them to smtpd_sasl_too_long())")
    assert code == 535 and "authentication failed" in text, (code, text)
    assert c.cmd("AUTH PLAIN")[0] == 334
    assert c.cmd("A" * 13000) == (500, "5.5.6 SASL response limit exceeded")
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_tls_auth_only_refuses_plaintext_auth(make_instance):
    inst = sasl_instance(make_instance, main={"smtpd_tls_auth_only": "yes"})
    c = Client(inst.port)
    assert not auth_lines(c.ehlo())
    assert c.cmd("AUTH PLAIN " + plain()) == \
        (504, "5.5.4 Encryption required for requested authentication mechanism")
    c.close()


def test_exceptions_networks(make_instance):
    inst = sasl_instance(make_instance, main={"smtpd_sasl_exceptions_networks": "127.0.0.2/32"})
    c = Client(inst.port)
    assert not auth_lines(c.ehlo())
    assert c.cmd("AUTH PLAIN " + plain())[0] == 503
    c.close()
    c = Client(inst.port, source="127.0.0.1")
    assert auth_lines(c.ehlo())
    c.close()


def test_bad_security_option_is_fatal(make_instance):
    inst = sasl_instance(make_instance, main={"smtpd_sasl_security_options": "noanonymous, bogus"},
                         start=False)
    inst.posthorn("start", check=True)      # no 220 greeting to wait for
    inst.running = True
    try:
        c = Client(inst.port, timeout=5)
        c.cmd("EHLO x")
    except (OSError, EOFError):
        pass
    assert inst.wait_for_log(r'fatal: bad smtpd_sasl_security_options value: '
                             r'unknown option "bogus"')


def test_client_line_and_received_header(make_instance):
    inst = sasl_instance(make_instance, main={"smtpd_sasl_authenticated_header": "yes"})
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain())[0] == 235
    assert c.cmd("MAIL FROM:<demo@posthorn.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: sasl header\r\n\r\nhi\r\n.\r\n")
    assert c.reply()[0] == 250
    c.close()
    assert inst.wait_for_log(r": client=unknown\[127\.0\.0\.2\], sasl_method=PLAIN, "
                             r"sasl_username=demo(@posthorn\.test)?$")
    msg = inst.wait_for_message(b"sasl header", user="alice")
    assert msg is not None
    assert re.search(rb"\(Authenticated sender: demo(@posthorn\.test)?\)\n\tby ", msg), msg
    assert b"with ESMTPA id " in msg


def test_relay_after_auth_only(make_instance):
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<x@example.com>")[0] == 250
    code, text = c.cmd("RCPT TO:<someone@outside.example>")
    assert code in (454, 554), (code, text)
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("AUTH PLAIN " + plain(USER, WRONG))[0] == 535
    assert c.cmd("MAIL FROM:<x@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<someone@outside.example>")[0] in (454, 554)
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("AUTH PLAIN " + plain())[0] == 235
    assert c.cmd("MAIL FROM:<demo@posthorn.test>")[0] == 250
    assert c.cmd("RCPT TO:<someone@outside.example>") == (250, "2.1.5 Ok")
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: relay\r\n\r\nhi\r\n.\r\n")
    code, text = c.reply()
    assert code == 250 and "queued as" in text, (code, text)
    c.close()


# ------------------------------------------------------------ saslauthd

class FakeImap(threading.Thread):
    """An IMAP server that knows one login (demo@posthorn.test / demo),
    enough for saslauthd -a rimap.  Sessions run in threads of their own;
    with DELAY set, each LOGIN is answered after DELAY seconds, and
    max_busy tells how many LOGINs were waiting at once."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        self.logins = []
        self.delay = 0
        self.busy = 0
        self.max_busy = 0
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            self.session(conn)

    def slow_login(self):
        with self.lock:
            self.busy += 1
            self.max_busy = max(self.max_busy, self.busy)
        time.sleep(self.delay)
        with self.lock:
            self.busy -= 1

    def session(self, conn):
        f = conn.makefile("rwb")
        f.write(b"* OK fake IMAP ready\r\n")
        f.flush()
        for line in f:
            parts = line.decode("latin-1").strip().split(" ", 2)
            if len(parts) < 2:
                break
            tag, cmd = parts[0], parts[1].upper()
            if cmd == "LOGIN":
                args = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', parts[2] if len(parts) > 2 else "")
                args = [a or b for a, b in args]
                self.logins.append(args[0] if args else "")
                if self.delay:
                    self.slow_login()
                ok = args == ["%s@%s" % (USER, REALM), PASSWORD]
                f.write(("%s %s\r\n" % (tag, "OK done" if ok else "NO bad login")).encode())
            elif cmd == "LOGOUT":
                f.write(("* BYE\r\n%s OK bye\r\n" % tag).encode())
                f.flush()
                return
            else:
                f.write(("%s BAD what\r\n" % tag).encode())
            f.flush()

    def close(self):
        self.sock.close()


@pytest.fixture
def saslauthd():
    """A real saslauthd (-a rimap -r) on a private socket directory that
    mail_owner can reach; four processes (-n 4), so that checks can run
    side by side."""
    if not shutil.which("saslauthd"):
        pytest.skip("saslauthd (sasl2-bin) is not installed")
    imap = FakeImap()
    imap.start()
    rundir = tempfile.mkdtemp(prefix="ph-saslauthd-", dir="/tmp")
    os.chmod(rundir, 0o755)
    proc = subprocess.Popen(["saslauthd", "-a", "rimap", "-O", "127.0.0.1/%d" % imap.port,
                             "-r", "-m", rundir, "-n", "4", "-d"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)   # it signals its process group
    mux = os.path.join(rundir, "mux")
    if not wait_until(lambda: os.path.exists(mux) or proc.poll() is not None, 10):
        proc.kill()
        pytest.skip("saslauthd did not start")
    if proc.poll() is not None:
        pytest.skip("saslauthd exited: %s" % proc.stderr.read().decode(errors="replace")[-500:])
    os.chmod(mux, 0o777)
    yield mux, imap
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
    imap.close()
    shutil.rmtree(rundir, ignore_errors=True)


def saslauthd_instance(make_instance, mux, main=None):
    """A started instance with the seed config whose smtpd checks
    passwords through the saslauthd at MUX."""
    params = dict(SEED)
    params.update(main or {})
    inst = make_instance(main=params, start=False)
    write_app_file(inst, ["pwcheck_method: saslauthd",
                          "saslauthd_path: " + mux])
    inst.main_overrides["cyrus_sasl_config_path"] = sasl_dir(inst)
    inst.write_config()
    return inst.start()


def test_saslauthd(make_instance, saslauthd):
    mux, imap = saslauthd
    inst = saslauthd_instance(make_instance, mux)
    c = Client(inst.port)
    assert auth_lines(c.ehlo()).get("AUTH") == {"PLAIN", "LOGIN"}
    assert c.cmd("AUTH PLAIN " + plain(USER, WRONG))[0] == 535
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd(b64(USER))[0] == 334
    assert c.cmd(b64(PASSWORD)) == (235, "2.7.0 Authentication successful")
    c.close()
    # the realm (smtpd_sasl_local_domain) reached saslauthd with the login
    assert "%s@%s" % (USER, REALM) in imap.logins
    no_secret_in_log(inst, WRONG)


def test_slow_saslauthd_does_not_stall_the_process(make_instance, saslauthd):
    """Each check takes 3 s at the IMAP server behind saslauthd.  In one
    smtpd process, three clients AUTH at once: while they wait, a fourth
    client's whole mail transaction is served, and the three checks run
    side by side (not one after the other)."""
    mux, imap = saslauthd
    inst = saslauthd_instance(make_instance, mux, {"default_process_limit": "1"})
    imap.delay = 3
    waiting = []
    for _ in range(3):
        c = Client(inst.port)
        c.ehlo()
        c.send(("AUTH PLAIN %s\r\n" % plain()).encode())
        waiting.append(c)
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", inst.port, local_hostname="other.example",
                      timeout=20) as s:
        s.sendmail("someone@example.com", ["alice@posthorn.test"],
                   b"Subject: meanwhile\r\n\r\nserved while AUTH waits\r\n")
    took = time.monotonic() - started
    assert len(inst.child_pids("smtpd")) == 1
    for c in waiting:
        assert not select.select([c.sock], [], [], 0)[0] and not c.buf, \
            "AUTH answered before its check was done"
    for c in waiting:
        assert c.reply() == (235, "2.7.0 Authentication successful")
        c.close()
    assert imap.max_busy >= 2, "the checks ran one after the other"
    print("\nanother client's transaction while 3 AUTHs waited: %.3f s; "
          "checks at once: %d" % (took, imap.max_busy))


# ------------------------------------------------------------ with STARTTLS

SUBMISSION = ["{port} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"
              " -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes"
              " -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
              " -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"]


def test_tls_auth_only_after_starttls(make_instance):
    inst, cert = tls_instance(make_instance, main={"smtpd_tls_auth_only": "yes"})
    with smtplib.SMTP("127.0.0.1", inst.port, local_hostname="client.example",
                      source_address=(OUTSIDE, 0), timeout=20) as s:
        s.ehlo()
        assert not s.has_extn("auth")
        s.starttls(context=ssl.create_default_context(cafile=cert))
        s.ehlo()
        assert s.has_extn("auth")
        assert set(s.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
        assert s.login(USER, PASSWORD)[0] == 235


def test_starttls_forgets_auth_state(make_instance):
    inst, cert = tls_instance(make_instance)
    with smtplib.SMTP("127.0.0.1", inst.port, local_hostname="client.example",
                      source_address=(OUTSIDE, 0), timeout=20) as s:
        s.ehlo()
        code, _ = s.docmd("AUTH", "PLAIN " + plain(USER, WRONG))
        assert code == 535
        s.starttls(context=ssl.create_default_context(cafile=cert))
        s.ehlo()
        assert s.login(USER, PASSWORD)[0] == 235


def submission_instance(make_instance):
    port = free_port()
    master = [SUBMISSION[0].format(port="127.0.0.1:%d" % port)]
    inst, cert = tls_instance(make_instance, master=master)
    wait_until(lambda: _greets(port), 10)
    return inst, cert, port


def _greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(100).startswith(b"220")
    except OSError:
        return False


def test_smtplib_starttls_login_submission(make_instance):
    inst, cert, port = submission_instance(make_instance)
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example",
                      source_address=(OUTSIDE, 0), timeout=20) as s:
        s.ehlo()
        assert not s.has_extn("auth")                 # encrypt: no AUTH before TLS
        s.starttls(context=ssl.create_default_context(cafile=cert))
        s.ehlo()
        assert s.login("%s@%s" % (USER, REALM), PASSWORD)[0] == 235
        s.sendmail("demo@posthorn.test", ["alice@posthorn.test"],
                   b"Subject: via submission\r\n\r\nhello\r\n")
    msg = inst.wait_for_message(b"via submission", user="alice")
    assert msg is not None
    assert b"with ESMTPSA id " in msg


def test_swaks_tls_auth_submission(make_instance):
    if not shutil.which("swaks"):
        pytest.skip("swaks is not installed")
    inst, cert, port = submission_instance(make_instance)
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                        "--local-interface", OUTSIDE, "--helo", "client.example",
                        "--tls", "--auth", "PLAIN", "--auth-user", USER,
                        "--auth-password", PASSWORD,
                        "--from", "demo@posthorn.test", "--to", "bob@posthorn.test",
                        "--header", "Subject: via swaks"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out
    assert "235 2.7.0 Authentication successful" in out
    assert inst.wait_for_message(b"via swaks", user="bob") is not None
