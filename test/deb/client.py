#!/usr/bin/python3
"""Mail client steps of test/deb/run.sh, run inside the test container.

    client.py smtp RCPT SUBJECT [SOURCE_ADDR]   send over SMTP port 25, STARTTLS
    client.py relay RCPT SOURCE_ADDR            RCPT must be refused (relay)
    client.py pop3 USER PASSWORD SUBJECT...     STLS, login, every subject there
    client.py imap USER PASSWORD SUBJECT...     STARTTLS, login, the same

The server's certificate is ssl-cert's self-signed one: it is not verified.
Exit status 0 on success; a failure raises (a traceback and status 1).
"""
import imaplib
import poplib
import smtplib
import ssl
import sys

HOST = "127.0.0.1"
SENDER = "tester@example.com"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def smtp_session(source):
    # from SOURCE (an address of this host) to itself: a client that is
    # not in mynetworks when SOURCE is not
    if source:
        return smtplib.SMTP(source, 25, source_address=(source, 0), timeout=60)
    return smtplib.SMTP(HOST, 25, timeout=60)


def smtp(rcpt, subject, source=None):
    with smtp_session(source) as s:
        s.ehlo("client.example.com")
        if not s.has_extn("starttls"):
            raise SystemExit("smtp: no STARTTLS in the EHLO reply")
        s.starttls(context=tls_context())
        s.ehlo("client.example.com")
        msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nbody of %s\r\n"
               % (SENDER, rcpt, subject, subject))
        refused = s.sendmail(SENDER, [rcpt], msg)
        if refused:
            raise SystemExit("smtp: refused %r" % refused)
    print("smtp: sent %r to %s over TLS" % (subject, rcpt))


def relay(rcpt, source):
    with smtp_session(source) as s:
        s.ehlo("client.example.com")
        code, text = s.mail(SENDER)
        if code != 250:
            raise SystemExit("relay: MAIL FROM: %d %r" % (code, text))
        code, text = s.rcpt(rcpt)
        if code < 400:
            raise SystemExit("relay: %s from %s accepted: %d %r"
                             % (rcpt, source, code, text))
    print("relay: %s from %s refused: %d %s" % (rcpt, source, code, text.decode()))


def check_subjects(proto, texts, subjects):
    for subject in subjects:
        if not any(("\nSubject: %s\n" % subject) in t for t in texts):
            raise SystemExit("%s: no message with Subject: %s among %d"
                             % (proto, subject, len(texts)))
    print("%s: %d messages, found %s" % (proto, len(texts), ", ".join(subjects)))


def pop3(user, password, *subjects):
    p = poplib.POP3(HOST, 110, timeout=60)
    p.stls(context=tls_context())
    p.user(user)
    p.pass_(password)
    count, _ = p.stat()
    texts = []
    for i in range(1, count + 1):
        lines = p.retr(i)[1]
        texts.append("\n".join(x.decode("utf-8", "replace") for x in lines))
    p.quit()
    check_subjects("pop3", ["\n" + t for t in texts], subjects)


def imap(user, password, *subjects):
    m = imaplib.IMAP4(HOST, 143, timeout=60)
    m.starttls(ssl_context=tls_context())
    m.login(user, password)
    typ, data = m.select("INBOX", readonly=True)
    if typ != "OK":
        raise SystemExit("imap: SELECT INBOX: %r" % data)
    texts = []
    typ, data = m.search(None, "ALL")
    for num in data[0].split():
        typ, parts = m.fetch(num, "(BODY.PEEK[HEADER])")
        texts.append("\n" + parts[0][1].decode("utf-8", "replace").replace("\r\n", "\n"))
    m.logout()
    check_subjects("imap", texts, subjects)


def main(argv):
    steps = {"smtp": smtp, "relay": relay, "pop3": pop3, "imap": imap}
    if len(argv) < 2 or argv[1] not in steps:
        raise SystemExit(__doc__)
    steps[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
