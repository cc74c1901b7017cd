"""test_master.py - the master process, the posthorn command and postconf.

posthorn status/start/stop/reload behave like postfix's; a reload keeps
the listener (and open sessions) working; a killed smtpd is replaced;
postconf -n/-d/-e/NAME work against the instance's main.cf.
"""

import os
import re
import signal

from posthorn_instance import pid_alive, wait_until


def test_status_running_and_stopped(instance):
    inst = instance
    r = inst.posthorn("status")
    assert r.returncode == 0, r.stdout + r.stderr
    master = inst.master_pid()
    assert master and pid_alive(master)
    inst.stop()
    assert not pid_alive(master)
    r = inst.posthorn("status")
    assert r.returncode == 1, r.stdout + r.stderr
    assert not inst.greets()


def test_second_start_refused(instance):
    inst = instance
    master = inst.master_pid()
    r = inst.posthorn("start")
    assert r.returncode != 0, "second start must fail: " + r.stdout + r.stderr
    assert inst.master_pid() == master
    assert inst.greets()


def test_start_after_stop(instance):
    inst = instance
    inst.stop()
    inst.start()
    assert inst.greets()


def test_reload_keeps_listener(instance):
    inst = instance
    old = inst.raw()
    try:
        assert old.cmd("EHLO before.example")[0] == 250
        master = inst.master_pid()
        r = inst.posthorn("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        for _ in range(5):
            assert inst.greets(), "listener gone after reload"
        assert inst.master_pid() == master
        # a session opened before the reload still works
        assert old.cmd("NOOP")[0] == 250
        assert old.cmd("MAIL FROM:<r@example.com>")[0] == 250
        assert old.cmd("RCPT TO:<alice@posthorn.test>")[0] == 250
        assert old.cmd("DATA")[0] == 354
        old.send(b"Subject: across reload\r\n\r\nx\r\n.\r\n")
        assert old.reply()[0] == 250
        assert old.cmd("QUIT")[0] == 221
    finally:
        old.close()
    assert inst.wait_for_message(b"Subject: across reload", "alice") is not None
    inst.send("alice@posthorn.test", b"Subject: after reload\r\n\r\nx\r\n")
    assert inst.wait_for_message(b"Subject: after reload", "alice") is not None


def test_reload_reads_new_config(instance):
    inst = instance
    inst.main_overrides["smtpd_banner"] = "$myhostname ESMTP reloaded"
    inst.write_config()
    assert inst.posthorn("reload").returncode == 0

    def banner():
        c = inst.raw()
        try:
            return c.greeting[1]
        finally:
            c.close()
    assert wait_until(lambda: "reloaded" in banner(), 10, 0.2)


def test_killed_smtpd_is_replaced(instance):
    inst = instance
    c = inst.raw()
    try:
        pid = inst.wait_for_child("smtpd", 5)
        assert pid
        os.kill(pid, signal.SIGKILL)
        assert c.closed(5)
    finally:
        c.close()
    assert wait_until(inst.greets, 15, 0.3), "no smtpd after kill"
    assert inst.master_pid()


def test_stop_leaves_no_processes(instance):
    inst = instance
    master = inst.master_pid()
    kids = [c["pid"] for c in inst.children()]
    r = inst.posthorn("stop")
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: not pid_alive(master), 10)
    assert wait_until(lambda: not any(pid_alive(p) for p in kids), 10), kids


def test_postconf_n(instance):
    inst = instance
    r = inst.postconf("-n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "myhostname = mail.posthorn.test" in lines
    assert "queue_run_delay = 2s" in lines
    assert "queue_directory = %s" % inst.queue in lines
    assert not any(l.startswith("message_size_limit =") for l in lines)


def test_postconf_d_and_names(instance):
    inst = instance
    r = inst.postconf("-d", "queue_run_delay", "message_size_limit")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["queue_run_delay = 300s", "message_size_limit = 10240000"]
    r = inst.postconf("queue_run_delay", "mydomain")
    assert r.stdout.splitlines() == ["queue_run_delay = 2s", "mydomain = posthorn.test"]
    r = inst.postconf()
    assert r.returncode == 0
    assert len(r.stdout.splitlines()) >= 50
    assert "mail_owner = %s" % inst.mail_owner in r.stdout.splitlines()


def test_postconf_uses_mail_config(instance):
    inst = instance
    r = inst.run([inst.bin("postconf"), "myhostname"])  # MAIL_CONFIG set by run()
    assert r.stdout.strip() == "myhostname = mail.posthorn.test", r.stdout + r.stderr


def test_postconf_e(instance):
    inst = instance
    r = inst.postconf("-e", "myorigin = example.org", "relay_domains=relay.example")
    assert r.returncode == 0, r.stderr
    r = inst.postconf("myorigin", "relay_domains", "myhostname")
    assert r.stdout.splitlines() == ["myorigin = example.org",
                                     "relay_domains = relay.example",
                                     "myhostname = mail.posthorn.test"]
    with open(os.path.join(inst.etc, "main.cf")) as f:
        text = f.read()
    assert text.startswith("# written by")
    assert len(re.findall(r"(?m)^myorigin\s*=", text)) == 1
    # changing an existing line replaces it in place
    r = inst.postconf("-e", "myorigin = example.net")
    assert r.returncode == 0
    with open(os.path.join(inst.etc, "main.cf")) as f:
        text = f.read()
    assert len(re.findall(r"(?m)^myorigin\s*=", text)) == 1
    assert "myorigin = example.net" in text


def test_postconf_unknown_name(instance):
    r = instance.postconf("no_such_parameter_xyz")
    assert "no_such_parameter_xyz" in r.stderr
