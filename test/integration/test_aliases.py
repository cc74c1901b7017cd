"""test_aliases.py - alias_maps, :include:, .forward, commands, files and
forwarding in local delivery (aliases(5), local(8) behaviour).

One instance (module scope) has texthash: alias tables (postmap format,
"name value"; the postalias format is covered where postalias exists):
a group alias, an :include: list, an alias loop, a command, a file, an
address elsewhere, and a second table owned by bob whose command runs as
bob.  Further instances cover allow_mail_to_commands and .forward files.
"""

import os
import re
import stat
import uuid

import pytest

from posthorn_instance import IS_ROOT, USERS, wait_until

NOBODY_UID = 65534


def message(subject, extra=b""):
    mid = "<%s@client.example>" % uuid.uuid4().hex
    return (b"From: Sender <sender@example.com>\r\n"
            b"To: list@posthorn.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
            b"Message-Id: " + mid.encode() + b"\r\n" + extra +
            b"\r\nbody of " + subject.encode() + b"\r\n")


def write(path, text, mode=0o644, owner=None):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None and IS_ROOT:
        os.chown(path, owner, owner)


def public_dir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o1777)
    return path


def script(path, body):
    write(path, "#!/bin/sh\n" + body, mode=0o755)
    return path


def wait_log(inst, pattern, timeout=15):
    assert inst.wait_for_log(pattern, timeout), \
        "log has no %r\n%s" % (pattern, inst.log_tail())
    return re.search(pattern, inst.log(), re.M)


def wait_removed(inst, pattern):
    """Wait for a log line PATTERN, then for its message's "removed"."""
    m = wait_log(inst, r"([0-9A-F]{13}): " + pattern)
    wait_log(inst, m.group(1) + ": removed")
    return m


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    i = module_instance_factory(start=False)
    etc, out = i.etc, public_dir(os.path.join(i.base, "out"))
    bindir = os.path.join(i.base, "bin")
    os.makedirs(bindir)
    os.chmod(bindir, 0o755)
    deliver = script(os.path.join(bindir, "deliver.sh"),
                     'd="$1"; id -u > "$d.uid"; env > "$d.env"; cat > "$d.msg"\n')
    script(os.path.join(bindir, "fail.sh"),
           'cat >/dev/null; echo "no such mailbox here"; exit 67\n')
    script(os.path.join(bindir, "tempfail.sh"),
           'cat >/dev/null; echo "try later"; exit 75\n')
    write(os.path.join(etc, "staff.list"), "# the staff\nalice,\n\n  bob\n")
    write(os.path.join(etc, "aliases"), "\n".join([
        "# postmap format: name value",
        "workgroup alice, bob",
        "Mixed ALICE",
        "staff :include:%s/staff.list" % etc,
        "loopa loopb",
        "loopb loopa",
        "selfish selfish, bob",
        "cmd \"|%s %s/cmd\"" % (deliver, out),
        "failcmd |%s/fail.sh" % bindir,
        "tempcmd |%s/tempfail.sh" % bindir,
        "archive %s/archive.mbox" % out,
        "outside friend@elsewhere.example, alice",
        "owner-listx alice",
        "listx other@elsewhere.example",
        "inclcmd :include:%s/cmd.list" % etc,
        "nobody-here ghost",
    ]) + "\n")
    write(os.path.join(etc, "cmd.list"), "\"|%s %s/inclcmd\"\n" % (deliver, out))
    write(os.path.join(etc, "aliases.bob"), "bobcmd \"|%s %s/bobcmd\"\n" % (deliver, out),
          owner=USERS["bob"])
    i.main_overrides.update({
        "alias_maps": "texthash:%s/aliases, texthash:%s/aliases.bob" % (etc, etc),
        "recipient_delimiter": "+",
    })
    i.write_config()
    i.start()
    return i


def test_alias_only_name_accepted_at_rcpt(inst):
    s = inst.raw()
    assert s.cmd("EHLO client.example")[0] == 250
    assert s.cmd("MAIL FROM:<sender@example.com>")[0] == 250
    assert s.cmd("RCPT TO:<workgroup@posthorn.test>")[0] == 250
    code, text = s.cmd("RCPT TO:<no-such-name@posthorn.test>")
    assert code == 550, text
    s.cmd("QUIT")
    s.close()


def test_group_alias(inst):
    inst.send("workgroup@posthorn.test", message("group alias"))
    for user in ("alice", "bob"):
        data = inst.wait_for_message(b"Subject: group alias", user)
        assert data is not None, "not delivered to %s\n%s" % (user, inst.log_tail())
        assert b"Delivered-To: workgroup@posthorn.test\n" in data
    wait_removed(inst, r"to=<alice@mail\.posthorn\.test>, orig_to=<workgroup@posthorn\.test>, "
                 r"relay=local, .*status=sent \(delivered to maildir\)")


def test_alias_case_and_extension(inst):
    inst.send("MIXED+tag@posthorn.test", message("mixed case"))
    assert inst.wait_for_message(b"Subject: mixed case", "alice") is not None


def test_include(inst):
    inst.send("staff@posthorn.test", message("include list"))
    for user in ("alice", "bob"):
        assert inst.wait_for_message(b"Subject: include list", user) is not None, inst.log_tail()


def test_alias_loop_bounced_not_looped(inst):
    inst.send("loopa@posthorn.test", message("alias loop"))
    wait_removed(inst, r"to=<loopa@mail\.posthorn\.test>, orig_to=<loopa@posthorn\.test>, "
                 r".*dsn=5\.4\.6, status=bounced \(mail forwarding loop for loopa@mail\.posthorn\.test\)")
    assert len(re.findall(r"mail forwarding loop for loopa", inst.log())) <= 2


def test_alias_to_itself_goes_to_mailbox(inst):
    # "selfish" is not a user: the self-reference bounces as unknown user,
    # bob still gets his copy, and nothing loops
    inst.send("selfish@posthorn.test", message("self reference"))
    assert inst.wait_for_message(b"Subject: self reference", "bob") is not None
    wait_log(inst, r"to=<selfish@mail\.posthorn\.test>.*status=bounced \(unknown user: \"selfish\"\)")


def test_unknown_member_bounces_only_itself(inst):
    inst.send("nobody-here@posthorn.test", message("ghost member"))
    wait_removed(inst, r"to=<ghost@mail\.posthorn\.test>, orig_to=<nobody-here@posthorn\.test>.*"
                 r"dsn=5\.1\.1, status=bounced")


def test_alias_command(inst):
    inst.send("cmd@posthorn.test", message("to a command"))
    out = os.path.join(inst.base, "out", "cmd")
    wait_log(inst, r"to=<cmd@posthorn\.test>, relay=local, .*status=sent \(delivered to command: ")
    assert wait_until(lambda: os.path.exists(out + ".msg"), 5)
    with open(out + ".msg", "rb") as f:
        data = f.read()
    assert data.startswith(b"From sender@example.com "), data[:100]
    assert b"Return-Path: <sender@example.com>\n" in data
    assert b"Delivered-To: cmd@posthorn.test\n" in data
    assert b"Subject: to a command" in data
    with open(out + ".env") as f:
        env = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    assert env["RECIPIENT"] == "cmd@posthorn.test"
    assert env["SENDER"] == "sender@example.com"
    assert env["LOCAL"] == "cmd" and env["DOMAIN"] == "posthorn.test"
    assert env["PATH"] == "/usr/bin:/bin"
    if IS_ROOT:
        with open(out + ".uid") as f:
            assert int(f.read()) == NOBODY_UID     # default_privs: alias db owned by root


def test_alias_command_runs_as_table_owner(inst):
    inst.send("bobcmd@posthorn.test", message("as table owner"))
    out = os.path.join(inst.base, "out", "bobcmd")
    assert wait_until(lambda: os.path.exists(out + ".msg") and os.path.getsize(out + ".msg"), 15), \
        inst.log_tail()
    if IS_ROOT:
        with open(out + ".uid") as f:
            assert int(f.read()) == USERS["bob"]


def test_command_exit_status(inst):
    inst.send("failcmd@posthorn.test", message("failing command"))
    wait_log(inst, r"to=<failcmd@posthorn\.test>.*dsn=5\.1\.1, status=bounced "
             r"\(Command died with status 67: .*Command output: no such mailbox here\)")
    inst.send("tempcmd@posthorn.test", message("tempfail command"))
    wait_log(inst, r"to=<tempcmd@posthorn\.test>.*dsn=4\.3\.0, status=deferred "
             r"\(Command died with status 75: .*try later\)")


def test_command_in_include_is_restricted(inst):
    # default allow_mail_to_commands = alias, forward: not include
    inst.send("inclcmd@posthorn.test", message("include command"))
    wait_log(inst, r"to=<inclcmd@posthorn\.test>.*dsn=5\.7\.1, status=bounced "
             r"\(mail to command is restricted\)")


def test_alias_file(inst):
    inst.send("archive@posthorn.test", message("to a file"))
    path = os.path.join(inst.base, "out", "archive.mbox")
    wait_log(inst, r"to=<archive@posthorn\.test>.*status=sent \(delivered to file: ")
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"From sender@example.com ")
    assert b"Subject: to a file" in data and data.endswith(b"\n\n")
    if IS_ROOT:
        assert os.stat(path).st_uid == NOBODY_UID


def test_forward_outside_creates_queue_file(inst):
    inst.send("outside@posthorn.test", message("forward outside"))
    m = wait_log(inst, r"to=<friend@elsewhere\.example>, orig_to=<outside@posthorn\.test>, "
                 r"relay=local, .*status=sent \(forwarded as ([0-9A-F]{13})\)")
    new_id = m.group(1)
    assert inst.wait_for_message(b"Subject: forward outside", "alice") is not None
    # qmgr picks the new message up; it waits, deferred, for an SMTP client
    wait_log(inst, new_id + r": from=<sender@example\.com>")
    wait_log(inst, new_id + r": to=<friend@elsewhere\.example>, orig_to=<outside@posthorn\.test>.*"
             r"status=deferred")
    files = [os.path.basename(p) for p in inst.queue_files("deferred")]
    assert new_id in files
    path = [p for p in inst.queue_files("deferred") if p.endswith(new_id)][0]
    with open(path, "rb") as f:
        qf = f.read()
    assert b"Delivered-To: outside@posthorn.test\n" in qf
    if IS_ROOT:
        assert os.stat(path).st_uid == pwd_uid("posthorn")


def test_owner_alias_sets_sender_of_forwarded_copy(inst):
    inst.send("listx@posthorn.test", message("owner alias"))
    m = wait_log(inst, r"to=<other@elsewhere\.example>, orig_to=<listx@posthorn\.test>.*"
                 r"status=sent \(forwarded as ([0-9A-F]{13})\)")
    wait_log(inst, m.group(1) + r": from=<owner-listx@mail\.posthorn\.test>")


def test_delivered_to_loop(inst):
    inst.send("alice@posthorn.test",
              message("delivered-to loop", b"Delivered-To: alice@posthorn.test\r\n"))
    wait_removed(inst, r"to=<alice@posthorn\.test>, relay=local, .*dsn=5\.4\.6, status=bounced "
                 r"\(mail forwarding loop for alice@posthorn\.test\)")
    assert inst.wait_for_message(b"Subject: delivered-to loop", "alice", timeout=1) is None


def pwd_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


def test_command_refused_when_not_allowed(make_instance):
    i = make_instance(start=False)
    write(os.path.join(i.etc, "aliases"), "cmd |/bin/cat > /dev/null\nfile /tmp/x.mbox\n")
    i.main_overrides.update({"alias_maps": "texthash:%s/aliases" % i.etc,
                             "allow_mail_to_commands": "forward",
                             "allow_mail_to_files": "forward, include"})
    i.write_config()
    i.start()
    i.send(["cmd@posthorn.test", "file@posthorn.test"], message("restricted"),
           sender="alice@posthorn.test")
    wait_log(i, r"to=<cmd@posthorn\.test>.*dsn=5\.7\.1, status=bounced \(mail to command is restricted\)")
    wait_log(i, r"to=<file@posthorn\.test>.*dsn=5\.7\.1, status=bounced \(mail to file is restricted\)")
    assert wait_until(i.queue_empty, 10)


def forward_file(inst, user, text, mode=0o644):
    write(os.path.join(inst.home(user), ".forward"), text, mode=mode,
          owner=inst.users[user][0] if IS_ROOT else None)


def test_forward_to_other_user(make_instance):
    i = make_instance()
    forward_file(i, "alice", "bob\n")
    i.send("alice@posthorn.test", message("dot forward"))
    assert i.wait_for_message(b"Subject: dot forward", "bob") is not None, i.log_tail()
    wait_log(i, r"to=<bob@mail\.posthorn\.test>, orig_to=<alice@posthorn\.test>.*status=sent")
    assert i.maildir_messages("alice") == []


def test_forward_backslash_keeps_copy(make_instance):
    i = make_instance()
    forward_file(i, "alice", "# keep a copy\n\\alice, bob\n")
    i.send("alice@posthorn.test", message("backslash forward"))
    for user in ("alice", "bob"):
        assert i.wait_for_message(b"Subject: backslash forward", user) is not None, i.log_tail()
    assert wait_until(i.queue_empty, 10)


def test_forward_command_runs_as_user(make_instance):
    i = make_instance()
    out = public_dir(os.path.join(i.base, "out"))
    forward_file(i, "alice", "\"|id -u > %s/fwd.uid; cat > %s/fwd.msg\"\n" % (out, out))
    i.send("alice@posthorn.test", message("forward command"))
    assert wait_until(lambda: os.path.exists(os.path.join(out, "fwd.msg"))
                      and os.path.getsize(os.path.join(out, "fwd.msg")), 15), i.log_tail()
    if IS_ROOT:
        with open(os.path.join(out, "fwd.uid")) as f:
            assert int(f.read()) == USERS["alice"]


def test_forward_writable_by_others_is_ignored(make_instance):
    i = make_instance()
    forward_file(i, "alice", "bob\n", mode=0o666)
    i.send("alice@posthorn.test", message("unsafe forward"))
    assert i.wait_for_message(b"Subject: unsafe forward", "alice") is not None
    assert "not owned by alice or writable by others" in i.log()
    assert i.maildir_messages("bob") == []


def test_forward_loop_between_users(make_instance):
    i = make_instance()
    forward_file(i, "alice", "bob\n")
    forward_file(i, "bob", "alice\n")
    i.send("alice@posthorn.test", message("forward loop"), sender="postmaster@posthorn.test")
    wait_log(i, r"status=bounced \(mail forwarding loop for ")
    assert wait_until(i.queue_empty, 10)


def test_postalias_hash_table(make_instance):
    i = make_instance(start=False)
    postalias = i.bin("postalias")
    if not os.access(postalias, os.X_OK):
        pytest.skip("postalias not built")
    write(os.path.join(i.etc, "aliases"), "workgroup: alice,\n  bob\n")
    r = i.run([postalias, "hash:%s/aliases" % i.etc])
    if r.returncode != 0:
        pytest.skip("postalias failed: %s" % r.stderr)
    i.main_overrides["alias_maps"] = "hash:%s/aliases" % i.etc
    i.write_config()
    i.start()
    i.send("workgroup@posthorn.test", message("hash aliases"))
    for user in ("alice", "bob"):
        assert i.wait_for_message(b"Subject: hash aliases", user) is not None, i.log_tail()


def test_mailbox_command(make_instance):
    """mailbox_command (procmail's place) runs as the recipient, with
    forward_path's $names expanded and Postfix's environment, not subject
    to allow_mail_to_commands; mailbox_command_maps overrides it per user
    (an exit status of EX_TEMPFAIL defers); virtual mailboxes are not
    affected."""
    i = make_instance(start=False)
    out = public_dir(os.path.join(i.base, "out"))
    deliver = script(os.path.join(i.base, "deliver"),
                     'id -u > "%s/$1.uid"\n'
                     'printf "%%s|%%s|%%s|%%s\\n" "$USER" "$HOME" "$EXTENSION" "$RECIPIENT"'
                     ' > "%s/$1.env"\n'
                     'cat > "%s/$1.msg"\n' % (out, out, out))
    write(os.path.join(i.etc, "commands"), "bob %s/fail\n" % i.base)
    script(os.path.join(i.base, "fail"), "cat > /dev/null\nexit 75\n")
    i.main_overrides.update({"mailbox_command": deliver + " $user-$extension",
                             "mailbox_command_maps": "texthash:%s/commands" % i.etc,
                             "allow_mail_to_commands": "alias",
                             "recipient_delimiter": "+"})
    i.write_config()
    i.start()
    i.send("alice+box@posthorn.test", message("to a command"))
    msg = os.path.join(out, "alice-box.msg")
    assert wait_until(lambda: os.path.exists(msg) and os.path.getsize(msg), 15), i.log_tail()
    wait_log(i, r"to=<alice\+box@posthorn\.test>.*status=sent")
    with open(os.path.join(out, "alice-box.env")) as f:
        assert f.read() == "alice|%s|box|alice+box@posthorn.test\n" % i.home("alice")
    if IS_ROOT:
        with open(os.path.join(out, "alice-box.uid")) as f:
            assert int(f.read()) == USERS["alice"]
    with open(msg, "rb") as f:
        assert b"Subject: to a command" in f.read()
    assert i.maildir_messages("alice") == []
    # bob's entry in mailbox_command_maps: exit 75 defers
    i.send("bob@posthorn.test", message("to bob"))
    wait_log(i, r"to=<bob@posthorn\.test>.*status=deferred")
    # the virtual mailbox is written as before
    i.send("demo@virt.test", message("virtual"))
    assert i.wait_for_message(b"Subject: virtual", path=i.virtual_new()) is not None
