"""test_tables_regexp_cidr.py - regexp:, cidr:, lmdb: and sqlite: tables.

Posthorn's postmap and Postfix's own /usr/sbin/postmap answer the same
keys on the same files, and the answers are compared: regexp: (flags,
$n substitution, negation, /a/!/b/, if/endif, bad lines), cidr: (IPv4,
IPv6, negation, if/endif, bad networks) with hundreds of keys each,
lmdb: (each program reads the file the other built, -s, -i, -d) and
sqlite: (query expansions, result_format, domain, expansion_limit).
For the pattern tables, every warning Postfix gives about a bad line
("regexp map FILE, line N: ...") is given by Posthorn too.

Postfix's postmap runs with -c on a private directory (main.cf and
Debian's dynamicmaps.cf); a table type that Postfix lacks (postfix-lmdb,
postfix-sqlite) is skipped with the reason.  Last, one instance uses the
tables in smtpd: header_checks = regexp:, check_client_access cidr:,
check_sender_access lmdb: and sqlite:.
"""

import os
import random
import shutil
import socket
import sqlite3
import subprocess
import tempfile

import pytest

from posthorn_instance import build_dir, RawSMTP, DOMAIN

PF_POSTMAP = "/usr/sbin/postmap"
PF_ETC = "/etc/postfix"


def postfix_types():
    """The table types Postfix's postmap supports here (postconf -m)."""
    if not (os.access(PF_POSTMAP, os.X_OK) and os.path.exists(os.path.join(PF_ETC, "main.cf"))):
        return set()
    r = subprocess.run(["/usr/sbin/postconf", "-c", PF_ETC, "-m"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return set(r.stdout.split())


PF_TYPES = postfix_types()


def need_postfix(kind):
    return pytest.mark.skipif(kind not in PF_TYPES, reason="Postfix's postmap has no %s: "
                              "tables (install postfix and postfix-%s)" % (kind, kind))


class Tools:
    """Both postmaps, each with a private config directory below BASE."""

    def __init__(self, base):
        self.base = base
        self.ph_etc = self.path("ph-etc")
        self.pf_etc = self.path("pf-etc")
        os.makedirs(self.ph_etc)
        os.makedirs(self.pf_etc)
        with open(os.path.join(self.ph_etc, "main.cf"), "w") as f:
            f.write("myhostname = mail.posthorn.test\n")
        with open(os.path.join(self.pf_etc, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.7\n")
        if os.path.exists(os.path.join(PF_ETC, "dynamicmaps.cf")):
            shutil.copy(os.path.join(PF_ETC, "dynamicmaps.cf"), self.pf_etc)
        self.env = dict(os.environ)
        self.env.pop("MAIL_CONFIG", None)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")

    def path(self, *names):
        return os.path.join(self.base, *names)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def ph(self, *args, input=None):
        argv = [os.path.join(build_dir(), "bin", "postmap"), "-c", self.ph_etc] + list(args)
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=120, env=self.env)

    def pf(self, *args, input=None):
        argv = [PF_POSTMAP, "-c", self.pf_etc] + list(args)
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.fixture(scope="module")
def tools():
    base = tempfile.mkdtemp(prefix="ph-tables-", dir="/tmp")
    os.chmod(base, 0o755)
    yield Tools(base)
    if not os.environ.get("POSTHORN_KEEP"):
        shutil.rmtree(base, ignore_errors=True)


def map_warnings(stderr, kind):
    """The "KIND map FILE, line N: ..." warnings, without the program name."""
    return {line.split("warning: ", 1)[1] for line in stderr.splitlines()
            if "warning: %s map " % kind in line}


def compare(tools, spec, keys, kind=None):
    """postmap -q - with KEYS on SPEC: the same lines from both programs,
    and Postfix's warnings about bad lines among Posthorn's."""
    text = "".join(k + "\n" for k in keys)
    ph = tools.ph("-q", "-", spec, input=text)
    pf = tools.pf("-q", "-", spec, input=text)
    assert ph.stdout == pf.stdout, "answers differ for %s\n%s" % (spec, diff(ph.stdout, pf.stdout))
    assert ph.returncode == pf.returncode, (ph.stderr, pf.stderr)
    if kind:
        missing = map_warnings(pf.stderr, kind) - map_warnings(ph.stderr, kind)
        assert not missing, "warnings Postfix gives and Posthorn does not: %s" % sorted(missing)
    return ph


def lineno(text, needle):
    """The line of TEXT (a table file) that contains NEEDLE, counted from 1."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def diff(ours, theirs):
    a = set(ours.splitlines())
    b = set(theirs.splitlines())
    return "only Posthorn: %s\nonly Postfix: %s" % (sorted(a - b)[:20], sorted(b - a)[:20])


def compare_each(tools, spec, keys):
    """postmap -q KEY one at a time: the same output and exit status."""
    for key in keys:
        ph = tools.ph("-q", key, spec)
        pf = tools.pf("-q", key, spec)
        assert (ph.returncode, ph.stdout) == (pf.returncode, pf.stdout), (key, ph.stderr, pf.stderr)


# -------------------------------------------------------------- regexp

REGEXP = r"""
# regexp_table(5) features, and lines Postfix warns about
/^postmaster@/                  OK postmaster
/^(abuse|security)@(.*)$/       OK role $1 at ${2}
/^([^@]+)\+([^@]*)@(.*)$/       extension $2 of $1 at $(3), $$ kept
/^CaseSensitive@/i              exact case only
/^MiXeD@/                       any case
!/@/                            no at sign in $$key
/^ab+c@x$/x                     basic regex: + is literal
/^d(e)f@x$/x                    basic regex, unused group
/^g\(h\)i@x$/x                  basic group $1
/^line2$/m                      multi-line
/^dot.all@x$/                   dot any
/^one/!/two/                    one but not two
/^(x)(y)?z@/                    [$1][$2]
|^pipe@delim$|                  pipe delimiter
#/^commented@/                  never
/^continued@/                   first part
    and the continuation
if /@example\.com$/
/^sales@/                       example sales
if !/^info@/
/^(.*)@/                        example user $1
endif
/^info@/                        example info
endif
IF /@example\.org$/
/^(.)/                          org first letter $1
ENDIF
/(unclosed/                     bad regex
/^nodelim
/^badflag@/q                    unknown flag
!/^neg(.*)@/                    negated with $1
/^(r)@/                         too big $2
/^(s)@/                         zero ${0}
/^(t)@/                         name $name
garbage line
endif
if /^unbalanced/
/^unbalanced-(.*)$/             unbalanced $1
"""

REGEXP_LOCALS = ["postmaster", "abuse", "security", "joe+list", "joe+", "CaseSensitive",
                 "casesensitive", "mixed", "MIXED", "sales", "info", "someone", "x", "one",
                 "onetwo", "oneway", "continued", "neguser", "r", "s", "t", "pipe", "xz",
                 "xyz", "Postmaster", "a.b-c_d"]
REGEXP_DOMAINS = ["example.com", "example.org", "EXAMPLE.COM", "x", "other.net", "delim",
                  "sub.example.com", ""]


def regexp_keys():
    keys = ["%s@%s" % (l, d) for l in REGEXP_LOCALS for d in REGEXP_DOMAINS]
    keys += ["nokey", "ab+c@x", "abbc@x", "def@x", "ghi@x", "line1\\nline2", "dotXall@x",
             "unbalanced-1", "unbalanced", "zzz", "@", "pipe@delim", "\u00e9t\u00e9@x",
             "one two three", "two@one", "a" * 300 + "@x"]
    return keys


@need_postfix("regexp")
def test_regexp_like_postfix(tools):
    path = tools.write("regexp.cf", REGEXP)
    keys = regexp_keys()
    assert len(keys) > 200
    ph = compare(tools, "regexp:" + path, keys, kind="regexp")
    # Posthorn's answers are real ones, not two empty outputs
    answers = dict(line.split("\t", 1) for line in ph.stdout.splitlines())
    assert answers["joe+list@example.org"] == "extension list of joe at example.org, $ kept"
    assert answers["abuse@other.net"] == "OK role abuse at other.net"
    assert answers["someone@example.com"] == "example user someone"
    assert answers["xz@x"] == "[x][]"
    assert answers["continued@x"] == "first part    and the continuation"
    assert "casesensitive@x" not in answers
    assert "regexp map %s, line %d: Unmatched ( or \\(" % (
        path, lineno(REGEXP, "/(unclosed/")) in ph.stderr
    assert "line %d: IF has no matching ENDIF" % lineno(REGEXP, "if /^unbalanced/") in ph.stderr
    compare_each(tools, "regexp:" + path, ["postmaster@x", "nothing@x", "abuse@y", "x"])


# ---------------------------------------------------------------- cidr

CIDR = """
# cidr_table(5) features, and lines Postfix warns about
192.168.1.1             host one
192.168.0.0/16          net sixteen
[172.16.0.0]/12         bracketed
[198.51.100.0/24]       mask inside brackets
2001:db8::/32           v6 doc
[2001:db8:1::]/48       v6 later, never
[::1]                   v6 loopback
::ffff:127.0.0.1        mapped loopback
! fe80::/10             v6 not link-local
if 127.0.0.0/8
127.0.0.1               localhost
if !127.0.0.0/24
127.1.0.0/16            loopback far
endif
127.0.0.0/24            loopback near
endif
If fe80::/10
fe80::1                 link local one
EndIf
!10.0.0.0/8             anything but ten
10.1.2.3                ten host: "!" above does not apply to ten
10.0.0.0/8
10.1.2.3/8              host bits
10.0.0.0/33             mask too long
10.0.0.0/x              bad mask
10.0.0.300              bad address
300.0.0.0/8             bad network
[::1                    no bracket
[::1]x                  garbage after
2001:db8::1/32          v6 host bits
host.example            a name
endif junk
endif
0.0.0.0/0               everything else v4
"""


def cidr_keys():
    rnd = random.Random(13)
    keys = ["%d.%d.%d.%d" % tuple(rnd.randrange(256) for _ in range(4)) for _ in range(300)]
    keys += ["10.%d.%d.%d" % tuple(rnd.randrange(256) for _ in range(3)) for _ in range(40)]
    keys += ["127.%d.%d.%d" % tuple(rnd.randrange(256) for _ in range(3)) for _ in range(40)]
    keys += ["127.0.0.%d" % rnd.randrange(256) for _ in range(20)]
    keys += ["192.168.%d.%d" % (rnd.randrange(3), rnd.randrange(256)) for _ in range(20)]
    keys += ["2001:db8:%x::%x" % (rnd.randrange(4), rnd.randrange(65536)) for _ in range(30)]
    keys += ["fe80::%x" % rnd.randrange(65536) for _ in range(10)]
    keys += ["%x:%x::%x" % (rnd.randrange(65536), rnd.randrange(65536), rnd.randrange(65536))
             for _ in range(30)]
    keys += ["192.168.1.1", "10.1.2.3", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1",
             "::ffff:10.1.2.3", "FE80::1", "fe80::1", "127.0.0.1", "172.16.0.1",
             "198.51.100.9", "garbage", "1.2.3", "1.2.3.4.5", "[1.2.3.4]", "1.2.3.4/32",
             "::1::2", "localhost", "0.0.0.0", "255.255.255.255", "::"]
    return keys


@need_postfix("cidr")
def test_cidr_like_postfix(tools):
    path = tools.write("cidr.cf", CIDR)
    keys = cidr_keys()
    assert len(keys) > 400
    ph = compare(tools, "cidr:" + path, keys, kind="cidr")
    answers = dict(line.split("\t", 1) for line in ph.stdout.splitlines())
    assert answers["192.168.1.1"] == "host one"
    assert answers["127.1.2.3"] == "loopback far"
    assert answers["::1"] == "v6 loopback"
    assert answers["::ffff:10.1.2.3"] == "v6 not link-local"
    assert answers["10.1.2.3"] == 'ten host: "!" above does not apply to ten'
    assert "garbage" not in answers
    assert "cidr map %s, line %d: bad mask length in \"10.0.0.0/33\": skipping this rule" \
        % (path, lineno(CIDR, "/33")) in ph.stderr
    compare_each(tools, "cidr:" + path, ["127.0.0.1", "8.8.8.8", "fe80::1", "garbage"])


# ---------------------------------------------------------------- lmdb

def lmdb_source(n=2000):
    lines = ["# a source for lmdb:", "Postmaster@Example.com  postmaster value",
             "spaces@example.com   a value  with   spaces",
             "dup@example.com first", "dup@example.com second"]
    lines += ["user%04d@example.com  dest%04d@example.net" % (i, i) for i in range(n)]
    return "\n".join(lines) + "\n"


def lmdb_keys(n=2000):
    return (["user%04d@example.com" % i for i in range(0, n + 50, 7)]
            + ["postmaster@example.com", "POSTMASTER@EXAMPLE.COM", "spaces@example.com",
               "dup@example.com", "absent@example.com", "user@example.com"])


@need_postfix("lmdb")
def test_lmdb_like_postfix(tools):
    src = lmdb_source()
    ph_src = tools.write("ph-virtual", src)
    pf_src = tools.write("pf-virtual", src)
    ph = tools.ph("lmdb:" + ph_src)
    pf = tools.pf("lmdb:" + pf_src)
    assert ph.returncode == 0 and pf.returncode == 0, (ph.stderr, pf.stderr)
    assert "ph-virtual, line 5: duplicate entry: \"dup@example.com\"" in ph.stderr
    assert os.path.exists(ph_src + ".lmdb") and not os.path.exists(ph_src + ".lmdb-lock")
    # each reads the other's file, with the same answers as its own
    keys = "".join(k + "\n" for k in lmdb_keys())
    answers = [t("-q", "-", "lmdb:" + f, input=keys).stdout
               for t in (tools.ph, tools.pf) for f in (ph_src, pf_src)]
    assert answers[0].count("\n") > 250
    assert answers.count(answers[0]) == 4, diff(answers[0], answers[3])
    dumps = [t("-s", "lmdb:" + f).stdout for t in (tools.ph, tools.pf) for f in (ph_src, pf_src)]
    assert dumps.count(dumps[0]) == 4 and dumps[0].count("\n") == 2003
    # changes in place by Posthorn, seen by Postfix
    r = tools.ph("-i", "lmdb:" + pf_src, input="new@example.com added\nuser0001@example.com x\n")
    assert r.returncode == 0 and "duplicate entry" in r.stderr, r.stderr
    assert tools.ph("-d", "user0002@example.com", "lmdb:" + pf_src).returncode == 0
    assert tools.ph("-d", "absent@example.com", "lmdb:" + pf_src).returncode == 1
    assert tools.pf("-q", "new@example.com", "lmdb:" + pf_src).stdout == "added\n"
    assert tools.pf("-q", "user0001@example.com", "lmdb:" + pf_src).stdout == "dest0001@example.net\n"
    assert tools.pf("-q", "user0002@example.com", "lmdb:" + pf_src).returncode == 1
    # and the other way round
    assert tools.pf("-i", "lmdb:" + ph_src, input="pf@example.com from postfix\n").returncode == 0
    assert tools.ph("-q", "pf@example.com", "lmdb:" + ph_src).stdout == "from postfix\n"


def test_lmdb_errors(tools):
    r = tools.ph("-q", "x", "lmdb:" + tools.path("nosuch"))
    assert r.returncode == 1
    assert "open database %s.lmdb: No such file or directory" % tools.path("nosuch") in r.stderr
    junk = tools.write("junk.lmdb", "not an lmdb file\n" * 500)
    r = tools.ph("-q", "x", "lmdb:" + junk[:-5])
    assert r.returncode == 1 and "fatal: table lmdb:" in r.stderr, r.stderr


# -------------------------------------------------------------- sqlite

SQLITE_ROWS = [("a@example.com", "A"), ("multi", "one"), ("multi", "two"), ("multi", "three"),
               ("nullv", None), ("empty", ""), ("mixed", ""), ("mixed", "x"), ("mixed", None),
               ("mixed", "y"), ("o'brien", "quoted"), ("example.com", "dom"),
               ("user", "local"), ("com", "tld"), ("a", "alpha@beta.example.org"),
               ("u2", "plain"), ("other.org", "other")]

SQLITE_CONFIGS = {
    "plain": "query = SELECT v FROM m WHERE k='%s'\n",
    "parts": "query = SELECT v FROM m WHERE k='%1' OR k='%u'\n   OR k = '%d'\n",
    "labels": "query = SELECT v FROM m WHERE k='%2.%1'\n",
    "format": "query = SELECT v FROM m WHERE k='%u'\n"
              "result_format = [%s|%S|%u|%U|%d|%D|%1|%2|%%]\n",
    "format2": "query = SELECT v FROM m WHERE k='%U'\nresult_format = smtp:[%s] %D\n",
    "domain": "query = SELECT v FROM m WHERE k='%u'\ndomain = example.com, other.org\n",
    "legacy": "table = m\nselect_field = v\nwhere_field = k\n"
              "additional_conditions = and v != 'two'\n",
}

SQLITE_KEYS = ["a@example.com", "A@Example.COM", "multi", "nullv", "empty", "mixed", "o'brien",
               "x' OR '1'='1", "user@com", "@com", "user", "user@example.com",
               "x@sub.example.com", "x@", "example.com", "a@x.org", "u2", "u2@host.example.com",
               "multi@x.org", "a@other.org", "user@other.org", "nothing", "%s", "a%"]


@need_postfix("sqlite")
def test_sqlite_like_postfix(tools):
    db = tools.path("test.sqlite")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE m (k TEXT, v TEXT)")
    con.executemany("INSERT INTO m VALUES (?, ?)", SQLITE_ROWS)
    con.commit()
    con.close()
    for name, text in SQLITE_CONFIGS.items():
        cf = tools.write("sqlite-%s.cf" % name, "dbpath = %s\n%s" % (db, text))
        ph = compare(tools, "sqlite:" + cf, SQLITE_KEYS)
        assert ph.stdout, name
    # more rows than expansion_limit: both fail the lookup
    cf = tools.write("sqlite-limit.cf", "dbpath = %s\nquery = SELECT v FROM m WHERE k='%%s'\n"
                     "expansion_limit = 2\n" % db)
    compare_each(tools, "sqlite:" + cf, ["mixed", "a@example.com", "nothing"])
    ph, pf = tools.ph("-q", "multi", "sqlite:" + cf), tools.pf("-q", "multi", "sqlite:" + cf)
    assert ph.returncode == pf.returncode == 1
    assert "Expansion limit exceeded for key 'multi'" in ph.stderr


def test_sqlite_errors(tools):
    cf = tools.write("bad-template.cf", "dbpath = /nonexistent.sqlite\nquery = SELECT '%x'\n")
    r = tools.ph("-q", "x", "sqlite:" + cf)
    assert r.returncode == 1 and "invalid query template: SELECT '%x'" in r.stderr
    cf = tools.write("bad-db.cf", "dbpath = %s\nquery = SELECT 1\n" % tools.path("nosuch.sqlite"))
    r = tools.ph("-q", "x", "sqlite:" + cf)
    assert r.returncode == 1 and "unable to open database file" in r.stderr


# ------------------------------------------------------ in a daemon

HEADER_CHECKS = r"""
/^Subject:.*regexp-reject/      REJECT regexp says no
if /^Subject:/
/^Subject: (.+)-tag$/           PREPEND X-Tag: $1
endif
"""

CLIENTS = """
127.0.0.2           REJECT cidr says no
127.0.0.0/8         OK
"""


class Client(RawSMTP):
    """A raw SMTP session from SOURCE (127.0.0.2 is outside mynetworks)."""

    def __init__(self, port, source):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0))
        self.buf = b""


def test_tables_in_smtpd(make_instance):
    inst = make_instance(main={}, start=False)
    paths = {}
    for name, text in (("header_checks", HEADER_CHECKS), ("clients", CLIENTS),
                       ("senders", "lmdb-bad@example.com REJECT lmdb says no\n")):
        paths[name] = os.path.join(inst.etc, name)
        with open(paths[name], "w") as f:
            f.write(text)
    r = inst.run([inst.bin("postmap"), "-c", inst.etc, "lmdb:" + paths["senders"]])
    assert r.returncode == 0, r.stderr
    db = os.path.join(inst.etc, "senders.sqlite")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE s (addr TEXT, action TEXT)")
    con.execute("INSERT INTO s VALUES ('sql-bad@example.com', 'REJECT sqlite says no')")
    con.commit()
    con.close()
    os.chmod(db, 0o644)
    with open(os.path.join(inst.etc, "senders.cf"), "w") as f:
        f.write("dbpath = %s\nquery = SELECT action FROM s WHERE addr = '%%s'\n" % db)
    inst.main_overrides.update({
        "header_checks": "regexp:" + paths["header_checks"],
        "smtpd_client_restrictions": "check_client_access cidr:" + paths["clients"],
        "smtpd_sender_restrictions": "check_sender_access lmdb:%s, check_sender_access "
                                     "sqlite:%s/senders.cf" % (paths["senders"], inst.etc),
    })
    inst.write_config()
    inst.start()

    # cidr: 127.0.0.2 is refused, 127.0.0.1 is not
    c = Client(inst.port, "127.0.0.2")
    assert c.reply()[0] == 220
    assert c.cmd("HELO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN) == (
        554, "5.7.1 <unknown[127.0.0.2]>: Client host rejected: cidr says no")
    c.cmd("QUIT")
    c.close()

    # lmdb and sqlite senders
    with inst.smtp() as s:
        s.ehlo()
        for sender, text in (("lmdb-bad@example.com", "lmdb says no"),
                             ("sql-bad@example.com", "sqlite says no")):
            s.mail(sender)
            code, msg = s.rcpt("alice@" + DOMAIN)
            assert (code, msg.decode()) == (
                554, "5.7.1 <%s>: Sender address rejected: %s" % (sender, text))
            s.rset()

    # regexp header_checks: a REJECT, and a PREPEND with $1
    def message(subject):
        return ("From: s@example.com\r\nTo: alice@%s\r\nSubject: %s\r\n\r\nbody\r\n"
                % (DOMAIN, subject)).encode()

    with inst.smtp() as s:
        s.ehlo()
        s.mail("s@example.com")
        s.rcpt("alice@" + DOMAIN)
        code, text = s.data(message("please regexp-reject this"))
        assert (code, text.decode()) == (550, "5.7.1 regexp says no")
    inst.send("alice@" + DOMAIN, message("hello-tag"))
    data = inst.wait_for_message(b"Subject: hello-tag", "alice")
    assert data is not None, inst.log_tail()
    assert b"X-Tag: hello\n" in data, data[:400]
