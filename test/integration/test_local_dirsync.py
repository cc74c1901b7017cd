"""test_local_dirsync.py - local fsyncs a Maildir's new/ once per request.

local delivers every recipient of a request first, then fsyncs the new/
directories they went to, each once (MAILDIR_SYNC in lib/store/mailbox.c),
and only then marks the recipients done, logs and replies.  Here one
message goes to ten virtual recipients that share one Maildir and to two
that have their own: strace counts local's fsyncs (one per message file,
one per directory: 12 + 3, where one fsync per file and per recipient
would be 24), and every recipient is delivered and logged once.

Needs strace and permission to trace master's children (root, or the same
user where kernel.yama.ptrace_scope allows it); else skipped, saying why.
"""

import os
import re
import shutil
import subprocess
import time

import pytest

from posthorn_instance import wait_until

STRACE = shutil.which("strace")
SHARED = ["r%d@virt.test" % i for i in range(10)]
OWN = ["own1@virt.test", "own2@virt.test"]


def test_one_directory_fsync_per_request(make_instance, tmp_path):
    if not STRACE:
        pytest.skip("strace is not installed")
    inst = make_instance(main={
        "virtual_mailbox_maps": "inline:{ own1@virt.test=virt.test/own1/, "
                                "own2@virt.test=virt.test/own2/ }, "
                                "static:virt.test/shared/",
    })
    log = str(tmp_path / "strace")
    tracer = subprocess.Popen([STRACE, "-f", "-qq", "-e", "trace=fsync,fdatasync",
                               "-o", log, "-p", str(inst.master_pid())],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    attached = wait_until(lambda: tracer.poll() is not None or os.path.exists(log), 5)
    if tracer.poll() is not None or not attached:
        why = tracer.stderr.read().decode("utf-8", "replace")
        if "not permitted" in why:
            pytest.skip("cannot trace master: %s" % why.strip())
        raise AssertionError("strace: " + why)
    time.sleep(0.3)
    try:
        inst.send(SHARED + OWN, b"From: d@example.com\r\nSubject: dirsync\r\n\r\nhi\r\n")
        shared = os.path.join(inst.mail, "virtual", "virt.test", "shared", "new")
        assert len(inst.wait_for_maildir(None, 10, path=shared)) == 10
        for own in ("own1", "own2"):
            path = os.path.join(inst.mail, "virtual", "virt.test", own, "new")
            assert len(inst.wait_for_maildir(None, 1, path=path)) == 1
        assert inst.wait_for_log(r"status=sent", count=12), inst.log_tail()
    finally:
        tracer.terminate()
        tracer.wait(timeout=10)
    locals_ = set(re.findall(r"posthorn/local\[(\d+)\]: \S+: to=<[^>]+@virt\.test>",
                             inst.log()))
    assert locals_, inst.log_tail()
    calls = [line for line in open(log) if line.split(" ", 1)[0] in locals_
             and re.search(r"\bf(data)?sync\(", line)]
    assert len(calls) == 12 + 3, "".join(calls)
    for rcpt in SHARED + OWN:
        assert len(re.findall(r"to=<%s>.*status=sent" % re.escape(rcpt), inst.log())) == 1
    assert wait_until(inst.queue_empty, 10), inst.queue_files("active")
