"""test_maildrop.py - sendmail never loses mail: maildrop/ and pickup.

With the mail system stopped, sendmail leaves the message in maildrop/
(exit status 0) and pickup delivers it once the system runs; with the
system running and a temporary refusal too.  maildrop/ is mode 3733
(users can drop files in, not list or remove others'), each file 0640 in
the queue's group and complete at 0750.  The user a message is from is
the file's owner: as root, a file written by alice's uid is delivered
with her uid and her login as sender, also when the file claims another
uid; a foreign file (not a maildrop file), an incomplete one of a
killed sendmail once stale, a file with two links or a symbolic link go
to corrupt/ (or are removed) and are never delivered.  An unknown local
recipient given to sendmail is taken and bounced later, as Postfix does.
"""

import os
import stat
import subprocess
import time

import pytest

from posthorn_instance import DOMAIN, IS_ROOT, USERS, wait_until

MESSAGE = "Subject: %s\n\nhello while the system is down\n.a dot line\n"


def as_user(name):
    """preexec_fn: become NAME (root only)."""
    uid = USERS[name]

    def become():
        os.setgid(uid)
        os.setgroups([])
        os.setuid(uid)
    return become


def sendmail(inst, args, message, user=None):
    return subprocess.run([inst.bin("sendmail"), "-C", inst.etc] + list(args),
                          input=message.encode(), capture_output=True, timeout=30,
                          preexec_fn=as_user(user) if user and IS_ROOT else None)


def maildrop(inst):
    return os.path.join(inst.queue, "maildrop")


def dropped(inst):
    return sorted(os.listdir(maildrop(inst)))


def record(rtype, data):
    """One queue-file record (lib/global/record.h)."""
    data = data.encode() if isinstance(data, str) else data
    n = len(data)
    length = b""
    while True:
        byte = n & 0x7f
        n >>= 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return rtype.encode() + length + data


def poke_pickup(inst):
    """What sendmail does after it left a file: wake pickup up."""
    import socket
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(inst.queue, "public", "pickup"))
        s.sendall(b"W")


def maildrop_file(uid, rcpt, body, sender=None):
    """What sendmail writes (lib/global/maildrop.c)."""
    data = record("A", "maildrop_version=1") + record("A", "uid=%d" % uid)
    if sender is not None:
        data += record("S", sender)
    data += record("R", rcpt) + record("M", "") + record("B", body)
    return data + record("X", "") + record("E", "")


def test_sendmail_while_stopped_is_delivered_after_start(make_instance):
    inst = make_instance()
    inst.stop()
    user = "alice" if IS_ROOT else None
    r = sendmail(inst, ["bob@" + DOMAIN], MESSAGE % "while stopped", user=user)
    assert r.returncode == 0, r.stderr
    files = dropped(inst)
    assert len(files) == 1
    st = os.stat(os.path.join(maildrop(inst), files[0]))
    assert stat.S_IMODE(st.st_mode) == 0o750
    dst = os.stat(maildrop(inst))
    assert stat.S_IMODE(dst.st_mode) == 0o3733
    assert st.st_gid == dst.st_gid			# the queue's group: pickup reads it
    if IS_ROOT:
        assert st.st_uid == USERS["alice"]
    inst.start()
    assert inst.wait_for_maildir("bob", 1, timeout=20), inst.log_tail(20)
    msg = inst.maildir_messages("bob")[0]
    assert b"Subject: while stopped" in msg
    assert b"\n.a dot line\n" in msg
    if IS_ROOT:
        assert b"Return-Path: <alice@mail.posthorn.test>" in msg	# myorigin
        assert b"from userid %d" % USERS["alice"] in msg
        assert inst.wait_for_log(r"pickup\[\d+\]: [0-9A-F]+: uid=%d "
                                 r"from=<alice@mail\.posthorn\.test>"
                                 % USERS["alice"])
    assert wait_until(lambda: dropped(inst) == [], 5)


def test_unknown_local_recipient_is_bounced_later(make_instance):
    inst = make_instance()
    user = "alice" if IS_ROOT else None
    r = sendmail(inst, ["-f", "alice@" + DOMAIN, "nosuchuser@" + DOMAIN],
                 MESSAGE % "to nobody", user=user)
    assert r.returncode == 0, r.stderr			# Postfix: taken, then bounced
    assert inst.wait_for_log(r"to=<nosuchuser@posthorn\.test>.*status=bounced")
    assert inst.wait_for_maildir("alice", 1, timeout=20)
    assert b"Undelivered Mail Returned to Sender" in inst.maildir_messages("alice")[0]


def test_no_recipients(make_instance):
    """Postfix's words and status 75 (EX_TEMPFAIL)."""
    inst = make_instance()
    r = sendmail(inst, [], "Subject: x\n\nbody\n")
    assert r.returncode == 75, r
    assert b"fatal: root(0): Recipient addresses must be specified on the command line " \
        b"or via the -t option" in r.stderr or not IS_ROOT, r.stderr
    r = sendmail(inst, ["-t"], "Subject: x\n\nbody\n")
    assert r.returncode == 75 and b"No recipient addresses found in message header" in r.stderr


@pytest.mark.skipif(not IS_ROOT, reason="needs root: files owned by other users")
def test_owner_is_the_user_whatever_the_file_says(make_instance):
    """alice writes a file that claims uid 0 and no sender: it is hers."""
    inst = make_instance(start=False)
    assert inst.posthorn("start").returncode == 0	# makes maildrop/
    inst.running = True
    path = os.path.join(maildrop(inst), "6B1500000AAAA")
    body = "Subject: claims root\n\nfrom alice really\n"

    def write_as_alice():
        pid = os.fork()
        if pid == 0:
            try:
                as_user("alice")()
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
                os.write(fd, maildrop_file(0, "bob@" + DOMAIN, body))
                os.fchmod(fd, 0o750)
                os.close(fd)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    write_as_alice()
    poke_pickup(inst)
    assert inst.wait_for_maildir("bob", 1, timeout=20), inst.log_tail(20)
    msg = inst.maildir_messages("bob")[0]
    assert b"Return-Path: <alice@mail.posthorn.test>" in msg
    assert b"from userid %d" % USERS["alice"] in msg
    assert inst.wait_for_log(r"claims uid 0, owned by uid %d: taken as uid %d"
                             % (USERS["alice"], USERS["alice"]))


@pytest.mark.skipif(not IS_ROOT, reason="needs root: files owned by other users")
def test_foreign_and_damaged_files_go_to_corrupt(make_instance):
    inst = make_instance()
    inst.stop()
    md = maildrop(inst)

    def as_alice(fn):
        pid = os.fork()
        if pid == 0:
            try:
                as_user("alice")()
                fn()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    def write(name, data, mode=0o750):
        def do():
            fd = os.open(os.path.join(md, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, data)
            os.fchmod(fd, mode)
            os.close(fd)
        as_alice(do)
    good = maildrop_file(USERS["alice"], "bob@" + DOMAIN, "Subject: x\n\nx\n")
    write("6B1500000BBB1", b"From: mallory\nSubject: not ours\n\nhello\n")   # foreign
    write("6B1500000BBB2", good[:-5])					# truncated
    write("6B1500000BBB3", good + b"junk")				# trailing junk
    write("notanid", good)						# odd name: still read
    # Two links: alice links a file of bob's readable by her into maildrop/
    as_alice(lambda: os.symlink("/etc/passwd", os.path.join(md, "6B1500000BBB4")))
    with open(os.path.join(inst.base, "bobs"), "wb") as f:
        f.write(good)
    os.chown(os.path.join(inst.base, "bobs"), USERS["bob"], USERS["bob"])
    os.chmod(os.path.join(inst.base, "bobs"), 0o755)
    os.link(os.path.join(inst.base, "bobs"), os.path.join(md, "6B1500000BBB5"))
    inst.start()
    assert wait_until(lambda: dropped(inst) == [], 15), dropped(inst)
    corrupt = os.listdir(os.path.join(inst.queue, "corrupt"))
    for name in ("6B1500000BBB1", "6B1500000BBB2", "6B1500000BBB3", "6B1500000BBB4",
                 "6B1500000BBB5"):
        assert name in corrupt, (name, corrupt, inst.log_tail(20))
    log = inst.log()
    assert "maildrop/6B1500000BBB1: not a maildrop file: moved to corrupt" in log
    assert "maildrop/6B1500000BBB5: 2 hard links: moved to corrupt" in log
    # The one good file (odd name and all) is alice's message, once
    assert inst.wait_for_maildir("bob", 1, timeout=15)
    time.sleep(1)
    assert len(inst.maildir_messages("bob")) == 1
