"""test_pflogsumm.py - pflogsumm's summary of a Posthorn log adds up (issue 11).

pflogsumm (Debian's /usr/sbin/pflogsumm) reads only lines whose ident is
"postfix/..." or, with --syslog-name=NAME, "NAME/...".  A real instance
gets, over SMTP from 127.0.0.1 (mynetworks):

  - a message to alice, one to alice and bob       (3 deliveries)
  - a message to x@bounce.example (transport_maps error:) from alice:
    bounced, and its non-delivery notice delivered to alice
  - a message to y@retry.example (transport_maps retry:): deferred once
    (minimal_backoff_time = 300s: no second attempt during the test)

and from 127.0.0.2 (outside) a relay attempt and an unknown local user,
both refused at RCPT.  pflogsumm's "Grand Totals" must say: 4 received,
4 delivered, 1 deferred (1 deferral), 1 bounced, 2 rejected, the bytes
received of the four messages, 2 senders and 2 recipients; its detail
sections name the reject, bounce and deferral reasons.  This is checked
for the default ident with --syslog-name=posthorn, and for an instance
with syslog_name = postfix with no option at all; without the option a
"posthorn/..." log counts nothing.

Mail submitted with sendmail is logged as Postfix's pickup logs it
("posthorn/pickup[PID]: ID: uid=N from=<..>", the line smtpd writes for
its local submission service), so pflogsumm, which counts received mail
only from smtpd's "client=" and pickup's "uid=" lines, counts it too.
"""

import os
import re
import smtplib
import subprocess
import time

import pytest

from posthorn_instance import wait_until

PFLOGSUMM = "/usr/sbin/pflogsumm"

pytestmark = pytest.mark.skipif(not os.access(PFLOGSUMM, os.X_OK),
                                reason="pflogsumm is not installed (mk/deps.sh installs it)")

TRANSPORT = """\
bounce.example     error:5.1.1 no such user here
retry.example      retry:4.4.1 try again later
"""
MSG = b"Subject: pflogsumm\r\n\r\na line of text\r\n"


def start(factory, ident):
    main = {"transport_maps": "texthash:$config_directory/transport",
            "minimal_backoff_time": "300s", "maximal_backoff_time": "600s"}
    if ident != "posthorn":
        main["syslog_name"] = ident
    inst = factory(main=main, start=False)
    with open(os.path.join(inst.etc, "transport"), "w") as f:
        f.write(TRANSPORT)
    inst.start()
    return inst


def make_traffic(inst):
    with inst.smtp() as s:
        s.ehlo()
        s.sendmail("alice@posthorn.test", ["alice@posthorn.test"], MSG)
        s.sendmail("carol@example.com", ["alice@posthorn.test", "bob@posthorn.test"], MSG)
        s.sendmail("alice@posthorn.test", ["x@bounce.example"], MSG)
        s.sendmail("alice@posthorn.test", ["y@retry.example"], MSG)
    with smtplib.SMTP("127.0.0.1", inst.port, local_hostname="client.example", timeout=20,
                      source_address=("127.0.0.2", 0)) as s:
        s.ehlo()
        s.mail("spammer@example.com")
        assert s.rcpt("user@outside.example")[0] == 454
        assert s.rcpt("nobody@posthorn.test")[0] == 550
    # alice: her two messages and the bounce notice; bob: one
    assert len(inst.wait_for_maildir("alice", 3)) == 3, inst.log_tail()
    assert len(inst.wait_for_maildir("bob", 1)) == 1, inst.log_tail()
    assert inst.wait_for_log(r"to=<y@retry\.example>, .*status=deferred"), inst.log_tail()
    assert inst.wait_for_log(r"status=sent", count=4), inst.log_tail()
    assert wait_until(lambda: len(re.findall(r": removed$", inst.log(), re.M)) >= 4, 10), \
        inst.log_tail()
    time.sleep(0.3)


def pflogsumm(log, *opts):
    r = subprocess.run([PFLOGSUMM] + list(opts) + [log], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out + r.stderr.decode("utf-8", "replace")
    return out


def grand_totals(out):
    """{'received': 4, 'deferred': 1, 'deferrals': 1, 'bytes received': N, ...}."""
    m = re.search(r"^Grand Totals\n-+\n(.*?)\n\n\n", out, re.M | re.S)
    assert m, out
    totals = {}
    for line in m.group(1).splitlines():
        f = re.match(r"\s*(\d+)([km]?)\s+(\S.*?)\s*$", line)
        if not f:
            continue
        value = int(f.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[f.group(2)]
        name = f.group(3)
        d = re.match(r"deferred\s+\((\d+)\s+deferrals\)", name)
        if d:
            totals["deferrals"] = int(d.group(1))
            name = "deferred"
        name = re.sub(r"\s*\(\d+%\)$", "", name)
        totals[name] = value
    return totals


def bytes_received(log, ident):
    """The sizes qmgr logged for the messages smtpd received."""
    received = set(re.findall(r" %s/smtpd\[\d+\]: ([0-9A-F]+): client=" % ident, log))
    total = 0
    for qid, size in re.findall(r" %s/qmgr\[\d+\]: ([0-9A-F]+): from=<[^>]*>, size=(\d+)"
                                % ident, log):
        if qid in received:
            total += int(size)
    assert len(received) == 4, log
    return total


@pytest.fixture(scope="module", params=["posthorn", "postfix"])
def traffic(request, module_instance_factory):
    inst = start(module_instance_factory, request.param)
    make_traffic(inst)
    opts = ["--syslog-name=posthorn"] if request.param == "posthorn" else []
    return inst, request.param, opts


def test_grand_totals(traffic):
    inst, ident, opts = traffic
    out = pflogsumm(inst.maillog, *opts)
    t = grand_totals(out)
    want = {"received": 4, "delivered": 4, "forwarded": 0, "deferred": 1, "deferrals": 1,
            "bounced": 1, "rejected": 2, "reject warnings": 0, "held": 0, "discarded": 0,
            "bytes received": bytes_received(inst.log(), ident),
            "senders": 2, "recipients": 2, "recipient hosts/domains": 1}
    got = {k: t.get(k) for k in want}
    assert got == want, out


def test_detail_sections(traffic):
    inst, _ident, opts = traffic
    out = pflogsumm(inst.maillog, "--problems-first", *opts)
    rejects = re.search(r"^message reject detail\n-+\n(.*?)\n\n", out, re.M | re.S)
    assert rejects, out
    assert re.search(r"Relay access denied \(total: 1\)", rejects.group(1)), out
    assert re.search(r"User unknown in local recipient table \(total: 1\)", rejects.group(1)), out
    bounces = re.search(r"^message bounce detail \(by relay\)\n-+\n(.*?)\n\n", out, re.M | re.S)
    assert bounces and "no such user here" in bounces.group(1), out
    deferrals = re.search(r"^message deferral detail\n-+\n(.*?)\n\n", out, re.M | re.S)
    assert deferrals and "try again later" in deferrals.group(1), out


def test_default_ident_needs_syslog_name_option(traffic):
    """pflogsumm without --syslog-name sees only "postfix/..." lines."""
    inst, ident, _opts = traffic
    t = grand_totals(pflogsumm(inst.maillog))
    if ident == "postfix":
        assert t["received"] == 4
    else:
        assert all(v == 0 for v in t.values()), t


def test_sendmail_submission_counts_as_received(make_instance):
    inst = make_instance()
    r = inst.sendmail(["-f", "alice@posthorn.test", "bob@posthorn.test"],
                      "Subject: local\n\nsubmitted with sendmail\n")
    assert r.returncode == 0, r.stderr
    assert inst.wait_for_log(r"to=<bob@posthorn\.test>, .*status=sent"), inst.log_tail()
    t = grand_totals(pflogsumm(inst.maillog, "--syslog-name=posthorn"))
    assert t["delivered"] == 1
    assert t["received"] == 1
