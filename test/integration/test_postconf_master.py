"""test_postconf_master.py - postconf -M/-F/-P, the edits, and the rest of
postconf(1), against Postfix 3.7's own postconf on the same files.

Each comparison copies the same main.cf and master.cf into two private
directories, runs /usr/sbin/postconf -c A ... and Posthorn's postconf -c B
..., and wants the same exit status, the same standard output, the same
set of warnings (with the program name and the directory taken out), and
for an edit the same resulting main.cf and master.cf.  The master.cf is
Postfix's stock one (its package's master.cf.dist, every service type
Postfix knows) plus entries that exercise the syntax ("{...}" groups,
"-oname=value", "-vo", "--", a bare "-o", long command lines to fold),
and separately Posthorn's conf/master.cf; the main.cf is a stock Debian
one (main.cf.debian + main.cf.tls + what the package's postinst sets).

Known differences, not compared: Postfix-only parameters (-d, -x listings),
Postfix's warnings repeated by its rereading of main.cf, a Postfix crash
on "-X name name", and Postfix writing an unterminated last line without
its newline.  Without Postfix (or its master.cf.dist) the comparisons say
they skipped; the Posthorn-only checks still run.
"""

import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from posthorn_instance import build_dir, REPO

PF_POSTCONF = "/usr/sbin/postconf"
PF_MASTER = "/usr/share/postfix/master.cf.dist"
HAVE_POSTFIX = os.access(PF_POSTCONF, os.X_OK) and os.path.exists(PF_MASTER)
NEED_POSTFIX = pytest.mark.skipif(
    not HAVE_POSTFIX, reason="Postfix's postconf (%s) and %s are not installed: "
    "nothing to compare with" % (PF_POSTCONF, PF_MASTER))

# A stock Debian main.cf: main.cf.debian, main.cf.tls, the postinst's settings.
DEBIAN_MAIN = """\
# See /usr/share/postfix/main.cf.dist for a commented, more complete version


# Debian specific:  Specifying a file name will cause the first
# line of that file to be used as the name.  The Debian default
# is /etc/mailname.
#myorigin = /etc/mailname

smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no

# appending .domain is the MUA's job.
append_dot_mydomain = no

# Uncomment the next line to generate "delayed mail" warnings
#delay_warning_time = 4h

readme_directory = no

# See http://www.postfix.org/COMPATIBILITY_README.html -- default to 3.6 on
# fresh installs.
compatibility_level = 3.6



# TLS parameters
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level=may

smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache


smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = mail.example.com
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
myorigin = /etc/mailname
mydestination = $myhostname, mail.example.com, localhost.example.com, , localhost
relayhost = 
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = all
inet_protocols = all
"""

# master.cf entries that exercise the syntax postconf must understand
TRICKY_MASTER = """\
smtp2     inet  n       -       y       -       -       smtpd
  -o foo_bar=1
  -o { smtpd_banner = hello  world }
  -o smtpd_client_restrictions=$foo_bar
  -o smtpd_client_restrictions=again
  -o zzz_unused=3
#  -o commented=1
  -vo syslog_name=x -D
submission inet n       -       y       -       -       smtpd -o{smtpd_tls_security_level = encrypt} -o
pipe1 unix - n n - - pipe flags=R user=x argv=/bin/echo { a b } {c} $recipient ${a very long argument that goes on and on and on and on} more text here to wrap the line beyond eighty characters
x unix - - - - - cmd -o a=b -- -o c=d
"""


def posthorn_postconf():
    return os.path.join(build_dir(), "bin", "postconf")


def stock_master():
    with open(PF_MASTER) as f:
        return f.read() + TRICKY_MASTER


def posthorn_master():
    with open(os.path.join(REPO, "conf", "master.cf")) as f:
        return f.read()


def config_dir(base, name, main, master):
    d = os.path.join(str(base), name)
    os.makedirs(d)
    for fname, text in (("main.cf", main), ("master.cf", master)):
        if text is not None:
            with open(os.path.join(d, fname), "w") as f:
                f.write(text)
    return d


class Result:
    """What one postconf run gave: rc, stdout, the set of stderr lines
    (program name and directory taken out) and the files afterwards."""

    def __init__(self, binary, d, args):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")  # a SAN build's fatal exits
        r = subprocess.run([binary, "-c", d] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=30,
                           env=env)
        self.rc = r.returncode
        self.out = r.stdout.replace(d, "DIR")
        self.stderr = r.stderr
        err = re.sub(r"(?m)^\S*postconf: ", "", r.stderr).replace(d, "DIR")
        self.err = set(err.splitlines())
        self.files = {}
        for fname in ("main.cf", "master.cf"):
            path = os.path.join(d, fname)
            if os.path.exists(path):
                with open(path) as f:
                    self.files[fname] = f.read()

    def __repr__(self):
        return "rc=%d\n--- stdout\n%s--- stderr\n%s" % (self.rc, self.out, self.stderr)


# Postfix's results by (args, main.cf, master.cf): its postconf sleeps a
# second before a fatal exit, so the bad-usage cases are run side by side
# once (warm_postfix) rather than one after the other.
_PF_RESULTS = {}


def run_in_copy(binary, name, args, main, master):
    """BINARY -c /tmp/pc-XXXXXXXX/NAME ARGS: equal path lengths for both,
    as the directory's name can take part in folding."""
    base = tempfile.mkdtemp(prefix="pc-", dir="/tmp")
    try:
        return Result(binary, config_dir(base, name, main, master), args)
    finally:
        subprocess.run(["rm", "-rf", base])


def postfix_result(args, main, master):
    key = (tuple(args), main, master)
    if key not in _PF_RESULTS:
        _PF_RESULTS[key] = run_in_copy(PF_POSTCONF, "pf", args, main, master)
    return _PF_RESULTS[key]


def both(tmp_path, args, main=DEBIAN_MAIN, master=None, sub=""):
    """Run Postfix's and Posthorn's postconf on equal copies; (pf, ph)."""
    master = stock_master() if master is None else master
    pf = postfix_result(args, main, master)
    ph = run_in_copy(posthorn_postconf(), "ph", args, main, master)
    return pf, ph


@pytest.fixture(scope="module")
def warm_postfix():
    """Postfix's answers to the parametrized cases, all at once (its
    postconf sleeps a second before a fatal exit, and after some warnings)."""
    if not HAVE_POSTFIX:
        return
    stock = stock_master()
    cases = [(a, DEBIAN_MAIN, stock) for a in SHOW_ARGS + MASTER_EDITS + BAD_USAGE
             + [["-Z"], ["-T"]]]
    cases += [(a, DEBIAN_MAIN, posthorn_master()) for a in POSTHORN_SHOW_ARGS]
    cases += [(a, MAIN_WITH_DUPLICATES, stock) for a in MAIN_EDITS]
    cases += [(m, DEBIAN_MAIN, stock) for m in MAIN_SHOW_ARGS]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda c: postfix_result(*c), cases))


def assert_same(pf, ph, what=("rc", "out", "err", "files")):
    for attr in what:
        assert getattr(pf, attr) == getattr(ph, attr), \
            "%s differs\nPostfix:\n%r\nPosthorn:\n%r" % (attr, pf, ph)


# ------------------------------------------------------------- showing

SHOW_ARGS = [
    ["-M"], ["-Mf"], ["-F"], ["-Ff"], ["-P"], ["-Pf"], ["-Mx"], ["-Px"], ["-Fx"],
    ["-Fh"], ["-FH"], ["-Ph"], ["-PH"], ["-Mfx"],
    ["-M", "smtp"], ["-M", "smtp/inet", "relay", "nosuch", "*/unix-dgram"],
    ["-F", "*/*/command"], ["-F", "pipe1/unix/command", "smtp/inet/process_limit"],
    ["-Ff", "pipe1/unix/command"], ["-P", "*/*/syslog_name"],
    ["-P", "smtp2/inet/smtpd_banner", "nosuch/inet/x"], ["-Px", "relay/unix"],
]


@NEED_POSTFIX
@pytest.mark.parametrize("args", SHOW_ARGS, ids=lambda a: " ".join(a))
def test_show_stock_master(tmp_path, warm_postfix, args):
    """-M, -F and -P print Postfix's stock master.cf (and the tricky
    entries) exactly as Postfix's postconf does, folded with -f, expanded
    with -x, narrowed by patterns, "unmatched request" for a miss, and the
    same "unused parameter" warnings for -o names nobody knows."""
    pf, ph = both(tmp_path, args)
    assert pf.rc == 0, pf
    assert_same(pf, ph)


POSTHORN_SHOW_ARGS = [["-M"], ["-Mf"], ["-F"], ["-P"], ["-Px"], ["-Ff"]]


@NEED_POSTFIX
@pytest.mark.parametrize("args", POSTHORN_SHOW_ARGS, ids=lambda a: " ".join(a))
def test_show_posthorn_master(tmp_path, warm_postfix, args):
    pf, ph = both(tmp_path, args, master=posthorn_master())
    assert_same(pf, ph)


@NEED_POSTFIX
def test_show_instance_master(make_instance, tmp_path):
    """The master.cf of a real instance (test ports, -o overrides) reads
    the same with both."""
    inst = make_instance(start=False)
    with open(os.path.join(inst.etc, "master.cf")) as f:
        master = f.read()
    with open(os.path.join(inst.etc, "main.cf")) as f:
        main = f.read()
    for args in (["-Mf"], ["-F"], ["-P"], ["-M"]):
        pf, ph = both(tmp_path, args, main=main, master=master)
        assert_same(pf, ph, ("rc", "out"))
    r = inst.postconf("-M")
    assert r.returncode == 0 and r.stdout == ph.out, r.stderr


@NEED_POSTFIX
@pytest.mark.parametrize("master", [
    "  orphan unix - - - - - x\nsmtp inet n - - - - smtpd\n",
    "smtp inet n - - - - smtpd\n# c\nbad unix\n  -\n\n  x y\nz unix - - - - - a\n",
    "smtp inet n - n - - smtpd\nbad foo - - - - - x\n",
    "smtp inet n - n - - smtpd\nbad unix - - - 1x - x\n  -o a=b\n",
    "smtp inet yes - n - - smtpd\n",
    "smtp inet n - n - x smtpd\n",
    "smtp inet n - n - - smtpd -o {a=b\nx unix - - - - - y {abc}d {q} -o {a}b\n",
    "smtp inet n - n - - smtpd",
], ids=["orphan", "field-count", "type", "wakeup", "private", "maxproc", "braces",
        "no-newline"])
def test_bad_master(tmp_path, master):
    """Bad entries: the same fatal error (naming the file and the line
    where the entry starts) or warning, the same exit status."""
    pf, ph = both(tmp_path, ["-M"], master=master)
    assert_same(pf, ph, ("rc", "out", "err"))


@NEED_POSTFIX
def test_missing_master(tmp_path):
    """No master.cf: fatal for -M, a warning when showing main.cf."""
    for args, rc in ((["-M"], 1), (["-n"], 0)):
        base = tmp_path / ("missing" + args[0])
        a = Result(PF_POSTCONF, config_dir(base, "pf", DEBIAN_MAIN, None), args)
        b = Result(posthorn_postconf(), config_dir(base, "ph", DEBIAN_MAIN, None), args)
        assert a.rc == b.rc == rc, (a, b)
        assert a.err == b.err, (a, b)
        assert a.out == b.out


# ------------------------------------------------------------- editing

MASTER_EDITS = [
    ["-Me", "smtp/inet=smtp inet n - n - 10 smtpd -o a=b"],
    ["-Me", "new/unix=new unix - - n - - newcmd  -o { x = y z } arg"],
    ["-Me", "smtp/inet=submission inet n - n - - smtpd"],
    ["smtp/inet=smtp inet n - n - - smtpd"],
    ["-MX", "smtp/inet"],
    ["-MX", "*/unix", "smtp2/inet"],
    ["-M#", "smtp/inet", "pipe1/unix"],
    ["-M#", "smtp2/inet"],
    ["-M#", "nosuch/inet"],
    ["-Fe", "smtp/inet/chroot=n"],
    ["-Fe", "*/*/chroot=n"],
    ["-Fe", "pipe1/unix/command=pipe flags=X argv=/bin/true"],
    ["-Fe", "smtp2/inet/process_limit=5", "smtp2/inet/wakeup=10?"],
    ["-Fe", "nosuch/unix/chroot=n"],
    ["-Pe", "smtp/inet/syslog_name=postfix/in"],
    ["-Pe", "smtp2/inet/smtpd_client_restrictions=permit"],
    ["-Pe", "pipe1/unix/new=1"],
    ["-Pe", "x/unix/new=1"],
    ["-PX", "smtp2/inet/smtpd_client_restrictions"],
    ["-PX", "*/*/syslog_name"],
    ["-PX", "nosuch/unix/x"],
]


@NEED_POSTFIX
@pytest.mark.parametrize("args", MASTER_EDITS, ids=lambda a: " ".join(a))
def test_edit_master(tmp_path, warm_postfix, args):
    """-Me/-MX/-M#/-Fe/-Pe/-PX give the same master.cf, byte for byte,
    and the same warnings ("unmatched service_name/type")."""
    pf, ph = both(tmp_path, args)
    assert pf.rc == 0, pf
    assert_same(pf, ph)


@NEED_POSTFIX
def test_edit_master_comments_inside_entry(tmp_path):
    master = ("smtp inet n - - - - smtpd\n  -o a=b\n# c\n  -o c=d\n"
              "next unix - - - - - x\n")
    for args in (["-MX", "smtp/inet"], ["-M#", "smtp/inet"], ["-Pe", "smtp/inet/q=1"],
                 ["-Fe", "smtp/inet/command=smtpd -v"]):
        pf, ph = both(tmp_path, args, master=master)
        assert_same(pf, ph)


MAIN_WITH_DUPLICATES = """\
myorigin = a.example
relayhost = x
myorigin = b.example
  continued
# comment
  more
biff = no
relayhost=[y]
"""

MAIN_EDITS = [
    ["-e", "myorigin=c.example", "newparam=1"],
    ["myorigin=c.example"],
    ["-X", "myorigin", "relayhost"],
    ["-#", "myorigin"],
    ["-e", "relayhost="],
    ["-e", "relayhost=a", "relayhost=b"],
    ["-e", " myorigin = x "],
    ["-X", "nosuch"],
]


@NEED_POSTFIX
@pytest.mark.parametrize("args", MAIN_EDITS, ids=lambda a: " ".join(a))
def test_edit_main(tmp_path, warm_postfix, args):
    """-e rewrites every line that sets the name (with a "multiple
    entries" warning), -X removes and -# comments them out, each with its
    continuation lines; new names are appended sorted."""
    pf, ph = both(tmp_path, args, main=MAIN_WITH_DUPLICATES)
    assert_same(pf, ph)


def test_edit_main_appends_sorted(tmp_path):
    """New names are appended sorted, as Postfix 3.8 and later do (3.7
    appends them in its hash table's order)."""
    d = config_dir(tmp_path, "ph", "relayhost = x\n", "")
    r = Result(posthorn_postconf(), d, ["-e", "zz=1", "relayhost=y", "aa=2", "mm=3"])
    assert r.rc == 0 and r.err == set(), r
    assert r.files["main.cf"] == "relayhost = y\naa = 2\nmm = 3\nzz = 1\n"


def test_edit_main_rewrites_both_lines(tmp_path):
    d = config_dir(tmp_path, "ph", MAIN_WITH_DUPLICATES, "")
    r = Result(posthorn_postconf(), d, ["-e", "myorigin=new.example"])
    assert r.rc == 0, r
    assert r.files["main.cf"].count("myorigin = new.example\n") == 2
    assert "continued" not in r.files["main.cf"]
    assert "  more" not in r.files["main.cf"]
    assert "# comment\n" in r.files["main.cf"]
    assert r.err == {'warning: DIR/main.cf: multiple entries for "myorigin"'}
    assert not [f for f in os.listdir(d) if f not in ("main.cf", "master.cf")]


def test_edit_keeps_mode(tmp_path):
    d = config_dir(tmp_path, "ph", "relayhost = x\n", "smtp inet n - n - - smtpd\n")
    os.chmod(os.path.join(d, "main.cf"), 0o640)
    os.chmod(os.path.join(d, "master.cf"), 0o600)
    assert Result(posthorn_postconf(), d, ["relayhost=y"]).rc == 0
    assert Result(posthorn_postconf(), d, ["-Fe", "smtp/inet/chroot=y"]).rc == 0
    assert os.stat(os.path.join(d, "main.cf")).st_mode & 0o777 == 0o640
    assert os.stat(os.path.join(d, "master.cf")).st_mode & 0o777 == 0o600


# ------------------------------------------------- main.cf: what is known

MAIN_SHOW_ARGS = [["-n"], ["-nf"], ["-h", "mydestination"], ["-H", "-n"],
                  ["-C", "builtin", "-n"], ["-C", "user"]]


@NEED_POSTFIX
@pytest.mark.parametrize("args", MAIN_SHOW_ARGS, ids=lambda a: " ".join(a))
def test_debian_main_cf(tmp_path, warm_postfix, args):
    """A stock Debian main.cf: the same -n output, and no "unused
    parameter" warning (compatibility_level, append_dot_mydomain,
    readme_directory, the TLS session caches ... are known)."""
    pf, ph = both(tmp_path, args)
    assert_same(pf, ph, ("rc", "out"))
    assert not [e for e in ph.err if "main.cf" in e], ph


DEBIAN_NAMES = ["compatibility_level", "append_dot_mydomain", "readme_directory",
                "smtpd_tls_session_cache_database", "smtp_tls_session_cache_database",
                "smtpd_tls_CAfile", "smtpd_tls_CApath", "smtp_tls_CApath", "biff",
                "debugger_command", "mailbox_command"]
# installation facts of Postfix's package: known, with Posthorn's own values
INSTALL_NAMES = ["html_directory", "manpage_directory", "sample_directory",
                 "sendmail_path", "newaliases_path", "mailq_path"]


@NEED_POSTFIX
def test_debian_names_known(tmp_path):
    pf, ph = both(tmp_path, DEBIAN_NAMES)
    assert_same(pf, ph, ("rc", "out", "err"))
    pf, ph = both(tmp_path, INSTALL_NAMES, sub="install")
    assert ph.rc == 0 and len(ph.out.splitlines()) == len(INSTALL_NAMES), ph
    assert not [e for e in ph.err if "unknown parameter" in e], ph


@NEED_POSTFIX
def test_defaults_follow_postfix(tmp_path):
    names = ["biff", "smtp_tls_protocols", "smtp_tls_mandatory_protocols",
             "smtp_tls_loglevel", "smtpd_tls_session_cache_database",
             "smtpd_tls_CAfile", "smtp_tls_session_cache_database", "debugger_command"]
    pf, ph = both(tmp_path, ["-d"] + names)
    assert_same(pf, ph, ("rc", "out", "err"))


@NEED_POSTFIX
def test_mynetworks_computed(tmp_path):
    """Without mynetworks in main.cf, postconf shows what smtpd computes
    from mynetworks_style: every address of this host Postfix lists (host
    style) is in it, and it is not the old fixed default."""
    main = re.sub(r"(?m)^mynetworks = .*\n", "", DEBIAN_MAIN)
    pf, ph = both(tmp_path, ["-h", "mynetworks"], main=main)
    assert ph.rc == 0, ph
    pf_nets = pf.out.split()
    ph_nets = ph.out.split()
    for net in pf_nets:
        if not net.startswith(("127.", "[::1]")):
            assert net in ph_nets, (pf_nets, ph_nets)
    assert ph_nets == Result(posthorn_postconf(), config_dir(tmp_path, "x", main, ""),
                             ["-dh", "mynetworks"]).out.split()
    pf, ph = both(tmp_path, ["mynetworks"], sub="set")
    assert_same(pf, ph, ("rc", "out"))


# --------------------------------------------------- duplicate settings

def test_duplicate_warning(tmp_path):
    """A name set twice with different values: one warning per override,
    naming the line where the later setting starts and the earlier value
    (as Postfix joins continuation lines); the later value wins."""
    main = ("relayhost = x\nmyorigin = a\nrelayhost = x\n# c\nrelayhost = y\n"
            "  continued\nrelayhost = z\n")
    d = config_dir(tmp_path, "ph", main, "")
    r = Result(posthorn_postconf(), d, ["-h", "relayhost"])
    assert r.rc == 0 and r.out == "z\n", r
    assert r.err == {"warning: DIR/main.cf, line 5: overriding earlier entry: relayhost=x",
                     "warning: DIR/main.cf, line 7: overriding earlier entry: "
                     "relayhost=y  continued"}, r
    assert r.stderr.count("overriding earlier entry") == 2, r


@NEED_POSTFIX
def test_duplicate_warning_as_postfix(tmp_path):
    """Every warning Posthorn gives is one Postfix gives (Postfix repeats
    them, with extra ones from reading main.cf again)."""
    pf, ph = both(tmp_path, ["-n"], main=MAIN_WITH_DUPLICATES)
    assert_same(pf, ph, ("rc", "out"))
    assert ph.err and ph.err <= pf.err, (pf, ph)


# ----------------------------------------------- other kinds of output

@NEED_POSTFIX
def test_table_types(tmp_path):
    """-m: the types the table layer has, sorted, one per line; each one a
    type Postfix knows too, and at least those admins use most."""
    pf, ph = both(tmp_path, ["-m"], main="")	# (Debian's wants /etc/mailname)
    assert pf.rc == 0 and ph.rc == 0, (pf, ph)
    types = ph.out.splitlines()
    assert types == sorted(types) and len(set(types)) == len(types), types
    assert set(types) <= set(pf.out.splitlines()), (types, pf.out)
    assert {"hash", "btree", "lmdb", "pcre", "regexp", "cidr", "sqlite", "pgsql", "mysql",
            "texthash", "static", "inline"} <= set(types)


@NEED_POSTFIX
def test_locks_and_sasl(tmp_path):
    """-l, -a, -A: what Posthorn has, in Postfix's names and shape."""
    expect = {"-l": ["fcntl", "dotlock"], "-a": ["cyrus"], "-A": ["cyrus"]}
    for opt, names in expect.items():
        pf, ph = both(tmp_path, [opt], sub=opt)
        assert ph.rc == 0 and ph.err == set(), ph
        assert ph.out.splitlines() == names, ph
        assert set(names) <= set(pf.out.splitlines()), pf


@NEED_POSTFIX
def test_tls_information(tmp_path):
    for mode in ("run-version", "public-key-algorithms"):
        pf, ph = both(tmp_path, ["-T", mode], sub=mode)
        assert_same(pf, ph, ("rc", "out", "err"))
    pf, ph = both(tmp_path, ["-T", "compile-version"], sub="cv")
    assert re.match(r"^OpenSSL \d+\.\d+\.\d+\S* ", ph.out) and ph.out.count("\n") == 1, ph
    pf, ph = both(tmp_path, ["-T", "bogus"], sub="bogus")
    assert_same(pf, ph, ("rc", "out", "err"))
    assert ph.rc == 1


# ---------------------------------------------------------- bad usage

BAD_USAGE = [
    ["-d", "-n"], ["-M", "-F"], ["-e"], ["-X"], ["-#"], ["-M", "-d"],
    ["-F", "-X", "x/y/z"], ["-M", "-h"], ["-P", "-#"], ["-m", "-n"], ["-l", "-e"],
    ["-a", "-A"], ["-e", "-d", "x=1"], ["-M#"], ["-MX"], ["-Me"], ["-Me", "a=b"],
    ["-Fe", "a/b/c"], ["-Pe", "a/b/c"], ["-Fe", "a/b/c=1"], ["-X", "a=b"],
    ["-#", "a=b"], ["-e", "a"], ["-e", "=b"], ["-M", "a/b/c"], ["-F", "a/b/c/d"],
    ["-x", "-e", "a=1"], ["-f", "-e", "a=1"], ["-n", "-e", "a=1"], ["-H", "-h"],
    ["-o", "a=b", "-e", "c=d"], ["-M", "sm*"], ["-Fe", "*/*/bogus=1"],
    ["-Pe", "smtp/inet/*=1"], ["-Fe", "smtp/inet/*=1"], ["-MX", "smtp"],
    ["-MX", "smtp/inet=x"], ["-Me", "smtp/inet=x"], ["-Me", "smtp/inet=smtp foo - - - - - x"],
    ["-Fe", "smtp/inet/wakeup=1x"], ["-Fe", "smtp/inet/chroot=a b"],
    ["-Pe", "smtp/inet/x=a b"], ["-T", "run-version", "-T", "run-version"],
    ["-C", "bogus"], ["-P", "a/b/c/d"], ["-F", "/a"], ["-e", "#x=1"], ["-e", "x=1\ny=2"],
    ["-X", ""], ["-X", "a b"],
]


@NEED_POSTFIX
@pytest.mark.parametrize("args", BAD_USAGE, ids=lambda a: " ".join(a))
def test_bad_usage(tmp_path, warm_postfix, args):
    """Bad usage: Postfix's message and exit status; the files untouched."""
    pf, ph = both(tmp_path, args)
    assert_same(pf, ph, ("rc", "out"))
    assert ph.files == {"main.cf": DEBIAN_MAIN, "master.cf": stock_master()}
    if pf.rc != 0:
        fatal = [e for e in pf.err if e.startswith("fatal:")]
        assert fatal and fatal[0] in ph.err, (pf, ph)


@NEED_POSTFIX
@pytest.mark.parametrize("args", [["-Z"], ["-T"]], ids=["unknown", "T-without-mode"])
def test_usage_line(tmp_path, warm_postfix, args):
    pf, ph = both(tmp_path, args)
    assert pf.rc == ph.rc == 1
    assert re.search(r"(?m)^postconf: fatal: usage: postconf \[-a \(server SASL types\)\]",
                     ph.stderr), ph


def test_bounce_templates_refused(tmp_path):
    d = config_dir(tmp_path, "ph", DEBIAN_MAIN, "")
    for opt in ("-t", "-b"):
        r = Result(posthorn_postconf(), d, [opt])
        assert r.rc == 1 and "not supported" in r.stderr, r
