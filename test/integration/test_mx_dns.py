"""test_mx_dns.py - MX lookups through the real resolver.

dnsmasq serves the test zone on 127.0.0.1:53 inside a network namespace
whose /etc/netns/NAME/resolv.conf names it; the whole instance, the
receivers and the client run inside that namespace, so the SMTP client's
res_query() asks dnsmasq and its connects reach the test receivers.
Zone: example.test MX 10 mx1 (127.0.0.2, refuses with 554),
      MX 20 mx2 (127.0.0.1, accepts); mx-only.test has no MX, only an A;
      PTR records for 127.0.0.2 (mx1.example.test, which points back) and
      127.0.0.3 (forged.test, which has no address); spf.test's SPF record
      allows 127.0.0.2 only.
The instance runs without POSTHORN_DNS_FILE, so smtpd also finds client
names through getnameinfo/getaddrinfo and dnsmasq, and Debian's
policyd-spf, run by master.cf spawn as Postfix admins run it, checks SPF
against dnsmasq.
Needs root (network namespaces, port 25); skipped otherwise.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from posthorn_instance import PosthornInstance, wait_until, IS_ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
NEEDED = ("dnsmasq", "ip", "swaks")

pytestmark = pytest.mark.skipif(
    not IS_ROOT or not all(shutil.which(t) or os.path.exists("/usr/sbin/" + t) for t in NEEDED),
    reason="needs root, dnsmasq, ip and swaks (network namespace with a real DNS server)")


class Netns:
    """A network namespace with loopback up, DNS at 127.0.0.1, and helper
    processes that are killed when it goes."""

    def __init__(self, name):
        self.name = name
        self.procs = []
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.etc = "/etc/netns/" + name
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
        self.run(["ip", "link", "set", "lo", "up"], check=True)

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, **kw):
        return subprocess.run(self.argv(argv), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, **kw)

    def spawn(self, argv):
        p = subprocess.Popen(self.argv(argv), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["ip", "netns", "del", self.name])
        shutil.rmtree(self.etc, ignore_errors=True)


@pytest.fixture
def mxnet(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTHORN_DNS_FILE", "")      # the real resolver
    ns = Netns("phmx%d" % os.getpid())
    try:
        ns.spawn(["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--local=/test/",
                  "--listen-address=127.0.0.1", "--bind-interfaces", "--port=53",
                  "--mx-host=example.test,mx1.example.test,10",
                  "--mx-host=example.test,mx2.example.test,20",
                  "--host-record=mx1.example.test,127.0.0.2",
                  "--host-record=mx2.example.test,127.0.0.1",
                  "--host-record=mx-only.test,127.0.0.1",
                  "--ptr-record=3.0.0.127.in-addr.arpa,forged.test",
                  "--txt-record=spf.test,v=spf1 ip4:127.0.0.2 -all",
                  "--pid-file=" + str(tmp_path / "dnsmasq.pid")])
        outs = {}
        for name, addr, mode in (("mx1", "127.0.0.2", "refuse"), ("mx2", "127.0.0.1", "accept")):
            out = tmp_path / name
            out.mkdir()
            outs[name] = out
            ns.spawn([sys.executable, os.path.join(HERE, "mx_receiver.py"), addr, "25", mode, str(out)])
        assert wait_until(lambda: all((o / "ready").exists() for o in outs.values()), 10)
        yield ns, outs
    finally:
        ns.close()


def start_in(ns, inst):
    inst.setup()
    r = inst.run(ns.argv([inst.bin("posthorn"), "-c", inst.etc, "start"]))
    assert r.returncode == 0, (r.stdout, r.stderr, inst.log_tail())
    inst.running = True
    assert inst.wait_for_log(r"daemon started", 10)


def stop_in(ns, inst):
    inst.run(ns.argv([inst.bin("posthorn"), "-c", inst.etc, "stop"]), timeout=30)
    inst.kill_leftovers()


def send(ns, inst, rcpt, subject, source="127.0.0.1", ok=True, sender="alice@posthorn.test"):
    r = ns.run(["swaks", "--server", "127.0.0.1:%d" % inst.port, "--from", sender,
                "--to", rcpt, "--header", "Subject: " + subject, "--body", "via MX",
                "--local-interface", source], timeout=60)
    assert (r.returncode == 0) == ok, r.stdout.decode(errors="replace")
    return r.stdout.decode(errors="replace")


def test_mx_fallback_to_second(mxnet, tmp_path):
    ns, outs = mxnet
    inst = PosthornInstance(str(tmp_path / "ph"), master=["smtp unix - - n - - smtp"],
                            main={"smtp_connect_timeout": "5s"})
    start_in(ns, inst)
    try:
        send(ns, inst, "someone@example.test", "first refuses")
        assert wait_until(lambda: list(outs["mx2"].glob("msg-*.eml")), 30), inst.log_tail()
        data = next(outs["mx2"].glob("msg-*.eml")).read_bytes()
        assert b"Subject: first refuses" in data
        assert not list(outs["mx1"].glob("msg-*.eml"))
        assert inst.wait_for_log(r"to=<someone@example\.test>, relay=mx2\.example\.test\[127\.0\.0\.1\]:25, "
                                 r".*status=sent", 10), inst.log_tail()
    finally:
        stop_in(ns, inst)


def test_a_record_without_mx(mxnet, tmp_path):
    ns, outs = mxnet
    inst = PosthornInstance(str(tmp_path / "ph"), master=["smtp unix - - n - - smtp"])
    start_in(ns, inst)
    try:
        send(ns, inst, "someone@mx-only.test", "no mx")
        assert wait_until(lambda: len(list(outs["mx2"].glob("msg-*.eml"))) >= 1, 30), inst.log_tail()
        assert inst.wait_for_log(r"to=<someone@mx-only\.test>, relay=mx-only\.test\[127\.0\.0\.1\]:25, "
                                 r".*status=sent", 10), inst.log_tail()
    finally:
        stop_in(ns, inst)


def test_client_names_through_resolver(mxnet, tmp_path):
    """smtpd's client names from /etc/hosts and dnsmasq: localhost, a
    confirmed PTR name, and one that does not resolve back."""
    ns, outs = mxnet
    inst = PosthornInstance(str(tmp_path / "ph"), main={
        "smtpd_client_restrictions": "reject_unknown_client_hostname"})
    start_in(ns, inst)
    try:
        send(ns, inst, "alice@posthorn.test", "from localhost")
        send(ns, inst, "alice@posthorn.test", "from mx1", source="127.0.0.2")
        out = send(ns, inst, "alice@posthorn.test", "forged", source="127.0.0.3", ok=False)
        assert "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]" in out
        assert inst.wait_for_log(r"connect from localhost\[127\.0\.0\.1\]$")
        assert inst.wait_for_log(r"connect from mx1\.example\.test\[127\.0\.0\.2\]$")
        assert inst.wait_for_log(r"warning: hostname forged\.test does not resolve to "
                                 r"address 127\.0\.0\.3: ")
        assert inst.wait_for_log(r"connect from unknown\[127\.0\.0\.3\]$")
        msg = inst.wait_for_message(b"Subject: from mx1", user="alice")
        assert b"(mx1.example.test [127.0.0.2])" in msg
    finally:
        stop_in(ns, inst)


@pytest.mark.skipif(not os.path.exists("/usr/bin/policyd-spf"),
                    reason="postfix-policyd-spf-python is not installed")
def test_policyd_spf_through_spawn(mxnet, tmp_path):
    """policyd-spf as a spawn service: a client the SPF record does not
    allow is refused with policyd-spf's 550, an allowed one gets its
    Received-SPF: header."""
    ns, outs = mxnet
    where = tempfile.mkdtemp(prefix="ph-spf-", dir="/tmp")     # nobody reads it
    os.chmod(where, 0o755)
    conf = os.path.join(where, "policyd-spf.conf")
    with open(conf, "w") as f:
        f.write("debugLevel = 1\nTestOnly = 1\nHELO_reject = Fail\n"
                "Mail_From_reject = Fail\nskip_addresses = 192.0.2.0/24\n")
    os.chmod(conf, 0o644)
    inst = PosthornInstance(str(tmp_path / "ph"), main={
        "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination, "
                                        "check_policy_service unix:private/policyd-spf",
        "mynetworks": "127.0.0.1/32"},
        master=["policyd-spf unix - n n - 0 spawn user=nobody "
                "argv=/usr/bin/policyd-spf %s" % conf])
    start_in(ns, inst)
    try:
        out = send(ns, inst, "alice@posthorn.test", "spf fail", source="127.0.0.3",
                   ok=False, sender="someone@spf.test")
        assert "550 5.7.23" in out and "SPF fail" in out, out
        send(ns, inst, "alice@posthorn.test", "spf pass", source="127.0.0.2",
             sender="someone@spf.test")
        msg = inst.wait_for_message(b"Subject: spf pass", user="alice")
        assert b"Received-SPF: Pass (mailfrom)" in msg, msg
    finally:
        stop_in(ns, inst)
        shutil.rmtree(where, ignore_errors=True)
