"""mysql_helpers.py - a private MariaDB server for the table tests.

MariaServer(base) makes a data directory with Debian's mariadb-install-db
in BASE/data (owned by the "mysql" account when run as root: mariadbd
will not run as root; as the caller otherwise), start() runs mariadbd on
a free 127.0.0.1 port with its socket in BASE (no grant-table shortcuts:
logins are checked), sql(text, db) runs SQL over the socket as root (or,
not root, as the caller: the install makes both socket logins),
stop() ends it and start() brings it back on the same port.  It has the
interface of pgsql_helpers.PgServer, so that a test can run against
either: create_reader() makes a login that may read some tables,
auth_error is the text of a refused login.  available() says whether
MariaDB is installed.
"""

import os
import pwd
import shutil
import signal
import subprocess
import time

from posthorn_instance import IS_ROOT, free_port, wait_until

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"


def available():
    return all(os.access(p, os.X_OK) for p in (MARIADBD, INSTALL_DB, CLIENT))


class MariaServer:
    kind = "mysql"
    auth_error = "Access denied"

    def __init__(self, base):
        self.base = base
        self.data = os.path.join(base, "data")
        self.socket = os.path.join(base, "mysqld.sock")
        self.logfile = os.path.join(base, "mariadb.log")
        self.port = free_port()
        self.proc = None
        # the install makes root, and the caller when not root, socket logins
        self.admin = "root" if IS_ROOT else pwd.getpwuid(os.getuid()).pw_name
        user = []
        if IS_ROOT:
            pw = pwd.getpwnam("mysql")
            os.chown(base, pw.pw_uid, pw.pw_gid)
            os.chmod(base, 0o755)
            user = ["--user=mysql"]
        r = subprocess.run([INSTALL_DB, "--no-defaults", "--datadir=" + self.data,
                            "--auth-root-authentication-method=socket",
                            "--skip-test-db"] + user,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise AssertionError("mariadb-install-db: " + r.stdout[-2000:])

    def start(self):
        argv = [MARIADBD, "--no-defaults", "--datadir=" + self.data,
                "--socket=" + self.socket, "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--pid-file=" + os.path.join(self.base, "pid"),
                "--log-error=" + self.logfile, "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0", "--max-connections=300"]
        if IS_ROOT:
            argv.append("--user=mysql")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        ok = wait_until(lambda: self.proc.poll() is not None or self._answers(), 60, 0.2)
        if not ok or self.proc.poll() is not None:
            raise AssertionError("mariadbd did not start:\n" + self.log_tail())

    def _answers(self):
        r = subprocess.run([CLIENT, "--no-defaults", "-S", self.socket, "-u", self.admin,
                            "-e", "SELECT 1"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        time.sleep(0.1)

    def sql(self, text, db=None):
        argv = [CLIENT, "--no-defaults", "-S", self.socket, "-u", self.admin, "-N", "-B"]
        if db:
            argv.append(db)
        r = subprocess.run(argv, input=text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("mariadb: %s" % r.stderr)
        return r.stdout

    def create_db(self, db):
        self.sql("CREATE DATABASE %s" % db)

    def create_reader(self, user, password, db, tables):
        self.sql("CREATE USER '%s'@'%%' IDENTIFIED BY '%s';" % (user, password) +
                 "".join("GRANT SELECT ON %s.%s TO '%s'@'%%';" % (db, t, user) for t in tables))

    def connections(self, db):
        return int(self.sql("SELECT count(*) FROM information_schema.processlist "
                            "WHERE db = '%s'" % db).strip())

    def log_tail(self, n=30):
        try:
            with open(self.logfile) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
