#!/usr/bin/env python3
"""dovecot_expect.py MESSAGE.eml... - write MESSAGE.dovecot: what Dovecot's
imapd answers to FETCH BODYSTRUCTURE, BODY, ENVELOPE, RFC822.SIZE and a
list of BODY[section]s for each message (test/unit/test_imap_*.c compare
Posthorn's answers with these; MESSAGE.posthorn overrides items where
Posthorn answers differently on purpose).

Runs Dovecot's imap binary in PREAUTH mode on a private Maildir, as user
nobody (needs root and dovecot-imapd).  Each item is written as
"NAME LENGTH\\n" + the raw reply bytes + "\\n".  Produced with Dovecot
2.3.19.1 (Debian 12).
"""
import os, re, shutil, subprocess, sys, tempfile

SECTIONS = ['', 'HEADER', 'TEXT', '1', '1.MIME', '2', '2.MIME', '2.HEADER',
            '2.TEXT', '1.1', '1.1.1', '2.1', '2.1.MIME', '2.2', '3', '3.1',
            '3.2.1', '1.2', '4.1.1', 'HEADER.FIELDS (SUBJECT FROM CONTENT-TYPE)',
            'HEADER.FIELDS.NOT (SUBJECT X-JUNK)', '2.HEADER.FIELDS (CONTENT-TYPE)']
ITEMS = 'BODYSTRUCTURE BODY ENVELOPE RFC822.SIZE ' + \
    ' '.join('BODY.PEEK[%s]' % s for s in SECTIONS)
CONF = """base_dir = %(top)s/run
state_dir = %(top)s/state
log_path = /dev/null
protocols =
mail_location = maildir:%(top)s/Maildir
passdb {
  driver = static
  args = password=x
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=%(top)s
}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = 65534
mail_gid = 65534
ssl = no
"""

def fetch(path):
    top = tempfile.mkdtemp(prefix='dvexpect')
    for d in ('Maildir/cur', 'Maildir/new', 'Maildir/tmp', 'run', 'state'):
        os.makedirs(os.path.join(top, d))
    shutil.copy(path, os.path.join(top, 'Maildir/cur/1.1.test:2,S'))
    with open(os.path.join(top, 'dovecot.conf'), 'w') as fp:
        fp.write(CONF % {'top': top})
    subprocess.run(['chown', '-R', '65534:65534', top], check=True)
    cmds = b'a select inbox\r\nb fetch 1 (%s)\r\nc logout\r\n' % ITEMS.encode()
    out = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534',
                          '--clear-groups', 'env', 'USER=test', 'HOME=' + top,
                          '/usr/lib/dovecot/imap', '-c',
                          os.path.join(top, 'dovecot.conf')],
                         input=cmds, capture_output=True).stdout
    shutil.rmtree(top)
    return out

def skip_value(data, pos):
    """the end of the IMAP value at POS"""
    depth = 0
    while True:
        c = data[pos:pos + 1]
        if c == b'"':
            pos += 1
            while data[pos:pos + 1] != b'"':
                pos += 2 if data[pos:pos + 1] == b'\\' else 1
            pos += 1
        elif c == b'{':
            m = re.compile(rb'\{(\d+)\}\r\n').match(data, pos)
            pos = m.end() + int(m.group(1))
        elif c == b'(':
            depth += 1
            pos += 1
        elif c == b')':
            depth -= 1
            pos += 1
        elif c == b' ':
            pos += 1
        else:
            m = re.compile(rb'[^ ()]+').match(data, pos)
            pos = m.end()
        if depth == 0:
            return pos

def items(reply):
    m = re.compile(rb'\* 1 FETCH \(').search(reply)
    pos = m.end()
    names = ['BODYSTRUCTURE', 'BODY', 'ENVELOPE', 'RFC822.SIZE'] + \
        ['BODY[%s]' % s for s in SECTIONS]
    found = {}
    while reply[pos:pos + 1] != b')':
        if reply[pos:pos + 1] == b' ':
            pos += 1
        for name in sorted(names, key=len, reverse=True):
            if reply[pos:pos + len(name) + 1] == name.encode() + b' ':
                break
        else:
            raise ValueError('unexpected item at %r' % reply[pos:pos + 40])
        pos += len(name) + 1
        end = skip_value(reply, pos)
        found[name] = reply[pos:end]
        pos = end
    return found

for path in sys.argv[1:]:
    found = items(fetch(path))
    with open(re.sub(r'\.eml$', '', path) + '.dovecot', 'wb') as fp:
        for name, raw in found.items():
            fp.write(b'%s %d\n%s\n' % (name.encode(), len(raw), raw))
