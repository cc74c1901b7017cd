"""test_fail2ban.py - fail2ban finds Posthorn's failures in its log (issue 11).

A real instance (imap_helpers.imap_instance: smtpd, pop3d, imapd, SASL)
gets failures from clients outside mynetworks (127.0.0.1/32), each kind
from its own loopback address so that the banned host can be checked:

  127.0.0.2  relay attempt (454 Relay access denied), unknown local user
             (550 User unknown), recipient access table REJECT
  127.0.0.3  HELO rejects: check_helo_access REJECT, reject_non_fqdn_helo_hostname
  127.0.0.4  SMTP AUTH with a wrong password (PLAIN and LOGIN), also on a
             submission service whose master.cf line sets
             "-o syslog_name=posthorn/submission" (ident posthorn/submission/smtpd)
  127.0.0.5  POP3 USER/PASS with a wrong password and with an unknown user
  127.0.0.6  IMAP LOGIN and AUTHENTICATE PLAIN with a wrong password
  127.0.0.7  client access table REJECT

and normal traffic from 127.0.0.1 and 127.0.0.8 (mail accepted and
delivered, successful AUTH, POP3 and IMAP logins, a bare connect, and a
recipient that an access table DEFERs: a temporary 450 bans nobody).  Then
/usr/bin/fail2ban-regex runs on the instance's maillog_file with
conf/fail2ban/filter.d/posthorn.conf installed in a copy of /etc/fail2ban
(the filter includes Debian's common.conf); "-o" prints one line per
match (host, user, log line).  Checked:

  - every failure line matches, with the client's address as host, and
    no other line does (the normal traffic matches nothing);
  - mode=smtp matches smtpd's failures only, mode=login pop3d's and
    imapd's only; the filter options syslog_name=... (main.cf's
    syslog_name) and _daemon=... (the whole ident) choose the ident;
  - fail2ban reads the date of every maillog_file line;
  - conf/fail2ban/jail.d/posthorn.conf parses (fail2ban-client -d) into
    two jails with the right ports, the filter modes, and the mail log
    that Debian's paths give (syslog_mail);
  - with syslog_name = postfix, Debian's own filter.d/postfix.conf
    finds the relay, unknown-user, non-FQDN HELO and client rejects
    (mode normal/more) and the SASL failures of smtpd, pop3d and imapd
    (mode auth, the postfix-sasl jail); it does not know the "Access
    denied" reason of an access table, as with Postfix itself.

No fail2ban server is started.  Runs as root and as any other user.
"""

import concurrent.futures
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from imap_helpers import imap_instance, tls_context, PASSWORDS
from posthorn_instance import REPO, free_port, wait_until

F2B_REGEX = "/usr/bin/fail2ban-regex"
F2B_CLIENT = "/usr/bin/fail2ban-client"
F2B_ETC = "/etc/fail2ban"
FILTER = os.path.join(REPO, "conf", "fail2ban", "filter.d", "posthorn.conf")
JAIL = os.path.join(REPO, "conf", "fail2ban", "jail.d", "posthorn.conf")

pytestmark = pytest.mark.skipif(
    not (os.access(F2B_REGEX, os.X_OK) and os.path.isfile(os.path.join(F2B_ETC, "filter.d",
                                                                       "postfix.conf"))),
    reason="fail2ban is not installed (mk/deps.sh installs it)")

ALICE = "alice@posthorn.test"
NORMAL = ("127.0.0.1", "127.0.0.8")

MAIN = {
    "smtpd_client_restrictions": "check_client_access inline:{ 127.0.0.7=REJECT }",
    "smtpd_helo_restrictions": "check_helo_access inline:{ bad.helo.example=REJECT },"
                               " reject_non_fqdn_helo_hostname",
    "smtpd_recipient_restrictions": "check_recipient_access inline:{"
                                    " blocked@posthorn.test=REJECT, later@posthorn.test=DEFER }",
}

# (name, program, client address, regex of the log line after
#  "IDENT/PROGRAM[PID]: ", number of such lines, the mode of Debian's
#  filter.d/postfix.conf that matches it -- None: no mode does, nor would
#  for Postfix's own line)
FAILURES = [
    ("relay", "smtpd", "127.0.0.2",
     r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 454 4\.7\.1 "
     r"<user@outside\.example>: Relay access denied;", 1, "normal"),
    ("unknown user", "smtpd", "127.0.0.2",
     r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 550 5\.1\.1 <nobody@posthorn\.test>: "
     r"Recipient address rejected: User unknown in local recipient table;", 1, "normal"),
    ("recipient access", "smtpd", "127.0.0.2",
     r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 <blocked@posthorn\.test>: "
     r"Recipient address rejected: Access denied;", 1, None),
    ("helo access", "smtpd", "127.0.0.3",
     r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.3\]: 554 5\.7\.1 <bad\.helo\.example>: "
     r"Helo command rejected: Access denied;", 1, None),
    ("non-fqdn helo", "smtpd", "127.0.0.3",
     r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.3\]: 504 5\.5\.2 <nodots>: "
     r"Helo command rejected: need fully-qualified hostname;", 1, "normal"),
    ("client access", "smtpd", "127.0.0.7",
     r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.7\]: 554 5\.7\.1 <unknown\[127\.0\.0\.7\]>: "
     r"Client host rejected: Access denied;", 1, "normal"),
    ("smtp auth", "smtpd", "127.0.0.4",
     r"warning: unknown\[127\.0\.0\.4\]: SASL (PLAIN|LOGIN) authentication failed: .*"
     r"sasl_username=alice@posthorn\.test$", 2, "auth"),
    ("submission auth", "submission/smtpd", "127.0.0.4",
     r"warning: unknown\[127\.0\.0\.4\]: SASL PLAIN authentication failed: .*"
     r"sasl_username=alice@posthorn\.test$", 1, "auth"),
    ("pop3 login", "pop3d", "127.0.0.5",
     r"warning: unknown\[127\.0\.0\.5\]: SASL LOGIN authentication failed: .*"
     r"sasl_username=(alice|nosuch)@posthorn\.test$", 2, "auth"),
    ("imap login", "imapd", "127.0.0.6",
     r"warning: unknown\[127\.0\.0\.6\]: SASL (LOGIN|PLAIN) authentication failed: .*"
     r"sasl_username=alice@posthorn\.test$", 2, "auth"),
]

# normal lines that must be in the log (and match nothing)
NORMAL_LINES = [
    r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.8\]$",
    r"smtpd\[\d+\]: [0-9A-F]+: client=unknown\[127\.0\.0\.8\]$",
    r"smtpd\[\d+\]: [0-9A-F]+: client=unknown\[127\.0\.0\.8\], sasl_method=PLAIN, "
    r"sasl_username=alice@posthorn\.test$",
    r"smtpd\[\d+\]: [0-9A-F]+: client=unknown\[127\.0\.0\.1\]$",
    r"local\[\d+\]: [0-9A-F]+: to=<bob@posthorn\.test>, relay=local, .*status=sent",
    r"pop3d\[\d+\]: unknown\[127\.0\.0\.8\]: login: user=<alice@posthorn\.test>, method=",
    r"imapd\[\d+\]: unknown\[127\.0\.0\.8\]: login: user=<alice@posthorn\.test>, method=LOGIN",
    r"imapd\[\d+\]: unknown\[127\.0\.0\.8\]: login: user=<alice@posthorn\.test>, method=PLAIN",
    r"smtpd\[\d+\]: disconnect from unknown\[127\.0\.0\.8\] ",
    r"smtpd\[\d+\]: NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.8\]: 450 4\.7\.1 "
    r"<later@posthorn\.test>: Recipient address rejected: Access denied;",
]


# ------------------------------------------------------------------ clients

def smtp_from(inst, source, helo="client.example"):
    return smtplib.SMTP("127.0.0.1", inst.port, local_hostname=helo, timeout=20,
                        source_address=(source, 0))


class POP3From(poplib.POP3):
    """poplib.POP3 whose connection comes from SOURCE, after STLS
    (plaintext logins are refused from other hosts without TLS)."""

    def __init__(self, source, inst):
        self.source = source
        super().__init__("127.0.0.1", inst.pop3_port, timeout=20)
        self.stls(context=tls_context(inst))

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


class IMAP4From(imaplib.IMAP4):
    """imaplib.IMAP4 whose connection comes from SOURCE, after STARTTLS."""

    def __init__(self, source, inst):
        self.source = source
        super().__init__("127.0.0.1", inst.imap_port, timeout=20)
        self.starttls(ssl_context=tls_context(inst))

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


def rcpt_refused(s, rcpt, code):
    got = s.rcpt(rcpt)
    assert got[0] == code, (rcpt, got)


def auth_fails(s, mech, password):
    s.user, s.password = ALICE, password
    method = s.auth_plain if mech == "PLAIN" else s.auth_login
    with pytest.raises(smtplib.SMTPAuthenticationError):
        s.auth(mech, method, initial_response_ok=(mech == "PLAIN"))


def pop3_fails(inst, user):
    p = POP3From("127.0.0.5", inst)
    p.user(user)
    with pytest.raises(poplib.error_proto):
        p.pass_("not-the-password")
    p.quit()


def imap_fails(inst, mech):
    c = IMAP4From("127.0.0.6", inst)
    with pytest.raises(imaplib.IMAP4.error):
        if mech == "LOGIN":
            c.login(ALICE, "not-the-password")
        else:
            c.authenticate("PLAIN", lambda _: b"\0" + ALICE.encode() + b"\0not-the-password")
    c.logout()


def make_traffic(inst):
    """The failures of FAILURES and the normal traffic of NORMAL_LINES."""
    # 127.0.0.2: relay, unknown user, recipient access table
    with smtp_from(inst, "127.0.0.2") as s:
        s.ehlo()
        s.mail("spammer@example.com")
        rcpt_refused(s, "user@outside.example", 454)
        rcpt_refused(s, "nobody@posthorn.test", 550)
        rcpt_refused(s, "blocked@posthorn.test", 554)
    # 127.0.0.3: HELO rejects (reported at RCPT: smtpd_delay_reject)
    for helo, code in (("bad.helo.example", 554), ("nodots", 504)):
        with smtp_from(inst, "127.0.0.3", helo) as s:
            s.ehlo()
            s.mail("someone@example.com")
            rcpt_refused(s, ALICE, code)
    # 127.0.0.7: client access table
    with smtp_from(inst, "127.0.0.7") as s:
        s.ehlo()
        s.mail("someone@example.com")
        rcpt_refused(s, ALICE, 554)
    # 127.0.0.4: SMTP AUTH with a wrong password
    with smtp_from(inst, "127.0.0.4") as s:
        s.ehlo()
        auth_fails(s, "PLAIN", "not-the-password")
        auth_fails(s, "LOGIN", "not-the-password")
    with smtplib.SMTP("127.0.0.1", inst.submission_port, local_hostname="client.example",
                      timeout=20, source_address=("127.0.0.4", 0)) as s:
        s.ehlo()
        auth_fails(s, "PLAIN", "not-the-password")
    # 127.0.0.5: POP3, 127.0.0.6: IMAP; at once, since each failed login
    # is answered after a delay
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(pop3_fails, inst, ALICE),
                pool.submit(pop3_fails, inst, "nosuch@posthorn.test"),
                pool.submit(imap_fails, inst, "LOGIN"),
                pool.submit(imap_fails, inst, "PLAIN")]
        for job in jobs:
            job.result()

    # normal traffic: mail from mynetworks and from outside to a local user
    msg = b"Subject: fine\r\n\r\nnothing wrong here\r\n"
    inst.send(ALICE, msg)
    with smtp_from(inst, "127.0.0.8") as s:
        s.sendmail("friend@example.com", ["bob@posthorn.test"], msg)
    # successful SMTP AUTH, then mail
    with smtp_from(inst, "127.0.0.8") as s:
        s.ehlo()
        s.user, s.password = ALICE, PASSWORDS[ALICE]
        assert s.auth("PLAIN", s.auth_plain)[0] == 235
        s.sendmail(ALICE, ["bob@posthorn.test"], msg)
    # a bare connect and QUIT; a temporary refusal
    with smtp_from(inst, "127.0.0.8") as s:
        s.noop()
    with smtp_from(inst, "127.0.0.8") as s:
        s.ehlo()
        s.mail("friend@example.com")
        rcpt_refused(s, "later@posthorn.test", 450)
    assert inst.wait_for_maildir("bob", 2), inst.log_tail()
    # POP3 and IMAP logins that work
    p = POP3From("127.0.0.8", inst)
    p.user(ALICE)
    p.pass_(PASSWORDS[ALICE])
    p.stat()
    p.quit()
    c = IMAP4From("127.0.0.8", inst)
    c.login(ALICE, PASSWORDS[ALICE])
    c.logout()
    c = IMAP4From("127.0.0.8", inst)
    c.authenticate("PLAIN", lambda _: b"\0" + ALICE.encode() + b"\0" + PASSWORDS[ALICE].encode())
    c.logout()
    # wait for the last log lines (session processes log their logout)
    assert inst.wait_for_log(r"imapd\[\d+\]: unknown\[127\.0\.0\.8\]: logout: ", count=2), \
        inst.log_tail()
    assert inst.wait_for_log(r"pop3d\[\d+\]: unknown\[127\.0\.0\.8\]: logout: "), inst.log_tail()
    assert inst.wait_for_log(r"local\[\d+\]: .*to=<bob@posthorn\.test>.*status=sent", count=2)
    time.sleep(0.3)


def failure_lines(log, ident, which=None):
    """{log line: expected host} of the FAILURES (those whose name is in
    WHICH, all by default) in LOG, whose lines carry IDENT/PROGRAM."""
    lines = log.splitlines()
    out = {}
    for name, prog, host, rx, count, _debian in FAILURES:
        if which is not None and name not in which:
            continue
        pat = re.compile(r" %s/%s\[\d+\]: %s" % (re.escape(ident), prog, rx))
        found = [l for l in lines if pat.search(l)]
        assert len(found) == count, "%s: %d lines, want %d\n%s" % (name, len(found), count, log)
        for l in found:
            out[l] = host
    return out


# ---------------------------------------------------------------- fail2ban

def f2b_config(base):
    """A copy of /etc/fail2ban at BASE with Posthorn's filter and jail added."""
    shutil.copytree(F2B_ETC, base, symlinks=True)
    shutil.copy(FILTER, os.path.join(base, "filter.d", "posthorn.conf"))
    os.makedirs(os.path.join(base, "jail.d"), exist_ok=True)
    shutil.copy(JAIL, os.path.join(base, "jail.d", "posthorn.conf"))
    return base


def f2b_regex(log, flt, confdir, *opts):
    r = subprocess.run([F2B_REGEX, "-c", confdir] + list(opts) + [log, flt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, "fail2ban-regex %s: exit %d\n%s%s" % (flt, r.returncode, out, err)
    return out


def f2b_matches(log, flt, confdir):
    """{log line: (host, user)} of what filter FLT matches in LOG."""
    out = f2b_regex(log, flt, confdir, "-o", "<ip>\t<F-USER>\t<time>\t<msg>")
    found = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        host, user, when, msg = line.split("\t", 3)
        # the time fail2ban read from the line is today's
        assert abs(float(when) - time.time()) < 86400, line
        found[msg] = (host, user)
    return found


def check_hosts(found, want, log):
    missed = sorted(set(want) - set(found))
    extra = sorted(set(found) - set(want))
    assert not missed and not extra, "missed:\n%s\nmatched wrongly:\n%s\nlog:\n%s" % (
        "\n".join(missed), "\n".join(extra), log)
    for line, host in want.items():
        assert found[line][0] == host, (line, found[line])
    for host, _user in found.values():
        assert host not in NORMAL, found


@pytest.fixture(scope="module")
def confdir(tmp_path_factory):
    return f2b_config(str(tmp_path_factory.mktemp("f2b") / "fail2ban"))


def answers(port, greeting):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            return sock.recv(100).startswith(greeting)
    except OSError:
        return False


def logging_instance(factory, ident):
    """imap_instance() with syslog_name IDENT and a submission service
    (SASL, plaintext AUTH allowed as on port 25) logging as IDENT/submission,
    after make_traffic()."""
    main = dict(MAIN)
    if ident != "posthorn":
        main["syslog_name"] = ident
    inst = imap_instance(factory, main=main, start=False)
    inst.submission_port = free_port()
    inst.master_extra.append("127.0.0.1:%d inet n - n - - smtpd -o syslog_name=%s/submission"
                             % (inst.submission_port, ident))
    inst.write_config()
    inst.start()
    for port, greeting in ((inst.submission_port, b"220"), (inst.pop3_port, b"+OK"),
                           (inst.imap_port, b"* OK")):
        assert wait_until(lambda: answers(port, greeting), 10), inst.log_tail()
    make_traffic(inst)
    return inst


@pytest.fixture(scope="module")
def posthorn_log(module_instance_factory):
    return logging_instance(module_instance_factory, "posthorn")


@pytest.fixture(scope="module")
def postfix_log(module_instance_factory):
    return logging_instance(module_instance_factory, "postfix")


def smtp_names():
    return {f[0] for f in FAILURES if f[1].endswith("smtpd")}


def login_names():
    return {f[0] for f in FAILURES if not f[1].endswith("smtpd")}


# -------------------------------------------------------------------- tests

def test_filter_matches_every_failure_with_its_host(posthorn_log, confdir):
    inst = posthorn_log
    log = inst.log()
    for rx in NORMAL_LINES:
        assert re.search(rx, log, re.M), "normal traffic missing from the log: " + rx
    want = failure_lines(log, "posthorn")
    found = f2b_matches(inst.maillog, "posthorn", confdir)
    check_hosts(found, want, log)
    # the SASL failures name the user tried
    for line, (_host, user) in found.items():
        m = re.search(r"sasl_username=(\S+)$", line)
        assert user == (m.group(1) if m else ""), (line, user)


def test_modes_split_smtp_from_pop3_imap(posthorn_log, confdir):
    inst = posthorn_log
    log = inst.log()
    check_hosts(f2b_matches(inst.maillog, "posthorn[mode=smtp]", confdir),
                failure_lines(log, "posthorn", smtp_names()), log)
    check_hosts(f2b_matches(inst.maillog, "posthorn[mode=login]", confdir),
                failure_lines(log, "posthorn", login_names()), log)


def test_every_maillog_date_is_read(posthorn_log, confdir):
    """maillog_file's "Mmm d hh:mm:ss host" stamp is one fail2ban knows."""
    inst = posthorn_log
    nlines = len([l for l in inst.log().splitlines() if l.strip()])
    out = f2b_regex(inst.maillog, "posthorn", confdir)
    m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", out, re.M)
    assert m and int(m.group(1)) == nlines, out
    hits = re.search(r"^Date template hits:\n((?:\|.*\n)+)", out, re.M)
    assert hits, out
    counts = [int(n) for n in re.findall(r"^\|\s+\[(\d+)\] ", hits.group(1), re.M)]
    assert sum(counts) == nlines, out
    assert int(m.group(3)) == len(failure_lines(inst.log(), "posthorn")), out


def test_syslog_name_option(posthorn_log, postfix_log, confdir):
    """filter = posthorn[syslog_name=NAME] follows main.cf's syslog_name;
    the default ident does not match another name's lines."""
    assert f2b_matches(posthorn_log.maillog, "posthorn[syslog_name=postfix]", confdir) == {}
    assert f2b_matches(postfix_log.maillog, "posthorn", confdir) == {}
    log = postfix_log.log()
    check_hosts(f2b_matches(postfix_log.maillog, "posthorn[syslog_name=postfix]", confdir),
                failure_lines(log, "postfix"), log)
    check_hosts(f2b_matches(postfix_log.maillog, "posthorn[syslog_name=postfix, mode=login]",
                            confdir),
                failure_lines(log, "postfix", login_names()), log)
    # or the whole ident regex
    check_hosts(f2b_matches(postfix_log.maillog, r"posthorn[_daemon=postfix/\S+]", confdir),
                failure_lines(log, "postfix"), log)


def test_debian_postfix_filter_with_syslog_name_postfix(postfix_log):
    """Debian's filter.d/postfix.conf on Posthorn's lines as it would be
    on Postfix's: mode "more" (the postfix jail's) finds the rejects it
    knows, mode "auth" (the postfix-sasl jail's) the SASL failures of
    smtpd, pop3d and imapd; "extra" both."""
    inst = postfix_log
    log = inst.log()
    normal = {f[0] for f in FAILURES if f[5] == "normal"}
    auth = {f[0] for f in FAILURES if f[5] == "auth"}
    check_hosts(f2b_matches(inst.maillog, "postfix", F2B_ETC),
                failure_lines(log, "postfix", normal), log)
    check_hosts(f2b_matches(inst.maillog, "postfix[mode=auth]", F2B_ETC),
                failure_lines(log, "postfix", auth), log)
    check_hosts(f2b_matches(inst.maillog, "postfix[mode=extra]", F2B_ETC),
                failure_lines(log, "postfix", normal | auth), log)


def test_debian_postfix_filter_ignores_posthorn_ident(posthorn_log):
    """With the default syslog_name, Debian's postfix filter sees nothing:
    that is what filter.d/posthorn.conf (or syslog_name = postfix) is for."""
    assert f2b_matches(posthorn_log.maillog, "postfix[mode=extra]", F2B_ETC) == {}


def test_jail_file(posthorn_log, tmp_path):
    """jail.d/posthorn.conf, enabled in a .local as docs/fail2ban.md says,
    gives two jails on the mail log of Debian's paths (here pointed at the
    instance's maillog_file by paths-overrides.local) with the filter's
    modes and the mail ports."""
    if not os.access(F2B_CLIENT, os.X_OK):
        pytest.skip("no fail2ban-client")
    conf = f2b_config(str(tmp_path / "fail2ban"))
    with open(os.path.join(conf, "jail.d", "posthorn.local"), "w") as f:
        f.write("[posthorn-smtp]\nenabled = true\n\n[posthorn-login]\nenabled = true\n")
    with open(os.path.join(conf, "paths-overrides.local"), "w") as f:
        f.write("[DEFAULT]\nsyslog_mail = %s\n" % posthorn_log.maillog)
    # only Posthorn's jails (Debian enables sshd, whose log is not here)
    for name in os.listdir(os.path.join(conf, "jail.d")):
        if not name.startswith("posthorn."):
            os.unlink(os.path.join(conf, "jail.d", name))
    r = subprocess.run([F2B_CLIENT, "-c", conf, "-d"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out + r.stderr.decode("utf-8", "replace")
    assert "['add', 'posthorn-smtp', 'auto']" in out, out
    assert "['add', 'posthorn-login', 'auto']" in out, out
    for jail, ports, prog in (("posthorn-smtp", "25,465,587", "smtpd"),
                              ("posthorn-login", "110,995,143,993", "(?:pop3d|imapd)")):
        logpath = "['set', '%s', 'addlogpath', '%s', 'head']" % (jail, posthorn_log.maillog)
        assert logpath in out, out
        assert re.search(r"\['port', '%s'\]" % re.escape(ports), out), (jail, out)
        prefix = re.search(r"\['set', '%s', 'prefregex', '([^']*)'\]" % jail, out)
        assert prefix and ("posthorn(?:/" in prefix.group(1)) \
            and ("/%s(?:" % prog) in prefix.group(1), (jail, out)
        assert "['start', '%s']" % jail in out
    # as shipped: both off
    conf2 = f2b_config(str(tmp_path / "fail2ban-shipped"))
    r = subprocess.run([F2B_CLIENT, "-c", conf2, "-d"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0
    assert b"posthorn" not in r.stdout
