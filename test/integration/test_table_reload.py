"""test_table_reload.py - edited tables take effect without a reload.

Postfix's daemons notice that a table file they read changed (postmap,
postalias, newaliases, an editor) and restart when their work is done:
"table hash:/etc/postfix/virtual has changed -- restarting".  Posthorn's
do the same (lib/tables/dict.c dict_changed_name, lib/global/mail_server.c):
one instance with alias_maps, an access table, virtual_alias_maps and
transport_maps as hash: tables and a pcre: sender table, all read by
long-lived smtpd, local and qmgr processes.  After each table is rebuilt
(or the pcre file edited in place), mail is answered and routed by the
new content within seconds, with no "posthorn reload"; an SMTP session
that was open across the change finishes its message, and nothing is
lost.
"""

import os
import re
import smtplib
import time
import uuid

import pytest

from posthorn_instance import wait_until

TABLES = {
    "aliases": "postmaster: alice\n",
    "access": "nothing.example OK\n",
    "virtual": "nothing@posthorn.test alice\n",
    "transport": "nothing.example local:\n",
}


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    i = module_instance_factory(main={
        "alias_maps": "hash:$config_directory/aliases",
        "alias_database": "hash:$config_directory/aliases",
        "virtual_alias_maps": "hash:$config_directory/virtual",
        "transport_maps": "hash:$config_directory/transport",
        "smtpd_sender_restrictions": "check_sender_access pcre:$config_directory/senders.pcre",
        "smtpd_recipient_restrictions": "check_recipient_access hash:$config_directory/access, "
                                        "permit_mynetworks, reject_unauth_destination",
    }, start=False)
    for name, text in TABLES.items():
        write(os.path.join(i.etc, name), text)
        rebuild(i, name)
    write(os.path.join(i.etc, "senders.pcre"), "# nobody yet\n")
    i.start()
    # every long-lived process has read its tables: smtpd, local, qmgr
    send(i, "alice@posthorn.test", "warm-up")
    assert i.wait_for_message(b"warm-up", user="alice")
    return i


def rebuild(inst, name):
    tool = "postalias" if name == "aliases" else "postmap"
    inst.run([inst.bin(tool), "-c", inst.etc, "hash:" + os.path.join(inst.etc, name)],
             check=True)


def change(inst, name, line):
    with open(os.path.join(inst.etc, name), "a") as f:
        f.write(line + "\n")
    rebuild(inst, name)


def message(token):
    return ("From: sender@example.com\r\nSubject: %s\r\nMessage-Id: <%s@example.com>\r\n"
            "\r\nbody %s\r\n" % (token, uuid.uuid4().hex, token)).encode()


def send(inst, rcpt, token, sender="sender@example.com"):
    with inst.smtp() as s:
        s.ehlo()
        code, text = s.mail(sender)
        assert code == 250, text
        code, text = s.rcpt(rcpt)
        assert code == 250, text
        code, text = s.data(message(token))
        assert code == 250, text


def rcpt_reply(inst, rcpt, sender="sender@example.com"):
    with inst.smtp() as s:
        s.ehlo()
        code, text = s.mail(sender)
        if code != 250:
            return code, text.decode()
        code, text = s.rcpt(rcpt)
        return code, text.decode()


def soon(pred, what, inst, timeout=10):
    assert wait_until(pred, timeout, interval=0.2), "%s\n%s" % (what, inst.log_tail())


def restarted(inst, table):
    return re.search(r"table %s has changed -- restarting" % re.escape(table), inst.log())


def test_new_alias_without_reload(inst):
    code, text = rcpt_reply(inst, "newalias@posthorn.test")
    assert code == 550 and "User unknown in local recipient table" in text, text
    # a session open across the change
    s = smtplib.SMTP("127.0.0.1", inst.port, timeout=20)
    s.ehlo()
    assert s.mail("sender@example.com")[0] == 250
    assert s.rcpt("bob@posthorn.test")[0] == 250
    change(inst, "aliases", "newalias: bob")
    soon(lambda: rcpt_reply(inst, "newalias@posthorn.test")[0] == 250,
         "smtpd still refuses the new alias", inst)
    send(inst, "newalias@posthorn.test", "via-new-alias")
    assert inst.wait_for_message(b"via-new-alias", user="bob"), inst.log_tail()
    # the old session goes on with its message
    code, text = s.data(message("across-the-change"))
    assert code == 250, text
    s.quit()
    assert inst.wait_for_message(b"across-the-change", user="bob"), inst.log_tail()
    assert restarted(inst, "hash:%s/aliases" % inst.etc), inst.log_tail()


def test_access_table(inst):
    assert rcpt_reply(inst, "someone@blocked.example")[0] == 250
    change(inst, "access", "blocked.example REJECT closed by the access table")
    soon(lambda: rcpt_reply(inst, "someone@blocked.example")
         == (554, "5.7.1 <someone@blocked.example>: Recipient address rejected: "
                  "closed by the access table"),
         "the access table's REJECT is not used", inst)


def test_virtual_alias_maps(inst):
    assert rcpt_reply(inst, "va@posthorn.test")[0] == 550
    change(inst, "virtual", "va@posthorn.test alice")
    soon(lambda: rcpt_reply(inst, "va@posthorn.test")[0] == 250,
         "the new virtual alias is refused", inst)
    send(inst, "va@posthorn.test", "via-virtual")
    assert inst.wait_for_message(b"via-virtual", user="alice"), inst.log_tail()


def test_transport_maps_in_qmgr(inst):
    """qmgr is one long-lived process: it finishes and restarts, and the
    next mail is routed by the new table."""
    change(inst, "transport", "route.example error:5.7.1 routed away by the new table")
    time.sleep(1.1)                     # a change is looked for once a second
    send(inst, "someone@route.example", "routed")
    soon(lambda: re.search(r"to=<someone@route\.example>.*status=bounced.*routed away "
                           r"by the new table", inst.log()),
         "qmgr did not use the new transport table", inst, timeout=20)
    assert restarted(inst, "hash:%s/transport" % inst.etc), inst.log_tail()


def test_pcre_table_edited_in_place(inst):
    assert rcpt_reply(inst, "alice@posthorn.test", sender="spammer@example.com")[0] == 250
    with open(os.path.join(inst.etc, "senders.pcre"), "a") as f:
        f.write("/^spammer@/ REJECT no spammers here\n")
    soon(lambda: rcpt_reply(inst, "alice@posthorn.test", sender="spammer@example.com")
         == (554, "5.7.1 <spammer@example.com>: Sender address rejected: no spammers here"),
         "the edited pcre table is not used", inst)
    assert rcpt_reply(inst, "alice@posthorn.test")[0] == 250
