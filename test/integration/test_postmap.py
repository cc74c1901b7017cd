"""test_postmap.py - postmap, postalias and newaliases.

postmap compiles "key value" text into hash:/btree: databases and answers
-q (one key, or keys on stdin with "-q -"), -s (dump), -d (delete), -i
(add from stdin); duplicates are warned about with file and line; keys are
folded unless -f; a missing source is "postmap: fatal: open FILE: No such
file or directory".  postmap -q on a pcre: table gives what Postfix's
gives.  postalias reads aliases(5) text and adds Sendmail's "@" entry;
newaliases (and sendmail -bi) rebuilds every table in alias_database.

Where Postfix's own /usr/sbin/postmap is installed, the same text is
compiled by both and each reads the other's .db with the same answers
(keys present and absent); without it those tests say they skipped.
No instance is started: the commands run against a config directory.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

from posthorn_instance import build_dir, IS_ROOT, USERS

PF_POSTMAP = "/usr/sbin/postmap"
PF_POSTALIAS = "/usr/sbin/postalias"
PF_CONFIG = "/etc/postfix"
HAVE_POSTFIX = os.access(PF_POSTMAP, os.X_OK) and os.path.exists(
    os.path.join(PF_CONFIG, "main.cf"))
SKIP_NO_POSTFIX = pytest.mark.skipif(
    not HAVE_POSTFIX, reason="Postfix's postmap (%s with %s/main.cf) is not installed: "
    "compatibility not checked" % (PF_POSTMAP, PF_CONFIG))


def postfix_has_pcre():
    if not HAVE_POSTFIX:
        return False
    r = subprocess.run(["/usr/sbin/postconf", "-c", PF_CONFIG, "-m"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return "pcre" in r.stdout.split()


# ------------------------------------------------------------------ helpers

class Tools:
    """Posthorn's postmap/postalias with a private config directory."""

    def __init__(self, base):
        self.base = str(base)
        self.etc = os.path.join(self.base, "etc")
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("myhostname = mail.posthorn.test\n")
        self.env = dict(os.environ)
        self.env.pop("MAIL_CONFIG", None)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")

    def path(self, *names):
        return os.path.join(self.base, *names)

    def write(self, name, text, mode=None):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(p, mode)
        return p

    def run(self, prog, args, input=None):
        argv = [os.path.join(build_dir(), "bin", prog), "-c", self.etc] + list(args)
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60,
                              env=self.env)

    def postmap(self, *args, input=None):
        return self.run("postmap", args, input)

    def postalias(self, *args, input=None):
        return self.run("postalias", args, input)


def pf_run(prog, args, input=None):
    """Postfix's own command with the system config directory."""
    return subprocess.run([prog, "-c", PF_CONFIG] + list(args), input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout, r.stderr)
    return r


def dump_pairs(text, sep="\t"):
    """-s output as a dict."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(sep)
        out[k] = v
    return out


@pytest.fixture
def tools():
    """A fresh directory below /tmp (reachable by other uids, for the
    run-as-owner test) with etc/main.cf; removed afterwards."""
    base = tempfile.mkdtemp(prefix="ph-postmap-", dir="/tmp")
    os.chmod(base, 0o755)
    yield Tools(base)
    if not os.environ.get("POSTHORN_KEEP"):
        shutil.rmtree(base, ignore_errors=True)


SOURCE = """\
# a comment, then a blank line

user1@example.com     target1@example.net
User2@Example.COM     target2@example.net
mixed                 Value With Spaces
long                  first
    second part
example.org           OK
"""


# ------------------------------------------------------------------ postmap

def test_build_and_query(tools):
    src = tools.write("virtual", SOURCE)
    r = ok(tools.postmap("hash:" + src))
    assert r.stderr == ""
    assert os.path.exists(src + ".db")
    r = tools.postmap("-q", "user1@example.com", "hash:" + src)
    assert (r.returncode, r.stdout) == (0, "target1@example.net\n")
    # keys are folded when built and when queried
    r = tools.postmap("-q", "USER2@example.com", "hash:" + src)
    assert (r.returncode, r.stdout) == (0, "target2@example.net\n")
    r = tools.postmap("-q", "mixed", "hash:" + src)
    assert r.stdout == "Value With Spaces\n"
    r = tools.postmap("-q", "long", "hash:" + src)
    assert r.returncode == 0 and r.stdout.startswith("first") and "second part" in r.stdout
    r = tools.postmap("-q", "nobody@example.com", "hash:" + src)
    assert (r.returncode, r.stdout) == (1, "")


def test_default_type_is_hash(tools):
    src = tools.write("plain", "a 1\n")
    ok(tools.postmap(src))
    assert os.path.exists(src + ".db")
    assert tools.postmap("-q", "a", "hash:" + src).stdout == "1\n"
    assert tools.postmap("-q", "a", src).stdout == "1\n"


def test_query_stdin(tools):
    src = tools.write("virtual", SOURCE)
    ok(tools.postmap("hash:" + src))
    r = tools.postmap("-q", "-", "hash:" + src,
                      input="user1@example.com\nabsent\nexample.org\n")
    assert r.returncode == 0
    assert r.stdout == "user1@example.com\ttarget1@example.net\nexample.org\tOK\n"
    r = tools.postmap("-q", "-", "hash:" + src, input="absent\nalso-absent\n")
    assert (r.returncode, r.stdout) == (1, "")


def test_query_first_table_wins(tools):
    a = tools.write("a", "k from-a\nonly-a yes\n")
    b = tools.write("b", "k from-b\nonly-b yes\n")
    ok(tools.postmap("hash:" + a, "hash:" + b))
    assert tools.postmap("-q", "k", "hash:" + a, "hash:" + b).stdout == "from-a\n"
    assert tools.postmap("-q", "only-b", "hash:" + a, "hash:" + b).returncode == 0
    r = tools.postmap("-q", "-", "hash:" + a, "hash:" + b, input="only-b\nk\n")
    assert r.stdout == "only-b\tyes\nk\tfrom-a\n"


def test_dump_prints_every_entry(tools):
    src = tools.write("virtual", SOURCE)
    ok(tools.postmap("hash:" + src))
    r = ok(tools.postmap("-s", "hash:" + src))
    got = dump_pairs(r.stdout)
    assert set(got) == {"user1@example.com", "user2@example.com", "mixed", "long",
                        "example.org"}
    assert got["mixed"] == "Value With Spaces"
    assert len(r.stdout.splitlines()) == 5


def test_delete(tools):
    src = tools.write("virtual", SOURCE)
    ok(tools.postmap("hash:" + src))
    assert tools.postmap("-d", "User1@example.com", "hash:" + src).returncode == 0
    assert tools.postmap("-q", "user1@example.com", "hash:" + src).returncode == 1
    assert tools.postmap("-d", "user1@example.com", "hash:" + src).returncode == 1
    r = tools.postmap("-d", "-", "hash:" + src, input="mixed\nabsent\n")
    assert r.returncode == 0
    assert tools.postmap("-q", "mixed", "hash:" + src).returncode == 1
    assert tools.postmap("-q", "long", "hash:" + src).returncode == 0
    r = tools.postmap("-d", "-", "hash:" + src, input="absent\n")
    assert r.returncode == 1


def test_incremental_adds_from_stdin(tools):
    src = tools.write("virtual", SOURCE)
    ok(tools.postmap("hash:" + src))
    ok(tools.postmap("-i", "hash:" + src, input="New@Example.com fresh\n"))
    assert tools.postmap("-q", "new@example.com", "hash:" + src).stdout == "fresh\n"
    assert tools.postmap("-q", "user1@example.com", "hash:" + src).returncode == 0


def test_duplicates(tools):
    src = tools.write("dups", "a first\nb x\nA second\n")
    r = ok(tools.postmap("hash:" + src))
    assert re.search(r'^postmap: warning: %s, line 3: duplicate entry: "a"$'
                     % re.escape(src), r.stderr, re.M), r.stderr
    assert tools.postmap("-q", "a", "hash:" + src).stdout == "first\n"
    r = ok(tools.postmap("-w", "hash:" + src))
    assert r.stderr == ""
    assert tools.postmap("-q", "a", "hash:" + src).stdout == "first\n"
    r = ok(tools.postmap("-r", "hash:" + src))
    assert r.stderr == ""
    assert tools.postmap("-q", "a", "hash:" + src).stdout == "second\n"


def test_bad_line_is_warned_and_skipped(tools):
    src = tools.write("bad", "good yes\nnovalue\nalso fine\n")
    r = ok(tools.postmap("hash:" + src))
    assert "%s, line 2: expected format: key whitespace value" % src in r.stderr
    assert tools.postmap("-q", "also", "hash:" + src).stdout == "fine\n"


def test_no_folding_with_f(tools):
    src = tools.write("cased", "MixedKey value\n")
    ok(tools.postmap("-f", "hash:" + src))
    assert tools.postmap("-f", "-q", "MixedKey", "hash:" + src).stdout == "value\n"
    assert tools.postmap("-f", "-q", "mixedkey", "hash:" + src).returncode == 1
    assert tools.postmap("-q", "MixedKey", "hash:" + src).returncode == 1
    assert dump_pairs(tools.postmap("-s", "hash:" + src).stdout) == {"MixedKey": "value"}


def test_missing_source_file(tools):
    missing = tools.path("does-not-exist")
    r = tools.postmap("hash:" + missing)
    assert r.returncode == 1
    assert r.stderr.strip() == "postmap: fatal: open %s: No such file or directory" % missing
    assert not os.path.exists(missing + ".db")


def test_query_missing_database_fails(tools):
    r = tools.postmap("-q", "x", "hash:" + tools.path("nothing"))
    assert r.returncode == 1
    assert "nothing.db" in r.stderr


def test_bad_usage(tools):
    r = tools.postmap()
    assert r.returncode == 1 and "usage: postmap" in r.stderr
    r = tools.postmap("-q", "a", "-s", "hash:x")
    assert r.returncode == 1 and "specify only one of" in r.stderr
    src = tools.write("t", "a b\n")
    r = tools.postmap("texthash:" + src)
    assert r.returncode == 1 and "does not support bulk-mode creation" in r.stderr


def test_btree(tools):
    src = tools.write("sorted", "zeta 26\nalpha 1\nMike 13\n")
    ok(tools.postmap("btree:" + src))
    assert tools.postmap("-q", "mike", "btree:" + src).stdout == "13\n"
    assert tools.postmap("-q", "nope", "btree:" + src).returncode == 1
    r = ok(tools.postmap("-s", "btree:" + src))
    assert [l.split("\t")[0] for l in r.stdout.splitlines()] == ["alpha", "mike", "zeta"]


def test_rebuild_replaces_file_atomically(tools):
    src = tools.write("t", "a 1\n")
    ok(tools.postmap("hash:" + src))
    ino = os.stat(src + ".db").st_ino
    tools.write("t", "a 2\n")
    ok(tools.postmap("hash:" + src))
    assert os.stat(src + ".db").st_ino != ino     # a new file renamed into place
    assert tools.postmap("-q", "a", "hash:" + src).stdout == "2\n"
    assert sorted(os.listdir(tools.base)) == ["etc", "t", "t.db"]   # no temp file left


def test_database_mode_follows_source(tools):
    src = tools.write("secret", "a 1\n", mode=0o640)
    ok(tools.postmap("hash:" + src))
    assert stat.S_IMODE(os.stat(src + ".db").st_mode) == 0o640
    os.unlink(src + ".db")
    ok(tools.postmap("-p", "hash:" + src))
    assert stat.S_IMODE(os.stat(src + ".db").st_mode) == 0o644


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run as the source file's owner")
def test_root_runs_as_source_owner(tools):
    uid = USERS["alice"]
    d = tools.path("owned")
    os.makedirs(d)
    os.chown(d, uid, uid)
    src = tools.write("owned/map", "a 1\n")
    os.chown(src, uid, uid)
    ok(tools.postmap("hash:" + src))
    st = os.stat(src + ".db")
    assert (st.st_uid, st.st_gid) == (uid, uid)
    os.unlink(src + ".db")
    ok(tools.postmap("-o", "hash:" + src))
    assert os.stat(src + ".db").st_uid == 0


@pytest.mark.skipif(not shutil.which("db_dump"), reason="db_dump (db-util) not installed")
def test_keys_stored_with_nul_as_postfix_on_linux(tools):
    src = tools.write("t", "key value\n")
    ok(tools.postmap("hash:" + src))
    dump = subprocess.run(["db_dump", "-p", src + ".db"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout
    assert " key\\00\n value\\00\n" in dump
    ok(tools.postmap("-n", "hash:" + src))
    dump = subprocess.run(["db_dump", "-p", src + ".db"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout
    assert " key\n value\n" in dump
    # a table without NULs is still found by a default query
    assert tools.postmap("-q", "key", "hash:" + src).stdout == "value\n"


# --------------------------------------------------------------------- pcre

PCRE_TABLE = r"""# pcre test table
/^(.*)@example\.com$/        local:$1
/^postmaster@/               OK
if /@sub\.test$/
/^admin@/                    REJECT admins only
!/^user/                     DUNNO not-a-user
endif
/^x-([a-z]+)-([0-9]+)$/      pair $2 and $1
/^CaseSens$/i                exact case only
/^(a)(b)?c$/                 got [$1] [${2}]
!/\./                        nodot
"""

# key -> expected value (None: not found); checked against Postfix when it has pcre
PCRE_EXPECT = {
    "joe@example.com": "local:joe",
    "Joe.Smith@EXAMPLE.com": "local:Joe.Smith",
    "postmaster@other.org": "OK",
    "admin@sub.test": "REJECT admins only",
    "user7@sub.test": None,
    "root@sub.test": "DUNNO not-a-user",
    "x-abc-42": "pair 42 and abc",
    "X-ABC-42": "pair 42 and ABC",
    "CaseSens": "exact case only",
    "casesens": "nodot",
    "ac": "got [a] []",
    "ABC": "got [A] [B]",
    "someone@else.org": None,
    "plain": "nodot",
}


def test_pcre_query(tools):
    table = tools.write("checks.pcre", PCRE_TABLE)
    keys = list(PCRE_EXPECT)
    for key in keys:
        r = tools.postmap("-q", key, "pcre:" + table)
        got = r.stdout[:-1] if r.returncode == 0 else None
        assert r.returncode in (0, 1), r.stderr
        assert got == PCRE_EXPECT[key], "key %r: got %r" % (key, got)
        assert "warning" not in r.stderr, r.stderr
    r = tools.postmap("-q", "-", "pcre:" + table, input="\n".join(keys) + "\n")
    expect = "".join("%s\t%s\n" % (k, v) for k, v in PCRE_EXPECT.items() if v is not None)
    assert r.stdout == expect


@pytest.mark.skipif(not postfix_has_pcre(),
                    reason="Postfix's postmap without pcre support (postfix-pcre): "
                    "pcre answers compared with expected values only")
def test_pcre_query_same_as_postfix(tools):
    table = tools.write("checks.pcre", PCRE_TABLE)
    for key in PCRE_EXPECT:
        ours = tools.postmap("-q", key, "pcre:" + table)
        theirs = pf_run(PF_POSTMAP, ["-q", key, "pcre:" + table])
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), \
            "key %r: posthorn %r, postfix %r %s" % (key, ours.stdout, theirs.stdout,
                                                   theirs.stderr)


def test_pcre_bad_regex_names_file_and_line(tools):
    table = tools.write("bad.pcre", "/ok/ fine\n/(unclosed/ broken\n")
    r = tools.postmap("-q", "ok", "pcre:" + table)
    assert "bad.pcre" in r.stderr and "line 2" in r.stderr, r.stderr


# ------------------------------------------------------- Postfix compatibility

def compat_source(n=300):
    lines = ["# compatibility table"]
    for i in range(n):
        lines.append("User%d@Example.com   target-%d@dest.example, extra %d" % (i, i, i))
    lines.append("domain.example   OK")
    lines.append("192.168.1        REJECT no relay")
    lines.append("continued   first part")
    lines.append("  second part")
    return "\n".join(lines) + "\n"


def compat_keys(n=300):
    keys = ["user%d@example.com" % i for i in range(0, n, 7)]
    keys += ["USER%d@EXAMPLE.COM" % i for i in range(3, n, 11)]
    keys += ["domain.example", "192.168.1", "continued"]
    keys += ["absent%d@example.com" % i for i in range(20)]
    keys += ["user%d@example.com" % (n + 5), "", "192.168.1.1"]
    return keys


@SKIP_NO_POSTFIX
@pytest.mark.parametrize("kind", ["hash", "btree"])
def test_postfix_reads_ours_and_we_read_theirs(tools, kind):
    text = compat_source()
    a = tools.write("A/table", text)        # built by Posthorn
    b = tools.write("B/table", text)        # built by Postfix
    ok(tools.postmap(kind + ":" + a))
    ok(pf_run(PF_POSTMAP, [kind + ":" + b]))
    keys = compat_keys()
    stdin = "\n".join(keys) + "\n"
    answers = {
        "posthorn on A": tools.postmap("-q", "-", kind + ":" + a, input=stdin),
        "posthorn on B": tools.postmap("-q", "-", kind + ":" + b, input=stdin),
        "postfix on A": pf_run(PF_POSTMAP, ["-q", "-", kind + ":" + a], input=stdin),
        "postfix on B": pf_run(PF_POSTMAP, ["-q", "-", kind + ":" + b], input=stdin),
    }
    ref = answers["postfix on B"]
    assert ref.returncode == 0 and ref.stdout.count("\n") > 40
    for who, r in answers.items():
        assert (r.returncode, r.stdout) == (ref.returncode, ref.stdout), who
    # one key at a time too, present and absent, each way
    for key in ["user14@example.com", "USER3@example.com", "continued", "absent1@x"]:
        results = set()
        for path in (a, b):
            ours = tools.postmap("-q", key, kind + ":" + path)
            theirs = pf_run(PF_POSTMAP, ["-q", key, kind + ":" + path])
            results.add((ours.returncode, ours.stdout))
            results.add((theirs.returncode, theirs.stdout))
        assert len(results) == 1, (key, results)
    # and the dumps hold the same entries
    dumps = [dump_pairs(tools.postmap("-s", kind + ":" + p).stdout) for p in (a, b)]
    dumps += [dump_pairs(pf_run(PF_POSTMAP, ["-s", kind + ":" + p]).stdout) for p in (a, b)]
    assert all(d == dumps[0] for d in dumps) and len(dumps[0]) == 303


@SKIP_NO_POSTFIX
def test_postfix_postalias_compatible(tools):
    text = "root: admin\nPostmaster: root\nteam: a, b,\n  c\n"
    a = tools.write("A/aliases", text)
    b = tools.write("B/aliases", text)
    ok(tools.postalias("hash:" + a))
    ok(pf_run(PF_POSTALIAS, ["hash:" + b]))
    stdin = "root\npostmaster\nteam\n@\nnobody\n"
    outs = set()
    for path in (a, b):
        outs.add(tools.postalias("-q", "-", "hash:" + path, input=stdin).stdout)
        outs.add(pf_run(PF_POSTALIAS, ["-q", "-", "hash:" + path], input=stdin).stdout)
    assert len(outs) == 1, outs
    assert "team:\ta, b, c\n" in outs.pop()


# ---------------------------------------------------------------- postalias

ALIASES = """\
# aliases(5)
Postmaster: root
root:       admin
workgroup:  client1, client2,
            client3
"quoted name": someone
pipe:       "|/usr/bin/true"
files:      /tmp/mailbox, :include:/etc/list
"""


def test_postalias_build_and_query(tools):
    src = tools.write("aliases", ALIASES)
    r = ok(tools.postalias("hash:" + src))
    assert r.stderr == ""
    assert tools.postalias("-q", "postmaster", "hash:" + src).stdout == "root\n"
    assert tools.postalias("-q", "ROOT", "hash:" + src).stdout == "admin\n"
    r = tools.postalias("-q", "workgroup", "hash:" + src)
    assert r.stdout == "client1, client2, client3\n"
    assert tools.postalias("-q", "quoted name", "hash:" + src).stdout == "someone\n"
    assert tools.postalias("-q", "nobody", "hash:" + src).returncode == 1
    r = tools.postalias("-q", "-", "hash:" + src, input="root\nnobody\npostmaster\n")
    assert (r.returncode, r.stdout) == (0, "root:\tadmin\npostmaster:\troot\n")


def test_postalias_sendmail_at_entry_and_dump(tools):
    src = tools.write("aliases", ALIASES)
    ok(tools.postalias("hash:" + src))
    r = tools.postalias("-q", "@", "hash:" + src)
    assert (r.returncode, r.stdout) == (0, "@\n")
    got = dump_pairs(ok(tools.postalias("-s", "hash:" + src)).stdout, ":\t")
    assert got["@"] == "@"
    assert got["root"] == "admin"
    assert got["YP_MASTER_NAME"] == "mail.posthorn.test"
    assert re.fullmatch(r"\d{10}", got["YP_LAST_MODIFIED"])
    # the same rows through postmap, with its separator
    assert dump_pairs(tools.postmap("-s", "hash:" + src).stdout)["root"] == "admin"


def test_postalias_bad_line(tools):
    src = tools.write("aliases", "good: yes\nthis line has no colon\n")
    r = ok(tools.postalias("hash:" + src))
    assert "%s, line 2: need name:value pair" % src in r.stderr, r.stderr
    assert tools.postalias("-q", "good", "hash:" + src).stdout == "yes\n"


def test_postalias_missing_file(tools):
    missing = tools.path("no-aliases")
    r = tools.postalias("hash:" + missing)
    assert r.returncode == 1
    assert r.stderr.strip() == "postalias: fatal: open %s: No such file or directory" % missing


# --------------------------------------------------------------- newaliases

def test_newaliases_rebuilds_alias_database(make_instance):
    inst = make_instance(start=False)
    a1 = os.path.join(inst.base, "aliases")
    a2 = os.path.join(inst.base, "more-aliases")
    with open(a1, "w") as f:
        f.write("team: alice, bob\n")
    with open(a2, "w") as f:
        f.write("boss: carol\n")
    inst.main_overrides["alias_database"] = "hash:%s, btree:%s" % (a1, a2)
    inst.write_config()
    r = inst.run([inst.bin("newaliases")])
    assert r.returncode == 0, r.stderr
    pa = inst.bin("postalias")
    assert inst.run([pa, "-q", "team", "hash:" + a1]).stdout == "alice, bob\n"
    assert inst.run([pa, "-q", "boss", "btree:" + a2]).stdout == "carol\n"

    with open(a1, "w") as f:
        f.write("team: alice\n")
    r = inst.sendmail(["-bi"], "")
    assert r.returncode == 0, r.stderr
    assert inst.run([pa, "-q", "team", "hash:" + a1]).stdout == "alice\n"

    # a table that cannot be built makes the exit status non-zero; the others are built
    os.unlink(a2 + ".db")
    inst.main_overrides["alias_database"] = "hash:%s/missing, btree:%s" % (inst.base, a2)
    inst.write_config()
    r = inst.run([inst.bin("newaliases")])
    assert r.returncode != 0
    assert "open %s/missing: No such file or directory" % inst.base in r.stderr
    assert os.path.exists(a2 + ".db")


def test_newaliases_rejects_recipients(make_instance):
    inst = make_instance(start=False)
    r = inst.sendmail(["-bi", "alice"], "")
    assert r.returncode != 0
    assert "requires no recipient" in r.stderr
