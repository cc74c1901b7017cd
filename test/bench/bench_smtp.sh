#!/bin/sh
# bench_smtp.sh - SMTP receive and receive+delivery rates and peak memory
# of Posthorn against a private Postfix instance (see README.md here).
#
#   sh test/bench/bench_smtp.sh BUILD_DIR        (make bench)
#
# The work is done by bench_smtp.py next to this file; it starts both
# instances in temporary directories on free 127.0.0.1 ports and always
# stops them again (also on Ctrl-C / SIGTERM).  Postfix needs root;
# without root only Posthorn's figures are printed.
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_smtp.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_smtp.py" "$@"
