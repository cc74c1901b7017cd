"""test_crash.py - nothing accepted is lost when a process dies.

kill -9 of smtpd during DATA leaves nothing delivered and nothing stuck;
kill -9 of qmgr or local during delivery, then restart, delivers every
accepted message (duplicates allowed, never a loss); a truncated queue
file goes to corrupt/ and other mail flows on.
"""

import os
import shutil
import signal
import time

from posthorn_instance import header_value, wait_until


def send_many(inst, user, n, prefix, during=None):
    """Send N messages in one SMTP session; return their subjects.
    DURING(i) is called before message I is sent."""
    subjects = []
    with inst.smtp() as s:
        for i in range(n):
            if during:
                during(i)
            subj = "%s %03d" % (prefix, i)
            msg = ("From: crash@example.com\r\nTo: %s@posthorn.test\r\n"
                   "Subject: %s\r\n\r\n" % (user, subj)).encode() + b"z" * 2000 + b"\r\n"
            s.sendmail("crash@example.com", ["%s@posthorn.test" % user], msg)
            subjects.append(subj)
    return subjects


def delivered_subjects(inst, user, prefix):
    out = set()
    for data in inst.maildir_messages(user):
        subj = header_value(data, "Subject")
        if subj and subj.decode().startswith(prefix):
            out.add(subj.decode())
    return out


def wait_all_delivered(inst, user, subjects, prefix, timeout, flush=True):
    """Wait until every subject arrived; nudge with posthorn flush."""
    want = set(subjects)
    deadline = time.monotonic() + timeout
    last_flush = 0
    while time.monotonic() < deadline:
        got = delivered_subjects(inst, user, prefix)
        if want <= got:
            return got
        if flush and time.monotonic() - last_flush > 2:
            inst.posthorn("flush")
            last_flush = time.monotonic()
        time.sleep(0.2)
    return delivered_subjects(inst, user, prefix)


def wait_queue_empty(inst, timeout):
    """Wait until incoming/, active/ and deferred/ are empty, nudging the
    (possibly killed and not yet restarted) qmgr with posthorn flush."""
    deadline = time.monotonic() + timeout
    last_flush = time.monotonic()
    while time.monotonic() < deadline:
        if inst.queue_empty():
            return True
        if time.monotonic() - last_flush > 2:
            inst.posthorn("flush")
            last_flush = time.monotonic()
        time.sleep(0.1)
    return inst.queue_empty()


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_kill_smtpd_during_data(instance):
    inst = instance
    c = inst.raw()
    try:
        assert c.cmd("EHLO client.example")[0] == 250
        assert c.cmd("MAIL FROM:<s@example.com>")[0] == 250
        assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: half\r\n\r\n" + b"partial line\r\n" * 200)
        time.sleep(0.3)  # let smtpd write some of it into the queue file
        pids = inst.child_pids("smtpd")
        assert pids, "no smtpd child found: %s" % inst.children()
        for pid in pids:
            kill(pid)
        assert c.closed(5)
    finally:
        c.close()
    # the dead session's file must not stay in incoming/ or reach active/
    ok = wait_until(lambda: inst.queue_empty(("incoming", "active")), 10, 0.2)
    assert ok, "left in queue: %s" % (inst.queue_files("incoming") + inst.queue_files("active"))
    assert inst.maildir_files(inst.maildir_new("alice")) == []
    # and the service comes back
    assert wait_until(inst.greets, 15, 0.3), "smtpd not respawned"
    assert inst.send("alice@posthorn.test", b"Subject: after crash\r\n\r\nok\r\n")[0] == 250
    assert inst.wait_for_message(b"Subject: after crash", "alice") is not None
    assert len(inst.maildir_files(inst.maildir_new("alice"))) == 1


def test_kill_qmgr_during_delivery(instance):
    inst = instance
    killed = []

    def kill_qmgr(i):
        if i == 10:
            pid = inst.wait_for_child("qmgr", 5)
            assert pid, "no qmgr child: %s" % inst.children()
            kill(pid)
            killed.append(pid)
    # kill qmgr in the middle of the stream and again right after it
    subjects = send_many(inst, "alice", 20, "qmgrkill", kill_qmgr)
    assert killed
    pid = inst.wait_for_child("qmgr", 5)
    if pid:
        kill(pid)
    got = wait_all_delivered(inst, "alice", subjects, "qmgrkill", 40)
    missing = sorted(set(subjects) - got)
    assert not missing, "lost after qmgr kill: %s" % missing
    assert wait_queue_empty(inst, 20), inst.queue_files("active") + inst.queue_files("deferred")


def test_kill_local_during_delivery(instance):
    inst = instance
    subjects = send_many(inst, "bob", 50, "localkill")
    # wait until local is busy delivering, then kill every local process
    wait_until(lambda: inst.maildir_files(inst.maildir_new("bob")), 15, 0.01)
    pids = inst.child_pids("local")
    assert pids, "no local child: %s" % inst.children()
    for pid in pids:
        kill(pid)
    got = wait_all_delivered(inst, "bob", subjects, "localkill", 60)
    missing = sorted(set(subjects) - got)
    assert not missing, "lost after local kill: %s" % missing
    assert wait_queue_empty(inst, 20), inst.queue_files("active") + inst.queue_files("deferred")


def new_queue_id():
    """A valid queue id that no real file will get (a time in the past)."""
    t = time.time() - 3600
    return "%08X%05X" % (int(t), int((t % 1) * 1e6))


def test_truncated_queue_file_goes_to_corrupt(make_instance):
    inst = make_instance(qmgr=False)
    msg = b"From: a@example.com\r\nSubject: capture\r\n\r\n" + b"body line\r\n" * 200
    assert inst.send("alice@posthorn.test", msg)[0] == 250
    files = inst.queue_files("incoming")
    assert len(files) == 1
    real = files[0]
    assert os.stat(real).st_mode & 0o100, "queue file not marked complete"
    with open(real, "rb") as f:
        content = f.read()
    inst.stop()

    bad_id = new_queue_id()
    bad = os.path.join(inst.queue, "incoming", bad_id)
    with open(bad, "wb") as f:
        f.write(content[:len(content) // 2])
    shutil.copystat(real, bad)
    st = os.stat(real)
    os.chown(bad, st.st_uid, st.st_gid)
    os.chmod(bad, 0o700)

    inst.with_qmgr = True
    inst.write_config()
    inst.start()
    assert inst.send("bob@posthorn.test",
                     b"From: a@example.com\r\nSubject: after corrupt\r\n\r\nfine\r\n")[0] == 250
    inst.posthorn("flush")
    assert inst.wait_for_message(b"Subject: after corrupt", "bob", timeout=20) is not None
    assert inst.wait_for_message(b"Subject: capture", "alice", timeout=20) is not None
    ok = wait_until(lambda: [p for p in inst.queue_files("corrupt") if p.endswith(bad_id)], 15, 0.2)
    assert ok, "truncated file not in corrupt/: corrupt=%s incoming=%s active=%s" % (
        inst.queue_files("corrupt"), inst.queue_files("incoming"), inst.queue_files("active"))
    assert not os.path.exists(bad)
    assert wait_until(inst.queue_empty, 10, 0.1), inst.queue_files("active")


def test_finished_file_left_by_a_dead_qmgr_is_removed_undelivered(make_instance):
    """qmgr removes a finished message in a worker thread; if it dies
    first, the file comes back at the next start with every recipient
    done (R flipped to D) and a stale defer log: it must be removed then,
    logs and all, and delivered to nobody."""
    inst = make_instance(qmgr=False)
    assert inst.send(["alice@posthorn.test", "bob@posthorn.test"],
                     b"From: a@example.com\r\nSubject: finished\r\n\r\ndone\r\n")[0] == 250
    files = inst.queue_files("incoming")
    assert len(files) == 1
    qid = os.path.basename(files[0])
    with open(files[0], "r+b") as f:
        data = f.read()
        for rcpt in (b"alice@posthorn.test", b"bob@posthorn.test"):
            at = data.find(b"R" + bytes([len(rcpt)]) + rcpt)
            assert at > 0, data[:400]
            f.seek(at)
            f.write(b"D")
    inst.stop()
    # as a dead qmgr leaves it: in active/, with a defer log of an attempt
    active = os.path.join(inst.queue, "active", qid)
    os.rename(files[0], active)
    st = os.stat(active)
    log_dir = os.path.join(inst.queue, "defer", qid[8])	# hashed, depth 1
    os.makedirs(log_dir, mode=0o700, exist_ok=True)
    with open(os.path.join(log_dir, qid), "w") as f:
        f.write("recipient=alice@posthorn.test\nstatus=4.0.0\nreason=old\n\n")
    for path in (log_dir, os.path.join(log_dir, qid)):
        os.chown(path, st.st_uid, st.st_gid)
    inst.with_qmgr = True
    inst.write_config()
    inst.start()
    assert inst.wait_for_log(r"%s: removed" % qid, timeout=15), inst.log_tail()
    assert not os.path.exists(active)
    assert not os.path.exists(os.path.join(log_dir, qid))
    assert wait_until(inst.queue_empty, 10)
    assert inst.maildir_files(inst.maildir_new("alice")) == []
    assert inst.maildir_files(inst.maildir_new("bob")) == []
