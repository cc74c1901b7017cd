"""test_bigqueue.py - big queues (issue 14), in seconds.

2,000 messages are deferred by a "retry:" transport_maps entry; then:
  - postqueue -p streams: the first line arrives while the listing is not
    over, and a reader that stops reading holds postqueue and showq up
    (nothing is collected first); the listing is complete and counted;
    (five long recipients each, so the listing is larger than the
    buffers between showq and the reader);
  - with qmgr_message_active_limit = 50 and qmgr_message_recipient_limit
    = 30 (one recipient each), a flush (after the retry entry is gone)
    delivers all 2,000, and the log ("queue active" ... "removed") never
    shows more than 30 recipients in memory at once;
  - a message that arrives during that flush is delivered before the
    deferred backlog is done (incoming/ is not starved).
"""

import os
import re
import subprocess
import threading
import time

from posthorn_instance import wait_until

N = 2000
LONG = "a-rather-long-local-part-for-a-wide-listing-%d@retry.example"
ACTIVE_LIMIT = 50
RCPT_LIMIT = 30


def fill(inst, n, rcpts, threads=4):
    """N messages over THREADS SMTP sessions."""
    def worker(count, tag):
        with inst.smtp(timeout=60) as s:
            s.ehlo()
            for i in range(count):
                s.sendmail("alice@posthorn.test", rcpts,
                           b"Subject: big %d-%d\r\n\r\nbody\r\n" % (tag, i))
    per = n // threads
    ts = [threading.Thread(target=worker, args=(per, t)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def make_backlog(make_instance, rcpts, **main):
    params = {"transport_maps": "texthash:$config_directory/transport",
              "minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
              "queue_run_delay": "300s"}
    params.update(main)
    inst = make_instance(main=params, start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write("virt.test retry:4.4.1 try again later\nretry.example retry:4.4.1 later\n")
    inst.start()
    fill(inst, N, rcpts)
    assert wait_until(lambda: len(inst.queue_files("deferred")) >= N, 60), inst.log_tail()
    return inst


def postqueue(inst, *args):
    return [inst.bin("postqueue"), "-c", inst.etc] + list(args)


def test_listing_streams(make_instance):
    inst = make_backlog(make_instance, [LONG % i for i in range(5)])
    p = subprocess.Popen(postqueue(inst, "-p"), stdout=subprocess.PIPE, env=inst.env())
    t0 = time.monotonic()
    first = p.stdout.readline()
    assert first.startswith(b"-Queue ID-") or first.startswith(b"----Queue ID"), first
    # Stop reading: the rest of the listing must still be on its way
    time.sleep(1.0)
    assert p.poll() is None, "postqueue finished before its output was read"
    rest = p.stdout.read()
    p.wait()
    assert p.returncode == 0
    text = (first + rest).decode()
    ids = re.findall(r"^([0-9A-F]{13})\s", text, re.M)
    assert len(ids) == N and len(set(ids)) == N
    assert re.search(r"^-- \d+ Kbytes in %d Requests\.$" % N, text, re.M)
    assert text.count(LONG % 4) == N
    assert time.monotonic() - t0 < 30
    r = inst.run(postqueue(inst, "-j"))
    assert r.returncode == 0 and len(r.stdout.splitlines()) == N


def in_memory_peaks(log):
    """Largest number of messages and recipients in qmgr's memory, from
    its log: a message counts from "queue active" until "removed" (its
    file leaves active/ in a worker thread, and it counts for the limit
    until then), a recipient until its status line (here every message
    has one recipient, so that is when its slice is freed)."""
    active = {}
    peak_msgs = peak_rcpts = rcpts = 0
    for line in log.splitlines():
        m = re.search(r"([0-9A-F]{13}): from=<[^>]*>, size=\d+, nrcpt=(\d+) \(queue active\)",
                      line)
        if m:
            active[m.group(1)] = int(m.group(2))
            rcpts += int(m.group(2))
            peak_msgs = max(peak_msgs, len(active))
            peak_rcpts = max(peak_rcpts, rcpts)
            continue
        m = re.search(r"([0-9A-F]{13}): to=<[^>]*>, .* status=(sent|deferred|bounced)", line)
        if m and active.get(m.group(1), 0) > 0:
            active[m.group(1)] -= 1
            rcpts -= 1
            continue
        m = re.search(r"([0-9A-F]{13}): removed$", line)
        if m and m.group(1) in active:
            rcpts -= active.pop(m.group(1))
    return peak_msgs, peak_rcpts


def test_flush_bounded_and_not_starving(make_instance):
    inst = make_backlog(make_instance, ["demo@virt.test"], qmgr_message_active_limit=str(ACTIVE_LIMIT),
                        qmgr_message_recipient_limit=str(RCPT_LIMIT))
    mark = len(inst.log())
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write("# retry entry gone\n")
    time.sleep(1.1)                 # a new mtime: qmgr sees the table changed
    r = inst.run(postqueue(inst, "-f"))
    assert r.returncode == 0, r.stderr
    # New mail while the backlog is flushed
    assert wait_until(lambda: "(queue active)" in inst.log()[mark:], 20), inst.log_tail()
    inst.send(["alice@posthorn.test"], b"Subject: fresh\r\n\r\nnew mail\r\n")
    assert inst.wait_for_maildir("alice", 1, timeout=60), inst.log_tail()
    backlog_left = len(inst.queue_files("deferred"))
    demo_new = inst.virtual_new()
    assert wait_until(lambda: len(os.listdir(demo_new)) >= N, 240, 0.2), \
        inst.log_tail()
    assert wait_until(lambda: inst.queue_empty(), 30), inst.log_tail()
    assert backlog_left > 0, "the backlog was done before new mail got in"
    msgs, rcpts = in_memory_peaks(inst.log()[mark:])
    assert 0 < msgs <= ACTIVE_LIMIT, msgs
    assert 0 < rcpts <= RCPT_LIMIT, rcpts
