"""pop3_helpers.py - a Posthorn instance with POP3 (and SASL, TLS) for tests.

pop3_instance(make_instance, mbox=False, main=None, start=True,
extra_master=()) makes an instance with:
  - pop3d on a free port (STLS offered) and on another with implicit TLS,
    and the auth service pop3auth (master.cf);
  - a self-signed certificate shared with smtpd (smtpd_tls_cert_file);
  - SASL through auxprop/sasldb with alice@posthorn.test, bob@posthorn.test
    (local users of passwd_file, realm = smtpd_sasl_local_domain =
    posthorn.test) and demo@virt.test (a virtual mailbox), each with the
    password PASSWORDS[name];
  - Maildir (home_mailbox = Maildir/) or, with mbox=True, mbox files in
    mail_spool_directory.
EXTRA_MASTER adds master.cf lines (imap_helpers.py adds imapd's).
It returns the started instance with .pop3_port, .pop3s_port, .cafile.
"""

import os
import poplib
import pwd
import socket
import ssl
import subprocess

from posthorn_instance import IS_ROOT, RawLines, free_port, wait_until

PASSWORDS = {"alice@posthorn.test": "alice-Secret 1", "bob@posthorn.test": "bob-pw",
             "demo@virt.test": "demo-pw"}
SERVER_NAME = "mail.posthorn.test"


def sasl_setup(inst):
    d = os.path.join(inst.base, "sasl2")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    db = os.path.join(d, "sasldb2")
    for login, password in PASSWORDS.items():
        user, realm = login.split("@")
        subprocess.run(["saslpasswd2", "-p", "-f", db, "-c", "-u", realm, user],
                       input=password.encode(), check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if IS_ROOT:
        pw = pwd.getpwnam(inst.mail_owner)
        os.chown(db, pw.pw_uid, pw.pw_gid)
    os.chmod(db, 0o600)
    with open(os.path.join(d, "smtpd.conf"), "w") as f:
        f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                "sasldb_path: %s\nmech_list: plain login\n" % db)
    return d


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


def pop3_instance(make_instance, mbox=False, main=None, start=True, extra_master=()):
    pop3_port, pop3s_port = free_port(), free_port()
    master = ["127.0.0.1:%d inet n - n - - pop3d" % pop3_port,
              "127.0.0.1:%d inet n - n - - pop3d -o pop3d_tls_wrappermode=yes" % pop3s_port,
              "pop3auth unix - n n - - pop3d postlogin"] + list(extra_master)
    params = {"smtpd_sasl_local_domain": "$mydomain"}
    if mbox:
        params["home_mailbox"] = ""
    params.update(main or {})
    inst = make_instance(main=params, master=master, start=False)
    sasl = sasl_setup(inst)
    cert, key = make_cert(inst)
    inst.main_overrides.update({"cyrus_sasl_config_path": sasl,
                                "smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key,
                                "smtpd_tls_security_level": "may",
                                "smtpd_sasl_auth_enable": "yes"})
    inst.write_config()
    inst.pop3_port, inst.pop3s_port, inst.cafile = pop3_port, pop3s_port, cert
    if start:
        inst.start()
        assert wait_until(lambda: _answers(pop3_port), 10), inst.log_tail()
    return inst


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(100).startswith(b"+OK")
    except OSError:
        return False


def tls_context(inst):
    ctx = ssl.create_default_context(cafile=inst.cafile)
    ctx.check_hostname = False
    return ctx


def connect(inst, tls=None, login=None, password=None):
    """A poplib client: plain, after STLS (tls="stls") or POP3S (tls="ssl");
    logged in with USER/PASS when LOGIN is given."""
    if tls == "ssl":
        p = poplib.POP3_SSL("127.0.0.1", inst.pop3s_port, timeout=30,
                            context=tls_context(inst))
    else:
        p = poplib.POP3("127.0.0.1", inst.pop3_port, timeout=30)
        if tls == "stls":
            p.stls(context=tls_context(inst))
    if login:
        p.user(login)
        p.pass_(password if password is not None else PASSWORDS[login])
    return p


class Raw(RawLines):
    """A line-level POP3 client for bad input and pipelining."""

    def __init__(self, port, timeout=15):
        super().__init__(port, timeout)
        self.greeting = self.line()

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multi(self):
        """The lines of a multi-line answer after its first line, dot-unstuffed."""
        out = []
        while True:
            line = self.line()
            if line == ".":
                return out
            out.append(line[1:] if line.startswith("..") else line)
