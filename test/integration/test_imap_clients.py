"""test_imap_clients.py - imapd with real IMAP clients: mbsync and fetchmail.

Each test starts an instance with imapd (imap_helpers.py: STARTTLS on one
port, implicit TLS on another, alice@posthorn.test with a password).

mbsync (Debian's isync), over STARTTLS, syncs alice's mailbox both ways
with a local Maildir, for a Maildir and for an mbox (spool) server side:
new mail comes down byte for byte (isync stores LF line ends and adds
its X-TUID: header, which the comparison leaves out), Posthorn's
folders (Drafts, Sent, Trash, Junk) come down as local folders; then a
message marked seen and one marked flagged in the local Maildir, one
deleted there, a new local message and a new local folder go up, and new
mail that arrived meanwhile comes down; the server's state is checked
over IMAP (flags, UIDs of survivors, the deleted one expunged, the new
folder with the uploaded message) and on disk (Maildir file names, or
Status:/X-Status: in the mbox); a third sync changes nothing.

fetchmail (protocol IMAP) retrieves every message, without TLS, with
STARTTLS and with implicit TLS: a small one, an 8-bit one and a 3 MB one
reach its MDA ("cat > file") byte for byte as the Maildir stored them
(fetchmail passes LF line ends to an MDA, the store keeps LF), and the
mailbox is empty afterwards (fetchmail deletes and expunges).
"""

import os
import re
import shutil
import socket
import subprocess

import pytest

from imap_helpers import PASSWORDS, imap_instance, connect, message
from posthorn_instance import wait_until

ALICE = "alice@posthorn.test"

needs_mbsync = pytest.mark.skipif(not shutil.which("mbsync"),
                                  reason="mbsync (isync) is not installed")
needs_fetchmail = pytest.mark.skipif(not shutil.which("fetchmail"),
                                     reason="fetchmail is not installed")

EIGHT_BIT = ("Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \u00e9t\u00e9 \u65e5\u672c\r\n"
             "second line \u00e4\u00f6\u00fc\r\n")


def send(inst, subject, body="body line\r\n", headers="", eight_bit=False):
    """Send a message to alice over SMTP (8BITMIME when EIGHT_BIT)."""
    data = message(subject, body, headers)
    opts = ["BODY=8BITMIME"] if eight_bit else []
    inst.send(ALICE, data, mail_options=opts)
    return data


def stored_maildir(inst, subject):
    """The bytes of alice's message SUBJECT as the Maildir holds it."""
    needle = ("Subject: %s\n" % subject).encode()
    data = inst.wait_for_message(needle, "alice", timeout=30)
    assert data is not None, "not delivered: %s" % subject
    return data


def stored_mbox(inst, subject):
    """Wait until SUBJECT is in alice's spool mbox."""
    path = inst.mbox_path("alice")
    needle = ("Subject: %s\n" % subject).encode()
    assert wait_until(lambda: os.path.exists(path) and needle in open(path, "rb").read(),
                      30), "not delivered: %s" % subject


def deliver(inst, mbox, subject, body="body line\r\n", eight_bit=False):
    send(inst, subject, body, eight_bit=eight_bit,
         headers="Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n" if eight_bit else "")
    if mbox:
        stored_mbox(inst, subject)
        return None
    return stored_maildir(inst, subject)


def server_state(inst, folder="INBOX"):
    """{subject: (uid, set of flags)} of FOLDER over IMAP, and UIDVALIDITY.
    SELECT, not EXAMINE: a spool mbox that no writer has opened yet has
    no X-IMAPbase, and its read-only UIDVALIDITY is not the one the first
    writer gives it (store_mbox.c)."""
    c = connect(inst, login=ALICE)
    typ, data = c.select('"%s"' % folder)
    assert typ == "OK", data
    typ, data = c.response("UIDVALIDITY")
    uidvalidity = int(data[0])
    typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, hdr = item
        uid = int(re.search(rb"UID (\d+)", meta).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split())
        subject = re.search(rb"Subject: ([^\r\n]*)", hdr).group(1).decode()
        out[subject] = (uid, flags - {"\\Recent"})
    c.logout()
    return out, uidvalidity


# ------------------------------------------------------------ mbsync

def mbsync_instance(make_instance, mbox):
    """An IMAP instance whose certificate also names 127.0.0.1 in its CN:
    isync checks the host name against the DNS names and the CN only
    (not IP addresses); the certificate file is trusted as the CA."""
    inst = imap_instance(make_instance, mbox=mbox, start=False)
    d = os.path.join(inst.etc, "tls")
    cert, key = os.path.join(d, "ip-cert.pem"), os.path.join(d, "ip-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=DNS:mail.posthorn.test,IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    inst.main_overrides.update({"imapd_tls_cert_file": cert, "imapd_tls_key_file": key})
    inst.write_config()
    inst.cafile = cert
    inst.start()
    assert wait_until(lambda: imap_greets(inst.imap_port), 10), inst.log_tail()
    return inst


def imap_greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(100).startswith(b"* OK")
    except OSError:
        return False


def mbsync_rc(inst, tmp_path, local):
    rc = tmp_path / "mbsyncrc"
    rc.write_text(
        "IMAPAccount posthorn\n"
        "Host 127.0.0.1\n"
        "Port %d\n"
        "User %s\n"
        'Pass "%s"\n'
        "SSLType STARTTLS\n"
        "CertificateFile %s\n"
        "\n"
        "IMAPStore remote\n"
        "Account posthorn\n"
        "\n"
        "MaildirStore local\n"
        "Path %s/\n"
        "Inbox %s/INBOX\n"
        "SubFolders Verbatim\n"
        "\n"
        "Channel posthorn\n"
        "Far :remote:\n"
        "Near :local:\n"
        "Patterns *\n"
        "Create Both\n"
        "Expunge Both\n"
        "SyncState *\n"
        % (inst.imap_port, ALICE, PASSWORDS[ALICE], inst.cafile, local, local))
    os.chmod(rc, 0o600)
    return rc


def run_mbsync(tmp_path, rc):
    r = subprocess.run(["mbsync", "-c", str(rc), "-V", "posthorn"],
                       env=dict(os.environ, HOME=str(tmp_path)),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    log = r.stdout.decode(errors="replace")
    assert r.returncode == 0, log
    return log


def local_messages(folder):
    """{subject: path} of the messages in local Maildir FOLDER."""
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(folder, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                m = re.search(rb"(?m)^Subject: ([^\r\n]*)", f.read())
            out[m.group(1).decode()] = path
    return out


def set_local_flags(path, letters):
    """Rename a local Maildir message into cur/ with the info ':2,LETTERS'."""
    base = os.path.basename(path).split(":2,")[0]
    new = os.path.join(os.path.dirname(os.path.dirname(path)), "cur",
                       base + ":2," + "".join(sorted(letters)))
    os.rename(path, new)
    return new


def local_flags(path):
    name = os.path.basename(path)
    return set(name.split(":2,", 1)[1]) if ":2," in name else set()


def lf(data):
    return data.replace(b"\r\n", b"\n")


def without_tuid(data):
    """A message isync stored, without the X-TUID: header it adds to the
    header of every message it copies (to find it again)."""
    head, sep, body = data.partition(b"\n\n")
    head = re.sub(rb"(?m)^X-TUID: [^\n]*\n?", b"", head + b"\n").rstrip(b"\n")
    return head + sep + body


@needs_mbsync
@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_mbsync_both_ways(make_instance, tmp_path, kind):
    mbox = kind == "mbox"
    inst = mbsync_instance(make_instance, mbox)
    subjects = ["sync %d" % i for i in range(4)]
    for s in subjects[:3]:
        deliver(inst, mbox, s, "text of %s\r\n" % s)
    deliver(inst, mbox, subjects[3], EIGHT_BIT, eight_bit=True)
    before, uidvalidity = server_state(inst)
    assert set(before) == set(subjects)

    local = tmp_path / "mail"
    local.mkdir()
    rc = mbsync_rc(inst, tmp_path, local)
    log = run_mbsync(tmp_path, rc)

    # Down: every message, byte for byte; Posthorn's folders as local ones
    got = local_messages(local / "INBOX")
    assert set(got) == set(subjects), log
    c = connect(inst, login=ALICE)
    c.select("INBOX", readonly=True)
    for s in subjects:
        typ, data = c.uid("FETCH", str(before[s][0]), "(BODY.PEEK[])")
        assert typ == "OK", data
        with open(got[s], "rb") as f:
            assert without_tuid(f.read()) == lf(data[0][1]), s
    c.logout()
    assert "\u00e4\u00f6\u00fc".encode() in open(got[subjects[3]], "rb").read()
    for name in ("Drafts", "Sent", "Trash", "Junk"):
        assert (local / name / "cur").is_dir(), (name, os.listdir(local), log)

    # Up: seen, flagged, deleted; a new message and a new folder
    set_local_flags(got[subjects[0]], "S")
    set_local_flags(got[subjects[1]], "F")
    os.unlink(got[subjects[2]])
    (local / "INBOX" / "new" / "1700000000.local1.host").write_bytes(
        b"From: me@example.com\nSubject: written here\n\nlocal body\n")
    for sub in ("cur", "new", "tmp"):
        (local / "Local" / sub).mkdir(parents=True)
    (local / "Local" / "new" / "1700000000.local2.host").write_bytes(
        b"From: me@example.com\nSubject: in a new folder\n\nfolder body\n")
    # ... while new mail arrives
    deliver(inst, mbox, "arrived later", "late text\r\n")
    log = run_mbsync(tmp_path, rc)

    after, uidvalidity2 = server_state(inst)
    assert uidvalidity2 == uidvalidity
    assert set(after) == {subjects[0], subjects[1], subjects[3], "written here",
                          "arrived later"}, log
    for s in (subjects[0], subjects[1], subjects[3]):
        assert after[s][0] == before[s][0], s            # UIDs unchanged
    assert "\\Seen" in after[subjects[0]][1]
    assert after[subjects[1]][1] >= {"\\Flagged"} and "\\Seen" not in after[subjects[1]][1]
    assert "\\Deleted" not in after[subjects[3]][1]
    assert after["written here"][0] > max(u for u, _ in before.values())
    local_now = local_messages(local / "INBOX")
    assert set(local_now) == set(after), log
    assert local_flags(local_now[subjects[0]]) == {"S"}
    folder, _ = server_state(inst, "Local")
    assert set(folder) == {"in a new folder"}

    # On disk, in the server's own format
    if mbox:
        spool = open(inst.mbox_path("alice"), "rb").read()
        blocks = re.split(rb"\n(?=From )", spool)
        def block(subject):
            found = [b for b in blocks if ("Subject: %s\n" % subject).encode() in b]
            assert len(found) == 1, (subject, len(found))
            return found[0].split(b"\n\n", 1)[0]
        assert re.search(rb"(?m)^Status: RO?$", block(subjects[0])), block(subjects[0])
        assert re.search(rb"(?m)^X-Status: F$", block(subjects[1])), block(subjects[1])
        assert b"Subject: %s\n" % subjects[2].encode() not in spool
        assert re.search(rb"(?m)^X-UID: %d$" % before[subjects[3]][0], block(subjects[3]))
    else:
        md = os.path.join(inst.home("alice"), "Maildir")
        names = {}
        for sub in ("cur", "new"):
            for n in os.listdir(os.path.join(md, sub)):
                with open(os.path.join(md, sub, n), "rb") as f:
                    m = re.search(rb"(?m)^Subject: ([^\n]*)", f.read())
                names[m.group(1).decode()] = n
        assert re.search(r":2,[A-Z]*S", names[subjects[0]]), names[subjects[0]]
        assert re.search(r":2,F", names[subjects[1]]), names[subjects[1]]
        assert subjects[2] not in names
        assert os.path.isdir(os.path.join(md, ".Local", "cur"))

    # A third sync finds nothing to do
    run_mbsync(tmp_path, rc)
    again, _ = server_state(inst)
    assert again == after
    assert set(local_messages(local / "INBOX")) == set(after)


# ------------------------------------------------------------ fetchmail

def fetchmail_rc(inst, tmp_path, out, tls):
    if tls == "ssl":
        port, ssl = inst.imaps_port, ("  ssl sslproto TLS1.2+ sslcertck sslcertfile \"%s\"\n"
                                      % inst.cafile)
    elif tls == "starttls":
        port, ssl = inst.imap_port, ("  sslproto TLS1.2+ sslcertck sslcertfile \"%s\"\n"
                                     % inst.cafile)
    else:
        port, ssl = inst.imap_port, "  sslproto ''\n"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        'poll mail.posthorn.test via 127.0.0.1 service %d protocol IMAP\n'
        '  user "%s" password "%s"\n%s'
        '  sslcommonname "mail.posthorn.test"\n'
        '  mda "/bin/sh -c \'cat > %s/msg.$$\'" no rewrite\n'
        % (port, ALICE, PASSWORDS[ALICE], ssl, out))
    os.chmod(rc, 0o600)
    return rc


@needs_fetchmail
@pytest.mark.parametrize("tls", [None, "starttls", "ssl"])
def test_fetchmail_imap(make_instance, tmp_path, tls):
    inst = imap_instance(make_instance)
    big = "".join("line %06d of a big message for fetchmail over IMAP, padded\r\n" % i
                  for i in range(50000))              # 3 MB
    stored = [deliver(inst, False, "fetch small", "small text\r\n.leading dot\r\n"),
              deliver(inst, False, "fetch 8bit", EIGHT_BIT, eight_bit=True),
              deliver(inst, False, "fetch big", big)]
    assert len(stored[2]) > 3000000
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    rc = fetchmail_rc(inst, tmp_path, out, tls)
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--invisible", "-v",
                        "--pidfile", str(tmp_path / "pid")],
                       env=dict(os.environ, HOME=str(tmp_path)),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    log = r.stdout.decode(errors="replace")
    assert r.returncode == 0, log
    sent_starttls = re.search(r"IMAP> \S+ STARTTLS", log) is not None
    assert sent_starttls == (tls == "starttls"), log
    got = sorted(open(os.path.join(out, n), "rb").read() for n in os.listdir(out))
    assert len(got) == 3, log
    for want in stored:
        assert want in got, (len(want), [len(g) for g in got])
    c = connect(inst, login=ALICE)
    typ, data = c.select("INBOX")
    assert typ == "OK" and int(data[0]) == 0, data     # fetched, deleted, expunged
    c.logout()
