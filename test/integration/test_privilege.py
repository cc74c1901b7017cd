"""test_privilege.py - who runs as whom (root only).

Started as root: master stays root, the network-facing smtpd and the
queue manager run as mail_owner (user posthorn), local keeps root to
switch to each recipient, and a delivered file belongs to the recipient.
"""

import os

import pytest

from posthorn_instance import uid_of, gid_of, proc_info, wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def test_process_owners(instance):
    inst = instance
    owner = uid_of("posthorn")
    with inst.smtp() as s:
        s.sendmail("priv@example.com", ["alice@posthorn.test"],
                   b"Subject: privilege\r\n\r\nx\r\n")
        assert inst.wait_for_message(b"Subject: privilege", "alice") is not None
        # the session is still open, so smtpd is alive; qmgr and local ran
        assert wait_until(lambda: {"smtpd", "qmgr"} <= {c["name"] for c in inst.children()}, 10)
        kids = inst.children()
    master = proc_info(inst.master_pid())
    assert master["uid"] == 0 and master["euid"] == 0
    by_name = {}
    for c in kids:
        by_name.setdefault(c["name"], []).append(c)
    for name in ("smtpd", "qmgr"):
        for c in by_name.get(name, []):
            assert c["uid"] == owner and c["euid"] == owner, (name, c)
            with open("/proc/%d/status" % c["pid"]) as f:
                gids = [l for l in f if l.startswith("Gid:")][0].split()[1:3]
            assert [int(g) for g in gids] == [gid_of("posthorn")] * 2, (name, gids)
    for c in by_name.get("local", []):
        assert c["uid"] == 0, c
    assert by_name.get("smtpd") and by_name.get("qmgr"), kids


def test_ps_shows_mail_owner(instance):
    """The same seen through ps(1), as an admin would look."""
    import subprocess
    inst = instance
    with inst.smtp() as s:
        s.noop()
        wait_until(lambda: inst.child_pids("smtpd"), 5)
        pids = inst.child_pids("smtpd")
        assert pids
        out = subprocess.run(["ps", "-o", "user=", "-p", str(pids[0])],
                             stdout=subprocess.PIPE, text=True).stdout.strip()
    assert out == "posthorn", out


def test_delivered_file_owner(instance):
    inst = instance
    inst.send("bob@posthorn.test", b"Subject: owner bob\r\n\r\nx\r\n")
    assert inst.wait_for_message(b"Subject: owner bob", "bob") is not None
    for p in inst.maildir_files(inst.maildir_new("bob")):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (20002, 20002), p
    maildir = os.path.join(inst.home("bob"), "Maildir")
    for sub in ("", "new", "cur", "tmp"):
        assert os.stat(os.path.join(maildir, sub)).st_uid == 20002, sub


def test_mbox_owner(make_instance):
    inst = make_instance(main={"home_mailbox": ""})
    inst.send("alice@posthorn.test", b"Subject: mbox owner\r\n\r\nx\r\n")
    path = inst.mbox_path("alice")
    assert wait_until(lambda: os.path.exists(path) and b"mbox owner" in open(path, "rb").read(), 15)
    assert os.stat(path).st_uid == 20001
