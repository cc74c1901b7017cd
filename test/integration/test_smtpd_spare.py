"""test_smtpd_spare.py - the queue files smtpd makes ahead (smtpd_spare.c).

After its first message an smtpd process keeps up to four empty files in
incoming/, mode 0600 and locked, made by a worker thread so that DATA
does not wait for a create.  Checked here: they appear after the first
message and are used by the next ones; qmgr, showq and postsuper ALL pass
over them; one removed behind smtpd's back is never written to; they go
when master stops smtpd (SIGTERM) and, after a kill -9, qmgr removes them
like any incomplete file whose writer died.
"""

import fcntl
import os
import signal
import time

from posthorn_instance import is_spare, wait_until

MSG = b"From: s@example.com\r\nSubject: %s\r\n\r\nbody\r\n"


def spares(inst):
    return sorted(p for p in inst.queue_files("incoming", spares=True) if is_spare(p))


def locked(path):
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def send(inst, subject):
    code, _ = inst.send("alice@posthorn.test", MSG % subject.encode())
    assert code == 250


def test_spares_are_made_used_and_left_alone(instance):
    inst = instance
    assert spares(inst) == []			# none before the first message
    send(inst, "first")
    assert wait_until(lambda: len(spares(inst)) == 4, 10), spares(inst)
    made = spares(inst)
    for path in made:
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o600 and st.st_size == 0
        assert locked(path), path
    # the next messages use them (their ids), and new ones replace them
    for i in range(3):
        send(inst, "next %d" % i)
    assert len(inst.wait_for_maildir("alice", 4)) >= 4
    ids = set(os.path.basename(p) for p in made)
    used = [qid for qid in ids
            if inst.wait_for_log(r"%s: client=" % qid, timeout=0.1)]
    assert len(used) >= 3, (ids, inst.log_tail())
    assert wait_until(lambda: len(spares(inst)) == 4, 10), spares(inst)
    # qmgr leaves them (locked), showq does not list them, postsuper ALL
    # neither removes them nor warns about them
    time.sleep(3)
    send(inst, "after")
    assert len(inst.wait_for_maildir("alice", 5)) >= 5
    assert "stale incomplete" not in inst.log()
    r = inst.run([inst.bin("postqueue"), "-c", inst.etc, "-p"])
    assert "Mail queue is empty" in r.stdout, r.stdout
    before = spares(inst)
    r = inst.run([inst.bin("postsuper"), "-c", inst.etc, "-d", "ALL"])
    assert r.returncode == 0, r.stderr
    assert "in use" not in r.stderr, r.stderr
    assert spares(inst) == before


def test_removed_spare_is_not_written(instance):
    inst = instance
    send(inst, "first")
    assert wait_until(lambda: len(spares(inst)) == 4, 10)
    for path in spares(inst):			# an admin cleans incoming/
        os.unlink(path)
    for i in range(3):
        send(inst, "after removal %d" % i)
    assert len(inst.wait_for_maildir("alice", 4)) >= 4
    assert inst.wait_for_log(r"spare queue file \S+ was removed or changed; not used")
    assert wait_until(inst.queue_empty, 10), inst.queue_files("incoming")


def test_spares_go_with_smtpd(instance):
    inst = instance
    send(inst, "first")
    assert wait_until(lambda: len(spares(inst)) == 4, 10)
    inst.stop()					# master sends SIGTERM
    assert spares(inst) == []


def test_spares_of_a_killed_smtpd_are_swept(instance):
    inst = instance
    send(inst, "first")
    assert wait_until(lambda: len(spares(inst)) == 4, 10)
    left = set(spares(inst))
    for pid in inst.child_pids("smtpd"):
        os.kill(pid, signal.SIGKILL)
    time.sleep(2.5)				# older than qmgr's grace
    send(inst, "wake qmgr")			# a new smtpd; qmgr scans incoming/
    assert wait_until(lambda: not (left & set(spares(inst))), 15), inst.log_tail()
    assert inst.wait_for_log(r"removed stale incomplete queue file")
