#!/bin/sh
# bench_imap.sh - IMAP logins/second and SELECT/FETCH on 10,000- and
# 100,000-message folders, cold and warm, of Posthorn's imapd against a
# private Dovecot instance (see README.md here).
#
#   sh test/bench/bench_imap.sh BUILD_DIR        (make bench)
#
# The work is done by bench_imap.py next to this file; it starts both
# servers in temporary directories on free 127.0.0.1 ports and always
# stops them again (also on Ctrl-C / SIGTERM).  Dovecot needs root (and
# Debian's dovecot-core and dovecot-imapd); without root only Posthorn's
# figures are printed.
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_imap.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_imap.py" "$@"
