"""postfix_helpers.py - a private instance of Debian's Postfix, for tests that
check Posthorn against the real thing and for the benchmarks.

PostfixInstance(mailbox, uid) makes a throw-away instance under /tmp: its
own config directory (Debian's main.cf and master.cf, then postconf -e),
queue, data directory and log file (maillog_file), an smtpd on a free
port of 127.0.0.1 (the stock port-25 service is removed), and a virtual
mailbox domain: every recipient of MAILBOX's domain is delivered, as uid
UID, to the Maildir MAILBOX under .mail (maildir_new is its new/).
.postconf(...) changes main.cf before start(); stop() ends it and removes
the directory (BENCH_KEEP=1 keeps it).  Postfix must run as root: callers
check HAVE_POSTFIX and skip with a reason otherwise.
"""

import os
import shutil
import socket
import subprocess
import tempfile

from posthorn_instance import free_port, wait_until

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
HAVE_POSTFIX = (os.access(POSTFIX, os.X_OK) and os.path.exists("/etc/postfix/main.cf")
                and os.geteuid() == 0)
WHY_NOT = "Postfix (%s, /etc/postfix) is not installed or this is not root" % POSTFIX


class PostfixInstance:
    def __init__(self, mailbox, uid, hostname="rx.postfix.test"):
        domain, box = mailbox.split("@", 1)[1], mailbox.split("@", 1)[0]
        self.base = tempfile.mkdtemp(prefix="pf-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.etc = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "queue")
        self.data = os.path.join(self.base, "data")
        self.mail = os.path.join(self.base, "mail")
        self.maillog = os.path.join(self.base, "maillog")
        for d in (self.etc, self.queue, self.data, self.mail):
            os.makedirs(d)
        os.chmod(self.mail, 0o755)
        for f in ("main.cf", "master.cf"):
            shutil.copy("/etc/postfix/" + f, os.path.join(self.etc, f))
        shutil.chown(self.data, "postfix")
        os.chmod(self.data, 0o700)
        os.chown(self.mail, uid, uid)
        self.port = free_port()
        self.maildir_new = os.path.join(self.mail, domain, box, "new")
        self.postconf("-e",
                      "queue_directory=" + self.queue,
                      "data_directory=" + self.data,
                      "inet_interfaces=127.0.0.1", "inet_protocols=ipv4",
                      "myhostname=" + hostname, "mydestination=",
                      "mynetworks=127.0.0.0/8",
                      "alias_maps=", "alias_database=",
                      "virtual_mailbox_domains=" + domain,
                      "virtual_mailbox_base=" + self.mail,
                      "virtual_mailbox_maps=static:%s/%s/" % (domain, box),
                      "virtual_uid_maps=static:%d" % uid,
                      "virtual_gid_maps=static:%d" % uid,
                      "maillog_file=" + self.maillog,
                      "maillog_file_prefixes=/tmp",
                      "message_size_limit=10240000")
        self.postconf("-F", "*/*/chroot = n")
        self.postconf("-MX", "smtp/inet")
        with open(os.path.join(self.etc, "master.cf"), "a") as f:
            f.write("127.0.0.1:%d inet n - n - - smtpd\n" % self.port)

    def postconf(self, *args):
        subprocess.run([POSTCONF, "-c", self.etc] + list(args), check=True,
                       stdout=subprocess.DEVNULL)

    def start(self):
        subprocess.run([POSTFIX, "-c", self.etc, "check"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        r = subprocess.run([POSTFIX, "-c", self.etc, "start"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: %s\n%s" % (r.stdout.decode(),
                                                                 self.log_tail()))
        if not wait_until(self.greets, 15, 0.1):
            raise RuntimeError("postfix does not answer on %d\n%s" % (self.port,
                                                                      self.log_tail()))

    def greets(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                ok = s.recv(100).startswith(b"220")
                s.sendall(b"QUIT\r\n")
                return ok
        except OSError:
            return False

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        subprocess.run([POSTFIX, "-c", self.etc, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        pid = self.master_pid()
        if pid:
            wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=15):
        return "".join(self.log().splitlines(True)[-n:])

    def messages(self):
        """The delivered messages, as bytes."""
        out = []
        for name in sorted(os.listdir(self.maildir_new)) if os.path.isdir(self.maildir_new) else []:
            with open(os.path.join(self.maildir_new, name), "rb") as f:
                out.append(f.read())
        return out
