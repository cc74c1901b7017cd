"""test_security.py - the attacks of issue 8, each tried for real (root only).

Every test here plays a less trusted account against a running instance
and checks that root did not act for it:

  - a local user (bob, uid 20002) plants a symlink, a hard link or a file
    of his own where another user's mbox or Maildir will be, or where a
    /file destination points;
  - the mail_owner account (posthorn) plants a symlink at pid/master.pid,
    or swaps master's UNIX sockets for symlinks while master starts;
  - a user's .forward includes a file owned by someone else (or by root):
    its commands run as that user, never as the file's owner or nobody;
  - a world-writable (or foreign-group-writable) :include: file is refused;
  - a local client dribbles a queue control request into public/qmgr while
    mail must keep flowing;
  - text from outside (a HELO name, a next hop's reply, SASL input) with
    control characters must not reach a header, a bounce or a log line raw.

The tests need two Unix identities besides root, so as another user the
whole module is skipped (the non-root CI run says so).
"""

import base64
import email
import os
import re
import socket
import stat
import subprocess
import threading
import time
import uuid

import pytest

from posthorn_instance import USERS, DOMAIN, uid_of, gid_of, wait_until, proc_info

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root: plays two Unix users and mail_owner")

ALICE, BOB = USERS["alice"], USERS["bob"]
NOBODY = 65534


def as_user(uid, gid, fn, *args):
    """Run FN(*ARGS) in a child process with the ids UID/GID; True if it
    returned without an exception."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            fn(*args)
            code = 0
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def write(path, text, mode=0o644, uid=0, gid=0):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def public_dir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o1777)
    return path


def message(subject):
    return ("From: sender@example.com\r\nTo: x@%s\r\nSubject: %s\r\n"
            "Message-Id: <%s@example.com>\r\n\r\nsecret body %s\r\n"
            % (DOMAIN, subject, uuid.uuid4().hex, subject)).encode()


def wait_log(inst, pattern, timeout=15):
    assert inst.wait_for_log(pattern, timeout), \
        "log has no %r\n%s" % (pattern, inst.log_tail())


# ------------------------------------------------ 1. mailboxes of other users

def mbox_instance(make_instance, **main):
    params = {"home_mailbox": "", "alias_maps": ""}
    params.update(main)
    return make_instance(main=params, start=False)


def test_mbox_symlink_to_attackers_file_is_refused(make_instance):
    inst = mbox_instance(make_instance)
    inst.start()
    trap = os.path.join(inst.home("bob"), "bob-reads-this")

    def plant():
        with open(trap, "w"):
            pass
        os.chmod(trap, 0o666)
        os.symlink(trap, inst.mbox_path("alice"))
    assert as_user(BOB, BOB, plant)
    inst.send("alice@%s" % DOMAIN, message("symlinked mbox"))
    wait_log(inst, r"to=<alice@posthorn\.test>, relay=local, .*status=deferred "
             r"\(cannot update mailbox .*symbolic link")
    assert read(trap) == b"", "alice's mail went into bob's file"


def test_mbox_symlink_for_root_is_refused(make_instance):
    inst = mbox_instance(make_instance)
    with open(os.path.join(inst.etc, "passwd"), "a") as f:
        f.write("root:x:0:0::/root:/bin/sh\n")
    inst.start()
    precious = write(os.path.join(inst.base, "root-only"), "precious\n", mode=0o600)
    assert as_user(BOB, BOB, os.symlink, precious, inst.mbox_path("root"))
    inst.send("root@%s" % DOMAIN, message("mail for root"))
    wait_log(inst, r"to=<root@posthorn\.test>, relay=local, .*status=deferred "
             r"\(cannot update mailbox .*symbolic link")
    assert read(precious) == b"precious\n"
    assert stat.S_IMODE(os.stat(precious).st_mode) == 0o600


def test_mbox_precreated_by_other_user_is_refused(make_instance):
    inst = mbox_instance(make_instance)
    inst.start()

    def plant():
        fd = os.open(inst.mbox_path("alice"), os.O_CREAT | os.O_WRONLY, 0o666)
        os.fchmod(fd, 0o666)
        os.close(fd)
    assert as_user(BOB, BOB, plant)
    inst.send("alice@%s" % DOMAIN, message("precreated mbox"))
    wait_log(inst, r"to=<alice@posthorn\.test>, relay=local, .*dsn=4\.2\.0, status=deferred "
             r"\(cannot update mailbox .*is not owned by recipient")
    assert read(inst.mbox_path("alice")) == b""


def test_mbox_hard_link_is_refused(make_instance):
    inst = mbox_instance(make_instance)
    inst.start()
    notes = write(os.path.join(inst.home("alice"), "notes"), "my notes\n",
                  mode=0o600, uid=ALICE, gid=ALICE)
    os.link(notes, inst.mbox_path("alice"))
    inst.send("alice@%s" % DOMAIN, message("hard linked mbox"))
    wait_log(inst, r"to=<alice@posthorn\.test>, relay=local, .*status=deferred "
             r"\(cannot update mailbox .*hard links")
    assert read(notes) == b"my notes\n"


def test_mbox_own_file_still_works(make_instance):
    """The checks do not refuse what is right: alice's own mbox, and a new one."""
    inst = mbox_instance(make_instance)
    inst.start()
    write(inst.mbox_path("alice"), "", mode=0o600, uid=ALICE, gid=ALICE)
    inst.send(["alice@%s" % DOMAIN, "bob@%s" % DOMAIN], message("plain mbox"))
    for user in ("alice", "bob"):
        path = inst.mbox_path(user)
        assert wait_until(lambda: os.path.exists(path) and b"plain mbox" in read(path), 15), \
            inst.log_tail()
    st = os.stat(inst.mbox_path("bob"))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (BOB, 0o600)


def test_maildir_owned_by_other_user_is_refused(make_instance):
    inst = make_instance(main={"home_mailbox": "", "alias_maps": ""}, start=False)
    spool = os.path.join(inst.mail, "spool") + "/"
    inst.main_overrides["mail_spool_directory"] = spool
    inst.write_config()
    inst.start()
    trap = os.path.join(spool, "alice")

    def plant():
        os.mkdir(trap, 0o777)
        os.chmod(trap, 0o777)
        for sub in ("tmp", "new", "cur"):
            os.mkdir(os.path.join(trap, sub))
            os.chmod(os.path.join(trap, sub), 0o777)
    assert as_user(BOB, BOB, plant)
    inst.send("alice@%s" % DOMAIN, message("maildir trap"))
    wait_log(inst, r"to=<alice@posthorn\.test>, relay=local, .*status=deferred "
             r"\(maildir delivery failed: .*not owned by recipient")
    for sub in ("tmp", "new", "cur"):
        assert os.listdir(os.path.join(trap, sub)) == [], sub


def test_maildir_symlink_by_other_user_is_refused(make_instance):
    inst = make_instance(main={"home_mailbox": "", "alias_maps": ""}, start=False)
    spool = os.path.join(inst.mail, "spool") + "/"
    inst.main_overrides["mail_spool_directory"] = spool
    inst.write_config()
    inst.start()
    bobdir = os.path.join(inst.home("bob"), "catch")

    def plant():
        os.mkdir(bobdir, 0o777)
        os.chmod(bobdir, 0o777)
        os.symlink(bobdir, os.path.join(spool, "alice"))
    assert as_user(BOB, BOB, plant)
    inst.send("alice@%s" % DOMAIN, message("maildir symlink"))
    wait_log(inst, r"to=<alice@posthorn\.test>, relay=local, .*status=deferred "
             r"\(maildir delivery failed: ")
    assert os.listdir(bobdir) == []


def test_file_destination_symlink_is_refused(make_instance):
    inst = make_instance(start=False)
    shared = public_dir(os.path.join(inst.base, "shared"))
    log = os.path.join(shared, "log")
    target = write(os.path.join(inst.base, "nobody-file"), "", mode=0o600, uid=NOBODY, gid=NOBODY)
    write(os.path.join(inst.etc, "aliases"), "archive %s\n" % log)
    inst.main_overrides.update({"alias_maps": "texthash:%s/aliases" % inst.etc,
                                "allow_mail_to_files": "alias"})
    inst.write_config()
    inst.start()
    assert as_user(BOB, BOB, os.symlink, target, log)
    inst.send("archive@%s" % DOMAIN, message("file symlink"))
    wait_log(inst, r"to=<archive@posthorn\.test>, relay=local, .*status=deferred "
             r"\(cannot append message to destination file .*: file is a symbolic link")
    assert read(target) == b""


def test_file_destination_executable_is_refused(make_instance):
    inst = make_instance(start=False)
    shared = public_dir(os.path.join(inst.base, "shared"))
    prog = write(os.path.join(shared, "prog"), "#!/bin/sh\n", mode=0o755, uid=NOBODY, gid=NOBODY)
    write(os.path.join(inst.etc, "aliases"), "prog %s\n" % prog)
    inst.main_overrides.update({"alias_maps": "texthash:%s/aliases" % inst.etc,
                                "allow_mail_to_files": "alias"})
    inst.write_config()
    inst.start()
    inst.send("prog@%s" % DOMAIN, message("executable file"))
    wait_log(inst, r"to=<prog@posthorn\.test>, relay=local, .*status=bounced "
             r"\(cannot append message to destination file .*: destination file is executable")
    assert read(prog) == b"#!/bin/sh\n"


# --------------------------------------------- 2., 3. mail_owner against root

def test_pid_file_symlink_planted_by_mail_owner(make_instance):
    inst = make_instance()
    pid_dir = os.path.join(inst.queue, "pid")
    st = os.stat(pid_dir)
    assert (st.st_uid, st.st_mode & 0o022) == (0, 0), "pid/ must be root's and not writable"
    inst.stop()
    precious = write(os.path.join(inst.base, "root-only"), "precious\n", mode=0o600)
    owner = uid_of("posthorn"), gid_of("posthorn")
    planted = as_user(owner[0], owner[1], os.symlink, precious,
                      os.path.join(pid_dir, "master.pid"))
    assert not planted, "mail_owner could create a file in pid/"
    # a link mail_owner planted while pid/ was still its own is not followed
    os.symlink(precious, os.path.join(pid_dir, "master.pid"))
    os.lchown(os.path.join(pid_dir, "master.pid"), *owner)
    inst.start()
    assert read(precious) == b"precious\n"
    assert not os.path.islink(os.path.join(pid_dir, "master.pid"))


def _swap_socket(stop_at, path, target):
    """As mail_owner: whenever PATH is a socket, replace it with a symlink
    to TARGET, as fast as possible, until STOP_AT."""
    while time.time() < stop_at:
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
                os.symlink(target, path)
        except OSError:
            pass


def test_socket_symlink_race_by_mail_owner(make_instance):
    """strace slows every chmod/chown down (0.1 s each), so the window the
    race needs is wide open: a master that changes its sockets by path
    as root loses the race every time; one that never does is safe."""
    inst = make_instance()
    precious = write(os.path.join(inst.base, "root-only"), "precious\n", mode=0o600)
    dirs = [os.path.join(inst.queue, d) for d in ("public", "private")]
    sockets = [os.path.join(d, n) for d in dirs for n in os.listdir(d)]
    owner = uid_of("posthorn"), gid_of("posthorn")
    inst.stop()
    racers = [threading.Thread(target=as_user, args=(owner[0], owner[1], _swap_socket,
                                                     time.time() + 12, p, precious))
              for p in sockets]
    for r in racers:
        r.start()
    subprocess.run(["strace", "-D", "-f", "-o", "/dev/null", "-e",
                    "inject=chmod,fchmodat,chown,fchownat,lchown:delay_enter=100000",
                    inst.bin("posthorn"), "-c", inst.etc, "start"],
                   env=inst.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    for r in racers:
        r.join()
    st = os.stat(precious)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o600), \
        "root file changed: uid %d gid %d mode %o" % (st.st_uid, st.st_gid, st.st_mode)
    inst.stop()
    for d in dirs:
        for n in os.listdir(d):
            p = os.path.join(d, n)
            if os.path.islink(p):
                os.unlink(p)
    inst.start()
    st = os.stat(os.path.join(inst.queue, "public", "qmgr"))
    assert st.st_uid == owner[0] and stat.S_IMODE(st.st_mode) == 0o666
    st = os.stat(os.path.join(inst.queue, "private", "local"))
    assert st.st_uid == owner[0] and stat.S_IMODE(st.st_mode) == 0o600


# ------------------------------------------------ 4., 5. :include: identity

def include_instance(make_instance):
    inst = make_instance(main={"allow_mail_to_commands": "alias, forward, include",
                               "alias_maps": ""}, start=False)
    inc = os.path.join(inst.base, "inc")
    os.makedirs(inc)
    os.chmod(inc, 0o755)
    out = public_dir(os.path.join(inst.base, "out"))
    return inst, inc, out


def forward(inst, user, text):
    uid = inst.users[user][0]
    write(os.path.join(inst.home(user), ".forward"), text, uid=uid, gid=uid)


def test_include_in_forward_runs_as_the_user(make_instance):
    inst, inc, out = include_instance(make_instance)
    bobs = write(os.path.join(inc, "bobs.list"),
                 "\"|id -u > %s/bobs.uid\"\n" % out, uid=BOB, gid=BOB)
    roots = write(os.path.join(inc, "roots.list"),
                  "\"|id -u > %s/roots.uid\"\n" % out)
    forward(inst, "alice", ":include:%s\n:include:%s\n" % (bobs, roots))
    inst.start()
    inst.send("alice@%s" % DOMAIN, message("forward include"))
    for name in ("bobs", "roots"):
        path = os.path.join(out, name + ".uid")
        assert wait_until(lambda: os.path.exists(path) and os.path.getsize(path), 15), \
            inst.log_tail()
        assert int(read(path)) == ALICE, "%s include ran as uid %s" % (name, read(path))


def test_world_writable_include_is_refused(make_instance):
    inst, inc, out = include_instance(make_instance)
    ww = write(os.path.join(inc, "ww.list"), "alice\n", mode=0o666)
    foreign = write(os.path.join(inc, "foreign.list"), "alice\n", mode=0o664, uid=BOB, gid=0)
    own = write(os.path.join(inc, "own.list"), "alice\n", mode=0o664, uid=BOB, gid=BOB)
    write(os.path.join(inst.etc, "aliases"),
          "wwlist :include:%s\nforeignlist :include:%s\nownlist :include:%s\n" % (ww, foreign, own))
    inst.main_overrides["alias_maps"] = "texthash:%s/aliases" % inst.etc
    inst.write_config()
    inst.start()
    inst.send("wwlist@%s" % DOMAIN, message("world writable include"))
    wait_log(inst, r"to=<wwlist@posthorn\.test>, relay=local, .*dsn=5\.3\.5, status=bounced "
             r"\(mail system configuration error\)")
    wait_log(inst, r"warning: .*%s.* is world writable" % re.escape(ww))
    inst.send("foreignlist@%s" % DOMAIN, message("group writable include"))
    wait_log(inst, r"to=<foreignlist@posthorn\.test>, relay=local, .*dsn=5\.3\.5, "
             r"status=bounced \(mail system configuration error\)")
    wait_log(inst, r"warning: .*%s.* is group writable" % re.escape(foreign))
    inst.send("ownlist@%s" % DOMAIN, message("own group include"))
    assert inst.wait_for_message(b"own group include", "alice") is not None, inst.log_tail()
    assert inst.wait_for_message(b"world writable include", "alice", timeout=1) is None
    assert inst.wait_for_message(b"group writable include", "alice", timeout=1) is None


# ------------------------------------------------------ 6. qmgr never blocks

def test_dribbling_control_client_does_not_stall_qmgr(make_instance):
    inst = make_instance()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(inst.queue, "public", "qmgr"))
    sock.sendall(b"C")
    stop = threading.Event()
    closed = []

    def dribble():
        t0 = time.monotonic()
        try:
            for ch in b"request=flush" * 3:
                if stop.wait(2):
                    return
                sock.sendall(bytes([ch]))
        except OSError:
            closed.append(time.monotonic() - t0)
    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    time.sleep(1)
    t0 = time.monotonic()
    inst.send("alice@%s" % DOMAIN, message("while dribbling"))
    assert inst.wait_for_message(b"while dribbling", "alice", timeout=8) is not None, \
        "qmgr stalled by a dribbling control client\n" + inst.log_tail()
    assert time.monotonic() - t0 < 8
    # the dribbler is cut off at the request deadline, not served forever
    sock.settimeout(25)
    try:
        data = sock.recv(100)
    except OSError:
        data = b""
    stop.set()
    assert data in (b"",) or b"status=1" in data, data
    sock.close()


def test_oversized_control_request_is_cut_off(make_instance):
    inst = make_instance()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(inst.queue, "public", "qmgr"))
    sock.settimeout(10)
    sent = 0
    try:
        sock.sendall(b"C")
        chunk = b"queue_id=" + b"A" * 1000 + b"\n"
        while sent < 4 * 1024 * 1024:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    assert sent < 4 * 1024 * 1024, "qmgr read 4 MB of one control request"
    sock.close()
    inst.send("alice@%s" % DOMAIN, message("after oversized"))
    assert inst.wait_for_message(b"after oversized", "alice", timeout=10) is not None


# ------------------------------------------------ 7., 8. text from outside

def test_helo_with_cr_and_parentheses_is_neutered(instance):
    inst = instance
    s = inst.raw()
    assert s.cmd(b"EHLO evil\rX-Injected: yes (fake [10.9.8.7]) <a@b>;\"q\"")[0] == 250
    assert s.cmd("MAIL FROM:<sender@example.com>")[0] == 250
    assert s.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    assert s.cmd("DATA")[0] == 354
    assert s.cmd("Subject: helo test\r\n\r\nbody\r\n.")[0] == 250
    s.cmd("QUIT")
    s.close()
    data = inst.wait_for_message(b"Subject: helo test", "alice")
    assert data is not None, inst.log_tail()
    head = data.partition(b"\n\n")[0]
    assert b"\r" not in head
    received = re.search(rb"(?m)^Received: from (\S+) ", head)
    assert received, head
    helo = received.group(1)
    assert re.fullmatch(rb"[!-~]+", helo) and not re.search(rb"[()<>;\"@\\]", helo), helo
    assert not re.search(rb"(?m)^X-Injected", head), head
    assert b"(fake" not in head
    assert "\r" not in inst.log()


def test_next_hop_reply_with_cr_is_neutered(make_instance):
    from test_smtp_client import Receiver
    rx = Receiver(replies={"RCPT": lambda a: "550 5.1.1 no such user\rInjected-Header: evil"})
    try:
        inst = make_instance(main={"relayhost": "[127.0.0.1]:%d" % rx.port},
                             master=["smtp    unix  - - n - - smtp",
                                     "relay   unix  - - n - - smtp"])
        inst.send(["someone@remote.example"], message("cr reply"),
                  sender="alice@%s" % DOMAIN)
        wait_log(inst, r"to=<someone@remote\.example>.*status=bounced \(host .* said: "
                 r"550 5\.1\.1 no such user\?Injected-Header: evil")
        raw = inst.wait_for_message("Undelivered Mail", user="alice")
        assert raw is not None, inst.log_tail()
        assert b"\r" not in raw
        assert not re.search(rb"(?m)^Injected-Header", raw), raw
        report = email.message_from_bytes(raw)
        status = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]
        blocks = [dict(b.items()) for b in status[0].get_payload()[1:]]
        assert "Injected-Header" not in blocks[0], blocks
        assert "no such user?Injected-Header: evil" in blocks[0]["Diagnostic-Code"]
        assert "\r" not in inst.log()
    finally:
        rx.close()


def test_failed_auth_log_has_no_earlier_user(make_instance):
    from test_sasl import sasl_instance, Client, b64, plain
    inst = sasl_instance(make_instance)
    c = Client(inst.port)
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain("firstuser", "wrong-password"))[0] == 535
    assert c.cmd("AUTH PLAIN " + b64("no separators at all"))[0] in (501, 535)
    assert c.cmd("AUTH PL\x01AIN " + b64("x"))[0] in (501, 504, 535)
    c.cmd("QUIT")
    c.close()
    wait_log(inst, r"disconnect from ")
    lines = [l for l in inst.log().splitlines() if "authentication failed" in l]
    assert len(lines) >= 2, inst.log_tail()
    assert "firstuser" in lines[0]
    assert all("firstuser" not in l for l in lines[1:]), lines
    assert "\x01" not in inst.log()


# ----------------------------------------------------- local's own identity

def test_local_runs_as_mail_owner_between_deliveries(instance):
    inst = instance
    inst.send("alice@%s" % DOMAIN, message("local identity"))
    assert inst.wait_for_message(b"local identity", "alice") is not None
    pids = wait_until(lambda: inst.child_pids("local"), 5)
    assert pids, inst.children()
    owner = uid_of("posthorn")
    assert wait_until(lambda: all((proc_info(p) or {}).get("euid") == owner for p in pids), 5), \
        [proc_info(p) for p in pids]
