"""test_anvil.py - per-client limits counted by anvil across smtpd processes.

Postfix's anvil(8) limits, with Postfix's replies and log lines:
smtpd_client_connection_count_limit (the count outlives the smtpd
process that registered it: a new process sees it), _connection_rate_limit,
_message_rate_limit, _recipient_rate_limit and _auth_rate_limit, and
smtpd_client_event_limit_exceptions (default $mynetworks: 127.0.0.1 is
never limited).  A password-guessing client at 127.0.0.2 (100 AUTH PLAIN
attempts with a wrong password, reconnecting when the server ends the
session) is slowed by smtpd_error_sleep_time (the session ends at a hard error
limit of 12 here, 20 by default) and cut off by the AUTH rate limit, while a client from 127.0.0.1 is served at once meanwhile; the
test prints the figures.
"""

import base64
import os
import re
import socket
import threading
import time

import pytest

from posthorn_instance import RawSMTP, wait_until
from test_sasl import Client, sasl_instance

WRONG = base64.b64encode(b"\0demo\0not-the-password").decode()


def test_connection_count_across_processes(make_instance):
    """The count lives in anvil: after the first smtpd process restarts
    for a changed table (keeping its two sessions), the third connection
    goes to a new process and is still refused."""
    inst = make_instance(main={"smtpd_client_connection_count_limit": "2",
                               "smtpd_sender_restrictions":
                               "check_sender_access pcre:$config_directory/senders.pcre"},
                         start=False)
    pcre = os.path.join(inst.etc, "senders.pcre")
    with open(pcre, "w") as f:
        f.write("# none\n")
    inst.start()
    first, second = Client(inst.port), Client(inst.port)
    assert first.greeting[0] == 220 and second.greeting[0] == 220
    old = set(inst.child_pids("smtpd"))
    with open(pcre, "a") as f:
        f.write("# changed\n")
    time.sleep(1.1)
    third = Client(inst.port)
    assert third.greeting == (421, "4.7.0 mail.posthorn.test Error: too many connections "
                                    "from 127.0.0.2"), third.greeting
    assert third.closed()
    assert set(inst.child_pids("smtpd")) - old, "no new smtpd process"
    assert re.search(r"warning: Connection concurrency limit exceeded: 3 from "
                     r"unknown\[127\.0\.0\.2\] for service 127\.0\.0\.1:%d" % inst.port,
                     inst.log()), inst.log_tail()
    # mynetworks is not limited; a closed connection frees its place
    local = RawSMTP(inst.port)
    assert local.greeting[0] == 220
    first.cmd("QUIT")
    first.close()
    assert wait_until(lambda: Client(inst.port).greeting[0] == 220, 10)
    for c in (second, third, local):
        c.close()


def test_connection_rate(make_instance):
    inst = make_instance(main={"smtpd_client_connection_rate_limit": "3"})
    codes = []
    for _ in range(5):
        c = Client(inst.port)
        codes.append(c.greeting[0])
        c.close()
    assert codes == [220, 220, 220, 421, 421], codes
    assert "Connection rate limit exceeded: 4 from unknown[127.0.0.2]" in inst.log()


def test_message_and_recipient_rates(make_instance):
    inst = make_instance(main={"smtpd_client_message_rate_limit": "2",
                               "smtpd_client_recipient_rate_limit": "3"})
    c = Client(inst.port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s1@example.com>")[0] == 250
    codes = [c.cmd("RCPT TO:<alice@posthorn.test>")[0] for _ in range(4)]
    assert codes == [250, 250, 250, 450], codes
    assert c.cmd("RCPT TO:<alice@posthorn.test>") == (450, "4.7.1 Error: too many "
                                                           "recipients from 127.0.0.2")
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<s2@example.com>")[0] == 250
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<s3@example.com>") == (450, "4.7.1 Error: too much mail "
                                                        "from 127.0.0.2")
    assert c.cmd("RCPT TO:<alice@posthorn.test>")[0] == 503      # no MAIL now
    c.close()
    log = inst.log()
    assert "Message delivery request rate limit exceeded: 3 from unknown[127.0.0.2]" in log
    assert "Recipient address rate limit exceeded: 4 from unknown[127.0.0.2]" in log


def test_password_guessing_is_cut_off(make_instance):
    """100 wrong AUTH attempts from 127.0.0.2; meanwhile 127.0.0.1 is
    served at once."""
    inst = sasl_instance(make_instance, main={"smtpd_client_auth_rate_limit": "10",
                                              "smtpd_hard_error_limit": "12"})
    result = {"535": 0, "450": 0, "421": 0, "sessions": 0}
    done = threading.Event()

    def guess():
        attempts = 0
        while attempts < 100:
            c = Client(inst.port)
            result["sessions"] += 1
            if c.greeting[0] != 220:
                result["421"] += 1
                c.close()
                continue
            c.cmd("EHLO guesser.example")
            while attempts < 100:
                attempts += 1
                code, _ = c.cmd("AUTH PLAIN " + WRONG)
                key = str(code)
                result[key] = result.get(key, 0) + 1
                if code == 421:
                    break
            c.close()
        done.set()

    t0 = time.monotonic()
    worker = threading.Thread(target=guess)
    worker.start()
    served = []
    while not done.is_set():
        s0 = time.monotonic()
        local = RawSMTP(inst.port)
        assert local.greeting[0] == 220
        assert local.cmd("EHLO local.example")[0] == 250
        served.append(time.monotonic() - s0)
        local.close()
        time.sleep(0.2)
    worker.join()
    elapsed = time.monotonic() - t0
    print("\n100 AUTH guesses from 127.0.0.2: %.1f s (%.1f/s), %d sessions; "
          "535 (password checked) %d, 450 (rate limit) %d, 421 (too many errors) %d; "
          "127.0.0.1 served %d times meanwhile, slowest %.3f s"
          % (elapsed, 100 / elapsed, result["sessions"], result["535"], result["450"],
             result["421"], len(served), max(served) if served else 0))
    assert result["535"] <= 10 + 1, result            # at most the limit checked
    assert result["450"] > 0, result
    assert served and max(served) < 1.0, served
    log = inst.log()
    assert "AUTH command rate limit exceeded: 11 from unknown[127.0.0.2]" in log
    assert "SASL PLAIN authentication failed" in log or "authentication failed" in log


def test_bad_requests_to_anvil(make_instance):
    """anvil answers status=1 to requests it cannot take, closes a
    connection that sends garbage, and goes on serving."""
    inst = make_instance()
    path = os.path.join(inst.queue, "private", "anvil")
    assert wait_until(lambda: os.path.exists(path), 10)

    def talk(data, answers):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        s.sendall(data)
        got = b""
        while got.count(b"\n\n") < answers:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        rest = s.recv(4096) if answers == 0 else b""
        s.close()
        return got, rest

    got, _ = talk(b"request=connect\n\n"                       # no ident
                  b"request=teleport\nident=smtp:192.0.2.9\n\n"
                  b"request=connect\nident=" + b"x" * 400 + b"\n\n"
                  b"request=connect\nident=smtp:192.0.2.9\n\n", 4)
    assert got == (b"status=1\n\n" * 3) + b"status=0\ncount=1\nrate=1\n\n", got
    got, rest = talk(b"Request=connect\n\n", 0)                 # not an attribute list
    assert got == b"" and rest == b""                          # closed at once
    got, _ = talk(b"request=message\nident=smtp:192.0.2.9\n\n", 1)
    assert got == b"status=0\nrate=1\n\n", got
    log = inst.log()
    assert "bad request from an anvil client" in log
    assert "unknown anvil request: teleport" in log
    assert "malformed request from an anvil client" in log
