#!/bin/sh
# bench_pop3.sh - POP3 logins/second and LIST+RETR messages/second of
# Posthorn's pop3d against a private Dovecot instance (see README.md here).
#
#   sh test/bench/bench_pop3.sh BUILD_DIR        (make bench)
#
# The work is done by bench_pop3.py next to this file; it starts both
# servers in temporary directories on free 127.0.0.1 ports and always
# stops them again (also on Ctrl-C / SIGTERM).  Dovecot needs root (and
# Debian's dovecot-core and dovecot-pop3d); without root only Posthorn's
# figures are printed.
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_pop3.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_pop3.py" "$@"
