"""ldap_helpers.py - a private OpenLDAP server (slapd) for the table tests.

LdapServer(base) writes BASE/slapd.conf: Debian's core, cosine,
inetorgperson and nis schemas from /etc/ldap/schema plus a small test
schema (TEST_SCHEMA: mailbox, mailForwardingAddress, mailActive and
mailTransport, in the auxiliary class posthornMailObject), one mdb
database for dc=example,dc=test in BASE/data, an administrator (rootdn)
that ldapadd() uses, and access rules: the reader READER_DN (password
READER_PW, a real entry: binds are checked) may read everything,
anonymous clients only ou=domains.  start() runs slapd in the foreground
(-d: it neither forks nor detaches; its log is BASE/slapd.log) on
ldap://127.0.0.1:PORT/ (and ldaps://127.0.0.1:TLS_PORT/ with tls=True,
with a self-signed certificate for 127.0.0.1 made by openssl:
cert_file) and waits until it accepts connections; stop() ends it
(SIGTERM) and start() brings it back on the same ports with the same
data; log() is what it logged (-d 256: connections and operations).  As root slapd runs as root, in this private directory only.
ldapadd(ldif) adds entries as the administrator; available() says
whether slapd, ldapadd, the schemas and the mdb backend are installed.
The LDAP tools run with LDAPNOINIT set, so no ldap.conf of the host
applies.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

from posthorn_instance import free_port, wait_until

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
LDAPADD = shutil.which("ldapadd") or "/usr/bin/ldapadd"
SCHEMA_DIR = "/etc/ldap/schema"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
MODULE_DIR = "/usr/lib/ldap"

SUFFIX = "dc=example,dc=test"
ADMIN_DN = "cn=admin," + SUFFIX
ADMIN_PW = "admin-secret"
READER_DN = "cn=reader," + SUFFIX
READER_PW = "secret"

# Test attributes under a UUID-based OID arc (2.25, ITU-T X.667)
_ARC = "2.25.310519138437165722452744108930207734561"
TEST_SCHEMA = """\
attributetype ( {arc}.1.1 NAME 'mailbox'
    DESC 'where the mail of an address is stored'
    EQUALITY caseExactIA5Match
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )
attributetype ( {arc}.1.2 NAME 'mailForwardingAddress'
    DESC 'an address that mail is forwarded to'
    EQUALITY caseIgnoreIA5Match
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )
attributetype ( {arc}.1.3 NAME 'mailActive'
    DESC 'the address or domain takes mail'
    EQUALITY booleanMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )
attributetype ( {arc}.1.4 NAME 'mailTransport'
    DESC 'transport(5) value'
    EQUALITY caseExactIA5Match
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )
objectclass ( {arc}.2.1 NAME 'posthornMailObject' AUXILIARY
    MAY ( mail $ mailbox $ mailForwardingAddress $ mailActive $ mailTransport $
          associatedDomain ) )
""".format(arc=_ARC)

BASE_LDIF = """\
dn: {suffix}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {reader}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: {reader_pw}

dn: ou=domains,{suffix}
objectClass: organizationalUnit
ou: domains

dn: ou=users,{suffix}
objectClass: organizationalUnit
ou: users

dn: ou=aliases,{suffix}
objectClass: organizationalUnit
ou: aliases
""".format(suffix=SUFFIX, reader=READER_DN, reader_pw=READER_PW)


def available():
    return (os.access(SLAPD, os.X_OK) and os.access(LDAPADD, os.X_OK)
            and all(os.path.exists(os.path.join(SCHEMA_DIR, s + ".schema")) for s in SCHEMAS)
            and os.path.exists(os.path.join(MODULE_DIR, "back_mdb.so")))


def tool_env():
    env = dict(os.environ)
    env["LDAPNOINIT"] = "1"
    return env


def make_cert(directory, name="server"):
    """A self-signed certificate for 127.0.0.1 in DIRECTORY: (cert, key)."""
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    return cert, key


class LdapServer:
    def __init__(self, base, tls=False):
        self.base = base
        self.data = os.path.join(base, "data")
        self.conf = os.path.join(base, "slapd.conf")
        self.logfile = os.path.join(base, "slapd.log")
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.cert_file = None
        self.proc = None
        os.makedirs(self.data, exist_ok=True)
        with open(os.path.join(base, "posthorn.schema"), "w") as f:
            f.write(TEST_SCHEMA)
        tls_lines = []
        if tls:
            self.cert_file, key = make_cert(base)
            tls_lines = ["TLSCertificateFile " + self.cert_file,
                         "TLSCertificateKeyFile " + key]
        self._write_conf(tls_lines)

    def _write_conf(self, tls_lines):
        lines = ["include %s/%s.schema" % (SCHEMA_DIR, s) for s in SCHEMAS]
        lines += [
            "include %s/posthorn.schema" % self.base,
            "pidfile %s/slapd.pid" % self.base,
            "argsfile %s/slapd.args" % self.base,
            "modulepath " + MODULE_DIR,
            "moduleload back_mdb",
        ] + tls_lines + [
            "database mdb",
            "maxsize 67108864",
            'suffix "%s"' % SUFFIX,
            'rootdn "%s"' % ADMIN_DN,
            "rootpw " + ADMIN_PW,
            "directory " + self.data,
            # the reader is the mail system's account: it reads the
            # stored passwords for smtpd_sasl_password_maps
            'access to attrs=userPassword by dn.exact="%s" read by anonymous auth'
            ' by * none' % READER_DN,
            'access to dn.subtree="ou=domains,%s" by * read' % SUFFIX,
            'access to * by dn.exact="%s" read by * none' % READER_DN,
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def url(self):
        return "ldap://127.0.0.1:%d" % self.port

    @property
    def ldaps_url(self):
        return "ldaps://127.0.0.1:%d" % self.tls_port

    def start(self):
        urls = self.url + "/"
        if self.tls_port:
            urls += " " + self.ldaps_url + "/"
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen([SLAPD, "-f", self.conf, "-h", urls, "-d", "256"],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        ok = wait_until(lambda: self.proc.poll() is not None or self._accepts(), 30, 0.1)
        if not ok or self.proc.poll() is not None:
            raise AssertionError("slapd did not start:\n" + self.log_tail())

    def _accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        time.sleep(0.1)

    def ldapadd(self, ldif):
        r = subprocess.run([LDAPADD, "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PW],
                           input=ldif, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60, env=tool_env())
        if r.returncode != 0:
            raise AssertionError("ldapadd: %s%s" % (r.stdout, r.stderr))
        return r.stdout

    def add_base(self):
        """The suffix entry, the reader and ou=domains, users, aliases."""
        self.ldapadd(BASE_LDIF)

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
