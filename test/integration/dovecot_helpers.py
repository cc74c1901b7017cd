"""dovecot_helpers.py - a private Dovecot IMAP server for interchange tests.

conf_text() and launch() are shared with the benchmarks (test/bench/).
Dovecot(users, mail_location) writes a configuration in a temporary
directory (base_dir, state_dir and log there, IMAP on a free 127.0.0.1
port, no TLS, plaintext logins, users from a passwd-file: {login:
(password, uid, gid, home)}), start() runs Debian's dovecot (-F, its own
session) and waits until IMAP greets, imap(login) gives a logged-in
imaplib client, stop() ends the master (and any process left in its
process group), log_tail() shows the log.  Dovecot runs its mail
processes as the users' uids, so it needs root: available() says whether
it can run here (root, dovecot and its imap binary installed).
"""

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile

from posthorn_instance import IS_ROOT, free_port, wait_until

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVECONF = shutil.which("doveconf") or "/usr/bin/doveconf"
IMAP_BINARY = "/usr/lib/dovecot/imap"


def conf_text(base, passwd, protocol, port, location="maildir:~/Maildir",
              mechanisms="plain login", login_extra="", extra="", written_by=""):
    """A dovecot.conf for a private instance in BASE (run/, state/ and
    dovecot.log there): PROTOCOL ("imap" or "pop3") on 127.0.0.1:PORT and
    every other listener off, no TLS, plaintext logins, users from the
    passwd-file PASSWD; LOGIN_EXTRA goes into the login service block."""
    other = "pop3" if protocol == "imap" else "imap"
    return """# written by %(by)s
base_dir = %(base)s/run
state_dir = %(base)s/state
log_path = %(base)s/dovecot.log
protocols = %(proto)s
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = %(mechs)s
mail_location = %(location)s
mail_max_userip_connections = 1000
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %(passwd)s
}
userdb {
  driver = passwd-file
  args = username_format=%%u %(passwd)s
}
service %(proto)s-login {
  inet_listener %(proto)s {
    address = 127.0.0.1
    port = %(port)d
  }
  inet_listener %(proto)ss {
    port = 0
  }
%(login_extra)s}
service %(other)s-login {
  inet_listener %(other)s {
    port = 0
  }
  inet_listener %(other)ss {
    port = 0
  }
}
%(extra)s
""" % {"by": written_by or "dovecot_helpers.py", "base": base, "proto": protocol,
       "other": other, "mechs": mechanisms, "location": location, "passwd": passwd,
       "port": port, "login_extra": login_extra, "extra": extra}


def launch(base, conf, greets):
    """Check CONF with doveconf, run dovecot -F on it (in its own session,
    stderr to BASE/dovecot.stderr) and wait until GREETS() says it answers;
    the Popen, or RuntimeError."""
    r = subprocess.run([DOVECONF, "-c", conf, "-n"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("doveconf: " + r.stderr.decode("utf-8", "replace"))
    with open(os.path.join(base, "dovecot.stderr"), "ab") as err:
        proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=err,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    if not wait_until(lambda: greets() or proc.poll() is not None, 15, 0.1) \
            or proc.poll() is not None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
        raise RuntimeError("dovecot does not answer on its port")
    return proc


def available():
    """None when a private Dovecot can run here, else the reason."""
    if not IS_ROOT:
        return "needs root: Dovecot runs mail processes as the users' uids"
    if not (os.access(DOVECOT, os.X_OK) and os.access(IMAP_BINARY, os.X_OK)):
        return "dovecot-core and dovecot-imapd are not installed"
    return None


class Dovecot:
    """One private Dovecot (IMAP only) in a temporary directory."""

    def __init__(self, users, mail_location, extra=""):
        self.base = tempfile.mkdtemp(prefix="dv-imap-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.users = dict(users)
        self.mail_location = mail_location
        self.extra = extra
        self.port = free_port()
        self.proc = None
        self.log = os.path.join(self.base, "dovecot.log")
        self.conf = os.path.join(self.base, "dovecot.conf")
        self.write_conf()

    def write_conf(self):
        run_dir, state_dir = os.path.join(self.base, "run"), os.path.join(self.base, "state")
        for d in (run_dir, state_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        passwd = os.path.join(self.base, "passwd")
        with open(passwd, "w") as f:
            for login, (password, uid, gid, home) in self.users.items():
                f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (login, password, uid, gid, home))
        os.chmod(passwd, 0o600)
        shutil.chown(passwd, "dovecot", "dovecot")   # read by the auth process
        with open(self.conf, "w") as f:
            f.write(conf_text(self.base, passwd, "imap", self.port,
                              location=self.mail_location, extra=self.extra,
                              written_by="test/integration/dovecot_helpers.py"))

    def start(self):
        try:
            self.proc = launch(self.base, self.conf, self._greets)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s\n%s" % (e, self.log_tail()))
        return self

    def _greets(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                return s.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def imap(self, login):
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        c.login(login, self.users[login][0])
        return c

    def stop(self):
        """End the master (SIGTERM; it ends its children), then anything
        left in the process group it was started in."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        self.proc = None

    def cleanup(self):
        self.stop()
        if not os.environ.get("POSTHORN_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, n=30):
        out = []
        for name in (self.log, os.path.join(self.base, "dovecot.stderr")):
            try:
                with open(name, errors="replace") as f:
                    out.extend(f.readlines()[-n:])
            except OSError:
                pass
        return "".join(out)
