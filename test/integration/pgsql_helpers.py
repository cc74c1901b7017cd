"""pgsql_helpers.py - a private PostgreSQL server for the table tests.

PgServer(base) makes a cluster with Debian's initdb in BASE/data (as the
"postgres" account when run as root: the server refuses to run as root;
as the caller otherwise), start() runs it on a free 127.0.0.1 port with
its socket in BASE/sock (fsync off: nothing here needs to survive a
crash), psql(sql, db) runs SQL as the superuser over that socket,
stop() ends it (fast shutdown), and start() brings it back on the same
port.  Local (socket) logins are trusted; TCP logins need a password
(scram-sha-256), so a table's user/password settings are really checked.
sql(), create_db(), create_reader(), auth_error and kind are the
interface that mysql_helpers.MariaServer shares, so that a test runs
against either.  available() says whether PostgreSQL is installed.
"""

import glob
import os
import pwd
import shutil
import subprocess

from posthorn_instance import IS_ROOT, free_port, wait_until


def bin_dir():
    """The newest /usr/lib/postgresql/N/bin with initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def available():
    return bin_dir() is not None


class PgServer:
    kind = "pgsql"
    auth_error = "password authentication failed"

    def __init__(self, base):
        self.base = base
        self.bin = bin_dir()
        self.data = os.path.join(base, "data")
        self.sock = os.path.join(base, "sock")
        self.logfile = os.path.join(base, "postgres.log")
        self.port = free_port()
        os.makedirs(self.sock, exist_ok=True)
        if IS_ROOT:
            pw = pwd.getpwnam("postgres")
            for path in (base, self.sock):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            os.chmod(base, 0o755)
        self.run(["initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"])

    def run(self, argv, input=None, check=True):
        """A PostgreSQL program from bin_dir(), as the server's account."""
        argv = [os.path.join(self.bin, argv[0])] + argv[1:]
        if IS_ROOT:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        r = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("%s: %s%s" % (" ".join(argv), r.stdout, r.stderr))
        return r

    def start(self):
        self.run(["pg_ctl", "-D", self.data, "-l", self.logfile, "-w", "-t", "60",
                  "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=300" % (self.port, self.sock), "start"])

    def stop(self):
        self.run(["pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], check=False)

    def sql(self, text, db=None):
        """TEXT (statements) as the superuser; the output rows, unaligned."""
        return self.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                         "-p", str(self.port), "-U", "postgres", "-d", db or "postgres",
                         "-At", "-f", "-"], input=text).stdout

    def create_db(self, db):
        self.sql("CREATE DATABASE %s" % db)

    def create_reader(self, user, password, db, tables):
        self.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (user, password))
        self.sql("GRANT SELECT ON %s TO %s" % (", ".join(tables), user), db=db)

    def connections(self, db):
        """Client connections to DB now."""
        return int(self.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
                            % db).strip())

    def log_tail(self, n=30):
        try:
            with open(self.logfile) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
