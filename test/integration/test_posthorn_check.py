"""test_posthorn_check.py - posthorn check, set-permissions,
upgrade-configuration and logrotate, as an admin who knows Postfix's
postfix(1) uses them.

check: one case per broken setting (a bad number, time, boolean, a value
out of bounds, a $name syntax error, a loop, an unknown table type, a
table file that does not exist, regexp: and pcre: tables with a syntax
error, a table in a restriction list, master.cf lines with too few
fields or a bad type, a daemon that does not exist, a bad -o value, a
missing postlog service, a world-writable queue directory, a queue
directory that is not mail_owner's), each wanting exit status 1 and its
message; warnings only (unused and undefined parameters, a damaged
message) leave it 0, and so does a clean configuration.  Where Postfix
3.7's "postfix check" looks at the same thing, the same setting is given
to it in a private configuration directory and its words and exit status
are compared (its messages are written to a terminal only, so it gets a
pseudo-terminal as stderr).  Known differences: Postfix only warns about
a world-writable queue directory (exit 0) where Posthorn fails, and its
master.cf wording is postconf's ("bad field count").

set-permissions (root): a broken owner and broken modes are repaired.
upgrade-configuration: an old master.cf gets the services it lacks, the
admin's lines untouched.  logrotate: the log is renamed with the suffix
and compressed, new lines go to the new file, also those of a postlogd
client that stayed connected across the rotation.

Every instance uses a texthash: alias table of its own, so nothing here
depends on the host's /etc/aliases.
"""

import glob
import gzip
import os
import pty
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

from posthorn_instance import IS_ROOT
from postfix_helpers import HAVE_POSTFIX, POSTFIX, POSTCONF, WHY_NOT

NEED_ROOT = pytest.mark.skipif(not IS_ROOT, reason="needs root: files owned by others")
NEED_POSTFIX = pytest.mark.skipif(not HAVE_POSTFIX, reason=WHY_NOT)


# ----------------------------------------------------------------- helpers

def checked_instance(make_instance, main=None, master=None, files=None):
    """An instance that is not started, with its own alias table; MAIN
    values and FILES (name -> text, under D/etc) may use %(etc)s."""
    inst = make_instance(start=False)
    files = dict(files or {})
    files.setdefault("aliases", "postmaster root\n")
    for name, text in files.items():
        with open(os.path.join(inst.etc, name), "w") as f:
            f.write(text % {"etc": inst.etc})
    table = "texthash:%s/aliases" % inst.etc
    inst.main_overrides.update({"alias_maps": table, "alias_database": table})
    for name, value in (main or {}).items():
        inst.main_overrides[name] = value % {"etc": inst.etc} if value else value
    inst.master_extra.extend(master or [])
    inst.write_config()
    return inst


def check(inst):
    """posthorn check: (exit status, stderr)."""
    r = inst.posthorn("check")
    return r.returncode, r.stderr


def run_with_tty(argv):
    """(exit status, what ARGV wrote to stderr), stderr being a terminal
    (Postfix's commands write their messages to stderr only then)."""
    master, slave = pty.openpty()
    out = []

    def reader():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.append(chunk)
    t = threading.Thread(target=reader)
    t.start()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=slave, timeout=120)
    finally:
        os.close(slave)
        t.join(10)
        os.close(master)
    return p.returncode, b"".join(out).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.fixture(scope="module")
def postfix_etc():
    """A private Postfix configuration (Debian's main.cf and master.cf, a
    queue and data directory of its own, no alias table)."""
    if not HAVE_POSTFIX:
        pytest.skip(WHY_NOT)
    base = tempfile.mkdtemp(prefix="pf-check-", dir="/tmp")
    os.chmod(base, 0o755)
    etc, queue, data = (os.path.join(base, d) for d in ("etc", "queue", "data"))
    for d in (etc, queue, data):
        os.makedirs(d)
    for f in ("main.cf", "master.cf"):
        shutil.copy("/etc/postfix/" + f, os.path.join(etc, f))
    shutil.chown(data, "postfix")
    subprocess.run([POSTCONF, "-c", etc, "-e", "queue_directory=" + queue,
                    "data_directory=" + data, "alias_maps=", "alias_database=",
                    "mydestination=", "myhostname=mail.example.org"],
                   check=True, stdout=subprocess.DEVNULL)
    yield etc
    shutil.rmtree(base, ignore_errors=True)


def postfix_check(etc, lines=(), master=(), queue_mode=None):
    """postfix -c ETC check with LINES added to main.cf and MASTER to
    master.cf (both restored afterwards): (exit status, messages)."""
    saved = {}
    for name, extra in (("main.cf", lines), ("master.cf", master)):
        path = os.path.join(etc, name)
        with open(path) as f:
            saved[path] = f.read()
        with open(path, "a") as f:
            f.write("".join(line + "\n" for line in extra))
    queue = subprocess.run([POSTCONF, "-c", etc, "-h", "queue_directory"],
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    try:
        if queue_mode is not None:
            os.chmod(queue, queue_mode)
        return run_with_tty([POSTFIX, "-c", etc, "check"])
    finally:
        if queue_mode is not None:
            os.chmod(queue, 0o755)
        for path, text in saved.items():
            with open(path, "w") as f:
                f.write(text)


# ------------------------------------------------------------- check: ok

def test_clean_config(make_instance):
    inst = checked_instance(make_instance, main={"header_checks": "regexp:%(etc)s/hc"},
                            files={"hc": "/^Subject: spam/ REJECT no\n"})
    rc, err = check(inst)
    assert rc == 0, err
    assert "error:" not in err and "fatal:" not in err, err
    # and it made the queue, as Postfix's create-missing does
    for d in ("incoming", "active", "deferred", "maildrop", "pid", "public"):
        assert os.path.isdir(os.path.join(inst.queue, d)), d
    rc, err = check(inst)
    assert rc == 0 and err == "", err


# -------------------------------------------------------- check: main.cf

# (id, main.cf settings, words of the message, Postfix's postfix check
# words for the same setting or None when Postfix does not look at it)
MAIN_CASES = [
    ("bad-number", {"smtpd_recipient_limit": "abc"},
     "main.cf: bad numerical configuration: smtpd_recipient_limit = abc", None),
    ("bad-size", {"message_size_limit": "12k"},
     "main.cf: bad numerical configuration: message_size_limit = 12k",
     "bad numerical configuration: message_size_limit = 12k"),
    ("bad-time-unit", {"smtpd_timeout": "10x"},
     "main.cf: parameter smtpd_timeout: bad time value or unit: 10x", None),
    ("bad-time-global", {"ipc_timeout": "10x"},
     "parameter ipc_timeout: bad time value or unit: 10x",
     "parameter ipc_timeout: bad time value or unit: 10x"),
    ("time-below-min", {"ipc_timeout": "0"},
     "invalid ipc_timeout: 0 (min 1)", "invalid ipc_timeout: 0 (min 1)"),
    ("bad-boolean", {"smtpd_helo_required": "maybe"},
     "main.cf: bad boolean configuration: smtpd_helo_required = maybe", None),
    ("bad-boolean-global", {"smtputf8_enable": "maybe"},
     "bad boolean configuration: smtputf8_enable = maybe",
     "bad boolean configuration: smtputf8_enable = maybe"),
    ("int-below-min", {"default_process_limit": "0"},
     "invalid default_process_limit parameter value 0 < 1",
     "invalid default_process_limit parameter value 0 < 1"),
    ("int-above-max", {"hash_queue_depth": "9"},
     "invalid hash_queue_depth parameter value 9 > 4", None),
    ("reject-code", {"unknown_local_recipient_reject_code": "250"},
     "invalid unknown_local_recipient_reject_code parameter value 250 < 400", None),
    ("via-name", {"my_limit": "lots", "smtpd_recipient_limit": "$my_limit"},
     "bad numerical configuration: smtpd_recipient_limit = lots", None),
    ("truncated-macro", {"myorigin": "${foo"},
     "main.cf: parameter myorigin: truncated macro reference: \"${foo\"",
     "truncated macro reference: \"${foo\""),
    ("empty-macro", {"myorigin": "x$"},
     "parameter myorigin: empty macro name: \"$\"", "empty macro name: \"x$\""),
    ("loop", {"a1": "$a2", "a2": "$a1", "myorigin": "$a1"},
     "unreasonable macro call nesting", None),
    ("per-service", {"relay_destination_concurrency_limit": "many"},
     "bad numerical configuration: relay_destination_concurrency_limit = many", None),
]


@pytest.mark.parametrize("case", MAIN_CASES, ids=[c[0] for c in MAIN_CASES])
def test_main_cf_error(make_instance, case):
    _id, main, words, _pf = case
    master = ["relay unix - - n - - smtp"] if _id == "per-service" else None
    inst = checked_instance(make_instance, main=main, master=master)
    rc, err = check(inst)
    assert rc == 1, err
    assert "posthorn: error: " in err and words in err, err
    assert "posthorn: fatal: Posthorn integrity check failed: 1 error\n" in err, err
    assert not os.path.isdir(os.path.join(inst.queue, "incoming")), \
        "a failed check must not touch the queue"


@NEED_POSTFIX
@pytest.mark.parametrize("case", [c for c in MAIN_CASES if c[3]],
                         ids=[c[0] for c in MAIN_CASES if c[3]])
def test_main_cf_error_as_postfix(postfix_etc, case):
    """Postfix refuses the same setting: exit 1, the same words."""
    _id, main, _words, pf_words = case
    rc, err = postfix_check(postfix_etc, ["%s = %s" % kv for kv in main.items()])
    assert rc == 1, err
    assert pf_words in err, err


def test_warnings_only(make_instance):
    """Unused and undefined parameters: warnings in Postfix's words, exit 0."""
    inst = checked_instance(make_instance, main={"foo_bar": "1",
                                                  "smtpd_banner": "$nosuch ESMTP"})
    rc, err = check(inst)
    assert rc == 0, err
    assert "posthorn: warning: %s/main.cf: unused parameter: foo_bar=1" % inst.etc in err, err
    assert "posthorn: warning: %s/main.cf: undefined parameter: nosuch" % inst.etc in err, err


@NEED_POSTFIX
def test_warnings_only_as_postfix(postfix_etc):
    rc, err = postfix_check(postfix_etc, ["foo_bar = 1", "smtpd_banner = $nosuch ESMTP"])
    assert rc == 0, err
    assert "/main.cf: unused parameter: foo_bar=1" in err, err
    assert "/main.cf: undefined parameter: nosuch" in err, err


# ---------------------------------------------------------- check: tables

def test_unknown_table_type(make_instance):
    inst = checked_instance(make_instance, main={"alias_maps": "hsah:%(etc)s/aliases"})
    rc, err = check(inst)
    assert rc == 1, err
    assert "posthorn: warning: unsupported dictionary type: hsah" in err, err
    assert "main.cf: parameter alias_maps: table hsah:%s/aliases: cannot open " \
        "(known types: " % inst.etc in err, err
    assert " hash" in err.split("(known types:")[1].split(")")[0], err


def test_missing_table_file(make_instance):
    inst = checked_instance(make_instance,
                            main={"virtual_alias_maps": "hash:%(etc)s/no-such-virtual"})
    rc, err = check(inst)
    assert rc == 1, err
    assert "%s/no-such-virtual.db: No such file or directory" % inst.etc in err, err
    assert "parameter virtual_alias_maps: table hash:%s/no-such-virtual: cannot open" \
        % inst.etc in err, err


@pytest.mark.parametrize("kind", ["regexp", "pcre"])
def test_table_syntax_error(make_instance, kind):
    inst = checked_instance(make_instance, main={"header_checks": kind + ":%(etc)s/hc"},
                            files={"hc": "/^Subject: ok/ OK\n/a(/ REJECT\n"})
    rc, err = check(inst)
    assert rc == 1, err
    assert "%s map %s/hc, line 2: " % (kind, inst.etc) in err, err
    assert "parameter header_checks: table %s:%s/hc: 1 warning while opening" \
        % (kind, inst.etc) in err, err


def test_table_in_restrictions(make_instance):
    """check_*_access takes a table; check_policy_service's inet: is none."""
    inst = checked_instance(make_instance, main={
        "smtpd_client_restrictions": "check_client_access cidr:%(etc)s/nothere, "
                                     "check_policy_service inet:127.0.0.1:1, permit"})
    rc, err = check(inst)
    assert rc == 1, err
    assert "parameter smtpd_client_restrictions: table cidr:%s/nothere: cannot open" \
        % inst.etc in err, err
    assert "inet:127.0.0.1" not in err, err


def test_start_warns_about_tables(make_instance):
    """A table that does not open is a warning at start (mail defers);
    a bad value keeps the mail system from starting."""
    inst = checked_instance(make_instance, main={"alias_maps": "hsah:%(etc)s/aliases"})
    r = inst.posthorn("start")
    assert r.returncode == 0, r.stderr
    inst.running = True
    assert "posthorn: warning: %s/main.cf: parameter alias_maps: table hsah:" % inst.etc \
        in r.stderr, r.stderr
    inst.stop()
    inst.main_overrides["smtpd_timeout"] = "10x"
    inst.write_config()
    r = inst.posthorn("start")
    assert r.returncode == 1, r.stderr
    assert "posthorn: error: %s/main.cf: parameter smtpd_timeout: bad time value or unit: 10x" \
        % inst.etc in r.stderr, r.stderr
    assert "posthorn: fatal: Posthorn integrity check failed!" in r.stderr, r.stderr
    assert inst.master_pid() is None


# ------------------------------------------------------- check: master.cf

# (id, master.cf line, words, Postfix's words or None)
MASTER_CASES = [
    ("too-few-fields", "bogus unix - - n - -",
     "master.cf, line %(line)d: too few fields", "bad field count"),
    ("bad-type", "bogus unox - - n - - smtpd",
     "master.cf, line %(line)d: bad transport type (need: inet or unix)",
     "invalid type field \"unox\""),
    ("no-daemon", "bogus unix - - n - - nosuchdaemon",
     "master.cf, line %(line)d: service bogus/unix: cannot execute "
     "%(daemons)s/nosuchdaemon: No such file or directory", None),
    ("bad-option", "sub unix n - n - - smtpd -o smtpd_timeout=soon",
     "master.cf, line %(line)d: parameter smtpd_timeout: bad time value or unit: soon",
     None),
]


@pytest.mark.parametrize("case", MASTER_CASES, ids=[c[0] for c in MASTER_CASES])
def test_master_cf_error(make_instance, case):
    _id, line, words, _pf = case
    inst = checked_instance(make_instance, master=[line])
    rc, err = check(inst)
    assert rc == 1, err
    n = len(inst.master_lines()) + 1			# after the comment line
    assert words % {"line": n, "daemons": os.path.join(inst.build, "libexec")} in err, err


@NEED_POSTFIX
@pytest.mark.parametrize("case", [c for c in MASTER_CASES if c[3]],
                         ids=[c[0] for c in MASTER_CASES if c[3]])
def test_master_cf_error_as_postfix(postfix_etc, case):
    _id, line, _words, pf_words = case
    rc, err = postfix_check(postfix_etc, master=[line])
    assert rc == 1, err
    assert pf_words in err, err


def test_unused_option(make_instance):
    inst = checked_instance(make_instance, master=["sub unix n - n - - smtpd -o nosuch_x=1"])
    rc, err = check(inst)
    assert rc == 0, err
    assert "posthorn: warning: %s/master.cf: unused parameter: nosuch_x=1" % inst.etc in err


def test_missing_postlog(make_instance):
    inst = checked_instance(make_instance)
    with open(os.path.join(inst.etc, "master.cf")) as f:
        text = f.read()
    with open(os.path.join(inst.etc, "master.cf"), "w") as f:
        f.write("".join(l + "\n" for l in text.splitlines() if not l.startswith("postlog")))
    rc, err = check(inst)
    assert rc == 1, err
    assert "posthorn: error: missing 'postlog' service in master.cf - run " \
        "'posthorn upgrade-configuration'" in err, err


def test_missing_master_cf(make_instance):
    inst = checked_instance(make_instance)
    os.unlink(os.path.join(inst.etc, "master.cf"))
    rc, err = check(inst)
    assert rc == 1, err
    assert "posthorn: error: no %s/master.cf file found" % inst.etc in err, err


@NEED_POSTFIX
def test_missing_master_cf_as_postfix(postfix_etc):
    path = os.path.join(postfix_etc, "master.cf")
    os.rename(path, path + ".away")
    try:
        rc, err = run_with_tty([POSTFIX, "-c", postfix_etc, "check"])
    finally:
        os.rename(path + ".away", path)
    assert rc == 1, err
    assert "fatal: no %s/master.cf file found" % postfix_etc in err, err


# ----------------------------------------------------------- check: queue

def test_world_writable_queue(make_instance):
    inst = checked_instance(make_instance)
    assert check(inst)[0] == 0
    os.chmod(inst.queue, 0o777)
    rc, err = check(inst)
    assert rc == 1, err
    assert "posthorn: error: group or other writable: %s\n" % inst.queue in err, err
    assert stat.S_IMODE(os.stat(inst.queue).st_mode) == 0o777, "check must not fix it"


@NEED_POSTFIX
def test_world_writable_queue_as_postfix(postfix_etc):
    """Postfix's words; Postfix only warns (exit 0) where Posthorn fails."""
    assert postfix_check(postfix_etc)[0] == 0
    rc, err = postfix_check(postfix_etc, queue_mode=0o777)
    assert rc == 0, err
    assert "warning: group or other writable: " in err, err


def test_queue_modes(make_instance):
    inst = checked_instance(make_instance)
    assert check(inst)[0] == 0
    os.chmod(os.path.join(inst.queue, "incoming"), 0o755)
    os.chmod(os.path.join(inst.queue, "public"), 0o777)
    rc, err = check(inst)
    assert rc == 1, err
    assert "error: wrong permissions 0755 (should be 0700): %s/incoming" % inst.queue in err
    assert "error: group or other writable: %s/public" % inst.queue in err
    assert "Posthorn integrity check failed: 2 errors" in err


@NEED_ROOT
def test_queue_owner(make_instance):
    inst = checked_instance(make_instance)
    assert check(inst)[0] == 0
    os.chown(os.path.join(inst.queue, "active"), 65534, 65534)
    path = os.path.join(inst.queue, "hold", "6919C2F70A3B1")
    with open(path, "w") as f:
        f.write("x")
    rc, err = check(inst)
    assert rc == 1, err
    assert "error: not owned by posthorn: %s/active\n" % inst.queue in err, err
    assert "error: not owned by posthorn: %s\n" % path in err, err


def test_damaged_message_warns(make_instance):
    inst = checked_instance(make_instance)
    assert check(inst)[0] == 0
    path = os.path.join(inst.queue, "corrupt", "6919C2F70A3B1")
    with open(path, "w") as f:
        f.write("x")
    rc, err = check(inst)
    assert rc == 0, err
    assert "posthorn: warning: damaged message: %s" % path in err, err


# --------------------------------------------------------- set-permissions

@NEED_ROOT
def test_set_permissions(make_instance):
    inst = checked_instance(make_instance)
    assert check(inst)[0] == 0
    q = inst.queue
    owner = pwd.getpwnam("posthorn")
    os.chmod(q, 0o777)
    os.chown(os.path.join(q, "incoming"), 65534, 65534)
    os.chmod(os.path.join(q, "maildrop"), 0o777)
    os.chmod(os.path.join(q, "pid"), 0o777)
    os.rmdir(os.path.join(q, "trace"))
    os.makedirs(os.path.join(q, "deferred", "F"))
    msg = os.path.join(q, "deferred", "F", "6919C2F70A3BF")
    with open(msg, "w") as f:
        f.write("x")
    os.chmod(os.path.join(inst.etc, "main.cf"), 0o666)
    assert check(inst)[0] == 1
    r = inst.posthorn("set-permissions")
    assert r.returncode == 0, r.stderr
    assert "posthorn: %s: mode 0777 -> 0755" % q in r.stderr, r.stderr
    assert "posthorn: %s/trace: created" % q in r.stderr, r.stderr
    rc, err = check(inst)
    assert rc == 0, err
    st = os.stat(os.path.join(q, "incoming"))
    assert (st.st_uid, st.st_gid) == (owner.pw_uid, owner.pw_gid)
    assert stat.S_IMODE(os.stat(q).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(os.path.join(q, "maildrop")).st_mode) == 0o3733
    assert stat.S_IMODE(os.stat(os.path.join(q, "pid")).st_mode) == 0o755
    assert os.stat(msg).st_uid == owner.pw_uid
    assert stat.S_IMODE(os.stat(os.path.join(q, "deferred", "F")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(inst.etc, "main.cf")).st_mode) == 0o644
    # and nothing left to do
    r = inst.posthorn("set-permissions")
    assert r.returncode == 0 and r.stderr == "", r.stderr


@NEED_ROOT
def test_set_permissions_leaves_links_alone(make_instance):
    """A link planted in a queue is reported, never followed or given away."""
    inst = checked_instance(make_instance)
    assert check(inst)[0] == 0
    outside = os.path.join(inst.base, "outside")
    with open(outside, "w") as f:
        f.write("root's\n")
    os.chmod(outside, 0o600)
    os.link(outside, os.path.join(inst.queue, "hold", "hardlink"))
    os.symlink(outside, os.path.join(inst.queue, "hold", "symlink"))
    os.lchown(os.path.join(inst.queue, "hold", "symlink"), 65534, 65534)
    r = inst.posthorn("set-permissions")
    assert r.returncode == 1, r.stderr
    assert "file has 2 hard links: %s/hold/hardlink" % inst.queue in r.stderr, r.stderr
    assert "unexpected symbolic link: %s/hold/symlink" % inst.queue in r.stderr, r.stderr
    st = os.stat(outside)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600)


def test_set_permissions_needs_root(make_instance):
    if IS_ROOT:
        pytest.skip("runs as root: the refusal is for other users")
    inst = checked_instance(make_instance)
    r = inst.posthorn("set-permissions")
    assert r.returncode == 1 and "only root can change owners" in r.stderr, r.stderr


# --------------------------------------------------- upgrade-configuration

OLD_MASTER = """\
# master.cf of the first Posthorn
127.0.0.1:%d      inet  n       -       n       -       -       smtpd
  -o smtpd_helo_required=no
submit    unix  n       -       n       -       -       smtpd
qmgr      unix  n       -       n       300     1       qmgr
#pickup   unix  n       -       n       60      1       pickup
local     unix  -       n       n       -       -       local"""


def test_upgrade_configuration(make_instance):
    inst = checked_instance(make_instance)
    path = os.path.join(inst.etc, "master.cf")
    old_master = OLD_MASTER % inst.port
    with open(path, "w") as f:
        f.write(old_master)				# no newline at the end
    rc, err = check(inst)
    assert rc == 1 and "missing 'postlog' service" in err, err
    assert ("missing 'proxymap' service in master.cf (local_recipient_maps uses "
            "proxy: tables) - run 'posthorn upgrade-configuration'") in err, err
    r = inst.posthorn("upgrade-configuration")
    assert r.returncode == 0, r.stderr
    added = ["smtp", "relay", "lmtp", "pickup", "showq", "postlog", "anvil", "proxymap"]
    for name in added:
        assert "posthorn: Editing %s, adding missing entry for %s unix-domain service\n" \
            % (path, name) in r.stderr, r.stderr
    with open(path) as f:
        text = f.read()
    assert text.startswith(old_master + "\n"), text
    tail = [line.split()[:2] for line in text[len(old_master) + 1:].splitlines()]
    assert tail == [[name, "unix"] for name in added], text
    r = inst.posthorn("upgrade-configuration")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    with open(path) as f:
        assert f.read() == text
    # the upgraded file is one the mail system runs with
    rc, err = check(inst)
    assert rc == 0, err
    inst.start()
    inst.send("alice@posthorn.test", b"Subject: after upgrade\r\n\r\nx\r\n")
    assert inst.wait_for_message(b"Subject: after upgrade", "alice") is not None


# --------------------------------------------------------------- logrotate

def rotated_files(inst):
    return sorted(glob.glob(inst.maillog + ".*"))


def test_logrotate(make_instance):
    inst = checked_instance(make_instance)
    inst.start()
    inst.send("alice@posthorn.test", b"Subject: before\r\n\r\nx\r\n")
    assert inst.wait_for_log(r"status=sent")
    before = inst.log()
    r = inst.posthorn("logrotate")
    assert r.returncode == 0, r.stderr
    files = rotated_files(inst)
    assert len(files) == 1 and files[0].endswith(".gz"), files
    suffix = files[0][len(inst.maillog) + 1:-3]
    assert len(suffix) == 15 and suffix[8] == "-" and suffix.replace("-", "").isdigit(), suffix
    with gzip.open(files[0]) as f:
        old = f.read().decode()
    assert old.startswith(before), "the rotated file holds the old log"
    assert "rotated to %s.%s" % (inst.maillog, suffix) in inst.log()
    inst.send("bob@posthorn.test", b"Subject: after\r\n\r\nx\r\n")
    assert inst.wait_for_log(r"to=<bob@posthorn\.test>.*status=sent"), inst.log()
    assert "posthorn/smtpd[" in inst.log() and "connect from" in inst.log()
    assert "to=<bob@" not in old


def test_logrotate_postlogd_client(make_instance):
    """A postlogd client connected across the rotation: its next lines go
    to the new file (the old postlogd hands them to the new one)."""
    inst = checked_instance(make_instance)
    inst.start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(inst.queue, "public", "postlog"))
    try:
        s.sendall(b"Dec  6 00:00:00 host test/client[1]: line before rotation\n")
        assert inst.wait_for_log("line before rotation")
        r = inst.posthorn("logrotate")
        assert r.returncode == 0, r.stderr
        s.sendall(b"Dec  6 00:00:01 host test/client[1]: line after rotation\n")
        assert inst.wait_for_log("line after rotation"), inst.log()
        assert "line before rotation" not in inst.log()
    finally:
        s.close()


def test_logrotate_own_settings(make_instance):
    inst = checked_instance(make_instance, main={"maillog_file_rotate_suffix": "old-%%Y",
                                                  "maillog_file_compressor": "true"})
    inst.start()
    r = inst.posthorn("logrotate")
    assert r.returncode == 0, r.stderr
    assert rotated_files(inst) == [inst.maillog + time.strftime(".old-%Y")]
    # the same name again: never overwritten
    r = inst.posthorn("logrotate")
    assert r.returncode == 1, r.stderr
    assert "posthorn: fatal: logfile '%s' rotation failed: rename %s to %s.old-" \
        % (inst.maillog, inst.maillog, inst.maillog) in r.stderr, r.stderr
    assert "File exists" in r.stderr


@pytest.mark.parametrize("value, words", [
    ("", "empty 'maillog_file' parameter value - logfile rotation failed"),
    ("/dev/stderr", "not rotating '/dev/stderr'"),
])
def test_logrotate_refused(make_instance, value, words):
    inst = checked_instance(make_instance, main={"maillog_file": value})
    r = inst.posthorn("logrotate")
    assert r.returncode == 1, r.stderr
    assert "posthorn: fatal: " + words in r.stderr, r.stderr


@NEED_POSTFIX
def test_logrotate_refused_as_postfix(postfix_etc):
    path = os.path.join(postfix_etc, "main.cf")
    with open(path) as f:
        saved = f.read()
    try:
        with open(path, "a") as f:
            f.write("maillog_file =\n")
        rc, err = run_with_tty([POSTFIX, "-c", postfix_etc, "logrotate"])
    finally:
        with open(path, "w") as f:
            f.write(saved)
    assert rc == 1, err
    assert "fatal: empty 'maillog_file' parameter value - logfile rotation failed" in err, err
