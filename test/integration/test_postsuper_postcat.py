"""test_postsuper_postcat.py - postsuper, postcat and postqueue as Postfix 3.7's.

What is compared with Postfix is written down here as Postfix 3.7 prints
it, and, where Postfix is installed and we are root, Postfix's own
binaries are run on the same input to show that the text is still
Postfix's: bad usage (getopt's line, the usage line, the exit status),
postsuper's line per message and report lines on a queue (Postfix's
postsuper works on a private queue of placeholder files named with the
same ids; it needs no running Postfix for that), postcat's and
postqueue's complaints.  Then what can only be checked on Posthorn:
the same lines when qmgr does the work (and the log holds each message
once, qmgr's line), -s/-p on a damaged queue, postsuper -e/-f returning
mail to its sender, and postcat's -o/-d/-s/-r/-v on a real queue file.
"""

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from posthorn_instance import wait_until, IS_ROOT

POSTFIX = {p: "/usr/sbin/" + p for p in ("postsuper", "postcat", "postqueue")}


def _have_postfix():
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return False
    return IS_ROOT and all(os.access(p, os.X_OK) for p in POSTFIX.values())


HAVE_POSTFIX = _have_postfix()
TRANSPORT = "retry.example retry:4.4.1 try again later\n"
PS_USAGE = ("postsuper: fatal: usage: postsuper [-c config_dir] [-d queue_id (delete)] "
            "[-e queue_id (expire)] [-f queue_id (expire and/or un-hold)] "
            "[-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary files)] "
            "[-r queue_id (requeue)] [-s (structure fix)] [-S (redundant structure fix)]"
            "[-v (verbose)] [queue...]\n")
PC_USAGE = ("postcat: fatal: usage: postcat [-b (body text)] [-c config_dir] "
            "[-d (decimal record type)] [-e (envelope records)] [-h (header text)] "
            "[-q (access queue)] [-v] [file(s)...]\n")
PQ_USAGE = ("postqueue: fatal: usage: postqueue -f | postqueue -i queueid | "
            "postqueue -j | postqueue -p | postqueue -s site\n")


def run_as(prog, path, args, input=None, env=None):
    """Run PATH with argv[0] PROG (as from $PATH); (status, stderr, stdout)."""
    r = subprocess.run([prog] + list(args), executable=path, input=input,
                       capture_output=True, timeout=30, env=env)
    return r.returncode, r.stderr.decode(), r.stdout.decode("utf-8", "replace")


class PostfixQueue:
    """A private Postfix configuration and queue of placeholder files."""

    def __init__(self, base):
        self.etc = os.path.join(base, "etc")
        self.queue = os.path.join(base, "queue")
        os.makedirs(self.etc)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("queue_directory = %s\ndata_directory = %s/data\n"
                    "mail_owner = postfix\ncompatibility_level = 3.6\n"
                    "hash_queue_names = deferred, defer\n" % (self.queue, base))
        pw = pwd.getpwnam("postfix")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        for d in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt",
                  "defer", "bounce", "trace", "flush"):
            os.makedirs(os.path.join(self.queue, d))
            os.chown(os.path.join(self.queue, d), self.uid, self.gid)
            os.chmod(os.path.join(self.queue, d), 0o700)
        os.chmod(base, 0o755)

    def put(self, queue, qid, mode=0o700):
        path = os.path.join(self.queue, queue, qid)
        with open(path, "w") as f:
            f.write("placeholder\n")
        os.chown(path, self.uid, self.gid)
        os.chmod(path, mode)

    def run(self, prog, *args, input=None):
        return run_as(prog, POSTFIX[prog], ["-c", self.etc] + list(args), input=input)


@pytest.fixture
def pfx():
    if not HAVE_POSTFIX:
        yield None
        return
    base = tempfile.mkdtemp(prefix="pfx-", dir="/tmp")
    try:
        yield PostfixQueue(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def ours(inst, prog, *args, input=None, config=True):
    extra = ["-c", inst.etc] if config else []
    return run_as(prog, inst.bin(prog), extra + list(args),
                  input=input.encode() if isinstance(input, str) else input, env=inst.env())


def start(make_instance, main=None):
    params = {"transport_maps": "texthash:$config_directory/transport",
              "minimal_backoff_time": "300s", "maximal_backoff_time": "300s"}
    params.update(main or {})
    inst = make_instance(main=params, start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write(TRANSPORT)
    return inst.start()


def send(inst, rcpts, body="body\r\n", sender="alice@posthorn.test"):
    with inst.smtp() as s:
        s.ehlo()
        s.mail(sender)
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, text
        code, text = s.data(("Subject: test\r\n\r\n" + body).encode())
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[-1]


def queue_of(inst, qid):
    for q in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt"):
        if any(os.path.basename(p) == qid for p in inst.queue_files(q)):
            return q
    return None


def held_messages(make_instance, n=2):
    """An instance with N deferred messages put on hold; their ids."""
    inst = start(make_instance)
    ids = [send(inst, ["x%d@retry.example" % i]) for i in range(n)]
    assert wait_until(lambda: all(queue_of(inst, q) == "deferred" for q in ids), 10), \
        inst.log_tail()
    assert ours(inst, "postsuper", "-h", "ALL")[0] == 0
    assert all(queue_of(inst, q) == "hold" for q in ids)
    return inst, ids


def same_as_postfix(pfx, prog, args, expected, input=None):
    """Postfix's PROG says EXPECTED (status, stderr) for ARGS too."""
    if pfx is not None:
        got = pfx.run(prog, *args, input=input.encode() if input else None)[:2]
        assert got == expected, (args, got)


# ------------------------------------------------------------- bad usage

USAGE_CASES = [
    ("postsuper", ["-Z"], 1, "postsuper: invalid option -- 'Z'\n" + PS_USAGE),
    ("postsuper", ["-d"], 1, "postsuper: option requires an argument -- 'd'\n" + PS_USAGE),
    ("postcat", ["-Z"], 1, "postcat: invalid option -- 'Z'\n" + PC_USAGE),
    ("postcat", ["-s", "1x"], 1, "postcat: fatal: bad offset: 1x\n"),
    ("postqueue", ["-Z"], 69, "postqueue: invalid option -- 'Z'\n" + PQ_USAGE),
    ("postqueue", [], 69, PQ_USAGE),
    ("postqueue", ["-p", "-f"], 69, PQ_USAGE),
    ("postqueue", ["-j", "-j"], 69, PQ_USAGE),
    ("postqueue", ["-p", "extra"], 69, PQ_USAGE),
    ("postqueue", ["-i"], 69, "postqueue: option requires an argument -- 'i'\n" + PQ_USAGE),
]


@pytest.mark.parametrize("prog,args,status,text", USAGE_CASES)
def test_bad_usage(instance, pfx, prog, args, status, text):
    assert ours(instance, prog, *args, config=False)[:2] == (status, text)
    if pfx is not None:
        assert run_as(prog, POSTFIX[prog], args)[:2] == (status, text)


def test_bad_arguments(instance, pfx):
    cases = [
        ("postsuper", ["-c", "relative"], 1, "postsuper: fatal: -c requires absolute pathname\n"),
        ("postsuper", ["nosuch"], 1, "postsuper: fatal: invalid directory name: nosuch\n"),
        ("postsuper", ["-d", "ALL", "corrupt"], 1,
         "postsuper: fatal: invalid directory name: corrupt\n"),
        ("postqueue", ["-s", "bad/site"], 69,
         'postqueue: fatal: Cannot flush mail queue - invalid destination: "bad/site"\n'),
        ("postqueue", ["-s", "[1.2.3]"], 69,
         'postqueue: fatal: Cannot flush mail queue - invalid destination: "[1.2.3]"\n'),
        ("postqueue", ["-i", "bad/id"], 69,
         'postqueue: fatal: Cannot flush queue ID - invalid name: "bad/id"\n'),
        ("postqueue", ["-i", ""], 69,
         'postqueue: fatal: Cannot flush queue ID - invalid name: ""\n'),
        ("postcat", ["-q", "bad/id"], 1, "postcat: fatal: bad mail queue ID: bad/id\n"),
        ("postcat", ["-q", "0000000000000"], 1,
         "postcat: fatal: open queue file 0000000000000: No such file or directory\n"),
    ]
    for prog, args, status, text in cases:
        config = args[:1] != ["-c"]
        assert ours(instance, prog, *args, config=config)[:2] == (status, text), args
        if pfx is not None:
            got = (run_as(prog, POSTFIX[prog], args) if not config else pfx.run(prog, *args))
            assert got[:2] == (status, text), (args, got)
    # a name that can be no Posthorn queue id (Postfix looks for it silently)
    assert ours(instance, "postsuper", "-d", "NOTANID")[:2] == \
        (0, "postsuper: warning: invalid mail queue id: NOTANID\n"
            "postsuper: Deleted: 0 messages\n")
    # a well-formed id of no message is no error
    assert ours(instance, "postqueue", "-i", "0000000000000")[:2] == (0, "")


# ------------------------------------------------- postsuper, line by line

def postsuper_script(x, y, absent):
    """(args, stdin, expected stderr) for held messages X and Y."""
    return [
        (["-e", x], None, "postsuper: %s: expired\npostsuper: Force-expired: 1 message\n" % x),
        (["-e", x], None, "postsuper: Force-expired: 0 messages\n"),
        (["-h", x], None, "postsuper: Placed on hold: 0 messages\n"),
        (["-h", "bad/id", "-d", absent], None,
         "postsuper: warning: invalid mail queue id: bad/id\n"
         "postsuper: Deleted: 0 messages\npostsuper: Placed on hold: 0 messages\n"),
        (["-f", x], None, "postsuper: %s: released from hold\n"
         "postsuper: Force-expired: 0 messages\npostsuper: Released from hold: 1 message\n" % x),
        (["-r", x, "-H", x], None, "postsuper: %s: requeued\npostsuper: Requeued: 1 message\n"
         "postsuper: Released from hold: 0 messages\n" % x),
        (["-H", "ALL"], None, "postsuper: Released from hold: 1 message\n"),
        (["-d", "-"], "%s\nbad/id\n%s\n" % (x, y),
         "postsuper: %s: removed\npostsuper: warning: invalid mail queue id: bad/id\n"
         "postsuper: %s: removed\npostsuper: Deleted: 2 messages\n" % (x, y)),
        (["-d", "ALL", "-e", "ALL", "-r", "ALL", "-h", "ALL", "-H", "ALL"], None,
         "postsuper: Requeued: 0 messages\npostsuper: Deleted: 0 messages\n"
         "postsuper: Force-expired: 0 messages\npostsuper: Placed on hold: 0 messages\n"
         "postsuper: Released from hold: 0 messages\n"),
        ([], None, ""),
        (["-s", "-p"], None, ""),
    ]


def test_postsuper_lines_without_qmgr(make_instance, pfx):
    """The mail system is down: postsuper works on the files itself."""
    inst, (x, y) = held_messages(make_instance)
    inst.stop()
    if pfx is not None:
        pfx.put("hold", x)
        pfx.put("hold", y)
    for args, stdin, expected in postsuper_script(x, y, "0000000000000"):
        assert ours(inst, "postsuper", *args, input=stdin)[:2] == (0, expected), args
        same_as_postfix(pfx, "postsuper", args, (0, expected), input=stdin)
        if args[:2] == ["-e", x]:
            st = os.stat([p for p in inst.queue_files("hold") if p.endswith(x)][0])
            assert st.st_mode & 0o7777 == 0o710
    assert inst.queue_empty(("incoming", "deferred", "hold", "defer"))
    # each message's line was logged by postsuper: nobody else did it
    assert re.search(r"posthorn/postsuper\[\d+\]: %s: expired$" % x, inst.log(), re.M)


def test_postsuper_lines_through_qmgr(make_instance, pfx):
    """qmgr does the work: the same lines on the terminal, qmgr's in the log."""
    inst, (x, y) = held_messages(make_instance)
    if pfx is not None:
        pfx.put("hold", x)
        pfx.put("hold", y)
    script = [
        (["-e", x], "postsuper: %s: expired\npostsuper: Force-expired: 1 message\n" % x),
        (["-e", x, "-e", y], "postsuper: %s: expired\npostsuper: Force-expired: 1 message\n" % y),
        (["-h", "ALL"], "postsuper: Placed on hold: 0 messages\n"),
        (["-d", y, "-d", "0000000000000", "-d", x],
         "postsuper: %s: removed\npostsuper: %s: removed\npostsuper: Deleted: 2 messages\n"
         % (y, x)),
    ]
    for args, expected in script:
        assert ours(inst, "postsuper", *args)[:2] == (0, expected), args
        same_as_postfix(pfx, "postsuper", args, (0, expected))
    log = inst.log()
    assert re.search(r"posthorn/qmgr\[\d+\]: %s: expired$" % x, log, re.M), log
    assert re.search(r"posthorn/qmgr\[\d+\]: %s: removed$" % y, log, re.M), log
    assert not re.search(r"postsuper\[\d+\]: %s: " % x, log), log
    assert re.search(r"posthorn/postsuper\[\d+\]: Deleted: 2 messages$", log, re.M)


def test_postsuper_queue_names(make_instance):
    inst, (x, y) = held_messages(make_instance)
    # only the queues named: x is in hold, not deferred
    assert ours(inst, "postsuper", "-d", x, "deferred")[:2] == \
        (0, "postsuper: Deleted: 0 messages\n")
    assert ours(inst, "postsuper", "-d", x, "deferred", "hold")[:2] == \
        (0, "postsuper: %s: removed\npostsuper: Deleted: 1 message\n" % x)
    assert queue_of(inst, y) == "hold"


def test_postsuper_deletes_in_maildrop(make_instance):
    """-d also reaches maildrop/ (sendmail's files while the system was down)."""
    inst = start(make_instance)
    inst.stop()
    r = inst.sendmail(["-f", "alice@posthorn.test", "x@retry.example"], b"Subject: m\n\nhi\n")
    assert r.returncode == 0, r.stderr
    drop = [os.path.basename(p) for p in inst.queue_files("maildrop")]
    assert len(drop) == 1
    assert ours(inst, "postsuper", "-d", drop[0])[:2] == \
        (0, "postsuper: %s: removed\npostsuper: Deleted: 1 message\n" % drop[0])
    assert not inst.queue_files("maildrop")


# ------------------------------------------------------- -s and -p

def test_structure_and_purge(make_instance, pfx):
    inst = start(make_instance)
    inst.stop()
    q = inst.queue
    good = "6919C2F70A3B1"
    os.makedirs(os.path.join(q, "deferred", "F", "0"))          # a level too deep
    misplaced = os.path.join(q, "deferred", "F", "0", good)
    stale = os.path.join(q, "incoming", "6919C2F70A3B2")
    fresh = os.path.join(q, "incoming", "6919C2F70A3B3")
    for path, mode in ((misplaced, 0o700), (stale, 0o600), (fresh, 0o600),
                       (os.path.join(q, "deferred", "not-an-id"), 0o700)):
        with open(path, "w") as f:
            f.write("x")
        os.chmod(path, mode)
    old = time.time() - 7200
    os.utime(stale, (old, old))
    os.mkfifo(os.path.join(q, "hold", "fifo"))
    os.mkdir(os.path.join(q, "hold", "alien"))
    if IS_ROOT:
        pw = pwd.getpwnam(inst.mail_owner)
        for dirpath, dirs, files in os.walk(q):
            for name in dirs + files:
                os.lchown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid)

    status, err, _ = ours(inst, "postsuper", "-s", "-p")
    assert status == 0
    assert err == ("postsuper: warning: bogus file name: deferred/not-an-id\n"
                   "postsuper: deferred/not-an-id: moved to corrupt/not-an-id\n"), err
    assert os.path.exists(os.path.join(q, "deferred", good[8], good))
    assert not os.path.exists(os.path.join(q, "deferred", "F", "0"))
    assert os.path.exists(os.path.join(q, "corrupt", "not-an-id"))
    assert not os.path.exists(stale) and os.path.exists(fresh)
    assert os.listdir(os.path.join(q, "hold")) == []
    # a second run finds nothing to say
    assert ours(inst, "postsuper")[:2] == (0, "")
    if pfx is not None:
        # Postfix's words for the same kind of file
        path = os.path.join(pfx.queue, "deferred", "not-an-id")
        pfx.put("deferred", "not-an-id")
        assert pfx.run("postsuper", "-s")[:2] == \
            (0, "postsuper: warning: bogus file name: deferred/not-an-id\n")
        assert os.path.exists(path)     # Postfix leaves it


# ------------------------------------------- expire: back to the sender

def bounce_for(inst, qid):
    """The text of the bounce in alice's Maildir for message QID."""
    def find():
        for m in inst.maildir_messages("alice"):
            if qid.encode() in m and b"Undelivered Mail Returned to Sender" in m:
                return m.decode("utf-8", "replace")
        return None
    assert wait_until(lambda: find() is not None, 15), inst.log_tail()
    return find()


def test_expire_returns_deferred_mail(make_instance):
    inst = start(make_instance)
    qid = send(inst, ["x@retry.example", "y@retry.example"])
    assert wait_until(lambda: queue_of(inst, qid) == "deferred", 10), inst.log_tail()
    assert ours(inst, "postsuper", "-e", qid)[:2] == \
        (0, "postsuper: %s: expired\npostsuper: Force-expired: 1 message\n" % qid)
    # still queued until qmgr tries it again; the listings show the mark
    assert queue_of(inst, qid) == "deferred"
    status, _, out = ours(inst, "postqueue", "-p")
    assert re.search(r"^%s# " % qid, out, re.M), out
    assert json.loads(ours(inst, "postqueue", "-j")[2])["forced_expire"] is True
    assert ours(inst, "postqueue", "-i", qid)[:2] == (0, "")
    assert inst.wait_for_log(r"%s: from=<alice@posthorn.test>, status=force-expired, "
                             r"returned to sender" % qid, 15), inst.log_tail()
    text = bounce_for(inst, qid)
    # the reason of the last deferral, as Postfix's bounce states it
    assert "<x@retry.example>: try again later" in text, text
    assert "Status: 4.4.1" in text
    assert wait_until(lambda: queue_of(inst, qid) is None, 10)


def test_force_expire_releases_held_mail(make_instance):
    """-f on mail held before any delivery attempt: Postfix's 4.7.0 text."""
    inst = start(make_instance, main={
        "smtpd_recipient_restrictions":
            "check_recipient_access inline:{ hold@retry.example=HOLD }, "
            "permit_mynetworks, reject_unauth_destination"})
    qid = send(inst, ["hold@retry.example"])
    assert wait_until(lambda: queue_of(inst, qid) == "hold", 10), inst.log_tail()
    assert ours(inst, "postsuper", "-f", qid)[:2] == \
        (0, "postsuper: %s: expired\npostsuper: %s: released from hold\n"
            "postsuper: Force-expired: 1 message\npostsuper: Released from hold: 1 message\n"
         % (qid, qid))
    assert inst.wait_for_log(r"%s: to=<hold@retry.example>, relay=none, .*dsn=4\.7\.0, "
                             r"status=deferred \(message is administratively expired\)" % qid,
                             15), inst.log_tail()
    assert inst.wait_for_log(r"%s: from=<alice@posthorn.test>, status=force-expired" % qid)
    text = bounce_for(inst, qid)
    assert "message is administratively expired" in text and "Status: 4.7.0" in text


# --------------------------------------------------------------- postcat

def deferred_file(make_instance):
    inst = start(make_instance)
    qid = send(inst, ["x@retry.example", "alice@posthorn.test"],
               body="body\r\nline 2\r\n")
    assert wait_until(lambda: queue_of(inst, qid) == "deferred", 10), inst.log_tail()
    inst.stop()
    path = inst.queue_files("deferred")[0]
    with open(path, "rb") as f:
        return inst, qid, path, f.read()


def record(rtype, data):
    """One queue file record: type, base-128 length, data (record.h)."""
    n, length = len(data), b""
    while True:
        length += bytes([(n & 0x7f) | (0x80 if n > 0x7f else 0)])
        n >>= 7
        if not n:
            return rtype + length + data


OFFSET_LINE = re.compile(r"^ {0,8}(\d+) (.*)$")


def test_postcat_offsets_and_types(make_instance):
    inst, qid, path, data = deferred_file(make_instance)
    status, err, full = ours(inst, "postcat", "-q", qid)
    assert status == 0 and err == ""
    rel = os.path.relpath(path, inst.queue)
    assert full.startswith("*** ENVELOPE RECORDS %s ***\nmessage_size: " % rel), full
    assert "\nsender: alice@posthorn.test\n" in full
    assert "\nrecipient: x@retry.example\n" in full
    assert "\ndone_recipient: alice@posthorn.test\n" in full
    assert full.endswith("\nbody\nline 2\n*** HEADER EXTRACTED %s ***\n"
                         "*** MESSAGE FILE END %s ***\n" % (rel, rel)), full
    # message_size: Postfix's six fields, the content size first
    size = re.search(r"^message_size: +(\d+) +(\d+) +(\d+) +0 +(\d+) +0$", full, re.M)
    assert size and size.group(1) == size.group(4) and size.group(3) == "2", full

    status, _, out = ours(inst, "postcat", "-o", "-d", "-q", qid)
    lines = out.splitlines()
    assert lines[0] == "*** ENVELOPE RECORDS %s ***" % rel
    for line in lines[1:]:
        m = re.match(r"^( {0,8}\d+) ( {0,2}\d+) (.*)$", line)
        assert m and len(m.group(1)) == 9 and len(m.group(2)) == 3, line
        offset, rtype, text = int(m.group(1)), int(m.group(2)), m.group(3)
        if rtype == ord("B"):       # a content line: its bytes are there
            assert data[offset:offset + len(text)] == text.encode(), line
        else:                       # a record: its type byte is there
            assert data[offset] == rtype, line
    # without -d: the same lines less the type column
    status, _, plain = ours(inst, "postcat", "-o", "-q", qid)
    assert [re.sub(r"^(.{9}) .{3}", r"\1", x) for x in lines[1:]] == plain.splitlines()[1:]

    # -s: from the first record or line at or after the offset
    offsets = [int(OFFSET_LINE.match(x).group(1)) for x in plain.splitlines()[1:]]
    for start_at in (offsets[3], offsets[3] + 1, offsets[-5]):
        want = [x for x, o in zip(plain.splitlines()[1:], offsets) if o >= start_at]
        status, _, part = ours(inst, "postcat", "-o", "-s", str(start_at), "-q", qid)
        assert part.splitlines() == want, (start_at, part)
    status, _, part = ours(inst, "postcat", "-s", str(len(data) + 10), "-q", qid)
    assert (status, part) == (0, "")

    # -v names the content lines; -b is the body from the empty line on
    status, _, out = ours(inst, "postcat", "-v", "-b", "-q", qid)
    assert out == "regular_text: \nregular_text: body\nregular_text: line 2\n", out


def test_postcat_files_and_stdin(make_instance, pfx):
    inst, qid, path, data = deferred_file(make_instance)
    copy = os.path.join(inst.base, "copy")
    # after the end record: only -r shows the rest of the file
    with open(copy, "wb") as f:
        f.write(data + b"A\x03x=y")
    status, _, out = ours(inst, "postcat", "-e", copy)
    assert out.endswith("*** MESSAGE FILE END %s ***\n" % copy)
    status, _, out = ours(inst, "postcat", "-e", "-r", copy)
    assert out.endswith("*** MESSAGE FILE END %s ***\nnamed_attribute: x=y\n" % copy), out
    # standard input, also with -q and no ids, is named "stdin"
    for args in ([], ["-q"]):
        status, _, out = ours(inst, "postcat", "-h", *args, input=data)
        assert status == 0 and out.startswith("Received: ") and "body" not in out, out
        status, _, out = ours(inst, "postcat", "-e", *args, input=data)
        assert "*** MESSAGE FILE END stdin ***" in out
    # a last line without its newline
    handmade = (record(b"T", b"1700000000 0") + record(b"S", b"a@example.com")
                + record(b"R", b"b@example.com") + record(b"M", b"")
                + record(b"B", b"Subject: x\n\nbody\nline 2") + record(b"X", b"")
                + record(b"E", b""))
    status, _, out = ours(inst, "postcat", "-v", "-b", input=handmade)
    assert out == "regular_text: \nregular_text: body\nunterminated_text: line 2\n", out

    # what is no queue file, as Postfix says it
    cases = [
        (b"hello\n", 0, "postcat: warning: %s: input is not a valid queue file\n", ""),
        (b"", 0, "", ""),
    ]
    for content, status, err, out in cases:
        with open(copy, "wb") as f:
            f.write(content)
        want = (status, err % copy if "%s" in err else err, out)
        assert ours(inst, "postcat", copy) == want, content
        if pfx is not None:
            assert pfx.run("postcat", copy) == want, content
    # a damaged record is fatal
    with open(copy, "wb") as f:
        f.write(data[:30])
    status, err, _ = ours(inst, "postcat", copy)
    assert status == 1 and err.endswith("postcat: fatal: record read error\n"), err
