"""test_smtp_conncache.py - the SMTP client's connection cache (issue 14).

The next hop is NextHop, a threaded SMTP server on loopback written here
that records every connection: its EHLOs, its transactions (MAIL and the
RCPTs of each), whether it ended with QUIT and when.  It offers
PIPELINING; it can delay its end-of-data reply (so deliveries overlap and
qmgr sees more mail waiting), close an idle connection after a
transaction, drop the connection without a reply when MAIL opens the
Nth transaction of a connection, and offer STARTTLS.

Shown: a burst of mail to a relayhost takes far fewer connections than
messages, each carrying several transactions and one EHLO
(smtp_connection_cache_on_demand); with on_demand = no every message has
its own connection ending in QUIT; smtp_connection_cache_destinations
caches without demand; an idle cached connection gets QUIT after
smtp_connection_cache_time_limit; a next hop that closed a cached
connection (seen before use, or only when MAIL gets no reply) costs a
new connection, not a deferral; smtp_connection_reuse_count_limit and
smtp_connection_reuse_time_limit close a connection after its last
allowed delivery; 10 recipients of one domain go in one transaction; two
transports with different smtp_tls_security_level never share a session.
"""

import socket
import ssl
import threading
import time
import uuid

import pytest

from posthorn_instance import DOMAIN, wait_until
from tcp_listener import TcpListener, make_test_cert

SENDER = "alice@" + DOMAIN
# One smtp process per service: the cache is per process, and which of
# several idle processes master hands the next request to is a race
SMTP_MASTER = ["smtp    unix  - - n - 1 smtp", "relay   unix  - - n - 1 smtp"]


class NextHop(TcpListener):
    """A next hop that records connections (see the module comment)."""

    def __init__(self, dot_delay=0.0, idle_close=None, drop_mail_at=None,
                 tls_files=None):
        self.dot_delay = dot_delay
        self.idle_close = idle_close        # close this long after a transaction
        self.drop_mail_at = drop_mail_at    # drop at MAIL of this transaction number
        self.tls_files = tls_files
        self.conns = []                     # one dict per connection
        self.lock = threading.Lock()
        super().__init__(backlog=32)

    def accepted(self, conn):
        rec = {"ehlo": 0, "trans": [], "quit": False, "tls": False,
               "end": None, "last_dot": None, "dropped": False}
        with self.lock:
            self.conns.append(rec)
        threading.Thread(target=self._serve, args=(conn, rec), daemon=True).start()

    # ------------------------------------------------------------ queries

    def messages(self):
        return sum(len([t for t in c["trans"] if t["done"]]) for c in self.conns)

    def rcpts_of(self, token):
        return [t for c in self.conns for t in c["trans"] if t["done"] and token in t["data"]]

    # ------------------------------------------------------------- server

    def _ehlo(self, f, rec):
        lines = ["250-nexthop.test", "250-PIPELINING", "250-SIZE 10240000"]
        if self.tls_files and not rec["tls"]:
            lines.append("250-STARTTLS")
        lines.append("250 8BITMIME")
        f.write(("\r\n".join(lines) + "\r\n").encode())
        f.flush()

    def _data(self, f, trans):
        data = b""
        while True:
            line = f.readline()
            if not line or line == b".\r\n":
                break
            data += line[1:] if line.startswith(b".") else line
        trans["data"] = data.decode("utf-8", "replace")

    def _serve(self, conn, rec):
        conn.settimeout(30)
        f = conn.makefile("rwb")

        def send(text):
            f.write(text.encode() + b"\r\n")
            f.flush()

        try:
            send("220 nexthop.test ESMTP")
            while True:
                if self.idle_close is not None and rec["last_dot"]:
                    conn.settimeout(self.idle_close)
                try:
                    line = f.readline()
                except socket.timeout:
                    return                          # idle: close it
                conn.settimeout(30)
                if not line:
                    return
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                verb, _, arg = text.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    rec["ehlo"] += 1
                    self._ehlo(f, rec)
                elif verb == "STARTTLS" and self.tls_files:
                    send("220 2.0.0 Ready to start TLS")
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(*self.tls_files)
                    f.close()
                    conn = ctx.wrap_socket(conn, server_side=True)
                    f = conn.makefile("rwb")
                    rec["tls"] = True
                elif verb == "MAIL":
                    if self.drop_mail_at and len(rec["trans"]) + 1 == self.drop_mail_at:
                        rec["dropped"] = True
                        return                      # no reply at all
                    rec["trans"].append({"mail": arg, "rcpts": [], "data": "",
                                         "done": False})
                    send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    rec["trans"][-1]["rcpts"].append(arg)
                    send("250 2.1.5 Ok")
                elif verb == "DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    self._data(f, rec["trans"][-1])
                    time.sleep(self.dot_delay)
                    rec["trans"][-1]["done"] = True
                    rec["last_dot"] = time.monotonic()
                    send("250 2.0.0 Ok: queued as NH%d" % len(rec["trans"]))
                elif verb == "RSET":
                    send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    rec["quit"] = True
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("502 5.5.2 Error: command not recognized")
        except (OSError, ssl.SSLError):
            return
        finally:
            rec["end"] = time.monotonic()
            try:
                conn.close()
            except OSError:
                pass


@pytest.fixture
def nexthops():
    made = []

    def make(**kw):
        n = NextHop(**kw)
        made.append(n)
        return n
    yield make
    for n in made:
        n.close()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_test_cert(tmp_path_factory.mktemp("nhtls"), "nexthop.test")


def message(token, to="someone@remote.example"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody %s\r\n"
            % (SENDER, to, token, token)).encode()


def relay(nh, **more):
    main = {"relayhost": "[127.0.0.1]:%d" % nh.port}
    main.update(more)
    return main


def listed(nh, **more):
    """Cache by destination, not on demand: deterministic for one-by-one mail."""
    return relay(nh, smtp_connection_cache_on_demand="no",
                 smtp_connection_cache_destinations="[127.0.0.1]:%d" % nh.port, **more)


def start(make_instance, main, master=()):
    return make_instance(main=main, master=SMTP_MASTER + list(master))


def send_one(inst, nh, n_before, rcpt="someone@remote.example"):
    """Send one message and wait until the next hop has it."""
    inst.send([rcpt], message(uuid.uuid4().hex, rcpt), sender=SENDER)
    assert wait_until(lambda: nh.messages() > n_before, 20), inst.log_tail()


def no_deferrals(inst):
    assert "status=deferred" not in inst.log(), inst.log_tail()


def test_burst_reuses_connections(make_instance, nexthops):
    nh = nexthops(dot_delay=0.3)
    inst = start(make_instance, relay(nh, initial_destination_concurrency="2",
                                      default_destination_concurrency_limit="2"))
    n = 24
    for i in range(n):
        inst.send(["burst%d@remote.example" % i], message(uuid.uuid4().hex), sender=SENDER)
    assert wait_until(lambda: nh.messages() == n, 60), inst.log_tail()
    assert inst.wait_for_log(r"to=<burst\d+@remote\.example>.*status=sent", 10, count=n)
    conns = [c for c in nh.conns if c["trans"]]
    assert len(conns) <= n // 3, [len(c["trans"]) for c in conns]
    assert max(len(c["trans"]) for c in conns) >= 3
    for c in conns:
        assert c["ehlo"] == 1                       # the features are kept
    no_deferrals(inst)
    # every cached connection is closed with QUIT once idle
    assert wait_until(lambda: all(c["end"] for c in nh.conns), 10)
    assert all(c["quit"] for c in conns)


def test_on_demand_no_one_connection_each(make_instance, nexthops):
    nh = nexthops(dot_delay=0.3)
    inst = start(make_instance, relay(nh, smtp_connection_cache_on_demand="no",
                                      initial_destination_concurrency="2",
                                      default_destination_concurrency_limit="2"))
    n = 6
    for i in range(n):
        inst.send(["nd%d@remote.example" % i], message(uuid.uuid4().hex), sender=SENDER)
    assert wait_until(lambda: nh.messages() == n, 40), inst.log_tail()
    assert wait_until(lambda: all(c["end"] for c in nh.conns), 10)
    assert len(nh.conns) == n
    assert all(len(c["trans"]) == 1 and c["quit"] for c in nh.conns)


def test_cache_destinations_and_idle_quit(make_instance, nexthops):
    nh = nexthops()
    inst = start(make_instance, listed(nh))
    for i in range(3):
        send_one(inst, nh, i)
    assert len(nh.conns) == 1 and len(nh.conns[0]["trans"]) == 3
    assert nh.conns[0]["ehlo"] == 1
    rec = nh.conns[0]
    assert rec["end"] is None                       # kept open, no QUIT yet
    assert wait_until(lambda: rec["end"], 8), inst.log_tail()
    assert rec["quit"]
    idle = rec["end"] - rec["last_dot"]
    assert 1.5 <= idle <= 5, idle                   # smtp_connection_cache_time_limit = 2s
    assert inst.wait_for_log(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % nh.port,
                             5, count=3)


def test_peer_closed_cached_connection(make_instance, nexthops):
    nh = nexthops(idle_close=0.2)
    inst = start(make_instance, listed(nh))
    send_one(inst, nh, 0)
    assert wait_until(lambda: nh.conns[0]["end"], 5)    # the next hop hung up
    time.sleep(0.3)
    send_one(inst, nh, 1)
    assert len(nh.conns) == 2
    assert [len(c["trans"]) for c in nh.conns] == [1, 1]
    no_deferrals(inst)


def test_mail_unanswered_on_reused_connection(make_instance, nexthops):
    nh = nexthops(drop_mail_at=2)
    inst = start(make_instance, listed(nh))
    send_one(inst, nh, 0)
    send_one(inst, nh, 1)
    assert nh.conns[0]["dropped"]
    assert len(nh.conns) == 2 and len(nh.conns[1]["trans"]) == 1
    assert inst.wait_for_log(r"status=sent", 10, count=2)
    no_deferrals(inst)


def test_reuse_count_limit(make_instance, nexthops):
    nh = nexthops()
    inst = start(make_instance, listed(nh, smtp_connection_reuse_count_limit="2",
                                       smtp_connection_cache_time_limit="10s"))
    for i in range(7):
        send_one(inst, nh, i)
    assert [len(c["trans"]) for c in nh.conns] == [3, 3, 1]
    assert wait_until(lambda: nh.conns[1]["end"], 5)
    assert nh.conns[0]["quit"] and nh.conns[1]["quit"]
    assert nh.conns[2]["end"] is None               # still cached


def test_reuse_time_limit(make_instance, nexthops):
    nh = nexthops()
    # 3 s: message 0's connection must still be young when it is stored,
    # also on a loaded machine; the sleep makes it old at message 1
    inst = start(make_instance, listed(nh, smtp_connection_reuse_time_limit="3s",
                                       smtp_connection_cache_time_limit="10s"))
    send_one(inst, nh, 0)
    time.sleep(3.2)
    send_one(inst, nh, 1)                           # reused once more, then closed
    assert wait_until(lambda: nh.conns[0]["end"], 5)
    assert nh.conns[0]["quit"]
    send_one(inst, nh, 2)
    assert [len(c["trans"]) for c in nh.conns] == [2, 1]


def test_ten_recipients_one_transaction(make_instance, nexthops):
    nh = nexthops()
    inst = start(make_instance, relay(nh))
    rcpts = ["r%d@remote.example" % i for i in range(10)]
    token = uuid.uuid4().hex
    inst.send(rcpts, message(token), sender=SENDER)
    assert wait_until(lambda: nh.rcpts_of(token), 20), inst.log_tail()
    trans = nh.rcpts_of(token)
    assert len(trans) == 1
    assert sorted(trans[0]["rcpts"]) == sorted("TO:<%s>" % r for r in rcpts)


def test_no_reuse_across_tls_levels(make_instance, nexthops, tls_files):
    nh = nexthops(tls_files=tls_files)
    dest = "[127.0.0.1]:%d" % nh.port
    inst = make_instance(main=listed(nh, transport_maps="inline:{ tls.example=tlsrelay:%s }"
                                     % dest, smtp_tls_security_level="none"),
                         master=SMTP_MASTER + [
                             "tlsrelay unix - - n - - smtp -o smtp_tls_security_level=may"])
    for i in range(4):
        rcpt = ("t%d@tls.example" if i % 2 else "p%d@remote.example") % i
        send_one(inst, nh, i, rcpt)
    for c in nh.conns:
        for t in c["trans"]:
            assert ("@tls.example" in t["rcpts"][0]) == c["tls"], (c["tls"], t["rcpts"])
    assert len(nh.conns) == 2                       # one per level, each reused
    no_deferrals(inst)
