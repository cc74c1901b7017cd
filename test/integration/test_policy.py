"""test_policy.py - check_policy_service: SMTP access policy delegation.

A policy server written for the test (inet and unix sockets) records
every request and answers by the recipient's local part; it shows the
attributes Postfix 3.7 sends, the actions (REJECT, DEFER_IF_PERMIT,
PREPEND, DUNNO, a 4xx text), connection reuse, a service's own settings
in Postfix 3.0's "{ ... }" form, a service that hangs or closes (tried smtpd_policy_service_try_limit times, then
smtpd_policy_service_default_action), and that a slow service holds up
only its own session.  Debian's postgrey greylists a first attempt (450)
and lets the retry through with its X-Greylist header.
"""

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from posthorn_instance import DOMAIN, IS_ROOT, free_port, wait_until
from test_restrictions import rcpt, session

# Postfix 3.7's attributes, in its order
ATTRIBUTES = ["request", "protocol_state", "protocol_name", "helo_name", "queue_id",
              "sender", "recipient", "recipient_count", "client_address", "client_name",
              "reverse_client_name", "instance", "sasl_method", "sasl_username",
              "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
              "encryption_protocol", "encryption_cipher", "encryption_keysize",
              "etrn_domain", "stress", "ccert_pubkey_fingerprint", "client_port",
              "policy_context", "server_address", "server_port"]


class PolicyServer(threading.Thread):
    """A policy service on 127.0.0.1 (or a unix socket at PATH): the
    action for recipient LOCAL@... is ACTIONS[LOCAL], else DUNNO;
    "hang" never answers, "close" closes the connection."""

    ACTIONS = {"reject": "REJECT go away", "defer": "DEFER_IF_PERMIT try later",
               "prepend": "PREPEND X-Policy-Test: seen by the policy",
               "tempfail": "450 4.7.1 not now", "ok": "OK"}

    def __init__(self, path=None, delay=0):
        super().__init__(daemon=True)
        if path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(path)
            os.chmod(path, 0o777)
            self.endpoint = "unix:" + path
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", free_port()))
            self.endpoint = "inet:127.0.0.1:%d" % self.sock.getsockname()[1]
        self.sock.listen(20)
        self.requests = []
        self.connections = 0
        self.delay = delay
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        f = conn.makefile("rwb")
        attrs = []
        try:
            for line in f:
                line = line.decode("utf-8", "replace").rstrip("\n")
                if line:
                    attrs.append(tuple(line.split("=", 1)))
                    continue
                request = dict(attrs)
                with self.lock:
                    self.requests.append((attrs, request))
                attrs = []
                local = request.get("recipient", "").split("@")[0]
                if local == "hang":
                    time.sleep(30)
                    return
                if local == "close":
                    return
                if local == "slow":
                    time.sleep(self.delay)
                f.write(("action=%s\n\n" % self.ACTIONS.get(local, "DUNNO")).encode())
                f.flush()
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def policy():
    server = PolicyServer(delay=3)
    server.start()
    yield server
    server.close()


def policy_instance(make_instance, endpoint, **main):
    params = {"smtpd_recipient_restrictions": "check_policy_service " + endpoint}
    params.update(main)
    return make_instance(main=params)


def test_attributes(make_instance, policy):
    inst = policy_instance(make_instance, policy.endpoint)
    c = session(inst, source="127.0.0.2", helo="EHLO client.example")
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    assert c.cmd("RCPT TO:<bob@%s>" % DOMAIN)[0] == 250
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("MAIL FROM:<other@example.com> SIZE=1234")[0] == 250
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    c.cmd("QUIT")
    c.close()
    assert len(policy.requests) == 3
    order, first = policy.requests[0]
    assert [name for name, _ in order] == ATTRIBUTES
    assert first["request"] == "smtpd_access_policy"
    assert first["protocol_state"] == "RCPT"
    assert first["protocol_name"] == "ESMTP"
    assert first["helo_name"] == "client.example"
    assert first["sender"] == "sender@example.com"
    assert first["recipient"] == "alice@" + DOMAIN
    assert first["recipient_count"] == "0"
    assert first["client_address"] == "127.0.0.2"
    assert first["client_name"] == "unknown"
    assert first["size"] == "0"
    assert first["server_address"] == "127.0.0.1"
    assert first["server_port"] == str(inst.port)
    assert first["client_port"].isdigit()
    assert first["etrn_domain"] == ""
    second = policy.requests[1][1]
    third = policy.requests[2][1]
    assert second["recipient_count"] == "1"
    assert second["instance"] == first["instance"]      # one message
    assert third["instance"] != first["instance"]       # the next one
    assert third["size"] == "1234"
    assert third["sender"] == "other@example.com"
    assert policy.connections == 1                      # one connection, reused


def test_actions(make_instance, policy):
    inst = policy_instance(make_instance, policy.endpoint)
    assert rcpt(inst, "reject@" + DOMAIN) == (
        554, "5.7.1 <reject@%s>: Recipient address rejected: go away" % DOMAIN)
    assert rcpt(inst, "defer@" + DOMAIN) == (
        450, "4.7.1 <defer@%s>: Recipient address rejected: try later" % DOMAIN)
    assert rcpt(inst, "tempfail@" + DOMAIN) == (
        450, "4.7.1 <tempfail@%s>: Recipient address rejected: not now" % DOMAIN)
    assert inst.wait_for_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                             r"<reject@posthorn\.test>: Recipient address rejected: go away;")


def test_prepend(make_instance, policy):
    inst = policy_instance(make_instance, policy.endpoint,
                           virtual_alias_maps="inline:{ prepend@%s=alice@%s }"
                           % (DOMAIN, DOMAIN))
    c = session(inst, source="127.0.0.2")
    assert c.cmd("RCPT TO:<prepend@%s>" % DOMAIN)[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd("Subject: prepended\r\n\r\nbody\r\n.")[0] == 250
    c.cmd("QUIT")
    c.close()
    msg = inst.wait_for_message(b"Subject: prepended", user="alice")
    head = msg.split(b"\n\n")[0]
    assert b"X-Policy-Test: seen by the policy\n" in head
    assert head.index(b"X-Policy-Test:") < head.index(b"Received: from client.example")


def test_unix_socket(make_instance):
    where = tempfile.mkdtemp(prefix="ph-policy-", dir="/tmp")   # mail_owner can reach it
    os.chmod(where, 0o755)
    server = PolicyServer(path=os.path.join(where, "policy.sock"))
    server.start()
    try:
        inst = policy_instance(make_instance, server.endpoint)
        assert rcpt(inst, "reject@" + DOMAIN)[0] == 554
        assert rcpt(inst, "alice@" + DOMAIN)[0] == 250
    finally:
        server.close()
        shutil.rmtree(where, ignore_errors=True)


def test_service_down_and_default_action(make_instance):
    endpoint = "inet:127.0.0.1:%d" % free_port()          # nobody listens
    inst = policy_instance(make_instance, endpoint)
    assert rcpt(inst, "alice@" + DOMAIN) == (
        451, "4.3.5 <alice@%s>: Recipient address rejected: Server configuration problem"
        % DOMAIN)
    assert inst.wait_for_log(r"warning: connect to %s: Connection refused" % endpoint[5:])
    assert inst.wait_for_log(r"warning: problem talking to server %s: Connection refused"
                             % endpoint[5:])
    inst2 = policy_instance(make_instance, endpoint,
                            smtpd_policy_service_default_action="DUNNO")
    assert rcpt(inst2, "alice@" + DOMAIN)[0] == 250


def test_per_service_settings(make_instance, policy):
    """Postfix 3.0's "{ endpoint, name = value, ... }": one service's own
    timeout, try_limit, default_action and policy_context."""
    down = "inet:127.0.0.1:%d" % free_port()              # nobody listens
    spec = ("{ %s, timeout = 1s, try_limit = 1, default_action = DUNNO, "
            "policy_context = greylisting }" % policy.endpoint)
    inst = make_instance(main={"smtpd_recipient_restrictions":
                               "check_policy_service { %s, default_action = "
                               "450 4.7.1 Try again later }, "
                               "check_policy_service %s" % (down, spec)})
    assert rcpt(inst, "alice@" + DOMAIN) == (
        450, "4.7.1 <alice@%s>: Recipient address rejected: Try again later" % DOMAIN)
    inst2 = make_instance(main={"smtpd_recipient_restrictions":
                                "check_policy_service " + spec,
                                "virtual_alias_maps": "inline:{ hang@%s=alice@%s }"
                                % (DOMAIN, DOMAIN)})
    assert rcpt(inst2, "reject@" + DOMAIN)[0] == 554
    assert policy.requests[-1][1]["policy_context"] == "greylisting"
    before = len(policy.requests)
    started = time.monotonic()
    assert rcpt(inst2, "hang@" + DOMAIN)[0] == 250         # DUNNO after 1 try
    assert time.monotonic() - started < 5
    assert len(policy.requests) - before == 1
    inst3 = make_instance(main={"smtpd_recipient_restrictions":
                                "check_policy_service { %s, colour = blue }"
                                % policy.endpoint})
    assert rcpt(inst3, "alice@" + DOMAIN)[0] == 451
    assert inst3.wait_for_log(r"warning: check_policy_service \{ inet:127\.0\.0\.1:\d+, "
                              r"colour = blue \}: bad setting \"colour = blue\"")


def test_hang_and_close_are_tried_then_default(make_instance, policy):
    inst = policy_instance(make_instance, policy.endpoint,
                           smtpd_policy_service_timeout="1s")
    started = time.monotonic()
    assert rcpt(inst, "hang@" + DOMAIN)[0] == 451
    assert time.monotonic() - started < 10
    assert inst.wait_for_log(r"warning: problem talking to server %s: timeout"
                             % policy.endpoint[5:], count=2)   # try_limit = 2
    before = len(policy.requests)
    assert rcpt(inst, "close@" + DOMAIN)[0] == 451
    assert len(policy.requests) - before == 2
    assert inst.wait_for_log(r"problem talking to server .*: the server closed the connection")
    assert rcpt(inst, "alice@" + DOMAIN)[0] == 250         # and it goes on


def test_slow_policy_does_not_stall_others(make_instance, policy):
    inst = policy_instance(make_instance, policy.endpoint, default_process_limit="1",
                           virtual_alias_maps="inline:{ slow@%s=alice@%s }"
                           % (DOMAIN, DOMAIN))
    a = session(inst, source="127.0.0.2")
    a.send(b"RCPT TO:<slow@%s>\r\n" % DOMAIN.encode())
    time.sleep(0.3)
    started = time.monotonic()
    assert rcpt(inst, "alice@" + DOMAIN, source="127.0.0.3")[0] == 250
    took = time.monotonic() - started
    assert not a.buf and not __import__("select").select([a.sock], [], [], 0)[0], \
        "the slow answer came first"
    assert len(inst.child_pids("smtpd")) == 1
    assert a.reply()[0] == 250
    a.close()
    print("\nanother session's RCPT while a policy answer took 3 s: %.3f s" % took)


@pytest.fixture
def postgrey():
    if not shutil.which("postgrey"):
        pytest.skip("postgrey is not installed")
    dbdir = tempfile.mkdtemp(prefix="ph-postgrey-", dir="/tmp")   # its user writes here
    os.chmod(dbdir, 0o777)
    port = free_port()
    if IS_ROOT:
        user, group = "nobody", "nogroup"
    else:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
    proc = subprocess.Popen(["postgrey", "--inet=127.0.0.1:%d" % port, "--dbdir=" + dbdir,
                             "--delay=1", "--user=" + user, "--group=" + group,
                             "--hostname=grey.test"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return proc.poll() is not None
    if not wait_until(listening, 15) or proc.poll() is not None:
        proc.kill()
        pytest.skip("postgrey did not start: %s" % proc.stderr.read().decode(errors="replace"))
    yield "inet:127.0.0.1:%d" % port
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(dbdir, ignore_errors=True)


def test_postgrey_greylists_then_accepts(make_instance, postgrey):
    inst = policy_instance(make_instance, postgrey)
    assert rcpt(inst, "alice@" + DOMAIN) == (
        450, "4.2.0 <alice@%s>: Recipient address rejected: Greylisted, see "
             "http://postgrey.schweikert.ch/help/%s.html" % (DOMAIN, DOMAIN))
    time.sleep(2.1)                                       # --delay=1
    c = session(inst, source="127.0.0.2")
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd("Subject: greylisted\r\n\r\nretried\r\n.")[0] == 250
    c.cmd("QUIT")
    c.close()
    msg = inst.wait_for_message(b"Subject: greylisted", user="alice")
    assert b"X-Greylist: delayed " in msg and b"by postgrey-" in msg, msg


SPAWNED_POLICY = '''import sys
attrs = {}
for line in sys.stdin:
    line = line.rstrip("\\n")
    if line:
        name, _, value = line.partition("=")
        attrs[name] = value
        continue
    local = attrs.get("recipient", "").split("@")[0]
    action = "REJECT spawned says no" if local == "spawned" else "DUNNO"
    sys.stdout.write("action=%s\\n\\n" % action)
    sys.stdout.flush()
    if local == "crash":
        sys.exit(3)
    attrs = {}
'''


def test_spawn_runs_a_policy_server(make_instance):
    """master.cf spawn, as Postfix admins run policyd-spf: the command
    serves each connection on its stdin/stdout, as the user= user."""
    user = "nobody" if IS_ROOT else pwd.getpwuid(os.getuid()).pw_name
    inst = make_instance(main={}, start=False)
    script = os.path.join(inst.etc, "policy.py")
    with open(script, "w") as f:
        f.write(SPAWNED_POLICY)
    os.chmod(script, 0o755)
    inst.master_extra.append("policy unix - n n - 0 spawn user=%s argv=/usr/bin/python3 %s"
                             % (user, script))
    inst.main_overrides["smtpd_recipient_restrictions"] = \
        "check_policy_service unix:private/policy"
    inst.write_config()
    inst.start()
    assert rcpt(inst, "spawned@" + DOMAIN) == (
        554, "5.7.1 <spawned@%s>: Recipient address rejected: spawned says no" % DOMAIN)
    assert rcpt(inst, "alice@" + DOMAIN)[0] == 250
    assert inst.wait_for_child("spawn")
    if IS_ROOT:
        out = subprocess.run(["ps", "-o", "user=", "-C", "python3"], capture_output=True,
                             text=True).stdout.split()
        assert "nobody" in out, out
    assert rcpt(inst, "crash@" + DOMAIN)[0] == 550          # DUNNO, then no such user
    assert inst.wait_for_log(r"warning: command /usr/bin/python3 exit status 3")
